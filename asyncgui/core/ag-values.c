/* ag-values.c: copying and dropping GValues fast, and arrays of them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "ag-values-private.h"

/* Whether values of @type are plain numbers or pointers: their bytes are
 * the whole value, with nothing to reference or free. GObject's own value
 * table copies them bytewise and frees nothing. */
static inline gboolean
is_plain (GType type)
{
  /* Fundamental types are the common case and need no look-up. */
  switch (G_TYPE_IS_FUNDAMENTAL (type) ? type : g_type_fundamental (type))
    {
    case G_TYPE_CHAR:
    case G_TYPE_UCHAR:
    case G_TYPE_BOOLEAN:
    case G_TYPE_INT:
    case G_TYPE_UINT:
    case G_TYPE_LONG:
    case G_TYPE_ULONG:
    case G_TYPE_INT64:
    case G_TYPE_UINT64:
    case G_TYPE_ENUM:
    case G_TYPE_FLAGS:
    case G_TYPE_FLOAT:
    case G_TYPE_DOUBLE:
    case G_TYPE_POINTER:
      return TRUE;
    default:
      return FALSE;
    }
}

/* Whether unsetting a value of @type frees anything. Values that own
 * nothing (numbers, booleans, plain pointers) can then be dropped a million
 * at a time without visiting each one. */
gboolean
_ag_value_type_needs_clear (GType type)
{
  GTypeValueTable *table;

  if (is_plain (type))
    return FALSE;

  table = g_type_value_table_peek (type);
  return table == NULL || table->value_free != NULL;
}

/* g_value_init() and g_value_copy() of @src into the zeroed @dest. Channels
 * copy every item written: for numbers this skips the two type-table look-
 * ups, which cost more than the rest of a write. */
void
_ag_value_init_copy (GValue       *dest,
                     const GValue *src)
{
  GType type = G_VALUE_TYPE (src);

  if (is_plain (type))
    {
      *dest = *src;
      return;
    }

  g_value_init (dest, type);
  g_value_copy (src, dest);
}

/* Unsets @value if it holds one; a zeroed slot (a value moved out) is
 * skipped. Not G_IS_VALUE(): on type 0 that takes GType's global lock, and
 * pipelines empty slots by the million. */
void
_ag_value_clear (GValue *value)
{
  GType type = G_VALUE_TYPE (value);

  if (type == G_TYPE_INVALID)
    return;

  if (is_plain (type))
    memset (value, 0, sizeof (GValue));
  else
    g_value_unset (value);
}

static void
clear_value (gpointer data)
{
  _ag_value_clear (data);
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

/* Takes @error; copies @detail, which may be NULL. */
AgFailure *
_ag_failure_new (GError       *error,
                 const GValue *detail)
{
  AgFailure *failure = g_new0 (AgFailure, 1);

  failure->error = error;
  if (detail != NULL && G_IS_VALUE (detail))
    _ag_value_init_copy (&failure->detail, detail);

  return failure;
}

void
_ag_failure_free (AgFailure *failure)
{
  g_clear_error (&failure->error);
  if (G_IS_VALUE (&failure->detail))
    g_value_unset (&failure->detail);
  g_free (failure);
}

const GValue *
_ag_failure_get_detail (const AgFailure *failure)
{
  return G_IS_VALUE (&failure->detail) ? &failure->detail : NULL;
}
