/* test-dependencies.c: tasks that wait for other tasks, and then-chains
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

static int n_ran;  /* atomic: how many dependent functions ran */

static void
sum_dependencies (AgTask       *task,
                  gpointer      user_data,
                  GCancellable *cancellable)
{
  int sum = 0;

  g_atomic_int_inc (&n_ran);
  for (guint i = 0; i < ag_task_get_n_dependencies (task); i++)
    sum += g_value_get_int (ag_task_get_dependency_value (task, i));
  ag_task_return_int (task, sum);
}

static void
plus_one (AgTask       *task,
          const GValue *previous,
          gpointer      user_data,
          GCancellable *cancellable)
{
  g_atomic_int_inc (&n_ran);
  ag_task_return_int (task, g_value_get_int (previous) + 1);
}

static void
test_dependent_starts_after_dependencies_and_sees_their_values (AgTestFixture *fixture,
                                                               gconstpointer  data)
{
  g_autoptr(AgTask) slow = ag_test_task_new_int_after (150, 20);
  g_autoptr(AgTask) fast = ag_test_task_new_int_after (20, 22);
  g_autoptr(AgTask) sum = ag_task_new (sum_dependencies, NULL, NULL);
  AgTestOutcome outcome;
  gint64 start = g_get_monotonic_time ();

  g_atomic_int_set (&n_ran, 0);
  g_assert_true (ag_task_add_dependency (sum, slow, NULL));
  g_assert_true (ag_task_add_dependency (sum, fast, NULL));
  g_assert_cmpuint (ag_task_get_n_dependencies (sum), ==, 2);
  /* In the order they were added: a binding reads each from its task. */
  g_assert_true (ag_task_get_dependency (sum, 0) == slow);
  g_assert_true (ag_task_get_dependency (sum, 1) == fast);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, sum, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_no_error (outcome.error);
  g_assert_cmpint (ag_test_value_get_int (outcome.value), ==, 42);
  g_assert_cmpfloat (ag_test_elapsed_ms (start), >=, 140);
  /* The dependencies, never run by anyone else, were run on the same engine. */
  g_assert_cmpint (ag_task_get_state (slow), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_task_get_state (fast), ==, AG_TASK_SUCCEEDED);
  ag_test_outcome_clear (&outcome);
}

static void
test_failing_dependency_fails_dependent_without_running_it (AgTestFixture *fixture,
                                                            gconstpointer  data)
{
  g_autoptr(AgTask) good = ag_test_task_new_int_after (10, 1);
  g_autoptr(AgTask) bad = ag_test_task_new_error_after (30, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                                        "no such input");
  g_autoptr(AgTask) sum = ag_task_new (sum_dependencies, NULL, NULL);
  AgTestOutcome outcome;

  g_atomic_int_set (&n_ran, 0);
  g_assert_true (ag_task_add_dependency (sum, good, NULL));
  g_assert_true (ag_task_add_dependency (sum, bad, NULL));
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, sum, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (outcome.error->message, ==, "no such input");
  g_assert_cmpint (ag_task_get_state (sum), ==, AG_TASK_FAILED);
  g_assert_cmpint (g_atomic_int_get (&n_ran), ==, 0);
  ag_test_outcome_clear (&outcome);
}

static void
test_then_chain_passes_each_value_on (AgTestFixture *fixture,
                                      gconstpointer  data)
{
  g_autoptr(AgTask) first = ag_test_task_new_int_after (20, 40);
  g_autoptr(AgTask) second = ag_task_and_then (first, plus_one, NULL, NULL);
  g_autoptr(AgTask) third = ag_task_and_then (second, plus_one, NULL, NULL);
  AgTestOutcome outcome;

  g_atomic_int_set (&n_ran, 0);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, third, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_no_error (outcome.error);
  g_assert_cmpint (ag_test_value_get_int (outcome.value), ==, 42);
  g_assert_cmpint (g_atomic_int_get (&n_ran), ==, 2);
  ag_test_outcome_clear (&outcome);
}

