/* test-pipeline.c: pipelines, tasks that stream inputs through a function
 * into a channel as fast as their readers read
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

/* Functions */

typedef struct
{
  int     n_calls;        /* atomic */
  int     fail_at;        /* -1: never */
  int     live;           /* atomic: outputs made and not yet read */
  int     max_live;       /* atomic */
  GMutex  lock;
  GArray *seen;           /* guint64 inputs in call order; lock */
  int     gate_from;      /* inputs from here wait for gate_open; -1: none */
  int     gate_open;      /* atomic */
  int     in_gate;        /* atomic: calls waiting at the gate */
  int     released;       /* atomic: how often the pipeline let go of it */
} Calls;

static void
calls_init (Calls *calls)
{
  memset (calls, 0, sizeof *calls);
  calls->fail_at = -1;
  calls->gate_from = -1;
  g_mutex_init (&calls->lock);
  calls->seen = g_array_new (FALSE, FALSE, sizeof (guint64));
}

/* The destroy notify of a pipeline's Calls: it comes after the function's
 * last run, which may end after the pipeline did. */
static void
calls_released (gpointer data)
{
  g_atomic_int_inc (&((Calls *) data)->released);
}

/* Once the pipeline that calls it released it (drop_pipeline()). */
static void
calls_clear (Calls *calls)
{
  ag_test_run_until (NULL, g_atomic_int_get (&calls->released), AG_TEST_SAFETY_MS);
  g_array_unref (calls->seen);
  g_mutex_clear (&calls->lock);
}

static guint64
input_number (const GValue *item)
{
  if (G_VALUE_HOLDS_UINT64 (item))
    return g_value_get_uint64 (item);
  g_assert_true (G_VALUE_HOLDS_INT (item));
  return (guint64) g_value_get_int (item);
}

/* ×2, counting calls; fails at input fail_at. */
static void
twice (AgChunk      *chunk,
       const GValue *item,
       gpointer      user_data)
{
  Calls *calls = user_data;
  guint64 n = input_number (item);
  int live;

  g_atomic_int_inc (&calls->n_calls);
  g_mutex_lock (&calls->lock);
  g_array_append_val (calls->seen, n);
  g_mutex_unlock (&calls->lock);

  if (calls->gate_from >= 0 && n >= (guint64) calls->gate_from)
    {
      g_atomic_int_inc (&calls->in_gate);
      while (!g_atomic_int_get (&calls->gate_open))
        g_usleep (G_TIME_SPAN_MILLISECOND);
    }

  if (calls->fail_at >= 0 && n == (guint64) calls->fail_at)
    {
      /* With a gate, the failure waits for a call at the gate. */
      while (calls->gate_from >= 0 && g_atomic_int_get (&calls->in_gate) == 0)
        g_usleep (G_TIME_SPAN_MILLISECOND);
      ag_chunk_return_new_error (chunk, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                 "input %d is bad", calls->fail_at);
      return;
    }

  live = g_atomic_int_add (&calls->live, 1) + 1;
  for (int max = g_atomic_int_get (&calls->max_live); live > max;
       max = g_atomic_int_get (&calls->max_live))
    if (g_atomic_int_compare_and_exchange (&calls->max_live, max, live))
      break;

  ag_chunk_return_uint64 (chunk, 2 * n);
}

static void
same (AgChunk      *chunk,
      const GValue *item,
      gpointer      user_data)
{
  ag_chunk_return_value (chunk, item);
}

/* Keeps even inputs, emits odd ones twice. */
static void
evens_and_doubled_odds (AgChunk      *chunk,
                        const GValue *item,
                        gpointer      user_data)
{
  if (input_number (item) % 2 == 1)
    {
      ag_chunk_emit (chunk, item);
      ag_chunk_emit (chunk, item);
      ag_chunk_return_nothing (chunk);
      return;
    }

  ag_chunk_return_value (chunk, item);
}

/* Gives n and -n for an even input n, n / 2 for an odd one, and nothing
 * for 3: numbers returned many at once. */
static void
numbers_at_once (AgChunk      *chunk,
                 const GValue *item,
                 gpointer      user_data)
{
  gint64 n = (gint64) input_number (item);
  gint64 both[] = { n, -n };
  double half = n / 2.0;

  if (n % 2 == 0)
    ag_chunk_return_int64s (chunk, both, 2);
  else
    ag_chunk_return_doubles (chunk, &half, n == 3 ? 0 : 1);
}

/* Emits every input, then fails the odd ones. */
static void
emit_then_fail_odd (AgChunk      *chunk,
                    const GValue *item,
                    gpointer      user_data)
{
  ag_chunk_emit (chunk, item);

  if (input_number (item) % 2 == 1)
    {
      ag_chunk_return_error (chunk, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                                         "odd"));
      return;
    }

  ag_chunk_return_value (chunk, NULL);
}

/* Given a whole chunk: returns its sum as one output. */
static void
chunk_sum (AgChunk      *chunk,
           const GValue *item,
           gpointer      user_data)
{
  const GValue *inputs;
  guint64 total = 0;
  Calls *calls = user_data;
  guint n;

  g_assert_null (item);
  g_atomic_int_inc (&calls->n_calls);
  inputs = ag_chunk_peek_items (chunk, &n);
  for (guint i = 0; i < n; i++)
    total += input_number (&inputs[i]);

  ag_chunk_return_uint64 (chunk, total);
}

/* Checks that ag_chunk_dup_items() gives what the function works on, then
 * emits the sum of those items. */
static void
sum_dup_items (AgChunk      *chunk,
               const GValue *item,
               gpointer      user_data)
{
  AgPipeline *self = *(AgPipeline **) user_data;
  g_autoptr(GArray) items = ag_chunk_dup_items (chunk);
  g_auto(GValue) sum = G_VALUE_INIT;
  guint64 total = 0;

  if (ag_pipeline_get_apply_single (self))
    {
      g_assert_cmpuint (items->len, ==, 1);
      g_assert_cmpuint (input_number (&g_array_index (items, GValue, 0)), ==,
                        input_number (item));
      g_assert_cmpuint (ag_chunk_get_position (chunk), ==, input_number (item));
    }
  else
    {
      guint n;
      const GValue *inputs = ag_chunk_peek_items (chunk, &n);

      g_assert_null (item);
      g_assert_cmpuint (items->len, ==, n);
      for (guint i = 0; i < n; i++)
        g_assert_cmpuint (input_number (&g_array_index (items, GValue, i)), ==,
                          input_number (&inputs[i]));
      g_assert_cmpuint (ag_chunk_get_position (chunk), ==, input_number (&inputs[0]));
    }

  for (guint i = 0; i < items->len; i++)
    total += input_number (&g_array_index (items, GValue, i));
  g_value_init (&sum, G_TYPE_UINT64);
  g_value_set_uint64 (&sum, total);
  ag_chunk_emit (chunk, &sum);
  ag_chunk_return_nothing (chunk);
}

