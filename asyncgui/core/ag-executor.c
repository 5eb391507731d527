/* ag-executor.c: where thread work runs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "ag-executor-private.h"
#include "ag-spin-private.h"

/* Thread work runs on up to max-threads worker threads that take items from
 * one shared queue. With max-threads 0 (serial mode) it goes through the
 * completion queue instead, and the delivery source runs it on the engine's
 * thread in submission order: deterministic, and within the same delivery
 * budget as results.
 *
 * Submitting is what a GUI handler pays for, so it is batched. The first
 * submissions of a main-loop iteration, one per thread, go to the workers at
 * once, which keeps a lone request/response round trip short. Later ones in
 * the same iteration are only linked into a batch on the engine's thread (no
 * lock, no wake-up) and handed over together from a high-priority source at
 * the start of the next iteration: one lock and at most one wake-up per
 * thread for a burst of any size, where a wake-up per item would cost the
 * GUI a system call each.
 *
 * Threads start on demand and leave after IDLE_TIMEOUT_US without work. The
 * executor is reference counted: each thread holds a reference, so an engine
 * that goes away leaves its threads to finish (their work sees the cancelled
 * tasks and returns quickly) without waiting for them. Those threads are
 * counted process-wide until they have left, so that a language binding
 * whose interpreter goes away at exit can wait for them first (see
 * ag_engine_join_disposed()): a function still running, or the release of
 * its data, would otherwise call into an interpreter that is gone. */

#define IDLE_TIMEOUT_US (10 * G_USEC_PER_SEC)

/* Blocked threads. max-threads counts the threads that use a processor:
 * a function that sleeps, waits for I/O or for a lock leaves its processor
 * idle while work waits behind it (eight downloads on two cores would take
 * four times as long as they need). So while work waits and no thread is
 * free to take it, the engine's thread looks every CHECK_US at how much
 * processor time each busy worker used since its last look (its thread
 * CPU clock) and, on Linux, whether it is asleep now (not runnable): one
 * that used less than 1/BLOCKED_SHARE of the time and sleeps is blocked,
 * and does not count against max-threads, up to max-blocked such threads.
 * A processor-bound thread that a busy machine keeps off the processor is
 * runnable, so it never counts as blocked. Threads started for blocked ones leave like any thread
 * above the limit: when they look for work and the blocked ones have
 * woken up, or the queue is empty. Nothing of this runs while the queue
 * keeps moving, and a processor-bound worker never looks blocked, so
 * processor-bound work keeps to max-threads. */
#define CHECK_US (5 * G_TIME_SPAN_MILLISECOND)
#define BLOCKED_SHARE 10

/* How long a thread that ran out of work watches the queue before it goes
 * to sleep. A GUI that answers each result with the next request (a
 * sequential handler) then hands that request to a thread that is awake,
 * which saves a futex wake-up per round trip; a thread that finds nothing
 * costs at most this much processor time per idle spell. It watches only
 * while the machine has a processor for it (ag-spin.c): not while the GUI
 * thread and other workers would wait for one. */
#define SPIN_US 50

/* Threads of freed executors that have not left yet, in the whole process. */
static GMutex  draining_lock;
static GCond   draining_left;
static guint   n_draining;     /* draining_lock */
static GPrivate worker_thread; /* set on the executors' own threads */

static void
draining_add (guint n)
{
  g_mutex_lock (&draining_lock);
  n_draining += n;
  g_mutex_unlock (&draining_lock);
}

static void
draining_remove_one (void)
{
  g_mutex_lock (&draining_lock);
  if (--n_draining == 0)
    g_cond_broadcast (&draining_left);
  g_mutex_unlock (&draining_lock);
}

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#elif defined(__aarch64__)
  __asm__ __volatile__ ("yield");
#endif
}

/* A worker thread as the blocked-thread check sees it; on the thread's
 * stack, listed in the executor's workers while the thread runs. */
