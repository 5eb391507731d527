/* ag-bench-echo.c: the worker side of the loop-pipe and floor-pipe baselines
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reads 4-byte requests from stdin and writes each back to stdout at once,
 * until end of file. As little as a warm worker process can do for a call,
 * so the baselines measure the pipes and the wake-ups, not a protocol: no
 * GLib, no buffering, one read and one write per call.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* Transfers all @size bytes with @io (read or write), or fails. */
static int
transfer_all (ssize_t (*io) (int, void *, size_t),
              int      fd,
              char    *buffer,
              size_t   size)
{
  size_t done = 0;

  while (done < size)
    {
      ssize_t n = io (fd, buffer + done, size - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      done += (size_t) n;
    }

  return 0;
}

static ssize_t
write_io (int     fd,
          void   *buffer,
          size_t  size)
{
  return write (fd, buffer, size);
}

int
main (void)
{
  char request[sizeof (int32_t)];

  while (transfer_all (read, STDIN_FILENO, request, sizeof request) == 0)
    if (transfer_all (write_io, STDOUT_FILENO, request, sizeof request) != 0)
      return EXIT_FAILURE;

  return EXIT_SUCCESS;
}
