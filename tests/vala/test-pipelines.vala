/* test-pipelines.vala: channels, task dependencies and pipelines from Vala
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What asyncgui-1.vapi promises Vala code for AsyncGui.Channel,
 * Task.add_dependency and Task.and_then, and AsyncGui.Pipeline
 * (Pipeline.range and siblings, add_stage, open_output): Vala lambdas as
 * PipelineFuncs that end each input through their Chunk (return_value,
 * return_error, emit), on worker threads (on this thread with a serial
 * engine); `yield reader.read_async (n)` giving an Array<Value> indexed
 * without casts; `yield engine.run (pipe)` giving the count of outputs or
 * throwing the pipeline's error.
 *
 * Every test is an async body (a subclass of AsyncTest) run to its end on
 * the default main context.
 */

errordomain TestError {
    BROKEN
}

/* Every wait is bounded by this much: a test fails instead of hanging. */
const uint SAFETY_MS = 10000;

/* How long to let a pipeline run on after a read, to see that it does not
 * call its function any more. */
const uint SETTLE_MS = 50;

unowned Thread<void*> test_thread;

bool on_test_thread () {
    return Thread.self<void*> () == test_thread;
}

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

/* Lets the context run for @msec, from an async body. */
async void settle (uint msec = SETTLE_MS) {
    Timeout.add (msec, settle.callback);
    yield;
}

/* Waits, from an async body, until @done holds (run_until bounds it). */
async void wait_until (Condition done) {
    while (!done ()) {
        Timeout.add (5, wait_until.callback);
        yield;
    }
}

/* Waits, from an async body, until @task has ended. A lambda of its own:
 * one in the caller's scope would share that scope's variables with the
 * pipelines' lambdas, and a pipeline that its own lambda's scope holds is
 * never freed. */
async void wait_for_task (AsyncGui.Task task) {
    yield wait_until (() => task.is_finished ());
}

/* The outputs of one read as numbers; pipelines over a range give uint64. */
uint64[] numbers (Array<Value> items) {
    uint64[] result = {};
    for (uint i = 0; i < items.length; i++) {
        result += items.index (i).get_uint64 ();
    }
    return result;
}

void assert_numbers (uint64[] got, uint64[] expected) {
    assert_cmpuint (got.length, CompareOperator.EQ, expected.length);
    for (int i = 0; i < expected.length; i++) {
        assert_cmpuint ((uint) got[i], CompareOperator.EQ, (uint) expected[i]);
    }
}

/* Reads a reader to its end: every item, until the channel is drained. */
async uint64[] read_to_end (AsyncGui.ChannelReader reader) throws Error {
    uint64[] got = {};
    while (true) {
        var items = yield reader.read_async (100);
        if (items.length == 0) {
            break;
        }
        foreach (var n in numbers (items)) {
            got += n;
        }
    }
    assert_true (reader.is_drained ());
    return got;
}

/* A task run in the background; its outcome is kept for later. */
class Run : Object {
    public bool finished;
    public Value? value;
    public Error? error;

    public Run (AsyncGui.Engine engine, AsyncGui.Task task) {
        engine.run.begin (task, null, (obj, res) => {
            try {
                value = engine.run.end (res);
            } catch (Error e) {
                error = e;
            }
            finished = true;
        });
    }
}

/* A test: an async body, run to its end on the default context. */
abstract class AsyncTest : Object {
    protected AsyncGui.Engine engine = new AsyncGui.Engine ();

    protected abstract async void body () throws Error;

    public void run () {
        bool done = false;
        body.begin ((obj, res) => {
            try {
                body.end (res);
            } catch (Error e) {
                error ("%s", e.message);
            }
            done = true;
        });
        run_until (() => done);
    }

    /* Stops an endless pipeline and waits until it has ended. */
    protected async void stop (AsyncGui.Pipeline pipe, Run run) {
        pipe.cancel ();
        yield wait_until (() => run.finished);
        assert_true (run.error is IOError.CANCELLED);
    }
}

