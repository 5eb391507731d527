/* ag-i18n-private.h: the library's messages, in the user's language
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

const char *_ag_gettext (const char *msgid) G_GNUC_FORMAT (1);

/* Every file of the library marks its messages with these rather than
 * with <glib/gi18n-lib.h>'s, so each look-up finds the catalogue bound. */
#define _(String) _ag_gettext (String)
#define N_(String) (String)

G_END_DECLS
