// testPipelines.js — channels, dependencies and pipelines from GJS.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import System from 'system';
import AsyncGui, {
    pipe, pipelineEngine, Pipeline, read, write, iterate, setTransforms, andThen, dependencyValues,
    mainTask, timeoutTask, multi, run, spawn, AbortController, setCollectEvery,
} from '../../bindings/gjs/asyncgui.js';
import {test, main, assert, assertEqual, assertRejects, delay, after} from './harness.js';

const {TaskState} = AsyncGui;

function isCancelled(e) {
    return e instanceof GLib.Error && e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED);
}

function isIOError(e, code) {
    return e instanceof GLib.Error && e.matches(Gio.IOErrorEnum, code);
}

function onMainThread() {
    return GLib.MainContext.default().is_owner();
}

function refused(fn, pattern) {
    try {
        fn();
    } catch (e) {
        return e instanceof TypeError && pattern.test(e.message);
    }
    return false;
}

// A generator that counts what was pulled from it and whether it was closed.
function counted(limit = Infinity) {
    const state = {pulled: 0, closed: false};
    state.iterable = (function* () {
        try {
            for (let i = 0; i < limit; i++) {
                state.pulled++;
                yield i;
            }
        } finally {
            state.closed = true;
        }
    })();
    return state;
}

// ---------------------------------------------------------------------------
// Pipelines

test('reading-two-of-an-endless-range-calls-the-function-twice', async () => {
    const calls = [];
    const doubled = pipe(x => {
        calls.push({x, onMain: onMainThread()});
        return x * 2;
    }, Infinity);
    assertEqual(calls.length, 0, 'nothing runs before the output is read');
    assertEqual(await doubled.read(2), [0, 2]);
    assertEqual(calls.map(c => c.x), [0, 1], 'exactly two calls');
    assert(calls.every(c => c.onMain), 'the function ran on the main thread');
    await delay(50);
    assertEqual(calls.length, 2, 'nothing runs while nobody reads');
    assertEqual(await doubled.read(1), [4]);
    assertEqual(calls.length, 3);
    doubled.cancel();
});

test('pipelines-run-on-a-serial-engine', async () => {
    assertEqual(pipelineEngine().max_threads, 0, 'the shared pipeline engine is serial');
    assert(pipelineEngine() === pipelineEngine(), 'and made once');
    const engine = AsyncGui.Engine.new();
    engine.max_threads = 0;
    let onMain = null;
    const own = pipe(x => {
        onMain = onMainThread();
        return x + 1;
    }, 3, {engine});
    assertEqual(await own.toArray(), [1, 2, 3]);
    assertEqual(onMain, true, 'on the main thread with an own serial engine');
    assertEqual(own.task.get_state(), TaskState.SUCCEEDED);
    assertEqual(own.task.get_value(), 3, 'the task counts the outputs');
    engine.run_dispose();
});

test('min-count-five-reading-one-calls-five-times', async () => {
    let calls = 0;
    const p = pipe(x => {
        calls++;
        return x * 2;
    }, Infinity, {minCount: 5});
    assertEqual(p.task.min_count, 5);
    assertEqual(await p.read(1), [0]);
    assertEqual(calls, 5, 'one read ran min-count inputs');
    assertEqual(await p.read(4), [2, 4, 6, 8], 'the other four were already made');
    assertEqual(calls, 5, 'without more calls');
    p.cancel();
});

test('failure-at-three-gives-the-outputs-before-then-throws', async () => {
    const boom = new RangeError('input 3 is out of range');
    const seen = [];
    const p = pipe(x => {
        if (x === 3)
            throw boom;
        return x * 2;
    }, Infinity);
    const e = await assertRejects((async () => {
        for await (const v of p)
            seen.push(v);
    })());
    assertEqual(seen, [0, 2, 4], 'the outputs before the failing input, in order');
    assert(e === boom, `the function's own exception: ${e}`);
    assertEqual(p.task.get_state(), TaskState.FAILED);
    const cError = p.task.get_error();
    assert(cError.matches(AsyncGui.Error, AsyncGui.Error.FAILED), 'C sees AG_ERROR_FAILED');
    assertEqual(cError.message, 'RangeError: input 3 is out of range');

    // A GLib.Error keeps its domain and code; read() gives the outputs, then throws.
    const gerror = new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND, 'no such input');
    const q = pipe(x => {
        if (x === 2)
            throw gerror;
        return x;
    }, 10);
    assertEqual(await q.read(10), [0, 1], 'a read returns early with what came before');
    const e2 = await assertRejects(q.read(1));
    assert(e2 === gerror, `the same GLib.Error: ${e2}`);
    assertEqual(q.task.get_error().code, Gio.IOErrorEnum.NOT_FOUND);
});

