/* ag-task-run.c: running a task on an engine
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-closure-private.h"
#include "ag-engine-private.h"
#include "ag-error.h"
#include "ag-task-internal.h"
#include "ag-wait-private.h"

/* Running belongs to tasks, not to the engine: the engine only tracks
 * what runs on it, whatever its kind. These two are methods of AgEngine
 * all the same, as GLib's g_file_* functions of GFile live beside it. */

/* Whoever runs a task first claims it, from any thread: a task runs once. */
gboolean
_ag_task_claim_run (AgTask *self)
{
  return _ag_task_set_once (_ag_task_get_priv (self), AG_TASK_ONCE_RUN_CLAIMED);
}

/* A task runs once; a job runs from the moment it is made. */
static void
report_run_twice (AgTask *task)
{
  g_critical ("ag_engine_run_async: the task %p (%s) was already run; a task runs once "
              "(a job from the moment it is made): wait for its outcome with "
              "ag_task_wait_async()", task, G_OBJECT_TYPE_NAME (task));
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
                       gpointer  owner)
{
  AgEngine *engine = owner;
  StartRequest *request = (StartRequest *) node;
  AgTask *self = request->task;
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  if (engine == NULL)
    {
      /* The engine went first: the task ends as those in flight at
       * disposal do, cancelled, without its callback. */
      _ag_task_end_quietly (self);
      _ag_async_ready_forget (request->callback, request->user_data);
    }
  else if (priv->state != AG_TASK_PENDING)
    {
      /* Started meanwhile on the engine's thread: as a dependency, say. */
      report_run_twice (self);
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

/* A task run on a disposed engine fails with AG_ERROR_ENGINE_DISPOSED, and
 * the callback still receives it, at the next iteration of the engine's
 * context: a callback is never called from inside ag_engine_run_async().
 * The engine's queue went with it, so an idle carries the call. */
typedef struct
{
  AgEngine            *engine;     /* strong */
  AgTask              *task;       /* strong */
  GAsyncReadyCallback  callback;
  gpointer             user_data;
  GDestroyNotify       user_data_destroy;
} Refusal;

static gboolean
refusal_dispatch (gpointer data)
{
  Refusal *refusal = data;

  refusal->callback (G_OBJECT (refusal->engine), G_ASYNC_RESULT (refusal->task),
                     refusal->user_data);
  return G_SOURCE_REMOVE;
}

static void
refusal_free (gpointer data)
{
  Refusal *refusal = data;

  if (refusal->user_data_destroy != NULL)
    refusal->user_data_destroy (refusal->user_data);
  g_object_unref (refusal->engine);
  g_object_unref (refusal->task);
  g_free (refusal);
}

/* Fails @self, claimed for a run on the disposed @engine, without running
 * it; @callback (if any) gets it at the next iteration of the engine's
 * context, then @user_data_destroy (if any) is called. */
void
_ag_task_refuse_run (AgTask              *self,
                     AgEngine            *engine,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data,
                     GDestroyNotify       user_data_destroy)
{
  g_autoptr(GSource) source = NULL;
  Refusal *refusal;

  _ag_task_fail_unrun (self, g_error_new_literal (AG_ERROR, AG_ERROR_ENGINE_DISPOSED,
                                                  _("The engine was shut down, so the task cannot run")));
  if (callback == NULL)
    {
      if (user_data_destroy != NULL)
        user_data_destroy (user_data);
      return;
    }

  refusal = g_new0 (Refusal, 1);
  refusal->engine = g_object_ref (engine);
  refusal->task = g_object_ref (self);
  refusal->callback = callback;
  refusal->user_data = user_data;
  refusal->user_data_destroy = user_data_destroy;

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (source, "[asyncgui] run on a disposed engine");
  g_source_set_callback (source, refusal_dispatch, refusal, refusal_free);
  g_source_attach (source, ag_engine_get_context (engine));
}

static void
start_here (AgEngine            *self,
            AgTask              *task,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  if (_ag_task_peek_state (task) != AG_TASK_PENDING || !_ag_task_claim_run (task))
    {
      report_run_twice (task);
      return;
    }

  if (_ag_engine_is_disposed (self))
    {
      _ag_task_refuse_run (task, self, callback, user_data, NULL);
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
 * On an engine that has been disposed the task does not run: it fails
 * with %AG_ERROR_ENGINE_DISPOSED, and @callback receives it all the same.
 * A task runs once: running it again is a programming error, a critical,
 * and that second @callback is not called.
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
  gboolean acquired;

  g_return_if_fail (AG_IS_ENGINE (self));
  g_return_if_fail (AG_IS_TASK (task));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  if (_ag_engine_enter (self, &acquired))
    {
      start_here (self, task, cancellable, callback, user_data);
      _ag_engine_leave (self, acquired);
    }
  else if (!_ag_task_claim_run (task))
    report_run_twice (task);
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
  g_return_val_if_fail (AG_IS_TASK (result), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  task = (AgTask *) result;
  g_return_val_if_fail (_ag_task_state_is_final (_ag_task_peek_state (task)), NULL);

  return _ag_task_propagate_value (task, error);
}
