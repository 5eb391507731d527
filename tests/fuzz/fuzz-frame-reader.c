/* fuzz-frame-reader.c: libFuzzer target for the worker frame decoder
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Everything a worker writes is untrusted, so the decoder must survive any
 * bytes: the input is fed to a reply reader and to a request reader, in
 * chunks whose sizes come from the input itself (so frames split at every
 * possible place), every complete frame is popped, and a failure reply's
 * payload goes through _ag_reply_parse_error() as the pool does. A crash,
 * a sanitizer report or a leak is a bug; a refusal (FALSE with an error) is
 * the decoder doing its job.
 *
 * Input layout: the first byte chooses the chunk size (1 + byte % 64, or
 * everything at once when it is 0); the rest is the stream.
 */

#include "config.h"

#include <glib.h>

#include "ag-error.h"
#include "ag-worker-protocol-private.h"

int LLVMFuzzerTestOneInput (const guint8 *data,
                            size_t        size);

static void
check_message (GVariant *message,
               gboolean  is_reply)
{
  g_autoptr(GVariant) payload = NULL;

  g_assert (g_variant_is_normal_form (message));

  if (is_reply)
    {
      g_autoptr(GVariant) extra = NULL;
      g_autoptr(GError) error = NULL;
      gboolean succeeded;
      guint64 id;

      g_assert (g_variant_is_of_type (message, AG_REPLY_TYPE));
      g_variant_get (message, "(tbv)", &id, &succeeded, &payload);
      if (!succeeded)
        {
          error = _ag_reply_parse_error (payload, &extra);
          g_assert (error != NULL);
          g_assert (error->message != NULL);
          g_assert (g_utf8_validate (error->message, -1, NULL));
        }
      else
        {
          /* What the parent hands on as the task's value. */
          g_autofree char *text = g_variant_print (payload, TRUE);

          g_assert (text != NULL);
        }
    }
  else
    {
      const char *target;
      guint64 id;

      g_assert (g_variant_is_of_type (message, AG_REQUEST_TYPE));
      g_variant_get (message, "(t&sv)", &id, &target, &payload);
    }
}

static void
decode (const GVariantType *type,
        const guint8       *data,
        gsize               size,
        gsize               chunk)
{
  AgFrameReader *reader = _ag_frame_reader_new (type);
  gboolean is_reply = g_variant_type_equal (type, AG_REPLY_TYPE);
  gsize offset = 0;
  gboolean broken = FALSE;

  while (offset < size && !broken)
    {
      gsize n = MIN (chunk, size - offset);
      GVariant *message;
      g_autoptr(GError) error = NULL;

      _ag_frame_reader_feed (reader, data + offset, n);
      offset += n;

      while (_ag_frame_reader_pop (reader, &message, &error) && message != NULL)
        {
          check_message (message, is_reply);
          g_variant_unref (message);
        }

      if (error != NULL)
        {
          /* The pool stops reading a worker after a refusal. */
          g_assert (g_error_matches (error, AG_ERROR, AG_ERROR_PROTOCOL));
          broken = TRUE;
        }
    }

  g_assert (_ag_frame_reader_get_buffered (reader) <= size);
  _ag_frame_reader_free (reader);
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  gsize chunk;

  if (size < 1)
    return 0;

  chunk = data[0] == 0 ? size : 1 + data[0] % 64;
  decode (AG_REPLY_TYPE, data + 1, size - 1, chunk);
  decode (AG_REQUEST_TYPE, data + 1, size - 1, chunk);

  return 0;
}
