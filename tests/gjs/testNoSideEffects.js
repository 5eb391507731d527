// testNoSideEffects.js — importing the module and using it leaves the
// introspected AsyncGui classes exactly as GI made them, for other code in
// the process. Runs in a process of its own: the module is imported only
// after the first snapshot, by the first test.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import AsyncGui from 'gi://AsyncGui?version=1';
import {test, main, assert, assertEqual} from './harness.js';

const CLASSES = ['Task', 'MultiTask', 'Job', 'Engine', 'Channel', 'ChannelReader', 'Pipeline',
    'WorkerTask', 'WorkerPool', 'CommandTask', 'Chunk', 'ChannelTransform'];

// Every own property (names and symbols) of each class and its prototype,
// with its value or accessors. GI defines methods lazily on first access,
// so every name is read before it is recorded: what the snapshot compares
// is what the module did, not what GI resolved in between.
function snapshot() {
    const shot = new Map();
    for (const name of CLASSES) {
        const cls = AsyncGui[name];
        if (cls === undefined)
            continue;
        for (const [where, target] of [[`${name}`, cls], [`${name}.prototype`, cls.prototype]]) {
            for (const key of Reflect.ownKeys(target))
                void target[key];
            for (const key of Reflect.ownKeys(target)) {
                const d = Object.getOwnPropertyDescriptor(target, key);
                shot.set(`${where}.${String(key)}`, d.get || d.set ? [d.get, d.set] : [d.value]);
            }
            for (const key of ['then', Symbol.asyncIterator, 'run', 'spawn', 'iterate', 'promise'])
                void target[key];
        }
    }
    return shot;
}

function differences(before, after) {
    const diffs = [];
    for (const [key, value] of after) {
        if (!before.has(key))
            diffs.push(`added ${key}`);
        else if (!before.get(key).every((v, i) => Object.is(v, value[i])))
            diffs.push(`replaced ${key}`);
    }
    for (const key of before.keys()) {
        if (!after.has(key))
            diffs.push(`removed ${key}`);
    }
    return diffs;
}

const before = snapshot();
assert(before.has('Task.new') && before.has('Task.prototype.add_dependency'),
    'the snapshot sees the GI methods');
let module = null;

test('importing-the-module-changes-no-introspected-class', async () => {
    module = await import('../../bindings/gjs/asyncgui.js');
    assertEqual(differences(before, snapshot()), []);
    assert(!('then' in AsyncGui.Task.prototype), 'a task is not thenable');
    assert(!(Symbol.asyncIterator in AsyncGui.MultiTask.prototype), 'a MultiTask is not iterable');
});

test('using-the-module-changes-no-introspected-class', async () => {
    const {run, iterate, spawn, mainTask, multi, pipe, read, write, setTransforms, andThen,
        timeoutTask} = module;
    assertEqual(await run(timeoutTask(5, 1)), 1);
    assertEqual(await run(andThen(mainTask(() => 2), v => v + 1)), 3);
    const seen = [];
    for await (const v of iterate(multi([timeoutTask(10, 'a'), timeoutTask(5, 'b')], {unordered: true})))
        seen.push(v);
    assertEqual(seen, ['b', 'a']);
    assertEqual(await spawn(async job => {
        await job.sleep(5);
        return job.run([mainTask(() => 'x')]);
    }), ['x']);
    const channel = AsyncGui.Channel.new(4);
    setTransforms(channel, {write: v => v * 2, read: v => v + 1});
    const reader = channel.open_reader();
    await write(channel, 3);
    assertEqual(await read(reader), [7]);
    assertEqual(await pipe(x => x * x, 4).toArray(), [0, 1, 4, 9]);
    assertEqual(differences(before, snapshot()), []);
    assert(GLib.MainContext.default() && Gio.Cancellable, 'other namespaces are imported as usual');
});

main();
