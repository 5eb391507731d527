// extension.js: a GNOME Shell 43 extension that runs its work through asyncgui
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// gnome-shell is the compositor: a function that runs long on its main
// thread freezes every window on screen. This extension puts a label in
// the top bar, counts primes in an asyncgui GJS worker process
// (worker.js) and shows the count when it arrives, through the default
// engine, which delivers on the shell's own main context. Disabling the
// extension cancels the count (the worker is told at once) and removes
// the label; a late result is never delivered.
//
// asyncgui must be installed (or GI_TYPELIB_PATH and LD_LIBRARY_PATH must
// name a build tree) for `imports.gi.AsyncGui` to load.

/* exported init */

imports.gi.versions.AsyncGui = '1';
const {AsyncGui, Clutter, Gio, St} = imports.gi;

const ExtensionUtils = imports.misc.extensionUtils;
const Main = imports.ui.main;
const PanelMenu = imports.ui.panelMenu;

const Me = ExtensionUtils.getCurrentExtension();
const LIMIT = 200000;

class Extension {
    enable() {
        this._cancellable = new Gio.Cancellable();
        this._label = new St.Label({
            text: 'Counting primes…',
            y_align: Clutter.ActorAlign.CENTER,
        });
        this._button = new PanelMenu.Button(0.0, Me.metadata.name, true);
        this._button.add_child(this._label);
        Main.panel.addToStatusArea(Me.uuid, this._button);

        const uri = Me.dir.get_child('worker.js').get_uri();
        const task = AsyncGui.WorkerTask.new_gjs(uri, 'countPrimes', JSON.stringify([LIMIT]));
        AsyncGui.Engine.get_default().run_async(task, this._cancellable, (engine, result) => {
            let text;
            try {
                // The worker's value is its function's result as JSON text.
                text = `${JSON.parse(result.get_variant().unpack())} primes below ${LIMIT}`;
            } catch (e) {
                if (e.matches?.(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED))
                    return;
                text = `asyncgui: ${e.message}`;
            }
            this._label.text = text;
            log(`asyncgui-primes: the panel label shows “${this._label.text}”`);
        });
    }

    disable() {
        this._cancellable.cancel();
        this._cancellable = null;
        this._button.destroy();
        this._button = null;
        this._label = null;
    }
}

function init() {
    return new Extension();
}
