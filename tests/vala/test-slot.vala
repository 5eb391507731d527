/* test-slot.vala: slots from Vala, `yield slot.run (task)`
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A search box's queries run in a slot: the latest request wins, a
 * replaced one throws IOError.CANCELLED at its yield and its thread
 * function sees its cancellable fire.
 */

const uint SAFETY_MS = 10000;

delegate bool Condition ();

void run_until (Condition done, uint timeout_ms = SAFETY_MS) {
    var context = MainContext.default ();
    bool timed_out = false;
    /* Also wakes the loop now and then, for what worker threads set. */
    uint tick = Timeout.add (5, () => Source.CONTINUE);
    uint deadline = Timeout.add (timeout_ms, () => {
        timed_out = true;
        return Source.REMOVE;
    });

    while (!done () && !timed_out) {
        context.iteration (true);
    }
    if (timed_out) {
        Test.message ("still waiting after %u ms", timeout_ms);
        assert_not_reached ();
    }
    Source.remove (deadline);
    Source.remove (tick);
}

void run_for (uint msec) {
    bool done = false;
    Timeout.add (msec, () => {
        done = true;
        return Source.REMOVE;
    });
    while (!done) {
        MainContext.default ().iteration (true);
    }
}

/* One query: its thread function waits latency_ms, or until its
 * cancellable fires, then gives its number. */
class Query : Object {
    public int number;
    public uint latency_ms;
    public int ran;           /* atomic */
    public int saw_cancel;    /* atomic */
    public int finished;      /* atomic; finished_at is set before it */
    public int64 finished_at;
    public int64 superseded_at;

    public Query (int number, uint latency_ms) {
        this.number = number;
        this.latency_ms = latency_ms;
    }

    public AsyncGui.Task task () {
        return new AsyncGui.Task ((task, cancellable) => {
            AtomicInt.set (ref ran, 1);
            int64 deadline = get_monotonic_time () + latency_ms * 1000;
            while (true) {
                /* Read before the check: a query that finishes without
                 * seeing its cancellable fire was cancelled after this. */
                int64 now = get_monotonic_time ();
                if (cancellable.is_cancelled ()) {
                    AtomicInt.set (ref saw_cancel, 1);
                    task.return_error (new IOError.CANCELLED ("stopped"));
                    return;
                }
                if (now >= deadline) {
                    finished_at = now;
                    break;
                }
                Thread.usleep (500);
            }
            AtomicInt.set (ref finished, 1);
            task.return_int (number);
        });
    }
}

/* What a search window shows. */
class Display : Object {
    public int shown = -1;
    public int latest = -1;
    public uint n_shown;
    public uint n_stale;
    public uint n_cancelled;
    public uint n_done;

    /* What a search box's 'changed' handler starts. */
    public async void search (AsyncGui.Slot slot, Query query) {
        latest = query.number;
        try {
            var value = yield slot.run (query.task ());
            n_shown++;
            if (value.get_int () != latest)
                n_stale++;
            shown = value.get_int ();
        } catch (IOError.CANCELLED e) {
            n_cancelled++;
        } catch (Error e) {
            error ("unexpected error: %s", e.message);
        }
        n_done++;
    }
}

void test_latest_request_wins () {
    var slot = new AsyncGui.Slot (new AsyncGui.Engine ());
    var display = new Display ();
    var slow = new Query (1, 5000);
    var quick = new Query (2, 0);

    display.search.begin (slot, slow);
    run_until (() => AtomicInt.get (ref slow.ran) == 1);
    display.search.begin (slot, quick);
    run_until (() => display.n_done == 2);

    assert_cmpuint (display.n_cancelled, CompareOperator.EQ, 1);
    assert_cmpuint (display.n_shown, CompareOperator.EQ, 1);
    assert_cmpint (display.shown, CompareOperator.EQ, 2);
    run_until (() => AtomicInt.get (ref slow.saw_cancel) == 1);
    assert_true (AtomicInt.get (ref slow.finished) == 0);
}

