/* ag-command-runner.c: commands run as child processes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <glib-unix.h>
#include <gio/gunixoutputstream.h>

#include "ag-i18n-private.h"
#include "ag-error.h"
#include "ag-command-runner-private.h"

/* The runner knows commands, not tasks: a command is a request (argv,
 * input, directory, environment, timeout) and a reply function, called
 * exactly once, on the process thread, with what the command wrote and how
 * it ended — or with why it did not: it could not start, it timed out, it
 * was cancelled, the runner shut down. Then the user data is released,
 * there too.
 *
 * Everything runs on the process thread (ag-process-thread.c), not on the
 * engine's context: g_subprocess_communicate_async() completes on the
 * thread-default context it was started on, and reads the output there,
 * a chunk at a time, into memory. On the engine's thread that would be
 * work per chunk outside the delivery budget, and a fork and exec besides;
 * here the engine's thread only sees the reply, through its task.
 *
 * GSubprocess reads the output and waits for the exit
 * (g_subprocess_communicate_async()). The input is written apart, to a
 * pipe of the runner's own: communicate fails with a broken pipe when a
 * command exits without reading all its input, and a shell does not count
 * that as a failure, so neither does the runner. A command without input
 * reads /dev/null: end of file, never the program's own stdin.
 *
 * A timeout or a cancel sends SIGTERM, then SIGKILL after GRACE_MS. The
 * output is read until the command has exited and DRAIN_MS more: a process
 * it started may hold the pipes open for much longer, and the command's end
 * must not wait for it. A cancel is answered at once; the command is killed
 * and reaped all the same. */

#define GRACE_MS 500
#define DRAIN_MS 100

typedef struct
{
  AgCommandRunner    *runner;
  guint64             id;
  char              **argv;
  GBytes             *stdin_bytes;
  char               *cwd;
  char              **env;
  guint               timeout_ms;     /* 0: none */
  GCancellable       *cancelled_by;   /* the task's: cancelled before the start, no start */
  AgCommandReplyFunc  reply;
  gpointer            user_data;
  GDestroyNotify      user_data_destroy;

  /* The process thread only, from here. */
  GSubprocess        *process;
  pid_t               group;          /* its process group; 0 if unknown */
  GCancellable       *cancellable;    /* of the output and the input */
  GSource            *timeout;
  GSource            *kill_timer;
  GSource            *drain_timer;
  guint               pending;        /* output, exit, input */
  gboolean            communicated;
  gboolean            exited;
  gboolean            timed_out;
  gboolean            replied;
} Command;

struct _AgCommandRunner
{
  AgProcessThread *thread;

  GMutex           lock;      /* guards next_id */
  guint64          next_id;

  /* The process thread only. */
  GList           *running;   /* Command, from its start to its end */
  GCancellable    *stop;      /* cancelled by the shutdown */
  gboolean         stopping;
};

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static GSource *
attach_timeout (Command     *command,
                guint        ms,
                GSourceFunc  func)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_static_name (source, "[asyncgui] command timer");
  g_source_set_callback (source, func, command, NULL);
  g_source_attach (source, _ag_process_thread_get_context (command->runner->thread));
  return source;
}

/* The command leads a process group of its own, which holds what it
 * started (a script's commands): a signal goes to all of them. */
static void
signal_group (Command *command,
              int      signal_number)
{
  if (command->group > 0)
    kill (-command->group, signal_number);
  if (!command->exited)
    g_subprocess_send_signal (command->process, signal_number);
}

static void
command_free (Command *command)
{
  if (command->process != NULL)
    {
      command->runner->running = g_list_remove (command->runner->running, command);
      _ag_process_thread_release (command->runner->thread);
    }

  /* Its SIGTERM was sent, its grace not over: what it started, and is
   * still there, gets SIGKILL now, as nothing will look again. */
  if (command->kill_timer != NULL)
    signal_group (command, SIGKILL);

  destroy_source (&command->timeout);
  destroy_source (&command->kill_timer);
  destroy_source (&command->drain_timer);

  g_strfreev (command->argv);
  g_clear_pointer (&command->stdin_bytes, g_bytes_unref);
  g_free (command->cwd);
  g_strfreev (command->env);
  g_clear_object (&command->process);
  g_clear_object (&command->cancellable);
  g_clear_object (&command->cancelled_by);
  g_free (command);
}

