/* ag-job.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "ag-engine-private.h"
#include "ag-job-enum-types.h"
#include "ag-error.h"
#include "ag-fiber-private.h"
#include "ag-job.h"
#include "ag-task-private.h"
#include "ag-values-private.h"
#include "ag-wait-private.h"

/**
 * AgJob:
 *
 * A running sequential job: a GUI handler written as plain sequential code
 * that awaits slow work without blocking the GUI.
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
 * through [method@Job.return_value] or [method@Job.return_error]. No
 * language runs its interpreter on a fiber.
 *
 * Whatever drives it, a job can be paused, resumed and cancelled from
 * outside:
 *
 * - while it is paused, what it awaits goes on, but the job does not see
 *   the result before [method@Job.resume]; a sleep it awaits keeps only its
 *   remaining time;
 * - [method@Job.cancel] cancels what it awaits, and the await fails at once
 *   with %G_IO_ERROR_CANCELLED (at the next await if none is pending). The
 *   job's code after it runs, so it can clean up; if it awaits again, that
 *   await runs normally. Cancelling a paused job resumes it.
 *
 * Once a job has ended, however it ended, pausing, resuming and cancelling
 * it do nothing; so do pausing and resuming it while a cancel is on its
 * way to its code. Returning from it twice, or awaiting in a job that has
 * ended, are programming errors.
 *
 * A job keeps itself alive while it runs. When its engine is disposed the
 * job ends as cancelled, without notifications. A C job suspended in an
 * await is resumed once, inside the disposal, with that await failing
 * with %G_IO_ERROR_CANCELLED, so that its code runs to its end and frees
 * what its stack owns (`g_autoptr()` and `g_autofree` locals and the
 * like); every further await and ag_job_sleep() fails at once with
 * %G_IO_ERROR_CANCELLED without suspending it, and what it returns no
 * longer counts. A C job whose own code disposed the engine ends the same
 * way when its function returns. That unwinding is the only code of a job
 * that runs once the engine is being disposed; a job driven by a binding
 * runs none.
 *
 * Since: 1.0
 */

struct _AgJob
{
  GObject              parent_instance;

  AgEngine            *engine;          /* NULL once ended or the engine is gone */
  GList                engine_link;     /* in the EngineJobs of engine, while set */
  gboolean             engine_gone;     /* its engine was disposed before it ended */
  AgJobState           state;
  int                  finished;        /* atomic, for blocking waits */
  GValue               value;
  GError              *error;
  GPtrArray           *waiters;         /* GTask from ag_job_wait_async() */

  /* The await in progress. */
  AgTask              *awaited;
  GAsyncReadyCallback  await_callback;
  gpointer             await_data;
  gboolean             held;            /* finished while the job was paused */
  gboolean             cancel_requested;/* one-shot: the next completion is CANCELLED */
  GSource             *complete_source; /* completes the await from the main loop */

  /* A C job. */
  AgFiber             *fiber;
  AgJobFunc            func;
  gpointer             func_data;
  GDestroyNotify       func_destroy;
  GValue              *fiber_value;     /* the outcome of the fiber's last await */
  GError              *fiber_error;
  gboolean             in_fiber;        /* its fiber runs, or resumed the one that runs */
  gboolean             returned;
  gboolean             cancel_seen;     /* the fiber was told it was cancelled */
};

G_DEFINE_FINAL_TYPE (AgJob, ag_job, G_TYPE_OBJECT)

/* Control calls belong to the engine's thread; a job whose engine is gone
 * has no thread to check against. */
static gboolean
on_engine_thread (AgJob *self)
{
  return self->engine == NULL || _ag_engine_is_own_thread (self->engine);
}

