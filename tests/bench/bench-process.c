/* bench-process.c: sequential tiny calls to a warm worker process
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `process` workload. Each completion callback submits the next call,
 * so one call is in flight at a time and each pays the whole round trip:
 * GUI thread → process thread → pipe → worker → pipe → process thread →
 * delivery on the GUI thread. A trip is timed from just before its task is
 * created to the entry of its callback; the median is reported.
 *
 *   impl=asyncgui  ag_test_echo (<int32 i>) in a warm C worker
 *                  (asyncgui-worker loading tests/c/worker's test module);
 *                  one untimed call first starts the worker
 *   impl=asyncgui-sandboxed  the same as asyncgui, in a sandboxed warm
 *                  worker (bwrap, seccomp): the sandbox's cost per call
 *   impl=asyncgui-cold, asyncgui-sandboxed-cold  the same, each call in a
 *                  fresh worker: the pool's command is set again before
 *                  every call, which lets the warm worker go, so every
 *                  trip pays the start of a worker (and of its sandbox)
 *   impl=asyncgui-python  os:getpid() in a warm Python worker
 *                  (asyncgui-python-worker.py), pickled arguments and result
 *   impl=spawn     the baseline: a fresh GSubprocess per call running the
 *                  same asyncgui-worker program for one request (spawn,
 *                  load the module, answer, exit, reap), driven from the
 *                  GUI thread with g_subprocess_communicate_async()
 *   impl=asyncgui-command  the same per call through an AgCommandTask: the
 *                  request is its stdin, the reply its stdout; the spawn
 *                  baseline's work, done on the engine's process thread
 *   impl=loop-pipe the strongest fair baseline: what a skilled GLib
 *                  programmer writes for calls to a warm child without
 *                  asyncgui. A warm ag-bench-echo child (spawned before the
 *                  clock, like asyncgui's worker in its untimed first
 *                  call); the GUI thread writes the 4-byte request to its
 *                  stdin and a GSource watching its stdout (one, for the
 *                  whole run) reads the reply and runs the callback: the
 *                  same delivery, a dispatch on the GUI thread's context,
 *                  with nothing between the pipes and the loop
 *   impl=floor-pipe (bench-floors.c) the same child, blocking reads and
 *                  writes and no main loop: the floor
 *
 * cpu_us is the CPU time per timed call of every thread of this process and
 * of the worker process (live, or reaped for spawn), so a call that is fast
 * because something spins shows what it costs.
 *
 * Finding the workers: everything lives in the build tree, which is found
 * from this program's own path (/proc/self/exe is BUILD/tests/bench/ag-bench):
 * the C worker is BUILD/asyncgui/asyncgui-worker, the Python worker
 * BUILD/asyncgui/asyncgui-python-worker.py and the module
 * BUILD/tests/c/worker/libag-test-worker.so. The engine is pointed at those
 * programs with ag_worker_pool_set_command(), so nothing depends on the
 * environment; when ASYNCGUI_WORKER_DIR is set, the engine's own lookup is
 * used instead. AG_BENCH_WORKER_MODULE overrides the module's path.
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "ag-bench.h"

typedef enum
{
  IMPL_C,
  IMPL_C_SANDBOXED,
  IMPL_C_COLD,
  IMPL_C_SANDBOXED_COLD,
  IMPL_PYTHON,
  IMPL_SPAWN,
  IMPL_COMMAND,
  IMPL_LOOP_PIPE,
} ProcessImpl;

static const char *impl_names[] = {
  "asyncgui", "asyncgui-sandboxed", "asyncgui-cold", "asyncgui-sandboxed-cold", "asyncgui-python", "spawn", "asyncgui-command", "loop-pipe",
};

/* pickle.dumps(((), {}), protocol=2): no arguments. */
static const guint8 no_python_args[] = { 0x80, 0x02, ')', '}', 'q', 0x00, 0x86, 'q', 0x01, '.' };

typedef struct
{
  ProcessImpl  impl;
  BenchLoop   *loop;
  guint        n;
  guint        n_done;
  gboolean     ok;
  gboolean     warm;          /* the untimed first call is done */
  gint64       start_ns;      /* of the timed calls */
  gint64       end_ns;
  gint64       trip_start_ns;
  gint32       expected;      /* what the trip in flight must answer */
  GArray      *trips_us;      /* double */
  gint64       start_cpu_us;  /* bench_cpu_time_us() when the timed calls start */
  gint64       end_cpu_us;    /* and when the last one is back */

  BenchEcho    echo;          /* loop-pipe */
  GSource     *reply_source;  /* loop-pipe: watches the child's stdout */
  gint32       reply;         /* loop-pipe: read so far */
  gsize        reply_got;     /* loop-pipe: bytes of it */

  char        *build_root;
  char        *module_path;
  char        *c_worker;      /* asyncgui-worker */
} Process;

