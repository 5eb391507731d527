/* fake-worker.c: a worker that breaks the protocol, on purpose
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: fake-worker MODE [PATH]
 *
 * Installed by test-worker-task.c with ag_worker_pool_set_command() in
 * place of asyncgui-worker. It greets as a worker does, reads one request
 * frame, answers it in the way MODE names, then either exits or waits for
 * its stdin to close (or to be killed). Modes:
 *
 *   ok                  a correct reply (<int32 42>), and the same for
 *                       every later request
 *   truncated-exit      the first 10 bytes of a 100-byte frame, then exit 0
 *   truncated-stay      the same, then wait
 *   exit                exit with status 3 without answering
 *   absurd-length       a length of 0xfffffff0, then wait
 *   zero-length         a frame of length 0, then wait
 *   not-a-reply         16 bytes of 0xff as the payload, then wait
 *   unknown-id          a correct reply for the request id + 1000, then wait
 *   reply-then-garbage  a correct reply followed, in the same write, by an
 *                       absurd length, then wait
 *   bad-error-payload   a failure reply whose payload is "s", not "(sisv)";
 *                       then behaves as "ok"
 *   ok-then-stay PATH   as "ok"; once stdin closes, writes its pid to PATH
 *                       and stays until it is killed (or for a minute, so
 *                       that a failed test leaves nothing behind for long)
 *   ok-then-close-input closes its stdin, answers correctly and stays: the
 *                       next request cannot be written to it
 *   ok-then-deaf        a correct reply, then reads nothing more and stays
 *   closed-input        closes its stdin before it greets, and stays: no
 *                       request written after the greeting (one with
 *                       limits) can be written to it
 *   close-output-then-exit
 *                       closes its stdout, then exits with status 5 after
 *                       300 ms
 *   close-output-then-stay [PATH]
 *                       closes its stdout, writes its pid to PATH if given,
 *                       and stays
 *
 * and modes that never greet, so the engine never sees a worker start:
 *
 *   garbage-then-exit   "garbage!" on stdout, then exit 0
 *   no-greeting         a correct reply to the request (as a worker that
 *                       predates the greeting would), then wait
 *   wrong-version       a greeting of protocol version 99, then wait
 *   silent              nothing at all; wait
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

/* Built with LeakSanitizer, a child checks for leaks as it exits, under a
 * tracer of its own; killed meanwhile (as the pool kills a worker that
 * breaks the protocol), its pidfd turns readable before it can be waited
 * for, and GLib 2.74's child watch then gives up on it, leaving a zombie
 * that no test could tell from one the pool forgot. This program's leaks
 * are not what the suite checks: no leak check at its exit. */
int __lsan_is_turned_off (void);

int
__lsan_is_turned_off (void)
{
  return 1;
}

