/* ag-job-await-closure.c: awaits whose callback is a GClosure, for
 * language bindings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-job-internal.h"
#include "ag-task-private.h"

/* A binding drives a job with one ag_job_await_async() per await of its
 * coroutine, and PyGObject before 3.44.2 never frees the native trampoline
 * it makes for each callback it passes: a long-running Python application
 * would lose about a hundred bytes per await. A GClosure is freed like any
 * object (see ag-task-closure.c). */

static void
await_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GClosure *closure = user_data;
  GValue params[2] = { G_VALUE_INIT, G_VALUE_INIT };

  g_value_init (&params[0], G_TYPE_OBJECT);
  g_value_set_object (&params[0], source);
  g_value_init (&params[1], G_TYPE_ASYNC_RESULT);
  g_value_set_object (&params[1], result);

  g_closure_invoke (closure, NULL, G_N_ELEMENTS (params), params, NULL);

  g_value_unset (&params[0]);
  g_value_unset (&params[1]);
  g_closure_unref (closure);
}

/**
 * ag_job_await_with_closure:
 * @self: a running job
 * @task: the task to await
 * @cancellable: (nullable): cancels this await only
 * @callback: called once the await is over, with the job and the
 *   [iface@Gio.AsyncResult] to pass to [method@Job.await_finish]
 *
 * Awaits @task, as [method@Job.await_async] does, for language bindings:
 * the callback is a [struct@GObject.Closure], which the job holds until it
 * has called it. C code uses [method@Job.await_async].
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_job_await_with_closure (AgJob        *self,
                           AgTask       *task,
                           GCancellable *cancellable,
                           GClosure     *callback)
{
  g_return_if_fail (callback != NULL);

  ag_job_await_async (self, task, cancellable, await_done, _ag_closure_take (callback));
}
