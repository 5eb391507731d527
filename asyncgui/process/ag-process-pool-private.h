/* ag-process-pool-private.h: worker processes, and the thread that talks to them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "ag-task.h"
#include "ag-worker-task.h"

G_BEGIN_DECLS

typedef struct _AgProcessPool AgProcessPool;

/* What a command task asks for; owned by the pool once submitted. */
typedef struct
{
  char   **argv;
  GBytes  *stdin_bytes;
  char    *cwd;
  char   **env;
  int      timeout_ms;    /* -1: the pool's default, 0: none */
} AgCommandSpec;

/* What the pool tells a command task, before the task returns. */
typedef struct
{
  GBytes *stdout_bytes;
  GBytes *stderr_bytes;
  int     exit_status;
} AgCommandOutcome;

AgProcessPool *_ag_process_pool_new                    (int                  max_processes);
void          _ag_process_pool_shutdown               (AgProcessPool        *pool);
void          _ag_process_pool_set_max_processes      (AgProcessPool        *pool,
                                                      int                  max_processes);
void          _ag_process_pool_set_idle_ms            (AgProcessPool        *pool,
                                                      guint                idle_ms);
void          _ag_process_pool_set_default_timeout_ms (AgProcessPool        *pool,
                                                      guint                timeout_ms);
char        **_ag_process_pool_default_command        (AgWorkerKind         kind);
void          _ag_process_pool_set_command            (AgProcessPool        *pool,
                                                      AgWorkerKind         kind,
                                                      const char * const  *argv);

/* @timeout_ms: -1 for the pool's default, 0 for none. */
void          _ag_process_pool_call                   (AgProcessPool        *pool,
                                                      AgTask              *task,
                                                      AgWorkerKind         kind,
                                                      const char          *target,
                                                      GVariant            *args,
                                                      int                  timeout_ms);
void          _ag_process_pool_run_command            (AgProcessPool        *pool,
                                                      AgTask              *task,
                                                      AgCommandSpec       *spec);
void          _ag_process_pool_cancel                 (AgProcessPool        *pool,
                                                      AgTask              *task);

/* Implemented by the task classes: the pool hands over what it learnt. */
void          _ag_worker_task_set_outcome            (AgTask              *task,
                                                      int                  pid,
                                                      GVariant            *error_data);
void          _ag_command_task_set_outcome           (AgTask              *task,
                                                      AgCommandOutcome    *outcome);

G_END_DECLS
