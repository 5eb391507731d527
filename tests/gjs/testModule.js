// testModule.js — the GJS module's own behaviour: values, errors, signals,
// iteration, misuse.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import AsyncGui, {
    spawn, job as jobFunction, run, iterate, mainTask, timeoutTask, sleep, multi, processTask,
    AbortController, AbortSignal, setTransforms, write,
} from '../../bindings/gjs/asyncgui.js';
import {
    test, main, assert, assertEqual, assertBetween, assertRejects, now, delay, after,
} from './harness.js';

const {TaskState} = AsyncGui;

function isCancelled(e) {
    return e instanceof GLib.Error && e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED);
}

function failingTask(ms, error) {
    return mainTask(() => new Promise((_, reject) => after(ms, () => reject(error))));
}

test('await-task-outside-a-job', async () => {
    assertEqual(await run(timeoutTask(20, 5)), 5);
    assertEqual(await run(sleep(10)), null, 'a sleep has no value');
    const t = timeoutTask(20, 'once');
    const [a, b] = await Promise.all([run(t), run(t)]);
    assertEqual([a, b], ['once', 'once'], 'awaiting a task twice runs it once');
    assertEqual(await run(t), 'once', 'a finished task gives its value again');
    assertEqual(await run(multi([timeoutTask(30, 1), timeoutTask(10, 2)])), [1, 2]);
    assertEqual(await run([timeoutTask(20, 'a'), timeoutTask(10, 'b')]), ['a', 'b'], 'an array is a MultiTask');
});

test('run-on-own-engine', async () => {
    const engine = AsyncGui.Engine.new();
        assertEqual(await run(timeoutTask(10, 'x'), {engine}), 'x');
    engine.run_dispose();
});

test('values-round-trip', async () => {
    const obj = {deep: {list: [1, 2]}};
    const list = [1, 'two', {three: 3}];
    const file = Gio.File.new_for_path('/tmp');
    const variant = new GLib.Variant('a{sv}', {n: new GLib.Variant('i', 3)});
    const bytes = new GLib.Bytes([1, 2, 3]);
    class Point {
        constructor(x) {
            this.x = x;
        }
    }
    const point = new Point(4);
    const cases = [42, -7, 2.5, 2 ** 40, 'text', '', true, false, null, obj, list, file,
        variant, bytes, point];
    for (const v of cases) {
        // eslint-disable-next-line no-await-in-loop
        const outside = await run(mainTask(() => v));
        // eslint-disable-next-line no-await-in-loop
        const inside = await spawn(job => job.run(mainTask(() => v)));
        for (const got of [outside, inside]) {
            if (v instanceof GLib.Variant) {
                assert(got instanceof GLib.Variant, 'a GLib.Variant stays one');
                assertEqual(got.deepUnpack().n.unpack(), 3);
            } else if (v instanceof GLib.Bytes) {
                assertEqual([...got.get_data()], [1, 2, 3]);
            } else if (v instanceof Gio.File) {
                assertEqual(got.get_path(), '/tmp');
            } else {
                assert(got === v, `${String(v)} came back as ${String(got)}`);
            }
        }
    }
    assertEqual(await run(mainTask(() => undefined)), null, 'undefined becomes no value');
    // A GObject.Value goes as it is.
    const gv = new GObject.Value();
    gv.init(GObject.TYPE_UINT);
    gv.set_uint(9);
    assertEqual(await run(mainTask(() => gv)), 9);
});

test('multi-values-keep-js-values', async () => {
    const a = {a: 1}, b = [2];
    const values = await run(multi([mainTask(() => a), mainTask(() => b), timeoutTask(5, 3)]));
    assert(values[0] === a && values[1] === b && values[2] === 3, 'the same JS values');
});

test('job-value-seen-from-c', async () => {
    const j = spawn(async () => 'for C');
    await j;
    assertEqual(j.task.get_value(), 'for C');
    const k = spawn(async () => {});
    assertEqual(await k, null);
    assertEqual(k.state, TaskState.SUCCEEDED);
});

