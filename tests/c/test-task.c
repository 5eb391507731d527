/* test-task.c: AgTask's behaviour
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"


/* Thread tasks */

static gboolean
count_tick (gpointer user_data)
{
  guint *ticks = user_data;

  (*ticks)++;
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  GThread *worker_thread;   /* atomic */
  guint    msec;
} SlowAnswer;

static void
slow_answer (AgTask       *task,
             gpointer      user_data,
             GCancellable *cancellable)
{
  SlowAnswer *answer = user_data;

  g_atomic_pointer_set (&answer->worker_thread, g_thread_self ());
  g_usleep (answer->msec * G_TIME_SPAN_MILLISECOND);
  ag_task_return_int (task, 42);
}

static void
test_thread_result_arrives_while_loop_keeps_ticking (AgTestFixture *fixture,
                                                     gconstpointer  data)
{
  SlowAnswer answer = { NULL, 300 };
  AgTestOutcome outcome;
  AgTask *task;
  guint ticks = 0, tick_id;
  gint64 start;

  tick_id = g_timeout_add (10, count_tick, &ticks);
  task = ag_task_new (slow_answer, &answer, NULL);
  ag_test_outcome_init (&outcome, fixture->engine);

  start = g_get_monotonic_time ();
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_source_remove (tick_id);

  g_test_message ("%u ticks in %.0f ms", ticks, (outcome.time_us - start) / 1000.0);
  g_assert_cmpfloat ((outcome.time_us - start) / 1000.0, >=, 290);
  /* A loop blocked for the 300 ms would tick once or twice after; a
   * loaded machine may starve the loop of half its 30, not of all. */
  g_assert_cmpuint (ticks, >=, 5);

  g_assert_true (outcome.thread == ag_test_main_thread ());
  g_assert_nonnull (g_atomic_pointer_get (&answer.worker_thread));
  g_assert_true (g_atomic_pointer_get (&answer.worker_thread) != ag_test_main_thread ());

  g_assert_no_error (outcome.error);
  g_assert_cmpint (ag_test_value_get_int (outcome.value), ==, 42);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_task_get_int (task, NULL), ==, 42);
  g_assert_null (ag_task_get_error (task));

  ag_test_run_for (fixture->context, 50);
  g_assert_cmpuint (outcome.n_calls, ==, 1);

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

static void
test_worker_error_reaches_caller_unchanged (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  AgTestOutcome outcome;
  AgTask *task;
  const GError *task_error;

  task = ag_test_task_new_error_after (50, TEST_ERROR, 17, "the frobnicator broke at 7");
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_null (outcome.value);
  g_assert_error (outcome.error, TEST_ERROR, 17);
  g_assert_cmpstr (outcome.error->message, ==, "the frobnicator broke at 7");

  task_error = ag_task_get_error (task);
  g_assert_error (task_error, TEST_ERROR, 17);
  g_assert_cmpstr (task_error->message, ==, "the frobnicator broke at 7");
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_FAILED);
  g_assert_null (ag_task_get_value (task));

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

static void
fail_with_io_error (AgTask       *task,
                    gpointer      user_data,
                    GCancellable *cancellable)
{
  ag_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                                                   "not allowed here"));
}

static void
test_returned_gerror_keeps_domain_code_and_message (AgTestFixture *fixture,
                                                    gconstpointer  data)
{
  AgTestOutcome outcome;
  AgTask *task = ag_task_new (fail_with_io_error, NULL, NULL);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_cmpstr (outcome.error->message, ==, "not allowed here");
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_FAILED);

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

typedef enum
{
  RETURN_INT,
  RETURN_BOOLEAN,
  RETURN_DOUBLE,
  RETURN_STRING,
  RETURN_VARIANT,
  RETURN_OBJECT,
  RETURN_POINTER,
  RETURN_VALUE,
  RETURN_UINT,
  RETURN_INT64,
  RETURN_UINT64,
  RETURN_ENUM,
  RETURN_FLAGS,
  RETURN_BOXED,
  N_RETURN_KINDS
} ReturnKind;

static int n_pointers_freed;   /* atomic */

static void
free_returned_pointer (gpointer pointer)
{
  g_free (pointer);
  g_atomic_int_inc (&n_pointers_freed);
}

static void
return_typed (AgTask       *task,
              gpointer      user_data,
              GCancellable *cancellable)
{
  GValue value = G_VALUE_INIT;
  GFile *file;

  switch ((ReturnKind) GPOINTER_TO_INT (user_data))
    {
    case RETURN_INT:
      ag_task_return_int (task, -12345);
      break;
    case RETURN_BOOLEAN:
      ag_task_return_boolean (task, TRUE);
      break;
    case RETURN_DOUBLE:
      ag_task_return_double (task, 2.5);
      break;
    case RETURN_STRING:
      ag_task_return_string (task, "hello from a worker");
      break;
    case RETURN_VARIANT:
      ag_task_return_variant (task, g_variant_new ("(si)", "answer", 42));
      break;
    case RETURN_OBJECT:
      file = g_file_new_for_path ("/no/such/dir/asyncgui-test");
      ag_task_return_object (task, file);
      g_object_unref (file);
      break;
    case RETURN_POINTER:
      ag_task_return_pointer (task, g_strdup ("owned by the task"), free_returned_pointer);
      break;
    case RETURN_VALUE:
      g_value_init (&value, G_TYPE_UINT64);
      g_value_set_uint64 (&value, G_GUINT64_CONSTANT (1) << 40);
      ag_task_return_value (task, &value);
      g_value_unset (&value);
      break;
    case RETURN_UINT:
      ag_task_return_uint (task, G_MAXUINT);
      break;
    case RETURN_INT64:
      ag_task_return_int64 (task, G_MININT64);
      break;
    case RETURN_UINT64:
      ag_task_return_uint64 (task, G_MAXUINT64);
      break;
    case RETURN_ENUM:
      ag_task_return_enum (task, AG_TYPE_TASK_STATE, AG_TASK_CANCELLED);
      break;
    case RETURN_FLAGS:
      ag_task_return_flags (task, G_TYPE_FILE_QUERY_INFO_FLAGS, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS);
      break;
    case RETURN_BOXED:
      {
        const char *words[] = { "boxed", "and", "copied", NULL };

        ag_task_return_boxed (task, G_TYPE_STRV, words);
      }
      break;
    case N_RETURN_KINDS:
    default:
      g_assert_not_reached ();
    }
}

