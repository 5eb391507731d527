/* ag-task.c: the life of a task — start, outcome, end — shared by every
 * kind of task
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-closure-private.h"
#include "ag-error.h"
#include "ag-task-enum-types.h"
#include "ag-task-internal.h"
#include "ag-values-private.h"
#include "ag-wait-private.h"

/**
 * AgTask:
 *
 * One unit of work and its outcome.
 *
 * A task is made for one kind of work: [ctor@Task.new] runs a function on a
 * worker thread, [ctor@Task.new_main] runs a function on the engine's
 * context that may finish later from an asynchronous callback (so any GIO
 * `_async`/`_finish` operation can be wrapped), [ctor@Task.new_sleep]
 * waits, and [class@MultiTask] is made of other tasks. It is run once, with
 * [method@Engine.run_async], and ends exactly once: succeeded with a value,
 * failed with an error, or cancelled.
 *
 * The work function ends the task with one of the `ag_task_return_*()`
 * calls. Those, [method@Task.set_progress], [method@Task.set_status_text]
 * and [method@Task.cancel] may be called from any thread; everything else
 * belongs to the engine's thread.
 *
 * ```c
 * static void
 * checksum_file (AgTask       *task,
 *                gpointer      user_data,
 *                GCancellable *cancellable)
 * {
 *   GFile *file = user_data;
 *   g_autoptr(GError) error = NULL;
 *   g_autoptr(GBytes) bytes = g_file_load_bytes (file, cancellable, NULL, &error);
 *
 *   g_autofree char *sum = NULL;
 *
 *   if (bytes == NULL)
 *     {
 *       ag_task_return_error (task, g_steal_pointer (&error));
 *       return;
 *     }
 *   sum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
 *   ag_task_return_string (task, sum);
 * }
 *
 * task = ag_task_new (checksum_file, g_object_ref (file), g_object_unref);
 * ```
 *
 * Progress and status text set by a worker are coalesced: the latest value
 * wins, and the task notifies `progress` at most once per delivery.
 *
 * Cancelling a running task ends it at the next delivery with
 * %G_IO_ERROR_CANCELLED, even if its worker is still busy; what the worker
 * returns afterwards is dropped. The worker can see the request through the
 * cancellable it is given.
 *
 * A task is also the [iface@Gio.AsyncResult] given to the callback of
 * [method@Engine.run_async].
 *
 * A task that has run is finalized on its engine's thread, so the data its
 * function was given — a widget, say — its value and its destroy notifies
 * are released there, never on a worker; once the engine has been disposed,
 * at the next iteration of the engine's context. (A context that is never
 * iterated again keeps such late tasks.) A task that never ran is finalized
 * wherever its last reference is dropped.
 *
 * Since: 1.0
 */

/* The kinds of task are private subclasses, each in a file of its own:
 * ag-thread-task.c, ag-main-task.c and ag-sleep-task.c here, and the
 * MultiTasks, jobs and process tasks of the layers above. They differ only
 * in the functions of AgTaskClassPrivate; this file is the one state
 * machine they share. ag-task-outcome.c has how the outcome is returned and
 * read, ag-task-report.c progress and status text, ag-task-dependencies.c
 * tasks that wait for tasks, and ag-task-run.c the way in from
 * ag_engine_run_async(). */


G_DEFINE_TYPE_WITH_CODE (AgTask, ag_task, G_TYPE_OBJECT,
                         G_ADD_PRIVATE (AgTask)
                         g_type_add_class_private (g_define_type_id,
                                                   sizeof (AgTaskClassPrivate));
                         G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_RESULT,
                                                _ag_task_async_result_iface_init))

