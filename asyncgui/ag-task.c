/* ag-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "ag-engine-private.h"
#include "ag-enum-types.h"
#include "ag-error.h"
#include "ag-task-private.h"
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
 *   if (bytes == NULL)
 *     ag_task_return_error (task, g_steal_pointer (&error));
 *   else
 *     ag_task_return_string (task, g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes));
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

typedef enum
{
  KIND_THREAD,
  KIND_MAIN,
  KIND_SLEEP,
  KIND_VIEW,
  KIND_SUBCLASS,
} TaskKind;

/* Progress and status as workers report them. Most tasks never report, so
 * this lives apart from the task and is made on first use. */
typedef struct
{
  GMutex    lock;                /* guards the fields up to status_text */
  double    reported_progress;
  char     *reported_status;
  gboolean  status_reported;
  gboolean  queued;              /* progress_node is in the completion queue */
  char     *status_text;         /* the engine's thread */
} AgTaskReport;

typedef struct
{
  TaskKind             kind;
  AgTaskState          state;
  int                  finished;            /* atomic: the state is final */

  AgTaskFunc           func;
  gpointer             func_data;
  GDestroyNotify       func_destroy;
  guint                sleep_msec;
  GSource             *sleep_source;
  gint64               sleep_deadline;      /* monotonic, while the timer runs */
  gint64               sleep_remaining_us;  /* while paused, or -1 */

  AgEngine            *engine;              /* weak; cleared when the engine goes */
  AgCompletionQueue   *queue;               /* set once, before any work runs */
  GCancellable        *cancellable;         /* atomic; set once: at start, or by the
                                             * worker for thread tasks */
  GCancellable        *outer_cancellable;
  gulong               outer_handler;
  GAsyncReadyCallback  callback;
  gpointer             callback_data;
  GDestroyNotify       callback_data_destroy;  /* library-internal callers only */
  GList                running_link;

  /* The value and returned_error are written by whichever thread wins
   * `returned`, before complete_node is pushed, and read on the engine's
   * thread after it is delivered; the value is public only once the task
   * succeeded. error is the engine's thread's. */
  int                  run_claimed;         /* atomic: given to an engine to run */
  int                  returned;            /* atomic */
  int                  cancel_requested;    /* atomic */
  int                  cancel_pushed;       /* atomic: cancel_node is queued once */
  GValue               value;
  GDestroyNotify       pointer_destroy;
  GError              *returned_error;
  GError              *error;

  AgWork               work;
  AgNode               complete_node;
  AgNode               progress_node;
  AgNode               cancel_node;
  AgNode               release_node;        /* see _ag_task_unref_at_home() */
  int                  in_func;             /* atomic: see thread_run() */

  AgTaskReport        *report;              /* atomic; made by the first report */
  double               progress;

  AgMultiTask         *parent;              /* weak: the parent holds its children */
  guint                position;

  GPtrArray           *dependencies;        /* AgTask, strong; NULL if none */
  guint                n_waiting;           /* dependencies not finished at start */
  GSList              *done_notifies;       /* DoneNotify, told once it is final */
} AgTaskPrivate;

/* Someone on the engine's thread who wants to know when a task ends,
 * besides the one who ran it: a task that depends on it. */
typedef struct
{
  AgTaskDoneFunc  func;
  gpointer        data;   /* strong reference on an AgTask */
} DoneNotify;

static void ag_task_async_result_iface_init (GAsyncResultIface *iface);

G_DEFINE_TYPE_WITH_CODE (AgTask, ag_task, G_TYPE_OBJECT,
                         G_ADD_PRIVATE (AgTask)
                         G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_RESULT,
                                                ag_task_async_result_iface_init))

enum {
  PROP_0,
  PROP_STATE,
  PROP_PROGRESS,
  PROP_STATUS_TEXT,
  PROP_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static inline AgTaskPrivate *
get_priv (AgTask *self)
{
  return ag_task_get_instance_private (self);
}

static AgTask *
task_from_priv (AgTaskPrivate *priv)
{
  return (AgTask *) ((char *) priv - AgTask_private_offset);
}

static gboolean
is_final (AgTaskState state)
{
  return state == AG_TASK_SUCCEEDED || state == AG_TASK_FAILED || state == AG_TASK_CANCELLED;
}

static void
clear_value (AgTaskPrivate *priv)
{
  if (G_VALUE_HOLDS_POINTER (&priv->value) && priv->pointer_destroy != NULL)
    priv->pointer_destroy (g_value_get_pointer (&priv->value));
  priv->pointer_destroy = NULL;
  if (G_IS_VALUE (&priv->value))
    g_value_unset (&priv->value);
}

static GCancellable *
peek_cancellable (AgTaskPrivate *priv)
{
  return g_atomic_pointer_get (&priv->cancellable);
}

static AgTaskReport *
ensure_report (AgTaskPrivate *priv)
{
  AgTaskReport *report = g_atomic_pointer_get (&priv->report);

  if (report == NULL)
    {
      AgTaskReport *fresh = g_new0 (AgTaskReport, 1);

      g_mutex_init (&fresh->lock);
      if (g_atomic_pointer_compare_and_exchange (&priv->report, NULL, fresh))
        return fresh;

      g_mutex_clear (&fresh->lock);
      g_free (fresh);
      report = g_atomic_pointer_get (&priv->report);
    }

  return report;
}

static void
free_report (AgTaskReport *report)
{
  g_mutex_clear (&report->lock);
  g_free (report->reported_status);
  g_free (report->status_text);
  g_free (report);
}

static void
stop_running (AgTask *self)
{
  AgTaskPrivate *priv = get_priv (self);

  if (priv->sleep_source != NULL)
    {
      g_source_destroy (priv->sleep_source);
      g_clear_pointer (&priv->sleep_source, g_source_unref);
    }

  if (priv->outer_handler != 0)
    {
      g_cancellable_disconnect (priv->outer_cancellable, priv->outer_handler);
      priv->outer_handler = 0;
    }
  g_clear_object (&priv->outer_cancellable);

  if (priv->engine != NULL)
    _ag_engine_untrack (priv->engine, &priv->running_link);
}

/* Publishes the latest report. Only the delivery of progress_node may mark
 * the node free again: the task finishing while it is still queued must not
 * let a worker queue it a second time. */
static void
apply_report (AgTask   *self,
              gboolean  node_delivered)
{
  AgTaskPrivate *priv = get_priv (self);
  AgTaskReport *report = g_atomic_pointer_get (&priv->report);
  g_autofree char *status = NULL;
  gboolean status_changed;
  double progress;

  if (report == NULL)
    return;

  g_mutex_lock (&report->lock);
  progress = report->reported_progress;
  status_changed = report->status_reported;
  status = g_steal_pointer (&report->reported_status);
  report->status_reported = FALSE;
  if (node_delivered)
    report->queued = FALSE;
  g_mutex_unlock (&report->lock);

  _ag_task_set_progress_now (self, progress);

  if (status_changed && g_strcmp0 (status, report->status_text) != 0)
    {
      g_free (report->status_text);
      report->status_text = g_steal_pointer (&status);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS_TEXT]);
    }
}

static void
tell_done (AgTask *self)
{
  AgTaskPrivate *priv = get_priv (self);
  GSList *notifies = g_slist_reverse (g_steal_pointer (&priv->done_notifies));

  for (GSList *l = notifies; l != NULL; l = l->next)
    {
      DoneNotify *notify = l->data;

      notify->func (self, notify->data);
      g_object_unref (notify->data);
      g_free (notify);
    }
  g_slist_free (notifies);
}

