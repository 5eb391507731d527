/* ag-worker-pool-private.h: what process tasks use of an engine's workers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-worker-pool.h"
#include "ag-command-runner-private.h"
#include "ag-process-pool-private.h"

G_BEGIN_DECLS

AgWorkerPool    *_ag_worker_pool_of             (AgEngine     *engine);
AgProcessPool   *_ag_worker_pool_get_processes  (AgWorkerPool *self);
AgCommandRunner *_ag_worker_pool_get_runner     (AgWorkerPool *self);
guint            _ag_worker_pool_resolve_timeout (AgWorkerPool *self,
                                                 int           timeout_ms);
char            *_ag_worker_pool_dup_filter_program (void);

G_END_DECLS
