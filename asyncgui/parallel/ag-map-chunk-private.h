/* ag-map-chunk-private.h: a run of inputs a mapping MultiTask hands one
 * worker at a time
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-multi-task.h"
#include "ag-executor-private.h"

G_BEGIN_DECLS

typedef struct _AgMapChunk AgMapChunk;

/* A failed input: its position and what went wrong. */
typedef struct
{
  guint   position;
  GError *error;
} AgMapFailure;

/* Filled by the worker; read on the engine's thread once delivered. */
struct _AgMapChunk
{
  AgWork        work;
  AgMultiTask  *multi;      /* strong */
  AgCompletionQueue *queue; /* strong */
  guint         start;
  guint         count;
  gpointer     *items;      /* count inputs; strong refs for list models */
  gboolean      owns_items;
  GValue       *values;     /* slots start..start+count of the multi's array */
  AgMapFunc     func;       /* one of func and range_func */
  AgRangeFunc   range_func;
  gpointer      user_data;
  GCancellable *cancellable;
  guint         n_done;     /* how many inputs ran; fewer when cancelled */
  gint64        elapsed_us;
  GArray       *failures;   /* AgMapFailure, NULL when none */
  gboolean      needs_clear;/* some value owns memory (a string, an object...) */
};

AgMapChunk *_ag_map_chunk_new  (AgMultiTask       *multi,
                                AgCompletionQueue *queue,
                                guint              start,
                                guint              count);
void        _ag_map_chunk_free (AgMapChunk  *chunk);


/* Implemented by ag-multi-task.c: the chunk is back on the engine's thread.
 * Returns whether the MultiTask took the chunk's values. */
gboolean    _ag_multi_task_chunk_done (AgMultiTask *self,
                                       AgMapChunk  *chunk);

G_END_DECLS