enum {
  PROP_0,
  PROP_STATE,
  PROP_PROGRESS,
  PROP_STATUS_TEXT,
  PROP_ERROR,
  PROP_VALUE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Each kind's class_init asks for its table, which also keeps a pointer
 * to it in the class: g_type_class_get_private() costs a type-table search
 * per call, where the pointer costs one read per call, and nothing per
 * instance. A class whose class_init does not ask (a kind that changes no
 * function, a user's subclass) keeps its parent's pointer, to the table its
 * own is a copy of. */
AgTaskClassPrivate *
_ag_task_class_get_vfuncs (gpointer klass)
{
  AgTaskClassPrivate *vfuncs = g_type_class_get_private (klass, AG_TYPE_TASK);

  ((AgTaskClass *) klass)->_ag_vfuncs = vfuncs;
  return vfuncs;
}

static inline AgTaskClassPrivate *
get_vfuncs (AgTask *self)
{
  return ((AgTaskClass *) ((GTypeInstance *) self)->g_class)->_ag_vfuncs;
}

/* The tasks @self waits for besides its dependencies (a MultiTask's
 * children), borrowed, or NULL. */
GPtrArray *
_ag_task_peek_awaited (AgTask *self)
{
  AgTaskClassPrivate *vfuncs = get_vfuncs (self);

  return vfuncs->peek_awaited != NULL ? vfuncs->peek_awaited (self) : NULL;
}

gboolean
_ag_task_runs_here (AgTask *self)
{
  AgTaskClassPrivate *vfuncs = get_vfuncs (self);

  return vfuncs->runs_here != NULL && vfuncs->runs_here (self);
}

AgTaskPrivate *
_ag_task_get_priv (AgTask *self)
{
  return ag_task_get_instance_private (self);
}

AgTaskExtras *
_ag_task_ensure_extras (AgTaskPrivate *priv)
{
  AgTaskExtras *extras = g_atomic_pointer_get (&priv->extras);
  AgTaskExtras *fresh;

  if (extras != NULL)
    return extras;

  fresh = g_new0 (AgTaskExtras, 1);
  if (g_atomic_pointer_compare_and_exchange (&priv->extras, NULL, fresh))
    return fresh;

  g_free (fresh);
  return g_atomic_pointer_get (&priv->extras);
}

/* The caller's part was released when the task stopped running, and the
 * pointer's destroy notify with the value. */
static void
free_extras (AgTaskExtras *extras)
{
  g_clear_error (&extras->returned_error);
  g_clear_error (&extras->error);
  g_clear_pointer (&extras->report, _ag_task_report_free);
  g_clear_pointer (&extras->deps, _ag_task_deps_free);
  g_clear_pointer (&extras->waiters, g_ptr_array_unref);
  g_free (extras);
}

AgTask *
_ag_task_from_priv (AgTaskPrivate *priv)
{
  return (AgTask *) ((char *) priv - AgTask_private_offset);
}

gboolean
_ag_task_state_is_final (AgTaskState state)
{
  return state == AG_TASK_SUCCEEDED || state == AG_TASK_FAILED || state == AG_TASK_CANCELLED;
}

void
_ag_task_notify_state (AgTask *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

/* Value just before state, both already set. No freeze around them: in
 * GLib 2.74 a notification nobody listens to costs two flag reads, a
 * freeze the global notify lock and an allocation, for every task. */
void
_ag_task_notify_succeeded (AgTask *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VALUE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
_ag_task_notify_progress (AgTask *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
}

void
_ag_task_notify_status_text (AgTask *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS_TEXT]);
}

void
_ag_task_clear_value (AgTaskPrivate *priv)
{
  AgTaskExtras *extras = _ag_task_peek_extras (priv);
  GDestroyNotify destroy = extras != NULL ? g_steal_pointer (&extras->pointer_destroy) : NULL;

  if (G_VALUE_HOLDS_POINTER (&priv->value) && destroy != NULL)
    destroy (g_value_get_pointer (&priv->value));
  if (G_IS_VALUE (&priv->value))
    g_value_unset (&priv->value);
  priv->value_is_detail = FALSE;
}

static void
stop_running (AgTask *self)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);
  AgTaskExtras *extras = _ag_task_peek_extras (priv);

  if (extras != NULL)
    {
      AgTaskCaller *caller = &extras->caller;

      if (caller->outer_handler != 0)
        g_cancellable_disconnect (caller->outer_cancellable, caller->outer_handler);
      caller->outer_handler = 0;
      g_clear_object (&caller->outer_cancellable);
    }

  if (priv->engine != NULL)
    _ag_engine_untrack (priv->engine, &priv->tracked);
}

