/* ag-worker-pool-private.h: what process tasks use of an engine's workers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-worker-pool.h"
#include "ag-command-runner-private.h"
#include "ag-process-pool-private.h"

G_BEGIN_DECLS

/* The pool's sets of warm workers: for each kind, the trusted ones, the
 * sandboxed ones, and the unsandboxed ones that answer as sandboxed ones
 * do (plain data only), for sandboxed calls allowed to run unsandboxed.
 * A worker never moves from one set to another. */
typedef enum
{
  AG_WORKER_SET_TRUSTED,
  AG_WORKER_SET_SANDBOXED,
  AG_WORKER_SET_PLAIN,
  AG_WORKER_N_SETS
} AgWorkerSet;

#define AG_WORKER_N_KINDS (AG_WORKER_GJS + 1)
#define _ag_worker_pool_kind_in_set(kind, set) ((guint) (set) * AG_WORKER_N_KINDS + (guint) (kind))

AgWorkerPool    *_ag_worker_pool_of             (AgEngine     *engine);
AgProcessPool   *_ag_worker_pool_get_processes  (AgWorkerPool *self);
AgCommandRunner *_ag_worker_pool_get_runner     (AgWorkerPool *self);
GMainContext    *_ag_worker_pool_peek_thread_context (AgWorkerPool *self);
guint            _ag_worker_pool_resolve_timeout (AgWorkerPool *self,
                                                 int           timeout_ms);
char            *_ag_worker_pool_dup_filter_program (void);

G_END_DECLS
