/* ag-multi-task-outcome.c: how the outcomes of a MultiTask's children
 * become its own
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "ag-engine-private.h"
#include "ag-i18n-private.h"
#include "ag-multi-task-private.h"
#include "ag-task-private.h"
#include "ag-values-private.h"

/* Each child has a slot: its value in @values, its state in @slots, its
 * error (if it failed) in @errors. Whoever finishes children (a child
 * task, a map run) fills their slots, then settles them here all at once:
 * they are counted, their rows settled, announced (task-done and the
 * results stream) in list or completion order, and the counts notified
 * once. When the last child is done, the MultiTask ends: with the ordered
 * values, or the error of the first failing child in list order. */

static void
clear_slot_value (gpointer data)
{
  GValue *value = data;

  if (G_IS_VALUE (value))
    g_value_unset (value);
}

/* What a failed child left, or NULL: the table exists only once a child
 * has failed. */
static const AgFailure *
slot_failure (AgMultiTask *self,
              guint        position)
{
  if (self->errors == NULL)
    return NULL;

  return g_hash_table_lookup (self->errors, GUINT_TO_POINTER (position));
}

static const GError *
slot_error (AgMultiTask *self,
            guint        position)
{
  const AgFailure *failure = slot_failure (self, position);

  return failure != NULL ? failure->error : NULL;
}

void
_ag_multi_task_settle_view (AgMultiTask *self,
                            guint        position)
{
  AgTask *view;

  if (self->views == NULL)
    return;

  view = g_hash_table_lookup (self->views, GUINT_TO_POINTER (position));
  if (view != NULL && !ag_task_is_finished (view))
    {
      const AgFailure *failure = slot_failure (self, position);

      _ag_task_settle (view, _ag_multi_task_slot_value (self, position),
                       failure != NULL ? failure->error : NULL,
                       failure != NULL ? _ag_failure_get_detail (failure) : NULL);
    }
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

  if (self->views != NULL)
    _ag_multi_task_settle_view (self, position);

  if (self->unordered && (has_listeners || self->results != NULL))
    _ag_multi_task_announce (self, has_listeners, position);
}

G_STATIC_ASSERT (SLOT_DONE == 2 && SLOT_FAILED == 3);

/* The first position from @position on whose child is not done, or @end.
 * Done and failed are the states with bit 1 set, so a run of thousands is
 * crossed eight slots at a time. */
static guint
skip_done (const guint8 *slots,
           guint         position,
           guint         end)
{
  const guint64 finished = G_GUINT64_CONSTANT (0x0202020202020202);

  while (position + 8 <= end)
    {
      guint64 eight;

      memcpy (&eight, slots + position, sizeof eight);
      if ((eight & finished) != finished)
        break;
      position += 8;
    }

  while (position < end && slots[position] >= SLOT_DONE)
    position++;

  return position;
}

/* How many children are announced between two looks at the clock. */
#define ANNOUNCE_STEP 64

static void announce_later (AgMultiTask *self);

/* Announces, in list order, the done children not announced yet. A slow
 * child holds back every child after it, and its end releases them all
 * at once: they are announced within the engine's delivery budget, and
 * what it leaves goes on at the next delivery, after the frames due. */
static void
announce_in_order (AgMultiTask *self,
                   gboolean     has_listeners)
{
  AgEngine *engine = _ag_task_get_engine (AG_TASK (self));
  gint64 deadline;

  /* Nobody listens to most maps of a million inputs: they cost no call
   * per child then. */
  if (!has_listeners && self->results == NULL)
    {
      self->next_announced = skip_done (self->slots, self->next_announced, self->n_items);
      return;
    }

  deadline = g_get_monotonic_time ()
             + (engine != NULL ? ag_engine_get_budget_ms (engine) : 0) * G_TIME_SPAN_MILLISECOND;
  for (guint n = 1;
       self->next_announced < self->n_items && self->slots[self->next_announced] >= SLOT_DONE;
       n++)
    {
      _ag_multi_task_announce (self, has_listeners, self->next_announced++);
      if (n % ANNOUNCE_STEP == 0 && g_get_monotonic_time () >= deadline)
        {
          announce_later (self);
          return;
        }
    }
}

