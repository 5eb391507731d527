/* ag-channel-core.c: the queue both ends of a channel share, and its lock
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-channel-internal.h"
#include "ag-values-private.h"

/* The core holds the items and the asynchronous operations that wait for
 * items or room, under one lock. Every change ends with
 * _ag_channel_core_pump_locked(), which moves items to the reads that wait
 * and the items of waiting writes into the queue, and wakes the threads
 * that block. What the change ended is returned after the lock is dropped
 * (ag-channel-op.c). */

AgChannelCore *
_ag_channel_core_new (guint capacity)
{
  AgChannelCore *core = g_new0 (AgChannelCore, 1);

  g_atomic_ref_count_init (&core->ref_count);
  core->capacity = capacity;
  core->context = g_main_context_ref_thread_default ();
  g_weak_ref_init (&core->channel, NULL);
  g_mutex_init (&core->lock);
  g_cond_init (&core->cond);
  _ag_value_ring_init (&core->items);
  g_queue_init (&core->read_ops);
  g_queue_init (&core->write_ops);
  g_queue_init (&core->homebound);
  core->has_channel = TRUE;

  return core;
}

AgChannelCore *
_ag_channel_core_ref (AgChannelCore *core)
{
  g_atomic_ref_count_inc (&core->ref_count);
  return core;
}

void
_ag_channel_core_unref (AgChannelCore *core)
{
  if (!g_atomic_ref_count_dec (&core->ref_count))
    return;

  /* Waiting operations hold their task, which holds an end, which holds
   * the core: none can be left. */
  g_assert (g_queue_is_empty (&core->read_ops));
  g_assert (g_queue_is_empty (&core->write_ops));
  g_assert (g_queue_is_empty (&core->homebound));

  _ag_value_ring_clear (&core->items);
  if (core->write_destroy != NULL)
    core->write_destroy (core->write_data);
  if (core->read_destroy != NULL)
    core->read_destroy (core->read_data);
  g_clear_pointer (&core->demand_queue, _ag_completion_queue_unref);
  g_clear_pointer (&core->transform_thread, g_thread_unref);
  g_clear_object (&core->spare_transform);
  g_weak_ref_clear (&core->channel);
  g_main_context_unref (core->context);
  g_mutex_clear (&core->lock);
  g_cond_clear (&core->cond);
  g_free (core);
}

/* Puts items @from.. of @array back at the front of the queue, in order,
 * leaving @array shorter. Used when a read cannot hand them out; the
 * queue may then briefly hold more than its capacity. Items of a broken
 * channel have nobody to go to and are dropped. */
void
_ag_channel_core_put_back_locked (AgChannelCore *core,
                                  GArray        *array,
                                  guint          from)
{
  for (guint i = array->len; i > from; i--)
    {
      GValue *slot = &g_array_index (array, GValue, i - 1);

      if (!core->broken)
        _ag_value_ring_push_head (&core->items, slot);
      else
        _ag_value_clear (slot);
    }

  g_array_set_size (array, MIN (from, array->len));
}

/* Ends the waiting operations of @ops that were cancelled. A cancel
 * takes effect when it is made: its source on the caller's context may
 * not have run yet, but no item or room that comes after it may end the
 * operation well. From the last to the first, so that the items the reads
 * put back keep their order. */
static void
end_cancelled_locked (GQueue        *ops,
                      AgChannelDone *done)
{
  GList *link = ops->tail;

  while (link != NULL)
    {
      GList *prev = link->prev;
      AgChannelOp *op = link->data;

      if (_ag_channel_op_is_cancelled (op))
        {
          g_queue_delete_link (ops, link);
          _ag_channel_op_end_cancelled_locked (op, done);
        }
      link = prev;
    }
}

/* Puts back the items of the reads that ended but were cancelled on their
 * way home, before anyone takes items again: their callers asked for the
 * cancel before they saw them, and a read made after the cancel (a click
 * handler that cancels a job and starts the next) must not get the items
 * written after them first. From the newest to the oldest, so that the
 * items keep their order. Their finish then fails as cancelled, with
 * nothing left to give back. */
static void
reclaim_cancelled_locked (AgChannelCore *core)
{
  GList *link = core->homebound.tail;

  while (link != NULL)
    {
      GList *prev = link->prev;
      AgChannelOp *op = link->data;

      if (_ag_channel_op_is_cancelled (op))
        {
          g_queue_unlink (&core->homebound, link);
          op->homebound = FALSE;
          _ag_channel_core_put_back_locked (core, op->items, 0);
        }
      link = prev;
    }
}

/* Before anyone takes items: ends the cancelled reads that wait and puts
 * back the items of the cancelled reads on their way home. Those are the
 * older ones (only the first waiting read gets items, in order), so they
 * go to the front last. */
static void
put_back_cancelled_locked (AgChannelCore *core,
                           AgChannelDone *done)
{
  end_cancelled_locked (&core->read_ops, done);
  reclaim_cancelled_locked (core);
}

/* Takes up to @max items from the front of the queue into @array, after
 * what cancelled reads put back; what that ends goes into @done. */
void
_ag_channel_core_take_locked (AgChannelCore *core,
                              GArray        *array,
                              guint          max,
                              AgChannelDone *done)
{
  put_back_cancelled_locked (core, done);
  _ag_value_ring_take (&core->items, array, max);
}