test('js-iterable-source-is-consumed-lazily', async () => {
    const source = counted();
    const p = pipe(x => x * 10, source.iterable);
    await delay(30);
    assertEqual(source.pulled, 0, 'nothing pulled before the output is read');
    assertEqual(await p.read(2), [0, 10]);
    assert(source.pulled >= 2 && source.pulled <= 4, `pulled a few ahead at most: ${source.pulled}`);
    await delay(30);
    assert(source.pulled <= 4, `nothing more pulled while nobody reads: ${source.pulled}`);
    assertEqual(await p.read(3), [20, 30, 40]);
    assert(source.pulled <= 7, `still lazy: ${source.pulled}`);
    p.cancel();
    await delay(50);
    assert(source.closed, 'stopping the pipeline closes the source');

    // Arrays, strings and async generators are iterables too.
    assertEqual(await pipe(s => s.toUpperCase(), ['a', 'b']).toArray(), ['A', 'B']);
    assertEqual(await pipe(c => c.charCodeAt(0), 'AB').toArray(), [65, 66]);
    async function* slowly() {
        yield 1;
        await delay(10);
        yield 2;
    }
    assertEqual(await pipe(x => -x, slowly()).toArray(), [-1, -2]);
    assertEqual(await pipe(x => x, []).toArray(), [], 'an empty source');
});

test('js-source-failure-fails-the-pipeline-at-its-position', async () => {
    const broken = new TypeError('the source broke');
    function* source() {
        yield 'a';
        yield 'b';
        throw broken;
    }
    const seen = [];
    const e = await assertRejects((async () => {
        for await (const v of pipe(s => s + s, source()))
            seen.push(v);
    })());
    assertEqual(seen, ['aa', 'bb']);
    assert(e === broken, `the source's exception: ${e}`);
});

test('two-chained-stages', async () => {
    const first = pipe(x => x + 1, 5);
    const second = first.pipe(x => `#${x * 10}`);
    assert(second instanceof Pipeline && second !== first);
    assertEqual(await second.toArray(), ['#10', '#20', '#30', '#40', '#50']);
    assertEqual(first.task.get_state(), TaskState.SUCCEEDED, 'reading the last stage ran the first');
    assertEqual(second.task.get_state(), TaskState.SUCCEEDED);

    // A failure in the first stage reaches the reader of the second.
    const boom = new Error('stage one failed');
    const seen = [];
    const chained = pipe(x => {
        if (x === 2)
            throw boom;
        return x;
    }, Infinity).pipe(x => x * 100).pipe(x => x + 1);
    const e = await assertRejects((async () => {
        for await (const v of chained)
            seen.push(v);
    })());
    assertEqual(seen, [1, 101]);
    assert(e === boom, `the first stage's exception through two stages: ${e}`);

    // Each stage reads on demand: two outputs of the last need two inputs.
    let calls = 0;
    const lazy = pipe(x => {
        calls++;
        return x;
    }, Infinity).pipe(x => x * 2);
    assertEqual(await lazy.read(2), [0, 2]);
    assertEqual(calls, 2, 'the first stage ran twice');
    lazy.cancel();
});

test('emit-adds-outputs-before-the-returned-one', async () => {
    const p = pipe((word, {emit, cancellable}) => {
        assert(cancellable instanceof Gio.Cancellable, 'the pipeline\'s cancellable');
        for (const letter of word.slice(0, -1))
            emit(letter);
        return word.slice(-1);
    }, ['ab', 'c', 'def']);
    assertEqual(await p.toArray(), ['a', 'b', 'c', 'd', 'e', 'f']);

    let late;
    const q = pipe((x, {emit}) => {
        late = emit;
        return x;
    }, 1);
    await q.toArray();
    let error;
    try {
        late('too late');
    } catch (e) {
        error = e;
    }
    assert(error instanceof Error && /only while/.test(error.message), `emit after return: ${error}`);
});

test('a-stage-returning-or-emitting-work-to-await-fails-at-that-input', async () => {
    // A stage function cannot await: a task, a promise of one, a job, a
    // pipeline or an async generator is refused as an output, and the
    // reader gets the TypeError as the failure at that input.
    const kinds = {
        'a task': () => timeoutTask(1, 'v'),
        'a MultiTask': () => multi([]),
        'a promise of a task': () => Promise.resolve(timeoutTask(1, 'v')),
        "a job's AsyncGui.Job": () => spawn(async () => 1).task,
        'a job': () => spawn(async () => 1),
        'a pipeline': () => pipe(x => x, 1),
        'an async generator': () => (async function* () {})(),
    };
    for (const [kind, make] of Object.entries(kinds)) {
        for (const how of ['return', 'emit']) {
            const outputs = [];
            // eslint-disable-next-line no-await-in-loop
            const e = await assertRejects((async () => {
                for await (const v of pipe((x, {emit}) => {
                    if (x !== 2)
                        return x;
                    if (how === 'emit')
                        emit(make());
                    return how === 'return' ? make() : x;
                }, 4))
                    outputs.push(v);
            })());
            assert(e instanceof TypeError && /not a promise, a task/.test(e.message),
                `${how} ${kind}: ${e}`);
            assertEqual(outputs, [0, 1], `${how} ${kind}: the outputs before that input`);
        }
    }

    // Wrapped in an object, a task travels as any value.
    const task = timeoutTask(1, 'v');
    const [wrapped] = await pipe(() => ({task}), 1).toArray();
    assert(wrapped.task === task, 'a wrapped task is an output');
});

test('break-out-of-for-await-cancels-the-pipeline', async () => {
    const source = counted();
    const first = pipe(x => x, source.iterable);
    const last = first.pipe(x => x * 3);
    const seen = [];
    for await (const v of last) {
        seen.push(v);
        if (seen.length === 3)
            break;
    }
    assertEqual(seen, [0, 3, 6]);
    assertEqual(last.task.get_state(), TaskState.CANCELLED, 'the task ends cancelled');
    assertEqual(first.task.get_state(), TaskState.CANCELLED, 'and, by then, the stage before it');
    assert(source.closed, 'and the source was closed');

    // The same over an endless range.
    const endless = pipe(x => x, Infinity);
    for await (const v of endless) {
        if (v === 1)
            break;
    }
    assertEqual(endless.task.get_state(), TaskState.CANCELLED);
});

