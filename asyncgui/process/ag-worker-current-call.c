/* ag-worker-current-call.c: a worker's call that GLib ran out of memory in
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <unistd.h>

#include "ag-error.h"
#include "ag-worker-program.h"
#include "ag-worker-protocol-private.h"

/* A g_malloc() that fails ends the process in a GLib error ("failed to
 * allocate"): under a memory limit, the call ran out of what its limit
 * allows. The engine would only see a process that died of SIGTRAP or
 * SIGABRT; so the log writer answers the call with AG_ERROR_MEMORY_LIMIT
 * on the worker's stdout first, then the process goes, as GLib would.
 * Built into the library, for the workers that reach it through their
 * bindings (GJS), and into the C worker program. */

/* 0 between calls. Atomic: GLib may fail to allocate on any thread. */
static guint64 current_id;

static gboolean
is_allocation_failure (const GLogField *fields,
                       gsize            n_fields)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0
        && strstr (fields[i].value, "failed to allocate") != NULL)
      return TRUE;

  return FALSE;
}

static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  guint64 id = __atomic_load_n (&current_id, __ATOMIC_RELAXED);

  if ((level & G_LOG_LEVEL_ERROR) != 0 && id != 0 && is_allocation_failure (fields, n_fields))
    {
      GError error = { AG_ERROR, AG_ERROR_MEMORY_LIMIT,
                       (char *) "The worker call used more memory than its limit allows" };
      GVariant *reply = g_variant_ref_sink (_ag_reply_new_error (id, &error, NULL));
      GBytes *frame = _ag_frame_encode (reply, NULL);

      /* The message still goes out: it says where the memory ran out. */
      g_log_writer_default (level, fields, n_fields, user_data);
      if (frame != NULL)
        _ag_frame_write (_ag_worker_get_replies_fd (), frame);
      _exit (3);
    }

  return g_log_writer_default (level, fields, n_fields, user_data);
}

/**
 * ag_worker_set_current_call:
 * @id: the id of the request the worker starts serving, or 0 once it has
 *   answered it
 *
 * Tells the library which call a worker program is running, for worker
 * programs: if GLib fails to allocate memory during it (it went past its
 * [property@WorkerTask:memory-limit]), the library answers that call with
 * %AG_ERROR_MEMORY_LIMIT on the worker's standard output before the
 * process ends, instead of leaving the engine a worker that died of a
 * signal. The first use installs a GLib log writer (see
 * g_log_set_writer_func()), so the worker must not set one of its own.
 *
 * A GJS worker calls this through the typelib around each call; an
 * application never calls it.
 *
 * Thread: the worker's one that reads requests and writes replies.
 *
 * Since: 1.0
 */
void
ag_worker_set_current_call (guint64 id)
{
  static gsize installed = 0;

  if (g_once_init_enter (&installed))
    {
      g_log_set_writer_func (log_writer, NULL, NULL);
      g_once_init_leave (&installed, 1);
    }

  __atomic_store_n (&current_id, id, __ATOMIC_RELAXED);
}
