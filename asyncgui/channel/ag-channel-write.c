/* ag-channel-write.c: writing to a channel, blocking or not, and closing it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "ag-i18n-private.h"
#include "ag-channel-internal.h"
#include "ag-values-private.h"

/* Makes the item to store from @value, into the zeroed @item: a copy, or
 * what the write transform makes of it; its error's detail, if any, goes
 * into the zeroed @detail (or is dropped if %NULL). */
static gboolean
transform_for_write (AgChannelCore  *core,
                     const GValue   *value,
                     GValue         *item,
                     GValue         *detail,
                     GError        **error)
{
  AgChannelTransform *transform = NULL;
  gboolean ok;

  if (core->write_func == NULL)
    {
      _ag_value_init_copy (item, value);
      return TRUE;
    }

  if (!_ag_channel_core_check_pinned_thread (core, error))
    return FALSE;

  ok = _ag_channel_core_run_transform (core, &transform, core->write_func, core->write_data,
                                       value, item, detail, error);
  if (transform != NULL)
    _ag_channel_core_give_back_transform (core, transform);

  return ok;
}

/* The detail of the last blocking write on a thread that the write
 * transform failed, and the channel it was for: a blocking write has no
 * result to keep it in, and a thread makes one at a time. The channel is
 * only compared, never used: the next blocking write on the thread, to any
 * channel, forgets the detail. */
typedef struct
{
  gconstpointer channel;
  GValue        detail;
} WriteErrorDetail;

static void
write_error_detail_free (gpointer data)
{
  WriteErrorDetail *last = data;

  _ag_value_clear (&last->detail);
  g_free (last);
}

static GPrivate write_error_detail = G_PRIVATE_INIT (write_error_detail_free);

static void
forget_write_error_detail (void)
{
  WriteErrorDetail *last = g_private_get (&write_error_detail);

  if (last != NULL && G_IS_VALUE (&last->detail))
    {
      last->channel = NULL;
      _ag_value_clear (&last->detail);
    }
}

/* Keeps @detail (moved) as this thread's last for @channel. */
static void
keep_write_error_detail (AgChannel *channel,
                         GValue    *detail)
{
  WriteErrorDetail *last = g_private_get (&write_error_detail);

  if (last == NULL)
    {
      last = g_new0 (WriteErrorDetail, 1);
      g_private_set (&write_error_detail, last);
    }
  last->channel = channel;
  memcpy (&last->detail, detail, sizeof (GValue));
  memset (detail, 0, sizeof (GValue));
}

/**
 * ag_channel_write:
 * @self: a channel
 * @value: the item; it is copied
 * @timeout_ms: how long to wait for space, in milliseconds; 0 not to
 *   wait, -1 to wait as long as it takes
 * @error: return location for an error
 *
 * Writes an item, waiting while the channel is full. For worker threads:
 * on the GUI thread use [method@Channel.write_async].
 *
 * Fails with %G_IO_ERROR_CLOSED if the channel is closed,
 * %G_IO_ERROR_BROKEN_PIPE if its last reader went (also while waiting),
 * %G_IO_ERROR_WOULD_BLOCK if it is full and @timeout_ms is 0,
 * %G_IO_ERROR_TIMED_OUT if it stayed full for @timeout_ms, or with the
 * error of the write transform; [method@Channel.get_write_error_detail]
 * with a %NULL result then gives its detail, on this thread.
 *
 * Inside the function of a task or of a [class@MultiTask] that runs on a
 * worker thread, a write that has to wait fails with %G_IO_ERROR_CANCELLED
 * once that task is cancelled, storing nothing: so cancelled work, and an
 * application's exit, never wait for a reader that is gone.
 *
 * Thread: any; it blocks, so not the GUI's.
 *
 * Returns: %TRUE if the item was written
 *
 * Since: 1.0
 */
