/* bench-frames.c: what a real GTK 4 window's frame clock sees during a flood
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gtk/gtk.h>

#include "bench-flood.h"

/* The other workloads measure the GUI with a 60 Hz ticker at redraw
 * priority; this one asks GTK itself. A window with an animated drawing
 * area is shown (under Xvfb when there is no display), a tick callback on
 * its frame clock notes the time of every frame, and the flood-multi
 * workload runs on the window's own context: asyncgui's, then GTask's, in
 * turns. Each item does real work (FLOOD_WORK_S of processor time in all,
 * per processor), so the flood lasts seconds, as the target asks. A frame interval is the time between two frames; the first starts
 * at the last frame before the submit call, and a stall still under way
 * when the flood ends counts as one more interval. The nominal interval is
 * the median one of the idle window's first frames, so the figure holds
 * whatever rate the display runs at. The target is that no interval is
 * longer than two nominal ones; gap_max_ms and gap_p99_ms report how much
 * longer than nominal the intervals were, as the ticker's lateness does. */

#define WARM_UP_FRAMES 30
#define REPS 3

/* Seconds of processor work per flood, spread over the processors, so that
 * it lasts at least this long however many items it has: at 60 Hz, over
 * 180 frames. */
#define FLOOD_WORK_S 3.2

typedef struct
{
  GArray  *frame_ns;   /* gint64: when each frame's tick ran */
  gint64   start_ns;   /* of the flood being watched; 0 outside one */
  gint64   end_ns;
} Frames;

static gboolean
on_tick (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       user_data)
{
  Frames *frames = user_data;
  gint64 now = bench_now_ns ();

  g_array_append_val (frames->frame_ns, now);
  /* Something new on every frame, as an animation would have. */
  gtk_widget_queue_draw (widget);

  return G_SOURCE_CONTINUE;
}

static void
draw_bar (GtkDrawingArea *area,
          cairo_t        *cr,
          int             width,
          int             height,
          gpointer        user_data)
{
  Frames *frames = user_data;
  double x = (frames->frame_ns->len % 60) / 60.0 * width;

  cairo_set_source_rgb (cr, 0.2, 0.4, 0.8);
  cairo_rectangle (cr, x, 0, width / 10.0, height);
  cairo_fill (cr);
}

static void
observe_flood (gboolean started,
               gpointer user_data)
{
  Frames *frames = user_data;

  if (started)
    frames->start_ns = bench_now_ns ();
  else
    frames->end_ns = bench_now_ns ();
}

/* The median interval of the last @count frames. */
static double
median_interval_ms (Frames *frames,
                    guint   count)
{
  g_autoptr(GArray) intervals = g_array_new (FALSE, FALSE, sizeof (double));
  guint first = frames->frame_ns->len - count;

  for (guint i = first + 1; i < frames->frame_ns->len; i++)
    {
      double ms = bench_ms_between (g_array_index (frames->frame_ns, gint64, i - 1),
                                    g_array_index (frames->frame_ns, gint64, i));

      g_array_append_val (intervals, ms);
    }

  return bench_percentile (intervals, 0.5);
}

/* The intervals of the frames around the flood, in ms. */
static GArray *
flood_intervals_ms (Frames *frames)
{
  GArray *intervals = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 previous = 0;

  for (guint i = 0; i < frames->frame_ns->len; i++)
    {
      gint64 frame = g_array_index (frames->frame_ns, gint64, i);
      double ms;

      if (frame <= frames->start_ns)
        {
          previous = frame;
          continue;
        }
      if (frame > frames->end_ns)
        break;

      ms = bench_ms_between (previous, frame);
      g_array_append_val (intervals, ms);
      previous = frame;
    }

  /* The stall under way at the end, if it is longer than what came before. */
  if (previous != 0)
    {
      double ms = bench_ms_between (previous, frames->end_ns);

      g_array_append_val (intervals, ms);
    }

  return intervals;
}

static void
wait_for_frames (Frames *frames,
                 guint   count)
{
  guint target = frames->frame_ns->len + count;

  while (frames->frame_ns->len < target)
    g_main_context_iteration (NULL, TRUE);
}

