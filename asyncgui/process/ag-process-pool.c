/* ag-process-pool.c: worker processes, and the thread that talks to them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <pthread.h>
#include <glib/gi18n-lib.h>
#include <glib-unix.h>
#include <gio/gunixoutputstream.h>

#include "ag-error.h"
#include "ag-process-pool-private.h"
#include "ag-worker-protocol-private.h"

/* All process I/O of an engine happens on one thread of its own, with its
 * own main context: spawning, writing requests, reading replies, reaping.
 * The GUI thread only hands requests over (g_main_context_invoke) and
 * receives outcomes through the tasks' ordinary completion path.
 *
 * Warm workers serve one request at a time; a request waits in a queue per
 * kind until a worker of its kind is free, and a worker is started while
 * there are fewer than max-processes of that kind. A worker that dies or
 * breaks the protocol fails only the request it was serving and is not
 * reused; the next request starts a fresh one. A worker idle for idle-ms is
 * let go by closing its stdin.
 *
 * A worker is started, not yet running, until it has sent its greeting.
 * One that dies (or talks nonsense) before that ran nothing it was sent:
 * its request goes back to the head of the queue for a fresh worker. After
 * START_ATTEMPTS such failures in a row the program is taken to be broken,
 * and that request and every one queued for the kind fail with an error
 * naming the program; the next request tries again. Nothing is assumed
 * about a child the pool did not hear from: one that exits at once may be
 * reaped before the pool looks at it, and then has no pid any more.
 *
 * A request with a timeout gets a timer when it is given to a worker, and
 * again when a fresh worker has greeted: the function gets the whole time,
 * and a start-up that takes longer fails the request too (a worker that
 * never starts must not hold it for ever). Time in the queue does not
 * count. When the timer fires, the request fails with G_IO_ERROR_TIMED_OUT
 * and its worker is killed and replaced.
 *
 * SIGPIPE is blocked on this thread (a worker that died leaves a pipe that
 * would raise it), and unblocked again in every child. */

#define GRACE_MS 500
#define START_ATTEMPTS 3

typedef struct
{
  AgProcessPool *pool;
  AgTask       *task;
  AgWorkerKind  kind;
  guint64       id;
  char         *target;
  GVariant     *args;
  GBytes       *frame;
  guint         timeout_ms;   /* 0: none */
  GSource      *timer;        /* while a worker has it, or it waits for a
                               * worker after a failed start */
} Call;

typedef struct
{
  AgProcessPool   *pool;
  AgWorkerKind    kind;
  GSubprocess    *process;
  char           *program;      /* the command line, to name in errors */
  int             pid;          /* 0 if it was gone before it was looked at */
  GOutputStream  *input;
  GInputStream   *output;
  AgFrameReader  *reader;
  GCancellable   *cancellable;
  Call           *call;
  GSource        *idle_timer;
  guint           generation;   /* of the command it runs */
  gboolean        writing;      /* a request is still being written */
  guint           pending;      /* asynchronous operations that hold it */
  gboolean        ready;        /* it sent its greeting */
  gboolean        dying;
} Worker;

typedef struct
{
  AgProcessPool  *pool;
  AgTask        *task;
  AgCommandSpec *spec;
  GSubprocess   *process;
  GCancellable  *cancellable;
  guint          timeout_ms;    /* 0: none */
  GSource       *timeout;
  GSource       *kill_timer;
  GOutputStream *stdout_sink;   /* GMemoryOutputStream */
  GOutputStream *stderr_sink;
  guint          pending;       /* stdin, stdout, stderr, exit */
  GError        *error;         /* the first I/O error worth reporting */
  gboolean       timed_out;
  gboolean       dropped;       /* cancelled: nobody wants the outcome */
} Command;

struct _AgProcessPool
{
  GMainContext  *context;
  GMainLoop     *loop;
  GThread       *thread;

  GMutex         lock;          /* guards the settings up to generation */
  int            max_processes;
  guint          idle_ms;
  guint          default_timeout_ms;
  char         **commands[3];
  guint          generation[3]; /* bumped when a command changes */

  /* The I/O thread only. */
  GQueue         queued[3];     /* Call */
  GList         *workers;       /* Worker */
  guint          n_workers[3];
  guint          failed_starts[3];  /* in a row, of the current command */
  GList         *running;       /* Command */
  guint64        next_id;
  gboolean       stopping;
};

static void call_free (Call *call);
static void dispatch (AgProcessPool *pool, AgWorkerKind kind);
static void worker_lost (Worker *worker, GError *error);
static gboolean call_timed_out (gpointer user_data);

/* Settings */

static const char *
worker_dir (void)
{
  const char *dir = g_getenv ("ASYNCGUI_WORKER_DIR");

  return dir != NULL && dir[0] != '\0' ? dir : ASYNCGUI_WORKER_DIR;
}

/* The program each kind runs unless told otherwise: the workers installed
 * in ASYNCGUI_WORKER_DIR (libexecdir/asyncgui-1), or in the directory the
 * environment variable of the same name gives, as tests do. */
