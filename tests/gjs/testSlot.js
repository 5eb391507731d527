// testSlot.js — slots from GJS: the latest request wins, with run(x, {slot})
// and job.run(x, {slot}).
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import AsyncGui, {spawn, run, mainTask} from '../../bindings/gjs/asyncgui.js';
import {test, main, assert, assertEqual, assertRejects, now, delay} from './harness.js';

const {TaskState} = AsyncGui;

function isCancelled(e) {
    return e instanceof GLib.Error && e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED);
}

// One query of a search box: a main-context task that waits `latencyMs`,
// or until its cancellable fires, then gives its number. What it saw is
// kept for the test.
class Query {
    constructor(number, latencyMs) {
        this.number = number;
        this.latencyMs = latencyMs;
        this.ran = false;
        this.sawCancel = false;
        this.finished = false;
        this.finishedAt = null;
        this.supersededAt = null;
    }

    task() {
        return mainTask(cancellable => new Promise(resolve => {
            this.ran = true;
            let settled = false;
            let handler = 0;
            const id = GLib.timeout_add(GLib.PRIORITY_DEFAULT, this.latencyMs, () => {
                if (!settled) {
                    settled = true;
                    this.finished = true;
                    this.finishedAt = now();
                    cancellable.disconnect(handler);
                    resolve(this.number);
                }
                return GLib.SOURCE_REMOVE;
            });
            handler = cancellable.connect(() => {
                if (settled)
                    return;
                settled = true;
                this.sawCancel = true;
                GLib.source_remove(id);
                resolve(null);
            });
        }));
    }
}

// What a search window shows, and how often it showed a stale value.
class Display {
    constructor() {
        this.shown = null;
        this.latest = null;
        this.nShown = 0;
        this.nStale = 0;
        this.cleanedUp = [];
    }

    // What a search box's 'changed' handler does: a job that runs the query
    // in the slot and shows its value.
    ask(slot, query) {
        this.latest = query.number;
        return spawn(async job => {
            try {
                const value = await job.run(query.task(), {slot});
                this.nShown++;
                if (value !== this.latest)
                    this.nStale++;
                this.shown = value;
            } finally {
                this.cleanedUp.push(query.number);
            }
        });
    }
}

async function settled(promises) {
    return Promise.allSettled(promises.map(p => p.promise ?? p));
}

async function waitFor(predicate, what, timeoutMs = 5000) {
    const deadline = now() + timeoutMs;
    while (!predicate()) {
        assert(now() < deadline, `gave up waiting for ${what}`);
        // eslint-disable-next-line no-await-in-loop
        await delay(5);
    }
}

test('latest-request-wins-and-the-superseded-job-ends-cancelled', async () => {
    const slot = AsyncGui.Slot.new(null);
    const display = new Display();
    const slow = new Query(1, 5000), quick = new Query(2, 0);
    const first = display.ask(slot, slow);
    await waitFor(() => slow.ran, 'the slow query to start');
    const second = display.ask(slot, quick);
    const [a, b] = await settled([first, second]);

    assert(a.status === 'rejected' && isCancelled(a.reason), `the first job is cancelled: ${a.reason}`);
    assertEqual(first.state, TaskState.CANCELLED);
    assertEqual(b.status, 'fulfilled');
    assertEqual(second.state, TaskState.SUCCEEDED);
    assert(slow.sawCancel && !slow.finished, 'the slow query saw its cancellable fire');
    assertEqual(display.shown, 2);
    assertEqual(display.nShown, 1);
    assertEqual(display.cleanedUp.sort(), [1, 2], 'finally blocks ran');
});

test('run-with-a-slot-outside-a-job', async () => {
    const engine = AsyncGui.Engine.get_default();
    const slot = AsyncGui.Slot.new(engine);
    const slow = new Query(1, 5000), quick = new Query(2, 10);
    const first = run(slow.task(), {slot});
    const second = run(quick.task(), {slot});
    assert(isCancelled(await assertRejects(first)), 'the replaced request rejects with CANCELLED');
    assertEqual(await second, 2);
    assert(slow.sawCancel, 'the replaced query saw its cancellable fire');
    await assertRejects(run(quick.task(), {slot: engine}), e => e instanceof TypeError,
        'a slot must be an AsyncGui.Slot');
});

test('a-task-given-again-while-it-waits-is-refused-and-the-first-request-goes-on', async () => {
    const slot = AsyncGui.Slot.new(null);
    slot.debounce_ms = 20;
    const task = AsyncGui.Task.new_sleep(10);
    const first = run(task, {slot});
    await assertRejects(run(task, {slot}), e => e instanceof TypeError &&
        /already waits in the slot/.test(e.message), 'the second request is refused');
    await first;
    assert(!slot.busy, 'the slot is idle');
});

