/* test-engine.c: AgEngine's behaviour
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

/* Properties */

static void
test_default_properties_match_the_contract (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  GMainContext *context = NULL;
  int max_threads, priority, budget_ms;

  g_assert_true (ag_engine_get_context (fixture->engine) == fixture->context);
  g_assert_cmpint (ag_engine_get_max_threads (fixture->engine), ==,
                   (int) g_get_num_processors ());
  g_assert_cmpint (ag_engine_get_priority (fixture->engine), ==, AG_ENGINE_DEFAULT_PRIORITY);
  g_assert_cmpint (AG_ENGINE_DEFAULT_PRIORITY, >, G_PRIORITY_HIGH_IDLE + 20);
  g_assert_cmpint (ag_engine_get_budget_ms (fixture->engine), ==, AG_ENGINE_DEFAULT_BUDGET_MS);
  g_assert_cmpint (AG_ENGINE_DEFAULT_BUDGET_MS, ==, 2);
  g_assert_cmpint (ag_engine_get_max_blocked_threads (fixture->engine), ==,
                   AG_ENGINE_DEFAULT_MAX_BLOCKED_THREADS);

  g_object_get (fixture->engine,
                "context", &context,
                "max-threads", &max_threads,
                "priority", &priority,
                "budget-ms", &budget_ms,
                NULL);
  g_assert_true (context == fixture->context);
  g_assert_cmpint (max_threads, ==, (int) g_get_num_processors ());
  g_assert_cmpint (priority, ==, AG_ENGINE_DEFAULT_PRIORITY);
  g_assert_cmpint (budget_ms, ==, 2);
  g_main_context_unref (context);
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
test_setters_notify_only_on_change (AgTestFixture *fixture,
                                    gconstpointer  data)
{
  guint n_budget = 0, n_priority = 0, n_threads = 0, n_blocked = 0;

  g_signal_connect (fixture->engine, "notify::budget-ms", G_CALLBACK (count_notify), &n_budget);
  g_signal_connect (fixture->engine, "notify::priority", G_CALLBACK (count_notify), &n_priority);
  g_signal_connect (fixture->engine, "notify::max-threads", G_CALLBACK (count_notify), &n_threads);

  ag_engine_set_budget_ms (fixture->engine, 5);
  ag_engine_set_budget_ms (fixture->engine, 5);
  g_assert_cmpint (ag_engine_get_budget_ms (fixture->engine), ==, 5);
  g_assert_cmpuint (n_budget, ==, 1);

  ag_engine_set_priority (fixture->engine, G_PRIORITY_LOW);
  ag_engine_set_priority (fixture->engine, G_PRIORITY_LOW);
  g_assert_cmpint (ag_engine_get_priority (fixture->engine), ==, G_PRIORITY_LOW);
  g_assert_cmpuint (n_priority, ==, 1);

  ag_engine_set_max_threads (fixture->engine, 7);
  ag_engine_set_max_threads (fixture->engine, 7);
  g_assert_cmpint (ag_engine_get_max_threads (fixture->engine), ==, 7);
  g_assert_cmpuint (n_threads, ==, 1);

  g_signal_connect (fixture->engine, "notify::max-blocked-threads", G_CALLBACK (count_notify),
                    &n_blocked);
  ag_engine_set_max_blocked_threads (fixture->engine, 3);
  g_object_set (fixture->engine, "max-blocked-threads", 3, NULL);
  g_assert_cmpint (ag_engine_get_max_blocked_threads (fixture->engine), ==, 3);
  g_assert_cmpuint (n_blocked, ==, 1);

  g_object_set (fixture->engine, "budget-ms", 0, NULL);
  g_assert_cmpint (ag_engine_get_budget_ms (fixture->engine), ==, 0);
  g_assert_cmpuint (n_budget, ==, 2);
}

static void
test_negative_budget_is_rejected (AgTestFixture *fixture,
                                  gconstpointer  data)
{
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*");
  ag_engine_set_budget_ms (fixture->engine, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*");
  ag_engine_set_budget_ms (fixture->engine, 1001);
  g_test_assert_expected_messages ();

  g_assert_cmpint (ag_engine_get_budget_ms (fixture->engine), ==, AG_ENGINE_DEFAULT_BUDGET_MS);
}

static void
test_out_of_range_priority_is_rejected (AgTestFixture *fixture,
                                        gconstpointer  data)
{
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*");
  ag_engine_set_priority (fixture->engine, G_PRIORITY_HIGH - 1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*");
  ag_engine_set_priority (fixture->engine, G_PRIORITY_LOW + 1);
  g_test_assert_expected_messages ();

  g_assert_cmpint (ag_engine_get_priority (fixture->engine), ==, AG_ENGINE_DEFAULT_PRIORITY);
}

static void
test_out_of_range_thread_limits_are_rejected (AgTestFixture *fixture,
                                              gconstpointer  data)
{
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*");
  ag_engine_set_max_threads (fixture->engine, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*");
  ag_engine_set_max_threads (fixture->engine, 1025);
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*");
  ag_engine_set_max_blocked_threads (fixture->engine, -1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*");
  ag_engine_set_max_blocked_threads (fixture->engine, 1025);
  g_test_assert_expected_messages ();

  g_assert_cmpint (ag_engine_get_max_threads (fixture->engine), ==, (int) g_get_num_processors ());
  g_assert_cmpint (ag_engine_get_max_blocked_threads (fixture->engine), ==,
                   AG_ENGINE_DEFAULT_MAX_BLOCKED_THREADS);
}

/* Contexts */

static void
test_get_default_is_one_engine_on_the_default_context (void)
{
  AgEngine *engine = ag_engine_get_default ();

  g_assert_true (AG_IS_ENGINE (engine));
  g_assert_true (ag_engine_get_default () == engine);
  g_assert_true (ag_engine_get_context (engine) == g_main_context_default ());
}

static void
test_new_binds_the_thread_default_context (void)
{
  GMainContext *context = g_main_context_new ();
  AgEngine *engine;
  AgTask *task;
  AgTestOutcome outcome;

  g_main_context_push_thread_default (context);
  engine = ag_engine_new ();
  g_assert_true (ag_engine_get_context (engine) == context);

  ag_test_outcome_init (&outcome, engine);
  task = ag_test_task_new_int_after (50, 7);
  ag_engine_run_async (engine, task, NULL, ag_test_outcome_callback, &outcome);

  /* Only the engine's context is iterated: a delivery on the global default
   * context would never be seen here. */
  ag_test_run_until (context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);
  g_assert_cmpint (ag_test_value_get_int (outcome.value), ==, 7);

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
  g_object_unref (engine);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
}

typedef struct
{
  GThread *callback_thread;
  GThread *engine_thread;
  int      value;
} OtherThreadEngine;

static gpointer
run_engine_on_other_thread (gpointer user_data)
{
  OtherThreadEngine *ote = user_data;
  GMainContext *context = g_main_context_new ();
  AgEngine *engine;
  AgTask *task;
  AgTestOutcome outcome;

  g_main_context_push_thread_default (context);
  engine = ag_engine_new_for_context (context);
  ag_test_outcome_init (&outcome, engine);
  task = ag_test_task_new_int_after (50, 11);
  ag_engine_run_async (engine, task, NULL, ag_test_outcome_callback, &outcome);

  ag_test_run_until (context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  ote->engine_thread = g_thread_self ();
  ote->callback_thread = outcome.thread;
  g_assert_no_error (outcome.error);
  ote->value = ag_test_value_get_int (outcome.value);

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
  g_object_unref (engine);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  return NULL;
}

static void
test_delivers_on_the_thread_that_runs_its_context (void)
{
  OtherThreadEngine ote = { NULL, NULL, 0 };
  GThread *thread;

  thread = g_thread_new ("engine-thread", run_engine_on_other_thread, &ote);
  g_thread_join (thread);

  g_assert_true (ote.callback_thread == ote.engine_thread);
  g_assert_true (ote.callback_thread != ag_test_main_thread ());
  g_assert_cmpint (ote.value, ==, 11);
}

/* Whether the calling thread is the engine's: the one iterating its
 * context, or, while nobody does, the one that made the engine. */
typedef struct
{
  AgEngine     *engine;
  gboolean      mine;
  gboolean      mine_while_owner;
  AgTestLatch   owning;
  AgTestLatch   release;
} OwnThreadCheck;

static gpointer
check_own_thread_elsewhere (gpointer user_data)
{
  OwnThreadCheck *check = user_data;
  GMainContext *context = ag_engine_get_context (check->engine);

  check->mine = ag_engine_is_own_thread (check->engine);
  g_assert_true (g_main_context_acquire (context));
  check->mine_while_owner = ag_engine_is_own_thread (check->engine);
  ag_test_latch_open (&check->owning);
  g_assert_true (ag_test_latch_wait (&check->release));
  g_main_context_release (context);

  return NULL;
}

static void
test_is_own_thread_tells_the_thread_that_may_act_for_it (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  OwnThreadCheck check = { .engine = fixture->engine, .mine = TRUE };
  GThread *thread;

  ag_test_latch_init (&check.owning);
  ag_test_latch_init (&check.release);

  /* Nobody iterates the context: the thread that made the engine. */
  g_assert_true (ag_engine_is_own_thread (fixture->engine));

  thread = g_thread_new ("other", check_own_thread_elsewhere, &check);
  g_assert_true (ag_test_latch_wait (&check.owning));
  /* Another thread iterates it: that one, and not this one. */
  g_assert_false (ag_engine_is_own_thread (fixture->engine));
  ag_test_latch_open (&check.release);
  g_thread_join (thread);

  g_assert_false (check.mine);
  g_assert_true (check.mine_while_owner);
  g_assert_true (ag_engine_is_own_thread (fixture->engine));

  ag_test_latch_clear (&check.owning);
  ag_test_latch_clear (&check.release);
}

/* Running */

static void
test_callback_gets_engine_as_source_and_task_as_result (AgTestFixture *fixture,
                                                        gconstpointer  data)
{
  AgTask *task = ag_test_task_new_int_after (10, 3);
  AgTestOutcome outcome;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  g_assert_true (outcome.source_object == G_OBJECT (fixture->engine));
  g_assert_true (outcome.result_task == task);
  g_assert_true (G_IS_ASYNC_RESULT (task));
  g_assert_no_error (outcome.error);
  g_assert_cmpint (ag_test_value_get_int (outcome.value), ==, 3);
  g_assert_cmpint (ag_task_get_int (outcome.result_task, NULL), ==, 3);

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

static void
return_index_now (AgTask       *task,
                          gpointer      user_data,
                          GCancellable *cancellable)
{
  ag_task_return_int (task, GPOINTER_TO_INT (user_data));
}

static void
test_callback_never_runs_inside_run_async (AgTestFixture *fixture,
                                           gconstpointer  data)
{
  AgTestOutcome outcomes[3];
  AgTask *tasks[3];

  /* The quickest tasks there are: an instant thread task, a zero sleep and
   * an instant serial task. */
  tasks[0] = ag_task_new (return_index_now, GINT_TO_POINTER (1), NULL);
  tasks[1] = ag_task_new_sleep (0);
  tasks[2] = ag_task_new (return_index_now, GINT_TO_POINTER (3), NULL);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      ag_test_outcome_init (&outcomes[i], fixture->engine);
      if (i == 2)
        ag_engine_set_max_threads (fixture->engine, 0);
      ag_engine_run_async (fixture->engine, tasks[i], NULL, ag_test_outcome_callback,
                           &outcomes[i]);
      /* Give a worker time to finish: still no callback until the context
       * is iterated. */
      g_usleep (20 * G_TIME_SPAN_MILLISECOND);
      g_assert_cmpuint (outcomes[i].n_calls, ==, 0);
    }

  ag_test_run_until (fixture->context,
                     outcomes[0].n_calls > 0 && outcomes[1].n_calls > 0 && outcomes[2].n_calls > 0,
                     AG_TEST_SAFETY_MS);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      g_assert_cmpuint (outcomes[i].n_calls, ==, 1);
      g_assert_no_error (outcomes[i].error);
      ag_test_outcome_clear (&outcomes[i]);
      g_object_unref (tasks[i]);
    }
}

/* Serial mode */

typedef struct
{
  GMutex   lock;
  GArray  *ran;        /* indexes, in the order the functions ran */
  GArray  *called;     /* indexes, in the order the callbacks ran */
  gboolean off_main;   /* a function ran off the main thread */
} SerialLog;

typedef struct
{
  SerialLog *log;
  int        index;
} SerialItem;

static void
serial_func (AgTask       *task,
             gpointer      user_data,
             GCancellable *cancellable)
{
  SerialItem *item = user_data;

  g_mutex_lock (&item->log->lock);
  g_array_append_val (item->log->ran, item->index);
  if (g_thread_self () != ag_test_main_thread ())
    item->log->off_main = TRUE;
  g_mutex_unlock (&item->log->lock);

  ag_task_return_int (task, item->index);
}

static void
serial_done (GObject      *source_object,
             GAsyncResult *result,
             gpointer      user_data)
{
  SerialItem *item = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value;

  g_assert_true (g_thread_self () == ag_test_main_thread ());
  value = ag_engine_run_finish (AG_ENGINE (source_object), result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ag_test_value_get_int (value), ==, item->index);
  ag_test_value_free (value);
  g_array_append_val (item->log->called, item->index);
}

static void
test_serial_mode_runs_on_calling_thread_in_fifo_order (AgTestFixture *fixture,
                                                       gconstpointer  data)
{
  SerialLog log = { 0 };
  SerialItem items[8];
  AgTask *tasks[8];

  g_mutex_init (&log.lock);
  log.ran = g_array_new (FALSE, FALSE, sizeof (int));
  log.called = g_array_new (FALSE, FALSE, sizeof (int));

  ag_engine_set_max_threads (fixture->engine, 0);
  g_assert_cmpint (ag_engine_get_max_threads (fixture->engine), ==, 0);

  for (int i = 0; i < (int) G_N_ELEMENTS (items); i++)
    {
      items[i].log = &log;
      items[i].index = i;
      tasks[i] = ag_task_new (serial_func, &items[i], NULL);
      ag_engine_run_async (fixture->engine, tasks[i], NULL, serial_done, &items[i]);
    }

  /* Serial work runs inside delivery, not inside run_async. */
  g_assert_cmpuint (log.ran->len, ==, 0);

  ag_test_run_until (fixture->context, log.called->len == G_N_ELEMENTS (items),
                     AG_TEST_SAFETY_MS);

  g_assert_false (log.off_main);
  g_assert_cmpuint (log.ran->len, ==, G_N_ELEMENTS (items));
  for (int i = 0; i < (int) G_N_ELEMENTS (items); i++)
    {
      g_assert_cmpint (g_array_index (log.ran, int, i), ==, i);
      g_assert_cmpint (g_array_index (log.called, int, i), ==, i);
      g_object_unref (tasks[i]);
    }

  g_array_unref (log.ran);
  g_array_unref (log.called);
  g_mutex_clear (&log.lock);
}

/* Delivery: budget and priority */

typedef struct
{
  GString *events;   /* 'C' per callback, 'R' per simulated redraw */
  guint    n_done;
} DeliveryLog;

static gboolean
fake_redraw (gpointer user_data)
{
  DeliveryLog *log = user_data;

  g_string_append_c (log->events, 'R');
  return G_SOURCE_REMOVE;
}

static void
slow_callback_then_ask_for_redraw (GObject      *source_object,
                                   GAsyncResult *result,
                                   gpointer      user_data)
{
  DeliveryLog *log = user_data;

  g_string_append_c (log->events, 'C');
  log->n_done++;

  /* A callback that takes longer than the budget, then schedules what a
   * GTK frame would be: a source at redraw priority. */
  g_usleep (5 * G_TIME_SPAN_MILLISECOND);
  g_idle_add_full (G_PRIORITY_HIGH_IDLE + 20, fake_redraw, log, NULL);
}

static void
run_batch_with_fake_redraws (AgTestFixture *fixture,
                             DeliveryLog   *log,
                             guint          n_tasks)
{
  GPtrArray *tasks = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < n_tasks; i++)
    {
      AgTask *task = ag_task_new (return_index_now, GINT_TO_POINTER (i), NULL);

      g_ptr_array_add (tasks, task);
      ag_engine_run_async (fixture->engine, task, NULL, slow_callback_then_ask_for_redraw, log);
    }

  /* Let every worker finish before the context runs, so that all results
   * wait in one batch. */
  g_usleep (300 * G_TIME_SPAN_MILLISECOND);

  ag_test_run_until (fixture->context, log->n_done == n_tasks, AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 20);
  g_test_message ("events: %s", log->events->str);

  g_ptr_array_unref (tasks);
}

static void
test_delivery_stops_after_budget_and_lets_redraw_run (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  DeliveryLog log = { g_string_new (NULL), 0 };

  run_batch_with_fake_redraws (fixture, &log, 8);

  /* Each callback overruns the 2 ms budget, so each dispatch delivers one
   * result and the redraw-priority source runs before the next one. */
  g_assert_cmpstr (log.events->str, ==, "CRCRCRCRCRCRCRCR");

  g_string_free (log.events, TRUE);
}

static void
test_priority_property_orders_delivery_against_other_sources (AgTestFixture *fixture,
                                                              gconstpointer  data)
{
  DeliveryLog log = { g_string_new (NULL), 0 };

  /* Above redraw priority, delivery wins every time both are ready. */
  ag_engine_set_priority (fixture->engine, G_PRIORITY_DEFAULT);
  run_batch_with_fake_redraws (fixture, &log, 8);

  g_assert_cmpstr (log.events->str, ==, "CCCCCCCCRRRRRRRR");

  g_string_free (log.events, TRUE);
}

/* Starvation */

static gboolean
always_ready (gpointer user_data)
{
  guint *n_ticks = user_data;

  (*n_ticks)++;
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  GArray *latencies_ms;   /* double, one per delivered task */
} LatencyLog;

/* How long a result waited: from its return on the worker to its
 * callback, so that a worker slowed down by a busy machine does not
 * count. */
static void
record_latency (GObject      *source_object,
                GAsyncResult *result,
                gpointer      user_data)
{
  LatencyLog *log = user_data;
  const GValue *returned_at = ag_task_get_value (AG_TASK (result));
  double ms;

  g_assert_true (G_VALUE_HOLDS_INT64 (returned_at));
  ms = ag_test_elapsed_ms (g_value_get_int64 (returned_at));
  g_array_append_val (log->latencies_ms, ms);
}

static void
return_the_time (AgTask       *task,
                 gpointer      user_data,
                 GCancellable *cancellable)
{
  g_auto(GValue) now = G_VALUE_INIT;

  g_value_init (&now, G_TYPE_INT64);
  g_value_set_int64 (&now, g_get_monotonic_time ());
  ag_task_return_value (task, &now);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* A source of default priority that is always ready (a Qt 0 ms timer, a
 * busy idle) outranks delivery for good; results still arrive, a little
 * late, once they have waited max-delivery-delay-ms. */
static void
test_always_ready_default_source_does_not_starve_delivery (AgTestFixture *fixture,
                                                           gconstpointer  data)
{
  LatencyLog log = { g_array_new (FALSE, FALSE, sizeof (double)) };
  guint n_ticks = 0;
  GSource *busy = g_idle_source_new ();
  double p99;

  g_assert_cmpuint (ag_engine_get_max_delivery_delay_ms (fixture->engine), ==, 100);

  g_source_set_priority (busy, G_PRIORITY_DEFAULT);
  g_source_set_callback (busy, always_ready, &n_ticks, NULL);
  g_source_attach (busy, fixture->context);

  for (guint i = 0; i < 100; i++)
    {
      g_autoptr(AgTask) task = ag_task_new (return_the_time, NULL, NULL);

      ag_engine_run_async (fixture->engine, task, NULL, record_latency, &log);
    }
  ag_test_run_until (fixture->context, log.latencies_ms->len == 100, 3000);

  g_array_sort (log.latencies_ms, compare_doubles);
  p99 = g_array_index (log.latencies_ms, double, 98);
  g_test_message ("busy source ran %u times; p99 latency %.1f ms", n_ticks, p99);
  g_assert_cmpuint (n_ticks, >, 100);
  /* Well short of the 300 ms the next test waits in vain without the
   * protection, with room for a busy machine. */
  g_assert_cmpfloat (p99, <=, 250.0 * ag_test_timing_factor ());

  g_source_destroy (busy);
  g_source_unref (busy);
  g_array_unref (log.latencies_ms);
}

/* With the protection off, the busy source keeps results back: what the
 * property promises is really its doing. */
static void
test_zero_max_delivery_delay_leaves_delivery_to_priority (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  LatencyLog log = { g_array_new (FALSE, FALSE, sizeof (double)) };
  guint n_ticks = 0;
  GSource *busy = g_idle_source_new ();
  g_autoptr(AgTask) task = ag_task_new (return_the_time, NULL, NULL);

  ag_engine_set_max_delivery_delay_ms (fixture->engine, 0);
  g_source_set_priority (busy, G_PRIORITY_DEFAULT);
  g_source_set_callback (busy, always_ready, &n_ticks, NULL);
  g_source_attach (busy, fixture->context);

  ag_engine_run_async (fixture->engine, task, NULL, record_latency, &log);
  ag_test_run_for (fixture->context, 300);
  g_assert_cmpuint (log.latencies_ms->len, ==, 0);

  g_source_destroy (busy);
  g_source_unref (busy);
  ag_test_run_until (fixture->context, log.latencies_ms->len == 1, AG_TEST_SAFETY_MS);
  g_array_unref (log.latencies_ms);
}

/* Dispose */

typedef struct
{
  int n_destroyed;   /* atomic */
  int n_finished;    /* atomic: workers that got to their return */
} WorkLog;

typedef struct
{
  WorkLog *log;
  guint    msec;
} WorkItem;

static void
work_item_free (gpointer data)
{
  WorkItem *item = data;

  g_atomic_int_inc (&item->log->n_destroyed);
  g_free (item);
}

static void
sleep_then_return_42 (AgTask       *task,
                      gpointer      user_data,
                      GCancellable *cancellable)
{
  WorkItem *item = user_data;

  g_usleep (item->msec * G_TIME_SPAN_MILLISECOND);
  ag_task_return_int (task, 42);
  g_atomic_int_inc (&item->log->n_finished);
}

static AgTask *
work_task_new (WorkLog *log,
               guint    msec)
{
  WorkItem *item = g_new0 (WorkItem, 1);

  item->log = log;
  item->msec = msec;

  return ag_task_new (sleep_then_return_42, item, work_item_free);
}

static void
test_dispose_with_work_in_flight_runs_no_callback (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  WorkLog log = { 0, 0 };
  AgTask *tasks[4];
  AgTestOutcome outcomes[4];
  AgEngine *engine = fixture->engine;

  ag_engine_set_max_threads (engine, 4);
  tasks[0] = work_task_new (&log, 300);
  tasks[1] = work_task_new (&log, 300);
  tasks[2] = work_task_new (&log, 300);
  tasks[3] = ag_task_new_sleep (300);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      ag_test_outcome_init (&outcomes[i], engine);
      ag_engine_run_async (engine, tasks[i], NULL, ag_test_outcome_callback, &outcomes[i]);
    }

  /* The workers are busy now. */
  ag_test_run_for (fixture->context, 50);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_assert_cmpint (ag_task_get_state (tasks[i]), ==, AG_TASK_RUNNING);

  /* The last reference goes while work is in flight. */
  g_object_add_weak_pointer (G_OBJECT (engine), (gpointer *) &engine);
  g_clear_object (&fixture->engine);
  g_assert_null (engine);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_assert_cmpint (ag_task_get_state (tasks[i]), ==, AG_TASK_CANCELLED);

  /* Past the moment the workers finish: their results go nowhere. */
  ag_test_run_for (fixture->context, 600);
  g_assert_cmpint (g_atomic_int_get (&log.n_finished), ==, 3);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      g_assert_cmpuint (outcomes[i].n_calls, ==, 0);
      g_assert_cmpint (ag_task_get_state (tasks[i]), ==, AG_TASK_CANCELLED);
      g_clear_object (&tasks[i]);
    }

  /* Nothing leaks: every function's data is let go. */
  ag_test_run_until (fixture->context, g_atomic_int_get (&log.n_destroyed) == 3, 2000);
}

static void
test_run_dispose_with_work_in_flight_runs_no_callback (AgTestFixture *fixture,
                                                       gconstpointer  data)
{
  WorkLog log = { 0, 0 };
  AgTask *task;
  AgTestOutcome outcome;

  task = work_task_new (&log, 300);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_for (fixture->context, 50);

  /* Someone else still holds the engine: dispose shuts it down all the
   * same. */
  g_object_run_dispose (G_OBJECT (fixture->engine));
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_CANCELLED);

  ag_test_run_for (fixture->context, 500);
  g_assert_cmpint (g_atomic_int_get (&log.n_finished), ==, 1);
  g_assert_cmpuint (outcome.n_calls, ==, 0);

  g_clear_object (&task);
  ag_test_run_until (fixture->context, g_atomic_int_get (&log.n_destroyed) == 1, 2000);
}

/* The engine's own thread runs its context while another thread calls
 * g_object_run_dispose(): the disposal happens on the engine's thread, at
 * its next iteration, and is a disposal all the same. */
typedef struct
{
  GMainContext *context;
  int           owned;   /* the thread has acquired the context, for good */
  int           stop;
} ContextThread;

static gpointer
iterate_until_stopped (gpointer data)
{
  ContextThread *thread = data;

  g_main_context_push_thread_default (thread->context);
  g_atomic_int_set (&thread->owned, TRUE);
  while (!g_atomic_int_get (&thread->stop))
    g_main_context_iteration (thread->context, TRUE);
  g_main_context_pop_thread_default (thread->context);
  return NULL;
}

static gboolean
nothing (gpointer data)
{
  return G_SOURCE_REMOVE;
}

/* ag_task_is_finished() is for any thread; the state is read once the
 * engine's thread is stopped. */
static gboolean
wait_until_finished (AgTask *task)
{
  gint64 end = g_get_monotonic_time () + AG_TEST_SAFETY_MS * G_TIME_SPAN_MILLISECOND;

  while (!ag_task_is_finished (task))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_usleep (1000);
    }
  return TRUE;
}

static void
test_run_dispose_from_another_thread_disposes_on_the_engines_thread (AgTestFixture *fixture,
                                                                      gconstpointer  data)
{
  ContextThread thread = { g_main_context_new (), FALSE, FALSE };
  WorkLog log = { 0, 0 };
  AgEngine *engine = ag_engine_new_for_context (thread.context);
  g_autoptr(AgTask) running = work_task_new (&log, 300);
  g_autoptr(AgTask) later = ag_task_new_sleep (0);
  GThread *owner = g_thread_new ("engine", iterate_until_stopped, &thread);

  while (!g_atomic_int_get (&thread.owned))
    g_usleep (1000);

  ag_engine_run_async (engine, running, NULL, NULL, NULL);
  g_usleep (50 * 1000);

  g_object_run_dispose (G_OBJECT (engine));
  g_assert_true (wait_until_finished (running));
  /* Run from a thread that is not the engine's, as a task in flight at
   * the disposal: cancelled, without its callback. */
  ag_engine_run_async (engine, later, NULL, NULL, NULL);
  g_assert_true (wait_until_finished (later));

  g_object_unref (engine);
  g_atomic_int_set (&thread.stop, TRUE);
  g_main_context_invoke (thread.context, nothing, NULL);
  g_thread_join (owner);
  g_assert_cmpint (ag_task_get_state (running), ==, AG_TASK_CANCELLED);
  g_assert_cmpint (ag_task_get_state (later), ==, AG_TASK_CANCELLED);
  g_clear_object (&running);
  g_assert_true (ag_engine_join_disposed (2000));
  g_main_context_unref (thread.context);
}

/* Nothing holds the tasks but the engine and the workers: once the join
 * returns, the functions have returned and no worker holds anything; what
 * they held is released on the engine's context, never on a worker. */
static void
test_join_disposed_waits_for_running_functions (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  WorkLog log = { 0, 0 };

  ag_engine_set_max_threads (fixture->engine, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(AgTask) task = work_task_new (&log, 300);

      ag_engine_run_async (fixture->engine, task, NULL, NULL, NULL);
    }
  ag_test_run_for (fixture->context, 50);
  g_object_run_dispose (G_OBJECT (fixture->engine));
  g_assert_cmpint (g_atomic_int_get (&log.n_finished), ==, 0);

  /* Too short a wait gives up while the functions still run. */
  g_assert_false (ag_engine_join_disposed (10));
  g_assert_cmpint (g_atomic_int_get (&log.n_finished), ==, 0);

  g_assert_true (ag_engine_join_disposed (-1));
  g_assert_cmpint (g_atomic_int_get (&log.n_finished), ==, 2);
  ag_test_run_until (fixture->context, g_atomic_int_get (&log.n_destroyed) == 2, 2000);
}

static void
count_callback (GObject      *source_object,
                GAsyncResult *result,
                gpointer      user_data)
{
  guint *n_done = user_data;

  (*n_done)++;
}

/* Threads that just ran out of work watch the queue for a moment before
 * they sleep: disposing the engine in that moment must still send them
 * away at once, not after their idle timeout. */
static void
test_join_disposed_does_not_wait_for_idle_threads (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  for (guint round = 0; round < 200; round++)
    {
      AgEngine *engine = ag_engine_new_for_context (fixture->context);
      guint n_done = 0;

      ag_engine_set_max_threads (engine, 4);
      for (guint i = 0; i < 4; i++)
        {
          g_autoptr(AgTask) task = ag_task_new (return_index_now, GINT_TO_POINTER (i), NULL);

          ag_engine_run_async (engine, task, NULL, count_callback, &n_done);
        }
      ag_test_run_until (fixture->context, n_done == 4, AG_TEST_SAFETY_MS);

      g_object_unref (engine);
      g_assert_true (ag_engine_join_disposed (2 * 1000));
    }
}

/* The last reference to an engine dropped on another thread while the
 * engine's thread runs its context: disposing there, beside a delivery in
 * progress, raced with it (callbacks got a freed engine). The disposal
 * happens on the engine's thread instead. */
typedef struct
{
  AgEngine    *engine;         /* the helper's reference, the last */
  AgTestLatch  in_context;     /* the engine's thread runs its context */
  AgTestLatch  dropped;
  GThread     *disposed_on;    /* atomic */
} LastUnref;

static void
engine_gone (gpointer  data,
             GObject  *where_the_engine_was)
{
  LastUnref *last = data;

  g_atomic_pointer_set (&last->disposed_on, g_thread_self ());
}

static gpointer
drop_last_reference (gpointer data)
{
  LastUnref *last = data;

  ag_test_latch_wait (&last->in_context);
  g_object_unref (last->engine);
  ag_test_latch_open (&last->dropped);
  return NULL;
}

static gboolean
hold_the_context (gpointer data)
{
  LastUnref *last = data;

  ag_test_latch_open (&last->in_context);
  ag_test_latch_wait (&last->dropped);
  return G_SOURCE_REMOVE;
}

static void
test_last_unref_on_another_thread_disposes_on_the_engine_thread (AgTestFixture *fixture,
                                                                 gconstpointer  data)
{
  LastUnref last = { 0 };
  g_autoptr(AgTask) task = ag_test_task_new_int_after (200, 3);   /* still running then */
  GThread *helper;

  last.engine = g_steal_pointer (&fixture->engine);
  ag_test_latch_init (&last.in_context);
  ag_test_latch_init (&last.dropped);
  g_object_weak_ref (G_OBJECT (last.engine), engine_gone, &last);
  ag_engine_run_async (last.engine, task, NULL, NULL, NULL);

  g_idle_add (hold_the_context, &last);
  helper = g_thread_new ("drops-the-engine", drop_last_reference, &last);
  ag_test_run_until (fixture->context, g_atomic_pointer_get (&last.disposed_on) != NULL,
                     AG_TEST_SAFETY_MS);
  g_thread_join (helper);

  g_assert_true (g_atomic_pointer_get (&last.disposed_on) == ag_test_main_thread ());
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_CANCELLED);
  ag_test_latch_clear (&last.dropped);
  ag_test_latch_clear (&last.in_context);
}

