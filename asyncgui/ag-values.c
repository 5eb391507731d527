/* ag-values.c: arrays of GValue
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-values-private.h"

static void
clear_value (gpointer data)
{
  GValue *value = data;

  /* Not G_IS_VALUE(): on an emptied slot (type 0) that takes GType's
   * global lock, and pipelines empty slots by the million. */
  if (G_VALUE_TYPE (value) != G_TYPE_INVALID)
    g_value_unset (value);
}

/* A zero-filled GArray of GValue that unsets its values when it goes;
 * slots zeroed after their value was moved out are skipped. */
GArray *
_ag_value_array_new (guint reserved)
{
  GArray *array = g_array_sized_new (FALSE, TRUE, sizeof (GValue), reserved);

  g_array_set_clear_func (array, clear_value);
  return array;
}
