/* test-job.c: AgJob's behaviour, C jobs on fibers and driven jobs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "test-util.h"


/* AddressSanitizer keeps freed memory in quarantine and maps its own
 * regions as it goes, and ThreadSanitizer maps shadow memory and a call
 * stack record for every job's fiber: memory and mapping counts say
 * nothing under either. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
# define UNDER_SANITIZER 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#  define UNDER_SANITIZER 1
# endif
#endif
#ifndef UNDER_SANITIZER
# define UNDER_SANITIZER 0
#endif

/* Shared helpers */

/* ag_multi_task_add() takes a reference of its own: give up ours. */
static void
multi_add_take (AgMultiTask *multi,
                AgTask      *child)
{
  ag_multi_task_add (multi, child);
  g_object_unref (child);
}

static void
value_free (GValue *value)
{
  ag_test_value_free (value);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GValue, value_free)

/* A thread task that sleeps @msec and then returns a copy of a value. */
typedef struct
{
  guint  msec;
  GValue value;
} ValueAfter;

static void
value_after_free (gpointer data)
{
  ValueAfter *va = data;

  g_value_unset (&va->value);
  g_free (va);
}

static void
value_after (AgTask       *task,
             gpointer      user_data,
             GCancellable *cancellable)
{
  ValueAfter *va = user_data;

  if (va->msec > 0)
    g_usleep (va->msec * G_TIME_SPAN_MILLISECOND);
  ag_task_return_value (task, &va->value);
}

/* Takes @value's contents. */
static AgTask *
task_new_value_after (guint   msec,
                      GValue *value)
{
  ValueAfter *va = g_new0 (ValueAfter, 1);

  va->msec = msec;
  va->value = *value;
  memset (value, 0, sizeof *value);

  return ag_task_new (value_after, va, value_after_free);
}

/* A thread task that records that it ran, then returns 1. */
static void
mark_ran (AgTask       *task,
          gpointer      user_data,
          GCancellable *cancellable)
{
  int *ran = user_data;

  g_atomic_int_set (ran, 1);
  ag_task_return_int (task, 1);
}

static void
run_until_finished (AgTestFixture *fixture,
                    AgJob         *job)
{
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (job)), AG_TEST_SAFETY_MS);
}

/* The job's value once it has ended: a job whose code has returned ends at
 * the next delivery. */
static int
job_value_int (AgJob *job)
{
  ag_test_run_until (g_main_context_default (), ag_task_is_finished (AG_TASK (job)),
                     AG_TEST_SAFETY_MS);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  return ag_test_value_get_int (ag_task_get_value (AG_TASK (job)));
}

/* Records every notify::state: the state and whether it came on the main
 * thread. */
typedef struct
{
  GArray   *states;        /* AgTaskState */
  gboolean  off_thread;
} StateLog;

/* A job's state as the log records it: its task state, or STATE_PAUSED
 * while it is running and paused. */
#define STATE_PAUSED ((AgTaskState) 100)

static void
on_state_notify (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  StateLog *log = user_data;
  AgTaskState state = ag_job_get_paused (AG_JOB (object)) ? STATE_PAUSED
                                                           : ag_task_get_state (AG_TASK (object));

  if (g_thread_self () != ag_test_main_thread ())
    log->off_thread = TRUE;
  g_array_append_val (log->states, state);
}

static void
state_log_watch (StateLog *log,
                 AgJob    *job)
{
  log->states = g_array_new (FALSE, FALSE, sizeof (AgTaskState));
  log->off_thread = FALSE;
  g_signal_connect (job, "notify::state", G_CALLBACK (on_state_notify), log);
  g_signal_connect (job, "notify::paused", G_CALLBACK (on_state_notify), log);
}

static void
state_log_assert (StateLog         *log,
                  const AgTaskState *expected,
                  guint             n_expected)
{
  g_assert_false (log->off_thread);
  g_assert_cmpuint (log->states->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    g_assert_cmpint (g_array_index (log->states, AgTaskState, i), ==, expected[i]);
}

static void
state_log_clear (StateLog *log)
{
  g_clear_pointer (&log->states, g_array_unref);
}

/* Spawning */

typedef struct
{
  guint     step;           /* how far the body got */
  int       value;
  GError   *error;
  AgJob    *current_inside;
  int       main_depth_first_run;
  int       main_depth_after_await;
  GThread  *thread_after_await;
} Steps;

static void
steps_clear (Steps *steps)
{
  g_clear_error (&steps->error);
}

static void
await_once_body (AgJob    *job,
                 gpointer  user_data)
{
  Steps *steps = user_data;

  steps->step = 1;
  steps->current_inside = ag_job_get_current ();
  steps->main_depth_first_run = g_main_depth ();
  steps->value = ag_job_await_int (ag_test_task_new_int_after (300, 42), &steps->error);
  steps->main_depth_after_await = g_main_depth ();
  steps->thread_after_await = g_thread_self ();
  steps->step = 2;
  if (steps->error == NULL)
    ag_task_return_int (AG_TASK (job), steps->value + 1);
}

static void
test_spawn_runs_body_at_once_until_first_await (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  Steps steps = { 0 };
  g_autoptr(AgJob) job = NULL;
  gint64 start = g_get_monotonic_time ();

  g_assert_null (ag_job_get_current ());
  job = ag_engine_spawn (fixture->engine, await_once_body, &steps, NULL);

  /* The body ran up to its await inside the call, and the call came back
   * long before the 300 ms task: spawning never blocks. */
  g_assert_cmpfloat (ag_test_elapsed_ms (start), <, 100);
  g_assert_cmpuint (steps.step, ==, 1);
  g_assert_true (steps.current_inside == job);
  g_assert_null (ag_job_get_current ());
  /* Not inside a main loop of its own: spawning nests no loop. */
  g_assert_cmpint (steps.main_depth_first_run, ==, 0);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_RUNNING);
  g_assert_false (ag_task_is_finished (AG_TASK (job)));
  g_assert_true (ag_task_get_engine (AG_TASK (job)) == fixture->engine);
  g_assert_null (ag_task_get_value (AG_TASK (job)));
  g_assert_null (ag_task_get_error (AG_TASK (job)));

  run_until_finished (fixture, job);

  g_assert_cmpuint (steps.step, ==, 2);
  g_assert_no_error (steps.error);
  g_assert_cmpint (steps.value, ==, 42);
  g_assert_true (steps.thread_after_await == ag_test_main_thread ());
  /* Resumed from the engine's delivery, one level deep, not from a nested
   * loop. */
  g_assert_cmpint (steps.main_depth_after_await, ==, 1);
  g_assert_cmpint (job_value_int (job), ==, 43);
  g_assert_true (ag_task_get_engine (AG_TASK (job)) == fixture->engine);
  steps_clear (&steps);
}

static void
no_await_body (AgJob    *job,
               gpointer  user_data)
{
  ag_task_return_string (AG_TASK (job), user_data);
}

static int n_destroyed;

static void
count_destroy (gpointer data)
{
  n_destroyed++;
}

/* Its code runs inside the spawn, and its end is the job's end. */
static void
test_spawn_body_without_await_finishes_inside_spawn (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  AgJob *job;

  n_destroyed = 0;
  job = ag_engine_spawn (fixture->engine, no_await_body, (gpointer) "done at once", count_destroy);

  g_assert_true (ag_task_is_finished (AG_TASK (job)));
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  g_assert_true (G_VALUE_HOLDS_STRING (ag_task_get_value (AG_TASK (job))));
  g_assert_cmpstr (g_value_get_string (ag_task_get_value (AG_TASK (job))), ==, "done at once");

  /* The data lives as long as the job. */
  g_assert_cmpint (n_destroyed, ==, 0);
  g_object_unref (job);
  g_assert_cmpint (n_destroyed, ==, 1);
}

/* A handler may start a job while its window and engine go away: on a
 * disposed engine the job does not start, it has failed as a task run
 * there fails, and its body never runs. */
static void
test_spawn_on_disposed_engine_fails_without_running (AgTestFixture *fixture,
                                                     gconstpointer  data)
{
  g_autoptr(AgJob) spawned = NULL;
  g_autoptr(AgJob) driven = NULL;
  GError *error = NULL;

  g_object_run_dispose (G_OBJECT (fixture->engine));
  n_destroyed = 0;

  spawned = ag_engine_spawn (fixture->engine, no_await_body, (gpointer) "never", count_destroy);
  g_assert_nonnull (spawned);
  g_assert_cmpint (ag_task_get_state (AG_TASK (spawned)), ==, AG_TASK_FAILED);
  g_assert_null (ag_task_get_string (AG_TASK (spawned), &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_ENGINE_DISPOSED);
  g_clear_error (&error);
  g_clear_object (&spawned);
  g_assert_cmpint (n_destroyed, ==, 1);

  driven = ag_job_new (fixture->engine);
  g_assert_nonnull (driven);
  g_assert_cmpint (ag_task_get_state (AG_TASK (driven)), ==, AG_TASK_FAILED);
  g_assert_true (g_error_matches (ag_task_get_error (AG_TASK (driven)),
                                  AG_ERROR, AG_ERROR_ENGINE_DISPOSED));
}

/* Awaiting */

typedef struct
{
  int          i;
  gboolean     b;
  double       d;
  char        *s;
  GObject     *o;
  GVariant    *v;
  guint        u;
  gint64       i64;
  guint64      u64;
  int          e;
  guint        f;
  char       **strv;
  GValue      *generic;
  GValue      *sleep_value;
  gboolean     slept;
  int          main_task_value;
  GError      *error;
  gint64       sleep_ms;
  GObject     *sent_object;   /* a weak pointer */
} Typed;

static void
return_seven_now (AgTask       *task,
                  gpointer      user_data,
                  GCancellable *cancellable)
{
  ag_task_return_int (task, 7);
}

static void
typed_body (AgJob    *job,
            gpointer  user_data)
{
  Typed *t = user_data;
  GValue value = G_VALUE_INIT;
  GObject *object;
  gint64 start;

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, -5);
  t->i = ag_job_await_int (task_new_value_after (10, &value), &t->error);
  if (t->error) return;

  g_value_init (&value, G_TYPE_BOOLEAN);
  g_value_set_boolean (&value, TRUE);
  t->b = ag_job_await_boolean (task_new_value_after (10, &value), &t->error);
  if (t->error) return;

  g_value_init (&value, G_TYPE_DOUBLE);
  g_value_set_double (&value, 2.75);
  t->d = ag_job_await_double (task_new_value_after (10, &value), &t->error);
  if (t->error) return;

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, "a string from a worker");
  t->s = ag_job_await_string (task_new_value_after (10, &value), &t->error);
  if (t->error) return;

  object = g_object_new (G_TYPE_OBJECT, NULL);
  t->sent_object = object;
  g_object_add_weak_pointer (object, (gpointer *) &t->sent_object);
  g_value_init (&value, G_TYPE_OBJECT);
  g_value_take_object (&value, object);
  t->o = ag_job_await_object (task_new_value_after (10, &value), &t->error);
  if (t->error) return;

  g_value_init (&value, G_TYPE_VARIANT);
  g_value_set_variant (&value, g_variant_new ("(si)", "answer", 42));
  t->v = ag_job_await_variant (task_new_value_after (10, &value), &t->error);
  if (t->error) return;

  g_value_init (&value, G_TYPE_UINT);
  g_value_set_uint (&value, G_MAXUINT);
  t->u = ag_job_await_uint (task_new_value_after (0, &value), &t->error);
  if (t->error) return;

  g_value_init (&value, G_TYPE_INT64);
  g_value_set_int64 (&value, G_MININT64);
  t->i64 = ag_job_await_int64 (task_new_value_after (0, &value), &t->error);
  if (t->error) return;

  g_value_init (&value, G_TYPE_UINT64);
  g_value_set_uint64 (&value, G_MAXUINT64);
  t->u64 = ag_job_await_uint64 (task_new_value_after (0, &value), &t->error);
  if (t->error) return;

  g_value_init (&value, AG_TYPE_TASK_STATE);
  g_value_set_enum (&value, AG_TASK_FAILED);
  t->e = ag_job_await_enum (task_new_value_after (0, &value), &t->error);
  if (t->error) return;

  g_value_init (&value, G_TYPE_FILE_QUERY_INFO_FLAGS);
  g_value_set_flags (&value, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS);
  t->f = ag_job_await_flags (task_new_value_after (0, &value), &t->error);
  if (t->error) return;

  g_value_init (&value, G_TYPE_STRV);
  g_value_take_boxed (&value, g_strsplit ("a copy of its own", " ", -1));
  t->strv = ag_job_await_boxed (task_new_value_after (0, &value), &t->error);
  if (t->error) return;

  g_value_init (&value, G_TYPE_UINT64);
  g_value_set_uint64 (&value, G_GUINT64_CONSTANT (1) << 40);
  t->generic = ag_job_await (task_new_value_after (10, &value), &t->error);
  if (t->error) return;

  /* A task without a value: NULL and no error. */
  t->sleep_value = ag_job_await (ag_task_new_sleep (10), &t->error);
  if (t->error) return;

  start = g_get_monotonic_time ();
  t->slept = ag_job_sleep (100, &t->error);
  t->sleep_ms = (g_get_monotonic_time () - start) / 1000;
  if (t->error) return;

  t->main_task_value = ag_job_await_int (ag_task_new_main (return_seven_now, NULL, NULL), &t->error);
}

static void
test_await_typed_values (AgTestFixture *fixture,
                         gconstpointer  data)
{
  Typed t = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, typed_body, &t, NULL);
  const char *name;
  int number;

  run_until_finished (fixture, job);

  g_assert_no_error (t.error);
  g_assert_cmpint (t.i, ==, -5);
  g_assert_true (t.b);
  g_assert_cmpfloat (t.d, ==, 2.75);
  g_assert_cmpstr (t.s, ==, "a string from a worker");
  g_assert_nonnull (t.o);
  g_assert_true (t.o == t.sent_object);
  g_assert_nonnull (t.v);
  g_assert_true (g_variant_is_of_type (t.v, G_VARIANT_TYPE ("(si)")));
  g_variant_get (t.v, "(&si)", &name, &number);
  g_assert_cmpstr (name, ==, "answer");
  g_assert_cmpint (number, ==, 42);
  g_assert_cmpuint (t.u, ==, G_MAXUINT);
  g_assert_cmpint (t.i64, ==, G_MININT64);
  g_assert_cmpuint (t.u64, ==, G_MAXUINT64);
  g_assert_cmpint (t.e, ==, AG_TASK_FAILED);
  g_assert_cmpuint (t.f, ==, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS);
  g_assert_cmpstrv (t.strv, ((const char *[]) { "a", "copy", "of", "its", "own", NULL }));
  g_strfreev (t.strv);
  g_assert_nonnull (t.generic);
  g_assert_true (G_VALUE_HOLDS_UINT64 (t.generic));
  g_assert_cmpuint (g_value_get_uint64 (t.generic), ==, G_GUINT64_CONSTANT (1) << 40);
  g_assert_null (t.sleep_value);
  g_assert_true (t.slept);
  g_assert_cmpint (t.sleep_ms, >=, 95);
  g_assert_cmpint (t.main_task_value, ==, 7);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  g_assert_null (ag_task_get_value (AG_TASK (job)));

  /* The object awaited is ours alone now: the tasks let go of it. */
  g_clear_object (&t.o);
  g_assert_null (t.sent_object);

  g_free (t.s);
  g_variant_unref (t.v);
  g_clear_pointer (&t.generic, value_free);
}

typedef struct
{
  GError *error;
  int     value;
  gboolean after;
} ErrorAtAwait;

static void
error_at_await_body (AgJob    *job,
                     gpointer  user_data)
{
  ErrorAtAwait *e = user_data;

  e->value = ag_job_await_int (ag_test_task_new_error_after (20, TEST_ERROR, 9, "disk on fire"),
                               &e->error);
  e->after = TRUE;
}

static void
test_await_error_arrives_at_the_await (AgTestFixture *fixture,
                                       gconstpointer  data)
{
  ErrorAtAwait e = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, error_at_await_body, &e, NULL);

  run_until_finished (fixture, job);

  g_assert_true (e.after);
  g_assert_error (e.error, TEST_ERROR, 9);
  g_assert_cmpstr (e.error->message, ==, "disk on fire");
  g_assert_cmpint (e.value, ==, 0);
  /* Caught: the job returned normally. */
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  g_clear_error (&e.error);
}

static void
wrong_type_body (AgJob    *job,
                 gpointer  user_data)
{
  GError **error = user_data;
  GValue value = G_VALUE_INIT;
  int n;

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, "not a number");

  n = ag_job_await_int (task_new_value_after (0, &value), error);
  g_assert_cmpint (n, ==, 0);
}

