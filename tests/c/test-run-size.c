/* test-run-size.c: how many inputs a map's next run gets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib.h>

#include "ag-run-size-private.h"

/* The numbers are ag-run-size.c's: about 1000 µs of work per run, growth of
 * at most 8 times per run, at most 65536 inputs, rests shared down to
 * 125 µs of work per run. Sizes are asked for as ag-map.c does: then the
 * size is recorded as the last one. A run that is not timed is one call
 * into a binding (a ranges function); a timed one stops itself once over
 * its budget. */

static guint
next (AgRunSize *size,
      guint      remaining,
      guint      n_runs,
      gboolean   timed)
{
  guint n = _ag_run_size_next (size, remaining, n_runs, timed);

  size->last_size = n;
  return n;
}

static void
test_run_size_is_one_input_until_a_run_is_back (void)
{
  AgRunSize size = { 0 };

  g_assert_cmpfloat (_ag_run_size_input_us (&size), ==, 0);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpuint (next (&size, 10000, 4, FALSE), ==, 1);
  g_assert_cmpuint (next (&size, 0, 4, FALSE), ==, 0);
}

static void
test_run_size_grows_at_most_eight_times_per_run (void)
{
  AgRunSize size = { 0 };

  g_assert_cmpuint (next (&size, 1000000, 4, FALSE), ==, 1);
  _ag_run_size_add_run (&size, 0, 1);

  /* However fast the inputs look, 1, 8, 64, 512, 4096, 32768, then the
   * cap. */
  g_assert_cmpuint (next (&size, 10000000, 4, FALSE), ==, 8);
  g_assert_cmpuint (next (&size, 10000000, 4, FALSE), ==, 64);
  g_assert_cmpuint (next (&size, 10000000, 4, FALSE), ==, 512);
  g_assert_cmpuint (next (&size, 10000000, 4, FALSE), ==, 4096);
  g_assert_cmpuint (next (&size, 10000000, 4, FALSE), ==, 32768);
  g_assert_cmpuint (next (&size, 10000000, 4, FALSE), ==, 65536);
  g_assert_cmpuint (next (&size, 10000000, 4, FALSE), ==, 65536);
}

static void
test_run_size_holds_about_a_millisecond_of_work (void)
{
  AgRunSize size = { 0 };

  /* 10 µs per input: 100 inputs a run, once grown to it. */
  _ag_run_size_add_run (&size, 100, 10);
  size.last_size = 1000;
  g_assert_cmpfloat_with_epsilon (_ag_run_size_input_us (&size), 10, 1e-9);
  g_assert_cmpuint (next (&size, 1000000, 4, FALSE), ==, 100);

  /* 2 ms per input: one at a time. */
  for (guint i = 0; i < 20; i++)
    _ag_run_size_add_run (&size, 2000, 1);
  g_assert_cmpuint (next (&size, 1000000, 4, FALSE), ==, 1);
}

/* The first runs of one input pay for starting threads and cold caches; a
 * run of a thousand inputs that took 10 µs outweighs them. */
static void
test_run_size_weighs_each_run_by_its_inputs (void)
{
  AgRunSize size = { 0 };

  _ag_run_size_add_run (&size, 40, 1);
  _ag_run_size_add_run (&size, 30, 1);
  _ag_run_size_add_run (&size, 10, 1000);

  /* (40/4 + 30/2 + 10) / (1/4 + 1/2 + 1000) µs: about 0.035, where a mean
   * of the runs' own means would still be near 10. */
  g_assert_cmpfloat (_ag_run_size_input_us (&size), <, 0.04);
  size.last_size = 65536;
  /* A millisecond of it: 25,000 inputs or more, not 100. */
  g_assert_cmpuint (next (&size, 1000000, 4, FALSE), >, 25000);
}

/* One slow input in a fast run shrinks the next run, and the runs after
 * it forget it: each one back halves its weight. */
static void
test_run_size_forgets_a_slow_run (void)
{
  AgRunSize size = { 0 };
  guint after_slow;

  _ag_run_size_add_run (&size, 10, 1000);
  _ag_run_size_add_run (&size, 20000, 1000);
  size.last_size = 65536;
  after_slow = next (&size, 1000000, 4, FALSE);
  g_assert_cmpuint (after_slow, <, 100);

  for (guint i = 0; i < 12; i++)
    _ag_run_size_add_run (&size, 10, 1000);
  g_assert_cmpfloat (_ag_run_size_input_us (&size), <, 0.02);
  /* Only growth holds it back now. */
  g_assert_cmpuint (next (&size, 1000000, 4, FALSE), ==, 8 * after_slow);
}

/* The end of a fast stretch goes in one run: 413 inputs of 0.01 µs are
 * 4 µs of work, far less than a round trip to split them would cost. */
