/* test-worker-sandbox.c: sandboxed workers, their limits, and attacks on
 * them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The attacks are the functions of attack-module.c. Each test runs an
 * attack twice: unsandboxed, where it must succeed (or the test could not
 * fail), and sandboxed, where it must fail; then the engine runs another
 * call, which must succeed. These tests need bwrap and seccomp, as CI has
 * them (build-aux/install-deps.sh): without them they fail rather than
 * skip, so that a machine without a sandbox is noticed.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <glib/gstdio.h>

#include "worker-test-util.h"

#define ATTACK_MODULE TEST_ATTACK_MODULE

/* A sanitizer's worker reserves terabytes of address space for its
 * shadow memory as it starts, so no address-space limit leaves it room. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
# define SANITIZED 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#  define SANITIZED 1
# endif
#endif

static void
setup (AgTestFixture *fixture)
{
  AgWorkerPool *pool = ag_engine_get_worker_pool (fixture->engine);
  g_autofree char *module_dir = g_path_get_dirname (ATTACK_MODULE);
  const char *paths[] = { module_dir, NULL };
  g_autoptr(GError) error = NULL;

  ag_worker_pool_set_sandbox_paths (pool, paths);
  if (!ag_worker_pool_check_sandbox (pool, &error))
    g_error ("These tests need a sandbox: %s", error->message);
}

static AgWorkerTask *
attack_task (const char *symbol,
             GVariant   *args,
             gboolean    sandboxed)
{
  AgWorkerTask *task = ag_worker_task_new_c (ATTACK_MODULE, symbol, args);

  ag_worker_task_set_sandboxed (task, sandboxed);
  return task;
}

/* Runs an attack; returns whether it got what it was after. */
static gboolean
attack (AgTestFixture  *fixture,
        gboolean        sandboxed,
        const char     *symbol,
        GVariant       *args,
        char          **what)
{
  g_autoptr(AgWorkerTask) task = attack_task (symbol, args, sandboxed);
  AgTestOutcome outcome;
  gboolean got_it;
  GVariant *value;

  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  g_assert_no_error (outcome.error);
  value = g_value_get_variant (outcome.value);
  g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE ("(bs)")));
  g_variant_get (value, "(bs)", &got_it, what);
  g_test_message ("%s %s: %s", sandboxed ? "sandboxed" : "unsandboxed", symbol, *what);
  ag_test_outcome_clear (&outcome);

  return got_it;
}

#define assert_attack_succeeds(fixture, sandboxed, symbol, args) \
  G_STMT_START { \
    g_autofree char *what_ = NULL; \
    if (!attack ((fixture), (sandboxed), (symbol), (args), &what_)) \
      g_error ("%s should have got through %s: %s", (symbol), \
               (sandboxed) ? "the sandbox" : "an unsandboxed worker", what_); \
  } G_STMT_END

#define assert_attack_fails(fixture, sandboxed, symbol, args) \
  G_STMT_START { \
    g_autofree char *what_ = NULL; \
    if (attack ((fixture), (sandboxed), (symbol), (args), &what_)) \
      g_error ("%s got through the sandbox: %s", (symbol), what_); \
  } G_STMT_END

/* The engine, and the sandboxed workers, carry on after an attack. */
static void
assert_next_call_works (AgTestFixture *fixture,
                        gboolean       sandboxed)
{
  assert_attack_succeeds (fixture, sandboxed, "ag_attack_allocate",
                          g_variant_new ("(t)", (guint64) 4096));
}

/* A file only its owner may read, where the sandbox does not look. */
static char *
make_secret_file (void)
{
  char *path = ag_test_tmp_path ("shadow");
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, "root:secret\n", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);

  return path;
}

