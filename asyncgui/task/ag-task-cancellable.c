/* ag-task-cancellable.c: the cancellable a task's work is given, and how
 * a worker lends its own
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-task-internal.h"

/* Most kinds of task make their cancellable at start, on the engine's
 * thread. A thread task's is made on its worker (cancellable_in_work), and
 * there it is usually not made at all: each worker thread keeps one, lends
 * it to the task it runs, and takes it back when the function returns,
 * unless something kept it. In a flood of small tasks a cancellable made
 * for each task, on a worker, and finalized with the task on the engine's
 * thread, was about a quarter of the wall time.
 *
 * What keeps a lent cancellable with its task: a reference besides the
 * task's and the worker's, a handler, data or a weak reference on it, a
 * cancel, or ag_task_get_cancellable(), which pins it. The pin is the
 * lowest bit of priv->cancellable, set by compare-and-exchange, so a pin
 * and a taking back never both succeed: a pointer handed out is never
 * lent to another task. */

#define PINNED ((gsize) 1)

static gsize cancelled_signal;

GCancellable *
_ag_task_peek_cancellable (AgTaskPrivate *priv)
{
  return (GCancellable *) ((gsize) g_atomic_pointer_get (&priv->cancellable) & ~PINNED);
}

/* A cancel sets AG_TASK_ONCE_CANCEL_REQUESTED, then cancels the
 * cancellable it reads; whoever publishes a cancellable reads the flag
 * afterwards. One of the two always cancels it. */
static GCancellable *
cancel_if_requested (AgTaskPrivate *priv)
{
  GCancellable *cancellable = _ag_task_peek_cancellable (priv);

  if (_ag_task_has_once (priv, AG_TASK_ONCE_CANCEL_REQUESTED))
    g_cancellable_cancel (cancellable);

  return cancellable;
}

/* The cancellable the work is given: made at start on the engine's thread,
 * or here, on first use by the work. Any thread. */
GCancellable *
_ag_task_ensure_cancellable (AgTask *self)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);
  GCancellable *cancellable = _ag_task_peek_cancellable (priv);

  if (cancellable != NULL)
    return cancellable;

  cancellable = g_cancellable_new ();
  if (!g_atomic_pointer_compare_and_exchange (&priv->cancellable, NULL, cancellable))
    g_object_unref (cancellable);

  return cancel_if_requested (priv);
}

/* The worker's @spare becomes the task's cancellable, unless the task has
 * one already. Returns the task's cancellable. The work's thread. */
GCancellable *
_ag_task_lend_cancellable (AgTask       *self,
                           GCancellable *spare)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  g_object_ref (spare);
  if (!g_atomic_pointer_compare_and_exchange (&priv->cancellable, NULL, spare))
    g_object_unref (spare);

  return cancel_if_requested (priv);
}

static void
count_datum (GQuark   key,
             gpointer data,
             gpointer user_data)
{
  (*(guint *) user_data)++;
}

/* Whether anything besides the task and the worker can reach @lent. */
static gboolean
is_kept (GCancellable *lent)
{
  GObject *object = (GObject *) lent;
  guint n_data = 0;

  if (g_once_init_enter (&cancelled_signal))
    g_once_init_leave (&cancelled_signal, g_signal_lookup ("cancelled", G_TYPE_CANCELLABLE));

  if (g_atomic_int_get (&object->ref_count) != 2
      || g_cancellable_is_cancelled (lent)
      || g_signal_has_handler_pending (lent, (guint) cancelled_signal, 0, TRUE))
    return TRUE;

  /* Data and weak references live in the object's qdata. Nobody else holds
   * a reference, so nobody changes it meanwhile. */
  g_datalist_foreach (&object->qdata, count_datum, &n_data);
  return n_data != 0;
}

/* Takes @lent back from the task, after its function returned and before
 * its outcome goes home. Returns %FALSE if the task keeps it. The work's
 * thread. */
gboolean
_ag_task_take_back_cancellable (AgTask       *self,
                                GCancellable *lent)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  if (is_kept (lent))
    return FALSE;

  /* Fails if it was pinned meanwhile. */
  if (!g_atomic_pointer_compare_and_exchange (&priv->cancellable, lent, NULL))
    return FALSE;

  /* A cancel may have read it just before it came back, and will cancel
   * it: it stays the task's. Nobody else writes a task's cancellable while
   * its work runs, so it goes back by a plain store. */
  if (_ag_task_has_once (priv, AG_TASK_ONCE_CANCEL_REQUESTED))
    {
      g_atomic_pointer_set (&priv->cancellable, lent);
      g_cancellable_cancel (lent);
      return FALSE;
    }

  g_object_unref (lent);
  return TRUE;
}

/* The public getter's half: what it returns is never taken back. Any
 * thread. */
GCancellable *
_ag_task_pin_cancellable (AgTask *self)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);
  gpointer current;

  do
    {
      current = g_atomic_pointer_get (&priv->cancellable);
      if (current == NULL || ((gsize) current & PINNED) != 0)
        break;
    }
  while (!g_atomic_pointer_compare_and_exchange (&priv->cancellable, current,
                                                 (gpointer) ((gsize) current | PINNED)));

  return (GCancellable *) ((gsize) current & ~PINNED);
}

/* The outcome of @self, which has ended, will not be taken after all (a
 * job that held it while paused was cancelled): its work's cancellable is
 * cancelled, so that handlers the work connected can take back what it
 * handed over. A lent cancellable was taken back or kept before the end,
 * so the one read here is the task's. The engine's thread. */
void
_ag_task_cancel_after_end (AgTask *self)
{
  GCancellable *cancellable = _ag_task_peek_cancellable (_ag_task_get_priv (self));

  if (cancellable != NULL)
    g_cancellable_cancel (cancellable);
}

/* At finalize. */
void
_ag_task_clear_cancellable (AgTaskPrivate *priv)
{
  GCancellable *cancellable = _ag_task_peek_cancellable (priv);

  priv->cancellable = NULL;
  g_clear_object (&cancellable);
}