/* ×2 over 0, 1, 2, …: reading two outputs calls the lambda twice. */
class ReadTwoOfEndlessInput : AsyncTest {
    protected override async void body () throws Error {
        int calls = 0;
        int off_test_thread = 0;
        var doubled = new AsyncGui.Pipeline.range (-1, (chunk, item) => {
            AtomicInt.inc (ref calls);
            if (!on_test_thread ()) {
                AtomicInt.set (ref off_test_thread, 1);
            }
            var output = Value (typeof (uint64));
            output.set_uint64 (2 * item.get_uint64 ());
            chunk.return_value (output);
        });
        var reader = doubled.open_output (16);
        var run = new Run (engine, doubled);

        yield settle ();
        assert_cmpint (AtomicInt.get (ref calls), CompareOperator.EQ, 0);

        Array<Value> items = yield reader.read_async (2);
        assert_numbers (numbers (items), { 0, 2 });
        yield settle ();
        assert_cmpint (AtomicInt.get (ref calls), CompareOperator.EQ, 2);
        assert_cmpint (AtomicInt.get (ref off_test_thread), CompareOperator.EQ, 1);
        assert_true (doubled.state == AsyncGui.TaskState.RUNNING);

        yield stop (doubled, run);
    }
}

/* With min_count 5, a read of one output runs five inputs; the other four
 * wait in the channel, so reading them calls nothing. */
class MinCountRunsAWholeBatch : AsyncTest {
    protected override async void body () throws Error {
        int calls = 0;
        var doubled = new AsyncGui.Pipeline.range (-1, (chunk, item) => {
            AtomicInt.inc (ref calls);
            var output = Value (typeof (uint64));
            output.set_uint64 (2 * item.get_uint64 ());
            chunk.return_value (output);
        });
        doubled.min_count = 5;
        var reader = doubled.open_output (16);
        var run = new Run (engine, doubled);

        var first = yield reader.read_async (1);
        assert_numbers (numbers (first), { 0 });
        /* The read returns with the first output; the batch's other calls
         * may still be starting. */
        yield wait_until (() => AtomicInt.get (ref calls) >= 5);
        yield settle ();
        assert_cmpint (AtomicInt.get (ref calls), CompareOperator.EQ, 5);

        var rest = yield reader.read_async (4);
        assert_numbers (numbers (rest), { 2, 4, 6, 8 });
        yield settle ();
        assert_cmpint (AtomicInt.get (ref calls), CompareOperator.EQ, 5);

        yield stop (doubled, run);
    }
}

/* A lambda that throws at input 3: the reader gets the outputs of 0, 1 and
 * 2, then a drained channel; the task has failed with the lambda's error,
 * and `yield engine.run (pipe)` throws it. */
class FailureGivesEarlierOutputsThenTheError : AsyncTest {
    uint64[] got;
    bool read_done;

    async void consume (AsyncGui.Pipeline pipe, AsyncGui.ChannelReader reader) {
        try {
            var items = yield reader.read_async (10);
            got = numbers (items);
            assert_true (reader.is_drained ());
            /* The task is final when its reader sees the end. */
            assert_true (pipe.state == AsyncGui.TaskState.FAILED);
            assert_true (pipe.error is TestError.BROKEN);
            assert_cmpuint ((yield reader.read_async (1)).length, CompareOperator.EQ, 0);
        } catch (Error e) {
            error ("%s", e.message);
        }
        read_done = true;
    }

    protected override async void body () throws Error {
        var doubled = new AsyncGui.Pipeline.range (10, (chunk, item) => {
            var n = item.get_uint64 ();
            if (n == 3) {
                chunk.return_error (new TestError.BROKEN ("input %d is bad", (int) n));
                return;
            }
            var output = Value (typeof (uint64));
            output.set_uint64 (2 * n);
            chunk.return_value (output);
        });
        var reader = doubled.open_output (16);
        consume.begin (doubled, reader);

        try {
            yield engine.run (doubled);
            assert_not_reached ();
        } catch (TestError.BROKEN e) {
            assert_cmpstr (e.message, CompareOperator.EQ, "input 3 is bad");
        }
        yield wait_until (() => read_done);
        assert_numbers (got, { 0, 2, 4 });
        assert_true (doubled.get_error () is TestError.BROKEN);
    }
}

