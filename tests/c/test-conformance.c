/* test-conformance.c: the conformance scenarios (docs/conformance.md) as C
 * jobs started with ag_engine_spawn()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"


static void
value_free (GValue *value)
{
  ag_test_value_free (value);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GValue, value_free)

/* ag_multi_task_add() takes a reference of its own: give up ours. */
static void
multi_add_take (AgMultiTask *multi,
                AgTask      *child)
{
  ag_multi_task_add (multi, child);
  g_object_unref (child);
}

static void
run_until_finished (AgTestFixture *fixture,
                    AgJob         *job)
{
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (job)), AG_TEST_SAFETY_MS);
}

static gboolean
count_tick (gpointer user_data)
{
  guint *ticks = user_data;

  (*ticks)++;
  return G_SOURCE_CONTINUE;
}

/* The ints in a MultiTask's value, in order. */
static GArray *
ints_of (const GValue *value)
{
  GArray *values = g_value_get_boxed (value);
  GArray *ints = g_array_new (FALSE, FALSE, sizeof (int));

  for (guint i = 0; i < values->len; i++)
    {
      int n = g_value_get_int (&g_array_index (values, GValue, i));

      g_array_append_val (ints, n);
    }

  return ints;
}

static void
assert_ints (GArray    *ints,
             const int *expected,
             guint      n_expected)
{
  g_assert_nonnull (ints);
  g_assert_cmpuint (ints->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    g_assert_cmpint (g_array_index (ints, int, i), ==, expected[i]);
}

/* 1. sequential-handler-keeps-loop-alive */

typedef struct
{
  int       seen;
  GThread  *thread_after;
  GError   *error;
} KeepsLoopAlive;

static void
keeps_loop_alive_body (AgJob    *job,
                       gpointer  user_data)
{
  KeepsLoopAlive *k = user_data;
  int n = ag_job_await_int (ag_test_task_new_int_after (300, 42), &k->error);

  k->thread_after = g_thread_self ();
  k->seen = n;
  ag_task_return_int (AG_TASK (job), n);
}

static void
test_sequential_handler_keeps_loop_alive (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  KeepsLoopAlive k = { 0 };
  guint ticks = 0, tick_id;
  g_autoptr(AgJob) job = NULL;

  tick_id = g_timeout_add (10, count_tick, &ticks);
  job = ag_engine_spawn (fixture->engine, keeps_loop_alive_body, &k, NULL);
  run_until_finished (fixture, job);
  g_source_remove (tick_id);

  g_test_message ("%u ticks of the 10 ms timer during the await", ticks);
  /* A loop blocked for the await would tick once or twice after it; a
   * loaded machine may starve a running one of half its 30, not of all. */
  g_assert_cmpuint (ticks, >=, 5);
  g_assert_no_error (k.error);
  g_assert_true (k.thread_after == ag_test_main_thread ());
  g_assert_cmpint (k.seen, ==, 42);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_test_value_get_int (ag_task_get_value (AG_TASK (job))), ==, 42);
}

/* 2. error-at-the-await, 3. uncaught-error-fails-the-job */

typedef struct
{
  gboolean catch;
  GError  *caught;
} ErrorAtAwait;

static void
error_body (AgJob    *job,
            gpointer  user_data)
{
  ErrorAtAwait *e = user_data;
  GError *error = NULL;

  ag_job_await_int (ag_test_task_new_error_after (50, TEST_ERROR, 17, "the frobnicator broke"),
                    &error);
  if (error == NULL)
    return;

  /* In C an error is "not caught" when the job passes it on. */
  if (!e->catch)
    {
      ag_task_return_error (AG_TASK (job), error);
      return;
    }

  e->caught = error;
  ag_task_return_int (AG_TASK (job), 0);
}

static void
test_error_at_the_await (AgTestFixture *fixture,
                         gconstpointer  data)
{
  ErrorAtAwait e = { .catch = TRUE };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, error_body, &e, NULL);

  run_until_finished (fixture, job);

  g_assert_error (e.caught, TEST_ERROR, 17);
  g_assert_cmpstr (e.caught->message, ==, "the frobnicator broke");
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  g_assert_null (ag_task_get_error (AG_TASK (job)));
  g_clear_error (&e.caught);
}

