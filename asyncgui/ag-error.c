/* ag-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-error.h"

G_DEFINE_QUARK (ag-error-quark, ag_error)
