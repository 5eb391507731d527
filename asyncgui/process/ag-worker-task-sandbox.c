/* ag-worker-task-sandbox.c: what a worker task asks of the sandbox and
 * of the limits: the flag, the files passed as descriptors, the type the
 * value must have, memory and processor time
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "ag-error.h"
#include "ag-i18n-private.h"
#include "ag-worker-task-internal.h"

#define properties _ag_worker_task_properties

/* SCM_MAX_FD: what one message carries. The files travel one a message,
 * ahead of their request, and more than about 270 fill the socket before
 * the worker reads any. */
#define MAX_FDS 253

/* A value a sandboxed Python worker may send: what its converter makes of
 * None, bool, int, float, str, bytes, list, tuple and dict. */
static gboolean
is_plain_python_type (const GVariantType *type)
{
  for (const char *c = g_variant_type_peek_string (type); *c != '\0'; c++)
    if (strchr ("mvbxdsay(){}", *c) == NULL)
      return FALSE;

  return TRUE;
}

/* Replaces what the reply says with an error, and drops what it carried. */
static void
reply_fail (AgProcessReply *reply,
            GError         *error)
{
  g_clear_pointer (&reply->value, g_variant_unref);
  g_clear_pointer (&reply->error_data, g_variant_unref);
  g_clear_error (&reply->error);
  reply->error = error;
}

/* Checks a worker's reply against what the task allows before anything
 * reads it; the process thread. A sandboxed worker (or one standing in for
 * the sandbox) answers with plain data only: nothing in its reply is ever
 * unpickled or run, and a reply that is not plain data is a breach of the
 * protocol. */
void
_ag_worker_task_check_reply (AgProcessReply *reply,
                             AgWorkerTask   *self)
{
  if (self->sandboxed && self->kind == AG_WORKER_PYTHON)
    {
      if (reply->error_data != NULL
          && !g_variant_is_of_type (reply->error_data, G_VARIANT_TYPE ("(ss)"))
          && !g_variant_is_of_type (reply->error_data, G_VARIANT_TYPE_UNIT))
        {
          reply_fail (reply, g_error_new (AG_ERROR, AG_ERROR_PROTOCOL,
                                          _("A sandboxed worker described its failure as a “%s” value instead of plain text"),
                                          g_variant_get_type_string (reply->error_data)));
          return;
        }

      if (reply->value != NULL && !is_plain_python_type (g_variant_get_type (reply->value)))
        {
          reply_fail (reply, g_error_new (AG_ERROR, AG_ERROR_PROTOCOL,
                                          _("A sandboxed worker answered with a “%s” value, which is not plain data"),
                                          g_variant_get_type_string (reply->value)));
          return;
        }
    }

  if (self->sandboxed && self->kind == AG_WORKER_GJS && reply->value != NULL
      && !g_variant_is_of_type (reply->value, G_VARIANT_TYPE_STRING))
    {
      reply_fail (reply, g_error_new (AG_ERROR, AG_ERROR_PROTOCOL,
                                      _("A sandboxed worker answered with a “%s” value instead of JSON text"),
                                      g_variant_get_type_string (reply->value)));
      return;
    }

  if (reply->value != NULL && self->result_type != NULL
      && !g_variant_is_of_type (reply->value, self->result_type))
    reply_fail (reply, g_error_new (AG_ERROR, AG_ERROR_TYPE_MISMATCH,
                                    _("The worker answered with a “%s” value where “%s” was expected"),
                                    g_variant_get_type_string (reply->value),
                                    g_variant_type_peek_string (self->result_type)));
}

/* Settings of a call may change only until it is run. */
static gboolean
check_not_run (AgWorkerTask *self,
               const char   *function,
               const char   *what)
{
  if (ag_task_get_state (AG_TASK (self)) == AG_TASK_PENDING)
    return TRUE;

  g_critical ("%s: the worker task %p has been run; its %s can no longer be changed",
              function, self, what);
  return FALSE;
}

/**
 * ag_worker_task_set_sandboxed: (set-property sandboxed)
 * @self: a worker task not yet run
 * @sandboxed: whether to run the function in a sandboxed worker
 *
 * Sets whether the function runs in a sandboxed worker. See
 * [property@WorkerTask:sandboxed].
 *
 * Thread: any, until the task is run
 *
 * Since: 1.0
 */