static void
test_uncaught_error_fails_the_job (AgTestFixture *fixture,
                                   gconstpointer  data)
{
  ErrorAtAwait e = { .catch = FALSE };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, error_body, &e, NULL);

  run_until_finished (fixture, job);

  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_FAILED);
  g_assert_error (ag_task_get_error (AG_TASK (job)), TEST_ERROR, 17);
  g_assert_cmpstr (ag_task_get_error (AG_TASK (job))->message, ==, "the frobnicator broke");
  g_assert_null (ag_task_get_value (AG_TASK (job)));
}

/* 4. ordered-multi */

static void
ordered_multi_body (AgJob    *job,
                    gpointer  user_data)
{
  GArray **ints = user_data;
  AgMultiTask *multi = ag_multi_task_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GValue) value = NULL;

  multi_add_take (multi, ag_test_task_new_int_after (300, 0));
  multi_add_take (multi, ag_test_task_new_int_after (100, 1));
  multi_add_take (multi, ag_test_task_new_int_after (200, 2));

  value = ag_job_await (AG_TASK (multi), &error);
  g_assert_no_error (error);
  *ints = ints_of (value);
}

static void
test_ordered_multi (AgTestFixture *fixture,
                    gconstpointer  data)
{
  static const int expected[] = { 0, 1, 2 };
  g_autoptr(GArray) ints = NULL;
  g_autoptr(AgJob) job = NULL;

  ag_engine_set_max_threads (fixture->engine, 4);
  job = ag_engine_spawn (fixture->engine, ordered_multi_body, &ints, NULL);
  run_until_finished (fixture, job);

  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  assert_ints (ints, expected, G_N_ELEMENTS (expected));
}

/* 5. skip-errors */

typedef struct
{
  GArray *skipped;
  GError *error;
  double  error_after_ms;
} SkipErrors;

static AgMultiTask *
three_with_failing_middle (void)
{
  AgMultiTask *multi = ag_multi_task_new ();

  multi_add_take (multi, ag_test_task_new_int_after (300, 0));
  multi_add_take (multi, ag_test_task_new_error_after (100, TEST_ERROR, 1, "child 1 broke"));
  multi_add_take (multi, ag_test_task_new_int_after (200, 2));

  return multi;
}

static void
skip_errors_body (AgJob    *job,
                  gpointer  user_data)
{
  SkipErrors *s = user_data;
  AgMultiTask *multi = three_with_failing_middle ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GValue) value = NULL;
  GValue *failed;
  gint64 start;

  ag_multi_task_set_skip_errors (multi, TRUE);
  value = ag_job_await (AG_TASK (multi), &error);
  g_assert_no_error (error);
  s->skipped = ints_of (value);

  start = g_get_monotonic_time ();
  failed = ag_job_await (AG_TASK (three_with_failing_middle ()), &s->error);
  s->error_after_ms = ag_test_elapsed_ms (start);
  g_assert_null (failed);
}

static void
test_skip_errors (AgTestFixture *fixture,
                  gconstpointer  data)
{
  static const int expected[] = { 0, 2 };
  SkipErrors s = { 0 };
  g_autoptr(AgJob) job = NULL;

  ag_engine_set_max_threads (fixture->engine, 4);
  job = ag_engine_spawn (fixture->engine, skip_errors_body, &s, NULL);
  run_until_finished (fixture, job);

  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  assert_ints (s.skipped, expected, G_N_ELEMENTS (expected));
  g_test_message ("the failure arrived after %.0f ms", s.error_after_ms);
  g_assert_error (s.error, TEST_ERROR, 1);
  g_assert_cmpstr (s.error->message, ==, "child 1 broke");
  g_assert_cmpfloat (s.error_after_ms, >=, 280);
  g_array_unref (s.skipped);
  g_clear_error (&s.error);
}

/* 6. max-workers */

typedef struct
{
  double limited_ms;
  double unlimited_ms;
} MaxWorkers;

