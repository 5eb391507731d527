/* ag-multi-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "ag-engine-private.h"
#include "ag-error.h"
#include "ag-map-chunk-private.h"
#include "ag-multi-task.h"
#include "ag-pipe-private.h"
#include "ag-task-private.h"
#include "ag-values-private.h"

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
 * static gboolean
 * square (gpointer       item,
 *         GValue        *result,
 *         gpointer       user_data,
 *         GCancellable  *cancellable,
 *         GError       **error)
 * {
 *   guint n = GPOINTER_TO_UINT (item);
 *
 *   g_value_init (result, G_TYPE_UINT);
 *   g_value_set_uint (result, n * n);
 *   return TRUE;
 * }
 *
 * multi = ag_multi_task_new_map (numbers, square, NULL, NULL);
 * g_signal_connect (multi, "task-done", G_CALLBACK (show_one), NULL);
 * ag_engine_run_async (engine, AG_TASK (multi), NULL, show_all, NULL);
 * ```
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
 * instead.
 *
 * [signal@MultiTask::task-done] announces each child as it is done: in list
 * order, or in completion order with [property@MultiTask:unordered].
 * [property@Task:progress], [property@MultiTask:n-finished] and
 * [property@MultiTask:n-failed] are notified at most once per delivery.
 *
 * Since: 1.0
 */

typedef enum
{
  SLOT_PENDING,
  SLOT_RUNNING,
  SLOT_DONE,
  SLOT_FAILED,
} SlotState;

/* The time one chunk of a mapping should take on its worker: long enough to
 * make queueing negligible, short enough to keep results flowing. */
#define TARGET_CHUNK_US 1000.0
#define MAX_CHUNK_SIZE  8192
#define MAX_CHUNK_GROWTH 8

struct _AgMultiTask
{
  AgTask          parent_instance;

  guint           max_workers;
  gboolean        skip_errors;
  gboolean        unordered;
  gboolean        started;
  guint           min_count;
  guint           max_chunk_size;  /* 0: chosen here */
  gboolean        apply_single;

  /* A pipeline: inputs streamed through a function into a channel. */
  AgPipe         *pipe;

  /* Children added one by one. */
  GPtrArray      *children;

  /* Children made from inputs. */
  AgMapFunc       map_func;
  AgRangeFunc     range_func;
  gpointer        map_data;
  GDestroyNotify  map_destroy;
  GPtrArray      *inputs;
  GListModel     *model;
  guint           n_range;
  GHashTable     *views;           /* position → AgTask, made on demand */
  guint           chunks_running;
  guint           last_chunk_size;
  double          item_us;         /* mean worker time of one input; 0 until measured */

  /* Run state, from start on. */
  guint           n_items;
  GArray         *values;          /* GValue × n_items, list order; a slot is
                                    * initialized only once SLOT_DONE */
  gboolean        values_need_clear;
  guint8         *slots;           /* SlotState × n_items */
  GHashTable     *errors;          /* position → GError */
  guint           n_started;
  guint           n_running;
  guint           n_finished;
  guint           n_failed;
  guint           next_announced;  /* in list order: first not yet announced */
};

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
  PROP_APPLY_SINGLE,
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

static gboolean
is_running (AgMultiTask *self)
{
  return ag_task_get_state (AG_TASK (self)) == AG_TASK_RUNNING
         && !_ag_task_is_cancel_requested (AG_TASK (self));
}

static void
clear_slot_value (gpointer data)
{
  GValue *value = data;

  if (G_IS_VALUE (value))
    g_value_unset (value);
}

static GValue *
slot_value (AgMultiTask *self,
            guint        position)
{
  return &g_array_index (self->values, GValue, position);
}

static void
announce (AgMultiTask *self,
          gboolean     has_listeners,
          guint        position)
{
  if (has_listeners)
    g_signal_emit (self, signals[TASK_DONE], 0, position);
}

static void
announce_in_order (AgMultiTask *self,
                   gboolean     has_listeners)
{
  while (self->next_announced < self->n_items
         && self->slots[self->next_announced] >= SLOT_DONE)
    announce (self, has_listeners, self->next_announced++);
}

