/* test-spin.c: watching briefly before sleeping, while it pays
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <unistd.h>

#include <glib.h>

#include "ag-spin-private.h"

/* What a watch that sees nothing costs is paid again only after waits
 * without one; the numbers are ag-spin.c's: three misses in a row, then 16
 * waits slept through, doubling per further miss up to 1024. */

static void
miss (AgSpin *spin)
{
  g_assert_true (_ag_spin_begin (spin));
  _ag_spin_end (spin, FALSE);
}

/* How many waits in a row go without a watch, from now. */
static guint
count_unwatched (AgSpin *spin)
{
  guint n = 0;

  while (!_ag_spin_begin (spin))
    n++;

  return n;
}

static void
test_spin_watches_every_wait_while_watching_catches (void)
{
  AgSpin spin = { 0 };

  for (guint i = 0; i < 1000; i++)
    {
      g_assert_true (_ag_spin_begin (&spin));
      _ag_spin_end (&spin, TRUE);
    }
}

static void
test_spin_stops_watching_after_misses_and_looks_again (void)
{
  AgSpin spin = { 0 };

  /* Two misses are forgiven. */
  miss (&spin);
  miss (&spin);
  g_assert_true (_ag_spin_begin (&spin));
  _ag_spin_end (&spin, FALSE);

  /* The third made it sleep through 16 waits; the 17th watches again. */
  g_assert_cmpuint (count_unwatched (&spin), ==, 16);
  _ag_spin_end (&spin, FALSE);
  g_assert_cmpuint (count_unwatched (&spin), ==, 32);
  _ag_spin_end (&spin, FALSE);
  g_assert_cmpuint (count_unwatched (&spin), ==, 64);

  /* One catch, and it watches every time again. */
  _ag_spin_end (&spin, TRUE);
  for (guint i = 0; i < 10; i++)
    {
      g_assert_true (_ag_spin_begin (&spin));
      _ag_spin_end (&spin, TRUE);
    }
}

static void
test_spin_looks_again_at_least_every_1024_waits (void)
{
  AgSpin spin = { 0 };
  guint longest = 0;

  miss (&spin);
  miss (&spin);
  for (guint i = 0; i < 20; i++)
    {
      guint unwatched;

      _ag_spin_end (&spin, FALSE);
      unwatched = count_unwatched (&spin);
      longest = MAX (longest, unwatched);
    }

  g_assert_cmpuint (longest, ==, 1024);
}

static gboolean
always (void)
{
  return TRUE;
}

static gboolean
never (void)
{
  return FALSE;
}

static void
test_spin_reads_the_runnable_count_of_loadavg (void)
{
  g_assert_true (_ag_spin_runnable_fit ("0.50 0.40 0.30 2/345 1234\n", 2));
  g_assert_true (_ag_spin_runnable_fit ("0.50 0.40 0.30 1/345 1234\n", 2));
  g_assert_false (_ag_spin_runnable_fit ("0.50 0.40 0.30 3/345 1234\n", 2));
  g_assert_false (_ag_spin_runnable_fit ("7.10 6.00 5.90 12/900 99\n", 8));

  /* What cannot be read does not stop the watching. */
  g_assert_true (_ag_spin_runnable_fit ("", 2));
  g_assert_true (_ag_spin_runnable_fit ("0.50 0.40", 2));
  g_assert_true (_ag_spin_runnable_fit ("0.50 0.40 0.30 x/345 1234", 2));
  g_assert_true (_ag_spin_runnable_fit ("0.50 0.40 0.30 3", 2));
}

static void
test_spin_poll_does_not_watch_without_a_free_processor (void)
{
  AgSpin spin = { 0 };
  int fds[2];
  GPollFD poll_fd;

  g_assert_no_errno (pipe (fds));
  poll_fd = (GPollFD) { fds[0], G_IO_IN, 0 };

  /* No watch, so no miss: the policy is left as it was. */
  for (guint i = 0; i < 5; i++)
    g_assert_cmpint (_ag_spin_poll_full (&spin, &poll_fd, 1, 1, never), ==, 0);
  g_assert_cmpuint (spin.misses, ==, 0);
  g_assert_cmpuint (spin.skip, ==, 0);

  close (fds[0]);
  close (fds[1]);
}

static void
test_spin_poll_returns_what_is_ready_without_sleeping (void)
{
  AgSpin spin = { 0 };
  int fds[2];
  GPollFD poll_fd;

  g_assert_no_errno (pipe (fds));
  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);
  poll_fd = (GPollFD) { fds[0], G_IO_IN, 0 };

  /* An infinite timeout: only the watch can return. */
  g_assert_cmpint (_ag_spin_poll_full (&spin, &poll_fd, 1, -1, always), ==, 1);
  g_assert_true (poll_fd.revents & G_IO_IN);
  g_assert_cmpuint (spin.misses, ==, 0);

  close (fds[0]);
  close (fds[1]);
}

static void
test_spin_poll_that_sees_nothing_counts_a_miss_and_sleeps (void)
{
  AgSpin spin = { 0 };
  int fds[2];
  GPollFD poll_fd;

  g_assert_no_errno (pipe (fds));
  poll_fd = (GPollFD) { fds[0], G_IO_IN, 0 };

  g_assert_cmpint (_ag_spin_poll_full (&spin, &poll_fd, 1, 5, always), ==, 0);
  g_assert_cmpuint (spin.misses, ==, 1);

  /* A poll that must not sleep does not watch either. */
  g_assert_cmpint (_ag_spin_poll_full (&spin, &poll_fd, 1, 0, always), ==, 0);
  g_assert_cmpuint (spin.misses, ==, 1);

  close (fds[0]);
  close (fds[1]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/spin/watches-every-wait-while-watching-catches",
                   test_spin_watches_every_wait_while_watching_catches);
  g_test_add_func ("/spin/stops-watching-after-misses-and-looks-again",
                   test_spin_stops_watching_after_misses_and_looks_again);
  g_test_add_func ("/spin/looks-again-at-least-every-1024-waits",
                   test_spin_looks_again_at_least_every_1024_waits);
  g_test_add_func ("/spin/reads-the-runnable-count-of-loadavg",
                   test_spin_reads_the_runnable_count_of_loadavg);
  g_test_add_func ("/spin/poll-does-not-watch-without-a-free-processor",
                   test_spin_poll_does_not_watch_without_a_free_processor);
  g_test_add_func ("/spin/poll-returns-what-is-ready-without-sleeping",
                   test_spin_poll_returns_what_is_ready_without_sleeping);
  g_test_add_func ("/spin/poll-that-sees-nothing-counts-a-miss-and-sleeps",
                   test_spin_poll_that_sees_nothing_counts_a_miss_and_sleeps);

  return g_test_run ();
}