test('leaving-a-loop-over-a-waiting-async-source-is-prompt-and-closes-it-once-it-settles', async () => {
    // A JS async generator cannot return while its next() is pending: the
    // loop leaves at once, and the source closes once that next() settles.
    const within = (promise, ms) => Promise.race([promise.then(() => true, () => true),
        delay(ms).then(() => false)]);
    for (const how of ['break', 'a throw in the body', 'a break in job.iterate()']) {
        let release, closed = false;
        const gate = new Promise(resolve => (release = resolve));
        const p = pipe(x => x, (async function* () {
            try {
                yield 1;
                await gate;
                yield 2;
                yield 3;
            } finally {
                closed = true;
            }
        })());
        const loop = how === 'a break in job.iterate()'
            ? spawn(async job => {
                for await (const v of job.iterate(p)) // eslint-disable-line no-unused-vars
                    break;
            }).promise
            : (async () => {
                for await (const v of p) { // eslint-disable-line no-unused-vars
                    if (how === 'a throw in the body')
                        throw new Error('body');
                    break;
                }
            })();
        assert(await within(loop, 1000), `${how} leaves the loop at once`); // eslint-disable-line no-await-in-loop
        assertEqual(p.task.get_state(), TaskState.CANCELLED, `${how} cancels the pipeline`);
        assert(!closed, 'the source waits in its next()');
        release();
        await delay(20); // eslint-disable-line no-await-in-loop
        assert(closed, `once its next() settled, the source was closed (${how})`);
    }
});

test('a-pipeline-dropped-after-a-partial-read-is-cancelled-once-collected', async () => {
    let task;
    await (async () => {
        const p = pipe(x => x, Infinity);
        task = p.task;
        assertEqual(await p.read(3), [0, 1, 2]);
    })();
    // The Pipeline and its reader are unreachable now; collecting them
    // closes the reader, which cancels the pipeline.
    for (let i = 0; i < 40 && task.get_state() === TaskState.RUNNING; i++) {
        System.gc();
        await delay(25);
    }
    assertEqual(task.get_state(), TaskState.CANCELLED, 'the dropped pipeline stopped');
});

test('cancel-and-signal-end-the-loop-with-cancelled', async () => {
    const controller = new AbortController();
    const seen = [];
    const p = pipe(x => x, Infinity, {signal: controller.signal});
    const e = await assertRejects((async () => {
        for await (const v of p) {
            seen.push(v);
            if (v === 2)
                controller.abort();
        }
    })());
    assert(isCancelled(e), `CANCELLED: ${e}`);
    assertEqual(seen, [0, 1, 2]);
    assertEqual(p.task.get_state(), TaskState.CANCELLED);

    const q = pipe(x => x, Infinity);
    assertEqual(await q.read(1), [0]);
    q.cancel();
    assert(isCancelled(await assertRejects(q.toArray())), 'reading a cancelled pipeline throws CANCELLED');

    // A read waiting for an input that does not come ends with CANCELLED.
    const inputs = AsyncGui.Channel.new(4);
    const r = pipe(x => x, inputs.open_reader());
    await write(inputs, 'only');
    assertEqual(await r.read(1), ['only']);
    after(30, () => r.cancel());
    assert(isCancelled(await assertRejects(r.read(1))), 'the pending read throws CANCELLED');
    assertEqual(r.task.get_state(), TaskState.CANCELLED);
    assert(isIOError(await assertRejects(write(inputs, 'more')), Gio.IOErrorEnum.BROKEN_PIPE),
        'the pipeline closed its input reader');
});

test('a-stage-signal-holds-a-listener-only-while-its-pipeline-runs', async () => {
    // A long-lived signal (a window's) given to pipe(): counted listeners.
    const window = new AbortController();
    const listeners = new Set();
    const {addEventListener: add, removeEventListener: remove} = window.signal;
    Object.assign(window.signal, {
        addEventListener(type, listener, options) {
            listeners.add(listener);
            add.call(this, type, listener, options);
        },
        removeEventListener(type, listener) {
            listeners.delete(listener);
            remove.call(this, type, listener);
        },
    });
    for (let i = 0; i < 5; i++)
        assertEqual(await pipe(x => x, 3, {signal: window.signal}).pipe(x => x + 1).toArray(), [1, 2, 3]);
    assertEqual(listeners.size, 0, 'an earlier stage that ended lets the signal go');
    for (let i = 0; i < 5; i++)
        pipe(x => x, 3, {signal: window.signal}).pipe(x => x, {signal: window.signal});
    assertEqual(listeners.size, 0, 'a pipeline never read holds no listener');

    // The signal of an earlier stage still cancels it while it runs,
    // and one that aborted before the read cancels it at once.
    const seen = [];
    const e = await assertRejects((async () => {
        for await (const v of pipe(x => x, Infinity, {signal: window.signal}).pipe(x => x)) {
            seen.push(v);
            if (v === 2)
                window.abort();
        }
    })());
    assert(isCancelled(e), `CANCELLED: ${e}`);
    assertEqual(seen, [0, 1, 2]);
    assertEqual(listeners.size, 0, 'an aborted signal holds nothing');
    const late = pipe(x => x, Infinity).pipe(x => x, {signal: window.signal});
    assert(isCancelled(await assertRejects(late.toArray())), 'a signal aborted before the read cancels it');
});

