// asyncgui.js — the GJS binding of asyncgui: promises, jobs and `for await`.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Import it once; it adds promise methods to the AsyncGui classes and
// exports helpers:
//
//     import AsyncGui, {spawn, mainTask, AbortController} from
//         'file:///usr/share/asyncgui-1/gjs/asyncgui.js';
//
// Awaiting work outside a job (the default engine, or `engine.run()`):
//
//     const value = await AsyncGui.Task.new_sleep(100);       // a task
//     const values = await multi;                              // a MultiTask: an Array
//     for await (const v of multi)                             // as children finish
//         show(v);
//
// A job is a JS `async` function driven by an AsyncGui.Job: every `await
// job.run(...)` goes through ag_job_await_async(), so the job can be
// paused (results are held), resumed and cancelled (the pending await
// rejects with the CANCELLED GLib.Error):
//
//     const job = spawn(async job => {
//         const bytes = await job.run(loadTask);               // a task
//         const all = await job.run([taskA, taskB]);           // in parallel, in order
//         for await (const v of job.iterate(multi))            // in completion order
//             show(v);
//         await job.sleep(200);
//         return bytes.get_size();                             // the job's value
//     });
//     cancelButton.connect('clicked', () => job.cancel());
//     const size = await job;                                  // or job.promise
//
// JavaScript never runs on a worker thread (GJS aborts): tasks whose
// function runs on a thread (AsyncGui.Task.new, MultiTask.new_map*,
// MultiTask.new_map_range) cannot be made from JS and throw a TypeError
// here. JS makes main-context tasks (mainTask(), wrapping any GIO
// `_async` call or promise), sleep tasks, tasks made in C, and
// MultiTasks of them. Parallel JS runs in gjs worker processes:
// processTask(moduleUri, exportName, ...args).
//
// See README.md next to this file for the whole API.

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import AsyncGui from 'gi://AsyncGui?version=1';

export default AsyncGui;
export {AsyncGui};

const {Task, MultiTask, Engine, Job} = AsyncGui;

// Expando properties on GObject wrappers (GJS keeps a wrapper that has
// them alive as long as its object): the JS value or exception behind a
// task or job, so JS gets back exactly what JS gave.
const kJsValue = Symbol('asyncgui JS value');
const kJsError = Symbol('asyncgui JS error');
const kPromise = Symbol('asyncgui promise');
const kAwaiting = Symbol('asyncgui awaiting');

const CANCELLED_MESSAGE = 'The task was cancelled';

function isCancelled(error) {
    return error instanceof GLib.Error &&
        error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED);
}

function cancelledError(message = CANCELLED_MESSAGE) {
    return new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, message);
}

// ---------------------------------------------------------------------------
// JS values <-> GValues
//
// GJS guesses a GValue's type from a JS value: numbers (int or double),
// strings, booleans, null, GObjects, GLib.Variant, boxed values and plain
// JS objects (as GObject.TYPE_JSOBJECT, which keeps the very object). What
// it cannot guess (arrays, class instances, functions, BigInt, symbols)
// travels in a box, a plain object, and is unwrapped on the way out.

const kBoxed = Symbol('asyncgui boxed value');

function box(value) {
    return {[kBoxed]: value};
}

function isPlainObject(value) {
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
}

function toGValue(value) {
    if (value === undefined)
        return null;
    if (value === null || value instanceof GObject.Value)
        return value;
    switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
        return value;
    case 'object':
        if (value instanceof GObject.Object || value instanceof GLib.Variant ||
            isPlainObject(value) || isGIBoxed(value))
            return value;
        return box(value);
    default:
        return box(value);
    }
}

// Boxed and fundamental GI values (GLib.Bytes, Gdk.RGBA, ...) go as they are.
function isGIBoxed(value) {
    return value.constructor?.$gtype !== undefined;
}

function fromGValue(value) {
    return value !== null && typeof value === 'object' && kBoxed in value
        ? value[kBoxed] : value;
}

