/* ag-executor-private.h: where thread work runs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-completion-queue-private.h"

G_BEGIN_DECLS

typedef struct _AgWork AgWork;

/* A unit of thread work. @run does the work (on a pool thread, or on the
 * engine's thread in serial mode); @drop releases it unrun, when the engine
 * is gone before it ran. Both consume the work. */
struct _AgWork
{
  AgNode   node;
  void   (*run)  (AgWork *work);
  void   (*drop) (AgWork *work);
};

typedef struct _AgExecutor AgExecutor;

AgExecutor *_ag_executor_new             (GMainContext      *context,
                                          AgCompletionQueue *queue,
                                          int                max_threads,
                                          int                max_blocked);
void        _ag_executor_free            (AgExecutor        *self);
void        _ag_executor_set_max_threads (AgExecutor        *self,
                                          int                max_threads);
int         _ag_executor_get_max_threads (AgExecutor        *self);
void        _ag_executor_set_max_blocked (AgExecutor        *self,
                                          int                max_blocked);
int         _ag_executor_get_max_blocked (AgExecutor        *self);
void        _ag_executor_submit          (AgExecutor        *self,
                                          AgWork            *work);
gboolean    _ag_executor_join_freed      (gint64             end_time);
gboolean    _ag_executor_on_worker       (void);

G_END_DECLS
