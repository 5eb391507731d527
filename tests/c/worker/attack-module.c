/* attack-module.c: what a compromised parser would try, for the sandbox
 * tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Loaded by asyncgui-worker. Each attack returns "(bs)": whether it got
 * what it was after, and what happened, so that a test can show that the
 * same attack succeeds without the sandbox and fails within it. The
 * limits' attacks fail the call instead, as a real one would.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <gio/gio.h>
#include <gmodule.h>

#define AG_ATTACK_FUNC(name) \
  G_MODULE_EXPORT GVariant *name (GVariant *args, GCancellable *cancellable, GError **error)

AG_ATTACK_FUNC (ag_attack_read_file);
AG_ATTACK_FUNC (ag_attack_list_dir);
AG_ATTACK_FUNC (ag_attack_write_file);
AG_ATTACK_FUNC (ag_attack_connect);
AG_ATTACK_FUNC (ag_attack_spawn_shell);
AG_ATTACK_FUNC (ag_attack_allocate);
AG_ATTACK_FUNC (ag_attack_burn_cpu);
AG_ATTACK_FUNC (ag_attack_crafted_reply);
AG_ATTACK_FUNC (ag_attack_size_of_fd);

static GVariant *
outcome (gboolean    got_it,
         const char *what)
{
  return g_variant_new ("(bs)", got_it, what);
}

static GVariant *
errno_outcome (const char *doing)
{
  int saved_errno = errno;
  g_autofree char *what = g_strdup_printf ("%s: %s", doing, g_strerror (saved_errno));

  return outcome (FALSE, what);
}

/* "(s)" path: reads the start of a file. */
GVariant *
ag_attack_read_file (GVariant      *args,
                     GCancellable  *cancellable,
                     GError       **error)
{
  const char *path;
  char buffer[64] = { 0 };
  gssize n;
  int fd;

  g_variant_get (args, "(&s)", &path);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno_outcome ("open");
  n = read (fd, buffer, sizeof buffer - 1);
  close (fd);
  if (n < 0)
    return errno_outcome ("read");

  return outcome (TRUE, buffer);
}

/* "(s)" path: lists a folder (the user's home). */
GVariant *
ag_attack_list_dir (GVariant      *args,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *path;

  g_variant_get (args, "(&s)", &path);
  dir = g_dir_open (path, 0, &local_error);
  if (dir == NULL)
    return outcome (FALSE, local_error->message);

  return outcome (TRUE, path);
}

/* "(s)" path: creates a file. */
GVariant *
ag_attack_write_file (GVariant      *args,
                      GCancellable  *cancellable,
                      GError       **error)
{
  const char *path;
  int fd;

  g_variant_get (args, "(&s)", &path);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return errno_outcome ("open");
  if (write (fd, "owned\n", 6) != 6)
    {
      close (fd);
      return errno_outcome ("write");
    }
  close (fd);

  return outcome (TRUE, path);
}

/* "(q)" port: connects to 127.0.0.1. */
GVariant *
ag_attack_connect (GVariant      *args,
                   GCancellable  *cancellable,
                   GError       **error)
{
  struct sockaddr_in address = { 0 };
  guint16 port;
  int fd;

  g_variant_get (args, "(q)", &port);
  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return errno_outcome ("socket");

  address.sin_family = AF_INET;
  address.sin_port = htons (port);
  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &address, sizeof address) < 0)
    {
      GVariant *result = errno_outcome ("connect");

      close (fd);
      return result;
    }

  close (fd);
  return outcome (TRUE, "connected");
}

/* "()": runs a shell. */
GVariant *
ag_attack_spawn_shell (GVariant      *args,
                       GCancellable  *cancellable,
                       GError       **error)
{
  const char *argv[] = { "/bin/sh", "-c", "echo shell", NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) local_error = NULL;
  int status;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     &out, NULL, &status, &local_error))
    return outcome (FALSE, local_error->message);
  if (!g_spawn_check_wait_status (status, &local_error))
    return outcome (FALSE, local_error->message);

  return outcome (TRUE, g_strstrip (out));
}

/* "(t)" bytes: allocates them and touches every page. */
GVariant *
ag_attack_allocate (GVariant      *args,
                    GCancellable  *cancellable,
                    GError       **error)
{
  guint64 size;
  guint8 *memory;

  g_variant_get (args, "(t)", &size);
  memory = g_malloc (size);
  for (guint64 i = 0; i < size; i += 4096)
    memory[i] = 1;
  g_free (memory);

  return outcome (TRUE, "allocated");
}

/* "(u)" milliseconds: spins for that much processor time. */
GVariant *
ag_attack_burn_cpu (GVariant      *args,
                    GCancellable  *cancellable,
                    GError       **error)
{
  struct timespec start, now;
  guint32 msec;
  volatile guint64 spins = 0;

  g_variant_get (args, "(u)", &msec);
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &start);
  do
    {
      for (int i = 0; i < 100000; i++)
        spins++;
      clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &now);
    }
  while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < msec);

  return outcome (TRUE, "spun");
}

/* "()": writes, where the reply goes, a pickle where a frame belongs. */
GVariant *
ag_attack_crafted_reply (GVariant      *args,
                         GCancellable  *cancellable,
                         GError       **error)
{
  /* A length the decoder must refuse, then pickle protocol 4 calling
   * os.system: what a pickle-trusting parent would run. */
  static const guint8 crafted[] = "\xff\xff\xff\x7f\x80\x04\x95\x1d\x00\x00\x00cos\nsystem\n(S'true'\ntR.";
  gboolean written = FALSE;

  /* Stdout goes to stderr: the replies go to a pipe of their own, which
   * the function finds among its descriptors, as an attacker would. */
  for (int fd = STDERR_FILENO + 1; fd < 256; fd++)
    {
      struct stat st;
      int flags = fcntl (fd, F_GETFL);

      if (flags < 0 || (flags & O_ACCMODE) != O_WRONLY ||
          fstat (fd, &st) < 0 || !S_ISFIFO (st.st_mode))
        continue;
      if (write (fd, crafted, sizeof crafted - 1) < 0)
        return errno_outcome ("write");
      written = TRUE;
    }

  return outcome (written, "written");
}

/* "(h)" a file, or "(v)" holding its handle: its size, read through the
 * descriptor. */
GVariant *
ag_attack_size_of_fd (GVariant      *args,
                      GCancellable  *cancellable,
                      GError       **error)
{
  char buffer[4096];
  guint64 size = 0;
  gssize n;
  int fd;

  if (g_variant_is_of_type (args, G_VARIANT_TYPE ("(v)")))
    {
      g_autoptr(GVariant) inner = NULL;

      g_variant_get (args, "(v)", &inner);
      fd = g_variant_get_handle (inner);
    }
  else
    g_variant_get (args, "(h)", &fd);
  while ((n = read (fd, buffer, sizeof buffer)) > 0)
    size += n;
  if (n < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "read: %s", g_strerror (errno));
      return NULL;
    }

  return g_variant_new_uint64 (size);
}