// A JS exception that is not a GLib.Error becomes AG_ERROR_FAILED for C,
// and the exception itself is kept for JS awaiters.
function toGError(error) {
    if (error instanceof GLib.Error)
        return error;
    const text = error instanceof Error
        ? `${error.name}: ${error.message}` : String(error);
    return new GLib.Error(AsyncGui.Error, AsyncGui.Error.FAILED, text);
}

// Ends a task (ok: with a value, else with an error); a value that cannot
// become a GValue fails the task with the conversion's error.
function endTask(task, ok, valueOrError) {
    endWith(task, ok, valueOrError,
        v => task.return_value(v), e => task.return_error(e));
}

function endWith(target, ok, valueOrError, returnValue, returnError) {
    if (ok) {
        let gvalue;
        try {
            gvalue = toGValue(valueOrError);
        } catch (e) {
            ok = false;
            valueOrError = e;
        }
        if (ok) {
            if (valueOrError !== undefined && valueOrError !== null &&
                typeof valueOrError === 'object' && !(valueOrError instanceof GObject.Value))
                target[kJsValue] = valueOrError;
            try {
                returnValue(gvalue);
                return;
            } catch (e) {
                delete target[kJsValue];
                valueOrError = e;
            }
        }
    }
    if (!(valueOrError instanceof GLib.Error))
        target[kJsError] = valueOrError;
    returnError(toGError(valueOrError));
}

// The exception JS should see for a task (or job) that failed with
// `error`: the JS exception behind it, if JS threw one.
function jsErrorOf(source, error) {
    if (!source || isCancelled(error))
        return error;
    if (source[kJsError] !== undefined)
        return source[kJsError];
    if (isGjsWorkerTask(source))
        return decodeError(source, error);
    if (source instanceof MultiTask && !source.skip_errors) {
        // A MultiTask fails with its first failing child in list order.
        const n = source.get_n_items();
        for (let i = 0; i < n; i++) {
            const child = source.get_item(i);
            if (child.get_state() === AsyncGui.TaskState.FAILED)
                return child[kJsError] !== undefined ? child[kJsError] : decodeError(child, error);
        }
    }
    return error;
}

// ---------------------------------------------------------------------------
// AbortController / AbortSignal (GJS 1.74 has neither)

/**
 * A minimal AbortSignal: `aborted`, `reason`, `onabort`,
 * `addEventListener('abort', fn, {once})`, `removeEventListener`,
 * `throwIfAborted()`, and the static `AbortSignal.abort()`,
 * `AbortSignal.timeout(ms)` and `AbortSignal.any(signals)`.
 *
 * Every `signal` option of this module also takes any object with
 * `aborted` and `addEventListener('abort', ...)`, or a Gio.Cancellable.
 */
export class AbortSignal {
    #listeners = [];

    constructor() {
        this.aborted = false;
        this.reason = undefined;
        this.onabort = null;
    }

    addEventListener(type, listener, options = {}) {
        if (type !== 'abort' || !listener)
            return;
        if (this.#listeners.some(l => l.listener === listener))
            return;
        this.#listeners.push({listener, once: Boolean(options?.once)});
    }

    removeEventListener(type, listener) {
        if (type !== 'abort')
            return;
        this.#listeners = this.#listeners.filter(l => l.listener !== listener);
    }

    throwIfAborted() {
        if (this.aborted)
            throw this.reason;
    }

    _abort(reason) {
        if (this.aborted)
            return;
        this.aborted = true;
        this.reason = reason === undefined ? cancelledError('The operation was aborted') : reason;
        const event = {type: 'abort', target: this};
        const listeners = this.#listeners;
        this.#listeners = listeners.filter(l => !l.once);
        if (this.onabort)
            callListener(this.onabort, this, event);
        for (const {listener} of listeners)
            callListener(listener, this, event);
    }

    static abort(reason) {
        const controller = new AbortController();
        controller.abort(reason);
        return controller.signal;
    }

    static timeout(ms) {
        const controller = new AbortController();
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
            controller.abort(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.TIMED_OUT,
                'The operation timed out'));
            return GLib.SOURCE_REMOVE;
        });
        return controller.signal;
    }

    static any(signals) {
        const controller = new AbortController();
        for (const signal of signals) {
            if (signal.aborted) {
                controller.abort(signal.reason);
                break;
            }
            signal.addEventListener('abort', () => controller.abort(signal.reason), {once: true});
        }
        return controller.signal;
    }
}

