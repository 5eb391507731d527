/* ag-pipeline.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-channel-private.h"
#include "ag-error.h"
#include "ag-pipeline-private.h"
#include "ag-task-private.h"

/**
 * AgPipeline:
 *
 * A task that streams inputs through a function into a channel, in input
 * order, as fast as the channel is read.
 *
 * Its inputs come from a channel ([ctor@Pipeline.new]), a list model
 * ([ctor@Pipeline.new_model]) or the numbers 0, 1, 2, …
 * ([ctor@Pipeline.new_range], possibly without end). The function runs on
 * worker threads and turns each input into outputs through the
 * [class@Chunk] handle it is given.
 *
 * ```c
 * static void
 * square (AgChunk      *chunk,
 *         const GValue *item,
 *         gpointer      user_data)
 * {
 *   guint64 n = g_value_get_uint64 (item);
 *
 *   ag_chunk_return_uint64 (chunk, n * n);
 * }
 *
 * squares = ag_pipeline_new_range (-1, square, NULL, NULL);  // 0, 1, 2, …
 * reader = ag_pipeline_open_output (squares, 64);
 * ag_engine_run_async (engine, AG_TASK (squares), NULL, squares_done, self);
 *
 * // Runs square() ten times, on the workers, and no more.
 * ag_channel_reader_read_async (reader, 10, -1, NULL, got_ten, self);
 * ```
 *
 * Running a pipeline starts nothing by itself: a read of n outputs makes it
 * take n inputs (at least [property@Pipeline:min-count]) and split them
 * between the workers, at most [property@Pipeline:max-workers] runs at
 * once, none bigger than [property@Pipeline:max-chunk-size]. A function may
 * make any number of outputs of one input ([method@Chunk.emit]), and with
 * [property@Pipeline:apply-single] unset it gets whole chunks.
 *
 * A pipeline ends when its input ends (it succeeds with the number of
 * outputs written, a #guint64), when its function fails (after the outputs
 * of the inputs before), or when the last reader of its output goes
 * (cancelled); its output channel is then closed. Stages chain with
 * [method@Pipeline.add_stage]; the guide "Channels and pipelines" tells
 * more.
 *
 * Since: 1.0
 */

G_DEFINE_FINAL_TYPE (AgPipeline, ag_pipeline, AG_TYPE_TASK)

enum {
  PROP_0,
  PROP_MAX_WORKERS,
  PROP_MIN_COUNT,
  PROP_MAX_CHUNK_SIZE,
  PROP_APPLY_SINGLE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Settings may change only before the pipeline runs. */
static gboolean
check_not_started (AgPipeline *self,
                   const char *strfunc)
{
  if (!self->started)
    return TRUE;

  g_critical ("%s: the pipeline %p is already running; set it up before running it",
              strfunc, self);
  return FALSE;
}

/* AgTask */

static void
ag_pipeline_start (AgTask *task)
{
  AgPipeline *self = AG_PIPELINE (task);

  self->started = TRUE;
  if (self->func == NULL)
    {
      ag_task_return_new_error (task, AG_ERROR, AG_ERROR_FAILED,
                                _("The pipeline has no function: make it with "
                                  "ag_pipeline_new() or a sibling"));
      return;
    }

  _ag_pipeline_demand_start (self);
}

static void
ag_pipeline_cancel (AgTask *task)
{
  _ag_pipeline_demand_stop (AG_PIPELINE (task));
}

static void
ag_pipeline_stopped (AgTask *task)
{
  _ag_pipeline_demand_stopped (AG_PIPELINE (task));
}

/* GObject */

static void
ag_pipeline_finalize (GObject *object)
{
  AgPipeline *self = AG_PIPELINE (object);

  if (self->func_destroy != NULL)
    self->func_destroy (self->func_data);

  g_clear_object (&self->input);
  g_clear_object (&self->upstream);
  g_clear_object (&self->model);
  g_clear_object (&self->output);
  _ag_pipeline_demand_clear (self);

  G_OBJECT_CLASS (ag_pipeline_parent_class)->finalize (object);
}

static void
ag_pipeline_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  AgPipeline *self = AG_PIPELINE (object);

