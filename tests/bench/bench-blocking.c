/* bench-blocking.c: items that block without using a processor
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "ag-bench.h"

/* The `blocking` workload: N AgTasks (8 by default) that each sleep
 * ITEM_MS, as a blocking read or a slow server would, submitted from one
 * callback to an engine with default settings. They use no processor, so
 * nothing but the number of threads that take them stops them all from
 * sleeping at once: the ideal is one ITEM_MS whatever the core count, and
 * ratio is wall / ideal.
 *
 *   asyncgui  an AgTask per item
 *   gtask     a GTask per item (g_task_run_in_thread()), what most code does
 *             today; GLib's pool for GTasks grows when its threads block
 *   ideal     ITEM_MS
 *
 * Each item returns its index, so a lost or doubled item shows in the sum. */

#define ITEM_MS 250

typedef struct
{
  BenchLoop *loop;
  guint      n;
  guint      n_done;
  guint64    sum;
  gboolean   ok;
  gint64     start_ns;
  gint64     end_ns;
} Blocking;

static void
blocking_item_done (Blocking *self,
                    gint64    value)
{
  self->sum += value;
  if (++self->n_done == self->n)
    {
      self->end_ns = bench_now_ns ();
      bench_loop_quit (self->loop);
    }
}

static void
blocking_fail (Blocking   *self,
               const char *impl,
               const char *message)
{
  if (self->ok)
    g_printerr ("ag-bench: error: blocking %s: %s\n", impl, message);
  self->ok = FALSE;
}

/* asyncgui */

static void
sleep_then_return_index (AgTask       *task,
                         gpointer      user_data,
                         GCancellable *cancellable)
{
  g_usleep (ITEM_MS * 1000);
  ag_task_return_int (task, GPOINTER_TO_INT (user_data));
}

static void
on_ag_item_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Blocking *self = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value;
  gint64 index = 0;

  value = ag_engine_run_finish (AG_ENGINE (source), result, &error);
  if (value == NULL)
    blocking_fail (self, "asyncgui", error != NULL ? error->message : "no value and no error");
  else if (!G_VALUE_HOLDS_INT (value))
    blocking_fail (self, "asyncgui", "the value is not an int");
  else
    index = g_value_get_int (value);

  if (value != NULL)
    g_boxed_free (G_TYPE_VALUE, value);
  blocking_item_done (self, index);
}

static void
ag_start (BenchLoop *loop,
          gpointer   user_data)
{
  Blocking *self = user_data;
  AgEngine *engine = bench_loop_get_engine (loop);

  self->loop = loop;
  self->start_ns = bench_now_ns ();
  for (guint i = 0; i < self->n; i++)
    {
      g_autoptr(AgTask) task = ag_task_new (sleep_then_return_index, GUINT_TO_POINTER (i), NULL);

      ag_engine_run_async (engine, task, NULL, on_ag_item_done, self);
    }
}

/* gtask */

static void
gtask_sleep_then_return_index (GTask        *task,
                               gpointer      source_object,
                               gpointer      task_data,
                               GCancellable *cancellable)
{
  g_usleep (ITEM_MS * 1000);
  g_task_return_int (task, GPOINTER_TO_INT (task_data));
}

static void
on_gtask_item_done (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Blocking *self = user_data;
  g_autoptr(GError) error = NULL;
  gssize value = g_task_propagate_int (G_TASK (result), &error);

  if (error != NULL)
    blocking_fail (self, "gtask", error->message);
  blocking_item_done (self, MAX (value, 0));
}

static void
gtask_start (BenchLoop *loop,
             gpointer   user_data)
{
  Blocking *self = user_data;

  self->loop = loop;
  self->start_ns = bench_now_ns ();
  for (guint i = 0; i < self->n; i++)
    {
      g_autoptr(GTask) task = g_task_new (NULL, NULL, on_gtask_item_done, self);

      g_task_set_task_data (task, GUINT_TO_POINTER (i), NULL);
      g_task_run_in_thread (task, gtask_sleep_then_return_index);
    }
}

static gboolean
blocking_run (const char     *impl,
              gboolean        with_engine,
              BenchStartFunc  start,
              guint           n,
              BenchResult    *result)
{
  g_autofree char *what = g_strdup_printf ("blocking %s", impl);
  Blocking self = { NULL, n, 0, 0, TRUE, 0, 0 };
  guint64 expected = (guint64) n * (n - 1) / 2;

  bench_loop_run (what, with_engine, start, &self);

  if (self.ok && self.sum != expected)
    blocking_fail (&self, impl, "the items' indices do not add up");

  result->wall_ms = bench_ms_between (self.start_ns, self.end_ns);
  result->ratio = result->wall_ms / ITEM_MS;
  return self.ok;
}

gboolean
bench_blocking_asyncgui (guint        n,
                         BenchResult *result)
{
  return blocking_run ("asyncgui", TRUE, ag_start, n, result);
}

gboolean
bench_blocking_gtask (guint        n,
                      BenchResult *result)
{
  return blocking_run ("gtask", FALSE, gtask_start, n, result);
}

gboolean
bench_blocking_ideal (guint        n,
                      BenchResult *result)
{
  result->wall_ms = ITEM_MS;
  result->ratio = 1.0;
  return TRUE;
}
