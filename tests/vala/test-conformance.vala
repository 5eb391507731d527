/* test-conformance.vala: the scenarios of docs/conformance.md, in Vala
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every test is named after a scenario's identifier. "The job" is a Vala
 * async method tied to an AsyncGui.Job the way bindings/vala/README.md
 * teaches:
 *
 *   var job = new AsyncGui.Job (engine);
 *   body.begin (job, (obj, res) => {
 *       try {
 *           job.return_value (body.end (res));
 *       } catch (GLib.Error e) {
 *           job.return_error (e);
 *       }
 *   });
 *
 * and inside the body every wait is `yield job.await (task)`, so the job's
 * pause, resume and cancel apply to it. Thread work is a Vala lambda given
 * to AsyncGui.Task or AsyncGui.MultiTask.map_range.
 */

errordomain TestError {
    BROKEN
}

/* Every wait is bounded by this much: a test fails instead of hanging. */
const uint SAFETY_MS = 10000;

/* The thread the tests run on; it iterates the engines' context. */
unowned Thread<void*> test_thread;

bool on_test_thread () {
    return Thread.self<void*> () == test_thread;
}

double elapsed_ms (int64 start_us) {
    return (get_monotonic_time () - start_us) / 1000.0;
}

/* GLib's vapi does not bind it; scenario 14 needs a disposed engine even
 * if the job still holds a reference to it. */
[CCode (cname = "g_object_run_dispose")]
extern void run_dispose (Object object);

delegate bool Condition ();

/* Iterates the default context until @done holds; fails after @timeout_ms. */
void run_until (Condition done, uint timeout_ms = SAFETY_MS) {
    var context = MainContext.default ();
    bool timed_out = false;
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
}

/* Iterates the default context for @msec, whatever happens. */
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

/* Iterates the default context until @msec after @start_us. */
void run_until_ms (int64 start_us, uint msec) {
    double left = msec - elapsed_ms (start_us);
    if (left > 0) {
        run_for ((uint) left + 1);
    }
}

void run_until_finished (AsyncGui.Job job) {
    run_until (() => job.is_finished ());
}

/* A thread task that sleeps @msec on its worker, then returns @value. */
AsyncGui.Task int_after (uint msec, int value) {
    return new AsyncGui.Task ((task, cancellable) => {
        Thread.usleep (msec * 1000);
        task.return_int (value);
    });
}

/* A thread task that sleeps @msec on its worker, then fails. */
AsyncGui.Task error_after (uint msec, string message) {
    return new AsyncGui.Task ((task, cancellable) => {
        Thread.usleep (msec * 1000);
        task.return_error (new TestError.BROKEN (message));
    });
}

/* The ints in the value of a MultiTask (a GArray of GValue). */
int[] ints_of (Value? value) {
    assert_true (value != null);
    assert_true (value.holds (typeof (Array)));
    unowned Array<Value> values = (Array<Value>) value.get_boxed ();
    int[] ints = {};
    for (uint i = 0; i < values.length; i++) {
        ints += values.index (i).get_int ();
    }
    return ints;
}

string ints_to_string (int[] ints) {
    var text = new StringBuilder ("[");
    foreach (int i in ints) {
        text.append_printf ("%s%d", text.len > 1 ? ", " : "", i);
    }
    text.append ("]");
    return text.str;
}

void assert_ints (int[] got, int[] expected) {
    assert_cmpstr (ints_to_string (got), CompareOperator.EQ, ints_to_string (expected));
}

/* 1. The loop keeps running while the job awaits thread work. */
class SequentialHandler : Object {
    int ticks;
    int ticks_after_await = -1;
    bool after_await_on_test_thread;
    int value_after_await;

