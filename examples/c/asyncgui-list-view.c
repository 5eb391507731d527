/* asyncgui-list-view.c: a GtkListView bound to a MultiTask, in C
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The same app as the Python, GJS and Vala examples. An AgMultiTask is a
 * GListModel of its children, which are AgTask objects, one row each. A
 * child's state property is notified when it ends, its value (or error)
 * set by then, so the factory's bind handler shows the row now and
 * connects to notify::state to show its value, or why it failed, when it
 * ends; unbind disconnects, since GTK reuses row widgets for other rows
 * as the view scrolls. Rows whose task has not finished show "…".
 *
 * Headless use: `--auto` quits once every row on screen shows its value,
 * printing the text of each row widget. It fails (exit status 1) if a row
 * does not show its own value, if no frame ever showed some values while
 * others were still coming, or if rows still wait after the run ended.
 * Without a display it exits 77, which Meson counts as a skip; run it
 * under build-aux/with-display.sh.
 */

#define G_LOG_DOMAIN "asyncgui-list-view"

#include "examples-config.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>
#include <gtk/gtk.h>

#include <asyncgui.h>

#define EXIT_SKIP 77
#define PENDING "…"
#define ROW_CLASS "row-value"
#define DELAY_US (30 * 1000)
/* Once the run has ended, the rows on screen must show their values by
 * the next frames; this is only a bound for a loaded machine. */
#define SETTLE_DEADLINE_US (10 * G_USEC_PER_SEC)

static gboolean opt_auto;
static int      opt_count = 24;
static int      exit_status = EXIT_SUCCESS;

typedef struct
{
  GtkApplication *app;
  GtkWidget      *view;
  GtkWidget      *status_label;
  AgMultiTask    *multi;

  gboolean        done;            /* the run has ended */
  gint64          done_at;         /* monotonic µs */
  gboolean        saw_pending;     /* a frame showed "…" */
  gboolean        saw_mixed;       /* a frame showed values and "…" */
} App;

/* Runs on a worker thread. */
static void
measure (AgTask       *task,
         gpointer      user_data,
         GCancellable *cancellable)
{
  guint index = GPOINTER_TO_UINT (user_data);

  g_usleep (DELAY_US);
  ag_task_return_string (task, g_strdup_printf ("%u² = %u", index, index * index));
}

static char *
row_text (AgTask *row)
{
  switch (ag_task_get_state (row))
    {
    case AG_TASK_SUCCEEDED:
      return g_value_dup_string (ag_task_get_value (row));
    case AG_TASK_FAILED:
    case AG_TASK_CANCELLED:
      return g_strdup (ag_task_get_error (row)->message);
    default:
      return g_strdup (PENDING);
    }
}

static void
show_row (GtkLabel *label,
          AgTask   *row)
{
  g_autofree char *text = row_text (row);

  gtk_label_set_label (label, text);
}

/* Called on the engine's context, the GUI thread. */
static void
on_row_value (AgTask     *row,
              GParamSpec *pspec,
              GtkLabel   *label)
{
  show_row (label, row);
}

static void
setup_row (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  user_data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_widget_add_css_class (label, ROW_CLASS);
  gtk_list_item_set_child (item, label);
}

static void
bind_row (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          gpointer                  user_data)
{
  AgTask *row = gtk_list_item_get_item (item);
  GtkWidget *label = gtk_list_item_get_child (item);
  gulong handler;

  /* Connect before reading, so a value that arrives in between is shown. */
  handler = g_signal_connect_object (row, "notify::state",
                                     G_CALLBACK (on_row_value), label, 0);
  g_object_set_data (G_OBJECT (item), "value-handler", GSIZE_TO_POINTER (handler));
  show_row (GTK_LABEL (label), row);
}

static void
unbind_row (GtkSignalListItemFactory *factory,
            GtkListItem              *item,
            gpointer                  user_data)
{
  gulong handler = GPOINTER_TO_SIZE (g_object_steal_data (G_OBJECT (item), "value-handler"));

  if (handler != 0)
    g_signal_handler_disconnect (gtk_list_item_get_item (item), handler);
}

/* The texts of the row widgets the list view shows. */
static GPtrArray *
row_texts (App *app)
{
  GPtrArray *texts = g_ptr_array_new ();

  for (GtkWidget *widget = gtk_widget_get_first_child (app->view);
       widget != NULL;
       widget = gtk_widget_get_next_sibling (widget))
    {
      GtkWidget *child = gtk_widget_get_first_child (widget);

      if (child != NULL && gtk_widget_has_css_class (child, ROW_CLASS))
        g_ptr_array_add (texts, (gpointer) gtk_label_get_label (GTK_LABEL (child)));
    }
  return texts;
}

static gboolean
texts_have (GPtrArray  *texts,
            const char *text,
            gboolean    equal)
{
  for (guint i = 0; i < texts->len; i++)
    if ((strcmp (texts->pdata[i], text) == 0) == equal)
      return TRUE;
  return FALSE;
}

/* --auto: watches every frame for rows that show values while others
 * wait. */
static gboolean
on_tick (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       user_data)
{
  App *app = user_data;
  g_autoptr(GPtrArray) texts = row_texts (app);

  if (texts_have (texts, PENDING, TRUE))
    {
      app->saw_pending = TRUE;
      if (texts_have (texts, PENDING, FALSE))
        app->saw_mixed = TRUE;
    }
  return G_SOURCE_CONTINUE;
}

