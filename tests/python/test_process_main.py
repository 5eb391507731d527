#!/usr/bin/python3
# test_process_main.py: ProcessTask from programs started in every way
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A worker process loads the parent's main module as multiprocessing's
# spawn start method does: a module run with -m is imported by name (not
# a package's __main__, which runs its application unconditionally); a
# script is run by path; -c and the interactive prompt have none. Each
# test lays out a small program in a temporary folder and runs it as a
# subprocess of this interpreter, with this environment, in that folder.
# The program prints what its jobs got back.

import os
import subprocess
import sys
import tempfile
import textwrap

import agtest

TIMEOUT_S = 60

# What every program's jobs do: one ProcessTask and a MultiProcessTask of
# ``func``, printing the values or the exception.
RUN_JOBS = '''
def run_jobs(func):
    import gi
    gi.require_version('AsyncGui', '1')
    from gi.repository import AsyncGui
    from gi.repository.AsyncGui import MultiProcessTask, ProcessTask

    engine = AsyncGui.Engine.get_default()

    @engine.job
    def job():
        one = yield ProcessTask(func, 3)
        many = yield MultiProcessTask([ProcessTask(func, i) for i in range(4)], max_workers=2)
        return one, many

    try:
        print(job().result(timeout=30))
    except Exception as exc:
        print('%s: %s' % (type(exc).__name__, exc))
'''

WORK = '''
import os

# Imported by the program first: workers inherit its environment.
os.environ.setdefault('TEST_PROGRAM_PID', str(os.getpid()))
PROGRAM_PID = int(os.environ['TEST_PROGRAM_PID'])


def crunch(n):
    # And where it ran: not in the program.
    return (n * n, os.getpid() != PROGRAM_PID)
'''

SUCCESS = '((9, True), [(0, True), (1, True), (4, True), (9, True)])\n'


def program(*parts):
    return ''.join(textwrap.dedent(part) for part in parts)


class MainModuleTest(agtest.unittest.TestCase):

    def run_program(self, files, argv):
        with tempfile.TemporaryDirectory() as folder:
            for name, text in files.items():
                path = os.path.join(folder, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, 'w') as f:
                    f.write(text)
            env = dict(os.environ)
            env.pop('TEST_PROGRAM_PID', None)
            done = subprocess.run([sys.executable] + argv, cwd=folder, env=env,
                                  capture_output=True, text=True, timeout=TIMEOUT_S)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout, done.stderr

    def check_success(self, files, argv):
        stdout, stderr = self.run_program(files, argv)
        self.assertEqual(stdout, SUCCESS)
        self.assertEqual(stderr, '')

    # (a) a script

    def test_script_with_its_own_function(self):
        self.check_success({
            'app.py': program(RUN_JOBS, WORK, '''
                if __name__ == '__main__':
                    run_jobs(crunch)
            '''),
        }, ['app.py'])

    def test_script_with_a_function_of_a_module_beside_it(self):
        self.check_success({
            'work.py': WORK,
            'app.py': program(RUN_JOBS, '''
                from work import crunch

                if __name__ == '__main__':
                    run_jobs(crunch)
            '''),
        }, ['app.py'])

    # (b) python3 -m pkg, whose __main__.py imports relatively

    def test_package_run_with_m_and_a_function_of_one_of_its_modules(self):
        self.check_success({
            'pkg/__init__.py': '',
            'pkg/work.py': WORK,
            'pkg/app.py': program(RUN_JOBS, '''
                from .work import crunch


                def main():
                    run_jobs(crunch)
            '''),
            # The usual layout: no __name__ guard, the application runs.
            'pkg/__main__.py': program('''
                from .app import main

                main()
            '''),
        }, ['-m', 'pkg'])

    # (c) a function defined in pkg/__main__.py itself

    def test_function_of_a_package_main_is_refused_naming_it(self):
        stdout, stderr = self.run_program({
            'pkg/__init__.py': '',
            'pkg/work.py': WORK,
            'pkg/__main__.py': program(RUN_JOBS, '''
                from . import work


                def local_crunch(n):
                    return n * n

                run_jobs(local_crunch)
            '''),
        }, ['-m', 'pkg'])
        self.assertTrue(stdout.startswith('TypeError: '), stdout)
        self.assertIn('local_crunch', stdout)
        self.assertIn('pkg.__main__', stdout)
        self.assertEqual(stderr, '')

    def test_module_of_a_package_run_with_m_and_its_own_function(self):
        # -m pkg.tool: the worker imports pkg.tool under the name
        # __mp_main__, as multiprocessing does, so its functions work.
        self.check_success({
            'pkg/__init__.py': '',
            'pkg/shared.py': 'TIMES = 1\n',
            'pkg/tool.py': program(RUN_JOBS, WORK, '''
                from .shared import TIMES

                if __name__ == '__main__':
                    run_jobs(crunch)
            '''),
        }, ['-m', 'pkg.tool'])

    # (d) python3 -m unittest

    def test_unittest_run_with_m(self):
        stdout, stderr = self.run_program({
            'test_crunch.py': program(RUN_JOBS, WORK, '''
                import unittest


                class CrunchTest(unittest.TestCase):
                    def test_crunch_in_workers(self):
                        run_jobs(crunch)
            '''),
        }, ['-m', 'unittest', 'test_crunch'])
        self.assertEqual(stdout, SUCCESS)
        self.assertIn('Ran 1 test', stderr)
        self.assertTrue(stderr.endswith('OK\n'), stderr)

    # (e) python3 -c

    def test_command_line_code_with_a_function_of_a_module(self):
        self.check_success({
            'work.py': WORK,
            'run.py': RUN_JOBS,
        }, ['-c', 'from run import run_jobs; from work import crunch; run_jobs(crunch)'])

    def test_function_of_command_line_code_is_refused_naming_it(self):
        stdout, stderr = self.run_program({
            'run.py': RUN_JOBS,
        }, ['-c', textwrap.dedent('''
            from run import run_jobs

            def typed_in(n):
                return n

            run_jobs(typed_in)
        ''')])
        self.assertTrue(stdout.startswith('TypeError: '), stdout)
        self.assertIn('typed_in', stdout)
        self.assertEqual(stderr, '')

    def test_worker_never_takes_its_own_main_for_the_programs(self):
        # Only a worker task made by hand can name __main__ here; the
        # worker's own __main__ (its main() function) must not answer.
        stdout, stderr = self.run_program({}, ['-c', textwrap.dedent('''
            import pickle
            import gi
            gi.require_version('AsyncGui', '1')
            from gi.repository import AsyncGui, GLib

            engine = AsyncGui.Engine.get_default()
            task = AsyncGui.WorkerTask.new_python(
                '__main__:main', GLib.Bytes.new(pickle.dumps(((), {}))))

            @engine.job
            def job():
                yield AsyncGui.ProcessTask(pickle.dumps, 1)   # sets the workers up
                yield task

            try:
                job().result(timeout=30)
            except GLib.Error as error:
                print(error.message)
        ''')])
        self.assertEqual(stdout, 'ImportError: main is defined in the main module of the '
                         'program, and the program runs from -c or interactively: it has no '
                         'main module to load\n')
        self.assertEqual(stderr, '')


if __name__ == '__main__':
    sys.exit(agtest.main(MainModuleTest))
