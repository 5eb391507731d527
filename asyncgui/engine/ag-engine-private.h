/* ag-engine-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-engine.h"
#include "ag-executor-private.h"

G_BEGIN_DECLS

/* Something that runs on an engine, of whatever kind: the engine abandons
 * what is still tracked when it is disposed. */
typedef struct _AgTracked AgTracked;

struct _AgTracked
{
  AgTracked  *prev;
  AgTracked  *next;
  void      (*abandon) (AgTracked *tracked);  /* must untrack */
};

AgCompletionQueue *_ag_engine_get_queue      (AgEngine *self);
void               _ag_engine_submit_work    (AgEngine *self,
                                              AgWork   *work);
void               _ag_engine_hold_notify    (AgEngine *self,
                                              GObject  *object);
gboolean           _ag_engine_is_delivering  (AgEngine *self);
gboolean           _ag_engine_is_disposed    (AgEngine *self);
gboolean           _ag_engine_is_own_thread  (AgEngine *self);
gboolean           _ag_engine_wait_for       (AgEngine   *self,
                                              const int  *finished,
                                              gint64      timeout_us,
                                              GError    **error);
gboolean           _ag_engine_may_iterate_here (AgEngine *self);
void               _ag_engine_track          (AgEngine  *self,
                                              AgTracked *tracked);
void               _ag_engine_untrack        (AgEngine  *self,
                                              AgTracked *tracked);
gpointer           _ag_engine_get_extension  (AgEngine       *self,
                                              GQuark          key);
void               _ag_engine_set_extension  (AgEngine       *self,
                                              GQuark          key,
                                              gpointer        data,
                                              GDestroyNotify  shutdown,
                                              GDestroyNotify  free);
gboolean           _ag_engine_enter          (AgEngine *self,
                                              gboolean *acquired);
void               _ag_engine_leave          (AgEngine *self,
                                              gboolean  acquired);

G_END_DECLS
