/* ag-job.c: sequential code that awaits tasks; a job is itself a task
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-closure-private.h"
#include "ag-error.h"
#include "ag-job-internal.h"

/**
 * AgJob:
 *
 * A running sequential job: a GUI handler written as plain sequential code
 * that awaits slow work without blocking the GUI.
 *
 * A job is a [class@Task]: it has the task's state, value and error, it is
 * waited for with [method@Task.wait_async] or [method@Task.wait], other
 * jobs await it like any task, and [method@Task.cancel] cancels it. It
 * starts running when it is made, and ends when its code ends.
 *
 * In C a job is a function that runs on a stack of its own (a fiber) on the
 * engine's thread. Each `ag_job_await*()` call suspends it until what it
 * awaits has finished, while the main loop goes on drawing frames:
 *
 * ```c
 * static void
 * on_open (AgJob    *job,
 *          gpointer  user_data)
 * {
 *   MyWindow *self = user_data;
 *   g_autoptr(GError) error = NULL;
 *   g_autofree char *text = NULL;
 *
 *   gtk_label_set_text (self->status, "Loading…");
 *   text = ag_job_await_string (ag_task_new (load_file, g_strdup (self->path), g_free), &error);
 *   if (text == NULL)
 *     {
 *       gtk_label_set_text (self->status, error->message);
 *       return;
 *     }
 *   gtk_text_buffer_set_text (self->buffer, text, -1);
 *   gtk_label_set_text (self->status, "Done");
 * }
 *
 * g_autoptr(AgJob) job = ag_engine_spawn (engine, on_open, self, NULL);
 * ```
 *
 * Python generators and coroutines, JavaScript async functions and Vala
 * async methods drive a job of their own made with [ctor@Job.new]: each
 * await goes through [method@Job.await_async], and the coroutine's end
 * through [method@Task.return_value] or [method@Task.return_error]. No
 * language runs its interpreter on a fiber.
 *
 * Whatever drives it, a job can be paused, resumed and cancelled from
 * outside:
 *
 * - while it is [property@Job:paused], what it awaits goes on, but the job
 *   does not see the result before [method@Job.resume]; a sleep it awaits
 *   keeps only its remaining time;
 * - [method@Task.cancel] cancels what it awaits, and the await fails at
 *   once with %G_IO_ERROR_CANCELLED (at the next await if none is pending).
 *   The job's code after it runs, so it can clean up; if it lets the error
 *   end it, the job ends cancelled; if it catches it and goes on, its next
 *   await runs normally and a later cancel works the same way. Cancelling a
 *   paused job resumes it.
 *
 * Once a job has ended, however it ended, pausing, resuming and cancelling
 * it do nothing; so do pausing and resuming it while a cancel is on its
 * way to its code. Returning from it twice, or awaiting in a job that has
 * ended, are programming errors.
 *
 * A job keeps itself alive while it runs. When its engine is disposed the
 * job ends as cancelled, without notifications, like every task of the
 * engine. A C job suspended in an await is resumed once, inside the
 * disposal, with that await failing with %G_IO_ERROR_CANCELLED, so that its
 * code runs to its end and frees what its stack owns (`g_autoptr()` and
 * `g_autofree` locals and the like); every further await and
 * ag_job_sleep() fails at once with %G_IO_ERROR_CANCELLED without
 * suspending it, and what it returns no longer counts. A C job whose own
 * code disposed the engine ends at once all the same, and its code runs on
 * to its end the same way.
 * That unwinding is the only code of a job that runs once the engine is
 * being disposed; a job driven by a binding runs none.
 *
 * Since: 1.0
 */

G_DEFINE_FINAL_TYPE (AgJob, ag_job, AG_TYPE_TASK)

enum {
  PROP_0,
  PROP_PAUSED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Control calls belong to the engine's thread; a job whose engine is gone
 * has no thread to check against. */
static gboolean
on_engine_thread (AgJob *self)
{
  AgEngine *engine = _ag_task_get_live_engine (AG_TASK (self));

  return engine == NULL || _ag_engine_is_own_thread (engine);
}

/* Running, and not unwinding after its engine went. */
static gboolean
is_live (AgJob *self)
{
  return _ag_task_peek_state ((AgTask *) self) == AG_TASK_RUNNING && !self->unwinding;
}

GError *
_ag_job_gone_error (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                              _("The engine was shut down before the job finished"));
}

