/* ag-multi-task.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include "ag-task.h"
#include "ag-channel.h"
#include "ag-chunk.h"

G_BEGIN_DECLS

#define AG_TYPE_MULTI_TASK (ag_multi_task_get_type ())

G_DECLARE_FINAL_TYPE (AgMultiTask, ag_multi_task, AG, MULTI_TASK, AgTask)

AgMultiTask *ag_multi_task_new                (void);
AgMultiTask *ag_multi_task_new_map            (GPtrArray       *inputs,
                                               AgMapFunc        func,
                                               gpointer         user_data,
                                               GDestroyNotify   destroy);
AgMultiTask *ag_multi_task_new_map_model      (GListModel      *inputs,
                                               AgMapFunc        func,
                                               gpointer         user_data,
                                               GDestroyNotify   destroy);
AgMultiTask *ag_multi_task_new_map_range      (guint            n_items,
                                               AgRangeFunc      func,
                                               gpointer         user_data,
                                               GDestroyNotify   destroy);

void         ag_multi_task_add                (AgMultiTask     *self,
                                               AgTask          *task);

guint        ag_multi_task_get_max_workers    (AgMultiTask     *self);
void         ag_multi_task_set_max_workers    (AgMultiTask     *self,
                                               guint            max_workers);
gboolean     ag_multi_task_get_skip_errors    (AgMultiTask     *self);
void         ag_multi_task_set_skip_errors    (AgMultiTask     *self,
                                               gboolean         skip_errors);
gboolean     ag_multi_task_get_unordered      (AgMultiTask     *self);
void         ag_multi_task_set_unordered      (AgMultiTask     *self,
                                               gboolean         unordered);
guint        ag_multi_task_get_min_count      (AgMultiTask     *self);
void         ag_multi_task_set_min_count      (AgMultiTask     *self,
                                               guint            min_count);
guint        ag_multi_task_get_max_chunk_size (AgMultiTask     *self);
void         ag_multi_task_set_max_chunk_size (AgMultiTask     *self,
                                               guint            max_chunk_size);

guint        ag_multi_task_get_n_finished     (AgMultiTask     *self);
guint        ag_multi_task_get_n_failed       (AgMultiTask     *self);
gboolean     ag_multi_task_get_child_value    (AgMultiTask     *self,
                                               guint            position,
                                               GValue          *value,
                                               GError         **error);
GArray      *ag_multi_task_get_values         (AgMultiTask     *self);
AgChannelReader *ag_multi_task_open_results   (AgMultiTask     *self);

G_END_DECLS
