#!/usr/bin/python3
# test_interrupt.py: Ctrl-C (KeyboardInterrupt) while jobs run
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Each test runs a script as a subprocess of this interpreter, with this
# environment, and checks how it ended. A KeyboardInterrupt that strikes the
# binding's own code while it resumes a job must not leave the job running
# with nothing to resume it: the job gets the interrupt at its pending
# yield. And the interrupt reaches the top level, so the script ends as
# Python scripts end on Ctrl-C: a traceback ending in KeyboardInterrupt,
# killed by SIGINT.
#
# The binding calls AsyncGui._fault_hook(point) at a few points of a job's
# step; the scripts raise KeyboardInterrupt there, once. The real-signal
# scripts send SIGINT to the main thread from a worker whose task a job
# started from inside the running loop (or wait), so that the interrupt
# strikes the binding's code that resumes the job, or the loop's handler.

import os
import signal
import subprocess
import sys
import tempfile
import textwrap

import agtest

TIMEOUT_S = 30

PRELUDE = '''
import signal
import sys
import threading
import time

import gi
gi.require_version('AsyncGui', '1')
from gi.repository import AsyncGui, GLib
from gi.repository.AsyncGui import Task
from gi.overrides import AsyncGui as overrides

engine = AsyncGui.Engine.get_default()
context = GLib.MainContext.default()
MAIN_THREAD = threading.get_ident()


def say(*words):
    print(*words, flush=True)


def work(value):
    return value


def interrupt_main_thread(value):
    # From a worker: the main thread is in C, so the interrupt waits for
    # the next Python code it runs.
    signal.pthread_kill(MAIN_THREAD, signal.SIGINT)
    return value


@engine.job
def two_steps(second_func=work):
    try:
        first = yield Task(work, 'first')
        say('got', first)
        # Submitted from the job's code: the loop is running by now.
        second = yield Task(second_func, 'second')
        say('got', second)
    except KeyboardInterrupt:
        say('job interrupted')
        raise
    finally:
        say('job cleaned up')


def run_until_finished(job):
    deadline = time.monotonic() + 10
    while not job.is_finished():
        if time.monotonic() > deadline:
            say('job stuck in state', job.get_state().value_nick)
            sys.exit(3)
        context.iteration(False)
        time.sleep(0.001)


def interrupt_at(point, occurrence):
    seen = []

    def hook(where):
        if where == point:
            seen.append(where)
            if len(seen) == occurrence:
                raise KeyboardInterrupt
    overrides._fault_hook = hook
'''


