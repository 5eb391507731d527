/* ag-job.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include "ag-version-macros.h"
#include "ag-channel.h"
#include "ag-engine.h"
#include "ag-task.h"

G_BEGIN_DECLS

#define AG_TYPE_JOB (ag_job_get_type ())

AG_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AgJob, ag_job, AG, JOB, AgTask)

/**
 * AgJobFunc:
 * @job: the job
 * @user_data: the data given with the function
 *
 * The body of a job written in C. It runs on its own stack on the engine's
 * thread, and may call ag_job_await() and its typed variants, each of which
 * suspends it until what it awaits has finished. It may end the job with
 * one of the `ag_task_return_*()` functions on `AG_TASK (job)`, which takes
 * effect when the function returns; returning without one succeeds without
 * a value, unless the job was cancelled.
 *
 * Since: 1.0
 */
typedef void (*AgJobFunc) (AgJob    *job,
                           gpointer  user_data);

/* Starting a job. */
AG_AVAILABLE_IN_1_0
AgJob        *ag_engine_spawn          (AgEngine            *engine,
                                        AgJobFunc            func,
                                        gpointer             user_data,
                                        GDestroyNotify       destroy) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgJob        *ag_job_new               (AgEngine            *engine) G_GNUC_WARN_UNUSED_RESULT;

/* Controlling a job from outside (cancelling is ag_task_cancel()). */
AG_AVAILABLE_IN_1_0
gboolean      ag_job_get_paused        (AgJob               *self);
AG_AVAILABLE_IN_1_0
void          ag_job_pause             (AgJob               *self);
AG_AVAILABLE_IN_1_0
void          ag_job_resume            (AgJob               *self);
AG_AVAILABLE_IN_1_0
gboolean      ag_job_may_resume        (AgJob               *self);
AG_AVAILABLE_IN_1_0
gboolean      ag_job_is_cancel_pending (AgJob               *self);

/* Driving a job from a coroutine of one's own (what bindings do). */
AG_AVAILABLE_IN_1_0
void          ag_job_await_async       (AgJob               *self,
                                        AgTask              *task,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
AG_AVAILABLE_IN_1_0
GValue       *ag_job_await_finish      (AgJob               *self,
                                        GAsyncResult        *result,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
void          ag_job_await_with_closure (AgJob              *self,
                                         AgTask             *task,
                                         GCancellable       *cancellable,
                                         GClosure           *callback);

/* Inside a C job (ag_engine_spawn()). */
AG_AVAILABLE_IN_1_0
AgJob        *ag_job_get_current       (void);
AG_AVAILABLE_IN_1_0
GValue       *ag_job_await             (AgTask              *task,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
gboolean      ag_job_await_boolean     (AgTask              *task,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
int           ag_job_await_int         (AgTask              *task,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
guint         ag_job_await_uint        (AgTask              *task,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
gint64        ag_job_await_int64       (AgTask              *task,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
guint64       ag_job_await_uint64      (AgTask              *task,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
double        ag_job_await_double      (AgTask              *task,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
int           ag_job_await_enum        (AgTask              *task,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
guint         ag_job_await_flags       (AgTask              *task,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
char         *ag_job_await_string      (AgTask              *task,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
gpointer      ag_job_await_object      (AgTask              *task,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
gpointer      ag_job_await_boxed       (AgTask              *task,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
GVariant     *ag_job_await_variant     (AgTask              *task,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
gboolean      ag_job_sleep             (guint                msec,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
GArray       *ag_job_read              (AgChannelReader     *reader,
                                        guint                count,
                                        int                  timeout_ms,
                                        GError             **error);
AG_AVAILABLE_IN_1_0
gboolean      ag_job_write             (AgChannel           *channel,
                                        const GValue        *value,
                                        GError             **error);

G_END_DECLS
