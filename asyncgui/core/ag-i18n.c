/* ag-i18n.c: the library's messages, in the user's language
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <libintl.h>

#include "ag-i18n-private.h"

/* A message can be made on any thread and before any engine exists (a
 * full channel, a wait that times out), so the catalogue is bound where
 * messages are looked up: once, by whichever thread asks first. Unlike a
 * binding in one type's class_init, this cannot be missed by an entry
 * point, and unlike a constructor it costs nothing to a program that
 * never shows a message. */
static void
ensure_bound (void)
{
  static gsize bound = 0;

  if (g_once_init_enter (&bound))
    {
      bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
      /* GError messages are UTF-8 whatever the locale's codeset. */
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      g_once_init_leave (&bound, 1);
    }
}

const char *
_ag_gettext (const char *msgid)
{
  ensure_bound ();
  return g_dgettext (GETTEXT_PACKAGE, msgid);
}