    async int body (AsyncGui.Job job) throws Error {
        var value = yield job.await (int_after (300, 42));
        ticks_after_await = ticks;
        after_await_on_test_thread = on_test_thread ();
        value_after_await = value.get_int ();
        return value_after_await;
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        uint timer = Timeout.add (10, () => {
            ticks++;
            return Source.CONTINUE;
        });

        var job = new AsyncGui.Job (engine);
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });
        run_until_finished (job);
        Source.remove (timer);

        Test.message ("%d ticks of the 10 ms timer during the await", ticks_after_await);
        /* A loop blocked for the await would tick once or twice after it; a
         * loaded machine may starve a running one of half its 30, not of all. */
        assert_cmpint (ticks_after_await, CompareOperator.GE, 5);
        assert_true (after_await_on_test_thread);
        assert_cmpint (value_after_await, CompareOperator.EQ, 42);
        assert_true (job.state == AsyncGui.TaskState.SUCCEEDED);
        assert_cmpint (job.get_value ().get_int (), CompareOperator.EQ, 42);
    }
}

/* 2. A failing task's error arrives at the await; the job catches it. */
class ErrorAtTheAwait : Object {
    string? caught_message;

    async int body (AsyncGui.Job job) throws Error {
        try {
            yield job.await (error_after (50, "disk on fire"));
        } catch (TestError.BROKEN e) {
            caught_message = e.message;
        }
        return 1;
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        var job = new AsyncGui.Job (engine);
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });
        run_until_finished (job);

        assert_cmpstr (caught_message, CompareOperator.EQ, "disk on fire");
        assert_true (job.state == AsyncGui.TaskState.SUCCEEDED);
        assert_cmpint (job.get_value ().get_int (), CompareOperator.EQ, 1);
    }
}

/* 3. The same failure, not caught, fails the job with that error. */
class UncaughtError : Object {
    bool after_await;

    async int body (AsyncGui.Job job) throws Error {
        yield job.await (error_after (50, "disk on fire"));
        after_await = true;
        return 1;
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        var job = new AsyncGui.Job (engine);
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });
        run_until_finished (job);

        assert_false (after_await);
        assert_true (job.state == AsyncGui.TaskState.FAILED);
        unowned Error? error = job.get_error ();
        assert_true (error != null);
        assert_true (error is TestError.BROKEN);
        assert_cmpstr (error.message, CompareOperator.EQ, "disk on fire");
        assert_true (job.get_value () == null);
    }
}

/* 4. A MultiTask's value keeps the children's order, not their finish order. */
class OrderedMulti : Object {
    int[] values;

    async int body (AsyncGui.Job job) throws Error {
        var multi = new AsyncGui.MultiTask ();
        multi.add (int_after (300, 0));
        multi.add (int_after (100, 1));
        multi.add (int_after (200, 2));
        values = ints_of (yield job.await (multi));
        return values.length;
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        engine.max_threads = 4;
        var job = new AsyncGui.Job (engine);
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });
        run_until_finished (job);

        assert_true (job.state == AsyncGui.TaskState.SUCCEEDED);
        assert_ints (values, { 0, 1, 2 });
    }
}

/* 5. skip-errors drops the failing child; without it the first failure in
 * list order fails the await, once every child has finished. */
class SkipErrors : Object {
    int[] skipped_values;
    string? error_message;
    double error_after_ms;

    AsyncGui.MultiTask three_with_failing_middle () {
        var multi = new AsyncGui.MultiTask ();
        multi.add (int_after (300, 0));
        multi.add (error_after (100, "child 1 broke"));
        multi.add (int_after (200, 2));
        return multi;
    }

    async int body (AsyncGui.Job job) throws Error {
        var skipping = three_with_failing_middle ();
        skipping.skip_errors = true;
        skipped_values = ints_of (yield job.await (skipping));

        int64 start = get_monotonic_time ();
        try {
            yield job.await (three_with_failing_middle ());
        } catch (TestError.BROKEN e) {
            error_after_ms = elapsed_ms (start);
            error_message = e.message;
        }
        return 0;
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        engine.max_threads = 4;
        var job = new AsyncGui.Job (engine);
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });
        run_until_finished (job);

        assert_true (job.state == AsyncGui.TaskState.SUCCEEDED);
        assert_ints (skipped_values, { 0, 2 });
        assert_cmpstr (error_message, CompareOperator.EQ, "child 1 broke");
        Test.message ("the failure arrived after %.0f ms", error_after_ms);
        assert_cmpfloat (error_after_ms, CompareOperator.GE, 280);
    }
}