/* The error a failed child left, or NULL: the table exists only once a
 * child has failed. */
static const GError *
slot_error (AgMultiTask *self,
            guint        position)
{
  if (self->errors == NULL)
    return NULL;

  return g_hash_table_lookup (self->errors, GUINT_TO_POINTER (position));
}

static void
settle_view (AgMultiTask *self,
             guint        position)
{
  AgTask *view;

  if (self->views == NULL)
    return;

  view = g_hash_table_lookup (self->views, GUINT_TO_POINTER (position));
  if (view != NULL && !ag_task_is_finished (view))
    _ag_task_settle_view (view, slot_value (self, position), slot_error (self, position));
}

/* One child is done. Its value is already in its slot, its error (if any)
 * in the errors table. */
static void
slot_done (AgMultiTask *self,
           guint        position,
           gboolean     failed,
           gboolean     has_listeners)
{
  self->slots[position] = failed ? SLOT_FAILED : SLOT_DONE;
  self->n_finished++;
  if (failed)
    self->n_failed++;

  settle_view (self, position);

  if (self->unordered)
    announce (self, has_listeners, position);
}

static void
record_error (AgMultiTask  *self,
              guint         position,
              GError       *error)
{
  if (self->errors == NULL)
    self->errors = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_error_free);
  g_hash_table_insert (self->errors, GUINT_TO_POINTER (position), error);
}

static void
notify_counts (AgMultiTask *self,
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

static const GError *
first_error (AgMultiTask *self)
{
  GHashTableIter iter;
  gpointer key, value;
  guint first = G_MAXUINT;
  const GError *error = NULL;

  g_hash_table_iter_init (&iter, self->errors);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (GPOINTER_TO_UINT (key) < first)
      {
        first = GPOINTER_TO_UINT (key);
        error = value;
      }

  return error;
}

/* With skip-errors the value leaves the failures out. The full array stays,
 * so each child's value can still be read at its position. */
static GArray *
successful_values (AgMultiTask *self)
{
  GArray *kept;

  if (self->n_failed == 0)
    {
      /* Handed out whole: whoever drops it last frees the values. */
      if (self->values_need_clear)
        g_array_set_clear_func (self->values, clear_slot_value);
      return g_array_ref (self->values);
    }

  kept = g_array_sized_new (FALSE, TRUE, sizeof (GValue), self->n_items - self->n_failed);
  g_array_set_clear_func (kept, clear_slot_value);
  for (guint i = 0; i < self->n_items; i++)
    if (self->slots[i] == SLOT_DONE)
      {
        GValue copy = G_VALUE_INIT;
        GValue *value = slot_value (self, i);

        if (G_IS_VALUE (value))
          _ag_value_init_copy (&copy, value);
        g_array_append_val (kept, copy);
      }

  return kept;
}

static void
complete_if_done (AgMultiTask *self)
{
  GValue value = G_VALUE_INIT;

  if (self->n_finished < self->n_items)
    return;

  if (self->n_failed > 0 && !self->skip_errors)
    {
      ag_task_return_error (AG_TASK (self), g_error_copy (first_error (self)));
      return;
    }

  g_value_init (&value, G_TYPE_ARRAY);
  g_value_take_boxed (&value, successful_values (self));
  _ag_task_return_take_value (AG_TASK (self), &value);
}

/* Children added one by one. */

static void feed_children (AgMultiTask *self);

/* Takes a finished child's outcome into its slot. */
static void
record_child (AgMultiTask *self,
              AgTask      *child)
{
  guint old_failed = self->n_failed;
  const GError *error;
  const GValue *value;
  guint position;

  self->n_running--;
  if (!is_running (self))
    return;

  _ag_task_get_parent (child, NULL, &position);
  error = ag_task_get_error (child);
  value = ag_task_get_value (child);

  memset (slot_value (self, position), 0, sizeof (GValue));
  if (error != NULL)
    record_error (self, position, g_error_copy (error));
  else if (value != NULL)
    {
      _ag_value_init_copy (slot_value (self, position), value);
      if (_ag_value_type_needs_clear (G_VALUE_TYPE (value)))
        self->values_need_clear = TRUE;
    }

  slot_done (self, position, error != NULL, TRUE);
  if (!self->unordered)
    announce_in_order (self, TRUE);
  notify_counts (self, old_failed);
}

static void
child_finished (AgMultiTask *self,
                AgTask      *child)
{
  record_child (self, child);
  if (!is_running (self))
    return;

  feed_children (self);
  complete_if_done (self);
}

static void
child_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  child_finished (user_data, AG_TASK (result));
}

