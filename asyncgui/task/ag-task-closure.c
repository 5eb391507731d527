/* ag-task-closure.c: tasks whose work is a GClosure, and runs and slot
 * runs whose callback is one, for language bindings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-closure-private.h"
#include "ag-slot.h"
#include "ag-task-private.h"

/* See ag-closure.c for why bindings want these. */

static void
invoke_closure (AgTask       *task,
                gpointer      user_data,
                GCancellable *cancellable)
{
  _ag_closure_invoke_objects (user_data, AG_TYPE_TASK, task, G_TYPE_CANCELLABLE, cancellable);
}

/**
 * ag_task_new_with_closure:
 * @func: the work, run on a worker thread: called with the task and its
 *   [class@Gio.Cancellable], it returns nothing
 *
 * Creates a task that runs @func on a worker thread, as [ctor@Task.new]
 * does. This is the variant for language bindings: the work is a
 * [struct@GObject.Closure], which the task holds until it is finalized,
 * rather than a callback. C code uses [ctor@Task.new].
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new task
 *
 * Since: 1.0
 */
AgTask *
ag_task_new_with_closure (GClosure *func)
{
  g_return_val_if_fail (func != NULL, NULL);

  return ag_task_new (invoke_closure, _ag_closure_take (func), (GDestroyNotify) g_closure_unref);
}

/**
 * ag_task_new_main_with_closure:
 * @func: starts the work, on the engine's context: called with the task
 *   and its [class@Gio.Cancellable], it returns nothing
 *
 * Creates a task that runs @func on the engine's context when it is run,
 * as [ctor@Task.new_main] does, for language bindings: the function is a
 * [struct@GObject.Closure], which the task holds until it is finalized.
 * C code uses [ctor@Task.new_main].
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new task
 *
 * Since: 1.0
 */
AgTask *
ag_task_new_main_with_closure (GClosure *func)
{
  g_return_val_if_fail (func != NULL, NULL);

  return ag_task_new_main (invoke_closure, _ag_closure_take (func),
                           (GDestroyNotify) g_closure_unref);
}

/**
 * ag_slot_run_with_closure:
 * @self: a slot
 * @task: (transfer none): a task that has not run yet
 * @cancellable: (nullable): a cancellable for this request
 * @callback: called once the task has finished, or was replaced, with the
 *   slot and the [iface@Gio.AsyncResult] to pass to [method@Slot.run_finish]
 *
 * Runs @task as the slot's one piece of work, as [method@Slot.run_async]
 * does, for language bindings: the callback is a
 * [struct@GObject.Closure], held until it was called. C code uses
 * [method@Slot.run_async].
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_slot_run_with_closure (AgSlot       *self,
                          AgTask       *task,
                          GCancellable *cancellable,
                          GClosure     *callback)
{
  g_return_if_fail (AG_IS_SLOT (self));
  g_return_if_fail (callback != NULL);

  ag_slot_run_async (self, task, cancellable, _ag_closure_async_ready, _ag_closure_take (callback));
}

/**
 * ag_engine_run_with_closure:
 * @self: an engine
 * @task: a task that has not been run
 * @cancellable: (nullable): cancels the task, like [method@Task.cancel]
 * @callback: called on the engine's context when the task has finished,
 *   with the engine and the task, the [iface@Gio.AsyncResult] to pass to
 *   [method@Engine.run_finish]
 *
 * Runs @task as [method@Engine.run_async] does, for language bindings: the
 * callback is a [struct@GObject.Closure], held until it was called. C code
 * uses [method@Engine.run_async].
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_engine_run_with_closure (AgEngine     *self,
                            AgTask       *task,
                            GCancellable *cancellable,
                            GClosure     *callback)
{
  g_return_if_fail (AG_IS_ENGINE (self));
  g_return_if_fail (callback != NULL);

  ag_engine_run_async (self, task, cancellable, _ag_closure_async_ready, _ag_closure_take (callback));
}