static void
release_callback_data (AgTaskPrivate *priv)
{
  AgTaskExtras *extras = _ag_task_peek_extras (priv);
  GDestroyNotify destroy = extras != NULL
                           ? g_steal_pointer (&extras->caller.callback_data_destroy) : NULL;
  gpointer data = g_steal_pointer (&priv->callback_data);

  if (destroy != NULL)
    destroy (data);
}

/* Ends the task on the engine's thread: sets the outcome, tells everyone
 * once, and invokes the callback. A success keeps the returned value;
 * @error is taken. */
static void
finish (AgTask      *self,
        AgTaskState  state,
        GError      *error)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);
  GAsyncReadyCallback callback;
  AgEngine *engine = priv->engine;

  g_assert (_ag_task_state_is_final (state));
  g_assert (!_ag_task_state_is_final (priv->state));

  priv->state = state;
  if (error != NULL)
    _ag_task_ensure_extras (priv)->error = error;
  g_atomic_int_set (&priv->finished, TRUE);

  stop_running (self);
  if (get_vfuncs (self)->stopped != NULL)
    get_vfuncs (self)->stopped (self);
  _ag_wait_wake_all ();

  if (state == AG_TASK_SUCCEEDED)
    _ag_task_report_apply (self, FALSE);

  /* Plain casts on this path: a checked cast of a subclass instance costs
   * a type-table search, several per task. */
  if (error != NULL)
    g_object_notify_by_pspec ((GObject *) self, properties[PROP_ERROR]);
  if (state == AG_TASK_SUCCEEDED)
    _ag_task_notify_succeeded (self);
  else
    g_object_notify_by_pspec ((GObject *) self, properties[PROP_STATE]);

  callback = g_steal_pointer (&priv->callback);
  if (callback != NULL)
    callback ((GObject *) engine, (GAsyncResult *) self, priv->callback_data);
  release_callback_data (priv);
  _ag_task_deps_tell_done (self);
  _ag_task_wake_waiters (self);

  /* Drops the reference taken by _ag_task_start(). */
  g_object_unref (self);
}

static void
finish_cancelled (AgTask *self)
{
  if (get_vfuncs (self)->cancel != NULL)
    get_vfuncs (self)->cancel (self);
  _ag_task_deps_cancel_started (self);

  /* The subclass may have finished already while cancelling. */
  if (!_ag_task_state_is_final (_ag_task_get_priv (self)->state))
    finish (self, AG_TASK_CANCELLED,
            g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                 _("The task was cancelled")));
}


/* A node delivered without an engine may be released on a worker. */
static void
unref_after_delivery (AgTask   *self,
                      AgEngine *engine)
{
  if (engine != NULL)
    g_object_unref (self);
  else
    _ag_task_unref_at_home (self);
}

static void
complete_deliver (AgNode   *node,
                  gpointer  owner)
{
  AgEngine *engine = owner;
  AgTaskPrivate *priv = G_STRUCT_MEMBER_P (node, -G_STRUCT_OFFSET (AgTaskPrivate, complete_node));
  AgTask *self = _ag_task_from_priv (priv);
  AgTaskExtras *extras = _ag_task_peek_extras (priv);
  gboolean outcome_kept = FALSE;

  if (engine != NULL && priv->state == AG_TASK_RUNNING)
    {
      if (_ag_task_has_once (priv, AG_TASK_ONCE_CANCEL_REQUESTED))
        finish_cancelled (self);
      else if (extras != NULL && extras->returned_error != NULL)
        {
          /* Decided before the error is taken: C leaves the order in
           * which a call's arguments are evaluated open. */
          AgTaskState state = g_error_matches (extras->returned_error, G_IO_ERROR,
                                               G_IO_ERROR_CANCELLED)
                                ? AG_TASK_CANCELLED : AG_TASK_FAILED;

          finish (self, state, g_steal_pointer (&extras->returned_error));
          outcome_kept = TRUE;
        }
      else
        {
          finish (self, AG_TASK_SUCCEEDED, NULL);
          outcome_kept = TRUE;
        }
    }

  /* Otherwise it is a result nobody will see: late, or the engine is gone.
   * Without an engine this may run on a worker while the engine's thread
   * abandons the task, so the state is not read here: the task's
   * finalization, on the engine's context, frees what was returned. */
  if (engine != NULL && !outcome_kept)
    {
      _ag_task_clear_value (priv);
      if (extras != NULL)
        g_clear_error (&extras->returned_error);
    }
  unref_after_delivery (self, engine);
}

