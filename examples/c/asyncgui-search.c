/* asyncgui-search.c: a search box whose results never go stale, in C
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The same app as the Python, GJS and Vala examples: a GTK 4 window with
 * an entry, a spinner and a list of the words that contain what is typed.
 * Each keystroke starts a search on a worker thread through one AgSlot
 * (ag_slot_run_async()): the latest request wins. A search that a newer
 * keystroke replaced is cancelled (its function sees its cancellable fire)
 * and its callback gets G_IO_ERROR_CANCELLED, never a value, so the list
 * never flickers back to an older query, however slow that query was. The
 * slot waits for a quiet period of 150 ms (debounce) before it starts a
 * search, and its busy property drives the spinner.
 *
 * The searches are slow on purpose: a short query takes longest (as a
 * broad query does on a real index), so without the slot an old query
 * would often finish last.
 *
 * Headless use: `--auto` types a word letter by letter, now quickly, now
 * slowly, checks that every list shown belonged to the text in the entry
 * at that moment and that the final list is right, prints a summary and
 * quits (exit status 1 on a failed check). Without a display it exits 77,
 * which Meson counts as a skip; run it under build-aux/with-display.sh.
 */

#define G_LOG_DOMAIN "asyncgui-search"

#include "examples-config.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>
#include <gtk/gtk.h>

#include <asyncgui.h>

#define EXIT_SKIP 77
#define AUTO_WORD "asyncgui"

/* Milliseconds between the keystrokes of --auto: some inside the quiet
 * period, some long enough for a search to start and be replaced. */
static const guint auto_pauses_ms[] = { 40, 260, 60, 320, 30, 240, 50 };

static const char * const syllables[] = {
  "an", "ar", "as", "be", "ca", "co", "de", "di", "el", "en", "fi", "ga",
  "gu", "in", "io", "ka", "lo", "ma", "mi", "nc", "ne", "no", "or", "pa",
  "ra", "re", "sa", "se", "si", "sy", "ta", "te", "ti", "to", "un", "yn",
};

static gboolean opt_auto;
static int      exit_status = EXIT_SUCCESS;

typedef struct
{
  GtkApplication *app;
  GtkWidget      *entry;
  GtkWidget      *status_label;
  GtkStringList  *results;
  AgSlot         *slot;
  GPtrArray      *words;          /* of char *, shared read-only with workers */

  char           *shown_query;
  guint           n_asked;
  guint           n_superseded;
  guint           n_shown;
  guint           n_stale;
  guint           n_pending;
  guint           typed;          /* --auto: letters typed so far */
} App;

static int
compare_words (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The dictionary: made-up words from a fixed seed, and a few real ones. */
static GPtrArray *
make_words (guint count)
{
  static const char * const real[] = { "async", "asyncgui", "asynchronous", "synchronize", "syntax" };
  g_autoptr(GHashTable) set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  GPtrArray *words;
  GHashTableIter iter;
  gpointer word;

  for (guint i = 0; i < G_N_ELEMENTS (real); i++)
    g_hash_table_add (set, g_strdup (real[i]));
  for (guint i = 0; i < count; i++)
    {
      GString *built = g_string_new (NULL);

      for (int n = g_rand_int_range (rand, 2, 6); n > 0; n--)
        g_string_append (built, syllables[g_rand_int_range (rand, 0, G_N_ELEMENTS (syllables))]);
      g_hash_table_add (set, g_string_free (built, FALSE));
    }

  words = g_ptr_array_new_full (g_hash_table_size (set), g_free);
  g_hash_table_iter_init (&iter, set);
  while (g_hash_table_iter_next (&iter, &word, NULL))
    {
      g_ptr_array_add (words, word);
      g_hash_table_iter_steal (&iter);
    }
  g_ptr_array_sort (words, compare_words);
  return words;
}

/* The words containing @query, in order, as a strv. */
static GStrv
words_containing (GPtrArray  *words,
                  const char *query)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < words->len; i++)
    {
      const char *word = g_ptr_array_index (words, i);

      if (strstr (word, query) != NULL)
        g_strv_builder_add (builder, word);
    }
  return g_strv_builder_end (builder);
}

/* What a search's worker needs: nothing of the GUI. */
typedef struct
{
  GPtrArray *words;   /* a reference */
  char      *query;
} Search;

static void
search_free (gpointer data)
{
  Search *search = data;

  g_ptr_array_unref (search->words);
  g_free (search->query);
  g_free (search);
}

/* On a worker thread: the words containing the query, after a while (the
 * shorter the query, the longer); gives up when the cancellable fires. */
