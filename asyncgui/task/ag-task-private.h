/* ag-task-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-task.h"
#include "ag-engine.h"

G_BEGIN_DECLS

typedef struct _AgMultiTask AgMultiTask;

/* The layout behind the reserved slots of the public AgTaskClass: how each
 * kind of task starts and cancels. */
typedef struct
{
  GObjectClass parent_class;

  void (*start)   (AgTask *self);
  void (*cancel)  (AgTask *self);
  /* Optional: the task just reached its final state (or was abandoned),
   * before anyone is told; release what running held. */
  void (*stopped) (AgTask *self);

  gpointer _reserved[7];
} AgTaskKindClass;

G_STATIC_ASSERT (sizeof (AgTaskKindClass) == sizeof (AgTaskClass));

#define AG_TASK_KIND_CLASS(klass)    ((AgTaskKindClass *) (klass))
#define AG_TASK_GET_KIND_CLASS(obj)  (AG_TASK_KIND_CLASS (AG_TASK_GET_CLASS (obj)))

void      _ag_task_start              (AgTask              *self,
                                       AgEngine            *engine,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data,
                                       GDestroyNotify       user_data_destroy);
gboolean  _ag_task_claim_run          (AgTask              *self);
void      _ag_task_start_from_other_thread (AgTask          *self,
                                       AgEngine            *engine,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
AgEngine *_ag_task_get_engine         (AgTask              *self);
void      _ag_task_unref_at_home      (AgTask              *self);
gboolean  _ag_task_is_cancel_requested(AgTask              *self);
void      _ag_task_return_take_value  (AgTask              *self,
                                       GValue              *value);
void      _ag_task_abandon            (AgTask              *self);
void      _ag_task_end_quietly        (AgTask              *self);
void      _ag_task_set_parent         (AgTask              *self,
                                       AgMultiTask         *parent,
                                       guint                position);
gboolean  _ag_task_get_parent         (AgTask              *self,
                                       AgMultiTask        **parent,
                                       guint               *position);
AgTask   *_ag_task_new_view           (void);
void      _ag_task_settle_view        (AgTask              *self,
                                       const GValue        *value,
                                       const GError        *error);
void      _ag_task_set_progress_now   (AgTask              *self,
                                       double               progress);
void      _ag_task_pause_timer        (AgTask              *self);
void      _ag_task_resume_timer       (AgTask              *self);
GValue   *_ag_task_propagate_value    (AgTask              *self,
                                       GError             **error);

typedef void (*AgTaskDoneFunc) (AgTask   *task,
                                gpointer  data);

void      _ag_task_add_done_notify    (AgTask              *task,
                                       AgTaskDoneFunc       func,
                                       AgTask              *data);

G_END_DECLS