/* Returns for every input but 2. */
static void
silent_at_two (AgChunk      *chunk,
               const GValue *item,
               gpointer      user_data)
{
  if (input_number (item) != 2)
    ag_chunk_return_value (chunk, item);
}

/* Reading */

typedef struct
{
  gboolean  done;
  GArray   *items;
  GError   *error;
} Read;

static void
read_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Read *read = user_data;

  read->items = ag_channel_reader_read_finish (AG_CHANNEL_READER (source), result, &read->error);
  read->done = TRUE;
}

/* Reads @count items the way the GUI thread does, iterating the context
 * until they are there. */
static GArray *
read_items (AgChannelReader *reader,
            guint            count)
{
  Read read = { 0 };

  ag_channel_reader_read_async (reader, count, -1, NULL, read_done, &read);
  ag_test_run_until (NULL, read.done, AG_TEST_SAFETY_MS);
  g_assert_no_error (read.error);
  return read.items;
}

static void
assert_numbers (GArray        *items,
                const guint64 *expected,
                guint          n_expected)
{
  g_assert_nonnull (items);
  g_assert_cmpuint (items->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    g_assert_cmpuint (input_number (&g_array_index (items, GValue, i)), ==, expected[i]);
}

static AgPipeline *
twice_forever (Calls *calls)
{
  return ag_pipeline_new_range (-1, twice, calls, calls_released);
}

static void
lets_the_context_settle (AgTestFixture *fixture)
{
  ag_test_run_for (fixture->context, 50);
}

/* Ends a stage for good (a no-op once it has ended) and drops the test's
 * reference, so that it releases its Calls. */
static void
drop_pipeline (AgPipeline **pipeline)
{
  if (*pipeline != NULL)
    ag_task_cancel (AG_TASK (*pipeline));
  g_clear_object (pipeline);
}

/* Tests */

static void
test_pipeline_runs_nothing_before_a_read (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  Calls calls;
  g_autoptr(AgPipeline) doubled = NULL;
  g_autoptr(AgChannelReader) reader = NULL;

  calls_init (&calls);
  doubled = twice_forever (&calls);
  reader = ag_pipeline_open_output (doubled, 16);
  ag_engine_run_async (fixture->engine, AG_TASK (doubled), NULL, NULL, NULL);

  lets_the_context_settle (fixture);
  g_assert_cmpint (g_atomic_int_get (&calls.n_calls), ==, 0);
  g_assert_cmpint (ag_task_get_state (AG_TASK (doubled)), ==, AG_TASK_RUNNING);

  ag_task_cancel (AG_TASK (doubled));
  ag_test_run_until (NULL, ag_task_is_finished (AG_TASK (doubled)), AG_TEST_SAFETY_MS);
  g_clear_object (&reader);
  drop_pipeline (&doubled);
  calls_clear (&calls);
}

static void
check_read_two_of_forever (AgTestFixture *fixture,
                           int            max_threads)
{
  static const guint64 expected[] = { 0, 2 };
  Calls calls;
  g_autoptr(AgPipeline) doubled = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;

  ag_engine_set_max_threads (fixture->engine, max_threads);
  calls_init (&calls);
  doubled = twice_forever (&calls);
  reader = ag_pipeline_open_output (doubled, 16);
  ag_engine_run_async (fixture->engine, AG_TASK (doubled), NULL, NULL, NULL);

  items = read_items (reader, 2);
  assert_numbers (items, expected, 2);

  lets_the_context_settle (fixture);
  g_assert_cmpint (g_atomic_int_get (&calls.n_calls), ==, 2);

  ag_task_cancel (AG_TASK (doubled));
  ag_test_run_until (NULL, ag_task_is_finished (AG_TASK (doubled)), AG_TEST_SAFETY_MS);
  g_clear_object (&reader);
  drop_pipeline (&doubled);
  calls_clear (&calls);
}

static void
test_pipeline_read_two_of_endless_input_calls_twice (AgTestFixture *fixture,
                                                     gconstpointer  data)
{
  check_read_two_of_forever (fixture, 4);
}

static void
test_pipeline_serial_read_two_of_endless_input_calls_twice (AgTestFixture *fixture,
                                                            gconstpointer  data)
{
  check_read_two_of_forever (fixture, 0);
}

/* min-count holds when a chunk is smaller than it and one chunk runs at a
 * time (serial mode): the batch is taken whole, in chunks one after the
 * other. */
static void
test_pipeline_min_count_holds_with_smaller_chunks_in_serial_mode (AgTestFixture *fixture,
                                                                  gconstpointer  data)
{
  static const guint64 expected[] = { 0 };
  Calls calls;
  g_autoptr(AgPipeline) doubled = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) first = NULL;

  ag_engine_set_max_threads (fixture->engine, 0);
  calls_init (&calls);
  doubled = twice_forever (&calls);
  ag_pipeline_set_min_count (doubled, 10);
  ag_pipeline_set_max_chunk_size (doubled, 3);
  reader = ag_pipeline_open_output (doubled, 16);
  ag_engine_run_async (fixture->engine, AG_TASK (doubled), NULL, NULL, NULL);

  first = read_items (reader, 1);
  assert_numbers (first, expected, 1);
  lets_the_context_settle (fixture);
  g_assert_cmpint (g_atomic_int_get (&calls.n_calls), ==, 10);

  ag_task_cancel (AG_TASK (doubled));
  ag_test_run_until (NULL, ag_task_is_finished (AG_TASK (doubled)), AG_TEST_SAFETY_MS);
  g_clear_object (&reader);
  drop_pipeline (&doubled);
  calls_clear (&calls);
}