char **
_ag_process_pool_default_command (AgWorkerKind kind)
{
  g_autoptr(GStrvBuilder) argv = g_strv_builder_new ();
  const char *programs[] = { "asyncgui-worker", "asyncgui-python-worker.py", "asyncgui-gjs-worker.js" };
  g_autofree char *program = g_build_filename (worker_dir (), programs[kind], NULL);

  if (kind == AG_WORKER_PYTHON)
    g_strv_builder_add (argv, PYTHON3);
  else if (kind == AG_WORKER_GJS)
    g_strv_builder_add_many (argv, "gjs", "-m", NULL);
  g_strv_builder_add (argv, program);

  return g_strv_builder_end (argv);
}

static int
max_processes (AgProcessPool *pool)
{
  int n;

  g_mutex_lock (&pool->lock);
  n = pool->max_processes;
  g_mutex_unlock (&pool->lock);

  return n;
}

static guint
idle_ms (AgProcessPool *pool)
{
  guint ms;

  g_mutex_lock (&pool->lock);
  ms = pool->idle_ms;
  g_mutex_unlock (&pool->lock);

  return ms;
}

/* The timeout that "-1: the default" stands for. */
static guint
resolve_timeout_ms (AgProcessPool *pool,
                    int           timeout_ms)
{
  guint ms;

  if (timeout_ms >= 0)
    return timeout_ms;

  g_mutex_lock (&pool->lock);
  ms = pool->default_timeout_ms;
  g_mutex_unlock (&pool->lock);

  return ms;
}

/* How a worker's command is named in messages: the command line, cut
 * short (a Python worker's carries the whole sys.path). */
static char *
describe_command (char **argv)
{
  g_autofree char *line = g_strjoinv (" ", argv);
  const char *end;

  if (strlen (line) <= 160)
    return g_steal_pointer (&line);

  end = g_utf8_find_prev_char (line, line + 160);
  return g_strdup_printf ("%.*s…", (int) (end - line), line);
}

/* Children get the signal mask of the thread that starts them. */
static void
unblock_sigpipe (gpointer user_data)
{
  sigset_t set;

  sigemptyset (&set);
  sigaddset (&set, SIGPIPE);
  pthread_sigmask (SIG_UNBLOCK, &set, NULL);
}

/* GSubprocess leaves the parent's end of a pipe blocking. A large write
 * would then block this thread until the child reads, and a child that
 * writes before it reads (cat, for one) would never be read: deadlock. */
static GOutputStream *
nonblocking_stdin (GSubprocess *process)
{
  GOutputStream *input = g_subprocess_get_stdin_pipe (process);

  g_unix_set_fd_nonblocking (g_unix_output_stream_get_fd (G_UNIX_OUTPUT_STREAM (input)), TRUE, NULL);
  return input;
}

static GSubprocessLauncher *
new_launcher (GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_set_child_setup (launcher, unblock_sigpipe, NULL, NULL);
  return launcher;
}

static void
maybe_stop (AgProcessPool *pool)
{
  if (pool->stopping && pool->workers == NULL && pool->running == NULL)
    g_main_loop_quit (pool->loop);
}

/* Calls */

static void
call_free (Call *call)
{
  if (call->timer != NULL)
    g_source_destroy (call->timer);
  g_clear_pointer (&call->timer, g_source_unref);
  g_clear_object (&call->task);
  g_free (call->target);
  g_clear_pointer (&call->args, g_variant_unref);
  g_clear_pointer (&call->frame, g_bytes_unref);
  g_free (call);
}

/* (Re)starts the call's timer, if it has a timeout. */
static void
call_arm_timer (Call *call)
{
  if (call->timeout_ms == 0)
    return;

  if (call->timer != NULL)
    g_source_destroy (call->timer);
  g_clear_pointer (&call->timer, g_source_unref);

  call->timer = g_timeout_source_new (call->timeout_ms);
  g_source_set_static_name (call->timer, "[asyncgui] worker call timeout");
  g_source_set_callback (call->timer, call_timed_out, call, NULL);
  g_source_attach (call->timer, call->pool->context);
}

static void
call_fail (Call   *call,
           int     pid,
           GError *error)
{
  _ag_worker_task_set_outcome (call->task, pid, NULL);
  ag_task_return_error (call->task, error);
  call_free (call);
}

/* Workers */

static void
worker_unref_op (Worker *worker)
{
  AgProcessPool *pool = worker->pool;

  if (--worker->pending > 0 || !worker->dying)
    return;

  if (worker->idle_timer != NULL)
    g_source_destroy (worker->idle_timer);
  g_clear_pointer (&worker->idle_timer, g_source_unref);

  g_clear_pointer (&worker->reader, _ag_frame_reader_free);
  g_clear_object (&worker->cancellable);
  g_clear_object (&worker->process);
  g_free (worker->program);
  g_free (worker);

  maybe_stop (pool);
}

/* Stops using the worker and kills it; it is freed once its pending
 * operations have seen the cancellation. */
static void
worker_retire (Worker *worker)
{
  AgProcessPool *pool = worker->pool;

  if (worker->dying)
    return;

  worker->dying = TRUE;
  pool->workers = g_list_remove (pool->workers, worker);
  pool->n_workers[worker->kind]--;

  g_cancellable_cancel (worker->cancellable);
  g_subprocess_force_exit (worker->process);

  worker->pending++;
  worker_unref_op (worker);
}

static void read_more (Worker *worker);

