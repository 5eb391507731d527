/* ag-sandbox-private.h: what a sandboxed worker is started with
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The descriptors a worker finds open as it starts: the socket that
 * brings the files of each call (and carries its credentials back), and,
 * in a sandbox, the seccomp filter it loads once its interpreter runs. */
#define AG_WORKER_FD_SOCKET  3
#define AG_WORKER_FD_FILTER  4

gboolean  _ag_sandbox_check        (const char          *filter_program,
                                    GError             **error);
char    **_ag_sandbox_wrap_command (const char * const  *argv,
                                    const char * const  *ro_paths,
                                    GError             **error);
int       _ag_sandbox_open_filter  (const char          *filter_program,
                                    GError             **error);

G_END_DECLS
