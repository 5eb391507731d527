/* ag-task-wait.c: waiting for a task that someone runs, blocking or not
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-error.h"
#include "ag-task-internal.h"
#include "ag-values-private.h"

/* Anyone may wait for a task, besides the one who runs it: a thread that
 * blocks (ag_task_wait()), or code on a main context that waits without
 * blocking (ag_task_wait_async()), as many as like and as often as they
 * like. A waiter hears of the end however the task ended, even when its
 * engine was disposed. */

typedef struct
{
  GTask   *task;
  GSource *cancel_source;
} Waiter;

static void
waiter_free (gpointer data)
{
  Waiter *waiter = data;

  if (waiter->cancel_source != NULL)
    {
      g_source_destroy (waiter->cancel_source);
      g_source_unref (waiter->cancel_source);
    }
  g_object_unref (waiter->task);
  g_free (waiter);
}

static void
free_value (gpointer data)
{
  g_boxed_free (G_TYPE_VALUE, data);
}

static void
return_to_waiter (AgTask *self,
                  Waiter *waiter)
{
  g_autoptr(GError) error = NULL;
  GValue *value = _ag_task_propagate_value (self, &error);

  if (error != NULL)
    g_task_return_error (waiter->task, g_steal_pointer (&error));
  else
    g_task_return_pointer (waiter->task, value, free_value);
}

/* The task is final: every waiter hears of it, from its own context. */
void
_ag_task_wake_waiters (AgTask *self)
{
  AgTaskExtras *extras = _ag_task_peek_extras (_ag_task_get_priv (self));
  g_autoptr(GPtrArray) waiters = extras != NULL ? g_steal_pointer (&extras->waiters) : NULL;

  for (guint i = 0; waiters != NULL && i < waiters->len; i++)
    return_to_waiter (self, g_ptr_array_index (waiters, i));
}

/* The waiter's cancellable fired, on the waiter's context: it stops
 * waiting; the task goes on. */
static gboolean
wait_cancelled (GCancellable *cancellable,
                gpointer      user_data)
{
  GTask *task = user_data;
  AgTask *self = g_task_get_source_object (task);
  AgTaskExtras *extras = _ag_task_peek_extras (_ag_task_get_priv (self));
  GPtrArray *waiters = extras != NULL ? extras->waiters : NULL;

  for (guint i = 0; waiters != NULL && i < waiters->len; i++)
    {
      Waiter *waiter = g_ptr_array_index (waiters, i);

      if (waiter->task == task)
        {
          g_task_return_error_if_cancelled (task);
          g_ptr_array_remove_index (waiters, i);
          break;
        }
    }

  return G_SOURCE_REMOVE;
}

/**
 * ag_task_wait_async:
 * @self: a task
 * @cancellable: (nullable): stops waiting (the task goes on)
 * @callback: (scope async): called when the task has finished
 * @user_data: (closure callback): data for @callback
 *
 * Waits for the task to finish without blocking, for code that did not run
 * it: a job run by someone else, say. Any number of waits may be pending;
 * each callback runs on the thread-default main context of its caller,
 * however the task ends, even if its engine is disposed. A task that has
 * finished already answers at the next iteration of that context.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_task_wait_async (AgTask              *self,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  AgTaskPrivate *priv;
  AgTaskExtras *extras;
  Waiter *waiter;

  g_return_if_fail (AG_IS_TASK (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  priv = _ag_task_get_priv (self);
  waiter = g_new0 (Waiter, 1);
  waiter->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (waiter->task, ag_task_wait_async);

  if (ag_task_is_finished (self))
    {
      return_to_waiter (self, waiter);
      waiter_free (waiter);
      return;
    }

  if (cancellable != NULL)
    {
      waiter->cancel_source = g_cancellable_source_new (cancellable);
      g_task_attach_source (waiter->task, waiter->cancel_source, G_SOURCE_FUNC (wait_cancelled));
    }

  extras = _ag_task_ensure_extras (priv);
  if (extras->waiters == NULL)
    extras->waiters = g_ptr_array_new_with_free_func (waiter_free);
  g_ptr_array_add (extras->waiters, waiter);
}

/**
 * ag_task_wait_finish:
 * @self: a task
 * @result: the result given to the callback of [method@Task.wait_async]
 * @error: return location for an error
 *
 * Gets the outcome of a task waited for with [method@Task.wait_async].
 *
 * Thread: the one that called [method@Task.wait_async], in its callback.
 *
 * Returns: (transfer full) (nullable): a copy of the task's value, or %NULL
 *   with @error set if it failed or was cancelled (or the wait was), or
 *   %NULL without an error if it succeeded without a value
 *
 * Since: 1.0
 */
GValue *
ag_task_wait_finish (AgTask        *self,
                     GAsyncResult  *result,
                     GError       **error)
{
  g_return_val_if_fail (AG_IS_TASK (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * ag_task_wait:
 * @self: a task that has been run
 * @timeout_ms: how long to wait at most, in milliseconds; -1 for no limit
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
 * run: both fail at once with %AG_ERROR_WOULD_DEADLOCK. A C job's code runs
 * inside a delivery once it has awaited anything, so a job awaits
 * (ag_job_await()) rather than waits.
 *
 * Thread: any. On the engine's thread it iterates the engine's context.
 *
 * Returns: %TRUE if the task finished, %FALSE with @error set if it did not
 *   finish within @timeout_ms (%G_IO_ERROR_TIMED_OUT) or cannot
 *
 * Since: 1.0
 */
gboolean
ag_task_wait (AgTask   *self,
              int       timeout_ms,
              GError  **error)
{
  AgTaskPrivate *priv;
  AgEngine *engine;
  gboolean waited;

  g_return_val_if_fail (AG_IS_TASK (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  priv = _ag_task_get_priv (self);
  if (g_atomic_int_get (&priv->finished))
    return TRUE;

  if (!_ag_task_has_once (priv, AG_TASK_ONCE_RUN_CLAIMED))
    {
      g_set_error_literal (error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK,
                           _("The task has not been run, so waiting for it would never end"));
      return FALSE;
    }

  if (_ag_task_runs_here (self))
    {
      g_set_error_literal (error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK,
                           _("A job waiting for itself would never end"));
      return FALSE;
    }

  engine = g_atomic_pointer_get (&priv->engine);

  /* Code the engine's disposal runs (a C job unwinding) waits for a task
   * that the disposal ends only after that code returns. */
  if (engine != NULL && _ag_engine_is_disposed (engine) && _ag_engine_is_own_thread (engine))
    {
      g_set_error_literal (error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK,
                           _("The task ends as its engine shuts down; waiting for it then would never end"));
      return FALSE;
    }

  /* Without an engine yet, the task is on its way to the engine's thread
   * from this one, which cannot be it: it sleeps until the task ends. The
   * wait holds the task, which a cancelled task that started it then
   * spares. */
  _ag_task_hold (self);
  waited = _ag_engine_wait_for (engine, &priv->finished,
                                timeout_ms < 0 ? -1 : timeout_ms * G_TIME_SPAN_MILLISECOND, error);
  _ag_task_unhold (self);

  return waited;
}
