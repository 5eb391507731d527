/* test-command-task.c: AgCommandTask's behaviour
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Commands are run through /bin/sh so that one line of shell says what the
 * child does; a child that must be found again (to kill it, or to check it
 * is gone) writes its pid to a file first.
 */

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "worker-test-util.h"

static AgCommandTask *
sh_task (const char *script)
{
  const char *argv[] = { "/bin/sh", "-c", script, NULL };

  return ag_command_task_new (argv);
}

/* Runs a shell script built from @format, with one %s for @path. */
static AgCommandTask *
sh_task_with_path (const char *format,
                   const char *path)
{
  g_autofree char *quoted = g_shell_quote (path);
  g_autofree char *script = g_strdup_printf (format, quoted);

  return sh_task (script);
}

/* The number at the start of what the command wrote to stdout. */
static int
stdout_pid (AgCommandTask *task)
{
  GBytes *bytes = ag_command_task_get_stdout (task);
  g_autofree char *text = NULL;

  g_assert_nonnull (bytes);
  text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  return atoi (text);
}

static void
assert_stdout_value (AgTestOutcome *outcome,
                     const char    *expected)
{
  GBytes *bytes;

  g_assert_no_error (outcome->error);
  g_assert_nonnull (outcome->value);
  g_assert_true (G_VALUE_HOLDS (outcome->value, G_TYPE_BYTES));
  bytes = g_value_get_boxed (outcome->value);
  g_assert_nonnull (bytes);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                   expected, strlen (expected));
}

static void
test_command_task_stdout_is_the_value (AgTestFixture *fixture,
                                       gconstpointer  data)
{
  g_autoptr(AgCommandTask) task = sh_task ("printf 'hello, world'; printf 'noise' >&2");
  AgTestOutcome outcome;

  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);

  assert_stdout_value (&outcome, "hello, world");
  g_assert_cmpint (ag_task_get_state (AG_TASK (task)), ==, AG_TASK_SUCCEEDED);
  g_assert_cmpint (ag_command_task_get_exit_status (task), ==, 0);
  g_assert_cmpmem (g_bytes_get_data (ag_command_task_get_stderr (task), NULL),
                   g_bytes_get_size (ag_command_task_get_stderr (task)), "noise", 5);
  g_assert_true (outcome.thread == ag_test_main_thread ());

  ag_test_outcome_clear (&outcome);
}

static void
test_command_task_runs_in_another_process (AgTestFixture *fixture,
                                           gconstpointer  data)
{
  g_autoptr(AgCommandTask) task = sh_task ("printf '%d' $$");
  g_autofree char *expected_not = g_strdup_printf ("%d", (int) getpid ());
  AgTestOutcome outcome;
  GBytes *bytes;
  g_autofree char *pid = NULL;

  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);

  g_assert_no_error (outcome.error);
  bytes = g_value_get_boxed (outcome.value);
  pid = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_assert_cmpint (atoi (pid), >, 0);
  g_assert_cmpstr (pid, !=, expected_not);

  ag_test_outcome_clear (&outcome);
}

static void
test_command_task_large_stdout_arrives_whole (AgTestFixture *fixture,
                                              gconstpointer  data)
{
  const char *argv[] = { "head", "-c", "8000000", "/dev/zero", NULL };
  g_autoptr(AgCommandTask) task = ag_command_task_new (argv);
  AgTestOutcome outcome;
  GBytes *bytes;

  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);

  g_assert_no_error (outcome.error);
  bytes = g_value_get_boxed (outcome.value);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 8000000);

  ag_test_outcome_clear (&outcome);
}

