/* asyncgui-demo.c: a GTK 4 window that stays smooth while CPU work runs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Start counts the primes in a few thousand blocks of numbers with an
 * AgMultiTask (one mapped input per block, spread over the engine's worker
 * threads) and, at the same time, runs three slower hash-chain tasks that
 * report their own progress. Results are added to the list in the order
 * they finish, the progress bars follow the tasks' `progress` properties,
 * and a frame-clock ticker records the longest gap between two frames, which
 * is the number that says whether the window stayed responsive.
 *
 * Headless use: `--auto` starts at once, prints a summary and quits;
 * `--cancel-after MS` cancels the run after MS milliseconds; `--screenshot
 * FILE.png` saves a picture of the window before quitting.
 */

#define G_LOG_DOMAIN "asyncgui-demo"

#include "examples-config.h"

#include <locale.h>
#include <string.h>
#include <stdlib.h>

#include <glib/gi18n.h>
#include <gtk/gtk.h>

#include <asyncgui.h>

#define DEMO_N_BLOCKS     5000
#define DEMO_BLOCK_SIZE   4000
#define DEMO_N_CHAINS     3
#define DEMO_CHAIN_ROUNDS 1000000

/* Exit status of a run that could not start because there is no display;
 * Meson's test harness reports it as a skip.
 */
#define DEMO_EXIT_SKIP 77

typedef struct
{
  GtkWidget    *label;
  GtkWidget    *progress;
  AgTask       *task;
} DemoChain;

typedef struct
{
  GtkApplication *app;
  GtkWidget      *window;
  GtkWidget      *start_button;
  GtkWidget      *cancel_button;
  GtkWidget      *spinner;
  GtkWidget      *status_label;
  GtkWidget      *progress_bar;
  GtkWidget      *frame_label;
  GtkStringList  *results;
  DemoChain       chains[DEMO_N_CHAINS];

  AgEngine       *engine;
  AgMultiTask    *multi;
  GCancellable   *cancellable;
  guint           n_pending;
  guint           cancel_source;
  gboolean        running;

  /* Outcome of the last run. */
  guint           n_results;
  guint           n_primes;
  guint           n_chains_done;
  guint           n_values;
  guint           n_primes_in_value;
  AgTaskState     multi_state;
  char           *multi_error;
  gint64          start_us;
  gint64          elapsed_us;

  /* Frame-clock ticker: gaps are only recorded while a run is in progress. */
  gint64          last_frame_us;
  gint64          worst_gap_us;
  guint           n_frames;
  guint           frames_before_start;
  guint           screenshot_tries;
} Demo;

static gboolean     opt_auto;
static int          opt_cancel_after = -1;
static char        *opt_screenshot;
static int          exit_status = EXIT_SUCCESS;

/* Worker-thread side: nothing below touches Demo or any widget. */

static gboolean
is_prime (guint n)
{
  guint d;

  if (n < 2)
    return FALSE;
  if (n % 2 == 0)
    return n == 2;
  for (d = 3; d <= n / d; d += 2)
    if (n % d == 0)
      return FALSE;
  return TRUE;
}

static void
count_primes_in_block (AgChunk  *chunk,
                       gpointer  item,
                       gpointer  user_data)
{
  guint block = GPOINTER_TO_UINT (item);
  guint first = block * DEMO_BLOCK_SIZE;
  guint count = 0;
  GError *error = NULL;
  guint n;

  if (g_cancellable_set_error_if_cancelled (ag_chunk_get_cancellable (chunk), &error))
    {
      ag_chunk_return_error (chunk, error);
      return;
    }

  for (n = first; n < first + DEMO_BLOCK_SIZE; n++)
    if (is_prime (n))
      count++;

  ag_chunk_return_uint (chunk, count);
}

static void
hash_chain (AgTask       *task,
            gpointer      user_data,
            GCancellable *cancellable)
{
  guint seed = GPOINTER_TO_UINT (user_data);
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  guint round;

  memset (digest, 0, sizeof digest);
  digest[0] = (guint8) seed;

  for (round = 0; round < DEMO_CHAIN_ROUNDS; round++)
    {
      if (round % 4096 == 0)
        {
          if (g_cancellable_is_cancelled (cancellable))
            {
              ag_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                        _("Hash chain %u was cancelled"), seed);
              return;
            }
          ag_task_set_progress (task, (double) round / DEMO_CHAIN_ROUNDS);
        }

      g_checksum_reset (checksum);
      g_checksum_update (checksum, digest, digest_len);
      digest_len = sizeof digest;
      g_checksum_get_digest (checksum, digest, &digest_len);
    }

  ag_task_set_progress (task, 1.0);
  ag_task_return_string (task, g_checksum_get_string (checksum));
}

