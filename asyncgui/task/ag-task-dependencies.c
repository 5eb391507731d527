/* ag-task-dependencies.c: tasks that wait for tasks, and and_then()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-error.h"
#include "ag-task-internal.h"

/* A task's dependencies and the tasks told when it ends live apart from it,
 * made on first use: most tasks have neither. The engine's thread only. */
struct _AgTaskDeps
{
  GPtrArray *dependencies;   /* AgTask, strong; NULL if none */
  guint      n_waiting;      /* dependencies not finished at start */
  GSList    *done_notifies;  /* DoneNotify, told once the task is final */
  GPtrArray *started;        /* borrowed: dependencies this task ran itself */
  gboolean   released;       /* its holds on its dependencies, once it ended */
};

/* Someone on the engine's thread who wants to know when a task ends,
 * besides the one who ran it: a task that depends on it. */
typedef struct
{
  AgTaskDoneFunc  func;
  gpointer        data;   /* strong reference on an AgTask */
  guint           tag;    /* the caller's, given back to func */
} DoneNotify;

static AgTaskDeps *
peek_deps (AgTaskPrivate *priv)
{
  AgTaskExtras *extras = _ag_task_peek_extras (priv);

  return extras != NULL ? extras->deps : NULL;
}

static AgTaskDeps *
ensure_deps (AgTask *self)
{
  AgTaskExtras *extras = _ag_task_ensure_extras (_ag_task_get_priv (self));

  if (extras->deps == NULL)
    extras->deps = g_new0 (AgTaskDeps, 1);

  return extras->deps;
}

/* Tasks that will want @self's outcome: a task that depends on it, a
 * MultiTask that holds it, until they end (or go without running), and a
 * blocking wait for it. A dependency a cancelled task started is spared
 * while someone else holds it (_ag_task_deps_cancel_started()). Any
 * thread. */
void
_ag_task_hold (AgTask *self)
{
  g_atomic_int_inc (&_ag_task_ensure_extras (_ag_task_get_priv (self))->n_holders);
}

void
_ag_task_unhold (AgTask *self)
{
  g_atomic_int_add (&_ag_task_peek_extras (_ag_task_get_priv (self))->n_holders, -1);
}

static int
n_holders (AgTask *self)
{
  AgTaskExtras *extras = _ag_task_peek_extras (_ag_task_get_priv (self));

  return extras != NULL ? g_atomic_int_get (&extras->n_holders) : 0;
}

static void
release_dependencies (AgTaskDeps *deps)
{
  if (deps->released || deps->dependencies == NULL)
    return;

  deps->released = TRUE;
  for (guint i = 0; i < deps->dependencies->len; i++)
    _ag_task_unhold (g_ptr_array_index (deps->dependencies, i));
}

void
_ag_task_deps_free (AgTaskDeps *deps)
{
  GSList *notifies = g_steal_pointer (&deps->done_notifies);

  for (GSList *l = notifies; l != NULL; l = l->next)
    {
      DoneNotify *notify = l->data;

      g_object_unref (notify->data);
      g_free (notify);
    }
  g_slist_free (notifies);
  release_dependencies (deps);
  g_clear_pointer (&deps->started, g_ptr_array_unref);
  g_clear_pointer (&deps->dependencies, g_ptr_array_unref);
  g_free (deps);
}

void
_ag_task_deps_tell_done (AgTask *self)
{
  AgTaskDeps *deps = peek_deps (_ag_task_get_priv (self));
  GSList *notifies;

  if (deps == NULL)
    return;

  release_dependencies (deps);
  notifies = g_slist_reverse (g_steal_pointer (&deps->done_notifies));

  for (GSList *l = notifies; l != NULL; l = l->next)
    {
      DoneNotify *notify = l->data;

      notify->func (self, notify->data, notify->tag);
      g_object_unref (notify->data);
      g_free (notify);
    }
  g_slist_free (notifies);
}

/* The engine is going: tasks waiting on this one are abandoned too, and
 * must not be started. */
void
_ag_task_deps_drop_done (AgTask *self)
{
  AgTaskDeps *deps = peek_deps (_ag_task_get_priv (self));

  if (deps == NULL)
    return;

  for (GSList *l = deps->done_notifies; l != NULL; l = l->next)
    {
      DoneNotify *notify = l->data;

      g_object_unref (notify->data);
      g_free (notify);
    }
  g_clear_pointer (&deps->done_notifies, g_slist_free);
}

