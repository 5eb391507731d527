/* ag-completion-queue-private.h: many producers, one consumer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AgNode AgNode;

/* What a node does when it reaches the home thread. @owner is what the
 * delivery source delivers for (an engine), NULL once it is gone: the node
 * then only releases what it holds, possibly on another thread. */
typedef void (*AgNodeFunc) (AgNode   *node,
                            gpointer  owner);

/* Embedded in whatever travels the completion queue, so pushing allocates
 * nothing. A node is in at most one queue at a time. */
struct _AgNode
{
  AgNode     *next;
  AgNodeFunc  deliver;
};

typedef struct _AgCompletionQueue AgCompletionQueue;

AgCompletionQueue *_ag_completion_queue_new      (GMainContext      *context);
AgCompletionQueue *_ag_completion_queue_ref      (AgCompletionQueue *self);
void               _ag_completion_queue_unref    (AgCompletionQueue *self);
void               _ag_completion_queue_push     (AgCompletionQueue *self,
                                                  AgNode            *node);
AgNode            *_ag_completion_queue_take_all (AgCompletionQueue *self);
GMainContext      *_ag_completion_queue_get_context (AgCompletionQueue *self);
gboolean           _ag_completion_queue_is_home_thread (AgCompletionQueue *self);
void               _ag_completion_queue_set_delivering (AgCompletionQueue *self,
                                                        gboolean           delivering);
gboolean           _ag_completion_queue_is_delivering (AgCompletionQueue *self);
gboolean           _ag_completion_queue_is_empty (AgCompletionQueue *self);
void               _ag_completion_queue_close    (AgCompletionQueue *self);
gboolean           _ag_completion_queue_is_closed (AgCompletionQueue *self);

/* Finding the queue that delivers on a context, for code below the engine
 * (channels) that has a context but no engine. */
void               _ag_completion_queue_publish  (AgCompletionQueue *self);
AgCompletionQueue *_ag_completion_queue_for_context (GMainContext   *context);

/* For tests only: called on the pushing thread by every push to every
 * queue, before the node is in, so that a test can count what goes home.
 * Set it while nothing pushes; NULL removes it. */
typedef void (*AgPushHook) (AgCompletionQueue *queue,
                            AgNode            *node,
                            gpointer           user_data);

void               _ag_completion_queue_set_push_hook (AgPushHook hook,
                                                       gpointer   user_data);

G_END_DECLS