/* A child that a sibling's dependency ran ahead of its turn has ended. */
static void
sibling_done (AgTask   *child,
              gpointer  data)
{
  child_finished (data, child);
}

static void
feed_children (AgMultiTask *self)
{
  AgEngine *engine = _ag_task_get_engine (AG_TASK (self));

  while (self->n_started < self->n_items
         && (self->max_workers == 0 || self->n_running < self->max_workers)
         && is_running (self))
    {
      AgTask *child = g_ptr_array_index (self->children, self->n_started);

      self->slots[self->n_started++] = SLOT_RUNNING;
      self->n_running++;

      /* A sibling that depends on this child has run it already: its
       * outcome is taken as it is, never run twice. */
      if (ag_task_get_state (child) != AG_TASK_PENDING)
        {
          if (ag_task_is_finished (child))
            record_child (self, child);
          else
            _ag_task_add_done_notify (child, sibling_done, AG_TASK (self));
          continue;
        }

      /* Not ag_engine_run_async(): the reference on self must be released
       * even if the engine is disposed and child_done() never runs. */
      _ag_task_start (child, engine, NULL, child_done, g_object_ref (self), g_object_unref);
    }
}

/* Children made from inputs. */

static guint
chunk_limit (AgMultiTask *self)
{
  int threads;

  if (self->max_workers > 0)
    return self->max_workers;

  /* Twice the threads keeps every thread busy while the engine's thread
   * delivers finished chunks. */
  threads = ag_engine_get_max_threads (_ag_task_get_engine (AG_TASK (self)));
  return threads > 0 ? 2 * threads : 1;
}

static guint
next_chunk_size (AgMultiTask *self,
                 guint        limit)
{
  guint remaining = self->n_items - self->n_started;
  guint size = 1;

  if (self->item_us > 0)
    {
      double fit = TARGET_CHUNK_US / self->item_us;

      size = fit >= MAX_CHUNK_SIZE ? MAX_CHUNK_SIZE : MAX ((guint) fit, 1);
      size = MIN (size, MAX (self->last_chunk_size, 1) * MAX_CHUNK_GROWTH);
    }

  /* Near the end, share what is left between the workers. */
  size = MIN (size, (remaining + limit - 1) / limit);

  size = MAX (size, self->min_count);
  if (self->max_chunk_size > 0)
    size = MIN (size, self->max_chunk_size);

  return CLAMP (size, 1, remaining);
}

static void
feed_chunks (AgMultiTask *self)
{
  AgEngine *engine = _ag_task_get_engine (AG_TASK (self));
  guint limit = chunk_limit (self);

  while (self->n_started < self->n_items && self->chunks_running < limit && is_running (self))
    {
      guint count = next_chunk_size (self, limit);
      AgMapChunk *chunk = _ag_map_chunk_new (self, _ag_engine_get_queue (engine),
                                             self->n_started, count);

      chunk->func = self->map_func;
      chunk->range_func = self->range_func;
      chunk->user_data = self->map_data;
      chunk->values = slot_value (self, self->n_started);

      if (self->inputs != NULL)
        chunk->items = &self->inputs->pdata[self->n_started];
      else if (self->model != NULL)
        {
          chunk->items = g_new (gpointer, count);
          chunk->owns_items = TRUE;
          for (guint i = 0; i < count; i++)
            chunk->items[i] = g_list_model_get_item (self->model, self->n_started + i);
        }

      memset (&self->slots[self->n_started], SLOT_RUNNING, count);
      self->n_started += count;
      self->chunks_running++;
      self->last_chunk_size = count;

      _ag_engine_submit_work (engine, &chunk->work);
    }
}

