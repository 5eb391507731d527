#!/usr/bin/python3
# test-subproject.py SOURCE-ROOT c|vala: builds a tiny parent project that
# embeds this source tree as a subproject through a wrap with
# dependency_names = asyncgui-1, and runs its program: a worker thread and
# the C worker process, found in the subproject's build tree with no
# environment variable.
#
#   c     the C-only parent, configured first as on a machine without
#         g-ir-scanner, valac and vapigen (auto leaves introspection and the
#         VAPI out), and then with introspection turned off by the parent
#   vala  the Vala parent, compiled against the subproject's VAPI
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import re
import shutil
import subprocess
import sys

from installtest import Scratch, check, clean_env, run

HERE = os.path.dirname(os.path.abspath(__file__))
MISSING_TOOLS = re.compile(r'^(g-ir-.*|valac.*|vapigen.*)$')


def make_parent(scratch, source_root, kind):
    parent = os.path.join(scratch, kind + '-parent')
    shutil.copytree(os.path.join(HERE, kind + '-parent'), parent)
    for name in os.listdir(os.path.join(HERE, 'common')):
        shutil.copy(os.path.join(HERE, 'common', name), parent)
    subprojects = os.path.join(parent, 'subprojects')
    os.mkdir(subprojects)
    shutil.copy(os.path.join(HERE, 'asyncgui.wrap'), subprojects)
    os.symlink(source_root, os.path.join(subprojects, 'asyncgui'))
    return parent


def asyncgui_options(build):
    options = json.loads(run(['meson', 'introspect', '--buildoptions', build]))
    return {o['name']: o['value'] for o in options if o['name'].startswith('asyncgui:')}


def built_files(build):
    found = set()
    for _, _, files in os.walk(os.path.join(build, 'subprojects')):
        found.update(files)
    return found


def run_program(build, program):
    module = os.path.join(build, 'libinstall-test-worker.so')
    output = run([os.path.join(build, program), module],
                 env=clean_env(G_DEBUG='fatal-criticals'))
    print(output)
    check('thread task: 42' in output, 'a task ran on a worker thread')
    check('worker task: pid' in output, 'a task ran in the C worker process of the subproject build')


def test_c(scratch, source_root):
    parent = make_parent(scratch, source_root, 'c')

    # A machine without the introspection and Vala tools: a PATH of every
    # program but those.
    bin_dir = os.path.join(scratch, 'bin')
    os.mkdir(bin_dir)
    for folder in os.environ['PATH'].split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            target = os.path.join(bin_dir, name)
            if not MISSING_TOOLS.match(name) and not os.path.lexists(target):
                os.symlink(os.path.join(folder, name), target)
    env = clean_env(PATH=bin_dir)
    build = os.path.join(scratch, 'build-auto')
    setup = run(['meson', 'setup', build, parent], env=env)
    print(setup)
    check(_summary(setup, 'introspection') == 'False',
          'auto leaves introspection out without g-ir-scanner')
    check(_summary(setup, 'vapi') == 'False', 'auto leaves the VAPI out without valac')
    run(['meson', 'compile', '-C', build], env=env)
    files = built_files(build)
    check('libasyncgui-1.so' in files, 'the subproject built the library')
    check(not any(f.endswith(('.gir', '.typelib', '.vapi')) for f in files),
          'no GIR, typelib or VAPI was built')
    run_program(build, 'run-worker')

    # The parent turns the optional parts off, with the tools installed.
    build_off = os.path.join(scratch, 'build-off')
    setup = run(['meson', 'setup', build_off, parent,
                 '-Dasyncgui:introspection=disabled', '-Dasyncgui:vapi=disabled'])
    check(_summary(setup, 'introspection') == 'False',
          'the parent turned introspection off')
    options = asyncgui_options(build_off)
    check(options.get('asyncgui:introspection') == 'disabled', 'the option reached the subproject')


def _summary(setup_output, key):
    """The value the subproject's summary() printed for key."""
    for line in setup_output.splitlines():
        name, sep, value = line.strip().partition(':')
        if sep and name.strip() == key:
            return value.strip()
    return None


def test_vala(scratch, source_root):
    parent = make_parent(scratch, source_root, 'vala')
    build = os.path.join(scratch, 'build')
    setup = run(['meson', 'setup', build, parent])
    check(_summary(setup, 'vapi') == 'True', 'the subproject builds its VAPI')
    run(['meson', 'compile', '-C', build])
    run_program(build, 'run-worker-vala')


def main():
    source_root = os.path.realpath(sys.argv[1])
    kind = sys.argv[2]
    with Scratch() as scratch:
        {'c': test_c, 'vala': test_vala}[kind](scratch, source_root)
    print('1 passed, 0 failed')


if __name__ == '__main__':
    main()
