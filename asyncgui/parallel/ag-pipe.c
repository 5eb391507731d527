/* ag-pipe.c: a MultiTask that streams inputs through a function into a
 * channel, as fast as its readers read
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "ag-channel-private.h"
#include "ag-engine-private.h"
#include "ag-error.h"
#include "ag-pipe-private.h"
#include "ag-task-private.h"
#include "ag-values-private.h"

/* How a pipeline runs: demand in, outputs out.
 *
 * The output channel tells the pipeline, through a demand watcher, when
 * its readers may want more (a read started waiting, items were taken, the
 * last reader went). The watcher runs on the reader's thread under the
 * channel's lock, so all it does is queue the pipeline's wake node on the
 * engine's completion queue, at most once. On the engine's thread, fill()
 * then does everything in one place, in this order:
 *
 *   1. stop if nobody can read any more (the last reader went);
 *   2. take the chunks that came back, in chunk order, into `pending`;
 *   3. write `pending` to the channel, as much as readers take or fits;
 *   4. end, with the first failure once the outputs before it are out,
 *      or successfully once the input is exhausted and everything written;
 *   5. ask for as many new inputs as the readers want beyond what is
 *      already in flight (at least min-count): from a list model or a
 *      range at once, from an input channel with one read at a time,
 *      which is how demand travels upstream;
 *   6. hand the inputs to the workers in chunks, at most max-workers at
 *      once, none bigger than max-chunk-size.
 *
 * So a read of n items runs n inputs, rounded up to min-count, and nothing
 * runs while nobody reads. Without an output channel the pipeline is a
 * sink: it keeps a bounded window of inputs in flight until the input
 * ends.
 *
 * Everything here is the engine's thread's, except wake_queued (atomic). */

#define DEFAULT_MAX_CHUNK 4096

struct _AgPipe
{
  AgMultiTask       *multi;           /* unowned: it owns the pipe; set at start */
  AgPipeFunc         func;
  gpointer           func_data;
  GDestroyNotify     func_destroy;

  /* Where inputs come from: a reader, a list model or a range. */
  AgChannelReader   *input;
  AgMultiTask       *upstream;        /* the pipeline @input reads, if any */
  GListModel        *model;
  gint64             n_range;         /* -1: no end; only without input and model */
  guint64            next_position;   /* model, range: the next input to hand out */

  AgChannel         *output;

  /* Settings, copied at start. */
  guint              min_count;
  guint              max_chunk;
  guint              limit;
  gboolean           apply_single;

  /* Run state. */
  gboolean           running;
  AgCompletionQueue *queue;
  GCancellable      *cancellable;     /* the chunks' and the input read's */
  gboolean           input_done;      /* no input will come any more */
  GError            *input_error;     /* why the upstream pipeline ended, if it failed */
  guint              n_requested;     /* what the input read in flight asked for */
  GArray            *inputs;          /* GValue: inputs not yet in a chunk */
  guint64            n_in_flight;     /* inputs in chunks not yet written out */
  guint              chunks_running;
  guint64            next_seq;
  guint64            next_write_seq;
  GHashTable        *finished;        /* &seq → chunk back early, waiting for earlier ones */
  GArray            *pending;         /* GValue: outputs waiting for room */
  GError            *failure;         /* ends the run once @pending is out */
  guint64            n_written;

  int                wake_queued;     /* atomic */
  AgNode             wake_node;
};

static void fill (AgPipe *self);

/* Waking up on the engine's thread */

static void
wake_deliver (AgNode   *node,
              gpointer  owner)
{
  AgEngine *engine = owner;
  AgPipe *self = G_STRUCT_MEMBER_P (node, -G_STRUCT_OFFSET (AgPipe, wake_node));
  AgMultiTask *multi = self->multi;

  g_atomic_int_set (&self->wake_queued, FALSE);
  if (engine != NULL && self->running)
    fill (self);

  /* May free the pipe. Without an engine this may be a worker thread. */
  _ag_task_unref_at_home (AG_TASK (multi));
}

/* The output's demand watcher: any thread, under the channel's lock. */
static void
demand_changed (gpointer user_data)
{
  AgPipe *self = user_data;

  if (!g_atomic_int_compare_and_exchange (&self->wake_queued, FALSE, TRUE))
    return;

  g_object_ref (self->multi);
  self->wake_node.deliver = wake_deliver;
  _ag_completion_queue_push (self->queue, &self->wake_node);
}

