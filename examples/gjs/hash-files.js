// hash-files.js — SHA-256 of every file under a directory, as an asyncgui job.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
//     gjs -m examples/gjs/hash-files.js [DIR] [--auto] [--cancel-after MS] [--files N]
//
// Without DIR it fills a temporary directory with N (default 3000)
// generated files and hashes those. --auto starts at once, prints a
// summary (files hashed, elapsed ms, worst frame gap) and exits 0;
// --cancel-after MS presses Cancel after MS milliseconds (and exits 0 if the
// job ended cancelled).
//
// How the work is split: GJS cannot run JavaScript on a worker thread, so
// each file is a main-context task (mainTask()) wrapping Gio's async reads,
// which run on GIO's own threads; only the SHA-256 of what was read runs
// on the main thread, one file (or one 256 KiB chunk of a big file) per
// main-loop dispatch, so no dispatch holds the main thread for long. The
// summary measures it: the worst single hashing step and the worst gap
// between two frames while the job ran.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Gtk from 'gi://Gtk?version=4.0';
import System from 'system';
import AsyncGui, {spawn, mainTask, multi} from '../../bindings/gjs/asyncgui.js';

Gio._promisify(Gio.File.prototype, 'load_bytes_async', 'load_bytes_finish');
Gio._promisify(Gio.File.prototype, 'read_async', 'read_finish');
Gio._promisify(Gio.File.prototype, 'enumerate_children_async', 'enumerate_children_finish');
Gio._promisify(Gio.File.prototype, 'replace_contents_bytes_async', 'replace_contents_finish');
Gio._promisify(Gio.File.prototype, 'make_directory_async', 'make_directory_finish');
Gio._promisify(Gio.FileEnumerator.prototype, 'next_files_async', 'next_files_finish');
Gio._promisify(Gio.FileEnumerator.prototype, 'close_async', 'close_finish');
Gio._promisify(Gio.InputStream.prototype, 'read_bytes_async', 'read_bytes_finish');
Gio._promisify(Gio.InputStream.prototype, 'close_async', 'close_finish');

const BIG_FILE = 8 * 1024 * 1024;  // bigger files are hashed in pieces
const CHUNK = 1024 * 1024;          // of this size
const BATCH = 256;               // files per MultiTask
const IN_FLIGHT = 16;            // reads at once

// ---------------------------------------------------------------------------
// Options

function parseArgs(argv) {
    const options = {dir: null, auto: false, cancelAfter: 0, files: 3000};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === '--auto')
            options.auto = true;
        else if (arg === '--cancel-after')
            options.cancelAfter = Number(argv[++i]);
        else if (arg === '--files')
            options.files = Number(argv[++i]);
        else if (arg === '--help' || arg === '-h')
            options.help = true;
        else
            options.dir = arg;
    }
    return options;
}

const options = parseArgs(ARGV);
if (options.help) {
    print('usage: gjs -m hash-files.js [DIR] [--auto] [--cancel-after MS] [--files N]');
    System.exit(0);
}
if (!Gtk.init_check()) {
    printerr('hash-files.js: no display');
    System.exit(77);   // a skip, for the test suite
}

// ---------------------------------------------------------------------------
// Main-thread time the hashing takes, per step

const hashing = {steps: 0, totalUs: 0, worstUs: 0};

function timed(fn) {
    const start = GLib.get_monotonic_time();
    const result = fn();
    const us = GLib.get_monotonic_time() - start;
    hashing.steps++;
    hashing.totalUs += us;
    hashing.worstUs = Math.max(hashing.worstUs, us);
    return result;
}

// ---------------------------------------------------------------------------
// Tasks

// The SHA-256 of one file: a main-context task around Gio's async reads.
function hashTask(file, size) {
    return mainTask(async cancellable => {
        if (size <= BIG_FILE) {
            // The bytes stay in C: hashing them allocates nothing in JS.
            const [bytes] = await file.load_bytes_async(cancellable);
            return {path: file.get_path(), size,
                sum: timed(() => GLib.compute_checksum_for_bytes(GLib.ChecksumType.SHA256, bytes))};
        }
        const checksum = new GLib.Checksum(GLib.ChecksumType.SHA256);
        const stream = await file.read_async(GLib.PRIORITY_DEFAULT, cancellable);
        try {
            for (;;) {
                // eslint-disable-next-line no-await-in-loop
                const bytes = await stream.read_bytes_async(CHUNK, GLib.PRIORITY_DEFAULT, cancellable);
                if (bytes.get_size() === 0)
                    break;
                timed(() => checksum.update(bytes.get_data()));
            }
        } finally {
            stream.close_async(GLib.PRIORITY_DEFAULT, null).catch(() => {});
        }
        return {path: file.get_path(), size, sum: checksum.get_string()};
    });
}

