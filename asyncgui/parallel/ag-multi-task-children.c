/* ag-multi-task-children.c: a MultiTask of tasks added one by one
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "ag-engine-private.h"
#include "ag-multi-task-private.h"
#include "ag-task-private.h"
#include "ag-values-private.h"

/* Children are run max-workers at a time, in list order with the wanted
 * ones first (ag-multi-task-priority.c); each one's
 * outcome is copied into its slot as it finishes. A child may have been
 * run already, by a sibling that depends on it or by a task outside: it is
 * never run twice, its outcome is taken when it comes. */

/* A child's position in its MultiTask, kept on the child (plus one: no
 * position is NULL); a task belongs to one MultiTask at most. */
static G_DEFINE_QUARK (ag-multi-task-position, position)

static gboolean
get_position (AgTask *child,
              guint  *position)
{
  gpointer stored = g_object_get_qdata (G_OBJECT (child), position_quark ());

  if (stored == NULL)
    return FALSE;

  if (position != NULL)
    *position = GPOINTER_TO_UINT (stored) - 1;
  return TRUE;
}

/* Takes a finished child's outcome into its slot. */
static void
record_child (AgMultiTask *self,
              AgTask      *child)
{
  guint old_failed = self->n_failed;
  const GError *error;
  const GValue *value;
  guint position = 0;

  self->n_running--;
  if (!_ag_multi_task_is_running (self))
    return;

  get_position (child, &position);
  error = ag_task_get_error (child);
  value = ag_task_get_value (child);

  memset (_ag_multi_task_slot_value (self, position), 0, sizeof (GValue));
  if (error != NULL)
    {
      _ag_multi_task_record_failure (self, position,
                                     _ag_failure_new (g_error_copy (error),
                                                      ag_task_get_error_detail (child)));
      self->slots[position] = SLOT_FAILED;
    }
  else if (value != NULL)
    {
      _ag_value_init_copy (_ag_multi_task_slot_value (self, position), value);
      if (_ag_value_type_needs_clear (G_VALUE_TYPE (value)))
        self->values_need_clear = TRUE;
    }

  _ag_multi_task_settle (self, position, 1, old_failed);
}

static void
child_finished (AgMultiTask *self,
                AgTask      *child)
{
  record_child (self, child);
  if (!_ag_multi_task_is_running (self))
    return;

  _ag_multi_task_feed_children (self);
  _ag_multi_task_complete_if_done (self);
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

void
_ag_multi_task_feed_children (AgMultiTask *self)
{
  AgEngine *engine = _ag_task_get_engine (AG_TASK (self));
  guint position, end;

  while ((self->max_workers == 0 || self->n_running < self->max_workers)
         && _ag_multi_task_is_running (self)
         && _ag_multi_task_next_to_start (self, &position, &end))
    {
      AgTask *child = g_ptr_array_index (self->children, position);

      _ag_multi_task_mark_started (self, position, 1);
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

/**
 * ag_multi_task_add:
 * @self: a MultiTask made with [ctor@MultiTask.new], not yet run
 * @task: a task not in another MultiTask
 *
 * Appends a child.
 *
 * Children may depend on each other (see [method@Task.add_dependency]) in
 * any order. A child that runs already when its turn comes (a job, a task
 * somebody else ran, one that a sibling's dependency ran ahead of its
 * turn) is not run again: the MultiTask waits for it and takes its outcome
 * at its own position, as [method@Job.await_async] does; one that has
 * finished counts as it ended. Cancelling the MultiTask cancels every
 * child, whoever runs it.
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
  g_return_if_fail (!get_position (task, NULL));
  g_return_if_fail (task != AG_TASK (self));

  g_object_set_qdata (G_OBJECT (task), position_quark (),
                      GUINT_TO_POINTER (self->children->len + 1));
  g_ptr_array_add (self->children, g_object_ref (task));
  g_list_model_items_changed (G_LIST_MODEL (self), self->children->len - 1, 0, 1);
}

void
_ag_multi_task_cancel_children (AgMultiTask *self)
{
  AgEngine *engine = _ag_task_get_engine (AG_TASK (self));

  for (guint i = 0; i < self->children->len; i++)
    {
      AgTask *child = g_ptr_array_index (self->children, i);

      ag_task_cancel (child);
      /* Children never started end as cancelled too, so every child in
       * the list model reaches a final state. */
      if (ag_task_get_state (child) == AG_TASK_PENDING && engine != NULL)
        ag_engine_run_async (engine, child, NULL, NULL, NULL);
    }
}

/* The engine is being disposed: children it never started end with the
 * MultiTask. Running children are abandoned by the engine itself. */
void
_ag_multi_task_end_children_quietly (AgMultiTask *self)
{
  for (guint i = 0; i < self->children->len; i++)
    {
      AgTask *child = g_ptr_array_index (self->children, i);

      if (ag_task_get_state (child) == AG_TASK_PENDING)
        _ag_task_end_quietly (child);
    }
}
