#!/usr/bin/python3
# test_smoke.py: AsyncGui from the build tree, driven from Python
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# meson test runs this with Debian's /usr/bin/python3 and points
# GI_TYPELIB_PATH and LD_LIBRARY_PATH at the build tree's asyncgui/ folder.

import sys
import threading
import time
import unittest

import gi

gi.require_version('AsyncGui', '1')
from gi.repository import AsyncGui, Gio, GLib  # noqa: E402

SAFETY_S = 10
MAIN_THREAD = threading.get_ident()


class SmokeTest(unittest.TestCase):
    def setUp(self):
        self.context = GLib.MainContext.default()
        self.engine = AsyncGui.Engine.new_for_context(self.context)
        self.loop = GLib.MainLoop.new(self.context, False)

    def tearDown(self):
        self.engine = None
        while self.context.iteration(False):
            pass

    def run_task(self, task, cancel_after_s=None):
        """Runs @task on the engine; returns what the callback saw."""
        outcome = {}

        def done(engine, result, *user_data):
            outcome['calls'] = outcome.get('calls', 0) + 1
            outcome['thread'] = threading.get_ident()
            outcome['is_task'] = result is task
            try:
                outcome['value'] = engine.run_finish(result)
            except GLib.Error as error:
                outcome['error'] = error
            self.loop.quit()

        def give_up():
            outcome['timed_out'] = True
            self.loop.quit()
            return GLib.SOURCE_REMOVE

        def cancel():
            task.cancel()
            return GLib.SOURCE_REMOVE

        safety_id = GLib.timeout_add_seconds(SAFETY_S, give_up)
        if cancel_after_s is not None:
            GLib.timeout_add(int(cancel_after_s * 1000), cancel)
        self.engine.run_async(task, None, done)
        self.assertNotIn('calls', outcome, 'callback ran inside run_async')
        self.loop.run()
        if not outcome.get('timed_out'):
            GLib.source_remove(safety_id)
        self.assertFalse(outcome.get('timed_out'),
                         'the task did not finish within %d s' % SAFETY_S)
        self.assertEqual(outcome['calls'], 1)
        return outcome

    def test_python_function_runs_on_worker_and_result_arrives_on_main_loop(self):
        seen = {}

        def work(task, *args):
            seen['thread'] = threading.get_ident()
            time.sleep(0.2)
            task.return_int(42)

        ticks = []

        def tick():
            ticks.append(1)
            return GLib.SOURCE_CONTINUE

        tick_id = GLib.timeout_add(10, tick)
        task = AsyncGui.Task.new(work)
        outcome = self.run_task(task)
        GLib.source_remove(tick_id)

        self.assertNotIn('error', outcome)
        self.assertEqual(outcome['value'], 42)
        self.assertEqual(outcome['thread'], MAIN_THREAD)
        self.assertIn('thread', seen)
        self.assertNotEqual(seen['thread'], MAIN_THREAD)
        self.assertTrue(outcome['is_task'])
        self.assertEqual(task.get_state(), AsyncGui.TaskState.SUCCEEDED)
        self.assertEqual(task.get_int(), 42)
        # The main loop kept running while the worker slept.
        self.assertGreaterEqual(len(ticks), 5)

    def test_run_async_takes_a_python_task_and_refuses_one_that_ran(self):
        task = AsyncGui.Task(lambda: 'python')
        self.assertIsInstance(task, AsyncGui.Task)
        outcome = self.run_task(task)
        self.assertEqual(outcome['value'], 'python')
        for source in (self.engine, self.engine.slot()):
            with self.assertRaisesRegex(RuntimeError, 'runs once'):
                source.run_async(task, None, lambda *unused: None)
            with self.assertRaisesRegex(RuntimeError, 'runs once'):
                source.run_async(task.gtask)

    def test_typed_getter_raises_for_a_failure_and_for_a_value_of_another_type(self):
        def work(task, *args):
            task.return_uint64(2 ** 64 - 1)

        def fail(task, *args):
            task.return_error(GLib.Error.new_literal(Gio.io_error_quark(), 'gone',
                                                     Gio.IOErrorEnum.NOT_FOUND))

        task = AsyncGui.Task.new(work)
        self.run_task(task)
        self.assertEqual(task.get_uint64(), 2 ** 64 - 1)
        with self.assertRaises(GLib.Error) as caught:
            task.get_string()
        self.assertTrue(caught.exception.matches(AsyncGui.error_quark(),
                                                 AsyncGui.Error.TYPE_MISMATCH))

        failing = AsyncGui.Task.new(fail)
        self.run_task(failing)
        with self.assertRaises(GLib.Error) as caught:
            failing.get_int()
        self.assertTrue(caught.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND))
        self.assertEqual(caught.exception.message, 'gone')

    def test_python_function_returns_a_string(self):
        def work(task, *args):
            task.return_string('hello from a worker')

        task = AsyncGui.Task.new(work)
        outcome = self.run_task(task)
        self.assertNotIn('error', outcome)
        self.assertEqual(outcome['value'], 'hello from a worker')
        self.assertEqual(task.get_string(), 'hello from a worker')

    def test_worker_error_reaches_caller(self):
        domain = 'asyncgui-smoke-error'

        def work(task, *args):
            task.return_error(GLib.Error.new_literal(
                GLib.quark_from_string(domain), 'the worker failed', 7))

        task = AsyncGui.Task.new(work)
        outcome = self.run_task(task)
        self.assertIn('error', outcome)
        error = outcome['error']
        self.assertEqual(error.domain, domain)
        self.assertEqual(error.code, 7)
        self.assertEqual(error.message, 'the worker failed')
        self.assertEqual(task.get_state(), AsyncGui.TaskState.FAILED)

    def test_worker_exception_fails_the_task(self):
        # Plain GI cannot carry the exception across; the task must still
        # end, as a failure, rather than hang.
        def work(task, *args):
            raise RuntimeError('raised on purpose by test_smoke.py')

        task = AsyncGui.Task.new(work)
        outcome = self.run_task(task)
        self.assertIn('error', outcome)
        self.assertTrue(outcome['error'].matches(AsyncGui.error_quark(),
                                                 AsyncGui.Error.NO_RESULT))
        self.assertEqual(task.get_state(), AsyncGui.TaskState.FAILED)

    def test_cancel_delivers_cancelled_promptly(self):
        def work(task, *args):
            time.sleep(1.0)
            task.return_int(1)

        task = AsyncGui.Task.new(work)
        start = time.monotonic()
        outcome = self.run_task(task, cancel_after_s=0.1)
        # Well before the 1 s the function sleeps, with room for a busy machine.
        self.assertLess(time.monotonic() - start, 0.9)
        self.assertIn('error', outcome)
        self.assertTrue(outcome['error'].matches(Gio.io_error_quark(),
                                                 Gio.IOErrorEnum.CANCELLED))
        self.assertEqual(task.get_state(), AsyncGui.TaskState.CANCELLED)
        # Let the worker finish before the engine goes.
        time.sleep(1.0)

    def test_sleep_task_succeeds_without_value(self):
        task = AsyncGui.Task.new_sleep(50)
        outcome = self.run_task(task)
        self.assertNotIn('error', outcome)
        self.assertIsNone(outcome['value'])


def main():
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(SmokeTest)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print('%d passed, %d failed' % (passed, failed))
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
