/* test-util.c: what the C tests share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#ifdef HAVE_VALGRIND_VALGRIND_H
# include <valgrind/valgrind.h>
#endif

#include "test-util.h"

#if defined(__SANITIZE_THREAD__)
# define UNDER_TSAN 1
#elif defined(__has_feature)
# if __has_feature(thread_sanitizer)
#  define UNDER_TSAN 1
# endif
#endif
#ifndef UNDER_TSAN
# define UNDER_TSAN 0
#endif

#if defined(__SANITIZE_ADDRESS__)
# define UNDER_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define UNDER_ASAN 1
# endif
#endif
#ifndef UNDER_ASAN
# define UNDER_ASAN 0
#endif

static GThread *main_thread;

int ag_test_n_in_worker;
int ag_test_max_in_worker;

GThread *
ag_test_main_thread (void)
{
  return main_thread;
}

double
ag_test_timing_factor (void)
{
#ifdef HAVE_VALGRIND_VALGRIND_H
  if (RUNNING_ON_VALGRIND)
    return 10;
#endif
  if (UNDER_TSAN)
    return 4;
  return UNDER_ASAN ? 2 : 1;
}

void
ag_test_latch_init (AgTestLatch *latch)
{
  g_mutex_init (&latch->lock);
  g_cond_init (&latch->cond);
  latch->open = FALSE;
}

void
ag_test_latch_clear (AgTestLatch *latch)
{
  g_cond_clear (&latch->cond);
  g_mutex_clear (&latch->lock);
}

void
ag_test_latch_open (AgTestLatch *latch)
{
  g_mutex_lock (&latch->lock);
  latch->open = TRUE;
  g_cond_broadcast (&latch->cond);
  g_mutex_unlock (&latch->lock);
}

gboolean
ag_test_latch_wait (AgTestLatch *latch)
{
  gint64 deadline = g_get_monotonic_time () + AG_TEST_SAFETY_MS * G_TIME_SPAN_MILLISECOND;
  gboolean open;

  g_mutex_lock (&latch->lock);
  while (!latch->open && g_cond_wait_until (&latch->cond, &latch->lock, deadline))
    ;
  open = latch->open;
  g_mutex_unlock (&latch->lock);

  return open;
}

double
ag_test_elapsed_ms (gint64 start_us)
{
  return (g_get_monotonic_time () - start_us) / 1000.0;
}

struct _AgTestDeadline
{
  GSource  *source;
  GSource  *poll;
  gboolean  passed;
};

static gboolean
keep_polling_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
deadline_passed_cb (gpointer user_data)
{
  AgTestDeadline *deadline = user_data;

  deadline->passed = TRUE;
  return G_SOURCE_REMOVE;
}

AgTestDeadline *
ag_test_deadline_new (GMainContext *context,
                      guint         timeout_ms)
{
  AgTestDeadline *deadline = g_new0 (AgTestDeadline, 1);

  /* The source wakes g_main_context_iteration() up even when nothing
   * else on the context ever becomes ready. */
  deadline->source = g_timeout_source_new (timeout_ms);
  g_source_set_callback (deadline->source, deadline_passed_cb, deadline, NULL);
  g_source_set_name (deadline->source, "[asyncgui test] deadline");
  g_source_attach (deadline->source, context);

  /* Conditions may be made true by other threads, which do not wake the
   * context: look again every few milliseconds. At the lowest priority it
   * never delays anything the test is watching. */
  deadline->poll = g_timeout_source_new (5);
  g_source_set_priority (deadline->poll, G_PRIORITY_LOW);
  g_source_set_callback (deadline->poll, keep_polling_cb, NULL, NULL);
  g_source_set_name (deadline->poll, "[asyncgui test] poll");
  g_source_attach (deadline->poll, context);

  return deadline;
}

gboolean
ag_test_deadline_passed (AgTestDeadline *deadline)
{
  return deadline->passed;
}

void
ag_test_deadline_free (AgTestDeadline *deadline)
{
  g_source_destroy (deadline->source);
  g_source_unref (deadline->source);
  g_source_destroy (deadline->poll);
  g_source_unref (deadline->poll);
  g_free (deadline);
}

void
ag_test_fail_timeout (const char *file,
                      int         line,
                      const char *func,
                      const char *cond,
                      guint       timeout_ms)
{
  g_autofree char *message = g_strdup_printf ("timed out after %u ms waiting for: %s",
                                              timeout_ms, cond);

  g_assertion_message ("AsyncGui-Test", file, line, func, message);
  /* g_assertion_message() returns when assertions are non-fatal. */
  abort ();
}

void
ag_test_run_for (GMainContext *context,
                 guint         msec)
{
  AgTestDeadline *deadline = ag_test_deadline_new (context, msec);

  while (!ag_test_deadline_passed (deadline))
    g_main_context_iteration (context, TRUE);

  ag_test_deadline_free (deadline);
}

void
ag_test_outcome_init (AgTestOutcome *outcome,
                      AgEngine      *engine)
{
  memset (outcome, 0, sizeof *outcome);
  outcome->engine = engine;
}

