/* ag-closure.c: GClosures in place of callbacks, for bindings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-closure-private.h"

/* A binding passes a function of its language to C as a callback with a
 * native trampoline, and PyGObject before 3.44.2 (Debian 12 has 3.42)
 * never frees the trampoline: about a hundred bytes lost for every call
 * that takes one, every task run and every await of a Python job. A
 * GClosure is an ordinary reference-counted object that every binding
 * makes from one of its functions and frees again, so the calls a binding
 * makes for each piece of work have variants that take one, as GIO's
 * _with_closures() functions do: ag_task_new_with_closure() and its
 * siblings. */

/* Takes a reference on @closure, sinking a floating one, and gives it a
 * marshaller if it has none (a C closure). Returns @closure. */
GClosure *
_ag_closure_take (GClosure *closure)
{
  g_closure_ref (closure);
  g_closure_sink (closure);
  if (G_CLOSURE_NEEDS_MARSHAL (closure))
    g_closure_set_marshal (closure, g_cclosure_marshal_generic);
  return closure;
}

/* Calls @closure with two objects (either may be NULL), as values of
 * @type1 and @type2. */
void
_ag_closure_invoke_objects (GClosure *closure,
                            GType     type1,
                            gpointer  object1,
                            GType     type2,
                            gpointer  object2)
{
  GValue params[2] = { G_VALUE_INIT, G_VALUE_INIT };

  g_value_init (&params[0], type1);
  g_value_set_object (&params[0], object1);
  g_value_init (&params[1], type2);
  g_value_set_object (&params[1], object2);

  g_closure_invoke (closure, NULL, G_N_ELEMENTS (params), params, NULL);

  g_value_unset (&params[0]);
  g_value_unset (&params[1]);
}

/* Calls @closure with an object of @type and @item, a GValue the callee
 * reads as its content (a binding gets its own value), or NULL (None). */
void
_ag_closure_invoke_item (GClosure     *closure,
                         GType         type,
                         gpointer      object,
                         const GValue *item)
{
  GValue params[2] = { G_VALUE_INIT, G_VALUE_INIT };

  g_value_init (&params[0], type);
  g_value_set_object (&params[0], object);
  if (item != NULL)
    {
      g_value_init (&params[1], G_TYPE_VALUE);
      g_value_set_static_boxed (&params[1], item);
    }
  else
    g_value_init (&params[1], G_TYPE_POINTER);

  g_closure_invoke (closure, NULL, G_N_ELEMENTS (params), params, NULL);

  g_value_unset (&params[0]);
  g_value_unset (&params[1]);
}

/* A GAsyncReadyCallback whose user data is a closure taken with
 * _ag_closure_take(): calls it with @source and @result, then drops it. */
void
_ag_closure_async_ready (GObject      *source,
                         GAsyncResult *result,
                         gpointer      closure)
{
  _ag_closure_invoke_objects (closure, G_TYPE_OBJECT, source, G_TYPE_ASYNC_RESULT, result);
  g_closure_unref (closure);
}

/* A callback that will never be called is dropped with its data (a job's
 * await, or a task's run, ended by the disposal of its engine; a request
 * of a slot that went): a closure that _ag_closure_async_ready() would
 * have released is released here. Other callbacks' data is the caller's. */
void
_ag_async_ready_forget (GAsyncReadyCallback callback,
                        gpointer            user_data)
{
  if (callback == _ag_closure_async_ready)
    g_closure_unref (user_data);
}
