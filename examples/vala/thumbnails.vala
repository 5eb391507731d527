/* thumbnails.vala: previews of untrusted files through sandboxed workers, in Vala
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The same app as the C, Python and GJS examples, with the C example's
 * worker module (examples/c/thumbnailer-worker.c). A grid shows one tile
 * per file; each preview is one call of the module in a sandboxed worker
 * process:
 *
 *     var task = new AsyncGui.WorkerTask.c (module, "thumbnailer_image",
 *                                           new Variant ("(hu)", 0, 128));
 *     task.add_file (file);      // opened here; the worker reads the descriptor
 *     task.sandboxed = true;
 *     task.result_type = new VariantType ("(uuay)");
 *     task.memory_limit = …; task.cpu_limit_ms = …;
 *     Value? value = yield engine.run (task);
 *
 * Binary PGM/PPM images show a thumbnail, other files their first lines
 * as text, and a file that cannot be previewed says why in its tile, while
 * the others render. The window keeps drawing: every pending tile has a
 * spinner.
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

[CCode (cheader_filename = "examples-config.h", cname = "LOCALEDIR")]
extern const string LOCALEDIR;
[CCode (cheader_filename = "examples-config.h", cname = "GETTEXT_PACKAGE")]
extern const string GETTEXT_PACKAGE;
/* Where the module is installed; --module names another. */
[CCode (cname = "THUMBNAILER_MODULE")]
extern const string THUMBNAILER_MODULE;

const int EXIT_SKIP = 77;
const int THUMBNAIL_SIZE = 128;
const int TEXT_LINES = 6;
/* Per call. Address space, not resident memory: the C worker needs a few
 * dozen MiB of it before it reads anything. */
const uint64 MEMORY_LIMIT = 256 * 1024 * 1024;
const int CPU_LIMIT_MS = 10000;
/* --auto: bounds for a loaded machine, not expectations. */
const int64 AUTO_DEADLINE_US = 120 * TimeSpan.SECOND;
const int64 MAX_FRAME_GAP_US = TimeSpan.SECOND;
const uint MIN_FRAMES_WHILE_PENDING = 10;

/* One file: a spinner until its preview comes, then the thumbnail, the
 * text or why there is neither. */
class Tile : Gtk.Box {
    public File file { get; construct; }
    /* For --auto: "image WxH", "text …" or "error …"; null while pending. */
    public string? outcome = null;
    public Gtk.Stack stack;
    public Gtk.Picture picture;
    Gtk.Label text;
    Gtk.Label error_label;

    public Tile (File file) {
        Object (file: file, orientation: Gtk.Orientation.VERTICAL, spacing: 6);
    }

    construct {
        stack = new Gtk.Stack ();
        stack.set_size_request (THUMBNAIL_SIZE, THUMBNAIL_SIZE);
        var spinner = new Gtk.Spinner ();
        spinner.spinning = true;
        spinner.halign = spinner.valign = Gtk.Align.CENTER;
        picture = new Gtk.Picture ();
        picture.can_shrink = false;
        text = new Gtk.Label (null);
        text.xalign = 0;
        text.yalign = 0;
        text.max_width_chars = 18;
        text.ellipsize = Pango.EllipsizeMode.END;
        text.add_css_class ("monospace");
        text.add_css_class ("caption");
        error_label = new Gtk.Label (null);
        error_label.wrap = true;
        error_label.max_width_chars = 16;
        error_label.justify = Gtk.Justification.CENTER;
        error_label.add_css_class ("error");
        stack.add_child (spinner);
        stack.add_child (picture);
        stack.add_child (text);
        stack.add_child (error_label);
        stack.visible_child = spinner;
        var name = new Gtk.Label (file.get_basename ());
        name.max_width_chars = 16;
        name.ellipsize = Pango.EllipsizeMode.MIDDLE;
        append (stack);
        append (name);
    }

    /* The value passed its result type, so its shape is right; its numbers
     * are the worker's word, and checked like any input. */
    void show_image (Variant value) {
        uint32 width, height;
        Variant pixels;
        value.get ("(uu@ay)", out width, out height, out pixels);
        if (width == 0 || height == 0 || width > THUMBNAIL_SIZE || height > THUMBNAIL_SIZE ||
            pixels.get_size () != (size_t) width * height * 3) {
            show_error ("bad-thumbnail", _("The worker sent a thumbnail of a wrong size"), "");
            return;
        }
        var texture = new Gdk.MemoryTexture ((int) width, (int) height, Gdk.MemoryFormat.R8G8B8,
                                             pixels.get_data_as_bytes (), width * 3);
        picture.paintable = texture;
        stack.visible_child = picture;
        outcome = "image %ux%u".printf (width, height);
    }

