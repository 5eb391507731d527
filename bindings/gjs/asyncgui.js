// asyncgui.js — the GJS binding of asyncgui: promises, jobs and `for await`.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The module adds nothing to the AsyncGui classes: importing it changes no
// prototype and no static of the introspected API, so other code in the
// process sees GI's AsyncGui unchanged. The promise API is its exports.
// The library carries the module as a resource, there once the library is
// loaded; an application imports it in a handler, after app.run() started
// at the top level (README.md: in GJS 1.74 a main loop run after a
// top-level `await` never runs promise callbacks):
//
//     import AsyncGui from 'gi://AsyncGui?version=1';
//     AsyncGui.Engine.get_default();
//     app.connect('activate', async () => {
//         const {run, iterate, spawn, mainTask, multi} =
//             await import('resource:///org/gnome/AsyncGui/js/asyncgui.js');
//     });
//
// or statically, from its installed file:
//
//     import AsyncGui, {run, iterate, spawn, mainTask, multi} from
//         'file:///usr/share/asyncgui-1/gjs/asyncgui.js';
//
// One of the two for the whole program: each address is a module of its
// own, and neither knows the JS values the other stores in C.
//
// Awaiting work outside a job (the default engine, or `{engine}`):
//
//     const value = await run(AsyncGui.Task.new_sleep(100));    // a task
//     const values = await run(multi);                          // a MultiTask: an Array
//     for await (const v of iterate(multi))                     // as children finish
//         show(v);
//
// A job is a JS `async` function driven by an AsyncGui.Job: every `await
// job.run(...)` goes through ag_job_await_async(), so the job can be
// paused (results are held), resumed and cancelled (the pending await
// rejects with the CANCELLED GLib.Error). spawn() returns the job's
// handle, which is also what the function gets:
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
// Task.and_then, Pipeline.new*) must not be given JS functions. JS makes
// main-context tasks (mainTask(), wrapping any GIO `_async` call or
// promise), sleep tasks, tasks made in C, and MultiTasks of them. Parallel
// JS runs in gjs worker processes: processTask(moduleUri, exportName, ...args).
//
// Channels, dependencies and pipelines:
//
//     await write(channel, value);                             // ag_channel_write_async
//     const items = await read(reader, 10, {timeoutMs: 50});    // up to 10 items
//     for await (const item of iterate(reader))                // until closed and drained
//         show(item);
//     const next = andThen(task, value => value + 1);          // main-context continuation
//     for await (const v of pipe(x => x * 2, Infinity).pipe(x => x + 1))
//         if (v > 100) break;                                  // cancels the pipeline
//
// A slot runs one piece of work at a time, the latest request winning (a
// replaced request rejects with CANCELLED):
//
//     const words = await run(searchTask(text), {slot});       // or job.run(task, {slot})
//
// Pipeline functions are JS, so they run on the main thread: on a serial
// engine (max-threads 0, pipelineEngine()), one call at a time.
//
// See README.md next to this file for the whole API.

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import AsyncGui from 'gi://AsyncGui?version=1';
import System from 'system';

export default AsyncGui;
export {AsyncGui};

const {Task, MultiTask, Engine, Job, Channel, ChannelReader} = AsyncGui;

// GJS 1.74 drops every callback from C that comes while its collector
// sweeps, and an incremental collection sweeps across main-loop
// iterations: a stream of tens of thousands of callbacks (a pipeline read
// item by item) meets one, and whatever awaited it waits for ever. A full
// collection now and then, every COLLECT_EVERY callbacks into this module,
// keeps the incremental ones away. It takes a few milliseconds in a
// program of a few hundred thousand objects; setCollectEvery(0) turns it
// off (README.md, "A GJS 1.74 hang to know of").
let collectEvery = 5000;
let sinceCollected = 0;

function calledBack() {
    if (collectEvery > 0 && ++sinceCollected >= collectEvery) {
        sinceCollected = 0;
        System.gc();
    }
}

/**
 * Sets how many callbacks from C into this module come between two full
 * garbage collections (5000 by default), the module's guard against a
 * GJS 1.74 hang (README.md, "A GJS 1.74 hang to know of"); 0 turns it off.
 *
 * @param {number} count
 */
export function setCollectEvery(count) {
    needCount(count, 0, `asyncgui: setCollectEvery() needs a count of 0 or more, not ${count}`);
    collectEvery = count;
}

// What the module gives the constructors of the classes only it makes
// (JobHandle, Pipeline).
const kInternal = Symbol('asyncgui internal');

function cancelledError(message = 'The task was cancelled') {
    return new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, message);
}

// ---------------------------------------------------------------------------
// JS values <-> GValues
//
// Values stay in C: a task's value, a job's, a channel item, a pipeline
// output and an error's detail are GValues that C code stores, copies and
// hands on (dependencies, MultiTask rows, channels). Numbers, strings,
// booleans, null, GObjects, GLib.Variants, boxed values and GObject.Values
// go as they are. Any other JS value (plain objects, arrays, class
// instances, functions, exceptions, strings C cannot hold, ...) goes as a
// holder: a plain GObject.Object whose wrapper carries the value in an
// expando property.
// Not as GObject.TYPE_JSOBJECT: in GJS 1.74 such a GValue neither roots
// nor traces its object, so a garbage collection while C holds it leaves
// it dangling. A wrapper with expandos is kept alive (and traced) by GJS
// exactly as long as C holds a reference on its object, i.e. as long as a
// GValue holds the holder; then both can be collected.

const kHeld = Symbol('asyncgui held JS value');

function toGValue(value) {
    if (value === undefined || value === null)
        return null;
    if (typeof value === 'number' || typeof value === 'boolean')
        return value;
    // A NUL would end a string in C, a lone surrogate is no UTF-8: held.
    if (typeof value === 'string')
        return /[\0\p{Cs}]/u.test(value) ? hold(value) : value;
    // Object.$gtype is GObject.TYPE_JSOBJECT: a plain object is no GI boxed value.
    // Boxed and fundamental GI values (GLib.Bytes, Gdk.RGBA, ...) go as they are.
    const gtype = typeof value === 'object' ? value.constructor?.$gtype : undefined;
    if (value instanceof GObject.Object || value instanceof GLib.Variant || value instanceof GObject.Value ||
        (gtype !== undefined && gtype !== GObject.TYPE_JSOBJECT))
        return value;
    return hold(value);
}

function hold(value) {
    return Object.assign(new GObject.Object(), {[kHeld]: value});
}

function fromGValue(value) {
    return heldOr(value, value);
}

// The JS value `value` holds if it is a holder, else `otherwise`.
function heldOr(value, otherwise) {
    return value instanceof GObject.Object && kHeld in value ? value[kHeld] : otherwise;
}

// Fails `target` with `exception`: a JS exception that is not a
// GLib.Error becomes AG_ERROR_FAILED for C, and the exception itself is
// the detail (held even if it is a GLib.Error, so JS gets back the very
// object it threw).
function returnError(target, exception) {
    let error = exception;
    if (!(error instanceof GLib.Error)) {
        const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        error = new GLib.Error(AsyncGui.Error, AsyncGui.Error.FAILED, text);
    }
    target.return_error_full(error, hold(exception));
}

// Ends `target` (a task, job, chunk or transform: anything with
// return_value and return_error_full) with what `fn()` returns, or fails it
// with what it throws; a value that cannot become a GValue fails it with
// the conversion's error. A promise it returns ends it once settled (a
// chunk or a transform must end before the call returns: their `fn`
// refuses a promise).
function endWithCall(target, fn) {
    let value;
    try {
        value = fn();
        if (!isThenable(value))
            return target.return_value(toGValue(value));
    } catch (e) {
        return returnError(target, e);
    }
    // A settled promise's value is no thenable: it ends the target at once.
    value.then(v => endWithCall(target, () => v), e => returnError(target, e))
        .catch(e => logError(e, 'asyncgui: ending a main-context task'));
}