/* Dependencies */

static AgTask *
first_failed_dependency (AgTask *self)
{
  AgTaskDeps *deps = peek_deps (_ag_task_get_priv (self));

  for (guint i = 0; deps != NULL && i < deps->dependencies->len; i++)
    {
      AgTask *dependency = g_ptr_array_index (deps->dependencies, i);

      if (ag_task_get_state (dependency) != AG_TASK_SUCCEEDED)
        return dependency;
    }

  return NULL;
}

/* All dependencies have ended: run the work, or fail with the error of the
 * first one in list order that did not succeed; the work then never runs. */
static void
dependencies_done (AgTask *self)
{
  AgTask *failed = first_failed_dependency (self);

  if (failed == NULL)
    {
      _ag_task_start_work (self);
      return;
    }

  /* The dependency's own error, and its detail, travel on unchanged. */
  if (ag_task_get_error (failed) != NULL)
    ag_task_return_error_full (self, g_error_copy (ag_task_get_error (failed)),
                               ag_task_get_error_detail (failed));
  else
    ag_task_return_new_error (self, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s",
                              _("A task this one depends on was cancelled"));
}

static void
dependency_done (AgTask   *dependency,
                 gpointer  data,
                 guint     unused)
{
  AgTask *self = data;
  AgTaskPrivate *priv = _ag_task_get_priv (self);
  AgTaskDeps *deps = peek_deps (priv);

  /* Cancelled meanwhile, or the engine went: nothing left to start. */
  if (priv->state != AG_TASK_RUNNING || _ag_task_is_cancel_requested (self))
    return;

  if (--deps->n_waiting == 0)
    dependencies_done (self);
}

/* Calls @func with @data on the engine's thread once @task is final.
 * @data is an AgTask (or subclass), kept alive until then; a task the
 * engine abandons drops it without calling. */
void
_ag_task_add_done_notify (AgTask          *task,
                          AgTaskDoneFunc   func,
                          AgTask          *data,
                          guint            tag)
{
  AgTaskDeps *deps = ensure_deps (task);
  DoneNotify *notify = g_new0 (DoneNotify, 1);

  notify->func = func;
  notify->data = g_object_ref (data);
  notify->tag = tag;
  deps->done_notifies = g_slist_prepend (deps->done_notifies, notify);
}

/* A dependency not yet run is run here, on the same engine; one running
 * elsewhere is waited for; one finished counts at once. */
void
_ag_task_deps_start (AgTask *self)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);
  AgTaskDeps *deps = peek_deps (priv);

  if (deps == NULL || deps->dependencies == NULL)
    {
      _ag_task_start_work (self);
      return;
    }

  deps->n_waiting = 1;  /* held until every dependency is looked at */
  for (guint i = 0; i < deps->dependencies->len; i++)
    {
      AgTask *dependency = g_ptr_array_index (deps->dependencies, i);

      if (ag_task_is_finished (dependency))
        continue;

      deps->n_waiting++;
      _ag_task_add_done_notify (dependency, dependency_done, self, 0);
      if (ag_task_get_state (dependency) == AG_TASK_PENDING)
        {
          ag_engine_run_async (priv->engine, dependency, NULL, NULL, NULL);
          if (deps->started == NULL)
            deps->started = g_ptr_array_new ();
          g_ptr_array_add (deps->started, dependency);
        }
    }

  dependency_done (NULL, self, 0);
}

/* Whether anyone but the task leaving, which holds @task once, waits for
 * it: another holder (see _ag_task_hold(): a dependent, a MultiTask, a job
 * that awaits it and was not cancelled) or a caller of
 * ag_task_wait_async(). */
static gboolean
others_wait_for (AgTask *task)
{
  AgTaskExtras *extras = _ag_task_peek_extras (_ag_task_get_priv (task));

  if (extras == NULL)
    return FALSE;

  return n_holders (task) > 1 || (extras->waiters != NULL && extras->waiters->len > 0);
}

/* @self was cancelled: the dependencies it ran itself are cancelled too,
 * unless somebody else waits for them. A task somebody else ran is theirs. */