typedef struct
{
  clockid_t  clock;         /* the thread's CPU time */
  gboolean   has_clock;
  int        tid;           /* the kernel's id of the thread, or 0 */
  gboolean   busy;          /* lock: running work */
  gboolean   blocked;       /* lock: counted in n_blocked */
  gint64     seen_at;       /* lock: the last look in this busy spell, or 0 */
  gint64     seen_cpu_ns;   /* lock: its CPU time then */
} Worker;

struct _AgExecutor
{
  gatomicrefcount    ref_count;
  AgCompletionQueue *queue;         /* strong */

  GMutex             lock;
  GCond              work_ready;
  AgWork            *head;          /* lock to change; atomic to peek */
  AgWork            *tail;          /* lock */
  guint              n_queued;      /* lock: items in the queue */
  guint              n_threads;     /* lock */
  guint              n_idle;        /* lock: threads asleep on work_ready */
  guint              n_waking;      /* lock: of those, signalled and not up yet */
  guint              n_spinning;    /* lock: threads watching the queue */
  guint              n_starting;    /* lock: started, not yet looking for work */
  int                max_threads;   /* lock for the threads; written on the engine's thread */
  gboolean           stopping;      /* lock */

  GPtrArray         *workers;       /* lock: Worker *, one per running thread */
  guint              n_blocked;     /* lock: busy workers found blocked */
  int                max_blocked;   /* lock */
  GSource           *check_source;  /* lock to arm; NULL once the executor is freed */
  gboolean           check_armed;   /* lock */

  /* The engine's thread only. */
  AgWork            *batch_head;
  AgWork            *batch_tail;
  guint              n_batch;
  guint              n_direct;      /* handed over at once since the last flush */
  GSource           *flush_source;
};