/* Every command is answered here, once: its reply function is told, then
 * its user data released. The command itself may live on until its
 * process is gone. */
static void
command_reply (Command        *command,
               AgCommandReply *reply)
{
  g_assert (!command->replied);

  command->replied = TRUE;
  destroy_source (&command->timeout);

  command->reply (reply, command->user_data);
  if (command->user_data_destroy != NULL)
    command->user_data_destroy (command->user_data);

  g_clear_pointer (&reply->stdout_bytes, g_bytes_unref);
  g_clear_pointer (&reply->stderr_bytes, g_bytes_unref);
  g_clear_error (&reply->error);
}

/* Takes @error. */
static void
command_fail (Command *command,
              GError  *error)
{
  AgCommandReply reply = { NULL, NULL, -1, error };

  command_reply (command, &reply);
}

static void
command_step_done (Command *command)
{
  if (--command->pending == 0)
    command_free (command);
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

/* How the command ended, once it has; @reply holds its output. */
static void
judge_exit (Command        *command,
            AgCommandReply *reply)
{
  GSubprocess *process = command->process;
  g_autofree char *program = g_path_get_basename (command->argv[0]);
  g_autofree char *tail = stderr_tail (reply->stderr_bytes);

  if (command->timed_out)
    reply->error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                _("“%s” did not finish within %u ms"),
                                program, command->timeout_ms);
  else if (g_subprocess_get_if_signaled (process))
    reply->error = g_error_new (AG_ERROR, AG_ERROR_COMMAND_FAILED,
                                _("“%s” was killed by signal %d (%s)%s%s"),
                                program, g_subprocess_get_term_sig (process),
                                g_strsignal (g_subprocess_get_term_sig (process)),
                                tail[0] != '\0' ? ": " : "", tail);
  else
    {
      reply->exit_status = g_subprocess_get_exit_status (process);
      if (reply->exit_status != 0)
        reply->error = g_error_new (AG_ERROR, AG_ERROR_COMMAND_FAILED,
                                    _("“%s” exited with status %d%s%s"),
                                    program, reply->exit_status,
                                    tail[0] != '\0' ? ": " : "", tail);
    }
}

static gboolean
kill_now (gpointer user_data)
{
  Command *command = user_data;

  g_clear_pointer (&command->kill_timer, g_source_unref);
  signal_group (command, SIGKILL);

  return G_SOURCE_REMOVE;
}

/* SIGTERM, then SIGKILL if it is still there after the grace period;
 * what it started as well, even once it has exited itself. */
static void
terminate (Command *command)
{
  if (command->kill_timer != NULL)
    return;

  signal_group (command, SIGTERM);
  command->kill_timer = attach_timeout (command, GRACE_MS, kill_now);
}

static void
communicated (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Command *command = user_data;
  AgCommandReply reply = { NULL, NULL, -1, NULL };
  GError *error = NULL;

  command->communicated = TRUE;
  destroy_source (&command->drain_timer);

  if (g_subprocess_communicate_finish (command->process, result, &reply.stdout_bytes,
                                       &reply.stderr_bytes, &error))
    {
      if (!command->replied)
        {
          judge_exit (command, &reply);
          command_reply (command, &reply);
        }
      else
        {
          g_clear_pointer (&reply.stdout_bytes, g_bytes_unref);
          g_clear_pointer (&reply.stderr_bytes, g_bytes_unref);
        }
    }
  else if (command->replied)
    g_clear_error (&error);
  else if (command->timed_out)
    {
      /* Cut short after the exit: what was read is lost with it. */
      g_clear_error (&error);
      judge_exit (command, &reply);
      command_reply (command, &reply);
    }
  else
    {
      command_fail (command, error);
      terminate (command);
    }

  /* Input nobody reads any more (a process the command started holds
   * the pipe) is not written. */
  g_cancellable_cancel (command->cancellable);
  command_step_done (command);
}

static gboolean
stop_reading (gpointer user_data)
{
  Command *command = user_data;

  g_clear_pointer (&command->drain_timer, g_source_unref);
  g_cancellable_cancel (command->cancellable);

  return G_SOURCE_REMOVE;
}