static AgMultiTask *
four_children (guint max_workers)
{
  AgMultiTask *multi = ag_multi_task_new ();

  for (int i = 0; i < 4; i++)
    multi_add_take (multi, ag_test_task_new_int_after (300, i));
  ag_multi_task_set_max_workers (multi, max_workers);

  return multi;
}

static void
max_workers_body (AgJob    *job,
                  gpointer  user_data)
{
  MaxWorkers *m = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value;
  gint64 start;

  start = g_get_monotonic_time ();
  value = ag_job_await (AG_TASK (four_children (2)), &error);
  m->limited_ms = ag_test_elapsed_ms (start);
  g_assert_no_error (error);
  g_clear_pointer (&value, value_free);

  start = g_get_monotonic_time ();
  value = ag_job_await (AG_TASK (four_children (0)), &error);
  m->unlimited_ms = ag_test_elapsed_ms (start);
  g_assert_no_error (error);
  g_clear_pointer (&value, value_free);
}

static void
test_max_workers (AgTestFixture *fixture,
                  gconstpointer  data)
{
  MaxWorkers m = { 0 };
  g_autoptr(AgJob) job = NULL;

  /* Enough threads that only max-workers limits the children. */
  ag_engine_set_max_threads (fixture->engine, 8);
  job = ag_engine_spawn (fixture->engine, max_workers_body, &m, NULL);
  run_until_finished (fixture, job);

  g_test_message ("max-workers 2: %.0f ms; no limit: %.0f ms", m.limited_ms, m.unlimited_ms);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpfloat (m.limited_ms, >=, 550);
  g_assert_cmpfloat (m.limited_ms, <=, 1500);
  g_assert_cmpfloat (m.unlimited_ms, <, 550);
  g_assert_cmpint (g_atomic_int_get (&ag_test_max_in_worker), ==, 4);
}

/* 7. unordered-order */

static void
on_task_done (AgMultiTask *multi,
              guint        position,
              gpointer     user_data)
{
  GArray *announced = user_data;
  int n = position;

  g_array_append_val (announced, n);
}

static void
unordered_body (AgJob    *job,
                gpointer  user_data)
{
  GArray *announced = user_data;
  AgMultiTask *multi = ag_multi_task_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GValue) value = NULL;

  multi_add_take (multi, ag_test_task_new_int_after (500, 'a'));
  multi_add_take (multi, ag_test_task_new_int_after (100, 'b'));
  multi_add_take (multi, ag_test_task_new_int_after (300, 'c'));
  ag_multi_task_set_unordered (multi, TRUE);
  g_signal_connect (multi, "task-done", G_CALLBACK (on_task_done), announced);

  value = ag_job_await (AG_TASK (multi), &error);
  g_assert_no_error (error);
}

static void
test_unordered_order (AgTestFixture *fixture,
                      gconstpointer  data)
{
  static const int expected[] = { 1, 2, 0 };   /* b, c, a */
  g_autoptr(GArray) announced = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(AgJob) job = NULL;

  ag_engine_set_max_threads (fixture->engine, 4);
  job = ag_engine_spawn (fixture->engine, unordered_body, announced, NULL);
  run_until_finished (fixture, job);

  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  assert_ints (announced, expected, G_N_ELEMENTS (expected));
}

/* 8. cancel-semantics */

typedef struct
{
  gint64   start_us;
  double   await_failed_at_ms;
  GError  *error;
  gboolean after_first_await;
  gboolean cleanup_ran;
  int      next_ran;          /* atomic: set on a worker if it ever runs */
  AgTask  *slow;
} CancelSemantics;

static void
mark_ran (AgTask       *task,
          gpointer      user_data,
          GCancellable *cancellable)
{
  g_atomic_int_set ((int *) user_data, 1);
  ag_task_return_int (task, 2);
}

static void
cancel_body (AgJob    *job,
             gpointer  user_data)
{
  CancelSemantics *c = user_data;

  ag_job_await_int (g_object_ref (c->slow), &c->error);
  if (c->error == NULL)
    {
      c->after_first_await = TRUE;
      ag_job_await_int (ag_task_new (mark_ran, &c->next_ran, NULL), &c->error);
    }
  else
    c->await_failed_at_ms = ag_test_elapsed_ms (c->start_us);

  /* Cleanup: runs whatever happened. */
  c->cleanup_ran = TRUE;
}

