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
 * property that differs from what was last notified. */

gboolean
_ag_channel_core_claim_notify_locked (AgChannelCore *core)
{
  if (core->notify_scheduled || !core->has_channel)
    return FALSE;

  core->notify_scheduled = TRUE;
  return TRUE;
}

static gboolean
dispatch_notify (gpointer user_data)
{
  AgChannelCore *core = user_data;
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

  return G_SOURCE_REMOVE;
}

void
_ag_channel_core_schedule_notify (AgChannelCore *core)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT_IDLE);
  g_source_set_static_name (source, "[asyncgui] channel notify");
  g_source_set_callback (source, dispatch_notify, _ag_channel_core_ref (core),
                         (GDestroyNotify) _ag_channel_core_unref);
  g_source_attach (source, core->context);
}
