#!/usr/bin/python3
# asyncgui-python-worker.py: the warm worker process for Python functions
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The engine starts this program with pipes on stdin and stdout and sends it
# requests "(tsv)": an id, a target "package.module:qualified.name" and, as
# "ay", the pickled (args, kwargs). It imports the target once, calls it,
# and answers with a reply "(tbv)": the pickled result as "ay", or a failure
# "(sisv)" whose extra value is the pickled exception, so that the parent
# can raise it again with its original type. Before the first request it
# greets the engine with the protocol version, once it is ready to serve.
#
# Options (the Python binding passes them, from the parent's own state):
#   --sys-path JSON    the parent's sys.path, so the same modules import
#   --argv JSON        the parent's sys.argv
#   --main-name NAME   the parent's main module, run with -m: imported by
#                      name
#   --main-path PATH   the parent's main script: run by path
# The main module is loaded as multiprocessing's spawn start method loads
# it (multiprocessing/spawn.py, _fixup_main_from_name/_path): under the
# name __mp_main__, aliased as __main__, so that functions defined there
# are importable here while its `if __name__ == "__main__":` block does not
# run; a package's __main__ module, which runs its program unconditionally,
# is not loaded. Without either option (-c, interactive) there is none.

import argparse
import functools
import importlib
import json
import os
import pickle
import runpy
import struct
import sys
import traceback
import types

from gi.repository import GLib

MAX_FRAME = 64 * 1024 * 1024
REQUEST_TYPE = GLib.VariantType.new('(tsv)')
EXCEPTION_DOMAIN = 'asyncgui-python-exception'
PROTOCOL_VERSION = 1


def read_exactly(stream, size):
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def read_request(stream):
    header = read_exactly(stream, 4)
    if header is None:
        return None
    (length,) = struct.unpack('<I', header)
    if length > MAX_FRAME:
        raise ValueError(f'a request of {length} bytes is more than allowed')
    payload = read_exactly(stream, length)
    if payload is None:
        return None
    variant = GLib.Variant.new_from_bytes(REQUEST_TYPE, GLib.Bytes.new(payload), False)
    if not variant.is_normal_form():
        raise ValueError('a request is not a valid (tsv) value')
    return variant


def write_reply(stream, reply):
    data = reply.get_data_as_bytes().get_data()
    stream.write(struct.pack('<I', len(data)))
    stream.write(data)
    stream.flush()


def bytes_variant(data):
    return GLib.Variant.new_from_bytes(GLib.VariantType.new('ay'), GLib.Bytes.new(data), True)


# Why the parent's main module is not here, when it is not.
main_missing = 'the program has no main module that workers load'


def resolve(target):
    module_name, _, qualname = target.rpartition(':')
    if not module_name or not qualname:
        raise ValueError(f'“{target}” is not of the form package.module:function')
    if module_name in ('__main__', '__mp_main__') and main_missing is not None:
        # This process's own __main__ is this program: never look there.
        raise ImportError(f'{qualname} is defined in the main module of the program, and '
                          f'{main_missing}')
    obj = importlib.import_module(module_name)
    for part in qualname.split('.'):
        obj = getattr(obj, part)
    return obj


def pickled_exception(exc):
    try:
        return pickle.dumps(exc)
    except Exception:
        # What cannot be pickled still arrives as an error that says what
        # it was and where it came from.
        text = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return pickle.dumps(RuntimeError(f'{type(exc).__name__}: {exc}\n{text}'))


def serve(request):
    ident = request.get_child_value(0).get_uint64()
    target = request.get_child_value(1).get_string()
    # Read as bytes directly: unpacking an "ay" makes a list of ints.
    args = request.get_child_value(2).get_variant().get_data_as_bytes().get_data()
    try:
        func = resolve(target)
        call_args, call_kwargs = pickle.loads(args)
        result = pickle.dumps(func(*call_args, **call_kwargs))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit too: the parent decides what it means
        failure = GLib.Variant('(sisv)', (EXCEPTION_DOMAIN, 0,
                                          f'{type(exc).__name__}: {exc}',
                                          bytes_variant(pickled_exception(exc))))
        return GLib.Variant('(tbv)', (ident, False, failure))
    return GLib.Variant('(tbv)', (ident, True, bytes_variant(result)))


def load_main(name=None, path=None):
    """Loads the parent's main module under the name __mp_main__, so its
    `if __name__ == "__main__":` block (the application itself) does not
    run here; returns why it is not here, or None."""
    if name is not None:
        if name == '__main__' or name.endswith('.__main__'):
            return f'{name} runs its program when loaded, so workers do not load it'
        run = functools.partial(runpy.run_module, name, run_name='__mp_main__',
                                alter_sys=True)
    elif path is not None:
        if os.path.splitext(os.path.basename(path))[0] == 'ipython':
            return 'workers do not load the ipython launcher'
        run = functools.partial(runpy.run_path, path, run_name='__mp_main__')
    else:
        return 'the program runs from -c or interactively: it has no main module to load'
    module = types.ModuleType('__mp_main__')
    try:
        module.__dict__.update(run())
    except Exception as exc:
        # Functions of other modules still work; those of the main module
        # fail, saying why.
        traceback.print_exc()
        return f'it failed to load in the worker ({type(exc).__name__}: {exc})'
    sys.modules['__mp_main__'] = module
    sys.modules['__main__'] = module
    return None


def main():
    global main_missing

    parser = argparse.ArgumentParser(description='asyncgui Python worker')
    parser.add_argument('--sys-path')
    parser.add_argument('--argv')
    main_options = parser.add_mutually_exclusive_group()
    main_options.add_argument('--main-name')
    main_options.add_argument('--main-path')
    options = parser.parse_args()

    if options.sys_path:
        sys.path[:] = json.loads(options.sys_path)
    if options.argv:
        sys.argv[:] = json.loads(options.argv)

    # The pipes are the protocol; what the functions print goes to stderr.
    requests = os.fdopen(os.dup(0), 'rb', buffering=0)
    replies = os.fdopen(os.dup(1), 'wb')
    os.dup2(2, 1)

    main_missing = load_main(options.main_name, options.main_path)
    write_reply(replies, GLib.Variant('(tbv)', (0, True, GLib.Variant('u', PROTOCOL_VERSION))))

    while True:
        request = read_request(requests)
        if request is None:
            return 0
        try:
            write_reply(replies, serve(request))
        except BrokenPipeError:
            # The parent is gone: nobody wants the reply.
            return 0


if __name__ == '__main__':
    sys.exit(main())