static void
test_typed_returns_round_trip (AgTestFixture *fixture,
                               gconstpointer  data)
{
  AgTestOutcome outcomes[N_RETURN_KINDS];
  AgTask *tasks[N_RETURN_KINDS];
  GVariant *variant;
  g_autoptr(GVariant) child = NULL;

  g_atomic_int_set (&n_pointers_freed, 0);

  for (int kind = 0; kind < N_RETURN_KINDS; kind++)
    {
      tasks[kind] = ag_task_new (return_typed, GINT_TO_POINTER (kind), NULL);
      ag_test_outcome_init (&outcomes[kind], fixture->engine);
      ag_engine_run_async (fixture->engine, tasks[kind], NULL, ag_test_outcome_callback,
                           &outcomes[kind]);
    }

  for (int kind = 0; kind < N_RETURN_KINDS; kind++)
    {
      ag_test_run_until (fixture->context, outcomes[kind].n_calls > 0, AG_TEST_SAFETY_MS);
      g_assert_no_error (outcomes[kind].error);
      g_assert_nonnull (outcomes[kind].value);
      g_assert_cmpint (ag_task_get_state (tasks[kind]), ==, AG_TASK_SUCCEEDED);
    }

  g_assert_true (G_VALUE_HOLDS_INT (outcomes[RETURN_INT].value));
  g_assert_cmpint (ag_task_get_int (tasks[RETURN_INT], NULL), ==, -12345);

  g_assert_true (G_VALUE_HOLDS_BOOLEAN (outcomes[RETURN_BOOLEAN].value));
  g_assert_true (ag_task_get_boolean (tasks[RETURN_BOOLEAN], NULL));

  g_assert_true (G_VALUE_HOLDS_DOUBLE (outcomes[RETURN_DOUBLE].value));
  g_assert_cmpfloat (ag_task_get_double (tasks[RETURN_DOUBLE], NULL), ==, 2.5);

  g_assert_true (G_VALUE_HOLDS_STRING (outcomes[RETURN_STRING].value));
  g_assert_cmpstr (g_value_get_string (outcomes[RETURN_STRING].value), ==,
                   "hello from a worker");
  g_assert_cmpstr (ag_task_get_string (tasks[RETURN_STRING], NULL), ==, "hello from a worker");

  g_assert_true (G_VALUE_HOLDS_VARIANT (outcomes[RETURN_VARIANT].value));
  variant = ag_task_get_variant (tasks[RETURN_VARIANT], NULL);
  g_assert_nonnull (variant);
  g_assert_cmpstr (g_variant_get_type_string (variant), ==, "(si)");
  child = g_variant_get_child_value (variant, 1);
  g_assert_cmpint (g_variant_get_int32 (child), ==, 42);

  g_assert_true (G_VALUE_HOLDS_OBJECT (outcomes[RETURN_OBJECT].value));
  g_assert_true (G_IS_FILE (ag_task_get_object (tasks[RETURN_OBJECT], NULL)));
  g_assert_true (g_value_get_object (outcomes[RETURN_OBJECT].value) ==
                 ag_task_get_object (tasks[RETURN_OBJECT], NULL));

  g_assert_true (G_VALUE_HOLDS_POINTER (outcomes[RETURN_POINTER].value));
  g_assert_cmpstr (ag_task_get_pointer (tasks[RETURN_POINTER], NULL), ==, "owned by the task");

  g_assert_true (G_VALUE_HOLDS_UINT64 (outcomes[RETURN_VALUE].value));
  g_assert_cmpuint (g_value_get_uint64 (outcomes[RETURN_VALUE].value), ==,
                    G_GUINT64_CONSTANT (1) << 40);
  g_assert_cmpuint (ag_task_get_uint64 (tasks[RETURN_VALUE], NULL), ==,
                    G_GUINT64_CONSTANT (1) << 40);

  g_assert_cmpuint (ag_task_get_uint (tasks[RETURN_UINT], NULL), ==, G_MAXUINT);
  g_assert_cmpint (ag_task_get_int64 (tasks[RETURN_INT64], NULL), ==, G_MININT64);
  g_assert_cmpuint (ag_task_get_uint64 (tasks[RETURN_UINT64], NULL), ==, G_MAXUINT64);

  g_assert_true (G_VALUE_HOLDS (outcomes[RETURN_ENUM].value, AG_TYPE_TASK_STATE));
  g_assert_cmpint (ag_task_get_enum (tasks[RETURN_ENUM], NULL), ==, AG_TASK_CANCELLED);

  g_assert_true (G_VALUE_HOLDS (outcomes[RETURN_FLAGS].value, G_TYPE_FILE_QUERY_INFO_FLAGS));
  g_assert_cmpuint (ag_task_get_flags (tasks[RETURN_FLAGS], NULL), ==,
                    G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS);

  g_assert_true (G_VALUE_HOLDS (outcomes[RETURN_BOXED].value, G_TYPE_STRV));
  g_assert_cmpstrv (ag_task_get_boxed (tasks[RETURN_BOXED], NULL),
                    ((const char *[]) { "boxed", "and", "copied", NULL }));

  for (int kind = 0; kind < N_RETURN_KINDS; kind++)
    {
      ag_test_outcome_clear (&outcomes[kind]);
      g_clear_object (&tasks[kind]);
    }

  /* The pointer's destroy notify runs when the task goes. */
  ag_test_run_until (fixture->context, g_atomic_int_get (&n_pointers_freed) == 1, 2000);
}

/* A typed getter reads an outcome the way a _finish function does: the
 * task's own error when it failed, AG_ERROR_TYPE_MISMATCH when the value is
 * of another type, and nothing to complain about for a missing string. */
static void
test_typed_getters_report_failures_and_mismatches_as_errors (AgTestFixture *fixture,
                                                             gconstpointer  data)
{
  g_autoptr(AgTask) returns_int = ag_task_new (return_typed, GINT_TO_POINTER (RETURN_INT), NULL);
  g_autoptr(AgTask) fails = ag_task_new (fail_with_io_error, NULL, NULL);
  g_autoptr(AgTask) sleeps = ag_task_new_sleep (0);
  g_autoptr(GError) error = NULL;
  AgTestOutcome outcome;

  AgTask *tasks[] = { returns_int, fails, sleeps };

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      ag_test_outcome_init (&outcome, fixture->engine);
      ag_engine_run_async (fixture->engine, tasks[i], NULL, ag_test_outcome_callback, &outcome);
      ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
      ag_test_outcome_clear (&outcome);
    }

  g_assert_cmpint (ag_task_get_int (returns_int, &error), ==, -12345);
  g_assert_no_error (error);

  g_assert_null (ag_task_get_string (returns_int, &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_TYPE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "gint"));
  g_assert_nonnull (strstr (error->message, "gchararray"));
  g_clear_error (&error);

  g_assert_cmpuint (ag_task_get_uint64 (returns_int, &error), ==, 0);
  g_assert_error (error, AG_ERROR, AG_ERROR_TYPE_MISMATCH);
  g_clear_error (&error);

  g_assert_cmpint (ag_task_get_int (fails, &error), ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_cmpstr (error->message, ==, "not allowed here");
  g_clear_error (&error);

  /* A success without a value: NULL is a fine string, 0 is not an int. */
  g_assert_null (ag_task_get_string (sleeps, &error));
  g_assert_no_error (error);
  g_assert_false (ag_task_get_boolean (sleeps, &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_TYPE_MISMATCH);
  g_clear_error (&error);
}

/* Asking a task that has not finished for its value is a programming
 * error. */
static void
test_typed_getter_of_a_pending_task_is_a_critical (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(AgTask) task = ag_task_new_sleep (0);

      ag_task_get_int (task, NULL);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*ag_task_get_int*has not finished*");
}

static void
return_nothing (AgTask       *task,
                gpointer      user_data,
                GCancellable *cancellable)
{
}

static void
test_function_without_return_fails_with_no_result (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  AgTestOutcome outcome;
  AgTask *task = ag_task_new (return_nothing, NULL, NULL);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_NO_RESULT);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_FAILED);

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

static void
count_destroy (gpointer data)
{
  int *n = data;

  g_atomic_int_inc (n);
}

static void
return_one (AgTask       *task,
            gpointer      user_data,
            GCancellable *cancellable)
{
  ag_task_return_int (task, 1);
}

static void
test_user_data_is_destroyed_once (AgTestFixture *fixture,
                                  gconstpointer  data)
{
  int n_destroyed = 0;
  AgTestOutcome outcome;
  AgTask *task = ag_task_new (return_one, &n_destroyed, count_destroy);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  ag_test_outcome_clear (&outcome);
  g_object_unref (task);

  ag_test_run_until (fixture->context, g_atomic_int_get (&n_destroyed) >= 1, 2000);
  ag_test_run_for (fixture->context, 50);
  g_assert_cmpint (g_atomic_int_get (&n_destroyed), ==, 1);
}

/* The data a thread task's function was given goes once the function has
 * returned, on the engine's thread, though the task lives on: a closure
 * that holds the task itself (a Vala lambda that also cancels it) must not
 * keep both alive for good. */
/* A window owns its engine, and a task's data holds the window: the data
 * goes after the task's outcome, so that the engine it disposes (the last
 * reference going) has delivered the task first. */
static void
return_seven (AgTask       *task,
              gpointer      user_data,
              GCancellable *cancellable)
{
  ag_task_return_int (task, 7);
}

static void
count_callback (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  (*(int *) user_data)++;
}

static void
test_data_holding_the_last_engine_reference_goes_after_the_outcome (AgTestFixture *fixture,
                                                                     gconstpointer  data)
{
  AgEngine *engine = ag_engine_new_for_context (fixture->context);
  g_autoptr(AgTask) task = ag_task_new (return_seven, engine, g_object_unref);
  AgEngine *alive = engine;
  int n_calls = 0;

  g_object_add_weak_pointer (G_OBJECT (engine), (gpointer *) &alive);
  ag_engine_run_async (engine, task, NULL, count_callback, &n_calls);
  /* The task's data holds the engine now, and nothing else does. */
  ag_test_run_until (fixture->context, alive == NULL, AG_TEST_SAFETY_MS);

  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_task_get_int (task, NULL), ==, 7);
  g_assert_cmpint (n_calls, ==, 1);
}

typedef struct
{
  int      n_destroyed;
  gboolean on_engine_thread;
  gboolean release;      /* the function may return */
  gboolean running;
} HeldData;

static void
held_data_destroy (gpointer data)
{
  HeldData *held = data;

  held->on_engine_thread = g_thread_self () == ag_test_main_thread ();
  g_atomic_int_inc (&held->n_destroyed);
}

