/* ag-channel-reader.c: AgChannelReader, a read end of a channel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "ag-i18n-private.h"
#include "ag-channel-internal.h"
#include "ag-error.h"
#include "ag-values-private.h"

/**
 * AgChannelReader:
 *
 * A read end of a [class@Channel], opened with
 * [method@Channel.open_reader].
 *
 * Any thread may read: [method@ChannelReader.read] blocks with a timeout,
 * [method@ChannelReader.read_async] waits on the caller's thread-default
 * main context. Several readers of one channel share its items, each item
 * going to one of them. Closing or dropping the last reader tells the
 * writers that nobody will read again.
 *
 * Since: 1.0
 */

struct _AgChannelReader
{
  GObject         parent_instance;

  AgChannelCore  *core;           /* NULL if not made by ag_channel_open_reader() */
  gboolean        closed;         /* lock */
  GError         *pending_error;  /* a read transform's failure, for the next read; lock */
  GValue          pending_detail; /* its detail, unset if none; lock */
  GValue          error_detail;   /* the detail of the transform error the last read
                                   * failed with, unset if none; lock */
  int             feeds_pipeline; /* atomic: a pipeline reads its inputs here */
};

G_DEFINE_FINAL_TYPE (AgChannelReader, ag_channel_reader, G_TYPE_OBJECT)

static void read_async (AgChannelReader     *self,
                        guint                min,
                        guint                count,
                        int                  timeout_ms,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data);

/* A new read end of @core; the caller counts it as open. */
AgChannelReader *
_ag_channel_reader_new (AgChannelCore *core)
{
  AgChannelReader *self = g_object_new (AG_TYPE_CHANNEL_READER, NULL);

  self->core = _ag_channel_core_ref (core);
  return self;
}

/* Makes @detail (moved, zeroed after; unset for none) the detail of the
 * last read's failure. */
static void
set_error_detail (AgChannelReader *self,
                  GValue          *detail)
{
  GValue old = G_VALUE_INIT;

  g_mutex_lock (&self->core->lock);
  memcpy (&old, &self->error_detail, sizeof (GValue));
  memcpy (&self->error_detail, detail, sizeof (GValue));
  memset (detail, 0, sizeof (GValue));
  g_mutex_unlock (&self->core->lock);

  _ag_value_clear (&old);
}

/* Checks that @self can be read; a pending transform error fails it, its
 * detail moved into the zeroed @detail. */
static gboolean
check_reader_locked (AgChannelReader  *self,
                     GValue           *detail,
                     GError          **error)
{
  if (self->closed)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                           _("The channel reader is closed"));
      return FALSE;
    }

  if (self->pending_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->pending_error));
      memcpy (detail, &self->pending_detail, sizeof (GValue));
      memset (&self->pending_detail, 0, sizeof (GValue));
      return FALSE;
    }

  return TRUE;
}

/* Gives items @from.. of @items back to the channel; @pending_error, if
 * not NULL, becomes the reader's pending error in the same step, with
 * @pending_detail (moved), unless it has one. */
static void
put_back (AgChannelReader  *self,
          GArray           *items,
          guint             from,
          GError          **pending_error,
          GValue           *pending_detail)
{
  AgChannelCore *core = self->core;
  AgChannelDone done = AG_CHANNEL_DONE_INIT;
  gboolean notify;

  g_mutex_lock (&core->lock);
  _ag_channel_core_put_back_locked (core, items, from);
  if (pending_error != NULL && self->pending_error == NULL)
    {
      self->pending_error = g_steal_pointer (pending_error);
      memcpy (&self->pending_detail, pending_detail, sizeof (GValue));
      memset (pending_detail, 0, sizeof (GValue));
    }
  _ag_channel_core_pump_locked (core, &done);
  notify = _ag_channel_core_claim_notify_locked (core);
  g_mutex_unlock (&core->lock);

  _ag_channel_core_after_unlock (core, &done, notify);
}

/* Applies the read transform to @items (consumed). If it fails at item k,
 * the items before k are returned and the error waits for the next read,
 * or, with no items before k, is returned now; the items after k go back
 * to the channel. On a thread the transforms are not pinned to, all the
 * items go back and the read fails. */
