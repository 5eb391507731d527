/* ag-multi-task.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include "ag-version-macros.h"
#include "ag-task.h"
#include "ag-channel.h"
#include "ag-chunk.h"

G_BEGIN_DECLS

#define AG_TYPE_MULTI_TASK (ag_multi_task_get_type ())

AG_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AgMultiTask, ag_multi_task, AG, MULTI_TASK, AgTask)

AG_AVAILABLE_IN_1_0
AgMultiTask *ag_multi_task_new                (void) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgMultiTask *ag_multi_task_new_map            (GPtrArray       *inputs,
                                               AgMapFunc        func,
                                               gpointer         user_data,
                                               GDestroyNotify   destroy) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgMultiTask *ag_multi_task_new_map_model      (GListModel      *inputs,
                                               AgMapFunc        func,
                                               gpointer         user_data,
                                               GDestroyNotify   destroy) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgMultiTask *ag_multi_task_new_map_range      (guint            n_items,
                                               AgRangeFunc      func,
                                               gpointer         user_data,
                                               GDestroyNotify   destroy) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgMultiTask *ag_multi_task_new_map_ranges     (guint            n_items,
                                               AgRangesFunc     func,
                                               gpointer         user_data,
                                               GDestroyNotify   destroy) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgMultiTask *ag_multi_task_new_map_ranges_with_closure (guint     n_items,
                                                        GClosure *func) G_GNUC_WARN_UNUSED_RESULT;

AG_AVAILABLE_IN_1_0
void         ag_multi_task_add                (AgMultiTask     *self,
                                               AgTask          *task);

AG_AVAILABLE_IN_1_0
void         ag_multi_task_prioritize         (AgMultiTask     *self,
                                               guint            position,
                                               guint            n_items);

AG_AVAILABLE_IN_1_0
guint        ag_multi_task_get_max_workers    (AgMultiTask     *self);
AG_AVAILABLE_IN_1_0
void         ag_multi_task_set_max_workers    (AgMultiTask     *self,
                                               guint            max_workers);
AG_AVAILABLE_IN_1_0
gboolean     ag_multi_task_get_skip_errors    (AgMultiTask     *self);
AG_AVAILABLE_IN_1_0
void         ag_multi_task_set_skip_errors    (AgMultiTask     *self,
                                               gboolean         skip_errors);
AG_AVAILABLE_IN_1_0
gboolean     ag_multi_task_get_unordered      (AgMultiTask     *self);
AG_AVAILABLE_IN_1_0
void         ag_multi_task_set_unordered      (AgMultiTask     *self,
                                               gboolean         unordered);
AG_AVAILABLE_IN_1_0
guint        ag_multi_task_get_min_count      (AgMultiTask     *self);
AG_AVAILABLE_IN_1_0
void         ag_multi_task_set_min_count      (AgMultiTask     *self,
                                               guint            min_count);
AG_AVAILABLE_IN_1_0
guint        ag_multi_task_get_max_chunk_size (AgMultiTask     *self);
AG_AVAILABLE_IN_1_0
void         ag_multi_task_set_max_chunk_size (AgMultiTask     *self,
                                               guint            max_chunk_size);

AG_AVAILABLE_IN_1_0
guint        ag_multi_task_get_n_finished     (AgMultiTask     *self);
AG_AVAILABLE_IN_1_0
guint        ag_multi_task_get_n_failed       (AgMultiTask     *self);
AG_AVAILABLE_IN_1_0
gboolean     ag_multi_task_get_child_value    (AgMultiTask     *self,
                                               guint            position,
                                               GValue          *value,
                                               GError         **error);
AG_AVAILABLE_IN_1_0
GArray      *ag_multi_task_get_values         (AgMultiTask     *self);
AG_AVAILABLE_IN_1_0
AgChannelReader *ag_multi_task_open_results   (AgMultiTask     *self) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
