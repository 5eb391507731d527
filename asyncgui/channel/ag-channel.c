/* ag-channel.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "ag-channel-private.h"
#include "ag-channel-transform-private.h"
#include "ag-error.h"
#include "ag-value-ring-private.h"
#include "ag-values-private.h"

/* Why the channel is split in ends:
 *
 * AgChannel is the write end and AgChannelReader a read end; both point at
 * one shared queue (Core below) and neither refs the other. That gives
 * three things a single object could not:
 *
 * - reading from the write end cannot be expressed: it is a type error in
 *   C (a critical at run time) and a missing method in bindings;
 * - dropping the write end closes the channel, so a producer that forgets
 *   to close cannot leave readers waiting forever, as a pipe's writer
 *   hanging up gives EOF;
 * - the channel counts its readers. When the last one goes, nobody can
 *   ever read again: queued items are freed and writers fail at once with
 *   G_IO_ERROR_BROKEN_PIPE, like writing to a pipe without readers. A
 *   pipeline stage that writes to a channel stops there, frees its own
 *   reader of the channel before it, and so the whole upstream unwinds.
 *
 * Locking: everything in Core marked "lock" is guarded by Core.lock. User
 * code (transforms, GTask callbacks, notify handlers) never runs under it.
 * Blocking readers and writers sleep on one condition, broadcast after
 * every change while anyone sleeps. Asynchronous operations wait in FIFO
 * lists and are moved along by pump_locked() whenever items or space
 * appear; their GTask is returned after the lock is dropped. */

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
 *     ag_channel_reader_read_async (reader, 100, 50000, NULL, got_items, NULL);
 * }
 *
 * channel = ag_channel_new (256);
 * reader = ag_channel_open_reader (channel);
 * g_thread_unref (g_thread_new ("producer", produce, g_object_ref (channel)));
 * ag_channel_reader_read_async (reader, 100, 50000, NULL, got_items, NULL);
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
 * coalesced: at most one notification per property per iteration of that
 * context, and none if the value is back to what was last notified.
 *
 * Since: 1.0
 */

/**
 * AgChannelReader:
 *
 * A read end of a [class@Channel], opened with
 * [method@Channel.open_reader].
 *
 * Any thread may read: [method@ChannelReader.read] blocks with a timeout,
 * [method@ChannelReader.read_async] waits on the caller's thread-default
 * main context. Several readers of one channel share its items, each item
 * going to one of them. Closing or dropping the last reader tells the
 * writers that nobody will read again.
 *
 * Since: 1.0
 */

typedef struct
{
  gatomicrefcount         ref_count;
  guint                   capacity;         /* immutable */
  GMainContext           *context;          /* immutable: where notifications go */
  GWeakRef                channel;          /* the write end, for notifications */

  /* Set before the channel is first used (atomic in_use says it is), then
   * read by any thread without the lock. */
  int                     in_use;           /* atomic */
  AgChannelTransformFunc  write_func;
  gpointer                write_data;
  GDestroyNotify          write_destroy;
  AgChannelTransformFunc  read_func;
  gpointer                read_data;
  GDestroyNotify          read_destroy;

  GMutex                  lock;
  GCond                   cond;             /* blocked readers and writers */
  AgValueRing             items;            /* lock */
  GQueue                  read_ops;         /* Op *, each with a ref on its task; lock */
  GQueue                  write_ops;        /* Op *, each with a ref on its task; lock */
  guint                   n_sleepers;       /* threads waiting on cond; lock */
  guint                   blocked_wanted;   /* items blocked readers still want; lock */
  AgChannelDemandFunc     demand_func;      /* lock; called under it */
  gpointer                demand_data;      /* lock */
  guint                   n_readers;        /* open read ends; lock */
  gboolean                closed;           /* lock */
  gboolean                broken;           /* the last reader went; implies closed; lock */
  gboolean                has_channel;      /* the write end is alive; lock */
  gboolean                notify_scheduled; /* lock */

  /* Set before the channel is first used, like the transforms; kept
   * here so that the fields above keep their place in the cache lines. */
  GThread                *transform_thread; /* a ref; NULL: transforms run on any thread */

  /* A transform handle nobody holds, for the next item; atomic. */
  AgChannelTransform     *spare_transform;
} Core;

typedef enum
{
  OP_READ,
  OP_WRITE,
} OpKind;

/* One asynchronous read or write; the data of its GTask. */
typedef struct _Op Op;

struct _Op
{
  OpKind   kind;
  Core    *core;            /* a ref */
  GTask   *task;            /* unowned: the task owns the op */
  gboolean waiting;         /* in core->read_ops or core->write_ops; lock */
  GSource *cancel_source;   /* set under the lock before it waits */
  GSource *timeout_source;  /* idem */
  guint    count;           /* read: items wanted; never 0 while waiting */
  guint    min;             /* read: ends once it has this many (≤ count) */
  GArray  *items;           /* read: what it has so far; lock while waiting */
  GValue   value;           /* write: the item to store */
  GError  *error;           /* how it ended, if it failed */
  Op      *next_done;       /* in a Done list */
};

/* The operations a locked section ended, in order, each with a ref on its
 * task: their tasks return once the lock is dropped. A list through the
 * ops themselves, so the many calls that end nothing allocate nothing. */