void test_debounce_starts_one_task_for_a_burst () {
    var slot = new AsyncGui.Slot (new AsyncGui.Engine ());
    slot.debounce_ms = 200;
    var display = new Display ();
    Query[] keys = {};

    for (int i = 0; i < 5; i++) {
        keys += new Query (i, 10);
        display.search.begin (slot, keys[i]);
        /* Keystrokes 20 ms apart, well inside the quiet period. */
        run_for (20);
    }
    run_until (() => display.n_done == 5);

    for (int i = 0; i < 4; i++)
        assert_true (AtomicInt.get (ref keys[i].ran) == 0);
    assert_true (AtomicInt.get (ref keys[4].ran) == 1);
    assert_cmpuint (display.n_cancelled, CompareOperator.EQ, 4);
    assert_cmpint (display.shown, CompareOperator.EQ, 4);
}

void test_throttle_keeps_the_trailing_request () {
    var slot = new AsyncGui.Slot (new AsyncGui.Engine ());
    slot.throttle_ms = 300;
    var display = new Display ();
    var leading = new Query (1, 0);
    var middle = new Query (2, 0);
    var trailing = new Query (3, 0);

    display.search.begin (slot, leading);
    run_until (() => display.n_done == 1);
    /* Both inside the period: the later replaces the earlier. */
    display.search.begin (slot, middle);
    display.search.begin (slot, trailing);
    assert_true (slot.busy);
    run_until (() => display.n_done == 3);

    assert_true (AtomicInt.get (ref middle.ran) == 0);
    assert_true (AtomicInt.get (ref trailing.finished) == 1);
    assert_cmpint (display.shown, CompareOperator.EQ, 3);
    assert_cmpuint (display.n_stale, CompareOperator.EQ, 0);
}

void test_busy_spans_the_latest_request () {
    var slot = new AsyncGui.Slot (new AsyncGui.Engine ());
    var display = new Display ();
    bool[] seen = {};

    slot.notify["busy"].connect (() => { seen += slot.busy; });
    assert_true (slot.task == null);
    display.search.begin (slot, new Query (1, 5000));
    assert_true (slot.busy);
    display.search.begin (slot, new Query (2, 50));
    assert_true (slot.task != null);
    run_until (() => display.n_done == 2);

    assert_false (slot.busy);
    assert_cmpint (seen.length, CompareOperator.EQ, 2);
    assert_true (seen[0] && !seen[1]);
    assert_cmpint (display.shown, CompareOperator.EQ, 2);
}

void test_fifty_queries_show_only_the_last () {
    var slot = new AsyncGui.Slot (new AsyncGui.Engine ());
    var display = new Display ();
    Query[] queries = {};
    uint n_saw_cancel = 0;

    /* Random with the GTest seed: --seed repeats a run. */
    for (int i = 0; i < 50; i++) {
        queries += new Query (i, Test.rand_int_range (0, 80));
        display.search.begin (slot, queries[i]);
        if (i > 0)
            queries[i - 1].superseded_at = get_monotonic_time ();
        run_for (Test.rand_int_range (1, 30));
    }
    run_until (() => display.n_done == 50);
    run_until (() => {
        foreach (var q in queries) {
            if (AtomicInt.get (ref q.ran) == 1 && AtomicInt.get (ref q.finished) == 0
                && AtomicInt.get (ref q.saw_cancel) == 0)
                return false;
        }
        return true;
    });

    assert_cmpuint (display.n_stale, CompareOperator.EQ, 0);
    assert_cmpint (display.shown, CompareOperator.EQ, 49);
    for (int i = 0; i < 49; i++) {
        var q = queries[i];
        if (AtomicInt.get (ref q.saw_cancel) == 1) {
            n_saw_cancel++;
            continue;
        }
        /* One still running when the next was asked saw its cancellable
         * fire; one that had finished may still have been superseded. */
        if (AtomicInt.get (ref q.ran) == 1)
            assert_true (q.finished_at < q.superseded_at);
    }
    assert_cmpuint (n_saw_cancel, CompareOperator.GT, 5);
}

int main (string[] args) {
    Test.init (ref args);

    Test.add_func ("/vala/slot/latest-request-wins", test_latest_request_wins);
    Test.add_func ("/vala/slot/debounce-starts-one-task-for-a-burst",
                   test_debounce_starts_one_task_for_a_burst);
    Test.add_func ("/vala/slot/throttle-keeps-the-trailing-request",
                   test_throttle_keeps_the_trailing_request);
    Test.add_func ("/vala/slot/busy-spans-the-latest-request",
                   test_busy_spans_the_latest_request);
    Test.add_func ("/vala/slot/fifty-queries-show-only-the-last",
                   test_fifty_queries_show_only_the_last);

    return Test.run ();
}
