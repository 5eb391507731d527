/* ag-task.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include "ag-version-macros.h"
#include <gio/gio.h>

#include "ag-engine.h"

G_BEGIN_DECLS

/**
 * AgTaskState:
 * @AG_TASK_PENDING: created, not run yet.
 * @AG_TASK_RUNNING: handed to an engine and not finished.
 * @AG_TASK_SUCCEEDED: finished with a value.
 * @AG_TASK_FAILED: finished with an error.
 * @AG_TASK_CANCELLED: finished because it was cancelled; its error is
 *   %G_IO_ERROR_CANCELLED.
 *
 * Where a task is in its life. A task moves forward only: it ends exactly
 * once, in one of the three final states.
 *
 * Since: 1.0
 */
typedef enum
{
  AG_TASK_PENDING,
  AG_TASK_RUNNING,
  AG_TASK_SUCCEEDED,
  AG_TASK_FAILED,
  AG_TASK_CANCELLED,
} AgTaskState;

#define AG_TYPE_TASK (ag_task_get_type ())

AG_AVAILABLE_IN_1_0
G_DECLARE_DERIVABLE_TYPE (AgTask, ag_task, AG, TASK, GObject)

/**
 * AgTaskFunc:
 * @task: the task being run
 * @user_data: the data given with the function
 * @cancellable: (nullable): the task's cancellable, to check in long loops
 *
 * The work of a task. It ends the task by calling one of the
 * `ag_task_return_*()` functions exactly once, either before it returns or,
 * for a task made with [ctor@Task.new_main], later from an asynchronous
 * callback.
 *
 * A function given to [ctor@Task.new] runs on a worker thread (on the
 * engine's thread in serial mode); one given to [ctor@Task.new_main] runs on
 * the engine's context.
 *
 * Since: 1.0
 */
typedef void (*AgTaskFunc) (AgTask       *task,
                            gpointer      user_data,
                            GCancellable *cancellable);

/**
 * AgTaskAndThenFunc:
 * @task: the task being run
 * @previous: (nullable): the value of the task it follows, or %NULL if that
 *   one succeeded without a value
 * @user_data: the data given with the function
 * @cancellable: (nullable): the task's cancellable
 *
 * The work of a task made with [method@Task.and_then]: it runs on a worker
 * thread once the task it follows has succeeded, and ends the task with one
 * of the `ag_task_return_*()` functions.
 *
 * Since: 1.0
 */
typedef void (*AgTaskAndThenFunc) (AgTask       *task,
                                   const GValue *previous,
                                   gpointer      user_data,
                                   GCancellable *cancellable);

/**
 * AgTaskClass:
 *
 * The class of [class@Task]. Its slots belong to the library's own kinds of
 * task.
 *
 * Since: 1.0
 */
struct _AgTaskClass
{
  GObjectClass parent_class;

  /*< private >*/
  gpointer _ag_vfuncs;
  gpointer _ag_reserved[9];
};

AG_AVAILABLE_IN_1_0
AgTask        *ag_task_new              (AgTaskFunc      func,
                                         gpointer        user_data,
                                         GDestroyNotify  destroy) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgTask        *ag_task_new_main         (AgTaskFunc      func,
                                         gpointer        user_data,
                                         GDestroyNotify  destroy) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgTask        *ag_task_new_sleep        (guint           msec) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgTask        *ag_task_new_with_closure      (GClosure  *func) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgTask        *ag_task_new_main_with_closure (GClosure  *func) G_GNUC_WARN_UNUSED_RESULT;

AG_AVAILABLE_IN_1_0
AgTaskState    ag_task_get_state        (AgTask         *self);
AG_AVAILABLE_IN_1_0
AgEngine      *ag_task_get_engine       (AgTask         *self);
AG_AVAILABLE_IN_1_0
gboolean       ag_task_is_finished      (AgTask         *self);
AG_AVAILABLE_IN_1_0
GCancellable  *ag_task_get_cancellable  (AgTask         *self);
AG_AVAILABLE_IN_1_0
const GError  *ag_task_get_error        (AgTask         *self);
AG_AVAILABLE_IN_1_0
const GValue  *ag_task_get_value        (AgTask         *self);
/* Typed views of the outcome (ag-task-typed.c). */
AG_AVAILABLE_IN_1_0
gboolean       ag_task_get_boolean      (AgTask         *self,
                                         GError        **error);
AG_AVAILABLE_IN_1_0
int            ag_task_get_int          (AgTask         *self,
                                         GError        **error);
AG_AVAILABLE_IN_1_0
guint          ag_task_get_uint         (AgTask         *self,
                                         GError        **error);
AG_AVAILABLE_IN_1_0
gint64         ag_task_get_int64        (AgTask         *self,
                                         GError        **error);
AG_AVAILABLE_IN_1_0
guint64        ag_task_get_uint64       (AgTask         *self,
                                         GError        **error);
AG_AVAILABLE_IN_1_0
double         ag_task_get_double       (AgTask         *self,
                                         GError        **error);
AG_AVAILABLE_IN_1_0
int            ag_task_get_enum         (AgTask         *self,
                                         GError        **error);
AG_AVAILABLE_IN_1_0
guint          ag_task_get_flags        (AgTask         *self,
                                         GError        **error);
AG_AVAILABLE_IN_1_0
const char    *ag_task_get_string       (AgTask         *self,
                                         GError        **error);
AG_AVAILABLE_IN_1_0
gpointer       ag_task_get_object       (AgTask         *self,
                                         GError        **error);
