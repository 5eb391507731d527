/* ag-command-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-command-task.h"
#include "ag-error.h"
#include "ag-i18n-private.h"
#include "ag-task-private.h"
#include "ag-worker-pool-private.h"

/**
 * AgCommandTask:
 *
 * A command run as a child process.
 *
 * The command's standard output is the task's value, as [struct@GLib.Bytes];
 * its standard error is kept for [method@CommandTask.get_stderr] and for the
 * error message. A command that exits with a non-zero status or dies of a
 * signal fails with %AG_ERROR_COMMAND_FAILED, naming the status or signal
 * and the end of what it wrote to standard error.
 *
 * ```c
 * const char *argv[] = { "git", "log", "--oneline", "-n", "20", NULL };
 * g_autoptr(AgCommandTask) git = ag_command_task_new (argv);
 *
 * ag_command_task_set_cwd (git, repository_path);
 * ag_command_task_set_timeout_ms (git, 5000);
 * ag_engine_run_async (engine, AG_TASK (git), NULL, show_log, self);
 * ```
 *
 * The process is started, fed and read on the engine's process thread,
 * never on the GUI thread. It leads a session and process group of its own,
 * which holds the processes it starts (a script's commands), without the
 * application's terminal: a command that would prompt there (a password)
 * fails instead of waiting. Cancelling sends the
 * group `SIGTERM`, then `SIGKILL` if it is still there half a second
 * later; a timeout ([property@CommandTask:timeout-ms], by default the
 * engine's [property@WorkerPool:timeout-ms]) does the same and fails the
 * task with %G_IO_ERROR_TIMED_OUT. Children are always reaped. A command
 * gets `SIGTERM` when the application ends without waiting for it,
 * however it ends; away from the terminal, it does not get its Ctrl-C
 * itself.
 *
 * Since: 1.0
 */

struct _AgCommandTask
{
  AgTask   parent_instance;

  char   **argv;
  GBytes  *stdin_bytes;
  char    *cwd;
  char   **env;
  int      timeout_ms;

  guint64  command;       /* the engine's thread: the runner's id */

  /* Set once by the reply, on the process thread, before the task
   * returns; a cancelled task may be read meanwhile, hence atomic. */
  AgCommandReply *outcome;   /* atomic; only its output and exit status */
};

G_DEFINE_FINAL_TYPE (AgCommandTask, ag_command_task, AG_TYPE_TASK)

enum {
  PROP_0,
  PROP_TIMEOUT_MS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The runner's answer, on its thread, exactly once per command. It takes
 * the reference the command was given, and sends it home with the outcome
 * in one push (see worker_task_replied() in ag-worker-task.c). */
static void
command_task_replied (AgCommandReply *reply,
                      gpointer        user_data)
{
  AgCommandTask *self = user_data;
  AgCommandReply *outcome = g_new0 (AgCommandReply, 1);
  GError *error = g_steal_pointer (&reply->error);

  _ag_task_begin_work (AG_TASK (self));

  outcome->stdout_bytes = g_steal_pointer (&reply->stdout_bytes);
  outcome->stderr_bytes = g_steal_pointer (&reply->stderr_bytes);
  outcome->exit_status = reply->exit_status;
  g_atomic_pointer_set (&self->outcome, outcome);

  /* After a cancel or the engine's shutdown the task has ended already,
   * and this return is dropped. */
  if (error != NULL)
    ag_task_return_error (AG_TASK (self), error);
  else
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_BYTES);
      g_value_set_boxed (&value, outcome->stdout_bytes);
      ag_task_return_value (AG_TASK (self), &value);
    }

  _ag_task_end_work (AG_TASK (self));
}

static void
ag_command_task_start (AgTask *task)
{
  AgCommandTask *self = AG_COMMAND_TASK (task);
  AgWorkerPool *workers = _ag_worker_pool_of (_ag_task_get_engine (task));
  AgCommandRunner *runner = workers != NULL ? _ag_worker_pool_get_runner (workers) : NULL;

  /* An engine starts tasks only while it is alive. */
  g_assert (runner != NULL);

  if (self->argv == NULL || self->argv[0] == NULL)
    {
      ag_task_return_new_error (task, AG_ERROR, AG_ERROR_FAILED,
                                _("The command task has no command: make it with "
                                  "ag_command_task_new()"));
      return;
    }

  self->command = _ag_command_runner_run (runner, (const char * const *) self->argv,
                                          self->stdin_bytes, self->cwd,
                                          (const char * const *) self->env,
                                          _ag_worker_pool_resolve_timeout (workers, self->timeout_ms),
                                          _ag_task_ensure_cancellable (task),
                                          command_task_replied, g_object_ref (self), NULL);
}

