/* test-bindings.vala: what asyncgui-1.vapi promises Vala code
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The conformance scenarios are in test-conformance.vala; these tests
 * check the binding itself: Vala lambdas as thread functions (and that
 * their closures are freed), `yield engine.run (task)`, MultiTask.map_range
 * and prioritize, and the Job calls a Vala async method drives a job with.
 */

errordomain TestError {
    BROKEN
}

const uint SAFETY_MS = 10000;

unowned Thread<void*> test_thread;

bool on_test_thread () {
    return Thread.self<void*> () == test_thread;
}

delegate bool Condition ();

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

class Outcome : Object {
    public bool finished;
    public Value? value;
    public Error? error;
}

/* Something for a closure to hold, to see that the closure is freed. */
class Token : Object {
}

/* A Vala lambda is the task's thread function; it sees what it captured. */
class TaskLambda : Object {
    bool worker_off_test_thread;
    Value? value;
    bool done;

    async void body (AsyncGui.Engine engine) throws Error {
        int base_value = 40;
        var task = new AsyncGui.Task ((task, cancellable) => {
            worker_off_test_thread = !on_test_thread ();
            task.return_int (base_value + 2);
        });
        value = yield engine.run (task);
        assert_true (on_test_thread ());
        assert_true (task.state == AsyncGui.TaskState.SUCCEEDED);
        assert_cmpint (task.get_int (), CompareOperator.EQ, 42);
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        body.begin (engine, (obj, res) => {
            try {
                body.end (res);
            } catch (Error e) {
                error ("%s", e.message);
            }
            done = true;
        });
        run_until (() => done);
        assert_true (worker_off_test_thread);
        assert_cmpint (value.get_int (), CompareOperator.EQ, 42);
    }
}

/* A lambda captures variables, not values: @token here is a variable of
 * its own, which the caller's `token = null` does not clear. */
AsyncGui.Task task_returning (Object token) {
    return new AsyncGui.Task ((task, cancellable) => {
        task.return_object (token);
    });
}

/* The closure of a thread lambda is freed with its task. */
void test_task_closure_freed_with_task () {
    var engine = new AsyncGui.Engine ();
    var token = new Token ();
    bool token_freed = false;
    token.weak_ref (() => token_freed = true);

    var task = task_returning (token);
    token = null;
    bool done = false;
    engine.run.begin (task, null, (obj, res) => {
        try {
            engine.run.end (res);
        } catch (Error e) {
            error ("%s", e.message);
        }
        done = true;
    });
    run_until (() => done);
    assert_false (token_freed);
    task = null;
    run_for (10);
    assert_true (token_freed);
}

/* Task.main: the lambda runs on the engine's thread and may end the task
 * later, from a callback. */
void test_main_task_lambda_returns_later () {
    var engine = new AsyncGui.Engine ();
    bool lambda_on_test_thread = false;
    var task = new AsyncGui.Task.main ((task, cancellable) => {
        lambda_on_test_thread = on_test_thread ();
        Timeout.add (20, () => {
            task.return_string ("later");
            return Source.REMOVE;
        });
    });
    string? got = null;
    engine.run.begin (task, null, (obj, res) => {
        try {
            got = engine.run.end (res).get_string ();
        } catch (Error e) {
            error ("%s", e.message);
        }
    });
    run_until (() => got != null);
    assert_true (lambda_on_test_thread);
    assert_cmpstr (got, CompareOperator.EQ, "later");
}

/* A task that succeeds without a value gives null. */
void test_sleep_task_gives_null () {
    var engine = new AsyncGui.Engine ();
    var outcome = new Outcome ();
    engine.run.begin (new AsyncGui.Task.sleep (10), null, (obj, res) => {
        try {
            outcome.value = engine.run.end (res);
        } catch (Error e) {
            outcome.error = e;
        }
        outcome.finished = true;
    });
    run_until (() => outcome.finished);
    assert_true (outcome.error == null);
    assert_true (outcome.value == null);
}

/* A task's value property reads as a Value?, notified once when it
 * succeeds. */
void test_value_property_is_read_and_notified () {
    var engine = new AsyncGui.Engine ();
    var task = new AsyncGui.Task ((task) => { task.return_int (42); });
    int notified = 0;
    bool finished = false;
    task.notify["value"].connect (() => notified++);
    assert_true (task.value == null);
    engine.run.begin (task, null, (obj, res) => { finished = true; });
    run_until (() => finished);
    assert_cmpint (notified, CompareOperator.EQ, 1);
    assert_true (task.value != null);
    assert_cmpint (task.value.get_int (), CompareOperator.EQ, 42);
}

