/* ag-delivery-source.c: the one GSource that brings results home
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-delivery-source-private.h"

/* Each engine attaches exactly one of these to its context. It is ready when
 * the completion queue holds nodes or when a previous dispatch left some
 * undelivered. A dispatch takes one snapshot of the queue and delivers from
 * it until the budget is spent; what remains waits for the next iteration of
 * the main loop, after anything of higher priority (input, layout, redraw)
 * has had its turn. So a flood of results costs the GUI at most its budget at
 * a time, however large it is.
 *
 * Taking one snapshot per dispatch (rather than refilling while the budget
 * lasts) also bounds coalescing: a task's progress node is queued at most
 * once at a time, so it is delivered at most once per dispatch.
 *
 * A snapshot comes newest first. Putting it in arrival order walks all of
 * it, and after the engine's thread was held up (a long handler, a modal
 * dialog) it can hold hundreds of thousands of nodes, each written by
 * another thread and likely out of the cache: tens of milliseconds of
 * walking. So that walk is budgeted too: it goes on where it stopped in
 * the next dispatch, and delivery starts when it is done.
 *
 * Property notifications raised while delivering can be held: the object is
 * frozen on first use and thawed when the dispatch ends, which turns a
 * thousand "n-finished" changes into one notify.
 *
 * The low priority has one danger: a source of higher priority that is
 * always ready (a busy idle, a Qt 0 ms timer) keeps delivery from ever
 * running, and GLib does not even prepare sources below the highest ready
 * priority, so the delivery source cannot notice by itself. A small
 * companion source at %G_PRIORITY_DEFAULT watches for it: when delivery has
 * had work but no turn for max-delay, the companion delivers one budget's
 * worth itself, ahead of the busy sources, and goes back to watching. It
 * costs one comparison per main loop iteration and never fires while
 * delivery gets its turns. */

typedef struct
{
  GSource            parent;
  gpointer           owner;       /* weak: the engine; NULL once it is gone */
  AgCompletionQueue *queue;       /* strong */
  AgNode            *taken;       /* taken from the queue, newest first, not in order yet */
  AgNode            *taken_newest;
  AgNode            *ordered;     /* the newest of those taken, in arrival order */
  AgNode            *pending;     /* in arrival order, not delivered yet */
  AgNode            *pending_tail;
  gint64             budget_us;
  gint64             max_delay_us; /* 0: no starvation protection */
  gint64             waiting_since; /* when work was first seen without a turn, or 0 */
  gboolean           delivering;
  GHashTable        *held;        /* frozen objects to thaw after dispatch */
  GSource           *watchdog;    /* strong; the companion described above */
} AgDeliverySource;

typedef struct
{
  GSource            parent;
  AgDeliverySource  *delivery;    /* weak: the delivery source destroys us first */
} AgStarvationWatchdog;

/* See _ag_delivery_source_set_hook(). */
static AgDeliveryHook delivery_hook;
static gpointer       delivery_hook_data;

static gboolean
has_work (AgDeliverySource *self)
{
  return self->pending != NULL || self->taken != NULL
         || !_ag_completion_queue_is_empty (self->queue);
}

static gboolean
delivery_prepare (GSource *source,
                  int     *timeout)
{
  *timeout = -1;
  return has_work ((AgDeliverySource *) source);
}

static gboolean
delivery_check (GSource *source)
{
  return has_work ((AgDeliverySource *) source);
}

/* How many nodes are put in order between two looks at the clock. */
#define ORDER_STEP 256

/* Puts the nodes taken from the queue in arrival order, after the ones
 * already pending, until all are or @deadline has passed (a @deadline of 0:
 * until all are). Returns whether all are. */
static gboolean
put_in_order (AgDeliverySource *self,
              gint64            deadline)
{
  while (self->taken != NULL)
    {
      for (guint i = 0; i < ORDER_STEP && self->taken != NULL; i++)
        {
          AgNode *node = self->taken;

          self->taken = node->next;
          node->next = self->ordered;
          self->ordered = node;
        }

      if (self->taken != NULL && deadline != 0 && g_get_monotonic_time () >= deadline)
        return FALSE;
    }

  if (self->ordered == NULL)
    return TRUE;

  if (self->pending == NULL)
    self->pending = self->ordered;
  else
    self->pending_tail->next = self->ordered;
  self->pending_tail = self->taken_newest;
  self->ordered = NULL;
  self->taken_newest = NULL;

  return TRUE;
}

static void
thaw_held (AgDeliverySource *self)
{
  /* Thawing emits notifications, whose handlers may hold more objects:
   * swap the array out first. */
  while (g_hash_table_size (self->held) > 0)
    {
      g_autoptr(GHashTable) held = g_steal_pointer (&self->held);
      GHashTableIter iter;
      gpointer object;

      self->held = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
      g_hash_table_iter_init (&iter, held);
      while (g_hash_table_iter_next (&iter, &object, NULL))
        g_object_thaw_notify (object);
    }
}

/* Delivers from the queue until the budget is spent. */
static void
deliver_one_budget (AgDeliverySource *self)
{
  gint64 deadline;

  if (G_UNLIKELY (delivery_hook != NULL))
    delivery_hook ((GSource *) self, TRUE, delivery_hook_data);

  /* Taking the snapshot is part of the dispatch: it touches every node
   * that other threads wrote, which is far from free for thousands. */
  deadline = g_get_monotonic_time () + self->budget_us;
  if (self->pending == NULL && self->taken == NULL)
    self->taken = self->taken_newest = _ag_completion_queue_take_all (self->queue);
  if (!put_in_order (self, deadline))
    goto out;

  self->delivering = TRUE;
  _ag_completion_queue_set_delivering (self->queue, TRUE);

  while (self->pending != NULL && self->owner != NULL)
    {
      AgNode *node = self->pending;

      self->pending = node->next;
      if (self->pending == NULL)
        self->pending_tail = NULL;
      node->next = NULL;

      node->deliver (node, self->owner);

      if (g_get_monotonic_time () >= deadline)
        break;
    }

  self->delivering = FALSE;
  _ag_completion_queue_set_delivering (self->queue, FALSE);
  thaw_held (self);

out:
  self->waiting_since = 0;
  if (G_UNLIKELY (delivery_hook != NULL))
    delivery_hook ((GSource *) self, FALSE, delivery_hook_data);
}

