// thumbnails.js — previews of untrusted files through sandboxed workers, in GJS.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
//     gjs -m examples/gjs/thumbnails.js FILE… | --auto
//
// The same app as the C, Python and Vala examples. A grid shows one tile
// per file; each preview is one call of an export of thumbnailer.js in a
// sandboxed gjs worker process:
//
//     const task = processTask(THUMBNAILER, 'thumbnail', 128);
//     task.sandboxed = true;
//     task.add_file(file);      // opened here; the worker reads the descriptor
//     task.memory_limit = …; task.cpu_limit_ms = …;
//     const {width, height, pixels} = await run(task);
//
// What comes back is JSON text, parsed as data. Binary PGM/PPM images show
// a thumbnail, other files their first lines as text, and a file that
// cannot be previewed says why in its tile, while the others render. The
// window keeps drawing: every pending tile has a spinner.
//
// --auto makes a folder of files of its own, good and hostile (a truncated
// image, an image whose header claims 60000 × 60000 pixels, a file that is
// not what its name says, a text file of one endless line), previews them
// and checks every tile: thumbnails of the right size, the right error on
// each hostile file, and frames drawn throughout. It fails (exit 1) if one
// is wrong or if the sandbox cannot be used here; 77 without a display.

import Gdk from 'gi://Gdk?version=4.0';
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Gtk from 'gi://Gtk?version=4.0';
import Pango from 'gi://Pango';
import Gettext from 'gettext';
import System from 'system';
import AsyncGui, {run, processTask} from '../../bindings/gjs/asyncgui.js';

const _ = Gettext.domain('asyncgui-examples').gettext;

const PROGRAM = 'asyncgui-thumbnails-gjs';
const THUMBNAILER = GLib.Uri.resolve_relative(import.meta.url, './thumbnailer.js', GLib.UriFlags.NONE);
const THUMBNAIL_SIZE = 128;
const TEXT_LINES = 6;
const IMAGE_SUFFIXES = ['.ppm', '.pgm', '.pnm'];
// Per call. Address space, not resident memory: SpiderMonkey reserves
// about 2 GiB of it as a gjs worker starts, before it reads anything.
const MEMORY_LIMIT = 4 * 1024 ** 3;
// Generous, so that endless.txt always ends at the memory limit: reading
// its one line up to that limit takes 2-6 s of processor time here, more on
// a loaded machine.
const CPU_LIMIT_MS = 30000;
// --auto: bounds for a loaded machine, not expectations.
const AUTO_DEADLINE_MS = 120000;
const MAX_FRAME_GAP_MS = 1000;
const MIN_FRAMES_WHILE_PENDING = 10;

const auto = ARGV.includes('--auto');

// What a tile shows for each failure the worker reports, by the built-in
// class of the error it threw (thumbnailer.js says which is which), and
// the short name --auto checks.
function describe(error, image) {
    if (error instanceof GLib.Error) {
        if (error.matches(AsyncGui.error_quark(), AsyncGui.Error.MEMORY_LIMIT))
            return ['memory-limit', _('The worker went past its memory limit')];
        if (error.matches(AsyncGui.error_quark(), AsyncGui.Error.CPU_LIMIT))
            return ['cpu-limit', _('The worker went past its processor-time limit')];
        if (error.matches(AsyncGui.error_quark(), AsyncGui.Error.WORKER_CRASHED))
            return ['worker-crashed', _('The worker crashed on this file')];
    } else if (error instanceof TypeError) {
        return image ? ['not-an-image', _('Not an image')]
            : ['not-text', _('Neither an image nor text')];
    } else if (error instanceof RangeError) {
        return ['too-large', _('Too large to preview')];
    } else if (error instanceof SyntaxError && image) {
        return ['truncated', _('The image is truncated')];
    }
    return [error.message, error.message];
}

// One file: a spinner until its preview comes, then the thumbnail, the
// text or why there is neither.
class Tile {
    constructor(file) {
        this.file = file;
        this.outcome = null;        // for --auto: 'image WxH', 'text …', 'error …'
        this.stack = new Gtk.Stack({width_request: THUMBNAIL_SIZE, height_request: THUMBNAIL_SIZE});
        this.spinner = new Gtk.Spinner({spinning: true, halign: Gtk.Align.CENTER,
            valign: Gtk.Align.CENTER});
        this.picture = new Gtk.Picture({can_shrink: false});
        this.text = new Gtk.Label({xalign: 0, yalign: 0, max_width_chars: 18,
            ellipsize: Pango.EllipsizeMode.END,
            css_classes: ['monospace', 'caption']});
        this.error = new Gtk.Label({wrap: true, max_width_chars: 16,
            justify: Gtk.Justification.CENTER, css_classes: ['error']});
        for (const child of [this.spinner, this.picture, this.text, this.error])
            this.stack.add_child(child);
        this.stack.set_visible_child(this.spinner);
        this.widget = new Gtk.Box({orientation: Gtk.Orientation.VERTICAL, spacing: 6});
        this.widget.append(this.stack);
        this.widget.append(new Gtk.Label({label: file.get_basename(), max_width_chars: 16,
            ellipsize: Pango.EllipsizeMode.MIDDLE}));
    }

