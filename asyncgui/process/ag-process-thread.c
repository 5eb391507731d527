/* ag-process-thread.c: the thread that does an engine's process I/O
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <signal.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/prctl.h>

#include "ag-process-thread-private.h"
#include "ag-spin-private.h"

/* Everything an engine does with child processes — starting them, writing
 * to them, reading them, waiting for them — happens on one thread of its
 * own with a main context of its own, so that the engine's thread never
 * waits on a pipe nor touches a byte of what flows through one. An
 * asynchronous GIO operation completes on the thread-default context it
 * was started on, so everything is started here: other threads only hand
 * work over with _ag_process_thread_invoke().
 *
 * What has operations in flight on the thread (a worker process, a
 * running command) holds it. Stopping waits until nothing does: the users
 * are told to shut down first, which cancels what they have in flight, so
 * that every operation completes and gives back its memory and its file
 * descriptors before the context goes.
 *
 * SIGPIPE is blocked on this thread, since writing to a child that has
 * exited would raise it; a write fails with EPIPE instead. Children start
 * with the signal mask of the thread that spawns them, so each unblocks
 * it again.
 *
 * A call to a warm worker is an exchange of short messages: the engine's
 * thread hands a request over, this thread writes it, the worker answers,
 * this thread sends the answer home, and a sequential caller hands the
 * next request over. Between them this thread would sleep twice per call,
 * and being woken costs more than the rest of the call on a virtual
 * machine; so, with more than one processor, it watches its file
 * descriptors briefly before it sleeps, while that pays (ag-spin.c). */

struct _AgProcessThread
{
  GMainContext *context;
  GMainLoop    *loop;
  GThread      *thread;
  GSource      *inbox;         /* strong; see Inbox */

  /* The thread only. */
  guint         holds;
  gboolean      stopping;
};

/* What other threads hand over. g_main_context_invoke() would make,
 * attach, dispatch and destroy a source per hand-over, under the
 * context's lock that this thread takes too; a warm call is one
 * hand-over, so the thread keeps one source for them all instead: a
 * queue under a lock of its own, ready while it holds anything. Only
 * the hand-over that finds it empty wakes the thread. */
typedef struct
{
  GSourceFunc func;
  gpointer    data;
} Handover;

typedef struct
{
  GSource  parent;
  GMutex   lock;
  GArray  *queued;    /* of Handover; lock */
  GArray  *running;   /* of Handover; the thread's, swapped with queued */
  int      n_queued;  /* atomic; the length of queued */
} Inbox;

static gboolean
inbox_prepare (GSource *source,
               int     *timeout)
{
  *timeout = -1;
  return g_atomic_int_get (&((Inbox *) source)->n_queued) > 0;
}

static gboolean
inbox_check (GSource *source)
{
  return g_atomic_int_get (&((Inbox *) source)->n_queued) > 0;
}

/* Runs what was handed over, in order; what a function hands over
 * meanwhile waits for the next dispatch. */
static gboolean
inbox_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  Inbox *self = (Inbox *) source;
  GArray *running;

  g_mutex_lock (&self->lock);
  running = self->queued;
  self->queued = self->running;
  self->running = NULL;
  g_atomic_int_set (&self->n_queued, 0);
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < running->len; i++)
    {
      Handover *handover = &g_array_index (running, Handover, i);

      handover->func (handover->data);
    }

  g_array_set_size (running, 0);
  self->running = running;

  return G_SOURCE_CONTINUE;
}

static void
inbox_finalize (GSource *source)
{
  Inbox *self = (Inbox *) source;

  g_mutex_clear (&self->lock);
  g_array_unref (self->queued);
  g_clear_pointer (&self->running, g_array_unref);
}

static GSourceFuncs inbox_funcs = {
  .prepare = inbox_prepare,
  .check = inbox_check,
  .dispatch = inbox_dispatch,
  .finalize = inbox_finalize,
};

static GSource *
inbox_new (GMainContext *context)
{
  GSource *source = g_source_new (&inbox_funcs, sizeof (Inbox));
  Inbox *self = (Inbox *) source;

  g_mutex_init (&self->lock);
  self->queued = g_array_new (FALSE, FALSE, sizeof (Handover));
  self->running = g_array_new (FALSE, FALSE, sizeof (Handover));
  g_source_set_static_name (source, "[asyncgui] process thread inbox");
  g_source_attach (source, context);

  return source;
}

/* The thread's record of its watches, for its poll function. */
static GPrivate thread_spin = G_PRIVATE_INIT (g_free);

static gint
watching_poll (GPollFD *fds,
               guint    n_fds,
               gint     timeout)
{
  AgSpin *spin = g_private_get (&thread_spin);

  /* Only the thread watches; the context's last iterations, after it
   * ended, do not sleep. */
  if (spin == NULL)
    return g_poll (fds, n_fds, timeout);

  return _ag_spin_poll (spin, fds, n_fds, timeout);
}

static gpointer
thread_main (gpointer data)
{
  AgProcessThread *self = data;
  sigset_t set;

  g_private_set (&thread_spin, g_new0 (AgSpin, 1));

  sigemptyset (&set);
  sigaddset (&set, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &set, NULL);

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);

  return NULL;
}