static void start_trip (Process *process);

/* BUILD, from BUILD/tests/bench/ag-bench. */
static char *
find_build_root (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *bench_dir = NULL;
  g_autofree char *tests_dir = NULL;

  if (exe == NULL)
    return NULL;

  bench_dir = g_path_get_dirname (exe);
  tests_dir = g_path_get_dirname (bench_dir);
  return g_path_get_dirname (tests_dir);
}

static gboolean
is_c_worker (ProcessImpl impl)
{
  return impl == IMPL_C || impl == IMPL_C_SANDBOXED || impl == IMPL_C_COLD
         || impl == IMPL_C_SANDBOXED_COLD;
}

static gboolean
process_init (Process     *process,
              ProcessImpl  impl,
              guint        n)
{
  const char *module = g_getenv ("AG_BENCH_WORKER_MODULE");

  *process = (Process) { 0, };
  process->impl = impl;
  process->n = n;
  process->ok = TRUE;
  process->trips_us = g_array_sized_new (FALSE, FALSE, sizeof (double), n);
  process->build_root = find_build_root ();

  if (process->build_root == NULL)
    {
      g_printerr ("ag-bench: process: cannot find the build directory from /proc/self/exe\n");
      return FALSE;
    }

  process->module_path = module != NULL
    ? g_strdup (module)
    : g_build_filename (process->build_root, "tests", "c", "worker", "libag-test-worker.so", NULL);
  process->c_worker = g_build_filename (process->build_root, "asyncgui", "asyncgui-worker", NULL);

  if (impl != IMPL_PYTHON && impl != IMPL_LOOP_PIPE && !g_file_test (process->module_path, G_FILE_TEST_EXISTS))
    {
      g_printerr ("ag-bench: process: no test worker module at %s "
                  "(build tests/c/worker, or set AG_BENCH_WORKER_MODULE)\n", process->module_path);
      return FALSE;
    }

  return TRUE;
}

static void
process_fail (Process    *process,
              const char *message)
{
  if (process->ok)
    g_printerr ("ag-bench: error: process %s: call %u: %s\n",
                impl_names[process->impl], process->n_done, message);
  process->ok = FALSE;
}

/* Records the trip that just came back (if timed) and starts the next one,
 * or ends the run. */
static void
trip_done (Process *process)
{
  gint64 now_ns = bench_now_ns ();

  if (process->warm)
    {
      double trip_us = (now_ns - process->trip_start_ns) / 1000.0;

      g_array_append_val (process->trips_us, trip_us);
      process->n_done++;
      process->end_ns = now_ns;
      if (process->n_done == process->n)
        process->end_cpu_us = bench_cpu_time_us ();
    }
}

static void
next_trip (Process *process)
{
  if (!process->warm)
    {
      process->warm = TRUE;
      process->start_cpu_us = bench_cpu_time_us ();
      process->start_ns = bench_now_ns ();
    }

  if (process->ok && process->n_done < process->n)
    start_trip (process);
  else
    bench_loop_quit (process->loop);
}

/* asyncgui: warm workers */

static void
on_worker_trip_done (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Process *process = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value;

  trip_done (process);

  value = ag_engine_run_finish (bench_loop_get_engine (process->loop), result, &error);
  if (value == NULL)
    process_fail (process, error != NULL ? error->message : "no value and no error");
  else if (!G_VALUE_HOLDS_VARIANT (value))
    process_fail (process, "the value is not a GVariant");
  else if (is_c_worker (process->impl))
    {
      GVariant *variant = g_value_get_variant (value);

      if (!g_variant_is_of_type (variant, G_VARIANT_TYPE_INT32)
          || g_variant_get_int32 (variant) != process->expected)
        process_fail (process, "wrong value");
    }
  else if (!g_variant_is_of_type (g_value_get_variant (value), G_VARIANT_TYPE_BYTESTRING))
    process_fail (process, "the Python worker's value is not pickled bytes");

  if (value != NULL)
    g_boxed_free (G_TYPE_VALUE, value);

  next_trip (process);
}

