/* ag-command-task.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include "ag-version-macros.h"
#include "ag-task.h"

G_BEGIN_DECLS

#define AG_TYPE_COMMAND_TASK (ag_command_task_get_type ())

AG_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AgCommandTask, ag_command_task, AG, COMMAND_TASK, AgTask)

AG_AVAILABLE_IN_1_0
AgCommandTask *ag_command_task_new             (const char * const *argv) G_GNUC_WARN_UNUSED_RESULT;

AG_AVAILABLE_IN_1_0
void           ag_command_task_set_stdin       (AgCommandTask      *self,
                                                GBytes             *stdin_bytes);
AG_AVAILABLE_IN_1_0
void           ag_command_task_set_cwd         (AgCommandTask      *self,
                                                const char         *cwd);
AG_AVAILABLE_IN_1_0
void           ag_command_task_set_environ     (AgCommandTask      *self,
                                                const char * const *env);
AG_AVAILABLE_IN_1_0
void           ag_command_task_set_timeout_ms  (AgCommandTask      *self,
                                                int                 timeout_ms);
AG_AVAILABLE_IN_1_0
int            ag_command_task_get_timeout_ms  (AgCommandTask      *self);

AG_AVAILABLE_IN_1_0
GBytes        *ag_command_task_get_stdout      (AgCommandTask      *self);
AG_AVAILABLE_IN_1_0
GBytes        *ag_command_task_get_stderr      (AgCommandTask      *self);
AG_AVAILABLE_IN_1_0
int            ag_command_task_get_exit_status (AgCommandTask      *self);

G_END_DECLS
