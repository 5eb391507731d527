/* ag-worker-location.c: where the worker programs are
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The workers (asyncgui-worker, asyncgui-python-worker.py,
 * asyncgui-gjs-worker.js) are installed in libexecdir/asyncgui-1, whose
 * path is compiled in. Uninstalled, in a build tree of asyncgui or of a
 * project that has it as a subproject, the build puts them in the folder
 * of the library itself, and the compiled-in path names an installation
 * that may not exist or may be another version. So the library asks the
 * dynamic linker which file it was loaded from: when that folder holds
 * the C worker, it is a build tree and its workers are the ones built
 * with this library. An installed libdir holds no worker, so an installed
 * library always uses libexecdir. No environment variable is needed in
 * either case; ASYNCGUI_WORKER_DIR still overrides both, to test other
 * workers.
 */

/* dladdr () and Dl_info are GNU extensions. */
#define _GNU_SOURCE

#include "config.h"

#ifdef HAVE_DLADDR
#include <dlfcn.h>
#endif

#include "ag-worker-location-private.h"

/* The folder the library was loaded from, when it holds the workers. */
static char *
find_uninstalled_dir (void)
{
#ifdef HAVE_DLADDR
  Dl_info info;
  g_autofree char *library = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *c_worker = NULL;

  if (dladdr ((const void *) _ag_worker_location_get_dir, &info) == 0 || info.dli_fname == NULL)
    return NULL;

  library = g_canonicalize_filename (info.dli_fname, NULL);
  dir = g_path_get_dirname (library);
  c_worker = g_build_filename (dir, "asyncgui-worker", NULL);
  if (g_file_test (c_worker, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&dir);
#endif

  return NULL;
}

/*
 * Returns: the folder of the worker programs: $ASYNCGUI_WORKER_DIR when it
 * is set, else the build tree's when the library runs from one, else the
 * installed libexecdir/asyncgui-1.
 *
 * Thread: any.
 */
const char *
_ag_worker_location_get_dir (void)
{
  static gsize found;
  const char *dir = g_getenv ("ASYNCGUI_WORKER_DIR");

  if (dir != NULL && dir[0] != '\0')
    return dir;

  if (g_once_init_enter (&found))
    {
      g_autofree char *uninstalled = find_uninstalled_dir ();
      const char *result = uninstalled != NULL
                           ? g_intern_string (uninstalled) : ASYNCGUI_WORKER_DIR;

      g_once_init_leave (&found, (gsize) result);
    }

  return (const char *) found;
}