static void
test_pipeline_min_count_runs_a_whole_batch (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  static const guint64 expected[] = { 0 };
  static const guint64 rest[] = { 2, 4, 6, 8 };
  Calls calls;
  g_autoptr(AgPipeline) doubled = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) first = NULL;
  g_autoptr(GArray) next = NULL;

  calls_init (&calls);
  doubled = twice_forever (&calls);
  ag_pipeline_set_min_count (doubled, 5);
  reader = ag_pipeline_open_output (doubled, 16);
  ag_engine_run_async (fixture->engine, AG_TASK (doubled), NULL, NULL, NULL);

  first = read_items (reader, 1);
  assert_numbers (first, expected, 1);
  lets_the_context_settle (fixture);
  g_assert_cmpint (g_atomic_int_get (&calls.n_calls), ==, 5);

  /* The other four wait in the channel: reading them runs nothing. */
  next = read_items (reader, 4);
  assert_numbers (next, rest, 4);
  lets_the_context_settle (fixture);
  g_assert_cmpint (g_atomic_int_get (&calls.n_calls), ==, 5);

  ag_task_cancel (AG_TASK (doubled));
  ag_test_run_until (NULL, ag_task_is_finished (AG_TASK (doubled)), AG_TEST_SAFETY_MS);
  g_clear_object (&reader);
  drop_pipeline (&doubled);
  calls_clear (&calls);
}

