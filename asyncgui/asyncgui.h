/* asyncgui.h: the one header to include
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#define ASYNCGUI_INSIDE
# include "ag-version-macros.h"
# include "ag-error.h"
# include "ag-engine.h"
# include "ag-task.h"
# include "ag-slot.h"
# include "ag-chunk.h"
# include "ag-multi-task.h"
# include "ag-pipeline.h"
# include "ag-job.h"
# include "ag-worker-pool.h"
# include "ag-command-task.h"
# include "ag-worker-task.h"
# include "ag-worker-program.h"
# include "ag-channel-transform.h"
# include "ag-channel.h"
# include "ag-core-enum-types.h"
# include "ag-task-enum-types.h"
# include "ag-process-enum-types.h"
#undef ASYNCGUI_INSIDE
