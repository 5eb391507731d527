/* ag-values-private.h: copying and dropping GValues fast, and arrays of
 * them as channels, pipelines and MultiTasks hand them out
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

GArray  *_ag_value_array_new        (guint         reserved);
void     _ag_value_init_copy        (GValue       *dest,
                                     const GValue *src);
void     _ag_value_clear            (GValue       *value);
gboolean _ag_value_type_needs_clear (GType         type);

G_END_DECLS
