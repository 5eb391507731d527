/* test-worker-task.c: AgWorkerTask's behaviour, and the worker pool's
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The C worker (asyncgui-worker, found next to the library in the build tree) runs
 * the functions of worker-module.c. Protocol violations come from
 * fake-worker.c, installed in its place with ag_worker_pool_set_command().
 * A call that must be interrupted uses ag_test_pid_to_file_then_sleep, so
 * that the test knows the worker's pid while the call is in progress.
 */

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <glib/gstdio.h>

#include "worker-test-util.h"

#define WORKER_TEST_ERROR (g_quark_from_static_string ("asyncgui-test-worker-error"))

static AgWorkerTask *
module_task (const char *symbol,
             GVariant   *args)
{
  return ag_worker_task_new_c (AG_TEST_WORKER_MODULE_PATH, symbol, args);
}

/* How long a call that is killed would otherwise sleep. Its failure must
 * come from the worker's end, long before the sleep could have: within a
 * tenth of it, a bound no loaded machine or sanitizer comes near (the
 * measured latency, logged, is a few milliseconds). */
#define KILLED_SLEEP_MS 10000
#define KILL_NOTICED_MS (KILLED_SLEEP_MS / 10)

/* A call that writes its worker's pid to @path, then sleeps @msec. */
static AgWorkerTask *
pid_then_sleep_task (const char *path,
                     guint       msec)
{
  return module_task ("ag_test_pid_to_file_then_sleep", g_variant_new ("(su)", path, msec));
}

static GVariant *
outcome_variant (AgTestOutcome *outcome)
{
  g_assert_no_error (outcome->error);
  g_assert_nonnull (outcome->value);
  g_assert_true (G_VALUE_HOLDS_VARIANT (outcome->value));

  return g_value_get_variant (outcome->value);
}

static int
outcome_int32 (AgTestOutcome *outcome)
{
  GVariant *value = outcome_variant (outcome);

  g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32));
  return g_variant_get_int32 (value);
}

/* Runs @symbol, a test function that answers with the pid of the worker
 * running it, on @engine, and returns that pid. Takes @args. */
static int
run_for_pid (AgEngine   *engine,
             const char *symbol,
             GVariant   *args)
{
  g_autoptr(AgWorkerTask) task = module_task (symbol, args);
  AgTestOutcome outcome;
  int pid;

  ag_test_run_task (engine, AG_TASK (task), &outcome);
  pid = outcome_int32 (&outcome);
  g_assert_cmpint (pid, ==, ag_worker_task_get_worker_pid (task));
  ag_test_outcome_clear (&outcome);

  return pid;
}

/* Runs ag_test_getpid on @engine and returns the worker's pid. */
static int
run_getpid (AgEngine *engine)
{
  return run_for_pid (engine, "ag_test_getpid", NULL);
}

/* Values */

static void
test_worker_task_runs_in_another_process (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  g_autoptr(AgWorkerTask) task = module_task ("ag_test_getpid", NULL);
  AgTestOutcome outcome;
  int pid;

  g_assert_cmpint (ag_worker_task_get_worker_pid (task), ==, 0);

  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  pid = outcome_int32 (&outcome);

  g_assert_cmpint (pid, >, 0);
  g_assert_cmpint (pid, !=, getpid ());
  g_assert_cmpint (ag_worker_task_get_worker_pid (task), ==, pid);
  g_assert_true (outcome.thread == ag_test_main_thread ());
  g_assert_cmpint (ag_task_get_state (AG_TASK (task)), ==, AG_TASK_SUCCEEDED);
  g_assert_null (ag_worker_task_get_error_data (task));

  ag_test_outcome_clear (&outcome);
}

static void
test_worker_task_warm_worker_serves_the_next_call (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  int first = run_getpid (fixture->engine);
  int second = run_getpid (fixture->engine);

  g_assert_cmpint (first, ==, second);
}

static void
test_worker_task_values_round_trip (AgTestFixture *fixture,
                                    gconstpointer  data)
{
  const char *texts[] = {
    "42",
    "int64 -9223372036854775808",
    "uint64 18446744073709551615",
    "3.25",
    "true",
    "'a string with “quotes” and an emoji 🦆'",
    "''",
    "()",
    "(1, 'two', [3, 4], (5.0, ('six', [(7, 'seven')])))",
    "@a(is) []",
    "{'one': <1>, 'nested': <{'deeper': <[byte 0x01, 0x02]>}>}",
    "[@ms 'maybe', nothing]",
    "<<<'variant in variant in variant'>>>",
    "objectpath '/org/gnome/Test'",
    "[[[[[[[[[[1]]]]]]]]]]",
  };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) args = g_variant_parse (NULL, texts[i], NULL, NULL, &error);
      g_autoptr(AgWorkerTask) task = NULL;
      g_autofree char *got = NULL;
      AgTestOutcome outcome;
      GVariant *value;

      g_assert_no_error (error);
      task = module_task ("ag_test_echo", args);
      ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
      value = outcome_variant (&outcome);

      got = g_variant_print (value, TRUE);
      g_test_message ("%s → %s", texts[i], got);
      g_assert_cmpstr (g_variant_get_type_string (value), ==, g_variant_get_type_string (args));
      g_assert_true (g_variant_equal (value, args));

      ag_test_outcome_clear (&outcome);
    }
}

static void
test_worker_task_large_payloads_round_trip (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  const gsize size = 6 * 1024 * 1024 + 3;
  guint8 *bytes = g_malloc (size);
  g_autoptr(GVariant) args = NULL;
  g_autoptr(AgWorkerTask) echo = NULL;
  g_autoptr(AgWorkerTask) make = NULL;
  AgTestOutcome outcome;
  GVariant *value;
  const guint8 *made;
  gsize n_made;

  for (gsize i = 0; i < size; i++)
    bytes[i] = (guint8) (i ^ (i >> 8));
  args = g_variant_ref_sink (g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, bytes, size,
                                                      TRUE, g_free, bytes));

  /* Both ways: a large argument and a large result. */
  echo = module_task ("ag_test_echo", args);
  ag_test_run_task (fixture->engine, AG_TASK (echo), &outcome);
  value = outcome_variant (&outcome);
  g_assert_true (g_variant_equal (value, args));
  ag_test_outcome_clear (&outcome);

  make = module_task ("ag_test_make_bytes", g_variant_new_uint32 (12 * 1024 * 1024));
  ag_test_run_task (fixture->engine, AG_TASK (make), &outcome);
  value = outcome_variant (&outcome);
  made = g_variant_get_fixed_array (value, &n_made, 1);
  g_assert_cmpuint (n_made, ==, 12 * 1024 * 1024);
  for (gsize i = 0; i < n_made; i++)
    if (made[i] != (guint8) (i * 31 + 7))
      g_assert_cmpuint (i, ==, G_MAXSIZE);  /* reports the first wrong byte */
  ag_test_outcome_clear (&outcome);
}

/* A result above the frame limit cannot be sent. The call must fail (the
 * worker may say so, or be replaced) rather than wait for ever. */
static void
test_worker_task_result_above_frame_limit_fails (AgTestFixture *fixture,
                                                 gconstpointer  data)
{
  g_autoptr(AgWorkerTask) task =
    module_task ("ag_test_make_bytes", g_variant_new_uint32 (65 * 1024 * 1024));
  AgTestOutcome outcome;
  gint64 start = g_get_monotonic_time ();

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (task), NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_until (fixture->context,
                     outcome.n_calls > 0 || ag_test_elapsed_ms (start) > 5000,
                     AG_TEST_SAFETY_MS);

  if (outcome.n_calls == 0)
    {
      ag_task_cancel (AG_TASK (task));
      ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
      ag_test_regression ("a worker result above 64 MiB is never sent and the call waits for "
                         "ever (asyncgui-worker writes a NULL frame)");
    }
  else
    {
      g_test_message ("message: %s", outcome.error != NULL ? outcome.error->message : "(none)");
      g_assert_nonnull (outcome.error);
    }

  ag_test_outcome_clear (&outcome);
}

/* Arguments above the frame limit cannot be sent either; run in a
 * subprocess, since the failure may be a critical on the process thread. */
static void
test_worker_task_arguments_above_frame_limit_fail (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(AgEngine) engine = ag_engine_new_for_context (g_main_context_default ());
      gsize size = 65 * 1024 * 1024;
      gpointer data = g_malloc0 (size);
      /* The notify gets user_data, so the buffer goes there too. */
      g_autoptr(AgWorkerTask) task =
        module_task ("ag_test_echo",
                     g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, data, size,
                                              TRUE, g_free, data));
      AgTestOutcome outcome;

      ag_test_run_task (engine, AG_TASK (task), &outcome);
      g_assert_nonnull (outcome.error);
      g_printerr ("failed: %s\n", outcome.error->message);
      ag_test_outcome_clear (&outcome);
      return;
    }

  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  if (!g_test_trap_has_passed ())
    ag_test_regression ("arguments above 64 MiB make _ag_frame_encode() return NULL and "
                       "send_call() use it (critical, then a crash) instead of failing the call");
}

/* A value inside @levels variants; a floating reference. */
static GVariant *
nested_value (guint levels)
{
  GVariant *value = g_variant_new_int32 (1);

  for (guint i = 0; i < levels; i++)
    value = g_variant_new_variant (value);

  return value;
}

/* GVariant reads nothing nested deeper than this many levels (its
 * G_VARIANT_MAX_RECURSION_DEPTH, which is not public). */
#define GVARIANT_MAX_DEPTH 128

/* Arguments nested too deep to be read cannot reach the worker: the call
 * fails before anything is sent, and the worker stays. */
static void
test_worker_task_arguments_nested_too_deep_fail_the_call_alone (AgTestFixture *fixture,
                                                                 gconstpointer  data)
{
  int pid = run_getpid (fixture->engine);
  g_autoptr(AgWorkerTask) deep = module_task ("ag_test_echo", nested_value (GVARIANT_MAX_DEPTH));
  g_autoptr(GVariant) expected = g_variant_ref_sink (nested_value (100));
  g_autoptr(AgWorkerTask) shallower = module_task ("ag_test_echo", expected);
  AgTestOutcome outcome;

  ag_test_run_task (fixture->engine, AG_TASK (deep), &outcome);
  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_FAILED);
  g_assert_nonnull (strstr (outcome.error->message, "nested"));
  ag_test_outcome_clear (&outcome);

  ag_test_run_task (fixture->engine, AG_TASK (shallower), &outcome);
  g_assert_true (g_variant_equal (outcome_variant (&outcome), expected));
  ag_test_outcome_clear (&outcome);
  g_assert_cmpint (run_getpid (fixture->engine), ==, pid);
}

/* Nor can such a result come back: the worker answers with an error. */
static void
test_worker_task_result_nested_too_deep_fails_the_call_alone (AgTestFixture *fixture,
                                                              gconstpointer  data)
{
  int pid = run_getpid (fixture->engine);
  g_autoptr(AgWorkerTask) deep =
    module_task ("ag_test_nest", g_variant_new ("(u)", GVARIANT_MAX_DEPTH));
  AgTestOutcome outcome;

  ag_test_run_task (fixture->engine, AG_TASK (deep), &outcome);
  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_FAILED);
  g_assert_nonnull (strstr (outcome.error->message, "nested"));
  ag_test_outcome_clear (&outcome);
  g_assert_cmpint (run_getpid (fixture->engine), ==, pid);
}

