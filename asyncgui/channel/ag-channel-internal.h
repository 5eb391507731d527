/* ag-channel-internal.h: what the files of a channel share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-channel-private.h"
#include "ag-channel-transform-private.h"
#include "ag-completion-queue-private.h"
#include "ag-value-ring-private.h"

G_BEGIN_DECLS

/* A channel is split over these files, one concept each:
 *
 *   ag-channel-core.c     the shared queue and its lock: items, waiting
 *                         operations moved along, closing, breaking,
 *                         running transforms
 *   ag-channel-op.c       asynchronous reads and writes: waiting, cancel,
 *                         timeout, and how their callbacks come home
 *   ag-channel-notify.c   property notifications, coalesced, sent home
 *   ag-channel.c          AgChannel, the write end: the type, its
 *                         properties, settings, opening readers
 *   ag-channel-write.c    writing, blocking and asynchronous; closing
 *   ag-channel-reader.c   AgChannelReader: reading, blocking and
 *                         asynchronous; closing a reader
 *   ag-channel-demand.c   what pipelines need: demand, pushing many
 *
 * Why the channel is split in ends:
 *
 * AgChannel is the write end and AgChannelReader a read end; both point at
 * one shared core and neither refs the other. That gives three things a
 * single object could not:
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
 * Locking: everything in the core marked "lock" is guarded by its lock.
 * User code (transforms, callbacks, notify handlers) never runs under it.
 * Blocking readers and writers sleep on one condition, broadcast after
 * every change while anyone sleeps. Asynchronous operations wait in FIFO
 * lists and are moved along by _ag_channel_core_pump_locked() whenever
 * items or space appear; the operations a locked section ended are
 * collected in an AgChannelDone list and returned once the lock is
 * dropped (_ag_channel_core_after_unlock()). */

typedef struct _AgChannelCore AgChannelCore;
typedef struct _AgChannelOp   AgChannelOp;

struct _AgChannelCore
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
  GQueue                  read_ops;         /* AgChannelOp *, each with a ref on its task; lock */
  GQueue                  write_ops;        /* AgChannelOp *, each with a ref on its task; lock */
  GQueue                  homebound;        /* cancellable reads that ended with items, not
                                             * returned yet, oldest first; lock */
  guint                   n_sleepers;       /* threads waiting on cond; lock */
  guint64                 blocked_wanted;   /* items blocked readers still want; lock */
  AgChannelDemandFunc     demand_func;      /* lock; called under it */
  gpointer                demand_data;      /* lock */
  guint                   n_readers;        /* open read ends; lock */
  gboolean                closed;           /* lock */
  gboolean                broken;           /* the last reader went; implies closed; lock */
  gboolean                has_channel;      /* the write end is alive; lock */
  gboolean                notify_scheduled; /* lock */
  AgNode                  notify_node;      /* on its way home while notify_scheduled */
  GSource                *notify_source;    /* or this idle, without an engine; lock */

  /* Set before the channel is first used, like the transforms; kept
   * here so that the fields above keep their place in the cache lines. */
  GThread                *transform_thread; /* a ref; NULL: transforms run on any thread */

  /* A transform handle nobody holds, for the next item; atomic. */
  AgChannelTransform     *spare_transform;

  /* The queue of the engine whose deliveries write, while a pipeline
   * watches the demand (a ref); lock. At the end, like transform_thread. */
  AgCompletionQueue      *demand_queue;
};

typedef enum
{
  AG_CHANNEL_OP_READ,
  AG_CHANNEL_OP_WRITE,
} AgChannelOpKind;

/* One asynchronous read or write; the data of its GTask. */
struct _AgChannelOp
{
  AgNode             node;            /* on its way home, once ended */
  AgChannelOpKind    kind;
  AgChannelCore     *core;            /* a ref */
  GTask             *task;            /* unowned: the task owns the op */
  GCancellable      *cancellable;     /* a ref, or NULL; not the task's (see ag-channel-op.c) */
  gint64             creation_time;   /* as GTask measures it */
  AgCompletionQueue *queue;           /* a ref while on its way home */
  gboolean           waiting;         /* in core->read_ops or core->write_ops; lock */
  GSource           *cancel_source;   /* set under the lock before it waits */
  GSource           *timeout_source;  /* idem */
  guint              count;           /* read: items wanted; never 0 while waiting */
  guint              min;             /* read: ends once it has this many (≤ count) */
  GArray            *items;           /* read: what it has so far; lock while waiting or homebound */
  gboolean           reclaimable;     /* read: a cancel may take its items back on its way
                                       * home (immutable) */
  GList              homebound_link;  /* in core->homebound; lock */
  gboolean           homebound;       /* lock */
  GValue             value;           /* write: the item to store */
  GError            *error;           /* how it ended, if it failed */
  GValue             detail;          /* the detail of a transform error it failed with, if any */
  AgChannelOp       *next_done;       /* in an AgChannelDone list */
};

/* The operations a locked section ended, in order, each with a ref on its
 * task: their tasks return once the lock is dropped. A list through the
 * ops themselves, so the many calls that end nothing allocate nothing. */
