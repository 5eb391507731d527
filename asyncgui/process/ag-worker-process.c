/* ag-worker-process.c: one warm worker process, and the pipes to it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <glib-unix.h>
#include <gio/gunixoutputstream.h>

#include "ag-i18n-private.h"
#include "ag-error.h"
#include "ag-worker-process-private.h"
#include "ag-worker-protocol-private.h"

/* A worker process is a child that reads requests on its stdin and writes
 * replies on its stdout, as length-framed messages (ag-worker-protocol.c).
 * This file spawns one, writes frames to it and reads frames from it, on
 * the process thread, and tells its owner (the pool) what it heard through
 * AgWorkerProcessEvents. What a request is for, and what to do when a
 * worker goes, is the pool's business.
 *
 * A worker lives until its owner kills it, and then until every operation
 * it has in flight has seen the cancellation; it holds the process thread
 * meanwhile. */

struct _AgWorkerProcess
{
  AgProcessThread              *thread;
  const AgWorkerProcessEvents  *events;
  gpointer                      data;

  GSubprocess                  *process;
  char                         *program;    /* the command line, to name in errors */
  int                           pid;        /* 0 if it was gone before it was looked at */
  GOutputStream                *input;
  GInputStream                 *output;
  AgFrameReader                *reader;
  GCancellable                 *cancellable;
  guint                         pending;    /* operations in flight, and the owner */
  gboolean                      killed;
};

static void
unref_op (AgWorkerProcess *self)
{
  AgProcessThread *thread = self->thread;

  if (--self->pending > 0)
    return;

  g_clear_pointer (&self->reader, _ag_frame_reader_free);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->process);
  g_free (self->program);
  g_free (self);

  _ag_process_thread_release (thread);
}

/* How a worker's command is named in messages: the command line, cut
 * short (a Python worker's carries the whole sys.path). */
static char *
describe_command (const char * const *argv)
{
  g_autofree char *line = g_strjoinv (" ", (char **) argv);
  const char *end;

  if (strlen (line) <= 160)
    return g_steal_pointer (&line);

  end = g_utf8_find_prev_char (line, line + 160);
  return g_strdup_printf ("%.*s…", (int) (end - line), line);
}

static void read_more (AgWorkerProcess *self);

static void
read_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  AgWorkerProcess *self = user_data;
  g_autoptr(GBytes) bytes = NULL;
  GError *error = NULL;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);

  if (self->killed)
    g_clear_error (&error);
  else if (bytes != NULL && g_bytes_get_size (bytes) == 0
           && _ag_frame_reader_get_buffered (self->reader) > 0)
    self->events->lost (self,
                        g_error_new (AG_ERROR, AG_ERROR_PROTOCOL,
                                     _("A worker exited in the middle of a message (%lu bytes of it sent)"),
                                     (unsigned long) _ag_frame_reader_get_buffered (self->reader)),
                        self->data);
  else if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    {
      /* An I/O error: the exit status says more. */
      g_clear_error (&error);
      self->events->lost (self, NULL, self->data);
    }
  else
    {
      GVariant *message;

      _ag_frame_reader_feed (self->reader, g_bytes_get_data (bytes, NULL),
                             g_bytes_get_size (bytes));
      while (!self->killed
             && _ag_frame_reader_pop (self->reader, &message, &error)
             && message != NULL)
        {
          self->events->received (self, message, self->data);
          g_variant_unref (message);
        }

      if (self->killed)
        g_clear_error (&error);
      else if (error != NULL)
        self->events->lost (self, error, self->data);
      else
        read_more (self);
    }

  unref_op (self);
}

static void
read_more (AgWorkerProcess *self)
{
  self->pending++;
  g_input_stream_read_bytes_async (self->output, 64 * 1024, G_PRIORITY_DEFAULT,
                                   self->cancellable, read_done, self);
}

static void
write_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  AgWorkerProcess *self = user_data;
  gboolean written;

  written = g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);

  /* A failed write is an I/O error: the exit status says more. */
  if (!self->killed)
    {
      if (written)
        self->events->sent (self, self->data);
      else
        self->events->lost (self, NULL, self->data);
    }

  unref_op (self);
}

