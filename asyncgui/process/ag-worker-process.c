/* ag-worker-process.c: one warm worker process, and the pipes to it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <glib-unix.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>

#include "ag-i18n-private.h"
#include "ag-error.h"
#include "ag-sandbox-private.h"
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
 * meanwhile.
 *
 * The pipes are read and written with plain non-blocking read() and
 * write() calls: its output has one source watching it for the worker's
 * whole life, and a request is written at once, with a source watching
 * the input only while the pipe is too full to take the rest. A call is
 * thus one write and one read, and no iteration of the thread's loop is
 * spent on the machinery of asynchronous streams.
 *
 * Beside the pipes, a worker has a Unix socket on AG_WORKER_FD_SOCKET.
 * Down it go the files of a call, before the request itself: a header
 * (the request's id and the number of descriptors, 12 bytes, little
 * endian), then each descriptor with one byte (as
 * g_unix_connection_send_fd() sends them, so a GJS worker can read them
 * too). The worker reads them without waiting when a request comes: they
 * were queued before the request was written. Up it comes one byte as the
 * worker starts, with the kernel's credentials attached (SO_PASSCRED):
 * under bwrap the process this file spawned is bwrap, and the worker
 * another process in a PID namespace, whose pid in this namespace the
 * credentials give. That pid is the one whose limits are set per call. */

struct _AgWorkerProcess
{
  AgProcessThread              *thread;
  const AgWorkerProcessEvents  *events;
  gpointer                      data;

  GSubprocess                  *process;
  char                         *program;    /* the command line, to name in errors */
  int                           pid;        /* 0 if it was gone before it was looked at */
  int                           worker_pid; /* the worker itself, once it greeted */
  int                           socket_fd;  /* our end of its socket */
  gboolean                      sandboxed;
  GOutputStream                *input;
  GInputStream                 *output;
  int                           input_fd;   /* non-blocking, both */
  int                           output_fd;
  GSource                      *read_source;   /* while reading */
  GSource                      *write_source;  /* while the input pipe is full */
  GSource                      *failed_source; /* a write failed: reports the loss */
  GCancellable                 *exit_wait;  /* cancelled when it is killed */
  GBytes                       *frame;      /* being written */
  gsize                         written;    /* bytes of it */
  gboolean                      send_failed; /* its write failed */
  guint8                       *buffer;     /* READ_SIZE bytes */
  AgFrameReader                *reader;
  guint                         pending;    /* sources attached, callbacks running, the owner */
  gboolean                      killed;     /* the owner let go of it (killed it, or
                                             * leaves it to exit) */
};

#define READ_SIZE (64 * 1024)

