/* ag-pipe-chunk.c: a run of inputs one worker turns into outputs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "ag-error.h"
#include "ag-pipe-private.h"
#include "ag-task-private.h"
#include "ag-values-private.h"

/* A pipeline hands its inputs to workers in chunks sized by what readers
 * wait for. The worker owns the chunk until it queues it back as its own
 * completion; the pipeline then writes the outputs in chunk order. While a
 * chunk runs, its thread knows it, so the function may emit extra outputs
 * with ag_multi_task_emit(). */

static GPrivate current_chunk;

static void
free_value (GValue *value)
{
  g_boxed_free (G_TYPE_VALUE, value);
}

/* Moves the contents of a heap value to the end of @outputs. */
static void
append_taken (GArray *outputs,
              GValue *value)
{
  g_array_append_vals (outputs, value, 1);
  g_free (value);
}

/* An error the function emitted counts as the one it returned, unless it
 * returned one itself. */
static void
take_emitted_error (AgPipeChunk  *chunk,
                    GError      **error)
{
  if (chunk->emitted_error == NULL)
    return;
  if (*error == NULL)
    *error = g_steal_pointer (&chunk->emitted_error);
  else
    g_clear_error (&chunk->emitted_error);
}

/* Runs the function on @item. An error, returned or emitted, ends the
 * chunk there. */
static gboolean
call (AgPipeChunk   *chunk,
      const GValue  *item,
      GValue       **out)
{
  GError *error = NULL;

  *out = chunk->func (item, chunk->user_data, chunk->cancellable, &error);
  take_emitted_error (chunk, &error);
  if (error == NULL)
    return TRUE;

  g_clear_pointer (out, free_value);
  chunk->error = error;
  return FALSE;
}

static void
run_single (AgPipeChunk *chunk)
{
  for (guint i = 0; i < chunk->inputs->len; i++)
    {
      GValue *out;

      if (g_cancellable_is_cancelled (chunk->cancellable))
        return;

      chunk->position = i;
      if (!call (chunk, &g_array_index (chunk->inputs, GValue, i), &out))
        return;
      if (out != NULL)
        append_taken (chunk->outputs, out);
    }
}

static void
run_whole (AgPipeChunk *chunk)
{
  g_auto(GValue) items = G_VALUE_INIT;
  GValue *out;

  g_value_init (&items, G_TYPE_ARRAY);
  g_value_set_boxed (&items, chunk->inputs);

  if (!call (chunk, &items, &out) || out == NULL)
    return;

  if (!G_VALUE_HOLDS (out, G_TYPE_ARRAY))
    {
      chunk->error = g_error_new (AG_ERROR, AG_ERROR_NO_RESULT,
                                  _("A pipeline function given a whole chunk returned a “%s”, "
                                    "not an array of values"),
                                  G_VALUE_TYPE_NAME (out));
      free_value (out);
      return;
    }

  if (g_value_get_boxed (out) != NULL)
    {
      GArray *values = g_value_get_boxed (out);

      for (guint i = 0; i < values->len; i++)
        {
          GValue copy = G_VALUE_INIT;

          _ag_value_init_copy (&copy, &g_array_index (values, GValue, i));
          g_array_append_vals (chunk->outputs, &copy, 1);
        }
    }
  free_value (out);
}

static void
chunk_deliver (AgNode   *node,
               gpointer  owner)
{
  AgEngine *engine = owner;
  AgPipeChunk *chunk = (AgPipeChunk *) node;

  if (engine == NULL || !_ag_pipe_chunk_done (_ag_multi_task_get_pipe (chunk->multi), chunk))
    _ag_pipe_chunk_free (chunk);
}

static void
chunk_run (AgWork *work)
{
  AgPipeChunk *chunk = (AgPipeChunk *) work;
  gpointer outer = g_private_get (&current_chunk);

  /* In serial mode a chunk may run inside another's function. */
  g_private_set (&current_chunk, chunk);
  if (chunk->apply_single)
    run_single (chunk);
  else
    run_whole (chunk);
  g_private_set (&current_chunk, outer);

  chunk->work.node.deliver = chunk_deliver;
  _ag_completion_queue_push (chunk->queue, &chunk->work.node);
}

static void
chunk_drop (AgWork *work)
{
  _ag_pipe_chunk_free ((AgPipeChunk *) work);
}

AgPipeChunk *
_ag_pipe_chunk_new (AgMultiTask       *multi,
                    AgCompletionQueue *queue,
                    GCancellable      *cancellable,
                    GArray            *inputs)
{
  AgPipeChunk *chunk = g_new0 (AgPipeChunk, 1);

  chunk->work.run = chunk_run;
  chunk->work.drop = chunk_drop;
  chunk->multi = g_object_ref (multi);
  chunk->queue = _ag_completion_queue_ref (queue);
  chunk->cancellable = g_object_ref (cancellable);
  chunk->inputs = inputs;
  chunk->outputs = _ag_value_array_new (inputs->len);

  return chunk;
}