static void
search_func (AgTask       *task,
             gpointer      data,
             GCancellable *cancellable)
{
  Search *search = data;
  gint64 deadline = g_get_monotonic_time () + 400000 / strlen (search->query)
                    + g_random_int_range (0, 100000);
  g_auto(GStrv) found = NULL;

  while (g_get_monotonic_time () < deadline)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          ag_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                           "replaced"));
          return;
        }
      g_usleep (5000);
    }

  found = words_containing (search->words, search->query);
  ag_task_return_boxed (task, G_TYPE_STRV, found);
}

static void
show_results (App               *app,
              const char        *query,
              const char * const *found)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (app->entry));
  g_autofree char *label = NULL;
  guint n_found = found != NULL ? g_strv_length ((GStrv) found) : 0;

  /* The check --auto makes: what is shown belongs to what is typed. */
  if (g_strcmp0 (query, text) != 0)
    {
      app->n_stale++;
      g_printerr ("asyncgui-search: showed the results of “%s” while the entry said “%s”\n",
                  query, text);
    }
  app->n_shown++;
  g_free (app->shown_query);
  app->shown_query = g_strdup (query);
  gtk_string_list_splice (app->results, 0, g_list_model_get_n_items (G_LIST_MODEL (app->results)),
                          found);
  if (*query == '\0')
    label = g_strdup_printf (ngettext ("%u word", "%u words", app->words->len), app->words->len);
  else
    label = g_strdup_printf (ngettext ("%u word contains “%s”", "%u words contain “%s”", n_found),
                             n_found, query);
  gtk_label_set_label (GTK_LABEL (app->status_label), label);
}

typedef struct
{
  App  *app;
  char *query;
} Request;

static void
on_search_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Request *request = user_data;
  App *app = request->app;
  g_autoptr(GError) error = NULL;
  GValue *value;

  app->n_pending--;
  /* Only the latest request gets a value: a replaced one gets CANCELLED. */
  value = ag_slot_run_finish (AG_SLOT (source), result, &error);
  if (error != NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        app->n_superseded++;
      else
        g_warning ("search failed: %s", error->message);
    }
  else
    {
      show_results (app, request->query, g_value_get_boxed (value));
      g_boxed_free (G_TYPE_VALUE, value);
    }

  g_free (request->query);
  g_free (request);
}

static void
on_changed (GtkEditable *editable,
            App         *app)
{
  const char *query = gtk_editable_get_text (editable);
  g_autoptr(AgTask) task = NULL;
  Search *search;
  Request *request;

  if (*query == '\0')
    {
      ag_slot_cancel (app->slot);
      show_results (app, query, NULL);
      return;
    }

  search = g_new0 (Search, 1);
  search->words = g_ptr_array_ref (app->words);
  search->query = g_strdup (query);
  task = ag_task_new (search_func, search, search_free);

  request = g_new0 (Request, 1);
  request->app = app;
  request->query = g_strdup (query);
  app->n_asked++;
  app->n_pending++;
  ag_slot_run_async (app->slot, task, NULL, on_search_done, request);
}

/* --auto */

static gboolean
check_when_done (gpointer data)
{
  App *app = data;
  g_auto(GStrv) expected = NULL;
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (app->results));
  gboolean list_right;

  if (ag_slot_get_busy (app->slot) || app->n_pending > 0)
    return G_SOURCE_CONTINUE;

  expected = words_containing (app->words, AUTO_WORD);
  list_right = g_strcmp0 (app->shown_query, AUTO_WORD) == 0 && n_items == g_strv_length (expected);
  for (guint i = 0; list_right && i < n_items; i++)
    list_right = g_str_equal (gtk_string_list_get_string (app->results, i), expected[i]);

  g_print ("asyncgui-search: typed “%s”: %u searches asked, %u superseded, %u lists shown, "
           "final: %u words for “%s”\n", AUTO_WORD, app->n_asked, app->n_superseded,
           app->n_shown, n_items, app->shown_query);
  if (app->n_stale > 0)
    g_printerr ("asyncgui-search: FAILED: %u stale lists shown\n", app->n_stale);
  if (!list_right)
    g_printerr ("asyncgui-search: FAILED: the final list is not that of “%s”\n", AUTO_WORD);
  exit_status = app->n_stale == 0 && list_right ? EXIT_SUCCESS : EXIT_FAILURE;
  g_application_quit (G_APPLICATION (app->app));
  return G_SOURCE_REMOVE;
}