    void show_text (Variant value) {
        text.label = value.get_string ();
        stack.visible_child = text;
        outcome = "text " + value.get_string ();
    }

    void show_error (string name, string message, string details) {
        error_label.label = message;
        error_label.tooltip_text = details;
        stack.visible_child = error_label;
        outcome = "error " + name;
    }

    /* (short name for --auto, text for the tile) of a failure. */
    static void describe (GLib.Error e, out string name, out string message) {
        if (e.domain == Quark.from_string (Thumbnailer.ERROR_DOMAIN)) {
            switch ((Thumbnailer.Error) e.code) {
            case Thumbnailer.Error.NOT_AN_IMAGE:
                name = "not-an-image";
                message = _("Not an image");
                return;
            case Thumbnailer.Error.TRUNCATED:
                name = "truncated";
                message = _("The image is truncated");
                return;
            case Thumbnailer.Error.TOO_LARGE:
                name = "too-large";
                message = _("Too large to preview");
                return;
            case Thumbnailer.Error.NOT_TEXT:
                name = "not-text";
                message = _("Neither an image nor text");
                return;
            default:
                break;
            }
        } else if (e is AsyncGui.Error.MEMORY_LIMIT) {
            name = "memory-limit";
            message = _("The worker went past its memory limit");
            return;
        } else if (e is AsyncGui.Error.CPU_LIMIT) {
            name = "cpu-limit";
            message = _("The worker went past its processor-time limit");
            return;
        } else if (e is AsyncGui.Error.WORKER_CRASHED) {
            name = "worker-crashed";
            message = _("The worker crashed on this file");
            return;
        }
        name = e.message;
        message = e.message;
    }

    /* One sandboxed call: the file is opened here, by the application, and
     * the worker, which sees none of the user's files, reads it. */
    public async void preview (string module) {
        string basename = file.get_basename ();
        bool image = basename.has_suffix (".ppm") || basename.has_suffix (".pgm") ||
                     basename.has_suffix (".pnm");
        /* The first descriptor added is handle 0. */
        var task = new AsyncGui.WorkerTask.c (module, image ? "thumbnailer_image" : "thumbnailer_text",
                                              new Variant ("(hu)", 0, image ? THUMBNAIL_SIZE : TEXT_LINES));
        try {
            task.add_file (file);
            task.sandboxed = true;
            task.result_type = new VariantType (image ? Thumbnailer.IMAGE_TYPE : Thumbnailer.TEXT_TYPE);
            task.memory_limit = MEMORY_LIMIT;
            task.cpu_limit_ms = CPU_LIMIT_MS;
            Value? value = yield AsyncGui.Engine.get_default ().run (task);
            if (image) {
                show_image (value.dup_variant ());
            } else {
                show_text (value.dup_variant ());
            }
        } catch (GLib.Error e) {
            string name, message;
            describe (e, out name, out message);
            show_error (name, message, e.message);
        }
    }
}

class ThumbnailsWindow : Gtk.ApplicationWindow {
    public Tile[] tiles;

    public ThumbnailsWindow (Gtk.Application app, File[] files) {
        Object (application: app, title: _("Previews in a sandbox — asyncgui (Vala)"),
                default_width: 720, default_height: 480);
        var flow = new Gtk.FlowBox ();
        flow.selection_mode = Gtk.SelectionMode.NONE;
        flow.homogeneous = true;
        flow.column_spacing = flow.row_spacing = 12;
        flow.margin_top = flow.margin_bottom = flow.margin_start = flow.margin_end = 12;
        flow.valign = Gtk.Align.START;
        foreach (var file in files) {
            var tile = new Tile (file);
            tiles += tile;
            flow.append (tile);
        }
        child = new Gtk.ScrolledWindow () { child = flow };
    }

    public bool pending () {
        foreach (var tile in tiles) {
            if (tile.outcome == null) {
                return true;
            }
        }
        return false;
    }
}

