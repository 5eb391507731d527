/* ag-worker-location-private.h: where the worker programs are
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

const char *_ag_worker_location_get_dir (void);

G_END_DECLS