class InterruptTest(agtest.unittest.TestCase):

    def run_script(self, body):
        source = PRELUDE + textwrap.dedent(body)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, 'script.py')
            with open(path, 'w') as f:
                f.write(source)
            try:
                return subprocess.run([sys.executable, path], capture_output=True, text=True,
                                      timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired as expired:
                self.fail('the script hung; it printed %r' % (expired.stdout,))

    def assert_ended_by_keyboard_interrupt(self, done):
        self.assertEqual(done.returncode, -signal.SIGINT, done.stderr)
        self.assertTrue(done.stderr.startswith('Traceback'), done.stderr)
        self.assertTrue(done.stderr.endswith('\nKeyboardInterrupt\n'), done.stderr)

    def check_job_failed_with_the_interrupt(self, point, occurrence, said_before):
        done = self.run_script('''
            interrupt_at(%r, %d)
            job = two_steps()
            run_until_finished(job)
            say('state', job.get_state().value_nick)
            job.result()
        ''' % (point, occurrence))
        self.assertEqual(done.stdout, said_before + 'job interrupted\njob cleaned up\n'
                         'state failed\n')
        self.assert_ended_by_keyboard_interrupt(done)

    def test_interrupt_when_the_await_callback_starts_fails_the_job(self):
        self.check_job_failed_with_the_interrupt('await-done', 1, '')

    def test_interrupt_before_the_job_awaits_again_fails_the_job(self):
        self.check_job_failed_with_the_interrupt('after-send', 2, 'got first\n')

    def test_interrupt_after_the_job_awaits_again_fails_the_job(self):
        self.check_job_failed_with_the_interrupt('after-await', 2, 'got first\n')

    def test_interrupt_while_starting_a_job_reaches_the_caller_and_ends_the_job(self):
        done = self.run_script('''
            interrupt_at('after-send', 1)
            try:
                two_steps()
            except KeyboardInterrupt:
                say('caller interrupted')
                raise
        ''')
        self.assertEqual(done.stdout, 'job interrupted\njob cleaned up\ncaller interrupted\n')
        self.assert_ended_by_keyboard_interrupt(done)

    def test_ctrl_c_at_the_await_callback_of_a_c_loop_fails_the_job(self):
        # The loop runs in C without PyGObject's SIGINT handler (as a C
        # application embedding Python, or a loop run through the
        # introspected method, would).
        done = self.run_script('''
            job = two_steps(interrupt_main_thread)
            loop = GLib.MainLoop.new(context, False)
            job.connect('notify::state', lambda *unused: job.is_finished() and loop.quit())
            super(GLib.MainLoop, loop).run()
            say('state', job.get_state().value_nick)
            job.result()
        ''')
        self.assertEqual(done.stdout, 'got first\njob interrupted\njob cleaned up\n'
                         'state failed\n')
        self.assert_ended_by_keyboard_interrupt(done)

    def test_system_exit_a_job_lets_through_leaves_job_wait(self):
        # sys.exit() in a Task's function, raised again at the job's
        # yield: the script's finally blocks run, and it exits with the
        # status given.
        done = self.run_script('''
            def leave(status):
                sys.exit(status)

            @engine.job
            def job():
                yield Task(leave, 3)

            try:
                job().wait(10)
                say('wait returned')
            finally:
                say('finally ran')
        ''')
        self.assertEqual(done.stdout, 'finally ran\n', done.stderr)
        self.assertEqual(done.returncode, 3, done.stderr)

    def test_keyboard_interrupt_a_job_lets_through_leaves_job_result(self):
        done = self.run_script('''
            def interrupt():
                raise KeyboardInterrupt

            @engine.job
            def job():
                yield Task(interrupt)

            try:
                job().result(10)
            except KeyboardInterrupt:
                say('interrupted')
        ''')
        self.assertEqual(done.stdout, 'interrupted\n', done.stderr)
        self.assertEqual(done.returncode, 0, done.stderr)
        # Raised from the wait, not printed by PyGObject on the way.
        self.assertEqual(done.stderr, '')

    def test_keyboard_interrupt_a_job_lets_through_is_printed_under_a_main_loop(self):
        # PyGObject prints what a callback raises: the interrupt is not lost.
        done = self.run_script('''
            def interrupt():
                raise KeyboardInterrupt

            @engine.job
            def job():
                yield Task(interrupt)

            job()
            loop = GLib.MainLoop()
            GLib.timeout_add(300, loop.quit)
            loop.run()
            say('loop went on')
        ''')
        self.assertEqual(done.stdout, 'loop went on\n', done.stderr)
        self.assertIn('KeyboardInterrupt', done.stderr)

    def test_ctrl_c_during_job_wait_raises_there_and_the_job_goes_on(self):
        done = self.run_script('''
            @engine.job
            def long_job():
                yield Task(work, 'first')
                say('job resumed')
                # Submitted from the job's code: the wait or loop is
                # running by now.
                yield Task(interrupt_main_thread, 'second')
                yield AsyncGui.sleep(60)

            job = long_job()
            try:
                job.wait(30)
            except KeyboardInterrupt:
                say('wait interrupted; job', job.get_state().value_nick)
                raise
        ''')
        self.assertEqual(done.stdout, 'job resumed\nwait interrupted; job running\n')
        self.assert_ended_by_keyboard_interrupt(done)

    def test_ctrl_c_during_main_loop_run_raises_there_and_the_job_goes_on(self):
        done = self.run_script('''
            @engine.job
            def long_job():
                yield Task(work, 'first')
                say('job resumed')
                # Submitted from the job's code: the wait or loop is
                # running by now.
                yield Task(interrupt_main_thread, 'second')
                yield AsyncGui.sleep(60)

            job = long_job()
            try:
                GLib.MainLoop.new(context, False).run()
            except KeyboardInterrupt:
                say('run interrupted; job', job.get_state().value_nick)
                raise
        ''')
        self.assertEqual(done.stdout, 'job resumed\nrun interrupted; job running\n')
        self.assert_ended_by_keyboard_interrupt(done)


if __name__ == '__main__':
    sys.exit(agtest.main(InterruptTest))
