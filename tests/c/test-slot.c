/* test-slot.c: the latest request wins
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

/* A query: its function waits @latency_ms, or until it is cancelled, then
 * returns its number. What it saw is written back for the test. */
typedef struct
{
  int           number;
  guint         latency_ms;
  int           ran;          /* atomic: the function started */
  int           saw_cancel;   /* atomic: its cancellable fired meanwhile */
  int           finished;     /* atomic: it waited its whole latency */
} Query;

static void
run_query (AgTask       *task,
           gpointer      user_data,
           GCancellable *cancellable)
{
  Query *query = user_data;
  gint64 end = g_get_monotonic_time () + query->latency_ms * G_TIME_SPAN_MILLISECOND;

  g_atomic_int_set (&query->ran, 1);
  while (g_get_monotonic_time () < end)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_atomic_int_set (&query->saw_cancel, 1);
          ag_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                           "stopped"));
          return;
        }
      g_usleep (500);
    }

  g_atomic_int_set (&query->finished, 1);
  ag_task_return_int (task, query->number);
}

/* What the slot's callbacks saw, and what the GUI shows. */
typedef struct
{
  AgSlot   *slot;
  guint     n_calls;
  guint     n_values;
  guint     n_cancelled;
  int       shown;            /* the value on display, -1 for none */
  int       latest;           /* the number of the latest query asked for */
  guint     n_stale;          /* values shown that were not the latest */
  gboolean  in_run;           /* inside ag_slot_run_async() */
  guint     n_called_inside;
} Display;

static void
display_init (Display *display,
              AgSlot  *slot)
{
  *display = (Display) { .slot = slot, .shown = -1, .latest = -1 };
}

static void
on_query_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Display *display = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value;

  g_assert_true (source == G_OBJECT (display->slot));
  display->n_calls++;
  display->n_called_inside += display->in_run;

  value = ag_slot_run_finish (display->slot, result, &error);
  if (value == NULL)
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      display->n_cancelled++;
      return;
    }

  display->shown = ag_test_value_get_int (value);
  display->n_values++;
  display->n_stale += display->shown != display->latest;
  ag_test_value_free (value);
}

static void
ask (Display *display,
     Query   *query)
{
  g_autoptr(AgTask) task = ag_task_new (run_query, query, NULL);

  display->latest = query->number;
  display->in_run = TRUE;
  ag_slot_run_async (display->slot, task, NULL, on_query_done, display);
  display->in_run = FALSE;
}

/* A new request cancels the task running before: its function sees its
 * cancellable fire, its callback gets CANCELLED, never a value, and only
 * the latest value is shown. */
static void
test_run_cancels_the_task_run_before (AgTestFixture *fixture,
                                      gconstpointer  data)
{
  g_autoptr(AgSlot) slot = ag_slot_new (fixture->engine);
  Query slow = { .number = 1, .latency_ms = 5000 };
  Query quick = { .number = 2, .latency_ms = 0 };
  Display display;

  display_init (&display, slot);
  ask (&display, &slow);
  ag_test_run_until (fixture->context, g_atomic_int_get (&slow.ran), AG_TEST_SAFETY_MS);
  ask (&display, &quick);
  ag_test_run_until (fixture->context, display.n_calls == 2, AG_TEST_SAFETY_MS);

  g_assert_cmpuint (display.n_cancelled, ==, 1);
  g_assert_cmpuint (display.n_values, ==, 1);
  g_assert_cmpint (display.shown, ==, 2);
  g_assert_cmpuint (display.n_called_inside, ==, 0);
  ag_test_run_until (fixture->context, g_atomic_int_get (&slow.saw_cancel), AG_TEST_SAFETY_MS);
  g_assert_false (g_atomic_int_get (&slow.finished));
}

static void
count_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  (*(guint *) user_data)++;
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  (*(guint *) user_data)++;
}

/* busy is TRUE from the first request until the latest has ended, and
 * changes only then; task is the latest asked for. */