AG_AVAILABLE_IN_1_0
gpointer       ag_task_get_boxed        (AgTask         *self,
                                         GError        **error);
AG_AVAILABLE_IN_1_0
GVariant      *ag_task_get_variant      (AgTask         *self,
                                         GError        **error);
AG_AVAILABLE_IN_1_0
gpointer       ag_task_get_pointer      (AgTask         *self,
                                         GError        **error);

AG_AVAILABLE_IN_1_0
double         ag_task_get_progress     (AgTask         *self);
AG_AVAILABLE_IN_1_0
void           ag_task_set_progress     (AgTask         *self,
                                         double          progress);
AG_AVAILABLE_IN_1_0
const char    *ag_task_get_status_text  (AgTask         *self);
AG_AVAILABLE_IN_1_0
void           ag_task_set_status_text  (AgTask         *self,
                                         const char     *status_text);

AG_AVAILABLE_IN_1_0
void           ag_task_return_value     (AgTask         *self,
                                         const GValue   *value);
AG_AVAILABLE_IN_1_0
void           ag_task_return_boolean   (AgTask         *self,
                                         gboolean        value);
AG_AVAILABLE_IN_1_0
void           ag_task_return_int       (AgTask         *self,
                                         int             value);
AG_AVAILABLE_IN_1_0
void           ag_task_return_uint      (AgTask         *self,
                                         guint           value);
AG_AVAILABLE_IN_1_0
void           ag_task_return_int64     (AgTask         *self,
                                         gint64          value);
AG_AVAILABLE_IN_1_0
void           ag_task_return_uint64    (AgTask         *self,
                                         guint64         value);
AG_AVAILABLE_IN_1_0
void           ag_task_return_double    (AgTask         *self,
                                         double          value);
AG_AVAILABLE_IN_1_0
void           ag_task_return_enum      (AgTask         *self,
                                         GType           enum_type,
                                         int             value);
AG_AVAILABLE_IN_1_0
void           ag_task_return_flags     (AgTask         *self,
                                         GType           flags_type,
                                         guint           value);
AG_AVAILABLE_IN_1_0
void           ag_task_return_string    (AgTask         *self,
                                         const char     *value);
AG_AVAILABLE_IN_1_0
void           ag_task_return_object    (AgTask         *self,
                                         gpointer        object);
AG_AVAILABLE_IN_1_0
void           ag_task_return_boxed     (AgTask         *self,
                                         GType           boxed_type,
                                         gconstpointer   boxed);
AG_AVAILABLE_IN_1_0
void           ag_task_return_variant   (AgTask         *self,
                                         GVariant       *variant);
AG_AVAILABLE_IN_1_0
void           ag_task_return_pointer   (AgTask         *self,
                                         gpointer        pointer,
                                         GDestroyNotify  destroy);
AG_AVAILABLE_IN_1_0
void           ag_task_return_error_full (AgTask        *self,
                                         GError         *error,
                                         const GValue   *detail);
AG_AVAILABLE_IN_1_0
const GValue  *ag_task_get_error_detail (AgTask         *self);
AG_AVAILABLE_IN_1_0
void           ag_task_return_error     (AgTask         *self,
                                         GError         *error);
AG_AVAILABLE_IN_1_0
void           ag_task_return_new_error (AgTask         *self,
                                         GQuark          domain,
                                         int             code,
                                         const char     *format,
                                         ...) G_GNUC_PRINTF (4, 5);

AG_AVAILABLE_IN_1_0
gboolean       ag_task_add_dependency   (AgTask         *self,
                                         AgTask         *dependency,
                                         GError        **error);
AG_AVAILABLE_IN_1_0
guint          ag_task_get_n_dependencies (AgTask       *self);
AG_AVAILABLE_IN_1_0
const GValue  *ag_task_get_dependency_value (AgTask     *self,
                                         guint           index);
AG_AVAILABLE_IN_1_0
AgTask        *ag_task_get_dependency   (AgTask         *self,
                                         guint           index);
AG_AVAILABLE_IN_1_0
AgTask        *ag_task_and_then         (AgTask             *self,
                                         AgTaskAndThenFunc   func,
                                         gpointer            user_data,
                                         GDestroyNotify      destroy) G_GNUC_WARN_UNUSED_RESULT;

AG_AVAILABLE_IN_1_0
void           ag_task_cancel           (AgTask         *self);
AG_AVAILABLE_IN_1_0
void           ag_task_wait_async       (AgTask              *self,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
AG_AVAILABLE_IN_1_0
GValue        *ag_task_wait_finish      (AgTask         *self,
                                         GAsyncResult   *result,
                                         GError        **error);
AG_AVAILABLE_IN_1_0
gboolean       ag_task_wait             (AgTask         *self,
                                         int             timeout_ms,
                                         GError        **error);

/* Running a task: methods of AgEngine, with tasks. */
AG_AVAILABLE_IN_1_0
void          ag_engine_run_async          (AgEngine            *self,
                                            AgTask              *task,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
AG_AVAILABLE_IN_1_0
void          ag_engine_run_with_closure   (AgEngine            *self,
                                            AgTask              *task,
                                            GCancellable        *cancellable,
                                            GClosure            *callback);
AG_AVAILABLE_IN_1_0
GValue       *ag_engine_run_finish         (AgEngine            *self,
                                            GAsyncResult        *result,
                                            GError             **error);

G_END_DECLS