/* A task that finished keeps no engine once that engine is disposed: it
 * says it has none, and job controls on it do nothing, as on any ended job
 * (they used to read the freed engine). */
static void
job_returns_at_once (AgJob    *job,
                     gpointer  user_data)
{
  ag_task_return_int (AG_TASK (job), 42);
}

static void
test_finished_task_has_no_engine_once_it_is_disposed (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  g_autoptr(AgTask) task = ag_test_task_new_int_after (0, 1);
  g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, job_returns_at_once, NULL, NULL);
  g_autoptr(GError) error = NULL;
  GValue *value = ag_test_run_to_end (fixture, task, &error);

  g_assert_no_error (error);
  ag_test_value_free (value);
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (job)), AG_TEST_SAFETY_MS);
  g_assert_true (ag_task_get_engine (task) == fixture->engine);

  g_clear_object (&fixture->engine);
  g_assert_null (ag_task_get_engine (task));
  g_assert_null (ag_task_get_engine (AG_TASK (job)));
  g_assert_null (g_async_result_get_source_object (G_ASYNC_RESULT (task)));
  g_assert_cmpint (ag_task_get_int (task, NULL), ==, 1);

  ag_job_pause (job);
  ag_job_resume (job);
  ag_task_cancel (AG_TASK (job));
  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_SUCCEEDED);
}

