/* bench-floors.c: what a round trip costs with nothing but the wake-ups
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include "ag-bench.h"

/* The floors of chain and process: two threads, or two processes, handing a
 * turn back and forth in a tight loop, with no main loop, no queue and no
 * allocation. Nothing that delivers to a GUI's main context can be faster,
 * so they say how far from the machine's limit the others are. Each sleeps
 * in the kernel while it waits (no spinning), as a GUI thread must.
 *
 *   floor-thread  the bench thread and one worker thread, a futex word
 *   floor-pipe    this process and a warm ag-bench-echo child, two pipes
 *
 * A trip is timed from just before the request is handed over to just after
 * the reply is seen, as the other implementations' trips are; the first trip
 * is untimed, as theirs is.
 *
 * And the floor of flood-tasks, whose tasks are objects:
 *
 *   floor-gobject  N plain GObjects made, then released, on the bench
 *                  thread: no work, no other thread, no main loop
 *
 * A caller that runs N tasks, each a GObject it gets back in a callback on
 * its own thread, makes each object there and, once the callback is done
 * with it, finalizes it there. So this is what the GUI thread pays at
 * least, before any work or delivery; submit_ms is the making alone. */

gboolean
bench_floor_gobject (guint        n,
                     BenchResult *result)
{
  g_autofree GObject **objects = g_new (GObject *, n);
  gint64 start_ns, made_ns;

  start_ns = bench_now_ns ();
  for (guint i = 0; i < n; i++)
    objects[i] = g_object_new (G_TYPE_OBJECT, NULL);
  made_ns = bench_now_ns ();
  for (guint i = 0; i < n; i++)
    g_object_unref (objects[i]);

  result->wall_ms = bench_ms_between (start_ns, bench_now_ns ());
  result->submit_ms = bench_ms_between (start_ns, made_ns);
  result->rate = n / (result->wall_ms / 1000.0);
  return TRUE;
}

/* floor-thread */

#ifdef __linux__

enum
{
  TURN_BENCH,
  TURN_WORKER,
  TURN_STOP,
};

