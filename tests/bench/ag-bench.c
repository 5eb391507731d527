/* ag-bench.c: the benchmark's command line and its list of workloads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: ag-bench [WORKLOAD...] [--n N] [--with-10m]
 *
 * Runs each workload with asyncgui and with its baselines in the same run
 * and prints one line per measurement on stdout, as BENCHMARKS.md
 * specifies; everything else goes to stderr. Exits non-zero if any result
 * was wrong. tests/bench/run-all.sh runs it for several rounds and makes
 * a table of the lines.
 */

#include <math.h>
#include <stdlib.h>

#include "ag-bench.h"
#include "bench-flood.h"

typedef gboolean (*BenchWorkloadFunc) (guint n);

typedef struct
{
  const char        *name;
  guint              default_n;
  gboolean           fixed_n;    /* --n does not apply */
  BenchWorkloadFunc  run;
  const char        *summary;
} BenchWorkload;

/* Growth is measured at these sizes, a factor of ten apart; 10M only when
 * asked (--with-10m): its per-item GTask floods take half a minute and
 * several GiB each. */
static const guint growth_sizes[] = { 10000, 100000, 1000000, 10000000 };
static gboolean growth_10m;

static guint
n_growth_sizes (void)
{
  return G_N_ELEMENTS (growth_sizes) - (growth_10m ? 0 : 1);
}

/* Every implementation of each workload, asyncgui's first, then the
 * strongest fair baselines, then the per-item GTask (what most code does
 * today, never the bar), then the floors. The names are BENCHMARKS.md's. */

static const BenchImpl flood_multi_impls[] = {
  { "asyncgui", bench_flood_multi_asyncgui },
  { "gtask-chunk", bench_flood_multi_gtask_chunk },
  { "pool-batch", bench_flood_multi_pool_batch },
  { "gtask", bench_flood_gtask },
};

static const BenchImpl flood_tasks_impls[] = {
  { "asyncgui", bench_flood_tasks_asyncgui },
  { "pool-item", bench_flood_tasks_pool_item },
  { "gtask", bench_flood_gtask },
  { "floor-gobject", bench_floor_gobject },
};

/* flood-tasks' implementations but the floor, which has no GUI thread to
 * hold up. */
static const BenchImpl backlog_impls[] = {
  { "asyncgui", bench_flood_tasks_asyncgui },
  { "pool-item", bench_flood_tasks_pool_item },
  { "gtask", bench_flood_gtask },
};

static const BenchImpl chain_impls[] = {
  { "asyncgui", bench_chain_asyncgui },
  { "asyncgui-job", bench_chain_job },
  { "loop-queue", bench_chain_loop_queue },
  { "gtask", bench_chain_gtask },
  { "floor-thread", bench_floor_thread },
};

static const BenchImpl process_impls[] = {
  { "asyncgui", bench_process_asyncgui },
  { "asyncgui-sandboxed", bench_process_sandboxed },
  { "asyncgui-cold", bench_process_cold },
  { "asyncgui-sandboxed-cold", bench_process_sandboxed_cold },
  { "asyncgui-python", bench_process_python },
  { "loop-pipe", bench_process_loop_pipe },
  { "floor-pipe", bench_floor_pipe },
  { "spawn", bench_process_spawn },
  { "asyncgui-command", bench_process_command },
};

static const BenchImpl blocking_impls[] = {
  { "asyncgui", bench_blocking_asyncgui },
  { "gtask", bench_blocking_gtask },
  { "ideal", bench_blocking_ideal },
};

static const BenchImpl pipeline_impls[] = {
  { "asyncgui", bench_pipeline_asyncgui },
  { "pool-batch", bench_pipeline_pool_batch },
};

/* --impl: measure only the implementations named, e.g. to profile one. */
static char **only_impls;

static gboolean
impl_selected (const char *name)
{
  return only_impls == NULL || g_strv_contains ((const char * const *) only_impls, name);
}

static int
compare_wall (gconstpointer a,
              gconstpointer b)
{
  const BenchResult *ra = a;
  const BenchResult *rb = b;

  return (ra->wall_ms > rb->wall_ms) - (ra->wall_ms < rb->wall_ms);
}

/* Runs every implementation @reps times, taking turns so a machine that
 * drifts affects all alike, and reports each one's run with the median wall
 * time, so its other figures (gap, rate) belong to one real run rather than
 * being medians of different ones. An implementation that ever gave a
 * wrong result is not reported at all. */