/* Engine-thread side. */

static void demo_finish_run (Demo *demo);

static void
demo_task_ended (Demo *demo)
{
  g_assert (demo->n_pending > 0);

  if (--demo->n_pending == 0)
    demo_finish_run (demo);
}

static void
on_multi_task_done (AgMultiTask *multi,
                    guint        position,
                    Demo        *demo)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  guint first = position * DEMO_BLOCK_SIZE;
  guint last = first + DEMO_BLOCK_SIZE - 1;

  if (multi != demo->multi)
    return;

  if (ag_multi_task_get_child_value (multi, position, &value, &error))
    {
      guint count = g_value_get_uint (&value);

      demo->n_primes += count;
      /* TRANSLATORS: a range of numbers and how many primes it holds */
      text = g_strdup_printf (ngettext ("%u – %u: %u prime",
                                        "%u – %u: %u primes", count),
                              first, last, count);
    }
  else
    {
      /* TRANSLATORS: a range of numbers, then an error message */
      text = g_strdup_printf (_("%u – %u: failed: %s"), first, last, error->message);
    }

  demo->n_results++;
  gtk_string_list_append (demo->results, text);
}

static gboolean
progress_to_fraction (GBinding     *binding,
                      const GValue *from_value,
                      GValue       *to_value,
                      gpointer      user_data)
{
  /* -1 means "unknown"; a GtkProgressBar only takes 0..1. */
  g_value_set_double (to_value, CLAMP (g_value_get_double (from_value), 0.0, 1.0));
  return TRUE;
}

static void
demo_update_frame_label (Demo *demo)
{
  g_autofree char *text = NULL;

  /* TRANSLATORS: frames drawn so far, and the longest time between two */
  text = g_strdup_printf (_("%u frames, worst gap between frames: %.1f ms"),
                          demo->n_frames, demo->worst_gap_us / 1000.0);
  gtk_label_set_text (GTK_LABEL (demo->frame_label), text);
}

static void
on_multi_progress (AgMultiTask *multi,
                   GParamSpec  *pspec,
                   Demo        *demo)
{
  g_autofree char *text = NULL;

  if (multi != demo->multi)
    return;

  /* TRANSLATORS: progress of the prime count, "1200 of 4000 blocks" */
  text = g_strdup_printf (_("%u of %u blocks"),
                          ag_multi_task_get_n_finished (multi), DEMO_N_BLOCKS);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (demo->progress_bar), text);
  demo_update_frame_label (demo);
}

static void
on_multi_finished (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Demo *demo = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value;

  value = ag_engine_run_finish (AG_ENGINE (source), result, &error);
  demo->multi_state = ag_task_get_state (AG_TASK (result));
  if (value != NULL)
    {
      /* The multi-task's own value: every block's count, in list order. */
      GArray *counts = g_value_get_boxed (value);
      guint i;

      demo->n_values = counts->len;
      demo->n_primes_in_value = 0;
      for (i = 0; i < counts->len; i++)
        demo->n_primes_in_value += g_value_get_uint (&g_array_index (counts, GValue, i));
      g_boxed_free (G_TYPE_VALUE, value);
    }
  if (error != NULL)
    demo->multi_error = g_strdup (error->message);

  demo_task_ended (demo);
}

static void
on_chain_finished (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Demo *demo = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  GValue *value;
  guint i;

  value = ag_engine_run_finish (AG_ENGINE (source), result, &error);

  for (i = 0; i < DEMO_N_CHAINS; i++)
    if (demo->chains[i].task == AG_TASK (result))
      break;
  g_assert (i < DEMO_N_CHAINS);

  if (value != NULL)
    {
      demo->n_chains_done++;
      /* TRANSLATORS: the first characters of a SHA-256 digest */
      text = g_strdup_printf (_("Hash chain %u: %.16s…"), i + 1, g_value_get_string (value));
      g_boxed_free (G_TYPE_VALUE, value);
    }
  else
    {
      text = g_strdup_printf (_("Hash chain %u: %s"), i + 1,
                              error != NULL ? error->message : _("no result"));
    }
  gtk_label_set_text (GTK_LABEL (demo->chains[i].label), text);

  demo_task_ended (demo);
}

