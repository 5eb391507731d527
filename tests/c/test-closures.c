/* test-closures.c: the GClosure variants that language bindings use run
 * their closure as the callback variants run their function, and release
 * it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

/* What a closure saw, and whether it is gone. */
typedef struct
{
  int        n_calls;     /* atomic */
  GThread   *thread;
  AgTask    *task;        /* unowned: as it was passed */
  gboolean   had_cancellable;
  GObject   *source;      /* an await's: unowned */
  GAsyncResult *result;   /* a run's or a read's, kept to finish it */
  gboolean   finalized;
} Seen;

static void
run_work (AgTask       *task,
          GCancellable *cancellable,
          Seen         *seen)
{
  seen->thread = g_thread_self ();
  seen->task = task;
  seen->had_cancellable = G_IS_CANCELLABLE (cancellable);
  g_atomic_int_inc (&seen->n_calls);
  ag_task_return_int (task, 42);
}

static void
closure_finalized (gpointer  data,
                   GClosure *closure)
{
  ((Seen *) data)->finalized = TRUE;
}

/* A C closure, as a binding's would be: floating, and its marshaller left
 * for the library to set. */
static GClosure *
closure_new (GCallback  func,
             Seen      *seen)
{
  GClosure *closure = g_cclosure_new (func, seen, NULL);

  g_closure_add_finalize_notifier (closure, seen, closure_finalized);
  return closure;
}

static void
test_closure_task_runs_on_a_worker_and_lets_the_closure_go (AgTestFixture *fixture,
                                                            gconstpointer  data)
{
  Seen seen = { 0 };
  AgTask *task = ag_task_new_with_closure (closure_new (G_CALLBACK (run_work), &seen));
  g_autoptr(GError) error = NULL;
  GValue *value;

  g_assert_false (seen.finalized);
  value = ag_test_run_to_end (fixture, task, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ag_test_value_get_int (value), ==, 42);
  g_assert_cmpint (g_atomic_int_get (&seen.n_calls), ==, 1);
  g_assert_true (seen.thread != ag_test_main_thread ());
  g_assert_true (seen.task == task);
  g_assert_true (seen.had_cancellable);
  ag_test_value_free (value);

  /* The function's closure goes at home, at the delivery after its
   * outcome's at the latest. */
  g_object_unref (task);
  ag_test_run_until (fixture->context, seen.finalized, AG_TEST_SAFETY_MS);
}

static void
test_closure_main_task_runs_on_the_engine_thread (AgTestFixture *fixture,
                                                 gconstpointer  data)
{
  Seen seen = { 0 };
  AgTask *task = ag_task_new_main_with_closure (closure_new (G_CALLBACK (run_work), &seen));
  g_autoptr(GError) error = NULL;
  GValue *value;

  value = ag_test_run_to_end (fixture, task, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ag_test_value_get_int (value), ==, 42);
  g_assert_true (seen.thread == ag_test_main_thread ());
  g_assert_true (seen.task == task);
  ag_test_value_free (value);

  g_object_unref (task);
  g_assert_true (seen.finalized);
}

static void
await_done (GObject      *source,
            GAsyncResult *result,
            Seen         *seen)
{
  g_autoptr(GError) error = NULL;
  GValue *value = ag_job_await_finish (AG_JOB (source), result, &error);

  g_assert_no_error (error);
  g_assert_cmpint (ag_test_value_get_int (value), ==, 42);
  ag_test_value_free (value);
  seen->source = source;
  seen->thread = g_thread_self ();
  g_atomic_int_inc (&seen->n_calls);
  ag_task_return_int (AG_TASK (source), 7);
}