static void
test_then_after_failure_never_runs (AgTestFixture *fixture,
                                    gconstpointer  data)
{
  g_autoptr(AgTask) first = ag_test_task_new_error_after (10, G_IO_ERROR, G_IO_ERROR_FAILED,
                                                          "first failed");
  g_autoptr(AgTask) second = ag_task_and_then (first, plus_one, NULL, NULL);
  g_autoptr(AgTask) third = ag_task_and_then (second, plus_one, NULL, NULL);
  AgTestOutcome outcome;

  g_atomic_int_set (&n_ran, 0);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, third, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (outcome.error->message, ==, "first failed");
  g_assert_cmpint (g_atomic_int_get (&n_ran), ==, 0);
  ag_test_outcome_clear (&outcome);
}

static void
test_then_on_finished_task_runs (AgTestFixture *fixture,
                                 gconstpointer  data)
{
  g_autoptr(AgTask) first = ag_test_task_new_int_after (0, 41);
  g_autoptr(AgTask) next = NULL;
  AgTestOutcome outcome;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, first, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  ag_test_outcome_clear (&outcome);

  next = ag_task_and_then (first, plus_one, NULL, NULL);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, next, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_no_error (outcome.error);
  g_assert_cmpint (ag_test_value_get_int (outcome.value), ==, 42);
  ag_test_outcome_clear (&outcome);
}

static void
test_dependency_run_by_someone_else_is_waited_for (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  g_autoptr(AgTask) shared = ag_test_task_new_int_after (100, 10);
  g_autoptr(AgTask) a = ag_task_and_then (shared, plus_one, NULL, NULL);
  g_autoptr(AgTask) b = ag_task_and_then (shared, plus_one, NULL, NULL);
  AgTestOutcome outcome_shared, outcome_a, outcome_b;

  ag_test_outcome_init (&outcome_shared, fixture->engine);
  ag_test_outcome_init (&outcome_a, fixture->engine);
  ag_test_outcome_init (&outcome_b, fixture->engine);
  ag_engine_run_async (fixture->engine, shared, NULL, ag_test_outcome_callback, &outcome_shared);
  ag_engine_run_async (fixture->engine, a, NULL, ag_test_outcome_callback, &outcome_a);
  ag_engine_run_async (fixture->engine, b, NULL, ag_test_outcome_callback, &outcome_b);
  ag_test_run_until (fixture->context, outcome_a.n_calls > 0 && outcome_b.n_calls > 0,
                     AG_TEST_SAFETY_MS);

  /* Two dependents of one task: it ran once, and both saw its value. */
  g_assert_cmpuint (outcome_shared.n_calls, ==, 1);
  g_assert_cmpint (ag_test_value_get_int (outcome_a.value), ==, 11);
  g_assert_cmpint (ag_test_value_get_int (outcome_b.value), ==, 11);
  ag_test_outcome_clear (&outcome_shared);
  ag_test_outcome_clear (&outcome_a);
  ag_test_outcome_clear (&outcome_b);
}

static void
test_cancelled_dependency_cancels_dependent (AgTestFixture *fixture,
                                             gconstpointer  data)
{
  g_autoptr(AgTask) slow = ag_test_task_new_int_after (1000, 1);
  g_autoptr(AgTask) next = ag_task_and_then (slow, plus_one, NULL, NULL);
  AgTestOutcome outcome;

  g_atomic_int_set (&n_ran, 0);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, next, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_for (fixture->context, 50);
  ag_task_cancel (slow);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (ag_task_get_state (next), ==, AG_TASK_CANCELLED);
  g_assert_cmpint (g_atomic_int_get (&n_ran), ==, 0);
  ag_test_outcome_clear (&outcome);
}