static gboolean
idle_timeout (gpointer user_data)
{
  Worker *worker = user_data;

  g_clear_pointer (&worker->idle_timer, g_source_unref);
  /* Its stdin closes: a worker leaves on end of input. Its stdout's end of
   * input then retires it here. */
  g_output_stream_close (worker->input, NULL, NULL);

  return G_SOURCE_REMOVE;
}

static void
worker_idle (Worker *worker)
{
  guint ms = idle_ms (worker->pool);

  worker->idle_timer = g_timeout_source_new (ms);
  g_source_set_static_name (worker->idle_timer, "[asyncgui] idle worker");
  g_source_set_callback (worker->idle_timer, idle_timeout, worker, NULL);
  g_source_attach (worker->idle_timer, worker->pool->context);
}

static gboolean
is_outdated (Worker *worker)
{
  gboolean outdated;

  g_mutex_lock (&worker->pool->lock);
  outdated = worker->generation != worker->pool->generation[worker->kind];
  g_mutex_unlock (&worker->pool->lock);

  return outdated;
}

static void
handle_reply (Worker   *worker,
              GVariant *reply)
{
  g_autoptr(GVariant) payload = NULL;
  Call *call = worker->call;
  gboolean succeeded;
  guint64 id;

  if (!worker->ready)
    {
      GError *error = NULL;

      if (!_ag_reply_is_greeting (reply, &error))
        {
          worker_lost (worker, error);
          return;
        }

      worker->ready = TRUE;
      worker->pool->failed_starts[worker->kind] = 0;
      /* The function's own time starts now. */
      if (call != NULL)
        call_arm_timer (call);
      return;
    }

  g_variant_get (reply, "(tbv)", &id, &succeeded, &payload);

  if (call == NULL || id != call->id)
    {
      /* Numbers are formatted apart: translators cannot see through
       * G_GUINT64_FORMAT. */
      g_autofree char *number = g_strdup_printf ("%" G_GUINT64_FORMAT, id);

      worker_lost (worker, g_error_new (AG_ERROR, AG_ERROR_PROTOCOL,
                                        _("A worker answered a request (%s) it was not given"),
                                        number));
      return;
    }

  worker->call = NULL;
  if (succeeded)
    {
      _ag_worker_task_set_outcome (call->task, worker->pid, NULL);
      ag_task_return_variant (call->task, payload);
    }
  else if (!g_variant_is_of_type (payload, AG_REPLY_ERROR_TYPE))
    {
      worker->call = call;
      worker_lost (worker, _ag_reply_parse_error (payload, NULL));
      return;
    }
  else
    {
      GVariant *extra = NULL;
      GError *error = _ag_reply_parse_error (payload, &extra);

      _ag_worker_task_set_outcome (call->task, worker->pid, extra);
      g_clear_pointer (&extra, g_variant_unref);
      ag_task_return_error (call->task, error);
    }
  call_free (call);

  if (is_outdated (worker))
    {
      AgWorkerKind kind = worker->kind;
      AgProcessPool *pool = worker->pool;

      worker_retire (worker);
      dispatch (pool, kind);
      return;
    }

  worker_idle (worker);
  dispatch (worker->pool, worker->kind);
}

static void
read_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Worker *worker = user_data;
  g_autoptr(GBytes) bytes = NULL;
  GError *error = NULL;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);

  if (!worker->dying)
    {
      if (bytes != NULL && g_bytes_get_size (bytes) == 0
          && _ag_frame_reader_get_buffered (worker->reader) > 0)
        worker_lost (worker, g_error_new (AG_ERROR, AG_ERROR_PROTOCOL,
                                          _("A worker exited in the middle of a message (%lu bytes of it sent)"),
                                          (unsigned long) _ag_frame_reader_get_buffered (worker->reader)));
      else if (bytes == NULL || g_bytes_get_size (bytes) == 0)
        worker_lost (worker, error);
      else
        {
          GVariant *reply;

          _ag_frame_reader_feed (worker->reader, g_bytes_get_data (bytes, NULL),
                                 g_bytes_get_size (bytes));
          while (!worker->dying
                 && _ag_frame_reader_pop (worker->reader, &reply, &error)
                 && reply != NULL)
            {
              handle_reply (worker, reply);
              g_variant_unref (reply);
            }

          if (error != NULL)
            worker_lost (worker, error);
          else if (!worker->dying)
            read_more (worker);
        }
    }
  else
    g_clear_error (&error);

  worker_unref_op (worker);
}

static void
read_more (Worker *worker)
{
  worker->pending++;
  g_input_stream_read_bytes_async (worker->output, 64 * 1024, G_PRIORITY_DEFAULT,
                                   worker->cancellable, read_done, worker);
}

static void
write_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Worker *worker = user_data;
  GError *error = NULL;

  worker->writing = FALSE;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error)
      && !worker->dying)
    worker_lost (worker, error);
  else
    {
      g_clear_error (&error);
      /* The reply may have come before this: the worker is free only now. */
      if (!worker->dying && worker->call == NULL)
        dispatch (worker->pool, worker->kind);
    }

  worker_unref_op (worker);
}

