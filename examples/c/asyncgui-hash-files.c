/* asyncgui-hash-files.c: hash every file under a directory, in C
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The same app as the Python, GJS and Vala examples, written with a C job:
 * a GTK 4 window computes the SHA-256 of every file under a directory (by
 * default a temporary one it fills with a few thousand generated files)
 * while the window stays smooth. Start runs one sequential function on a
 * fiber (ag_engine_spawn()):
 *
 *   generate files (worker) → list them (worker) → hash them (a MultiTask
 *   made by position, on worker threads) → show the summary
 *
 * Each step is an ag_job_await*() call, so the function reads top to bottom
 * while the main loop keeps drawing; Pause, Resume and Cancel act on
 * whatever the run is waiting for. The list fills as results arrive
 * (AgMultiTask::task-done, unordered), the progress bar follows the
 * MultiTask's progress, and a spinner keeps spinning, which is the visible
 * proof that the GUI thread never blocks.
 *
 * Usage: asyncgui-hash-files [DIR] [--auto] [--files N]
 *                            [--cancel-after-results N]
 *
 * Headless use: `--auto` starts at once, prints a summary (files hashed,
 * elapsed time, the worst gap between two frames) and quits. Without a
 * display it exits 77, which Meson counts as a skip; run it under
 * build-aux/with-display.sh.
 */

#define G_LOG_DOMAIN "asyncgui-hash-files"

#include "examples-config.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include <asyncgui.h>

#define EXIT_SKIP 77

static gboolean   opt_auto;
static int        opt_files = 3000;
static int        opt_cancel_after_results = -1;
static char     **opt_dirs;
static int        exit_status = EXIT_SUCCESS;

/* Worker threads writing sample files right now (atomic). The app waits
 * for it to drop to 0 before it removes the files at exit. */
static int n_generating;

typedef struct
{
  GtkApplication *app;
  GtkWidget      *window;        /* NULL once it is gone */
  GtkWidget      *start_button;
  GtkWidget      *pause_button;
  GtkWidget      *cancel_button;
  GtkWidget      *spinner;
  GtkWidget      *status_label;
  GtkWidget      *progress_bar;
  GtkStringList  *results;

  AgEngine       *engine;
  AgJob          *job;           /* the run in progress, if any */
  char           *sample_dir;    /* generated once, reused by later runs */
  GPtrArray      *made_dirs;     /* to remove at exit */

  gint64          started_us;
  gint64          last_frame_us;
  gint64          worst_gap_us;
  guint           n_frames;
  guint           frames_before_start;
  gboolean        auto_started;
} App;

/* Worker-thread side: nothing below touches App or any widget. */

typedef struct
{
  char  *root;
  guint  n_files;
} Sample;

static void
sample_free (gpointer data)
{
  Sample *sample = data;

  g_free (sample->root);
  g_free (sample);
}

/* Fills the directory with files of 1 to 32 KiB in 16 subdirectories.
 * Every file starts with its number, so no two hash alike. */
static void
fill_sample_dir (AgTask       *task,
                 gpointer      user_data,
                 GCancellable *cancellable)
{
  Sample *sample = user_data;
  g_autoptr(GRand) random = g_rand_new_with_seed (42);
  g_autofree guint8 *data = g_malloc (32 * 1024);
  GError *error = NULL;

  g_atomic_int_inc (&n_generating);

  for (guint j = 0; j < 32 * 1024; j++)
    data[j] = (guint8) g_rand_int (random);
  for (guint i = 0; i < 16; i++)
    {
      g_autofree char *name = g_strdup_printf ("%02u", i);
      g_autofree char *sub = g_build_filename (sample->root, name, NULL);

      g_mkdir (sub, 0700);
    }

  for (guint i = 0; i < sample->n_files && error == NULL; i++)
    {
      g_autofree char *dir = g_strdup_printf ("%02u", i % 16);
      g_autofree char *name = g_strdup_printf ("file-%05u.bin", i);
      g_autofree char *path = g_build_filename (sample->root, dir, name, NULL);
      gsize size = g_rand_int_range (random, 1024, 32 * 1024 + 1);

      /* Checked before every file, so nothing is written after a cancel:
       * then the app may remove the directory. */
      if (g_cancellable_set_error_if_cancelled (cancellable, &error))
        break;
      memcpy (data, &i, sizeof i);
      g_file_set_contents (path, (const char *) data, size, &error);
    }

  g_atomic_int_add (&n_generating, -1);

  if (error != NULL)
    ag_task_return_error (task, error);
  else
    ag_task_return_boolean (task, TRUE);
}

