// list-view.js — a GtkListView bound to a MultiTask, in GJS.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
//     gjs -m examples/gjs/list-view.js [--auto] [--count N]
//
// The same app as the C, Python and Vala examples. A MultiTask is a
// GListModel of its children, which are AsyncGui.Task objects, one row
// each. A task's value lives in C; valueOf(row) gives it back as the JS
// value the task returned (here a Measurement object), and the row's
// `state` property is notified when it ends, its value (or error) set by
// then. So the factory's bind handler shows the row now and connects to
// notify::state to show its value, or why it failed, when it ends; unbind
// disconnects, since GTK reuses row widgets for other rows as the view
// scrolls. Rows whose task has not finished show "…".
//
// JavaScript cannot run on a worker thread, so a measurement here is a
// main-context task that waits a little; real work would be a
// processTask() in a gjs worker process, or a task made in C.
//
// --auto quits once every row on screen shows its value, printing the text
// of each row widget. It fails (exit 1) if a row does not show its own
// value, if no frame ever showed some values while others were still
// coming, or if rows still wait after the run ended; 77 without a display.

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import Gtk from 'gi://Gtk?version=4.0';
import System from 'system';
import AsyncGui, {run, mainTask, multi, valueOf} from '../../bindings/gjs/asyncgui.js';

const PROGRAM = 'asyncgui-list-view-gjs';
const PENDING = '…';
const DELAY_MS = 30;
// Once the run has ended, the rows on screen must show their values by
// the next frames; this is only a bound for a loaded machine.
const SETTLE_DEADLINE_MS = 10000;

const auto = ARGV.includes('--auto');
const countAt = ARGV.indexOf('--count');
const count = countAt >= 0 ? Math.max(1, parseInt(ARGV[countAt + 1], 10) || 1) : 24;

// What a task returns: a plain JS object, which reaches the row as itself.
class Measurement {
    constructor(index) {
        this.index = index;
        this.square = index * index;
    }

    toString() {
        return `${this.index}² = ${this.square}`;
    }
}

function measure(index) {
    return mainTask(() => new Promise(resolve => {
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, DELAY_MS, () => {
            resolve(new Measurement(index));
            return GLib.SOURCE_REMOVE;
        });
    }));
}

function rowText(row) {
    switch (row.get_state()) {
    case AsyncGui.TaskState.SUCCEEDED:
        return String(valueOf(row));
    case AsyncGui.TaskState.FAILED:
    case AsyncGui.TaskState.CANCELLED:
        return row.get_error().message;
    default:
        return PENDING;
    }
}

// The widget of one row: shows the value of the row it is bound to, now
// and when it arrives.
const RowLabel = GObject.registerClass(
class RowLabel extends Gtk.Label {
    _init() {
        super._init({xalign: 0});
        this._row = null;
        this._handler = 0;
    }

    bind(row) {
        this._row = row;
        this._handler = row.connect('notify::state', () => this.set_label(rowText(row)));
        this.set_label(rowText(row));
    }

    unbind() {
        if (this._row !== null)
            this._row.disconnect(this._handler);
        this._row = null;
        this._handler = 0;
    }
});

// The texts of the row widgets the list view shows.
function rowTexts(view) {
    const texts = [];
    for (let widget = view.get_first_child(); widget; widget = widget.get_next_sibling()) {
        const child = widget.get_first_child();
        if (child instanceof RowLabel)
            texts.push(child.get_label());
    }
    return texts;
}

// Each row shows its own value: row i says "i² = i·i", each once.
function showValues(texts) {
    const seen = new Set();
    for (const text of texts) {
        const match = /^(\d+)² = (\d+)$/.exec(text);
        if (!match || Number(match[1]) >= count || Number(match[2]) !== match[1] ** 2 ||
            seen.has(text))
            return false;
        seen.add(text);
    }
    return texts.length > 0;
}

if (!Gtk.init_check()) {
    printerr(`${PROGRAM}: cannot open a display; run it under xvfb-run`);
    System.exit(auto ? 77 : 1);
}

const app = new Gtk.Application({
    application_id: 'org.gnome.AsyncGui.ListViewGjs',
    flags: Gio.ApplicationFlags.NON_UNIQUE,
});
let exitStatus = 0;

app.connect('activate', () => {
    const window = new Gtk.ApplicationWindow({
        application: app, title: 'Values as they arrive — asyncgui (GJS)',
        default_width: 480, default_height: 640,
    });
    const tasks = [];
    for (let i = 0; i < count; i++)
        tasks.push(measure(i));
    const values = multi(tasks, {maxWorkers: 2});

    const factory = new Gtk.SignalListItemFactory();
    factory.connect('setup', (_f, item) => item.set_child(new RowLabel()));
    factory.connect('bind', (_f, item) => item.get_child().bind(item.get_item()));
    factory.connect('unbind', (_f, item) => item.get_child().unbind());
    const view = new Gtk.ListView({model: new Gtk.NoSelection({model: values}), factory});

    const status = new Gtk.Label({xalign: 0, label: `Measuring ${count} values…`});
    const box = new Gtk.Box({orientation: Gtk.Orientation.VERTICAL, spacing: 8,
        margin_top: 12, margin_bottom: 12, margin_start: 12, margin_end: 12});
    box.append(status);
    box.append(new Gtk.ScrolledWindow({child: view, vexpand: true}));
    window.set_child(box);
    window.present();

    let doneAt = null;
    // The very run the list view shows: awaiting it gives its values.
    run(values).then(measurements => {
        const sum = measurements.reduce((total, m) => total + m.square, 0);
        status.set_label(`Done: the squares add up to ${sum}`);
    }, e => {
        status.set_label(e.message);
        exitStatus = 1;
    }).finally(() => {
        doneAt = GLib.get_monotonic_time() / 1000;
    });

    if (!auto)
        return;

    let sawMixed = false;
    window.add_tick_callback(() => {
        const texts = rowTexts(view);
        if (texts.includes(PENDING) && texts.some(text => text !== PENDING))
            sawMixed = true;
        return GLib.SOURCE_CONTINUE;
    });
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, 50, () => {
        if (doneAt === null)
            return GLib.SOURCE_CONTINUE;
        const texts = rowTexts(view);
        const late = GLib.get_monotonic_time() / 1000 - doneAt > SETTLE_DEADLINE_MS;
        if ((texts.length === 0 || texts.includes(PENDING)) && !late)
            return GLib.SOURCE_CONTINUE;
        for (const text of texts)
            print(text);
        if (!showValues(texts)) {
            printerr(`${PROGRAM}: FAILED: the rows do not all show their values` +
                `${late ? ' after the run ended' : ''}`);
            exitStatus = 1;
        }
        if (!sawMixed) {
            printerr(`${PROGRAM}: FAILED: no frame showed values while others were still coming`);
            exitStatus = 1;
        }
        app.quit();
        return GLib.SOURCE_REMOVE;
    });
});

app.run([System.programInvocationName]);
System.exit(exitStatus);
