/* bench-util.c: clock, statistics, output and the per-workload main loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ag-bench.h"

/* A workload that has not finished after this long is taken to be hung: the
 * benchmark says which one and exits, rather than waiting forever on a
 * library bug. The slowest default workload takes a few seconds; growth's
 * per-item GTask floods at 10M take half a minute on an idle machine, and
 * a loaded one may take several times that. */
#define BENCH_WATCHDOG_SECONDS 600

/* The same clock GLib's main loop uses, at nanosecond resolution: a round
 * trip is a few microseconds, too close to g_get_monotonic_time()'s step. */
gint64
bench_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

double
bench_ms_between (gint64 start_ns,
                  gint64 end_ns)
{
  return (end_ns - start_ns) / 1e6;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double da = *(const double *) a;
  double db = *(const double *) b;

  return (da > db) - (da < db);
}

/* Nearest-rank percentile of an array of doubles, which it sorts in place.
 * An empty array has no lateness at all, so it reads as 0. */
double
bench_percentile (GArray *values,
                  double  fraction)
{
  guint rank;

  if (values->len == 0)
    return 0.0;

  g_array_sort (values, compare_doubles);
  rank = (guint) (fraction * values->len + 0.999999);
  rank = CLAMP (rank, 1, values->len);

  return g_array_index (values, double, rank - 1);
}

/* VmHWM is the peak resident set of this process; ru_maxrss says the same on
 * Linux and is the fallback where /proc is not mounted. */
double
bench_peak_rss_mb (void)
{
  g_autofree char *status = NULL;
  struct rusage usage;

  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    {
      const char *line = strstr (status, "VmHWM:");

      if (line != NULL)
        return g_ascii_strtod (line + strlen ("VmHWM:"), NULL) / 1024.0;
    }

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

/* Median, mean, p90 and p99 of the round trips in @trips_us (µs), which it
 * sorts: the median is what a user meets most, the mean and the tail what a
 * spinning or preempted worker costs. */
void
bench_round_trips (GArray      *trips_us,
                   BenchResult *result)
{
  double sum = 0.0;

  for (guint i = 0; i < trips_us->len; i++)
    sum += g_array_index (trips_us, double, i);

  result->rt_mean_us = trips_us->len > 0 ? sum / trips_us->len : 0.0;
  result->rt_us = bench_percentile (trips_us, 0.5);
  result->rt_p90_us = bench_percentile (trips_us, 0.90);
  result->rt_p99_us = bench_percentile (trips_us, 0.99);
}

static gint64
timespec_us (const struct timespec *ts)
{
  return (gint64) ts->tv_sec * G_USEC_PER_SEC + ts->tv_nsec / 1000;
}

/* The CPU time of a live process, from its CPU clock (nanoseconds), or from
 * /proc/PID/stat (clock ticks) where the kernel does not offer the clock. */
static gint64
process_cpu_us (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  g_auto(GStrv) fields = NULL;
  struct timespec ts;
  clockid_t clock;
  const char *end_of_name;
  long ticks_per_second = sysconf (_SC_CLK_TCK);

  if (clock_getcpuclockid (pid, &clock) == 0 && clock_gettime (clock, &ts) == 0)
    return timespec_us (&ts);

  if (!g_file_get_contents (path, &stat, NULL, NULL) ||
      (end_of_name = strrchr (stat, ')')) == NULL)
    return 0;

  /* After the name: state, ppid, ... utime is the 12th field, stime the
   * 13th (fields 14 and 15 of the whole line). */
  fields = g_strsplit (end_of_name + 2, " ", 14);
  if (g_strv_length (fields) < 14 || ticks_per_second <= 0)
    return 0;

  return (g_ascii_strtoll (fields[11], NULL, 10) + g_ascii_strtoll (fields[12], NULL, 10))
         * G_USEC_PER_SEC / ticks_per_second;
}

/* The parent of process @pid, or 0. */
static pid_t
parent_of (const char *pid)
{
  g_autofree char *path = g_build_filename ("/proc", pid, "stat", NULL);
  g_autofree char *stat = NULL;
  const char *end_of_name;

  if (!g_file_get_contents (path, &stat, NULL, NULL) ||
      (end_of_name = strrchr (stat, ')')) == NULL || strlen (end_of_name) < 5)
    return 0;

  /* ") S PPID ..." */
  return (pid_t) strtol (end_of_name + 4, NULL, 10);
}

static gint64
self_cpu_us (void)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
    return 0;
  return timespec_us (&ts);
}

/* CPU time so far of this process (every thread), of its children that
 * have been reaped, and of its children still running (warm worker
 * processes): the difference between two calls is what a workload cost the
 * machine, whichever process did the work. Grandchildren are not counted;
 * none of the workloads has any. Finding the children means reading all of
 * /proc, which takes this thread's time too: that time is left out, so the
 * difference between two calls holds nothing of either call's own cost. */
