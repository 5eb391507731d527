/* ag-worker-protocol.c: length-framed GVariant messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ag-i18n-private.h"
#include "ag-error.h"
#include "ag-worker-protocol-private.h"

/* Everything a worker writes is untrusted: a worker may be buggy, killed
 * halfway through a write, or run code that prints to the wrong stream.
 * The reader therefore refuses, with AG_ERROR_PROTOCOL, any length above
 * AG_FRAME_MAX_SIZE, any frame that is not a GVariant of the expected type
 * in normal form, and it never reads past what it was given. After a
 * refusal the stream is out of step and the worker is replaced.
 *
 * So the writer refuses to send what the reader would refuse: a message
 * above the size limit, or one nested deeper than GVariant reads (a value
 * inside a variant inside a variant ..., which only a check of the value
 * itself finds). That fails one call, where a refusal on the other end
 * would cost the worker. */

struct _AgFrameReader
{
  GVariantType *type;
  GByteArray   *buffer;
};

AgFrameReader *
_ag_frame_reader_new (const GVariantType *type)
{
  AgFrameReader *reader = g_new0 (AgFrameReader, 1);

  reader->type = g_variant_type_copy (type);
  reader->buffer = g_byte_array_new ();

  return reader;
}

void
_ag_frame_reader_free (AgFrameReader *reader)
{
  g_variant_type_free (reader->type);
  g_byte_array_unref (reader->buffer);
  g_free (reader);
}

void
_ag_frame_reader_feed (AgFrameReader *reader,
                       const guint8  *data,
                       gsize          length)
{
  g_byte_array_append (reader->buffer, data, length);
}

gsize
_ag_frame_reader_get_buffered (AgFrameReader *reader)
{
  return reader->buffer->len;
}

/* Returns TRUE with *message set for a complete frame, TRUE with *message
 * NULL when more bytes are needed, FALSE with @error set for bytes that
 * cannot be a frame. */
gboolean
_ag_frame_reader_pop (AgFrameReader  *reader,
                      GVariant      **message,
                      GError        **error)
{
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GVariant) variant = NULL;
  guint32 length_le;
  gsize length;

  *message = NULL;

  if (reader->buffer->len < sizeof length_le)
    return TRUE;

  memcpy (&length_le, reader->buffer->data, sizeof length_le);
  length = GUINT32_FROM_LE (length_le);

  if (length > AG_FRAME_MAX_SIZE)
    {
      g_set_error (error, AG_ERROR, AG_ERROR_PROTOCOL,
                   _("A worker sent a message of %lu bytes, more than the %d allowed"),
                   (unsigned long) length, AG_FRAME_MAX_SIZE);
      return FALSE;
    }

  if (reader->buffer->len - sizeof length_le < length)
    return TRUE;

  /* A copy of its own: GVariant wants the bytes aligned and unchanging. */
  payload = g_bytes_new (reader->buffer->data + sizeof length_le, length);
  g_byte_array_remove_range (reader->buffer, 0, sizeof length_le + length);

  variant = g_variant_ref_sink (g_variant_new_from_bytes (reader->type, payload, FALSE));
  if (!g_variant_is_normal_form (variant))
    {
      g_set_error (error, AG_ERROR, AG_ERROR_PROTOCOL,
                   _("A worker sent a message that is not a valid “%s” value"),
                   g_variant_type_peek_string (reader->type));
      return FALSE;
    }

  *message = g_steal_pointer (&variant);
  return TRUE;
}

/* GVariant's G_VARIANT_MAX_RECURSION_DEPTH, which is not public. */
#define GVARIANT_MAX_DEPTH 128

/* Whether @value may be nested more than @levels deep: never FALSE when it
 * is, and cheap for values without variants inside, whose depth their type
 * bounds. */
static gboolean
may_nest_deeper (GVariant *value,
                 gsize     levels)
{
  const char *type = g_variant_get_type_string (value);
  gsize n_children;

  if (strchr (type, 'v') == NULL)
    return strlen (type) > levels;

  if (levels == 0)
    return TRUE;

  n_children = g_variant_n_children (value);
  for (gsize i = 0; i < n_children; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

      if (may_nest_deeper (child, levels - 1))
        return TRUE;
    }

  return FALSE;
}

/* Whether the frame reader would take @payload as a @type: the same check
 * it makes, so the two cannot disagree. */