static void
unref_op (AgWorkerProcess *self)
{
  AgProcessThread *thread = self->thread;

  if (--self->pending > 0)
    return;

  g_clear_pointer (&self->reader, _ag_frame_reader_free);
  g_clear_pointer (&self->frame, g_bytes_unref);
  g_free (self->buffer);
  g_clear_object (&self->process);
  g_clear_object (&self->exit_wait);
  if (self->socket_fd >= 0)
    close (self->socket_fd);
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

/* Detaches and drops a source the worker watches with, and the operation
 * it stood for. */
static void
stop_source (AgWorkerProcess  *self,
             GSource         **source)
{
  if (*source == NULL)
    return;

  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
  unref_op (self);
}

static GSource *
watch (AgWorkerProcess *self,
       int              fd,
       GIOCondition     condition,
       GUnixFDSourceFunc func)
{
  GSource *source = g_unix_fd_source_new (fd, condition);

  g_source_set_callback (source, G_SOURCE_FUNC (func), self, NULL);
  g_source_set_static_name (source, "[asyncgui] worker pipe");
  /* GLib takes a source's descriptors out of the poll while it dispatches
   * it, unless it may recurse, and each removal and return wakes the
   * context: two wake-ups of this thread by itself per reply. Nothing
   * iterates the process thread's context from inside a dispatch, so the
   * source cannot actually recurse. */
  g_source_set_can_recurse (source, TRUE);
  g_source_attach (source, _ag_process_thread_get_context (self->thread));
  self->pending++;

  return source;
}

/* Feeds what came to the frame reader and tells the owner each message.
 * FALSE when the worker is of no more use (the owner was told, or killed
 * it). */
static gboolean
take_messages (AgWorkerProcess *self,
               const guint8    *data,
               gsize            size)
{
  GError *error = NULL;
  GVariant *message;

  _ag_frame_reader_feed (self->reader, data, size);
  while (!self->killed
         && _ag_frame_reader_pop (self->reader, &message, &error)
         && message != NULL)
    {
      self->events->received (self, message, self->data);
      g_variant_unref (message);
    }

  if (self->killed)
    {
      g_clear_error (&error);
      return FALSE;
    }
  if (error != NULL)
    {
      self->events->lost (self, error, self->data);
      return FALSE;
    }

  return TRUE;
}

/* The end of the worker's output, or a failure to read it. */
static void
output_ended (AgWorkerProcess *self)
{
  gsize buffered = _ag_frame_reader_get_buffered (self->reader);

  if (buffered > 0)
    self->events->lost (self,
                        g_error_new (AG_ERROR, AG_ERROR_PROTOCOL,
                                     _("A worker exited in the middle of a message (%lu bytes of it sent)"),
                                     (unsigned long) buffered),
                        self->data);
  else
    /* The exit status says more. */
    self->events->lost (self, NULL, self->data);
}

static gboolean
output_ready (int           fd,
              GIOCondition  condition,
              gpointer      user_data)
{
  AgWorkerProcess *self = user_data;
  gboolean more = TRUE;

  /* The owner may kill the worker while it is told of a message. */
  self->pending++;

  while (more && !self->killed)
    {
      gssize got = read (self->output_fd, self->buffer, READ_SIZE);

      if (got > 0)
        more = take_messages (self, self->buffer, (gsize) got) && got == READ_SIZE;
      else if (got < 0 && errno == EINTR)
        continue;
      else if (got < 0 && errno == EAGAIN)
        break;
      else
        {
          /* Read no more. */
          g_clear_pointer (&self->read_source, g_source_unref);
          unref_op (self);
          output_ended (self);
          unref_op (self);
          return G_SOURCE_REMOVE;
        }
    }

  unref_op (self);
  return G_SOURCE_CONTINUE;
}

/* The worker exited. Its output ends with it, unless a child it forked
 * holds the pipe open: then the exit ends the output, once what the
 * worker wrote before it went has been read. Whichever comes first, the
 * end of the output or the exit, ends the reading. */
static void
worker_exited (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AgWorkerProcess *self = user_data;
  gboolean more = TRUE;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);

  while (more && !self->killed && self->read_source != NULL)
    {
      gssize got = read (self->output_fd, self->buffer, READ_SIZE);

      if (got > 0)
        more = take_messages (self, self->buffer, (gsize) got);
      else if (got < 0 && errno == EINTR)
        continue;
      else
        {
          /* The end, or nothing more while another process holds it. */
          stop_source (self, &self->read_source);
          output_ended (self);
        }
    }

  unref_op (self);
}

/* Writes what is left of the frame; TRUE once it is all written or the
 * write failed (then self->frame is still set). */
static gboolean
write_some (AgWorkerProcess *self)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (self->frame, &size);

  while (self->written < size)
    {
      gssize done = write (self->input_fd, data + self->written, size - self->written);

      if (done > 0)
        self->written += (gsize) done;
      else if (done < 0 && errno == EINTR)
        continue;
      else if (done < 0 && errno == EAGAIN)
        return FALSE;
      else
        return TRUE;
    }

  g_clear_pointer (&self->frame, g_bytes_unref);
  return TRUE;
}

/* A write failed, which is an I/O error: the exit status says more. Told
 * from a source of its own, so that the owner never hears of the loss of
 * the worker from inside its own call to _ag_worker_process_send(). */
