/* ag-wait.c: blocking until something an engine delivers is done
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-error.h"
#include "ag-wait-private.h"

/* Tasks and jobs are finished by deliveries on their engine's thread. To
 * wait for one there, that thread must keep delivering: it iterates the
 * engine's context. Any other thread sleeps on one shared condition, which
 * every finish broadcasts only while someone waits. */

static GMutex wait_lock;
static GCond wait_cond;
static int n_waiters;  /* atomic */

void
_ag_wait_wake_all (void)
{
  if (g_atomic_int_get (&n_waiters) == 0)
    return;

  g_mutex_lock (&wait_lock);
  g_cond_broadcast (&wait_cond);
  g_mutex_unlock (&wait_lock);
}

static gboolean
wake_up (gpointer user_data)
{
  return G_SOURCE_REMOVE;
}

static gboolean
wait_iterating (GMainContext *context,
                const int    *finished,
                gint64        deadline)
{
  while (!g_atomic_int_get (finished))
    {
      gint64 now = g_get_monotonic_time ();
      g_autoptr(GSource) timer = NULL;

      if (now >= deadline)
        return FALSE;

      if (deadline != G_MAXINT64)
        {
          timer = g_timeout_source_new ((guint) ((deadline - now + 999) / 1000));
          g_source_set_callback (timer, wake_up, NULL, NULL);
          g_source_attach (timer, context);
        }

      g_main_context_iteration (context, TRUE);

      if (timer != NULL)
        g_source_destroy (timer);
    }

  return TRUE;
}

static gboolean
wait_sleeping (const int *finished,
               gint64     deadline)
{
  gboolean done;

  /* The waiter count goes up before the flag is read, and a finisher sets
   * the flag before it reads the count: one of the two sees the other. */
  g_mutex_lock (&wait_lock);
  g_atomic_int_inc (&n_waiters);
  while (!(done = g_atomic_int_get (finished)))
    if (!g_cond_wait_until (&wait_cond, &wait_lock, deadline))
      {
        done = g_atomic_int_get (finished);
        break;
      }
  g_atomic_int_dec_and_test (&n_waiters);
  g_mutex_unlock (&wait_lock);

  return done;
}

/* Waits until *finished becomes true. With @context, which is where it
 * becomes true, the calling thread iterates @context while it waits if
 * @may_iterate and nobody else does, and refuses to if @delivering (the
 * wait would never end); without @context, or when another thread iterates
 * it, the calling thread sleeps until a finish wakes it. */
gboolean
_ag_wait_for (GMainContext *context,
              gboolean      may_iterate,
              gboolean      delivering,
              const int    *finished,
              gint64        timeout_us,
              GError      **error)
{
  gint64 deadline = timeout_us < 0 ? G_MAXINT64 : g_get_monotonic_time () + timeout_us;
  gboolean done;

  if (context != NULL && may_iterate && g_main_context_acquire (context))
    {
      if (delivering)
        {
          g_main_context_release (context);
          g_set_error_literal (error, AG_ERROR, AG_ERROR_WOULD_DEADLOCK,
                               _("Waiting for a task while its engine delivers results would never end"));
          return FALSE;
        }

      done = wait_iterating (context, finished, deadline);
      g_main_context_release (context);
    }
  else
    done = wait_sleeping (finished, deadline);

  if (!done)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                         _("The task did not finish in the time given"));

  return done;
}