static gboolean
readable (const GVariantType *type,
          GBytes             *payload)
{
  g_autoptr(GVariant) untrusted = g_variant_ref_sink (g_variant_new_from_bytes (type, payload, FALSE));

  return g_variant_is_normal_form (untrusted);
}

GBytes *
_ag_frame_encode (GVariant  *message,
                  GError   **error)
{
  g_autoptr(GVariant) normal = g_variant_get_normal_form (message);
  g_autoptr(GBytes) payload = g_variant_get_data_as_bytes (normal);
  gsize size = g_bytes_get_size (payload);
  guint32 length_le = GUINT32_TO_LE ((guint32) size);
  guint8 *frame;

  if (size > AG_FRAME_MAX_SIZE)
    {
      g_set_error (error, AG_ERROR, AG_ERROR_FAILED,
                   _("A message to or from a worker would be %lu bytes, more than the %d a worker message may hold"),
                   (unsigned long) size, AG_FRAME_MAX_SIZE);
      return NULL;
    }

  if (may_nest_deeper (normal, GVARIANT_MAX_DEPTH / 2)
      && !readable (g_variant_get_type (normal), payload))
    {
      g_set_error (error, AG_ERROR, AG_ERROR_FAILED,
                   _("A value sent to or from a worker is nested too deeply: a worker message holds at most %d levels"),
                   GVARIANT_MAX_DEPTH);
      return NULL;
    }

  /* Copied rather than stored in place: g_variant_store() wants the
   * destination aligned, and the payload follows a 4-byte length. */
  frame = g_malloc (sizeof length_le + size);
  memcpy (frame, &length_le, sizeof length_le);
  memcpy (frame + sizeof length_le, g_bytes_get_data (payload, NULL), size);

  return g_bytes_new_take (frame, sizeof length_le + size);
}

/* A request "(tsv)"; a floating reference. @args: a floating reference
 * is taken. */
GVariant *
_ag_request_new (guint64     id,
                 const char *target,
                 GVariant   *args)
{
  GVariant *children[] = {
    g_variant_new_uint64 (id),
    g_variant_new_string (target),
    g_variant_new_variant (args),
  };

  return g_variant_new_tuple (children, G_N_ELEMENTS (children));
}

/* The parts of a request that passed the frame reader: @target is the
 * string's variant (its text lives as long as it does), @args what the
 * variant holds; both new references. */
void
_ag_request_get (GVariant  *request,
                 guint64   *id,
                 GVariant **target,
                 GVariant **args)
{
  g_autoptr(GVariant) ident = g_variant_get_child_value (request, 0);
  g_autoptr(GVariant) boxed = g_variant_get_child_value (request, 2);

  *id = g_variant_get_uint64 (ident);
  *target = g_variant_get_child_value (request, 1);
  *args = g_variant_get_variant (boxed);
}

/* The parts of a reply "(tbv)" that passed the frame reader; @payload is
 * what the variant holds, a new reference. */
void
_ag_reply_get (GVariant  *reply,
               guint64   *id,
               gboolean  *succeeded,
               GVariant **payload)
{
  g_autoptr(GVariant) ident = g_variant_get_child_value (reply, 0);
  g_autoptr(GVariant) flag = g_variant_get_child_value (reply, 1);
  g_autoptr(GVariant) boxed = g_variant_get_child_value (reply, 2);

  *id = g_variant_get_uint64 (ident);
  *succeeded = g_variant_get_boolean (flag);
  *payload = g_variant_get_variant (boxed);
}

static GVariant *
reply_new (guint64   id,
           gboolean  succeeded,
           GVariant *payload)
{
  GVariant *children[] = {
    g_variant_new_uint64 (id),
    g_variant_new_boolean (succeeded),
    g_variant_new_variant (payload),
  };

  return g_variant_new_tuple (children, G_N_ELEMENTS (children));
}

GVariant *
_ag_reply_new_greeting (void)
{
  return reply_new (AG_WORKER_GREETING_ID, TRUE, g_variant_new_uint32 (AG_WORKER_PROTOCOL_VERSION));
}

/* Whether @reply, the first message of a worker, is its greeting in the
 * version this library speaks. */