static void
test_closure_await_calls_back_once_and_lets_the_closure_go (AgTestFixture *fixture,
                                                            gconstpointer  data)
{
  Seen seen = { 0 };
  g_autoptr(AgJob) job = ag_job_new (fixture->engine);
  g_autoptr(AgTask) task = ag_test_task_new_int_after (5, 42);
  g_autoptr(GError) error = NULL;

  ag_job_await_with_closure (job, task, NULL, closure_new (G_CALLBACK (await_done), &seen));
  g_assert_cmpint (seen.n_calls, ==, 0);

  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (job)), AG_TEST_SAFETY_MS);
  g_assert_cmpint (ag_task_get_int (AG_TASK (job), &error), ==, 7);
  g_assert_no_error (error);
  g_assert_cmpint (seen.n_calls, ==, 1);
  g_assert_true (seen.source == (GObject *) job);
  g_assert_true (seen.thread == ag_test_main_thread ());
  g_assert_true (seen.finalized);
}

static void
ready (GObject      *source,
       GAsyncResult *result,
       Seen         *seen)
{
  seen->source = source;
  seen->thread = g_thread_self ();
  /* Kept for the test to finish, then dropped: a GTask holds its source. */
  g_set_object (&seen->result, result);
  g_atomic_int_inc (&seen->n_calls);
}

static GAsyncResult *
result_of (Seen *seen)
{
  return seen->result;
}