static void
test_worker_task_function_without_value_gives_unit (AgTestFixture *fixture,
                                                    gconstpointer  data)
{
  g_autoptr(AgWorkerTask) task = module_task ("ag_test_nothing", NULL);
  AgTestOutcome outcome;

  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  g_assert_true (g_variant_is_of_type (outcome_variant (&outcome), G_VARIANT_TYPE_UNIT));
  ag_test_outcome_clear (&outcome);
}

/* Errors */

/* GLib and GIO make their error domains' quarks the first time something
 * asks for them: a worker's error in such a domain keeps it all the same,
 * though this test never asked for it before. */
static void
test_worker_task_gerror_in_a_glib_domain_this_process_never_used_keeps_it (AgTestFixture *fixture,
                                                                            gconstpointer  data)
{
  const char *domains[] = { "g-resolver-error-quark", "g-tls-error-quark",
                            "g-markup-error-quark" };

  for (guint i = 0; i < G_N_ELEMENTS (domains); i++)
    {
      g_autoptr(AgWorkerTask) task = NULL;
      AgTestOutcome outcome;

      task = module_task ("ag_test_fail", g_variant_new ("(sis)", domains[i], 1, "from a worker"));
      ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);

      g_assert_nonnull (outcome.error);
      g_assert_cmpstr (g_quark_to_string (outcome.error->domain), ==, domains[i]);
      g_assert_cmpint (outcome.error->code, ==, 1);
      g_assert_cmpstr (outcome.error->message, ==, "from a worker");
      ag_test_outcome_clear (&outcome);
    }
  g_assert_true (g_quark_try_string ("g-resolver-error-quark") == G_RESOLVER_ERROR);
}

static void
test_worker_task_gerror_keeps_domain_code_and_message (AgTestFixture *fixture,
                                                       gconstpointer  data)
{
  struct
  {
    GQuark      domain;
    int         code;
    const char *message;
  } errors[] = {
    { G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "no way in: “/secret”" },
    { WORKER_TEST_ERROR, 77, "a domain only this test knows" },
    { G_FILE_ERROR, G_FILE_ERROR_NOENT, "" },
  };
  int pid = 0;

  for (guint i = 0; i < G_N_ELEMENTS (errors); i++)
    {
      g_autoptr(AgWorkerTask) task =
        module_task ("ag_test_fail", g_variant_new ("(sis)", g_quark_to_string (errors[i].domain),
                                                    errors[i].code, errors[i].message));
      AgTestOutcome outcome;

      ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);

      g_assert_error (outcome.error, errors[i].domain, errors[i].code);
      g_assert_cmpstr (outcome.error->message, ==, errors[i].message);
      g_assert_cmpint (ag_task_get_state (AG_TASK (task)), ==, AG_TASK_FAILED);
      g_assert_true (g_error_matches (ag_task_get_error (AG_TASK (task)),
                                      errors[i].domain, errors[i].code));
      /* A function's error is an ordinary outcome: the worker stays. */
      if (pid != 0)
        g_assert_cmpint (ag_worker_task_get_worker_pid (task), ==, pid);
      pid = ag_worker_task_get_worker_pid (task);

      ag_test_outcome_clear (&outcome);
    }
}

static void
test_worker_task_unknown_module_or_symbol_fails_clearly (AgTestFixture *fixture,
                                                         gconstpointer  data)
{
  g_autoptr(AgWorkerTask) no_module =
    ag_worker_task_new_c ("/nonexistent/libasyncgui-nope.so", "ag_test_getpid", NULL);
  g_autoptr(AgWorkerTask) no_symbol = module_task ("ag_test_no_such_function", NULL);
  AgTestOutcome outcome;

  ag_test_run_task (fixture->engine, AG_TASK (no_module), &outcome);
  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_FAILED);
  g_test_message ("message: %s", outcome.error->message);
  g_assert_nonnull (strstr (outcome.error->message, "/nonexistent/libasyncgui-nope.so"));
  ag_test_outcome_clear (&outcome);

  ag_test_run_task (fixture->engine, AG_TASK (no_symbol), &outcome);
  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_FAILED);
  g_test_message ("message: %s", outcome.error->message);
  g_assert_nonnull (strstr (outcome.error->message, "ag_test_no_such_function"));
  ag_test_outcome_clear (&outcome);

  /* The worker is still good. */
  g_assert_cmpint (run_getpid (fixture->engine), ==, ag_worker_task_get_worker_pid (no_symbol));
}

static void
test_worker_task_missing_worker_program_fails_the_call (AgTestFixture *fixture,
                                                        gconstpointer  data)
{
  const char *argv[] = { "/nonexistent/asyncgui-no-such-worker", NULL };
  g_autoptr(AgWorkerTask) task = module_task ("ag_test_getpid", NULL);
  AgTestOutcome outcome;

  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, argv);
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  g_assert_error (outcome.error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT);
  g_test_message ("message: %s", outcome.error->message);
  g_assert_nonnull (strstr (outcome.error->message, argv[0]));
  g_assert_cmpint (ag_worker_task_get_worker_pid (task), ==, 0);
  ag_test_outcome_clear (&outcome);

  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, NULL);
  g_assert_cmpint (run_getpid (fixture->engine), >, 0);
}

static void
test_worker_task_worker_program_not_in_path_is_named (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  const char *argv[] = { "asyncgui-no-such-worker-in-path", NULL };
  g_autoptr(AgWorkerTask) task = module_task ("ag_test_getpid", NULL);
  AgTestOutcome outcome;

  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, argv);
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  g_test_message ("message: %s", outcome.error != NULL ? outcome.error->message : "(none)");
  g_assert_error (outcome.error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT);
  g_assert_nonnull (strstr (outcome.error->message, argv[0]));
  ag_test_outcome_clear (&outcome);
}

/* Crashes */

static void
test_worker_task_exit_mid_call_fails_with_worker_crashed (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  g_autoptr(AgWorkerTask) task = module_task ("ag_test_exit", g_variant_new_int32 (5));
  AgTestOutcome outcome;
  int pid;

  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_WORKER_CRASHED);
  g_test_message ("message: %s", outcome.error->message);
  g_assert_nonnull (strstr (outcome.error->message, "status 5"));
  pid = ag_worker_task_get_worker_pid (task);
  g_assert_cmpint (pid, >, 0);
  ag_test_outcome_clear (&outcome);

  g_assert_cmpint (run_getpid (fixture->engine), !=, pid);
}

/* Ctrl-C in a terminal interrupts its whole foreground process group,
 * workers included: the application decides what it means (it may ask
 * whether to quit), so a worker goes on with its call. */
static void
test_worker_task_call_goes_on_through_an_interrupt (AgTestFixture *fixture,
                                                    gconstpointer  data)
{
  g_autofree char *path = ag_test_tmp_path ("interrupted.pid");
  g_autoptr(AgWorkerTask) task = pid_then_sleep_task (path, 300);
  AgTestOutcome outcome;
  int pid;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (task), NULL, ag_test_outcome_callback, &outcome);
  pid = ag_test_wait_pid_file (fixture->context, path, AG_TEST_SAFETY_MS);
  g_assert_cmpint (kill (pid, SIGINT), ==, 0);

  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_cmpint (outcome_int32 (&outcome), ==, pid);
  ag_test_outcome_clear (&outcome);
}

/* A worker that forked a child and died: the child holds the reply pipe
 * open, but the call fails when the worker exits, not when the child
 * does. */
static void
test_worker_task_exit_fails_the_call_while_a_child_holds_its_pipe (AgTestFixture *fixture,
                                                                   gconstpointer  data)
{
  g_autofree char *dir = g_dir_make_tmp ("asyncgui-fork-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "child-pid", NULL);
  g_autoptr(AgWorkerTask) task = module_task ("ag_test_fork_then_exit",
                                              g_variant_new ("(su)", path, KILLED_SLEEP_MS));
  g_autofree char *child = NULL;
  AgTestOutcome outcome;
  gint64 start = g_get_monotonic_time ();

  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_WORKER_CRASHED);
  g_assert_nonnull (strstr (outcome.error->message, "status 3"));
  g_assert_cmpfloat (ag_test_elapsed_ms (start), <, KILL_NOTICED_MS * ag_test_timing_factor ());
  ag_test_outcome_clear (&outcome);

  g_assert_true (g_file_get_contents (path, &child, NULL, NULL));
  kill (atoi (child), SIGKILL);
  g_unlink (path);
  g_rmdir (dir);
}

/* A worker program that exits at once may be reaped before the pool looks
 * at it; nothing about it may be taken for granted then (its pid is gone).
 * Each of 100 engines must fail its call, naming the program. */
static void
test_worker_task_exits_at_once_fails_the_call (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  const char *argv[] = { "/bin/false", NULL };
  guint fds = 0;

  for (guint i = 0; i < 100; i++)
    {
      g_autoptr(AgEngine) engine = ag_engine_new_for_context (fixture->context);
      g_autoptr(AgWorkerTask) task = module_task ("ag_test_getpid", NULL);
      AgTestOutcome outcome;

      ag_worker_pool_set_command (ag_engine_get_worker_pool (engine), AG_WORKER_C, argv);
      ag_test_run_task (engine, AG_TASK (task), &outcome);

      if (i == 0)
        g_test_message ("message: %s", outcome.error != NULL ? outcome.error->message : "(none)");
      g_assert_error (outcome.error, AG_ERROR, AG_ERROR_WORKER_CRASHED);
      g_assert_nonnull (strstr (outcome.error->message, "/bin/false"));
      /* No worker ever ran the call. */
      g_assert_cmpint (ag_worker_task_get_worker_pid (task), ==, 0);
      ag_test_outcome_clear (&outcome);

      /* The first engine sets up what stays for the program's life (GLib's
       * child watch); the others must leave nothing behind. */
      if (i == 0)
        {
          g_clear_object (&engine);
          fds = ag_test_settled_fd_count (fixture->context);
        }
    }

  ag_test_assert_no_leaks (fixture->context, fds, 2000);
}

/* Lines in @path: how many times the counting commands below started. */
static guint
count_starts (const char *path)
{
  g_autofree char *contents = NULL;
  guint n = 0;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;
  for (const char *p = contents; *p != '\0'; p++)
    n += *p == '\n';

  return n;
}

static void
test_worker_task_start_failures_are_retried_a_bounded_number_of_times (AgTestFixture *fixture,
                                                                      gconstpointer  data)
{
  g_autofree char *count_file = ag_test_tmp_path ("starts-failing");
  const char *argv[] = { "/bin/sh", "-c", "echo started >> \"$0\"; exit 1", count_file, NULL };
  AgWorkerTask *tasks[5];
  AgTestOutcome outcomes[5];
  g_autoptr(AgWorkerTask) later = module_task ("ag_test_getpid", NULL);
  AgTestOutcome outcome;

  /* One worker at a time, so the starts are counted in order. */
  ag_worker_pool_set_max_processes (ag_engine_get_worker_pool (fixture->engine), 1);
  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, argv);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      tasks[i] = module_task ("ag_test_getpid", NULL);
      ag_test_outcome_init (&outcomes[i], fixture->engine);
      ag_engine_run_async (fixture->engine, AG_TASK (tasks[i]), NULL, ag_test_outcome_callback,
                           &outcomes[i]);
    }
  ag_test_run_until (fixture->context,
                     outcomes[0].n_calls + outcomes[1].n_calls + outcomes[2].n_calls
                     + outcomes[3].n_calls + outcomes[4].n_calls == 5,
                     AG_TEST_SAFETY_MS);

  /* Three starts, then every waiting call fails with the same story. */
  g_test_message ("%u starts; message: %s", count_starts (count_file), outcomes[0].error->message);
  g_assert_cmpuint (count_starts (count_file), ==, 3);
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      g_assert_error (outcomes[i].error, AG_ERROR, AG_ERROR_WORKER_CRASHED);
      g_assert_nonnull (strstr (outcomes[i].error->message, "/bin/sh -c"));
      g_assert_nonnull (strstr (outcomes[i].error->message, "status 1"));
      ag_test_outcome_clear (&outcomes[i]);
      g_object_unref (tasks[i]);
    }

  /* A later call tries again, as many times. */
  ag_test_run_task (fixture->engine, AG_TASK (later), &outcome);
  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_WORKER_CRASHED);
  g_assert_cmpuint (count_starts (count_file), ==, 6);
  ag_test_outcome_clear (&outcome);

  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, NULL);
  g_assert_cmpint (run_getpid (fixture->engine), >, 0);
  /* The killed worker is reaped on another thread: on a busy machine,
   * maybe only after the next call returned. */
  ag_test_assert_no_zombies (fixture->context, 2000);
}