static gboolean
collect_files (GFile         *dir,
               GPtrArray     *found,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(GFileEnumerator) children = NULL;

  children = g_file_enumerate_children (dir, G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                        G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                        cancellable, error);
  if (children == NULL)
    return FALSE;

  for (;;)
    {
      GFileInfo *info;
      GFile *child;

      if (!g_file_enumerator_iterate (children, &info, &child, cancellable, error))
        return FALSE;
      if (info == NULL)
        return TRUE;

      switch (g_file_info_get_file_type (info))
        {
        case G_FILE_TYPE_DIRECTORY:
          if (!collect_files (child, found, cancellable, error))
            return FALSE;
          break;
        case G_FILE_TYPE_REGULAR:
          g_ptr_array_add (found, g_file_get_path (child));
          break;
        default:
          break;
        }
    }
}

static int
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* Lists every regular file under the directory; its value is a GStrv. */
static void
list_files (AgTask       *task,
            gpointer      user_data,
            GCancellable *cancellable)
{
  g_autoptr(GFile) root = g_file_new_for_commandline_arg (user_data);
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  g_auto(GValue) value = G_VALUE_INIT;
  GError *error = NULL;

  if (!collect_files (root, found, cancellable, &error))
    {
      ag_task_return_error (task, error);
      return;
    }

  g_ptr_array_sort (found, compare_paths);
  g_ptr_array_add (found, NULL);
  g_value_init (&value, G_TYPE_STRV);
  g_value_take_boxed (&value, g_ptr_array_steal (found, NULL));
  ag_task_return_value (task, &value);
}

/* One child of the hashing MultiTask: reads the file in blocks, checking
 * for a cancel between blocks, so a cancelled run stops reading at once. */
static void
hash_one_file (AgChunk  *chunk,
               guint     position,
               gpointer  user_data)
{
  const char * const *paths = user_data;
  GCancellable *cancellable = ag_chunk_get_cancellable (chunk);
  g_autoptr(GFile) file = g_file_new_for_path (paths[position]);
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 buffer[16 * 1024];
  GError *error = NULL;
  gssize n;

  stream = g_file_read (file, cancellable, &error);
  if (stream == NULL)
    {
      ag_chunk_return_error (chunk, error);
      return;
    }

  while ((n = g_input_stream_read (G_INPUT_STREAM (stream), buffer, sizeof buffer,
                                   cancellable, &error)) > 0)
    g_checksum_update (checksum, buffer, n);
  if (n < 0)
    {
      ag_chunk_return_error (chunk, error);
      return;
    }

  ag_chunk_return_string (chunk, g_checksum_get_string (checksum));
}

/* GUI-thread side */

/* A GValue from an await, as ag_job_await() gives it. */
static void
value_free (GValue *value)
{
  g_boxed_free (G_TYPE_VALUE, value);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GValue, value_free)

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
set_status (App        *app,
            const char *text)
{
  if (app->window != NULL)
    gtk_label_set_text (GTK_LABEL (app->status_label), text);
}

static void
set_running (App      *app,
             gboolean  running)
{
  if (app->window == NULL)
    return;

  gtk_widget_set_sensitive (app->start_button, !running);
  gtk_widget_set_sensitive (app->pause_button, running);
  gtk_widget_set_sensitive (app->cancel_button, running);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (app->pause_button), FALSE);
  if (running)
    gtk_spinner_start (GTK_SPINNER (app->spinner));
  else
    gtk_spinner_stop (GTK_SPINNER (app->spinner));
}