/* A finite pipeline ends by itself: its value is the number of outputs. */
class FiniteInputCountsOutputs : AsyncTest {
    uint64[] got;

    async void consume (AsyncGui.ChannelReader reader) {
        try {
            got = yield read_to_end (reader);
        } catch (Error e) {
            error ("%s", e.message);
        }
    }

    protected override async void body () throws Error {
        var doubled = new AsyncGui.Pipeline.range (5, (chunk, item) => {
            var output = Value (typeof (uint64));
            output.set_uint64 (2 * item.get_uint64 ());
            chunk.return_value (output);
        });
        consume.begin (doubled.open_output (2));

        var count = yield engine.run (doubled);
        assert_cmpuint ((uint) count.get_uint64 (), CompareOperator.EQ, 5);
        yield wait_until (() => got != null);
        assert_numbers (got, { 0, 2, 4, 6, 8 });
    }
}

/* add_stage chains a second lambda; running the last stage runs the first,
 * and dropping the last reader stops both. */
class StagesChain : AsyncTest {
    protected override async void body () throws Error {
        int first_calls = 0;
        int second_calls = 0;
        var doubled = new AsyncGui.Pipeline.range (-1, (chunk, item) => {
            AtomicInt.inc (ref first_calls);
            var output = Value (typeof (uint64));
            output.set_uint64 (2 * item.get_uint64 ());
            chunk.return_value (output);
        });
        var described = doubled.add_stage (8, (chunk, item) => {
            AtomicInt.inc (ref second_calls);
            var output = Value (typeof (string));
            output.set_string ("#%u".printf ((uint) item.get_uint64 ()));
            chunk.return_value (output);
        });
        AsyncGui.ChannelReader? reader = described.open_output (8);
        var run = new Run (engine, described);

        var items = yield reader.read_async (3);
        assert_cmpuint (items.length, CompareOperator.EQ, 3);
        assert_cmpstr (items.index (0).get_string (), CompareOperator.EQ, "#0");
        assert_cmpstr (items.index (1).get_string (), CompareOperator.EQ, "#2");
        assert_cmpstr (items.index (2).get_string (), CompareOperator.EQ, "#4");
        yield settle ();
        assert_true (doubled.state == AsyncGui.TaskState.RUNNING);
        assert_cmpint (AtomicInt.get (ref first_calls), CompareOperator.EQ, 3);
        assert_cmpint (AtomicInt.get (ref second_calls), CompareOperator.EQ, 3);

        reader = null;
        yield wait_for_task (doubled);
        yield wait_until (() => run.finished);
        assert_true (run.error is IOError.CANCELLED);
        assert_true (described.state == AsyncGui.TaskState.CANCELLED);
        assert_true (doubled.state == AsyncGui.TaskState.CANCELLED);
    }
}

/* A Vala thread writes a channel with the blocking write; the test thread
 * reads it with `yield reader.read_async`, in order, until it is drained. */
class ChannelWrittenByAThread : AsyncTest {
    protected override async void body () throws Error {
        var channel = new AsyncGui.Channel (2);
        var reader = channel.open_reader ();
        var writer = new Thread<void> ("writer", () => {
            for (int i = 0; i < 10; i++) {
                var item = Value (typeof (int));
                item.set_int (i * i);
                try {
                    channel.write (item);
                } catch (Error e) {
                    error ("%s", e.message);
                }
            }
            channel.close ();
        });

        int[] got = {};
        while (true) {
            var items = yield reader.read_async (3);
            assert_cmpuint (items.length, CompareOperator.LE, 3);
            if (items.length == 0) {
                break;
            }
            for (uint i = 0; i < items.length; i++) {
                got += items.index (i).get_int ();
            }
        }
        writer.join ();

        assert_true (reader.is_drained ());
        assert_true (channel.is_closed ());
        assert_cmpuint (got.length, CompareOperator.EQ, 10);
        for (int i = 0; i < 10; i++) {
            assert_cmpint (got[i], CompareOperator.EQ, i * i);
        }
    }
}