gboolean
_ag_multi_task_chunk_done (AgMultiTask *self,
                           AgMapChunk  *chunk)
{
  guint old_failed = self->n_failed;
  gboolean has_listeners;
  double item_us;

  self->chunks_running--;
  if (!is_running (self) || chunk->n_done < chunk->count)
    return FALSE;

  if (chunk->needs_clear)
    self->values_need_clear = TRUE;

  /* A running mean, so one slow input does not shrink every later chunk. */
  item_us = MAX ((double) chunk->elapsed_us / chunk->count, 0.001);
  self->item_us = self->item_us > 0 ? 0.75 * self->item_us + 0.25 * item_us : item_us;

  if (chunk->failures != NULL)
    for (guint i = 0; i < chunk->failures->len; i++)
      {
        AgMapFailure *failure = &g_array_index (chunk->failures, AgMapFailure, i);

        record_error (self, failure->position, g_steal_pointer (&failure->error));
        self->slots[failure->position] = SLOT_FAILED;
      }

  has_listeners = g_signal_has_handler_pending (self, signals[TASK_DONE], 0, TRUE);
  for (guint i = 0; i < chunk->count; i++)
    {
      guint position = chunk->start + i;

      slot_done (self, position, self->slots[position] == SLOT_FAILED, has_listeners);
    }
  if (!self->unordered)
    announce_in_order (self, has_listeners);
  notify_counts (self, old_failed);

  feed_chunks (self);
  complete_if_done (self);

  return TRUE;
}

/* AgTask */

static void
ag_multi_task_start (AgTask *task)
{
  AgMultiTask *self = AG_MULTI_TASK (task);

  self->started = TRUE;
  if (self->pipe != NULL)
    {
      _ag_pipe_start (self->pipe, self);
      return;
    }

  if (self->children != NULL)
    self->n_items = self->children->len;
  else if (self->inputs != NULL)
    self->n_items = self->inputs->len;
  else if (self->model != NULL)
    self->n_items = g_list_model_get_n_items (self->model);
  else
    self->n_items = self->n_range;

  /* Not cleared: see chunk_run() and child_done(), which zero each slot
   * before use. */
  self->values = g_array_sized_new (FALSE, FALSE, sizeof (GValue), self->n_items);
  g_array_set_size (self->values, self->n_items);
  self->slots = g_new0 (guint8, self->n_items);

  if (self->n_items == 0)
    complete_if_done (self);
  else if (self->children != NULL)
    {
      feed_children (self);
      /* Children that others' dependencies ran before this started may
       * all be finished already. */
      complete_if_done (self);
    }
  else
    feed_chunks (self);
}

static void
ag_multi_task_cancel (AgTask *task)
{
  AgMultiTask *self = AG_MULTI_TASK (task);
  AgEngine *engine = _ag_task_get_engine (task);

  if (self->pipe != NULL)
    _ag_pipe_cancel (self->pipe);

  if (self->children != NULL)
    for (guint i = 0; i < self->children->len; i++)
      {
        AgTask *child = g_ptr_array_index (self->children, i);

        ag_task_cancel (child);
        /* Children never started end as cancelled too, so every child in
         * the list model reaches a final state. */
        if (ag_task_get_state (child) == AG_TASK_PENDING && engine != NULL)
          ag_engine_run_async (engine, child, NULL, NULL, NULL);
      }

  if (self->views != NULL)
    {
      GHashTableIter iter;
      gpointer view;
      g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                     _("The task was cancelled"));

      g_hash_table_iter_init (&iter, self->views);
      while (g_hash_table_iter_next (&iter, NULL, &view))
        if (!ag_task_is_finished (view))
          _ag_task_settle_view (view, NULL, error);
    }
}