test('js-exception-stays-itself', async () => {
    const boom = new RangeError('out of range');
    const e1 = await assertRejects(run(mainTask(() => {
        throw boom;
    })));
    assert(e1 === boom, `the same exception outside a job: ${e1}`);

    const e2 = await assertRejects(spawn(job => job.run(mainTask(async () => {
        throw boom;
    }))).promise);
    assert(e2 === boom, `the same exception through a job: ${e2}`);

    const j = spawn(async () => {
        throw new TypeError('bad type');
    });
    const e3 = await assertRejects(j.promise);
    assert(e3 instanceof TypeError && e3.message === 'bad type', 'a JS job rejects with its exception');
    assertEqual(j.state, TaskState.FAILED);
    const cError = j.task.get_error();
    assert(cError.matches(AsyncGui.Error, AsyncGui.Error.FAILED), 'C sees AG_ERROR_FAILED');
    assertEqual(cError.message, 'TypeError: bad type');

    const inMulti = await assertRejects(run(multi([timeoutTask(5, 1), mainTask(() => {
        throw boom;
    })])));
    assert(inMulti === boom, 'a MultiTask fails with the child\'s own exception');
});

test('abort-signal-any-follows-its-signals-and-is-forgotten-once-one-aborts', async () => {
    const window = new AbortController();
    const request = new AbortController();
    const both = AbortSignal.any([window.signal, request.signal]);
    request.abort('typed again');
    assert(both.aborted && both.reason === 'typed again', 'any() aborts with the first signal');

    // A long-lived signal (a window's) combined with each request's: once
    // a request's aborts, the window's forgets the combined signal.
    const added = [];
    const removed = [];
    const windowLike = {
        aborted: false,
        addEventListener: (_type, listener) => added.push(listener),
        removeEventListener: (_type, listener) => removed.push(listener),
    };
    const superseded = new AbortController();
    const combined = AbortSignal.any([windowLike, superseded.signal]);
    superseded.abort();
    assert(combined.aborted, 'it follows the request');
    assertEqual(removed.length, 1, 'the window-like signal was told to forget it');
    assert(removed[0] === added[0], 'the very listener it was given');

    const held = AbortSignal.any([window.signal]);
    window.abort();
    assert(held.aborted, 'one still held follows its signal');
});

test('abort-signal-any-checks-every-signal-before-it-watches-one', () => {
    for (const bad of [42, null, undefined, {aborted: false}]) {
        let listening = 0;
        const ok = {
            aborted: false,
            addEventListener: () => listening++,
            removeEventListener: () => listening--,
        };
        let error = null;
        try {
            AbortSignal.any([ok, bad]);
        } catch (e) {
            error = e;
        }
        assert(error instanceof TypeError && /^asyncgui: /.test(error.message),
            `AbortSignal.any([ok, ${bad}]): ${error}`);
        assertEqual(listening, 0, `AbortSignal.any([ok, ${bad}]) left no listener`);
    }
});

// Runs `source`, an ES module that may import MODULE_URI, in a child
// gjs and resolves with its output; a child still running after 10 s
// (hung) is killed, and the promise rejects.
const MODULE_URI = GLib.Uri.resolve_relative(import.meta.url, '../../bindings/gjs/asyncgui.js',
    GLib.UriFlags.NONE);

async function runInChild(source) {
    const dir = GLib.dir_make_tmp('asyncgui-child-XXXXXX');
    const path = GLib.build_filenamev([dir, 'child.js']);
    GLib.file_set_contents(path, source);
    const child = Gio.Subprocess.new([GLib.find_program_in_path('gjs'), '-m', path],
        Gio.SubprocessFlags.STDOUT_PIPE | Gio.SubprocessFlags.STDERR_MERGE);
    let hung = false;
    const timer = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, 10, () => {
        hung = true;
        child.force_exit();
        return GLib.SOURCE_REMOVE;
    });
    const output = await new Promise((resolve, reject) => child.communicate_utf8_async(null, null,
        (c, result) => {
            try {
                resolve(c.communicate_utf8_finish(result)[1]);
            } catch (e) {
                reject(e);
            }
        }));
    if (!hung)
        GLib.source_remove(timer);
    GLib.unlink(path);
    GLib.rmdir(dir);
    if (hung)
        throw new Error(`the child hung; its output: ${output}`);
    return output;
}

test('abort-signal-any-of-a-gio-cancellable-that-fires-aborts-without-hanging', async () => {
    // Each signal's watch is forgotten once one fires, the firing
    // cancellable's too: not from inside its own 'cancelled' emission,
    // where g_cancellable_disconnect() would wait for itself.
    const output = await runInChild(`
        import Gio from 'gi://Gio';
        import {AbortSignal, AbortController} from '${MODULE_URI}';
        const c = new Gio.Cancellable();
        const other = new Gio.Cancellable();
        const s = AbortSignal.any([new AbortController().signal, c, other]);
        c.cancel();
        print(s.aborted ? 'aborted' : 'not aborted');
    `);
    assertEqual(output.trim(), 'aborted');
});