static void
test_run_on_disposed_engine_fails_the_task_and_calls_back_with_it (AgTestFixture *fixture,
                                                     gconstpointer  data)
{
  WorkLog log = { 0, 0 };
  AgTask *task;
  AgTestOutcome outcome;

  g_object_run_dispose (G_OBJECT (fixture->engine));

  task = work_task_new (&log, 10);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &outcome);
  g_assert_cmpuint (outcome.n_calls, ==, 0);

  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_ENGINE_DISPOSED);
  g_assert_null (outcome.value);
  g_assert_true (outcome.thread == ag_test_main_thread ());
  /* The callback gets the task itself, which failed without running. */
  g_assert_true (outcome.result_task == task);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_FAILED);
  g_assert_error ((GError *) ag_task_get_error (task), AG_ERROR, AG_ERROR_ENGINE_DISPOSED);

  /* The work itself never ran. */
  ag_test_run_for (fixture->context, 100);
  g_assert_cmpint (g_atomic_int_get (&log.n_finished), ==, 0);
  g_assert_cmpuint (outcome.n_calls, ==, 1);

  ag_test_outcome_clear (&outcome);
  g_object_unref (task);
}

static void
test_run_null_task_is_rejected (AgTestFixture *fixture,
                                gconstpointer  data)
{
  AgTestOutcome outcome;

  ag_test_outcome_init (&outcome, fixture->engine);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*");
  ag_engine_run_async (fixture->engine, NULL, NULL, ag_test_outcome_callback, &outcome);
  g_test_assert_expected_messages ();
  ag_test_run_for (fixture->context, 50);
  g_assert_cmpuint (outcome.n_calls, ==, 0);
}

