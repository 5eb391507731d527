/* test-multi-task.c: AgMultiTask's behaviour
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <time.h>

#include "test-util.h"


/* The values a finished MultiTask holds, as ints, in order. */
static GArray *
values_as_ints (const GValue *value)
{
  GArray *values, *ints;

  g_assert_nonnull (value);
  g_assert_true (G_VALUE_HOLDS (value, G_TYPE_ARRAY));
  values = g_value_get_boxed (value);
  g_assert_nonnull (values);

  ints = g_array_new (FALSE, FALSE, sizeof (int));
  for (guint i = 0; i < values->len; i++)
    {
      int v = ag_test_value_get_int (&g_array_index (values, GValue, i));

      g_array_append_val (ints, v);
    }

  return ints;
}

static void
assert_ints (GArray    *ints,
             const int *expected,
             guint      n_expected)
{
  g_assert_cmpuint (ints->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    g_assert_cmpint (g_array_index (ints, int, i), ==, expected[i]);
}

typedef struct
{
  GArray *positions;      /* in the order task-done announced them */
  GArray *child_values;   /* read with get_child_value in the handler */
  guint   n_child_errors;
} DoneLog;

static void
record_task_done (AgMultiTask *multi,
                  guint        position,
                  gpointer     user_data)
{
  DoneLog *log = user_data;
  GValue value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_thread_self () == ag_test_main_thread ());
  g_array_append_val (log->positions, position);

  if (ag_multi_task_get_child_value (multi, position, &value, &error))
    {
      int v = ag_test_value_get_int (&value);

      g_array_append_val (log->child_values, v);
      g_value_unset (&value);
    }
  else
    {
      g_assert_nonnull (error);
      log->n_child_errors++;
    }
}

static void
done_log_init (DoneLog *log)
{
  log->positions = g_array_new (FALSE, FALSE, sizeof (guint));
  log->child_values = g_array_new (FALSE, FALSE, sizeof (int));
  log->n_child_errors = 0;
}

static void
done_log_clear (DoneLog *log)
{
  g_array_unref (log->positions);
  g_array_unref (log->child_values);
}

/* Builds a MultiTask of sleeping thread tasks; child i sleeps msecs[i] and
 * returns i, or fails when failing[i]. */
static AgMultiTask *
multi_of_sleepers (const guint    *msecs,
                   const gboolean *failing,
                   guint           n,
                   AgTask        **children)
{
  AgMultiTask *multi = ag_multi_task_new ();

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *message = g_strdup_printf ("child %u failed", i);
      AgTask *child;

      if (failing != NULL && failing[i])
        child = ag_test_task_new_error_after (msecs[i], TEST_ERROR, (int) i, message);
      else
        child = ag_test_task_new_int_after (msecs[i], (int) i);
      ag_multi_task_add (multi, child);
      if (children != NULL)
        children[i] = g_object_ref (child);
      g_object_unref (child);
    }

  return multi;
}

/* Ordered results and errors */

static void
test_ordered_results_follow_list_order (AgTestFixture *fixture,
                                        gconstpointer  data)
{
  const guint msecs[] = { 300, 100, 200 };
  const int expected[] = { 0, 1, 2 };
  AgMultiTask *multi;
  AgTestOutcome outcome;
  g_autoptr(GArray) ints = NULL;
  g_autoptr(GArray) from_getter = NULL;
  GValue getter_value = G_VALUE_INIT;

  ag_engine_set_max_threads (fixture->engine, 8);
  multi = multi_of_sleepers (msecs, NULL, 3, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (multi)), ==, 3);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_no_error (outcome.error);
  g_assert_true (outcome.thread == ag_test_main_thread ());
  ints = values_as_ints (outcome.value);
  assert_ints (ints, expected, G_N_ELEMENTS (expected));

  g_value_init (&getter_value, G_TYPE_ARRAY);
  g_value_set_boxed (&getter_value, ag_multi_task_get_values (multi));
  from_getter = values_as_ints (&getter_value);
  assert_ints (from_getter, expected, G_N_ELEMENTS (expected));
  g_value_unset (&getter_value);

  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpuint (ag_multi_task_get_n_finished (multi), ==, 3);
  g_assert_cmpuint (ag_multi_task_get_n_failed (multi), ==, 0);

  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

static void
test_first_failure_arrives_after_all_children_finished (AgTestFixture *fixture,
                                                        gconstpointer  data)
{
  const guint msecs[] = { 300, 100, 200 };
  const gboolean failing[] = { FALSE, TRUE, FALSE };
  AgTask *children[3];
  AgMultiTask *multi;
  AgTestOutcome outcome;
  gint64 start;
  double elapsed_ms;

  ag_engine_set_max_threads (fixture->engine, 8);
  multi = multi_of_sleepers (msecs, failing, 3, children);

  ag_test_outcome_init (&outcome, fixture->engine);
  start = g_get_monotonic_time ();
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  elapsed_ms = (outcome.time_us - start) / 1000.0;
  g_test_message ("error arrived after %.0f ms", elapsed_ms);

  /* The middle child failed at ~100 ms; the error waits for the 300 ms
   * child. */
  g_assert_cmpfloat (elapsed_ms, >=, 290);
  g_assert_error (outcome.error, TEST_ERROR, 1);
  g_assert_cmpstr (outcome.error->message, ==, "child 1 failed");
  g_assert_null (outcome.value);
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_FAILED);
  g_assert_cmpuint (ag_multi_task_get_n_finished (multi), ==, 3);
  g_assert_cmpuint (ag_multi_task_get_n_failed (multi), ==, 1);

  g_assert_cmpint (ag_task_get_state (children[0]), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_task_get_state (children[1]), ==, AG_TASK_FAILED);
  g_assert_cmpint (ag_task_get_state (children[2]), ==, AG_TASK_SUCCEEDED);

  for (guint i = 0; i < 3; i++)
    g_object_unref (children[i]);
  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