static void
set_paused (AgJob    *self,
            gboolean  paused)
{
  if (self->paused == paused)
    return;

  self->paused = paused;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSED]);
}

/* Awaiting */

/* The job wants the outcome of what it awaits until its await ends or the
 * job is cancelled (then it sees the cancel, whatever the outcome): it
 * holds the task meanwhile, so circles through it are seen and a cancelled
 * dependent spares it. */
static void
release_awaited (AgJob *self)
{
  if (self->awaited_held)
    _ag_task_unhold (self->awaited);
  self->awaited_held = FALSE;
}

static void
forget_await_cancellable (AgJob *self)
{
  if (self->await_cancelled_id != 0)
    g_cancellable_disconnect (self->await_cancellable, self->await_cancelled_id);
  self->await_cancelled_id = 0;
  g_clear_object (&self->await_cancellable);
}

static void
complete_await (AgJob *self)
{
  g_autoptr(AgTask) task = NULL;
  g_autoptr(GTask) cancelled = NULL;
  GAsyncReadyCallback callback = g_steal_pointer (&self->await_callback);
  gpointer data = g_steal_pointer (&self->await_data);
  GAsyncResult *result;

  release_awaited (self);
  task = g_steal_pointer (&self->awaited);
  result = (GAsyncResult *) task;
  self->held = FALSE;
  forget_await_cancellable (self);

  /* Whatever the work ended with, a cancelled job sees the cancel. */
  if (self->cancel_pending)
    {
      self->cancel_pending = FALSE;
      cancelled = g_task_new (self, NULL, NULL, NULL);
      g_task_set_source_tag (cancelled, ag_job_await_async);
      g_task_return_new_error (cancelled, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "%s", _("The job was cancelled"));
      result = G_ASYNC_RESULT (cancelled);
    }

  callback ((GObject *) self, result, data);
}

/* Completes the await at a later delivery, never inside the call that made
 * it possible (a resume, a cancel): through the completion queue, like
 * every return to the engine's thread. */
static void
resume_deliver (AgNode   *node,
                gpointer  owner)
{
  AgJob *self = G_STRUCT_MEMBER_P (node, -G_STRUCT_OFFSET (AgJob, resume_node));

  self->resume_queued = FALSE;
  if (owner != NULL && self->awaited != NULL && !self->paused && is_live (self))
    complete_await (self);

  g_object_unref (self);
}

static void
complete_later (AgJob *self)
{
  AgEngine *engine = _ag_task_get_engine (AG_TASK (self));

  if (self->resume_queued || engine == NULL)
    return;

  self->resume_queued = TRUE;
  self->resume_node.deliver = resume_deliver;
  g_object_ref (self);
  _ag_completion_queue_push (_ag_engine_get_queue (engine), &self->resume_node);
}

static void
awaited_finished (AgJob  *self,
                  AgTask *task)
{
  if (self->awaited != task)
    return;

  if (self->paused)
    self->held = TRUE;
  else
    complete_await (self);
}

/* The callback of a task the job ran. */
static void
awaited_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  awaited_finished (user_data, (AgTask *) result);
}

/* A task somebody else runs (another job, say) has ended. The await
 * completes at a later delivery: a job that ends inside its own code's
 * return must not run the code of the job that awaits it there. */
static void
waited_task_done (AgTask   *task,
                  gpointer  data,
                  guint     unused)
{
  AgJob *self = data;

  if (self->awaited != task)
    return;

  if (self->paused)
    self->held = TRUE;
  else
    complete_later (self);
}

static void
cancel_awaited (GCancellable *cancellable,
                gpointer      task)
{
  ag_task_cancel (task);
}

static void
report_await_error (AgJob               *self,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data,
                    int                  code,
                    const char          *message)
{
  g_task_report_new_error (self, callback, user_data, ag_job_await_async,
                           AG_ERROR, code, "%s", message);
}

/* What a job waits for besides its dependencies: the task it awaits, so
 * that circles through awaits, dependencies and MultiTasks' children are
 * all seen by _ag_task_waits_for(); not once the job was cancelled, when
 * its await ends at the next delivery whatever the task does. Only the
 * engine's thread sees a job's await, so a circle through jobs of two
 * engines is not seen. */