test('job-iterate-ties-a-pipeline-or-a-reader-loop-to-the-job', async () => {
    // Cancelling the job ends its loop with CANCELLED; the pipeline stops,
    // a reader stays open (as when a signal aborts its loop).
    const p = pipe(x => x, Infinity);
    const seen = [];
    const overPipeline = spawn(async job => {
        for await (const v of job.iterate(p)) {
            seen.push(v);
            await job.sleep(5);
        }
    });
    await delay(50);
    overPipeline.cancel();
    assert(isCancelled(await assertRejects(overPipeline.promise)), 'the job ends cancelled');
    const count = seen.length;
    await delay(50);
    assertEqual(seen.length, count, 'no output reached the loop after the cancel');
    assertEqual(p.task.get_state(), TaskState.CANCELLED);

    const channel = AsyncGui.Channel.new(4);
    const reader = channel.open_reader();
    const overReader = spawn(async job => {
        for await (const v of job.iterate(reader))
            seen.push(v);
    });
    await write(channel, 'one');
    await delay(20);
    overReader.cancel();
    assert(isCancelled(await assertRejects(overReader.promise)), 'the job ends cancelled');
    assertEqual(seen[seen.length - 1], 'one');
    await write(channel, 'kept');
    assertEqual(await read(reader, 1), ['kept'], 'the reader stays open');
});

test('a-for-await-over-a-hundred-thousand-outputs-never-stalls', async () => {
    // GJS 1.74 drops a callback that comes while its collector sweeps; a
    // loop of callbacks this long met one (after about 40,000 items) and
    // waited for ever, unless the module collects now and then.
    let count = 0, sum = 0;
    for await (const v of pipe(x => x + 1, 100000)) {
        count++;
        sum += v;
    }
    assertEqual(count, 100000);
    assertEqual(sum, 100000 * 100001 / 2);
    let range = null;
    try {
        setCollectEvery(-1);
    } catch (e) {
        range = e;
    }
    assert(range instanceof RangeError, 'a negative count is refused');
}, {timeoutMs: 60000});

test('an-iterator-given-up-early-ends-its-loop-at-once', async () => {
    // Code that merges streams or bounds the wait for the next item calls
    // return() itself: before the first next(), or while a next() waits.
    const within = (promise, ms) => Promise.race([promise.then(() => true),
        delay(ms).then(() => false)]);
    const cases = () => [
        ['a reader', AsyncGui.Channel.new(1)],
        ['a pipeline', null],
        ['a multi-task', null],
    ];
    for (const waiting of [false, true]) {
        for (const [what, channel] of cases()) {
            const m = what === 'a multi-task' ? multi([timeoutTask(10000, 1)]) : null;
            const line = what === 'a pipeline' ? pipe(x => x, AsyncGui.Channel.new(4).open_reader()) : null;
            const iterator = (line ?? iterate(m ?? channel.open_reader()))[Symbol.asyncIterator]();
            if (waiting) {
                iterator.next().catch(() => {});
                await delay(20); // eslint-disable-line no-await-in-loop
            }
            const when = waiting ? 'while a next() waits' : 'before any next()';
            // eslint-disable-next-line no-await-in-loop
            assert(await within(iterator.return(), 2000), `return() ${when} ends the loop over ${what}`);
            await delay(20); // eslint-disable-line no-await-in-loop
            if (channel !== null) {
                // eslint-disable-next-line no-await-in-loop
                assert(isIOError(await assertRejects(write(channel, 1)), Gio.IOErrorEnum.BROKEN_PIPE),
                    `the reader was closed (${when})`);
            } else {
                assertEqual((m ?? line.task).get_state(), TaskState.CANCELLED,
                    `${what} was cancelled (${when})`);
            }
        }
    }
});

test('pipelines-over-a-list-model-and-a-channel-reader', async () => {
    const store = new Gio.ListStore({item_type: Gio.File});
    for (const name of ['a.txt', 'b.txt', 'c.txt'])
        store.append(Gio.File.new_for_path(`/tmp/${name}`));
    const names = pipe(file => {
        assert(file instanceof Gio.File, 'the model\'s objects');
        return file.get_basename();
    }, store);
    assertEqual(await names.toArray(), ['a.txt', 'b.txt', 'c.txt']);

    const channel = AsyncGui.Channel.new(4);
    const squares = pipe(x => x * x, channel.open_reader());
    (async () => {
        for (const x of [1, 2, 3])
            await write(channel, x); // eslint-disable-line no-await-in-loop
        channel.close();
    })();
    assertEqual(await squares.toArray(), [1, 4, 9]);
});

test('js-values-travel-through-a-pipeline', async () => {
    const obj = {n: 1};
    const list = [1, 2];
    class Point {
        constructor(x) {
            this.x = x;
        }
    }
    const point = new Point(3);
    const file = Gio.File.new_for_path('/tmp');
    const uint = new GObject.Value();
    uint.init(GObject.TYPE_UINT);
    uint.set_uint(9);
    const inputs = [obj, list, point, file, 'text', 2.5, true, null, undefined, uint];
    const outputs = await pipe(v => v, inputs).toArray();
    assert(outputs[0] === obj && outputs[1] === list && outputs[2] === point,
        'JS objects, arrays and class instances come back as themselves');
    assertEqual(outputs[3].get_path(), '/tmp');
    assertEqual(outputs.slice(4), ['text', 2.5, true, null, null, 9],
        'undefined becomes null; a GObject.Value goes as it is');
});

