/* ag-worker-program.h: what worker programs call, never an application
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include <glib.h>

#include "ag-version-macros.h"

G_BEGIN_DECLS

AG_AVAILABLE_IN_1_0
gboolean ag_worker_lock_down         (int      filter_fd,
                                     GError **error);
AG_AVAILABLE_IN_1_0
void     ag_worker_set_current_call (guint64  id);
AG_AVAILABLE_IN_1_0
int      ag_worker_take_stdin       (GError **error);
AG_AVAILABLE_IN_1_0
int      ag_worker_take_stdout      (GError **error);

G_END_DECLS
