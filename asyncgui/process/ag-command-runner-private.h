/* ag-command-runner-private.h: commands run as child processes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "ag-process-thread-private.h"

G_BEGIN_DECLS

typedef struct _AgCommandRunner AgCommandRunner;

/* What a command came to, handed to its reply function. The function may
 * take any field (leaving NULL behind); the runner frees what is left. */
typedef struct
{
  GBytes *stdout_bytes;  /* what it wrote, or NULL if that is not known */
  GBytes *stderr_bytes;
  int     exit_status;   /* -1 unless it exited by itself */
  GError *error;         /* NULL if it exited with status 0 */
} AgCommandReply;

/* Called exactly once per command, on the process thread. */
typedef void (*AgCommandReplyFunc) (AgCommandReply *reply,
                                    gpointer        user_data);

AgCommandRunner *_ag_command_runner_new      (AgProcessThread     *thread);
void             _ag_command_runner_shutdown (AgCommandRunner     *runner);
void             _ag_command_runner_free     (AgCommandRunner     *runner);

guint64          _ag_command_runner_run      (AgCommandRunner     *runner,
                                              const char * const  *argv,
                                              GBytes              *stdin_bytes,
                                              const char          *cwd,
                                              const char * const  *env,
                                              guint                timeout_ms,
                                              GCancellable        *cancelled_by,
                                              AgCommandReplyFunc   reply,
                                              gpointer             user_data,
                                              GDestroyNotify       user_data_destroy);
void             _ag_command_runner_cancel   (AgCommandRunner     *runner,
                                              guint64              command);

G_END_DECLS