enum {
  PROP_0,
  PROP_ENGINE,
  PROP_STATE,
  PROP_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The C job whose fiber is running on this thread. */
static _Thread_local AgJob *current_job;

static gboolean
is_final (AgJobState state)
{
  return state == AG_JOB_SUCCEEDED || state == AG_JOB_FAILED || state == AG_JOB_CANCELLED;
}

static void
set_state (AgJob      *self,
           AgJobState  state)
{
  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

/* The unfinished jobs of one engine, kept on it so that its disposal can
 * end them all; see engine_gone(). */
typedef struct
{
  GQueue jobs;   /* AgJob, through their engine_link */
} EngineJobs;

static G_DEFINE_QUARK (ag-engine-jobs, engine_jobs)

static void engine_gone (gpointer data, GObject *where_the_engine_was);

static GError *
engine_gone_error (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                              _("The engine was shut down before the job finished"));
}

/* Someone waiting with ag_job_wait_async(), and what stops the wait. */
typedef struct
{
  GTask   *task;
  GSource *cancel_source;
} Waiter;

static void
waiter_free (gpointer data)
{
  Waiter *waiter = data;

  if (waiter->cancel_source != NULL)
    {
      g_source_destroy (waiter->cancel_source);
      g_source_unref (waiter->cancel_source);
    }
  g_object_unref (waiter->task);
  g_free (waiter);
}

static void
free_value (gpointer data)
{
  g_boxed_free (G_TYPE_VALUE, data);
}

static GValue *
copy_value (const GValue *value)
{
  GValue *copy = g_new0 (GValue, 1);

  _ag_value_init_copy (copy, value);

  return copy;
}

static void
return_to_waiter (AgJob  *self,
                  Waiter *waiter)
{
  if (self->error != NULL)
    g_task_return_error (waiter->task, g_error_copy (self->error));
  else if (G_IS_VALUE (&self->value))
    g_task_return_pointer (waiter->task, copy_value (&self->value), free_value);
  else
    g_task_return_pointer (waiter->task, NULL, NULL);
}

static void
drop_await (AgJob *self)
{
  if (self->complete_source != NULL)
    {
      g_source_destroy (self->complete_source);
      g_clear_pointer (&self->complete_source, g_source_unref);
    }

  if (self->awaited != NULL)
    ag_task_cancel (self->awaited);
  g_clear_object (&self->awaited);
  self->await_callback = NULL;
  self->await_data = NULL;
  self->held = FALSE;
}

/* Ends the job: the outcome is already set. Drops the reference the job
 * held on itself while running. @quiet skips property notifications: an
 * engine can be disposed from a garbage collector (a binding dropping its
 * last reference), where a language cannot run a notify handler. */
static void
finish_full (AgJob      *self,
             AgJobState  state,
             gboolean    quiet)
{
  g_autoptr(GPtrArray) waiters = g_steal_pointer (&self->waiters);

  g_assert (is_final (state) && !is_final (self->state));

  drop_await (self);
  if (self->engine != NULL)
    {
      EngineJobs *jobs = g_object_get_qdata (G_OBJECT (self->engine), engine_jobs_quark ());

      g_queue_unlink (&jobs->jobs, &self->engine_link);
      self->engine = NULL;
    }

  /* The whole outcome is in place before anyone hears of it: a waiter on
   * another thread, or a notify handler, reads it at once. */
  self->state = state;
  g_atomic_int_set (&self->finished, TRUE);
  _ag_wait_wake_all ();

  if (!quiet)
    {
      if (self->error != NULL)
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }

  /* GTask calls waiters back from the main loop, never from here. */
  for (guint i = 0; waiters != NULL && i < waiters->len; i++)
    return_to_waiter (self, g_ptr_array_index (waiters, i));

  g_object_unref (self);
}

static void
finish (AgJob      *self,
        AgJobState  state)
{
  finish_full (self, state, FALSE);
}

/* Ends the job after its engine went away: cancelled, quietly, whatever
 * its code returned. Its waiters still hear of it. */
static void
finish_engine_gone (AgJob *self)
{
  g_clear_error (&self->error);
  self->error = engine_gone_error ();
  finish_full (self, AG_JOB_CANCELLED, TRUE);
}

static void run_fiber (AgJob *self);

static void
end_engine_gone (AgJob *self)
{
  /* Ended meanwhile, by the code of a job that unwound before it. */
  if (is_final (self->state))
    return;

  if (self->fiber == NULL)
    {
      finish_engine_gone (self);
      return;
    }

  /* Its code is running: it disposed the engine itself, or called what
   * did. It ends when its function returns, in run_fiber(). */
  if (self->in_fiber)
    return;

  /* Suspended in ag_job_await(): that await fails, and the function runs
   * to its end, freeing what its stack owns. Every await it makes on the
   * way fails at once, so it never suspends again. */
  g_clear_pointer (&self->fiber_value, free_value);
  g_clear_error (&self->fiber_error);
  self->fiber_error = engine_gone_error ();
  self->cancel_seen = TRUE;
  run_fiber (self);
}

/* The engine is being disposed, and has already ended every task it ran,
 * quietly. Its jobs end as cancelled, in two rounds: first each one is
 * detached from the engine and drops what it awaited, then each ends,
 * a C job after unwinding. The code a C job runs while unwinding may
 * touch other jobs of the engine: it finds them all detached, and none of
 * them holds a reference to the engine that could be dropped while GObject
 * calls the engine's weak references back. */
static void
engine_gone (gpointer  data,
             GObject  *where_the_engine_was)
{
  EngineJobs *jobs = data;
  g_autoptr(GPtrArray) ending = g_ptr_array_new_with_free_func (g_object_unref);
  GList *link;

  g_object_set_qdata (where_the_engine_was, engine_jobs_quark (), NULL);

  while ((link = g_queue_pop_head_link (&jobs->jobs)) != NULL)
    {
      AgJob *self = link->data;

      g_ptr_array_add (ending, g_object_ref (self));
      self->engine = NULL;
      self->engine_gone = TRUE;
      drop_await (self);
    }
  g_free (jobs);

  for (guint i = 0; i < ending->len; i++)
    end_engine_gone (g_ptr_array_index (ending, i));
}

static AgJob *
job_new (AgEngine *engine)
{
  AgJob *self = g_object_new (AG_TYPE_JOB, NULL);
  EngineJobs *jobs = g_object_get_qdata (G_OBJECT (engine), engine_jobs_quark ());

  if (jobs == NULL)
    {
      jobs = g_new0 (EngineJobs, 1);
      g_object_set_qdata (G_OBJECT (engine), engine_jobs_quark (), jobs);
      g_object_weak_ref (G_OBJECT (engine), engine_gone, jobs);
    }

  self->engine = engine;
  self->engine_link.data = self;
  g_queue_push_tail_link (&jobs->jobs, &self->engine_link);

  /* Held until finish(): a running job lives however its starter treats
   * the reference it was given. */
  g_object_ref (self);

  return self;
}

/* Awaiting */

static void
complete_await (AgJob *self)
{
  g_autoptr(AgTask) task = g_steal_pointer (&self->awaited);
  g_autoptr(GTask) cancelled = NULL;
  GAsyncReadyCallback callback = g_steal_pointer (&self->await_callback);
  gpointer data = g_steal_pointer (&self->await_data);
  GAsyncResult *result = G_ASYNC_RESULT (task);

  self->held = FALSE;

  /* Whatever the work ended with, a cancelled job sees the cancel. */
  if (self->cancel_requested)
    {
      self->cancel_requested = FALSE;
      cancelled = g_task_new (self, NULL, NULL, NULL);
      g_task_set_source_tag (cancelled, ag_job_await_async);
      g_task_return_new_error (cancelled, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "%s", _("The job was cancelled"));
      result = G_ASYNC_RESULT (cancelled);
    }

  callback (G_OBJECT (self), result, data);
}

static gboolean
complete_from_loop (gpointer user_data)
{
  AgJob *self = user_data;

  g_clear_pointer (&self->complete_source, g_source_unref);
  if (self->awaited != NULL && self->state == AG_JOB_RUNNING)
    complete_await (self);

  return G_SOURCE_REMOVE;
}

/* Completes the await at the next main-loop iteration, never inside the
 * call that made it possible (a resume, a cancel). */
static void
complete_later (AgJob *self)
{
  if (self->complete_source != NULL || self->engine == NULL)
    return;

  self->complete_source = g_idle_source_new ();
  g_source_set_priority (self->complete_source, ag_engine_get_priority (self->engine));
  g_source_set_static_name (self->complete_source, "[asyncgui] job resume");
  g_source_set_callback (self->complete_source, complete_from_loop, self, NULL);
  g_source_attach (self->complete_source, ag_engine_get_context (self->engine));
}

static void
awaited_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  AgJob *self = user_data;