/* The cancellable of engine.run cancels the task. */
void test_run_cancellable_cancels () {
    var engine = new AsyncGui.Engine ();
    var cancellable = new Cancellable ();
    var outcome = new Outcome ();
    engine.run.begin (new AsyncGui.Task.sleep (5000), cancellable, (obj, res) => {
        try {
            outcome.value = engine.run.end (res);
        } catch (Error e) {
            outcome.error = e;
        }
        outcome.finished = true;
    });
    cancellable.cancel ();
    run_until (() => outcome.finished);
    assert_true (outcome.error is IOError.CANCELLED);
}

/* MultiTask.map_model: the lambda gets each object of the model. */
void test_map_model_lambda_gets_the_objects () {
    var engine = new AsyncGui.Engine ();
    var model = new GLib.ListStore (typeof (Token));
    var tokens = new Token[3];
    for (int i = 0; i < tokens.length; i++) {
        tokens[i] = new Token ();
        model.append (tokens[i]);
    }
    var multi = new AsyncGui.MultiTask.map_model (model, (chunk, item) => {
        for (int i = 0; i < tokens.length; i++) {
            if (item == tokens[i]) {
                chunk.return_int (i * 10);
                return;
            }
        }
        chunk.return_int (-1);
    });

    var outcome = new Outcome ();
    engine.run.begin (multi, null, (obj, res) => {
        try {
            outcome.value = engine.run.end (res);
        } catch (Error e) {
            outcome.error = e;
        }
        outcome.finished = true;
    });
    run_until (() => outcome.finished);

    assert_true (outcome.error == null);
    unowned Array<Value> values = multi.get_values ();
    assert_cmpuint (values.length, CompareOperator.EQ, 3);
    for (uint i = 0; i < 3; i++) {
        assert_cmpint (values.index (i).get_int (), CompareOperator.EQ, (int) i * 10);
    }
}

/* MultiTask.map_range: a Vala lambda, run on worker threads, makes each
 * child's value from its position and returns it, or an error, through
 * its chunk. */
void test_map_range_lambda_values_and_errors () {
    var engine = new AsyncGui.Engine ();
    string[] inputs = { "zero", "one", "two", "three", "four" };
    int off_test_thread = 0;
    var multi = new AsyncGui.MultiTask.map_range (inputs.length, (chunk, position) => {
        if (!on_test_thread ()) {
            AtomicInt.set (ref off_test_thread, 1);
        }
        if (position == 3) {
            chunk.return_error (new TestError.BROKEN ("no %s", inputs[position]));
            return;
        }
        chunk.return_string (inputs[position].up ());
    });
    multi.skip_errors = true;
    uint[] announced = {};
    multi.task_done.connect ((position) => announced += position);

    var outcome = new Outcome ();
    engine.run.begin (multi, null, (obj, res) => {
        try {
            outcome.value = engine.run.end (res);
        } catch (Error e) {
            outcome.error = e;
        }
        outcome.finished = true;
    });
    run_until (() => outcome.finished);

    assert_true (outcome.error == null);
    assert_cmpint (AtomicInt.get (ref off_test_thread), CompareOperator.EQ, 1);
    assert_cmpuint (announced.length, CompareOperator.EQ, 5);

    unowned Array<Value> values = multi.get_values ();
    assert_cmpuint (values.length, CompareOperator.EQ, 4);
    assert_cmpstr (values.index (0).get_string (), CompareOperator.EQ, "ZERO");
    assert_cmpstr (values.index (3).get_string (), CompareOperator.EQ, "FOUR");
    unowned Array<Value> same = (Array<Value>) outcome.value.get_boxed ();
    assert_cmpuint (same.length, CompareOperator.EQ, 4);

    Value child;
    try {
        multi.get_child_value (3, out child);
        assert_not_reached ();
    } catch (Error e) {
        assert_true (e is TestError.BROKEN);
        assert_cmpstr (e.message, CompareOperator.EQ, "no three");
    }
    try {
        assert_true (multi.get_child_value (1, out child));
        assert_cmpstr (child.get_string (), CompareOperator.EQ, "ONE");
    } catch (Error e) {
        error ("%s", e.message);
    }
    assert_cmpuint (multi.get_n_items (), CompareOperator.EQ, 5);
    assert_cmpuint (multi.n_failed, CompareOperator.EQ, 1);
}

/* A job's value and error as Vala sees them; waiting for a job from outside
 * it, asynchronously (any number of waiters) and blocking. */
class JobFromOutside : Object {
    string?[] waiter_got = { null, null };
    bool done;

    async string body (AsyncGui.Job job) throws Error {
        yield job.await (new AsyncGui.Task.sleep (50));
        return "done";
    }

