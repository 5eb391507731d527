/* ag-worker-lock-down.c: a sandboxed worker loads its seccomp filter
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE

#include "config.h"

#include <errno.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "ag-i18n-private.h"
#include "ag-error.h"
#include "ag-worker-program.h"

/* Built into the library, for the workers that load it through their
 * bindings (GJS), and into the C worker program, which calls it directly. */

static gboolean
read_filter (int          fd,
             GByteArray  *program,
             GError     **error)
{
  guint8 buffer[4096];
  gssize n;

  while ((n = read (fd, buffer, sizeof buffer)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          g_set_error (error, AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE,
                       _("Cannot read the seccomp filter: %s"), g_strerror (saved_errno));
          return FALSE;
        }
      g_byte_array_append (program, buffer, n);
    }

  return TRUE;
}

/**
 * ag_worker_lock_down:
 * @filter_fd: a file descriptor holding the seccomp filter of the sandbox
 *   (BPF), which this reads to its end and closes
 *
 * Loads the seccomp filter of a sandboxed worker into every thread of the
 * calling process, for worker programs: from then on the worker cannot
 * run programs, reach the network or touch other processes, and that
 * cannot be undone. A sandboxed worker finds the filter on descriptor 4
 * as it starts, and must call this once its interpreter runs and before
 * it greets the engine: its interpreter needed `execve` to start, so the
 * sandbox leaves loading the filter to the worker.
 *
 * This is for the worker programs of [class@WorkerPool] (a GJS worker
 * calls it through the typelib); an application never calls it.
 *
 * Thread: any, in a worker process.
 *
 * Returns: whether the filter is loaded; if not, @error says why
 *   (%AG_ERROR_SANDBOX_UNAVAILABLE), and the worker must not serve a call
 *
 * Since: 1.0
 */
gboolean
ag_worker_lock_down (int      filter_fd,
                     GError **error)
{
  g_autoptr(GByteArray) program = g_byte_array_new ();
  struct sock_fprog filter;
  gboolean read_ok;
  long result;

  g_return_val_if_fail (filter_fd >= 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  read_ok = read_filter (filter_fd, program, error);
  close (filter_fd);
  if (!read_ok)
    return FALSE;

  if (program->len == 0 || program->len % sizeof (struct sock_filter) != 0
      || program->len / sizeof (struct sock_filter) > G_MAXUSHORT)
    {
      g_set_error_literal (error, AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE,
                           _("The seccomp filter is not a BPF program"));
      return FALSE;
    }

  filter.len = program->len / sizeof (struct sock_filter);
  filter.filter = (struct sock_filter *) program->data;

  /* An interpreter has threads of its own by now (GJS has several): the
   * filter must hold in all of them, or one of them could still run a
   * program. The kernel sets no_new_privs on them all with it. */
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    result = -1;
  else
    result = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &filter);

  if (result < 0)
    {
      int saved_errno = errno;

      g_set_error (error, AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE,
                   _("Cannot load the seccomp filter: %s"), g_strerror (saved_errno));
      return FALSE;
    }
  if (result > 0)
    {
      /* The thread it names is in a state the filter cannot join. */
      g_set_error (error, AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE,
                   _("Cannot load the seccomp filter: thread %ld cannot take it"), result);
      return FALSE;
    }

  return TRUE;
}
