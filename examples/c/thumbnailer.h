/* thumbnailer.h: what the thumbnailer examples and their worker module share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The worker module (thumbnailer-worker.c) runs in a sandboxed worker
 * process; the C and Vala applications call its functions by name. Its
 * failures come back as errors of this domain: the application makes the
 * quark before any reply arrives, since the engine keeps the domain of a
 * worker's error only when this process already knows it.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define THUMBNAILER_ERROR_DOMAIN "asyncgui-thumbnailer-error"

typedef enum
{
  THUMBNAILER_ERROR_NOT_AN_IMAGE,
  THUMBNAILER_ERROR_TRUNCATED,
  THUMBNAILER_ERROR_TOO_LARGE,
  THUMBNAILER_ERROR_NOT_TEXT,
  THUMBNAILER_ERROR_READ,
} ThumbnailerError;

/* The result types of the two functions: the thumbnail's width, height and
 * RGB pixels (3 bytes a pixel, rows without padding); the text's first
 * lines. */
#define THUMBNAILER_IMAGE_TYPE "(uuay)"
#define THUMBNAILER_TEXT_TYPE "s"

/* A decoder refuses images of more pixels than this before reading them. */
#define THUMBNAILER_MAX_PIXELS (100u * 1000u * 1000u)

G_END_DECLS