// The exception JS should see for a task (or job) that failed with
// `error`: the JS exception behind it, which C carries as the error's
// detail through dependencies, MultiTasks and pipelines.
function jsErrorOf(task, error) {
    return error instanceof GLib.Error && error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED)
        ? error : heldOr(task.get_error_detail(), decodeError(task, error));
}

// A promise of a GIO-style call: `start(cancellable, settle)` starts it,
// and its callback calls `settle(() => finish(...))`, which resolves with
// what that returns or rejects with what it throws. `signal` cancels the
// cancellable.
function gioPromise(signal, start) {
    return new Promise((resolve, reject) => {
        // None without a signal: fewer objects for GJS to collect per call.
        const cancellable = signal === null || signal === undefined ? null : new Gio.Cancellable();
        const unwatch = watchSignal(signal, () => cancellable.cancel());
        try {
            start(cancellable, settle);
        } catch (e) {
            unwatch();
            throw e;
        }
        function settle(finish) {
            calledBack();
            unwatch();
            try {
                resolve(finish());
            } catch (e) {
                reject(e);
            }
        }
    });
}

// ---------------------------------------------------------------------------
// AbortController / AbortSignal (GJS 1.74 has neither)

/**
 * A minimal AbortSignal: `aborted`, `reason`, `onabort`,
 * `addEventListener('abort', fn, {once})`, `removeEventListener`,
 * `throwIfAborted()`, and the static `AbortSignal.abort()`,
 * `AbortSignal.timeout(ms)` and `AbortSignal.any(signals)`.
 *
 * Every `signal` option of this module, and `AbortSignal.any()`, also
 * takes any object with `aborted` and `addEventListener('abort', ...)`, or
 * a Gio.Cancellable.
 */
export class AbortSignal {
    aborted = false;
    reason = undefined;
    onabort = null;
    #listeners = [];  // {listener} entries, in the order they were added

    // `{once}` makes no difference: a signal aborts once, and then lets
    // all its listeners go.
    addEventListener(type, listener) {
        if (type === 'abort' && listener && !this.#listeners.some(l => l.listener === listener))
            this.#listeners.push({listener});
    }

    removeEventListener(type, listener) {
        if (type === 'abort')
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
        // As in browsers, a listener added meanwhile is not called, nor is
        // one removed meanwhile (by one called before it).
        const listeners = [...this.#listeners];
        if (this.onabort)
            callListener(this.onabort, this, event);
        for (const l of listeners) {
            if (this.#listeners.includes(l))
                callListener(l.listener, this, event);
        }
        this.#listeners = [];
    }

    static abort(reason) {
        const signal = new AbortSignal();
        signal._abort(reason);
        return signal;
    }

    // A time GLib cannot wait is a TypeError, as the web's out of its range.
    static timeout(ms) {
        needTime(ms, 'AbortSignal.timeout()', TypeError);
        const signal = new AbortSignal();
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
            signal._abort(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.TIMED_OUT, 'The operation timed out'));
            return GLib.SOURCE_REMOVE;
        });
        return signal;
    }

    // When one of the signals aborts, the others forget what any() made:
    // a window's signal combined with each request's would keep every
    // request's otherwise. (GJS 1.74's WeakRef never lets go, so one that
    // never aborts is kept as long as its signals are.) The signals are
    // taken as every `signal` option takes them (watchSignal()), but for
    // null and undefined; all are checked before any is watched.
    static any(signals) {
        const combined = new AbortSignal();
        const unwatches = [];
        for (const signal of Array.from(signals, needSignal)) {
            unwatches.push(watchSignal(signal, () => {
                unwatches.forEach(unwatch => unwatch());
                combined._abort(signal.reason);
            }));
            if (combined.aborted)
                break;
        }
        return combined;
    }
}

function callListener(listener, target, event) {
    try {
        typeof listener === 'function' ? listener.call(target, event) : listener.handleEvent(event);
    } catch (e) {
        logError(e, 'asyncgui: an abort listener threw');
    }
}

/** A minimal AbortController: `signal` and `abort(reason)`. */
export class AbortController {
    signal = new AbortSignal();

    abort(reason) {
        this.signal._abort(reason);
    }
}

const forgetNothing = () => {};

// Returns `signal` if it is a Gio.Cancellable or an AbortSignal-like
// object; throws a TypeError otherwise.
function needSignal(signal) {
    if (signal instanceof Gio.Cancellable || (typeof signal === 'object' && signal !== null &&
        'aborted' in signal && typeof signal.addEventListener === 'function'))
        return signal;
    throw new TypeError(`asyncgui: ${describe(signal)} is not an AbortSignal-like object ` +
        '(aborted + addEventListener) or a Gio.Cancellable');
}

// Calls onAbort once when the signal aborts (at once if it has); returns a
// function that forgets the signal.
function watchSignal(signal, onAbort) {
    // Not a closure of this call, which would hold onAbort: a pending
    // promise that C holds may keep it.
    if (signal === undefined || signal === null)
        return forgetNothing;
    const listener = () => onAbort();
    if (signal instanceof Gio.Cancellable) {
        // connect() runs the handler at once if it is cancelled already
        // (and returns 0, which disconnect() ignores). Once it ran, it is
        // disconnected from an idle: forgotten inside its own handler
        // (AbortSignal.any()), g_cancellable_disconnect() would wait for
        // the handler, i.e. for itself, for ever.
        let fired = false;
        const id = signal.connect(() => onAbort(fired = true));
        return () => (fired ? GLib.idle_add(GLib.PRIORITY_DEFAULT_IDLE, () => signal.disconnect(id))
            : signal.disconnect(id));
    }
    if (needSignal(signal).aborted) {
        onAbort();
        return forgetNothing;
    }
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
    needFunction(fn, 'mainTask()');
    return Task.new_main((task, cancellable) => {
        calledBack();
        endWithCall(task, () => fn(cancellable, task));
    });
}

/**
 * A task that ends after `ms` milliseconds with `value` (or without a
 * value). It is a main-context task driven by a GLib timeout; it stands in
 * for a slow operation in examples and tests.
 */
export function timeoutTask(ms, value) {
    needTime(ms, 'timeoutTask()');
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
    needTime(ms, 'sleep()');
    return Task.new_sleep(ms);
}

function needTime(ms, call, ErrorType = RangeError) {
    if (!(ms >= 0 && ms <= 0xffffffff))
        throw new ErrorType(`asyncgui: ${call} needs 0 to ${0xffffffff} milliseconds, not ${describe(ms)}`);
}

/**
 * Makes a MultiTask of `tasks`. Options: `maxWorkers` (0: no limit),
 * `skipErrors`, `unordered` (the order of `task-done` and of iterate();
 * the value, which run() gives, stays in list order).
 */
