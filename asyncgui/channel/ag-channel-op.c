/* ag-channel-op.c: asynchronous reads and writes of a channel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-channel-internal.h"
#include "ag-values-private.h"

/* An asynchronous read or write is an AgChannelOp, the data of its GTask.
 * One that cannot end at once waits in the core's FIFO list of its kind,
 * with a source for its cancellable and one for its timeout on the
 * caller's context; the core's pump ends it when items or room appear.
 * Whoever ends it (any thread, under the lock) collects it in an
 * AgChannelDone list, and sends it home once the lock is dropped.
 *
 * Home is the context the caller was on, and the way there is the one
 * every result takes: when an engine lives on that context, the op
 * travels its completion queue as a node and its callback runs inside
 * the engine's delivery, within the budget, even when a producer thread
 * ended it or it ended inside the call that started it.
 *
 * Its GTask is only the GAsyncResult the callback gets, and must call
 * back at once when the node is delivered, never add an idle of its own.
 * GLib 2.74's g_task_return() calls back at once only when (a) the
 * current source belongs to the task's context, (b) that source's time
 * (the context's cached time for the iteration) is later than the task's
 * creation time, which g_task_new() took from the source current then,
 * and (c) the task's cancellable is not cancelled; otherwise it attaches
 * an idle. So: (a) holds inside the engine's delivery on that context;
 * (b) fails only in the iteration the op was made in, and a node whose
 * time has not come goes back on the queue for a later dispatch (the
 * op notes its creation time as GTask does); for (c) the task gets no
 * cancellable: the op keeps it and checks it itself. A cancel counts
 * from the moment it is made: the pump ends cancelled ops before it moves
 * anything, and finishing a read that was cancelled on its way home puts
 * its items back. The cancellable's source only wakes an op that would
 * otherwise wait on.
 *
 * Without an engine there, the op returns from an idle on the context,
 * from whatever thread ended it, and so does an op whose engine went away
 * before it was delivered: a read cancelled until then still gives its
 * items back ahead of later reads (see the core's pump). */

static void
op_free (gpointer data)
{
  AgChannelOp *op = data;

  g_clear_pointer (&op->items, g_array_unref);
  _ag_value_clear (&op->value);
  _ag_value_clear (&op->detail);
  g_clear_error (&op->error);
  g_clear_object (&op->cancellable);
  _ag_channel_core_unref (op->core);
  g_free (op);
}

/* @task is made without a cancellable: @cancellable, if any, is the op's. */
AgChannelOp *
_ag_channel_op_new (AgChannelCore   *core,
                    AgChannelOpKind  kind,
                    GTask           *task,
                    GCancellable    *cancellable)
{
  AgChannelOp *op = g_new0 (AgChannelOp, 1);
  GSource *current = g_main_current_source ();

  op->kind = kind;
  op->core = _ag_channel_core_ref (core);
  op->task = task;
  op->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  /* What g_task_new() just took, on this thread, in this iteration. */
  op->creation_time = current != NULL ? g_source_get_time (current) : 0;
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
  /* A cancel may still take its items back (see the core's pump). */
  if (op->reclaimable && error == NULL && op->items->len > 0)
    {
      op->homebound_link.data = op;
      g_queue_push_tail_link (&op->core->homebound, &op->homebound_link);
      op->homebound = TRUE;
    }
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

static GError *
cancelled_error (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                              _("The operation was cancelled"));
}

gboolean
_ag_channel_op_is_cancelled (AgChannelOp *op)
{
  return op->cancellable != NULL && g_cancellable_is_cancelled (op->cancellable);
}

/* Ends a cancelled operation, which no waiting list holds any more, into
 * @done: a read puts what it took back at the front of the queue. */
void
_ag_channel_op_end_cancelled_locked (AgChannelOp   *op,
                                     AgChannelDone *done)
{
  if (op->kind == AG_CHANNEL_OP_READ)
    _ag_channel_core_put_back_locked (op->core, op->items, 0);
  _ag_channel_op_end_locked (op, cancelled_error (), done);
}

/* A read that got its items and was cancelled before its caller took
 * them gives them back and fails: the caller asked for the cancel before
 * it saw a result, so it will not take them. (A write that was stored
 * stays stored and succeeded: it was stored before the cancel.) Takes
 * @items; returns them, or NULL with @error set. */
GArray *
_ag_channel_op_give_back_if_cancelled (AgChannelOp  *op,
                                       GArray       *items,
                                       GError      **error)
{
  AgChannelCore *core = op->core;
  AgChannelDone done = AG_CHANNEL_DONE_INIT;
  gboolean notify;

  if (!_ag_channel_op_is_cancelled (op))
    return items;

  g_mutex_lock (&core->lock);
  _ag_channel_core_put_back_locked (core, items, 0);
  _ag_channel_core_pump_locked (core, &done);
  notify = _ag_channel_core_claim_notify_locked (core);
  g_mutex_unlock (&core->lock);

  g_array_unref (items);
  _ag_channel_core_after_unlock (core, &done, notify);
  g_propagate_error (error, cancelled_error ());
  return NULL;
}