/* A value of another type is an error to handle, not a zero to trust. */
static void
test_await_value_of_wrong_type_fails_with_type_mismatch (AgTestFixture *fixture,
                                                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, wrong_type_body, &error, NULL);

  run_until_finished (fixture, job);
  g_assert_error (error, AG_ERROR, AG_ERROR_TYPE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "gchararray"));
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
}

typedef struct
{
  GValue *value;
  GError *error;
} AwaitJob;

static void
inner_returns_string_body (AgJob    *job,
                           gpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  int n = ag_job_await_int (ag_test_task_new_int_after (50, 5), &error);

  g_assert_no_error (error);
  if (n == 5)
    ag_task_return_string (AG_TASK (job), "inner says five");
}

static void
await_job_body (AgJob    *job,
                gpointer  user_data)
{
  AwaitJob *aj = user_data;
  g_autoptr(AgJob) inner = ag_engine_spawn (ag_task_get_engine (AG_TASK (job)), inner_returns_string_body,
                                            NULL, NULL);

  aj->value = ag_job_await (g_object_ref (AG_TASK (inner)), &aj->error);
}

static void
test_await_job_gives_the_other_jobs_value (AgTestFixture *fixture,
                                           gconstpointer  data)
{
  AwaitJob aj = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, await_job_body, &aj, NULL);

  run_until_finished (fixture, job);

  g_assert_no_error (aj.error);
  g_assert_nonnull (aj.value);
  g_assert_cmpstr (g_value_get_string (aj.value), ==, "inner says five");
  g_clear_pointer (&aj.value, value_free);
}

static void
test_await_outside_job_fails_with_not_in_job (AgTestFixture *fixture,
                                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AgJob) other = NULL;
  AgTask *task;
  GValue *value;
  int ran = 0;

  /* Each typed await takes the task and frees it. */
#define CHECK_NOT_IN_JOB(call)                                              \
  G_STMT_START {                                                            \
    task = ag_task_new (mark_ran, &ran, NULL);                              \
    g_object_add_weak_pointer (G_OBJECT (task), (gpointer *) &task);        \
    (void) (call);                                                          \
    g_assert_error (error, AG_ERROR, AG_ERROR_NOT_IN_JOB);                  \
    g_assert_null (task);                                                   \
    g_clear_error (&error);                                                 \
  } G_STMT_END

  CHECK_NOT_IN_JOB (value = ag_job_await (task, &error));
  g_assert_null (value);
  CHECK_NOT_IN_JOB (ag_job_await_int (task, &error));
  CHECK_NOT_IN_JOB (ag_job_await_boolean (task, &error));
  CHECK_NOT_IN_JOB (ag_job_await_double (task, &error));
  CHECK_NOT_IN_JOB (ag_job_await_string (task, &error));
  CHECK_NOT_IN_JOB (ag_job_await_object (task, &error));
  CHECK_NOT_IN_JOB (ag_job_await_variant (task, &error));
#undef CHECK_NOT_IN_JOB

  g_assert_false (ag_job_sleep (10, &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_NOT_IN_JOB);
  g_clear_error (&error);

  other = ag_engine_spawn (fixture->engine, inner_returns_string_body, NULL, NULL);
  value = ag_job_await (g_object_ref (AG_TASK (other)), &error);
  g_assert_null (value);
  g_assert_error (error, AG_ERROR, AG_ERROR_NOT_IN_JOB);
  g_clear_error (&error);

  /* Nothing ran, and the other job was left alone. */
  ag_test_run_for (fixture->context, 20);
  g_assert_cmpint (g_atomic_int_get (&ran), ==, 0);
  run_until_finished (fixture, other);
  g_assert_cmpint (ag_task_get_state (AG_TASK (other)), ==, AG_TASK_SUCCEEDED);
}

typedef struct
{
  AgTask *task;
  GError *error;
} NotInJobThread;

static gpointer
await_from_thread (gpointer data)
{
  NotInJobThread *t = data;
  GValue *value = ag_job_await (t->task, &t->error);

  t->task = NULL;
  g_assert_null (value);
  return NULL;
}

static void
test_await_from_other_thread_during_job_fails_with_not_in_job (AgTestFixture *fixture,
                                                               gconstpointer  data)
{
  Steps steps = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, await_once_body, &steps, NULL);
  NotInJobThread t = { 0 };
  GThread *thread;
  int ran = 0;

  t.task = ag_task_new (mark_ran, &ran, NULL);
  thread = g_thread_new ("await-from-thread", await_from_thread, &t);
  g_thread_join (thread);
  g_assert_error (t.error, AG_ERROR, AG_ERROR_NOT_IN_JOB);
  g_clear_error (&t.error);

  run_until_finished (fixture, job);
  g_assert_cmpint (job_value_int (job), ==, 43);
  g_assert_cmpint (g_atomic_int_get (&ran), ==, 0);
  steps_clear (&steps);
}

typedef struct
{
  AgTask *already_run;
  GError *error;
  GValue *value;
  int     next;
} AlreadyRun;

static void
await_already_run_body (AgJob    *job,
                        gpointer  user_data)
{
  AlreadyRun *ar = user_data;
  g_autoptr(GError) error = NULL;

  ar->value = ag_job_await (g_object_ref (ar->already_run), &ar->error);

  /* The job carries on normally. */
  ar->next = ag_job_await_int (ag_test_task_new_int_after (10, 3), &error);
  g_assert_no_error (error);
}

/* A task somebody else runs is waited for, not run again. */
static void
test_await_task_someone_else_runs_waits_for_it (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  AgTestOutcome outcome;
  AlreadyRun ar = { 0 };
  g_autoptr(AgJob) job = NULL;

  ar.already_run = ag_test_task_new_int_after (0, 1);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, ar.already_run, NULL, ag_test_outcome_callback, &outcome);

  job = ag_engine_spawn (fixture->engine, await_already_run_body, &ar, NULL);
  run_until_finished (fixture, job);
  ag_test_run_until (fixture->context, outcome.n_calls == 1, AG_TEST_SAFETY_MS);

  g_assert_no_error (ar.error);
  g_assert_cmpint (ag_test_value_get_int (ar.value), ==, 1);
  ag_test_value_free (ar.value);
  g_assert_cmpint (ar.next, ==, 3);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  /* The task's own run was not disturbed. */
  g_assert_no_error (outcome.error);
  g_assert_cmpint (ag_test_value_get_int (outcome.value), ==, 1);

  g_clear_error (&ar.error);
  g_object_unref (ar.already_run);
  ag_test_outcome_clear (&outcome);
}

static void
await_multi_body (AgJob    *job,
                  gpointer  user_data)
{
  GError **error = user_data;
  AgMultiTask *multi = ag_multi_task_new ();
  g_autoptr(GValue) value = NULL;
  GArray *values;
  int sum = 0;

  for (int i = 1; i <= 10; i++)
    multi_add_take (multi, ag_test_task_new_int_after (5 * i, i));

  value = ag_job_await (AG_TASK (multi), error);
  if (value == NULL)
    return;

  values = g_value_get_boxed (value);
  for (guint i = 0; i < values->len; i++)
    sum += g_value_get_int (&g_array_index (values, GValue, i));
  ag_task_return_int (AG_TASK (job), sum);
}

static void
test_await_multi_task_gives_all_values (AgTestFixture *fixture,
                                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, await_multi_body, &error, NULL);

  run_until_finished (fixture, job);
  g_assert_no_error (error);
  g_assert_cmpint (job_value_int (job), ==, 55);
}

/* Ending */

typedef enum
{
  END_RETURN_INT,
  END_RETURN_VALUE,
  END_RETURN_ERROR,
  END_RETURN_CANCELLED_ERROR,
  END_NO_RETURN,
  END_UNCAUGHT_AWAIT_ERROR,
} EndKind;

static void
end_body (AgJob    *job,
          gpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  ag_job_sleep (20, &error);
  g_assert_no_error (error);

  switch ((EndKind) GPOINTER_TO_INT (user_data))
    {
    case END_RETURN_INT:
      ag_task_return_int (AG_TASK (job), 99);
      break;
    case END_RETURN_VALUE:
      g_value_init (&value, G_TYPE_STRV);
      g_value_take_boxed (&value, g_strsplit ("a b c", " ", -1));
      ag_task_return_value (AG_TASK (job), &value);
      break;
    case END_RETURN_ERROR:
      ag_task_return_error (AG_TASK (job), g_error_new_literal (TEST_ERROR, 3, "job says no"));
      break;
    case END_RETURN_CANCELLED_ERROR:
      ag_task_return_error (AG_TASK (job), g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "gave up"));
      break;
    case END_NO_RETURN:
      break;
    case END_UNCAUGHT_AWAIT_ERROR:
      ag_job_await (ag_test_task_new_error_after (10, TEST_ERROR, 4, "uncaught"), &error);
      if (error != NULL)
        ag_task_return_error (AG_TASK (job), g_steal_pointer (&error));
      break;
    default:
      g_assert_not_reached ();
    }
}

static AgJob *
spawn_end (AgTestFixture *fixture,
           EndKind        kind,
           StateLog      *log)
{
  AgJob *job = ag_engine_spawn (fixture->engine, end_body, GINT_TO_POINTER (kind), NULL);

  state_log_watch (log, job);
  run_until_finished (fixture, job);

  return job;
}

static void
test_end_return_value_succeeds_with_it (AgTestFixture *fixture,
                                        gconstpointer  data)
{
  StateLog log;
  static const AgTaskState expected[] = { AG_TASK_SUCCEEDED };
  g_autoptr(AgJob) job = spawn_end (fixture, END_RETURN_INT, &log);
  g_autoptr(AgJob) strv_job = NULL;
  const char * const *strv;

  g_assert_cmpint (job_value_int (job), ==, 99);
  g_assert_null (ag_task_get_error (AG_TASK (job)));
  state_log_assert (&log, expected, G_N_ELEMENTS (expected));
  state_log_clear (&log);

  strv_job = spawn_end (fixture, END_RETURN_VALUE, &log);
  g_assert_cmpint (ag_task_get_state (AG_TASK (strv_job)), ==, AG_TASK_SUCCEEDED);
  g_assert_true (G_VALUE_HOLDS (ag_task_get_value (AG_TASK (strv_job)), G_TYPE_STRV));
  strv = g_value_get_boxed (ag_task_get_value (AG_TASK (strv_job)));
  g_assert_cmpuint (g_strv_length ((char **) strv), ==, 3);
  g_assert_cmpstr (strv[2], ==, "c");
  state_log_clear (&log);
}

static void
test_end_return_error_fails_with_it (AgTestFixture *fixture,
                                     gconstpointer  data)
{
  StateLog log;
  static const AgTaskState expected[] = { AG_TASK_FAILED };
  g_autoptr(AgJob) job = spawn_end (fixture, END_RETURN_ERROR, &log);
  g_autoptr(AgJob) uncaught = NULL;

  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_FAILED);
  g_assert_error (ag_task_get_error (AG_TASK (job)), TEST_ERROR, 3);
  g_assert_cmpstr (ag_task_get_error (AG_TASK (job))->message, ==, "job says no");
  g_assert_null (ag_task_get_value (AG_TASK (job)));
  state_log_assert (&log, expected, G_N_ELEMENTS (expected));
  state_log_clear (&log);

  uncaught = spawn_end (fixture, END_UNCAUGHT_AWAIT_ERROR, &log);
  g_assert_cmpint (ag_task_get_state (AG_TASK (uncaught)), ==, AG_TASK_FAILED);
  g_assert_error (ag_task_get_error (AG_TASK (uncaught)), TEST_ERROR, 4);
  state_log_clear (&log);
}

static void
test_end_return_cancelled_error_ends_cancelled (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  StateLog log;
  static const AgTaskState expected[] = { AG_TASK_CANCELLED };
  g_autoptr(AgJob) job = spawn_end (fixture, END_RETURN_CANCELLED_ERROR, &log);

  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);
  g_assert_error (ag_task_get_error (AG_TASK (job)), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  state_log_assert (&log, expected, G_N_ELEMENTS (expected));
  state_log_clear (&log);
}

static void
test_end_no_return_succeeds_without_value (AgTestFixture *fixture,
                                           gconstpointer  data)
{
  StateLog log;
  static const AgTaskState expected[] = { AG_TASK_SUCCEEDED };
  g_autoptr(AgJob) job = spawn_end (fixture, END_NO_RETURN, &log);

  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  g_assert_null (ag_task_get_value (AG_TASK (job)));
  g_assert_null (ag_task_get_error (AG_TASK (job)));
  state_log_assert (&log, expected, G_N_ELEMENTS (expected));
  state_log_clear (&log);
}

/* A job returns once, like any task: each ag_task_return_*() after the
 * first is refused with a critical naming the call, and the first outcome
 * stands. */
typedef enum
{
  TWICE_AFTER_VALUE,
  TWICE_AFTER_ERROR,
} TwiceKind;

static void
return_twice_body (AgJob    *job,
                   gpointer  user_data)
{
  g_auto(GValue) value = G_VALUE_INIT;

  /* Returned after an await, as a real job does. */
  ag_job_sleep (10, NULL);

  if (GPOINTER_TO_INT (user_data) == TWICE_AFTER_VALUE)
    ag_task_return_int (AG_TASK (job), 1);
  else
    ag_task_return_error (AG_TASK (job), g_error_new_literal (TEST_ERROR, 1, "first"));

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL,
                         "*ag_task_return_int*already returned*");
  ag_task_return_int (AG_TASK (job), 2);
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL,
                         "*ag_task_return_string*already returned*");
  ag_task_return_string (AG_TASK (job), "three");
  g_test_assert_expected_messages ();

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, 4);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL,
                         "*ag_task_return_value*already returned*");
  ag_task_return_value (AG_TASK (job), &value);
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL,
                         "*ag_task_return_error*already returned*");
  ag_task_return_error (AG_TASK (job), g_error_new_literal (TEST_ERROR, 5, "fifth"));
  g_test_assert_expected_messages ();
}

static void
test_end_second_return_after_a_value_is_critical (AgTestFixture *fixture,
                                                  gconstpointer  data)
{
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, return_twice_body,
                                          GINT_TO_POINTER (TWICE_AFTER_VALUE), NULL);

  run_until_finished (fixture, job);
  g_assert_cmpint (job_value_int (job), ==, 1);
  g_assert_null (ag_task_get_error (AG_TASK (job)));
}

static void
test_end_return_after_an_error_is_critical (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, return_twice_body,
                                          GINT_TO_POINTER (TWICE_AFTER_ERROR), NULL);

  run_until_finished (fixture, job);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_FAILED);
  g_assert_error (ag_task_get_error (AG_TASK (job)), TEST_ERROR, 1);
  g_assert_cmpstr (ag_task_get_error (AG_TASK (job))->message, ==, "first");
  g_assert_null (ag_task_get_value (AG_TASK (job)));
}

/* State */

typedef struct
{
  gboolean after;
  GError  *error;
} PauseBody;

static void
pause_state_body (AgJob    *job,
                  gpointer  user_data)
{
  PauseBody *pb = user_data;
  int n = ag_job_await_int (ag_test_task_new_int_after (200, 8), &pb->error);

  pb->after = TRUE;
  ag_task_return_int (AG_TASK (job), n);
}

static void
test_state_transitions_notify_on_main_thread (AgTestFixture *fixture,
                                              gconstpointer  data)
{
  static const AgTaskState expected[] = {
    STATE_PAUSED, AG_TASK_RUNNING, STATE_PAUSED, AG_TASK_RUNNING, AG_TASK_SUCCEEDED
  };
  PauseBody pb = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, pause_state_body, &pb, NULL);
  AgTaskState state;
  StateLog log;

  state_log_watch (&log, job);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_RUNNING);

  ag_job_pause (job);
  g_assert_true (ag_job_get_paused (job));
  /* Pausing a paused job does nothing. */
  ag_job_pause (job);
  ag_test_run_for (fixture->context, 30);
  ag_job_resume (job);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_RUNNING);
  ag_job_pause (job);
  ag_job_resume (job);
  run_until_finished (fixture, job);

  g_object_get (job, "state", &state, NULL);
  g_assert_cmpint (state, ==, AG_TASK_SUCCEEDED);
  state_log_assert (&log, expected, G_N_ELEMENTS (expected));
  g_assert_cmpint (job_value_int (job), ==, 8);
  g_assert_no_error (pb.error);
  state_log_clear (&log);
}

typedef struct
{
  guint         n_error_notifies;
  gboolean      error_readable;
  gboolean      error_property_set;
  gboolean      outcome_readable_at_state_notify;
} ErrorNotify;

static void
on_error_notify (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  ErrorNotify *en = user_data;
  g_autoptr(GError) property = NULL;

  en->n_error_notifies++;
  en->error_readable = g_error_matches (ag_task_get_error (AG_TASK (AG_JOB (object))), TEST_ERROR, 3);
  g_object_get (object, "error", &property, NULL);
  en->error_property_set = g_error_matches (property, TEST_ERROR, 3);
}

