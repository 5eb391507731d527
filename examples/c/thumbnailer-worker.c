/* thumbnailer-worker.c: the parsers of the thumbnailer examples
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A module for asyncgui's C worker, loaded in a sandboxed worker process:
 * the files it reads come from the application as open descriptors, since
 * the sandbox shows the worker none of the user's files, and everything it
 * returns is plain data the application checks against a result type.
 *
 * The parsers are simple on purpose, as parsers of untrusted input often
 * are: the image decoder trusts a header up to a sanity bound, and the text
 * previewer reads a line however long it is. The sandbox and the task's
 * memory and processor limits are what keep a hostile file from doing
 * more than failing its own preview.
 */

#include "examples-config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <gio/gio.h>
#include <gmodule.h>

#include "thumbnailer.h"

G_MODULE_EXPORT GVariant *thumbnailer_image (GVariant      *args,
                                             GCancellable  *cancellable,
                                             GError       **error);
G_MODULE_EXPORT GVariant *thumbnailer_text  (GVariant      *args,
                                             GCancellable  *cancellable,
                                             GError       **error);

#define BUFFER_SIZE 65536

static GQuark
thumbnailer_error_quark (void)
{
  return g_quark_from_static_string (THUMBNAILER_ERROR_DOMAIN);
}

/* Reads a descriptor through a buffer of its own; the worker closes the
 * descriptor after the call, so this never does. */
typedef struct
{
  int    fd;
  guint8 data[BUFFER_SIZE];
  gsize  start;
  gsize  end;
  int    error;   /* errno of a failed read, or 0 */
} Reader;

/* The next byte, or -1 at the end of the file or on an error. */
static int
reader_next (Reader *reader)
{
  if (reader->start == reader->end)
    {
      gssize n;

      do
        n = read (reader->fd, reader->data, sizeof reader->data);
      while (n < 0 && errno == EINTR);
      if (n <= 0)
        {
          reader->error = n < 0 ? errno : 0;
          return -1;
        }
      reader->start = 0;
      reader->end = n;
    }
  return reader->data[reader->start++];
}

static gboolean
set_read_error (Reader  *reader,
                GError **error)
{
  g_set_error (error, thumbnailer_error_quark (), THUMBNAILER_ERROR_READ,
               _("Cannot read the file: %s"), g_strerror (reader->error));
  return FALSE;
}

/* One decimal number of a PNM header, after white space and comments. */
static gboolean
read_header_number (Reader  *reader,
                    guint32 *value,
                    GError **error)
{
  int c = reader_next (reader);
  guint64 number = 0;

  for (;;)
    {
      if (c == '#')
        while (c != '\n' && c != -1)
          c = reader_next (reader);
      else if (g_ascii_isspace (c))
        c = reader_next (reader);
      else
        break;
    }
  if (!g_ascii_isdigit (c))
    {
      if (reader->error != 0)
        return set_read_error (reader, error);
      g_set_error_literal (error, thumbnailer_error_quark (),
                           c == -1 ? THUMBNAILER_ERROR_TRUNCATED : THUMBNAILER_ERROR_NOT_AN_IMAGE,
                           c == -1 ? _("The image ends within its header")
                                   : _("The image header is not a PNM header"));
      return FALSE;
    }
  for (; g_ascii_isdigit (c); c = reader_next (reader))
    {
      number = number * 10 + (c - '0');
      if (number > G_MAXUINT32)
        {
          g_set_error_literal (error, thumbnailer_error_quark (), THUMBNAILER_ERROR_TOO_LARGE,
                               _("A number in the image header is too large"));
          return FALSE;
        }
    }
  /* One white space character ends the number; after the last one the
   * pixels start. */
  if (c != -1 && !g_ascii_isspace (c))
    {
      g_set_error_literal (error, thumbnailer_error_quark (), THUMBNAILER_ERROR_NOT_AN_IMAGE,
                           _("The image header is not a PNM header"));
      return FALSE;
    }
  *value = number;
  return TRUE;
}

/* "(hu)": a binary PGM (P5) or PPM (P6) file, and the largest side of the
 * thumbnail. Returns THUMBNAILER_IMAGE_TYPE: the image scaled down (never
 * up) to fit that square, each thumbnail pixel the mean of the pixels it
 * covers. Memory is one row of sums, whatever the image's size. */
