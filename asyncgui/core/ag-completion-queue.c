/* ag-completion-queue.c: many producers, one consumer, no locks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-completion-queue-private.h"

/* Workers push finished work here; the delivery source on the engine's
 * context takes everything at once. The queue is a lock-free stack of nodes
 * embedded in what they carry: a push is one compare-and-swap, and taking is
 * one exchange, reversed into arrival order afterwards. Because the consumer
 * takes the whole stack, a node is never popped singly and the ABA problem of
 * Treiber stacks cannot arise.
 *
 * Only the push that finds the stack empty wakes the context, so a burst of a
 * thousand completions costs one wake-up: the delivery source will see all of
 * them when it runs.
 *
 * When the engine goes away the queue is closed: the head becomes a sentinel
 * that no push can get past, and a late push releases its node at once. */

#define CLOSED ((AgNode *) GSIZE_TO_POINTER (1))

struct _AgCompletionQueue
{
  gatomicrefcount  ref_count;
  GMainContext    *context;
  GThread         *home_thread;  /* the thread that made the queue */
  AgNode          *head;  /* atomic */
};

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

void
_ag_completion_queue_push (AgCompletionQueue *self,
                           AgNode            *node)
{
  AgNode *old_head;

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

/* Returns the nodes in the order they were pushed, linked through ->next. */
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

  return reverse (head);
}

gboolean
_ag_completion_queue_is_empty (AgCompletionQueue *self)
{
  AgNode *head = g_atomic_pointer_get (&self->head);

  return head == NULL || head == CLOSED;
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
}
