/* ag-process-pool.c: warm worker processes, which answer calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-error.h"
#include "ag-process-pool-internal.h"
#include "ag-worker-process-private.h"
#include "ag-worker-protocol-private.h"

/* The pool knows calls, not tasks: a call is a request (a kind of worker,
 * a target, arguments, a timeout) and a reply function, which is called
 * exactly once, on the process thread, with the value or the error —
 * whatever happens: an answer, a crash, a timeout, a cancel, a shutdown.
 * Then the call's user data is released, there too. Whoever called decides
 * what a reply means and where its own objects are released.
 *
 * The kinds of worker are numbers from 0; the pool runs, for each, the
 * program it was last given. Everything happens on the process thread
 * (ag-process-thread.c); the other threads only hand requests over. A
 * worker's pipes are ag-worker-process.c's; what to send, and what a lost
 * worker means for its calls, is decided here.
 *
 * Warm workers serve one call at a time; a call waits in a queue per kind
 * until a worker of its kind is free, and a worker is started while there
 * are fewer than max-processes of that kind. A worker that cannot be
 * started fails the call only when there is no worker of its kind to wait
 * for. A worker that dies or breaks
 * the protocol fails only the call it was serving and is not reused; the
 * next call starts a fresh one. A worker idle for idle-ms is let go by
 * closing its stdin. From then on it takes no call and leaves its place
 * to a fresh worker; one still there LEAVE_GRACE_MS later is killed.
 *
 * A call is lost with its worker only if the worker took it: a worker that
 * goes (or cannot be written to) with part of the request still unread
 * never ran the call, which then goes back to the head of the queue for a
 * fresh worker, up to START_ATTEMPTS times. An idle worker killed just as
 * a call was sent to it thus costs the call nothing.
 *
 * A worker that closes its output while it runs a call fails that call.
 * It is left EXIT_GRACE_MS to exit by itself, so that the error names how
 * it ended (a Python worker that dies of an exception exits with status
 * 1 a moment after its output closes), and killed if it does not.
 *
 * A worker is started, not yet running, until it has sent its greeting.
 * One that dies (or talks nonsense) before that ran nothing it was sent:
 * its call goes back to the head of the queue for a fresh worker. After
 * START_ATTEMPTS such failures in a row the program is taken to be broken,
 * and that call and every one queued for the kind fail with an error
 * naming the program; the next call tries again. Nothing is assumed about
 * a child the pool did not hear from: one that exits at once may be reaped
 * before the pool looks at it, and then has no pid any more.
 *
 * A call with a timeout gets a timer when it is given to a worker, and
 * again when a fresh worker has greeted: the function gets the whole time,
 * and a start-up that takes longer fails the call too (a worker that never
 * starts must not hold it for ever). Time in the queue does not count.
 * When the timer fires, the call fails with G_IO_ERROR_TIMED_OUT and its
 * worker is killed and replaced. */

/* How long a worker that was let go may take to exit. */
#define LEAVE_GRACE_MS 5000

/* How long a worker that closed its output in a call may take to exit. */
#define EXIT_GRACE_MS 1000

static void worker_lost (Worker *worker, GError *error);
static void write_call (Worker *worker, Call *call);
static gboolean call_timed_out (gpointer user_data);

/* Settings */

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

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

GError *
_ag_pool_shutdown_error (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                              _("The worker processes were shut down before the call finished"));
}

/* Calls */

/* Every call ends here, once: its reply function is told, then its user
 * data released. */
static void
call_finish (Call           *call,
             AgProcessReply *reply)
{
  destroy_source (&call->timer);

  call->reply (reply, call->user_data);
  if (call->user_data_destroy != NULL)
    call->user_data_destroy (call->user_data);

  g_clear_pointer (&reply->value, g_variant_unref);
  g_clear_error (&reply->error);
  g_clear_pointer (&reply->error_data, g_variant_unref);

  g_free (call->target);
  g_clear_pointer (&call->args, g_variant_unref);
  g_clear_pointer (&call->frame, g_bytes_unref);
  g_clear_object (&call->fds);
  g_free (call);
}