void
_ag_task_deps_cancel_started (AgTask *self)
{
  AgTaskDeps *deps = peek_deps (_ag_task_get_priv (self));

  for (guint i = 0; deps != NULL && deps->started != NULL && i < deps->started->len; i++)
    {
      AgTask *dependency = g_ptr_array_index (deps->started, i);

      if (!ag_task_is_finished (dependency) && !others_wait_for (dependency))
        ag_task_cancel (dependency);
    }
}

static void
push_unseen (GPtrArray  *stack,
             GHashTable *seen,
             GPtrArray  *tasks)
{
  for (guint i = 0; tasks != NULL && i < tasks->len; i++)
    if (g_hash_table_add (seen, g_ptr_array_index (tasks, i)))
      g_ptr_array_add (stack, g_ptr_array_index (tasks, i));
}

/* Whether @self cannot end before @other: it is @other, or waits for it
 * through its dependencies or what it awaits (a MultiTask's children, a
 * job's await). A task that has ended waits for nothing. Each task is
 * visited once: stages that each depend on the whole stage before have
 * more paths than could ever be walked one by one. */
gboolean
_ag_task_waits_for (AgTask *self,
                    AgTask *other)
{
  g_autoptr(GPtrArray) stack = NULL;
  g_autoptr(GHashTable) seen = NULL;
  AgTaskDeps *self_deps;

  if (self == other)
    return TRUE;

  /* Nothing that has not ended holds @other (see _ag_task_hold()): no
   * path leads to it that could keep anything waiting. So adding a fresh
   * task to a stage of a big graph costs nothing; nor does one that waits
   * for nothing (a fresh child of a MultiTask that is held). */
  self_deps = peek_deps (_ag_task_get_priv (self));
  if (n_holders (other) == 0
      || ((self_deps == NULL || self_deps->dependencies == NULL)
          && _ag_task_peek_awaited (self) == NULL))
    return FALSE;

  stack = g_ptr_array_new ();
  seen = g_hash_table_new (NULL, NULL);
  g_hash_table_add (seen, self);
  g_ptr_array_add (stack, self);
  while (stack->len > 0)
    {
      AgTask *task = g_ptr_array_steal_index_fast (stack, stack->len - 1);
      AgTaskDeps *deps;

      if (task == other)
        return TRUE;
      if (ag_task_is_finished (task))
        continue;

      deps = peek_deps (_ag_task_get_priv (task));
      push_unseen (stack, seen, deps != NULL ? deps->dependencies : NULL);
      push_unseen (stack, seen, _ag_task_peek_awaited (task));
    }

  return FALSE;
}

/**
 * ag_task_add_dependency:
 * @self: a task not yet run
 * @dependency: a task @self needs first
 * @error: return location for an error
 *
 * Makes @self wait for @dependency: when @self is run, it runs @dependency
 * on the same engine if nobody has run it yet (and cancelling @self then
 * cancels it, unless something else wants it: another task that depends
 * on it, a [class@MultiTask] that holds it, a job that awaits it, a
 * wait), or waits for it to end, and
 * starts its own work only once all its dependencies have succeeded. If one
 * of them fails or is cancelled, @self fails with its error without its
 * work ever running. The work can read the dependencies' values with
 * [method@Task.get_dependency_value].
 *
 * A task cannot depend on itself, directly or through others (their
 * dependencies, and the children of a [class@MultiTask], which waits for
 * them): such a dependency is refused with %AG_ERROR_DEPENDENCY_CYCLE and
 * not recorded.
 * The dependencies of a task that has been run are fixed; adding one then
 * is a programming error.
 *
 * Thread: any, before @self is run, as long as no other thread changes the
 * same tasks at the same time.
 *
 * Returns: %TRUE if @self now depends on @dependency, %FALSE with @error
 *   set if that would make a cycle
 *
 * Since: 1.0
 */