/* Closing the last reader stops a writer thread that waits for room. */
class ClosedReaderBreaksTheWriter : AsyncTest {
    protected override async void body () throws Error {
        var channel = new AsyncGui.Channel (1);
        var reader = channel.open_reader ();
        Error? write_error = null;
        var writer = new Thread<void> ("writer", () => {
            var item = Value (typeof (string));
            item.set_string ("more");
            try {
                while (true) {
                    channel.write (item);
                }
            } catch (Error e) {
                write_error = e;
            }
        });

        var items = yield reader.read_async (1);
        assert_cmpstr (items.index (0).get_string (), CompareOperator.EQ, "more");
        reader.close ();
        writer.join ();
        assert_true (write_error is IOError.BROKEN_PIPE);
    }
}

/* Channel.write_async from the test thread, and Vala transforms: the
 * write transform squares or fails, the read transform makes a string. */
class WriteAsyncAndTransform : AsyncTest {
    protected override async void body () throws Error {
        var channel = new AsyncGui.Channel (4);
        channel.set_write_transform ((transform, item) => {
            if (item.get_int () < 0) {
                transform.return_error (new TestError.BROKEN ("negative"));
                return;
            }
            var squared = Value (typeof (int));
            squared.set_int (item.get_int () * item.get_int ());
            transform.return_value (squared);
        });
        channel.set_read_transform ((transform, item) => {
            transform.return_value ("<%d>".printf (item.get_int ()));
        });
        var reader = channel.open_reader ();

        var item = Value (typeof (int));
        item.set_int (7);
        assert_true (yield channel.write_async (item));
        item.set_int (-1);
        try {
            yield channel.write_async (item);
            assert_not_reached ();
        } catch (TestError.BROKEN e) {
        }
        channel.close ();

        var items = yield reader.read_async (10);
        assert_cmpuint (items.length, CompareOperator.EQ, 1);
        assert_cmpstr (items.index (0).get_string (), CompareOperator.EQ, "<49>");
        assert_true (reader.is_drained ());
    }
}

/* A pipeline over a channel that a Vala thread writes: it ends with the
 * channel, and its value counts the outputs. */
class PipeOverAThreadsChannel : AsyncTest {
    uint64[] got;

    async void consume (AsyncGui.ChannelReader reader) {
        try {
            got = yield read_to_end (reader);
        } catch (Error e) {
            error ("%s", e.message);
        }
    }

    protected override async void body () throws Error {
        var source = new AsyncGui.Channel (2);
        var inputs = source.open_reader ();
        var writer = new Thread<void> ("writer", () => {
            for (int i = 1; i <= 4; i++) {
                var item = Value (typeof (uint64));
                item.set_uint64 (i * 10);
                try {
                    source.write (item);
                } catch (Error e) {
                    error ("%s", e.message);
                }
            }
            source.close ();
        });
        var plus_one = new AsyncGui.Pipeline (inputs, (chunk, item) => {
            var output = Value (typeof (uint64));
            output.set_uint64 (item.get_uint64 () + 1);
            chunk.return_value (output);
        });
        inputs = null;
        consume.begin (plus_one.open_output (2));

        var count = yield engine.run (plus_one);
        writer.join ();
        assert_cmpuint ((uint) count.get_uint64 (), CompareOperator.EQ, 4);
        yield wait_until (() => got != null);
        assert_numbers (got, { 11, 21, 31, 41 });
    }
}

/* set_output: the pipeline writes to a channel of the caller's, and
 * closes it when it ends. */
class SetOutputWritesThere : AsyncTest {
    uint64[] got;

    async void consume (AsyncGui.ChannelReader reader) {
        try {
            got = yield read_to_end (reader);
        } catch (Error e) {
            error ("%s", e.message);
        }
    }