static void
test_cancel_semantics (AgTestFixture *fixture,
                       gconstpointer  data)
{
  CancelSemantics c = { .start_us = g_get_monotonic_time () };
  g_autoptr(AgJob) job = NULL;
  double cancelled_at_ms;

  c.slow = ag_test_task_new_int_after (1000, 1);
  job = ag_engine_spawn (fixture->engine, cancel_body, &c, NULL);
  ag_test_run_for (fixture->context, 100);
  cancelled_at_ms = ag_test_elapsed_ms (c.start_us);
  ag_task_cancel (AG_TASK (job));
  run_until_finished (fixture, job);

  g_test_message ("cancelled at %.0f ms, the await failed at %.0f ms",
                  cancelled_at_ms, c.await_failed_at_ms);
  g_assert_error (c.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpfloat (c.await_failed_at_ms - cancelled_at_ms, <=, 200);
  g_assert_true (c.cleanup_ran);
  g_assert_false (c.after_first_await);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);

  /* The task's late result is never seen, and nothing else was awaited. */
  ag_test_run_for (fixture->context, 1100);
  g_assert_cmpint (ag_task_get_state (c.slow), ==, AG_TASK_CANCELLED);
  g_assert_false (c.after_first_await);
  g_assert_cmpint (g_atomic_int_get (&c.next_ran), ==, 0);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);

  g_clear_error (&c.error);
  g_clear_object (&c.slow);
}

/* 9. pause-resume */

typedef struct
{
  gint64  start_us;
  double  continued_at_ms;
  int     value;
  GError *error;
} PauseResume;

static void
pause_resume_body (AgJob    *job,
                   gpointer  user_data)
{
  PauseResume *p = user_data;

  p->value = ag_job_await_int (ag_test_task_new_int_after (200, 9), &p->error);
  p->continued_at_ms = ag_test_elapsed_ms (p->start_us);
  ag_task_return_int (AG_TASK (job), p->value);
}

static void
test_pause_resume (AgTestFixture *fixture,
                   gconstpointer  data)
{
  PauseResume p = { .start_us = g_get_monotonic_time () };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, pause_resume_body, &p, NULL);
  double resumed_at_ms;

  ag_test_run_for (fixture->context, 50);
  ag_job_pause (job);
  ag_test_run_for (fixture->context, 350);
  /* The task has finished, but the job has not seen it. */
  g_assert_cmpfloat (p.continued_at_ms, ==, 0);
  g_assert_true (ag_job_get_paused (job));

  resumed_at_ms = ag_test_elapsed_ms (p.start_us);
  ag_job_resume (job);
  run_until_finished (fixture, job);

  g_test_message ("resumed at %.0f ms, continued at %.0f ms", resumed_at_ms, p.continued_at_ms);
  g_assert_cmpfloat (resumed_at_ms, >=, 400);
  g_assert_cmpfloat (p.continued_at_ms, >=, resumed_at_ms);
  g_assert_no_error (p.error);
  g_assert_cmpint (p.value, ==, 9);
  g_assert_cmpint (ag_test_value_get_int (ag_task_get_value (AG_TASK (job))), ==, 9);
}

/* 10. pause-keeps-sleep-remainder */

typedef struct
{
  gint64  start_us;
  double  woke_ms;
  GError *error;
} SleepRemainder;

static void
sleep_body (AgJob    *job,
            gpointer  user_data)
{
  SleepRemainder *s = user_data;

  ag_job_sleep (300, &s->error);
  s->woke_ms = ag_test_elapsed_ms (s->start_us);
}

static void
test_pause_keeps_sleep_remainder (AgTestFixture *fixture,
                                  gconstpointer  data)
{
  SleepRemainder s = { .start_us = g_get_monotonic_time () };
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, sleep_body, &s, NULL);

  ag_test_run_for (fixture->context, 100);
  ag_job_pause (job);
  ag_test_run_for (fixture->context, 300);
  ag_job_resume (job);
  run_until_finished (fixture, job);

  g_test_message ("woke after %.0f ms", s.woke_ms);
  g_assert_no_error (s.error);
  g_assert_cmpfloat (s.woke_ms, >=, 550);
  g_assert_cmpfloat (s.woke_ms, <=, 900);
}

