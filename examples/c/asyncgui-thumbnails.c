/* asyncgui-thumbnails.c: previews of untrusted files through sandboxed workers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The same app as the Python, GJS and Vala examples. A grid shows one tile
 * per file given on the command line. Each preview is one call of the
 * worker module thumbnailer-worker.c in a sandboxed worker process: the
 * application opens the file and passes the descriptor, sets a memory
 * limit, a processor-time limit and the type of value it accepts, and
 * shows either the thumbnail (binary PGM/PPM images), the first lines
 * (anything else, read as text) or why there is none. A file that crashes
 * or exhausts its worker fails its own tile; the others render, and the
 * window keeps drawing: every pending tile has a spinner.
 *
 * Headless use: `--auto` makes a folder of files of its own, good and
 * hostile (a truncated image, an image whose header claims 60000 × 60000
 * pixels, a file that is not what its name says, a text file of one
 * endless line), previews them and checks every tile: thumbnails of the
 * right size, the right error on each hostile file, and frames drawn
 * throughout. It fails (exit status 1) if one is wrong or if the sandbox
 * cannot be used here. Without a display it exits 77, which Meson counts
 * as a skip; run it under build-aux/with-display.sh.
 */

#define G_LOG_DOMAIN "asyncgui-thumbnails"

#include "examples-config.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include <asyncgui.h>

#include "thumbnailer.h"

#define EXIT_SKIP 77
#define THUMBNAIL_SIZE 128
#define TEXT_LINES 6
/* Per call. Address space, not resident memory: the C worker needs a few
 * dozen MiB of it before it reads anything. */
#define MEMORY_LIMIT (256u * 1024 * 1024)
#define CPU_LIMIT_MS 10000
/* --auto: bounds for a loaded machine, not expectations. */
#define AUTO_DEADLINE_US (120 * G_USEC_PER_SEC)
#define MAX_FRAME_GAP_US (G_USEC_PER_SEC)
#define MIN_FRAMES_WHILE_PENDING 10

static gboolean opt_auto;
static char    *opt_module = THUMBNAILER_MODULE;
static int      exit_status = EXIT_SUCCESS;

typedef struct _App App;

typedef struct
{
  App       *app;
  GFile     *file;
  GtkWidget *stack;
  GtkWidget *picture;
  GtkWidget *text;
  GtkWidget *error_label;
  gboolean   done;
  /* What the tile shows, for --auto: "image WxH", "text" or the error. */
  GError    *error;
  int        width, height;
  char      *shown_text;
  /* --auto: what it must show. */
  char      *expected;
} Tile;

struct _App
{
  GtkApplication *app;
  GPtrArray      *tiles;
  guint           n_pending;
  char           *auto_dir;
  GHashTable     *expected;        /* --auto: path → what its tile shows */

  gint64          started_at;
  gint64          last_frame_us;
  gint64          worst_gap_us;
  guint           frames_while_pending;
};

static void
tile_free (Tile *tile)
{
  g_clear_object (&tile->file);
  g_clear_error (&tile->error);
  g_free (tile->shown_text);
  g_free (tile->expected);
  g_free (tile);
}

/* What the user reads in a failed tile. */
static const char *
describe_error (const GError *error)
{
  if (error->domain == g_quark_from_static_string (THUMBNAILER_ERROR_DOMAIN))
    switch ((ThumbnailerError) error->code)
      {
      case THUMBNAILER_ERROR_NOT_AN_IMAGE:
        return _("Not an image");
      case THUMBNAILER_ERROR_TRUNCATED:
        return _("The image is truncated");
      case THUMBNAILER_ERROR_TOO_LARGE:
        return _("Too large to preview");
      case THUMBNAILER_ERROR_NOT_TEXT:
        return _("Neither an image nor text");
      case THUMBNAILER_ERROR_READ:
        break;
      }
  if (g_error_matches (error, AG_ERROR, AG_ERROR_MEMORY_LIMIT))
    return _("The worker went past its memory limit");
  if (g_error_matches (error, AG_ERROR, AG_ERROR_CPU_LIMIT))
    return _("The worker went past its processor-time limit");
  if (g_error_matches (error, AG_ERROR, AG_ERROR_WORKER_CRASHED))
    return _("The worker crashed on this file");
  return error->message;
}