static GPtrArray *
ag_job_peek_awaited (AgTask *task)
{
  AgJob *self = AG_JOB (task);
  AgEngine *engine = _ag_task_get_engine (task);

  if (!self->awaited_held || engine == NULL || !_ag_engine_is_own_thread (engine))
    return NULL;

  if (self->awaited_view == NULL)
    self->awaited_view = g_ptr_array_sized_new (1);
  g_ptr_array_set_size (self->awaited_view, 1);
  self->awaited_view->pdata[0] = self->awaited;

  return self->awaited_view;
}

/* Whether the job's own code (a C job's fiber) is what runs here. */
static gboolean
ag_job_runs_here (AgTask *task)
{
  AgJob *self = AG_JOB (task);

  return self->fiber != NULL && _ag_fiber_get_current () == self->fiber;
}

/**
 * ag_job_await_async:
 * @self: a running job
 * @task: the task to await
 * @cancellable: (nullable): cancels @task, which ends this await as
 *   cancelled; the job goes on
 * @callback: (scope async): called on the engine's context when the await
 *   is over
 * @user_data: (closure callback): data for @callback
 *
 * Awaits @task on behalf of @self and calls @callback when it has finished
 * and the job is not paused, or at once if the job is cancelled. A task
 * that has not been run is run on the job's engine; one that runs already
 * (another job, a task somebody else ran) is waited for; one that has
 * finished answers at the next delivery. This is what a binding's
 * coroutine does at each await; C jobs call ag_job_await() instead.
 *
 * Cancelling the job ends the await at the next delivery, whatever the
 * awaited task does, and cancels that task if the job ran it, or if it is
 * a job (which may catch the cancel and go on); anything else goes on, and
 * only the await ends. An await in a job
 * that was cancelled while its code ran fails with %G_IO_ERROR_CANCELLED
 * at the next delivery; a @task that had not run then ends cancelled
 * without running its work.
 *
 * A job awaits one thing at a time. A second await before the first is
 * over, awaiting the job itself, or awaiting in a job that has finished,
 * are programming errors reported to @callback. So is, without a critical
 * (which tasks wait for which may depend on what the user did), awaiting
 * a task that waits for the job: a job that awaits it, a task that depends
 * on it, a [class@MultiTask] holding it, or anything that waits for those,
 * among the tasks of the job's engine; the await then fails with
 * %AG_ERROR_WOULD_DEADLOCK. A task that has ended waits for nothing.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_job_await_async (AgJob               *self,
                    AgTask              *task,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  AgEngine *engine;

  g_return_if_fail (AG_IS_JOB (self));
  g_return_if_fail (on_engine_thread (self));
  g_return_if_fail (AG_IS_TASK (task));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  g_return_if_fail (callback != NULL);

  engine = _ag_task_get_engine ((AgTask *) self);
  if (!is_live (self) || engine == NULL)
    {
      g_critical ("%s: the job %p has finished; it cannot await anything", G_STRFUNC, self);
      report_await_error (self, callback, user_data, AG_ERROR_FAILED,
                          _("The job has finished and cannot await anything"));
      return;
    }

  if (self->awaited != NULL)
    {
      g_critical ("%s: the job %p is already awaiting a task", G_STRFUNC, self);
      report_await_error (self, callback, user_data, AG_ERROR_FAILED,
                          _("The job is already awaiting something; a job awaits one thing at a time"));
      return;
    }

  if (task == (AgTask *) self)
    {
      g_critical ("%s: the job %p cannot await itself", G_STRFUNC, self);
      report_await_error (self, callback, user_data, AG_ERROR_WOULD_DEADLOCK,
                          _("A job awaiting itself would never finish"));
      return;
    }

  /* Not a critical: which tasks wait for which can depend on what the
   * user did. */
  if (_ag_task_waits_for (task, (AgTask *) self))
    {
      report_await_error (self, callback, user_data, AG_ERROR_WOULD_DEADLOCK,
                          _("The task waits for the job that would await it (through jobs it "
                            "awaits, dependencies or a MultiTask’s children): the job would "
                            "never finish"));
      return;
    }

  self->awaited = g_object_ref (task);
  _ag_task_hold (task);
  self->awaited_held = TRUE;
  self->await_callback = callback;
  self->await_data = user_data;
  self->held = FALSE;
  /* Cancelling the job cancels what it ran itself, and jobs. */
  self->awaited_is_own = _ag_task_peek_state (task) == AG_TASK_PENDING || AG_IS_JOB (task);
  if (cancellable != NULL)
    {
      self->await_cancellable = g_object_ref (cancellable);
      self->await_cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (cancel_awaited),
                                                        g_object_ref (task), g_object_unref);
    }

  /* Cancelled with nothing pending: this await ends as cancelled, as it
   * would had the cancel come just after it. A task the job runs ends
   * cancelled without running its work (so that whoever watches it sees
   * it end); anything else is left alone. */
  if (self->cancel_pending)
    {
      if (!self->awaited_is_own || AG_IS_JOB (task))
        {
          complete_later (self);
          return;
        }
      ag_task_cancel (task);
    }

  switch (_ag_task_peek_state (task))
    {
    case AG_TASK_PENDING:
      _ag_task_start (task, engine, NULL, awaited_done, g_object_ref (self), g_object_unref);
      if (self->paused)
        _ag_task_suspend (task);
      break;
    case AG_TASK_RUNNING:
      _ag_task_add_done_notify (task, waited_task_done, AG_TASK (self), 0);
      break;
    case AG_TASK_SUCCEEDED:
    case AG_TASK_FAILED:
    case AG_TASK_CANCELLED:
    default:
      complete_later (self);
      break;
    }
}

