/* ag-slot.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include "ag-version-macros.h"
#include <gio/gio.h>

#include "ag-engine.h"
#include "ag-task.h"

G_BEGIN_DECLS

#define AG_TYPE_SLOT (ag_slot_get_type ())

AG_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AgSlot, ag_slot, AG, SLOT, GObject)

AG_AVAILABLE_IN_1_0
AgSlot       *ag_slot_new               (AgEngine            *engine) G_GNUC_WARN_UNUSED_RESULT;

AG_AVAILABLE_IN_1_0
AgEngine     *ag_slot_get_engine        (AgSlot              *self);
AG_AVAILABLE_IN_1_0
gboolean      ag_slot_get_busy          (AgSlot              *self);
AG_AVAILABLE_IN_1_0
AgTask       *ag_slot_get_task          (AgSlot              *self);
AG_AVAILABLE_IN_1_0
guint         ag_slot_get_debounce_ms   (AgSlot              *self);
AG_AVAILABLE_IN_1_0
void          ag_slot_set_debounce_ms   (AgSlot              *self,
                                         guint                debounce_ms);
AG_AVAILABLE_IN_1_0
guint         ag_slot_get_throttle_ms   (AgSlot              *self);
AG_AVAILABLE_IN_1_0
void          ag_slot_set_throttle_ms   (AgSlot              *self,
                                         guint                throttle_ms);

AG_AVAILABLE_IN_1_0
void          ag_slot_run_async         (AgSlot              *self,
                                         AgTask              *task,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
AG_AVAILABLE_IN_1_0
void          ag_slot_run_with_closure  (AgSlot              *self,
                                         AgTask              *task,
                                         GCancellable        *cancellable,
                                         GClosure            *callback);
AG_AVAILABLE_IN_1_0
GValue       *ag_slot_run_finish        (AgSlot              *self,
                                         GAsyncResult        *result,
                                         GError             **error);
AG_AVAILABLE_IN_1_0
void          ag_slot_cancel            (AgSlot              *self);
AG_AVAILABLE_IN_1_0
gboolean      ag_slot_is_latest         (AgSlot              *self,
                                         AgTask              *task);

G_END_DECLS
