/* hash-files.vala: hash every file under a directory, in Vala
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The same app as the Python and GJS examples, written with asyncgui's
 * VAPI: a GTK 4 window computes the SHA-256 of every file under a
 * directory (by default a temporary one it fills with a few thousand
 * generated files) while the window stays smooth. The whole run is one
 * sequential Vala async method tied to an AsyncGui.Job:
 *
 *   generate files (worker) → list them (worker) → hash them (MultiTask of
 *   Vala lambdas on worker threads) → show the summary
 *
 * so Pause, Resume and Cancel act on whatever the run is waiting for. The
 * list fills as results arrive (MultiTask::task-done), the progress bar is
 * bound to the MultiTask's progress, and a spinner keeps spinning, which
 * is the visible proof that the GUI thread never blocks.
 *
 * Headless use: `--auto` starts at once, prints a summary (files hashed,
 * elapsed time, the worst gap between two frames) and quits. Without a
 * display it exits 77, which Meson counts as a skip; run it under
 * build-aux/with-display.sh.
 */

[CCode (cheader_filename = "examples-config.h", cname = "LOCALEDIR")]
extern const string LOCALEDIR;
[CCode (cheader_filename = "examples-config.h", cname = "GETTEXT_PACKAGE")]
extern const string GETTEXT_PACKAGE;

const int EXIT_SKIP = 77;

/* Reads a file in blocks on a worker thread; checks @cancellable between
 * blocks so a cancelled run stops reading at once. */
Value? sha256_of_file (string path, Cancellable? cancellable) throws Error {
    var checksum = new Checksum (ChecksumType.SHA256);
    var stream = File.new_for_path (path).read (cancellable);
    var buffer = new uint8[64 * 1024];
    ssize_t n;

    while ((n = stream.read (buffer, cancellable)) > 0) {
        checksum.update (buffer, n);
    }
    stream.close (cancellable);

    var value = Value (typeof (string));
    value.set_string (checksum.get_string ());
    return value;
}

/* Walks @dir on a worker thread, adding the path of every regular file. */
void collect_files (File dir, GenericArray<string> found, Cancellable? cancellable) throws Error {
    var children = dir.enumerate_children (FileAttribute.STANDARD_NAME + "," + FileAttribute.STANDARD_TYPE,
                                           FileQueryInfoFlags.NOFOLLOW_SYMLINKS, cancellable);
    FileInfo? info;

    while ((info = children.next_file (cancellable)) != null) {
        var child = dir.get_child (info.get_name ());
        switch (info.get_file_type ()) {
        case FileType.DIRECTORY:
            collect_files (child, found, cancellable);
            break;
        case FileType.REGULAR:
            found.add (child.get_path ());
            break;
        default:
            break;
        }
    }
}

/* Worker threads writing sample files right now (atomic). The app waits for
 * it to drop to 0 before it removes the files at exit. */
int n_generating;

/* Fills @root with @n_files files of 1 to 32 KiB in 16 subdirectories, on a
 * worker thread. Every file starts with its number, so no two hash alike. */
void fill_sample_dir (string root, uint n_files, Cancellable? cancellable) throws Error {
    AtomicInt.inc (ref n_generating);
    try {
        var random = new Rand.with_seed (42);
        var data = new uint8[32 * 1024];
        for (int j = 0; j < data.length; j++) {
            data[j] = (uint8) random.next_int ();
        }
        for (uint i = 0; i < 16; i++) {
            DirUtils.create (Path.build_filename (root, "%02u".printf (i)), 0700);
        }
        for (uint i = 0; i < n_files; i++) {
            /* Checked before every file, so nothing is written after a
             * cancel: then the app may remove the directory. */
            if (cancellable != null) {
                cancellable.set_error_if_cancelled ();
            }
            int size = random.int_range (1024, data.length + 1);
            Memory.copy (data, &i, sizeof (uint));
            string path = Path.build_filename (root, "%02u".printf (i % 16), "file-%05u.bin".printf (i));
            FileUtils.set_data (path, data[0:size]);
        }
    } finally {
        AtomicInt.add (ref n_generating, -1);
    }
}

void remove_tree (File dir) {
    try {
        var children = dir.enumerate_children (FileAttribute.STANDARD_NAME + "," + FileAttribute.STANDARD_TYPE,
                                               FileQueryInfoFlags.NOFOLLOW_SYMLINKS);
        FileInfo? info;
        while ((info = children.next_file ()) != null) {
            var child = dir.get_child (info.get_name ());
            if (info.get_file_type () == FileType.DIRECTORY) {
                remove_tree (child);
            } else {
                child.delete ();
            }
        }
        dir.delete ();
    } catch (Error e) {
        printerr ("%s\n", e.message);
    }
}

