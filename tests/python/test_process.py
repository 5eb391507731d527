#!/usr/bin/python3
# test_process.py: ProcessTask and MultiProcessTask, in worker processes
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The workers run this interpreter with this script's sys.path, and load
# this script as __mp_main__, so the functions below are importable there.

import os
import pickle
import signal
import time

import agtest
from agtest import AsyncGui, GLib
from gi.repository import Gio
from gi.repository.AsyncGui import ProcessTask, MultiProcessTask, Task


class Refused(ValueError):
    """An exception class of this script: it must come back as itself."""


class FileFailure(Exception):
    """Takes other arguments than it passes on: pickle cannot rebuild it."""

    def __init__(self, path, code):
        super().__init__('%s failed with %d' % (path, code))
        self.path = path


class PassedOn(Exception):
    """Passes every argument on: it comes back as itself."""

    def __init__(self, path, code):
        super().__init__(path, code)
        self.path = path


def fail_with(kind):
    raise kind('/tmp/x', 2)


class Adder:
    def __init__(self, base):
        self.base = base

    def add(self, x):
        return self.base + x


def where(x):
    return (x, os.getpid())


def refuse(message):
    raise Refused(message)


def nap_then_report(path, seconds):
    with open(path, 'w') as f:
        f.write(str(os.getpid()))
    time.sleep(seconds)
    return os.getpid()


def unpicklable_result():
    return lambda: None


class UnprintableError(Exception):
    """An exception whose message cannot be formatted."""

    def __str__(self):
        raise ValueError('no message for you')


class ExitingPickle(Exception):
    """An exception whose pickling raises SystemExit."""

    def __reduce__(self):
        raise SystemExit('not like this')


class InterruptingPickle:
    """A value whose pickling raises KeyboardInterrupt."""

    def __reduce__(self):
        raise KeyboardInterrupt


def raise_unprintable():
    raise UnprintableError('x')


def raise_exiting_pickle():
    raise ExitingPickle('y')


def return_interrupting_pickle():
    return InterruptingPickle()


def raise_interrupt():
    raise KeyboardInterrupt


def hang():
    while True:
        time.sleep(60)


def nap(seconds):
    time.sleep(seconds)
    return os.getpid()


def allocate(size):
    return len(bytearray(size))


