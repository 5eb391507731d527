/* worker-module.c: functions for the C worker to call in the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Loaded by asyncgui-worker in a child process. Every function has the
 * worker's signature and returns a floating reference, as
 * g_variant_new*() do.
 */

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <gio/gio.h>
#include <gmodule.h>

/* Exported for g_module_symbol(); declared first for -Wmissing-prototypes. */
#define AG_TEST_WORKER_FUNC(name) \
  G_MODULE_EXPORT GVariant *name (GVariant *args, GCancellable *cancellable, GError **error)

AG_TEST_WORKER_FUNC (ag_test_echo);
AG_TEST_WORKER_FUNC (ag_test_getpid);
AG_TEST_WORKER_FUNC (ag_test_fail);
AG_TEST_WORKER_FUNC (ag_test_sleep);
AG_TEST_WORKER_FUNC (ag_test_pid_to_file_then_sleep);
AG_TEST_WORKER_FUNC (ag_test_make_bytes);
AG_TEST_WORKER_FUNC (ag_test_exit);
AG_TEST_WORKER_FUNC (ag_test_fork_then_exit);
AG_TEST_WORKER_FUNC (ag_test_nothing);
AG_TEST_WORKER_FUNC (ag_test_hang);
AG_TEST_WORKER_FUNC (ag_test_close_stdin);
AG_TEST_WORKER_FUNC (ag_test_print_then_echo);
AG_TEST_WORKER_FUNC (ag_test_nest);

/* The arguments, unchanged: a copy, so that the worker owns one floating
 * reference as with any other result. */
GVariant *
ag_test_echo (GVariant      *args,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autoptr(GBytes) data = g_variant_get_data_as_bytes (args);

  return g_variant_new_from_bytes (g_variant_get_type (args), data, TRUE);
}

/* "(u)" levels: an int32 inside that many variants. */
GVariant *
ag_test_nest (GVariant      *args,
              GCancellable  *cancellable,
              GError       **error)
{
  GVariant *value = g_variant_new_int32 (1);
  guint32 levels;

  g_variant_get (args, "(u)", &levels);
  for (guint32 i = 0; i < levels; i++)
    value = g_variant_new_variant (value);

  return value;
}

/* Writes to stdout, with and without a newline, then returns the
 * arguments: what a function prints must not reach the reply pipe. */
GVariant *
ag_test_print_then_echo (GVariant      *args,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_print ("printed by the worker\n");
  printf ("and left in stdio's buffer");
  return ag_test_echo (args, cancellable, error);
}

/* "i": the worker's process id. */
GVariant *
ag_test_getpid (GVariant      *args,
                GCancellable  *cancellable,
                GError       **error)
{
  return g_variant_new_int32 (getpid ());
}

/* "i": closes the worker's stdin, as a careless function may, and
 * answers with the worker's process id. */
GVariant *
ag_test_close_stdin (GVariant      *args,
                     GCancellable  *cancellable,
                     GError       **error)
{
  close (STDIN_FILENO);
  return g_variant_new_int32 (getpid ());
}

/* "(sis)" domain, code, message: fails with exactly that error. */
GVariant *
ag_test_fail (GVariant      *args,
              GCancellable  *cancellable,
              GError       **error)
{
  const char *domain, *message;
  gint32 code;

  g_variant_get (args, "(&si&s)", &domain, &code, &message);
  g_set_error_literal (error, g_quark_from_string (domain), code, message);

  return NULL;
}

/* "u" milliseconds: sleeps, then returns the process id "i". */
GVariant *
ag_test_sleep (GVariant      *args,
               GCancellable  *cancellable,
               GError       **error)
{
  g_usleep (g_variant_get_uint32 (args) * G_TIME_SPAN_MILLISECOND);

  return g_variant_new_int32 (getpid ());
}

/* "(su)" path, milliseconds: writes the process id to the file (atomically,
 * so a test that sees the file sees the whole pid), then sleeps. Lets a test
 * kill the worker in the middle of a call. */
GVariant *
ag_test_pid_to_file_then_sleep (GVariant      *args,
                                GCancellable  *cancellable,
                                GError       **error)
{
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  const char *path;
  guint32 msec;

  g_variant_get (args, "(&su)", &path, &msec);
  if (!g_file_set_contents (path, pid, -1, error))
    return NULL;

  g_usleep (msec * G_TIME_SPAN_MILLISECOND);

  return g_variant_new_int32 (getpid ());
}

/* "(su)" path, milliseconds: forks a child that keeps the worker's
 * descriptors but stdin, stdout and stderr (so it holds the reply pipe,
 * not the test's output) for that long, writes the child's pid to the
 * file, and exits with status 3 in the middle of the call. */
GVariant *
ag_test_fork_then_exit (GVariant      *args,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_autofree char *pid = NULL;
  const char *path;
  guint32 msec;
  pid_t child;

  g_variant_get (args, "(&su)", &path, &msec);
  child = fork ();
  if (child == 0)
    {
      int null = open ("/dev/null", O_RDWR);

      dup2 (null, 0);
      dup2 (null, 1);
      dup2 (null, 2);
      g_usleep (msec * G_TIME_SPAN_MILLISECOND);
      _exit (0);
    }

  pid = g_strdup_printf ("%d", (int) child);
  g_file_set_contents (path, pid, -1, NULL);
  _exit (3);
}

/* "u" size: that many bytes "ay", byte i being (i * 31 + 7) mod 256. */
GVariant *
ag_test_make_bytes (GVariant      *args,
                    GCancellable  *cancellable,
                    GError       **error)
{
  guint32 size = g_variant_get_uint32 (args);
  guint8 *data = g_malloc (size);

  for (guint32 i = 0; i < size; i++)
    data[i] = (guint8) (i * 31 + 7);

  return g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, data, size, TRUE, g_free, data);
}

/* "i" status: the worker exits in the middle of the call. */
GVariant *
ag_test_exit (GVariant      *args,
              GCancellable  *cancellable,
              GError       **error)
{
  _exit (g_variant_get_int32 (args));
}

/* Neither a value nor an error. */
GVariant *
ag_test_nothing (GVariant      *args,
                 GCancellable  *cancellable,
                 GError       **error)
{
  return NULL;
}

/* Never returns: a function stuck for good, which only a kill ends. */
GVariant *
ag_test_hang (GVariant      *args,
              GCancellable  *cancellable,
              GError       **error)
{
  for (;;)
    pause ();
}