static void
return_when_released (AgTask       *task,
                      gpointer      user_data,
                      GCancellable *cancellable)
{
  HeldData *held = user_data;

  g_atomic_int_set (&held->running, TRUE);
  while (!g_atomic_int_get (&held->release))
    g_usleep (1000);
  ag_task_return_int (task, 2);
}

static void
test_user_data_goes_once_the_function_returned (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  HeldData ran = { 0, FALSE, TRUE, FALSE };
  HeldData cancelled = { 0, FALSE, FALSE, FALSE };
  g_autoptr(AgTask) task = ag_task_new (return_when_released, &ran, held_data_destroy);
  g_autoptr(AgTask) cancelled_task = ag_task_new (return_when_released, &cancelled,
                                                  held_data_destroy);
  AgTestOutcome outcome;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  ag_test_outcome_clear (&outcome);
  ag_test_run_until (fixture->context, g_atomic_int_get (&ran.n_destroyed) > 0, 2000);
  g_assert_true (ran.on_engine_thread);
  g_assert_cmpint (ag_task_get_int (task, NULL), ==, 2);

  /* Cancelled while its function runs: the data stays until it returns. */
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, cancelled_task, NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, g_atomic_int_get (&cancelled.running), AG_TEST_SAFETY_MS);
  ag_task_cancel (cancelled_task);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 50);
  g_assert_cmpint (g_atomic_int_get (&cancelled.n_destroyed), ==, 0);
  g_atomic_int_set (&cancelled.release, TRUE);
  ag_test_run_until (fixture->context, g_atomic_int_get (&cancelled.n_destroyed) > 0, 2000);
  g_assert_true (cancelled.on_engine_thread);
  ag_test_outcome_clear (&outcome);

  /* Once only, though the tasks go now. */
  g_clear_object (&task);
  g_clear_object (&cancelled_task);
  ag_test_run_for (fixture->context, 20);
  g_assert_cmpint (ran.n_destroyed + cancelled.n_destroyed, ==, 2);
}

typedef struct
{
  GArray   *states;
  gboolean  off_main;
  guint     n_calls;
  AgTaskState state_in_callback;
  gboolean  finished_in_callback;
} StateLog;

static void
record_state (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  StateLog *log = user_data;
  AgTaskState state = ag_task_get_state (AG_TASK (object));

  if (g_thread_self () != ag_test_main_thread ())
    log->off_main = TRUE;
  g_array_append_val (log->states, state);
}

static void
record_state_in_callback (GObject      *source_object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  StateLog *log = user_data;

  log->n_calls++;
  log->state_in_callback = ag_task_get_state (AG_TASK (result));
  log->finished_in_callback = ag_task_is_finished (AG_TASK (result));
}

static void
test_state_moves_forward_once_on_engine_thread (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  StateLog log = { g_array_new (FALSE, FALSE, sizeof (AgTaskState)), FALSE, 0, 0, FALSE };
  AgTask *task = ag_test_task_new_int_after (50, 5);

  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_PENDING);
  g_assert_false (ag_task_is_finished (task));
  g_signal_connect (task, "notify::state", G_CALLBACK (record_state), &log);

  ag_engine_run_async (fixture->engine, task, NULL, record_state_in_callback, &log);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_RUNNING);
  g_assert_false (ag_task_is_finished (task));

  ag_test_run_until (fixture->context, log.n_calls > 0, AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 50);

  g_assert_cmpuint (log.n_calls, ==, 1);
  g_assert_cmpint (log.state_in_callback, ==, AG_TASK_SUCCEEDED);
  g_assert_true (log.finished_in_callback);
  g_assert_false (log.off_main);
  g_assert_cmpuint (log.states->len, ==, 2);
  g_assert_cmpint (g_array_index (log.states, AgTaskState, 0), ==, AG_TASK_RUNNING);
  g_assert_cmpint (g_array_index (log.states, AgTaskState, 1), ==, AG_TASK_SUCCEEDED);
  g_assert_true (ag_task_is_finished (task));

  g_array_unref (log.states);
  g_object_unref (task);
}

/* Sleep and main-context tasks */

static void
test_sleep_succeeds_without_value_after_its_delay (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  AgTestOutcome outcome;
  AgTask *task = ag_task_new_sleep (200);
  gint64 start = g_get_monotonic_time ();

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_cmpfloat ((outcome.time_us - start) / 1000.0, >=, 195);
  g_assert_cmpfloat ((outcome.time_us - start) / 1000.0, <, 2000);
  g_assert_true (outcome.thread == ag_test_main_thread ());
  g_assert_no_error (outcome.error);
  g_assert_null (outcome.value);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_SUCCEEDED);
  g_assert_null (ag_task_get_error (task));

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

typedef struct
{
  GFile   *file;
  GThread *func_thread;
  GThread *gio_callback_thread;
} LoadFile;

static void
load_file_data_free (gpointer data)
{
  LoadFile *load = data;

  g_clear_object (&load->file);
}

static void
file_loaded (GObject      *source_object,
             GAsyncResult *result,
             gpointer      user_data)
{
  AgTask *task = user_data;
  LoadFile *load = g_object_get_data (G_OBJECT (task), "load");
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;

  load->gio_callback_thread = g_thread_self ();
  if (!g_file_load_contents_finish (G_FILE (source_object), result, &contents, NULL, NULL,
                                    &error))
    ag_task_return_error (task, g_steal_pointer (&error));
  else
    ag_task_return_string (task, contents);

  g_object_unref (task);
}

static void
start_loading_file (AgTask       *task,
                    gpointer      user_data,
                    GCancellable *cancellable)
{
  LoadFile *load = user_data;

  load->func_thread = g_thread_self ();
  g_object_set_data (G_OBJECT (task), "load", load);
  g_file_load_contents_async (load->file, cancellable, file_loaded, g_object_ref (task));
}

static void
test_main_task_wraps_gio_async_operation (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileIOStream) stream = NULL;
  LoadFile load = { NULL, NULL, NULL };
  AgTestOutcome outcome;
  AgTask *task;

  load.file = g_file_new_tmp ("asyncgui-test-XXXXXX", &stream, &error);
  g_assert_no_error (error);
  g_file_replace_contents (load.file, "seven bytes and more", 20, NULL, FALSE,
                           G_FILE_CREATE_NONE, NULL, NULL, &error);
  g_assert_no_error (error);

  task = ag_task_new_main (start_loading_file, &load, NULL);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_true (load.func_thread == ag_test_main_thread ());
  g_assert_true (load.gio_callback_thread == ag_test_main_thread ());
  g_assert_true (outcome.thread == ag_test_main_thread ());
  g_assert_no_error (outcome.error);
  g_assert_true (G_VALUE_HOLDS_STRING (outcome.value));
  g_assert_cmpstr (g_value_get_string (outcome.value), ==, "seven bytes and more");
  g_assert_cmpstr (ag_task_get_string (task, NULL), ==, "seven bytes and more");

  g_file_delete (load.file, NULL, NULL);
  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
  load_file_data_free (&load);
}

static void
test_main_task_reports_gio_error (AgTestFixture *fixture,
                                  gconstpointer  data)
{
  LoadFile load = { NULL, NULL, NULL };
  AgTestOutcome outcome;
  AgTask *task;

  load.file = g_file_new_for_path ("/nonexistent/asyncgui/test/file");
  task = ag_task_new_main (start_loading_file, &load, NULL);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_FAILED);

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
  load_file_data_free (&load);
}

typedef struct
{
  GCancellable *func_cancellable;
  gboolean      late_return_done;
} LateMain;

static gboolean
return_late (gpointer user_data)
{
  AgTask *task = user_data;
  LateMain *late = g_object_get_data (G_OBJECT (task), "late");

  /* The task was cancelled meanwhile: this is dropped, quietly. */
  ag_task_return_int (task, 1);
  late->late_return_done = TRUE;

  return G_SOURCE_REMOVE;
}

static void
return_after_timeout (AgTask       *task,
                      gpointer      user_data,
                      GCancellable *cancellable)
{
  LateMain *late = user_data;

  late->func_cancellable = cancellable;
  g_object_set_data (G_OBJECT (task), "late", late);
  g_timeout_add_full (G_PRIORITY_DEFAULT, 300, return_late, g_object_ref (task), g_object_unref);
}

