/* ag-spin.c: watching briefly before sleeping, while it pays
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

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
 * short calls never sleeps between them.
 *
 * And a thread watches only while the machine has a processor for it: the
 * kernel's count of runnable threads (the fourth field of /proc/loadavg,
 * this thread included) must not exceed the processors. In an exchange
 * only the watcher and the one it handed work to are runnable, so it
 * watches; when the GUI thread is busy drawing while a worker computes,
 * watching would take the processor one of them waits for, so it sleeps
 * at once. Where the count cannot be read, the policy above alone
 * decides. */

#define MAX_MISSES    3
#define FIRST_BACKOFF 16
#define MAX_BACKOFF   1024

/* Whether the runnable count of @loadavg (the text of /proc/loadavg:
 * "0.50 0.40 0.30 2/345 1234") fits @n_processors. TRUE when the text
 * says nothing that can be read. */
gboolean
_ag_spin_runnable_fit (const char *loadavg,
                       guint       n_processors)
{
  const char *field = loadavg;
  char *end;
  guint64 runnable;

  for (guint i = 0; i < 3; i++)
    {
      field = strchr (field, ' ');
      if (field == NULL)
        return TRUE;
      field++;
    }

  runnable = g_ascii_strtoull (field, &end, 10);
  if (end == field || *end != '/')
    return TRUE;

  return runnable <= n_processors;
}

gboolean
_ag_spin_machine_has_a_free_processor (void)
{
  static gsize once;
  static int fd = -1;
  static guint n_processors;
  char text[128];
  gssize got;

  if (g_once_init_enter (&once))
    {
      fd = open ("/proc/loadavg", O_RDONLY | O_CLOEXEC);
      n_processors = g_get_num_processors ();
      g_once_init_leave (&once, 1);
    }

  if (fd < 0)
    return TRUE;

  /* One read, from the start: the kernel writes the text anew. */
  got = pread (fd, text, sizeof text - 1, 0);
  if (got <= 0)
    return TRUE;
  text[got] = '\0';

  return _ag_spin_runnable_fit (text, n_processors);
}

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
  return _ag_spin_poll_full (self, fds, n_fds, timeout, _ag_spin_machine_has_a_free_processor);
}

gint
_ag_spin_poll_full (AgSpin   *self,
                    GPollFD  *fds,
                    guint     n_fds,
                    gint      timeout,
                    gboolean (*processor_free) (void))
{
  if (timeout != 0 && _ag_spin_begin (self) && processor_free ())
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