class ThumbnailsApp : Gtk.Application {
    static bool opt_auto = false;
    static string? opt_module = null;
    const OptionEntry[] OPTIONS = {
        { "auto", 0, 0, OptionArg.NONE, ref opt_auto,
          N_("Preview a set of good and hostile files of its own, check every tile and quit"), null },
        { "module", 0, 0, OptionArg.FILENAME, ref opt_module,
          N_("The worker module with the parsers"), N_("PATH") },
        { null }
    };
    public int exit_status = 0;
    public HashTable<string, string> expected = new HashTable<string, string> (str_hash, str_equal);
    ThumbnailsWindow? window = null;
    int64 started;
    int64 last_frame = 0;
    int64 worst_gap = 0;
    uint frames_while_pending = 0;

    public ThumbnailsApp () {
        Object (application_id: "org.gnome.AsyncGui.ThumbnailsVala",
                flags: ApplicationFlags.NON_UNIQUE | ApplicationFlags.HANDLES_OPEN);
    }

    protected override void open (File[] files, string hint) {
        string module = opt_module ?? THUMBNAILER_MODULE;
        var pool = AsyncGui.Engine.get_default ().get_worker_pool ();
        /* The worker loads the module from inside the sandbox, which shows
         * it /usr and the folders named here. */
        pool.sandbox_paths = { Path.get_dirname (module) };
        try {
            pool.check_sandbox ();
        } catch (GLib.Error e) {
            printerr (_("asyncgui-thumbnails-vala: no sandbox: %s\n"), e.message);
            /* A test of the example must not pass unprotected; a user still
             * sees the error in every tile. */
            if (opt_auto) {
                exit_status = 1;
                return;
            }
        }

        window = new ThumbnailsWindow (this, files);
        window.present ();
        started = get_monotonic_time ();
        if (opt_auto) {
            window.add_tick_callback (on_tick);
        }
        foreach (var tile in window.tiles) {
            tile.preview.begin (module);
        }
    }

    /* --auto: the frame clock ticks while a spinner turns; a gap between
     * two ticks is time the GUI thread did not draw. */
    bool on_tick (Gtk.Widget widget, Gdk.FrameClock clock) {
        int64 now = get_monotonic_time ();
        if (window.pending ()) {
            if (last_frame != 0) {
                worst_gap = int64.max (worst_gap, now - last_frame);
            }
            frames_while_pending++;
            last_frame = now;
            if (now - started < AUTO_DEADLINE_US) {
                return Source.CONTINUE;
            }
            printerr ("asyncgui-thumbnails-vala: FAILED: previews still pending after %d s\n",
                      (int) (AUTO_DEADLINE_US / TimeSpan.SECOND));
            exit_status = 1;
        } else {
            check ();
        }
        quit ();
        return Source.REMOVE;
    }

    void check () {
        foreach (var tile in window.tiles) {
            string name = tile.file.get_basename ();
            string? wanted = expected[tile.file.get_path ()];
            bool right = tile.outcome == wanted;
            if (right && tile.outcome.has_prefix ("image ")) {
                /* A thumbnail must also be what the tile draws. */
                var paintable = tile.picture.paintable;
                right = paintable != null && tile.stack.visible_child == tile.picture &&
                        "image %dx%d".printf (paintable.get_intrinsic_width (),
                                              paintable.get_intrinsic_height ()) == tile.outcome;
            }
            print ("%-20s %s\n", name, tile.outcome.escape ());
            if (!right) {
                printerr ("asyncgui-thumbnails-vala: FAILED: %s shows “%s”, not “%s”\n",
                          name, tile.outcome, wanted);
                exit_status = 1;
            }
        }
        print ("asyncgui-thumbnails-vala: %u frames while previews were pending, worst gap %.1f ms\n",
               frames_while_pending, worst_gap / 1000.0);
        if (frames_while_pending < MIN_FRAMES_WHILE_PENDING || worst_gap > MAX_FRAME_GAP_US) {
            printerr ("asyncgui-thumbnails-vala: FAILED: the window did not keep drawing\n");
            exit_status = 1;
        }
    }