static gboolean
read_exactly (guint8 *data,
              gsize   length)
{
  while (length > 0)
    {
      gssize n = read (STDIN_FILENO, data, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      length -= n;
    }

  return TRUE;
}

static void
write_all (const void *data,
           gsize       length)
{
  const guint8 *p = data;

  while (length > 0)
    {
      gssize n = write (STDOUT_FILENO, p, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        _exit (1);
      p += n;
      length -= n;
    }
}

static void
write_length (guint32 length)
{
  guint32 le = GUINT32_TO_LE (length);

  write_all (&le, sizeof le);
}

/* One request: returns its id, or FALSE at end of input. */
static gboolean
read_request (guint64 *id)
{
  g_autoptr(GVariant) request = NULL;
  g_autofree guint8 *payload = NULL;
  guint32 length_le;
  gsize length;

  if (!read_exactly ((guint8 *) &length_le, sizeof length_le))
    return FALSE;
  length = GUINT32_FROM_LE (length_le);
  payload = g_malloc (length);
  if (!read_exactly (payload, length))
    return FALSE;

  request = g_variant_ref_sink (g_variant_new_from_data (G_VARIANT_TYPE ("(tsv)"), payload,
                                                         length, FALSE, NULL, NULL));
  g_variant_get_child (request, 0, "t", id);
  return TRUE;
}

static void
write_variant (GVariant *message)
{
  g_autoptr(GVariant) normal = g_variant_get_normal_form (g_variant_ref_sink (message));

  write_length (g_variant_get_size (normal));
  write_all (g_variant_get_data (normal), g_variant_get_size (normal));
  g_variant_unref (message);
}

static void
greet (guint32 version)
{
  write_variant (g_variant_new ("(tbv)", (guint64) 0, TRUE, g_variant_new_uint32 (version)));
}

static GVariant *
good_reply (guint64 id)
{
  return g_variant_new ("(tbv)", id, TRUE, g_variant_new_int32 (42));
}

/* Answers every further request correctly until stdin closes. */
static int
serve_ok (void)
{
  guint64 id;

  while (read_request (&id))
    write_variant (good_reply (id));

  return 0;
}

/* Reads until stdin closes; answers nothing. */
static int
wait_for_eof (void)
{
  guint8 buffer[4096];

  for (;;)
    {
      gssize n = read (STDIN_FILENO, buffer, sizeof buffer);

      if (n > 0 || (n < 0 && errno == EINTR))
        continue;
      return 0;
    }
}

/* Stays until it is killed, or for a minute, so that a failed test
 * leaves nothing behind for long. */
G_NORETURN static void
stay (void)
{
  alarm (60);
  for (;;)
    pause ();
}

int
main (int   argc,
      char *argv[])
{
  const char *mode = argc > 1 ? argv[1] : "ok";
  guint64 id;

  if (g_str_equal (mode, "garbage-then-exit"))
    {
      write_all ("garbage!", 8);
      return 0;
    }

  if (g_str_equal (mode, "silent"))
    return wait_for_eof ();

  if (g_str_equal (mode, "wrong-version"))
    {
      greet (99);
      return wait_for_eof ();
    }

  if (g_str_equal (mode, "no-greeting"))
    {
      if (read_request (&id))
        write_variant (good_reply (id));
      return wait_for_eof ();
    }

  if (g_str_equal (mode, "closed-input"))
    {
      close (STDIN_FILENO);
      greet (1);
      stay ();
    }

  greet (1);

  if (g_str_equal (mode, "ok"))
    return serve_ok ();


  if (g_str_equal (mode, "ok-then-stay") && argc > 2)
    {
      g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());

      serve_ok ();
      if (!g_file_set_contents (argv[2], pid, -1, NULL))
        return 2;
      stay ();
    }

  if (!read_request (&id))
    return 0;

  if (g_str_equal (mode, "ok-then-close-input") || g_str_equal (mode, "ok-then-deaf"))
    {
      /* Closed before the reply, so that the next request comes after. */
      if (g_str_equal (mode, "ok-then-close-input"))
        close (STDIN_FILENO);
      write_variant (good_reply (id));
      stay ();
    }

  if (g_str_equal (mode, "close-output-then-exit") || g_str_equal (mode, "close-output-then-stay"))
    {
      close (STDOUT_FILENO);
      if (g_str_equal (mode, "close-output-then-stay"))
        {
          g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());

          if (argc > 2 && !g_file_set_contents (argv[2], pid, -1, NULL))
            return 2;
          stay ();
        }
      g_usleep (300 * G_TIME_SPAN_MILLISECOND);
      return 5;
    }

  if (g_str_equal (mode, "truncated-exit") || g_str_equal (mode, "truncated-stay"))
    {
      static const guint8 part[10] = { 0 };

      write_length (100);
      write_all (part, sizeof part);
      if (g_str_equal (mode, "truncated-exit"))
        return 0;
      return wait_for_eof ();
    }

  if (g_str_equal (mode, "exit"))
    return 3;

  if (g_str_equal (mode, "absurd-length"))
    {
      write_length (0xfffffff0);
      return wait_for_eof ();
    }

  if (g_str_equal (mode, "zero-length"))
    {
      write_length (0);
      return wait_for_eof ();
    }

  if (g_str_equal (mode, "not-a-reply"))
    {
      guint8 junk[16];

      memset (junk, 0xff, sizeof junk);
      write_length (sizeof junk);
      write_all (junk, sizeof junk);
      return wait_for_eof ();
    }

  if (g_str_equal (mode, "unknown-id"))
    {
      write_variant (good_reply (id + 1000));
      return wait_for_eof ();
    }

  if (g_str_equal (mode, "reply-then-garbage"))
    {
      g_autoptr(GVariant) normal = g_variant_get_normal_form (g_variant_ref_sink (good_reply (id)));
      gsize size = g_variant_get_size (normal);
      g_autofree guint8 *both = g_malloc (4 + size + 4);
      guint32 le = GUINT32_TO_LE ((guint32) size);
      guint32 absurd = GUINT32_TO_LE (0xfffffff0);

      /* One write, so the parent most likely reads both at once. */
      memcpy (both, &le, 4);
      memcpy (both + 4, g_variant_get_data (normal), size);
      memcpy (both + 4 + size, &absurd, 4);
      write_all (both, 4 + size + 4);
      return wait_for_eof ();
    }

  if (g_str_equal (mode, "bad-error-payload"))
    {
      write_variant (g_variant_new ("(tbv)", id, FALSE, g_variant_new_string ("oops")));
      return serve_ok ();
    }

  g_printerr ("fake-worker: unknown mode “%s”\n", mode);
  return 2;
}
