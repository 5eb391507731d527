/* ag-map.c: a MultiTask whose children are made from inputs by a function
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-chunk-run-private.h"
#include "ag-closure-private.h"
#include "ag-engine-private.h"
#include "ag-multi-task-private.h"
#include "ag-task-private.h"

/* A mapping MultiTask makes no child task: its children are slots of one
 * value array, filled by runs of inputs (ag-chunk-run.c) handed to the
 * workers a few at a time, each of about a millisecond of work
 * (ag-run-size.c). A million inputs then cost the engine's thread a few
 * hundred deliveries, and memory holds the values, not a million tasks. */

/* @shares: the runs are timed and nothing is measured yet, so each takes
 * a share of the list (ag-run-size.c). */
static guint
runs_limit (AgMultiTask *self,
            gboolean     shares)
{
  AgEngine *engine = _ag_task_get_engine (AG_TASK (self));
  int threads;
  guint at_once;

  if (self->max_workers > 0)
    return self->max_workers;

  threads = ag_engine_get_max_threads (engine);
  if (threads <= 0)
    return 1;
  at_once = (guint) threads + (guint) MAX (ag_engine_get_max_blocked_threads (engine), 0);

  /* A short map starts every input at once, each its own run, as a
   * MultiTask of children does: inputs that block (sleep, wait for I/O)
   * then do not hold the others back, since the engine adds threads while
   * its workers are blocked (max-blocked-threads), and only max-threads of
   * them compute at a time. */
  if (self->n_items <= at_once)
    return MAX (self->n_items, 1);

  /* So does a long one whose inputs are known to wait (a run's worth of
   * time each, little of it on a processor: downloads, sleeps): its runs
   * have one input each, and those that wait would otherwise queue behind
   * a few threads that wait too. Inputs that compute keep the limit
   * below, so that a row wanted meanwhile soon starts. */
  if (_ag_run_size_input_us (&self->run_size) >= AG_RUN_TARGET_US
      && _ag_run_size_inputs_wait (&self->run_size))
    return at_once;

  /* Twice the threads keeps every thread busy while the engine's thread
   * delivers finished runs. Shares go one per thread: a second one would
   * wait in the queue, holding its share of the list, where a row that
   * is wanted meanwhile could start instead. */
  return shares ? (guint) threads : 2 * (guint) threads;
}

/* The most children a run answers when each is announced on the engine's
 * thread (task-done, the results stream, rows a view holds): a run's
 * children are announced in one delivery, and the delivery budget can
 * only stop between runs. */
#define ANNOUNCED_RUN_MAX 512

/* @remaining: what is left of the stretch the run starts in, the wanted
 * range or the list. */
static guint
next_run_size (AgMultiTask *self,
               guint        remaining,
               guint        limit,
               gboolean     timed)
{
  guint size = _ag_run_size_next (&self->run_size, remaining, limit, timed);

  size = MAX (size, self->min_count);
  if (self->max_chunk_size > 0)
    size = MIN (size, self->max_chunk_size);
  if (self->results != NULL || self->views != NULL || _ag_multi_task_has_listeners (self))
    size = MIN (size, MAX (ANNOUNCED_RUN_MAX, self->min_count));

  return CLAMP (size, 1, remaining);
}

/* A run is back on the engine's thread. */
static void
run_done (AgChunkRun *run,
          AgTask     *owner)
{
  AgMultiTask *self = AG_MULTI_TASK (owner);
  /* The announcements below run handlers, which may dispose the engine
   * and with it the last reference. */
  g_autoptr(AgMultiTask) alive G_GNUC_UNUSED = g_object_ref (self);
  guint old_failed = self->n_failed;

  self->runs_going--;
  if (!_ag_multi_task_is_running (self) || (run->n_done < run->count && !run->over_budget))
    {
      _ag_chunk_run_release_values (run);
      _ag_chunk_run_free (run);
      return;
    }

  if (run->needs_clear)
    self->values_need_clear = TRUE;

  _ag_run_size_add_run (&self->run_size, run->elapsed_us, run->n_done);
  _ag_run_size_add_cpu (&self->run_size, run->elapsed_us, run->cpu_us);
  if (run->over_budget)
    _ag_multi_task_mark_pending (self, (guint) run->start + run->n_done,
                                 run->count - run->n_done);

  if (run->failures != NULL)
    for (guint i = 0; i < run->failures->len; i++)
      {
        AgChunkFailure *failure = &g_array_index (run->failures, AgChunkFailure, i);

        _ag_multi_task_record_failure (self, failure->position,
                                       g_steal_pointer (&failure->failure));
        self->slots[failure->position] = SLOT_FAILED;
      }

  _ag_multi_task_settle (self, (guint) run->start, run->n_done, old_failed);
  _ag_chunk_run_free (run);

  _ag_multi_task_feed_map (self);
  _ag_multi_task_complete_if_done (self);
}