static AgExecutor *
executor_ref (AgExecutor *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

static void
executor_unref (AgExecutor *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_mutex_clear (&self->lock);
  g_cond_clear (&self->work_ready);
  g_ptr_array_unref (self->workers);
  _ag_completion_queue_unref (self->queue);
  g_free (self);
}

/* How many threads may take work now. Called with the lock held. */
static guint
thread_limit (AgExecutor *self)
{
  return (guint) self->max_threads + MIN (self->n_blocked, (guint) self->max_blocked);
}

static void
set_blocked (AgExecutor *self,
             Worker     *worker,
             gboolean    blocked)
{
  if (worker->blocked == blocked)
    return;

  worker->blocked = blocked;
  if (blocked)
    self->n_blocked++;
  else
    self->n_blocked--;
}

static gint64
thread_cpu_ns (Worker *worker)
{
  struct timespec ts;

  if (!worker->has_clock || clock_gettime (worker->clock, &ts) != 0)
    return -1;

  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* Whether the thread sleeps (in a wait, for I/O) rather than runs or waits
 * for a processor; TRUE where that cannot be known, leaving the decision to
 * its processor time. */
static gboolean
thread_sleeps (Worker *worker)
{
#ifdef __linux__
  char path[64];
  char stat[512];
  const char *after_name;
  FILE *file;
  size_t length;

  if (worker->tid == 0)
    return TRUE;

  g_snprintf (path, sizeof path, "/proc/self/task/%d/stat", worker->tid);
  file = fopen (path, "re");
  if (file == NULL)
    return TRUE;
  length = fread (stat, 1, sizeof stat - 1, file);
  fclose (file);
  stat[length] = '\0';

  /* "tid (name) S ...": the name may hold anything, so the state is the
   * field after the last parenthesis. */
  after_name = strrchr (stat, ')');
  if (after_name == NULL || after_name[1] != ' ')
    return TRUE;

  return after_name[2] == 'S' || after_name[2] == 'D';
#else
  return TRUE;
#endif
}

/* Looks at every busy worker; called with the lock held, on the engine's
 * thread. A worker's first look in a busy spell only takes its clock. */
static void
find_blocked_workers (AgExecutor *self,
                      gint64      now)
{
  for (guint i = 0; i < self->workers->len; i++)
    {
      Worker *worker = g_ptr_array_index (self->workers, i);
      gint64 cpu_ns;

      if (!worker->busy)
        continue;

      cpu_ns = thread_cpu_ns (worker);
      if (cpu_ns < 0)
        continue;

      /* The task state costs a read of /proc on this (the GUI's) thread:
       * only for a worker that has barely run, and not again for one found
       * blocked before that still barely runs. */
      if (worker->seen_at != 0 && now - worker->seen_at >= CHECK_US / 2)
        set_blocked (self, worker,
                     (cpu_ns - worker->seen_cpu_ns) / 1000 * BLOCKED_SHARE < now - worker->seen_at
                     && (worker->blocked || thread_sleeps (worker)));

      if (worker->seen_at == 0 || now - worker->seen_at >= CHECK_US / 2)
        {
          worker->seen_at = now;
          worker->seen_cpu_ns = cpu_ns;
        }
    }
}

/* Called with the lock held: work waits and no thread is coming for it. */
static void
arm_check (AgExecutor *self)
{
  if (self->check_armed || self->check_source == NULL || self->max_blocked == 0)
    return;

  self->check_armed = TRUE;
  g_source_set_ready_time (self->check_source, g_get_monotonic_time () + CHECK_US);
}

/* Called with the lock held; returns with it held, TRUE if work came. */
static gboolean
spin_for_work (AgExecutor *self)
{
  gint64 deadline = g_get_monotonic_time () + SPIN_US;

  self->n_spinning++;
  g_mutex_unlock (&self->lock);

  if (_ag_spin_machine_has_a_free_processor ())
    while (g_atomic_pointer_get (&self->head) == NULL && g_get_monotonic_time () < deadline)
      cpu_relax ();

  g_mutex_lock (&self->lock);
  self->n_spinning--;

  return self->head != NULL;
}

static void wake_or_start_threads (AgExecutor *self);

static gpointer
worker_main (gpointer data)
{
  AgExecutor *self = data;
  Worker worker = { 0, };
  gboolean timed_out;
  gboolean draining;

  worker.has_clock = pthread_getcpuclockid (pthread_self (), &worker.clock) == 0;
#ifdef __linux__
  worker.tid = (int) syscall (SYS_gettid);
#endif
  g_private_set (&worker_thread, self);
  g_mutex_lock (&self->lock);
  self->n_starting--;
  g_ptr_array_add (self->workers, &worker);
  for (;;)
    {
      AgWork *work = self->head;

      /* Over a lowered limit, a thread leaves before taking more work; in
       * serial mode the last ones still drain what was queued before. */
      if (self->n_threads > thread_limit (self) && (self->max_threads > 0 || work == NULL))
        break;

      if (work != NULL)
        {
          g_atomic_pointer_set (&self->head, (AgWork *) work->node.next);
          if (self->head == NULL)
            self->tail = NULL;
          work->node.next = NULL;
          self->n_queued--;

          worker.busy = TRUE;
          worker.seen_at = 0;
          g_mutex_unlock (&self->lock);
          work->run (work);
          g_mutex_lock (&self->lock);
          worker.busy = FALSE;
          set_blocked (self, &worker, FALSE);
          continue;
        }

      if (self->stopping)
        break;

      /* Stopping may have been announced while the lock was let go for
       * the spin; a thread that went to sleep now would miss it. */
      if (spin_for_work (self) || self->stopping)
        continue;

      self->n_idle++;
      timed_out = !g_cond_wait_until (&self->work_ready, &self->lock,
                                      g_get_monotonic_time () + IDLE_TIMEOUT_US);
      self->n_idle--;
      if (self->n_waking > 0)
        self->n_waking--;
      if (timed_out && self->head == NULL)
        break;
    }
  g_ptr_array_remove_fast (self->workers, &worker);
  self->n_threads--;
  draining = self->stopping;
  /* Work this thread was woken for goes to another one. */
  wake_or_start_threads (self);
  g_mutex_unlock (&self->lock);

  executor_unref (self);
  if (draining)
    draining_remove_one ();
  return NULL;
}

/* Called with the lock held whenever the queue grew or the limit
 * changed. Every queued item should have a thread coming for it: one
 * spinning, one woken and on its way, or one starting. Counting only those,
 * and not the same thread for two submissions, it wakes sleepers first and
 * starts threads for the rest, up to the limit. Busy threads are not
 * counted on: they take more work when they finish, but a free slot should
 * not wait for them. */
static void
wake_or_start_threads (AgExecutor *self)
{
  guint coming = self->n_spinning + self->n_waking + self->n_starting;

  while (self->n_queued > coming && self->n_idle > self->n_waking)
    {
      g_cond_signal (&self->work_ready);
      self->n_waking++;
      coming++;
    }

  for (; self->n_queued > coming && self->n_threads < thread_limit (self); coming++)
    {
      g_autoptr(GError) error = NULL;
      GThread *thread = g_thread_try_new ("ag-worker", worker_main, executor_ref (self), &error);

      if (thread == NULL)
        {
          executor_unref (self);
          /* Work still runs on the threads there are; with none at all it
           * would never run, which must not pass silently. */
          if (self->n_threads == 0)
            g_critical ("asyncgui cannot start a worker thread: %s", error->message);
          break;
        }

      self->n_threads++;
      self->n_starting++;
      if (self->stopping)
        draining_add (1);
      g_thread_unref (thread);
    }

  /* Work waits behind busy threads: are some of them only blocked? */
  if (self->n_queued > coming && self->max_threads > 0 && !self->stopping)
    arm_check (self);
}

static void
enqueue_locked (AgExecutor *self,
                AgWork     *first,
                AgWork     *last,
                guint       n)
{
  if (self->tail != NULL)
    self->tail->node.next = &first->node;
  else
    g_atomic_pointer_set (&self->head, first);
  self->tail = last;
  self->n_queued += n;

  wake_or_start_threads (self);
}

static void
flush_batch (AgExecutor *self)
{
  if (self->n_batch > 0)
    {
      g_mutex_lock (&self->lock);
      enqueue_locked (self, self->batch_head, self->batch_tail, self->n_batch);
      g_mutex_unlock (&self->lock);
    }

  self->batch_head = self->batch_tail = NULL;
  self->n_batch = 0;
  self->n_direct = 0;
}

typedef struct
{
  GSource     source;
  AgExecutor *executor;  /* weak: the executor destroys the source first */
} FlushSource;

static gboolean
flush_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  g_source_set_ready_time (source, -1);
  flush_batch (((FlushSource *) source)->executor);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs flush_funcs = {
  .dispatch = flush_dispatch,
};

static gboolean
check_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  AgExecutor *self = ((FlushSource *) source)->executor;

  g_source_set_ready_time (source, -1);

  g_mutex_lock (&self->lock);
  self->check_armed = FALSE;
  if (self->max_threads > 0 && !self->stopping)
    {
      find_blocked_workers (self, g_get_monotonic_time ());
      /* Starts threads for the blocked ones, and looks again later while
       * work still waits. */
      wake_or_start_threads (self);
    }
  g_mutex_unlock (&self->lock);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs check_funcs = {
  .dispatch = check_dispatch,
};

static void
serial_deliver (AgNode   *node,
                gpointer  owner)
{
  AgWork *work = (AgWork *) node;

  if (owner == NULL)
    work->drop (work);
  else
    work->run (work);
}

AgExecutor *
_ag_executor_new (GMainContext      *context,
                  AgCompletionQueue *queue,
                  int                max_threads,
                  int                max_blocked)
{
  AgExecutor *self = g_new0 (AgExecutor, 1);

  g_atomic_ref_count_init (&self->ref_count);
  g_mutex_init (&self->lock);
  g_cond_init (&self->work_ready);
  self->queue = _ag_completion_queue_ref (queue);
  self->max_threads = max_threads;
  self->max_blocked = max_blocked;
  self->workers = g_ptr_array_new ();

  self->flush_source = g_source_new (&flush_funcs, sizeof (FlushSource));
  ((FlushSource *) self->flush_source)->executor = self;
  g_source_set_static_name (self->flush_source, "[asyncgui] submit");
  g_source_set_priority (self->flush_source, G_PRIORITY_HIGH);
  g_source_attach (self->flush_source, context);

  self->check_source = g_source_new (&check_funcs, sizeof (FlushSource));
  ((FlushSource *) self->check_source)->executor = self;
  g_source_set_static_name (self->check_source, "[asyncgui] blocked threads");
  g_source_set_priority (self->check_source, G_PRIORITY_HIGH);
  g_source_attach (self->check_source, context);

  return self;
}

/* Batched work is handed over, so it runs (and sees its cancelled task);
 * threads drain the queue and leave; nothing waits for them. */
void
_ag_executor_free (AgExecutor *self)
{
  GSource *check_source;

  flush_batch (self);
  g_source_destroy (self->flush_source);
  g_clear_pointer (&self->flush_source, g_source_unref);

  g_mutex_lock (&self->lock);
  check_source = g_steal_pointer (&self->check_source);
  self->stopping = TRUE;
  draining_add (self->n_threads);
  g_cond_broadcast (&self->work_ready);
  g_mutex_unlock (&self->lock);

  /* Threads arm the check under the lock, so none can touch it now. */
  g_source_destroy (check_source);
  g_source_unref (check_source);

  executor_unref (self);
}

gboolean
_ag_executor_join_freed (gint64 end_time)
{
  gboolean joined;

  g_mutex_lock (&draining_lock);
  while (n_draining > 0)
    {
      if (end_time < 0)
        g_cond_wait (&draining_left, &draining_lock);
      else if (!g_cond_wait_until (&draining_left, &draining_lock, end_time))
        break;
    }
  joined = n_draining == 0;
  g_mutex_unlock (&draining_lock);

  return joined;
}

gboolean
_ag_executor_on_worker (void)
{
  return g_private_get (&worker_thread) != NULL;
}

void
_ag_executor_set_max_threads (AgExecutor *self,
                              int         max_threads)
{
  g_mutex_lock (&self->lock);
  self->max_threads = max_threads;
  /* Threads above the limit leave when they next look for work; queued
   * work may need more threads now. */
  g_cond_broadcast (&self->work_ready);
  if (max_threads > 0)
    wake_or_start_threads (self);
  g_mutex_unlock (&self->lock);
}

int
_ag_executor_get_max_threads (AgExecutor *self)
{
  return self->max_threads;
}

void
_ag_executor_set_max_blocked (AgExecutor *self,
                              int         max_blocked)
{
  g_mutex_lock (&self->lock);
  self->max_blocked = max_blocked;
  /* Fewer allowed: the extra threads leave when they next look for work. */
  g_cond_broadcast (&self->work_ready);
  if (self->max_threads > 0)
    wake_or_start_threads (self);
  g_mutex_unlock (&self->lock);
}

int
_ag_executor_get_max_blocked (AgExecutor *self)
{
  return self->max_blocked;
}

void
_ag_executor_submit (AgExecutor *self,
                     AgWork     *work)
{
  work->node.next = NULL;

  if (self->max_threads == 0)
    {
      work->node.deliver = serial_deliver;
      _ag_completion_queue_push (self->queue, &work->node);
      return;
    }

  if (self->n_direct == 0 && self->n_batch == 0)
    g_source_set_ready_time (self->flush_source, 0);

  if (self->n_direct < (guint) self->max_threads)
    {
      self->n_direct++;
      g_mutex_lock (&self->lock);
      enqueue_locked (self, work, work, 1);
      g_mutex_unlock (&self->lock);
      return;
    }

  if (self->batch_tail != NULL)
    self->batch_tail->node.next = &work->node;
  else
    self->batch_head = work;
  self->batch_tail = work;
  self->n_batch++;
}