/* Ending */

static void
stop_work (AgPipe *self)
{
  self->running = FALSE;
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

/* Nobody reads the output any more. */
static void
end_cancelled (AgPipe *self)
{
  stop_work (self);
  ag_task_cancel (AG_TASK (self->multi));
}

static void
end_with_error (AgPipe *self,
                GError *error)
{
  stop_work (self);
  ag_task_return_error (AG_TASK (self->multi), error);
}

static void
end_successfully (AgPipe *self)
{
  GValue value = G_VALUE_INIT;

  stop_work (self);
  g_value_init (&value, G_TYPE_UINT64);
  g_value_set_uint64 (&value, self->n_written);
  _ag_task_return_take_value (AG_TASK (self->multi), &value);
}

/* Moves @from's values to the end of @to, leaving @from empty. */
static void
move_values (GArray *to,
             GArray *from,
             guint   count)
{
  /* An empty array may have no storage, and memset (NULL, …) is undefined
   * even for 0 bytes. */
  if (count == 0)
    return;

  g_array_append_vals (to, from->data, count);
  memset (from->data, 0, count * sizeof (GValue));
  g_array_remove_range (from, 0, count);
}

/* Outputs, in chunk order */

static void
collect_in_order (AgPipe *self)
{
  AgPipeChunk *chunk;

  while ((chunk = g_hash_table_lookup (self->finished, &self->next_write_seq)) != NULL)
    {
      g_hash_table_steal (self->finished, &self->next_write_seq);
      self->next_write_seq++;
      self->n_in_flight -= chunk->inputs->len;
      move_values (self->pending, chunk->outputs, chunk->outputs->len);

      if (chunk->error != NULL)
        {
          /* Later chunks are dropped, and nothing new starts. */
          self->failure = g_steal_pointer (&chunk->error);
          g_cancellable_cancel (self->cancellable);
          g_hash_table_remove_all (self->finished);
        }
      _ag_pipe_chunk_free (chunk);
    }
}

/* Returns FALSE if the run ended. */
static gboolean
flush_pending (AgPipe *self)
{
  g_autoptr(GError) error = NULL;
  guint n;

  if (self->pending->len == 0)
    return TRUE;

  if (self->output == NULL)
    {
      self->n_written += self->pending->len;
      g_array_set_size (self->pending, 0);
      return TRUE;
    }

  if (!_ag_channel_push_many (self->output, self->pending, &n, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
        end_cancelled (self);
      else
        end_with_error (self, g_steal_pointer (&error));
      return FALSE;
    }
  self->n_written += n;

  return TRUE;
}

static gboolean
is_exhausted (AgPipe *self)
{
  return self->input_done && self->n_requested == 0 && self->inputs->len == 0
         && self->n_in_flight == 0 && self->pending->len == 0;
}

/* Inputs */

/* How many more inputs the readers want than are on their way. */
static guint64
wanted (AgPipe *self)
{
  guint64 have = self->n_in_flight + self->pending->len + self->inputs->len + self->n_requested;
  guint64 demand;

  if (self->output != NULL)
    demand = _ag_channel_get_demand (self->output);
  else
    demand = (guint64) self->max_chunk * self->limit;

  return demand > have ? demand - have : 0;
}

static void
check_upstream (AgPipe *self)
{
  AgTaskState state;

  if (self->upstream == NULL)
    return;

  state = ag_task_get_state (AG_TASK (self->upstream));
  if (state == AG_TASK_FAILED || state == AG_TASK_CANCELLED)
    self->input_error = g_error_copy (ag_task_get_error (AG_TASK (self->upstream)));
}

static void
input_read (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  AgMultiTask *multi = user_data;
  AgPipe *self = _ag_multi_task_get_pipe (multi);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;
  guint requested = self->n_requested;

  items = ag_channel_reader_read_finish (AG_CHANNEL_READER (source), result, &error);
  self->n_requested = 0;

  if (self->running)
    {
      if (items == NULL)
        end_with_error (self, g_steal_pointer (&error));
      else
        {
          if (items->len < MIN (requested, self->min_count)
              && ag_channel_reader_is_drained (self->input))
            {
              self->input_done = TRUE;
              check_upstream (self);
            }
          move_values (self->inputs, items, items->len);
          fill (self);
        }
    }

  g_object_unref (multi);
}

static void
request_inputs (AgPipe  *self,
                guint64  want)
{
  guint64 batch = MIN (MAX (want, self->min_count),
                       MIN ((guint64) self->max_chunk * self->limit, G_MAXUINT));

  if (self->input != NULL)
    {
      AgEngine *engine = _ag_task_get_engine (AG_TASK (self->multi));
      GMainContext *context = ag_engine_get_context (engine);

      if (self->n_requested > 0)
        return;

      /* The read's callback must come back on the engine's context. */
      self->n_requested = (guint) batch;
      g_main_context_push_thread_default (context);
      _ag_channel_reader_read_some_async (self->input, self->min_count, (guint) batch,
                                          self->cancellable, input_read,
                                          g_object_ref (self->multi));
      g_main_context_pop_thread_default (context);
      return;
    }

  for (guint64 i = 0; i < batch && !self->input_done; i++)
    {
      GValue value = G_VALUE_INIT;

      if (self->model != NULL)
        {
          gpointer item = g_list_model_get_item (self->model, self->next_position);

          if (item == NULL)
            {
              self->input_done = TRUE;
              break;
            }
          g_value_init (&value, G_TYPE_OBJECT);
          g_value_take_object (&value, item);
        }
      else
        {
          g_value_init (&value, G_TYPE_UINT64);
          g_value_set_uint64 (&value, self->next_position);
        }
      g_array_append_vals (self->inputs, &value, 1);
      self->next_position++;

      if (self->model == NULL && self->n_range >= 0
          && self->next_position >= (guint64) self->n_range)
        self->input_done = TRUE;
    }

  if (self->model != NULL && self->next_position >= g_list_model_get_n_items (self->model))
    self->input_done = TRUE;
}

static void
dispatch (AgPipe *self)
{
  AgEngine *engine = _ag_task_get_engine (AG_TASK (self->multi));

  while (self->inputs->len > 0 && self->chunks_running < self->limit)
    {
      guint free = self->limit - self->chunks_running;
      guint size = MIN (self->max_chunk, (self->inputs->len + free - 1) / free);
      GArray *inputs = _ag_value_array_new (size);
      AgPipeChunk *chunk;

      move_values (inputs, self->inputs, size);
      chunk = _ag_pipe_chunk_new (self->multi, self->queue, self->cancellable, inputs);
      chunk->seq = self->next_seq++;
      chunk->func = self->func;
      chunk->user_data = self->func_data;
      chunk->apply_single = self->apply_single;

      self->n_in_flight += size;
      self->chunks_running++;
      _ag_engine_submit_work (engine, &chunk->work);
    }
}

/* The one place that moves a running pipeline along; see the top. */
static void
fill (AgPipe *self)
{
  guint64 want;

  if (self->output != NULL && _ag_channel_is_broken (self->output))
    {
      end_cancelled (self);
      return;
    }

  collect_in_order (self);
  if (!flush_pending (self))
    return;

  if (self->failure != NULL)
    {
      if (self->pending->len == 0)
        end_with_error (self, g_steal_pointer (&self->failure));
      return;
    }

  want = wanted (self);
  if (want > 0 && !self->input_done)
    request_inputs (self, want);
  dispatch (self);

  if (is_exhausted (self))
    {
      if (self->input_error != NULL)
        end_with_error (self, g_steal_pointer (&self->input_error));
      else
        end_successfully (self);
    }
}

/* Once the run is over and no worker is in the function any more, its
 * data goes: a binding's closure often refers back to the pipeline, and
 * would otherwise keep it alive. */
static void
release_func_if_idle (AgPipe *self)
{
  GDestroyNotify destroy = self->func_destroy;

  if (self->running || self->chunks_running > 0 || self->func == NULL)
    return;

  self->func = NULL;
  self->func_destroy = NULL;
  if (destroy != NULL)
    destroy (g_steal_pointer (&self->func_data));
}

gboolean
_ag_pipe_chunk_done (AgPipe      *self,
                     AgPipeChunk *chunk)
{
  self->chunks_running--;
  if (!self->running || self->failure != NULL)
    {
      release_func_if_idle (self);
      return FALSE;
    }

  g_hash_table_insert (self->finished, &chunk->seq, chunk);
  fill (self);

  return TRUE;
}

/* Life */

AgPipe *
_ag_pipe_new (AgPipeFunc     func,
              gpointer       user_data,
              GDestroyNotify destroy)
{
  AgPipe *self = g_new0 (AgPipe, 1);

  self->func = func;
  self->func_data = user_data;
  self->func_destroy = destroy;
  self->n_range = -1;

  return self;
}

void
_ag_pipe_set_input_reader (AgPipe          *self,
                           AgChannelReader *input,
                           AgMultiTask     *upstream)
{
  self->input = g_object_ref (input);
  self->upstream = upstream != NULL ? g_object_ref (upstream) : NULL;
}

void
_ag_pipe_set_input_model (AgPipe     *self,
                          GListModel *model)
{
  self->model = g_object_ref (model);
}

void
_ag_pipe_set_input_range (AgPipe *self,
                          gint64  n_items)
{
  self->n_range = n_items;
}

void
_ag_pipe_start (AgPipe      *self,
                AgMultiTask *multi)
{
  AgEngine *engine = _ag_task_get_engine (AG_TASK (multi));
  int threads = ag_engine_get_max_threads (engine);
  guint max_workers = ag_multi_task_get_max_workers (multi);

  self->multi = multi;
  self->min_count = ag_multi_task_get_min_count (multi);
  self->max_chunk = ag_multi_task_get_max_chunk_size (multi);
  if (self->max_chunk == 0)
    self->max_chunk = DEFAULT_MAX_CHUNK;
  self->limit = max_workers > 0 ? max_workers : (guint) MAX (threads, 1);
  self->apply_single = ag_multi_task_get_apply_single (multi);

  self->running = TRUE;
  self->queue = _ag_completion_queue_ref (_ag_engine_get_queue (engine));
  self->cancellable = g_cancellable_new ();
  self->inputs = _ag_value_array_new (0);
  self->pending = _ag_value_array_new (0);
  self->finished = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                          (GDestroyNotify) _ag_pipe_chunk_free);

  if (self->input == NULL && self->model == NULL && self->n_range == 0)
    self->input_done = TRUE;
  if (self->model != NULL && g_list_model_get_n_items (self->model) == 0)
    self->input_done = TRUE;

  if (self->output != NULL)
    _ag_channel_set_demand_func (self->output, demand_changed, self);

  /* Reading our input is what makes the stage before us run. */
  if (self->upstream != NULL && ag_task_get_state (AG_TASK (self->upstream)) == AG_TASK_PENDING)
    ag_engine_run_async (engine, AG_TASK (self->upstream), NULL, NULL, NULL);

  fill (self);
}

void
_ag_pipe_cancel (AgPipe *self)
{
  stop_work (self);
}

/* The task reached its final state: readers see the output end, and the
 * stage before us sees its reader go, which stops it in turn. */
void
_ag_pipe_stopped (AgPipe *self)
{
  stop_work (self);

  if (self->output != NULL)
    {
      _ag_channel_set_demand_func (self->output, NULL, NULL);
      ag_channel_close (self->output);
    }
  if (self->input != NULL)
    ag_channel_reader_close (self->input);

  g_clear_pointer (&self->inputs, g_array_unref);
  g_clear_pointer (&self->pending, g_array_unref);
  g_clear_pointer (&self->finished, g_hash_table_unref);
  g_clear_error (&self->failure);
  g_clear_error (&self->input_error);

  release_func_if_idle (self);
}

void
_ag_pipe_free (AgPipe *self)
{
  if (self->func_destroy != NULL)
    self->func_destroy (self->func_data);

  g_clear_object (&self->input);
  g_clear_object (&self->upstream);
  g_clear_object (&self->model);
  g_clear_object (&self->output);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->queue, _ag_completion_queue_unref);
  g_clear_pointer (&self->inputs, g_array_unref);
  g_clear_pointer (&self->pending, g_array_unref);
  g_clear_pointer (&self->finished, g_hash_table_unref);
  g_clear_error (&self->failure);
  g_clear_error (&self->input_error);
  g_free (self);
}

