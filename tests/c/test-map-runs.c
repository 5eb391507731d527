/* test-map-runs.c: a map hands its inputs to workers in timed runs, and a
 * run over its budget gives back the inputs it did not run
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "test-util.h"

/* What the function of a map saw: how often each input ran, and which
 * inputs sleep instead of returning at once. */
typedef struct
{
  guint   n_inputs;
  int    *n_calls;         /* atomic, one per input */
  guint   slow_every;      /* an input at a multiple of it sleeps; 0: none */
  guint   slow_first;      /* the first input that sleeps, if slow_every is 0 */
  guint   slow_ms;
} Inputs;

static Inputs *
inputs_new (guint n_inputs)
{
  Inputs *inputs = g_new0 (Inputs, 1);

  inputs->n_inputs = n_inputs;
  inputs->n_calls = g_new0 (int, n_inputs);
  inputs->slow_first = G_MAXUINT;
  return inputs;
}

static void
inputs_free (Inputs *inputs)
{
  g_free (inputs->n_calls);
  g_free (inputs);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Inputs, inputs_free)

static gboolean
is_slow (const Inputs *inputs,
         guint         position)
{
  if (inputs->slow_every > 0)
    return position % inputs->slow_every == 0;
  return position == inputs->slow_first;
}

static void
triple_input (AgChunk  *chunk,
              guint     position,
              gpointer  user_data)
{
  Inputs *inputs = user_data;

  g_atomic_int_inc (&inputs->n_calls[position]);
  if (is_slow (inputs, position))
    g_usleep (inputs->slow_ms * 1000);
  ag_chunk_return_uint (chunk, position * 3);
}

/* The n-finished of each delivery, in order. */
static void
record_n_finished (GObject    *object,
                   GParamSpec *pspec,
                   gpointer    user_data)
{
  guint n = ag_multi_task_get_n_finished (AG_MULTI_TASK (object));

  g_array_append_val ((GArray *) user_data, n);
}

static void
record_announced (AgMultiTask *multi,
                  guint        position,
                  gpointer     user_data)
{
  g_array_append_val ((GArray *) user_data, position);
}

/* Checks that every input ran exactly once and that the value and the
 * announcements are in list order. */
static void
check_outcome (Inputs       *inputs,
               const GValue *value,
               GArray       *announced)
{
  GArray *values = g_value_get_boxed (value);

  for (guint i = 0; i < inputs->n_inputs; i++)
    if (g_atomic_int_get (&inputs->n_calls[i]) != 1)
      g_error ("input %u ran %d times", i, g_atomic_int_get (&inputs->n_calls[i]));

  g_assert_cmpuint (values->len, ==, inputs->n_inputs);
  g_assert_cmpuint (announced->len, ==, inputs->n_inputs);
  for (guint i = 0; i < inputs->n_inputs; i++)
    {
      g_assert_cmpuint (g_value_get_uint (&g_array_index (values, GValue, i)), ==, i * 3);
      g_assert_cmpuint (g_array_index (announced, guint, i), ==, i);
    }
}

/* Runs @multi to its end and checks its outcome. Returns the n-finished of
 * each delivery. */
static GArray *
run_and_check (AgTestFixture *fixture,
               AgMultiTask   *multi,
               Inputs        *inputs)
{
  g_autoptr(GArray) announced = g_array_new (FALSE, FALSE, sizeof (guint));
  GArray *deliveries = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GError) error = NULL;
  GValue *value;

  g_signal_connect (multi, "notify::n-finished", G_CALLBACK (record_n_finished), deliveries);
  g_signal_connect (multi, "task-done", G_CALLBACK (record_announced), announced);

  value = ag_test_run_to_end (fixture, AG_TASK (multi), &error);
  g_assert_no_error (error);
  check_outcome (inputs, value, announced);

  ag_test_value_free (value);
  return deliveries;
}

static AgMultiTask *
map_of (Inputs *inputs)
{
  return ag_multi_task_new_map_range (inputs->n_inputs, triple_input, inputs, NULL);
}

/* Runs a map of 300 inputs with one worker, so that its first run is
 * offered the whole list: input 0 is quick, input 1 sleeps past the run's
 * budget. Checks that every input ran once, and returns how many the
 * first delivery finished. */
static guint
first_delivery_with_a_slow_second_input (AgTestFixture *fixture,
                                         guint          min_count)
{
  g_autoptr(Inputs) inputs = inputs_new (300);
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(GArray) deliveries = NULL;

  inputs->slow_first = 1;
  inputs->slow_ms = 5;
  multi = map_of (inputs);
  ag_multi_task_set_max_workers (multi, 1);
  ag_multi_task_set_min_count (multi, min_count);

  deliveries = run_and_check (fixture, multi, inputs);
  g_assert_cmpuint (deliveries->len, >=, 2);
  return g_array_index (deliveries, guint, 0);
}

/* The run stops after the slow input and gives back the rest, which later
 * runs take. (A map that ramped its runs up from one input would deliver
 * input 0 alone.) */