static gboolean
on_cancel_timeout (gpointer user_data)
{
  Demo *demo = user_data;

  demo->cancel_source = 0;
  g_cancellable_cancel (demo->cancellable);
  return G_SOURCE_REMOVE;
}

static void
demo_start_run (Demo *demo)
{
  g_autoptr(GPtrArray) inputs = NULL;
  guint i;

  if (demo->running)
    return;

  demo->running = TRUE;
  demo->n_results = 0;
  demo->n_primes = 0;
  demo->n_chains_done = 0;
  demo->n_values = 0;
  demo->n_primes_in_value = 0;
  demo->multi_state = AG_TASK_PENDING;
  g_clear_pointer (&demo->multi_error, g_free);
  demo->worst_gap_us = 0;
  demo->n_frames = 0;
  demo->last_frame_us = 0;
  gtk_string_list_splice (demo->results, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (demo->results)), NULL);

  g_clear_object (&demo->cancellable);
  demo->cancellable = g_cancellable_new ();

  inputs = g_ptr_array_sized_new (DEMO_N_BLOCKS);
  for (i = 0; i < DEMO_N_BLOCKS; i++)
    g_ptr_array_add (inputs, GUINT_TO_POINTER (i));

  g_clear_object (&demo->multi);
  demo->multi = ag_multi_task_new_map (inputs, count_primes_in_block, NULL, NULL);
  ag_multi_task_set_unordered (demo->multi, TRUE);
  g_signal_connect (demo->multi, "task-done", G_CALLBACK (on_multi_task_done), demo);
  g_signal_connect (demo->multi, "notify::progress", G_CALLBACK (on_multi_progress), demo);
  g_object_bind_property_full (demo->multi, "progress", demo->progress_bar, "fraction",
                               G_BINDING_SYNC_CREATE, progress_to_fraction, NULL, NULL, NULL);
  on_multi_progress (demo->multi, NULL, demo);

  gtk_label_set_text (GTK_LABEL (demo->status_label),
                      _("Counting primes and hashing…"));
  gtk_widget_set_sensitive (demo->start_button, FALSE);
  gtk_widget_set_sensitive (demo->cancel_button, TRUE);
  gtk_spinner_start (GTK_SPINNER (demo->spinner));

  demo->start_us = g_get_monotonic_time ();
  demo->n_pending = 1 + DEMO_N_CHAINS;
  g_debug ("Run started: %u blocks, %u hash chains", DEMO_N_BLOCKS, DEMO_N_CHAINS);

  ag_engine_run_async (demo->engine, AG_TASK (demo->multi), demo->cancellable,
                       on_multi_finished, demo);

  for (i = 0; i < DEMO_N_CHAINS; i++)
    {
      DemoChain *chain = &demo->chains[i];
      g_autofree char *text = g_strdup_printf (_("Hash chain %u: running…"), i + 1);

      gtk_label_set_text (GTK_LABEL (chain->label), text);
      g_clear_object (&chain->task);
      chain->task = ag_task_new (hash_chain, GUINT_TO_POINTER (i + 1), NULL);
      g_object_bind_property_full (chain->task, "progress", chain->progress, "fraction",
                                   G_BINDING_SYNC_CREATE, progress_to_fraction,
                                   NULL, NULL, NULL);
      ag_engine_run_async (demo->engine, chain->task, demo->cancellable,
                           on_chain_finished, demo);
    }

  if (opt_cancel_after >= 0)
    demo->cancel_source = g_timeout_add (opt_cancel_after, on_cancel_timeout, demo);
}

static const char *
state_to_string (AgTaskState state)
{
  switch (state)
    {
    case AG_TASK_PENDING:
      return _("pending");
    case AG_TASK_RUNNING:
      return _("running");
    case AG_TASK_SUCCEEDED:
      return _("succeeded");
    case AG_TASK_FAILED:
      return _("failed");
    case AG_TASK_CANCELLED:
      return _("cancelled");
    default:
      return "?";
    }
}

