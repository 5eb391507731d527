/* ag-pipeline-demand.c: how a running pipeline moves: demand in, outputs
 * out
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "ag-channel-private.h"
#include "ag-chunk-run-private.h"
#include "ag-engine-private.h"
#include "ag-pipeline-private.h"
#include "ag-task-private.h"
#include "ag-values-private.h"

/* The output channel tells the pipeline, through a demand watcher, when
 * its readers may want more (a read started waiting, items were taken, the
 * last reader went). The watcher runs on the reader's thread under the
 * channel's lock, so all it does is queue the pipeline's wake node on the
 * engine's completion queue, at most once. On the engine's thread, fill()
 * then does everything in one place, in this order:
 *
 *   1. stop if nobody can read any more (the last reader went);
 *   2. take the runs that came back, in run order, into `pending`;
 *   3. write `pending` to the channel, as much as readers take or fits;
 *   4. end, with the first failure once the outputs before it are out,
 *      or successfully once the input is exhausted and everything written;
 *   5. ask for as many new inputs as the readers want beyond what is
 *      already in flight (at least min-count): from a list model or a
 *      range at once, from an input channel with one read at a time,
 *      which is how demand travels upstream;
 *   6. hand the inputs to the workers in runs (ag-chunk-run.c), at most
 *      max-workers at once, none bigger than max-chunk-size.
 *
 * So a read of n items runs n inputs, rounded up to min-count, and nothing
 * runs while nobody reads. Without an output channel the pipeline is a
 * sink: it keeps a bounded window of inputs in flight until the input
 * ends. */

#define DEFAULT_MAX_CHUNK 4096

static void fill (AgPipeline *self);

/* Waking up on the engine's thread */

static void
wake_deliver (AgNode   *node,
              gpointer  engine)
{
  AgPipeline *self = G_STRUCT_MEMBER_P (node, -G_STRUCT_OFFSET (AgPipeline, wake_node));

  g_atomic_int_set (&self->wake_queued, FALSE);
  if (engine != NULL && self->running)
    fill (self);

  /* May free the pipeline. Without an engine this may be a worker thread. */
  _ag_task_unref_at_home (AG_TASK (self));
}

/* The output's demand watcher: any thread, under the channel's lock. */
static void
demand_changed (gpointer user_data)
{
  AgPipeline *self = user_data;

  if (!g_atomic_int_compare_and_exchange (&self->wake_queued, FALSE, TRUE))
    return;

  g_object_ref (self);
  self->wake_node.deliver = wake_deliver;
  _ag_completion_queue_push (self->queue, &self->wake_node);
}

/* Ending */

void
_ag_pipeline_demand_stop (AgPipeline *self)
{
  self->running = FALSE;
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

/* Nobody reads the output any more. */
static void
end_cancelled (AgPipeline *self)
{
  _ag_pipeline_demand_stop (self);
  ag_task_cancel (AG_TASK (self));
}

static void
end_with_error (AgPipeline   *self,
                GError       *error,
                const GValue *detail)
{
  _ag_pipeline_demand_stop (self);
  ag_task_return_error_full (AG_TASK (self), error, detail);
}

/* The first failure, with its detail, once the outputs before it are out. */
static void
end_with_failure (AgPipeline *self)
{
  AgFailure *failure = g_steal_pointer (&self->failure);

  end_with_error (self, g_steal_pointer (&failure->error), _ag_failure_get_detail (failure));
  _ag_failure_free (failure);
}

static void
end_successfully (AgPipeline *self)
{
  GValue value = G_VALUE_INIT;

  _ag_pipeline_demand_stop (self);
  g_value_init (&value, G_TYPE_UINT64);
  g_value_set_uint64 (&value, self->n_written);
  _ag_task_return_take_value (AG_TASK (self), &value);
}

/* Moves @from's first @count values to the end of @to. */
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

/* Outputs, in run order */

static void
collect_in_order (AgPipeline *self)
{
  AgChunkRun *run;

  while ((run = g_hash_table_lookup (self->finished, &self->next_write_seq)) != NULL)
    {
      g_hash_table_steal (self->finished, &self->next_write_seq);
      self->next_write_seq++;
      self->n_in_flight -= run->count;
      move_values (self->pending, run->outputs, run->outputs->len);

      if (run->failure != NULL)
        {
          /* Later runs are dropped, and nothing new starts. */
          self->failure = g_steal_pointer (&run->failure);
          g_cancellable_cancel (self->cancellable);
          g_hash_table_remove_all (self->finished);
        }
      _ag_chunk_run_free (run);
    }
}

/* Returns FALSE if the run ended. */
static gboolean
flush_pending (AgPipeline *self)
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
        end_with_error (self, g_steal_pointer (&error), NULL);
      return FALSE;
    }
  self->n_written += n;

  return TRUE;
}