test('an-abort-listener-removed-by-an-earlier-one-is-not-called', () => {
    // As in browsers: a listener removed while the abort is dispatched,
    // once or not, does not run.
    for (const once of [false, true]) {
        const controller = new AbortController();
        const called = [];
        const second = () => called.push('second');
        controller.signal.addEventListener('abort', () => {
            called.push('first');
            controller.signal.removeEventListener('abort', second);
        }, {once});
        controller.signal.addEventListener('abort', second, {once});
        controller.abort();
        assertEqual(called, ['first'], `once: ${once}`);
    }
});

test('sleep-and-timeout-task-name-themselves-for-a-wrong-time', async () => {
    let handle;
    await spawn(async job => {
        handle = job;
    });
    for (const [call, make] of [['sleep()', ms => sleep(ms)], ['timeoutTask()', ms => timeoutTask(ms)],
        ['job.sleep()', ms => handle.sleep(ms)]]) {
        for (const ms of [-1, 'soon', NaN]) {
            let error = null;
            try {
                make(ms);
            } catch (e) {
                error = e;
            }
            assert(error instanceof RangeError && error.message.includes(call),
                `${call} of ${ms}: ${error}`);
        }
    }
    assert(sleep(1.5) instanceof AsyncGui.Task, 'a fraction of a millisecond is fine');
});

test('abort-signal-timeout-refuses-a-time-out-of-range-as-the-web-does', async () => {
    // Not a signal that aborts at once: the web's TypeError.
    for (const ms of [Infinity, NaN, -1, 'soon', 2 ** 32]) {
        let error = null;
        try {
            AbortSignal.timeout(ms);
        } catch (e) {
            error = e;
        }
        assert(error instanceof TypeError && /^asyncgui: AbortSignal\.timeout\(\)/.test(error.message),
            `AbortSignal.timeout(${ms}): ${error}`);
    }
    const signal = AbortSignal.timeout(0);
    assert(!signal.aborted, 'timeout(0) aborts from the main loop');
    await delay(10);
    assert(signal.aborted, 'and then it has');
});

test('abort-signal-cancels-run', async () => {
    const controller = new AbortController();
    const start = now();
    after(50, () => controller.abort());
    const e = await assertRejects(run(timeoutTask(1000, 'x'), {signal: controller.signal}));
    assert(isCancelled(e), `CANCELLED: ${e}`);
    assert(now() - start < 300, 'promptly');
    assert(controller.signal.aborted);

    const already = await assertRejects(run(timeoutTask(1000), {signal: AbortSignal.abort()}));
    assert(isCancelled(already), 'an aborted signal cancels at once');

    const timedOut = await assertRejects(run(timeoutTask(1000), {signal: AbortSignal.timeout(30)}));
    assert(isCancelled(timedOut), 'AbortSignal.timeout() cancels');

    const cancellable = new Gio.Cancellable();
    after(30, () => cancellable.cancel());
    assert(isCancelled(await assertRejects(run(timeoutTask(1000), {signal: cancellable}))),
        'a Gio.Cancellable works as a signal');

    // Any object with aborted + addEventListener.
    const listeners = [];
    const foreign = {aborted: false, addEventListener: (_t, l) => listeners.push(l)};
    after(30, () => {
        foreign.aborted = true;
        listeners.forEach(l => l());
    });
    assert(isCancelled(await assertRejects(run(timeoutTask(1000), {signal: foreign}))),
        'an AbortSignal-like object works');

    await assertRejects(run(timeoutTask(10), {signal: {}}), e => e instanceof TypeError,
        'a signal that is not one is a TypeError');
});

test('abort-signal-cancels-job', async () => {
    const controller = new AbortController();
    let cleanedUp = false;
    const j = spawn(async job => {
        try {
            await job.sleep(5000);
        } finally {
            cleanedUp = true;
        }
    }, {signal: controller.signal});
    after(30, () => controller.abort());
    assert(isCancelled(await assertRejects(j.promise)));
    assert(cleanedUp);
    assertEqual(j.state, TaskState.CANCELLED);
});

test('signal-cancels-one-await-in-a-job', async () => {
    const value = await spawn(async job => {
        try {
            await job.run(timeoutTask(5000), {signal: AbortSignal.timeout(30)});
        } catch (e) {
            assert(isCancelled(e));
        }
        return job.run(timeoutTask(10, 'carried on'));
    });
    assertEqual(value, 'carried on');
});