/* 11. nested-jobs */

static void
job_b_body (AgJob    *job,
            gpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  int n = ag_job_await_int (ag_test_task_new_int_after (50, 7), &error);

  g_assert_no_error (error);
  ag_task_return_int (AG_TASK (job), n);
}

typedef struct
{
  AgJob  *b;
  GValue *a_got;
  GError *error;
} Nested;

static void
job_a_body (AgJob    *job,
            gpointer  user_data)
{
  Nested *n = user_data;

  n->b = ag_engine_spawn (ag_task_get_engine (AG_TASK (job)), job_b_body, NULL, NULL);
  n->a_got = ag_job_await (g_object_ref (AG_TASK (n->b)), &n->error);
  if (n->a_got != NULL)
    ag_task_return_value (AG_TASK (job), n->a_got);
}

static void
test_nested_jobs (AgTestFixture *fixture,
                  gconstpointer  data)
{
  Nested n = { 0 };
  g_autoptr(AgJob) a = ag_engine_spawn (fixture->engine, job_a_body, &n, NULL);

  run_until_finished (fixture, a);

  g_assert_no_error (n.error);
  g_assert_cmpint (ag_test_value_get_int (n.a_got), ==, 7);
  g_assert_cmpint (ag_task_get_state (AG_TASK (a)), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_task_get_state (AG_TASK (n.b)), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_test_value_get_int (ag_task_get_value (AG_TASK (n.b))), ==, 7);
  g_clear_pointer (&n.a_got, value_free);
  g_clear_object (&n.b);
}

/* 12. serial-mode */

typedef struct
{
  GArray   *ran;              /* only the main thread appends in serial mode */
  gboolean  off_main_thread;  /* atomic */
} Serial;

typedef struct
{
  Serial *serial;
  int     tag;
} Recording;

static void
recording (AgTask       *task,
           gpointer      user_data,
           GCancellable *cancellable)
{
  Recording *r = user_data;

  if (g_thread_self () != ag_test_main_thread ())
    g_atomic_int_set (&r->serial->off_main_thread, TRUE);
  else
    g_array_append_val (r->serial->ran, r->tag);
  ag_task_return_int (task, r->tag);
}

static AgTask *
recording_new (Serial *serial,
               int     tag)
{
  Recording *r = g_new0 (Recording, 1);

  r->serial = serial;
  r->tag = tag;

  return ag_task_new (recording, r, g_free);
}

static void
serial_body (AgJob    *job,
             gpointer  user_data)
{
  Serial *serial = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GValue) value = NULL;
  AgMultiTask *multi;

  for (int i = 0; i < 3; i++)
    {
      int n = ag_job_await_int (recording_new (serial, i), &error);

      g_assert_no_error (error);
      g_assert_cmpint (n, ==, i);
    }

  multi = ag_multi_task_new ();
  for (int i = 3; i < 6; i++)
    multi_add_take (multi, recording_new (serial, i));
  value = ag_job_await (AG_TASK (multi), &error);
  g_assert_no_error (error);
}

typedef struct
{
  Serial *serial;
  int     tag;
} OneRecording;

static void
one_recording_body (AgJob    *job,
                    gpointer  user_data)
{
  OneRecording *o = user_data;
  g_autoptr(GError) error = NULL;

  ag_job_await_int (recording_new (o->serial, o->tag), &error);
  g_assert_no_error (error);
}

