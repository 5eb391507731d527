/* ag-multi-task-private.h: a MultiTask's state, shared by the files of
 * its parts: the type (ag-multi-task.c), how children's outcomes become
 * its own (ag-multi-task-outcome.c), children added one by one
 * (ag-multi-task-children.c), children made from inputs (ag-map.c), the
 * results stream (ag-multi-task-results.c) and which children start next
 * (ag-multi-task-priority.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-completion-queue-private.h"
#include "ag-multi-task.h"
#include "ag-run-size-private.h"
#include "ag-values-private.h"

G_BEGIN_DECLS

typedef enum
{
  SLOT_PENDING,
  SLOT_RUNNING,
  SLOT_DONE,
  SLOT_FAILED,
} AgMultiTaskSlot;

/* Everything here is the engine's thread's, except that a map run's worker
 * owns the slots of its inputs in @values until the run is delivered. */
struct _AgMultiTask
{
  AgTask          parent_instance;

  guint           max_workers;
  gboolean        skip_errors;
  gboolean        unordered;
  gboolean        started;
  guint           min_count;
  guint           max_chunk_size;  /* 0: chosen by the map */

  /* Children added one by one. */
  GPtrArray      *children;
  gboolean        children_released; /* its holds on them: see _ag_task_hold() */

  /* Children made from inputs (ag-map.c). */
  AgMapFunc       map_func;
  AgRangeFunc     range_func;
  AgRangesFunc    ranges_func;
  gpointer        map_data;
  GDestroyNotify  map_destroy;
  GPtrArray      *inputs;
  GListModel     *model;
  guint           n_range;
  GHashTable     *views;           /* position → AgTask, made on demand */
  guint           runs_going;
  AgRunSize       run_size;

  /* Run state, from start on. */
  guint           n_items;
  GArray         *values;          /* GValue × n_items, list order; a slot is
                                    * initialized only once SLOT_DONE */
  gboolean        values_need_clear;
  guint8         *slots;           /* AgMultiTaskSlot × n_items */
  GHashTable     *errors;          /* position → GError */
  guint           n_started;       /* list order: every position before it started */
  guint           n_ahead;         /* positions from n_started on started already */
  guint           n_running;
  guint           n_finished;
  guint           n_failed;
  guint           next_announced;  /* in list order: first not yet announced */
  AgNode          announce_node;   /* goes on announcing at the next delivery */
  gboolean        announce_queued; /* announce_node is on its way, with a ref */

  /* The wanted range, want_start … want_end - 1, as last asked for
   * (ag_multi_task_prioritize()); want_next: its first position that may
   * not have started. Kept as given until the run clamps it. */
  guint           want_start;
  guint           want_end;
  guint           want_next;

  /* The results stream: positions as they are announced. */
  AgChannel      *results;
  GArray         *results_batch;   /* GValue: announced, written once per delivery */
};

static inline GValue *
_ag_multi_task_slot_value (AgMultiTask *self,
                           guint        position)
{
  return &g_array_index (self->values, GValue, position);
}

/* ag-multi-task.c */
gboolean _ag_multi_task_is_running           (AgMultiTask *self);
gboolean _ag_multi_task_has_listeners        (AgMultiTask *self);
void     _ag_multi_task_announce             (AgMultiTask *self,
                                              gboolean     has_listeners,
                                              guint        position);
void     _ag_multi_task_notify_counts        (AgMultiTask *self,
                                              guint        old_failed);

/* ag-multi-task-outcome.c */
void     _ag_multi_task_record_failure       (AgMultiTask *self,
                                             guint        position,
                                             AgFailure   *failure);
void     _ag_multi_task_settle               (AgMultiTask *self,
                                              guint        start,
                                              guint        count,
                                              guint        old_failed);
void     _ag_multi_task_settle_view          (AgMultiTask *self,
                                              guint        position);
void     _ag_multi_task_complete_if_done     (AgMultiTask *self);
void     _ag_multi_task_release_values       (AgMultiTask *self);

/* ag-multi-task-children.c */
void     _ag_multi_task_feed_children        (AgMultiTask *self);
void     _ag_multi_task_cancel_children      (AgMultiTask *self);
void     _ag_multi_task_release_children     (AgMultiTask *self);
void     _ag_multi_task_end_children_quietly (AgMultiTask *self);

/* ag-multi-task-results.c */
void     _ag_multi_task_note_result          (AgMultiTask *self,
                                              guint        position);
void     _ag_multi_task_flush_results        (AgMultiTask *self);
void     _ag_multi_task_close_results        (AgMultiTask *self);

/* ag-multi-task-priority.c */
void     _ag_multi_task_clamp_wanted         (AgMultiTask *self);
gboolean _ag_multi_task_next_to_start_slow   (AgMultiTask *self,
                                              guint       *position,
                                              guint       *end);
guint    _ag_multi_task_count_pending        (AgMultiTask *self,
                                              guint        position,
                                              guint        max);
void     _ag_multi_task_mark_started         (AgMultiTask *self,
                                              guint        position,
                                              guint        count);
void     _ag_multi_task_mark_pending         (AgMultiTask *self,
                                              guint        position,
                                              guint        count);

/* The next child to start, and the end of the stretch it starts (of the
 * wanted range, or of the list): FALSE once all have started. Inline, so
 * that a MultiTask that nothing was prioritized in pays two comparisons. */
static inline gboolean
_ag_multi_task_next_to_start (AgMultiTask *self,
                              guint       *position,
                              guint       *end)
{
  if (G_LIKELY (self->n_ahead == 0 && self->want_next >= self->want_end))
    {
      *position = self->n_started;
      *end = self->n_items;
      return self->n_started < self->n_items;
    }

  return _ag_multi_task_next_to_start_slow (self, position, end);
}

/* ag-map.c */
void     _ag_multi_task_feed_map             (AgMultiTask *self);

G_END_DECLS
