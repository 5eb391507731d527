/* bench-pipeline.c: a stream of items through produce → map → consume
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "ag-bench.h"

/* A producer thread makes the numbers 0 … n - 1, workers map each to its
 * double, and the GUI thread consumes the results in batches, adding them
 * up. Both implementations are timed from the GUI-thread call that sets the
 * stream up (it makes the channels, starts the producer thread and the
 * pipeline, and asks for the first batch) to the moment the GUI thread has
 * seen the last result: for asyncgui, the read that finds the output
 * channel drained. The 60 Hz ticker runs on the same context the whole
 * time.
 *
 * - asyncgui: the producer writes into an AgChannel with the blocking
 *   ag_channel_write(); a pipeline (ag_pipeline_new(), default
 *   max-workers: one per engine thread) maps it into its output channel;
 *   the GUI thread reads that with ag_channel_reader_read_async().
 * - pool-batch: what a careful hand-written GUI program does with GLib
 *   alone: the producer pushes into a GThreadPool with as many threads as
 *   the engine has, whose function pushes the double into a GAsyncQueue;
 *   the GUI thread pops it in batches from a low-priority idle (see
 *   push_result() for how it is woken). The pool does not keep the
 *   order, so only the sum is checked there; the pipeline keeps it, so
 *   there every value is checked at its position.
 *
 * asyncgui's two channels hold CAPACITY items each, and both consumers
 * take up to BATCH items per turn of the main loop. Each number i comes
 * back as 2i exactly once, so the values add up to n (n - 1); a lost,
 * doubled or wrong value changes the sum. */

#define CAPACITY 4096
#define BATCH 4096

/* Below GTK 4's redraw priority (G_PRIORITY_HIGH_IDLE + 20): the consumer
 * lets every frame through first. */
#define CONSUMER_PRIORITY G_PRIORITY_DEFAULT_IDLE

typedef struct
{
  BenchLoop *loop;
  guint      n;
  guint      n_seen;        /* results the consumer took */
  guint64    sum;           /* of those results */
  gboolean   ok;
  GThread   *producer;
  gint64     start_ns;
  gint64     submitted_ns;  /* when the set-up call returned */
  gint64     end_ns;
  BenchGap  *gap;
} Stream;

static void
stream_init (Stream *stream,
             guint   n)
{
  *stream = (Stream) { 0, };
  stream->n = n;
  stream->ok = TRUE;
}

static void
stream_begin (Stream    *stream,
              BenchLoop *loop)
{
  stream->loop = loop;
  stream->start_ns = bench_now_ns ();
  stream->gap = bench_gap_start (bench_loop_get_context (loop), stream->start_ns);
}

static void
stream_submitted (Stream *stream)
{
  stream->submitted_ns = bench_now_ns ();
}

/* The consumer is done, with every result or not: the clock stops. */
static void
stream_end (Stream *stream)
{
  if (stream->end_ns != 0)
    return;

  stream->end_ns = bench_now_ns ();
  bench_gap_stop (stream->gap, stream->end_ns);
}

static void
stream_fail (Stream     *stream,
             const char *format,
             ...) G_GNUC_PRINTF (2, 3);

static void
stream_fail (Stream     *stream,
             const char *format,
             ...)
{
  va_list args;
  g_autofree char *message = NULL;

  /* The first failure is the informative one. */
  if (!stream->ok)
    return;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("ag-bench: error: %s\n", message);
  stream->ok = FALSE;
}

static guint64
expected_sum (guint n)
{
  return (guint64) n * (n - 1);
}

/* Called after the loop is gone and the producer joined. */
static gboolean
stream_finish (Stream      *stream,
               const char  *what,
               BenchResult *result)
{
  double wall_ms = bench_ms_between (stream->start_ns, stream->end_ns);

  if (stream->n_seen != stream->n)
    stream_fail (stream, "%s: the consumer saw %u results, expected %u",
                 what, stream->n_seen, stream->n);
  else if (stream->sum != expected_sum (stream->n))
    stream_fail (stream, "%s: results add up to %" G_GUINT64_FORMAT ", expected %"
                 G_GUINT64_FORMAT, what, stream->sum, expected_sum (stream->n));

  result->wall_ms = wall_ms;
  result->rate = stream->n / (wall_ms / 1000.0);
  result->gap_max_ms = bench_gap_get_max_ms (stream->gap);
  result->gap_p99_ms = bench_gap_get_p99_ms (stream->gap);
  result->submit_ms = bench_ms_between (stream->start_ns, stream->submitted_ns);

  g_clear_pointer (&stream->gap, bench_gap_free);

  return stream->ok;
}

