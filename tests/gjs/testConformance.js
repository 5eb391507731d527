// testConformance.js — the scenarios of docs/conformance.md, in GJS.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// "The job" is a JS async function driven by the module (spawn()), awaiting
// through job.run(). GJS cannot run JavaScript on a worker thread, so the
// "thread tasks" of the scenarios are main-context tasks that end from a
// GLib timeout (timeoutTask(), or mainTask() around a timeout): to the job
// they are the same kind of AgTask, run and delivered by the engine. Where
// that changes what a scenario can show (serial-mode, progress), the test
// says so.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import AsyncGui, {spawn, mainTask, timeoutTask, multi, run} from '../../bindings/gjs/asyncgui.js';
import {
    test, main, assert, assertEqual, assertBetween, assertRejects, now, delay, after,
} from './harness.js';

const TEST_DOMAIN = GLib.quark_from_string('asyncgui-gjs-test-error-quark');

// How much sooner than its remainder a resumed sleep may end: timers count
// in whole milliseconds.
const SLEEP_SLACK_MS = 5;

function testError(message = 'it broke', code = 7) {
    return new GLib.Error(TEST_DOMAIN, code, message);
}

// A main-context task that fails with `error` after `ms`.
function failingTask(ms, error) {
    return mainTask(() => new Promise((_, reject) => after(ms, () => reject(error))));
}

// A main-context task that ends after `ms` whatever happens meanwhile, as a
// worker thread that never looks at its cancellable would; `late` records
// when it tries to return.
function stubbornTask(ms, value, late) {
    return mainTask((_cancellable, task) => {
        after(ms, () => {
            late.returned = now();
            task.return_value(value);
        });
        return new Promise(() => {});   // the task is ended above, not by this
    });
}

function isCancelled(e) {
    return e instanceof GLib.Error && e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED);
}

const {TaskState} = AsyncGui;

test('sequential-handler-keeps-loop-alive', async () => {
    let ticks = 0;
    const id = GLib.timeout_add(GLib.PRIORITY_DEFAULT, 10, () => {
        ticks++;
        return GLib.SOURCE_CONTINUE;
    });
    let seen, onMainThread, ticksAtAwait;
    const job = spawn(async job => {
        ticksAtAwait = ticks;
        const v = await job.run(timeoutTask(300, 42));
        onMainThread = GLib.MainContext.default().is_owner();
        seen = v;
        return v;
    });
    const value = await job;
    GLib.source_remove(id);
    // A loop blocked for the await would tick once or twice after it; a
    // loaded machine may starve a running one of half its 30, not of all.
    assert(ticks - ticksAtAwait >= 5, `the 10 ms timer fired ${ticks - ticksAtAwait} times`);
    assert(onMainThread, 'the code after the await ran on the main thread');
    assertEqual(seen, 42);
    assertEqual(value, 42);
    assertEqual(job.state, TaskState.SUCCEEDED);
    assertEqual(job.task.get_value(), 42, "the AgJob's own value");
});

test('error-at-the-await', async () => {
    let caught;
    const job = spawn(async job => {
        try {
            await job.run(failingTask(50, testError('the disk is on fire', 7)));
        } catch (e) {
            caught = e;
        }
        return 'recovered';
    });
    assertEqual(await job, 'recovered');
    assert(caught instanceof GLib.Error, `a GLib.Error: ${caught}`);
    assertEqual(caught.domain, TEST_DOMAIN, 'domain');
    assertEqual(caught.code, 7, 'code');
    assertEqual(caught.message, 'the disk is on fire', 'message');
    assertEqual(job.state, TaskState.SUCCEEDED);
});

test('uncaught-error-fails-the-job', async () => {
    let after_ = false;
    const job = spawn(async job => {
        await job.run(failingTask(50, testError('uncaught', 9)));
        after_ = true;
    });
    const e = await assertRejects(job.promise);
    assert(!after_, 'the code after the failed await did not run');
    assertEqual(job.state, TaskState.FAILED);
    for (const err of [e, job.task.get_error()]) {
        assert(err instanceof GLib.Error, `a GLib.Error: ${err}`);
        assertEqual(err.domain, TEST_DOMAIN, 'domain');
        assertEqual(err.code, 9, 'code');
        assertEqual(err.message, 'uncaught', 'message');
    }
});

test('ordered-multi', async () => {
    const start = now();
    const value = await spawn(job =>
        job.run(multi([timeoutTask(300, 0), timeoutTask(100, 1), timeoutTask(200, 2)])));
    assertEqual(value, [0, 1, 2]);
    assert(now() - start < 550, `children ran in parallel (${Math.round(now() - start)} ms)`);
});

