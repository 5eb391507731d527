/* ag-task-typed.c: a task's value by type, returned and read
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-i18n-private.h"
#include "ag-error.h"
#include "ag-task-internal.h"

/* Each type has a pair: ag_task_return_T() wraps a T in a GValue and
 * returns it as ag_task_return_value() would; ag_task_get_T() reads it back
 * the way a `_finish` function reads a GAsyncResult: the value, or the
 * task's own error, or AG_ERROR_TYPE_MISMATCH when the value is of another
 * type. A mismatch can come from code far away (a worker, a binding, a
 * dependency), so it is an error to handle, not a programming error. */

/* The task's value if it holds a @type, else %NULL with @error set. A
 * success without a value is fine for the types that have a %NULL (@nullable)
 * and a mismatch for the others. */
static const GValue *
typed_value (AgTask      *self,
             GType        type,
             gboolean     nullable,
             GError     **error,
             const char  *strfunc)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);
  const GValue *value;
  const GError *failure;

  if (!g_atomic_int_get (&priv->finished))
    {
      g_critical ("%s: the task %p has not finished; it has no value yet", strfunc, self);
      return NULL;
    }

  failure = _ag_task_peek_error (priv);
  if (failure != NULL)
    {
      g_propagate_error (error, g_error_copy (failure));
      return NULL;
    }

  value = priv->state == AG_TASK_SUCCEEDED && G_IS_VALUE (&priv->value) ? &priv->value : NULL;
  if (value == NULL)
    {
      if (!nullable)
        g_set_error (error, AG_ERROR, AG_ERROR_TYPE_MISMATCH,
                     _("The task succeeded without a value, not with a %s"),
                     g_type_name (type));
      return NULL;
    }

  if (!G_VALUE_HOLDS (value, type))
    {
      g_set_error (error, AG_ERROR, AG_ERROR_TYPE_MISMATCH,
                   _("The task’s value is a %s, not a %s"),
                   G_VALUE_TYPE_NAME (value), g_type_name (type));
      return NULL;
    }

  return value;
}

/**
 * ag_task_get_boolean:
 * @self: a finished task
 * @error: return location for an error
 *
 * Gets the boolean the task succeeded with. If it failed or was cancelled,
 * @error is set to a copy of its error; if its value is not a boolean, to
 * %AG_ERROR_TYPE_MISMATCH. The other typed getters work the same way.
 *
 * Thread: any, once the task has finished.
 *
 * Returns: the value, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
ag_task_get_boolean (AgTask  *self,
                     GError **error)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  value = typed_value (self, G_TYPE_BOOLEAN, FALSE, error, G_STRFUNC);
  return value != NULL ? g_value_get_boolean (value) : FALSE;
}

/**
 * ag_task_get_int:
 * @self: a finished task
 * @error: return location for an error
 *
 * Gets the integer the task succeeded with, as ag_task_get_boolean() does.
 *
 * Thread: any, once the task has finished.
 *
 * Returns: the value, or 0 with @error set
 *
 * Since: 1.0
 */
int
ag_task_get_int (AgTask  *self,
                 GError **error)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  value = typed_value (self, G_TYPE_INT, FALSE, error, G_STRFUNC);
  return value != NULL ? g_value_get_int (value) : 0;
}

/**
 * ag_task_get_uint:
 * @self: a finished task
 * @error: return location for an error
 *
 * Gets the unsigned integer the task succeeded with, as
 * ag_task_get_boolean() does.
 *
 * Thread: any, once the task has finished.
 *
 * Returns: the value, or 0 with @error set
 *
 * Since: 1.0
 */
guint
ag_task_get_uint (AgTask  *self,
                  GError **error)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  value = typed_value (self, G_TYPE_UINT, FALSE, error, G_STRFUNC);
  return value != NULL ? g_value_get_uint (value) : 0;
}

/**
 * ag_task_get_int64:
 * @self: a finished task
 * @error: return location for an error
 *
 * Gets the 64-bit integer the task succeeded with, as
 * ag_task_get_boolean() does.
 *
 * Thread: any, once the task has finished.
 *
 * Returns: the value, or 0 with @error set
 *
 * Since: 1.0
 */
gint64
ag_task_get_int64 (AgTask  *self,
                   GError **error)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  value = typed_value (self, G_TYPE_INT64, FALSE, error, G_STRFUNC);
  return value != NULL ? g_value_get_int64 (value) : 0;
}

/**
 * ag_task_get_uint64:
 * @self: a finished task
 * @error: return location for an error
 *
 * Gets the unsigned 64-bit integer the task succeeded with, as
 * ag_task_get_boolean() does.
 *
 * Thread: any, once the task has finished.
 *
 * Returns: the value, or 0 with @error set
 *
 * Since: 1.0
 */
guint64
ag_task_get_uint64 (AgTask  *self,
                    GError **error)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  value = typed_value (self, G_TYPE_UINT64, FALSE, error, G_STRFUNC);
  return value != NULL ? g_value_get_uint64 (value) : 0;
}

