/* ag-channel-blocking-cancel.c: a blocking read or write inside work ends
 * when the work is cancelled
 *
 * A task's function, or a MultiTask's chunk, that blocks on a channel
 * would otherwise wait for good once its work was cancelled, and so would
 * the application's exit, which waits for the engine's threads. So before
 * its first wait such a call connects to the work's cancellable
 * (ag-work-cancellable.c), whose cancel wakes the channel's sleepers, and
 * it looks at the cancellable before every wait. The connection is made
 * and broken without the channel's lock: the cancel's handler takes it,
 * and GCancellable runs a handler at once on a cancelled cancellable and
 * makes a disconnect wait for a handler that runs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-channel-internal.h"
#include "ag-work-cancellable-private.h"

void
_ag_channel_blocking_cancel_init (AgChannelBlockingCancel *watch)
{
  watch->cancellable = _ag_work_cancellable_get ();
  watch->handler = 0;
}

static void
wake_sleepers (GCancellable *cancellable,
               gpointer      user_data)
{
  AgChannelCore *core = user_data;

  g_mutex_lock (&core->lock);
  g_cond_broadcast (&core->cond);
  g_mutex_unlock (&core->lock);
}

/* Called with the lock held by a call about to wait. */
AgChannelWaitCheck
_ag_channel_blocking_cancel_check_locked (AgChannelBlockingCancel  *watch,
                                          AgChannelCore            *core,
                                          GError                  **error)
{
  if (watch->cancellable == NULL)
    return AG_CHANNEL_WAIT;

  if (g_cancellable_is_cancelled (watch->cancellable))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           _("The work that waited on the channel was cancelled"));
      return AG_CHANNEL_WAIT_CANCELLED;
    }

  if (watch->handler != 0)
    return AG_CHANNEL_WAIT;

  g_mutex_unlock (&core->lock);
  watch->handler = g_cancellable_connect (watch->cancellable, G_CALLBACK (wake_sleepers),
                                          core, NULL);
  g_mutex_lock (&core->lock);
  return AG_CHANNEL_WAIT_LOOK_AGAIN;
}

/* Called without the lock, once the call is over. */
void
_ag_channel_blocking_cancel_clear (AgChannelBlockingCancel *watch)
{
  if (watch->handler != 0)
    g_cancellable_disconnect (watch->cancellable, watch->handler);
  watch->handler = 0;
}
