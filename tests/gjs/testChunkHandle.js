// testChunkHandle.js — the introspected map and pipeline functions from GJS
// 1.74, without the module: each gets an AgChunk handle and ends its input
// through it. GJS runs JavaScript on its own thread only, so the engine is
// serial: the functions run inside its delivery, on this thread.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GObject from 'gi://GObject';
import System from 'system';
import AsyncGui from 'gi://AsyncGui?version=1';
import {test, main, assert, assertEqual} from './harness.js';

const {TaskState} = AsyncGui;

function serialEngine() {
    const engine = AsyncGui.Engine.new_for_context(null);
    engine.max_threads = 0;
    return engine;
}

// Runs `task` and resolves once it has ended.
function runToEnd(engine, task) {
    return new Promise(resolve => engine.run_async(task, null, () => resolve()));
}

function childValues(multi, positions) {
    return positions.map(position => {
        const [ok, value] = multi.get_child_value(position);
        assert(ok, `child ${position} succeeded`);
        return value;
    });
}

function expectCritical(pattern, fn) {
    GLib.test_expect_message('AsyncGui', GLib.LogLevelFlags.LEVEL_CRITICAL, pattern);
    fn();
    GLib.test_assert_expected_messages_internal('AsyncGui', 'testChunkHandle.js', 0, pattern);
}

function uint64(n) {
    const value = new GObject.Value();
    value.init(GObject.TYPE_UINT64);
    value.set_uint64(n);
    return value;
}

test('a-range-function-returns-values-and-errors-through-its-chunk', async () => {
    const engine = serialEngine();
    const multi = AsyncGui.MultiTask.new_map_range(5, (chunk, position) => {
        assertEqual(chunk.get_position(), position);
        assert(chunk.get_cancellable() instanceof Gio.Cancellable, 'the work has a cancellable');
        if (position === 3) {
            chunk.return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.INVALID_DATA, 'three'));
            return;
        }
        chunk.return_int(10 * position);
    });
    multi.skip_errors = true;
    await runToEnd(engine, multi);

    assertEqual(multi.get_state(), TaskState.SUCCEEDED);
    assertEqual(multi.n_failed, 1);
    assertEqual(childValues(multi, [0, 1, 2, 4]), [0, 10, 20, 40]);
    // get_child_value() of a failed child: GJS 1.74 converts the unset out
    // value before it looks at the error; the child's row has the error.
    assert(multi.get_item(3).get_error().matches(Gio.IOErrorEnum, Gio.IOErrorEnum.INVALID_DATA),
        'the child\'s own error');
    engine.run_dispose();
});

test('a-map-model-function-gets-the-objects', async () => {
    const engine = serialEngine();
    const store = new Gio.ListStore({item_type: Gio.SimpleAction});
    for (const name of ['a', 'b', 'c'])
        store.append(new Gio.SimpleAction({name}));
    const multi = AsyncGui.MultiTask.new_map_model(store, (chunk, item) => {
        chunk.return_string(item.get_name().toUpperCase());
    });
    await runToEnd(engine, multi);
    assertEqual(childValues(multi, [0, 1, 2]), ['A', 'B', 'C']);
    engine.run_dispose();
});

test('a-kept-chunk-is-replaced-and-refuses-late-use', async () => {
    const engine = serialEngine();
    const kept = [];
    const multi = AsyncGui.MultiTask.new_map_range(3, (chunk, position) => {
        kept.push(chunk);
        chunk.return_int(position);
    });
    multi.min_count = 3;
    await runToEnd(engine, multi);
    assertEqual(multi.get_state(), TaskState.SUCCEEDED);
    assert(kept[0] !== kept[1] && kept[1] !== kept[2], 'a handle JS holds is not given to the next input');
    System.gc();
    expectCritical('*not running*', () => kept[0].return_int(100));
    assertEqual(childValues(multi, [0]), [0], 'the late return changed nothing');
    engine.run_dispose();
});

