/* asyncgui-worker.c: the warm worker process for C functions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <gio/gio.h>
#include <gmodule.h>

#include "ag-error.h"
#include "ag-sandbox-private.h"
#include "ag-worker-program.h"
#include "ag-worker-protocol-private.h"

/* The engine starts this program with pipes on stdin and stdout and sends
 * it requests "(tsv)": an id, a target "MODULE-PATH:SYMBOL" and arguments.
 * It loads the module once, calls
 *
 *   GVariant *symbol (GVariant *args, GCancellable *cancellable, GError **error);
 *
 * and answers with a reply "(tbv)" carrying the returned value or the
 * error. It serves one request at a time, for as long as stdin stays open,
 * after greeting the engine with the protocol version. The replies go to
 * the pipe that stdout was; stdout itself then goes to stderr, which is
 * the parent's stderr, so what the functions print cannot break a reply.
 * Likewise the requests come from the pipe that stdin was, and stdin
 * itself reads /dev/null: a function that reads or closes stdin cannot
 * take a request or cut the worker off from the next.
 *
 * Files come with a request on the socket AG_WORKER_FD_SOCKET
 * (ag-worker-process.c describes it): the handles in the arguments are
 * their indexes, and the function gets the descriptors in their place.
 * With --sandbox, the worker runs under bwrap and loads the seccomp filter
 * it finds on AG_WORKER_FD_FILTER before it greets the engine; it never
 * serves a call without it. */

typedef GVariant *(*WorkerFunc) (GVariant      *args,
                                 GCancellable  *cancellable,
                                 GError       **error);

static GHashTable *modules;  /* path → GModule */

static gboolean
read_all (int     fd,
          guint8 *data,
          gsize   length)
{
  while (length > 0)
    {
      gssize n = read (fd, data, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      length -= n;
    }

  return TRUE;
}

/* The descriptors sent with request @id, if any: read without waiting,
 * since they were queued before the request. */
static GArray *
receive_fds (guint64   id,
             GError  **error)
{
  g_autoptr(GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  guint8 header[12];
  guint64 header_id;
  guint32 count;
  gssize n;

  do
    n = recv (AG_WORKER_FD_SOCKET, header, sizeof header, MSG_DONTWAIT | MSG_PEEK);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return g_steal_pointer (&fds);

  if (!read_all (AG_WORKER_FD_SOCKET, header, sizeof header))
    goto broken;
  memcpy (&header_id, header, 8);
  memcpy (&count, header + 8, 4);
  if (GUINT64_FROM_LE (header_id) != id)
    goto broken;

  for (guint32 i = 0; i < GUINT32_FROM_LE (count); i++)
    {
      union {
        struct cmsghdr header;
        char           space[CMSG_SPACE (sizeof (int))];
      } control;
      struct msghdr message = { 0 };
      struct iovec vector;
      struct cmsghdr *c;
      char byte;
      int fd = -1;

      vector.iov_base = &byte;
      vector.iov_len = 1;
      message.msg_iov = &vector;
      message.msg_iovlen = 1;
      message.msg_control = control.space;
      message.msg_controllen = sizeof control.space;
      if (recvmsg (AG_WORKER_FD_SOCKET, &message, MSG_CMSG_CLOEXEC) != 1)
        goto broken;
      c = CMSG_FIRSTHDR (&message);
      if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS
          && c->cmsg_len == CMSG_LEN (sizeof (int)))
        memcpy (&fd, CMSG_DATA (c), sizeof fd);
      if (fd < 0)
        goto broken;
      g_array_append_val (fds, fd);
    }

  return g_steal_pointer (&fds);

broken:
  g_set_error (error, AG_ERROR, AG_ERROR_PROTOCOL,
               "The files of a request did not arrive as the protocol says");
  for (guint i = 0; i < fds->len; i++)
    close (g_array_index (fds, int, i));
  return NULL;
}

/* @args with every handle replaced by the descriptor it indexes. */
static GVariant *
resolve_handles (GVariant  *value,
                 GArray    *fds,
                 GError   **error)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_HANDLE))
    {
      gint32 index = g_variant_get_handle (value);

      if (index < 0 || (guint) index >= fds->len)
        {
          g_set_error (error, AG_ERROR, AG_ERROR_FAILED,
                       "The arguments name file %d, and the call has %u", index, fds->len);
          return NULL;
        }
      return g_variant_ref_sink (g_variant_new_handle (g_array_index (fds, int, index)));
    }

  /* A variant may hold a handle whatever the type around it says (an
   * a{sv} of options): look inside those too. */
  if (g_variant_is_container (value)
      && strpbrk (g_variant_get_type_string (value), "hv") != NULL)
    {
      g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
      gsize n = g_variant_n_children (value);

      if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
        {
          g_autoptr(GVariant) inner = g_variant_get_variant (value);
          g_autoptr(GVariant) resolved = resolve_handles (inner, fds, error);

          return resolved != NULL ? g_variant_ref_sink (g_variant_new_variant (resolved)) : NULL;
        }

      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (value, i);
          GVariant *resolved = resolve_handles (child, fds, error);

          if (resolved == NULL)
            return NULL;
          g_ptr_array_add (children, resolved);
        }

      if (g_variant_is_of_type (value, G_VARIANT_TYPE_TUPLE))
        return g_variant_ref_sink (g_variant_new_tuple ((GVariant **) children->pdata, n));
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_DICT_ENTRY))
        return g_variant_ref_sink (g_variant_new_dict_entry (children->pdata[0], children->pdata[1]));
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_MAYBE))
        return g_variant_ref_sink (g_variant_new_maybe (g_variant_type_element (g_variant_get_type (value)),
                                                        n > 0 ? children->pdata[0] : NULL));
      return g_variant_ref_sink (g_variant_new_array (g_variant_type_element (g_variant_get_type (value)),
                                                      (GVariant **) children->pdata, n));
    }

  return g_variant_ref (value);
}

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
write_message (GVariant *message)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (message);
  g_autoptr(GBytes) frame = _ag_frame_encode (owned, NULL);

  return _ag_frame_write (_ag_worker_get_replies_fd (), frame);
}