/* 6. max-workers bounds how many children run at once. */
class MaxWorkers : Object {
    double limited_ms;
    double unlimited_ms;

    AsyncGui.MultiTask four_children (uint max_workers) {
        var multi = new AsyncGui.MultiTask ();
        for (int i = 0; i < 4; i++) {
            multi.add (int_after (300, i));
        }
        multi.max_workers = max_workers;
        return multi;
    }

    async int body (AsyncGui.Job job) throws Error {
        int64 start = get_monotonic_time ();
        yield job.await (four_children (2));
        limited_ms = elapsed_ms (start);

        start = get_monotonic_time ();
        yield job.await (four_children (0));
        unlimited_ms = elapsed_ms (start);
        return 0;
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        /* Enough threads that only max-workers limits the children. */
        engine.max_threads = 8;
        var job = new AsyncGui.Job (engine);
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });
        run_until_finished (job);

        Test.message ("max-workers 2: %.0f ms; no limit: %.0f ms", limited_ms, unlimited_ms);
        assert_true (job.state == AsyncGui.TaskState.SUCCEEDED);
        assert_cmpfloat (limited_ms, CompareOperator.GE, 550);
        assert_cmpfloat (limited_ms, CompareOperator.LE, 1500);
        assert_cmpfloat (unlimited_ms, CompareOperator.LT, 550);
    }
}

/* 7. An unordered MultiTask announces children as they finish. */
class UnorderedOrder : Object {
    int[] announced;

    async int body (AsyncGui.Job job) throws Error {
        var multi = new AsyncGui.MultiTask ();
        multi.add (int_after (500, 'a'));
        multi.add (int_after (100, 'b'));
        multi.add (int_after (300, 'c'));
        multi.unordered = true;
        multi.task_done.connect ((position) => {
            announced += (int) position;
        });
        yield job.await (multi);
        return 0;
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        engine.max_threads = 4;
        var job = new AsyncGui.Job (engine);
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });
        run_until_finished (job);

        assert_true (job.state == AsyncGui.TaskState.SUCCEEDED);
        /* b, c, a */
        assert_ints (announced, { 1, 2, 0 });
    }
}

/* 8. Cancelling the job fails its await promptly with CANCELLED; cleanup
 * runs; nothing else is awaited; the late result is never seen. */
class CancelSemantics : Object {
    int64 start;
    double cancelled_at_ms = -1;
    double await_failed_at_ms = -1;
    bool after_first_await;
    bool cleanup_ran;
    int next_task_ran;   /* atomic: set on a worker thread if it ever runs */
    AsyncGui.Task slow;
    AsyncGui.Task next;