static void
test_first_failure_is_the_first_in_list_order (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  /* Child 2 fails first in time, child 1 first in the list. */
  const guint msecs[] = { 50, 300, 50 };
  const gboolean failing[] = { FALSE, TRUE, TRUE };
  AgMultiTask *multi;
  AgTestOutcome outcome;

  ag_engine_set_max_threads (fixture->engine, 8);
  multi = multi_of_sleepers (msecs, failing, 3, NULL);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_error (outcome.error, TEST_ERROR, 1);
  g_assert_cmpuint (ag_multi_task_get_n_failed (multi), ==, 2);

  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

static void
test_skip_errors_keeps_order_without_failures (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  const guint msecs[] = { 300, 100, 200 };
  const gboolean failing[] = { FALSE, TRUE, FALSE };
  const int expected[] = { 0, 2 };
  AgMultiTask *multi;
  AgTestOutcome outcome;
  g_autoptr(GArray) ints = NULL;

  ag_engine_set_max_threads (fixture->engine, 8);
  multi = multi_of_sleepers (msecs, failing, 3, NULL);
  ag_multi_task_set_skip_errors (multi, TRUE);
  g_assert_true (ag_multi_task_get_skip_errors (multi));

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_no_error (outcome.error);
  ints = values_as_ints (outcome.value);
  assert_ints (ints, expected, G_N_ELEMENTS (expected));
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpuint (ag_multi_task_get_n_finished (multi), ==, 3);
  g_assert_cmpuint (ag_multi_task_get_n_failed (multi), ==, 1);

  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

static void
test_empty_multi_succeeds_with_no_values (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  AgMultiTask *multi = ag_multi_task_new ();
  AgTestOutcome outcome;
  g_autoptr(GArray) ints = NULL;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_no_error (outcome.error);
  ints = values_as_ints (outcome.value);
  g_assert_cmpuint (ints->len, ==, 0);

  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

/* Concurrency */

static double
run_four_300ms_children (AgTestFixture *fixture,
                         guint          max_workers)
{
  const guint msecs[] = { 300, 300, 300, 300 };
  const int expected[] = { 0, 1, 2, 3 };
  AgMultiTask *multi;
  AgTestOutcome outcome;
  g_autoptr(GArray) ints = NULL;
  gint64 start;
  double elapsed_ms;

  /* Enough threads that only max-workers limits the children. */
  ag_engine_set_max_threads (fixture->engine, 8);
  ag_test_reset_worker_counts ();
  multi = multi_of_sleepers (msecs, NULL, 4, NULL);
  ag_multi_task_set_max_workers (multi, max_workers);
  g_assert_cmpuint (ag_multi_task_get_max_workers (multi), ==, max_workers);

  ag_test_outcome_init (&outcome, fixture->engine);
  start = g_get_monotonic_time ();
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  elapsed_ms = (outcome.time_us - start) / 1000.0;

  g_test_message ("max-workers %u: %.0f ms, at most %d at once", max_workers, elapsed_ms,
                  g_atomic_int_get (&ag_test_max_in_worker));
  g_assert_no_error (outcome.error);
  ints = values_as_ints (outcome.value);
  assert_ints (ints, expected, G_N_ELEMENTS (expected));

  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);

  return elapsed_ms;
}

static void
test_max_workers_limits_children_running_at_once (AgTestFixture *fixture,
                                                  gconstpointer  data)
{
  double elapsed_ms = run_four_300ms_children (fixture, 2);

  g_assert_cmpint (g_atomic_int_get (&ag_test_max_in_worker), ==, 2);
  g_assert_cmpfloat (elapsed_ms, >=, 550);
  g_assert_cmpfloat (elapsed_ms, <, 1500);
}

static void
test_no_worker_limit_runs_children_together (AgTestFixture *fixture,
                                             gconstpointer  data)
{
  double elapsed_ms = run_four_300ms_children (fixture, 0);

  g_assert_cmpint (g_atomic_int_get (&ag_test_max_in_worker), ==, 4);
  g_assert_cmpfloat (elapsed_ms, >=, 290);
  g_assert_cmpfloat (elapsed_ms, <, 550);
}

/* task-done */

static void
test_unordered_task_done_follows_completion_order (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  const guint msecs[] = { 500, 100, 300 };   /* a, b, c */
  const int expected[] = { 0, 1, 2 };
  AgMultiTask *multi;
  AgTestOutcome outcome;
  DoneLog log;
  g_autoptr(GArray) ints = NULL;

  done_log_init (&log);
  ag_engine_set_max_threads (fixture->engine, 8);
  multi = multi_of_sleepers (msecs, NULL, 3, NULL);
  ag_multi_task_set_unordered (multi, TRUE);
  g_assert_true (ag_multi_task_get_unordered (multi));
  g_signal_connect (multi, "task-done", G_CALLBACK (record_task_done), &log);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  /* b, c, a */
  g_assert_cmpuint (log.positions->len, ==, 3);
  g_assert_cmpuint (g_array_index (log.positions, guint, 0), ==, 1);
  g_assert_cmpuint (g_array_index (log.positions, guint, 1), ==, 2);
  g_assert_cmpuint (g_array_index (log.positions, guint, 2), ==, 0);
  g_assert_cmpuint (log.child_values->len, ==, 3);
  g_assert_cmpint (g_array_index (log.child_values, int, 0), ==, 1);
  g_assert_cmpint (g_array_index (log.child_values, int, 1), ==, 2);
  g_assert_cmpint (g_array_index (log.child_values, int, 2), ==, 0);

  /* The value stays in list order. */
  g_assert_no_error (outcome.error);
  ints = values_as_ints (outcome.value);
  assert_ints (ints, expected, G_N_ELEMENTS (expected));

  done_log_clear (&log);
  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

static void
test_ordered_task_done_follows_list_order (AgTestFixture *fixture,
                                           gconstpointer  data)
{
  const guint msecs[] = { 300, 100, 200 };
  const gboolean failing[] = { FALSE, FALSE, TRUE };
  AgMultiTask *multi;
  AgTestOutcome outcome;
  DoneLog log;

  done_log_init (&log);
  ag_engine_set_max_threads (fixture->engine, 8);
  multi = multi_of_sleepers (msecs, failing, 3, NULL);
  g_signal_connect (multi, "task-done", G_CALLBACK (record_task_done), &log);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_cmpuint (log.positions->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (g_array_index (log.positions, guint, i), ==, i);
  g_assert_cmpuint (log.child_values->len, ==, 2);
  g_assert_cmpint (g_array_index (log.child_values, int, 0), ==, 0);
  g_assert_cmpint (g_array_index (log.child_values, int, 1), ==, 1);
  g_assert_cmpuint (log.n_child_errors, ==, 1);
  g_assert_error (outcome.error, TEST_ERROR, 2);

  done_log_clear (&log);
  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  guint *n = user_data;

  (*n)++;
}

static void
test_counts_and_progress_track_children (AgTestFixture *fixture,
                                         gconstpointer  data)
{
  guint msecs[10];
  gboolean failing[10];
  AgMultiTask *multi;
  AgTestOutcome outcome;
  guint n_progress = 0, n_finished = 0;

  for (guint i = 0; i < 10; i++)
    {
      msecs[i] = 20 * (i + 1);
      failing[i] = (i % 4 == 3);
    }

  ag_engine_set_max_threads (fixture->engine, 4);
  multi = multi_of_sleepers (msecs, failing, 10, NULL);
  ag_multi_task_set_skip_errors (multi, TRUE);
  g_signal_connect (multi, "notify::progress", G_CALLBACK (count_notify), &n_progress);
  g_signal_connect (multi, "notify::n-finished", G_CALLBACK (count_notify), &n_finished);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 50);

  g_assert_no_error (outcome.error);
  g_assert_cmpuint (ag_multi_task_get_n_finished (multi), ==, 10);
  g_assert_cmpuint (ag_multi_task_get_n_failed (multi), ==, 2);
  g_assert_cmpfloat (ag_task_get_progress (AG_TASK (multi)), ==, 1.0);
  g_assert_cmpuint (n_progress, >=, 1);
  /* At most one per delivery: one per child, plus one for the start. */
  g_assert_cmpuint (n_progress, <=, 11);
  g_assert_cmpuint (n_finished, >=, 1);
  g_assert_cmpuint (n_finished, <=, 11);

  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

static void
test_list_model_exposes_the_children (AgTestFixture *fixture,
                                      gconstpointer  data)
{
  const guint msecs[] = { 30, 10, 20 };
  AgTask *children[3];
  AgMultiTask *multi;
  AgTestOutcome outcome;

  multi = multi_of_sleepers (msecs, NULL, 3, children);
  g_assert_true (g_type_is_a (g_list_model_get_item_type (G_LIST_MODEL (multi)), AG_TYPE_TASK));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (multi)), ==, 3);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(AgTask) item = g_list_model_get_item (G_LIST_MODEL (multi), i);

      g_assert_true (item == children[i]);
      g_assert_cmpint (ag_task_get_state (item), ==, AG_TASK_SUCCEEDED);
      g_assert_cmpint (ag_task_get_int (item, NULL), ==, (int) i);
      g_object_unref (children[i]);
    }
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (multi), 3));

  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

static void
test_cancel_ends_multi_promptly (AgTestFixture *fixture,
                                 gconstpointer  data)
{
  const guint msecs[] = { 1000, 1000, 1000 };
  AgMultiTask *multi;
  AgTestOutcome outcome;
  gint64 cancelled_at;

  ag_engine_set_max_threads (fixture->engine, 8);
  multi = multi_of_sleepers (msecs, NULL, 3, NULL);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_for (fixture->context, 100);

  cancelled_at = g_get_monotonic_time ();
  ag_task_cancel (AG_TASK (multi));
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_cmpfloat ((outcome.time_us - cancelled_at) / 1000.0, <, 200);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_CANCELLED);

  /* Past the children's second: nothing more arrives. */
  ag_test_run_for (fixture->context, 1100);
  g_assert_cmpuint (outcome.n_calls, ==, 1);
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_CANCELLED);

  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

/* The results stream */

typedef struct
{
  AgMultiTask *multi;
  GArray      *positions;       /* guint, in the order read */
  GArray      *finished_then;   /* gboolean per position: was the task final? */
  gboolean     drained;
  gboolean     reading;
} ResultsLog;

static void read_results (AgChannelReader *reader,
                          ResultsLog      *log);

static void
results_read (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  ResultsLog *log = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;

  items = ag_channel_reader_read_finish (AG_CHANNEL_READER (source), result, &error);
  g_assert_no_error (error);
  log->reading = FALSE;

  if (items->len == 0)
    {
      g_assert_true (ag_channel_reader_is_drained (AG_CHANNEL_READER (source)));
      log->drained = TRUE;
      return;
    }

  for (guint i = 0; i < items->len; i++)
    {
      guint position = g_value_get_uint (&g_array_index (items, GValue, i));
      gboolean finished = ag_task_is_finished (AG_TASK (log->multi));

      g_array_append_val (log->positions, position);
      g_array_append_val (log->finished_then, finished);
    }
  read_results (AG_CHANNEL_READER (source), log);
}

/* Reads one position at a time, as an `async for` does, until the end. */
static void
read_results (AgChannelReader *reader,
              ResultsLog      *log)
{
  log->reading = TRUE;
  ag_channel_reader_read_async (reader, 1, -1, NULL, results_read, log);
}

static void
results_log_init (ResultsLog  *log,
                  AgMultiTask *multi)
{
  log->multi = multi;
  log->positions = g_array_new (FALSE, FALSE, sizeof (guint));
  log->finished_then = g_array_new (FALSE, FALSE, sizeof (gboolean));
  log->drained = FALSE;
}

static void
results_log_clear (ResultsLog *log)
{
  g_array_unref (log->positions);
  g_array_unref (log->finished_then);
}

