/* ag-pipeline-private.h: a pipeline's state, shared by its type
 * (ag-pipeline.c) and its demand loop (ag-pipeline-demand.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-completion-queue-private.h"
#include "ag-pipeline.h"
#include "ag-values-private.h"

G_BEGIN_DECLS

/* Everything here is the engine's thread's, except @wake_queued (atomic). */
struct _AgPipeline
{
  AgTask             parent_instance;

  AgPipelineFunc     func;
  gpointer           func_data;
  GDestroyNotify     func_destroy;

  /* Where inputs come from: a reader, a list model or a range. */
  AgChannelReader   *input;
  AgPipeline        *upstream;        /* the stage @input reads, if any */
  GListModel        *model;
  gint64             n_range;         /* -1: no end; only without input and model */

  AgChannel         *output;
  gboolean           feeds_stage;     /* ag_pipeline_add_stage() took the output */

  /* Settings, fixed once started. */
  guint              max_workers;
  guint              min_count;
  guint              max_chunk_size;
  gboolean           apply_single;
  gboolean           started;

  /* Run state (ag-pipeline-demand.c). */
  gboolean           running;
  guint              max_chunk;       /* max_chunk_size, or the default */
  guint              limit;           /* runs at once */
  AgCompletionQueue *queue;
  GCancellable      *cancellable;     /* the runs' and the input read's */
  gboolean           input_done;      /* no input will come any more */
  GError            *input_error;     /* why the stage before ended, if it failed, or
                                       * why reading the input channel failed */
  GValue            *input_detail;    /* that read failure's detail (a read transform's) */
  guint              n_requested;     /* what the input read in flight asked for */
  guint64            next_position;   /* of the next input taken */
  GArray            *inputs;          /* GValue: inputs not yet in a run */
  guint64            n_in_flight;     /* inputs in runs not yet written out */
  guint              runs_going;
  guint64            next_seq;
  guint64            next_write_seq;
  GHashTable        *finished;        /* &seq → run back early, waiting for earlier ones */
  GArray            *pending;         /* GValue: outputs waiting for room */
  AgFailure         *failure;         /* ends the run once @pending is out */
  guint64            n_written;

  int                wake_queued;     /* atomic */
  AgNode             wake_node;
};

/* ag-pipeline-demand.c */
void _ag_pipeline_demand_start   (AgPipeline *self);
void _ag_pipeline_demand_stop    (AgPipeline *self);
void _ag_pipeline_demand_stopped (AgPipeline *self);
void _ag_pipeline_demand_clear   (AgPipeline *self);

G_END_DECLS
