/* ag-job-await-closure.c: awaits whose callback is a GClosure, for
 * language bindings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-job-internal.h"
#include "ag-closure-private.h"

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

  ag_job_await_async (self, task, cancellable, _ag_closure_async_ready,
                      _ag_closure_take (callback));
}