function callListener(listener, target, event) {
    try {
        if (typeof listener === 'function')
            listener.call(target, event);
        else
            listener.handleEvent(event);
    } catch (e) {
        logError(e, 'asyncgui: an abort listener threw');
    }
}

/** A minimal AbortController: `signal` and `abort(reason)`. */
export class AbortController {
    constructor() {
        this.signal = new AbortSignal();
    }

    abort(reason) {
        this.signal._abort(reason);
    }
}

// Calls onAbort once when the signal aborts (at once if it has); returns a
// function that forgets the signal.
function watchSignal(signal, onAbort) {
    if (signal === undefined || signal === null)
        return () => {};
    if (signal instanceof Gio.Cancellable) {
        if (signal.is_cancelled()) {
            onAbort();
            return () => {};
        }
        const id = signal.connect(() => onAbort());
        // connect() runs the handler at once if cancelled in between.
        return () => signal.disconnect(id);
    }
    if (typeof signal !== 'object' || !('aborted' in signal) ||
        typeof signal.addEventListener !== 'function')
        throw new TypeError('signal must be an AbortSignal-like object ' +
            '(aborted + addEventListener) or a Gio.Cancellable');
    if (signal.aborted) {
        onAbort();
        return () => {};
    }
    const listener = () => onAbort();
    signal.addEventListener('abort', listener, {once: true});
    return () => signal.removeEventListener?.('abort', listener);
}

// ---------------------------------------------------------------------------
// Making tasks from JS

/**
 * Makes a main-context task: `fn(cancellable, task)` runs on the engine's
 * context when the task is run (so JS is fine there) and may return a value
 * or a promise. The task ends with that value, or fails with what it
 * throws or rejects with (a GLib.Error as is; another exception becomes
 * AG_ERROR_FAILED for C and stays the original exception for JS
 * awaiters). The cancellable is cancelled when the task is; a result that
 * arrives after that is dropped.
 *
 * @param {function(Gio.Cancellable, AsyncGui.Task): any} fn
 * @returns {AsyncGui.Task}
 */
export function mainTask(fn) {
    if (typeof fn !== 'function')
        throw new TypeError('mainTask() needs a function');
    return Task.new_main((task, cancellable) => {
        let result;
        try {
            result = fn(cancellable, task);
        } catch (e) {
            endTask(task, false, e);
            return;
        }
        if (result && typeof result.then === 'function') {
            result.then(v => endTask(task, true, v), e => endTask(task, false, e))
                .catch(e => logError(e, 'asyncgui: ending a main-context task'));
        } else {
            endTask(task, true, result);
        }
    });
}

/**
 * A task that ends after `ms` milliseconds with `value` (or without a
 * value). It is a main-context task driven by a GLib timeout; it stands in
 * for a slow operation in examples and tests.
 */
export function timeoutTask(ms, value) {
    return mainTask(cancellable => new Promise((resolve, reject) => {
        const id = GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
            cancellable.disconnect(cancelId);
            resolve(value);
            return GLib.SOURCE_REMOVE;
        });
        const cancelId = cancellable.connect(() => {
            GLib.source_remove(id);
            reject(cancelledError());
        });
    }));
}

/** A sleep task (ag_task_new_sleep): a timer, paused with its job. */
export function sleep(ms) {
    return Task.new_sleep(ms);
}

/**
 * Makes a MultiTask of `tasks`. Options: `maxWorkers` (0: no limit),
 * `skipErrors`, `unordered`.
 */
export function multi(tasks, {maxWorkers = 0, skipErrors = false, unordered = false} = {}) {
    const m = MultiTask.new();
    for (const t of tasks)
        m.add(toTask(t));
    m.max_workers = maxWorkers;
    m.skip_errors = skipErrors;
    m.unordered = unordered;
    return m;
}