void
_ag_multi_task_feed_map (AgMultiTask *self)
{
  AgEngine *engine = _ag_task_get_engine (AG_TASK (self));
  GCancellable *cancellable = ag_task_get_cancellable (AG_TASK (self));
  /* A run that calls the function once per input stops itself when it
   * takes too long, so it needs no measure to start at full size. A
   * ranges function is called once for the whole run. */
  gboolean timed = self->ranges_func == NULL;
  gboolean shares = timed && _ag_run_size_input_us (&self->run_size) <= 0;
  guint limit;
  guint position, end;

  /* Ended, say by a handler that disposed the engine: nothing to start. */
  if (!_ag_multi_task_is_running (self))
    return;

  limit = runs_limit (self, shares);

  while (self->runs_going < limit
         && _ag_multi_task_is_running (self)
         && _ag_multi_task_next_to_start (self, &position, &end))
    {
      /* Shares are of what the runs still to go divide between them. */
      guint count = next_run_size (self, end - position,
                                   shares ? limit - self->runs_going : limit, timed);
      AgChunkRun *run;

      /* A run ends before an input that a wanted range started already. */
      count = _ag_multi_task_count_pending (self, position, count);
      run = _ag_chunk_run_new (AG_TASK (self), _ag_engine_get_queue (engine),
                               cancellable, run_done);
      run->start = position;
      run->count = count;
      run->user_data = self->map_data;
      run->slots = _ag_multi_task_slot_value (self, position);
      run->budget_us = timed ? AG_RUN_BUDGET_US : 0;
      run->min_count = self->min_count;

      if (self->ranges_func != NULL)
        {
          run->kind = AG_CHUNK_RUN_RANGES;
          run->func.ranges = self->ranges_func;
        }
      else if (self->range_func != NULL)
        {
          run->kind = AG_CHUNK_RUN_RANGE;
          run->func.range = self->range_func;
        }
      else
        {
          run->kind = AG_CHUNK_RUN_MAP;
          run->func.map = self->map_func;
        }

      if (self->inputs != NULL)
        run->items = &self->inputs->pdata[position];

      _ag_multi_task_mark_started (self, position, count);
      self->runs_going++;
      self->run_size.last_size = count;

      _ag_engine_submit_work (engine, &run->work);
    }
}

static AgMultiTask *
new_map (AgMapFunc       func,
         AgRangeFunc     range_func,
         gpointer        user_data,
         GDestroyNotify  destroy)
{
  AgMultiTask *self = g_object_new (AG_TYPE_MULTI_TASK, NULL);

  /* Made ready for children; a map has none. */
  g_clear_pointer (&self->children, g_ptr_array_unref);
  self->map_func = func;
  self->range_func = range_func;
  self->map_data = user_data;
  self->map_destroy = destroy;

  return self;
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
 * what @func returns for that element through its [class@Chunk]. Bindings
 * use [ctor@MultiTask.new_map_model], which takes objects, or
 * [ctor@MultiTask.new_map_range].
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

  self = new_map (func, NULL, user_data, destroy);
  self->inputs = g_ptr_array_ref (inputs);
  return self;
}

/* Until the MultiTask runs, its length is the model's, and it says so
 * when that changes. The rows handed out move with their inputs, as a
 * view that holds them expects; the rows of removed inputs end. */
static void
inputs_changed (GListModel  *inputs,
                guint        position,
                guint        removed,
                guint        added,
                AgMultiTask *self)
{
  if (self->started)
    return;

  if (self->views != NULL && removed + added > 0)
    {
      GHashTable *moved = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
      GHashTableIter iter;
      gpointer key, view;

      g_hash_table_iter_init (&iter, self->views);
      while (g_hash_table_iter_next (&iter, &key, &view))
        {
          guint at = GPOINTER_TO_UINT (key);

          g_hash_table_iter_steal (&iter);
          if (at >= position + removed)
            at = at - removed + added;
          else if (at >= position)
            {
              _ag_task_end_quietly (view);
              g_object_unref (view);
              continue;
            }
          g_hash_table_insert (moved, GUINT_TO_POINTER (at), view);
        }
      g_hash_table_unref (self->views);
      self->views = moved;
    }

  g_list_model_items_changed (G_LIST_MODEL (self), position, removed, added);
}