typedef struct
{
  App        *app;
  const char *root;
  const char * const *paths;
} Hashing;

static void
on_file_hashed (AgMultiTask *multi,
                guint        position,
                gpointer     user_data)
{
  Hashing *hashing = user_data;
  App *app = hashing->app;
  const char *name = hashing->paths[position] + strlen (hashing->root) + 1;
  g_auto(GValue) hash = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  g_autofree char *row = NULL;

  if (ag_multi_task_get_child_value (multi, position, &hash, &error))
    row = g_strdup_printf ("%.16s…  %s", g_value_get_string (&hash), name);
  else
    row = g_strdup_printf (_("failed: %s: %s"), name, error->message);
  gtk_string_list_append (app->results, row);

  if ((int) g_list_model_get_n_items (G_LIST_MODEL (app->results)) == opt_cancel_after_results)
    ag_task_cancel (AG_TASK (app->job));
}

static void finish_run (App *app, guint n_hashed, const GError *error);

/* The Start button's handler, as one sequential function on a fiber. */
static void
hash_files_job (AgJob    *job,
                gpointer  user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GValue) listed = NULL;
  g_autoptr(GValue) values = NULL;
  g_autoptr(AgMultiTask) hashes = NULL;
  g_autofree char *text = NULL;
  Hashing hashing = { app, NULL, NULL };
  const char *root;
  char **paths;

  if (opt_dirs != NULL && opt_dirs[0] != NULL)
    root = opt_dirs[0];
  else if (app->sample_dir != NULL)
    root = app->sample_dir;
  else
    {
      Sample *sample = g_new0 (Sample, 1);

      text = g_strdup_printf (ngettext ("Generating %d file…",
                                           "Generating %d files…", opt_files), opt_files);
      set_status (app, text);
      /* Made here, not on the worker, so the app knows every directory to
       * remove even if the run is cancelled. */
      sample->root = g_dir_make_tmp ("asyncgui-hash-XXXXXX", &error);
      if (sample->root == NULL)
        {
          sample_free (sample);
          finish_run (app, 0, error);
          return;
        }
      sample->n_files = opt_files;
      g_ptr_array_add (app->made_dirs, g_strdup (sample->root));
      root = g_ptr_array_index (app->made_dirs, app->made_dirs->len - 1);

      if (!ag_job_await_boolean (ag_task_new (fill_sample_dir, sample, sample_free), &error))
        {
          finish_run (app, 0, error);
          return;
        }
      app->sample_dir = g_strdup (root);
    }

  set_status (app, _("Listing files…"));
  listed = ag_job_await (ag_task_new (list_files, g_strdup (root), g_free), &error);
  if (listed == NULL)
    {
      finish_run (app, 0, error);
      return;
    }
  paths = g_value_get_boxed (listed);

  /* One child per file, made by position: nothing per file up front, and
   * the hashing runs on worker threads, several at once. The paths are
   * shared read-only with the workers, so they get a copy of their own. */
  hashes = ag_multi_task_new_map_range (g_strv_length (paths), hash_one_file,
                                        g_strdupv (paths), (GDestroyNotify) g_strfreev);
  /* Announce each file as it is done, not in list order. */
  ag_multi_task_set_unordered (hashes, TRUE);
  /* A file that cannot be read is listed as failed; the rest go on. */
  ag_multi_task_set_skip_errors (hashes, TRUE);
  hashing.root = root;
  hashing.paths = (const char * const *) paths;
  g_signal_connect (hashes, "task-done", G_CALLBACK (on_file_hashed), &hashing);
  if (app->window != NULL)
    g_object_bind_property (hashes, "progress", app->progress_bar, "fraction",
                            G_BINDING_SYNC_CREATE);

  g_clear_pointer (&text, g_free);
  text = g_strdup_printf (ngettext ("Hashing %u file…", "Hashing %u files…",
                                       g_strv_length (paths)), g_strv_length (paths));
  set_status (app, text);

  values = ag_job_await (g_object_ref (AG_TASK (hashes)), &error);
  /* Nothing may be listed once the run is over. */
  g_signal_handlers_disconnect_by_data (hashes, &hashing);

  finish_run (app, values != NULL ? ((GArray *) g_value_get_boxed (values))->len : 0, error);
  if (values != NULL)
    ag_task_return_int (AG_TASK (job), ((GArray *) g_value_get_boxed (values))->len);
  else
    ag_task_return_error (AG_TASK (job), g_steal_pointer (&error));
}

