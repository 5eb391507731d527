#!/usr/bin/python3
# test_extension.py: the GNOME Shell example extension, in a real headless shell
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Starts gnome-shell 43 as a headless Wayland compositor with a virtual
# monitor, in a private session bus, with the build tree's AsyncGui on
# GI_TYPELIB_PATH and LD_LIBRARY_PATH, and a session mode of its own that
# enables examples/gnome-shell/asyncgui-primes@asyncgui.gnome.org (copied
# into a temporary XDG_DATA_HOME). The extension counts primes in an
# asyncgui GJS worker process and puts the count in a top-bar label; the
# test waits for the shell to log what the label shows, then ends the
# shell. The shell also gets a private "system" bus with nobody on it:
# without one it fails at start-up looking for logind.
#
# Usage: test_extension.py SOURCE-ROOT BUILD-ROOT. Exits 77 (a skip, which
# says why) when gnome-shell is not installed (Debian: gnome-shell).

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

UUID = 'asyncgui-primes@asyncgui.gnome.org'
TIMEOUT_S = 90
EXPECTED = '17984 primes below 200000'
EXIT_SKIP = 77


def main(source_root, build_root):
    shell = shutil.which('gnome-shell')
    if shell is None:
        print('SKIP: gnome-shell is not installed (Debian: gnome-shell); the extension was not run')
        return EXIT_SKIP

    library_dir = os.path.join(build_root, 'asyncgui')
    with tempfile.TemporaryDirectory(prefix='asyncgui-shell-') as home:
        data_home = os.path.join(home, 'data')
        data_dir = os.path.join(home, 'system-data')
        runtime_dir = os.path.join(home, 'run')
        os.makedirs(os.path.join(data_dir, 'gnome-shell', 'modes'))
        os.makedirs(runtime_dir, mode=0o700)
        shutil.copytree(os.path.join(source_root, 'examples', 'gnome-shell', UUID),
                        os.path.join(data_home, 'gnome-shell', 'extensions', UUID))
        with open(os.path.join(data_dir, 'gnome-shell', 'modes', 'asyncgui-test.json'), 'w') as f:
            json.dump({'parentMode': 'user', 'enabledExtensions': [UUID]}, f)

        env = dict(os.environ)
        env.update({
            'HOME': home,
            'XDG_DATA_HOME': data_home,
            'XDG_DATA_DIRS': ':'.join([data_dir, '/usr/local/share', '/usr/share']),
            'XDG_CONFIG_HOME': os.path.join(home, 'config'),
            'XDG_CACHE_HOME': os.path.join(home, 'cache'),
            'XDG_RUNTIME_DIR': runtime_dir,
            'GSETTINGS_BACKEND': 'memory',
            'GI_TYPELIB_PATH': ':'.join(filter(None, [library_dir, env.get('GI_TYPELIB_PATH')])),
            'LD_LIBRARY_PATH': ':'.join(filter(None, [library_dir, env.get('LD_LIBRARY_PATH')])),
        })
        for name in ('DISPLAY', 'WAYLAND_DISPLAY', 'DBUS_SESSION_BUS_ADDRESS', 'G_DEBUG'):
            env.pop(name, None)

        system_bus = subprocess.run(['dbus-daemon', '--session', '--fork', '--print-address=1',
                                     '--print-pid=1'], capture_output=True, text=True, env=env,
                                    check=True).stdout.split()
        env['DBUS_SYSTEM_BUS_ADDRESS'] = system_bus[0]
        log_path = os.path.join(home, 'shell.log')
        try:
            with open(log_path, 'w') as log:
                process = subprocess.Popen(
                    ['dbus-run-session', '--', shell, '--headless', '--virtual-monitor', '800x600',
                     '--wayland', '--no-x11', '--mode=asyncgui-test'],
                    stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
                shown = wait_for_label(log_path, process)
                end_session(process)
        finally:
            os.kill(int(system_bus[1]), signal.SIGTERM)

        with open(log_path) as f:
            output = f.read()
        errors = [line for line in output.splitlines()
                  if UUID in line and ('rror' in line or 'xception' in line)]
        print(output if shown != EXPECTED else '\n'.join(l for l in output.splitlines()
                                                             if 'asyncgui' in l))
        if errors:
            print('FAIL: the shell reported errors of the extension:\n' + '\n'.join(errors))
            return 1
        if shown != EXPECTED:
            print('FAIL: the label showed %r, not %r' % (shown, EXPECTED))
            return 1
        print('ok: a headless gnome-shell ran the extension; its panel label shows “%s”' % shown)
        return 0


def end_session(process):
    """Ends the shell and everything of its session (its process group):
    not only dbus-run-session, whose end does not wait for the shell and
    the services it started, which may still be writing into the
    temporary home (the shell's shader cache) when it is removed."""
    group = process.pid
    for sig, grace_s in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            process.poll()
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                process.wait()
                return
            time.sleep(0.05)
    process.wait()


def wait_for_label(log_path, process):
    """What the extension says its label shows, or None at the deadline."""
    pattern = re.compile(r'asyncgui-primes: the panel label shows “(.*)”')
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        with open(log_path) as f:
            match = pattern.search(f.read())
        if match:
            return match.group(1)
        time.sleep(0.2)
    return None


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