// Lists the regular files under dir (recursively), a batch per task.
async function listFiles(job, dir) {
    const found = [];
    const pending = [dir];
    while (pending.length > 0) {
        const current = pending.pop();
        // eslint-disable-next-line no-await-in-loop
        const enumerator = await job.run(mainTask(c => current.enumerate_children_async(
            'standard::name,standard::type,standard::size', Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS,
            GLib.PRIORITY_DEFAULT, c)));
        for (;;) {
            // eslint-disable-next-line no-await-in-loop
            const infos = await job.run(mainTask(c => enumerator.next_files_async(
                200, GLib.PRIORITY_DEFAULT, c)));
            if (infos.length === 0)
                break;
            for (const info of infos) {
                const child = current.get_child(info.get_name());
                if (info.get_file_type() === Gio.FileType.DIRECTORY)
                    pending.push(child);
                else if (info.get_file_type() === Gio.FileType.REGULAR)
                    found.push({file: child, size: info.get_size()});
            }
        }
        enumerator.close_async(GLib.PRIORITY_DEFAULT, null).catch(() => {});
    }
    return found;
}

// Fills a new temporary directory with n files of 1..64 KiB. Each file is
// a slice of one buffer made once: slicing a GLib.Bytes happens in C, so
// writing thousands of files makes no JS garbage.
async function makeFiles(job, n, onProgress) {
    const dir = Gio.File.new_for_path(GLib.dir_make_tmp('asyncgui-hash-XXXXXX'));
    const pool = new Uint8Array(128 * 1024);
    let x = 2463534242;
    for (let k = 0; k < pool.length; k++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        pool[k] = x & 0xff;
    }
    const poolBytes = new GLib.Bytes(pool);
    for (let start = 0; start < n; start += BATCH) {
        const tasks = [];
        for (let i = start; i < Math.min(n, start + BATCH); i++) {
            const file = dir.get_child(`file-${String(i).padStart(5, '0')}.bin`);
            const data = poolBytes.new_from_bytes((i * 7919) % (63 * 1024), 1024 + (i * 104729) % (63 * 1024));
            tasks.push(mainTask(c => file.replace_contents_bytes_async(data, null,
                false, Gio.FileCreateFlags.NONE, c)));
        }
        // eslint-disable-next-line no-await-in-loop
        await job.run(multi(tasks, {maxWorkers: IN_FLIGHT}));
        onProgress(Math.min(n, start + BATCH) / n);
    }
    return dir;
}

function removeTree(dir) {
    const enumerator = dir.enumerate_children('standard::name', Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, null);
    for (let info; (info = enumerator.next_file(null));)
        dir.get_child(info.get_name()).delete(null);
    enumerator.close(null);
    dir.delete(null);
}

// ---------------------------------------------------------------------------
// The window

const app = new Gtk.Application({
    application_id: 'org.gnome.AsyncGui.Example.HashFilesGjs',
    flags: Gio.ApplicationFlags.NON_UNIQUE,
});

let exitStatus = 0;

