#!/usr/bin/python3
# test_conformance.py: the conformance scenarios (docs/conformance.md) in Python
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# One test per scenario, named after its identifier (dashes become
# underscores); the docstring is the identifier itself. Times are the
# generous bounds of docs/conformance.md.

import sys
import threading
import time

import agtest
from agtest import MAIN_THREAD, now_ms
from gi.repository import AsyncGui, Gio, GLib
from gi.repository.AsyncGui import MultiTask, Task


def sleep_then(seconds, value):
    time.sleep(seconds)
    return value


class AppError(Exception):
    pass


def fail_after(seconds, message):
    time.sleep(seconds)
    raise AppError(message)


class ConformanceTest(agtest.JobTestCase):

    def test_sequential_handler_keeps_loop_alive(self):
        """sequential-handler-keeps-loop-alive"""
        engine = self.engine
        ticks = []
        seen = {}

        def tick():
            ticks.append(now_ms())
            return GLib.SOURCE_CONTINUE

        @engine.job
        def handler():
            start = len(ticks)
            value = yield Task(sleep_then, 0.3, 42)
            seen['ticks'] = len(ticks) - start
            seen['thread'] = threading.get_ident()
            seen['value'] = value
            return value

        tick_id = GLib.timeout_add(10, tick)
        job = handler()
        self.assertIsInstance(job, AsyncGui.Job)
        self.assertEqual(job.state, AsyncGui.TaskState.RUNNING)
        self.run_job(job)
        GLib.source_remove(tick_id)

        # A loop blocked for the await would tick once or twice after it; a
        # loaded machine may starve a running one of half its 30, not of all.
        self.assertGreaterEqual(seen['ticks'], 5)
        self.assertEqual(seen['thread'], MAIN_THREAD)
        self.assertEqual(seen['value'], 42)
        self.assertEqual(job.state, AsyncGui.TaskState.SUCCEEDED)
        self.assertEqual(job.result(), 42)
        self.assertEqual(job.get_value(), 42)

    def test_error_at_the_await(self):
        """error-at-the-await"""
        seen = {}

        @self.engine.job
        def handler():
            try:
                yield Task(fail_after, 0.05, 'the disk is on fire')
            except AppError as error:
                seen['error'] = error
            return 'recovered'

        job = self.run_job(handler())
        self.assertIs(type(seen['error']), AppError)
        self.assertEqual(str(seen['error']), 'the disk is on fire')
        self.assertEqual(job.state, AsyncGui.TaskState.SUCCEEDED)
        self.assertEqual(job.result(), 'recovered')

    def test_uncaught_error_fails_the_job(self):
        """uncaught-error-fails-the-job"""
        reached = []

        @self.engine.job
        def handler():
            yield Task(fail_after, 0.05, 'the disk is on fire')
            reached.append(True)

        job = self.run_job(handler())
        self.assertEqual(job.state, AsyncGui.TaskState.FAILED)
        self.assertEqual(reached, [])
        error = job.exception()
        self.assertIs(type(error), AppError)
        self.assertEqual(str(error), 'the disk is on fire')
        with self.assertRaises(AppError):
            job.result()
        # Other languages see it as a GError naming the exception.
        gerror = job.get_error()
        self.assertTrue(gerror.matches(AsyncGui.error_quark(), AsyncGui.Error.FAILED))
        self.assertIn('the disk is on fire', gerror.message)

    def test_ordered_multi(self):
        """ordered-multi"""
        @self.engine.job
        def handler():
            first = yield MultiTask([Task(sleep_then, 0.3, 0), Task(sleep_then, 0.1, 1),
                                     Task(sleep_then, 0.2, 2)])
            second = yield [Task(sleep_then, 0.3, 0), Task(sleep_then, 0.1, 1),
                            Task(sleep_then, 0.2, 2)]
            return first, second

        job = self.run_job(handler())
        self.assertEqual(job.result(), ([0, 1, 2], [0, 1, 2]))

    def test_skip_errors(self):
        """skip-errors"""
        def children():
            return [Task(sleep_then, 0.3, 0), Task(fail_after, 0.1, 'middle'),
                    Task(sleep_then, 0.2, 2)]
        seen = {}

        @self.engine.job
        def handler():
            seen['skipped'] = yield MultiTask(children(), skip_errors=True)
            start = now_ms()
            try:
                yield MultiTask(children())
            except AppError as error:
                seen['error'] = error
                seen['elapsed'] = now_ms() - start

        job = self.run_job(handler())
        self.assertEqual(job.state, AsyncGui.TaskState.SUCCEEDED, job.exception())
        self.assertEqual(seen['skipped'], [0, 2])
        self.assertIs(type(seen['error']), AppError)
        self.assertEqual(str(seen['error']), 'middle')
        self.assertGreaterEqual(seen['elapsed'], 280)

    def test_max_workers(self):
        """max-workers"""
        def four():
            return [Task(sleep_then, 0.3, i) for i in range(4)]
        seen = {}

        @self.engine.job
        def handler():
            start = now_ms()
            yield MultiTask(four(), max_workers=2)
            seen['limited'] = now_ms() - start
            start = now_ms()
            yield MultiTask(four())
            seen['unlimited'] = now_ms() - start

        self.run_job(handler())
        self.assertGreaterEqual(seen['limited'], 550)
        self.assertLessEqual(seen['limited'], 1500)
        self.assertLess(seen['unlimited'], 550)

    def test_unordered_order(self):
        """unordered-order"""
        @self.engine.job
        async def handler():
            announced = []
            async for value in MultiTask([Task(sleep_then, 0.5, 'a'), Task(sleep_then, 0.1, 'b'),
                                          Task(sleep_then, 0.3, 'c')], unordered=True):
                announced.append(value)
            return announced

        job = self.run_job(handler())
        self.assertEqual(job.result(), ['b', 'c', 'a'])

    def test_cancel_semantics(self):
        """cancel-semantics"""
        seen = {'late': False, 'steps': []}

        def slow():
            time.sleep(1.0)
            seen['late'] = True
            return 'late'

        @self.engine.job
        def handler():
            try:
                value = yield Task(slow)
                seen['steps'].append(('value', value))
            except AsyncGui.CancelledError:
                seen['cancelled_at'] = now_ms()
                seen['steps'].append('cleanup')
                raise
            seen['steps'].append('after')

        job = handler()
        cancel_at = []
        self.at(100, lambda: (cancel_at.append(now_ms()), job.cancel()))
        self.run_job(job)
        self.assertEqual(job.state, AsyncGui.TaskState.CANCELLED)
        self.assertLess(seen['cancelled_at'] - cancel_at[0], 200)
        self.assertEqual(seen['steps'], ['cleanup'])
        with self.assertRaises(AsyncGui.CancelledError):
            job.result()
        self.assertTrue(job.get_error().matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
        # The worker finishes later; its result reaches nobody.
        self.run_loop_for(1.2)
        self.assertTrue(seen['late'])
        self.assertEqual(seen['steps'], ['cleanup'])
        self.assertEqual(job.state, AsyncGui.TaskState.CANCELLED)

    def test_pause_resume(self):
        """pause-resume"""
        seen = {}

        @self.engine.job
        def handler():
            seen['start'] = now_ms()
            value = yield Task(sleep_then, 0.2, 'done')
            seen['continued'] = now_ms() - seen['start']
            return value

        job = handler()
        checks = {}

        def pause():
            job.pause()
            checks['paused'] = job.paused

        def look():
            checks['continued_while_paused'] = 'continued' in seen

        def resume():
            checks['resumed_at'] = now_ms() - seen['start']
            job.resume()

        self.at(50, pause)
        self.at(300, look)
        self.at(400, resume)
        self.run_job(job)
        self.assertTrue(checks['paused'])
        self.assertFalse(checks['continued_while_paused'])
        self.assertGreaterEqual(seen['continued'], 400)
        self.assertGreaterEqual(seen['continued'], checks['resumed_at'])
        self.assertEqual(job.result(), 'done')

    def test_pause_keeps_sleep_remainder(self):
        """pause-keeps-sleep-remainder"""
        seen = {}

        @self.engine.job
        def handler():
            seen['start'] = now_ms()
            yield AsyncGui.sleep(0.3)
            seen['woke'] = now_ms() - seen['start']

        def pause():
            seen['paused'] = now_ms() - seen['start']
            job.pause()

        def resume():
            seen['resumed'] = now_ms() - seen['start']
            job.resume()

        job = handler()
        self.at(100, pause)
        self.at(400, resume)
        self.run_job(job)
        self.assertEqual(job.state, AsyncGui.TaskState.SUCCEEDED)
        # What was left of the 0.3 s when the pause came (it may come late
        # on a loaded machine), counted from the resume; timers count in
        # whole milliseconds.
        self.assertGreaterEqual(seen['woke'], seen['resumed'] + 300 - seen['paused'] - 5)
        self.assertLessEqual(seen['woke'], 900)

    def test_nested_jobs(self):
        """nested-jobs"""
        engine = self.engine

        @engine.job
        def job_b():
            value = yield Task(sleep_then, 0.05, 7)
            return value

        inner = []

        @engine.job
        def job_a():
            b = job_b()
            inner.append(b)
            value = yield b
            return value

        a = self.run_job(job_a())
        self.assertEqual(a.result(), 7)
        self.assertEqual(inner[0].state, AsyncGui.TaskState.SUCCEEDED)
        self.assertEqual(inner[0].result(), 7)

        # The same with async def.
        @engine.job
        async def job_c():
            return await job_b()

        self.assertEqual(self.run_job(job_c()).result(), 7)

    def test_serial_mode(self):
        """serial-mode"""
        self.engine.set_max_threads(0)
        ran = []

        def record(name):
            ran.append((name, threading.get_ident()))
            return name

        @self.engine.job
        def handler():
            first = yield Task(record, 'first')
            second = yield Task(record, 'second')
            rest = yield [Task(record, 'third'), Task(record, 'fourth')]
            return [first, second] + rest

        job = self.run_job(handler())
        self.assertEqual(job.result(), ['first', 'second', 'third', 'fourth'])
        self.assertEqual([name for name, _ in ran], ['first', 'second', 'third', 'fourth'])
        self.assertTrue(all(thread == MAIN_THREAD for _, thread in ran))

    def test_progress(self):
        """progress"""
        notified = []
        reported = threading.Event()

        def work():
            task = AsyncGui.current_task()
            for i in range(1, 1001):
                task.set_progress(i / 1000.0)
            reported.set()
            return 'done'

        def hold_loop_until_reported():
            # The main loop stands still until the worker has made its
            # updates, so none can be delivered in between.
            reported.wait(agtest.SAFETY_S)
            return GLib.SOURCE_REMOVE

        @self.engine.job
        def handler():
            task = Task(work)
            task.gtask.connect('notify::progress',
                               lambda gtask, pspec: notified.append(gtask.get_progress()))
            GLib.timeout_add(0, hold_loop_until_reported, priority=GLib.PRIORITY_HIGH)
            value = yield task
            return value

        job = self.run_job(handler())
        self.assertEqual(job.result(), 'done')
        self.assertTrue(reported.is_set())
        self.assertEqual(notified, [1.0])

    def test_dispose_with_work_in_flight(self):
        """dispose-with-work-in-flight"""
        engine = self.engine
        seen = []

        @engine.job
        def handler():
            try:
                value = yield Task(sleep_then, 0.5, 'late')
                seen.append(('value', value))
            except BaseException as error:  # noqa: B902 - nothing may arrive at all
                seen.append(('error', error))
            seen.append('after')

        job = handler()
        self.at(100, engine.run_dispose)
        self.run_loop_for(0.8)
        self.assertEqual(seen, [])
        self.assertEqual(job.state, AsyncGui.TaskState.CANCELLED)

    def test_bad_input(self):
        """bad-input"""
        seen = []

        @self.engine.job
        def handler():
            try:
                yield 'not a task'
            except TypeError as error:
                seen.append(error)
            value = yield Task(sleep_then, 0.01, 'still works')
            return value

        job = self.run_job(handler())
        self.assertEqual(len(seen), 1)
        self.assertIn('not a task', str(seen[0]))
        self.assertEqual(job.result(), 'still works')

        # Uncaught, the TypeError fails the job.
        @self.engine.job
        def careless():
            yield object()

        job = self.run_job(careless())
        self.assertEqual(job.state, AsyncGui.TaskState.FAILED)
        self.assertIs(type(job.exception()), TypeError)

        # Cancelling, pausing and resuming a finished job do nothing.
        job.cancel()
        self.assertEqual(job.state, AsyncGui.TaskState.FAILED)
        done = self.run_job(handler())
        done.cancel()
        done.pause()
        done.resume()
        self.assertEqual(done.state, AsyncGui.TaskState.SUCCEEDED)
        self.assertEqual(done.result(), 'still works')


if __name__ == '__main__':
    sys.exit(agtest.main(ConformanceTest))