static void
test_cancelling_waiting_dependent_ends_it_at_once (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  g_autoptr(AgTask) slow = ag_test_task_new_int_after (500, 1);
  g_autoptr(AgTask) next = ag_task_and_then (slow, plus_one, NULL, NULL);
  AgTestOutcome outcome;
  gint64 cancelled_at;

  g_atomic_int_set (&n_ran, 0);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, next, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_for (fixture->context, 50);
  cancelled_at = g_get_monotonic_time ();
  ag_task_cancel (next);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_cmpfloat (ag_test_elapsed_ms (cancelled_at), <, 200);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* The dependency ends later; the dependent's work never runs. */
  ag_test_run_until (fixture->context, ag_task_is_finished (slow), AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 50);
  g_assert_cmpint (g_atomic_int_get (&n_ran), ==, 0);
  g_assert_cmpuint (outcome.n_calls, ==, 1);
  ag_test_outcome_clear (&outcome);
}

static void
test_then_chain_in_serial_mode_runs_on_the_engine_thread (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  g_autoptr(AgTask) first = ag_test_task_new_int_after (0, 1);
  g_autoptr(AgTask) last = g_object_ref (first);
  AgTestOutcome outcome;

  ag_engine_set_max_threads (fixture->engine, 0);
  for (int i = 0; i < 10; i++)
    {
      AgTask *next = ag_task_and_then (last, plus_one, NULL, NULL);

      g_object_unref (last);
      last = next;
    }

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, last, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_no_error (outcome.error);
  g_assert_cmpint (ag_test_value_get_int (outcome.value), ==, 11);
  g_assert_true (outcome.thread == ag_test_main_thread ());
  ag_test_outcome_clear (&outcome);
}

/* What the failing code handed back with its error reaches whoever awaits
 * the task that depends on it. */
static void
fail_with_detail (AgTask       *task,
                  gpointer      user_data,
                  GCancellable *cancellable)
{
  g_auto(GValue) detail = G_VALUE_INIT;

  g_value_init (&detail, G_TYPE_STRING);
  g_value_set_string (&detail, "the original exception");
  ag_task_return_error_full (task, g_error_new_literal (TEST_ERROR, 7, "broke"), &detail);
}

static void
test_failed_dependency_passes_its_error_detail_on (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  g_autoptr(AgTask) failing = ag_task_new (fail_with_detail, NULL, NULL);
  g_autoptr(AgTask) dependent = ag_task_and_then (failing, plus_one, NULL, NULL);
  g_autoptr(AgTask) plain = ag_test_task_new_error_after (0, TEST_ERROR, 8, "no detail");
  g_autoptr(AgTask) dependent_plain = ag_task_and_then (plain, plus_one, NULL, NULL);
  AgTestOutcome outcome;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, dependent, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls == 1, AG_TEST_SAFETY_MS);

  g_assert_error (outcome.error, TEST_ERROR, 7);
  g_assert_cmpstr (g_value_get_string (ag_task_get_error_detail (failing)), ==,
                   "the original exception");
  g_assert_cmpstr (g_value_get_string (ag_task_get_error_detail (dependent)), ==,
                   "the original exception");
  /* A value is not a detail, and a success has none. */
  g_assert_null (ag_task_get_value (dependent));
  ag_test_outcome_clear (&outcome);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, dependent_plain, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, TEST_ERROR, 8);
  g_assert_null (ag_task_get_error_detail (dependent_plain));
  ag_test_outcome_clear (&outcome);
}

/* A cycle can come from data (a graph the user built), so refusing it is an
 * error to handle, not a programming error; nothing is recorded. */