static void
ag_command_task_cancel (AgTask *task)
{
  AgCommandTask *self = AG_COMMAND_TASK (task);
  AgWorkerPool *workers = _ag_worker_pool_of (_ag_task_get_engine (task));

  if (workers != NULL && self->command != 0)
    _ag_command_runner_cancel (_ag_worker_pool_get_runner (workers), self->command);
}

static AgCommandReply *
get_outcome (AgCommandTask *self)
{
  if (!ag_task_is_finished (AG_TASK (self)))
    return NULL;

  return g_atomic_pointer_get (&self->outcome);
}

static void
ag_command_task_finalize (GObject *object)
{
  AgCommandTask *self = AG_COMMAND_TASK (object);

  g_strfreev (self->argv);
  g_clear_pointer (&self->stdin_bytes, g_bytes_unref);
  g_free (self->cwd);
  g_strfreev (self->env);
  if (self->outcome != NULL)
    {
      g_clear_pointer (&self->outcome->stdout_bytes, g_bytes_unref);
      g_clear_pointer (&self->outcome->stderr_bytes, g_bytes_unref);
      g_free (self->outcome);
    }

  G_OBJECT_CLASS (ag_command_task_parent_class)->finalize (object);
}

static void
ag_command_task_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  AgCommandTask *self = AG_COMMAND_TASK (object);

  switch (prop_id)
    {
    case PROP_TIMEOUT_MS:
      g_value_set_int (value, self->timeout_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_command_task_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  AgCommandTask *self = AG_COMMAND_TASK (object);

  switch (prop_id)
    {
    case PROP_TIMEOUT_MS:
      ag_command_task_set_timeout_ms (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_command_task_class_init (AgCommandTaskClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AgTaskClassPrivate *task_class = _ag_task_class_get_vfuncs (klass);

  object_class->finalize = ag_command_task_finalize;
  object_class->get_property = ag_command_task_get_property;
  object_class->set_property = ag_command_task_set_property;
  task_class->start = ag_command_task_start;
  task_class->cancel = ag_command_task_cancel;

  /**
   * AgCommandTask:timeout-ms:
   *
   * How long the command may run, in milliseconds: -1 (the default) for
   * the engine's [property@WorkerPool:timeout-ms], 0 for no limit. Set
   * it before the task is run.
   *
   * Since: 1.0
   */
  properties[PROP_TIMEOUT_MS] =
    g_param_spec_int ("timeout-ms", NULL, NULL,
                      -1, G_MAXINT, -1,
                      (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ag_command_task_init (AgCommandTask *self)
{
  self->timeout_ms = -1;
}

static gboolean
check_not_run (AgCommandTask *self,
               const char    *strfunc)
{
  if (ag_task_get_state (AG_TASK (self)) == AG_TASK_PENDING)
    return TRUE;

  g_critical ("%s: the command task %p has been run; it can no longer be changed", strfunc, self);
  return FALSE;
}

/**
 * ag_command_task_new:
 * @argv: (array zero-terminated=1): the program and its arguments; the
 *   program is looked up in `PATH` unless it contains a slash
 *
 * Creates a task that runs a command.
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new command task
 *
 * Since: 1.0
 */
AgCommandTask *
ag_command_task_new (const char * const *argv)
{
  AgCommandTask *self;

  g_return_val_if_fail (argv != NULL && argv[0] != NULL && argv[0][0] != '\0', NULL);

  self = g_object_new (AG_TYPE_COMMAND_TASK, NULL);
  self->argv = g_strdupv ((char **) argv);

  return self;
}

/**
 * ag_command_task_set_stdin:
 * @self: a command task not yet run
 * @stdin_bytes: (nullable): what the command reads on standard input; with
 *   %NULL it reads end of file at once
 *
 * Sets the command's standard input.
 *
 * Thread: any, until the task is run.
 *
 * Since: 1.0
 */
void
ag_command_task_set_stdin (AgCommandTask *self,
                           GBytes        *stdin_bytes)
{
  g_return_if_fail (AG_IS_COMMAND_TASK (self));

  if (!check_not_run (self, G_STRFUNC))
    return;

  g_clear_pointer (&self->stdin_bytes, g_bytes_unref);
  if (stdin_bytes != NULL)
    self->stdin_bytes = g_bytes_ref (stdin_bytes);
}

/**
 * ag_command_task_set_cwd:
 * @self: a command task not yet run
 * @cwd: (nullable) (type filename): the working directory, or %NULL for
 *   the parent's
 *
 * Sets the directory the command runs in.
 *
 * Thread: any, until the task is run.
 *
 * Since: 1.0
 */
void
ag_command_task_set_cwd (AgCommandTask *self,
                         const char    *cwd)
{
  g_return_if_fail (AG_IS_COMMAND_TASK (self));

  if (!check_not_run (self, G_STRFUNC))
    return;

  g_free (self->cwd);
  self->cwd = g_strdup (cwd);
}

/**
 * ag_command_task_set_environ:
 * @self: a command task not yet run
 * @env: (nullable) (array zero-terminated=1): the whole environment, as
 *   `NAME=VALUE` strings, or %NULL for the parent's
 *
 * Sets the command's environment.
 *
 * Thread: any, until the task is run.
 *
 * Since: 1.0
 */
void
ag_command_task_set_environ (AgCommandTask      *self,
                             const char * const *env)
{
  g_return_if_fail (AG_IS_COMMAND_TASK (self));

  if (!check_not_run (self, G_STRFUNC))
    return;

  g_strfreev (self->env);
  self->env = g_strdupv ((char **) env);
}

/**
 * ag_command_task_set_timeout_ms:
 * @self: a command task not yet run
 * @timeout_ms: how long the command may run, in milliseconds; -1 for the
 *   engine's [property@WorkerPool:timeout-ms], 0 for no limit
 *
 * Sets how long the command may run before it is terminated and the task
 * fails with %G_IO_ERROR_TIMED_OUT.
 *
 * Thread: any, until the task is run
 *
 * Since: 1.0
 */
void
ag_command_task_set_timeout_ms (AgCommandTask *self,
                                int            timeout_ms)
{
  g_return_if_fail (AG_IS_COMMAND_TASK (self));
  g_return_if_fail (timeout_ms >= -1);

  if (!check_not_run (self, G_STRFUNC))
    return;

  if (self->timeout_ms == timeout_ms)
    return;

  self->timeout_ms = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT_MS]);
}

/**
 * ag_command_task_get_timeout_ms:
 * @self: a command task
 *
 * Gets the command's own timeout.
 *
 * Returns: milliseconds; -1 for the engine's, 0 for none
 *
 * Thread: any
 *
 * Since: 1.0
 */
int
ag_command_task_get_timeout_ms (AgCommandTask *self)
{
  g_return_val_if_fail (AG_IS_COMMAND_TASK (self), -1);

  return self->timeout_ms;
}

/**
 * ag_command_task_get_stdout:
 * @self: a finished command task
 *
 * Gets what the command wrote to standard output, whether it succeeded or
 * not. After a timeout it is what the command wrote until it was killed,
 * unless a process it started still held its output open: then reading
 * stopped short, and there is none.
 *
 * Thread: the engine's, or any thread once the task has finished.
 *
 * Returns: (transfer none) (nullable): the output, or %NULL if there is
 *   none: the command has not finished, did not start, was cancelled, or
 *   timed out as said above
 *
 * Since: 1.0
 */
GBytes *
ag_command_task_get_stdout (AgCommandTask *self)
{
  AgCommandReply *outcome;

  g_return_val_if_fail (AG_IS_COMMAND_TASK (self), NULL);

  outcome = get_outcome (self);
  return outcome != NULL ? outcome->stdout_bytes : NULL;
}

/**
 * ag_command_task_get_stderr:
 * @self: a finished command task
 *
 * Gets what the command wrote to standard error; see
 * [method@CommandTask.get_stdout] for when there is none.
 *
 * Thread: the engine's, or any thread once the task has finished.
 *
 * Returns: (transfer none) (nullable): the output, or %NULL if there is
 *   none
 *
 * Since: 1.0
 */
GBytes *
ag_command_task_get_stderr (AgCommandTask *self)
{
  AgCommandReply *outcome;

  g_return_val_if_fail (AG_IS_COMMAND_TASK (self), NULL);

  outcome = get_outcome (self);
  return outcome != NULL ? outcome->stderr_bytes : NULL;
}

/**
 * ag_command_task_get_exit_status:
 * @self: a finished command task
 *
 * Gets the command's exit status.
 *
 * Thread: the engine's, or any thread once the task has finished.
 *
 * Returns: the exit status, or -1 if it did not exit normally (a signal, a
 *   timeout) or has not finished
 *
 * Since: 1.0
 */
int
ag_command_task_get_exit_status (AgCommandTask *self)
{
  AgCommandReply *outcome;

  g_return_val_if_fail (AG_IS_COMMAND_TASK (self), -1);

  outcome = get_outcome (self);
  return outcome != NULL ? outcome->exit_status : -1;
}