    protected override async void body () throws Error {
        var output = new AsyncGui.Channel (8);
        var reader = output.open_reader ();
        var doubled = new AsyncGui.Pipeline.range (3, (chunk, item) => {
            var value = Value (typeof (uint64));
            value.set_uint64 (2 * item.get_uint64 ());
            chunk.return_value (value);
        });
        doubled.set_output (output);
        assert_true (doubled.get_output () == output);
        /* Nothing runs until somebody reads. */
        consume.begin (reader);

        var count = yield engine.run (doubled);
        assert_cmpuint ((uint) count.get_uint64 (), CompareOperator.EQ, 3);
        assert_true (output.is_closed ());
        yield wait_until (() => got != null);
        assert_numbers (got, { 0, 2, 4 });
    }
}

/* A lambda may emit any number of outputs through its chunk before it
 * returns, or fail its input. */
class EmitAndReturnError : AsyncTest {
    uint64[] got;

    async void consume (AsyncGui.ChannelReader reader) {
        try {
            got = yield read_to_end (reader);
        } catch (Error e) {
            error ("%s", e.message);
        }
    }

    protected override async void body () throws Error {
        var pipe = new AsyncGui.Pipeline.range (10, (chunk, item) => {
            var n = item.get_uint64 ();
            if (n == 5) {
                chunk.return_error (new TestError.BROKEN ("five"));
                return;
            }
            if (n % 2 == 1) {
                chunk.emit (item);
                chunk.emit (item);
                chunk.return_value (null);
                return;
            }
            chunk.return_value (item);
        });
        consume.begin (pipe.open_output (16));

        try {
            yield engine.run (pipe);
            assert_not_reached ();
        } catch (TestError.BROKEN e) {
            assert_cmpstr (e.message, CompareOperator.EQ, "five");
        }
        yield wait_until (() => got != null);
        assert_numbers (got, { 0, 1, 1, 2, 3, 3, 4 });
    }
}

/* With apply_single off the lambda gets a whole chunk: no item, its
 * chunk's inputs as an Array<Value>; it emits its outputs. */
class WholeChunks : AsyncTest {
    protected override async void body () throws Error {
        engine.max_threads = 0;
        int calls = 0;
        var sums = new AsyncGui.Pipeline.range (100, (chunk, item) => {
            calls++;
            assert_true (item == null);
            var inputs = chunk.dup_items ();
            uint64 total = 0;
            for (uint i = 0; i < inputs.length; i++) {
                total += inputs.index (i).get_uint64 ();
            }
            var sum = Value (typeof (uint64));
            sum.set_uint64 (total);
            chunk.emit (sum);
            chunk.return_nothing ();
        });
        sums.apply_single = false;
        sums.max_chunk_size = 10;
        var reader = sums.open_output (100);
        var run = new Run (engine, sums);

        var items = yield reader.read_async (1000);
        assert_cmpuint (items.length, CompareOperator.GE, 10);
        assert_cmpuint (items.length, CompareOperator.EQ, calls);
        uint64 total = 0;
        foreach (var n in numbers (items)) {
            total += n;
        }
        assert_cmpuint ((uint) total, CompareOperator.EQ, 99 * 100 / 2);
        yield wait_until (() => run.finished);
        assert_cmpuint ((uint) run.value.get_uint64 (), CompareOperator.EQ, items.length);
    }
}

/* A serial engine (max_threads = 0) runs the lambda on this thread, in
 * input order: still two calls for two outputs, and a failure at input 3
 * gives 0, 2, 4 and then the error. */