static void
check_failure_keeps_earlier_outputs (AgTestFixture *fixture,
                                     int            max_threads)
{
  static const guint64 expected[] = { 0, 2, 4 };
  Calls calls;
  AgTestOutcome outcome;
  g_autoptr(AgPipeline) doubled = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;
  g_autoptr(GArray) after = NULL;

  ag_engine_set_max_threads (fixture->engine, max_threads);
  calls_init (&calls);
  calls.fail_at = 3;
  ag_test_outcome_init (&outcome, fixture->engine);
  doubled = ag_pipeline_new_range (10, twice, &calls, calls_released);
  reader = ag_pipeline_open_output (doubled, 16);
  ag_engine_run_async (fixture->engine, AG_TASK (doubled), NULL,
                       ag_test_outcome_callback, &outcome);

  items = read_items (reader, 10);
  assert_numbers (items, expected, 3);
  g_assert_true (ag_channel_reader_is_drained (reader));

  /* The reader sees the end once the task has ended. */
  g_assert_true (ag_task_is_finished (AG_TASK (doubled)));
  g_assert_cmpint (ag_task_get_state (AG_TASK (doubled)), ==, AG_TASK_FAILED);
  g_assert_error (ag_task_get_error (AG_TASK (doubled)), G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  ag_test_run_until (NULL, outcome.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);

  after = read_items (reader, 1);
  g_assert_cmpuint (after->len, ==, 0);

  ag_test_outcome_clear (&outcome);
  g_clear_object (&reader);
  drop_pipeline (&doubled);
  calls_clear (&calls);
}

static void
test_pipeline_failure_gives_outputs_before_it_then_the_error (AgTestFixture *fixture,
                                                               gconstpointer  data)
{
  check_failure_keeps_earlier_outputs (fixture, 4);
}

static void
test_pipeline_serial_failure_gives_outputs_before_it (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  check_failure_keeps_earlier_outputs (fixture, 0);
}

static void
test_pipeline_finite_input_ends_successfully (AgTestFixture *fixture,
                                              gconstpointer  data)
{
  Calls calls;
  AgTestOutcome outcome;
  g_autoptr(AgPipeline) doubled = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;

  calls_init (&calls);
  ag_test_outcome_init (&outcome, fixture->engine);
  doubled = ag_pipeline_new_range (1000, twice, &calls, calls_released);
  reader = ag_pipeline_open_output (doubled, 8);
  ag_engine_run_async (fixture->engine, AG_TASK (doubled), NULL,
                       ag_test_outcome_callback, &outcome);

  items = read_items (reader, 2000);
  g_assert_cmpuint (items->len, ==, 1000);
  for (guint i = 0; i < 1000; i++)
    g_assert_cmpuint (input_number (&g_array_index (items, GValue, i)), ==, 2 * i);

  ag_test_run_until (NULL, outcome.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);
  g_assert_cmpuint (g_value_get_uint64 (outcome.value), ==, 1000);
  g_assert_cmpint (g_atomic_int_get (&calls.n_calls), ==, 1000);

  ag_test_outcome_clear (&outcome);
  g_clear_object (&reader);
  drop_pipeline (&doubled);
  calls_clear (&calls);
}

/* A script that runs no main loop reads a pipeline's output with a
 * blocking read on the engine's thread: the read itself must drive the
 * engine, or nothing delivers the demand and the outputs. */
static void
test_pipeline_blocking_read_on_the_engines_thread_drives_it (AgTestFixture *fixture,
                                                             gconstpointer  data)
{
  Calls calls;
  g_autoptr(AgPipeline) doubled = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;
  g_autoptr(GError) error = NULL;

  calls_init (&calls);
  doubled = ag_pipeline_new_range (100, twice, &calls, calls_released);
  reader = ag_pipeline_open_output (doubled, 8);
  ag_engine_run_async (fixture->engine, AG_TASK (doubled), NULL, NULL, NULL);

  items = ag_channel_reader_read (reader, 200, AG_TEST_SAFETY_MS, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 100);
  for (guint i = 0; i < 100; i++)
    g_assert_cmpuint (input_number (&g_array_index (items, GValue, i)), ==, 2 * i);
  g_assert_true (ag_channel_reader_is_drained (reader));
  g_assert_cmpint (ag_task_get_state (AG_TASK (doubled)), ==, AG_TASK_SUCCEEDED);

  g_clear_object (&reader);
  drop_pipeline (&doubled);
  calls_clear (&calls);
}

/* The serial engine runs the pipeline on this thread, in input order. */
static void
test_pipeline_serial_mode_is_deterministic (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  g_autoptr(GArray) first_seen = NULL;

  ag_engine_set_max_threads (fixture->engine, 0);
  for (int run = 0; run < 2; run++)
    {
      Calls calls;
      g_autoptr(AgPipeline) doubled = NULL;
      g_autoptr(AgChannelReader) reader = NULL;
      g_autoptr(GArray) items = NULL;

      calls_init (&calls);
      doubled = ag_pipeline_new_range (-1, twice, &calls, calls_released);
      ag_pipeline_set_max_chunk_size (doubled, 3);
      reader = ag_pipeline_open_output (doubled, 4);
      ag_engine_run_async (fixture->engine, AG_TASK (doubled), NULL, NULL, NULL);

      items = read_items (reader, 10);
      g_assert_cmpuint (items->len, ==, 10);
      g_assert_cmpuint (calls.seen->len, ==, 10);
      for (guint i = 0; i < 10; i++)
        g_assert_cmpuint (g_array_index (calls.seen, guint64, i), ==, i);

      if (first_seen == NULL)
        first_seen = g_array_ref (calls.seen);
      else
        g_assert_cmpmem (first_seen->data, first_seen->len * sizeof (guint64),
                         calls.seen->data, calls.seen->len * sizeof (guint64));

      ag_task_cancel (AG_TASK (doubled));
      ag_test_run_until (NULL, ag_task_is_finished (AG_TASK (doubled)), AG_TEST_SAFETY_MS);
      g_clear_object (&reader);
      drop_pipeline (&doubled);
      calls_clear (&calls);
    }
}

static void
test_pipeline_stages_chain_and_demand_travels_upstream (AgTestFixture *fixture,
                                                         gconstpointer  data)
{
  static const guint64 expected[] = { 0, 4, 8 };
  Calls first, second;
  g_autoptr(AgPipeline) doubled = NULL;
  g_autoptr(AgPipeline) quadrupled = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;

  calls_init (&first);
  calls_init (&second);
  doubled = ag_pipeline_new_range (-1, twice, &first, calls_released);
  quadrupled = ag_pipeline_add_stage (doubled, 8, twice, &second, calls_released);
  reader = ag_pipeline_open_output (quadrupled, 8);

  /* Running the last stage runs the one before. */
  ag_engine_run_async (fixture->engine, AG_TASK (quadrupled), NULL, NULL, NULL);
  items = read_items (reader, 3);
  assert_numbers (items, expected, 3);
  lets_the_context_settle (fixture);
  g_assert_cmpint (ag_task_get_state (AG_TASK (doubled)), ==, AG_TASK_RUNNING);
  g_assert_cmpint (g_atomic_int_get (&first.n_calls), ==, 3);
  g_assert_cmpint (g_atomic_int_get (&second.n_calls), ==, 3);

  /* Dropping the last reader stops both stages. */
  g_clear_object (&reader);
  ag_test_run_until (NULL, ag_task_is_finished (AG_TASK (doubled))
                           && ag_task_is_finished (AG_TASK (quadrupled)),
                     AG_TEST_SAFETY_MS);
  g_assert_cmpint (ag_task_get_state (AG_TASK (quadrupled)), ==, AG_TASK_CANCELLED);
  g_assert_cmpint (ag_task_get_state (AG_TASK (doubled)), ==, AG_TASK_CANCELLED);

  g_clear_object (&reader);
  drop_pipeline (&quadrupled);
  drop_pipeline (&doubled);
  calls_clear (&first);
  calls_clear (&second);
}

static void
test_pipeline_upstream_failure_reaches_the_last_stage (AgTestFixture *fixture,
                                                       gconstpointer  data)
{
  static const guint64 expected[] = { 0, 4 };
  Calls first, second;
  g_autoptr(AgPipeline) doubled = NULL;
  g_autoptr(AgPipeline) quadrupled = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;

  calls_init (&first);
  calls_init (&second);
  first.fail_at = 2;
  doubled = ag_pipeline_new_range (-1, twice, &first, calls_released);
  quadrupled = ag_pipeline_add_stage (doubled, 8, twice, &second, calls_released);
  reader = ag_pipeline_open_output (quadrupled, 8);
  ag_engine_run_async (fixture->engine, AG_TASK (quadrupled), NULL, NULL, NULL);

  items = read_items (reader, 10);
  assert_numbers (items, expected, 2);
  ag_test_run_until (NULL, ag_task_is_finished (AG_TASK (quadrupled)), AG_TEST_SAFETY_MS);
  g_assert_error (ag_task_get_error (AG_TASK (quadrupled)), G_IO_ERROR, G_IO_ERROR_INVALID_DATA);

  g_clear_object (&reader);
  drop_pipeline (&quadrupled);
  drop_pipeline (&doubled);
  calls_clear (&first);
  calls_clear (&second);
}

static void
test_pipeline_ending_while_a_run_works_releases_its_data_once (AgTestFixture *fixture,
                                                              gconstpointer  data)
{
  Calls calls;
  AgPipeline *doubled;
  AgChannelReader *reader;
  g_autoptr(GArray) items = NULL;

  ag_engine_set_max_threads (fixture->engine, 2);
  calls_init (&calls);
  calls.fail_at = 0;
  calls.gate_from = 5;
  doubled = ag_pipeline_new_range (-1, twice, &calls, calls_released);
  ag_pipeline_set_max_workers (doubled, 2);
  ag_pipeline_set_min_count (doubled, 10);
  ag_pipeline_set_max_chunk_size (doubled, 5);
  reader = ag_pipeline_open_output (doubled, 16);
  ag_engine_run_async (fixture->engine, AG_TASK (doubled), NULL, NULL, NULL);

  /* Two runs of five: the first fails at its first input, and the
   * pipeline with it, once the second waits in the function. */
  items = read_items (reader, 10);
  g_assert_cmpuint (items->len, ==, 0);
  ag_test_run_until (NULL, ag_task_is_finished (AG_TASK (doubled))
                           && g_atomic_int_get (&calls.in_gate) == 1,
                     AG_TEST_SAFETY_MS);
  g_assert_error (ag_task_get_error (AG_TASK (doubled)), G_IO_ERROR, G_IO_ERROR_INVALID_DATA);

  /* Then the run holds the last reference to the pipeline. */
  g_object_unref (reader);
  g_object_unref (doubled);
  g_atomic_int_set (&calls.gate_open, TRUE);
  ag_test_run_until (NULL, g_atomic_int_get (&calls.released) > 0, AG_TEST_SAFETY_MS);
  lets_the_context_settle (fixture);
  g_assert_cmpint (g_atomic_int_get (&calls.released), ==, 1);

  calls_clear (&calls);
}

static void
test_pipeline_reads_a_channel_written_by_a_thread (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  Calls calls;
  g_autoptr(AgChannel) source = ag_channel_new (4);
  g_autoptr(AgChannelReader) inputs = ag_channel_open_reader (source);
  g_autoptr(AgPipeline) doubled = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;
  AgTestOutcome outcome;

  calls_init (&calls);
  ag_test_outcome_init (&outcome, fixture->engine);
  doubled = ag_pipeline_new (inputs, twice, &calls, calls_released);
  reader = ag_pipeline_open_output (doubled, 4);
  ag_engine_run_async (fixture->engine, AG_TASK (doubled), NULL,
                       ag_test_outcome_callback, &outcome);

  for (int i = 0; i < 3; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_INT);
      g_value_set_int (&value, i + 10);
      g_assert_true (ag_channel_write (source, &value, 0, NULL));
    }
  ag_channel_close (source);

  items = read_items (reader, 100);
  g_assert_cmpuint (items->len, ==, 3);
  g_assert_cmpuint (input_number (&g_array_index (items, GValue, 2)), ==, 24);
  ag_test_run_until (NULL, outcome.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);

  ag_test_outcome_clear (&outcome);
  g_clear_object (&inputs);
  g_clear_object (&reader);
  drop_pipeline (&doubled);
  calls_clear (&calls);
}

