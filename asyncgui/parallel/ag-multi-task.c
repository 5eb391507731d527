/* ag-multi-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-engine-private.h"
#include "ag-multi-task-private.h"
#include "ag-task-private.h"

/**
 * AgMultiTask:
 *
 * A task made of child tasks, run and awaited as one.
 *
 * Children are either tasks added with [method@MultiTask.add], or made from
 * inputs by a function: [ctor@MultiTask.new_map] maps each element of an
 * array, [ctor@MultiTask.new_map_model] each object of a list model, on
 * worker threads.
 *
 * ```c
 * static void
 * square (AgChunk  *chunk,
 *         gpointer  item,
 *         gpointer  user_data)
 * {
 *   guint n = GPOINTER_TO_UINT (item);
 *
 *   ag_chunk_return_uint (chunk, n * n);
 * }
 *
 * multi = ag_multi_task_new_map (numbers, square, NULL, NULL);
 * g_signal_connect (multi, "task-done", G_CALLBACK (show_one), NULL);
 * ag_engine_run_async (engine, AG_TASK (multi), NULL, show_all, NULL);
 * ```
 *
 * A map function ends its work on each input through the [class@Chunk]
 * handle it is given, as a task function does through its task.
 *
 * A mapping MultiTask feeds its inputs to the workers lazily, a few chunks
 * at a time, sizing the chunks from how long inputs take: a million inputs
 * cost the engine's thread almost nothing up front, and memory holds the
 * results, not a million tasks. Its children are made only when asked for
 * through [iface@Gio.ListModel].
 *
 * The value is a [struct@GLib.Array] of [struct@GObject.Value], the
 * children's values in list order (see [method@MultiTask.get_values]). If a
 * child fails, the MultiTask waits for all of them and then fails with the
 * error of the first failing child in list order; with
 * [property@MultiTask:skip-errors] failures are dropped from the value
 * instead. A child that ends cancelled on its own (someone cancelled that
 * child, not the MultiTask) counts as failing with
 * %G_IO_ERROR_CANCELLED: if it is the first in list order, the MultiTask
 * ends cancelled, and the error of a later child is not what it reports.
 *
 * [signal@MultiTask::task-done] announces each child as it is done: in list
 * order, or in completion order with [property@MultiTask:unordered]. The
 * same announcements can be read from a channel
 * ([method@MultiTask.open_results]), which is how a loop awaits children
 * one by one. [property@Task:progress], [property@MultiTask:n-finished] and
 * [property@MultiTask:n-failed] are notified at most once per delivery.
 *
 * Since: 1.0
 */

static void ag_multi_task_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (AgMultiTask, ag_multi_task, AG_TYPE_TASK,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      ag_multi_task_list_model_init))

enum {
  PROP_0,
  PROP_MAX_WORKERS,
  PROP_SKIP_ERRORS,
  PROP_UNORDERED,
  PROP_MIN_COUNT,
  PROP_MAX_CHUNK_SIZE,
  PROP_N_FINISHED,
  PROP_N_FAILED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  TASK_DONE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

gboolean
_ag_multi_task_is_running (AgMultiTask *self)
{
  return ag_task_get_state (AG_TASK (self)) == AG_TASK_RUNNING
         && !_ag_task_is_cancel_requested (AG_TASK (self));
}

/* A done child is told of: task-done, and the results stream; nothing
 * more once the MultiTask was cancelled (a task-done handler that stops at
 * the first match, say), though the rest of its chunk came with it. */
void
_ag_multi_task_announce (AgMultiTask *self,
                         gboolean     has_listeners,
                         guint        position)
{
  if (_ag_task_is_cancel_requested (AG_TASK (self)))
    return;
  if (has_listeners)
    g_signal_emit (self, signals[TASK_DONE], 0, position);
  if (self->results != NULL)
    _ag_multi_task_note_result (self, position);
}

gboolean
_ag_multi_task_has_listeners (AgMultiTask *self)
{
  return g_signal_has_handler_pending (self, signals[TASK_DONE], 0, TRUE);
}

/* Once per delivery, however many children it brought. */
void
_ag_multi_task_notify_counts (AgMultiTask *self,
                              guint        old_failed)
{
  AgEngine *engine = _ag_task_get_engine (AG_TASK (self));

  if (engine != NULL)
    _ag_engine_hold_notify (engine, G_OBJECT (self));

  _ag_task_set_progress_now (AG_TASK (self), (double) self->n_finished / self->n_items);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_FINISHED]);
  if (self->n_failed != old_failed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_FAILED]);
}

/* AgTask */