static void
test_worker_sandbox_reads_a_file_passed_as_fd (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  g_autofree char *secret = make_secret_file ();

  setup (fixture);

  /* The handle as an argument, and inside a variant (as in an a{sv} of
   * options): both become the descriptor. */
  for (int i = 0; i < 4; i++)
    {
      gboolean sandboxed = i / 2, in_variant = i % 2;
      g_autoptr(AgWorkerTask) task =
        attack_task ("ag_attack_size_of_fd",
                     in_variant ? g_variant_new ("(v)", g_variant_new_handle (0))
                                : g_variant_new ("(h)", 0),
                     sandboxed);
      g_autoptr(GFile) file = g_file_new_for_path (secret);
      g_autoptr(GError) error = NULL;
      AgTestOutcome outcome;

      g_assert_cmpint (ag_worker_task_add_file (task, file, &error), ==, 0);
      g_assert_no_error (error);
      g_assert_cmpuint (ag_worker_task_get_n_fds (task), ==, 1);

      ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
      g_assert_no_error (outcome.error);
      g_assert_cmpuint (g_variant_get_uint64 (g_value_get_variant (outcome.value)), ==,
                        strlen ("root:secret\n"));
      ag_test_outcome_clear (&outcome);
    }

  ag_test_tmpdir_cleanup ();
}

/* A handle in the arguments of a call that passes no file names no file:
 * the function must not get a descriptor of the worker's own. */
static void
test_worker_sandbox_handles_without_files_are_refused (AgTestFixture *fixture,
                                                       gconstpointer  data)
{
  setup (fixture);

  for (int sandboxed = 0; sandboxed < 2; sandboxed++)
    {
      g_autoptr(AgWorkerTask) task = attack_task ("ag_attack_size_of_fd",
                                                  g_variant_new ("(h)", 3), sandboxed);
      AgTestOutcome outcome;

      ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
      g_assert_error (outcome.error, AG_ERROR, AG_ERROR_FAILED);
      g_assert_nonnull (strstr (outcome.error->message, "file 3, and the call has 0"));
      ag_test_outcome_clear (&outcome);
      assert_next_call_works (fixture, sandboxed);
    }
}

/* A call passes at most 253 files (as many as one message may carry):
 * more are refused as they are added, before anything is sent. */
static void
test_worker_sandbox_a_call_passes_at_most_253_files (void)
{
  g_autoptr(AgWorkerTask) task = ag_worker_task_new_c (ATTACK_MODULE, "ag_attack_size_of_fd",
                                                       g_variant_new ("(h)", 0));
  g_autoptr(GError) error = NULL;
  int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  for (int i = 0; i < 253; i++)
    g_assert_cmpint (ag_worker_task_add_fd (task, fd, NULL), ==, i);
  g_assert_cmpint (ag_worker_task_add_fd (task, fd, &error), ==, -1);
  g_assert_error (error, AG_ERROR, AG_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "253"));
  g_assert_cmpuint (ag_worker_task_get_n_fds (task), ==, 253);
  close (fd);
}

/* A task lets go of the descriptors it passed once its call is over, not
 * when it is freed: an application that keeps its finished tasks (a view's
 * rows) would run out of descriptors. */
static void
test_worker_sandbox_a_finished_task_lets_go_of_its_files (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  g_autofree char *secret = make_secret_file ();
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func (g_object_unref);
  guint fds = 0;

  setup (fixture);

  for (int i = 0; i < 12; i++)
    {
      AgWorkerTask *task = attack_task ("ag_attack_size_of_fd", g_variant_new ("(h)", 0), FALSE);
      g_autoptr(GFile) file = g_file_new_for_path (secret);
      AgTestOutcome outcome;

      g_assert_cmpint (ag_worker_task_add_file (task, file, NULL), ==, 0);
      ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
      g_assert_no_error (outcome.error);
      ag_test_outcome_clear (&outcome);
      g_ptr_array_add (kept, task);
      /* After a first call, which starts the worker. */
      if (i == 1)
        fds = ag_test_settled_fd_count (fixture->context);
    }

  g_assert_cmpuint (ag_test_settled_fd_count (fixture->context), ==, fds);
  ag_test_tmpdir_cleanup ();
}

static void
test_worker_sandbox_private_files_are_out_of_reach (AgTestFixture *fixture,
                                                    gconstpointer  data)
{
  g_autofree char *secret = make_secret_file ();
  const char *home = g_get_home_dir ();

  setup (fixture);

  assert_attack_succeeds (fixture, FALSE, "ag_attack_read_file", g_variant_new ("(s)", secret));
  assert_attack_fails (fixture, TRUE, "ag_attack_read_file", g_variant_new ("(s)", secret));
  assert_attack_fails (fixture, TRUE, "ag_attack_read_file", g_variant_new ("(s)", "/etc/shadow"));
  assert_attack_fails (fixture, TRUE, "ag_attack_read_file", g_variant_new ("(s)", "/etc/passwd"));

  assert_attack_succeeds (fixture, FALSE, "ag_attack_list_dir", g_variant_new ("(s)", home));
  assert_attack_fails (fixture, TRUE, "ag_attack_list_dir", g_variant_new ("(s)", home));

  assert_next_call_works (fixture, TRUE);
  ag_test_tmpdir_cleanup ();
}

