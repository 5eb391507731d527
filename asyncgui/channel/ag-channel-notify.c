/* ag-channel-notify.c: a channel's property notifications, coalesced
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-channel-internal.h"

/* Any thread changes a channel; its properties are notified on the
 * channel's context only. A change claims the one notification that may
 * be on its way (notify_scheduled); when it arrives it reads the values
 * as they are then, so many changes make one notification of each
 * property that differs from what was last notified.
 *
 * It travels like every return to that context: as a node on the
 * completion queue of the engine that lives there, delivered within its
 * budget. Without an engine there, or once the engine is gone, it comes
 * from an idle source on the context instead. */

gboolean
_ag_channel_core_claim_notify_locked (AgChannelCore *core)
{
  if (core->notify_scheduled || !core->has_channel)
    return FALSE;

  core->notify_scheduled = TRUE;
  return TRUE;
}

static void
notify_now (AgChannelCore *core)
{
  g_autoptr(AgChannel) self = g_weak_ref_get (&core->channel);
  guint length, n_readers;
  gboolean closed;

  g_mutex_lock (&core->lock);
  core->notify_scheduled = FALSE;
  length = (guint) core->items.length;
  n_readers = core->n_readers;
  closed = core->closed;
  g_mutex_unlock (&core->lock);

  if (self != NULL)
    _ag_channel_notify_changes (self, length, closed, n_readers);
}

static gboolean
notify_from_idle (gpointer user_data)
{
  AgChannelCore *core = user_data;
  GSource *source;

  g_mutex_lock (&core->lock);
  source = g_steal_pointer (&core->notify_source);
  g_mutex_unlock (&core->lock);
  g_clear_pointer (&source, g_source_unref);

  notify_now (core);
  return G_SOURCE_REMOVE;
}

/* Takes @core's ref. The channel's end takes the source back
 * (_ag_channel_core_drop_notify()): on a context nobody runs, a plain
 * thread's or a command-line tool's, it would hold the core for good. */
static void
notify_from_idle_later (AgChannelCore *core)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT_IDLE);
  g_source_set_static_name (source, "[asyncgui] channel notify");
  g_source_set_callback (source, notify_from_idle, core,
                         (GDestroyNotify) _ag_channel_core_unref);

  /* Attached under the lock, so that the channel's end, which comes
   * after has_channel is cleared, finds it attached or never made. */
  g_mutex_lock (&core->lock);
  if (core->has_channel)
    {
      core->notify_source = g_source_ref (source);
      g_source_attach (source, core->context);
    }
  g_mutex_unlock (&core->lock);

  /* Not attached: this drops @core's ref too. */
  g_source_unref (source);
}

/* The channel is gone: nobody is told of changes any more. */
void
_ag_channel_core_drop_notify (AgChannelCore *core)
{
  GSource *source;

  g_mutex_lock (&core->lock);
  source = g_steal_pointer (&core->notify_source);
  g_mutex_unlock (&core->lock);

  if (source != NULL)
    {
      g_source_destroy (source);
      g_source_unref (source);
    }
}

static void
notify_deliver (AgNode   *node,
                gpointer  owner)
{
  AgChannelCore *core = G_STRUCT_MEMBER_P (node, -G_STRUCT_OFFSET (AgChannelCore, notify_node));

  /* The engine went away first, and this may be any thread. */
  if (owner == NULL)
    {
      notify_from_idle_later (core);
      return;
    }

  notify_now (core);
  _ag_channel_core_unref (core);
}

/* Sends the notification claimed with
 * _ag_channel_core_claim_notify_locked() home; never under the lock. */
void
_ag_channel_core_schedule_notify (AgChannelCore *core)
{
  AgCompletionQueue *queue = _ag_completion_queue_for_context (core->context);

  _ag_channel_core_ref (core);
  if (queue == NULL)
    {
      notify_from_idle_later (core);
      return;
    }

  core->notify_node.deliver = notify_deliver;
  _ag_completion_queue_push (queue, &core->notify_node);
  _ag_completion_queue_unref (queue);
}