static void
assert_positions (GArray      *positions,
                  const guint *expected,
                  guint        n)
{
  g_assert_cmpuint (positions->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (g_array_index (positions, guint, i), ==, expected[i]);
}

static void
test_results_stream_gives_children_as_they_finish (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  const guint msecs[] = { 500, 100, 300 };
  const guint expected[] = { 1, 2, 0 };
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  ResultsLog log;

  ag_engine_set_max_threads (fixture->engine, 8);
  multi = multi_of_sleepers (msecs, NULL, 3, NULL);
  ag_multi_task_set_unordered (multi, TRUE);
  reader = ag_multi_task_open_results (multi);
  results_log_init (&log, multi);

  read_results (reader, &log);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, NULL, NULL);
  ag_test_run_until (fixture->context, log.drained, AG_TEST_SAFETY_MS);

  assert_positions (log.positions, expected, G_N_ELEMENTS (expected));
  /* Each came while the others still ran, not all at the end. */
  g_assert_false (g_array_index (log.finished_then, gboolean, 0));
  g_assert_false (g_array_index (log.finished_then, gboolean, 1));
  /* The end comes once the task is final. */
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_SUCCEEDED);

  results_log_clear (&log);
}

static void
test_results_stream_follows_list_order_unless_unordered (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  const guint msecs[] = { 300, 100, 200 };
  const gboolean failing[] = { FALSE, FALSE, TRUE };
  const guint expected[] = { 0, 1, 2 };
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  ResultsLog log;

  ag_engine_set_max_threads (fixture->engine, 8);
  multi = multi_of_sleepers (msecs, failing, 3, NULL);
  reader = ag_multi_task_open_results (multi);
  results_log_init (&log, multi);

  read_results (reader, &log);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, NULL, NULL);
  ag_test_run_until (fixture->context, log.drained, AG_TEST_SAFETY_MS);

  /* The failed child is announced too; the task tells how it all ended. */
  assert_positions (log.positions, expected, G_N_ELEMENTS (expected));
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_FAILED);
  g_assert_error (ag_task_get_error (AG_TASK (multi)), TEST_ERROR, 2);

  results_log_clear (&log);
}

static void parse_and_double (AgChunk  *chunk,
                              gpointer  item,
                              gpointer  user_data);
static GPtrArray *numbered_inputs (guint n);

/* Every child of a large map once, failed ones included, in list order. */
static void
test_results_stream_of_a_map_has_every_child_once (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  g_autoptr(GPtrArray) inputs = numbered_inputs (1000);
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  ResultsLog log;

  multi = ag_multi_task_new_map (inputs, parse_and_double, NULL, NULL);
  ag_multi_task_set_skip_errors (multi, TRUE);
  reader = ag_multi_task_open_results (multi);
  results_log_init (&log, multi);

  read_results (reader, &log);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, NULL, NULL);
  ag_test_run_until (fixture->context, log.drained, AG_TEST_SAFETY_MS);

  g_assert_cmpuint (log.positions->len, ==, 1000);
  for (guint i = 0; i < 1000; i++)
    g_assert_cmpuint (g_array_index (log.positions, guint, i), ==, i);
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpuint (ag_multi_task_get_n_failed (multi), ==, 143);

  results_log_clear (&log);
}

static void
test_results_stream_ends_when_cancelled (AgTestFixture *fixture,
                                         gconstpointer  data)
{
  const guint msecs[] = { 50, 5000, 5000 };
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(AgChannelReader) reader = NULL;
  ResultsLog log;

  ag_engine_set_max_threads (fixture->engine, 8);
  multi = multi_of_sleepers (msecs, NULL, 3, NULL);
  reader = ag_multi_task_open_results (multi);
  results_log_init (&log, multi);

  read_results (reader, &log);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, NULL, NULL);
  ag_test_run_until (fixture->context, log.positions->len == 1, AG_TEST_SAFETY_MS);
  g_assert_false (log.drained);

  ag_task_cancel (AG_TASK (multi));
  ag_test_run_until (fixture->context, log.drained, 1000);
  g_assert_cmpuint (log.positions->len, ==, 1);
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_CANCELLED);

  results_log_clear (&log);
}

/* The reader of a MultiTask that is dropped unrun sees the end, rather
 * than waiting for ever. */
static void
test_results_stream_of_a_multi_never_run_ends (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  AgMultiTask *multi = ag_multi_task_new ();
  g_autoptr(AgChannelReader) reader = ag_multi_task_open_results (multi);
  ResultsLog log;

  results_log_init (&log, multi);
  read_results (reader, &log);
  g_object_unref (multi);
  ag_test_run_until (fixture->context, log.drained, AG_TEST_SAFETY_MS);
  g_assert_cmpuint (log.positions->len, ==, 0);

  results_log_clear (&log);
}

static void
test_results_opened_after_the_run_started_are_refused (AgTestFixture *fixture,
                                                       gconstpointer  data)
{
  const guint msecs[] = { 10 };
  g_autoptr(AgMultiTask) multi = multi_of_sleepers (msecs, NULL, 1, NULL);

  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, NULL, NULL);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*open its results before*");
  g_assert_null (ag_multi_task_open_results (multi));
  g_test_assert_expected_messages ();

  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (multi)),
                     AG_TEST_SAFETY_MS);
}

/* Mapping */

#define N_MAP_INPUTS 1000

static void
parse_and_double (AgChunk  *chunk,
                  gpointer  item,
                  gpointer  user_data)
{
  int n = atoi (item);

  if (n % 7 == 3)
    {
      ag_chunk_return_new_error (chunk, TEST_ERROR, n, "input %d is unlucky", n);
      return;
    }

  ag_chunk_return_int (chunk, 2 * n);
}

/* The value of a skip-errors map over N_MAP_INPUTS inputs where input i
 * fails when i % 7 == 3: the doubled others, in order. Returns how many. */
static guint
assert_doubled_without_every_seventh (const GValue *value)
{
  g_autoptr(GArray) ints = values_as_ints (value);
  guint j = 0;

  for (int i = 0; i < N_MAP_INPUTS; i++)
    {
      if (i % 7 == 3)
        continue;
      g_assert_cmpuint (j, <, ints->len);
      g_assert_cmpint (g_array_index (ints, int, j), ==, 2 * i);
      j++;
    }
  g_assert_cmpuint (ints->len, ==, j);

  return j;
}

static GPtrArray *
numbered_inputs (guint n)
{
  GPtrArray *inputs = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (inputs, g_strdup_printf ("%u", i));

  return inputs;
}

static void
assert_children_are_final (AgMultiTask *multi,
                           guint        n)
{
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (multi)), ==, n);

  for (guint i = 0; i < n; i += (i < 50 ? 1 : 37))
    {
      g_autoptr(AgTask) child = g_list_model_get_item (G_LIST_MODEL (multi), i);

      g_assert_true (AG_IS_TASK (child));
      g_assert_true (ag_task_is_finished (child));
      if (i % 7 == 3)
        {
          g_assert_cmpint (ag_task_get_state (child), ==, AG_TASK_FAILED);
          g_assert_error (ag_task_get_error (child), TEST_ERROR, (int) i);
        }
      else
        {
          g_assert_cmpint (ag_task_get_state (child), ==, AG_TASK_SUCCEEDED);
          g_assert_cmpint (ag_task_get_int (child, NULL), ==, 2 * (int) i);
        }
    }
}

static void
test_map_array_skip_errors_gives_ordered_values (AgTestFixture *fixture,
                                                 gconstpointer  data)
{
  g_autoptr(GPtrArray) inputs = numbered_inputs (N_MAP_INPUTS);
  AgMultiTask *multi;
  AgTestOutcome outcome;
  guint j;

  multi = ag_multi_task_new_map (inputs, parse_and_double, NULL, NULL);
  ag_multi_task_set_skip_errors (multi, TRUE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (multi)), ==, N_MAP_INPUTS);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_no_error (outcome.error);
  j = assert_doubled_without_every_seventh (outcome.value);
  g_assert_cmpuint (ag_multi_task_get_n_finished (multi), ==, N_MAP_INPUTS);
  g_assert_cmpuint (ag_multi_task_get_n_failed (multi), ==, N_MAP_INPUTS - j);

  assert_children_are_final (multi, N_MAP_INPUTS);

  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

/* A list view fetches rows before the run and while it goes on; rows whose
 * child succeeds before any child has failed settle without complaint. */
static void
test_rows_fetched_before_and_during_a_map_settle_quietly (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  g_autoptr(GPtrArray) inputs = numbered_inputs (N_MAP_INPUTS);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_object_unref);
  AgMultiTask *multi;
  AgTestOutcome outcome;

  multi = ag_multi_task_new_map (inputs, parse_and_double, NULL, NULL);
  ag_multi_task_set_skip_errors (multi, TRUE);
  ag_multi_task_set_max_workers (multi, 1);
  for (guint i = 0; i < 8; i++)
    g_ptr_array_add (rows, g_list_model_get_item (G_LIST_MODEL (multi), i));

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  for (guint i = 8; i < N_MAP_INPUTS; i += 5)
    {
      g_ptr_array_add (rows, g_list_model_get_item (G_LIST_MODEL (multi), i));
      g_main_context_iteration (fixture->context, FALSE);
    }
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_no_error (outcome.error);
  for (guint i = 0; i < 8; i++)
    {
      AgTask *row = g_ptr_array_index (rows, i);

      g_assert_cmpint (ag_task_get_state (row), ==,
                       i % 7 == 3 ? AG_TASK_FAILED : AG_TASK_SUCCEEDED);
      if (i % 7 != 3)
        g_assert_cmpint (ag_task_get_int (row, NULL), ==, 2 * (int) i);
    }
  assert_children_are_final (multi, N_MAP_INPUTS);

  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