test('cancel-is-one-shot', async () => {
    const j = spawn(async job => {
        let first;
        try {
            await job.run(timeoutTask(5000));
        } catch (e) {
            first = e;
        }
        assert(isCancelled(first));
        return job.run(timeoutTask(10, 'again'));
    });
    after(20, () => j.cancel());
    assertEqual(await j, 'again');
    assertEqual(j.state, TaskState.SUCCEEDED);
});

test('cancel-before-await-cancels-next-await', async () => {
    let resolveGate;
    const gate = new Promise(r => {
        resolveGate = r;
    });
    const j = spawn(async job => {
        await gate;   // a plain JS await: the job is not awaiting a task
        const start = now();
        try {
            await job.run(timeoutTask(5000));
        } catch (e) {
            return [isCancelled(e), now() - start < 200];
        }
        return 'not cancelled';
    });
    j.cancel();
    resolveGate();
    assertEqual(await j, [true, true]);
});

test('promise-in-a-job-is-paused-and-cancelled', async () => {
    const start = now();
    let at = 0;
    const j = spawn(async job => {
        const v = await job.run(new Promise(resolve => after(50, () => resolve('p'))));
        at = now() - start;
        return v;
    });
    after(10, () => j.pause());
    after(200, () => j.resume());
    assertEqual(await j, 'p');
    assert(at >= 200, `held while paused (${Math.round(at)} ms)`);

    const k = spawn(job => job.run(new Promise(() => {})));
    after(20, () => k.cancel());
    assert(isCancelled(await assertRejects(k.promise)), 'a promise that never settles is cancelled');
});

test('array-awaits-in-parallel', async () => {
    const start = now();
    const values = await spawn(job => job.run([timeoutTask(100, 'a'), timeoutTask(100, 'b'),
        sleep(100)]));
    assertEqual(values, ['a', 'b', null]);
    assert(now() - start < 190, 'in parallel');
});

test('array-waits-for-jobs-and-tasks-that-run-already', async () => {
    const handler = jobFunction(async (job, value) => {
        await job.sleep(30);
        return value;
    });
    const finished = timeoutTask(0, 'finished');
    await run(finished);
    const values = await spawn(job => job.run([handler('first'), finished, handler('third')]));
    assertEqual(values, ['first', 'finished', 'third']);
});

test('a-task-goes-in-several-arrays-and-twice-in-one', async () => {
    const load = timeoutTask(20, 'load');
    const values = await spawn(async job => [
        await job.run([load]),
        await job.run([load, timeoutTask(0, 'other'), load]),
    ]);
    assertEqual(values, [['load'], ['load', 'other', 'load']]);
    assertEqual(await run(multi([load, load])), ['load', 'load']);
});

test('for-await-outside-a-job', async () => {
    const seen = [];
    const m = multi([timeoutTask(60, 'slow'), timeoutTask(10, 'fast'), failingTask(30, new Error('x'))],
        {unordered: true, skipErrors: true});
    for await (const v of iterate(m))
        seen.push(v);
    assertEqual(seen, ['fast', 'slow'], 'completion order, failed child skipped');
    assertEqual(await run(m), ['slow', 'fast'], "the MultiTask's own value is in list order");

    const withPositions = [];
    for await (const e of iterate(multi([timeoutTask(30, 'x'), timeoutTask(10, 'y')], {unordered: true}),
        {positions: true}))
        withPositions.push([e.position, e.value]);
    assertEqual(withPositions, [[1, 'y'], [0, 'x']]);

    const ordered = [];
    for await (const v of iterate(multi([timeoutTask(30, 0), timeoutTask(10, 1)])))
        ordered.push(v);
    assertEqual(ordered, [0, 1], 'list order when not unordered');
});

test('for-await-throws-when-the-multi-fails', async () => {
    const boom = new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED, 'child failed');
    const seen = [];
    const e = await assertRejects((async () => {
        for await (const v of iterate(multi([timeoutTask(10, 1), failingTask(30, boom)], {unordered: true})))
            seen.push(v);
    })());
    assert(e instanceof GLib.Error && e.message === 'child failed', `the child's error: ${e}`);
    assertEqual(seen, [1]);
});

test('for-await-break-cancels-the-rest', async () => {
    const m = multi([timeoutTask(10, 'first'), timeoutTask(2000, 'second')], {unordered: true});
    const start = now();
    for await (const v of iterate(m)) {
        assertEqual(v, 'first');
        break;
    }
    assert(now() - start < 500, 'leaving the loop did not wait for the rest');
    assertEqual(m.get_state(), TaskState.CANCELLED);
    // The child's own CANCELLED comes at a later delivery.
    await delay(50);
    assertEqual(m.get_item(1).get_state(), TaskState.CANCELLED);
});