static void
test_worker_sandbox_writes_outside_its_tmp_are_refused (AgTestFixture *fixture,
                                                        gconstpointer  data)
{
  g_autofree char *outside = ag_test_tmp_path ("written-by-the-worker");
  g_autofree char *module_dir = g_path_get_dirname (ATTACK_MODULE);
  g_autofree char *beside_module = g_build_filename (module_dir, "written-by-the-worker", NULL);

  setup (fixture);

  assert_attack_succeeds (fixture, FALSE, "ag_attack_write_file", g_variant_new ("(s)", outside));
  g_assert_true (g_file_test (outside, G_FILE_TEST_EXISTS));
  g_assert_cmpint (g_unlink (outside), ==, 0);

  assert_attack_fails (fixture, TRUE, "ag_attack_write_file", g_variant_new ("(s)", outside));
  g_assert_false (g_file_test (outside, G_FILE_TEST_EXISTS));
  /* A folder it sees, read-only. */
  assert_attack_fails (fixture, TRUE, "ag_attack_write_file", g_variant_new ("(s)", beside_module));
  g_assert_false (g_file_test (beside_module, G_FILE_TEST_EXISTS));
  /* Its own /tmp, which is private. */
  assert_attack_succeeds (fixture, TRUE, "ag_attack_write_file",
                          g_variant_new ("(s)", "/tmp/scratch"));
  g_assert_false (g_file_test ("/tmp/scratch", G_FILE_TEST_EXISTS)
                  && g_file_test (outside, G_FILE_TEST_EXISTS));

  assert_next_call_works (fixture, TRUE);
  ag_test_tmpdir_cleanup ();
}

static void
test_worker_sandbox_network_is_out_of_reach (AgTestFixture *fixture,
                                             gconstpointer  data)
{
  struct sockaddr_in address = { 0 };
  socklen_t length = sizeof address;
  int listener = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  setup (fixture);

  g_assert_cmpint (listener, >=, 0);
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (listener, (struct sockaddr *) &address, sizeof address), ==, 0);
  g_assert_cmpint (listen (listener, 8), ==, 0);
  g_assert_cmpint (getsockname (listener, (struct sockaddr *) &address, &length), ==, 0);

  assert_attack_succeeds (fixture, FALSE, "ag_attack_connect",
                          g_variant_new ("(q)", ntohs (address.sin_port)));
  assert_attack_fails (fixture, TRUE, "ag_attack_connect",
                       g_variant_new ("(q)", ntohs (address.sin_port)));

  close (listener);
  assert_next_call_works (fixture, TRUE);
}

static void
test_worker_sandbox_shell_cannot_be_spawned (AgTestFixture *fixture,
                                             gconstpointer  data)
{
  setup (fixture);

  assert_attack_succeeds (fixture, FALSE, "ag_attack_spawn_shell", g_variant_new ("()"));
  assert_attack_fails (fixture, TRUE, "ag_attack_spawn_shell", g_variant_new ("()"));

  assert_next_call_works (fixture, TRUE);
}

/* Runs @symbol with @args under @memory_limit and @cpu_limit_ms. */
static void
run_limited (AgTestFixture *fixture,
             gboolean       sandboxed,
             const char    *symbol,
             GVariant      *args,
             guint64        memory_limit,
             int            cpu_limit_ms,
             AgTestOutcome *outcome)
{
  g_autoptr(AgWorkerTask) task = attack_task (symbol, args, sandboxed);

  ag_worker_task_set_memory_limit (task, memory_limit);
  ag_worker_task_set_cpu_limit_ms (task, cpu_limit_ms);
  /* Processor time on a shared machine can take a while in wall time. */
  ag_test_outcome_init (outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (task), NULL, ag_test_outcome_callback, outcome);
  ag_test_run_until (fixture->context, outcome->n_calls > 0, 6 * AG_TEST_SAFETY_MS);
}