/* A read transform of the input channel that fails an item fails the
 * pipeline there, with the transform's detail (a binding's exception). */
static void
refuse_two_with_detail (AgChannelTransform *transform,
                        const GValue       *value,
                        gpointer            user_data)
{
  if (g_value_get_int (value) == 2)
    {
      g_auto(GValue) detail = G_VALUE_INIT;

      g_value_init (&detail, G_TYPE_STRING);
      g_value_set_static_string (&detail, "refused 2");
      ag_channel_transform_return_error_full (transform,
                                              g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                                                   "cannot take 2"),
                                              &detail);
      return;
    }

  ag_channel_transform_return_value (transform, value);
}

static void
test_pipeline_fails_with_the_detail_of_its_inputs_read_transform (AgTestFixture *fixture,
                                                                  gconstpointer  data)
{
  Calls calls;
  g_autoptr(AgChannel) source = ag_channel_new (8);
  g_autoptr(AgChannelReader) inputs = NULL;
  g_autoptr(AgPipeline) doubled = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;
  AgTestOutcome outcome;
  const GValue *detail;

  ag_channel_set_read_transform (source, refuse_two_with_detail, NULL, NULL);
  inputs = ag_channel_open_reader (source);
  for (int i = 0; i < 4; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_INT);
      g_value_set_int (&value, i);
      g_assert_true (ag_channel_write (source, &value, 0, NULL));
    }
  ag_channel_close (source);

  calls_init (&calls);
  ag_test_outcome_init (&outcome, fixture->engine);
  doubled = ag_pipeline_new (inputs, twice, &calls, calls_released);
  reader = ag_pipeline_open_output (doubled, 8);
  ag_engine_run_async (fixture->engine, AG_TASK (doubled), NULL,
                       ag_test_outcome_callback, &outcome);

  items = read_items (reader, 100);
  ag_test_run_until (NULL, outcome.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_cmpuint (items->len, ==, 2);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  detail = ag_task_get_error_detail (AG_TASK (doubled));
  g_assert_nonnull (detail);
  g_assert_cmpstr (g_value_get_string (detail), ==, "refused 2");

  ag_test_outcome_clear (&outcome);
  g_clear_object (&inputs);
  g_clear_object (&reader);
  drop_pipeline (&doubled);
  calls_clear (&calls);
}

/* A pipeline takes the inputs that have come rather than waiting for a
 * whole batch of them. */
static void
test_pipeline_runs_inputs_that_came_without_waiting_for_more (AgTestFixture *fixture,
                                                              gconstpointer  data)
{
  Calls calls;
  g_autoptr(AgChannel) source = ag_channel_new (4);
  g_autoptr(AgChannelReader) inputs = ag_channel_open_reader (source);
  g_autoptr(AgPipeline) doubled = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  Read read = { 0 };

  calls_init (&calls);
  doubled = ag_pipeline_new (inputs, twice, &calls, calls_released);
  reader = ag_pipeline_open_output (doubled, 8);
  ag_engine_run_async (fixture->engine, AG_TASK (doubled), NULL, NULL, NULL);

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, 21);
  g_assert_true (ag_channel_write (source, &value, 0, NULL));

  ag_channel_reader_read_async (reader, 5, 200, NULL, read_done, &read);
  ag_test_run_until (NULL, read.done, AG_TEST_SAFETY_MS);
  g_assert_no_error (read.error);
  g_assert_cmpuint (read.items->len, ==, 1);
  g_assert_cmpuint (input_number (&g_array_index (read.items, GValue, 0)), ==, 42);

  ag_task_cancel (AG_TASK (doubled));
  ag_test_run_until (NULL, ag_task_is_finished (AG_TASK (doubled)), AG_TEST_SAFETY_MS);
  g_array_unref (read.items);
  g_clear_object (&inputs);
  g_clear_object (&reader);
  drop_pipeline (&doubled);
  calls_clear (&calls);
}

static void
test_pipeline_over_a_list_model (AgTestFixture *fixture,
                                 gconstpointer  data)
{
  g_autoptr(GListStore) store = g_list_store_new (G_TYPE_SIMPLE_ACTION);
  g_autoptr(AgPipeline) names = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;

  for (int i = 0; i < 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("action%d", i);
      g_autoptr(GSimpleAction) action = g_simple_action_new (name, NULL);

      g_list_store_append (store, action);
    }

  names = ag_pipeline_new_model (G_LIST_MODEL (store),
                                        same, NULL, NULL);
  reader = ag_pipeline_open_output (names, 2);
  ag_engine_run_async (fixture->engine, AG_TASK (names), NULL, NULL, NULL);

  items = read_items (reader, 10);
  g_assert_cmpuint (items->len, ==, 5);
  g_assert_cmpstr (g_action_get_name (g_value_get_object (&g_array_index (items, GValue, 4))),
                   ==, "action4");
}

static void
test_pipeline_function_may_filter_and_emit (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  static const guint64 expected[] = { 0, 1, 1, 2, 3, 3, 4 };
  g_autoptr(AgPipeline) pipe = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;

  pipe = ag_pipeline_new_range (5, evens_and_doubled_odds, NULL, NULL);
  reader = ag_pipeline_open_output (pipe, 16);
  ag_engine_run_async (fixture->engine, AG_TASK (pipe), NULL, NULL, NULL);

  items = read_items (reader, 100);
  assert_numbers (items, expected, G_N_ELEMENTS (expected));
}