// The slot's callback resolves the request's promise, but what awaits it
// runs only after the rest of that main-loop iteration; a request made
// meanwhile (by another callback of the same iteration) must still win.
test('run-with-a-slot-never-resumes-with-a-value-a-later-request-replaced', async () => {
    const engine = AsyncGui.Engine.get_default();
    const slot = AsyncGui.Slot.new(engine);
    let release;
    const gate = new Promise(resolve => {
        release = resolve;
    });
    const search = q => mainTask(() => gate.then(() => `r${q}`));
    let entry = null;
    const shown = [], cancelled = [];
    const onChanged = q => {
        entry = q;
        run(search(q), {slot}).then(v => shown.push([v, entry]),
            e => isCancelled(e) ? cancelled.push(q) : shown.push([e, entry]));
    };
    onChanged('A');
    // Another piece of work whose plain callback types into the entry.
    const other = mainTask(() => gate.then(() => 'B'));
    await delay(20);
    engine.run_async(other, null, () => onChanged('B'));
    release();
    await delay(200);
    assertEqual(shown, [['rB', 'B']], 'only the latest request is shown');
    assertEqual(cancelled, ['A']);
});

test('cancelling-the-job-cancels-its-request', async () => {
    const slot = AsyncGui.Slot.new(null);
    const display = new Display();
    const slow = new Query(1, 5000);
    const job = display.ask(slot, slow);
    await waitFor(() => slow.ran, 'the query to start');
    job.cancel();
    assert(isCancelled(await assertRejects(job.promise)));
    await waitFor(() => slow.sawCancel && !slot.busy, 'the request to be cancelled');
});

test('debounce-starts-one-task-for-a-burst-of-keystrokes', async () => {
    const slot = AsyncGui.Slot.new(null);
    slot.debounce_ms = 200;
    const display = new Display();
    const keys = [0, 1, 2, 3, 4].map(i => new Query(i, 10));
    const jobs = [];
    for (const query of keys) {
        jobs.push(display.ask(slot, query));
        // Keystrokes 20 ms apart, well inside the quiet period.
        // eslint-disable-next-line no-await-in-loop
        await delay(20);
    }
    await settled(jobs);
    assertEqual(keys.map(q => q.ran), [false, false, false, false, true]);
    assertEqual(jobs.map(j => j.state), [...Array(4).fill(TaskState.CANCELLED), TaskState.SUCCEEDED]);
    assertEqual(display.shown, 4);
});

test('throttle-keeps-the-trailing-request', async () => {
    const slot = AsyncGui.Slot.new(null);
    slot.throttle_ms = 300;
    const display = new Display();
    const [leading, middle, trailing] = [1, 2, 3].map(n => new Query(n, 0));
    const jobs = [display.ask(slot, leading)];
    await jobs[0].promise;
    // Both inside the period: the later replaces the earlier, which never
    // runs, and runs once the period is over.
    jobs.push(display.ask(slot, middle), display.ask(slot, trailing));
    assert(slot.busy);
    await settled(jobs);
    assert(leading.ran && !middle.ran && trailing.finished, 'the trailing request ran');
    assertEqual(jobs[1].state, TaskState.CANCELLED);
    assertEqual(display.shown, 3);
    assertEqual(display.nStale, 0);
});

test('throttle-shows-the-running-query-before-the-next-starts', async () => {
    // A live preview: the query running when the next comes goes on until
    // the next starts, and its value is shown meanwhile.
    const slot = AsyncGui.Slot.new(null);
    slot.throttle_ms = 1000;
    const display = new Display();
    const [running, following] = [new Query(1, 100), new Query(2, 0)];
    const first = display.ask(slot, running);
    const second = display.ask(slot, following);
    await settled([first]);
    assertEqual(first.state, TaskState.SUCCEEDED);
    assertEqual(display.shown, 1);
    assert(!following.ran, 'the next query waits for the period');
    await settled([second]);
    assertEqual(display.shown, 2);
});

test('busy-spans-the-latest-request-and-notifies-twice', async () => {
    const slot = AsyncGui.Slot.new(null);
    const seen = [];
    slot.connect('notify::busy', () => seen.push(slot.busy));
    const display = new Display();
    const first = display.ask(slot, new Query(1, 5000));
    assert(slot.busy);
    const second = display.ask(slot, new Query(2, 50));
    assert(slot.busy && slot.task !== null);
    await settled([first, second]);
    assert(!slot.busy);
    assertEqual(seen, [true, false]);
    assertEqual(display.shown, 2);
});

test('fifty-queries-with-random-latency-show-only-the-last', async () => {
    const slot = AsyncGui.Slot.new(null);
    const display = new Display();
    const queries = [];
    const jobs = [];
    for (let i = 0; i < 50; i++) {
        const query = new Query(i, Math.floor(Math.random() * 80));
        queries.push(query);
        jobs.push(display.ask(slot, query));
        if (i > 0)
            queries[i - 1].supersededAt = now();
        // eslint-disable-next-line no-await-in-loop
        await delay(Math.random() * 30);
    }
    await settled(jobs);

    assertEqual(display.nStale, 0, 'stale values shown');
    assertEqual(display.shown, 49);
    assertEqual(jobs[49].state, TaskState.SUCCEEDED);
    jobs.forEach((job, i) => {
        const query = queries[i];
        if (job.state !== TaskState.CANCELLED || !query.ran || query.sawCancel)
            return;
        // A query that had finished may still have been superseded before
        // it was shown; one still running saw its cancellable fire.
        assert(query.finishedAt < query.supersededAt, `query ${i} was superseded while running ` +
            'and did not see its cancellable fire');
    });
    assert(queries.filter(q => q.sawCancel).length > 5, 'superseded work was cancelled');
    assertEqual(display.cleanedUp.length, 50);
});

await main();