static gboolean
cancel_task_cb (gpointer user_data)
{
  ag_task_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_main_task_late_return_after_cancel_is_dropped (AgTestFixture *fixture,
                                                    gconstpointer  data)
{
  LateMain late = { NULL, FALSE };
  AgTestOutcome outcome;
  AgTask *task;
  gint64 start;

  task = ag_task_new_main (return_after_timeout, &late, NULL);
  ag_test_outcome_init (&outcome, fixture->engine);
  start = g_get_monotonic_time ();
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  g_timeout_add (50, cancel_task_cb, task);

  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_cmpfloat ((outcome.time_us - start) / 1000.0, <, 250);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_CANCELLED);
  if (late.func_cancellable != NULL)
    g_assert_true (g_cancellable_is_cancelled (late.func_cancellable));

  ag_test_run_until (fixture->context, late.late_return_done, AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 50);
  g_assert_cmpuint (outcome.n_calls, ==, 1);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_CANCELLED);
  g_assert_null (ag_task_get_value (task));

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

/* Cancellation */

typedef struct
{
  int           finished;          /* atomic: the worker returned */
  int           saw_cancel;        /* atomic */
  gint64        saw_cancel_us;
  gboolean      cooperative;       /* stop early when cancelled */
  GCancellable *cancellable;
} LongWork;

static void
long_work (AgTask       *task,
           gpointer      user_data,
           GCancellable *cancellable)
{
  LongWork *work = user_data;
  gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC;

  work->cancellable = cancellable;
  while (g_get_monotonic_time () < end)
    {
      if (cancellable != NULL && g_cancellable_is_cancelled (cancellable)
          && !g_atomic_int_get (&work->saw_cancel))
        {
          work->saw_cancel_us = g_get_monotonic_time ();
          g_atomic_int_set (&work->saw_cancel, 1);
          if (work->cooperative)
            break;
        }
      g_usleep (5 * G_TIME_SPAN_MILLISECOND);
    }

  ag_task_return_int (task, 42);
  g_atomic_int_set (&work->finished, 1);
}

typedef enum
{
  CANCEL_WITH_TASK,
  CANCEL_WITH_CANCELLABLE,
  CANCEL_FROM_OTHER_THREAD,
} CancelHow;

static gint64 cancelled_at_us;

static gboolean
cancel_cancellable_cb (gpointer user_data)
{
  cancelled_at_us = g_get_monotonic_time ();
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
cancel_task_timed_cb (gpointer user_data)
{
  cancelled_at_us = g_get_monotonic_time ();
  ag_task_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static gpointer
cancel_from_thread (gpointer user_data)
{
  g_usleep (100 * G_TIME_SPAN_MILLISECOND);
  cancelled_at_us = g_get_monotonic_time ();
  ag_task_cancel (user_data);
  return NULL;
}

static void
check_cancel_during_long_task (AgTestFixture *fixture,
                               CancelHow      how)
{
  LongWork work = { 0, 0, 0, FALSE, NULL };
  GCancellable *cancellable = g_cancellable_new ();
  GThread *thread = NULL;
  AgTestOutcome outcome;
  AgTask *task;
  double delay_ms;

  cancelled_at_us = 0;
  task = ag_task_new (long_work, &work, NULL);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task,
                       how == CANCEL_WITH_CANCELLABLE ? cancellable : NULL,
                       ag_test_outcome_callback, &outcome);

  switch (how)
    {
    case CANCEL_WITH_TASK:
      g_timeout_add (100, cancel_task_timed_cb, task);
      break;
    case CANCEL_WITH_CANCELLABLE:
      g_timeout_add (100, cancel_cancellable_cb, cancellable);
      break;
    case CANCEL_FROM_OTHER_THREAD:
      thread = g_thread_new ("canceller", cancel_from_thread, task);
      break;
    default:
      g_assert_not_reached ();
    }

  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_cmpint (cancelled_at_us, !=, 0);
  delay_ms = (outcome.time_us - cancelled_at_us) / 1000.0;
  g_test_message ("cancelled delivered %.1f ms after cancel", delay_ms);
  g_assert_cmpfloat (delay_ms, <, 200);
  g_assert_false (g_atomic_int_get (&work.finished));

  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (outcome.value);
  g_assert_true (outcome.thread == ag_test_main_thread ());
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_CANCELLED);

  /* Past the worker's 1 s: its result is dropped, the callback ran once. */
  ag_test_run_until (fixture->context, g_atomic_int_get (&work.finished), AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 200);
  g_assert_cmpuint (outcome.n_calls, ==, 1);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_CANCELLED);
  g_assert_error (ag_task_get_error (task), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (ag_task_get_value (task));

  if (thread != NULL)
    g_thread_join (thread);
  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
  g_object_unref (cancellable);
}

static void
test_cancel_during_long_task_delivers_cancelled_promptly (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  check_cancel_during_long_task (fixture, CANCEL_WITH_TASK);
}

static void
test_cancellable_given_to_run_cancels_like_cancel (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  check_cancel_during_long_task (fixture, CANCEL_WITH_CANCELLABLE);
}

typedef struct
{
  AgEngine      *engine;
  AgTask        *task;
  GCancellable  *cancellable;
  AgTestOutcome *outcome;
} RunFromThread;

static gpointer
run_with_cancellable_from_thread (gpointer data)
{
  RunFromThread *run = data;

  ag_engine_run_async (run->engine, run->task, run->cancellable, ag_test_outcome_callback,
                       run->outcome);
  return NULL;
}

static void
count_call (AgTask       *task,
            gpointer      user_data,
            GCancellable *cancellable)
{
  g_atomic_int_inc ((int *) user_data);
  ag_task_return_int (task, 1);
}

/* Run with a cancellable that was cancelled already, a task ends as a task
 * cancelled before it ran does: cancelled, its work never started, from
 * the engine's thread or from another, with its dependencies unstarted. */
static void
test_run_with_a_cancelled_cancellable_never_starts_the_work (AgTestFixture *fixture,
                                                             gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  int n_calls = 0;
  AgTask *tasks[3];
  AgTask *dependency;
  AgTestOutcome outcomes[3];

  g_cancellable_cancel (cancellable);
  tasks[0] = ag_task_new_main (count_call, &n_calls, NULL);
  tasks[1] = ag_task_new (count_call, &n_calls, NULL);
  tasks[2] = ag_task_new (count_call, &n_calls, NULL);
  dependency = ag_task_new (count_call, &n_calls, NULL);
  g_assert_true (ag_task_add_dependency (tasks[0], dependency, NULL));

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    ag_test_outcome_init (&outcomes[i], fixture->engine);
  ag_engine_run_async (fixture->engine, tasks[0], cancellable, ag_test_outcome_callback,
                       &outcomes[0]);
  ag_engine_run_async (fixture->engine, tasks[1], cancellable, ag_test_outcome_callback,
                       &outcomes[1]);
  g_thread_join (g_thread_new ("runner", run_with_cancellable_from_thread,
                               &(RunFromThread) { fixture->engine, tasks[2], cancellable,
                                                  &outcomes[2] }));

  ag_test_run_until (fixture->context,
                     outcomes[0].n_calls > 0 && outcomes[1].n_calls > 0
                     && outcomes[2].n_calls > 0,
                     AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 50);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      g_assert_error (outcomes[i].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpint (ag_task_get_state (tasks[i]), ==, AG_TASK_CANCELLED);
      ag_test_outcome_clear (&outcomes[i]);
      g_object_unref (tasks[i]);
    }
  g_assert_cmpint (g_atomic_int_get (&n_calls), ==, 0);
  g_assert_cmpint (ag_task_get_state (dependency), ==, AG_TASK_PENDING);
  g_object_unref (dependency);
}

static void
test_cancel_from_another_thread_delivers_cancelled_promptly (AgTestFixture *fixture,
                                                             gconstpointer  data)
{
  check_cancel_during_long_task (fixture, CANCEL_FROM_OTHER_THREAD);
}

static void
test_cancel_is_seen_by_the_worker_cancellable (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  LongWork work = { 0, 0, 0, TRUE, NULL };
  AgTestOutcome outcome;
  AgTask *task;

  cancelled_at_us = 0;
  task = ag_task_new (long_work, &work, NULL);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  g_timeout_add (100, cancel_task_timed_cb, task);

  ag_test_run_until (fixture->context,
                     outcome.n_calls > 0 && g_atomic_int_get (&work.finished),
                     AG_TEST_SAFETY_MS);
  g_assert_nonnull (work.cancellable);
  g_assert_true (g_atomic_int_get (&work.saw_cancel));
  g_assert_cmpfloat ((work.saw_cancel_us - cancelled_at_us) / 1000.0, <, 200);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

static void
test_cancel_sleep_task_ends_it_promptly (AgTestFixture *fixture,
                                         gconstpointer  data)
{
  AgTestOutcome outcome;
  AgTask *task = ag_task_new_sleep (5000);

  cancelled_at_us = 0;
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  g_timeout_add (50, cancel_task_timed_cb, task);

  ag_test_run_until (fixture->context, outcome.n_calls > 0, 2000);
  g_assert_cmpfloat ((outcome.time_us - cancelled_at_us) / 1000.0, <, 200);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_CANCELLED);

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

static void
test_cancel_finished_task_is_a_no_op (AgTestFixture *fixture,
                                      gconstpointer  data)
{
  AgTestOutcome outcome;
  AgTask *task = ag_test_task_new_int_after (10, 42);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_SUCCEEDED);

  /* Any message would be fatal here. */
  ag_task_cancel (task);
  ag_task_cancel (task);
  ag_test_run_for (fixture->context, 100);

  g_assert_cmpuint (outcome.n_calls, ==, 1);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_SUCCEEDED);
  g_assert_null (ag_task_get_error (task));
  g_assert_cmpint (ag_task_get_int (task, NULL), ==, 42);

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

