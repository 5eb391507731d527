/* bench-flood.c: many trivial items at once, and what the GUI feels
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "bench-flood.h"

#include <time.h>

/* Each item doubles its index, so every result can be checked. A flood is
 * timed from the GUI-thread call that submits it to the final completion on
 * the GUI thread; the 60 Hz ticker runs on the same context the whole time.
 * The inputs array of flood-multi is built before the clock starts: an
 * application has its data already, and the GTask baseline gets the same
 * indices for free.
 *
 * Here: what every flood implementation shares, asyncgui's floods and the
 * per-item GTask (what most code does today). The strongest fair
 * baselines, which asyncgui is measured against, are in
 * bench-flood-baselines.c. */

void
flood_init (Flood *flood,
            guint  n,
            guint  n_expected)
{
  *flood = (Flood) { 0, };
  flood->n = n;
  flood->n_expected = n_expected;
  flood->ok = TRUE;
}

/* Built before the clock starts: an application has its data already. */
void
flood_make_inputs (Flood *flood)
{
  flood->inputs = g_ptr_array_sized_new (flood->n);
  for (guint i = 0; i < flood->n; i++)
    g_ptr_array_add (flood->inputs, GUINT_TO_POINTER (i));
}

void
flood_begin (Flood     *flood,
             BenchLoop *loop)
{
  flood->loop = loop;
  g_atomic_int_set (&bench_flood_items_ran, 0);
  flood->start_ns = bench_now_ns ();
  flood->gap = bench_gap_start (bench_loop_get_context (loop), flood->start_ns);
}

gboolean bench_flood_backlog;
int      bench_flood_items_ran;

/* The held-up GUI of the backlog workload. It runs at the default priority,
 * after whatever hands the submissions to the workers at the start of the
 * next iteration, and starts the measurement over when it lets go. */
static gboolean
hold_until_every_item_ran (gpointer user_data)
{
  Flood *flood = user_data;

  while ((guint) g_atomic_int_get (&bench_flood_items_ran) < flood->n)
    g_usleep (1000);
  /* The last items' results are on their way home. */
  g_usleep (20 * 1000);

  bench_gap_free (flood->gap);
  flood->start_ns = flood->submitted_ns = bench_now_ns ();
  flood->gap = bench_gap_start (bench_loop_get_context (flood->loop), flood->start_ns);

  return G_SOURCE_REMOVE;
}

void
flood_submitted (Flood *flood)
{
  flood->submitted_ns = bench_now_ns ();

  if (bench_flood_backlog)
    {
      g_autoptr(GSource) hold = g_idle_source_new ();

      g_source_set_priority (hold, G_PRIORITY_DEFAULT);
      g_source_set_callback (hold, hold_until_every_item_ran, flood, NULL);
      g_source_attach (hold, bench_loop_get_context (flood->loop));
    }
}

void
flood_end (Flood *flood)
{
  flood->end_ns = bench_now_ns ();
  bench_gap_stop (flood->gap, flood->end_ns);
  bench_loop_quit (flood->loop);
}

void
flood_fail (Flood      *flood,
            const char *format,
            ...)
{
  va_list args;
  g_autofree char *message = NULL;

  /* The first failure is the informative one; a million more are noise. */
  if (!flood->ok)
    return;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("ag-bench: error: %s\n", message);
  flood->ok = FALSE;
}

/* flood-multi's result, whichever implementation made it: one GValue per
 * item, in input order, holding the double of the item's index. */
void
flood_check_values (Flood      *flood,
                    const char *impl,
                    GArray     *values)
{
  if (values == NULL || values->len != flood->n)
    {
      flood_fail (flood, "flood-multi %s: %u values for %u items",
                  impl, values != NULL ? values->len : 0, flood->n);
      return;
    }

  for (guint i = 0; i < values->len; i++)
    {
      const GValue *item = &g_array_index (values, GValue, i);

      if (!G_VALUE_HOLDS_UINT (item) || g_value_get_uint (item) != i * 2)
        {
          g_autofree char *contents = g_strdup_value_contents (item);

          flood_fail (flood, "flood-multi %s: value %u is %s (%s), expected %u",
                      impl, i, contents, G_VALUE_TYPE_NAME (item), i * 2);
          return;
        }
    }
}

