/* ag-engine.c: the engine object, its properties and its life
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-engine-internal.h"
#include "ag-delivery-source-private.h"
#include "ag-error.h"
#include "ag-wait-private.h"

/**
 * AgEngine:
 *
 * Runs slow work off the GUI thread and brings the results back to it
 * without making the GUI drop a frame.
 *
 * An engine belongs to one [struct@GLib.MainContext], usually the GUI's. It
 * owns a pool of worker threads and a single delivery source on its context.
 * Work is described by a [class@Task]; [method@Engine.run_async] runs it,
 * and the callback runs on the engine's context once the task has finished:
 *
 * ```c
 * static void
 * count_words (AgTask       *task,
 *              gpointer      user_data,
 *              GCancellable *cancellable)
 * {
 *   const char *path = user_data;
 *   g_autoptr(GError) error = NULL;
 *   g_autofree char *text = NULL;
 *
 *   // A worker thread: slow work is fine here, GTK calls are not.
 *   if (!g_file_get_contents (path, &text, NULL, &error))
 *     ag_task_return_error (task, g_steal_pointer (&error));
 *   else
 *     ag_task_return_int (task, count (text));
 * }
 *
 * static void
 * counted (GObject      *engine,
 *          GAsyncResult *result,
 *          gpointer      user_data)
 * {
 *   GtkLabel *label = user_data;
 *   g_autoptr(GError) error = NULL;
 *   g_autofree char *text = NULL;
 *   int words;
 *
 *   // Back on the GUI thread.
 *   words = ag_task_get_int (AG_TASK (result), &error);
 *   if (error != NULL)
 *     gtk_label_set_text (label, error->message);
 *   else
 *     gtk_label_set_text (label, text = g_strdup_printf ("%d words", words));
 * }
 *
 * g_autoptr(AgTask) task = ag_task_new (count_words, g_strdup (path), g_free);
 * ag_engine_run_async (ag_engine_get_default (), task, NULL, counted, label);
 * ```
 *
 * Results come back through one [struct@GLib.Source] per engine. Workers
 * push finished work onto a lock-free queue and wake the context once per
 * batch, not once per result. The source runs at [property@Engine:priority],
 * by default below GTK's redraw priority, and each dispatch stops after
 * [property@Engine:budget-ms] milliseconds, so a frame that falls due is
 * drawn before delivery continues, however many results are waiting.
 *
 * With [property@Engine:max-threads] set to 0 the engine is in serial mode:
 * thread work runs on the engine's own thread, inside delivery, in the order
 * it was submitted. Tests use it for determinism.
 *
 * The engine's context must be iterated for it to work: results are
 * delivered there, and a burst of submissions is handed to the threads at
 * the start of its next iteration.
 *
 * Disposing an engine shuts it down: unfinished tasks end as cancelled, their
 * callbacks are not invoked, and results that workers finish later are
 * dropped. Unfinished jobs end as cancelled too, without notifications;
 * the one code that still runs is a C job's own: one suspended in an await
 * is resumed once, inside the disposal, with %G_IO_ERROR_CANCELLED, so
 * that it frees what its stack owns (see ag_engine_spawn()).
 *
 * Since: 1.0
 */


G_DEFINE_FINAL_TYPE (AgEngine, ag_engine, G_TYPE_OBJECT)


enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_MAX_THREADS,
  PROP_MAX_BLOCKED_THREADS,
  PROP_PRIORITY,
  PROP_BUDGET_MS,
  PROP_MAX_DELIVERY_DELAY_MS,
  PROP_JOB_STACK_SIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define MAX_THREADS_LIMIT 1024
#define MAX_BUDGET_MS     1000
#define MIN_STACK_SIZE    (16 * 1024)
#define MAX_STACK_SIZE    (256 * 1024 * 1024)

static void
ag_engine_constructed (GObject *object)
{
  AgEngine *self = AG_ENGINE (object);

  G_OBJECT_CLASS (ag_engine_parent_class)->constructed (object);

  if (self->context == NULL)
    self->context = g_main_context_ref_thread_default ();
  self->home_thread = g_thread_self ();

  self->queue = _ag_completion_queue_new (self->context);
  self->executor = _ag_executor_new (self->context, self->queue, g_get_num_processors (),
                                     AG_ENGINE_DEFAULT_MAX_BLOCKED_THREADS);
  self->delivery = _ag_delivery_source_new (self, self->queue);
  g_source_set_priority (self->delivery, self->priority);
  _ag_delivery_source_set_budget_us (self->delivery, self->budget_ms * G_TIME_SPAN_MILLISECOND);
  _ag_delivery_source_set_max_delay_ms (self->delivery, self->max_delivery_delay_ms);
  _ag_delivery_source_attach (self->delivery, self->context);
  /* Channels find the engine through the context (until dispose closes
   * the queue), to send their notifications and callbacks home by it. */
  _ag_completion_queue_publish (self->queue);
}