static void
send_call (Worker *worker,
           Call   *call)
{
  g_autoptr(GVariant) request = NULL;
  GError *error = NULL;

  if (worker->idle_timer != NULL)
    {
      g_source_destroy (worker->idle_timer);
      g_clear_pointer (&worker->idle_timer, g_source_unref);
    }

  if (call->frame == NULL)
    {
      request = g_variant_ref_sink (g_variant_new ("(tsv)", call->id, call->target, call->args));
      call->frame = _ag_frame_encode (request, &error);
      if (call->frame == NULL)
        {
          call_fail (call, 0, error);
          worker_idle (worker);
          return;
        }
    }

  /* A call that waited for a worker after a failed start keeps the
   * deadline it had: start-ups together get one timeout's worth. */
  if (worker->ready || call->timer == NULL)
    call_arm_timer (call);

  worker->call = call;
  worker->writing = TRUE;

  worker->pending++;
  g_output_stream_write_all_async (worker->input,
                                   g_bytes_get_data (call->frame, NULL),
                                   g_bytes_get_size (call->frame),
                                   G_PRIORITY_DEFAULT, worker->cancellable,
                                   write_done, worker);
}

static Worker *
worker_start (AgProcessPool  *pool,
              AgWorkerKind   kind,
              GError       **error)
{
  g_autoptr(GSubprocessLauncher) launcher =
    new_launcher (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_auto(GStrv) argv = NULL;
  GSubprocess *process;
  const char *identifier;
  Worker *worker;
  guint generation;

  g_mutex_lock (&pool->lock);
  generation = pool->generation[kind];
  argv = pool->commands[kind] != NULL ? g_strdupv (pool->commands[kind]) : _ag_process_pool_default_command (kind);
  g_mutex_unlock (&pool->lock);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv, error);
  if (process == NULL)
    return NULL;

  worker = g_new0 (Worker, 1);
  worker->pool = pool;
  worker->kind = kind;
  worker->process = process;
  worker->program = describe_command (argv);
  /* NULL once GLib has reaped the child: it is gone already, and its end
   * of the pipes says so in a moment. */
  identifier = g_subprocess_get_identifier (process);
  worker->pid = identifier != NULL ? atoi (identifier) : 0;
  worker->input = nonblocking_stdin (process);
  worker->output = g_subprocess_get_stdout_pipe (process);
  worker->reader = _ag_frame_reader_new (AG_REPLY_TYPE);
  worker->cancellable = g_cancellable_new ();
  worker->generation = generation;

  pool->workers = g_list_prepend (pool->workers, worker);
  pool->n_workers[kind]++;
  read_more (worker);

  return worker;
}

/* A worker that is gone, and the calls it takes with it: the one it ran,
 * or, when it never started, every call it leaves without a worker. */
typedef struct
{
  Worker   *worker;
  GList    *calls;
  GError   *error;     /* a protocol error, or NULL: the exit says it */
  gboolean  starting;
} Loss;

static GError *
crash_error (Worker      *worker,
             GSubprocess *process)
{
  if (g_subprocess_get_if_signaled (process))
    {
      int sig = g_subprocess_get_term_sig (process);

      if (worker->pid > 0)
        return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                            _("The worker process %d died of signal %d (%s) while running the task"),
                            worker->pid, sig, g_strsignal (sig));
      return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                          _("A worker process died of signal %d (%s) while running the task"),
                          sig, g_strsignal (sig));
    }

  if (worker->pid > 0)
    return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                        _("The worker process %d exited with status %d while running the task"),
                        worker->pid, g_subprocess_get_exit_status (process));
  return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                      _("A worker process exited with status %d while running the task"),
                      g_subprocess_get_exit_status (process));
}

static GError *
start_error (Worker      *worker,
             GSubprocess *process,
             GError      *protocol_error)
{
  if (protocol_error != NULL)
    return g_error_new (AG_ERROR, AG_ERROR_PROTOCOL,
                        _("The worker program “%s” did not speak the worker protocol as it started, %u times in a row: %s"),
                        worker->program, START_ATTEMPTS, protocol_error->message);

  if (g_subprocess_get_if_signaled (process))
    return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                        _("The worker program “%s” died of signal %d (%s) before it was ready, %u times in a row"),
                        worker->program, g_subprocess_get_term_sig (process),
                        g_strsignal (g_subprocess_get_term_sig (process)), START_ATTEMPTS);

  return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                      _("The worker program “%s” exited with status %d before it was ready, %u times in a row"),
                      worker->program, g_subprocess_get_exit_status (process), START_ATTEMPTS);
}

static void
loss_waited (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Loss *loss = user_data;
  GSubprocess *process = G_SUBPROCESS (source);
  GError *error;

  g_subprocess_wait_finish (process, result, NULL);

  if (loss->starting)
    error = start_error (loss->worker, process, loss->error);
  else if (loss->error != NULL)
    error = g_error_copy (loss->error);
  else
    error = crash_error (loss->worker, process);

  /* A call the worker never started was not run by it: no pid. */
  for (GList *l = loss->calls; l != NULL; l = l->next)
    call_fail (l->data, loss->starting ? 0 : loss->worker->pid, g_error_copy (error));

  g_error_free (error);
  g_clear_error (&loss->error);
  g_list_free (loss->calls);
  worker_unref_op (loss->worker);
  g_free (loss);
}