test('for-await-in-a-job-pauses-and-cancels', async () => {
    const start = now();
    const times = [];
    const j = spawn(async job => {
        const m = multi([timeoutTask(20, 'a'), timeoutTask(60, 'b'), timeoutTask(100, 'c')],
            {unordered: true});
        for await (const v of job.iterate(m))
            times.push([v, now() - start]);
    });
    after(40, () => j.pause());
    after(300, () => j.resume());
    await j;
    assertEqual(times.map(t => t[0]), ['a', 'b', 'c']);
    assert(times[0][1] < 40, 'a before the pause');
    assert(times[1][1] >= 300 && times[2][1] >= 300, `b and c held until the resume: ${JSON.stringify(times)}`);

    const seen = [];
    const k = spawn(async job => {
        for await (const v of job.iterate(multi([timeoutTask(10, 'x'), timeoutTask(5000, 'y')], {unordered: true})))
            seen.push(v);
    });
    after(50, () => k.cancel());
    const began = now();
    assert(isCancelled(await assertRejects(k.promise)), 'the loop ends with CANCELLED');
    assert(now() - began < 300, 'promptly');
    assertEqual(seen, ['x']);
});

// 'b' finishes while the job is paused: the cancel that comes next
// (lifting the pause) must reach the loop before 'b' does, however it
// comes: through the handle, or on the AsyncGui.Job itself, as C code or
// another binding would make it (the handle is bypassed; C knows).
async function pauseThenCancelALoop(cancel) {
    const seen = [];
    const j = spawn(async job => {
        const m = multi([timeoutTask(10, 'a'), timeoutTask(60, 'b'), timeoutTask(5000, 'c')],
            {unordered: true});
        for await (const v of job.iterate(m))
            seen.push(v);
    });
    after(30, () => j.pause());
    after(150, () => cancel(j));
    assert(isCancelled(await assertRejects(j.promise)), 'the loop ends with CANCELLED');
    assertEqual(seen, ['a'], 'nothing after the cancel');
}

test('for-await-in-a-job-paused-then-cancelled-gets-no-further-value', async () => {
    await pauseThenCancelALoop(j => j.cancel());

    // Values already announced when the job's body cancels it: the next
    // step throws CANCELLED, and a job that catches it goes on.
    const after2 = [];
    const k = spawn(async job => {
        const m = multi([timeoutTask(10, 'x'), timeoutTask(10, 'y'), timeoutTask(10, 'z')]);
        try {
            for await (const v of job.iterate(m)) {
                after2.push(v);
                job.cancel();
            }
        } catch (e) {
            assert(isCancelled(e), `the loop throws CANCELLED: ${e}`);
            await job.sleep(5);
            return 'went on';
        }
        return 'no cancel';
    });
    assertEqual(await k, 'went on');
    assertEqual(after2, ['x'], 'no value after the cancel');
}, {timeoutMs: 5000});

test('for-await-in-a-job-paused-then-cancelled-through-its-agjob-gets-no-further-value', async () => {
    await pauseThenCancelALoop(j => j.task.cancel());
}, {timeoutMs: 5000});

test('for-await-in-a-job-cancelled-between-awaits-ends-with-cancelled', async () => {
    // The cancel comes while the job's own code runs (as when it reads
    // results that are already there): its next await fails at once, and
    // the MultiTask it would have run ends cancelled without running.
    const m = multi([timeoutTask(10, 'x')]);
    const seen = [];
    const j = spawn(async job => {
        job.cancel();
        for await (const v of job.iterate(m))
            seen.push(v);
    });
    assert(isCancelled(await assertRejects(j.promise)), 'the loop ends with CANCELLED');
    assertEqual(seen, []);
    assertEqual(m.get_state(), TaskState.CANCELLED);
    assertEqual(m.get_item(0).get_state(), TaskState.CANCELLED);
}, {timeoutMs: 5000});

test('for-await-in-a-job-that-cannot-await-it-throws-why', async () => {
    // A job awaits one thing at a time: the MultiTask never runs, so no
    // result would ever come; the loop throws the refusal instead.
    const m = multi([timeoutTask(10, 'x')]);
    const j = spawn(async job => {
        const sleeping = job.sleep(50);
        let refusal = null;
        try {
            for await (const v of job.iterate(m))
                throw new Error(`got ${v}`);
        } catch (e) {
            refusal = e;
        }
        await sleeping;
        return refusal;
    });
    const refusal = await j;
    assert(/already awaiting something/.test(refusal?.message), `refused: ${refusal}`);
    assertEqual(m.get_state(), TaskState.PENDING);
}, {timeoutMs: 5000});