static void
futex_wake (int *word)
{
  syscall (SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Waits until @word is @want (or TURN_STOP) and returns what it is. */
static int
futex_wait_for (int *word,
                int  want)
{
  int seen;

  while ((seen = g_atomic_int_get (word)) != want && seen != TURN_STOP)
    syscall (SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);

  return seen;
}

static void
futex_hand_over (int *word,
                 int  turn)
{
  g_atomic_int_set (word, turn);
  futex_wake (word);
}

static gpointer
floor_thread_worker (gpointer user_data)
{
  int *turn = user_data;

  /* The work: none; the reply is the turn itself. */
  while (futex_wait_for (turn, TURN_WORKER) != TURN_STOP)
    futex_hand_over (turn, TURN_BENCH);

  return NULL;
}

gboolean
bench_floor_thread (guint        n,
                    BenchResult *result)
{
  g_autoptr(GArray) trips_us = g_array_sized_new (FALSE, FALSE, sizeof (double), n);
  int turn = TURN_BENCH;
  GThread *worker = g_thread_new ("ag-bench-floor", floor_thread_worker, &turn);
  gint64 start_ns = 0;

  for (guint i = 0; i <= n; i++)
    {
      gint64 trip_start_ns = bench_now_ns ();
      double trip_us;

      if (i == 1)
        start_ns = trip_start_ns;

      futex_hand_over (&turn, TURN_WORKER);
      futex_wait_for (&turn, TURN_BENCH);

      trip_us = (bench_now_ns () - trip_start_ns) / 1000.0;
      if (i > 0)
        g_array_append_val (trips_us, trip_us);
    }
  result->wall_ms = bench_ms_between (start_ns, bench_now_ns ());

  futex_hand_over (&turn, TURN_STOP);
  g_thread_join (worker);

  bench_round_trips (trips_us, result);
  return TRUE;
}

#else

gboolean
bench_floor_thread (guint        n,
                    BenchResult *result)
{
  g_printerr ("ag-bench: floor-thread needs Linux's futex: not measured\n");
  return FALSE;
}

#endif

/* floor-pipe, and the child that loop-pipe talks to */

/* ag-bench-echo, next to this program in the build tree. */
static char *
find_echo_program (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = NULL;

  if (exe == NULL)
    return NULL;

  dir = g_path_get_dirname (exe);
  return g_build_filename (dir, "ag-bench-echo", NULL);
}

gboolean
bench_echo_spawn (BenchEcho  *echo,
                  GError    **error)
{
  g_autofree char *program = find_echo_program ();
  char *argv[] = { program, NULL };

  *echo = (BenchEcho) { -1, -1, 0 };

  if (program == NULL)
    {
      g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                           "cannot find ag-bench-echo from /proc/self/exe");
      return FALSE;
    }

  return g_spawn_async_with_pipes (NULL, argv, NULL,
                                   G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                   &echo->pid, &echo->to_child, &echo->from_child, NULL,
                                   error);
}

/* Closing its stdin ends the child; it is reaped here, so its CPU time is
 * counted among the children's from then on. */
void
bench_echo_stop (BenchEcho *echo)
{
  int status;

  if (echo->to_child >= 0)
    close (echo->to_child);
  if (echo->from_child >= 0)
    close (echo->from_child);
  if (echo->pid > 0)
    while (waitpid (echo->pid, &status, 0) < 0 && errno == EINTR)
      ;

  *echo = (BenchEcho) { -1, -1, 0 };
}

/* Blocking I/O of exactly @size bytes. */
static gboolean
transfer_all (gboolean  writing,
              int       fd,
              char     *buffer,
              gsize     size)
{
  gsize done = 0;

  while (done < size)
    {
      gssize n = writing ? write (fd, buffer + done, size - done)
                         : read (fd, buffer + done, size - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      done += n;
    }

  return TRUE;
}

gboolean
bench_floor_pipe (guint        n,
                  BenchResult *result)
{
  g_autoptr(GArray) trips_us = g_array_sized_new (FALSE, FALSE, sizeof (double), n);
  g_autoptr(GError) error = NULL;
  BenchEcho echo;
  gint64 start_ns = 0;
  gint64 start_cpu_us = 0;
  gboolean ok = TRUE;

  if (!bench_echo_spawn (&echo, &error))
    {
      g_printerr ("ag-bench: error: process floor-pipe: %s\n", error->message);
      return FALSE;
    }

  for (guint i = 0; i <= n && ok; i++)
    {
      gint32 request = g_random_int_range (0, G_MAXINT32);
      gint32 reply = -1;
      gint64 trip_start_ns;

      if (i == 1)
        {
          start_cpu_us = bench_cpu_time_us ();
          start_ns = bench_now_ns ();
        }

      trip_start_ns = bench_now_ns ();
      ok = transfer_all (TRUE, echo.to_child, (char *) &request, sizeof request) &&
           transfer_all (FALSE, echo.from_child, (char *) &reply, sizeof reply);
      if (i > 0)
        {
          double trip_us = (bench_now_ns () - trip_start_ns) / 1000.0;

          g_array_append_val (trips_us, trip_us);
        }

      if (!ok)
        g_printerr ("ag-bench: error: process floor-pipe: call %u: the pipe broke\n", i);
      else if (reply != request)
        {
          g_printerr ("ag-bench: error: process floor-pipe: call %u: wrong reply\n", i);
          ok = FALSE;
        }
    }

  if (ok)
    {
      result->wall_ms = bench_ms_between (start_ns, bench_now_ns ());
      result->cpu_us = (double) (bench_cpu_time_us () - start_cpu_us) / n;
      bench_round_trips (trips_us, result);
    }

  bench_echo_stop (&echo);
  return ok;
}