/* A worker died before its greeting. What it was sent never ran, so it
 * goes back to the queue, unless the program failed to start too often:
 * then it and every queued call of the kind are returned in @calls, to
 * fail. */
static gboolean
start_failed (Worker  *worker,
              Call    *call,
              GList  **calls)
{
  AgProcessPool *pool = worker->pool;
  GQueue *queue = &pool->queued[worker->kind];

  if (call != NULL)
    g_queue_push_head (queue, call);

  /* A worker of a command replaced since says nothing about the new one. */
  if (is_outdated (worker) || ++pool->failed_starts[worker->kind] < START_ATTEMPTS)
    return FALSE;

  pool->failed_starts[worker->kind] = 0;
  while (!g_queue_is_empty (queue))
    *calls = g_list_append (*calls, g_queue_pop_head (queue));
  return TRUE;
}

/* The worker died, or broke the protocol (@error): fail what it served,
 * stop using it, and let the queue start a replacement. */
static void
worker_lost (Worker *worker,
             GError *error)
{
  Call *call = g_steal_pointer (&worker->call);
  AgProcessPool *pool = worker->pool;
  AgWorkerKind kind = worker->kind;
  GList *calls = NULL;
  gboolean starting = FALSE;

  if (error != NULL && !g_error_matches (error, AG_ERROR, AG_ERROR_PROTOCOL))
    g_clear_error (&error);  /* an I/O error: the exit status says more */

  worker->pending++;  /* kept until the end of this function */
  worker_retire (worker);

  if (!worker->ready)
    starting = start_failed (worker, g_steal_pointer (&call), &calls);
  else if (call != NULL)
    calls = g_list_append (NULL, g_steal_pointer (&call));

  if (calls != NULL)
    {
      Loss *loss = g_new0 (Loss, 1);

      /* Their deadlines no longer matter: they fail with the loss. */
      for (GList *l = calls; l != NULL; l = l->next)
        {
          Call *lost = l->data;

          if (lost->timer != NULL)
            g_source_destroy (lost->timer);
          g_clear_pointer (&lost->timer, g_source_unref);
        }

      loss->worker = worker;
      loss->calls = calls;
      loss->error = error;
      loss->starting = starting;
      worker->pending++;
      /* Not the worker's cancellable: that one is cancelled already. */
      g_subprocess_wait_async (worker->process, NULL, loss_waited, loss);
    }
  else
    g_clear_error (&error);

  worker_unref_op (worker);

  if (!pool->stopping)
    dispatch (pool, kind);
}

/* The call's time is up: it fails, and the worker running it (which may
 * be stuck for good) is killed; the queue starts a fresh one. */
static gboolean
call_timed_out (gpointer user_data)
{
  Call *call = user_data;
  AgProcessPool *pool = call->pool;
  AgWorkerKind kind = call->kind;
  GList *link;
  int pid = 0;

  g_clear_pointer (&call->timer, g_source_unref);

  link = g_queue_find (&pool->queued[call->kind], call);
  if (link != NULL)
    g_queue_delete_link (&pool->queued[call->kind], link);
  else
    for (GList *l = pool->workers; l != NULL; l = l->next)
      {
        Worker *worker = l->data;

        if (worker->call == call)
          {
            worker->call = NULL;
            pid = worker->ready ? worker->pid : 0;
            worker_retire (worker);
            break;
          }
      }

  call_fail (call, pid, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                     _("“%s” did not finish within %u ms"),
                                     call->target, call->timeout_ms));
  dispatch (pool, kind);

  return G_SOURCE_REMOVE;
}

static Worker *
find_idle (AgProcessPool *pool,
           AgWorkerKind  kind)
{
  for (GList *l = pool->workers; l != NULL; l = l->next)
    {
      Worker *worker = l->data;

      if (worker->kind == kind && worker->call == NULL && !worker->writing
          && !worker->dying && !is_outdated (worker))
        return worker;
    }

  return NULL;
}

static void
dispatch (AgProcessPool *pool,
          AgWorkerKind  kind)
{
  while (!pool->stopping && !g_queue_is_empty (&pool->queued[kind]))
    {
      Worker *worker = find_idle (pool, kind);
      GError *error = NULL;

      if (worker == NULL)
        {
          if (pool->n_workers[kind] >= (guint) max_processes (pool))
            return;

          worker = worker_start (pool, kind, &error);
          if (worker == NULL)
            {
              call_fail (g_queue_pop_head (&pool->queued[kind]), 0, error);
              continue;
            }
        }

      send_call (worker, g_queue_pop_head (&pool->queued[kind]));
    }
}

static gboolean
call_in_io (gpointer user_data)
{
  Call *call = user_data;
  AgProcessPool *pool = call->pool;

  call->id = ++pool->next_id;
  g_queue_push_tail (&pool->queued[call->kind], call);
  dispatch (pool, call->kind);

  return G_SOURCE_REMOVE;
}

/* Commands */