static GArray *
transform_for_read (AgChannelReader  *self,
                    GArray           *items,
                    GError          **error)
{
  AgChannelCore *core = self->core;
  AgChannelTransform *transform = NULL;
  GError *local_error = NULL;
  GValue detail = G_VALUE_INIT;
  GArray *out;
  guint i;

  if (core->read_func == NULL)
    return items;

  if (!_ag_channel_core_check_pinned_thread (core, error))
    {
      put_back (self, items, 0, NULL, NULL);
      g_array_unref (items);
      return NULL;
    }

  out = _ag_value_array_new (items->len);
  g_array_set_size (out, items->len);
  for (i = 0; i < items->len; i++)
    if (!_ag_channel_core_run_transform (core, &transform, core->read_func, core->read_data,
                                         &g_array_index (items, GValue, i),
                                         &g_array_index (out, GValue, i), &detail,
                                         &local_error))
      break;
  if (transform != NULL)
    _ag_channel_core_give_back_transform (core, transform);

  if (local_error != NULL)
    {
      /* The slots of @out from i on were never set. */
      g_array_set_size (out, i);
      put_back (self, items, i + 1, out->len > 0 ? &local_error : NULL, &detail);

      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          set_error_detail (self, &detail);
          g_clear_pointer (&out, g_array_unref);
        }
    }

  g_array_unref (items);
  return out;
}

static void
close_reader (AgChannelReader *self)
{
  AgChannelCore *core = self->core;
  AgChannelDone done = AG_CHANNEL_DONE_INIT;
  gboolean notify = FALSE;

  g_mutex_lock (&core->lock);
  if (!self->closed)
    {
      GList *l = core->read_ops.tail;

      self->closed = TRUE;

      /* Its own waiting reads end; their items go back for other readers. */
      while (l != NULL)
        {
          GList *prev = l->prev;
          AgChannelOp *op = l->data;

          if (g_task_get_source_object (op->task) == (gpointer) self)
            {
              g_queue_delete_link (&core->read_ops, l);
              _ag_channel_core_put_back_locked (core, op->items, 0);
              _ag_channel_op_end_locked (op,
                                         g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                                              _("The channel reader is closed")),
                                         &done);
            }
          l = prev;
        }

      if (--core->n_readers == 0)
        _ag_channel_core_break_locked (core);
      _ag_channel_core_pump_locked (core, &done);
      _ag_channel_core_demand_changed_locked (core);
      notify = _ag_channel_core_claim_notify_locked (core);
    }
  g_mutex_unlock (&core->lock);

  _ag_channel_core_after_unlock (core, &done, notify);
}

static void
ag_channel_reader_finalize (GObject *object)
{
  AgChannelReader *self = AG_CHANNEL_READER (object);

  if (self->core != NULL)
    {
      close_reader (self);
      _ag_channel_core_unref (self->core);
    }
  g_clear_error (&self->pending_error);
  _ag_value_clear (&self->pending_detail);
  _ag_value_clear (&self->error_detail);

  G_OBJECT_CLASS (ag_channel_reader_parent_class)->finalize (object);
}

static void
ag_channel_reader_class_init (AgChannelReaderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ag_channel_reader_finalize;
}

static void
ag_channel_reader_init (AgChannelReader *self)
{
}

/* Blocking on the thread of the engine that lives on the caller's
 * thread-default context (a script's main thread, say) would stop the very
 * deliveries that fill the channel when a pipeline of that engine writes
 * it, or a job of it does. So there a blocking read waits as an
 * asynchronous read and iterates the context meanwhile, as ag_task_wait()
 * does. Not inside a delivery of that engine, which could not deliver the
 * read's own end before it returned: there it blocks as anywhere else.
 * Returns the context to iterate, acquired, or NULL to block. */
static GMainContext *
acquire_context_to_drive (void)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  AgCompletionQueue *queue = _ag_completion_queue_for_context (context);
  gboolean drive;

  if (queue == NULL)
    return NULL;

  drive = _ag_completion_queue_is_home_thread (queue)
          && !_ag_completion_queue_is_delivering (queue)
          && g_main_context_acquire (context);
  _ag_completion_queue_unref (queue);

  return drive ? g_steal_pointer (&context) : NULL;
}

