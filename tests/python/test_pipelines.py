#!/usr/bin/python3
# test_pipelines.py: channels, task dependencies and pipelines from Python
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import gc
import itertools
import os
import subprocess
import sys
import tempfile
import threading
import weakref

import agtest
from agtest import identity
from agtest import MAIN_THREAD
from gi.repository import AsyncGui, Gio, GLib, GObject
from gi.repository.AsyncGui import Task


class BadInput(Exception):
    def __init__(self, item):
        super().__init__('input %r is bad' % (item,))
        self.item = item


class BadSource(Exception):
    pass


class Token:
    """An object only Python knows: it must come back as itself."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return 'Token(%r)' % self.name


class Calls:
    """A pipeline function that counts its calls, remembers its inputs
    and threads, and fails at one input."""

    def __init__(self, func, fail_at=None):
        self.func = func
        self.fail_at = fail_at
        self.lock = threading.Lock()
        self.seen = []
        self.threads = set()

    def __call__(self, item):
        with self.lock:
            self.seen.append(item)
            self.threads.add(threading.get_ident())
        if item == self.fail_at:
            raise BadInput(item)
        return self.func(item)

    @property
    def count(self):
        with self.lock:
            return len(self.seen)


def double(x):
    return 2 * x


def add_one(x):
    return x + 1


def raise_bad(item):
    raise BadInput(item)


class ChannelTest(agtest.JobTestCase):
    def test_any_python_object_goes_from_a_thread_to_a_job_and_back(self):
        token = Token('a')
        pair = (1, 'x')
        action = Gio.SimpleAction.new('act', None)
        objects = [token, None, pair, {'k': [1, 2]}, 2**70, -7, 3.5, True, 'text',
                   'with\0nul', GLib.Variant('s', 'v'), action]
        channel = AsyncGui.Channel(capacity=2)
        reader = channel.open_reader()

        def produce():
            with channel:
                for obj in objects:
                    channel.write(obj)

        @self.engine.job
        async def consume():
            got = []
            async for item in reader:
                self.assertEqual(threading.get_ident(), MAIN_THREAD)
                got.append(item)
            return got

        producer = threading.Thread(target=produce)
        producer.start()
        got = self.run_job(consume()).result()
        producer.join()
        self.assertEqual(got, objects)
        self.assertIs(got[0], token)
        self.assertIs(got[2], pair)
        self.assertIs(got[11], action)
        self.assertIs(type(got[7]), bool)
        self.assertTrue(reader.is_drained())

    def test_a_job_writes_and_a_thread_iterates_until_the_channel_is_closed(self):
        tokens = [Token(i) for i in range(20)]
        channel = AsyncGui.Channel(capacity=2)
        reader = channel.open_reader()
        received = []
        consumer = threading.Thread(target=lambda: received.extend(reader))
        consumer.start()

        @self.engine.job
        def produce():
            for token in tokens:
                yield channel.write_item(token)
            channel.close()

        self.run_job(produce()).result()
        consumer.join(agtest.SAFETY_S)
        self.assertFalse(consumer.is_alive())
        self.assertEqual(len(received), 20)
        self.assertTrue(all(a is b for a, b in zip(received, tokens)))

    def test_read_items_gives_n_items_then_what_is_left_then_nothing(self):
        channel = AsyncGui.Channel.new(8)
        reader = channel.open_reader()
        for i in range(5):
            channel.write(i)
        channel.close()

        @self.engine.job
        def handler():
            first = yield reader.read_items(2)
            rest = yield reader.read_items(10)
            after = yield reader.read_items(1)
            return first, rest, after

        self.assertEqual(self.run_job(handler()).result(), ([0, 1], [2, 3, 4], []))

    def test_a_loop_left_early_leaves_the_rest_in_the_channel(self):
        channel = AsyncGui.Channel()
        reader = channel.open_reader()
        for i in range(5):
            channel.write(i)
        channel.close()

        @self.engine.job
        async def handler():
            first = []
            async for item in reader:
                first.append(item)
                if len(first) == 2:
                    break
            rest = await reader.read_items(10)
            return first, rest

        self.assertEqual(self.run_job(handler()).result(), ([0, 1], [2, 3, 4]))

    def test_blocking_calls_raise_python_exceptions(self):
        channel = AsyncGui.Channel(capacity=1)
        reader = channel.open_reader()
        channel.write('first')
        with self.assertRaises(BlockingIOError):
            channel.write('second', timeout=0)
        with self.assertRaises(TimeoutError):
            channel.write('second', timeout=0.02)
        # A timeout gives what came, and is not the end.
        self.assertEqual(reader.read(5, timeout=0.02), ['first'])
        self.assertFalse(reader.is_drained())
        reader.close()
        with self.assertRaises(ValueError):
            reader.read(1, timeout=0)
        with self.assertRaises(BrokenPipeError):
            channel.write('nobody reads')

        closed = AsyncGui.Channel()
        kept_open = closed.open_reader()
        closed.close()
        with self.assertRaises(ValueError):
            closed.write(1)
        self.assertEqual(kept_open.read(1), [])
        self.assertTrue(kept_open.is_drained())

    def test_write_item_waits_for_room_without_blocking_the_loop(self):
        channel = AsyncGui.Channel(capacity=1)
        reader = channel.open_reader()
        written = []

        @self.engine.job
        def produce():
            for i in range(3):
                yield channel.write_item(i)
                written.append(i)

        job = produce()
        self.run_loop_for(0.05)
        # 0 is stored; 1 waits for room, and the loop runs meanwhile.
        self.assertEqual(written, [0])
        self.assertEqual(reader.read(1, timeout=0), [0])
        self.run_loop_until(lambda: len(written) == 2)
        self.assertEqual(reader.read(1, timeout=0), [1])
        self.run_job(job)
        self.assertEqual(reader.read(3, timeout=0), [2])


    def test_a_job_cancelled_while_it_waits_to_read_loses_no_item(self):
        channel = AsyncGui.Channel(capacity=8)
        reader = channel.open_reader()

        @self.engine.job
        def consume():
            return (yield reader.read_items(3))

        job = consume()
        self.run_loop_for(0.05)
        job.cancel()
        # Written before the loop runs again: the cancelled read takes none.
        for i in range(5):
            channel.write(i)
        self.run_job(job)
        self.assertEqual(job.get_state(), AsyncGui.TaskState.CANCELLED)
        self.assertEqual(reader.read(10, timeout=0), [0, 1, 2, 3, 4])

    def test_a_job_cancelled_after_its_read_got_items_gives_them_back(self):
        channel = AsyncGui.Channel(capacity=8)
        reader = channel.open_reader()
        ends = []

        for cancel_first in (False, True):
            @self.engine.job
            def consume():
                ends.append((yield reader.read_items(3)))

            job = consume()
            self.run_loop_for(0.05)
            # The read has its items; the job has not seen them when it is
            # cancelled.
            channel.write('a')
            channel.write('b')
            if cancel_first:
                job.cancel()
                channel.write('c')
            else:
                channel.write('c')
                job.cancel()
            self.run_job(job)
            self.assertEqual(job.get_state(), AsyncGui.TaskState.CANCELLED)
            self.assertEqual(reader.read(10, timeout=0), ['a', 'b', 'c'])
        self.assertEqual(ends, [])

    def test_a_job_paused_then_cancelled_after_its_read_ended_gives_the_items_back(self):
        channel = AsyncGui.Channel(capacity=8)
        reader = channel.open_reader()
        ends = []

        for kind in ('generator', 'coroutine'):
            if kind == 'generator':
                @self.engine.job
                def consume():
                    ends.append((yield reader.read_items(1)))
            else:
                @self.engine.job
                async def consume():
                    ends.append(await reader.read_items(1))

            job = consume()
            self.run_loop_for(0.03)
            job.pause()
            channel.write((kind, 'held'))
            self.run_loop_for(0.05)
            job.cancel()
            self.run_job(job)
            self.assertEqual(job.get_state(), AsyncGui.TaskState.CANCELLED)
            self.assertEqual(reader.read(10, timeout=0), [(kind, 'held')])
        self.assertEqual(ends, [])

    def test_a_paused_job_cancelled_then_replaced_at_once_leaves_the_next_job_its_items_first(self):
        # The click handler's way: cancel the paused job, start the next.
        for kind in ('generator', 'coroutine', 'async for'):
            channel = AsyncGui.Channel(capacity=8)
            reader = channel.open_reader()
            seen = []

            if kind == 'generator':
                @self.engine.job
                def consume(name):
                    seen.extend((name, item) for item in (yield reader.read_items(2)))
            elif kind == 'coroutine':
                @self.engine.job
                async def consume(name):
                    seen.extend((name, item) for item in await reader.read_items(2))
            else:
                @self.engine.job
                async def consume(name):
                    async for item in reader:
                        seen.append((name, item))
                        if len(seen) == 2:
                            break

            first = consume('first')
            first.pause()
            channel.write(1)
            channel.write(2)
            self.run_loop_for(0.05)
            first.cancel()
            following = consume('next')
            channel.write(3)
            channel.write(4)
            self.run_job(following)
            self.assertEqual(seen, [('next', 1), ('next', 2)], kind)

    def test_async_for_over_a_full_channel_lets_the_main_loop_run(self):
        # Items that wait come at once, but not all of a backlog in one
        # turn of the main loop: frames get through while the loop works.
        channel = AsyncGui.Channel(capacity=20000)
        reader = channel.open_reader()
        for i in range(20000):
            channel.write(i)
        channel.close()
        ticks = []

        def tick():
            ticks.append(GLib.get_monotonic_time())
            return GLib.SOURCE_CONTINUE

        @self.engine.job
        async def consume():
            count = 0
            async for item in reader:
                deadline = GLib.get_monotonic_time() + 10
                while GLib.get_monotonic_time() < deadline:
                    pass
                count += 1
            return count

        source = GLib.timeout_add(5, tick)
        try:
            job = self.run_job(consume())
        finally:
            GLib.source_remove(source)
        self.assertEqual(job.result(), 20000)
        # 20,000 items of 10 us: 200 ms of work, a tick due every 5 ms.
        self.assertGreater(len(ticks), 10)

    def test_a_job_cancelled_at_any_point_of_its_read_loses_no_item(self):
        # The items are there; the job is cancelled after 0, 1, 2, ...
        # iterations of the loop, whichever step of the read's way to the
        # job that falls on. Each item is then the job's or the channel's.
        channel = AsyncGui.Channel(capacity=8)
        reader = channel.open_reader()

        for steps in range(8):
            got = []

            @self.engine.job
            def consume():
                got.extend((yield reader.read_items(2)))

            job = consume()
            channel.write(('a', steps))
            channel.write(('b', steps))
            for unused in range(steps):
                self.context.iteration(False)
            job.cancel()
            self.run_job(job)
            left = reader.read(10, timeout=0)
            self.assertEqual(got + left, [('a', steps), ('b', steps)],
                             'cancelled after %d steps' % steps)

    def test_a_cancelled_task_ends_the_blocking_write_of_its_function(self):
        channel = AsyncGui.Channel(capacity=1)
        reader = channel.open_reader()
        channel.write('first')
        raised = []
        ended = threading.Event()

        def produce():
            try:
                channel.write('second')
            except BaseException as exc:  # noqa: B902 - what the test looks at
                raised.append(type(exc))
                raise
            finally:
                ended.set()

        @self.engine.job
        def run():
            yield AsyncGui.Task(produce)

        job = run()
        self.run_loop_for(0.05)
        job.cancel()
        # Else the worker thread, and the test's exit, would wait for good.
        self.assertTrue(ended.wait(5))
        self.run_job(job)
        self.assertEqual(job.get_state(), AsyncGui.TaskState.CANCELLED)
        self.assertEqual(raised, [AsyncGui.CancelledError])
        self.assertEqual(reader.read(2, timeout=0), ['first'])

    def test_a_job_cancelled_while_it_waits_to_write_stores_nothing(self):
        channel = AsyncGui.Channel(capacity=1)
        reader = channel.open_reader()
        channel.write('first')

        @self.engine.job
        def produce():
            yield channel.write_item('cancelled')

        job = produce()
        self.run_loop_for(0.05)
        job.cancel()
        # Room comes before the loop runs again.
        self.assertEqual(reader.read(1, timeout=0), ['first'])
        self.run_job(job)
        self.assertEqual(job.get_state(), AsyncGui.TaskState.CANCELLED)
        channel.close()
        self.assertEqual(reader.read(), [])

    def test_a_read_in_a_job_of_a_disposed_engine_loses_no_item(self):
        engine = AsyncGui.Engine.new_for_context(self.context)
        channel = AsyncGui.Channel(capacity=8)
        reader = channel.open_reader()

        @engine.job
        def consume():
            return (yield reader.read_items(2))

        job = consume()
        self.run_loop_for(0.05)
        engine.run_dispose()
        self.run_job(job)
        channel.write(1)
        self.assertEqual(reader.read(1, timeout=0), [1])


class PortingFromAsyncTest(agtest.JobTestCase):
    """Code written for the `async` package reads and writes channels the
    way it did, where there is no reason to differ."""

    def test_read_without_a_count_blocks_until_closed_and_gives_everything(self):
        channel = AsyncGui.Channel(capacity=2)
        reader = channel.open_reader()

        def produce():
            with channel:
                for i in range(7):
                    channel.write(i)

        producer = threading.Thread(target=produce)
        producer.start()
        got = reader.read()
        producer.join(agtest.SAFETY_S)
        self.assertEqual(got, list(range(7)))
        self.assertTrue(reader.is_drained())
        self.assertEqual(reader.read(0), [])

    def test_read_zero_without_blocking_takes_what_waits_now(self):
        channel = AsyncGui.Channel(capacity=8)
        reader = channel.open_reader()
        for i in range(3):
            channel.write(i)
        self.assertEqual(reader.read(0, block=False), [0, 1, 2])
        channel.write(3)
        self.assertEqual(reader.read(timeout=0), [3])
        self.assertEqual(reader.read(block=False), [])
        self.assertFalse(reader.is_drained())

    def test_write_without_blocking_is_spelled_block_false_too(self):
        channel = AsyncGui.Channel(capacity=1)
        reader = channel.open_reader()
        channel.write('first', block=False)
        with self.assertRaises(BlockingIOError):
            channel.write('second', block=False)
        self.assertEqual(reader.read(5, block=False), ['first'])

    def test_the_timeout_bounds_the_whole_read_not_each_item(self):
        # Items come every 20 ms, well within a timeout of 0.1 s each: a
        # timeout per item would wait for all fifty.
        channel = AsyncGui.Channel(capacity=64)
        reader = channel.open_reader()

        def produce():
            try:
                for i in range(50):
                    channel.write(i)
                    stop.wait(0.02)
            except BrokenPipeError:
                pass

        stop = threading.Event()
        producer = threading.Thread(target=produce)
        producer.start()
        got = reader.read(50, timeout=0.1)
        stop.set()
        reader.close()
        producer.join(agtest.SAFETY_S)
        self.assertGreater(len(got), 0)
        self.assertLess(len(got), 50)
        self.assertEqual(got, list(range(len(got))))

    def test_pipe_refuses_the_async_spelling_max_chunksize_and_names_the_right_one(self):
        with self.assertRaisesRegex(TypeError, "'max_chunk_size'"):
            AsyncGui.pipe(double, 10, max_chunksize=4)
        with self.assertRaisesRegex(TypeError, "'max_chunk_size'"):
            AsyncGui.pipe(double, 10).pipe(add_one, max_chunksize=4)
        with self.assertRaisesRegex(TypeError, "'chunk'"):
            AsyncGui.pipe(double, 10, chunk=4)

    def test_a_blocking_read_of_a_pipeline_inside_a_job_fails_at_once_instead_of_hanging(self):
        pipeline = AsyncGui.pipe(double, 3, engine=self.engine)

        @self.engine.job
        def reader():
            yield Task(identity, 1)  # from here on inside a delivery
            started = GLib.get_monotonic_time()
            with self.assertRaises(GLib.Error) as refused:
                pipeline.read(3)
            self.assertLess(GLib.get_monotonic_time() - started, 500000)
            self.assertTrue(refused.exception.matches(AsyncGui.error_quark(),
                                                      AsyncGui.Error.WOULD_DEADLOCK))
            # It says what to write instead, in Python.
            self.assertIn('read_items', ''.join(refused.exception.__notes__))
            return (yield pipeline.read_items(3))

        self.assertEqual(self.run_job(reader()).result(), [0, 2, 4])


PLAIN_SCRIPT = """
import sys
import gi
gi.require_version('AsyncGui', '1')
from gi.repository import AsyncGui

