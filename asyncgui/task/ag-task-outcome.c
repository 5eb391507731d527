/* ag-task-outcome.c: how a task's outcome is returned, from any thread,
 * and read on the engine's thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "ag-task-internal.h"
#include "ag-values-private.h"

/* A task returns once: the thread that wins `returned` writes the value or
 * the error, then the outcome travels to the engine's thread on the
 * completion queue (ag-task.c). It becomes public there, only if the task
 * was not cancelled first. */

/* Claims the one return a task gets. The loser is a programming error
 * unless it is the library's own fallback. */
gboolean
_ag_task_claim_return (AgTask     *self,
                       const char *strfunc,
                       gboolean    quiet)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  if (priv->queue == NULL)
    {
      g_critical ("%s: the task %p is not running; only a running task can return", strfunc, self);
      return FALSE;
    }

  if (!g_atomic_int_compare_and_exchange (&priv->returned, 0, 1))
    {
      if (!quiet)
        g_critical ("%s: the task %p already returned; a task returns once", strfunc, self);
      return FALSE;
    }

  return TRUE;
}

/* Moves @value (which may be NULL: no value) into the task's return. */
static void
return_moved_value (AgTask     *self,
                    GValue     *value,
                    const char *strfunc)
{
  AgTaskPrivate *priv;

  if (!_ag_task_claim_return (self, strfunc, FALSE))
    {
      if (value != NULL && G_IS_VALUE (value))
        g_value_unset (value);
      return;
    }

  priv = _ag_task_get_priv (self);
  if (value != NULL && G_IS_VALUE (value))
    {
      priv->value = *value;
      memset (value, 0, sizeof *value);
    }

  _ag_task_deliver_returned (self);
}

/* Like ag_task_return_value(), taking @value (NULL for no value) without a
 * copy: a multi-task's array of a million values is not copied. */
void
_ag_task_return_take_value (AgTask *self,
                            GValue *value)
{
  return_moved_value (self, value, G_STRFUNC);
}

/**
 * ag_task_get_value:
 * @self: a task
 *
 * Gets the value the task succeeded with.
 *
 * Thread: the engine's, or any thread once the task has finished.
 *
 * Returns: (transfer none) (nullable): the task's value, or %NULL if it has
 *   none (not finished, failed, or succeeded without a value)
 *
 * Since: 1.0
 */
const GValue *
ag_task_get_value (AgTask *self)
{
  AgTaskPrivate *priv;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  priv = _ag_task_get_priv (self);
  if (priv->state != AG_TASK_SUCCEEDED || !G_IS_VALUE (&priv->value))
    return NULL;

  return &priv->value;
}

/* The typed getters return the zero value when there is no value (the task
 * failed, say), and complain only when there is a value of another type:
 * that is a programming error. */
static const GValue *
typed_value (AgTask     *self,
             GType       type,
             const char *strfunc)
{
  const GValue *value = ag_task_get_value (self);

  if (value == NULL)
    return NULL;

  if (!G_VALUE_HOLDS (value, type))
    {
      g_critical ("%s: the task's value is a %s, not a %s", strfunc,
                  G_VALUE_TYPE_NAME (value), g_type_name (type));
      return NULL;
    }

  return value;
}

/**
 * ag_task_get_int:
 * @self: a task
 *
 * Gets the integer the task succeeded with.
 *
 * Thread: the engine's, or any thread once the task has finished.
 *
 * Returns: the value, or 0 if there is none
 *
 * Since: 1.0
 */
int
ag_task_get_int (AgTask *self)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), 0);

  value = typed_value (self, G_TYPE_INT, G_STRFUNC);
  return value != NULL ? g_value_get_int (value) : 0;
}

/**
 * ag_task_get_boolean:
 * @self: a task
 *
 * Gets the boolean the task succeeded with.
 *
 * Thread: the engine's, or any thread once the task has finished.
 *
 * Returns: the value, or %FALSE if there is none
 *
 * Since: 1.0
 */
gboolean
ag_task_get_boolean (AgTask *self)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), FALSE);

  value = typed_value (self, G_TYPE_BOOLEAN, G_STRFUNC);
  return value != NULL ? g_value_get_boolean (value) : FALSE;
}