  if (self->awaited != AG_TASK (result))
    return;

  if (self->state == AG_JOB_PAUSED)
    self->held = TRUE;
  else
    complete_await (self);
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

/**
 * ag_job_await_async:
 * @self: a running job
 * @task: a task that has not been run
 * @callback: (scope async): called on the engine's context when the await
 *   is over
 * @user_data: (closure callback): data for @callback
 *
 * Awaits @task on behalf of @self: runs it on the job's engine and calls
 * @callback when it has finished and the job is not paused, or at once if
 * the job is cancelled. This is what a binding's coroutine does at each
 * await; C jobs call ag_job_await() instead.
 *
 * A job awaits one thing at a time. A second await before the first is
 * over, a task that was already run, or a finished job, are programming
 * errors reported to @callback.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_job_await_async (AgJob               *self,
                    AgTask              *task,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  g_return_if_fail (AG_IS_JOB (self));
  g_return_if_fail (on_engine_thread (self));
  g_return_if_fail (AG_IS_TASK (task));
  g_return_if_fail (callback != NULL);

  if (is_final (self->state) || self->engine == NULL)
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

  if (ag_task_get_state (task) != AG_TASK_PENDING)
    {
      g_critical ("%s: the task %p was already run; a job awaits tasks it runs itself",
                  G_STRFUNC, task);
      report_await_error (self, callback, user_data, AG_ERROR_ALREADY_STARTED,
                          _("The task was already run; a task runs only once"));
      return;
    }

  self->awaited = g_object_ref (task);
  self->await_callback = callback;
  self->await_data = user_data;
  self->held = FALSE;

  /* Cancelled with nothing pending: this await ends as cancelled, and the
   * work is not started. */
  if (self->cancel_requested)
    {
      complete_later (self);
      return;
    }