/**
 * ag_task_get_double:
 * @self: a finished task
 * @error: return location for an error
 *
 * Gets the double the task succeeded with, as ag_task_get_boolean() does.
 *
 * Thread: any, once the task has finished.
 *
 * Returns: the value, or 0.0 with @error set
 *
 * Since: 1.0
 */
double
ag_task_get_double (AgTask  *self,
                    GError **error)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), 0.0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0.0);

  value = typed_value (self, G_TYPE_DOUBLE, FALSE, error, G_STRFUNC);
  return value != NULL ? g_value_get_double (value) : 0.0;
}

/**
 * ag_task_get_enum:
 * @self: a finished task
 * @error: return location for an error
 *
 * Gets the enumeration value the task succeeded with (of any enumeration
 * type), as ag_task_get_boolean() does.
 *
 * Thread: any, once the task has finished.
 *
 * Returns: the value, or 0 with @error set
 *
 * Since: 1.0
 */
int
ag_task_get_enum (AgTask  *self,
                  GError **error)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  value = typed_value (self, G_TYPE_ENUM, FALSE, error, G_STRFUNC);
  return value != NULL ? g_value_get_enum (value) : 0;
}

/**
 * ag_task_get_flags:
 * @self: a finished task
 * @error: return location for an error
 *
 * Gets the flags the task succeeded with (of any flags type), as
 * ag_task_get_boolean() does.
 *
 * Thread: any, once the task has finished.
 *
 * Returns: the value, or 0 with @error set
 *
 * Since: 1.0
 */
guint
ag_task_get_flags (AgTask  *self,
                   GError **error)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  value = typed_value (self, G_TYPE_FLAGS, FALSE, error, G_STRFUNC);
  return value != NULL ? g_value_get_flags (value) : 0;
}

/**
 * ag_task_get_string:
 * @self: a finished task
 * @error: return location for an error
 *
 * Gets the string the task succeeded with, as ag_task_get_boolean() does.
 * A task that succeeded without a value gives %NULL without an error.
 *
 * Thread: any, once the task has finished.
 *
 * Returns: (transfer none) (nullable): the value, owned by the task
 *
 * Since: 1.0
 */
const char *
ag_task_get_string (AgTask  *self,
                    GError **error)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  value = typed_value (self, G_TYPE_STRING, TRUE, error, G_STRFUNC);
  return value != NULL ? g_value_get_string (value) : NULL;
}

/**
 * ag_task_get_object:
 * @self: a finished task
 * @error: return location for an error
 *
 * Gets the object the task succeeded with, as ag_task_get_string() does.
 *
 * Thread: any, once the task has finished.
 *
 * Returns: (transfer none) (nullable) (type GObject): the value, owned by
 *   the task
 *
 * Since: 1.0
 */
gpointer
ag_task_get_object (AgTask  *self,
                    GError **error)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  value = typed_value (self, G_TYPE_OBJECT, TRUE, error, G_STRFUNC);
  return value != NULL ? g_value_get_object (value) : NULL;
}

/**
 * ag_task_get_boxed: (skip)
 * @self: a finished task
 * @error: return location for an error
 *
 * Gets the boxed value the task succeeded with (of any boxed type), as
 * ag_task_get_string() does. Bindings read [method@Task.get_value].
 *
 * Thread: any, once the task has finished.
 *
 * Returns: (transfer none) (nullable): the value, owned by the task
 *
 * Since: 1.0
 */
gpointer
ag_task_get_boxed (AgTask  *self,
                   GError **error)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  value = typed_value (self, G_TYPE_BOXED, TRUE, error, G_STRFUNC);
  return value != NULL ? g_value_get_boxed (value) : NULL;
}

/**
 * ag_task_get_variant:
 * @self: a finished task
 * @error: return location for an error
 *
 * Gets the variant the task succeeded with, as ag_task_get_string() does.
 *
 * Thread: any, once the task has finished.
 *
 * Returns: (transfer none) (nullable): the value, owned by the task
 *
 * Since: 1.0
 */
GVariant *
ag_task_get_variant (AgTask  *self,
                     GError **error)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  value = typed_value (self, G_TYPE_VARIANT, TRUE, error, G_STRFUNC);
  return value != NULL ? g_value_get_variant (value) : NULL;
}

/**
 * ag_task_get_pointer: (skip)
 * @self: a finished task
 * @error: return location for an error
 *
 * Gets the pointer the task succeeded with (see
 * ag_task_return_pointer()), as ag_task_get_string() does.
 *
 * Thread: any, once the task has finished.
 *
 * Returns: (transfer none) (nullable): the value, owned by the task
 *
 * Since: 1.0
 */
gpointer
ag_task_get_pointer (AgTask  *self,
                     GError **error)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  value = typed_value (self, G_TYPE_POINTER, TRUE, error, G_STRFUNC);
  return value != NULL ? g_value_get_pointer (value) : NULL;
}

