/* ag-sandbox.c: what a sandboxed worker is started with
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "ag-i18n-private.h"
#include "ag-error.h"
#include "ag-sandbox-private.h"

/* A sandboxed worker is its usual command run by bubblewrap, which gives
 * it namespaces of its own (no network, its own processes), a read-only
 * view of /usr and of the folders it needs to load its code, an empty
 * private /tmp, and nothing else of the file system. bwrap cannot filter
 * system calls for it: the filter it applies holds from the command's own
 * execve, and Python and GJS must execve to start. So the worker loads
 * the filter itself, from AG_WORKER_FD_FILTER, once its interpreter runs
 * and before it greets the engine (ag_worker_lock_down(), which the C
 * worker calls directly and the GJS one through the typelib; Python's
 * does the same with ctypes); from then on execve is refused too.
 *
 * The filter is compiled by a program of its own (asyncgui-sandbox-filter,
 * built with libseccomp), so that this library depends on GLib alone; it
 * is run once per process and its BPF kept. Each worker gets a sealed
 * memfd of it.
 *
 * Nothing here falls back to running unsandboxed: a missing bwrap, a
 * kernel without seccomp or a missing filter program is an error,
 * AG_ERROR_SANDBOX_UNAVAILABLE, and only the pool decides, from the
 * application's explicit setting, to run such a call unsandboxed. */

static GMutex filter_lock;
/* Guarded by filter_lock; once compiled. */
static GBytes *filter_bpf;

/* bwrap, or $ASYNCGUI_BWRAP (for tests: a program that does not exist). */
static char *
find_bwrap (GError **error)
{
  const char *override = g_getenv ("ASYNCGUI_BWRAP");
  char *path;

  if (override != NULL && override[0] != '\0')
    path = g_find_program_in_path (override);
  else
    path = g_find_program_in_path ("bwrap");

  if (path == NULL)
    g_set_error (error, AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE,
                 _("Cannot run a sandboxed worker: the program “%s” (bubblewrap) is not installed"),
                 override != NULL && override[0] != '\0' ? override : "bwrap");

  return path;
}

static gboolean
kernel_has_seccomp (GError **error)
{
  if (prctl (PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL)
    {
      g_set_error (error, AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE,
                   _("Cannot run a sandboxed worker: the kernel has no seccomp filters"));
      return FALSE;
    }

  return TRUE;
}

static GBytes *
get_filter (const char  *filter_program,
            GError     **error)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GError) local_error = NULL;
  GBytes *result = NULL;

  g_mutex_lock (&filter_lock);

  if (filter_bpf != NULL)
    {
      result = g_bytes_ref (filter_bpf);
      goto out;
    }

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &local_error,
                              filter_program, NULL);
  if (process == NULL
      || !g_subprocess_communicate (process, NULL, NULL, &out, NULL, &local_error))
    {
      g_set_error (error, AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE,
                   _("Cannot run a sandboxed worker: the seccomp filter cannot be made (%s)"),
                   local_error->message);
      goto out;
    }

  /* BPF is a whole number of 8-byte instructions. */
  if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0
      || g_bytes_get_size (out) == 0 || g_bytes_get_size (out) % 8 != 0)
    {
      g_set_error (error, AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE,
                   _("Cannot run a sandboxed worker: “%s” did not make a seccomp filter"),
                   filter_program);
      goto out;
    }

  filter_bpf = g_bytes_ref (out);
  result = g_steal_pointer (&out);

out:
  g_mutex_unlock (&filter_lock);
  return result;
}

/* Whether a sandboxed worker can start here; may run the filter program,
 * once per process. Any thread. */
gboolean
_ag_sandbox_check (const char  *filter_program,
                   GError     **error)
{
  g_autofree char *bwrap = NULL;
  g_autoptr(GBytes) filter = NULL;

  if (!kernel_has_seccomp (error))
    return FALSE;

  bwrap = find_bwrap (error);
  if (bwrap == NULL)
    return FALSE;

  filter = get_filter (filter_program, error);
  return filter != NULL;
}

