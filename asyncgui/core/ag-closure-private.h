/* ag-closure-private.h: GClosures in place of callbacks, for bindings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

GClosure *_ag_closure_take        (GClosure     *closure);
void      _ag_closure_invoke_objects (GClosure *closure,
                                      GType     type1,
                                      gpointer  object1,
                                      GType     type2,
                                      gpointer  object2);
void      _ag_closure_invoke_item (GClosure     *closure,
                                   GType         type,
                                   gpointer      object,
                                   const GValue *item);
void      _ag_closure_async_ready (GObject      *source,
                                   GAsyncResult *result,
                                   gpointer      closure);
void      _ag_async_ready_forget  (GAsyncReadyCallback callback,
                                   gpointer            user_data);

G_END_DECLS