/* Progress */

typedef struct
{
  guint    n_progress;
  guint    n_status;
  gboolean went_back;
  double   last_progress;
  char    *last_status;
  gboolean off_main;
} ProgressLog;

static void
set_progress_a_thousand_times (AgTask       *task,
                               gpointer      user_data,
                               GCancellable *cancellable)
{
  AgTestLatch *reported = user_data;  /* NULL, or opened once all are made */

  for (int i = 1; i <= 1000; i++)
    {
      char text[32];

      g_snprintf (text, sizeof text, "step %d", i);
      ag_task_set_progress (task, i / 1000.0);
      ag_task_set_status_text (task, text);
    }

  if (reported != NULL)
    ag_test_latch_open (reported);

  ag_task_return_int (task, 1000);
}

static void
progress_notified (GObject    *object,
                   GParamSpec *pspec,
                   gpointer    user_data)
{
  ProgressLog *log = user_data;

  if (g_thread_self () != ag_test_main_thread ())
    log->off_main = TRUE;
  log->n_progress++;
  if (ag_task_get_progress (AG_TASK (object)) < log->last_progress)
    log->went_back = TRUE;
  log->last_progress = ag_task_get_progress (AG_TASK (object));
}

static void
status_notified (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  ProgressLog *log = user_data;

  if (g_thread_self () != ag_test_main_thread ())
    log->off_main = TRUE;
  log->n_status++;
  g_free (log->last_status);
  log->last_status = g_strdup (ag_task_get_status_text (AG_TASK (object)));
}

static void
check_progress_log_ends_at_the_last_update (ProgressLog *log,
                                            AgTask      *task)
{
  g_assert_false (log->off_main);
  g_assert_false (log->went_back);
  g_assert_cmpfloat (log->last_progress, ==, 1.0);
  g_assert_cmpfloat (ag_task_get_progress (task), ==, 1.0);
  g_assert_cmpstr (log->last_status, ==, "step 1000");
  g_assert_cmpstr (ag_task_get_status_text (task), ==, "step 1000");
}

/* However the worker and the loop interleave, notifications come on the
 * engine's thread, never go back, never outnumber the updates, and end at
 * the last update. */
static void
test_progress_from_worker_arrives_in_order (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  ProgressLog log = { 0, 0, FALSE, -2.0, NULL, FALSE };
  AgTestOutcome outcome;
  AgTask *task = ag_task_new (set_progress_a_thousand_times, NULL, NULL);

  g_signal_connect (task, "notify::progress", G_CALLBACK (progress_notified), &log);
  g_signal_connect (task, "notify::status-text", G_CALLBACK (status_notified), &log);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 50);

  g_test_message ("%u progress and %u status notifications for 1000 updates",
                  log.n_progress, log.n_status);
  g_assert_no_error (outcome.error);
  g_assert_cmpuint (log.n_progress, >=, 1);
  g_assert_cmpuint (log.n_progress, <=, 1000);
  g_assert_cmpuint (log.n_status, >=, 1);
  g_assert_cmpuint (log.n_status, <=, 1000);
  check_progress_log_ends_at_the_last_update (&log, task);

  g_free (log.last_status);
  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

/* Updates made while the loop cannot deliver are coalesced: a thousand of
 * them make one notification per property, of the latest value. */
static void
test_progress_from_worker_arrives_coalesced (AgTestFixture *fixture,
                                             gconstpointer  data)
{
  ProgressLog log = { 0, 0, FALSE, -2.0, NULL, FALSE };
  AgTestLatch reported;
  AgTestOutcome outcome;
  AgTask *task = ag_task_new (set_progress_a_thousand_times, &reported, NULL);
  gboolean opened;

  ag_test_latch_init (&reported);
  g_signal_connect (task, "notify::progress", G_CALLBACK (progress_notified), &log);
  g_signal_connect (task, "notify::status-text", G_CALLBACK (status_notified), &log);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);

  /* The loop stays still until the worker has reported everything. */
  opened = ag_test_latch_wait (&reported);
  g_assert_true (opened);
  g_assert_cmpuint (log.n_progress, ==, 0);

  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 50);

  g_assert_no_error (outcome.error);
  g_assert_cmpuint (log.n_progress, ==, 1);
  g_assert_cmpuint (log.n_status, ==, 1);
  check_progress_log_ends_at_the_last_update (&log, task);

  g_free (log.last_status);
  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
  ag_test_latch_clear (&reported);
}

static void
test_progress_reported_before_running_arrives_once_it_runs (AgTestFixture *fixture,
                                                            gconstpointer  data)
{
  ProgressLog log = { 0, 0, FALSE, -2.0, NULL, FALSE };
  AgTestOutcome outcome;
  AgTask *task = ag_test_task_new_int_after (300 * ag_test_timing_factor (), 7);

  ag_task_set_progress (task, 0.25);
  ag_task_set_status_text (task, "queued");
  g_signal_connect (task, "notify::progress", G_CALLBACK (progress_notified), &log);
  g_signal_connect (task, "notify::status-text", G_CALLBACK (status_notified), &log);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);

  /* Delivered while the task runs, not only with its outcome. */
  ag_test_run_until (fixture->context, log.n_progress > 0 || outcome.n_calls > 0,
                     AG_TEST_SAFETY_MS);
  g_assert_cmpuint (outcome.n_calls, ==, 0);
  g_assert_cmpuint (log.n_progress, ==, 1);
  g_assert_cmpfloat (ag_task_get_progress (task), ==, 0.25);
  g_assert_cmpstr (ag_task_get_status_text (task), ==, "queued");

  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);
  g_assert_false (log.off_main);
  g_assert_cmpuint (log.n_progress, ==, 1);
  g_assert_cmpuint (log.n_status, ==, 1);

  g_free (log.last_status);
  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

/* Waiting */

typedef struct
{
  AgTask   *task;
  int       timeout_ms;
  gboolean  result;
  GError   *error;
  gboolean  finished_on_return;
  gint64    returned_us;
  double    elapsed_ms;
  int       done;   /* atomic */
} Waiter;

static gpointer
wait_in_thread (gpointer user_data)
{
  Waiter *waiter = user_data;
  gint64 start = g_get_monotonic_time ();

  waiter->result = ag_task_wait (waiter->task, waiter->timeout_ms, &waiter->error);
  waiter->finished_on_return = ag_task_is_finished (waiter->task);
  waiter->returned_us = g_get_monotonic_time ();
  waiter->elapsed_ms = ag_test_elapsed_ms (start);
  g_atomic_int_set (&waiter->done, 1);

  return NULL;
}