/* The returns. Each may be called from any thread, once. */

/**
 * ag_task_return_boolean:
 * @self: a running task
 * @value: the value
 *
 * Ends the task with a boolean, as [method@Task.return_value] does.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_boolean (AgTask   *self,
                        gboolean  value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));

  g_value_init (&v, G_TYPE_BOOLEAN);
  g_value_set_boolean (&v, value);
  _ag_task_return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_int:
 * @self: a running task
 * @value: the value
 *
 * Ends the task with an integer, as [method@Task.return_value] does.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_int (AgTask *self,
                    int     value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));

  g_value_init (&v, G_TYPE_INT);
  g_value_set_int (&v, value);
  _ag_task_return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_uint:
 * @self: a running task
 * @value: the value
 *
 * Ends the task with an unsigned integer, as [method@Task.return_value]
 * does.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_uint (AgTask *self,
                     guint   value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));

  g_value_init (&v, G_TYPE_UINT);
  g_value_set_uint (&v, value);
  _ag_task_return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_int64:
 * @self: a running task
 * @value: the value
 *
 * Ends the task with a 64-bit integer, as [method@Task.return_value] does.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_int64 (AgTask *self,
                      gint64  value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));

  g_value_init (&v, G_TYPE_INT64);
  g_value_set_int64 (&v, value);
  _ag_task_return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_uint64:
 * @self: a running task
 * @value: the value
 *
 * Ends the task with an unsigned 64-bit integer, as
 * [method@Task.return_value] does.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_uint64 (AgTask  *self,
                       guint64  value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));

  g_value_init (&v, G_TYPE_UINT64);
  g_value_set_uint64 (&v, value);
  _ag_task_return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_double:
 * @self: a running task
 * @value: the value
 *
 * Ends the task with a double, as [method@Task.return_value] does.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_double (AgTask *self,
                       double  value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));

  g_value_init (&v, G_TYPE_DOUBLE);
  g_value_set_double (&v, value);
  _ag_task_return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_enum:
 * @self: a running task
 * @enum_type: an enumeration type
 * @value: the value
 *
 * Ends the task with a value of @enum_type, as [method@Task.return_value]
 * does.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_enum (AgTask *self,
                     GType   enum_type,
                     int     value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));
  g_return_if_fail (G_TYPE_IS_ENUM (enum_type));

  g_value_init (&v, enum_type);
  g_value_set_enum (&v, value);
  _ag_task_return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_flags:
 * @self: a running task
 * @flags_type: a flags type
 * @value: the value
 *
 * Ends the task with a value of @flags_type, as [method@Task.return_value]
 * does.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_flags (AgTask *self,
                      GType   flags_type,
                      guint   value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));
  g_return_if_fail (G_TYPE_IS_FLAGS (flags_type));

  g_value_init (&v, flags_type);
  g_value_set_flags (&v, value);
  _ag_task_return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_string:
 * @self: a running task
 * @value: (nullable): the value, copied
 *
 * Ends the task with a copy of a string, as [method@Task.return_value]
 * does.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_string (AgTask     *self,
                       const char *value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));

  g_value_init (&v, G_TYPE_STRING);
  g_value_set_string (&v, value);
  _ag_task_return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_object:
 * @self: a running task
 * @object: (nullable) (type GObject): the value; the task takes a reference
 *
 * Ends the task with an object, as [method@Task.return_value] does. The
 * object is finally released on the engine's thread.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_object (AgTask   *self,
                       gpointer  object)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));
  g_return_if_fail (object == NULL || G_IS_OBJECT (object));

  g_value_init (&v, object != NULL ? G_OBJECT_TYPE (object) : G_TYPE_OBJECT);
  g_value_set_object (&v, object);
  _ag_task_return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_boxed: (skip)
 * @self: a running task
 * @boxed_type: a boxed type
 * @boxed: (nullable): the value, copied with g_boxed_copy()
 *
 * Ends the task with a copy of a value of @boxed_type, as
 * [method@Task.return_value] does. Bindings call
 * [method@Task.return_value].
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_boxed (AgTask        *self,
                      GType          boxed_type,
                      gconstpointer  boxed)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));
  g_return_if_fail (G_TYPE_IS_BOXED (boxed_type) && boxed_type != G_TYPE_BOXED);

  g_value_init (&v, boxed_type);
  g_value_set_boxed (&v, boxed);
  _ag_task_return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_variant:
 * @self: a running task
 * @variant: (nullable): the value; a floating reference is taken
 *
 * Ends the task with a variant, as [method@Task.return_value] does.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_variant (AgTask   *self,
                        GVariant *variant)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));

  g_value_init (&v, G_TYPE_VARIANT);
  g_value_set_variant (&v, variant);
  _ag_task_return_moved_value (self, &v, G_STRFUNC);
}