static void
test_busy_spans_the_latest_request (AgTestFixture *fixture,
                                    gconstpointer  data)
{
  g_autoptr(AgSlot) slot = ag_slot_new (fixture->engine);
  Query first = { .number = 1, .latency_ms = 5000 };
  Query second = { .number = 2, .latency_ms = 50 };
  Display display;
  guint n_busy = 0;
  gboolean busy;

  display_init (&display, slot);
  g_signal_connect (slot, "notify::busy", G_CALLBACK (count_notify), &n_busy);
  g_assert_false (ag_slot_get_busy (slot));
  g_assert_null (ag_slot_get_task (slot));

  ask (&display, &first);
  g_assert_true (ag_slot_get_busy (slot));
  ask (&display, &second);
  g_object_get (slot, "busy", &busy, NULL);
  g_assert_true (busy);
  g_assert_cmpuint (n_busy, ==, 1);

  ag_test_run_until (fixture->context, display.n_calls == 2, AG_TEST_SAFETY_MS);
  g_assert_false (ag_slot_get_busy (slot));
  g_assert_null (ag_slot_get_task (slot));
  g_assert_cmpuint (n_busy, ==, 2);
  g_assert_cmpint (display.shown, ==, 2);
}

/* The latest request stays the latest after it ends, until a later
 * request or a cancel: what a job resuming after the callback asks. */
static void
test_latest_request_is_known_until_replaced_or_cancelled (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  g_autoptr(AgSlot) slot = ag_slot_new (fixture->engine);
  g_autoptr(AgTask) first = ag_test_task_new_int_after (0, 1);
  g_autoptr(AgTask) second = ag_test_task_new_int_after (0, 2);
  g_autoptr(AgTask) third = ag_test_task_new_int_after (0, 3);
  guint n_done = 0;

  ag_slot_run_async (slot, first, NULL, count_done_cb, &n_done);
  g_assert_true (ag_slot_is_latest (slot, first));
  ag_slot_run_async (slot, second, NULL, count_done_cb, &n_done);
  g_assert_false (ag_slot_is_latest (slot, first));
  g_assert_true (ag_slot_is_latest (slot, second));

  ag_test_run_until (fixture->context, n_done == 2, AG_TEST_SAFETY_MS);
  g_assert_true (ag_slot_is_latest (slot, second));

  ag_slot_run_async (slot, third, NULL, count_done_cb, &n_done);
  ag_slot_cancel (slot);
  g_assert_false (ag_slot_is_latest (slot, third));
  ag_test_run_until (fixture->context, n_done == 3, AG_TEST_SAFETY_MS);
}

/* With a quiet period, a burst of requests (a word typed quickly) starts
 * one task: the others end cancelled without running. */
static void
test_debounce_starts_one_task_for_a_burst (AgTestFixture *fixture,
                                           gconstpointer  data)
{
  g_autoptr(AgSlot) slot = ag_slot_new (fixture->engine);
  Query keys[5];
  Display display;
  guint n_ran = 0;

  display_init (&display, slot);
  ag_slot_set_debounce_ms (slot, 200);
  g_assert_cmpuint (ag_slot_get_debounce_ms (slot), ==, 200);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      keys[i] = (Query) { .number = (int) i, .latency_ms = 10 };
      ask (&display, &keys[i]);
      /* Keystrokes 20 ms apart, well inside the quiet period. */
      ag_test_run_for (fixture->context, 20);
    }
  ag_test_run_until (fixture->context, display.n_calls == G_N_ELEMENTS (keys),
                     AG_TEST_SAFETY_MS);

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    n_ran += g_atomic_int_get (&keys[i].ran);
  g_assert_cmpuint (n_ran, ==, 1);
  g_assert_true (g_atomic_int_get (&keys[4].ran));
  g_assert_cmpuint (display.n_cancelled, ==, 4);
  g_assert_cmpint (display.shown, ==, 4);
  g_assert_cmpuint (display.n_called_inside, ==, 0);
}

/* With a throttle, starts are at least a period apart: a request that
 * comes sooner waits, the one it replaces never runs, and the task
 * running meanwhile may finish and be shown. */