GVariant *
thumbnailer_image (GVariant      *args,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_autofree Reader *reader = g_new0 (Reader, 1);
  g_autofree guint64 *sums = NULL;
  g_autofree guint32 *counts = NULL;
  g_autofree guint8 *row = NULL;
  g_autofree guint8 *pixels = NULL;
  guint32 max_side, width, height, maxval, thumb_width, thumb_height;
  guint channels, row_y = 0;
  int magic, kind;

  g_variant_get (args, "(hu)", &reader->fd, &max_side);
  max_side = MAX (max_side, 1);

  magic = reader_next (reader);
  kind = reader_next (reader);
  if (magic != 'P' || (kind != '5' && kind != '6'))
    {
      if (reader->error != 0)
        set_read_error (reader, error);
      else
        g_set_error_literal (error, thumbnailer_error_quark (), THUMBNAILER_ERROR_NOT_AN_IMAGE,
                             _("The file is not a binary PGM or PPM image"));
      return NULL;
    }
  channels = kind == '5' ? 1 : 3;

  if (!read_header_number (reader, &width, error) ||
      !read_header_number (reader, &height, error) ||
      !read_header_number (reader, &maxval, error))
    return NULL;
  if (width == 0 || height == 0 || maxval == 0 || maxval > 255)
    {
      g_set_error_literal (error, thumbnailer_error_quark (), THUMBNAILER_ERROR_NOT_AN_IMAGE,
                           _("The image header is not one of an 8-bit PGM or PPM image"));
      return NULL;
    }
  if ((guint64) width * height > THUMBNAILER_MAX_PIXELS)
    {
      g_set_error (error, thumbnailer_error_quark (), THUMBNAILER_ERROR_TOO_LARGE,
                   _("The image is too large: %u × %u pixels"), width, height);
      return NULL;
    }

  if (width >= height)
    {
      thumb_width = MIN (width, max_side);
      thumb_height = MAX (1, (guint64) height * thumb_width / width);
    }
  else
    {
      thumb_height = MIN (height, max_side);
      thumb_width = MAX (1, (guint64) width * thumb_height / height);
    }

  sums = g_new0 (guint64, (gsize) thumb_width * 3);
  counts = g_new0 (guint32, thumb_width);
  row = g_malloc ((gsize) width * channels);
  pixels = g_malloc ((gsize) thumb_width * thumb_height * 3);

  for (guint32 y = 0; y < height; y++)
    {
      guint32 thumb_y = (guint64) y * thumb_height / height;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;

      for (gsize i = 0; i < (gsize) width * channels; i++)
        {
          int c = reader_next (reader);

          if (c < 0)
            {
              if (reader->error != 0)
                set_read_error (reader, error);
              else
                g_set_error (error, thumbnailer_error_quark (), THUMBNAILER_ERROR_TRUNCATED,
                             _("The image is truncated: it ends in row %u of %u"), y + 1, height);
              return NULL;
            }
          row[i] = c;
        }

      for (guint32 x = 0; x < width; x++)
        {
          guint32 thumb_x = (guint64) x * thumb_width / width;

          for (guint c = 0; c < 3; c++)
            sums[thumb_x * 3 + c] += row[x * channels + (channels == 3 ? c : 0)];
          counts[thumb_x]++;
        }

      /* The last source row of this thumbnail row: write it out. */
      if (y + 1 == height || (guint64) (y + 1) * thumb_height / height != thumb_y)
        {
          guint8 *out = pixels + (gsize) thumb_y * thumb_width * 3;

          for (guint32 x = 0; x < thumb_width; x++)
            for (guint c = 0; c < 3; c++)
              out[x * 3 + c] = sums[x * 3 + c] * 255 / ((guint64) counts[x] * maxval);
          memset (sums, 0, (gsize) thumb_width * 3 * sizeof *sums);
          memset (counts, 0, (gsize) thumb_width * sizeof *counts);
          row_y++;
        }
    }
  g_assert (row_y == thumb_height);

  return g_variant_new ("(uu@ay)", thumb_width, thumb_height,
                        g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, g_steal_pointer (&pixels),
                                                 (gsize) thumb_width * thumb_height * 3,
                                                 TRUE, g_free, NULL));
}

/* "(hu)": a text file and how many lines to show. Returns
 * THUMBNAILER_TEXT_TYPE: its first lines, without the last line break. A
 * line is read whole, however long: the task's memory limit is what
 * bounds a file that is one endless line. */
GVariant *
thumbnailer_text (GVariant      *args,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_autofree Reader *reader = g_new0 (Reader, 1);
  g_autoptr(GString) text = g_string_new (NULL);
  guint32 max_lines, lines = 0;
  int c;

  g_variant_get (args, "(hu)", &reader->fd, &max_lines);

  while (lines < max_lines && (c = reader_next (reader)) != -1)
    {
      if (c == '\n')
        lines++;
      if (lines < max_lines)
        g_string_append_c (text, c);
      if (c == '\n' && g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
    }
  if (reader->error != 0)
    {
      set_read_error (reader, error);
      return NULL;
    }

  if (text->len > 0 && text->str[text->len - 1] == '\n')
    g_string_truncate (text, text->len - 1);
  if (memchr (text->str, '\0', text->len) != NULL ||
      !g_utf8_validate (text->str, text->len, NULL))
    {
      g_set_error_literal (error, thumbnailer_error_quark (), THUMBNAILER_ERROR_NOT_TEXT,
                           _("The file is not UTF-8 text"));
      return NULL;
    }

  return g_variant_new_take_string (g_string_free (g_steal_pointer (&text), FALSE));
}