/* The engine is going: tasks waiting on this one are abandoned too, and
 * must not be started. */
static void
drop_done_notifies (AgTaskPrivate *priv)
{
  for (GSList *l = priv->done_notifies; l != NULL; l = l->next)
    {
      DoneNotify *notify = l->data;

      g_object_unref (notify->data);
      g_free (notify);
    }
  g_clear_pointer (&priv->done_notifies, g_slist_free);
}

static void
release_callback_data (AgTaskPrivate *priv)
{
  GDestroyNotify destroy = g_steal_pointer (&priv->callback_data_destroy);
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
  AgTaskPrivate *priv = get_priv (self);
  GAsyncReadyCallback callback;
  AgEngine *engine = priv->engine;

  g_assert (is_final (state));
  g_assert (!is_final (priv->state));

  priv->state = state;
  priv->error = error;
  g_atomic_int_set (&priv->finished, TRUE);

  stop_running (self);
  if (AG_TASK_GET_KIND_CLASS (self)->stopped != NULL)
    AG_TASK_GET_KIND_CLASS (self)->stopped (self);
  _ag_wait_wake_all ();

  if (state == AG_TASK_SUCCEEDED)
    apply_report (self, FALSE);

  if (priv->error != NULL)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);

  callback = g_steal_pointer (&priv->callback);
  if (callback != NULL)
    callback (G_OBJECT (engine), G_ASYNC_RESULT (self), priv->callback_data);
  release_callback_data (priv);
  tell_done (self);

  /* Drops the reference taken by _ag_task_start(). */
  g_object_unref (self);
}

static void
finish_cancelled (AgTask *self)
{
  AG_TASK_GET_KIND_CLASS (self)->cancel (self);

  /* The subclass may have finished already while cancelling. */
  if (!is_final (get_priv (self)->state))
    finish (self, AG_TASK_CANCELLED,
            g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                 _("The task was cancelled")));
}

static gboolean
release_on_context (gpointer user_data)
{
  /* The source's destroy notify drops the reference. */
  return G_SOURCE_REMOVE;
}

static void
release_deliver (AgNode   *node,
                 AgEngine *engine)
{
  AgTaskPrivate *priv = G_STRUCT_MEMBER_P (node, -G_STRUCT_OFFSET (AgTaskPrivate, release_node));
  AgTask *self = task_from_priv (priv);
  GSource *source;

  if (engine != NULL || _ag_completion_queue_is_home_thread (priv->queue))
    {
      g_object_unref (self);
      return;
    }

  /* The engine is gone, but its context lives on (the queue holds it):
   * the reference goes at the context's next iteration. */
  source = g_idle_source_new ();
  g_source_set_callback (source, release_on_context, self, g_object_unref);
  g_source_set_static_name (source, "[asyncgui] release task");
  g_source_attach (source, _ag_completion_queue_get_context (priv->queue));
  g_source_unref (source);
}

/* Drops a reference the library holds, from any thread, so that the task
 * is never finalized on a worker: the data its function was given (often
 * a widget), its value and its callback's data are released on the
 * engine's thread. A reference dropped elsewhere travels home on the
 * completion queue, or, once the engine is gone, to its context. A task
 * that never ran is finalized wherever its last reference goes. */
void
_ag_task_unref_at_home (AgTask *self)
{
  AgTaskPrivate *priv = get_priv (self);

  if (priv->queue == NULL || _ag_completion_queue_is_home_thread (priv->queue))
    {
      g_object_unref (self);
      return;
    }

  _ag_completion_queue_push (priv->queue, &priv->release_node);
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
                  AgEngine *engine)
{
  AgTaskPrivate *priv = G_STRUCT_MEMBER_P (node, -G_STRUCT_OFFSET (AgTaskPrivate, complete_node));
  AgTask *self = task_from_priv (priv);

  if (engine != NULL && priv->state == AG_TASK_RUNNING)
    {
      if (g_atomic_int_get (&priv->cancel_requested))
        finish_cancelled (self);
      else if (priv->returned_error != NULL)
        {
          /* Decided before the error is taken: C leaves the order in
           * which a call's arguments are evaluated open. */
          AgTaskState state = g_error_matches (priv->returned_error, G_IO_ERROR,
                                               G_IO_ERROR_CANCELLED)
                                ? AG_TASK_CANCELLED : AG_TASK_FAILED;

          finish (self, state, g_steal_pointer (&priv->returned_error));
        }
      else
        finish (self, AG_TASK_SUCCEEDED, NULL);
    }

  /* Otherwise it is a result nobody will see: late, or the engine is gone.
   * Without an engine this may run on a worker while the engine's thread
   * abandons the task, so the state is not read here: the task's
   * finalization, on the engine's context, frees what was returned. */
  if (engine != NULL)
    {
      if (priv->state != AG_TASK_SUCCEEDED)
        clear_value (priv);
      g_clear_error (&priv->returned_error);
    }
  unref_after_delivery (self, engine);
}

static void
cancel_deliver (AgNode   *node,
                AgEngine *engine)
{
  AgTaskPrivate *priv = G_STRUCT_MEMBER_P (node, -G_STRUCT_OFFSET (AgTaskPrivate, cancel_node));
  AgTask *self = task_from_priv (priv);

  if (engine != NULL && priv->state == AG_TASK_RUNNING)
    finish_cancelled (self);

  unref_after_delivery (self, engine);
}

static void
progress_deliver (AgNode   *node,
                  AgEngine *engine)
{
  AgTaskPrivate *priv = G_STRUCT_MEMBER_P (node, -G_STRUCT_OFFSET (AgTaskPrivate, progress_node));
  AgTask *self = task_from_priv (priv);

  if (engine != NULL && priv->state == AG_TASK_RUNNING)
    apply_report (self, TRUE);
  else
    {
      AgTaskReport *report = g_atomic_pointer_get (&priv->report);

      g_mutex_lock (&report->lock);
      report->queued = FALSE;
      g_mutex_unlock (&report->lock);
    }

  unref_after_delivery (self, engine);
}

/* Claims the one return a task gets. The loser is a programming error
 * unless it is the library's own fallback. */
static gboolean
claim_return (AgTask     *self,
              const char *strfunc,
              gboolean    quiet)
{
  AgTaskPrivate *priv = get_priv (self);

  if (priv->queue == NULL)
    {
      g_critical ("%s: the task %p is not running; only a running task can return", strfunc, self);
      return FALSE;
    }

  if (!g_atomic_int_compare_and_exchange (&priv->returned, 0, 1))
    {
      if (!quiet)
        g_critical ("%s: the task %p already returned; a task returns once", strfunc, self);
      return FALSE;
    }

  return TRUE;
}

static void
push_completion (AgTask *self)
{
  AgTaskPrivate *priv = get_priv (self);

  priv->complete_node.deliver = complete_deliver;
  _ag_completion_queue_push (priv->queue, &priv->complete_node);
}

enum
{
  NOT_IN_FUNC,
  IN_FUNC,
  IN_FUNC_RETURNED,
};

/* The outcome is set: send it home. While a thread task's function runs,
 * thread_run() sends it once the function has returned, with the
 * reference the work holds, so that a worker never drops the last one. */
