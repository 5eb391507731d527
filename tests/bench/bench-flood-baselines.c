/* bench-flood-baselines.c: the floods as a skilled GLib programmer writes them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "bench-flood.h"

#include <string.h>

/* The strongest fair baselines of flood-multi and flood-tasks: what someone
 * who knows GLib well writes for the same work without asyncgui. Each one is
 * held to what asyncgui is held to, so a ratio against it means something:
 *
 * - the same N and the same items (the double of each index, as a GValue
 *   where asyncgui makes a GValue: flood-multi's values are "i * 2 into a
 *   GValue" by definition, in an array in input order);
 * - the inputs are built before the clock starts, as asyncgui's are; the
 *   result array is allocated after it starts, as asyncgui's is;
 * - the thread pool is made before the clock starts, as the engine (and
 *   its threads' pool) is, with as many threads as the engine has by
 *   default: one per processor;
 * - every result reaches the GUI thread's context before the clock stops,
 *   and the 60 Hz ticker runs on that context the whole time;
 * - every result is checked, after the clock stops.
 *
 *   gtask-chunk  one GTask per chunk of items (g_task_run_in_thread()): the
 *                worker writes its chunk's values straight into the result
 *                array; the GUI thread counts the chunks' callbacks.
 *   pool-batch   a GThreadPool takes the same chunks; each worker writes its
 *                chunk into the result array and pushes the chunk onto a
 *                GAsyncQueue, which one idle source on the GUI thread drains
 *                a batch at a time.
 *   pool-item    (flood-tasks) one GThreadPool job per item; each worker
 *                pushes its value onto a GAsyncQueue, which one idle source
 *                drains a batch at a time, handling every value on the GUI
 *                thread as asyncgui's completion callback does.
 */

/* Chunks per processor: enough that a preempted worker's chunk does not
 * hold the whole flood back, few enough that a chunk's cost is nothing. */
#define CHUNKS_PER_CORE 4

/* Items the GUI thread takes per turn of the main loop (pool-item), so a
 * frame can get through between batches. */
#define BATCH 4096

/* The consumers run below GTK 4's redraw priority (G_PRIORITY_HIGH_IDLE +
 * 20), so a frame is never kept waiting behind a batch. */
#define CONSUMER_PRIORITY G_PRIORITY_DEFAULT_IDLE

/* GAsyncQueue and GThreadPool refuse NULL, so a number travels as itself
 * plus one. */
#define NUMBER_TO_POINTER(i) GUINT_TO_POINTER ((i) + 1)
#define POINTER_TO_NUMBER(p) (GPOINTER_TO_UINT (p) - 1)

typedef struct
{
  Flood *flood;
  guint  first;
  guint  count;
} Chunk;

static guint
count_chunks (guint n)
{
  guint n_chunks = g_get_num_processors () * CHUNKS_PER_CORE;

  return MAX (MIN (n_chunks, n), 1);
}

/* Splits the flood into chunks of nearly equal size. */
static Chunk *
make_chunks (Flood *flood,
             guint  n_chunks)
{
  Chunk *chunks = g_new0 (Chunk, n_chunks);
  guint first = 0;

  for (guint c = 0; c < n_chunks; c++)
    {
      guint end = (guint) ((guint64) flood->n * (c + 1) / n_chunks);

      chunks[c] = (Chunk) { flood, first, end - first };
      first = end;
    }

  return chunks;
}

/* The result array, as asyncgui's: allocated on the GUI thread but not
 * touched there. Each worker zeroes the slots of its own chunk before
 * filling them, so the pages of a big array are faulted in and cleared by
 * the workers, in parallel, not by the submitting call. The values are
 * plain numbers: nothing to unset when the array goes. */
static void
make_values (Flood *flood)
{
  flood->values = g_array_sized_new (FALSE, FALSE, sizeof (GValue), flood->n);
  g_array_set_size (flood->values, flood->n);
}

/* A worker's part: the chunk's values, in place. */
static void
fill_chunk (const Chunk *chunk)
{
  Flood *flood = chunk->flood;

  memset (&g_array_index (flood->values, GValue, chunk->first), 0,
          chunk->count * sizeof (GValue));
  for (guint i = chunk->first; i < chunk->first + chunk->count; i++)
    {
      GValue *value = &g_array_index (flood->values, GValue, i);

      g_value_init (value, G_TYPE_UINT);
      g_value_set_uint (value, GPOINTER_TO_UINT (g_ptr_array_index (flood->inputs, i)) * 2);
    }
}

