/* ag-worker-pool.c: an engine's worker processes, as the application sees
 * and configures them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-engine-private.h"
#include "ag-sandbox-private.h"
#include "ag-worker-location-private.h"
#include "ag-worker-pool-private.h"

/**
 * AgWorkerPool:
 *
 * The worker processes of an engine: how many may run at once, how long an
 * idle one is kept, how long a call may take, and which program serves as
 * a worker of each [enum@WorkerKind].
 *
 * Every engine has one, made on first use with
 * [method@Engine.get_worker_pool]; [class@WorkerTask] and
 * [class@CommandTask] run their processes through it. The processes
 * themselves, and the thread that talks to them, start with the first of
 * those tasks and are stopped when the engine is disposed.
 *
 * ```c
 * AgWorkerPool *workers = ag_engine_get_worker_pool (engine);
 *
 * ag_worker_pool_set_max_processes (workers, 2);
 * ag_worker_pool_set_timeout_ms (workers, 30 * 1000);
 * ```
 *
 * The settings belong to the process layer rather than to [class@Engine]
 * itself, so that an engine used only for threads carries none of it.
 *
 * Sandboxed workers ([property@WorkerTask:sandboxed]) are a set of their
 * own, started under bubblewrap; [method@WorkerPool.check_sandbox] says
 * whether they can run here, and [property@WorkerPool:allow-unsandboxed]
 * whether a sandboxed call may run in an ordinary worker where they
 * cannot. See [Handling untrusted input](untrusted-input.html).
 *
 * Since: 1.0
 */

/* The settings live here, on the engine's thread; what runs the processes
 * lives on the process thread, which the first process task starts:
 *
 *   ag-process-thread.c   the thread, with its own main context
 *   ag-process-pool.c     warm workers: a call in, a reply out
 *   ag-command-runner.c   commands: a command in, a reply out
 *
 * Neither of those knows a task. AgWorkerTask and AgCommandTask are their
 * clients: they make a request when they start, and their reply functions
 * return the task. */

struct _AgWorkerPool
{
  GObject           parent_instance;

  AgEngine         *engine;        /* weak: the engine holds the pool */
  int               max_processes;
  guint             idle_ms;
  guint             timeout_ms;
  char            **commands[AG_WORKER_GJS + 1];
  gboolean          allow_unsandboxed;
  char            **sandbox_paths;

  /* Made on first use; gone once the engine is. */
  AgProcessThread  *thread;
  AgProcessPool    *processes;
  AgCommandRunner  *runner;
  gboolean          shut_down;
};