static void
test_dependency_cycle_is_refused_with_an_error (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  g_autoptr(AgTask) a = ag_test_task_new_int_after (0, 1);
  g_autoptr(AgTask) b = ag_task_and_then (a, plus_one, NULL, NULL);
  g_autoptr(AgTask) c = ag_task_and_then (b, plus_one, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (ag_task_add_dependency (a, a, &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_DEPENDENCY_CYCLE);
  g_clear_error (&error);

  /* a ← b ← c: a depending on c would close the circle. */
  g_assert_false (ag_task_add_dependency (a, c, &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_DEPENDENCY_CYCLE);
  g_clear_error (&error);

  /* NULL is allowed for the error, as everywhere in GLib. */
  g_assert_false (ag_task_add_dependency (a, c, NULL));

  g_assert_cmpuint (ag_task_get_n_dependencies (a), ==, 0);
  g_assert_true (ag_task_add_dependency (c, a, &error));
  g_assert_no_error (error);
}

static void
test_dependency_added_after_start_is_refused (AgTestFixture *fixture,
                                              gconstpointer  data)
{
  g_autoptr(AgTask) running = ag_test_task_new_int_after (50, 1);
  g_autoptr(AgTask) other = ag_test_task_new_int_after (0, 2);
  AgTestOutcome outcome;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, running, NULL, ag_test_outcome_callback, &outcome);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*already run*");
  g_assert_false (ag_task_add_dependency (running, other, NULL));
  g_test_assert_expected_messages ();
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_cmpint (ag_test_value_get_int (outcome.value), ==, 1);
  ag_test_outcome_clear (&outcome);
}

/* Runs @multi to its end, which must be a success, and returns its
 * values; @outcome owns them. */
static GArray *
run_multi_for_values (AgTestFixture *fixture,
                      AgMultiTask   *multi,
                      AgTestOutcome *outcome)
{
  ag_test_outcome_init (outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       outcome);
  ag_test_run_until (fixture->context, outcome->n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome->error);

  return g_value_get_boxed (outcome->value);
}

static int
int_at (GArray *values,
        guint   index)
{
  return g_value_get_int (&g_array_index (values, GValue, index));
}

/* Runs @task, which nobody waits for, on the fixture's engine. */
static void
run_unwatched (AgTestFixture *fixture,
               AgTask        *task)
{
  ag_engine_run_async (fixture->engine, task, NULL, NULL, NULL);
}

/* A task that started its dependency and is cancelled cancels it, unless
 * another task still waits for it: a search whose next keystroke replaced
 * it stops its download. */
static void
test_cancelling_a_task_cancels_the_dependency_it_started (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  g_autoptr(AgTask) download = ag_test_task_new_int_after (1000, 1);
  g_autoptr(AgTask) parse = ag_task_and_then (download, plus_one, NULL, NULL);

  run_unwatched (fixture, parse);
  ag_test_run_for (fixture->context, 50);
  g_assert_cmpint (ag_task_get_state (download), ==, AG_TASK_RUNNING);

  ag_task_cancel (parse);
  ag_test_run_until (fixture->context, ag_task_is_finished (download), AG_TEST_SAFETY_MS);
  g_assert_cmpint (ag_task_get_state (parse), ==, AG_TASK_CANCELLED);
  g_assert_cmpint (ag_task_get_state (download), ==, AG_TASK_CANCELLED);
}

static void
test_cancelling_a_task_spares_a_dependency_another_waits_for (AgTestFixture *fixture,
                                                              gconstpointer  data)
{
  g_autoptr(AgTask) shared = ag_test_task_new_int_after (200, 1);
  g_autoptr(AgTask) cancelled = ag_task_and_then (shared, plus_one, NULL, NULL);
  g_autoptr(AgTask) kept = ag_task_and_then (shared, plus_one, NULL, NULL);
  g_autoptr(AgTask) theirs = ag_test_task_new_int_after (200, 5);
  g_autoptr(AgTask) mine = ag_task_and_then (theirs, plus_one, NULL, NULL);
  g_autoptr(AgTask) for_later = ag_test_task_new_int_after (200, 7);
  g_autoptr(AgTask) starter = ag_task_and_then (for_later, plus_one, NULL, NULL);
  g_autoptr(AgTask) later = ag_task_and_then (for_later, plus_one, NULL, NULL);
  g_autoptr(AgTask) sibling = ag_test_task_new_int_after (200, 9);
  g_autoptr(AgTask) first_child = ag_task_and_then (sibling, plus_one, NULL, NULL);
  g_autoptr(AgMultiTask) multi = ag_multi_task_new ();
  AgTestOutcome outcome;

  /* @shared is started by @cancelled and waited for by @kept; @theirs was
   * run by somebody else before @mine ran; @for_later is started by
   * @starter, and @later, which depends on it too, is run only after the
   * cancel; @sibling is a later child of @multi, started ahead of its
   * turn by @first_child (one child at a time). */
  ag_multi_task_add (multi, first_child);
  ag_multi_task_add (multi, sibling);
  ag_multi_task_set_max_workers (multi, 1);
  ag_multi_task_set_skip_errors (multi, TRUE);
  run_unwatched (fixture, cancelled);
  run_unwatched (fixture, kept);
  run_unwatched (fixture, theirs);
  run_unwatched (fixture, mine);
  run_unwatched (fixture, starter);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_for (fixture->context, 50);
  ag_task_cancel (cancelled);
  ag_task_cancel (mine);
  ag_task_cancel (starter);
  ag_task_cancel (first_child);
  ag_test_run_for (fixture->context, 20);
  run_unwatched (fixture, later);

  ag_test_run_until (fixture->context, ag_task_is_finished (kept) && ag_task_is_finished (theirs)
                                       && ag_task_is_finished (later) && outcome.n_calls > 0,
                     AG_TEST_SAFETY_MS);
  g_assert_cmpint (ag_task_get_state (for_later), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_task_get_state (later), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_task_get_state (sibling), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_multi_task_get_n_failed (multi), ==, 1);
  ag_test_outcome_clear (&outcome);
  g_assert_cmpint (ag_task_get_state (shared), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_task_get_state (kept), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_task_get_state (theirs), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_task_get_state (cancelled), ==, AG_TASK_CANCELLED);
  g_assert_cmpint (ag_task_get_state (mine), ==, AG_TASK_CANCELLED);
}

/* A MultiTask waits for its children as a task waits for its
 * dependencies: a child that waits for the MultiTask, through either,
 * would leave both waiting for good. */
static void
test_dependency_on_a_multi_task_that_holds_the_task_is_a_cycle (AgTestFixture *fixture,
                                                                gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = ag_multi_task_new ();
  g_autoptr(AgTask) child = ag_test_task_new_int_after (0, 1);
  g_autoptr(AgTask) grandchild = ag_test_task_new_int_after (0, 2);
  g_autoptr(AgMultiTask) inner = ag_multi_task_new ();
  g_autoptr(GError) error = NULL;
  AgTestOutcome outcome;

  ag_multi_task_add (multi, child);
  g_assert_false (ag_task_add_dependency (child, AG_TASK (multi), &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_DEPENDENCY_CYCLE);
  g_clear_error (&error);

  /* Through a MultiTask inside it too. */
  ag_multi_task_add (inner, grandchild);
  ag_multi_task_add (multi, AG_TASK (inner));
  g_assert_false (ag_task_add_dependency (grandchild, AG_TASK (multi), &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_DEPENDENCY_CYCLE);
  g_assert_cmpuint (ag_task_get_n_dependencies (child), ==, 0);
  g_assert_cmpuint (ag_task_get_n_dependencies (grandchild), ==, 0);

  /* Nothing was recorded: the MultiTask runs to its end. */
  run_multi_for_values (fixture, multi, &outcome);
  ag_test_outcome_clear (&outcome);
}

static void
test_multi_task_holding_a_task_that_waits_for_it_is_a_critical (AgTestFixture *fixture,
                                                                gconstpointer  data)
{
  g_autoptr(AgMultiTask) a = ag_multi_task_new ();
  g_autoptr(AgMultiTask) b = ag_multi_task_new ();
  g_autoptr(AgMultiTask) parent = ag_multi_task_new ();
  g_autoptr(AgTask) leaf = ag_test_task_new_int_after (0, 1);
  g_autoptr(AgTask) dependent = ag_test_task_new_int_after (0, 2);
  AgTestOutcome outcome;

  /* a holds b; b holding a closes the circle. */
  ag_multi_task_add (a, AG_TASK (b));
  ag_multi_task_add (b, leaf);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*waits for*");
  ag_multi_task_add (b, AG_TASK (a));
  g_test_assert_expected_messages ();
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (b)), ==, 1);

  /* A task that depends on the MultiTask cannot be its child. */
  g_assert_true (ag_task_add_dependency (dependent, AG_TASK (parent), NULL));
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*waits for*");
  ag_multi_task_add (parent, dependent);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (parent)), ==, 0);

  run_multi_for_values (fixture, a, &outcome);
  ag_test_outcome_clear (&outcome);
}