    showImage({width, height, pixels}) {
        // JSON is data, but its numbers are the worker's word: check them.
        const bytes = typeof pixels === 'string' ? GLib.base64_decode(pixels) : null;
        if (!Number.isInteger(width) || !Number.isInteger(height) ||
            !(width > 0 && width <= THUMBNAIL_SIZE && height > 0 && height <= THUMBNAIL_SIZE) ||
            bytes === null || bytes.length !== width * height * 3) {
            this.showError('bad-thumbnail', _('The worker sent a thumbnail of a wrong size'));
            return;
        }
        const texture = Gdk.MemoryTexture.new(width, height, Gdk.MemoryFormat.R8G8B8,
            new GLib.Bytes(bytes), width * 3);
        this.picture.set_paintable(texture);
        this.stack.set_visible_child(this.picture);
        this.outcome = `image ${width}x${height}`;
    }

    showText(text) {
        if (typeof text !== 'string') {
            this.showError('bad-text', _('The worker sent a preview that is not text'));
            return;
        }
        this.text.set_label(text);
        this.stack.set_visible_child(this.text);
        this.outcome = `text ${text}`;
    }

    showError(name, message, details = message) {
        this.error.set_label(message);
        this.error.set_tooltip_text(details);
        this.stack.set_visible_child(this.error);
        this.outcome = `error ${name}`;
    }

    // One sandboxed call: the file is opened here, by the application, and
    // the worker, which sees none of the user's files, reads it.
    async preview() {
        const image = IMAGE_SUFFIXES.some(suffix => this.file.get_basename().endsWith(suffix));
        try {
            const task = image
                ? processTask(THUMBNAILER, 'thumbnail', THUMBNAIL_SIZE)
                : processTask(THUMBNAILER, 'firstLines', TEXT_LINES);
            task.sandboxed = true;
            task.add_file(this.file);
            task.memory_limit = MEMORY_LIMIT;
            task.cpu_limit_ms = CPU_LIMIT_MS;
            const value = await run(task);
            if (image)
                this.showImage(value);
            else
                this.showText(value);
        } catch (e) {
            const [name, message] = describe(e, image);
            this.showError(name, message, e.message);
        }
    }
}

// --auto: good and hostile files, each with what its tile must show (the
// same in the four languages' examples).
function makeAutoFiles(folder) {
    function pnm(kind, width, height, keep = Infinity) {
        const channels = kind === '6' ? 3 : 1;
        const header = new TextEncoder().encode(
            `P${kind}\n# made by thumbnails.js --auto\n${width} ${height}\n255\n`);
        const data = new Uint8Array(header.length + width * height * channels);
        data.set(header);
        let i = header.length;
        for (let y = 0; y < height; y++) {
            for (let x = 0; x < width; x++) {
                const pixel = [Math.floor(x * 255 / (width - 1)), Math.floor(y * 255 / (height - 1)), 128];
                for (let c = 0; c < channels; c++)
                    data[i++] = pixel[c];
            }
        }
        return data.subarray(0, Math.min(keep, data.length));
    }
    const bytes = text => new TextEncoder().encode(text);

    const notes = Array.from({length: 12}, (_x, i) => `Line ${i + 1} of the notes\n`);
    const files = [
        ['gradient.ppm', pnm('6', 640, 480), 'image 128x96'],
        ['grey.pgm', pnm('5', 300, 200), 'image 128x85'],
        ['notes.txt', bytes(notes.join('')), `text ${notes.slice(0, 6).join('').slice(0, -1)}`],
        // A header that promises 400 × 300 pixels, a third of them.
        ['truncated.ppm', pnm('6', 400, 300, 120000), 'error truncated'],
        ['huge-header.ppm', new Uint8Array([...bytes('P6\n60000 60000\n255\n'), 1, 2, 3]),
            'error too-large'],
        // A PNG by its first bytes, whatever its name says.
        ['holiday.ppm', new Uint8Array([0x89, ...bytes('PNG\r\n'), 0x1a, 0x0a, 0, 0, 0, 13,
            ...bytes('IHDR')]), 'error not-an-image'],
        ['endless.txt', bytes('This line never ends: '), 'error memory-limit'],
    ];
    const expected = new Map();
    for (const [name, data, outcome] of files) {
        const path = GLib.build_filenamev([folder, name]);
        GLib.file_set_contents(path, data);
        if (name === 'endless.txt') {
            // 8 GiB without a line break, which take no disk: the rest of
            // a sparse file reads as zeros.
            const stream = Gio.File.new_for_path(path).append_to(Gio.FileCreateFlags.NONE, null);
            stream.truncate(8 * 1024 ** 3, null);
            stream.close(null);
        }
        expected.set(path, outcome);
    }
    return expected;
}