static void
double_int (AgChunk  *chunk,
            gpointer  item,
            gpointer  user_data)
{
  ag_chunk_return_int (chunk, 2 * atoi (item));
}

/* Every row of @multi, asked for only now, has ended: a child that did
 * not finish before the MultiTask ended early is cancelled; one that did
 * has its value. Returns how many were cancelled. */
static guint
assert_late_rows_are_final (AgMultiTask *multi)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (multi));
  guint n_cancelled = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(AgTask) row = g_list_model_get_item (G_LIST_MODEL (multi), i);

      g_assert_true (ag_task_is_finished (row));
      if (ag_task_get_state (row) == AG_TASK_CANCELLED)
        n_cancelled++;
      else
        g_assert_cmpint (ag_task_get_int (row, NULL), ==, 2 * (int) i);
    }

  return n_cancelled;
}

/* A view that scrolls to rows after the user pressed Cancel: they end
 * cancelled, never left running. */
static void
test_rows_fetched_after_a_cancel_are_final (AgTestFixture *fixture,
                                           gconstpointer  data)
{
  g_autoptr(GPtrArray) inputs = numbered_inputs (N_MAP_INPUTS);
  g_autoptr(AgMultiTask) multi = ag_multi_task_new_map (inputs, double_int, NULL, NULL);
  g_autoptr(AgMultiTask) never_run = ag_multi_task_new_map (inputs, double_int, NULL, NULL);
  AgTestOutcome outcome;

  ag_multi_task_set_max_workers (multi, 1);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_task_cancel (AG_TASK (multi));
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  ag_test_outcome_clear (&outcome);

  g_assert_cmpuint (assert_late_rows_are_final (multi), >, 0);

  /* Cancelled before it ran: it ends as it is run. */
  ag_task_cancel (AG_TASK (never_run));
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (never_run), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  ag_test_outcome_clear (&outcome);
  g_assert_cmpuint (assert_late_rows_are_final (never_run), ==, N_MAP_INPUTS);
}

/* The same when the MultiTask ended with its engine (a window's engine
 * disposed with the window): no row is left running. */
static void
test_rows_fetched_after_the_engine_went_are_final (AgTestFixture *fixture,
                                                  gconstpointer  data)
{
  g_autoptr(GPtrArray) inputs = numbered_inputs (N_MAP_INPUTS);
  g_autoptr(AgMultiTask) multi = ag_multi_task_new_map (inputs, double_int, NULL, NULL);
  AgEngine *engine = ag_engine_new_for_context (fixture->context);

  ag_multi_task_set_max_workers (multi, 1);
  ag_engine_run_async (engine, AG_TASK (multi), NULL, NULL, NULL);
  g_main_context_iteration (fixture->context, FALSE);
  g_object_unref (engine);
  g_assert_true (ag_task_is_finished (AG_TASK (multi)));

  g_assert_cmpuint (assert_late_rows_are_final (multi), >, 0);
}

static void
count_destroy (gpointer data)
{
  g_atomic_int_inc ((int *) data);
}

static void
test_map_array_gives_ordered_values (AgTestFixture *fixture,
                                     gconstpointer  data)
{
  g_autoptr(GPtrArray) inputs = numbered_inputs (N_MAP_INPUTS);
  g_autoptr(GArray) ints = NULL;
  int n_destroyed = 0;
  AgMultiTask *multi;
  AgTestOutcome outcome;

  multi = ag_multi_task_new_map (inputs, double_int, &n_destroyed, count_destroy);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_no_error (outcome.error);
  ints = values_as_ints (outcome.value);
  g_assert_cmpuint (ints->len, ==, N_MAP_INPUTS);
  for (int i = 0; i < N_MAP_INPUTS; i++)
    g_assert_cmpint (g_array_index (ints, int, i), ==, 2 * i);
  g_assert_cmpfloat (ag_task_get_progress (AG_TASK (multi)), ==, 1.0);

  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
  ag_test_run_until (fixture->context, g_atomic_int_get (&n_destroyed) == 1, 2000);
}

static void
test_map_array_fails_with_first_failure_in_list_order (AgTestFixture *fixture,
                                                       gconstpointer  data)
{
  g_autoptr(GPtrArray) inputs = numbered_inputs (100);
  AgMultiTask *multi;
  AgTestOutcome outcome;

  multi = ag_multi_task_new_map (inputs, parse_and_double, NULL, NULL);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_error (outcome.error, TEST_ERROR, 3);
  g_assert_cmpstr (outcome.error->message, ==, "input 3 is unlucky");
  g_assert_null (outcome.value);
  g_assert_cmpuint (ag_multi_task_get_n_finished (multi), ==, 100);
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_FAILED);

  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

static void
parse_file_name (AgChunk  *chunk,
                 gpointer  item,
                 gpointer  user_data)
{
  g_autofree char *name = NULL;

  g_assert_true (G_IS_FILE (item));
  name = g_file_get_basename (item);
  parse_and_double (chunk, name, user_data);
}

static void
test_map_model_skip_errors_gives_ordered_values (AgTestFixture *fixture,
                                                 gconstpointer  data)
{
  g_autoptr(GListStore) store = g_list_store_new (G_TYPE_FILE);
  AgMultiTask *multi;
  AgTestOutcome outcome;

  for (int i = 0; i < N_MAP_INPUTS; i++)
    {
      g_autofree char *path = g_strdup_printf ("/nonexistent/asyncgui/%d", i);
      g_autoptr(GFile) file = g_file_new_for_path (path);

      g_list_store_append (store, file);
    }

  multi = ag_multi_task_new_map_model (G_LIST_MODEL (store), parse_file_name, NULL, NULL);
  ag_multi_task_set_skip_errors (multi, TRUE);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_no_error (outcome.error);
  assert_doubled_without_every_seventh (outcome.value);

  assert_children_are_final (multi, N_MAP_INPUTS);

  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

static void
count_items_changed (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     gpointer    user_data)
{
  int *n_items = user_data;

  *n_items += (int) added - (int) removed;
}

static void
append_files (GListStore *store,
              guint       n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = g_strdup_printf ("/nonexistent/asyncgui/%u", i);
      g_autoptr(GFile) file = g_file_new_for_path (path);

      g_list_store_append (store, file);
    }
}

/* Until it runs, a map over a model has the model's length: a view bound
 * to it follows the model's changes through items-changed, as GListModel
 * requires. From the run on, its length stays. */
static void
test_map_model_follows_its_inputs_until_it_runs (AgTestFixture *fixture,
                                                 gconstpointer  data)
{
  g_autoptr(GListStore) store = g_list_store_new (G_TYPE_FILE);
  g_autoptr(AgMultiTask) multi = NULL;
  AgTestOutcome outcome;
  int tracked;

  g_autoptr(GFile) forty = g_file_new_for_path ("/nonexistent/asyncgui/40");
  g_autoptr(AgTask) row_of_one = NULL;
  g_autoptr(AgTask) row_of_four = NULL;
  g_autoptr(AgTask) row_of_forty = NULL;

  append_files (store, 6);
  multi = ag_multi_task_new_map_model (G_LIST_MODEL (store), parse_file_name, NULL, NULL);
  tracked = (int) g_list_model_get_n_items (G_LIST_MODEL (multi));
  g_signal_connect (multi, "items-changed", G_CALLBACK (count_items_changed), &tracked);
  /* Rows a view holds, as a GtkListView does. */
  row_of_one = g_list_model_get_item (G_LIST_MODEL (multi), 1);
  row_of_four = g_list_model_get_item (G_LIST_MODEL (multi), 4);

  append_files (store, 2);
  g_assert_cmpint (tracked, ==, 8);
  g_list_store_splice (store, 2, 4, NULL, 0);
  g_assert_cmpint (tracked, ==, 4);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (multi)), ==, 4);
  /* The row of a removed input ends; the others move with their inputs. */
  g_assert_cmpint (ag_task_get_state (row_of_four), ==, AG_TASK_CANCELLED);
  g_list_store_insert (store, 0, forty);
  g_assert_cmpint (tracked, ==, 5);
  g_assert_true (g_list_model_get_item (G_LIST_MODEL (multi), 2) == (gpointer) row_of_one);
  g_object_unref (row_of_one);
  row_of_forty = g_list_model_get_item (G_LIST_MODEL (multi), 0);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  append_files (store, 4);
  g_assert_cmpint (tracked, ==, 5);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (multi)), ==, 5);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (multi)), ==, 5);
  /* Each held row shows its own input's outcome. */
  g_assert_cmpint (g_value_get_int (ag_task_get_value (row_of_one)), ==, 2);
  g_assert_cmpint (g_value_get_int (ag_task_get_value (row_of_forty)), ==, 80);
  ag_test_outcome_clear (&outcome);
}

