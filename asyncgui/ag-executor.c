/* ag-executor.c: where thread work runs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-executor-private.h"

/* Thread work goes to a GThreadPool of up to max-threads threads. With
 * max-threads 0 (serial mode) it goes through the completion queue instead,
 * and the delivery source runs it on the engine's thread in submission order:
 * deterministic, and subject to the same delivery budget as results.
 *
 * The pool is created on first use, so an engine that only ever sleeps or
 * waits on GIO operations starts no threads. */

struct _AgExecutor
{
  AgCompletionQueue *queue;        /* strong */
  GThreadPool       *pool;         /* NULL until the first threaded submit */
  int                max_threads;  /* engine's thread only */
};

static void
pool_run (gpointer data,
          gpointer user_data)
{
  AgWork *work = data;

  work->run (work);
}

static void
serial_deliver (AgNode   *node,
                AgEngine *engine)
{
  AgWork *work = (AgWork *) node;

  if (engine == NULL)
    work->drop (work);
  else
    work->run (work);
}

AgExecutor *
_ag_executor_new (AgCompletionQueue *queue,
                  int                max_threads)
{
  AgExecutor *self = g_new0 (AgExecutor, 1);

  self->queue = _ag_completion_queue_ref (queue);
  self->max_threads = max_threads;

  return self;
}

/* Work still queued in the pool is run (each work item sees its cancelled
 * task and returns quickly); nothing waits for running work, which holds its
 * own references. */
void
_ag_executor_free (AgExecutor *self)
{
  if (self->pool != NULL)
    g_thread_pool_free (self->pool, FALSE, FALSE);
  _ag_completion_queue_unref (self->queue);
  g_free (self);
}

void
_ag_executor_set_max_threads (AgExecutor *self,
                              int         max_threads)
{
  self->max_threads = max_threads;
  if (self->pool != NULL && max_threads > 0)
    g_thread_pool_set_max_threads (self->pool, max_threads, NULL);
}

int
_ag_executor_get_max_threads (AgExecutor *self)
{
  return self->max_threads;
}

void
_ag_executor_submit (AgExecutor *self,
                     AgWork     *work)
{
  if (self->max_threads == 0)
    {
      work->node.deliver = serial_deliver;
      _ag_completion_queue_push (self->queue, &work->node);
      return;
    }

  if (self->pool == NULL)
    {
      g_autoptr(GError) error = NULL;

      self->pool = g_thread_pool_new (pool_run, NULL, self->max_threads, FALSE, &error);
      /* Only exclusive pools can fail to start threads. */
      g_assert_no_error (error);
    }

  g_thread_pool_push (self->pool, work, NULL);
}
