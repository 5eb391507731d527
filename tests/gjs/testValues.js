// testValues.js — JS values stay in C: a JS result is a GValue that C
// readers (GI's get_value(), dependencies, MultiTask rows) see, and that
// keeps its JS object alive exactly as long as the GValue lives.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import System from 'system';
import AsyncGui, {
    run, iterate, spawn, mainTask, multi, pipe, dependencyValues, valueOf, read, write,
} from '../../bindings/gjs/asyncgui.js';
import {test, main, assert, assertEqual, delay, now} from './harness.js';

class Point {
    constructor(x) {
        this.x = x;
    }
}

// Runs a task through GI alone, so that no promise of the module keeps its
// value reachable from JS: afterwards only the task's GValue holds it.
function runThroughGI(task) {
    return new Promise((resolve, reject) => {
        AsyncGui.Engine.get_default().run_async(task, null, (engine, result) => {
            try {
                engine.run_finish(result);
            } catch (e) {
                // A MultiTask's value is a GArray, which GJS cannot convert.
                if (e instanceof GLib.Error) {
                    reject(e);
                    return;
                }
            }
            resolve();
        });
    });
}

// Collects garbage with main-loop turns in between (GJS handles an
// object's last C reference going away on the main loop) until `done()`
// or the deadline.
async function collectUntil(done, ms = 5000) {
    const deadline = now() + ms;
    for (;;) {
        System.gc();
        // eslint-disable-next-line no-await-in-loop
        await delay(10);
        if (done() || now() > deadline)
            return done();
    }
}

// A GObject to put in a JS value, and a way to tell whether it still
// exists without holding it: a binding from it, which loses its source
// when it is finalized, i.e. once the JS value that held it was collected.
// (GJS 1.74 keeps every WeakRef target alive, so a WeakRef cannot tell.)
function watched() {
    const marker = new Gio.SimpleAction({name: 'marker'});
    const target = new Gio.SimpleAction({name: 'target'});
    const binding = marker.bind_property('enabled', target, 'enabled', GObject.BindingFlags.DEFAULT);
    return {marker, alive: () => target !== null && binding.dup_source() !== null};
}

// A main-context task whose value is a fresh Point holding a watched
// marker: once it ran, only the task's GValue holds the value.
function taskWithWatchedValue() {
    const {marker, alive} = watched();
    let pending = marker;
    const task = mainTask(() => {
        const value = new Point(pending);
        pending = null;
        return value;
    });
    return {task, alive};
}

test('a-js-result-survives-gc-while-its-task-holds-it-and-goes-after', async () => {
    let {task, alive} = taskWithWatchedValue();
    await runThroughGI(task);
    // Nothing in JS refers to the value: a collection that did not respect
    // the GValue would take it (and the marker) away.
    await collectUntil(() => false, 200);
    assert(alive(), 'the value is alive while the task holds its GValue');
    let got = await run(task);
    assert(got instanceof Point && got.x instanceof Gio.SimpleAction,
        `run() of the finished task reads the very value from C: ${got}`);

    task = got = null;
    assert(await collectUntil(() => !alive()),
        'the value is collected once the task (and its GValue) is gone');
});

test('awaiting-a-multi-task-keeps-none-of-its-values', async () => {
    // GJS 1.74 cannot convert the copy of a MultiTask's value that the
    // finish functions return, and never frees it: the module must not
    // ask for it, or every value awaited this way lives for good.
    const ways = [
        tasks => run(multi(tasks)),
        tasks => run(tasks),
        tasks => spawn(async job => {
            await job.run(tasks);
        }),
    ];
    for (const [i, way] of ways.entries()) {
        const watches = [taskWithWatchedValue(), taskWithWatchedValue()];
        const alive = () => watches.some(watch => watch.alive());
        await way(watches.map(watch => watch.task));
        for (const watch of watches)
            watch.task = null;
        assert(await collectUntil(() => !alive()), `way ${i}: the values went with the MultiTask`);
    }
});

test('a-job-value-survives-gc-while-the-job-holds-it', async () => {
    const {marker, alive} = watched();
    let pending = marker;
    const handle = spawn(async job => {
        await job.sleep(5);
        const value = new Point(pending);
        pending = null;
        return value;
    });
    await new Promise(resolve => handle.task.wait_async(null, () => resolve()));
    await collectUntil(() => false, 200);
    assert(alive(), 'the job\'s value is alive while the job holds it');
    const value = await handle;
    assert(value instanceof Point && value.x instanceof Gio.SimpleAction, 'the very value');
});