static void
ag_multi_task_stopped (AgTask *task)
{
  AgMultiTask *self = AG_MULTI_TASK (task);
  AgEngine *engine = _ag_task_get_engine (task);

  if (self->pipe != NULL)
    _ag_pipe_stopped (self->pipe);

  /* Abandoned by an engine being disposed: the children it never started
   * and the rows it never settled end as cancelled with it, so every row of
   * the list model reaches a final state. Running children are abandoned by
   * the engine itself. */
  if (engine != NULL && _ag_engine_is_disposed (engine))
    {
      if (self->children != NULL)
        for (guint i = 0; i < self->children->len; i++)
          {
            AgTask *child = g_ptr_array_index (self->children, i);

            if (ag_task_get_state (child) == AG_TASK_PENDING)
              _ag_task_end_quietly (child);
          }

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
      view = _ag_task_new_view ();
      _ag_task_set_parent (view, self, position);
      g_hash_table_insert (self->views, GUINT_TO_POINTER (position), view);

      if (self->started && self->slots[position] >= SLOT_DONE)
        settle_view (self, position);
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
release_values (AgMultiTask *self)
{
  GArray *values = g_steal_pointer (&self->values);

  /* If the array was handed out, it frees its values itself; otherwise only
   * the slots that were filled hold anything. */
  if (self->values_need_clear && ag_multi_task_get_values (self) != values)
    for (guint i = 0; i < self->n_items; i++)
      if (self->slots[i] == SLOT_DONE)
        clear_slot_value (&g_array_index (values, GValue, i));

  g_array_unref (values);
}

static void
ag_multi_task_finalize (GObject *object)
{
  AgMultiTask *self = AG_MULTI_TASK (object);

  if (self->map_destroy != NULL)
    self->map_destroy (self->map_data);
  g_clear_pointer (&self->pipe, _ag_pipe_free);

  g_clear_pointer (&self->children, g_ptr_array_unref);
  g_clear_pointer (&self->inputs, g_ptr_array_unref);
  g_clear_object (&self->model);
  g_clear_pointer (&self->views, g_hash_table_unref);
  if (self->values != NULL)
    release_values (self);
  g_clear_pointer (&self->slots, g_free);
  g_clear_pointer (&self->errors, g_hash_table_unref);

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
    case PROP_APPLY_SINGLE:
      g_value_set_boolean (value, self->apply_single);
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
    case PROP_APPLY_SINGLE:
      ag_multi_task_set_apply_single (self, g_value_get_boolean (value));
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

  object_class->finalize = ag_multi_task_finalize;
  object_class->get_property = ag_multi_task_get_property;
  object_class->set_property = ag_multi_task_set_property;

  task_class->start = ag_multi_task_start;
  task_class->cancel = ag_multi_task_cancel;
  task_class->stopped = ag_multi_task_stopped;

  /**
   * AgMultiTask:max-workers:
   *
   * How many children may run at once; 0 for no limit of its own (a
   * mapping MultiTask then keeps all the engine's threads busy).
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
   * The fewest inputs a mapping MultiTask or a pipeline hands its
   * function at a time: a pipeline asked for one output runs at least this
   * many inputs, which suits functions with a high cost per call.
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
   * The most inputs one worker takes at a time; bigger batches are split
   * between workers. 0 lets the MultiTask choose: adaptively from how long
   * inputs take for a mapping, 4096 for a pipeline.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_CHUNK_SIZE] =
    g_param_spec_uint ("max-chunk-size", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgMultiTask:apply-single:
   *
   * Whether a pipeline's [callback@PipeFunc] sees one input at a time
   * (the default) or a whole chunk: a [struct@GObject.Value] holding a
   * [struct@GLib.Array] of [struct@GObject.Value], for which it returns an
   * array of outputs the same way.
   *
   * Since: 1.0
   */
  properties[PROP_APPLY_SINGLE] =
    g_param_spec_boolean ("apply-single", NULL, NULL,
                          TRUE,
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
  self->apply_single = TRUE;
}

AgMultiTask *
_ag_multi_task_new_for_pipe (AgPipe *pipe)
{
  AgMultiTask *self = g_object_new (AG_TYPE_MULTI_TASK, NULL);

  g_clear_pointer (&self->children, g_ptr_array_unref);
  self->pipe = pipe;
  return self;
}

AgPipe *
_ag_multi_task_get_pipe (AgMultiTask *self)
{
  return self->pipe;
}

gboolean
_ag_multi_task_is_started (AgMultiTask *self)
{
  return self->started;
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
 * ag_multi_task_new_map: (skip)
 * @inputs: the inputs; it must not change while the task runs
 * @func: (scope notified) (closure user_data) (destroy destroy): maps one
 *   input to one value, on a worker thread
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the MultiTask is finalized
 *
 * Creates a MultiTask with one child per element of @inputs, whose value is
 * what @func makes of that element. Bindings use
 * [ctor@MultiTask.new_map_model], which takes objects.
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new MultiTask
 *
 * Since: 1.0
 */
AgMultiTask *
ag_multi_task_new_map (GPtrArray      *inputs,
                       AgMapFunc       func,
                       gpointer        user_data,
                       GDestroyNotify  destroy)
{
  AgMultiTask *self;

  g_return_val_if_fail (inputs != NULL, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  self = g_object_new (AG_TYPE_MULTI_TASK, NULL);
  g_clear_pointer (&self->children, g_ptr_array_unref);
  self->inputs = g_ptr_array_ref (inputs);
  self->map_func = func;
  self->map_data = user_data;
  self->map_destroy = destroy;

  return self;
}

/**
 * ag_multi_task_new_map_model:
 * @inputs: the inputs; its length is read when the task is run
 * @func: (scope notified) (closure user_data) (destroy destroy): maps one
 *   object to one value, on a worker thread
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the MultiTask is finalized
 *
 * Creates a MultiTask with one child per item of @inputs, whose value is
 * what @func makes of that item. Items are taken from the model on the
 * engine's thread, only as workers become free.
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new MultiTask
 *
 * Since: 1.0
 */
AgMultiTask *
ag_multi_task_new_map_model (GListModel     *inputs,
                             AgMapFunc       func,
                             gpointer        user_data,
                             GDestroyNotify  destroy)
{
  AgMultiTask *self;

  g_return_val_if_fail (G_IS_LIST_MODEL (inputs), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  self = g_object_new (AG_TYPE_MULTI_TASK, NULL);
  g_clear_pointer (&self->children, g_ptr_array_unref);
  self->model = g_object_ref (inputs);
  self->map_func = func;
  self->map_data = user_data;
  self->map_destroy = destroy;

  return self;
}

/**
 * ag_multi_task_new_map_range:
 * @n_items: how many children
 * @func: (scope notified) (closure user_data) (destroy destroy): makes the
 *   value of one child from its position, on a worker thread
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the MultiTask is finalized
 *
 * Creates a MultiTask with @n_items children whose values @func makes from
 * their positions. Nothing is made per child up front, so this is how a
 * binding maps a long list of its own values: @func looks the input up by
 * position.
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new MultiTask
 *
 * Since: 1.0
 */
AgMultiTask *
ag_multi_task_new_map_range (guint           n_items,
                             AgRangeFunc     func,
                             gpointer        user_data,
                             GDestroyNotify  destroy)
{
  AgMultiTask *self;

  g_return_val_if_fail (func != NULL, NULL);

  self = g_object_new (AG_TYPE_MULTI_TASK, NULL);
  g_clear_pointer (&self->children, g_ptr_array_unref);
  self->n_range = n_items;
  self->range_func = func;
  self->map_data = user_data;
  self->map_destroy = destroy;

  return self;
}

/**
 * ag_multi_task_add:
 * @self: a MultiTask made with [ctor@MultiTask.new], not yet run
 * @task: a task not yet run, and not in another MultiTask
 *
 * Appends a child.
 *
 * Children may depend on each other (see [method@Task.add_dependency]) in
 * any order. A child that a sibling's dependency runs ahead of its turn,
 * or that a task outside ran before the MultiTask did, is not run again:
 * the MultiTask waits for it and takes its outcome at its own position.
 *
 * Thread: any, before @self is run.
 *
 * Since: 1.0
 */
void
ag_multi_task_add (AgMultiTask *self,
                   AgTask      *task)
{
  g_return_if_fail (AG_IS_MULTI_TASK (self));
  g_return_if_fail (AG_IS_TASK (task));
  g_return_if_fail (self->children != NULL);
  g_return_if_fail (!self->started);
  g_return_if_fail (ag_task_get_state (task) == AG_TASK_PENDING);
  g_return_if_fail (!_ag_task_get_parent (task, NULL, NULL));
  g_return_if_fail (task != AG_TASK (self));

  _ag_task_set_parent (task, self, self->children->len);
  g_ptr_array_add (self->children, g_object_ref (task));
  g_list_model_items_changed (G_LIST_MODEL (self), self->children->len - 1, 0, 1);
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
 * ag_multi_task_get_apply_single:
 * @self: a MultiTask
 *
 * Gets [property@MultiTask:apply-single].
 *
 * Thread: any.
 *
 * Returns: whether a pipeline's function sees one input at a time
 *
 * Since: 1.0
 */
gboolean
ag_multi_task_get_apply_single (AgMultiTask *self)
{
  g_return_val_if_fail (AG_IS_MULTI_TASK (self), TRUE);

  return self->apply_single;
}

/**
 * ag_multi_task_set_apply_single:
 * @self: a MultiTask that has not been run
 * @apply_single: whether a pipeline's function sees one input at a time,
 *   rather than a whole chunk
 *
 * Sets [property@MultiTask:apply-single].
 *
 * Thread: any, before @self is run.
 *
 * Since: 1.0
 */
void
ag_multi_task_set_apply_single (AgMultiTask *self,
                                gboolean     apply_single)
{
  g_return_if_fail (AG_IS_MULTI_TASK (self));
  g_return_if_fail (!self->started);

  apply_single = !!apply_single;
  if (self->apply_single == apply_single)
    return;

  self->apply_single = apply_single;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_APPLY_SINGLE]);
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

/**
 * ag_multi_task_get_child_value:
 * @self: a MultiTask
 * @position: a child's position
 * @value: (out caller-allocates): an unset value to receive a copy of the
 *   child's value
 * @error: return location for an error
 *
 * Reads the outcome of one child without making a child object, which
 * suits a [signal@MultiTask::task-done] handler of a large mapping.
 *
 * Thread: the engine's.
 *
 * Returns: %TRUE with @value set (left unset if the child has no value),
 *   or %FALSE with @error set: the child's own error, or
 *   %G_IO_ERROR_PENDING if it has not finished
 *
 * Since: 1.0
 */
gboolean
ag_multi_task_get_child_value (AgMultiTask  *self,
                               guint         position,
                               GValue       *value,
                               GError      **error)
{
  const GValue *slot;

  g_return_val_if_fail (AG_IS_MULTI_TASK (self), FALSE);
  g_return_val_if_fail (value != NULL && !G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (position < ag_multi_task_get_n_items (G_LIST_MODEL (self)), FALSE);

  if (!self->started || self->slots[position] < SLOT_DONE)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PENDING,
                           _("That child task has not finished yet"));
      return FALSE;
    }

  if (self->slots[position] == SLOT_FAILED)
    {
      if (error != NULL)
        *error = g_error_copy (slot_error (self, position));
      return FALSE;
    }

  slot = slot_value (self, position);
  if (G_IS_VALUE (slot))
    _ag_value_init_copy (value, slot);

  return TRUE;
}

/**
 * ag_multi_task_get_values:
 * @self: a MultiTask
 *
 * Gets the value of a MultiTask that succeeded: its children's values in
 * list order, without the failed ones if [property@MultiTask:skip-errors]
 * is set. This is the array the task's own value holds.
 *
 * Thread: the engine's.
 *
 * Returns: (transfer none) (nullable) (element-type GValue): the values, or
 *   %NULL if the MultiTask has not succeeded
 *
 * Since: 1.0
 */
GArray *
ag_multi_task_get_values (AgMultiTask *self)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_MULTI_TASK (self), NULL);

  value = ag_task_get_value (AG_TASK (self));
  return value != NULL ? g_value_get_boxed (value) : NULL;
}