    async void waiter (AsyncGui.Job job, int index) {
        try {
            var value = yield job.wait_async ();
            waiter_got[index] = value.get_string ();
        } catch (Error e) {
            error ("%s", e.message);
        }
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        var job = new AsyncGui.Job (engine);
        assert_true (job.get_engine () == engine);
        assert_true (job.state == AsyncGui.TaskState.RUNNING);
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });
        waiter.begin (job, 0);
        waiter.begin (job, 1, (obj, res) => {
            waiter.end (res);
            done = true;
        });

        try {
            assert_true (job.wait ((int) SAFETY_MS));
        } catch (Error e) {
            error ("%s", e.message);
        }
        assert_true (job.state == AsyncGui.TaskState.SUCCEEDED);
        assert_cmpstr (job.get_value ().get_string (), CompareOperator.EQ, "done");
        run_until (() => done);
        assert_cmpstr (waiter_got[0], CompareOperator.EQ, "done");
        assert_cmpstr (waiter_got[1], CompareOperator.EQ, "done");
    }
}

/* notify::paused follows the job through pause and resume, notify::state
 * to its end. */
class JobStateNotifications : Object {
    string[] seen;

    async int body (AsyncGui.Job job) throws Error {
        yield job.await (new AsyncGui.Task.sleep (100));
        return 1;
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        var job = new AsyncGui.Job (engine);
        job.notify["state"].connect (() => {
            assert_true (on_test_thread ());
            seen += job.state.to_string ();
        });
        job.notify["paused"].connect (() => {
            assert_true (on_test_thread ());
            seen += job.paused ? "paused" : "unpaused";
        });
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });
        run_for (20);
        job.pause ();
        run_for (20);
        job.resume ();
        run_until (() => job.is_finished ());

        assert_cmpuint (seen.length, CompareOperator.EQ, 3);
        assert_cmpstr (seen[0], CompareOperator.EQ, "paused");
        assert_cmpstr (seen[1], CompareOperator.EQ, "unpaused");
        assert_cmpstr (seen[2], CompareOperator.EQ, AsyncGui.TaskState.SUCCEEDED.to_string ());
    }
}

/* Cancelling a job with nothing pending fails its next await at once; a
 * job that catches the cancellation may await again. */
class CancelIsOneShot : Object {
    bool first_cancelled;
    int second;

    async int body (AsyncGui.Job job) throws Error {
        job.cancel ();
        try {
            yield job.await (new AsyncGui.Task.sleep (2000));
        } catch (IOError.CANCELLED e) {
            first_cancelled = true;
        }
        var value = yield job.await (new AsyncGui.Task ((task, cancellable) => {
            task.return_int (5);
        }));
        second = value.get_int ();
        return second;
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        var job = new AsyncGui.Job (engine);
        int64 start = get_monotonic_time ();
        body.begin (job, (obj, res) => {
            try {
                job.return_value (body.end (res));
            } catch (Error e) {
                job.return_error (e);
            }
        });
        run_until (() => job.is_finished ());

        assert_cmpint ((int) ((get_monotonic_time () - start) / 1000), CompareOperator.LT, 1000);
        assert_true (first_cancelled);
        assert_cmpint (second, CompareOperator.EQ, 5);
        assert_true (job.state == AsyncGui.TaskState.SUCCEEDED);
    }
}

/* An error other than CANCELLED from the body fails the job; a cancelled
 * body that lets CANCELLED out ends it cancelled. */
void test_job_ends_by_error_kind () {
    var engine = new AsyncGui.Engine ();

    /* A job's code runs on the engine's thread: its return ends it. */
    var failed = new AsyncGui.Job (engine);
    failed.return_error (new TestError.BROKEN ("broken"));
    assert_true (failed.state == AsyncGui.TaskState.FAILED);
    assert_true (failed.get_error () is TestError.BROKEN);

    var cancelled = new AsyncGui.Job (engine);
    cancelled.return_error (new IOError.CANCELLED ("stop"));
    run_until (() => cancelled.is_finished ());
    assert_true (cancelled.state == AsyncGui.TaskState.CANCELLED);

    var no_value = new AsyncGui.Job (engine);
    no_value.return_value (null);
    run_until (() => no_value.is_finished ());
    assert_true (no_value.state == AsyncGui.TaskState.SUCCEEDED);
    assert_true (no_value.get_value () == null);
}

/* A job awaited from another job through Task.for_job: cancelling the
 * outer job's await cancels the inner job. */
class CancelNested : Object {
    async int inner_body (AsyncGui.Job job) throws Error {
        yield job.await (new AsyncGui.Task.sleep (5000));
        return 1;
    }

    async int outer_body (AsyncGui.Job job, AsyncGui.Job inner) throws Error {
        var value = yield job.await ((inner));
        return value.get_int ();
    }