/**
 * ag_task_get_double:
 * @self: a task
 *
 * Gets the double the task succeeded with.
 *
 * Thread: the engine's, or any thread once the task has finished.
 *
 * Returns: the value, or 0 if there is none
 *
 * Since: 1.0
 */
double
ag_task_get_double (AgTask *self)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), 0.0);

  value = typed_value (self, G_TYPE_DOUBLE, G_STRFUNC);
  return value != NULL ? g_value_get_double (value) : 0.0;
}

/**
 * ag_task_get_string:
 * @self: a task
 *
 * Gets the string the task succeeded with.
 *
 * Thread: the engine's, or any thread once the task has finished.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL if there is none
 *
 * Since: 1.0
 */
const char *
ag_task_get_string (AgTask *self)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  value = typed_value (self, G_TYPE_STRING, G_STRFUNC);
  return value != NULL ? g_value_get_string (value) : NULL;
}

/**
 * ag_task_get_object:
 * @self: a task
 *
 * Gets the object the task succeeded with.
 *
 * Thread: the engine's, or any thread once the task has finished.
 *
 * Returns: (transfer none) (nullable) (type GObject): the value, or %NULL if
 *   there is none
 *
 * Since: 1.0
 */
gpointer
ag_task_get_object (AgTask *self)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  value = typed_value (self, G_TYPE_OBJECT, G_STRFUNC);
  return value != NULL ? g_value_get_object (value) : NULL;
}

/**
 * ag_task_get_variant:
 * @self: a task
 *
 * Gets the variant the task succeeded with.
 *
 * Thread: the engine's, or any thread once the task has finished.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL if there is none
 *
 * Since: 1.0
 */
GVariant *
ag_task_get_variant (AgTask *self)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  value = typed_value (self, G_TYPE_VARIANT, G_STRFUNC);
  return value != NULL ? g_value_get_variant (value) : NULL;
}

/**
 * ag_task_get_pointer: (skip)
 * @self: a task
 *
 * Gets the pointer the task succeeded with. The task keeps owning it.
 *
 * Thread: the engine's, or any thread once the task has finished.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL if there is none
 *
 * Since: 1.0
 */
gpointer
ag_task_get_pointer (AgTask *self)
{
  const GValue *value;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  value = typed_value (self, G_TYPE_POINTER, G_STRFUNC);
  return value != NULL ? g_value_get_pointer (value) : NULL;
}

/**
 * ag_task_return_value:
 * @self: a running task
 * @value: (nullable): the value, copied; %NULL to succeed without one
 *
 * Ends the task with a copy of @value. May be called from any thread, once.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_value (AgTask       *self,
                      const GValue *value)
{
  g_auto(GValue) copy = G_VALUE_INIT;

  g_return_if_fail (AG_IS_TASK (self));
  g_return_if_fail (value == NULL || G_IS_VALUE (value));

  if (value != NULL)
    _ag_value_init_copy (&copy, value);

  return_moved_value (self, &copy, G_STRFUNC);
}

/**
 * ag_task_return_int:
 * @self: a running task
 * @value: the value
 *
 * Ends the task with an integer. May be called from any thread, once.
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
  return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_boolean:
 * @self: a running task
 * @value: the value
 *
 * Ends the task with a boolean. May be called from any thread, once.
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
  return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_double:
 * @self: a running task
 * @value: the value
 *
 * Ends the task with a double. May be called from any thread, once.
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
  return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_string:
 * @self: a running task
 * @value: (nullable): the value, copied
 *
 * Ends the task with a copy of a string. May be called from any thread,
 * once.
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
  return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_object:
 * @self: a running task
 * @object: (nullable) (type GObject): the value; the task takes a reference
 *
 * Ends the task with an object. May be called from any thread, once. The
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
  return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_variant:
 * @self: a running task
 * @variant: (nullable): the value; a floating reference is taken
 *
 * Ends the task with a variant. May be called from any thread, once.
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
  return_moved_value (self, &v, G_STRFUNC);
}

/**
 * ag_task_return_pointer: (skip)
 * @self: a running task
 * @pointer: (nullable): the value; the task owns it
 * @destroy: (nullable): frees @pointer with the task, or when nobody will
 *   see it (the task was cancelled first)
 *
 * Ends the task with a pointer. May be called from any thread, once.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_pointer (AgTask         *self,
                        gpointer        pointer,
                        GDestroyNotify  destroy)
{
  AgTaskPrivate *priv;

  g_return_if_fail (AG_IS_TASK (self));

  priv = _ag_task_get_priv (self);
  if (!_ag_task_claim_return (self, G_STRFUNC, FALSE))
    {
      if (destroy != NULL && pointer != NULL)
        destroy (pointer);
      return;
    }

  g_value_init (&priv->value, G_TYPE_POINTER);
  g_value_set_pointer (&priv->value, pointer);
  priv->pointer_destroy = destroy;

  _ag_task_deliver_returned (self);
}

/* A failure keeps its detail in the slot a success keeps its value in. */
static void
return_error (AgTask       *self,
              GError       *error,
              const GValue *detail,
              const char   *strfunc)
{
  AgTaskPrivate *priv;

  if (!_ag_task_claim_return (self, strfunc, FALSE))
    {
      g_error_free (error);
      return;
    }

  priv = _ag_task_get_priv (self);
  priv->returned_error = error;
  if (detail != NULL)
    {
      _ag_value_init_copy (&priv->value, detail);
      priv->value_is_detail = TRUE;
    }

  _ag_task_deliver_returned (self);
}