static void
test_throttle_keeps_the_trailing_request (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  g_autoptr(AgSlot) slot = ag_slot_new (fixture->engine);
  Query first = { .number = 1, .latency_ms = 0 };
  Query replaced = { .number = 2, .latency_ms = 0 };
  Query trailing = { .number = 3, .latency_ms = 0 };
  Display display;
  gint64 start = g_get_monotonic_time ();
  double trailing_ms;

  display_init (&display, slot);
  ag_slot_set_throttle_ms (slot, 300);
  ask (&display, &first);
  ag_test_run_until (fixture->context, display.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_cmpint (display.shown, ==, 1);

  ask (&display, &replaced);
  ask (&display, &trailing);
  g_assert_true (ag_slot_get_busy (slot));
  ag_test_run_until (fixture->context, display.n_calls == 3, AG_TEST_SAFETY_MS);
  trailing_ms = ag_test_elapsed_ms (start);

  g_assert_false (g_atomic_int_get (&replaced.ran));
  g_assert_true (g_atomic_int_get (&trailing.ran));
  g_assert_cmpint (display.shown, ==, 3);
  g_assert_cmpuint (display.n_cancelled, ==, 1);
  /* Not before its period: a lower bound, safe on a slow machine. */
  g_assert_cmpfloat (trailing_ms, >=, 295);
}

/* With a throttle alone, the task running when a request comes goes on
 * until that request starts: a value it gives before is shown (a live
 * preview updates while the slider moves), and it is still the latest
 * there, for code that acts on it at a later delivery. */
typedef struct
{
  Display  display;
  AgTask  *first;
  int      first_latest;   /* ag_slot_is_latest (first) in its callback; -1 before */
} Preview;

static void
on_preview_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Preview *preview = user_data;

  if ((gpointer) result == (gpointer) preview->first)
    preview->first_latest = ag_slot_is_latest (AG_SLOT (source), preview->first);
  on_query_done (source, result, &preview->display);
}

