/* ag-task-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-task.h"
#include "ag-engine.h"

G_BEGIN_DECLS

/* How each kind of task runs, in the private part of AgTaskClass (see
 * g_type_add_class_private()): subclasses, all inside the library, set
 * these in their class_init through _ag_task_class_get_vfuncs(); users
 * see none of it. A subclass inherits what it does not set. */
typedef struct
{
  /* Starts the work: the task runs and its dependencies have succeeded. */
  void     (*start)   (AgTask *self);
  /* Optional: a cancel was asked for; stop the work. The task then ends as
   * cancelled, unless it has ended meanwhile. */
  void     (*cancel)  (AgTask *self);
  /* Optional: the task just reached its final state (or was abandoned),
   * before anyone is told; release what running held. */
  void     (*stopped) (AgTask *self);
  /* Optional: a job awaiting the task was paused or resumed: a timer keeps
   * only what remains of it. Other work cannot stop halfway. */
  void     (*suspend) (AgTask *self);
  void     (*resume)  (AgTask *self);
  /* Optional, any thread: a cancel the task's own code hears of (at its
   * next await, for a job), as often as it comes, instead of the one-shot
   * cancel that ends a task at the next delivery. */
  void     (*request_cancel) (AgTask *self);
  /* Optional: the tasks it waits for besides its dependencies (a
   * MultiTask's children), borrowed, or NULL: cycles through them are
   * refused as dependency cycles are. */
  GPtrArray *(*peek_awaited) (AgTask *self);
  /* Optional: whether the task's own code is what runs on this thread now
   * (a C job's): waiting for the task there would never end. */
  gboolean   (*runs_here) (AgTask *self);
  /* The task's work runs on the engine's thread, so a return made there
   * ends the task at once rather than at the next delivery. */
  gboolean   ends_when_returned;
  /* The work makes the task's cancellable itself, on its worker, rather
   * than the engine's thread at start: a burst of thread tasks then costs
   * that thread one object less each. */
  gboolean   cancellable_in_work;
} AgTaskClassPrivate;

AgTaskClassPrivate *_ag_task_class_get_vfuncs (gpointer klass);

gboolean  _ag_task_waits_for          (AgTask              *self,
                                       AgTask              *other);
GPtrArray *_ag_task_peek_awaited      (AgTask              *self);
gboolean  _ag_task_runs_here          (AgTask              *self);
void      _ag_task_hold               (AgTask              *self);
void      _ag_task_unhold             (AgTask              *self);

void      _ag_task_start              (AgTask              *self,
                                       AgEngine            *engine,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data,
                                       GDestroyNotify       user_data_destroy);
gboolean  _ag_task_claim_run          (AgTask              *self);
void      _ag_task_refuse_run         (AgTask              *self,
                                       AgEngine            *engine,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data,
                                       GDestroyNotify       user_data_destroy);
void      _ag_task_start_from_other_thread (AgTask          *self,
                                       AgEngine            *engine,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
AgEngine *_ag_task_get_engine         (AgTask              *self);
AgEngine *_ag_task_get_live_engine    (AgTask              *self);
/* ag_task_get_state() for the library's own calls on a task it knows to
 * be one: no type check (which costs a type-table search for every
 * subclass), same thread rule. */
AgTaskState _ag_task_peek_state       (AgTask              *self);
void      _ag_task_unref_at_home      (AgTask              *self);
void      _ag_task_destroy_at_home    (AgTask              *self,
                                       GDestroyNotify       destroy,
                                       gpointer             data);
void      _ag_task_end_work_then_destroy (AgTask         *self,
                                          GDestroyNotify  destroy,
                                          gpointer        data);
gboolean  _ag_task_is_cancel_requested(AgTask              *self);
void      _ag_task_return_take_value  (AgTask              *self,
                                       GValue              *value);
void      _ag_task_return_moved_value (AgTask              *self,
                                       GValue              *value,
                                       const char          *strfunc);
void      _ag_task_abandon            (AgTask              *self);
void      _ag_task_end_quietly        (AgTask              *self);
void      _ag_task_fail_unrun         (AgTask              *self,
                                       GError              *error);
AgTask   *_ag_task_new_settled_by_owner (void);
void      _ag_task_settle             (AgTask              *self,
                                       const GValue        *value,
                                       const GError        *error,
                                       const GValue        *detail);
void      _ag_task_set_progress_now   (AgTask              *self,
                                       double               progress);
void      _ag_task_suspend            (AgTask              *self);
void      _ag_task_resume             (AgTask              *self);
GCancellable *_ag_task_ensure_cancellable (AgTask          *self);
void      _ag_task_cancel_after_end   (AgTask              *self);
void      _ag_task_begin_work         (AgTask              *self);
void      _ag_task_end_work           (AgTask              *self);
gboolean  _ag_task_claim_return       (AgTask              *self,
                                       const char          *strfunc,
                                       gboolean             quiet);
void      _ag_task_set_returned_error (AgTask              *self,
                                       GError              *error);
void      _ag_task_deliver_returned   (AgTask              *self);
GValue   *_ag_task_propagate_value    (AgTask              *self,
                                       GError             **error);

typedef void (*AgTaskDoneFunc) (AgTask   *task,
                                gpointer  data,
                                guint     tag);

void      _ag_task_add_done_notify    (AgTask              *task,
                                       AgTaskDoneFunc       func,
                                       AgTask              *data,
                                       guint                tag);

G_END_DECLS
