/* ag-task-internal.h: the state of a task, shared by the files of task/
 * and by no one else
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-task-private.h"
#include "ag-completion-queue-private.h"
#include "ag-engine-private.h"

G_BEGIN_DECLS

typedef struct _AgTaskReport AgTaskReport;
typedef struct _AgTaskDeps   AgTaskDeps;

/* What a run was given besides its callback and data, which most runs are
 * not: the caller's cancellable (and the handler on it), and a destroy
 * notify for the data (library-internal callers only). */
typedef struct
{
  GCancellable   *outer_cancellable;
  gulong          outer_handler;
  GDestroyNotify  callback_data_destroy;
} AgTaskCaller;

/* Unless a field says otherwise, it belongs to the engine's thread. */
typedef struct
{
  AgTaskState          state;
  int                  finished;            /* atomic: the state is final */

  /* The value and returned_error are written by whichever thread wins
   * `returned`, before complete_node is pushed, and read on the engine's
   * thread after it is delivered; the value is public only once the task
   * succeeded. */
  int                  run_claimed;         /* atomic: given to an engine to run */
  int                  returned;            /* atomic */
  int                  in_work;             /* atomic: see _ag_task_begin_work() */
  int                  cancel_requested;    /* atomic */
  int                  cancel_pushed;       /* atomic: the cancel is queued once */
  gboolean             value_is_detail;     /* or the value is the error's detail */
  guint                settled_by_owner : 1;  /* see ag-task-settled.c */

  AgEngine            *engine;              /* atomic to read elsewhere; weak,
                                             * cleared when the engine goes */
  AgCompletionQueue   *queue;               /* atomic; set once, before any work runs */
  GCancellable        *cancellable;         /* atomic, with a pin bit: see
                                             * ag-task-cancellable.c */
  GAsyncReadyCallback  callback;
  gpointer             callback_data;
  AgTaskCaller        *caller;              /* made by a run that needs it */
  AgTracked            tracked;             /* on the engine while running */

  GValue               value;
  GDestroyNotify       pointer_destroy;
  GError              *returned_error;
  GError              *error;

  AgNode               complete_node;

  AgTaskReport        *report;              /* atomic; made by the first report,
                                             * or the first progress */

  AgTaskDeps          *deps;                /* made by the first dependency */
  GPtrArray           *waiters;             /* see ag-task-wait.c */

  /* The class's virtual functions, looked up once the instance is made
   * (see get_vfuncs() in ag-task.c): g_type_class_get_private() costs a
   * type-table search per call. */
  AgTaskClassPrivate  *vfuncs;
} AgTaskPrivate;

AgTaskPrivate *_ag_task_get_priv         (AgTask        *self);
AgTask        *_ag_task_from_priv        (AgTaskPrivate *priv);
gboolean       _ag_task_state_is_final   (AgTaskState    state);

/* ag-task-async-result.c */
void           _ag_task_async_result_iface_init (GAsyncResultIface *iface);

/* ag-task.c */
void           _ag_task_notify_state     (AgTask        *self);
void           _ag_task_notify_succeeded (AgTask        *self);
void           _ag_task_notify_progress  (AgTask        *self);
void           _ag_task_notify_status_text (AgTask      *self);
void           _ag_task_clear_value      (AgTaskPrivate *priv);
void           _ag_task_push_completion  (AgTask        *self);
void           _ag_task_start_work       (AgTask        *self);

/* ag-task-outcome.c */

/* ag-task-cancellable.c */
GCancellable  *_ag_task_peek_cancellable (AgTaskPrivate *priv);
GCancellable  *_ag_task_lend_cancellable (AgTask        *self,
                                          GCancellable  *spare);
gboolean       _ag_task_take_back_cancellable (AgTask   *self,
                                          GCancellable  *lent);
GCancellable  *_ag_task_pin_cancellable  (AgTask        *self);
void           _ag_task_clear_cancellable (AgTaskPrivate *priv);

/* ag-task-report.c */
void           _ag_task_report_apply     (AgTask        *self,
                                          gboolean       node_delivered);
void           _ag_task_report_push_waiting (AgTask     *self);
void           _ag_task_report_free      (AgTaskReport  *report);

/* ag-task-wait.c */
void           _ag_task_wake_waiters     (AgTask        *self);

/* ag-task-dependencies.c */
void           _ag_task_deps_start       (AgTask        *self);
void           _ag_task_deps_tell_done   (AgTask        *self);
void           _ag_task_deps_drop_done   (AgTask        *self);
void           _ag_task_deps_free        (AgTaskDeps    *deps);

G_END_DECLS