test('job-function-wrapper', async () => {
    const handler = jobFunction(async (job, a, b) => {
        await job.sleep(10);
        return a + b;
    });
    const j1 = handler(1, 2), j2 = handler(3, 4);
    assert(j1.task instanceof AsyncGui.Job && j1 !== j2, 'each call starts a job');
    assertEqual(await Promise.all([j1, j2]), [3, 7]);
    const engine = AsyncGui.Engine.new();
    const onEngine = jobFunction(async job => job.task.get_engine(), {engine});
    assert(await onEngine() === engine, 'job(fn, {engine}) starts jobs on that engine');
    engine.run_dispose();
});

test('a-job-that-failed-unawaited-is-reported', async () => {
    const reported = [];
    const logErrorBefore = globalThis.logError;
    globalThis.logError = (e, message) => reported.push([e, message]);
    try {
        const handler = jobFunction(async job => {
            await job.sleep(10);
            throw new RangeError('nobody saw this');
        });
        handler();
        // Awaited, by a promise or by another job, or cancelled: quiet.
        await assertRejects(handler());
        await assertRejects(spawn(async job => job.run(handler())));
        const cancelled = spawn(async job => job.sleep(1000));
        cancelled.task.cancel();
        await delay(100);
    } finally {
        globalThis.logError = logErrorBefore;
    }
    assertEqual(reported.length, 1, `one report: ${reported.map(r => r[1])}`);
    assert(reported[0][0] instanceof RangeError && /nobody awaited/.test(reported[0][1]),
        `the job's own exception, said so: ${reported[0]}`);
});

test('misuse-messages-have-the-prefix-and-name-what-was-given', async () => {
    const reader = AsyncGui.Channel.new(1).open_reader();
    const cases = [
        [() => iterate(undefined), /cannot iterate undefined:/],
        [() => iterate(null), /cannot iterate null:/],
        [() => iterate({}), /cannot iterate an Object:/],
        [() => iterate(async () => 1), /cannot iterate an AsyncFunction:/],
        [() => run(timeoutTask(1), {engine: reader}), /an AsyncGui\.ChannelReader is not an AsyncGui\.Engine/],
        [() => mainTask(42), /mainTask\(\) needs a function, not number 42/],
        [() => spawn('job'), /spawn\(\) needs a function, not string job/],
        [() => processTask(42), /processTask\(\) needs a module URI and an export name/],
        [() => run(timeoutTask(1), {signal: 42}), /number 42 is not an AbortSignal-like object/],
    ];
    for (const [fn, pattern] of cases) {
        // Thrown at once, or a rejection (run()).
        const {message} = await assertRejects((async () => fn())()); // eslint-disable-line no-await-in-loop
        assert(message.startsWith('asyncgui: ') && pattern.test(message), `${pattern}: ${message}`);
    }
    for (const [channel, name] of [[{}, 'an Object'], [reader, 'an AsyncGui.ChannelReader']]) {
        const e = await assertRejects(write(channel, 1)); // eslint-disable-line no-await-in-loop
        assert(e.message === `asyncgui: ${name} is not an AsyncGui.Channel`, e.message);
    }
});

