# agtest.py: what the Python test files share
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# meson test runs each test file with Debian's /usr/bin/python3, with
# GI_TYPELIB_PATH and LD_LIBRARY_PATH pointing at the build tree's asyncgui/
# folder and PYTHONPATH at bindings/python, so `from gi.repository import
# AsyncGui` loads the library, the typelib and the overrides of this tree.

import math
import sys
import threading
import time
import unittest

import gi

gi.require_version('AsyncGui', '1')
from gi.repository import AsyncGui, GLib  # noqa: E402

MAIN_THREAD = threading.get_ident()
SAFETY_S = 15


def identity(value, delay=0.0):
    """A task function: value, after delay seconds."""
    if delay:
        time.sleep(delay)
    return value


def now_ms():
    return time.monotonic() * 1000.0


class JobTestCase(unittest.TestCase):
    """A fresh engine on the default main context per test. It has 8
    threads, so "no limit" means more parallel work than the 2 processors
    of the machines these run on."""

    max_threads = 8

    def setUp(self):
        self.context = GLib.MainContext.default()
        self.engine = AsyncGui.Engine.new_for_context(self.context)
        self.engine.set_max_threads(self.max_threads)
        self.loop = GLib.MainLoop.new(self.context, False)

    def tearDown(self):
        self.engine = None
        drain(self.context)

    def run_loop_until(self, predicate, timeout_s=SAFETY_S):
        """Runs the main loop (not a nested wait) until predicate() holds."""
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                self.fail('gave up after %s s' % timeout_s)
            self.context.iteration(True)

    def run_job(self, job, timeout_s=SAFETY_S):
        """Runs the main loop until the job has finished."""
        self.run_loop_until(job.is_finished, timeout_s)
        return job

    def run_loop_for(self, seconds):
        end = time.monotonic() + seconds
        # Rounded up: a timer that fires before `end` would leave the
        # loop blocked with nothing left to wake it.
        timer = GLib.Timeout(max(1, math.ceil(seconds * 1000)))
        timer.set_callback(lambda *unused: GLib.SOURCE_REMOVE)
        timer.attach(self.context)
        while time.monotonic() < end:
            self.context.iteration(True)
        timer.destroy()

    def at(self, ms, func, *args):
        """Calls func(*args) on the main loop ms milliseconds from now."""
        def fire():
            func(*args)
            return GLib.SOURCE_REMOVE
        return GLib.timeout_add(int(ms), fire)


def drain(context):
    deadline = time.monotonic() + 1
    while context.iteration(False) and time.monotonic() < deadline:
        pass


def main(*cases):
    loader = unittest.defaultTestLoader
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(case) for case in cases)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print('%d passed, %d failed' % (passed, failed))
    return 0 if result.wasSuccessful() else 1
