/* ag-worker-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "ag-error.h"
#include "ag-i18n-private.h"
#include "ag-task-private.h"
#include "ag-worker-pool-private.h"
#include "ag-worker-task-internal.h"

/**
 * AgWorkerTask:
 *
 * A function run in a warm worker process.
 *
 * Worker processes are started by the engine as they are needed, up to
 * [property@WorkerPool:max-processes] of each kind, and serve one call after
 * another; the engine talks to them over pipes with length-framed
 * [struct@GLib.Variant] messages, on a thread of its own, so no process
 * I/O ever runs on the GUI thread.
 *
 * A C worker loads a shared module and calls a function of it:
 *
 * ```c
 * // In libmywork.so:
 * GVariant *
 * count_primes (GVariant      *args,
 *               GCancellable  *cancellable,
 *               GError       **error)
 * {
 *   guint32 limit = g_variant_get_uint32 (args);
 *   return g_variant_new_uint32 (count_primes_below (limit));
 * }
 *
 * // In the application:
 * task = ag_worker_task_new_c ("/usr/lib/myapp/libmywork.so", "count_primes",
 *                              g_variant_new_uint32 (1000000));
 * ```
 *
 * The task's value is the [struct@GLib.Variant] the function returned. A
 * [struct@GLib.Error] it sets keeps its domain, code and message when the
 * application's process knows the domain: GLib's and GIO's always, one of
 * the application's own once its quark was made (call the domain's
 * `_quark()` function, or `g_quark_from_static_string()`, before the
 * first call); an unknown domain, which a worker could invent without
 * end, becomes %AG_ERROR_FAILED naming it. A
 * worker that dies while it runs a call fails only that call, with
 * %AG_ERROR_WORKER_CRASHED naming its exit status or signal, as soon as it
 * exits (even if a process it forked still holds its pipes), and is
 * replaced; one that closes its output and does not exit within a second
 * is killed. A call sent to a worker that died before it read the whole
 * request (an idle worker that was killed) never ran: it runs in a fresh
 * worker instead. A worker killed just as it reads the request fails the
 * call: the engine cannot tell whether it ran. One that sends anything that
 * is not a well-formed reply fails it with %AG_ERROR_PROTOCOL and is killed.
 * Cancelling a call kills the worker that runs it. Workers never outlive
 * the application: one that exits without disposing its engine, or
 * crashes, takes them with it. They ignore `SIGINT`: Ctrl-C in a terminal,
 * which interrupts the application and its workers alike, is the
 * application's to handle, and its calls go on.
 *
 * A worker's stdout goes to the application's stderr, as its stderr does:
 * what a worker function prints shows there and never reaches the replies.
 *
 * A worker program that dies as it starts (a wrong command, a broken
 * installation) is started again a few times; then the call, and every
 * call waiting for a worker of its kind, fails with
 * %AG_ERROR_WORKER_CRASHED naming the program. A program that cannot be
 * started at all fails the call with the spawn error.
 *
 * A call that takes longer than [property@WorkerTask:timeout-ms] fails
 * with %G_IO_ERROR_TIMED_OUT, and its worker is killed and replaced: a
 * function cannot be stopped halfway any other way.
 *
 * Python and GJS workers run an importable Python function or an exported
 * JavaScript function; the language bindings build on them.
 *
 * Work on input the application did not make runs in a sandboxed worker:
 * set [property@WorkerTask:sandboxed], pass the files it reads with
 * [method@WorkerTask.add_file] or [method@WorkerTask.add_fd], and declare
 * the [property@WorkerTask:result-type] it must answer with. See
 * [Handling untrusted input](untrusted-input.html).
 *
 * Since: 1.0
 */

G_DEFINE_FINAL_TYPE (AgWorkerTask, ag_worker_task, AG_TYPE_TASK)

GParamSpec *_ag_worker_task_properties[N_PROPS];
#define properties _ag_worker_task_properties

/* The pool's answer, on its thread, exactly once per call. It takes the
 * reference the call was given: between _ag_task_begin_work() and
 * _ag_task_end_work() the return only sets the outcome, and the outcome
 * and that reference go home together, in one push (and one wake-up of
 * the engine's thread), as a thread task's do. */