static void
file_name (AgChunk  *chunk,
           gpointer  item,
           gpointer  user_data)
{
  g_autofree char *name = g_file_get_basename (item);

  ag_chunk_return_string (chunk, name);
}

/* The model is edited while the map runs (a GListStore the user changes):
 * each child keeps the input it had when the run started. */
static void
test_map_model_edited_while_it_runs_keeps_each_childs_input (AgTestFixture *fixture,
                                                            gconstpointer  data)
{
  g_autoptr(GListStore) store = g_list_store_new (G_TYPE_FILE);
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(GFile) newcomer = g_file_new_for_path ("/nonexistent/asyncgui/new");

  append_files (store, 40);
  multi = ag_multi_task_new_map_model (G_LIST_MODEL (store), file_name, NULL, NULL);
  ag_multi_task_set_max_workers (multi, 1);
  ag_multi_task_set_max_chunk_size (multi, 1);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, NULL, NULL);
  g_list_store_insert (store, 0, newcomer);
  g_list_store_splice (store, 20, 21, NULL, 0);
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (multi)), AG_TEST_SAFETY_MS);

  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (multi)), ==, 40);
  for (guint i = 0; i < 40; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_autofree char *expected = g_strdup_printf ("%u", i);

      g_assert_true (ag_multi_task_get_child_value (multi, i, &value, NULL));
      g_assert_cmpstr (g_value_get_string (&value), ==, expected);
    }
}

static void
identity_int (AgChunk  *chunk,
              gpointer  item,
              gpointer  user_data)
{
  ag_chunk_return_int (chunk, GPOINTER_TO_INT (item));
}

static double
thread_cpu_ms (void)
{
  struct timespec ts;

  g_assert_cmpint (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts), ==, 0);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1000000.0;
}

static void
test_map_many_inputs_starts_cheaply (AgTestFixture *fixture,
                                     gconstpointer  data)
{
  const guint n = 200000;
  g_autoptr(GPtrArray) inputs = g_ptr_array_sized_new (n);
  AgMultiTask *multi;
  AgTestOutcome outcome;
  GArray *values;
  gint64 start;
  double cpu_start_ms, setup_ms;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (inputs, GINT_TO_POINTER (i + 1));

  /* What the GUI thread pays is its own CPU time; wall time would also
   * count whatever else the machine is doing. */
  start = g_get_monotonic_time ();
  cpu_start_ms = thread_cpu_ms ();
  multi = ag_multi_task_new_map (inputs, identity_int, NULL, NULL);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  setup_ms = thread_cpu_ms () - cpu_start_ms;
  g_test_message ("new_map + run_async of %u inputs: %.2f ms of CPU, %.2f ms of wall time",
                  n, setup_ms, ag_test_elapsed_ms (start));

  /* Generous: creating 200k children up front would take far longer. */
  g_assert_cmpfloat (setup_ms, <, 50);

  ag_test_run_until (fixture->context, outcome.n_calls > 0, 60000);
  g_test_message ("all %u mapped after %.0f ms", n, ag_test_elapsed_ms (start));
  g_assert_no_error (outcome.error);
  values = g_value_get_boxed (outcome.value);
  g_assert_cmpuint (values->len, ==, n);
  g_assert_cmpint (g_value_get_int (&g_array_index (values, GValue, 0)), ==, 1);
  g_assert_cmpint (g_value_get_int (&g_array_index (values, GValue, n - 1)), ==, (int) n);

  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

static void
sleep_a_millisecond (AgChunk  *chunk,
                     gpointer  item,
                     gpointer  user_data)
{
  g_usleep (G_TIME_SPAN_MILLISECOND);
  ag_chunk_return_int (chunk, GPOINTER_TO_INT (item));
}

static void
count_task_done (AgMultiTask *multi,
                 guint        position,
                 gpointer     user_data)
{
  guint *n = user_data;

  (*n)++;
}

/* A handler that stops at the first match cancels the MultiTask: no
 * task-done follows, though the rest of a finished chunk was delivered
 * with it, and the results stream ends there too. */
typedef struct
{
  guint            n_done;
  guint            n_after_cancel;
  gboolean         cancelled;
} StopAtFive;

static void
square_position (AgChunk  *chunk,
                 guint     position,
                 gpointer  user_data)
{
  ag_chunk_return_uint (chunk, position * position);
}

static void
stop_at_five (AgMultiTask *multi,
              guint        position,
              gpointer     user_data)
{
  StopAtFive *stop = user_data;

  stop->n_done++;
  stop->n_after_cancel += stop->cancelled;
  if (position == 5 && !stop->cancelled)
    {
      stop->cancelled = TRUE;
      ag_task_cancel (AG_TASK (multi));
    }
}

static void
test_cancelled_from_task_done_announces_nothing_more (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = ag_multi_task_new_map_range (1000, square_position, NULL, NULL);
  g_autoptr(AgChannelReader) results = NULL;
  g_autoptr(GArray) positions = NULL;
  StopAtFive stop = { 0 };

  g_signal_connect (multi, "task-done", G_CALLBACK (stop_at_five), &stop);
  results = ag_multi_task_open_results (multi);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, NULL, NULL);
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (multi)), AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 50);

  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_CANCELLED);
  g_assert_cmpuint (stop.n_after_cancel, ==, 0);
  g_assert_cmpuint (stop.n_done, ==, 6);
  positions = ag_channel_reader_read (results, 2000, 0, NULL);
  g_assert_cmpuint (positions->len, ==, 6);
}

/* A task-done handler of a map of trivial inputs is called within the
 * delivery budget too: the children of one run (tens of thousands, sized
 * for the workers) are not all announced in one main-loop iteration. */
typedef struct
{
  GSource  source;
  gint64   spent_us;      /* in handlers, this iteration */
  gint64   worst_us;
} IterationClock;

static gboolean
iteration_starts (GSource *source,
                  int     *timeout)
{
  IterationClock *clock = (IterationClock *) source;

  clock->worst_us = MAX (clock->worst_us, clock->spent_us);
  clock->spent_us = 0;
  *timeout = -1;
  return FALSE;
}

static GSourceFuncs iteration_clock_funcs = { iteration_starts, NULL, NULL, NULL, NULL, NULL };

static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* Counted in the thread's processor time: a shared machine that preempts
 * the thread inside a handler must not count against the library. */
static void
spend_ten_microseconds (AgMultiTask *multi,
                        guint        position,
                        gpointer     user_data)
{
  IterationClock *clock = user_data;
  gint64 start = g_get_monotonic_time ();
  gint64 cpu_start = thread_cpu_us ();

  while (g_get_monotonic_time () - start < 10)
    ;
  clock->spent_us += thread_cpu_us () - cpu_start;
}

static void
test_task_done_of_a_big_map_keeps_to_the_budget (AgTestFixture *fixture,
                                                 gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = ag_multi_task_new_map_range (100000, square_position, NULL, NULL);
  GSource *source = g_source_new (&iteration_clock_funcs, sizeof (IterationClock));
  IterationClock *clock = (IterationClock *) source;

  g_source_attach (source, fixture->context);
  g_signal_connect (multi, "task-done", G_CALLBACK (spend_ten_microseconds), clock);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, NULL, NULL);
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (multi)), 60000);
  ag_test_run_for (fixture->context, 10);

  g_test_message ("most time in task-done handlers in one iteration: %.1f ms",
                  clock->worst_us / 1000.0);
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (clock->worst_us, <, 50 * 1000);
  g_source_destroy (source);
  g_source_unref (source);
}

/* One slow input holds back the announcements of every input after it;
 * when it ends, they are announced within the budget too, not all in one
 * iteration. */
static void
square_position_slow_first (AgChunk  *chunk,
                            guint     position,
                            gpointer  user_data)
{
  if (position == 0)
    g_usleep (300 * G_TIME_SPAN_MILLISECOND);
  ag_chunk_return_uint (chunk, position * position);
}

static void
count_and_spend (AgMultiTask *multi,
                 guint        position,
                 gpointer     user_data)
{
  IterationClock *clock = user_data;
  guint *expected = g_object_get_data (G_OBJECT (multi), "expected");

  g_assert_cmpuint (position, ==, (*expected)++);
  spend_ten_microseconds (multi, position, clock);
}