static void
test_throttle_lets_the_running_task_finish_as_the_latest (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  g_autoptr(AgSlot) slot = ag_slot_new (fixture->engine);
  Query running = { .number = 1, .latency_ms = 100 };
  Query next = { .number = 2, .latency_ms = 0 };
  g_autoptr(AgTask) first = ag_task_new (run_query, &running, NULL);
  g_autoptr(AgTask) second = ag_task_new (run_query, &next, NULL);
  Preview preview = { .first = first, .first_latest = -1 };

  display_init (&preview.display, slot);
  ag_slot_set_throttle_ms (slot, 1000);
  ag_slot_run_async (slot, first, NULL, on_preview_done, &preview);
  ag_test_run_until (fixture->context, g_atomic_int_get (&running.ran), AG_TEST_SAFETY_MS);
  ag_slot_run_async (slot, second, NULL, on_preview_done, &preview);

  ag_test_run_until (fixture->context, preview.display.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_cmpint (preview.display.shown, ==, 1);
  g_assert_cmpint (preview.first_latest, ==, TRUE);
  g_assert_false (g_atomic_int_get (&next.ran));
  g_assert_true (ag_slot_is_latest (slot, first));

  ag_test_run_until (fixture->context, preview.display.n_calls == 2, AG_TEST_SAFETY_MS);
  g_assert_cmpint (preview.display.shown, ==, 2);
  g_assert_false (ag_slot_is_latest (slot, first));
  g_assert_true (ag_slot_is_latest (slot, second));
}

/* Disposing the engine ends the slot's work as it ends all work, without
 * callbacks; the slot is then idle, and a request made afterwards fails
 * with AG_ERROR_ENGINE_DISPOSED, as a run on the engine does. */
static void
test_engine_disposed_while_busy_leaves_the_slot_idle (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  g_autoptr(AgSlot) slot = ag_slot_new (fixture->engine);
  Query running = { .number = 1, .latency_ms = 5000 };
  g_autoptr(AgTask) late = ag_task_new_sleep (0);
  AgTestOutcome outcome;
  Display display;

  display_init (&display, slot);
  ask (&display, &running);
  ag_test_run_until (fixture->context, g_atomic_int_get (&running.ran), AG_TEST_SAFETY_MS);
  g_object_run_dispose (G_OBJECT (fixture->engine));

  g_assert_false (ag_slot_get_busy (slot));
  g_assert_null (ag_slot_get_task (slot));
  ag_slot_cancel (slot);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_slot_run_async (slot, late, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_ENGINE_DISPOSED);
  g_assert_false (ag_slot_get_busy (slot));
  g_assert_cmpuint (display.n_calls, ==, 0);
  ag_test_outcome_clear (&outcome);
  ag_test_run_until (fixture->context, g_atomic_int_get (&running.saw_cancel), AG_TEST_SAFETY_MS);
}

/* A task waiting in the slot is given to it again: the mistake is
 * reported at the call, and the request waiting goes on. */
static void
test_task_given_twice_while_it_waits_is_a_critical (AgTestFixture *fixture,
                                                    gconstpointer  data)
{
  g_autoptr(AgSlot) slot = ag_slot_new (fixture->engine);
  Query query = { .number = 7, .latency_ms = 0 };
  g_autoptr(AgTask) task = ag_task_new (run_query, &query, NULL);
  Display display;

  display_init (&display, slot);
  ag_slot_set_debounce_ms (slot, 50);
  ag_slot_run_async (slot, task, NULL, on_query_done, &display);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*already waits in the slot*");
  ag_slot_run_async (slot, task, NULL, on_query_done, &display);
  g_test_assert_expected_messages ();

  ag_test_run_until (fixture->context, display.n_calls == 1, AG_TEST_SAFETY_MS);
  g_assert_cmpint (display.shown, ==, 7);
  g_assert_false (ag_slot_get_busy (slot));
  ag_test_run_for (fixture->context, 100);
  g_assert_cmpuint (display.n_calls, ==, 1);
}

/* Cancelling the slot ends the task waiting to start (unrun) and the task
 * running; both callbacks get CANCELLED. */
static void
test_cancel_ends_waiting_and_running_work (AgTestFixture *fixture,
                                           gconstpointer  data)
{
  g_autoptr(AgSlot) slot = ag_slot_new (fixture->engine);
  Query running = { .number = 1, .latency_ms = 5000 };
  Query waiting = { .number = 2, .latency_ms = 0 };
  Display display;

  display_init (&display, slot);
  ag_slot_set_throttle_ms (slot, 60000);
  ask (&display, &running);
  ag_test_run_until (fixture->context, g_atomic_int_get (&running.ran), AG_TEST_SAFETY_MS);
  ask (&display, &waiting);

  ag_slot_cancel (slot);
  g_assert_false (ag_slot_get_busy (slot));
  ag_test_run_until (fixture->context, display.n_calls == 2, AG_TEST_SAFETY_MS);

  g_assert_cmpuint (display.n_cancelled, ==, 2);
  g_assert_false (g_atomic_int_get (&waiting.ran));
  ag_test_run_until (fixture->context, g_atomic_int_get (&running.saw_cancel), AG_TEST_SAFETY_MS);
}

/* Fifty queries typed with random latencies, some finishing before the
 * next keystroke, most not: no value shown ever belongs to an older query
 * than the latest asked for, the last one is on display at the end, and
 * every superseded query whose function ran saw its cancellable fire
 * unless it had finished first. */
static void
test_fifty_queries_never_show_a_stale_result (AgTestFixture *fixture,
                                              gconstpointer  data)
{
  g_autoptr(AgSlot) slot = ag_slot_new (fixture->engine);
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261203);
  Query queries[50];
  Display display;

  display_init (&display, slot);
  for (guint i = 0; i < G_N_ELEMENTS (queries); i++)
    {
      queries[i] = (Query) { .number = (int) i, .latency_ms = g_rand_int_range (rand, 0, 40) };
      ask (&display, &queries[i]);
      ag_test_run_for (fixture->context, g_rand_int_range (rand, 0, 25));
    }
  ag_test_run_until (fixture->context, display.n_calls == G_N_ELEMENTS (queries),
                     AG_TEST_SAFETY_MS);

  g_test_message ("%u values shown, %u cancelled", display.n_values, display.n_cancelled);
  g_assert_cmpuint (display.n_stale, ==, 0);
  g_assert_cmpint (display.shown, ==, (int) G_N_ELEMENTS (queries) - 1);
  g_assert_cmpuint (display.n_values + display.n_cancelled, ==, G_N_ELEMENTS (queries));
  g_assert_cmpuint (display.n_cancelled, >, 0);
  for (guint i = 0; i + 1 < G_N_ELEMENTS (queries); i++)
    {
      /* Wait for late functions to notice. */
      ag_test_run_until (fixture->context,
                         !g_atomic_int_get (&queries[i].ran)
                         || g_atomic_int_get (&queries[i].finished)
                         || g_atomic_int_get (&queries[i].saw_cancel),
                         AG_TEST_SAFETY_MS);
    }
}

/* A task that has run already cannot be given to a slot. */
static gpointer
make_slot_elsewhere (gpointer engine)
{
  return ag_slot_new (engine);
}

/* A slot lives on its engine's thread: made on another one it would race
 * with the engine's use of it. */
static void
test_new_on_another_thread_is_a_critical (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  ag_test_assert_critical_elsewhere (make_slot_elsewhere, fixture->engine, "*ag_slot_new*");
}

