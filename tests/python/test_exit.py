#!/usr/bin/python3
# test_exit.py: scripts that end while asyncgui work is in flight
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Each test writes a small script and runs it several times as a
# subprocess of this interpreter, with this environment (the build tree's
# library, typelib and overrides). The script starts work and ends: right
# away, or once a worker function is known to be running. The interpreter
# then goes away while worker threads still hold Python functions and data,
# which they must not call or free afterwards: every run exits 0, says
# nothing on stderr, and does not linger (threads that had nothing left to
# do must not keep the exit waiting).

import os
import subprocess
import sys
import tempfile
import textwrap
import time

import agtest

RUNS = 4
TIMEOUT_S = 60
# Well above a run's worth of work even on a loaded machine, well below
# the 10 s an idle worker thread waits for work before it leaves.
LINGER_S = 8

PRELUDE = '''
import asyncio
import os
import sys
import threading
import time

import gi
gi.require_version('AsyncGui', '1')
from gi.repository import AsyncGui, GLib
from gi.repository.AsyncGui import MultiTask, ProcessTask, Task

engine = AsyncGui.Engine.get_default()
context = GLib.MainContext.default()
started = threading.Event()


def work(i, seconds=0.01):
    started.set()
    time.sleep(seconds)
    return i


def source():
    """A pipeline source without end that says when it is closed."""
    try:
        i = 0
        while True:
            yield i
            i += 1
    finally:
        print('source closed', flush=True)


def wait_until_started():
    """Iterates the main loop until a worker function runs."""
    deadline = time.monotonic() + 10
    while not started.is_set():
        if time.monotonic() > deadline:
            sys.exit('no worker function started')
        context.iteration(False)
        time.sleep(0.001)
'''