/* Takes @error. */
void
_ag_pool_call_fail (Call   *call,
           int     pid,
           GError *error)
{
  AgProcessReply reply = { NULL, error, NULL, pid };

  call_finish (call, &reply);
}

/* (Re)starts the call's timer, if it has a timeout. */
static void
call_arm_timer (Call *call)
{
  if (call->timeout_ms == 0)
    return;

  destroy_source (&call->timer);
  call->timer = g_timeout_source_new (call->timeout_ms);
  g_source_set_static_name (call->timer, "[asyncgui] worker call timeout");
  g_source_set_callback (call->timer, call_timed_out, call, NULL);
  g_source_attach (call->timer, _ag_process_thread_get_context (call->pool->thread));
}

/* Workers */

/* Whether there are more workers of the worker's kind than max-processes
 * allows now: it was lowered. */
static gboolean
is_surplus (Worker *worker)
{
  AgProcessPool *pool = worker->pool;

  return !worker->leaving
         && pool->kinds[worker->kind].n_workers > (guint) max_processes (pool);
}

/* Stops using the worker; its process is the caller's to end. */
static void
worker_forget (Worker *worker)
{
  AgProcessPool *pool = worker->pool;

  pool->workers = g_list_remove (pool->workers, worker);
  if (!worker->leaving)
    pool->kinds[worker->kind].n_workers--;

  destroy_source (&worker->idle_timer);
  g_free (worker);
}

/* Stops using the worker and kills its process. */
void
_ag_pool_worker_retire (Worker *worker)
{
  _ag_worker_process_kill (worker->process);
  worker_forget (worker);
}

/* A worker's idle timer lives as long as the worker and is not touched per
 * call: a call only marks the worker busy (idle_since 0), and its end
 * notes when the worker became idle. When the timer is due it looks: a
 * worker idle for idle-ms is let go; otherwise the timer is due again
 * when that time could be up. A worker let go has the timer once more,
 * to be killed if it is still there after its grace. Making and attaching
 * a timer source per call, and destroying it at the next, cost the
 * process thread more than the rest of a short call's bookkeeping. The timer moves its own ready
 * time only while it is dispatched, which does not wake the thread. */

