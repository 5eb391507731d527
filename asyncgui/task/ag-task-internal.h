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

/* What few tasks need, kept apart so that a burst of tasks that need none
 * of it stays small: made by the first need, from any thread
 * (_ag_task_ensure_extras()), and freed with the task. A failure is one
 * such need: a burst of tasks mostly succeeds. */
typedef struct
{
  AgTaskCaller    caller;           /* the engine's thread; set by a run
                                     * that needs it */
  GError         *returned_error;   /* written and read as the value is */
  GError         *error;            /* the engine's thread: why the task
                                     * failed or was cancelled, once final */
  AgTaskReport   *report;           /* atomic; made by the first report, or
                                     * the first progress */
  AgTaskDeps     *deps;             /* made by the first dependency */
  GPtrArray      *waiters;          /* see ag-task-wait.c */
  GDestroyNotify  pointer_destroy;  /* written and read as the value is */
  int             n_holders;        /* atomic: see _ag_task_hold() */
} AgTaskExtras;

/* What happens to a task at most once, from any thread: each is a bit of
 * AgTaskPrivate.once, set by an atomic OR and never cleared. */
typedef enum
{
  AG_TASK_ONCE_RUN_CLAIMED      = 1 << 0,  /* given to an engine to run */
  AG_TASK_ONCE_RETURNED         = 1 << 1,  /* its outcome was returned */
  AG_TASK_ONCE_CANCEL_REQUESTED = 1 << 2,
  AG_TASK_ONCE_CANCEL_PUSHED    = 1 << 3,  /* the cancel is queued, once */
} AgTaskOnce;

/* Unless a field says otherwise, it belongs to the engine's thread. A
 * burst of tasks is as many of these alive at once, so the fields are
 * packed: the flags are bits and bytes, and what few tasks need lives
 * apart, in AgTaskExtras. */
typedef struct
{
  guint8               state;               /* an AgTaskState */
  guint8               value_is_detail;     /* or the value is the error's detail */
  guint8               settled_by_owner;    /* see ag-task-settled.c */
  guint                once;                /* atomic: AgTaskOnce bits */
  int                  finished;            /* atomic: the state is final */
  int                  in_work;             /* atomic: see _ag_task_begin_work() */

  AgEngine            *engine;              /* atomic to read elsewhere; weak,
                                             * cleared when the engine goes */
  AgCompletionQueue   *queue;               /* atomic; set once, before any work runs */
  GCancellable        *cancellable;         /* atomic, with a pin bit: see
                                             * ag-task-cancellable.c */
  GAsyncReadyCallback  callback;
  gpointer             callback_data;
  AgTaskExtras        *extras;              /* atomic; see AgTaskExtras */
  AgTracked            tracked;             /* on the engine while running */

  /* The value (or the returned error, in the extras) is written by
   * whichever thread returns first (AG_TASK_ONCE_RETURNED), before
   * complete_node is pushed, and read on the engine's thread after it is
   * delivered; the value is public only once the task succeeded. */
  GValue               value;

  AgNode               complete_node;
} AgTaskPrivate;

AgTaskPrivate *_ag_task_get_priv         (AgTask        *self);
AgTaskExtras  *_ag_task_ensure_extras    (AgTaskPrivate *priv);

static inline AgTaskExtras *
_ag_task_peek_extras (AgTaskPrivate *priv)
{
  return g_atomic_pointer_get (&priv->extras);
}

static inline GError *
_ag_task_peek_error (AgTaskPrivate *priv)
{
  AgTaskExtras *extras = _ag_task_peek_extras (priv);

  return extras != NULL ? extras->error : NULL;
}

/* Sets @flag; TRUE if this call set it, FALSE if it was set already. */
static inline gboolean
_ag_task_set_once (AgTaskPrivate *priv,
                   AgTaskOnce     flag)
{
  return (g_atomic_int_or (&priv->once, flag) & flag) == 0;
}

static inline gboolean
_ag_task_has_once (AgTaskPrivate *priv,
                   AgTaskOnce     flag)
{
  return (g_atomic_int_get (&priv->once) & flag) != 0;
}

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
void           _ag_task_deps_cancel_started (AgTask     *self);
void           _ag_task_deps_drop_done   (AgTask        *self);
void           _ag_task_deps_free        (AgTaskDeps    *deps);

G_END_DECLS
