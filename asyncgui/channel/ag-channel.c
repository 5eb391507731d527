/* ag-channel.c: AgChannel, the write end of a channel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-channel-internal.h"

/**
 * AgChannel:
 *
 * A thread-safe bounded queue of [struct@GObject.Value] items, to build
 * pipelines out of threads, tasks and the GUI.
 *
 * The channel object is the write end: any thread may write to it, either
 * blocking with a timeout ([method@Channel.write], for worker threads) or
 * asynchronously ([method@Channel.write_async], for the GUI thread). Once
 * [property@Channel:capacity] items wait, writers wait for space. Items are
 * copied in. [method@Channel.close] says no more items will come; dropping
 * the last reference to the channel closes it too.
 *
 * Items are read through read ends, opened with
 * [method@Channel.open_reader]. Each item goes to exactly one reader.
 *
 * ```c
 * static gpointer
 * produce (gpointer data)
 * {
 *   AgChannel *channel = data;
 *   g_auto(GValue) value = G_VALUE_INIT;
 *
 *   g_value_init (&value, G_TYPE_INT);
 *   for (int i = 0; i < 1000; i++)
 *     {
 *       g_value_set_int (&value, i);
 *       // Blocks while the channel is full; fails once nobody reads.
 *       if (!ag_channel_write (channel, &value, -1, NULL))
 *         break;
 *     }
 *   ag_channel_close (channel);
 *   g_object_unref (channel);
 *   return NULL;
 * }
 *
 * static void
 * got_items (GObject      *source,
 *            GAsyncResult *result,
 *            gpointer      user_data)
 * {
 *   AgChannelReader *reader = AG_CHANNEL_READER (source);
 *   g_autoptr(GArray) items = ag_channel_reader_read_finish (reader, result, NULL);
 *
 *   // On the GUI thread: show up to 100 items, then ask for more.
 *   show (items);
 *   if (!ag_channel_reader_is_drained (reader))
 *     ag_channel_reader_read_async (reader, 100, 50, NULL, got_items, NULL);
 * }
 *
 * channel = ag_channel_new (256);
 * reader = ag_channel_open_reader (channel);
 * g_thread_unref (g_thread_new ("producer", produce, g_object_ref (channel)));
 * ag_channel_reader_read_async (reader, 100, 50, NULL, got_items, NULL);
 * ```
 *
 * A read of `count` items returns early with what it got when its timeout
 * passes, and reading a closed channel returns the items left, then an
 * empty array at once. When the last reader is closed or dropped, nobody
 * can read any more: the items waiting are freed and writers fail with
 * %G_IO_ERROR_BROKEN_PIPE, so producers can stop.
 *
 * Transforms ([method@Channel.set_write_transform],
 * [method@Channel.set_read_transform]) convert or check items on the
 * writing and on the reading thread. A transform gets a
 * [class@ChannelTransform] handle for its item and returns the new item,
 * or an error that the write or read fails with, through it:
 *
 * ```c
 * static void
 * to_label (AgChannelTransform *transform,
 *           const GValue       *value,
 *           gpointer            user_data)
 * {
 *   g_auto(GValue) label = G_VALUE_INIT;
 *
 *   g_value_init (&label, G_TYPE_STRING);
 *   g_value_take_string (&label, g_strdup_printf ("item %d", g_value_get_int (value)));
 *   ag_channel_transform_return_value (transform, &label);
 * }
 *
 * ag_channel_set_read_transform (channel, to_label, NULL, NULL);
 * ```
 *
 * [property@Channel:length], [property@Channel:closed] and
 * [property@Channel:n-readers] are notified on the main context that was
 * the thread-default one when the channel was made (the GUI's, as
 * everywhere in asyncgui), never on a worker thread. Changes are
 * coalesced: many changes make at most one notification per property,
 * with the latest value, and none if the value is back to what was last
 * notified.
 *
 * A channel needs no engine, but comes home the way everything in
 * asyncgui does when one lives on the context: notifications and the
 * callbacks of asynchronous reads and writes then arrive through the
 * engine's delivery, within its [property@Engine:budget-ms], so that a
 * busy channel cannot hold up a frame. (Several engines on one context:
 * the one made first, while it lives.) Without an engine they come from
 * idle sources on the context.
 *
 * Since: 1.0
 */