class SerialEngine : AsyncTest {
    protected override async void body () throws Error {
        engine.max_threads = 0;
        uint64[] seen = {};
        bool all_on_test_thread = true;
        var doubled = new AsyncGui.Pipeline.range (-1, (chunk, item) => {
            all_on_test_thread = all_on_test_thread && on_test_thread ();
            seen += item.get_uint64 ();
            var output = Value (typeof (uint64));
            output.set_uint64 (2 * item.get_uint64 ());
            chunk.return_value (output);
        });
        var reader = doubled.open_output (16);
        var run = new Run (engine, doubled);

        var items = yield reader.read_async (2);
        assert_numbers (numbers (items), { 0, 2 });
        yield settle ();
        assert_numbers (seen, { 0, 1 });
        assert_true (all_on_test_thread);
        yield stop (doubled, run);

        var failing = new AsyncGui.Pipeline.range (10, (chunk, item) => {
            if (item.get_uint64 () == 3) {
                chunk.return_error (new TestError.BROKEN ("three"));
                return;
            }
            var output = Value (typeof (uint64));
            output.set_uint64 (2 * item.get_uint64 ());
            chunk.return_value (output);
        });
        var failing_reader = failing.open_output (16);
        var failing_run = new Run (engine, failing);
        assert_numbers (yield read_to_end (failing_reader), { 0, 2, 4 });
        assert_true (failing.state == AsyncGui.TaskState.FAILED);
        yield wait_until (() => failing_run.finished);
        assert_true (failing_run.error is TestError.BROKEN);
    }
}

/* A dependent task's lambda reads the value of the task it depends on. */
class DependentSeesTheValue : AsyncTest {
    protected override async void body () throws Error {
        var load = new AsyncGui.Task ((task, cancellable) => {
            task.return_string ("forty");
        });
        var dependent = new AsyncGui.Task ((task, cancellable) => {
            unowned Value? loaded = task.get_dependency_value (0);
            task.return_string (loaded.get_string () + "-two");
        });
        dependent.add_dependency (load);
        assert_cmpuint (dependent.get_n_dependencies (), CompareOperator.EQ, 1);

        var value = yield engine.run (dependent);
        assert_cmpstr (value.get_string (), CompareOperator.EQ, "forty-two");
        assert_true (load.state == AsyncGui.TaskState.SUCCEEDED);
    }
}

/* A dependency that would close a cycle throws and is not added. */
class DependencyCycleThrows : AsyncTest {
    protected override async void body () throws Error {
        var first = new AsyncGui.Task ((task, cancellable) => {
            task.return_int (1);
        });
        var second = new AsyncGui.Task ((task, cancellable) => {
            task.return_int (task.get_dependency_value (0).get_int () + 1);
        });
        second.add_dependency (first);
        try {
            first.add_dependency (second);
            assert_not_reached ();
        } catch (AsyncGui.Error.DEPENDENCY_CYCLE e) {
        }
        assert_cmpuint (first.get_n_dependencies (), CompareOperator.EQ, 0);

        var value = yield engine.run (second);
        assert_cmpint (value.get_int (), CompareOperator.EQ, 2);
    }
}

/* A dependent task fails with its dependency's error, its lambda never run. */
class DependentFailsWithoutRunning : AsyncTest {
    protected override async void body () throws Error {
        int ran = 0;
        var load = new AsyncGui.Task ((task, cancellable) => {
            task.return_error (new TestError.BROKEN ("no data"));
        });
        var dependent = new AsyncGui.Task ((task, cancellable) => {
            AtomicInt.set (ref ran, 1);
            task.return_int (1);
        });
        dependent.add_dependency (load);

        try {
            yield engine.run (dependent);
            assert_not_reached ();
        } catch (TestError.BROKEN e) {
            assert_cmpstr (e.message, CompareOperator.EQ, "no data");
        }
        yield settle ();
        assert_cmpint (AtomicInt.get (ref ran), CompareOperator.EQ, 0);
        assert_true (dependent.state == AsyncGui.TaskState.FAILED);
        assert_true (load.state == AsyncGui.TaskState.FAILED);
    }
}

