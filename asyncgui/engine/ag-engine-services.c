/* ag-engine-services.c: what the engine offers the layers above it: its
 * queue and executor, its thread, the nodes it tracks, and extensions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-engine-internal.h"
#include "ag-delivery-source-private.h"
#include "ag-wait-private.h"

AgCompletionQueue *
_ag_engine_get_queue (AgEngine *self)
{
  return self->queue;
}

void
_ag_engine_submit_work (AgEngine *self,
                        AgWork   *work)
{
  if (self->executor == NULL)
    {
      work->drop (work);
      return;
    }

  _ag_executor_submit (self->executor, work);
}

/* Coalesces property notifications until the current dispatch ends. Outside
 * delivery there is nothing to coalesce with, so notifications go out as
 * usual. */
void
_ag_engine_hold_notify (AgEngine *self,
                        GObject  *object)
{
  if (_ag_engine_is_delivering (self))
    _ag_delivery_source_hold_notify (self->delivery, object);
}

gboolean
_ag_engine_is_delivering (AgEngine *self)
{
  return self->delivery != NULL && _ag_delivery_source_is_delivering (self->delivery);
}

/* Whether the calling thread may iterate the engine's context to wait: only
 * the engine's own thread, so deliveries never run on a worker or a helper
 * thread that happens to find the context free. */
gboolean
_ag_engine_may_iterate_here (AgEngine *self)
{
  return g_main_context_is_owner (self->context) || g_thread_self () == self->home_thread;
}

/* Whether the calling thread may act as the engine's thread now: it iterates
 * the context, or made the engine and could acquire the context, which it
 * then holds (*@acquired) until _ag_engine_leave(), so that no other thread
 * delivers meanwhile. */
gboolean
_ag_engine_enter (AgEngine *self,
                  gboolean *acquired)
{
  *acquired = FALSE;
  if (g_main_context_is_owner (self->context))
    return TRUE;

  if (g_thread_self () != self->home_thread || !g_main_context_acquire (self->context))
    return FALSE;

  *acquired = TRUE;
  return TRUE;
}

void
_ag_engine_leave (AgEngine *self,
                  gboolean  acquired)
{
  if (acquired)
    g_main_context_release (self->context);
}

/* Waits until *finished, which @self's deliveries set; @self may be NULL
 * while the thread that waits hands the work to it. */
gboolean
_ag_engine_wait_for (AgEngine   *self,
                     const int  *finished,
                     gint64      timeout_us,
                     GError    **error)
{
  gboolean may_iterate;

  if (self == NULL)
    return _ag_wait_for (NULL, FALSE, FALSE, finished, timeout_us, error);

  may_iterate = _ag_engine_may_iterate_here (self);

  /* Only the engine's thread may ask whether it is delivering. */
  return _ag_wait_for (self->context, may_iterate,
                       may_iterate && _ag_engine_is_delivering (self),
                       finished, timeout_us, error);
}

/* Whether the calling thread may act as the engine's: the one iterating
 * its context, or, while nobody does, the one that made it. */
gboolean
_ag_engine_is_own_thread (AgEngine *self)
{
  return _ag_completion_queue_is_home_thread (self->queue);
}

gboolean
_ag_engine_is_disposed (AgEngine *self)
{
  return g_atomic_int_get (&self->disposed);
}

/* What runs on the engine, of whatever kind: disposal abandons each, and
 * @tracked's abandon function untracks it. */
void
_ag_engine_track (AgEngine  *self,
                  AgTracked *tracked)
{
  g_assert (tracked->abandon != NULL);

  tracked->prev = self->tracked_last;
  tracked->next = NULL;
  if (self->tracked_last != NULL)
    self->tracked_last->next = tracked;
  else
    self->tracked = tracked;
  self->tracked_last = tracked;
}

void
_ag_engine_untrack (AgEngine  *self,
                    AgTracked *tracked)
{
  /* Not tracked (any more): nothing to unlink. */
  if (tracked->prev == NULL && self->tracked != tracked)
    return;

  if (tracked->prev != NULL)
    tracked->prev->next = tracked->next;
  else
    self->tracked = tracked->next;
  if (tracked->next != NULL)
    tracked->next->prev = tracked->prev;
  else
    self->tracked_last = tracked->prev;
  tracked->prev = tracked->next = NULL;
}

/* Upper layers keep what they add to an engine (the worker processes, say)
 * as extensions: looked up by key, shut down when the engine is disposed,
 * after everything it ran has been abandoned, and freed with the engine. */
typedef struct
{
  GQuark          key;
  gpointer        data;
  GDestroyNotify  shutdown;
  GDestroyNotify  free;
} Extension;

gpointer
_ag_engine_get_extension (AgEngine *self,
                          GQuark    key)
{
  for (guint i = 0; self->extensions != NULL && i < self->extensions->len; i++)
    if (g_array_index (self->extensions, Extension, i).key == key)
      return g_array_index (self->extensions, Extension, i).data;

  return NULL;
}

void
_ag_engine_set_extension (AgEngine       *self,
                          GQuark          key,
                          gpointer        data,
                          GDestroyNotify  shutdown,
                          GDestroyNotify  free)
{
  Extension extension = { key, data, shutdown, free };

  g_assert (_ag_engine_get_extension (self, key) == NULL);

  if (self->extensions == NULL)
    self->extensions = g_array_new (FALSE, FALSE, sizeof (Extension));
  g_array_append_val (self->extensions, extension);
}

void
_ag_engine_shut_extensions_down (AgEngine *self)
{
  for (guint i = 0; self->extensions != NULL && i < self->extensions->len; i++)
    {
      Extension *extension = &g_array_index (self->extensions, Extension, i);

      if (extension->shutdown != NULL)
        extension->shutdown (extension->data);
    }
}

void
_ag_engine_free_extensions (AgEngine *self)
{
  g_autoptr(GArray) extensions = g_steal_pointer (&self->extensions);

  for (guint i = 0; extensions != NULL && i < extensions->len; i++)
    {
      Extension *extension = &g_array_index (extensions, Extension, i);

      if (extension->free != NULL)
        extension->free (extension->data);
    }
}