static void
exited (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  Command *command = user_data;

  /* Fails only when the shutdown stops the wait. */
  if (g_subprocess_wait_finish (command->process, result, NULL))
    {
      /* A kill timer stays: what the command started may still be there. */
      command->exited = TRUE;

      if (!command->communicated && (command->timed_out || command->replied))
        command->drain_timer = attach_timeout (command, DRAIN_MS, stop_reading);
    }

  command_step_done (command);
}

static void
input_written (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Command *command = user_data;

  /* A command may exit without reading all its input; its exit status
   * says what it thought of that. */
  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  g_output_stream_close (G_OUTPUT_STREAM (source), NULL, NULL);
  g_object_unref (source);
  command_step_done (command);
}

static gboolean
timed_out (gpointer user_data)
{
  Command *command = user_data;

  g_clear_pointer (&command->timeout, g_source_unref);
  command->timed_out = TRUE;
  terminate (command);

  return G_SOURCE_REMOVE;
}

/* The command's input: the read end of a pipe for the launcher to give
 * the child, and a non-blocking stream on the write end (a blocking one
 * would stall the thread on a large write). */
static GOutputStream *
open_input (GSubprocessLauncher  *launcher,
            GError              **error)
{
  int fds[2];

  if (!g_unix_open_pipe (fds, FD_CLOEXEC, error))
    return NULL;

  g_subprocess_launcher_take_stdin_fd (launcher, fds[0]);
  g_unix_set_fd_nonblocking (fds[1], TRUE, NULL);
  return g_unix_output_stream_new (fds[1], TRUE);
}

static gboolean
start_in_thread (gpointer user_data)
{
  Command *command = user_data;
  AgCommandRunner *runner = command->runner;
  g_autoptr(GSubprocessLauncher) launcher =
    _ag_process_thread_new_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                     SIGTERM, AG_CHILD_OWN_SESSION);
  g_autoptr(GOutputStream) input = NULL;
  GError *error = NULL;

  if (runner->stopping)
    {
      command_fail (command, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                  _("The command runner was shut down before the command started")));
      command_free (command);
      return G_SOURCE_REMOVE;
    }

  /* Its cancel, which comes after this, would find it running: a burst of
   * requests replaced at once would spawn each only to kill it. */
  if (command->cancelled_by != NULL && g_cancellable_is_cancelled (command->cancelled_by))
    {
      command_fail (command, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                  _("The command was cancelled")));
      command_free (command);
      return G_SOURCE_REMOVE;
    }

  if (command->cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, command->cwd);
  if (command->env != NULL)
    g_subprocess_launcher_set_environ (launcher, command->env);

  if (command->stdin_bytes == NULL)
    g_subprocess_launcher_set_stdin_file_path (launcher, "/dev/null");
  else if ((input = open_input (launcher, &error)) == NULL)
    {
      command_fail (command, error);
      command_free (command);
      return G_SOURCE_REMOVE;
    }

  command->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) command->argv,
                                                   &error);
  if (command->process == NULL)
    {
      command_fail (command, error);
      command_free (command);
      return G_SOURCE_REMOVE;
    }

  /* NULL once GLib has reaped it: then its group is gone, or unknown. */
  if (g_subprocess_get_identifier (command->process) != NULL)
    command->group = atoi (g_subprocess_get_identifier (command->process));

  _ag_process_thread_hold (runner->thread);
  runner->running = g_list_prepend (runner->running, command);
  command->cancellable = g_cancellable_new ();

  if (command->timeout_ms > 0)
    command->timeout = attach_timeout (command, command->timeout_ms, timed_out);

  command->pending = 2;
  g_subprocess_communicate_async (command->process, NULL, command->cancellable,
                                  communicated, command);
  g_subprocess_wait_async (command->process, runner->stop, exited, command);

  if (input != NULL)
    {
      command->pending++;
      g_output_stream_write_all_async (g_object_ref (input),
                                       g_bytes_get_data (command->stdin_bytes, NULL),
                                       g_bytes_get_size (command->stdin_bytes),
                                       G_PRIORITY_DEFAULT, command->cancellable,
                                       input_written, command);
    }

  return G_SOURCE_REMOVE;
}

typedef struct
{
  AgCommandRunner *runner;
  guint64          id;
} Cancel;