static void
test_worker_task_worker_that_starts_on_a_retry_runs_the_call_once (AgTestFixture *fixture,
                                                                  gconstpointer  data)
{
  g_autofree char *count_file = ag_test_tmp_path ("starts-late");
  g_autofree char *runs_file = ag_test_tmp_path ("runs");
  g_auto(GStrv) real = ag_worker_pool_dup_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C);
  /* Fails twice, then becomes the real worker. */
  const char *argv[] = {
    "/bin/sh", "-c",
    "echo started >> \"$0\"; [ $(wc -l < \"$0\") -ge 3 ] && exec \"$1\"; exit 7",
    count_file, real[0], NULL
  };
  g_autoptr(AgWorkerTask) task =
    module_task ("ag_test_pid_to_file_then_sleep", g_variant_new ("(su)", runs_file, 0));
  AgTestOutcome outcome;

  ag_worker_pool_set_max_processes (ag_engine_get_worker_pool (fixture->engine), 1);
  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, argv);
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);

  g_assert_no_error (outcome.error);
  g_assert_cmpuint (count_starts (count_file), ==, 3);
  /* The call ran in the worker that started, and only there. */
  g_assert_cmpint (outcome_int32 (&outcome), ==, ag_worker_task_get_worker_pid (task));
  g_assert_cmpint (ag_test_wait_pid_file (fixture->context, runs_file, 0), ==,
                   ag_worker_task_get_worker_pid (task));
  ag_test_outcome_clear (&outcome);

  /* A start after failures resets the count: the next failure is a first. */
  g_assert_cmpint (run_getpid (fixture->engine), ==, ag_worker_task_get_worker_pid (task));
}

typedef struct
{
  const char *mode;
  const char *what;  /* in the message */
} StartCase;

static void
test_worker_task_worker_that_never_greets_fails_the_call (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  const StartCase *sc = data;
  const char *argv[] = { AG_TEST_FAKE_WORKER_PATH, sc->mode, NULL };
  g_autoptr(AgWorkerTask) task = ag_worker_task_new_c ("fake", "anything", NULL);
  AgTestOutcome outcome;

  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, argv);
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);

  g_test_message ("%s: %s", sc->mode, outcome.error != NULL ? outcome.error->message : "succeeded");
  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (outcome.error->message, "fake-worker"));
  g_assert_nonnull (strstr (outcome.error->message, sc->what));
  g_assert_cmpint (ag_worker_task_get_worker_pid (task), ==, 0);
  ag_test_outcome_clear (&outcome);

  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, NULL);
  g_assert_cmpint (run_getpid (fixture->engine), >, 0);
  ag_test_assert_no_zombies (fixture->context, 2000);
}

static const StartCase start_cases[] = {
  { "garbage-then-exit", "bytes" },
  { "no-greeting", "greeting" },
  { "wrong-version", "version 99" },
};

typedef struct
{
  AgTestOutcome crashed;
  AgTestOutcome others[2];
} KillScene;

static void
test_worker_task_sigkill_fails_only_its_own_call (AgTestFixture *fixture,
                                                  gconstpointer  data)
{
  g_autofree char *pid_file = ag_test_tmp_path ("killed.pid");
  g_autoptr(AgWorkerTask) victim = pid_then_sleep_task (pid_file, KILLED_SLEEP_MS);
  g_autoptr(AgWorkerTask) other0 = module_task ("ag_test_sleep", g_variant_new_uint32 (1500));
  g_autoptr(AgWorkerTask) other1 = module_task ("ag_test_sleep", g_variant_new_uint32 (1500));
  AgWorkerTask *others[] = { other0, other1 };
  KillScene scene;
  double latency_ms;
  gint64 killed_at;
  int pid;

  ag_worker_pool_set_max_processes (ag_engine_get_worker_pool (fixture->engine), 3);
  ag_test_outcome_init (&scene.crashed, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (victim), NULL, ag_test_outcome_callback,
                       &scene.crashed);
  for (guint i = 0; i < 2; i++)
    {
      ag_test_outcome_init (&scene.others[i], fixture->engine);
      ag_engine_run_async (fixture->engine, AG_TASK (others[i]), NULL, ag_test_outcome_callback,
                           &scene.others[i]);
    }

  pid = ag_test_wait_pid_file (fixture->context, pid_file, AG_TEST_SAFETY_MS);
  killed_at = g_get_monotonic_time ();
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  ag_test_run_until (fixture->context, scene.crashed.n_calls > 0, AG_TEST_SAFETY_MS);
  latency_ms = (scene.crashed.time_us - killed_at) / 1000.0;

  g_test_message ("kill → callback: %.2f ms; message: %s", latency_ms,
                  scene.crashed.error != NULL ? scene.crashed.error->message : "(none)");
  g_assert_error (scene.crashed.error, AG_ERROR, AG_ERROR_WORKER_CRASHED);
  g_assert_nonnull (strstr (scene.crashed.error->message, "signal 9"));
  g_assert_cmpint (ag_worker_task_get_worker_pid (victim), ==, pid);
  g_assert_cmpfloat (latency_ms, <, KILL_NOTICED_MS);

  /* The others were still running, in workers of their own. */
  g_assert_cmpuint (scene.others[0].n_calls + scene.others[1].n_calls, ==, 0);
  ag_test_run_until (fixture->context,
                     scene.others[0].n_calls > 0 && scene.others[1].n_calls > 0,
                     AG_TEST_SAFETY_MS);
  for (guint i = 0; i < 2; i++)
    {
      g_assert_cmpint (outcome_int32 (&scene.others[i]), !=, pid);
      ag_test_outcome_clear (&scene.others[i]);
    }

  g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 2000));
  g_assert_cmpint (run_getpid (fixture->engine), !=, pid);

  ag_test_outcome_clear (&scene.crashed);
  g_unlink (pid_file);
}

/* A worker that can no longer take requests, but has not been seen to
 * go: a request written to it never reaches a function, so the call runs
 * in a fresh worker instead of failing (each fake worker serves its
 * first call). */
/* Makes fake workers of @mode the only worker, one at a time, and runs a
 * first call in one; returns that worker's pid. */
static int
serve_first_fake_call (AgTestFixture *fixture,
                       const char    *mode)
{
  const char *argv[] = { AG_TEST_FAKE_WORKER_PATH, mode, NULL };
  g_autoptr(AgWorkerTask) first = ag_worker_task_new_c ("fake", "anything", NULL);
  AgTestOutcome outcome;

  ag_worker_pool_set_max_processes (ag_engine_get_worker_pool (fixture->engine), 1);
  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, argv);
  ag_test_run_task (fixture->engine, AG_TASK (first), &outcome);
  g_assert_cmpint (outcome_int32 (&outcome), ==, 42);
  ag_test_outcome_clear (&outcome);
  g_assert_cmpint (ag_worker_task_get_worker_pid (first), >, 0);

  return ag_worker_task_get_worker_pid (first);
}

/* Asserts that @outcome, of @task, is the fake worker's answer from a
 * worker other than @pid. */
static void
assert_answered_elsewhere (AgWorkerTask  *task,
                           AgTestOutcome *outcome,
                           int            pid)
{
  g_test_message ("second call: %s", outcome->error != NULL ? outcome->error->message : "succeeded");
  g_assert_cmpint (outcome_int32 (outcome), ==, 42);
  g_assert_cmpint (ag_worker_task_get_worker_pid (task), >, 0);
  g_assert_cmpint (ag_worker_task_get_worker_pid (task), !=, pid);
}

static void
test_worker_task_call_its_worker_could_not_take_runs_in_a_fresh_one (AgTestFixture *fixture,
                                                                      gconstpointer  data)
{
  int pid = serve_first_fake_call (fixture, "ok-then-close-input");
  g_autoptr(AgWorkerTask) second = ag_worker_task_new_c ("fake", "anything", NULL);
  AgTestOutcome outcome;

  ag_test_run_task (fixture->engine, AG_TASK (second), &outcome);
  assert_answered_elsewhere (second, &outcome, pid);
  ag_test_outcome_clear (&outcome);
  ag_test_assert_no_zombies (fixture->context, 2000);
}

/* A worker that dies with a request it never read still in its pipe (an
 * idle worker killed just as a call was sent to it) ran nothing: the call
 * runs in a fresh worker. */
static void
test_worker_task_call_left_unread_by_a_dead_worker_runs_in_a_fresh_one (AgTestFixture *fixture,
                                                                         gconstpointer  data)
{
  int pid = serve_first_fake_call (fixture, "ok-then-deaf");
  g_autoptr(AgWorkerTask) second = ag_worker_task_new_c ("fake", "anything", NULL);
  AgTestOutcome outcome;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (second), NULL, ag_test_outcome_callback,
                       &outcome);
  /* The request is written to the worker, which does not read it. */
  ag_test_run_for (fixture->context, 100);
  g_assert_cmpuint (outcome.n_calls, ==, 0);
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);

  assert_answered_elsewhere (second, &outcome, pid);
  ag_test_outcome_clear (&outcome);
  ag_test_assert_no_zombies (fixture->context, 2000);
}

/* No worker takes the call (each closed its input): after a few fresh
 * ones the call fails at once, saying so. */
static void
test_worker_task_call_no_worker_takes_fails_saying_so (AgTestFixture *fixture,
                                                       gconstpointer  data)
{
  const char *argv[] = { AG_TEST_FAKE_WORKER_PATH, "closed-input", NULL };
  g_autoptr(AgWorkerTask) task = ag_worker_task_new_c ("fake", "anything", NULL);
  AgTestOutcome outcome;
  gint64 start = g_get_monotonic_time ();

  ag_worker_pool_set_max_processes (ag_engine_get_worker_pool (fixture->engine), 1);
  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, argv);
  /* A call with limits is written once the worker has greeted. */
  ag_worker_task_set_memory_limit (task, 1024 * 1024 * 1024);
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);

  g_test_message ("after %.0f ms: %s", ag_test_elapsed_ms (start),
                  outcome.error != NULL ? outcome.error->message : "succeeded");
  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_WORKER_CRASHED);
  g_assert_nonnull (strstr (outcome.error->message, "before they read it"));
  /* Not after the grace a worker that closed its output gets. */
  g_assert_cmpfloat (ag_test_elapsed_ms (start), <, 900);
  g_assert_cmpint (ag_worker_task_get_worker_pid (task), ==, 0);
  ag_test_outcome_clear (&outcome);
  ag_test_assert_no_zombies (fixture->context, 2000);
}