/* The items the queue holds, counting those that cancelled reads on
 * their way home give back (they are put back now). */
guint
_ag_channel_core_length_locked (AgChannelCore *core)
{
  reclaim_cancelled_locked (core);
  return (guint) core->items.length;
}

/* Moves items from the queue to waiting reads and from waiting writes to
 * the queue, ends the operations that are done into @done, and wakes the
 * blocked threads. Called with the lock held after every change. */
void
_ag_channel_core_pump_locked (AgChannelCore *core,
                              AgChannelDone *done)
{
  gboolean progress = TRUE;

  put_back_cancelled_locked (core, done);
  end_cancelled_locked (&core->write_ops, done);

  while (progress)
    {
      progress = FALSE;

      while (!g_queue_is_empty (&core->read_ops) && !_ag_value_ring_is_empty (&core->items))
        {
          AgChannelOp *op = g_queue_peek_head (&core->read_ops);

          _ag_value_ring_take (&core->items, op->items, op->count - op->items->len);
          if (op->items->len >= op->min)
            _ag_channel_op_end_locked (g_queue_pop_head (&core->read_ops), NULL, done);
          progress = TRUE;
        }

      while (!g_queue_is_empty (&core->write_ops) && core->items.length < core->capacity
             && !core->closed)
        {
          AgChannelOp *op = g_queue_pop_head (&core->write_ops);

          _ag_value_ring_push_tail (&core->items, &op->value);
          _ag_channel_op_end_locked (op, NULL, done);
          progress = TRUE;
        }
    }

  if (core->closed)
    {
      while (!g_queue_is_empty (&core->write_ops))
        _ag_channel_op_end_locked (g_queue_pop_head (&core->write_ops),
                                   core->broken
                                   ? g_error_new_literal (G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                                                          _("Nobody reads from the channel any more"))
                                   : g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                                          _("The channel is closed")),
                                   done);

      if (_ag_value_ring_is_empty (&core->items))
        while (!g_queue_is_empty (&core->read_ops))
          _ag_channel_op_end_locked (g_queue_pop_head (&core->read_ops), NULL, done);
    }

  if (core->n_sleepers > 0)
    g_cond_broadcast (&core->cond);
}

gboolean
_ag_channel_core_check_writable_locked (AgChannelCore  *core,
                                        GError        **error)
{
  if (core->broken)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                           _("Nobody reads from the channel any more"));
      return FALSE;
    }

  if (core->closed)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                           _("The channel is closed"));
      return FALSE;
    }

  return TRUE;
}

/* The last reader went: nobody can read again. */
void
_ag_channel_core_break_locked (AgChannelCore *core)
{
  core->broken = TRUE;
  core->closed = TRUE;
  _ag_value_ring_clear (&core->items);
}

/* Tells the write end's demand watcher that readers may want more: a
 * read started waiting, items were taken, or the last reader went. The
 * watcher runs under the lock and must not call back into the channel. */
void
_ag_channel_core_demand_changed_locked (AgChannelCore *core)
{
  if (core->demand_func != NULL)
    core->demand_func (core->demand_data);
}

/* Transforms */

/* A handle for the transforms of one call: the spare one if nobody took
 * it, else a new one. */
static AgChannelTransform *
take_transform (AgChannelCore *core)
{
  AgChannelTransform *transform = g_atomic_pointer_exchange (&core->spare_transform, NULL);

  return transform != NULL ? transform : _ag_channel_transform_new ();
}

/* Keeps @transform as the spare if nobody else holds it and there is no
 * spare yet; drops it otherwise. */
void
_ag_channel_core_give_back_transform (AgChannelCore      *core,
                                      AgChannelTransform *transform)
{
  if (!_ag_channel_transform_is_reusable (transform)
      || !g_atomic_pointer_compare_and_exchange (&core->spare_transform, NULL, transform))
    g_object_unref (transform);
}

/* Runs @func on @value into the zeroed @item through *@transform, taken
 * from the core if NULL and left there for the next item of the call, or
 * replaced if the function kept it (bindings hold what they were given
 * for as long as they keep it). The caller gives the handle back with
 * _ag_channel_core_give_back_transform() when the call is over. */
gboolean
_ag_channel_core_run_transform (AgChannelCore           *core,
                                AgChannelTransform     **transform,
                                AgChannelTransformFunc   func,
                                gpointer                 user_data,
                                const GValue            *value,
                                GValue                  *item,
                                GValue                  *detail,
                                GError                 **error)
{
  gboolean ok;

  if (*transform == NULL)
    *transform = take_transform (core);

  ok = _ag_channel_transform_run (*transform, func, user_data, value, item, detail, error);

  if (!_ag_channel_transform_is_reusable (*transform))
    g_clear_object (transform);

  return ok;
}

/* Refuses to run a transform on a thread it is not pinned to (see
 * ag_channel_pin_transforms()): a binding's function would crash there. */
gboolean
_ag_channel_core_check_pinned_thread (AgChannelCore  *core,
                                      GError        **error)
{
  if (core->transform_thread == NULL || core->transform_thread == g_thread_self ())
    return TRUE;

  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       _("The channel's transforms run only on the thread they are pinned to; "
                         "write and read it there"));
  return FALSE;
}