static void
on_final_state_notify (GObject    *object,
                       GParamSpec *pspec,
                       gpointer    user_data)
{
  ErrorNotify *en = user_data;

  en->outcome_readable_at_state_notify =
    ag_task_get_state (AG_TASK (AG_JOB (object))) == AG_TASK_FAILED &&
    g_error_matches (ag_task_get_error (AG_TASK (AG_JOB (object))), TEST_ERROR, 3);
}

static void
test_state_error_is_readable_when_notified (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  ErrorNotify en = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, end_body,
                                          GINT_TO_POINTER (END_RETURN_ERROR), NULL);

  g_signal_connect (job, "notify::error", G_CALLBACK (on_error_notify), &en);
  g_signal_connect (job, "notify::state", G_CALLBACK (on_final_state_notify), &en);
  run_until_finished (fixture, job);

  g_assert_true (en.outcome_readable_at_state_notify);
  g_assert_cmpuint (en.n_error_notifies, ==, 1);
  /* A handler of notify::error sees the error it was told about. */
  g_assert_true (en.error_readable);
  g_assert_true (en.error_property_set);
}

/* Cancel */

typedef struct
{
  gint64   start_us;
  double   await_ended_ms;
  GError  *error;
  int      value;
  gboolean cleanup_ran;
  gboolean second_await_done;
  int      second_value;
  GError  *second_error;
  AgTask  *task;            /* a ref to what the job awaited */
  int      then;            /* what to do after the cancel */
} CancelBody;

enum
{
  THEN_RETURN_NOTHING,
  THEN_AWAIT_AND_RETURN,
  THEN_AWAIT_AND_RETURN_NOTHING,
};

static void
cancel_body (AgJob    *job,
             gpointer  user_data)
{
  CancelBody *cb = user_data;

  cb->value = ag_job_await_int (g_object_ref (cb->task), &cb->error);
  cb->await_ended_ms = ag_test_elapsed_ms (cb->start_us);
  cb->cleanup_ran = TRUE;

  if (!g_error_matches (cb->error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      cb->then == THEN_RETURN_NOTHING)
    return;

  /* Caught: the next await runs normally. */
  cb->second_value = ag_job_await_int (ag_test_task_new_int_after (50, 11), &cb->second_error);
  cb->second_await_done = TRUE;
  if (cb->then == THEN_AWAIT_AND_RETURN)
    ag_task_return_int (AG_TASK (job), cb->second_value);
}

static void
cancel_body_clear (CancelBody *cb)
{
  g_clear_error (&cb->error);
  g_clear_error (&cb->second_error);
  g_clear_object (&cb->task);
}

static AgJob *
spawn_and_cancel_at_100ms (AgTestFixture *fixture,
                           CancelBody    *cb,
                           double        *cancel_ms)
{
  AgJob *job;

  cb->start_us = g_get_monotonic_time ();
  if (cb->task == NULL)
    cb->task = ag_test_task_new_int_after (1000, 1);
  job = ag_engine_spawn (fixture->engine, cancel_body, cb, NULL);
  ag_test_run_for (fixture->context, 100);
  g_assert_false (cb->cleanup_ran);

  *cancel_ms = ag_test_elapsed_ms (cb->start_us);
  ag_task_cancel (AG_TASK (job));
  /* Delivered later, never inside the cancel. */
  g_assert_false (cb->cleanup_ran);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_RUNNING);

  return job;
}

static void
test_cancel_fails_pending_await_promptly (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  CancelBody cb = { 0 };
  double cancel_ms;
  g_autoptr(AgJob) job = spawn_and_cancel_at_100ms (fixture, &cb, &cancel_ms);
  StateLog log;
  static const AgTaskState expected[] = { AG_TASK_CANCELLED };

  state_log_watch (&log, job);
  run_until_finished (fixture, job);

  g_test_message ("cancelled at %.0f ms, await ended at %.0f ms", cancel_ms, cb.await_ended_ms);
  g_assert_true (cb.cleanup_ran);
  g_assert_error (cb.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpfloat (cb.await_ended_ms - cancel_ms, <, 200);
  /* Returned without a value after an uncaught cancel: cancelled. */
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);
  g_assert_error (ag_task_get_error (AG_TASK (job)), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (ag_task_get_value (AG_TASK (job)));
  state_log_assert (&log, expected, G_N_ELEMENTS (expected));
  /* What it awaited was cancelled too, and its late result is dropped. */
  g_assert_cmpint (ag_task_get_state (cb.task), ==, AG_TASK_CANCELLED);
  ag_test_run_for (fixture->context, 1000);
  g_assert_cmpint (ag_task_get_state (cb.task), ==, AG_TASK_CANCELLED);
  g_assert_false (cb.second_await_done);

  state_log_clear (&log);
  cancel_body_clear (&cb);
}

static void
test_cancel_sleep_fails_promptly (AgTestFixture *fixture,
                                  gconstpointer  data)
{
  CancelBody cb = { 0 };
  double cancel_ms;
  g_autoptr(AgJob) job = NULL;

  cb.task = ag_task_new_sleep (5000);
  job = spawn_and_cancel_at_100ms (fixture, &cb, &cancel_ms);
  run_until_finished (fixture, job);

  g_assert_error (cb.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpfloat (cb.await_ended_ms - cancel_ms, <, 200);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);
  cancel_body_clear (&cb);
}

static void
test_cancel_caught_then_next_await_runs_normally (AgTestFixture *fixture,
                                                  gconstpointer  data)
{
  CancelBody cb = { .then = THEN_AWAIT_AND_RETURN };
  double cancel_ms;
  g_autoptr(AgJob) job = spawn_and_cancel_at_100ms (fixture, &cb, &cancel_ms);

  run_until_finished (fixture, job);

  g_assert_error (cb.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (cb.second_await_done);
  g_assert_no_error (cb.second_error);
  g_assert_cmpint (cb.second_value, ==, 11);
  g_assert_cmpint (job_value_int (job), ==, 11);
  cancel_body_clear (&cb);
}

static void
test_cancel_caught_then_return_nothing_succeeds (AgTestFixture *fixture,
                                                 gconstpointer  data)
{
  CancelBody cb = { .then = THEN_AWAIT_AND_RETURN_NOTHING };
  double cancel_ms;
  g_autoptr(AgJob) job = spawn_and_cancel_at_100ms (fixture, &cb, &cancel_ms);

  run_until_finished (fixture, job);

  /* It caught the cancel and carried on: the cancel is spent. */
  g_assert_true (cb.second_await_done);
  g_assert_no_error (cb.second_error);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  g_assert_null (ag_task_get_value (AG_TASK (job)));
  cancel_body_clear (&cb);
}

typedef struct
{
  int      ran;          /* atomic: set if the task's function ever ran */
  AgTask  *task;
  GError  *error;
  double   await_ms;
  int      next;
  GError  *next_error;
} CancelNothingPending;

static void
cancel_self_then_await_body (AgJob    *job,
                             gpointer  user_data)
{
  CancelNothingPending *c = user_data;
  gint64 start;

  /* Nothing pending: the next await fails at once. */
  ag_task_cancel (AG_TASK (job));
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_RUNNING);

  start = g_get_monotonic_time ();
  ag_job_await (g_object_ref (c->task), &c->error);
  c->await_ms = ag_test_elapsed_ms (start);

  /* One-shot: the await after that runs. */
  c->next = ag_job_await_int (ag_test_task_new_int_after (10, 21), &c->next_error);
  ag_task_return_int (AG_TASK (job), c->next);
}

static void
test_cancel_with_nothing_pending_fails_next_await_at_once_and_cancels_its_task (AgTestFixture *fixture,
                                                           gconstpointer  data)
{
  CancelNothingPending c = { 0 };
  g_autoptr(AgJob) job = NULL;

  c.task = ag_task_new (mark_ran, &c.ran, NULL);
  job = ag_engine_spawn (fixture->engine, cancel_self_then_await_body, &c, NULL);
  run_until_finished (fixture, job);
  ag_test_run_for (fixture->context, 50);

  g_assert_error (c.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_test_message ("the cancelled await ended after %.1f ms", c.await_ms);
  g_assert_cmpfloat (c.await_ms, <, 50);
  /* Its task ended cancelled, as it would have had the cancel come just
   * after the await, and its function never ran. */
  g_assert_cmpint (g_atomic_int_get (&c.ran), ==, 0);
  g_assert_cmpint (ag_task_get_state (c.task), ==, AG_TASK_CANCELLED);
  g_assert_no_error (c.next_error);
  g_assert_cmpint (job_value_int (job), ==, 21);

  g_clear_error (&c.error);
  g_clear_object (&c.task);
}

typedef struct
{
  PauseBody pb;
  gint64    start_us;
  double    after_ms;
} PausedCancel;

static void
paused_cancel_body (AgJob    *job,
                    gpointer  user_data)
{
  PausedCancel *pc = user_data;

  ag_job_await_int (ag_test_task_new_int_after (1000, 1), &pc->pb.error);
  pc->after_ms = ag_test_elapsed_ms (pc->start_us);
  pc->pb.after = TRUE;
}

static void
test_cancel_paused_job_resumes_it_with_cancelled (AgTestFixture *fixture,
                                                  gconstpointer  data)
{
  PausedCancel pc = { .start_us = g_get_monotonic_time () };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, paused_cancel_body, &pc, NULL);
  static const AgTaskState expected[] = { STATE_PAUSED, AG_TASK_RUNNING, AG_TASK_CANCELLED };
  StateLog log;

  state_log_watch (&log, job);
  ag_job_pause (job);
  ag_test_run_for (fixture->context, 100);
  ag_task_cancel (AG_TASK (job));
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_RUNNING);
  g_assert_false (pc.pb.after);
  run_until_finished (fixture, job);

  g_assert_true (pc.pb.after);
  g_assert_cmpfloat (pc.after_ms, <, 400);
  g_assert_error (pc.pb.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);
  state_log_assert (&log, expected, G_N_ELEMENTS (expected));
  state_log_clear (&log);
  g_clear_error (&pc.pb.error);
}

static void
test_cancel_paused_job_with_held_result_sees_cancel (AgTestFixture *fixture,
                                                     gconstpointer  data)
{
  PauseBody pb = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, pause_state_body, &pb, NULL);

  ag_job_pause (job);
  /* The 200 ms task finishes while the job is paused: its result is held. */
  ag_test_run_for (fixture->context, 400);
  g_assert_false (pb.after);
  ag_task_cancel (AG_TASK (job));
  g_assert_false (pb.after);
  run_until_finished (fixture, job);

  /* Whatever the work ended with, a cancelled job sees the cancel. */
  g_assert_true (pb.after);
  g_assert_error (pb.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* It returned 0 after catching it: succeeded. */
  g_assert_cmpint (job_value_int (job), ==, 0);
  g_clear_error (&pb.error);
}

/* A task the job ran ends while the job is paused, and the job is
 * cancelled before it resumes: the job never takes that outcome, so the
 * task's cancellable is cancelled, inside the cancel, for the work to take
 * back what it handed over (a read puts back its items). */
typedef struct
{
  AgTask       *task;         /* the main-context task, until the test ends it */
  GCancellable *cancellable;  /* the one its work was given */
  GError       *error;        /* what the job's await gave */
} HeldWork;

static void
keep_main_task (AgTask       *task,
                gpointer      user_data,
                GCancellable *cancellable)
{
  HeldWork *held = user_data;

  held->task = g_object_ref (task);
  held->cancellable = g_object_ref (cancellable);
}

static void
await_held_work_body (AgJob    *job,
                      gpointer  user_data)
{
  HeldWork *held = user_data;
  GValue *value = ag_job_await (ag_task_new_main (keep_main_task, held, NULL), &held->error);

  g_assert_null (value);
}

static void
test_cancel_with_held_result_cancels_the_tasks_cancellable (AgTestFixture *fixture,
                                                            gconstpointer  data)
{
  HeldWork held = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, await_held_work_body, &held, NULL);
  g_autoptr(AgTask) task = NULL;

  g_assert_nonnull (held.task);
  ag_job_pause (job);
  task = g_steal_pointer (&held.task);
  ag_task_return_boolean (task, TRUE);
  ag_test_run_for (fixture->context, 20);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_SUCCEEDED);
  g_assert_false (g_cancellable_is_cancelled (held.cancellable));

  ag_task_cancel (AG_TASK (job));
  g_assert_true (g_cancellable_is_cancelled (held.cancellable));
  run_until_finished (fixture, job);
  g_assert_error (held.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&held.error);
  g_clear_object (&held.cancellable);
}

/* A task somebody else ran is theirs: a job that awaited it and was
 * cancelled while it held its outcome leaves its cancellable alone. */
static void
await_the_given_task_body (AgJob    *job,
                           gpointer  user_data)
{
  HeldWork *held = user_data;
  GValue *value = ag_job_await (g_object_ref (held->task), &held->error);

  g_assert_null (value);
}

static void
test_cancel_with_held_result_leaves_others_tasks_alone (AgTestFixture *fixture,
                                                        gconstpointer  data)
{
  HeldWork held = { 0 };
  g_autoptr(AgTask) task = ag_task_new_main (keep_main_task, &held, NULL);
  g_autoptr(AgJob) job = NULL;
  g_autoptr(AgTask) running = NULL;

  ag_engine_run_async (fixture->engine, task, NULL, NULL, NULL);
  ag_test_run_for (fixture->context, 20);
  running = g_steal_pointer (&held.task);
  g_assert_true (running == task);
  held.task = task;
  job = ag_engine_spawn (fixture->engine, await_the_given_task_body, &held, NULL);
  ag_job_pause (job);
  ag_task_return_boolean (task, TRUE);
  ag_test_run_for (fixture->context, 20);

  ag_task_cancel (AG_TASK (job));
  g_assert_false (g_cancellable_is_cancelled (held.cancellable));
  run_until_finished (fixture, job);
  g_assert_error (held.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&held.error);
  g_clear_object (&held.cancellable);
}

static void
test_cancel_finished_job_does_nothing (AgTestFixture *fixture,
                                       gconstpointer  data)
{
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, end_body,
                                          GINT_TO_POINTER (END_RETURN_INT), NULL);
  g_autoptr(AgJob) failed = ag_engine_spawn (fixture->engine, end_body,
                                             GINT_TO_POINTER (END_RETURN_ERROR), NULL);
  StateLog log;

  run_until_finished (fixture, job);
  run_until_finished (fixture, failed);
  state_log_watch (&log, job);

  ag_task_cancel (AG_TASK (job));
  ag_task_cancel (AG_TASK (failed));
  ag_test_run_for (fixture->context, 20);

  g_assert_cmpint (job_value_int (job), ==, 99);
  g_assert_null (ag_task_get_error (AG_TASK (job)));
  g_assert_cmpint (ag_task_get_state (AG_TASK (failed)), ==, AG_TASK_FAILED);
  g_assert_error (ag_task_get_error (AG_TASK (failed)), TEST_ERROR, 3);
  state_log_assert (&log, NULL, 0);
  state_log_clear (&log);
}

typedef struct
{
  GError *error;
  AgJob  *inner;
  gboolean inner_after;
  GError *inner_error;
} NestedCancel;

static void
nested_inner_body (AgJob    *job,
                   gpointer  user_data)
{
  NestedCancel *nc = user_data;

  ag_job_await_int (ag_test_task_new_int_after (2000, 1), &nc->inner_error);
  nc->inner_after = TRUE;
}

static void
nested_outer_body (AgJob    *job,
                   gpointer  user_data)
{
  NestedCancel *nc = user_data;
  g_autoptr(GValue) value = NULL;

  nc->inner = ag_engine_spawn (ag_task_get_engine (AG_TASK (job)), nested_inner_body, nc, NULL);
  value = ag_job_await (g_object_ref (AG_TASK (nc->inner)), &nc->error);
}

static void
test_nested_cancel_outer_cancels_inner (AgTestFixture *fixture,
                                        gconstpointer  data)
{
  NestedCancel nc = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, nested_outer_body, &nc, NULL);
  gint64 cancel_us;

  ag_test_run_for (fixture->context, 100);
  g_assert_nonnull (nc.inner);
  g_assert_cmpint (ag_task_get_state (AG_TASK (nc.inner)), ==, AG_TASK_RUNNING);

  cancel_us = g_get_monotonic_time ();
  ag_task_cancel (AG_TASK (job));
  run_until_finished (fixture, job);
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (nc.inner)), AG_TEST_SAFETY_MS);

  g_test_message ("outer and inner ended %.0f ms after the cancel", ag_test_elapsed_ms (cancel_us));
  g_assert_cmpfloat (ag_test_elapsed_ms (cancel_us), <, 500);
  g_assert_error (nc.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);
  g_assert_true (nc.inner_after);
  g_assert_error (nc.inner_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (ag_task_get_state (AG_TASK (nc.inner)), ==, AG_TASK_CANCELLED);

  g_clear_error (&nc.error);
  g_clear_error (&nc.inner_error);
  g_clear_object (&nc.inner);
}

