/* test-task-cancellable.c: the cancellable a thread task's function is
 * given, which its worker lends and takes back when nothing kept it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

typedef enum
{
  KEEP_NOTHING,
  KEEP_A_REFERENCE,
  KEEP_A_HANDLER,
  KEEP_A_WEAK_REFERENCE,
  KEEP_BY_GETTER,
} Keep;

/* What one task's function saw and kept. */
typedef struct
{
  Keep          keep;
  GCancellable *seen;        /* not a reference: compared, never used */
  GCancellable *kept;        /* a reference, with KEEP_A_REFERENCE */
  GCancellable *pinned;      /* from ag_task_get_cancellable() */
  gulong        handler;
  GWeakRef      weak;
  int           n_cancelled; /* atomic: the handler's calls */
  gboolean      wait_for_cancel;
  int           saw_cancel;  /* atomic */
  int           returned;    /* atomic: the function has returned */
} Seen;

static void
count_cancel (GCancellable *cancellable,
              gpointer      user_data)
{
  Seen *seen = user_data;

  g_atomic_int_inc (&seen->n_cancelled);
}

static void
see_cancellable (AgTask       *task,
                 gpointer      user_data,
                 GCancellable *cancellable)
{
  Seen *seen = user_data;

  g_atomic_pointer_set (&seen->seen, cancellable);
  switch (seen->keep)
    {
    case KEEP_NOTHING:
      break;
    case KEEP_A_REFERENCE:
      seen->kept = g_object_ref (cancellable);
      break;
    case KEEP_A_HANDLER:
      seen->handler = g_cancellable_connect (cancellable, G_CALLBACK (count_cancel), seen, NULL);
      break;
    case KEEP_A_WEAK_REFERENCE:
      g_weak_ref_init (&seen->weak, cancellable);
      break;
    case KEEP_BY_GETTER:
      seen->pinned = ag_task_get_cancellable (task);
      break;
    }

  if (seen->wait_for_cancel)
    {
      gint64 end = g_get_monotonic_time () + AG_TEST_SAFETY_MS * G_TIME_SPAN_MILLISECOND;

      while (!g_cancellable_is_cancelled (cancellable) && g_get_monotonic_time () < end)
        g_usleep (G_TIME_SPAN_MILLISECOND);
      g_atomic_int_set (&seen->saw_cancel, g_cancellable_is_cancelled (cancellable));
    }

  ag_task_return_int (task, 1);
  g_atomic_int_set (&seen->returned, TRUE);
}

/* Runs @first and @second on one worker, one after the other, and returns
 * the two tasks; @second is cancelled while it runs when it waits for
 * that. */