/* A call handed over just as the command changes to a program that cannot
 * start, while an idle worker of the old command is there: that worker
 * takes no call any more, so the call fails with the spawn error rather
 * than wait for it. */
static void
test_worker_task_call_during_a_command_change_to_a_broken_program_fails (AgTestFixture *fixture,
                                                                         gconstpointer  data)
{
  AgWorkerPool *pool = ag_engine_get_worker_pool (fixture->engine);
  const char *missing[] = { "/nonexistent/asyncgui-worker", NULL };
  g_auto(GStrv) working = ag_worker_pool_dup_command (pool, AG_WORKER_C);
  guint unanswered = 0;

  ag_worker_pool_set_max_processes (pool, 2);
  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(AgWorkerTask) task = module_task ("ag_test_getpid", NULL);
      AgTestOutcome outcome;

      g_assert_cmpint (run_getpid (fixture->engine), >, 0);
      ag_test_outcome_init (&outcome, fixture->engine);
      ag_engine_run_async (fixture->engine, AG_TASK (task), NULL, ag_test_outcome_callback,
                           &outcome);
      ag_worker_pool_set_command (pool, AG_WORKER_C, missing);
      /* Two seconds, not the safety limit: a call left waiting is what
       * this counts. */
      for (guint ms = 0; outcome.n_calls == 0 && ms < 2000; ms++)
        {
          g_main_context_iteration (fixture->context, FALSE);
          g_usleep (1000);
        }
      if (outcome.n_calls == 0)
        {
          unanswered++;
          ag_task_cancel (AG_TASK (task));
          ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
        }
      ag_test_outcome_clear (&outcome);
      ag_worker_pool_set_command (pool, AG_WORKER_C, (const char * const *) working);
    }
  g_assert_cmpuint (unanswered, ==, 0);
}

/* Runs a call in a fake worker of @mode, which must fail it with
 * AG_ERROR_WORKER_CRASHED; returns the task, the outcome in @outcome. */
static AgWorkerTask *
crash_in_fake_worker (AgTestFixture *fixture,
                      const char    *mode,
                      AgTestOutcome *outcome)
{
  const char *argv[] = { AG_TEST_FAKE_WORKER_PATH, mode, NULL };
  AgWorkerTask *task = ag_worker_task_new_c ("fake", "anything", NULL);

  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, argv);
  ag_test_run_task (fixture->engine, AG_TASK (task), outcome);

  g_test_message ("message: %s", outcome->error != NULL ? outcome->error->message : "(none)");
  g_assert_error (outcome->error, AG_ERROR, AG_ERROR_WORKER_CRASHED);

  return task;
}

/* A worker that closes its output ends its call; the error says how it
 * ended, not how the pool stopped it. */
static void
test_worker_task_worker_that_closes_its_output_then_exits_is_named_by_its_status (AgTestFixture *fixture,
                                                                                   gconstpointer  data)
{
  AgTestOutcome outcome;
  g_autoptr(AgWorkerTask) task = crash_in_fake_worker (fixture, "close-output-then-exit", &outcome);

  g_assert_nonnull (strstr (outcome.error->message, "status 5"));
  g_assert_cmpint (ag_worker_task_get_worker_pid (task), >, 0);
  ag_test_outcome_clear (&outcome);
}

static void
test_worker_task_worker_that_closes_its_output_and_stays_is_killed_and_says_so (AgTestFixture *fixture,
                                                                                 gconstpointer  data)
{
  AgTestOutcome outcome;
  g_autoptr(AgWorkerTask) task = crash_in_fake_worker (fixture, "close-output-then-stay", &outcome);
  int pid;

  g_assert_nonnull (strstr (outcome.error->message, "closed its output"));
  g_assert_null (strstr (outcome.error->message, "signal"));
  pid = ag_worker_task_get_worker_pid (task);
  g_assert_cmpint (pid, >, 0);
  g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 2000));
  ag_test_outcome_clear (&outcome);
}

/* A worker that closed its output is given time to exit, but a cancel
 * meanwhile is answered at once, not when that time is up. */
static void
test_worker_task_cancel_while_a_lost_worker_may_exit_is_answered_at_once (AgTestFixture *fixture,
                                                                          gconstpointer  data)
{
  g_autofree char *pid_file = ag_test_tmp_path ("closed-output.pid");
  const char *argv[] = { AG_TEST_FAKE_WORKER_PATH, "close-output-then-stay", pid_file, NULL };
  g_autoptr(AgWorkerTask) task = ag_worker_task_new_c ("fake", "anything", NULL);
  AgTestOutcome outcome;
  gint64 start;
  int pid;

  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, argv);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (task), NULL, ag_test_outcome_callback, &outcome);
  pid = ag_test_wait_pid_file (fixture->context, pid_file, AG_TEST_SAFETY_MS);
  /* The pool has seen the output close. */
  ag_test_run_for (fixture->context, 50);
  g_assert_cmpuint (outcome.n_calls, ==, 0);

  start = g_get_monotonic_time ();
  ag_task_cancel (AG_TASK (task));
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_test_message ("cancelled in %.2f ms", ag_test_elapsed_ms (start));
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpfloat (ag_test_elapsed_ms (start), <, 500);

  g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 3000));
  ag_test_outcome_clear (&outcome);
  g_unlink (pid_file);
}

/* The C worker reads its requests from a descriptor of its own: a
 * function that closes stdin does not cut it off. */
static void
test_worker_task_function_that_closes_stdin_keeps_its_worker (AgTestFixture *fixture,
                                                              gconstpointer  data)
{
  int pid;

  ag_worker_pool_set_max_processes (ag_engine_get_worker_pool (fixture->engine), 1);
  pid = run_for_pid (fixture->engine, "ag_test_close_stdin", NULL);
  g_assert_cmpint (run_getpid (fixture->engine), ==, pid);
}

static void
test_worker_task_sigkill_recovery_twenty_times_leaks_nothing (AgTestFixture *fixture,
                                                              gconstpointer  data)
{
  g_autofree char *pid_file = ag_test_tmp_path ("again.pid");
  double worst_ms = 0;
  guint fds;

  /* The first call starts the process thread and GLib's child watch,
   * which stay for the engine's life or the program's. */
  run_getpid (fixture->engine);
  fds = ag_test_settled_fd_count (fixture->context);

  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(AgWorkerTask) task = pid_then_sleep_task (pid_file, KILLED_SLEEP_MS);
      AgTestOutcome outcome;
      gint64 killed_at;
      int pid;

      ag_test_outcome_init (&outcome, fixture->engine);
      ag_engine_run_async (fixture->engine, AG_TASK (task), NULL, ag_test_outcome_callback,
                           &outcome);
      pid = ag_test_wait_pid_file (fixture->context, pid_file, AG_TEST_SAFETY_MS);
      g_unlink (pid_file);

      killed_at = g_get_monotonic_time ();
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
      worst_ms = MAX (worst_ms, (outcome.time_us - killed_at) / 1000.0);

      g_assert_error (outcome.error, AG_ERROR, AG_ERROR_WORKER_CRASHED);
      g_assert_cmpint (ag_worker_task_get_worker_pid (task), ==, pid);
      ag_test_outcome_clear (&outcome);
    }

  g_test_message ("worst kill → callback of 20: %.2f ms", worst_ms);
  g_assert_cmpfloat (worst_ms, <, KILL_NOTICED_MS);

  /* Still serving, and nothing left behind but the one warm worker. */
  run_getpid (fixture->engine);
  ag_test_assert_no_leaks (fixture->context, fds, 2000);
}

/* The pool */

static void
test_worker_task_idle_worker_exits_after_idle_time (AgTestFixture *fixture,
                                                    gconstpointer  data)
{
  gint64 start;
  int pid;

  ag_worker_pool_set_idle_ms (ag_engine_get_worker_pool (fixture->engine), 100);
  pid = run_getpid (fixture->engine);
  start = g_get_monotonic_time ();

  g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 3000));
  g_test_message ("idle worker gone after %.0f ms", ag_test_elapsed_ms (start));
  g_assert_cmpuint (ag_test_count_zombie_children (), ==, 0);

  g_assert_cmpint (run_getpid (fixture->engine), !=, pid);
}

/* A worker whose idle time is up is let go by the end of its input;
 * fake-worker's "ok-then-stay" then names itself in @pid_file and stays.
 * Returns its pid. */
static int
let_go_a_worker_that_stays (AgTestFixture *fixture,
                            const char    *pid_file)
{
  const char *argv[] = { AG_TEST_FAKE_WORKER_PATH, "ok-then-stay", pid_file, NULL };
  AgWorkerPool *pool = ag_engine_get_worker_pool (fixture->engine);
  g_autoptr(AgWorkerTask) task = ag_worker_task_new_c ("fake", "anything", NULL);
  AgTestOutcome outcome;
  int pid;

  ag_worker_pool_set_command (pool, AG_WORKER_C, argv);
  ag_worker_pool_set_idle_ms (pool, 50);
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  g_assert_cmpint (outcome_int32 (&outcome), ==, 42);
  ag_test_outcome_clear (&outcome);

  pid = ag_test_wait_pid_file (fixture->context, pid_file, AG_TEST_SAFETY_MS);
  g_assert_cmpint (pid, ==, ag_worker_task_get_worker_pid (task));
  g_unlink (pid_file);

  return pid;
}

static void
test_worker_task_worker_let_go_takes_no_new_call (AgTestFixture *fixture,
                                                  gconstpointer  data)
{
  g_autofree char *pid_file = ag_test_tmp_path ("let-go.pid");
  g_autoptr(AgWorkerTask) task = ag_worker_task_new_c ("fake", "anything", NULL);
  AgTestOutcome outcome;
  int pid;

  /* One process at a time: one on its way out does not count. */
  ag_worker_pool_set_max_processes (ag_engine_get_worker_pool (fixture->engine), 1);
  pid = let_go_a_worker_that_stays (fixture, pid_file);

  /* Its input is closed: a call sent to it could never be answered. */
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  g_assert_cmpint (outcome_int32 (&outcome), ==, 42);
  g_assert_cmpint (ag_worker_task_get_worker_pid (task), !=, pid);
  ag_test_outcome_clear (&outcome);
  g_assert_cmpint (kill (pid, 0), ==, 0);

  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, NULL);
}

static void
test_worker_task_worker_let_go_that_stays_is_killed (AgTestFixture *fixture,
                                                     gconstpointer  data)
{
  g_autofree char *pid_file = ag_test_tmp_path ("stays.pid");
  int pid = let_go_a_worker_that_stays (fixture, pid_file);
  gint64 start = g_get_monotonic_time ();

  g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, AG_TEST_SAFETY_MS));
  g_test_message ("let-go worker killed %.0f ms after it was let go", ag_test_elapsed_ms (start));
  ag_test_assert_no_zombies (fixture->context, 2000);

  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, NULL);
}

/* Runs three calls of @msec at once on three workers; their pids in
 * @pids. With @lower_to, sets max-processes to it while they run. */
