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
 * run already, by a sibling that depends on it, by another MultiTask it
 * belongs to, at another position of this one, or by a task outside: it
 * is never run twice, its outcome is taken when it comes. */

/* What a child this MultiTask started calls back with: the child may be
 * in other MultiTasks, or at other positions of this one, so the position
 * travels with the callback instead of living on the child. */
typedef struct
{
  AgMultiTask *self;      /* strong */
  guint        position;
} ChildRun;

static void
child_run_free (gpointer data)
{
  ChildRun *run = data;

  g_object_unref (run->self);
  g_free (run);
}

/* Takes a finished child's outcome into its slot. */
static void
record_child (AgMultiTask *self,
              AgTask      *child,
              guint        position)
{
  guint old_failed = self->n_failed;
  const GError *error;
  const GValue *value;

  self->n_running--;
  if (!_ag_multi_task_is_running (self))
    return;

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
                AgTask      *child,
                guint        position)
{
  record_child (self, child, position);
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
  ChildRun *run = user_data;

  child_finished (run->self, AG_TASK (result), run->position);
}

/* A child that something else runs (a sibling's dependency, another
 * MultiTask, this one at another position, any caller) has ended. */
static void
elsewhere_done (AgTask   *child,
                gpointer  data,
                guint     position)
{
  child_finished (data, child, position);
}

void
_ag_multi_task_feed_children (AgMultiTask *self)
{
  AgEngine *engine = _ag_task_get_engine (AG_TASK (self));
  guint position, end;
  ChildRun *run;

  while ((self->max_workers == 0 || self->n_running < self->max_workers)
         && _ag_multi_task_is_running (self)
         && _ag_multi_task_next_to_start (self, &position, &end))
    {
      AgTask *child = g_ptr_array_index (self->children, position);

      _ag_multi_task_mark_started (self, position, 1);
      self->n_running++;

      /* Something else has run this child already: its outcome is taken
       * as it is, never run twice. */
      if (ag_task_get_state (child) != AG_TASK_PENDING)
        {
          if (ag_task_is_finished (child))
            record_child (self, child, position);
          else
            _ag_task_add_done_notify (child, elsewhere_done, AG_TASK (self), position);
          continue;
        }

      /* Not ag_engine_run_async(): the reference on self must be released
       * even if the engine is disposed and child_done() never runs. */
      run = g_new (ChildRun, 1);
      run->self = g_object_ref (self);
      run->position = position;
      _ag_task_start (child, engine, NULL, child_done, run, child_run_free);
    }
}

/**
 * ag_multi_task_add:
 * @self: a MultiTask made with [ctor@MultiTask.new], not yet run
 * @task: a task, in any state
 *
 * Appends a child. A task may be a child of several MultiTasks, and at
 * several positions of one: it runs once, and each position takes its
 * outcome.
 *
 * Children may depend on each other (see [method@Task.add_dependency]) in
 * any order, but not on @self: a task that waits for @self, through its
 * dependencies or its own children, cannot be a child of it, since
 * neither could end; adding one is a programming error. A child that runs already when its turn comes (a job, a task
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
  g_return_if_fail (task != AG_TASK (self));

  if (self->children == NULL || self->started)
    {
      g_critical ("%s: the MultiTask %p %s; add children to one made with "
                  "ag_multi_task_new(), before it runs", G_STRFUNC, self,
                  self->children == NULL ? "maps its inputs, it takes no children"
                                         : "has been run already");
      return;
    }

  if (_ag_task_waits_for (task, AG_TASK (self)))
    {
      g_critical ("%s: the task %p waits for the MultiTask %p, through its dependencies "
                  "or children, so it cannot be its child: neither would end",
                  G_STRFUNC, task, self);
      return;
    }

  g_ptr_array_add (self->children, g_object_ref (task));
  _ag_task_hold (task);
  g_list_model_items_changed (G_LIST_MODEL (self), self->children->len - 1, 0, 1);
}

/* The MultiTask ended, or goes without having run: it wants nothing more
 * of its children (see _ag_task_hold()). Once. */
void
_ag_multi_task_release_children (AgMultiTask *self)
{
  if (self->children == NULL || self->children_released)
    return;

  self->children_released = TRUE;
  for (guint i = 0; i < self->children->len; i++)
    _ag_task_unhold (g_ptr_array_index (self->children, i));
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
