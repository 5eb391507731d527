/* search-as-you-type.vala: a search box whose results never go stale, in Vala
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A GTK 4 window with an entry, a spinner and a list of the words that
 * contain what is typed. Each keystroke starts a search on a worker
 * thread through one AsyncGui.Slot, `yield slot.run (task)`: the latest
 * request wins. A search that a newer keystroke replaced is cancelled (its
 * lambda sees its cancellable fire) and its yield throws
 * IOError.CANCELLED, so the list never flickers back to an older query,
 * however slow that query was. The slot waits for a quiet period of
 * 150 ms (debounce) before it starts a search, and its busy property
 * drives the spinner.
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

[CCode (cheader_filename = "examples-config.h", cname = "LOCALEDIR")]
extern const string LOCALEDIR;
[CCode (cheader_filename = "examples-config.h", cname = "GETTEXT_PACKAGE")]
extern const string GETTEXT_PACKAGE;

const int EXIT_SKIP = 77;
const string AUTO_WORD = "asyncgui";
/* Milliseconds between the keystrokes of --auto: some inside the quiet
 * period, some long enough for a search to start and be replaced. */
const uint[] AUTO_PAUSES_MS = { 40, 260, 60, 320, 30, 240, 50 };

const string[] SYLLABLES = {
    "an", "ar", "as", "be", "ca", "co", "de", "di", "el", "en", "fi", "ga",
    "gu", "in", "io", "ka", "lo", "ma", "mi", "nc", "ne", "no", "or", "pa",
    "ra", "re", "sa", "se", "si", "sy", "ta", "te", "ti", "to", "un", "yn"
};

/* The dictionary, shared read-only with the worker threads: made-up words
 * from a fixed seed, and a few real ones. */
class Words : Object {
    public string[] list;

    public Words (int count) {
        var rand = new Rand.with_seed (7);
        var set = new GenericSet<string> (str_hash, str_equal);
        foreach (unowned string word in new string[] { "async", "asyncgui", "asynchronous",
                                                        "synchronize", "syntax" }) {
            set.add (word);
        }
        for (int i = 0; i < count; i++) {
            var word = new StringBuilder ();
            for (int n = rand.int_range (2, 6); n > 0; n--) {
                word.append (SYLLABLES[rand.int_range (0, SYLLABLES.length)]);
            }
            set.add (word.str);
        }
        var sorted = new GenericArray<string> ();
        set.foreach ((word) => sorted.add (word));
        sorted.sort (strcmp);
        list = sorted.data;
    }

    public string[] containing (string query) {
        string[] found = {};
        foreach (unowned string word in list) {
            if (word.contains (query)) {
                found += word;
            }
        }
        return found;
    }
}

/* A search on a worker thread: the words containing @query, as a strv
 * variant, after a while (the shorter the query, the longer); it gives up
 * when its cancellable fires. The lambda holds only @words and @query, no
 * widget: its last reference may go on the worker. */
AsyncGui.Task search_task (Words words, string query) {
    return new AsyncGui.Task ((task, cancellable) => {
        int64 deadline = get_monotonic_time () + 400000 / query.length + Random.int_range (0, 100000);
        while (get_monotonic_time () < deadline) {
            if (cancellable.is_cancelled ()) {
                task.return_error (new IOError.CANCELLED ("replaced"));
                return;
            }
            Thread.usleep (5000);
        }
        task.return_variant (new Variant.strv (words.containing (query)));
    });
}

class SearchWindow : Gtk.ApplicationWindow {
    Words words = new Words (20000);
    AsyncGui.Slot slot = new AsyncGui.Slot ();
    Gtk.Entry entry;
    Gtk.Label status;
    Gtk.StringList results = new Gtk.StringList (null);
    string? shown_query = null;
    uint n_asked;
    uint n_superseded;
    uint n_shown;
    uint n_stale;
    uint n_pending;
    public int exit_status;

    public SearchWindow (Gtk.Application app) {
        Object (application: app, title: _("Search as you type — asyncgui (Vala)"),
                default_width: 420, default_height: 520);
        slot.debounce_ms = 150;

        entry = new Gtk.Entry ();
        entry.hexpand = true;
        entry.placeholder_text = _("Type to search…");
        entry.primary_icon_name = "edit-find-symbolic";
        var spinner = new Gtk.Spinner ();
        /* The spinner spins while the slot has a search waiting or running. */
        slot.bind_property ("busy", spinner, "spinning", BindingFlags.SYNC_CREATE);
        status = new Gtk.Label (ngettext ("%d word", "%d words", words.list.length).printf (words.list.length));
        status.xalign = 0;
        var factory = new Gtk.SignalListItemFactory ();
        factory.setup.connect ((f, item) => ((Gtk.ListItem) item).child = new Gtk.Label (null) { xalign = 0 });
        factory.bind.connect ((f, item) => {
            var list_item = (Gtk.ListItem) item;
            ((Gtk.Label) list_item.child).label = ((Gtk.StringObject) list_item.item).string;
        });
        var view = new Gtk.ListView (new Gtk.NoSelection (results), factory);

        var top = new Gtk.Box (Gtk.Orientation.HORIZONTAL, 6);
        top.append (entry);
        top.append (spinner);
        var box = new Gtk.Box (Gtk.Orientation.VERTICAL, 6) {
            margin_top = 12, margin_bottom = 12, margin_start = 12, margin_end = 12
        };
        box.append (top);
        box.append (status);
        box.append (new Gtk.ScrolledWindow () { child = view, vexpand = true });
        child = box;

        entry.changed.connect (() => search.begin (entry.text));
    }

