/* ag-job-channel.c: reading and writing channels inside a C job
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-channel-private.h"
#include "ag-job-internal.h"

/* A read is a main-context task that the job awaits, which starts the
 * reader's asynchronous read. The read's result is finished by the job
 * itself once it resumes, not by the task: a task that returned the items
 * as its value would lose them when the job is cancelled between the
 * read's end and the job's resumption, since a cancelled await drops the
 * value. Unfinished, they are still the read's: a cancel of the job
 * cancels the task's cancellable, also when the task has ended while the
 * job was paused, and the read, finished then, has the reader put the
 * items back at the front of the channel, at once, before anything else
 * can read them (a click handler that cancels a reading job and starts the
 * next one must not have the next one read past them).
 *
 * The asynchronous calls wait on the thread-default context, so they are
 * made with the engine's context pushed as that: an engine may have a
 * context nobody pushed. */

typedef struct
{
  AgChannelReader *reader;
  guint            count;
  int              timeout_ms;
  AgTask          *task;         /* while the read runs */
  GCancellable    *cancellable;  /* the task's */
  gulong           cancelled_id;
  GAsyncResult    *result;       /* the read's, until it is finished */
} Read;

static void
give_back (Read *read)
{
  g_autoptr(GAsyncResult) result = g_steal_pointer (&read->result);
  g_autoptr(GArray) items = NULL;

  if (result == NULL)
    return;

  /* Finished after its cancellable was cancelled, a read fails and puts
   * back what it had taken. */
  g_cancellable_cancel (read->cancellable);
  items = ag_channel_reader_read_finish (read->reader, result, NULL);
}

static void
read_free (gpointer data)
{
  Read *read = data;

  if (read->cancellable != NULL)
    g_cancellable_disconnect (read->cancellable, read->cancelled_id);
  give_back (read);
  g_clear_object (&read->cancellable);
  g_clear_object (&read->reader);
  g_free (read);
}

static void
read_ended (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Read *read = user_data;
  g_autoptr(AgTask) task = g_steal_pointer (&read->task);

  read->result = g_object_ref (result);
  ag_task_return_boolean (task, TRUE);
}

static void
read_cancelled (GCancellable *cancellable,
                gpointer      read)
{
  give_back (read);
}

static void
start_read (AgTask       *task,
            gpointer      user_data,
            GCancellable *cancellable)
{
  Read *read = user_data;
  GMainContext *context = ag_engine_get_context (ag_task_get_engine (task));

  read->task = g_object_ref (task);
  read->cancellable = g_object_ref (cancellable);
  read->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (read_cancelled), read, NULL);
  g_main_context_push_thread_default (context);
  ag_channel_reader_read_async (read->reader, read->count, read->timeout_ms, cancellable,
                                read_ended, read);
  g_main_context_pop_thread_default (context);
}

/**
 * ag_job_read: (skip)
 * @reader: a reader
 * @count: how many items to read; 0 for those waiting now, without waiting
 * @timeout_ms: how long to wait for @count items, in milliseconds; 0 not
 *   to wait, -1 to wait as long as it takes
 * @error: return location for an error
 *
 * Inside a C job, reads up to @count items as
 * [method@ChannelReader.read_async] does, suspending the job (never the
 * thread) until they are there.
 *
 * Cancelling the job loses no item: whatever the read had taken goes back
 * to the front of the channel, also when the read had ended and the job
 * was cancelled before it went on.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: (transfer full) (element-type GValue) (nullable): the items, as
 *   [method@ChannelReader.read_finish] gives them (an empty array at the
 *   end of the channel or after the timeout); %NULL with @error set if the
 *   read failed, the job was cancelled (%G_IO_ERROR_CANCELLED) or this is
 *   not a job
 *
 * Since: 1.0
 */
GArray *
ag_job_read (AgChannelReader  *reader,
             guint             count,
             int               timeout_ms,
             GError          **error)
{
  g_autoptr(AgTask) task = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  GValue *value;
  Read *read;

  g_return_val_if_fail (AG_IS_CHANNEL_READER (reader), NULL);
  g_return_val_if_fail (_ag_channel_reader_has_channel (reader), NULL);
  g_return_val_if_fail (timeout_ms >= -1, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  read = g_new0 (Read, 1);
  read->reader = g_object_ref (reader);
  read->count = count;
  read->timeout_ms = timeout_ms;
  task = ag_task_new_main (start_read, read, read_free);

  value = ag_job_await (g_object_ref (task), &local_error);
  if (value != NULL)
    g_boxed_free (G_TYPE_VALUE, value);
  if (local_error != NULL)
    {
      /* Given back already if the cancel came while the job was here; a
       * read that has not ended yet puts back what it took when it is
       * cancelled, and its result, when it comes, finds nothing to give
       * back. */
      give_back (read);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  result = g_steal_pointer (&read->result);
  return ag_channel_reader_read_finish (reader, result, error);
}

/* A write needs no such care: a write that stored its item has stored it,
 * whatever happens to the job afterwards. */

typedef struct
{
  AgChannel *channel;
  GValue     value;
} Write;

static void
write_free (gpointer data)
{
  Write *write = data;

  g_value_unset (&write->value);
  g_clear_object (&write->channel);
  g_free (write);
}

static void
write_ended (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(AgTask) task = user_data;
  GError *error = NULL;

  if (ag_channel_write_finish (AG_CHANNEL (source), result, &error))
    ag_task_return_boolean (task, TRUE);
  else
    ag_task_return_error (task, error);
}

static void
start_write (AgTask       *task,
             gpointer      user_data,
             GCancellable *cancellable)
{
  Write *write = user_data;
  GMainContext *context = ag_engine_get_context (ag_task_get_engine (task));

  g_main_context_push_thread_default (context);
  ag_channel_write_async (write->channel, &write->value, cancellable, write_ended,
                          g_object_ref (task));
  g_main_context_pop_thread_default (context);
}

/**
 * ag_job_write: (skip)
 * @channel: a channel
 * @value: the item; it is copied
 * @error: return location for an error
 *
 * Inside a C job, writes an item as [method@Channel.write_async] does,
 * suspending the job (never the thread) while the channel is full.
 *
 * Cancelling the job while the write waits for room stores nothing. A
 * write that had stored its item before the cancel has stored it, though
 * the job sees the cancel here all the same.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: %TRUE once the item is in the channel; %FALSE with @error set
 *   if the write failed (see [method@Channel.write]), the job was
 *   cancelled (%G_IO_ERROR_CANCELLED) or this is not a job
 *
 * Since: 1.0
 */
gboolean
ag_job_write (AgChannel     *channel,
              const GValue  *value,
              GError       **error)
{
  GError *local_error = NULL;
  GValue *returned;
  Write *write;

  g_return_val_if_fail (AG_IS_CHANNEL (channel), FALSE);
  g_return_val_if_fail (G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  write = g_new0 (Write, 1);
  write->channel = g_object_ref (channel);
  g_value_init (&write->value, G_VALUE_TYPE (value));
  g_value_copy (value, &write->value);

  returned = ag_job_await (ag_task_new_main (start_write, write, write_free), &local_error);
  if (returned != NULL)
    g_boxed_free (G_TYPE_VALUE, returned);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  return TRUE;
}
