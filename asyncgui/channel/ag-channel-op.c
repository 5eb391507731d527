/* ag-channel-op.c: asynchronous reads and writes of a channel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "ag-channel-internal.h"
#include "ag-values-private.h"

/* An asynchronous read or write is an AgChannelOp, the data of its GTask.
 * One that cannot end at once waits in the core's FIFO list of its kind,
 * with a source for its cancellable and one for its timeout on the
 * caller's context; the core's pump ends it when items or room appear.
 * Whoever ends it (any thread, under the lock) collects it in an
 * AgChannelDone list, and its task returns after the lock is dropped. */

static void
op_free (gpointer data)
{
  AgChannelOp *op = data;

  g_clear_pointer (&op->items, g_array_unref);
  _ag_value_clear (&op->value);
  g_clear_error (&op->error);
  _ag_channel_core_unref (op->core);
  g_free (op);
}

AgChannelOp *
_ag_channel_op_new (AgChannelCore   *core,
                    AgChannelOpKind  kind,
                    GTask           *task)
{
  AgChannelOp *op = g_new0 (AgChannelOp, 1);

  op->kind = kind;
  op->core = _ag_channel_core_ref (core);
  op->task = task;
  g_task_set_task_data (task, op, op_free);

  return op;
}

/* Ends a waiting operation, which a waiting list held, into @done. */
void
_ag_channel_op_end_locked (AgChannelOp   *op,
                           GError        *error,
                           AgChannelDone *done)
{
  op->waiting = FALSE;
  op->error = error;
  /* The list's ref on the task moves to @done. */
  op->next_done = NULL;
  if (done->last != NULL)
    done->last->next_done = op;
  else
    done->first = op;
  done->last = op;
}

/* Ends an operation that never waited. */
void
_ag_channel_op_end_now_locked (AgChannelOp   *op,
                               GError        *error,
                               AgChannelDone *done)
{
  g_object_ref (op->task);
  _ag_channel_op_end_locked (op, error, done);
}

static void
return_ops (AgChannelDone *done)
{
  AgChannelOp *next;

  for (AgChannelOp *op = done->first; op != NULL; op = next)
    {
      GTask *task = op->task;

      /* The last unref below may free the op. */
      next = op->next_done;

      if (op->cancel_source != NULL)
        g_source_destroy (op->cancel_source);
      g_clear_pointer (&op->cancel_source, g_source_unref);
      if (op->timeout_source != NULL)
        g_source_destroy (op->timeout_source);
      g_clear_pointer (&op->timeout_source, g_source_unref);

      if (op->error != NULL)
        g_task_return_error (task, g_steal_pointer (&op->error));
      else if (op->kind == AG_CHANNEL_OP_READ)
        g_task_return_pointer (task, g_steal_pointer (&op->items),
                               (GDestroyNotify) g_array_unref);
      else
        g_task_return_boolean (task, TRUE);

      g_object_unref (task);
    }
}

/* Ends what the locked section ended, then notifies; never under the lock. */
void
_ag_channel_core_after_unlock (AgChannelCore *core,
                               AgChannelDone *done,
                               gboolean       notify)
{
  return_ops (done);
  if (notify)
    _ag_channel_core_schedule_notify (core);
}

/* A waiting operation stops: cancelled (@error set: a read puts its items
 * back, so none is lost) or timed out (a read returns what it got). */
static void
stop_waiting (GTask  *task,
              GError *error)
{
  AgChannelOp *op = g_task_get_task_data (task);
  AgChannelCore *core = op->core;
  AgChannelDone done = AG_CHANNEL_DONE_INIT;
  gboolean notify = FALSE;

  g_mutex_lock (&core->lock);
  if (op->waiting)
    {
      g_queue_remove (op->kind == AG_CHANNEL_OP_READ ? &core->read_ops : &core->write_ops, op);
      if (error != NULL && op->kind == AG_CHANNEL_OP_READ)
        _ag_channel_core_put_back_locked (core, op->items, 0);
      _ag_channel_op_end_locked (op, g_steal_pointer (&error), &done);
      _ag_channel_core_pump_locked (core, &done);
      notify = _ag_channel_core_claim_notify_locked (core);
    }
  g_mutex_unlock (&core->lock);

  g_clear_error (&error);
  _ag_channel_core_after_unlock (core, &done, notify);
}

static gboolean
op_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  stop_waiting (user_data, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                _("The operation was cancelled")));
  return G_SOURCE_REMOVE;
}

static gboolean
op_timed_out (gpointer user_data)
{
  stop_waiting (user_data, NULL);
  return G_SOURCE_REMOVE;
}

/* Queues @op behind the others of its kind. Its sources keep its task
 * alive while they can fire; whoever ends the op destroys them. */
void
_ag_channel_op_wait_locked (AgChannelOp *op,
                            gint64       timeout_us)
{
  AgChannelCore *core = op->core;
  GCancellable *cancellable = g_task_get_cancellable (op->task);
  GMainContext *context = g_task_get_context (op->task);

  op->waiting = TRUE;
  g_queue_push_tail (op->kind == AG_CHANNEL_OP_READ ? &core->read_ops : &core->write_ops, op);
  g_object_ref (op->task);

  if (cancellable != NULL)
    {
      op->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_static_name (op->cancel_source, "[asyncgui] channel cancel");
      g_source_set_callback (op->cancel_source, G_SOURCE_FUNC (op_cancelled),
                             g_object_ref (op->task), g_object_unref);
      g_source_attach (op->cancel_source, context);
    }

  if (timeout_us > 0)
    {
      op->timeout_source = g_timeout_source_new ((guint) MIN ((timeout_us + 999) / 1000,
                                                              G_MAXUINT));
      g_source_set_static_name (op->timeout_source, "[asyncgui] channel timeout");
      g_source_set_callback (op->timeout_source, op_timed_out,
                             g_object_ref (op->task), g_object_unref);
      g_source_attach (op->timeout_source, context);
    }
}
