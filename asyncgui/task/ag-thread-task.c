/* ag-thread-task.c: a task whose function runs on a worker thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-task-internal.h"
#include "ag-work-cancellable-private.h"

/* The work is queued on the engine's executor with a reference of its own,
 * which goes home with the outcome once the function has returned
 * (_ag_task_end_work()), after the function's data. The cancellable is the worker's, lent to the task
 * while its function runs (see ag-task-cancellable.c), so a burst of small
 * tasks makes no cancellable at all. In serial mode the executor runs the
 * work on the engine's thread, inside delivery. */

typedef struct
{
  AgTask          parent_instance;

  AgWork          work;           /* its reference: see above */
  AgTaskFunc      func;
  gpointer        func_data;
  GDestroyNotify  func_destroy;
} AgThreadTask;

typedef struct
{
  AgTaskClass parent_class;
} AgThreadTaskClass;

static GType ag_thread_task_get_type (void);

G_DEFINE_FINAL_TYPE (AgThreadTask, ag_thread_task, AG_TYPE_TASK)

/* The cancellable this thread lends, while no task has it: a function
 * that runs a task inline (a wait in serial mode) lends the inner task
 * another one. */
static GPrivate spare_cancellable = G_PRIVATE_INIT (g_object_unref);

static void
thread_task_run (AgWork *work)
{
  AgThreadTask *self = G_STRUCT_MEMBER_P (work, -G_STRUCT_OFFSET (AgThreadTask, work));
  AgTask *task = (AgTask *) self;
  GCancellable *spare = g_private_get (&spare_cancellable);
  GCancellable *cancellable;
  GDestroyNotify destroy;
  gpointer data;

  if (spare != NULL)
    g_private_set (&spare_cancellable, NULL);
  else
    spare = g_cancellable_new ();

  cancellable = _ag_task_lend_cancellable (task, spare);
  _ag_task_begin_work (task);
  if (!g_cancellable_is_cancelled (cancellable))
    {
      GCancellable *outer = _ag_work_cancellable_enter (cancellable);

      self->func (task, self->func_data, cancellable);
      _ag_work_cancellable_leave (outer);
    }

  /* The function never runs again: its data goes at home once the
   * outcome is there, not with the task. A closure that holds the task (a
   * Vala lambda that also cancels it) would otherwise keep both for good. */
  destroy = g_steal_pointer (&self->func_destroy);
  data = g_steal_pointer (&self->func_data);

  /* The task keeps a cancellable it was lent and something kept. */
  if (cancellable == spare && !_ag_task_take_back_cancellable (task, spare))
    g_clear_object (&spare);
  if (spare != NULL && g_private_get (&spare_cancellable) == NULL)
    g_private_set (&spare_cancellable, g_steal_pointer (&spare));
  g_clear_object (&spare);

  _ag_task_end_work_then_destroy (task, destroy, data);
}

/* The engine went before a worker took the work. */
static void
thread_task_drop (AgWork *work)
{
  AgThreadTask *self = G_STRUCT_MEMBER_P (work, -G_STRUCT_OFFSET (AgThreadTask, work));

  _ag_task_unref_at_home ((AgTask *) self);
}

static void
ag_thread_task_start (AgTask *task)
{
  AgThreadTask *self = (AgThreadTask *) task;

  g_object_ref (self);
  _ag_engine_submit_work (_ag_task_get_engine (task), &self->work);
}

static void
ag_thread_task_finalize (GObject *object)
{
  AgThreadTask *self = (AgThreadTask *) object;

  if (self->func_destroy != NULL)
    self->func_destroy (self->func_data);

  G_OBJECT_CLASS (ag_thread_task_parent_class)->finalize (object);
}

static void
ag_thread_task_class_init (AgThreadTaskClass *klass)
{
  AgTaskClassPrivate *vfuncs = _ag_task_class_get_vfuncs (klass);

  G_OBJECT_CLASS (klass)->finalize = ag_thread_task_finalize;
  vfuncs->start = ag_thread_task_start;
  vfuncs->cancellable_in_work = TRUE;
}

static void
ag_thread_task_init (AgThreadTask *self)
{
  self->work.run = thread_task_run;
  self->work.drop = thread_task_drop;
}

/**
 * ag_task_new:
 * @func: (scope notified) (closure user_data) (destroy destroy): the work,
 *   run on a worker thread
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data on the engine's thread once @func
 *   has returned (or when the task is finalized, if it never ran)
 *
 * Creates a task that runs @func on a worker thread of the engine it is run
 * on (on the engine's own thread in serial mode). @func ends the task with
 * one of the `ag_task_return_*()` functions before it returns; if it returns
 * without doing so the task fails with %AG_ERROR_NO_RESULT. The outcome is
 * sent to the engine's thread once @func has returned, as with GTask.
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new task
 *
 * Since: 1.0
 */
AgTask *
ag_task_new (AgTaskFunc     func,
             gpointer       user_data,
             GDestroyNotify destroy)
{
  AgThreadTask *self;

  g_return_val_if_fail (func != NULL, NULL);

  self = g_object_new (ag_thread_task_get_type (), NULL);
  self->func = func;
  self->func_data = user_data;
  self->func_destroy = destroy;

  return (AgTask *) self;
}