/* asyncgui: AgChannel → pipeline → AgChannel → read_async */

typedef struct
{
  Stream           stream;
  AgChannel       *input;
  AgChannelReader *input_reader;
  AgPipeline      *pipe;
  AgChannelReader *output;
  gboolean         drained;     /* the consumer is done */
  gboolean         pipe_done;   /* the pipeline's run callback came */
} AgStream;

/* The producer thread: owns a reference to the input channel. Returns the
 * error a write failed with, or NULL. */
static gpointer
produce_into_channel (gpointer user_data)
{
  AgStream *self = user_data;
  g_autoptr(AgChannel) channel = g_object_ref (self->input);
  g_auto(GValue) value = G_VALUE_INIT;
  GError *error = NULL;

  g_value_init (&value, G_TYPE_UINT);
  for (guint i = 0; i < self->stream.n; i++)
    {
      g_value_set_uint (&value, i);
      if (!ag_channel_write (channel, &value, -1, &error))
        break;
    }
  ag_channel_close (channel);

  return error;
}

static void
times_two (AgChunk      *chunk,
           const GValue *item,
           gpointer      user_data)
{
  ag_chunk_return_uint (chunk, g_value_get_uint (item) * 2);
}

static void
ag_stream_maybe_quit (AgStream *self)
{
  if (self->drained && self->pipe_done)
    bench_loop_quit (self->stream.loop);
}

/* The consumer stopped early: cancelling the pipeline closes its reader of
 * the input channel, so a producer blocked on a full channel fails and
 * stops, and the run callback still comes. */
static void
ag_stream_give_up (AgStream *self)
{
  self->drained = TRUE;
  stream_end (&self->stream);
  ag_task_cancel (AG_TASK (self->pipe));
  ag_stream_maybe_quit (self);
}

/* The drained channel: the pipeline promises to be final by now. */
static void
ag_stream_drained (AgStream *self)
{
  AgTask *task = AG_TASK (self->pipe);

  self->drained = TRUE;
  stream_end (&self->stream);

  if (ag_task_get_state (task) != AG_TASK_SUCCEEDED)
    stream_fail (&self->stream, "pipeline: the output is drained but the task is %s, "
                 "not succeeded (%s)",
                 ag_task_is_finished (task) ? "finished" : "not finished",
                 ag_task_get_error (task) != NULL
                 ? ag_task_get_error (task)->message : "no error");

  ag_stream_maybe_quit (self);
}

static void on_batch (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data);

static void
read_next_batch (AgStream *self)
{
  ag_channel_reader_read_async (self->output, BATCH, -1, NULL, on_batch, self);
}

/* Results come in input order: the k-th is 2k. */
static gboolean
take_batch (AgStream *self,
            GArray   *items)
{
  Stream *stream = &self->stream;

  for (guint i = 0; i < items->len; i++)
    {
      const GValue *item = &g_array_index (items, GValue, i);
      guint expected = stream->n_seen * 2;

      if (!G_VALUE_HOLDS_UINT (item) || g_value_get_uint (item) != expected)
        {
          g_autofree char *contents = g_strdup_value_contents (item);

          stream_fail (stream, "pipeline: result %u is %s (%s), expected %u",
                       stream->n_seen, contents, G_VALUE_TYPE_NAME (item), expected);
          return FALSE;
        }
      stream->sum += expected;
      stream->n_seen++;
    }

  return TRUE;
}

static void
on_batch (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  AgStream *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;

  items = ag_channel_reader_read_finish (self->output, result, &error);
  if (items == NULL)
    {
      stream_fail (&self->stream, "pipeline: reading the output failed: %s", error->message);
      ag_stream_give_up (self);
      return;
    }

  /* With no timeout, a read comes back short only at the end. */
  if (items->len == 0)
    {
      if (ag_channel_reader_is_drained (self->output))
        ag_stream_drained (self);
      else
        {
          stream_fail (&self->stream, "pipeline: a read without timeout returned nothing "
                       "from a channel that is not drained");
          ag_stream_give_up (self);
        }
      return;
    }

  if (!take_batch (self, items))
    {
      ag_stream_give_up (self);
      return;
    }

  read_next_batch (self);
}