static gboolean
is_exhausted (AgPipeline *self)
{
  return self->input_done && self->n_requested == 0 && self->inputs->len == 0
         && self->n_in_flight == 0 && self->pending->len == 0;
}

/* Inputs */

/* How many more inputs the readers want than are on their way. */
static guint64
wanted (AgPipeline *self)
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
free_detail (GValue *detail)
{
  g_boxed_free (G_TYPE_VALUE, detail);
}

static void
check_upstream (AgPipeline *self)
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
  AgPipeline *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;
  guint requested = self->n_requested;

  items = ag_channel_reader_read_finish (AG_CHANNEL_READER (source), result, &error);
  self->n_requested = 0;

  if (self->running)
    {
      if (items == NULL)
        {
          /* As a failure of the stage before: the outputs of the inputs
           * taken before it go out first, then it ends the pipeline, with
           * the read transform's detail. */
          self->input_done = TRUE;
          g_clear_error (&self->input_error);
          self->input_error = g_steal_pointer (&error);
          g_clear_pointer (&self->input_detail, free_detail);
          self->input_detail = ag_channel_reader_take_error_detail (AG_CHANNEL_READER (source));
          fill (self);
        }
      else
        {
          if (items->len < MIN (requested, self->min_count)
              && ag_channel_reader_is_drained (self->input))
            {
              self->input_done = TRUE;
              check_upstream (self);
            }
          self->next_position += items->len;
          move_values (self->inputs, items, items->len);
          fill (self);
        }
    }

  g_object_unref (self);
}

static void
take_inputs (AgPipeline *self,
             guint64     batch)
{
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
request_inputs (AgPipeline *self,
                guint64     want)
{
  /* At most what the runs take at once, but never fewer than min-count:
   * with chunks smaller than that and one run at a time (serial mode) the
   * batch runs chunk after chunk. */
  guint64 batch = MIN (MAX (want, self->min_count),
                       MAX (self->min_count,
                            MIN ((guint64) self->max_chunk * self->limit, G_MAXUINT)));
  AgEngine *engine;
  GMainContext *context;

  if (self->input == NULL)
    {
      take_inputs (self, batch);
      return;
    }

  if (self->n_requested > 0)
    return;

  /* The read's callback must come back on the engine's context. */
  engine = _ag_task_get_engine (AG_TASK (self));
  context = ag_engine_get_context (engine);
  self->n_requested = (guint) batch;
  g_main_context_push_thread_default (context);
  _ag_channel_reader_read_some_async (self->input, self->min_count, (guint) batch,
                                      self->cancellable, input_read, g_object_ref (self));
  g_main_context_pop_thread_default (context);
}

static void run_done (AgChunkRun *run,
                      AgTask     *owner);

static void
dispatch (AgPipeline *self)
{
  AgEngine *engine = _ag_task_get_engine (AG_TASK (self));

  while (self->inputs->len > 0 && self->runs_going < self->limit)
    {
      guint free = self->limit - self->runs_going;
      guint size = MIN (self->max_chunk, (self->inputs->len + free - 1) / free);
      AgChunkRun *run = _ag_chunk_run_new (AG_TASK (self), self->queue, self->cancellable,
                                           run_done);

      run->kind = self->apply_single ? AG_CHUNK_RUN_PIPE_SINGLE : AG_CHUNK_RUN_PIPE_WHOLE;
      run->func.pipe = self->func;
      run->user_data = self->func_data;
      run->seq = self->next_seq++;
      run->start = self->next_position - self->inputs->len;
      run->count = size;
      run->inputs = _ag_value_array_new (size);
      run->outputs = _ag_value_array_new (size);
      move_values (run->inputs, self->inputs, size);

      self->n_in_flight += size;
      self->runs_going++;
      _ag_engine_submit_work (engine, &run->work);
    }
}

/* The one place that moves a running pipeline along; see the top. */
static void
fill (AgPipeline *self)
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
        end_with_failure (self);
      return;
    }

  want = wanted (self);
  if (want > 0 && !self->input_done)
    request_inputs (self, want);
  dispatch (self);

  if (is_exhausted (self))
    {
      /* An upstream stage's failure comes with its detail. */
      if (self->input_error != NULL)
        {
          /* Taken: ending clears what running kept. */
          GValue *detail = g_steal_pointer (&self->input_detail);

          end_with_error (self, g_steal_pointer (&self->input_error),
                          detail != NULL ? detail
                          : self->upstream != NULL ? ag_task_get_error_detail (AG_TASK (self->upstream))
                          : NULL);
          g_clear_pointer (&detail, free_detail);
        }
      else
        end_successfully (self);
    }
}