    async int body (AsyncGui.Job job) throws Error {
        try {
            yield job.await (slow);
            after_first_await = true;
            yield job.await (next);
            return 1;
        } catch (IOError.CANCELLED e) {
            await_failed_at_ms = elapsed_ms (start);
            throw e;
        } finally {
            cleanup_ran = true;
        }
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        slow = int_after (1000, 1);
        next = new AsyncGui.Task ((task, cancellable) => {
            AtomicInt.set (ref next_task_ran, 1);
            task.return_int (2);
        });

        start = get_monotonic_time ();
        var job = new AsyncGui.Job (engine);
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });
        Timeout.add (100, () => {
            cancelled_at_ms = elapsed_ms (start);
            job.cancel ();
            return Source.REMOVE;
        });
        run_until_finished (job);

        Test.message ("cancelled at %.0f ms, the await failed at %.0f ms",
                      cancelled_at_ms, await_failed_at_ms);
        assert_cmpfloat (cancelled_at_ms, CompareOperator.GE, 0);
        assert_cmpfloat (await_failed_at_ms, CompareOperator.GE, cancelled_at_ms);
        assert_cmpfloat (await_failed_at_ms - cancelled_at_ms, CompareOperator.LT, 200);
        assert_true (cleanup_ran);
        assert_false (after_first_await);
        assert_true (job.state == AsyncGui.TaskState.CANCELLED);
        assert_true (job.get_error () is IOError.CANCELLED);

        /* Past the slow task's end: its result stays unseen. */
        run_until_ms (start, 1200);
        assert_true (slow.state == AsyncGui.TaskState.CANCELLED);
        assert_true (slow.get_value () == null);
        assert_true (next.state == AsyncGui.TaskState.PENDING);
        assert_cmpint (AtomicInt.get (ref next_task_ran), CompareOperator.EQ, 0);
        assert_true (job.state == AsyncGui.TaskState.CANCELLED);
    }
}

/* 9. A result that arrives while the job is paused waits for resume. */
class PauseResume : Object {
    int64 start;
    double after_await_ms = -1;
    int value_after_await;
    double resumed_at_ms = -1;

    async int body (AsyncGui.Job job) throws Error {
        var value = yield job.await (int_after (200, 9));
        after_await_ms = elapsed_ms (start);
        value_after_await = value.get_int ();
        return value_after_await;
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        start = get_monotonic_time ();
        var job = new AsyncGui.Job (engine);
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });

        run_until_ms (start, 50);
        job.pause ();
        assert_true (job.paused);

        run_until_ms (start, 400);
        /* The task finished long ago; the job has not seen it. */
        assert_cmpfloat (after_await_ms, CompareOperator.LT, 0);
        assert_true (job.paused);

        resumed_at_ms = elapsed_ms (start);
        job.resume ();
        run_until_finished (job);

        Test.message ("resumed at %.0f ms, continued at %.0f ms", resumed_at_ms, after_await_ms);
        assert_cmpfloat (after_await_ms, CompareOperator.GE, resumed_at_ms);
        assert_cmpint (value_after_await, CompareOperator.EQ, 9);
        assert_true (job.state == AsyncGui.TaskState.SUCCEEDED);
        assert_cmpint (job.get_value ().get_int (), CompareOperator.EQ, 9);
    }
}

/* 10. A paused sleep keeps only its remainder. */
class PauseKeepsSleepRemainder : Object {
    int64 start;
    double woke_at_ms = -1;

    async int body (AsyncGui.Job job) throws Error {
        yield job.await (new AsyncGui.Task.sleep (300));
        woke_at_ms = elapsed_ms (start);
        return 0;
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        start = get_monotonic_time ();
        var job = new AsyncGui.Job (engine);
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });

        run_until_ms (start, 100);
        var paused_at_ms = elapsed_ms (start);
        job.pause ();
        run_until_ms (start, 400);
        assert_cmpfloat (woke_at_ms, CompareOperator.LT, 0);
        var resumed_at_ms = elapsed_ms (start);
        job.resume ();
        run_until_finished (job);

        Test.message ("paused at %.0f ms, resumed at %.0f ms, woke up at %.0f ms",
                      paused_at_ms, resumed_at_ms, woke_at_ms);
        assert_true (job.state == AsyncGui.TaskState.SUCCEEDED);
        /* What was left of the 300 ms when the pause came (it may come late
         * on a loaded machine), counted from the resume; timers count in
         * whole milliseconds. */
        assert_cmpfloat (woke_at_ms, CompareOperator.GE, resumed_at_ms + 300 - paused_at_ms - 5);
        assert_cmpfloat (woke_at_ms, CompareOperator.LE, 900);
    }
}

/* 11. Job A awaits job B, which awaits a task. */
class NestedJobs : Object {
    int a_got;

