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
#   --sys-path JSON   the parent's sys.path, so the same modules import
#   --main PATH       the parent's main script, loaded as __mp_main__ and
#                     aliased as __main__ (as multiprocessing does), so that
#                     functions defined there are importable here

import argparse
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


def resolve(target):
    module_name, _, qualname = target.rpartition(':')
    if not module_name or not qualname:
        raise ValueError(f'“{target}” is not of the form package.module:function')
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


def load_main(path):
    # Loaded under another name, so its `if __name__ == "__main__"` block
    # (the application itself) does not run here.
    module = types.ModuleType('__mp_main__')
    module.__dict__.update(runpy.run_path(path, run_name='__mp_main__'))
    sys.modules['__mp_main__'] = module
    sys.modules['__main__'] = module


def main():
    parser = argparse.ArgumentParser(description='asyncgui Python worker')
    parser.add_argument('--sys-path')
    parser.add_argument('--main')
    options = parser.parse_args()

    if options.sys_path:
        sys.path[:] = json.loads(options.sys_path)
    if options.main and os.path.exists(options.main):
        load_main(options.main)

    # The pipes are the protocol; what the functions print goes to stderr.
    requests = os.fdopen(os.dup(0), 'rb', buffering=0)
    replies = os.fdopen(os.dup(1), 'wb')
    os.dup2(2, 1)

    write_reply(replies, GLib.Variant('(tbv)', (0, True, GLib.Variant('u', PROTOCOL_VERSION))))
    while True:
        request = read_request(requests)
        if request is None:
            return 0
        write_reply(replies, serve(request))


if __name__ == '__main__':
    sys.exit(main())
