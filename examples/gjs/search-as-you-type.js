// search-as-you-type.js — a search box whose results never go stale, in GJS.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
//     gjs -m examples/gjs/search-as-you-type.js [--auto]
//
// A GTK 4 window with an entry, a spinner and a list of the words that
// contain what is typed. Each keystroke runs a search through one
// AsyncGui.Slot, `await run(task, {slot})`: the latest request wins. A
// search that a newer keystroke replaced is cancelled (its cancellable
// fires) and its promise rejects with CANCELLED, so the list never
// flickers back to an older query, however slow that query was. The slot
// waits for a quiet period of 150 ms (debounce) before it starts a search,
// and its busy property drives the spinner.
//
// The searches are slow on purpose: a short query takes longest (as a
// broad query does on a real index), so without the slot an old query
// would often finish last. JavaScript cannot run on a worker thread, so a
// search here is a main-context task that waits, then filters; real work
// would be a processTask() in a gjs worker process, or a task made in C.
//
// --auto types a word letter by letter, now quickly, now slowly, checks
// that every list shown belonged to the text in the entry at that moment
// and that the final list is right, prints a summary and exits (1 on a
// failed check, 77 without a display).

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import Gtk from 'gi://Gtk?version=4.0';
import System from 'system';
import AsyncGui, {run, mainTask} from '../../bindings/gjs/asyncgui.js';

const PROGRAM = 'asyncgui-search-gjs';
const AUTO_WORD = 'asyncgui';
// Milliseconds between the keystrokes of --auto: some inside the quiet
// period, some long enough for a search to start and be replaced.
const AUTO_PAUSES_MS = [40, 260, 60, 320, 30, 240, 50];

const auto = ARGV.includes('--auto');

const SYLLABLES = ['an', 'ar', 'as', 'be', 'ca', 'co', 'de', 'di', 'el', 'en', 'fi', 'ga',
    'gu', 'in', 'io', 'ka', 'lo', 'ma', 'mi', 'nc', 'ne', 'no', 'or', 'pa',
    'ra', 're', 'sa', 'se', 'si', 'sy', 'ta', 'te', 'ti', 'to', 'un', 'yn'];

// The dictionary: made-up words (from a fixed seed), and a few real ones.
function makeWords(count = 20000) {
    let seed = 7;
    const random = n => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
    };
    const words = new Set(['async', 'asyncgui', 'asynchronous', 'synchronize', 'syntax']);
    for (let i = 0; i < count; i++) {
        let word = '';
        for (let n = 2 + random(4); n > 0; n--)
            word += SYLLABLES[random(SYLLABLES.length)];
        words.add(word);
    }
    return [...words].sort();
}

// A search: the words containing `query`, after a while (the shorter the
// query, the longer). Its cancellable fires when a newer query replaces it.
function searchTask(words, query) {
    return mainTask(cancellable => new Promise((resolve, reject) => {
        const latency = 400 / query.length + Math.random() * 100;
        let handler = 0;
        const id = GLib.timeout_add(GLib.PRIORITY_DEFAULT, latency, () => {
            cancellable.disconnect(handler);
            resolve(words.filter(word => word.includes(query)));
            return GLib.SOURCE_REMOVE;
        });
        handler = cancellable.connect(() => {
            GLib.source_remove(id);
            reject(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'replaced'));
        });
    }));
}

if (!Gtk.init_check()) {
    printerr(`${PROGRAM}: cannot open a display; run it under xvfb-run`);
    System.exit(auto ? 77 : 1);
}

const app = new Gtk.Application({
    application_id: 'org.gnome.AsyncGui.SearchGjs',
    flags: Gio.ApplicationFlags.NON_UNIQUE,
});
let exitStatus = 0;