static void
ag_multi_task_start (AgTask *task)
{
  AgMultiTask *self = AG_MULTI_TASK (task);

  self->started = TRUE;
  if (self->model != NULL)
    {
      /* The inputs as they are now: the model may change while the task
       * runs (a GListStore the user edits), and no child's input with it. */
      guint n = g_list_model_get_n_items (self->model);

      self->inputs = g_ptr_array_new_full (n, g_object_unref);
      for (guint i = 0; i < n; i++)
        g_ptr_array_add (self->inputs, g_list_model_get_item (self->model, i));
    }

  if (self->children != NULL)
    self->n_items = self->children->len;
  else if (self->inputs != NULL)
    self->n_items = self->inputs->len;
  else
    self->n_items = self->n_range;

  /* Not cleared: map runs and record_child() zero each slot before
   * use. */
  self->values = g_array_sized_new (FALSE, FALSE, sizeof (GValue), self->n_items);
  g_array_set_size (self->values, self->n_items);
  self->slots = g_new0 (guint8, self->n_items);
  _ag_multi_task_clamp_wanted (self);

  if (self->n_items == 0)
    _ag_multi_task_complete_if_done (self);
  else if (self->children != NULL)
    {
      _ag_multi_task_feed_children (self);
      /* Children that others' dependencies ran before this started may
       * all be finished already. */
      _ag_multi_task_complete_if_done (self);
    }
  else
    _ag_multi_task_feed_map (self);
}

/* Ends a row whose child will never finish, as cancelled. */
static void
cancel_view (AgTask *view)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                 _("The task was cancelled"));

  _ag_task_settle (view, NULL, error, NULL);
}

static void
ag_multi_task_cancel (AgTask *task)
{
  AgMultiTask *self = AG_MULTI_TASK (task);

  if (self->children != NULL)
    _ag_multi_task_cancel_children (self);

  if (self->views != NULL)
    {
      GHashTableIter iter;
      gpointer view;

      g_hash_table_iter_init (&iter, self->views);
      while (g_hash_table_iter_next (&iter, NULL, &view))
        if (!ag_task_is_finished (view))
          cancel_view (view);
    }
}

static GPtrArray *
ag_multi_task_peek_children (AgTask *task)
{
  return AG_MULTI_TASK (task)->children;
}

static void
ag_multi_task_stopped (AgTask *task)
{
  AgMultiTask *self = AG_MULTI_TASK (task);
  AgEngine *engine = _ag_task_get_engine (task);

  /* Readers of the results see the end after the last child announced;
   * the task's state is final by then. */
  _ag_multi_task_close_results (self);
  _ag_multi_task_release_children (self);

  /* Abandoned by an engine being disposed: the children it never started
   * and the rows it never settled end as cancelled with it, so every row of
   * the list model reaches a final state. */
  if (engine != NULL && _ag_engine_is_disposed (engine))
    {
      if (self->children != NULL)
        _ag_multi_task_end_children_quietly (self);

      if (self->views != NULL)
        {
          GHashTableIter iter;
          gpointer view;

          g_hash_table_iter_init (&iter, self->views);
          while (g_hash_table_iter_next (&iter, NULL, &view))
            _ag_task_end_quietly (view);
        }
    }
}

/* GListModel */

static GType
ag_multi_task_get_item_type (GListModel *model)
{
  return AG_TYPE_TASK;
}

static guint
ag_multi_task_get_n_items (GListModel *model)
{
  AgMultiTask *self = AG_MULTI_TASK (model);

  if (self->started)
    return self->n_items;
  if (self->children != NULL)
    return self->children->len;
  if (self->inputs != NULL)
    return self->inputs->len;
  if (self->model != NULL)
    return g_list_model_get_n_items (self->model);
  return self->n_range;
}

static gpointer
ag_multi_task_get_item (GListModel *model,
                        guint       position)
{
  AgMultiTask *self = AG_MULTI_TASK (model);
  AgTask *view;

  if (position >= ag_multi_task_get_n_items (model))
    return NULL;

  if (self->children != NULL)
    return g_object_ref (g_ptr_array_index (self->children, position));

  if (self->views == NULL)
    self->views = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);

  view = g_hash_table_lookup (self->views, GUINT_TO_POINTER (position));
  if (view == NULL)
    {
      view = _ag_task_new_settled_by_owner ();
      g_hash_table_insert (self->views, GUINT_TO_POINTER (position), view);

      if (self->started && self->slots[position] >= SLOT_DONE)
        _ag_multi_task_settle_view (self, position);
      else if (ag_task_is_finished (AG_TASK (self)))
        {
          /* The MultiTask ended early (cancelled, or with its engine):
           * this child never will, and its row must not look running. */
          if (_ag_task_get_engine (AG_TASK (self)) != NULL
              && _ag_task_get_live_engine (AG_TASK (self)) == NULL)
            _ag_task_end_quietly (view);
          else
            cancel_view (view);
        }
    }

  return g_object_ref (view);
}