/* The short name --auto compares with what each tile must show. */
static char *
tile_outcome (Tile *tile)
{
  if (tile->error != NULL)
    {
      if (tile->error->domain == g_quark_from_static_string (THUMBNAILER_ERROR_DOMAIN))
        {
          static const char * const names[] = {
            "not-an-image", "truncated", "too-large", "not-text", "read-error",
          };

          if ((guint) tile->error->code < G_N_ELEMENTS (names))
            return g_strdup_printf ("error %s", names[tile->error->code]);
        }
      if (g_error_matches (tile->error, AG_ERROR, AG_ERROR_MEMORY_LIMIT))
        return g_strdup ("error memory-limit");
      if (g_error_matches (tile->error, AG_ERROR, AG_ERROR_CPU_LIMIT))
        return g_strdup ("error cpu-limit");
      if (g_error_matches (tile->error, AG_ERROR, AG_ERROR_WORKER_CRASHED))
        return g_strdup ("error worker-crashed");
      return g_strdup_printf ("error %s", tile->error->message);
    }
  if (tile->shown_text != NULL)
    return g_strdup_printf ("text %s", tile->shown_text);
  return g_strdup_printf ("image %dx%d", tile->width, tile->height);
}

static void
tile_fail (Tile   *tile,
           GError *error)
{
  tile->error = error;
  gtk_label_set_label (GTK_LABEL (tile->error_label), describe_error (error));
  gtk_widget_set_tooltip_text (tile->error_label, error->message);
  gtk_stack_set_visible_child (GTK_STACK (tile->stack), tile->error_label);
}

/* The worker's value passed its result type, so its shape is right; its
 * numbers are the worker's word, and checked like any input. */
static void
tile_show_image (Tile     *tile,
                 GVariant *value)
{
  g_autoptr(GVariant) pixels = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  guint32 width, height;

  g_variant_get (value, "(uu@ay)", &width, &height, &pixels);
  if (width == 0 || height == 0 || width > THUMBNAIL_SIZE || height > THUMBNAIL_SIZE ||
      g_variant_get_size (pixels) != (gsize) width * height * 3)
    {
      tile_fail (tile, g_error_new (AG_ERROR, AG_ERROR_PROTOCOL,
                                    _("The worker sent a thumbnail of a wrong size")));
      return;
    }
  bytes = g_variant_get_data_as_bytes (pixels);
  texture = gdk_memory_texture_new (width, height, GDK_MEMORY_R8G8B8, bytes, width * 3);
  gtk_picture_set_paintable (GTK_PICTURE (tile->picture), GDK_PAINTABLE (texture));
  gtk_stack_set_visible_child (GTK_STACK (tile->stack), tile->picture);
  tile->width = width;
  tile->height = height;
}

static void
tile_show_text (Tile     *tile,
                GVariant *value)
{
  tile->shown_text = g_variant_dup_string (value, NULL);
  gtk_label_set_label (GTK_LABEL (tile->text), tile->shown_text);
  gtk_stack_set_visible_child (GTK_STACK (tile->stack), tile->text);
}

static void check_auto (App *app);

/* On the engine's context, the GUI thread. */
static void
on_preview_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Tile *tile = user_data;
  App *app = tile->app;
  GError *error = NULL;
  GValue *value;

  value = ag_engine_run_finish (AG_ENGINE (source), result, &error);
  if (value == NULL)
    tile_fail (tile, error);
  else
    {
      GVariant *variant = g_value_get_variant (value);

      if (g_variant_is_of_type (variant, G_VARIANT_TYPE (THUMBNAILER_IMAGE_TYPE)))
        tile_show_image (tile, variant);
      else
        tile_show_text (tile, variant);
      g_value_unset (value);
      g_free (value);
    }
  tile->done = TRUE;
  app->n_pending--;
  if (opt_auto && app->n_pending == 0)
    check_auto (app);
}