test('misuse-is-reported', async () => {
    // Two awaits at once in one job.
    const results = await spawn(async job => {
        const first = job.run(timeoutTask(30, 1));
        const second = await assertRejects(job.run(timeoutTask(10, 2)));
        return [await first, second instanceof Error && /already awaiting/.test(second.message)];
    });
    assertEqual(results, [1, true]);

    // A job awaiting itself, by its handle or its AsyncGui.Job.
    const itself = await spawn(async job => [
        (await assertRejects(job.run(job))).message,
        (await assertRejects(job.run(job.task))).message,
    ]);
    assert(itself.every(m => /cannot await itself/.test(m)), `refused: ${itself}`);

    // A task somebody else started is waited for, not run again.
    const started = timeoutTask(10, 'x');
    const p = run(started);
    assertEqual(await spawn(job => job.run(started)).promise, 'x');
    assertEqual(await p, 'x');

    // Awaiting through a job that has finished.
    let finished;
    await spawn(async job => {
        finished = job;
    });
    await assertRejects(finished.run(timeoutTask(1)), err => /finished/.test(err.message));

    // processTask() checks its arguments.
    let badProcess;
    try {
        processTask(42);
    } catch (err) {
        badProcess = err;
    }
    assert(badProcess instanceof TypeError, 'processTask() needs a URI and an export');

    // multi() checks its options.
    const thrown = fn => {
        try {
            fn();
        } catch (err) {
            return err;
        }
        return null;
    };
    assert(thrown(() => multi([], {maxWorkers: -1})) instanceof RangeError, 'a negative maxWorkers');
    assert(/no option 'maxworkers'/.test(thrown(() => multi([], {maxworkers: 2}))?.message),
        'a misspelt option is refused');
    assert(thrown(() => multi([], {maxWorkers: 2 ** 32 + 3})) instanceof RangeError,
        'a maxWorkers C cannot hold is refused, not wrapped around');
    assert(/no option 'sigal'/.test((await assertRejects(run(timeoutTask(1), {sigal: null})))?.message),
        'run() refuses a misspelt option');
    assert(/is not an AsyncGui.Engine/.test((await assertRejects(run(timeoutTask(1), {engine: 'x'})))?.message),
        'run() names a wrong engine');
    assert(/no option 'sigal'/.test(thrown(() => spawn(async () => {}, {sigal: null}))?.message),
        'spawn() refuses a misspelt option');
    assert(/no option 'postions'/.test(thrown(() => iterate(multi([]), {postions: true}))?.message),
        'iterate() refuses a misspelt option');
    const inJob = await spawn(async job => [
        (await assertRejects(job.run(timeoutTask(1), {sigal: null})))?.message,
        thrown(() => job.iterate(multi([]), {keepopen: true}))?.message,
    ]);
    assert(/no option 'sigal'/.test(inJob[0]), `job.run() refuses a misspelt option: ${inJob[0]}`);
    assert(/no option 'keepopen'/.test(inJob[1]), `job.iterate() refuses a misspelt option: ${inJob[1]}`);
    const transformed = AsyncGui.Channel.new(1);
    assert(/no option 'wrtie'/.test(thrown(() => setTransforms(transformed, {wrtie: x => x}))?.message),
        'setTransforms() refuses a misspelt transform');

    // Iterating something that is not a MultiTask.
    let notMulti;
    try {
        iterate(timeoutTask(1));
    } catch (err) {
        notMulti = err;
    }
    assert(notMulti instanceof TypeError);

    // Iterating a MultiTask that already runs: its results stream opens
    // only before the run.
    const running = multi([timeoutTask(10, 'a')]);
    const ran = run(running);
    let alreadyRunning;
    try {
        iterate(running);
    } catch (err) {
        alreadyRunning = err;
    }
    assert(alreadyRunning instanceof TypeError && /before it runs/.test(alreadyRunning.message),
        `a started MultiTask is refused: ${alreadyRunning}`);
    assertEqual(await ran, ['a']);

    assertRejects(spawn(job => job.run()).promise, err => err instanceof TypeError);
    let notFn;
    try {
        spawn(42);
    } catch (err) {
        notFn = err;
    }
    assert(notFn instanceof TypeError, 'spawn() needs a function');
});

const WORKER_MODULE = GLib.Uri.resolve_relative(import.meta.url, './worker-module.js',
    GLib.UriFlags.NONE);

test('a-gjs-worker-is-replaced-after-many-calls-and-no-call-is-lost', async () => {
    // GJS 1.74 keeps every GLib.Variant it makes, about a kilobyte per
    // call in a worker: a worker leaves after 2,000 calls, for a fresh one.
    const engine = new AsyncGui.Engine();
    engine.get_worker_pool().set_max_processes(1);
    const pids = new Set();
    for (let i = 0; i < 2100; i++)
        // eslint-disable-next-line no-await-in-loop
        pids.add(await run(processTask(WORKER_MODULE, 'pid'), {engine}));
    assertEqual(pids.size, 2, 'two workers served the calls, one after the other');
    engine.run_dispose();
}, {timeoutMs: 60000});

test('a-gjs-function-reading-or-closing-stdin-reads-nothing-and-keeps-its-worker', async () => {
    // stdin is not the requests' pipe: a read would wait for the next
    // request, and a close would end the worker.
    const engine = new AsyncGui.Engine();
    const pool = engine.get_worker_pool();
    pool.set_max_processes(1);
    pool.timeout_ms = 3000;
    const {size, pid} = await run(processTask(WORKER_MODULE, 'readStdin'), {engine});
    assertEqual(size, 0, 'stdin reads nothing');
    assertEqual(await run(processTask(WORKER_MODULE, 'pid'), {engine}), pid,
        'the same worker serves the next call');
    engine.run_dispose();
});