static void
test_task_done_behind_a_slow_input_keeps_to_the_budget (AgTestFixture *fixture,
                                                        gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi =
    ag_multi_task_new_map_range (50000, square_position_slow_first, NULL, NULL);
  GSource *source = g_source_new (&iteration_clock_funcs, sizeof (IterationClock));
  IterationClock *clock = (IterationClock *) source;
  guint expected = 0;

  g_object_set_data (G_OBJECT (multi), "expected", &expected);
  g_source_attach (source, fixture->context);
  g_signal_connect (multi, "task-done", G_CALLBACK (count_and_spend), clock);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, NULL, NULL);
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (multi)), 60000);
  ag_test_run_for (fixture->context, 10);

  g_test_message ("most time in task-done handlers in one iteration: %.1f ms",
                  clock->worst_us / 1000.0);
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpuint (expected, ==, 50000);
  g_assert_cmpint (clock->worst_us, <, 50 * 1000);
  g_source_destroy (source);
  g_source_unref (source);
}

/* A task-done handler that disposes the engine (the window closes) ends
 * the MultiTask there: nothing of it runs on, nothing is used freed, also
 * when only the engine held it. */
typedef struct
{
  AgEngine *engine;
  guint     n_done;
  guint     n_after;
} DisposeInHandler;

static void
dispose_engine_at_the_third (AgMultiTask *multi,
                             guint        position,
                             gpointer     user_data)
{
  DisposeInHandler *state = user_data;

  if (state->engine == NULL)
    {
      state->n_after++;
      return;
    }
  if (++state->n_done == 3)
    {
      g_object_run_dispose (G_OBJECT (state->engine));
      g_clear_object (&state->engine);
    }
}

static void
test_engine_disposed_in_a_task_done_handler_ends_the_map_there (void)
{
  for (int kept = 0; kept < 2; kept++)
    {
      g_autoptr(GMainContext) context = g_main_context_new ();
      DisposeInHandler state = { ag_engine_new_for_context (context) };
      g_autoptr(AgMultiTask) multi = ag_multi_task_new_map_range (20000, square_position, NULL, NULL);
      GWeakRef weak;

      g_weak_ref_init (&weak, multi);
      g_signal_connect (multi, "task-done", G_CALLBACK (dispose_engine_at_the_third), &state);
      ag_engine_run_async (state.engine, AG_TASK (multi), NULL, NULL, NULL);
      if (!kept)
        g_clear_object (&multi);

      ag_test_run_until (context, state.engine == NULL, AG_TEST_SAFETY_MS);
      ag_test_run_for (context, 50);
      g_assert_cmpuint (state.n_after, ==, 0);
      if (kept)
        g_assert_true (ag_task_is_finished (AG_TASK (multi)));
      g_clear_object (&multi);
      g_assert_null (g_weak_ref_get (&weak));
      g_weak_ref_clear (&weak);
    }
}

/* Children go to a MultiTask made with ag_multi_task_new(), before it
 * runs, and so does opening its results: each mistake says which it is. */
static void
test_late_or_misplaced_children_and_results_are_criticals (AgTestFixture *fixture,
                                                           gconstpointer  data)
{
  g_autoptr(AgMultiTask) map = ag_multi_task_new_map_range (3, square_position, NULL, NULL);
  g_autoptr(AgMultiTask) list = ag_multi_task_new ();
  g_autoptr(AgTask) child = ag_task_new_sleep (0);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*maps its inputs*");
  ag_multi_task_add (map, child);
  g_test_assert_expected_messages ();

  ag_test_value_free (ag_test_run_to_end (fixture, AG_TASK (list), NULL));
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*has been run already*");
  ag_multi_task_add (list, child);
  g_test_assert_expected_messages ();
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*has been run already*");
  g_assert_null (ag_multi_task_open_results (list));
  g_test_assert_expected_messages ();
}

static void
test_dispose_engine_with_map_in_flight_runs_no_callback (AgTestFixture *fixture,
                                                         gconstpointer  data)
{
  g_autoptr(GPtrArray) inputs = g_ptr_array_new ();
  AgEngine *engine = fixture->engine;
  AgMultiTask *multi;
  AgTestOutcome outcome;
  guint n_done = 0, n_done_at_dispose;

  for (guint i = 0; i < 5000; i++)
    g_ptr_array_add (inputs, GINT_TO_POINTER (i + 1));

  multi = ag_multi_task_new_map (inputs, sleep_a_millisecond, NULL, NULL);
  g_signal_connect (multi, "task-done", G_CALLBACK (count_task_done), &n_done);
  ag_test_outcome_init (&outcome, engine);
  ag_engine_run_async (engine, AG_TASK (multi), NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_for (fixture->context, 100);
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_RUNNING);

  g_object_add_weak_pointer (G_OBJECT (engine), (gpointer *) &engine);
  g_clear_object (&fixture->engine);
  g_assert_null (engine);
  n_done_at_dispose = n_done;
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_CANCELLED);

  ag_test_run_for (fixture->context, 500);
  g_assert_cmpuint (outcome.n_calls, ==, 0);
  g_assert_cmpuint (n_done, ==, n_done_at_dispose);
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_CANCELLED);

  g_object_unref (multi);
}

static void
map_on_which_thread (AgChunk  *chunk,
                     gpointer  item,
                     gpointer  user_data)
{
  int *off_main = user_data;

  if (g_thread_self () != ag_test_main_thread ())
    g_atomic_int_set (off_main, 1);
  ag_chunk_return_int (chunk, GPOINTER_TO_INT (item));
}

static void
test_map_in_serial_mode_runs_on_engine_thread (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  g_autoptr(GPtrArray) inputs = g_ptr_array_new ();
  g_autoptr(GArray) ints = NULL;
  int off_main = 0;
  AgMultiTask *multi;
  AgTestOutcome outcome;

  for (guint i = 0; i < 500; i++)
    g_ptr_array_add (inputs, GINT_TO_POINTER (i + 1));

  ag_engine_set_max_threads (fixture->engine, 0);
  multi = ag_multi_task_new_map (inputs, map_on_which_thread, &off_main, NULL);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_no_error (outcome.error);
  g_assert_false (g_atomic_int_get (&off_main));
  ints = values_as_ints (outcome.value);
  g_assert_cmpuint (ints->len, ==, 500);
  for (guint i = 0; i < 500; i++)
    g_assert_cmpint (g_array_index (ints, int, i), ==, (int) i + 1);

  ag_test_outcome_clear (&outcome);
  g_object_unref (multi);
}

/* Bad input */

static void
test_add_after_start_is_rejected (AgTestFixture *fixture,
                                  gconstpointer  data)
{
  const guint msecs[] = { 100 };
  const int expected[] = { 0 };
  AgMultiTask *multi;
  AgTestOutcome outcome;
  AgTask *late = ag_test_task_new_int_after (10, 99);
  g_autoptr(GArray) ints = NULL;

  multi = multi_of_sleepers (msecs, NULL, 1, NULL);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*");
  ag_multi_task_add (multi, late);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (multi)), ==, 1);

  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);
  ints = values_as_ints (outcome.value);
  assert_ints (ints, expected, G_N_ELEMENTS (expected));
  g_assert_cmpint (ag_task_get_state (late), ==, AG_TASK_PENDING);

  ag_test_outcome_clear (&outcome);
  g_object_unref (late);
  g_object_unref (multi);
}

/* A child that runs already, or has finished, when the MultiTask reaches
 * it is waited for, never run again, and keeps its place in the list. */
static void
test_child_run_or_finished_elsewhere_keeps_its_place (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = ag_multi_task_new ();
  g_autoptr(AgTask) finished = ag_test_task_new_int_after (0, 1);
  g_autoptr(AgTask) running = ag_test_task_new_int_after (50, 2);
  g_autoptr(AgTask) pending = ag_test_task_new_int_after (0, 3);
  AgTestOutcome finished_outcome, running_outcome, outcome;
  GArray *values;

  ag_test_outcome_init (&finished_outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, finished, NULL, ag_test_outcome_callback,
                       &finished_outcome);
  ag_test_run_until (fixture->context, finished_outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  ag_test_outcome_init (&running_outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, running, NULL, ag_test_outcome_callback,
                       &running_outcome);

  ag_multi_task_add (multi, running);
  ag_multi_task_add (multi, finished);
  ag_multi_task_add (multi, pending);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (multi)), ==, 3);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);
  values = g_value_get_boxed (outcome.value);
  g_assert_cmpuint (values->len, ==, 3);
  g_assert_cmpint (ag_test_value_get_int (&g_array_index (values, GValue, 0)), ==, 2);
  g_assert_cmpint (ag_test_value_get_int (&g_array_index (values, GValue, 1)), ==, 1);
  g_assert_cmpint (ag_test_value_get_int (&g_array_index (values, GValue, 2)), ==, 3);
  /* The task that ran it heard of it once, as ever. */
  g_assert_cmpuint (running_outcome.n_calls, ==, 1);

  ag_test_outcome_clear (&outcome);
  ag_test_outcome_clear (&running_outcome);
  ag_test_outcome_clear (&finished_outcome);
}

static int counted_runs;