/* Inside a delivery of the engine whose deliveries write the channel (a
 * running pipeline's output), a read that has to wait would wait for
 * itself: it fails at once, as ag_task_wait() does there. */
static gboolean
refuse_wait_for_own_delivery (AgChannelReader  *self,
                              guint             count,
                              GError          **error)
{
  AgChannelCore *core = self->core;
  AgCompletionQueue *writer = NULL;
  gboolean refuse;

  g_mutex_lock (&core->lock);
  if (core->demand_queue != NULL && !self->closed && !core->closed
      && self->pending_error == NULL && core->items.length < count)
    writer = _ag_completion_queue_ref (core->demand_queue);
  g_mutex_unlock (&core->lock);

  /* Outside the lock: asking whose thread this is takes the context's. */
  refuse = writer != NULL
           && _ag_completion_queue_is_home_thread (writer)
           && _ag_completion_queue_is_delivering (writer);
  g_clear_pointer (&writer, _ag_completion_queue_unref);

  if (refuse)
    g_set_error_literal (error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK,
                         _("Waiting for a pipeline’s output while its engine delivers "
                           "results would never end: read it with "
                           "ag_channel_reader_read_async()"));
  return refuse;
}

typedef struct
{
  GArray   *items;
  GError   *error;
  gboolean  done;
} DrivenRead;

static void
driven_read_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  DrivenRead *read = user_data;

  read->items = ag_channel_reader_read_finish (AG_CHANNEL_READER (source), result, &read->error);
  read->done = TRUE;
}

/* The read's own timeout source ends it, so the loop needs no deadline. */
static GArray *
read_driving (AgChannelReader  *self,
              GMainContext     *context,
              guint             count,
              int               timeout_ms,
              GError          **error)
{
  DrivenRead read = { NULL, NULL, FALSE };

  read_async (self, count, count, timeout_ms, NULL, driven_read_done, &read);
  while (!read.done)
    g_main_context_iteration (context, TRUE);

  if (read.error != NULL)
    g_propagate_error (error, read.error);

  return read.items;
}

/**
 * ag_channel_reader_read:
 * @self: a reader
 * @count: how many items to read; 0 for those waiting now, without waiting
 * @timeout_ms: how long to wait for @count items, in milliseconds; 0 not
 *   to wait, -1 to wait as long as it takes
 * @error: return location for an error
 *
 * Reads up to @count items, blocking until they are all there, the channel
 * is closed and drained, or @timeout_ms passed: then it returns what it
 * got, which may be fewer items or none. A closed, drained channel returns
 * an empty array at once; [method@ChannelReader.is_drained] tells that
 * apart from a timeout.
 *
 * For worker threads and scripts; on the GUI thread use
 * [method@ChannelReader.read_async]. On the thread of the engine that
 * lives on the caller's thread-default main context, while no delivery of
 * it runs, the read iterates that context while it waits, as
 * [method@Task.wait] does: so a script that runs no main loop can read
 * what a pipeline or a job of that engine writes. Inside a delivery of the
 * engine whose pipeline writes the channel, nothing can be written before
 * the read returns: a read that would have to wait fails at once with
 * %AG_ERROR_WOULD_DEADLOCK.
 *
 * Inside the function of a task or of a [class@MultiTask] that runs on a
 * worker thread, a read that has to wait ends once that task is cancelled:
 * with the items it got, or, when it got none, with %G_IO_ERROR_CANCELLED.
 *
 * Fails with %G_IO_ERROR_CLOSED if the reader is closed, or with the error
 * of the read transform (see [method@Channel.set_read_transform]).
 *
 * Thread: any; it blocks, so not the GUI's. On the engine's thread it
 * iterates the engine's context.
 *
 * Returns: (transfer full) (element-type GValue) (nullable): the items in
 *   the order they were written, or %NULL with @error set
 *
 * Since: 1.0
 */
