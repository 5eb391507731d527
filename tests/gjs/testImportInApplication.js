// testImportInApplication.js — the way README.md tells an application to
// import the module from the library's resource works: the application
// runs its main loop at the top level of its first module and imports the
// module in a handler. (In GJS 1.74 a main loop run after a top-level
// `await`, or inside a `.then()`, never runs a promise callback again.)
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import AsyncGui from 'gi://AsyncGui?version=1';
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import System from 'system';

AsyncGui.Engine.get_default();   // loads libasyncgui-1, and with it the resource

const app = new Gio.Application({flags: Gio.ApplicationFlags.NON_UNIQUE});
let outcome = 'the activate handler never finished';
app.connect('activate', async () => {
    app.hold();
    try {
        const {run, mainTask, sleep} =
            await import('resource:///org/gnome/AsyncGui/js/asyncgui.js');
        await run(sleep(10));
        const value = await run(mainTask(() => 42));
        outcome = value === 42 ? 'ok' : `the task gave ${value}`;
    } catch (e) {
        outcome = `it threw ${e}`;
    } finally {
        app.release();
    }
});
// A hang is a failure too, not a timeout of the suite.
GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, 30, () => {
    app.quit();
    return GLib.SOURCE_REMOVE;
});
app.run([System.programInvocationName]);
print(outcome === 'ok' ? 'ok the module imported in a handler runs tasks'
    : `not ok: ${outcome}`);
System.exit(outcome === 'ok' ? 0 : 1);