gboolean
ag_channel_write (AgChannel     *self,
                  const GValue  *value,
                  int            timeout_ms,
                  GError       **error)
{
  AgChannelCore *core;
  GValue item = G_VALUE_INIT;
  GValue detail = G_VALUE_INIT;
  AgChannelDone done = AG_CHANNEL_DONE_INIT;
  AgChannelBlockingCancel watch;
  AgChannelWaitCheck check;
  gint64 deadline;
  gboolean written = FALSE, notify;

  g_return_val_if_fail (AG_IS_CHANNEL (self), FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  core = self->core;
  g_atomic_int_set (&core->in_use, TRUE);
  deadline = _ag_channel_deadline_for (timeout_ms);

  forget_write_error_detail ();
  if (!transform_for_write (core, value, &item, &detail, error))
    {
      if (G_IS_VALUE (&detail))
        keep_write_error_detail (self, &detail);
      return FALSE;
    }

  _ag_channel_blocking_cancel_init (&watch);
  g_mutex_lock (&core->lock);
  for (;;)
    {
      if (!_ag_channel_core_check_writable_locked (core, error))
        break;

      if (core->items.length < core->capacity)
        {
          _ag_value_ring_push_tail (&core->items, &item);
          written = TRUE;
          break;
        }

      if (timeout_ms == 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                               _("The channel is full"));
          break;
        }

      if (g_get_monotonic_time () >= deadline)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               _("The channel stayed full for the time given"));
          break;
        }

      check = _ag_channel_blocking_cancel_check_locked (&watch, core, error);
      if (check == AG_CHANNEL_WAIT_CANCELLED)
        break;
      if (check == AG_CHANNEL_WAIT_LOOK_AGAIN)
        continue;

      core->n_sleepers++;
      g_cond_wait_until (&core->cond, &core->lock, deadline);
      core->n_sleepers--;
    }
  if (written)
    _ag_channel_core_pump_locked (core, &done);
  notify = written && _ag_channel_core_claim_notify_locked (core);
  g_mutex_unlock (&core->lock);
  _ag_channel_blocking_cancel_clear (&watch);

  /* Still here if it was not written. */
  _ag_value_clear (&item);
  _ag_channel_core_after_unlock (core, &done, notify);

  return written;
}

/**
 * ag_channel_write_async:
 * @self: a channel
 * @value: the item; it is copied
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async) (closure user_data): called when the item is
 *   written or the write failed
 * @user_data: data for @callback
 *
 * Writes an item without blocking, waiting on the thread-default main
 * context for space if the channel is full. @callback runs on that context,
 * never before this call returns: through the delivery of the engine that
 * lives there, if any (see [class@Channel]). Writes that wait store their
 * items in the order they were made.
 *
 * Cancelling stores nothing and fails with %G_IO_ERROR_CANCELLED: the
 * cancel takes effect when g_cancellable_cancel() is called, so room that
 * comes after it, before the context runs again, stores nothing either. A
 * write that had stored its item before the cancel succeeds. See
 * [method@Channel.write] for the other errors.
 *
 * Thread: any with a main context to wait on; the callback runs there.
 *
 * Since: 1.0
 */
void
ag_channel_write_async (AgChannel           *self,
                        const GValue        *value,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  AgChannelCore *core;
  g_autoptr(GTask) task = NULL;
  AgChannelDone done = AG_CHANNEL_DONE_INIT;
  GError *error = NULL;
  AgChannelOp *op;
  gboolean notify = FALSE;

  g_return_if_fail (AG_IS_CHANNEL (self));
  g_return_if_fail (value != NULL);
  g_return_if_fail (G_IS_VALUE (value));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  core = self->core;
  g_atomic_int_set (&core->in_use, TRUE);

  /* The cancellable is the op's, not the task's (see ag-channel-op.c):
   * the pump ends a cancelled write that waits, and one that was stored
   * succeeded, cancelled later or not. */
  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, ag_channel_write_async);
  g_task_set_name (task, "[asyncgui] channel write");
  op = _ag_channel_op_new (core, AG_CHANNEL_OP_WRITE, task, cancellable);

  if (_ag_channel_op_fail_if_cancelled (op))
    return;

  if (!transform_for_write (core, value, &op->value, &op->detail, &error))
    {
      _ag_channel_op_fail_now (op, error);
      return;
    }

  g_mutex_lock (&core->lock);
  if (!_ag_channel_core_check_writable_locked (core, &error))
    _ag_channel_op_end_now_locked (op, g_steal_pointer (&error), &done);
  else if (core->items.length < core->capacity)
    {
      _ag_value_ring_push_tail (&core->items, &op->value);
      _ag_channel_op_end_now_locked (op, NULL, &done);
      notify = TRUE;
    }
  else
    _ag_channel_op_wait_locked (op, -1);
  _ag_channel_core_pump_locked (core, &done);
  notify = notify && _ag_channel_core_claim_notify_locked (core);
  g_mutex_unlock (&core->lock);

  _ag_channel_core_after_unlock (core, &done, notify);
}

