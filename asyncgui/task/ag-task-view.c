/* ag-task-view.c: the rows of a mapping MultiTask, made when a list view
 * asks for them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-task-internal.h"
#include "ag-values-private.h"

/* A view mirrors one input of a mapping MultiTask: it is running from the
 * start, cannot be run or cancelled on its own, and is settled by its
 * MultiTask when that input is done. */

AgTask *
_ag_task_new_view (void)
{
  AgTask *self = g_object_new (AG_TYPE_TASK, NULL);
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  priv->is_view = TRUE;
  priv->state = AG_TASK_RUNNING;

  return self;
}

void
_ag_task_settle_view (AgTask       *self,
                      const GValue *value,
                      const GError *error)
{
  AgTaskPrivate *priv = _ag_task_get_priv (self);

  g_return_if_fail (priv->is_view && !_ag_task_state_is_final (priv->state));

  if (error != NULL)
    {
      priv->error = g_error_copy (error);
      priv->state = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                      ? AG_TASK_CANCELLED : AG_TASK_FAILED;
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
  _ag_task_notify_state (self);
}