static void
ag_multi_task_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = ag_multi_task_get_item_type;
  iface->get_n_items = ag_multi_task_get_n_items;
  iface->get_item = ag_multi_task_get_item;
}

/* GObject */

static void
ag_multi_task_finalize (GObject *object)
{
  AgMultiTask *self = AG_MULTI_TASK (object);

  if (self->map_destroy != NULL)
    self->map_destroy (self->map_data);

  _ag_multi_task_release_children (self);
  g_clear_pointer (&self->children, g_ptr_array_unref);
  g_clear_pointer (&self->inputs, g_ptr_array_unref);
  g_clear_object (&self->model);
  g_clear_pointer (&self->views, g_hash_table_unref);
  if (self->values != NULL)
    _ag_multi_task_release_values (self);
  g_clear_pointer (&self->slots, g_free);
  g_clear_pointer (&self->errors, g_hash_table_unref);
  /* Dropping the write end closes the channel: readers of a MultiTask that
   * never ran see the end too. */
  g_clear_object (&self->results);
  g_clear_pointer (&self->results_batch, g_array_unref);

  G_OBJECT_CLASS (ag_multi_task_parent_class)->finalize (object);
}

static void
ag_multi_task_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  AgMultiTask *self = AG_MULTI_TASK (object);

  switch (prop_id)
    {
    case PROP_MAX_WORKERS:
      g_value_set_uint (value, self->max_workers);
      break;
    case PROP_SKIP_ERRORS:
      g_value_set_boolean (value, self->skip_errors);
      break;
    case PROP_UNORDERED:
      g_value_set_boolean (value, self->unordered);
      break;
    case PROP_MIN_COUNT:
      g_value_set_uint (value, self->min_count);
      break;
    case PROP_MAX_CHUNK_SIZE:
      g_value_set_uint (value, self->max_chunk_size);
      break;
    case PROP_N_FINISHED:
      g_value_set_uint (value, self->n_finished);
      break;
    case PROP_N_FAILED:
      g_value_set_uint (value, self->n_failed);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_multi_task_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  AgMultiTask *self = AG_MULTI_TASK (object);

  switch (prop_id)
    {
    case PROP_MAX_WORKERS:
      ag_multi_task_set_max_workers (self, g_value_get_uint (value));
      break;
    case PROP_SKIP_ERRORS:
      ag_multi_task_set_skip_errors (self, g_value_get_boolean (value));
      break;
    case PROP_UNORDERED:
      ag_multi_task_set_unordered (self, g_value_get_boolean (value));
      break;
    case PROP_MIN_COUNT:
      ag_multi_task_set_min_count (self, g_value_get_uint (value));
      break;
    case PROP_MAX_CHUNK_SIZE:
      ag_multi_task_set_max_chunk_size (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_multi_task_class_init (AgMultiTaskClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AgTaskClassPrivate *task_class = _ag_task_class_get_vfuncs (klass);

  /* Chunk objects are made on worker threads. Their class is made here,
   * before any work can be: two threads making the first one at once race
   * on its class through GLib's own atomics, which nothing orders for
   * ThreadSanitizer (or for a reader that relies on it). */
  g_type_class_unref (g_type_class_ref (AG_TYPE_CHUNK));

  object_class->finalize = ag_multi_task_finalize;
  object_class->get_property = ag_multi_task_get_property;
  object_class->set_property = ag_multi_task_set_property;

  task_class->start = ag_multi_task_start;
  task_class->cancel = ag_multi_task_cancel;
  task_class->stopped = ag_multi_task_stopped;
  task_class->peek_awaited = ag_multi_task_peek_children;

  /**
   * AgMultiTask:max-workers:
   *
   * How many children may run at once; 0 for no limit of its own. A
   * mapping MultiTask then starts every input at once when it has no more
   * than the engine's [property@Engine:max-threads] plus
   * [property@Engine:max-blocked-threads] of them, so inputs that block do
   * not hold the others back; a longer one keeps all the engine's threads
   * busy, and once its inputs turn out to spend their time waiting (a
   * millisecond or more each, mostly off a processor) it starts them one
   * per run, as many at once as that sum.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_WORKERS] =
    g_param_spec_uint ("max-workers", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgMultiTask:skip-errors:
   *
   * Whether failed children are left out of the value instead of failing
   * the MultiTask.
   *
   * Since: 1.0
   */
  properties[PROP_SKIP_ERRORS] =
    g_param_spec_boolean ("skip-errors", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgMultiTask:unordered:
   *
   * Whether [signal@MultiTask::task-done] announces children in the order
   * they finish rather than in list order. The value is in list order
   * either way.
   *
   * Since: 1.0
   */
  properties[PROP_UNORDERED] =
    g_param_spec_boolean ("unordered", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgMultiTask:min-count:
   *
   * The fewest inputs a mapping MultiTask hands its function in one run
   * of a worker, for functions that are cheaper in batches.
   *
   * Since: 1.0
   */
  properties[PROP_MIN_COUNT] =
    g_param_spec_uint ("min-count", NULL, NULL,
                       1, G_MAXUINT, 1,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgMultiTask:max-chunk-size:
   *
   * The most inputs one worker of a mapping MultiTask takes at a time. 0
   * lets the MultiTask choose, from how long inputs take.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_CHUNK_SIZE] =
    g_param_spec_uint ("max-chunk-size", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgMultiTask:n-finished:
   *
   * How many children have finished, successfully or not.
   *
   * Since: 1.0
   */
  properties[PROP_N_FINISHED] =
    g_param_spec_uint ("n-finished", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgMultiTask:n-failed:
   *
   * How many children have failed.
   *
   * Since: 1.0
   */
  properties[PROP_N_FAILED] =
    g_param_spec_uint ("n-failed", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * AgMultiTask::task-done:
   * @self: the MultiTask
   * @position: the position of the child that is done
   *
   * A child is done. Read it with [method@MultiTask.get_child_value] or
   * [method@Gio.ListModel.get_item]. Children are announced in list order,
   * or as they finish if [property@MultiTask:unordered] is set.
   *
   * Since: 1.0
   */
  signals[TASK_DONE] =
    g_signal_new ("task-done",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL,
                  g_cclosure_marshal_VOID__UINT,
                  G_TYPE_NONE, 1, G_TYPE_UINT);
}

/* Made empty, ready for ag_multi_task_add(), however it is constructed
 * (g_object_new() from a binding too); the mapping constructors drop it. */
static void
ag_multi_task_init (AgMultiTask *self)
{
  self->children = g_ptr_array_new_with_free_func (g_object_unref);
  self->min_count = 1;
}

/**
 * ag_multi_task_new:
 *
 * Creates an empty MultiTask; add children with [method@MultiTask.add].
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new MultiTask
 *
 * Since: 1.0
 */
AgMultiTask *
ag_multi_task_new (void)
{
  return g_object_new (AG_TYPE_MULTI_TASK, NULL);
}


/**
 * ag_multi_task_get_max_workers:
 * @self: a MultiTask
 *
 * Gets how many children may run at once.
 *
 * Thread: any.
 *
 * Returns: the limit, or 0 for none of its own
 *
 * Since: 1.0
 */
guint
ag_multi_task_get_max_workers (AgMultiTask *self)
{
  g_return_val_if_fail (AG_IS_MULTI_TASK (self), 0);

  return self->max_workers;
}

/**
 * ag_multi_task_set_max_workers:
 * @self: a MultiTask not yet run
 * @max_workers: how many children may run at once; 0 for no limit of its own
 *
 * Sets how many children may run at once.
 *
 * Thread: any, before @self is run.
 *
 * Since: 1.0
 */
void
ag_multi_task_set_max_workers (AgMultiTask *self,
                               guint        max_workers)
{
  g_return_if_fail (AG_IS_MULTI_TASK (self));
  g_return_if_fail (!self->started);

  if (self->max_workers == max_workers)
    return;

  self->max_workers = max_workers;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_WORKERS]);
}

/**
 * ag_multi_task_get_skip_errors:
 * @self: a MultiTask
 *
 * Gets whether failed children are left out of the value.
 *
 * Thread: any.
 *
 * Returns: %TRUE if failures are skipped
 *
 * Since: 1.0
 */
gboolean
ag_multi_task_get_skip_errors (AgMultiTask *self)
{
  g_return_val_if_fail (AG_IS_MULTI_TASK (self), FALSE);

  return self->skip_errors;
}

/**
 * ag_multi_task_set_skip_errors:
 * @self: a MultiTask not yet run
 * @skip_errors: whether to leave failed children out of the value
 *
 * Sets whether failed children are left out of the value instead of
 * failing the MultiTask.
 *
 * Thread: any, before @self is run.
 *
 * Since: 1.0
 */
void
ag_multi_task_set_skip_errors (AgMultiTask *self,
                               gboolean     skip_errors)
{
  g_return_if_fail (AG_IS_MULTI_TASK (self));
  g_return_if_fail (!self->started);

  skip_errors = !!skip_errors;
  if (self->skip_errors == skip_errors)
    return;

  self->skip_errors = skip_errors;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SKIP_ERRORS]);
}

/**
 * ag_multi_task_get_unordered:
 * @self: a MultiTask
 *
 * Gets whether children are announced as they finish.
 *
 * Thread: any.
 *
 * Returns: %TRUE if announced in completion order
 *
 * Since: 1.0
 */
gboolean
ag_multi_task_get_unordered (AgMultiTask *self)
{
  g_return_val_if_fail (AG_IS_MULTI_TASK (self), FALSE);

  return self->unordered;
}

/**
 * ag_multi_task_set_unordered:
 * @self: a MultiTask not yet run
 * @unordered: whether to announce children as they finish
 *
 * Sets whether [signal@MultiTask::task-done] follows completion order
 * rather than list order.
 *
 * Thread: any, before @self is run.
 *
 * Since: 1.0
 */
void
ag_multi_task_set_unordered (AgMultiTask *self,
                             gboolean     unordered)
{
  g_return_if_fail (AG_IS_MULTI_TASK (self));
  g_return_if_fail (!self->started);

  unordered = !!unordered;
  if (self->unordered == unordered)
    return;

  self->unordered = unordered;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNORDERED]);
}

/**
 * ag_multi_task_get_min_count:
 * @self: a MultiTask
 *
 * Gets [property@MultiTask:min-count].
 *
 * Thread: any.
 *
 * Returns: the fewest inputs handed to the function at a time
 *
 * Since: 1.0
 */
guint
ag_multi_task_get_min_count (AgMultiTask *self)
{
  g_return_val_if_fail (AG_IS_MULTI_TASK (self), 1);

  return self->min_count;
}

/**
 * ag_multi_task_set_min_count:
 * @self: a MultiTask that has not been run
 * @min_count: the fewest inputs to hand the function at a time, at least 1
 *
 * Sets [property@MultiTask:min-count].
 *
 * Thread: any, before @self is run.
 *
 * Since: 1.0
 */
void
ag_multi_task_set_min_count (AgMultiTask *self,
                             guint        min_count)
{
  g_return_if_fail (AG_IS_MULTI_TASK (self));
  g_return_if_fail (min_count >= 1);
  g_return_if_fail (!self->started);

  if (self->min_count == min_count)
    return;

  self->min_count = min_count;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIN_COUNT]);
}

