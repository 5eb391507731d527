/* ag-channel.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include "ag-version-macros.h"
#include <gio/gio.h>

#include "ag-channel-transform.h"

G_BEGIN_DECLS

#define AG_TYPE_CHANNEL (ag_channel_get_type ())

AG_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AgChannel, ag_channel, AG, CHANNEL, GObject)

#define AG_TYPE_CHANNEL_READER (ag_channel_reader_get_type ())

AG_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AgChannelReader, ag_channel_reader, AG, CHANNEL_READER, GObject)

AG_AVAILABLE_IN_1_0
AgChannel       *ag_channel_new                 (guint                    capacity) G_GNUC_WARN_UNUSED_RESULT;

AG_AVAILABLE_IN_1_0
guint            ag_channel_get_capacity        (AgChannel               *self);
AG_AVAILABLE_IN_1_0
guint            ag_channel_get_length          (AgChannel               *self);
AG_AVAILABLE_IN_1_0
gboolean         ag_channel_is_closed           (AgChannel               *self);
AG_AVAILABLE_IN_1_0
guint            ag_channel_get_n_readers       (AgChannel               *self);

AG_AVAILABLE_IN_1_0
void             ag_channel_set_write_transform (AgChannel               *self,
                                                 AgChannelTransformFunc   func,
                                                 gpointer                 user_data,
                                                 GDestroyNotify           destroy);
AG_AVAILABLE_IN_1_0
void             ag_channel_set_read_transform  (AgChannel               *self,
                                                 AgChannelTransformFunc   func,
                                                 gpointer                 user_data,
                                                 GDestroyNotify           destroy);
AG_AVAILABLE_IN_1_0
void             ag_channel_set_write_transform_with_closure (AgChannel  *self,
                                                              GClosure   *func);
AG_AVAILABLE_IN_1_0
void             ag_channel_set_read_transform_with_closure  (AgChannel  *self,
                                                              GClosure   *func);
AG_AVAILABLE_IN_1_0
void             ag_channel_pin_transforms      (AgChannel               *self);
AG_AVAILABLE_IN_1_0
gboolean         ag_channel_get_transforms_fixed (AgChannel              *self);

AG_AVAILABLE_IN_1_0
AgChannelReader *ag_channel_open_reader         (AgChannel               *self) G_GNUC_WARN_UNUSED_RESULT;

AG_AVAILABLE_IN_1_0
gboolean         ag_channel_write               (AgChannel               *self,
                                                 const GValue            *value,
                                                 int                      timeout_ms,
                                                 GError                 **error);
AG_AVAILABLE_IN_1_0
void             ag_channel_write_async         (AgChannel               *self,
                                                 const GValue            *value,
                                                 GCancellable            *cancellable,
                                                 GAsyncReadyCallback      callback,
                                                 gpointer                 user_data);
AG_AVAILABLE_IN_1_0
void             ag_channel_write_with_closure  (AgChannel               *self,
                                                 const GValue            *value,
                                                 GCancellable            *cancellable,
                                                 GClosure                *callback);
AG_AVAILABLE_IN_1_0
gboolean         ag_channel_write_finish        (AgChannel               *self,
                                                 GAsyncResult            *result,
                                                 GError                 **error);
AG_AVAILABLE_IN_1_0
const GValue    *ag_channel_get_write_error_detail (AgChannel            *self,
                                                    GAsyncResult         *result);
AG_AVAILABLE_IN_1_0
GValue          *ag_channel_take_write_error_detail (AgChannel           *self,
                                                     GAsyncResult        *result);
AG_AVAILABLE_IN_1_0
void             ag_channel_close               (AgChannel               *self);

AG_AVAILABLE_IN_1_0
GArray          *ag_channel_reader_read         (AgChannelReader         *self,
                                                 guint                    count,
                                                 int                      timeout_ms,
                                                 GError                 **error);
AG_AVAILABLE_IN_1_0
void             ag_channel_reader_read_async   (AgChannelReader         *self,
                                                 guint                    count,
                                                 int                      timeout_ms,
                                                 GCancellable            *cancellable,
                                                 GAsyncReadyCallback      callback,
                                                 gpointer                 user_data);
AG_AVAILABLE_IN_1_0
void             ag_channel_reader_read_with_closure (AgChannelReader    *self,
                                                 guint                    count,
                                                 int                      timeout_ms,
                                                 GCancellable            *cancellable,
                                                 GClosure                *callback);
AG_AVAILABLE_IN_1_0
GArray          *ag_channel_reader_read_finish  (AgChannelReader         *self,
                                                 GAsyncResult            *result,
                                                 GError                 **error);
AG_AVAILABLE_IN_1_0
const GValue    *ag_channel_reader_get_error_detail (AgChannelReader    *self);
AG_AVAILABLE_IN_1_0
GValue          *ag_channel_reader_take_error_detail (AgChannelReader   *self);
AG_AVAILABLE_IN_1_0
gboolean         ag_channel_reader_is_drained   (AgChannelReader         *self);
AG_AVAILABLE_IN_1_0
void             ag_channel_reader_close        (AgChannelReader         *self);

G_END_DECLS
