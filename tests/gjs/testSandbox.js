// testSandbox.js — a sandboxed gjs worker: files passed as descriptors.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import AsyncGui, {run, processTask} from '../../bindings/gjs/asyncgui.js';
import {test, main, assert, assertEqual} from './harness.js';

const WORKER_MODULE = GLib.Uri.resolve_relative(import.meta.url, './worker-module.js',
    GLib.UriFlags.NONE);

test('sandboxed-worker-reads-a-file-passed-as-fd', async () => {
    const pool = AsyncGui.Engine.get_default().get_worker_pool();
    assert(pool.check_sandbox(), 'the sandbox can run here');
    // The worker's module lives here: the sandbox shows it, read-only.
    pool.set_sandbox_paths([GLib.path_get_dirname(Gio.File.new_for_uri(WORKER_MODULE).get_path())]);

    const [path, stream] = Gio.File.new_tmp('asyncgui-sandbox-XXXXXX');
    stream.get_output_stream().write_all(new TextEncoder().encode('twelve bytes'), null);
    stream.close(null);

    for (const sandboxed of [false, true]) {
        const task = processTask(WORKER_MODULE, 'sizeOfFile');
        task.sandboxed = sandboxed;
        assertEqual(task.add_file(path), 0);
        assertEqual(await run(task), 12);

        // What it was not given stays out of reach.
        const probe = processTask(WORKER_MODULE, 'canRead', path.get_path());
        probe.sandboxed = sandboxed;
        assertEqual(await run(probe), !sandboxed);
    }
    path.delete(null);
}, {timeoutMs: 30000});

test('sandboxed-worker-cannot-spawn-a-shell', async () => {
    const pool = AsyncGui.Engine.get_default().get_worker_pool();
    pool.set_sandbox_paths([GLib.path_get_dirname(Gio.File.new_for_uri(WORKER_MODULE).get_path())]);

    // Unsandboxed, the same function can: the probe itself works.
    for (const sandboxed of [false, true]) {
        const task = processTask(WORKER_MODULE, 'canSpawnShell');
        task.sandboxed = sandboxed;
        assertEqual(await run(task), !sandboxed);
    }
}, {timeoutMs: 30000});

// SpiderMonkey reserves about 2 GiB of address space as gjs starts.
const MEMORY_LIMIT = 4 * 1024 ** 3;

test('gjs-worker-past-its-memory-limit-fails-with-memory-limit', async () => {
    const pool = AsyncGui.Engine.get_default().get_worker_pool();
    pool.set_sandbox_paths([GLib.path_get_dirname(Gio.File.new_for_uri(WORKER_MODULE).get_path())]);

    // Through GLib's allocator, and through the JS engine's own.
    for (const allocator of ['allocate', 'allocateInJs']) {
        const greedy = processTask(WORKER_MODULE, allocator, 2 * MEMORY_LIMIT);
        greedy.sandboxed = true;
        greedy.memory_limit = MEMORY_LIMIT;
        let error = null;
        try {
            // eslint-disable-next-line no-await-in-loop
            await run(greedy);
        } catch (e) {
            error = e;
        }
        assert(error instanceof GLib.Error &&
            error.matches(AsyncGui.error_quark(), AsyncGui.Error.MEMORY_LIMIT),
        `${allocator}: the call failed with MEMORY_LIMIT, not ${error}`);
    }

    // The next call, in a new worker, works.
    const modest = processTask(WORKER_MODULE, 'allocate', 1024);
    modest.sandboxed = true;
    modest.memory_limit = MEMORY_LIMIT;
    assertEqual(await run(modest), 1024);
}, {timeoutMs: 30000});

main();