static gboolean
write_failed (gpointer user_data)
{
  AgWorkerProcess *self = user_data;

  g_clear_pointer (&self->failed_source, g_source_unref);
  if (!self->killed)
    self->events->lost (self, NULL, self->data);
  unref_op (self);

  return G_SOURCE_REMOVE;
}

/* The frame is written whole, or its write failed: the owner is told,
 * of a failure from a source of its own. */
static void
wrote (AgWorkerProcess *self)
{
  if (self->frame == NULL)
    {
      self->events->sent (self, self->data);
      return;
    }

  g_clear_pointer (&self->frame, g_bytes_unref);
  self->send_failed = TRUE;
  self->failed_source = g_idle_source_new ();
  g_source_set_callback (self->failed_source, write_failed, self, NULL);
  g_source_set_static_name (self->failed_source, "[asyncgui] worker write failed");
  g_source_attach (self->failed_source, _ag_process_thread_get_context (self->thread));
  self->pending++;
}

static gboolean
input_ready (int           fd,
             GIOCondition  condition,
             gpointer      user_data)
{
  AgWorkerProcess *self = user_data;

  if (!write_some (self))
    return G_SOURCE_CONTINUE;

  g_clear_pointer (&self->write_source, g_source_unref);
  self->pending++;
  wrote (self);
  unref_op (self);
  unref_op (self);

  return G_SOURCE_REMOVE;
}

/* Starts @command as a worker. The process thread only. */
AgWorkerProcess *
_ag_worker_process_spawn (AgProcessThread              *thread,
                          const AgWorkerCommand        *command,
                          const AgWorkerProcessEvents  *events,
                          gpointer                      data,
                          GError                      **error)
{
  g_autoptr(GSubprocessLauncher) launcher =
    _ag_process_thread_new_launcher (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                                     SIGKILL, AG_CHILD_NO_INTERRUPT);
  g_auto(GStrv) sandboxed_argv = NULL;
  const char * const *argv = command->argv;
  AgWorkerProcess *self;
  GSubprocess *process;
  const char *identifier;
  int sockets[2];
  int on = 1;

  if (command->sandboxed)
    {
      int filter_fd = _ag_sandbox_open_filter (command->filter_program, error);

      if (filter_fd < 0)
        return NULL;
      g_subprocess_launcher_take_fd (launcher, filter_fd, AG_WORKER_FD_FILTER);

      sandboxed_argv = _ag_sandbox_wrap_command (argv, command->ro_paths, error);
      if (sandboxed_argv == NULL)
        return NULL;
      argv = (const char * const *) sandboxed_argv;
    }

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Cannot make the socket of a worker process: %s"), g_strerror (saved_errno));
      return NULL;
    }
  /* Set before the worker can send its first byte, which must carry its
   * credentials. */
  setsockopt (sockets[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
  g_unix_set_fd_nonblocking (sockets[0], TRUE, NULL);
  g_subprocess_launcher_take_fd (launcher, sockets[1], AG_WORKER_FD_SOCKET);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv, error);
  if (process == NULL)
    {
      close (sockets[0]);
      /* GLib names the program only when it is missing. */
      if (error != NULL && !g_error_matches (*error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT))
        g_prefix_error (error, _("Cannot start a worker process: "));
      return NULL;
    }

  self = g_new0 (AgWorkerProcess, 1);
  self->thread = thread;
  self->events = events;
  self->data = data;
  self->process = process;
  self->program = describe_command (command->argv);
  self->socket_fd = sockets[0];
  self->sandboxed = command->sandboxed;
  /* NULL once GLib has reaped the child: it is gone already, and its end
   * of the pipes says so in a moment. */
  identifier = g_subprocess_get_identifier (process);
  self->pid = identifier != NULL ? atoi (identifier) : 0;
  self->worker_pid = command->sandboxed ? 0 : self->pid;
  self->input = g_subprocess_get_stdin_pipe (process);
  self->output = g_subprocess_get_stdout_pipe (process);
  self->input_fd = g_unix_output_stream_get_fd (G_UNIX_OUTPUT_STREAM (self->input));
  self->output_fd = g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (self->output));
  self->buffer = g_malloc (READ_SIZE);
  self->reader = _ag_frame_reader_new (AG_REPLY_TYPE);
  self->pending = 1;  /* the owner's, until it kills the worker */

  /* GSubprocess leaves the parent's ends of the pipes blocking. A large
   * write would then block the thread until the child reads, and a child
   * that writes before it reads would never be read: deadlock. */
  g_unix_set_fd_nonblocking (self->input_fd, TRUE, NULL);
  g_unix_set_fd_nonblocking (self->output_fd, TRUE, NULL);

  _ag_process_thread_hold (thread);
  self->read_source = watch (self, self->output_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, output_ready);
  self->exit_wait = g_cancellable_new ();
  self->pending++;
  g_subprocess_wait_async (process, self->exit_wait, worker_exited, self);

  return self;
}