static void
test_map_run_over_its_budget_gives_back_the_rest (AgTestFixture *fixture,
                                                  gconstpointer  data)
{
  g_assert_cmpuint (first_delivery_with_a_slow_second_input (fixture, 1), ==, 2);
}

/* A run over its budget still runs min-count inputs before it stops:
 * here 64, the power of two past 50 where it looks at the clock. */
static void
test_map_run_over_its_budget_runs_min_count_first (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  g_assert_cmpuint (first_delivery_with_a_slow_second_input (fixture, 50), ==, 64);
}

/* Trivial inputs need no ramp of runs through the engine's thread: with
 * one worker, 500 of them are one run, one delivery. A run that was
 * preempted past its budget stops early, so a loaded machine gets three
 * tries. (Runs that grow from one input, eight times a run, would take
 * four deliveries: 1, 8, 64, then the rest.) */
static void
test_map_of_trivial_inputs_starts_at_full_size (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  guint first = 0;

  for (guint attempt = 0; attempt < 3 && first != 500; attempt++)
    {
      g_autoptr(Inputs) inputs = inputs_new (500);
      g_autoptr(AgMultiTask) multi = map_of (inputs);
      g_autoptr(GArray) deliveries = NULL;

      ag_multi_task_set_max_workers (multi, 1);
      deliveries = run_and_check (fixture, multi, inputs);
      first = g_array_index (deliveries, guint, 0);
      g_test_message ("attempt %u: the first delivery finished %u inputs", attempt, first);
    }

  g_assert_cmpuint (first, ==, 500);
}

/* Slow inputs spread through the list make runs stop and give back their
 * rest, behind the list-order cursor and ahead of it (a wanted range),
 * while other runs go on: whatever the order, each input runs once and
 * the value stays in list order. */
static void
test_map_given_back_inputs_each_run_once (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  const guint n_workers[] = { 1, 2, 3, 5 };

  for (guint w = 0; w < G_N_ELEMENTS (n_workers); w++)
    {
      g_autoptr(Inputs) inputs = inputs_new (3000);
      g_autoptr(AgMultiTask) multi = NULL;
      g_autoptr(GArray) deliveries = NULL;

      inputs->slow_every = 250;
      inputs->slow_ms = 3;
      multi = map_of (inputs);
      ag_multi_task_set_max_workers (multi, n_workers[w]);
      ag_multi_task_prioritize (multi, 2100, 300);

      deliveries = run_and_check (fixture, multi, inputs);
      g_test_message ("%u workers: %u deliveries", n_workers[w], deliveries->len);
    }
}

/* The same, with the wanted range moved while the map runs, as a view
 * does while the user scrolls. */
static void
test_map_given_back_inputs_each_run_once_while_scrolled (AgTestFixture *fixture,
                                                         gconstpointer  data)
{
  g_autoptr(Inputs) inputs = inputs_new (4000);
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(GArray) announced = g_array_new (FALSE, FALSE, sizeof (guint));
  gint64 start = g_get_monotonic_time ();
  AgTestOutcome outcome;

  inputs->slow_every = 200;
  inputs->slow_ms = 3;
  multi = map_of (inputs);
  ag_multi_task_set_max_workers (multi, 3);
  g_signal_connect (multi, "task-done", G_CALLBACK (record_announced), announced);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                       &outcome);
  for (guint wanted = 3500; outcome.n_calls == 0; wanted = (wanted + 1300) % 4000)
    {
      if (!ag_task_is_finished (AG_TASK (multi)))
        ag_multi_task_prioritize (multi, wanted, 150);
      ag_test_run_for (fixture->context, 2);
      g_assert_cmpfloat (ag_test_elapsed_ms (start), <, AG_TEST_SAFETY_MS);
    }
  g_assert_no_error (outcome.error);
  check_outcome (inputs, outcome.value, announced);

  ag_test_outcome_clear (&outcome);
}

/* The resident memory of this process in kilobytes, or -1. */
static long
rss_kb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, "VmRSS:");
  return line != NULL ? atol (line + strlen ("VmRSS:")) : -1;
}

static void
wait_at_gate (AgTask       *task,
              gpointer      user_data,
              GCancellable *cancellable)
{
  ag_test_latch_wait (user_data);
  ag_task_return_boolean (task, TRUE);
}

static void
open_latch (AgTask       *task,
            gpointer      user_data,
            GCancellable *cancellable)
{
  ag_test_latch_open (user_data);
  ag_task_return_boolean (task, TRUE);
}

static void
return_position (AgChunk  *chunk,
                 guint     position,
                 gpointer  user_data)
{
  ag_chunk_return_uint (chunk, position);
}

/* Runs of a map cancelled while they wait for a worker leave its value
 * array alone: a loop that starts and cancels big maps faster than the
 * workers drain them would otherwise make every array resident until the
 * engine's thread has taken the runs back (gigabytes for thousands of
 * maps). The runs queue behind two workers held at a gate; once they
 * have all been through, before the engine's thread takes any of them
 * back, the arrays of the cancelled maps must not be resident. */