GArray *
ag_channel_reader_read (AgChannelReader  *self,
                        guint             count,
                        int               timeout_ms,
                        GError          **error)
{
  AgChannelCore *core;
  g_autoptr(GArray) items = NULL;
  AgChannelDone done = AG_CHANNEL_DONE_INIT;
  AgChannelBlockingCancel watch;
  AgChannelWaitCheck check;
  GValue detail = G_VALUE_INIT;
  gint64 deadline;
  gboolean ok, notify;

  g_return_val_if_fail (AG_IS_CHANNEL_READER (self), NULL);
  g_return_val_if_fail (self->core != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  core = self->core;
  if (core->read_func != NULL && !_ag_channel_core_check_pinned_thread (core, error))
    return NULL;

  if (count > 0 && timeout_ms != 0)
    {
      g_autoptr(GMainContext) context = NULL;

      if (refuse_wait_for_own_delivery (self, count, error))
        return NULL;

      context = acquire_context_to_drive ();
      if (context != NULL)
        {
          GArray *driven = read_driving (self, context, count, timeout_ms, error);

          g_main_context_release (context);
          return driven;
        }
    }

  deadline = _ag_channel_deadline_for (timeout_ms);
  items = _ag_value_array_new (0);
  set_error_detail (self, &detail);
  _ag_channel_blocking_cancel_init (&watch);

  g_mutex_lock (&core->lock);
  ok = check_reader_locked (self, &detail, error);
  while (ok)
    {
      _ag_channel_core_take_locked (core, items, count == 0 ? G_MAXUINT : count - items->len,
                                    &done);
      _ag_channel_core_pump_locked (core, &done);  /* room for the writers that wait */

      if (count == 0 || items->len >= count)
        break;
      if (!_ag_value_ring_is_empty (&core->items))
        continue;
      if (core->closed || g_get_monotonic_time () >= deadline)
        break;

      /* Cancelled work keeps what it read: only a read with nothing fails. */
      check = _ag_channel_blocking_cancel_check_locked (&watch, core,
                                                         items->len == 0 ? error : NULL);
      if (check == AG_CHANNEL_WAIT_CANCELLED)
        {
          ok = items->len > 0;
          break;
        }
      if (check == AG_CHANNEL_WAIT_LOOK_AGAIN)
        continue;

      core->n_sleepers++;
      core->blocked_wanted += count - items->len;
      _ag_channel_core_demand_changed_locked (core);
      g_cond_wait_until (&core->cond, &core->lock, deadline);
      core->blocked_wanted -= count - items->len;
      core->n_sleepers--;
    }
  if (items->len > 0)
    _ag_channel_core_demand_changed_locked (core);
  notify = items->len > 0 && _ag_channel_core_claim_notify_locked (core);
  g_mutex_unlock (&core->lock);
  _ag_channel_blocking_cancel_clear (&watch);

  _ag_channel_core_after_unlock (core, &done, notify);

  if (!ok)
    {
      set_error_detail (self, &detail);
      return NULL;
    }

  return transform_for_read (self, g_steal_pointer (&items), error);
}

/**
 * ag_channel_reader_read_async:
 * @self: a reader
 * @count: how many items to read; 0 for those waiting now, without waiting
 * @timeout_ms: how long to wait for @count items, in milliseconds; 0 not
 *   to wait, -1 to wait as long as it takes
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async) (closure user_data): called with the items
 * @user_data: data for @callback
 *
 * Reads up to @count items like [method@ChannelReader.read], but waits on
 * the thread-default main context instead of blocking; @callback runs
 * there, never before this call returns: through the delivery of the
 * engine that lives there, if any (see [class@Channel]). Reads that wait
 * get items in the order they were made.
 *
 * Cancelling fails the read with %G_IO_ERROR_CANCELLED and loses no item:
 * whatever it had already taken goes back to the front of the channel.
 * The cancel takes effect when g_cancellable_cancel() is called: items
 * written after it, before the context runs again, stay in the channel,
 * and a read that got its items but was cancelled before @callback
 * finished it fails the same way and gives them back, ahead of any read
 * made after the cancel while the read was on its way to @callback (and
 * [method@Channel.get_length] and [method@ChannelReader.is_drained] count
 * them from the cancel on).
 *
 * Thread: any with a main context to wait on; the callback runs there.
 *
 * Since: 1.0
 */
void
ag_channel_reader_read_async (AgChannelReader     *self,
                              guint                count,
                              int                  timeout_ms,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (AG_IS_CHANNEL_READER (self));
  g_return_if_fail (self->core != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  read_async (self, count, count, timeout_ms, cancellable, callback, user_data);
}

/* Like ag_channel_reader_read_async(), but done as soon as @min items are
 * there, with up to @count: a pipeline takes what has come instead of
 * waiting for a whole batch. Finished with ag_channel_reader_read_finish(). */
void
_ag_channel_reader_read_some_async (AgChannelReader     *self,
                                    guint                min,
                                    guint                count,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  read_async (self, MAX (MIN (min, count), 1), count, -1, cancellable, callback, user_data);
}

static void
read_async (AgChannelReader     *self,
            guint                min,
            guint                count,
            int                  timeout_ms,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  AgChannelCore *core;
  g_autoptr(GTask) task = NULL;
  AgChannelDone done = AG_CHANNEL_DONE_INIT;
  GError *error = NULL;
  AgChannelOp *op;
  gboolean notify;

  core = self->core;
  /* The cancellable is the op's, not the task's (see ag-channel-op.c):
   * the pump ends a cancelled read that waits, and finishing one that got
   * its items before the cancel gives them back. */
  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, ag_channel_reader_read_async);
  g_task_set_name (task, "[asyncgui] channel read");
  op = _ag_channel_op_new (core, AG_CHANNEL_OP_READ, task, cancellable);

  if (_ag_channel_op_fail_if_cancelled (op))
    return;

  op->count = count;
  op->min = min;
  op->items = _ag_value_array_new (0);
  /* A pipeline's reads of its input have no caller that could read on
   * after a cancel; they spare the channel the bookkeeping. */
  op->reclaimable = cancellable != NULL && !g_atomic_int_get (&self->feeds_pipeline);

  g_mutex_lock (&core->lock);
  if (!check_reader_locked (self, &op->detail, &error))
    _ag_channel_op_end_now_locked (op, g_steal_pointer (&error), &done);
  else
    {
      /* Behind other waiting reads the queue is empty anyway. */
      _ag_channel_core_take_locked (core, op->items, count == 0 ? G_MAXUINT : count, &done);

      if (count == 0 || op->items->len >= min || timeout_ms == 0
          || (core->closed && _ag_value_ring_is_empty (&core->items)))
        _ag_channel_op_end_now_locked (op, NULL, &done);
      else
        _ag_channel_op_wait_locked (op, timeout_ms);
      if (op->items->len > 0 || op->waiting)
        _ag_channel_core_demand_changed_locked (core);
    }
  _ag_channel_core_pump_locked (core, &done);
  notify = _ag_channel_core_claim_notify_locked (core);
  g_mutex_unlock (&core->lock);

  _ag_channel_core_after_unlock (core, &done, notify);
}

/**
 * ag_channel_reader_read_finish:
 * @self: a reader
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@ChannelReader.read_async]. The read transform, if any,
 * runs here, on the calling thread.
 *
 * Thread: the one that called [method@ChannelReader.read_async], in its
 * callback.
 *
 * Returns: (transfer full) (element-type GValue) (nullable): the items in
 *   the order they were written (none once the channel is closed and
 *   drained), or %NULL with @error set
 *
 * Since: 1.0
 */
GArray *
ag_channel_reader_read_finish (AgChannelReader  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  AgChannelOp *op;
  GArray *items;

  g_return_val_if_fail (AG_IS_CHANNEL_READER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, ag_channel_reader_read_async), NULL);

  op = g_task_get_task_data (G_TASK (result));
  set_error_detail (self, &op->detail);
  items = g_task_propagate_pointer (G_TASK (result), error);
  if (items != NULL)
    items = _ag_channel_op_give_back_if_cancelled (op, items, error);
  if (items == NULL)
    return NULL;

  return transform_for_read (self, items, error);
}

