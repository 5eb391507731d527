/* ag-pipe-private.h: a MultiTask that streams inputs through a function
 * into a channel, as fast as its readers read
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-multi-task.h"
#include "ag-executor-private.h"

G_BEGIN_DECLS

typedef struct _AgPipe      AgPipe;
typedef struct _AgPipeChunk AgPipeChunk;

/* A run of inputs one worker turns into outputs. Filled by the worker;
 * read on the engine's thread once delivered. */
struct _AgPipeChunk
{
  AgWork             work;
  AgMultiTask       *multi;        /* strong */
  AgCompletionQueue *queue;        /* strong */
  guint64            seq;          /* chunks are written out in this order */
  GArray            *inputs;       /* GValue */
  GArray            *outputs;      /* GValue, made by the worker */
  GError            *error;        /* the input that failed ends the chunk */
  GError            *emitted_error;/* from ag_multi_task_emit_error(), for the input running */
  AgPipeFunc         func;
  gpointer           user_data;
  gboolean           apply_single;
  guint              position;     /* of the input the function works on, one by one */
  GCancellable      *cancellable;  /* strong */
};

AgPipeChunk *_ag_pipe_chunk_new           (AgMultiTask       *multi,
                                           AgCompletionQueue *queue,
                                           GCancellable      *cancellable,
                                           GArray            *inputs);
void         _ag_pipe_chunk_free          (AgPipeChunk       *chunk);

/* ag-pipe.c */
AgPipe      *_ag_pipe_new                 (AgPipeFunc         func,
                                           gpointer           user_data,
                                           GDestroyNotify     destroy);
void         _ag_pipe_free                (AgPipe            *self);
void         _ag_pipe_set_input_reader    (AgPipe            *self,
                                           AgChannelReader   *input,
                                           AgMultiTask       *upstream);
void         _ag_pipe_set_input_model     (AgPipe            *self,
                                           GListModel        *model);
void         _ag_pipe_set_input_range     (AgPipe            *self,
                                           gint64             n_items);
void         _ag_pipe_start               (AgPipe            *self,
                                           AgMultiTask       *multi);
void         _ag_pipe_cancel              (AgPipe            *self);
void         _ag_pipe_stopped             (AgPipe            *self);
/* Returns whether the pipe took the chunk. */
gboolean     _ag_pipe_chunk_done          (AgPipe            *self,
                                           AgPipeChunk       *chunk);

/* ag-multi-task.c */
AgMultiTask *_ag_multi_task_new_for_pipe  (AgPipe            *pipe);
AgPipe      *_ag_multi_task_get_pipe      (AgMultiTask       *self);
gboolean     _ag_multi_task_is_started    (AgMultiTask       *self);

G_END_DECLS
