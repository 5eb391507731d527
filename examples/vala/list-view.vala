/* list-view.vala: a GtkListView bound to a MultiTask, in Vala
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The same app as the C, Python and GJS examples. An AsyncGui.MultiTask is
 * a GLib.ListModel of its children, which are AsyncGui.Task objects, one
 * row each. A child's state property is notified when it ends, its value
 * (or error) set by then, so the factory's bind handler shows the row now
 * and connects to notify["state"] to show its value, or why it failed,
 * when it ends; unbind disconnects, since GTK reuses row widgets for
 * other rows as the view scrolls. Rows whose task has not finished show
 * "…".
 *
 * Headless use: `--auto` quits once every row on screen shows its value,
 * printing the text of each row widget. It fails (exit status 1) if a row
 * does not show its own value, if no frame ever showed some values while
 * others were still coming, or if rows still wait after the run ended.
 * Without a display it exits 77, which Meson counts as a skip; run it
 * under build-aux/with-display.sh.
 */

[CCode (cheader_filename = "examples-config.h", cname = "LOCALEDIR")]
extern const string LOCALEDIR;
[CCode (cheader_filename = "examples-config.h", cname = "GETTEXT_PACKAGE")]
extern const string GETTEXT_PACKAGE;

const int EXIT_SKIP = 77;
const string PENDING = "…";
const ulong DELAY_US = 30 * 1000;
/* Once the run has ended, the rows on screen must show their values by
 * the next frames; this is only a bound for a loaded machine. */
const int64 SETTLE_DEADLINE_US = 10 * TimeSpan.SECOND;

/* A task that runs on a worker thread: no GTK there. */
AsyncGui.Task make_measurement (uint index) {
    return new AsyncGui.Task ((task, cancellable) => {
        Thread.usleep (DELAY_US);
        task.return_string ("%u² = %u".printf (index, index * index));
    });
}

string row_text (AsyncGui.Task row) {
    switch (row.state) {
    case AsyncGui.TaskState.SUCCEEDED:
        return row.get_value ().get_string ();
    case AsyncGui.TaskState.FAILED:
    case AsyncGui.TaskState.CANCELLED:
        return row.get_error ().message;
    default:
        return PENDING;
    }
}

const string ROW_CLASS = "row-value";

/* A row widget shows the value of the row it is bound to, now and when it
 * ends: bind connects to the row's notify["state"] and keeps the handler
 * on the list item, for unbind. */
void setup_row (Object item) {
    var label = new Gtk.Label (null) { xalign = 0 };
    label.add_css_class (ROW_CLASS);
    ((Gtk.ListItem) item).child = label;
}

void bind_row (Object item) {
    var list_item = (Gtk.ListItem) item;
    var row = (AsyncGui.Task) list_item.item;
    var label = (Gtk.Label) list_item.child;
    ulong handler = row.notify["state"].connect (() => label.label = row_text (row));
    list_item.set_data<ulong> ("value-handler", handler);
    label.label = row_text (row);
}

void unbind_row (Object item) {
    var list_item = (Gtk.ListItem) item;
    ulong handler = list_item.steal_data<ulong> ("value-handler");
    if (handler != 0) {
        list_item.item.disconnect (handler);
    }
}

class ValuesWindow : Gtk.ApplicationWindow {
    AsyncGui.MultiTask multi = new AsyncGui.MultiTask ();
    Gtk.ListView view;
    Gtk.Label status;
    int count;
    bool done = false;
    int64 done_at = 0;
    bool saw_mixed = false;
    public int exit_status;

    public ValuesWindow (Gtk.Application app, int count) {
        Object (application: app, title: _("Values as they arrive — asyncgui (Vala)"),
                default_width: 480, default_height: 640);
        this.count = count;
        multi.max_workers = 2;
        for (int i = 0; i < count; i++) {
            multi.add (make_measurement (i));
        }

        var factory = new Gtk.SignalListItemFactory ();
        factory.setup.connect ((f, item) => setup_row (item));
        factory.bind.connect ((f, item) => bind_row (item));
        factory.unbind.connect ((f, item) => unbind_row (item));
        view = new Gtk.ListView (new Gtk.NoSelection (multi), factory);

        status = new Gtk.Label (_("Measuring %d values…").printf (count)) { xalign = 0 };
        var box = new Gtk.Box (Gtk.Orientation.VERTICAL, 8) {
            margin_top = 12, margin_bottom = 12, margin_start = 12, margin_end = 12
        };
        box.append (status);
        box.append (new Gtk.ScrolledWindow () { child = view, vexpand = true });
        child = box;
    }