static void
run_three_at_once (AgTestFixture *fixture,
                   guint          msec,
                   int            lower_to,
                   int            pids[3])
{
  AgWorkerPool *pool = ag_engine_get_worker_pool (fixture->engine);
  AgWorkerTask *tasks[3];
  AgTestOutcome outcomes[3];

  for (guint i = 0; i < 3; i++)
    {
      tasks[i] = module_task ("ag_test_sleep", g_variant_new_uint32 (msec));
      ag_test_outcome_init (&outcomes[i], fixture->engine);
      ag_engine_run_async (fixture->engine, AG_TASK (tasks[i]), NULL, ag_test_outcome_callback,
                           &outcomes[i]);
    }
  if (lower_to > 0)
    {
      ag_test_run_for (fixture->context, msec / 2);
      ag_worker_pool_set_max_processes (pool, lower_to);
    }
  for (guint i = 0; i < 3; i++)
    {
      ag_test_run_until (fixture->context, outcomes[i].n_calls > 0, AG_TEST_SAFETY_MS);
      pids[i] = outcome_int32 (&outcomes[i]);
      ag_test_outcome_clear (&outcomes[i]);
      g_object_unref (tasks[i]);
    }
  g_assert_cmpint (pids[0], !=, pids[1]);
  g_assert_cmpint (pids[1], !=, pids[2]);
  g_assert_cmpint (pids[0], !=, pids[2]);
}

static guint
count_alive (const int pids[3])
{
  guint alive = 0;

  for (guint i = 0; i < 3; i++)
    if (kill (pids[i], 0) == 0)
      alive++;

  return alive;
}

/* A call cancelled before a worker took it starts no worker: a burst of
 * requests a search box replaces at once costs no processes. The pool's
 * command is the real worker behind a shell that counts its starts. */
static void
test_worker_task_call_cancelled_before_it_starts_spawns_no_worker (AgTestFixture *fixture,
                                                                   gconstpointer  data)
{
  AgWorkerPool *pool = ag_engine_get_worker_pool (fixture->engine);
  g_autofree char *path = ag_test_tmp_path ("worker-starts");
  g_auto(GStrv) real = ag_worker_pool_dup_command (pool, AG_WORKER_C);
  g_autofree char *script = g_strdup_printf ("echo started >> '%s'; exec \"$0\" \"$@\"", path);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) wrapped = NULL;
  AgWorkerTask *tasks[100];
  guint n_started;

  g_strv_builder_add_many (builder, "/bin/sh", "-c", script, NULL);
  g_strv_builder_addv (builder, (const char **) real);
  wrapped = g_strv_builder_end (builder);
  ag_worker_pool_set_command (pool, AG_WORKER_C, (const char * const *) wrapped);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      tasks[i] = module_task ("ag_test_echo", g_variant_new_int32 ((int) i));
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
  g_test_message ("%u workers started for %u cancelled calls", n_started,
                  (guint) G_N_ELEMENTS (tasks));
  g_assert_cmpuint (n_started, <, G_N_ELEMENTS (tasks) / 4);

  ag_worker_pool_set_command (pool, AG_WORKER_C, NULL);
  g_unlink (path);
}

/* Lowering max-processes lets surplus workers go at once, idle or when
 * their call ends, not after their idle time (10 s by default). */
static void
test_worker_task_lowering_max_processes_lets_surplus_workers_go (AgTestFixture *fixture,
                                                                 gconstpointer  data)
{
  AgWorkerPool *pool = ag_engine_get_worker_pool (fixture->engine);
  int pids[3];

  ag_worker_pool_set_max_processes (pool, 3);
  run_three_at_once (fixture, 200, 0, pids);
  ag_worker_pool_set_max_processes (pool, 1);
  ag_test_run_until (fixture->context, count_alive (pids) == 1, 3000);

  /* Busy ones go when their call ends. */
  ag_worker_pool_set_max_processes (pool, 3);
  run_three_at_once (fixture, 300, 1, pids);
  ag_test_run_until (fixture->context, count_alive (pids) == 1, 3000);
  ag_test_assert_no_zombies (fixture->context, 2000);
}

static void
test_worker_task_busy_worker_is_not_let_go (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  g_autoptr(AgWorkerTask) task = module_task ("ag_test_sleep", g_variant_new_uint32 (400));
  AgTestOutcome outcome;

  /* Idle time counts from the end of a call, never during one. */
  ag_worker_pool_set_idle_ms (ag_engine_get_worker_pool (fixture->engine), 50);
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  g_assert_cmpint (outcome_int32 (&outcome), >, 0);
  ag_test_outcome_clear (&outcome);
}

/* A shorter idle-ms applies to the workers idle already, not only to
 * those that become idle later. */
static void
test_worker_task_shorter_idle_time_lets_idle_workers_go (AgTestFixture *fixture,
                                                         gconstpointer  data)
{
  AgWorkerPool *pool = ag_engine_get_worker_pool (fixture->engine);
  int pid;

  ag_worker_pool_set_idle_ms (pool, 10000);
  pid = run_getpid (fixture->engine);
  ag_worker_pool_set_idle_ms (pool, 100);
  g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 3000));
}

static void
test_worker_task_idle_time_counts_from_the_last_call (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  gint64 last_end;
  int pid;

  ag_worker_pool_set_idle_ms (ag_engine_get_worker_pool (fixture->engine), 300);
  pid = run_getpid (fixture->engine);

  /* Its idle time would be up during this call, and during the quick
   * calls after it, had it counted from the first call's end. Each pause
   * leaves 200 ms to spare for a loaded machine. */
  g_assert_cmpint (run_for_pid (fixture->engine, "ag_test_sleep", g_variant_new_uint32 (400)),
                   ==, pid);
  for (guint i = 0; i < 4; i++)
    {
      g_usleep (100 * G_TIME_SPAN_MILLISECOND);
      g_assert_cmpint (run_getpid (fixture->engine), ==, pid);
    }
  last_end = g_get_monotonic_time ();

  g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 3000));
  g_test_message ("idle worker gone %.0f ms after its last call", ag_test_elapsed_ms (last_end));
  g_assert_cmpfloat (ag_test_elapsed_ms (last_end), >=, 300);
  g_assert_cmpuint (ag_test_count_zombie_children (), ==, 0);
}

static void
run_three_sleeps (AgTestFixture *fixture,
                  int            max_processes,
                  double        *elapsed_ms,
                  int            pids[3])
{
  AgWorkerTask *tasks[3];
  AgTestOutcome outcomes[3];
  gint64 start;

  ag_worker_pool_set_max_processes (ag_engine_get_worker_pool (fixture->engine), max_processes);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < 3; i++)
    {
      tasks[i] = module_task ("ag_test_sleep", g_variant_new_uint32 (300));
      ag_test_outcome_init (&outcomes[i], fixture->engine);
      ag_engine_run_async (fixture->engine, AG_TASK (tasks[i]), NULL, ag_test_outcome_callback,
                           &outcomes[i]);
    }
  ag_test_run_until (fixture->context,
                     outcomes[0].n_calls > 0 && outcomes[1].n_calls > 0 && outcomes[2].n_calls > 0,
                     AG_TEST_SAFETY_MS);
  *elapsed_ms = ag_test_elapsed_ms (start);

  for (guint i = 0; i < 3; i++)
    {
      pids[i] = outcome_int32 (&outcomes[i]);
      ag_test_outcome_clear (&outcomes[i]);
      g_object_unref (tasks[i]);
    }
}

static void
test_worker_task_max_processes_limits_concurrent_workers (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  double serial_ms, parallel_ms;
  int pids[3];

  run_three_sleeps (fixture, 1, &serial_ms, pids);
  g_test_message ("3 × 300 ms, max-processes 1: %.0f ms", serial_ms);
  g_assert_cmpfloat (serial_ms, >=, 880);
  g_assert_cmpint (pids[0], ==, pids[1]);
  g_assert_cmpint (pids[1], ==, pids[2]);

  run_three_sleeps (fixture, 3, &parallel_ms, pids);
  g_test_message ("3 × 300 ms, max-processes 3: %.0f ms", parallel_ms);
  g_assert_cmpfloat (parallel_ms, <, 850);
  g_assert_cmpint (pids[0], !=, pids[1]);
  g_assert_cmpint (pids[1], !=, pids[2]);
  g_assert_cmpint (pids[0], !=, pids[2]);
}

/* When no further worker can start (out of file descriptors, say), calls
 * wait for the workers there are rather than fail. */
static void
test_worker_task_calls_wait_for_the_workers_there_are_when_no_more_can_start (AgTestFixture *fixture,
                                                                               gconstpointer  data)
{
  AgWorkerTask *tasks[3];
  AgTestOutcome outcomes[3];
  struct rlimit old, low;
  int lowest;

  ag_worker_pool_set_max_processes (ag_engine_get_worker_pool (fixture->engine), 3);
  g_assert_cmpint (run_getpid (fixture->engine), >, 0);

  /* No new descriptor from here on: a worker's pipes cannot be made. */
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &old), ==, 0);
  lowest = dup (STDERR_FILENO);
  g_assert_cmpint (lowest, >=, 0);
  close (lowest);
  low = old;
  low.rlim_cur = lowest;
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &low), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      tasks[i] = module_task ("ag_test_sleep", g_variant_new_uint32 (50));
      ag_test_outcome_init (&outcomes[i], fixture->engine);
      ag_engine_run_async (fixture->engine, AG_TASK (tasks[i]), NULL, ag_test_outcome_callback,
                           &outcomes[i]);
    }
  ag_test_run_until (fixture->context,
                     outcomes[0].n_calls > 0 && outcomes[1].n_calls > 0 && outcomes[2].n_calls > 0,
                     AG_TEST_SAFETY_MS);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &old), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      g_test_message ("call %u: %s", i,
                      outcomes[i].error != NULL ? outcomes[i].error->message : "succeeded");
      g_assert_no_error (outcomes[i].error);
      ag_test_outcome_clear (&outcomes[i]);
      g_object_unref (tasks[i]);
    }
}

static void
test_worker_task_many_queued_calls_all_complete_in_their_own_values (AgTestFixture *fixture,
                                                                     gconstpointer  data)
{
  enum { N = 50 };
  AgWorkerTask *tasks[N];
  AgTestOutcome outcomes[N];
  guint n_done;

  ag_worker_pool_set_max_processes (ag_engine_get_worker_pool (fixture->engine), 2);
  for (guint i = 0; i < N; i++)
    {
      tasks[i] = module_task ("ag_test_echo", g_variant_new ("(us)", i, "payload"));
      ag_test_outcome_init (&outcomes[i], fixture->engine);
      ag_engine_run_async (fixture->engine, AG_TASK (tasks[i]), NULL, ag_test_outcome_callback,
                           &outcomes[i]);
    }

  do
    {
      n_done = 0;
      for (guint i = 0; i < N; i++)
        n_done += outcomes[i].n_calls > 0;
      if (n_done < N)
        g_main_context_iteration (fixture->context, TRUE);
    }
  while (n_done < N);

  for (guint i = 0; i < N; i++)
    g_assert_cmpuint (outcomes[i].n_calls, ==, 1);

  for (guint i = 0; i < N; i++)
    if (outcomes[i].error != NULL)
      {
        g_test_message ("call %u of %u failed: %s", i, N, outcomes[i].error->message);
        ag_test_regression ("a reply can be handled before the write of its request has "
                           "completed; the next request written at once fails with "
                           "G_IO_ERROR_PENDING and the worker is killed");
        goto out;
      }

  for (guint i = 0; i < N; i++)
    {
      guint32 got;

      g_variant_get (outcome_variant (&outcomes[i]), "(u&s)", &got, NULL);
      g_assert_cmpuint (got, ==, i);
    }

out:
  for (guint i = 0; i < N; i++)
    {
      ag_test_outcome_clear (&outcomes[i]);
      g_object_unref (tasks[i]);
    }
}

/* Cancelling */