void
ag_worker_task_set_sandboxed (AgWorkerTask *self,
                              gboolean      sandboxed)
{
  g_return_if_fail (AG_IS_WORKER_TASK (self));

  sandboxed = !!sandboxed;
  if (!check_not_run (self, G_STRFUNC, "sandbox") || self->sandboxed == sandboxed)
    return;

  self->sandboxed = sandboxed;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SANDBOXED]);
}

/**
 * ag_worker_task_get_sandboxed: (get-property sandboxed)
 * @self: a worker task
 *
 * Gets whether the function runs in a sandboxed worker.
 *
 * Thread: any
 *
 * Returns: whether it is sandboxed
 *
 * Since: 1.0
 */
gboolean
ag_worker_task_get_sandboxed (AgWorkerTask *self)
{
  g_return_val_if_fail (AG_IS_WORKER_TASK (self), FALSE);

  return self->sandboxed;
}

/**
 * ag_worker_task_add_fd:
 * @self: a worker task not yet run
 * @fd: an open file descriptor
 *
 * Passes a file descriptor the application opened to the worker, with the
 * call: this is how a sandboxed worker, which cannot open the user's
 * files, reads them. @fd is duplicated; the caller keeps its own.
 *
 * A C function reads it from its arguments: put the returned index there
 * as a handle (`g_variant_new_handle (index)`), and the worker gives the
 * function the descriptor in its place. A Python function gets the files
 * as its `files` keyword argument, a GJS function as an array of
 * `Gio.UnixInputStream` after its arguments. The worker closes them after
 * the call, and the task lets go of its own copies when it is run.
 *
 * A call passes at most 253 files, as many as one message between
 * processes may carry; adding more fails with %AG_ERROR_FAILED.
 *
 * Thread: any, until the task is run
 *
 * Returns: the index of the descriptor in the call, from 0; or -1 with
 *   @error set
 *
 * Since: 1.0
 */
int
ag_worker_task_add_fd (AgWorkerTask  *self,
                       int            fd,
                       GError       **error)
{
  g_return_val_if_fail (AG_IS_WORKER_TASK (self), -1);
  g_return_val_if_fail (fd >= 0, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  if (!check_not_run (self, G_STRFUNC, "list of files"))
    return -1;

  if (self->fds == NULL)
    self->fds = g_unix_fd_list_new ();
  if (g_unix_fd_list_get_length (self->fds) >= MAX_FDS)
    {
      g_set_error (error, AG_ERROR, AG_ERROR_FAILED,
                   _("A call passes at most %d files to its worker"), MAX_FDS);
      return -1;
    }

  return g_unix_fd_list_append (self->fds, fd, error);
}

/**
 * ag_worker_task_add_file:
 * @self: a worker task not yet run
 * @file: a local file
 *
 * Opens @file for reading, in this process, and passes the descriptor to
 * the worker with the call, as [method@WorkerTask.add_fd] does.
 *
 * Thread: any, until the task is run
 *
 * Returns: the index of the descriptor in the call, from 0; or -1 with
 *   @error set
 *
 * Since: 1.0
 */
int
ag_worker_task_add_file (AgWorkerTask  *self,
                         GFile         *file,
                         GError       **error)
{
  g_autofree char *path = NULL;
  int fd, index, saved_errno;

  g_return_val_if_fail (AG_IS_WORKER_TASK (self), -1);
  g_return_val_if_fail (G_IS_FILE (file), -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  path = g_file_get_path (file);
  if (path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("“%s” is not a local file, so it cannot be passed to a worker"), uri);
      return -1;
    }

  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0)
    {
      g_autofree char *name = g_filename_display_name (path);

      saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Cannot open “%s” for a worker: %s"), name, g_strerror (saved_errno));
      return -1;
    }

  index = ag_worker_task_add_fd (self, fd, error);
  close (fd);

  return index;
}

/**
 * ag_worker_task_get_n_fds:
 * @self: a worker task
 *
 * Gets how many file descriptors are passed with the call.
 *
 * Thread: any, until the task is run
 *
 * Returns: the number of descriptors
 *
 * Since: 1.0
 */