/**
 * ag_job_await_finish:
 * @self: a job
 * @result: the result given to the callback of [method@Job.await_async]
 * @error: return location for an error
 *
 * Gets the outcome of an await.
 *
 * Thread: the engine's.
 *
 * Returns: (transfer full) (nullable): a copy of the awaited task's value,
 *   or %NULL with @error set if it failed or the job was cancelled, or
 *   %NULL without an error if it succeeded without a value
 *
 * Since: 1.0
 */
GValue *
ag_job_await_finish (AgJob         *self,
                     GAsyncResult  *result,
                     GError       **error)
{
  g_return_val_if_fail (AG_IS_JOB (self), NULL);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!AG_IS_TASK (result))
    {
      g_return_val_if_fail (g_task_is_valid (result, self), NULL);
      return g_task_propagate_pointer (G_TASK (result), error);
    }

  return _ag_task_propagate_value (AG_TASK (result), error);
}

static void
drop_await (AgJob *self)
{
  release_awaited (self);
  if (self->awaited != NULL && self->awaited_is_own)
    ag_task_cancel (self->awaited);
  g_clear_object (&self->awaited);
  forget_await_cancellable (self);
  _ag_async_ready_forget (g_steal_pointer (&self->await_callback),
                          g_steal_pointer (&self->await_data));
  self->held = FALSE;
}

/* Control from outside */

/**
 * ag_job_get_paused: (get-property paused)
 * @self: a job
 *
 * Tells whether the job is paused.
 *
 * Thread: the engine's.
 *
 * Returns: %TRUE if the job is paused
 *
 * Since: 1.0
 */
gboolean
ag_job_get_paused (AgJob *self)
{
  g_return_val_if_fail (AG_IS_JOB (self), FALSE);

  return self->paused;
}

/**
 * ag_job_pause:
 * @self: a running job
 *
 * Pauses the job. What it awaits goes on, but its result is held until
 * [method@Job.resume]; a sleep keeps its remaining time. If the job is
 * cancelled instead, it sees the cancel, not the held result, and a task
 * it ran itself has its cancellable cancelled then, inside the cancel, even
 * though it has ended: its work can take back what it handed over (a
 * channel read started with that cancellable puts its items back). Only
 * work whose outcome is for this job alone should: a task that others
 * await or depend on may have given them its outcome already.
 *
 * Pausing does nothing on a job that is paused already, that has ended
 * (however it ended), or that was cancelled and has not seen the cancel
 * yet: a pause does not hold a cancel back.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_job_pause (AgJob *self)
{
  g_return_if_fail (AG_IS_JOB (self));
  g_return_if_fail (on_engine_thread (self));

  if (!is_live (self) || self->cancel_pending || self->paused)
    return;

  self->resume_owed = FALSE;
  set_paused (self, TRUE);
  if (self->awaited != NULL)
    _ag_task_suspend (self->awaited);
}

static void
unpause (AgJob *self)
{
  set_paused (self, FALSE);

  if (self->awaited == NULL)
    return;

  _ag_task_resume (self->awaited);
  if (self->held)
    complete_later (self);
}

/**
 * ag_job_resume:
 * @self: a paused job
 *
 * Resumes a paused job. A result that arrived while it was paused is
 * delivered at the next delivery, not inside this call.
 *
 * Resuming does nothing on a job that has ended (however it ended), or
 * whose pause a cancel lifted (cancelling resumes a job), once, even after
 * the job caught the cancel and went on. Resuming a job that is running
 * and was never paused, or was resumed already, is a programming error
 * ([method@Job.may_resume] tells).
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_job_resume (AgJob *self)
{
  g_return_if_fail (AG_IS_JOB (self));
  g_return_if_fail (on_engine_thread (self));

  if (!ag_job_may_resume (self))
    {
      g_critical ("%s: the job %p is not paused", G_STRFUNC, self);
      return;
    }

  if (!is_live (self))
    return;

  if (self->paused)
    unpause (self);
  else
    self->resume_owed = FALSE;
}

/**
 * ag_job_may_resume:
 * @self: a job
 *
 * Checks whether [method@Job.resume] may be called on the job now: so it
 * may unless the job is running and is not paused (it never was, or was
 * resumed already) while no cancel lifted its pause or waits to reach its
 * code, where resuming it is a programming error. Bindings ask this to
 * raise an error of their own instead.
 *
 * Thread: the engine's.
 *
 * Returns: %FALSE if resuming the job now is a programming error
 *
 * Since: 1.0
 */
