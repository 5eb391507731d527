/* ag-process-pool-private.h: warm worker processes, which answer calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "ag-process-thread-private.h"

G_BEGIN_DECLS

typedef struct _AgProcessPool AgProcessPool;

/* What a call came to, handed to its reply function. The function may take
 * any field (leaving NULL behind); the pool frees what is left. */
typedef struct
{
  GVariant *value;       /* what the function returned, if it succeeded */
  GError   *error;       /* why the call failed, if it did */
  GVariant *error_data;  /* what the worker sent along with its error, or NULL */
  int       pid;         /* of the worker that ran the call; 0 if none did */
} AgProcessReply;

/* Checks a reply before its reply function sees it, on the pool's
 * thread; may replace it with an error. A reply it makes an
 * AG_ERROR_PROTOCOL costs the worker its place, as any breach does. */
typedef void (*AgProcessReplyCheck) (AgProcessReply *reply,
                                     gpointer        user_data);

/* Whether the call was cancelled, from any thread; gets the call's user
 * data. */
typedef gboolean (*AgProcessCancelledFunc) (gpointer user_data);

/* How a call runs, besides its target and arguments. */
typedef struct
{
  AgProcessReplyCheck check;   /* NULL: none; gets the call's user data */
  guint        timeout_ms;     /* 0: no limit */
  GUnixFDList *fds;            /* passed to the worker with the call; NULL: none */
  guint64      memory_limit;   /* bytes of address space; 0: none */
  int          cpu_limit_ms;   /* 0: none */
  int          fallback_kind;  /* for a sandboxed kind: where the call runs
                                * when the sandbox cannot; -1: it fails */
  AgProcessCancelledFunc cancelled; /* any thread, given the call's user
                                * data: TRUE before a worker takes the
                                * call, it takes none; NULL: none */
} AgProcessCallOptions;

/* Called exactly once per call, on the pool's thread. */
typedef void (*AgProcessReplyFunc) (AgProcessReply *reply,
                                    gpointer        user_data);

AgProcessPool *_ag_process_pool_new               (AgProcessThread     *thread,
                                                   guint                n_kinds,
                                                   int                  max_processes,
                                                   guint                idle_ms);
void           _ag_process_pool_shutdown          (AgProcessPool       *pool);
void           _ag_process_pool_free              (AgProcessPool       *pool);
void           _ag_process_pool_set_max_processes (AgProcessPool       *pool,
                                                   int                  max_processes);
void           _ag_process_pool_set_idle_ms       (AgProcessPool       *pool,
                                                   guint                idle_ms);
void           _ag_process_pool_set_command       (AgProcessPool       *pool,
                                                   guint                kind,
                                                   const char * const  *argv);
void           _ag_process_pool_set_sandbox       (AgProcessPool       *pool,
                                                   guint                kind,
                                                   const char          *filter_program,
                                                   const char * const  *ro_paths);

guint64        _ag_process_pool_call              (AgProcessPool       *pool,
                                                   guint                kind,
                                                   const char          *target,
                                                   GVariant            *args,
                                                   const AgProcessCallOptions *options,
                                                   AgProcessReplyFunc   reply,
                                                   gpointer             user_data,
                                                   GDestroyNotify       user_data_destroy);
void           _ag_process_pool_cancel            (AgProcessPool       *pool,
                                                   guint64              call);

G_END_DECLS
