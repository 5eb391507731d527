/* test-multi-task-priority.c: a MultiTask starts its wanted children (the
 * rows on screen) first
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

/* Every test runs on one strict worker thread, so the order in which the
 * worker begins children is the order the MultiTask started them. */
static void
use_one_thread (AgTestFixture *fixture)
{
  ag_engine_set_max_threads (fixture->engine, 1);
  ag_engine_set_max_blocked_threads (fixture->engine, 0);
}

/* Positions in the order a worker began them. */
typedef struct
{
  GMutex  lock;
  GArray *positions;   /* lock: guint */
} StartLog;

static void
start_log_init (StartLog *log)
{
  g_mutex_init (&log->lock);
  log->positions = g_array_new (FALSE, FALSE, sizeof (guint));
}

static void
start_log_clear (StartLog *log)
{
  g_array_unref (log->positions);
  g_mutex_clear (&log->lock);
}

static void
start_log_add (StartLog *log,
               guint     position)
{
  g_mutex_lock (&log->lock);
  g_array_append_val (log->positions, position);
  g_mutex_unlock (&log->lock);
}

static guint
start_log_length (StartLog *log)
{
  guint length;

  g_mutex_lock (&log->lock);
  length = log->positions->len;
  g_mutex_unlock (&log->lock);

  return length;
}

/* Where @position is in the log; fails the test if it never started. */
static guint
start_index (StartLog *log,
             guint     position)
{
  for (guint i = 0; i < log->positions->len; i++)
    if (g_array_index (log->positions, guint, i) == position)
      return i;

  g_assert_not_reached ();
}

/* The log is exactly the positions of @stretches, each a first position
 * and an end, one after the other. */
static void
assert_start_order (StartLog    *log,
                    const guint *stretches,
                    guint        n_stretches)
{
  guint i = 0;

  for (guint s = 0; s < n_stretches; s++)
    for (guint position = stretches[2 * s]; position < stretches[2 * s + 1]; position++)
      {
        g_assert_cmpuint (i, <, log->positions->len);
        g_assert_cmpuint (g_array_index (log->positions, guint, i), ==, position);
        i++;
      }
  g_assert_cmpuint (i, ==, log->positions->len);
}

/* Every position in @first … @end - 1 began before every position from
 * @far on outside them. */
static void
assert_wanted_before_far_ones (StartLog *log,
                               guint     first,
                               guint     end,
                               guint     far)
{
  guint last_wanted = 0;

  for (guint position = first; position < end; position++)
    last_wanted = MAX (last_wanted, start_index (log, position));

  for (guint i = 0; i < last_wanted; i++)
    {
      guint position = g_array_index (log->positions, guint, i);

      if (position >= far && (position < first || position >= end))
        g_error ("position %u began at %u, before wanted position began at %u",
                 position, i, last_wanted);
    }
}

/* What one child does on its worker: note that it began, take a little
 * time, return its position. */
typedef struct
{
  StartLog *log;
  guint     position;
} Child;

static void
log_and_return_position (AgTask       *task,
                         gpointer      user_data,
                         GCancellable *cancellable)
{
  Child *child = user_data;

  start_log_add (child->log, child->position);
  g_usleep (200);
  ag_task_return_int (task, (int) child->position);
}

static AgMultiTask *
multi_of_logging_children (StartLog *log,
                           guint     n)
{
  AgMultiTask *multi = ag_multi_task_new ();

  for (guint i = 0; i < n; i++)
    {
      Child *child = g_new0 (Child, 1);
      g_autoptr(AgTask) task = NULL;

      child->log = log;
      child->position = i;
      task = ag_task_new (log_and_return_position, child, g_free);
      ag_multi_task_add (multi, task);
    }

  /* One at a time: a child handed to the engine has started. */
  ag_multi_task_set_max_workers (multi, 1);
  return multi;
}