static gboolean
type_next (gpointer data)
{
  App *app = data;
  GtkEntryBuffer *buffer = gtk_entry_get_buffer (GTK_ENTRY (app->entry));

  /* One letter more, as a keystroke adds it (setting the text would empty
   * the entry first). */
  gtk_entry_buffer_insert_text (buffer, app->typed, &AUTO_WORD[app->typed], 1);
  app->typed++;
  if (app->typed < strlen (AUTO_WORD))
    g_timeout_add (auto_pauses_ms[app->typed - 1], type_next, app);
  else
    g_timeout_add (20, check_when_done, app);
  return G_SOURCE_REMOVE;
}

static void
setup_row (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_list_item_set_child (item, label);
}

static void
bind_row (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          gpointer                  data)
{
  GtkStringObject *word = gtk_list_item_get_item (item);

  gtk_label_set_label (GTK_LABEL (gtk_list_item_get_child (item)),
                       gtk_string_object_get_string (word));
}

static void
on_activate (GtkApplication *gtk_app,
             App            *app)
{
  GtkWidget *window = gtk_application_window_new (gtk_app);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *spinner = gtk_spinner_new ();
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkWidget *view;
  GtkWidget *scrolled;

  gtk_window_set_title (GTK_WINDOW (window), _("Search as you type — asyncgui (C)"));
  gtk_window_set_default_size (GTK_WINDOW (window), 420, 520);

  app->entry = gtk_entry_new ();
  gtk_widget_set_hexpand (app->entry, TRUE);
  gtk_entry_set_placeholder_text (GTK_ENTRY (app->entry), _("Type to search…"));
  gtk_entry_set_icon_from_icon_name (GTK_ENTRY (app->entry), GTK_ENTRY_ICON_PRIMARY,
                                     "edit-find-symbolic");
  /* The spinner spins while the slot has a search waiting or running. */
  g_object_bind_property (app->slot, "busy", spinner, "spinning", G_BINDING_SYNC_CREATE);
  app->status_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (app->status_label), 0.0);

  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), NULL);
  view = gtk_list_view_new (GTK_SELECTION_MODEL (gtk_no_selection_new (
                              G_LIST_MODEL (g_object_ref (app->results)))),
                            factory);
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), view);
  gtk_widget_set_vexpand (scrolled, TRUE);

  gtk_box_append (GTK_BOX (top), app->entry);
  gtk_box_append (GTK_BOX (top), spinner);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_box_append (GTK_BOX (box), top);
  gtk_box_append (GTK_BOX (box), app->status_label);
  gtk_box_append (GTK_BOX (box), scrolled);
  gtk_window_set_child (GTK_WINDOW (window), box);

  show_results (app, "", NULL);
  app->n_shown = 0;
  g_signal_connect (app->entry, "changed", G_CALLBACK (on_changed), app);
  gtk_window_present (GTK_WINDOW (window));

  if (opt_auto)
    g_timeout_add (200, type_next, app);
}

int
main (int   argc,
      char *argv[])
{
  const GOptionEntry entries[] = {
    { "auto", 0, 0, G_OPTION_ARG_NONE, &opt_auto,
      N_("Type a word letter by letter, check the results and quit"), NULL },
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
                                _("Search a word list as you type; results never go back to an "
                                  "older query."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }

  if (!gtk_init_check ())
    {
      g_printerr (_("asyncgui-search: cannot open a display; run it under xvfb-run\n"));
      return opt_auto ? EXIT_SKIP : EXIT_FAILURE;
    }

  app.words = make_words (20000);
  app.results = gtk_string_list_new (NULL);
  app.slot = ag_slot_new (NULL);
  ag_slot_set_debounce_ms (app.slot, 150);
  /* Headless runs may overlap (tests, CI), so no single-instance D-Bus name. */
  gtk_app = gtk_application_new ("org.gnome.AsyncGui.Search", G_APPLICATION_NON_UNIQUE);
  app.app = gtk_app;
  g_signal_connect (gtk_app, "activate", G_CALLBACK (on_activate), &app);

  if (g_application_run (G_APPLICATION (gtk_app), 1, app_argv) != 0)
    exit_status = EXIT_FAILURE;

  /* Searches still running end cancelled; their callbacks use @app. */
  ag_slot_cancel (app.slot);
  while (app.n_pending > 0)
    g_main_context_iteration (NULL, TRUE);

  g_clear_object (&app.slot);
  g_clear_object (&app.results);
  g_clear_pointer (&app.words, g_ptr_array_unref);
  g_free (app.shown_query);
  return exit_status;
}