static void
start_worker_trip (Process *process)
{
  g_autoptr(AgWorkerTask) task = NULL;

  process->trip_start_ns = bench_now_ns ();
  process->expected = g_random_int_range (0, G_MAXINT32);
  if (process->impl == IMPL_C_COLD || process->impl == IMPL_C_SANDBOXED_COLD)
    {
      AgWorkerPool *pool = ag_engine_get_worker_pool (bench_loop_get_engine (process->loop));
      g_auto(GStrv) argv = ag_worker_pool_dup_command (pool, AG_WORKER_C);

      /* Lets the idle warm worker go: this call starts a fresh one. */
      ag_worker_pool_set_command (pool, AG_WORKER_C, (const char * const *) argv);
    }
  if (is_c_worker (process->impl))
    {
      task = ag_worker_task_new_c (process->module_path, "ag_test_echo",
                                   g_variant_new_int32 (process->expected));
      ag_worker_task_set_sandboxed (task, process->impl == IMPL_C_SANDBOXED
                                          || process->impl == IMPL_C_SANDBOXED_COLD);
    }
  else
    {
      g_autoptr(GBytes) args = g_bytes_new_static (no_python_args, sizeof no_python_args);

      task = ag_worker_task_new_python ("os:getpid", args);
    }

  ag_engine_run_async (bench_loop_get_engine (process->loop), AG_TASK (task), NULL,
                       on_worker_trip_done, process);
}

/* The engine runs the build tree's workers unless ASYNCGUI_WORKER_DIR says
 * where others are. */
static void
point_engine_at_workers (Process  *process,
                         AgEngine *engine)
{
  g_autofree char *python_worker = NULL;

  if (g_getenv ("ASYNCGUI_WORKER_DIR") != NULL)
    return;

  if (is_c_worker (process->impl))
    {
      const char *argv[] = { process->c_worker, NULL };

      ag_worker_pool_set_command (ag_engine_get_worker_pool (engine), AG_WORKER_C, argv);
    }
  else
    {
      const char *argv[] = { "/usr/bin/python3", NULL, NULL };

      python_worker = g_build_filename (process->build_root, "asyncgui",
                                        "asyncgui-python-worker.py", NULL);
      argv[1] = python_worker;
      ag_worker_pool_set_command (ag_engine_get_worker_pool (engine), AG_WORKER_PYTHON, argv);
    }
}

/* spawn: a fresh process per call */

static GBytes *
encode_request (guint64     id,
                const char *target,
                GVariant   *args)
{
  g_autoptr(GVariant) request =
    g_variant_ref_sink (g_variant_new ("(tsv)", id, target, args));
  g_autoptr(GVariant) normal = g_variant_get_normal_form (request);
  gsize size = g_variant_get_size (normal);
  guint32 length_le = GUINT32_TO_LE ((guint32) size);
  guint8 *frame = g_malloc (sizeof length_le + size);

  /* Copied, not g_variant_store()d: that wants an aligned destination. */
  memcpy (frame, &length_le, sizeof length_le);
  memcpy (frame + sizeof length_le, g_variant_get_data (normal), size);

  return g_bytes_new_take (frame, sizeof length_le + size);
}

/* The <int32> of the successful reply frame in @output, which a worker
 * writes after its greeting (a reply with id 0), or FALSE. */
static gboolean
decode_reply (GBytes  *output,
              gint32  *value)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (output, &size);

  while (size >= sizeof (guint32))
    {
      g_autoptr(GBytes) payload = NULL;
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GVariant) inner = NULL;
      guint32 length_le;
      gsize length;
      gboolean succeeded;
      guint64 id;

      memcpy (&length_le, data, sizeof length_le);
      length = GUINT32_FROM_LE (length_le);
      if (length > size - sizeof length_le)
        return FALSE;

      payload = g_bytes_new (data + sizeof length_le, length);
      data += sizeof length_le + length;
      size -= sizeof length_le + length;

      reply = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("(tbv)"), payload, FALSE));
      g_variant_get (reply, "(tbv)", &id, &succeeded, &inner);
      if (id == 0)
        continue;
      if (size != 0 || !succeeded || !g_variant_is_of_type (inner, G_VARIANT_TYPE_INT32))
        return FALSE;

      *value = g_variant_get_int32 (inner);
      return TRUE;
    }

  return FALSE;
}