/* The map's twin of log_and_return_position(). */
static void
log_and_return_input (AgChunk  *chunk,
                      gpointer  item,
                      gpointer  user_data)
{
  guint position = GPOINTER_TO_UINT (item);

  start_log_add (user_data, position);
  g_usleep (100);
  ag_chunk_return_int (chunk, (int) position);
}

static AgMultiTask *
map_of_logging_inputs (StartLog *log,
                       guint     n)
{
  g_autoptr(GPtrArray) inputs = g_ptr_array_sized_new (n);
  AgMultiTask *multi;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (inputs, GUINT_TO_POINTER (i));

  multi = ag_multi_task_new_map (inputs, log_and_return_input, log, NULL);
  /* One run at a time, as for children: a run handed to the engine has
   * started, and a run that stops over its budget gives back its rest
   * before the next one starts, so the start order is exact. With more
   * runs at once, one queued behind a run that stops would start first. */
  ag_multi_task_set_max_workers (multi, 1);
  return multi;
}

static void
record_announced (AgMultiTask *multi,
                  guint        position,
                  gpointer     user_data)
{
  g_array_append_val ((GArray *) user_data, position);
}

/* Runs @multi to its end; checks that its value and its announcements are
 * in list order, whatever order its children started in. */
static void
run_and_check_order (AgTestFixture *fixture,
                     AgMultiTask   *multi,
                     guint          n)
{
  g_autoptr(GArray) announced = g_array_new (FALSE, FALSE, sizeof (guint));
  AgTestOutcome outcome;
  GArray *values;

  g_signal_connect (multi, "task-done", G_CALLBACK (record_announced), announced);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_no_error (outcome.error);
  values = g_value_get_boxed (outcome.value);
  g_assert_cmpuint (values->len, ==, n);
  g_assert_cmpuint (announced->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpint (ag_test_value_get_int (&g_array_index (values, GValue, i)), ==, (int) i);
      g_assert_cmpuint (g_array_index (announced, guint, i), ==, i);
    }

  g_signal_handlers_disconnect_by_data (multi, announced);
  ag_test_outcome_clear (&outcome);
}

/* Children added one by one */

static void
test_children_wanted_before_the_run_start_first (AgTestFixture *fixture,
                                                 gconstpointer  data)
{
  const guint expected[] = { 150, 160, 0, 150, 160, 200 };
  g_autoptr(AgMultiTask) multi = NULL;
  StartLog log;

  use_one_thread (fixture);
  start_log_init (&log);
  multi = multi_of_logging_children (&log, 200);

  ag_multi_task_prioritize (multi, 150, 10);
  run_and_check_order (fixture, multi, 200);

  assert_start_order (&log, expected, G_N_ELEMENTS (expected) / 2);
  start_log_clear (&log);
}

static void
test_children_wanted_while_running_start_next (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(GArray) announced = g_array_new (FALSE, FALSE, sizeof (guint));
  AgTestOutcome outcome;
  guint started_at_call;
  GArray *values;

  StartLog log;

  use_one_thread (fixture);
  start_log_init (&log);
  multi = multi_of_logging_children (&log, 200);
  g_signal_connect (multi, "task-done", G_CALLBACK (record_announced), announced);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, ag_multi_task_get_n_finished (multi) >= 10,
                     AG_TEST_SAFETY_MS);

  /* The finished ones and the one running (max-workers 1). */
  started_at_call = ag_multi_task_get_n_finished (multi) + 1;
  g_assert_cmpuint (started_at_call, <, 100);
  ag_multi_task_prioritize (multi, 150, 10);

  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);

  /* Right after the ones started before the call, then list order again. */
  assert_wanted_before_far_ones (&log, 150, 160, 100);
  for (guint position = 150; position < 160; position++)
    g_assert_cmpuint (start_index (&log, position), ==, started_at_call + position - 150);

  values = g_value_get_boxed (outcome.value);
  g_assert_cmpuint (values->len, ==, 200);
  for (guint i = 0; i < 200; i++)
    {
      g_assert_cmpint (ag_test_value_get_int (&g_array_index (values, GValue, i)), ==, (int) i);
      g_assert_cmpuint (g_array_index (announced, guint, i), ==, i);
    }

  ag_test_outcome_clear (&outcome);
  start_log_clear (&log);
}

