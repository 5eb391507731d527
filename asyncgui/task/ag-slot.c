/* ag-slot.c: the latest request wins
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-closure-private.h"
#include "ag-engine-private.h"
#include "ag-slot.h"
#include "ag-task-private.h"

/**
 * AgSlot:
 *
 * A place for one piece of work at a time, where the latest request wins:
 * the cure for stale results. A search box runs a query per keystroke
 * through a slot; each run cancels the query the slot ran before, so an
 * old, slow query can never finish last and overwrite the results of the
 * new one.
 *
 * [method@Slot.run_async] runs a task on the slot's engine, as
 * [method@Engine.run_async] does, after cancelling the task the slot ran
 * before: that one ends as cancelled (its function sees its cancellable
 * fire) and its callback gets %G_IO_ERROR_CANCELLED, never a value. Every
 * call's callback runs exactly once, at a later delivery, never inside the
 * call. [property@Slot:busy] is %TRUE while the slot has work running or
 * waiting to start, for a spinner.
 *
 * Two properties let requests wait before they start, on the engine's
 * context:
 *
 * - [property@Slot:debounce-ms]: a request starts once no other has come
 *   for that long. Typing "hello" quickly starts one search, not five; the
 *   requests it replaced end cancelled without running, and the task
 *   running before is cancelled as soon as a new request comes.
 * - [property@Slot:throttle-ms]: runs start at most once per period; a
 *   request that comes sooner waits for the period to end (replacing any
 *   request already waiting). The task running meanwhile goes on until
 *   that request starts, and a value it gives before then reaches its
 *   callback: runs never overlap, so no value is older than one given
 *   before. This suits a live preview that should update while a slider
 *   moves.
 *
 * With both set, a request first waits for the quiet period, then for the
 * throttle.
 *
 * Dropping the last reference to a slot ends its work as disposing an
 * engine does: the task running is cancelled, and no callback of its
 * requests is called any more (the window that owned the slot may be
 * gone). The slot keeps its engine alive until then.
 *
 * Thread: every call is for the engine's thread.
 *
 * Since: 1.0
 */

typedef struct
{
  GList                link;         /* in the slot's requests */
  AgSlot              *slot;         /* weak: NULL once the slot went */
  AgTask              *task;         /* strong */
  GCancellable        *cancellable;  /* strong, nullable */
  GAsyncReadyCallback  callback;
  gpointer             user_data;
  gboolean             called;       /* the callback ran */
} Request;

struct _AgSlot
{
  GObject    parent_instance;

  AgEngine  *engine;          /* strong */
  GQueue     requests;        /* every request whose callback is to come */
  Request   *running;         /* the latest started, until its callback */
  Request   *waiting;         /* the latest request, not started yet */
  GSource   *timer;           /* starts the waiting request */
  gint64     last_start_us;
  guint      debounce_ms;
  guint      throttle_ms;
  gboolean   busy;
  AgTask    *notified_task;   /* what notify::task last told, not a reference */
  AgTask    *latest;          /* weak: the latest asked for, until replaced
                               * or cancelled; see ag_slot_is_latest() */
};

enum
{
  PROP_0,
  PROP_ENGINE,
  PROP_BUSY,
  PROP_TASK,
  PROP_DEBOUNCE_MS,
  PROP_THROTTLE_MS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (AgSlot, ag_slot, G_TYPE_OBJECT)

static void update_busy (AgSlot *self);

/* The data of the task's callback: freed after it, or without it when the
 * disposal of the engine ends the task; the slot then no longer has it
 * running. */
static void
request_free (Request *request)
{
  AgSlot *self = request->slot;

  if (!request->called)
    _ag_async_ready_forget (request->callback, request->user_data);
  if (self != NULL)
    {
      g_queue_unlink (&self->requests, &request->link);
      if (self->running == request)
        {
          self->running = NULL;
          update_busy (self);
        }
    }
  g_object_unref (request->task);
  g_clear_object (&request->cancellable);
  g_free (request);
}

static void
update_busy (AgSlot *self)
{
  gboolean busy = self->running != NULL || self->waiting != NULL;
  AgTask *task = ag_slot_get_task (self);

  if (task != self->notified_task)
    {
      self->notified_task = task;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TASK]);
    }

  if (busy != self->busy)
    {
      self->busy = busy;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
    }
}