static void
on_spawn_trip_done (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Process *process = user_data;
  g_autoptr(GSubprocess) subprocess = G_SUBPROCESS (source);
  g_autoptr(GBytes) stdout_bytes = NULL;
  g_autoptr(GError) error = NULL;
  gint32 value;

  if (!g_subprocess_communicate_finish (subprocess, result, &stdout_bytes, NULL, &error))
    {
      trip_done (process);
      process_fail (process, error->message);
    }
  else
    {
      /* The trip ends when the worker has exited and been reaped, as a
       * spawn-per-call implementation would need before its next call. */
      trip_done (process);
      if (!g_subprocess_get_successful (subprocess))
        process_fail (process, "the worker did not exit cleanly");
      else if (!decode_reply (stdout_bytes, &value) || value != process->expected)
        process_fail (process, "wrong reply");
    }

  next_trip (process);
}

static void
start_spawn_trip (Process *process)
{
  const char *argv[] = { process->c_worker, NULL };
  g_autofree char *target = g_strconcat (process->module_path, ":ag_test_echo", NULL);
  g_autoptr(GBytes) request = NULL;
  g_autoptr(GError) error = NULL;
  GSubprocess *subprocess;

  process->trip_start_ns = bench_now_ns ();
  process->expected = g_random_int_range (0, G_MAXINT32);
  request = encode_request (1, target, g_variant_new_int32 (process->expected));
  subprocess = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                  G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  if (subprocess == NULL)
    {
      process_fail (process, error->message);
      bench_loop_quit (process->loop);
      return;
    }

  /* The request is written and stdin closed: the worker answers, reads end
   * of file and exits. */
  g_subprocess_communicate_async (subprocess, request, NULL, on_spawn_trip_done, process);
}

/* asyncgui-command: the spawn baseline's process, as a command task */

static void
on_command_trip_done (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Process *process = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value;
  gint32 reply;

  trip_done (process);

  value = ag_engine_run_finish (bench_loop_get_engine (process->loop), result, &error);
  if (value == NULL)
    process_fail (process, error != NULL ? error->message : "no value and no error");
  else if (!G_VALUE_HOLDS (value, G_TYPE_BYTES)
           || !decode_reply (g_value_get_boxed (value), &reply) || reply != process->expected)
    process_fail (process, "wrong reply");

  if (value != NULL)
    g_boxed_free (G_TYPE_VALUE, value);

  next_trip (process);
}

static void
start_command_trip (Process *process)
{
  const char *argv[] = { process->c_worker, NULL };
  g_autofree char *target = g_strconcat (process->module_path, ":ag_test_echo", NULL);
  g_autoptr(GBytes) request = NULL;
  g_autoptr(AgCommandTask) task = NULL;

  process->trip_start_ns = bench_now_ns ();
  process->expected = g_random_int_range (0, G_MAXINT32);
  request = encode_request (1, target, g_variant_new_int32 (process->expected));
  task = ag_command_task_new (argv);
  ag_command_task_set_stdin (task, request);
  ag_engine_run_async (bench_loop_get_engine (process->loop), AG_TASK (task), NULL,
                       on_command_trip_done, process);
}

/* loop-pipe: a warm child, a GSource on its stdout */

static gboolean
on_pipe_readable (int          fd,
                  GIOCondition condition,
                  gpointer     user_data)
{
  Process *process = user_data;

  while (process->reply_got < sizeof process->reply)
    {
      gssize n = read (fd, (char *) &process->reply + process->reply_got,
                       sizeof process->reply - process->reply_got);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return G_SOURCE_CONTINUE;
      if (n <= 0)
        {
          process_fail (process, "the child closed its stdout");
          bench_loop_quit (process->loop);
          return G_SOURCE_REMOVE;
        }
      process->reply_got += n;
    }

  trip_done (process);
  if (process->reply != process->expected)
    process_fail (process, "wrong reply");
  next_trip (process);

  return G_SOURCE_CONTINUE;
}

static void
start_loop_pipe_trip (Process *process)
{
  gint32 request;

  process->trip_start_ns = bench_now_ns ();
  process->expected = g_random_int_range (0, G_MAXINT32);
  process->reply_got = 0;
  request = process->expected;

  /* Four bytes into an empty pipe: the write never blocks. */
  if (write (process->echo.to_child, &request, sizeof request) != sizeof request)
    {
      process_fail (process, "cannot write to the child");
      bench_loop_quit (process->loop);
    }
}