static void
test_worker_task_cancel_kills_its_worker (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  g_autofree char *pid_file = ag_test_tmp_path ("cancelled.pid");
  g_autoptr(AgWorkerTask) task = pid_then_sleep_task (pid_file, 10000);
  AgTestOutcome outcome;
  gint64 start;
  int pid;

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (task), NULL, ag_test_outcome_callback, &outcome);
  pid = ag_test_wait_pid_file (fixture->context, pid_file, AG_TEST_SAFETY_MS);

  start = g_get_monotonic_time ();
  ag_task_cancel (AG_TASK (task));
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_test_message ("cancelled in %.2f ms", ag_test_elapsed_ms (start));
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (ag_task_get_state (AG_TASK (task)), ==, AG_TASK_CANCELLED);

  g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 2000));
  g_test_message ("worker gone %.0f ms after the cancel", ag_test_elapsed_ms (start));
  g_assert_cmpuint (ag_test_count_zombie_children (), ==, 0);
  g_assert_cmpint (run_getpid (fixture->engine), !=, pid);

  ag_test_outcome_clear (&outcome);
  g_unlink (pid_file);
}

static void
test_worker_task_cancel_of_queued_call_spares_the_worker (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  g_autoptr(AgWorkerTask) running = module_task ("ag_test_sleep", g_variant_new_uint32 (300));
  g_autoptr(AgWorkerTask) queued = module_task ("ag_test_getpid", NULL);
  AgTestOutcome running_outcome, queued_outcome;
  int pid;

  ag_worker_pool_set_max_processes (ag_engine_get_worker_pool (fixture->engine), 1);
  ag_test_outcome_init (&running_outcome, fixture->engine);
  ag_test_outcome_init (&queued_outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (running), NULL, ag_test_outcome_callback,
                       &running_outcome);
  ag_engine_run_async (fixture->engine, AG_TASK (queued), NULL, ag_test_outcome_callback,
                       &queued_outcome);
  ag_test_run_for (fixture->context, 50);

  ag_task_cancel (AG_TASK (queued));
  ag_test_run_until (fixture->context, queued_outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_error (queued_outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (running_outcome.n_calls, ==, 0);

  ag_test_run_until (fixture->context, running_outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  pid = outcome_int32 (&running_outcome);
  g_assert_cmpint (run_getpid (fixture->engine), ==, pid);

  ag_test_outcome_clear (&running_outcome);
  ag_test_outcome_clear (&queued_outcome);
}

/* Disposing */

static void
test_worker_task_disposing_engine_terminates_all_workers (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  char *pid_files[3] = { NULL, };
  AgWorkerTask *tasks[3];
  AgTestOutcome outcomes[3];
  int pids[3];
  guint fds;

  /* A first engine sets up what stays for the program's life (GLib's
   * child watch); the fds are counted after it is gone. */
  run_getpid (fixture->engine);
  g_clear_object (&fixture->engine);
  fds = ag_test_settled_fd_count (fixture->context);

  fixture->engine = ag_engine_new_for_context (fixture->context);
  ag_worker_pool_set_max_processes (ag_engine_get_worker_pool (fixture->engine), 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("dispose-%u.pid", i);

      pid_files[i] = ag_test_tmp_path (name);
      tasks[i] = pid_then_sleep_task (pid_files[i], 10000);
      ag_test_outcome_init (&outcomes[i], fixture->engine);
      ag_engine_run_async (fixture->engine, AG_TASK (tasks[i]), NULL, ag_test_outcome_callback,
                           &outcomes[i]);
    }
  for (guint i = 0; i < 3; i++)
    pids[i] = ag_test_wait_pid_file (fixture->context, pid_files[i], AG_TEST_SAFETY_MS);

  g_clear_object (&fixture->engine);

  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (ag_test_wait_pid_gone (fixture->context, pids[i], 3000));
      g_unlink (pid_files[i]);
      g_free (pid_files[i]);
    }
  ag_test_run_for (fixture->context, 50);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpuint (outcomes[i].n_calls, ==, 0);
      g_assert_cmpint (ag_task_get_state (AG_TASK (tasks[i])), ==, AG_TASK_CANCELLED);
      ag_test_outcome_clear (&outcomes[i]);
      g_object_unref (tasks[i]);
    }

  ag_test_assert_no_leaks (fixture->context, fds, 2000);
}

/* The engine is disposed while the call runs, and the test lets go of the
 * task: the library's last reference to it must still be dropped on the
 * engine's thread, never by the process thread that learns of the end. */
static void
test_worker_task_outliving_its_engine_is_released_on_the_engines_thread (AgTestFixture *fixture,
                                                                         gconstpointer  data)
{
  g_autofree char *pid_file = ag_test_tmp_path ("outlive.pid");
  AgWorkerTask *task = pid_then_sleep_task (pid_file, 10000);
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

/* Timeouts */

/* Runs @task, which must time out after about @timeout_ms; returns the
 * pid of the worker it was killed in (0 if none had started). */
static int
assert_times_out (AgTestFixture *fixture,
                  AgWorkerTask  *task,
                  guint          timeout_ms)
{
  g_autofree char *limit = g_strdup_printf ("%u ms", timeout_ms);
  AgTestOutcome outcome;
  gint64 start = g_get_monotonic_time ();
  double elapsed_ms;
  int pid;

  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  elapsed_ms = ag_test_elapsed_ms (start);

  g_test_message ("failed after %.0f ms: %s", elapsed_ms,
                  outcome.error != NULL ? outcome.error->message : "(no error)");
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (outcome.error->message, ag_worker_task_get_target (task)));
  g_assert_nonnull (strstr (outcome.error->message, limit));
  g_assert_cmpfloat (elapsed_ms, >=, timeout_ms - 10);
  g_assert_cmpfloat (elapsed_ms, <, timeout_ms + 1500);
  g_assert_cmpint (ag_task_get_state (AG_TASK (task)), ==, AG_TASK_FAILED);
  ag_test_outcome_clear (&outcome);

  pid = ag_worker_task_get_worker_pid (task);
  if (pid > 0)
    g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 2000));
  return pid;
}

static void
test_worker_task_hanging_call_times_out_and_the_next_gets_a_fresh_worker (AgTestFixture *fixture,
                                                                         gconstpointer  data)
{
  g_autoptr(AgWorkerTask) hang = module_task ("ag_test_hang", NULL);
  int pid;

  ag_worker_pool_set_max_processes (ag_engine_get_worker_pool (fixture->engine), 1);
  ag_worker_task_set_timeout_ms (hang, 300);
  pid = assert_times_out (fixture, hang, 300);
  g_assert_cmpint (pid, >, 0);

  g_assert_cmpint (run_getpid (fixture->engine), !=, pid);
  g_assert_cmpuint (ag_test_count_zombie_children (), ==, 0);
}

static void
test_worker_task_engine_timeout_applies_when_the_task_sets_none (AgTestFixture *fixture,
                                                                gconstpointer  data)
{
  g_autoptr(AgWorkerTask) hang = module_task ("ag_test_hang", NULL);
  g_autoptr(AgWorkerTask) own = module_task ("ag_test_hang", NULL);
  guint timeout_ms = 0;

  g_assert_cmpuint (ag_worker_pool_get_timeout_ms (ag_engine_get_worker_pool (fixture->engine)), ==, 0);
  g_object_set (ag_engine_get_worker_pool (fixture->engine), "timeout-ms", 250, NULL);
  g_object_get (ag_engine_get_worker_pool (fixture->engine), "timeout-ms", &timeout_ms, NULL);
  g_assert_cmpuint (timeout_ms, ==, 250);

  g_assert_cmpint (ag_worker_task_get_timeout_ms (hang), ==, -1);
  assert_times_out (fixture, hang, 250);

  /* The task's own wins. */
  ag_worker_task_set_timeout_ms (own, 400);
  assert_times_out (fixture, own, 400);

  g_assert_cmpint (run_getpid (fixture->engine), >, 0);
}

static void
count_int (guint *n)
{
  (*n)++;
}

/* The worker settings of an engine live in its worker pool, made once. */
static gpointer
get_pool_elsewhere (gpointer engine)
{
  return ag_engine_get_worker_pool (engine);
}

/* The pool is made on first use, on the engine's thread: two threads
 * asking at once could each make one. */
static void
test_worker_pool_asked_for_on_another_thread_is_a_critical (AgTestFixture *fixture,
                                                            gconstpointer  data)
{
  ag_test_assert_critical_elsewhere (get_pool_elsewhere, fixture->engine,
                                     "*ag_engine_get_worker_pool*");
}

static void
test_worker_pool_belongs_to_its_engine_and_notifies_changes (AgTestFixture *fixture,
                                                             gconstpointer  data)
{
  AgWorkerPool *pool = ag_engine_get_worker_pool (fixture->engine);
  g_auto(GStrv) command = NULL;
  guint n_notified = 0;

  g_assert_true (AG_IS_WORKER_POOL (pool));
  g_assert_true (ag_engine_get_worker_pool (fixture->engine) == pool);
  g_assert_cmpint (ag_worker_pool_get_max_processes (pool), ==, (int) g_get_num_processors ());
  g_assert_cmpuint (ag_worker_pool_get_idle_ms (pool), ==, 10000);
  g_assert_cmpuint (ag_worker_pool_get_timeout_ms (pool), ==, 0);

  g_signal_connect_swapped (pool, "notify::max-processes", G_CALLBACK (count_int), &n_notified);
  ag_worker_pool_set_max_processes (pool, 3);
  ag_worker_pool_set_max_processes (pool, 3);
  g_assert_cmpint (ag_worker_pool_get_max_processes (pool), ==, 3);
  g_assert_cmpuint (n_notified, ==, 1);

  command = ag_worker_pool_dup_command (pool, AG_WORKER_C);
  g_assert_nonnull (command);
  g_assert_true (g_str_has_suffix (command[0], "asyncgui-worker"));

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*max_processes*");
  ag_worker_pool_set_max_processes (pool, 0);
  g_test_assert_expected_messages ();
}

static void
test_worker_task_zero_timeout_means_none (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  g_autoptr(AgWorkerTask) unlimited = module_task ("ag_test_sleep", g_variant_new_uint32 (600));
  g_autoptr(AgWorkerTask) defaulted = module_task ("ag_test_sleep", g_variant_new_uint32 (600));
  AgTestOutcome outcome;

  /* A task's 0 overrides the engine's limit... */
  ag_worker_pool_set_timeout_ms (ag_engine_get_worker_pool (fixture->engine), 200);
  ag_worker_task_set_timeout_ms (unlimited, 0);
  ag_test_run_task (fixture->engine, AG_TASK (unlimited), &outcome);
  g_assert_cmpint (outcome_int32 (&outcome), >, 0);
  ag_test_outcome_clear (&outcome);

  /* ...and the engine's 0 is no limit for a task that sets none. */
  ag_worker_pool_set_timeout_ms (ag_engine_get_worker_pool (fixture->engine), 0);
  ag_test_run_task (fixture->engine, AG_TASK (defaulted), &outcome);
  g_assert_cmpint (outcome_int32 (&outcome), >, 0);
  ag_test_outcome_clear (&outcome);
}

static void
test_worker_task_call_within_its_timeout_keeps_its_worker (AgTestFixture *fixture,
                                                           gconstpointer  data)
{
  int first = run_getpid (fixture->engine);

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(AgWorkerTask) task = module_task ("ag_test_sleep", g_variant_new_uint32 (50));
      AgTestOutcome outcome;

      ag_worker_task_set_timeout_ms (task, 400);
      ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
      g_assert_cmpint (outcome_int32 (&outcome), ==, first);
      ag_test_outcome_clear (&outcome);
    }

  /* Past the timeouts of the calls above: nothing fires late. */
  ag_test_run_for (fixture->context, 500);
  g_assert_true (ag_test_pid_exists (first));
  g_assert_cmpint (run_getpid (fixture->engine), ==, first);
}

