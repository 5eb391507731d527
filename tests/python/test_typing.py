#!/usr/bin/python3
# test_typing.py: the override's stub, AsyncGui.pyi, checked by mypy
# (Debian: python3-mypy)
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# - mypy.stubtest compares the stub with the override as it imports (this
#   tree's library and typelib), so a name, an argument or a default that
#   changes in AsyncGui.py and not in the stub fails here;
# - typing/uses_api.py, typed code written as the README shows the API,
#   must pass `mypy --strict`;
# - typing/misuses_api.py must fail, exactly on the lines it marks.
#
# mypy finds the stub as gi/repository/AsyncGui.pyi (what `from
# gi.repository import AsyncGui` reads) and gi/overrides/AsyncGui.pyi (what
# stubtest checks) in a folder on MYPYPATH, with typing/stubs giving just
# enough of PyGObject's own types.

import os
import re
import shutil
import subprocess
import sys
import tempfile

import agtest

try:
    import mypy  # noqa: F401
except ImportError:
    print('python3-mypy is not installed: skipped')
    raise SystemExit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
TYPING = os.path.join(HERE, 'typing')
STUB = os.path.join(HERE, '..', '..', 'bindings', 'python', 'gi', 'overrides', 'AsyncGui.pyi')
MARK = re.compile(r'#\s*error:\s*(.+)$')
REPORTED = re.compile(r'^(?P<file>[^:]+):(?P<line>\d+): error: (?P<message>.*)$')


class StubTest(agtest.unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix='asyncgui-typing-')
        stubs = os.path.join(cls.folder, 'stubs')
        shutil.copytree(os.path.join(TYPING, 'stubs'), stubs)
        for package in ('overrides', 'repository'):
            shutil.copy(STUB, os.path.join(stubs, 'gi', package, 'AsyncGui.pyi'))
        cls.env = dict(os.environ, MYPYPATH=stubs)
        cls.cache = os.path.join(cls.folder, 'cache')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def run_mypy(self, *args):
        done = subprocess.run([sys.executable, '-m', 'mypy', '--config-file', os.devnull,
                               '--cache-dir', self.cache, '--no-error-summary',
                               '--hide-error-context', *args],
                              env=self.env, capture_output=True, text=True, timeout=300)
        return done.returncode, done.stdout + done.stderr

    def test_stub_matches_the_override(self):
        done = subprocess.run([sys.executable, '-m', 'mypy.stubtest', 'gi.overrides.AsyncGui',
                               '--mypy-config-file', os.devnull,
                               '--allowlist', os.path.join(TYPING, 'stubtest-allowlist.txt')],
                              env=self.env, capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)

    def test_typed_code_using_the_api_passes_strict_checks(self):
        status, output = self.run_mypy('--strict', os.path.join(TYPING, 'uses_api.py'))
        self.assertEqual((status, output.replace('%s: No [mypy] section in config file\n'
                                                 % os.devnull, '')), (0, ''))

    def test_misuses_fail_on_the_lines_they_mark(self):
        path = os.path.join(TYPING, 'misuses_api.py')
        with open(path) as source:
            expected = {number: MARK.search(line).group(1)
                        for number, line in enumerate(source, 1) if MARK.search(line)}
        self.assertGreaterEqual(len(expected), 10)
        status, output = self.run_mypy('--strict', path)
        self.assertEqual(status, 1, output)
        reported = {}
        for line in output.splitlines():
            match = REPORTED.match(line)
            if match:
                reported.setdefault(int(match['line']), []).append(match['message'])
        self.assertEqual(sorted(reported), sorted(expected), output)
        for number, text in expected.items():
            self.assertTrue(any(text in message for message in reported[number]),
                            'line %d: %r not in %r' % (number, text, reported[number]))


if __name__ == '__main__':
    raise SystemExit(agtest.main(StubTest))