static void
deliver_returned (AgTask *self)
{
  AgTaskPrivate *priv = get_priv (self);

  if (g_atomic_int_compare_and_exchange (&priv->in_func, IN_FUNC, IN_FUNC_RETURNED))
    return;

  g_object_ref (self);
  push_completion (self);
}

/* Moves @value (which may be NULL: no value) into the task's return. */
static void
return_moved_value (AgTask     *self,
                    GValue     *value,
                    const char *strfunc)
{
  AgTaskPrivate *priv;

  if (!claim_return (self, strfunc, FALSE))
    {
      if (value != NULL && G_IS_VALUE (value))
        g_value_unset (value);
      return;
    }

  priv = get_priv (self);
  if (value != NULL && G_IS_VALUE (value))
    {
      priv->value = *value;
      memset (value, 0, sizeof *value);
    }

  deliver_returned (self);
}

static void
thread_run (AgWork *work)
{
  AgTaskPrivate *priv = G_STRUCT_MEMBER_P (work, -G_STRUCT_OFFSET (AgTaskPrivate, work));
  AgTask *self = task_from_priv (priv);

  GCancellable *cancellable;

  /* Made here rather than when the task is submitted: a burst of submissions
   * costs the engine's thread one object less each. Cancelling reads it after
   * setting cancel_requested, and this reads cancel_requested after
   * publishing it, so one of the two always cancels it. */
  cancellable = g_cancellable_new ();
  if (!g_atomic_pointer_compare_and_exchange (&priv->cancellable, NULL, cancellable))
    g_clear_object (&cancellable);
  cancellable = peek_cancellable (priv);
  if (g_atomic_int_get (&priv->cancel_requested))
    g_cancellable_cancel (cancellable);

  g_atomic_int_set (&priv->in_func, IN_FUNC);
  if (!g_cancellable_is_cancelled (cancellable))
    priv->func (self, priv->func_data, cancellable);

  /* The work's reference goes home with the completion. */
  if (g_atomic_int_exchange (&priv->in_func, NOT_IN_FUNC) == IN_FUNC_RETURNED)
    {
      push_completion (self);
      return;
    }

  if (claim_return (self, G_STRFUNC, TRUE))
    {
      if (g_cancellable_is_cancelled (cancellable))
        priv->returned_error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                    _("The task was cancelled"));
      else
        priv->returned_error = g_error_new_literal (AG_ERROR, AG_ERROR_NO_RESULT,
                                                    _("The task function returned without a value or an error"));
      push_completion (self);
      return;
    }

  /* Another thread returned just after the function did, and sent the
   * outcome itself. */
  _ag_task_unref_at_home (self);
}

static void
thread_drop (AgWork *work)
{
  AgTaskPrivate *priv = G_STRUCT_MEMBER_P (work, -G_STRUCT_OFFSET (AgTaskPrivate, work));

  _ag_task_unref_at_home (task_from_priv (priv));
}

static gboolean sleep_done (gpointer user_data);

static void
start_sleep_timer (AgTask *self,
                   gint64  remaining_us)
{
  AgTaskPrivate *priv = get_priv (self);

  priv->sleep_deadline = g_get_monotonic_time () + remaining_us;
  priv->sleep_remaining_us = -1;
  priv->sleep_source = g_timeout_source_new ((guint) ((remaining_us + 999) / 1000));
  g_source_set_static_name (priv->sleep_source, "[asyncgui] sleep");
  g_source_set_callback (priv->sleep_source, sleep_done, self, NULL);
  g_source_attach (priv->sleep_source, ag_engine_get_context (priv->engine));
}

/* A paused job's sleep keeps only what remains of it. Other kinds of work
 * cannot be stopped halfway; their result is held by the job instead. */
void
_ag_task_pause_timer (AgTask *self)
{
  AgTaskPrivate *priv = get_priv (self);

  if (priv->kind != KIND_SLEEP || priv->sleep_source == NULL)
    return;

  priv->sleep_remaining_us = MAX (priv->sleep_deadline - g_get_monotonic_time (), 0);
  g_source_destroy (priv->sleep_source);
  g_clear_pointer (&priv->sleep_source, g_source_unref);
}

void
_ag_task_resume_timer (AgTask *self)
{
  AgTaskPrivate *priv = get_priv (self);

  if (priv->kind != KIND_SLEEP || priv->sleep_remaining_us < 0 || priv->state != AG_TASK_RUNNING)
    return;

  start_sleep_timer (self, priv->sleep_remaining_us);
}

/* The outcome as a finish function gives it: a copy of the value, or the
 * error. */
GValue *
_ag_task_propagate_value (AgTask  *self,
                          GError **error)
{
  const GValue *value;
  GValue *copy;

  if (ag_task_get_error (self) != NULL)
    {
      if (error != NULL)
        *error = g_error_copy (ag_task_get_error (self));
      return NULL;
    }

  value = ag_task_get_value (self);
  if (value == NULL)
    return NULL;

  copy = g_new0 (GValue, 1);
  _ag_value_init_copy (copy, value);

  return copy;
}

static gboolean
sleep_done (gpointer user_data)
{
  AgTask *self = user_data;
  AgTaskPrivate *priv = get_priv (self);

  g_clear_pointer (&priv->sleep_source, g_source_unref);
  return_moved_value (self, NULL, G_STRFUNC);

  return G_SOURCE_REMOVE;
}

/* Starting and cancelling may race when cancel comes from another thread:
 * whichever gets here first queues the node, once. */
static void
push_cancel_once (AgTask *self)
{
  AgTaskPrivate *priv = get_priv (self);

  GCancellable *cancellable;

  if (!g_atomic_int_compare_and_exchange (&priv->cancel_pushed, 0, 1))
    return;

  cancellable = peek_cancellable (priv);
  if (cancellable != NULL)
    g_cancellable_cancel (cancellable);
  g_object_ref (self);
  _ag_completion_queue_push (priv->queue, &priv->cancel_node);
}

static void
ag_task_real_start (AgTask *self)
{
  AgTaskPrivate *priv = get_priv (self);

  switch (priv->kind)
    {
    case KIND_THREAD:
      priv->work.run = thread_run;
      priv->work.drop = thread_drop;
      g_object_ref (self);
      _ag_engine_submit_work (priv->engine, &priv->work);
      break;

    case KIND_MAIN:
      priv->func (self, priv->func_data, priv->cancellable);
      break;

    case KIND_SLEEP:
      start_sleep_timer (self, (gint64) priv->sleep_msec * 1000);
      break;

    case KIND_VIEW:
    case KIND_SUBCLASS:
    default:
      g_assert_not_reached ();
    }
}

static void
ag_task_real_cancel (AgTask *self)
{
}

/* Dependencies */

static AgTask *
first_failed_dependency (AgTask *self)
{
  AgTaskPrivate *priv = get_priv (self);

  for (guint i = 0; priv->dependencies != NULL && i < priv->dependencies->len; i++)
    {
      AgTask *dependency = g_ptr_array_index (priv->dependencies, i);

      if (ag_task_get_state (dependency) != AG_TASK_SUCCEEDED)
        return dependency;
    }

  return NULL;
}

/* All dependencies have ended: run the work, or fail with the error of the
 * first one in list order that did not succeed; the work then never runs. */