    public void run () {
        var engine = new AsyncGui.Engine ();
        var inner = new AsyncGui.Job (engine);
        inner_body.begin (inner, (obj, res) => {
            try {
                inner.return_value (inner_body.end (res));
            } catch (Error e) {
                inner.return_error (e);
            }
        });
        var outer = new AsyncGui.Job (engine);
        outer_body.begin (outer, inner, (obj, res) => {
            try {
                outer.return_value (outer_body.end (res));
            } catch (Error e) {
                outer.return_error (e);
            }
        });
        run_for (20);
        outer.cancel ();
        run_until (() => outer.is_finished () && inner.is_finished ());

        assert_true (outer.state == AsyncGui.TaskState.CANCELLED);
        assert_true (inner.state == AsyncGui.TaskState.CANCELLED);
    }
}

/* Cancelling a paused job resumes it with the cancellation. */
class CancelPaused : Object {
    bool cancelled_at_await;

    async int body (AsyncGui.Job job) throws Error {
        try {
            yield job.await (new AsyncGui.Task.sleep (50));
        } catch (IOError.CANCELLED e) {
            cancelled_at_await = true;
            throw e;
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
        job.pause ();
        run_for (100);
        assert_true (job.paused);
        job.cancel ();
        run_until (() => job.is_finished ());

        assert_true (cancelled_at_await);
        assert_true (job.state == AsyncGui.TaskState.CANCELLED);
    }
}

/* MultiTask.prioritize: on one worker thread, the wanted positions start
 * first, the latest range winning; the value keeps list order. */
void test_map_range_prioritized_range_starts_first () {
    var engine = new AsyncGui.Engine ();
    engine.max_threads = 1;
    engine.max_blocked_threads = 0;
    Mutex order_lock = Mutex ();
    uint[] started = {};
    var multi = new AsyncGui.MultiTask.map_range (200, (chunk, position) => {
        order_lock.lock ();
        started += position;
        order_lock.unlock ();
        chunk.return_uint (position);
    });
    multi.prioritize (20, 10);
    multi.prioritize (150, 10);

    var outcome = new Outcome ();
    engine.run.begin (multi, null, (obj, res) => {
        try {
            outcome.value = engine.run.end (res);
        } catch (Error e) {
            outcome.error = e;
        }
        outcome.finished = true;
    });
    run_until (() => outcome.finished);
    assert_true (outcome.error == null);

    uint[] expected = {};
    for (uint i = 150; i < 160; i++) {
        expected += i;
    }
    for (uint i = 0; i < 200; i++) {
        if (i < 150 || i >= 160) {
            expected += i;
        }
    }
    assert_cmpuint (started.length, CompareOperator.EQ, 200);
    for (int i = 0; i < 200; i++) {
        assert_cmpuint (started[i], CompareOperator.EQ, expected[i]);
    }

    unowned Array<Value> values = multi.get_values ();
    assert_cmpuint (values.length, CompareOperator.EQ, 200);
    for (uint i = 0; i < 200; i++) {
        assert_cmpuint (values.index (i).get_uint (), CompareOperator.EQ, i);
    }
}

int main (string[] args) {
    Test.init (ref args);
    test_thread = Thread.self<void*> ();

    Test.add_func ("/vala/task-lambda-runs-on-a-worker-thread",
                   () => new TaskLambda ().run ());
    Test.add_func ("/vala/task-closure-freed-with-task",
                   test_task_closure_freed_with_task);
    Test.add_func ("/vala/main-task-lambda-returns-later",
                   test_main_task_lambda_returns_later);
    Test.add_func ("/vala/sleep-task-gives-null",
                   test_sleep_task_gives_null);
    Test.add_func ("/vala/value-property-is-read-and-notified",
                   test_value_property_is_read_and_notified);
    Test.add_func ("/vala/run-cancellable-cancels",
                   test_run_cancellable_cancels);
    Test.add_func ("/vala/map-model-lambda-gets-the-objects",
                   test_map_model_lambda_gets_the_objects);
    Test.add_func ("/vala/map-range-lambda-values-and-errors",
                   test_map_range_lambda_values_and_errors);
    Test.add_func ("/vala/map-range-prioritized-range-starts-first",
                   test_map_range_prioritized_range_starts_first);
    Test.add_func ("/vala/job-waited-from-outside",
                   () => new JobFromOutside ().run ());
    Test.add_func ("/vala/job-state-notifications",
                   () => new JobStateNotifications ().run ());
    Test.add_func ("/vala/job-cancel-is-one-shot",
                   () => new CancelIsOneShot ().run ());
    Test.add_func ("/vala/job-ends-by-error-kind",
                   test_job_ends_by_error_kind);
    Test.add_func ("/vala/cancel-paused-job",
                   () => new CancelPaused ().run ());
    Test.add_func ("/vala/cancel-reaches-nested-job",
                   () => new CancelNested ().run ());

    return Test.run ();
}