/* Each index i comes back as 2i exactly once, so the values add up to
 * n (n - 1); a lost, doubled or wrong value changes the sum. */
guint64
flood_expected_sum (guint n)
{
  return (guint64) n * (n - 1);
}

/* Called after the loop is gone, so completions that arrived after the last
 * expected one (delivered twice, say) have been counted too. */
gboolean
flood_finish (Flood       *flood,
              const char  *what,
              BenchResult *result)
{
  double wall_ms = bench_ms_between (flood->start_ns, flood->end_ns);

  if (flood->n_done != flood->n_expected)
    flood_fail (flood, "%s: %u completion callbacks, expected %u",
                what, flood->n_done, flood->n_expected);

  result->wall_ms = wall_ms;
  result->rate = flood->n / (wall_ms / 1000.0);
  result->gap_max_ms = bench_gap_get_max_ms (flood->gap);
  result->gap_p99_ms = bench_gap_get_p99_ms (flood->gap);
  /* Where a big gap comes from: the submit call, or delivery. */
  result->submit_ms = bench_ms_between (flood->start_ns, flood->submitted_ns);

  g_clear_pointer (&flood->gap, bench_gap_free);
  g_clear_pointer (&flood->inputs, g_ptr_array_unref);
  g_clear_pointer (&flood->values, g_array_unref);
  g_clear_object (&flood->multi);

  return flood->ok;
}

guint bench_flood_item_work_ns;

/* Spends bench_flood_item_work_ns of this thread's processor time. */
static inline void
item_work (void)
{
  struct timespec start, now;
  gint64 spent;

  if (G_LIKELY (bench_flood_item_work_ns == 0))
    return;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &start);
  do
    {
      clock_gettime (CLOCK_THREAD_CPUTIME_ID, &now);
      spent = (now.tv_sec - start.tv_sec) * G_GINT64_CONSTANT (1000000000)
              + (now.tv_nsec - start.tv_nsec);
    }
  while (spent < bench_flood_item_work_ns);
}

/* flood-multi, asyncgui: one mapping AgMultiTask */

static void
double_input (AgChunk  *chunk,
              gpointer  item,
              gpointer  user_data)
{
  item_work ();
  ag_chunk_return_uint (chunk, GPOINTER_TO_UINT (item) * 2);
}

static void
check_multi_values (Flood        *flood,
                    const GValue *value)
{
  if (!G_VALUE_HOLDS (value, G_TYPE_ARRAY))
    {
      flood_fail (flood, "flood-multi: value is a %s, not a GArray", G_VALUE_TYPE_NAME (value));
      return;
    }

  flood_check_values (flood, "asyncgui", g_value_get_boxed (value));
}

static void
on_multi_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Flood *flood = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value;

  if (++flood->n_done > 1)
    return;
  flood_end (flood);

  value = ag_engine_run_finish (bench_loop_get_engine (flood->loop), result, &error);
  if (value == NULL)
    {
      flood_fail (flood, "flood-multi: the multi-task failed: %s",
                  error != NULL ? error->message : "(no value and no error)");
      return;
    }

  check_multi_values (flood, value);
  g_boxed_free (G_TYPE_VALUE, value);

  if (ag_multi_task_get_n_finished (flood->multi) != flood->n)
    flood_fail (flood, "flood-multi: n-finished is %u, expected %u",
                ag_multi_task_get_n_finished (flood->multi), flood->n);
  if (ag_multi_task_get_n_failed (flood->multi) != 0)
    flood_fail (flood, "flood-multi: n-failed is %u", ag_multi_task_get_n_failed (flood->multi));
}

static void
flood_multi_start (BenchLoop *loop,
                   gpointer   user_data)
{
  Flood *flood = user_data;

  flood_begin (flood, loop);
  flood->multi = ag_multi_task_new_map (flood->inputs, double_input, NULL, NULL);
  ag_engine_run_async (bench_loop_get_engine (loop), AG_TASK (flood->multi), NULL,
                       on_multi_done, flood);
  flood_submitted (flood);
}