G_DEFINE_FINAL_TYPE (AgChannel, ag_channel, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CAPACITY,
  PROP_LENGTH,
  PROP_CLOSED,
  PROP_N_READERS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define DEFAULT_CAPACITY 64

static void
ag_channel_constructed (GObject *object)
{
  AgChannel *self = AG_CHANNEL (object);

  G_OBJECT_CLASS (ag_channel_parent_class)->constructed (object);

  self->core = _ag_channel_core_new (self->capacity);
  g_weak_ref_set (&self->core->channel, self);
}

static void
ag_channel_finalize (GObject *object)
{
  AgChannel *self = AG_CHANNEL (object);
  AgChannelCore *core = self->core;
  AgChannelDone done = AG_CHANNEL_DONE_INIT;

  /* The write end is gone: no more items can come. */
  g_mutex_lock (&core->lock);
  core->has_channel = FALSE;
  core->closed = TRUE;
  _ag_channel_core_pump_locked (core, &done);
  g_mutex_unlock (&core->lock);
  _ag_channel_core_after_unlock (core, &done, FALSE);
  _ag_channel_core_drop_notify (core);

  _ag_channel_core_unref (core);

  G_OBJECT_CLASS (ag_channel_parent_class)->finalize (object);
}

static void
ag_channel_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  AgChannel *self = AG_CHANNEL (object);

  switch (prop_id)
    {
    case PROP_CAPACITY:
      g_value_set_uint (value, ag_channel_get_capacity (self));
      break;
    case PROP_LENGTH:
      g_value_set_uint (value, ag_channel_get_length (self));
      break;
    case PROP_CLOSED:
      g_value_set_boolean (value, ag_channel_is_closed (self));
      break;
    case PROP_N_READERS:
      g_value_set_uint (value, ag_channel_get_n_readers (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_channel_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  AgChannel *self = AG_CHANNEL (object);

  switch (prop_id)
    {
    case PROP_CAPACITY:
      self->capacity = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_channel_class_init (AgChannelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  /* Transform handle objects are made on worker threads. Their class is made here,
   * before any work can be: two threads making the first one at once race
   * on its class through GLib's own atomics, which nothing orders for
   * ThreadSanitizer (or for a reader that relies on it). */
  g_type_class_unref (g_type_class_ref (AG_TYPE_CHANNEL_TRANSFORM));

  object_class->constructed = ag_channel_constructed;
  object_class->finalize = ag_channel_finalize;
  object_class->get_property = ag_channel_get_property;
  object_class->set_property = ag_channel_set_property;

  /**
   * AgChannel:capacity:
   *
   * How many items may wait in the channel before writers wait for space.
   *
   * Since: 1.0
   */
  properties[PROP_CAPACITY] =
    g_param_spec_uint ("capacity", NULL, NULL,
                       1, G_MAXUINT, DEFAULT_CAPACITY,
                       (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * AgChannel:length:
   *
   * How many items wait to be read. Notified on the channel's main context,
   * coalesced.
   *
   * Since: 1.0
   */
  properties[PROP_LENGTH] =
    g_param_spec_uint ("length", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgChannel:closed: (getter is_closed)
   *
   * Whether the channel is closed: by [method@Channel.close], by dropping
   * the channel, or because its last reader went. Notified on the
   * channel's main context.
   *
   * Since: 1.0
   */
  properties[PROP_CLOSED] =
    g_param_spec_boolean ("closed", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgChannel:n-readers:
   *
   * How many read ends are open. When it drops to 0 after a reader was
   * opened, the channel breaks: see [method@Channel.open_reader]. Notified
   * on the channel's main context.
   *
   * Since: 1.0
   */
  properties[PROP_N_READERS] =
    g_param_spec_uint ("n-readers", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ag_channel_init (AgChannel *self)
{
  self->capacity = DEFAULT_CAPACITY;
}

/**
 * ag_channel_new:
 * @capacity: how many items may wait before writers wait; at least 1
 *
 * Creates a channel. Its notifications are emitted on the thread-default
 * main context of the calling thread.
 *
 * Thread: any; notifications go to that thread's thread-default context.
 *
 * Returns: (transfer full) (nullable): a new channel, the write end, or
 *   %NULL if @capacity is 0
 *
 * Since: 1.0
 */
AgChannel *
ag_channel_new (guint capacity)
{
  g_return_val_if_fail (capacity > 0, NULL);

  return g_object_new (AG_TYPE_CHANNEL, "capacity", capacity, NULL);
}

/**
 * ag_channel_get_capacity:
 * @self: a channel
 *
 * Gets how many items may wait in the channel.
 *
 * Thread: any.
 *
 * Returns: the capacity
 *
 * Since: 1.0
 */
guint
ag_channel_get_capacity (AgChannel *self)
{
  g_return_val_if_fail (AG_IS_CHANNEL (self), 0);

  return self->core->capacity;
}

/**
 * ag_channel_get_length:
 * @self: a channel
 *
 * Gets how many items wait to be read right now. Any thread may ask; the
 * answer may be stale by the time it is used.
 *
 * Thread: any.
 *
 * Returns: the number of items waiting
 *
 * Since: 1.0
 */
guint
ag_channel_get_length (AgChannel *self)
{
  guint length;

  g_return_val_if_fail (AG_IS_CHANNEL (self), 0);

  g_mutex_lock (&self->core->lock);
  length = _ag_channel_core_length_locked (self->core);
  g_mutex_unlock (&self->core->lock);

  return length;
}

/**
 * ag_channel_is_closed: (get-property closed)
 * @self: a channel
 *
 * Gets whether the channel is closed.
 *
 * Thread: any.
 *
 * Returns: %TRUE if no more items can be written
 *
 * Since: 1.0
 */
gboolean
ag_channel_is_closed (AgChannel *self)
{
  gboolean closed;

  g_return_val_if_fail (AG_IS_CHANNEL (self), FALSE);

  g_mutex_lock (&self->core->lock);
  closed = self->core->closed;
  g_mutex_unlock (&self->core->lock);

  return closed;
}

/**
 * ag_channel_get_n_readers:
 * @self: a channel
 *
 * Gets how many read ends are open.
 *
 * Thread: any.
 *
 * Returns: the number of open readers
 *
 * Since: 1.0
 */
guint
ag_channel_get_n_readers (AgChannel *self)
{
  guint n_readers;

  g_return_val_if_fail (AG_IS_CHANNEL (self), 0);

  g_mutex_lock (&self->core->lock);
  n_readers = self->core->n_readers;
  g_mutex_unlock (&self->core->lock);

  return n_readers;
}

static void
set_transform (AgChannel               *self,
               AgChannelTransformFunc  *slot_func,
               gpointer                *slot_data,
               GDestroyNotify          *slot_destroy,
               AgChannelTransformFunc   func,
               gpointer                 user_data,
               GDestroyNotify           destroy)
{
  if (g_atomic_int_get (&self->core->in_use))
    {
      g_critical ("A channel's transforms must be set before it is first written to "
                  "or a reader is opened");
      if (destroy != NULL)
        destroy (user_data);
      return;
    }

  if (*slot_destroy != NULL)
    (*slot_destroy) (*slot_data);
  *slot_func = func;
  *slot_data = user_data;
  *slot_destroy = destroy;
}

/**
 * ag_channel_set_write_transform:
 * @self: a channel not yet written to and without readers
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy):
 *   makes the item to store from each written value, on the writing thread
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the channel is freed
 *
 * Sets a function that converts or checks each item as it is written. It
 * runs on the thread that writes, before the item takes room in the
 * channel, and returns the item to store through its
 * [class@ChannelTransform] handle. If it returns an error, the write fails
 * with that error and stores nothing; if it returns nothing, the write
 * fails with %AG_ERROR_NO_RESULT. With [method@Channel.write_async] it runs
 * inside the call, on the calling thread.
 *
 * Transforms are fixed once the channel is in use, so that threads can run
 * them without locking.
 *
 * Thread: any, before the channel is in use.
 *
 * Since: 1.0
 */
void
ag_channel_set_write_transform (AgChannel              *self,
                                AgChannelTransformFunc  func,
                                gpointer                user_data,
                                GDestroyNotify          destroy)
{
  g_return_if_fail (AG_IS_CHANNEL (self));

  set_transform (self, &self->core->write_func, &self->core->write_data,
                 &self->core->write_destroy, func, user_data, destroy);
}

/**
 * ag_channel_set_read_transform:
 * @self: a channel not yet written to and without readers
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy):
 *   makes the item to hand out from each stored value, on the reading thread
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the channel is freed
 *
 * Sets a function that converts or checks each item as it is read, and
 * returns the item to hand out through its [class@ChannelTransform]
 * handle. It runs on the thread that reads: inside
 * [method@ChannelReader.read], or inside [method@ChannelReader.read_finish]
 * for an asynchronous read.
 *
 * If it fails for an item (returns an error, or nothing:
 * %AG_ERROR_NO_RESULT), the read returns the items before it and the next
 * read fails with the error (or, if there are none before it, this read
 * fails); the failing item is dropped and the items after it stay in the
 * channel for the following reads.
 *
 * Thread: any, before the channel is in use.
 *
 * Since: 1.0
 */
void
ag_channel_set_read_transform (AgChannel              *self,
                               AgChannelTransformFunc  func,
                               gpointer                user_data,
                               GDestroyNotify          destroy)
{
  g_return_if_fail (AG_IS_CHANNEL (self));

  set_transform (self, &self->core->read_func, &self->core->read_data,
                 &self->core->read_destroy, func, user_data, destroy);
}

/**
 * ag_channel_get_transforms_fixed:
 * @self: a channel
 *
 * Tells whether the channel's transforms are fixed: once it has been
 * written to or a reader has been opened, setting or pinning them is a
 * programming error. Bindings ask first, to raise an exception of their
 * own.
 *
 * Thread: any.
 *
 * Returns: %TRUE if the channel is in use and its transforms are fixed
 *
 * Since: 1.0
 */
gboolean
ag_channel_get_transforms_fixed (AgChannel *self)
{
  g_return_val_if_fail (AG_IS_CHANNEL (self), FALSE);

  return g_atomic_int_get (&self->core->in_use);
}

/**
 * ag_channel_pin_transforms:
 * @self: a channel not yet written to and without readers
 *
 * Pins the channel's transforms to the calling thread: they run there and
 * nowhere else. A write with a write transform from another thread fails
 * with %G_IO_ERROR_NOT_SUPPORTED and stores nothing; a read with a read
 * transform on another thread (for [method@ChannelReader.read_async]: a
 * [method@ChannelReader.read_finish] there) fails likewise and leaves the
 * items in the channel. Channels without transforms are not affected.
 *
 * This is for bindings whose functions can only run on one thread: GJS
 * cannot run JavaScript on a worker thread, so its transforms are pinned to
 * the main thread, and a C worker writing such a channel gets an error
 * instead of a crash.
 *
 * Thread: the one to pin the transforms to, before the channel is in use.
 *
 * Since: 1.0
 */
void
ag_channel_pin_transforms (AgChannel *self)
{
  g_return_if_fail (AG_IS_CHANNEL (self));

  if (g_atomic_int_get (&self->core->in_use))
    {
      g_critical ("%s: a channel's transforms must be pinned before it is first written to "
                  "or a reader is opened", G_STRFUNC);
      return;
    }

  g_clear_pointer (&self->core->transform_thread, g_thread_unref);
  self->core->transform_thread = g_thread_ref (g_thread_self ());
}

/**
 * ag_channel_open_reader:
 * @self: a channel
 *
 * Opens a read end. The channel counts its open readers
 * ([property@Channel:n-readers]). When the last one is closed or dropped,
 * nobody can read again: the waiting items are freed, the channel closes,
 * and every write, blocked or not, fails with %G_IO_ERROR_BROKEN_PIPE, so
 * that producers stop. Open readers before the last one goes.
 *
 * A reader does not keep the write end alive: dropping the channel closes
 * it, and the reader can still read what is left.
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new reader
 *
 * Since: 1.0
 */
AgChannelReader *
ag_channel_open_reader (AgChannel *self)
{
  AgChannelReader *reader;
  gboolean notify;

  g_return_val_if_fail (AG_IS_CHANNEL (self), NULL);

  reader = _ag_channel_reader_new (self->core);
  g_atomic_int_set (&self->core->in_use, TRUE);

  g_mutex_lock (&self->core->lock);
  self->core->n_readers++;
  notify = _ag_channel_core_claim_notify_locked (self->core);
  g_mutex_unlock (&self->core->lock);

  if (notify)
    _ag_channel_core_schedule_notify (self->core);

  return reader;
}

/* Notifies what changed since the last notification; on the channel's
 * context, from its notification (ag-channel-notify.c). */
void
_ag_channel_notify_changes (AgChannel *self,
                            guint      length,
                            gboolean   closed,
                            guint      n_readers)
{
  if (self->notified_length != length)
    {
      self->notified_length = length;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LENGTH]);
    }
  if (self->notified_n_readers != n_readers)
    {
      self->notified_n_readers = n_readers;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_READERS]);
    }
  if (self->notified_closed != closed)
    {
      self->notified_closed = closed;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLOSED]);
    }
}