/* A cancel on its way to the engine's thread. Made by the one cancel that
 * is queued, which is rare: a task has no room for it. */
typedef struct
{
  AgNode   node;
  AgTask  *task;
} CancelNode;

static void
cancel_deliver (AgNode   *node,
                gpointer  owner)
{
  AgEngine *engine = owner;
  AgTask *self = ((CancelNode *) node)->task;
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  g_free (node);
  if (engine != NULL && priv->state == AG_TASK_RUNNING)
    finish_cancelled (self);

  unref_after_delivery (self, engine);
}

void
_ag_task_push_completion (AgTask *self)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  /* A job's code runs on the engine's thread, and its end is the job's
   * end: it ends at once, as GTask does when returned on its own context.
   * (Other tasks may get here on a worker, so only a job reads the
   * engine.) */
  if (get_vfuncs (self)->ends_when_returned)
    {
      AgEngine *engine = g_atomic_pointer_get (&priv->engine);

      if (engine != NULL && !_ag_engine_is_disposed (engine) && _ag_engine_is_own_thread (engine))
        {
          complete_deliver (&priv->complete_node, engine);
          return;
        }
    }

  priv->complete_node.deliver = complete_deliver;
  _ag_completion_queue_push (priv->queue, &priv->complete_node);
}


/* Starting and cancelling may race when cancel comes from another thread:
 * whichever gets here first queues the node, once. */
static void
push_cancel_once (AgTask *self)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);
  GCancellable *cancellable;
  CancelNode *cancel;

  if (!_ag_task_set_once (priv, AG_TASK_ONCE_CANCEL_PUSHED))
    return;

  cancellable = _ag_task_peek_cancellable (priv);
  if (cancellable != NULL)
    g_cancellable_cancel (cancellable);
  cancel = g_new (CancelNode, 1);
  cancel->node.deliver = cancel_deliver;
  cancel->task = g_object_ref (self);
  _ag_completion_queue_push (priv->queue, &cancel->node);
}

static void
outer_cancelled (GCancellable *cancellable,
                 gpointer      user_data)
{
  ag_task_cancel (AG_TASK (user_data));
}

/* The task runs and its dependencies have succeeded: its kind's work
 * starts. A subclass made outside the library has no work to start. */
void
_ag_task_start_work (AgTask *self)
{
  if (get_vfuncs (self)->start == NULL)
    {
      ag_task_return_new_error (self, AG_ERROR, AG_ERROR_FAILED,
                                _("A task of type %s has no work: make tasks with "
                                  "ag_task_new() or a sibling; AgTask is subclassed "
                                  "only by asyncgui"),
                                G_OBJECT_TYPE_NAME (self));
      return;
    }

  get_vfuncs (self)->start (self);
}

void
_ag_task_start (AgTask              *self,
                AgEngine            *engine,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data,
                GDestroyNotify       user_data_destroy)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  g_assert (priv->state == AG_TASK_PENDING);

  _ag_task_set_once (priv, AG_TASK_ONCE_RUN_CLAIMED);

  /* The engine is being disposed, and code it runs while abandoning what it
   * ran (a C job unwinding) started more work: it ends at once, as the rest
   * did. */
  if (_ag_engine_is_disposed (engine))
    {
      _ag_task_end_quietly (self);
      if (user_data_destroy != NULL)
        user_data_destroy (user_data);
      return;
    }

  g_atomic_pointer_set (&priv->engine, engine);
  if (!get_vfuncs (self)->cancellable_in_work)
    priv->cancellable = g_cancellable_new ();
  /* Published last: another thread's ag_task_cancel() reads it first. */
  g_atomic_pointer_set (&priv->queue, _ag_completion_queue_ref (_ag_engine_get_queue (engine)));
  priv->callback = callback;
  priv->callback_data = user_data;
  if (user_data_destroy != NULL)
    _ag_task_ensure_extras (priv)->caller.callback_data_destroy = user_data_destroy;
  priv->state = AG_TASK_RUNNING;

  /* Held until finish(): a running task stays alive however its owner
   * treats it. */
  g_object_ref (self);
  _ag_engine_track (engine, &priv->tracked);

  g_object_notify_by_pspec ((GObject *) self, properties[PROP_STATE]);

  /* Reported before it ran: now there is a queue to deliver it by. */
  _ag_task_report_push_waiting (self);

  if (_ag_task_has_once (priv, AG_TASK_ONCE_CANCEL_REQUESTED))
    {
      push_cancel_once (self);
      return;
    }

  if (cancellable != NULL)
    {
      AgTaskCaller *caller = &_ag_task_ensure_extras (priv)->caller;

      caller->outer_cancellable = g_object_ref (cancellable);
      caller->outer_handler = g_cancellable_connect (cancellable,
                                                     G_CALLBACK (outer_cancelled),
                                                     self, NULL);
      /* Cancelled already (the connect has called the handler) or since:
       * the cancel is on its way, and the work must not start, as it does
       * not for a task cancelled before it ran. */
      if (_ag_task_has_once (priv, AG_TASK_ONCE_CANCEL_REQUESTED))
        return;
    }

  _ag_task_deps_start (self);
}