static void
test_pipeline_function_may_return_numbers_at_once (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  static const double expected[] = { 0, 0, 0.5, 2, -2, 4, -4 };
  g_autoptr(AgPipeline) pipe = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;

  pipe = ag_pipeline_new_range (5, numbers_at_once, NULL, NULL);
  reader = ag_pipeline_open_output (pipe, 16);
  ag_engine_run_async (fixture->engine, AG_TASK (pipe), NULL, NULL, NULL);

  items = read_items (reader, 100);
  g_assert_cmpuint (items->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < items->len; i++)
    {
      const GValue *item = &g_array_index (items, GValue, i);

      if (i == 2)
        g_assert_cmpfloat (g_value_get_double (item), ==, expected[i]);
      else
        g_assert_cmpint (g_value_get_int64 (item), ==, (gint64) expected[i]);
    }
}

/* Input 1 emits, then fails: readers get the outputs of input 0 only. */
static void
test_pipeline_failing_input_ends_without_what_it_emitted (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  static const guint64 expected[] = { 0 };
  g_autoptr(AgPipeline) pipe = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;

  pipe = ag_pipeline_new_range (5, emit_then_fail_odd, NULL, NULL);
  reader = ag_pipeline_open_output (pipe, 16);
  ag_engine_run_async (fixture->engine, AG_TASK (pipe), NULL, NULL, NULL);

  items = read_items (reader, 100);
  assert_numbers (items, expected, G_N_ELEMENTS (expected));
  g_assert_true (ag_task_is_finished (AG_TASK (pipe)));
  g_assert_error (ag_task_get_error (AG_TASK (pipe)), G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
}

static void
test_pipeline_function_that_does_not_return_fails_it (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  static const guint64 expected[] = { 0, 1 };
  g_autoptr(AgPipeline) pipe = ag_pipeline_new_range (5, silent_at_two, NULL, NULL);
  g_autoptr(AgChannelReader) reader = ag_pipeline_open_output (pipe, 16);
  g_autoptr(GArray) items = NULL;

  ag_engine_run_async (fixture->engine, AG_TASK (pipe), NULL, NULL, NULL);
  items = read_items (reader, 100);
  assert_numbers (items, expected, G_N_ELEMENTS (expected));
  g_assert_error (ag_task_get_error (AG_TASK (pipe)), AG_ERROR, AG_ERROR_NO_RESULT);
}

/* A binding may make one with g_object_new(): it fails when run, rather
 * than running nothing for ever. */
static void
test_pipeline_made_without_a_function_fails_when_run (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  g_autoptr(AgPipeline) pipe = g_object_new (AG_TYPE_PIPELINE, NULL);
  AgTestOutcome outcome;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (pipe), NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (NULL, outcome.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_FAILED);
  ag_test_outcome_clear (&outcome);
}

static void
test_pipeline_without_output_runs_every_input (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  Calls calls;
  AgTestOutcome outcome;
  g_autoptr(AgPipeline) sink = NULL;

  calls_init (&calls);
  ag_test_outcome_init (&outcome, fixture->engine);
  sink = ag_pipeline_new_range (50000, twice, &calls, calls_released);
  ag_engine_run_async (fixture->engine, AG_TASK (sink), NULL,
                       ag_test_outcome_callback, &outcome);

  ag_test_run_until (NULL, outcome.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);
  g_assert_cmpuint (g_value_get_uint64 (outcome.value), ==, 50000);
  g_assert_cmpint (g_atomic_int_get (&calls.n_calls), ==, 50000);

  ag_test_outcome_clear (&outcome);
  drop_pipeline (&sink);
  calls_clear (&calls);
}

static void
test_pipeline_whole_chunks_go_to_the_function (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  Calls calls;
  g_autoptr(AgPipeline) sums = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;
  guint64 total = 0;

  calls_init (&calls);
  ag_engine_set_max_threads (fixture->engine, 0);
  sums = ag_pipeline_new_range (100, chunk_sum, &calls, calls_released);
  ag_pipeline_set_apply_single (sums, FALSE);
  ag_pipeline_set_max_chunk_size (sums, 10);
  reader = ag_pipeline_open_output (sums, 100);
  ag_engine_run_async (fixture->engine, AG_TASK (sums), NULL, NULL, NULL);

  /* One output per chunk, none bigger than max-chunk-size. */
  items = read_items (reader, 1000);
  g_assert_cmpuint (items->len, >=, 10);
  g_assert_cmpuint (items->len, ==, (guint) g_atomic_int_get (&calls.n_calls));
  for (guint i = 0; i < items->len; i++)
    total += input_number (&g_array_index (items, GValue, i));
  g_assert_cmpuint (total, ==, 99 * 100 / 2);
  g_assert_true (ag_channel_reader_is_drained (reader));

  g_clear_object (&reader);
  drop_pipeline (&sums);
  calls_clear (&calls);
}

/* Bindings that cannot read the array inside the chunk's value get the
 * same items through ag_chunk_dup_items(). */
static void
test_pipeline_chunk_items_are_what_the_function_works_on (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  for (int whole = 0; whole < 2; whole++)
    {
      g_autoptr(AgPipeline) sums = NULL;
      g_autoptr(AgChannelReader) reader = NULL;
      g_autoptr(GArray) items = NULL;
      AgPipeline *self = NULL;
      guint64 total = 0;

      sums = ag_pipeline_new_range (100, sum_dup_items, &self, NULL);
      self = sums;
      ag_pipeline_set_apply_single (sums, !whole);
      ag_pipeline_set_max_chunk_size (sums, 7);
      reader = ag_pipeline_open_output (sums, 100);
      ag_engine_run_async (fixture->engine, AG_TASK (sums), NULL, NULL, NULL);

      items = read_items (reader, 1000);
      g_assert_cmpuint (items->len, ==, whole ? (100 + 6) / 7 : 100);
      for (guint i = 0; i < items->len; i++)
        total += input_number (&g_array_index (items, GValue, i));
      g_assert_cmpuint (total, ==, 99 * 100 / 2);
      g_assert_true (ag_channel_reader_is_drained (reader));
      ag_test_run_until (NULL, ag_task_is_finished (AG_TASK (sums)), AG_TEST_SAFETY_MS);
    }
}

/* Reads one at a time from a worker thread. */
static gpointer
read_all_one_by_one (gpointer data)
{
  AgChannelReader *reader = data;
  guint n = 0;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GArray) items = ag_channel_reader_read (reader, 1, 10 * 1000, &error);

      g_assert_no_error (error);
      if (items->len == 0)
        break;
      n++;
      /* What the function made and nobody has read yet. */
      g_atomic_int_add (&((Calls *) g_object_get_data (G_OBJECT (reader), "calls"))->live, -1);
    }

  return GUINT_TO_POINTER (n);
}