/**
 * The JS twin of Python's ProcessTask: a task that calls the function
 * `exportName` of the ES module at `moduleUri` with `args` in a warm gjs
 * worker process (AsyncGui.WorkerTask.new_gjs), so JS runs in parallel.
 * The arguments and the result travel as JSON; the function may be async.
 * `moduleUri` is a URI (`file:///...`, `resource:///...`) or a file path;
 * to name a module next to yours:
 * `GLib.Uri.resolve_relative(import.meta.url, './work.js', GLib.UriFlags.NONE)`.
 *
 * When the function throws, the await throws the same kind of exception
 * (TypeError, RangeError, ... or Error) with the same message and the
 * worker's stack; its GLib.Error is in the exception's `gerror`.
 */
export function processTask(moduleUri, exportName, ...args) {
    if (typeof moduleUri !== 'string' || typeof exportName !== 'string')
        throw new TypeError('processTask() needs a module URI and an export name');
    const uri = moduleUri.includes('://') ? moduleUri : Gio.File.new_for_path(moduleUri).get_uri();
    const json = JSON.stringify(args);
    if (json === undefined)
        throw new TypeError('processTask() arguments must be JSON-serializable');
    return AsyncGui.WorkerTask.new_gjs(uri, exportName, json);
}

function isGjsWorkerTask(task) {
    return AsyncGui.WorkerTask !== undefined && task instanceof AsyncGui.WorkerTask &&
        task.get_kind() === AsyncGui.WorkerKind.GJS;
}

// A GJS worker's value is JSON text in a GVariant string.
function decodeValue(task, value) {
    if (isGjsWorkerTask(task) && value instanceof GLib.Variant)
        return JSON.parse(value.unpack());
    return value;
}

// A GJS worker's failure, as the kind of exception the function threw.
const WORKER_ERRORS = {Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError};

function decodeError(task, error) {
    if (!isGjsWorkerTask(task) || !(error instanceof GLib.Error) ||
        GLib.quark_to_string(error.domain) !== 'asyncgui-gjs-error')
        return error;
    const match = /^(\w+): ([\s\S]*)$/.exec(error.message);
    const Ctor = match && WORKER_ERRORS[match[1]];
    if (!Ctor)
        return error;
    const jsError = new Ctor(match[2]);
    const data = task.get_error_data();
    if (data && data.get_type_string() === 's')
        jsError.stack = data.unpack();
    jsError.gerror = error;
    return jsError;
}

// What can be awaited, as a pending AgTask. Throws TypeError otherwise.
function toTask(x) {
    if (x instanceof Task)
        return x;
    if (x instanceof Job)
        return Task.new_for_job(x);
    if (Array.isArray(x))
        return multi(x);
    if (x && typeof x.then === 'function') {
        const promise = x;
        return mainTask(() => promise);
    }
    throw new TypeError(`asyncgui: cannot await ${describe(x)}: ` +
        'it is not an AsyncGui.Task, MultiTask, Job, array of them or promise');
}

function describe(x) {
    if (x === null)
        return 'null';
    if (typeof x === 'object')
        return x.constructor?.name ? `a ${x.constructor.name}` : 'an object';
    return `${typeof x} ${String(x)}`;
}

// ---------------------------------------------------------------------------
// Reading outcomes

// The value of a MultiTask that succeeded: its children's values in list
// order (failures dropped with skip-errors), as JS values. The task's own
// GValue holds a GArray that GJS cannot unpack, so the values are read
// from the children.
function multiValues(m) {
    const n = m.get_n_items();
    const values = [];
    for (let i = 0; i < n; i++) {
        const child = m.get_item(i);
        if (child.get_state() === AsyncGui.TaskState.SUCCEEDED)
            values.push(taskValue(child));
    }
    return values;
}

// The JS value of a task that succeeded.
function taskValue(task) {
    if (task[kJsValue] !== undefined)
        return task[kJsValue];
    if (task instanceof MultiTask)
        return multiValues(task);
    return decodeValue(task, fromGValue(task.get_value()));
}