static void
command_free (Command *command)
{
  AgProcessPool *pool = command->pool;

  pool->running = g_list_remove (pool->running, command);

  if (command->timeout != NULL)
    g_source_destroy (command->timeout);
  g_clear_pointer (&command->timeout, g_source_unref);
  if (command->kill_timer != NULL)
    g_source_destroy (command->kill_timer);
  g_clear_pointer (&command->kill_timer, g_source_unref);

  g_strfreev (command->spec->argv);
  g_clear_pointer (&command->spec->stdin_bytes, g_bytes_unref);
  g_free (command->spec->cwd);
  g_strfreev (command->spec->env);
  g_free (command->spec);
  g_clear_object (&command->process);
  g_clear_object (&command->cancellable);
  g_clear_object (&command->stdout_sink);
  g_clear_object (&command->stderr_sink);
  g_clear_error (&command->error);
  g_clear_object (&command->task);
  g_free (command);

  maybe_stop (pool);
}

static char *
stderr_tail (GBytes *stderr_bytes)
{
  gsize size = stderr_bytes != NULL ? g_bytes_get_size (stderr_bytes) : 0;
  const char *data;
  gsize keep;

  if (size == 0)
    return g_strdup ("");

  data = g_bytes_get_data (stderr_bytes, NULL);
  keep = MIN (size, 400);
  return g_strstrip (g_utf8_make_valid (data + size - keep, keep));
}

static GBytes *
steal_output (GOutputStream *sink)
{
  /* Closed already unless the reading was cut short. */
  g_output_stream_close (sink, NULL, NULL);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (sink));
}

/* Everything is in: the output was read to its end (or cut short after a
 * timeout or a cancel) and the process has exited. */
static void
command_done (Command *command)
{
  GSubprocess *process = command->process;
  AgCommandOutcome outcome = { NULL, NULL, -1 };
  g_autofree char *tail = NULL;
  g_autofree char *program = NULL;

  if (command->dropped || command->pool->stopping)
    {
      command_free (command);
      return;
    }

  outcome.stdout_bytes = steal_output (command->stdout_sink);
  outcome.stderr_bytes = steal_output (command->stderr_sink);
  program = g_path_get_basename (command->spec->argv[0]);
  tail = stderr_tail (outcome.stderr_bytes);

  if (!command->timed_out && g_subprocess_get_if_exited (process))
    outcome.exit_status = g_subprocess_get_exit_status (process);

  _ag_command_task_set_outcome (command->task, &outcome);

  if (command->timed_out)
    ag_task_return_new_error (command->task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                              _("“%s” did not finish within %u ms"),
                              program, command->timeout_ms);
  else if (command->error != NULL)
    ag_task_return_error (command->task, g_steal_pointer (&command->error));
  else if (g_subprocess_get_if_signaled (process))
    ag_task_return_new_error (command->task, AG_ERROR, AG_ERROR_COMMAND_FAILED,
                              _("“%s” was killed by signal %d (%s)%s%s"),
                              program, g_subprocess_get_term_sig (process),
                              g_strsignal (g_subprocess_get_term_sig (process)),
                              tail[0] != '\0' ? ": " : "", tail);
  else if (outcome.exit_status != 0)
    ag_task_return_new_error (command->task, AG_ERROR, AG_ERROR_COMMAND_FAILED,
                              _("“%s” exited with status %d%s%s"),
                              program, outcome.exit_status,
                              tail[0] != '\0' ? ": " : "", tail);
  else
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_BYTES);
      g_value_set_boxed (&value, outcome.stdout_bytes);
      ag_task_return_value (command->task, &value);
    }

  g_clear_pointer (&outcome.stdout_bytes, g_bytes_unref);
  g_clear_pointer (&outcome.stderr_bytes, g_bytes_unref);
  command_free (command);
}

static void
command_step_done (Command *command)
{
  if (--command->pending == 0)
    command_done (command);
}

static void
keep_error (Command *command,
            GError  *error)
{
  if (error != NULL && command->error == NULL
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    command->error = g_steal_pointer (&error);
  g_clear_error (&error);
}

static void
command_input_written (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  Command *command = user_data;

  /* A command may exit without reading all its input; like a shell, the
   * engine does not count that as a failure. Its exit status says what it
   * thought. */
  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  g_output_stream_close (G_OUTPUT_STREAM (source), NULL, NULL);
  command_step_done (command);
}

static void
command_output_read (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Command *command = user_data;
  GError *error = NULL;

  g_output_stream_splice_finish (G_OUTPUT_STREAM (source), result, &error);
  keep_error (command, error);
  command_step_done (command);
}

static void
command_exited (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Command *command = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);

  /* After a timeout or a cancel the output may never end: a process it
   * started can hold the pipes open. Stop reading once it has exited. */
  if (command->timed_out || command->dropped)
    g_cancellable_cancel (command->cancellable);

  command_step_done (command);
}

static gboolean
kill_now (gpointer user_data)
{
  g_subprocess_force_exit (G_SUBPROCESS (user_data));
  return G_SOURCE_REMOVE;
}

/* SIGTERM, then SIGKILL if it is still there after the grace period. */
static void
terminate (AgProcessPool  *pool,
           GSubprocess   *process,
           GSource      **kill_timer)
{
  if (*kill_timer != NULL)
    return;

  g_subprocess_send_signal (process, SIGTERM);
  *kill_timer = g_timeout_source_new (GRACE_MS);
  g_source_set_callback (*kill_timer, kill_now, g_object_ref (process), g_object_unref);
  g_source_attach (*kill_timer, pool->context);
}