test('js-objects-waiting-in-channels-survive-garbage-collection', async () => {
    const channel = AsyncGui.Channel.new(64);
    const reader = channel.open_reader();
    for (let i = 0; i < 64; i++)
        await write(channel, {i, list: [i]}); // eslint-disable-line no-await-in-loop
    System.gc();
    System.gc();
    const items = await read(reader, 64);
    assert(items.every((o, i) => o.i === i && o.list[0] === i), 'every object intact after a GC');

    // Outputs made ahead (min-count) wait in the pipeline's output channel.
    const p = pipe(x => ({x, pad: new Array(8).fill(x)}), Infinity, {minCount: 50});
    assertEqual((await p.read(1))[0].x, 0);
    System.gc();
    System.gc();
    const rest = await p.read(49);
    assert(rest.every((o, i) => o.x === i + 1 && o.pad[7] === i + 1), 'pipeline outputs intact after a GC');
    p.cancel();
});

// ---------------------------------------------------------------------------
// Channels

test('channel-for-await-over-writes-from-the-main-loop', async () => {
    const channel = AsyncGui.Channel.new(2);
    const reader = channel.open_reader();
    const obj = {id: 7};
    const file = Gio.File.new_for_path('/tmp');
    const values = [0, 'one', 2.5, obj, file, [3, 4], null];
    // A C thread cannot be started from JS; the main loop writes, a few
    // milliseconds apart, waiting for room when the channel is full.
    (async () => {
        for (const v of values) {
            await delay(5); // eslint-disable-line no-await-in-loop
            await write(channel, v); // eslint-disable-line no-await-in-loop
        }
        channel.close();
    })();
    const seen = [];
    for await (const item of iterate(reader))
        seen.push(item);
    assertEqual(seen.length, values.length, 'every item, then the loop ends once drained');
    assertEqual(seen.slice(0, 3), [0, 'one', 2.5]);
    assert(seen[3] === obj, 'a JS object is the very object');
    assert(seen[4] instanceof Gio.File && seen[4].get_path() === '/tmp', 'a GObject');
    assertEqual(seen[5], [3, 4]);
    assertEqual(seen[6], null);
    assert(reader.is_drained());

    const other = AsyncGui.Channel.new(4);
    const otherReader = other.open_reader();
    await write(other, 'x');
    other.close();
    const viaIterate = [];
    for await (const item of iterate(otherReader))
        viaIterate.push(item);
    assertEqual(viaIterate, ['x'], 'a second reader, to the end');
});

test('channel-read-counts-timeouts-and-signals', async () => {
    const channel = AsyncGui.Channel.new(8);
    const reader = channel.open_reader();
    for (const v of [1, 2])
        await write(channel, v); // eslint-disable-line no-await-in-loop
    assertEqual(await read(reader, 3, {timeoutMs: 30}), [1, 2], 'a timeout gives what came');
    assert(!reader.is_drained(), 'a timeout is not the end');
    assertEqual(await read(reader, 0), [], 'count 0 takes what is waiting now');
    for (const timeoutMs of [NaN, null, '50']) {
        // eslint-disable-next-line no-await-in-loop
        assert(await assertRejects(read(reader, 1, {timeoutMs})) instanceof TypeError,
            `a timeout of ${timeoutMs} is refused, not taken for 0`);
    }

    const controller = new AbortController();
    after(20, () => controller.abort());
    assert(isCancelled(await assertRejects(read(reader, 1, {signal: controller.signal}))),
        'a signal cancels the read');
    await write(channel, 'kept');
    assertEqual(await read(reader), ['kept'], 'the cancelled read lost nothing');

    after(10, () => write(channel, 'later'));
    assertEqual(await read(reader, 1), ['later'], 'a read waits for the item');

    channel.close();
    assert(isIOError(await assertRejects(write(channel, 1)), Gio.IOErrorEnum.CLOSED),
        'writing a closed channel fails with CLOSED');
    assertEqual(await read(reader, 5), [], 'closed and drained');
    assert(reader.is_drained());

    const lonely = AsyncGui.Channel.new(1);
    const gone = lonely.open_reader();
    const early = [];
    (async () => {
        await write(lonely, 'a');
        await write(lonely, 'b');
        lonely.close();
    })();
    for await (const item of iterate(gone)) {
        early.push(item);
        break;
    }
    assertEqual(early, ['a']);
    assert(isIOError(await assertRejects(write(lonely, 'c')), Gio.IOErrorEnum.BROKEN_PIPE),
        'leaving the loop closed the last reader: writers see BROKEN_PIPE');

    const kept = AsyncGui.Channel.new(2);
    const keptReader = kept.open_reader();
    await write(kept, 1);
    await write(kept, 2);
    for await (const item of iterate(keptReader, {keepOpen: true})) {
        assertEqual(item, 1);
        break;
    }
    assertEqual(await read(keptReader), [2], 'keepOpen leaves the reader open');
});

// ---------------------------------------------------------------------------
// Channel transforms

