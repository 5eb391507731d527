/* ag-worker-task-decoder.c: what a binding makes of a worker's answer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-task-private.h"
#include "ag-worker-task-internal.h"

/* A worker answers with a GVariant: a Python worker's pickled result, a
 * GJS worker's JSON text. A binding that can turn it into its language's
 * own value on any thread gives the task a decoder, so that the task's
 * value is that value for every reader (GI, a task depending on it, the
 * rows of a MultiTask), and the decoding costs the engine's thread
 * nothing. The decoder runs inside the reply, on the process thread,
 * before the task returns; which task the thread is decoding for is kept
 * per thread, so that only the decoder's own call can hand a value back. */

typedef struct
{
  AgWorkerTask *task;
  GValue       *decoded;
} Decoding;

static GPrivate current_decoding;

void
_ag_worker_task_decode (AgWorkerTask *self,
                        GVariant     *data,
                        gboolean      failed,
                        GValue       *decoded)
{
  Decoding decoding = { self, decoded };
  Decoding *outer = g_private_get (&current_decoding);

  g_private_set (&current_decoding, &decoding);
  self->decode (self, data, failed, self->decode_data);
  g_private_set (&current_decoding, outer);
}

void
_ag_worker_task_clear_decoder (AgWorkerTask *self)
{
  GDestroyNotify destroy = g_steal_pointer (&self->decode_destroy);
  gpointer data = g_steal_pointer (&self->decode_data);

  self->decode = NULL;
  if (destroy != NULL)
    destroy (data);
}

/**
 * ag_worker_task_set_decoder:
 * @self: a worker task not yet run
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy):
 *   what turns the worker's answer into the task's value or error detail,
 *   or %NULL to keep the worker's GVariant
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the task no longer needs it
 *
 * Sets what makes the worker's answer the task's value. A language
 * binding uses it to keep its own values in C: the Python binding's
 * `ProcessTask` unpickles the result there, so its value is the Python
 * object for every reader, and its failure's detail the exception.
 * See [callback@WorkerDecodeFunc]; it runs on the thread that reads
 * worker replies, so it must not touch the engine's thread's state.
 *
 * Thread: any, before @self is run.
 *
 * Since: 1.0
 */
void
ag_worker_task_set_decoder (AgWorkerTask       *self,
                            AgWorkerDecodeFunc  func,
                            gpointer            user_data,
                            GDestroyNotify      destroy)
{
  g_return_if_fail (AG_IS_WORKER_TASK (self));

  if (ag_task_get_state (AG_TASK (self)) != AG_TASK_PENDING)
    {
      g_critical ("%s: the worker task %p has been run; its decoder can no longer be changed",
                  G_STRFUNC, self);
      if (destroy != NULL)
        destroy (user_data);
      return;
    }

  _ag_worker_task_clear_decoder (self);
  self->decode = func;
  self->decode_data = user_data;
  self->decode_destroy = destroy;
}

/**
 * ag_worker_task_return_decoded:
 * @self: the worker task being decoded
 * @value: what to keep instead of the worker's GVariant, copied: the
 *   task's value or, for a failure, its error's detail
 *
 * Hands the decoded answer back, from inside the task's
 * [callback@WorkerDecodeFunc], once.
 *
 * Thread: the decoder's, during its call.
 *
 * Since: 1.0
 */
void
ag_worker_task_return_decoded (AgWorkerTask *self,
                               const GValue *value)
{
  Decoding *decoding;

  g_return_if_fail (AG_IS_WORKER_TASK (self));
  g_return_if_fail (G_IS_VALUE (value));

  decoding = g_private_get (&current_decoding);
  if (decoding == NULL || decoding->task != self)
    {
      g_critical ("%s: only the decoder of the worker task %p, during its call, can return "
                  "what it decoded", G_STRFUNC, self);
      return;
    }

  if (G_IS_VALUE (decoding->decoded))
    {
      g_critical ("%s: the decoder of the worker task %p returned twice; it returns once",
                  G_STRFUNC, self);
      return;
    }

  g_value_init (decoding->decoded, G_VALUE_TYPE (value));
  g_value_copy (value, decoding->decoded);
}