/* One flood watched from the frame clock; FALSE if the flood failed. */
static gboolean
watch_flood (Frames           *frames,
             const char       *impl,
             BenchMeasureFunc  flood,
             guint             n,
             double            nominal_ms,
             GArray           *worst_ms,
             GArray           *p99_ms,
             GArray           *wall_ms)
{
  BenchResult result = BENCH_RESULT_INIT;
  g_autoptr(GArray) intervals = NULL;
  double worst, p99, wall;
  guint n_frames;

  wait_for_frames (frames, 5);
  frames->start_ns = frames->end_ns = 0;
  if (!flood (n, &result))
    return FALSE;

  intervals = flood_intervals_ms (frames);
  n_frames = intervals->len;
  worst = n_frames > 0 ? bench_percentile (intervals, 1.0) : 0;
  p99 = n_frames > 0 ? bench_percentile (intervals, 0.99) : 0;
  wall = bench_ms_between (frames->start_ns, frames->end_ns);
  g_printerr ("ag-bench: frames %s n=%u: %u frame intervals in %.1f ms, the longest %.1f ms "
              "(%.1f nominal): %s\n", impl, n, n_frames, wall, worst, nominal_ms,
              worst <= 2 * nominal_ms ? "no frame dropped" : "frames dropped");

  worst = MAX (worst - nominal_ms, 0);
  p99 = MAX (p99 - nominal_ms, 0);
  g_array_append_val (worst_ms, worst);
  g_array_append_val (p99_ms, p99);
  g_array_append_val (wall_ms, wall);

  return TRUE;
}

static void
report_median (const char *impl,
               guint       n,
               GArray     *worst_ms,
               GArray     *p99_ms,
               GArray     *wall_ms)
{
  BenchResult result = BENCH_RESULT_INIT;

  result.gap_max_ms = bench_percentile (worst_ms, 0.5);
  result.gap_p99_ms = bench_percentile (p99_ms, 0.5);
  result.wall_ms = bench_percentile (wall_ms, 0.5);
  bench_report ("frames", impl, n, &result);
}

gboolean
bench_frames (guint n)
{
  Frames frames = { 0, };
  GtkWidget *window, *area;
  g_autoptr(GArray) ag_worst = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ag_p99 = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ag_wall = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) gt_worst = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) gt_p99 = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) gt_wall = g_array_new (FALSE, FALSE, sizeof (double));
  gboolean ok = TRUE;
  double nominal_ms;

  if (!gtk_init_check ())
    {
      g_printerr ("ag-bench: frames needs a display; run it under xvfb-run. Skipped.\n");
      return FALSE;
    }

  frames.frame_ns = g_array_new (FALSE, FALSE, sizeof (gint64));
  window = gtk_window_new ();
  gtk_window_set_title (GTK_WINDOW (window), "ag-bench frames");
  gtk_window_set_default_size (GTK_WINDOW (window), 320, 120);
  area = gtk_drawing_area_new ();
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (area), draw_bar, &frames, NULL);
  gtk_window_set_child (GTK_WINDOW (window), area);
  gtk_widget_add_tick_callback (area, on_tick, &frames, NULL);
  gtk_window_present (GTK_WINDOW (window));

  wait_for_frames (&frames, WARM_UP_FRAMES);
  nominal_ms = median_interval_ms (&frames, WARM_UP_FRAMES);

  bench_flood_item_work_ns = (guint) (FLOOD_WORK_S * 1e9 * g_get_num_processors () / MAX (n, 1));
  bench_loop_observe (observe_flood, &frames);
  for (guint i = 0; i < REPS && ok; i++)
    {
      ok &= watch_flood (&frames, "asyncgui", bench_flood_multi_asyncgui, n, nominal_ms,
                         ag_worst, ag_p99, ag_wall);
      ok &= watch_flood (&frames, "gtask", bench_flood_gtask, n, nominal_ms,
                         gt_worst, gt_p99, gt_wall);
    }
  bench_loop_observe (NULL, NULL);
  bench_flood_item_work_ns = 0;

  if (ok)
    {
      report_median ("asyncgui", n, ag_worst, ag_p99, ag_wall);
      report_median ("gtask", n, gt_worst, gt_p99, gt_wall);
    }

  gtk_window_destroy (GTK_WINDOW (window));
  g_array_unref (frames.frame_ns);

  return ok;
}