static gboolean
command_timed_out (gpointer user_data)
{
  Command *command = user_data;

  g_clear_pointer (&command->timeout, g_source_unref);
  command->timed_out = TRUE;
  terminate (command->pool, command->process, &command->kill_timer);

  return G_SOURCE_REMOVE;
}

static gboolean
command_in_io (gpointer user_data)
{
  Command *command = user_data;
  AgProcessPool *pool = command->pool;
  AgCommandSpec *spec = command->spec;
  g_autoptr(GSubprocessLauncher) launcher =
    new_launcher (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                  G_SUBPROCESS_FLAGS_STDERR_PIPE);
  GError *error = NULL;

  pool->running = g_list_prepend (pool->running, command);

  if (spec->cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, spec->cwd);
  if (spec->env != NULL)
    g_subprocess_launcher_set_environ (launcher, spec->env);

  command->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) spec->argv,
                                                   &error);
  if (command->process == NULL)
    {
      ag_task_return_error (command->task, error);
      command_free (command);
      return G_SOURCE_REMOVE;
    }

  if (command->timeout_ms > 0)
    {
      command->timeout = g_timeout_source_new (command->timeout_ms);
      g_source_set_callback (command->timeout, command_timed_out, command, NULL);
      g_source_attach (command->timeout, pool->context);
    }

  /* Four things to wait for: the input written (no input is an empty one,
   * so the command reads end of file rather than the GUI's own stdin),
   * both outputs read to their end, and the exit. */
  command->pending = 4;
  command->stdout_sink = g_memory_output_stream_new_resizable ();
  command->stderr_sink = g_memory_output_stream_new_resizable ();

  if (spec->stdin_bytes != NULL)
    g_output_stream_write_all_async (nonblocking_stdin (command->process),
                                     g_bytes_get_data (spec->stdin_bytes, NULL),
                                     g_bytes_get_size (spec->stdin_bytes),
                                     G_PRIORITY_DEFAULT, command->cancellable,
                                     command_input_written, command);
  else
    {
      g_output_stream_close (g_subprocess_get_stdin_pipe (command->process), NULL, NULL);
      command->pending--;
    }

  g_output_stream_splice_async (command->stdout_sink, g_subprocess_get_stdout_pipe (command->process),
                                G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE | G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                                G_PRIORITY_DEFAULT, command->cancellable,
                                command_output_read, command);
  g_output_stream_splice_async (command->stderr_sink, g_subprocess_get_stderr_pipe (command->process),
                                G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE | G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                                G_PRIORITY_DEFAULT, command->cancellable,
                                command_output_read, command);
  g_subprocess_wait_async (command->process, NULL, command_exited, command);

  return G_SOURCE_REMOVE;
}

/* Cancelling */

typedef struct
{
  AgProcessPool *pool;
  AgTask       *task;
} Cancel;

static gboolean
cancel_in_io (gpointer user_data)
{
  Cancel *cancel = user_data;
  AgProcessPool *pool = cancel->pool;

  for (guint kind = 0; kind < G_N_ELEMENTS (pool->queued); kind++)
    for (GList *l = pool->queued[kind].head; l != NULL; l = l->next)
      {
        Call *call = l->data;

        if (call->task == cancel->task)
          {
            g_queue_delete_link (&pool->queued[kind], l);
            call_free (call);
            goto done;
          }
      }

  for (GList *l = pool->workers; l != NULL; l = l->next)
    {
      Worker *worker = l->data;

      if (worker->call != NULL && worker->call->task == cancel->task)
        {
          AgWorkerKind kind = worker->kind;

          /* The function cannot be stopped halfway: the worker goes, and a
           * fresh one serves the next request. */
          call_free (g_steal_pointer (&worker->call));
          worker_retire (worker);
          dispatch (pool, kind);
          goto done;
        }
    }

  for (GList *l = pool->running; l != NULL; l = l->next)
    {
      Command *command = l->data;

      if (command->task == cancel->task && !command->dropped)
        {
          command->dropped = TRUE;
          terminate (pool, command->process, &command->kill_timer);
          goto done;
        }
    }

done:
  g_object_unref (cancel->task);
  g_free (cancel);
  return G_SOURCE_REMOVE;
}

/* The thread */

static gpointer
io_thread (gpointer user_data)
{
  AgProcessPool *pool = user_data;
  sigset_t set;

  sigemptyset (&set);
  sigaddset (&set, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &set, NULL);

  g_main_context_push_thread_default (pool->context);
  g_main_loop_run (pool->loop);
  g_main_context_pop_thread_default (pool->context);

  return NULL;
}

AgProcessPool *
_ag_process_pool_new (int max_processes)
{
  AgProcessPool *pool = g_new0 (AgProcessPool, 1);

  _ag_worker_protocol_init ();
  g_mutex_init (&pool->lock);
  pool->max_processes = max_processes;
  pool->idle_ms = 10000;
  for (guint kind = 0; kind < G_N_ELEMENTS (pool->queued); kind++)
    g_queue_init (&pool->queued[kind]);

  pool->context = g_main_context_new ();
  pool->loop = g_main_loop_new (pool->context, FALSE);
  pool->thread = g_thread_new ("ag-worker-io", io_thread, pool);

  return pool;
}