static void
test_children_latest_range_wins (AgTestFixture *fixture,
                                 gconstpointer  data)
{
  const guint expected[] = { 180, 190, 0, 180, 190, 200 };
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(AgMultiTask) cleared = NULL;
  StartLog log, cleared_log;

  use_one_thread (fixture);
  start_log_init (&log);
  multi = multi_of_logging_children (&log, 200);

  /* The user scrolled: the first range goes back to list order. */
  ag_multi_task_prioritize (multi, 150, 10);
  ag_multi_task_prioritize (multi, 180, 10);
  run_and_check_order (fixture, multi, 200);
  assert_start_order (&log, expected, G_N_ELEMENTS (expected) / 2);

  /* An empty range asks for nothing. */
  start_log_init (&cleared_log);
  cleared = multi_of_logging_children (&cleared_log, 50);
  ag_multi_task_prioritize (cleared, 20, 10);
  ag_multi_task_prioritize (cleared, 0, 0);
  run_and_check_order (fixture, cleared, 50);
  assert_start_order (&cleared_log, (const guint[]) { 0, 50 }, 1);

  start_log_clear (&cleared_log);
  start_log_clear (&log);
}

/* A new range while the previous one is half done: the new one comes
 * first, what is left of the old one waits for its turn in list order. */
static void
test_children_latest_range_wins_while_running (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = NULL;
  AgTestOutcome outcome;
  guint started_at_second;
  StartLog log;

  use_one_thread (fixture);
  start_log_init (&log);
  multi = multi_of_logging_children (&log, 200);

  ag_multi_task_prioritize (multi, 150, 10);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, ag_multi_task_get_n_finished (multi) >= 3,
                     AG_TEST_SAFETY_MS);

  started_at_second = ag_multi_task_get_n_finished (multi) + 1;
  g_assert_cmpuint (started_at_second, <, 10);
  ag_multi_task_prioritize (multi, 50, 10);

  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);

  /* Right after the ones started before the second call, 50 … 59 … */
  for (guint position = 50; position < 60; position++)
    g_assert_cmpuint (start_index (&log, position), ==, started_at_second + position - 50);
  /* … and the old range's rest after 149, in list order. */
  for (guint position = 150; position < 160; position++)
    if (start_index (&log, position) >= started_at_second)
      g_assert_cmpuint (start_index (&log, position), >, start_index (&log, 149));

  ag_test_outcome_clear (&outcome);
  start_log_clear (&log);
}

static void
test_children_range_past_the_end_is_clamped (AgTestFixture *fixture,
                                             gconstpointer  data)
{
  const guint expected[] = { 195, 200, 0, 195 };
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(AgMultiTask) beyond = NULL;
  StartLog log, beyond_log;

  use_one_thread (fixture);
  start_log_init (&log);
  multi = multi_of_logging_children (&log, 200);
  ag_multi_task_prioritize (multi, 195, 100);
  run_and_check_order (fixture, multi, 200);
  assert_start_order (&log, expected, G_N_ELEMENTS (expected) / 2);

  /* Wholly past the end, up to the last position there is: nothing. */
  start_log_init (&beyond_log);
  beyond = multi_of_logging_children (&beyond_log, 50);
  ag_multi_task_prioritize (beyond, G_MAXUINT - 5, G_MAXUINT);
  run_and_check_order (fixture, beyond, 50);
  assert_start_order (&beyond_log, (const guint[]) { 0, 50 }, 1);

  start_log_clear (&beyond_log);
  start_log_clear (&log);
}