static void
announce_delivered (AgNode   *node,
                    gpointer  owner)
{
  AgMultiTask *self = G_STRUCT_MEMBER_P (node, -G_STRUCT_OFFSET (AgMultiTask, announce_node));
  /* The ref the node travelled with. */
  g_autoptr(AgMultiTask) alive G_GNUC_UNUSED = self;

  self->announce_queued = FALSE;
  if (owner == NULL || !_ag_multi_task_is_running (self))
    return;

  announce_in_order (self, _ag_multi_task_has_listeners (self));
  _ag_multi_task_flush_results (self);
  _ag_multi_task_complete_if_done (self);
}

static void
announce_later (AgMultiTask *self)
{
  AgEngine *engine;

  /* Handlers may have ended it (a cancel, the engine disposed). */
  if (self->announce_queued || !_ag_multi_task_is_running (self))
    return;

  engine = _ag_task_get_engine (AG_TASK (self));
  self->announce_queued = TRUE;
  self->announce_node.deliver = announce_delivered;
  g_object_ref (self);
  _ag_completion_queue_push (_ag_engine_get_queue (engine), &self->announce_node);
}

/* Takes @failure: the error a child failed with, and its detail. */
void
_ag_multi_task_record_failure (AgMultiTask *self,
                               guint        position,
                               AgFailure   *failure)
{
  if (self->errors == NULL)
    self->errors = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) _ag_failure_free);
  g_hash_table_insert (self->errors, GUINT_TO_POINTER (position), failure);
}

/* The children at @start … @start + @count - 1 are done: their values are in
 * their slots, the failed ones marked SLOT_FAILED with their errors
 * recorded. */
void
_ag_multi_task_settle (AgMultiTask *self,
                       guint        start,
                       guint        count,
                       guint        old_failed)
{
  gboolean has_listeners = _ag_multi_task_has_listeners (self);

  if (self->views == NULL && !has_listeners && self->results == NULL)
    {
      /* Nobody follows the children one by one: a run of thousands costs
       * the engine's thread a few instructions per child. */
      guint8 *slots = self->slots;

      if (memchr (slots + start, SLOT_FAILED, count) == NULL)
        memset (slots + start, SLOT_DONE, count);
      else
        for (guint position = start; position < start + count; position++)
          if (slots[position] == SLOT_FAILED)
            self->n_failed++;
          else
            slots[position] = SLOT_DONE;
      self->n_finished += count;
    }
  else
    for (guint position = start; position < start + count; position++)
      slot_done (self, position, self->slots[position] == SLOT_FAILED, has_listeners);

  if (!self->unordered)
    announce_in_order (self, has_listeners);
  _ag_multi_task_flush_results (self);
  _ag_multi_task_notify_counts (self, old_failed);
}

static const AgFailure *
first_failure (AgMultiTask *self)
{
  GHashTableIter iter;
  gpointer key, value;
  guint first = G_MAXUINT;
  const AgFailure *failure = NULL;

  g_hash_table_iter_init (&iter, self->errors);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (GPOINTER_TO_UINT (key) < first)
      {
        first = GPOINTER_TO_UINT (key);
        failure = value;
      }

  return failure;
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
        GValue *value = _ag_multi_task_slot_value (self, i);

        if (G_IS_VALUE (value))
          _ag_value_init_copy (&copy, value);
        g_array_append_val (kept, copy);
      }

  return kept;
}

void
_ag_multi_task_complete_if_done (AgMultiTask *self)
{
  GValue value = G_VALUE_INIT;

  /* Done when every child is, and has been announced. */
  if (self->n_finished < self->n_items || !_ag_multi_task_is_running (self)
      || self->announce_queued)
    return;

  if (self->n_failed > 0 && !self->skip_errors)
    {
      const AgFailure *failure = first_failure (self);

      /* The first child's error, and its detail, unchanged. */
      ag_task_return_error_full (AG_TASK (self), g_error_copy (failure->error),
                                 _ag_failure_get_detail (failure));
      return;
    }

  g_value_init (&value, G_TYPE_ARRAY);
  g_value_take_boxed (&value, successful_values (self));
  _ag_task_return_take_value (AG_TASK (self), &value);
}

void
_ag_multi_task_release_values (AgMultiTask *self)
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
  g_return_val_if_fail (position < g_list_model_get_n_items (G_LIST_MODEL (self)), FALSE);

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

  slot = _ag_multi_task_slot_value (self, position);
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