static void
dependencies_done (AgTask *self)
{
  AgTask *failed = first_failed_dependency (self);

  if (failed == NULL)
    {
      AG_TASK_GET_KIND_CLASS (self)->start (self);
      return;
    }

  if (ag_task_get_error (failed) != NULL)
    ag_task_return_error (self, g_error_copy (ag_task_get_error (failed)));
  else
    ag_task_return_new_error (self, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s",
                              _("A task this one depends on was cancelled"));
}

static void
dependency_done (AgTask   *dependency,
                 gpointer  data)
{
  AgTask *self = data;
  AgTaskPrivate *priv = get_priv (self);

  /* Cancelled meanwhile, or the engine went: nothing left to start. */
  if (priv->state != AG_TASK_RUNNING || _ag_task_is_cancel_requested (self))
    return;

  if (--priv->n_waiting == 0)
    dependencies_done (self);
}

/* Calls @func with @data on the engine's thread once @task is final.
 * @data is an AgTask (or subclass), kept alive until then; a task the
 * engine abandons drops it without calling. */
void
_ag_task_add_done_notify (AgTask          *task,
                          AgTaskDoneFunc   func,
                          AgTask          *data)
{
  AgTaskPrivate *priv = get_priv (task);
  DoneNotify *notify = g_new0 (DoneNotify, 1);

  notify->func = func;
  notify->data = g_object_ref (data);
  priv->done_notifies = g_slist_prepend (priv->done_notifies, notify);
}

/* A dependency not yet run is run here, on the same engine; one running
 * elsewhere is waited for; one finished counts at once. */
static void
start_after_dependencies (AgTask *self)
{
  AgTaskPrivate *priv = get_priv (self);

  if (priv->dependencies == NULL)
    {
      AG_TASK_GET_KIND_CLASS (self)->start (self);
      return;
    }

  priv->n_waiting = 1;  /* held until every dependency is looked at */
  for (guint i = 0; i < priv->dependencies->len; i++)
    {
      AgTask *dependency = g_ptr_array_index (priv->dependencies, i);

      if (ag_task_is_finished (dependency))
        continue;

      priv->n_waiting++;
      _ag_task_add_done_notify (dependency, dependency_done, self);
      if (ag_task_get_state (dependency) == AG_TASK_PENDING)
        ag_engine_run_async (priv->engine, dependency, NULL, NULL, NULL);
    }

  dependency_done (NULL, self);
}

static gboolean
depends_on (AgTask *self,
            AgTask *other)
{
  AgTaskPrivate *priv = get_priv (self);

  if (self == other)
    return TRUE;

  for (guint i = 0; priv->dependencies != NULL && i < priv->dependencies->len; i++)
    if (depends_on (g_ptr_array_index (priv->dependencies, i), other))
      return TRUE;

  return FALSE;
}

/**
 * ag_task_add_dependency:
 * @self: a task not yet run
 * @dependency: a task @self needs first
 * @error: return location for an error
 *
 * Makes @self wait for @dependency: when @self is run, it runs @dependency
 * on the same engine if nobody has run it yet, or waits for it to end, and
 * starts its own work only once all its dependencies have succeeded. If one
 * of them fails or is cancelled, @self fails with its error without its
 * work ever running. The work can read the dependencies' values with
 * [method@Task.get_dependency_value].
 *
 * A task cannot depend on itself, directly or through others: such a
 * dependency is refused with %AG_ERROR_DEPENDENCY_CYCLE and not recorded.
 * The dependencies of a task that has been run are fixed; adding one then
 * is a programming error.
 *
 * Thread: any, before @self is run, as long as no other thread changes the
 * same tasks at the same time.
 *
 * Returns: %TRUE if @self now depends on @dependency, %FALSE with @error
 *   set if that would make a cycle
 *
 * Since: 1.0
 */