static gboolean
check_nothing_late (gpointer user_data)
{
  App *app = user_data;
  guint listed = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (app->results), "listed"));

  if (g_list_model_get_n_items (G_LIST_MODEL (app->results)) != listed)
    {
      g_printerr ("asyncgui-hash-files: %u results arrived after the cancel\n",
                  g_list_model_get_n_items (G_LIST_MODEL (app->results)) - listed);
      exit_status = EXIT_FAILURE;
    }
  if (app->window != NULL)
    gtk_window_close (GTK_WINDOW (app->window));

  return G_SOURCE_REMOVE;
}

static void
finish_run (App          *app,
            guint         n_hashed,
            const GError *error)
{
  gint64 elapsed_ms = (g_get_monotonic_time () - app->started_us) / 1000;
  guint n_listed = g_list_model_get_n_items (G_LIST_MODEL (app->results));
  gboolean cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_autofree char *text = NULL;

  if (error == NULL)
    text = g_strdup_printf (ngettext ("Hashed %u file in %u ms.",
                                         "Hashed %u files in %u ms.", n_hashed),
                            n_hashed, (guint) elapsed_ms);
  else if (cancelled)
    text = g_strdup_printf (ngettext ("Cancelled after %u result (%u ms).",
                                         "Cancelled after %u results (%u ms).",
                                         n_listed),
                            n_listed, (guint) elapsed_ms);
  else
    text = g_strdup_printf (_("Failed: %s"), error->message);

  set_running (app, FALSE);
  set_status (app, text);
  if (error == NULL && app->window != NULL)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (app->progress_bar), 1.0);

  if (!opt_auto || app->window == NULL)
    return;

  g_print ("asyncgui-hash-files: %s %u results listed, %u frames, worst frame gap %.1f ms\n",
           text, n_listed, app->n_frames, app->worst_gap_us / 1000.0);

  if (opt_cancel_after_results < 0)
    {
      /* Every file hashed and listed exactly once. */
      if (error != NULL || n_listed != n_hashed || n_hashed == 0)
        {
          g_printerr ("asyncgui-hash-files: unexpected outcome: %u hashed, %u listed\n",
                      n_hashed, n_listed);
          exit_status = EXIT_FAILURE;
        }
      gtk_window_close (GTK_WINDOW (app->window));
    }
  else if (!cancelled)
    {
      g_printerr ("asyncgui-hash-files: the run was not cancelled\n");
      exit_status = EXIT_FAILURE;
      gtk_window_close (GTK_WINDOW (app->window));
    }
  else
    {
      /* A cancelled run shows nothing late: workers still busy when it was
       * cancelled must not add to the list. */
      g_object_set_data (G_OBJECT (app->results), "listed", GUINT_TO_POINTER (n_listed));
      g_timeout_add (300, check_nothing_late, app);
    }
}

static void
start_run (App *app)
{
  if (app->job != NULL && !ag_task_is_finished (AG_TASK (app->job)))
    return;

  gtk_string_list_splice (app->results, 0, g_list_model_get_n_items (G_LIST_MODEL (app->results)),
                          NULL);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (app->progress_bar), 0.0);
  app->started_us = g_get_monotonic_time ();
  app->worst_gap_us = 0;
  app->n_frames = 0;
  app->last_frame_us = 0;
  set_running (app, TRUE);

  g_clear_object (&app->job);
  /* Runs at once until the first await, then the main loop goes on. */
  app->job = ag_engine_spawn (app->engine, hash_files_job, app, NULL);
}