    async int body_b (AsyncGui.Job job) throws Error {
        var value = yield job.await (int_after (50, 7));
        return value.get_int ();
    }

    async int body_a (AsyncGui.Job job, AsyncGui.Job other) throws Error {
        var value = yield job.await ((other));
        a_got = value.get_int ();
        return a_got;
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        var job_b = new AsyncGui.Job (engine);
        body_b.begin (job_b, (obj, res) => {
            try {
                job_b.return_value (body_b.end (res));
            } catch (Error e) {
                job_b.return_error (e);
            }
        });
        var job_a = new AsyncGui.Job (engine);
        body_a.begin (job_a, job_b, (obj, res) => {
            try {
                job_a.return_value (body_a.end (res));
            } catch (Error e) {
                job_a.return_error (e);
            }
        });
        run_until_finished (job_a);

        assert_cmpint (a_got, CompareOperator.EQ, 7);
        assert_true (job_a.state == AsyncGui.TaskState.SUCCEEDED);
        assert_cmpint (job_a.get_value ().get_int (), CompareOperator.EQ, 7);
        assert_true (job_b.state == AsyncGui.TaskState.SUCCEEDED);
        assert_cmpint (job_b.get_value ().get_int (), CompareOperator.EQ, 7);
    }
}

/* 12. With max-threads 0, thread work runs on the engine's thread, in the
 * order it was awaited. */
class SerialMode : Object {
    int[] ran;            /* serial mode: only the test thread appends */
    bool all_on_test_thread = true;

    AsyncGui.Task recording (int tag) {
        return new AsyncGui.Task ((task, cancellable) => {
            if (!on_test_thread ()) {
                all_on_test_thread = false;
            }
            ran += tag;
            task.return_int (tag);
        });
    }

    async int body (AsyncGui.Job job) throws Error {
        for (int i = 0; i < 3; i++) {
            yield job.await (recording (i));
        }
        var multi = new AsyncGui.MultiTask ();
        for (int i = 3; i < 6; i++) {
            multi.add (recording (i));
        }
        yield job.await (multi);
        return 0;
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        engine.max_threads = 0;
        var job = new AsyncGui.Job (engine);
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });
        run_until_finished (job);

        assert_true (job.state == AsyncGui.TaskState.SUCCEEDED);
        assert_true (all_on_test_thread);
        assert_ints (ran, { 0, 1, 2, 3, 4, 5 });
    }
}

/* 13. A thousand progress updates from a worker, made while the main loop
 * stands still, arrive as one notification of the last value. */
class Progress : Object {
    uint n_notified;
    double last_notified = -2;
    Mutex reported_lock;
    Cond cond;
    bool reported;

    async int body (AsyncGui.Job job) throws Error {
        var task = new AsyncGui.Task ((worker_task, cancellable) => {
            for (int i = 1; i <= 1000; i++) {
                worker_task.set_progress (i / 1000.0);
            }
            reported_lock.lock ();
            reported = true;
            cond.signal ();
            reported_lock.unlock ();
            worker_task.return_int (1000);
        });
        task.notify["progress"].connect (() => {
            n_notified++;
            last_notified = task.progress;
        });
        Timeout.add (0, hold_loop_until_reported, Priority.HIGH);
        var value = yield job.await (task);
        return value.get_int ();
    }

    /* None of the updates can be delivered while this runs. */
    bool hold_loop_until_reported () {
        int64 deadline = get_monotonic_time () + SAFETY_MS * TimeSpan.MILLISECOND;
        reported_lock.lock ();
        while (!reported && cond.wait_until (reported_lock, deadline)) {
        }
        reported_lock.unlock ();
        return Source.REMOVE;
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        var job = new AsyncGui.Job (engine);
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });
        run_until_finished (job);
        run_for (50);

        Test.message ("%u progress notifications for 1000 updates", n_notified);
        assert_true (job.state == AsyncGui.TaskState.SUCCEEDED);
        assert_true (reported);
        assert_cmpuint (n_notified, CompareOperator.EQ, 1);
        assert_cmpfloat (last_notified, CompareOperator.EQ, 1.0);
    }
}