gboolean
ag_task_add_dependency (AgTask  *self,
                        AgTask  *dependency,
                        GError **error)
{
  AgTaskPrivate *priv;

  g_return_val_if_fail (AG_IS_TASK (self), FALSE);
  g_return_val_if_fail (AG_IS_TASK (dependency), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  priv = get_priv (self);
  if (priv->state != AG_TASK_PENDING || g_atomic_int_get (&priv->run_claimed))
    {
      g_critical ("%s: the task %p was already run; its dependencies are fixed", G_STRFUNC, self);
      return FALSE;
    }

  if (depends_on (dependency, self))
    {
      g_set_error_literal (error, AG_ERROR, AG_ERROR_DEPENDENCY_CYCLE,
                           self == dependency
                             ? _("A task cannot depend on itself")
                             : _("The dependency already depends on this task; dependencies cannot form a cycle"));
      return FALSE;
    }

  if (priv->dependencies == NULL)
    priv->dependencies = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (priv->dependencies, g_object_ref (dependency));

  return TRUE;
}

/**
 * ag_task_get_n_dependencies:
 * @self: a task
 *
 * Gets how many tasks @self depends on.
 *
 * Returns: the number of dependencies
 *
 * Since: 1.0
 */
guint
ag_task_get_n_dependencies (AgTask *self)
{
  AgTaskPrivate *priv;

  g_return_val_if_fail (AG_IS_TASK (self), 0);

  priv = get_priv (self);
  return priv->dependencies != NULL ? priv->dependencies->len : 0;
}

/**
 * ag_task_get_dependency_value:
 * @self: a task whose work is running
 * @index: the position of a dependency, in the order they were added
 *
 * Gets the value a dependency succeeded with. The task's work may call this
 * from its worker thread: it runs only after every dependency succeeded, and
 * their values do not change any more.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL if the
 *   dependency succeeded without one
 *
 * Since: 1.0
 */
const GValue *
ag_task_get_dependency_value (AgTask *self,
                              guint   index)
{
  AgTaskPrivate *priv;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  priv = get_priv (self);
  g_return_val_if_fail (priv->dependencies != NULL && index < priv->dependencies->len, NULL);

  return ag_task_get_value (g_ptr_array_index (priv->dependencies, index));
}

typedef struct
{
  AgTaskAndThenFunc func;
  gpointer       user_data;
  GDestroyNotify destroy;
} Then;

static void
then_free (gpointer data)
{
  Then *then = data;

  if (then->destroy != NULL)
    then->destroy (then->user_data);
  g_free (then);
}

static void
then_run (AgTask       *task,
          gpointer      data,
          GCancellable *cancellable)
{
  Then *then = data;

  then->func (task, ag_task_get_dependency_value (task, 0), then->user_data, cancellable);
}

/**
 * ag_task_and_then:
 * @self: a task
 * @func: (scope notified) (closure user_data) (destroy destroy): the next
 *   work, on a worker thread, given @self's value
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the new task is finalized
 *
 * Creates the task that follows @self: it depends on @self, and its work
 * receives @self's value. Run the new task to run both; if @self has already
 * finished, only the new work runs. If @self fails or is cancelled, the new
 * task fails with the same error and @func never runs.
 *
 * Returns: (transfer full): a new task
 *
 * Since: 1.0
 */
AgTask *
ag_task_and_then (AgTask         *self,
              AgTaskAndThenFunc  func,
              gpointer        user_data,
              GDestroyNotify  destroy)
{
  Then *then;
  AgTask *next;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  then = g_new0 (Then, 1);
  then->func = func;
  then->user_data = user_data;
  then->destroy = destroy;

  next = ag_task_new (then_run, then, then_free);
  /* A task made here cannot close a cycle. */
  ag_task_add_dependency (next, self, NULL);

  return next;
}

static void
outer_cancelled (GCancellable *cancellable,
                 gpointer      user_data)
{
  ag_task_cancel (AG_TASK (user_data));
}

/* Whoever runs a task first claims it, from any thread: a task runs once. */
gboolean
_ag_task_claim_run (AgTask *self)
{
  return g_atomic_int_compare_and_exchange (&get_priv (self)->run_claimed, 0, 1);
}

/* A task run from a thread other than the engine's travels to the engine's
 * thread as a request on the completion queue, like a result, and starts
 * there when it is delivered. */
typedef struct
{
  AgNode               node;
  AgTask              *task;         /* strong */
  GCancellable        *cancellable;  /* strong, nullable */
  GAsyncReadyCallback  callback;
  gpointer             user_data;
} StartRequest;

static void
start_request_deliver (AgNode   *node,
                       AgEngine *engine)
{
  StartRequest *request = (StartRequest *) node;
  AgTask *self = request->task;
  AgTaskPrivate *priv = get_priv (self);

  if (engine == NULL)
    {
      /* The engine went first: the task ends as those in flight at
       * disposal do, cancelled, without its callback. */
      _ag_task_end_quietly (self);
    }
  else if (priv->state != AG_TASK_PENDING)
    {
      /* Started meanwhile on the engine's thread: as a dependency, say. */
      g_critical ("ag_engine_run_async: the task %p was already run; a task runs once", self);
      g_task_report_new_error (engine, request->callback, request->user_data,
                               ag_engine_run_async, AG_ERROR, AG_ERROR_ALREADY_STARTED,
                               _("The task was already run; a task runs only once"));
    }
  else
    _ag_task_start (self, engine, request->cancellable, request->callback,
                    request->user_data, NULL);

  g_clear_object (&request->cancellable);
  g_object_unref (self);
  g_free (request);
}

void
_ag_task_start_from_other_thread (AgTask              *self,
                                  AgEngine            *engine,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  StartRequest *request = g_new0 (StartRequest, 1);

  request->node.deliver = start_request_deliver;
  request->task = g_object_ref (self);
  request->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  request->callback = callback;
  request->user_data = user_data;

  _ag_completion_queue_push (_ag_engine_get_queue (engine), &request->node);
}

void
_ag_task_start (AgTask              *self,
                AgEngine            *engine,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data,
                GDestroyNotify       user_data_destroy)
{
  AgTaskPrivate *priv = get_priv (self);

  g_assert (priv->state == AG_TASK_PENDING);

  g_atomic_int_set (&priv->run_claimed, TRUE);
  g_atomic_pointer_set (&priv->engine, engine);
  if (priv->kind != KIND_THREAD)
    priv->cancellable = g_cancellable_new ();
  /* Published last: another thread's ag_task_cancel() reads it first. */
  g_atomic_pointer_set (&priv->queue, _ag_completion_queue_ref (_ag_engine_get_queue (engine)));
  priv->callback = callback;
  priv->callback_data = user_data;
  priv->callback_data_destroy = user_data_destroy;
  priv->state = AG_TASK_RUNNING;

  /* Held until finish(): a running task stays alive however its owner
   * treats it. */
  g_object_ref (self);
  priv->running_link.data = self;
  _ag_engine_track (engine, &priv->running_link);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);

  /* Reported before it ran: now there is a queue to deliver it by. */
  if (priv->report != NULL && priv->report->queued)
    {
      g_object_ref (self);
      _ag_completion_queue_push (priv->queue, &priv->progress_node);
    }

  if (g_atomic_int_get (&priv->cancel_requested))
    {
      push_cancel_once (self);
      return;
    }

  if (cancellable != NULL)
    {
      priv->outer_cancellable = g_object_ref (cancellable);
      priv->outer_handler = g_cancellable_connect (cancellable, G_CALLBACK (outer_cancelled),
                                                   self, NULL);
    }

  start_after_dependencies (self);
}

/* The engine is shutting down: end quietly, no callback, no notification. */
void
_ag_task_abandon (AgTask *self)
{
  AgTaskPrivate *priv = get_priv (self);

  g_assert (priv->state == AG_TASK_RUNNING);

  g_atomic_int_set (&priv->cancel_requested, TRUE);
  if (peek_cancellable (priv) != NULL)
    g_cancellable_cancel (peek_cancellable (priv));
  stop_running (self);

  priv->state = AG_TASK_CANCELLED;
  priv->error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                     _("The engine was shut down before the task finished"));
  if (AG_TASK_GET_KIND_CLASS (self)->stopped != NULL)
    AG_TASK_GET_KIND_CLASS (self)->stopped (self);
  priv->callback = NULL;
  release_callback_data (priv);
  drop_done_notifies (priv);
  g_atomic_pointer_set (&priv->engine, NULL);
  g_atomic_int_set (&priv->finished, TRUE);
  _ag_wait_wake_all ();

  g_object_unref (self);
}

/* The engine is shutting down and this task, which never started (or is a
 * view of a MultiTask's input), will not: it ends as cancelled like those
 * the engine abandons, without telling anyone. */
void
_ag_task_end_quietly (AgTask *self)
{
  AgTaskPrivate *priv = get_priv (self);

  if (is_final (priv->state))
    return;

  priv->state = AG_TASK_CANCELLED;
  priv->error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                     _("The engine was shut down before the task finished"));
  g_atomic_int_set (&priv->finished, TRUE);
  _ag_wait_wake_all ();
}

AgEngine *
_ag_task_get_engine (AgTask *self)
{
  return get_priv (self)->engine;
}

gboolean
_ag_task_is_cancel_requested (AgTask *self)
{
  return g_atomic_int_get (&get_priv (self)->cancel_requested);
}

/* Like ag_task_return_value(), taking @value (NULL for no value) without a
 * copy: a multi-task's array of a million values is not copied. */
void
_ag_task_return_take_value (AgTask *self,
                            GValue *value)
{
  return_moved_value (self, value, G_STRFUNC);
}

void
_ag_task_set_parent (AgTask      *self,
                     AgMultiTask *parent,
                     guint        position)
{
  AgTaskPrivate *priv = get_priv (self);

  priv->parent = parent;
  priv->position = position;
}

gboolean
_ag_task_get_parent (AgTask       *self,
                     AgMultiTask **parent,
                     guint        *position)
{
  AgTaskPrivate *priv = get_priv (self);

  if (parent != NULL)
    *parent = priv->parent;
  if (position != NULL)
    *position = priv->position;

  return priv->parent != NULL;
}

/* A child of a mapping multi-task, made when someone asks for it: it mirrors
 * the state of its input and cannot be run on its own. */
AgTask *
_ag_task_new_view (void)
{
  AgTask *self = g_object_new (AG_TYPE_TASK, NULL);
  AgTaskPrivate *priv = get_priv (self);

  priv->kind = KIND_VIEW;
  priv->state = AG_TASK_RUNNING;

  return self;
}

