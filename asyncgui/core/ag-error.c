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
G_DEFINE_QUARK (ag-error-quark, ag_error)