static gboolean
is_image_name (const char *name)
{
  return g_str_has_suffix (name, ".ppm") || g_str_has_suffix (name, ".pgm") ||
         g_str_has_suffix (name, ".pnm");
}

/* One sandboxed call per file. The file is opened here, by the
 * application; the worker, which sees none of the user's files, reads the
 * descriptor. */
static void
tile_start (App  *app,
            Tile *tile)
{
  g_autofree char *name = g_file_get_basename (tile->file);
  gboolean image = is_image_name (name);
  g_autoptr(AgWorkerTask) task = NULL;
  GError *error = NULL;

  /* The first descriptor added is handle 0. */
  task = ag_worker_task_new_c (opt_module, image ? "thumbnailer_image" : "thumbnailer_text",
                               g_variant_new ("(hu)", 0, image ? THUMBNAIL_SIZE : TEXT_LINES));
  if (ag_worker_task_add_file (task, tile->file, &error) < 0)
    {
      tile_fail (tile, error);
      tile->done = TRUE;
      return;
    }
  ag_worker_task_set_sandboxed (task, TRUE);
  ag_worker_task_set_result_type (task, G_VARIANT_TYPE (image ? THUMBNAILER_IMAGE_TYPE
                                                              : THUMBNAILER_TEXT_TYPE));
  ag_worker_task_set_memory_limit (task, MEMORY_LIMIT);
  ag_worker_task_set_cpu_limit_ms (task, CPU_LIMIT_MS);

  app->n_pending++;
  ag_engine_run_async (ag_engine_get_default (), AG_TASK (task), NULL, on_preview_done, tile);
}

