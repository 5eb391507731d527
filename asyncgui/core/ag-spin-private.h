/* ag-spin-private.h: watching briefly before sleeping, while it pays
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How long a thread watches for its event before it sleeps. */
#define AG_SPIN_US 50

/* One thread's record of how its watches went; zero-initialized. */
typedef struct
{
  guint misses;    /* watches in a row that saw nothing */
  guint skip;      /* waits left to sleep through without watching */
  guint backoff;   /* how many to skip after the next miss */
} AgSpin;

gboolean _ag_spin_machine_has_a_free_processor (void);
gboolean _ag_spin_runnable_fit (const char *loadavg,
                                guint       n_processors);

gboolean _ag_spin_begin (AgSpin  *self);
void     _ag_spin_end   (AgSpin  *self,
                         gboolean caught);
gint     _ag_spin_poll  (AgSpin  *self,
                         GPollFD *fds,
                         guint    n_fds,
                         gint     timeout);
/* The same, told whether the machine has a processor free (for tests). */
gint     _ag_spin_poll_full (AgSpin   *self,
                             GPollFD  *fds,
                             guint     n_fds,
                             gint      timeout,
                             gboolean (*processor_free) (void));

G_END_DECLS