static void
test_worker_sandbox_memory_limit_fails_the_call_and_replaces_the_worker (AgTestFixture *fixture,
                                                                        gconstpointer  data)
{
  const guint64 limit = 256 * 1024 * 1024;

#ifdef SANITIZED
  g_test_skip ("a sanitized worker reserves more address space than any limit allows");
  return;
#endif

  setup (fixture);

  for (int sandboxed = FALSE; sandboxed <= TRUE; sandboxed++)
    {
      AgTestOutcome outcome;

      /* Without the limit, the allocation goes through. */
      run_limited (fixture, sandboxed, "ag_attack_allocate",
                   g_variant_new ("(t)", (guint64) 2 * limit), 0, 0, &outcome);
      g_assert_no_error (outcome.error);
      ag_test_outcome_clear (&outcome);

      run_limited (fixture, sandboxed, "ag_attack_allocate",
                   g_variant_new ("(t)", (guint64) 2 * limit), limit, 0, &outcome);
      g_assert_error (outcome.error, AG_ERROR, AG_ERROR_MEMORY_LIMIT);
      ag_test_outcome_clear (&outcome);

      /* The next call, in a fresh worker, has no limit but its own. */
      run_limited (fixture, sandboxed, "ag_attack_allocate",
                   g_variant_new ("(t)", (guint64) limit / 2), limit, 0, &outcome);
      g_assert_no_error (outcome.error);
      ag_test_outcome_clear (&outcome);
    }
}

static void
test_worker_sandbox_cpu_limit_fails_the_call_and_replaces_the_worker (AgTestFixture *fixture,
                                                                     gconstpointer  data)
{
  setup (fixture);

  for (int sandboxed = FALSE; sandboxed <= TRUE; sandboxed++)
    {
      AgTestOutcome outcome;

      /* Without the limit, the loop runs as long as it likes: past the
       * 300 ms the limit below allows, even rounded up to the next whole
       * second of the worker's processor time (at most 1.3 s from now). */
      run_limited (fixture, sandboxed, "ag_attack_burn_cpu",
                   g_variant_new ("(u)", 1800), 0, 0, &outcome);
      g_assert_no_error (outcome.error);
      ag_test_outcome_clear (&outcome);

      run_limited (fixture, sandboxed, "ag_attack_burn_cpu",
                   g_variant_new ("(u)", 1800), 0, 300, &outcome);
      g_assert_error (outcome.error, AG_ERROR, AG_ERROR_CPU_LIMIT);
      ag_test_outcome_clear (&outcome);

      assert_next_call_works (fixture, sandboxed);
    }
}

static void
test_worker_sandbox_crafted_reply_is_a_protocol_error (AgTestFixture *fixture,
                                                       gconstpointer  data)
{
  setup (fixture);

  for (int sandboxed = FALSE; sandboxed <= TRUE; sandboxed++)
    {
      g_autoptr(AgWorkerTask) task = attack_task ("ag_attack_crafted_reply", NULL, sandboxed);
      AgTestOutcome outcome;

      ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
      g_assert_error (outcome.error, AG_ERROR, AG_ERROR_PROTOCOL);
      ag_test_outcome_clear (&outcome);

      assert_next_call_works (fixture, sandboxed);
    }
}

static void
test_worker_sandbox_result_of_another_type_fails (AgTestFixture *fixture,
                                                  gconstpointer  data)
{
  g_autoptr(AgWorkerTask) task = attack_task ("ag_attack_allocate",
                                              g_variant_new ("(t)", (guint64) 1), TRUE);
  g_autoptr(AgWorkerTask) typed = attack_task ("ag_attack_allocate",
                                               g_variant_new ("(t)", (guint64) 1), TRUE);
  AgTestOutcome outcome;

  setup (fixture);

  ag_worker_task_set_result_type (task, G_VARIANT_TYPE ("(uu)"));
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  g_assert_error (outcome.error, AG_ERROR, AG_ERROR_TYPE_MISMATCH);
  ag_test_outcome_clear (&outcome);

  ag_worker_task_set_result_type (typed, G_VARIANT_TYPE ("(bs)"));
  ag_test_run_task (fixture->engine, AG_TASK (typed), &outcome);
  g_assert_no_error (outcome.error);
  ag_test_outcome_clear (&outcome);
}

