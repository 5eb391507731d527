/* ag-multi-task-results.c: a MultiTask's children as a channel of
 * positions, in the order they are announced
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-channel-private.h"
#include "ag-multi-task-private.h"
#include "ag-values-private.h"

/* What a loop over a MultiTask's children reads (`async for`, `for
 * await`): the positions task-done announces, written to an unbounded
 * channel once per delivery, then the end of the channel once the task
 * is final. Nothing is made unless somebody opened the stream. */

void
_ag_multi_task_note_result (AgMultiTask *self,
                            guint        position)
{
  GValue item = G_VALUE_INIT;

  g_value_init (&item, G_TYPE_UINT);
  g_value_set_uint (&item, position);
  g_array_append_vals (self->results_batch, &item, 1);
}

/* Writes what was announced since the last time: one channel operation
 * per delivery, not one per child. */
void
_ag_multi_task_flush_results (AgMultiTask *self)
{
  g_autoptr(GError) error = NULL;
  guint n;

  if (self->results == NULL || self->results_batch->len == 0)
    return;

  /* The channel has room for every child. It refuses only once nobody
   * reads any more (or it was closed), and then nobody will. */
  if (!_ag_channel_push_many (self->results, self->results_batch, &n, &error))
    g_array_set_size (self->results_batch, 0);
}

void
_ag_multi_task_close_results (AgMultiTask *self)
{
  if (self->results == NULL)
    return;

  _ag_multi_task_flush_results (self);
  ag_channel_close (self->results);
}

/**
 * ag_multi_task_open_results:
 * @self: a MultiTask not yet run
 *
 * Opens a reader of the MultiTask's results stream: the positions of its
 * children (#guint values) in the order [signal@MultiTask::task-done]
 * announces them — as they finish with [property@MultiTask:unordered],
 * else in list order. Read the outcome of each with
 * [method@MultiTask.get_child_value] or [method@Gio.ListModel.get_item].
 *
 * Positions are written once per delivery, not one by one, and the
 * channel has room for all of them: nothing waits on a slow reader. When the
 * MultiTask ends, the channel is closed after the last position
 * announced, so a reader that finds it drained can ask the task how it
 * ended: an `async for` over a MultiTask is a loop over this reader. All
 * readers read the one stream, each position going to one of them.
 * Closing the readers does not stop the MultiTask.
 *
 * Thread: any, before @self is run.
 *
 * Returns: (transfer full): a new reader
 *
 * Since: 1.0
 */
AgChannelReader *
ag_multi_task_open_results (AgMultiTask *self)
{
  g_return_val_if_fail (AG_IS_MULTI_TASK (self), NULL);

  if (self->started)
    {
      g_critical ("%s: the MultiTask %p has been run already; open its results before running it",
                  G_STRFUNC, self);
      return NULL;
    }

  if (self->results == NULL)
    {
      self->results = ag_channel_new (G_MAXUINT);
      self->results_batch = _ag_value_array_new (0);
    }

  return ag_channel_open_reader (self->results);
}
