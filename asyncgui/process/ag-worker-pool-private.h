/* ag-worker-pool-private.h: what process tasks use of an engine's workers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-worker-pool.h"
#include "ag-process-pool-private.h"

G_BEGIN_DECLS

AgProcessPool *_ag_worker_pool_get_processes (AgWorkerPool *self);
AgProcessPool *_ag_worker_pool_processes_of  (AgEngine     *engine);

G_END_DECLS