/* The engine is shutting down: end quietly, no callback, no notification. */
void
_ag_task_abandon (AgTask *self)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  g_assert (priv->state == AG_TASK_RUNNING);

  _ag_task_set_once (priv, AG_TASK_ONCE_CANCEL_REQUESTED);
  if (_ag_task_peek_cancellable (priv) != NULL)
    g_cancellable_cancel (_ag_task_peek_cancellable (priv));
  stop_running (self);

  priv->state = AG_TASK_CANCELLED;
  _ag_task_ensure_extras (priv)->error =
    g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                         _("The engine was shut down before the task finished"));
  if (get_vfuncs (self)->stopped != NULL)
    get_vfuncs (self)->stopped (self);
  _ag_async_ready_forget (g_steal_pointer (&priv->callback), priv->callback_data);
  release_callback_data (priv);
  _ag_task_deps_drop_done (self);
  g_atomic_pointer_set (&priv->engine, NULL);
  g_atomic_int_set (&priv->finished, TRUE);
  _ag_wait_wake_all ();
  _ag_task_wake_waiters (self);

  g_object_unref (self);
}

static void
abandon_tracked (AgTracked *tracked)
{
  AgTaskPrivate *priv = G_STRUCT_MEMBER_P (tracked, -G_STRUCT_OFFSET (AgTaskPrivate, tracked));

  _ag_task_abandon (_ag_task_from_priv (priv));
}

/* The engine is shutting down and this task, which never started (or is a
 * view of a MultiTask's input), will not: it ends as cancelled like those
 * the engine abandons, without telling anyone. */
void
_ag_task_end_quietly (AgTask *self)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  if (_ag_task_state_is_final (priv->state))
    return;

  priv->state = AG_TASK_CANCELLED;
  _ag_task_ensure_extras (priv)->error =
    g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                         _("The engine was shut down before the task finished"));
  g_atomic_int_set (&priv->finished, TRUE);
  _ag_wait_wake_all ();
  _ag_task_wake_waiters (self);
}

/* The task was run on an engine that had been disposed: it fails at once,
 * without running, and whoever watches it hears so. The caller hands it to
 * the run's callback. */
void
_ag_task_fail_unrun (AgTask *self,
                     GError *error)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  g_assert (priv->state == AG_TASK_PENDING);

  priv->state = AG_TASK_FAILED;
  _ag_task_ensure_extras (priv)->error = error;
  g_atomic_int_set (&priv->finished, TRUE);
  _ag_wait_wake_all ();

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  _ag_task_wake_waiters (self);
}

/**
 * ag_task_get_engine:
 * @self: a task
 *
 * Gets the engine the task runs on.
 *
 * Thread: the engine's.
 *
 * Returns: (transfer none) (nullable): the engine, or %NULL if the task has
 *   not been run, or its engine has been disposed
 *
 * Since: 1.0
 */
AgEngine *
ag_task_get_engine (AgTask *self)
{
  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  return _ag_task_get_live_engine (self);
}