/**
 * ag_multi_task_get_max_chunk_size:
 * @self: a MultiTask
 *
 * Gets [property@MultiTask:max-chunk-size].
 *
 * Thread: any.
 *
 * Returns: the most inputs one worker takes at a time, or 0 if the
 *   MultiTask chooses
 *
 * Since: 1.0
 */
guint
ag_multi_task_get_max_chunk_size (AgMultiTask *self)
{
  g_return_val_if_fail (AG_IS_MULTI_TASK (self), 0);

  return self->max_chunk_size;
}

/**
 * ag_multi_task_set_max_chunk_size:
 * @self: a MultiTask that has not been run
 * @max_chunk_size: the most inputs one worker takes at a time, or 0 to
 *   let the MultiTask choose
 *
 * Sets [property@MultiTask:max-chunk-size].
 *
 * Thread: any, before @self is run.
 *
 * Since: 1.0
 */
void
ag_multi_task_set_max_chunk_size (AgMultiTask *self,
                                  guint        max_chunk_size)
{
  g_return_if_fail (AG_IS_MULTI_TASK (self));
  g_return_if_fail (!self->started);

  if (self->max_chunk_size == max_chunk_size)
    return;

  self->max_chunk_size = max_chunk_size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_CHUNK_SIZE]);
}

/**
 * ag_multi_task_get_n_finished:
 * @self: a MultiTask
 *
 * Gets how many children have finished.
 *
 * Thread: the engine's.
 *
 * Returns: the number of finished children
 *
 * Since: 1.0
 */
guint
ag_multi_task_get_n_finished (AgMultiTask *self)
{
  g_return_val_if_fail (AG_IS_MULTI_TASK (self), 0);

  return self->n_finished;
}

/**
 * ag_multi_task_get_n_failed:
 * @self: a MultiTask
 *
 * Gets how many children have failed.
 *
 * Thread: the engine's.
 *
 * Returns: the number of failed children
 *
 * Since: 1.0
 */
guint
ag_multi_task_get_n_failed (AgMultiTask *self)
{
  g_return_val_if_fail (AG_IS_MULTI_TASK (self), 0);

  return self->n_failed;
}