/* Whether the reader was opened on a channel (ag_channel_open_reader()),
 * not made by g_object_new(). */
gboolean
_ag_channel_reader_has_channel (AgChannelReader *self)
{
  return self->core != NULL;
}

/* Makes the reader a pipeline's input; FALSE if it is another's already. */
gboolean
_ag_channel_reader_take_for_pipeline (AgChannelReader *self)
{
  return g_atomic_int_compare_and_exchange (&self->feeds_pipeline, FALSE, TRUE);
}

/**
 * ag_channel_reader_take_error_detail:
 * @self: a reader
 *
 * Takes the detail that [method@ChannelReader.get_error_detail] gets, and
 * forgets it: for a binding whose detail may come to refer to the reader
 * (an exception, once raised, holds the frames that read), so that the
 * reader does not keep it. Free it with g_boxed_free() for
 * %G_TYPE_VALUE.
 *
 * Thread: the one that reads @self, after the read.
 *
 * Returns: (transfer full) (nullable): the detail, or %NULL if the last
 *   read did not fail in the read transform or its error has no detail
 *
 * Since: 1.0
 */
GValue *
ag_channel_reader_take_error_detail (AgChannelReader *self)
{
  GValue *detail = NULL;

  g_return_val_if_fail (AG_IS_CHANNEL_READER (self), NULL);

  if (self->core == NULL)
    return NULL;

  g_mutex_lock (&self->core->lock);
  if (G_IS_VALUE (&self->error_detail))
    {
      detail = g_new0 (GValue, 1);
      memcpy (detail, &self->error_detail, sizeof (GValue));
      memset (&self->error_detail, 0, sizeof (GValue));
    }
  g_mutex_unlock (&self->core->lock);

  return detail;
}