static gboolean
delivery_dispatch (GSource     *source,
                   GSourceFunc  callback,
                   gpointer     user_data)
{
  deliver_one_budget ((AgDeliverySource *) source);

  return G_SOURCE_CONTINUE;
}

/* Runs on every iteration of the main loop, because its priority is as high
 * as that of the sources that may starve delivery. */
static gboolean
watchdog_prepare (GSource *source,
                  int     *timeout)
{
  AgDeliverySource *delivery = ((AgStarvationWatchdog *) source)->delivery;
  gint64 now, waited;

  *timeout = -1;
  /* While delivering (a callback iterating a nested main loop) the delivery
   * source cannot run anyway; watching would only spin. */
  if (delivery->max_delay_us == 0 || delivery->owner == NULL || delivery->delivering
      || !has_work (delivery))
    {
      delivery->waiting_since = 0;
      return FALSE;
    }

  now = g_source_get_time (source);
  if (delivery->waiting_since == 0)
    delivery->waiting_since = now;

  waited = now - delivery->waiting_since;
  if (waited >= delivery->max_delay_us)
    return TRUE;

  *timeout = (int) ((delivery->max_delay_us - waited + 999) / 1000);
  return FALSE;
}

static gboolean
watchdog_dispatch (GSource     *source,
                   GSourceFunc  callback,
                   gpointer     user_data)
{
  AgDeliverySource *delivery = ((AgStarvationWatchdog *) source)->delivery;

  if (!delivery->delivering)
    deliver_one_budget (delivery);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs watchdog_funcs = {
  .prepare = watchdog_prepare,
  .dispatch = watchdog_dispatch,
};

static void
release_pending (AgDeliverySource *self)
{
  put_in_order (self, 0);
  while (self->pending != NULL)
    {
      AgNode *node = self->pending;

      self->pending = node->next;
      node->next = NULL;
      node->deliver (node, NULL);
    }
  self->pending_tail = NULL;
}

static void
delivery_finalize (GSource *source)
{
  AgDeliverySource *self = (AgDeliverySource *) source;

  g_source_destroy (self->watchdog);
  g_clear_pointer (&self->watchdog, g_source_unref);
  release_pending (self);
  thaw_held (self);
  g_clear_pointer (&self->held, g_hash_table_unref);
  _ag_completion_queue_unref (self->queue);
}

static GSourceFuncs delivery_funcs = {
  .prepare = delivery_prepare,
  .check = delivery_check,
  .dispatch = delivery_dispatch,
  .finalize = delivery_finalize,
};

GSource *
_ag_delivery_source_new (gpointer           owner,
                         AgCompletionQueue *queue)
{
  GSource *source = g_source_new (&delivery_funcs, sizeof (AgDeliverySource));
  AgDeliverySource *self = (AgDeliverySource *) source;

  self->owner = owner;
  self->queue = _ag_completion_queue_ref (queue);
  self->held = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  g_source_set_static_name (source, "[asyncgui] delivery");

  self->watchdog = g_source_new (&watchdog_funcs, sizeof (AgStarvationWatchdog));
  ((AgStarvationWatchdog *) self->watchdog)->delivery = self;
  g_source_set_static_name (self->watchdog, "[asyncgui] delivery watchdog");
  g_source_set_priority (self->watchdog, G_PRIORITY_DEFAULT);

  return source;
}

/* Attaches the delivery source and its watchdog to @context. */
void
_ag_delivery_source_attach (GSource      *source,
                            GMainContext *context)
{
  AgDeliverySource *self = (AgDeliverySource *) source;

  g_source_attach (source, context);
  g_source_attach (self->watchdog, context);
}

void
_ag_delivery_source_set_max_delay_ms (GSource *source,
                                      guint    max_delay_ms)
{
  ((AgDeliverySource *) source)->max_delay_us = (gint64) max_delay_ms * G_TIME_SPAN_MILLISECOND;
}

void
_ag_delivery_source_set_budget_us (GSource *source,
                                   int      budget_us)
{
  ((AgDeliverySource *) source)->budget_us = budget_us;
}

gboolean
_ag_delivery_source_is_delivering (GSource *source)
{
  return ((AgDeliverySource *) source)->delivering;
}

void
_ag_delivery_source_hold_notify (GSource *source,
                                 GObject *object)
{
  AgDeliverySource *self = (AgDeliverySource *) source;

  if (g_hash_table_contains (self->held, object))
    return;

  g_object_freeze_notify (object);
  g_hash_table_add (self->held, g_object_ref (object));
}

/* The owner is going away: whatever is still pending is released
 * undelivered. */
void
_ag_delivery_source_detach_owner (GSource *source)
{
  AgDeliverySource *self = (AgDeliverySource *) source;

  self->owner = NULL;
  g_source_destroy (self->watchdog);
  release_pending (self);
  thaw_held (self);
}

void
_ag_delivery_source_set_hook (AgDeliveryHook hook,
                              gpointer       user_data)
{
  delivery_hook = hook;
  delivery_hook_data = user_data;
}
