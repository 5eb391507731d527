/* ag-sleep-task.c: a task that succeeds after a while, on a timer of the
 * engine's context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-task-internal.h"

/* A sleep is the one kind of work that can stop halfway: while a job
 * awaiting it is paused, the timer is gone and the sleep keeps what
 * remains of it. */

typedef struct
{
  AgTask    parent_instance;

  guint     msec;
  GSource  *timer;
  gint64    deadline;       /* monotonic, while the timer runs */
  gint64    remaining_us;   /* while suspended, or -1 */
} AgSleepTask;

typedef struct
{
  AgTaskClass parent_class;
} AgSleepTaskClass;

static GType ag_sleep_task_get_type (void);

G_DEFINE_FINAL_TYPE (AgSleepTask, ag_sleep_task, AG_TYPE_TASK)

static gboolean
sleep_done (gpointer user_data)
{
  AgSleepTask *self = user_data;

  g_clear_pointer (&self->timer, g_source_unref);
  _ag_task_return_take_value ((AgTask *) self, NULL);

  return G_SOURCE_REMOVE;
}

static void
start_timer (AgSleepTask *self,
             gint64       remaining_us)
{
  AgEngine *engine = _ag_task_get_engine ((AgTask *) self);

  self->deadline = g_get_monotonic_time () + remaining_us;
  self->remaining_us = -1;
  self->timer = g_timeout_source_new ((guint) ((remaining_us + 999) / 1000));
  g_source_set_static_name (self->timer, "[asyncgui] sleep");
  g_source_set_callback (self->timer, sleep_done, self, NULL);
  g_source_attach (self->timer, ag_engine_get_context (engine));
}

static void
stop_timer (AgSleepTask *self)
{
  if (self->timer == NULL)
    return;

  g_source_destroy (self->timer);
  g_clear_pointer (&self->timer, g_source_unref);
}

static void
ag_sleep_task_start (AgTask *task)
{
  AgSleepTask *self = (AgSleepTask *) task;

  start_timer (self, (gint64) self->msec * G_TIME_SPAN_MILLISECOND);
}

static void
ag_sleep_task_stopped (AgTask *task)
{
  stop_timer ((AgSleepTask *) task);
}

static void
ag_sleep_task_suspend (AgTask *task)
{
  AgSleepTask *self = (AgSleepTask *) task;

  if (self->timer == NULL)
    return;

  self->remaining_us = MAX (self->deadline - g_get_monotonic_time (), 0);
  stop_timer (self);
}

static void
ag_sleep_task_resume (AgTask *task)
{
  AgSleepTask *self = (AgSleepTask *) task;

  if (self->remaining_us < 0)
    return;

  start_timer (self, self->remaining_us);
}

static void
ag_sleep_task_class_init (AgSleepTaskClass *klass)
{
  AgTaskClassPrivate *vfuncs = _ag_task_class_get_vfuncs (klass);

  vfuncs->start = ag_sleep_task_start;
  vfuncs->stopped = ag_sleep_task_stopped;
  vfuncs->suspend = ag_sleep_task_suspend;
  vfuncs->resume = ag_sleep_task_resume;
}

static void
ag_sleep_task_init (AgSleepTask *self)
{
  self->remaining_us = -1;
}

/**
 * ag_task_new_sleep:
 * @msec: how long to sleep, in milliseconds
 *
 * Creates a task that succeeds, without a value, @msec milliseconds after it
 * is run. It uses a timer on the engine's context, not a thread.
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new task
 *
 * Since: 1.0
 */
AgTask *
ag_task_new_sleep (guint msec)
{
  AgSleepTask *self = g_object_new (ag_sleep_task_get_type (), NULL);

  self->msec = msec;

  return (AgTask *) self;
}