gboolean
ag_task_add_dependency (AgTask  *self,
                        AgTask  *dependency,
                        GError **error)
{
  AgTaskPrivate *priv;
  AgTaskDeps *deps;

  g_return_val_if_fail (AG_IS_TASK (self), FALSE);
  g_return_val_if_fail (AG_IS_TASK (dependency), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  priv = _ag_task_get_priv (self);
  if (priv->state != AG_TASK_PENDING || _ag_task_has_once (priv, AG_TASK_ONCE_RUN_CLAIMED))
    {
      g_critical ("%s: the task %p was already run; its dependencies are fixed", G_STRFUNC, self);
      return FALSE;
    }

  if (_ag_task_waits_for (dependency, self))
    {
      g_set_error_literal (error, AG_ERROR, AG_ERROR_DEPENDENCY_CYCLE,
                           self == dependency
                             ? _("A task cannot depend on itself")
                             : _("The dependency already waits for this task, through its "
                                 "dependencies or a MultiTask’s children; dependencies "
                                 "cannot form a cycle"));
      return FALSE;
    }

  deps = ensure_deps (self);
  if (deps->dependencies == NULL)
    deps->dependencies = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (deps->dependencies, g_object_ref (dependency));
  _ag_task_hold (dependency);

  return TRUE;
}

/**
 * ag_task_get_n_dependencies:
 * @self: a task
 *
 * Gets how many tasks @self depends on.
 *
 * Thread: any, while no other thread adds dependencies to @self.
 *
 * Returns: the number of dependencies
 *
 * Since: 1.0
 */
guint
ag_task_get_n_dependencies (AgTask *self)
{
  AgTaskDeps *deps;

  g_return_val_if_fail (AG_IS_TASK (self), 0);

  deps = peek_deps (_ag_task_get_priv (self));
  return deps != NULL && deps->dependencies != NULL ? deps->dependencies->len : 0;
}

/**
 * ag_task_get_dependency_value:
 * @self: a task whose work is running
 * @index: the position of a dependency, in the order they were added
 *
 * Gets the value a dependency succeeded with. The task's work may call this
 * from its worker thread: it runs only after every dependency succeeded, and
 * their values do not change any more.
 *
 * Thread: any: the task's function reads it on its worker.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL if the
 *   dependency succeeded without one
 *
 * Since: 1.0
 */
const GValue *
ag_task_get_dependency_value (AgTask *self,
                              guint   index)
{
  AgTask *dependency = ag_task_get_dependency (self, index);

  return dependency != NULL ? ag_task_get_value (dependency) : NULL;
}

/**
 * ag_task_get_dependency:
 * @self: a task
 * @index: the position of a dependency, in the order they were added
 *
 * Gets one of the tasks @self depends on. A binding that cannot read a
 * dependency's value as a #GValue (a MultiTask's array, say) reads it
 * from the task itself.
 *
 * Thread: any, while no other thread adds dependencies to @self.
 *
 * Returns: (transfer none): the dependency
 *
 * Since: 1.0
 */
AgTask *
ag_task_get_dependency (AgTask *self,
                        guint   index)
{
  AgTaskDeps *deps;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  deps = peek_deps (_ag_task_get_priv (self));
  g_return_val_if_fail (deps != NULL && deps->dependencies != NULL
                        && index < deps->dependencies->len, NULL);

  return g_ptr_array_index (deps->dependencies, index);
}

typedef struct
{
  AgTaskAndThenFunc func;
  gpointer       user_data;
  GDestroyNotify destroy;
} Then;

static void
then_free (gpointer data)
{
  Then *then = data;

  if (then->destroy != NULL)
    then->destroy (then->user_data);
  g_free (then);
}

static void
then_run (AgTask       *task,
          gpointer      data,
          GCancellable *cancellable)
{
  Then *then = data;

  then->func (task, ag_task_get_dependency_value (task, 0), then->user_data, cancellable);
}

/**
 * ag_task_and_then:
 * @self: a task
 * @func: (scope notified) (closure user_data) (destroy destroy): the next
 *   work, on a worker thread, given @self's value
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the new task is finalized
 *
 * Creates the task that follows @self: it depends on @self, and its work
 * receives @self's value. Run the new task to run both; if @self has already
 * finished, only the new work runs. If @self fails or is cancelled, the new
 * task fails with the same error and @func never runs.
 *
 * Thread: any, as long as no other thread changes @self at the same time.
 *
 * Returns: (transfer full): a new task
 *
 * Since: 1.0
 */
AgTask *
ag_task_and_then (AgTask         *self,
              AgTaskAndThenFunc  func,
              gpointer        user_data,
              GDestroyNotify  destroy)
{
  Then *then;
  AgTask *next;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  then = g_new0 (Then, 1);
  then->func = func;
  then->user_data = user_data;
  then->destroy = destroy;

  next = ag_task_new (then_run, then, then_free);
  /* A task made here cannot close a cycle. */
  ag_task_add_dependency (next, self, NULL);

  return next;
}
