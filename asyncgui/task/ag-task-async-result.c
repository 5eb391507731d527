/* ag-task-async-result.c: a task is the GAsyncResult of its own run
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-task-internal.h"

/* ag_engine_run_async() hands its callback the task itself, as GTask is
 * handed to its own: the engine is the source object, the run's user data
 * the user data, and ag_engine_run_async the source tag. */

static gpointer
ag_task_async_result_get_user_data (GAsyncResult *result)
{
  return _ag_task_get_priv (AG_TASK (result))->callback_data;
}

static GObject *
ag_task_async_result_get_source_object (GAsyncResult *result)
{
  AgEngine *engine = _ag_task_get_live_engine (AG_TASK (result));

  return engine != NULL ? g_object_ref (G_OBJECT (engine)) : NULL;
}

static gboolean
ag_task_async_result_is_tagged (GAsyncResult *result,
                                gpointer      source_tag)
{
  return source_tag == ag_engine_run_async;
}

void
_ag_task_async_result_iface_init (GAsyncResultIface *iface)
{
  iface->get_user_data = ag_task_async_result_get_user_data;
  iface->get_source_object = ag_task_async_result_get_source_object;
  iface->is_tagged = ag_task_async_result_is_tagged;
}