test('process-task-runs-js-in-a-worker', async () => {
    assertEqual(await run(processTask(WORKER_MODULE, 'countPrimes', 1000)), {n: 1000, count: 168});
    const inJob = await spawn(job => job.run([processTask(WORKER_MODULE, 'countPrimes', 100),
        processTask(WORKER_MODULE, 'countPrimes', 10)]));
    assertEqual(inJob, [{n: 100, count: 25}, {n: 10, count: 4}]);
    const e = await assertRejects(spawn(job => job.run(processTask(WORKER_MODULE, 'fail', 'too far'))).promise);
    assert(e instanceof RangeError && e.message === 'too far', `the worker's RangeError: ${e}`);
    assert(e.gerror instanceof GLib.Error, 'with its GLib.Error');
    const inMulti = await assertRejects(run([processTask(WORKER_MODULE, 'countPrimes', 10),
        processTask(WORKER_MODULE, 'fail', 'further')]));
    assert(inMulti instanceof RangeError && inMulti.message === 'further',
        `through a MultiTask too: ${inMulti}`);
    // A class of the worker's own comes back as an Error of that name.
    const own = await assertRejects(run(processTask(WORKER_MODULE, 'failWithOwnError', 'full')));
    assert(own instanceof Error && own.name === 'QuotaError' && own.message === 'full' &&
        own.gerror instanceof GLib.Error && /failWithOwnError/.test(own.stack),
    `the worker's own error class: ${own}, stack ${own.stack}`);
    // A GLib.Error keeps its domain and code.
    const gio = await assertRejects(run(processTask(WORKER_MODULE, 'failOpening', '/no/such/file')));
    assert(gio instanceof GLib.Error && gio.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND) &&
        /No such file/.test(gio.message), `a GLib.Error from the worker: ${gio}`);
    // A result JSON cannot carry is refused, saying so.
    const lost = await assertRejects(run(processTask(WORKER_MODULE, 'returnAFunction')));
    assert(lost instanceof TypeError && /returned a function, which JSON cannot carry/.test(lost.message),
        `a function as the result: ${lost}`);
}, {timeoutMs: 30000});

test('process-task-timeout-fails-a-hanging-call', async () => {
    // A warm worker first, so that the timeout times the call alone.
    await run(processTask(WORKER_MODULE, 'countPrimes', 10));
    const task = processTask(WORKER_MODULE, 'hang');
    assertEqual(task.timeout_ms, -1, "the engine's timeout by default");
    task.timeout_ms = 500;
    const start = now();
    const e = await assertRejects(run(task));
    assert(e instanceof GLib.Error && e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.TIMED_OUT),
        `timed out: ${e}`);
    assertBetween(now() - start, 490, 3000, 'after about the timeout');
    assertEqual(await run(processTask(WORKER_MODULE, 'countPrimes', 10)), {n: 10, count: 4},
        'the next call runs in a fresh worker');
}, {timeoutMs: 30000});

test('pause-resume-state-and-sleep-remainder', async () => {
    const j = spawn(job => job.sleep(100));
    j.pause();
    assert(j.paused);
    await delay(150);
    assert(j.paused, 'still paused');
    const resumedAt = now();
    j.resume();
    await j;
    assertBetween(now() - resumedAt, 80, 400, 'the sleep kept its remainder');
});

test('resuming-a-job-that-runs-unpaused-throws-and-quiet-cases-stay-quiet', async () => {
    const j = spawn(job => job.sleep(100));
    let thrown = null;
    try {
        j.resume();
    } catch (e) {
        thrown = e;
    }
    assert(thrown instanceof Error && /not paused/.test(thrown.message),
        `resume() of a job that runs unpaused throws why (where C would print a critical): ${thrown}`);
    // What C accepts without a word stays quiet: resuming the job a cancel
    // lifted the pause of, and pausing or resuming a job that has ended.
    j.pause();
    j.cancel();
    j.resume();
    assert(isCancelled(await assertRejects(j.promise)));
    j.pause();
    j.resume();
});

test('cancel-paused-job', async () => {
    const j = spawn(job => job.run(timeoutTask(50, 'x')));
    j.pause();
    await delay(100);
    j.cancel();
    assert(isCancelled(await assertRejects(j.promise)), 'cancelling a paused job resumes it with CANCELLED');
});

main();
