/* ag-engine.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "ag-engine-private.h"
#include "ag-delivery-source-private.h"
#include "ag-error.h"
#include "ag-task-private.h"
#include "ag-wait-private.h"
#include "ag-worker-pool-private.h"

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
 *   AgTask *task = AG_TASK (result);
 *
 *   // Back on the GUI thread.
 *   if (ag_task_get_error (task) != NULL)
 *     gtk_label_set_text (label, ag_task_get_error (task)->message);
 *   else
 *     gtk_label_set_text (label, g_strdup_printf ("%d words", ag_task_get_int (task)));
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
 * [property@Engine:budget-us] microseconds, so a frame that falls due is
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

struct _AgEngine
{
  GObject            parent_instance;

  GMainContext      *context;
  GThread           *home_thread;  /* the thread that made the engine */
  AgCompletionQueue *queue;
  AgExecutor        *executor;
  GSource           *delivery;
  GQueue             running;     /* AgTask links, see _ag_engine_track() */
  int                max_processes;
  int                priority;
  int                budget_us;
  guint              max_delivery_delay_ms;
  guint              job_stack_size;
  guint              worker_idle_ms;
  guint              worker_timeout_ms;
  AgWorkerPool      *worker_pool;  /* made on first use */
  char             **worker_commands[AG_WORKER_GJS + 1];
  int                disposed;     /* atomic */
};

G_DEFINE_FINAL_TYPE (AgEngine, ag_engine, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_MAX_THREADS,
  PROP_MAX_PROCESSES,
  PROP_PRIORITY,
  PROP_BUDGET_US,
  PROP_MAX_DELIVERY_DELAY_MS,
  PROP_JOB_STACK_SIZE,
  PROP_WORKER_IDLE_MS,
  PROP_WORKER_TIMEOUT_MS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define MAX_THREADS_LIMIT 1024
#define MAX_BUDGET_US     G_USEC_PER_SEC
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
  self->executor = _ag_executor_new (self->context, self->queue, g_get_num_processors ());
  self->delivery = _ag_delivery_source_new (self, self->queue);
  g_source_set_priority (self->delivery, self->priority);
  _ag_delivery_source_set_budget_us (self->delivery, self->budget_us);
  _ag_delivery_source_set_max_delay_ms (self->delivery, self->max_delivery_delay_ms);
  _ag_delivery_source_attach (self->delivery, self->context);
}

static void
ag_engine_dispose (GObject *object)
{
  AgEngine *self = AG_ENGINE (object);

  if (!g_atomic_int_get (&self->disposed))
    {
      g_atomic_int_set (&self->disposed, TRUE);

      /* Order matters: first nothing more can be delivered, then every
       * unfinished task is ended quietly, then the threads are let go. */
      _ag_completion_queue_close (self->queue);
      _ag_delivery_source_detach_owner (self->delivery);

      while (self->running.head != NULL)
        _ag_task_abandon (self->running.head->data);

      g_source_destroy (self->delivery);
      g_clear_pointer (&self->delivery, g_source_unref);
      g_clear_pointer (&self->executor, _ag_executor_free);
      g_clear_pointer (&self->worker_pool, _ag_worker_pool_shutdown);
    }

  G_OBJECT_CLASS (ag_engine_parent_class)->dispose (object);
}