gboolean
bench_flood_multi_asyncgui (guint        n,
                            BenchResult *result)
{
  Flood flood;

  /* The whole flood is one completion callback. */
  flood_init (&flood, n, 1);
  flood_make_inputs (&flood);

  bench_loop_run ("flood-multi asyncgui", TRUE, flood_multi_start, &flood);

  return flood_finish (&flood, "flood-multi", result);
}

/* flood-tasks, asyncgui: one AgTask per item, all run from one callback */

static void
double_index (AgTask       *task,
              gpointer      user_data,
              GCancellable *cancellable)
{
  flood_item_ran ();
  ag_task_return_int (task, (int) (GPOINTER_TO_UINT (user_data) * 2));
}

/* As the GTask line reads its int with g_task_propagate_int(), this one
 * reads it with the typed getter, in place: the task's error, or
 * AG_ERROR_TYPE_MISMATCH for a value that is not an int. */
static void
on_task_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Flood *flood = user_data;
  g_autoptr(GError) error = NULL;
  int value;

  value = ag_task_get_int (AG_TASK (result), &error);
  if (error != NULL)
    flood_fail (flood, "flood-tasks: a task failed: %s", error->message);
  else
    flood->sum += value;

  if (++flood->n_done == flood->n_expected)
    flood_end (flood);
}

static void
flood_tasks_start (BenchLoop *loop,
                   gpointer   user_data)
{
  Flood *flood = user_data;
  AgEngine *engine = bench_loop_get_engine (loop);

  flood_begin (flood, loop);
  for (guint i = 0; i < flood->n; i++)
    {
      g_autoptr(AgTask) task = ag_task_new (double_index, GUINT_TO_POINTER (i), NULL);

      ag_engine_run_async (engine, task, NULL, on_task_done, flood);
    }
  flood_submitted (flood);
}

gboolean
bench_flood_tasks_asyncgui (guint        n,
                            BenchResult *result)
{
  Flood flood;

  flood_init (&flood, n, n);
  bench_loop_run ("flood-tasks asyncgui", TRUE, flood_tasks_start, &flood);

  if (flood.ok && flood.sum != flood_expected_sum (n))
    flood_fail (&flood, "flood-tasks: values add up to %" G_GUINT64_FORMAT ", expected %"
                G_GUINT64_FORMAT, flood.sum, flood_expected_sum (n));

  return flood_finish (&flood, "flood-tasks", result);
}

/* The baseline of both floods: one GTask per item */

static void
gtask_double_index (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  item_work ();
  flood_item_ran ();
  g_task_return_int (task, GPOINTER_TO_UINT (task_data) * 2);
}

static void
on_gtask_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Flood *flood = user_data;
  GTask *task = G_TASK (result);
  guint index = GPOINTER_TO_UINT (g_task_get_task_data (task));
  g_autoptr(GError) error = NULL;
  gssize value;

  value = g_task_propagate_int (task, &error);
  if (error != NULL)
    flood_fail (flood, "gtask: task %u failed: %s", index, error->message);
  else if (value != (gssize) index * 2)
    flood_fail (flood, "gtask: task %u returned %" G_GSSIZE_FORMAT, index, value);

  if (++flood->n_done == flood->n_expected)
    flood_end (flood);
}

static void
flood_gtask_start (BenchLoop *loop,
                   gpointer   user_data)
{
  Flood *flood = user_data;

  flood_begin (flood, loop);
  for (guint i = 0; i < flood->n; i++)
    {
      g_autoptr(GTask) task = g_task_new (NULL, NULL, on_gtask_done, flood);

      g_task_set_task_data (task, GUINT_TO_POINTER (i), NULL);
      g_task_run_in_thread (task, gtask_double_index);
    }
  flood_submitted (flood);
}

gboolean
bench_flood_gtask (guint        n,
                   BenchResult *result)
{
  Flood flood;

  flood_init (&flood, n, n);
  bench_loop_run ("flood gtask", FALSE, flood_gtask_start, &flood);

  return flood_finish (&flood, "gtask flood", result);
}