static void
test_run_size_does_not_split_a_short_rest (void)
{
  AgRunSize size = { 0 };

  _ag_run_size_add_run (&size, 10, 1000);
  size.last_size = 4096;
  g_assert_cmpuint (next (&size, 413, 4, FALSE), ==, 413);
  g_assert_cmpuint (next (&size, 3, 4, FALSE), ==, 3);
}

/* The end of a slow stretch is shared between the runs that may go: 40
 * inputs of 100 µs each make 4 runs of 10, not one of 10 and a tail. */
static void
test_run_size_shares_a_long_rest (void)
{
  AgRunSize size = { 0 };

  _ag_run_size_add_run (&size, 1000, 10);
  size.last_size = 10;
  g_assert_cmpuint (next (&size, 40, 4, FALSE), ==, 10);
  g_assert_cmpuint (next (&size, 30, 4, FALSE), ==, 8);

  /* Shared down to 125 µs of work per run, and no further. */
  g_assert_cmpuint (next (&size, 8, 4, FALSE), ==, 2);
  g_assert_cmpuint (next (&size, 4, 4, FALSE), ==, 4);
}

/* A timed run needs no measure: before any run is back, each takes its
 * share of the stretch, up to the cap. */
static void
test_run_size_timed_starts_at_its_share (void)
{
  AgRunSize size = { 0 };

  g_assert_cmpuint (next (&size, 10000, 4, TRUE), ==, 2500);
  g_assert_cmpuint (next (&size, 10001, 4, TRUE), ==, 2501);
  g_assert_cmpuint (next (&size, 3, 4, TRUE), ==, 1);
  g_assert_cmpuint (next (&size, 0, 4, TRUE), ==, 0);
  g_assert_cmpuint (next (&size, 100000000, 4, TRUE), ==, 65536);
}

/* Measured, a timed run is what fits in a millisecond at once, without
 * growing through 8, 64, 512… */
static void
test_run_size_timed_does_not_ramp (void)
{
  AgRunSize size = { 0 };

  _ag_run_size_add_run (&size, 0, 1);
  size.last_size = 1;
  g_assert_cmpuint (next (&size, 10000000, 4, TRUE), ==, 65536);

  /* 10 µs per input: 100, as for a run that is not timed. */
  _ag_run_size_add_run (&size, 1000, 100);
  for (guint i = 0; i < 20; i++)
    _ag_run_size_add_run (&size, 1000, 100);
  size.last_size = 1;
  g_assert_cmpuint (next (&size, 1000000, 4, TRUE), ==, 100);
}

/* Inputs that spend most of their time off a processor wait; the
 * measure follows the recent runs, as the time of an input does. */
static void
test_run_size_tells_inputs_that_wait (void)
{
  AgRunSize size = { 0 };

  g_assert_false (_ag_run_size_inputs_wait (&size));

  _ag_run_size_add_run (&size, 100000, 1);
  _ag_run_size_add_cpu (&size, 100000, 200);
  g_assert_true (_ag_run_size_inputs_wait (&size));

  for (guint i = 0; i < 4; i++)
    {
      _ag_run_size_add_run (&size, 100000, 1);
      _ag_run_size_add_cpu (&size, 100000, 90000);
    }
  g_assert_false (_ag_run_size_inputs_wait (&size));

  /* A clock that could not say counts as computing. */
  size = (AgRunSize) { 0 };
  _ag_run_size_add_run (&size, 100000, 1);
  _ag_run_size_add_cpu (&size, 100000, -1);
  g_assert_false (_ag_run_size_inputs_wait (&size));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/run-size/is-one-input-until-a-run-is-back",
                   test_run_size_is_one_input_until_a_run_is_back);
  g_test_add_func ("/run-size/grows-at-most-eight-times-per-run",
                   test_run_size_grows_at_most_eight_times_per_run);
  g_test_add_func ("/run-size/holds-about-a-millisecond-of-work",
                   test_run_size_holds_about_a_millisecond_of_work);
  g_test_add_func ("/run-size/weighs-each-run-by-its-inputs",
                   test_run_size_weighs_each_run_by_its_inputs);
  g_test_add_func ("/run-size/forgets-a-slow-run",
                   test_run_size_forgets_a_slow_run);
  g_test_add_func ("/run-size/does-not-split-a-short-rest",
                   test_run_size_does_not_split_a_short_rest);
  g_test_add_func ("/run-size/shares-a-long-rest",
                   test_run_size_shares_a_long_rest);

  g_test_add_func ("/run-size/tells-inputs-that-wait",
                   test_run_size_tells_inputs_that_wait);
  g_test_add_func ("/run-size/timed-starts-at-its-share",
                   test_run_size_timed_starts_at_its_share);
  g_test_add_func ("/run-size/timed-does-not-ramp",
                   test_run_size_timed_does_not_ramp);

  return g_test_run ();
}
