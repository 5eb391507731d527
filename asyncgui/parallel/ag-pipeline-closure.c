/* ag-pipeline-closure.c: pipelines whose function is a GClosure, for
 * language bindings (see ag-closure.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-closure-private.h"
#include "ag-pipeline.h"

/* The function gets the chunk handle and the input; in the whole-chunk
 * mode (apply-single off) no input, None to a binding, which reads the
 * inputs from the handle. */
static void
invoke_pipeline_func (AgChunk      *chunk,
                      const GValue *item,
                      gpointer      closure)
{
  _ag_closure_invoke_item (closure, AG_TYPE_CHUNK, chunk, item);
}

/**
 * ag_pipeline_new_with_closure:
 * @inputs: (transfer none): the reader to take inputs from; the pipeline
 *   closes it when it ends
 * @func: turns inputs into outputs, on worker threads: called with the
 *   [class@Chunk] handle and the input, it returns nothing
 *
 * Creates a pipeline as [ctor@Pipeline.new] does, for language bindings:
 * the function is a [struct@GObject.Closure], held until the pipeline has
 * ended. C code uses [ctor@Pipeline.new].
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new pipeline
 *
 * Since: 1.0
 */
AgPipeline *
ag_pipeline_new_with_closure (AgChannelReader *inputs,
                              GClosure        *func)
{
  g_return_val_if_fail (func != NULL, NULL);

  return ag_pipeline_new (inputs, invoke_pipeline_func, _ag_closure_take (func),
                          (GDestroyNotify) g_closure_unref);
}

/**
 * ag_pipeline_new_model_with_closure:
 * @inputs: the model whose items are the inputs
 * @func: turns inputs into outputs, on worker threads: called with the
 *   [class@Chunk] handle and the input, it returns nothing
 *
 * Creates a pipeline as [ctor@Pipeline.new_model] does, for language
 * bindings: the function is a [struct@GObject.Closure], held until the
 * pipeline has ended. C code uses [ctor@Pipeline.new_model].
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new pipeline
 *
 * Since: 1.0
 */
AgPipeline *
ag_pipeline_new_model_with_closure (GListModel *inputs,
                                    GClosure   *func)
{
  g_return_val_if_fail (func != NULL, NULL);

  return ag_pipeline_new_model (inputs, invoke_pipeline_func, _ag_closure_take (func),
                                (GDestroyNotify) g_closure_unref);
}

/**
 * ag_pipeline_new_range_with_closure:
 * @n_items: how many inputs, or -1 for no end
 * @func: turns inputs into outputs, on worker threads: called with the
 *   [class@Chunk] handle and the input, it returns nothing
 *
 * Creates a pipeline as [ctor@Pipeline.new_range] does, for language
 * bindings: the function is a [struct@GObject.Closure], held until the
 * pipeline has ended. C code uses [ctor@Pipeline.new_range].
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new pipeline
 *
 * Since: 1.0
 */
AgPipeline *
ag_pipeline_new_range_with_closure (gint64    n_items,
                                    GClosure *func)
{
  g_return_val_if_fail (func != NULL, NULL);

  return ag_pipeline_new_range (n_items, invoke_pipeline_func, _ag_closure_take (func),
                                (GDestroyNotify) g_closure_unref);
}

/**
 * ag_pipeline_add_stage_with_closure:
 * @self: a pipeline
 * @capacity: how many outputs of @self may wait for the new stage
 * @func: turns this stage's inputs into outputs, on worker threads:
 *   called with the [class@Chunk] handle and the input, it returns nothing
 *
 * Adds a stage as [method@Pipeline.add_stage] does, for language
 * bindings: the function is a [struct@GObject.Closure], held until the
 * stage has ended. C code uses [method@Pipeline.add_stage].
 *
 * Thread: any, before @self is run; the engine's afterwards.
 *
 * Returns: (transfer full): the new stage
 *
 * Since: 1.0
 */
AgPipeline *
ag_pipeline_add_stage_with_closure (AgPipeline *self,
                                    guint       capacity,
                                    GClosure   *func)
{
  g_return_val_if_fail (func != NULL, NULL);

  return ag_pipeline_add_stage (self, capacity, invoke_pipeline_func, _ag_closure_take (func),
                                (GDestroyNotify) g_closure_unref);
}