static void
request_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Request *request = user_data;
  AgSlot *self = request->slot;

  /* The slot went: nobody is told any more. */
  if (self == NULL)
    return;

  g_object_ref (self);
  g_object_freeze_notify (G_OBJECT (self));
  if (self->running == request)
    {
      self->running = NULL;
      update_busy (self);
    }

  request->called = TRUE;
  if (request->callback != NULL)
    request->callback (G_OBJECT (self), result, request->user_data);
  g_object_thaw_notify (G_OBJECT (self));

  g_object_unref (self);
}

/* Runs the request's task on the slot's engine, the request its callback's
 * data; on a disposed engine, the task fails as ag_engine_run_async()
 * fails it. */
static void
run_request (AgSlot       *self,
             Request      *request,
             GCancellable *cancellable)
{
  if (_ag_task_peek_state (request->task) != AG_TASK_PENDING || !_ag_task_claim_run (request->task))
    {
      g_critical ("ag_slot_run_async: the task %p was run by something else while it "
                  "waited in the slot; a slot's task is run by the slot alone", request->task);
      request_free (request);
      return;
    }

  if (_ag_engine_is_disposed (self->engine))
    _ag_task_refuse_run (request->task, self->engine, request_done, request,
                         (GDestroyNotify) request_free);
  else
    _ag_task_start (request->task, self->engine, cancellable, request_done, request,
                    (GDestroyNotify) request_free);
}

static void
set_latest (AgSlot *self,
            AgTask *task)
{
  if (self->latest != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->latest), (gpointer *) &self->latest);
  self->latest = task;
  if (task != NULL)
    g_object_add_weak_pointer (G_OBJECT (task), (gpointer *) &self->latest);
}

/* Runs the request; the one running before is cancelled, unless it was
 * already (by the request that replaced it). */
static void
start (AgSlot  *self,
       Request *request)
{
  if (self->running != NULL)
    {
      ag_task_cancel (self->running->task);
      self->running = NULL;
    }

  self->running = request;
  self->last_start_us = g_get_monotonic_time ();
  set_latest (self, request->task);
  run_request (self, request, request->cancellable);
}

/* A request replaced before it started ends cancelled, without running,
 * through the engine like any other, so its callback comes later. */
static void
drop (AgSlot  *self,
      Request *request)
{
  ag_task_cancel (request->task);
  run_request (self, request, NULL);
}

static void
clear_timer (AgSlot *self)
{
  if (self->timer == NULL)
    return;

  g_source_destroy (self->timer);
  g_clear_pointer (&self->timer, g_source_unref);
}

static gboolean
timer_fired (gpointer data)
{
  AgSlot *self = data;
  Request *request = g_steal_pointer (&self->waiting);

  g_clear_pointer (&self->timer, g_source_unref);
  g_object_freeze_notify (G_OBJECT (self));
  start (self, request);
  update_busy (self);
  g_object_thaw_notify (G_OBJECT (self));

  return G_SOURCE_REMOVE;
}

static void
arm_timer (AgSlot *self,
           gint64  delay_us)
{
  clear_timer (self);
  /* Rounded up: a request must never start before its time. */
  self->timer = g_timeout_source_new ((guint) ((delay_us + 999) / 1000));
  g_source_set_static_name (self->timer, "[asyncgui] slot");
  g_source_set_callback (self->timer, timer_fired, self, NULL);
  g_source_attach (self->timer, ag_engine_get_context (self->engine));
}

/* How long a request made now must wait; 0 to start at once. */
static gint64
delay_for_new_request (AgSlot *self)
{
  gint64 now = g_get_monotonic_time ();
  gint64 delay = 0;

  if (self->debounce_ms > 0)
    delay = (gint64) self->debounce_ms * G_TIME_SPAN_MILLISECOND;

  if (self->throttle_ms > 0 && self->last_start_us != 0)
    {
      gint64 allowed = self->last_start_us + (gint64) self->throttle_ms * G_TIME_SPAN_MILLISECOND;

      delay = MAX (delay, allowed - now);
    }

  return delay;
}

static void
ag_slot_dispose (GObject *object)
{
  AgSlot *self = AG_SLOT (object);
  Request *waiting = g_steal_pointer (&self->waiting);

  /* Requests on their way back forget the slot; the waiting one never
   * started, and the running one is cancelled. */
  clear_timer (self);
  set_latest (self, NULL);
  while (!g_queue_is_empty (&self->requests))
    {
      Request *request = g_queue_pop_head_link (&self->requests)->data;

      request->slot = NULL;
      ag_task_cancel (request->task);
    }
  self->running = NULL;
  if (waiting != NULL)
    request_free (waiting);

  G_OBJECT_CLASS (ag_slot_parent_class)->dispose (object);
}