gboolean
_ag_reply_is_greeting (GVariant  *reply,
                       GError   **error)
{
  g_autoptr(GVariant) payload = NULL;
  gboolean succeeded;
  guint64 id;

  _ag_reply_get (reply, &id, &succeeded, &payload);

  if (id != AG_WORKER_GREETING_ID || !succeeded
      || !g_variant_is_of_type (payload, G_VARIANT_TYPE_UINT32))
    {
      g_set_error (error, AG_ERROR, AG_ERROR_PROTOCOL,
                   _("A worker did not begin with the greeting of the worker protocol"));
      return FALSE;
    }

  if (g_variant_get_uint32 (payload) != AG_WORKER_PROTOCOL_VERSION)
    {
      g_set_error (error, AG_ERROR, AG_ERROR_PROTOCOL,
                   _("A worker speaks version %u of the worker protocol, not version %u"),
                   g_variant_get_uint32 (payload), AG_WORKER_PROTOCOL_VERSION);
      return FALSE;
    }

  return TRUE;
}

GVariant *
_ag_reply_new_value (guint64   id,
                     GVariant *value)
{
  return reply_new (id, TRUE, value != NULL ? value : g_variant_new ("()"));
}

GVariant *
_ag_reply_new_error (guint64       id,
                     const GError *error,
                     GVariant     *extra)
{
  GVariant *payload = g_variant_new ("(sisv)",
                                     g_quark_to_string (error->domain),
                                     error->code,
                                     error->message,
                                     extra != NULL ? extra : g_variant_new ("()"));

  return reply_new (id, FALSE, payload);
}

/* The error domains a reply may name without making a new quark: those
 * the workers of the bindings report with, and GLib's (and GIO's), whose
 * quarks GLib makes only when something first asks for them, so that
 * whether a worker's G_IO_ERROR stays one does not depend on what this
 * process happened to do before. */
void
_ag_worker_protocol_init (void)
{
  g_quark_from_static_string ("asyncgui-python-exception");
  g_quark_from_static_string ("asyncgui-gjs-error");

  (void) G_BOOKMARK_FILE_ERROR;
  (void) G_CONVERT_ERROR;
  (void) G_FILE_ERROR;
  (void) G_IO_CHANNEL_ERROR;
  (void) G_KEY_FILE_ERROR;
  (void) G_MARKUP_ERROR;
  (void) G_NUMBER_PARSER_ERROR;
  (void) G_OPTION_ERROR;
  (void) G_REGEX_ERROR;
  (void) G_SHELL_ERROR;
  (void) G_SPAWN_ERROR;
  (void) G_SPAWN_EXIT_ERROR;
  (void) G_THREAD_ERROR;
  (void) G_URI_ERROR;
  (void) G_VARIANT_PARSE_ERROR;
  (void) AG_ERROR;
  /* GIO's: see _ag_process_pool_new(), which links GIO. */
}

/* The error of a failure reply. A domain this process knows (GLib's, Gio's,
 * the workers' own) comes back as itself; any other becomes AG_ERROR_FAILED
 * naming it. Quarks are never freed, so making one for every string a
 * worker sends would let a worker grow this process's memory at will. */
GError *
_ag_reply_parse_error (GVariant  *payload,
                       GVariant **extra)
{
  const char *domain, *message;
  gint32 code;
  GQuark quark;

  if (extra != NULL)
    *extra = NULL;

  if (!g_variant_is_of_type (payload, AG_REPLY_ERROR_TYPE))
    return g_error_new (AG_ERROR, AG_ERROR_PROTOCOL,
                        _("A worker reported a failure as a “%s” value instead of “%s”"),
                        g_variant_get_type_string (payload),
                        g_variant_type_peek_string (AG_REPLY_ERROR_TYPE));

  g_variant_get (payload, "(&si&s@v)", &domain, &code, &message, extra != NULL ? extra : NULL);
  if (extra != NULL && *extra != NULL)
    {
      GVariant *boxed = *extra;

      *extra = g_variant_get_variant (boxed);
      g_variant_unref (boxed);
    }

  quark = g_quark_try_string (domain);
  if (quark == 0)
    return g_error_new (AG_ERROR, AG_ERROR_FAILED, "%s (%s %d)", message, domain, code);

  return g_error_new_literal (quark, code, message);
}

/* Writes all of @frame to the blocking descriptor @fd, as a worker program
 * answers on its stdout. FALSE once the other end is gone. */
gboolean
_ag_frame_write (int     fd,
                 GBytes *frame)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (frame, &size);

  while (size > 0)
    {
      gssize n = write (fd, data, size);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      size -= n;
    }

  return TRUE;
}