static void
on_pipe_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  AgStream *self = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value;

  value = ag_engine_run_finish (AG_ENGINE (source), result, &error);
  if (value == NULL)
    {
      /* Cancelled by give_up(), which already said why. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        stream_fail (&self->stream, "pipeline: the task failed: %s",
                     error != NULL ? error->message : "(no value and no error)");
    }
  else
    {
      if (!G_VALUE_HOLDS_UINT64 (value) || g_value_get_uint64 (value) != self->stream.n)
        {
          g_autofree char *contents = g_strdup_value_contents (value);

          stream_fail (&self->stream, "pipeline: the task's value is %s (%s), expected %u",
                       contents, G_VALUE_TYPE_NAME (value), self->stream.n);
        }
      g_boxed_free (G_TYPE_VALUE, value);
    }

  self->pipe_done = TRUE;
  ag_stream_maybe_quit (self);
}

static void
ag_stream_start (BenchLoop *loop,
                 gpointer   user_data)
{
  AgStream *self = user_data;
  AgEngine *engine = bench_loop_get_engine (loop);

  stream_begin (&self->stream, loop);

  self->input = ag_channel_new (CAPACITY);
  self->input_reader = ag_channel_open_reader (self->input);
  self->pipe = ag_pipeline_new (self->input_reader, times_two, NULL, NULL);
  self->output = ag_pipeline_open_output (self->pipe, CAPACITY);
  self->stream.producer = g_thread_new ("ag-bench-producer", produce_into_channel, self);
  ag_engine_run_async (engine, AG_TASK (self->pipe), NULL, on_pipe_done, self);
  read_next_batch (self);

  stream_submitted (&self->stream);
}

gboolean
bench_pipeline_asyncgui (guint        n,
                         BenchResult *result)
{
  AgStream self = { 0, };
  g_autoptr(GError) producer_error = NULL;

  stream_init (&self.stream, n);
  bench_loop_run ("pipeline asyncgui", TRUE, ag_stream_start, &self);

  producer_error = g_thread_join (self.stream.producer);
  if (producer_error != NULL)
    stream_fail (&self.stream, "pipeline: the producer could not write: %s",
                 producer_error->message);

  g_clear_object (&self.output);
  g_clear_object (&self.pipe);
  g_clear_object (&self.input_reader);
  g_clear_object (&self.input);

  return stream_finish (&self.stream, "asyncgui", result);
}

/* pool-batch: GThreadPool → GAsyncQueue → idle */

typedef struct
{
  Stream        stream;
  GThreadPool  *pool;
  GAsyncQueue  *results;            /* of GUINT_TO_POINTER (2i + 1) */
  GMainContext *context;            /* a ref: workers may attach to it late */
  gboolean      consumer_scheduled; /* the results' lock */
} QueueStream;

/* GAsyncQueue and GThreadPool refuse NULL, so a number i travels as i + 1. */
#define NUMBER_TO_POINTER(i) GUINT_TO_POINTER ((i) + 1)
#define POINTER_TO_NUMBER(p) (GPOINTER_TO_UINT (p) - 1)

static gpointer
produce_into_pool (gpointer user_data)
{
  QueueStream *self = user_data;
  GError *error = NULL;

  for (guint i = 0; i < self->stream.n; i++)
    if (!g_thread_pool_push (self->pool, NUMBER_TO_POINTER (i), &error))
      break;

  return error;
}

static gboolean consume_results (gpointer user_data);

/* How the GUI thread hears of results, the careful way: it must neither
 * poll (an idle that stays attached while the queue is empty spins the GUI
 * thread at 100%, a core taken from the producer and the workers) nor be
 * woken once per item (a g_idle_add() per result is GTask's flood again).
 * So one consumer idle is attached at a time: a worker that pushes while
 * none is scheduled attaches it, and it stays attached, a batch per turn
 * of the loop, until it finds the queue empty. The flag is guarded by
 * the queue's own lock, taken for the push anyway, so no result can slip
 * in between the consumer's last look and its leaving unnoticed. */
static void
push_result (QueueStream *self,
             guint        value)
{
  gboolean schedule;

  g_async_queue_lock (self->results);
  g_async_queue_push_unlocked (self->results, NUMBER_TO_POINTER (value));
  schedule = !self->consumer_scheduled;
  self->consumer_scheduled = TRUE;
  g_async_queue_unlock (self->results);

  if (schedule)
    {
      g_autoptr(GSource) idle = g_idle_source_new ();

      g_source_set_priority (idle, CONSUMER_PRIORITY);
      g_source_set_callback (idle, consume_results, self, NULL);
      g_source_attach (idle, self->context);
    }
}

static void
double_number (gpointer data,
               gpointer user_data)
{
  push_result (user_data, POINTER_TO_NUMBER (data) * 2);
}

/* Whether the consumer should stay attached: not once the queue is empty,
 * checked under the lock that push_result() takes. */
static gboolean
keep_consuming (QueueStream *self)
{
  gboolean keep;

  g_async_queue_lock (self->results);
  keep = g_async_queue_length_unlocked (self->results) > 0;
  self->consumer_scheduled = keep;
  g_async_queue_unlock (self->results);

  return keep;
}

/* The GUI thread: up to BATCH results per turn of the main loop. */
static gboolean
consume_results (gpointer user_data)
{
  QueueStream *self = user_data;
  Stream *stream = &self->stream;
  guint taken;

  if (stream->end_ns != 0)
    return G_SOURCE_REMOVE;

  for (taken = 0; taken < BATCH; taken++)
    {
      gpointer result = g_async_queue_try_pop (self->results);
      guint value;

      if (result == NULL)
        break;

      value = POINTER_TO_NUMBER (result);
      if (value % 2 != 0 || value / 2 >= stream->n)
        {
          stream_fail (stream, "pool-batch: result %u is %u, not the double of an input",
                       stream->n_seen, value);
          stream_end (stream);
          bench_loop_quit (stream->loop);
          return G_SOURCE_REMOVE;
        }
      stream->sum += value;
      stream->n_seen++;
    }

  if (stream->n_seen == stream->n)
    {
      stream_end (stream);
      bench_loop_quit (stream->loop);
      return G_SOURCE_REMOVE;
    }

  if (taken == BATCH)
    return G_SOURCE_CONTINUE;

  return keep_consuming (self) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
queue_stream_start (BenchLoop *loop,
                    gpointer   user_data)
{
  QueueStream *self = user_data;

  stream_begin (&self->stream, loop);

  self->context = g_main_context_ref (bench_loop_get_context (loop));
  self->results = g_async_queue_new ();
  self->stream.producer = g_thread_new ("ag-bench-producer", produce_into_pool, self);

  stream_submitted (&self->stream);
}

gboolean
bench_pipeline_pool_batch (guint        n,
                            BenchResult *result)
{
  QueueStream self = { 0, };
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) producer_error = NULL;

  stream_init (&self.stream, n);

  /* Made before the clock starts, like the engine (and its thread pool)
   * asyncgui is measured with; threads start on the first push either way.
   * As many threads as an engine has by default: one per processor. */
  self.pool = g_thread_pool_new (double_number, &self, g_get_num_processors (), FALSE, &error);
  if (self.pool == NULL)
    {
      g_printerr ("ag-bench: error: pool-batch: no thread pool: %s\n", error->message);
      return FALSE;
    }

  bench_loop_run ("pipeline pool-batch", FALSE, queue_stream_start, &self);

  producer_error = g_thread_join (self.stream.producer);
  if (producer_error != NULL)
    stream_fail (&self.stream, "pool-batch: the producer could not push: %s",
                 producer_error->message);

  /* Waits for the workers, which may still attach one last (empty) idle to
   * the context; it is kept alive for that and freed after. */
  g_thread_pool_free (self.pool, FALSE, TRUE);
  g_clear_pointer (&self.context, g_main_context_unref);
  g_clear_pointer (&self.results, g_async_queue_unref);

  return stream_finish (&self.stream, "pool-batch", result);
}
