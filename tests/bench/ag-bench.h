/* ag-bench.h: what the benchmark's files share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <asyncgui.h>

G_BEGIN_DECLS

/* One measurement line. A field below zero does not apply and is left out of
 * the line; the order of the fields is the order BENCHMARKS.md lists them. */
typedef struct
{
  double rate;        /* items/s */
  double wall_ms;
  double gap_max_ms;
  double gap_p99_ms;
  double submit_ms;   /* the submitting GUI-thread call itself */
  double rt_us;       /* round trip: median */
  double rt_mean_us;
  double rt_p90_us;
  double rt_p99_us;
  double cpu_us;      /* CPU time of every thread and worker process, per item */
  double rss_mb;      /* peak */
  double ratio;       /* cpu, blocking: wall / ideal */
} BenchResult;

#define BENCH_RESULT_INIT { -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 }

/* One implementation of a workload, measured once. */
typedef gboolean (*BenchMeasureFunc) (guint        n,
                                      BenchResult *result);

/* One named implementation of a workload, for the tables in ag-bench.c. */
typedef struct
{
  const char       *name;
  BenchMeasureFunc  measure;
} BenchImpl;

/* bench-util.c: clock, statistics, output, the per-workload main loop */

gint64         bench_now_ns            (void);
double         bench_ms_between        (gint64        start_ns,
                                        gint64        end_ns);
double         bench_percentile        (GArray       *values,
                                        double        fraction);
double         bench_peak_rss_mb       (void);
gint64         bench_cpu_time_us       (void);
void           bench_round_trips       (GArray       *trips_us,
                                        BenchResult  *result);

void           bench_report            (const char   *workload,
                                        const char   *impl,
                                        guint         n,
                                        const BenchResult *result);
const BenchResult *bench_lookup        (const char   *workload,
                                        const char   *impl,
                                        guint         n);

typedef struct _BenchLoop BenchLoop;
typedef void (*BenchStartFunc) (BenchLoop *loop,
                                gpointer   user_data);

void           bench_loop_run          (const char    *what,
                                        gboolean       with_engine,
                                        BenchStartFunc start,
                                        gpointer       user_data);
/* The max-threads of every engine bench_loop_run() makes from now on; -1
 * (the start) leaves the engine's default. */
void           bench_set_engine_max_threads (int       max_threads);
GMainContext  *bench_loop_get_context  (BenchLoop    *loop);
AgEngine      *bench_loop_get_engine   (BenchLoop    *loop);
void           bench_loop_quit         (BenchLoop    *loop);

/* Until called again with NULL, runs use the global default context and
 * @func is told when each starts (just before its start function) and
 * ends (at its first bench_loop_quit()). */
typedef void (*BenchLoopObserver) (gboolean  started,
                                   gpointer  user_data);

void           bench_loop_observe      (BenchLoopObserver func,
                                        gpointer          user_data);

/* bench-gap.c: the 60 Hz ticker that measures the worst gap */

typedef struct _BenchGap BenchGap;

BenchGap      *bench_gap_start         (GMainContext *context,
                                        gint64        start_ns);
void           bench_gap_stop          (BenchGap     *self,
                                        gint64        end_ns);
double         bench_gap_get_max_ms    (BenchGap     *self);
double         bench_gap_get_p99_ms    (BenchGap     *self);
void           bench_gap_free          (BenchGap     *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BenchGap, bench_gap_free)

/* bench-flood.c */

gboolean       bench_flood_multi_asyncgui (guint        n,
                                           BenchResult *result);
gboolean       bench_flood_tasks_asyncgui (guint        n,
                                           BenchResult *result);
gboolean       bench_flood_gtask          (guint        n,
                                           BenchResult *result);

/* bench-flood-baselines.c */

gboolean       bench_flood_multi_gtask_chunk (guint        n,
                                              BenchResult *result);
gboolean       bench_flood_multi_pool_batch  (guint        n,
                                              BenchResult *result);
gboolean       bench_flood_tasks_pool_item   (guint        n,
                                              BenchResult *result);

/* bench-chain.c */

gboolean       bench_chain_asyncgui    (guint         n,
                                        BenchResult  *result);
gboolean       bench_chain_job         (guint         n,
                                        BenchResult  *result);
gboolean       bench_chain_gtask       (guint         n,
                                        BenchResult  *result);
gboolean       bench_chain_loop_queue  (guint         n,
                                        BenchResult  *result);

/* bench-memory.c */

gboolean       bench_memory            (guint         n);
int            bench_memory_child      (const char   *impl,
                                        guint         n);

/* bench-cpu.c */

gboolean       bench_cpu               (guint         n);

/* bench-blocking.c */

gboolean       bench_blocking_asyncgui (guint         n,
                                        BenchResult  *result);
gboolean       bench_blocking_gtask    (guint         n,
                                        BenchResult  *result);
gboolean       bench_blocking_ideal    (guint         n,
                                        BenchResult  *result);

/* bench-process.c */

gboolean       bench_process_asyncgui  (guint         n,
                                        BenchResult  *result);
gboolean       bench_process_sandboxed (guint         n,
                                        BenchResult  *result);
gboolean       bench_process_cold      (guint         n,
                                        BenchResult  *result);
gboolean       bench_process_sandboxed_cold (guint    n,
                                        BenchResult  *result);
gboolean       bench_process_python    (guint         n,
                                        BenchResult  *result);
gboolean       bench_process_spawn     (guint         n,
                                        BenchResult  *result);
gboolean       bench_process_command   (guint         n,
                                        BenchResult  *result);
gboolean       bench_process_loop_pipe (guint         n,
                                        BenchResult  *result);

/* bench-floors.c: the floors, and the warm child of the pipe baselines */

typedef struct
{
  int  to_child;     /* its stdin */
  int  from_child;   /* its stdout */
  GPid pid;
} BenchEcho;

gboolean       bench_echo_spawn        (BenchEcho    *echo,
                                        GError      **error);
void           bench_echo_stop         (BenchEcho    *echo);
gboolean       bench_floor_thread      (guint         n,
                                        BenchResult  *result);
gboolean       bench_floor_pipe        (guint         n,
                                        BenchResult  *result);
gboolean       bench_floor_gobject     (guint         n,
                                        BenchResult  *result);

/* bench-frames.c (built with GTK 4 only) */

gboolean       bench_frames            (guint         n);

/* bench-pipeline.c */

gboolean       bench_pipeline_asyncgui    (guint        n,
                                           BenchResult *result);
gboolean       bench_pipeline_pool_batch  (guint        n,
                                           BenchResult *result);

G_END_DECLS