G_DEFINE_FINAL_TYPE (AgWorkerPool, ag_worker_pool, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MAX_PROCESSES,
  PROP_IDLE_MS,
  PROP_TIMEOUT_MS,
  PROP_ALLOW_UNSANDBOXED,
  PROP_SANDBOX_PATHS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define MAX_PROCESSES_LIMIT 1024
#define DEFAULT_IDLE_MS     10000

static void
ag_worker_pool_finalize (GObject *object)
{
  AgWorkerPool *self = AG_WORKER_POOL (object);

  g_assert (self->thread == NULL);
  for (guint i = 0; i < G_N_ELEMENTS (self->commands); i++)
    g_strfreev (self->commands[i]);
  g_strfreev (self->sandbox_paths);

  G_OBJECT_CLASS (ag_worker_pool_parent_class)->finalize (object);
}

static void
ag_worker_pool_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  AgWorkerPool *self = AG_WORKER_POOL (object);

  switch (prop_id)
    {
    case PROP_MAX_PROCESSES:
      g_value_set_int (value, self->max_processes);
      break;
    case PROP_IDLE_MS:
      g_value_set_uint (value, self->idle_ms);
      break;
    case PROP_TIMEOUT_MS:
      g_value_set_uint (value, self->timeout_ms);
      break;
    case PROP_ALLOW_UNSANDBOXED:
      g_value_set_boolean (value, self->allow_unsandboxed);
      break;
    case PROP_SANDBOX_PATHS:
      g_value_take_boxed (value, ag_worker_pool_dup_sandbox_paths (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_worker_pool_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  AgWorkerPool *self = AG_WORKER_POOL (object);

  switch (prop_id)
    {
    case PROP_MAX_PROCESSES:
      ag_worker_pool_set_max_processes (self, g_value_get_int (value));
      break;
    case PROP_IDLE_MS:
      ag_worker_pool_set_idle_ms (self, g_value_get_uint (value));
      break;
    case PROP_TIMEOUT_MS:
      ag_worker_pool_set_timeout_ms (self, g_value_get_uint (value));
      break;
    case PROP_ALLOW_UNSANDBOXED:
      ag_worker_pool_set_allow_unsandboxed (self, g_value_get_boolean (value));
      break;
    case PROP_SANDBOX_PATHS:
      ag_worker_pool_set_sandbox_paths (self, g_value_get_boxed (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ag_worker_pool_class_init (AgWorkerPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ag_worker_pool_finalize;
  object_class->get_property = ag_worker_pool_get_property;
  object_class->set_property = ag_worker_pool_set_property;

  /**
   * AgWorkerPool:max-processes: (getter get_max_processes) (setter set_max_processes)
   *
   * How many worker processes of each kind may run at once. The default is
   * the number of processors.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_PROCESSES] =
    g_param_spec_int ("max-processes", NULL, NULL,
                      1, MAX_PROCESSES_LIMIT, g_get_num_processors (),
                      (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgWorkerPool:idle-ms: (getter get_idle_ms) (setter set_idle_ms)
   *
   * How long a worker process may sit idle before it is let go, in
   * milliseconds; the next call starts a fresh one. A worker is let go by
   * the end of its standard input, and from then on takes no call; one
   * that has not exited 5 seconds later is killed.
   *
   * Since: 1.0
   */
  properties[PROP_IDLE_MS] =
    g_param_spec_uint ("idle-ms", NULL, NULL,
                       1, G_MAXUINT, DEFAULT_IDLE_MS,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgWorkerPool:timeout-ms: (getter get_timeout_ms) (setter set_timeout_ms)
   *
   * How long, in milliseconds, a worker call or a command may take when its
   * task's own `timeout-ms` is -1 (as it is unless set); 0, the default, is
   * no limit. A task takes the value when it is run. See
   * [property@WorkerTask:timeout-ms] and [property@CommandTask:timeout-ms].
   *
   * Since: 1.0
   */
  properties[PROP_TIMEOUT_MS] =
    g_param_spec_uint ("timeout-ms", NULL, NULL,
                       0, G_MAXINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgWorkerPool:allow-unsandboxed: (getter get_allow_unsandboxed) (setter set_allow_unsandboxed)
   *
   * Whether a sandboxed call may run in an ordinary worker where the
   * sandbox cannot run: bubblewrap is missing (see
   * [method@WorkerPool.check_sandbox]), or it is there but its sandbox
   * does not start (in a container that forbids user namespaces, say).
   * It is %FALSE by default: such a call fails with
   * %AG_ERROR_SANDBOX_UNAVAILABLE. When set, the call runs unprotected,
   * in a worker of its own set that still answers with plain data only.
   *
   * Since: 1.0
   */
  properties[PROP_ALLOW_UNSANDBOXED] =
    g_param_spec_boolean ("allow-unsandboxed", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * AgWorkerPool:sandbox-paths: (getter dup_sandbox_paths) (setter set_sandbox_paths)
   *
   * Folders a sandboxed worker sees, read-only, besides `/usr` and the
   * worker programs' own: where the application's worker code lives when
   * it is not under `/usr` (C modules, Python packages, JavaScript
   * modules). Never the user's data: pass files as descriptors instead
   * ([method@WorkerTask.add_file]). Workers started from now on see them.
   *
   * Since: 1.0
   */
  properties[PROP_SANDBOX_PATHS] =
    g_param_spec_boxed ("sandbox-paths", NULL, NULL,
                        G_TYPE_STRV,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ag_worker_pool_init (AgWorkerPool *self)
{
  self->max_processes = g_get_num_processors ();
  self->idle_ms = DEFAULT_IDLE_MS;
}

static GQuark
extension_key (void)
{
  return g_quark_from_static_string ("ag-worker-pool");
}

/* The program each kind runs unless told otherwise: the workers built with
 * this library, in the folder ag-worker-location.c finds. */
static char **
default_command (AgWorkerKind kind)
{
  g_autoptr(GStrvBuilder) argv = g_strv_builder_new ();
  const char *programs[] = { "asyncgui-worker", "asyncgui-python-worker.py", "asyncgui-gjs-worker.js" };
  g_autofree char *program = g_build_filename (_ag_worker_location_get_dir (), programs[kind], NULL);

  if (kind == AG_WORKER_PYTHON)
    g_strv_builder_add (argv, PYTHON3);
  else if (kind == AG_WORKER_GJS)
    g_strv_builder_add_many (argv, "gjs", "-m", NULL);
  g_strv_builder_add (argv, program);

  return g_strv_builder_end (argv);
}

/* The engine is being disposed: its processes go with it. Every request
 * still open is answered on the process thread (the engine abandoned the
 * tasks that made them already), then the thread stops. The settings
 * object lives as long as the engine does. */
static void
engine_shut_down (gpointer data)
{
  AgWorkerPool *self = data;

  if (self->processes != NULL)
    _ag_process_pool_shutdown (self->processes);
  if (self->runner != NULL)
    _ag_command_runner_shutdown (self->runner);
  g_clear_pointer (&self->thread, _ag_process_thread_stop);
  g_clear_pointer (&self->processes, _ag_process_pool_free);
  g_clear_pointer (&self->runner, _ag_command_runner_free);

  self->shut_down = TRUE;
  self->engine = NULL;
}

/**
 * ag_engine_get_worker_pool:
 * @engine: an engine that has not been disposed
 *
 * Gets the worker processes of @engine, to configure them. The pool is
 * made on first use and lives as long as the engine; its processes start
 * with the first process task.
 *
 * Thread: the engine's.
 *
 * Returns: (transfer none): the engine's worker pool
 *
 * Since: 1.0
 */
AgWorkerPool *
ag_engine_get_worker_pool (AgEngine *engine)
{
  AgWorkerPool *self;

  g_return_val_if_fail (AG_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (!_ag_engine_is_disposed (engine), NULL);
  g_return_val_if_fail (_ag_engine_is_own_thread (engine), NULL);

  self = _ag_engine_get_extension (engine, extension_key ());
  if (self == NULL)
    {
      self = g_object_new (AG_TYPE_WORKER_POOL, NULL);
      self->engine = engine;
      _ag_engine_set_extension (engine, extension_key (), self, engine_shut_down,
                                g_object_unref);
    }

  return self;
}

/* The pool of @engine, for a process task it runs; NULL once @engine is
 * gone or going. The engine's thread. */
AgWorkerPool *
_ag_worker_pool_of (AgEngine *engine)
{
  if (engine == NULL || _ag_engine_is_disposed (engine))
    return NULL;

  return ag_engine_get_worker_pool (engine);
}

static AgProcessThread *
get_thread (AgWorkerPool *self)
{
  if (self->thread == NULL && !self->shut_down)
    self->thread = _ag_process_thread_new ();

  return self->thread;
}

/* The folders a sandboxed worker needs to see, read-only: the worker
 * programs' and the application's. */
static char **
sandbox_ro_paths (AgWorkerPool *self)
{
  g_autoptr(GStrvBuilder) paths = g_strv_builder_new ();

  g_strv_builder_add (paths, _ag_worker_location_get_dir ());
  if (self->sandbox_paths != NULL)
    g_strv_builder_addv (paths, (const char **) self->sandbox_paths);

  return g_strv_builder_end (paths);
}

static void
set_command (AgWorkerPool *self,
             AgWorkerKind  kind)
{
  g_auto(GStrv) argv = ag_worker_pool_dup_command (self, kind);
  g_auto(GStrv) ro_paths = sandbox_ro_paths (self);
  g_autofree char *filter_program = _ag_worker_pool_dup_filter_program ();
  const char *flags[AG_WORKER_N_SETS] = { NULL, "--sandbox", "--plain" };

  for (AgWorkerSet set = AG_WORKER_SET_TRUSTED; set < AG_WORKER_N_SETS; set++)
    {
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
      g_auto(GStrv) set_argv = NULL;

      /* The worker learns from its command line which set it is in. */
      g_strv_builder_addv (builder, (const char **) argv);
      if (flags[set] != NULL)
        g_strv_builder_add (builder, flags[set]);
      set_argv = g_strv_builder_end (builder);

      if (set == AG_WORKER_SET_SANDBOXED)
        _ag_process_pool_set_sandbox (self->processes, _ag_worker_pool_kind_in_set (kind, set),
                                      filter_program, (const char * const *) ro_paths);
      _ag_process_pool_set_command (self->processes, _ag_worker_pool_kind_in_set (kind, set),
                                    (const char * const *) set_argv);
    }
}

/* The warm workers, started on first use. NULL once the engine is gone. */
AgProcessPool *
_ag_worker_pool_get_processes (AgWorkerPool *self)
{
  if (self->processes == NULL && get_thread (self) != NULL)
    {
      self->processes = _ag_process_pool_new (self->thread, AG_WORKER_N_KINDS * AG_WORKER_N_SETS,
                                              self->max_processes, self->idle_ms);
      for (int kind = AG_WORKER_C; kind <= AG_WORKER_GJS; kind++)
        set_command (self, kind);
    }

  return self->processes;
}

/* What runs commands, started on first use. NULL once the engine is gone. */
AgCommandRunner *
_ag_worker_pool_get_runner (AgWorkerPool *self)
{
  if (self->runner == NULL && get_thread (self) != NULL)
    self->runner = _ag_command_runner_new (self->thread);

  return self->runner;
}

/* The main context of the thread that does the pool's process I/O, or
 * NULL before the first process task and after the engine is gone; for
 * tests, which look at what a call costs that thread. */
GMainContext *
_ag_worker_pool_peek_thread_context (AgWorkerPool *self)
{
  return self->thread != NULL ? _ag_process_thread_get_context (self->thread) : NULL;
}

/* The limit a task that asks for @timeout_ms (-1: the pool's) runs with,
 * in milliseconds; 0 for none. */
guint
_ag_worker_pool_resolve_timeout (AgWorkerPool *self,
                                 int           timeout_ms)
{
  return timeout_ms >= 0 ? (guint) timeout_ms : self->timeout_ms;
}

static gboolean
on_engine_thread (AgWorkerPool *self)
{
  return self->engine == NULL || _ag_engine_is_own_thread (self->engine);
}

/**
 * ag_worker_pool_get_max_processes: (get-property max-processes)
 * @self: a worker pool
 *
 * Gets how many worker processes of each kind may run at once.
 *
 * Thread: any.
 *
 * Returns: the process limit
 *
 * Since: 1.0
 */
int
ag_worker_pool_get_max_processes (AgWorkerPool *self)
{
  g_return_val_if_fail (AG_IS_WORKER_POOL (self), 0);

  return self->max_processes;
}

/**
 * ag_worker_pool_set_max_processes: (set-property max-processes)
 * @self: a worker pool
 * @max_processes: how many worker processes of each kind may run at once,
 *   from 1 to 1024
 *
 * Sets how many worker processes of each kind may run at once. Lowering it
 * lets surplus workers finish their call and go.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_worker_pool_set_max_processes (AgWorkerPool *self,
                                  int           max_processes)
{
  g_return_if_fail (AG_IS_WORKER_POOL (self));
  g_return_if_fail (on_engine_thread (self));
  g_return_if_fail (max_processes >= 1 && max_processes <= MAX_PROCESSES_LIMIT);

  if (self->max_processes == max_processes)
    return;

  self->max_processes = max_processes;
  if (self->processes != NULL)
    _ag_process_pool_set_max_processes (self->processes, max_processes);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_PROCESSES]);
}

/**
 * ag_worker_pool_get_idle_ms: (get-property idle-ms)
 * @self: a worker pool
 *
 * Gets how long a worker process may sit idle.
 *
 * Thread: any.
 *
 * Returns: milliseconds
 *
 * Since: 1.0
 */
guint
ag_worker_pool_get_idle_ms (AgWorkerPool *self)
{
  g_return_val_if_fail (AG_IS_WORKER_POOL (self), 0);

  return self->idle_ms;
}

/**
 * ag_worker_pool_set_idle_ms: (set-property idle-ms)
 * @self: a worker pool
 * @idle_ms: milliseconds, at least 1
 *
 * Sets how long a worker process may sit idle before it is let go.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_worker_pool_set_idle_ms (AgWorkerPool *self,
                            guint         idle_ms)
{
  g_return_if_fail (AG_IS_WORKER_POOL (self));
  g_return_if_fail (on_engine_thread (self));
  g_return_if_fail (idle_ms >= 1);

  if (self->idle_ms == idle_ms)
    return;

  self->idle_ms = idle_ms;
  if (self->processes != NULL)
    _ag_process_pool_set_idle_ms (self->processes, idle_ms);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IDLE_MS]);
}

/**
 * ag_worker_pool_get_timeout_ms: (get-property timeout-ms)
 * @self: a worker pool
 *
 * Gets how long a worker call or a command without a timeout of its own
 * may take.
 *
 * Thread: any.
 *
 * Returns: milliseconds, 0 for no limit
 *
 * Since: 1.0
 */
guint
ag_worker_pool_get_timeout_ms (AgWorkerPool *self)
{
  g_return_val_if_fail (AG_IS_WORKER_POOL (self), 0);

  return self->timeout_ms;
}

/**
 * ag_worker_pool_set_timeout_ms: (set-property timeout-ms)
 * @self: a worker pool
 * @timeout_ms: milliseconds, up to %G_MAXINT; 0 for no limit
 *
 * Sets how long a worker call or a command whose task leaves its
 * `timeout-ms` at -1 may take before it fails with %G_IO_ERROR_TIMED_OUT
 * and its process is killed. Tasks already running keep the timeout they
 * started with.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_worker_pool_set_timeout_ms (AgWorkerPool *self,
                               guint         timeout_ms)
{
  g_return_if_fail (AG_IS_WORKER_POOL (self));
  g_return_if_fail (on_engine_thread (self));
  g_return_if_fail (timeout_ms <= G_MAXINT);

  if (self->timeout_ms == timeout_ms)
    return;

  self->timeout_ms = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT_MS]);
}

/**
 * ag_worker_pool_set_command:
 * @self: a worker pool
 * @kind: a kind of worker
 * @argv: (nullable) (array zero-terminated=1): the program that serves as
 *   a worker of @kind, and its arguments; %NULL for the installed one
 *
 * Sets the program started as a worker of @kind, for workers started from
 * now on. The Python binding uses it to run workers with the interpreter
 * of the calling program.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_worker_pool_set_command (AgWorkerPool       *self,
                            AgWorkerKind        kind,
                            const char * const *argv)
{
  g_return_if_fail (AG_IS_WORKER_POOL (self));
  g_return_if_fail (on_engine_thread (self));
  g_return_if_fail (kind >= AG_WORKER_C && kind <= AG_WORKER_GJS);
  g_return_if_fail (argv == NULL || argv[0] != NULL);

  g_strfreev (self->commands[kind]);
  self->commands[kind] = g_strdupv ((char **) argv);
  if (self->processes != NULL)
    set_command (self, kind);
}

/**
 * ag_worker_pool_dup_command:
 * @self: a worker pool
 * @kind: a kind of worker
 *
 * Gets the program started as a worker of @kind: the one set with
 * [method@WorkerPool.set_command], or the installed one.
 *
 * Thread: any, while no other thread sets it.
 *
 * Returns: (transfer full) (array zero-terminated=1): the program and its
 *   arguments
 *
 * Since: 1.0
 */
char **
ag_worker_pool_dup_command (AgWorkerPool *self,
                            AgWorkerKind  kind)
{
  g_return_val_if_fail (AG_IS_WORKER_POOL (self), NULL);
  g_return_val_if_fail (kind >= AG_WORKER_C && kind <= AG_WORKER_GJS, NULL);

  if (self->commands[kind] != NULL)
    return g_strdupv (self->commands[kind]);

  return default_command (kind);
}

/**
 * ag_worker_pool_get_allow_unsandboxed: (get-property allow-unsandboxed)
 * @self: a worker pool
 *
 * Gets whether a sandboxed call may run unsandboxed where the sandbox
 * cannot run.
 *
 * Thread: any.
 *
 * Returns: whether it may
 *
 * Since: 1.0
 */
gboolean
ag_worker_pool_get_allow_unsandboxed (AgWorkerPool *self)
{
  g_return_val_if_fail (AG_IS_WORKER_POOL (self), FALSE);

  return g_atomic_int_get (&self->allow_unsandboxed);
}

/**
 * ag_worker_pool_set_allow_unsandboxed: (set-property allow-unsandboxed)
 * @self: a worker pool
 * @allow_unsandboxed: whether a sandboxed call may run unsandboxed where
 *   the sandbox cannot run
 *
 * Sets whether a sandboxed call may run unprotected where the sandbox
 * cannot run. See [property@WorkerPool:allow-unsandboxed].
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_worker_pool_set_allow_unsandboxed (AgWorkerPool *self,
                                      gboolean      allow_unsandboxed)
{
  g_return_if_fail (AG_IS_WORKER_POOL (self));
  g_return_if_fail (on_engine_thread (self));

  allow_unsandboxed = !!allow_unsandboxed;
  if (self->allow_unsandboxed == allow_unsandboxed)
    return;

  g_atomic_int_set (&self->allow_unsandboxed, allow_unsandboxed);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALLOW_UNSANDBOXED]);
}

/**
 * ag_worker_pool_set_sandbox_paths: (set-property sandbox-paths)
 * @self: a worker pool
 * @paths: (nullable) (array zero-terminated=1): absolute paths of folders
 *   a sandboxed worker may read, or %NULL for none
 *
 * Sets the folders a sandboxed worker sees read-only. See
 * [property@WorkerPool:sandbox-paths].
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_worker_pool_set_sandbox_paths (AgWorkerPool       *self,
                                  const char * const *paths)
{
  g_return_if_fail (AG_IS_WORKER_POOL (self));
  g_return_if_fail (on_engine_thread (self));

  for (guint i = 0; paths != NULL && paths[i] != NULL; i++)
    g_return_if_fail (g_path_is_absolute (paths[i]) && !g_str_equal (paths[i], "/"));

  /* None is kept as NULL, whichever way it was given. */
  if (paths != NULL && paths[0] == NULL)
    paths = NULL;
  if (paths == NULL ? self->sandbox_paths == NULL
                    : self->sandbox_paths != NULL
                      && g_strv_equal ((const char * const *) self->sandbox_paths, paths))
    return;

  g_strfreev (self->sandbox_paths);
  self->sandbox_paths = g_strdupv ((char **) paths);
  if (self->processes != NULL)
    for (int kind = AG_WORKER_C; kind <= AG_WORKER_GJS; kind++)
      set_command (self, kind);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SANDBOX_PATHS]);
}

/**
 * ag_worker_pool_dup_sandbox_paths: (get-property sandbox-paths)
 * @self: a worker pool
 *
 * Gets the folders a sandboxed worker sees read-only, besides `/usr` and
 * the worker programs' own.
 *
 * Thread: the engine's.
 *
 * Returns: (transfer full) (array zero-terminated=1): the paths
 *
 * Since: 1.0
 */
char **
ag_worker_pool_dup_sandbox_paths (AgWorkerPool *self)
{
  g_return_val_if_fail (AG_IS_WORKER_POOL (self), NULL);

  return self->sandbox_paths != NULL ? g_strdupv (self->sandbox_paths) : g_new0 (char *, 1);
}

/* The program that writes the sandbox's seccomp filter. */
char *
_ag_worker_pool_dup_filter_program (void)
{
  return g_build_filename (_ag_worker_location_get_dir (), "asyncgui-sandbox-filter", NULL);
}

/**
 * ag_worker_pool_check_sandbox:
 * @self: a worker pool
 * @error: return location for why the sandbox cannot run
 *
 * Checks whether sandboxed workers can run here: bubblewrap (`bwrap`) is
 * installed, the kernel has seccomp filters, and asyncgui was built with
 * its seccomp filter (which needs libseccomp). The first check in a
 * process runs a small program, once; call it at start-up rather than
 * while the GUI is busy. A sandbox that passes this and still fails to
 * start (user name-spaces turned off, say) fails the call that tried with
 * %AG_ERROR_SANDBOX_UNAVAILABLE.
 *
 * Thread: any.
 *
 * Returns: %TRUE if sandboxed workers can run; %FALSE with @error set,
 *   %AG_ERROR_SANDBOX_UNAVAILABLE, saying what is missing
 *
 * Since: 1.0
 */
gboolean
ag_worker_pool_check_sandbox (AgWorkerPool  *self,
                              GError       **error)
{
  g_autofree char *filter_program = NULL;

  g_return_val_if_fail (AG_IS_WORKER_POOL (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  filter_program = _ag_worker_pool_dup_filter_program ();
  return _ag_sandbox_check (filter_program, error);
}
