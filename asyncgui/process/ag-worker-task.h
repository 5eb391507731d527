/* ag-worker-task.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include "ag-version-macros.h"
#include "ag-task.h"
#include "ag-worker-pool.h"

G_BEGIN_DECLS

#define AG_TYPE_WORKER_TASK (ag_worker_task_get_type ())

AG_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AgWorkerTask, ag_worker_task, AG, WORKER_TASK, AgTask)

AG_AVAILABLE_IN_1_0
AgWorkerTask *ag_worker_task_new            (AgWorkerKind  kind,
                                             const char   *target,
                                             GVariant     *args) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgWorkerTask *ag_worker_task_new_c          (const char   *module_path,
                                             const char   *symbol,
                                             GVariant     *args) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgWorkerTask *ag_worker_task_new_python     (const char   *module_function,
                                             GBytes       *pickled_args) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgWorkerTask *ag_worker_task_new_gjs        (const char   *module_uri,
                                             const char   *export_name,
                                             const char   *json_args) G_GNUC_WARN_UNUSED_RESULT;

AG_AVAILABLE_IN_1_0
AgWorkerKind  ag_worker_task_get_kind       (AgWorkerTask *self);
AG_AVAILABLE_IN_1_0
const char   *ag_worker_task_get_target     (AgWorkerTask *self);
AG_AVAILABLE_IN_1_0
GVariant     *ag_worker_task_get_args       (AgWorkerTask *self);
AG_AVAILABLE_IN_1_0
void          ag_worker_task_set_timeout_ms (AgWorkerTask *self,
                                             int           timeout_ms);
AG_AVAILABLE_IN_1_0
int           ag_worker_task_get_timeout_ms (AgWorkerTask *self);
AG_AVAILABLE_IN_1_0
int           ag_worker_task_get_worker_pid (AgWorkerTask *self);
AG_AVAILABLE_IN_1_0
GVariant     *ag_worker_task_get_error_data (AgWorkerTask *self);

AG_AVAILABLE_IN_1_0
void                ag_worker_task_set_sandboxed     (AgWorkerTask        *self,
                                                      gboolean             sandboxed);
AG_AVAILABLE_IN_1_0
gboolean            ag_worker_task_get_sandboxed     (AgWorkerTask        *self);
AG_AVAILABLE_IN_1_0
int                 ag_worker_task_add_fd            (AgWorkerTask        *self,
                                                      int                  fd,
                                                      GError             **error);
AG_AVAILABLE_IN_1_0
int                 ag_worker_task_add_file          (AgWorkerTask        *self,
                                                      GFile               *file,
                                                      GError             **error);
AG_AVAILABLE_IN_1_0
guint               ag_worker_task_get_n_fds         (AgWorkerTask        *self);
AG_AVAILABLE_IN_1_0
void                ag_worker_task_set_result_type   (AgWorkerTask        *self,
                                                      const GVariantType  *type);
AG_AVAILABLE_IN_1_0
const GVariantType *ag_worker_task_get_result_type   (AgWorkerTask        *self);
AG_AVAILABLE_IN_1_0
void                ag_worker_task_set_memory_limit  (AgWorkerTask        *self,
                                                      guint64              bytes);
AG_AVAILABLE_IN_1_0
guint64             ag_worker_task_get_memory_limit  (AgWorkerTask        *self);
AG_AVAILABLE_IN_1_0
void                ag_worker_task_set_cpu_limit_ms  (AgWorkerTask        *self,
                                                      int                  cpu_limit_ms);
AG_AVAILABLE_IN_1_0
int                 ag_worker_task_get_cpu_limit_ms  (AgWorkerTask        *self);

G_END_DECLS