static int
worker_pid_of (AgTestFixture *fixture,
               gboolean       sandboxed)
{
  g_autoptr(AgWorkerTask) task = attack_task ("ag_attack_allocate",
                                              g_variant_new ("(t)", (guint64) 1), sandboxed);
  AgTestOutcome outcome;
  int pid;

  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  g_assert_no_error (outcome.error);
  pid = ag_worker_task_get_worker_pid (task);
  ag_test_outcome_clear (&outcome);

  return pid;
}

static void
test_worker_sandbox_sandboxed_workers_are_a_set_of_their_own (AgTestFixture *fixture,
                                                              gconstpointer  data)
{
  int trusted, sandboxed;

  setup (fixture);
  ag_worker_pool_set_max_processes (ag_engine_get_worker_pool (fixture->engine), 1);

  trusted = worker_pid_of (fixture, FALSE);
  sandboxed = worker_pid_of (fixture, TRUE);

  g_assert_cmpint (trusted, !=, sandboxed);
  /* The worker's own process, not the bwrap that runs it. */
  {
    g_autofree char *path = g_strdup_printf ("/proc/%d/comm", sandboxed);
    g_autofree char *comm = NULL;

    g_assert_true (g_file_get_contents (path, &comm, NULL, NULL));
    g_assert_cmpstr (g_strchomp (comm), ==, "asyncgui-worker");
  }
  /* Each set keeps its warm worker. */
  g_assert_cmpint (worker_pid_of (fixture, FALSE), ==, trusted);
  g_assert_cmpint (worker_pid_of (fixture, TRUE), ==, sandboxed);
}