static GtkWidget *
tile_build (Tile *tile)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *spinner = gtk_spinner_new ();
  g_autofree char *name = g_file_get_basename (tile->file);
  GtkWidget *name_label = gtk_label_new (name);

  tile->stack = gtk_stack_new ();
  gtk_widget_set_size_request (tile->stack, THUMBNAIL_SIZE, THUMBNAIL_SIZE);
  gtk_spinner_start (GTK_SPINNER (spinner));
  gtk_widget_set_halign (spinner, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (spinner, GTK_ALIGN_CENTER);
  gtk_stack_add_child (GTK_STACK (tile->stack), spinner);

  tile->picture = gtk_picture_new ();
  gtk_picture_set_can_shrink (GTK_PICTURE (tile->picture), FALSE);
  gtk_stack_add_child (GTK_STACK (tile->stack), tile->picture);

  tile->text = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (tile->text), 0.0);
  gtk_label_set_yalign (GTK_LABEL (tile->text), 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (tile->text), PANGO_ELLIPSIZE_END);
  gtk_label_set_max_width_chars (GTK_LABEL (tile->text), 18);
  gtk_widget_add_css_class (tile->text, "monospace");
  gtk_widget_add_css_class (tile->text, "caption");
  gtk_stack_add_child (GTK_STACK (tile->stack), tile->text);

  tile->error_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (tile->error_label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (tile->error_label), 16);
  gtk_label_set_justify (GTK_LABEL (tile->error_label), GTK_JUSTIFY_CENTER);
  gtk_widget_add_css_class (tile->error_label, "error");
  gtk_stack_add_child (GTK_STACK (tile->stack), tile->error_label);

  gtk_stack_set_visible_child (GTK_STACK (tile->stack), spinner);
  gtk_label_set_ellipsize (GTK_LABEL (name_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_max_width_chars (GTK_LABEL (name_label), 16);
  gtk_box_append (GTK_BOX (box), tile->stack);
  gtk_box_append (GTK_BOX (box), name_label);
  return box;
}

/* --auto: the frame clock ticks while a spinner turns; a gap between two
 * ticks is time the GUI thread did not draw. */
static gboolean
on_tick (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       user_data)
{
  App *app = user_data;
  gint64 now = g_get_monotonic_time ();

  if (app->n_pending > 0)
    {
      if (app->last_frame_us != 0)
        app->worst_gap_us = MAX (app->worst_gap_us, now - app->last_frame_us);
      app->frames_while_pending++;
    }
  app->last_frame_us = now;
  if (now - app->started_at > AUTO_DEADLINE_US)
    {
      g_printerr ("asyncgui-thumbnails: FAILED: %u previews still pending after %d s\n",
                  app->n_pending, (int) (AUTO_DEADLINE_US / G_USEC_PER_SEC));
      exit_status = EXIT_FAILURE;
      g_application_quit (G_APPLICATION (app->app));
    }
  return G_SOURCE_CONTINUE;
}

static void
check_auto (App *app)
{
  for (guint i = 0; i < app->tiles->len; i++)
    {
      Tile *tile = app->tiles->pdata[i];
      g_autofree char *name = g_file_get_basename (tile->file);
      g_autofree char *outcome = tile_outcome (tile);
      g_autofree char *printable = g_strescape (outcome, NULL);
      gboolean ok = strcmp (outcome, tile->expected) == 0;

      /* A thumbnail must also be what the tile draws. */
      if (ok && tile->error == NULL && tile->shown_text == NULL)
        {
          GdkPaintable *paintable = gtk_picture_get_paintable (GTK_PICTURE (tile->picture));

          ok = paintable != NULL &&
               gtk_stack_get_visible_child (GTK_STACK (tile->stack)) == tile->picture &&
               gdk_paintable_get_intrinsic_width (paintable) == tile->width &&
               gdk_paintable_get_intrinsic_height (paintable) == tile->height;
        }
      g_print ("%-20s %s\n", name, printable);
      if (!ok)
        {
          g_printerr ("asyncgui-thumbnails: FAILED: %s shows “%s”, not “%s”\n",
                      name, outcome, tile->expected);
          exit_status = EXIT_FAILURE;
        }
    }
  g_print ("asyncgui-thumbnails: %u frames while previews were pending, worst gap %.1f ms\n",
           app->frames_while_pending, app->worst_gap_us / 1000.0);
  if (app->frames_while_pending < MIN_FRAMES_WHILE_PENDING || app->worst_gap_us > MAX_FRAME_GAP_US)
    {
      g_printerr ("asyncgui-thumbnails: FAILED: the window did not keep drawing\n");
      exit_status = EXIT_FAILURE;
    }
  g_application_quit (G_APPLICATION (app->app));
}

static void
write_file (const char  *dir,
            const char  *name,
            const char  *data,
            gsize        length,
            goffset      sparse_length)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  if (!g_file_set_contents (path, data, length, &error))
    g_error ("%s", error->message);
  /* A file of this length that takes no disk: the rest reads as zeros. */
  if (sparse_length > 0 && truncate (path, sparse_length) != 0)
    g_error ("%s: %s", path, g_strerror (errno));
}

static char *
pnm_image (char  kind,
           guint width,
           guint height,
           gsize keep_pixels,
           gsize *length)
{
  guint channels = kind == '6' ? 3 : 1;
  GString *image = g_string_new (NULL);

  g_string_printf (image, "P%c\n# made by asyncgui-thumbnails --auto\n%u %u\n255\n",
                   kind, width, height);
  for (guint y = 0; y < height; y++)
    for (guint x = 0; x < width; x++)
      for (guint c = 0; c < channels; c++)
        {
          guint8 level = c == 0 ? x * 255 / (width - 1)
                         : c == 1 ? y * 255 / (height - 1) : 128;

          if (image->len >= keep_pixels)
            goto done;
          g_string_append_c (image, (char) level);
        }
done:
  *length = image->len;
  return g_string_free (image, FALSE);
}

/* --auto: a folder of files to preview, each with what its tile must show.
 * The expected texts are the same in the four languages' examples. */