/* A child of a MultiTask may depend on a sibling later in the list: the
 * dependency runs that sibling first, and the MultiTask, reaching it,
 * takes its outcome instead of running it again. With one worker too,
 * where the dependent holds the only slot while its sibling runs. */
static void
check_child_depending_on_a_later_sibling (AgTestFixture *fixture,
                                          guint          max_workers)
{
  g_autoptr(AgMultiTask) multi = ag_multi_task_new ();
  g_autoptr(AgTask) first = ag_task_new (sum_dependencies, NULL, NULL);
  g_autoptr(AgTask) later = ag_test_task_new_int_after (30, 41);
  g_autoptr(AgTask) last = ag_test_task_new_int_after (10, 7);
  AgTestOutcome outcome;
  GArray *values;

  g_atomic_int_set (&n_ran, 0);
  g_assert_true (ag_task_add_dependency (first, later, NULL));
  ag_multi_task_set_max_workers (multi, max_workers);
  ag_multi_task_add (multi, first);
  ag_multi_task_add (multi, later);
  ag_multi_task_add (multi, last);

  values = run_multi_for_values (fixture, multi, &outcome);
  g_assert_cmpuint (values->len, ==, 3);
  g_assert_cmpint (int_at (values, 0), ==, 41);
  g_assert_cmpint (int_at (values, 1), ==, 41);
  g_assert_cmpint (int_at (values, 2), ==, 7);
  g_assert_cmpint (g_atomic_int_get (&n_ran), ==, 1);
  g_assert_cmpuint (ag_multi_task_get_n_finished (multi), ==, 3);
  g_assert_cmpuint (ag_multi_task_get_n_failed (multi), ==, 0);
  ag_test_outcome_clear (&outcome);
}

