/* ag-chunk-run.c: a run of inputs one worker passes through a map or
 * pipeline function
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ag-chunk-private.h"
#include "ag-chunk-run-private.h"
#include "ag-task-private.h"
#include "ag-values-private.h"
#include "ag-work-cancellable-private.h"

/* Mapping MultiTasks and pipelines hand their inputs to workers in runs
 * (chunks): of one input for slow functions, so max-workers means what it
 * says, and of thousands for trivial ones, so a million inputs cost a few
 * hundred queue operations instead of a million. The worker calls the
 * function on each input with one AgChunk handle, then queues the run
 * itself as its completion; on the engine's thread the run's done function
 * hands it to its owner, which alone knows what the outputs mean. So this
 * file knows neither MultiTasks nor pipelines, and they share it.
 *
 * A map writes each value straight into the owner's value array: the slots
 * of a run belong to its worker until the run is delivered. A map run may
 * be timed: it stops once over its budget, and its owner takes back the
 * inputs it did not run. A pipeline collects any number of outputs per
 * input; the first input that fails ends the run, without the outputs it
 * emitted. */

#define CANCEL_CHECK_EVERY 16

/* A map's value array is left untouched until its workers fill it, so
 * every one of its pages faults in on first write, in a run's slots. On
 * Linux a long run asks the kernel to fault in all of its pages at once
 * first, which costs about a quarter less than one fault per page: a
 * million values are 24 MiB, 6,000 pages. Nothing needs it to work: where
 * the kernel does not know the call, the first refusal ends the tries. */
#define POPULATE_FROM_BYTES (64 * 1024)

static void
populate_slots (GValue *slots,
                gsize   bytes)
{
#if defined(MADV_POPULATE_WRITE)
  static gsize page;
  static gint refused;
  guintptr first, end;

  if (bytes < POPULATE_FROM_BYTES || g_atomic_int_get (&refused))
    return;

  if (g_once_init_enter (&page))
    {
      long size = sysconf (_SC_PAGESIZE);

      g_once_init_leave (&page, size > 0 ? (gsize) size : 4096);
    }

  /* The whole pages inside the slots: the pages at either end may be
   * another run's too, and fault in as they are written. */
  first = ((guintptr) slots + page - 1) & ~(guintptr) (page - 1);
  end = ((guintptr) slots + bytes) & ~(guintptr) (page - 1);
  if (end > first
      && madvise ((void *) first, end - first, MADV_POPULATE_WRITE) != 0
      && (errno == EINVAL || errno == ENOSYS))
    g_atomic_int_set (&refused, TRUE);
#endif
}

/* The slots of a run, zeroed: every one of them is the worker's now. */
void
_ag_chunk_run_zero_slots (GValue *slots,
                          guint   count)
{
  gsize bytes = count * sizeof (GValue);

  populate_slots (slots, bytes);
  memset (slots, 0, bytes);
}

/* A timed map run (budget_us) reads the clock after 1, 2, 4, 8… inputs:
 * a few reads per run, however trivial its inputs, and it overshoots its
 * budget at most by the time it had when it last looked. */
static void
run_map (AgChunkRun *run,
         gint64      started)
{
  /* The function could change anything as far as the compiler knows, so
   * what the loop reads of the run is read once, into locals. */
  GCancellable *cancellable = run->cancellable;
  GValue *slots = run->slots;
  gpointer *items = run->items;
  gpointer user_data = run->user_data;
  AgMapFunc map = run->kind == AG_CHUNK_RUN_MAP ? run->func.map : NULL;
  AgRangeFunc range = run->kind == AG_CHUNK_RUN_MAP ? NULL : run->func.range;
  guint first = (guint) run->start;
  guint count = run->count;
  gint64 budget_us = run->budget_us;
  guint min_count = run->min_count;
  guint next_look = budget_us > 0 ? 1 : G_MAXUINT;
  AgChunk *chunk;
  GType last_type = G_TYPE_INVALID;
  guint i;

  /* A run of a cancelled owner leaves its slots alone: nobody reads them,
   * and zeroing them would make the pages of a value array that was never
   * used resident, for every run still queued behind a cancel. */
  if (g_cancellable_is_cancelled (cancellable))
    {
      run->n_done = 0;
      return;
    }

  /* The owner leaves its value array uninitialized so that starting a
   * million inputs costs the engine's thread nothing; each worker zeroes
   * its own slots. */
  _ag_chunk_run_zero_slots (slots, count);
  chunk = _ag_chunk_new (cancellable);

  for (i = 0; i < count; i++)
    {
      GValue *slot = &slots[i];
      guint position = first + i;
      AgFailure *failure = NULL;

      /* A run holds about a millisecond of work (ag-run-size.c), so looking
       * every CANCEL_CHECK_EVERY inputs still stops it within about that,
       * and spares trivial inputs a call each. */
      if (i % CANCEL_CHECK_EVERY == 0 && g_cancellable_is_cancelled (cancellable))
        break;

      _ag_chunk_arm_slot (chunk, slot, position);
      if (map != NULL)
        map (chunk, items[i], user_data);
      else
        range (chunk, position, user_data);

      if (G_UNLIKELY (!_ag_chunk_took_value (chunk, &failure)))
        _ag_chunk_add_failure (&run->failures, position, failure);
      else if (G_VALUE_TYPE (slot) != last_type)
        {
          last_type = G_VALUE_TYPE (slot);
          if (last_type != G_TYPE_INVALID && _ag_value_type_needs_clear (last_type))
            run->needs_clear = TRUE;
        }

      chunk = _ag_chunk_next (chunk);

      if (G_UNLIKELY (i + 1 == next_look))
        {
          next_look *= 2;
          if (i + 1 < count && i + 1 >= min_count
              && g_get_monotonic_time () - started >= budget_us)
            {
              run->over_budget = TRUE;
              i++;
              break;
            }
        }
    }

  _ag_chunk_retire (chunk);
  run->n_done = i;
}