public class HashFiles : Gtk.Application {
    static bool opt_auto;
    static int opt_cancel_after = -1;
    static int opt_cancel_after_results = -1;
    static int opt_files = 3000;
    [CCode (array_length = false, array_null_terminated = true)]
    static string[]? opt_dirs;

    const OptionEntry[] OPTIONS = {
        { "auto", 0, OptionFlags.NONE, OptionArg.NONE, ref opt_auto,
          N_("Start at once, print a summary and quit when done"), null },
        { "cancel-after", 0, OptionFlags.NONE, OptionArg.INT, ref opt_cancel_after,
          N_("Cancel the run after MS milliseconds (implies --auto)"), N_("MS") },
        { "cancel-after-results", 0, OptionFlags.NONE, OptionArg.INT, ref opt_cancel_after_results,
          N_("Cancel the run once N results are listed (implies --auto)"), N_("N") },
        { "files", 0, OptionFlags.NONE, OptionArg.INT, ref opt_files,
          N_("How many files to generate when no directory is given"), N_("N") },
        { OPTION_REMAINING, 0, OptionFlags.NONE, OptionArg.FILENAME_ARRAY, ref opt_dirs,
          null, N_("[DIRECTORY]") },
        { null }
    };

    AsyncGui.Engine engine;
    AsyncGui.Job? job;
    /* The temporary directories this app made, removed at exit, and the
     * one whose generation finished, reused by the next run. */
    string[] made_dirs;
    string? sample_dir;
    int exit_status;

    Gtk.ApplicationWindow window;
    Gtk.Label status;
    Gtk.ProgressBar progress;
    Gtk.Spinner spinner;
    Gtk.Button start_button;
    Gtk.ToggleButton pause_button;
    Gtk.Button cancel_button;
    Gtk.StringList results;

    /* Frame-clock ticker: gaps are only recorded while a run is in progress. */
    bool running;
    int64 started_us;
    int64 last_frame_us;
    int64 worst_gap_us;
    uint n_frames;
    uint frames_before_start;

    public HashFiles () {
        /* Headless runs may overlap (tests, CI): no single-instance name. */
        Object (application_id: "org.gnome.AsyncGui.HashFiles.Vala",
                flags: ApplicationFlags.NON_UNIQUE);
        engine = AsyncGui.Engine.get_default ();
    }

    protected override void activate () {
        window = new Gtk.ApplicationWindow (this);
        window.title = _("Hash files (Vala)");
        window.set_default_size (720, 520);

        var box = new Gtk.Box (Gtk.Orientation.VERTICAL, 8);
        box.margin_top = box.margin_bottom = box.margin_start = box.margin_end = 12;

        string where = opt_dirs != null && opt_dirs[0] != null
            ? _("Directory: %s").printf (opt_dirs[0])
            : ngettext ("Directory: a temporary one with %d generated file",
                        "Directory: a temporary one with %d generated files",
                        opt_files).printf (opt_files);
        var intro = new Gtk.Label (where);
        intro.xalign = 0;
        intro.ellipsize = Pango.EllipsizeMode.MIDDLE;
        box.append (intro);

        var row = new Gtk.Box (Gtk.Orientation.HORIZONTAL, 8);
        spinner = new Gtk.Spinner ();
        spinner.spinning = true;
        row.append (spinner);
        status = new Gtk.Label (_("Press Start to hash the files in worker threads."));
        status.xalign = 0;
        status.hexpand = true;
        status.ellipsize = Pango.EllipsizeMode.END;
        row.append (status);
        start_button = new Gtk.Button.with_mnemonic (_("_Start"));
        start_button.clicked.connect (start_run);
        row.append (start_button);
        pause_button = new Gtk.ToggleButton.with_mnemonic (_("_Pause"));
        pause_button.sensitive = false;
        pause_button.toggled.connect (on_pause_toggled);
        row.append (pause_button);
        cancel_button = new Gtk.Button.with_mnemonic (_("_Cancel"));
        cancel_button.sensitive = false;
        cancel_button.clicked.connect (() => job.cancel ());
        row.append (cancel_button);
        box.append (row);

        progress = new Gtk.ProgressBar ();
        progress.show_text = true;
        box.append (progress);

        results = new Gtk.StringList (null);
        var factory = new Gtk.SignalListItemFactory ();
        factory.setup.connect ((item) => {
            var label = new Gtk.Label (null);
            label.xalign = 0;
            label.ellipsize = Pango.EllipsizeMode.MIDDLE;
            label.add_css_class ("monospace");
            ((Gtk.ListItem) item).child = label;
        });
        factory.bind.connect ((item) => {
            var list_item = (Gtk.ListItem) item;
            ((Gtk.Label) list_item.child).label = ((Gtk.StringObject) list_item.item).string;
        });
        var list = new Gtk.ListView (new Gtk.NoSelection (results), factory);
        var scrolled = new Gtk.ScrolledWindow ();
        scrolled.vexpand = true;
        scrolled.child = list;
        box.append (scrolled);

        window.child = box;
        window.add_tick_callback (on_frame);
        window.present ();
    }