function removeFolder(folder) {
    const dir = Gio.File.new_for_path(folder);
    const children = dir.enumerate_children('standard::name', Gio.FileQueryInfoFlags.NONE, null);
    for (let info; (info = children.next_file(null)) !== null;)
        dir.get_child(info.get_name()).delete(null);
    dir.delete(null);
}

if (!Gtk.init_check()) {
    printerr(`${PROGRAM}: ${_('cannot open a display; run it under xvfb-run')}`);
    System.exit(auto ? 77 : 1);
}

let folder = null;
let expected = new Map();
let paths = ARGV.filter(arg => arg !== '--auto').map(arg => Gio.File.new_for_commandline_arg(arg).get_path());
if (auto) {
    folder = GLib.dir_make_tmp('asyncgui-thumbnails-XXXXXX');
    expected = makeAutoFiles(folder);
    paths = [...expected.keys()];
}
if (paths.length === 0) {
    printerr(`${PROGRAM}: ${_('name the files to preview, or use --auto')}`);
    System.exit(1);
}

const app = new Gtk.Application({
    application_id: 'org.gnome.AsyncGui.ThumbnailsGjs',
    flags: Gio.ApplicationFlags.NON_UNIQUE | Gio.ApplicationFlags.HANDLES_OPEN,
});
let exitStatus = 0;

function check(tiles, framesWhilePending, worstGapMs) {
    for (const tile of tiles) {
        const path = tile.file.get_path();
        let right = tile.outcome === expected.get(path);
        if (right && tile.outcome.startsWith('image ')) {
            // A thumbnail must also be what the tile draws.
            const paintable = tile.picture.get_paintable();
            right = paintable !== null && tile.stack.get_visible_child() === tile.picture &&
                `image ${paintable.get_intrinsic_width()}x${paintable.get_intrinsic_height()}` ===
                tile.outcome;
        }
        print(`${tile.file.get_basename().padEnd(20)} ${JSON.stringify(tile.outcome)}`);
        if (!right) {
            printerr(`${PROGRAM}: FAILED: ${tile.file.get_basename()} shows ` +
                `${JSON.stringify(tile.outcome)}, not ${JSON.stringify(expected.get(path))}`);
            exitStatus = 1;
        }
    }
    print(`${PROGRAM}: ${framesWhilePending} frames while previews were pending, ` +
        `worst gap ${worstGapMs.toFixed(1)} ms`);
    if (framesWhilePending < MIN_FRAMES_WHILE_PENDING || worstGapMs > MAX_FRAME_GAP_MS) {
        printerr(`${PROGRAM}: FAILED: the window did not keep drawing`);
        exitStatus = 1;
    }
}

app.connect('open', (_app, files) => {
    const pool = AsyncGui.Engine.get_default().get_worker_pool();
    // The worker loads thumbnailer.js from inside the sandbox, which shows
    // it /usr and the folders named here.
    pool.set_sandbox_paths([GLib.path_get_dirname(GLib.filename_from_uri(THUMBNAILER)[0])]);
    try {
        pool.check_sandbox();
    } catch (e) {
        printerr(`${PROGRAM}: ${_('no sandbox:')} ${e.message}`);
        // A test of the example must not pass unprotected; a user still
        // sees the error in every tile.
        if (auto) {
            exitStatus = 1;
            return;
        }
    }

    const window = new Gtk.ApplicationWindow({
        application: app, title: _('Previews in a sandbox — asyncgui (GJS)'),
        default_width: 720, default_height: 480,
    });
    const flow = new Gtk.FlowBox({selection_mode: Gtk.SelectionMode.NONE, homogeneous: true,
        column_spacing: 12, row_spacing: 12, valign: Gtk.Align.START,
        margin_top: 12, margin_bottom: 12, margin_start: 12, margin_end: 12});
    const tiles = files.map(file => new Tile(file));
    for (const tile of tiles)
        flow.append(tile.widget);
    window.set_child(new Gtk.ScrolledWindow({child: flow}));
    window.present();

    if (auto) {
        // The frame clock ticks while a spinner turns; a gap between two
        // ticks is time the GUI thread did not draw.
        const started = GLib.get_monotonic_time() / 1000;
        let lastFrame = null, worstGap = 0, framesWhilePending = 0;
        window.add_tick_callback(() => {
            const now = GLib.get_monotonic_time() / 1000;
            if (tiles.some(tile => tile.outcome === null)) {
                if (lastFrame !== null)
                    worstGap = Math.max(worstGap, now - lastFrame);
                framesWhilePending++;
                lastFrame = now;
                if (now - started < AUTO_DEADLINE_MS)
                    return GLib.SOURCE_CONTINUE;
                printerr(`${PROGRAM}: FAILED: previews still pending after ${AUTO_DEADLINE_MS} ms`);
                exitStatus = 1;
            } else {
                check(tiles, framesWhilePending, worstGap);
            }
            app.quit();
            return GLib.SOURCE_REMOVE;
        });
    }
    for (const tile of tiles)
        tile.preview();
});

app.run([System.programInvocationName, ...paths]);
if (folder !== null)
    removeFolder(folder);
System.exit(exitStatus);
