#!/usr/bin/python3
# test-install-prefix.py SOURCE-ROOT: installs asyncgui with
# `meson install` into a temporary prefix and uses it from each language
# the way docs/installing.md tells a new user to, with nothing but what
# `pkg-config --variable=NAME asyncgui-1` says:
#
#   C       a program built with pkg-config runs a worker thread and the
#           installed C worker process (found with no environment variable)
#   Python  PYTHONPATH=$pythondir gets the override (ProcessTask, engine.job),
#           and a function runs in the installed Python worker
#   GJS     the module at resource:///org/gnome/AsyncGui/js/asyncgui.js runs
#           a function in the installed GJS worker; the installed file
#           $gjsmoduledir/asyncgui.js imports statically
#   Vala    valac --vapidir=$vapidir (and XDG_DATA_DIRS) finds the VAPI, and
#           so does a Meson project with vala_args naming it
#
# It also checks that configuring for a prefix where the interpreter reads
# no site directory warns that PYTHONPATH is needed.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import glob
import os
import sys

from installtest import Scratch, check, clean_env, run

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = '/usr/bin/python3'

PYTHON_PROGRAM = '''
import os
import sys

import gi
gi.require_version('AsyncGui', '1')
from gi.repository import AsyncGui
from gi.repository.AsyncGui import ProcessTask


def main():
    print('override:', sys.modules['gi.overrides.AsyncGui'].__file__)
    engine = AsyncGui.Engine.get_default()
    found = []

    @engine.job
    def use():
        found.append((yield ProcessTask(os.getpid)))

    assert use().wait(60), 'the job did not finish'
    assert found and found[0] != os.getpid(), found
    print('python worker pid', found[0])


# The worker loads this script too, to import what it calls.
if __name__ == '__main__':
    main()
'''

GJS_WORK = '''
export function double(x) {
    return 2 * x;
}
'''

GJS_PROGRAM = '''
import AsyncGui from 'gi://AsyncGui?version=1';

// Loads libasyncgui-1, which registers its resources.
const engine = AsyncGui.Engine.get_default();
const {spawn, processTask} = await import('resource:///org/gnome/AsyncGui/js/asyncgui.js');

const value = await spawn(job => job.run(processTask(WORK_URI, 'double', 21)), {engine});
print('gjs worker value', value);
'''

GJS_STATIC = '''
import {spawn} from 'GJS_MODULE_URI';
print('static import', typeof spawn);
'''

VALA_PROGRAM = '''
int main () {
    var loop = new MainLoop ();
    int status = 1;
    var task = new AsyncGui.Task ((task, cancellable) => {
        task.return_int (42);
    });
    AsyncGui.Engine.get_default ().run.begin (task, null, (obj, res) => {
        try {
            status = AsyncGui.Engine.get_default ().run.end (res).get_int () == 42 ? 0 : 1;
            print ("vala task value %d\\n", task.get_int ());
        } catch (Error e) {
            printerr ("%s\\n", e.message);
        }
        loop.quit ();
    });
    loop.run ();
    return status;
}
'''

# What docs/installing.md tells a Meson project in Vala to write.
VALA_MESON = '''
project('app', 'vala', 'c')
asyncgui_dep = dependency('asyncgui-1')
executable('app', 'app.vala',
  dependencies: [asyncgui_dep, dependency('gio-2.0')],
  vala_args: ['--vapidir', asyncgui_dep.get_variable(pkgconfig: 'vapidir')],
  c_args: ['-w'],
)
'''


def write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return path