test('skip-errors', async () => {
    const children = () => [timeoutTask(300, 0), failingTask(100, testError('middle', 3)),
        timeoutTask(200, 2)];
    const skipped = await spawn(job => job.run(multi(children(), {skipErrors: true})));
    assertEqual(skipped, [0, 2]);

    const start = now();
    let failedAt = 0;
    const job = spawn(async job => {
        try {
            await job.run(multi(children()));
        } finally {
            failedAt = now() - start;
        }
    });
    const e = await assertRejects(job.promise);
    assert(e instanceof GLib.Error && e.domain === TEST_DOMAIN && e.code === 3 &&
        e.message === 'middle', `the middle child's error: ${e}`);
    assert(failedAt >= 280, `failed after all three finished (${Math.round(failedAt)} ms)`);
});

test('max-workers', async () => {
    const four = () => [0, 1, 2, 3].map(i => timeoutTask(300, i));
    let start = now();
    assertEqual(await spawn(job => job.run(multi(four(), {maxWorkers: 2}))), [0, 1, 2, 3]);
    assertBetween(now() - start, 550, 1500, 'max-workers 2');

    start = now();
    assertEqual(await spawn(job => job.run(multi(four()))), [0, 1, 2, 3]);
    assert(now() - start < 550, `no limit: ${Math.round(now() - start)} ms`);
});

test('unordered-order', async () => {
    const announced = [];
    await spawn(async job => {
        const m = multi([timeoutTask(500, 'a'), timeoutTask(100, 'b'), timeoutTask(300, 'c')],
            {unordered: true});
        for await (const name of job.iterate(m))
            announced.push(name);
    });
    assertEqual(announced, ['b', 'c', 'a']);
});

test('cancel-semantics', async () => {
    const late = {};
    const start = now();
    let cancelledAt = 0, error, cleanup = false, awaits = 0, sawValue = false;
    const task = stubbornTask(1000, 'too late', late);
    const job = spawn(async job => {
        try {
            awaits++;
            await job.run(task);
            sawValue = true;
        } catch (e) {
            error = e;
            error.at = now();
            throw e;
        } finally {
            cleanup = true;
        }
        awaits++;
        await job.run(timeoutTask(10, 'never'));
    });
    after(100, () => {
        cancelledAt = now();
        job.cancel();
    });
    await assertRejects(job.promise, isCancelled, 'the job ends with CANCELLED');
    assert(isCancelled(error), `the await failed with G_IO_ERROR_CANCELLED: ${error}`);
    assert(error.at - cancelledAt < 200, `within 200 ms of the cancel (${Math.round(error.at - cancelledAt)} ms)`);
    assert(cleanup, 'the cleanup code after the await ran');
    assertEqual(job.state, TaskState.CANCELLED);
    assertEqual(task.get_state(), TaskState.CANCELLED);
    // Wait past the task's own end: its late result is never seen.
    await delay(Math.max(0, 1200 - (now() - start)));
    assert(late.returned !== undefined, 'the stubborn task did try to return late');
    assert(!sawValue, "the task's late result was not seen");
    assertEqual(task.get_state(), TaskState.CANCELLED, 'the task stays cancelled');
    assertEqual(awaits, 1, 'nothing else was awaited');
});

test('pause-resume', async () => {
    const start = now();
    let continuedAt = 0, value;
    const task = timeoutTask(200, 'done');
    const job = spawn(async job => {
        value = await job.run(task);
        continuedAt = now() - start;
    });
    after(50, () => job.pause());
    await delay(300);
    assert(job.paused);
    assertEqual(task.get_state(), TaskState.SUCCEEDED, 'the task finished while the job was paused');
    assertEqual(continuedAt, 0, 'the code after the await did not run while paused');
    await delay(Math.max(0, 400 - (now() - start)));
    const resumedAt = now() - start;
    job.resume();
    await job;
    assert(continuedAt >= resumedAt, `continued at ${Math.round(continuedAt)} ms, resumed at ${Math.round(resumedAt)} ms`);
    assert(continuedAt >= 400, `continued not before 400 ms (${Math.round(continuedAt)} ms)`);
    assertEqual(value, 'done');
});

test('pause-keeps-sleep-remainder', async () => {
    const start = now();
    let wokeAt = 0, pausedAt = 0, resumedAt = 0;
    const job = spawn(async job => {
        await job.sleep(300);
        wokeAt = now() - start;
    });
    after(100, () => {
        pausedAt = now() - start;
        job.pause();
    });
    after(400, () => {
        resumedAt = now() - start;
        job.resume();
    });
    await job;
    // What was left of the 300 ms when the pause came (it may come late on
    // a loaded machine), counted from the resume.
    assertBetween(wokeAt, resumedAt + 300 - pausedAt - SLEEP_SLACK_MS, 900, 'woke up');
});