/**
 * ag_channel_reader_is_drained:
 * @self: a reader
 *
 * Gets whether the channel is closed and empty, so that reading will never
 * return an item again.
 *
 * Thread: any.
 *
 * Returns: %TRUE if nothing more can be read
 *
 * Since: 1.0
 */
gboolean
ag_channel_reader_is_drained (AgChannelReader *self)
{
  gboolean drained;

  g_return_val_if_fail (AG_IS_CHANNEL_READER (self), TRUE);
  g_return_val_if_fail (self->core != NULL, TRUE);

  g_mutex_lock (&self->core->lock);
  drained = self->closed
            || (self->core->closed && _ag_channel_core_length_locked (self->core) == 0
                && self->pending_error == NULL);
  g_mutex_unlock (&self->core->lock);

  return drained;
}

/**
 * ag_channel_reader_close:
 * @self: a reader
 *
 * Closes this read end: its waiting reads fail with %G_IO_ERROR_CLOSED
 * and give their items back to the channel, and reading from it fails from
 * now on. If it was the channel's last reader, the channel breaks (see
 * [method@Channel.open_reader]). Dropping the last reference closes the
 * reader too. Closing a closed reader does nothing.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_channel_reader_close (AgChannelReader *self)
{
  g_return_if_fail (AG_IS_CHANNEL_READER (self));

  if (self->core != NULL)
    close_reader (self);
}

/**
 * ag_channel_reader_get_error_detail:
 * @self: a reader
 *
 * Gets the detail of the error the read transform failed the last read
 * of @self with (see [method@ChannelTransform.return_error_full]), for a
 * reader whose [method@ChannelReader.read] or
 * [method@ChannelReader.read_finish] failed: a binding gets back the very
 * exception its transform function raised. The next read forgets it.
 *
 * Thread: the one that reads @self, after the read.
 *
 * Returns: (transfer none) (nullable): the detail, or %NULL if the last
 *   read did not fail in the read transform or its error has no detail
 *
 * Since: 1.0
 */
const GValue *
ag_channel_reader_get_error_detail (AgChannelReader *self)
{
  g_return_val_if_fail (AG_IS_CHANNEL_READER (self), NULL);

  return G_IS_VALUE (&self->error_detail) ? &self->error_detail : NULL;
}
