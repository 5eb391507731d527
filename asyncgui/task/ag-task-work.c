/* ag-task-work.c: work that runs away from the engine's thread, and how
 * the task comes home from it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-error.h"
#include "ag-task-internal.h"

/* Work on a worker (a thread task's function, a process call) holds a
 * reference of its own on the task. The library never drops the last
 * reference to a task on a worker: a task that has run is finalized on its
 * engine's thread, where the data its function was given (often a widget),
 * its value and its callback's data are released. */

static gboolean
release_on_context (gpointer user_data)
{
  /* The source's destroy notify does the release. */
  return G_SOURCE_REMOVE;
}

/* Something on its way home, to be destroyed there: a reference to a task,
 * or what a thread task's function was given. Made for each release,
 * which is rare: several threads may send references of one task home at
 * once. */
typedef struct
{
  AgNode              node;
  AgCompletionQueue  *queue;   /* strong */
  GDestroyNotify      destroy;
  gpointer            data;
} Release;

static void
release_now (gpointer user_data)
{
  Release *release = user_data;

  release->destroy (release->data);
  _ag_completion_queue_unref (release->queue);
  g_free (release);
}

static void
release_deliver (AgNode   *node,
                 gpointer  owner)
{
  Release *release = (Release *) node;
  GSource *source;

  if (owner != NULL || _ag_completion_queue_is_home_thread (release->queue))
    {
      release_now (release);
      return;
    }

  /* The engine is gone, but its context lives on (the queue holds it):
   * the release happens at the context's next iteration. */
  source = g_idle_source_new ();
  g_source_set_callback (source, release_on_context, release, release_now);
  g_source_set_static_name (source, "[asyncgui] release task");
  g_source_attach (source, _ag_completion_queue_get_context (release->queue));
  g_source_unref (source);
}

/* Calls @destroy (@data) on the task's engine's thread: now if this is
 * that thread (or the task never ran), else through the completion queue,
 * or, once the engine is gone, on its context. For what a thread task's
 * function was given, once the function has returned, and for the
 * library's own references (_ag_task_unref_at_home()). */
/* Sends @destroy (@data) home through @queue, whose reference it takes:
 * it comes after what was pushed there before. */
static void
send_home (AgCompletionQueue *queue,
           GDestroyNotify     destroy,
           gpointer           data)
{
  Release *release = g_new (Release, 1);

  release->node.deliver = release_deliver;
  release->queue = queue;
  release->destroy = destroy;
  release->data = data;
  _ag_completion_queue_push (queue, &release->node);
}

void
_ag_task_destroy_at_home (AgTask         *self,
                          GDestroyNotify  destroy,
                          gpointer        data)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  if (priv->queue == NULL || _ag_completion_queue_is_home_thread (priv->queue))
    destroy (data);
  else
    send_home (_ag_completion_queue_ref (priv->queue), destroy, data);
}

/* Drops a reference the library holds, from any thread, so that the task
 * is never finalized on a worker: the data its function was given (often
 * a widget), its value and its callback's data are released on the
 * engine's thread. A task that never ran is finalized wherever its last
 * reference goes. */
void
_ag_task_unref_at_home (AgTask *self)
{
  _ag_task_destroy_at_home (self, g_object_unref, self);
}

enum
{
  NOT_IN_WORK,
  IN_WORK,
  IN_WORK_RETURNED,
};

/* Between these two calls, made by work running on a worker with a
 * reference of its own, a return only sets the outcome: _ag_task_end_work()
 * sends it home afterwards, with that reference. So a worker never drops
 * the last reference to a task, and the task is finalized on the engine's
 * thread (see _ag_task_unref_at_home()). It is also what GTask does: the
 * outcome of a thread function is delivered once the function returns. */
void
_ag_task_begin_work (AgTask *self)
{
  g_atomic_int_set (&_ag_task_get_priv (self)->in_work, IN_WORK);
}

/* Takes the caller's reference. A work that returned nothing fails the task
 * with AG_ERROR_NO_RESULT, or ends it as cancelled if it was cancelled. */
void
_ag_task_end_work (AgTask *self)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  if (g_atomic_int_exchange (&priv->in_work, NOT_IN_WORK) == IN_WORK_RETURNED)
    {
      _ag_task_push_completion (self);
      return;
    }

  if (_ag_task_claim_return (self, G_STRFUNC, TRUE))
    {
      GError *error;

      if (g_cancellable_is_cancelled (_ag_task_ensure_cancellable (self)))
        error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                     _("The task was cancelled"));
      else
        error = g_error_new_literal (AG_ERROR, AG_ERROR_NO_RESULT,
                                     _("The task function returned without a value or an error"));
      _ag_task_ensure_extras (priv)->returned_error = error;
      _ag_task_push_completion (self);
      return;
    }

  /* Another thread returned just after the work did, and sent the outcome
   * itself. */
  _ag_task_unref_at_home (self);
}

/* _ag_task_end_work(), then @destroy (@data) (if @destroy is not NULL)
 * at home, after the outcome: what a thread task's function was given may
 * hold the last reference to the engine (a window that owns it), whose
 * disposal must find the task delivered. */
void
_ag_task_end_work_then_destroy (AgTask         *self,
                                GDestroyNotify  destroy,
                                gpointer        data)
{
  AgCompletionQueue *queue = _ag_task_get_priv (self)->queue;

  if (destroy == NULL || queue == NULL)
    {
      _ag_task_end_work (self);
      if (destroy != NULL)
        destroy (data);
      return;
    }

  /* The task may be gone once its outcome went home. */
  _ag_completion_queue_ref (queue);
  _ag_task_end_work (self);
  send_home (queue, destroy, data);
}

/* The outcome is set: send it home, now or, inside a work, when it ends. */
void
_ag_task_deliver_returned (AgTask *self)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  if (g_atomic_int_compare_and_exchange (&priv->in_work, IN_WORK, IN_WORK_RETURNED))
    return;

  g_object_ref (self);
  _ag_task_push_completion (self);
}

/* Sets the error of a return claimed with _ag_task_claim_return(). */
void
_ag_task_set_returned_error (AgTask *self,
                             GError *error)
{
  _ag_task_ensure_extras (_ag_task_get_priv (self))->returned_error = error;
}