AgProcessThread *
_ag_process_thread_new (void)
{
  AgProcessThread *self = g_new0 (AgProcessThread, 1);

  self->context = g_main_context_new ();
  self->inbox = inbox_new (self->context);
  if (g_get_num_processors () > 1)
    g_main_context_set_poll_func (self->context, watching_poll);
  self->loop = g_main_loop_new (self->context, FALSE);
  self->thread = g_thread_new ("ag-process-io", thread_main, self);

  return self;
}

GMainContext *
_ag_process_thread_get_context (AgProcessThread *self)
{
  return self->context;
}

/* Runs @func on the thread, once (what it returns is not looked at): at
 * once when called there, otherwise soon. Functions invoked from one
 * thread run in the order they were invoked. */
void
_ag_process_thread_invoke (AgProcessThread *self,
                           GSourceFunc      func,
                           gpointer         data)
{
  Inbox *inbox = (Inbox *) self->inbox;
  Handover handover = { func, data };
  gboolean was_empty;

  if (g_main_context_is_owner (self->context))
    {
      func (data);
      return;
    }

  g_mutex_lock (&inbox->lock);
  g_array_append_val (inbox->queued, handover);
  was_empty = inbox->queued->len == 1;
  g_atomic_int_set (&inbox->n_queued, (int) inbox->queued->len);
  g_mutex_unlock (&inbox->lock);

  if (was_empty)
    g_main_context_wakeup (self->context);
}

static void
maybe_quit (AgProcessThread *self)
{
  if (self->stopping && self->holds == 0)
    g_main_loop_quit (self->loop);
}

/* Keeps the thread running until the matching release: there is an
 * operation in flight. The thread only. */
void
_ag_process_thread_hold (AgProcessThread *self)
{
  self->holds++;
}

void
_ag_process_thread_release (AgProcessThread *self)
{
  g_assert (self->holds > 0);

  self->holds--;
  maybe_quit (self);
}

static gboolean
stop_in_thread (gpointer data)
{
  AgProcessThread *self = data;

  self->stopping = TRUE;
  maybe_quit (self);

  return G_SOURCE_REMOVE;
}

/* Waits until nothing holds the thread, then ends it and frees it. Tell
 * what uses the thread to shut down first, from the same thread as this,
 * so that those requests run before the stop. */
void
_ag_process_thread_stop (AgProcessThread *self)
{
  _ag_process_thread_invoke (self, stop_in_thread, self);
  g_thread_join (self->thread);

  /* Nothing holds the thread any more, but a source may still be ready
   * (a completion nobody waits for); run it, so that nothing leaks. */
  while (g_main_context_pending (self->context))
    g_main_context_iteration (self->context, FALSE);

  g_source_destroy (self->inbox);
  g_source_unref (self->inbox);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_free (self);
}

typedef struct
{
  int          death_signal;
  pid_t        parent;
  AgChildFlags flags;
} ChildSetup;

/* In the child, between fork and exec: only async-signal-safe calls. */
static void
set_up_child (gpointer data)
{
  const ChildSetup *setup = data;
  sigset_t set;

  sigemptyset (&set);
  sigaddset (&set, SIGPIPE);
  pthread_sigmask (SIG_UNBLOCK, &set, NULL);

  /* The signal comes when the thread that started the child ends: the
   * process thread, which lives until the engine is disposed or the
   * application exits, however it exits. A parent gone already sent
   * none. */
  if (prctl (PR_SET_PDEATHSIG, setup->death_signal) == 0 && getppid () != setup->parent)
    _exit (127);

  /* A session of its own, rather than only a process group: a command in
   * a background group of the application's terminal that read from it
   * would be stopped for good; without a terminal the read fails. */
  if (setup->flags & AG_CHILD_OWN_SESSION)
    setsid ();

  /* Ctrl-C in a terminal interrupts its whole foreground group: the
   * application decides what it means; a worker goes on with its call,
   * and goes with the application if it ends. Inherited across exec. */
  if (setup->flags & AG_CHILD_NO_INTERRUPT)
    {
      struct sigaction ignore = { 0 };

      ignore.sa_handler = SIG_IGN;
      sigaction (SIGINT, &ignore, NULL);
    }
}

/* A launcher for a child started on this thread: the child gets back the
 * SIGPIPE the thread blocks, and @death_signal when the application (this
 * thread) goes, so that nothing it started runs on without it. With
 * AG_CHILD_OWN_SESSION the child leads a session and process group of its
 * own, which holds what it starts, so that one signal reaches them all;
 * with AG_CHILD_NO_INTERRUPT it ignores SIGINT. */
GSubprocessLauncher *
_ag_process_thread_new_launcher (GSubprocessFlags flags,
                                 int              death_signal,
                                 AgChildFlags     child_flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);
  ChildSetup *setup = g_new (ChildSetup, 1);

  setup->death_signal = death_signal;
  setup->parent = getpid ();
  setup->flags = child_flags;
  g_subprocess_launcher_set_child_setup (launcher, set_up_child, setup, g_free);
  return launcher;
}