static void
test_worker_task_time_waiting_for_a_worker_does_not_count (AgTestFixture *fixture,
                                                           gconstpointer  data)
{
  g_autoptr(AgWorkerTask) busy = module_task ("ag_test_sleep", g_variant_new_uint32 (500));
  g_autoptr(AgWorkerTask) queued = module_task ("ag_test_sleep", g_variant_new_uint32 (10));
  AgTestOutcome busy_outcome, queued_outcome;

  ag_worker_pool_set_max_processes (ag_engine_get_worker_pool (fixture->engine), 1);
  ag_worker_task_set_timeout_ms (queued, 300);
  ag_test_outcome_init (&busy_outcome, fixture->engine);
  ag_test_outcome_init (&queued_outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (busy), NULL, ag_test_outcome_callback,
                       &busy_outcome);
  ag_engine_run_async (fixture->engine, AG_TASK (queued), NULL, ag_test_outcome_callback,
                       &queued_outcome);
  ag_test_run_until (fixture->context, busy_outcome.n_calls > 0 && queued_outcome.n_calls > 0,
                     AG_TEST_SAFETY_MS);

  g_assert_cmpint (outcome_int32 (&busy_outcome), >, 0);
  g_assert_cmpint (outcome_int32 (&queued_outcome), ==, outcome_int32 (&busy_outcome));
  ag_test_outcome_clear (&busy_outcome);
  ag_test_outcome_clear (&queued_outcome);
}

static void
test_worker_task_worker_start_up_does_not_count_against_the_call (AgTestFixture *fixture,
                                                                  gconstpointer  data)
{
  g_auto(GStrv) real = ag_worker_pool_dup_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C);
  /* A worker that takes 400 ms to start, as an interpreter may. */
  const char *argv[] = { "/bin/sh", "-c", "sleep 0.4; exec \"$0\"", real[0], NULL };
  g_autoptr(AgWorkerTask) task = module_task ("ag_test_sleep", g_variant_new_uint32 (400));
  AgTestOutcome outcome;

  /* Each of start-up and call is well within 700 ms; both together not. */
  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, argv);
  ag_worker_task_set_timeout_ms (task, 700);
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  g_assert_cmpint (outcome_int32 (&outcome), ==, ag_worker_task_get_worker_pid (task));
  ag_test_outcome_clear (&outcome);
}

static void
test_worker_task_timeout_covers_a_worker_that_never_starts (AgTestFixture *fixture,
                                                            gconstpointer  data)
{
  const char *argv[] = { AG_TEST_FAKE_WORKER_PATH, "silent", NULL };
  g_autoptr(AgWorkerTask) task = ag_worker_task_new_c ("fake", "anything", NULL);

  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, argv);
  ag_worker_task_set_timeout_ms (task, 300);
  g_assert_cmpint (assert_times_out (fixture, task, 300), ==, 0);

  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, NULL);
  g_assert_cmpint (run_getpid (fixture->engine), >, 0);
  ag_test_assert_no_zombies (fixture->context, 2000);
}

static void
test_worker_task_timeout_is_a_property_fixed_once_run (AgTestFixture *fixture,
                                                       gconstpointer  data)
{
  g_autoptr(AgWorkerTask) task = module_task ("ag_test_getpid", NULL);
  AgTestOutcome outcome;
  int timeout_ms = 0;

  g_object_get (task, "timeout-ms", &timeout_ms, NULL);
  g_assert_cmpint (timeout_ms, ==, -1);
  g_object_set (task, "timeout-ms", 1500, NULL);
  g_assert_cmpint (ag_worker_task_get_timeout_ms (task), ==, 1500);

  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  g_assert_no_error (outcome.error);
  ag_test_outcome_clear (&outcome);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*has been run*");
  ag_worker_task_set_timeout_ms (task, 10);
  g_test_assert_expected_messages ();
  g_assert_cmpint (ag_worker_task_get_timeout_ms (task), ==, 1500);
}

/* Protocol violations, from fake-worker.c */

typedef struct
{
  const char *mode;
  GQuark      domain;   /* 0: the call succeeds with <42> */
  int         code;
  gboolean    worker_killed;
} ProtocolCase;

static void
test_worker_task_protocol_violation (AgTestFixture *fixture,
                                     gconstpointer  data)
{
  const ProtocolCase *pc = data;
  const char *argv[] = { AG_TEST_FAKE_WORKER_PATH, pc->mode, NULL };
  g_autoptr(AgWorkerTask) task = ag_worker_task_new_c ("fake", "anything", NULL);
  AgTestOutcome outcome;
  int pid, next;

  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, argv);
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);

  g_test_message ("%s: %s", pc->mode,
                  outcome.error != NULL ? outcome.error->message : "succeeded");
  if (pc->domain == 0)
    g_assert_cmpint (outcome_int32 (&outcome), ==, 42);
  else
    g_assert_error (outcome.error, pc->domain, pc->code);

  pid = ag_worker_task_get_worker_pid (task);
  g_assert_cmpint (pid, >, 0);
  if (pc->worker_killed)
    g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 2000));
  else
    g_assert_true (ag_test_pid_exists (pid));

  if (!pc->worker_killed)
    {
      /* The fake is still the warm worker and answers <42>. */
      g_autoptr(AgWorkerTask) again = ag_worker_task_new_c ("fake", "anything", NULL);
      AgTestOutcome again_outcome;

      ag_test_run_task (fixture->engine, AG_TASK (again), &again_outcome);
      g_assert_cmpint (outcome_int32 (&again_outcome), ==, 42);
      g_assert_cmpint (ag_worker_task_get_worker_pid (again), ==, pid);
      ag_test_outcome_clear (&again_outcome);
    }

  /* The pool carries on with the real worker, in a fresh process. */
  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, NULL);
  next = run_getpid (fixture->engine);
  g_assert_cmpint (next, !=, pid);
  g_assert_true (ag_test_wait_pid_gone (fixture->context, pid, 2000));

  ag_test_outcome_clear (&outcome);
  g_assert_cmpuint (ag_test_count_zombie_children (), ==, 0);
}

static void
test_worker_task_truncated_reply_from_live_worker_can_be_cancelled (AgTestFixture *fixture,
                                                                    gconstpointer  data)
{
  const char *argv[] = { AG_TEST_FAKE_WORKER_PATH, "truncated-stay", NULL };
  g_autoptr(AgWorkerTask) task = ag_worker_task_new_c ("fake", "anything", NULL);
  AgTestOutcome outcome;

  /* Half a frame from a worker that stays looks like a slow worker; the
   * call waits, and cancelling it must still work and kill the worker. */
  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, argv);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (task), NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_for (fixture->context, 200);
  g_assert_cmpuint (outcome.n_calls, ==, 0);

  ag_task_cancel (AG_TASK (task));
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  ag_test_outcome_clear (&outcome);

  ag_worker_pool_set_command (ag_engine_get_worker_pool (fixture->engine), AG_WORKER_C, NULL);
  g_assert_cmpint (run_getpid (fixture->engine), >, 0);
  /* The killed worker is reaped on another thread: on a busy machine,
   * maybe only after the next call returned. */
  ag_test_assert_no_zombies (fixture->context, 2000);
}

static const ProtocolCase protocol_cases[] = {
  /* Half a message, then gone: what it sent is broken, so the protocol is
   * what failed. Gone without a word is a crash. */
  { "truncated-exit", 0, AG_ERROR_PROTOCOL, TRUE },
  { "exit", 0, AG_ERROR_WORKER_CRASHED, TRUE },
  { "absurd-length", 0, AG_ERROR_PROTOCOL, TRUE },
  { "zero-length", 0, AG_ERROR_PROTOCOL, TRUE },
  { "not-a-reply", 0, AG_ERROR_PROTOCOL, TRUE },
  { "unknown-id", 0, AG_ERROR_PROTOCOL, TRUE },
  /* The reply was good and the call gets it; the garbage after it costs
   * the worker its life, not the call. */
  { "reply-then-garbage", 0, 0, TRUE },
  /* A failure reply whose error is not "(sisv)" fails the call, and a
   * worker that breaks the protocol is not trusted with another call. */
  { "bad-error-payload", 0, AG_ERROR_PROTOCOL, TRUE },
};

/* g_object_new() (a binding's default constructor) makes a task with no
 * a module and a function: running it fails with an error that says how to make one. */
static void
test_worker_task_made_without_a_call_fails_when_run (AgTestFixture *fixture,
                                                     gconstpointer  data)
{
  ag_test_assert_bare_task_fails (fixture, AG_TYPE_WORKER_TASK, "ag_worker_task_new_c");
}

/* Worker functions print: their stdout goes to the application's stderr,
 * and neither a line nor a buffered tail corrupts a reply. */
static void
test_worker_task_what_a_function_prints_leaves_the_reply_alone (AgTestFixture *fixture,
                                                                gconstpointer  data)
{
  for (int i = 0; i < 2; i++)
    {
      g_autoptr(AgWorkerTask) task =
        module_task ("ag_test_print_then_echo", g_variant_new_int32 (40 + i));
      AgTestOutcome outcome;

      ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
      g_assert_no_error (outcome.error);
      g_assert_cmpint (outcome_int32 (&outcome), ==, 40 + i);
      ag_test_outcome_clear (&outcome);
    }
}

/* A worker dies with the application, also one that exits without
 * disposing its engine or crashes: a call nobody can receive must not run
 * on for ever. */
static char *
orphan_pid_path (int application_pid)
{
  return g_strdup_printf ("%s/asyncgui-test-orphan-%d", g_get_tmp_dir (), application_pid);
}

static void
test_worker_task_workers_die_with_the_application (void)
{
  g_autofree char *path = NULL;
  int worker;

  if (g_test_subprocess ())
    {
      AgEngine *engine;
      AgWorkerTask *task;
      int null_fd = open ("/dev/null", O_WRONLY);

      /* A worker inherits stdout and stderr, which the trap reads to
       * their end: one left running would hold them. */
      dup2 (null_fd, STDOUT_FILENO);
      dup2 (null_fd, STDERR_FILENO);
      engine = ag_engine_new ();
      path = orphan_pid_path (getppid ());
      task = pid_then_sleep_task (path, 60000);
      ag_engine_run_async (engine, AG_TASK (task), NULL, NULL, NULL);
      ag_test_wait_pid_file (NULL, path, AG_TEST_SAFETY_MS);
      _exit (0);
    }

  path = orphan_pid_path (getpid ());
  g_unlink (path);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);

  worker = ag_test_wait_pid_file (NULL, path, AG_TEST_SAFETY_MS);
  g_unlink (path);
  if (!ag_test_wait_pid_gone (NULL, worker, 5000))
    {
      kill (worker, SIGKILL);
      g_test_fail_printf ("the worker %d outlived the application", worker);
      return;
    }
  g_test_trap_assert_passed ();
}

/* ag_worker_take_stdout() moves the reply pipe once: a second call would
 * take stderr for the replies, and is refused with a critical. */
static void
test_worker_task_take_stdout_twice_is_a_critical (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      int replies = ag_worker_take_stdout (&error);

      g_assert_no_error (error);
      g_assert_cmpint (replies, >, STDERR_FILENO);
      ag_worker_take_stdout (NULL);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*ag_worker_take_stdout*");
}

/* ag_worker_take_stdin() gives the pipe that stdin was, and stdin then
 * reads end of file; a second call would take /dev/null for the requests,
 * and is refused with a critical. */
