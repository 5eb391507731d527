/* ag-engine-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-engine.h"
#include "ag-executor-private.h"

G_BEGIN_DECLS

typedef struct _AgWorkerPool AgWorkerPool;

AgCompletionQueue *_ag_engine_get_queue      (AgEngine *self);
AgWorkerPool      *_ag_engine_get_worker_pool (AgEngine *self);
void               _ag_engine_submit_work    (AgEngine *self,
                                              AgWork   *work);
void               _ag_engine_hold_notify    (AgEngine *self,
                                              GObject  *object);
gboolean           _ag_engine_is_delivering  (AgEngine *self);
gboolean           _ag_engine_is_disposed    (AgEngine *self);
gboolean           _ag_engine_is_own_thread  (AgEngine *self);
gboolean           _ag_engine_wait_for       (AgEngine   *self,
                                              const int  *finished,
                                              gint64      timeout_us,
                                              GError    **error);
gboolean           _ag_engine_may_iterate_here (AgEngine *self);
void               _ag_engine_track          (AgEngine *self,
                                              GList    *running_link);
void               _ag_engine_untrack        (AgEngine *self,
                                              GList    *running_link);

G_END_DECLS