// The JS error of a task that failed.
function taskError(task) {
    if (task[kJsError] !== undefined && task.get_state() === AsyncGui.TaskState.FAILED)
        return task[kJsError];
    return decodeError(task, task.get_error());
}

// Finishes an async call whose value is the task's: value or throw.
function finishWith(finish, task, job = null) {
    let value;
    try {
        value = finish();
    } catch (e) {
        if (e instanceof GLib.Error) {
            // A job's value comes from the job it stands for.
            throw jsErrorOf(job ?? task, e);
        }
        // The value could not be converted (a MultiTask's GArray); the
        // outcome is a success: read it from the task itself.
        if (task instanceof MultiTask)
            return multiValues(task);
        throw e;
    }
    if (job && job[kJsValue] !== undefined)
        return job[kJsValue];
    if (task[kJsValue] !== undefined)
        return task[kJsValue];
    if (task instanceof MultiTask)
        return multiValues(task);
    return decodeValue(task, fromGValue(value));
}

// ---------------------------------------------------------------------------
// Running tasks outside a job

/**
 * Runs a pending task on `engine` (the default engine if not given) and
 * resolves with its value. `signal` cancels it: the promise then rejects
 * with the CANCELLED GLib.Error. A task that was already started is not
 * run again: its outcome is awaited.
 */
export function run(x, {engine = null, signal = null} = {}) {
    return new Promise((resolve, reject) => {
        let task;
        try {
            task = toTask(x);
        } catch (e) {
            reject(e);
            return;
        }
        engine ??= Engine.get_default();
        if (task.get_state() !== AsyncGui.TaskState.PENDING) {
            outcomeOf(task, signal).then(resolve, reject);
            return;
        }
        const cancellable = new Gio.Cancellable();
        let unwatch;
        try {
            unwatch = watchSignal(signal, () => cancellable.cancel());
        } catch (e) {
            reject(e);
            return;
        }
        task[kPromise] = new Promise((res, rej) => {
            engine.run_async(task, cancellable, (e, result) => {
                unwatch();
                try {
                    res(finishWith(() => e.run_finish(result), task));
                } catch (err) {
                    rej(err);
                }
            });
        });
        task[kPromise].then(resolve, reject);
    });
}

// The outcome of a task that was already started.
function outcomeOf(task, signal) {
    if (task[kPromise] && !signal)
        return task[kPromise];
    return new Promise((resolve, reject) => {
        const settle = () => {
            if (!task.is_finished())
                return false;
            if (task.get_state() === AsyncGui.TaskState.SUCCEEDED)
                resolve(taskValue(task));
            else
                reject(taskError(task));
            return true;
        };
        if (settle())
            return;
        let unwatch = () => {};
        const id = task.connect('notify::state', () => {
            if (settle()) {
                task.disconnect(id);
                unwatch();
            }
        });
        unwatch = watchSignal(signal, () => {
            task.disconnect(id);
            reject(cancelledError());
        });
    });
}

// `await task` / `await multi` run it on the default engine (once; later
// awaits see the same outcome).
Task.prototype.then = function (onFulfilled, onRejected) {
    const promise = this[kPromise] ?? run(this);
    return promise.then(onFulfilled, onRejected);
};

// ---------------------------------------------------------------------------
// Iterating a MultiTask as its children finish

/**
 * An async iterator over a MultiTask's children as they are announced
 * (`task-done`): in completion order when the MultiTask is unordered, in
 * list order otherwise. It yields values (or `{position, value}` with
 * `positions: true`); failed children are skipped; when the MultiTask
 * fails (or is cancelled) the loop throws its error. Leaving the loop
 * early cancels the children still running.
 *
 * Options: `engine` and `signal` as for run(), or `job`: the MultiTask is
 * then awaited by that job, so pausing the job holds the loop and
 * cancelling it ends the loop with CANCELLED (prefer job.iterate()).
 */