typedef struct
{
  Op *first;
  Op *last;
} Done;

#define DONE_INIT { NULL, NULL }

struct _AgChannel
{
  GObject   parent_instance;

  Core     *core;
  guint     capacity;           /* construct-only, until the core exists */

  /* What was last notified; GUI thread (the core's context) only. */
  guint     notified_length;
  gboolean  notified_closed;
  guint     notified_n_readers;
};

struct _AgChannelReader
{
  GObject   parent_instance;

  Core     *core;               /* NULL if not made by ag_channel_open_reader() */
  gboolean  closed;             /* lock */
  GError   *pending_error;      /* a read transform's failure, for the next read; lock */
};

G_DEFINE_FINAL_TYPE (AgChannel, ag_channel, G_TYPE_OBJECT)
G_DEFINE_FINAL_TYPE (AgChannelReader, ag_channel_reader, G_TYPE_OBJECT)

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

static gint64
deadline_for (gint64 timeout_us)
{
  if (timeout_us < 0)
    return G_MAXINT64;
  return g_get_monotonic_time () + timeout_us;
}

/* Core */

static Core *
core_new (guint capacity)
{
  Core *core = g_new0 (Core, 1);

  g_atomic_ref_count_init (&core->ref_count);
  core->capacity = capacity;
  core->context = g_main_context_ref_thread_default ();
  g_weak_ref_init (&core->channel, NULL);
  g_mutex_init (&core->lock);
  g_cond_init (&core->cond);
  _ag_value_ring_init (&core->items);
  g_queue_init (&core->read_ops);
  g_queue_init (&core->write_ops);
  core->has_channel = TRUE;

  return core;
}

static Core *
core_ref (Core *core)
{
  g_atomic_ref_count_inc (&core->ref_count);
  return core;
}

static void
core_unref (Core *core)
{
  if (!g_atomic_ref_count_dec (&core->ref_count))
    return;

  /* Waiting operations hold their task, which holds an end, which holds
   * the core: none can be left. */
  g_assert (g_queue_is_empty (&core->read_ops));
  g_assert (g_queue_is_empty (&core->write_ops));

  _ag_value_ring_clear (&core->items);
  if (core->write_destroy != NULL)
    core->write_destroy (core->write_data);
  if (core->read_destroy != NULL)
    core->read_destroy (core->read_data);
  g_clear_pointer (&core->transform_thread, g_thread_unref);
  g_clear_object (&core->spare_transform);
  g_weak_ref_clear (&core->channel);
  g_main_context_unref (core->context);
  g_mutex_clear (&core->lock);
  g_cond_clear (&core->cond);
  g_free (core);
}

static guint
take_locked (Core   *core,
             GArray *array,
             guint   max)
{
  return _ag_value_ring_take (&core->items, array, max);
}

/* Puts items @from.. of @array back at the front of the queue, in order,
 * leaving @array shorter. Used when a read cannot hand them out; the
 * queue may then briefly hold more than its capacity. Items of a broken
 * channel have nobody to go to and are dropped. */
static void
put_back_locked (Core   *core,
                 GArray *array,
                 guint   from)
{
  for (guint i = array->len; i > from; i--)
    {
      GValue *slot = &g_array_index (array, GValue, i - 1);

      if (!core->broken)
        _ag_value_ring_push_head (&core->items, slot);
      else
        _ag_value_clear (slot);
    }

  g_array_set_size (array, MIN (from, array->len));
}

static void
end_op_locked (Core      *core,
               Op        *op,
               GError    *error,
               Done      *done)
{
  op->waiting = FALSE;
  op->error = error;
  /* The list's ref on the task moves to @done. */
  op->next_done = NULL;
  if (done->last != NULL)
    done->last->next_done = op;
  else
    done->first = op;
  done->last = op;
}

/* Ends an operation that never waited. */
static void
end_now_locked (Core      *core,
                Op        *op,
                GError    *error,
                Done      *done)
{
  g_object_ref (op->task);
  end_op_locked (core, op, error, done);
}

/* Moves items from the queue to waiting reads and from waiting writes to
 * the queue, ends the operations that are done into @done, and wakes the
 * blocked threads. Called with the lock held after every change. */
static void
pump_locked (Core      *core,
             Done      *done)
{
  gboolean progress = TRUE;

  while (progress)
    {
      progress = FALSE;

      while (!g_queue_is_empty (&core->read_ops) && !_ag_value_ring_is_empty (&core->items))
        {
          Op *op = g_queue_peek_head (&core->read_ops);

          take_locked (core, op->items, op->count - op->items->len);
          if (op->items->len >= op->min)
            end_op_locked (core, g_queue_pop_head (&core->read_ops), NULL, done);
          progress = TRUE;
        }

      while (!g_queue_is_empty (&core->write_ops) && core->items.length < core->capacity
             && !core->closed)
        {
          Op *op = g_queue_pop_head (&core->write_ops);

          _ag_value_ring_push_tail (&core->items, &op->value);
          end_op_locked (core, op, NULL, done);
          progress = TRUE;
        }
    }

  if (core->closed)
    {
      while (!g_queue_is_empty (&core->write_ops))
        end_op_locked (core, g_queue_pop_head (&core->write_ops),
                       core->broken
                       ? g_error_new_literal (G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                                              _("Nobody reads from the channel any more"))
                       : g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                              _("The channel is closed")),
                       done);

      if (_ag_value_ring_is_empty (&core->items))
        while (!g_queue_is_empty (&core->read_ops))
          end_op_locked (core, g_queue_pop_head (&core->read_ops), NULL, done);
    }

  if (core->n_sleepers > 0)
    g_cond_broadcast (&core->cond);
}