void
ag_test_outcome_clear (AgTestOutcome *outcome)
{
  g_clear_object (&outcome->result_task);
  g_clear_pointer (&outcome->value, ag_test_value_free);
  g_clear_error (&outcome->error);
}

void
ag_test_outcome_callback (GObject      *source_object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  AgTestOutcome *outcome = user_data;

  outcome->n_calls++;
  if (outcome->n_calls > 1)
    {
      /* Keep what the first call saw; the test asserts n_calls == 1. */
      g_test_message ("run_async callback invoked %u times", outcome->n_calls);
      return;
    }

  outcome->source_object = source_object;
  outcome->thread = g_thread_self ();
  outcome->time_us = g_get_monotonic_time ();
  if (AG_IS_TASK (result))
    outcome->result_task = g_object_ref (AG_TASK (result));
  outcome->value = ag_engine_run_finish (outcome->engine, result, &outcome->error);
}

void
ag_test_value_free (GValue *value)
{
  g_boxed_free (G_TYPE_VALUE, value);
}

int
ag_test_value_get_int (const GValue *value)
{
  g_assert_nonnull (value);
  g_assert_true (G_VALUE_HOLDS_INT (value));

  return g_value_get_int (value);
}

typedef struct
{
  guint   msec;
  int     value;
  GQuark  domain;
  int     code;
  char   *message;
} SleepThenReturn;

static void
sleep_then_return_free (gpointer data)
{
  SleepThenReturn *str = data;

  g_free (str->message);
  g_free (str);
}

static void
sleep_then_return (AgTask       *task,
                   gpointer      user_data,
                   GCancellable *cancellable)
{
  SleepThenReturn *str = user_data;
  int now = g_atomic_int_add (&ag_test_n_in_worker, 1) + 1;
  int max;

  do
    max = g_atomic_int_get (&ag_test_max_in_worker);
  while (now > max && !g_atomic_int_compare_and_exchange (&ag_test_max_in_worker, max, now));

  g_usleep (str->msec * G_TIME_SPAN_MILLISECOND);

  g_atomic_int_add (&ag_test_n_in_worker, -1);

  if (str->message != NULL)
    ag_task_return_new_error (task, str->domain, str->code, "%s", str->message);
  else
    ag_task_return_int (task, str->value);
}

AgTask *
ag_test_task_new_int_after (guint msec,
                            int   value)
{
  SleepThenReturn *str = g_new0 (SleepThenReturn, 1);

  str->msec = msec;
  str->value = value;

  return ag_task_new (sleep_then_return, str, sleep_then_return_free);
}

AgTask *
ag_test_task_new_error_after (guint       msec,
                              GQuark      domain,
                              int         code,
                              const char *message)
{
  SleepThenReturn *str = g_new0 (SleepThenReturn, 1);

  str->msec = msec;
  str->domain = domain;
  str->code = code;
  str->message = g_strdup (message);

  return ag_task_new (sleep_then_return, str, sleep_then_return_free);
}

void
ag_test_reset_worker_counts (void)
{
  g_atomic_int_set (&ag_test_n_in_worker, 0);
  g_atomic_int_set (&ag_test_max_in_worker, 0);
}

void
ag_test_fixture_setup (AgTestFixture *fixture,
                       gconstpointer  data)
{
  fixture->context = g_main_context_default ();
  fixture->engine = ag_engine_new_for_context (fixture->context);
  ag_test_reset_worker_counts ();
}

void
ag_test_fixture_teardown (AgTestFixture *fixture,
                          gconstpointer  data)
{
  g_clear_object (&fixture->engine);

  /* Leave nothing of this test on the shared context for the next one. */
  while (g_main_context_iteration (fixture->context, FALSE))
    ;
}

void
ag_test_init (int    *argc,
              char ***argv)
{
  main_thread = g_thread_self ();
  g_test_init (argc, argv, NULL);
}

GValue *
ag_test_run_to_end (AgTestFixture  *fixture,
                    AgTask         *task,
                    GError        **error)
{
  AgTestOutcome outcome;
  GValue *value;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  value = g_steal_pointer (&outcome.value);
  if (outcome.error != NULL)
    g_propagate_error (error, g_steal_pointer (&outcome.error));
  ag_test_outcome_clear (&outcome);
  return value;
}

void
ag_test_assert_bare_task_fails (AgTestFixture *fixture,
                                GType          type,
                                const char    *mentions)
{
  g_autoptr(AgTask) task = g_object_new (type, NULL);
  g_autoptr(GError) error = NULL;
  GValue *value;

  value = ag_test_run_to_end (fixture, task, &error);
  g_assert_null (value);
  g_assert_error (error, AG_ERROR, AG_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, mentions));
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_FAILED);
}

void
ag_test_assert_critical_elsewhere (GThreadFunc  func,
                                   gpointer     data,
                                   const char  *pattern)
{
  GThread *thread;

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, pattern);
  thread = g_thread_new ("not-the-engine", func, data);
  g_assert_null (g_thread_join (thread));
  g_test_assert_expected_messages ();
}
