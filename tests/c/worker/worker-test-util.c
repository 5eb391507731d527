/* worker-test-util.c: what the process tests share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "worker-test-util.h"

static char *tmpdir;

gboolean
ag_test_pid_exists (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d", pid);

  return pid > 0 && g_file_test (path, G_FILE_TEST_EXISTS);
}

/* The fields after the command name, which may itself hold spaces and
 * parentheses: everything after the last ')'. */
static const char *
stat_fields (const char *contents)
{
  const char *paren = strrchr (contents, ')');

  return paren != NULL && paren[1] == ' ' ? paren + 2 : NULL;
}

char
ag_test_pid_state (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *contents = NULL;
  const char *fields;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;
  fields = stat_fields (contents);

  return fields != NULL ? fields[0] : 0;
}

gboolean
ag_test_wait_pid_gone (GMainContext *context,
                       int           pid,
                       guint         timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  while (ag_test_pid_exists (pid))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (context, FALSE);
      g_usleep (2 * G_TIME_SPAN_MILLISECOND);
    }

  return TRUE;
}

guint
ag_test_count_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;

  /* Less the one g_dir_open() holds. */
  return n - 1;
}

guint
ag_test_count_zombie_children (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc", 0, NULL);
  const char *name;
  int self = getpid ();
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *contents = NULL;
      const char *fields;
      char state;
      int ppid;

      if (!g_ascii_isdigit (name[0]))
        continue;

      path = g_build_filename ("/proc", name, "stat", NULL);
      if (!g_file_get_contents (path, &contents, NULL, NULL))
        continue;  /* gone meanwhile */

      fields = stat_fields (contents);
      if (fields == NULL || sscanf (fields, "%c %d", &state, &ppid) != 2)
        continue;

      if (ppid == self && state == 'Z')
        {
          g_test_message ("zombie child: %s", contents);
          n++;
        }
    }

  return n;
}

void
ag_test_assert_no_leaks (GMainContext *context,
                         guint         expected_fds,
                         guint         timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  while ((ag_test_count_fds () != expected_fds || ag_test_count_zombie_children () > 0)
         && g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (context, FALSE);
      g_usleep (5 * G_TIME_SPAN_MILLISECOND);
    }

  g_assert_cmpuint (ag_test_count_zombie_children (), ==, 0);
  g_assert_cmpuint (ag_test_count_fds (), ==, expected_fds);
}

void
ag_test_assert_no_zombies (GMainContext *context,
                           guint         timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  while (ag_test_count_zombie_children () > 0 && g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (context, FALSE);
      g_usleep (5 * G_TIME_SPAN_MILLISECOND);
    }

  g_assert_cmpuint (ag_test_count_zombie_children (), ==, 0);
}

guint
ag_test_settled_fd_count (GMainContext *context)
{
  gint64 deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  gint64 stable_since = g_get_monotonic_time ();
  guint n = ag_test_count_fds ();

  while (g_get_monotonic_time () - stable_since < 200 * G_TIME_SPAN_MILLISECOND
         && g_get_monotonic_time () < deadline)
    {
      guint now;

      g_main_context_iteration (context, FALSE);
      g_usleep (5 * G_TIME_SPAN_MILLISECOND);
      now = ag_test_count_fds ();
      if (now != n)
        {
          n = now;
          stable_since = g_get_monotonic_time ();
        }
    }

  return n;
}

static gboolean
read_pid_file (const char *path,
               int        *pid)
{
  g_autofree char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;

  *pid = atoi (contents);
  return *pid > 0;
}

int
ag_test_wait_pid_file (GMainContext *context,
                       const char   *path,
                       guint         timeout_ms)
{
  int pid = 0;

  ag_test_run_until (context, read_pid_file (path, &pid), timeout_ms);

  return pid;
}

guint
ag_test_count_lines (const char *path)
{
  g_autofree char *text = NULL;
  guint n = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  for (const char *c = text; *c != '\0'; c++)
    n += *c == '\n';

  return n;
}

char *
ag_test_tmp_path (const char *name)
{
  if (tmpdir == NULL)
    {
      g_autoptr(GError) error = NULL;

      tmpdir = g_dir_make_tmp ("asyncgui-test-XXXXXX", &error);
      g_assert_no_error (error);
    }

  return g_build_filename (tmpdir, name, NULL);
}

void
ag_test_tmpdir_cleanup (void)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (tmpdir == NULL)
    return;

  dir = g_dir_open (tmpdir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tmpdir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

void
ag_test_regression (const char *what)
{
  g_test_message ("regression: %s", what);
  g_test_fail ();
}

void
ag_test_run_task (AgEngine      *engine,
                  AgTask        *task,
                  AgTestOutcome *outcome)
{
  ag_test_outcome_init (outcome, engine);
  ag_engine_run_async (engine, task, NULL, ag_test_outcome_callback, outcome);
  ag_test_run_until (ag_engine_get_context (engine), outcome->n_calls > 0,
                     AG_TEST_SAFETY_MS);
}

static void
note_release (gpointer data)
{
  AgTestRelease *release = data;

  release->thread = g_thread_self ();
  g_atomic_int_set (&release->released, TRUE);
}

void
ag_test_watch_release (GObject       *object,
                       AgTestRelease *release)
{
  release->thread = NULL;
  release->released = FALSE;
  g_object_set_data_full (object, "ag-test-release", release, note_release);
}