/* Maps */

static void
test_map_wanted_before_the_run_start_first (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  const guint expected[] = { 150, 160, 0, 150, 160, 2000 };
  g_autoptr(AgMultiTask) multi = NULL;
  StartLog log;

  use_one_thread (fixture);
  start_log_init (&log);
  multi = map_of_logging_inputs (&log, 2000);

  ag_multi_task_prioritize (multi, 150, 10);
  run_and_check_order (fixture, multi, 2000);

  assert_start_order (&log, expected, G_N_ELEMENTS (expected) / 2);
  start_log_clear (&log);
}

/* A wanted range longer than a run's budget: the first run, offered the
 * whole range, stops after a few inputs and gives back the rest, which
 * stays wanted and starts before everything else. */
static void
test_map_wanted_range_keeps_what_a_run_gave_back (AgTestFixture *fixture,
                                                  gconstpointer  data)
{
  const guint expected[] = { 100, 400, 0, 100, 400, 2000 };
  g_autoptr(AgMultiTask) multi = NULL;
  StartLog log;

  use_one_thread (fixture);
  start_log_init (&log);
  multi = map_of_logging_inputs (&log, 2000);

  ag_multi_task_prioritize (multi, 100, 300);
  run_and_check_order (fixture, multi, 2000);

  assert_start_order (&log, expected, G_N_ELEMENTS (expected) / 2);
  start_log_clear (&log);
}

static void
test_map_wanted_while_running_start_next (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(GArray) announced = g_array_new (FALSE, FALSE, sizeof (guint));
  AgTestOutcome outcome;
  GArray *values;
  StartLog log;

  use_one_thread (fixture);
  start_log_init (&log);
  multi = map_of_logging_inputs (&log, 2000);
  g_signal_connect (multi, "task-done", G_CALLBACK (record_announced), announced);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, ag_multi_task_get_n_finished (multi) >= 20,
                     AG_TEST_SAFETY_MS);

  g_assert_cmpuint (start_log_length (&log), <, 100);
  /* Twice, as a view does while the user scrolls: the second wins. */
  ag_multi_task_prioritize (multi, 1500, 10);
  ag_multi_task_prioritize (multi, 1900, 10);

  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);

  assert_wanted_before_far_ones (&log, 1900, 1910, 200);
  g_assert_cmpuint (start_index (&log, 1500), >, start_index (&log, 1499));
  g_assert_cmpuint (log.positions->len, ==, 2000);

  values = g_value_get_boxed (outcome.value);
  g_assert_cmpuint (values->len, ==, 2000);
  for (guint i = 0; i < 2000; i++)
    {
      g_assert_cmpint (ag_test_value_get_int (&g_array_index (values, GValue, i)), ==, (int) i);
      g_assert_cmpuint (g_array_index (announced, guint, i), ==, i);
    }

  ag_test_outcome_clear (&outcome);
  start_log_clear (&log);
}

/* A range that ends inside another one started already: the runs of the
 * second stop before what the first started, and nothing runs twice. */
static void
test_map_overlapping_ranges_run_each_input_once (AgTestFixture *fixture,
                                                 gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = NULL;
  AgTestOutcome outcome;
  StartLog log;

  use_one_thread (fixture);
  start_log_init (&log);
  multi = map_of_logging_inputs (&log, 2000);

  ag_multi_task_prioritize (multi, 1000, 20);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, ag_multi_task_get_n_finished (multi) >= 20,
                     AG_TEST_SAFETY_MS);
  ag_multi_task_prioritize (multi, 990, 40);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);

  assert_wanted_before_far_ones (&log, 990, 1030, 200);
  g_assert_cmpuint (log.positions->len, ==, 2000);
  for (guint position = 0; position < 2000; position++)
    start_index (&log, position);

  ag_test_outcome_clear (&outcome);
  start_log_clear (&log);
}