test('a-function-that-does-not-return-fails-its-child', async () => {
    const engine = serialEngine();
    const multi = AsyncGui.MultiTask.new_map_range(2, (chunk, position) => {
        if (position === 0)
            chunk.return_nothing();
    });
    await runToEnd(engine, multi);
    assertEqual(multi.get_state(), TaskState.FAILED);
    assert(multi.get_error().matches(AsyncGui.Error, AsyncGui.Error.NO_RESULT), 'NO_RESULT');
    engine.run_dispose();
});

test('a-pipeline-function-emits-and-returns-through-its-chunk', async () => {
    const engine = serialEngine();
    const pipeline = AsyncGui.Pipeline.new_range(10, (chunk, item) => {
        if (item % 2 === 1) {
            chunk.emit(uint64(item));
            chunk.emit(uint64(item));
            chunk.return_nothing();
        } else if (item === 4) {
            chunk.return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_SUPPORTED, 'four'));
        } else {
            chunk.return_uint64(item);
        }
    });
    const reader = pipeline.open_output(16);
    const ended = runToEnd(engine, pipeline);
    const items = await new Promise((resolve, reject) => {
        reader.read_async(100, -1, null, (r, result) => {
            try {
                resolve(r.read_finish(result));
            } catch (e) {
                reject(e);
            }
        });
    });
    await ended;
    assertEqual(items, [0, 1, 1, 2, 3, 3]);
    assert(pipeline.get_error().matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_SUPPORTED),
        'the pipeline ends with the input\'s error');
    engine.run_dispose();
});

test('whole-chunk-items-come-from-the-handle', async () => {
    const engine = serialEngine();
    const pipeline = AsyncGui.Pipeline.new_range(20, (chunk, item) => {
        assertEqual(item, null, 'a whole chunk is no argument');
        const items = chunk.dup_items();
        assertEqual(chunk.get_position(), items[0]);
        chunk.return_uint64(items.reduce((a, b) => a + b, 0));
    });
    pipeline.apply_single = false;
    pipeline.max_chunk_size = 5;
    const reader = pipeline.open_output(100);
    const ended = runToEnd(engine, pipeline);
    const sums = await new Promise(resolve => {
        reader.read_async(100, -1, null, (r, result) => resolve(r.read_finish(result)));
    });
    await ended;
    assertEqual(sums.length, 4);
    assertEqual(sums.reduce((a, b) => a + b, 0), 19 * 20 / 2);
    engine.run_dispose();
});

test('a-results-stream-gives-positions-as-children-finish', async () => {
    const engine = serialEngine();
    const multi = AsyncGui.MultiTask.new_map_range(4, (chunk, position) => chunk.return_int(position));
    const reader = multi.open_results();
    await runToEnd(engine, multi);
    assertEqual(reader.read(10, 0), [0, 1, 2, 3]);
    assert(reader.is_drained(), 'the stream ends with the MultiTask');
    engine.run_dispose();
});

test('a-prioritized-range-starts-first-and-keeps-list-order', async () => {
    const engine = serialEngine();
    const started = [];
    const multi = AsyncGui.MultiTask.new_map_range(200, (chunk, position) => {
        started.push(position);
        chunk.return_int(position);
    });
    const range = (first, end) => Array.from({length: end - first}, (_, i) => first + i);
    // The user scrolled: the latest range wins.
    multi.prioritize(20, 10);
    multi.prioritize(150, 10);
    const reader = multi.open_results();
    await runToEnd(engine, multi);
    assertEqual(started, [...range(150, 160), ...range(0, 150), ...range(160, 200)]);
    assertEqual(reader.read(200, 0), range(0, 200), 'the results stream keeps list order');
    assertEqual(childValues(multi, [0, 150, 199]), [0, 150, 199]);
    // A scroll after the end asks for nothing, without a critical.
    multi.prioritize(0, 1);
    engine.run_dispose();
});

main();