static void
ag_engine_finalize (GObject *object)
{
  AgEngine *self = AG_ENGINE (object);

  g_clear_pointer (&self->queue, _ag_completion_queue_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  for (guint i = 0; i < G_N_ELEMENTS (self->worker_commands); i++)
    g_strfreev (self->worker_commands[i]);

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
    case PROP_MAX_PROCESSES:
      g_value_set_int (value, self->max_processes);
      break;
    case PROP_PRIORITY:
      g_value_set_int (value, self->priority);
      break;
    case PROP_BUDGET_US:
      g_value_set_int (value, self->budget_us);
      break;
    case PROP_MAX_DELIVERY_DELAY_MS:
      g_value_set_uint (value, self->max_delivery_delay_ms);
      break;
    case PROP_JOB_STACK_SIZE:
      g_value_set_uint (value, self->job_stack_size);
      break;
    case PROP_WORKER_IDLE_MS:
      g_value_set_uint (value, self->worker_idle_ms);
      break;
    case PROP_WORKER_TIMEOUT_MS:
      g_value_set_uint (value, self->worker_timeout_ms);
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
    case PROP_MAX_PROCESSES:
      ag_engine_set_max_processes (self, g_value_get_int (value));
      break;
    case PROP_PRIORITY:
      ag_engine_set_priority (self, g_value_get_int (value));
      break;
    case PROP_BUDGET_US:
      ag_engine_set_budget_us (self, g_value_get_int (value));
      break;
    case PROP_MAX_DELIVERY_DELAY_MS:
      ag_engine_set_max_delivery_delay_ms (self, g_value_get_uint (value));
      break;
    case PROP_JOB_STACK_SIZE:
      ag_engine_set_job_stack_size (self, g_value_get_uint (value));
      break;
    case PROP_WORKER_IDLE_MS:
      ag_engine_set_worker_idle_ms (self, g_value_get_uint (value));
      break;
    case PROP_WORKER_TIMEOUT_MS:
      ag_engine_set_worker_timeout_ms (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_engine_class_init (AgEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  /* Every message the library shows goes through an engine, so this is
   * where its catalogue is bound. */
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");

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
   * How many worker threads may run thread work at once. The default is the
   * number of processors. 0 is serial mode: thread work runs on the engine's
   * thread, inside delivery, in submission order.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_THREADS] =
    g_param_spec_int ("max-threads", NULL, NULL,
                      0, MAX_THREADS_LIMIT, g_get_num_processors (),
                      (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgEngine:max-processes:
   *
   * How many worker processes may run at once. The default is the number of
   * processors.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_PROCESSES] =
    g_param_spec_int ("max-processes", NULL, NULL,
                      1, MAX_THREADS_LIMIT, g_get_num_processors (),
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
   * AgEngine:budget-us:
   *
   * How many microseconds one delivery dispatch may spend on the engine's
   * thread before it yields to the main loop. At least one result is
   * delivered per dispatch, so 0 means one at a time.
   *
   * Since: 1.0
   */
  properties[PROP_BUDGET_US] =
    g_param_spec_int ("budget-us", NULL, NULL,
                      0, MAX_BUDGET_US, AG_ENGINE_DEFAULT_BUDGET_US,
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
   * from 16 KiB to 256 MiB, rounded up to whole pages. Stacks are mapped
   * lazily, so only what a job touches costs memory, and a guard page below
   * each turns an overflow into a crash at the spot.
   *
   * Since: 1.0
   */
  properties[PROP_JOB_STACK_SIZE] =
    g_param_spec_uint ("job-stack-size", NULL, NULL,
                       MIN_STACK_SIZE, MAX_STACK_SIZE, AG_ENGINE_DEFAULT_JOB_STACK_SIZE,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgEngine:worker-idle-ms:
   *
   * How long a worker process may sit idle before it is let go, in
   * milliseconds; the next call starts a fresh one.
   *
   * Since: 1.0
   */
  properties[PROP_WORKER_IDLE_MS] =
    g_param_spec_uint ("worker-idle-ms", NULL, NULL,
                       1, G_MAXUINT, 10000,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgEngine:worker-timeout-ms:
   *
   * How long, in milliseconds, a worker call or a command may take when
   * its task's own `timeout-ms` is -1 (as it is unless set); 0, the
   * default, is no limit. A task takes the value when it is run. See
   * [property@WorkerTask:timeout-ms] and [property@CommandTask:timeout-ms].
   * Set it on the engine's thread.
   *
   * Since: 1.0
   */
  properties[PROP_WORKER_TIMEOUT_MS] =
    g_param_spec_uint ("worker-timeout-ms", NULL, NULL,
                       0, G_MAXINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ag_engine_init (AgEngine *self)
{
  self->max_processes = g_get_num_processors ();
  self->priority = AG_ENGINE_DEFAULT_PRIORITY;
  self->budget_us = AG_ENGINE_DEFAULT_BUDGET_US;
  self->max_delivery_delay_ms = AG_ENGINE_DEFAULT_MAX_DELIVERY_DELAY_MS;
  self->job_stack_size = AG_ENGINE_DEFAULT_JOB_STACK_SIZE;
  self->worker_idle_ms = 10000;
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
 * @timeout_us: how long to wait at most, in microseconds; -1 for no limit
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
 * that does not return keeps the wait going until @timeout_us.
 *
 * Thread: any but an engine's worker thread (it would wait for itself).
 *
 * Returns: %TRUE once those threads have all left, %FALSE if @timeout_us
 *   passed first
 *
 * Since: 1.0
 */
gboolean
ag_engine_join_disposed (gint64 timeout_us)
{
  g_return_val_if_fail (!_ag_executor_on_worker (), FALSE);

  return _ag_executor_join_freed (timeout_us < 0 ? -1 : g_get_monotonic_time () + timeout_us);
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
 * ag_engine_get_max_processes:
 * @self: an engine
 *
 * Gets how many worker processes may run at once.
 *
 * Thread: any.
 *
 * Returns: the process limit
 *
 * Since: 1.0
 */
int
ag_engine_get_max_processes (AgEngine *self)
{
  g_return_val_if_fail (AG_IS_ENGINE (self), 0);

  return self->max_processes;
}

/**
 * ag_engine_set_max_processes:
 * @self: an engine
 * @max_processes: how many worker processes may run at once, from 1 to 1024
 *
 * Sets how many worker processes may run at once.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_engine_set_max_processes (AgEngine *self,
                             int       max_processes)
{
  g_return_if_fail (AG_IS_ENGINE (self));
  g_return_if_fail (_ag_engine_is_own_thread (self));
  g_return_if_fail (max_processes >= 1 && max_processes <= MAX_THREADS_LIMIT);

  if (self->max_processes == max_processes)
    return;

  self->max_processes = max_processes;
  if (self->worker_pool != NULL)
    _ag_worker_pool_set_max_processes (self->worker_pool, max_processes);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_PROCESSES]);
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
 * ag_engine_get_budget_us:
 * @self: an engine
 *
 * Gets how many microseconds one delivery dispatch may take.
 *
 * Thread: any.
 *
 * Returns: the delivery budget in microseconds
 *
 * Since: 1.0
 */
int
ag_engine_get_budget_us (AgEngine *self)
{
  g_return_val_if_fail (AG_IS_ENGINE (self), AG_ENGINE_DEFAULT_BUDGET_US);

  return self->budget_us;
}

/**
 * ag_engine_set_budget_us:
 * @self: an engine
 * @budget_us: microseconds, from 0 to 1000000
 *
 * Sets how many microseconds one delivery dispatch may spend on the engine's
 * thread before it yields to the main loop.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_engine_set_budget_us (AgEngine *self,
                         int       budget_us)
{
  g_return_if_fail (AG_IS_ENGINE (self));
  g_return_if_fail (_ag_engine_is_own_thread (self));
  g_return_if_fail (budget_us >= 0 && budget_us <= MAX_BUDGET_US);

  if (self->budget_us == budget_us)
    return;

  self->budget_us = budget_us;
  if (self->delivery != NULL)
    _ag_delivery_source_set_budget_us (self->delivery, budget_us);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUDGET_US]);
}

/**
 * ag_engine_get_max_delivery_delay_ms:
 * @self: an engine
 *
 * Gets how long results may wait while busier sources keep the main loop
 * from delivering them.
 *
 * Thread: the engine's.
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
 * ag_engine_get_worker_idle_ms:
 * @self: an engine
 *
 * Gets how long a worker process may sit idle.
 *
 * Thread: any.
 *
 * Returns: milliseconds
 *
 * Since: 1.0
 */
guint
ag_engine_get_worker_idle_ms (AgEngine *self)
{
  g_return_val_if_fail (AG_IS_ENGINE (self), 0);

  return self->worker_idle_ms;
}

/**
 * ag_engine_set_worker_idle_ms:
 * @self: an engine
 * @worker_idle_ms: milliseconds, at least 1
 *
 * Sets how long a worker process may sit idle before it is let go.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_engine_set_worker_idle_ms (AgEngine *self,
                              guint     worker_idle_ms)
{
  g_return_if_fail (AG_IS_ENGINE (self));
  g_return_if_fail (_ag_engine_is_own_thread (self));
  g_return_if_fail (worker_idle_ms >= 1);

  if (self->worker_idle_ms == worker_idle_ms)
    return;

  self->worker_idle_ms = worker_idle_ms;
  if (self->worker_pool != NULL)
    _ag_worker_pool_set_idle_ms (self->worker_pool, worker_idle_ms);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WORKER_IDLE_MS]);
}

/**
 * ag_engine_get_worker_timeout_ms:
 * @self: an engine
 *
 * Gets how long a worker call or a command without a timeout of its own
 * may take.
 *
 * Returns: milliseconds, 0 for no limit
 *
 * Thread: the engine's
 *
 * Since: 1.0
 */
guint
ag_engine_get_worker_timeout_ms (AgEngine *self)
{
  g_return_val_if_fail (AG_IS_ENGINE (self), 0);

  return self->worker_timeout_ms;
}

/**
 * ag_engine_set_worker_timeout_ms:
 * @self: an engine
 * @worker_timeout_ms: milliseconds, up to %G_MAXINT; 0 for no limit
 *
 * Sets how long a worker call or a command whose task leaves its
 * `timeout-ms` at -1 may take before it fails with %G_IO_ERROR_TIMED_OUT
 * and its process is killed. Tasks already running keep the timeout they
 * started with.
 *
 * Thread: the engine's
 *
 * Since: 1.0
 */
void
ag_engine_set_worker_timeout_ms (AgEngine *self,
                                 guint     worker_timeout_ms)
{
  g_return_if_fail (AG_IS_ENGINE (self));
  g_return_if_fail (worker_timeout_ms <= G_MAXINT);
  g_return_if_fail (_ag_engine_is_own_thread (self));

  if (self->worker_timeout_ms == worker_timeout_ms)
    return;

  self->worker_timeout_ms = worker_timeout_ms;
  if (self->worker_pool != NULL)
    _ag_worker_pool_set_default_timeout_ms (self->worker_pool, worker_timeout_ms);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WORKER_TIMEOUT_MS]);
}

/**
 * ag_engine_set_worker_command:
 * @self: an engine
 * @kind: (type AsyncGui.WorkerKind): an [enum@WorkerKind]
 * @argv: (nullable) (array zero-terminated=1): the program that serves as
 *   a worker of @kind, and its arguments; %NULL for the installed one
 *
 * Sets the program started as a worker of @kind, for workers started from
 * now on. The Python binding uses it to run workers with the interpreter
 * of the calling program.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_engine_set_worker_command (AgEngine           *self,
                              int                 kind,
                              const char * const *argv)
{
  g_return_if_fail (AG_IS_ENGINE (self));
  g_return_if_fail (_ag_engine_is_own_thread (self));
  g_return_if_fail (kind >= AG_WORKER_C && kind <= AG_WORKER_GJS);
  g_return_if_fail (argv == NULL || argv[0] != NULL);

  g_strfreev (self->worker_commands[kind]);
  self->worker_commands[kind] = g_strdupv ((char **) argv);
  if (self->worker_pool != NULL)
    _ag_worker_pool_set_command (self->worker_pool, kind, argv);
}

/**
 * ag_engine_dup_worker_command:
 * @self: an engine
 * @kind: (type AsyncGui.WorkerKind): an [enum@WorkerKind]
 *
 * Gets the program started as a worker of @kind: the one set with
 * [method@Engine.set_worker_command], or the installed one.
 *
 * Thread: the engine's.
 *
 * Returns: (transfer full) (array zero-terminated=1): the program and its
 *   arguments
 *
 * Since: 1.0
 */
char **
ag_engine_dup_worker_command (AgEngine *self,
                              int       kind)
{
  g_return_val_if_fail (AG_IS_ENGINE (self), NULL);
  g_return_val_if_fail (kind >= AG_WORKER_C && kind <= AG_WORKER_GJS, NULL);

  if (self->worker_commands[kind] != NULL)
    return g_strdupv (self->worker_commands[kind]);

  return _ag_worker_pool_default_command (kind);
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
  g_return_if_fail (job_stack_size >= MIN_STACK_SIZE && job_stack_size <= MAX_STACK_SIZE);

  if (self->job_stack_size == job_stack_size)
    return;

  self->job_stack_size = job_stack_size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_JOB_STACK_SIZE]);
}

static void
start_here (AgEngine            *self,
            AgTask              *task,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  if (g_atomic_int_get (&self->disposed))
    {
      g_task_report_new_error (self, callback, user_data, ag_engine_run_async,
                               AG_ERROR, AG_ERROR_ENGINE_DISPOSED,
                               _("The engine was shut down, so the task cannot run"));
      return;
    }

  if (ag_task_get_state (task) != AG_TASK_PENDING || !_ag_task_claim_run (task))
    {
      g_critical ("ag_engine_run_async: the task %p was already run; a task runs once", task);
      g_task_report_new_error (self, callback, user_data, ag_engine_run_async,
                               AG_ERROR, AG_ERROR_ALREADY_STARTED,
                               _("The task was already run; a task runs only once"));
      return;
    }

  _ag_task_start (task, self, cancellable, callback, user_data, NULL);
}

/**
 * ag_engine_run_async:
 * @self: an engine
 * @task: a task that has not been run
 * @cancellable: (nullable): cancels the task, like [method@Task.cancel]
 * @callback: (scope async) (nullable): called on the engine's context when
 *   the task has finished
 * @user_data: (closure callback): data for @callback
 *
 * Runs @task. Thread work goes to a worker thread, a sleep starts its timer,
 * a main-context task calls its function now. This never blocks; @callback
 * runs exactly once, at a later delivery on the engine's context, and
 * receives @task itself as the [iface@Gio.AsyncResult].
 *
 * A task runs once: running it again is a programming error, reported as
 * %AG_ERROR_ALREADY_STARTED. An engine that has been disposed reports
 * %AG_ERROR_ENGINE_DISPOSED. In these two cases the result given to
 * @callback is not the task, so code that cannot rule them out reads the
 * outcome with [method@Engine.run_finish].
 *
 * Thread: any. Like g_task_run_in_thread(), a task run from a thread other
 * than the engine's is handed to the engine's thread, through the same
 * queue as results, and starts there at the next delivery; until then its
 * state stays %AG_TASK_PENDING. Its callback runs on the engine's context
 * all the same. If the engine is disposed before the task starts, the task
 * ends as cancelled without its callback, as tasks in flight at disposal
 * do.
 *
 * Since: 1.0
 */
void
ag_engine_run_async (AgEngine            *self,
                     AgTask              *task,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_return_if_fail (AG_IS_ENGINE (self));
  g_return_if_fail (AG_IS_TASK (task));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  if (g_main_context_is_owner (self->context))
    start_here (self, task, cancellable, callback, user_data);
  else if (g_thread_self () == self->home_thread && g_main_context_acquire (self->context))
    {
      /* Nobody iterates the context: the thread that made the engine acts
       * for it, holding the context so no other thread delivers meanwhile. */
      start_here (self, task, cancellable, callback, user_data);
      g_main_context_release (self->context);
    }
  else if (!_ag_task_claim_run (task))
    g_critical ("%s: the task %p was already run; a task runs once", G_STRFUNC, task);
  else
    _ag_task_start_from_other_thread (task, self, cancellable, callback, user_data);
}

/**
 * ag_engine_run_finish:
 * @self: an engine
 * @result: the result given to the callback of [method@Engine.run_async]
 * @error: return location for an error
 *
 * Gets the outcome of a task run with [method@Engine.run_async]. In C the
 * typed getters of [class@Task] on `AG_TASK (result)` are often handier.
 *
 * Thread: the engine's, in the callback of [method@Engine.run_async].
 *
 * Returns: (transfer full) (nullable): a copy of the task's value, or %NULL
 *   with @error set if it failed or was cancelled, or %NULL without an
 *   error if it succeeded without a value
 *
 * Since: 1.0
 */
GValue *
ag_engine_run_finish (AgEngine      *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  AgTask *task;

  g_return_val_if_fail (AG_IS_ENGINE (self), NULL);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Checked in this order because the first use of GTask's type starts
   * GTask's own thread pool, which an engine has no use for. */
  if (!AG_IS_TASK (result))
    {
      g_return_val_if_fail (g_task_is_valid (result, self), NULL);
      return g_task_propagate_pointer (G_TASK (result), error);
    }

  task = AG_TASK (result);
  g_return_val_if_fail (ag_task_is_finished (task), NULL);

  return _ag_task_propagate_value (task, error);
}

AgCompletionQueue *
_ag_engine_get_queue (AgEngine *self)
{
  return self->queue;
}

/* Worker processes and their thread start with the first process task. */
AgWorkerPool *
_ag_engine_get_worker_pool (AgEngine *self)
{
  if (self->worker_pool == NULL)
    {
      self->worker_pool = _ag_worker_pool_new (self->max_processes);
      _ag_worker_pool_set_idle_ms (self->worker_pool, self->worker_idle_ms);
      _ag_worker_pool_set_default_timeout_ms (self->worker_pool, self->worker_timeout_ms);
      for (int kind = AG_WORKER_C; kind <= AG_WORKER_GJS; kind++)
        if (self->worker_commands[kind] != NULL)
          _ag_worker_pool_set_command (self->worker_pool, kind,
                                       (const char * const *) self->worker_commands[kind]);
    }

  return self->worker_pool;
}

void
_ag_engine_submit_work (AgEngine *self,
                        AgWork   *work)
{
  if (self->executor == NULL)
    {
      work->drop (work);
      return;
    }

  _ag_executor_submit (self->executor, work);
}

/* Coalesces property notifications until the current dispatch ends. Outside
 * delivery there is nothing to coalesce with, so notifications go out as
 * usual. */
void
_ag_engine_hold_notify (AgEngine *self,
                        GObject  *object)
{
  if (_ag_engine_is_delivering (self))
    _ag_delivery_source_hold_notify (self->delivery, object);
}

gboolean
_ag_engine_is_delivering (AgEngine *self)
{
  return self->delivery != NULL && _ag_delivery_source_is_delivering (self->delivery);
}

/* Whether the calling thread may iterate the engine's context to wait: only
 * the engine's own thread, so deliveries never run on a worker or a helper
 * thread that happens to find the context free. */
gboolean
_ag_engine_may_iterate_here (AgEngine *self)
{
  return g_main_context_is_owner (self->context) || g_thread_self () == self->home_thread;
}

/* Waits until *finished, which @self's deliveries set; @self may be NULL
 * while the thread that waits hands the work to it. */
gboolean
_ag_engine_wait_for (AgEngine   *self,
                     const int  *finished,
                     gint64      timeout_us,
                     GError    **error)
{
  if (self == NULL)
    return _ag_wait_for (NULL, FALSE, FALSE, finished, timeout_us, error);

  return _ag_wait_for (self->context, _ag_engine_may_iterate_here (self),
                       _ag_engine_is_delivering (self), finished, timeout_us, error);
}

/* Whether the calling thread may act as the engine's: the one iterating
 * its context, or, while nobody does, the one that made it. */
gboolean
_ag_engine_is_own_thread (AgEngine *self)
{
  return _ag_completion_queue_is_home_thread (self->queue);
}

gboolean
_ag_engine_is_disposed (AgEngine *self)
{
  return g_atomic_int_get (&self->disposed);
}

void
_ag_engine_track (AgEngine *self,
                  GList    *running_link)
{
  g_queue_push_tail_link (&self->running, running_link);
}

void
_ag_engine_untrack (AgEngine *self,
                    GList    *running_link)
{
  g_queue_unlink (&self->running, running_link);
}