export function multi(tasks, {maxWorkers = 0, skipErrors = false, unordered = false, ...others} = {}) {
    checkOptions('multi()', others, ['maxWorkers', 'skipErrors', 'unordered']);
    needCount(maxWorkers, 0, `asyncgui: maxWorkers must be 0 or more, not ${maxWorkers}`);
    const m = MultiTask.new();
    for (const t of tasks)
        m.add(toTask(t));
    return Object.assign(m, {max_workers: maxWorkers, skip_errors: skipErrors, unordered});
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
 * (TypeError, RangeError, ... or Error; an Error named as it was for a
 * class of the worker's own) with the same message and the worker's
 * stack; its GLib.Error is in the exception's `gerror`.
 *
 * The task is an AsyncGui.WorkerTask: set its `timeout_ms` before running
 * it (-1, the default, takes `engine.get_worker_pool().timeout_ms`) to make a
 * call that runs longer fail with Gio.IOErrorEnum.TIMED_OUT.
 */
export function processTask(moduleUri, exportName, ...args) {
    if (typeof moduleUri !== 'string' || typeof exportName !== 'string')
        throw new TypeError('asyncgui: processTask() needs a module URI and an export name');
    const uri = moduleUri.includes('://') ? moduleUri : Gio.File.new_for_path(moduleUri).get_uri();
    return AsyncGui.WorkerTask.new_gjs(uri, exportName, JSON.stringify(args));
}

function isGjsWorkerTask(task) {
    return task instanceof AsyncGui.WorkerTask && task.get_kind() === AsyncGui.WorkerKind.GJS;
}

// A GJS worker's value is JSON text in a GVariant string.
function decodeValue(task, value) {
    return isGjsWorkerTask(task) && value instanceof GLib.Variant
        ? JSON.parse(value.unpack()) : value;
}

// A GJS worker's failure, as the kind of exception the function threw,
// also when it reaches JS through a MultiTask or a dependency (with the
// worker's stack when `task` is the worker task itself).
const WORKER_ERRORS = {Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError};

function decodeError(task, error) {
    const match = error instanceof GLib.Error && GLib.quark_to_string(error.domain) === 'asyncgui-gjs-error'
        ? /^(\w+): ([\s\S]*)$/.exec(error.message) : null;
    if (!match)
        return error;
    // A class of the worker's own is an Error of its name here.
    const jsError = Object.assign(new (WORKER_ERRORS[match[1]] ?? Error)(match[2]),
        {name: match[1], gerror: error});
    const data = isGjsWorkerTask(task) ? task.get_error_data() : null;
    if (data?.get_type_string() === 's')
        jsError.stack = data.unpack();
    return jsError;
}

// What can be awaited, as an AgTask (pending or not). Throws TypeError
// otherwise.
function toTask(x) {
    // A job is a task too: awaiting one that runs waits for it.
    if (x instanceof Task)
        return x;
    if (x instanceof JobHandle) {
        askedJobs.add(x);
        return x.task;
    }
    if (Array.isArray(x))
        return multi(x);
    if (isThenable(x))
        return mainTask(() => x);
    throw new TypeError(`asyncgui: cannot await ${describe(x)}: ` +
        'it is not an AsyncGui.Task, MultiTask, Job, array of them or promise');
}

// Throws a RangeError saying `message` unless `n` is an integer of at
// least `min` that C can hold.
function needCount(n, min, message) {
    if (!Number.isInteger(n) || n < min || n > 0x7fffffff)
        throw new RangeError(message);
}

// Throws a TypeError saying that `call` needs a function unless `fn` is one.
function needFunction(fn, call) {
    if (typeof fn !== 'function')
        throw new TypeError(`asyncgui: ${call} needs a function, not ${describe(fn)}`);
}

// Throws a TypeError naming `call` for an option of `options` (or of
// what a destructuring left, the options it does not know) not `known`.
function checkOptions(call, options, known) {
    const unknown = Object.keys(options).find(name => !known.includes(name));
    if (unknown !== undefined)
        throw new TypeError(`asyncgui: ${call} has no option '${unknown}' (${known.join(', ')})`);
}

// Calls `then()` once, at the first notify::`property` of `object` after
// which `test(object)` holds.
function onceNotified(object, property, test, then) {
    const id = object.connect(`notify::${property}`, o => {
        if (test(o)) {
            o.disconnect(id);
            then();
        }
    });
}

function isThenable(x) {
    return typeof x?.then === 'function';
}

// What a channel transform or a pipeline function returns must be the
// output itself, as it runs synchronously: returns `value`, or throws a
// TypeError saying `message` for a promise or, with `orWork` (a pipeline
// function's), for a task or an async iterable too.
function needOutput(value, message, orWork) {
    if (isThenable(value) ||
        (orWork && (value instanceof Task || typeof value?.[Symbol.asyncIterator] === 'function')))
        throw new TypeError(`asyncgui: ${message}`);
    return value;
}

// How a message names `x`: `undefined`, `number 42`, `an Object`,
// `an AsyncFunction`, `an AsyncGui.Task` (GI names the class AsyncGui_Task).
function describe(x) {
    if (x === null || x === undefined)
        return String(x);
    if (typeof x !== 'object' && typeof x !== 'function')
        return `${typeof x} ${String(x)}`;
    const name = x.constructor?.name?.replace(/^([A-Z]\w*?)_/, '$1.') || 'object';
    return `${/^[aeiou]/i.test(name) ? 'an' : 'a'} ${name}`;
}

// Returns `x` if it is a `Class` (or null, with `orNull`); throws a
// TypeError naming both otherwise.
function needInstance(x, Class, orNull = false) {
    if (!(x instanceof Class || (orNull && x === null)))
        throw new TypeError(`asyncgui: ${describe(x)} is not ${describe(Class.prototype)}`);
    return x;
}

// ---------------------------------------------------------------------------
// Reading outcomes

// The value of a MultiTask that succeeded: its children's values in list
// order (failures dropped with skip-errors), as JS values. The task's own
// GValue holds a GArray that GJS cannot unpack, so the values are read
// from the children.
function multiValues(m) {
    const values = [];
    for (let i = 0, n = m.get_n_items(); i < n; i++) {
        const child = m.get_item(i);
        if (child.get_state() === AsyncGui.TaskState.SUCCEEDED)
            values.push(taskValue(child));
    }
    return values;
}

// The JS value of a task that succeeded.
function taskValue(task) {
    return task instanceof MultiTask
        ? multiValues(task) : decodeValue(task, fromGValue(task.get_value()));
}

/**
 * The value of `task` as the JS value it was made from, or `undefined`
 * while the task has not succeeded (pending, running, failed or
 * cancelled). A task's value lives in C (see "Values and errors"): through
 * GI, `task.get_value()` and the `value` property give the GObject that
 * holds a JS object, not the object. This gives the object itself, for
 * code that is handed tasks rather than awaiting them, such as a
 * GtkListView's factory bound to a MultiTask's rows: read `valueOf(row)`
 * in the bind handler and again on the row's `notify::state`. A GJS
 * worker's JSON value is parsed; a MultiTask's value is the list of its
 * children's values.
 *
 * Thread: the engine's (GJS's main thread).
 *
 * @param {AsyncGui.Task} task
 * @returns {any}
 */
export function valueOf(task) {
    return needInstance(task, Task).get_state() === AsyncGui.TaskState.SUCCEEDED ? taskValue(task) : undefined;
}

// Finishes an async call whose value is the task's: value or throw. When
// the result is the task itself (but for an await or wait that was
// cancelled or refused), the outcome is read from the task: a finish
// function returns a copy of a MultiTask's value that GJS 1.74 cannot
// convert and never frees, with every value in it.
function finishWith(finish, task, result) {
    if (result === task && task.is_finished()) {
        if (task.get_state() !== AsyncGui.TaskState.SUCCEEDED)
            throw jsErrorOf(task, task.get_error());
        return taskValue(task);
    }
    try {
        finish();
    } catch (e) {
        if (e instanceof GLib.Error)
            throw jsErrorOf(task, e);
        // Else GJS could not convert the value (a MultiTask's GArray): the
        // task succeeded, and taskValue() reads its children.
        if (!(task instanceof MultiTask))
            throw e;
    }
    return taskValue(task);
}

// ---------------------------------------------------------------------------
// Running tasks outside a job

/**
 * Awaits `x` outside a job and resolves with its value as a JS value: a
 * pending AsyncGui.Task or MultiTask is run on `engine` (the default
 * engine if not given); one that was already started (by run(), by C
 * code, a job) is waited for, not run again; a job's handle waits for the
 * job. `x` may also be an array (a MultiTask; its value is the list of
 * values) or a promise. It rejects with the task's error: for a JS
 * exception, that very exception. `signal` cancels it: the promise then
 * rejects with the CANCELLED GLib.Error.
 *
 * With `slot` (an AsyncGui.Slot), `x` runs as the slot's one piece of work
 * (ag_slot_run_async) on the slot's engine: the latest request wins. A
 * request made later replaces this one, whose task is cancelled (a
 * main-context task's cancellable fires) and whose promise rejects with
 * the CANCELLED GLib.Error, never resolving with a stale value. `x` must
 * be a task that has not run yet (or an array or promise, made into one).
 *
 * @param {AsyncGui.Task|JobHandle|Array|Promise} x
 * @param {{engine?: AsyncGui.Engine, signal?: AbortSignal|Gio.Cancellable,
 *     slot?: AsyncGui.Slot}} [options]
 * @returns {Promise}
 */
export async function run(x, {engine = null, signal = null, slot = null, ...others} = {}) {
    checkOptions('run()', others, ['engine', 'signal', 'slot']);
    needInstance(engine, Engine, true);
    const task = toTask(x);
    needInstance(slot, AsyncGui.Slot, true);
    if (task.get_state() !== AsyncGui.TaskState.PENDING) {
        if (slot !== null)
            throw new TypeError('asyncgui: a slot runs a task that has not run yet');
        return outcomeOf(task, signal);
    }
    if (slot !== null && slot.task === task)
        throw new TypeError('asyncgui: this task already waits in the slot; a task runs once');
    // A slot runs the task as an engine does (ag_slot_run_async), the
    // latest request winning.
    const runner = slot ?? engine ?? Engine.get_default();
    const value = await gioPromise(signal, (cancellable, settle) => runner.run_async(task, cancellable,
        (r, result) => settle(() => finishWith(() => r.run_finish(result), task, result))));
    // What awaits a slot's request resumes after the rest of the main-loop
    // iteration that settled it: a request made meanwhile wins.
    if (slot !== null && !slot.is_latest(task))
        throw cancelledError();
    return value;
}

// The outcome of a task that was already started (ag_task_wait_async).
function outcomeOf(task, signal) {
    return gioPromise(signal, (cancellable, settle) => task.wait_async(cancellable,
        (t, result) => settle(() => finishWith(() => t.wait_finish(result), task, result))));
}

// ---------------------------------------------------------------------------
// Iterating a MultiTask as its children finish

/**
 * An async iterator for `for await`: over a MultiTask's children as they
 * are announced (`task-done`), over a channel reader's items, or over a
 * pipeline's outputs.
 *
 * For a MultiTask that has not run yet (it runs it and reads its results
 * stream, ag_multi_task_open_results()): in completion order when it is
 * unordered, in list order otherwise. It yields values (or `{position,
 * value}` with `positions: true`); failed children are skipped; when the
 * MultiTask failed (or was cancelled), the loop throws its error after the
 * values announced before. A MultiTask already started is refused with a
 * TypeError. Leaving the loop
 * early cancels the children still running. Options: `engine` and
 * `signal` as for run(), or `job` (a job's handle): the MultiTask is then
 * awaited by that job, so pausing the job holds the loop and cancelling it
 * ends the loop with CANCELLED (prefer job.iterate()).
 *
 * For an AsyncGui.ChannelReader: its items, read one at a time with
 * read(), until the channel is closed and drained. `signal` cancels the
 * pending read: the loop throws the CANCELLED GLib.Error. Leaving the loop
 * early (`break`, `return`, an exception in its body) closes the reader,
 * unless `keepOpen`: closing the last reader tells the writers that nobody
 * reads any more (their writes fail with G_IO_ERROR_BROKEN_PIPE), and
 * stops a pipeline writing to it. With `job` (job.iterate(reader)), the
 * reads go through the job: pausing it holds the loop, cancelling it ends
 * the loop with CANCELLED and leaves the reader open.
 *
 * For a Pipeline: pipeline.values({signal, job}); with `job`, cancelling
 * the job also cancels the pipeline.
 */
export function iterate(m, {engine = null, signal = null, job = null, positions = false,
    keepOpen = false, ...others} = {}) {
    checkOptions('iterate()', others, ['engine', 'signal', 'job', 'positions', 'keepOpen']);
    if (m instanceof ChannelReader)
        return readerIterator(m, {signal, job, leave: keepOpen ? null : () => m.close()});
    if (m instanceof Pipeline)
        return m.values({signal, job});
    if (!(m instanceof MultiTask)) {
        throw new TypeError(`asyncgui: cannot iterate ${describe(m)}: it is not an AsyncGui.MultiTask, ` +
            'an AsyncGui.ChannelReader or a Pipeline');
    }

    if (m.get_state() !== AsyncGui.TaskState.PENDING)
        throw new TypeError('asyncgui: iterate a MultiTask before it runs');

    // The loop reads the MultiTask's results stream (positions as
    // task-done announces them); once it is drained, the run's outcome.
    const results = m.open_results();
    const end = job ? job.run(m, {signal}) : run(m, {engine, signal});
    // Refused before it ran (the job has finished, or awaits something
    // else), it writes no results: the read stops, and the loop throws why.
    let refusal = null;
    end.catch(e => {
        if (m.get_state() === AsyncGui.TaskState.PENDING) {
            refusal = e;
            results.close();
        }
    });
    return readerIterator(results, {
        failed: e => refusal ?? e,
        drained: () => end,
        leave: async () => {
            m.cancel();  // a finished one stays as it is
            results.close();
            await end.catch(() => {});
        },
        async map(position) {
            // A job that is paused holds the loop, as it holds its awaits.
            if (job?.task.paused)
                await new Promise(done => onceNotified(job.task, 'paused', t => !t.paused, done));
            // Nothing reaches a job after a cancel (one lifts a pause, too):
            // the loop throws the CANCELLED of the job's await of the
            // MultiTask, or, once that is over, of a next await.
            if (job?.task.is_cancel_pending())
                await end.then(() => job.sleep(0));
            const child = m.get_item(position);
            if (child.get_state() !== AsyncGui.TaskState.SUCCEEDED)
                return kSkip;
            const value = taskValue(child);
            return positions ? {position, value} : value;
        },
    });
}

const kSkip = Symbol('asyncgui skip');

// ---------------------------------------------------------------------------
// Jobs

/**
 * Starts a job: makes an AsyncGui.Job on `engine` (the default engine if
 * not given) and calls `fn(job, ...args)` at once with the job's handle;
 * it runs until its first await. Its return value becomes the job's
 * value, what it throws the job's error (the CANCELLED GLib.Error ends the
 * job cancelled). Returns the same handle, which is awaitable (`await
 * job`, `job.promise`).
 *
 * `signal` cancels the job when it aborts.
 *
 * @returns {JobHandle}
 */
export function spawn(fn, {engine = null, signal = null, args = [], ...others} = {}) {
    checkOptions('spawn()', others, ['engine', 'signal', 'args']);
    needFunction(fn, 'spawn()');
    const handle = new JobHandle(Job.new(engine ?? Engine.get_default()), kInternal);
    const gjob = handle.task;
    // Its engine was disposed (by C code): the job failed, and fn never runs.
    if (gjob.is_finished())
        return handle;
    const unwatch = watchSignal(signal, () => handle.cancel());

    const end = (ok, valueOrError) => {
        unwatch();
        if (!gjob.is_finished() && ok)
            endWithCall(gjob, () => valueOrError);
        else if (!gjob.is_finished())
            returnError(gjob, valueOrError);
        // A failure nobody asked for by the time the loop is idle is
        // logged, as GJS logs a promise rejection nobody handles.
        if (!ok && gjob.get_state() === AsyncGui.TaskState.FAILED) {
            GLib.idle_add(GLib.PRIORITY_DEFAULT_IDLE, () => {
                if (!askedJobs.has(handle))
                    logError(valueOrError, 'asyncgui: a job failed and nobody awaited it');
                return GLib.SOURCE_REMOVE;
            });
        }
    };
    // Called at once; what it throws at once rejects the promise.
    (async () => fn(handle, ...args))().then(v => end(true, v), e => end(false, e))
        .catch(e => logError(e, 'asyncgui: ending a job'));
    return handle;
}

/**
 * Wraps an async function as a handler that starts a job per call (the
 * twin of Python's `@engine.job`): `fn(job, ...args)`.
 *
 *     button.connect('clicked', job(async (job, button) => { ... }));
 */
export function job(fn, options = {}) {
    needFunction(fn, 'job()');
    return (...args) => spawn(fn, {...options, args});
}

// The handles of the jobs whose outcome something awaits.
const askedJobs = new WeakSet();

/**
 * The handle of a JS job, made by spawn(): what the job's function awaits
 * through, and what its caller awaits, pauses and cancels. `task` is the
 * AsyncGui.Job itself (state, value, error, engine; hand it to C code).
 */
class JobHandle {
    #awaiting = false;
    #promise = null;

    constructor(task, token) {
        if (token !== kInternal)
            throw new TypeError('asyncgui: start a job with spawn()');
        this.task = task;
    }

    /**
     * Awaits a task, MultiTask, job, array of them (a MultiTask, values in
     * list order) or promise inside this job (ag_job_await_async): while
     * the job is paused, a result is held until it is resumed; cancelling
     * the job rejects the pending await with CANCELLED. `signal` cancels
     * just this await's task.
     *
     * With `slot`, `x` runs as the slot's one piece of work, as with
     * run(x, {slot}): when a later request replaces it, this await rejects
     * with CANCELLED (left uncaught, that ends the job cancelled, its
     * `finally` blocks run), never giving a stale value.
     */
    run(x, {signal = null, slot = null, ...others} = {}) {
        // `signal` cancels the await's cancellable, which cancels the task.
        return gioPromise(signal, (cancellable, settle) => {
            checkOptions('job.run()', others, ['signal', 'slot']);
            const task = toTask(x);
            // With a slot, the job awaits a main-context task that runs x
            // through the slot, as run() does; cancelling the job cancels
            // it, and so the slot's request.
            const awaited = slot === null ? task : mainTask(c => run(task, {slot, signal: c}));
            const refusal = this.task.is_finished() ? 'this job has finished; it cannot await any more'
                : awaited === this.task ? 'a job cannot await itself: it would never finish'
                    : this.#awaiting ? 'this job is already awaiting something; await one thing ' +
                        'at a time, or pass an array to job.run() to await several' : null;
            if (refusal !== null)
                throw new Error(`asyncgui: ${refusal}`);
            this.#awaiting = true;
            this.task.await_async(awaited, cancellable, (gjob, result) => settle(() => {
                this.#awaiting = false;
                const value = finishWith(() => gjob.await_finish(result), awaited, result);
                // The job resumes one delivery after the slot's
                // callback: a request made meanwhile wins all the same.
                if (slot !== null && !slot.is_latest(task))
                    throw cancelledError();
                return value;
            }));
        });
    }

    /** Sleeps `ms` milliseconds in this job (the rest is kept while paused). */
    sleep(ms) {
        needTime(ms, 'job.sleep()');
        return this.run(Task.new_sleep(ms));
    }

    /** iterate(multi, {job: this, ...options}). */
    iterate(m, options = {}) {
        return iterate(m, {...options, job: this});
    }

    /**
     * read(reader, count, {timeoutMs, signal}) through this job. Cancelling
     * the job cancels the read at once; items it got that the job never saw
     * (the job was cancelled before it resumed) go back to the channel.
     */
    read(reader, count = 1, {timeoutMs = -1, signal = null} = {}) {
        const ended = [];   // the read's result, until the job or the cancel finishes it
        const giveBack = () => ended.splice(0).forEach(result => {
            try {
                finishRead(reader, result);
            } catch {
                // It fails as cancelled: C has put its items back.
            }
        });
        let readCancellable = null;
        const task = mainTask(cancellable => new Promise(resolve => {
            readCancellable = cancellable;
            startRead(reader, count, timeoutMs, cancellable, result => {
                ended.push(result);
                // connect() gives it back at once if the read was
                // cancelled, else once it is.
                cancellable.connect(giveBack);
                resolve();
            });
        }));
        // A read that ended while the job was paused, then cancelled: the
        // job's cancel cancels the task's cancellable, and giveBack()
        // finishes the read cancelled, so C puts its items back at once.
        return this.run(task, {signal}).then(() => finishRead(reader, ended.pop()), e => {
            readCancellable?.cancel();
            throw e;
        });
    }

    /**
     * write(channel, value) through this job: cancelling the job while the
     * write waits for room stores nothing.
     */
    write(channel, value) {
        return this.run(mainTask(cancellable => write(channel, value, {signal: cancellable})));
    }

    /** Pauses the job (ag_job_pause): results that arrive are held. */
    pause() {
        this.task.pause();
    }

    /**
     * Resumes a paused job (ag_job_resume). Throws for a job that runs
     * unpaused (never paused, or resumed already), where C would print a
     * critical; a finished job, or one whose pause a cancel lifted, stays
     * quiet.
     */
    resume() {
        if (!this.task.may_resume())
            throw new Error('asyncgui: resume() of a job that is not paused');
        this.task.resume();
    }

    /**
     * Cancels the job: its pending await (or its next one) rejects with
     * the CANCELLED GLib.Error.
     */
    cancel() {
        this.task.cancel();
    }

    /** Whether the job is paused. */
    get paused() {
        return this.task.paused;
    }

    /** The job's AsyncGui.TaskState. */
    get state() {
        return this.task.get_state();
    }

    /** A promise of the job's outcome: its value or its error, as JS values. */
    get promise() {
        askedJobs.add(this);
        return (this.#promise ??= outcomeOf(this.task, null));
    }

    then(onFulfilled, onRejected) {
        return this.promise.then(onFulfilled, onRejected);
    }
}

// ---------------------------------------------------------------------------
// Dependencies
//
// ag_task_add_dependency() is called as it is: the dependencies' values
// and errors are GValues in C, so dependencyValues() and a failed task's
// error read them from there. ag_task_and_then() runs its function on a
// worker thread, so JS gets andThen() instead: the same chaining with a
// main-context task.

/**
 * The values of `task`'s dependencies (added with
 * `task.add_dependency()`), in the order they were added, as JS values.
 * For the work of a task whose dependencies all succeeded, e.g. inside
 * mainTask().
 *
 * A MultiTask dependency's value is the list of its children's values
 * (read from its children: GJS 1.74 cannot convert the GArray C holds); a
 * GJS worker's JSON value is parsed.
 *
 * @param {AsyncGui.Task} task
 * @returns {Array}
 */
export function dependencyValues(task) {
    needInstance(task, Task);
    return Array.from({length: task.get_n_dependencies()}, (_, i) => taskValue(task.get_dependency(i)));
}

/**
 * The JS twin of ag_task_and_then(): a new main-context task that depends
 * on `previous` (anything run() takes) and, once it succeeded, calls
 * `fn(value, cancellable, task)` on the engine's context with its JS value.
 * The new task ends with what `fn` returns or resolves with, or fails with
 * what it throws; if `previous` fails or is cancelled, the new task fails
 * with that error and `fn` never runs. Running the new task runs both.
 *
 *     const size = await run(andThen(loadTask, bytes => bytes.get_size()));
 *
 * @param {AsyncGui.Task|JobHandle|Promise|Array} previous
 * @param {function(any, Gio.Cancellable, AsyncGui.Task): any} fn
 * @returns {AsyncGui.Task}
 */
export function andThen(previous, fn) {
    needFunction(fn, 'andThen()');
    const first = toTask(previous);
    const next = mainTask((cancellable, task) => fn(taskValue(first), cancellable, task));
    next.add_dependency(first);
    return next;
}

// ---------------------------------------------------------------------------
// Channels
//
// Items are GValues, made and read as task values are (see toGValue()).

/**
 * Reads up to `count` items from an AsyncGui.ChannelReader without
 * blocking (ag_channel_reader_read_async) and resolves with them as JS
 * values: all `count` once they are there, fewer when `timeoutMs` passed
 * (-1 or Infinity: no limit; 0: what is waiting now) or when the channel
 * was closed and drained, and an empty array once it is drained
 * (`reader.is_drained()` tells that from a timeout). `count` 0 reads what
 * is waiting without waiting.
 *
 * `signal` cancels the read: it rejects with the CANCELLED GLib.Error and
 * no item is lost. Reading a closed reader rejects with
 * G_IO_ERROR_CLOSED; an item GJS cannot convert (e.g. a GValue holding a
 * GArray) rejects with GJS's error.
 *
 * @param {AsyncGui.ChannelReader} reader
 * @param {number} [count=1]
 * @param {{timeoutMs?: number, signal?: AbortSignal|Gio.Cancellable}} [options]
 * @returns {Promise<Array>}
 */
export function read(reader, count = 1, {timeoutMs = -1, signal = null} = {}) {
    return gioPromise(signal, (cancellable, settle) => startRead(reader, count, timeoutMs, cancellable,
        result => settle(() => finishRead(reader, result))));
}

function startRead(reader, count, timeoutMs, cancellable, done) {
    needInstance(reader, ChannelReader);
    needCount(count, 0, `asyncgui: cannot read ${count} items`);
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs))
        throw new TypeError(`asyncgui: timeoutMs must be a number, not ${describe(timeoutMs)}`);
    const wait = timeoutMs < 0 || timeoutMs === Infinity ? -1 : Math.min(Math.ceil(timeoutMs), 0x7fffffff);
    reader.read_async(count, wait, cancellable, (r, result) => done(result));
}

// Returns what `finish()` returns; what it throws is replaced by the JS
// exception `detail()` holds, if it holds one: a transform's exception,
// which C carries as the error's detail.
function finishWithDetail(finish, detail) {
    try {
        return finish();
    } catch (e) {
        throw heldOr(detail(), e);
    }
}

// Finishing a read that was cancelled puts its items back (C does).
function finishRead(reader, result) {
    return finishWithDetail(() => reader.read_finish(result).map(fromGValue), () => reader.get_error_detail());
}

/**
 * Writes `value` to an AsyncGui.Channel without blocking
 * (ag_channel_write_async): resolves once it is stored, waiting for room
 * while the channel is full. It rejects with G_IO_ERROR_CLOSED if the
 * channel was closed, with G_IO_ERROR_BROKEN_PIPE once nobody can read it
 * any more (the last reader went: stop producing), and with the CANCELLED
 * GLib.Error when `signal` aborts (nothing is stored). `undefined` is
 * written as `null`.
 *
 * @param {AsyncGui.Channel} channel
 * @param {any} value
 * @param {{signal?: AbortSignal|Gio.Cancellable}} [options]
 * @returns {Promise<void>}
 */
export function write(channel, value, {signal = null} = {}) {
    return gioPromise(signal, (cancellable, settle) => {
        needInstance(channel, Channel).write_async(toGValue(value), cancellable, (c, result) => settle(() => {
            finishWithDetail(() => c.write_finish(result), () => c.get_write_error_detail(result));
        }));
    });
}

// `drained()` runs once the reader is drained and may throw (a pipeline's
// error); `failed(error)` runs when the loop fails, and gives what it
// throws; `leave()` runs when the loop is left early (by default it
// closes the reader; null: nothing); `map(item)` makes the value to
// yield, kSkip for none. With `job`, the reads go through the job:
// cancelling it ends the loop with CANCELLED, and pausing it holds the
// loop.
function readerIterator(reader, {signal = null, drained = null, failed = e => e,
    leave = () => reader.close(), map = item => item, job = null}) {
    let finished = false;
    return {
        [Symbol.asyncIterator]() {
            return this;
        },

        async next() {
            try {
                while (!finished) {
                    const items = await (job ? job.read(reader, 1, {signal}) : read(reader, 1, {signal}));
                    if (items.length === 0) {
                        finished = true;
                        await drained?.();
                        break;
                    }
                    const value = await map(items[0]);
                    if (value !== kSkip)
                        return {done: false, value};
                }
            } catch (e) {
                finished = true;
                throw failed(e);
            }
            return {done: true, value: undefined};
        },

        async return() {
            const early = !finished;
            finished = true;
            if (early)
                await leave?.();
            return {done: true, value: undefined};
        },
    };
}

// ---------------------------------------------------------------------------
// Transforms
//
// setTransforms(channel, {write, read}) takes JS functions that return the
// new item or throw. The C transform gets an AgChannelTransform handle for
// its item; the trampoline below returns the function's value through it,
// or fails it with the exception as the error's detail, which the writer
// (ag_channel_get_write_error_detail) or reader
// (ag_channel_reader_get_error_detail) gets back: write(), read() and
// `for await` reject with that very object.
//
// A transform runs on the thread that writes or reads, and GJS cannot run
// JavaScript on any other thread than the main one: the channel's
// transforms are pinned to the main thread (ag_channel_pin_transforms), so
// a write or read on another thread (a C worker writing the channel) fails
// with G_IO_ERROR_NOT_SUPPORTED instead of reaching JS.

function setTransform(channel, setter, fn) {
    if (channel.get_transforms_fixed())
        throw new Error("asyncgui: a channel's transforms are set before it is first written " +
            'to and before a reader is opened');
    if (fn === null)
        return channel[setter](null);
    needFunction(fn, 'setTransforms()');
    channel.pin_transforms();
    channel[setter]((transform, value) => endWithCall(transform, () => needOutput(fn(fromGValue(value)),
        'a channel transform must return the item, not a promise: it runs synchronously while the ' +
        'item is written or read', false)));
}

/**
 * Sets the transforms of an AsyncGui.Channel (ag_channel_set_write_transform,
 * ag_channel_set_read_transform) to JS functions; a side left out stays as
 * it is, `null` removes it. Set them before the first write and before
 * opening readers.
 *
 * `write(item)` runs while the item is written, before it takes room, and
 * may return a value of any type: that is what is stored. If it throws,
 * the write rejects with that very exception and stores nothing.
 *
 * `read(item)` runs when read() or `for await` gets the item. If it
 * throws for an item, the read resolves with the items before it and the
 * next one rejects with that very exception; the item is dropped, the
 * items after it stay in the channel.
 *
 * Both run on the main thread: a write or read on another thread (C code
 * on a worker thread) fails with G_IO_ERROR_NOT_SUPPORTED.
 *
 * @param {AsyncGui.Channel} channel
 * @param {{write?: Function|null, read?: Function|null}} transforms
 */
export function setTransforms(channel, transforms = {}) {
    needInstance(channel, Channel);
    const sides = ['write', 'read'];
    checkOptions('setTransforms()', transforms, sides);
    for (const side of sides) {
        if (transforms[side] !== undefined)
            setTransform(channel, `set_${side}_transform`, transforms[side]);
    }
}

// ---------------------------------------------------------------------------
// Pipelines
//
// A pipeline is an AgPipeline made with ag_pipeline_new*() whose
// AgPipelineFunc is a JS function. An AgPipelineFunc runs on a worker
// thread unless the engine is in serial mode (max-threads 0): then it runs
// inside the engine's delivery on the main context. So JS pipelines always
// run on a serial engine; CPU-heavy JS belongs in worker processes
// (processTask()).
//
// The function ends each input through its AgChunk handle, as a task
// function does: chunk.emit() for extra outputs, chunk.return_value() for
// the output, chunk.return_error_full() with the exception as the error's
// detail when it threw, so the reading loop rethrows the very exception.


// A failure of a JS source iterator, passed down the channel as an item so
// the pipeline fails at its position, after the outputs before it.
const kSourceError = Symbol('asyncgui source error');

let sharedPipelineEngine = null;

/**
 * The engine JS pipelines run on unless given one: an engine in serial
 * mode (max-threads 0) on the global default main context, made on first
 * use. Its "thread" work runs inside its delivery on the main thread, so
 * JS pipeline functions run there, one at a time, between frames.
 *
 * @returns {AsyncGui.Engine}
 */
export function pipelineEngine() {
    return (sharedPipelineEngine ??= Object.assign(Engine.new_for_context(null), {max_threads: 0}));
}

function checkSerial(engine) {
    if (needInstance(engine, Engine).max_threads !== 0) {
        throw new TypeError('asyncgui: a JS pipeline needs an engine in serial mode (max_threads = 0): ' +
            'its functions would run on worker threads, where GJS cannot run JavaScript. ' +
            'Use pipelineEngine(), or processTask() for CPU-heavy JS.');
    }
    return engine;
}

// Makes one stage: `create(func)` makes the AgPipeline around the
// AgPipelineFunc.
function makeStage(chain, func, options, create, onStart = null) {
    needFunction(func, 'pipe()');
    checkOptions('pipe()', options, ['engine', 'capacity', 'minCount', 'maxChunkSize', 'signal']);
    const {capacity = 16, minCount = 1, maxChunkSize = 0, signal = null} = options;
    needCount(capacity, 1, `asyncgui: a pipeline's capacity must be at least 1, not ${capacity}`);
    needCount(minCount, 1, `asyncgui: a pipeline's minCount must be at least 1, not ${minCount}`);
    needCount(maxChunkSize, 0, `asyncgui: a pipeline's maxChunkSize must be 0 or more, not ${maxChunkSize}`);

    // The handle of the input running, for emit(): set only during the call.
    let running = null;
    const emit = value => {
        if (!running)
            throw new Error('asyncgui: emit() works only while the pipeline function runs');
        running.emit(toGValue(needOutput(value, `emit() takes an output, ${NO_WORK_TO_AWAIT}`, true)));
    };

    const task = create((chunk, item) => {
        calledBack();
        const input = fromGValue(item);
        if (input !== null && typeof input === 'object' && kSourceError in input)
            return returnError(chunk, input[kSourceError]);
        // In serial mode a run may start inside another's function.
        const outer = running;
        running = chunk;
        try {
            endWithCall(chunk, () => needOutput(func(input, {emit, cancellable: chunk.get_cancellable()}),
                `a pipeline function must return its output, ${NO_WORK_TO_AWAIT}`, true));
        } finally {
            running = outer;
        }
    });
    // apply_single: a whole chunk is a GArray GValue, which GJS cannot convert.
    Object.assign(task, {apply_single: true, min_count: minCount, max_chunk_size: maxChunkSize});
    if (onStart)
        onceNotified(task, 'state', t => t.get_state() === AsyncGui.TaskState.RUNNING, onStart);
    // The signal is watched only while the pipeline runs (see `reader`):
    // one never read holds no listener. A wrong one is refused now.
    watchSignal(signal, forgetNothing)();
    chain.tasks.push(task);
    chain.signals.push(signal);
    return new Pipeline(task, chain, capacity, kInternal);
}

// A pipeline function runs synchronously and cannot await: work still to
// be awaited (a promise, a task, a job, an async iterable such as a
// pipeline or an async generator) is refused as an output, as Python's
// pipe() refuses an async function.
const NO_WORK_TO_AWAIT = 'not a promise, a task or an async iterable: it runs synchronously on the ' +
    'main thread and cannot await (use processTask() for slow work; wrap a task in an object to pass it on)';

// Feeds a JS (async) iterable into `channel`, one item at a time: the next
// item is pulled only once the previous one is stored, so the source runs
// at most the channel's capacity + 1 items ahead of the pipeline. Ends
// when the pipeline stops reading (BROKEN_PIPE): the loop returns the
// iterator. `chain.closeSource()` starts closing the source at once,
// without waiting: an async generator whose next() is pending closes only
// once that settles (which may be never).
async function feedChannel(source, channel, chain) {
    let writing = false;
    try {
        const key = iteratorKey(source);
        const iterator = source[key]();
        chain.closeSource = () => (async () => iterator.return?.())()
            .catch(e => logError(e, 'asyncgui: closing a pipeline source'));
        for await (const value of {[key]: () => iterator}) {
            writing = true;
            await write(channel, value);
            writing = false;
        }
    } catch (e) {
        if (!writing)
            await write(channel, {[kSourceError]: e}).catch(() => {});
        else if (!(e instanceof GLib.Error && (e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.BROKEN_PIPE) ||
            e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CLOSED))))
            logError(e, 'asyncgui: feeding a pipeline');
    } finally {
        channel.close();
    }
}