static gboolean
check_writable_locked (Core    *core,
                       GError **error)
{
  if (core->broken)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                           _("Nobody reads from the channel any more"));
      return FALSE;
    }

  if (core->closed)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                           _("The channel is closed"));
      return FALSE;
    }

  return TRUE;
}

static void
close_locked (Core *core)
{
  core->closed = TRUE;
}

/* The last reader went: nobody can read again. */
static void
break_locked (Core *core)
{
  core->broken = TRUE;
  core->closed = TRUE;
  _ag_value_ring_clear (&core->items);
}

/* Tells the write end's demand watcher that readers may want more: a
 * read started waiting, items were taken, or the last reader went. The
 * watcher runs under the lock and must not call back into the channel. */
static void
demand_changed_locked (Core *core)
{
  if (core->demand_func != NULL)
    core->demand_func (core->demand_data);
}

/* Notifications */

static gboolean
claim_notify_locked (Core *core)
{
  if (core->notify_scheduled || !core->has_channel)
    return FALSE;

  core->notify_scheduled = TRUE;
  return TRUE;
}

static gboolean
dispatch_notify (gpointer user_data)
{
  Core *core = user_data;
  g_autoptr(AgChannel) self = g_weak_ref_get (&core->channel);
  guint length, n_readers;
  gboolean closed;

  g_mutex_lock (&core->lock);
  core->notify_scheduled = FALSE;
  length = (guint) core->items.length;
  n_readers = core->n_readers;
  closed = core->closed;
  g_mutex_unlock (&core->lock);

  if (self == NULL)
    return G_SOURCE_REMOVE;

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

  return G_SOURCE_REMOVE;
}

static void
schedule_notify (Core *core)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT_IDLE);
  g_source_set_static_name (source, "[asyncgui] channel notify");
  g_source_set_callback (source, dispatch_notify, core_ref (core), (GDestroyNotify) core_unref);
  g_source_attach (source, core->context);
}

/* Asynchronous operations */

static void read_async (AgChannelReader     *self,
                        guint                min,
                        guint                count,
                        gint64               timeout_us,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data);

static void
op_free (gpointer data)
{
  Op *op = data;

  g_clear_pointer (&op->items, g_array_unref);
  _ag_value_clear (&op->value);
  g_clear_error (&op->error);
  core_unref (op->core);
  g_free (op);
}

static Op *
op_new (Core   *core,
        OpKind  kind,
        GTask  *task)
{
  Op *op = g_new0 (Op, 1);

  op->kind = kind;
  op->core = core_ref (core);
  op->task = task;
  g_task_set_task_data (task, op, op_free);

  return op;
}

static void
return_ops (Done *done)
{
  Op *next;

  for (Op *op = done->first; op != NULL; op = next)
    {
      GTask *task = op->task;

      /* The last unref below may free the op. */
      next = op->next_done;

      if (op->cancel_source != NULL)
        g_source_destroy (op->cancel_source);
      g_clear_pointer (&op->cancel_source, g_source_unref);
      if (op->timeout_source != NULL)
        g_source_destroy (op->timeout_source);
      g_clear_pointer (&op->timeout_source, g_source_unref);

      if (op->error != NULL)
        g_task_return_error (task, g_steal_pointer (&op->error));
      else if (op->kind == OP_READ)
        g_task_return_pointer (task, g_steal_pointer (&op->items),
                               (GDestroyNotify) g_array_unref);
      else
        g_task_return_boolean (task, TRUE);

      g_object_unref (task);
    }
}

/* Ends what the locked section ended, then notifies; never under the lock. */
static void
after_unlock (Core      *core,
              Done      *done,
              gboolean   notify)
{
  return_ops (done);
  if (notify)
    schedule_notify (core);
}

/* A waiting operation stops: cancelled (@error set: a read puts its items
 * back, so none is lost) or timed out (a read returns what it got). */
static void
stop_waiting (GTask  *task,
              GError *error)
{
  Op *op = g_task_get_task_data (task);
  Core *core = op->core;
  Done done = DONE_INIT;
  gboolean notify = FALSE;

  g_mutex_lock (&core->lock);
  if (op->waiting)
    {
      g_queue_remove (op->kind == OP_READ ? &core->read_ops : &core->write_ops, op);
      if (error != NULL && op->kind == OP_READ)
        put_back_locked (core, op->items, 0);
      end_op_locked (core, op, g_steal_pointer (&error), &done);
      pump_locked (core, &done);
      notify = claim_notify_locked (core);
    }
  g_mutex_unlock (&core->lock);

  g_clear_error (&error);
  after_unlock (core, &done, notify);
}

static gboolean
op_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  stop_waiting (user_data, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                _("The operation was cancelled")));
  return G_SOURCE_REMOVE;
}

