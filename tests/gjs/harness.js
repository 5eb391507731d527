// harness.js — a tiny test runner for `gjs -m` (GJS has none built in).
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
//     import {test, assert, assertEqual, main} from './harness.js';
//     test('name', async () => { ... });
//     await main();     // runs the tests in order under a GLib main loop,
//                       // prints one line each and "N passed, N failed",
//                       // and exits non-zero if any failed.
//
// `gjs -m file.js -- NAME...` (or TEST_FILTER=NAME) runs only the tests
// whose names contain one of the NAMEs.

import GLib from 'gi://GLib';
import System from 'system';

const tests = [];

export function test(name, fn, {timeoutMs = 15000} = {}) {
    tests.push({name, fn, timeoutMs});
}

export class AssertionError extends Error {
    constructor(message) {
        super(message);
        this.name = 'AssertionError';
    }
}

export function assert(condition, message = 'assertion failed') {
    if (!condition)
        throw new AssertionError(message);
}

function show(x) {
    try {
        return typeof x === 'string' ? JSON.stringify(x) : JSON.stringify(x) ?? String(x);
    } catch {
        return String(x);
    }
}

export function assertEqual(actual, expected, message = '') {
    if (!deepEqual(actual, expected))
        throw new AssertionError(`${message ? `${message}: ` : ''}expected ${show(expected)}, got ${show(actual)}`);
}

function deepEqual(a, b) {
    if (Object.is(a, b))
        return true;
    if (Array.isArray(a) && Array.isArray(b))
        return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
    if (a && b && typeof a === 'object' && typeof b === 'object' &&
        Object.getPrototypeOf(a) === Object.prototype && Object.getPrototypeOf(b) === Object.prototype) {
        const keys = Object.keys(a);
        return keys.length === Object.keys(b).length && keys.every(k => deepEqual(a[k], b[k]));
    }
    return false;
}

export function assertBetween(value, low, high, message = '') {
    if (!(value >= low && value <= high))
        throw new AssertionError(`${message ? `${message}: ` : ''}expected ${low}..${high}, got ${value}`);
}

/** Asserts that the promise rejects; returns the rejection. */
export async function assertRejects(promise, check = () => true, message = 'expected a rejection') {
    let error;
    try {
        await promise;
    } catch (e) {
        error = e;
    }
    if (error === undefined)
        throw new AssertionError(message);
    if (!check(error))
        throw new AssertionError(`${message}: got ${error}`);
    return error;
}

/** Monotonic milliseconds. */
export function now() {
    return GLib.get_monotonic_time() / 1000;
}

/**
 * A promise that resolves after `ms` on the default main context, never
 * sooner: a fractional `ms` is rounded up, as GLib takes whole milliseconds.
 */
export function delay(ms) {
    return new Promise(resolve => GLib.timeout_add(GLib.PRIORITY_DEFAULT, Math.ceil(ms), () => {
        resolve();
        return GLib.SOURCE_REMOVE;
    }));
}

/** Calls fn after `ms` milliseconds. */
export function after(ms, fn) {
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
        fn();
        return GLib.SOURCE_REMOVE;
    });
}

function withTimeout(promise, ms, name) {
    let id = 0;
    const timeout = new Promise((_, reject) => {
        id = GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
            id = 0;
            reject(new AssertionError(`${name} did not finish within ${ms} ms`));
            return GLib.SOURCE_REMOVE;
        });
    });
    return Promise.race([promise, timeout]).finally(() => {
        if (id)
            GLib.source_remove(id);
    });
}

async function runAll(filters) {
    let passed = 0, failed = 0;
    for (const {name, fn, timeoutMs} of tests) {
        if (filters.length && !filters.some(f => name.includes(f)))
            continue;
        const start = now();
        try {
            // eslint-disable-next-line no-await-in-loop
            await withTimeout(Promise.resolve().then(fn), timeoutMs, name);
            passed++;
            print(`ok   ${name} (${Math.round(now() - start)} ms)`);
        } catch (e) {
            failed++;
            print(`FAIL ${name}: ${e}${e?.stack ? `\n${e.stack.trimEnd().replace(/^/gm, '       ')}` : ''}`);
        }
    }
    return {passed, failed};
}

export async function main() {
    const filters = [...ARGV];
    const env = GLib.getenv('TEST_FILTER');
    if (env)
        filters.push(...env.split(','));
    const loop = new GLib.MainLoop(null, false);
    let summary = {passed: 0, failed: 1};
    runAll(filters).then(s => {
        summary = s;
    }, e => {
        print(`harness error: ${e}\n${e?.stack ?? ''}`);
    }).finally(() => loop.quit());
    loop.run();
    print(`${summary.passed} passed, ${summary.failed} failed`);
    System.exit(summary.failed === 0 && summary.passed > 0 ? 0 : 1);
}