static void
add_ro_path (GStrvBuilder *args,
             GHashTable   *seen,
             const char   *path)
{
  g_autofree char *canonical = NULL;

  if (path == NULL || path[0] != '/')
    return;

  canonical = g_canonicalize_filename (path, NULL);
  /* /usr is there already; / would undo the sandbox. */
  if (g_str_equal (canonical, "/") || g_str_equal (canonical, "/usr")
      || g_str_has_prefix (canonical, "/usr/")
      || !g_file_test (canonical, G_FILE_TEST_EXISTS)
      || !g_hash_table_add (seen, g_strdup (canonical)))
    return;

  g_strv_builder_add_many (args, "--ro-bind", canonical, canonical, NULL);
}

/* The bwrap command line that runs @argv in the sandbox, showing it
 * @ro_paths (and /usr) read-only. */
char **
_ag_sandbox_wrap_command (const char * const  *argv,
                          const char * const  *ro_paths,
                          GError             **error)
{
  g_autoptr(GStrvBuilder) args = g_strv_builder_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *bwrap = find_bwrap (error);

  if (bwrap == NULL)
    return NULL;

  g_strv_builder_add_many (args, bwrap,
                           "--ro-bind", "/usr", "/usr",
                           "--symlink", "usr/lib", "/lib",
                           "--symlink", "usr/lib64", "/lib64",
                           "--symlink", "usr/bin", "/bin",
                           "--symlink", "usr/sbin", "/sbin",
                           "--proc", "/proc",
                           "--dev", "/dev",
                           "--tmpfs", "/tmp",
                           "--unshare-all",
                           "--die-with-parent",
                           "--new-session",
                           "--cap-drop", "ALL",
                           "--clearenv",
                           "--setenv", "PATH", "/usr/bin",
                           "--setenv", "HOME", "/tmp",
                           "--setenv", "TMPDIR", "/tmp",
                           NULL);
  if (g_file_test ("/etc/ld.so.cache", G_FILE_TEST_EXISTS))
    g_strv_builder_add_many (args, "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache", NULL);
  /* What a Flatpak application's code lives in. */
  add_ro_path (args, seen, "/app");
  for (guint i = 0; ro_paths != NULL && ro_paths[i] != NULL; i++)
    add_ro_path (args, seen, ro_paths[i]);

  /* The environment a worker needs to find its libraries and bindings,
   * passed on as it is, and the folders it names shown. */
  for (guint i = 0; i < 4; i++)
    {
      const char *names[] = { "LD_LIBRARY_PATH", "GI_TYPELIB_PATH", "PYTHONPATH", "GJS_PATH" };
      const char *value = g_getenv (names[i]);
      g_auto(GStrv) dirs = NULL;

      if (value == NULL || value[0] == '\0')
        continue;

      g_strv_builder_add_many (args, "--setenv", names[i], value, NULL);
      dirs = g_strsplit (value, ":", -1);
      for (guint j = 0; dirs[j] != NULL; j++)
        add_ro_path (args, seen, dirs[j]);
    }

  g_strv_builder_add (args, "--");
  g_strv_builder_addv (args, (const char **) argv);

  return g_strv_builder_end (args);
}

/* A sealed memfd holding the filter, to hand to a worker. */
int
_ag_sandbox_open_filter (const char  *filter_program,
                         GError     **error)
{
  g_autoptr(GBytes) filter = get_filter (filter_program, error);
  const guint8 *data;
  gsize size;
  int fd;

  if (filter == NULL)
    return -1;

  fd = memfd_create ("asyncgui-seccomp-filter", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE,
                   _("Cannot run a sandboxed worker: %s"), g_strerror (saved_errno));
      return -1;
    }

  data = g_bytes_get_data (filter, &size);
  while (size > 0)
    {
      gssize n = write (fd, data, size);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved_errno = errno;

          close (fd);
          g_set_error (error, AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE,
                       _("Cannot run a sandboxed worker: %s"), g_strerror (saved_errno));
          return -1;
        }
      data += n;
      size -= n;
    }

  fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  lseek (fd, 0, SEEK_SET);

  return fd;
}