void
_ag_task_settle_view (AgTask       *self,
                      const GValue *value,
                      const GError *error)
{
  AgTaskPrivate *priv = get_priv (self);

  g_return_if_fail (priv->kind == KIND_VIEW && !is_final (priv->state));

  if (error != NULL)
    {
      priv->error = g_error_copy (error);
      priv->state = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                      ? AG_TASK_CANCELLED : AG_TASK_FAILED;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
    }
  else
    {
      if (value != NULL && G_IS_VALUE (value))
        {
          _ag_value_init_copy (&priv->value, value);
        }
      priv->state = AG_TASK_SUCCEEDED;
      _ag_task_set_progress_now (self, 1.0);
    }

  g_atomic_int_set (&priv->finished, TRUE);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
_ag_task_set_progress_now (AgTask *self,
                           double  progress)
{
  AgTaskPrivate *priv = get_priv (self);

  if (priv->progress == progress)
    return;

  priv->progress = progress;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
}

static void
ag_task_finalize (GObject *object)
{
  AgTask *self = AG_TASK (object);
  AgTaskPrivate *priv = get_priv (self);

  clear_value (priv);
  g_clear_error (&priv->error);
  g_clear_error (&priv->returned_error);

  if (priv->func_destroy != NULL)
    priv->func_destroy (priv->func_data);

  g_clear_object (&priv->cancellable);
  g_clear_pointer (&priv->queue, _ag_completion_queue_unref);
  g_clear_pointer (&priv->report, free_report);
  g_clear_pointer (&priv->dependencies, g_ptr_array_unref);
  drop_done_notifies (priv);

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

  AG_TASK_KIND_CLASS (klass)->start = ag_task_real_start;
  AG_TASK_KIND_CLASS (klass)->cancel = ag_task_real_cancel;

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

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ag_task_init (AgTask *self)
{
  AgTaskPrivate *priv = get_priv (self);

  priv->kind = KIND_SUBCLASS;
  priv->complete_node.deliver = complete_deliver;
  priv->cancel_node.deliver = cancel_deliver;
  priv->progress_node.deliver = progress_deliver;
  /* Set once here: after the engine is gone, several workers may send
   * references home at the same time (each through a closed queue, which
   * delivers at once and never links the node). */
  priv->release_node.deliver = release_deliver;
}

static gpointer
ag_task_async_result_get_user_data (GAsyncResult *result)
{
  return get_priv (AG_TASK (result))->callback_data;
}

static GObject *
ag_task_async_result_get_source_object (GAsyncResult *result)
{
  AgEngine *engine = get_priv (AG_TASK (result))->engine;

  return engine != NULL ? g_object_ref (G_OBJECT (engine)) : NULL;
}

static gboolean
ag_task_async_result_is_tagged (GAsyncResult *result,
                                gpointer      source_tag)
{
  return source_tag == ag_engine_run_async;
}

static void
ag_task_async_result_iface_init (GAsyncResultIface *iface)
{
  iface->get_user_data = ag_task_async_result_get_user_data;
  iface->get_source_object = ag_task_async_result_get_source_object;
  iface->is_tagged = ag_task_async_result_is_tagged;
}

static AgTask *
new_with_func (TaskKind        kind,
               AgTaskFunc      func,
               gpointer        user_data,
               GDestroyNotify  destroy)
{
  AgTask *self = g_object_new (AG_TYPE_TASK, NULL);
  AgTaskPrivate *priv = get_priv (self);

  priv->kind = kind;
  priv->func = func;
  priv->func_data = user_data;
  priv->func_destroy = destroy;

  return self;
}

/**
 * ag_task_new:
 * @func: (scope notified) (closure user_data) (destroy destroy): the work,
 *   run on a worker thread
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the task is finalized, on the
 *   engine's thread once the task has run
 *
 * Creates a task that runs @func on a worker thread of the engine it is run
 * on (on the engine's own thread in serial mode). @func ends the task with
 * one of the `ag_task_return_*()` functions before it returns; if it returns
 * without doing so the task fails with %AG_ERROR_NO_RESULT. The outcome is
 * sent to the engine's thread once @func has returned, as with GTask.
 *
 * Returns: (transfer full): a new task
 *
 * Since: 1.0
 */
AgTask *
ag_task_new (AgTaskFunc     func,
             gpointer       user_data,
             GDestroyNotify destroy)
{
  g_return_val_if_fail (func != NULL, NULL);

  return new_with_func (KIND_THREAD, func, user_data, destroy);
}

/**
 * ag_task_new_main:
 * @func: (scope notified) (closure user_data) (destroy destroy): starts the
 *   work, on the engine's context
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the task is finalized
 *
 * Creates a task whose function runs on the engine's context when the task
 * is run. The function must not block: it starts an asynchronous operation
 * and ends the task from that operation's callback with one of the
 * `ag_task_return_*()` functions. This wraps any GIO `_async`/`_finish`
 * pair:
 *
 * ```c
 * static void
 * loaded (GObject      *file,
 *         GAsyncResult *result,
 *         gpointer      user_data)
 * {
 *   g_autoptr(AgTask) task = user_data;
 *   g_autoptr(GError) error = NULL;
 *   g_autoptr(GBytes) bytes = g_file_load_bytes_finish (G_FILE (file), result, NULL, &error);
 *
 *   if (bytes == NULL)
 *     ag_task_return_error (task, g_steal_pointer (&error));
 *   else
 *     ag_task_return_pointer (task, g_steal_pointer (&bytes), (GDestroyNotify) g_bytes_unref);
 * }
 *
 * static void
 * load (AgTask       *task,
 *       gpointer      user_data,
 *       GCancellable *cancellable)
 * {
 *   g_file_load_bytes_async (user_data, cancellable, loaded, g_object_ref (task));
 * }
 * ```
 *
 * Returns: (transfer full): a new task
 *
 * Since: 1.0
 */
AgTask *
ag_task_new_main (AgTaskFunc     func,
                  gpointer       user_data,
                  GDestroyNotify destroy)
{
  g_return_val_if_fail (func != NULL, NULL);

  return new_with_func (KIND_MAIN, func, user_data, destroy);
}

/**
 * ag_task_new_sleep:
 * @msec: how long to sleep, in milliseconds
 *
 * Creates a task that succeeds, without a value, @msec milliseconds after it
 * is run. It uses a timer on the engine's context, not a thread.
 *
 * Returns: (transfer full): a new task
 *
 * Since: 1.0
 */
AgTask *
ag_task_new_sleep (guint msec)
{
  AgTask *self = g_object_new (AG_TYPE_TASK, NULL);
  AgTaskPrivate *priv = get_priv (self);

  priv->kind = KIND_SLEEP;
  priv->sleep_msec = msec;

  return self;
}

/**
 * ag_task_get_state:
 * @self: a task
 *
 * Gets where the task is in its life.
 *
 * Returns: the task's state
 *
 * Since: 1.0
 */
AgTaskState
ag_task_get_state (AgTask *self)
{
  g_return_val_if_fail (AG_IS_TASK (self), AG_TASK_PENDING);

  return get_priv (self)->state;
}

/**
 * ag_task_is_finished:
 * @self: a task
 *
 * Tells whether the task has ended: succeeded, failed or cancelled. Unlike
 * the other getters this may be called from any thread.
 *
 * Returns: %TRUE if the task has ended
 *
 * Since: 1.0
 */
gboolean
ag_task_is_finished (AgTask *self)
{
  g_return_val_if_fail (AG_IS_TASK (self), FALSE);

  return g_atomic_int_get (&get_priv (self)->finished);
}

/**
 * ag_task_get_cancellable:
 * @self: a task
 *
 * Gets the cancellable the task's function is given. It is cancelled when
 * the task is. It exists once the task runs.
 *
 * Returns: (transfer none) (nullable): the task's cancellable, or %NULL if
 *   the task has not been run
 *
 * Since: 1.0
 */
GCancellable *
ag_task_get_cancellable (AgTask *self)
{
  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  return get_priv (self)->cancellable;
}

/**
 * ag_task_get_error:
 * @self: a task
 *
 * Gets why the task failed, or %G_IO_ERROR_CANCELLED if it was cancelled.
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

  return get_priv (self)->error;
}

/**
 * ag_task_get_value:
 * @self: a task
 *
 * Gets the value the task succeeded with.
 *
 * Returns: (transfer none) (nullable): the task's value, or %NULL if it has
 *   none (not finished, failed, or succeeded without a value)
 *
 * Since: 1.0
 */
const GValue *
ag_task_get_value (AgTask *self)
{
  AgTaskPrivate *priv;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  priv = get_priv (self);
  if (priv->state != AG_TASK_SUCCEEDED || !G_IS_VALUE (&priv->value))
    return NULL;

  return &priv->value;
}

/* The typed getters return the zero value when there is no value (the task
 * failed, say), and complain only when there is a value of another type:
 * that is a programming error. */
static const GValue *
typed_value (AgTask     *self,
             GType       type,
             const char *strfunc)
{
  const GValue *value = ag_task_get_value (self);

  if (value == NULL)
    return NULL;

  if (!G_VALUE_HOLDS (value, type))
    {
      g_critical ("%s: the task's value is a %s, not a %s", strfunc,
                  G_VALUE_TYPE_NAME (value), g_type_name (type));
      return NULL;
    }

  return value;
}

/**
 * ag_task_get_int:
 * @self: a task
 *
 * Gets the integer the task succeeded with.
 *
 * Returns: the value, or 0 if there is none
 *
 * Since: 1.0
 */
int
ag_task_get_int (AgTask *self)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), 0);

  value = typed_value (self, G_TYPE_INT, G_STRFUNC);
  return value != NULL ? g_value_get_int (value) : 0;
}