def main():
    source_root = os.path.realpath(sys.argv[1])
    with Scratch() as scratch:
        prefix = os.path.join(scratch, 'prefix')
        build = os.path.join(scratch, 'build')
        setup = run(['meson', 'setup', build, source_root, '--prefix', prefix,
                     '-Dtests=false', '-Dexamples=disabled', '-Ddocs=disabled',
                     '-Dintrospection=enabled', '-Dvapi=enabled'])
        check('without the Python override unless PYTHONPATH names' in ' '.join(setup.split()),
              'configuring for a prefix Python does not read warns that PYTHONPATH is needed')
        run(['meson', 'compile', '-C', build])
        run(['meson', 'install', '-C', build, '--quiet'])

        pc_files = glob.glob(os.path.join(prefix, '**', 'pkgconfig', 'asyncgui-1.pc'),
                             recursive=True)
        check(len(pc_files) == 1, 'asyncgui-1.pc is installed')
        pc_env = clean_env(PKG_CONFIG_PATH=os.path.dirname(pc_files[0]))

        def variable(name):
            value = run(['pkg-config', '--variable=' + name, 'asyncgui-1'], env=pc_env).strip()
            check(value != '', 'pkg-config names ' + name)
            return value

        libdir = variable('libdir')
        typelibdir = variable('typelibdir')
        # What any language needs to load a library from a custom prefix.
        lib_env = dict(LD_LIBRARY_PATH=libdir, GI_TYPELIB_PATH=typelibdir,
                       G_DEBUG='fatal-criticals')

        # C
        module = os.path.join(scratch, 'libinstall-test-worker.so')
        gio_flags = run(['pkg-config', '--cflags', '--libs', 'gio-2.0'], env=pc_env).split()
        run(['cc', '-shared', '-fPIC', '-o', module,
             os.path.join(HERE, 'common', 'worker-module.c')] + gio_flags)
        flags = run(['pkg-config', '--cflags', '--libs', 'asyncgui-1'], env=pc_env).split()
        program = os.path.join(scratch, 'run-worker')
        run(['cc', '-o', program, os.path.join(HERE, 'common', 'run-worker.c')] + flags)
        output = run([program, module], env=clean_env(**lib_env))
        print(output)
        check('worker task: pid' in output,
              'C: the installed C worker ran a function, found with no environment variable')

        # Python
        pythondir = variable('pythondir')
        check(os.path.isfile(os.path.join(pythondir, 'gi', 'overrides', 'AsyncGui.py')),
              'the override is installed in pythondir')
        check(os.path.isfile(os.path.join(pythondir, 'gi', 'overrides', 'AsyncGui.pyi')),
              'the override\'s stub is installed next to it')
        script = write(os.path.join(scratch, 'use.py'), PYTHON_PROGRAM)
        output = run([PYTHON, script], env=clean_env(PYTHONPATH=pythondir, **lib_env))
        print(output)
        check(pythondir in output, 'Python: the override comes from pythondir')
        check('python worker pid' in output,
              'Python: the override loads with PYTHONPATH=$pythondir, and the installed '
              'Python worker ran a function')

        # GJS
        check(variable('gjsmoduleuri') == 'resource:///org/gnome/AsyncGui/js/asyncgui.js',
              'pkg-config names the module resource')
        work = write(os.path.join(scratch, 'work.js'), GJS_WORK)
        script = write(os.path.join(scratch, 'use.js'),
                       GJS_PROGRAM.replace('WORK_URI', repr('file://' + work)))
        output = run(['gjs', '-m', script], env=clean_env(**lib_env))
        print(output)
        check('gjs worker value 42' in output,
              'GJS: the module imports from its resource, and the installed GJS worker '
              'ran a function')
        module_file = os.path.join(variable('gjsmoduledir'), 'asyncgui.js')
        script = write(os.path.join(scratch, 'static.js'),
                       GJS_STATIC.replace('GJS_MODULE_URI', 'file://' + module_file))
        output = run(['gjs', '-m', script], env=clean_env(**lib_env))
        check('static import function' in output, 'GJS: $gjsmoduledir/asyncgui.js imports statically')

        # Vala
        vapidir = variable('vapidir')
        source = write(os.path.join(scratch, 'use.vala'), VALA_PROGRAM)
        program = os.path.join(scratch, 'use-vala')
        run(['valac', '--vapidir', vapidir, '--pkg', 'asyncgui-1', '-X', '-w',
             '-o', program, source], env=pc_env, cwd=scratch)
        output = run([program], env=clean_env(**lib_env))
        check('vala task value 42' in output, 'Vala: valac --vapidir=$vapidir finds the VAPI')
        datadir = variable('datadir')
        run(['valac', '--pkg', 'asyncgui-1', '-X', '-w', '-o', program + '-xdg', source],
            env=dict(pc_env, XDG_DATA_DIRS=datadir + ':/usr/share'), cwd=scratch)
        check(os.path.exists(program + '-xdg'), 'Vala: valac finds the VAPI through XDG_DATA_DIRS')
        app = os.path.join(scratch, 'vala-app')
        os.mkdir(app)
        write(os.path.join(app, 'meson.build'), VALA_MESON)
        write(os.path.join(app, 'app.vala'), VALA_PROGRAM)
        run(['meson', 'setup', os.path.join(app, 'build'), app], env=pc_env)
        run(['meson', 'compile', '-C', os.path.join(app, 'build')], env=pc_env)
        output = run([os.path.join(app, 'build', 'app')], env=clean_env(**lib_env))
        check('vala task value 42' in output,
              'Vala: a Meson project finds the VAPI with vala_args from the vapidir variable')

    print('1 passed, 0 failed')


if __name__ == '__main__':
    main()
