#!/usr/bin/python3
# test_jobs.py: what the Python overrides add beyond the shared scenarios
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import gc
import io
import sys
import threading
import time
import traceback

import agtest
from agtest import identity
from agtest import MAIN_THREAD, now_ms
from gi.repository import AsyncGui, Gio, GLib, GObject
from gi.repository.AsyncGui import MultiTask, Task


class RichError(Exception):
    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def raise_rich(code):
    raise RichError('rich failure %d' % code, code)


def fail_at(position, value, delay=0.0):
    if delay:
        time.sleep(delay)
    if value == position:
        raise RichError('item %d failed' % value, value)
    return value


class QuietTestCase(agtest.JobTestCase):
    """Fails a test whose code made the library log a critical or a
    warning: the C tests make them fatal, and so must these. Each message
    is caught by a log handler of the AsyncGui domain and checked when the
    test ends."""

    LEVELS = (GLib.LogLevelFlags.LEVEL_CRITICAL | GLib.LogLevelFlags.LEVEL_WARNING
              | GLib.LogLevelFlags.FLAG_FATAL | GLib.LogLevelFlags.FLAG_RECURSION)

    def setUp(self):
        super().setUp()
        self.logged = []
        self.log_handler = GLib.log_set_handler('AsyncGui', self.LEVELS, self._on_log)

    def _on_log(self, domain, level, message, *unused):
        self.logged.append('%s: %s' % (domain, message))

    def assert_quiet(self):
        """Checks that nothing was logged so far."""
        logged, self.logged = self.logged, []
        self.assertEqual(logged, [])

    def tearDown(self):
        super().tearDown()
        GLib.log_remove_handler('AsyncGui', self.log_handler)
        self.assert_quiet()


class NamesTest(QuietTestCase):
    def test_task_is_a_light_description_and_names_the_gi_class_too(self):
        task = Task(identity, 1)
        self.assertIsInstance(task, AsyncGui.Task)
        self.assertEqual(task(), 1)
        gtask = AsyncGui.Task.new_sleep(10)
        self.assertIsInstance(gtask, AsyncGui.Task)
        self.assertIsInstance(gtask, AsyncGui.TaskObject)
        # Each kind of task is a private subclass that GI shows as the task
        # class it knows.
        self.assertTrue(issubclass(type(gtask), AsyncGui.TaskObject))
        multi = AsyncGui.MultiTask.new()
        self.assertIsInstance(multi, AsyncGui.MultiTask)
        self.assertIsInstance(multi, AsyncGui.Task)
        self.assertTrue(issubclass(AsyncGui.MultiTaskObject, AsyncGui.Task))
        self.assertEqual(AsyncGui.Task.__gtype__, AsyncGui.TaskObject.__gtype__)
        self.assertEqual(GObject.type_name(AsyncGui.MultiTask.__gtype__), 'AgMultiTask')

    def test_cancelled_error_is_not_an_exception(self):
        self.assertTrue(issubclass(AsyncGui.CancelledError, BaseException))
        self.assertFalse(issubclass(AsyncGui.CancelledError, Exception))