static gboolean
op_timed_out (gpointer user_data)
{
  stop_waiting (user_data, NULL);
  return G_SOURCE_REMOVE;
}

/* Queues @op behind the others of its kind. Its sources keep its task
 * alive while they can fire; whoever ends the op destroys them. */
static void
wait_locked (Core    *core,
             Op      *op,
             gint64   timeout_us)
{
  GCancellable *cancellable = g_task_get_cancellable (op->task);
  GMainContext *context = g_task_get_context (op->task);

  op->waiting = TRUE;
  g_queue_push_tail (op->kind == OP_READ ? &core->read_ops : &core->write_ops, op);
  g_object_ref (op->task);

  if (cancellable != NULL)
    {
      op->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_static_name (op->cancel_source, "[asyncgui] channel cancel");
      g_source_set_callback (op->cancel_source, G_SOURCE_FUNC (op_cancelled),
                             g_object_ref (op->task), g_object_unref);
      g_source_attach (op->cancel_source, context);
    }

  if (timeout_us > 0)
    {
      op->timeout_source = g_timeout_source_new ((guint) MIN ((timeout_us + 999) / 1000,
                                                              G_MAXUINT));
      g_source_set_static_name (op->timeout_source, "[asyncgui] channel timeout");
      g_source_set_callback (op->timeout_source, op_timed_out,
                             g_object_ref (op->task), g_object_unref);
      g_source_attach (op->timeout_source, context);
    }
}

/* Transforms */

/* A handle for the transforms of one call: the spare one if nobody took
 * it, else a new one. */
static AgChannelTransform *
take_transform (Core *core)
{
  AgChannelTransform *transform = g_atomic_pointer_exchange (&core->spare_transform, NULL);

  return transform != NULL ? transform : _ag_channel_transform_new ();
}

/* Keeps @transform as the spare if nobody else holds it and there is no
 * spare yet; drops it otherwise. */
static void
give_back_transform (Core               *core,
                     AgChannelTransform *transform)
{
  if (!_ag_channel_transform_is_reusable (transform)
      || !g_atomic_pointer_compare_and_exchange (&core->spare_transform, NULL, transform))
    g_object_unref (transform);
}

/* Runs @func on @value into the zeroed @item through *@transform, taken
 * from the core if NULL and left there for the next item of the call, or
 * replaced if the function kept it (bindings hold what they were given
 * for as long as they keep it). */
static gboolean
run_transform (Core                    *core,
               AgChannelTransform     **transform,
               AgChannelTransformFunc   func,
               gpointer                 user_data,
               const GValue            *value,
               GValue                  *item,
               GError                 **error)
{
  gboolean ok;

  if (*transform == NULL)
    *transform = take_transform (core);

  ok = _ag_channel_transform_run (*transform, func, user_data, value, item, error);

  if (!_ag_channel_transform_is_reusable (*transform))
    g_clear_object (transform);

  return ok;
}

/* Refuses to run a transform on a thread it is not pinned to (see
 * ag_channel_pin_transforms()): a binding's function would crash there. */
static gboolean
check_transform_thread (Core    *core,
                        GError **error)
{
  if (core->transform_thread == NULL || core->transform_thread == g_thread_self ())
    return TRUE;

  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       _("The channel's transforms run only on the thread they are pinned to; "
                         "write and read it there"));
  return FALSE;
}

/* Makes the item to store from @value, into the zeroed @item: a copy, or
 * what the write transform makes of it. */
static gboolean
transform_for_write (Core          *core,
                     const GValue  *value,
                     GValue        *item,
                     GError       **error)
{
  AgChannelTransform *transform = NULL;
  gboolean ok;

  if (core->write_func == NULL)
    {
      _ag_value_init_copy (item, value);
      return TRUE;
    }

  if (!check_transform_thread (core, error))
    return FALSE;

  ok = run_transform (core, &transform, core->write_func, core->write_data, value, item, error);
  if (transform != NULL)
    give_back_transform (core, transform);

  return ok;
}

static gboolean
check_reader_locked (AgChannelReader  *self,
                     GError          **error)
{
  if (self->closed)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                           _("The channel reader is closed"));
      return FALSE;
    }

  if (self->pending_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->pending_error));
      return FALSE;
    }

  return TRUE;
}

/* Gives items @from.. of @items back to the channel; @pending_error, if
 * not NULL, becomes the reader's pending error in the same step, unless it
 * has one. */
static void
put_back (AgChannelReader  *self,
          GArray           *items,
          guint             from,
          GError          **pending_error)
{
  Core *core = self->core;
  Done done = DONE_INIT;
  gboolean notify;

  g_mutex_lock (&core->lock);
  put_back_locked (core, items, from);
  if (pending_error != NULL && self->pending_error == NULL)
    self->pending_error = g_steal_pointer (pending_error);
  pump_locked (core, &done);
  notify = claim_notify_locked (core);
  g_mutex_unlock (&core->lock);

  after_unlock (core, &done, notify);
}

/* Applies the read transform to @items (consumed). If it fails at item k,
 * the items before k are returned and the error waits for the next read,
 * or, with no items before k, is returned now; the items after k go back
 * to the channel. On a thread the transforms are not pinned to, all the
 * items go back and the read fails. */