typedef struct
{
  AgChannelOp *first;
  AgChannelOp *last;
} AgChannelDone;

#define AG_CHANNEL_DONE_INIT { NULL, NULL }

struct _AgChannel
{
  GObject         parent_instance;

  AgChannelCore  *core;
  guint           capacity;           /* construct-only, until the core exists */

  /* What was last notified; GUI thread (the core's context) only. */
  guint           notified_length;
  gboolean        notified_closed;
  guint           notified_n_readers;
};

static inline gint64
_ag_channel_deadline_for (int timeout_ms)
{
  if (timeout_ms < 0)
    return G_MAXINT64;
  return g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
}

/* ag-channel-blocking-cancel.c */
typedef struct
{
  GCancellable *cancellable;    /* of the work the call runs in, or NULL */
  gulong        handler;
} AgChannelBlockingCancel;

typedef enum
{
  AG_CHANNEL_WAIT,              /* wait */
  AG_CHANNEL_WAIT_LOOK_AGAIN,   /* the lock was dropped: look again first */
  AG_CHANNEL_WAIT_CANCELLED,    /* the work was cancelled: error set */
} AgChannelWaitCheck;

void               _ag_channel_blocking_cancel_init          (AgChannelBlockingCancel  *watch);
AgChannelWaitCheck _ag_channel_blocking_cancel_check_locked  (AgChannelBlockingCancel  *watch,
                                                              AgChannelCore            *core,
                                                              GError                  **error);
void               _ag_channel_blocking_cancel_clear         (AgChannelBlockingCancel  *watch);

/* ag-channel-core.c */
AgChannelCore   *_ag_channel_core_new                   (guint                    capacity);
AgChannelCore   *_ag_channel_core_ref                   (AgChannelCore           *core);
void             _ag_channel_core_unref                 (AgChannelCore           *core);
void             _ag_channel_core_put_back_locked       (AgChannelCore           *core,
                                                         GArray                  *array,
                                                         guint                    from);
void             _ag_channel_core_pump_locked           (AgChannelCore           *core,
                                                         AgChannelDone           *done);
void             _ag_channel_core_take_locked           (AgChannelCore           *core,
                                                         GArray                  *array,
                                                         guint                    max,
                                                         AgChannelDone           *done);
guint            _ag_channel_core_length_locked         (AgChannelCore           *core);
gboolean         _ag_channel_core_check_writable_locked (AgChannelCore           *core,
                                                         GError                 **error);
void             _ag_channel_core_break_locked          (AgChannelCore           *core);
void             _ag_channel_core_demand_changed_locked (AgChannelCore           *core);
gboolean         _ag_channel_core_check_pinned_thread   (AgChannelCore           *core,
                                                         GError                 **error);
gboolean         _ag_channel_core_run_transform         (AgChannelCore           *core,
                                                         AgChannelTransform     **transform,
                                                         AgChannelTransformFunc   func,
                                                         gpointer                 user_data,
                                                         const GValue            *value,
                                                         GValue                  *item,
                                                         GValue                  *detail,
                                                         GError                 **error);
void             _ag_channel_core_give_back_transform   (AgChannelCore           *core,
                                                         AgChannelTransform      *transform);

/* ag-channel-op.c */
AgChannelOp     *_ag_channel_op_new                     (AgChannelCore           *core,
                                                         AgChannelOpKind          kind,
                                                         GTask                   *task,
                                                         GCancellable            *cancellable);
gboolean         _ag_channel_op_fail_if_cancelled       (AgChannelOp             *op);
gboolean         _ag_channel_op_is_cancelled            (AgChannelOp             *op);
void             _ag_channel_op_end_cancelled_locked    (AgChannelOp             *op,
                                                         AgChannelDone           *done);
GArray          *_ag_channel_op_give_back_if_cancelled  (AgChannelOp             *op,
                                                         GArray                  *items,
                                                         GError                 **error);
void             _ag_channel_op_fail_now                (AgChannelOp             *op,
                                                         GError                  *error);
void             _ag_channel_op_end_locked              (AgChannelOp             *op,
                                                         GError                  *error,
                                                         AgChannelDone           *done);
void             _ag_channel_op_end_now_locked          (AgChannelOp             *op,
                                                         GError                  *error,
                                                         AgChannelDone           *done);
void             _ag_channel_op_wait_locked             (AgChannelOp             *op,
                                                         int                      timeout_ms);
void             _ag_channel_core_after_unlock          (AgChannelCore           *core,
                                                         AgChannelDone           *done,
                                                         gboolean                 notify);

/* ag-channel-notify.c */
gboolean         _ag_channel_core_claim_notify_locked   (AgChannelCore           *core);
void             _ag_channel_core_schedule_notify       (AgChannelCore           *core);
void             _ag_channel_core_drop_notify           (AgChannelCore           *core);

/* ag-channel.c */
void             _ag_channel_notify_changes             (AgChannel               *self,
                                                         guint                    length,
                                                         gboolean                 closed,
                                                         guint                    n_readers);

/* ag-channel-reader.c */
AgChannelReader *_ag_channel_reader_new                 (AgChannelCore           *core);

G_END_DECLS