class JobsTest(QuietTestCase):
    def test_original_exception_object_reaches_the_yield(self):
        seen = []

        @self.engine.job
        def handler():
            try:
                yield Task(raise_rich, 5)
            except RichError as error:
                seen.append(error)
            try:
                yield [Task(identity, 0), Task(raise_rich, 6), Task(raise_rich, 7)]
            except RichError as error:
                seen.append(error)

        self.run_job(handler())
        self.assertEqual([e.code for e in seen], [5, 6])
        self.assertEqual(str(seen[0]), 'rich failure 5')
        # The traceback reaches into the worker's function.
        frames = []
        tb = seen[0].__traceback__
        while tb is not None:
            frames.append(tb.tb_frame.f_code.co_name)
            tb = tb.tb_next
        self.assertIn('raise_rich', frames)

    def test_list_yield_is_parallel_and_ordered(self):
        @self.engine.job
        def handler():
            start = now_ms()
            values = yield [Task(identity, i, 0.2) for i in range(6)]
            empty = yield []
            pair = yield (Task(identity, 'x'), Task(identity, 'y'))
            return values, empty, pair, now_ms() - start

        values, empty, pair, elapsed = self.run_job(handler()).result()
        self.assertEqual(values, list(range(6)))
        self.assertEqual(empty, [])
        self.assertEqual(pair, ['x', 'y'])
        self.assertLess(elapsed, 1000)

    def test_a_job_started_on_a_disposed_engine_fails_without_running(self):
        # A handler may fire while its window and engine go away.
        engine = AsyncGui.Engine.new_for_context(self.context)
        engine.run_dispose()
        ran = []

        @engine.job
        def generator():
            ran.append('generator')
            yield Task(pow, 2, 3)

        @engine.job
        async def coroutine():
            ran.append('coroutine')

        for job in (generator(), coroutine()):
            self.assertEqual(job.state, AsyncGui.TaskState.FAILED)
            with self.assertRaises(GLib.Error) as caught:
                job.result()
            self.assertTrue(caught.exception.matches(AsyncGui.error_quark(),
                                                     AsyncGui.Error.ENGINE_DISPOSED))
        self.assertEqual(ran, [])

    def test_long_list_of_trivial_tasks(self):
        @self.engine.job
        def handler():
            values = yield [Task(identity, i) for i in range(20000)]
            return values

        values = self.run_job(handler()).result()
        self.assertEqual(values, list(range(20000)))

    def test_skip_errors_and_first_failure_in_list_order(self):
        @self.engine.job
        def handler():
            # Item 1 fails late, item 3 early: the failure raised is item 1's.
            tasks = [Task(identity, 0), Task(fail_at, 1, 1, 0.2), Task(identity, 2),
                     Task(fail_at, 3, 3, 0.0)]
            try:
                yield MultiTask(tasks)
            except RichError as error:
                first = error.code
            kept = yield MultiTask(tasks, skip_errors=True)
            unordered = yield MultiTask([Task(identity, 'slow', 0.3), Task(identity, 'fast')],
                                        unordered=True)
            return first, kept, unordered

        self.assertEqual(self.run_job(handler()).result(), (1, [0, 2], ['fast', 'slow']))

    def test_mixed_list_of_gi_tasks_jobs_and_python_tasks(self):
        engine = self.engine

        @engine.job
        def inner():
            value = yield Task(identity, 'from a job', 0.05)
            return value

        def gi_work(gtask, *unused):
            gtask.return_int(41)

        @engine.job
        def handler():
            values = yield [Task(identity, 1), AsyncGui.Task.new(gi_work), inner(),
                            AsyncGui.sleep(0.05), [Task(identity, 'nested')]]
            try:
                yield [AsyncGui.Task.new_sleep(10), Task(raise_rich, 9)]
            except RichError as error:
                code = error.code
            return values, code

        values, code = self.run_job(handler()).result()
        self.assertEqual(values, [1, 41, 'from a job', None, ['nested']])
        self.assertEqual(code, 9)

    def test_a_multi_task_of_what_is_not_a_task_raises_type_error_naming_what_it_holds(self):
        with self.assertRaises(TypeError) as caught:
            MultiTask(42)
        self.assertIn('MultiTask() takes an iterable of tasks', str(caught.exception))
        for items in ([Task(identity, 1), 42], [None]):
            with self.assertRaises(TypeError) as caught:
                MultiTask(items).gtask
            self.assertIn('holds %r, which is not a task' % (items[-1],), str(caught.exception))
        seen = []

        @self.engine.job
        def generator():
            try:
                yield [Task(identity, 1), 42]
            except TypeError as error:
                seen.append(str(error))

        @self.engine.job
        async def coroutine():
            try:
                await MultiTask([None])
            except TypeError as error:
                seen.append(str(error))

        self.run_job(generator())
        self.run_job(coroutine())
        self.assertEqual(len(seen), 2)
        self.assertIn('holds 42, which is not a task', seen[0])
        self.assertIn('holds None, which is not a task', seen[1])

    def test_a_task_goes_in_several_lists_and_twice_in_one(self):
        def gi_work(gtask, *unused):
            gtask.return_int(41)

        gi_task = AsyncGui.Task.new(gi_work)
        task = Task(identity, 'made', 0.02)
        made = task.gtask

        @self.engine.job
        def handler():
            first = yield [gi_task, made]
            again = yield [made, gi_task, made, Task(identity, 'new')]
            return first, again

        first, again = self.run_job(handler()).result()
        self.assertEqual(first, [41, 'made'])
        self.assertEqual(again, ['made', 41, 'made', 'new'])

    def test_a_job_awaiting_itself_raises_runtime_error_at_the_yield(self):
        @self.engine.job
        def itself():
            try:
                yield AsyncGui.current_job()
            except RuntimeError as error:
                return str(error)

        self.assertIn('cannot await itself', self.run_job(itself()).result())

    def test_sleep_of_any_length_waits_until_cancelled(self):
        for seconds in (float('inf'), 1e12, 2**40):
            @self.engine.job
            def sleeper():
                yield AsyncGui.sleep(seconds)

            job = sleeper()
            self.run_loop_for(0.03)
            self.assertFalse(job.is_finished())
            job.cancel()
            self.run_job(job)
            self.assertEqual(job.get_state(), AsyncGui.TaskState.CANCELLED)
        with self.assertRaises(ValueError):
            AsyncGui.sleep(float('nan'))
        # A time already past sleeps not at all.
        self.assertEqual(AsyncGui.sleep(float('-inf')).get_state(), AsyncGui.TaskState.PENDING)

    def _stderr_once_collected(self, make_job):
        """What the library writes to stderr when a finished job that
        ``make_job()`` ran is collected."""
        job = make_job()
        self.run_job(job)
        captured = io.StringIO()
        stderr, sys.stderr = sys.stderr, captured
        try:
            job = None
            gc.collect()
            self.run_loop_for(0.01)
            gc.collect()
        finally:
            sys.stderr = stderr
        return captured.getvalue()

    def test_a_failure_nobody_asked_for_is_printed_once_the_job_goes(self):
        @self.engine.job
        def failing():
            yield Task(identity, 1)
            raise KeyError('unseen')

        printed = self._stderr_once_collected(failing)
        self.assertIn('nobody asked for its result', printed)
        self.assertIn("KeyError: 'unseen'", printed)

    def test_a_glib_error_ending_a_job_is_the_very_object_and_reported_if_unasked(self):
        raised = []

        def not_found(where):
            error = GLib.Error.new_literal(Gio.io_error_quark(), 'no %s' % where,
                                           int(Gio.IOErrorEnum.NOT_FOUND))
            raised.append(error)
            raise error

        @self.engine.job
        def raising():
            yield Task(identity, 1)
            not_found('job')

        @self.engine.job
        def awaiting():
            yield Task(not_found, 'task')

        for make in (raising, awaiting):
            job = self.run_job(make())
            self.assertIs(job.exception(), raised[-1])
            try:
                job.result()
            except GLib.Error as caught:
                self.assertIs(caught, raised[-1])
                self.assertIn('not_found', ''.join(traceback.format_tb(caught.__traceback__)))
            else:
                self.fail('result() raised nothing')
            # C sees the error's own domain and code.
            self.assertTrue(job.get_error().matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND))

        printed = self._stderr_once_collected(raising)
        self.assertIn('nobody asked for its result', printed)
        self.assertIn('no job', printed)

    def test_a_failure_raised_at_a_channel_or_pipeline_await_is_printed_once_the_job_goes(self):
        # What such an await raises must not hold the job through the
        # awaited call, or the job is never collected and its failure
        # never reported.
        def boom(item):
            raise KeyError('unseen %s' % item)

        def write_to_closed():
            channel = AsyncGui.Channel(capacity=1)
            channel.close()
            yield channel.write_item('x')

        def read_through_transform():
            channel = AsyncGui.Channel(capacity=1)
            channel.set_read_transform(boom)
            reader = channel.open_reader()
            channel.write('read')
            yield reader.read_items(1)

        def write_through_transform():
            channel = AsyncGui.Channel(capacity=1)
            channel.set_write_transform(boom)
            reader = channel.open_reader()
            yield channel.write_item('written')
            reader.close()

        def read_pipeline():
            yield AsyncGui.pipe(boom, ['piped'])

        for body, expected in ((write_to_closed, 'ValueError: The channel is closed'),
                               (read_through_transform, "KeyError: 'unseen read'"),
                               (write_through_transform, "KeyError: 'unseen written'"),
                               (read_pipeline, "KeyError: 'unseen piped'")):
            printed = self._stderr_once_collected(self.engine.job(body))
            self.assertIn(expected, printed, body.__name__)
            self.assertIn('nobody asked for its result', printed, body.__name__)

    def test_a_transform_failure_keeps_its_frames_as_a_note(self):
        def check(item):
            raise ValueError('bad item %r' % item)

        @self.engine.job
        def read():
            channel = AsyncGui.Channel(capacity=1)
            channel.set_read_transform(check)
            reader = channel.open_reader()
            channel.write(3)
            yield reader.read_items(1)

        failure = self.run_job(read()).exception()
        self.assertIsInstance(failure, ValueError)
        self.assertIn('in check', ''.join(failure.__notes__))

    def test_a_failure_another_job_caught_is_not_printed(self):
        @self.engine.job
        def inner():
            yield Task(identity, 1)
            raise KeyError('inner')

        @self.engine.job
        def outer():
            try:
                yield inner()
            except KeyError:
                pass
            try:
                yield [inner()]
            except KeyError:
                return 'handled'

        self.assertEqual(self._stderr_once_collected(outer), '')

    def test_async_for_gives_values_as_they_finish(self):
        arrivals = []

        @self.engine.job
        async def handler():
            start = now_ms()
            async for value in MultiTask([Task(identity, 'slow', 0.4),
                                          Task(identity, 'fast', 0.05)], unordered=True):
                arrivals.append((value, now_ms() - start))
            ordered = [v async for v in MultiTask([Task(identity, 'a', 0.2),
                                                    Task(identity, 'b', 0.01)])]
            return ordered

        job = self.run_job(handler())
        self.assertEqual(job.result(), ['a', 'b'])
        self.assertEqual([v for v, _ in arrivals], ['fast', 'slow'])
        # The fast one arrived long before the slow one finished.
        self.assertLess(arrivals[0][1], 390)

    def test_async_for_body_may_await_and_errors_arrive_in_the_loop(self):
        @self.engine.job
        async def handler():
            seen = []
            async for value in MultiTask([Task(identity, i, 0.02 * i) for i in range(4)],
                                         unordered=True):
                doubled = await Task(identity, value * 2)
                seen.append(doubled)
            skipped = []
            async for value in MultiTask([Task(fail_at, 1, i) for i in range(3)],
                                         skip_errors=True):
                skipped.append(value)
            try:
                async for value in MultiTask([Task(fail_at, 1, i) for i in range(3)]):
                    pass
            except RichError as error:
                failed = error.code
            return sorted(seen), skipped, failed

        self.assertEqual(self.run_job(handler()).result(), ([0, 2, 4, 6], [0, 2], 1))

    def test_return_result_for_async_gui_code(self):
        @self.engine.job
        def old_style():
            value = yield Task(identity, 3)
            AsyncGui.return_result(value * 2)
            yield Task(identity, 'never')

        @self.engine.job
        async def new_style():
            AsyncGui.return_result('async')

        self.assertEqual(self.run_job(old_style()).result(), 6)
        self.assertEqual(self.run_job(new_style()).result(), 'async')

    def test_a_job_started_on_another_thread_raises_runtime_error_naming_the_way(self):
        ran = []

        @self.engine.job
        def generator():
            ran.append('generator')
            yield Task(identity, 1)

        @self.engine.job
        async def coroutine():
            ran.append('coroutine')

        @self.engine.job
        def plain():
            ran.append('plain')

        def body():
            ran.append('body')
            yield Task(identity, 1)

        made = body()
        refused = []

        def start_all():
            for start in (generator, coroutine, plain, lambda: self.engine.start_job(made)):
                try:
                    start()
                except RuntimeError as error:
                    refused.append(error)

        # Nobody iterates the context: the engine's thread is the one that
        # made it, not another.
        thread = threading.Thread(target=start_all)
        thread.start()
        thread.join()
        # Another thread iterates it: that one is, and the one that made it
        # is not.
        owning, release = threading.Event(), threading.Event()

        def hold_context():
            self.assertTrue(self.context.acquire())
            owning.set()
            release.wait(agtest.SAFETY_S)
            self.context.release()

        thread = threading.Thread(target=hold_context)
        thread.start()
        owning.wait(agtest.SAFETY_S)
        try:
            start_all()
        finally:
            release.set()
            thread.join()
        self.assertEqual(len(refused), 8)
        for error in refused:
            self.assertIs(type(error), RuntimeError)
            self.assertIn("engine's thread", str(error))
            self.assertIn('GLib.idle_add', str(error))
        self.assertEqual(ran, [])
        self.assert_quiet()
        # The body refused is the caller's still, and starts on this thread.
        self.assertEqual(self.run_job(self.engine.start_job(made)).state,
                         AsyncGui.TaskState.SUCCEEDED)

    def test_job_starts_at_once_and_runs_to_the_first_yield(self):
        trace = []

        @self.engine.job
        def handler(a, b=0):
            trace.append(('started', threading.get_ident()))
            value = yield Task(identity, a + b)
            trace.append(('value', value))
            return value

        job = handler(1, b=2)
        self.assertEqual(trace, [('started', MAIN_THREAD)])
        self.assertEqual(job.state, AsyncGui.TaskState.RUNNING)
        self.assertFalse(job.finished)
        with self.assertRaises(AsyncGui.InvalidStateError):
            job.result()
        self.run_job(job)
        self.assertEqual(trace[-1], ('value', 3))
        self.assertTrue(job.finished)

    def test_methods_and_plain_functions(self):
        engine = self.engine

        class Window:
            factor = 10

            @engine.job
            def on_click(self, button):
                value = yield Task(identity, button)
                return value * self.factor

        self.assertEqual(self.run_job(Window().on_click(4)).result(), 40)

        @engine.job
        def plain(x):
            return x + 1

        job = plain(1)
        self.assertEqual(job.state, AsyncGui.TaskState.SUCCEEDED)
        self.assertEqual(job.result(), 2)

    def test_wait_and_result_with_timeouts(self):
        @self.engine.job
        def handler():
            value = yield Task(identity, 'waited', 0.3)
            return value

        job = handler()
        self.assertFalse(job.wait(0.01))
        with self.assertRaises(TimeoutError):
            job.result(timeout=0.01)
        self.assertTrue(job.wait(5))
        self.assertEqual(job.result(), 'waited')
        self.assertEqual(handler().result(timeout=5), 'waited')

    def test_a_timeout_longer_than_the_library_counts_means_no_limit(self):
        for seconds in (float('inf'), 1e12):
            @self.engine.job
            def handler():
                return (yield Task(identity, 'waited', 0.05))

            job = handler()
            self.assertTrue(job.wait(seconds))
            self.assertEqual(job.result(timeout=seconds), 'waited')
            channel = AsyncGui.Channel(capacity=1)
            reader = channel.open_reader()
            channel.write('x')
            channel.close()
            self.assertEqual(reader.read(1, timeout=seconds), ['x'])

    def test_a_negative_timeout_is_refused_not_taken_for_no_limit(self):
        # C's -1 means no limit, None does here; wait(deadline - now()) past
        # the deadline must not wait for ever either.
        @self.engine.job
        def handler():
            return (yield Task(identity, 'late', 0.2))

        job = handler()
        channel = AsyncGui.Channel(capacity=1)
        reader = channel.open_reader()
        channel.write('kept')
        for timeout in (-1, -0.001, float('-inf'), float('nan')):
            with self.assertRaisesRegex(ValueError, 'None for no limit'):
                job.wait(timeout)
            with self.assertRaisesRegex(ValueError, 'None for no limit'):
                job.result(timeout=timeout)
            with self.assertRaisesRegex(ValueError, 'None for no limit'):
                channel.write('more', timeout=timeout)
            with self.assertRaisesRegex(ValueError, 'None for no limit'):
                reader.read(1, timeout=timeout)
        self.assertEqual(reader.read(1, timeout=0), ['kept'])
        self.run_job(job)

    def test_value_for_other_languages(self):
        def returning(value):
            @self.engine.job
            def handler():
                yield Task(identity, None)
                return value
            return self.run_job(handler())

        self.assertEqual(returning(5).get_value(), 5)
        self.assertEqual(returning('text').get_value(), 'text')
        self.assertEqual(returning(True).get_value(), True)
        self.assertEqual(returning(2.5).get_value(), 2.5)
        self.assertIsNone(returning(None).get_value())
        value = {'a': [1, 2]}
        job = returning(value)
        self.assertIs(job.result(), value)
        self.assertEqual(job.get_value(), value)

    def test_cancel_is_one_shot_and_a_job_may_go_on(self):
        seen = []

        @self.engine.job
        def handler():
            try:
                yield Task(identity, 'first', 1.0)
            except AsyncGui.CancelledError:
                seen.append('cancelled')
            value = yield Task(identity, 'second', 0.05)
            seen.append(value)
            return value

        job = handler()
        self.at(50, job.cancel)
        self.run_job(job)
        self.assertEqual(seen, ['cancelled', 'second'])
        self.assertEqual(job.state, AsyncGui.TaskState.SUCCEEDED)

    def test_cancel_with_nothing_pending_hits_the_next_await(self):
        seen = []

        @self.engine.job
        def handler():
            AsyncGui.current_job().cancel()
            try:
                yield Task(identity, 'never seen')
            except AsyncGui.CancelledError:
                seen.append('cancelled at once')
            value = yield Task(identity, 'after')
            return value

        job = self.run_job(handler())
        self.assertEqual(seen, ['cancelled at once'])
        self.assertEqual(job.result(), 'after')

    def test_cancel_stops_a_long_list_early(self):
        ran = []

        def item(i):
            ran.append(i)
            time.sleep(0.01)

        @self.engine.job
        def handler():
            yield [Task(item, i) for i in range(2000)]

        job = handler()
        self.at(100, job.cancel)
        self.run_job(job)
        self.assertEqual(job.state, AsyncGui.TaskState.CANCELLED)
        count = len(ran)
        self.run_loop_for(0.2)
        self.assertLess(len(ran), 2000)
        self.assertLessEqual(len(ran) - count, self.max_threads)

    def test_cancel_during_async_for_stops_the_multi(self):
        ran = []

        def item(i):
            time.sleep(0.05)
            ran.append(i)
            return i

        @self.engine.job
        async def handler():
            async for value in MultiTask([Task(item, i) for i in range(200)], max_workers=2):
                pass

        job = handler()
        self.at(150, job.cancel)
        self.run_job(job)
        self.assertEqual(job.state, AsyncGui.TaskState.CANCELLED)
        self.run_loop_for(0.3)
        count = len(ran)
        self.run_loop_for(0.3)
        self.assertEqual(len(ran), count)
        self.assertLess(count, 200)

    def _loop_that_pauses_at_its_first_value(self, iterable, seen, outcome):
        @self.engine.job
        async def handler():
            try:
                async for value in iterable:
                    seen.append(value)
                    if len(seen) == 1:
                        AsyncGui.current_job().pause()
            except AsyncGui.CancelledError:
                outcome.append('cancelled')
            else:
                outcome.append('ended')

        job = handler()
        return job

    def _iterables_with_results_waiting(self):
        channel = AsyncGui.Channel.new(8)
        for i in range(4):
            channel.write(i)
        channel.close()
        multi = MultiTask([Task(identity, i) for i in range(4)])
        return {'MultiTask': multi, 'ChannelReader': channel.open_reader()}

    def test_async_for_holds_waiting_results_while_the_job_is_paused(self):
        for name, iterable in self._iterables_with_results_waiting().items():
            with self.subTest(iterable=name):
                seen, outcome = [], []
                job = self._loop_that_pauses_at_its_first_value(iterable, seen, outcome)
                self.run_loop_for(0.2)
                self.assertEqual(seen, [0])
                self.assertTrue(job.paused)
                job.resume()
                self.run_job(job)
                self.assertEqual(seen, [0, 1, 2, 3])
                self.assertEqual(outcome, ['ended'])

    def test_async_for_hands_a_paused_job_nothing_after_a_cancel(self):
        # However the cancel came: job.cancel(), or the AgJob's own cancel
        # (C code, GI) that bypasses the override.
        for cancel in (AsyncGui.Job.cancel, AsyncGui.TaskObject.cancel):
            for name, iterable in self._iterables_with_results_waiting().items():
                with self.subTest(iterable=name, override=cancel is AsyncGui.Job.cancel):
                    seen, outcome = [], []
                    job = self._loop_that_pauses_at_its_first_value(iterable, seen, outcome)
                    self.run_loop_for(0.2)
                    cancel(job)
                    self.run_job(job)
                    self.assertEqual(seen, [0])
                    self.assertEqual(outcome, ['cancelled'])

    def test_pause_holds_a_list_result(self):
        seen = {}

        @self.engine.job
        def handler():
            seen['values'] = yield [Task(identity, i, 0.05) for i in range(4)]
            seen['at'] = now_ms()

        job = handler()
        job.pause()
        resume_at = []
        self.at(300, lambda: (resume_at.append(now_ms()), job.resume()))
        self.run_job(job)
        self.assertEqual(seen['values'], [0, 1, 2, 3])
        self.assertGreaterEqual(seen['at'], resume_at[0])

    def test_pause_resume_and_cancel_of_an_ended_job_are_quiet(self):
        @self.engine.job
        def returns():
            return (yield Task(identity, 1))

        @self.engine.job
        def raises():
            yield Task(raise_rich, 2)

        def sleeps():
            yield AsyncGui.Task.new_sleep(5000)

        succeeded = self.run_job(returns())
        failed = self.run_job(raises())
        cancelled = self.engine.job(sleeps)()
        self.at(20, cancelled.cancel)
        self.run_job(cancelled)
        other_engine = AsyncGui.Engine.new_for_context(self.context)
        engine_gone = other_engine.job(sleeps)()
        other_engine.run_dispose()
        other_engine = None
        self.assertTrue(engine_gone.is_finished())

        for job, state in ((succeeded, AsyncGui.TaskState.SUCCEEDED),
                           (failed, AsyncGui.TaskState.FAILED),
                           (cancelled, AsyncGui.TaskState.CANCELLED),
                           (engine_gone, AsyncGui.TaskState.CANCELLED)):
            states = []
            job.connect('notify::state', lambda j, *unused: states.append(j.state))
            job.pause()
            job.resume()
            job.cancel()
            job.resume()
            job.pause()
            self.run_loop_for(0.02)
            self.assertEqual(job.state, state)
            self.assertEqual(states, [])
            self.assert_quiet()
        self.assertEqual(succeeded.result(), 1)
        failed.exception()

    def test_resuming_a_job_that_is_not_paused_raises_invalid_state_error(self):
        @self.engine.job
        def handler():
            return (yield Task(identity, 'done', 0.1))

        job = handler()
        with self.assertRaises(AsyncGui.InvalidStateError) as caught:
            job.resume()
        self.assertIn('not paused', str(caught.exception))
        job.pause()
        job.pause()
        job.resume()
        with self.assertRaises(AsyncGui.InvalidStateError):
            job.resume()
        self.assertFalse(job.paused)
        self.assertEqual(self.run_job(job).result(), 'done')
        job.resume()
        job.pause()
        self.assert_quiet()

    def test_pausing_or_resuming_on_another_thread_raises_runtime_error(self):
        @self.engine.job
        def handler():
            return (yield Task(identity, 'done', 0.1))

        job = handler()
        finished = self.run_job(handler())
        refused = []

        def control():
            for call in (job.pause, job.resume, finished.pause, finished.resume):
                try:
                    call()
                except RuntimeError as error:
                    refused.append(error)

        thread = threading.Thread(target=control)
        thread.start()
        thread.join()
        self.assertEqual([type(error) for error in refused], [RuntimeError] * 4)
        self.assertIn("engine's thread", str(refused[0]))
        self.assertFalse(job.paused)
        self.assertEqual(self.run_job(job).result(), 'done')
        self.assert_quiet()

    def test_throw_on_another_thread_raises_runtime_error_and_leaves_the_job_alone(self):
        @self.engine.job
        def handler():
            return (yield Task(identity, 'done', 0.1))

        job = handler()
        refused = []

        def control():
            try:
                job.throw(ValueError('from another thread'))
            except RuntimeError as error:
                refused.append(error)

        thread = threading.Thread(target=control)
        thread.start()
        thread.join()
        self.assertEqual(len(refused), 1)
        self.assertIn("engine's thread", str(refused[0]))
        self.assertEqual(self.run_job(job).result(), 'done')

    def test_resuming_a_paused_job_that_caught_its_cancel_is_quiet(self):
        @self.engine.job
        def handler():
            try:
                yield Task(identity, 'late', 1.0)
            except AsyncGui.CancelledError:
                pass
            return (yield Task(identity, 'cleaned up', 0.1))

        job = handler()
        job.pause()
        self.run_loop_for(0.05)
        job.cancel()
        self.run_loop_for(0.05)
        # The job caught the cancel and goes on; the button that paused it
        # resumes it.
        job.resume()
        self.assertEqual(self.run_job(job).result(), 'cleaned up')
        self.assert_quiet()

    def test_resume_and_pause_after_cancelling_a_paused_job_are_quiet(self):
        seen = []

        @self.engine.job
        def handler():
            try:
                yield Task(identity, 'late', 1.0)
            except AsyncGui.CancelledError:
                seen.append('cancelled')
                raise

        job = handler()
        job.pause()
        self.run_loop_for(0.05)
        job.cancel()
        job.resume()
        job.pause()
        self.assertEqual(job.state, AsyncGui.TaskState.RUNNING)
        start = now_ms()
        self.run_job(job)
        # Well before the 1 s the task sleeps.
        self.assertLess(now_ms() - start, 900)
        self.assertEqual(seen, ['cancelled'])
        self.assertEqual(job.state, AsyncGui.TaskState.CANCELLED)
        self.assert_quiet()

    def test_yielding_again_after_cancel_and_junk_in_a_loop_never_hangs(self):
        @self.engine.job
        def stubborn():
            for _ in range(50):
                try:
                    yield 123
                except TypeError:
                    pass
            return 'gave up'

        job = self.run_job(stubborn())
        self.assertEqual(job.result(), 'gave up')

        @self.engine.job
        def ignores_cancel():
            while True:
                try:
                    yield Task(identity, None, 0.05)
                except AsyncGui.CancelledError:
                    return 'noticed'

        job = ignores_cancel()
        self.at(100, job.cancel)
        self.run_job(job)
        self.assertEqual(job.result(), 'noticed')

    def test_awaiting_a_gi_task_someone_else_runs(self):
        def work(gtask, *unused):
            time.sleep(0.1)
            gtask.return_string('shared')

        gtask = AsyncGui.Task.new(work)
        self.engine.run_async(gtask, None, lambda *unused: None)

        @self.engine.job
        def handler():
            value = yield gtask
            return value

        self.assertEqual(self.run_job(handler()).result(), 'shared')

    def test_async_def_awaits_everything_a_generator_yields(self):
        @self.engine.job
        async def handler():
            a = await Task(identity, 1)
            b = await MultiTask([Task(identity, 2), Task(identity, 3)])
            c = await AsyncGui.Task.new_sleep(5)
            return a, b, c

        self.assertEqual(self.run_job(handler()).result(), (1, [2, 3], None))

    def test_materialized_multi_is_a_list_model(self):
        done = []

        @self.engine.job
        def handler():
            multi = MultiTask([Task(identity, i) for i in range(5)])
            gtask = multi.gtask
            self.assertEqual(gtask.get_n_items(), 5)
            gtask.connect('task-done', lambda m, position: done.append(position))
            values = yield multi
            return values

        self.assertEqual(self.run_job(handler()).result(), [0, 1, 2, 3, 4])
        self.assertEqual(done, [0, 1, 2, 3, 4])