static gboolean
loop_pipe_setup (Process    *process,
                 BenchLoop  *loop)
{
  g_autoptr(GError) error = NULL;

  if (!bench_echo_spawn (&process->echo, &error) ||
      !g_unix_set_fd_nonblocking (process->echo.from_child, TRUE, &error))
    {
      process_fail (process, error->message);
      bench_loop_quit (loop);
      return FALSE;
    }

  process->reply_source = g_unix_fd_source_new (process->echo.from_child, G_IO_IN);
  g_source_set_callback (process->reply_source, G_SOURCE_FUNC (on_pipe_readable),
                         process, NULL);
  g_source_attach (process->reply_source, bench_loop_get_context (loop));
  return TRUE;
}

static void
start_trip (Process *process)
{
  if (process->impl == IMPL_LOOP_PIPE)
    start_loop_pipe_trip (process);
  else if (process->impl == IMPL_SPAWN)
    start_spawn_trip (process);
  else if (process->impl == IMPL_COMMAND)
    start_command_trip (process);
  else
    start_worker_trip (process);
}

static void
process_start (BenchLoop *loop,
               gpointer   user_data)
{
  Process *process = user_data;

  process->loop = loop;
  if (is_c_worker (process->impl) || process->impl == IMPL_PYTHON)
    point_engine_at_workers (process, bench_loop_get_engine (loop));
  if (process->impl == IMPL_C_SANDBOXED || process->impl == IMPL_C_SANDBOXED_COLD)
    {
      g_autofree char *module_dir = g_path_get_dirname (process->module_path);
      const char *paths[] = { module_dir, NULL };

      /* The sandbox shows the test module, read-only. */
      ag_worker_pool_set_sandbox_paths (ag_engine_get_worker_pool (bench_loop_get_engine (loop)),
                                        paths);
    }
  if (process->impl == IMPL_LOOP_PIPE && !loop_pipe_setup (process, loop))
    return;

  /* Every implementation's first call is untimed: for the warm workers it
   * starts the worker; for spawn it pages the program in, which later
   * spawns find done too. */
  start_trip (process);
}

static gboolean
process_run (ProcessImpl  impl,
             guint        n,
             BenchResult *result)
{
  g_autofree char *what = g_strdup_printf ("process %s", impl_names[impl]);
  Process process;
  gboolean ok;

  if (!process_init (&process, impl, n))
    ok = FALSE;
  else
    {
      gboolean with_engine = impl != IMPL_SPAWN && impl != IMPL_LOOP_PIPE;

      bench_loop_run (what, with_engine, process_start, &process);

      if (process.reply_source != NULL)
        {
          g_source_destroy (process.reply_source);
          g_clear_pointer (&process.reply_source, g_source_unref);
        }
      if (impl == IMPL_LOOP_PIPE)
        bench_echo_stop (&process.echo);

      if (process.ok && process.n_done != process.n)
        process_fail (&process, "fewer calls completed than started");
      bench_round_trips (process.trips_us, result);
      result->wall_ms = bench_ms_between (process.start_ns, process.end_ns);
      result->cpu_us = (double) (process.end_cpu_us - process.start_cpu_us) / MAX (process.n, 1);
      ok = process.ok;
    }

  g_array_unref (process.trips_us);
  g_free (process.build_root);
  g_free (process.module_path);
  g_free (process.c_worker);

  return ok;
}

gboolean
bench_process_asyncgui (guint        n,
                        BenchResult *result)
{
  return process_run (IMPL_C, n, result);
}

gboolean
bench_process_python (guint        n,
                      BenchResult *result)
{
  return process_run (IMPL_PYTHON, n, result);
}

gboolean
bench_process_spawn (guint        n,
                     BenchResult *result)
{
  return process_run (IMPL_SPAWN, n, result);
}

gboolean
bench_process_loop_pipe (guint        n,
                         BenchResult *result)
{
  return process_run (IMPL_LOOP_PIPE, n, result);
}

gboolean
bench_process_command (guint        n,
                       BenchResult *result)
{
  return process_run (IMPL_COMMAND, n, result);
}

gboolean
bench_process_sandboxed (guint        n,
                         BenchResult *result)
{
  return process_run (IMPL_C_SANDBOXED, n, result);
}

gboolean
bench_process_cold (guint        n,
                    BenchResult *result)
{
  return process_run (IMPL_C_COLD, n, result);
}

gboolean
bench_process_sandboxed_cold (guint        n,
                              BenchResult *result)
{
  return process_run (IMPL_C_SANDBOXED_COLD, n, result);
}
