/* ag-main-task.c: a task whose function starts on the engine's context,
 * typically an asynchronous operation that returns later
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-task-internal.h"

typedef struct
{
  AgTask          parent_instance;

  AgTaskFunc      func;
  gpointer        func_data;
  GDestroyNotify  func_destroy;
} AgMainTask;

typedef struct
{
  AgTaskClass parent_class;
} AgMainTaskClass;

static GType ag_main_task_get_type (void);

G_DEFINE_FINAL_TYPE (AgMainTask, ag_main_task, AG_TYPE_TASK)

static void
ag_main_task_start (AgTask *task)
{
  AgMainTask *self = (AgMainTask *) task;

  self->func (task, self->func_data, ag_task_get_cancellable (task));
}

static void
ag_main_task_finalize (GObject *object)
{
  AgMainTask *self = (AgMainTask *) object;

  if (self->func_destroy != NULL)
    self->func_destroy (self->func_data);

  G_OBJECT_CLASS (ag_main_task_parent_class)->finalize (object);
}

static void
ag_main_task_class_init (AgMainTaskClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ag_main_task_finalize;
  _ag_task_class_get_vfuncs (klass)->start = ag_main_task_start;
}

static void
ag_main_task_init (AgMainTask *self)
{
}

/**
 * ag_task_new_main:
 * @func: (scope notified) (closure user_data) (destroy destroy): starts the
 *   work, on the engine's context
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the task is finalized
 *
 * Creates a task whose function runs on the engine's context when the task
 * is run. The function must not block: it starts an asynchronous operation
 * and ends the task from that operation's callback with one of the
 * `ag_task_return_*()` functions. This wraps any GIO `_async`/`_finish`
 * pair:
 *
 * ```c
 * static void
 * loaded (GObject      *file,
 *         GAsyncResult *result,
 *         gpointer      user_data)
 * {
 *   g_autoptr(AgTask) task = user_data;
 *   g_autoptr(GError) error = NULL;
 *   g_autoptr(GBytes) bytes = g_file_load_bytes_finish (G_FILE (file), result, NULL, &error);
 *
 *   if (bytes == NULL)
 *     ag_task_return_error (task, g_steal_pointer (&error));
 *   else
 *     ag_task_return_boxed (task, G_TYPE_BYTES, bytes);
 * }
 *
 * static void
 * load (AgTask       *task,
 *       gpointer      user_data,
 *       GCancellable *cancellable)
 * {
 *   g_file_load_bytes_async (user_data, cancellable, loaded, g_object_ref (task));
 * }
 * ```
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new task
 *
 * Since: 1.0
 */
AgTask *
ag_task_new_main (AgTaskFunc     func,
                  gpointer       user_data,
                  GDestroyNotify destroy)
{
  AgMainTask *self;

  g_return_val_if_fail (func != NULL, NULL);

  self = g_object_new (ag_main_task_get_type (), NULL);
  self->func = func;
  self->func_data = user_data;
  self->func_destroy = destroy;

  return (AgTask *) self;
}