/* The worker's process id, for messages: under bwrap, the worker's own
 * once it greeted, not bwrap's. */
int
_ag_worker_process_get_pid (AgWorkerProcess *self)
{
  return self->worker_pid > 0 ? self->worker_pid : self->pid;
}

/* The worker has greeted: the byte it sent before says which process it
 * is (see the top of the file). A worker that sent none (a program of
 * the application's own) keeps the pid it was spawned with; a sandboxed
 * one then has no limits to set. */
void
_ag_worker_process_greeted (AgWorkerProcess *self)
{
  union {
    struct cmsghdr header;
    char           space[CMSG_SPACE (sizeof (struct ucred))];
  } control;
  struct msghdr message = { 0 };
  struct iovec vector;
  char byte;

  vector.iov_base = &byte;
  vector.iov_len = 1;
  message.msg_iov = &vector;
  message.msg_iovlen = 1;
  message.msg_control = control.space;
  message.msg_controllen = sizeof control.space;

  if (recvmsg (self->socket_fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1)
    return;

  for (struct cmsghdr *c = CMSG_FIRSTHDR (&message); c != NULL; c = CMSG_NXTHDR (&message, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
      {
        struct ucred credentials;

        memcpy (&credentials, CMSG_DATA (c), sizeof credentials);
        /* The kernel vouches for it, translated into this namespace. */
        if (credentials.pid > 0)
          self->worker_pid = credentials.pid;
      }
}

static gboolean
send_with_fd (int      socket_fd,
              gconstpointer data,
              gsize    size,
              int      fd)
{
  union {
    struct cmsghdr header;
    char           space[CMSG_SPACE (sizeof (int))];
  } control;
  struct msghdr message = { 0 };
  struct iovec vector;
  gssize sent;

  vector.iov_base = (gpointer) data;
  vector.iov_len = size;
  message.msg_iov = &vector;
  message.msg_iovlen = 1;
  if (fd >= 0)
    {
      struct cmsghdr *c;

      memset (&control, 0, sizeof control);
      message.msg_control = control.space;
      message.msg_controllen = sizeof control.space;
      c = CMSG_FIRSTHDR (&message);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (c), &fd, sizeof fd);
    }

  do
    sent = sendmsg (socket_fd, &message, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);

  return sent == (gssize) size;
}

/* Queues @fds for the request @id, which must be sent next. */
gboolean
_ag_worker_process_send_fds (AgWorkerProcess  *self,
                             guint64           id,
                             GUnixFDList      *fds,
                             GError          **error)
{
  int n = g_unix_fd_list_get_length (fds);
  const int *list = g_unix_fd_list_peek_fds (fds, NULL);
  guint8 header[12];
  guint64 id_le = GUINT64_TO_LE (id);
  guint32 n_le = GUINT32_TO_LE ((guint32) n);

  memcpy (header, &id_le, 8);
  memcpy (header + 8, &n_le, 4);

  if (!send_with_fd (self->socket_fd, header, sizeof header, -1))
    goto failed;
  for (int i = 0; i < n; i++)
    if (!send_with_fd (self->socket_fd, "", 1, list[i]))
      goto failed;

  return TRUE;

failed:
  {
    int saved_errno = errno;

    g_set_error (error, AG_ERROR, AG_ERROR_FAILED,
                 _("Cannot pass files to the worker process: %s"), g_strerror (saved_errno));
    return FALSE;
  }
}

/* The processor time the worker has used, in seconds; -1 if unknown. */
static double
cpu_seconds (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_name;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return -1;

  /* The name, in parentheses, may hold spaces: count from its end. utime
   * and stime are the 14th and 15th fields, the 12th and 13th after it. */
  after_name = strrchr (contents, ')');
  if (after_name == NULL)
    return -1;
  fields = g_strsplit (after_name + 2, " ", 0);
  if (g_strv_length (fields) < 13)
    return -1;

  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL))
         / (double) sysconf (_SC_CLK_TCK);
}