static void
test_closure_channel_write_and_read_call_back_and_let_go (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  Seen wrote = { 0 }, got = { 0 };
  g_autoptr(AgChannel) channel = ag_channel_new (2);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_auto(GValue) item = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;

  g_value_init (&item, G_TYPE_INT);
  g_value_set_int (&item, 5);
  ag_channel_write_with_closure (channel, &item, NULL, closure_new (G_CALLBACK (ready), &wrote));
  ag_test_run_until (fixture->context, wrote.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_true (wrote.source == (GObject *) channel);
  g_assert_true (ag_channel_write_finish (channel, result_of (&wrote), &error));
  g_clear_object (&wrote.result);
  g_assert_no_error (error);
  g_assert_true (wrote.finalized);

  ag_channel_reader_read_with_closure (reader, 1, -1, NULL, closure_new (G_CALLBACK (ready), &got));
  ag_test_run_until (fixture->context, got.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_true (got.source == (GObject *) reader);
  items = ag_channel_reader_read_finish (reader, result_of (&got), &error);
  g_clear_object (&got.result);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 1);
  g_assert_cmpint (g_value_get_int (&g_array_index (items, GValue, 0)), ==, 5);
  g_assert_true (got.finalized);
  g_assert_true (got.thread == ag_test_main_thread ());
}

static void
test_closure_engine_run_calls_back_and_lets_go (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  Seen seen = { 0 };
  g_autoptr(AgTask) task = ag_test_task_new_int_after (1, 42);
  g_autoptr(GError) error = NULL;
  GValue *value;

  ag_engine_run_with_closure (fixture->engine, task, NULL, closure_new (G_CALLBACK (ready), &seen));
  ag_test_run_until (fixture->context, seen.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_true (seen.source == (GObject *) fixture->engine);
  value = ag_engine_run_finish (fixture->engine, result_of (&seen), &error);
  g_clear_object (&seen.result);
  g_assert_no_error (error);
  g_assert_cmpint (ag_test_value_get_int (value), ==, 42);
  ag_test_value_free (value);
  g_assert_true (seen.finalized);
}

static void
test_closure_slot_run_calls_back_and_lets_go (AgTestFixture *fixture,
                                              gconstpointer  data)
{
  Seen seen = { 0 };
  g_autoptr(AgSlot) slot = ag_slot_new (fixture->engine);
  g_autoptr(AgTask) task = ag_test_task_new_int_after (1, 42);
  g_autoptr(GError) error = NULL;
  GValue *value;

  ag_slot_run_with_closure (slot, task, NULL, closure_new (G_CALLBACK (ready), &seen));
  ag_test_run_until (fixture->context, seen.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_true (seen.source == (GObject *) slot);
  value = ag_slot_run_finish (slot, result_of (&seen), &error);
  g_clear_object (&seen.result);
  g_assert_no_error (error);
  g_assert_cmpint (ag_test_value_get_int (value), ==, 42);
  ag_test_value_free (value);
  g_assert_true (seen.finalized);
}

static void
answer_range (AgChunk  *chunk,
              guint     position,
              guint     n_items,
              Seen     *seen)
{
  g_atomic_int_inc (&seen->n_calls);
  for (guint i = position; i < position + n_items; i++)
    ag_chunk_return_uint (chunk, i * 2);
}

static void
test_closure_map_ranges_answers_every_child_and_lets_go (AgTestFixture *fixture,
                                                         gconstpointer  data)
{
  Seen seen = { 0 };
  AgMultiTask *multi = ag_multi_task_new_map_ranges_with_closure (
    1000, closure_new (G_CALLBACK (answer_range), &seen));
  g_autoptr(GError) error = NULL;
  GValue *value;
  GArray *values;

  value = ag_test_run_to_end (fixture, AG_TASK (multi), &error);
  g_assert_no_error (error);
  values = g_value_get_boxed (value);
  g_assert_cmpuint (values->len, ==, 1000);
  for (guint i = 0; i < 1000; i++)
    g_assert_cmpuint (g_value_get_uint (&g_array_index (values, GValue, i)), ==, i * 2);
  g_assert_cmpint (g_atomic_int_get (&seen.n_calls), >=, 1);
  ag_test_value_free (value);

  g_object_unref (multi);
  g_assert_true (seen.finalized);
}

/* A closure whose call will never come is released all the same: an
 * await or a run ended by the disposal of the engine, the requests of a
 * slot that was dropped. */
static void
never_called (GObject      *source,
              GAsyncResult *result,
              Seen         *seen)
{
  g_atomic_int_inc (&seen->n_calls);
}

static void
test_closure_never_called_is_released (AgTestFixture *fixture,
                                       gconstpointer  data)
{
  Seen awaited = { 0 }, run = { 0 }, running = { 0 }, waiting = { 0 };
  g_autoptr(AgJob) job = ag_job_new (fixture->engine);
  g_autoptr(AgTask) slow = ag_test_task_new_int_after (300, 1);
  g_autoptr(AgTask) also_slow = ag_test_task_new_int_after (300, 2);
  g_autoptr(AgTask) in_slot = ag_test_task_new_int_after (300, 3);
  g_autoptr(AgTask) later = ag_test_task_new_int_after (0, 4);
  AgSlot *slot = ag_slot_new (fixture->engine);

  ag_slot_run_with_closure (slot, in_slot, NULL, closure_new (G_CALLBACK (never_called), &running));
  ag_slot_set_debounce_ms (slot, 1000);
  ag_slot_run_with_closure (slot, later, NULL, closure_new (G_CALLBACK (never_called), &waiting));
  g_object_unref (slot);
  g_assert_true (waiting.finalized);

  ag_job_await_with_closure (job, slow, NULL, closure_new (G_CALLBACK (never_called), &awaited));
  ag_engine_run_with_closure (fixture->engine, also_slow, NULL,
                              closure_new (G_CALLBACK (never_called), &run));
  ag_test_run_for (fixture->context, 20);
  g_clear_object (&fixture->engine);

  g_assert_true (awaited.finalized);
  g_assert_true (run.finalized);
  ag_test_run_for (fixture->context, 20);
  g_assert_true (running.finalized);
  g_assert_cmpint (awaited.n_calls + run.n_calls + running.n_calls + waiting.n_calls, ==, 0);
  ag_engine_join_disposed (AG_TEST_SAFETY_MS);
}

static void
double_item (AgChunk      *chunk,
             const GValue *item,
             Seen         *seen)
{
  g_atomic_int_inc (&seen->n_calls);
  ag_chunk_return_uint64 (chunk, g_value_get_uint64 (item) * 2);
}

static void
test_closure_pipeline_stages_run_and_let_go (AgTestFixture *fixture,
                                             gconstpointer  data)
{
  Seen first = { 0 }, second = { 0 };
  AgPipeline *range = ag_pipeline_new_range_with_closure (
    5, closure_new (G_CALLBACK (double_item), &first));
  AgPipeline *stage = ag_pipeline_add_stage_with_closure (
    range, 4, closure_new (G_CALLBACK (double_item), &second));
  g_autoptr(AgChannelReader) output = ag_pipeline_open_output (stage, 8);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;

  ag_engine_run_async (fixture->engine, AG_TASK (stage), NULL, NULL, NULL);
  items = ag_channel_reader_read (output, 5, AG_TEST_SAFETY_MS, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 5);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpuint (g_value_get_uint64 (&g_array_index (items, GValue, i)), ==, i * 4);
  /* Read past the last output: the pipeline ends. */
  g_clear_pointer (&items, g_array_unref);
  items = ag_channel_reader_read (output, 1, AG_TEST_SAFETY_MS, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 0);
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (stage)), AG_TEST_SAFETY_MS);
  g_assert_cmpint (ag_task_get_state (AG_TASK (stage)), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (g_atomic_int_get (&first.n_calls), ==, 5);
  g_assert_cmpint (g_atomic_int_get (&second.n_calls), ==, 5);

  g_object_unref (stage);
  g_object_unref (range);
  ag_test_run_for (fixture->context, 10);
  g_assert_true (first.finalized);
  g_assert_true (second.finalized);
}

static void
add_one (AgChannelTransform *transform,
         const GValue       *value,
         Seen               *seen)
{
  g_auto(GValue) more = G_VALUE_INIT;

  g_atomic_int_inc (&seen->n_calls);
  g_value_init (&more, G_TYPE_INT);
  g_value_set_int (&more, g_value_get_int (value) + 1);
  ag_channel_transform_return_value (transform, &more);
}

static void
test_closure_transforms_run_and_let_go (AgTestFixture *fixture,
                                        gconstpointer  data)
{
  Seen on_write = { 0 }, on_read = { 0 };
  AgChannel *channel = ag_channel_new (4);
  AgChannelReader *reader;
  g_auto(GValue) item = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;

  ag_channel_set_write_transform_with_closure (channel,
                                               closure_new (G_CALLBACK (add_one), &on_write));
  ag_channel_set_read_transform_with_closure (channel,
                                              closure_new (G_CALLBACK (add_one), &on_read));
  reader = ag_channel_open_reader (channel);
  g_value_init (&item, G_TYPE_INT);
  g_value_set_int (&item, 40);
  g_assert_true (ag_channel_write (channel, &item, 0, &error));
  items = ag_channel_reader_read (reader, 1, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_value_get_int (&g_array_index (items, GValue, 0)), ==, 42);
  g_assert_cmpint (on_write.n_calls + on_read.n_calls, ==, 2);

  g_object_unref (reader);
  g_object_unref (channel);
  /* A notification on its way holds the channel's core until it ran. */
  ag_test_run_for (fixture->context, 10);
  g_assert_true (on_write.finalized);
  g_assert_true (on_read.finalized);
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/closures/task-runs-on-a-worker-and-lets-the-closure-go",
               test_closure_task_runs_on_a_worker_and_lets_the_closure_go);
  ag_test_add ("/closures/main-task-runs-on-the-engine-thread",
               test_closure_main_task_runs_on_the_engine_thread);
  ag_test_add ("/closures/await-calls-back-once-and-lets-the-closure-go",
               test_closure_await_calls_back_once_and_lets_the_closure_go);
  ag_test_add ("/closures/channel-write-and-read-call-back-and-let-go",
               test_closure_channel_write_and_read_call_back_and_let_go);
  ag_test_add ("/closures/engine-run-calls-back-and-lets-go",
               test_closure_engine_run_calls_back_and_lets_go);
  ag_test_add ("/closures/slot-run-calls-back-and-lets-go",
               test_closure_slot_run_calls_back_and_lets_go);
  ag_test_add ("/closures/never-called-is-released",
               test_closure_never_called_is_released);
  ag_test_add ("/closures/pipeline-stages-run-and-let-go",
               test_closure_pipeline_stages_run_and_let_go);
  ag_test_add ("/closures/transforms-run-and-let-go",
               test_closure_transforms_run_and_let_go);
  ag_test_add ("/closures/map-ranges-answers-every-child-and-lets-go",
               test_closure_map_ranges_answers_every_child_and_lets_go);

  return g_test_run ();
}