static gboolean
cancel_in_thread (gpointer user_data)
{
  Cancel *cancel = user_data;

  for (GList *l = cancel->runner->running; l != NULL; l = l->next)
    {
      Command *command = l->data;

      if (command->id == cancel->id && !command->replied)
        {
          command_fail (command, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                      _("The command was cancelled")));
          terminate (command);
          break;
        }
    }

  g_free (cancel);
  return G_SOURCE_REMOVE;
}

static gboolean
shutdown_in_thread (gpointer user_data)
{
  AgCommandRunner *runner = user_data;

  runner->stopping = TRUE;
  g_cancellable_cancel (runner->stop);

  for (GList *l = runner->running; l != NULL; l = l->next)
    {
      Command *command = l->data;

      if (!command->replied)
        command_fail (command, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                    _("The command runner was shut down before the command finished")));
      destroy_source (&command->kill_timer);
      destroy_source (&command->drain_timer);
      g_cancellable_cancel (command->cancellable);
      signal_group (command, SIGKILL);
    }

  return G_SOURCE_REMOVE;
}

AgCommandRunner *
_ag_command_runner_new (AgProcessThread *thread)
{
  AgCommandRunner *runner = g_new0 (AgCommandRunner, 1);

  runner->thread = thread;
  g_mutex_init (&runner->lock);
  runner->stop = g_cancellable_new ();

  return runner;
}

/* Every command not yet answered fails with G_IO_ERROR_CANCELLED, on the
 * process thread, and every running one is killed (GLib's child watch
 * reaps it). Returns at once: stopping the thread afterwards waits until
 * all of it is done. */
void
_ag_command_runner_shutdown (AgCommandRunner *runner)
{
  _ag_process_thread_invoke (runner->thread, shutdown_in_thread, runner);
}

/* Once the process thread has stopped. */
void
_ag_command_runner_free (AgCommandRunner *runner)
{
  g_assert (runner->running == NULL);

  g_clear_object (&runner->stop);
  g_mutex_clear (&runner->lock);
  g_free (runner);
}

/* Runs @argv with @stdin_bytes as its input (NULL: end of file), in @cwd
 * (NULL: ours), with the environment @env (NULL: ours), for at most
 * @timeout_ms (0: no limit); not at all if @cancelled_by (nullable) is
 * cancelled before it starts. @reply is called exactly once, on the process
 * thread, then @user_data_destroy; neither may call into the runner.
 * Returns the command's id, for _ag_command_runner_cancel(). */
guint64
_ag_command_runner_run (AgCommandRunner     *runner,
                        const char * const  *argv,
                        GBytes              *stdin_bytes,
                        const char          *cwd,
                        const char * const  *env,
                        guint                timeout_ms,
                        GCancellable        *cancelled_by,
                        AgCommandReplyFunc   reply,
                        gpointer             user_data,
                        GDestroyNotify       user_data_destroy)
{
  Command *command = g_new0 (Command, 1);
  guint64 id;

  command->runner = runner;
  command->argv = g_strdupv ((char **) argv);
  command->stdin_bytes = stdin_bytes != NULL ? g_bytes_ref (stdin_bytes) : NULL;
  command->cwd = g_strdup (cwd);
  command->env = g_strdupv ((char **) env);
  command->timeout_ms = timeout_ms;
  command->cancelled_by = cancelled_by != NULL ? g_object_ref (cancelled_by) : NULL;
  command->reply = reply;
  command->user_data = user_data;
  command->user_data_destroy = user_data_destroy;

  g_mutex_lock (&runner->lock);
  id = command->id = ++runner->next_id;
  g_mutex_unlock (&runner->lock);

  /* The command may be over by the time this returns. */
  _ag_process_thread_invoke (runner->thread, start_in_thread, command);

  return id;
}

/* Fails the command with G_IO_ERROR_CANCELLED at once, unless it has been
 * answered already, and terminates it: SIGTERM, then SIGKILL after a grace
 * period. */
void
_ag_command_runner_cancel (AgCommandRunner *runner,
                           guint64          command)
{
  Cancel *cancel = g_new0 (Cancel, 1);

  cancel->runner = runner;
  cancel->id = command;
  _ag_process_thread_invoke (runner->thread, cancel_in_thread, cancel);
}