static GArray *
transform_for_read (AgChannelReader  *self,
                    GArray           *items,
                    GError          **error)
{
  Core *core = self->core;
  AgChannelTransform *transform = NULL;
  GError *local_error = NULL;
  GArray *out;
  guint i;

  if (core->read_func == NULL)
    return items;

  if (!check_transform_thread (core, error))
    {
      put_back (self, items, 0, NULL);
      g_array_unref (items);
      return NULL;
    }

  out = _ag_value_array_new (items->len);
  g_array_set_size (out, items->len);
  for (i = 0; i < items->len; i++)
    if (!run_transform (core, &transform, core->read_func, core->read_data,
                        &g_array_index (items, GValue, i), &g_array_index (out, GValue, i),
                        &local_error))
      break;
  if (transform != NULL)
    give_back_transform (core, transform);

  if (local_error != NULL)
    {
      /* The slots of @out from i on were never set. */
      g_array_set_size (out, i);
      put_back (self, items, i + 1, out->len > 0 ? &local_error : NULL);

      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          g_clear_pointer (&out, g_array_unref);
        }
    }

  g_array_unref (items);
  return out;
}

/* AgChannel */

static void
ag_channel_constructed (GObject *object)
{
  AgChannel *self = AG_CHANNEL (object);

  G_OBJECT_CLASS (ag_channel_parent_class)->constructed (object);

  self->core = core_new (self->capacity);
  g_weak_ref_set (&self->core->channel, self);
}

static void
ag_channel_finalize (GObject *object)
{
  AgChannel *self = AG_CHANNEL (object);
  Core *core = self->core;
  Done done = DONE_INIT;

  /* The write end is gone: no more items can come. */
  g_mutex_lock (&core->lock);
  core->has_channel = FALSE;
  close_locked (core);
  pump_locked (core, &done);
  g_mutex_unlock (&core->lock);
  after_unlock (core, &done, FALSE);

  core_unref (core);

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
   * AgChannel:closed:
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
  length = (guint) self->core->items.length;
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

  reader = g_object_new (AG_TYPE_CHANNEL_READER, NULL);
  reader->core = core_ref (self->core);
  g_atomic_int_set (&self->core->in_use, TRUE);

  g_mutex_lock (&self->core->lock);
  self->core->n_readers++;
  notify = claim_notify_locked (self->core);
  g_mutex_unlock (&self->core->lock);

  if (notify)
    schedule_notify (self->core);

  return reader;
}

/**
 * ag_channel_write:
 * @self: a channel
 * @value: the item; it is copied
 * @timeout_us: how long to wait for space, in microseconds; 0 not to
 *   wait, -1 to wait as long as it takes
 * @error: return location for an error
 *
 * Writes an item, waiting while the channel is full. For worker threads:
 * on the GUI thread use [method@Channel.write_async].
 *
 * Fails with %G_IO_ERROR_CLOSED if the channel is closed,
 * %G_IO_ERROR_BROKEN_PIPE if its last reader went (also while waiting),
 * %G_IO_ERROR_WOULD_BLOCK if it is full and @timeout_us is 0,
 * %G_IO_ERROR_TIMED_OUT if it stayed full for @timeout_us, or with the
 * error of the write transform.
 *
 * Thread: any; it blocks, so not the GUI's.
 *
 * Returns: %TRUE if the item was written
 *
 * Since: 1.0
 */
gboolean
ag_channel_write (AgChannel     *self,
                  const GValue  *value,
                  gint64         timeout_us,
                  GError       **error)
{
  Core *core;
  GValue item = G_VALUE_INIT;
  Done done = DONE_INIT;
  gint64 deadline;
  gboolean written = FALSE, notify;

  g_return_val_if_fail (AG_IS_CHANNEL (self), FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  core = self->core;
  g_atomic_int_set (&core->in_use, TRUE);
  deadline = deadline_for (timeout_us);

  if (!transform_for_write (core, value, &item, error))
    return FALSE;

  g_mutex_lock (&core->lock);
  for (;;)
    {
      if (!check_writable_locked (core, error))
        break;

      if (core->items.length < core->capacity)
        {
          _ag_value_ring_push_tail (&core->items, &item);
          written = TRUE;
          break;
        }

      if (timeout_us == 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                               _("The channel is full"));
          break;
        }

      if (g_get_monotonic_time () >= deadline)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               _("The channel stayed full for the time given"));
          break;
        }

      core->n_sleepers++;
      g_cond_wait_until (&core->cond, &core->lock, deadline);
      core->n_sleepers--;
    }
  if (written)
    pump_locked (core, &done);
  notify = written && claim_notify_locked (core);
  g_mutex_unlock (&core->lock);

  /* Still here if it was not written. */
  _ag_value_clear (&item);
  after_unlock (core, &done, notify);

  return written;
}

/**
 * ag_channel_write_async:
 * @self: a channel
 * @value: the item; it is copied
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async) (closure user_data): called when the item is
 *   written or the write failed
 * @user_data: data for @callback
 *
 * Writes an item without blocking, waiting on the thread-default main
 * context for space if the channel is full. @callback runs on that context.
 * Writes that wait store their items in the order they were made.
 *
 * Cancelling stores nothing and fails with %G_IO_ERROR_CANCELLED. See
 * [method@Channel.write] for the other errors.
 *
 * Thread: any with a main context to wait on; the callback runs there.
 *
 * Since: 1.0
 */
