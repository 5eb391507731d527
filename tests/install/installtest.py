# installtest.py: what the tests in tests/install share: running commands
# with their output shown on failure, and a scratch folder.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import shutil
import subprocess
import sys
import tempfile

# Variables that would tell asyncgui or the languages where things are:
# the tests prove that nothing needs them.
HINTS = ('ASYNCGUI_WORKER_DIR', 'GI_TYPELIB_PATH', 'LD_LIBRARY_PATH', 'PYTHONPATH',
         'PKG_CONFIG_PATH', 'XDG_DATA_DIRS', 'MESON_TEST_ITERATION')


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in HINTS}
    # No display is needed, and meson's own variables from the outer test
    # run must not leak into the inner builds.
    env = {k: v for k, v in env.items() if not k.startswith('MESON')}
    env.update(extra)
    return env


def run(argv, env=None, cwd=None, timeout=300):
    print('$', ' '.join(str(a) for a in argv), flush=True)
    result = subprocess.run([str(a) for a in argv], env=env or clean_env(), cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        print(result.stdout)
        sys.exit('failed with status %d: %s' % (result.returncode, argv[0]))
    return result.stdout


def check(condition, message):
    if not condition:
        sys.exit('FAIL: ' + message)
    print('ok:', message, flush=True)


class Scratch:
    """A temporary folder, removed at the end unless AG_KEEP_SCRATCH is set."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix='asyncgui-install-')
        return self.path

    def __exit__(self, *exc):
        if os.environ.get('AG_KEEP_SCRATCH'):
            print('scratch kept in', self.path)
        else:
            shutil.rmtree(self.path, ignore_errors=True)