  _ag_task_start (task, self->engine, NULL, awaited_done, g_object_ref (self), g_object_unref);
  if (self->state == AG_JOB_PAUSED)
    _ag_task_suspend (task);
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

/* Ending a job */

static void
return_error (AgJob  *self,
              GError *error)
{
  self->error = error;
  finish (self, g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                  ? AG_JOB_CANCELLED : AG_JOB_FAILED);
}

/* A job returns once: a C job's outcome is kept until its function
 * returns, and the first one given stands. */
static gboolean
claim_return (AgJob      *self,
              const char *strfunc)
{
  if (!on_engine_thread (self))
    {
      g_critical ("%s: the job %p returns on its engine's thread, not this one", strfunc, self);
      return FALSE;
    }

  if (is_final (self->state))
    {
      g_critical ("%s: the job %p has already finished; a job returns once", strfunc, self);
      return FALSE;
    }

  if (self->returned)
    {
      g_critical ("%s: the job %p already returned; a job returns once", strfunc, self);
      return FALSE;
    }

  self->returned = TRUE;
  return TRUE;
}

static void
return_value (AgJob        *self,
              const GValue *value,
              const char   *strfunc)
{
  if (!claim_return (self, strfunc))
    return;

  if (value != NULL)
    _ag_value_init_copy (&self->value, value);

  /* A C job ends when its function returns, not here. */
  if (self->func == NULL)
    finish (self, AG_JOB_SUCCEEDED);
}

/**
 * ag_job_return_value:
 * @self: a running job
 * @value: (nullable): the job's value, copied; %NULL for none
 *
 * Ends the job successfully. Whatever it still awaits is cancelled. A C
 * job ends when its function returns, with this value.
 *
 * A job returns once: a second ag_job_return_*() call, after a value or an
 * error, is a programming error and is ignored; the first outcome stands.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_job_return_value (AgJob        *self,
                     const GValue *value)
{
  g_return_if_fail (AG_IS_JOB (self));
  g_return_if_fail (on_engine_thread (self));
  g_return_if_fail (value == NULL || G_IS_VALUE (value));

  return_value (self, value, G_STRFUNC);
}

/**
 * ag_job_return_error:
 * @self: a running job
 * @error: (transfer full): why the job failed; %G_IO_ERROR_CANCELLED ends
 *   it as cancelled
 *
 * Ends the job with an error. Whatever it still awaits is cancelled. A C
 * job ends when its function returns, with this error.
 *
 * A job returns once: see [method@Job.return_value]. A refused @error is
 * freed.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_job_return_error (AgJob  *self,
                     GError *error)
{
  g_return_if_fail (AG_IS_JOB (self));
  g_return_if_fail (on_engine_thread (self));
  g_return_if_fail (error != NULL);

  if (!claim_return (self, G_STRFUNC))
    {
      g_error_free (error);
      return;
    }

  /* A C job ends when its function returns, not here. */
  if (self->func != NULL)
    {
      self->error = error;
      return;
    }

  return_error (self, error);
}

/**
 * ag_job_return_int:
 * @self: a running job
 * @value: the job's value
 *
 * Ends the job successfully with an integer.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_job_return_int (AgJob *self,
                   int    value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_JOB (self));

  g_value_init (&v, G_TYPE_INT);
  g_value_set_int (&v, value);
  return_value (self, &v, G_STRFUNC);
}

/**
 * ag_job_return_string:
 * @self: a running job
 * @value: (nullable): the job's value, copied
 *
 * Ends the job successfully with a string.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_job_return_string (AgJob      *self,
                      const char *value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_JOB (self));

  g_value_init (&v, G_TYPE_STRING);
  g_value_set_string (&v, value);
  return_value (self, &v, G_STRFUNC);
}

/* C jobs on fibers */