    bool on_frame (Gtk.Widget widget, Gdk.FrameClock clock) {
        int64 now = clock.get_frame_time ();

        if (running) {
            if (last_frame_us != 0) {
                worst_gap_us = int64.max (worst_gap_us, now - last_frame_us);
            }
            n_frames++;
        }
        last_frame_us = now;

        /* In --auto mode the run starts once a few frames are on screen, so
         * the window's first drawing (fonts, shaders) is not counted. */
        if (opt_auto && job == null && ++frames_before_start >= 3) {
            start_run ();
        }
        return Source.CONTINUE;
    }

    void on_pause_toggled () {
        if (job == null || job.is_finished ()) {
            return;
        }
        /* Workers finish what they hold, but the job sees nothing until it
         * is resumed; the spinner shows the window is still alive. */
        if (pause_button.active && !job.paused) {
            job.pause ();
            progress.text = _("Paused");
        } else if (!pause_button.active && job.paused) {
            job.resume ();
            progress.text = null;
        }
    }

    /* Starting never blocks: hash_all() runs until its first await and the
     * rest happens as results arrive. */
    void start_run () {
        results.splice (0, results.get_n_items (), null);
        progress.fraction = 0;
        worst_gap_us = 0;
        n_frames = 0;
        last_frame_us = 0;
        started_us = get_monotonic_time ();
        running = true;
        start_button.sensitive = false;
        pause_button.sensitive = true;
        pause_button.active = false;
        cancel_button.sensitive = true;

        job = new AsyncGui.Job (engine);
        var this_job = job;
        hash_all.begin (this_job, (obj, res) => {
            try {
                this_job.return_value (hash_all.end (res));
            } catch (Error e) {
                this_job.return_error (e);
            }
            finish_run (this_job);
        });

        if (opt_cancel_after >= 0) {
            Timeout.add (opt_cancel_after, () => {
                this_job.cancel ();
                return Source.REMOVE;
            });
        }
    }

    /* The run, read top to bottom. Each `yield job.await (...)` lets the
     * window live on until that step is done; pausing holds the job at its
     * next await, cancelling fails that await with IOError.CANCELLED. */
    async uint hash_all (AsyncGui.Job job) throws Error {
        string root;

        if (opt_dirs != null && opt_dirs[0] != null) {
            root = opt_dirs[0];
        } else if (sample_dir != null) {
            root = sample_dir;
        } else {
            status.label = ngettext ("Generating %d file…", "Generating %d files…",
                                     opt_files).printf (opt_files);
            /* Made here, not on the worker, so the app knows every
             * directory to remove even if the run is cancelled. */
            root = DirUtils.make_tmp ("asyncgui-hash-XXXXXX");
            made_dirs += root;
            uint n = (uint) opt_files;
            var generate = new AsyncGui.Task ((task, cancellable) => {
                try {
                    fill_sample_dir (root, n, cancellable);
                    task.return_boolean (true);
                } catch (Error e) {
                    task.return_error (e);
                }
            });
            yield job.await (generate);
            sample_dir = root;
        }

        status.label = _("Listing files…");
        var found = new GenericArray<string> ();
        var list = new AsyncGui.Task ((task, cancellable) => {
            try {
                collect_files (File.new_for_commandline_arg (root), found, cancellable);
                task.return_int (found.length);
            } catch (Error e) {
                task.return_error (e);
            }
        });
        yield job.await (list);

        /* One child per file, made by position: nothing per file up front,
         * and the lambda runs on worker threads, several at once. */
        string[] paths = found.data;
        var hashes = new AsyncGui.MultiTask.map_range (paths.length, (chunk, position) => {
            try {
                chunk.return_value (sha256_of_file (paths[position], chunk.get_cancellable ()));
            } catch (Error e) {
                chunk.return_error (e);
            }
        });
        /* Announce each file as it is done, not in list order. */
        hashes.unordered = true;
        /* A file that cannot be read is listed as failed; the rest go on. */
        hashes.skip_errors = true;
        hashes.task_done.connect ((multi, position) => {
            Value hash;
            string name = paths[position].substring (root.length).offset (1);
            try {
                multi.get_child_value (position, out hash);
                results.append ("%.16s…  %s".printf (hash.get_string (), name));
            } catch (Error e) {
                results.append (_("failed: %s: %s").printf (name, e.message));
            }
            if (results.get_n_items () == opt_cancel_after_results) {
                job.cancel ();
            }
        });
        hashes.bind_property ("progress", progress, "fraction", BindingFlags.SYNC_CREATE);
        status.label = ngettext ("Hashing %d file…", "Hashing %d files…",
                                 paths.length).printf (paths.length);

        var values = yield job.await (hashes);
        return ((Array<Value>) values.get_boxed ()).length;
    }