static gboolean
save_screenshot (GtkWidget   *widget,
                 const char  *path,
                 GError     **error)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GtkSnapshot *snapshot;
  GskRenderer *renderer;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  if (renderer == NULL || width <= 0 || height <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                   _("The window has not been drawn yet"));
      return FALSE;
    }

  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("The window drew nothing"));
      return FALSE;
    }

  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Could not write “%s”"), path);
      return FALSE;
    }

  return TRUE;
}

static void
demo_print_summary (Demo *demo)
{
  g_print (_("asyncgui-demo: %u of %u blocks done, %u primes found, "
             "%u of %u hash chains done\n"),
           demo->n_results, DEMO_N_BLOCKS, demo->n_primes,
           demo->n_chains_done, DEMO_N_CHAINS);
  g_print (_("asyncgui-demo: prime count %s%s%s\n"),
           state_to_string (demo->multi_state),
           demo->multi_error != NULL ? ": " : "",
           demo->multi_error != NULL ? demo->multi_error : "");
  g_print (_("asyncgui-demo: elapsed %u ms, %u frames, worst frame gap %.1f ms\n"),
           (guint) (demo->elapsed_us / 1000), demo->n_frames, demo->worst_gap_us / 1000.0);
}

static gboolean
close_window (gpointer user_data)
{
  Demo *demo = user_data;

  gtk_window_destroy (GTK_WINDOW (demo->window));
  return G_SOURCE_REMOVE;
}

static void
on_after_paint (GdkFrameClock *frame_clock,
                Demo          *demo)
{
  if (opt_screenshot != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (save_screenshot (demo->window, opt_screenshot, &error))
        {
          g_print (_("asyncgui-demo: screenshot saved to %s\n"), opt_screenshot);
        }
      else if (++demo->screenshot_tries < 10)
        {
          /* A widget that still waits for its size draws nothing: try
           * again after the next frame.
           */
          gtk_widget_queue_draw (demo->window);
          return;
        }
      else
        {
          g_printerr (_("asyncgui-demo: no screenshot: %s\n"), error->message);
          exit_status = EXIT_FAILURE;
        }
    }

  g_signal_handlers_disconnect_by_func (frame_clock, on_after_paint, demo);
  /* Not from inside the window's own paint cycle. */
  g_idle_add (close_window, demo);
}