class ExitWithWorkInFlightTest(agtest.unittest.TestCase):

    def run_script(self, body, runs=RUNS):
        """Runs PRELUDE + body ``runs`` times; returns the last stdout."""
        source = PRELUDE + textwrap.dedent(body)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, 'script.py')
            with open(path, 'w') as f:
                f.write(source)
            outcomes = []
            for _ in range(runs):
                start = time.monotonic()
                done = subprocess.run([sys.executable, path], capture_output=True, text=True,
                                      timeout=TIMEOUT_S)
                lingered = time.monotonic() - start > LINGER_S
                outcomes.append((done.returncode, done.stderr, lingered))
        self.assertEqual(outcomes, [(0, '', False)] * runs)
        return done.stdout

    def test_a_failure_nobody_asked_for_is_printed_at_exit_if_its_job_is_kept(self):
        # An application keeps its jobs (self.job = self.on_click()) to
        # pause or cancel them: one that failed unseen is still reported,
        # once, as asyncio reports a task still referenced at exit.
        source = PRELUDE + textwrap.dedent('''
            @engine.job
            def failing(key):
                yield Task(work, 1)
                raise KeyError(key)

            kept = failing('unseen')
            asked = failing('seen')
            while not (kept.is_finished() and asked.is_finished()):
                context.iteration(True)
            try:
                asked.result()
            except KeyError:
                pass
        ''')
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, 'script.py')
            with open(path, 'w') as f:
                f.write(source)
            done = subprocess.run([sys.executable, path], capture_output=True, text=True,
                                  timeout=TIMEOUT_S)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stderr.count('nobody asked for its result'), 1, done.stderr)
        self.assertIn("KeyError: 'unseen'", done.stderr)
        self.assertNotIn("'seen'", done.stderr)

    def test_a_pipeline_source_generator_is_closed_at_exit(self):
        # Exit stops a pipeline early, as a cancel or a break does: its
        # source generator's finally blocks run (files closed, temporary
        # files removed).
        stdout = self.run_script('''
            @engine.job
            async def job():
                async for y in AsyncGui.pipe(work, source(), min_count=4):
                    pass

            job()
            wait_until_started()
        ''', runs=2)
        self.assertEqual(stdout, 'source closed\n')

    def test_a_pipeline_left_early_before_the_end_leaves_nothing_to_print(self):
        # The loop broke off; the pipeline's feeding job was still waiting
        # to write when the script ended.
        stdout = self.run_script('''
            pipeline = AsyncGui.pipe(work, source())

            @engine.job
            async def job():
                async for y in pipeline:
                    if y == 4:
                        break

            job().wait(10)
        ''', runs=2)
        self.assertEqual(stdout, 'source closed\n')

    def test_the_asyncio_loop_of_a_finished_thread_kept_to_the_end(self):
        # Each thread has its guest loop; one that outlives its thread in
        # a global goes at exit like the main thread's, without a word.
        self.run_script('''
            kept = {}

            def thread():
                own = GLib.MainContext.new()
                own.push_thread_default()
                own_engine = AsyncGui.Engine.new_for_context(own)

                @own_engine.job
                async def job():
                    await asyncio.sleep(0.01)
                    kept['loop'] = asyncio.get_running_loop()

                running = job()
                while not running.is_finished():
                    own.iteration(True)
                own_engine.run_dispose()
                own.pop_thread_default()

            other = threading.Thread(target=thread)
            other.start()
            other.join()
            assert 'loop' in kept
        ''', runs=2)

    def test_list_of_tasks_yielded_right_before_the_end(self):
        self.run_script('''
            @engine.job
            def job():
                yield [Task(work, i) for i in range(100)]

            job()
        ''')

    def test_list_of_tasks_running_at_the_end(self):
        self.run_script('''
            @engine.job
            def job():
                yield [Task(work, i) for i in range(200)]

            job()
            wait_until_started()
        ''')

    def test_multi_task_in_an_async_def_job(self):
        self.run_script('''
            @engine.job
            async def job():
                await MultiTask([Task(work, i) for i in range(100)], max_workers=2,
                                skip_errors=True)

            job()
            wait_until_started()
        ''')

    def test_async_for_over_a_multi_task_one_call_per_item(self):
        self.run_script('''
            @engine.job
            async def job():
                async for value in MultiTask([Task(work, i) for i in range(500)],
                                             unordered=True):
                    pass

            job()
            wait_until_started()
        ''')

    def test_python_values_held_by_tasks_and_rows_at_the_end(self):
        # The AgTasks and the rows still hold GValues of Python objects,
        # freed (taking the GIL) when the engine is disposed at exit or
        # when the wrappers go, never after Python has finalized.
        self.run_script('''
            class Payload:
                def __init__(self, i):
                    self.i = i

            def make(i):
                started.set()
                time.sleep(0.005)
                return Payload(i)

            done = Task(make, 0).gtask
            engine.run_async(done, None, None)
            rows = MultiTask([Task(make, i) for i in range(200)]).gtask
            items = [rows.get_item(i) for i in range(200)]
            engine.run_async(rows, None, None)
            while not done.is_finished():
                context.iteration(True)
            wait_until_started()
        ''')

    def test_pipeline_over_a_range(self):
        self.run_script('''
            def double(i):
                started.set()
                return 2 * i

            @engine.job
            async def job():
                async for value in AsyncGui.pipe(double, None, min_count=64):
                    pass

            job()
            wait_until_started()
            for _ in range(20):
                context.iteration(False)
        ''')

    def test_task_function_still_running_is_waited_for(self):
        # The function is in a sleep when the script ends: the exit waits
        # for it (as Python waits for its threads) and its output arrives.
        stdout = self.run_script('''
            def slow():
                started.set()
                time.sleep(0.3)
                print('slow function returned', flush=True)

            @engine.job
            def job():
                yield Task(slow)

            job()
            wait_until_started()
        ''', runs=2)
        self.assertEqual(stdout, 'slow function returned\n')

    def test_generator_and_async_def_jobs_awaiting_tasks(self):
        self.run_script('''
            @engine.job
            def generator_job():
                while True:
                    yield Task(work, 1)

            @engine.job
            async def async_job():
                while True:
                    await Task(work, 2)

            generator_job()
            async_job()
            wait_until_started()
        ''')

    def test_process_task_in_flight(self):
        self.run_script('''
            @engine.job
            def job():
                yield [ProcessTask(work, i, 5) for i in range(2)]

            if __name__ == '__main__':
                job()
                for _ in range(50):
                    context.iteration(False)
                    time.sleep(0.005)
        ''')

    def test_work_on_an_engine_of_its_own_that_was_dropped(self):
        self.run_script('''
            def make_and_drop():
                own = AsyncGui.Engine.new_for_context(context)

                @own.job
                def job():
                    yield [Task(work, i, 0.05) for i in range(100)]
                return job()

            make_and_drop()
            wait_until_started()
        ''')


if __name__ == '__main__':
    sys.exit(agtest.main(ExitWithWorkInFlightTest))