/* After the clock: the values of a flood-multi baseline. */
static gboolean
finish_multi (Flood       *flood,
              const char  *impl,
              BenchResult *result)
{
  if (flood->ok && flood->n_done == flood->n_expected)
    flood_check_values (flood, impl, flood->values);

  return flood_finish (flood, impl, result);
}

/* gtask-chunk */

static void
gtask_fill_chunk (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  fill_chunk (task_data);
  g_task_return_boolean (task, TRUE);
}

static void
on_gtask_chunk_done (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Flood *flood = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    flood_fail (flood, "gtask-chunk: a chunk failed: %s",
                error != NULL ? error->message : "(no error)");

  if (++flood->n_done == flood->n_expected)
    flood_end (flood);
}

typedef struct
{
  Flood *flood;
  Chunk *chunks;
} ChunkedFlood;

static void
gtask_chunk_start (BenchLoop *loop,
                   gpointer   user_data)
{
  ChunkedFlood *self = user_data;
  Flood *flood = self->flood;

  flood_begin (flood, loop);
  make_values (flood);
  for (guint c = 0; c < flood->n_expected; c++)
    {
      g_autoptr(GTask) task = g_task_new (NULL, NULL, on_gtask_chunk_done, flood);

      g_task_set_task_data (task, &self->chunks[c], NULL);
      g_task_run_in_thread (task, gtask_fill_chunk);
    }
  flood_submitted (flood);
}

gboolean
bench_flood_multi_gtask_chunk (guint        n,
                               BenchResult *result)
{
  Flood flood;
  ChunkedFlood self = { &flood, NULL };
  gboolean ok;

  flood_init (&flood, n, count_chunks (n));
  flood_make_inputs (&flood);
  self.chunks = make_chunks (&flood, flood.n_expected);

  bench_loop_run ("flood-multi gtask-chunk", FALSE, gtask_chunk_start, &self);

  ok = finish_multi (&flood, "gtask-chunk", result);
  g_free (self.chunks);
  return ok;
}

/* The GUI side of both pool baselines: a GAsyncQueue of results, drained
 * by one idle source at a time. The GUI thread must neither poll (an idle
 * that stays attached while the queue is empty spins it at 100%, a core
 * taken from the workers) nor be woken once per item (an idle per result
 * is GTask's flood again). So a worker that pushes while no consumer is
 * scheduled attaches one, and it stays attached, a batch per turn of the
 * loop, until it finds the queue empty. The flag is guarded by the queue's
 * own lock, taken for the push anyway, so no result can slip in between
 * the consumer's last look and its leaving unnoticed. */

typedef struct
{
  Flood        *flood;
  GThreadPool  *pool;
  GAsyncQueue  *results;
  GMainContext *context;    /* a ref: a worker may attach to it late */
  gboolean      scheduled;  /* the results' lock */
  GSourceFunc   consume;
  Chunk        *chunks;     /* pool-batch */
} PoolFlood;

static void
pool_push_result (PoolFlood *self,
                  gpointer   result)
{
  gboolean schedule;

  g_async_queue_lock (self->results);
  g_async_queue_push_unlocked (self->results, result);
  schedule = !self->scheduled;
  self->scheduled = TRUE;
  g_async_queue_unlock (self->results);

  if (schedule)
    {
      g_autoptr(GSource) idle = g_idle_source_new ();

      g_source_set_priority (idle, CONSUMER_PRIORITY);
      g_source_set_callback (idle, self->consume, self, NULL);
      g_source_attach (idle, self->context);
    }
}

/* Whether the consumer should stay attached: not once the queue is empty,
 * checked under the lock that pool_push_result() takes. */
static gboolean
pool_keep_consuming (PoolFlood *self)
{
  gboolean keep;

  g_async_queue_lock (self->results);
  keep = g_async_queue_length_unlocked (self->results) > 0;
  self->scheduled = keep;
  g_async_queue_unlock (self->results);

  return keep;
}