static gboolean
shutdown_in_io (gpointer user_data)
{
  AgProcessPool *pool = user_data;

  pool->stopping = TRUE;

  for (guint kind = 0; kind < G_N_ELEMENTS (pool->queued); kind++)
    g_queue_clear_full (&pool->queued[kind], (GDestroyNotify) call_free);

  while (pool->workers != NULL)
    {
      Worker *worker = pool->workers->data;

      g_clear_pointer (&worker->call, call_free);
      worker_retire (worker);
    }

  for (GList *l = pool->running; l != NULL; l = l->next)
    {
      Command *command = l->data;

      command->dropped = TRUE;
      g_cancellable_cancel (command->cancellable);
      g_subprocess_force_exit (command->process);
    }

  maybe_stop (pool);
  return G_SOURCE_REMOVE;
}

/* Every worker and command is killed and reaped (GLib's child watch reaps
 * them even after this returns); their tasks are not told. */
void
_ag_process_pool_shutdown (AgProcessPool *pool)
{
  g_main_context_invoke (pool->context, shutdown_in_io, pool);
  g_thread_join (pool->thread);

  /* Operations cancelled during the shutdown may still sit in the
   * context; run them to completion so that nothing leaks. */
  while (g_main_context_pending (pool->context))
    g_main_context_iteration (pool->context, FALSE);

  for (guint kind = 0; kind < G_N_ELEMENTS (pool->commands); kind++)
    g_strfreev (pool->commands[kind]);
  g_main_loop_unref (pool->loop);
  g_main_context_unref (pool->context);
  g_mutex_clear (&pool->lock);
  g_free (pool);
}

void
_ag_process_pool_set_max_processes (AgProcessPool *pool,
                                   int           max_processes)
{
  g_mutex_lock (&pool->lock);
  pool->max_processes = max_processes;
  g_mutex_unlock (&pool->lock);
}

void
_ag_process_pool_set_idle_ms (AgProcessPool *pool,
                             guint         idle_ms)
{
  g_mutex_lock (&pool->lock);
  pool->idle_ms = idle_ms;
  g_mutex_unlock (&pool->lock);
}

/* For calls and commands from now on whose own timeout is -1. */
void
_ag_process_pool_set_default_timeout_ms (AgProcessPool *pool,
                                        guint         timeout_ms)
{
  g_mutex_lock (&pool->lock);
  pool->default_timeout_ms = timeout_ms;
  g_mutex_unlock (&pool->lock);
}

typedef struct
{
  AgProcessPool *pool;
  AgWorkerKind  kind;
} Retire;

static gboolean
retire_idle_in_io (gpointer user_data)
{
  Retire *retire = user_data;
  GList *l = retire->pool->workers;

  /* The new command has not failed yet. */
  retire->pool->failed_starts[retire->kind] = 0;

  while (l != NULL)
    {
      Worker *worker = l->data;

      l = l->next;
      if (worker->kind == retire->kind && worker->call == NULL && is_outdated (worker))
        worker_retire (worker);
    }

  g_free (retire);
  return G_SOURCE_REMOVE;
}

/* Idle workers of the old command are let go, so that the next call runs
 * the new one; busy ones finish their call first and are not reused. */
void
_ag_process_pool_set_command (AgProcessPool       *pool,
                             AgWorkerKind        kind,
                             const char * const *argv)
{
  Retire *retire = g_new0 (Retire, 1);

  g_mutex_lock (&pool->lock);
  g_strfreev (pool->commands[kind]);
  pool->commands[kind] = argv != NULL ? g_strdupv ((char **) argv) : NULL;
  pool->generation[kind]++;
  g_mutex_unlock (&pool->lock);

  retire->pool = pool;
  retire->kind = kind;
  g_main_context_invoke (pool->context, retire_idle_in_io, retire);
}

void
_ag_process_pool_call (AgProcessPool *pool,
                      AgTask       *task,
                      AgWorkerKind  kind,
                      const char   *target,
                      GVariant     *args,
                      int           timeout_ms)
{
  Call *call = g_new0 (Call, 1);

  call->pool = pool;
  call->task = g_object_ref (task);
  call->kind = kind;
  call->target = g_strdup (target);
  call->args = g_variant_ref_sink (args != NULL ? args : g_variant_new ("()"));
  call->timeout_ms = resolve_timeout_ms (pool, timeout_ms);

  g_main_context_invoke (pool->context, call_in_io, call);
}

void
_ag_process_pool_run_command (AgProcessPool  *pool,
                             AgTask        *task,
                             AgCommandSpec *spec)
{
  Command *command = g_new0 (Command, 1);

  command->pool = pool;
  command->task = g_object_ref (task);
  command->spec = spec;
  command->timeout_ms = resolve_timeout_ms (pool, spec->timeout_ms);
  command->cancellable = g_cancellable_new ();

  g_main_context_invoke (pool->context, command_in_io, command);
}

void
_ag_process_pool_cancel (AgProcessPool *pool,
                        AgTask       *task)
{
  Cancel *cancel = g_new0 (Cancel, 1);

  cancel->pool = pool;
  cancel->task = g_object_ref (task);
  g_main_context_invoke (pool->context, cancel_in_io, cancel);
}
