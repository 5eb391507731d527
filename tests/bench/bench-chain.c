/* bench-chain.c: sequential round trips GUI thread → worker → GUI thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "ag-bench.h"

/* Callback style: each completion callback starts the next trip, so only
 * one item is ever in flight and every trip pays the full latency of a
 * wake-up in each direction. A trip is timed from just before its task is
 * created to the entry of its completion callback. The median, mean, p90
 * and p99 are reported: a shared machine adds rare, large outliers to the
 * median's right, and a worker that spins shows in the mean and the tail.
 *
 *   asyncgui      an AgTask per trip, callbacks
 *   asyncgui-job  the same awaited from a C fiber job
 *   gtask         a GTask per trip, g_task_run_in_thread()
 *   loop-queue    the strongest fair baseline: what a skilled GLib
 *                 programmer writes for round trips to one worker thread
 *                 (see below)
 *   floor-thread  (bench-floors.c) two threads ping-ponging through a
 *                 futex, without a main loop: what the machine allows */

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
  gpointer   baseline;      /* loop-queue: its LoopQueue */
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

  bench_round_trips (chain->trips_us, result);
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

gboolean
bench_chain_asyncgui (guint        n,
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

gboolean
bench_chain_job (guint        n,
                 BenchResult *result)
{
  Chain chain;

  chain_init (&chain, n);
  bench_loop_run ("chain asyncgui-job", TRUE, chain_job_start, &chain);

  return chain_finish (&chain, "asyncgui-job", result);
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

/* loop-queue: the main loop and one long-lived worker thread. The GUI
 * thread pushes a request onto a GAsyncQueue, which the worker blocks on;
 * the worker pushes the value onto a second queue and wakes the GUI thread
 * through a GSource that lives as long as the chain and is made ready with
 * g_source_set_ready_time(), which is safe from any thread and wakes the
 * context once. No allocation per trip, no thread pool, one wake-up in
 * each direction: the least a GLib program does for the same trip, with
 * the same delivery (a dispatch on the GUI thread's context, where the
 * callback starts the next trip). */

#define STOP_REQUEST GINT_TO_POINTER (-1)
#define RETURN_ONE_REQUEST GINT_TO_POINTER (1)

typedef struct
{
  Chain       *chain;
  GAsyncQueue *requests;    /* GUI thread → worker */
  GAsyncQueue *replies;     /* worker → GUI thread: the value plus one */
  GSource     *reply_source;
  GThread     *worker;
} LoopQueue;

typedef struct
{
  GSource    source;
  LoopQueue *self;
} ReplySource;

static gpointer
loop_queue_worker (gpointer user_data)
{
  LoopQueue *self = user_data;
  gpointer request;

  while ((request = g_async_queue_pop (self->requests)) != STOP_REQUEST)
    {
      /* The work: return 1, as the other implementations' workers do. */
      g_async_queue_push (self->replies, GINT_TO_POINTER (1 + 1));
      g_source_set_ready_time (self->reply_source, 0);
    }

  return NULL;
}

static void
start_loop_queue_trip (Chain *chain)
{
  LoopQueue *self = chain->baseline;

  chain->trip_start_ns = bench_now_ns ();
  g_async_queue_push (self->requests, RETURN_ONE_REQUEST);
}

/* Cleared before the queue is read, so a reply pushed after the read makes
 * the source ready again rather than being missed. */
static gboolean
loop_queue_dispatch (GSource     *source,
                     GSourceFunc  callback,
                     gpointer     user_data)
{
  LoopQueue *self = ((ReplySource *) source)->self;
  gpointer reply;

  g_source_set_ready_time (source, -1);
  while ((reply = g_async_queue_try_pop (self->replies)) != NULL)
    {
      Chain *chain = self->chain;

      chain_trip_done (chain);
      if (GPOINTER_TO_INT (reply) - 1 != 1)
        chain_fail (chain, "loop-queue", "wrong value");
      chain_next (chain, start_loop_queue_trip);
    }

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs loop_queue_source_funcs = {
  .dispatch = loop_queue_dispatch,
};

static void
chain_loop_queue_start (BenchLoop *loop,
                        gpointer   user_data)
{
  Chain *chain = user_data;
  LoopQueue *self = chain->baseline;

  chain->loop = loop;
  g_source_attach (self->reply_source, bench_loop_get_context (loop));
  chain->start_ns = bench_now_ns ();
  start_loop_queue_trip (chain);
}

gboolean
bench_chain_loop_queue (guint        n,
                        BenchResult *result)
{
  Chain chain;
  LoopQueue self = { &chain, };

  chain_init (&chain, n);
  chain.baseline = &self;

  /* Thread, queues and source are made before the clock starts, as the
   * engine and its threads are for asyncgui. */
  self.requests = g_async_queue_new ();
  self.replies = g_async_queue_new ();
  self.reply_source = g_source_new (&loop_queue_source_funcs, sizeof (ReplySource));
  ((ReplySource *) self.reply_source)->self = &self;
  g_source_set_name (self.reply_source, "ag-bench loop-queue replies");
  g_source_set_priority (self.reply_source, G_PRIORITY_DEFAULT);
  self.worker = g_thread_new ("ag-bench-loop-queue", loop_queue_worker, &self);

  bench_loop_run ("chain loop-queue", FALSE, chain_loop_queue_start, &chain);

  g_async_queue_push (self.requests, STOP_REQUEST);
  g_thread_join (self.worker);
  g_source_destroy (self.reply_source);
  g_source_unref (self.reply_source);
  g_async_queue_unref (self.requests);
  g_async_queue_unref (self.replies);

  return chain_finish (&chain, "loop-queue", result);
}
