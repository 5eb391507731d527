/* ag-chunk-run-private.h: a run of inputs one worker passes through a map
 * or pipeline function, then hands back to its owner
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-chunk-private.h"
#include "ag-values-private.h"
#include "ag-executor-private.h"
#include "ag-task.h"

G_BEGIN_DECLS

typedef struct _AgChunkRun AgChunkRun;

/* What the function of a run is, and how its inputs and outputs look. */
typedef enum
{
  AG_CHUNK_RUN_MAP,            /* items[i] → one value into slots[i] */
  AG_CHUNK_RUN_RANGE,          /* position start + i → one value into slots[i] */
  AG_CHUNK_RUN_RANGES,         /* positions start … start + count - 1 → slots, in one call */
  AG_CHUNK_RUN_PIPE_SINGLE,    /* each of inputs → any number of outputs */
  AG_CHUNK_RUN_PIPE_WHOLE,     /* all of inputs at once → any number of outputs */
} AgChunkRunKind;

/* The run is back on the engine's thread: @owner takes it, and frees it
 * with _ag_chunk_run_free() when done with it. Not called once the engine
 * is gone: the run then frees itself and what it made, wherever it ends. */
typedef void (*AgChunkRunDoneFunc) (AgChunkRun *run,
                                    AgTask     *owner);

/* The owner fills in the inputs and where outputs go, then submits @work.
 * The worker owns the run until it queues it back; the owner reads the
 * outcome on the engine's thread once delivered. */
struct _AgChunkRun
{
  AgWork              work;
  AgCompletionQueue  *queue;        /* strong */
  AgTask             *owner;        /* strong, released on the engine's thread */
  AgChunkRunDoneFunc  done;
  GCancellable       *cancellable;  /* strong */

  AgChunkRunKind      kind;
  union
  {
    AgMapFunc         map;          /* AG_CHUNK_RUN_MAP */
    AgRangeFunc       range;        /* AG_CHUNK_RUN_RANGE */
    AgRangesFunc      ranges;       /* AG_CHUNK_RUN_RANGES */
    AgPipelineFunc    pipe;         /* AG_CHUNK_RUN_PIPE_* */
  }                   func;
  gpointer            user_data;
  guint64             start;        /* the position of the first input */
  guint               count;        /* how many inputs */
  guint64             seq;          /* the owner's: pipelines write out in this order */

  /* Maps: the inputs, and the slots of the owner's values they fill. */
  gpointer           *items;        /* NULL for a range */
  GValue             *slots;        /* zeroed by the worker */
  GArray             *failures;     /* AgChunkFailure; NULL while none failed */
  gboolean            needs_clear;  /* some value owns memory (a string, an object…) */
  gint64              budget_us;    /* maps: stop once over it; 0: run every input */
  guint               min_count;    /* maps: inputs to run before stopping so */
  gboolean            over_budget;  /* stopped so: the inputs from n_done on go back */
  gint64              elapsed_us;
  gint64              cpu_us;        /* the processor time it used, or -1 */

  /* Pipelines: the inputs, and the outputs made of them. */
  GArray             *inputs;       /* GValue */
  GArray             *outputs;      /* GValue */
  AgFailure          *failure;      /* the input that failed ends the run */

  guint               n_done;       /* inputs run; fewer than @count when cancelled */
};

AgChunkRun *_ag_chunk_run_new            (AgTask             *owner,
                                          AgCompletionQueue  *queue,
                                          GCancellable       *cancellable,
                                          AgChunkRunDoneFunc  done);
void        _ag_chunk_run_release_values (AgChunkRun         *run);
void        _ag_chunk_run_free           (AgChunkRun         *run);

void        _ag_chunk_run_zero_slots     (GValue             *slots,
                                          guint               count);

/* ag-chunk-ranges.c */
void        _ag_chunk_run_ranges         (AgChunkRun         *run);

G_END_DECLS