typedef struct
{
  guint n_calls;
  guint n_wrong;
  guint *seen;
} BurstCount;

static void
counting_work (AgTask       *task,
               gpointer      user_data,
               GCancellable *cancellable)
{
  ag_task_return_int (task, GPOINTER_TO_INT (user_data));
}

static void
burst_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  BurstCount *count = user_data;
  int value = ag_task_get_int (AG_TASK (result), NULL);

  count->n_calls++;
  count->seen[value]++;
  if (ag_task_get_state (AG_TASK (result)) != AG_TASK_SUCCEEDED)
    count->n_wrong++;
}

/* More tasks than threads in one go take the batched path: each must run
 * and call back exactly once. */
static void
test_burst_of_submissions_each_complete_once (AgTestFixture *fixture,
                                              gconstpointer  data)
{
  const guint n = 5000;
  BurstCount count = { 0, 0, g_new0 (guint, n) };

  ag_engine_set_max_threads (fixture->engine, 2);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(AgTask) task = ag_task_new (counting_work, GUINT_TO_POINTER (i), NULL);

      ag_engine_run_async (fixture->engine, task, NULL, burst_done, &count);
    }
  ag_test_run_until (fixture->context, count.n_calls == n, AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 50);

  g_assert_cmpuint (count.n_calls, ==, n);
  g_assert_cmpuint (count.n_wrong, ==, 0);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (count.seen[i], ==, 1);

  g_free (count.seen);
}