gint64
bench_cpu_time_us (void)
{
  static gint64 spent_here_us;
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  struct rusage children;
  gint64 total = 0;
  gint64 before_us = self_cpu_us ();
  gint64 after_us;
  pid_t self = getpid ();
  const char *name;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    if (g_ascii_isdigit (name[0]) && parent_of (name) == self)
      total += process_cpu_us ((pid_t) strtol (name, NULL, 10));

  if (getrusage (RUSAGE_CHILDREN, &children) == 0)
    total += (gint64) children.ru_utime.tv_sec * G_USEC_PER_SEC + children.ru_utime.tv_usec
             + (gint64) children.ru_stime.tv_sec * G_USEC_PER_SEC + children.ru_stime.tv_usec;

  after_us = self_cpu_us ();
  spent_here_us += after_us - before_us;

  return total + after_us - spent_here_us;
}

typedef struct
{
  char        *workload;
  char        *impl;
  guint        n;
  BenchResult  result;
} BenchRecord;

/* Every line printed so far, so the growth summary can compare sizes and
 * skip measurements this run already made. */
static GArray *records;

static void
bench_record_clear (gpointer data)
{
  BenchRecord *record = data;

  g_free (record->workload);
  g_free (record->impl);
}

static void
append_field (GString    *line,
              const char *key,
              const char *format,
              double      value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  if (value < 0)
    return;

  /* g_ascii_formatd: the decimal point is '.' whatever the locale. */
  g_string_append_printf (line, " %s=%s", key,
                          g_ascii_formatd (buffer, sizeof buffer, format, value));
}

void
bench_report (const char        *workload,
              const char        *impl,
              guint              n,
              const BenchResult *result)
{
  g_autoptr(GString) line = g_string_new (NULL);
  BenchRecord record;

  g_string_append_printf (line, "workload=%s impl=%s n=%u", workload, impl, n);
  append_field (line, "rate", "%.0f", result->rate);
  append_field (line, "wall_ms", "%.2f", result->wall_ms);
  append_field (line, "gap_max_ms", "%.1f", result->gap_max_ms);
  append_field (line, "gap_p99_ms", "%.1f", result->gap_p99_ms);
  append_field (line, "submit_ms", "%.2f", result->submit_ms);
  append_field (line, "rt_us", "%.2f", result->rt_us);
  append_field (line, "rt_mean_us", "%.2f", result->rt_mean_us);
  append_field (line, "rt_p90_us", "%.2f", result->rt_p90_us);
  append_field (line, "rt_p99_us", "%.2f", result->rt_p99_us);
  append_field (line, "cpu_us", "%.2f", result->cpu_us);
  append_field (line, "rss_mb", "%.1f", result->rss_mb);
  append_field (line, "ratio", "%.2f", result->ratio);

  /* stdout carries nothing but these lines, flushed one by one so a script
   * reading a pipe sees each as soon as it is measured. */
  fprintf (stdout, "%s\n", line->str);
  fflush (stdout);

  if (records == NULL)
    {
      records = g_array_new (FALSE, FALSE, sizeof (BenchRecord));
      g_array_set_clear_func (records, bench_record_clear);
    }
  record.workload = g_strdup (workload);
  record.impl = g_strdup (impl);
  record.n = n;
  record.result = *result;
  g_array_append_val (records, record);
}

const BenchResult *
bench_lookup (const char *workload,
              const char *impl,
              guint       n)
{
  for (guint i = 0; records != NULL && i < records->len; i++)
    {
      const BenchRecord *record = &g_array_index (records, BenchRecord, i);

      if (record->n == n &&
          g_str_equal (record->workload, workload) &&
          g_str_equal (record->impl, impl))
        return &record->result;
    }

  return NULL;
}

/* The watchdog message is composed before arming, because the signal handler
 * may only call async-signal-safe functions. */
static char watchdog_message[256];

static void
on_watchdog (int signum)
{
  ssize_t unused = write (STDERR_FILENO, watchdog_message, strlen (watchdog_message));

  (void) unused;
  _exit (3);
}

static void
bench_watchdog_arm (const char *what)
{
  g_snprintf (watchdog_message, sizeof watchdog_message,
              "ag-bench: %s did not finish within %d s; giving up\n",
              what, BENCH_WATCHDOG_SECONDS);
  signal (SIGALRM, on_watchdog);
  alarm (BENCH_WATCHDOG_SECONDS);
}

static void
bench_watchdog_disarm (void)
{
  alarm (0);
}