/* and_then: the next lambda gets the previous value; a failure skips it. */
class AndThenChains : AsyncTest {
    protected override async void body () throws Error {
        var twenty_one = new AsyncGui.Task ((task, cancellable) => {
            task.return_int (21);
        });
        var doubled = twenty_one.and_then ((task, previous, cancellable) => {
            task.return_int (previous.get_int () * 2);
        });
        var value = yield engine.run (doubled);
        assert_cmpint (value.get_int (), CompareOperator.EQ, 42);

        int ran = 0;
        var broken = new AsyncGui.Task ((task, cancellable) => {
            task.return_error (new TestError.BROKEN ("first"));
        });
        var after = broken.and_then ((task, previous, cancellable) => {
            AtomicInt.set (ref ran, 1);
            task.return_value (previous);
        });
        try {
            yield engine.run (after);
            assert_not_reached ();
        } catch (TestError.BROKEN e) {
            assert_cmpstr (e.message, CompareOperator.EQ, "first");
        }
        assert_cmpint (AtomicInt.get (ref ran), CompareOperator.EQ, 0);
    }
}

/* A pipeline's lambda closure is freed once the pipeline has ended. */
class Token : Object {
}

AsyncGui.Pipeline pipe_holding (Object token) {
    return new AsyncGui.Pipeline.range (1, (chunk, item) => {
        var output = Value (typeof (Object));
        output.set_object (token);
        chunk.return_value (output);
    });
}

class PipeClosureFreed : AsyncTest {
    protected override async void body () throws Error {
        var token = new Token ();
        bool token_freed = false;
        token.weak_ref (() => token_freed = true);

        AsyncGui.Pipeline pipe = pipe_holding (token);
        token = null;
        yield engine.run (pipe);
        /* The run is over: the closure goes, though the pipeline stays. */
        yield settle (10);
        assert_true (token_freed);
        assert_true (pipe.is_finished ());
    }
}

int main (string[] args) {
    Test.init (ref args);
    test_thread = Thread.self<void*> ();

    Test.add_func ("/vala/pipeline/read-two-of-endless-input-calls-twice",
                   () => new ReadTwoOfEndlessInput ().run ());
    Test.add_func ("/vala/pipeline/min-count-runs-a-whole-batch",
                   () => new MinCountRunsAWholeBatch ().run ());
    Test.add_func ("/vala/pipeline/failure-gives-earlier-outputs-then-the-error",
                   () => new FailureGivesEarlierOutputsThenTheError ().run ());
    Test.add_func ("/vala/pipeline/finite-input-counts-outputs",
                   () => new FiniteInputCountsOutputs ().run ());
    Test.add_func ("/vala/pipeline/stages-chain",
                   () => new StagesChain ().run ());
    Test.add_func ("/vala/pipeline/over-a-channel-a-thread-writes",
                   () => new PipeOverAThreadsChannel ().run ());
    Test.add_func ("/vala/pipeline/set-output-writes-there",
                   () => new SetOutputWritesThere ().run ());
    Test.add_func ("/vala/pipeline/emit-and-return-error",
                   () => new EmitAndReturnError ().run ());
    Test.add_func ("/vala/pipeline/whole-chunks",
                   () => new WholeChunks ().run ());
    Test.add_func ("/vala/pipeline/serial-engine",
                   () => new SerialEngine ().run ());
    Test.add_func ("/vala/pipeline/closure-freed-when-the-run-ends",
                   () => new PipeClosureFreed ().run ());
    Test.add_func ("/vala/channel/written-by-a-thread",
                   () => new ChannelWrittenByAThread ().run ());
    Test.add_func ("/vala/channel/closed-reader-breaks-the-writer",
                   () => new ClosedReaderBreaksTheWriter ().run ());
    Test.add_func ("/vala/channel/write-async-and-transform",
                   () => new WriteAsyncAndTransform ().run ());
    Test.add_func ("/vala/task/dependent-sees-the-value",
                   () => new DependentSeesTheValue ().run ());
    Test.add_func ("/vala/task/dependency-cycle-throws",
                   () => new DependencyCycleThrows ().run ());
    Test.add_func ("/vala/task/dependent-fails-without-running",
                   () => new DependentFailsWithoutRunning ().run ());
    Test.add_func ("/vala/task/and-then-chains",
                   () => new AndThenChains ().run ());

    return Test.run ();
}