gboolean
ag_job_may_resume (AgJob *self)
{
  g_return_val_if_fail (AG_IS_JOB (self), FALSE);
  g_return_val_if_fail (on_engine_thread (self), FALSE);

  return !is_live (self) || self->paused || self->resume_owed || self->cancel_pending;
}

/**
 * ag_job_is_cancel_pending:
 * @self: a job
 *
 * Checks whether the job was cancelled and its code has not seen the
 * cancel yet: its pending await, or its next one, fails with
 * %G_IO_ERROR_CANCELLED. Until then nothing else should reach the job's
 * code: a binding's loop over a [class@MultiTask]'s results asks this
 * before handing the job a result that was already there, and awaits
 * instead. A cancel made on another thread counts once it has reached the
 * engine's thread.
 *
 * Thread: the engine's.
 *
 * Returns: %TRUE from a cancel until the job's code sees it
 *
 * Since: 1.0
 */
gboolean
ag_job_is_cancel_pending (AgJob *self)
{
  g_return_val_if_fail (AG_IS_JOB (self), FALSE);
  g_return_val_if_fail (on_engine_thread (self), FALSE);

  return is_live (self) && self->cancel_pending;
}

/* A cancel reaches the job's code at its await: what it awaits is
 * cancelled if it is the job's, and the await fails at the next delivery
 * (the next await at once if none is pending). */
static void
cancel_awaited_now (AgJob *self)
{
  self->cancel_pending = TRUE;
  release_awaited (self);
  /* A task the job ran that ended while the job was paused: the job will
   * see the cancel instead of that outcome, so the work may take back what
   * it handed over, inside this cancel, before anything else runs (a read
   * puts back its items). Somebody else's task is theirs. */
  if (self->held && self->awaited_is_own)
    _ag_task_cancel_after_end (self->awaited);
  if (self->paused)
    {
      unpause (self);
      self->resume_owed = TRUE;
    }

  if (self->awaited == NULL)
    return;

  if (self->held || ag_task_is_finished (self->awaited) || !self->awaited_is_own)
    {
      complete_later (self);
      return;
    }

  ag_task_cancel (self->awaited);
  /* A job may catch the cancel and go on: this await ends all the same. */
  if (AG_IS_JOB (self->awaited))
    complete_later (self);
}

static void
cancel_now (AgJob *self)
{
  /* Jobs awaiting jobs cancel each other down the chain; a cancel that
   * comes back round (to a job whose await of another was ended by an
   * earlier cancel) stops here. */
  if (!is_live (self) || self->cancelling)
    return;

  self->cancelling = TRUE;
  cancel_awaited_now (self);
  self->cancelling = FALSE;
}

static void
cancel_deliver (AgNode   *node,
                gpointer  owner)
{
  AgJob *self = G_STRUCT_MEMBER_P (node, -G_STRUCT_OFFSET (AgJob, cancel_node));

  g_atomic_int_set (&self->cancel_queued, FALSE);
  if (owner != NULL)
    cancel_now (self);

  g_object_unref (self);
}

/* ag_task_cancel() on a job, from any thread: another thread's cancel
 * travels to the engine's thread on the completion queue. */
