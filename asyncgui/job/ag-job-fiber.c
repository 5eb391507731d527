/* ag-job-fiber.c: jobs written in C, whose code runs on a stack of its
 * own
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-error.h"
#include "ag-job-internal.h"

/* A C job's code is a fiber resumed on the engine's thread: by starting
 * the job, then by each await's completion. Between its start and the end
 * of its function it is "work" of its task (_ag_task_begin_work()): what
 * it returns with ag_task_return_*() takes effect when the function has
 * returned. Bindings never run their interpreter on a fiber; they drive
 * the same AgJob from their own coroutines (ag-job.c). */

/* The C job whose fiber is running on this thread. */
static _Thread_local AgJob *current_job;

static void
free_value (gpointer data)
{
  g_boxed_free (G_TYPE_VALUE, data);
}

/* The function returned: unless it returned with ag_task_return_*(), the
 * job succeeds without a value, or ends as cancelled if its code was told
 * of a cancel and did not go on past it. */
static void
function_returned (AgJob *self)
{
  AgTask *task = AG_TASK (self);

  if (_ag_task_claim_return (task, G_STRFUNC, TRUE))
    {
      if (self->cancel_seen)
        _ag_task_set_returned_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                                _("The job was cancelled")));
      _ag_task_deliver_returned (task);
    }

  /* Takes the work reference ag_job_start() took. */
  _ag_task_end_work (task);
}

void
_ag_job_run_fiber (AgJob *self)
{
  /* Held for the whole call: its stack is in use. */
  g_autoptr(AgJob) alive G_GNUC_UNUSED = g_object_ref (self);
  AgJob *outer = current_job;

  current_job = self;
  self->in_fiber = TRUE;
  self->resumed_at_depth = g_main_depth ();
  _ag_fiber_resume (self->fiber);
  self->in_fiber = FALSE;
  current_job = outer;

  if (!_ag_fiber_is_done (self->fiber))
    return;

  /* Its stack can serve the next job now. */
  g_clear_pointer (&self->fiber, _ag_fiber_free);
  function_returned (self);
}

/* The engine is being disposed and has abandoned the job, which ends as
 * cancelled. Suspended in ag_job_await(), its code is resumed once with
 * that await failing, and runs to its end, freeing what its stack owns;
 * every await on the way fails at once, so it never suspends again. Code
 * that is running now (it disposed the engine itself) does the same from
 * here on. */
void
_ag_job_unwind (AgJob *self)
{
  self->unwinding = TRUE;
  if (self->fiber == NULL || self->in_fiber)
    return;

  g_clear_pointer (&self->fiber_value, free_value);
  g_clear_error (&self->fiber_error);
  self->fiber_error = _ag_job_gone_error ();
  self->cancel_seen = TRUE;
  _ag_job_run_fiber (self);
}

static void
fiber_body (gpointer user_data)
{
  AgJob *self = user_data;

  self->func (self, self->func_data);
}

static void
fiber_await_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  AgJob *self = AG_JOB (source);

  /* The engine went away first, and the fiber was unwound without this
   * await; only a refused await's report, which GTask delivers from the
   * main loop, comes this late. */
  if (self->unwinding)
    return;

  self->fiber_value = ag_job_await_finish (self, result, &self->fiber_error);
  /* A job that carried on after a cancel and awaited again has caught it. */
  self->cancel_seen = g_error_matches (self->fiber_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  _ag_job_run_fiber (self);
}

/**
 * ag_engine_spawn: (skip)
 * @engine: an engine
 * @func: the job's body
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the job is finalized
 *
 * Starts a C job: @func runs on a stack of its own on the engine's thread,
 * at once, until its first await. This never blocks and never nests a main
 * loop. The stack size is [property@Engine:job-stack-size].
 *
 * Fibers are for C: bindings drive jobs made with [ctor@Job.new] from their
 * own coroutines instead.
 *
 * If the engine is disposed while the job is suspended in an await, the
 * job's code runs once more, inside the disposal: the await fails with
 * %G_IO_ERROR_CANCELLED, and every later await fails at once, so the
 * function runs to its end and its `g_autoptr()` and `g_autofree` locals
 * are freed. This is the one exception to "nothing runs after the engine
 * is disposed": code after an await must not assume the engine, or
 * anything the engine's owner frees before it, is still there. The job
 * ends as cancelled, without notifications.
 *
 * On an engine that has been disposed the job does not start: it has
 * failed with %AG_ERROR_ENGINE_DISPOSED, as a task run there fails, and
 * @func never runs (@destroy is still called).
 *
 * Thread: the engine's.
 *
 * Returns: (transfer full): the running job, or a job that has failed
 *
 * Since: 1.0
 */