static void
test_command_task_nonzero_exit_names_status_and_stderr_tail (AgTestFixture *fixture,
                                                             gconstpointer  data)
{
  /* 2000 bytes of stderr before the last words: only the tail is quoted. */
  g_autoptr(AgCommandTask) task =
    sh_task ("i=0; while [ $i -lt 100 ]; do printf 'early noise %03d\\n' $i >&2; i=$((i+1)); done;"
             "printf 'partial output'; echo 'the last words' >&2; exit 7");
  AgTestOutcome outcome;

  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);

  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_COMMAND_FAILED);
  g_test_message ("message: %s", outcome.error->message);
  g_assert_nonnull (strstr (outcome.error->message, "7"));
  g_assert_nonnull (strstr (outcome.error->message, "the last words"));
  g_assert_null (strstr (outcome.error->message, "early noise 000"));
  g_assert_cmpuint (strlen (outcome.error->message), <, 1000);

  g_assert_cmpint (ag_task_get_state (AG_TASK (task)), ==, AG_TASK_FAILED);
  g_assert_cmpint (ag_command_task_get_exit_status (task), ==, 7);
  g_assert_cmpmem (g_bytes_get_data (ag_command_task_get_stdout (task), NULL),
                   g_bytes_get_size (ag_command_task_get_stdout (task)), "partial output", 14);
  g_assert_cmpuint (g_bytes_get_size (ag_command_task_get_stderr (task)), >, 1600);

  ag_test_outcome_clear (&outcome);
}

/* A command cancelled before it started is never started: a burst of
 * requests that a search box replaces at once spawns nothing. */
static void
test_command_task_cancelled_before_it_starts_spawns_nothing (AgTestFixture *fixture,
                                                             gconstpointer  data)
{
  g_autofree char *path = ag_test_tmp_path ("started");
  AgCommandTask *tasks[100];
  guint n_started;

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      tasks[i] = sh_task_with_path ("echo started >> '%s'", path);
      ag_engine_run_async (fixture->engine, AG_TASK (tasks[i]), NULL, NULL, NULL);
      ag_task_cancel (AG_TASK (tasks[i]));
    }
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (tasks[i])),
                         AG_TEST_SAFETY_MS);
      g_assert_cmpint (ag_task_get_state (AG_TASK (tasks[i])), ==, AG_TASK_CANCELLED);
      g_object_unref (tasks[i]);
    }
  ag_test_run_for (fixture->context, 300);

  n_started = ag_test_count_lines (path);
  g_test_message ("%u of %u cancelled commands started", n_started, (guint) G_N_ELEMENTS (tasks));
  /* Only those the process thread took before their cancel, if any. */
  g_assert_cmpuint (n_started, <, G_N_ELEMENTS (tasks) / 4);
  g_unlink (path);
}

static void
test_command_task_death_by_signal_names_the_signal (AgTestFixture *fixture,
                                                    gconstpointer  data)
{
  g_autoptr(AgCommandTask) task = sh_task ("echo 'about to go' >&2; kill -USR1 $$; sleep 5");
  g_autofree char *signal_number = g_strdup_printf ("%d", SIGUSR1);
  AgTestOutcome outcome;

  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);

  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_COMMAND_FAILED);
  g_test_message ("message: %s", outcome.error->message);
  g_assert_nonnull (strstr (outcome.error->message, "signal"));
  g_assert_nonnull (strstr (outcome.error->message, signal_number));
  g_assert_nonnull (strstr (outcome.error->message, "about to go"));
  g_assert_cmpint (ag_command_task_get_exit_status (task), ==, -1);

  ag_test_outcome_clear (&outcome);
}

static void
test_command_task_stdin_is_fed (AgTestFixture *fixture,
                                gconstpointer  data)
{
  const char *argv[] = { "cat", NULL };
  g_autoptr(AgCommandTask) small = ag_command_task_new (argv);
  g_autoptr(AgCommandTask) large = ag_command_task_new (argv);
  g_autoptr(GBytes) input = g_bytes_new_static ("fed through stdin\n", 18);
  g_autoptr(GBytes) large_input = NULL;
  guint8 *data_in = g_malloc (3 * 1024 * 1024);
  AgTestOutcome outcome;
  GBytes *bytes;

  ag_command_task_set_stdin (small, input);
  ag_test_run_task (fixture->engine, AG_TASK (small), &outcome);
  assert_stdout_value (&outcome, "fed through stdin\n");
  ag_test_outcome_clear (&outcome);

  /* More than any pipe buffer, so input and output must be interleaved. */
  for (gsize i = 0; i < 3 * 1024 * 1024; i++)
    data_in[i] = (guint8) (i * 7 + i / 4096);
  large_input = g_bytes_new_take (data_in, 3 * 1024 * 1024);
  ag_command_task_set_stdin (large, large_input);
  ag_test_run_task (fixture->engine, AG_TASK (large), &outcome);
  g_assert_no_error (outcome.error);
  bytes = g_value_get_boxed (outcome.value);
  g_assert_true (g_bytes_equal (bytes, large_input));
  ag_test_outcome_clear (&outcome);
}

