#!/usr/bin/python3
# test_porting.py: code written for the ancestors (async_gui, the gobject
# coroutine recipe, AsyncKit) behaves as bindings/python/README.md's
# "Porting from ..." tables say
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import threading

import agtest
from agtest import identity
from gi.repository import AsyncGui, GObject
from gi.repository.AsyncGui import Task


class Oops(Exception):
    pass


class Recorder:
    """A function that keeps the arguments of each call."""

    def __init__(self):
        self.calls = []

    def __call__(self, *args):
        self.calls.append(args)
        return args


def wait_for(event):
    if not event.wait(agtest.SAFETY_S):
        raise RuntimeError('the event never came')
    return 'released'


class RecipeTest(agtest.JobTestCase):
    """The gobject coroutine recipe and asyncjobs."""

    def test_sleep_gives_the_seconds_the_job_waited(self):
        @self.engine.job
        def generator_job():
            elapsed = yield AsyncGui.sleep(0.2)
            return elapsed

        @self.engine.job
        async def coroutine_job():
            return await AsyncGui.sleep(0.05)

        elapsed = self.run_job(generator_job()).result()
        self.assertIsInstance(elapsed, float)
        self.assertGreaterEqual(elapsed, 0.2)
        self.assertLess(elapsed, 0.2 + agtest.SAFETY_S)
        elapsed = self.run_job(coroutine_job()).result()
        self.assertIsInstance(elapsed, float)
        self.assertGreaterEqual(elapsed, 0.05)

    def test_sleep_elapsed_counts_a_pause(self):
        @self.engine.job
        def handler():
            elapsed = yield AsyncGui.sleep(0.1)
            return elapsed

        job = handler()
        job.pause()
        self.run_loop_for(0.3)
        job.resume()
        # The sleep's clock stopped while paused; the job waited the
        # pause and the sleep.
        self.assertGreaterEqual(self.run_job(job).result(), 0.4)

    def test_sleep_task_objects_keep_no_value(self):
        @self.engine.job
        def handler():
            value = yield AsyncGui.Task.new_sleep(10)
            return value

        self.assertIsNone(self.run_job(handler()).result())
        self.assertIsInstance(AsyncGui.sleep(0), AsyncGui.TaskObject)

    def test_throw_raises_into_the_job_which_may_go_on(self):
        release = threading.Event()
        seen = []

        @self.engine.job
        def handler():
            try:
                yield Task(wait_for, release)
            except Oops as error:
                seen.append(error)
            value = yield Task(identity, 'went on')
            return value

        job = handler()
        self.run_loop_for(0.05)
        job.throw(Oops('thrown'))
        release.set()
        self.assertEqual(self.run_job(job).result(), 'went on')
        self.assertEqual([str(error) for error in seen], ['thrown'])

    def test_throw_uncaught_fails_the_job_with_it(self):
        @self.engine.job
        async def handler():
            await AsyncGui.sleep(30)

        job = handler()
        thrown = Oops('thrown')
        job.throw(thrown)
        self.run_job(job)
        self.assertEqual(job.state, AsyncGui.TaskState.FAILED)
        self.assertIs(job.exception(), thrown)

    def test_throw_of_cancelled_error_class_cancels(self):
        @self.engine.job
        def handler():
            yield AsyncGui.sleep(30)

        job = handler()
        job.throw(AsyncGui.CancelledError)
        self.run_job(job)
        self.assertEqual(job.state, AsyncGui.TaskState.CANCELLED)

    def test_throw_reaches_a_paused_job_as_a_cancel_does(self):
        @self.engine.job
        def handler():
            try:
                yield AsyncGui.sleep(30)
            except Oops:
                return 'caught'

        job = handler()
        job.pause()
        job.throw(Oops)
        self.assertEqual(self.run_job(job).result(), 'caught')

    def test_throw_refuses_finished_jobs_and_running_code(self):
        @self.engine.job
        def finished():
            return 1

        @self.engine.job
        def throws_at_itself():
            AsyncGui.current_job().throw(Oops)
            yield AsyncGui.sleep(0)

        with self.assertRaises(AsyncGui.InvalidStateError):
            finished().throw(Oops)
        job = throws_at_itself()
        self.assertIsInstance(job.exception(), AsyncGui.InvalidStateError)
        with self.assertRaises(TypeError):
            finished().throw('not an exception')