/* The disposal another thread asked for, on the engine's thread; then the
 * reference that carried it here goes (the last one, if that thread
 * dropped its own). */
static gboolean
dispose_at_home (gpointer data)
{
  g_object_run_dispose (data);
  g_object_unref (data);
  return G_SOURCE_REMOVE;
}

static void
ag_engine_dispose (GObject *object)
{
  AgEngine *self = AG_ENGINE (object);
  gboolean acquired = FALSE;

  /* Another thread disposes the engine (g_object_run_dispose(), or the
   * last reference went there: a helper that ran tasks and waited for
   * them) while the engine's thread runs the context: the disposal must
   * not race its deliveries, so it happens on the engine's thread at its
   * next iteration, and the engine lives until then. If nobody runs the
   * context, this thread holds it while it disposes. */
  if (!g_atomic_int_get (&self->disposed) && !g_main_context_is_owner (self->context))
    {
      acquired = g_main_context_acquire (self->context);
      if (!acquired)
        {
          GSource *source = g_idle_source_new ();

          g_source_set_priority (source, G_PRIORITY_HIGH);
          g_source_set_callback (source, dispose_at_home, g_object_ref (self), NULL);
          g_source_set_static_name (source, "[asyncgui] engine disposed at home");
          g_source_attach (source, self->context);
          g_source_unref (source);
          return;
        }
    }

  if (!g_atomic_int_get (&self->disposed))
    {
      g_atomic_int_set (&self->disposed, TRUE);

      /* Order matters: first nothing more can be delivered, then every
       * unfinished task is ended quietly, then the threads are let go. */
      _ag_completion_queue_close (self->queue);
      _ag_delivery_source_detach_owner (self->delivery);

      while (self->tracked != NULL)
        {
          AgTracked *tracked = self->tracked;

          tracked->abandon (tracked);
          g_assert (self->tracked != tracked);
        }

      g_source_destroy (self->delivery);
      g_clear_pointer (&self->delivery, g_source_unref);
      g_clear_pointer (&self->executor, _ag_executor_free);
      _ag_engine_shut_extensions_down (self);
    }

  if (acquired)
    g_main_context_release (self->context);

  G_OBJECT_CLASS (ag_engine_parent_class)->dispose (object);
}