static void
count_run_then_return (AgTask       *task,
                       gpointer      user_data,
                       GCancellable *cancellable)
{
  g_atomic_int_inc (&counted_runs);
  g_usleep (20 * G_TIME_SPAN_MILLISECOND);
  ag_task_return_int (task, GPOINTER_TO_INT (user_data));
}

/* Runs @multi on the fixture's engine, its outcome going to @outcome. */
static void
start_multi (AgTestFixture *fixture,
             AgMultiTask   *multi,
             AgTestOutcome *outcome)
{
  ag_test_outcome_init (outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       outcome);
}

/* Waits for the MultiTask started with @outcome to succeed; returns its
 * values as ints. */
static GArray *
finish_multi_ints (AgTestFixture *fixture,
                   AgTestOutcome *outcome)
{
  GArray *ints;

  ag_test_run_until (fixture->context, outcome->n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome->error);
  ints = values_as_ints (outcome->value);
  ag_test_outcome_clear (outcome);
  return ints;
}

/* A task may be a child of several MultiTasks, and at several positions
 * of one: it runs once, and every position takes its outcome. */
static void
test_a_task_may_be_a_child_of_several_multi_tasks_and_places (AgTestFixture *fixture,
                                                              gconstpointer  data)
{
  g_autoptr(AgTask) shared = ag_task_new (count_run_then_return, GINT_TO_POINTER (7), NULL);
  g_autoptr(AgTask) other = ag_task_new (count_run_then_return, GINT_TO_POINTER (1), NULL);
  g_autoptr(AgMultiTask) first = ag_multi_task_new ();
  g_autoptr(AgMultiTask) second = ag_multi_task_new ();
  g_autoptr(AgMultiTask) later = ag_multi_task_new ();
  g_autoptr(GArray) first_ints = NULL;
  g_autoptr(GArray) second_ints = NULL;
  g_autoptr(GArray) later_ints = NULL;
  AgTestOutcome first_outcome, second_outcome, later_outcome;
  const int twice[] = { 7, 7, 1 };
  const int once[] = { 1, 7 };

  counted_runs = 0;
  ag_multi_task_add (first, shared);
  ag_multi_task_add (first, shared);
  ag_multi_task_add (first, other);
  ag_multi_task_add (second, other);
  ag_multi_task_add (second, shared);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (first)), ==, 3);

  /* Both run at once: each child runs once, for both. */
  start_multi (fixture, first, &first_outcome);
  start_multi (fixture, second, &second_outcome);
  first_ints = finish_multi_ints (fixture, &first_outcome);
  second_ints = finish_multi_ints (fixture, &second_outcome);
  assert_ints (first_ints, twice, G_N_ELEMENTS (twice));
  assert_ints (second_ints, once, G_N_ELEMENTS (once));
  g_assert_cmpint (counted_runs, ==, 2);

  /* Finished, they go in a third as they ended. */
  ag_multi_task_add (later, other);
  ag_multi_task_add (later, shared);
  start_multi (fixture, later, &later_outcome);
  later_ints = finish_multi_ints (fixture, &later_outcome);
  assert_ints (later_ints, once, G_N_ELEMENTS (once));
  g_assert_cmpint (counted_runs, ==, 2);
}

static void
test_map_with_null_func_is_rejected (void)
{
  g_autoptr(GPtrArray) inputs = numbered_inputs (3);
  AgMultiTask *multi;

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*");
  multi = ag_multi_task_new_map (inputs, NULL, NULL, NULL);
  g_test_assert_expected_messages ();
  g_assert_null (multi);
}

/* Values that own memory (strings) take the path that frees them one by
 * one; numbers skip it. Both must outlive the MultiTask in the array. */
static void
echo_string (AgChunk  *chunk,
             gpointer  item,
             gpointer  user_data)
{
  g_autofree char *echo = NULL;

  if (atoi (item) % 10 == 7)
    {
      ag_chunk_return_new_error (chunk, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s ends in 7",
                                 (char *) item);
      return;
    }

  echo = g_strdup_printf ("item %s", (char *) item);
  ag_chunk_return_string (chunk, echo);
}

static void
test_map_string_values_outlive_the_multi (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  g_autoptr(GPtrArray) inputs = numbered_inputs (1000);
  AgMultiTask *multi;
  AgTestOutcome outcome;
  GArray *values;
  g_auto(GValue) child = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  multi = ag_multi_task_new_map (inputs, echo_string, NULL, NULL);
  ag_multi_task_set_skip_errors (multi, TRUE);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_no_error (outcome.error);
  g_assert_cmpuint (ag_multi_task_get_n_failed (multi), ==, 100);

  /* Children keep their own positions after the failures are skipped. */
  g_assert_true (ag_multi_task_get_child_value (multi, 8, &child, &error));
  g_assert_cmpstr (g_value_get_string (&child), ==, "item 8");
  g_value_unset (&child);
  g_assert_false (ag_multi_task_get_child_value (multi, 7, &child, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);

  g_object_unref (multi);

  values = g_value_get_boxed (outcome.value);
  g_assert_cmpuint (values->len, ==, 900);
  g_assert_cmpstr (g_value_get_string (&g_array_index (values, GValue, 0)), ==, "item 0");
  g_assert_cmpstr (g_value_get_string (&g_array_index (values, GValue, 7)), ==, "item 8");
  g_assert_cmpstr (g_value_get_string (&g_array_index (values, GValue, 899)), ==, "item 999");

  ag_test_outcome_clear (&outcome);
}

static void
slow_string (AgChunk  *chunk,
             gpointer  item,
             gpointer  user_data)
{
  g_usleep (2000);
  ag_chunk_return_string (chunk, item);
}

/* Values made before a cancel are nobody's to see; they must be freed, not
 * leaked and not read (this test is for the sanitizer and valgrind runs). */
static void
test_cancel_map_mid_flight_frees_what_was_made (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  g_autoptr(GPtrArray) inputs = numbered_inputs (400);
  g_autoptr(AgMultiTask) multi = ag_multi_task_new_map (inputs, slow_string, NULL, NULL);
  AgTestOutcome outcome;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, ag_multi_task_get_n_finished (multi) >= 20,
                     AG_TEST_SAFETY_MS);
  ag_task_cancel (AG_TASK (multi));
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_CANCELLED);
  g_assert_null (ag_multi_task_get_values (multi));

  /* Chunks still on workers come back and are released. */
  ag_test_run_for (fixture->context, 100);
  ag_test_outcome_clear (&outcome);
}

/* A short map of inputs that block */

typedef struct
{
  GMutex  lock;
  GCond   changed;
  guint   n_arrived;
  guint   n_expected;
  guint   n_met;      /* inputs that saw every other one arrive */
} MapRendezvous;

/* Waits, blocked, until every input of the map runs at once, or gives up
 * after a while. */
static void
meet_every_input (AgChunk  *chunk,
                  guint     position,
                  gpointer  user_data)
{
  MapRendezvous *r = user_data;
  gint64 deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  gboolean met;

  g_mutex_lock (&r->lock);
  r->n_arrived++;
  g_cond_broadcast (&r->changed);
  while (r->n_arrived < r->n_expected && g_cond_wait_until (&r->changed, &r->lock, deadline))
    ;
  met = r->n_arrived >= r->n_expected;
  r->n_met += met;
  g_mutex_unlock (&r->lock);

  ag_chunk_return_boolean (chunk, met);
}

/* Eight inputs of a map that each wait until all eight run (as downloads
 * wait for the network) all start with max-threads 2: a short map runs
 * every input at once, and the engine adds threads for blocked ones. */
static void
test_multi_task_short_map_of_blocking_inputs_runs_them_all_at_once (AgTestFixture *fixture,
                                                                   gconstpointer  data)
{
  MapRendezvous r = { .n_expected = 8 };
  g_autoptr(AgMultiTask) multi = NULL;
  AgTestOutcome outcome;

  g_mutex_init (&r.lock);
  g_cond_init (&r.changed);
  ag_engine_set_max_threads (fixture->engine, 2);
  multi = ag_multi_task_new_map_range (r.n_expected, meet_every_input, &r, NULL);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS * 2);

  g_assert_no_error (outcome.error);
  g_assert_cmpuint (r.n_met, ==, r.n_expected);

  ag_test_outcome_clear (&outcome);
  g_mutex_clear (&r.lock);
  g_cond_clear (&r.changed);
}

/* A long map of inputs that block */

typedef struct
{
  gboolean  compute;     /* inputs compute instead of blocking */
  int       running;     /* atomic */
  int       most;        /* atomic: the most that ran at once */
} Overlap;

static void
block_a_while (Overlap *overlap)
{
  int now = g_atomic_int_add (&overlap->running, 1) + 1;
  int most = g_atomic_int_get (&overlap->most);

  while (now > most && !g_atomic_int_compare_and_exchange (&overlap->most, most, now))
    most = g_atomic_int_get (&overlap->most);
  if (overlap->compute)
    {
      gint64 end = g_get_monotonic_time () + 20 * G_TIME_SPAN_MILLISECOND;

      while (g_get_monotonic_time () < end)
        ;
    }
  else
    g_usleep (100 * G_TIME_SPAN_MILLISECOND);
  g_atomic_int_add (&overlap->running, -1);
}

