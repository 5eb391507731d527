/* ag-process-thread-private.h: the thread that does an engine's process I/O
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _AgProcessThread AgProcessThread;

AgProcessThread     *_ag_process_thread_new          (void);
GMainContext        *_ag_process_thread_get_context  (AgProcessThread  *self);
void                 _ag_process_thread_invoke       (AgProcessThread  *self,
                                                      GSourceFunc       func,
                                                      gpointer          data);
void                 _ag_process_thread_hold         (AgProcessThread  *self);
void                 _ag_process_thread_release      (AgProcessThread  *self);
void                 _ag_process_thread_stop         (AgProcessThread  *self);

/* How a child starts, besides its pipes (see
 * _ag_process_thread_new_launcher()). */
typedef enum
{
  AG_CHILD_OWN_SESSION = 1 << 0,  /* leads a session and process group */
  AG_CHILD_NO_INTERRUPT = 1 << 1, /* ignores SIGINT */
} AgChildFlags;

GSubprocessLauncher *_ag_process_thread_new_launcher (GSubprocessFlags  flags,
                                                      int               death_signal,
                                                      AgChildFlags      child_flags);

G_END_DECLS