void
ag_channel_write_async (AgChannel           *self,
                        const GValue        *value,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  Core *core;
  g_autoptr(GTask) task = NULL;
  Done done = DONE_INIT;
  GError *error = NULL;
  Op *op;
  gboolean notify = FALSE;

  g_return_if_fail (AG_IS_CHANNEL (self));
  g_return_if_fail (value != NULL);
  g_return_if_fail (G_IS_VALUE (value));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  core = self->core;
  g_atomic_int_set (&core->in_use, TRUE);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ag_channel_write_async);
  g_task_set_name (task, "[asyncgui] channel write");
  /* A write that was stored succeeded, cancelled later or not. */
  g_task_set_check_cancellable (task, FALSE);

  if (g_task_return_error_if_cancelled (task))
    return;

  op = op_new (core, OP_WRITE, task);
  if (!transform_for_write (core, value, &op->value, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  g_mutex_lock (&core->lock);
  if (!check_writable_locked (core, &error))
    end_now_locked (core, op, g_steal_pointer (&error), &done);
  else if (core->items.length < core->capacity)
    {
      _ag_value_ring_push_tail (&core->items, &op->value);
      end_now_locked (core, op, NULL, &done);
      notify = TRUE;
    }
  else
    wait_locked (core, op, -1);
  pump_locked (core, &done);
  notify = notify && claim_notify_locked (core);
  g_mutex_unlock (&core->lock);

  after_unlock (core, &done, notify);
}

/**
 * ag_channel_write_finish:
 * @self: a channel
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Channel.write_async].
 *
 * Thread: the one that called [method@Channel.write_async], in its callback.
 *
 * Returns: %TRUE if the item was written
 *
 * Since: 1.0
 */
gboolean
ag_channel_write_finish (AgChannel     *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (AG_IS_CHANNEL (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, ag_channel_write_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * ag_channel_close:
 * @self: a channel
 *
 * Closes the channel: writing fails from now on with %G_IO_ERROR_CLOSED,
 * and so do writes waiting for space. Readers still get the items already
 * in the channel; once it is drained, reads return an empty array at once.
 * Closing a closed channel does nothing. Any thread may close.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_channel_close (AgChannel *self)
{
  Core *core;
  Done done = DONE_INIT;
  gboolean notify = FALSE;

  g_return_if_fail (AG_IS_CHANNEL (self));

  core = self->core;
  g_mutex_lock (&core->lock);
  if (!core->closed)
    {
      close_locked (core);
      pump_locked (core, &done);
      notify = claim_notify_locked (core);
    }
  g_mutex_unlock (&core->lock);

  after_unlock (core, &done, notify);
}

/* AgChannelReader */

static void
close_reader (AgChannelReader *self)
{
  Core *core = self->core;
  Done done = DONE_INIT;
  gboolean notify = FALSE;

  g_mutex_lock (&core->lock);
  if (!self->closed)
    {
      GList *l = core->read_ops.tail;

      self->closed = TRUE;

      /* Its own waiting reads end; their items go back for other readers. */
      while (l != NULL)
        {
          GList *prev = l->prev;
          Op *op = l->data;

          if (g_task_get_source_object (op->task) == (gpointer) self)
            {
              g_queue_delete_link (&core->read_ops, l);
              put_back_locked (core, op->items, 0);
              end_op_locked (core, op,
                             g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                                  _("The channel reader is closed")),
                             &done);
            }
          l = prev;
        }

      if (--core->n_readers == 0)
        break_locked (core);
      pump_locked (core, &done);
      demand_changed_locked (core);
      notify = claim_notify_locked (core);
    }
  g_mutex_unlock (&core->lock);

  after_unlock (core, &done, notify);
}

static void
ag_channel_reader_finalize (GObject *object)
{
  AgChannelReader *self = AG_CHANNEL_READER (object);

  if (self->core != NULL)
    {
      close_reader (self);
      core_unref (self->core);
    }
  g_clear_error (&self->pending_error);

  G_OBJECT_CLASS (ag_channel_reader_parent_class)->finalize (object);
}

static void
ag_channel_reader_class_init (AgChannelReaderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ag_channel_reader_finalize;
}

static void
ag_channel_reader_init (AgChannelReader *self)
{
}

/**
 * ag_channel_reader_read:
 * @self: a reader
 * @count: how many items to read; 0 for those waiting now, without waiting
 * @timeout_us: how long to wait for @count items, in microseconds; 0 not
 *   to wait, -1 to wait as long as it takes
 * @error: return location for an error
 *
 * Reads up to @count items, blocking until they are all there, the channel
 * is closed and drained, or @timeout_us passed: then it returns what it
 * got, which may be fewer items or none. A closed, drained channel returns
 * an empty array at once; [method@ChannelReader.is_drained] tells that
 * apart from a timeout.
 *
 * For worker threads; on the GUI thread use
 * [method@ChannelReader.read_async].
 *
 * Fails with %G_IO_ERROR_CLOSED if the reader is closed, or with the error
 * of the read transform (see [method@Channel.set_read_transform]).
 *
 * Thread: any; it blocks, so not the GUI's.
 *
 * Returns: (transfer full) (element-type GValue) (nullable): the items in
 *   the order they were written, or %NULL with @error set
 *
 * Since: 1.0
 */
GArray *
ag_channel_reader_read (AgChannelReader  *self,
                        guint             count,
                        gint64            timeout_us,
                        GError          **error)
{
  Core *core;
  g_autoptr(GArray) items = NULL;
  Done done = DONE_INIT;
  gint64 deadline;
  gboolean ok, notify;

  g_return_val_if_fail (AG_IS_CHANNEL_READER (self), NULL);
  g_return_val_if_fail (self->core != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  core = self->core;
  if (core->read_func != NULL && !check_transform_thread (core, error))
    return NULL;

  deadline = deadline_for (timeout_us);
  items = _ag_value_array_new (0);

  g_mutex_lock (&core->lock);
  ok = check_reader_locked (self, error);
  while (ok)
    {
      take_locked (core, items, count == 0 ? G_MAXUINT : count - items->len);
      pump_locked (core, &done);  /* room for the writers that wait */

      if (count == 0 || items->len >= count)
        break;
      if (!_ag_value_ring_is_empty (&core->items))
        continue;
      if (core->closed || g_get_monotonic_time () >= deadline)
        break;

      core->n_sleepers++;
      core->blocked_wanted += count - items->len;
      demand_changed_locked (core);
      g_cond_wait_until (&core->cond, &core->lock, deadline);
      core->blocked_wanted -= count - items->len;
      core->n_sleepers--;
    }
  if (items->len > 0)
    demand_changed_locked (core);
  notify = items->len > 0 && claim_notify_locked (core);
  g_mutex_unlock (&core->lock);

  after_unlock (core, &done, notify);

  if (!ok)
    return NULL;

  return transform_for_read (self, g_steal_pointer (&items), error);
}

/**
 * ag_channel_reader_read_async:
 * @self: a reader
 * @count: how many items to read; 0 for those waiting now, without waiting
 * @timeout_us: how long to wait for @count items, in microseconds; 0 not
 *   to wait, -1 to wait as long as it takes
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async) (closure user_data): called with the items
 * @user_data: data for @callback
 *
 * Reads up to @count items like [method@ChannelReader.read], but waits on
 * the thread-default main context instead of blocking; @callback runs
 * there. Reads that wait get items in the order they were made.
 *
 * Cancelling fails the read with %G_IO_ERROR_CANCELLED and loses no item:
 * whatever it had already taken goes back to the front of the channel.
 *
 * Thread: any with a main context to wait on; the callback runs there.
 *
 * Since: 1.0
 */
void
ag_channel_reader_read_async (AgChannelReader     *self,
                              guint                count,
                              gint64               timeout_us,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (AG_IS_CHANNEL_READER (self));
  g_return_if_fail (self->core != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  read_async (self, count, count, timeout_us, cancellable, callback, user_data);
}

/* Like ag_channel_reader_read_async(), but done as soon as @min items are
 * there, with up to @count: a pipeline takes what has come instead of
 * waiting for a whole batch. Finished with ag_channel_reader_read_finish(). */
void
_ag_channel_reader_read_some_async (AgChannelReader     *self,
                                    guint                min,
                                    guint                count,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  read_async (self, MAX (MIN (min, count), 1), count, -1, cancellable, callback, user_data);
}

static void
read_async (AgChannelReader     *self,
            guint                min,
            guint                count,
            gint64               timeout_us,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  Core *core;
  g_autoptr(GTask) task = NULL;
  Done done = DONE_INIT;
  GError *error = NULL;
  Op *op;
  gboolean notify;

  core = self->core;
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ag_channel_reader_read_async);
  g_task_set_name (task, "[asyncgui] channel read");
  /* Items a read got are delivered, cancelled later or not. */
  g_task_set_check_cancellable (task, FALSE);

  if (g_task_return_error_if_cancelled (task))
    return;

  op = op_new (core, OP_READ, task);
  op->count = count;
  op->min = min;
  op->items = _ag_value_array_new (0);

  g_mutex_lock (&core->lock);
  if (!check_reader_locked (self, &error))
    end_now_locked (core, op, g_steal_pointer (&error), &done);
  else
    {
      /* Behind other waiting reads the queue is empty anyway. */
      take_locked (core, op->items, count == 0 ? G_MAXUINT : count);

      if (count == 0 || op->items->len >= min || timeout_us == 0
          || (core->closed && _ag_value_ring_is_empty (&core->items)))
        end_now_locked (core, op, NULL, &done);
      else
        wait_locked (core, op, timeout_us);
      if (op->items->len > 0 || op->waiting)
        demand_changed_locked (core);
    }
  pump_locked (core, &done);
  notify = claim_notify_locked (core);
  g_mutex_unlock (&core->lock);

  after_unlock (core, &done, notify);
}

/**
 * ag_channel_reader_read_finish:
 * @self: a reader
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@ChannelReader.read_async]. The read transform, if any,
 * runs here, on the calling thread.
 *
 * Thread: the one that called [method@ChannelReader.read_async], in its
 * callback.
 *
 * Returns: (transfer full) (element-type GValue) (nullable): the items in
 *   the order they were written (none once the channel is closed and
 *   drained), or %NULL with @error set
 *
 * Since: 1.0
 */
GArray *
ag_channel_reader_read_finish (AgChannelReader  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  GArray *items;

  g_return_val_if_fail (AG_IS_CHANNEL_READER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, ag_channel_reader_read_async), NULL);

  items = g_task_propagate_pointer (G_TASK (result), error);
  if (items == NULL)
    return NULL;

  return transform_for_read (self, items, error);
}

/**
 * ag_channel_reader_is_drained:
 * @self: a reader
 *
 * Gets whether the channel is closed and empty, so that reading will never
 * return an item again.
 *
 * Thread: any.
 *
 * Returns: %TRUE if nothing more can be read
 *
 * Since: 1.0
 */
gboolean
ag_channel_reader_is_drained (AgChannelReader *self)
{
  gboolean drained;

  g_return_val_if_fail (AG_IS_CHANNEL_READER (self), TRUE);
  g_return_val_if_fail (self->core != NULL, TRUE);

  g_mutex_lock (&self->core->lock);
  drained = self->closed
            || (self->core->closed && _ag_value_ring_is_empty (&self->core->items)
                && self->pending_error == NULL);
  g_mutex_unlock (&self->core->lock);

  return drained;
}

/**
 * ag_channel_reader_close:
 * @self: a reader
 *
 * Closes this read end: its waiting reads fail with %G_IO_ERROR_CLOSED
 * and give their items back to the channel, and reading from it fails from
 * now on. If it was the channel's last reader, the channel breaks (see
 * [method@Channel.open_reader]). Dropping the last reference closes the
 * reader too. Closing a closed reader does nothing.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_channel_reader_close (AgChannelReader *self)
{
  g_return_if_fail (AG_IS_CHANNEL_READER (self));

  if (self->core != NULL)
    close_reader (self);
}

/* Items the waiting asynchronous reads still want. */
static guint64
read_ops_wanted_locked (Core *core)
{
  guint64 wanted = 0;

  for (GList *l = core->read_ops.head; l != NULL; l = l->next)
    {
      Op *op = l->data;

      wanted += op->count - op->items->len;
    }

  return wanted;
}

/* Demand, for pipelines writing to the channel */

/* Only one watcher: the pipeline that owns the write end. */
void
_ag_channel_set_demand_func (AgChannel           *self,
                             AgChannelDemandFunc  func,
                             gpointer             user_data)
{
  Core *core = self->core;

  g_mutex_lock (&core->lock);
  g_warn_if_fail (func == NULL || core->demand_func == NULL);
  core->demand_func = func;
  core->demand_data = user_data;
  g_mutex_unlock (&core->lock);
}

/* How many more items the readers wait for than the channel holds: what a
 * pipeline must make now, and no more, so that nothing runs before
 * somebody reads. */
guint
_ag_channel_get_demand (AgChannel *self)
{
  Core *core = self->core;
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
  Core *core = self->core;
  Done done = DONE_INIT;
  gboolean ok, notify;
  guint64 room = 0;
  guint n, i = 0;

  *n_pushed = 0;
  g_atomic_int_set (&core->in_use, TRUE);

  g_mutex_lock (&core->lock);
  ok = check_writable_locked (core, error);
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

      if (!check_transform_thread (core, error))
        return FALSE;

      for (guint k = 0; k < n && ok; k++)
        {
          GValue *slot = &g_array_index (values, GValue, k);
          GValue item = G_VALUE_INIT;

          /* On failure the pipeline ends and drops the rest. */
          ok = run_transform (core, &transform, core->write_func, core->write_data,
                              slot, &item, error);
          if (ok)
            {
              _ag_value_clear (slot);
              memcpy (slot, &item, sizeof (GValue));
            }
        }
      if (transform != NULL)
        give_back_transform (core, transform);
      if (!ok)
        return FALSE;
    }

  g_mutex_lock (&core->lock);
  ok = check_writable_locked (core, error);
  if (ok)
    {
      while (i < n && _ag_value_ring_is_empty (&core->items) && !g_queue_is_empty (&core->read_ops))
        {
          Op *op = g_queue_peek_head (&core->read_ops);
          guint take = MIN (op->count - op->items->len, n - i);
          GValue *from = &g_array_index (values, GValue, i);

          g_array_append_vals (op->items, from, take);
          memset (from, 0, take * sizeof (GValue));
          i += take;
          if (op->items->len >= op->min)
            end_op_locked (core, g_queue_pop_head (&core->read_ops), NULL, &done);
        }

      /* Like put-back, the queue may briefly hold more than its capacity
       * if another writer filled the room meanwhile. */
      for (; i < n; i++)
        _ag_value_ring_push_tail (&core->items, &g_array_index (values, GValue, i));
      pump_locked (core, &done);
    }
  notify = ok && claim_notify_locked (core);
  g_mutex_unlock (&core->lock);

  after_unlock (core, &done, notify);

  if (!ok)
    return FALSE;

  /* The slots are zeroed, so removing them frees nothing. */
  g_array_remove_range (values, 0, n);
  *n_pushed = n;
  return TRUE;
}
