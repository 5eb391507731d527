/* ag-chunk.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include "ag-version-macros.h"
#include <gio/gio.h>

G_BEGIN_DECLS

#define AG_TYPE_CHUNK (ag_chunk_get_type ())

AG_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AgChunk, ag_chunk, AG, CHUNK, GObject)

/**
 * AgMapFunc:
 * @chunk: the handle of this input: return its value or error through it
 * @item: (nullable) (type GObject): the input: an element of the array
 *   of [ctor@MultiTask.new_map], or an object of the list model of
 *   [ctor@MultiTask.new_map_model] (the only one bindings have)
 * @user_data: the data given with the function
 *
 * Turns one input of a mapping [class@MultiTask] into the value of its
 * child. Before it returns it calls one of the `ag_chunk_return_*()`
 * functions once, as a task function calls `ag_task_return_*()`; the
 * cancellable of the work is [method@Chunk.get_cancellable].
 *
 * It runs on a worker thread (on the engine's thread in serial mode),
 * possibly on several threads at once, each with its own @chunk, so it
 * must not touch state of the engine's thread.
 *
 * Since: 1.0
 */
typedef void (*AgMapFunc)      (AgChunk      *chunk,
                                gpointer      item,
                                gpointer      user_data);

/**
 * AgRangeFunc:
 * @chunk: the handle of this child: return its value or error through it
 * @position: the position of the child to make a value for
 * @user_data: the data given with the function
 *
 * Makes the value of one child of a [ctor@MultiTask.new_map_range]
 * MultiTask, and returns it through @chunk as an [callback@MapFunc] does.
 * It runs on a worker thread (on the engine's thread in serial mode),
 * possibly on several threads at once.
 *
 * Since: 1.0
 */
typedef void (*AgRangeFunc)    (AgChunk      *chunk,
                                guint         position,
                                gpointer      user_data);

/**
 * AgRangesFunc:
 * @chunk: the handle of these children: return their values or errors
 *   through it, in order
 * @position: the position of the first child to make a value for
 * @n_items: how many children, from @position on
 * @user_data: the data given with the function
 *
 * Makes the values of @n_items children of a
 * [ctor@MultiTask.new_map_ranges] MultiTask, from @position on, in one
 * call: each `ag_chunk_return_*()` call answers the next of them, in
 * order ([method@Chunk.get_position] says which), and
 * [method@Chunk.return_values] answers several at once. A child the
 * function leaves unanswered fails with %AG_ERROR_NO_RESULT; an error
 * fails only the child it answers, and the function goes on with the next.
 *
 * One call per range instead of one per child is what makes a binding's
 * map fast: a call from C into an interpreter costs more than a trivial
 * function. It runs on a worker thread (on the engine's thread in serial
 * mode), possibly on several threads at once, each with its own @chunk.
 *
 * Since: 1.0
 */
typedef void (*AgRangesFunc)   (AgChunk      *chunk,
                                guint         position,
                                guint         n_items,
                                gpointer      user_data);

/**
 * AgPipelineFunc:
 * @chunk: the handle of this input: emit and return outputs through it
 * @item: (nullable): the input; %NULL when [property@Pipeline:apply-single]
 *   is unset: the function then works on the whole chunk, whose inputs
 *   [method@Chunk.dup_items] gives (in C, without copies,
 *   `ag_chunk_peek_items()`)
 * @user_data: the data given with the function
 *
 * Turns one input of a [class@Pipeline], or a whole chunk of them, into
 * outputs: any number of them with [method@Chunk.emit], then one of the
 * `ag_chunk_return_*()` functions, once: [method@Chunk.return_value] adds a
 * last output, [method@Chunk.return_nothing] none, and
 * [method@Chunk.return_error] fails the input, which ends the pipeline
 * after the outputs of the inputs before it.
 *
 * It runs on a worker thread (on the engine's thread in serial mode),
 * possibly on several threads at once, each with its own @chunk.
 *
 * Since: 1.0
 */
typedef void (*AgPipelineFunc) (AgChunk      *chunk,
                                const GValue *item,
                                gpointer      user_data);

AG_AVAILABLE_IN_1_0
guint64       ag_chunk_get_position     (AgChunk      *self);
AG_AVAILABLE_IN_1_0
GCancellable *ag_chunk_get_cancellable  (AgChunk      *self);
AG_AVAILABLE_IN_1_0
GArray       *ag_chunk_dup_items        (AgChunk      *self) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
const GValue *ag_chunk_peek_items       (AgChunk      *self,
                                         guint        *n_items);

AG_AVAILABLE_IN_1_0
void          ag_chunk_return_value     (AgChunk      *self,
                                         const GValue *value);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_nothing   (AgChunk      *self);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_boolean   (AgChunk      *self,
                                         gboolean      value);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_int       (AgChunk      *self,
                                         int           value);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_uint      (AgChunk      *self,
                                         guint         value);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_int64     (AgChunk      *self,
                                         gint64        value);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_uint64    (AgChunk      *self,
                                         guint64       value);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_double    (AgChunk      *self,
                                         double        value);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_string    (AgChunk      *self,
                                         const char   *value);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_object    (AgChunk      *self,
                                         gpointer      object);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_variant   (AgChunk      *self,
                                         GVariant     *variant);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_values    (AgChunk      *self,
                                         const GValue *values,
                                         guint         n_values);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_int64s    (AgChunk      *self,
                                         const gint64 *values,
                                         guint         n_values);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_doubles   (AgChunk      *self,
                                         const double *values,
                                         guint         n_values);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_packed    (AgChunk      *self,
                                         GType         value_type,
                                         const guint8 *data,
                                         gsize         size);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_error     (AgChunk      *self,
                                         GError       *error);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_error_full (AgChunk     *self,
                                         GError       *error,
                                         const GValue *detail);
AG_AVAILABLE_IN_1_0
void          ag_chunk_return_new_error (AgChunk      *self,
                                         GQuark        domain,
                                         int           code,
                                         const char   *format,
                                         ...) G_GNUC_PRINTF (4, 5);
AG_AVAILABLE_IN_1_0
void          ag_chunk_emit             (AgChunk      *self,
                                         const GValue *value);

G_END_DECLS