test('a-job-cancelled-around-a-read-or-write-loses-no-item', async () => {
    const channel = AsyncGui.Channel.new(8);
    const reader = channel.open_reader();
    // Cancelled while it waits: items written after that stay.
    let job = spawn(j => j.read(reader, 3));
    await delay(30);
    job.cancel();
    for (let i = 0; i < 5; i++)
        channel.write(i, 0);
    assert(isCancelled(await assertRejects(job.promise)), 'the job ends cancelled');
    assertEqual(await read(reader, 10, {timeoutMs: 0}), [0, 1, 2, 3, 4]);

    // Cancelled when the read has its items but the job has not seen them.
    job = spawn(j => j.read(reader, 2));
    await delay(30);
    channel.write('a', 0);
    channel.write('b', 0);
    job.cancel();
    assert(isCancelled(await assertRejects(job.promise)), 'cancelled after the read ended');
    assertEqual(await read(reader, 10, {timeoutMs: 0}), ['a', 'b']);

    // Cancelled while paused, after the read ended: the job held the items.
    job = spawn(j => j.read(reader, 1));
    job.pause();
    await write(channel, 'held');
    await delay(30);
    job.cancel();
    assert(isCancelled(await assertRejects(job.promise)), 'cancelled while paused');
    assertEqual(await read(reader, 10, {timeoutMs: 0}), ['held']);

    // The click handler's way: cancel the paused job, start the next at
    // once; the next job reads the held items first.
    for (const how of ['read', 'iterate']) {
        const seen = [];
        const body = async (j, name) => {
            if (how === 'read') {
                seen.push([name, ...await j.read(reader, 2)]);
                return;
            }
            for await (const item of j.iterate(reader, {keepOpen: true})) {
                seen.push([name, item]);
                if (seen.length === 4)
                    break;
            }
        };
        const first = spawn(body, {args: ['first']});
        first.promise.catch(() => {});
        first.pause();
        channel.write(1, 0);
        channel.write(2, 0);
        await delay(30); // eslint-disable-line no-await-in-loop
        first.cancel();
        const next = spawn(body, {args: ['next']});
        channel.write(3, 0);
        channel.write(4, 0);
        await next.promise; // eslint-disable-line no-await-in-loop
        assertEqual(seen.map(([, ...items]) => items).flat().slice(0, how === 'read' ? 2 : 4),
            how === 'read' ? [1, 2] : [1, 2, 3, 4], `the held items come first (${how})`);
        assert(seen.every(([name]) => name === 'next'), `only the next job saw items (${how})`);
        await read(reader, 10, {timeoutMs: 0}); // eslint-disable-line no-await-in-loop
    }

    // A job's reads and writes work as read() and write() do.
    assertEqual(await spawn(async j => {
        await j.write(channel, 'x');
        return j.read(reader, 1);
    }), ['x']);

    // A write cancelled while it waits for room stores nothing.
    const full = AsyncGui.Channel.new(1);
    const fullReader = full.open_reader();
    full.write('first', 0);
    job = spawn(j => j.write(full, 'cancelled'));
    await delay(30);
    job.cancel();
    assertEqual(await read(fullReader, 1, {timeoutMs: 0}), ['first']);
    assert(isCancelled(await assertRejects(job.promise)), 'the writing job ends cancelled');
    full.close();
    assertEqual(await read(fullReader, 10), []);
});

test('a-job-cancelled-at-any-point-of-its-read-loses-no-item', async () => {
    // The items are there; the job is cancelled after 0, 1, 2, ...
    // iterations of the loop, whichever step of the read's way to the job
    // that falls on. Each item is then the job's or the channel's.
    const channel = AsyncGui.Channel.new(8);
    const reader = channel.open_reader();
    const context = GLib.MainContext.default();
    for (let steps = 0; steps < 8; steps++) {
        const got = [];
        const job = spawn(async j => got.push(...await j.read(reader, 2)));
        channel.write(`a${steps}`, 0);
        channel.write(`b${steps}`, 0);
        for (let i = 0; i < steps; i++)
            context.iteration(false);
        job.cancel();
        // eslint-disable-next-line no-await-in-loop
        await job.promise.catch(() => {});
        // eslint-disable-next-line no-await-in-loop
        const left = await read(reader, 10, {timeoutMs: 0});
        assertEqual([...got, ...left], [`a${steps}`, `b${steps}`], `cancelled after ${steps} steps`);
    }
});

test('a-transform-set-once-the-channel-is-in-use-is-refused', async () => {
    const channel = AsyncGui.Channel.new(2);
    channel.open_reader();
    for (const which of ['read', 'write']) {
        let thrown = null;
        try {
            setTransforms(channel, {[which]: v => v});
        } catch (e) {
            thrown = e;
        }
        assert(thrown instanceof Error && /before it is first written/.test(thrown.message),
            `a ${which} transform: ${thrown}`);
    }
});

test('write-transform-changes-each-item-on-the-main-thread', async () => {
    const calls = [];
    const channel = AsyncGui.Channel.new(64);
    setTransforms(channel, {write: v => {
        calls.push(onMainThread());
        return v + 1;
    }});
    const reader = channel.open_reader();
    await write(channel, 1);
    await write(channel, 41);
    assertEqual(await read(reader, 2), [2, 42]);
    assertEqual(calls, [true, true], 'on the main thread, once per item');

    const obj = {id: 1};
    const typed = AsyncGui.Channel.new(4);
    setTransforms(typed, {write: v => ({v, obj})});
    const typedReader = typed.open_reader();
    await write(typed, 'a');
    const [got] = await read(typedReader);
    assertEqual(got.v, 'a', 'the item may change its type');
    assert(got.obj === obj, 'a JS object comes back as itself');
});

