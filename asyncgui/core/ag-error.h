/* ag-error.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include "ag-version-macros.h"
#include <glib.h>

G_BEGIN_DECLS

/**
 * AG_ERROR:
 *
 * The error domain of asyncgui.
 *
 * Cancellation is reported as %G_IO_ERROR_CANCELLED and timeouts as
 * %G_IO_ERROR_TIMED_OUT; this domain covers the rest.
 *
 * Since: 1.0
 */
#define AG_ERROR (ag_error_quark ())

/**
 * AgError:
 * @AG_ERROR_FAILED: a task failed and no more specific code applies.
 * @AG_ERROR_NO_RESULT: a task function or a channel transform returned
 *   without returning a value or an error.
 * @AG_ERROR_ENGINE_DISPOSED: the engine was shut down before the work could
 *   run.
 * @AG_ERROR_WOULD_DEADLOCK: a blocking wait was asked for where it could
 *   never finish, such as on the engine's own thread while it delivers.
 * @AG_ERROR_WORKER_CRASHED: a worker process died while running a task.
 * @AG_ERROR_PROTOCOL: a worker process sent bytes that do not follow the
 *   worker protocol.
 * @AG_ERROR_NOT_IN_JOB: a call that only works inside a job was made
 *   elsewhere.
 * @AG_ERROR_COMMAND_FAILED: a command exited with a non-zero status or was
 *   killed by a signal.
 * @AG_ERROR_DEPENDENCY_CYCLE: a task would depend on itself, directly or
 *   through other tasks.
 * @AG_ERROR_TYPE_MISMATCH: a value was asked for as one type and is of
 *   another.
 * @AG_ERROR_SANDBOX_UNAVAILABLE: a sandboxed worker call was asked for, the
 *   sandbox (bubblewrap or seccomp) cannot run here, and the worker pool
 *   does not allow running it unsandboxed.
 * @AG_ERROR_MEMORY_LIMIT: a worker call used more memory than its task's
 *   memory limit allows.
 * @AG_ERROR_CPU_LIMIT: a worker call used more processor time than its
 *   task's limit allows.
 *
 * Error codes in the %AG_ERROR domain.
 *
 * Since: 1.0
 */
typedef enum
{
  AG_ERROR_FAILED,
  AG_ERROR_NO_RESULT,
  AG_ERROR_ENGINE_DISPOSED,
  AG_ERROR_WOULD_DEADLOCK,
  AG_ERROR_WORKER_CRASHED,
  AG_ERROR_PROTOCOL,
  AG_ERROR_NOT_IN_JOB,
  AG_ERROR_COMMAND_FAILED,
  AG_ERROR_DEPENDENCY_CYCLE,
  AG_ERROR_TYPE_MISMATCH,
  AG_ERROR_SANDBOX_UNAVAILABLE,
  AG_ERROR_MEMORY_LIMIT,
  AG_ERROR_CPU_LIMIT,
} AgError;

AG_AVAILABLE_IN_1_0
GQuark ag_error_quark (void);

G_END_DECLS