static void
test_command_task_without_stdin_reads_end_of_file (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  const char *argv[] = { "cat", NULL };
  g_autoptr(AgCommandTask) task = ag_command_task_new (argv);
  AgTestOutcome outcome;

  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  assert_stdout_value (&outcome, "");
  ag_test_outcome_clear (&outcome);
}

static void
test_command_task_reading_part_of_large_stdin_still_succeeds (AgTestFixture *fixture,
                                                              gconstpointer  data)
{
  const char *argv[] = { "head", "-c", "10", NULL };
  g_autoptr(AgCommandTask) task = ag_command_task_new (argv);
  g_autoptr(GBytes) input = g_bytes_new_take (g_malloc0 (4 * 1024 * 1024), 4 * 1024 * 1024);
  AgTestOutcome outcome;

  /* The child reads ten bytes and exits 0 without the rest, as `head`
   * does: the write side sees a broken pipe, which must neither raise
   * SIGPIPE in the parent nor fail the task. */
  ag_command_task_set_stdin (task, input);
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);

  if (g_error_matches (outcome.error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
    ag_test_regression ("a command that exits 0 without reading all of its stdin fails with "
                       "G_IO_ERROR_BROKEN_PIPE instead of succeeding");
  else
    {
      GBytes *bytes;

      g_assert_no_error (outcome.error);
      bytes = g_value_get_boxed (outcome.value);
      g_assert_cmpuint (g_bytes_get_size (bytes), ==, 10);
      g_assert_cmpint (ag_command_task_get_exit_status (task), ==, 0);
    }

  ag_test_outcome_clear (&outcome);
}

static void
test_command_task_cwd_is_honoured (AgTestFixture *fixture,
                                   gconstpointer  data)
{
  const char *argv[] = { "pwd", "-P", NULL };
  g_autoptr(AgCommandTask) task = ag_command_task_new (argv);
  g_autofree char *dir = ag_test_tmp_path ("cwd");
  g_autofree char *real = NULL;
  g_autofree char *expected = NULL;
  AgTestOutcome outcome;

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  real = realpath (dir, NULL);
  expected = g_strconcat (real, "\n", NULL);

  ag_command_task_set_cwd (task, dir);
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  assert_stdout_value (&outcome, expected);
  ag_test_outcome_clear (&outcome);

  g_rmdir (dir);
}

static void
test_command_task_environ_is_the_whole_environment (AgTestFixture *fixture,
                                                    gconstpointer  data)
{
  const char *argv[] = { "/usr/bin/env", NULL };
  const char *env[] = { "AG_TEST_GREETING=hello there", "AG_TEST_EMPTY=", NULL };
  g_autoptr(AgCommandTask) task = ag_command_task_new (argv);
  AgTestOutcome outcome;

  g_assert_nonnull (g_getenv ("G_TEST_SRCDIR"));  /* set by meson; must not leak in */

  ag_command_task_set_environ (task, env);
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  assert_stdout_value (&outcome, "AG_TEST_GREETING=hello there\nAG_TEST_EMPTY=\n");
  ag_test_outcome_clear (&outcome);
}

static void
test_command_task_missing_program_fails_without_crashing (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  const char *argv[] = { "/nonexistent/asyncgui-no-such-program", NULL };
  g_autoptr(AgCommandTask) task = ag_command_task_new (argv);
  g_autoptr(AgCommandTask) next = sh_task ("printf fine");
  AgTestOutcome outcome;

  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  g_assert_nonnull (outcome.error);
  g_test_message ("message: %s", outcome.error->message);
  g_assert_nonnull (strstr (outcome.error->message, "asyncgui-no-such-program"));
  ag_test_outcome_clear (&outcome);

  ag_test_run_task (fixture->engine, AG_TASK (next), &outcome);
  assert_stdout_value (&outcome, "fine");
  ag_test_outcome_clear (&outcome);
}

static void
test_command_task_timeout_fails_with_timed_out_and_kills (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  /* exec: the pid printed is the sleep's. */
  g_autoptr(AgCommandTask) task = sh_task ("echo $$; exec sleep 30");
  AgTestOutcome outcome;
  gint64 start = g_get_monotonic_time ();
  double elapsed_ms;
  int pid;

  ag_command_task_set_timeout_ms (task, 200);
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  elapsed_ms = ag_test_elapsed_ms (start);

  g_test_message ("timed out after %.0f ms: %s", elapsed_ms,
                  outcome.error != NULL ? outcome.error->message : "(no error)");
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpfloat (elapsed_ms, >=, 190);
  g_assert_cmpfloat (elapsed_ms, <, 3000);

  pid = stdout_pid (task);
  g_assert_cmpint (pid, >, 0);
  g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 2000));
  g_assert_cmpuint (ag_test_count_zombie_children (), ==, 0);

  ag_test_outcome_clear (&outcome);
}