/* Submitting from other threads */

#define N_PER_SUBMITTER 50000
#define N_SUBMITTERS    4   /* three threads and the test's own */

typedef struct
{
  AgEngine   *engine;
  BurstCount *count;
  guint       first;
  int        *n_submitted;   /* atomic */
} Submitter;

static void
burst_done_on_main_thread (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  BurstCount *count = user_data;

  if (g_thread_self () != ag_test_main_thread ())
    count->n_wrong++;
  burst_done (source, result, user_data);
}

static gpointer
submit_many (gpointer data)
{
  Submitter *submitter = data;

  for (guint i = 0; i < N_PER_SUBMITTER; i++)
    {
      g_autoptr(AgTask) task = ag_task_new (counting_work,
                                            GUINT_TO_POINTER (submitter->first + i), NULL);

      ag_engine_run_async (submitter->engine, task, NULL, burst_done_on_main_thread,
                           submitter->count);
    }
  g_atomic_int_inc (submitter->n_submitted);

  return NULL;
}

/* Like g_task_run_in_thread(): a task may be run from any thread, and its
 * callback still runs once, on the engine's context. */
static void
test_run_async_from_several_threads_calls_back_on_the_engine_thread (AgTestFixture *fixture,
                                                                    gconstpointer  data)
{
  const guint n = N_PER_SUBMITTER * N_SUBMITTERS;
  BurstCount count = { 0, 0, g_new0 (guint, n) };
  Submitter submitters[N_SUBMITTERS];
  GThread *threads[N_SUBMITTERS - 1];
  int n_submitted = 0;

  for (guint t = 0; t < N_SUBMITTERS; t++)
    submitters[t] = (Submitter) { fixture->engine, &count, t * N_PER_SUBMITTER, &n_submitted };
  for (guint t = 0; t < N_SUBMITTERS - 1; t++)
    threads[t] = g_thread_new ("submitter", submit_many, &submitters[t]);
  submit_many (&submitters[N_SUBMITTERS - 1]);

  ag_test_run_until (fixture->context,
                     g_atomic_int_get (&n_submitted) == N_SUBMITTERS && count.n_calls == n,
                     3 * AG_TEST_SAFETY_MS);
  for (guint t = 0; t < N_SUBMITTERS - 1; t++)
    g_thread_join (threads[t]);
  ag_test_run_for (fixture->context, 50);

  g_assert_cmpuint (count.n_calls, ==, n);
  g_assert_cmpuint (count.n_wrong, ==, 0);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (count.seen[i], ==, 1);

  g_free (count.seen);
}