/**
 * ag_task_get_boolean:
 * @self: a task
 *
 * Gets the boolean the task succeeded with.
 *
 * Returns: the value, or %FALSE if there is none
 *
 * Since: 1.0
 */
gboolean
ag_task_get_boolean (AgTask *self)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), FALSE);

  value = typed_value (self, G_TYPE_BOOLEAN, G_STRFUNC);
  return value != NULL ? g_value_get_boolean (value) : FALSE;
}

/**
 * ag_task_get_double:
 * @self: a task
 *
 * Gets the double the task succeeded with.
 *
 * Returns: the value, or 0 if there is none
 *
 * Since: 1.0
 */
double
ag_task_get_double (AgTask *self)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), 0.0);

  value = typed_value (self, G_TYPE_DOUBLE, G_STRFUNC);
  return value != NULL ? g_value_get_double (value) : 0.0;
}

/**
 * ag_task_get_string:
 * @self: a task
 *
 * Gets the string the task succeeded with.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL if there is none
 *
 * Since: 1.0
 */
const char *
ag_task_get_string (AgTask *self)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  value = typed_value (self, G_TYPE_STRING, G_STRFUNC);
  return value != NULL ? g_value_get_string (value) : NULL;
}

/**
 * ag_task_get_object:
 * @self: a task
 *
 * Gets the object the task succeeded with.
 *
 * Returns: (transfer none) (nullable) (type GObject): the value, or %NULL if
 *   there is none
 *
 * Since: 1.0
 */
gpointer
ag_task_get_object (AgTask *self)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  value = typed_value (self, G_TYPE_OBJECT, G_STRFUNC);
  return value != NULL ? g_value_get_object (value) : NULL;
}

/**
 * ag_task_get_variant:
 * @self: a task
 *
 * Gets the variant the task succeeded with.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL if there is none
 *
 * Since: 1.0
 */
GVariant *
ag_task_get_variant (AgTask *self)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  value = typed_value (self, G_TYPE_VARIANT, G_STRFUNC);
  return value != NULL ? g_value_get_variant (value) : NULL;
}

/**
 * ag_task_get_pointer: (skip)
 * @self: a task
 *
 * Gets the pointer the task succeeded with. The task keeps owning it.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL if there is none
 *
 * Since: 1.0
 */
gpointer
ag_task_get_pointer (AgTask *self)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  value = typed_value (self, G_TYPE_POINTER, G_STRFUNC);
  return value != NULL ? g_value_get_pointer (value) : NULL;
}

/**
 * ag_task_get_progress:
 * @self: a task
 *
 * Gets how far the work is.
 *
 * Returns: the progress from 0 to 1, or -1 if unknown
 *
 * Since: 1.0
 */
double
ag_task_get_progress (AgTask *self)
{
  g_return_val_if_fail (AG_IS_TASK (self), 0.0);

  return get_priv (self)->progress;
}

static void
report (AgTask     *self,
        double      progress,
        gboolean    has_status,
        const char *status)
{
  AgTaskPrivate *priv = get_priv (self);
  AgTaskReport *report = ensure_report (priv);
  gboolean push = FALSE;

  g_mutex_lock (&report->lock);
  if (has_status)
    {
      g_free (report->reported_status);
      report->reported_status = g_strdup (status);
      report->status_reported = TRUE;
    }
  else
    report->reported_progress = progress;

  if (!report->queued)
    {
      report->queued = TRUE;
      /* Before the task runs there is no queue yet; starting it queues the
       * report. */
      push = g_atomic_pointer_get (&priv->queue) != NULL;
    }
  g_mutex_unlock (&report->lock);

  if (push)
    {
      g_object_ref (self);
      _ag_completion_queue_push (priv->queue, &priv->progress_node);
    }
}

/**
 * ag_task_set_progress:
 * @self: a task
 * @progress: from 0 to 1, or -1 for unknown
 *
 * Reports how far the work is. May be called from any thread, as often as
 * is convenient: the latest value wins, and the task notifies
 * [property@Task:progress] on the engine's thread at most once per
 * delivery.
 *
 * Since: 1.0
 */
void
ag_task_set_progress (AgTask *self,
                      double  progress)
{
  g_return_if_fail (AG_IS_TASK (self));
  g_return_if_fail (progress == -1.0 || (progress >= 0.0 && progress <= 1.0));

  report (self, progress, FALSE, NULL);
}

/**
 * ag_task_get_status_text:
 * @self: a task
 *
 * Gets the text that says what the work is doing.
 *
 * Returns: (transfer none) (nullable): the status text
 *
 * Since: 1.0
 */
const char *
ag_task_get_status_text (AgTask *self)
{
  AgTaskReport *report;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  report = g_atomic_pointer_get (&get_priv (self)->report);
  return report != NULL ? report->status_text : NULL;
}

/**
 * ag_task_set_status_text:
 * @self: a task
 * @status_text: (nullable): a short text for people
 *
 * Reports what the work is doing. May be called from any thread; coalesced
 * like [method@Task.set_progress].
 *
 * Since: 1.0
 */
void
ag_task_set_status_text (AgTask     *self,
                         const char *status_text)
{
  g_return_if_fail (AG_IS_TASK (self));

  report (self, 0.0, TRUE, status_text);
}

/**
 * ag_task_return_value:
 * @self: a running task
 * @value: (nullable): the value, copied; %NULL to succeed without one
 *
 * Ends the task with a copy of @value. May be called from any thread, once.
 *
 * Since: 1.0
 */