/* Public API: declared in ag-multi-task.h */

static AgPipe *
pipe_of (AgMultiTask *self,
         const char  *strfunc)
{
  AgPipe *pipe = _ag_multi_task_get_pipe (self);

  if (pipe == NULL)
    g_critical ("%s: the MultiTask %p is not a pipeline; make it with "
                "ag_multi_task_new_pipe() or a sibling", strfunc, self);
  return pipe;
}

/**
 * ag_multi_task_new_pipe:
 * @inputs: the read end its inputs come from
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function that turns inputs into outputs
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the pipeline has ended (or is
 *   gone, if it never ran)
 *
 * Creates a pipeline: a MultiTask that reads its inputs from a channel,
 * passes them through @func on worker threads and writes the outputs, in
 * input order, to its output channel (see [method@MultiTask.open_output]).
 * It runs only as fast as its output is read. When @inputs is drained, the
 * pipeline writes what is left, closes its output and succeeds.
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new pipeline
 *
 * Since: 1.0
 */
AgMultiTask *
ag_multi_task_new_pipe (AgChannelReader *inputs,
                        AgPipeFunc       func,
                        gpointer         user_data,
                        GDestroyNotify   destroy)
{
  AgPipe *pipe;

  g_return_val_if_fail (AG_IS_CHANNEL_READER (inputs), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  pipe = _ag_pipe_new (func, user_data, destroy);
  _ag_pipe_set_input_reader (pipe, inputs, NULL);
  return _ag_multi_task_new_for_pipe (pipe);
}

/**
 * ag_multi_task_new_pipe_model:
 * @inputs: the list model its inputs come from
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function that turns inputs into outputs
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the pipeline has ended (or is
 *   gone, if it never ran)
 *
 * Creates a pipeline over the objects of a list model, taken in order on
 * the engine's thread only when they are needed; @func sees each as a
 * [struct@GObject.Value] holding the object. See
 * [ctor@MultiTask.new_pipe].
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new pipeline
 *
 * Since: 1.0
 */
AgMultiTask *
ag_multi_task_new_pipe_model (GListModel     *inputs,
                              AgPipeFunc      func,
                              gpointer        user_data,
                              GDestroyNotify  destroy)
{
  AgPipe *pipe;

  g_return_val_if_fail (G_IS_LIST_MODEL (inputs), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  pipe = _ag_pipe_new (func, user_data, destroy);
  _ag_pipe_set_input_model (pipe, inputs);
  return _ag_multi_task_new_for_pipe (pipe);
}

/**
 * ag_multi_task_new_pipe_range:
 * @n_items: how many inputs: 0, 1, … @n_items - 1; -1 for no end
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function that turns inputs into outputs
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the pipeline has ended (or is
 *   gone, if it never ran)
 *
 * Creates a pipeline over the numbers 0, 1, 2, … (#guint64 values), made
 * only when readers want them, so it may have no end: reading two items
 * of a pipeline over 0..∞ calls @func twice. See
 * [ctor@MultiTask.new_pipe].
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new pipeline
 *
 * Since: 1.0
 */
AgMultiTask *
ag_multi_task_new_pipe_range (gint64          n_items,
                              AgPipeFunc      func,
                              gpointer        user_data,
                              GDestroyNotify  destroy)
{
  AgPipe *pipe;

  g_return_val_if_fail (n_items >= -1, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  pipe = _ag_pipe_new (func, user_data, destroy);
  _ag_pipe_set_input_range (pipe, n_items);
  return _ag_multi_task_new_for_pipe (pipe);
}

/**
 * ag_multi_task_add_stage:
 * @self: a pipeline
 * @capacity: the capacity of the channel between the two stages, if
 *   @self has no output yet
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function of the new stage
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the stage has ended (or is
 *   gone, if it never ran)
 *
 * Adds a stage after @self: a new pipeline that reads the output of
 * @self. Running the new stage runs @self as well, and if @self fails,
 * the new stage fails with its error once it has written the outputs of
 * what came before. Chain stages, then run and read the last one:
 *
 * ```c
 * numbers = ag_multi_task_new_pipe_range (-1, parse, NULL, NULL);
 * squares = ag_multi_task_add_stage (numbers, 64, square, NULL, NULL);
 * reader = ag_multi_task_open_output (squares, 64);
 * ag_engine_run_async (engine, AG_TASK (squares), NULL, pipeline_done, NULL);
 * ag_channel_reader_read_async (reader, 10, -1, NULL, got_ten, NULL);
 * ```
 *
 * Thread: any, before @self is run; the engine's afterwards.
 *
 * Returns: (transfer full): the new stage
 *
 * Since: 1.0
 */
AgMultiTask *
ag_multi_task_add_stage (AgMultiTask    *self,
                    guint           capacity,
                    AgPipeFunc      func,
                    gpointer        user_data,
                    GDestroyNotify  destroy)
{
  g_autoptr(AgChannelReader) reader = NULL;
  AgPipe *pipe;

  g_return_val_if_fail (AG_IS_MULTI_TASK (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  reader = ag_multi_task_open_output (self, capacity);
  if (reader == NULL)
    return NULL;

  pipe = _ag_pipe_new (func, user_data, destroy);
  _ag_pipe_set_input_reader (pipe, reader, self);
  return _ag_multi_task_new_for_pipe (pipe);
}

/**
 * ag_multi_task_set_output:
 * @self: a pipeline that has not been run
 * @output: (nullable): the channel to write outputs to, or %NULL for none
 *
 * Sets the channel the pipeline writes its outputs to. The pipeline then
 * owns the write end: it closes the channel when it ends, and stops
 * (cancelled) when the channel's last reader goes. Without an output the
 * pipeline is a sink that runs its function on every input.
 *
 * Thread: any, before @self is run.
 *
 * Since: 1.0
 */
void
ag_multi_task_set_output (AgMultiTask *self,
                          AgChannel   *output)
{
  AgPipe *pipe;

  g_return_if_fail (AG_IS_MULTI_TASK (self));
  g_return_if_fail (output == NULL || AG_IS_CHANNEL (output));

  if ((pipe = pipe_of (self, G_STRFUNC)) == NULL)
    return;
  if (_ag_multi_task_is_started (self))
    {
      g_critical ("%s: the pipeline %p is already running; set its output before running it",
                  G_STRFUNC, self);
      return;
    }

  g_set_object (&pipe->output, output);
}

/**
 * ag_multi_task_get_output:
 * @self: a pipeline
 *
 * Gets the channel the pipeline writes its outputs to.
 *
 * Thread: any.
 *
 * Returns: (transfer none) (nullable): the output channel, or %NULL
 *
 * Since: 1.0
 */
AgChannel *
ag_multi_task_get_output (AgMultiTask *self)
{
  AgPipe *pipe;

  g_return_val_if_fail (AG_IS_MULTI_TASK (self), NULL);

  pipe = _ag_multi_task_get_pipe (self);
  return pipe != NULL ? pipe->output : NULL;
}

/**
 * ag_multi_task_open_output:
 * @self: a pipeline
 * @capacity: the capacity of the output channel, if it has to be made
 *
 * Opens a reader of the pipeline's output, first making the output
 * channel with @capacity if the pipeline has none. Reading it is what
 * makes the pipeline work: a read of n items runs n inputs (rounded up to
 * [property@MultiTask:min-count]). When the pipeline ends, the channel is
 * closed: a reader gets every output made before, then a drained channel;
 * the task tells how it ended. Dropping the last reader stops the
 * pipeline and the stages before it.
 *
 * Thread: any.
 *
 * Returns: (transfer full) (nullable): a new reader, or %NULL if @self is
 *   not a pipeline
 *
 * Since: 1.0
 */
AgChannelReader *
ag_multi_task_open_output (AgMultiTask *self,
                           guint        capacity)
{
  AgPipe *pipe;

  g_return_val_if_fail (AG_IS_MULTI_TASK (self), NULL);

  if ((pipe = pipe_of (self, G_STRFUNC)) == NULL)
    return NULL;

  if (pipe->output == NULL)
    {
      g_return_val_if_fail (capacity > 0, NULL);
      if (_ag_multi_task_is_started (self))
        {
          g_critical ("%s: the pipeline %p is already running without an output",
                      G_STRFUNC, self);
          return NULL;
        }
      pipe->output = ag_channel_new (capacity);
    }

  return ag_channel_open_reader (pipe->output);
}