static void
test_child_depending_on_a_later_sibling_runs_it_once (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  check_child_depending_on_a_later_sibling (fixture, 0);
  check_child_depending_on_a_later_sibling (fixture, 1);
}

/* The other way round: a task outside runs a child as its dependency
 * before the MultiTask runs at all. */
static void
test_child_finished_before_its_multi_task_ran_counts_as_it_is (AgTestFixture *fixture,
                                                               gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = ag_multi_task_new ();
  g_autoptr(AgTask) child = ag_test_task_new_int_after (10, 20);
  g_autoptr(AgTask) outside = ag_task_new (sum_dependencies, NULL, NULL);
  AgTestOutcome outcome;
  GArray *values;

  ag_multi_task_add (multi, child);
  g_assert_true (ag_task_add_dependency (outside, child, NULL));

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, outside, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_cmpint (ag_test_value_get_int (outcome.value), ==, 20);
  ag_test_outcome_clear (&outcome);

  values = run_multi_for_values (fixture, multi, &outcome);
  g_assert_cmpuint (values->len, ==, 1);
  g_assert_cmpint (int_at (values, 0), ==, 20);
  ag_test_outcome_clear (&outcome);
}

/* A dependency a cancelled task ran is spared while a job awaits it, but
 * not for a job whose await of it a cancel ended (the job caught the
 * cancel and went on to other things). */
typedef struct
{
  AgTask   *dependency;
  gboolean  went_on;
} FormerWaiter;

static void
await_then_go_on_body (AgJob    *job,
                       gpointer  user_data)
{
  FormerWaiter *fw = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value = ag_job_await (g_object_ref (fw->dependency), &error);

  g_assert_null (value);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  fw->went_on = TRUE;
  ag_job_sleep (200, NULL);
}