static void
run_fiber (AgJob *self)
{
  /* Held for the whole call: its stack is in use. */
  g_autoptr(AgJob) alive G_GNUC_UNUSED = g_object_ref (self);
  AgJob *outer = current_job;

  current_job = self;
  self->in_fiber = TRUE;
  _ag_fiber_resume (self->fiber);
  self->in_fiber = FALSE;
  current_job = outer;

  if (!_ag_fiber_is_done (self->fiber))
    return;

  /* Its stack can serve the next job now. */
  g_clear_pointer (&self->fiber, _ag_fiber_free);
  if (is_final (self->state))
    return;

  if (self->engine_gone)
    {
      finish_engine_gone (self);
      return;
    }

  /* The function returned. What it said with ag_job_return_*() decides,
   * then whether it was told of a cancel. */
  if (self->error != NULL)
    return_error (self, g_steal_pointer (&self->error));
  else if (!self->returned && self->cancel_seen)
    return_error (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                             _("The job was cancelled")));
  else
    finish (self, AG_JOB_SUCCEEDED);
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
  if (self->engine_gone)
    return;

  self->fiber_value = ag_job_await_finish (self, result, &self->fiber_error);
  /* A job that carried on after a cancel and awaited again has caught it. */
  self->cancel_seen = g_error_matches (self->fiber_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  run_fiber (self);
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
 * Thread: the engine's.
 *
 * Returns: (transfer full): the running job
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

  g_return_val_if_fail (AG_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (!_ag_engine_is_disposed (engine), NULL);
  g_return_val_if_fail (_ag_engine_is_own_thread (engine), NULL);

  self = job_new (engine);
  self->func = func;
  self->func_data = user_data;
  self->func_destroy = destroy;
  self->fiber = _ag_fiber_new (_ag_stack_pool_get_default (),
                               ag_engine_get_job_stack_size (engine), fiber_body, self);

  if (self->fiber == NULL)
    {
      return_error (self, g_error_new (AG_ERROR, AG_ERROR_FAILED,
                                       _("Could not allocate a stack of %u bytes for the job"),
                                       ag_engine_get_job_stack_size (engine)));
      return self;
    }

  run_fiber (self);

  return self;
}

/**
 * ag_job_get_current: (skip)
 *
 * Gets the C job whose code is running, if any.
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
  return current_job;
}

/**
 * ag_job_await: (skip)
 * @task: (transfer full): a task that has not been run
 * @error: return location for an error
 *
 * Inside a C job, runs @task and suspends the job until it has finished,
 * while the main loop goes on. The job takes @task, so a call can read
 * `ag_job_await (ag_task_new (…), &error)`.
 *
 * Outside a job it fails with %AG_ERROR_NOT_IN_JOB. Once the job's engine
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
  AgJob *self = current_job;
  GValue *value;

  g_return_val_if_fail (AG_IS_TASK (task), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self == NULL || _ag_fiber_get_current () != self->fiber)
    {
      g_set_error_literal (error, AG_ERROR, AG_ERROR_NOT_IN_JOB,
                           _("Awaiting works only inside a job started with ag_engine_spawn()"));
      return NULL;
    }

  /* Unwinding: see end_engine_gone(). */
  if (self->engine_gone)
    {
      g_propagate_error (error, engine_gone_error ());
      return NULL;
    }

  ag_job_await_async (self, task, fiber_await_done, NULL);
  g_clear_object (&owned);
  _ag_fiber_suspend (self->fiber);

  value = g_steal_pointer (&self->fiber_value);
  if (self->fiber_error != NULL)
    g_propagate_error (error, g_steal_pointer (&self->fiber_error));

  return value;
}

/* The typed awaits: the value of the wanted type, or the zero value with
 * @error set. A value of another type is a programming error. */
static GValue *
await_typed (AgTask      *task,
             GType        type,
             GError     **error,
             const char  *strfunc)
{
  GValue *value = ag_job_await (task, error);

  if (value != NULL && !G_VALUE_HOLDS (value, type))
    {
      g_critical ("%s: the task's value is a %s, not a %s", strfunc,
                  G_VALUE_TYPE_NAME (value), g_type_name (type));
      g_clear_pointer (&value, free_value);
    }

  return value;
}

/**
 * ag_job_await_int: (skip)
 * @task: (transfer full): a task that has not been run
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is an integer.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: the integer, or 0 with @error set
 *
 * Since: 1.0
 */
int
ag_job_await_int (AgTask  *task,
                  GError **error)
{
  GValue *value = await_typed (task, G_TYPE_INT, error, G_STRFUNC);
  int result = value != NULL ? g_value_get_int (value) : 0;

  g_clear_pointer (&value, free_value);
  return result;
}

/**
 * ag_job_await_boolean: (skip)
 * @task: (transfer full): a task that has not been run
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is a boolean.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: the boolean, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
ag_job_await_boolean (AgTask  *task,
                      GError **error)
{
  GValue *value = await_typed (task, G_TYPE_BOOLEAN, error, G_STRFUNC);
  gboolean result = value != NULL ? g_value_get_boolean (value) : FALSE;

  g_clear_pointer (&value, free_value);
  return result;
}

/**
 * ag_job_await_double: (skip)
 * @task: (transfer full): a task that has not been run
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is a double.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: the double, or 0 with @error set
 *
 * Since: 1.0
 */
double
ag_job_await_double (AgTask  *task,
                     GError **error)
{
  GValue *value = await_typed (task, G_TYPE_DOUBLE, error, G_STRFUNC);
  double result = value != NULL ? g_value_get_double (value) : 0.0;

  g_clear_pointer (&value, free_value);
  return result;
}

/**
 * ag_job_await_string: (skip)
 * @task: (transfer full): a task that has not been run
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is a string.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: (transfer full) (nullable): the string, or %NULL with @error set
 *
 * Since: 1.0
 */
