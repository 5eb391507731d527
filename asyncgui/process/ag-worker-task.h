/* ag-worker-task.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include "ag-task.h"
#include "ag-worker-pool.h"

G_BEGIN_DECLS

#define AG_TYPE_WORKER_TASK (ag_worker_task_get_type ())

G_DECLARE_FINAL_TYPE (AgWorkerTask, ag_worker_task, AG, WORKER_TASK, AgTask)

AgWorkerTask *ag_worker_task_new            (AgWorkerKind  kind,
                                             const char   *target,
                                             GVariant     *args);
AgWorkerTask *ag_worker_task_new_c          (const char   *module_path,
                                             const char   *symbol,
                                             GVariant     *args);
AgWorkerTask *ag_worker_task_new_python     (const char   *module_function,
                                             GBytes       *pickled_args);
AgWorkerTask *ag_worker_task_new_gjs        (const char   *module_uri,
                                             const char   *export_name,
                                             const char   *json_args);

AgWorkerKind  ag_worker_task_get_kind       (AgWorkerTask *self);
const char   *ag_worker_task_get_target     (AgWorkerTask *self);
GVariant     *ag_worker_task_get_args       (AgWorkerTask *self);
void          ag_worker_task_set_timeout_ms (AgWorkerTask *self,
                                             int           timeout_ms);
int           ag_worker_task_get_timeout_ms (AgWorkerTask *self);
int           ag_worker_task_get_worker_pid (AgWorkerTask *self);
GVariant     *ag_worker_task_get_error_data (AgWorkerTask *self);

G_END_DECLS