static void
test_cancelled_map_leaves_its_values_untouched (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  /* Each map's value array is 3 MiB; its first two runs zero 1.5 MiB each. */
  enum { N_MAPS = 64, N_INPUTS = 128 * 1024 };
  AgTestLatch gate, through;
  g_autoptr(AgTask) last = NULL;
  AgTestOutcome gates[2], maps[N_MAPS], outcome;
  long rss_before, grown;
  gboolean gc_friendly;

  if (ag_test_timing_factor () > 1)
    {
      g_test_skip ("a sanitizer's own memory would be measured, not the maps'");
      return;
    }
  if (rss_kb () < 0)
    {
      g_test_skip ("this system does not tell a process's resident memory");
      return;
    }

  /* The suite's G_DEBUG=gc-friendly zeroes every GArray GLib allocates,
   * and meson test's MALLOC_PERTURB_ fills every allocation: either makes
   * the arrays resident by itself, so neither applies to the maps. */
  gc_friendly = g_mem_gc_friendly;
  g_mem_gc_friendly = FALSE;
#ifdef M_PERTURB
  mallopt (M_PERTURB, 0);
#endif
  ag_engine_set_max_threads (fixture->engine, 2);
  ag_engine_set_max_blocked_threads (fixture->engine, 0);
  ag_test_latch_init (&gate);
  ag_test_latch_init (&through);
  for (guint i = 0; i < G_N_ELEMENTS (gates); i++)
    {
      g_autoptr(AgTask) task = ag_task_new (wait_at_gate, &gate, NULL);

      ag_test_outcome_init (&gates[i], fixture->engine);
      ag_engine_run_async (fixture->engine, task, NULL, ag_test_outcome_callback, &gates[i]);
    }
  ag_test_run_for (fixture->context, 20);

  rss_before = rss_kb ();
  for (guint i = 0; i < N_MAPS; i++)
    {
      g_autoptr(AgMultiTask) multi = ag_multi_task_new_map_range (N_INPUTS, return_position,
                                                                  NULL, NULL);

      ag_test_outcome_init (&maps[i], fixture->engine);
      ag_engine_run_async (fixture->engine, AG_TASK (multi), NULL, ag_test_outcome_callback,
                           &maps[i]);
      ag_task_cancel (AG_TASK (multi));
    }
  /* A task queued after the maps' runs tells when they have been through. */
  last = ag_task_new (open_latch, &through, NULL);
  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, last, NULL, ag_test_outcome_callback, &outcome);
  ag_test_run_for (fixture->context, 20);

  /* Not iterating the context: the runs stay with the engine's thread. */
  ag_test_latch_open (&gate);
  g_assert_true (ag_test_latch_wait (&through));
  grown = rss_kb () - rss_before;
  g_test_message ("resident memory grew by %ld kB over %d cancelled maps of %d MiB of values",
                  grown, N_MAPS, (int) (N_INPUTS * sizeof (GValue) >> 20));
  g_assert_cmpint (grown, <, 32 * 1024);

  ag_test_run_until (fixture->context, outcome.n_calls == 1, AG_TEST_SAFETY_MS);
  for (guint i = 0; i < N_MAPS; i++)
    {
      ag_test_run_until (fixture->context, maps[i].n_calls == 1, AG_TEST_SAFETY_MS);
      g_assert_error (maps[i].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      ag_test_outcome_clear (&maps[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (gates); i++)
    {
      ag_test_run_until (fixture->context, gates[i].n_calls == 1, AG_TEST_SAFETY_MS);
      ag_test_outcome_clear (&gates[i]);
    }
  ag_test_outcome_clear (&outcome);
  ag_test_latch_clear (&through);
  ag_test_latch_clear (&gate);
  g_mem_gc_friendly = gc_friendly;
#ifdef M_PERTURB
  mallopt (M_PERTURB, atoi (g_getenv ("MALLOC_PERTURB_") != NULL ? g_getenv ("MALLOC_PERTURB_") : "0"));
#endif
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/map-runs/run-over-its-budget-gives-back-the-rest",
               test_map_run_over_its_budget_gives_back_the_rest);
  ag_test_add ("/map-runs/run-over-its-budget-runs-min-count-first",
               test_map_run_over_its_budget_runs_min_count_first);
  ag_test_add ("/map-runs/trivial-inputs-start-at-full-size",
               test_map_of_trivial_inputs_starts_at_full_size);
  ag_test_add ("/map-runs/given-back-inputs-each-run-once",
               test_map_given_back_inputs_each_run_once);
  ag_test_add ("/map-runs/given-back-inputs-each-run-once-while-scrolled",
               test_map_given_back_inputs_each_run_once_while_scrolled);
  ag_test_add ("/map-runs/cancelled-map-leaves-its-values-untouched",
               test_cancelled_map_leaves_its_values_untouched);

  return g_test_run ();
}