/**
 * ag_channel_write_finish:
 * @self: a channel
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Channel.write_async].
 *
 * Thread: the one that called [method@Channel.write_async], in its callback.
 *
 * Returns: %TRUE if the item was written
 *
 * Since: 1.0
 */
gboolean
ag_channel_write_finish (AgChannel     *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (AG_IS_CHANNEL (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, ag_channel_write_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * ag_channel_get_write_error_detail:
 * @self: a channel
 * @result: (nullable): the result given to the callback of
 *   [method@Channel.write_async], or %NULL for the last
 *   [method@Channel.write] to @self on this thread
 *
 * Gets the detail of the error the write transform failed the write
 * with (see [method@ChannelTransform.return_error_full]), for a writer
 * whose [method@Channel.write_finish] or [method@Channel.write] failed: a
 * binding gets back the very exception its transform function raised.
 * With a %NULL @result, the next blocking write on this thread forgets the
 * detail, whichever channel it writes to.
 *
 * Thread: with @result, the one that called [method@Channel.write_async],
 * in its callback; without, the one that called [method@Channel.write].
 *
 * Returns: (transfer none) (nullable): the detail, or %NULL if the write
 *   did not fail in the write transform or its error has no detail
 *
 * Since: 1.0
 */
const GValue *
ag_channel_get_write_error_detail (AgChannel    *self,
                                   GAsyncResult *result)
{
  AgChannelOp *op;

  g_return_val_if_fail (AG_IS_CHANNEL (self), NULL);

  if (result == NULL)
    {
      WriteErrorDetail *last = g_private_get (&write_error_detail);

      if (last == NULL || last->channel != self || !G_IS_VALUE (&last->detail))
        return NULL;
      return &last->detail;
    }

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, ag_channel_write_async), NULL);

  op = g_task_get_task_data (G_TASK (result));
  return G_IS_VALUE (&op->detail) ? &op->detail : NULL;
}

/**
 * ag_channel_take_write_error_detail:
 * @self: a channel
 * @result: (nullable): as for [method@Channel.get_write_error_detail]
 *
 * Takes the detail that [method@Channel.get_write_error_detail] gets, and
 * forgets it: for a binding whose detail may come to refer to the writer
 * (an exception, once raised, holds the frames that wrote), so that
 * neither the result nor this thread keeps it. Free it with
 * g_boxed_free() for %G_TYPE_VALUE.
 *
 * Thread: as for [method@Channel.get_write_error_detail].
 *
 * Returns: (transfer full) (nullable): the detail, or %NULL if the write
 *   did not fail in the write transform or its error has no detail
 *
 * Since: 1.0
 */
GValue *
ag_channel_take_write_error_detail (AgChannel    *self,
                                    GAsyncResult *result)
{
  GValue *kept;
  GValue *detail;

  g_return_val_if_fail (AG_IS_CHANNEL (self), NULL);

  kept = (GValue *) ag_channel_get_write_error_detail (self, result);
  if (kept == NULL)
    return NULL;

  detail = g_new0 (GValue, 1);
  memcpy (detail, kept, sizeof (GValue));
  memset (kept, 0, sizeof (GValue));
  return detail;
}

/**
 * ag_channel_close:
 * @self: a channel
 *
 * Closes the channel: writing fails from now on with %G_IO_ERROR_CLOSED,
 * and so do writes waiting for space. Readers still get the items already
 * in the channel; once it is drained, reads return an empty array at once.
 * Closing a closed channel does nothing. Any thread may close.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_channel_close (AgChannel *self)
{
  AgChannelCore *core;
  AgChannelDone done = AG_CHANNEL_DONE_INIT;
  gboolean notify = FALSE;

  g_return_if_fail (AG_IS_CHANNEL (self));

  core = self->core;
  g_mutex_lock (&core->lock);
  if (!core->closed)
    {
      core->closed = TRUE;
      _ag_channel_core_pump_locked (core, &done);
      notify = _ag_channel_core_claim_notify_locked (core);
    }
  g_mutex_unlock (&core->lock);

  _ag_channel_core_after_unlock (core, &done, notify);
}
