/* ag-worker-pool.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include "ag-version-macros.h"
#include "ag-engine.h"

G_BEGIN_DECLS

/**
 * AgWorkerKind:
 * @AG_WORKER_C: a worker that loads a shared module and calls a function
 *   `GVariant *fn (GVariant *args, GCancellable *cancellable, GError **error)`.
 * @AG_WORKER_PYTHON: a Python worker that imports `module:function`; the
 *   arguments and the result are pickled bytes.
 * @AG_WORKER_GJS: a GJS worker that imports an ES module and calls one of
 *   its exports; the arguments and the result are JSON text.
 *
 * The kinds of warm worker process.
 *
 * Since: 1.0
 */
typedef enum
{
  AG_WORKER_C,
  AG_WORKER_PYTHON,
  AG_WORKER_GJS,
} AgWorkerKind;

#define AG_TYPE_WORKER_POOL (ag_worker_pool_get_type ())

AG_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AgWorkerPool, ag_worker_pool, AG, WORKER_POOL, GObject)

AG_AVAILABLE_IN_1_0
AgWorkerPool *ag_engine_get_worker_pool        (AgEngine            *engine);

AG_AVAILABLE_IN_1_0
int           ag_worker_pool_get_max_processes (AgWorkerPool        *self);
AG_AVAILABLE_IN_1_0
void          ag_worker_pool_set_max_processes (AgWorkerPool        *self,
                                                int                  max_processes);
AG_AVAILABLE_IN_1_0
guint         ag_worker_pool_get_idle_ms       (AgWorkerPool        *self);
AG_AVAILABLE_IN_1_0
void          ag_worker_pool_set_idle_ms       (AgWorkerPool        *self,
                                                guint                idle_ms);
AG_AVAILABLE_IN_1_0
guint         ag_worker_pool_get_timeout_ms    (AgWorkerPool        *self);
AG_AVAILABLE_IN_1_0
void          ag_worker_pool_set_timeout_ms    (AgWorkerPool        *self,
                                                guint                timeout_ms);
AG_AVAILABLE_IN_1_0
void          ag_worker_pool_set_command       (AgWorkerPool        *self,
                                                AgWorkerKind         kind,
                                                const char * const  *argv);
AG_AVAILABLE_IN_1_0
char        **ag_worker_pool_dup_command       (AgWorkerPool        *self,
                                                AgWorkerKind         kind) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
gboolean      ag_worker_pool_get_allow_unsandboxed (AgWorkerPool    *self);
AG_AVAILABLE_IN_1_0
void          ag_worker_pool_set_allow_unsandboxed (AgWorkerPool    *self,
                                                    gboolean         allow_unsandboxed);
AG_AVAILABLE_IN_1_0
void          ag_worker_pool_set_sandbox_paths (AgWorkerPool        *self,
                                                const char * const  *paths);
AG_AVAILABLE_IN_1_0
char        **ag_worker_pool_dup_sandbox_paths (AgWorkerPool        *self) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
gboolean      ag_worker_pool_check_sandbox     (AgWorkerPool        *self,
                                                GError             **error);

G_END_DECLS
