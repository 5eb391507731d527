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

/* An error and the detail that travels with it (see
 * ag_task_return_error_full()): a GValue, unset when there is none. */
typedef struct
{
  GError *error;
  GValue  detail;
} AgFailure;

AgFailure    *_ag_failure_new        (GError       *error,
                                      const GValue *detail);
void          _ag_failure_free       (AgFailure    *failure);
const GValue *_ag_failure_get_detail (const AgFailure *failure);

G_END_DECLS