static gboolean
frame_tick (GtkWidget     *widget,
            GdkFrameClock *frame_clock,
            gpointer       user_data)
{
  Demo *demo = user_data;
  gint64 now = gdk_frame_clock_get_frame_time (frame_clock);

  if (demo->running)
    {
      if (demo->last_frame_us != 0)
        demo->worst_gap_us = MAX (demo->worst_gap_us, now - demo->last_frame_us);
      demo->n_frames++;
    }
  demo->last_frame_us = now;

  /* In --auto mode the run starts once a few frames are on screen, so the
   * window's first drawing (fonts, shaders) is not counted as a frame gap.
   */
  if (opt_auto && demo->multi == NULL && ++demo->frames_before_start >= 3)
    demo_start_run (demo);

  /* In --auto mode the run has ended: take the screenshot after the next
   * paint, when the final labels are laid out and drawn, then quit.
   */
  if (opt_auto && !demo->running && demo->multi != NULL)
    {
      g_signal_connect (frame_clock, "after-paint", G_CALLBACK (on_after_paint), demo);
      gtk_widget_queue_draw (demo->window);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

static void
demo_finish_run (Demo *demo)
{
  g_autofree char *text = NULL;

  demo->elapsed_us = g_get_monotonic_time () - demo->start_us;
  demo->running = FALSE;
  g_clear_handle_id (&demo->cancel_source, g_source_remove);

  gtk_spinner_stop (GTK_SPINNER (demo->spinner));
  gtk_widget_set_sensitive (demo->start_button, TRUE);
  gtk_widget_set_sensitive (demo->cancel_button, FALSE);

  if (demo->multi_state == AG_TASK_SUCCEEDED)
    /* TRANSLATORS: the outcome of a run: primes found, blocks, milliseconds */
    text = g_strdup_printf (_("Found %u primes in %u blocks in %u ms."),
                            demo->n_primes, demo->n_results, (guint) (demo->elapsed_us / 1000));
  else
    /* TRANSLATORS: the outcome of a run: how it ended, blocks done, milliseconds */
    text = g_strdup_printf (_("Prime count %s after %u of %u blocks (%u ms)."),
                            state_to_string (demo->multi_state), demo->n_results,
                            DEMO_N_BLOCKS, (guint) (demo->elapsed_us / 1000));
  gtk_label_set_text (GTK_LABEL (demo->status_label), text);
  demo_update_frame_label (demo);
  g_debug ("Run ended: %s", text);

  if (opt_auto)
    {
      gboolean ok;

      demo_print_summary (demo);
      if (demo->multi_state == AG_TASK_SUCCEEDED)
        /* Each block announced exactly once, and the same counts in the
         * multi-task's value as in its task-done signals.
         */
        ok = demo->n_results == DEMO_N_BLOCKS && demo->n_values == DEMO_N_BLOCKS &&
             demo->n_primes_in_value == demo->n_primes &&
             (opt_cancel_after >= 0 || demo->n_chains_done == DEMO_N_CHAINS);
      else
        ok = opt_cancel_after >= 0 && demo->multi_state == AG_TASK_CANCELLED;
      if (!ok)
        {
          g_printerr (_("asyncgui-demo: unexpected outcome: %u blocks announced, "
                        "%u values holding %u primes\n"),
                      demo->n_results, demo->n_values, demo->n_primes_in_value);
          exit_status = EXIT_FAILURE;
        }
      /* frame_tick() takes the screenshot and closes the window. */
    }
}

static void
on_start_clicked (GtkButton *button,
                  Demo      *demo)
{
  demo_start_run (demo);
}

static void
on_cancel_clicked (GtkButton *button,
                   Demo      *demo)
{
  if (demo->cancellable != NULL)
    g_cancellable_cancel (demo->cancellable);
}

static void
setup_result_row (GtkSignalListItemFactory *factory,
                  GtkListItem              *item,
                  gpointer                  user_data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_widget_add_css_class (label, "monospace");
  gtk_list_item_set_child (item, label);
}

static void
bind_result_row (GtkSignalListItemFactory *factory,
                 GtkListItem              *item,
                 gpointer                  user_data)
{
  GtkStringObject *string = gtk_list_item_get_item (item);

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)),
                      gtk_string_object_get_string (string));
}

static GtkWidget *
demo_build_window (Demo *demo)
{
  GtkWidget *window, *header, *box, *chains_box, *scrolled, *list, *heading;
  GtkListItemFactory *factory;
  GtkSelectionModel *selection;
  g_autofree char *intro = NULL;
  guint i;

  window = gtk_application_window_new (demo->app);
  gtk_window_set_title (GTK_WINDOW (window), _("asyncgui demo"));
  gtk_window_set_default_size (GTK_WINDOW (window), 560, 640);

  header = gtk_header_bar_new ();
  gtk_window_set_titlebar (GTK_WINDOW (window), header);

  demo->start_button = gtk_button_new_with_mnemonic (_("_Start"));
  gtk_widget_add_css_class (demo->start_button, "suggested-action");
  g_signal_connect (demo->start_button, "clicked", G_CALLBACK (on_start_clicked), demo);
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), demo->start_button);

  demo->cancel_button = gtk_button_new_with_mnemonic (_("_Cancel"));
  gtk_widget_set_sensitive (demo->cancel_button, FALSE);
  g_signal_connect (demo->cancel_button, "clicked", G_CALLBACK (on_cancel_clicked), demo);
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), demo->cancel_button);

  demo->spinner = gtk_spinner_new ();
  gtk_header_bar_pack_end (GTK_HEADER_BAR (header), demo->spinner);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_window_set_child (GTK_WINDOW (window), box);

  /* TRANSLATORS: %u is a large number, such as 10000000 */
  intro = g_strdup_printf (_("Press Start to count the primes below %u in worker "
                             "threads while three hash chains run beside them."),
                           DEMO_N_BLOCKS * DEMO_BLOCK_SIZE);
  demo->status_label = gtk_label_new (intro);
  gtk_label_set_wrap (GTK_LABEL (demo->status_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (demo->status_label), 0.0);
  gtk_box_append (GTK_BOX (box), demo->status_label);

  demo->progress_bar = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (demo->progress_bar), TRUE);
  gtk_box_append (GTK_BOX (box), demo->progress_bar);

  chains_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_box_append (GTK_BOX (box), chains_box);
  for (i = 0; i < DEMO_N_CHAINS; i++)
    {
      DemoChain *chain = &demo->chains[i];
      g_autofree char *text = g_strdup_printf (_("Hash chain %u: not started"), i + 1);

      chain->label = gtk_label_new (text);
      gtk_label_set_xalign (GTK_LABEL (chain->label), 0.0);
      gtk_label_set_ellipsize (GTK_LABEL (chain->label), PANGO_ELLIPSIZE_END);
      gtk_box_append (GTK_BOX (chains_box), chain->label);
      chain->progress = gtk_progress_bar_new ();
      gtk_box_append (GTK_BOX (chains_box), chain->progress);
    }

  heading = gtk_label_new (_("Results, in the order they finished"));
  gtk_label_set_xalign (GTK_LABEL (heading), 0.0);
  gtk_widget_add_css_class (heading, "heading");
  gtk_box_append (GTK_BOX (box), heading);

  demo->results = gtk_string_list_new (NULL);
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_result_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_result_row), NULL);
  selection = GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (G_LIST_MODEL (demo->results))));
  list = gtk_list_view_new (selection, factory);

  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_widget_add_css_class (scrolled, "frame");
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), list);
  gtk_box_append (GTK_BOX (box), scrolled);

  demo->frame_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (demo->frame_label), 0.0);
  gtk_widget_add_css_class (demo->frame_label, "dim-label");
  gtk_box_append (GTK_BOX (box), demo->frame_label);
  demo_update_frame_label (demo);

  gtk_widget_add_tick_callback (window, frame_tick, demo, NULL);

  return window;
}

