/* ag-map-chunk.c: a run of inputs one worker maps in a row
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "ag-error.h"
#include "ag-map-chunk-private.h"
#include "ag-task-private.h"
#include "ag-values-private.h"

/* A mapping MultiTask hands its inputs to workers in chunks: a chunk of one
 * for slow inputs, so max-workers means what it says, and of thousands for
 * trivial ones, so a million inputs cost a few hundred queue operations
 * instead of a million. The worker writes each result straight into the
 * MultiTask's value array (the slots of a chunk belong to its worker until
 * the chunk is delivered), then queues the chunk itself as its completion. */

static void
release_values (AgMapChunk *chunk)
{
  if (!chunk->needs_clear)
    return;

  for (guint i = 0; i < chunk->n_done; i++)
    if (G_IS_VALUE (&chunk->values[i]))
      g_value_unset (&chunk->values[i]);
}

static void
chunk_deliver (AgNode   *node,
               gpointer  owner)
{
  AgEngine *engine = owner;
  AgMapChunk *chunk = (AgMapChunk *) node;

  /* Values nobody will see (the task was cancelled, or the engine is gone)
   * are freed here, so the MultiTask only ever frees values it took. */
  if (engine == NULL || !_ag_multi_task_chunk_done (chunk->multi, chunk))
    release_values (chunk);

  _ag_map_chunk_free (chunk);
}

static void
record_failure (AgMapChunk *chunk,
                guint       position,
                GError     *error)
{
  AgMapFailure failure = { position, error };

  if (chunk->failures == NULL)
    chunk->failures = g_array_new (FALSE, FALSE, sizeof (AgMapFailure));
  g_array_append_val (chunk->failures, failure);
}

static gboolean
map_one (AgMapChunk  *chunk,
         guint        i,
         GValue      *slot,
         GError     **error)
{
  GValue *value;

  if (chunk->func != NULL)
    return chunk->func (chunk->items[i], slot, chunk->user_data, chunk->cancellable, error);

  value = chunk->range_func (chunk->start + i, chunk->user_data, chunk->cancellable, error);
  if (value == NULL)
    return error == NULL || *error == NULL;

  /* The slot takes the contents; only the box is freed. */
  *slot = *value;
  g_free (value);
  return TRUE;
}

static void
chunk_run (AgWork *work)
{
  AgMapChunk *chunk = (AgMapChunk *) work;
  gint64 started = g_get_monotonic_time ();
  GType last_type = G_TYPE_INVALID;
  guint i;

  /* The MultiTask leaves its value array uninitialized so that starting a
   * million inputs costs the engine's thread nothing; each worker zeroes
   * its own slots. */
  memset (chunk->values, 0, chunk->count * sizeof (GValue));

  for (i = 0; i < chunk->count; i++)
    {
      GValue *slot = &chunk->values[i];
      GError *error = NULL;

      if (g_cancellable_is_cancelled (chunk->cancellable))
        break;

      if (!map_one (chunk, i, slot, &error))
        {
          if (error == NULL)
            error = g_error_new_literal (AG_ERROR, AG_ERROR_NO_RESULT,
                                         _("The map function failed without saying why"));
          if (G_IS_VALUE (slot))
            g_value_unset (slot);
          record_failure (chunk, chunk->start + i, error);
        }
      else if (G_VALUE_TYPE (slot) != last_type)
        {
          last_type = G_VALUE_TYPE (slot);
          if (last_type != G_TYPE_INVALID && _ag_value_type_needs_clear (last_type))
            chunk->needs_clear = TRUE;
        }
    }

  chunk->n_done = i;
  chunk->elapsed_us = g_get_monotonic_time () - started;

  chunk->work.node.deliver = chunk_deliver;
  _ag_completion_queue_push (chunk->queue, &chunk->work.node);
}

static void
chunk_drop (AgWork *work)
{
  _ag_map_chunk_free ((AgMapChunk *) work);
}

AgMapChunk *
_ag_map_chunk_new (AgMultiTask       *multi,
                   AgCompletionQueue *queue,
                   guint              start,
                   guint              count)
{
  AgMapChunk *chunk = g_new0 (AgMapChunk, 1);

  chunk->queue = _ag_completion_queue_ref (queue);
  chunk->work.run = chunk_run;
  chunk->work.drop = chunk_drop;
  chunk->multi = g_object_ref (multi);
  chunk->start = start;
  chunk->count = count;
  chunk->cancellable = g_object_ref (ag_task_get_cancellable (AG_TASK (multi)));

  return chunk;
}

void
_ag_map_chunk_free (AgMapChunk *chunk)
{
  if (chunk->owns_items)
    {
      for (guint i = 0; i < chunk->count; i++)
        g_clear_object (&chunk->items[i]);
      g_free (chunk->items);
    }

  if (chunk->failures != NULL)
    {
      for (guint i = 0; i < chunk->failures->len; i++)
        g_clear_error (&g_array_index (chunk->failures, AgMapFailure, i).error);
      g_array_unref (chunk->failures);
    }

  g_clear_object (&chunk->cancellable);
  g_clear_pointer (&chunk->queue, _ag_completion_queue_unref);
  /* A chunk ends on a worker when the engine has gone. */
  _ag_task_unref_at_home (AG_TASK (g_steal_pointer (&chunk->multi)));
  g_free (chunk);
}