test('gi-get-value-gives-a-gobject-holding-the-js-value', async () => {
    const value = {answer: 42};
    const task = mainTask(() => value);
    assert(await run(task) === value);
    const fromGI = task.get_value();
    assert(fromGI instanceof GObject.Object, `a GObject, not ${fromGI}`);
    assert(fromGI !== true && fromGI !== null, 'not a placeholder');
    // Primitive and GI values are stored as themselves.
    const t = mainTask(() => 'text');
    await run(t);
    assertEqual(t.get_value(), 'text');
    const v = mainTask(() => new GLib.Variant('i', 5));
    await run(v);
    assertEqual(v.get_value().unpack(), 5);
});

test('a-dependency-value-is-read-from-c', async () => {
    let {task: first, alive} = taskWithWatchedValue();
    const second = mainTask((_c, task) => dependencyValues(task)[0] instanceof Point);
    second.add_dependency(first);
    first = null;
    await runThroughGI(second);
    await collectUntil(() => false, 200);
    assert(alive(), 'the dependency\'s value is alive while C holds it');
    const [dep] = dependencyValues(second);
    assert(dep instanceof Point && dep.x instanceof Gio.SimpleAction,
        'the dependant reads the very value through ag_task_get_dependency_value()');
    assertEqual(await run(second), true);
    assert(second.get_dependency_value(0) instanceof GObject.Object, 'C holds it as a GValue');
});

test('multi-task-rows-hold-the-js-values', async () => {
    const a = new Point(1), b = [2, 3];
    const m = multi([mainTask(() => a), mainTask(() => b)]);
    await runThroughGI(m);
    await collectUntil(() => false, 100);
    assert(m.get_item(0).get_value() instanceof GObject.Object, 'a row is a task whose GValue holds the value');
    const values = await run(m);
    assert(values[0] === a && values[1] === b, 'the rows give the very values');
    const seen = [];
    for await (const v of iterate(multi([mainTask(() => a)])))
        seen.push(v);
    assert(seen[0] === a);
});

test('value-of-a-row-is-its-js-value-once-it-succeeded', async () => {
    const a = new Point(1);
    let release;
    const late = new Promise(resolve => {
        release = resolve;
    });
    const m = multi([mainTask(() => a), mainTask(() => late), mainTask(() => 'text'),
        mainTask(() => {
            throw new RangeError('no');
        })]);
    const rows = [0, 1, 2, 3].map(i => m.get_item(i));
    assertEqual(valueOf(rows[0]), undefined, 'a pending row has no value yet');
    const notified = [];
    rows[1].connect('notify::value', row => notified.push(valueOf(row)));
    const done = run(m).catch(e => e);
    while (rows[0].get_state() !== AsyncGui.TaskState.SUCCEEDED)
        // eslint-disable-next-line no-await-in-loop
        await delay(5);
    await collectUntil(() => false, 100);
    assert(valueOf(rows[0]) === a, 'a row gives the very object its task returned');
    assertEqual(valueOf(rows[1]), undefined, 'a row still running has no value');
    const b = new Point(2);
    release(b);
    assert(await done instanceof RangeError, 'the run fails with the failed row');
    assert(notified.length === 1 && notified[0] === b, 'notify::value gives the value to valueOf');
    assertEqual(valueOf(rows[2]), 'text');
    assertEqual(valueOf(rows[3]), undefined, 'a failed row has no value');
    let thrown = null;
    try {
        valueOf({});
    } catch (e) {
        thrown = e;
    }
    assert(thrown instanceof TypeError, 'valueOf() takes only tasks');
});

test('a-pipeline-output-survives-gc-in-its-channel', async () => {
    const p = pipe(x => new Point(x), 20, {minCount: 20});
    const [first] = await p.read(1);
    assertEqual(first.x, 0);
    await collectUntil(() => false, 100);
    const rest = await p.read(19);
    assert(rest.every((pt, i) => pt instanceof Point && pt.x === i + 1), 'outputs made ahead are intact');
});

test('strings-c-cannot-hold-come-back-whole', async () => {
    // A NUL ends a C string, and a lone surrogate is no UTF-8.
    const strings = ['a\0b', '\0', 'x\uD800y', 'z\uDC00', 'plain', '\uD83D\uDE00'];
    for (const s of strings) {
        // eslint-disable-next-line no-await-in-loop
        assertEqual(await run(mainTask(() => s)), s, 'a task value');
    }
    assertEqual(JSON.stringify(await run(multi(strings.map(s => mainTask(() => s))))),
        JSON.stringify(strings), 'a MultiTask\'s values');
    const channel = AsyncGui.Channel.new(8);
    const reader = channel.open_reader();
    for (const s of strings) {
        // eslint-disable-next-line no-await-in-loop
        await write(channel, s);
    }
    assertEqual(JSON.stringify(await read(reader, strings.length)), JSON.stringify(strings),
        'channel items');
    const outputs = await pipe(i => strings[i], strings.length).read(strings.length);
    assertEqual(JSON.stringify(outputs), JSON.stringify(strings), 'pipeline outputs');
});

main();
