/* ag-wait-private.h: blocking until something an engine delivers is done
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean _ag_wait_for      (GMainContext  *context,
                            gboolean       may_iterate,
                            gboolean       delivering,
                            const int     *finished,
                            gint64         timeout_us,
                            GError       **error);
void     _ag_wait_wake_all (void);

G_END_DECLS