typedef struct
{
  AgEngine *engine;
  AgTask   *task;
  gboolean  waited;
  int       value;
  int       done;   /* atomic */
} RunAndWait;

static gpointer
run_and_wait (gpointer data)
{
  RunAndWait *run = data;
  g_autoptr(GError) error = NULL;

  ag_engine_run_async (run->engine, run->task, NULL, NULL, NULL);
  run->waited = ag_task_wait (run->task, 5 * 1000, &error);
  g_assert_no_error (error);
  run->value = ag_task_get_int (run->task, NULL);
  g_atomic_int_set (&run->done, TRUE);

  return NULL;
}

/* A thread that runs a task may block until the engine's thread has
 * delivered it, even before the engine's thread has picked it up. */
static void
test_thread_can_wait_for_a_task_it_ran (AgTestFixture *fixture,
                                        gconstpointer  data)
{
  RunAndWait run = { fixture->engine, ag_task_new (counting_work, GINT_TO_POINTER (17), NULL) };
  GThread *thread = g_thread_new ("runner", run_and_wait, &run);

  ag_test_run_until (fixture->context, g_atomic_int_get (&run.done), AG_TEST_SAFETY_MS);
  g_thread_join (thread);

  g_assert_true (run.waited);
  g_assert_cmpint (run.value, ==, 17);
  g_object_unref (run.task);
}

