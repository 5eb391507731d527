/* bench-cpu.c: CPU-bound items through a MultiTask with default workers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "ag-bench.h"

/* Each item burns about ITEM_MS of one core in a loop that cannot be
 * optimised away (sleeping would not use the processors at all). The ideal
 * is perfect scaling over every core: n × item / cores, with the item's cost
 * measured here rather than assumed, so a calibration that lands at 9.6 ms
 * does not flatter or punish the library.
 *
 * On a shared machine the cores are not always all ours, and then nothing
 * reaches the ideal. So a second baseline, `threads`, measures what the
 * machine actually gives in the same run: one plain thread per core taking
 * items from a shared counter, with no main loop and no result delivery.
 * Both baselines report ratio = wall / ideal like asyncgui does. */

#define ITEM_MS 10.0

/* Written after every timed burn, so the loop's result is used. */
static volatile guint64 burn_sink;

/* xorshift64: each step depends on the previous one, so the compiler can
 * neither skip nor vectorise the loop. */
static guint64
burn (guint64 iterations)
{
  guint64 x = G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);

  for (guint64 i = 0; i < iterations; i++)
    {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }

  return x;
}

static double
time_burn_ms (guint64 iterations)
{
  gint64 start_ns = bench_now_ns ();

  burn_sink = burn (iterations);
  return bench_ms_between (start_ns, bench_now_ns ());
}

/* Finds how many iterations take ITEM_MS on this machine, and what one such
 * item really costs (median of a few, against a noisy neighbour). */
static guint64
calibrate (double *item_ms)
{
  guint64 iterations = 1 << 16;
  g_autoptr(GArray) samples = g_array_new (FALSE, FALSE, sizeof (double));
  double ms;

  /* Long enough that timer resolution and scheduling noise are small. */
  while ((ms = time_burn_ms (iterations)) < 50.0)
    iterations *= 2;
  iterations = (guint64) (iterations * (ITEM_MS / ms));

  for (guint i = 0; i < 5; i++)
    {
      ms = time_burn_ms (iterations);
      g_array_append_val (samples, ms);
    }
  *item_ms = bench_percentile (samples, 0.5);

  return iterations;
}

typedef struct
{
  BenchLoop   *loop;
  guint        n;
  guint64      iterations;
  GPtrArray   *inputs;
  AgMultiTask *multi;
  gboolean     ok;
  gint64       start_ns;
  gint64       end_ns;
  BenchGap    *gap;
} Cpu;

static void
burn_item (AgChunk  *chunk,
           gpointer  item,
           gpointer  user_data)
{
  const guint64 *iterations = user_data;

  ag_chunk_return_uint64 (chunk, burn (*iterations + GPOINTER_TO_UINT (item)));
}

static void
on_cpu_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Cpu *cpu = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value;
  GArray *values;

  cpu->end_ns = bench_now_ns ();
  bench_gap_stop (cpu->gap, cpu->end_ns);
  bench_loop_quit (cpu->loop);

  value = ag_engine_run_finish (bench_loop_get_engine (cpu->loop), result, &error);
  if (value == NULL)
    {
      g_printerr ("ag-bench: error: cpu: the multi-task failed: %s\n",
                  error != NULL ? error->message : "(no value and no error)");
      cpu->ok = FALSE;
      return;
    }

  values = G_VALUE_HOLDS (value, G_TYPE_ARRAY) ? g_value_get_boxed (value) : NULL;
  if (values == NULL || values->len != cpu->n)
    {
      g_printerr ("ag-bench: error: cpu: %u values for %u items\n",
                  values != NULL ? values->len : 0, cpu->n);
      cpu->ok = FALSE;
    }
  g_boxed_free (G_TYPE_VALUE, value);
}

static void
cpu_start (BenchLoop *loop,
           gpointer   user_data)
{
  Cpu *cpu = user_data;

  cpu->loop = loop;
  cpu->start_ns = bench_now_ns ();
  cpu->gap = bench_gap_start (bench_loop_get_context (loop), cpu->start_ns);
  cpu->multi = ag_multi_task_new_map (cpu->inputs, burn_item, &cpu->iterations, NULL);
  ag_engine_run_async (bench_loop_get_engine (loop), AG_TASK (cpu->multi), NULL,
                       on_cpu_done, cpu);
}

typedef struct
{
  guint         n;
  guint64       iterations;
  volatile gint next;       /* atomic: the next item to take */
} Threads;

static gpointer
threads_worker (gpointer user_data)
{
  Threads *threads = user_data;

  while ((guint) g_atomic_int_add (&threads->next, 1) < threads->n)
    burn_sink = burn (threads->iterations);

  return NULL;
}

static double
measure_threads_ms (guint   n,
                    guint64 iterations,
                    guint   n_cores)
{
  Threads threads = { n, iterations, 0 };
  g_autoptr(GPtrArray) workers = g_ptr_array_new ();
  gint64 start_ns = bench_now_ns ();

  for (guint i = 0; i < n_cores; i++)
    g_ptr_array_add (workers, g_thread_new ("ag-bench-cpu", threads_worker, &threads));
  for (guint i = 0; i < n_cores; i++)
    g_thread_join (g_ptr_array_index (workers, i));

  return bench_ms_between (start_ns, bench_now_ns ());
}

gboolean
bench_cpu (guint n)
{
  Cpu cpu = { 0, };
  BenchResult result = BENCH_RESULT_INIT;
  BenchResult ideal = BENCH_RESULT_INIT;
  BenchResult threads = BENCH_RESULT_INIT;
  guint n_cores = g_get_num_processors ();
  double item_ms;

  cpu.n = n;
  cpu.ok = TRUE;
  cpu.iterations = calibrate (&item_ms);
  g_printerr ("ag-bench: cpu: %" G_GUINT64_FORMAT " iterations take %.2f ms; %u cores\n",
              cpu.iterations, item_ms, n_cores);

  cpu.inputs = g_ptr_array_sized_new (n);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (cpu.inputs, GUINT_TO_POINTER (i));

  bench_loop_run ("cpu asyncgui", TRUE, cpu_start, &cpu);

  threads.wall_ms = measure_threads_ms (n, cpu.iterations, n_cores);

  ideal.wall_ms = n * item_ms / n_cores;
  ideal.ratio = 1.0;
  threads.ratio = threads.wall_ms / ideal.wall_ms;
  result.wall_ms = bench_ms_between (cpu.start_ns, cpu.end_ns);
  result.gap_max_ms = bench_gap_get_max_ms (cpu.gap);
  result.gap_p99_ms = bench_gap_get_p99_ms (cpu.gap);
  result.ratio = result.wall_ms / ideal.wall_ms;

  g_clear_pointer (&cpu.gap, bench_gap_free);
  g_clear_pointer (&cpu.inputs, g_ptr_array_unref);
  g_clear_object (&cpu.multi);

  if (!cpu.ok)
    return FALSE;

  bench_report ("cpu", "asyncgui", n, &result);
  bench_report ("cpu", "ideal", n, &ideal);
  bench_report ("cpu", "threads", n, &threads);
  return TRUE;
}