static void
ag_job_request_cancel (AgTask *task)
{
  AgJob *self = AG_JOB (task);
  AgEngine *engine = _ag_task_get_engine (task);

  if (engine == NULL)
    return;

  if (_ag_engine_is_own_thread (engine))
    {
      cancel_now (self);
      return;
    }

  if (!g_atomic_int_compare_and_exchange (&self->cancel_queued, FALSE, TRUE))
    return;

  self->cancel_node.deliver = cancel_deliver;
  g_object_ref (self);
  _ag_completion_queue_push (_ag_engine_get_queue (engine), &self->cancel_node);
}

/* Starting and ending */

static void
ag_job_start (AgTask *task)
{
  AgJob *self = AG_JOB (task);

  /* A C job's code runs until its first await; a job driven by a binding
   * waits for its coroutine's first await. */
  if (self->fiber != NULL)
    {
      g_object_ref (self);
      _ag_task_begin_work (task);
      _ag_job_run_fiber (self);
    }
}

/* The job ended, or its engine abandoned it: what it awaits is cancelled,
 * and a C job that is suspended unwinds. */
static void
ag_job_stopped (AgTask *task)
{
  AgJob *self = AG_JOB (task);

  drop_await (self);
  if (self->fiber != NULL)
    _ag_job_unwind (self);
}

/**
 * ag_job_new:
 * @engine: the engine the job's work runs on
 *
 * Creates a job for a coroutine of the caller's own to drive, as bindings
 * do, and starts it: it runs until the coroutine ends it with
 * [method@Task.return_value] or [method@Task.return_error]. Each await goes
 * through [method@Job.await_async].
 *
 * On an engine that has been disposed the job does not start: it has
 * failed with %AG_ERROR_ENGINE_DISPOSED, as a task run there fails, and
 * the caller does not drive it.
 *
 * Thread: the engine's.
 *
 * Returns: (transfer full): the running job, or a job that has failed
 *
 * Since: 1.0
 */
AgJob *
ag_job_new (AgEngine *engine)
{
  AgJob *self;

  g_return_val_if_fail (AG_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (_ag_engine_is_own_thread (engine), NULL);

  self = g_object_new (AG_TYPE_JOB, NULL);
  _ag_job_start (self, engine);

  return self;
}

/* Starts @self on @engine; on a disposed engine it fails instead, never
 * started. */
void
_ag_job_start (AgJob    *self,
               AgEngine *engine)
{
  if (!_ag_engine_is_disposed (engine))
    _ag_task_start (AG_TASK (self), engine, NULL, NULL, NULL, NULL);
  else if (_ag_task_claim_run (AG_TASK (self)))
    _ag_task_refuse_run (AG_TASK (self), engine, NULL, NULL, NULL);
}

static void
ag_job_finalize (GObject *object)
{
  AgJob *self = AG_JOB (object);

  g_assert (self->fiber == NULL || !self->in_fiber);
  g_clear_pointer (&self->fiber, _ag_fiber_free);
  if (self->func_destroy != NULL)
    self->func_destroy (self->func_data);
  if (self->fiber_value != NULL)
    g_boxed_free (G_TYPE_VALUE, self->fiber_value);
  g_clear_error (&self->fiber_error);
  release_awaited (self);
  g_clear_object (&self->awaited);
  g_clear_pointer (&self->awaited_view, g_ptr_array_unref);
  forget_await_cancellable (self);

  G_OBJECT_CLASS (ag_job_parent_class)->finalize (object);
}

static void
ag_job_get_property (GObject    *object,
                     guint       prop_id,
                     GValue     *value,
                     GParamSpec *pspec)
{
  AgJob *self = AG_JOB (object);

  switch (prop_id)
    {
    case PROP_PAUSED:
      g_value_set_boolean (value, self->paused);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_job_class_init (AgJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AgTaskClassPrivate *task_class = _ag_task_class_get_vfuncs (klass);

  object_class->finalize = ag_job_finalize;
  object_class->get_property = ag_job_get_property;

  task_class->start = ag_job_start;
  task_class->stopped = ag_job_stopped;
  task_class->request_cancel = ag_job_request_cancel;
  task_class->runs_here = ag_job_runs_here;
  task_class->peek_awaited = ag_job_peek_awaited;
  task_class->ends_when_returned = TRUE;

  /**
   * AgJob:paused: (getter get_paused)
   *
   * Whether the job is paused: what it awaits goes on, but the job does not
   * see the result before it is resumed. Notified on the engine's thread.
   *
   * Since: 1.0
   */
  properties[PROP_PAUSED] =
    g_param_spec_boolean ("paused", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ag_job_init (AgJob *self)
{
}