void
ag_task_return_value (AgTask       *self,
                      const GValue *value)
{
  g_auto(GValue) copy = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));
  g_return_if_fail (value == NULL || G_IS_VALUE (value));

  if (value != NULL)
    _ag_value_init_copy (&copy, value);

  return_moved_value (self, &copy, G_STRFUNC);
}

/**
 * ag_task_return_int:
 * @self: a running task
 * @value: the value
 *
 * Ends the task with an integer. May be called from any thread, once.
 *
 * Since: 1.0
 */
void
ag_task_return_int (AgTask *self,
                    int     value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));

  g_value_init (&v, G_TYPE_INT);
  g_value_set_int (&v, value);
  return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_boolean:
 * @self: a running task
 * @value: the value
 *
 * Ends the task with a boolean. May be called from any thread, once.
 *
 * Since: 1.0
 */
void
ag_task_return_boolean (AgTask   *self,
                        gboolean  value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));

  g_value_init (&v, G_TYPE_BOOLEAN);
  g_value_set_boolean (&v, value);
  return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_double:
 * @self: a running task
 * @value: the value
 *
 * Ends the task with a double. May be called from any thread, once.
 *
 * Since: 1.0
 */
void
ag_task_return_double (AgTask *self,
                       double  value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));

  g_value_init (&v, G_TYPE_DOUBLE);
  g_value_set_double (&v, value);
  return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_string:
 * @self: a running task
 * @value: (nullable): the value, copied
 *
 * Ends the task with a copy of a string. May be called from any thread,
 * once.
 *
 * Since: 1.0
 */
void
ag_task_return_string (AgTask     *self,
                       const char *value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));

  g_value_init (&v, G_TYPE_STRING);
  g_value_set_string (&v, value);
  return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_object:
 * @self: a running task
 * @object: (nullable) (type GObject): the value; the task takes a reference
 *
 * Ends the task with an object. May be called from any thread, once. The
 * object is finally released on the engine's thread.
 *
 * Since: 1.0
 */
void
ag_task_return_object (AgTask   *self,
                       gpointer  object)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));
  g_return_if_fail (object == NULL || G_IS_OBJECT (object));

  g_value_init (&v, object != NULL ? G_OBJECT_TYPE (object) : G_TYPE_OBJECT);
  g_value_set_object (&v, object);
  return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_variant:
 * @self: a running task
 * @variant: (nullable): the value; a floating reference is taken
 *
 * Ends the task with a variant. May be called from any thread, once.
 *
 * Since: 1.0
 */
void
ag_task_return_variant (AgTask   *self,
                        GVariant *variant)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));

  g_value_init (&v, G_TYPE_VARIANT);
  g_value_set_variant (&v, variant);
  return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_pointer: (skip)
 * @self: a running task
 * @pointer: (nullable): the value; the task owns it
 * @destroy: (nullable): frees @pointer with the task, or when nobody will
 *   see it (the task was cancelled first)
 *
 * Ends the task with a pointer. May be called from any thread, once.
 *
 * Since: 1.0
 */
void
ag_task_return_pointer (AgTask         *self,
                        gpointer        pointer,
                        GDestroyNotify  destroy)
{
  AgTaskPrivate *priv;

  g_return_if_fail (AG_IS_TASK (self));

  priv = get_priv (self);
  if (!claim_return (self, G_STRFUNC, FALSE))
    {
      if (destroy != NULL && pointer != NULL)
        destroy (pointer);
      return;
    }

  g_value_init (&priv->value, G_TYPE_POINTER);
  g_value_set_pointer (&priv->value, pointer);
  priv->pointer_destroy = destroy;

  deliver_returned (self);
}

/**
 * ag_task_return_error:
 * @self: a running task
 * @error: (transfer full): why the task failed
 *
 * Ends the task with an error. May be called from any thread, once. An
 * error of %G_IO_ERROR_CANCELLED ends it as cancelled.
 *
 * Since: 1.0
 */
void
ag_task_return_error (AgTask *self,
                      GError *error)
{
  AgTaskPrivate *priv;

  g_return_if_fail (AG_IS_TASK (self));
  g_return_if_fail (error != NULL);

  if (!claim_return (self, G_STRFUNC, FALSE))
    {
      g_error_free (error);
      return;
    }

  priv = get_priv (self);
  priv->returned_error = error;

  deliver_returned (self);
}

/**
 * ag_task_return_new_error:
 * @self: a running task
 * @domain: the error domain
 * @code: the error code
 * @format: a printf()-style message for people
 * @...: the arguments of @format
 *
 * Ends the task with a new error. May be called from any thread, once.
 *
 * Since: 1.0
 */
void
ag_task_return_new_error (AgTask     *self,
                          GQuark      domain,
                          int         code,
                          const char *format,
                          ...)
{
  va_list args;
  GError *error;

  g_return_if_fail (AG_IS_TASK (self));
  g_return_if_fail (format != NULL);

  va_start (args, format);
  error = g_error_new_valist (domain, code, format, args);
  va_end (args);

  ag_task_return_error (self, error);
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
 * Since: 1.0
 */
void
ag_task_cancel (AgTask *self)
{
  AgTaskPrivate *priv;

  g_return_if_fail (AG_IS_TASK (self));

  priv = get_priv (self);
  if (g_atomic_int_get (&priv->finished) || priv->kind == KIND_VIEW)
    return;

  if (!g_atomic_int_compare_and_exchange (&priv->cancel_requested, 0, 1))
    return;

  /* A task not yet run has no queue; _ag_task_start() sees the request. */
  if (g_atomic_pointer_get (&priv->queue) == NULL)
    return;

  push_cancel_once (self);
}

/**
 * ag_task_wait:
 * @self: a task that has been run
 * @timeout_us: how long to wait at most, in microseconds; -1 for no limit
 * @error: return location for an error
 *
 * Blocks until the task has finished, for scripts and for threads other
 * than the engine's. On the engine's own thread (the one that made it) it
 * iterates the engine's context while it waits, so results keep being
 * delivered; any other thread sleeps until the engine's thread has
 * delivered the task. Prefer [method@Engine.run_async] in GUI code.
 *
 * Whether the task succeeded is then read from the task: %TRUE here only
 * means it finished, so a task that succeeded without a value is told apart
 * from one that is still running.
 *
 * Waiting cannot work from inside a delivery of the same engine (nothing
 * could be delivered until the wait returned), nor for a task that was never
 * run: both fail at once with %AG_ERROR_WOULD_DEADLOCK.
 *
 * Returns: %TRUE if the task finished, %FALSE with @error set if it did not
 *   finish within @timeout_us (%G_IO_ERROR_TIMED_OUT) or cannot
 *
 * Since: 1.0
 */
gboolean
ag_task_wait (AgTask   *self,
              gint64    timeout_us,
              GError  **error)
{
  AgTaskPrivate *priv;

  g_return_val_if_fail (AG_IS_TASK (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  priv = get_priv (self);
  if (g_atomic_int_get (&priv->finished))
    return TRUE;

  if (!g_atomic_int_get (&priv->run_claimed))
    {
      g_set_error_literal (error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK,
                           _("The task has not been run, so waiting for it would never end"));
      return FALSE;
    }

  /* Without an engine yet, the task is on its way to the engine's thread
   * from this one, which cannot be it: it sleeps until the task ends. */
  return _ag_wait_for (g_atomic_pointer_get (&priv->engine), &priv->finished, timeout_us, error);
}