/* Nesting */

typedef struct
{
  AgJob   *outer_current_before;
  AgJob   *inner_current;
  AgJob   *outer_current_after_spawn;
  AgJob   *inner;
  guint    inner_step;
  GError  *error;
  GValue  *value;
} SpawnInside;

static void
spawn_inside_inner_body (AgJob    *job,
                         gpointer  user_data)
{
  SpawnInside *si = user_data;
  g_autoptr(GError) error = NULL;
  int n;

  si->inner_current = ag_job_get_current ();
  si->inner_step = 1;
  n = ag_job_await_int (ag_test_task_new_int_after (50, 6), &error);
  g_assert_no_error (error);
  si->inner_step = 2;
  ag_task_return_int (AG_TASK (job), n * 7);
}

static void
spawn_inside_outer_body (AgJob    *job,
                         gpointer  user_data)
{
  SpawnInside *si = user_data;

  si->outer_current_before = ag_job_get_current ();
  si->inner = ag_engine_spawn (ag_task_get_engine (AG_TASK (job)), spawn_inside_inner_body, si, NULL);
  /* The inner body ran up to its await inside the spawn. */
  g_assert_cmpuint (si->inner_step, ==, 1);
  si->outer_current_after_spawn = ag_job_get_current ();
  si->value = ag_job_await (g_object_ref (AG_TASK (si->inner)), &si->error);
  if (si->value != NULL)
    ag_task_return_value (AG_TASK (job), si->value);
}

static void
test_nested_spawn_inside_job_and_await_it (AgTestFixture *fixture,
                                           gconstpointer  data)
{
  SpawnInside si = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, spawn_inside_outer_body, &si, NULL);

  run_until_finished (fixture, job);

  g_assert_true (si.outer_current_before == job);
  g_assert_true (si.inner_current == si.inner);
  g_assert_true (si.outer_current_after_spawn == job);
  g_assert_no_error (si.error);
  g_assert_cmpint (ag_test_value_get_int (si.value), ==, 42);
  g_assert_cmpint (job_value_int (job), ==, 42);
  g_assert_cmpint (job_value_int (si.inner), ==, 42);
  g_clear_pointer (&si.value, value_free);
  g_clear_object (&si.inner);
}

static void
failing_inner_body (AgJob    *job,
                    gpointer  user_data)
{
  ag_job_sleep (20, NULL);
  ag_task_return_error (AG_TASK (job), g_error_new_literal (TEST_ERROR, 77, "inner failed"));
}

static void
await_failing_job_body (AgJob    *job,
                        gpointer  user_data)
{
  GError **error = user_data;
  g_autoptr(AgJob) inner = ag_engine_spawn (ag_task_get_engine (AG_TASK (job)), failing_inner_body, NULL, NULL);
  GValue *value = ag_job_await (g_object_ref (AG_TASK (inner)), error);

  g_assert_null (value);
}

static void
test_nested_inner_failure_arrives_at_outer_await (AgTestFixture *fixture,
                                                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, await_failing_job_body, &error, NULL);

  run_until_finished (fixture, job);
  g_assert_error (error, TEST_ERROR, 77);
  g_assert_cmpstr (error->message, ==, "inner failed");
}

/* Pause and resume */

static void
test_pause_holds_result_until_resume (AgTestFixture *fixture,
                                      gconstpointer  data)
{
  PauseBody pb = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, pause_state_body, &pb, NULL);

  ag_test_run_for (fixture->context, 50);
  ag_job_pause (job);
  ag_test_run_for (fixture->context, 400);
  /* The 200 ms task is done, but the job does not see it. */
  g_assert_false (pb.after);
  g_assert_true (ag_job_get_paused (job));

  ag_job_resume (job);
  /* Delivered at the next iteration, not inside the resume. */
  g_assert_false (pb.after);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_RUNNING);
  ag_test_run_until (fixture->context, pb.after, AG_TEST_SAFETY_MS);

  g_assert_no_error (pb.error);
  g_assert_cmpint (job_value_int (job), ==, 8);
}

typedef struct
{
  gint64 start_us;
  double woke_ms;
  GError *error;
} SleepBody;

static void
sleep_300_body (AgJob    *job,
                gpointer  user_data)
{
  SleepBody *sb = user_data;

  ag_job_sleep (300, &sb->error);
  sb->woke_ms = ag_test_elapsed_ms (sb->start_us);
}

static void
test_pause_sleep_keeps_its_remainder (AgTestFixture *fixture,
                                      gconstpointer  data)
{
  SleepBody sb = { .start_us = g_get_monotonic_time () };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, sleep_300_body, &sb, NULL);

  ag_test_run_for (fixture->context, 100);
  ag_job_pause (job);
  ag_test_run_for (fixture->context, 300);
  g_assert_cmpfloat (sb.woke_ms, ==, 0);
  ag_job_resume (job);
  run_until_finished (fixture, job);

  g_test_message ("woke after %.0f ms", sb.woke_ms);
  g_assert_no_error (sb.error);
  g_assert_cmpfloat (sb.woke_ms, >=, 550);
  g_assert_cmpfloat (sb.woke_ms, <=, 900);
}

typedef struct
{
  gboolean paused_itself;
  gboolean after;
  int      value;
  GError  *error;
} PauseSelf;

static void
pause_self_then_await_body (AgJob    *job,
                            gpointer  user_data)
{
  PauseSelf *ps = user_data;

  ag_job_pause (job);
  ps->paused_itself = ag_job_get_paused (job);
  ps->value = ag_job_await_int (ag_test_task_new_int_after (20, 4), &ps->error);
  ps->after = TRUE;
}

static void
test_pause_before_await_holds_its_result (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  PauseSelf ps = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, pause_self_then_await_body, &ps, NULL);

  g_assert_true (ps.paused_itself);
  ag_test_run_for (fixture->context, 200);
  g_assert_false (ps.after);
  ag_job_resume (job);
  run_until_finished (fixture, job);

  g_assert_true (ps.after);
  g_assert_no_error (ps.error);
  g_assert_cmpint (ps.value, ==, 4);
}

static void
test_pause_resume_not_paused_is_critical (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  static const AgTaskState expected[] = { AG_TASK_SUCCEEDED };
  PauseBody pb = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, pause_state_body, &pb, NULL);
  StateLog log;

  state_log_watch (&log, job);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*ag_job_resume*not paused*");
  ag_job_resume (job);
  g_test_assert_expected_messages ();
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_RUNNING);

  run_until_finished (fixture, job);
  /* Once it has ended, resuming it does nothing (see below). */
  ag_job_resume (job);

  state_log_assert (&log, expected, G_N_ELEMENTS (expected));
  state_log_clear (&log);
}

/* Pause, resume and cancel have nothing to act on once a job has ended,
 * however it ended: they do nothing, quietly. */
static void
assert_control_is_quiet_no_op (AgTestFixture *fixture,
                               AgJob         *job)
{
  AgTaskState state = ag_task_get_state (AG_TASK (job));
  StateLog log;

  g_assert_true (ag_task_is_finished (AG_TASK (job)));
  state_log_watch (&log, job);

  ag_job_pause (job);
  ag_job_resume (job);
  ag_task_cancel (AG_TASK (job));
  ag_job_resume (job);
  ag_job_pause (job);
  ag_job_pause (job);
  ag_job_resume (job);
  ag_test_run_for (fixture->context, 20);

  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, state);
  state_log_assert (&log, NULL, 0);
  state_log_clear (&log);
}

static void
test_pause_resume_cancel_of_an_ended_job_are_quiet_no_ops (AgTestFixture *fixture,
                                                           gconstpointer  data)
{
  g_autoptr(AgJob) succeeded = ag_engine_spawn (fixture->engine, no_await_body, (gpointer) "x", NULL);
  g_autoptr(AgJob) failed = ag_engine_spawn (fixture->engine, end_body,
                                             GINT_TO_POINTER (END_RETURN_ERROR), NULL);
  g_autoptr(AgJob) cancelled = NULL;
  g_autoptr(AgJob) engine_gone = NULL;
  g_autoptr(AgJob) driven = ag_job_new (fixture->engine);
  g_autoptr(AgEngine) other_engine = ag_engine_new_for_context (fixture->context);
  CancelBody cb = { 0 };
  PauseBody pb = { 0 };
  double cancel_ms;

  run_until_finished (fixture, failed);
  cancelled = spawn_and_cancel_at_100ms (fixture, &cb, &cancel_ms);
  run_until_finished (fixture, cancelled);
  g_assert_cmpint (ag_task_get_state (AG_TASK (cancelled)), ==, AG_TASK_CANCELLED);
  engine_gone = ag_engine_spawn (other_engine, pause_state_body, &pb, NULL);
  g_clear_object (&other_engine);
  g_assert_cmpint (ag_task_get_state (AG_TASK (engine_gone)), ==, AG_TASK_CANCELLED);
  ag_task_return_value (AG_TASK (driven), NULL);

  assert_control_is_quiet_no_op (fixture, succeeded);
  assert_control_is_quiet_no_op (fixture, failed);
  assert_control_is_quiet_no_op (fixture, cancelled);
  assert_control_is_quiet_no_op (fixture, engine_gone);
  assert_control_is_quiet_no_op (fixture, driven);

  cancel_body_clear (&cb);
  g_clear_error (&pb.error);
}

static void
test_pause_resume_after_cancel_are_quiet_and_the_cancel_goes_through (AgTestFixture *fixture,
                                                                      gconstpointer  data)
{
  PausedCancel pc = { .start_us = g_get_monotonic_time () };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, paused_cancel_body, &pc, NULL);
  static const AgTaskState expected[] = { STATE_PAUSED, AG_TASK_RUNNING, AG_TASK_CANCELLED };
  StateLog log;

  state_log_watch (&log, job);
  ag_job_pause (job);
  ag_test_run_for (fixture->context, 50);

  /* The cancel resumes the job; a resume after it has nothing to do, and
   * a pause does not hold the cancel back. */
  ag_task_cancel (AG_TASK (job));
  ag_job_resume (job);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_RUNNING);
  ag_job_pause (job);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_RUNNING);
  run_until_finished (fixture, job);

  g_assert_true (pc.pb.after);
  g_assert_cmpfloat (pc.after_ms, <, 400);
  g_assert_error (pc.pb.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);
  state_log_assert (&log, expected, G_N_ELEMENTS (expected));
  state_log_clear (&log);
  g_clear_error (&pc.pb.error);
}

/* A job that catches its cancel goes on; the pause the cancel lifted
 * may still be resumed by a "Resume" button that knows nothing of it. */
typedef struct
{
  GError   *cancelled;
  gboolean  saw_cancel;
  int       after;
} CaughtCancel;

static void
caught_cancel_body (AgJob    *job,
                    gpointer  user_data)
{
  CaughtCancel *cc = user_data;
  g_autoptr(GError) error = NULL;

  ag_job_await_int (ag_test_task_new_int_after (1000, 1), &cc->cancelled);
  cc->saw_cancel = TRUE;
  cc->after = ag_job_await_int (ag_test_task_new_int_after (200, 2), &error);
  g_assert_no_error (error);
}

static void
test_resume_of_a_pause_a_caught_cancel_lifted_is_quiet (AgTestFixture *fixture,
                                                        gconstpointer  data)
{
  CaughtCancel cc = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, caught_cancel_body, &cc, NULL);

  ag_job_pause (job);
  ag_test_run_for (fixture->context, 50);
  ag_task_cancel (AG_TASK (job));
  ag_test_run_until (fixture->context, cc.saw_cancel, AG_TEST_SAFETY_MS);
  g_assert_error (cc.cancelled, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* Running, not paused: the resume has nothing to do, and says nothing. */
  g_assert_false (ag_job_get_paused (job));
  ag_job_resume (job);
  g_assert_false (ag_job_get_paused (job));

  /* A resume is owed once: the next one without a pause is an error. */
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*ag_job_resume*not paused*");
  ag_job_resume (job);
  g_test_assert_expected_messages ();

  run_until_finished (fixture, job);
  g_assert_cmpint (cc.after, ==, 2);
  g_clear_error (&cc.cancelled);
}

/* ag_job_may_resume() answers FALSE exactly where ag_job_resume() would be
 * a programming error, so that bindings can raise instead. */
static void
test_may_resume_tells_where_a_resume_is_an_error (AgTestFixture *fixture,
                                                  gconstpointer  data)
{
  CaughtCancel cc = { 0 };
  PauseBody pb = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, caught_cancel_body, &cc, NULL);
  g_autoptr(AgJob) cancelled = ag_engine_spawn (fixture->engine, pause_state_body, &pb, NULL);

  /* Running, never paused, or resumed already. */
  g_assert_false (ag_job_may_resume (job));
  ag_job_pause (job);
  g_assert_true (ag_job_may_resume (job));
  ag_job_resume (job);
  g_assert_false (ag_job_may_resume (job));

  /* A cancel lifts a pause: one resume is owed, even once the job caught
   * the cancel and went on. */
  ag_job_pause (job);
  ag_task_cancel (AG_TASK (job));
  g_assert_true (ag_job_may_resume (job));
  ag_test_run_until (fixture->context, cc.saw_cancel, AG_TEST_SAFETY_MS);
  g_assert_true (ag_job_may_resume (job));
  ag_job_resume (job);
  g_assert_false (ag_job_may_resume (job));

  /* A cancel the job's code has not seen yet. */
  ag_task_cancel (AG_TASK (cancelled));
  g_assert_true (ag_job_may_resume (cancelled));

  /* Ended. */
  run_until_finished (fixture, job);
  run_until_finished (fixture, cancelled);
  g_assert_true (ag_job_may_resume (job));
  g_assert_true (ag_job_may_resume (cancelled));
  g_assert_cmpint (cc.after, ==, 2);
  g_clear_error (&cc.cancelled);
  g_clear_error (&pb.error);
}

/* ag_job_is_cancel_pending() is TRUE from a cancel until the job's code
 * sees it at an await, also when what the job awaits had ended while the
 * job was paused: a binding's loop over results asks it so as to hand the
 * job nothing more. */
typedef struct
{
  gboolean pending_at_catch;
  gboolean caught;
} PendingCancel;

static void
note_pending_at_catch_body (AgJob    *job,
                            gpointer  user_data)
{
  PendingCancel *pc = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_false (ag_job_sleep (10, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  pc->pending_at_catch = ag_job_is_cancel_pending (job);
  pc->caught = TRUE;
}

static void
test_cancel_pending_lasts_until_the_job_sees_it (AgTestFixture *fixture,
                                                 gconstpointer  data)
{
  PendingCancel pc = { TRUE, FALSE };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, note_pending_at_catch_body, &pc, NULL);

  g_assert_false (ag_job_is_cancel_pending (job));
  ag_job_pause (job);
  /* The sleep ends while the job is paused: its outcome is held. */
  ag_test_run_for (fixture->context, 50);
  g_assert_false (ag_job_is_cancel_pending (job));
  ag_task_cancel (AG_TASK (job));
  g_assert_true (ag_job_is_cancel_pending (job));
  g_assert_false (pc.caught);

  run_until_finished (fixture, job);
  g_assert_true (pc.caught);
  g_assert_false (pc.pending_at_catch);
  g_assert_false (ag_job_is_cancel_pending (job));
}

/* Many jobs and stacks */

typedef struct
{
  int  index;
  int *n_done;
} ManyJob;

static void
many_body (AgJob    *job,
           gpointer  user_data)
{
  ManyJob *mj = user_data;
  g_autoptr(GError) error = NULL;
  int sum = 0;

  for (int k = 0; k < 3; k++)
    {
      sum += ag_job_await_int (ag_test_task_new_int_after (0, mj->index * 10 + k), &error);
      if (error != NULL)
        {
          ag_task_return_error (AG_TASK (job), g_steal_pointer (&error));
          return;
        }
    }
  (*mj->n_done)++;
  ag_task_return_int (AG_TASK (job), sum);
}

static gsize
count_mappings (void)
{
  g_autofree char *maps = NULL;
  gsize n = 0;

  if (!g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL))
    return 0;
  for (const char *p = maps; *p != '\0'; p++)
    n += *p == '\n';

  return n;
}

static double
rss_mb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmRSS:");
  if (line == NULL)
    return 0;

  return g_ascii_strtod (line + strlen ("VmRSS:"), NULL) / 1024.0;
}