static gboolean
measure_impls (const char      *workload,
               guint            n,
               guint            reps,
               const BenchImpl *impls,
               guint            n_impls)
{
  g_autofree GArray **results = g_new0 (GArray *, n_impls);
  g_autofree gboolean *impl_ok = g_new0 (gboolean, n_impls);
  gboolean ok = TRUE;

  for (guint i = 0; i < n_impls; i++)
    {
      results[i] = g_array_new (FALSE, FALSE, sizeof (BenchResult));
      impl_ok[i] = TRUE;
    }

  for (guint rep = 0; rep < reps; rep++)
    for (guint i = 0; i < n_impls; i++)
      {
        BenchResult result = BENCH_RESULT_INIT;

        if (!impl_selected (impls[i].name))
          continue;
        impl_ok[i] &= impls[i].measure (n, &result);
        g_array_append_val (results[i], result);
      }

  for (guint i = 0; i < n_impls; i++)
    {
      if (impl_ok[i] && results[i]->len > 0)
        {
          g_array_sort (results[i], compare_wall);
          bench_report (workload, impls[i].name, n,
                        &g_array_index (results[i], BenchResult, results[i]->len / 2));
        }
      ok &= impl_ok[i];
      g_array_unref (results[i]);
    }

  return ok;
}

static gboolean
measure_flood_multi (guint n,
                     guint reps)
{
  return measure_impls ("flood-multi", n, reps, flood_multi_impls,
                        G_N_ELEMENTS (flood_multi_impls));
}

static gboolean
measure_flood_tasks (guint n,
                     guint reps)
{
  return measure_impls ("flood-tasks", n, reps, flood_tasks_impls,
                        G_N_ELEMENTS (flood_tasks_impls));
}

/* bench_memory() runs its own alternating rounds. */
static gboolean
measure_memory (guint n,
                guint reps)
{
  return bench_memory (n);
}

/* A small flood lasts a millisecond or less, where one preemption on a
 * shared machine is the whole measurement: small sizes are repeated and
 * their median reported. */
static guint
growth_reps (guint n)
{
  if (n <= 10000)
    return 5;
  if (n <= 100000)
    return 3;
  return 1;
}

static gboolean
run_flood_multi (guint n)
{
  return measure_flood_multi (n, growth_reps (n));
}

static gboolean
run_flood_tasks (guint n)
{
  return measure_flood_tasks (n, growth_reps (n));
}

static gboolean
run_backlog (guint n)
{
  gboolean ok;

  bench_flood_backlog = TRUE;
  ok = measure_impls ("backlog", n, 1, backlog_impls, G_N_ELEMENTS (backlog_impls));
  bench_flood_backlog = FALSE;

  return ok;
}

static gboolean
run_chain (guint n)
{
  return measure_impls ("chain", n, 1, chain_impls, G_N_ELEMENTS (chain_impls));
}

static gboolean
run_process (guint n)
{
  return measure_impls ("process", n, 1, process_impls, G_N_ELEMENTS (process_impls));
}

static gboolean
run_blocking (guint n)
{
  return measure_impls ("blocking", n, 1, blocking_impls, G_N_ELEMENTS (blocking_impls));
}

/* How fast a measured quantity grows with n between two sizes: 1 is linear,
 * 2 quadratic; below 1 means a fixed cost still dominates. */
static double
growth_exponent (double y1,
                 guint  n1,
                 double y2,
                 guint  n2)
{
  return log (y2 / y1) / log ((double) n2 / n1);
}

static void
summarize_time_growth (const char      *workload,
                       const BenchImpl *impls,
                       guint            n_impls)
{
  for (guint k = 0; k < n_impls; k++)
    {
      const BenchResult *prev = NULL;
      guint prev_n = 0;

      g_printerr ("ag-bench: growth: %s %s: us/item", workload, impls[k].name);
      for (guint i = 0; i < n_growth_sizes (); i++)
        {
          guint n = growth_sizes[i];
          const BenchResult *result = bench_lookup (workload, impls[k].name, n);

          if (result == NULL)
            continue;
          g_printerr (" n=%u:%.3f", n, result->wall_ms * 1000.0 / n);
          if (prev != NULL)
            g_printerr (" (time exponent %.2f)",
                        growth_exponent (prev->wall_ms, prev_n, result->wall_ms, n));
          prev = result;
          prev_n = n;
        }
      g_printerr ("\n");
    }
}