/**
 * ag_task_return_error:
 * @self: a running task
 * @error: (transfer full): why the task failed
 *
 * Ends the task with an error. May be called from any thread, once. An
 * error of %G_IO_ERROR_CANCELLED ends it as cancelled.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_error (AgTask *self,
                      GError *error)
{
  g_return_if_fail (AG_IS_TASK (self));
  g_return_if_fail (error != NULL);

  return_error (self, error, NULL, G_STRFUNC);
}

/**
 * ag_task_return_error_full:
 * @self: a running task
 * @error: (transfer full): why the task failed
 * @detail: (nullable): more about the failure, copied: what the code that
 *   failed would like its caller to get back, such as a language's own
 *   exception object
 *
 * Ends the task with an error and a detail. The detail travels with the
 * error unchanged: a task that fails because this one did (a dependency, a
 * MultiTask child, a pipeline stage) fails with the same detail, and
 * [method@Task.get_error_detail] reads it. Language bindings use it to give
 * back the very exception a function raised, whatever C code it crossed.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_error_full (AgTask       *self,
                           GError       *error,
                           const GValue *detail)
{
  g_return_if_fail (AG_IS_TASK (self));
  g_return_if_fail (error != NULL);
  g_return_if_fail (detail == NULL || G_IS_VALUE (detail));

  return_error (self, error, detail, G_STRFUNC);
}

/**
 * ag_task_get_error_detail:
 * @self: a task
 *
 * Gets the detail the task failed with, if whoever failed it gave one with
 * [method@Task.return_error_full].
 *
 * Thread: the engine's, or any thread once the task has finished.
 *
 * Returns: (transfer none) (nullable): the detail, or %NULL if there is
 *   none (the task did not fail, or failed without a detail)
 *
 * Since: 1.0
 */
const GValue *
ag_task_get_error_detail (AgTask *self)
{
  AgTaskPrivate *priv;

  g_return_val_if_fail (AG_IS_TASK (self), NULL);

  priv = _ag_task_get_priv (self);
  if (!priv->value_is_detail || priv->error == NULL || !G_IS_VALUE (&priv->value))
    return NULL;

  return &priv->value;
}

/**
 * ag_task_return_new_error:
 * @self: a running task
 * @domain: the error domain
 * @code: the error code
 * @format: a printf()-style message for people
 * @...: the arguments of @format
 *
 * Ends the task with a new error. May be called from any thread, once.
 *
 * Thread: any.
 *
 * Since: 1.0
 */
void
ag_task_return_new_error (AgTask     *self,
                          GQuark      domain,
                          int         code,
                          const char *format,
                          ...)
{
  va_list args;
  GError *error;

  g_return_if_fail (AG_IS_TASK (self));
  g_return_if_fail (format != NULL);

  va_start (args, format);
  error = g_error_new_valist (domain, code, format, args);
  va_end (args);

  ag_task_return_error (self, error);
}
