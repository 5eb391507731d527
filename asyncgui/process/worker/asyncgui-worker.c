/* asyncgui-worker.c: the warm worker process for C functions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include <gmodule.h>

#include "ag-error.h"
#include "ag-worker-protocol-private.h"

/* The engine starts this program with pipes on stdin and stdout and sends
 * it requests "(tsv)": an id, a target "MODULE-PATH:SYMBOL" and arguments.
 * It loads the module once, calls
 *
 *   GVariant *symbol (GVariant *args, GCancellable *cancellable, GError **error);
 *
 * and answers with a reply "(tbv)" carrying the returned value or the
 * error. It serves one request at a time, for as long as stdin stays open,
 * after greeting the engine with the protocol version. Anything it writes
 * to stderr goes to the parent's stderr. */

typedef GVariant *(*WorkerFunc) (GVariant      *args,
                                 GCancellable  *cancellable,
                                 GError       **error);

static GHashTable *modules;  /* path → GModule */

static WorkerFunc
lookup (const char  *target,
        GError     **error)
{
  g_autofree char *path = NULL;
  const char *colon = strrchr (target, ':');
  GModule *module;
  gpointer symbol = NULL;

  if (colon == NULL || colon == target || colon[1] == '\0')
    {
      g_set_error (error, AG_ERROR, AG_ERROR_FAILED,
                   "“%s” is not of the form MODULE-PATH:SYMBOL", target);
      return NULL;
    }

  path = g_strndup (target, colon - target);
  module = g_hash_table_lookup (modules, path);
  if (module == NULL)
    {
      module = g_module_open (path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
      if (module == NULL)
        {
          g_set_error (error, AG_ERROR, AG_ERROR_FAILED,
                       "Cannot load the module “%s”: %s", path, g_module_error ());
          return NULL;
        }
      g_hash_table_insert (modules, g_strdup (path), module);
    }

  if (!g_module_symbol (module, colon + 1, &symbol) || symbol == NULL)
    {
      g_set_error (error, AG_ERROR, AG_ERROR_FAILED,
                   "The module “%s” has no function “%s”", path, colon + 1);
      return NULL;
    }

  return (WorkerFunc) symbol;
}

static gboolean
write_all (int           fd,
           const guint8 *data,
           gsize         length)
{
  while (length > 0)
    {
      gssize n = write (fd, data, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      length -= n;
    }

  return TRUE;
}

static gboolean
write_message (GVariant *message)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (message);
  g_autoptr(GBytes) frame = _ag_frame_encode (owned, NULL);

  return write_all (STDOUT_FILENO, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));
}

static gboolean
serve (GVariant *request)
{
  g_autoptr(GVariant) args = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GBytes) frame = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) encode_error = NULL;
  const char *target;
  guint64 id;
  WorkerFunc func;

  g_variant_get (request, "(t&sv)", &id, &target, &args);

  func = lookup (target, &error);
  if (func != NULL)
    value = func (args, NULL, &error);
  /* Floating or not, the value is ours now. */
  if (value != NULL)
    g_variant_take_ref (value);

  if (error != NULL)
    reply = g_variant_ref_sink (_ag_reply_new_error (id, error, NULL));
  else
    reply = g_variant_ref_sink (_ag_reply_new_value (id, value));

  frame = _ag_frame_encode (reply, &encode_error);
  if (frame == NULL)
    {
      /* Too large to send: say so instead. */
      g_clear_pointer (&reply, g_variant_unref);
      reply = g_variant_ref_sink (_ag_reply_new_error (id, encode_error, NULL));
      frame = _ag_frame_encode (reply, NULL);
    }

  return write_all (STDOUT_FILENO, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  AgFrameReader *reader = _ag_frame_reader_new (AG_REQUEST_TYPE);
  guint8 buffer[64 * 1024];

  modules = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (!write_message (_ag_reply_new_greeting ()))
    return 1;

  for (;;)
    {
      GVariant *request;
      gssize n = read (STDIN_FILENO, buffer, sizeof buffer);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;  /* the engine closed the pipe: time to go */

      _ag_frame_reader_feed (reader, buffer, n);
      while (_ag_frame_reader_pop (reader, &request, &error) && request != NULL)
        {
          gboolean written = serve (request);

          g_variant_unref (request);
          if (!written)
            return 1;
        }

      if (error != NULL)
        {
          g_printerr ("asyncgui-worker: %s\n", error->message);
          return 2;
        }
    }

  _ag_frame_reader_free (reader);
  return 0;
}