class AsyncGuiTest(agtest.JobTestCase):
    """async_gui."""

    def test_a_boolean_signal_reads_a_job_handler_as_handled_unless_answered(self):
        class Window(GObject.Object):
            __gsignals__ = {'close-request': (GObject.SignalFlags.RUN_LAST, bool, ())}

        started = []

        @self.engine.job
        def on_close(window):
            started.append(window)
            yield AsyncGui.sleep(0)

        window = Window()
        handler = window.connect('close-request', on_close)
        # The README's warning: the job is a true value.
        self.assertTrue(window.emit('close-request'))
        window.disconnect(handler)
        # The README's idiom starts the job and lets the window close.
        window.connect('close-request', lambda w: on_close(w) and False)
        self.assertFalse(window.emit('close-request'))
        self.assertEqual(started, [window, window])
        self.run_loop_for(0.05)

    def test_return_result_has_async_gui_result_and_value(self):
        try:
            AsyncGui.return_result(5)
        except AsyncGui.ReturnResult as stop:
            self.assertEqual((stop.value, stop.result), (5, 5))
        self.assertFalse(issubclass(AsyncGui.ReturnResult, Exception))

    def test_return_result_passes_through_except_exception(self):
        @self.engine.job
        def handler():
            try:
                AsyncGui.return_result('returned')
            except Exception:
                return 'swallowed'
            yield AsyncGui.sleep(0)

        self.assertEqual(self.run_job(handler()).result(), 'returned')


class AsyncKitTest(agtest.JobTestCase):
    """AsyncKit."""

    def test_chain_passes_only_its_own_arguments(self):
        record = Recorder()

        @self.engine.job
        def handler():
            value = yield Task(identity, 'first').chain(record, 'x')
            return value

        self.assertEqual(self.run_job(handler()).result(), ('x',))
        self.assertEqual(record.calls, [('x',)])

    def test_and_then_passes_the_value_first(self):
        record = Recorder()

        @self.engine.job
        def handler():
            value = yield Task(identity, 'first').and_then(record, 'x')
            return value

        self.assertEqual(self.run_job(handler()).result(), ('first', 'x'))

    def test_chain_after_a_failure_fails_without_running(self):
        record = Recorder()

        def fail():
            raise Oops('first failed')

        @self.engine.job
        def handler():
            yield Task(fail).chain(record)

        job = self.run_job(handler())
        self.assertIsInstance(job.exception(), Oops)
        self.assertEqual(record.calls, [])

    def test_result_with_timeout_raises_timeout_error_not_none(self):
        @self.engine.job
        def handler():
            yield AsyncGui.sleep(30)

        job = handler()
        with self.assertRaises(TimeoutError):
            job.result(timeout=0.05)
        job.cancel()
        self.run_job(job)



class MisportedCallTest(agtest.JobTestCase):
    """What ported code spells the ancestors' way and would silently mean
    something else here is refused at once, naming the spelling to use."""

    def test_a_bool_timeout_written_as_async_block_is_refused(self):
        channel = AsyncGui.Channel(capacity=1)
        reader = channel.open_reader()
        # The `async` package's read(n, block) and write(item, block).
        with self.assertRaisesRegex(TypeError, 'block=True'):
            reader.read(1, True)
        with self.assertRaisesRegex(TypeError, 'block=False'):
            channel.write('x', False)
        channel.write('x', block=False)
        self.assertEqual(reader.read(1, block=False), ['x'])

    def test_multi_task_takes_max_chunk_size_and_names_it_for_max_chunksize(self):
        multi = AsyncGui.MultiTask([Task(identity, i) for i in range(20)], max_chunk_size=3)
        self.assertEqual(multi.gtask.get_max_chunk_size(), 3)

        @self.engine.job
        def handler():
            return (yield multi)

        self.assertEqual(self.run_job(handler()).result(), list(range(20)))
        with self.assertRaisesRegex(TypeError, "'max_chunk_size'"):
            AsyncGui.MultiTask([], max_chunksize=3)

    def test_start_job_of_a_function_not_called_is_refused(self):
        def body():
            yield AsyncGui.sleep(0)

        async def async_body():
            pass

        for function in (body, async_body):
            with self.assertRaisesRegex(TypeError, r'start_job\(f\(\.\.\.\)\)'):
                self.engine.start_job(function)
        with self.assertRaisesRegex(TypeError, 'generator or coroutine object'):
            self.engine.start_job(42)

    def test_an_async_generator_job_is_refused(self):
        @self.engine.job
        async def handler():
            yield 1

        with self.assertRaisesRegex(TypeError, 'async generator'):
            handler()

    def test_a_plain_function_job_still_ends_with_its_value(self):
        @self.engine.job
        def handler():
            return 'at once'

        self.assertEqual(self.run_job(handler()).result(), 'at once')


if __name__ == '__main__':
    raise SystemExit(agtest.main(RecipeTest, AsyncGuiTest, AsyncKitTest, MisportedCallTest))
