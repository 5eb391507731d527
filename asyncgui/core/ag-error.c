/* ag-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-error.h"

/**
 * ag_error_quark:
 *
 * Gets the quark of the %AG_ERROR domain.
 *
 * Thread: any.
 *
 * Returns: the error domain quark
 *
 * Since: 1.0
 */
GQuark
ag_error_quark (void)
{
  /* Not G_DEFINE_QUARK: its plain static is first written by whichever
   * threads need it at once, workers failing their first inputs among
   * them, which is a data race under the C memory model (and ThreadSanitizer
   * reports it). g_once_init_enter() publishes the quark with atomics. */
  static gsize quark;

  if (g_once_init_enter (&quark))
    g_once_init_leave (&quark, g_quark_from_static_string ("ag-error-quark"));

  return (GQuark) quark;
}