static void
block_one (AgChunk  *chunk,
           guint     position,
           gpointer  user_data)
{
  block_a_while (user_data);
  ag_chunk_return_int (chunk, (int) position);
}

static void
block_each_of_a_range (AgChunk  *chunk,
                       guint     position,
                       guint     n_items,
                       gpointer  user_data)
{
  for (guint i = 0; i < n_items; i++)
    {
      block_a_while (user_data);
      ag_chunk_return_int (chunk, (int) (position + i));
    }
}

/* Runs a map of @n inputs, a function per input or per range, and
 * returns the most inputs that ran at once. */
static int
run_overlapping_map (AgTestFixture *fixture,
                     guint          n,
                     gboolean       ranges,
                     gboolean       compute)
{
  Overlap overlap = { compute, 0, 0 };
  g_autoptr(AgMultiTask) multi = NULL;
  AgTestOutcome outcome;
  GArray *values;

  multi = ranges ? ag_multi_task_new_map_ranges (n, block_each_of_a_range, &overlap, NULL)
                 : ag_multi_task_new_map_range (n, block_one, &overlap, NULL);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS * 2);

  g_assert_no_error (outcome.error);
  values = g_value_get_boxed (outcome.value);
  g_assert_cmpuint (values->len, ==, n);
  ag_test_outcome_clear (&outcome);
  g_test_message ("%s, %s: at most %d inputs at once", ranges ? "ranges" : "range",
                  compute ? "computing" : "blocking", g_atomic_int_get (&overlap.most));

  return g_atomic_int_get (&overlap.most);
}

/* A map longer than the engine could start at once, of inputs that each
 * block for 100 ms (I/O): once its runs show that an input is a run's
 * worth of time spent waiting, its inputs go one per run, as many at a
 * time as the engine could start, and those that block no longer wait
 * behind a few blocked threads (2 x max-threads). Inputs that compute
 * keep that limit, so that a row wanted meanwhile soon starts. Checked
 * for a function per input and per range (the bindings' kind). */
static void
test_multi_task_long_map_of_blocking_inputs_runs_many_at_once (AgTestFixture *fixture,
                                                               gconstpointer  data)
{
  ag_engine_set_max_threads (fixture->engine, 2);
  ag_engine_set_max_blocked_threads (fixture->engine, 10);

  for (guint ranges = 0; ranges < 2; ranges++)
    {
      g_assert_cmpint (run_overlapping_map (fixture, 40, ranges, FALSE), >, 2 * 2);
      g_assert_cmpint (run_overlapping_map (fixture, 40, ranges, TRUE), <=, 2 * 2);
    }
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/multi-task/ordered-results-follow-list-order",
               test_ordered_results_follow_list_order);
  ag_test_add ("/multi-task/first-failure-arrives-after-all-children-finished",
               test_first_failure_arrives_after_all_children_finished);
  ag_test_add ("/multi-task/first-failure-is-the-first-in-list-order",
               test_first_failure_is_the_first_in_list_order);
  ag_test_add ("/multi-task/skip-errors-keeps-order-without-failures",
               test_skip_errors_keeps_order_without_failures);
  ag_test_add ("/multi-task/empty-multi-succeeds-with-no-values",
               test_empty_multi_succeeds_with_no_values);
  ag_test_add ("/multi-task/max-workers-limits-children-running-at-once",
               test_max_workers_limits_children_running_at_once);
  ag_test_add ("/multi-task/no-worker-limit-runs-children-together",
               test_no_worker_limit_runs_children_together);
  ag_test_add ("/multi-task/unordered-task-done-follows-completion-order",
               test_unordered_task_done_follows_completion_order);
  ag_test_add ("/multi-task/cancelled-from-task-done-announces-nothing-more",
               test_cancelled_from_task_done_announces_nothing_more);
  ag_test_add ("/multi-task/map-model-edited-while-it-runs-keeps-each-childs-input",
               test_map_model_edited_while_it_runs_keeps_each_childs_input);
  ag_test_add ("/multi-task/late-or-misplaced-children-and-results-are-criticals",
               test_late_or_misplaced_children_and_results_are_criticals);
  ag_test_add ("/multi-task/task-done-behind-a-slow-input-keeps-to-the-budget",
               test_task_done_behind_a_slow_input_keeps_to_the_budget);
  g_test_add_func ("/multi-task/engine-disposed-in-a-task-done-handler-ends-the-map-there",
                   test_engine_disposed_in_a_task_done_handler_ends_the_map_there);
  ag_test_add ("/multi-task/task-done-of-a-big-map-keeps-to-the-budget",
               test_task_done_of_a_big_map_keeps_to_the_budget);
  ag_test_add ("/multi-task/ordered-task-done-follows-list-order",
               test_ordered_task_done_follows_list_order);
  ag_test_add ("/multi-task/counts-and-progress-track-children",
               test_counts_and_progress_track_children);
  ag_test_add ("/multi-task/list-model-exposes-the-children",
               test_list_model_exposes_the_children);
  ag_test_add ("/multi-task/cancel-ends-multi-promptly",
               test_cancel_ends_multi_promptly);
  ag_test_add ("/multi-task/results-stream-gives-children-as-they-finish",
               test_results_stream_gives_children_as_they_finish);
  ag_test_add ("/multi-task/results-stream-follows-list-order-unless-unordered",
               test_results_stream_follows_list_order_unless_unordered);
  ag_test_add ("/multi-task/results-stream-of-a-map-has-every-child-once",
               test_results_stream_of_a_map_has_every_child_once);
  ag_test_add ("/multi-task/results-stream-ends-when-cancelled",
               test_results_stream_ends_when_cancelled);
  ag_test_add ("/multi-task/results-stream-of-a-multi-never-run-ends",
               test_results_stream_of_a_multi_never_run_ends);
  ag_test_add ("/multi-task/results-opened-after-the-run-started-are-refused",
               test_results_opened_after_the_run_started_are_refused);
  ag_test_add ("/multi-task/long-map-of-blocking-inputs-runs-many-at-once",
               test_multi_task_long_map_of_blocking_inputs_runs_many_at_once);
  ag_test_add ("/multi-task/short-map-of-blocking-inputs-runs-them-all-at-once",
               test_multi_task_short_map_of_blocking_inputs_runs_them_all_at_once);
  ag_test_add ("/multi-task/map-array-gives-ordered-values",
               test_map_array_gives_ordered_values);
  ag_test_add ("/multi-task/map-string-values-outlive-the-multi",
               test_map_string_values_outlive_the_multi);
  ag_test_add ("/multi-task/cancel-map-mid-flight-frees-what-was-made",
               test_cancel_map_mid_flight_frees_what_was_made);
  ag_test_add ("/multi-task/map-array-skip-errors-gives-ordered-values",
               test_map_array_skip_errors_gives_ordered_values);
  ag_test_add ("/multi-task/map-array-fails-with-first-failure-in-list-order",
               test_map_array_fails_with_first_failure_in_list_order);
  ag_test_add ("/multi-task/rows-fetched-after-a-cancel-are-final",
               test_rows_fetched_after_a_cancel_are_final);
  ag_test_add ("/multi-task/rows-fetched-after-the-engine-went-are-final",
               test_rows_fetched_after_the_engine_went_are_final);
  ag_test_add ("/multi-task/rows-fetched-before-and-during-a-map-settle-quietly",
               test_rows_fetched_before_and_during_a_map_settle_quietly);
  ag_test_add ("/multi-task/map-model-follows-its-inputs-until-it-runs",
               test_map_model_follows_its_inputs_until_it_runs);
  ag_test_add ("/multi-task/map-model-skip-errors-gives-ordered-values",
               test_map_model_skip_errors_gives_ordered_values);
  ag_test_add ("/multi-task/map-many-inputs-starts-cheaply",
               test_map_many_inputs_starts_cheaply);
  ag_test_add ("/multi-task/map-in-serial-mode-runs-on-engine-thread",
               test_map_in_serial_mode_runs_on_engine_thread);
  ag_test_add ("/multi-task/dispose-engine-with-map-in-flight-runs-no-callback",
               test_dispose_engine_with_map_in_flight_runs_no_callback);
  ag_test_add ("/multi-task/add-after-start-is-rejected",
               test_add_after_start_is_rejected);
  ag_test_add ("/multi-task/child-run-or-finished-elsewhere-keeps-its-place",
               test_child_run_or_finished_elsewhere_keeps_its_place);
  ag_test_add ("/multi-task/a-task-may-be-a-child-of-several-multi-tasks-and-places",
               test_a_task_may_be_a_child_of_several_multi_tasks_and_places);
  g_test_add_func ("/multi-task/map-with-null-func-is-rejected",
                   test_map_with_null_func_is_rejected);

  return g_test_run ();
}