static void
test_command_task_engine_timeout_applies_when_the_task_sets_none (AgTestFixture *fixture,
                                                                 gconstpointer  data)
{
  g_autoptr(AgCommandTask) defaulted = sh_task ("exec sleep 30");
  g_autoptr(AgCommandTask) unlimited = sh_task ("sleep 0.5; echo done");
  AgTestOutcome outcome;
  gint64 start = g_get_monotonic_time ();
  double elapsed_ms;
  int timeout_ms = 0;

  g_object_get (defaulted, "timeout-ms", &timeout_ms, NULL);
  g_assert_cmpint (timeout_ms, ==, -1);
  g_assert_cmpint (ag_command_task_get_timeout_ms (defaulted), ==, -1);

  ag_worker_pool_set_timeout_ms (ag_engine_get_worker_pool (fixture->engine), 200);
  ag_test_run_task (fixture->engine, AG_TASK (defaulted), &outcome);
  elapsed_ms = ag_test_elapsed_ms (start);
  g_test_message ("timed out after %.0f ms: %s", elapsed_ms,
                  outcome.error != NULL ? outcome.error->message : "(no error)");
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (outcome.error->message, "200 ms"));
  g_assert_cmpfloat (elapsed_ms, >=, 190);
  g_assert_cmpfloat (elapsed_ms, <, 3000);
  ag_test_outcome_clear (&outcome);

  /* A task's own 0 is no limit, whatever the engine says. */
  g_object_set (unlimited, "timeout-ms", 0, NULL);
  ag_test_run_task (fixture->engine, AG_TASK (unlimited), &outcome);
  assert_stdout_value (&outcome, "done\n");
  ag_test_outcome_clear (&outcome);
}

static void
test_command_task_timeout_kills_a_child_that_ignores_sigterm (AgTestFixture *fixture,
                                                              gconstpointer  data)
{
  /* An ignored signal stays ignored across exec. */
  g_autoptr(AgCommandTask) task = sh_task ("trap '' TERM; echo $$; exec sleep 30");
  AgTestOutcome outcome;
  gint64 start = g_get_monotonic_time ();
  double elapsed_ms;
  int pid;

  ag_command_task_set_timeout_ms (task, 100);
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  elapsed_ms = ag_test_elapsed_ms (start);

  g_test_message ("ended after %.0f ms", elapsed_ms);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  /* 100 ms, then SIGTERM (ignored), then SIGKILL 500 ms later. */
  g_assert_cmpfloat (elapsed_ms, >=, 550);
  g_assert_cmpfloat (elapsed_ms, <, 4000);

  pid = stdout_pid (task);
  g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 2000));

  ag_test_outcome_clear (&outcome);
}

/* Runs the script (@format, with one %s for a file it writes the pid of
 * the process it started to), cancels it, and checks that this process
 * is gone within 3 s. */
static void
assert_cancel_stops_what_it_started (AgTestFixture *fixture,
                                     const char    *format)
{
  g_autofree char *pid_file = ag_test_tmp_path ("started-by-the-command.pid");
  g_autoptr(AgCommandTask) task = sh_task_with_path (format, pid_file);
  AgTestOutcome outcome;
  int child;
  gboolean gone;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (task), NULL, ag_test_outcome_callback, &outcome);
  child = ag_test_wait_pid_file (fixture->context, pid_file, AG_TEST_SAFETY_MS);
  ag_task_cancel (AG_TASK (task));
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  gone = ag_test_wait_pid_gone (fixture->context, child, 3000);
  if (!gone)
    kill (child, SIGKILL);
  g_assert_true (gone);
  ag_test_outcome_clear (&outcome);
  g_unlink (pid_file);
}

/* Cancelling a command stops what it started too: a shell script's
 * children go with it, as they do from a terminal's Ctrl-C. */