static void
worker_task_replied (AgProcessReply *reply,
                     gpointer        user_data)
{
  AgWorkerTask *self = user_data;
  g_auto(GValue) detail = G_VALUE_INIT;

  _ag_task_begin_work (AG_TASK (self));

  g_atomic_int_set (&self->pid, reply->pid);
  if (reply->error_data != NULL)
    {
      /* What the worker sent about its failure (a pickled exception, a JS
       * stack) is the error's detail too, a GVariant. */
      g_value_init (&detail, G_TYPE_VARIANT);
      g_value_set_variant (&detail, reply->error_data);
      g_atomic_pointer_set (&self->error_data, g_steal_pointer (&reply->error_data));
    }

  /* After a cancel or the engine's shutdown the task has ended already,
   * and this return is dropped. */
  if (reply->error != NULL)
    ag_task_return_error_full (AG_TASK (self), g_steal_pointer (&reply->error),
                               G_IS_VALUE (&detail) ? &detail : NULL);
  else
    ag_task_return_variant (AG_TASK (self), reply->value);

  _ag_task_end_work (AG_TASK (self));
}

static void
ag_worker_task_start (AgTask *task)
{
  AgWorkerTask *self = AG_WORKER_TASK (task);
  AgWorkerPool *workers = _ag_worker_pool_of (_ag_task_get_engine (task));
  AgProcessPool *processes = workers != NULL ? _ag_worker_pool_get_processes (workers) : NULL;
  AgProcessCallOptions options;
  guint kind = self->kind;

  /* An engine starts tasks only while it is alive. */
  g_assert (processes != NULL);

  if (self->target == NULL)
    {
      ag_task_return_new_error (task, AG_ERROR, AG_ERROR_FAILED,
                                _("The worker task has nothing to call: make it with "
                                  "ag_worker_task_new_c() or a sibling"));
      return;
    }

  options.timeout_ms = _ag_worker_pool_resolve_timeout (workers, self->timeout_ms);
  options.fds = self->fds;
  options.memory_limit = self->memory_limit;
  options.cpu_limit_ms = self->cpu_limit_ms;
  options.fallback_kind = -1;
  options.check = (AgProcessReplyCheck) _ag_worker_task_check_reply;
  options.cancelled = (AgProcessCancelledFunc) _ag_task_is_cancel_requested;
  if (self->sandboxed)
    {
      kind = _ag_worker_pool_kind_in_set (self->kind, AG_WORKER_SET_SANDBOXED);
      /* Read now: a change later applies to later calls. */
      if (ag_worker_pool_get_allow_unsandboxed (workers))
        options.fallback_kind = _ag_worker_pool_kind_in_set (self->kind, AG_WORKER_SET_PLAIN);
    }

  self->call = _ag_process_pool_call (processes, kind, self->target, self->args, &options,
                                      worker_task_replied, g_object_ref (self), NULL);
  /* The call holds the files until it is over; a finished task that an
   * application keeps must not hold its descriptors. */
  g_clear_object (&self->fds);
}

static void
ag_worker_task_cancel (AgTask *task)
{
  AgWorkerTask *self = AG_WORKER_TASK (task);
  AgWorkerPool *workers = _ag_worker_pool_of (_ag_task_get_engine (task));

  if (workers != NULL && self->call != 0)
    _ag_process_pool_cancel (_ag_worker_pool_get_processes (workers), self->call);
}

static void
ag_worker_task_finalize (GObject *object)
{
  AgWorkerTask *self = AG_WORKER_TASK (object);

  g_free (self->target);
  g_clear_pointer (&self->args, g_variant_unref);
  g_clear_pointer (&self->error_data, g_variant_unref);
  g_clear_object (&self->fds);
  g_clear_pointer (&self->result_type, g_variant_type_free);

  G_OBJECT_CLASS (ag_worker_task_parent_class)->finalize (object);
}