static void
run_many_jobs_at_once (AgTestFixture *fixture,
                       guint          n)
{
  g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func (g_object_unref);
  ManyJob *data = g_new0 (ManyJob, n);
  int n_done = 0;

  for (guint i = 0; i < n; i++)
    {
      data[i].index = i;
      data[i].n_done = &n_done;
      g_ptr_array_add (jobs, ag_engine_spawn (fixture->engine, many_body, &data[i], NULL));
    }
  ag_test_run_until (fixture->context, n_done == (int) n, 60000);

  for (guint i = 0; i < n; i++)
    g_assert_cmpint (job_value_int (g_ptr_array_index (jobs, i)), ==, 3 * (i * 10) + 3);
  g_free (data);
}

static void
test_many_thousand_jobs_at_once_finish_with_right_values (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  double rss_before, rss_first, rss_later;
  gsize maps_first, maps_later;

  rss_before = rss_mb ();
  run_many_jobs_at_once (fixture, 1000);
  rss_first = rss_mb ();
  maps_first = count_mappings ();

  /* Again, several times: the stacks of finished jobs are unmapped or
   * reused, so neither memory nor mappings pile up. */
  for (int round = 0; round < 3; round++)
    run_many_jobs_at_once (fixture, 1000);
  rss_later = rss_mb ();
  maps_later = count_mappings ();

  g_test_message ("RSS: %.1f MB before, %.1f MB after one round of 1000 jobs, %.1f MB after four; "
                  "%zu mappings after one round, %zu after four",
                  rss_before, rss_first, rss_later, maps_first, maps_later);
  if (UNDER_SANITIZER)
    return;
  g_assert_cmpfloat (rss_later - rss_first, <, 64);
  g_assert_cmpuint (maps_later, <=, maps_first + 64);
}

static void
one_await_body (AgJob    *job,
                gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  ag_task_return_int (AG_TASK (job), ag_job_await_int (ag_test_task_new_int_after (0, 1), &error));
}

static void
test_many_sequential_jobs_reuse_stacks (AgTestFixture *fixture,
                                        gconstpointer  data)
{
  gsize maps_before = 0;
  double rss_before = 0;

  for (int i = 0; i < 5000; i++)
    {
      g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, one_await_body, NULL, NULL);

      run_until_finished (fixture, job);
      g_assert_cmpint (job_value_int (job), ==, 1);
      if (i == 99)
        {
          maps_before = count_mappings ();
          rss_before = rss_mb ();
        }
    }

  g_test_message ("mappings %zu -> %zu, RSS %.1f -> %.1f MB over 4900 jobs",
                  maps_before, count_mappings (), rss_before, rss_mb ());
  if (UNDER_SANITIZER)
    return;
  g_assert_cmpuint (count_mappings (), <=, maps_before + 8);
  g_assert_cmpfloat (rss_mb () - rss_before, <, 16);
}

static guint
recurse (guint depth)
{
  volatile char frame[128];

  frame[0] = (char) depth;
  frame[127] = (char) depth;
  if (depth == 0)
    return frame[0] + frame[127];

  return recurse (depth - 1) + (guchar) frame[0] % 2;
}

typedef struct
{
  guint depth;
  guint result;
  GError *error;
} Deep;

static void
deep_body (AgJob    *job,
           gpointer  user_data)
{
  Deep *d = user_data;

  ag_job_sleep (1, &d->error);
  d->result = recurse (d->depth);
  ag_job_sleep (1, &d->error);
  d->result += recurse (d->depth);
}

static void
test_stack_deep_recursion_fits_default_size (AgTestFixture *fixture,
                                             gconstpointer  data)
{
  /* About 100 KiB of frames (more under sanitizers), well within 1 MiB. */
  Deep d = { .depth = 600 };
  g_autoptr(AgJob) job = NULL;
  guint expected = 2 * recurse (600);

  g_assert_cmpuint (ag_engine_get_job_stack_size (fixture->engine), ==, 1024 * 1024);
  job = ag_engine_spawn (fixture->engine, deep_body, &d, NULL);
  run_until_finished (fixture, job);

  g_assert_no_error (d.error);
  g_assert_cmpuint (d.result, ==, expected);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
}

static void
test_stack_bigger_size_allows_deeper_recursion (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  /* About 3 MiB of frames in an 8 MiB stack. */
  Deep d = { .depth = 18000 };
  g_autoptr(AgJob) job = NULL;
  guint expected = 2 * recurse (18000);

  ag_engine_set_job_stack_size (fixture->engine, 8 * 1024 * 1024);
  job = ag_engine_spawn (fixture->engine, deep_body, &d, NULL);
  run_until_finished (fixture, job);

  g_assert_no_error (d.error);
  g_assert_cmpuint (d.result, ==, expected);
}