struct _BenchLoop
{
  GMainContext   *context;
  GMainLoop      *main_loop;
  AgEngine       *engine;     /* NULL for a baseline */
  BenchStartFunc  start;
  gpointer        user_data;
};

/* Set by bench_loop_observe(): runs go on the global default context (a
 * GTK window's) and the observer hears when each starts and ends. */
static BenchLoopObserver observer;
static gpointer observer_data;

void
bench_loop_observe (BenchLoopObserver func,
                    gpointer          user_data)
{
  observer = func;
  observer_data = user_data;
}

static gboolean
on_start (gpointer user_data)
{
  BenchLoop *self = user_data;

  if (observer != NULL)
    observer (TRUE, observer_data);
  self->start (self, self->user_data);
  return G_SOURCE_REMOVE;
}

/* Each input holds its thread a millisecond, so every thread gets one. */
static void
hold_a_thread (AgChunk  *chunk,
               gpointer  item,
               gpointer  user_data)
{
  g_usleep (1000);
  ag_chunk_return_boolean (chunk, TRUE);
}

static void
on_warmed (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GValue *value = ag_engine_run_finish (AG_ENGINE (source), result, NULL);

  if (value != NULL)
    g_boxed_free (G_TYPE_VALUE, value);
  *(gboolean *) user_data = TRUE;
}

/* The baselines' workers are warm: GThreadPool and GTask take the threads
 * GLib keeps idle from the round before. An application's engine lives as
 * long as the application and has its threads by then too; here each round
 * makes a new one, so before the clock starts it gets every thread it may
 * run at once, by work that holds each for a millisecond. */
static void
warm_engine (BenchLoop *self)
{
  g_autoptr(GPtrArray) inputs = g_ptr_array_new ();
  g_autoptr(AgMultiTask) warm = NULL;
  gboolean done = FALSE;
  int threads = ag_engine_get_max_threads (self->engine);

  for (int i = 0; i < MAX (threads, 1); i++)
    g_ptr_array_add (inputs, GINT_TO_POINTER (i));

  warm = ag_multi_task_new_map (inputs, hold_a_thread, NULL, NULL);
  ag_engine_run_async (self->engine, AG_TASK (warm), NULL, on_warmed, &done);
  while (!done)
    g_main_context_iteration (self->context, TRUE);
}

static int engine_max_threads = -1;

void
bench_set_engine_max_threads (int max_threads)
{
  engine_max_threads = max_threads;
}

/* Runs one implementation of one workload as a GUI would: a fresh context,
 * thread-default so GTasks made by the baseline deliver there too, a fresh
 * engine bound to it with its threads started, and a main loop. @start is
 * called from that loop, like a button handler, and the workload calls
 * bench_loop_quit() from its final completion. A fresh context per run
 * means nothing one run left attached can slow down the next; only the
 * frames workload, through bench_loop_observe(), runs on the default
 * context, where its window is. */
void
bench_loop_run (const char     *what,
                gboolean        with_engine,
                BenchStartFunc  start,
                gpointer        user_data)
{
  BenchLoop self = { 0, };
  g_autoptr(GSource) idle = NULL;

  self.context = observer != NULL ? g_main_context_ref (g_main_context_default ())
                                  : g_main_context_new ();
  self.main_loop = g_main_loop_new (self.context, FALSE);
  self.start = start;
  self.user_data = user_data;
  g_main_context_push_thread_default (self.context);

  if (with_engine)
    {
      self.engine = ag_engine_new_for_context (self.context);
      if (engine_max_threads >= 0)
        ag_engine_set_max_threads (self.engine, engine_max_threads);
      warm_engine (&self);
    }

  idle = g_idle_source_new ();
  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, on_start, &self, NULL);
  g_source_attach (idle, self.context);

  bench_watchdog_arm (what);
  g_main_loop_run (self.main_loop);
  bench_watchdog_disarm ();

  g_clear_object (&self.engine);

  /* Let whatever the run left behind (the engine's last delivery, GTask's
   * own idles) finish here rather than in the next run's window. Bounded, in
   * case a source stays ready for ever. */
  for (guint i = 0; i < 1000 && g_main_context_iteration (self.context, FALSE); i++)
    ;

  g_main_context_pop_thread_default (self.context);
  g_main_loop_unref (self.main_loop);
  g_main_context_unref (self.context);
}

GMainContext *
bench_loop_get_context (BenchLoop *self)
{
  return self->context;
}

AgEngine *
bench_loop_get_engine (BenchLoop *self)
{
  return self->engine;
}

void
bench_loop_quit (BenchLoop *self)
{
  if (observer != NULL && g_main_loop_is_running (self->main_loop))
    observer (FALSE, observer_data);
  g_main_loop_quit (self->main_loop);
}