def resident_kb():
    with open('/proc/self/status') as status:
        return int(status.read().split('VmRSS:')[1].split()[0])


class LongRunningTest(QuietTestCase):

    def test_tasks_awaited_one_after_another_leave_no_memory_behind(self):
        # A long-running application awaits tasks for hours: each await
        # and each task must give back what it took, also on PyGObject
        # 3.42 (Debian 12), which never frees a callback's trampoline.
        @self.engine.job
        def handler(n):
            for i in range(n):
                self.assertEqual((yield Task(identity, i)), i)

        self.run_job(handler(2000))   # warm the allocators
        gc.collect()
        before = resident_kb()
        self.run_job(handler(20000))
        gc.collect()
        grown = resident_kb() - before
        # Two trampolines lost per round (the task's function and the
        # await's callback) are 4 MB.
        self.assertLess(grown, 1024, 'resident memory grew by %d kB' % grown)

    def test_lists_slot_runs_and_channel_calls_leave_no_memory_behind(self):
        channel = AsyncGui.Channel(4)
        reader = channel.open_reader()
        slot = self.engine.slot()

        @self.engine.job
        def handler(n):
            for i in range(n):
                yield channel.write_item(i)
                self.assertEqual((yield reader.read_items(1)), [i])
                yield slot.run(AsyncGui.sleep(0))
                self.assertEqual((yield [Task(identity, i)]), [i])

        self.run_job(handler(1000))
        gc.collect()
        before = resident_kb()
        self.run_job(handler(6000))
        gc.collect()
        grown = resident_kb() - before
        # A trampoline lost per call would be 1.9 MB.
        self.assertLess(grown, 768, 'resident memory grew by %d kB' % grown)

    def test_pipelines_and_transforms_leave_no_memory_behind(self):
        def one_round(n):
            for i in range(n):
                self.assertEqual(AsyncGui.pipe(abs, range(2)).pipe(abs).read(), [0, 1])
                channel = AsyncGui.Channel(1)
                channel.set_write_transform(abs)
                channel.set_read_transform(abs)

        one_round(500)
        gc.collect()
        before = resident_kb()
        one_round(5000)
        gc.collect()
        grown = resident_kb() - before
        # A trampoline lost per stage and per transform would be 1.6 MB.
        self.assertLess(grown, 640, 'resident memory grew by %d kB' % grown)