static void
test_stack_size_bounds (AgTestFixture *fixture,
                        gconstpointer  data)
{
  AgEngine *engine = fixture->engine;
  guint size;

  ag_engine_set_job_stack_size (engine, 16 * 1024);
  g_assert_cmpuint (ag_engine_get_job_stack_size (engine), ==, 16 * 1024);
  ag_engine_set_job_stack_size (engine, 256 * 1024 * 1024);
  g_assert_cmpuint (ag_engine_get_job_stack_size (engine), ==, 256 * 1024 * 1024);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*outside 16 KiB to 256 MiB*");
  ag_engine_set_job_stack_size (engine, 16 * 1024 - 1);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (ag_engine_get_job_stack_size (engine), ==, 256 * 1024 * 1024);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*outside 16 KiB to 256 MiB*");
  ag_engine_set_job_stack_size (engine, 256 * 1024 * 1024 + 1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*outside 16 KiB to 256 MiB*");
  ag_engine_set_job_stack_size (engine, 0);
  g_test_assert_expected_messages ();

  g_object_set (engine, "job-stack-size", 64 * 1024, NULL);
  g_object_get (engine, "job-stack-size", &size, NULL);
  g_assert_cmpuint (size, ==, 64 * 1024);
}

static void
test_stack_smallest_size_runs_awaits (AgTestFixture *fixture,
                                      gconstpointer  data)
{
  Typed t = { 0 };
  g_autoptr(AgJob) job = NULL;

  /* Awaits, typed values and errors fit the smallest stack (16 KiB, an odd
   * size rounded up to pages). */
  ag_engine_set_job_stack_size (fixture->engine, 16 * 1024 + 100);
  job = ag_engine_spawn (fixture->engine, typed_body, &t, NULL);
  run_until_finished (fixture, job);

  g_assert_no_error (t.error);
  g_assert_cmpint (t.main_task_value, ==, 7);
  g_free (t.s);
  g_strfreev (t.strv);
  g_clear_object (&t.o);
  g_variant_unref (t.v);
  g_clear_pointer (&t.generic, value_free);
}

/* Disposing the engine */

typedef struct
{
  guint  n_before;
  guint  n_after;
  guint  n_destroyed;
} DisposeCounts;

typedef struct
{
  DisposeCounts *counts;
  int            kind;
} DisposeJob;

static void
dispose_job_free (gpointer data)
{
  DisposeJob *dj = data;

  dj->counts->n_destroyed++;
  g_free (dj);
}

static void
dispose_body (AgJob    *job,
              gpointer  user_data)
{
  DisposeJob *dj = user_data;
  GError *error = NULL;

  dj->counts->n_before++;
  switch (dj->kind)
    {
    case 0:
      ag_job_await_int (ag_test_task_new_int_after (500, 1), &error);
      break;
    case 1:
      ag_job_sleep (500, &error);
      break;
    default:
      {
        AgMultiTask *multi = ag_multi_task_new ();
        GValue *value;

        for (int i = 0; i < 4; i++)
          multi_add_take (multi, ag_test_task_new_int_after (500, i));
        value = ag_job_await (AG_TASK (multi), &error);
        g_clear_pointer (&value, value_free);
      }
    }

  /* Reached once, inside the engine's disposal: the await fails with
   * G_IO_ERROR_CANCELLED so that the job can clean up. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    dj->counts->n_after++;
  g_clear_error (&error);
}

static void
count_waiter (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GError **error = user_data;
  GValue *value = ag_task_wait_finish (AG_TASK (AG_JOB (source)), result, error);

  g_assert_null (value);
}

static void
test_dispose_ends_suspended_jobs_cancelled (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  DisposeCounts counts = { 0 };
  g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) waiter_error = NULL;
  AgEngine *engine = g_steal_pointer (&fixture->engine);
  StateLog log;
  const guint n = 12;

  for (guint i = 0; i < n; i++)
    {
      DisposeJob *dj = g_new0 (DisposeJob, 1);

      dj->counts = &counts;
      dj->kind = i % 3;
      g_ptr_array_add (jobs, ag_engine_spawn (engine, dispose_body, dj, dispose_job_free));
    }
  g_assert_cmpuint (counts.n_before, ==, n);
  state_log_watch (&log, g_ptr_array_index (jobs, 0));
  ag_task_wait_async (AG_TASK (g_ptr_array_index (jobs, 0)), NULL, count_waiter, &waiter_error);
  /* One of them paused. */
  ag_job_pause (g_ptr_array_index (jobs, 3));

  ag_test_run_for (fixture->context, 100);
  g_assert_cmpuint (counts.n_after, ==, 0);
  g_object_unref (engine);
  /* Each job saw the cancel and ran to its end inside the disposal. */
  g_assert_cmpuint (counts.n_after, ==, n);

  for (guint i = 0; i < n; i++)
    {
      AgJob *job = g_ptr_array_index (jobs, i);

      g_assert_true (ag_task_is_finished (AG_TASK (job)));
      g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);
      g_assert_error (ag_task_get_error (AG_TASK (job)), G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_true (ag_task_get_engine (AG_TASK (job)) == fixture->engine);
    }

  /* Waiting past the tasks' 500 ms shows nothing late. */
  ag_test_run_for (fixture->context, 700);
  g_assert_cmpuint (counts.n_after, ==, n);
  g_assert_error (waiter_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* Ended quietly: disposal may come from a binding's garbage collector,
   * where no notify handler can run. The state reads CANCELLED all the
   * same, and waiters hear of it from the main loop. */
  state_log_assert (&log, NULL, 0);
  state_log_clear (&log);

  /* Cancel, pause and resume of such a job are harmless. */
  ag_task_cancel (AG_TASK (g_ptr_array_index (jobs, 1)));

  /* Each job's data is freed with the job. */
  g_assert_cmpuint (counts.n_destroyed, ==, 0);
  g_ptr_array_set_size (jobs, 0);
  g_assert_cmpuint (counts.n_destroyed, ==, n);
}

static void
test_dispose_before_first_delivery_of_a_dropped_job (AgTestFixture *fixture,
                                                     gconstpointer  data)
{
  DisposeCounts counts = { 0 };
  AgEngine *engine = g_steal_pointer (&fixture->engine);
  DisposeJob *dj = g_new0 (DisposeJob, 1);

  /* The spawner keeps no reference: the job keeps itself alive while it
   * runs and is freed when the engine ends it. */
  dj->counts = &counts;
  g_object_unref (ag_engine_spawn (engine, dispose_body, dj, dispose_job_free));
  g_assert_cmpuint (counts.n_destroyed, ==, 0);
  g_object_unref (engine);
  g_assert_cmpuint (counts.n_after, ==, 1);
  g_assert_cmpuint (counts.n_destroyed, ==, 1);
  ag_test_run_for (fixture->context, 600);
  g_assert_cmpuint (counts.n_after, ==, 1);
}

/* What a job's stack owns, counted as it is freed. */
typedef struct
{
  guint n_objects_freed;
  guint n_bytes_freed;
} Owned;

static void
owned_object_freed (gpointer  data,
                    GObject  *where_the_object_was)
{
  Owned *owned = data;

  owned->n_objects_freed++;
}

static void
owned_bytes_freed (gpointer data)
{
  Owned *owned = data;

  owned->n_bytes_freed++;
}

typedef enum
{
  UNWIND_AWAIT,
  UNWIND_SLEEP,
} UnwindKind;

typedef struct
{
  UnwindKind  kind;
  Owned      *owned;
  int         ran;              /* atomic: the cleanup's task ran */
  GError     *error;            /* what the suspended await gave */
  GError     *again_error;      /* an await in the cleanup path */
  GError     *sleep_again_error;
  gboolean    reached_end;
} Unwind;

static void
unwind_clear (Unwind *u)
{
  g_clear_error (&u->error);
  g_clear_error (&u->again_error);
  g_clear_error (&u->sleep_again_error);
}

static void
unwind_body (AgJob    *job,
             gpointer  user_data)
{
  Unwind *u = user_data;
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GBytes) bytes G_GNUC_UNUSED = g_bytes_new_with_free_func (u, sizeof *u, owned_bytes_freed, u->owned);
  g_autofree char *text G_GNUC_UNUSED = g_strdup ("only LeakSanitizer counts this one");
  g_autoptr(GValue) value = NULL;
  g_autoptr(GValue) again = NULL;

  g_object_weak_ref (object, owned_object_freed, u->owned);

  if (u->kind == UNWIND_AWAIT)
    value = ag_job_await (ag_test_task_new_int_after (5000, 1), &u->error);
  else
    ag_job_sleep (5000, &u->error);

  /* A cleanup path that awaits again gets no further than the cancel. */
  again = ag_job_await (ag_task_new (mark_ran, &u->ran, NULL), &u->again_error);
  ag_job_sleep (5000, &u->sleep_again_error);
  u->reached_end = TRUE;
}

static void
test_dispose_unwinds_suspended_jobs_and_frees_their_locals (AgTestFixture *fixture,
                                                            gconstpointer  data)
{
  Owned owned = { 0 };
  Unwind u[] = {
    { .kind = UNWIND_AWAIT, .owned = &owned },
    { .kind = UNWIND_SLEEP, .owned = &owned },
    { .kind = UNWIND_AWAIT, .owned = &owned },  /* paused */
    { .kind = UNWIND_SLEEP, .owned = &owned },  /* paused */
  };
  AgJob *jobs[G_N_ELEMENTS (u)];
  StateLog logs[G_N_ELEMENTS (u)];
  AgEngine *engine = g_steal_pointer (&fixture->engine);

  for (guint i = 0; i < G_N_ELEMENTS (u); i++)
    {
      jobs[i] = ag_engine_spawn (engine, unwind_body, &u[i], NULL);
      if (i >= 2)
        ag_job_pause (jobs[i]);
      state_log_watch (&logs[i], jobs[i]);
    }
  ag_test_run_for (fixture->context, 50);
  g_assert_cmpuint (owned.n_objects_freed, ==, 0);
  g_assert_cmpuint (owned.n_bytes_freed, ==, 0);

  g_object_unref (engine);

  /* Inside the disposal, without a main-loop iteration: each job's await
   * failed with the cancel, the awaits of its cleanup path failed at once
   * without suspending it, and its function returned, freeing its locals. */
  g_assert_cmpuint (owned.n_objects_freed, ==, G_N_ELEMENTS (u));
  g_assert_cmpuint (owned.n_bytes_freed, ==, G_N_ELEMENTS (u));
  for (guint i = 0; i < G_N_ELEMENTS (u); i++)
    {
      g_assert_true (u[i].reached_end);
      g_assert_error (u[i].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_error (u[i].again_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_error (u[i].sleep_again_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpint (g_atomic_int_get (&u[i].ran), ==, 0);

      /* Ended cancelled, quietly. */
      g_assert_true (ag_task_is_finished (AG_TASK (jobs[i])));
      g_assert_cmpint (ag_task_get_state (AG_TASK (jobs[i])), ==, AG_TASK_CANCELLED);
      g_assert_error (ag_task_get_error (AG_TASK (jobs[i])), G_IO_ERROR, G_IO_ERROR_CANCELLED);
      state_log_assert (&logs[i], NULL, 0);
    }

  /* Nothing of theirs runs later. */
  ag_test_run_for (fixture->context, 100);
  for (guint i = 0; i < G_N_ELEMENTS (u); i++)
    {
      state_log_assert (&logs[i], NULL, 0);
      state_log_clear (&logs[i]);
      g_object_unref (jobs[i]);
      unwind_clear (&u[i]);
    }
}

typedef struct
{
  AgJob    *other;
  gboolean  waited;
  gboolean  finished;
  GError   *error;
} WaitInCleanup;

static void
wait_in_cleanup_body (AgJob    *job,
                      gpointer  user_data)
{
  WaitInCleanup *w = user_data;

  if (ag_job_sleep (5000, NULL))
    return;

  /* The other job ends after this one's cleanup: waiting cannot work. */
  w->finished = ag_task_wait (AG_TASK (w->other), -1, &w->error);
  w->waited = TRUE;
}

static void
test_dispose_cleanup_waiting_for_another_job_fails_at_once (AgTestFixture *fixture,
                                                            gconstpointer  data)
{
  WaitInCleanup w = { 0 };
  AgEngine *engine = g_steal_pointer (&fixture->engine);
  g_autoptr(AgJob) job = ag_engine_spawn (engine, wait_in_cleanup_body, &w, NULL);
  g_autoptr(AgJob) other = NULL;
  PauseBody pb = { 0 };

  w.other = other = ag_engine_spawn (engine, pause_state_body, &pb, NULL);
  ag_test_run_for (fixture->context, 20);
  g_object_unref (engine);

  g_assert_true (w.waited);
  g_assert_false (w.finished);
  g_assert_error (w.error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);
  g_assert_cmpint (ag_task_get_state (AG_TASK (other)), ==, AG_TASK_CANCELLED);
  g_clear_error (&w.error);
  g_clear_error (&pb.error);
}

typedef struct
{
  AgEngine *engine;
  Owned    *owned;
  Unwind   *other;
  gboolean  other_ended_inside;
  GError   *sleep_error;
  AgTaskState state_before_return;
  gboolean  reached_end;
} DisposeInside;

static void
dispose_inside_body (AgJob    *job,
                     gpointer  user_data)
{
  DisposeInside *d = user_data;
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);

  g_object_weak_ref (object, owned_object_freed, d->owned);
  ag_job_sleep (10, NULL);

  /* The job's own code disposes the engine while another job is
   * suspended: that one unwinds inside the call. */
  g_object_run_dispose (G_OBJECT (d->engine));
  d->other_ended_inside = d->other->reached_end;

  /* This one goes on to its end, awaiting nothing more. */
  ag_job_sleep (5000, &d->sleep_error);
  d->state_before_return = ag_task_get_state (AG_TASK (job));
  d->reached_end = TRUE;
}

static void
test_dispose_from_inside_a_job_ends_it_and_its_code_runs_on (AgTestFixture *fixture,
                                                              gconstpointer  data)
{
  Owned owned = { 0 };
  Unwind other = { .kind = UNWIND_SLEEP, .owned = &owned };
  DisposeInside d = { .engine = fixture->engine, .owned = &owned, .other = &other };
  g_autoptr(AgJob) other_job = ag_engine_spawn (fixture->engine, unwind_body, &other, NULL);
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, dispose_inside_body, &d, NULL);
  StateLog log;

  state_log_watch (&log, job);
  ag_test_run_until (fixture->context, d.reached_end, AG_TEST_SAFETY_MS);

  g_assert_true (d.other_ended_inside);
  g_assert_error (other.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (ag_task_get_state (AG_TASK (other_job)), ==, AG_TASK_CANCELLED);
  g_assert_error (d.sleep_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* Abandoned with the engine's other work, as cancelled, at once; its
   * code ran on to its end all the same. */
  g_assert_cmpint (d.state_before_return, ==, AG_TASK_CANCELLED);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);
  g_assert_error (ag_task_get_error (AG_TASK (job)), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (owned.n_objects_freed, ==, 2);
  g_assert_cmpuint (owned.n_bytes_freed, ==, 1);
  state_log_assert (&log, NULL, 0);

  state_log_clear (&log);
  g_clear_error (&d.sleep_error);
  unwind_clear (&other);
}

/* Waiting for a job */

typedef struct
{
  AgJob     *job;
  gboolean   done;          /* atomic */
  gboolean   finished;
  AgTaskState state;
  int        value;
  GError    *error;
} ThreadWait;

static gpointer
wait_in_thread (gpointer data)
{
  ThreadWait *tw = data;
  const GValue *value;

  tw->finished = ag_task_wait (AG_TASK (tw->job), 5 * 1000, &tw->error);
  if (tw->finished)
    {
      /* Once the wait says it finished, the outcome is there to read. */
      tw->state = ag_task_get_state (AG_TASK (tw->job));
      value = ag_task_get_value (AG_TASK (tw->job));
      tw->value = value != NULL ? g_value_get_int (value) : -1;
    }
  g_atomic_int_set (&tw->done, TRUE);

  return NULL;
}

static void
test_wait_from_another_thread (AgTestFixture *fixture,
                               gconstpointer  data)
{
  PauseBody pb = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, pause_state_body, &pb, NULL);
  ThreadWait tw = { .job = job };
  GThread *thread = g_thread_new ("job-waiter", wait_in_thread, &tw);

  ag_test_run_until (fixture->context, g_atomic_int_get (&tw.done), AG_TEST_SAFETY_MS);
  g_thread_join (thread);

  g_assert_no_error (tw.error);
  g_assert_true (tw.finished);
  g_assert_cmpint (tw.state, ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (tw.value, ==, 8);
}

static void
slow_error_notify (GObject    *object,
                   GParamSpec *pspec,
                   gpointer    user_data)
{
  /* A handler that takes a moment, e.g. showing the error to the user. */
  g_usleep (100 * G_TIME_SPAN_MILLISECOND);
}

static gpointer
wait_in_thread_for_failure (gpointer data)
{
  ThreadWait *tw = data;

  tw->finished = ag_task_wait (AG_TASK (tw->job), 5 * 1000, &tw->error);
  if (tw->finished)
    tw->state = ag_task_get_state (AG_TASK (tw->job));
  g_atomic_int_set (&tw->done, TRUE);

  return NULL;
}

static void
test_wait_from_another_thread_sees_failure (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, end_body,
                                          GINT_TO_POINTER (END_RETURN_ERROR), NULL);
  ThreadWait tw = { .job = job };
  GThread *thread;

  g_signal_connect (job, "notify::error", G_CALLBACK (slow_error_notify), NULL);
  thread = g_thread_new ("job-waiter", wait_in_thread_for_failure, &tw);
  ag_test_run_until (fixture->context, g_atomic_int_get (&tw.done), AG_TEST_SAFETY_MS);
  g_thread_join (thread);

  g_assert_no_error (tw.error);
  g_assert_true (tw.finished);
  /* The thread that was told the job finished sees how it ended. */
  g_assert_cmpint (tw.state, ==, AG_TASK_FAILED);
}

static void
test_wait_on_main_thread_iterates_the_context (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  PauseBody pb = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, pause_state_body, &pb, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AgJob) slow = NULL;
  CancelBody cb = { 0 };
  double cancel_ms;

  g_assert_true (ag_task_wait (AG_TASK (job), 5 * 1000, &error));
  g_assert_no_error (error);
  g_assert_cmpint (job_value_int (job), ==, 8);
  /* Finished: at once. */
  g_assert_true (ag_task_wait (AG_TASK (job), 0, &error));

  slow = spawn_and_cancel_at_100ms (fixture, &cb, &cancel_ms);
  g_assert_true (ag_task_wait (AG_TASK (slow), 5 * 1000, &error));
  g_assert_cmpint (ag_task_get_state (AG_TASK (slow)), ==, AG_TASK_CANCELLED);
  cancel_body_clear (&cb);
}

static void
test_wait_times_out (AgTestFixture *fixture,
                     gconstpointer  data)
{
  SleepBody sb = { .start_us = g_get_monotonic_time () };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, sleep_300_body, &sb, NULL);
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  g_assert_false (ag_task_wait (AG_TASK (job), 50, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpfloat (ag_test_elapsed_ms (start), <, 250);
  g_assert_false (ag_task_is_finished (AG_TASK (job)));
  run_until_finished (fixture, job);
}

/* Two jobs awaiting each other would never end: the await that closes
 * the circle is refused, as a job awaiting itself is, and both end. */
typedef struct
{
  AgJob  *first;
  GError *error;      /* what the first job's await of the second gave */
} Circle;

static void
await_the_first_body (AgJob    *job,
                      gpointer  user_data)
{
  Circle *circle = user_data;

  g_autoptr(GError) error = NULL;
  GValue *value = ag_job_await (g_object_ref (AG_TASK (circle->first)), &error);

  g_clear_pointer (&value, ag_test_value_free);
}

static void
await_the_second_body (AgJob    *job,
                       gpointer  user_data)
{
  Circle *circle = user_data;
  g_autoptr(AgJob) second = NULL;
  GValue *value;

  circle->first = job;
  second = ag_engine_spawn (ag_task_get_engine (AG_TASK (job)), await_the_first_body, circle, NULL);
  value = ag_job_await (g_object_ref (AG_TASK (second)), &circle->error);
  g_assert_null (value);
}

static void
test_jobs_awaiting_each_other_are_refused (AgTestFixture *fixture,
                                           gconstpointer  data)
{
  Circle circle = { NULL, NULL };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, await_the_second_body, &circle, NULL);

  run_until_finished (fixture, job);
  g_assert_error (circle.error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  g_clear_error (&circle.error);
}

/* Cancelling a job cancels the job it awaits, which may await others: the
 * cancel goes down the chain once and ends every await in it. */
static void
await_a_long_sleep_body (AgJob    *job,
                         gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (ag_job_sleep (60000, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
await_the_job_body (AgJob    *job,
                    gpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  GValue *value = ag_job_await (g_object_ref (user_data), &error);

  g_assert_null (value);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_cancel_goes_down_a_chain_of_awaiting_jobs (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  g_autoptr(AgJob) last = ag_engine_spawn (fixture->engine, await_a_long_sleep_body, NULL, NULL);
  g_autoptr(AgJob) middle = ag_engine_spawn (fixture->engine, await_the_job_body, last, NULL);
  g_autoptr(AgJob) first = ag_engine_spawn (fixture->engine, await_the_job_body, middle, NULL);

  ag_task_cancel (AG_TASK (first));
  run_until_finished (fixture, first);
  run_until_finished (fixture, middle);
  run_until_finished (fixture, last);
}

/* A circle through a MultiTask (a job awaits a MultiTask whose child job
 * awaits it) would never end either: that await is refused too, and both
 * jobs end. */
static void
await_a_multi_of_one_job_body (AgJob    *job,
                               gpointer  user_data)
{
  Circle *circle = user_data;
  g_autoptr(AgMultiTask) multi = ag_multi_task_new ();
  g_autoptr(AgJob) child = NULL;
  GValue *value;

  circle->first = job;
  child = ag_engine_spawn (ag_task_get_engine (AG_TASK (job)), await_the_first_body, circle, NULL);
  ag_multi_task_add (multi, AG_TASK (child));
  value = ag_job_await (g_object_ref (AG_TASK (multi)), &circle->error);
  g_assert_null (value);
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_PENDING);
}

static void
test_a_circle_of_jobs_through_a_multi_task_is_refused (AgTestFixture *fixture,
                                                       gconstpointer  data)
{
  Circle circle = { NULL, NULL };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, await_a_multi_of_one_job_body,
                                          &circle, NULL);

  run_until_finished (fixture, job);
  g_assert_error (circle.error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  g_clear_error (&circle.error);
}

static void await_the_first_in_a_task_body (AgJob    *job,
                                            gpointer  user_data);

/* A job awaiting a job that catches the cancel and goes on: cancelling the
 * first ends its await at once all the same (the other job is cancelled
 * too, and may go on). */
typedef struct
{
  AgJob  *first;        /* awaited by the second */
  AgJob  *second;
  gint64  cancelled_at;
  double  await_ms;     /* from the cancel to the end of the second's await */
  GError *error;        /* what the second's await gave */
  GError *first_error;  /* what the first's await of the second gave */
  gboolean await_back;  /* the first awaits the second after the cancel */
} GoingOn;

static void
catch_the_cancel_and_go_on_body (AgJob    *job,
                                 gpointer  user_data)
{
  GoingOn *g = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value;

  g_assert_false (ag_job_sleep (60000, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  if (!g->await_back)
    {
      ag_job_sleep (300, NULL);
      return;
    }

  /* The second's await of this job is over: awaiting it is no circle. */
  value = ag_job_await (g_object_ref (AG_TASK (g->second)), &g->first_error);
  g_clear_pointer (&value, ag_test_value_free);
}

static void
await_the_going_on_job_body (AgJob    *job,
                             gpointer  user_data)
{
  GoingOn *g = user_data;
  GValue *value = ag_job_await (g_object_ref (AG_TASK (g->first)), &g->error);

  g->await_ms = ag_test_elapsed_ms (g->cancelled_at);
  g_clear_pointer (&value, ag_test_value_free);
  if (g->await_back)
    ag_job_sleep (20, NULL);
}

static void
test_cancel_ends_the_await_of_a_job_that_goes_on_at_once (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  GoingOn g = { 0 };
  g_autoptr(AgJob) first = ag_engine_spawn (fixture->engine, catch_the_cancel_and_go_on_body, &g, NULL);
  g_autoptr(AgJob) second = NULL;

  g.first = first;
  second = ag_engine_spawn (fixture->engine, await_the_going_on_job_body, &g, NULL);
  g.second = second;
  ag_test_run_for (fixture->context, 20);
  g.cancelled_at = g_get_monotonic_time ();
  ag_task_cancel (AG_TASK (second));
  run_until_finished (fixture, second);
  g_test_message ("the await ended %.1f ms after the cancel", g.await_ms);
  g_assert_cmpfloat (g.await_ms, <, 150);
  g_assert_error (g.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (ag_task_is_finished (AG_TASK (first)));
  run_until_finished (fixture, first);
  g_clear_error (&g.error);
}

/* The job that caught the cancel awaits the one that cancelled it: that
 * one's await is over, so this is no circle, and both end; cancelling
 * them again meanwhile goes round nothing. */
static void
test_awaiting_a_job_whose_await_a_cancel_ended_is_no_circle (AgTestFixture *fixture,
                                                             gconstpointer  data)
{
  GoingOn g = { .await_back = TRUE };
  g_autoptr(AgJob) first = ag_engine_spawn (fixture->engine, catch_the_cancel_and_go_on_body, &g, NULL);
  g_autoptr(AgJob) second = NULL;

  g.first = first;
  second = ag_engine_spawn (fixture->engine, await_the_going_on_job_body, &g, NULL);
  g.second = second;
  ag_test_run_for (fixture->context, 20);
  ag_task_cancel (AG_TASK (second));
  ag_task_cancel (AG_TASK (second));
  ag_task_cancel (AG_TASK (first));
  run_until_finished (fixture, first);
  run_until_finished (fixture, second);
  g_assert_no_error (g.first_error);
  g_clear_error (&g.error);
}

/* A task that has ended waits for nothing: a job awaiting one that had
 * depended on the job itself (and was cancelled) gets its outcome. */
static void
await_an_ended_dependent_body (AgJob    *job,
                               gpointer  user_data)
{
  Circle *circle = user_data;
  g_autoptr(AgTask) dependent = ag_task_new_sleep (1);
  GValue *value;

  g_assert_true (ag_task_add_dependency (dependent, AG_TASK (job), NULL));
  ag_task_cancel (dependent);
  ag_engine_run_async (ag_task_get_engine (AG_TASK (job)), dependent, NULL, NULL, NULL);
  g_assert_true (ag_job_sleep (20, NULL));
  g_assert_true (ag_task_is_finished (dependent));
  value = ag_job_await (g_object_ref (dependent), &circle->error);
  g_assert_null (value);
}

static void
test_awaiting_an_ended_task_that_waited_for_the_job_is_no_circle (AgTestFixture *fixture,
                                                                  gconstpointer  data)
{
  Circle circle = { NULL, NULL };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, await_an_ended_dependent_body,
                                          &circle, NULL);
  /* Another job awaits the first, so that something holds it. */
  g_autoptr(AgJob) watcher = ag_engine_spawn (fixture->engine, await_the_first_in_a_task_body,
                                              &(Circle) { job, NULL }, NULL);

  run_until_finished (fixture, job);
  run_until_finished (fixture, watcher);
  g_assert_error (circle.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&circle.error);
}

/* The search for circles visits each task once: stages of tasks that each
 * depend on all of the stage before have more paths than could ever be
 * walked, and awaiting the last stage is still no wait. */
static void
await_deep_stages_body (AgJob    *job,
                        gpointer  user_data)
{
  g_autoptr(GPtrArray) stage = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(AgTask) last = NULL;
  g_autoptr(GError) error = NULL;
  GValue *value;

  /* Meanwhile the watcher starts awaiting this job. */
  g_assert_true (ag_job_sleep (20, NULL));
  for (guint depth = 0; depth < 40; depth++)
    {
      g_autoptr(GPtrArray) next = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = 0; i < 6; i++)
        {
          AgTask *task = ag_task_new_sleep (0);

          for (guint j = 0; j < stage->len; j++)
            g_assert_true (ag_task_add_dependency (task, g_ptr_array_index (stage, j), NULL));
          g_ptr_array_add (next, task);
        }
      g_clear_pointer (&stage, g_ptr_array_unref);
      stage = g_steal_pointer (&next);
    }

  last = ag_task_new_sleep (0);
  for (guint j = 0; j < stage->len; j++)
    g_assert_true (ag_task_add_dependency (last, g_ptr_array_index (stage, j), NULL));
  value = ag_job_await (g_object_ref (last), &error);
  g_assert_no_error (error);
  g_clear_pointer (&value, ag_test_value_free);
}

static void
test_the_search_for_circles_visits_each_task_once (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, await_deep_stages_body, NULL, NULL);
  /* Awaited, the job is held: the search cannot stop before it starts. */
  g_autoptr(AgJob) watcher = ag_engine_spawn (fixture->engine, await_the_first_in_a_task_body,
                                              &(Circle) { job, NULL }, NULL);

  run_until_finished (fixture, job);
  run_until_finished (fixture, watcher);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
}

/* A job that awaits a job which depends on a task awaiting the first job:
 * the circle goes through a dependency, and is refused as well. */
static void
await_the_first_in_a_task_body (AgJob    *job,
                                gpointer  user_data)
{
  Circle *circle = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value = ag_job_await (g_object_ref (AG_TASK (circle->first)), &error);

  g_clear_pointer (&value, ag_test_value_free);
}

static void
await_a_job_depending_on_a_waiter_body (AgJob    *job,
                                        gpointer  user_data)
{
  Circle *circle = user_data;
  g_autoptr(AgJob) waiter = NULL;
  g_autoptr(AgTask) dependent = ag_task_new_sleep (1);
  GValue *value;

  circle->first = job;
  waiter = ag_engine_spawn (ag_task_get_engine (AG_TASK (job)), await_the_first_in_a_task_body,
                            circle, NULL);
  g_assert_true (ag_task_add_dependency (dependent, AG_TASK (waiter), NULL));
  value = ag_job_await (g_object_ref (dependent), &circle->error);
  g_assert_null (value);
}

static void
test_a_circle_of_jobs_through_a_dependency_is_refused (AgTestFixture *fixture,
                                                       gconstpointer  data)
{
  Circle circle = { NULL, NULL };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, await_a_job_depending_on_a_waiter_body,
                                          &circle, NULL);

  run_until_finished (fixture, job);
  g_assert_error (circle.error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  g_clear_error (&circle.error);
}

/* A frame far larger than a page, past the end of a small job stack,
 * faults in the job's own guard instead of landing on the stack of the
 * job made next (mapped just below it) and corrupting that one. */
G_GNUC_NO_INLINE static void
touch_a_big_frame (void)
{
  volatile char big[128 * 1024];

  big[0] = 'x';
  g_assert_cmpint (big[0], ==, 'x');
}

static void
big_frame_after_a_sleep_body (AgJob    *job,
                              gpointer  user_data)
{
  ag_job_sleep (10, NULL);
  touch_a_big_frame ();
}

static void
sleep_a_second_body (AgJob    *job,
                     gpointer  user_data)
{
  ag_job_sleep (1000, NULL);
}

static void
test_a_big_frame_past_the_stack_faults_in_its_own_guard (AgTestFixture *fixture,
                                                        gconstpointer  data)
{
  /* ASan and TSan keep such a frame elsewhere than on the job's stack. */
  if (UNDER_SANITIZER)
    {
      g_test_skip ("a sanitizer moves large frames off the job's stack");
      return;
    }

  if (g_test_subprocess ())
    {
      g_autoptr(AgJob) first = NULL;
      g_autoptr(AgJob) next = NULL;

      ag_engine_set_job_stack_size (fixture->engine, 64 * 1024);
      first = ag_engine_spawn (fixture->engine, big_frame_after_a_sleep_body, NULL, NULL);
      next = ag_engine_spawn (fixture->engine, sleep_a_second_body, NULL, NULL);
      run_until_finished (fixture, next);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
}

/* A job that waits with ag_task_wait() iterates the main loop: a callback
 * run meanwhile is not the job's code, and awaiting there fails with
 * AG_ERROR_NOT_IN_JOB instead of suspending the job's own stack. */
typedef struct
{
  GError *callback_error;
  gboolean waited;
  double   waited_ms;
} NestedWait;

static gboolean
await_in_a_callback (gpointer user_data)
{
  NestedWait *nested = user_data;
  GValue *value = ag_job_await (ag_task_new_sleep (1), &nested->callback_error);

  g_assert_null (value);
  /* Nor is it the current job's code. */
  g_assert_null (ag_job_get_current ());
  return G_SOURCE_REMOVE;
}

static void
sleep_a_tenth (AgTask       *task,
               gpointer      user_data,
               GCancellable *cancellable)
{
  g_usleep (100 * 1000);
  ag_task_return_boolean (task, TRUE);
}

static void
wait_in_a_job_body (AgJob    *job,
                    gpointer  user_data)
{
  NestedWait *nested = user_data;
  g_autoptr(AgTask) slow = ag_task_new (sleep_a_tenth, NULL, NULL);
  gint64 start = g_get_monotonic_time ();

  ag_engine_run_async (ag_task_get_engine (AG_TASK (job)), slow, NULL, NULL, NULL);
  g_timeout_add (10, await_in_a_callback, nested);
  nested->waited = ag_task_wait (slow, 3000, NULL);
  nested->waited_ms = (g_get_monotonic_time () - start) / 1000.0;
}

static void
test_a_callback_run_while_a_job_waits_is_not_the_job (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  NestedWait nested = { NULL, FALSE, 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, wait_in_a_job_body, &nested, NULL);

  run_until_finished (fixture, job);
  g_assert_error (nested.callback_error, AG_ERROR, AG_ERROR_NOT_IN_JOB);
  g_assert_true (nested.waited);
  g_assert_cmpfloat (nested.waited_ms, <, 2000);
  g_clear_error (&nested.callback_error);
}

/* The same with a main loop that the job's code runs itself (a modal
 * dialog's, say): its callbacks are not the job either. */
static gboolean
quit_loop (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static void
run_a_loop_in_a_job_body (AgJob    *job,
                          gpointer  user_data)
{
  NestedWait *nested = user_data;
  GMainContext *context = ag_engine_get_context (ag_task_get_engine (AG_TASK (job)));
  g_autoptr(GMainLoop) loop = g_main_loop_new (context, FALSE);
  g_autoptr(GSource) awaiting = g_timeout_source_new (10);
  g_autoptr(GSource) quitting = g_timeout_source_new (100);

  /* Resumed from a delivery, as a job's code mostly is. */
  g_assert_true (ag_job_sleep (1, NULL));
  g_source_set_callback (awaiting, await_in_a_callback, nested, NULL);
  g_source_attach (awaiting, context);
  g_source_set_callback (quitting, quit_loop, loop, NULL);
  g_source_attach (quitting, context);
  g_main_loop_run (loop);
  nested->waited = TRUE;
}

static void
test_a_callback_of_a_loop_a_job_runs_is_not_the_job (AgTestFixture *fixture,
                                                     gconstpointer  data)
{
  NestedWait nested = { NULL, FALSE, 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, run_a_loop_in_a_job_body, &nested,
                                          NULL);

  run_until_finished (fixture, job);
  g_assert_error (nested.callback_error, AG_ERROR, AG_ERROR_NOT_IN_JOB);
  g_assert_true (nested.waited);
  g_clear_error (&nested.callback_error);
}

/* A job that waits for itself in the code that runs before its first
 * await (inside ag_engine_spawn(), not in a delivery) is refused too. */
static void
wait_for_itself_at_once_body (AgJob    *job,
                              gpointer  user_data)
{
  GError **error = user_data;

  g_assert_false (ag_task_wait (AG_TASK (job), -1, error));
}

static void
test_wait_for_itself_before_any_await_would_deadlock (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, wait_for_itself_at_once_body,
                                          &error, NULL);

  run_until_finished (fixture, job);
  g_assert_error (error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK);
}

static void
wait_for_itself_body (AgJob    *job,
                      gpointer  user_data)
{
  GError **error = user_data;

  ag_job_sleep (10, NULL);
  g_assert_false (ag_task_wait (AG_TASK (job), -1, error));
}

static void
test_wait_for_itself_would_deadlock (AgTestFixture *fixture,
                                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, wait_for_itself_body, &error, NULL);

  run_until_finished (fixture, job);
  g_assert_error (error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK);
}

typedef struct
{
  guint   n_calls;
  int     value;
  GError *error;
} Waiter;

static void
on_waited (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Waiter *w = user_data;
  g_autoptr(GValue) value = ag_task_wait_finish (AG_TASK (AG_JOB (source)), result, &w->error);

  g_assert_true (g_thread_self () == ag_test_main_thread ());
  w->n_calls++;
  w->value = value != NULL ? g_value_get_int (value) : -1;
}

static void
test_wait_async_several_waiters (AgTestFixture *fixture,
                                 gconstpointer  data)
{
  PauseBody pb = { 0 };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, pause_state_body, &pb, NULL);
  Waiter w[3] = { 0 };
  Waiter late = { 0 };

  for (guint i = 0; i < 3; i++)
    ag_task_wait_async (AG_TASK (job), NULL, on_waited, &w[i]);
  /* Not inside the call. */
  g_assert_cmpuint (w[0].n_calls, ==, 0);

  run_until_finished (fixture, job);
  ag_test_run_until (fixture->context, w[2].n_calls == 1, AG_TEST_SAFETY_MS);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpuint (w[i].n_calls, ==, 1);
      g_assert_no_error (w[i].error);
      g_assert_cmpint (w[i].value, ==, 8);
    }

  /* A wait on a finished job gets the outcome too, later. */
  ag_task_wait_async (AG_TASK (job), NULL, on_waited, &late);
  g_assert_cmpuint (late.n_calls, ==, 0);
  ag_test_run_until (fixture->context, late.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_cmpint (late.value, ==, 8);

  ag_test_run_for (fixture->context, 20);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (w[i].n_calls, ==, 1);
}

static void
test_wait_async_cancellable_stops_waiting (AgTestFixture *fixture,
                                           gconstpointer  data)
{
  SleepBody sb = { .start_us = g_get_monotonic_time () };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, sleep_300_body, &sb, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Waiter gave_up = { 0 }, stayed = { 0 };

  ag_task_wait_async (AG_TASK (job), cancellable, on_waited, &gave_up);
  ag_task_wait_async (AG_TASK (job), NULL, on_waited, &stayed);
  ag_test_run_for (fixture->context, 20);

  /* "stops waiting (the job goes on)": the wait ends now, not when the
   * job does. */
  g_cancellable_cancel (cancellable);
  ag_test_run_until (fixture->context, gave_up.n_calls == 1 || ag_task_is_finished (AG_TASK (job)),
                     AG_TEST_SAFETY_MS);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_RUNNING);
  g_assert_cmpuint (gave_up.n_calls, ==, 1);
  g_assert_error (gave_up.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (stayed.n_calls, ==, 0);

  run_until_finished (fixture, job);
  ag_test_run_until (fixture->context, stayed.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_no_error (stayed.error);
  g_assert_cmpuint (gave_up.n_calls, ==, 1);
  g_clear_error (&gave_up.error);
}

/* Driven jobs: what bindings do */

typedef struct
{
  guint     n_calls;
  GValue   *value;
  GError   *error;
  gboolean  inside_call;
} Await;

static void
on_await_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Await *a = user_data;

  g_assert_true (g_thread_self () == ag_test_main_thread ());
  a->n_calls++;
  a->value = ag_job_await_finish (AG_JOB (source), result, &a->error);
}

/* ag_job_await_async() takes a reference of its own: give up ours. */
static void
driven_await (AgJob  *job,
              AgTask *task,
              Await  *a)
{
  ag_job_await_async (job, task, NULL, on_await_done, a);
  g_object_unref (task);
}

static void
await_clear (Await *a)
{
  g_clear_pointer (&a->value, value_free);
  g_clear_error (&a->error);
  a->n_calls = 0;
}

/* A job runs from the moment it is made: running it is a mistake whose
 * message says how to wait for it instead. */
static void
test_driven_running_a_job_says_to_wait_for_it (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  g_autoptr(AgJob) job = ag_job_new (fixture->engine);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL,
                         "*AgJob) was already run*a job from the moment it is made*ag_task_wait_async*");
  ag_engine_run_async (fixture->engine, AG_TASK (job), NULL, NULL, NULL);
  g_test_assert_expected_messages ();
  ag_task_return_boolean (AG_TASK (job), TRUE);
  run_until_finished (fixture, job);
}

static void
test_driven_await_and_return_value (AgTestFixture *fixture,
                                    gconstpointer  data)
{
  g_autoptr(AgJob) job = ag_job_new (fixture->engine);
  g_auto(GValue) result = G_VALUE_INIT;
  Waiter w = { 0 };
  Await a = { 0 };
  StateLog log;
  static const AgTaskState expected[] = { AG_TASK_SUCCEEDED };

  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_RUNNING);
  g_assert_null (ag_job_get_current ());
  state_log_watch (&log, job);
  ag_task_wait_async (AG_TASK (job), NULL, on_waited, &w);

  driven_await (job, ag_test_task_new_int_after (50, 12), &a);
  g_assert_cmpuint (a.n_calls, ==, 0);
  ag_test_run_until (fixture->context, a.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_no_error (a.error);
  g_assert_cmpint (ag_test_value_get_int (a.value), ==, 12);
  await_clear (&a);

  /* A task without a value. */
  driven_await (job, ag_task_new_sleep (10), &a);
  ag_test_run_until (fixture->context, a.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_no_error (a.error);
  g_assert_null (a.value);
  await_clear (&a);

  /* An error. */
  driven_await (job, ag_test_task_new_error_after (10, TEST_ERROR, 5, "nope"), &a);
  ag_test_run_until (fixture->context, a.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_error (a.error, TEST_ERROR, 5);
  await_clear (&a);

  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_RUNNING);
  g_value_init (&result, G_TYPE_INT);
  g_value_set_int (&result, 30);
  ag_task_return_value (AG_TASK (job), &result);
  /* A driven job ends when it is told to, at the next delivery. */
  g_assert_cmpint (job_value_int (job), ==, 30);
  state_log_assert (&log, expected, G_N_ELEMENTS (expected));
  ag_test_run_until (fixture->context, w.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_cmpint (w.value, ==, 30);
  state_log_clear (&log);
}

static void
test_driven_return_error (AgTestFixture *fixture,
                          gconstpointer  data)
{
  g_autoptr(AgJob) failed = ag_job_new (fixture->engine);
  g_autoptr(AgJob) cancelled = ag_job_new (fixture->engine);
  g_autoptr(AgJob) nothing = ag_job_new (fixture->engine);

  ag_task_return_error (AG_TASK (failed), g_error_new_literal (TEST_ERROR, 1, "raised"));
  ag_task_return_error (AG_TASK (cancelled), g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "stop"));
  ag_task_return_value (AG_TASK (nothing), NULL);
  run_until_finished (fixture, failed);
  run_until_finished (fixture, cancelled);
  run_until_finished (fixture, nothing);

  g_assert_cmpint (ag_task_get_state (AG_TASK (failed)), ==, AG_TASK_FAILED);
  g_assert_error (ag_task_get_error (AG_TASK (failed)), TEST_ERROR, 1);
  g_assert_cmpint (ag_task_get_state (AG_TASK (cancelled)), ==, AG_TASK_CANCELLED);
  g_assert_cmpint (ag_task_get_state (AG_TASK (nothing)), ==, AG_TASK_SUCCEEDED);
  g_assert_null (ag_task_get_value (AG_TASK (nothing)));

  /* Once only. */
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL,
                         "*ag_task_return_error*already returned*");
  ag_task_return_error (AG_TASK (failed), g_error_new_literal (TEST_ERROR, 2, "again"));
  g_test_assert_expected_messages ();
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL,
                         "*ag_task_return_value*already returned*");
  ag_task_return_value (AG_TASK (nothing), NULL);
  g_test_assert_expected_messages ();
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL,
                         "*ag_task_return_int*already returned*");
  ag_task_return_int (AG_TASK (failed), 3);
  g_test_assert_expected_messages ();
  g_assert_error (ag_task_get_error (AG_TASK (failed)), TEST_ERROR, 1);
  g_assert_null (ag_task_get_value (AG_TASK (failed)));
  g_assert_cmpint (ag_task_get_state (AG_TASK (nothing)), ==, AG_TASK_SUCCEEDED);
  g_assert_null (ag_task_get_value (AG_TASK (nothing)));
}

/* A task that somebody else runs is waited for; once finished, an await
 * of it answers at the next delivery. */
static void
test_driven_await_of_a_running_or_finished_task_waits_for_it (AgTestFixture *fixture,
                                                              gconstpointer  data)
{
  g_autoptr(AgJob) job = ag_job_new (fixture->engine);
  g_autoptr(AgTask) task = ag_test_task_new_int_after (0, 1);
  AgTestOutcome outcome;
  Await a = { 0 };

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);

  ag_job_await_async (job, task, NULL, on_await_done, &a);
  g_assert_cmpuint (a.n_calls, ==, 0);
  ag_test_run_until (fixture->context, a.n_calls == 1 && outcome.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_no_error (a.error);
  g_assert_cmpint (ag_test_value_get_int (a.value), ==, 1);
  await_clear (&a);

  /* Finished now: the next await of it answers at the next delivery. */
  ag_job_await_async (job, task, NULL, on_await_done, &a);
  g_assert_cmpuint (a.n_calls, ==, 0);
  ag_test_run_until (fixture->context, a.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_cmpint (ag_test_value_get_int (a.value), ==, 1);
  await_clear (&a);

  /* The job can go on. */
  driven_await (job, ag_test_task_new_int_after (0, 2), &a);
  ag_test_run_until (fixture->context, a.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_cmpint (ag_test_value_get_int (a.value), ==, 2);
  await_clear (&a);
  ag_task_return_value (AG_TASK (job), NULL);
  ag_test_outcome_clear (&outcome);
}

static void
test_driven_second_await_while_pending_is_critical (AgTestFixture *fixture,
                                                    gconstpointer  data)
{
  g_autoptr(AgJob) job = ag_job_new (fixture->engine);
  g_autoptr(AgTask) second = ag_test_task_new_int_after (0, 2);
  Await first = { 0 }, a = { 0 };

  driven_await (job, ag_test_task_new_int_after (100, 1), &first);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*already awaiting*");
  ag_job_await_async (job, second, NULL, on_await_done, &a);
  g_test_assert_expected_messages ();

  ag_test_run_until (fixture->context, a.n_calls == 1 && first.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_error (a.error, AG_ERROR, AG_ERROR_FAILED);
  /* The first await is not disturbed, and the refused task not run. */
  g_assert_no_error (first.error);
  g_assert_cmpint (ag_test_value_get_int (first.value), ==, 1);
  g_assert_cmpint (ag_task_get_state (second), ==, AG_TASK_PENDING);

  ag_task_return_value (AG_TASK (job), NULL);
  await_clear (&a);
  await_clear (&first);
}

static void
test_driven_await_after_finish_is_critical (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  g_autoptr(AgJob) job = ag_job_new (fixture->engine);
  Await a = { 0 };

  ag_task_return_value (AG_TASK (job), NULL);
  run_until_finished (fixture, job);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*has finished*");
  driven_await (job, ag_test_task_new_int_after (0, 1), &a);
  g_test_assert_expected_messages ();
  ag_test_run_until (fixture->context, a.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_error (a.error, AG_ERROR, AG_ERROR_FAILED);
  await_clear (&a);
}

static void
test_driven_cancel_semantics (AgTestFixture *fixture,
                              gconstpointer  data)
{
  g_autoptr(AgJob) job = ag_job_new (fixture->engine);
  g_autoptr(AgTask) slow = ag_test_task_new_int_after (1000, 1);
  g_autoptr(AgTask) never = NULL;
  Await a = { 0 };
  gint64 cancel_us;
  int ran = 0;

  ag_job_await_async (job, slow, NULL, on_await_done, &a);
  ag_test_run_for (fixture->context, 50);
  cancel_us = g_get_monotonic_time ();
  ag_task_cancel (AG_TASK (job));
  g_assert_cmpuint (a.n_calls, ==, 0);
  ag_test_run_until (fixture->context, a.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_cmpfloat (ag_test_elapsed_ms (cancel_us), <, 200);
  g_assert_error (a.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (ag_task_get_state (slow), ==, AG_TASK_CANCELLED);
  await_clear (&a);

  /* Caught: the next await runs normally. */
  driven_await (job, ag_test_task_new_int_after (10, 2), &a);
  ag_test_run_until (fixture->context, a.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_no_error (a.error);
  g_assert_cmpint (ag_test_value_get_int (a.value), ==, 2);
  await_clear (&a);

  /* Cancelled with nothing pending: the next await fails at once, and its
   * task ends cancelled without running. */
  ag_task_cancel (AG_TASK (job));
  never = ag_task_new (mark_ran, &ran, NULL);
  ag_job_await_async (job, never, NULL, on_await_done, &a);
  g_assert_cmpuint (a.n_calls, ==, 0);
  ag_test_run_until (fixture->context, a.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_error (a.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  ag_test_run_for (fixture->context, 30);
  g_assert_cmpint (g_atomic_int_get (&ran), ==, 0);
  g_assert_cmpint (ag_task_get_state (never), ==, AG_TASK_CANCELLED);
  await_clear (&a);

  /* The binding re-raises it: cancelled. */
  ag_task_return_error (AG_TASK (job), g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled"));
  run_until_finished (fixture, job);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);
  ag_task_cancel (AG_TASK (job));
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);
}

static void
test_driven_pause_holds_result (AgTestFixture *fixture,
                                gconstpointer  data)
{
  g_autoptr(AgJob) job = ag_job_new (fixture->engine);
  Await a = { 0 };

  driven_await (job, ag_test_task_new_int_after (20, 3), &a);
  ag_job_pause (job);
  ag_test_run_for (fixture->context, 200);
  g_assert_cmpuint (a.n_calls, ==, 0);
  ag_job_resume (job);
  g_assert_cmpuint (a.n_calls, ==, 0);
  ag_test_run_until (fixture->context, a.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_cmpint (ag_test_value_get_int (a.value), ==, 3);
  await_clear (&a);
  ag_task_return_value (AG_TASK (job), NULL);
}

static void
test_driven_job_awaits_c_job_and_is_awaited (AgTestFixture *fixture,
                                             gconstpointer  data)
{
  g_autoptr(AgJob) driven = ag_job_new (fixture->engine);
  g_autoptr(AgJob) c_job = ag_engine_spawn (fixture->engine, inner_returns_string_body, NULL, NULL);
  Await a = { 0 };

  driven_await (driven, g_object_ref (AG_TASK (c_job)), &a);
  ag_test_run_until (fixture->context, a.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_no_error (a.error);
  g_assert_cmpstr (g_value_get_string (a.value), ==, "inner says five");
  ag_task_return_value (AG_TASK (driven), a.value);
  await_clear (&a);
  run_until_finished (fixture, driven);
  g_assert_cmpstr (g_value_get_string (ag_task_get_value (AG_TASK (driven))), ==, "inner says five");
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/job/spawn/runs-body-at-once-until-first-await",
               test_spawn_runs_body_at_once_until_first_await);
  ag_test_add ("/job/spawn/body-without-await-finishes-inside-spawn",
               test_spawn_body_without_await_finishes_inside_spawn);
  ag_test_add ("/job/spawn/on-disposed-engine-fails-without-running",
               test_spawn_on_disposed_engine_fails_without_running);

  ag_test_add ("/job/await/typed-values", test_await_typed_values);
  ag_test_add ("/job/await/error-arrives-at-the-await", test_await_error_arrives_at_the_await);
  ag_test_add ("/job/await/value-of-wrong-type-is-critical",
               test_await_value_of_wrong_type_fails_with_type_mismatch);
  ag_test_add ("/job/await/job-gives-the-other-jobs-value",
               test_await_job_gives_the_other_jobs_value);
  ag_test_add ("/job/await/multi-task-gives-all-values", test_await_multi_task_gives_all_values);
  ag_test_add ("/job/await/outside-job-fails-with-not-in-job-and-frees-task",
               test_await_outside_job_fails_with_not_in_job);
  ag_test_add ("/job/await/from-other-thread-during-job-fails-with-not-in-job",
               test_await_from_other_thread_during_job_fails_with_not_in_job);
  ag_test_add ("/job/await/task-someone-else-runs-is-waited-for", test_await_task_someone_else_runs_waits_for_it);

  ag_test_add ("/job/end/return-value-succeeds-with-it", test_end_return_value_succeeds_with_it);
  ag_test_add ("/job/end/return-error-fails-with-it", test_end_return_error_fails_with_it);
  ag_test_add ("/job/end/return-cancelled-error-ends-cancelled",
               test_end_return_cancelled_error_ends_cancelled);
  ag_test_add ("/job/end/second-return-after-a-value-is-critical-and-the-value-stands",
               test_end_second_return_after_a_value_is_critical);
  ag_test_add ("/job/end/return-after-an-error-is-critical-and-the-error-stands",
               test_end_return_after_an_error_is_critical);
  ag_test_add ("/job/end/no-return-succeeds-without-value",
               test_end_no_return_succeeds_without_value);

  ag_test_add ("/job/state/transitions-notify-on-main-thread",
               test_state_transitions_notify_on_main_thread);

  ag_test_add ("/job/state/error-is-readable-when-notified",
               test_state_error_is_readable_when_notified);

  ag_test_add ("/job/cancel/fails-pending-await-promptly-and-ends-cancelled",
               test_cancel_fails_pending_await_promptly);
  ag_test_add ("/job/cancel/sleep-fails-promptly", test_cancel_sleep_fails_promptly);
  ag_test_add ("/job/cancel/caught-then-next-await-runs-normally",
               test_cancel_caught_then_next_await_runs_normally);
  ag_test_add ("/job/cancel/caught-then-return-nothing-succeeds",
               test_cancel_caught_then_return_nothing_succeeds);
  ag_test_add ("/job/cancel/with-nothing-pending-fails-next-await-at-once-and-cancels-its-task",
               test_cancel_with_nothing_pending_fails_next_await_at_once_and_cancels_its_task);
  ag_test_add ("/job/cancel/paused-job-resumes-it-with-cancelled",
               test_cancel_paused_job_resumes_it_with_cancelled);
  ag_test_add ("/job/cancel/paused-job-with-held-result-sees-cancel",
               test_cancel_paused_job_with_held_result_sees_cancel);
  ag_test_add ("/job/cancel/with-held-result-cancels-the-tasks-cancellable",
               test_cancel_with_held_result_cancels_the_tasks_cancellable);
  ag_test_add ("/job/cancel/with-held-result-leaves-others-tasks-alone",
               test_cancel_with_held_result_leaves_others_tasks_alone);
  ag_test_add ("/job/cancel/finished-job-does-nothing", test_cancel_finished_job_does_nothing);

  ag_test_add ("/job/pause/holds-result-until-resume", test_pause_holds_result_until_resume);
  ag_test_add ("/job/pause/sleep-keeps-its-remainder", test_pause_sleep_keeps_its_remainder);
  ag_test_add ("/job/pause/before-await-holds-its-result", test_pause_before_await_holds_its_result);
  ag_test_add ("/job/pause/resume-not-paused-is-critical", test_pause_resume_not_paused_is_critical);
  ag_test_add ("/job/pause/pause-resume-cancel-of-an-ended-job-are-quiet-no-ops",
               test_pause_resume_cancel_of_an_ended_job_are_quiet_no_ops);
  ag_test_add ("/job/pause/pause-resume-after-cancel-are-quiet-and-the-cancel-goes-through",
               test_pause_resume_after_cancel_are_quiet_and_the_cancel_goes_through);
  ag_test_add ("/job/pause/resume-of-a-pause-a-caught-cancel-lifted-is-quiet",
               test_resume_of_a_pause_a_caught_cancel_lifted_is_quiet);
  ag_test_add ("/job/cancel/pending-lasts-until-the-job-sees-it",
               test_cancel_pending_lasts_until_the_job_sees_it);
  ag_test_add ("/job/pause/may-resume-tells-where-a-resume-is-an-error",
               test_may_resume_tells_where_a_resume_is_an_error);

  ag_test_add ("/job/nested/cancel-outer-cancels-inner", test_nested_cancel_outer_cancels_inner);
  ag_test_add ("/job/nested/spawn-inside-job-and-await-it", test_nested_spawn_inside_job_and_await_it);
  ag_test_add ("/job/nested/inner-failure-arrives-at-outer-await",
               test_nested_inner_failure_arrives_at_outer_await);

  ag_test_add ("/job/many/thousand-jobs-at-once-finish-with-right-values",
               test_many_thousand_jobs_at_once_finish_with_right_values);
  ag_test_add ("/job/many/sequential-jobs-reuse-stacks", test_many_sequential_jobs_reuse_stacks);

  ag_test_add ("/job/stack/deep-recursion-fits-default-size",
               test_stack_deep_recursion_fits_default_size);
  ag_test_add ("/job/stack/bigger-size-allows-deeper-recursion",
               test_stack_bigger_size_allows_deeper_recursion);
  ag_test_add ("/job/stack/size-bounds", test_stack_size_bounds);
  ag_test_add ("/job/stack/smallest-size-runs-awaits", test_stack_smallest_size_runs_awaits);

  ag_test_add ("/job/dispose/ends-suspended-jobs-cancelled-after-their-cleanup",
               test_dispose_ends_suspended_jobs_cancelled);
  ag_test_add ("/job/dispose/frees-job-nobody-holds",
               test_dispose_before_first_delivery_of_a_dropped_job);
  ag_test_add ("/job/dispose/unwinds-suspended-jobs-and-frees-their-locals",
               test_dispose_unwinds_suspended_jobs_and_frees_their_locals);
  ag_test_add ("/job/dispose/from-inside-a-job-ends-it-and-its-code-runs-on",
               test_dispose_from_inside_a_job_ends_it_and_its_code_runs_on);
  ag_test_add ("/job/dispose/cleanup-waiting-for-another-job-fails-at-once",
               test_dispose_cleanup_waiting_for_another_job_fails_at_once);

  ag_test_add ("/job/wait/from-another-thread", test_wait_from_another_thread);
  ag_test_add ("/job/wait/from-another-thread-sees-failure",
               test_wait_from_another_thread_sees_failure);
  ag_test_add ("/job/wait/on-main-thread-iterates-the-context",
               test_wait_on_main_thread_iterates_the_context);
  ag_test_add ("/job/wait/times-out", test_wait_times_out);
  ag_test_add ("/job/wait/for-itself-would-deadlock", test_wait_for_itself_would_deadlock);
  ag_test_add ("/job/wait/for-itself-before-any-await-would-deadlock",
               test_wait_for_itself_before_any_await_would_deadlock);
  ag_test_add ("/job/await/jobs-awaiting-each-other-are-refused",
               test_jobs_awaiting_each_other_are_refused);
  ag_test_add ("/job/await/a-circle-of-jobs-through-a-multi-task-is-refused",
               test_a_circle_of_jobs_through_a_multi_task_is_refused);
  ag_test_add ("/job/cancel/ends-the-await-of-a-job-that-goes-on-at-once",
               test_cancel_ends_the_await_of_a_job_that_goes_on_at_once);
  ag_test_add ("/job/await/a-job-whose-await-a-cancel-ended-is-no-circle",
               test_awaiting_a_job_whose_await_a_cancel_ended_is_no_circle);
  ag_test_add ("/job/await/an-ended-task-that-waited-for-the-job-is-no-circle",
               test_awaiting_an_ended_task_that_waited_for_the_job_is_no_circle);
  ag_test_add ("/job/await/the-search-for-circles-visits-each-task-once",
               test_the_search_for_circles_visits_each_task_once);
  ag_test_add ("/job/await/a-circle-of-jobs-through-a-dependency-is-refused",
               test_a_circle_of_jobs_through_a_dependency_is_refused);
  ag_test_add ("/job/stack/a-big-frame-past-the-stack-faults-in-its-own-guard",
               test_a_big_frame_past_the_stack_faults_in_its_own_guard);
  ag_test_add ("/job/await/a-callback-of-a-loop-a-job-runs-is-not-the-job",
               test_a_callback_of_a_loop_a_job_runs_is_not_the_job);
  ag_test_add ("/job/await/a-callback-run-while-a-job-waits-is-not-the-job",
               test_a_callback_run_while_a_job_waits_is_not_the_job);
  ag_test_add ("/job/cancel/goes-down-a-chain-of-awaiting-jobs",
               test_cancel_goes_down_a_chain_of_awaiting_jobs);
  ag_test_add ("/job/wait/async-several-waiters", test_wait_async_several_waiters);
  ag_test_add ("/job/wait/async-cancellable-stops-waiting",
               test_wait_async_cancellable_stops_waiting);

  ag_test_add ("/job/driven/running-a-job-says-to-wait-for-it",
               test_driven_running_a_job_says_to_wait_for_it);
  ag_test_add ("/job/driven/await-and-return-value", test_driven_await_and_return_value);
  ag_test_add ("/job/driven/return-error", test_driven_return_error);
  ag_test_add ("/job/driven/await-of-a-running-or-finished-task-waits-for-it",
               test_driven_await_of_a_running_or_finished_task_waits_for_it);
  ag_test_add ("/job/driven/second-await-while-pending-is-critical",
               test_driven_second_await_while_pending_is_critical);
  ag_test_add ("/job/driven/await-after-finish-is-critical",
               test_driven_await_after_finish_is_critical);
  ag_test_add ("/job/driven/cancel-semantics", test_driven_cancel_semantics);
  ag_test_add ("/job/driven/pause-holds-result", test_driven_pause_holds_result);
  ag_test_add ("/job/driven/awaits-c-job", test_driven_job_awaits_c_job_and_is_awaited);

  return g_test_run ();
}