AgEngine *
_ag_task_get_engine (AgTask *self)
{
  return _ag_task_get_priv (self)->engine;
}

/* A running task's engine ends it before it goes (_ag_task_abandon()), but
 * one that finished keeps only the engine's address: once the engine's
 * queue closed, which its disposal does first, the engine may be gone.
 * What may be called on a finished task from outside asks this. */
AgEngine *
_ag_task_get_live_engine (AgTask *self)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  if (priv->queue != NULL && _ag_task_state_is_final (priv->state)
      && _ag_completion_queue_is_closed (priv->queue))
    return NULL;

  return priv->engine;
}

gboolean
_ag_task_is_cancel_requested (AgTask *self)
{
  return _ag_task_has_once (_ag_task_get_priv (self), AG_TASK_ONCE_CANCEL_REQUESTED);
}

/* A job awaiting the task was paused or resumed. */
void
_ag_task_suspend (AgTask *self)
{
  if (get_vfuncs (self)->suspend != NULL && ag_task_get_state (self) == AG_TASK_RUNNING)
    get_vfuncs (self)->suspend (self);
}

void
_ag_task_resume (AgTask *self)
{
  if (get_vfuncs (self)->resume != NULL && ag_task_get_state (self) == AG_TASK_RUNNING)
    get_vfuncs (self)->resume (self);
}

/* The outcome as a finish function gives it: a copy of the value, or the
 * error. */
GValue *
_ag_task_propagate_value (AgTask  *self,
                          GError **error)
{
  AgTaskPrivate *priv = ag_task_get_instance_private (self);
  const GValue *value;
  const GError *failure;
  GValue *copy;

  failure = _ag_task_peek_error (priv);
  if (failure != NULL)
    {
      if (error != NULL)
        *error = g_error_copy (failure);
      return NULL;
    }

  if (priv->state != AG_TASK_SUCCEEDED || !G_IS_VALUE (&priv->value))
    return NULL;
  value = &priv->value;

  copy = g_new0 (GValue, 1);
  _ag_value_init_copy (copy, value);

  return copy;
}

static void
ag_task_finalize (GObject *object)
{
  AgTask *self = AG_TASK (object);
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  _ag_task_clear_value (priv);

  _ag_task_clear_cancellable (priv);
  g_clear_pointer (&priv->queue, _ag_completion_queue_unref);
  g_clear_pointer (&priv->extras, free_extras);

  G_OBJECT_CLASS (ag_task_parent_class)->finalize (object);
}