/* Peak RSS has a fixed part (the process, GLib, thread stacks), so what
 * shows linearity is the cost of each extra item between two sizes. */
static void
summarize_memory_growth (const char *impl)
{
  const BenchResult *prev = NULL;
  guint prev_n = 0;

  g_printerr ("ag-bench: growth: memory %s: MB", impl);
  for (guint i = 0; i < n_growth_sizes (); i++)
    {
      guint n = growth_sizes[i];
      const BenchResult *result = bench_lookup ("memory", impl, n);

      if (result == NULL)
        continue;
      g_printerr (" n=%u:%.1f", n, result->rss_mb);
      if (prev != NULL)
        g_printerr (" (%.0f bytes per extra item)",
                    (result->rss_mb - prev->rss_mb) * 1024 * 1024 / (n - prev_n));
      prev = result;
      prev_n = n;
    }
  g_printerr ("\n");
}

/* A pipeline run lasts about a second at 1M and its producer thread makes
 * it sensitive to preemption, so even the default size is repeated. */
static gboolean
run_pipeline (guint n)
{
  return measure_impls ("pipeline", n, MAX (growth_reps (n), 3),
                        pipeline_impls, G_N_ELEMENTS (pipeline_impls));
}

/* Runs flood-multi, flood-tasks and memory at every growth size, except the
 * ones this run has already measured (the default run measures flood-multi
 * and memory at 1M and flood-tasks at 100k before it gets here): one line
 * per workload, implementation and size. */
static gboolean
run_growth (guint n)
{
  static const struct
  {
    const char  *workload;
    gboolean   (*measure) (guint n,
                           guint reps);
  } grown[] = {
    { "flood-multi", measure_flood_multi },
    { "flood-tasks", measure_flood_tasks },
    { "memory", measure_memory },
  };
  static const char * const memory_impls[] = { "asyncgui", "gtask-chunk", "pool-batch", "gtask" };
  gboolean ok = TRUE;

  for (guint w = 0; w < G_N_ELEMENTS (grown); w++)
    for (guint i = 0; i < n_growth_sizes (); i++)
      if (bench_lookup (grown[w].workload, "asyncgui", growth_sizes[i]) == NULL)
        ok &= grown[w].measure (growth_sizes[i], growth_reps (growth_sizes[i]));

  summarize_time_growth ("flood-multi", flood_multi_impls, G_N_ELEMENTS (flood_multi_impls));
  summarize_time_growth ("flood-tasks", flood_tasks_impls, G_N_ELEMENTS (flood_tasks_impls));
  for (guint i = 0; i < G_N_ELEMENTS (memory_impls); i++)
    summarize_memory_growth (memory_impls[i]);

  return ok;
}

/* The window's frame clock during flood-multi. It needs GTK 4 at build
 * time and a display at run time; without either it says so and is left
 * out rather than failing the other workloads. */
static gboolean
run_frames (guint n)
{
#ifdef AG_BENCH_WITH_GTK
  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_printerr ("ag-bench: frames needs a display (run it under xvfb-run): skipped, "
                  "not measured\n");
      return TRUE;
    }
  return bench_frames (n);
#else
  g_printerr ("ag-bench: frames needs GTK 4, which this build was made without: skipped, "
              "not measured\n");
  return TRUE;
#endif
}

static const BenchWorkload workloads[] = {
  { "flood-multi", 1000000, FALSE, run_flood_multi, "N trivial items through one AgMultiTask" },
  { "flood-tasks", 100000, FALSE, run_flood_tasks, "N AgTasks submitted from one callback" },
  { "backlog", 500000, FALSE, run_backlog, "flood-tasks with the GUI held up until all N ran: "
    "the catching up" },
  { "chain", 20000, FALSE, run_chain, "N sequential round trips, callback style" },
  { "memory", 1000000, FALSE, bench_memory, "peak RSS of flood-multi, in child processes" },
  { "cpu", 64, FALSE, bench_cpu, "N x 10 ms CPU-bound items, default workers" },
  /* 8 sleeping items on 2 cores is the point; a larger N would only wait. */
  { "blocking", 8, TRUE, run_blocking, "N items that each sleep 250 ms, default workers" },
  { "process", 2000, FALSE, run_process, "N sequential tiny calls to warm C (also sandboxed, and cold) and Python workers" },
  { "pipeline", 1000000, FALSE, run_pipeline, "N items: producer thread -> map -> GUI consumer" },
  { "frames", 1000000, FALSE, run_frames, "a GTK 4 window's frame intervals during flood-multi" },
  { "growth", 0, TRUE, run_growth, "flood-multi, flood-tasks, memory at 10k, 100k, 1M "
    "(and 10M with --with-10m)" },
};