static void
test_serial_mode (AgTestFixture *fixture,
                  gconstpointer  data)
{
  static const int expected[] = { 0, 1, 2, 3, 4, 5 };
  static const int expected_jobs[] = { 10, 11, 12 };
  Serial serial = { .ran = g_array_new (FALSE, FALSE, sizeof (int)) };
  OneRecording ones[3];
  AgJob *jobs[3];
  g_autoptr(AgJob) job = NULL;

  ag_engine_set_max_threads (fixture->engine, 0);
  job = ag_engine_spawn (fixture->engine, serial_body, &serial, NULL);
  run_until_finished (fixture, job);

  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  g_assert_false (g_atomic_int_get (&serial.off_main_thread));
  assert_ints (serial.ran, expected, G_N_ELEMENTS (expected));

  /* Three jobs awaiting one task each: their tasks run in the order the
   * jobs awaited them. */
  g_array_set_size (serial.ran, 0);
  for (int i = 0; i < 3; i++)
    {
      ones[i] = (OneRecording) { &serial, 10 + i };
      jobs[i] = ag_engine_spawn (fixture->engine, one_recording_body, &ones[i], NULL);
    }
  for (int i = 0; i < 3; i++)
    {
      run_until_finished (fixture, jobs[i]);
      g_assert_cmpint (ag_task_get_state (AG_TASK (jobs[i])), ==, AG_TASK_SUCCEEDED);
      g_object_unref (jobs[i]);
    }
  g_assert_false (g_atomic_int_get (&serial.off_main_thread));
  assert_ints (serial.ran, expected_jobs, G_N_ELEMENTS (expected_jobs));
  g_array_unref (serial.ran);
}

/* 13. progress */

typedef struct
{
  AgTask      *task;
  guint        n_notified;
  double       last_notified;
  int          value;
  GError      *error;
  AgTestLatch  reported;  /* opened once the worker made its updates */
} Progress;

static void
thousand_progress_updates (AgTask       *task,
                           gpointer      user_data,
                           GCancellable *cancellable)
{
  Progress *p = user_data;

  for (int i = 1; i <= 1000; i++)
    ag_task_set_progress (task, i / 1000.0);

  ag_test_latch_open (&p->reported);
  ag_task_return_int (task, 1000);
}

/* Holds the main loop still until the worker has made its updates, so
 * that none can be delivered in between. */
static gboolean
hold_loop_until_reported (gpointer user_data)
{
  ag_test_latch_wait (user_data);

  return G_SOURCE_REMOVE;
}

static void
on_progress (GObject    *object,
             GParamSpec *pspec,
             gpointer    user_data)
{
  Progress *p = user_data;

  p->n_notified++;
  p->last_notified = ag_task_get_progress (AG_TASK (object));
}

static void
progress_body (AgJob    *job,
               gpointer  user_data)
{
  Progress *p = user_data;

  p->task = ag_task_new (thousand_progress_updates, p, NULL);
  g_signal_connect (p->task, "notify::progress", G_CALLBACK (on_progress), p);
  g_timeout_add_full (G_PRIORITY_HIGH, 0, hold_loop_until_reported, &p->reported, NULL);
  p->value = ag_job_await_int (g_object_ref (p->task), &p->error);
}

static void
test_progress (AgTestFixture *fixture,
               gconstpointer  data)
{
  Progress p = { .last_notified = -2 };
  g_autoptr(AgJob) job = NULL;

  ag_test_latch_init (&p.reported);
  job = ag_engine_spawn (fixture->engine, progress_body, &p, NULL);
  run_until_finished (fixture, job);
  ag_test_run_for (fixture->context, 50);

  g_test_message ("%u progress notifications for 1000 updates", p.n_notified);
  g_assert_no_error (p.error);
  g_assert_true (ag_test_latch_wait (&p.reported));
  g_assert_cmpint (p.value, ==, 1000);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpuint (p.n_notified, ==, 1);
  g_assert_cmpfloat (p.last_notified, ==, 1.0);
  g_clear_object (&p.task);
  ag_test_latch_clear (&p.reported);
}

/* 14. dispose-with-work-in-flight */

typedef struct
{
  gboolean before_await;
  gboolean after_await;
  gboolean cancelled;
  AgTask  *slow;
} DisposeInFlight;

static void
dispose_body (AgJob    *job,
              gpointer  user_data)
{
  DisposeInFlight *d = user_data;
  GError *error = NULL;

  d->before_await = TRUE;
  ag_job_await_int (g_object_ref (d->slow), &error);
  /* Reached once, inside the disposal, so that the job can clean up. */
  d->after_await = TRUE;
  d->cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
}

