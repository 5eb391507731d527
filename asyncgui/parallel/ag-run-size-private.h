/* ag-run-size-private.h: how many inputs a map's next run gets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* About this much worker time per run. */
#define AG_RUN_TARGET_US 1000.0

/* A timed run stops itself once it has had about this much worker time
 * (ag-chunk-run.c), and gives its other inputs back. */
#define AG_RUN_BUDGET_US ((gint64) (2 * AG_RUN_TARGET_US))

/* What a map has learnt from its runs so far; zero-initialized. */
typedef struct
{
  double recent_us;     /* worker time of recent runs, older ones weighing less */
  double recent_inputs; /* their inputs, weighed the same */
  double recent_cpu_us; /* the processor time they used, weighed the same */
  guint  last_size;     /* the size of the run started last */
} AgRunSize;

double _ag_run_size_input_us (const AgRunSize *self);
void   _ag_run_size_add_run  (AgRunSize *self,
                              gint64     elapsed_us,
                              guint      n_inputs);
void   _ag_run_size_add_cpu  (AgRunSize *self,
                              gint64     elapsed_us,
                              gint64     cpu_us);
gboolean _ag_run_size_inputs_wait (const AgRunSize *self);
guint  _ag_run_size_next     (const AgRunSize *self,
                              guint            remaining,
                              guint            n_runs,
                              gboolean         timed);

G_END_DECLS