// The key of `x`'s async iterator, else of its iterator; undefined for
// none.
function iteratorKey(x) {
    return [Symbol.asyncIterator, Symbol.iterator].find(key => typeof x?.[key] === 'function');
}

/**
 * Makes a pipeline (ag_pipeline_new*) that passes the items of
 * `source` through `func(item, {emit, cancellable})`, in order, lazily: it
 * does nothing until its output is read, and reading n outputs calls `func`
 * about n times (at least `minCount`). `source` is:
 *
 * - a count `n` (inputs 0, 1, … n - 1) or `Infinity` (0, 1, 2, … without
 *   end): ag_pipeline_new_range();
 * - an AsyncGui.ChannelReader: its items (the pipeline owns the reader and
 *   closes it when it ends);
 * - a Gio.ListModel: its objects, taken when needed;
 * - any JS iterable or async iterable (an array, a generator, …): pulled
 *   one item at a time as the pipeline needs inputs, a few items ahead at
 *   most; if it throws, the pipeline fails with that exception at that
 *   position; when the pipeline stops, its `return()` is called;
 * - a Pipeline: the same as `source.pipe(func, options)`.
 *
 * `func` runs on the main thread (on a serial engine, see pipelineEngine())
 * and returns the item's output; `emit(value)` adds outputs before it
 * (several outputs for one input). Every input has an output: `undefined`
 * becomes `null`. If `func` throws, the
 * pipeline writes the outputs of the inputs before, then fails with that
 * very exception, which the reading loop throws. `func` must be synchronous
 * and quick: slow or CPU-heavy JS belongs in worker processes
 * (processTask()). It cannot await: an output (returned or emitted) that is
 * work to await (a promise, an AsyncGui.Task, a job, a pipeline or another
 * async iterable) fails that input with a TypeError; wrap a task in an
 * object to pass it on.
 *
 * Options: `engine` (a serial engine; pipelineEngine() by default),
 * `capacity` of the output channel (16), `minCount` (inputs run at least
 * per read; 1), `maxChunkSize` (inputs run in one go, between which the
 * main loop runs; 0: the library's default), `signal` (cancels the
 * pipeline while it runs, an aborted one once it is read; it holds a
 * listener only meanwhile).
 *
 *     for await (const line of pipe(parse, Gio.ListStore…)) show(line);
 *     const [a, b] = await pipe(x => x * 2, Infinity).read(2);   // [0, 2]
 *
 * @param {function(any, {emit: function(any), cancellable: Gio.Cancellable}): any} func
 * @param {number|AsyncGui.ChannelReader|Gio.ListModel|Iterable|AsyncIterable|Pipeline} source
 * @param {object} [options]
 * @returns {Pipeline}
 */