static gboolean
frame_tick (GtkWidget     *widget,
            GdkFrameClock *frame_clock,
            gpointer       user_data)
{
  App *app = user_data;
  gint64 now = gdk_frame_clock_get_frame_time (frame_clock);
  gboolean running = app->job != NULL && !ag_task_is_finished (AG_TASK (app->job));

  if (running)
    {
      if (app->last_frame_us != 0)
        app->worst_gap_us = MAX (app->worst_gap_us, now - app->last_frame_us);
      app->n_frames++;
    }
  app->last_frame_us = now;

  /* In --auto mode the run starts once a few frames are on screen, so the
   * window's first drawing (fonts, shaders) is not counted as a gap. */
  if (opt_auto && !app->auto_started && ++app->frames_before_start >= 3)
    {
      app->auto_started = TRUE;
      start_run (app);
    }

  return G_SOURCE_CONTINUE;
}

static void
on_start_clicked (GtkButton *button,
                  App       *app)
{
  start_run (app);
}

static void
on_pause_toggled (GtkToggleButton *button,
                  App             *app)
{
  if (app->job == NULL || ag_task_is_finished (AG_TASK (app->job)))
    return;

  if (gtk_toggle_button_get_active (button) && !ag_job_get_paused (app->job))
    ag_job_pause (app->job);
  else if (!gtk_toggle_button_get_active (button) && ag_job_get_paused (app->job))
    ag_job_resume (app->job);
}

static void
on_cancel_clicked (GtkButton *button,
                   App       *app)
{
  if (app->job != NULL)
    ag_task_cancel (AG_TASK (app->job));
}

static void
on_window_destroy (GtkWidget *window,
                   App       *app)
{
  app->window = NULL;
  if (app->job != NULL)
    ag_task_cancel (AG_TASK (app->job));
}

static void
setup_row (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  user_data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_add_css_class (label, "monospace");
  gtk_list_item_set_child (item, label);
}

static void
bind_row (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          gpointer                  user_data)
{
  GtkStringObject *string = gtk_list_item_get_item (item);

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)),
                      gtk_string_object_get_string (string));
}

static GtkWidget *
build_window (App *app)
{
  GtkWidget *window, *header, *box, *intro, *scrolled, *list;
  GtkListItemFactory *factory;
  GtkSelectionModel *selection;
  g_autofree char *intro_text = NULL;

  window = gtk_application_window_new (app->app);
  gtk_window_set_title (GTK_WINDOW (window), _("Hash files (C)"));
  gtk_window_set_default_size (GTK_WINDOW (window), 720, 520);
  g_signal_connect (window, "destroy", G_CALLBACK (on_window_destroy), app);

  header = gtk_header_bar_new ();
  gtk_window_set_titlebar (GTK_WINDOW (window), header);

  app->start_button = gtk_button_new_with_mnemonic (_("_Start"));
  gtk_widget_add_css_class (app->start_button, "suggested-action");
  g_signal_connect (app->start_button, "clicked", G_CALLBACK (on_start_clicked), app);
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), app->start_button);

  app->pause_button = gtk_toggle_button_new_with_mnemonic (_("_Pause"));
  gtk_widget_set_sensitive (app->pause_button, FALSE);
  g_signal_connect (app->pause_button, "toggled", G_CALLBACK (on_pause_toggled), app);
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), app->pause_button);

  app->cancel_button = gtk_button_new_with_mnemonic (_("_Cancel"));
  gtk_widget_set_sensitive (app->cancel_button, FALSE);
  g_signal_connect (app->cancel_button, "clicked", G_CALLBACK (on_cancel_clicked), app);
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), app->cancel_button);

  app->spinner = gtk_spinner_new ();
  gtk_header_bar_pack_end (GTK_HEADER_BAR (header), app->spinner);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_window_set_child (GTK_WINDOW (window), box);

  if (opt_dirs != NULL && opt_dirs[0] != NULL)
    intro_text = g_strdup_printf (_("Directory: %s"), opt_dirs[0]);
  else
    intro_text = g_strdup_printf (ngettext (
                                               "Directory: a temporary one with %d generated file",
                                               "Directory: a temporary one with %d generated files",
                                               opt_files), opt_files);
  intro = gtk_label_new (intro_text);
  gtk_label_set_xalign (GTK_LABEL (intro), 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (intro), PANGO_ELLIPSIZE_MIDDLE);
  gtk_box_append (GTK_BOX (box), intro);

  app->status_label = gtk_label_new (_("Press Start to hash every file."));
  gtk_label_set_xalign (GTK_LABEL (app->status_label), 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (app->status_label), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (box), app->status_label);

  app->progress_bar = gtk_progress_bar_new ();
  gtk_box_append (GTK_BOX (box), app->progress_bar);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), NULL);
  selection = GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (G_LIST_MODEL (app->results))));
  list = gtk_list_view_new (selection, factory);

  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_widget_add_css_class (scrolled, "frame");
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), list);
  gtk_box_append (GTK_BOX (box), scrolled);

  gtk_widget_add_tick_callback (window, frame_tick, app, NULL);

  return window;
}

