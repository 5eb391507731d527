/* bench-chain.c: sequential round trips GUI thread → worker → GUI thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "ag-bench.h"

/* Callback style: each completion callback starts the next trip, so only
 * one item is ever in flight and every trip pays the full latency of a
 * wake-up in each direction. A trip is timed from just before its task is
 * created to the entry of its completion callback; the median is reported
 * because a shared machine adds rare, large outliers. */

typedef struct
{
  BenchLoop *loop;
  guint      n;
  guint      n_done;
  gboolean   ok;
  gint64     start_ns;      /* of the whole chain */
  gint64     end_ns;
  gint64     trip_start_ns;
  GArray    *trips_us;      /* double */
} Chain;

typedef void (*ChainTripFunc) (Chain *chain);

static void
chain_init (Chain *chain,
            guint  n)
{
  *chain = (Chain) { 0, };
  chain->n = n;
  chain->ok = TRUE;
  chain->trips_us = g_array_sized_new (FALSE, FALSE, sizeof (double), n);
}

static void
chain_fail (Chain      *chain,
            const char *what,
            const char *message)
{
  if (chain->ok)
    g_printerr ("ag-bench: error: chain %s: trip %u: %s\n", what, chain->n_done, message);
  chain->ok = FALSE;
}

/* Records the trip that just came back, first thing in its callback. */
static void
chain_trip_done (Chain *chain)
{
  gint64 now_ns = bench_now_ns ();
  double trip_us = (now_ns - chain->trip_start_ns) / 1000.0;

  g_array_append_val (chain->trips_us, trip_us);
  chain->n_done++;
  chain->end_ns = now_ns;
}

/* Starts the next trip, or ends the chain when all are done or one failed. */
static void
chain_next (Chain         *chain,
            ChainTripFunc  start_trip)
{
  if (chain->n_done < chain->n && chain->ok)
    start_trip (chain);
  else
    bench_loop_quit (chain->loop);
}

static gboolean
chain_finish (Chain       *chain,
              const char  *what,
              BenchResult *result)
{
  if (chain->ok && chain->n_done != chain->n)
    chain_fail (chain, what, "more completion callbacks than trips started");

  result->rt_us = bench_percentile (chain->trips_us, 0.5);
  result->wall_ms = bench_ms_between (chain->start_ns, chain->end_ns);
  g_array_unref (chain->trips_us);

  return chain->ok;
}

/* asyncgui */

static void
return_one (AgTask       *task,
            gpointer      user_data,
            GCancellable *cancellable)
{
  ag_task_return_int (task, 1);
}

static void start_ag_trip (Chain *chain);

static void
on_ag_trip_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Chain *chain = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value;

  chain_trip_done (chain);
  value = ag_engine_run_finish (bench_loop_get_engine (chain->loop), result, &error);
  if (value == NULL)
    chain_fail (chain, "asyncgui", error != NULL ? error->message : "no value and no error");
  else if (!G_VALUE_HOLDS_INT (value) || g_value_get_int (value) != 1)
    chain_fail (chain, "asyncgui", "wrong value");
  if (value != NULL)
    g_boxed_free (G_TYPE_VALUE, value);

  chain_next (chain, start_ag_trip);
}

static void
start_ag_trip (Chain *chain)
{
  g_autoptr(AgTask) task = NULL;

  chain->trip_start_ns = bench_now_ns ();
  task = ag_task_new (return_one, NULL, NULL);
  ag_engine_run_async (bench_loop_get_engine (chain->loop), task, NULL, on_ag_trip_done, chain);
}

static void
chain_ag_start (BenchLoop *loop,
                gpointer   user_data)
{
  Chain *chain = user_data;

  chain->loop = loop;
  chain->start_ns = bench_now_ns ();
  start_ag_trip (chain);
}

static gboolean
bench_chain_callbacks (guint        n,
                       BenchResult *result)
{
  Chain chain;

  chain_init (&chain, n);
  bench_loop_run ("chain asyncgui", TRUE, chain_ag_start, &chain);

  return chain_finish (&chain, "asyncgui", result);
}

/* asyncgui, as a C fiber job: the whole chain is one sequential function
 * that awaits each trip in turn. A trip is timed from just before its task
 * is created to the line after the await, where the job's code goes on. */

static void
chain_job_body (AgJob    *job,
                gpointer  user_data)
{
  Chain *chain = user_data;

  while (chain->n_done < chain->n && chain->ok)
    {
      g_autoptr(GError) error = NULL;
      int value;

      chain->trip_start_ns = bench_now_ns ();
      value = ag_job_await_int (ag_task_new (return_one, NULL, NULL), &error);
      chain_trip_done (chain);

      if (error != NULL)
        chain_fail (chain, "asyncgui-job", error->message);
      else if (value != 1)
        chain_fail (chain, "asyncgui-job", "wrong value");
    }

  bench_loop_quit (chain->loop);
}

static void
chain_job_start (BenchLoop *loop,
                 gpointer   user_data)
{
  Chain *chain = user_data;

  chain->loop = loop;
  chain->start_ns = bench_now_ns ();
  /* A running job keeps itself alive. */
  g_object_unref (ag_engine_spawn (bench_loop_get_engine (loop), chain_job_body, chain, NULL));
}

static gboolean
bench_chain_job (guint        n,
                 BenchResult *result)
{
  Chain chain;

  chain_init (&chain, n);
  bench_loop_run ("chain asyncgui-job", TRUE, chain_job_start, &chain);

  return chain_finish (&chain, "asyncgui-job", result);
}

/* Both asyncgui styles, in the same run as the GTask baseline: the job's
 * line is reported here, the callback style's by the caller beside GTask's. */
gboolean
bench_chain_asyncgui (guint        n,
                      BenchResult *result)
{
  BenchResult job_result = BENCH_RESULT_INIT;
  gboolean job_ok = bench_chain_job (n, &job_result);

  if (job_ok)
    bench_report ("chain", "asyncgui-job", n, &job_result);

  return bench_chain_callbacks (n, result) && job_ok;
}

/* GTask */

static void
gtask_return_one (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  g_task_return_int (task, 1);
}

static void start_gtask_trip (Chain *chain);

static void
on_gtask_trip_done (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Chain *chain = user_data;
  g_autoptr(GError) error = NULL;

  chain_trip_done (chain);
  if (g_task_propagate_int (G_TASK (result), &error) != 1)
    chain_fail (chain, "gtask", error != NULL ? error->message : "wrong value");

  chain_next (chain, start_gtask_trip);
}

static void
start_gtask_trip (Chain *chain)
{
  g_autoptr(GTask) task = NULL;

  chain->trip_start_ns = bench_now_ns ();
  task = g_task_new (NULL, NULL, on_gtask_trip_done, chain);
  g_task_run_in_thread (task, gtask_return_one);
}

static void
chain_gtask_start (BenchLoop *loop,
                   gpointer   user_data)
{
  Chain *chain = user_data;

  chain->loop = loop;
  chain->start_ns = bench_now_ns ();
  start_gtask_trip (chain);
}

gboolean
bench_chain_gtask (guint        n,
                   BenchResult *result)
{
  Chain chain;

  chain_init (&chain, n);
  bench_loop_run ("chain gtask", FALSE, chain_gtask_start, &chain);

  return chain_finish (&chain, "gtask", result);
}