static gboolean
serve (GVariant *request)
{
  g_autoptr(GVariant) args = NULL;
  g_autoptr(GVariant) target_variant = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GBytes) frame = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) encode_error = NULL;
  const char *target;
  guint64 id;
  WorkerFunc func;

  g_autoptr(GArray) fds = NULL;
  g_autoptr(GVariant) resolved = NULL;

  _ag_request_get (request, &id, &target_variant, &args);
  target = g_variant_get_string (target_variant, NULL);

  fds = receive_fds (id, &error);
  if (fds == NULL)
    {
      g_printerr ("asyncgui-worker: %s\n", error->message);
      exit (2);
    }

  func = lookup (target, &error);
  /* Also without files: a handle then names none, and the function must
   * not get a descriptor of the worker's own. */
  if (func != NULL)
    resolved = resolve_handles (args, fds, &error);

  ag_worker_set_current_call (id);
  if (resolved != NULL)
    value = func (resolved, NULL, &error);
  ag_worker_set_current_call (0);
  for (guint i = 0; i < fds->len; i++)
    close (g_array_index (fds, int, i));
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

  /* What the function printed without a newline shows now, not mixed into
   * a later call's output. */
  fflush (stdout);
  return _ag_frame_write (_ag_worker_get_replies_fd (), frame);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  AgFrameReader *reader = _ag_frame_reader_new (AG_REQUEST_TYPE);
  guint8 buffer[64 * 1024];
  int requests;

  gboolean sandboxed = FALSE;

  for (int i = 1; i < argc; i++)
    if (g_str_equal (argv[i], "--sandbox"))
      sandboxed = TRUE;

  /* The pipe is the protocol; what the functions print goes to stderr. */
  if (ag_worker_take_stdout (&error) < 0)
    {
      g_printerr ("asyncgui-worker: %s\n", error->message);
      return 1;
    }

  requests = ag_worker_take_stdin (&error);
  if (requests < 0)
    {
      g_printerr ("asyncgui-worker: %s\n", error->message);
      return 1;
    }

  modules = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* From here on, a call that GLib runs out of memory in is answered
   * with AG_ERROR_MEMORY_LIMIT. */
  ag_worker_set_current_call (0);

  /* Which process this is, for the engine to set the limits of its calls
   * on (the kernel attaches the credentials). */
  while (send (AG_WORKER_FD_SOCKET, "", 1, MSG_NOSIGNAL) < 0 && errno == EINTR)
    ;

  if (sandboxed && !ag_worker_lock_down (AG_WORKER_FD_FILTER, &error))
    {
      g_printerr ("asyncgui-worker: %s\n", error->message);
      return 1;
    }

  if (!write_message (_ag_reply_new_greeting ()))
    return 1;

  for (;;)
    {
      GVariant *request;
      gssize n = read (requests, buffer, sizeof buffer);

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