export function iterate(m, {engine = null, signal = null, job = null, positions = false} = {}) {
    if (!(m instanceof MultiTask))
        throw new TypeError(`asyncgui: cannot iterate ${describe(m)}: it is not an AsyncGui.MultiTask`);

    const ready = [];
    let ended = null;     // {ok, error}
    let wake = null;
    const poke = () => {
        if (wake) {
            const w = wake;
            wake = null;
            w();
        }
    };

    const doneId = m.connect('task-done', (_m, position) => {
        ready.push(position);
        poke();
    });

    const end = (job ? job.run(m, {signal}) : run(m, {engine, signal}));
    end.then(() => {
        ended = {ok: true};
    }, error => {
        ended = {ok: false, error};
    }).finally(() => {
        m.disconnect(doneId);
        poke();
    });

    const waitUnpaused = () => new Promise(resolve => {
        if (!job || job.get_state() !== AsyncGui.JobState.PAUSED) {
            resolve();
            return;
        }
        const id = job.connect('notify::state', () => {
            if (job.get_state() !== AsyncGui.JobState.PAUSED) {
                job.disconnect(id);
                resolve();
            }
        });
    });

    return {
        [Symbol.asyncIterator]() {
            return this;
        },

        async next() {
            for (;;) {
                if (ended && !ended.ok)
                    throw ended.error;
                if (ready.length > 0) {
                    await waitUnpaused();
                    if (ended && !ended.ok)
                        throw ended.error;
                    const position = ready.shift();
                    const child = m.get_item(position);
                    if (child.get_state() !== AsyncGui.TaskState.SUCCEEDED)
                        continue;
                    const value = taskValue(child);
                    return {done: false, value: positions ? {position, value} : value};
                }
                if (ended)
                    return {done: true, value: undefined};
                await new Promise(resolve => {
                    wake = resolve;
                });
            }
        },

        async return() {
            if (!m.is_finished())
                m.cancel();
            await end.catch(() => {});
            return {done: true, value: undefined};
        },
    };
}

MultiTask.prototype[Symbol.asyncIterator] = function () {
    return iterate(this);
};

// ---------------------------------------------------------------------------
// Jobs

/**
 * Starts a job: makes an AsyncGui.Job on `engine` (the default engine if
 * not given) and calls `fn(job, ...args)` at once; it runs until its first
 * await. Its return value becomes the job's value, what it throws the
 * job's error (the CANCELLED GLib.Error ends the job cancelled). Returns
 * the job, which is awaitable (`await job`, `job.promise`).
 *
 * `signal` cancels the job when it aborts.
 */
export function spawn(fn, {engine = null, signal = null, args = []} = {}) {
    if (typeof fn !== 'function')
        throw new TypeError('spawn() needs an async function');
    engine ??= Engine.get_default();
    const job = Job.new(engine);
    const unwatch = watchSignal(signal, () => job.cancel());

    let result;
    try {
        result = fn(job, ...args);
    } catch (e) {
        result = Promise.reject(e);
    }
    const end = (ok, valueOrError) => {
        unwatch();
        if (!job.is_finished()) {
            endWith(job, ok, valueOrError,
                v => job.return_value(v), e => job.return_error(e));
        }
    };
    Promise.resolve(result).then(v => end(true, v), e => end(false, e))
        .catch(e => logError(e, 'asyncgui: ending a job'));
    return job;
}

/**
 * Wraps an async function as a handler that starts a job per call (the
 * twin of Python's `@engine.job`): `fn(job, ...args)`.
 *
 *     button.connect('clicked', job(async (job, button) => { ... }));
 */
export function job(fn, options = {}) {
    if (typeof fn !== 'function')
        throw new TypeError('job() needs an async function');
    return function (...args) {
        return spawn(fn, {...options, args});
    };
}