static void
test_worker_task_take_stdin_leaves_end_of_file_and_twice_is_a_critical (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      int fds[2];
      int requests;
      char byte = 0;

      g_assert_no_errno (pipe (fds));
      g_assert_no_errno (dup2 (fds[0], STDIN_FILENO));
      g_assert_no_errno (write (fds[1], "r", 1));
      requests = ag_worker_take_stdin (&error);
      g_assert_no_error (error);
      g_assert_cmpint (requests, >, STDERR_FILENO);
      g_assert_cmpint (read (STDIN_FILENO, &byte, 1), ==, 0);
      g_assert_cmpint (read (requests, &byte, 1), ==, 1);
      g_assert_cmpint (byte, ==, 'r');
      g_assert_cmpint (fcntl (requests, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
      ag_worker_take_stdin (NULL);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*ag_worker_take_stdin*");
}

int
main (int   argc,
      char *argv[])
{
  ProtocolCase cases[G_N_ELEMENTS (protocol_cases)];
  int status;

  ag_test_init (&argc, &argv);

  g_test_add_func ("/worker-task/workers-die-with-the-application",
                   test_worker_task_workers_die_with_the_application);
  g_test_add_func ("/worker-task/take-stdout-twice-is-a-critical",
                   test_worker_task_take_stdout_twice_is_a_critical);
  g_test_add_func ("/worker-task/take-stdin-leaves-end-of-file-and-twice-is-a-critical",
                   test_worker_task_take_stdin_leaves_end_of_file_and_twice_is_a_critical);
  ag_test_add ("/worker-task/what-a-function-prints-leaves-the-reply-alone",
               test_worker_task_what_a_function_prints_leaves_the_reply_alone);
  ag_test_add ("/worker-task/made-without-a-call-fails-when-run",
               test_worker_task_made_without_a_call_fails_when_run);
  ag_test_add ("/worker-task/runs-in-another-process",
               test_worker_task_runs_in_another_process);
  ag_test_add ("/worker-task/warm-worker-serves-the-next-call",
               test_worker_task_warm_worker_serves_the_next_call);
  ag_test_add ("/worker-task/values-round-trip",
               test_worker_task_values_round_trip);
  ag_test_add ("/worker-task/large-payloads-round-trip",
               test_worker_task_large_payloads_round_trip);
  ag_test_add ("/worker-task/result-above-frame-limit-fails",
               test_worker_task_result_above_frame_limit_fails);
  g_test_add_func ("/worker-task/arguments-above-frame-limit-fail",
                   test_worker_task_arguments_above_frame_limit_fail);
  ag_test_add ("/worker-task/arguments-nested-too-deep-fail-the-call-alone",
               test_worker_task_arguments_nested_too_deep_fail_the_call_alone);
  ag_test_add ("/worker-task/result-nested-too-deep-fails-the-call-alone",
               test_worker_task_result_nested_too_deep_fails_the_call_alone);
  ag_test_add ("/worker-task/function-without-value-gives-unit",
               test_worker_task_function_without_value_gives_unit);
  ag_test_add ("/worker-task/gerror-keeps-domain-code-and-message",
               test_worker_task_gerror_keeps_domain_code_and_message);
  ag_test_add ("/worker-task/gerror-in-a-glib-domain-this-process-never-used-keeps-it",
               test_worker_task_gerror_in_a_glib_domain_this_process_never_used_keeps_it);
  ag_test_add ("/worker-task/unknown-module-or-symbol-fails-clearly",
               test_worker_task_unknown_module_or_symbol_fails_clearly);
  ag_test_add ("/worker-task/missing-worker-program-fails-the-call",
               test_worker_task_missing_worker_program_fails_the_call);
  ag_test_add ("/worker-task/worker-program-not-in-path-is-named",
               test_worker_task_worker_program_not_in_path_is_named);
  ag_test_add ("/worker-task/call-cancelled-before-it-starts-spawns-no-worker",
               test_worker_task_call_cancelled_before_it_starts_spawns_no_worker);
  ag_test_add ("/worker-task/shorter-idle-time-lets-idle-workers-go",
               test_worker_task_shorter_idle_time_lets_idle_workers_go);
  ag_test_add ("/worker-task/lowering-max-processes-lets-surplus-workers-go",
               test_worker_task_lowering_max_processes_lets_surplus_workers_go);
  ag_test_add ("/worker-task/call-goes-on-through-an-interrupt",
               test_worker_task_call_goes_on_through_an_interrupt);
  ag_test_add ("/worker-task/exit-fails-the-call-while-a-child-holds-its-pipe",
               test_worker_task_exit_fails_the_call_while_a_child_holds_its_pipe);
  ag_test_add ("/worker-task/exit-mid-call-fails-with-worker-crashed",
               test_worker_task_exit_mid_call_fails_with_worker_crashed);
  ag_test_add ("/worker-task/exits-at-once-fails-the-call",
               test_worker_task_exits_at_once_fails_the_call);
  ag_test_add ("/worker-task/start-failures-are-retried-a-bounded-number-of-times",
               test_worker_task_start_failures_are_retried_a_bounded_number_of_times);
  ag_test_add ("/worker-task/worker-that-starts-on-a-retry-runs-the-call-once",
               test_worker_task_worker_that_starts_on_a_retry_runs_the_call_once);
  ag_test_add ("/worker-task/sigkill-fails-only-its-own-call",
               test_worker_task_sigkill_fails_only_its_own_call);
  ag_test_add ("/worker-task/sigkill-recovery-twenty-times-leaks-nothing",
               test_worker_task_sigkill_recovery_twenty_times_leaks_nothing);
  ag_test_add ("/worker-task/call-its-worker-could-not-take-runs-in-a-fresh-one",
               test_worker_task_call_its_worker_could_not_take_runs_in_a_fresh_one);
  ag_test_add ("/worker-task/call-left-unread-by-a-dead-worker-runs-in-a-fresh-one",
               test_worker_task_call_left_unread_by_a_dead_worker_runs_in_a_fresh_one);
  ag_test_add ("/worker-task/call-no-worker-takes-fails-saying-so",
               test_worker_task_call_no_worker_takes_fails_saying_so);
  ag_test_add ("/worker-task/call-during-a-command-change-to-a-broken-program-fails",
               test_worker_task_call_during_a_command_change_to_a_broken_program_fails);
  ag_test_add ("/worker-task/worker-that-closes-its-output-then-exits-is-named-by-its-status",
               test_worker_task_worker_that_closes_its_output_then_exits_is_named_by_its_status);
  ag_test_add ("/worker-task/worker-that-closes-its-output-and-stays-is-killed-and-says-so",
               test_worker_task_worker_that_closes_its_output_and_stays_is_killed_and_says_so);
  ag_test_add ("/worker-task/cancel-while-a-lost-worker-may-exit-is-answered-at-once",
               test_worker_task_cancel_while_a_lost_worker_may_exit_is_answered_at_once);
  ag_test_add ("/worker-task/function-that-closes-stdin-keeps-its-worker",
               test_worker_task_function_that_closes_stdin_keeps_its_worker);
  ag_test_add ("/worker-task/idle-worker-exits-after-idle-time",
               test_worker_task_idle_worker_exits_after_idle_time);
  ag_test_add ("/worker-task/idle-time-counts-from-the-last-call",
               test_worker_task_idle_time_counts_from_the_last_call);
  ag_test_add ("/worker-task/worker-let-go-takes-no-new-call",
               test_worker_task_worker_let_go_takes_no_new_call);
  ag_test_add ("/worker-task/worker-let-go-that-stays-is-killed",
               test_worker_task_worker_let_go_that_stays_is_killed);
  ag_test_add ("/worker-task/busy-worker-is-not-let-go",
               test_worker_task_busy_worker_is_not_let_go);
  ag_test_add ("/worker-task/max-processes-limits-concurrent-workers",
               test_worker_task_max_processes_limits_concurrent_workers);
  ag_test_add ("/worker-task/calls-wait-for-the-workers-there-are-when-no-more-can-start",
               test_worker_task_calls_wait_for_the_workers_there_are_when_no_more_can_start);
  ag_test_add ("/worker-task/many-queued-calls-all-complete-with-their-own-values",
               test_worker_task_many_queued_calls_all_complete_in_their_own_values);
  ag_test_add ("/worker-task/cancel-kills-its-worker",
               test_worker_task_cancel_kills_its_worker);
  ag_test_add ("/worker-task/cancel-of-queued-call-spares-the-worker",
               test_worker_task_cancel_of_queued_call_spares_the_worker);
  ag_test_add ("/worker-task/disposing-engine-terminates-all-workers",
               test_worker_task_disposing_engine_terminates_all_workers);
  ag_test_add ("/worker-task/outliving-its-engine-is-released-on-the-engines-thread",
               test_worker_task_outliving_its_engine_is_released_on_the_engines_thread);
  ag_test_add ("/worker-task/timeout/hanging-call-times-out-and-the-next-gets-a-fresh-worker",
               test_worker_task_hanging_call_times_out_and_the_next_gets_a_fresh_worker);
  ag_test_add ("/worker-pool/belongs-to-its-engine-and-notifies-changes",
               test_worker_pool_belongs_to_its_engine_and_notifies_changes);
  ag_test_add ("/worker-pool/asked-for-on-another-thread-is-a-critical",
               test_worker_pool_asked_for_on_another_thread_is_a_critical);
  ag_test_add ("/worker-task/timeout/engine-timeout-applies-when-the-task-sets-none",
               test_worker_task_engine_timeout_applies_when_the_task_sets_none);
  ag_test_add ("/worker-task/timeout/zero-means-none",
               test_worker_task_zero_timeout_means_none);
  ag_test_add ("/worker-task/timeout/call-within-its-timeout-keeps-its-worker",
               test_worker_task_call_within_its_timeout_keeps_its_worker);
  ag_test_add ("/worker-task/timeout/time-waiting-for-a-worker-does-not-count",
               test_worker_task_time_waiting_for_a_worker_does_not_count);
  ag_test_add ("/worker-task/timeout/worker-start-up-does-not-count-against-the-call",
               test_worker_task_worker_start_up_does_not_count_against_the_call);
  ag_test_add ("/worker-task/timeout/covers-a-worker-that-never-starts",
               test_worker_task_timeout_covers_a_worker_that_never_starts);
  ag_test_add ("/worker-task/timeout/is-a-property-fixed-once-run",
               test_worker_task_timeout_is_a_property_fixed_once_run);
  ag_test_add ("/worker-task/protocol/truncated-reply-from-live-worker-can-be-cancelled",
               test_worker_task_truncated_reply_from_live_worker_can_be_cancelled);

  /* GQuarks are not constants: the domains are filled in here. */
  for (guint i = 0; i < G_N_ELEMENTS (protocol_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/worker-task/protocol/%s",
                                               protocol_cases[i].mode);

      cases[i] = protocol_cases[i];
      if (cases[i].code != 0)
        cases[i].domain = AG_ERROR;
      g_test_add (path, AgTestFixture, &cases[i], ag_test_fixture_setup,
                  test_worker_task_protocol_violation, ag_test_fixture_teardown);
    }

  for (guint i = 0; i < G_N_ELEMENTS (start_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/worker-task/never-greets/%s",
                                               start_cases[i].mode);

      g_test_add (path, AgTestFixture, &start_cases[i], ag_test_fixture_setup,
                  test_worker_task_worker_that_never_greets_fails_the_call,
                  ag_test_fixture_teardown);
    }

  status = g_test_run ();
  ag_test_tmpdir_cleanup ();

  return status;
}
