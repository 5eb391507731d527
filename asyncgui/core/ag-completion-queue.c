/* ag-completion-queue.c: many producers, one consumer, no locks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-completion-queue-private.h"

/* Workers push finished work here; the delivery source on the engine's
 * context takes everything at once. The queue is a lock-free stack of nodes
 * embedded in what they carry: a push is one compare-and-swap, and taking is
 * one exchange; the taker puts what it took into arrival order. Because the
 * consumer takes the whole stack, a node is never popped singly and the ABA
 * problem of Treiber stacks cannot arise.
 *
 * Only the push that finds the stack empty wakes the context, so a burst of a
 * thousand completions costs one wake-up: the delivery source will see all of
 * them when it runs.
 *
 * When the engine goes away the queue is closed: the head becomes a sentinel
 * that no push can get past, and a late push releases its node at once.
 *
 * Code below the engine has no engine to ask for a queue: a channel knows
 * only the context its notifications and callbacks belong to. So an engine
 * publishes its queue, and such code finds it by the context. When several
 * engines share a context, the one published first (and not closed yet)
 * is found, so the same queue serves until its engine goes. A queue leaves
 * when it is closed. */

#define CLOSED ((AgNode *) GSIZE_TO_POINTER (1))

struct _AgCompletionQueue
{
  gatomicrefcount  ref_count;
  GMainContext    *context;
  GThread         *home_thread;  /* the thread that made the queue */
  AgNode          *head;  /* atomic */
  gboolean         published;  /* registry_lock */
  gboolean         delivering;  /* the home thread's */
};

/* Published queues by context: GMainContext * → GPtrArray of queues in the
 * order they were published, each with a ref. */
static GMutex      registry_lock;
static GHashTable *registry;  /* registry_lock */