test('read-transform-changes-each-item-when-read', async () => {
    const channel = AsyncGui.Channel.new(8);
    setTransforms(channel, {read: v => `<${v}>`});
    const reader = channel.open_reader();
    for (const v of [1, 2, 3])
        await write(channel, v); // eslint-disable-line no-await-in-loop
    channel.close();
    assertEqual(await read(reader, 2), ['<1>', '<2>']);
    const rest = [];
    for await (const item of iterate(reader))
        rest.push(item);
    assertEqual(rest, ['<3>']);
});

test('a-throwing-write-transform-rejects-the-write-with-its-own-exception', async () => {
    const boom = new RangeError('cannot take 3');
    const channel = AsyncGui.Channel.new(8);
    setTransforms(channel, {write: v => {
        if (v === 3)
            throw boom;
        return v;
    }});
    const reader = channel.open_reader();
    assert(await assertRejects(write(channel, 3)) === boom, 'the very exception');
    await write(channel, 4);
    assertEqual(await read(reader, 8, {timeoutMs: 0}), [4], 'the failed write stored nothing');

    const returnsPromise = AsyncGui.Channel.new(2);
    setTransforms(returnsPromise, {write: async v => v});
    const e = await assertRejects(write(returnsPromise, 1));
    assert(e instanceof TypeError && /not a\s+promise/.test(e.message), `an async transform: ${e}`);
});

test('writes-failing-at-once-each-get-their-own-exception-and-c-sees-a-gerror', async () => {
    const channel = AsyncGui.Channel.new(8);
    setTransforms(channel, {write: v => {
        throw new RangeError(`no ${v}`);
    }});
    const reader = channel.open_reader();
    const [a, b] = await Promise.allSettled([write(channel, 1), write(channel, 2)]);
    assert(a.reason instanceof RangeError && a.reason.message === 'no 1', `the first's: ${a.reason}`);
    assert(b.reason instanceof RangeError && b.reason.message === 'no 2', `the second's: ${b.reason}`);

    // The GI call gets the GLib.Error that carries it.
    let gerror;
    try {
        channel.write(3, 0);
    } catch (e) {
        gerror = e;
    }
    assert(gerror instanceof GLib.Error && gerror.matches(AsyncGui.Error, AsyncGui.Error.FAILED) &&
        /RangeError: no 3/.test(gerror.message), `a GLib.Error for C: ${gerror}`);
    assertEqual(await read(reader, 8, {timeoutMs: 0}), []);
});

test('a-throwing-read-transform-rejects-the-read-with-its-own-exception', async () => {
    const thrown = [];
    const channel = AsyncGui.Channel.new(8);
    setTransforms(channel, {read: v => {
        if (v === 2 || v === 5) {
            thrown.push(new Error(`bad ${v}`));
            throw thrown[thrown.length - 1];
        }
        return v + 100;
    }});
    const reader = channel.open_reader();
    for (let i = 0; i < 7; i++)
        await write(channel, i); // eslint-disable-line no-await-in-loop
    channel.close();

    assertEqual(await read(reader, 4, {timeoutMs: 0}), [100, 101], 'the items before the failing one');
    assert(await assertRejects(read(reader, 4, {timeoutMs: 0})) === thrown[0],
        'then its very exception');
    const got = [];
    let caught;
    try {
        for await (const item of iterate(reader, {keepOpen: true}))
            got.push(item);
    } catch (e) {
        caught = e;
    }
    assertEqual(got, [103, 104]);
    assert(caught === thrown[1], `for await throws it too: ${caught}`);
    assertEqual(await read(reader, 4, {timeoutMs: 0}), [106], 'the items after it stay');
    assert(reader.is_drained());
});

// ---------------------------------------------------------------------------
// Dependencies

test('add-dependency-runs-the-dependency-first', async () => {
    const order = [];
    const config = {path: '/etc'};
    const load = mainTask(() => new Promise(resolve => after(30, () => {
        order.push('load');
        resolve(config);
    })));
    const use = mainTask((_cancellable, task) => {
        order.push('use');
        const [loaded] = dependencyValues(task);
        return loaded.path;
    });
    use.add_dependency(load);
    assertEqual(use.get_n_dependencies(), 1);
    assertEqual(await run(use), '/etc');
    assertEqual(order, ['load', 'use'], 'the dependency ran first, on the same run');
    assertEqual(load.get_state(), TaskState.SUCCEEDED);
    assert(dependencyValues(use)[0] === config, 'the very JS value');

    // A running job is a dependency too: it is waited for.
    const both = mainTask((_c, task) => dependencyValues(task).join('+'));
    both.add_dependency(timeoutTask(10, 'task'));
    both.add_dependency(spawn(async job => {
        await job.sleep(10);
        return 'job';
    }).task);
    assertEqual(await run(both), 'task+job');
});