static gboolean
idle_timer_dispatch (GSource     *source,
                     GSourceFunc  callback,
                     gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs idle_timer_funcs = {
  .dispatch = idle_timer_dispatch,
};

/* When a worker idle since @since may be let go. */
static gint64
idle_deadline (Worker *worker,
               gint64  since)
{
  return since + (gint64) idle_ms (worker->pool) * G_TIME_SPAN_MILLISECOND;
}

static gboolean
idle_timeout (gpointer user_data)
{
  Worker *worker = user_data;
  gint64 now = g_source_get_time (worker->idle_timer);
  gint64 deadline;

  if (worker->leaving)
    {
      /* It had its time to go. */
      _ag_pool_worker_retire (worker);
      return G_SOURCE_REMOVE;
    }

  deadline = idle_deadline (worker, worker->idle_since != 0 ? worker->idle_since : now);
  if (deadline > now)
    {
      g_source_set_ready_time (worker->idle_timer, deadline);
      return G_SOURCE_CONTINUE;
    }

  /* The end of its output then makes it lost, and retired. Until then it
   * takes no call (one written to it would never be read), and it leaves
   * its place to a fresh worker. */
  worker->leaving = TRUE;
  worker->pool->kinds[worker->kind].n_workers--;
  _ag_worker_process_close_input (worker->process);
  g_source_set_ready_time (worker->idle_timer, now + LEAVE_GRACE_MS * G_TIME_SPAN_MILLISECOND);

  return G_SOURCE_CONTINUE;
}

static void
worker_idle (Worker *worker)
{
  worker->idle_since = g_get_monotonic_time ();
  if (worker->idle_timer != NULL)
    return;

  worker->idle_timer = g_source_new (&idle_timer_funcs, sizeof (GSource));
  g_source_set_static_name (worker->idle_timer, "[asyncgui] idle worker");
  g_source_set_callback (worker->idle_timer, idle_timeout, worker, NULL);
  g_source_set_ready_time (worker->idle_timer, idle_deadline (worker, worker->idle_since));
  g_source_attach (worker->idle_timer, _ag_process_thread_get_context (worker->pool->thread));
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
worker_received (AgWorkerProcess *process,
                 GVariant        *message,
                 gpointer         data)
{
  Worker *worker = data;
  g_autoptr(GVariant) payload = NULL;
  AgProcessPool *pool = worker->pool;
  AgProcessReply reply = { NULL, NULL, NULL, _ag_worker_process_get_pid (process) };
  Call *call = worker->call;
  gboolean succeeded, exhausted;
  guint64 id;

  if (!worker->ready)
    {
      GError *error = NULL;

      if (!_ag_reply_is_greeting (message, &error))
        {
          worker_lost (worker, error);
          return;
        }

      worker->ready = TRUE;
      _ag_worker_process_greeted (process);
      pool->kinds[worker->kind].failed_starts = 0;
      /* The function's own time starts now. */
      if (call != NULL)
        call_arm_timer (call);
      if (worker->deferred)
        write_call (worker, call);
      return;
    }

  _ag_reply_get (message, &id, &succeeded, &payload);

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

  if (succeeded)
    reply.value = g_steal_pointer (&payload);
  else if (!g_variant_is_of_type (payload, AG_REPLY_ERROR_TYPE))
    {
      worker_lost (worker, _ag_reply_parse_error (payload, NULL));
      return;
    }
  else
    reply.error = _ag_reply_parse_error (payload, &reply.error_data);

  if (call->check != NULL)
    call->check (&reply, call->user_data);

  /* A worker that ran out of memory may be left in any state; one whose
   * reply broke the caller's rules is not trusted with another call. */
  exhausted = g_error_matches (reply.error, AG_ERROR, AG_ERROR_MEMORY_LIMIT)
              || g_error_matches (reply.error, AG_ERROR, AG_ERROR_PROTOCOL);
  worker->call = NULL;
  call_finish (call, &reply);

  if (exhausted || is_outdated (worker) || is_surplus (worker))
    {
      guint kind = worker->kind;

      _ag_pool_worker_retire (worker);
      _ag_pool_dispatch (pool, kind);
      return;
    }

  worker_idle (worker);
  _ag_pool_dispatch (pool, worker->kind);
}

static void
worker_sent (AgWorkerProcess *process,
             gpointer         data)
{
  Worker *worker = data;

  worker->writing = FALSE;
  /* The reply may have come before this: the worker is free only now. */
  if (worker->call == NULL)
    _ag_pool_dispatch (worker->pool, worker->kind);
}

static void
worker_process_lost (AgWorkerProcess *process,
                     GError          *error,
                     gpointer         data)
{
  worker_lost (data, error);
}

static const AgWorkerProcessEvents worker_events = {
  worker_received,
  worker_sent,
  worker_process_lost,
};

/* Sends the call's files, sets its limits, then writes the request. A
 * worker that cannot take them is lost. */
static void
write_call (Worker *worker,
            Call   *call)
{
  gboolean limited = call->memory_limit != 0 || call->cpu_limit_ms != 0;
  GError *error = NULL;

  worker->deferred = FALSE;

  if (call->fds != NULL
      && !_ag_worker_process_send_fds (worker->process, call->id, call->fds, &error))
    {
      AgProcessPool *pool = worker->pool;
      guint kind = worker->kind;

      /* The call's own files did not go: it fails alone, and the worker,
       * which may have some of them, goes without failing anything else. */
      worker->writing = FALSE;
      worker->call = NULL;
      _ag_pool_worker_retire (worker);
      _ag_pool_call_fail (call, 0, error);
      _ag_pool_dispatch (pool, kind);
      return;
    }

  if ((limited || worker->limited)
      && !_ag_worker_process_set_limits (worker->process, call->memory_limit,
                                         call->cpu_limit_ms, &error))
    {
      worker->writing = FALSE;
      worker->unsent = TRUE;
      worker_lost (worker, error);
      return;
    }

  worker->limited = limited;
  _ag_worker_process_send (worker->process, call->frame);
}

static void
send_call (Worker *worker,
           Call   *call)
{
  g_autoptr(GVariant) request = NULL;
  GError *error = NULL;

  worker->idle_since = 0;

  if (call->frame == NULL)
    {
      request = g_variant_ref_sink (_ag_request_new (call->id, call->target, call->args));
      call->frame = _ag_frame_encode (request, &error);
      if (call->frame == NULL)
        {
          _ag_pool_call_fail (call, 0, error);
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
  /* Limits are set on the worker process, which a fresh one names in its
   * greeting. */
  if (!worker->ready && (call->memory_limit != 0 || call->cpu_limit_ms != 0))
    worker->deferred = TRUE;
  else
    write_call (worker, call);
}

static Worker *
worker_start (AgProcessPool  *pool,
              guint           kind,
              GError        **error)
{
  g_auto(GStrv) argv = NULL;
  g_auto(GStrv) ro_paths = NULL;
  g_autofree char *filter_program = NULL;
  Worker *worker = g_new0 (Worker, 1);
  AgWorkerCommand command;

  g_mutex_lock (&pool->lock);
  worker->generation = pool->generation[kind];
  argv = g_strdupv (pool->commands[kind]);
  command = pool->sandboxes[kind];
  ro_paths = g_strdupv ((char **) command.ro_paths);
  filter_program = g_strdup (command.filter_program);
  g_mutex_unlock (&pool->lock);

  /* Every kind is given its program before its first call. */
  g_assert (argv != NULL);

  command.argv = (const char * const *) argv;
  command.ro_paths = (const char * const *) ro_paths;
  command.filter_program = filter_program;

  worker->pool = pool;
  worker->kind = kind;
  worker->process = _ag_worker_process_spawn (pool->thread, &command,
                                              &worker_events, worker, error);
  if (worker->process == NULL)
    {
      g_free (worker);
      return NULL;
    }

  pool->workers = g_list_prepend (pool->workers, worker);
  pool->kinds[kind].n_workers++;

  return worker;
}

static GError *
lost_output_error (AgWorkerProcess *process)
{
  int pid = _ag_worker_process_get_pid (process);

  if (pid > 0)
    return g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                        _("The worker process %d closed its output while running the task, and was stopped when it did not exit"),
                        pid);
  return g_error_new_literal (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                              _("A worker process closed its output while running the task, and was stopped when it did not exit"));
}

static void
loss_waited (AgWorkerProcess *process,
             gboolean         exited,
             gpointer         data)
{
  Loss *loss = data;
  GError *error = NULL;

  loss->pool->losses = g_list_remove (loss->pool->losses, loss);
  destroy_source (&loss->grace);

  /* The wait stops early only for the shutdown, which failed the calls
   * already; a worker let go may still be there. */
  if (!exited)
    _ag_worker_process_force_exit (process);
  else
    {
      if (loss->forced && _ag_worker_process_was_killed (process))
        error = lost_output_error (process);
      else if (loss->starting)
        error = _ag_worker_process_start_error (process, loss->error, START_ATTEMPTS);
      else if (loss->error != NULL)
        error = g_error_copy (loss->error);
      else
        error = _ag_worker_process_crash_error (process);
    }

  /* A call the worker never started was not run by it: no pid. */
  for (GList *l = loss->calls; l != NULL; l = l->next)
    {
      Call *call = l->data;

      /* The sandbox is there but does not start (bwrap without the right
       * to make namespaces): the application allowed this call to run
       * unsandboxed, as where there is no sandbox at all. */
      if (loss->starting && call->fallback_kind >= 0 && !loss->pool->stopping
          && g_error_matches (error, AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE))
        {
          call->kind = call->fallback_kind;
          g_queue_push_tail (&loss->pool->kinds[call->kind].queued, call);
          _ag_pool_dispatch (loss->pool, call->kind);
          continue;
        }

      _ag_pool_call_fail (call, loss->starting ? 0 : _ag_worker_process_get_pid (process),
                          error != NULL ? g_error_copy (error) : _ag_pool_shutdown_error ());
    }

  g_clear_error (&error);
  g_clear_error (&loss->error);
  g_list_free (loss->calls);
  g_free (loss);
}

/* The worker let go of after it closed its output did not exit. */
static gboolean
grace_over (gpointer user_data)
{
  Loss *loss = user_data;

  g_clear_pointer (&loss->grace, g_source_unref);
  loss->forced = TRUE;
  _ag_worker_process_force_exit (loss->process);

  return G_SOURCE_REMOVE;
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
  Kind *kind = &worker->pool->kinds[worker->kind];

  if (call != NULL)
    g_queue_push_head (&kind->queued, call);

  /* A worker of a command replaced since says nothing about the new one. */
  if (is_outdated (worker) || ++kind->failed_starts < START_ATTEMPTS)
    return FALSE;

  kind->failed_starts = 0;
  while (!g_queue_is_empty (&kind->queued))
    *calls = g_list_append (*calls, g_queue_pop_head (&kind->queued));
  return TRUE;
}

/* The worker died, or broke the protocol (@error, which this takes): fail
 * what it served, unless it never took it, stop using it, and let the
 * queue start a replacement. */
static void
worker_lost (Worker *worker,
             GError *error)
{
  Call *call = g_steal_pointer (&worker->call);
  AgProcessPool *pool = worker->pool;
  AgWorkerProcess *process = worker->process;
  guint kind = worker->kind;
  GList *calls = NULL;
  gboolean starting = FALSE;
  gboolean exiting = FALSE;

  if (!worker->ready)
    starting = start_failed (worker, g_steal_pointer (&call), &calls);
  else if (call != NULL && (worker->unsent || _ag_worker_process_request_untaken (process)))
    {
      /* It never ran the call: a fresh worker does, with the whole time. */
      if (call->n_untaken++ < START_ATTEMPTS)
        {
          destroy_source (&call->timer);
          g_queue_push_head (&pool->kinds[kind].queued, call);
        }
      else if (error != NULL)
        _ag_pool_call_fail (call, 0, g_steal_pointer (&error));
      else
        _ag_pool_call_fail (call, 0, g_error_new (AG_ERROR, AG_ERROR_WORKER_CRASHED,
                                                  _("No worker took the call: %u workers in a row went before they read it"),
                                                  call->n_untaken));
      call = NULL;
    }
  else if (call != NULL)
    calls = g_list_append (NULL, g_steal_pointer (&call));

  if (calls != NULL)
    {
      Loss *loss = g_new0 (Loss, 1);

      /* Their deadlines no longer matter: they fail with the loss. */
      for (GList *l = calls; l != NULL; l = l->next)
        destroy_source (&((Call *) l->data)->timer);

      loss->pool = pool;
      loss->process = process;
      loss->calls = calls;
      loss->error = g_steal_pointer (&error);
      loss->starting = starting;
      pool->losses = g_list_prepend (pool->losses, loss);
      /* Before the kill, which lets go of the process otherwise. */
      _ag_worker_process_wait_exit (process, pool->stop, loss_waited, loss);

      /* Its output ended (it took the call, so its input did not fail):
       * it may be on its way out, and its exit status then says how it
       * ended, where a kill would only say it was killed. */
      exiting = loss->error == NULL && !starting;
      if (exiting)
        {
          loss->grace = g_timeout_source_new (EXIT_GRACE_MS);
          g_source_set_static_name (loss->grace, "[asyncgui] worker exit grace");
          g_source_set_callback (loss->grace, grace_over, loss, NULL);
          g_source_attach (loss->grace, _ag_process_thread_get_context (pool->thread));
        }
    }
  g_clear_error (&error);

  if (exiting)
    {
      _ag_worker_process_let_go (process);
      worker_forget (worker);
    }
  else
    _ag_pool_worker_retire (worker);

  if (!pool->stopping)
    _ag_pool_dispatch (pool, kind);
}

/* The call's time is up: it fails, and the worker running it (which may
 * be stuck for good) is killed; the queue starts a fresh one. */
static gboolean
call_timed_out (gpointer user_data)
{
  Call *call = user_data;
  AgProcessPool *pool = call->pool;
  guint kind = call->kind;
  GList *link;
  int pid = 0;

  g_clear_pointer (&call->timer, g_source_unref);

  link = g_queue_find (&pool->kinds[kind].queued, call);
  if (link != NULL)
    g_queue_delete_link (&pool->kinds[kind].queued, link);
  else
    for (GList *l = pool->workers; l != NULL; l = l->next)
      {
        Worker *worker = l->data;

        if (worker->call == call)
          {
            worker->call = NULL;
            pid = worker->ready ? _ag_worker_process_get_pid (worker->process) : 0;
            _ag_pool_worker_retire (worker);
            break;
          }
      }

  _ag_pool_call_fail (call, pid, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                     _("“%s” did not finish within %u ms"),
                                     call->target, call->timeout_ms));
  _ag_pool_dispatch (pool, kind);

  return G_SOURCE_REMOVE;
}

/* Whether @worker will take a call of @kind once it is free: it is of
 * that kind, neither leaving nor running an outdated command. */
static gboolean
is_usable (Worker *worker,
           guint   kind)
{
  return worker->kind == kind && !worker->leaving && !is_outdated (worker);
}

static Worker *
find_idle (AgProcessPool *pool,
           guint          kind)
{
  for (GList *l = pool->workers; l != NULL; l = l->next)
    {
      Worker *worker = l->data;

      if (worker->call == NULL && !worker->writing && is_usable (worker, kind))
        return worker;
    }

  return NULL;
}

static gboolean
has_usable_worker (AgProcessPool *pool,
                   guint          kind)
{
  for (GList *l = pool->workers; l != NULL; l = l->next)
    if (is_usable (l->data, kind))
      return TRUE;

  return FALSE;
}

void
_ag_pool_dispatch (AgProcessPool *pool,
          guint          kind)
{
  GQueue *queued = &pool->kinds[kind].queued;

  while (!pool->stopping && !g_queue_is_empty (queued))
    {
      Call *next = g_queue_peek_head (queued);
      Worker *worker;
      GError *error = NULL;

      /* Its cancel, on its way here, would kill the worker it got: a
       * burst of calls replaced at once would start workers to kill. */
      if (next->cancelled != NULL && next->cancelled (next->user_data))
        {
          g_queue_pop_head (queued);
          _ag_pool_call_fail (next, 0, _ag_pool_cancelled_error ());
          continue;
        }

      worker = find_idle (pool, kind);

      if (worker == NULL)
        {
          if (pool->kinds[kind].n_workers >= (guint) max_processes (pool))
            return;

          worker = worker_start (pool, kind, &error);
          if (worker == NULL && has_usable_worker (pool, kind))
            {
              /* No further worker can start now (out of file descriptors,
               * say): the call waits for one of those there are. */
              g_clear_error (&error);
              return;
            }
          if (worker == NULL)
            {
              Call *call = g_queue_pop_head (queued);

              /* The application allowed this call to run unsandboxed. */
              if (g_error_matches (error, AG_ERROR, AG_ERROR_SANDBOX_UNAVAILABLE)
                  && call->fallback_kind >= 0)
                {
                  g_clear_error (&error);
                  call->kind = call->fallback_kind;
                  g_queue_push_tail (&pool->kinds[call->kind].queued, call);
                  _ag_pool_dispatch (pool, call->kind);
                  continue;
                }

              _ag_pool_call_fail (call, 0, error);
              continue;
            }
        }

      send_call (worker, g_queue_pop_head (queued));
    }
}

static gboolean
call_in_thread (gpointer user_data)
{
  Call *call = user_data;
  AgProcessPool *pool = call->pool;

  if (pool->stopping)
    {
      _ag_pool_call_fail (call, 0, _ag_pool_shutdown_error ());
      return G_SOURCE_REMOVE;
    }

  g_queue_push_tail (&pool->kinds[call->kind].queued, call);
  _ag_pool_dispatch (pool, call->kind);

  return G_SOURCE_REMOVE;
}

/* The pool's side of the API: any thread (the engine's, in practice). */

AgProcessPool *
_ag_process_pool_new (AgProcessThread *thread,
                      guint            n_kinds,
                      int              max_processes,
                      guint            idle_ms)
{
  AgProcessPool *pool = g_new0 (AgProcessPool, 1);

  /* The domains a worker's error keeps (see _ag_reply_parse_error()):
   * GLib's and the bindings', and GIO's, made now if nothing made them. */
  _ag_worker_protocol_init ();
  (void) G_DBUS_ERROR;
  (void) G_IO_ERROR;
  (void) G_RESOLVER_ERROR;
  (void) G_RESOURCE_ERROR;
  (void) G_TLS_CHANNEL_BINDING_ERROR;
  (void) G_TLS_ERROR;
  pool->thread = thread;
  pool->n_kinds = n_kinds;
  g_mutex_init (&pool->lock);
  pool->max_processes = max_processes;
  pool->idle_ms = idle_ms;
  pool->commands = g_new0 (char **, n_kinds);
  pool->sandboxes = g_new0 (AgWorkerCommand, n_kinds);
  pool->generation = g_new0 (guint, n_kinds);
  pool->kinds = g_new0 (Kind, n_kinds);
  for (guint kind = 0; kind < n_kinds; kind++)
    g_queue_init (&pool->kinds[kind].queued);
  pool->stop = g_cancellable_new ();

  return pool;
}

/* Once the process thread has stopped. */
void
_ag_process_pool_free (AgProcessPool *pool)
{
  g_assert (pool->workers == NULL && pool->losses == NULL);

  for (guint kind = 0; kind < pool->n_kinds; kind++)
    {
      g_strfreev (pool->commands[kind]);
      g_strfreev ((char **) pool->sandboxes[kind].ro_paths);
      g_free ((char *) pool->sandboxes[kind].filter_program);
    }
  g_free (pool->commands);
  g_free (pool->sandboxes);
  g_free (pool->generation);
  g_free (pool->kinds);
  g_clear_object (&pool->stop);
  g_mutex_clear (&pool->lock);
  g_free (pool);
}

static gboolean
retire_surplus_in_thread (gpointer user_data)
{
  AgProcessPool *pool = user_data;

  for (GList *l = pool->stopping ? NULL : pool->workers; l != NULL;)
    {
      Worker *worker = l->data;

      l = l->next;
      if (worker->call == NULL && !worker->writing && is_surplus (worker))
        _ag_pool_worker_retire (worker);
    }

  return G_SOURCE_REMOVE;
}

/* Lowering it lets idle workers beyond it go now, and busy ones when
 * their call ends (worker_received()). */
void
_ag_process_pool_set_max_processes (AgProcessPool *pool,
                                    int            max_processes)
{
  g_mutex_lock (&pool->lock);
  pool->max_processes = max_processes;
  g_mutex_unlock (&pool->lock);

  _ag_process_thread_invoke (pool->thread, retire_surplus_in_thread, pool);
}

/* The idle timers look again now: a shorter idle time may be up. */
static gboolean
recheck_idle_in_thread (gpointer user_data)
{
  AgProcessPool *pool = user_data;

  for (GList *l = pool->stopping ? NULL : pool->workers; l != NULL; l = l->next)
    {
      Worker *worker = l->data;

      if (worker->idle_timer != NULL && !worker->leaving)
        g_source_set_ready_time (worker->idle_timer, 0);
    }

  return G_SOURCE_REMOVE;
}

void
_ag_process_pool_set_idle_ms (AgProcessPool *pool,
                              guint          idle_ms)
{
  g_mutex_lock (&pool->lock);
  pool->idle_ms = idle_ms;
  g_mutex_unlock (&pool->lock);

  _ag_process_thread_invoke (pool->thread, recheck_idle_in_thread, pool);
}

typedef struct
{
  AgProcessPool *pool;
  guint          kind;
} Retire;

static gboolean
retire_idle_in_thread (gpointer user_data)
{
  Retire *retire = user_data;
  GList *l = retire->pool->workers;

  /* The new command has not failed yet. */
  retire->pool->kinds[retire->kind].failed_starts = 0;

  while (l != NULL)
    {
      Worker *worker = l->data;

      l = l->next;
      if (worker->kind == retire->kind && worker->call == NULL && is_outdated (worker))
        _ag_pool_worker_retire (worker);
    }

  g_free (retire);
  return G_SOURCE_REMOVE;
}

/* The program run as a worker of @kind. Idle workers of the old one are
 * let go, so that the next call runs the new one; busy ones finish their
 * call first and are not reused. */
void
_ag_process_pool_set_command (AgProcessPool      *pool,
                              guint               kind,
                              const char * const *argv)
{
  Retire *retire = g_new0 (Retire, 1);

  g_assert (kind < pool->n_kinds);
  g_assert (argv != NULL && argv[0] != NULL);

  g_mutex_lock (&pool->lock);
  g_strfreev (pool->commands[kind]);
  pool->commands[kind] = g_strdupv ((char **) argv);
  pool->generation[kind]++;
  g_mutex_unlock (&pool->lock);

  retire->pool = pool;
  retire->kind = kind;
  _ag_process_thread_invoke (pool->thread, retire_idle_in_thread, retire);
}

/* Makes @kind a sandboxed kind: its workers run under bwrap, seeing
 * @ro_paths, with the filter @filter_program writes. For workers started
 * from now on. */
void
_ag_process_pool_set_sandbox (AgProcessPool      *pool,
                              guint               kind,
                              const char         *filter_program,
                              const char * const *ro_paths)
{
  AgWorkerCommand *sandbox = &pool->sandboxes[kind];

  g_assert (kind < pool->n_kinds);

  g_mutex_lock (&pool->lock);
  g_strfreev ((char **) sandbox->ro_paths);
  g_free ((char *) sandbox->filter_program);
  sandbox->sandboxed = TRUE;
  sandbox->filter_program = g_strdup (filter_program);
  sandbox->ro_paths = (const char * const *) g_strdupv ((char **) ro_paths);
  g_mutex_unlock (&pool->lock);
}

/* Calls @target in a worker of @kind, with @args (a floating reference is
 * taken; NULL for none), as @options say. @reply is
 * called exactly once, on the process thread, then @user_data_destroy;
 * neither may call into the pool. Returns the call's id, for
 * _ag_process_pool_cancel(). */
guint64
_ag_process_pool_call (AgProcessPool      *pool,
                       guint               kind,
                       const char         *target,
                       GVariant           *args,
                       const AgProcessCallOptions *options,
                       AgProcessReplyFunc  reply,
                       gpointer            user_data,
                       GDestroyNotify      user_data_destroy)
{
  Call *call = g_new0 (Call, 1);
  guint64 id;

  g_assert (kind < pool->n_kinds);

  call->pool = pool;
  call->kind = kind;
  call->target = g_strdup (target);
  call->args = g_variant_ref_sink (args != NULL ? args : g_variant_new ("()"));
  call->timeout_ms = options->timeout_ms;
  call->fds = options->fds != NULL ? g_object_ref (options->fds) : NULL;
  call->memory_limit = options->memory_limit;
  call->cpu_limit_ms = options->cpu_limit_ms;
  call->fallback_kind = options->fallback_kind;
  call->cancelled = options->cancelled;
  call->check = options->check;
  call->reply = reply;
  call->user_data = user_data;
  call->user_data_destroy = user_data_destroy;

  g_mutex_lock (&pool->lock);
  id = call->id = ++pool->next_id;
  g_mutex_unlock (&pool->lock);

  /* The call may be over by the time this returns. */
  _ag_process_thread_invoke (pool->thread, call_in_thread, call);

  return id;
}
