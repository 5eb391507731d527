/* worker-module.c: a function for asyncgui's C worker, built by the
 * projects that tests/install makes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <unistd.h>
#include <gio/gio.h>
#include <gmodule.h>

G_MODULE_EXPORT GVariant *install_test_getpid (GVariant      *args,
                                               GCancellable  *cancellable,
                                               GError       **error);

/* "i": the worker's process id, so the caller sees that a worker ran it. */
GVariant *
install_test_getpid (GVariant      *args,
                     GCancellable  *cancellable,
                     GError       **error)
{
  return g_variant_new_int32 (getpid ());
}
