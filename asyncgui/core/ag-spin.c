/* ag-spin.c: watching briefly before sleeping, while it pays
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-spin-private.h"

/* A thread that hands work to another and sleeps until the answer comes
 * pays, on a virtual machine, tens of microseconds for being woken: more
 * than a short answer takes. Watching for the answer for a little while
 * first (polling without sleeping) saves that, when the answer comes within
 * the watch; when it does not, the watch was processor time for nothing,
 * and taken from whoever else wanted the processor.
 *
 * So a thread watches only while watching pays: after MAX_MISSES watches
 * in a row that saw nothing, it sleeps through the next waits without
 * watching, then watches once to see whether the answers got quick again.
 * Each further miss doubles the waits it sleeps through (up to
 * MAX_BACKOFF); one catch makes it watch every time again. A thread whose
 * answers take long (a worker computing for milliseconds) thus spends at
 * most one watch in MAX_BACKOFF waits, while a sequential exchange of
 * short calls never sleeps between them. */

#define MAX_MISSES    3
#define FIRST_BACKOFF 16
#define MAX_BACKOFF   1024

/* Whether to watch before this wait. */
gboolean
_ag_spin_begin (AgSpin *self)
{
  if (self->skip == 0)
    return TRUE;

  self->skip--;
  return FALSE;
}

/* How the watch that _ag_spin_begin() allowed went. */
void
_ag_spin_end (AgSpin   *self,
              gboolean  caught)
{
  if (caught)
    {
      self->misses = 0;
      self->backoff = 0;
      return;
    }

  if (++self->misses < MAX_MISSES)
    return;

  self->backoff = self->backoff == 0 ? FIRST_BACKOFF : MIN (self->backoff * 2, MAX_BACKOFF);
  self->skip = self->backoff;
}

/* A GPollFunc's work, with @self's watching: when the poll would sleep
 * (@timeout not 0), it first polls without sleeping for up to AG_SPIN_US,
 * if watching pays. A timeout is not shortened by the watch: the watch is
 * far shorter than the millisecond a timeout counts in. */
gint
_ag_spin_poll (AgSpin  *self,
               GPollFD *fds,
               guint    n_fds,
               gint     timeout)
{
  if (timeout != 0 && _ag_spin_begin (self))
    {
      gint64 deadline = g_get_monotonic_time () + AG_SPIN_US;

      do
        {
          gint ready = g_poll (fds, n_fds, 0);

          if (ready != 0)
            {
              _ag_spin_end (self, ready > 0);
              return ready;
            }
        }
      while (g_get_monotonic_time () < deadline);

      _ag_spin_end (self, FALSE);
    }

  return g_poll (fds, n_fds, timeout);
}
