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

G_BEGIN_DECLS

/**
 * AgMapFunc:
 * @item: (nullable): the input: an element of the array, or an object of
 *   the list model
 * @result: (out caller-allocates): an unset value to initialize and set
 * @user_data: the data given with the function
 * @cancellable: (nullable): the multi-task's cancellable
 * @error: return location for an error
 *
 * Turns one input of a mapping [class@MultiTask] into one value. It runs on
 * a worker thread (on the engine's thread in serial mode), possibly on
 * several threads at once, so it must not touch state of the engine's
 * thread.
 *
 * Returns: %TRUE with @result set, or %FALSE with @error set
 *
 * Since: 1.0
 */
typedef gboolean (*AgMapFunc) (gpointer       item,
                               GValue        *result,
                               gpointer       user_data,
                               GCancellable  *cancellable,
                               GError       **error);

/**
 * AgRangeFunc:
 * @position: the position of the child to make a value for
 * @user_data: the data given with the function
 * @cancellable: (nullable): the multi-task's cancellable
 * @error: return location for an error
 *
 * Makes the value of one child of a [ctor@MultiTask.new_map_range]
 * MultiTask. It runs on a worker thread (on the engine's thread in serial
 * mode), possibly on several threads at once.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL with @error set
 *   if the child failed (%NULL without an error: no value)
 *
 * Since: 1.0
 */
typedef GValue *(*AgRangeFunc) (guint          position,
                                gpointer       user_data,
                                GCancellable  *cancellable,
                                GError       **error);

/**
 * AgPipeFunc:
 * @item: the input; with [property@MultiTask:apply-single] unset, a
 *   [struct@GLib.Array] of [struct@GObject.Value]: the whole chunk
 * @user_data: the data given with the function
 * @cancellable: (nullable): cancelled when the pipeline stops
 * @error: return location for an error
 *
 * Turns one input of a pipeline (see [ctor@MultiTask.new_pipe]) into an
 * output. It runs on a worker thread (on the engine's thread in serial
 * mode), possibly on several threads at once. Besides its return value it
 * may add outputs with [method@MultiTask.emit].
 *
 * Given a whole chunk, it returns a [struct@GObject.Value] holding a
 * [struct@GLib.Array] of [struct@GObject.Value] outputs, any number of
 * them. (Bindings that cannot read an array inside a value get the
 * chunk's items from [method@MultiTask.dup_chunk_items] and emit the
 * outputs.)
 *
 * Returns: (transfer full) (nullable): the output; %NULL without @error for
 *   none; %NULL with @error set if the input failed, which ends the
 *   pipeline after the outputs of the inputs before it
 *
 * Since: 1.0
 */
typedef GValue *(*AgPipeFunc) (const GValue  *item,
                               gpointer       user_data,
                               GCancellable  *cancellable,
                               GError       **error);

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

AgMultiTask *ag_multi_task_new_pipe           (AgChannelReader *inputs,
                                               AgPipeFunc       func,
                                               gpointer         user_data,
                                               GDestroyNotify   destroy);
AgMultiTask *ag_multi_task_new_pipe_model     (GListModel      *inputs,
                                               AgPipeFunc       func,
                                               gpointer         user_data,
                                               GDestroyNotify   destroy);
AgMultiTask *ag_multi_task_new_pipe_range     (gint64           n_items,
                                               AgPipeFunc       func,
                                               gpointer         user_data,
                                               GDestroyNotify   destroy);
AgMultiTask *ag_multi_task_add_stage          (AgMultiTask     *self,
                                               guint            capacity,
                                               AgPipeFunc       func,
                                               gpointer         user_data,
                                               GDestroyNotify   destroy);

void         ag_multi_task_add                (AgMultiTask     *self,
                                               AgTask          *task);

void         ag_multi_task_set_output         (AgMultiTask     *self,
                                               AgChannel       *output);
AgChannel   *ag_multi_task_get_output         (AgMultiTask     *self);
AgChannelReader *ag_multi_task_open_output    (AgMultiTask     *self,
                                               guint            capacity);
void         ag_multi_task_emit               (AgMultiTask     *self,
                                               const GValue    *value);
void         ag_multi_task_emit_error         (AgMultiTask     *self,
                                               const GError    *error);
GArray      *ag_multi_task_dup_chunk_items    (AgMultiTask     *self);

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
gboolean     ag_multi_task_get_apply_single   (AgMultiTask     *self);
void         ag_multi_task_set_apply_single   (AgMultiTask     *self,
                                               gboolean         apply_single);

guint        ag_multi_task_get_n_finished     (AgMultiTask     *self);
guint        ag_multi_task_get_n_failed       (AgMultiTask     *self);
gboolean     ag_multi_task_get_child_value    (AgMultiTask     *self,
                                               guint            position,
                                               GValue          *value,
                                               GError         **error);
GArray      *ag_multi_task_get_values         (AgMultiTask     *self);

G_END_DECLS