export function pipe(func, source, options = {}) {
    if (source instanceof Pipeline)
        return source.pipe(func, options);
    // What the stages share: their engine, their tasks and signals (first
    // to last), and what closes a JS source once feeding it started.
    const chain = {engine: checkSerial(options.engine ?? pipelineEngine()), tasks: [], signals: []};
    let create, onStart = null;
    if (typeof source === 'number') {
        if (source !== Infinity && !(Number.isSafeInteger(source) && source >= 0))
            throw new RangeError(`asyncgui: a pipeline over a range needs a count or Infinity, not ${source}`);
        // -1: without end.
        create = wrapper => AsyncGui.Pipeline.new_range(source === Infinity ? -1 : source, wrapper);
    } else if (source instanceof ChannelReader) {
        create = wrapper => AsyncGui.Pipeline.new(source, wrapper);
    } else if (source instanceof Gio.ListModel) {
        create = wrapper => AsyncGui.Pipeline.new_model(source, wrapper);
    } else if (iteratorKey(source)) {
        // Capacity 1: the source is pulled as the pipeline reads its input.
        const channel = Channel.new(1);
        const reader = channel.open_reader();
        create = wrapper => AsyncGui.Pipeline.new(reader, wrapper);
        onStart = () => feedChannel(source, channel, chain);
    } else {
        throw new TypeError(`asyncgui: cannot make a pipeline over ${describe(source)}: ` +
            'it needs a count, Infinity, an AsyncGui.ChannelReader, a Gio.ListModel or an iterable');
    }
    return makeStage(chain, func, options, create, onStart);
}