Object.defineProperties(Job.prototype, {
    /**
     * Awaits a task, MultiTask, job, array of them (a MultiTask, values in
     * list order) or promise inside this job. `signal` cancels just this
     * await's task.
     */
    run: {
        configurable: true,
        writable: true,
        value: function (x, {signal = null} = {}) {
            return new Promise((resolve, reject) => {
                let task;
                try {
                    task = toTask(x);
                } catch (e) {
                    reject(e);
                    return;
                }
                if (this.is_finished()) {
                    reject(new Error('asyncgui: this job has finished; it cannot await any more'));
                    return;
                }
                if (this[kAwaiting]) {
                    reject(new Error('asyncgui: this job is already awaiting something; ' +
                        'await one thing at a time, or pass an array to job.run() to await several'));
                    return;
                }
                if (task.get_state() !== AsyncGui.TaskState.PENDING) {
                    reject(new GLib.Error(AsyncGui.Error, AsyncGui.Error.ALREADY_STARTED,
                        'asyncgui: that task was already started; a job awaits a task that has not run yet'));
                    return;
                }
                let unwatch;
                try {
                    unwatch = watchSignal(signal, () => task.cancel());
                } catch (e) {
                    reject(e);
                    return;
                }
                const sourceJob = x instanceof Job ? x : null;
                this[kAwaiting] = true;
                this.await_async(task, (job, result) => {
                    this[kAwaiting] = false;
                    unwatch();
                    try {
                        resolve(finishWith(() => job.await_finish(result), task, sourceJob));
                    } catch (e) {
                        reject(e);
                    }
                });
            });
        },
    },

    /** Sleeps `ms` milliseconds in this job (the rest is kept while paused). */
    sleep: {
        configurable: true,
        writable: true,
        value: function (ms) {
            return this.run(Task.new_sleep(ms));
        },
    },

    /** iterate(multi, {job: this, ...options}). */
    iterate: {
        configurable: true,
        writable: true,
        value: function (m, options = {}) {
            return iterate(m, {...options, job: this});
        },
    },

    /** A promise of the job's outcome (its value, or its error). */
    promise: {
        configurable: true,
        get() {
            if (!this[kPromise]) {
                this[kPromise] = new Promise((resolve, reject) => {
                    const settle = () => {
                        if (this.get_state() === AsyncGui.JobState.SUCCEEDED) {
                            if (this[kJsValue] !== undefined)
                                resolve(this[kJsValue]);
                            else
                                resolve(fromGValue(this.get_value()));
                        } else {
                            reject(this[kJsError] !== undefined &&
                                this.get_state() === AsyncGui.JobState.FAILED
                                ? this[kJsError] : this.get_error());
                        }
                    };
                    if (this.is_finished()) {
                        settle();
                        return;
                    }
                    this.wait_async(null, (job, result) => {
                        try {
                            job.wait_finish(result);
                        } catch {
                            // settle() reads the outcome from the job itself.
                        }
                        settle();
                    });
                });
            }
            return this[kPromise];
        },
    },

    then: {
        configurable: true,
        writable: true,
        value: function (onFulfilled, onRejected) {
            return this.promise.then(onFulfilled, onRejected);
        },
    },
});

// ---------------------------------------------------------------------------
// Engine conveniences

Object.assign(Engine.prototype, {
    /** run(task, {engine: this, signal}). */
    run(x, options = {}) {
        return run(x, {...options, engine: this});
    },

    /** spawn(fn, {engine: this, ...}). */
    spawn(fn, options = {}) {
        return spawn(fn, {...options, engine: this});
    },

    /** job(fn, {engine: this, ...}). */
    job(fn, options = {}) {
        return job(fn, {...options, engine: this});
    },
});

// ---------------------------------------------------------------------------
// What JS must not make: tasks whose functions run on worker threads.

function threadOnly(name) {
    return function () {
        throw new TypeError(`AsyncGui.${name}() runs its function on a worker thread, ` +
            'where GJS cannot run JavaScript. From JS, use mainTask() (main context, e.g. ' +
            'wrapping a GIO _async call), sleep(), tasks made in C, or a worker process.');
    };
}

Task.new = threadOnly('Task.new');
MultiTask.new_map = threadOnly('MultiTask.new_map');
MultiTask.new_map_model = threadOnly('MultiTask.new_map_model');
MultiTask.new_map_range = threadOnly('MultiTask.new_map_range');