app.connect('activate', () => {
    const words = makeWords();
    const slot = AsyncGui.Slot.new(null);
    slot.debounce_ms = 150;

    const window = new Gtk.ApplicationWindow({
        application: app, title: 'Search as you type — asyncgui (GJS)',
        default_width: 420, default_height: 520,
    });
    const entry = new Gtk.Entry({hexpand: true, placeholder_text: 'Type to search…',
        primary_icon_name: 'edit-find-symbolic'});
    const spinner = new Gtk.Spinner();
    // The spinner spins while the slot has a search waiting or running.
    slot.bind_property('busy', spinner, 'spinning', GObject.BindingFlags.SYNC_CREATE);
    const status = new Gtk.Label({xalign: 0, label: `${words.length} words`});
    const results = new Gtk.StringList();
    const factory = new Gtk.SignalListItemFactory();
    factory.connect('setup', (_f, item) => item.set_child(new Gtk.Label({xalign: 0})));
    factory.connect('bind', (_f, item) => item.get_child().set_label(item.get_item().get_string()));
    const view = new Gtk.ListView({model: new Gtk.NoSelection({model: results}), factory});

    const top = new Gtk.Box({spacing: 6});
    top.append(entry);
    top.append(spinner);
    const box = new Gtk.Box({orientation: Gtk.Orientation.VERTICAL, spacing: 6,
        margin_top: 12, margin_bottom: 12, margin_start: 12, margin_end: 12});
    box.append(top);
    box.append(status);
    box.append(new Gtk.ScrolledWindow({child: view, vexpand: true}));
    window.set_child(box);
    // A search still waiting must not come back to a closed window.
    window.connect('close-request', () => {
        slot.cancel();
        return false;
    });

    const counts = {asked: 0, superseded: 0, shown: 0, stale: 0};
    let shownQuery = null;
    let pending = 0;

    function show(query, found) {
        // The check --auto makes: what is shown belongs to what is typed.
        if (query !== entry.get_text()) {
            counts.stale++;
            printerr(`${PROGRAM}: showed the results of "${query}" while the entry said ` +
                `"${entry.get_text()}"`);
        }
        counts.shown++;
        shownQuery = query;
        results.splice(0, results.get_n_items(), found);
        status.set_label(query ? `${found.length} words contain “${query}”` : `${words.length} words`);
    }

    entry.connect('changed', async () => {
        const query = entry.get_text();
        if (!query) {
            slot.cancel();
            show(query, []);
            return;
        }
        counts.asked++;
        pending++;
        try {
            show(query, await run(searchTask(words, query), {slot}));
        } catch (e) {
            if (!(e instanceof GLib.Error && e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED)))
                throw e;
            // A later keystroke replaced this search: nothing to show.
            counts.superseded++;
        } finally {
            pending--;
        }
    });
    window.present();

    if (!auto)
        return;

    function checkWhenDone() {
        if (slot.busy || pending > 0)
            return GLib.SOURCE_CONTINUE;
        const expected = words.filter(word => word.includes(AUTO_WORD));
        const shown = [];
        for (let i = 0; i < results.get_n_items(); i++)
            shown.push(results.get_string(i));
        const problems = [];
        if (counts.stale)
            problems.push(`${counts.stale} stale lists shown`);
        if (shownQuery !== AUTO_WORD || shown.join('\n') !== expected.join('\n'))
            problems.push(`the final list is not that of "${AUTO_WORD}"`);
        print(`${PROGRAM}: typed "${AUTO_WORD}": ${counts.asked} searches asked, ` +
            `${counts.superseded} superseded, ${counts.shown} lists shown, ` +
            `final: ${shown.length} words for "${shownQuery}"`);
        for (const problem of problems)
            printerr(`${PROGRAM}: FAILED: ${problem}`);
        exitStatus = problems.length ? 1 : 0;
        app.quit();
        return GLib.SOURCE_REMOVE;
    }

    function typeNext(length) {
        // One letter more, as a keystroke adds it (set_text() would empty
        // the entry first).
        entry.get_buffer().insert_text(length - 1, AUTO_WORD[length - 1], 1);
        if (length < AUTO_WORD.length)
            GLib.timeout_add(GLib.PRIORITY_DEFAULT, AUTO_PAUSES_MS[length - 1], () => typeNext(length + 1));
        else
            GLib.timeout_add(GLib.PRIORITY_DEFAULT, 20, checkWhenDone);
        return GLib.SOURCE_REMOVE;
    }
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, 200, () => typeNext(1));
});

app.run([System.programInvocationName]);
System.exit(exitStatus);