static gboolean
set_limit (int       pid,
           int       resource,
           rlim_t    soft,
           GError  **error)
{
  struct rlimit old, limit;

  if (prlimit (pid, resource, NULL, &old) == 0)
    {
      limit.rlim_cur = MIN (soft, old.rlim_max);
      limit.rlim_max = old.rlim_max;
      if (prlimit (pid, resource, &limit, NULL) == 0)
        return TRUE;
    }

  {
    int saved_errno = errno;

    g_set_error (error, AG_ERROR, AG_ERROR_FAILED,
                 _("Cannot set the limits of the worker process %d: %s"),
                 pid, g_strerror (saved_errno));
    return FALSE;
  }
}

/* Sets the limits of the next call on the worker, which has greeted and
 * is idle; 0 is none. A sandboxed worker cannot raise them again: its
 * filter refuses. */
gboolean
_ag_worker_process_set_limits (AgWorkerProcess  *self,
                               guint64           memory_limit,
                               int               cpu_limit_ms,
                               GError          **error)
{
  rlim_t cpu = RLIM_INFINITY;

  if (self->worker_pid <= 0)
    {
      g_set_error (error, AG_ERROR, AG_ERROR_FAILED,
                   _("Cannot set the limits of a worker process that did not say which process it is"));
      return FALSE;
    }

  if (cpu_limit_ms > 0)
    {
      double used = cpu_seconds (self->worker_pid);
      double end = used + cpu_limit_ms / 1000.0;

      if (used < 0)
        {
          g_set_error (error, AG_ERROR, AG_ERROR_FAILED,
                       _("Cannot read the processor time of the worker process %d"),
                       self->worker_pid);
          return FALSE;
        }
      /* The kernel counts whole seconds: the call gets at least its own. */
      cpu = (rlim_t) end;
      if ((double) cpu < end)
        cpu++;
    }

  return set_limit (self->worker_pid, RLIMIT_AS,
                    memory_limit > 0 ? (rlim_t) memory_limit : RLIM_INFINITY, error)
         && set_limit (self->worker_pid, RLIMIT_CPU, cpu, error);
}

/* Writes @frame to the worker; `sent` says when it is done, which may be
 * before this returns (a failure, never: see write_failed()). One frame at
 * a time. */
void
_ag_worker_process_send (AgWorkerProcess *self,
                         GBytes          *frame)
{
  g_assert (self->frame == NULL && self->write_source == NULL);
  /* Once closed, the number may already name another file. */
  g_assert (self->input_fd >= 0);

  self->frame = g_bytes_ref (frame);
  self->written = 0;
  if (write_some (self))
    wrote (self);
  else
    self->write_source = watch (self, self->input_fd, G_IO_OUT | G_IO_HUP | G_IO_ERR,
                                input_ready);
}

/* Lets an idle worker go: a worker leaves at the end of its input, and
 * the end of its output then makes it lost. Nothing can be sent after. */
void
_ag_worker_process_close_input (AgWorkerProcess *self)
{
  g_assert (self->write_source == NULL);

  g_output_stream_close (self->input, NULL, NULL);
  self->input_fd = -1;
}

/* Whether the worker cannot have taken the whole of the last request
 * sent to it: the write failed or is not finished, or part of it is still
 * in the pipe. A worker runs a request only once it has read all of it,
 * so it never ran that one. */
