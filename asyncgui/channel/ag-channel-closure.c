/* ag-channel-closure.c: reads and writes whose callback is a GClosure, and
 * transforms that are one, for language bindings (see ag-closure.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-channel.h"
#include "ag-channel-transform.h"
#include "ag-closure-private.h"

/**
 * ag_channel_write_with_closure:
 * @self: a channel
 * @value: the item; it is copied
 * @cancellable: (nullable): a cancellable
 * @callback: called when the item is written or the write failed, with the
 *   channel and the [iface@Gio.AsyncResult] to pass to
 *   [method@Channel.write_finish]
 *
 * Writes an item as [method@Channel.write_async] does, for language
 * bindings: the callback is a [struct@GObject.Closure], held until it was
 * called. C code uses [method@Channel.write_async].
 *
 * Thread: any with a main context to wait on; the callback runs there.
 *
 * Since: 1.0
 */
void
ag_channel_write_with_closure (AgChannel    *self,
                               const GValue *value,
                               GCancellable *cancellable,
                               GClosure     *callback)
{
  g_return_if_fail (AG_IS_CHANNEL (self));
  g_return_if_fail (callback != NULL);

  ag_channel_write_async (self, value, cancellable, _ag_closure_async_ready,
                          _ag_closure_take (callback));
}

/**
 * ag_channel_reader_read_with_closure:
 * @self: a reader
 * @count: how many items to read; 0 for those waiting now, without waiting
 * @timeout_ms: how long to wait for @count items, in milliseconds; 0 not
 *   to wait, -1 to wait as long as it takes
 * @cancellable: (nullable): a cancellable
 * @callback: called with the reader and the [iface@Gio.AsyncResult] to
 *   pass to [method@ChannelReader.read_finish]
 *
 * Reads up to @count items as [method@ChannelReader.read_async] does, for
 * language bindings: the callback is a [struct@GObject.Closure], held until
 * it was called. C code uses [method@ChannelReader.read_async].
 *
 * Thread: any with a main context to wait on; the callback runs there.
 *
 * Since: 1.0
 */
void
ag_channel_reader_read_with_closure (AgChannelReader *self,
                                     guint            count,
                                     int              timeout_ms,
                                     GCancellable    *cancellable,
                                     GClosure        *callback)
{
  g_return_if_fail (AG_IS_CHANNEL_READER (self));
  g_return_if_fail (callback != NULL);

  ag_channel_reader_read_async (self, count, timeout_ms, cancellable, _ag_closure_async_ready,
                                _ag_closure_take (callback));
}

static void
invoke_transform (AgChannelTransform *transform,
                  const GValue       *value,
                  gpointer            closure)
{
  _ag_closure_invoke_item (closure, AG_TYPE_CHANNEL_TRANSFORM, transform, value);
}

/**
 * ag_channel_set_write_transform_with_closure:
 * @self: a channel not yet written to and without readers
 * @func: makes the item to store from each item written, on the writing
 *   thread: called with the [class@ChannelTransform] handle to return it
 *   through and the item, it returns nothing
 *
 * Sets the write transform as [method@Channel.set_write_transform] does,
 * for language bindings: the function is a [struct@GObject.Closure], held
 * until the channel is freed. C code uses
 * [method@Channel.set_write_transform].
 *
 * Thread: any, before the channel is in use.
 *
 * Since: 1.0
 */
void
ag_channel_set_write_transform_with_closure (AgChannel *self,
                                             GClosure  *func)
{
  g_return_if_fail (AG_IS_CHANNEL (self));
  g_return_if_fail (func != NULL);

  ag_channel_set_write_transform (self, invoke_transform, _ag_closure_take (func),
                                  (GDestroyNotify) g_closure_unref);
}

/**
 * ag_channel_set_read_transform_with_closure:
 * @self: a channel not yet written to and without readers
 * @func: makes the item to hand out from each stored item, on the reading
 *   thread: called with the [class@ChannelTransform] handle to return it
 *   through and the item, it returns nothing
 *
 * Sets the read transform as [method@Channel.set_read_transform] does, for
 * language bindings: the function is a [struct@GObject.Closure], held
 * until the channel is freed. C code uses
 * [method@Channel.set_read_transform].
 *
 * Thread: any, before the channel is in use.
 *
 * Since: 1.0
 */
void
ag_channel_set_read_transform_with_closure (AgChannel *self,
                                            GClosure  *func)
{
  g_return_if_fail (AG_IS_CHANNEL (self));
  g_return_if_fail (func != NULL);

  ag_channel_set_read_transform (self, invoke_transform, _ag_closure_take (func),
                                 (GDestroyNotify) g_closure_unref);
}