static void
test_command_task_cancel_stops_the_processes_the_command_started (AgTestFixture *fixture,
                                                                  gconstpointer  data)
{
  assert_cancel_stops_what_it_started (fixture, "sleep 30 & echo $! > %s; wait");
}

/* ... even when the command itself went at the SIGTERM: a child that
 * ignores SIGTERM gets SIGKILL. */
static void
test_command_task_cancel_kills_a_child_that_ignores_sigterm (AgTestFixture *fixture,
                                                             gconstpointer  data)
{
  assert_cancel_stops_what_it_started (fixture,
                                       "(trap '' TERM; exec sleep 30) & echo $! > %s; wait");
}

/* A timeout must end the task even when a grandchild the command started
 * still holds its stdout open: waiting for end of file would make the
 * timeout as long as the grandchild's life. */
static void
test_command_task_timeout_ends_task_though_grandchild_holds_stdout (AgTestFixture *fixture,
                                                                    gconstpointer  data)
{
  g_autofree char *pid_file = ag_test_tmp_path ("grandchild.pid");
  g_autoptr(AgCommandTask) task =
    sh_task_with_path ("sleep 4 & echo $! > %s; wait", pid_file);
  AgTestOutcome outcome;
  gint64 start = g_get_monotonic_time ();
  double elapsed_ms;
  int grandchild;

  ag_command_task_set_timeout_ms (task, 200);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (task), NULL, ag_test_outcome_callback, &outcome);
  grandchild = ag_test_wait_pid_file (fixture->context, pid_file, AG_TEST_SAFETY_MS);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  elapsed_ms = ag_test_elapsed_ms (start);

  /* The grandchild is ours to clean up, whatever happened. */
  kill (grandchild, SIGKILL);

  g_test_message ("ended after %.0f ms: %s", elapsed_ms,
                  outcome.error != NULL ? outcome.error->message : "(no error)");
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  if (elapsed_ms > 3000)
    ag_test_regression ("a timed-out command whose grandchild keeps stdout open ends only when "
                       "the grandchild does (the task waits for end of file)");

  ag_test_outcome_clear (&outcome);
}

static void
test_command_task_cancel_kills_it_and_leaves_no_zombie (AgTestFixture *fixture,
                                                        gconstpointer  data)
{
  g_autofree char *pid_file = ag_test_tmp_path ("cancel.pid");
  g_autoptr(AgCommandTask) task = sh_task_with_path ("echo $$ > %s; exec sleep 30", pid_file);
  AgTestOutcome outcome;
  gint64 start;
  int pid;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (task), NULL, ag_test_outcome_callback, &outcome);
  pid = ag_test_wait_pid_file (fixture->context, pid_file, AG_TEST_SAFETY_MS);
  g_assert_true (ag_test_pid_exists (pid));

  start = g_get_monotonic_time ();
  ag_task_cancel (AG_TASK (task));
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_test_message ("cancelled after %.1f ms", ag_test_elapsed_ms (start));

  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (ag_task_get_state (AG_TASK (task)), ==, AG_TASK_CANCELLED);
  g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 2000));
  g_assert_cmpuint (ag_test_count_zombie_children (), ==, 0);

  ag_test_outcome_clear (&outcome);
  g_unlink (pid_file);
}

static void
test_command_task_cancel_sends_sigkill_after_grace (AgTestFixture *fixture,
                                                    gconstpointer  data)
{
  g_autofree char *pid_file = ag_test_tmp_path ("stubborn.pid");
  g_autoptr(AgCommandTask) task =
    sh_task_with_path ("trap '' TERM; echo $$ > %s; exec sleep 30", pid_file);
  AgTestOutcome outcome;
  gint64 start;
  int pid;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (task), NULL, ag_test_outcome_callback, &outcome);
  pid = ag_test_wait_pid_file (fixture->context, pid_file, AG_TEST_SAFETY_MS);
  /* The trap is set before the pid is written; give exec a moment. */
  ag_test_run_for (fixture->context, 50);

  start = g_get_monotonic_time ();
  ag_task_cancel (AG_TASK (task));
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* Still there while SIGTERM is ignored... */
  ag_test_run_for (fixture->context, 200);
  g_assert_true (ag_test_pid_exists (pid));
  g_assert_cmpint (ag_test_pid_state (pid), !=, 'Z');
  /* ...gone once the grace period is over. */
  g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 3000));
  g_test_message ("gone %.0f ms after the cancel", ag_test_elapsed_ms (start));
  g_assert_cmpfloat (ag_test_elapsed_ms (start), >=, 450);
  g_assert_cmpuint (ag_test_count_zombie_children (), ==, 0);

  ag_test_outcome_clear (&outcome);
  g_unlink (pid_file);
}