static void
test_map_range_past_the_end_is_clamped (AgTestFixture *fixture,
                                        gconstpointer  data)
{
  const guint expected[] = { 1990, 2000, 0, 1990 };
  g_autoptr(AgMultiTask) multi = NULL;
  StartLog log;

  use_one_thread (fixture);
  start_log_init (&log);
  multi = map_of_logging_inputs (&log, 2000);

  ag_multi_task_prioritize (multi, 1990, G_MAXUINT);
  run_and_check_order (fixture, multi, 2000);

  assert_start_order (&log, expected, G_N_ELEMENTS (expected) / 2);
  start_log_clear (&log);
}

/* A view's scroll handler stays connected after the MultiTask ended
 * (done, or cancelled): scrolling then asks for nothing, and is no error. */
static void
test_prioritize_a_finished_multi_does_nothing (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(AgMultiTask) cancelled = NULL;
  StartLog log, cancelled_log;

  start_log_init (&log);
  multi = multi_of_logging_children (&log, 3);
  run_and_check_order (fixture, multi, 3);
  ag_multi_task_prioritize (multi, 0, 1);
  g_assert_cmpint (ag_task_get_state (AG_TASK (multi)), ==, AG_TASK_SUCCEEDED);

  start_log_init (&cancelled_log);
  cancelled = multi_of_logging_children (&cancelled_log, 3);
  ag_task_cancel (AG_TASK (cancelled));
  ag_engine_run_async (fixture->engine, AG_TASK (cancelled), NULL, NULL, NULL);
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (cancelled)),
                     AG_TEST_SAFETY_MS);
  ag_multi_task_prioritize (cancelled, 1, 2);
  g_assert_cmpint (ag_task_get_state (AG_TASK (cancelled)), ==, AG_TASK_CANCELLED);

  start_log_clear (&cancelled_log);
  start_log_clear (&log);
}

/* Bad input */

static void
test_prioritize_a_plain_task_is_refused (void)
{
  g_autoptr(AgTask) task = ag_test_task_new_int_after (0, 1);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*AG_IS_MULTI_TASK*");
  ag_multi_task_prioritize ((AgMultiTask *) task, 0, 1);
  g_test_assert_expected_messages ();
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/multi-task-priority/children-wanted-before-the-run-start-first",
               test_children_wanted_before_the_run_start_first);
  ag_test_add ("/multi-task-priority/children-wanted-while-running-start-next",
               test_children_wanted_while_running_start_next);
  ag_test_add ("/multi-task-priority/children-latest-range-wins",
               test_children_latest_range_wins);
  ag_test_add ("/multi-task-priority/children-latest-range-wins-while-running",
               test_children_latest_range_wins_while_running);
  ag_test_add ("/multi-task-priority/children-range-past-the-end-is-clamped",
               test_children_range_past_the_end_is_clamped);
  ag_test_add ("/multi-task-priority/map-wanted-before-the-run-start-first",
               test_map_wanted_before_the_run_start_first);
  ag_test_add ("/multi-task-priority/map-wanted-range-keeps-what-a-run-gave-back",
               test_map_wanted_range_keeps_what_a_run_gave_back);
  ag_test_add ("/multi-task-priority/map-wanted-while-running-start-next",
               test_map_wanted_while_running_start_next);
  ag_test_add ("/multi-task-priority/map-overlapping-ranges-run-each-input-once",
               test_map_overlapping_ranges_run_each_input_once);
  ag_test_add ("/multi-task-priority/map-range-past-the-end-is-clamped",
               test_map_range_past_the_end_is_clamped);
  ag_test_add ("/multi-task-priority/prioritize-a-finished-multi-does-nothing",
               test_prioritize_a_finished_multi_does_nothing);
  g_test_add_func ("/multi-task-priority/prioritize-a-plain-task-is-refused",
                   test_prioritize_a_plain_task_is_refused);

  return g_test_run ();
}