/* Starts @argv as a worker. The process thread only. */
AgWorkerProcess *
_ag_worker_process_spawn (AgProcessThread              *thread,
                          const char * const           *argv,
                          const AgWorkerProcessEvents  *events,
                          gpointer                      data,
                          GError                      **error)
{
  g_autoptr(GSubprocessLauncher) launcher =
    _ag_process_thread_new_launcher (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  AgWorkerProcess *self;
  GSubprocess *process;
  const char *identifier;

  process = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (process == NULL)
    return NULL;

  self = g_new0 (AgWorkerProcess, 1);
  self->thread = thread;
  self->events = events;
  self->data = data;
  self->process = process;
  self->program = describe_command (argv);
  /* NULL once GLib has reaped the child: it is gone already, and its end
   * of the pipes says so in a moment. */
  identifier = g_subprocess_get_identifier (process);
  self->pid = identifier != NULL ? atoi (identifier) : 0;
  self->input = g_subprocess_get_stdin_pipe (process);
  self->output = g_subprocess_get_stdout_pipe (process);
  self->reader = _ag_frame_reader_new (AG_REPLY_TYPE);
  self->cancellable = g_cancellable_new ();
  self->pending = 1;  /* the owner's, until it kills the worker */

  /* GSubprocess leaves the parent's end of a pipe blocking. A large write
   * would then block the thread until the child reads, and a child that
   * writes before it reads would never be read: deadlock. */
  g_unix_set_fd_nonblocking (g_unix_output_stream_get_fd (G_UNIX_OUTPUT_STREAM (self->input)),
                             TRUE, NULL);

  _ag_process_thread_hold (thread);
  read_more (self);

  return self;
}

int
_ag_worker_process_get_pid (AgWorkerProcess *self)
{
  return self->pid;
}

/* Writes @frame to the worker; `sent` says when it is done. */
void
_ag_worker_process_send (AgWorkerProcess *self,
                         GBytes          *frame)
{
  self->pending++;
  g_output_stream_write_all_async (self->input,
                                   g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
                                   G_PRIORITY_DEFAULT, self->cancellable, write_done, self);
}

/* Lets an idle worker go: a worker leaves at the end of its input, and
 * the end of its output then makes it lost. */
void
_ag_worker_process_close_input (AgWorkerProcess *self)
{
  g_output_stream_close (self->input, NULL, NULL);
}

/* Kills the worker (GLib's child watch reaps it); its owner hears nothing
 * more of it, and must not use it after, but in a wait for its exit
 * started before. */
void
_ag_worker_process_kill (AgWorkerProcess *self)
{
  g_assert (!self->killed);

  self->killed = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_subprocess_force_exit (self->process);
  unref_op (self);
}

typedef struct
{
  AgWorkerProcess         *self;
  AgWorkerProcessExitFunc  func;
  gpointer                 data;
} ExitWait;

static void
exit_waited (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  ExitWait *wait = user_data;
  gboolean exited = g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);

  wait->func (wait->self, exited, wait->data);
  unref_op (wait->self);
  g_free (wait);
}

/* Calls @func once the worker has exited, or @cancellable is cancelled;
 * the worker stays valid until then. */
void
_ag_worker_process_wait_exit (AgWorkerProcess         *self,
                              GCancellable            *cancellable,
                              AgWorkerProcessExitFunc  func,
                              gpointer                 data)
{
  ExitWait *wait = g_new0 (ExitWait, 1);

  wait->self = self;
  wait->func = func;
  wait->data = data;
  self->pending++;
  g_subprocess_wait_async (self->process, cancellable, exit_waited, wait);
}

/* How a worker that was running a call ended; once it has exited. */
GError *
_ag_worker_process_crash_error (AgWorkerProcess *self)
{
  GSubprocess *process = self->process;

  if (g_subprocess_get_if_signaled (process))
    {
      int sig = g_subprocess_get_term_sig (process);

      if (self->pid > 0)
        return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                            _("The worker process %d died of signal %d (%s) while running the task"),
                            self->pid, sig, g_strsignal (sig));
      return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                          _("A worker process died of signal %d (%s) while running the task"),
                          sig, g_strsignal (sig));
    }

  if (self->pid > 0)
    return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                        _("The worker process %d exited with status %d while running the task"),
                        self->pid, g_subprocess_get_exit_status (process));
  return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                      _("A worker process exited with status %d while running the task"),
                      g_subprocess_get_exit_status (process));
}

/* How a worker program fails to start, @attempts times in a row; once
 * the last one has exited. */
GError *
_ag_worker_process_start_error (AgWorkerProcess *self,
                                const GError    *protocol_error,
                                guint            attempts)
{
  GSubprocess *process = self->process;

  if (protocol_error != NULL)
    return g_error_new (AG_ERROR, AG_ERROR_PROTOCOL,
                        _("The worker program “%s” did not speak the worker protocol as it started, %u times in a row: %s"),
                        self->program, attempts, protocol_error->message);

  if (g_subprocess_get_if_signaled (process))
    return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                        _("The worker program “%s” died of signal %d (%s) before it was ready, %u times in a row"),
                        self->program, g_subprocess_get_term_sig (process),
                        g_strsignal (g_subprocess_get_term_sig (process)), attempts);

  return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                      _("The worker program “%s” exited with status %d before it was ready, %u times in a row"),
                      self->program, g_subprocess_get_exit_status (process), attempts);
}