static void
ag_engine_finalize (GObject *object)
{
  AgEngine *self = AG_ENGINE (object);

  g_clear_pointer (&self->queue, _ag_completion_queue_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  _ag_engine_free_extensions (self);

  G_OBJECT_CLASS (ag_engine_parent_class)->finalize (object);
}

static void
ag_engine_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  AgEngine *self = AG_ENGINE (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_boxed (value, self->context);
      break;
    case PROP_MAX_THREADS:
      g_value_set_int (value, ag_engine_get_max_threads (self));
      break;
    case PROP_MAX_BLOCKED_THREADS:
      g_value_set_int (value, ag_engine_get_max_blocked_threads (self));
      break;
    case PROP_PRIORITY:
      g_value_set_int (value, self->priority);
      break;
    case PROP_BUDGET_MS:
      g_value_set_int (value, self->budget_ms);
      break;
    case PROP_MAX_DELIVERY_DELAY_MS:
      g_value_set_uint (value, self->max_delivery_delay_ms);
      break;
    case PROP_JOB_STACK_SIZE:
      g_value_set_uint (value, self->job_stack_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_engine_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  AgEngine *self = AG_ENGINE (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      self->context = g_value_dup_boxed (value);
      break;
    case PROP_MAX_THREADS:
      ag_engine_set_max_threads (self, g_value_get_int (value));
      break;
    case PROP_MAX_BLOCKED_THREADS:
      ag_engine_set_max_blocked_threads (self, g_value_get_int (value));
      break;
    case PROP_PRIORITY:
      ag_engine_set_priority (self, g_value_get_int (value));
      break;
    case PROP_BUDGET_MS:
      ag_engine_set_budget_ms (self, g_value_get_int (value));
      break;
    case PROP_MAX_DELIVERY_DELAY_MS:
      ag_engine_set_max_delivery_delay_ms (self, g_value_get_uint (value));
      break;
    case PROP_JOB_STACK_SIZE:
      ag_engine_set_job_stack_size (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_engine_class_init (AgEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = ag_engine_constructed;
  object_class->dispose = ag_engine_dispose;
  object_class->finalize = ag_engine_finalize;
  object_class->get_property = ag_engine_get_property;
  object_class->set_property = ag_engine_set_property;

  /**
   * AgEngine:context:
   *
   * The main context results are delivered on. Unset at construction, it is
   * the thread-default context of the constructing thread.
   *
   * Since: 1.0
   */
  properties[PROP_CONTEXT] =
    g_param_spec_boxed ("context", NULL, NULL,
                        G_TYPE_MAIN_CONTEXT,
                        (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * AgEngine:max-threads:
   *
   * How many worker threads may run thread work at once, not counting
   * threads blocked in their work (see
   * [property@Engine:max-blocked-threads]). The default is the number of
   * processors. 0 is serial mode: thread work runs on the engine's thread,
   * inside delivery, in submission order.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_THREADS] =
    g_param_spec_int ("max-threads", NULL, NULL,
                      0, MAX_THREADS_LIMIT, g_get_num_processors (),
                      (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgEngine:max-blocked-threads:
   *
   * How many more worker threads than [property@Engine:max-threads] may run
   * while others are blocked. A function that sleeps, or waits for I/O or
   * a lock, leaves its processor idle; so while work waits and every
   * thread is busy, the engine looks every few milliseconds at each busy
   * thread, and one that is asleep and has barely used a processor does
   * not count against max-threads. Eight functions that each wait a
   * quarter of a second for the network then take about a quarter of a
   * second on two processors, not a whole one, while processor-bound work
   * keeps to max-threads (a function that waited first and then computes
   * counts from its next look: for a while there may be up to this many
   * more threads computing). Threads started this way leave when the blocked
   * ones are busy again or the work runs out. 0 makes max-threads a strict
   * limit on threads. The default is %AG_ENGINE_DEFAULT_MAX_BLOCKED_THREADS.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_BLOCKED_THREADS] =
    g_param_spec_int ("max-blocked-threads", NULL, NULL,
                      0, MAX_THREADS_LIMIT, AG_ENGINE_DEFAULT_MAX_BLOCKED_THREADS,
                      (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgEngine:priority:
   *
   * The priority results are delivered at. The default,
   * %AG_ENGINE_DEFAULT_PRIORITY, is below GTK's redraw priority, so frames
   * are drawn before more results are delivered.
   *
   * Since: 1.0
   */
  properties[PROP_PRIORITY] =
    g_param_spec_int ("priority", NULL, NULL,
                      G_PRIORITY_HIGH, G_PRIORITY_LOW, AG_ENGINE_DEFAULT_PRIORITY,
                      (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgEngine:budget-ms:
   *
   * How many milliseconds one delivery dispatch may spend on the engine's
   * thread before it yields to the main loop. At least one result is
   * delivered per dispatch, so 0 means one at a time.
   *
   * Since: 1.0
   */
  properties[PROP_BUDGET_MS] =
    g_param_spec_int ("budget-ms", NULL, NULL,
                      0, MAX_BUDGET_MS, AG_ENGINE_DEFAULT_BUDGET_MS,
                      (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgEngine:max-delivery-delay-ms:
   *
   * How long, in milliseconds, results may wait while sources of higher
   * priority keep the main loop too busy to deliver them. A source that is
   * always ready — a busy idle, a Qt timer of 0 ms — would otherwise hold
   * results back for good. Once results have waited this long without a
   * turn, the engine delivers one budget's worth ahead of sources of up to
   * %G_PRIORITY_DEFAULT, then goes back to its own priority. 0 turns this
   * off: delivery then waits for the main loop to have nothing more
   * important to do.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_DELIVERY_DELAY_MS] =
    g_param_spec_uint ("max-delivery-delay-ms", NULL, NULL,
                       0, 60 * 1000, AG_ENGINE_DEFAULT_MAX_DELIVERY_DELAY_MS,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgEngine:job-stack-size:
   *
   * The stack size, in bytes, of each job started with ag_engine_spawn():
   * from 16 KiB to 256 MiB, rounded up to whole pages; 1 MiB by default.
   * Stacks are mapped lazily, so only what a job touches costs memory, and
   * 256 KiB that fault below each turn an overflow into a crash at the
   * spot, even through a frame larger than a page. Each job takes two
   * memory mappings, and Linux allows a process 65,530 by default: some
   * 30,000 jobs at once at most.
   *
   * Since: 1.0
   */
  properties[PROP_JOB_STACK_SIZE] =
    g_param_spec_uint ("job-stack-size", NULL, NULL,
                       MIN_STACK_SIZE, MAX_STACK_SIZE, AG_ENGINE_DEFAULT_JOB_STACK_SIZE,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ag_engine_init (AgEngine *self)
{
  self->priority = AG_ENGINE_DEFAULT_PRIORITY;
  self->budget_ms = AG_ENGINE_DEFAULT_BUDGET_MS;
  self->max_delivery_delay_ms = AG_ENGINE_DEFAULT_MAX_DELIVERY_DELAY_MS;
  self->job_stack_size = AG_ENGINE_DEFAULT_JOB_STACK_SIZE;
}

/**
 * ag_engine_new:
 *
 * Creates an engine that delivers on the thread-default main context of the
 * calling thread.
 *
 * Thread: any; the engine delivers on that thread's thread-default context.
 *
 * Returns: (transfer full): a new engine
 *
 * Since: 1.0
 */
AgEngine *
ag_engine_new (void)
{
  return g_object_new (AG_TYPE_ENGINE, NULL);
}

/**
 * ag_engine_new_for_context:
 * @context: (nullable): the main context to deliver on, or %NULL for the
 *   global default context
 *
 * Creates an engine that delivers on @context.
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new engine
 *
 * Since: 1.0
 */
AgEngine *
ag_engine_new_for_context (GMainContext *context)
{
  if (context == NULL)
    context = g_main_context_default ();

  return g_object_new (AG_TYPE_ENGINE, "context", context, NULL);
}

/**
 * ag_engine_get_default:
 *
 * Gets the engine bound to the global default main context, the one GTK
 * applications run. It is created on first use and lives as long as the
 * process.
 *
 * Thread: any.
 *
 * Returns: (transfer none): the default engine
 *
 * Since: 1.0
 */
AgEngine *
ag_engine_get_default (void)
{
  static AgEngine *default_engine;

  if (g_once_init_enter (&default_engine))
    g_once_init_leave (&default_engine,
                       ag_engine_new_for_context (g_main_context_default ()));

  return default_engine;
}

/**
 * ag_engine_join_disposed:
 * @timeout_ms: how long to wait at most, in milliseconds; -1 for no limit
 *
 * Waits until the worker threads of every engine that has been disposed
 * have finished what they were running and left. Disposing an engine does
 * not wait for them: it cancels the tasks, and a function that was already
 * running finishes on its own; what its task held is then released on the
 * engine's context, at its next iteration.
 *
 * A language binding whose interpreter goes away at exit disposes the
 * engines it used and then calls this, so that no thread calls its
 * functions or frees their data once the interpreter is gone. A function
 * that does not return keeps the wait going until @timeout_ms.
 *
 * Thread: any but an engine's worker thread (it would wait for itself).
 *
 * Returns: %TRUE once those threads have all left, %FALSE if @timeout_ms
 *   passed first
 *
 * Since: 1.0
 */
gboolean
ag_engine_join_disposed (int timeout_ms)
{
  g_return_val_if_fail (!_ag_executor_on_worker (), FALSE);

  return _ag_executor_join_freed (timeout_ms < 0 ? -1 : g_get_monotonic_time () +
                                                       timeout_ms * G_TIME_SPAN_MILLISECOND);
}

/**
 * ag_engine_get_context:
 * @self: an engine
 *
 * Gets the main context results are delivered on.
 *
 * Thread: any.
 *
 * Returns: (transfer none): the engine's main context
 *
 * Since: 1.0
 */
GMainContext *
ag_engine_get_context (AgEngine *self)
{
  g_return_val_if_fail (AG_IS_ENGINE (self), NULL);

  return self->context;
}

/**
 * ag_engine_is_own_thread:
 * @self: an engine
 *
 * Checks whether the calling thread is the engine's: the one that iterates
 * its context or, while no thread does, the one that made the engine. The
 * calls documented "Thread: the engine's" (ag_job_new(), pausing and
 * resuming a job, the setters) belong there; elsewhere they are
 * programming errors. Bindings ask this to raise an error of their own
 * instead. The answer holds while the context's owner stays the same.
 *
 * Thread: any.
 *
 * Returns: %TRUE if the calling thread is the engine's
 *
 * Since: 1.0
 */
gboolean
ag_engine_is_own_thread (AgEngine *self)
{
  g_return_val_if_fail (AG_IS_ENGINE (self), FALSE);

  return _ag_engine_is_own_thread (self);
}

/**
 * ag_engine_get_max_threads:
 * @self: an engine
 *
 * Gets how many worker threads may run at once; 0 is serial mode.
 *
 * Thread: any.
 *
 * Returns: the thread limit
 *
 * Since: 1.0
 */
int
ag_engine_get_max_threads (AgEngine *self)
{
  g_return_val_if_fail (AG_IS_ENGINE (self), 0);

  if (self->executor == NULL)
    return 0;

  return _ag_executor_get_max_threads (self->executor);
}

/**
 * ag_engine_set_max_threads:
 * @self: an engine
 * @max_threads: how many worker threads may run at once, from 0 (serial
 *   mode) to 1024
 *
 * Sets how many worker threads may run thread work at once. Work already
 * handed to the threads finishes there; work submitted in serial mode runs
 * on the engine's thread.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_engine_set_max_threads (AgEngine *self,
                           int       max_threads)
{
  g_return_if_fail (AG_IS_ENGINE (self));
  g_return_if_fail (_ag_engine_is_own_thread (self));
  g_return_if_fail (max_threads >= 0 && max_threads <= MAX_THREADS_LIMIT);

  if (self->executor == NULL || _ag_executor_get_max_threads (self->executor) == max_threads)
    return;

  _ag_executor_set_max_threads (self->executor, max_threads);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_THREADS]);
}

/**
 * ag_engine_get_max_blocked_threads:
 * @self: an engine
 *
 * Gets how many worker threads beyond [property@Engine:max-threads] may run
 * while others are blocked in their work.
 *
 * Thread: any.
 *
 * Returns: the number of extra threads; 0 when max-threads is strict
 *
 * Since: 1.0
 */
int
ag_engine_get_max_blocked_threads (AgEngine *self)
{
  g_return_val_if_fail (AG_IS_ENGINE (self), 0);

  if (self->executor == NULL)
    return 0;

  return _ag_executor_get_max_blocked (self->executor);
}

/**
 * ag_engine_set_max_blocked_threads:
 * @self: an engine
 * @max_blocked_threads: how many worker threads beyond max-threads may run
 *   while others are blocked, from 0 (max-threads is strict) to 1024
 *
 * Sets how many worker threads beyond [property@Engine:max-threads] may run
 * while others are blocked in their work (asleep, or waiting for I/O or a
 * lock). Lowering it lets the extra threads finish what they run; they
 * take no more work.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_engine_set_max_blocked_threads (AgEngine *self,
                                   int       max_blocked_threads)
{
  g_return_if_fail (AG_IS_ENGINE (self));
  g_return_if_fail (_ag_engine_is_own_thread (self));
  g_return_if_fail (max_blocked_threads >= 0 && max_blocked_threads <= MAX_THREADS_LIMIT);

  if (self->executor == NULL
      || _ag_executor_get_max_blocked (self->executor) == max_blocked_threads)
    return;

  _ag_executor_set_max_blocked (self->executor, max_blocked_threads);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_BLOCKED_THREADS]);
}

/**
 * ag_engine_get_priority:
 * @self: an engine
 *
 * Gets the priority results are delivered at.
 *
 * Thread: any.
 *
 * Returns: the delivery priority
 *
 * Since: 1.0
 */
int
ag_engine_get_priority (AgEngine *self)
{
  g_return_val_if_fail (AG_IS_ENGINE (self), AG_ENGINE_DEFAULT_PRIORITY);

  return self->priority;
}

/**
 * ag_engine_set_priority:
 * @self: an engine
 * @priority: the delivery priority, from %G_PRIORITY_HIGH to %G_PRIORITY_LOW
 *
 * Sets the priority results are delivered at. A priority above GTK's redraw
 * priority (a smaller number than %G_PRIORITY_HIGH_IDLE + 20) lets a flood
 * of results delay frames.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_engine_set_priority (AgEngine *self,
                        int       priority)
{
  g_return_if_fail (AG_IS_ENGINE (self));
  g_return_if_fail (_ag_engine_is_own_thread (self));
  g_return_if_fail (priority >= G_PRIORITY_HIGH && priority <= G_PRIORITY_LOW);

  if (self->priority == priority)
    return;

  self->priority = priority;
  if (self->delivery != NULL)
    g_source_set_priority (self->delivery, priority);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRIORITY]);
}

/**
 * ag_engine_get_budget_ms:
 * @self: an engine
 *
 * Gets how many milliseconds one delivery dispatch may take.
 *
 * Thread: any.
 *
 * Returns: the delivery budget in milliseconds
 *
 * Since: 1.0
 */
int
ag_engine_get_budget_ms (AgEngine *self)
{
  g_return_val_if_fail (AG_IS_ENGINE (self), AG_ENGINE_DEFAULT_BUDGET_MS);

  return self->budget_ms;
}

/**
 * ag_engine_set_budget_ms:
 * @self: an engine
 * @budget_ms: milliseconds, from 0 to 1000
 *
 * Sets how many milliseconds one delivery dispatch may spend on the engine's
 * thread before it yields to the main loop.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_engine_set_budget_ms (AgEngine *self,
                         int       budget_ms)
{
  g_return_if_fail (AG_IS_ENGINE (self));
  g_return_if_fail (_ag_engine_is_own_thread (self));
  g_return_if_fail (budget_ms >= 0 && budget_ms <= MAX_BUDGET_MS);

  if (self->budget_ms == budget_ms)
    return;

  self->budget_ms = budget_ms;
  if (self->delivery != NULL)
    _ag_delivery_source_set_budget_us (self->delivery, budget_ms * G_TIME_SPAN_MILLISECOND);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUDGET_MS]);
}

/**
 * ag_engine_get_max_delivery_delay_ms:
 * @self: an engine
 *
 * Gets how long results may wait while busier sources keep the main loop
 * from delivering them.
 *
 * Thread: any.
 *
 * Returns: milliseconds; 0 if results wait for their turn however long
 *
 * Since: 1.0
 */
guint
ag_engine_get_max_delivery_delay_ms (AgEngine *self)
{
  g_return_val_if_fail (AG_IS_ENGINE (self), AG_ENGINE_DEFAULT_MAX_DELIVERY_DELAY_MS);

  return self->max_delivery_delay_ms;
}

/**
 * ag_engine_set_max_delivery_delay_ms:
 * @self: an engine
 * @max_delay_ms: milliseconds, up to 60000; 0 turns the protection off
 *
 * Sets how long results may wait while sources of higher priority keep the
 * main loop too busy to deliver them; see
 * [property@Engine:max-delivery-delay-ms].
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_engine_set_max_delivery_delay_ms (AgEngine *self,
                                     guint     max_delay_ms)
{
  g_return_if_fail (AG_IS_ENGINE (self));
  g_return_if_fail (_ag_engine_is_own_thread (self));
  g_return_if_fail (max_delay_ms <= 60 * 1000);

  if (self->max_delivery_delay_ms == max_delay_ms)
    return;

  self->max_delivery_delay_ms = max_delay_ms;
  if (self->delivery != NULL)
    _ag_delivery_source_set_max_delay_ms (self->delivery, max_delay_ms);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_DELIVERY_DELAY_MS]);
}

/**
 * ag_engine_get_job_stack_size:
 * @self: an engine
 *
 * Gets the stack size of the jobs ag_engine_spawn() starts.
 *
 * Thread: any.
 *
 * Returns: the stack size in bytes
 *
 * Since: 1.0
 */
guint
ag_engine_get_job_stack_size (AgEngine *self)
{
  g_return_val_if_fail (AG_IS_ENGINE (self), AG_ENGINE_DEFAULT_JOB_STACK_SIZE);

  return self->job_stack_size;
}

/**
 * ag_engine_set_job_stack_size:
 * @self: an engine
 * @job_stack_size: bytes, from 16 KiB to 256 MiB
 *
 * Sets the stack size of the jobs ag_engine_spawn() starts from now on.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_engine_set_job_stack_size (AgEngine *self,
                              guint     job_stack_size)
{
  g_return_if_fail (AG_IS_ENGINE (self));
  g_return_if_fail (_ag_engine_is_own_thread (self));
  if (job_stack_size < MIN_STACK_SIZE || job_stack_size > MAX_STACK_SIZE)
    {
      g_critical ("%s: a job stack of %u bytes is outside 16 KiB to 256 MiB",
                  G_STRFUNC, job_stack_size);
      return;
    }

  if (self->job_stack_size == job_stack_size)
    return;

  self->job_stack_size = job_stack_size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_JOB_STACK_SIZE]);
}
