/* bench-flood.h: what the flood workloads' implementations share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-bench.h"

G_BEGIN_DECLS

/* One run of flood-multi or flood-tasks, whichever implementation. */
typedef struct
{
  BenchLoop   *loop;
  guint        n;           /* items */
  guint        n_expected;  /* completion callbacks due */
  guint        n_done;      /* completion callbacks seen, to catch doubles */
  guint64      sum;         /* of the values, where single ones are unknown */
  gboolean     ok;
  GPtrArray   *inputs;      /* flood-multi: GUINT_TO_POINTER (index) */
  AgMultiTask *multi;
  GArray      *values;      /* flood-multi baselines: GValue, one per item */
  gint64       start_ns;
  gint64       submitted_ns; /* when the submit call returned */
  gint64       end_ns;
  BenchGap    *gap;
} Flood;

void           flood_init              (Flood        *flood,
                                        guint         n,
                                        guint         n_expected);
void           flood_make_inputs       (Flood        *flood);
void           flood_begin             (Flood        *flood,
                                        BenchLoop    *loop);
void           flood_submitted         (Flood        *flood);
void           flood_end               (Flood        *flood);
void           flood_fail              (Flood        *flood,
                                        const char   *format,
                                        ...) G_GNUC_PRINTF (2, 3);
void           flood_check_values      (Flood        *flood,
                                        const char   *impl,
                                        GArray       *values);
guint64        flood_expected_sum      (guint         n);
gboolean       flood_finish            (Flood        *flood,
                                        const char   *what,
                                        BenchResult  *result);

/* Processor time each item of flood-multi (asyncgui) and of the per-item
 * GTask flood spends before it makes its value; 0 (the default) for the
 * trivial items of the floods themselves. The frames workload sets it, so
 * that its flood is real work lasting seconds. */
extern guint bench_flood_item_work_ns;

/* The backlog workload: flood-tasks with the GUI thread held up (a long
 * handler, a modal dialog) until every item has run, so that all results
 * wait to come home at once. The clock and the 60 Hz ticker start when the
 * GUI thread is free again: what they measure is the catching up. Each
 * implementation's item counts itself in bench_flood_items_ran (atomic). */
extern gboolean bench_flood_backlog;
extern int      bench_flood_items_ran;

static inline void
flood_item_ran (void)
{
  if (G_UNLIKELY (bench_flood_backlog))
    g_atomic_int_inc (&bench_flood_items_ran);
}

G_END_DECLS