static void
sleepy_work (AgTask       *task,
             gpointer      user_data,
             GCancellable *cancellable)
{
  g_usleep (3000);
  ag_task_return_int (task, GPOINTER_TO_INT (user_data));
}

/* Changing max-threads while work is queued neither loses nor repeats it,
 * including a switch to serial mode and back. */
static void
test_max_threads_change_mid_flight_keeps_all_work (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  const guint n = 60;
  BurstCount count = { 0, 0, g_new0 (guint, n) };

  ag_engine_set_max_threads (fixture->engine, 1);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(AgTask) task = ag_task_new (sleepy_work, GUINT_TO_POINTER (i), NULL);

      ag_engine_run_async (fixture->engine, task, NULL, burst_done, &count);
      if (i == n / 3)
        ag_engine_set_max_threads (fixture->engine, 3);
      else if (i == n / 2)
        ag_engine_set_max_threads (fixture->engine, 0);
      else if (i == 2 * n / 3)
        ag_engine_set_max_threads (fixture->engine, 2);
    }
  ag_test_run_until (fixture->context, count.n_calls == n, AG_TEST_SAFETY_MS);

  g_assert_cmpuint (count.n_wrong, ==, 0);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (count.seen[i], ==, 1);

  g_free (count.seen);
}

static guint
max_concurrent_of_four (AgTestFixture *fixture)
{
  g_autoptr(AgMultiTask) multi = ag_multi_task_new ();
  AgTestOutcome outcome;

  for (int i = 0; i < 4; i++)
    {
      g_autoptr(AgTask) child = ag_test_task_new_int_after (150, i);

      ag_multi_task_add (multi, child);
    }

  ag_test_reset_worker_counts ();
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);
  ag_test_outcome_clear (&outcome);

  return g_atomic_int_get (&ag_test_max_in_worker);
}

/* Threads left over from earlier, limited work must not be counted twice:
 * new work gets every thread the engine allows. */
static void
test_threads_left_from_earlier_work_do_not_limit_new_work (AgTestFixture *fixture,
                                                            gconstpointer  data)
{
  g_autoptr(AgMultiTask) limited = ag_multi_task_new ();
  AgTestOutcome outcome;

  ag_engine_set_max_threads (fixture->engine, 8);
  for (int i = 0; i < 4; i++)
    {
      g_autoptr(AgTask) child = ag_test_task_new_int_after (100, i);

      ag_multi_task_add (limited, child);
    }
  ag_multi_task_set_max_workers (limited, 2);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (limited), NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  ag_test_outcome_clear (&outcome);

  g_assert_cmpuint (max_concurrent_of_four (fixture), ==, 4);
}

/* Lowering max-threads bounds the work that runs at once from then on,
 * even with more threads still alive. (The work sleeps: with
 * max-blocked-threads 0, max-threads is a strict limit on threads.) */
static void
test_lowered_thread_limit_bounds_work_at_once (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  ag_engine_set_max_blocked_threads (fixture->engine, 0);
  ag_engine_set_max_threads (fixture->engine, 8);
  g_assert_cmpuint (max_concurrent_of_four (fixture), ==, 4);

  ag_engine_set_max_threads (fixture->engine, 2);
  g_assert_cmpuint (max_concurrent_of_four (fixture), <=, 2);
}

/* Blocked threads */

typedef struct
{
  GMutex  lock;
  GCond   changed;
  guint   n_arrived;
  guint   n_expected;
  guint   n_ran;
  guint   n_met;      /* functions that saw everyone arrive */
} Rendezvous;

/* Waits, blocked, until every function of the rendezvous runs at once, or
 * gives up after a while. */
static void
meet_everyone (AgTask       *task,
               gpointer      user_data,
               GCancellable *cancellable)
{
  Rendezvous *r = user_data;
  gint64 deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  gboolean met;

  g_mutex_lock (&r->lock);
  r->n_arrived++;
  g_cond_broadcast (&r->changed);
  while (r->n_arrived < r->n_expected && g_cond_wait_until (&r->changed, &r->lock, deadline))
    ;
  met = r->n_arrived >= r->n_expected;
  r->n_met += met;
  r->n_ran++;
  g_mutex_unlock (&r->lock);

  ag_task_return_boolean (task, met);
}

static void
count_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  (*(guint *) user_data)++;
}

/* Work blocked in its function (here each waits until all eight run, as
 * downloads wait for the network) does not hold max-threads: threads
 * start for the work queued behind it, so all eight meet. With a strict
 * limit only two would ever run at once and each would give up. */
static void
test_blocked_work_lets_waiting_work_start (AgTestFixture *fixture,
                                           gconstpointer  data)
{
  Rendezvous r = { .n_expected = 8 };
  guint n_done = 0;

  g_mutex_init (&r.lock);
  g_cond_init (&r.changed);
  ag_engine_set_max_threads (fixture->engine, 2);

  for (guint i = 0; i < r.n_expected; i++)
    {
      g_autoptr(AgTask) task = ag_task_new (meet_everyone, &r, NULL);

      ag_engine_run_async (fixture->engine, task, NULL, count_done, &n_done);
    }
  ag_test_run_until (fixture->context, n_done == r.n_expected, AG_TEST_SAFETY_MS * 2);

  g_assert_cmpuint (n_done, ==, r.n_expected);
  g_assert_cmpuint (r.n_met, ==, r.n_expected);

  g_mutex_clear (&r.lock);
  g_cond_clear (&r.changed);
}

typedef struct
{
  int    running;
  int    most;
} Concurrency;

