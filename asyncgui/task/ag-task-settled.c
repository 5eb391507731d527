/* ag-task-settled.c: tasks whose outcome their owner sets, such as the
 * rows of a mapping MultiTask
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-task-internal.h"
#include "ag-values-private.h"

/* Such a task is running from the start, without an engine: it cannot be
 * run or cancelled on its own, and ends when its owner settles it (or
 * _ag_task_end_quietly() ends it with the owner's engine). A mapping
 * MultiTask makes one for each row a list view asks for, and settles it
 * when that input is done. */

AgTask *
_ag_task_new_settled_by_owner (void)
{
  AgTask *self = g_object_new (AG_TYPE_TASK, NULL);
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  priv->settled_by_owner = TRUE;
  priv->state = AG_TASK_RUNNING;

  return self;
}

/* Ends the task with @value, or with @error and its @detail. */
void
_ag_task_settle (AgTask       *self,
                 const GValue *value,
                 const GError *error,
                 const GValue *detail)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  g_return_if_fail (priv->settled_by_owner && !_ag_task_state_is_final (priv->state));

  if (error != NULL)
    {
      _ag_task_ensure_extras (priv)->error = g_error_copy (error);
      priv->state = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                      ? AG_TASK_CANCELLED : AG_TASK_FAILED;
      if (detail != NULL && G_IS_VALUE (detail))
        {
          _ag_value_init_copy (&priv->value, detail);
          priv->value_is_detail = TRUE;
        }
      g_object_notify (G_OBJECT (self), "error");
    }
  else
    {
      if (value != NULL && G_IS_VALUE (value))
        _ag_value_init_copy (&priv->value, value);
      priv->state = AG_TASK_SUCCEEDED;
      _ag_task_set_progress_now (self, 1.0);
    }

  g_atomic_int_set (&priv->finished, TRUE);
  if (priv->state == AG_TASK_SUCCEEDED)
    _ag_task_notify_succeeded (self);
  else
    _ag_task_notify_state (self);
}
