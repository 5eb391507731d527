/* ag-job-internal.h: the state of a job, shared by the files of job/
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-job.h"
#include "ag-completion-queue-private.h"
#include "ag-engine-private.h"
#include "ag-fiber-private.h"
#include "ag-task-private.h"

G_BEGIN_DECLS

/* The engine's thread only, unless a field says otherwise. */
struct _AgJob
{
  AgTask               parent_instance;

  gboolean             paused;

  /* The await in progress. */
  AgTask              *awaited;
  gboolean             awaited_is_own;   /* the job's to cancel */
  gboolean             awaited_held;     /* held for its outcome (see _ag_task_hold()) */
  GPtrArray           *awaited_view;     /* what peek_awaited lends: awaited alone */
  GAsyncReadyCallback  await_callback;
  gpointer             await_data;
  GCancellable        *await_cancellable;
  gulong               await_cancelled_id;
  gboolean             held;             /* finished while the job was paused */
  gboolean             cancel_pending;   /* a cancel its code has not seen yet */
  gboolean             cancelling;       /* inside its cancel: see cancel_now() */
  int                  resumed_at_depth; /* g_main_depth() as its fiber resumed */
  gboolean             resume_owed;      /* a cancel lifted its pause: one resume is quiet */
  AgNode               resume_node;      /* completes the await at a delivery */
  gboolean             resume_queued;
  AgNode               cancel_node;      /* a cancel from another thread */
  int                  cancel_queued;    /* atomic */

  /* A C job. */
  AgFiber             *fiber;
  AgJobFunc            func;
  gpointer             func_data;
  GDestroyNotify       func_destroy;
  GValue              *fiber_value;      /* the outcome of the fiber's last await */
  GError              *fiber_error;
  gboolean             in_fiber;         /* its fiber runs, or resumed the one that runs */
  gboolean             cancel_seen;      /* its code was told it was cancelled */
  gboolean             unwinding;        /* the engine went: every await fails at once */
};

/* ag-job.c */
GError  *_ag_job_gone_error     (void);

/* ag-job-fiber.c */
AgJob   *_ag_job_get_running    (void);
void     _ag_job_run_fiber      (AgJob    *self);
void     _ag_job_unwind         (AgJob    *self);
void     _ag_job_start          (AgJob    *self,
                                 AgEngine *engine);

G_END_DECLS