/* Keeps a processor busy for 150 ms. */
static void
spin_a_while (AgTask       *task,
              gpointer      user_data,
              GCancellable *cancellable)
{
  Concurrency *c = user_data;
  int now = g_atomic_int_add (&c->running, 1) + 1;
  int most = g_atomic_int_get (&c->most);
  gint64 end = g_get_monotonic_time () + 150 * G_TIME_SPAN_MILLISECOND;
  volatile guint64 sink = 0;

  while (now > most && !g_atomic_int_compare_and_exchange (&c->most, most, now))
    most = g_atomic_int_get (&c->most);

  while (g_get_monotonic_time () < end)
    sink++;

  g_atomic_int_add (&c->running, -1);
  ag_task_return_boolean (task, TRUE);
}

/* Processor-bound work never looks blocked, even when a busy machine keeps
 * it waiting for a processor: it keeps to max-threads. */
static void
test_processor_bound_work_keeps_to_max_threads (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  Concurrency c = { 0, 0 };
  guint n_done = 0;

  ag_engine_set_max_threads (fixture->engine, 2);
  for (guint i = 0; i < 6; i++)
    {
      g_autoptr(AgTask) task = ag_task_new (spin_a_while, &c, NULL);

      ag_engine_run_async (fixture->engine, task, NULL, count_done, &n_done);
    }
  ag_test_run_until (fixture->context, n_done == 6, AG_TEST_SAFETY_MS);

  g_assert_cmpuint (n_done, ==, 6);
  g_assert_cmpint (g_atomic_int_get (&c.most), ==, 2);
}

/* Lowering max-blocked-threads to 0 makes max-threads strict again for
 * work that sleeps. */
static void
test_no_blocked_threads_makes_max_threads_strict (AgTestFixture *fixture,
                                                  gconstpointer  data)
{
  ag_engine_set_max_threads (fixture->engine, 2);
  g_assert_cmpuint (max_concurrent_of_four (fixture), ==, 4);

  ag_engine_set_max_blocked_threads (fixture->engine, 0);
  g_assert_cmpuint (max_concurrent_of_four (fixture), <=, 2);
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/engine/default-properties-match-the-contract",
               test_default_properties_match_the_contract);
  ag_test_add ("/engine/blocked-work-lets-waiting-work-start",
               test_blocked_work_lets_waiting_work_start);
  ag_test_add ("/engine/processor-bound-work-keeps-to-max-threads",
               test_processor_bound_work_keeps_to_max_threads);
  ag_test_add ("/engine/no-blocked-threads-makes-max-threads-strict",
               test_no_blocked_threads_makes_max_threads_strict);
  ag_test_add ("/engine/setters-notify-only-on-change",
               test_setters_notify_only_on_change);
  ag_test_add ("/engine/negative-budget-is-rejected",
               test_negative_budget_is_rejected);
  ag_test_add ("/engine/out-of-range-priority-is-rejected",
               test_out_of_range_priority_is_rejected);
  ag_test_add ("/engine/out-of-range-thread-limits-are-rejected",
               test_out_of_range_thread_limits_are_rejected);
  g_test_add_func ("/engine/get-default-is-one-engine-on-the-default-context",
                   test_get_default_is_one_engine_on_the_default_context);
  g_test_add_func ("/engine/new-binds-the-thread-default-context",
                   test_new_binds_the_thread_default_context);
  g_test_add_func ("/engine/delivers-on-the-thread-that-runs-its-context",
                   test_delivers_on_the_thread_that_runs_its_context);
  ag_test_add ("/engine/is-own-thread-tells-the-thread-that-may-act-for-it",
               test_is_own_thread_tells_the_thread_that_may_act_for_it);
  ag_test_add ("/engine/callback-gets-engine-as-source-and-task-as-result",
               test_callback_gets_engine_as_source_and_task_as_result);
  ag_test_add ("/engine/callback-never-runs-inside-run-async",
               test_callback_never_runs_inside_run_async);
  ag_test_add ("/engine/serial-mode-runs-on-calling-thread-in-fifo-order",
               test_serial_mode_runs_on_calling_thread_in_fifo_order);
  ag_test_add ("/engine/delivery-stops-after-budget-and-lets-redraw-run",
               test_delivery_stops_after_budget_and_lets_redraw_run);
  ag_test_add ("/engine/priority-property-orders-delivery-against-other-sources",
               test_priority_property_orders_delivery_against_other_sources);
  ag_test_add ("/engine/always-ready-default-source-does-not-starve-delivery",
               test_always_ready_default_source_does_not_starve_delivery);
  ag_test_add ("/engine/zero-max-delivery-delay-leaves-delivery-to-priority",
               test_zero_max_delivery_delay_leaves_delivery_to_priority);
  ag_test_add ("/engine/dispose-with-work-in-flight-runs-no-callback",
               test_dispose_with_work_in_flight_runs_no_callback);
  ag_test_add ("/engine/run-dispose-with-work-in-flight-runs-no-callback",
               test_run_dispose_with_work_in_flight_runs_no_callback);
  ag_test_add ("/engine/run-dispose-from-another-thread-disposes-on-the-engines-thread",
               test_run_dispose_from_another_thread_disposes_on_the_engines_thread);
  ag_test_add ("/engine/join-disposed-waits-for-running-functions",
               test_join_disposed_waits_for_running_functions);
  ag_test_add ("/engine/join-disposed-does-not-wait-for-idle-threads",
               test_join_disposed_does_not_wait_for_idle_threads);
  ag_test_add ("/engine/last-unref-on-another-thread-disposes-on-the-engine-thread",
               test_last_unref_on_another_thread_disposes_on_the_engine_thread);
  ag_test_add ("/engine/finished-task-has-no-engine-once-it-is-disposed",
               test_finished_task_has_no_engine_once_it_is_disposed);
  ag_test_add ("/engine/run-on-disposed-engine-fails-the-task-and-calls-back-with-it",
               test_run_on_disposed_engine_fails_the_task_and_calls_back_with_it);
  ag_test_add ("/engine/burst-of-submissions-each-complete-once",
               test_burst_of_submissions_each_complete_once);
  ag_test_add ("/engine/run-async-from-several-threads-calls-back-on-the-engine-thread",
               test_run_async_from_several_threads_calls_back_on_the_engine_thread);
  ag_test_add ("/engine/thread-can-wait-for-a-task-it-ran",
               test_thread_can_wait_for_a_task_it_ran);
  ag_test_add ("/engine/max-threads-change-mid-flight-keeps-all-work",
               test_max_threads_change_mid_flight_keeps_all_work);
  ag_test_add ("/engine/threads-left-from-earlier-work-do-not-limit-new-work",
               test_threads_left_from_earlier_work_do_not_limit_new_work);
  ag_test_add ("/engine/lowered-thread-limit-bounds-work-at-once",
               test_lowered_thread_limit_bounds_work_at_once);
  ag_test_add ("/engine/run-null-task-is-rejected",
               test_run_null_task_is_rejected);

  return g_test_run ();
}