/* Each row shows its own value: row i says "i² = i·i", each once. */
static gboolean
texts_are_values (GPtrArray *texts)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < texts->len; i++)
    {
      const char *text = texts->pdata[i];
      guint index, square;
      g_autofree char *again = NULL;

      if (sscanf (text, "%u² = %u", &index, &square) != 2 ||
          (int) index >= opt_count || square != index * index)
        return FALSE;
      again = g_strdup_printf ("%u² = %u", index, square);
      if (strcmp (again, text) != 0 || !g_hash_table_add (seen, (gpointer) text))
        return FALSE;
    }
  return texts->len > 0;
}

static gboolean
check_done (gpointer user_data)
{
  App *app = user_data;
  g_autoptr(GPtrArray) texts = NULL;
  gboolean late;

  if (!app->done)
    return G_SOURCE_CONTINUE;

  texts = row_texts (app);
  late = g_get_monotonic_time () - app->done_at > SETTLE_DEADLINE_US;
  if ((texts->len == 0 || texts_have (texts, PENDING, TRUE)) && !late)
    return G_SOURCE_CONTINUE;

  for (guint i = 0; i < texts->len; i++)
    g_print ("%s\n", (const char *) texts->pdata[i]);
  if (!texts_are_values (texts))
    {
      g_printerr ("asyncgui-list-view: FAILED: the rows do not all show their values%s\n",
                  late ? " after the run ended" : "");
      exit_status = EXIT_FAILURE;
    }
  if (!app->saw_mixed)
    {
      g_printerr ("asyncgui-list-view: FAILED: no frame showed values while others were "
                  "still coming\n");
      exit_status = EXIT_FAILURE;
    }
  g_application_quit (G_APPLICATION (app->app));
  return G_SOURCE_REMOVE;
}

static void
on_run_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;
  GValue *value;

  value = ag_engine_run_finish (AG_ENGINE (source), result, &error);
  if (value == NULL)
    {
      gtk_label_set_label (GTK_LABEL (app->status_label), error->message);
      exit_status = EXIT_FAILURE;
    }
  else
    {
      GArray *values = g_value_get_boxed (value);
      guint sum = 0;
      g_autofree char *status = NULL;

      /* The value of the very run the list view shows: its rows' values. */
      for (guint i = 0; i < values->len; i++)
        {
          const char *text = g_value_get_string (&g_array_index (values, GValue, i));
          const char *equals = strstr (text, " = ");

          sum += (guint) g_ascii_strtoull (equals + 3, NULL, 10);
        }
      status = g_strdup_printf (_("Done: the squares add up to %u"), sum);
      gtk_label_set_label (GTK_LABEL (app->status_label), status);
      g_value_unset (value);
      g_free (value);
    }
  app->done = TRUE;
  app->done_at = g_get_monotonic_time ();
}

static void
on_activate (GtkApplication *gtk_app,
             App            *app)
{
  GtkWidget *window = gtk_application_window_new (gtk_app);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkWidget *scrolled;
  g_autofree char *status = NULL;

  gtk_window_set_title (GTK_WINDOW (window), _("Values as they arrive — asyncgui (C)"));
  gtk_window_set_default_size (GTK_WINDOW (window), 480, 640);

  app->multi = ag_multi_task_new ();
  ag_multi_task_set_max_workers (app->multi, 2);
  for (int i = 0; i < opt_count; i++)
    {
      g_autoptr(AgTask) child = ag_task_new (measure, GUINT_TO_POINTER (i), NULL);

      ag_multi_task_add (app->multi, child);
    }

  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row), NULL);
  app->view = gtk_list_view_new (GTK_SELECTION_MODEL (gtk_no_selection_new (
                                   G_LIST_MODEL (g_object_ref (app->multi)))),
                                 factory);

  status = g_strdup_printf (_("Measuring %d values…"), opt_count);
  app->status_label = gtk_label_new (status);
  gtk_label_set_xalign (GTK_LABEL (app->status_label), 0.0);
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), app->view);
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_box_append (GTK_BOX (box), app->status_label);
  gtk_box_append (GTK_BOX (box), scrolled);
  gtk_window_set_child (GTK_WINDOW (window), box);
  gtk_window_present (GTK_WINDOW (window));

  ag_engine_run_async (ag_engine_get_default (), AG_TASK (app->multi), NULL,
                       on_run_done, app);
  if (opt_auto)
    {
      gtk_widget_add_tick_callback (window, on_tick, app, NULL);
      g_timeout_add (50, check_done, app);
    }
}

int
main (int   argc,
      char *argv[])
{
  const GOptionEntry entries[] = {
    { "auto", 0, 0, G_OPTION_ARG_NONE, &opt_auto,
      N_("Check that the rows show their values, print them and quit"), NULL },
    { "count", 0, 0, G_OPTION_ARG_INT, &opt_count,
      N_("How many values to measure"), "N" },
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
                                _("Show a MultiTask in a list view, each row's value as it "
                                  "arrives."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }
  if (opt_count < 1)
    opt_count = 1;

  if (!gtk_init_check ())
    {
      g_printerr (_("asyncgui-list-view: cannot open a display; run it under xvfb-run\n"));
      return opt_auto ? EXIT_SKIP : EXIT_FAILURE;
    }

  /* Headless runs may overlap (tests, CI), so no single-instance D-Bus name. */
  gtk_app = gtk_application_new ("org.gnome.AsyncGui.ListView", G_APPLICATION_NON_UNIQUE);
  app.app = gtk_app;
  g_signal_connect (gtk_app, "activate", G_CALLBACK (on_activate), &app);

  if (g_application_run (G_APPLICATION (gtk_app), 1, app_argv) != 0)
    exit_status = EXIT_FAILURE;

  g_clear_object (&app.multi);
  return exit_status;
}