static void
test_command_task_many_runs_leak_no_fd_and_no_process (AgTestFixture *fixture,
                                                       gconstpointer  data)
{
  guint fds;

  /* The first command starts the engine's process thread and GLib's
   * child-watch machinery, which stay: count after it. */
  {
    g_autoptr(AgCommandTask) warm_up = sh_task ("true");
    AgTestOutcome outcome;

    ag_test_run_task (fixture->engine, AG_TASK (warm_up), &outcome);
    g_assert_no_error (outcome.error);
    ag_test_outcome_clear (&outcome);
  }
  fds = ag_test_settled_fd_count (fixture->context);

  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(AgCommandTask) ok = sh_task ("printf ok");
      g_autoptr(AgCommandTask) failing = sh_task ("echo bad >&2; exit 1");
      AgTestOutcome outcome;

      ag_test_run_task (fixture->engine, AG_TASK (ok), &outcome);
      assert_stdout_value (&outcome, "ok");
      ag_test_outcome_clear (&outcome);

      ag_test_run_task (fixture->engine, AG_TASK (failing), &outcome);
      g_assert_error (outcome.error, AG_ERROR, AG_ERROR_COMMAND_FAILED);
      ag_test_outcome_clear (&outcome);
    }

  ag_test_assert_no_leaks (fixture->context, fds, 2000);
}

static void
test_command_task_disposing_engine_kills_running_commands (AgTestFixture *fixture,
                                                           gconstpointer  data)
{
  g_autofree char *pid_file = ag_test_tmp_path ("dispose.pid");
  g_autoptr(AgCommandTask) task = sh_task_with_path ("echo $$ > %s; exec sleep 30", pid_file);
  AgTestOutcome outcome;
  int pid;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (task), NULL, ag_test_outcome_callback, &outcome);
  pid = ag_test_wait_pid_file (fixture->context, pid_file, AG_TEST_SAFETY_MS);

  g_clear_object (&fixture->engine);

  g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 3000));
  ag_test_run_for (fixture->context, 50);
  g_assert_cmpuint (outcome.n_calls, ==, 0);
  g_assert_cmpuint (ag_test_count_zombie_children (), ==, 0);

  ag_test_outcome_clear (&outcome);
  g_unlink (pid_file);
}

/* The engine is disposed while the command runs, and the test lets go of
 * the task: the library's last reference to it must still be dropped on
 * the engine's thread, never by the process thread that learns of the
 * end. */
static void
test_command_task_outliving_its_engine_is_released_on_the_engines_thread (AgTestFixture *fixture,
                                                                          gconstpointer  data)
{
  g_autofree char *pid_file = ag_test_tmp_path ("outlive.pid");
  AgCommandTask *task = sh_task_with_path ("echo $$ > %s; exec sleep 30", pid_file);
  AgTestRelease release;
  AgTestOutcome outcome;
  int pid;

  ag_test_watch_release (G_OBJECT (task), &release);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (task), NULL, ag_test_outcome_callback, &outcome);
  pid = ag_test_wait_pid_file (fixture->context, pid_file, AG_TEST_SAFETY_MS);

  /* From here on only the library holds the task. */
  g_object_unref (task);
  g_clear_object (&fixture->engine);

  ag_test_run_until (fixture->context, g_atomic_int_get (&release.released), AG_TEST_SAFETY_MS);
  g_assert_true (release.thread == ag_test_main_thread ());
  g_assert_cmpuint (outcome.n_calls, ==, 0);
  g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 3000));

  ag_test_outcome_clear (&outcome);
  g_unlink (pid_file);
}

static void
test_command_task_setters_refuse_a_running_task (AgTestFixture *fixture,
                                                 gconstpointer  data)
{
  g_autoptr(AgCommandTask) task = sh_task ("sleep 0.2");
  AgTestOutcome outcome;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (task), NULL, ag_test_outcome_callback, &outcome);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*can no longer be changed*");
  ag_command_task_set_timeout_ms (task, 1);
  g_test_assert_expected_messages ();

  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);
  ag_test_outcome_clear (&outcome);
}

