/* ag-channel-transform.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include "ag-version-macros.h"
#include <gio/gio.h>

G_BEGIN_DECLS

#define AG_TYPE_CHANNEL_TRANSFORM (ag_channel_transform_get_type ())

AG_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AgChannelTransform, ag_channel_transform, AG, CHANNEL_TRANSFORM, GObject)

/**
 * AgChannelTransformFunc:
 * @transform: the handle of this one transform: return the new item or
 *   an error through it
 * @value: the item as it was written or as it is stored
 * @user_data: the data given with the function
 *
 * Turns one item of a [class@Channel] into another. Before it returns it
 * calls [method@ChannelTransform.return_value] with the new item (of any
 * type) or [method@ChannelTransform.return_error], exactly once, as a task
 * function calls `ag_task_return_*()`.
 *
 * A write transform runs on the thread that writes, before the item is
 * stored; a read transform runs on the thread that reads (for
 * [method@ChannelReader.read_async], in
 * [method@ChannelReader.read_finish]). Several threads may run it at once,
 * each with its own @transform.
 *
 * Since: 1.0
 */
typedef void (*AgChannelTransformFunc) (AgChannelTransform *transform,
                                        const GValue       *value,
                                        gpointer            user_data);

AG_AVAILABLE_IN_1_0
void ag_channel_transform_return_value (AgChannelTransform *self,
                                        const GValue       *value);
AG_AVAILABLE_IN_1_0
void ag_channel_transform_return_error (AgChannelTransform *self,
                                        GError             *error);
AG_AVAILABLE_IN_1_0
void ag_channel_transform_return_error_full (AgChannelTransform *self,
                                             GError             *error,
                                             const GValue       *detail);

G_END_DECLS