static void
test_pipeline_holds_at_most_capacity_plus_workers_items (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  const guint n_items = 100000;
  const guint capacity = 16;
  Calls calls;
  g_autoptr(AgPipeline) doubled = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  GThread *consumer;
  int workers = ag_engine_get_max_threads (fixture->engine);

  calls_init (&calls);
  doubled = ag_pipeline_new_range (n_items, twice, &calls, calls_released);
  reader = ag_pipeline_open_output (doubled, capacity);
  g_object_set_data (G_OBJECT (reader), "calls", &calls);
  ag_engine_run_async (fixture->engine, AG_TASK (doubled), NULL, NULL, NULL);

  consumer = g_thread_new ("consumer", read_all_one_by_one, reader);
  ag_test_run_until (NULL, ag_task_is_finished (AG_TASK (doubled)), 60000);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_thread_join (consumer)), ==, n_items);

  g_assert_cmpint (ag_task_get_state (AG_TASK (doubled)), ==, AG_TASK_SUCCEEDED);
  g_test_message ("most items alive at once: %d (capacity %u, workers %d)",
                  calls.max_live, capacity, workers);
  g_assert_cmpint (calls.max_live, <=, (int) capacity + workers);
  g_clear_object (&reader);
  drop_pipeline (&doubled);
  calls_clear (&calls);
}

