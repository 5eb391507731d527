/* ag-task-outcome.c: how a task's outcome is returned, from any thread,
 * and read on the engine's thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "ag-task-internal.h"
#include "ag-values-private.h"

/* A task returns once: the thread that sets AG_TASK_ONCE_RETURNED writes
 * the value or the error, then the outcome travels to the engine's thread
 * on the completion queue (ag-task.c). It becomes public there, only if the
 * task was not cancelled first. */

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

  if (!_ag_task_set_once (priv, AG_TASK_ONCE_RETURNED))
    {
      if (!quiet)
        g_critical ("%s: the task %p already returned; a task returns once", strfunc, self);
      return FALSE;
    }

  return TRUE;
}

/* Moves @value (which may be NULL: no value) into the task's return;
 * @strfunc names the public function in a complaint. */
void
_ag_task_return_moved_value (AgTask     *self,
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
  _ag_task_return_moved_value (self, value, G_STRFUNC);
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

  _ag_task_return_moved_value (self, &copy, G_STRFUNC);
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
  if (destroy != NULL)
    _ag_task_ensure_extras (priv)->pointer_destroy = destroy;

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
  _ag_task_ensure_extras (priv)->returned_error = error;
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
  if (!priv->value_is_detail || _ag_task_peek_error (priv) == NULL || !G_IS_VALUE (&priv->value))
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