static void
on_activate (GtkApplication *app,
             Demo           *demo)
{
  if (demo->window != NULL)
    {
      gtk_window_present (GTK_WINDOW (demo->window));
      return;
    }

  demo->window = demo_build_window (demo);
  gtk_window_present (GTK_WINDOW (demo->window));
}

static void
demo_clear (Demo *demo)
{
  guint i;

  if (demo->cancellable != NULL)
    g_cancellable_cancel (demo->cancellable);
  g_clear_handle_id (&demo->cancel_source, g_source_remove);
  for (i = 0; i < DEMO_N_CHAINS; i++)
    g_clear_object (&demo->chains[i].task);
  if (demo->multi != NULL)
    g_signal_handlers_disconnect_by_data (demo->multi, demo);
  g_clear_object (&demo->multi);
  g_clear_object (&demo->cancellable);
  g_clear_object (&demo->results);
  g_clear_pointer (&demo->multi_error, g_free);
}

int
main (int   argc,
      char *argv[])
{
  const GOptionEntry entries[] = {
    { "auto", 0, 0, G_OPTION_ARG_NONE, &opt_auto,
      N_("Start at once, print a summary and quit when done"), NULL },
    { "cancel-after", 0, 0, G_OPTION_ARG_INT, &opt_cancel_after,
      N_("Cancel the run after MS milliseconds (implies --auto)"), N_("MS") },
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, &opt_screenshot,
      N_("Save a PNG picture of the window before quitting (implies --auto)"), N_("FILE") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GtkApplication) app = NULL;
  Demo demo = { 0 };
  char *app_argv[] = { argv[0], NULL };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                _("Count primes and hash in worker threads while the "
                                  "window stays responsive."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }
  if (opt_cancel_after >= 0 || opt_screenshot != NULL)
    opt_auto = TRUE;

  if (!gtk_init_check ())
    {
      g_printerr (_("asyncgui-demo: cannot open a display; run it under xvfb-run\n"));
      return opt_auto ? DEMO_EXIT_SKIP : EXIT_FAILURE;
    }

  demo.engine = g_object_ref (ag_engine_get_default ());
  /* Headless runs may overlap (tests, CI), so no single-instance D-Bus name. */
  app = gtk_application_new ("org.gnome.AsyncGui.Demo", G_APPLICATION_NON_UNIQUE);
  demo.app = app;
  g_signal_connect (app, "activate", G_CALLBACK (on_activate), &demo);

  if (g_application_run (G_APPLICATION (app), 1, app_argv) != 0)
    exit_status = EXIT_FAILURE;

  demo_clear (&demo);
  g_clear_object (&demo.engine);
  g_free (opt_screenshot);

  return exit_status;
}