static void
test_task_run_before_is_refused (AgTestFixture *fixture,
                                 gconstpointer  data)
{
  g_autoptr(AgSlot) slot = ag_slot_new (NULL);
  g_autoptr(AgTask) task = ag_test_task_new_int_after (0, 7);
  AgTestOutcome outcome;

  g_assert_true (ag_slot_get_engine (slot) == ag_engine_get_default ());
  g_clear_object (&slot);
  slot = ag_slot_new (fixture->engine);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*PENDING*");
  ag_slot_run_async (slot, task, NULL, NULL, NULL);
  g_test_assert_expected_messages ();
  g_assert_false (ag_slot_get_busy (slot));

  ag_test_outcome_clear (&outcome);
}

/* Dropping a busy slot ends its work without calling back, as disposing
 * an engine does: a window that drops its slot and its engine while a
 * request waits (debounced), another runs and a replaced one is on its way
 * back gets no callback afterwards, and the engine goes. (Each request used
 * to keep the slot alive, and the slot its engine.) */
static void
count_call (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  (*(guint *) user_data)++;
}

static void
test_dropped_busy_slot_calls_nothing_back_and_lets_its_engine_go (AgTestFixture *fixture,
                                                                  gconstpointer  data)
{
  Query slow = { .number = 1, .latency_ms = 100 }, quick = { .number = 2 }, late = { .number = 3 };
  g_autoptr(AgTask) running = ag_task_new (run_query, &slow, NULL);
  g_autoptr(AgTask) replaced = ag_task_new (run_query, &quick, NULL);
  g_autoptr(AgTask) waiting = ag_task_new (run_query, &late, NULL);
  AgSlot *slot = ag_slot_new (fixture->engine);
  gpointer weak_slot = slot, engine = fixture->engine;
  guint n_calls = 0;

  g_object_add_weak_pointer (G_OBJECT (slot), &weak_slot);
  g_object_add_weak_pointer (G_OBJECT (engine), &engine);
  ag_slot_run_async (slot, running, NULL, count_call, &n_calls);
  ag_test_run_until (fixture->context, g_atomic_int_get (&slow.ran), AG_TEST_SAFETY_MS);
  ag_slot_set_debounce_ms (slot, 50);
  ag_slot_run_async (slot, replaced, NULL, count_call, &n_calls);
  ag_slot_run_async (slot, waiting, NULL, count_call, &n_calls);

  g_object_unref (slot);
  g_assert_null (weak_slot);
  g_assert_true (g_atomic_int_get (&slow.saw_cancel) || ag_task_is_finished (running)
                 || g_cancellable_is_cancelled (ag_task_get_cancellable (running)));
  g_clear_object (&fixture->engine);
  g_assert_null (engine);

  ag_test_run_for (fixture->context, 200);
  g_assert_cmpuint (n_calls, ==, 0);
  g_assert_false (g_atomic_int_get (&late.ran));
  ag_engine_join_disposed (AG_TEST_SAFETY_MS);
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/slot/run-cancels-the-task-run-before",
               test_run_cancels_the_task_run_before);
  ag_test_add ("/slot/busy-spans-the-latest-request",
               test_busy_spans_the_latest_request);
  ag_test_add ("/slot/latest-request-is-known-until-replaced-or-cancelled",
               test_latest_request_is_known_until_replaced_or_cancelled);
  ag_test_add ("/slot/debounce-starts-one-task-for-a-burst",
               test_debounce_starts_one_task_for_a_burst);
  ag_test_add ("/slot/engine-disposed-while-busy-leaves-the-slot-idle",
               test_engine_disposed_while_busy_leaves_the_slot_idle);
  ag_test_add ("/slot/task-given-twice-while-it-waits-is-a-critical",
               test_task_given_twice_while_it_waits_is_a_critical);
  ag_test_add ("/slot/throttle-keeps-the-trailing-request",
               test_throttle_keeps_the_trailing_request);
  ag_test_add ("/slot/throttle-lets-the-running-task-finish-as-the-latest",
               test_throttle_lets_the_running_task_finish_as_the_latest);
  ag_test_add ("/slot/cancel-ends-waiting-and-running-work",
               test_cancel_ends_waiting_and_running_work);
  ag_test_add ("/slot/fifty-queries-never-show-a-stale-result",
               test_fifty_queries_never_show_a_stale_result);
  ag_test_add ("/slot/new-on-another-thread-is-a-critical",
               test_new_on_another_thread_is_a_critical);
  ag_test_add ("/slot/dropped-busy-slot-calls-nothing-back-and-lets-its-engine-go",
               test_dropped_busy_slot_calls_nothing_back_and_lets_its_engine_go);
  ag_test_add ("/slot/task-run-before-is-refused",
               test_task_run_before_is_refused);

  return g_test_run ();
}