static void
ag_worker_task_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  AgWorkerTask *self = AG_WORKER_TASK (object);

  switch (prop_id)
    {
    case PROP_TIMEOUT_MS:
      g_value_set_int (value, self->timeout_ms);
      break;
    case PROP_SANDBOXED:
      g_value_set_boolean (value, self->sandboxed);
      break;
    case PROP_RESULT_TYPE:
      g_value_set_boxed (value, self->result_type);
      break;
    case PROP_MEMORY_LIMIT:
      g_value_set_uint64 (value, self->memory_limit);
      break;
    case PROP_CPU_LIMIT_MS:
      g_value_set_int (value, self->cpu_limit_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_worker_task_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  AgWorkerTask *self = AG_WORKER_TASK (object);

  switch (prop_id)
    {
    case PROP_TIMEOUT_MS:
      ag_worker_task_set_timeout_ms (self, g_value_get_int (value));
      break;
    case PROP_SANDBOXED:
      ag_worker_task_set_sandboxed (self, g_value_get_boolean (value));
      break;
    case PROP_RESULT_TYPE:
      ag_worker_task_set_result_type (self, g_value_get_boxed (value));
      break;
    case PROP_MEMORY_LIMIT:
      ag_worker_task_set_memory_limit (self, g_value_get_uint64 (value));
      break;
    case PROP_CPU_LIMIT_MS:
      ag_worker_task_set_cpu_limit_ms (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_worker_task_class_init (AgWorkerTaskClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AgTaskClassPrivate *task_class = _ag_task_class_get_vfuncs (klass);

  object_class->finalize = ag_worker_task_finalize;
  object_class->get_property = ag_worker_task_get_property;
  object_class->set_property = ag_worker_task_set_property;
  task_class->start = ag_worker_task_start;
  task_class->cancel = ag_worker_task_cancel;

  /**
   * AgWorkerTask:timeout-ms:
   *
   * How long the function may run in its worker, in milliseconds: -1 (the
   * default) for the engine's [property@WorkerPool:timeout-ms], 0 for no
   * limit. Time spent waiting for a free worker does not count, nor does
   * starting a fresh one, but a worker that takes longer than this to
   * start fails the call too. Set it before the task is run.
   *
   * Since: 1.0
   */
  properties[PROP_TIMEOUT_MS] =
    g_param_spec_int ("timeout-ms", NULL, NULL,
                      -1, G_MAXINT, -1,
                      (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgWorkerTask:sandboxed: (getter get_sandboxed) (setter set_sandboxed)
   *
   * Whether the function runs in a sandboxed worker: under bubblewrap,
   * without network, home folder or write access outside a private
   * `/tmp`, under a seccomp filter, and answering with plain data only.
   * Sandboxed workers are never reused for unsandboxed calls, nor the
   * other way round. Where the sandbox cannot run, the call fails with
   * %AG_ERROR_SANDBOX_UNAVAILABLE unless
   * [property@WorkerPool:allow-unsandboxed] is set. Set it before the task
   * is run. See [Handling untrusted input](untrusted-input.html).
   *
   * Since: 1.0
   */
  properties[PROP_SANDBOXED] =
    g_param_spec_boolean ("sandboxed", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgWorkerTask:result-type: (getter get_result_type) (setter set_result_type)
   *
   * The type the function's value must have, or %NULL (the default) for
   * any. A value of another type fails the call with
   * %AG_ERROR_TYPE_MISMATCH. For a Python worker in a sandbox it is the
   * type of the converted value (see
   * [Handling untrusted input](untrusted-input.html)); for a GJS worker,
   * `s` (JSON text). Set it before the task is run.
   *
   * Since: 1.0
   */
  properties[PROP_RESULT_TYPE] =
    g_param_spec_boxed ("result-type", NULL, NULL,
                        G_TYPE_VARIANT_TYPE,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgWorkerTask:memory-limit: (getter get_memory_limit) (setter set_memory_limit)
   *
   * How much address space the worker may use while it runs the call, in
   * bytes; 0 (the default) for no limit. A call that goes past it fails
   * with %AG_ERROR_MEMORY_LIMIT and its worker is replaced. Set it before
   * the task is run.
   *
   * Since: 1.0
   */
  properties[PROP_MEMORY_LIMIT] =
    g_param_spec_uint64 ("memory-limit", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgWorkerTask:cpu-limit-ms: (getter get_cpu_limit_ms) (setter set_cpu_limit_ms)
   *
   * How much processor time the call may use, in milliseconds, rounded up
   * to whole seconds (the kernel counts it so); 0 (the default) for no
   * limit. A call that goes past it fails with %AG_ERROR_CPU_LIMIT and its
   * worker is replaced. Set it before the task is run.
   *
   * Since: 1.0
   */
  properties[PROP_CPU_LIMIT_MS] =
    g_param_spec_int ("cpu-limit-ms", NULL, NULL,
                      0, G_MAXINT, 0,
                      (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ag_worker_task_init (AgWorkerTask *self)
{
  self->timeout_ms = -1;
}

/**
 * ag_worker_task_new:
 * @kind: the kind of worker
 * @target: what to call, `MODULE:FUNCTION` (the last colon separates them)
 * @args: (nullable): the arguments; a floating reference is taken
 *
 * Creates a task that calls @target in a worker of @kind.
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new task
 *
 * Since: 1.0
 */
AgWorkerTask *
ag_worker_task_new (AgWorkerKind  kind,
                    const char   *target,
                    GVariant     *args)
{
  AgWorkerTask *self;

  g_return_val_if_fail (kind <= AG_WORKER_GJS, NULL);
  g_return_val_if_fail (target != NULL && strchr (target, ':') != NULL, NULL);

  self = g_object_new (AG_TYPE_WORKER_TASK, NULL);
  self->kind = kind;
  self->target = g_strdup (target);
  self->args = g_variant_ref_sink (args != NULL ? args : g_variant_new ("()"));

  return self;
}

/**
 * ag_worker_task_new_c:
 * @module_path: the path of a shared module
 * @symbol: the name of a function of the module, of the form
 *   `GVariant *fn (GVariant *args, GCancellable *cancellable, GError **error)`
 * @args: (nullable): the arguments; a floating reference is taken
 *
 * Creates a task that calls @symbol of @module_path in a C worker process.
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new task
 *
 * Since: 1.0
 */
AgWorkerTask *
ag_worker_task_new_c (const char *module_path,
                      const char *symbol,
                      GVariant   *args)
{
  g_autofree char *target = NULL;

  g_return_val_if_fail (module_path != NULL, NULL);
  g_return_val_if_fail (symbol != NULL && symbol[0] != '\0', NULL);

  target = g_strconcat (module_path, ":", symbol, NULL);
  return ag_worker_task_new (AG_WORKER_C, target, args);
}

/**
 * ag_worker_task_new_python:
 * @module_function: an importable function, `package.module:function`
 * @pickled_args: the pickled `(args, kwargs)` to call it with
 *
 * Creates a task that calls a Python function in a Python worker process.
 * The value is the pickled result as a `ay` variant; a failure carries the
 * pickled exception in [method@WorkerTask.get_error_data]. A sandboxed
 * task ([property@WorkerTask:sandboxed]) answers with plain data instead,
 * never a pickle: the result converted to a [struct@GLib.Variant], and a
 * failure's type name and message as `(ss)`. The Python binding's
 * `ProcessTask` is built on this.
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new task
 *
 * Since: 1.0
 */
AgWorkerTask *
ag_worker_task_new_python (const char *module_function,
                           GBytes     *pickled_args)
{
  g_return_val_if_fail (module_function != NULL, NULL);
  g_return_val_if_fail (pickled_args != NULL, NULL);

  return ag_worker_task_new (AG_WORKER_PYTHON, module_function,
                             g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING,
                                                       pickled_args, TRUE));
}

/**
 * ag_worker_task_new_gjs:
 * @module_uri: the URI of an ES module
 * @export_name: the name of a function the module exports
 * @json_args: the arguments, a JSON array
 *
 * Creates a task that calls a JavaScript function in a GJS worker process,
 * so that JavaScript work runs in parallel. The value is the function's
 * result as JSON text in a `s` variant.
 *
 * Thread: any.
 *
 * Returns: (transfer full): a new task
 *
 * Since: 1.0
 */
AgWorkerTask *
ag_worker_task_new_gjs (const char *module_uri,
                        const char *export_name,
                        const char *json_args)
{
  g_autofree char *target = NULL;

  g_return_val_if_fail (module_uri != NULL, NULL);
  g_return_val_if_fail (export_name != NULL && export_name[0] != '\0', NULL);
  g_return_val_if_fail (json_args != NULL, NULL);

  target = g_strconcat (module_uri, ":", export_name, NULL);
  return ag_worker_task_new (AG_WORKER_GJS, target, g_variant_new_string (json_args));
}

/**
 * ag_worker_task_get_kind:
 * @self: a worker task
 *
 * Gets the kind of worker that runs the task.
 *
 * Thread: any.
 *
 * Returns: the worker kind
 *
 * Since: 1.0
 */
AgWorkerKind
ag_worker_task_get_kind (AgWorkerTask *self)
{
  g_return_val_if_fail (AG_IS_WORKER_TASK (self), AG_WORKER_C);

  return self->kind;
}

/**
 * ag_worker_task_get_target:
 * @self: a worker task
 *
 * Gets what the task calls, `MODULE:FUNCTION`.
 *
 * Thread: any.
 *
 * Returns: (transfer none): the target
 *
 * Since: 1.0
 */
const char *
ag_worker_task_get_target (AgWorkerTask *self)
{
  g_return_val_if_fail (AG_IS_WORKER_TASK (self), NULL);

  return self->target;
}

/**
 * ag_worker_task_get_args:
 * @self: a worker task
 *
 * Gets the arguments the task calls its function with.
 *
 * Thread: any.
 *
 * Returns: (transfer none): the arguments
 *
 * Since: 1.0
 */
GVariant *
ag_worker_task_get_args (AgWorkerTask *self)
{
  g_return_val_if_fail (AG_IS_WORKER_TASK (self), NULL);

  return self->args;
}

/**
 * ag_worker_task_set_timeout_ms:
 * @self: a worker task not yet run
 * @timeout_ms: how long the function may run, in milliseconds; -1 for the
 *   engine's [property@WorkerPool:timeout-ms], 0 for no limit
 *
 * Sets how long the function may run before the call fails with
 * %G_IO_ERROR_TIMED_OUT and its worker is killed and replaced. Time spent
 * waiting for a free worker, or for a fresh one to start, does not count;
 * a start-up that takes longer than @timeout_ms fails the call too.
 *
 * Thread: any, until the task is run
 *
 * Since: 1.0
 */
void
ag_worker_task_set_timeout_ms (AgWorkerTask *self,
                               int           timeout_ms)
{
  g_return_if_fail (AG_IS_WORKER_TASK (self));
  g_return_if_fail (timeout_ms >= -1);

  if (ag_task_get_state (AG_TASK (self)) != AG_TASK_PENDING)
    {
      g_critical ("%s: the worker task %p has been run; its timeout can no longer be changed",
                  G_STRFUNC, self);
      return;
    }

  if (self->timeout_ms == timeout_ms)
    return;

  self->timeout_ms = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT_MS]);
}

/**
 * ag_worker_task_get_timeout_ms:
 * @self: a worker task
 *
 * Gets the task's own timeout.
 *
 * Returns: milliseconds; -1 for the engine's, 0 for none
 *
 * Thread: any
 *
 * Since: 1.0
 */
int
ag_worker_task_get_timeout_ms (AgWorkerTask *self)
{
  g_return_val_if_fail (AG_IS_WORKER_TASK (self), -1);

  return self->timeout_ms;
}

/**
 * ag_worker_task_get_worker_pid:
 * @self: a finished worker task
 *
 * Gets the process id of the worker that ran the task. It is for messages
 * and tests: the worker may have exited since, and its id been reused, so
 * do not send it signals; cancel the task instead.
 *
 * Thread: the engine's.
 *
 * Returns: the process id, or 0 if no worker ran it
 *
 * Since: 1.0
 */
int
ag_worker_task_get_worker_pid (AgWorkerTask *self)
{
  g_return_val_if_fail (AG_IS_WORKER_TASK (self), 0);

  return ag_task_is_finished (AG_TASK (self)) ? g_atomic_int_get (&self->pid) : 0;
}

/**
 * ag_worker_task_get_error_data:
 * @self: a failed worker task
 *
 * Gets what the worker sent along with its failure: for a Python worker,
 * the pickled exception (`ay`), so that the binding can raise it again.
 *
 * Thread: the engine's, or any thread once the task has finished.
 *
 * Returns: (transfer none) (nullable): the data, or %NULL
 *
 * Since: 1.0
 */
GVariant *
ag_worker_task_get_error_data (AgWorkerTask *self)
{
  g_return_val_if_fail (AG_IS_WORKER_TASK (self), NULL);

  if (ag_task_get_state (AG_TASK (self)) != AG_TASK_FAILED)
    return NULL;

  return g_atomic_pointer_get (&self->error_data);
}