AgCompletionQueue *
_ag_completion_queue_new (GMainContext *context)
{
  AgCompletionQueue *self = g_new0 (AgCompletionQueue, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->context = g_main_context_ref (context);
  self->home_thread = g_thread_self ();

  return self;
}

GMainContext *
_ag_completion_queue_get_context (AgCompletionQueue *self)
{
  return self->context;
}

/* Whether the calling thread is the one nodes are delivered on: the thread
 * iterating the context, or, while nobody iterates it, the thread that made
 * the queue. */
gboolean
_ag_completion_queue_is_home_thread (AgCompletionQueue *self)
{
  if (g_main_context_is_owner (self->context))
    return TRUE;

  if (g_thread_self () != self->home_thread || !g_main_context_acquire (self->context))
    return FALSE;

  g_main_context_release (self->context);
  return TRUE;
}

/* The delivery source says when it delivers, so that code below the engine
 * that would wait for a delivery on the home thread (a blocking channel
 * read) can tell that none can come before it returns. */
void
_ag_completion_queue_set_delivering (AgCompletionQueue *self,
                                     gboolean           delivering)
{
  self->delivering = delivering;
}

/* Only meaningful on the home thread. */
gboolean
_ag_completion_queue_is_delivering (AgCompletionQueue *self)
{
  return self->delivering;
}

AgCompletionQueue *
_ag_completion_queue_ref (AgCompletionQueue *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
_ag_completion_queue_unref (AgCompletionQueue *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  _ag_completion_queue_close (self);
  g_main_context_unref (self->context);
  g_free (self);
}

/* See _ag_completion_queue_set_push_hook(). */
static AgPushHook push_hook;
static gpointer   push_hook_data;

void
_ag_completion_queue_push (AgCompletionQueue *self,
                           AgNode            *node)
{
  AgNode *old_head;

  if (G_UNLIKELY (push_hook != NULL))
    push_hook (self, node, push_hook_data);

  do
    {
      old_head = g_atomic_pointer_get (&self->head);
      if (old_head == CLOSED)
        {
          node->deliver (node, NULL);
          return;
        }
      node->next = old_head;
    }
  while (!g_atomic_pointer_compare_and_exchange (&self->head, old_head, node));

  if (old_head == NULL)
    g_main_context_wakeup (self->context);
}

static AgNode *
reverse (AgNode *list)
{
  AgNode *reversed = NULL;

  while (list != NULL)
    {
      AgNode *next = list->next;

      list->next = reversed;
      reversed = list;
      list = next;
    }

  return reversed;
}

/* Returns every node pushed so far, the newest first, linked through
 * ->next. Putting them in arrival order is left to the caller, which can
 * spread that walk over several turns: for a large backlog it touches
 * hundreds of thousands of nodes that other threads wrote. */
AgNode *
_ag_completion_queue_take_all (AgCompletionQueue *self)
{
  AgNode *head;

  /* A compare-and-swap rather than an exchange, so a concurrent close can
   * never be undone by writing NULL over the sentinel. */
  do
    {
      head = g_atomic_pointer_get (&self->head);
      if (head == NULL || head == CLOSED)
        return NULL;
    }
  while (!g_atomic_pointer_compare_and_exchange (&self->head, head, NULL));

  return head;
}

gboolean
_ag_completion_queue_is_empty (AgCompletionQueue *self)
{
  AgNode *head = g_atomic_pointer_get (&self->head);

  return head == NULL || head == CLOSED;
}

static void
withdraw (AgCompletionQueue *self)
{
  gboolean was_published;

  g_mutex_lock (&registry_lock);
  was_published = self->published;
  if (was_published)
    {
      GPtrArray *queues = g_hash_table_lookup (registry, self->context);

      self->published = FALSE;
      g_ptr_array_remove (queues, self);
      if (queues->len == 0)
        g_hash_table_remove (registry, self->context);
    }
  g_mutex_unlock (&registry_lock);

  if (was_published)
    _ag_completion_queue_unref (self);
}

/* Closed: its engine was disposed, and may be gone. */
gboolean
_ag_completion_queue_is_closed (AgCompletionQueue *self)
{
  return g_atomic_pointer_get (&self->head) == CLOSED;
}

void
_ag_completion_queue_close (AgCompletionQueue *self)
{
  AgNode *list = g_atomic_pointer_exchange (&self->head, CLOSED);

  if (list == CLOSED)
    return;

  list = reverse (list);
  while (list != NULL)
    {
      AgNode *next = list->next;

      list->deliver (list, NULL);
      list = next;
    }

  /* Last: it may drop the last reference. Until here a lookup may still
   * find the queue, and a push onto it releases its node at once. */
  withdraw (self);
}

/* Lets code that knows only the queue's context find it with
 * _ag_completion_queue_for_context(), until the queue is closed. */
void
_ag_completion_queue_publish (AgCompletionQueue *self)
{
  GPtrArray *queues;

  g_mutex_lock (&registry_lock);
  g_warn_if_fail (!self->published);
  if (registry == NULL)
    registry = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_ptr_array_unref);
  queues = g_hash_table_lookup (registry, self->context);
  if (queues == NULL)
    {
      queues = g_ptr_array_new ();
      g_hash_table_insert (registry, self->context, queues);
    }
  g_ptr_array_add (queues, _ag_completion_queue_ref (self));
  self->published = TRUE;
  g_mutex_unlock (&registry_lock);
}

/* Returns (a ref on) the open queue that delivers on @context, the first
 * published of several, or NULL if no engine lives there. */
AgCompletionQueue *
_ag_completion_queue_for_context (GMainContext *context)
{
  AgCompletionQueue *found = NULL;
  GPtrArray *queues;

  g_mutex_lock (&registry_lock);
  queues = registry != NULL ? g_hash_table_lookup (registry, context) : NULL;
  if (queues != NULL)
    found = _ag_completion_queue_ref (g_ptr_array_index (queues, 0));
  g_mutex_unlock (&registry_lock);

  return found;
}

void
_ag_completion_queue_set_push_hook (AgPushHook hook,
                                    gpointer   user_data)
{
  push_hook = hook;
  push_hook_data = user_data;
}
