/* ag-worker-stdio.c: a worker keeps its protocol apart from its stdio
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "ag-i18n-private.h"
#include "ag-worker-program.h"
#include "ag-worker-protocol-private.h"

static int replies_fd = STDOUT_FILENO;

int
_ag_worker_get_replies_fd (void)
{
  return replies_fd;
}

/* Built into the library, for the workers that load it through their
 * bindings (GJS), and into the C worker program, which calls it directly. */

/**
 * ag_worker_take_stdout:
 * @error: return location for an error
 *
 * Takes a worker's stdout for its replies, for worker programs: returns a
 * new descriptor on the pipe that stdout was, and points stdout at
 * stderr, the application's stderr. What the functions the worker calls
 * print, and what the libraries they use write to stdout, then shows
 * there instead of breaking the replies. The descriptor is closed on
 * exec, so programs the functions start do not hold the pipe.
 *
 * A worker program calls it once, before it greets the engine, and writes
 * its replies to the descriptor it returns; a second call is a
 * programming error. An application never calls it.
 *
 * Thread: any, in a worker process, before other threads print.
 *
 * Returns: the descriptor of the replies' pipe, or -1 with @error set
 *   (a [error@GLib.FileError])
 *
 * Since: 1.0
 */
int
ag_worker_take_stdout (GError **error)
{
  int replies;

  g_return_val_if_fail (error == NULL || *error == NULL, -1);
  g_return_val_if_fail (replies_fd == STDOUT_FILENO, -1);

  replies = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  if (replies >= 0 && dup2 (STDERR_FILENO, STDOUT_FILENO) >= 0)
    {
      replies_fd = replies;
      return replies;
    }

  {
    int saved_errno = errno;

    if (replies >= 0)
      close (replies);
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                 _("Cannot keep the worker’s replies apart from its output: %s"),
                 g_strerror (saved_errno));
  }
  return -1;
}

/**
 * ag_worker_take_stdin:
 * @error: return location for an error
 *
 * Takes a worker's stdin for its requests, for worker programs: returns a
 * new descriptor on the pipe that stdin was, and points stdin at
 * `/dev/null`. A function the worker calls that reads stdin then reads
 * end of file, instead of the next request (or of waiting for one for
 * ever), and one that closes stdin leaves the requests' pipe open. The
 * descriptor is closed on exec, so programs the functions start do not
 * hold the pipe.
 *
 * A worker program calls it once, before it greets the engine, and reads
 * its requests from the descriptor it returns; a second call is a
 * programming error. An application never calls it.
 *
 * Thread: any, in a worker process, before other threads read stdin.
 *
 * Returns: the descriptor of the requests' pipe, or -1 with @error set
 *   (a [error@GLib.FileError])
 *
 * Since: 1.0
 */
int
ag_worker_take_stdin (GError **error)
{
  static gboolean taken;
  int requests;
  int nothing = -1;

  g_return_val_if_fail (error == NULL || *error == NULL, -1);
  g_return_val_if_fail (!taken, -1);

  requests = fcntl (STDIN_FILENO, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  if (requests >= 0)
    nothing = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (nothing >= 0 && dup2 (nothing, STDIN_FILENO) >= 0)
    {
      close (nothing);
      taken = TRUE;
      return requests;
    }

  {
    int saved_errno = errno;

    if (nothing >= 0)
      close (nothing);
    if (requests >= 0)
      close (requests);
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                 _("Cannot keep the worker’s requests apart from its input: %s"),
                 g_strerror (saved_errno));
  }
  return -1;
}