/**
 * ag_multi_task_new_map_model:
 * @inputs: the inputs; they are taken when the task is run, and until
 *   then the MultiTask's length (and its items-changed signal) follows it
 * @func: (scope notified) (closure user_data) (destroy destroy): maps one
 *   object to one value, on a worker thread
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the MultiTask is finalized
 *
 * Creates a MultiTask with one child per item of @inputs, whose value is
 * what @func returns for that item through its [class@Chunk]. The items
 * are taken from the model when the task is run, on the engine's thread:
 * the model may change while the task runs (a [class@Gio.ListStore] the
 * user edits) without changing any child's input.
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

  self = new_map (func, NULL, user_data, destroy);
  self->model = g_object_ref (inputs);
  g_signal_connect_object (inputs, "items-changed", G_CALLBACK (inputs_changed), self, 0);
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

  self = new_map (NULL, func, user_data, destroy);
  self->n_range = n_items;
  return self;
}

/**
 * ag_multi_task_new_map_ranges:
 * @n_items: how many children
 * @func: (scope notified) (closure user_data) (destroy destroy): makes the
 *   values of a range of children, on a worker thread
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the MultiTask is finalized
 *
 * Creates a MultiTask with @n_items children whose values @func makes a
 * range of positions at a time: the MultiTask hands each worker a run of
 * children, sized by how long children take, as
 * [ctor@MultiTask.new_map_range] does, but calls @func once per run
 * instead of once per child. Each child is answered through the
 * [class@Chunk], in order; [method@Chunk.return_values] answers many in
 * one call. Ordering, [property@MultiTask:skip-errors], the first failure,
 * rows and the results stream are the MultiTask's as for any map.
 *
 * This is how a binding maps a long list of its own values with one call
 * into its interpreter per run rather than per child:
 *
 * ```c
 * static void
 * square_range (AgChunk  *chunk,
 *               guint     position,
 *               guint     n_items,
 *               gpointer  user_data)
 * {
 *   for (guint i = position; i < position + n_items; i++)
 *     ag_chunk_return_uint64 (chunk, (guint64) i * i);
 * }
 *
 * squares = ag_multi_task_new_map_ranges (1000000, square_range, NULL, NULL);
 * ```
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new MultiTask
 *
 * Since: 1.0
 */
AgMultiTask *
ag_multi_task_new_map_ranges (guint           n_items,
                              AgRangesFunc    func,
                              gpointer        user_data,
                              GDestroyNotify  destroy)
{
  AgMultiTask *self;

  g_return_val_if_fail (func != NULL, NULL);

  self = new_map (NULL, NULL, user_data, destroy);
  self->ranges_func = func;
  self->n_range = n_items;
  return self;
}

static void
invoke_ranges_closure (AgChunk  *chunk,
                       guint     position,
                       guint     n_items,
                       gpointer  user_data)
{
  GValue params[3] = { G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT };

  g_value_init (&params[0], AG_TYPE_CHUNK);
  g_value_set_object (&params[0], chunk);
  g_value_init (&params[1], G_TYPE_UINT);
  g_value_set_uint (&params[1], position);
  g_value_init (&params[2], G_TYPE_UINT);
  g_value_set_uint (&params[2], n_items);

  g_closure_invoke (user_data, NULL, G_N_ELEMENTS (params), params, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (params); i++)
    g_value_unset (&params[i]);
}

/**
 * ag_multi_task_new_map_ranges_with_closure:
 * @n_items: how many children
 * @func: makes the values of a range of children, on a worker thread:
 *   called with the [class@Chunk] to answer them through, the position of
 *   the first child and how many children, it returns nothing
 *
 * Creates a MultiTask as [ctor@MultiTask.new_map_ranges] does, for
 * language bindings: the function is a [struct@GObject.Closure] (see
 * [ctor@Task.new_with_closure]), held until the MultiTask is finalized.
 * C code uses [ctor@MultiTask.new_map_ranges].
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new MultiTask
 *
 * Since: 1.0
 */
AgMultiTask *
ag_multi_task_new_map_ranges_with_closure (guint     n_items,
                                           GClosure *func)
{
  g_return_val_if_fail (func != NULL, NULL);

  return ag_multi_task_new_map_ranges (n_items, invoke_ranges_closure, _ag_closure_take (func),
                                       (GDestroyNotify) g_closure_unref);
}