/* g_object_new() (a binding's default constructor) makes a task with no
 * a command: running it fails with an error that says how to make one. */
static void
test_command_task_made_without_a_command_fails_when_run (AgTestFixture *fixture,
                                                         gconstpointer  data)
{
  ag_test_assert_bare_task_fails (fixture, AG_TYPE_COMMAND_TASK, "ag_command_task_new");
}

int
main (int   argc,
      char *argv[])
{
  int status;

  ag_test_init (&argc, &argv);

  ag_test_add ("/command-task/made-without-a-command-fails-when-run",
               test_command_task_made_without_a_command_fails_when_run);
  ag_test_add ("/command-task/stdout-is-the-value",
               test_command_task_stdout_is_the_value);
  ag_test_add ("/command-task/runs-in-another-process",
               test_command_task_runs_in_another_process);
  ag_test_add ("/command-task/large-stdout-arrives-whole",
               test_command_task_large_stdout_arrives_whole);
  ag_test_add ("/command-task/nonzero-exit-names-status-and-stderr-tail",
               test_command_task_nonzero_exit_names_status_and_stderr_tail);
  ag_test_add ("/command-task/death-by-signal-names-the-signal",
               test_command_task_death_by_signal_names_the_signal);
  ag_test_add ("/command-task/stdin-is-fed",
               test_command_task_stdin_is_fed);
  ag_test_add ("/command-task/without-stdin-reads-end-of-file",
               test_command_task_without_stdin_reads_end_of_file);
  ag_test_add ("/command-task/reading-part-of-large-stdin-still-succeeds",
               test_command_task_reading_part_of_large_stdin_still_succeeds);
  ag_test_add ("/command-task/cwd-is-honoured",
               test_command_task_cwd_is_honoured);
  ag_test_add ("/command-task/environ-is-the-whole-environment",
               test_command_task_environ_is_the_whole_environment);
  ag_test_add ("/command-task/missing-program-fails-without-crashing",
               test_command_task_missing_program_fails_without_crashing);
  ag_test_add ("/command-task/timeout-fails-with-timed-out-and-kills",
               test_command_task_timeout_fails_with_timed_out_and_kills);
  ag_test_add ("/command-task/engine-timeout-applies-when-the-task-sets-none",
               test_command_task_engine_timeout_applies_when_the_task_sets_none);
  ag_test_add ("/command-task/timeout-kills-a-child-that-ignores-sigterm",
               test_command_task_timeout_kills_a_child_that_ignores_sigterm);
  ag_test_add ("/command-task/timeout-ends-task-though-grandchild-holds-stdout",
               test_command_task_timeout_ends_task_though_grandchild_holds_stdout);
  ag_test_add ("/command-task/cancelled-before-it-starts-spawns-nothing",
               test_command_task_cancelled_before_it_starts_spawns_nothing);
  ag_test_add ("/command-task/cancel-stops-the-processes-the-command-started",
               test_command_task_cancel_stops_the_processes_the_command_started);
  ag_test_add ("/command-task/cancel-kills-a-child-that-ignores-sigterm",
               test_command_task_cancel_kills_a_child_that_ignores_sigterm);
  ag_test_add ("/command-task/cancel-kills-it-and-leaves-no-zombie",
               test_command_task_cancel_kills_it_and_leaves_no_zombie);
  ag_test_add ("/command-task/cancel-sends-sigkill-after-grace",
               test_command_task_cancel_sends_sigkill_after_grace);
  ag_test_add ("/command-task/many-runs-leak-no-fd-and-no-process",
               test_command_task_many_runs_leak_no_fd_and_no_process);
  ag_test_add ("/command-task/disposing-engine-kills-running-commands",
               test_command_task_disposing_engine_kills_running_commands);
  ag_test_add ("/command-task/outliving-its-engine-is-released-on-the-engines-thread",
               test_command_task_outliving_its_engine_is_released_on_the_engines_thread);
  ag_test_add ("/command-task/setters-refuse-a-running-task",
               test_command_task_setters_refuse_a_running_task);

  status = g_test_run ();
  ag_test_tmpdir_cleanup ();

  return status;
}