test('a-multi-task-dependency-gives-the-list-of-its-values', async () => {
    const obj = {n: 2};
    const m = multi([mainTask(() => 1), mainTask(() => obj), timeoutTask(10, 'three')]);
    const direct = mainTask((_c, task) => dependencyValues(task));
    direct.add_dependency(timeoutTask(5, 'first'));
    direct.add_dependency(m);
    const [first, values] = await run(direct);
    assertEqual(first, 'first');
    assertEqual(values, [1, obj, 'three'], 'in list order');
    assert(values[1] === obj, 'the very JS value of the child');

    const skipping = multi([mainTask(() => 'kept'), mainTask(() => {
        throw new Error('skipped');
    })], {skipErrors: true});
    const after = mainTask((_c, task) => dependencyValues(task)[0]);
    after.add_dependency(skipping);
    assertEqual(await run(after), ['kept'], 'failed children left out with skip-errors');
    assertEqual(await run(andThen(multi([mainTask(() => 3), mainTask(() => 4)]), v => v)), [3, 4]);
});

test('dependency-cycle-throws-and-adds-nothing', async () => {
    const first = mainTask(() => 1);
    const second = mainTask((_c, task) => dependencyValues(task)[0] + 1);
    second.add_dependency(first);
    for (const dependency of [second, first]) {
        let thrown = null;
        try {
            first.add_dependency(dependency);
        } catch (e) {
            thrown = e;
        }
        assert(thrown instanceof GLib.Error && thrown.matches(AsyncGui.Error, AsyncGui.Error.DEPENDENCY_CYCLE),
            `a cycle throws DEPENDENCY_CYCLE: ${thrown}`);
    }
    assertEqual(first.get_n_dependencies(), 0, 'nothing was added');
    assertEqual(await run(second), 2);
});

test('failed-dependency-fails-the-task-without-running-it', async () => {
    const boom = new RangeError('the dependency failed');
    let ran = false;
    const dep = mainTask(() => {
        throw boom;
    });
    const task = mainTask(() => {
        ran = true;
    });
    task.add_dependency(dep);
    const e = await assertRejects(run(task));
    assert(e === boom, `the dependency's own exception: ${e}`);
    assert(!ran, 'the work never ran');
    assertEqual(task.get_state(), TaskState.FAILED);
    assertEqual(task.get_error().message, 'RangeError: the dependency failed', 'C sees its error');

    const cancelled = timeoutTask(5000);
    const waiting = mainTask(() => 'never');
    waiting.add_dependency(cancelled);
    after(20, () => cancelled.cancel());
    assert(isCancelled(await assertRejects(run(waiting))), 'a cancelled dependency cancels the task');
});

test('and-then-chains-on-the-main-context', async () => {
    const start = timeoutTask(20, {count: 2});
    let onMain = null;
    const doubled = andThen(start, value => {
        onMain = onMainThread();
        return value.count * 2;
    });
    const plusOne = andThen(doubled, async value => value + 1);
    assertEqual(await run(plusOne), 5, 'running the last task runs the chain');
    assertEqual(onMain, true);

    const boom = new Error('first failed');
    let called = false;
    const failing = andThen(mainTask(() => {
        throw boom;
    }), () => {
        called = true;
    });
    assert(await assertRejects(run(failing)) === boom && !called, 'a failure skips the function');

    assertEqual(await run(andThen(Promise.resolve(20), v => v + 1)), 21, 'after a promise');
});

// ---------------------------------------------------------------------------
// Misuse

test('misuse-is-refused', async () => {
    const threaded = AsyncGui.Engine.new();
    assert(threaded.max_threads > 0);
    assert(refused(() => pipe(x => x, 3, {engine: threaded}), /serial mode/),
        'an engine with threads is refused');
    threaded.run_dispose();

    const channel = AsyncGui.Channel.new(1);
    assert(refused(() => setTransforms(channel, {write: 42}), /setTransforms\(\) needs a function, not number 42/));
    assert(refused(() => pipe(x => x, {}), /cannot make a pipeline/));
    assert(refused(() => pipe(42, 3), /needs a function/));
    assert(refused(() => pipe(x => x, 3, {maxchunksize: 3}), /no option 'maxchunksize'/),
        'a misspelt option is refused');
    assert(refused(() => pipe(x => x, 3).pipe(x => x, {mincount: 2}), /no option 'mincount'/),
        'a misspelt option of a stage is refused');
    let range;
    try {
        pipe(x => x, -2);
    } catch (e) {
        range = e;
    }
    assert(range instanceof RangeError, 'a negative count');

    const p = pipe(x => x, 3);
    await p.read(1);
    let late;
    try {
        p.pipe(x => x);
    } catch (e) {
        late = e;
    }
    assert(late instanceof Error && /already being read/.test(late.message), `stage after reading: ${late}`);
    p.cancel();

    const q = pipe(x => x, 3);
    q.pipe(x => x);
    const notLast = await q.read(1).catch(err => err);
    assert(notLast instanceof Error && /feeds a next stage/.test(notLast.message), `reading a middle stage: ${notLast}`);

    const e = await assertRejects(pipe(async x => x, 2).toArray());
    assert(e instanceof TypeError && /not a\s+promise/.test(e.message), `an async function: ${e}`);

    await assertRejects(read('not a reader'), err => err instanceof TypeError);
    await assertRejects(write({}, 1), err => err instanceof TypeError);
    assert(refused(() => iterate(42), /cannot iterate/));
    assert(refused(() => new Pipeline(), /pipe\(\)/));
});

main();