class Concurrency:
    """Counts how many calls of enter() run at once. Each call waits until
    ``wanted`` run together (or ``timeout_s`` passed), blocked as an I/O
    call is: that is what lets the engine start threads beyond its
    max-threads."""

    def __init__(self, wanted, timeout_s=3.0):
        self.lock = threading.Condition()
        self.running = 0
        self.most = 0
        self.wanted = wanted
        self.timeout_s = timeout_s

    def enter(self, value):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.lock.notify_all()
            self.lock.wait_for(lambda: self.most >= self.wanted, self.timeout_s)
        time.sleep(0.01)
        with self.lock:
            self.running -= 1
        return value


class ListWorkersTest(QuietTestCase):
    """Lists of Tasks on an engine with as many threads as a small machine
    has processors: blocking tasks are not capped by them, and max_workers
    means what it says (async_gui's MultiTask)."""

    max_threads = 2

    def test_blocking_tasks_of_a_list_are_not_capped_by_the_threads(self):
        @self.engine.job
        def handler():
            start = time.monotonic()
            values = yield [Task(identity, i, 0.25) for i in range(8)]
            return values, time.monotonic() - start

        values, elapsed = self.run_job(handler()).result()
        self.assertEqual(values, list(range(8)))
        # Two threads at a time would take 1 s at least; ideal is 0.25 s.
        self.assertLess(elapsed, 0.9)

    def test_exceptions_are_the_error_details_in_c(self):
        failure = RichError('five', 5)

        def fail():
            raise failure

        multi = MultiTask([Task(identity, 0), Task(fail), Task(identity, 2)])
        gmulti = multi.gtask
        single = Task(fail).and_then(identity)

        @self.engine.job
        def handler():
            caught = []
            for awaited in (multi, single):
                try:
                    yield awaited
                except RichError as error:
                    caught.append(error)
            return caught

        self.assertEqual(self.run_job(handler()).result(), [failure, failure])
        # The same object for every reader through GI: the MultiTask, its
        # row, and a task that failed because its dependency did.
        self.assertIs(gmulti.get_error_detail(), failure)
        self.assertIs(gmulti.get_item(1).get_error_detail(), failure)
        self.assertIs(single.gtask.get_error_detail(), failure)

    def test_task_depending_on_a_failed_job_raises_the_jobs_exception(self):
        failure = RichError('from the job', 7)

        @self.engine.job
        def failing():
            yield Task(identity, None)
            raise failure

        @self.engine.job
        def handler(job):
            after = Task(identity, 'never')
            after.add_dependency(job)
            try:
                yield after
            except RichError as error:
                return error

        job = failing()
        self.assertIs(self.run_job(handler(job)).result(), failure)

    def test_explicit_max_workers_runs_that_many_at_once(self):
        counter = Concurrency(6)

        @self.engine.job
        def handler():
            values = yield MultiTask([Task(counter.enter, i) for i in range(12)], max_workers=6)
            return values

        self.assertEqual(self.run_job(handler()).result(), list(range(12)))
        self.assertEqual(counter.most, 6)


if __name__ == '__main__':
    sys.exit(agtest.main(NamesTest, JobsTest, ListWorkersTest, LongRunningTest))
