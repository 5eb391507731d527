/* ag-job.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include "ag-engine.h"
#include "ag-task.h"

G_BEGIN_DECLS

/**
 * AgJobState:
 * @AG_JOB_RUNNING: the job is running or waiting for what it awaits.
 * @AG_JOB_PAUSED: the job is paused: what it awaits may finish, but the job
 *   does not see it before it is resumed.
 * @AG_JOB_SUCCEEDED: the job returned, possibly with a value.
 * @AG_JOB_FAILED: the job ended with an error.
 * @AG_JOB_CANCELLED: the job ended because it was cancelled.
 *
 * Where a job is in its life.
 *
 * Since: 1.0
 */
typedef enum
{
  AG_JOB_RUNNING,
  AG_JOB_PAUSED,
  AG_JOB_SUCCEEDED,
  AG_JOB_FAILED,
  AG_JOB_CANCELLED,
} AgJobState;

#define AG_TYPE_JOB (ag_job_get_type ())

G_DECLARE_FINAL_TYPE (AgJob, ag_job, AG, JOB, GObject)

/**
 * AgJobFunc:
 * @job: the job
 * @user_data: the data given with the function
 *
 * The body of a job written in C. It runs on its own stack on the engine's
 * thread, and may call ag_job_await() and its typed variants, each of which
 * suspends it until what it awaits has finished. Its value is what it gives
 * ag_job_return_value(); returning without one succeeds without a value,
 * unless it was cancelled.
 *
 * Since: 1.0
 */
typedef void (*AgJobFunc) (AgJob    *job,
                           gpointer  user_data);

/* Starting a job. */
AgJob        *ag_engine_spawn          (AgEngine            *engine,
                                        AgJobFunc            func,
                                        gpointer             user_data,
                                        GDestroyNotify       destroy);
AgJob        *ag_job_new               (AgEngine            *engine);

/* What every job has. */
AgEngine     *ag_job_get_engine        (AgJob               *self);
AgJobState    ag_job_get_state         (AgJob               *self);
gboolean      ag_job_is_finished       (AgJob               *self);
const GValue *ag_job_get_value         (AgJob               *self);
const GError *ag_job_get_error         (AgJob               *self);
void          ag_job_cancel            (AgJob               *self);
void          ag_job_pause             (AgJob               *self);
void          ag_job_resume            (AgJob               *self);

void          ag_job_wait_async        (AgJob               *self,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
GValue       *ag_job_wait_finish       (AgJob               *self,
                                        GAsyncResult        *result,
                                        GError             **error);
gboolean      ag_job_wait              (AgJob               *self,
                                        gint64               timeout_us,
                                        GError             **error);
AgTask       *ag_task_new_for_job      (AgJob               *job);

/* Driving a job from a coroutine of one's own (what bindings do). */
void          ag_job_await_async       (AgJob               *self,
                                        AgTask              *task,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
GValue       *ag_job_await_finish      (AgJob               *self,
                                        GAsyncResult        *result,
                                        GError             **error);
void          ag_job_return_value      (AgJob               *self,
                                        const GValue        *value);
void          ag_job_return_error      (AgJob               *self,
                                        GError              *error);

/* Inside a C job (ag_engine_spawn()). */
AgJob        *ag_job_get_current       (void);
GValue       *ag_job_await             (AgTask              *task,
                                        GError             **error);
int           ag_job_await_int         (AgTask              *task,
                                        GError             **error);
gboolean      ag_job_await_boolean     (AgTask              *task,
                                        GError             **error);
double        ag_job_await_double      (AgTask              *task,
                                        GError             **error);
char         *ag_job_await_string      (AgTask              *task,
                                        GError             **error);
gpointer      ag_job_await_object      (AgTask              *task,
                                        GError             **error);
GVariant     *ag_job_await_variant     (AgTask              *task,
                                        GError             **error);
GValue       *ag_job_await_job         (AgJob               *job,
                                        GError             **error);
gboolean      ag_job_sleep             (guint                msec,
                                        GError             **error);
void          ag_job_return_int        (AgJob               *self,
                                        int                  value);
void          ag_job_return_string     (AgJob               *self,
                                        const char          *value);

G_END_DECLS
