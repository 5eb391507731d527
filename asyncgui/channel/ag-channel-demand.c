/* ag-channel-demand.c: what pipelines need of a channel's write end
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "ag-channel-internal.h"
#include "ag-values-private.h"

/* A pipeline that writes to a channel makes only what its readers ask
 * for: it watches the demand (the items readers wait for beyond what the
 * channel holds) and pushes what it made without blocking, straight into
 * the arrays of waiting reads where it can. */

/* Items the waiting asynchronous reads still want. */
static guint64
read_ops_wanted_locked (AgChannelCore *core)
{
  guint64 wanted = 0;

  for (GList *l = core->read_ops.head; l != NULL; l = l->next)
    {
      AgChannelOp *op = l->data;

      wanted += op->count - op->items->len;
    }

  return wanted;
}

/* Only one watcher: the pipeline that owns the write end, which writes in
 * the deliveries of @queue (its engine's) while it watches. */
void
_ag_channel_set_demand_func (AgChannel           *self,
                             AgChannelDemandFunc  func,
                             gpointer             user_data,
                             AgCompletionQueue   *queue)
{
  AgChannelCore *core = self->core;
  AgCompletionQueue *old;

  g_mutex_lock (&core->lock);
  g_warn_if_fail (func == NULL || core->demand_func == NULL);
  core->demand_func = func;
  core->demand_data = user_data;
  old = g_steal_pointer (&core->demand_queue);
  core->demand_queue = queue != NULL ? _ag_completion_queue_ref (queue) : NULL;
  g_mutex_unlock (&core->lock);

  if (old != NULL)
    _ag_completion_queue_unref (old);
}

/* How many more items the readers wait for than the channel holds: what a
 * pipeline must make now, and no more, so that nothing runs before
 * somebody reads. */
guint
_ag_channel_get_demand (AgChannel *self)
{
  AgChannelCore *core = self->core;
  guint64 wanted;

  g_mutex_lock (&core->lock);
  wanted = core->broken ? 0 : core->blocked_wanted + read_ops_wanted_locked (core);
  wanted = wanted > core->items.length ? wanted - core->items.length : 0;
  g_mutex_unlock (&core->lock);

  return (guint) MIN (wanted, G_MAXUINT);
}

gboolean
_ag_channel_is_broken (AgChannel *self)
{
  gboolean broken;

  g_mutex_lock (&self->core->lock);
  broken = self->core->broken;
  g_mutex_unlock (&self->core->lock);

  return broken;
}

/* Moves items from the front of @values into the channel without waiting:
 * as many as waiting reads take plus what fits. Values go straight into
 * the arrays of waiting reads while the queue is empty (so order holds);
 * only the rest wait in the queue. The write transform runs on each
 * first, on the calling thread and outside the lock. *@n_pushed says how
 * many left @values (they are removed from it); fails like
 * ag_channel_write() when the channel is closed or broken, or with the
 * transform's error. */
gboolean
_ag_channel_push_many (AgChannel  *self,
                       GArray     *values,
                       guint      *n_pushed,
                       GError    **error)
{
  AgChannelCore *core = self->core;
  AgChannelDone done = AG_CHANNEL_DONE_INIT;
  gboolean ok, notify;
  guint64 room = 0;
  guint n, i = 0;

  *n_pushed = 0;
  g_atomic_int_set (&core->in_use, TRUE);

  g_mutex_lock (&core->lock);
  ok = _ag_channel_core_check_writable_locked (core, error);
  if (ok)
    room = (core->items.length < core->capacity ? core->capacity - core->items.length : 0)
           + read_ops_wanted_locked (core);
  g_mutex_unlock (&core->lock);

  n = (guint) MIN (values->len, room);
  if (n == 0)
    return ok;

  if (core->write_func != NULL)
    {
      AgChannelTransform *transform = NULL;

      if (!_ag_channel_core_check_pinned_thread (core, error))
        return FALSE;

      for (guint k = 0; k < n && ok; k++)
        {
          GValue *slot = &g_array_index (values, GValue, k);
          GValue item = G_VALUE_INIT;

          /* On failure the pipeline ends and drops the rest. */
          ok = _ag_channel_core_run_transform (core, &transform, core->write_func,
                                               core->write_data, slot, &item, NULL, error);
          if (ok)
            {
              _ag_value_clear (slot);
              memcpy (slot, &item, sizeof (GValue));
            }
        }
      if (transform != NULL)
        _ag_channel_core_give_back_transform (core, transform);
      if (!ok)
        return FALSE;
    }

  g_mutex_lock (&core->lock);
  ok = _ag_channel_core_check_writable_locked (core, error);
  if (ok)
    {
      while (i < n && _ag_value_ring_is_empty (&core->items) && !g_queue_is_empty (&core->read_ops))
        {
          AgChannelOp *op = g_queue_peek_head (&core->read_ops);
          guint take = MIN (op->count - op->items->len, n - i);
          GValue *from = &g_array_index (values, GValue, i);

          g_array_append_vals (op->items, from, take);
          memset (from, 0, take * sizeof (GValue));
          i += take;
          if (op->items->len >= op->min)
            _ag_channel_op_end_locked (g_queue_pop_head (&core->read_ops), NULL, &done);
        }

      /* Like put-back, the queue may briefly hold more than its capacity
       * if another writer filled the room meanwhile. */
      for (; i < n; i++)
        _ag_value_ring_push_tail (&core->items, &g_array_index (values, GValue, i));
      _ag_channel_core_pump_locked (core, &done);
    }
  notify = ok && _ag_channel_core_claim_notify_locked (core);
  g_mutex_unlock (&core->lock);

  _ag_channel_core_after_unlock (core, &done, notify);

  if (!ok)
    return FALSE;

  /* The slots are zeroed, so removing them frees nothing. */
  g_array_remove_range (values, 0, n);
  *n_pushed = n;
  return TRUE;
}
