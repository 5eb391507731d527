/* ag-chunk-ranges.c: a run of a map's children made by one call of a
 * ranges function
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "ag-chunk-run-private.h"

/* A binding's map pays for every call from C into its interpreter (the
 * lock, the conversion of the arguments), which costs more than a trivial
 * function. A ranges function is called once per run: the handle answers
 * the run's positions one after the other, each return moving it on to
 * the next (ag-chunk.c), and ag_chunk_return_values() hands over many in
 * one call. The run then looks exactly like one made input by input: its
 * values in the owner's slots, its failures by position, so the owner
 * (ag-map.c) applies the same rules to both. */

void
_ag_chunk_run_ranges (AgChunkRun *run)
{
  AgChunk *chunk;
  guint answered;

  /* As a map run: a cancelled owner's slots stay untouched. */
  if (g_cancellable_is_cancelled (run->cancellable))
    {
      run->n_done = 0;
      return;
    }
  _ag_chunk_run_zero_slots (run->slots, run->count);

  chunk = _ag_chunk_new (run->cancellable);
  chunk->slot = run->slots;
  chunk->position = run->start;
  chunk->n_left = run->count - 1;
  chunk->n_answered = 0;
  chunk->ranges = TRUE;
  chunk->state = AG_CHUNK_ARMED;

  run->func.ranges (chunk, (guint) run->start, run->count, run->user_data);

  answered = chunk->n_answered;
  run->failures = g_steal_pointer (&chunk->failures);
  chunk->ranges = FALSE;
  _ag_chunk_retire (chunk);

  for (guint i = 0; i < answered; i++)
    if (G_IS_VALUE (&run->slots[i]) && _ag_value_type_needs_clear (G_VALUE_TYPE (&run->slots[i])))
      {
        run->needs_clear = TRUE;
        break;
      }

  /* What a cancelled run made is dropped anyway; otherwise every child
   * the function left unanswered fails, as a map's child does. */
  if (answered < run->count && g_cancellable_is_cancelled (run->cancellable))
    {
      run->n_done = answered;
      return;
    }

  for (guint i = answered; i < run->count; i++)
    _ag_chunk_add_failure (&run->failures, (guint) run->start + i, _ag_chunk_no_result_failure ());
  run->n_done = run->count;
}