    async void search (string query) {
        if (query == "") {
            slot.cancel ();
            show_results (query, {});
            return;
        }
        n_asked++;
        n_pending++;
        try {
            var value = yield slot.run (search_task (words, query));
            show_results (query, value.dup_variant ().get_strv ());
        } catch (IOError.CANCELLED e) {
            /* A later keystroke replaced this search: nothing to show. */
            n_superseded++;
        } catch (Error e) {
            warning ("search failed: %s", e.message);
        }
        n_pending--;
    }

    void show_results (string query, string[] found) {
        /* The check --auto makes: what is shown belongs to what is typed. */
        if (query != entry.text) {
            n_stale++;
            printerr ("asyncgui-search-vala: showed the results of “%s” while the entry said “%s”\n",
                      query, entry.text);
        }
        n_shown++;
        shown_query = query;
        results.splice (0, results.get_n_items (), found);
        status.label = query == ""
            ? ngettext ("%d word", "%d words", words.list.length).printf (words.list.length)
            : ngettext ("%d word contains “%s”", "%d words contain “%s”", found.length).printf (found.length, query);
    }

    /* --auto */

    public void type_word () {
        Timeout.add (200, () => type_next (1));
    }

    bool type_next (int length) {
        /* One letter more, as a keystroke adds it (setting the text would
         * empty the entry first). */
        entry.buffer.insert_text (length - 1, AUTO_WORD[length - 1:length].data);
        if (length < AUTO_WORD.length) {
            Timeout.add (AUTO_PAUSES_MS[length - 1], () => type_next (length + 1));
        } else {
            Timeout.add (20, check_when_done);
        }
        return Source.REMOVE;
    }

    bool check_when_done () {
        if (slot.busy || n_pending > 0) {
            return Source.CONTINUE;
        }
        var expected = words.containing (AUTO_WORD);
        bool list_right = shown_query == AUTO_WORD && results.get_n_items () == expected.length;
        for (uint i = 0; list_right && i < expected.length; i++) {
            list_right = results.get_string (i) == expected[i];
        }
        print ("asyncgui-search-vala: typed “%s”: %u searches asked, %u superseded, %u lists shown, final: %u words for “%s”\n",
               AUTO_WORD, n_asked, n_superseded, n_shown, results.get_n_items (), shown_query);
        if (n_stale > 0) {
            printerr ("asyncgui-search-vala: FAILED: %u stale lists shown\n", n_stale);
        }
        if (!list_right) {
            printerr ("asyncgui-search-vala: FAILED: the final list is not that of “%s”\n", AUTO_WORD);
        }
        exit_status = n_stale == 0 && list_right ? 0 : 1;
        application.quit ();
        return Source.REMOVE;
    }
}

class SearchApp : Gtk.Application {
    static bool opt_auto = false;
    const OptionEntry[] OPTIONS = {
        { "auto", 0, 0, OptionArg.NONE, ref opt_auto,
          N_("Type a word letter by letter, check the results and quit"), null },
        { null }
    };
    public int exit_status;

    public SearchApp () {
        Object (application_id: "org.gnome.AsyncGui.SearchVala",
                flags: ApplicationFlags.NON_UNIQUE);
    }

    protected override void activate () {
        var window = new SearchWindow (this);
        window.present ();
        if (opt_auto) {
            window.type_word ();
        }
    }

    /* --auto: the window's verdict is the program's exit status. */
    protected override void shutdown () {
        foreach (unowned Gtk.Window window in get_windows ()) {
            var search = window as SearchWindow;
            if (search != null && search.exit_status != 0) {
                exit_status = search.exit_status;
            }
        }
        base.shutdown ();
    }

    public static int main (string[] args) {
        Intl.setlocale (LocaleCategory.ALL, "");
        Intl.bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
        Intl.bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
        Intl.textdomain (GETTEXT_PACKAGE);

        var context = new OptionContext (null);
        context.set_summary (_("Search a word list as you type; results never go back to an older query."));
        context.add_main_entries (OPTIONS, GETTEXT_PACKAGE);
        try {
            context.parse (ref args);
        } catch (OptionError e) {
            printerr ("%s\n", e.message);
            return 1;
        }

        if (!Gtk.init_check ()) {
            printerr (_("asyncgui-search-vala: cannot open a display; run it under xvfb-run\n"));
            return opt_auto ? EXIT_SKIP : 1;
        }

        var app = new SearchApp ();
        int status = app.run (new string[] { args[0] });
        return status != 0 ? status : app.exit_status;
    }
}
