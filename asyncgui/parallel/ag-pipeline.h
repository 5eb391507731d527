/* ag-pipeline.h
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

#define AG_TYPE_PIPELINE (ag_pipeline_get_type ())

AG_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AgPipeline, ag_pipeline, AG, PIPELINE, AgTask)

AG_AVAILABLE_IN_1_0
AgPipeline      *ag_pipeline_new                (AgChannelReader *inputs,
                                                 AgPipelineFunc   func,
                                                 gpointer         user_data,
                                                 GDestroyNotify   destroy) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgPipeline      *ag_pipeline_new_model          (GListModel      *inputs,
                                                 AgPipelineFunc   func,
                                                 gpointer         user_data,
                                                 GDestroyNotify   destroy) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgPipeline      *ag_pipeline_new_range          (gint64           n_items,
                                                 AgPipelineFunc   func,
                                                 gpointer         user_data,
                                                 GDestroyNotify   destroy) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgPipeline      *ag_pipeline_add_stage          (AgPipeline      *self,
                                                 guint            capacity,
                                                 AgPipelineFunc   func,
                                                 gpointer         user_data,
                                                 GDestroyNotify   destroy) G_GNUC_WARN_UNUSED_RESULT;

AG_AVAILABLE_IN_1_0
AgPipeline      *ag_pipeline_new_with_closure   (AgChannelReader *inputs,
                                                 GClosure        *func) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgPipeline      *ag_pipeline_new_model_with_closure (GListModel  *inputs,
                                                 GClosure        *func) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgPipeline      *ag_pipeline_new_range_with_closure (gint64      n_items,
                                                 GClosure        *func) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgPipeline      *ag_pipeline_add_stage_with_closure (AgPipeline  *self,
                                                 guint            capacity,
                                                 GClosure        *func) G_GNUC_WARN_UNUSED_RESULT;

AG_AVAILABLE_IN_1_0
void             ag_pipeline_set_output         (AgPipeline      *self,
                                                 AgChannel       *output);
AG_AVAILABLE_IN_1_0
AgChannel       *ag_pipeline_get_output         (AgPipeline      *self);
AG_AVAILABLE_IN_1_0
AgChannelReader *ag_pipeline_open_output        (AgPipeline      *self,
                                                 guint            capacity) G_GNUC_WARN_UNUSED_RESULT;

AG_AVAILABLE_IN_1_0
guint            ag_pipeline_get_max_workers    (AgPipeline      *self);
AG_AVAILABLE_IN_1_0
void             ag_pipeline_set_max_workers    (AgPipeline      *self,
                                                 guint            max_workers);
AG_AVAILABLE_IN_1_0
guint            ag_pipeline_get_min_count      (AgPipeline      *self);
AG_AVAILABLE_IN_1_0
void             ag_pipeline_set_min_count      (AgPipeline      *self,
                                                 guint            min_count);
AG_AVAILABLE_IN_1_0
guint            ag_pipeline_get_max_chunk_size (AgPipeline      *self);
AG_AVAILABLE_IN_1_0
void             ag_pipeline_set_max_chunk_size (AgPipeline      *self,
                                                 guint            max_chunk_size);
AG_AVAILABLE_IN_1_0
gboolean         ag_pipeline_get_apply_single   (AgPipeline      *self);
AG_AVAILABLE_IN_1_0
void             ag_pipeline_set_apply_single   (AgPipeline      *self,
                                                 gboolean         apply_single);

G_END_DECLS