char *
ag_job_await_string (AgTask  *task,
                     GError **error)
{
  GValue *value = await_typed (task, G_TYPE_STRING, error, G_STRFUNC);
  char *result = value != NULL ? g_value_dup_string (value) : NULL;

  g_clear_pointer (&value, free_value);
  return result;
}

/**
 * ag_job_await_object: (skip)
 * @task: (transfer full): a task that has not been run
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is an object.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: (transfer full) (nullable) (type GObject): the object, or %NULL
 *   with @error set
 *
 * Since: 1.0
 */
gpointer
ag_job_await_object (AgTask  *task,
                     GError **error)
{
  GValue *value = await_typed (task, G_TYPE_OBJECT, error, G_STRFUNC);
  gpointer result = value != NULL ? g_value_dup_object (value) : NULL;

  g_clear_pointer (&value, free_value);
  return result;
}

/**
 * ag_job_await_variant: (skip)
 * @task: (transfer full): a task that has not been run
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is a variant.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: (transfer full) (nullable): the variant, or %NULL with @error set
 *
 * Since: 1.0
 */
GVariant *
ag_job_await_variant (AgTask  *task,
                      GError **error)
{
  GValue *value = await_typed (task, G_TYPE_VARIANT, error, G_STRFUNC);
  GVariant *result = value != NULL ? g_value_dup_variant (value) : NULL;

  g_clear_pointer (&value, free_value);
  return result;
}

/**
 * ag_job_await_job: (skip)
 * @job: another job
 * @error: return location for an error
 *
 * Inside a C job, waits for another job to finish. Cancelling the waiting
 * job cancels @job too.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: (transfer full) (nullable): the other job's value, or %NULL
 *   with @error set
 *
 * Since: 1.0
 */
GValue *
ag_job_await_job (AgJob   *job,
                  GError **error)
{
  g_return_val_if_fail (AG_IS_JOB (job), NULL);

  return ag_job_await (ag_task_new_for_job (job), error);
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

/* Control from outside */

/**
 * ag_job_pause:
 * @self: a running job
 *
 * Pauses the job. What it awaits goes on, but its result is held until
 * [method@Job.resume]; a sleep keeps its remaining time.
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

  if (is_final (self->state) || self->engine_gone || self->cancel_requested ||
      self->state == AG_JOB_PAUSED)
    return;

  set_state (self, AG_JOB_PAUSED);
  if (self->awaited != NULL)
    _ag_task_suspend (self->awaited);
}

static void
unpause (AgJob *self)
{
  set_state (self, AG_JOB_RUNNING);

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
 * delivered at the next iteration of the main loop, not inside this call.
 *
 * Resuming does nothing on a job that has ended (however it ended), or
 * that was cancelled and has not seen the cancel yet (cancelling resumed
 * it). Resuming a job that is running and was never paused, or was resumed
 * already, is a programming error.
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

  if (is_final (self->state) || self->engine_gone)
    return;

  if (self->state == AG_JOB_PAUSED)
    {
      unpause (self);
      return;
    }

  if (!self->cancel_requested)
    g_critical ("%s: the job %p is not paused", G_STRFUNC, self);
}

/**
 * ag_job_cancel:
 * @self: a job
 *
 * Cancels the job: what it awaits is cancelled, and the await fails with
 * %G_IO_ERROR_CANCELLED at the next delivery (the next await fails at once
 * if none is pending). A paused job is resumed to see it. Cancelling a job
 * that has ended, however it ended, does nothing.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_job_cancel (AgJob *self)
{
  g_return_if_fail (AG_IS_JOB (self));
  g_return_if_fail (on_engine_thread (self));

  /* A job whose engine is gone is ending as cancelled already. */
  if (is_final (self->state) || self->engine_gone)
    return;

  self->cancel_requested = TRUE;
  if (self->state == AG_JOB_PAUSED)
    unpause (self);

  if (self->awaited == NULL)
    return;

  if (self->held || ag_task_is_finished (self->awaited))
    complete_later (self);
  else
    ag_task_cancel (self->awaited);
}

/* Waiting for a job */

/* The waiter's cancellable fired, on the waiter's context: it stops
 * waiting; the job goes on. */
static gboolean
wait_cancelled (GCancellable *cancellable,
                gpointer      user_data)
{
  GTask *task = user_data;
  AgJob *self = g_task_get_source_object (task);

  for (guint i = 0; self->waiters != NULL && i < self->waiters->len; i++)
    {
      Waiter *waiter = g_ptr_array_index (self->waiters, i);

      if (waiter->task == task)
        {
          g_task_return_error_if_cancelled (task);
          g_ptr_array_remove_index (self->waiters, i);
          break;
        }
    }

  return G_SOURCE_REMOVE;
}

