/* ag-channel-transform-private.h: running a channel transform through its
 * handle
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-channel-transform.h"

G_BEGIN_DECLS

AgChannelTransform *_ag_channel_transform_new         (void);
gboolean            _ag_channel_transform_run         (AgChannelTransform      *self,
                                                       AgChannelTransformFunc   func,
                                                       gpointer                 user_data,
                                                       const GValue            *value,
                                                       GValue                  *item,
                                                       GValue                  *detail,
                                                       GError                 **error);
gboolean            _ag_channel_transform_is_reusable (AgChannelTransform      *self);

G_END_DECLS
