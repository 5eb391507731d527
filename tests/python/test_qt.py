#!/usr/bin/python3
# test_qt.py: asyncgui in a PyQt6 application
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Qt on Linux runs its event loop on GLib's default main context, so the
# default engine delivers into a Qt application. Each test runs a program
# as a subprocess with this environment (the build tree's library, typelib
# and overrides) and Qt's offscreen platform, so no display is needed:
# - the Qt example (examples/python/qt-primes.py) counts primes on worker
#   threads while a 0 ms QTimer keeps Qt's loop always busy; its QLabel
#   and QProgressBar must end complete;
# - with QT_NO_GLIB set, Qt's loop never runs GLib's context and nothing
#   would be delivered: the binding warns once, at the caller's line, and
#   only when Qt is loaded.
# Without PyQt6 (Debian: python3-pyqt6) the tests are skipped, saying so.

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

import agtest

TIMEOUT_S = 90
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       '..', '..', 'examples', 'python', 'qt-primes.py')

try:
    import PyQt6.QtCore  # noqa: F401
    HAVE_PYQT6 = True
except ImportError:
    HAVE_PYQT6 = False

WARNING_PROGRAM = '''
import sys
import warnings

import gi
gi.require_version('AsyncGui', '1')
from gi.repository import AsyncGui

if 'qt' in sys.argv[1:]:
    from PyQt6.QtCore import QCoreApplication
    app = QCoreApplication(sys.argv[:1])

engine = AsyncGui.Engine.get_default()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')

    @engine.job
    def job():
        return 1

    job()  # the line a warning must point at
    job()
for warning in caught:
    print('%s|%s|%d|%s' % (warning.category.__name__, warning.filename,
                           warning.lineno, warning.message))
'''


def qt_environment(**extra):
    env = dict(os.environ, QT_QPA_PLATFORM='offscreen')
    env.pop('QT_NO_GLIB', None)
    env.update(extra)
    return env


@unittest.skipUnless(HAVE_PYQT6, 'PyQt6 is not installed (Debian: python3-pyqt6)')
class QtTest(unittest.TestCase):

    def run_warning_program(self, *args, **env):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, 'program.py')
            with open(path, 'w') as f:
                f.write(textwrap.dedent(WARNING_PROGRAM))
            done = subprocess.run([sys.executable, path, *args], capture_output=True,
                                  text=True, timeout=TIMEOUT_S, env=qt_environment(**env))
        self.assertEqual(done.returncode, 0, done.stderr)
        line = WARNING_PROGRAM.splitlines().index('    job()  # the line a warning must point at') + 1
        return [tuple(l.split('|', 3)) for l in done.stdout.splitlines()], path, line

    def test_example_delivers_into_a_qt_window_kept_busy_by_a_zero_timer(self):
        done = subprocess.run([sys.executable, EXAMPLE, '--auto'], capture_output=True,
                              text=True, timeout=TIMEOUT_S, env=qt_environment())
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        # 17,984 primes below 200,000; 40 chunks, each moving the bar.
        self.assertIn('label: 17984 primes below 200000\n', done.stdout)
        self.assertIn('progress: 40 of 40\n', done.stdout)
        ticks = int(done.stdout.split('a 0 ms QTimer ticked ')[1].split()[0])
        self.assertGreater(ticks, 0)

    def test_qt_no_glib_with_qt_loaded_warns_once_at_the_callers_line(self):
        warnings, path, line = self.run_warning_program('qt', QT_NO_GLIB='1')
        self.assertEqual(len(warnings), 1, warnings)
        category, filename, lineno, message = warnings[0]
        self.assertEqual(category, 'RuntimeWarning')
        self.assertEqual((filename, int(lineno)), (path, line))
        self.assertIn('QT_NO_GLIB', message)
        self.assertIn('PyQt6', message)

    def test_qt_no_glib_without_qt_says_nothing(self):
        warnings, _, _ = self.run_warning_program(QT_NO_GLIB='1')
        self.assertEqual(warnings, [])

    def test_qt_with_its_glib_loop_says_nothing(self):
        warnings, _, _ = self.run_warning_program('qt')
        self.assertEqual(warnings, [])


if __name__ == '__main__':
    sys.exit(agtest.main(QtTest))