  switch (prop_id)
    {
    case PROP_MAX_WORKERS:
      g_value_set_uint (value, self->max_workers);
      break;
    case PROP_MIN_COUNT:
      g_value_set_uint (value, self->min_count);
      break;
    case PROP_MAX_CHUNK_SIZE:
      g_value_set_uint (value, self->max_chunk_size);
      break;
    case PROP_APPLY_SINGLE:
      g_value_set_boolean (value, self->apply_single);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_pipeline_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  AgPipeline *self = AG_PIPELINE (object);

  switch (prop_id)
    {
    case PROP_MAX_WORKERS:
      ag_pipeline_set_max_workers (self, g_value_get_uint (value));
      break;
    case PROP_MIN_COUNT:
      ag_pipeline_set_min_count (self, g_value_get_uint (value));
      break;
    case PROP_MAX_CHUNK_SIZE:
      ag_pipeline_set_max_chunk_size (self, g_value_get_uint (value));
      break;
    case PROP_APPLY_SINGLE:
      ag_pipeline_set_apply_single (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_pipeline_class_init (AgPipelineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AgTaskClassPrivate *task_class = _ag_task_class_get_vfuncs (klass);

  /* Chunk objects are made on worker threads. Their class is made here,
   * before any work can be: two threads making the first one at once race
   * on its class through GLib's own atomics, which nothing orders for
   * ThreadSanitizer (or for a reader that relies on it). */
  g_type_class_unref (g_type_class_ref (AG_TYPE_CHUNK));

  object_class->finalize = ag_pipeline_finalize;
  object_class->get_property = ag_pipeline_get_property;
  object_class->set_property = ag_pipeline_set_property;

  task_class->start = ag_pipeline_start;
  task_class->cancel = ag_pipeline_cancel;
  task_class->stopped = ag_pipeline_stopped;

  /**
   * AgPipeline:max-workers:
   *
   * How many runs of the function may go at once; 0 for as many as the
   * engine has threads.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_WORKERS] =
    g_param_spec_uint ("max-workers", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgPipeline:min-count:
   *
   * The fewest inputs the pipeline takes at a time: asked for one output
   * it runs at least this many inputs, which suits functions with a high
   * cost per call.
   *
   * Since: 1.0
   */
  properties[PROP_MIN_COUNT] =
    g_param_spec_uint ("min-count", NULL, NULL,
                       1, G_MAXUINT, 1,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgPipeline:max-chunk-size:
   *
   * The most inputs one worker takes at a time; bigger batches are split
   * between workers. 0 for the default, 4096.
   *
   * A chunk's outputs are written once the whole chunk is done, so with a
   * slow function a read of many outputs with a timeout may end with none
   * although some were made: a small size (1 for each output as soon as it
   * is made) trades throughput for that latency.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_CHUNK_SIZE] =
    g_param_spec_uint ("max-chunk-size", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgPipeline:apply-single:
   *
   * Whether the [callback@PipelineFunc] sees one input at a time (the
   * default) or a whole chunk, whose inputs it reads from its handle
   * ([method@Chunk.dup_items]) and for which it emits any number of
   * outputs.
   *
   * Since: 1.0
   */
  properties[PROP_APPLY_SINGLE] =
    g_param_spec_boolean ("apply-single", NULL, NULL,
                          TRUE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ag_pipeline_init (AgPipeline *self)
{
  self->min_count = 1;
  self->apply_single = TRUE;
  self->n_range = -1;
}

static AgPipeline *
new_pipeline (AgPipelineFunc  func,
              gpointer        user_data,
              GDestroyNotify  destroy)
{
  AgPipeline *self = g_object_new (AG_TYPE_PIPELINE, NULL);

  self->func = func;
  self->func_data = user_data;
  self->func_destroy = destroy;

  return self;
}

/**
 * ag_pipeline_new:
 * @inputs: the read end its inputs come from; the pipeline closes it when
 *   it ends
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function that turns inputs into outputs
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the pipeline has ended (or is
 *   gone, if it never ran)
 *
 * Creates a pipeline that reads its inputs from a channel, passes them
 * through @func on worker threads and writes the outputs, in input order,
 * to its output channel (see [method@Pipeline.open_output]). When @inputs
 * is drained, the pipeline writes what is left, closes its output and
 * succeeds. The pipeline is @inputs' only reader of its items: a reader
 * already given to a pipeline is refused with a critical (open a reader
 * for each).
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new pipeline
 *
 * Since: 1.0
 */
AgPipeline *
ag_pipeline_new (AgChannelReader *inputs,
                 AgPipelineFunc   func,
                 gpointer         user_data,
                 GDestroyNotify   destroy)
{
  AgPipeline *self;

  g_return_val_if_fail (AG_IS_CHANNEL_READER (inputs), NULL);
  g_return_val_if_fail (_ag_channel_reader_has_channel (inputs), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  if (!_ag_channel_reader_take_for_pipeline (inputs))
    {
      g_critical ("%s: the reader already feeds a pipeline; each item would go to "
                  "one of them: open a reader for each", G_STRFUNC);
      return NULL;
    }

  self = new_pipeline (func, user_data, destroy);
  self->input = g_object_ref (inputs);
  return self;
}

/**
 * ag_pipeline_new_model:
 * @inputs: the list model its inputs come from
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function that turns inputs into outputs
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the pipeline has ended (or is
 *   gone, if it never ran)
 *
 * Creates a pipeline over the objects of a list model, taken in order on
 * the engine's thread only when they are needed; @func sees each as a
 * [struct@GObject.Value] holding the object. See [ctor@Pipeline.new].
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new pipeline
 *
 * Since: 1.0
 */
AgPipeline *
ag_pipeline_new_model (GListModel     *inputs,
                       AgPipelineFunc  func,
                       gpointer        user_data,
                       GDestroyNotify  destroy)
{
  AgPipeline *self;

  g_return_val_if_fail (G_IS_LIST_MODEL (inputs), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  self = new_pipeline (func, user_data, destroy);
  self->model = g_object_ref (inputs);
  return self;
}

/**
 * ag_pipeline_new_range:
 * @n_items: how many inputs: 0, 1, … @n_items - 1; -1 for no end
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function that turns inputs into outputs
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the pipeline has ended (or is
 *   gone, if it never ran)
 *
 * Creates a pipeline over the numbers 0, 1, 2, … (#guint64 values), made
 * only when readers want them, so it may have no end: reading two outputs
 * of a pipeline over 0..∞ calls @func twice. See [ctor@Pipeline.new].
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new pipeline
 *
 * Since: 1.0
 */
AgPipeline *
ag_pipeline_new_range (gint64          n_items,
                       AgPipelineFunc  func,
                       gpointer        user_data,
                       GDestroyNotify  destroy)
{
  AgPipeline *self;

  g_return_val_if_fail (n_items >= -1, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  self = new_pipeline (func, user_data, destroy);
  self->n_range = n_items;
  return self;
}

/**
 * ag_pipeline_add_stage:
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
 * numbers = ag_pipeline_new_range (-1, parse, NULL, NULL);
 * squares = ag_pipeline_add_stage (numbers, 64, square, NULL, NULL);
 * reader = ag_pipeline_open_output (squares, 64);
 * ag_engine_run_async (engine, AG_TASK (squares), NULL, pipeline_done, NULL);
 * ag_channel_reader_read_async (reader, 10, -1, NULL, got_ten, NULL);
 * ```
 *
 * A pipeline has at most one next stage, which reads all its outputs: a
 * second stage, or [method@Pipeline.open_output] afterwards, is a
 * programming error.
 *
 * Thread: any, before @self is run; the engine's afterwards.
 *
 * Returns: (transfer full): the new stage
 *
 * Since: 1.0
 */
AgPipeline *
ag_pipeline_add_stage (AgPipeline     *self,
                       guint           capacity,
                       AgPipelineFunc  func,
                       gpointer        user_data,
                       GDestroyNotify  destroy)
{
  g_autoptr(AgChannelReader) reader = NULL;
  AgPipeline *stage;

  g_return_val_if_fail (AG_IS_PIPELINE (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  if (self->feeds_stage)
    {
      g_critical ("%s: the pipeline already feeds a stage; its outputs go to one "
                  "next stage: add this one to that stage", G_STRFUNC);
      return NULL;
    }

  reader = ag_pipeline_open_output (self, capacity);
  if (reader == NULL)
    return NULL;
  self->feeds_stage = TRUE;
  _ag_channel_reader_take_for_pipeline (reader);

  stage = new_pipeline (func, user_data, destroy);
  stage->input = g_steal_pointer (&reader);
  stage->upstream = g_object_ref (self);
  return stage;
}

/**
 * ag_pipeline_set_output:
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
ag_pipeline_set_output (AgPipeline *self,
                        AgChannel  *output)
{
  g_return_if_fail (AG_IS_PIPELINE (self));
  g_return_if_fail (output == NULL || AG_IS_CHANNEL (output));

  if (!check_not_started (self, G_STRFUNC))
    return;

  g_set_object (&self->output, output);
}

/**
 * ag_pipeline_get_output:
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
ag_pipeline_get_output (AgPipeline *self)
{
  g_return_val_if_fail (AG_IS_PIPELINE (self), NULL);

  return self->output;
}

/**
 * ag_pipeline_open_output:
 * @self: a pipeline
 * @capacity: the capacity of the output channel, if it has to be made
 *
 * Opens a reader of the pipeline's output, first making the output
 * channel with @capacity if the pipeline has none. Reading it is what
 * makes the pipeline work: a read of n items runs n inputs (rounded up to
 * [property@Pipeline:min-count]). When the pipeline ends, the channel is
 * closed: a reader gets every output made before, then a drained channel;
 * the task tells how it ended. Dropping the last reader stops the
 * pipeline and the stages before it.
 *
 * Thread: any; before @self is run if it has no output yet.
 *
 * Returns: (transfer full): a new reader
 *
 * Since: 1.0
 */
AgChannelReader *
ag_pipeline_open_output (AgPipeline *self,
                         guint       capacity)
{
  g_return_val_if_fail (AG_IS_PIPELINE (self), NULL);

  if (self->feeds_stage)
    {
      g_critical ("%s: the pipeline feeds a stage, which reads all its outputs: "
                  "read the last stage", G_STRFUNC);
      return NULL;
    }

  if (self->output == NULL)
    {
      g_return_val_if_fail (capacity > 0, NULL);
      if (!check_not_started (self, G_STRFUNC))
        return NULL;
      self->output = ag_channel_new (capacity);
    }

  return ag_channel_open_reader (self->output);
}

/**
 * ag_pipeline_get_max_workers:
 * @self: a pipeline
 *
 * Gets [property@Pipeline:max-workers].
 *
 * Thread: any.
 *
 * Returns: how many runs of the function may go at once, or 0 for as many
 *   as the engine has threads
 *
 * Since: 1.0
 */
guint
ag_pipeline_get_max_workers (AgPipeline *self)
{
  g_return_val_if_fail (AG_IS_PIPELINE (self), 0);

  return self->max_workers;
}

/**
 * ag_pipeline_set_max_workers:
 * @self: a pipeline not yet run
 * @max_workers: how many runs of the function may go at once; 0 for as
 *   many as the engine has threads
 *
 * Sets [property@Pipeline:max-workers].
 *
 * Thread: any, before @self is run.
 *
 * Since: 1.0
 */
void
ag_pipeline_set_max_workers (AgPipeline *self,
                             guint       max_workers)
{
  g_return_if_fail (AG_IS_PIPELINE (self));

  if (!check_not_started (self, G_STRFUNC) || self->max_workers == max_workers)
    return;

  self->max_workers = max_workers;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_WORKERS]);
}

/**
 * ag_pipeline_get_min_count:
 * @self: a pipeline
 *
 * Gets [property@Pipeline:min-count].
 *
 * Thread: any.
 *
 * Returns: the fewest inputs taken at a time
 *
 * Since: 1.0
 */
guint
ag_pipeline_get_min_count (AgPipeline *self)
{
  g_return_val_if_fail (AG_IS_PIPELINE (self), 1);

  return self->min_count;
}

/**
 * ag_pipeline_set_min_count:
 * @self: a pipeline not yet run
 * @min_count: the fewest inputs to take at a time, at least 1
 *
 * Sets [property@Pipeline:min-count].
 *
 * Thread: any, before @self is run.
 *
 * Since: 1.0
 */
void
ag_pipeline_set_min_count (AgPipeline *self,
                           guint       min_count)
{
  g_return_if_fail (AG_IS_PIPELINE (self));
  g_return_if_fail (min_count >= 1);

  if (!check_not_started (self, G_STRFUNC) || self->min_count == min_count)
    return;

  self->min_count = min_count;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIN_COUNT]);
}

/**
 * ag_pipeline_get_max_chunk_size:
 * @self: a pipeline
 *
 * Gets [property@Pipeline:max-chunk-size].
 *
 * Thread: any.
 *
 * Returns: the most inputs one worker takes at a time, or 0 for the
 *   default
 *
 * Since: 1.0
 */
guint
ag_pipeline_get_max_chunk_size (AgPipeline *self)
{
  g_return_val_if_fail (AG_IS_PIPELINE (self), 0);

  return self->max_chunk_size;
}

/**
 * ag_pipeline_set_max_chunk_size:
 * @self: a pipeline not yet run
 * @max_chunk_size: the most inputs one worker takes at a time, or 0 for
 *   the default
 *
 * Sets [property@Pipeline:max-chunk-size].
 *
 * Thread: any, before @self is run.
 *
 * Since: 1.0
 */
void
ag_pipeline_set_max_chunk_size (AgPipeline *self,
                                guint       max_chunk_size)
{
  g_return_if_fail (AG_IS_PIPELINE (self));

  if (!check_not_started (self, G_STRFUNC) || self->max_chunk_size == max_chunk_size)
    return;

  self->max_chunk_size = max_chunk_size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_CHUNK_SIZE]);
}

/**
 * ag_pipeline_get_apply_single:
 * @self: a pipeline
 *
 * Gets [property@Pipeline:apply-single].
 *
 * Thread: any.
 *
 * Returns: whether the function sees one input at a time
 *
 * Since: 1.0
 */
gboolean
ag_pipeline_get_apply_single (AgPipeline *self)
{
  g_return_val_if_fail (AG_IS_PIPELINE (self), TRUE);

  return self->apply_single;
}

/**
 * ag_pipeline_set_apply_single:
 * @self: a pipeline not yet run
 * @apply_single: whether the function sees one input at a time, rather
 *   than a whole chunk
 *
 * Sets [property@Pipeline:apply-single].
 *
 * Thread: any, before @self is run.
 *
 * Since: 1.0
 */
void
ag_pipeline_set_apply_single (AgPipeline *self,
                              gboolean    apply_single)
{
  g_return_if_fail (AG_IS_PIPELINE (self));

  apply_single = !!apply_single;
  if (!check_not_started (self, G_STRFUNC) || self->apply_single == apply_single)
    return;

  self->apply_single = apply_single;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_APPLY_SINGLE]);
}
