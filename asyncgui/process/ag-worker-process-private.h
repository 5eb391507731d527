/* ag-worker-process-private.h: one warm worker process, and the pipes to it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "ag-process-thread-private.h"

G_BEGIN_DECLS

typedef struct _AgWorkerProcess AgWorkerProcess;

/* What a worker process tells its owner, on the process thread. None of
 * them comes after _ag_worker_process_kill(), which they may call. */
typedef struct
{
  /* A message from the worker (AG_REPLY_TYPE): its greeting, then replies. */
  void (*received) (AgWorkerProcess *process,
                    GVariant        *message,
                    gpointer         data);
  /* The request given to _ag_worker_process_send() is written whole;
   * often before that call returns. */
  void (*sent)     (AgWorkerProcess *process,
                    gpointer         data);
  /* It is of no more use: it closed its output, or its pipes failed
   * (@error is NULL: its exit status will say more), or it broke the
   * protocol (@error, AG_ERROR_PROTOCOL, which this takes). */
  void (*lost)     (AgWorkerProcess *process,
                    GError          *error,
                    gpointer         data);
} AgWorkerProcessEvents;

/* What to start as a worker. A sandboxed one runs under bwrap, seeing
 * @ro_paths, and gets the seccomp filter @filter_program writes, to load
 * itself once it runs. */
typedef struct
{
  const char * const  *argv;
  gboolean             sandboxed;
  const char * const  *ro_paths;
  const char          *filter_program;
} AgWorkerCommand;

/* Called once the process has exited (@exited), or the wait was cancelled. */
typedef void (*AgWorkerProcessExitFunc) (AgWorkerProcess *process,
                                         gboolean         exited,
                                         gpointer         data);

AgWorkerProcess *_ag_worker_process_spawn       (AgProcessThread              *thread,
                                                 const AgWorkerCommand        *command,
                                                 const AgWorkerProcessEvents  *events,
                                                 gpointer                      data,
                                                 GError                      **error);
int              _ag_worker_process_get_pid     (AgWorkerProcess              *process);
void             _ag_worker_process_greeted     (AgWorkerProcess              *process);
gboolean         _ag_worker_process_send_fds    (AgWorkerProcess              *process,
                                                 guint64                       id,
                                                 GUnixFDList                  *fds,
                                                 GError                      **error);
gboolean         _ag_worker_process_set_limits  (AgWorkerProcess              *process,
                                                 guint64                       memory_limit,
                                                 int                           cpu_limit_ms,
                                                 GError                      **error);
void             _ag_worker_process_send        (AgWorkerProcess              *process,
                                                 GBytes                       *frame);
void             _ag_worker_process_close_input (AgWorkerProcess              *process);
gboolean         _ag_worker_process_request_untaken (AgWorkerProcess          *process);
void             _ag_worker_process_kill        (AgWorkerProcess              *process);
void             _ag_worker_process_let_go      (AgWorkerProcess              *process);
void             _ag_worker_process_force_exit  (AgWorkerProcess              *process);
void             _ag_worker_process_wait_exit   (AgWorkerProcess              *process,
                                                 GCancellable                 *cancellable,
                                                 AgWorkerProcessExitFunc       func,
                                                 gpointer                      data);
gboolean         _ag_worker_process_was_killed  (AgWorkerProcess              *process);
GError          *_ag_worker_process_crash_error (AgWorkerProcess              *process);
GError          *_ag_worker_process_start_error (AgWorkerProcess              *process,
                                                 const GError                 *protocol_error,
                                                 guint                         attempts);

G_END_DECLS