app.connect('activate', () => {
    const window = new Gtk.ApplicationWindow({application: app, title: 'Hash files (GJS)',
        default_width: 760, default_height: 520});
    const box = new Gtk.Box({orientation: Gtk.Orientation.VERTICAL, spacing: 8,
        margin_top: 12, margin_bottom: 12, margin_start: 12, margin_end: 12});
    const top = new Gtk.Box({spacing: 8});
    const spinner = new Gtk.Spinner();
    const status = new Gtk.Label({label: 'Ready', xalign: 0, hexpand: true});
    const start = new Gtk.Button({label: 'Hash'});
    const cancel = new Gtk.Button({label: 'Cancel', sensitive: false});
    top.append(spinner);
    top.append(status);
    top.append(start);
    top.append(cancel);
    const progress = new Gtk.ProgressBar({show_text: true});

    const rows = new Gtk.StringList();
    const factory = new Gtk.SignalListItemFactory();
    factory.connect('setup', (_f, item) => {
        item.set_child(new Gtk.Label({xalign: 0, css_classes: ['monospace']}));
    });
    factory.connect('bind', (_f, item) => {
        item.get_child().set_label(item.get_item().get_string());
    });
    const list = new Gtk.ListView({model: new Gtk.NoSelection({model: rows}), factory});
    const scrolled = new Gtk.ScrolledWindow({child: list, vexpand: true});

    box.append(top);
    box.append(progress);
    box.append(scrolled);
    window.set_child(box);

    // Rows arrive one per finished file; they are added once per frame.
    let newRows = [];
    const frames = {last: 0, worstUs: 0, count: 0, measuring: false};
    window.add_tick_callback((_w, clock) => {
        const t = clock.get_frame_time();
        // The first frames of a new window are slow everywhere; the gap that
        // matters is the one while work runs.
        frames.seen = (frames.seen ?? 0) + 1;
        if (frames.measuring && frames.last && frames.seen > 3) {
            frames.worstUs = Math.max(frames.worstUs, t - frames.last);
            frames.count++;
        }
        frames.last = t;
        if (newRows.length > 0) {
            rows.splice(rows.get_n_items(), 0, newRows);
            newRows = [];
        }
        return GLib.SOURCE_CONTINUE;
    });

    let current = null;

    function finish(summary) {
        frames.measuring = false;
        spinner.stop();
        start.sensitive = true;
        cancel.sensitive = false;
        status.label = summary;
        print(summary);
        if (options.auto || options.cancelAfter)
            app.quit();
    }

    function startJob() {
        start.sensitive = false;
        cancel.sensitive = true;
        spinner.start();
        rows.splice(0, rows.get_n_items(), []);
        frames.last = 0;
        frames.worstUs = 0;
        frames.count = 0;
        frames.measuring = true;
        hashing.steps = hashing.totalUs = hashing.worstUs = 0;
        const t0 = GLib.get_monotonic_time();
        let tempDir = null, hashed = 0, bytes = 0;
        const phases = {write: 0, list: 0, hash: 0};

        current = spawn(async job => {
            let dir;
            if (options.dir) {
                dir = Gio.File.new_for_commandline_arg(options.dir);
            } else {
                status.label = `Writing ${options.files} files…`;
                tempDir = dir = await makeFiles(job, options.files, f => {
                    progress.fraction = f;
                    progress.text = `writing ${Math.round(f * 100)} %`;
                });
            }
            phases.write = (GLib.get_monotonic_time() - t0) / 1000;
            status.label = `Listing ${dir.get_path()}…`;
            const files = await listFiles(job, dir);
            phases.list = (GLib.get_monotonic_time() - t0) / 1000 - phases.write;
            const total = files.length;
            const hashStart = GLib.get_monotonic_time();
            for (let i = 0; i < total; i += BATCH) {
                const batch = files.slice(i, i + BATCH).map(f => hashTask(f.file, f.size));
                const m = multi(batch, {unordered: true, skipErrors: true, maxWorkers: IN_FLIGHT});
                // eslint-disable-next-line no-await-in-loop
                for await (const r of job.iterate(m)) {
                    hashed++;
                    bytes += r.size;
                    newRows.push(`${r.sum}  ${r.path}`);
                    progress.fraction = hashed / total;
                    progress.text = `${hashed} / ${total}`;
                }
                status.label = `Hashed ${hashed} of ${total} files`;
            }
            phases.hash = (GLib.get_monotonic_time() - hashStart) / 1000;
            return {total};
        });

        const describe = () => {
            const ms = (GLib.get_monotonic_time() - t0) / 1000;
            return `files hashed: ${hashed}, ${(bytes / 1048576).toFixed(1)} MiB, ` +
                `elapsed: ${Math.round(ms)} ms, worst frame gap: ${(frames.worstUs / 1000).toFixed(1)} ms ` +
                `over ${frames.count} frames, main-thread hashing: ${(hashing.totalUs / 1000).toFixed(1)} ms ` +
                `in ${hashing.steps} steps (worst step ${(hashing.worstUs / 1000).toFixed(2)} ms); ` +
                `phases: write ${Math.round(phases.write)} ms, list ${Math.round(phases.list)} ms, ` +
                `hash ${Math.round(phases.hash)} ms`;
        };
        const cleanUp = () => {
            if (tempDir) {
                try {
                    removeTree(tempDir);
                } catch (e) {
                    logError(e, 'removing the temporary files');
                }
            }
        };

        current.promise.then(result => {
            cleanUp();
            finish(`Done. ${describe()}`);
            if (options.cancelAfter)
                exitStatus = 1;   // it should have been cancelled
            else if (hashed !== result.total)
                exitStatus = 1;
        }, error => {
            cleanUp();
            const cancelled = error instanceof GLib.Error &&
                error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED);
            finish(`${cancelled ? 'Cancelled' : `Failed: ${error.message}`}. ${describe()}`);
            if (!(cancelled && options.cancelAfter))
                exitStatus = 1;
        });
    }

    start.connect('clicked', startJob);
    cancel.connect('clicked', () => current?.cancel());
    window.present();

    if (options.auto || options.cancelAfter) {
        startJob();
        if (options.cancelAfter) {
            GLib.timeout_add(GLib.PRIORITY_DEFAULT, options.cancelAfter, () => {
                cancel.emit('clicked');
                return GLib.SOURCE_REMOVE;
            });
        }
    }
});

app.run([System.programInvocationName]);
System.exit(exitStatus);

export {AsyncGui};
