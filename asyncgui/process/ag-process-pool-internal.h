/* ag-process-pool-internal.h: what the files of the process pool share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-process-pool-private.h"
#include "ag-worker-process-private.h"

G_BEGIN_DECLS

#define START_ATTEMPTS 3

typedef struct
{
  AgProcessPool      *pool;
  guint               kind;
  guint64             id;           /* also the request's id in the protocol */
  char               *target;
  GVariant           *args;
  GBytes             *frame;
  guint               timeout_ms;   /* 0: none */
  GUnixFDList        *fds;          /* NULL: none */
  guint64             memory_limit; /* 0: none */
  int                 cpu_limit_ms; /* 0: none */
  int                 fallback_kind;/* where to go without a sandbox; -1: nowhere */
  AgProcessReplyCheck check;        /* NULL: none */
  GSource            *timer;        /* while a worker has it, or it waits for a
                                     * worker after a failed start */
  guint               n_untaken;    /* times a worker was lost before it took it */
  AgProcessReplyFunc  reply;
  gpointer            user_data;
  GDestroyNotify      user_data_destroy;
  AgProcessCancelledFunc cancelled; /* NULL: none; see AgProcessCallOptions */
} Call;

/* A worker in use; freed when it is retired (its process goes on until
 * it is reaped). */
typedef struct
{
  AgProcessPool    *pool;
  AgWorkerProcess  *process;
  guint             kind;
  guint             generation;   /* of the command it runs */
  Call             *call;
  GSource          *idle_timer;   /* from its first idle time until retired */
  gint64            idle_since;   /* monotonic time; 0 while it has a call */
  gboolean          writing;      /* a request is still being written */
  gboolean          ready;        /* it sent its greeting */
  gboolean          deferred;     /* its call waits for the greeting, to be
                                   * sent with its limits */
  gboolean          limited;      /* the last call set limits on it */
  gboolean          leaving;      /* let go: its input is closed, it takes no
                                   * call and no longer counts in n_workers */
  gboolean          unsent;       /* lost before its call was handed to the
                                   * process */
} Worker;

/* A worker that is gone, and the calls it takes with it: the one it ran,
 * or, when it never started, every call it leaves without a worker. They
 * fail once its exit status says how it went. */
typedef struct
{
  AgProcessPool   *pool;
  AgWorkerProcess *process;
  GList           *calls;
  GError          *error;     /* a protocol error, or NULL: the exit says it */
  gboolean         starting;
  GSource         *grace;     /* while a worker let go may still exit by itself */
  gboolean         forced;    /* it did not, and was killed */
} Loss;

/* What the pool keeps per kind of worker; the process thread only. */
typedef struct
{
  GQueue  queued;          /* Call */
  guint   n_workers;
  guint   failed_starts;   /* in a row, of the current command */
} Kind;

struct _AgProcessPool
{
  AgProcessThread  *thread;
  guint             n_kinds;

  GMutex            lock;          /* guards the fields up to next_id */
  int               max_processes;
  guint             idle_ms;
  char           ***commands;      /* per kind */
  AgWorkerCommand  *sandboxes;     /* per kind: argv unused; sandboxed, its
                                    * strings owned */
  guint            *generation;    /* per kind, bumped when its command changes */
  guint64           next_id;

  /* The process thread only. */
  Kind             *kinds;
  GList            *workers;       /* Worker, not retired */
  GList            *losses;        /* Loss */
  GCancellable     *stop;          /* cancelled by the shutdown */
  gboolean          stopping;
};

void    _ag_pool_call_fail      (Call          *call,
                                 int            pid,
                                 GError        *error);
void    _ag_pool_worker_retire  (Worker        *worker);
void    _ag_pool_dispatch       (AgProcessPool *pool,
                                 guint          kind);
GError *_ag_pool_shutdown_error (void);
GError *_ag_pool_cancelled_error (void);

G_END_DECLS