static char **
make_auto_files (App *app)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GStrvBuilder) paths = g_strv_builder_new ();
  static const struct { const char *name, *expected; } files[] = {
    { "gradient.ppm", "image 128x96" },
    { "grey.pgm", "image 128x85" },
    { "notes.txt", "text Line 1 of the notes\nLine 2 of the notes\nLine 3 of the notes\n"
                   "Line 4 of the notes\nLine 5 of the notes\nLine 6 of the notes" },
    { "truncated.ppm", "error truncated" },
    { "huge-header.ppm", "error too-large" },
    { "holiday.ppm", "error not-an-image" },
    { "endless.txt", "error memory-limit" },
  };
  g_autoptr(GString) notes = g_string_new (NULL);
  g_autofree char *image = NULL;
  gsize length;

  app->expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  app->auto_dir = g_dir_make_tmp ("asyncgui-thumbnails-XXXXXX", &error);
  if (app->auto_dir == NULL)
    g_error ("%s", error->message);

  image = pnm_image ('6', 640, 480, G_MAXSIZE, &length);
  write_file (app->auto_dir, "gradient.ppm", image, length, 0);
  g_clear_pointer (&image, g_free);
  image = pnm_image ('5', 300, 200, G_MAXSIZE, &length);
  write_file (app->auto_dir, "grey.pgm", image, length, 0);
  g_clear_pointer (&image, g_free);
  for (int i = 1; i <= 12; i++)
    g_string_append_printf (notes, "Line %d of the notes\n", i);
  write_file (app->auto_dir, "notes.txt", notes->str, notes->len, 0);
  /* Hostile: a header that promises 400 × 300 pixels, a third of them. */
  image = pnm_image ('6', 400, 300, 120000, &length);
  write_file (app->auto_dir, "truncated.ppm", image, length, 0);
  g_clear_pointer (&image, g_free);
  write_file (app->auto_dir, "huge-header.ppm", "P6\n60000 60000\n255\n\x01\x02\x03", 21, 0);
  /* A PNG by its first bytes, whatever its name says. */
  write_file (app->auto_dir, "holiday.ppm", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, 0);
  /* A line of text, then 8 GiB without a line break. */
  write_file (app->auto_dir, "endless.txt", "This line never ends: ", 22, (goffset) 8 << 30);

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (app->auto_dir, files[i].name, NULL);

      g_strv_builder_add (paths, path);
      g_hash_table_insert (app->expected, g_steal_pointer (&path), (gpointer) files[i].expected);
    }
  return g_strv_builder_end (paths);
}

static void
remove_auto_files (App *app)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (app->auto_dir == NULL)
    return;
  dir = g_dir_open (app->auto_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (app->auto_dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (app->auto_dir);
  g_clear_pointer (&app->auto_dir, g_free);
}

static void
on_open (GtkApplication  *gtk_app,
         GFile          **files,
         int              n_files,
         const char      *hint,
         App             *app)
{
  GtkWidget *window = gtk_application_window_new (gtk_app);
  GtkWidget *flow = gtk_flow_box_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  AgEngine *engine = ag_engine_get_default ();
  AgWorkerPool *pool = ag_engine_get_worker_pool (engine);
  g_autofree char *module_dir = g_path_get_dirname (opt_module);
  const char *sandbox_paths[] = { module_dir, NULL };
  g_autoptr(GError) error = NULL;

  /* The worker loads the module from inside the sandbox, which shows it
   * /usr and the folders named here. */
  ag_worker_pool_set_sandbox_paths (pool, sandbox_paths);
  if (!ag_worker_pool_check_sandbox (pool, &error))
    {
      g_printerr (_("asyncgui-thumbnails: no sandbox: %s\n"), error->message);
      /* A test of the example must not pass unprotected; a user still
       * sees the error in every tile. */
      if (opt_auto)
        {
          exit_status = EXIT_FAILURE;
          g_application_quit (G_APPLICATION (gtk_app));
          return;
        }
    }

  gtk_window_set_title (GTK_WINDOW (window), _("Previews in a sandbox — asyncgui (C)"));
  gtk_window_set_default_size (GTK_WINDOW (window), 720, 480);
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (flow), GTK_SELECTION_NONE);
  gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (flow), TRUE);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (flow), 12);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (flow), 12);
  gtk_widget_set_margin_top (flow, 12);
  gtk_widget_set_margin_bottom (flow, 12);
  gtk_widget_set_margin_start (flow, 12);
  gtk_widget_set_margin_end (flow, 12);
  gtk_widget_set_valign (flow, GTK_ALIGN_START);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), flow);
  gtk_window_set_child (GTK_WINDOW (window), scrolled);

  for (int i = 0; i < n_files; i++)
    {
      Tile *tile = g_new0 (Tile, 1);
      g_autofree char *path = g_file_get_path (files[i]);

      tile->app = app;
      tile->file = g_object_ref (files[i]);
      if (app->expected != NULL && path != NULL)
        tile->expected = g_strdup (g_hash_table_lookup (app->expected, path));
      g_ptr_array_add (app->tiles, tile);
      gtk_flow_box_append (GTK_FLOW_BOX (flow), tile_build (tile));
    }
  gtk_window_present (GTK_WINDOW (window));

  app->started_at = g_get_monotonic_time ();
  if (opt_auto)
    gtk_widget_add_tick_callback (window, on_tick, app, NULL);
  for (guint i = 0; i < app->tiles->len; i++)
    tile_start (app, app->tiles->pdata[i]);
  if (opt_auto && app->n_pending == 0)
    check_auto (app);
}

