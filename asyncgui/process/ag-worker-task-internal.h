/* ag-worker-task-internal.h: what the files of AgWorkerTask share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gunixfdlist.h>

#include "ag-process-pool-private.h"
#include "ag-worker-task.h"

G_BEGIN_DECLS

struct _AgWorkerTask
{
  AgTask        parent_instance;

  AgWorkerKind  kind;
  char         *target;
  GVariant     *args;
  int           timeout_ms;
  gboolean      sandboxed;
  GUnixFDList  *fds;          /* what add_fd() gave, until the task runs */
  GVariantType *result_type;  /* NULL: any */
  guint64       memory_limit; /* bytes; 0: none */
  int           cpu_limit_ms; /* 0: none */
  guint64       call;         /* the engine's thread: the pool's call id */

  /* Set by the reply, on the process thread, before the task returns;
   * a cancelled task may be read while they are set, hence atomic. */
  int           pid;          /* atomic */
  GVariant     *error_data;   /* atomic, set once */
};

enum {
  PROP_0,
  PROP_TIMEOUT_MS,
  PROP_SANDBOXED,
  PROP_RESULT_TYPE,
  PROP_MEMORY_LIMIT,
  PROP_CPU_LIMIT_MS,
  N_PROPS
};

extern GParamSpec *_ag_worker_task_properties[N_PROPS];

void _ag_worker_task_check_reply (AgProcessReply *reply,
                                  AgWorkerTask   *self);

G_END_DECLS