static const BenchWorkload *
find_workload (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (workloads); i++)
    if (g_str_equal (workloads[i].name, name))
      return &workloads[i];

  return NULL;
}

static char *
describe_workloads (void)
{
  GString *text = g_string_new ("Workloads (all of them when none is named):\n");

  for (guint i = 0; i < G_N_ELEMENTS (workloads); i++)
    {
      g_string_append_printf (text, "  %-12s %s", workloads[i].name, workloads[i].summary);
      if (workloads[i].default_n > 0)
        g_string_append_printf (text, " (N = %u)", workloads[i].default_n);
      g_string_append_c (text, '\n');
    }

  return g_string_free (text, FALSE);
}

/* Checks every name before anything runs, so a typo costs no minutes. */
static GPtrArray *
select_workloads (char **names)
{
  g_autoptr(GPtrArray) selected = g_ptr_array_new ();

  if (names == NULL || names[0] == NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (workloads); i++)
        g_ptr_array_add (selected, (gpointer) &workloads[i]);
      return g_steal_pointer (&selected);
    }

  for (guint i = 0; names[i] != NULL; i++)
    {
      const BenchWorkload *workload = find_workload (names[i]);

      if (workload == NULL)
        {
          g_printerr ("ag-bench: no workload named '%s'; see --help\n", names[i]);
          return NULL;
        }
      g_ptr_array_add (selected, (gpointer) workload);
    }

  return g_steal_pointer (&selected);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) selected = NULL;
  g_autofree char *description = describe_workloads ();
  g_auto(GStrv) names = NULL;
  g_autofree char *child = NULL;
  int n = 0;
  int max_threads = -1;
  gboolean ok = TRUE;
  GOptionEntry entries[] = {
    { "n", 0, 0, G_OPTION_ARG_INT, &n,
      "Items per workload instead of its default (not for blocking or growth)", "N" },
    { "with-10m", 0, 0, G_OPTION_ARG_NONE, &growth_10m,
      "Growth at 10M items too (minutes, and up to ~10 GiB of memory)", NULL },
    { "impl", 0, 0, G_OPTION_ARG_STRING_ARRAY, &only_impls,
      "Measure only this implementation (repeatable; workloads with their own "
      "rounds, such as memory and frames, measure all of theirs)", "IMPL" },
    { "max-threads", 0, 0, G_OPTION_ARG_INT, &max_threads,
      "The engine's max-threads instead of its default, in the workloads run in this "
      "process (not memory's children, nor the baselines)", "N" },
    /* --child memory IMPL: one measurement of bench-memory.c's parent. */
    { "child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &child, NULL, NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &names, NULL, "[WORKLOAD...]" },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, "Measures asyncgui against its baselines, "
                                "one line per measurement.");
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("ag-bench: %s\n", error->message);
      return 2;
    }

  /* Two values per item in flood-tasks must fit an int. */
  if (n < 0 || n > G_MAXINT / 2)
    {
      g_printerr ("ag-bench: --n must be between 1 and %d\n", G_MAXINT / 2);
      return 2;
    }

  if (max_threads < -1)
    {
      g_printerr ("ag-bench: --max-threads must be 0 or more\n");
      return 2;
    }
  bench_set_engine_max_threads (max_threads);

  if (child != NULL)
    {
      if (!g_str_equal (child, "memory") || names == NULL || g_strv_length (names) != 1 || n == 0)
        {
          g_printerr ("ag-bench: usage: --child memory IMPL --n N\n");
          return 2;
        }
      return bench_memory_child (names[0], n);
    }

  selected = select_workloads (names);
  if (selected == NULL)
    return 2;

  g_printerr ("ag-bench: %u cores, GLib %u.%u.%u\n", g_get_num_processors (),
              glib_major_version, glib_minor_version, glib_micro_version);

  for (guint i = 0; i < selected->len; i++)
    {
      const BenchWorkload *workload = g_ptr_array_index (selected, i);

      if (workload->fixed_n && n > 0)
        g_printerr ("ag-bench: %s ignores --n\n", workload->name);

      if (!workload->run (n > 0 && !workload->fixed_n ? (guint) n : workload->default_n))
        ok = FALSE;
    }

  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