static void
ag_slot_finalize (GObject *object)
{
  AgSlot *self = AG_SLOT (object);

  g_clear_object (&self->engine);

  G_OBJECT_CLASS (ag_slot_parent_class)->finalize (object);
}

static void
ag_slot_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  AgSlot *self = AG_SLOT (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      g_value_set_object (value, self->engine);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    case PROP_TASK:
      g_value_set_object (value, ag_slot_get_task (self));
      break;
    case PROP_DEBOUNCE_MS:
      g_value_set_uint (value, self->debounce_ms);
      break;
    case PROP_THROTTLE_MS:
      g_value_set_uint (value, self->throttle_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_slot_set_property (GObject      *object,
                      guint         prop_id,
                      const GValue *value,
                      GParamSpec   *pspec)
{
  AgSlot *self = AG_SLOT (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      self->engine = g_value_dup_object (value);
      break;
    case PROP_DEBOUNCE_MS:
      ag_slot_set_debounce_ms (self, g_value_get_uint (value));
      break;
    case PROP_THROTTLE_MS:
      ag_slot_set_throttle_ms (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_slot_constructed (GObject *object)
{
  AgSlot *self = AG_SLOT (object);

  G_OBJECT_CLASS (ag_slot_parent_class)->constructed (object);

  if (self->engine == NULL)
    self->engine = g_object_ref (ag_engine_get_default ());
}

static void
ag_slot_class_init (AgSlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = ag_slot_constructed;
  object_class->dispose = ag_slot_dispose;
  object_class->finalize = ag_slot_finalize;
  object_class->get_property = ag_slot_get_property;
  object_class->set_property = ag_slot_set_property;

  /**
   * AgSlot:engine:
   *
   * The engine the slot runs its tasks on; the default engine when none
   * is given.
   *
   * Since: 1.0
   */
  properties[PROP_ENGINE] =
    g_param_spec_object ("engine", NULL, NULL,
                         AG_TYPE_ENGINE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * AgSlot:busy:
   *
   * Whether the slot has a task running or waiting to start: what a
   * spinner shows. A task it cancelled does not count, even while its
   * function still returns.
   *
   * Since: 1.0
   */
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgSlot:task:
   *
   * The latest task asked for, while it waits to start or runs; %NULL
   * when the slot is not busy.
   *
   * Since: 1.0
   */
  properties[PROP_TASK] =
    g_param_spec_object ("task", NULL, NULL,
                         AG_TYPE_TASK,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgSlot:debounce-ms:
   *
   * How long, in milliseconds, the slot waits for requests to stop coming
   * before it starts the latest; 0 (the default) starts each at once.
   *
   * Since: 1.0
   */
  properties[PROP_DEBOUNCE_MS] =
    g_param_spec_uint ("debounce-ms", NULL, NULL,
                       0, G_MAXINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgSlot:throttle-ms:
   *
   * The shortest time, in milliseconds, between two starts; a request that
   * comes sooner waits, replacing any request already waiting. 0 (the
   * default) for no limit.
   *
   * Since: 1.0
   */
  properties[PROP_THROTTLE_MS] =
    g_param_spec_uint ("throttle-ms", NULL, NULL,
                       0, G_MAXINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ag_slot_init (AgSlot *self)
{
}

/**
 * ag_slot_new:
 * @engine: (nullable): the engine to run tasks on, or %NULL for the default
 *   engine
 *
 * Makes a slot: one piece of work at a time, the latest request winning.
 *
 * Thread: the engine's.
 *
 * Returns: (transfer full): a new slot
 *
 * Since: 1.0
 */
AgSlot *
ag_slot_new (AgEngine *engine)
{
  g_return_val_if_fail (engine == NULL || AG_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (_ag_engine_is_own_thread (engine != NULL ? engine : ag_engine_get_default ()),
                        NULL);

  return g_object_new (AG_TYPE_SLOT, "engine", engine, NULL);
}

/**
 * ag_slot_get_engine:
 * @self: a slot
 *
 * Gets the engine the slot runs its tasks on.
 *
 * Thread: any.
 *
 * Returns: (transfer none): the engine
 *
 * Since: 1.0
 */
AgEngine *
ag_slot_get_engine (AgSlot *self)
{
  g_return_val_if_fail (AG_IS_SLOT (self), NULL);

  return self->engine;
}

/**
 * ag_slot_get_busy:
 * @self: a slot
 *
 * Tells whether the slot has a task running or waiting to start.
 *
 * Thread: the engine's.
 *
 * Returns: %TRUE while the slot has work
 *
 * Since: 1.0
 */
gboolean
ag_slot_get_busy (AgSlot *self)
{
  g_return_val_if_fail (AG_IS_SLOT (self), FALSE);

  return self->busy;
}

/**
 * ag_slot_get_task:
 * @self: a slot
 *
 * Gets the latest task asked for, while it waits to start or runs.
 *
 * Thread: the engine's.
 *
 * Returns: (transfer none) (nullable): the task, or %NULL when the slot is
 *   not busy
 *
 * Since: 1.0
 */
AgTask *
ag_slot_get_task (AgSlot *self)
{
  g_return_val_if_fail (AG_IS_SLOT (self), NULL);

  if (self->waiting != NULL)
    return self->waiting->task;
  if (self->running != NULL)
    return self->running->task;
  return NULL;
}

/**
 * ag_slot_get_debounce_ms:
 * @self: a slot
 *
 * Gets how long the slot waits for requests to stop coming.
 *
 * Thread: the engine's.
 *
 * Returns: the quiet period in milliseconds, 0 for none
 *
 * Since: 1.0
 */
guint
ag_slot_get_debounce_ms (AgSlot *self)
{
  g_return_val_if_fail (AG_IS_SLOT (self), 0);

  return self->debounce_ms;
}

/**
 * ag_slot_set_debounce_ms:
 * @self: a slot
 * @debounce_ms: the quiet period in milliseconds, 0 for none, at most
 *   %G_MAXINT
 *
 * Sets how long the slot waits for requests to stop coming before it
 * starts the latest. A request already waiting keeps its time.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_slot_set_debounce_ms (AgSlot *self,
                         guint   debounce_ms)
{
  g_return_if_fail (AG_IS_SLOT (self));
  g_return_if_fail (debounce_ms <= G_MAXINT);

  if (self->debounce_ms == debounce_ms)
    return;

  self->debounce_ms = debounce_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEBOUNCE_MS]);
}

/**
 * ag_slot_get_throttle_ms:
 * @self: a slot
 *
 * Gets the shortest time between two starts.
 *
 * Thread: the engine's.
 *
 * Returns: the period in milliseconds, 0 for none
 *
 * Since: 1.0
 */
guint
ag_slot_get_throttle_ms (AgSlot *self)
{
  g_return_val_if_fail (AG_IS_SLOT (self), 0);

  return self->throttle_ms;
}

/**
 * ag_slot_set_throttle_ms:
 * @self: a slot
 * @throttle_ms: the period in milliseconds, 0 for none, at most %G_MAXINT
 *
 * Sets the shortest time between two starts. A request already waiting
 * keeps its time.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_slot_set_throttle_ms (AgSlot *self,
                         guint   throttle_ms)
{
  g_return_if_fail (AG_IS_SLOT (self));
  g_return_if_fail (throttle_ms <= G_MAXINT);

  if (self->throttle_ms == throttle_ms)
    return;

  self->throttle_ms = throttle_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THROTTLE_MS]);
}

/**
 * ag_slot_run_async:
 * @self: a slot
 * @task: (transfer none): a task that has not run yet
 * @cancellable: (nullable): a cancellable for this request
 * @callback: (scope async): called once the task has finished, or was
 *   replaced
 * @user_data: data for @callback
 *
 * Runs @task as the slot's one piece of work. The request made before is
 * replaced: a task waiting to start ends cancelled without running, and
 * its callback gets %G_IO_ERROR_CANCELLED. A task running is cancelled
 * now (with [property@Slot:debounce-ms] or without a wait), and its
 * callback gets %G_IO_ERROR_CANCELLED; with [property@Slot:throttle-ms]
 * alone it goes on until @task starts, and is cancelled then unless it
 * has finished (its callback then gets its outcome).
 *
 * A task waiting in the slot is not given to it again: a task runs once.
 *
 * @callback runs at a later delivery with the slot as its source object
 * and @task as its result; read the outcome with [method@Slot.run_finish]
 * or the task's typed getters.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_slot_run_async (AgSlot              *self,
                   AgTask              *task,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  Request *request;
  gint64 delay_us;

  g_return_if_fail (AG_IS_SLOT (self));
  g_return_if_fail (AG_IS_TASK (task));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  g_return_if_fail (_ag_engine_is_own_thread (self->engine));
  g_return_if_fail (ag_task_get_state (task) == AG_TASK_PENDING);

  if (self->waiting != NULL && self->waiting->task == task)
    {
      g_critical ("ag_slot_run_async: the task %p already waits in the slot; "
                  "a task runs once, so each request needs a task of its own", task);
      return;
    }

  request = g_new0 (Request, 1);
  request->link.data = request;
  g_queue_push_tail_link (&self->requests, &request->link);
  request->slot = self;
  request->task = g_object_ref (task);
  request->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  request->callback = callback;
  request->user_data = user_data;

  g_object_freeze_notify (G_OBJECT (self));
  if (self->waiting != NULL)
    drop (self, g_steal_pointer (&self->waiting));

  delay_us = delay_for_new_request (self);
  if (delay_us <= 0)
    {
      clear_timer (self);
      start (self, request);
    }
  else
    {
      /* Waiting for a quiet period: what runs is stale already. Waiting
       * for the throttle alone, what runs goes on, the latest until this
       * request starts: a live preview shows its value meanwhile. */
      if (self->debounce_ms > 0 && self->running != NULL)
        {
          ag_task_cancel (self->running->task);
          self->running = NULL;
        }
      if (self->running == NULL)
        set_latest (self, task);
      self->waiting = request;
      arm_timer (self, delay_us);
    }
  update_busy (self);
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * ag_slot_run_finish:
 * @self: a slot
 * @result: the result given to the callback of [method@Slot.run_async]
 * @error: return location for an error
 *
 * Gets the outcome of a request, as [method@Engine.run_finish] does; a
 * replaced request gives %G_IO_ERROR_CANCELLED.
 *
 * Thread: the engine's, in the callback of [method@Slot.run_async].
 *
 * Returns: (transfer full) (nullable): a copy of the task's value, or %NULL
 *   with @error set if it failed or was cancelled, or %NULL without an
 *   error if it succeeded without a value
 *
 * Since: 1.0
 */
GValue *
ag_slot_run_finish (AgSlot        *self,
                    GAsyncResult  *result,
                    GError       **error)
{
  g_return_val_if_fail (AG_IS_SLOT (self), NULL);

  return ag_engine_run_finish (self->engine, result, error);
}

/**
 * ag_slot_cancel:
 * @self: a slot
 *
 * Cancels the slot's work: the task waiting to start ends cancelled
 * without running, the task running is cancelled. Their callbacks get
 * %G_IO_ERROR_CANCELLED at a later delivery, unless the slot is dropped
 * first: then none is called.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_slot_cancel (AgSlot *self)
{
  g_return_if_fail (AG_IS_SLOT (self));
  g_return_if_fail (_ag_engine_is_own_thread (self->engine));

  g_object_freeze_notify (G_OBJECT (self));
  set_latest (self, NULL);
  clear_timer (self);
  if (self->waiting != NULL)
    drop (self, g_steal_pointer (&self->waiting));
  if (self->running != NULL)
    {
      ag_task_cancel (self->running->task);
      self->running = NULL;
    }
  update_busy (self);
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * ag_slot_is_latest:
 * @self: a slot
 * @task: a task given to [method@Slot.run_async]
 *
 * Tells whether @task is the latest the slot was asked to run, neither
 * replaced by a later request nor cancelled with [method@Slot.cancel].
 * With [property@Slot:throttle-ms] alone, the task running stays the
 * latest until the request that replaces it starts. A request's callback
 * only ever sees the latest task's value; code that acts on that value
 * later than the callback (a job resumes at a later delivery) asks this
 * first, so that a request made meanwhile wins there too.
 *
 * Thread: the engine's.
 *
 * Returns: %TRUE if @task is still the slot's latest request
 *
 * Since: 1.0
 */
gboolean
ag_slot_is_latest (AgSlot *self,
                   AgTask *task)
{
  g_return_val_if_fail (AG_IS_SLOT (self), FALSE);
  g_return_val_if_fail (AG_IS_TASK (task), FALSE);

  return self->latest == task;
}