    static uint8[] pnm (char kind, int width, int height, uint keep = uint.MAX) {
        int channels = kind == '6' ? 3 : 1;
        var image = new ByteArray ();
        image.append ("P%c\n# made by asyncgui-thumbnails-vala --auto\n%d %d\n255\n".printf (kind, width, height).data);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                uint8 pixel[3] = { (uint8) (x * 255 / (width - 1)), (uint8) (y * 255 / (height - 1)), 128 };
                image.append (pixel[0:channels]);
            }
        }
        image.set_size (uint.min (keep, image.len));
        /* A copy: the array is the byte array's. */
        return image.data;
    }

    static void write (string folder, string name, uint8[] data, int64 sparse_length = 0) throws GLib.Error {
        string path = Path.build_filename (folder, name);
        FileUtils.set_data (path, data);
        /* A file of this length that takes no disk: the rest reads as zeros. */
        if (sparse_length > 0 && Posix.truncate (path, (Posix.off_t) sparse_length) != 0) {
            throw new FileError.FAILED ("%s: %s", path, strerror (errno));
        }
    }

    /* --auto: good and hostile files, each with what its tile must show
     * (the same in the four languages' examples). */
    static string[] make_auto_files (string folder, HashTable<string, string> expected) throws GLib.Error {
        var notes = new StringBuilder ();
        var six = new StringBuilder ();
        for (int i = 1; i <= 12; i++) {
            notes.append_printf ("Line %d of the notes\n", i);
            if (i <= 6) {
                six.append_printf (i < 6 ? "Line %d of the notes\n" : "Line %d of the notes", i);
            }
        }
        write (folder, "gradient.ppm", pnm ('6', 640, 480));
        write (folder, "grey.pgm", pnm ('5', 300, 200));
        write (folder, "notes.txt", notes.str.data);
        /* Hostile: a header that promises 400 × 300 pixels, a third of them. */
        write (folder, "truncated.ppm", pnm ('6', 400, 300, 120000));
        write (folder, "huge-header.ppm", "P6\n60000 60000\n255\n\x01\x02\x03".data);
        /* A PNG by its first bytes, whatever its name says. */
        write (folder, "holiday.ppm", { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, '\r', 'I', 'H', 'D', 'R' });
        /* A line of text, then 8 GiB without a line break. */
        write (folder, "endless.txt", "This line never ends: ".data, (int64) 8 << 30);

        string[] outcomes = {
            "gradient.ppm", "image 128x96",
            "grey.pgm", "image 128x85",
            "notes.txt", "text " + six.str,
            "truncated.ppm", "error truncated",
            "huge-header.ppm", "error too-large",
            "holiday.ppm", "error not-an-image",
            "endless.txt", "error memory-limit",
        };
        string[] paths = {};
        for (int i = 0; i < outcomes.length; i += 2) {
            string path = Path.build_filename (folder, outcomes[i]);
            expected[path] = outcomes[i + 1];
            paths += path;
        }
        return paths;
    }

    static void remove_folder (string folder) {
        try {
            var dir = Dir.open (folder);
            string? name;
            while ((name = dir.read_name ()) != null) {
                FileUtils.unlink (Path.build_filename (folder, name));
            }
        } catch (FileError e) {
            warning ("%s", e.message);
        }
        DirUtils.remove (folder);
    }

    public static int main (string[] args) {
        Intl.setlocale (LocaleCategory.ALL, "");
        Intl.bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
        Intl.bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
        Intl.textdomain (GETTEXT_PACKAGE);

        var context = new OptionContext (_("FILE…"));
        context.set_summary (_("Preview images and text files in sandboxed worker processes."));
        context.add_main_entries (OPTIONS, GETTEXT_PACKAGE);
        try {
            context.parse (ref args);
        } catch (OptionError e) {
            printerr ("%s\n", e.message);
            return 1;
        }

        if (!Gtk.init_check ()) {
            printerr (_("asyncgui-thumbnails-vala: cannot open a display; run it under xvfb-run\n"));
            return opt_auto ? EXIT_SKIP : 1;
        }

        var app = new ThumbnailsApp ();
        /* The engine keeps a worker's error domain only when this process
         * knows it already. */
        Quark.from_string (Thumbnailer.ERROR_DOMAIN);
        string[] run_args = { args[0] };
        string? folder = null;
        if (opt_auto) {
            try {
                folder = DirUtils.make_tmp ("asyncgui-thumbnails-XXXXXX");
                foreach (var path in make_auto_files (folder, app.expected)) {
                    run_args += path;
                }
            } catch (GLib.Error e) {
                printerr ("%s\n", e.message);
                return 1;
            }
        } else {
            for (int i = 1; i < args.length; i++) {
                run_args += args[i];
            }
        }
        if (run_args.length == 1) {
            printerr (_("asyncgui-thumbnails-vala: name the files to preview, or use --auto\n"));
            return 1;
        }
        int status = app.run (run_args);
        if (folder != null) {
            remove_folder (folder);
        }
        return status != 0 ? status : app.exit_status;
    }
}