void
_ag_pipe_chunk_free (AgPipeChunk *chunk)
{
  g_clear_pointer (&chunk->inputs, g_array_unref);
  g_clear_pointer (&chunk->outputs, g_array_unref);
  g_clear_error (&chunk->error);
  g_clear_error (&chunk->emitted_error);
  g_clear_object (&chunk->cancellable);
  g_clear_pointer (&chunk->queue, _ag_completion_queue_unref);
  /* A chunk ends on a worker when the engine has gone. */
  _ag_task_unref_at_home (AG_TASK (g_steal_pointer (&chunk->multi)));
  g_free (chunk);
}

/* The chunk whose function is running on this thread, if it is @self's. */
static AgPipeChunk *
running_chunk_of (AgMultiTask *self,
                  const char  *strfunc)
{
  AgPipeChunk *chunk = g_private_get (&current_chunk);

  if (chunk == NULL || chunk->multi != self)
    {
      g_critical ("%s: only the function of the pipeline %p may call this, on its own "
                  "thread while it runs", strfunc, self);
      return NULL;
    }

  return chunk;
}

/**
 * ag_multi_task_emit:
 * @self: the pipeline whose function is running
 * @value: an output; it is copied
 *
 * Adds an output for the input the pipeline's [callback@PipeFunc] is
 * working on, ahead of the value it returns. Only that function may call
 * it, on its own thread, while it runs: a function can so make any number
 * of outputs from one input (none, to filter it out), and bindings that
 * cannot return a [struct@GObject.Value] from a callback emit it instead.
 *
 * Thread: the thread running the pipeline's function, inside the call.
 *
 * Since: 1.0
 */
void
ag_multi_task_emit (AgMultiTask  *self,
                    const GValue *value)
{
  AgPipeChunk *chunk;
  GValue copy = G_VALUE_INIT;

  g_return_if_fail (AG_IS_MULTI_TASK (self));
  g_return_if_fail (value != NULL && G_IS_VALUE (value));

  if ((chunk = running_chunk_of (self, G_STRFUNC)) == NULL)
    return;

  _ag_value_init_copy (&copy, value);
  g_array_append_vals (chunk->outputs, &copy, 1);
}

/**
 * ag_multi_task_emit_error:
 * @self: the pipeline whose function is running
 * @error: why the input failed; it is copied
 *
 * Fails the input the pipeline's [callback@PipeFunc] is working on, as if
 * the function had returned @error: the pipeline ends with it once the
 * outputs of the inputs before are written. For bindings whose callbacks
 * cannot set a #GError. Only the function may call it, on its own thread,
 * while it runs; the first error emitted for an input wins.
 *
 * Thread: the thread running the pipeline's function, inside the call.
 *
 * Since: 1.0
 */
void
ag_multi_task_emit_error (AgMultiTask  *self,
                          const GError *error)
{
  AgPipeChunk *chunk;

  g_return_if_fail (AG_IS_MULTI_TASK (self));
  g_return_if_fail (error != NULL);

  if ((chunk = running_chunk_of (self, G_STRFUNC)) == NULL)
    return;

  if (chunk->emitted_error == NULL)
    chunk->emitted_error = g_error_copy (error);
}

/**
 * ag_multi_task_dup_chunk_items:
 * @self: the pipeline whose function is running
 *
 * Gets copies of the inputs the pipeline's [callback@PipeFunc] is working
 * on: all the items of its chunk when [property@MultiTask:apply-single] is
 * unset, else the one input. The function passed a whole chunk gets the
 * same items inside its argument; this is for bindings that cannot read
 * an array inside a [struct@GObject.Value]. Only the function may call
 * it, on its own thread, while it runs.
 *
 * Thread: the thread running the pipeline's function, inside the call.
 *
 * Returns: (transfer full) (element-type GValue) (nullable): the items, in
 *   input order, or %NULL if no function of @self runs on this thread
 *
 * Since: 1.0
 */
GArray *
ag_multi_task_dup_chunk_items (AgMultiTask *self)
{
  AgPipeChunk *chunk;
  const GValue *items;
  GArray *copy;
  guint n;

  g_return_val_if_fail (AG_IS_MULTI_TASK (self), NULL);

  if ((chunk = running_chunk_of (self, G_STRFUNC)) == NULL)
    return NULL;

  if (chunk->apply_single)
    {
      items = &g_array_index (chunk->inputs, GValue, chunk->position);
      n = 1;
    }
  else
    {
      items = (const GValue *) chunk->inputs->data;
      n = chunk->inputs->len;
    }

  copy = _ag_value_array_new (n);
  g_array_set_size (copy, n);
  for (guint i = 0; i < n; i++)
    _ag_value_init_copy (&g_array_index (copy, GValue, i), &items[i]);

  return copy;
}