static void
ag_task_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  AgTask *self = AG_TASK (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, ag_task_get_state (self));
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, ag_task_get_progress (self));
      break;
    case PROP_STATUS_TEXT:
      g_value_set_string (value, ag_task_get_status_text (self));
      break;
    case PROP_ERROR:
      g_value_set_boxed (value, ag_task_get_error (self));
      break;
    case PROP_VALUE:
      g_value_set_boxed (value, ag_task_get_value (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_task_class_init (AgTaskClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ag_task_finalize;
  object_class->get_property = ag_task_get_property;
  _ag_task_class_get_vfuncs (klass);

  /**
   * AgTask:state:
   *
   * Where the task is in its life. It changes on the engine's thread.
   *
   * Since: 1.0
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       AG_TYPE_TASK_STATE, AG_TASK_PENDING,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgTask:progress:
   *
   * How far the work is, from 0 to 1, or -1 when unknown. Set from the
   * worker with [method@Task.set_progress]; notified on the engine's thread
   * at most once per delivery.
   *
   * Since: 1.0
   */
  properties[PROP_PROGRESS] =
    g_param_spec_double ("progress", NULL, NULL,
                         -1.0, 1.0, 0.0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgTask:status-text:
   *
   * A short text saying what the work is doing, set from the worker with
   * [method@Task.set_status_text].
   *
   * Since: 1.0
   */
  properties[PROP_STATUS_TEXT] =
    g_param_spec_string ("status-text", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgTask:error:
   *
   * Why the task failed or that it was cancelled; %NULL otherwise.
   *
   * Since: 1.0
   */
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL,
                        G_TYPE_ERROR,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgTask:value: (getter get_value)
   *
   * The value the task succeeded with, as [method@Task.get_value] gives
   * it; %NULL otherwise (an error's detail is not a value). Notified once,
   * when the task succeeds, just before [property@Task:state], so a
   * `GtkListItem` expression or a bind handler can show a
   * [class@MultiTask] row's value in any language.
   *
   * Since: 1.0
   */
  properties[PROP_VALUE] =
    g_param_spec_boxed ("value", NULL, NULL,
                        G_TYPE_VALUE,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ag_task_init (AgTask *self)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  priv->complete_node.deliver = complete_deliver;
  priv->tracked.abandon = abandon_tracked;
}

/**
 * ag_task_get_state:
 * @self: a task
 *
 * Gets where the task is in its life.
 *
 * Thread: the engine's.
 *
 * Returns: the task's state
 *
 * Since: 1.0
 */
AgTaskState
ag_task_get_state (AgTask *self)
{
  g_return_val_if_fail (AG_IS_TASK (self), AG_TASK_PENDING);

  return _ag_task_get_priv (self)->state;
}

AgTaskState
_ag_task_peek_state (AgTask *self)
{
  return ((AgTaskPrivate *) ag_task_get_instance_private (self))->state;
}

/**
 * ag_task_is_finished:
 * @self: a task
 *
 * Tells whether the task has ended: succeeded, failed or cancelled. Unlike
 * the other getters this may be called from any thread.
 *
 * Thread: any.
 *
 * Returns: %TRUE if the task has ended
 *
 * Since: 1.0
 */
gboolean
ag_task_is_finished (AgTask *self)
{
  g_return_val_if_fail (AG_IS_TASK (self), FALSE);

  return g_atomic_int_get (&_ag_task_get_priv (self)->finished);
}

/**
 * ag_task_get_cancellable:
 * @self: a task
 *
 * Gets the cancellable the task's function is given. It is cancelled when
 * the task is, and it stays the task's once this has returned it.
 *
 * A task made by [ctor@Task.new] has one while its function runs; the
 * worker lends it its own and, when the function returns and nothing kept
 * it (a reference, a handler, a cancel, this call), takes it back for its
 * next task.
 *
 * Thread: any: the task's function reads it on its worker.
 *
 * Returns: (transfer none) (nullable): the task's cancellable, or %NULL if
 *   it has none: the task has not been run, or its function has not
 *   started or has returned without keeping it
 *
 * Since: 1.0
 */
GCancellable *
ag_task_get_cancellable (AgTask *self)
{
  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  return _ag_task_pin_cancellable (self);
}

/**
 * ag_task_get_error:
 * @self: a task
 *
 * Gets why the task failed, or %G_IO_ERROR_CANCELLED if it was cancelled.
 *
 * Thread: the engine's, or any thread once the task has finished.
 *
 * Returns: (transfer none) (nullable): the task's error, or %NULL if it has
 *   not failed
 *
 * Since: 1.0
 */
const GError *
ag_task_get_error (AgTask *self)
{
  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  return _ag_task_peek_error (_ag_task_get_priv (self));
}

/**
 * ag_task_cancel:
 * @self: a task
 *
 * Cancels the task. A running task ends as cancelled at the next delivery,
 * with %G_IO_ERROR_CANCELLED, whether or not its worker has noticed; what
 * the worker returns afterwards is dropped. A task that has not run yet ends
 * as cancelled as soon as it is run, without running its work. Cancelling a
 * finished task does nothing.
 *
 * May be called from any thread.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_cancel (AgTask *self)
{
  AgTaskPrivate *priv;

  g_return_if_fail (AG_IS_TASK (self));

  priv = _ag_task_get_priv (self);
  if (g_atomic_int_get (&priv->finished) || priv->settled_by_owner)
    return;

  /* A job hears of a cancel in its own code, as often as it is cancelled. */
  if (get_vfuncs (self)->request_cancel != NULL)
    {
      get_vfuncs (self)->request_cancel (self);
      return;
    }

  if (!_ag_task_set_once (priv, AG_TASK_ONCE_CANCEL_REQUESTED))
    return;

  /* A task not yet run has no queue; _ag_task_start() sees the request. */
  if (g_atomic_pointer_get (&priv->queue) == NULL)
    return;

  push_cancel_once (self);
}