static void
test_pipeline_cancel_closes_output_and_input (AgTestFixture *fixture,
                                              gconstpointer  data)
{
  Calls calls;
  g_autoptr(AgChannel) source = ag_channel_new (4);
  g_autoptr(AgChannelReader) inputs = ag_channel_open_reader (source);
  g_autoptr(AgPipeline) doubled = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  Read read = { 0 };

  calls_init (&calls);
  doubled = ag_pipeline_new (inputs, twice, &calls, calls_released);
  reader = ag_pipeline_open_output (doubled, 4);
  ag_engine_run_async (fixture->engine, AG_TASK (doubled), NULL, NULL, NULL);
  ag_channel_reader_read_async (reader, 1, -1, NULL, read_done, &read);
  lets_the_context_settle (fixture);
  g_assert_false (read.done);

  ag_task_cancel (AG_TASK (doubled));
  ag_test_run_until (NULL, read.done, AG_TEST_SAFETY_MS);
  g_assert_no_error (read.error);
  g_assert_cmpuint (read.items->len, ==, 0);
  g_assert_cmpint (ag_task_get_state (AG_TASK (doubled)), ==, AG_TASK_CANCELLED);

  /* Its input reader is closed: the producer learns nobody reads. */
  g_value_init (&value, G_TYPE_INT);
  g_assert_false (ag_channel_write (source, &value, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);

  g_array_unref (read.items);
  g_clear_object (&inputs);
  g_clear_object (&reader);
  drop_pipeline (&doubled);
  calls_clear (&calls);
}

static void
test_pipeline_bad_input_is_refused (AgTestFixture *fixture,
                                    gconstpointer  data)
{
  Calls calls;
  g_autoptr(AgPipeline) doubled = NULL;
  g_autoptr(AgChannel) other = ag_channel_new (1);
  g_autoptr(AgChannelReader) output = NULL;

  calls_init (&calls);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*n_items >= -1*");
  g_assert_null (ag_pipeline_new_range (-2, twice, &calls, NULL));
  g_test_assert_expected_messages ();

  doubled = twice_forever (&calls);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*capacity > 0*");
  g_assert_null (ag_pipeline_open_output (doubled, 0));
  g_test_assert_expected_messages ();

  /* With an output nobody reads, nothing runs: an endless sink would keep
   * workers in twice() after the cancel, and calls_clear() must not race
   * with them. */
  output = ag_pipeline_open_output (doubled, 1);
  ag_engine_run_async (fixture->engine, AG_TASK (doubled), NULL, NULL, NULL);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*already running*");
  ag_pipeline_set_output (doubled, other);
  g_test_assert_expected_messages ();

  ag_task_cancel (AG_TASK (doubled));
  ag_test_run_until (NULL, ag_task_is_finished (AG_TASK (doubled)), AG_TEST_SAFETY_MS);
  g_assert_cmpint (g_atomic_int_get (&calls.n_calls), ==, 0);
  g_clear_object (&output);
  drop_pipeline (&doubled);
  calls_clear (&calls);
}

/* A reader made by g_object_new() (a binding's default constructor) is
 * on no channel: a pipeline over it is refused with a critical. */
static void
test_pipeline_over_a_reader_of_no_channel_is_a_critical (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(AgChannelReader) reader = g_object_new (AG_TYPE_CHANNEL_READER, NULL);
      AgPipeline *pipeline = ag_pipeline_new (reader, same, NULL, NULL);

      g_assert_null (pipeline);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*ag_pipeline_new*has_channel*");
}

/* A pipeline's outputs go to one place: a second stage, or a reader of a
 * pipeline that feeds a stage, would split them silently; a reader that
 * feeds a pipeline feeds no other. Each is a critical. */
static void
test_outputs_split_between_readers_of_one_stage_are_criticals (void)
{
  g_autoptr(AgPipeline) first = ag_pipeline_new_range (10, same, NULL, NULL);
  g_autoptr(AgPipeline) second = ag_pipeline_add_stage (first, 4, same, NULL, NULL);
  g_autoptr(AgChannel) inputs = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (inputs);
  g_autoptr(AgPipeline) over_reader = ag_pipeline_new (reader, same, NULL, NULL);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*already feeds a stage*");
  g_assert_null (ag_pipeline_add_stage (first, 4, same, NULL, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*feeds a stage*read the last*");
  g_assert_null (ag_pipeline_open_output (first, 4));
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*already feeds a pipeline*");
  g_assert_null (ag_pipeline_new (reader, same, NULL, NULL));
  g_test_assert_expected_messages ();

  g_assert_nonnull (second);
  g_assert_nonnull (over_reader);
}

/* The engine writes a pipeline's output in its deliveries: a blocking
 * read inside one of them that would have to wait would wait for itself.
 * It fails at once, and the outputs are all still there for a read that
 * does not block. */
typedef struct
{
  AgChannelReader *reader;
  GError          *error;
  gint64           waited_us;
  gboolean         done;
} ReadInDelivery;

static void
read_blocking_in_the_delivery (GObject      *source,
                               GAsyncResult *result,
                               gpointer      user_data)
{
  ReadInDelivery *inside = user_data;
  gint64 start = g_get_monotonic_time ();
  g_autoptr(GArray) items = NULL;

  items = ag_channel_reader_read (inside->reader, 3, -1, &inside->error);
  g_assert_null (items);
  inside->waited_us = g_get_monotonic_time () - start;
  inside->done = TRUE;
}

static void
test_pipeline_blocking_read_of_its_output_in_a_delivery_fails_at_once (AgTestFixture *fixture,
                                                                       gconstpointer  data)
{
  g_autoptr(AgPipeline) pipeline = ag_pipeline_new_range (5, same, NULL, NULL);
  g_autoptr(AgChannelReader) reader = ag_pipeline_open_output (pipeline, 4);
  g_autoptr(AgTask) sleep = ag_task_new_sleep (1);
  ReadInDelivery inside = { reader, NULL, 0, FALSE };
  g_autoptr(GArray) all = NULL;

  ag_engine_run_async (fixture->engine, AG_TASK (pipeline), NULL, NULL, NULL);
  ag_engine_run_async (fixture->engine, sleep, NULL, read_blocking_in_the_delivery, &inside);
  ag_test_run_until (fixture->context, inside.done, AG_TEST_SAFETY_MS);

  g_assert_error (inside.error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK);
  g_assert_cmpint (inside.waited_us, <, 500 * G_TIME_SPAN_MILLISECOND);
  g_clear_error (&inside.error);

  /* Outside a delivery the read drives the engine and gets all five. */
  all = ag_channel_reader_read (reader, 10, AG_TEST_SAFETY_MS, &inside.error);
  g_assert_no_error (inside.error);
  g_assert_cmpuint (all->len, ==, 5);
}

int
main (int    argc,
      char **argv)
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/pipeline/runs-nothing-before-a-read", test_pipeline_runs_nothing_before_a_read);
  ag_test_add ("/pipeline/read-two-of-endless-input-calls-twice",
               test_pipeline_read_two_of_endless_input_calls_twice);
  ag_test_add ("/pipeline/serial-read-two-of-endless-input-calls-twice",
               test_pipeline_serial_read_two_of_endless_input_calls_twice);
  ag_test_add ("/pipeline/min-count-runs-a-whole-batch", test_pipeline_min_count_runs_a_whole_batch);
  ag_test_add ("/pipeline/fails-with-the-detail-of-its-inputs-read-transform",
               test_pipeline_fails_with_the_detail_of_its_inputs_read_transform);
  ag_test_add ("/pipeline/min-count-holds-with-smaller-chunks-in-serial-mode",
               test_pipeline_min_count_holds_with_smaller_chunks_in_serial_mode);
  ag_test_add ("/pipeline/failure-gives-outputs-before-it-then-the-error",
               test_pipeline_failure_gives_outputs_before_it_then_the_error);
  ag_test_add ("/pipeline/serial-failure-gives-outputs-before-it",
               test_pipeline_serial_failure_gives_outputs_before_it);
  ag_test_add ("/pipeline/finite-input-ends-successfully", test_pipeline_finite_input_ends_successfully);
  ag_test_add ("/pipeline/blocking-read-on-the-engines-thread-drives-it",
               test_pipeline_blocking_read_on_the_engines_thread_drives_it);
  ag_test_add ("/pipeline/serial-mode-is-deterministic", test_pipeline_serial_mode_is_deterministic);
  ag_test_add ("/pipeline/stages-chain-and-demand-travels-upstream",
               test_pipeline_stages_chain_and_demand_travels_upstream);
  ag_test_add ("/pipeline/upstream-failure-reaches-the-last-stage",
               test_pipeline_upstream_failure_reaches_the_last_stage);
  ag_test_add ("/pipeline/ending-while-a-run-works-releases-its-data-once",
               test_pipeline_ending_while_a_run_works_releases_its_data_once);
  ag_test_add ("/pipeline/reads-a-channel-written-by-a-thread",
               test_pipeline_reads_a_channel_written_by_a_thread);
  ag_test_add ("/pipeline/runs-inputs-that-came-without-waiting-for-more",
               test_pipeline_runs_inputs_that_came_without_waiting_for_more);
  ag_test_add ("/pipeline/over-a-list-model", test_pipeline_over_a_list_model);
  ag_test_add ("/pipeline/blocking-read-of-its-output-in-a-delivery-fails-at-once",
               test_pipeline_blocking_read_of_its_output_in_a_delivery_fails_at_once);
  g_test_add_func ("/pipeline/outputs-split-between-readers-of-one-stage-are-criticals",
                   test_outputs_split_between_readers_of_one_stage_are_criticals);
  g_test_add_func ("/pipeline/over-a-reader-of-no-channel-is-a-critical",
                   test_pipeline_over_a_reader_of_no_channel_is_a_critical);
  ag_test_add ("/pipeline/function-may-filter-and-emit", test_pipeline_function_may_filter_and_emit);
  ag_test_add ("/pipeline/function-may-return-numbers-at-once",
               test_pipeline_function_may_return_numbers_at_once);
  ag_test_add ("/pipeline/failing-input-ends-without-what-it-emitted",
               test_pipeline_failing_input_ends_without_what_it_emitted);
  ag_test_add ("/pipeline/function-that-does-not-return-fails-it",
               test_pipeline_function_that_does_not_return_fails_it);
  ag_test_add ("/pipeline/made-without-a-function-fails-when-run",
               test_pipeline_made_without_a_function_fails_when_run);
  ag_test_add ("/pipeline/without-output-runs-every-input",
               test_pipeline_without_output_runs_every_input);
  ag_test_add ("/pipeline/whole-chunks-go-to-the-function", test_pipeline_whole_chunks_go_to_the_function);
  ag_test_add ("/pipeline/chunk-items-are-what-the-function-works-on",
               test_pipeline_chunk_items_are_what_the_function_works_on);
  ag_test_add ("/pipeline/holds-at-most-capacity-plus-workers-items",
               test_pipeline_holds_at_most_capacity_plus_workers_items);
  ag_test_add ("/pipeline/cancel-closes-output-and-input", test_pipeline_cancel_closes_output_and_input);
  ag_test_add ("/pipeline/bad-input-is-refused", test_pipeline_bad_input_is_refused);

  return g_test_run ();
}