/**
 * ag_job_wait_async:
 * @self: a job
 * @cancellable: (nullable): stops waiting (the job goes on)
 * @callback: (scope async): called when the job has finished
 * @user_data: (closure callback): data for @callback
 *
 * Waits for the job to finish, from anywhere on its engine's thread; any
 * number of waits may be pending.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_job_wait_async (AgJob               *self,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  Waiter *waiter;

  g_return_if_fail (AG_IS_JOB (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  waiter = g_new0 (Waiter, 1);
  waiter->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (waiter->task, ag_job_wait_async);

  if (is_final (self->state))
    {
      return_to_waiter (self, waiter);
      waiter_free (waiter);
      return;
    }

  if (cancellable != NULL)
    {
      waiter->cancel_source = g_cancellable_source_new (cancellable);
      g_task_attach_source (waiter->task, waiter->cancel_source, G_SOURCE_FUNC (wait_cancelled));
    }

  if (self->waiters == NULL)
    self->waiters = g_ptr_array_new_with_free_func (waiter_free);
  g_ptr_array_add (self->waiters, waiter);
}

/**
 * ag_job_wait_finish:
 * @self: a job
 * @result: the result given to the callback of [method@Job.wait_async]
 * @error: return location for an error
 *
 * Gets the outcome of a job waited for with [method@Job.wait_async].
 *
 * Thread: the engine's.
 *
 * Returns: (transfer full) (nullable): a copy of the job's value, or %NULL
 *   with @error set if it failed or was cancelled, or %NULL without an
 *   error if it succeeded without a value
 *
 * Since: 1.0
 */
