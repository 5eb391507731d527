/* ag-task-closure.c: tasks whose work is a GClosure, for language bindings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-task-private.h"

/* A binding hands ag_task_new() its function as a callback, and PyGObject
 * before 3.44.2 never frees the native trampoline it makes for each
 * callback it passes (about a hundred bytes each): a Python application on
 * Debian 12 would lose that much for every task it runs. A GClosure is an
 * ordinary reference-counted object that every binding makes from one of
 * its functions and frees again, so these constructors take one, as GIO's
 * _with_closures() variants do. */

static void
invoke_closure (AgTask       *task,
                gpointer      user_data,
                GCancellable *cancellable)
{
  GClosure *closure = user_data;
  GValue params[2] = { G_VALUE_INIT, G_VALUE_INIT };

  g_value_init (&params[0], AG_TYPE_TASK);
  g_value_set_object (&params[0], task);
  g_value_init (&params[1], G_TYPE_CANCELLABLE);
  g_value_set_object (&params[1], cancellable);

  g_closure_invoke (closure, NULL, G_N_ELEMENTS (params), params, NULL);

  g_value_unset (&params[0]);
  g_value_unset (&params[1]);
}

/* Takes a reference on @closure (sinking a floating one) and makes sure it
 * can be invoked. */
GClosure *
_ag_closure_take (GClosure *closure)
{
  g_closure_ref (closure);
  g_closure_sink (closure);
  if (G_CLOSURE_NEEDS_MARSHAL (closure))
    g_closure_set_marshal (closure, g_cclosure_marshal_generic);
  return closure;
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