static void
test_worker_sandbox_missing_bwrap_fails_unless_allowed (AgTestFixture *fixture,
                                                        gconstpointer  data)
{
  AgWorkerPool *pool = ag_engine_get_worker_pool (fixture->engine);
  g_autoptr(GError) error = NULL;
  AgTestOutcome outcome;

  setup (fixture);
  g_setenv ("ASYNCGUI_BWRAP", "/nonexistent/bwrap", TRUE);

  g_assert_false (ag_worker_pool_check_sandbox (pool, &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE);

  {
    g_autoptr(AgWorkerTask) task = attack_task ("ag_attack_allocate",
                                                g_variant_new ("(t)", (guint64) 1), TRUE);

    ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
    g_assert_error (outcome.error, AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE);
    g_assert_nonnull (strstr (outcome.error->message, "/nonexistent/bwrap"));
    ag_test_outcome_clear (&outcome);
  }

  /* Allowed, it runs unprotected, and says nothing more of it. */
  ag_worker_pool_set_allow_unsandboxed (pool, TRUE);
  assert_attack_succeeds (fixture, TRUE, "ag_attack_spawn_shell", g_variant_new ("()"));

  g_unsetenv ("ASYNCGUI_BWRAP");
}

/* bwrap is there but cannot make its namespaces (a container's default
 * profile): allowed to, the call runs unsandboxed, as without bwrap. */
static void
test_worker_sandbox_bwrap_that_cannot_start_falls_back_when_allowed (AgTestFixture *fixture,
                                                                     gconstpointer  data)
{
  AgWorkerPool *pool = ag_engine_get_worker_pool (fixture->engine);
  g_autofree char *fake = ag_test_tmp_path ("bwrap");
  g_autoptr(GError) error = NULL;
  AgTestOutcome outcome;

  setup (fixture);
  g_assert_true (g_file_set_contents (fake, "#!/bin/sh\n"
                                      "echo 'bwrap: No permissions to create a new namespace' >&2\n"
                                      "exit 1\n", -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (fake, 0755), ==, 0);
  g_setenv ("ASYNCGUI_BWRAP", fake, TRUE);

  {
    g_autoptr(AgWorkerTask) task = attack_task ("ag_attack_allocate",
                                                g_variant_new ("(t)", (guint64) 1), TRUE);

    ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
    g_assert_error (outcome.error, AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE);
    ag_test_outcome_clear (&outcome);
  }

  ag_worker_pool_set_allow_unsandboxed (pool, TRUE);
  assert_attack_succeeds (fixture, TRUE, "ag_attack_spawn_shell", g_variant_new ("()"));

  g_unsetenv ("ASYNCGUI_BWRAP");
  ag_test_tmpdir_cleanup ();
}

static void
test_worker_sandbox_add_file_names_a_file_it_cannot_open (void)
{
  g_autoptr(AgWorkerTask) task = attack_task ("ag_attack_size_of_fd", NULL, TRUE);
  g_autoptr(GFile) missing = g_file_new_for_path ("/nonexistent/asyncgui-input");
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (ag_worker_task_add_file (task, missing, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent/asyncgui-input"));
  g_assert_cmpuint (ag_worker_task_get_n_fds (task), ==, 0);
}

static void
test_worker_sandbox_settings_are_fixed_once_run (AgTestFixture *fixture,
                                                 gconstpointer  data)
{
  g_autoptr(AgWorkerTask) task = attack_task ("ag_attack_allocate",
                                              g_variant_new ("(t)", (guint64) 1), TRUE);
  AgTestOutcome outcome;

  setup (fixture);
  ag_worker_task_set_cpu_limit_ms (task, 60000);
  g_assert_cmpint (ag_worker_task_get_cpu_limit_ms (task), ==, 60000);
  ag_test_run_task (fixture->engine, AG_TASK (task), &outcome);
  g_assert_no_error (outcome.error);
  ag_test_outcome_clear (&outcome);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*has been run*sandbox*");
  ag_worker_task_set_sandboxed (task, FALSE);
  g_test_assert_expected_messages ();
  g_assert_true (ag_worker_task_get_sandboxed (task));

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*has been run*memory limit*");
  ag_worker_task_set_memory_limit (task, 1 << 30);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (ag_worker_task_get_memory_limit (task), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/worker-sandbox/reads-a-file-passed-as-fd",
               test_worker_sandbox_reads_a_file_passed_as_fd);
  ag_test_add ("/worker-sandbox/handles-without-files-are-refused",
               test_worker_sandbox_handles_without_files_are_refused);
  ag_test_add ("/worker-sandbox/a-finished-task-lets-go-of-its-files",
               test_worker_sandbox_a_finished_task_lets_go_of_its_files);
  g_test_add_func ("/worker-sandbox/a-call-passes-at-most-253-files",
                   test_worker_sandbox_a_call_passes_at_most_253_files);
  ag_test_add ("/worker-sandbox/bwrap-that-cannot-start-falls-back-when-allowed",
               test_worker_sandbox_bwrap_that_cannot_start_falls_back_when_allowed);
  ag_test_add ("/worker-sandbox/private-files-are-out-of-reach",
               test_worker_sandbox_private_files_are_out_of_reach);
  ag_test_add ("/worker-sandbox/writes-outside-its-tmp-are-refused",
               test_worker_sandbox_writes_outside_its_tmp_are_refused);
  ag_test_add ("/worker-sandbox/network-is-out-of-reach",
               test_worker_sandbox_network_is_out_of_reach);
  ag_test_add ("/worker-sandbox/shell-cannot-be-spawned",
               test_worker_sandbox_shell_cannot_be_spawned);
  ag_test_add ("/worker-sandbox/memory-limit-fails-the-call-and-replaces-the-worker",
               test_worker_sandbox_memory_limit_fails_the_call_and_replaces_the_worker);
  ag_test_add ("/worker-sandbox/cpu-limit-fails-the-call-and-replaces-the-worker",
               test_worker_sandbox_cpu_limit_fails_the_call_and_replaces_the_worker);
  ag_test_add ("/worker-sandbox/crafted-reply-is-a-protocol-error",
               test_worker_sandbox_crafted_reply_is_a_protocol_error);
  ag_test_add ("/worker-sandbox/result-of-another-type-fails",
               test_worker_sandbox_result_of_another_type_fails);
  ag_test_add ("/worker-sandbox/sandboxed-workers-are-a-set-of-their-own",
               test_worker_sandbox_sandboxed_workers_are_a_set_of_their_own);
  ag_test_add ("/worker-sandbox/missing-bwrap-fails-unless-allowed",
               test_worker_sandbox_missing_bwrap_fails_unless_allowed);

  g_test_add_func ("/worker-sandbox/add-file-names-a-file-it-cannot-open",
                   test_worker_sandbox_add_file_names_a_file_it_cannot_open);
  ag_test_add ("/worker-sandbox/settings-are-fixed-once-run",
               test_worker_sandbox_settings_are_fixed_once_run);

  return g_test_run ();
}