static void
test_wait_from_another_thread_returns_when_finished (AgTestFixture *fixture,
                                                     gconstpointer  data)
{
  AgTask *task = ag_test_task_new_int_after (300, 42);
  Waiter waiter = { task, 5 * 1000, FALSE, NULL, FALSE, 0, 0, 0 };
  AgTestOutcome outcome;
  GThread *thread;
  gint64 started_us;

  ag_test_outcome_init (&outcome, fixture->engine);
  started_us = g_get_monotonic_time ();
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  thread = g_thread_new ("waiter", wait_in_thread, &waiter);

  ag_test_run_until (fixture->context,
                     outcome.n_calls > 0 && g_atomic_int_get (&waiter.done),
                     AG_TEST_SAFETY_MS);
  g_thread_join (thread);

  g_test_message ("waited %.0f ms", waiter.elapsed_ms);
  g_assert_no_error (waiter.error);
  g_assert_true (waiter.result);
  g_assert_true (waiter.finished_on_return);
  /* Not before the task's 300 ms were over, counted from its start: the
   * waiting thread itself may start late on a loaded machine. */
  g_assert_cmpint (waiter.returned_us - started_us, >=, 300 * 1000);
  g_assert_cmpint (ag_task_get_int (task, NULL), ==, 42);

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

static void
test_wait_from_another_thread_times_out (AgTestFixture *fixture,
                                         gconstpointer  data)
{
  AgTask *task = ag_test_task_new_int_after (1000, 42);
  Waiter waiter = { task, 100, TRUE, NULL, FALSE, 0, 0, 0 };
  AgTestOutcome outcome;
  GThread *thread;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  thread = g_thread_new ("waiter", wait_in_thread, &waiter);

  ag_test_run_until (fixture->context, g_atomic_int_get (&waiter.done), AG_TEST_SAFETY_MS);
  g_thread_join (thread);

  g_test_message ("waited %.0f ms", waiter.elapsed_ms);
  g_assert_false (waiter.result);
  g_assert_error (waiter.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_false (waiter.finished_on_return);
  g_assert_cmpfloat (waiter.elapsed_ms, >=, 90);
  g_assert_cmpfloat (waiter.elapsed_ms, <, 900);

  ag_task_cancel (task);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_clear_error (&waiter.error);
  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

static void
test_wait_on_engine_thread_iterates_the_context (AgTestFixture *fixture,
                                                 gconstpointer  data)
{
  AgTask *task = ag_test_task_new_int_after (300, 42);
  g_autoptr(GError) error = NULL;
  AgTestOutcome outcome;
  guint ticks = 0, tick_id;
  gboolean finished;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  tick_id = g_timeout_add (10, count_tick, &ticks);

  finished = ag_task_wait (task, 5 * 1000, &error);
  g_source_remove (tick_id);

  g_test_message ("%u ticks during the wait", ticks);
  g_assert_no_error (error);
  g_assert_true (finished);
  /* A wait that blocked the context would let the timer tick once or
   * twice after it; a loaded machine starves a running loop of half its
   * 30, not of all. */
  g_assert_cmpuint (ticks, >=, 5);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_task_get_int (task, NULL), ==, 42);

  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 50);
  g_assert_cmpuint (outcome.n_calls, ==, 1);

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

static void
test_wait_on_engine_thread_times_out (AgTestFixture *fixture,
                                      gconstpointer  data)
{
  AgTask *task = ag_test_task_new_int_after (1000, 42);
  g_autoptr(GError) error = NULL;
  AgTestOutcome outcome;
  gint64 start;
  double elapsed_ms;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);

  start = g_get_monotonic_time ();
  g_assert_false (ag_task_wait (task, 100, &error));
  elapsed_ms = ag_test_elapsed_ms (start);

  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpfloat (elapsed_ms, >=, 90);
  g_assert_cmpfloat (elapsed_ms, <, 900);
  g_assert_false (ag_task_is_finished (task));

  ag_task_cancel (task);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

static void
test_wait_tells_unfinished_apart_from_null_result (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  AgTask *task = ag_task_new_sleep (200);
  g_autoptr(GError) error = NULL;
  AgTestOutcome outcome;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);

  /* Not finished yet: FALSE and an error. */
  g_assert_false (ag_task_wait (task, 10, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  /* Finished with no value: TRUE, no error, still no value. */
  g_assert_true (ag_task_wait (task, 5 * 1000, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_SUCCEEDED);
  g_assert_null (ag_task_get_error (task));

  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);
  g_assert_null (outcome.value);

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

static void
test_wait_on_never_run_task_would_deadlock (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  AgTask *task = ag_test_task_new_int_after (10, 1);
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  g_assert_false (ag_task_wait (task, 2 * 1000, &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK);
  g_assert_cmpfloat (ag_test_elapsed_ms (start), <, 1000);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_PENDING);

  g_object_unref (task);
}

typedef struct
{
  AgTask   *other;
  guint     n_calls;
  gboolean  result;
  GError   *error;
  double    elapsed_ms;
} NestedWait;

static void
wait_inside_callback (GObject      *source_object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  NestedWait *nested = user_data;
  gint64 start = g_get_monotonic_time ();

  nested->n_calls++;
  nested->result = ag_task_wait (nested->other, 500, &nested->error);
  nested->elapsed_ms = ag_test_elapsed_ms (start);
}

static void
test_wait_inside_delivery_would_deadlock (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  AgTask *quick = ag_test_task_new_int_after (10, 1);
  AgTask *slow = ag_test_task_new_int_after (1000, 2);
  NestedWait nested = { slow, 0, TRUE, NULL, 0 };
  AgTestOutcome slow_outcome;

  ag_test_outcome_init (&slow_outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, slow, NULL, ag_test_outcome_callback, &slow_outcome);
  ag_engine_run_async (fixture->engine, quick, NULL, wait_inside_callback, &nested);

  ag_test_run_until (fixture->context, nested.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_false (nested.result);
  g_assert_error (nested.error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK);
  g_assert_cmpfloat (nested.elapsed_ms, <, 400);

  ag_task_cancel (slow);
  ag_test_run_until (fixture->context, slow_outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_clear_error (&nested.error);
  ag_test_outcome_clear (&slow_outcome);
  g_object_unref (quick);
  g_object_unref (slow);
}

/* First needs on two threads at once */

/* What few tasks need is made by the first need, on whichever thread has
 * it. Here a worker reports progress just as the engine's thread starts a
 * wait: both make that part at once, and neither may be lost. */

#define N_RACES 500

typedef struct
{
  int      at_gate;   /* atomic: the worker waits at the gate */
  int      open;      /* atomic */
  guint    n_waited;
  int      value;
} Race;

static void
report_at_the_gate (AgTask       *task,
                    gpointer      user_data,
                    GCancellable *cancellable)
{
  Race *race = user_data;
  guint spins = g_random_int_range (0, 64);

  g_atomic_int_set (&race->at_gate, TRUE);
  while (!g_atomic_int_get (&race->open))
    ;
  /* A few hundred nanoseconds at most, so both orders happen. */
  for (volatile guint i = 0; i < spins; i++)
    ;
  ag_task_set_progress (task, 0.5);
  ag_task_return_int (task, 7);
}

static void
on_race_waited (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Race *race = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value = ag_task_wait_finish (AG_TASK (source), result, &error);

  g_assert_no_error (error);
  race->n_waited++;
  race->value = g_value_get_int (value);
  g_boxed_free (G_TYPE_VALUE, value);
}

static void
test_report_and_wait_made_at_once_both_arrive (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  for (guint i = 0; i < N_RACES; i++)
    {
      Race race = { 0 };
      g_autoptr(AgTask) task = ag_task_new (report_at_the_gate, &race, NULL);
      gint64 deadline = g_get_monotonic_time () + AG_TEST_SAFETY_MS * G_TIME_SPAN_MILLISECOND;

      ag_engine_run_async (fixture->engine, task, NULL, NULL, NULL);
      /* Iterating without blocking: a submission may wait for the next
       * iteration to reach a worker. */
      while (!g_atomic_int_get (&race.at_gate))
        {
          g_main_context_iteration (fixture->context, FALSE);
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
        }

      g_atomic_int_set (&race.open, TRUE);
      ag_task_wait_async (task, NULL, on_race_waited, &race);

      ag_test_run_until (fixture->context, race.n_waited > 0, AG_TEST_SAFETY_MS);
      g_assert_cmpuint (race.n_waited, ==, 1);
      g_assert_cmpint (race.value, ==, 7);
      g_assert_cmpfloat (ag_task_get_progress (task), ==, 0.5);
    }
}

/* Memory */

/* A burst of tasks is that many tasks alive at once, so what one costs is
 * what a million in flight cost. A thread task, the commonest kind, is one
 * GObject allocation: its instance and AgTask's private part. */
static void
test_thread_task_is_one_allocation_of_at_most_208_bytes (void)
{
#if GLIB_SIZEOF_VOID_P == 8
  g_autoptr(AgTask) task = ag_task_new (return_nothing, NULL, NULL);
  gpointer task_class = g_type_class_peek (AG_TYPE_TASK);
  GTypeQuery query;
  gsize size;

  g_type_query (G_OBJECT_TYPE (task), &query);
  size = query.instance_size + (gsize) -g_type_class_get_instance_private_offset (task_class);
  g_test_message ("a thread task takes %" G_GSIZE_FORMAT " bytes", size);
  g_assert_cmpuint (size, <=, 208);
#else
  g_test_skip ("the limit is for 64-bit machines");
#endif
}

/* Bad input */

static void
test_new_with_null_func_is_rejected (void)
{
  AgTask *task;

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*");
  task = ag_task_new (NULL, NULL, NULL);
  g_test_assert_expected_messages ();
  g_assert_null (task);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*");
  task = ag_task_new_main (NULL, NULL, NULL);
  g_test_assert_expected_messages ();
  g_assert_null (task);
}

/* A plain AgTask (g_object_new(), a binding's default constructor) or a
 * subclass made outside the library has no work of the library's kinds:
 * running it fails with an error that says so, not a crash. */
typedef struct { AgTask parent; } ForeignTask;
typedef struct { AgTaskClass parent_class; } ForeignTaskClass;
static GType foreign_task_get_type (void);
G_DEFINE_TYPE (ForeignTask, foreign_task, AG_TYPE_TASK)
static void foreign_task_class_init (ForeignTaskClass *klass) {}
static void foreign_task_init (ForeignTask *self) {}

static void
test_task_without_work_fails_when_run (AgTestFixture *fixture,
                                       gconstpointer  data)
{
  ag_test_assert_bare_task_fails (fixture, AG_TYPE_TASK, "AgTask has no work");
  ag_test_assert_bare_task_fails (fixture, foreign_task_get_type (), "ForeignTask has no work");
}

/* Running a task twice is a programming error: a critical, and the second
 * callback is never called, so the first run's outcome is the only one. */
static void
test_run_twice_is_a_critical_and_leaves_the_first_run_alone (AgTestFixture *fixture,
                                                             gconstpointer  data)
{
  AgTask *task = ag_test_task_new_int_after (100, 42);
  AgTestOutcome first, second, third;

  ag_test_outcome_init (&first, fixture->engine);
  ag_test_outcome_init (&second, fixture->engine);
  ag_test_outcome_init (&third, fixture->engine);

  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &first);

  /* Again while it runs. */
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*already run*");
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &second);
  g_test_assert_expected_messages ();

  ag_test_run_until (fixture->context, first.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_no_error (first.error);
  g_assert_cmpint (ag_test_value_get_int (first.value), ==, 42);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_SUCCEEDED);

  /* Again once finished. */
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*already run*");
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &third);
  g_test_assert_expected_messages ();
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_task_get_int (task, NULL), ==, 42);

  ag_test_run_for (fixture->context, 50);
  g_assert_cmpuint (first.n_calls, ==, 1);
  g_assert_cmpuint (second.n_calls, ==, 0);
  g_assert_cmpuint (third.n_calls, ==, 0);

  ag_test_outcome_clear (&first);
  ag_test_outcome_clear (&second);
  ag_test_outcome_clear (&third);
  g_object_unref (task);
}

/* Where user data is released */

typedef struct
{
  int n_destroyed;         /* atomic */
  int n_off_main_thread;   /* atomic */
} ReleaseLog;

typedef struct
{
  ReleaseLog *log;
  guint       msec;          /* before returning */
  guint       msec_after;    /* after returning, before the function ends */
} ReleaseData;

static void
release_data_free (gpointer data)
{
  ReleaseData *item = data;

  if (g_thread_self () != ag_test_main_thread ())
    g_atomic_int_inc (&item->log->n_off_main_thread);
  g_atomic_int_inc (&item->log->n_destroyed);
  g_free (item);
}

static void
object_finalized (gpointer  data,
                  GObject  *where_the_object_was)
{
  release_data_free (data);
}

/* Returns an object whose finalization is logged like the user data. */
static void
return_logged_object (AgTask       *task,
                      gpointer      user_data,
                      GCancellable *cancellable)
{
  ReleaseData *item = user_data;
  ReleaseData *object_item = g_new0 (ReleaseData, 1);
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);

  if (item->msec > 0)
    g_usleep (item->msec * G_TIME_SPAN_MILLISECOND);
  object_item->log = item->log;
  g_object_weak_ref (object, object_finalized, object_item);
  ag_task_return_object (task, object);
  if (item->msec_after > 0)
    g_usleep (item->msec_after * G_TIME_SPAN_MILLISECOND);
}

static void
count_calls (GObject      *source_object,
             GAsyncResult *result,
             gpointer      user_data)
{
  guint *n_calls = user_data;

  (*n_calls)++;
}

static void
run_logged_tasks (AgEngine   *engine,
                  ReleaseLog *log,
                  guint       n,
                  guint       msec,
                  guint       msec_after,
                  guint      *n_calls)
{
  for (guint i = 0; i < n; i++)
    {
      ReleaseData *item = g_new0 (ReleaseData, 1);
      g_autoptr(AgTask) task = NULL;

      item->log = log;
      item->msec = msec;
      item->msec_after = msec_after;
      task = ag_task_new (return_logged_object, item, release_data_free);
      ag_engine_run_async (engine, task, NULL, count_calls, n_calls);
    }
}

/* Users hand widgets to tasks as user data; those must never be released
 * on a worker, however the references happen to be dropped. */
static void
test_user_data_and_values_are_released_on_the_engine_thread (AgTestFixture *fixture,
                                                             gconstpointer  data)
{
  const guint n = 50000;
  ReleaseLog log = { 0, 0 };
  guint n_calls = 0;

  run_logged_tasks (fixture->engine, &log, n, 0, 0, &n_calls);
  ag_test_run_until (fixture->context,
                     n_calls == n && g_atomic_int_get (&log.n_destroyed) == 2 * (int) n,
                     3 * AG_TEST_SAFETY_MS);

  g_assert_cmpint (g_atomic_int_get (&log.n_off_main_thread), ==, 0);
}

/* The worker still runs the function after its return; the task is
 * delivered once the function ends, so the worker never holds the last
 * reference. */
static void
test_work_going_on_after_its_return_releases_on_the_engine_thread (AgTestFixture *fixture,
                                                                    gconstpointer  data)
{
  const guint n = 100;
  ReleaseLog log = { 0, 0 };
  guint n_calls = 0;

  ag_engine_set_max_threads (fixture->engine, 4);
  run_logged_tasks (fixture->engine, &log, n, 0, 10, &n_calls);
  ag_test_run_until (fixture->context,
                     n_calls == n && g_atomic_int_get (&log.n_destroyed) == 2 * (int) n,
                     AG_TEST_SAFETY_MS);

  g_assert_cmpint (g_atomic_int_get (&log.n_off_main_thread), ==, 0);
}

/* Disposing the engine leaves workers finishing late; what they held is
 * still released on the engine's context. */
static void
test_user_data_outliving_the_engine_is_released_on_its_context (AgTestFixture *fixture,
                                                                gconstpointer  data)
{
  const guint n = 8;
  ReleaseLog log = { 0, 0 };
  guint n_calls = 0;

  ag_engine_set_max_threads (fixture->engine, n);
  run_logged_tasks (fixture->engine, &log, n, (guint) (100 * ag_test_timing_factor ()), 0, &n_calls);
  ag_test_run_for (fixture->context, 20);
  g_clear_object (&fixture->engine);

  ag_test_run_until (fixture->context, g_atomic_int_get (&log.n_destroyed) == 2 * (int) n,
                     AG_TEST_SAFETY_MS);
  g_assert_cmpuint (n_calls, ==, 0);
  g_assert_cmpint (g_atomic_int_get (&log.n_off_main_thread), ==, 0);
}

/* The value property */

typedef struct
{
  guint       n_notifies;
  AgTaskState state_seen;
  int         value_seen;
} ValueNotes;

static void
note_value (GObject    *object,
            GParamSpec *pspec,
            gpointer    user_data)
{
  ValueNotes *notes = user_data;
  GValue *value = NULL;

  notes->n_notifies++;
  notes->state_seen = ag_task_get_state (AG_TASK (object));
  g_object_get (object, "value", &value, NULL);
  notes->value_seen = value != NULL ? g_value_get_int (value) : -1;
  g_clear_pointer (&value, ag_test_value_free);
}

static void
test_value_property_is_notified_once_on_success (AgTestFixture *fixture,
                                                 gconstpointer  data)
{
  ValueNotes notes = { 0, AG_TASK_PENDING, 0 };
  g_autoptr(AgTask) task = ag_test_task_new_int_after (10, 42);
  GValue *value = NULL;
  AgTestOutcome outcome;

  g_object_get (task, "value", &value, NULL);
  g_assert_null (value);

  g_signal_connect (task, "notify::value", G_CALLBACK (note_value), &notes);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 20);

  /* Notified once, with the task already succeeded and the value readable. */
  g_assert_cmpuint (notes.n_notifies, ==, 1);
  g_assert_cmpint (notes.state_seen, ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (notes.value_seen, ==, 42);

  g_object_get (task, "value", &value, NULL);
  g_assert_nonnull (value);
  g_assert_true (G_VALUE_HOLDS_INT (value));
  g_assert_cmpint (g_value_get_int (value), ==, 42);
  g_clear_pointer (&value, ag_test_value_free);

  ag_test_outcome_clear (&outcome);
}

static void
test_value_property_is_not_notified_on_failure_or_cancel (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  ValueNotes notes = { 0, AG_TASK_PENDING, 0 };
  g_autoptr(AgTask) failing = ag_test_task_new_error_after (10, TEST_ERROR, 3, "no value");
  g_autoptr(AgTask) cancelled = ag_test_task_new_int_after (2000, 7);
  GValue *value = NULL;
  AgTestOutcome failed_outcome, cancelled_outcome;

  g_signal_connect (failing, "notify::value", G_CALLBACK (note_value), &notes);
  g_signal_connect (cancelled, "notify::value", G_CALLBACK (note_value), &notes);
  ag_test_outcome_init (&failed_outcome, fixture->engine);
  ag_test_outcome_init (&cancelled_outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, failing, NULL, ag_test_outcome_callback, &failed_outcome);
  ag_engine_run_async (fixture->engine, cancelled, NULL, ag_test_outcome_callback,
                       &cancelled_outcome);
  ag_task_cancel (cancelled);
  ag_test_run_until (fixture->context,
                     failed_outcome.n_calls > 0 && cancelled_outcome.n_calls > 0,
                     AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 20);

  g_assert_cmpint (ag_task_get_state (failing), ==, AG_TASK_FAILED);
  g_assert_cmpint (ag_task_get_state (cancelled), ==, AG_TASK_CANCELLED);
  g_assert_cmpuint (notes.n_notifies, ==, 0);
  g_object_get (failing, "value", &value, NULL);
  g_assert_null (value);
  g_object_get (cancelled, "value", &value, NULL);
  g_assert_null (value);

  ag_test_outcome_clear (&failed_outcome);
  ag_test_outcome_clear (&cancelled_outcome);
}

/* A failure with a detail keeps the detail out of the value property. */
static void
fail_with_detail (AgTask       *task,
                  gpointer      user_data,
                  GCancellable *cancellable)
{
  GValue detail = G_VALUE_INIT;

  g_value_init (&detail, G_TYPE_INT);
  g_value_set_int (&detail, 99);
  ag_task_return_error_full (task, g_error_new_literal (TEST_ERROR, 4, "with a detail"), &detail);
}

static void
test_value_property_is_not_an_error_detail (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  g_autoptr(AgTask) task = ag_task_new (fail_with_detail, NULL, NULL);
  GValue *value = NULL;
  AgTestOutcome outcome;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_nonnull (ag_task_get_error_detail (task));
  g_object_get (task, "value", &value, NULL);
  g_assert_null (value);

  ag_test_outcome_clear (&outcome);
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/task/data-holding-the-last-engine-reference-goes-after-the-outcome",
               test_data_holding_the_last_engine_reference_goes_after_the_outcome);
  ag_test_add ("/task/user-data-goes-once-the-function-returned",
               test_user_data_goes_once_the_function_returned);
  ag_test_add ("/task/thread-result-arrives-while-loop-keeps-ticking",
               test_thread_result_arrives_while_loop_keeps_ticking);
  ag_test_add ("/task/worker-error-reaches-caller-unchanged",
               test_worker_error_reaches_caller_unchanged);
  ag_test_add ("/task/returned-gerror-keeps-domain-code-and-message",
               test_returned_gerror_keeps_domain_code_and_message);
  ag_test_add ("/task/typed-getters-report-failures-and-mismatches-as-errors",
               test_typed_getters_report_failures_and_mismatches_as_errors);
  g_test_add_func ("/task/typed-getter-of-a-pending-task-is-a-critical",
                   test_typed_getter_of_a_pending_task_is_a_critical);
  ag_test_add ("/task/typed-returns-round-trip",
               test_typed_returns_round_trip);
  ag_test_add ("/task/function-without-return-fails-with-no-result",
               test_function_without_return_fails_with_no_result);
  ag_test_add ("/task/user-data-is-destroyed-once",
               test_user_data_is_destroyed_once);
  ag_test_add ("/task/state-moves-forward-once-on-engine-thread",
               test_state_moves_forward_once_on_engine_thread);
  ag_test_add ("/task/sleep-succeeds-without-value-after-its-delay",
               test_sleep_succeeds_without_value_after_its_delay);
  ag_test_add ("/task/main-task-wraps-gio-async-operation",
               test_main_task_wraps_gio_async_operation);
  ag_test_add ("/task/main-task-reports-gio-error",
               test_main_task_reports_gio_error);
  ag_test_add ("/task/main-task-late-return-after-cancel-is-dropped",
               test_main_task_late_return_after_cancel_is_dropped);
  ag_test_add ("/task/cancel-during-long-task-delivers-cancelled-promptly",
               test_cancel_during_long_task_delivers_cancelled_promptly);
  ag_test_add ("/task/cancellable-given-to-run-cancels-like-cancel",
               test_cancellable_given_to_run_cancels_like_cancel);
  ag_test_add ("/task/run-with-a-cancelled-cancellable-never-starts-the-work",
               test_run_with_a_cancelled_cancellable_never_starts_the_work);
  ag_test_add ("/task/cancel-from-another-thread-delivers-cancelled-promptly",
               test_cancel_from_another_thread_delivers_cancelled_promptly);
  ag_test_add ("/task/cancel-is-seen-by-the-worker-cancellable",
               test_cancel_is_seen_by_the_worker_cancellable);
  ag_test_add ("/task/cancel-sleep-task-ends-it-promptly",
               test_cancel_sleep_task_ends_it_promptly);
  ag_test_add ("/task/cancel-finished-task-is-a-no-op",
               test_cancel_finished_task_is_a_no_op);
  ag_test_add ("/task/progress-from-worker-arrives-in-order",
               test_progress_from_worker_arrives_in_order);
  ag_test_add ("/task/progress-from-worker-arrives-coalesced",
               test_progress_from_worker_arrives_coalesced);
  ag_test_add ("/task/progress-reported-before-running-arrives-once-it-runs",
               test_progress_reported_before_running_arrives_once_it_runs);
  ag_test_add ("/task/wait-from-another-thread-returns-when-finished",
               test_wait_from_another_thread_returns_when_finished);
  ag_test_add ("/task/wait-from-another-thread-times-out",
               test_wait_from_another_thread_times_out);
  ag_test_add ("/task/wait-on-engine-thread-iterates-the-context",
               test_wait_on_engine_thread_iterates_the_context);
  ag_test_add ("/task/wait-on-engine-thread-times-out",
               test_wait_on_engine_thread_times_out);
  ag_test_add ("/task/wait-tells-unfinished-apart-from-null-result",
               test_wait_tells_unfinished_apart_from_null_result);
  ag_test_add ("/task/wait-on-never-run-task-would-deadlock",
               test_wait_on_never_run_task_would_deadlock);
  ag_test_add ("/task/wait-inside-delivery-would-deadlock",
               test_wait_inside_delivery_would_deadlock);
  ag_test_add ("/task/user-data-and-values-are-released-on-the-engine-thread",
               test_user_data_and_values_are_released_on_the_engine_thread);
  ag_test_add ("/task/work-going-on-after-its-return-releases-on-the-engine-thread",
               test_work_going_on_after_its_return_releases_on_the_engine_thread);
  ag_test_add ("/task/user-data-outliving-the-engine-is-released-on-its-context",
               test_user_data_outliving_the_engine_is_released_on_its_context);
  ag_test_add ("/task/report-and-wait-made-at-once-both-arrive",
               test_report_and_wait_made_at_once_both_arrive);
  g_test_add_func ("/task/thread-task-is-one-allocation-of-at-most-208-bytes",
                   test_thread_task_is_one_allocation_of_at_most_208_bytes);
  g_test_add_func ("/task/new-with-null-func-is-rejected",
                   test_new_with_null_func_is_rejected);
  ag_test_add ("/task/plain-task-or-foreign-subclass-fails-when-run",
               test_task_without_work_fails_when_run);
  ag_test_add ("/task/run-twice-is-a-critical-and-leaves-the-first-run-alone",
               test_run_twice_is_a_critical_and_leaves_the_first_run_alone);

  ag_test_add ("/task/value-property-is-notified-once-on-success",
               test_value_property_is_notified_once_on_success);
  ag_test_add ("/task/value-property-is-not-notified-on-failure-or-cancel",
               test_value_property_is_not_notified_on_failure_or_cancel);
  ag_test_add ("/task/value-property-is-not-an-error-detail",
               test_value_property_is_not_an_error_detail);

  return g_test_run ();
}