/* Returns the op's task, which calls back at once or from an idle of its
 * own (see above), and drops the ref its AgChannelDone list had. */
static void
return_op (AgChannelOp *op)
{
  GTask *task = op->task;
  AgChannelCore *core = op->core;

  /* From here on the items are the task's: nothing takes them back. */
  if (op->reclaimable)
    {
      g_mutex_lock (&core->lock);
      if (op->homebound)
        {
          g_queue_unlink (&core->homebound, &op->homebound_link);
          op->homebound = FALSE;
        }
      g_mutex_unlock (&core->lock);
    }

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

  /* May free the op. */
  g_object_unref (task);
}

static gboolean
return_from_idle (gpointer user_data)
{
  return_op (user_data);
  return G_SOURCE_REMOVE;
}

static void
op_deliver (AgNode   *node,
            gpointer  owner)
{
  AgChannelOp *op = (AgChannelOp *) node;
  GMainContext *context = g_task_get_context (op->task);
  GSource *current;

  if (owner == NULL)
    {
      /* The engine went away first, and this may be any thread. */
      GSource *source = g_idle_source_new ();

      g_clear_pointer (&op->queue, _ag_completion_queue_unref);
      g_source_set_static_name (source, "[asyncgui] channel return");
      g_source_set_callback (source, return_from_idle, op, NULL);
      g_source_attach (source, context);
      g_source_unref (source);
      return;
    }

  /* Too early for GTask to call back at once: (b) above. */
  current = g_main_current_source ();
  if (current != NULL && g_source_get_context (current) == context
      && g_source_get_time (current) <= op->creation_time)
    {
      _ag_completion_queue_push (op->queue, node);
      return;
    }

  g_clear_pointer (&op->queue, _ag_completion_queue_unref);
  return_op (op);
}

/* Sends the ops in @done home, in order. */
static void
send_home (AgChannelDone *done)
{
  GMainContext *context = NULL;
  AgCompletionQueue *queue = NULL;
  AgChannelOp *next;

  for (AgChannelOp *op = done->first; op != NULL; op = next)
    {
      GMainContext *op_context = g_task_get_context (op->task);

      /* Delivery may free the op. */
      next = op->next_done;

      /* The ops of one call almost always share their context. */
      if (op_context != context)
        {
          g_clear_pointer (&queue, _ag_completion_queue_unref);
          context = op_context;
          queue = _ag_completion_queue_for_context (context);
        }

      /* Without an engine, from an idle of its own rather than GTask's:
       * until it returns, a cancel may still take its items back. */
      if (queue == NULL)
        {
          GSource *source = g_idle_source_new ();

          g_source_set_static_name (source, "[asyncgui] channel return");
          g_source_set_callback (source, return_from_idle, op, NULL);
          g_source_attach (source, op_context);
          g_source_unref (source);
          continue;
        }

      op->queue = _ag_completion_queue_ref (queue);
      op->node.deliver = op_deliver;
      _ag_completion_queue_push (queue, &op->node);
    }

  g_clear_pointer (&queue, _ag_completion_queue_unref);
}

/* Sends home what the locked section ended, then notifies; never under
 * the lock. */
void
_ag_channel_core_after_unlock (AgChannelCore *core,
                               AgChannelDone *done,
                               gboolean       notify)
{
  send_home (done);
  if (notify)
    _ag_channel_core_schedule_notify (core);
}

/* Ends an op that never waited with @error, at once: it still returns
 * later, from home, like every op. */
void
_ag_channel_op_fail_now (AgChannelOp *op,
                         GError      *error)
{
  AgChannelDone done = AG_CHANNEL_DONE_INIT;

  _ag_channel_op_end_now_locked (op, error, &done);
  send_home (&done);
}

/* Fails an op that has not started if its cancellable is cancelled
 * already, as g_task_return_error_if_cancelled() would. */
gboolean
_ag_channel_op_fail_if_cancelled (AgChannelOp *op)
{
  GError *error = NULL;

  if (!g_cancellable_set_error_if_cancelled (op->cancellable, &error))
    return FALSE;

  _ag_channel_op_fail_now (op, error);
  return TRUE;
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
  stop_waiting (user_data, cancelled_error ());
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
                            int          timeout_ms)
{
  AgChannelCore *core = op->core;
  GCancellable *cancellable = op->cancellable;
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

  if (timeout_ms > 0)
    {
      op->timeout_source = g_timeout_source_new ((guint) timeout_ms);
      g_source_set_static_name (op->timeout_source, "[asyncgui] channel timeout");
      g_source_set_callback (op->timeout_source, op_timed_out,
                             g_object_ref (op->task), g_object_unref);
      g_source_attach (op->timeout_source, context);
    }
}
