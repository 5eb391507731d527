/* ag-task-report.c: progress and status text, reported from any thread
 * and coalesced on the way to the engine's thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-task-internal.h"

/* Most tasks never report, so the report lives apart from the task and is
 * made on first use, with the progress it delivers. A report queues its
 * node once; until it is delivered, later reports only overwrite the
 * values in the report, so the latest wins and a flood of updates becomes
 * at most one notification per delivery. */
struct _AgTaskReport
{
  AgNode    node;                /* first: the node is the report */
  AgTask   *task;                /* unowned: the task owns the report */
  GMutex    lock;                /* guards the fields up to status_text */
  double    reported_progress;
  gboolean  progress_reported;
  char     *reported_status;
  gboolean  status_reported;
  gboolean  queued;              /* the node is in the completion queue */
  double    progress;            /* the engine's thread, as status_text */
  char     *status_text;         /* the engine's thread */
};

static void report_deliver (AgNode   *node,
                            gpointer  owner);

static AgTaskReport *
peek_report (AgTaskPrivate *priv)
{
  AgTaskExtras *extras = _ag_task_peek_extras (priv);

  return extras != NULL ? g_atomic_pointer_get (&extras->report) : NULL;
}

static AgTaskReport *
ensure_report (AgTaskPrivate *priv)
{
  AgTaskExtras *extras = _ag_task_ensure_extras (priv);
  AgTaskReport *report = g_atomic_pointer_get (&extras->report);

  if (report == NULL)
    {
      AgTaskReport *fresh = g_new0 (AgTaskReport, 1);

      fresh->node.deliver = report_deliver;
      fresh->task = _ag_task_from_priv (priv);
      g_mutex_init (&fresh->lock);
      if (g_atomic_pointer_compare_and_exchange (&extras->report, NULL, fresh))
        return fresh;

      g_mutex_clear (&fresh->lock);
      g_free (fresh);
      report = g_atomic_pointer_get (&extras->report);
    }

  return report;
}

void
_ag_task_report_free (AgTaskReport *report)
{
  g_mutex_clear (&report->lock);
  g_free (report->reported_status);
  g_free (report->status_text);
  g_free (report);
}

/* Queues a report made before the task ran, now that starting it made a
 * queue to deliver it by. */
void
_ag_task_report_push_waiting (AgTask *self)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);
  AgTaskReport *report = peek_report (priv);
  gboolean queued;

  if (report == NULL)
    return;

  g_mutex_lock (&report->lock);
  queued = report->queued;
  g_mutex_unlock (&report->lock);

  if (queued)
    {
      g_object_ref (self);
      _ag_completion_queue_push (priv->queue, &report->node);
    }
}

/* Publishes the latest report. Only the delivery of the node may mark
 * the node free again: the task finishing while it is still queued must not
 * let a worker queue it a second time. */
void
_ag_task_report_apply (AgTask   *self,
                       gboolean  node_delivered)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);
  AgTaskReport *report = peek_report (priv);
  g_autofree char *status = NULL;
  gboolean status_changed, progress_changed;
  double progress;

  if (report == NULL)
    return;

  g_mutex_lock (&report->lock);
  progress = report->reported_progress;
  progress_changed = report->progress_reported;
  report->progress_reported = FALSE;
  status_changed = report->status_reported;
  status = g_steal_pointer (&report->reported_status);
  report->status_reported = FALSE;
  if (node_delivered)
    report->queued = FALSE;
  g_mutex_unlock (&report->lock);

  if (progress_changed)
    _ag_task_set_progress_now (self, progress);

  if (status_changed && g_strcmp0 (status, report->status_text) != 0)
    {
      g_free (report->status_text);
      report->status_text = g_steal_pointer (&status);
      _ag_task_notify_status_text (self);
    }
}

/* The engine's thread. */
void
_ag_task_set_progress_now (AgTask *self,
                           double  progress)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);
  AgTaskReport *report = peek_report (priv);

  if ((report != NULL ? report->progress : 0.0) == progress)
    return;

  report = ensure_report (priv);
  report->progress = progress;
  _ag_task_notify_progress (self);
}

static void
report_deliver (AgNode   *node,
                gpointer  owner)
{
  AgEngine *engine = owner;
  AgTaskReport *report = (AgTaskReport *) node;
  AgTask *self = report->task;
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  if (engine != NULL && priv->state == AG_TASK_RUNNING)
    _ag_task_report_apply (self, TRUE);
  else
    {
      g_mutex_lock (&report->lock);
      report->queued = FALSE;
      g_mutex_unlock (&report->lock);
    }

  if (engine != NULL)
    g_object_unref (self);
  else
    _ag_task_unref_at_home (self);
}

static void
report (AgTask     *self,
        double      progress,
        gboolean    has_status,
        const char *status)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);
  AgTaskReport *report = ensure_report (priv);
  gboolean push = FALSE;

  g_mutex_lock (&report->lock);
  if (has_status)
    {
      g_free (report->reported_status);
      report->reported_status = g_strdup (status);
      report->status_reported = TRUE;
    }
  else
    {
      report->reported_progress = progress;
      report->progress_reported = TRUE;
    }

  if (!report->queued)
    {
      report->queued = TRUE;
      /* Before the task runs there is no queue yet; starting it queues the
       * report. */
      push = g_atomic_pointer_get (&priv->queue) != NULL;
    }
  g_mutex_unlock (&report->lock);

  if (push)
    {
      g_object_ref (self);
      _ag_completion_queue_push (priv->queue, &report->node);
    }
}

/**
 * ag_task_get_progress:
 * @self: a task
 *
 * Gets how far the work is.
 *
 * Thread: the engine's.
 *
 * Returns: the progress from 0 to 1, or -1 if unknown
 *
 * Since: 1.0
 */
double
ag_task_get_progress (AgTask *self)
{
  AgTaskReport *report;

  g_return_val_if_fail (AG_IS_TASK (self), 0.0);

  report = peek_report (_ag_task_get_priv (self));
  return report != NULL ? report->progress : 0.0;
}

/**
 * ag_task_set_progress:
 * @self: a task
 * @progress: from 0 to 1, or -1 for unknown
 *
 * Reports how far the work is. May be called from any thread, as often as
 * is convenient: the latest value wins, and the task notifies
 * [property@Task:progress] on the engine's thread at most once per
 * delivery.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_set_progress (AgTask *self,
                      double  progress)
{
  g_return_if_fail (AG_IS_TASK (self));
  g_return_if_fail (progress == -1.0 || (progress >= 0.0 && progress <= 1.0));

  report (self, progress, FALSE, NULL);
}

/**
 * ag_task_get_status_text:
 * @self: a task
 *
 * Gets the text that says what the work is doing.
 *
 * Thread: the engine's.
 *
 * Returns: (transfer none) (nullable): the status text
 *
 * Since: 1.0
 */
const char *
ag_task_get_status_text (AgTask *self)
{
  AgTaskReport *report;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  report = peek_report (_ag_task_get_priv (self));
  return report != NULL ? report->status_text : NULL;
}

/**
 * ag_task_set_status_text:
 * @self: a task
 * @status_text: (nullable): a short text for people
 *
 * Reports what the work is doing. May be called from any thread; coalesced
 * like [method@Task.set_progress].
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_set_status_text (AgTask     *self,
                         const char *status_text)
{
  g_return_if_fail (AG_IS_TASK (self));

  report (self, 0.0, TRUE, status_text);
}