guint
ag_worker_task_get_n_fds (AgWorkerTask *self)
{
  g_return_val_if_fail (AG_IS_WORKER_TASK (self), 0);

  return self->fds != NULL ? (guint) g_unix_fd_list_get_length (self->fds) : 0;
}

/**
 * ag_worker_task_set_result_type: (set-property result-type)
 * @self: a worker task not yet run
 * @type: (nullable): the type the value must have, or %NULL for any
 *
 * Declares the type of the function's value. See
 * [property@WorkerTask:result-type].
 *
 * Thread: any, until the task is run
 *
 * Since: 1.0
 */
void
ag_worker_task_set_result_type (AgWorkerTask       *self,
                                const GVariantType *type)
{
  g_return_if_fail (AG_IS_WORKER_TASK (self));
  g_return_if_fail (type == NULL || g_variant_type_string_is_valid (g_variant_type_peek_string (type)));

  if (!check_not_run (self, G_STRFUNC, "result type"))
    return;

  if (type == self->result_type
      || (type != NULL && self->result_type != NULL && g_variant_type_equal (type, self->result_type)))
    return;

  g_clear_pointer (&self->result_type, g_variant_type_free);
  self->result_type = type != NULL ? g_variant_type_copy (type) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESULT_TYPE]);
}

/**
 * ag_worker_task_get_result_type: (get-property result-type)
 * @self: a worker task
 *
 * Gets the type the function's value must have.
 *
 * Thread: any
 *
 * Returns: (transfer none) (nullable): the type, or %NULL for any
 *
 * Since: 1.0
 */
const GVariantType *
ag_worker_task_get_result_type (AgWorkerTask *self)
{
  g_return_val_if_fail (AG_IS_WORKER_TASK (self), NULL);

  return self->result_type;
}

/**
 * ag_worker_task_set_memory_limit: (set-property memory-limit)
 * @self: a worker task not yet run
 * @bytes: the address space the call may use, in bytes; 0 for no limit
 *
 * Sets the call's memory limit. See [property@WorkerTask:memory-limit].
 *
 * Thread: any, until the task is run
 *
 * Since: 1.0
 */
void
ag_worker_task_set_memory_limit (AgWorkerTask *self,
                                 guint64       bytes)
{
  g_return_if_fail (AG_IS_WORKER_TASK (self));

  if (!check_not_run (self, G_STRFUNC, "memory limit") || self->memory_limit == bytes)
    return;

  self->memory_limit = bytes;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MEMORY_LIMIT]);
}

/**
 * ag_worker_task_get_memory_limit: (get-property memory-limit)
 * @self: a worker task
 *
 * Gets the call's memory limit.
 *
 * Thread: any
 *
 * Returns: bytes, 0 for none
 *
 * Since: 1.0
 */
guint64
ag_worker_task_get_memory_limit (AgWorkerTask *self)
{
  g_return_val_if_fail (AG_IS_WORKER_TASK (self), 0);

  return self->memory_limit;
}

/**
 * ag_worker_task_set_cpu_limit_ms: (set-property cpu-limit-ms)
 * @self: a worker task not yet run
 * @cpu_limit_ms: the processor time the call may use, in milliseconds; 0
 *   for no limit
 *
 * Sets the call's processor-time limit. See
 * [property@WorkerTask:cpu-limit-ms].
 *
 * Thread: any, until the task is run
 *
 * Since: 1.0
 */
void
ag_worker_task_set_cpu_limit_ms (AgWorkerTask *self,
                                 int           cpu_limit_ms)
{
  g_return_if_fail (AG_IS_WORKER_TASK (self));
  g_return_if_fail (cpu_limit_ms >= 0);

  if (!check_not_run (self, G_STRFUNC, "processor-time limit") || self->cpu_limit_ms == cpu_limit_ms)
    return;

  self->cpu_limit_ms = cpu_limit_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CPU_LIMIT_MS]);
}

/**
 * ag_worker_task_get_cpu_limit_ms: (get-property cpu-limit-ms)
 * @self: a worker task
 *
 * Gets the call's processor-time limit.
 *
 * Thread: any
 *
 * Returns: milliseconds, 0 for none
 *
 * Since: 1.0
 */
int
ag_worker_task_get_cpu_limit_ms (AgWorkerTask *self)
{
  g_return_val_if_fail (AG_IS_WORKER_TASK (self), 0);

  return self->cpu_limit_ms;
}