static void
test_dispose_with_work_in_flight (AgTestFixture *fixture,
                                  gconstpointer  data)
{
  DisposeInFlight d = { 0 };
  AgEngine *engine = g_steal_pointer (&fixture->engine);
  g_autoptr(AgJob) job = NULL;

  d.slow = ag_test_task_new_int_after (500, 1);
  job = ag_engine_spawn (engine, dispose_body, &d, NULL);
  g_assert_true (d.before_await);
  ag_test_run_for (fixture->context, 100);
  g_assert_false (d.after_await);
  g_object_unref (engine);

  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);
  g_assert_true (d.after_await);
  g_assert_true (d.cancelled);
  d.after_await = FALSE;

  ag_test_run_for (fixture->context, 700);
  g_assert_false (d.after_await);
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);
  g_assert_cmpint (ag_task_get_state (d.slow), ==, AG_TASK_CANCELLED);
  g_assert_null (ag_task_get_value (d.slow));
  g_clear_object (&d.slow);
}

/* 15. bad-input */

static void
return_now_body (AgJob    *job,
                 gpointer  user_data)
{
  ag_task_return_int (AG_TASK (job), 5);
}

static void
test_bad_input (AgTestFixture *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AgJob) finished = NULL;
  g_autoptr(AgJob) running = NULL;
  SleepRemainder sleeping = { .start_us = g_get_monotonic_time () };
  GValue *value;

  /* Awaiting outside a job: an error, not a crash. */
  value = ag_job_await (ag_test_task_new_int_after (0, 1), &error);
  g_assert_null (value);
  g_assert_error (error, AG_ERROR, AG_ERROR_NOT_IN_JOB);

  /* Resuming a job that is not paused: a critical. */
  running = ag_engine_spawn (fixture->engine, sleep_body, &sleeping, NULL);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*not paused*");
  ag_job_resume (running);
  g_test_assert_expected_messages ();
  g_assert_cmpint (ag_task_get_state (AG_TASK (running)), ==, AG_TASK_RUNNING);
  ag_task_cancel (AG_TASK (running));
  run_until_finished (fixture, running);
  g_assert_error (sleeping.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&sleeping.error);

  /* Pausing, resuming or cancelling a finished job does nothing. */
  finished = ag_engine_spawn (fixture->engine, return_now_body, NULL, NULL);
  run_until_finished (fixture, finished);
  ag_job_pause (finished);
  ag_job_resume (finished);
  ag_task_cancel (AG_TASK (finished));
  ag_test_run_for (fixture->context, 20);
  g_assert_cmpint (ag_task_get_state (AG_TASK (finished)), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_test_value_get_int (ag_task_get_value (AG_TASK (finished))), ==, 5);
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/conformance/sequential-handler-keeps-loop-alive",
               test_sequential_handler_keeps_loop_alive);
  ag_test_add ("/conformance/error-at-the-await", test_error_at_the_await);
  ag_test_add ("/conformance/uncaught-error-fails-the-job", test_uncaught_error_fails_the_job);
  ag_test_add ("/conformance/ordered-multi", test_ordered_multi);
  ag_test_add ("/conformance/skip-errors", test_skip_errors);
  ag_test_add ("/conformance/max-workers", test_max_workers);
  ag_test_add ("/conformance/unordered-order", test_unordered_order);
  ag_test_add ("/conformance/cancel-semantics", test_cancel_semantics);
  ag_test_add ("/conformance/pause-resume", test_pause_resume);
  ag_test_add ("/conformance/pause-keeps-sleep-remainder", test_pause_keeps_sleep_remainder);
  ag_test_add ("/conformance/nested-jobs", test_nested_jobs);
  ag_test_add ("/conformance/serial-mode", test_serial_mode);
  ag_test_add ("/conformance/progress", test_progress);
  ag_test_add ("/conformance/dispose-with-work-in-flight", test_dispose_with_work_in_flight);
  ag_test_add ("/conformance/bad-input", test_bad_input);

  return g_test_run ();
}
