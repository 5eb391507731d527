/* ag-process-pool-stop.c: calls that end early, by a cancel or the
 * pool's shutdown
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-error.h"
#include "ag-process-pool-internal.h"

/* Cancelling */

typedef struct
{
  AgProcessPool *pool;
  guint64        id;
} Cancel;

GError *
_ag_pool_cancelled_error (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The call was cancelled"));
}

static gboolean
cancel_in_thread (gpointer user_data)
{
  Cancel *cancel = user_data;
  AgProcessPool *pool = cancel->pool;

  for (guint kind = 0; kind < pool->n_kinds; kind++)
    for (GList *l = pool->kinds[kind].queued.head; l != NULL; l = l->next)
      {
        Call *call = l->data;

        if (call->id == cancel->id)
          {
            g_queue_delete_link (&pool->kinds[kind].queued, l);
            _ag_pool_call_fail (call, 0, _ag_pool_cancelled_error ());
            goto done;
          }
      }

  for (GList *l = pool->workers; l != NULL; l = l->next)
    {
      Worker *worker = l->data;

      if (worker->call != NULL && worker->call->id == cancel->id)
        {
          Call *call = g_steal_pointer (&worker->call);
          guint kind = worker->kind;

          /* The function cannot be stopped halfway: the worker goes, and a
           * fresh one serves the next call. */
          _ag_pool_worker_retire (worker);
          _ag_pool_call_fail (call, 0, _ag_pool_cancelled_error ());
          _ag_pool_dispatch (pool, kind);
          goto done;
        }
    }

  /* Otherwise it has been answered, or its worker was lost and it fails
   * with that in a moment. */

done:
  g_free (cancel);
  return G_SOURCE_REMOVE;
}

/* Shutting down */

static gboolean
shutdown_in_thread (gpointer user_data)
{
  AgProcessPool *pool = user_data;

  pool->stopping = TRUE;
  g_cancellable_cancel (pool->stop);

  for (guint kind = 0; kind < pool->n_kinds; kind++)
    {
      Call *call;

      while ((call = g_queue_pop_head (&pool->kinds[kind].queued)) != NULL)
        _ag_pool_call_fail (call, 0, _ag_pool_shutdown_error ());
    }

  while (pool->workers != NULL)
    {
      Worker *worker = pool->workers->data;
      Call *call = g_steal_pointer (&worker->call);

      _ag_pool_worker_retire (worker);
      if (call != NULL)
        _ag_pool_call_fail (call, 0, _ag_pool_shutdown_error ());
    }

  /* Their exits are not waited for any more. */
  for (GList *l = pool->losses; l != NULL; l = l->next)
    {
      Loss *loss = l->data;

      for (GList *c = loss->calls; c != NULL; c = c->next)
        _ag_pool_call_fail (c->data, 0, _ag_pool_shutdown_error ());
      g_clear_pointer (&loss->calls, g_list_free);
    }

  return G_SOURCE_REMOVE;
}

/* Every call still queued or running fails with G_IO_ERROR_CANCELLED, on
 * the process thread; every worker is killed (GLib's child watch reaps
 * it). Returns at once: stopping the thread afterwards waits until all of
 * it is done. */
void
_ag_process_pool_shutdown (AgProcessPool *pool)
{
  _ag_process_thread_invoke (pool->thread, shutdown_in_thread, pool);
}

/* Fails the call with G_IO_ERROR_CANCELLED, unless it has been answered
 * already; a worker running it is killed. */
void
_ag_process_pool_cancel (AgProcessPool *pool,
                         guint64        call)
{
  Cancel *cancel = g_new0 (Cancel, 1);

  cancel->pool = pool;
  cancel->id = call;
  _ag_process_thread_invoke (pool->thread, cancel_in_thread, cancel);
}