gboolean
_ag_worker_process_request_untaken (AgWorkerProcess *self)
{
  int unread = 0;

  if (self->frame != NULL || self->send_failed)
    return TRUE;

  return self->input_fd >= 0 && ioctl (self->input_fd, FIONREAD, &unread) == 0 && unread > 0;
}

/* The owner hears nothing more of the worker. */
static void
stop_hearing (AgWorkerProcess *self)
{
  g_cancellable_cancel (self->exit_wait);
  /* The owner's reference goes last: stopping a source may drop others. */
  self->pending++;
  stop_source (self, &self->read_source);
  stop_source (self, &self->write_source);
  stop_source (self, &self->failed_source);
  unref_op (self);
  unref_op (self);
}

/* Kills the worker (GLib's child watch reaps it); its owner hears nothing
 * more of it, and must not use it after, but in a wait for its exit
 * started before. */
void
_ag_worker_process_kill (AgWorkerProcess *self)
{
  g_assert (!self->killed);

  self->killed = TRUE;
  g_subprocess_force_exit (self->process);
  stop_hearing (self);
}

/* Lets go of a worker that is on its way out (it closed its output) without
 * killing it, so that its exit status says how it ended: as
 * _ag_worker_process_kill(), but the owner must have started a wait for
 * its exit, and kills it with _ag_worker_process_force_exit() inside that
 * wait if the exit is too long in coming. */
void
_ag_worker_process_let_go (AgWorkerProcess *self)
{
  g_assert (!self->killed);

  self->killed = TRUE;
  stop_hearing (self);
}

/* Kills a worker let go of, during a wait for its exit. */
void
_ag_worker_process_force_exit (AgWorkerProcess *self)
{
  g_assert (self->killed);

  g_subprocess_force_exit (self->process);
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

/* The signal that ended the worker, or 0. bwrap, which a sandboxed
 * worker runs under, exits with 128 + the signal that killed its child. */
static int
killed_by (AgWorkerProcess *self)
{
  GSubprocess *process = self->process;

  if (g_subprocess_get_if_signaled (process))
    return g_subprocess_get_term_sig (process);
  if (self->sandboxed && g_subprocess_get_if_exited (process)
      && g_subprocess_get_exit_status (process) > 128)
    return g_subprocess_get_exit_status (process) - 128;

  return 0;
}

/* Whether the worker ended by SIGKILL (the pool's own kill, or anyone
 * else's); once it has exited. */
gboolean
_ag_worker_process_was_killed (AgWorkerProcess *self)
{
  return killed_by (self) == SIGKILL;
}

/* How a worker that was running a call ended; once it has exited. */
GError *
_ag_worker_process_crash_error (AgWorkerProcess *self)
{
  GSubprocess *process = self->process;
  int sig = killed_by (self);

  /* Only the kernel's processor-time limit sends it. */
  if (sig == SIGXCPU)
    return g_error_new_literal (AG_ERROR, AG_ERROR_CPU_LIMIT,
                                _("The worker call used more processor time than its limit allows"));

  if (sig != 0)
    {
      if (_ag_worker_process_get_pid (self) > 0)
        return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                            _("The worker process %d died of signal %d (%s) while running the task"),
                            _ag_worker_process_get_pid (self), sig, g_strsignal (sig));
      return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                          _("A worker process died of signal %d (%s) while running the task"),
                          sig, g_strsignal (sig));
    }

  if (_ag_worker_process_get_pid (self) > 0)
    return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                        _("The worker process %d exited with status %d while running the task"),
                        _ag_worker_process_get_pid (self), g_subprocess_get_exit_status (process));
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

  if (self->sandboxed && protocol_error == NULL)
    return g_error_new (AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE,
                        _("The sandbox of the worker program “%s” did not start, %u times in a row (exit status %d; its error output says why)"),
                        self->program, attempts,
                        g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process)
                                                             : 128 + g_subprocess_get_term_sig (process));

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
