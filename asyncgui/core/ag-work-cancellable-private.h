/* ag-work-cancellable-private.h: the cancellable of the work a thread runs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

GCancellable *_ag_work_cancellable_enter (GCancellable *cancellable);
void          _ag_work_cancellable_leave (GCancellable *previous);
GCancellable *_ag_work_cancellable_get   (void);

G_END_DECLS