/* Once the run is over and no worker is in the function any more, its
 * data goes: a binding's closure often refers back to the pipeline, and
 * would otherwise keep it alive. */
static void
release_func_if_idle (AgPipeline *self)
{
  GDestroyNotify destroy = self->func_destroy;

  if (self->running || self->runs_going > 0 || self->func == NULL)
    return;

  self->func = NULL;
  self->func_destroy = NULL;
  if (destroy != NULL)
    destroy (g_steal_pointer (&self->func_data));
}

static void
run_done (AgChunkRun *run,
          AgTask     *owner)
{
  AgPipeline *self = AG_PIPELINE (owner);

  self->runs_going--;
  if (!self->running || self->failure != NULL)
    {
      /* Before the run goes: once the pipeline has ended, the run may hold
       * its last reference. */
      release_func_if_idle (self);
      _ag_chunk_run_free (run);
      return;
    }

  g_hash_table_insert (self->finished, &run->seq, run);
  fill (self);
}

/* Life */

void
_ag_pipeline_demand_start (AgPipeline *self)
{
  AgEngine *engine = _ag_task_get_engine (AG_TASK (self));
  int threads = ag_engine_get_max_threads (engine);

  self->max_chunk = self->max_chunk_size > 0 ? self->max_chunk_size : DEFAULT_MAX_CHUNK;
  self->limit = self->max_workers > 0 ? self->max_workers : (guint) MAX (threads, 1);

  self->running = TRUE;
  self->queue = _ag_completion_queue_ref (_ag_engine_get_queue (engine));
  self->cancellable = g_cancellable_new ();
  self->inputs = _ag_value_array_new (0);
  self->pending = _ag_value_array_new (0);
  self->finished = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                          (GDestroyNotify) _ag_chunk_run_free);

  if (self->input == NULL && self->model == NULL && self->n_range == 0)
    self->input_done = TRUE;
  if (self->model != NULL && g_list_model_get_n_items (self->model) == 0)
    self->input_done = TRUE;

  if (self->output != NULL)
    _ag_channel_set_demand_func (self->output, demand_changed, self, self->queue);

  /* Reading our input is what makes the stage before us run. */
  if (self->upstream != NULL && ag_task_get_state (AG_TASK (self->upstream)) == AG_TASK_PENDING)
    ag_engine_run_async (engine, AG_TASK (self->upstream), NULL, NULL, NULL);

  fill (self);
}

/* The task reached its final state: readers see the output end, and the
 * stage before us sees its reader go, which stops it in turn. */
void
_ag_pipeline_demand_stopped (AgPipeline *self)
{
  _ag_pipeline_demand_stop (self);

  if (self->output != NULL)
    {
      _ag_channel_set_demand_func (self->output, NULL, NULL, NULL);
      ag_channel_close (self->output);
    }
  if (self->input != NULL)
    ag_channel_reader_close (self->input);

  g_clear_pointer (&self->inputs, g_array_unref);
  g_clear_pointer (&self->pending, g_array_unref);
  g_clear_pointer (&self->finished, g_hash_table_unref);
  g_clear_pointer (&self->failure, _ag_failure_free);
  g_clear_error (&self->input_error);
  g_clear_pointer (&self->input_detail, free_detail);

  release_func_if_idle (self);
}

/* What running left behind, when the pipeline goes. */
void
_ag_pipeline_demand_clear (AgPipeline *self)
{
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->queue, _ag_completion_queue_unref);
  g_clear_pointer (&self->inputs, g_array_unref);
  g_clear_pointer (&self->pending, g_array_unref);
  g_clear_pointer (&self->finished, g_hash_table_unref);
  g_clear_pointer (&self->failure, _ag_failure_free);
  g_clear_error (&self->input_error);
  g_clear_pointer (&self->input_detail, free_detail);
}