int
main (int   argc,
      char *argv[])
{
  const GOptionEntry entries[] = {
    { "auto", 0, 0, G_OPTION_ARG_NONE, &opt_auto,
      N_("Preview a set of good and hostile files of its own, check every tile and quit"), NULL },
    { "module", 0, 0, G_OPTION_ARG_FILENAME, &opt_module,
      N_("The worker module with the parsers"), N_("PATH") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GtkApplication) gtk_app = NULL;
  g_autoptr(GStrvBuilder) app_argv = g_strv_builder_new ();
  g_auto(GStrv) auto_files = NULL;
  g_auto(GStrv) run_argv = NULL;
  App app = { 0 };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (_("FILE…"));
  g_option_context_set_summary (context,
                                _("Preview images and text files in sandboxed worker "
                                  "processes."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }

  if (!gtk_init_check ())
    {
      g_printerr (_("asyncgui-thumbnails: cannot open a display; run it under xvfb-run\n"));
      return opt_auto ? EXIT_SKIP : EXIT_FAILURE;
    }

  /* Headless runs may overlap (tests, CI), so no single-instance D-Bus name. */
  gtk_app = gtk_application_new ("org.gnome.AsyncGui.Thumbnails",
                                 G_APPLICATION_NON_UNIQUE | G_APPLICATION_HANDLES_OPEN);
  app.app = gtk_app;
  app.tiles = g_ptr_array_new_with_free_func ((GDestroyNotify) tile_free);
  g_quark_from_static_string (THUMBNAILER_ERROR_DOMAIN);
  g_signal_connect (gtk_app, "open", G_CALLBACK (on_open), &app);

  g_strv_builder_add (app_argv, argv[0]);
  if (opt_auto)
    {
      auto_files = make_auto_files (&app);
      g_strv_builder_addv (app_argv, (const char **) auto_files);
    }
  else
    for (int i = 1; i < argc; i++)
      g_strv_builder_add (app_argv, argv[i]);
  run_argv = g_strv_builder_end (app_argv);

  if (g_strv_length (run_argv) == 1)
    {
      g_printerr (_("asyncgui-thumbnails: name the files to preview, or use --auto\n"));
      return EXIT_FAILURE;
    }
  if (g_application_run (G_APPLICATION (gtk_app), g_strv_length (run_argv), run_argv) != 0)
    exit_status = EXIT_FAILURE;

  remove_auto_files (&app);
  g_ptr_array_unref (app.tiles);
  g_clear_pointer (&app.expected, g_hash_table_unref);
  return exit_status;
}
