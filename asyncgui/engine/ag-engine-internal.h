/* ag-engine-internal.h: what the engine's own files share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-engine-private.h"

G_BEGIN_DECLS

struct _AgEngine
{
  GObject            parent_instance;

  GMainContext      *context;
  GThread           *home_thread;  /* the thread that made the engine */
  AgCompletionQueue *queue;
  AgExecutor        *executor;
  GSource           *delivery;
  AgTracked         *tracked;      /* the oldest, see _ag_engine_track() */
  AgTracked         *tracked_last;
  GArray            *extensions;  /* Extension, see _ag_engine_set_extension() */
  int                priority;
  int                budget_ms;
  guint              max_delivery_delay_ms;
  guint              job_stack_size;
  int                disposed;     /* atomic */
};

void _ag_engine_shut_extensions_down (AgEngine *self);
void _ag_engine_free_extensions      (AgEngine *self);

G_END_DECLS
