/* bench-gap.c: the 60 Hz ticker that measures the worst gap
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "ag-bench.h"

/* BENCHMARKS.md asks for a 60 Hz g_timeout_add_full() ticker at GTK 4's
 * redraw priority. A plain timeout cannot tick at 60 Hz: its interval is in
 * whole milliseconds and it re-arms from the time it was dispatched, so 16 ms
 * runs fast, 17 ms runs at 58.8 Hz and shows 0.3 ms of "lateness" on every
 * tick of an idle loop. This source is the same thing done right, the way a
 * vsync'd frame clock does it: its ready time is put on a fixed 16.667 ms
 * grid starting at the submit call, so an on-time tick is due exactly one
 * frame after the previous one, and after a stall the next tick is the next
 * frame of the grid (frames that were missed are not replayed).
 *
 * Lateness is what a user sees: the interval between consecutive ticks minus
 * one frame, floored at 0. The first interval starts at the submit call, so
 * a submit call that blocks the GUI counts, and so does a stall still under
 * way when the workload ends. */

#define FRAME_NS (G_GINT64_CONSTANT (1000000000) / 60)
#define FRAME_MS (1000.0 / 60.0)

/* GDK_PRIORITY_REDRAW in GTK 4: the priority a frame has to get through. */
#define TICK_PRIORITY (G_PRIORITY_HIGH_IDLE + 20)

struct _BenchGap
{
  GSource *source;
  gint64   last_tick_ns;
  gint64   due_ns;
  GArray  *lateness_ms;    /* double, one per tick */
};

static void
record_interval (BenchGap *self,
                 gint64    now_ns)
{
  double lateness = bench_ms_between (self->last_tick_ns, now_ns) - FRAME_MS;

  lateness = MAX (lateness, 0.0);
  g_array_append_val (self->lateness_ms, lateness);
  self->last_tick_ns = now_ns;
}

static void
schedule_next (BenchGap *self,
               gint64    now_ns)
{
  self->due_ns += FRAME_NS;
  if (self->due_ns <= now_ns)
    self->due_ns += ((now_ns - self->due_ns) / FRAME_NS + 1) * FRAME_NS;

  /* Ready times are in g_get_monotonic_time() microseconds, the same clock
   * as bench_now_ns(). GLib rounds the poll timeout up to a whole
   * millisecond, so an idle loop still shows up to ~1 ms of lateness. */
  g_source_set_ready_time (self->source, self->due_ns / 1000);
}

static gboolean
on_tick (gpointer user_data)
{
  BenchGap *self = user_data;
  gint64 now_ns = bench_now_ns ();

  record_interval (self, now_ns);
  schedule_next (self, now_ns);

  return G_SOURCE_CONTINUE;
}

/* A source with nothing but a ready time: dispatched when that time comes. */
static gboolean
tick_source_dispatch (GSource     *source,
                      GSourceFunc  callback,
                      gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs tick_source_funcs = {
  .dispatch = tick_source_dispatch,
};

/* Starts ticking on @context; @start_ns is the moment the workload's submit
 * call begins. */
BenchGap *
bench_gap_start (GMainContext *context,
                 gint64        start_ns)
{
  BenchGap *self = g_new0 (BenchGap, 1);

  self->lateness_ms = g_array_new (FALSE, FALSE, sizeof (double));
  self->last_tick_ns = start_ns;
  self->due_ns = start_ns;

  self->source = g_source_new (&tick_source_funcs, sizeof (GSource));
  g_source_set_name (self->source, "ag-bench gap ticker");
  g_source_set_priority (self->source, TICK_PRIORITY);
  g_source_set_callback (self->source, on_tick, self, NULL);
  schedule_next (self, start_ns);
  g_source_attach (self->source, context);

  return self;
}

/* Counts the stall under way at @end_ns and stops ticking. */
void
bench_gap_stop (BenchGap *self,
                gint64    end_ns)
{
  if (self->source == NULL)
    return;

  record_interval (self, end_ns);
  g_source_destroy (self->source);
  g_clear_pointer (&self->source, g_source_unref);
}

double
bench_gap_get_max_ms (BenchGap *self)
{
  return bench_percentile (self->lateness_ms, 1.0);
}

double
bench_gap_get_p99_ms (BenchGap *self)
{
  return bench_percentile (self->lateness_ms, 0.99);
}

void
bench_gap_free (BenchGap *self)
{
  if (self->source != NULL)
    {
      g_source_destroy (self->source);
      g_source_unref (self->source);
    }
  g_array_unref (self->lateness_ms);
  g_free (self);
}