test('nested-jobs', async () => {
    let b;
    const a = spawn(async job => {
        b = spawn(async inner => inner.run(timeoutTask(50, 7)));
        return job.run(b);
    });
    assertEqual(await a, 7, 'A gets 7');
    assertEqual(b.state, TaskState.SUCCEEDED);
    assertEqual(b.task.get_value(), 7, "B's own value");
    assertEqual(await b, 7);
});

// JS cannot make a thread task (its function would be JS on a worker
// thread), so what this shows in GJS is the part JS can observe: with
// max-threads 0 the engine takes the setting, the tasks a job awaits run
// on the main thread one after another in the order awaited.
test('serial-mode', async () => {
    const engine = AsyncGui.Engine.new();
    engine.max_threads = 0;
    assertEqual(engine.max_threads, 0);
    const ran = [];
    const step = name => mainTask(() => {
        ran.push({name, main: GLib.MainContext.default().is_owner()});
        return new Promise(resolve => after(20, () => resolve(name)));
    });
    const values = await spawn(async job => [
        await job.run(step('first')),
        await job.run(step('second')),
        await job.run(step('third')),
    ], {engine});
    assertEqual(values, ['first', 'second', 'third']);
    assertEqual(ran.map(r => r.name), ['first', 'second', 'third'], 'run in the order awaited');
    assert(ran.every(r => r.main), 'every task ran on the main thread');
    engine.run_dispose();
});

// The progress is set from the task's function on the main context (in
// ten bursts of a hundred, from timeouts) since JS has no worker thread;
// the coalescing under test is the engine's, the same for every thread.
test('progress', async () => {
    let lastSet = -1;
    const task = mainTask(() => new Promise(resolve => {
        let burst = 0;
        const id = GLib.timeout_add(GLib.PRIORITY_DEFAULT, 5, () => {
            for (let i = 1; i <= 100; i++) {
                lastSet = (burst * 100 + i) / 1000;
                task.set_progress(lastSet);
            }
            burst++;
            if (burst < 10)
                return GLib.SOURCE_CONTINUE;
            resolve('done');
            return GLib.SOURCE_REMOVE;
        });
        void id;
    }));
    let notifies = 0, lastNotified = -1;
    task.connect('notify::progress', t => {
        notifies++;
        lastNotified = t.get_progress();
    });
    assertEqual(await spawn(job => job.run(task)), 'done');
    // Each burst runs in one callback, so its updates share a delivery.
    assert(notifies > 0 && notifies <= 10, `notified ${notifies} times for 1000 updates in 10 bursts`);
    assertEqual(lastNotified, lastSet, 'the last notified value is the last one set');
    assertEqual(lastSet, 1);
});

test('dispose-with-work-in-flight', async () => {
    const engine = AsyncGui.Engine.new();
    const late = {};
    let ranAfter = false, caught = false, started = false;
    const job = spawn(async job => {
        started = true;
        try {
            await job.run(stubbornTask(500, 'late', late));
            ranAfter = true;
        } catch {
            caught = true;
        }
        ranAfter = true;
    }, {engine});
    assert(started, 'the job started at once');
    await delay(100);
    engine.run_dispose();
    await delay(700);
    assert(late.returned !== undefined, 'the task tried to return after the dispose');
    assert(!ranAfter && !caught, 'no code of the job ran after the dispose');
    void job;
});

test('bad-input', async () => {
    const rejections = [];
    const job = spawn(async job => {
        for (const notATask of [42, 'task', {}, null, undefined, () => 1]) {
            try {
                // eslint-disable-next-line no-await-in-loop
                await job.run(notATask);
            } catch (e) {
                rejections.push(e);
            }
        }
        return job.run(timeoutTask(10, 'still fine'));
    });
    assertEqual(await job, 'still fine', 'the job carries on after the TypeErrors');
    assertEqual(rejections.length, 6);
    assert(rejections.every(e => e instanceof TypeError), `TypeErrors: ${rejections}`);

    // Outside a job too.
    await assertRejects(run(42), e => e instanceof TypeError, 'run(42) rejects with a TypeError');

    // Cancelling, pausing and resuming a finished job do nothing
    // (criticals are fatal here).
    job.cancel();
    job.pause();
    job.resume();
    assertEqual(job.state, TaskState.SUCCEEDED);
    assertEqual(await job, 'still fine');
});

main();