def square(x):
    return x * x

# No main loop runs here: the blocking reads drive the engine.
everything = AsyncGui.pipe(square, range(100)).read(timeout=%(safety)d)
one_by_one = list(AsyncGui.pipe(square, range(100)).pipe(str))
channel = AsyncGui.pipe(square, 100)
first = channel.read(10, timeout=%(safety)d)
rest = channel.read(timeout=%(safety)d)
print(len(everything), everything == [x * x for x in range(100)],
      one_by_one == [str(x * x) for x in range(100)], first + rest == everything)
"""


class PlainScriptTest(agtest.unittest.TestCase):
    def test_a_plain_script_reads_every_output_of_a_pipeline_without_a_main_loop(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, 'script.py')
            with open(path, 'w') as f:
                f.write(PLAIN_SCRIPT % {'safety': agtest.SAFETY_S})
            done = subprocess.run(['/usr/bin/python3', path], capture_output=True, text=True,
                                  timeout=4 * agtest.SAFETY_S)
        self.assertEqual(done.stderr, '')
        self.assertEqual(done.returncode, 0)
        self.assertEqual(done.stdout.split(), ['100', 'True', 'True', 'True'])


class ChannelTransformTest(agtest.JobTestCase):
    def test_write_transform_changes_each_item_on_the_writing_thread(self):
        threads = []

        def plus_one(value):
            threads.append(threading.get_ident())
            return value + 1

        channel = AsyncGui.Channel(64)
        channel.set_write_transform(plus_one)
        reader = channel.open_reader()
        channel.write(1)
        writer = threading.Thread(target=channel.write, args=(41,))
        writer.start()
        writer.join(agtest.SAFETY_S)

        @self.engine.job
        def write_in_a_job():
            yield channel.write_item(99)

        self.run_job(write_in_a_job()).result()
        self.assertEqual(reader.read(3, timeout=0), [2, 42, 100])
        self.assertEqual(threads, [MAIN_THREAD, writer.ident, MAIN_THREAD])

    def test_read_transform_changes_each_item_on_the_reading_thread(self):
        token = Token('t')
        threads = []

        def describe(value):
            threads.append(threading.get_ident())
            return (value, token)

        channel = AsyncGui.Channel(8)
        channel.set_read_transform(describe)
        reader = channel.open_reader()
        for i in range(3):
            channel.write(i)

        got = []
        thread = threading.Thread(target=lambda: got.extend(reader.read(1)))
        thread.start()
        thread.join(agtest.SAFETY_S)

        @self.engine.job
        def read_in_a_job():
            return (yield reader.read_items(2))

        got.extend(self.run_job(read_in_a_job()).result())
        self.assertEqual(got, [(0, token), (1, token), (2, token)])
        self.assertIs(got[2][1], token)
        self.assertEqual(threads, [thread.ident, MAIN_THREAD, MAIN_THREAD])

    def test_a_transform_set_once_the_channel_is_in_use_is_refused(self):
        read_from = AsyncGui.Channel(capacity=2)
        read_from.open_reader()
        written = AsyncGui.Channel(capacity=2)
        written.write(1)
        for channel in (read_from, written):
            for setter in (channel.set_read_transform, channel.set_write_transform):
                with self.assertRaisesRegex(RuntimeError, 'before it is first written'):
                    setter(str)

    def test_write_transform_exception_reaches_the_writer_itself(self):
        raised = []

        def refuse_odd(value):
            if value % 2:
                raised.append(BadInput(value))
                raise raised[-1]
            return value

        channel = AsyncGui.Channel(8)
        channel.set_write_transform(refuse_odd)
        reader = channel.open_reader()
        caught = []

        def write_from_a_thread():
            try:
                channel.write(1)
            except BadInput as error:
                caught.append(error)

        writer = threading.Thread(target=write_from_a_thread)
        writer.start()
        writer.join(agtest.SAFETY_S)
        with self.assertRaises(BadInput) as blocking:
            channel.write(3)

        @self.engine.job
        def write_in_a_job():
            try:
                yield channel.write_item(5)
            except BadInput as error:
                return error

        in_job = self.run_job(write_in_a_job()).result()
        channel.write(4)
        self.assertEqual(len(raised), 3)
        self.assertIs(caught[0], raised[0])
        self.assertIs(blocking.exception, raised[1])
        self.assertIs(in_job, raised[2])
        # Nothing was stored for them.
        self.assertEqual(reader.read(8, timeout=0), [4])

    def test_read_transform_exception_reaches_the_reader_itself(self):
        raised = []

        def refuse(value):
            if value in (2, 5):
                raised.append(BadInput(value))
                raise raised[-1]
            return -value

        channel = AsyncGui.Channel(8)
        channel.set_read_transform(refuse)
        reader = channel.open_reader()
        for i in range(7):
            channel.write(i)
        channel.close()

        # The items before the failing one, then its exception, then the rest.
        self.assertEqual(reader.read(4, timeout=0), [0, -1])
        with self.assertRaises(BadInput) as blocking:
            reader.read(4, timeout=0)
        self.assertIs(blocking.exception, raised[0])

        @self.engine.job
        async def read_in_a_job():
            got = []
            try:
                async for item in reader:
                    got.append(item)
            except BadInput as error:
                return got, error

        got, error = self.run_job(read_in_a_job()).result()
        self.assertEqual(got, [-3, -4])
        self.assertIs(error, raised[1])
        self.assertEqual(reader.read(4, timeout=0), [-6])
        self.assertTrue(reader.is_drained())

    def test_introspected_transform_returns_through_its_handle(self):
        # What the override builds on: the handle, used directly.
        Raw = AsyncGui.Channel.__mro__[1]
        kept = []

        def keep_and_double(transform, value):
            kept.append(transform)
            transform.return_value(GObject.Value(GObject.TYPE_INT, 2 * value))

        channel = AsyncGui.Channel(8)
        Raw.set_write_transform(channel, keep_and_double)
        reader = channel.open_reader()
        channel.write(1)
        channel.write(2)
        self.assertEqual(reader.read(2, timeout=0), [2, 4])
        # A kept handle is not reused, and using it late is refused.
        self.assertIsNot(kept[0], kept[1])
        GLib.test_expect_message('AsyncGui', GLib.LogLevelFlags.LEVEL_CRITICAL, '*not running*')
        kept[0].return_value(GObject.Value(GObject.TYPE_INT, 100))
        GLib.test_assert_expected_messages_internal('AsyncGui', __file__, 0, 'late return')
        self.assertEqual(reader.read(2, timeout=0), [])

        silent = AsyncGui.Channel(8)
        Raw.set_write_transform(silent, lambda transform, value: None)
        silent_reader = silent.open_reader()
        with self.assertRaises(GLib.Error) as nothing:
            silent.write(1)
        self.assertTrue(nothing.exception.matches(AsyncGui.error_quark(),
                                                  AsyncGui.Error.NO_RESULT))
        self.assertEqual(silent_reader.read(1, timeout=0), [])

    def test_an_exception_nobody_raised_does_not_keep_its_channel(self):
        channel = AsyncGui.Channel(8)

        def fail_at_one(value):
            if value == 1:
                raise BadInput(channel)
            return value

        channel.set_read_transform(fail_at_one)
        reader = channel.open_reader()
        channel.write(0)
        channel.write(1)
        # The exception, which refers to the channel, waits for a read
        # that never comes.
        self.assertEqual(reader.read(2, timeout=0), [0])
        gone = weakref.ref(channel)
        del channel, reader, fail_at_one
        gc.collect()
        self.assertIsNone(gone())


class DependencyTest(agtest.JobTestCase):
    def test_dependent_task_sees_the_value_of_its_dependency(self):
        loads = Calls(identity)

        @self.engine.job
        def handler():
            load = Task(loads, 21)
            doubled = load.and_then(double)
            value = yield doubled
            plus_one = Task(lambda: AsyncGui.dependency_value(0) + 1)
            plus_one.add_dependency(load)
            other = yield plus_one
            return value, other

        self.assertEqual(self.run_job(handler()).result(), (42, 22))
        # The dependency ran once, although two tasks needed it.
        self.assertEqual(loads.seen, [21])

    def test_dependent_task_fails_with_its_dependency_exception_without_running(self):
        ran = []

        @self.engine.job
        def handler():
            broken = Task(raise_bad, 4)
            after = Task(ran.append, 'after')
            after.add_dependency(broken)
            try:
                yield after
            except BadInput as error:
                first = error
            try:
                yield Task(raise_bad, 5).and_then(ran.append).and_then(ran.append)
            except BadInput as error:
                second = error
            return first, second, broken.gtask.get_state(), after.gtask.get_state()

        first, second, broken_state, after_state = self.run_job(handler()).result()
        self.assertEqual((first.item, second.item), (4, 5))
        self.assertEqual(ran, [])
        self.assertEqual(broken_state, AsyncGui.TaskState.FAILED)
        self.assertEqual(after_state, AsyncGui.TaskState.FAILED)

    def test_python_task_depends_on_gobject_tasks(self):
        def gi_work(gtask, *unused):
            gtask.return_int(41)

        def gi_failure(gtask, *unused):
            gtask.return_error(GLib.Error.new_literal(Gio.io_error_quark(), 'no disk',
                                                      int(Gio.IOErrorEnum.NO_SPACE)))

        ran = []

        @self.engine.job
        def handler():
            answer = Task(lambda: AsyncGui.dependency_value() + 1)
            answer.add_dependency(AsyncGui.Task.new(gi_work))
            value = yield answer
            blocked = Task(ran.append, 'blocked')
            blocked.add_dependency(AsyncGui.Task.new(gi_failure))
            try:
                yield blocked
            except GLib.Error as error:
                return value, error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NO_SPACE)

        self.assertEqual(self.run_job(handler()).result(), (42, True))
        self.assertEqual(ran, [])

    def test_list_runs_a_dependency_once_before_the_task_that_needs_it(self):
        loads = Calls(identity)

        @self.engine.job
        def handler():
            load = Task(loads, 'data')
            use = load.and_then(lambda value: value.upper())
            values = yield [use, load]
            return values

        self.assertEqual(self.run_job(handler()).result(), ['DATA', 'data'])
        self.assertEqual(loads.seen, ['data'])

    def test_bad_dependency_is_refused(self):
        with self.assertRaises(TypeError):
            Task(identity, 1).add_dependency(lambda: 1)

    def test_dependency_cycle_raises_value_error_and_adds_nothing(self):
        first = Task(identity, 1)
        second = first.and_then(lambda value: value + 1)
        with self.assertRaises(ValueError):
            first.add_dependency(second)
        with self.assertRaises(ValueError):
            first.add_dependency(first)
        self.assertEqual(first.gtask.get_n_dependencies(), 0)

        @self.engine.job
        def handler():
            return (yield second)

        self.assertEqual(self.run_job(handler()).result(), 2)


class PipelineTest(agtest.JobTestCase):
    def settle(self):
        self.run_loop_for(0.05)

    def finish(self, pipeline):
        pipeline.cancel()
        self.run_loop_until(pipeline.gtask.is_finished)

    def test_reading_two_of_an_endless_pipeline_calls_the_function_twice(self):
        doubles = Calls(double)
        numbers = AsyncGui.pipe(doubles, None)

        @self.engine.job
        def handler():
            items = yield numbers.read_items(2)
            return items

        self.assertEqual(self.run_job(handler()).result(), [0, 2])
        self.settle()
        self.assertEqual(doubles.count, 2)
        self.assertEqual(numbers.gtask.get_state(), AsyncGui.TaskState.RUNNING)
        self.finish(numbers)

    def test_min_count_runs_a_batch_per_read(self):
        doubles = Calls(double)
        numbers = AsyncGui.pipe(doubles, None, min_count=5)

        @self.engine.job
        async def read(count):
            return await numbers.read_items(count)

        self.assertEqual(self.run_job(read(1)).result(), [0])
        self.settle()
        self.assertEqual(doubles.count, 5)
        # The other four waited in the channel: reading them runs nothing.
        self.assertEqual(self.run_job(read(4)).result(), [2, 4, 6, 8])
        self.settle()
        self.assertEqual(doubles.count, 5)
        self.finish(numbers)

    def test_failure_gives_the_outputs_before_it_then_the_original_exception(self):
        @self.engine.job
        async def iterate():
            got = []
            numbers = AsyncGui.pipe(Calls(double, fail_at=3), None)
            try:
                async for y in numbers:
                    got.append(y)
            except BadInput as error:
                return got, error, numbers.gtask.get_state()

        got, error, state = self.run_job(iterate()).result()
        self.assertEqual(got, [0, 2, 4])
        self.assertIs(type(error), BadInput)
        self.assertEqual(error.item, 3)
        self.assertEqual(state, AsyncGui.TaskState.FAILED)

        @self.engine.job
        def read_in_batches():
            numbers = AsyncGui.pipe(Calls(double, fail_at=3), 10)
            first = yield numbers.read_items(10)
            try:
                yield numbers.read_items(10)
            except BadInput as error:
                return first, error.item

        self.assertEqual(self.run_job(read_in_batches()).result(), ([0, 2, 4], 3))

        @self.engine.job
        async def await_all():
            await AsyncGui.pipe(Calls(double, fail_at=3), 10)

        with self.assertRaises(BadInput):
            self.run_job(await_all()).result()

    def test_stage_exception_travels_in_c_as_an_error_with_its_detail(self):
        @self.engine.job
        async def iterate():
            first = AsyncGui.pipe(Calls(double, fail_at=3), None)
            upstream = first.gtask
            last = first.pipe(add_one)
            try:
                async for unused in last:
                    pass
            except BadInput as error:
                return upstream, last.gtask, error

        upstream, downstream, error = self.run_job(iterate()).result()
        for gtask in (upstream, downstream):
            # What a C, GJS or Vala reader sees: an asyncgui error that
            # names the exception, and a detail.
            gerror = gtask.get_error()
            self.assertTrue(gerror.matches(AsyncGui.error_quark(), AsyncGui.Error.FAILED))
            self.assertEqual(gerror.message, 'BadInput: input 3 is bad')
            self.assertIsNotNone(gtask.get_error_detail())
        self.assertEqual(error.item, 3)

    def test_awaiting_a_pipeline_gives_every_output_in_input_order(self):
        @self.engine.job
        async def handler():
            squares = await AsyncGui.pipe(lambda x: x * x, 500, capacity=16)
            empty = await AsyncGui.pipe(double, 0)
            return squares, empty

        squares, empty = self.run_job(handler()).result()
        self.assertEqual(squares, [x * x for x in range(500)])
        self.assertEqual(empty, [])

    def test_python_iterable_source_is_consumed_lazily(self):
        pulled = []
        closed = []

        def numbers():
            try:
                i = 0
                while True:
                    self.assertEqual(threading.get_ident(), MAIN_THREAD)
                    pulled.append(i)
                    yield i
                    i += 1
            finally:
                closed.append(True)

        doubles = Calls(double)
        pipeline = AsyncGui.pipe(doubles, numbers())
        self.settle()
        # Nothing is taken before the pipeline runs.
        self.assertEqual(pulled, [])

        @self.engine.job
        def handler():
            items = yield pipeline.read_items(3)
            return items

        self.assertEqual(self.run_job(handler()).result(), [0, 2, 4])
        self.settle()
        self.assertEqual(doubles.count, 3)
        self.assertLessEqual(len(pulled), 3 + 2)

        # Stopping the pipeline stops, and closes, the generator.
        pipeline.close()
        self.run_loop_until(lambda: closed)
        self.assertEqual(pipeline.gtask.get_state(), AsyncGui.TaskState.CANCELLED)

    def test_python_source_ends_and_its_exception_comes_after_its_items(self):
        def five_then_broken():
            yield from range(5)
            raise BadSource('no more')

        @self.engine.job
        async def handler():
            whole = await AsyncGui.pipe(Token, ['a', 'b', 'c'])
            got = []
            try:
                async for y in AsyncGui.pipe(double, five_then_broken()):
                    got.append(y)
            except BadSource as error:
                return whole, got, str(error)

        whole, got, message = self.run_job(handler()).result()
        self.assertEqual([token.name for token in whole], ['a', 'b', 'c'])
        self.assertEqual(got, [0, 2, 4, 6, 8])
        self.assertEqual(message, 'no more')

    def test_a_worker_thread_reads_a_pipeline_with_blocking_calls(self):
        got = {}

        def read_in_a_thread():
            try:
                numbers = AsyncGui.pipe(double, iter(range(20)), engine=self.engine)
                got['first'] = numbers.read(5)
                got['rest'] = list(numbers)
                got['end'] = numbers.read()
                got['failed'] = []
                try:
                    for y in AsyncGui.pipe(Calls(double, fail_at=2), 10, engine=self.engine):
                        got['failed'].append(y)
                except BadInput as error:
                    got['error'] = error.item
            finally:
                # The loop waits for this: wake it to see.
                finished.set()
                self.context.wakeup()

        finished = threading.Event()
        reader = threading.Thread(target=read_in_a_thread)
        reader.start()
        self.run_loop_until(finished.is_set)
        reader.join(agtest.SAFETY_S)
        self.assertEqual(got['first'], [0, 2, 4, 6, 8])
        self.assertEqual(got['rest'], [2 * i for i in range(5, 20)])
        self.assertEqual(got['end'], [])
        self.assertEqual((got['failed'], got['error']), ([0, 2], 2))

    def test_outputs_are_python_objects_as_returned(self):
        token = Token('t')

        @self.engine.job
        async def handler():
            return await AsyncGui.pipe(lambda x: (x, token) if x else None, 3)

        outputs = self.run_job(handler()).result()
        self.assertEqual(outputs[0], None)
        self.assertEqual([o[0] for o in outputs[1:]], [1, 2])
        self.assertIs(outputs[2][1], token)

    def test_stages_chain_and_demand_travels_upstream(self):
        doubles = Calls(double)
        increments = Calls(add_one)
        first = AsyncGui.pipe(doubles, None)
        upstream = first.gtask
        second = first.pipe(increments)

        @self.engine.job
        def handler():
            items = yield second.read_items(3)
            return items

        self.assertEqual(self.run_job(handler()).result(), [1, 3, 5])
        self.settle()
        self.assertEqual((doubles.count, increments.count), (3, 3))
        self.assertEqual(upstream.get_state(), AsyncGui.TaskState.RUNNING)
        with self.assertRaises(RuntimeError):
            first.read_items(1)
        self.finish(second)
        self.run_loop_until(upstream.is_finished)

    def test_upstream_exception_reaches_the_last_stage(self):
        @self.engine.job
        async def handler():
            got = []
            plus_one = AsyncGui.pipe(Calls(double, fail_at=2), None).pipe(add_one)
            try:
                async for y in plus_one:
                    got.append(y)
            except BadInput as error:
                return got, error.item

        self.assertEqual(self.run_job(handler()).result(), ([1, 3], 2))

    def test_closing_the_consumer_cancels_the_pipeline(self):
        doubles = Calls(double)
        numbers = AsyncGui.pipe(doubles, None)

        @self.engine.job
        def handler():
            items = yield numbers.read_items(2)
            numbers.close()
            return items

        self.assertEqual(self.run_job(handler()).result(), [0, 2])
        self.run_loop_until(numbers.gtask.is_finished)
        self.assertEqual(numbers.gtask.get_state(), AsyncGui.TaskState.CANCELLED)
        calls = doubles.count
        self.settle()
        self.assertEqual(doubles.count, calls)
        with self.assertRaises(ValueError):
            numbers.read_items(1)

    def test_cancelling_a_job_reading_a_pipeline_stops_it_while_the_job_is_kept(self):
        # An application keeps its job (self.job = ...): the pipeline its
        # loop read stops with the loop, not when the job goes.
        closed = []

        def numbers():
            try:
                yield from itertools.count()
            finally:
                closed.append(True)

        pipeline = AsyncGui.pipe(double, numbers())

        @self.engine.job
        async def loop():
            async for item in pipeline.pipe(double):
                pass

        self.job = loop()
        self.run_loop_for(0.1)
        self.job.cancel()
        self.run_loop_until(lambda: closed, timeout_s=5)
        self.assertEqual(self.job.state, AsyncGui.TaskState.CANCELLED)
        self.assertEqual(pipeline.gtask.get_state(), AsyncGui.TaskState.CANCELLED)

    def test_dropping_the_pipeline_cancels_it_and_the_stages_before(self):
        doubles = Calls(double)
        first = AsyncGui.pipe(doubles, None)
        upstream = first.gtask
        last = first.pipe(add_one)
        downstream = last.gtask
        del first

        @self.engine.job
        async def take_three(pipeline):
            got = []
            async for y in pipeline:
                got.append(y)
                if len(got) == 3:
                    break
            return got

        job = take_three(last)
        del last
        self.assertEqual(self.run_job(job).result(), [1, 3, 5])
        self.run_loop_until(lambda: upstream.is_finished() and downstream.is_finished())
        self.assertEqual(downstream.get_state(), AsyncGui.TaskState.CANCELLED)
        self.assertEqual(upstream.get_state(), AsyncGui.TaskState.CANCELLED)
        calls = doubles.count
        self.settle()
        self.assertEqual(doubles.count, calls)

    def test_whole_chunks_go_to_the_function_as_lists(self):
        sizes = []

        def chunk_sum(chunk):
            self.assertIs(type(chunk), list)
            sizes.append(len(chunk))
            return [sum(chunk)]

        @self.engine.job
        async def handler():
            sums = await AsyncGui.pipe(chunk_sum, 100, apply_single=False, max_chunk_size=10)
            thirds = await AsyncGui.pipe(lambda chunk: [x for x in chunk if x % 3 == 0],
                                         list(range(10)),
                                         apply_single=False)
            return sums, thirds

        sums, thirds = self.run_job(handler()).result()
        self.assertEqual(sum(sums), 99 * 100 // 2)
        self.assertEqual(len(sums), len(sizes))
        self.assertLessEqual(max(sizes), 10)
        self.assertEqual(thirds, [0, 3, 6, 9])

    def test_list_model_and_channel_reader_sources(self):
        store = Gio.ListStore.new(Gio.SimpleAction)
        for i in range(5):
            store.append(Gio.SimpleAction.new('action%d' % i, None))
        channel = AsyncGui.Channel(capacity=4)
        inputs = channel.open_reader()

        def produce():
            with channel:
                for i in range(10, 13):
                    channel.write(i)

        @self.engine.job
        async def handler():
            names = await AsyncGui.pipe(lambda action: action.get_name(), store)
            doubled = await AsyncGui.pipe(double, inputs)
            return names, doubled

        producer = threading.Thread(target=produce)
        producer.start()
        names, doubled = self.run_job(handler()).result()
        producer.join()
        self.assertEqual(names, ['action%d' % i for i in range(5)])
        self.assertEqual(doubled, [20, 22, 24])

    def test_bad_arguments_are_refused(self):
        with self.assertRaises(TypeError):
            AsyncGui.pipe(double, 3.5)
        with self.assertRaises(ValueError):
            AsyncGui.pipe(double, -2)
        with self.assertRaises(TypeError):
            AsyncGui.pipe('not callable', 3)
        with self.assertRaises(ValueError):
            AsyncGui.pipe(double, 3, capacity=0)
        with self.assertRaisesRegex(ValueError, 'min_count must be 1 or more'):
            AsyncGui.pipe(double, 3, min_count=0)

    def test_an_async_stage_function_is_refused(self):
        # It would give coroutine objects, never run, as outputs.
        async def doubled(x):
            return 2 * x

        with self.assertRaisesRegex(TypeError, 'returns its output'):
            AsyncGui.pipe(doubled, 3)

        @self.engine.job
        def read():
            return (yield AsyncGui.pipe(lambda x: doubled(x), 3))

        with self.assertRaisesRegex(TypeError, 'returns its output'):
            self.run_job(read()).result()


class FreeingTest(agtest.JobTestCase):
    """What Python data an AgTask owns (a Task's value and exception, a
    pipeline's stages) must not refer back to it: such a cycle through C
    is never collected."""

    def test_finished_tasks_and_pipelines_free_what_they_made(self):
        made = []

        def make(*unused):
            token = Token(len(made))
            made.append(weakref.ref(token))
            return token

        def fail(*unused):
            error = BadInput(len(made))
            made.append(weakref.ref(error))
            raise error

        @self.engine.job
        async def handler():
            await Task(make)
            await Task(make).and_then(make)
            try:
                await Task(fail)
            except BadInput:
                pass
            try:
                await Task(make).and_then(fail)
            except BadInput:
                pass
            await AsyncGui.pipe(make, 2)
            try:
                await AsyncGui.pipe(fail, 2)
            except BadInput:
                pass
            # Locals that hold the failed task or pipeline: the exception's
            # traceback keeps this frame.
            load = Task(make)
            broken = load.and_then(fail)
            try:
                await broken
            except BadInput:
                pass
            failing = AsyncGui.pipe(fail, None, max_workers=1).pipe(make)
            try:
                async for unused in failing:
                    pass
            except BadInput:
                pass

        self.run_job(handler()).result()
        self.assertGreaterEqual(len(made), 12)

        def all_freed():
            gc.collect()
            return all(ref() is None for ref in made)
        # The last references go at deliveries; a timer wakes the loop to look.
        ticks = GLib.timeout_add(10, lambda: GLib.SOURCE_CONTINUE)
        try:
            self.run_loop_until(all_freed)
        finally:
            GLib.source_remove(ticks)


class SerialPipelineTest(agtest.JobTestCase):
    """An engine without threads runs pipeline functions on its own thread,
    in input order: the same run every time."""

    max_threads = 0

    def test_serial_pipeline_is_deterministic(self):
        runs = []
        for run in range(2):
            doubles = Calls(double)
            numbers = AsyncGui.pipe(doubles, None, max_chunk_size=3, capacity=4)

            @self.engine.job
            def handler():
                items = yield numbers.read_items(10)
                return items

            self.assertEqual(self.run_job(handler()).result(), [2 * i for i in range(10)])
            self.assertEqual(doubles.seen, list(range(10)))
            self.assertEqual(doubles.threads, {MAIN_THREAD})
            runs.append(list(doubles.seen))
            numbers.close()
            self.run_loop_until(numbers.gtask.is_finished)
        self.assertEqual(runs[0], runs[1])

    def test_serial_pipeline_of_a_generator_with_a_failing_stage(self):
        doubles = Calls(double, fail_at=4)

        @self.engine.job
        async def handler():
            got = []
            try:
                async for y in AsyncGui.pipe(doubles, iter(range(100))).pipe(add_one):
                    got.append(y)
            except BadInput as error:
                return got, error.item

        self.assertEqual(self.run_job(handler()).result(), ([1, 3, 5, 7], 4))
        self.assertEqual(doubles.seen, [0, 1, 2, 3, 4])


if __name__ == '__main__':
    sys.exit(agtest.main(ChannelTest, PortingFromAsyncTest, PlainScriptTest, ChannelTransformTest,
                         DependencyTest, PipelineTest, FreeingTest, SerialPipelineTest))