    void finish_run (AsyncGui.Job finished) {
        uint elapsed_ms = (uint) ((get_monotonic_time () - started_us) / 1000);
        running = false;
        start_button.sensitive = true;
        pause_button.sensitive = false;
        pause_button.active = false;
        cancel_button.sensitive = false;
        progress.text = null;
        progress.fraction = finished.state == AsyncGui.TaskState.SUCCEEDED ? 1.0 : progress.fraction;

        string text;
        switch (finished.state) {
        case AsyncGui.TaskState.SUCCEEDED:
            uint n = finished.get_value ().get_uint ();
            text = ngettext ("Hashed %u file in %u ms.", "Hashed %u files in %u ms.", n)
                .printf (n, elapsed_ms);
            break;
        case AsyncGui.TaskState.CANCELLED:
            text = ngettext ("Cancelled after %u result (%u ms).",
                             "Cancelled after %u results (%u ms).", results.get_n_items ())
                .printf (results.get_n_items (), elapsed_ms);
            break;
        default:
            text = _("Failed: %s").printf (finished.get_error ().message);
            exit_status = 1;
            break;
        }
        status.label = text;

        if (opt_auto) {
            print ("asyncgui-hash-files-vala: %s %u results listed, %u frames, worst frame gap %.1f ms\n",
                   text, results.get_n_items (), n_frames, worst_gap_us / 1000.0);
            if (opt_cancel_after < 0 && opt_cancel_after_results < 0) {
                window.close ();
            } else if (finished.state != AsyncGui.TaskState.CANCELLED) {
                printerr ("asyncgui-hash-files-vala: the run was not cancelled\n");
                exit_status = 1;
                window.close ();
            } else {
                /* A cancelled run shows nothing late: workers still busy
                 * when it was cancelled must not add to the list. */
                uint listed = results.get_n_items ();
                Timeout.add (300, () => {
                    if (results.get_n_items () != listed) {
                        printerr ("asyncgui-hash-files-vala: %u results arrived after the cancel\n",
                                  results.get_n_items () - listed);
                        exit_status = 1;
                    }
                    window.close ();
                    return Source.REMOVE;
                });
            }
        }
    }

    public override void shutdown () {
        if (job != null && !job.is_finished ()) {
            job.cancel ();
        }
        base.shutdown ();
    }

    public static int main (string[] args) {
        Intl.setlocale (LocaleCategory.ALL, "");
        Intl.bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
        Intl.bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
        Intl.textdomain (GETTEXT_PACKAGE);

        var context = new OptionContext (null);
        context.set_summary (_("Compute the SHA-256 of every file under DIRECTORY in worker threads while the window stays responsive."));
        context.add_main_entries (OPTIONS, GETTEXT_PACKAGE);
        try {
            context.parse (ref args);
        } catch (OptionError e) {
            printerr ("%s\n", e.message);
            return 1;
        }
        if (opt_cancel_after >= 0 || opt_cancel_after_results >= 0) {
            opt_auto = true;
        }

        if (!Gtk.init_check ()) {
            printerr (_("asyncgui-hash-files-vala: cannot open a display; run it under xvfb-run\n"));
            return opt_auto ? EXIT_SKIP : 1;
        }

        var app = new HashFiles ();
        int status = app.run (new string[] { args[0] });
        if (app.exit_status != 0) {
            status = app.exit_status;
        }
        /* shutdown() cancelled the run: a generating worker writes nothing
         * more once it sees that, so wait for it, then clean up. */
        for (int waited_ms = 0; AtomicInt.get (ref n_generating) > 0 && waited_ms < 5000; waited_ms++) {
            Thread.usleep (1000);
        }
        foreach (unowned string dir in app.made_dirs) {
            remove_tree (File.new_for_path (dir));
        }
        return status;
    }
}