static void
on_activate (GtkApplication *gtk_app,
             App            *app)
{
  if (app->window == NULL)
    app->window = build_window (app);
  gtk_window_present (GTK_WINDOW (app->window));
}

int
main (int   argc,
      char *argv[])
{
  const GOptionEntry entries[] = {
    { "auto", 0, 0, G_OPTION_ARG_NONE, &opt_auto,
      N_("Start at once, print a summary and quit when done"), NULL },
    { "files", 0, 0, G_OPTION_ARG_INT, &opt_files,
      N_("How many files to generate when no directory is given"), N_("N") },
    { "cancel-after-results", 0, 0, G_OPTION_ARG_INT, &opt_cancel_after_results,
      N_("Cancel the run once N results are listed (implies --auto)"), N_("N") },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_dirs, NULL, N_("[DIR]") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GtkApplication) gtk_app = NULL;
  App app = { 0 };
  char *app_argv[] = { argv[0], NULL };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                _("Compute the SHA-256 of every file under a directory in "
                                  "worker threads while the window stays responsive."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }
  if (opt_files < 1)
    opt_files = 1;
  if (opt_cancel_after_results >= 0)
    opt_auto = TRUE;

  if (!gtk_init_check ())
    {
      g_printerr (_("asyncgui-hash-files: cannot open a display; run it under xvfb-run\n"));
      return opt_auto ? EXIT_SKIP : EXIT_FAILURE;
    }

  app.engine = g_object_ref (ag_engine_get_default ());
  app.results = gtk_string_list_new (NULL);
  app.made_dirs = g_ptr_array_new_with_free_func (g_free);
  /* Headless runs may overlap (tests, CI), so no single-instance D-Bus name. */
  gtk_app = gtk_application_new ("org.gnome.AsyncGui.HashFiles", G_APPLICATION_NON_UNIQUE);
  app.app = gtk_app;
  g_signal_connect (gtk_app, "activate", G_CALLBACK (on_activate), &app);

  if (g_application_run (G_APPLICATION (gtk_app), 1, app_argv) != 0)
    exit_status = EXIT_FAILURE;

  /* A generating worker may still be writing: let it see the cancel first. */
  if (app.job != NULL)
    ag_task_cancel (AG_TASK (app.job));
  while (g_atomic_int_get (&n_generating) > 0)
    g_main_context_iteration (NULL, TRUE);
  for (guint i = 0; i < app.made_dirs->len; i++)
    remove_tree (g_ptr_array_index (app.made_dirs, i));

  g_clear_object (&app.job);
  g_clear_object (&app.results);
  g_clear_pointer (&app.made_dirs, g_ptr_array_unref);
  g_clear_pointer (&app.sample_dir, g_free);
  g_clear_object (&app.engine);
  g_strfreev (opt_dirs);

  return exit_status;
}