static void
run_two_on_one_worker (AgTestFixture  *fixture,
                       Seen           *first,
                       Seen           *second,
                       AgTask        **first_task,
                       AgTask        **second_task)
{
  AgTestOutcome first_outcome, second_outcome;

  ag_engine_set_max_threads (fixture->engine, 1);
  *first_task = ag_task_new (see_cancellable, first, NULL);
  *second_task = ag_task_new (see_cancellable, second, NULL);

  ag_test_outcome_init (&first_outcome, fixture->engine);
  ag_test_outcome_init (&second_outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, *first_task, NULL, ag_test_outcome_callback, &first_outcome);
  ag_engine_run_async (fixture->engine, *second_task, NULL, ag_test_outcome_callback, &second_outcome);

  if (second->wait_for_cancel)
    {
      ag_test_run_until (fixture->context, g_atomic_pointer_get (&second->seen) != NULL,
                         AG_TEST_SAFETY_MS);
      ag_task_cancel (*second_task);
    }

  /* A cancelled task ends before its function returns. */
  ag_test_run_until (fixture->context,
                     first_outcome.n_calls > 0 && second_outcome.n_calls > 0
                     && g_atomic_int_get (&first->returned)
                     && g_atomic_int_get (&second->returned),
                     AG_TEST_SAFETY_MS);
  g_assert_no_error (first_outcome.error);
  if (second->wait_for_cancel)
    g_assert_error (second_outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  else
    g_assert_no_error (second_outcome.error);

  ag_test_outcome_clear (&first_outcome);
  ag_test_outcome_clear (&second_outcome);
}

static void
test_a_cancellable_nothing_kept_is_lent_to_the_next_task (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  Seen first = { KEEP_NOTHING }, second = { KEEP_NOTHING };
  AgTask *first_task, *second_task;

  run_two_on_one_worker (fixture, &first, &second, &first_task, &second_task);

  g_assert_nonnull (first.seen);
  g_assert_true (second.seen == first.seen);
  g_assert_null (ag_task_get_cancellable (first_task));

  g_object_unref (first_task);
  g_object_unref (second_task);
}

/* Runs a task that keeps its cancellable as @keep says, then, on the same
 * worker, one that is cancelled while it runs: the second gets another
 * cancellable, and the first task's, still its own, is not cancelled. */
static AgTask *
run_kept_then_cancelled (AgTestFixture *fixture,
                         Seen          *first)
{
  Seen second = { KEEP_NOTHING };
  AgTask *first_task, *second_task;

  second.wait_for_cancel = TRUE;
  run_two_on_one_worker (fixture, first, &second, &first_task, &second_task);

  g_assert_true (g_atomic_int_get (&second.saw_cancel));
  g_assert_true (second.seen != first->seen);
  g_assert_true (ag_task_get_cancellable (first_task) == first->seen);
  g_assert_false (g_cancellable_is_cancelled (first->seen));

  g_object_unref (second_task);
  return first_task;
}

static void
test_a_kept_reference_keeps_the_cancellable_with_its_task (AgTestFixture *fixture,
                                                           gconstpointer  data)
{
  Seen first = { KEEP_A_REFERENCE };
  AgTask *first_task = run_kept_then_cancelled (fixture, &first);

  g_assert_true (first.kept == first.seen);

  g_object_unref (first.kept);
  g_object_unref (first_task);
}

static void
test_a_connected_handler_never_hears_another_tasks_cancel (AgTestFixture *fixture,
                                                           gconstpointer  data)
{
  Seen first = { KEEP_A_HANDLER };
  AgTask *first_task = run_kept_then_cancelled (fixture, &first);

  g_assert_cmpint (g_atomic_int_get (&first.n_cancelled), ==, 0);

  g_cancellable_disconnect (first.seen, first.handler);
  g_object_unref (first_task);
}

static void
test_a_weak_reference_never_leads_to_another_tasks_cancellable (AgTestFixture *fixture,
                                                               gconstpointer  data)
{
  Seen first = { KEEP_A_WEAK_REFERENCE };
  AgTask *first_task = run_kept_then_cancelled (fixture, &first);
  GCancellable *weakly_kept = g_weak_ref_get (&first.weak);

  g_assert_true (weakly_kept == first.seen);

  g_object_unref (weakly_kept);
  g_weak_ref_clear (&first.weak);
  g_object_unref (first_task);
}

static void
test_a_cancelled_cancellable_is_not_lent_again (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  Seen before = { KEEP_NOTHING }, cancelled = { KEEP_NOTHING }, after = { KEEP_NOTHING };
  AgTask *before_task, *cancelled_task, *after_task;
  GValue *value;
  GError *error = NULL;

  cancelled.wait_for_cancel = TRUE;
  run_two_on_one_worker (fixture, &before, &cancelled, &before_task, &cancelled_task);
  g_assert_true (g_atomic_int_get (&cancelled.saw_cancel));

  after_task = ag_task_new (see_cancellable, &after, NULL);
  value = ag_test_run_to_end (fixture, after_task, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ag_test_value_get_int (value), ==, 1);
  g_assert_true (after.seen != cancelled.seen);
  g_assert_true (g_cancellable_is_cancelled (ag_task_get_cancellable (cancelled_task)));

  ag_test_value_free (value);
  g_object_unref (before_task);
  g_object_unref (cancelled_task);
  g_object_unref (after_task);
}

static void
test_get_cancellable_pins_it_to_its_task (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  Seen first = { KEEP_BY_GETTER };
  AgTask *first_task = run_kept_then_cancelled (fixture, &first);

  g_assert_true (first.pinned == first.seen);

  g_object_unref (first_task);
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/task-cancellable/a-cancellable-nothing-kept-is-lent-to-the-next-task",
               test_a_cancellable_nothing_kept_is_lent_to_the_next_task);
  ag_test_add ("/task-cancellable/a-kept-reference-keeps-the-cancellable-with-its-task",
               test_a_kept_reference_keeps_the_cancellable_with_its_task);
  ag_test_add ("/task-cancellable/a-connected-handler-never-hears-another-tasks-cancel",
               test_a_connected_handler_never_hears_another_tasks_cancel);
  ag_test_add ("/task-cancellable/a-weak-reference-never-leads-to-another-tasks-cancellable",
               test_a_weak_reference_never_leads_to_another_tasks_cancellable);
  ag_test_add ("/task-cancellable/a-cancelled-cancellable-is-not-lent-again",
               test_a_cancelled_cancellable_is_not_lent_again);
  ag_test_add ("/task-cancellable/get-cancellable-pins-it-to-its-task",
               test_get_cancellable_pins_it_to_its_task);

  return g_test_run ();
}