/* 14. Disposing the engine with work in flight: no code of the job runs
 * afterwards, nothing crashes, nothing arrives late. */
class DisposeWithWorkInFlight : Object {
    bool after_await;
    bool body_ended;
    AsyncGui.Task slow;

    async int body (AsyncGui.Job job) throws Error {
        try {
            yield job.await (slow);
        } finally {
            after_await = true;
        }
        return 1;
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        slow = int_after (500, 1);
        var job = new AsyncGui.Job (engine);
        body.begin (job, (obj, res) => {
            body_ended = true;
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });

        run_for (100);
        run_dispose (engine);
        engine = null;
        run_for (700);

        assert_false (after_await);
        assert_false (body_ended);
        assert_true (slow.state == AsyncGui.TaskState.CANCELLED);
        assert_true (slow.get_value () == null);
        /* The body stays suspended at its await for good: no code of it
         * runs again, so its frame is never freed. That is the price of
         * "nothing runs after the engine is disposed".
         */
    }
}

/* 15. Vala's type system refuses awaiting what is not a task, so the misuse
 * checked here is resuming a job that is not paused: a critical. Pausing,
 * resuming and cancelling a finished job do nothing. */
class BadInput : Object {
    async int body (AsyncGui.Job job) throws Error {
        var value = yield job.await (int_after (10, 3));
        return value.get_int ();
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        var job = new AsyncGui.Job (engine);
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });

        Test.expect_message ("AsyncGui", LogLevelFlags.LEVEL_CRITICAL, "*");
        job.resume ();
        Test.assert_expected_messages ();
        assert_true (job.state == AsyncGui.TaskState.RUNNING);

        run_until_finished (job);
        assert_true (job.state == AsyncGui.TaskState.SUCCEEDED);

        job.pause ();
        job.resume ();
        job.cancel ();
        run_for (20);
        assert_true (job.state == AsyncGui.TaskState.SUCCEEDED);
        assert_cmpint (job.get_value ().get_int (), CompareOperator.EQ, 3);
        assert_true (job.get_error () == null);
    }
}

int main (string[] args) {
    Test.init (ref args);
    test_thread = Thread.self<void*> ();

    Test.add_func ("/conformance/sequential-handler-keeps-loop-alive",
                   () => new SequentialHandler ().run ());
    Test.add_func ("/conformance/error-at-the-await",
                   () => new ErrorAtTheAwait ().run ());
    Test.add_func ("/conformance/uncaught-error-fails-the-job",
                   () => new UncaughtError ().run ());
    Test.add_func ("/conformance/ordered-multi",
                   () => new OrderedMulti ().run ());
    Test.add_func ("/conformance/skip-errors",
                   () => new SkipErrors ().run ());
    Test.add_func ("/conformance/max-workers",
                   () => new MaxWorkers ().run ());
    Test.add_func ("/conformance/unordered-order",
                   () => new UnorderedOrder ().run ());
    Test.add_func ("/conformance/cancel-semantics",
                   () => new CancelSemantics ().run ());
    Test.add_func ("/conformance/pause-resume",
                   () => new PauseResume ().run ());
    Test.add_func ("/conformance/pause-keeps-sleep-remainder",
                   () => new PauseKeepsSleepRemainder ().run ());
    Test.add_func ("/conformance/nested-jobs",
                   () => new NestedJobs ().run ());
    Test.add_func ("/conformance/serial-mode",
                   () => new SerialMode ().run ());
    Test.add_func ("/conformance/progress",
                   () => new Progress ().run ());
    Test.add_func ("/conformance/dispose-with-work-in-flight",
                   () => new DisposeWithWorkInFlight ().run ());
    Test.add_func ("/conformance/bad-input",
                   () => new BadInput ().run ());

    return Test.run ();
}