    /* The very run the list view shows: its value is the rows' values. */
    public async void start () {
        try {
            yield AsyncGui.Engine.get_default ().run (multi);
            uint sum = 0;
            foreach (unowned Value value in multi.get_values ().data) {
                sum += (uint) uint64.parse (value.get_string ().split (" = ")[1]);
            }
            status.label = _("Done: the squares add up to %u").printf (sum);
        } catch (Error e) {
            status.label = e.message;
            exit_status = 1;
        }
        done = true;
        done_at = get_monotonic_time ();
    }

    /* The texts of the row widgets the list view shows. */
    string[] row_texts () {
        string[] texts = {};
        for (var widget = view.get_first_child (); widget != null; widget = widget.get_next_sibling ()) {
            var child = widget.get_first_child ();
            if (child != null && child.has_css_class (ROW_CLASS)) {
                texts += ((Gtk.Label) child).label;
            }
        }
        return texts;
    }

    /* Each row shows its own value: row i says "i² = i·i", each once. */
    bool show_values (string[] texts) {
        var seen = new GenericSet<string> (str_hash, str_equal);
        foreach (unowned string text in texts) {
            uint index, square;
            if (text.scanf ("%u² = %u", out index, out square) != 2 || index >= count ||
                square != index * index || "%u² = %u".printf (index, square) != text ||
                text in seen) {
                return false;
            }
            seen.add (text);
        }
        return texts.length > 0;
    }

    /* --auto: watches every frame, then checks the rows once the run ended. */
    public void check () {
        add_tick_callback (() => {
            var texts = row_texts ();
            if (PENDING in texts) {
                foreach (unowned string text in texts) {
                    if (text != PENDING) {
                        saw_mixed = true;
                    }
                }
            }
            return Source.CONTINUE;
        });
        Timeout.add (50, () => {
            if (!done) {
                return Source.CONTINUE;
            }
            var texts = row_texts ();
            bool late = get_monotonic_time () - done_at > SETTLE_DEADLINE_US;
            if ((texts.length == 0 || PENDING in texts) && !late) {
                return Source.CONTINUE;
            }
            foreach (unowned string text in texts) {
                print ("%s\n", text);
            }
            if (!show_values (texts)) {
                printerr ("asyncgui-list-view-vala: FAILED: the rows do not all show their values%s\n",
                          late ? " after the run ended" : "");
                exit_status = 1;
            }
            if (!saw_mixed) {
                printerr ("asyncgui-list-view-vala: FAILED: no frame showed values while others were still coming\n");
                exit_status = 1;
            }
            application.quit ();
            return Source.REMOVE;
        });
    }
}

class ListViewApp : Gtk.Application {
    static bool opt_auto = false;
    static int opt_count = 24;
    const OptionEntry[] OPTIONS = {
        { "auto", 0, 0, OptionArg.NONE, ref opt_auto,
          N_("Check that the rows show their values, print them and quit"), null },
        { "count", 0, 0, OptionArg.INT, ref opt_count, N_("How many values to measure"), "N" },
        { null }
    };
    public int exit_status;

    public ListViewApp () {
        Object (application_id: "org.gnome.AsyncGui.ListViewVala",
                flags: ApplicationFlags.NON_UNIQUE);
    }

    protected override void activate () {
        var window = new ValuesWindow (this, int.max (opt_count, 1));
        window.present ();
        window.start.begin ();
        if (opt_auto) {
            window.check ();
        }
    }

    /* --auto: the window's verdict is the program's exit status. */
    protected override void shutdown () {
        foreach (unowned Gtk.Window window in get_windows ()) {
            var values = window as ValuesWindow;
            if (values != null && values.exit_status != 0) {
                exit_status = values.exit_status;
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
        context.set_summary (_("Show a MultiTask in a list view, each row's value as it arrives."));
        context.add_main_entries (OPTIONS, GETTEXT_PACKAGE);
        try {
            context.parse (ref args);
        } catch (OptionError e) {
            printerr ("%s\n", e.message);
            return 1;
        }

        if (!Gtk.init_check ()) {
            printerr (_("asyncgui-list-view-vala: cannot open a display; run it under xvfb-run\n"));
            return opt_auto ? EXIT_SKIP : 1;
        }

        var app = new ListViewApp ();
        int status = app.run (new string[] { args[0] });
        return status != 0 ? status : app.exit_status;
    }
}