/* Calls the function once on @n_items inputs starting at @items. On
 * failure the outputs it emitted are dropped and the run ends. */
static gboolean
run_pipe_call (AgChunkRun    *run,
               AgChunk      **chunk,
               const GValue  *argument,
               const GValue  *items,
               guint          n_items,
               guint64        position)
{
  guint mark = run->outputs->len;

  _ag_chunk_arm_outputs (*chunk, run->outputs, items, n_items, position);
  run->func.pipe (*chunk, argument, run->user_data);

  if (G_UNLIKELY (!_ag_chunk_took_value (*chunk, &run->failure)))
    {
      g_array_set_size (run->outputs, mark);
      return FALSE;
    }

  *chunk = _ag_chunk_next (*chunk);
  return TRUE;
}

static void
run_pipe (AgChunkRun *run)
{
  AgChunk *chunk = _ag_chunk_new (run->cancellable);
  const GValue *inputs = (const GValue *) run->inputs->data;
  guint i;

  /* A whole chunk is no argument at all: GJS 1.74 cannot convert a value
   * holding an array, and would fail the call before any JavaScript runs.
   * The function reads the inputs from its handle. */
  if (run->kind == AG_CHUNK_RUN_PIPE_WHOLE)
    {
      if (!g_cancellable_is_cancelled (run->cancellable)
          && run_pipe_call (run, &chunk, NULL, inputs, run->count, run->start))
        run->n_done = run->count;
      _ag_chunk_retire (chunk);
      return;
    }

  for (i = 0; i < run->count; i++)
    if (g_cancellable_is_cancelled (run->cancellable)
        || !run_pipe_call (run, &chunk, &inputs[i], &inputs[i], 1, run->start + i))
      break;

  _ag_chunk_retire (chunk);
  run->n_done = i;
}

static void
run_deliver (AgNode   *node,
             gpointer  engine)
{
  AgChunkRun *run = (AgChunkRun *) node;

  if (engine != NULL)
    {
      run->done (run, run->owner);
      return;
    }

  /* Nobody will see what the run made: it is freed here, so an owner only
   * ever frees values it took. */
  _ag_chunk_run_release_values (run);
  _ag_chunk_run_free (run);
}

/* The processor time this thread has used, or -1. */
static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return -1;

  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void
run_work (AgWork *work)
{
  AgChunkRun *run = (AgChunkRun *) work;
  gint64 started = g_get_monotonic_time ();
  /* Only a map reads it (ag-map.c): whether its inputs wait or compute. */
  gboolean timed_for_map = run->kind != AG_CHUNK_RUN_PIPE_SINGLE && run->kind != AG_CHUNK_RUN_PIPE_WHOLE;
  gint64 cpu_started = timed_for_map ? thread_cpu_us () : -1;
  GCancellable *outer = _ag_work_cancellable_enter (run->cancellable);

  if (run->kind == AG_CHUNK_RUN_MAP || run->kind == AG_CHUNK_RUN_RANGE)
    run_map (run, started);
  else if (run->kind == AG_CHUNK_RUN_RANGES)
    _ag_chunk_run_ranges (run);
  else
    run_pipe (run);
  _ag_work_cancellable_leave (outer);
  run->elapsed_us = g_get_monotonic_time () - started;
  run->cpu_us = cpu_started >= 0 ? thread_cpu_us () - cpu_started : -1;

  run->work.node.deliver = run_deliver;
  _ag_completion_queue_push (run->queue, &run->work.node);
}

static void
run_drop (AgWork *work)
{
  _ag_chunk_run_free ((AgChunkRun *) work);
}

AgChunkRun *
_ag_chunk_run_new (AgTask             *owner,
                   AgCompletionQueue  *queue,
                   GCancellable       *cancellable,
                   AgChunkRunDoneFunc  done)
{
  AgChunkRun *run = g_new0 (AgChunkRun, 1);

  run->work.run = run_work;
  run->work.drop = run_drop;
  run->queue = _ag_completion_queue_ref (queue);
  run->owner = g_object_ref (owner);
  run->done = done;
  run->cancellable = g_object_ref (cancellable);

  return run;
}

/* Unsets the values a map run wrote into its owner's slots, for an owner
 * that does not take them. */
void
_ag_chunk_run_release_values (AgChunkRun *run)
{
  if (run->slots == NULL || !run->needs_clear)
    return;

  for (guint i = 0; i < run->n_done; i++)
    _ag_value_clear (&run->slots[i]);
}

void
_ag_chunk_run_free (AgChunkRun *run)
{
  if (run->failures != NULL)
    {
      for (guint i = 0; i < run->failures->len; i++)
        g_clear_pointer (&g_array_index (run->failures, AgChunkFailure, i).failure,
                         _ag_failure_free);
      g_array_unref (run->failures);
    }

  g_clear_pointer (&run->inputs, g_array_unref);
  g_clear_pointer (&run->outputs, g_array_unref);
  g_clear_pointer (&run->failure, _ag_failure_free);
  g_clear_object (&run->cancellable);
  g_clear_pointer (&run->queue, _ag_completion_queue_unref);
  /* A run ends on a worker when the engine has gone. */
  _ag_task_unref_at_home (g_steal_pointer (&run->owner));
  g_free (run);
}