def burn_cpu(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return 'spun'


def read_stdin():
    """What the function reads on stdin, and whether it could close it."""
    import sys
    data = sys.stdin.buffer.read()
    os.close(0)
    return data, os.getpid()


def _state(pid):
    """The state letter of a process ('R', 'S', 'Z'...), or '' if it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rpartition(')')[2].split()[0]
    except OSError:
        return ''


class ProcessTaskTest(agtest.JobTestCase):

    def test_function_runs_in_another_process(self):
        @self.engine.job
        def job():
            return (yield ProcessTask(where, 7))

        value, pid = self.run_job(job()).result()
        self.assertEqual(value, 7)
        self.assertNotEqual(pid, os.getpid())

    def test_exception_is_raised_again_with_its_original_type(self):
        seen = []

        @self.engine.job
        def job():
            try:
                yield ProcessTask(refuse, 'not today')
            except Refused as exc:
                seen.append(str(exc))
            return 'caught'

        self.assertEqual(self.run_job(job()).result(), 'caught')
        self.assertEqual(seen, ['not today'])

    def test_the_pickled_exception_is_the_worker_tasks_error_detail(self):
        # A worker task made by hand fails with a GLib.Error; the exception
        # itself is the error's detail, for whoever holds the task.
        self.engine.get_worker_pool()   # the same engine the ProcessTask set up
        task = AsyncGui.WorkerTask.new_python(
            __name__ + ':refuse', GLib.Bytes.new(pickle.dumps((('in detail',), {}))))

        @self.engine.job
        def job():
            yield ProcessTask(where, 0)   # sets the engine's workers up
            try:
                yield task
            except GLib.Error as error:
                return error.message

        self.assertIn('in detail', self.run_job(job()).result())
        detail = task.get_error_detail()
        self.assertIsInstance(detail, GLib.Variant)
        exc = pickle.loads(detail.get_data_as_bytes().get_data())
        self.assertIsInstance(exc, Refused)
        self.assertEqual(str(exc), 'in detail')

    def test_a_lambda_is_refused_at_once(self):
        with self.assertRaises(TypeError):
            ProcessTask(lambda: None)

    def test_a_method_bound_to_an_object_is_refused_at_once(self):
        # The worker would import Refused.__str__ alone and call it
        # without its object.
        with self.assertRaisesRegex(TypeError, 'on its object'):
            ProcessTask(Adder(40).add, 2)
        self.assertIsNotNone(ProcessTask(Adder.add, Adder(40), 2))

    def test_an_exception_pickle_cannot_rebuild_comes_back_as_runtime_error_saying_so(self):
        @self.engine.job
        def job(kind):
            yield ProcessTask(fail_with, kind)

        rebuilt = self.run_job(job(PassedOn)).exception()
        self.assertIs(type(rebuilt), PassedOn)
        self.assertEqual(rebuilt.args, ('/tmp/x', 2))
        lost = self.run_job(job(FileFailure)).exception()
        self.assertIs(type(lost), RuntimeError)
        self.assertIn('FileFailure: /tmp/x failed with 2', str(lost))
        self.assertIn('could not be unpickled', str(lost))

    def test_an_unpicklable_result_fails_with_a_clear_error(self):
        @self.engine.job
        def job():
            yield ProcessTask(unpicklable_result)

        finished = self.run_job(job())
        with self.assertRaises(Exception) as caught:
            finished.result()
        self.assertIn('pickle', str(caught.exception).lower())

    def test_exceptions_that_cannot_be_printed_or_pickled_keep_their_worker(self):
        # Their own code raising while they are formatted or pickled, even
        # SystemExit or KeyboardInterrupt, must not take the worker down.
        @self.engine.job
        def job(func):
            try:
                yield ProcessTask(func)
            except GLib.Error as error:
                return ('GLib.Error', error.message, (yield ProcessTask(where, 0))[1])
            except BaseException as exc:  # noqa: B902 - what came back
                message = str(exc) if type(exc) is not UnprintableError else ''
                return (type(exc).__name__, message, (yield ProcessTask(where, 0))[1])

        self.engine.get_worker_pool().set_max_processes(1)
        pids = set()
        for func, kind, words in ((raise_unprintable, 'UnprintableError', ''),
                                  (raise_exiting_pickle, 'RuntimeError', 'ExitingPickle'),
                                  (return_interrupting_pickle, 'PicklingError',
                                   'could not be pickled: KeyboardInterrupt'),
                                  (raise_interrupt, 'KeyboardInterrupt', '')):
            name, message, pid = self.run_job(job(func)).result()
            self.assertEqual((name, func.__name__), (kind, func.__name__), message)
            self.assertIn(words, message)
            pids.add(pid)
        # One worker served them all.
        self.assertEqual(len(pids), 1)

    def test_warm_worker_serves_call_after_call(self):
        @self.engine.job
        def job():
            pids = set()
            for i in range(5):
                _, pid = yield ProcessTask(where, i)
                pids.add(pid)
            return pids

        self.engine.get_worker_pool().set_max_processes(1)
        self.assertEqual(len(self.run_job(job()).result()), 1)

    def test_a_call_goes_on_through_ctrl_c(self):
        # Ctrl-C interrupts the terminal's whole foreground group, workers
        # included: the application decides what it means.
        path = os.path.join(GLib.get_tmp_dir(), 'asyncgui-test-int-%d' % os.getpid())

        @self.engine.job
        def call():
            return (yield ProcessTask(nap_then_report, path, 0.3))

        job = call()
        ticker = GLib.timeout_add(5, lambda: GLib.SOURCE_CONTINUE)
        self.run_loop_until(lambda: os.path.exists(path) and os.path.getsize(path) > 0)
        GLib.source_remove(ticker)
        with open(path) as f:
            pid = int(f.read())
        os.unlink(path)
        os.kill(pid, signal.SIGINT)
        self.assertEqual(self.run_job(job).result(), pid)

    def test_killed_worker_fails_only_its_own_call(self):
        path = os.path.join(GLib.get_tmp_dir(), 'asyncgui-test-%d' % os.getpid())
        outcome = {}

        @self.engine.job
        def victim():
            try:
                yield ProcessTask(nap_then_report, path, 5)
            except GLib.Error as error:
                outcome['error'] = error
                outcome['at'] = agtest.now_ms()

        @self.engine.job
        def bystander():
            return (yield ProcessTask(where, 'fine'))

        self.engine.get_worker_pool().set_max_processes(2)
        v = victim()
        # Nothing on the main loop fires when the file appears: tick.
        ticker = GLib.timeout_add(5, lambda: GLib.SOURCE_CONTINUE)
        self.run_loop_until(lambda: os.path.exists(path) and os.path.getsize(path) > 0)
        GLib.source_remove(ticker)
        self.assertFalse(v.is_finished())
        b = bystander()
        with open(path) as f:
            pid = int(f.read())
        os.unlink(path)
        killed_at = agtest.now_ms()
        os.kill(pid, signal.SIGKILL)
        self.run_job(v)
        self.run_job(b)

        self.assertTrue(outcome['error'].matches(AsyncGui.error_quark(),
                                                 AsyncGui.Error.WORKER_CRASHED))
        self.assertLess(outcome['at'] - killed_at, 500)
        self.assertEqual(b.result()[0], 'fine')

    def test_worker_that_exits_at_once_fails_its_call(self):
        @self.engine.job
        def warm_up():
            return (yield ProcessTask(where, 0))

        @self.engine.job
        def job():
            yield ProcessTask(where, 1)

        # The binding sets its own worker command on first use; replace it.
        self.run_job(warm_up()).result()
        self.engine.get_worker_pool().set_command(AsyncGui.WorkerKind.PYTHON, ['/bin/false'])
        with self.assertRaises(GLib.Error) as caught:
            self.run_job(job()).result()
        self.assertTrue(caught.exception.matches(AsyncGui.error_quark(),
                                                 AsyncGui.Error.WORKER_CRASHED))
        self.assertIn('/bin/false', caught.exception.message)

    def test_hanging_call_times_out_and_the_next_runs_in_a_fresh_worker(self):
        @self.engine.job
        def job():
            _, warm = yield ProcessTask(where, 0)
            # Tasks take the engine's timeout when they are run.
            self.engine.get_worker_pool().props.timeout_ms = 400
            started = time.monotonic()
            try:
                yield ProcessTask(hang)
            except GLib.Error as error:
                failure = (error, time.monotonic() - started)
            self.engine.get_worker_pool().props.timeout_ms = 0
            _, fresh = yield ProcessTask(where, 1)
            return warm, failure, fresh

        self.engine.get_worker_pool().set_max_processes(1)
        warm, (error, elapsed), fresh = self.run_job(job()).result()
        self.assertTrue(error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT),
                        error.message)
        self.assertIn('hang', error.message)
        self.assertIn('400 ms', error.message)
        self.assertGreaterEqual(elapsed, 0.39)
        self.assertLess(elapsed, 2.0)
        self.assertNotEqual(fresh, warm)
        # The stuck worker was killed (reaping happens on GLib's thread).
        deadline = time.monotonic() + 2
        while _state(warm) not in ('', 'Z') and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertIn(_state(warm), ('', 'Z'))

    def test_a_function_reading_or_closing_stdin_reads_nothing_and_keeps_its_worker(self):
        # stdin is not the requests' pipe: a read would take the next
        # request, or wait for ever, and a close would end the worker.
        @self.engine.job
        def job():
            first = yield ProcessTask(read_stdin)
            _, pid = yield ProcessTask(where, 1)
            return first, pid

        pool = self.engine.get_worker_pool()
        pool.set_max_processes(1)
        pool.props.timeout_ms = 3000
        (data, reader), pid = self.run_job(job()).result()
        self.assertEqual(data, b'')
        self.assertEqual(pid, reader)

    def test_a_call_past_its_limits_fails_alone_and_the_next_works(self):
        limit = 256 << 20

        @self.engine.job
        def job():
            outcomes = []
            for task in (ProcessTask(allocate, 2 * limit).limited(memory_limit=limit),
                         ProcessTask(burn_cpu, 1.8).limited(cpu_limit_ms=300),
                         ProcessTask(allocate, limit // 4).limited(memory_limit=limit)):
                try:
                    outcomes.append((yield task))
                except GLib.Error as error:
                    outcomes.append(error)
            return outcomes

        self.engine.get_worker_pool().props.timeout_ms = 60000
        memory, cpu, fits = self.run_job(job(), timeout_s=90).result()
        self.assertTrue(memory.matches(AsyncGui.error_quark(), AsyncGui.Error.MEMORY_LIMIT),
                        memory)
        self.assertTrue(cpu.matches(AsyncGui.error_quark(), AsyncGui.Error.CPU_LIMIT), cpu)
        self.assertEqual(fits, limit // 4)

    def test_limits_are_counts_of_zero_or_more(self):
        task = ProcessTask(allocate, 1)
        with self.assertRaisesRegex(ValueError, 'memory_limit'):
            task.limited(memory_limit=-1)
        with self.assertRaisesRegex(ValueError, 'cpu_limit_ms'):
            task.limited(cpu_limit_ms=1.5)
        self.assertIs(task.limited(memory_limit=1 << 30), task)

    def test_zero_worker_timeout_means_none(self):
        @self.engine.job
        def job():
            return (yield ProcessTask(nap, 0.5))

        self.assertEqual(self.engine.get_worker_pool().props.timeout_ms, 0)
        self.assertGreater(self.run_job(job()).result(), 0)

    def test_multi_process_task_keeps_list_order(self):
        @self.engine.job
        def job():
            return (yield MultiProcessTask([ProcessTask(where, i) for i in range(6)]))

        values = [v for v, _ in self.run_job(job()).result()]
        self.assertEqual(values, list(range(6)))

    def test_multi_process_task_takes_plain_tasks_and_skips_errors(self):
        @self.engine.job
        def job():
            return (yield MultiProcessTask([Task(where, 1), Task(refuse, 'x'), Task(where, 3)],
                                           skip_errors=True))

        self.assertEqual([v for v, _ in self.run_job(job()).result()], [1, 3])

    def test_multi_process_task_yielded_runs_the_gtask_made_before(self):
        multi = MultiProcessTask([ProcessTask(where, i) for i in range(3)])
        gtask = multi.gtask
        done = []
        gtask.connect('task-done', lambda *unused: done.append(1))

        @self.engine.job
        def job():
            return (yield multi)

        self.assertEqual([v for v, _ in self.run_job(job()).result()], [0, 1, 2])
        self.assertEqual(len(done), 3)
        self.assertEqual(gtask.get_state(), AsyncGui.TaskState.SUCCEEDED)

    def test_multi_process_task_raises_the_first_failure_in_list_order(self):
        @self.engine.job
        def job():
            yield MultiProcessTask([ProcessTask(where, 1), ProcessTask(refuse, 'first'),
                                    ProcessTask(refuse, 'second')])

        with self.assertRaises(Refused) as caught:
            self.run_job(job()).result()
        self.assertEqual(str(caught.exception), 'first')


    def test_multi_process_task_of_what_is_not_a_task_raises_type_error_naming_what_it_takes(self):
        for tasks in ([42], [ProcessTask(where, 1), AsyncGui.sleep(0)], 42):
            with self.assertRaises(TypeError) as caught:
                MultiProcessTask(tasks)
            self.assertIn('ProcessTask', str(caught.exception))
        with self.assertRaises(TypeError) as caught:
            MultiProcessTask([Task(where, 1), Task(lambda: 1)])
        self.assertIn('importable', str(caught.exception))
        with self.assertRaises(TypeError) as caught:
            ProcessTask(42)
        self.assertIn('importable function', str(caught.exception))

if __name__ == '__main__':
    raise SystemExit(agtest.main(ProcessTaskTest))