AgJob *
ag_engine_spawn (AgEngine       *engine,
                 AgJobFunc       func,
                 gpointer        user_data,
                 GDestroyNotify  destroy)
{
  AgJob *self;
  gboolean no_stack;

  g_return_val_if_fail (AG_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (_ag_engine_is_own_thread (engine), NULL);

  self = g_object_new (AG_TYPE_JOB, NULL);
  self->func = func;
  self->func_data = user_data;
  self->func_destroy = destroy;
  if (_ag_engine_is_disposed (engine))
    {
      _ag_job_start (self, engine);
      return self;
    }
  self->fiber = _ag_fiber_new (_ag_stack_pool_get_default (),
                               ag_engine_get_job_stack_size (engine), fiber_body, self);

  /* Starting it runs its code until the first await. */
  no_stack = self->fiber == NULL;
  _ag_task_start (AG_TASK (self), engine, NULL, NULL, NULL, NULL);
  if (no_stack)
    ag_task_return_new_error (AG_TASK (self), AG_ERROR, AG_ERROR_FAILED,
                              _("Could not allocate a stack of %u bytes for the job"),
                              ag_engine_get_job_stack_size (engine));

  return self;
}

/**
 * ag_job_get_current: (skip)
 *
 * Gets the C job whose code is running, if any: not in a callback that a
 * main loop run by a job's code dispatches (a modal dialog's, say), which
 * runs on the job's stack but is no part of it.
 *
 * Thread: the engine's; on any other thread it returns %NULL.
 *
 * Returns: (transfer none) (nullable): the current job
 *
 * Since: 1.0
 */
AgJob *
ag_job_get_current (void)
{
  return _ag_job_get_running ();
}

/* The C job whose own code runs now. A callback dispatched by a main loop
 * that the job's code iterates (its own, a modal dialog's, ag_task_wait()'s)
 * runs on the job's stack, but is not its code: GLib's dispatch depth
 * tells them apart. */
AgJob *
_ag_job_get_running (void)
{
  if (current_job == NULL || _ag_fiber_get_current () != current_job->fiber
      || g_main_depth () != current_job->resumed_at_depth)
    return NULL;

  return current_job;
}

/**
 * ag_job_await: (skip)
 * @task: (transfer full): a task that has not been run
 * @error: return location for an error
 *
 * Inside a C job, runs @task and suspends the job until it has finished,
 * while the main loop goes on. The job takes @task, so a call can read
 * `ag_job_await (ag_task_new (…), &error)`. A task that runs already
 * (another job, say) is waited for: see [method@Job.await_async].
 *
 * Outside a job it fails with %AG_ERROR_NOT_IN_JOB, and so it does in a
 * callback that a main loop run by the job's code dispatches (its own, a
 * modal dialog's): that is not the job's code. Once the job's engine
 * is being disposed it fails at once with %G_IO_ERROR_CANCELLED, without
 * running @task: see ag_engine_spawn().
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: (transfer full) (nullable): the task's value, or %NULL with
 *   @error set, or %NULL without an error for a task without a value
 *
 * Since: 1.0
 */
GValue *
ag_job_await (AgTask  *task,
              GError **error)
{
  g_autoptr(AgTask) owned = task;
  AgJob *self = _ag_job_get_running ();
  GValue *value;

  g_return_val_if_fail (AG_IS_TASK (task), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self == NULL)
    {
      g_set_error_literal (error, AG_ERROR, AG_ERROR_NOT_IN_JOB,
                           _("Awaiting works only inside a job started with ag_engine_spawn()"));
      return NULL;
    }

  /* Unwinding: see _ag_job_unwind(). */
  if (self->unwinding || _ag_engine_is_disposed (_ag_task_get_engine (AG_TASK (self))))
    {
      g_propagate_error (error, _ag_job_gone_error ());
      return NULL;
    }

  ag_job_await_async (self, task, NULL, fiber_await_done, NULL);
  g_clear_object (&owned);
  _ag_fiber_suspend (self->fiber);

  value = g_steal_pointer (&self->fiber_value);
  if (self->fiber_error != NULL)
    g_propagate_error (error, g_steal_pointer (&self->fiber_error));

  return value;
}

/**
 * ag_job_sleep: (skip)
 * @msec: milliseconds
 * @error: return location for an error
 *
 * Inside a C job, lets @msec milliseconds pass while the main loop goes
 * on. A pause of the job stops the clock.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: %TRUE after the sleep, %FALSE with @error set if the job was
 *   cancelled, at once if its engine is being disposed (or this is not a
 *   job)
 *
 * Since: 1.0
 */
gboolean
ag_job_sleep (guint    msec,
              GError **error)
{
  GError *local_error = NULL;
  GValue *value = ag_job_await (ag_task_new_sleep (msec), &local_error);

  g_clear_pointer (&value, free_value);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  return TRUE;
}