/**
 * One stage of a JS pipeline, made by pipe() or `pipeline.pipe()`: an
 * AsyncGui.Pipeline task (`task`) whose outputs are read through a channel.
 * Reading it (`for await`, read(), toArray(), or opening `reader`) runs it
 * on its serial engine, with the stages before it. It is not a thenable;
 * its task tells how it ended (its value is the count of outputs).
 */
export class Pipeline {
    #task;
    #chain;
    #capacity;
    #reader = null;
    #next = null;
    #done = null;

    constructor(task, chain, capacity, token) {
        if (token !== kInternal)
            throw new TypeError('asyncgui: make a Pipeline with pipe()');
        this.#task = task;
        this.#chain = chain;
        this.#capacity = capacity;
    }

    /** The AsyncGui.Pipeline task of this stage. */
    get task() {
        return this.#task;
    }

    /**
     * The AsyncGui.ChannelReader of this stage's outputs. Getting it opens
     * it and runs the pipeline; a reader for C code, or for read() and
     * iterate() with their options. Dropping or closing it stops the
     * pipeline.
     */
    get reader() {
        if (this.#next)
            throw new Error('asyncgui: this pipeline feeds a next stage (.pipe()); read the last stage');
        if (!this.#reader) {
            const engine = checkSerial(this.#chain.engine);
            this.#reader = this.#task.open_output(this.#capacity);
            // The outcome, which a loop that drained the output awaits:
            // it throws if the pipeline failed or was cancelled.
            this.#done = run(this.#task, {engine});
            // Each stage's signal cancels it while the pipeline runs (an
            // aborted one at once), and is let go once it has ended.
            const {tasks, signals} = this.#chain;
            const unwatches = signals.map((signal, i) => watchSignal(signal, () => tasks[i].cancel()));
            this.#done.catch(() => {}).then(() => unwatches.forEach(unwatch => unwatch()));
        }
        return this.#reader;
    }

    /**
     * Adds a stage (ag_pipeline_add_stage) that passes this stage's
     * outputs through `func`, as pipe() does; returns it. Read the last
     * stage: reading it runs this one too. `options` as for pipe(), but the
     * engine is the first stage's; `capacity` is the new stage's output's
     * (the channel between the two is this stage's `capacity`). Add stages
     * before reading.
     *
     * @returns {Pipeline}
     */
    pipe(func, options = {}) {
        if (this.#reader)
            throw new Error('asyncgui: this pipeline is already being read; add stages before reading');
        if (this.#next)
            throw new Error('asyncgui: this pipeline already has a next stage');
        if (options.engine && options.engine !== this.#chain.engine)
            throw new TypeError('asyncgui: the stages of a pipeline run on the engine of its first stage');
        return (this.#next = makeStage(this.#chain, func, options,
            wrapper => this.#task.add_stage(this.#capacity, wrapper)));
    }

    /**
     * Reads up to `count` outputs, as read() does: all `count` once they
     * are made, fewer once the pipeline ended (or `timeoutMs` passed).
     * After the last output, a read of a pipeline that failed rejects with
     * its error (the JS exception its function threw), of one that
     * succeeded resolves with an empty array.
     *
     * @returns {Promise<Array>}
     */
    async read(count = 1, {timeoutMs = -1, signal = null} = {}) {
        const items = await read(this.reader, count, {timeoutMs, signal});
        if (items.length === 0 && this.#reader.is_drained())
            await this.#done;
        return items;
    }

    /**
     * An async iterator over the outputs, one read at a time: the loop ends
     * when the pipeline succeeded, and throws its error after the outputs
     * before it when it failed (or the CANCELLED GLib.Error when it was
     * cancelled). Leaving the loop early cancels the pipeline and the
     * stages before it, and waits until it has ended. `signal` cancels it.
     * With `job` (job.iterate(pipeline)), the reads go through the job:
     * pausing it holds the loop, cancelling it ends the loop with CANCELLED
     * and cancels the pipeline.
     */
    values({signal = null, job = null} = {}) {
        const reader = this.reader;
        const unwatch = watchSignal(signal, () => this.cancel());
        this.#done.catch(() => {}).then(unwatch);
        return readerIterator(reader, {
            job,
            drained: () => this.#done,
            // However the loop fails (its job cancelled, say), the pipeline ends.
            failed: e => {
                this.cancel();
                return e;
            },
            // Left early, the loop cancels it and waits until it ended.
            leave: async () => {
                this.cancel();
                reader.close();
                // This stage ends cancelled, the stages before as their
                // outputs lose their reader; then a JS source starts
                // closing, which the loop does not wait for.
                await Promise.all(this.#chain.tasks.filter(t => !t.is_finished())
                    .map(t => outcomeOf(t, null).catch(() => {})));
                this.#chain.closeSource?.();
            },
        });
    }

    [Symbol.asyncIterator]() {
        return this.values();
    }

    /**
     * Reads every output into an array (a finite pipeline only); rejects
     * with the pipeline's error if it fails.
     *
     * @returns {Promise<Array>}
     */
    async toArray({signal = null} = {}) {
        const all = [];
        for await (const value of this.values({signal}))
            all.push(value);
        return all;
    }

    /**
     * Cancels the pipeline (and, through its input, the stages before it):
     * its task ends cancelled, the reading loop throws the CANCELLED
     * GLib.Error after the outputs already made. Cancelling a pipeline that
     * ended does nothing.
     */
    cancel() {
        this.#task.cancel();
    }
}
