/* ag-channel-private.h: what pipelines need of a channel's write end
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-channel.h"
#include "ag-completion-queue-private.h"

G_BEGIN_DECLS

/* Called with the channel's lock held, from whichever thread read or
 * closed a reader: it may only note that demand changed and wake someone
 * (atomics, a completion-queue push), never call into the channel. */
typedef void (*AgChannelDemandFunc) (gpointer user_data);

void     _ag_channel_set_demand_func (AgChannel            *self,
                                      AgChannelDemandFunc   func,
                                      gpointer              user_data,
                                      AgCompletionQueue    *queue);
guint    _ag_channel_get_demand      (AgChannel            *self);
gboolean _ag_channel_is_broken       (AgChannel            *self);
gboolean _ag_channel_push_many       (AgChannel            *self,
                                      GArray               *values,
                                      guint                *n_pushed,
                                      GError              **error);
gboolean _ag_channel_reader_has_channel (AgChannelReader     *self);
gboolean _ag_channel_reader_take_for_pipeline (AgChannelReader *self);
void     _ag_channel_reader_read_some_async (AgChannelReader     *self,
                                             guint                min,
                                             guint                count,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);

G_END_DECLS