static void
pool_start (BenchLoop *loop,
            gpointer   user_data)
{
  PoolFlood *self = user_data;
  Flood *flood = self->flood;
  g_autoptr(GError) error = NULL;

  flood_begin (flood, loop);
  self->context = g_main_context_ref (bench_loop_get_context (loop));

  if (self->chunks != NULL)
    {
      make_values (flood);
      for (guint c = 0; c < flood->n_expected && error == NULL; c++)
        g_thread_pool_push (self->pool, &self->chunks[c], &error);
    }
  else
    for (guint i = 0; i < flood->n && error == NULL; i++)
      g_thread_pool_push (self->pool, NUMBER_TO_POINTER (i), &error);

  flood_submitted (flood);

  if (error != NULL)
    {
      flood_fail (flood, "thread pool: %s", error->message);
      flood_end (flood);
    }
}

/* Runs one pool baseline: the pool is made before the clock starts and
 * freed, its workers joined, after it stops. */
static gboolean
pool_run (PoolFlood *self,
          const char *what,
          GFunc       work)
{
  g_autoptr(GError) error = NULL;

  self->results = g_async_queue_new ();
  self->pool = g_thread_pool_new (work, self, g_get_num_processors (), FALSE, &error);
  if (self->pool == NULL)
    {
      g_printerr ("ag-bench: error: %s: no thread pool: %s\n", what, error->message);
      g_async_queue_unref (self->results);
      return FALSE;
    }

  bench_loop_run (what, FALSE, pool_start, self);

  g_thread_pool_free (self->pool, FALSE, TRUE);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->results, g_async_queue_unref);
  return TRUE;
}

/* pool-batch */

static void
pool_fill_chunk (gpointer data,
                 gpointer user_data)
{
  fill_chunk (data);
  pool_push_result (user_data, data);
}

static gboolean
consume_chunks (gpointer user_data)
{
  PoolFlood *self = user_data;
  Flood *flood = self->flood;
  gpointer chunk;

  while ((chunk = g_async_queue_try_pop (self->results)) != NULL)
    if (++flood->n_done == flood->n_expected)
      {
        flood_end (flood);
        return G_SOURCE_REMOVE;
      }

  return pool_keep_consuming (self) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

gboolean
bench_flood_multi_pool_batch (guint        n,
                              BenchResult *result)
{
  Flood flood;
  PoolFlood self = { &flood, };
  gboolean ok;

  flood_init (&flood, n, count_chunks (n));
  flood_make_inputs (&flood);
  self.chunks = make_chunks (&flood, flood.n_expected);
  self.consume = consume_chunks;

  ok = pool_run (&self, "flood-multi pool-batch", pool_fill_chunk);
  ok = finish_multi (&flood, "pool-batch", result) && ok;
  g_free (self.chunks);
  return ok;
}

/* pool-item */

static void
pool_double_item (gpointer data,
                  gpointer user_data)
{
  flood_item_ran ();
  pool_push_result (user_data, NUMBER_TO_POINTER (POINTER_TO_NUMBER (data) * 2));
}

/* Up to BATCH values per turn of the loop, each handled on its own as a
 * completion callback would be: checked, added up, counted. */
static gboolean
consume_items (gpointer user_data)
{
  PoolFlood *self = user_data;
  Flood *flood = self->flood;
  guint taken;

  for (taken = 0; taken < BATCH; taken++)
    {
      gpointer result = g_async_queue_try_pop (self->results);
      guint value;

      if (result == NULL)
        break;

      value = POINTER_TO_NUMBER (result);
      if (value % 2 != 0 || value / 2 >= flood->n)
        flood_fail (flood, "pool-item: a value is %u, not the double of an index", value);
      flood->sum += value;

      if (++flood->n_done == flood->n_expected)
        {
          flood_end (flood);
          return G_SOURCE_REMOVE;
        }
    }

  if (taken == BATCH)
    return G_SOURCE_CONTINUE;

  return pool_keep_consuming (self) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

gboolean
bench_flood_tasks_pool_item (guint        n,
                             BenchResult *result)
{
  Flood flood;
  PoolFlood self = { &flood, };
  gboolean ok;

  flood_init (&flood, n, n);
  self.consume = consume_items;

  ok = pool_run (&self, "flood-tasks pool-item", pool_double_item);

  if (flood.ok && flood.n_done == n && flood.sum != flood_expected_sum (n))
    flood_fail (&flood, "pool-item: values add up to %" G_GUINT64_FORMAT ", expected %"
                G_GUINT64_FORMAT, flood.sum, flood_expected_sum (n));

  return flood_finish (&flood, "pool-item", result) && ok;
}