static void
test_dependency_is_not_spared_for_a_job_that_stopped_awaiting_it (AgTestFixture *fixture,
                                                                  gconstpointer  data)
{
  g_autoptr(AgTask) dependency = ag_task_new_sleep (5000);
  g_autoptr(AgTask) task = ag_task_new_sleep (1);
  FormerWaiter fw = { dependency, FALSE };
  g_autoptr(AgJob) job = NULL;

  g_assert_true (ag_task_add_dependency (task, dependency, NULL));
  ag_engine_run_async (fixture->engine, task, NULL, NULL, NULL);
  job = ag_engine_spawn (fixture->engine, await_then_go_on_body, &fw, NULL);
  ag_test_run_for (fixture->context, 20);
  ag_task_cancel (AG_TASK (job));
  ag_test_run_until (fixture->context, fw.went_on, AG_TEST_SAFETY_MS);

  ag_task_cancel (task);
  ag_test_run_until (fixture->context, ag_task_is_finished (dependency), 1000);
  g_assert_cmpint (ag_task_get_state (dependency), ==, AG_TASK_CANCELLED);
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (job)), AG_TEST_SAFETY_MS);
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/dependencies/dependent-starts-after-dependencies-and-sees-their-values",
               test_dependent_starts_after_dependencies_and_sees_their_values);
  ag_test_add ("/dependencies/failing-dependency-fails-dependent-without-running-it",
               test_failing_dependency_fails_dependent_without_running_it);
  ag_test_add ("/dependencies/then-chain-passes-each-value-on",
               test_then_chain_passes_each_value_on);
  ag_test_add ("/dependencies/then-after-failure-never-runs",
               test_then_after_failure_never_runs);
  ag_test_add ("/dependencies/then-on-finished-task-runs",
               test_then_on_finished_task_runs);
  ag_test_add ("/dependencies/dependency-run-by-someone-else-is-waited-for",
               test_dependency_run_by_someone_else_is_waited_for);
  ag_test_add ("/dependencies/cancelled-dependency-cancels-dependent",
               test_cancelled_dependency_cancels_dependent);
  ag_test_add ("/dependencies/cancelling-waiting-dependent-ends-it-at-once",
               test_cancelling_waiting_dependent_ends_it_at_once);
  ag_test_add ("/dependencies/then-chain-in-serial-mode-runs-on-the-engine-thread",
               test_then_chain_in_serial_mode_runs_on_the_engine_thread);
  ag_test_add ("/dependencies/failed-dependency-passes-its-error-detail-on",
               test_failed_dependency_passes_its_error_detail_on);
  ag_test_add ("/dependencies/dependency-cycle-is-refused-with-an-error",
               test_dependency_cycle_is_refused_with_an_error);
  ag_test_add ("/dependencies/cancelling-a-task-cancels-the-dependency-it-started",
               test_cancelling_a_task_cancels_the_dependency_it_started);
  ag_test_add ("/dependencies/cancelling-a-task-spares-a-dependency-another-waits-for",
               test_cancelling_a_task_spares_a_dependency_another_waits_for);
  ag_test_add ("/dependencies/dependency-on-a-multi-task-that-holds-the-task-is-a-cycle",
               test_dependency_on_a_multi_task_that_holds_the_task_is_a_cycle);
  ag_test_add ("/dependencies/multi-task-holding-a-task-that-waits-for-it-is-a-critical",
               test_multi_task_holding_a_task_that_waits_for_it_is_a_critical);
  ag_test_add ("/dependencies/dependency-added-after-start-is-refused",
               test_dependency_added_after_start_is_refused);

  ag_test_add ("/dependencies/child-depending-on-a-later-sibling-runs-it-once",
               test_child_depending_on_a_later_sibling_runs_it_once);

  ag_test_add ("/dependencies/dependency-is-not-spared-for-a-job-that-stopped-awaiting-it",
               test_dependency_is_not_spared_for_a_job_that_stopped_awaiting_it);
  ag_test_add ("/dependencies/child-finished-before-its-multi-task-ran-counts-as-it-is",
               test_child_finished_before_its_multi_task_ran_counts_as_it_is);

  return g_test_run ();
}