GValue *
ag_job_wait_finish (AgJob         *self,
                    GAsyncResult  *result,
                    GError       **error)
{
  g_return_val_if_fail (AG_IS_JOB (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * ag_job_wait:
 * @self: a job
 * @timeout_us: how long to wait at most, in microseconds; -1 for no limit
 * @error: return location for an error
 *
 * Blocks until the job has finished, for scripts and for threads other
 * than the engine's; on the engine's thread it iterates the engine's
 * context meanwhile. See [method@Task.wait] for what cannot work.
 *
 * A job still running its code while its engine is disposed (see
 * ag_engine_spawn()) ends once the disposal gets to it, on the engine's
 * thread; waiting for it then fails with %AG_ERROR_WOULD_DEADLOCK.
 *
 * Thread: any. On the engine's thread it iterates the engine's context.
 *
 * Returns: %TRUE if the job finished, %FALSE with @error set otherwise
 *
 * Since: 1.0
 */
gboolean
ag_job_wait (AgJob    *self,
             gint64    timeout_us,
             GError  **error)
{
  AgEngine *engine;

  g_return_val_if_fail (AG_IS_JOB (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_atomic_int_get (&self->finished))
    return TRUE;

  engine = self->engine;
  if (self->func != NULL && current_job == self)
    {
      g_set_error_literal (error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK,
                           _("A job waiting for itself would never finish"));
      return FALSE;
    }

  /* Its engine is being disposed by the code that waits here, or by code
   * of its thread that runs now: the job ends after it. */
  if (engine == NULL)
    {
      if (g_atomic_int_get (&self->finished))
        return TRUE;

      g_set_error_literal (error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK,
                           _("The job ends as its engine shuts down; waiting for it then would never end"));
      return FALSE;
    }

  return _ag_engine_wait_for (engine, &self->finished, timeout_us, error);
}

static void
job_task_waited (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(AgTask) task = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value = ag_job_wait_finish (AG_JOB (source), result, &error);

  if (ag_task_is_finished (task))
    g_clear_pointer (&value, free_value);
  else if (error != NULL)
    ag_task_return_error (task, g_steal_pointer (&error));
  else
    {
      /* The task takes the contents; only the box is left to free. */
      _ag_task_return_take_value (task, value);
      g_free (value);
    }
}

static void
cancel_job (GCancellable *cancellable,
            gpointer      user_data)
{
  ag_job_cancel (AG_JOB (user_data));
}

static void
start_waiting_for_job (AgTask       *task,
                       gpointer      user_data,
                       GCancellable *cancellable)
{
  AgJob *job = user_data;

  g_cancellable_connect (cancellable, G_CALLBACK (cancel_job),
                         g_object_ref (job), g_object_unref);
  ag_job_wait_async (job, NULL, job_task_waited, g_object_ref (task));
}

/**
 * ag_task_new_for_job:
 * @job: a job
 *
 * Creates a task that ends as @job ends, with its value or error, so that
 * one job can await another like any task. Cancelling the task cancels
 * @job.
 *
 * Thread: the engine's.
 *
 * Returns: (transfer full): a new task
 *
 * Since: 1.0
 */
AgTask *
ag_task_new_for_job (AgJob *job)
{
  g_return_val_if_fail (AG_IS_JOB (job), NULL);

  return ag_task_new_main (start_waiting_for_job, g_object_ref (job), g_object_unref);
}

/* Getters and GObject */

/**
 * ag_job_new:
 * @engine: the engine the job's work runs on
 *
 * Creates a job for a coroutine of the caller's own to drive, as bindings
 * do: each await goes through [method@Job.await_async], and the coroutine's
 * end through [method@Job.return_value] or [method@Job.return_error]. The
 * job is running from the start.
 *
 * Thread: the engine's.
 *
 * Returns: (transfer full): a new running job
 *
 * Since: 1.0
 */
AgJob *
ag_job_new (AgEngine *engine)
{
  g_return_val_if_fail (AG_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (!_ag_engine_is_disposed (engine), NULL);
  g_return_val_if_fail (_ag_engine_is_own_thread (engine), NULL);

  return job_new (engine);
}

/**
 * ag_job_get_engine:
 * @self: a job
 *
 * Gets the engine the job's work runs on.
 *
 * Thread: any.
 *
 * Returns: (transfer none) (nullable): the engine, or %NULL once the job
 *   has finished
 *
 * Since: 1.0
 */
AgEngine *
ag_job_get_engine (AgJob *self)
{
  g_return_val_if_fail (AG_IS_JOB (self), NULL);

  return self->engine;
}

/**
 * ag_job_get_state:
 * @self: a job
 *
 * Gets where the job is in its life.
 *
 * Thread: the engine's.
 *
 * Returns: the job's state
 *
 * Since: 1.0
 */
AgJobState
ag_job_get_state (AgJob *self)
{
  g_return_val_if_fail (AG_IS_JOB (self), AG_JOB_RUNNING);

  return self->state;
}

/**
 * ag_job_is_finished:
 * @self: a job
 *
 * Tells whether the job has ended. May be called from any thread.
 *
 * Thread: any.
 *
 * Returns: %TRUE if the job has ended
 *
 * Since: 1.0
 */
gboolean
ag_job_is_finished (AgJob *self)
{
  g_return_val_if_fail (AG_IS_JOB (self), FALSE);

  return g_atomic_int_get (&self->finished);
}

/**
 * ag_job_get_value:
 * @self: a job
 *
 * Gets the value the job succeeded with.
 *
 * Thread: the engine's, or any thread once the job has finished.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL if there is none
 *
 * Since: 1.0
 */
const GValue *
ag_job_get_value (AgJob *self)
{
  g_return_val_if_fail (AG_IS_JOB (self), NULL);

  if (self->state != AG_JOB_SUCCEEDED || !G_IS_VALUE (&self->value))
    return NULL;

  return &self->value;
}

/**
 * ag_job_get_error:
 * @self: a job
 *
 * Gets why the job failed or that it was cancelled.
 *
 * Thread: the engine's, or any thread once the job has finished.
 *
 * Returns: (transfer none) (nullable): the error, or %NULL
 *
 * Since: 1.0
 */
const GError *
ag_job_get_error (AgJob *self)
{
  g_return_val_if_fail (AG_IS_JOB (self), NULL);

  return is_final (self->state) ? self->error : NULL;
}

static void
ag_job_finalize (GObject *object)
{
  AgJob *self = AG_JOB (object);

  g_clear_pointer (&self->fiber, _ag_fiber_free);
  if (self->func_destroy != NULL)
    self->func_destroy (self->func_data);
  if (G_IS_VALUE (&self->value))
    g_value_unset (&self->value);
  g_clear_error (&self->error);
  g_clear_pointer (&self->fiber_value, free_value);
  g_clear_error (&self->fiber_error);
  g_clear_pointer (&self->waiters, g_ptr_array_unref);

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
    case PROP_ENGINE:
      g_value_set_object (value, self->engine);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_ERROR:
      g_value_set_boxed (value, ag_job_get_error (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_job_class_init (AgJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ag_job_finalize;
  object_class->get_property = ag_job_get_property;

  /**
   * AgJob:engine:
   *
   * The engine the job's work runs on; %NULL once the job has finished.
   *
   * Since: 1.0
   */
  properties[PROP_ENGINE] =
    g_param_spec_object ("engine", NULL, NULL,
                         AG_TYPE_ENGINE,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * AgJob:state:
   *
   * Where the job is in its life.
   *
   * Since: 1.0
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       AG_TYPE_JOB_STATE, AG_JOB_RUNNING,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgJob:error:
   *
   * Why the job failed or that it was cancelled; %NULL otherwise.
   *
   * Since: 1.0
   */
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL,
                        G_TYPE_ERROR,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ag_job_init (AgJob *self)
{
}
