/* ag-delivery-source-private.h: the one GSource that brings results home
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

#include "ag-completion-queue-private.h"

G_BEGIN_DECLS

/* Budget, priority and maximum delay are set by the owner after creation. */
GSource  *_ag_delivery_source_new            (gpointer           owner,
                                              AgCompletionQueue *queue);
void      _ag_delivery_source_attach         (GSource           *source,
                                              GMainContext      *context);
void      _ag_delivery_source_set_budget_us  (GSource           *source,
                                              int                budget_us);
void      _ag_delivery_source_set_max_delay_ms (GSource         *source,
                                              guint              max_delay_ms);
gboolean  _ag_delivery_source_is_delivering  (GSource           *source);
void      _ag_delivery_source_hold_notify    (GSource           *source,
                                              GObject           *object);
void      _ag_delivery_source_detach_owner   (GSource           *source);

/* For tests only: called on the delivering thread as every dispatch of
 * every delivery source begins (@begin TRUE) and ends, watchdog turns
 * included, so that a test can time each one. Set it on that thread while
 * nothing delivers; NULL removes it. */
typedef void (*AgDeliveryHook) (GSource  *source,
                                gboolean  begin,
                                gpointer  user_data);

void      _ag_delivery_source_set_hook       (AgDeliveryHook     hook,
                                              gpointer           user_data);

G_END_DECLS
