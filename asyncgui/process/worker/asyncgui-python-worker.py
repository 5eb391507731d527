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
#
#   --sandbox          it runs under bwrap: it loads the seccomp filter on
#                      fd 4 once started, before its greeting, and answers
#                      with plain data only (as --plain)
#   --plain            results are GVariants made from plain Python values
#                      (None, bool, int, float, str, bytes, list, tuple,
#                      dict with str keys), failures carry "(ss)", the
#                      exception's type name and message: the parent
#                      unpickles nothing this worker sends
#
# Files the application passed come on the socket on fd 3 ahead of their
# request (asyncgui/process/ag-worker-process.c describes it); the
# function gets them as its `files` keyword argument, binary file objects.
# The worker's first byte on that socket tells the engine which process it
# is, for the limits it sets per call.

import argparse
import ctypes
import fcntl
import functools
import importlib
import json
import os
import pickle
import resource
import runpy
import socket
import struct
import sys
import traceback
import types

from gi.repository import GLib

MAX_FRAME = 64 * 1024 * 1024
REQUEST_TYPE = GLib.VariantType.new('(tsv)')
EXCEPTION_DOMAIN = 'asyncgui-python-exception'
PROTOCOL_VERSION = 1
FD_SOCKET = 3
FD_FILTER = 4
AG_ERROR_DOMAIN = 'ag-error-quark'
AG_ERROR_MEMORY_LIMIT = 11
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

# Whether results and failures cross as plain data (--plain, --sandbox).
plain = False
files_socket = None


def read_exactly(stream, size):
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def read_request(stream):
    """The next request as (id, target, pickled arguments), or None at the
    end of the input."""
    header = read_exactly(stream, 4)
    if header is None:
        return None
    (length,) = struct.unpack('<I', header)
    if length > MAX_FRAME:
        raise ValueError(f'a request of {length} bytes is more than allowed')
    payload = read_exactly(stream, length)
    if payload is None:
        return None
    return split_request(payload) or split_request_slowly(payload)


# A call's request and its successful reply are read and written in
# GVariant's serialized form directly: through PyGObject, taking one
# request apart and making one reply took some 65 microseconds, most of a
# short call. Only the shapes the engine sends and expects are made so;
# anything else goes through GLib.Variant.

def offset_size(size):
    """How wide the framing offsets of a GVariant container of size bytes
    are."""
    return 1 if size <= 0xff else 2 if size <= 0xffff else 4 if size <= 0xffffffff else 8


def split_request(payload):
    """(id, target, pickled arguments) of a "(tsv)" request whose variant
    holds "ay" (every request of the Python binding), read from its bytes:
    the id, the target up to its nul, the variant from the next multiple of
    8 (its value, a nul, its type "ay"), and at the very end the offset at
    which the target ends. None for any other shape."""
    size = len(payload)
    width = offset_size(size)
    if size < 9 + width:
        return None
    target_end = int.from_bytes(payload[size - width:], 'little')
    variant_start = (target_end + 7) & ~7
    if not 9 <= target_end <= variant_start <= size - width or payload[target_end - 1] != 0:
        return None
    variant = payload[variant_start:size - width]
    target = payload[8:target_end - 1]
    if not variant.endswith(b'\0ay') or b'\0' in target:
        return None
    try:
        name = target.decode('utf-8')
    except UnicodeDecodeError:
        return None
    return struct.unpack_from('<Q', payload)[0], name, variant[:-3]


def split_request_slowly(payload):
    variant = GLib.Variant.new_from_bytes(REQUEST_TYPE, GLib.Bytes.new(payload), False)
    if not variant.is_normal_form():
        raise ValueError('a request is not a valid (tsv) value')
    # Read as bytes directly: unpacking an "ay" makes a list of ints.
    return (variant.get_child_value(0).get_uint64(), variant.get_child_value(1).get_string(),
            variant.get_child_value(2).get_variant().get_data_as_bytes().get_data())


def pickled_reply(ident, data):
    """The bytes of the reply "(tbv)" that carries data (bytes) as "ay":
    the id, TRUE, padding to a multiple of 8, then the variant (the value,
    a nul, its type); the last member of a tuple has no framing offset."""
    return success_reply(ident, data, b'ay')


def plain_reply(ident, value):
    """The bytes of the reply "(tbv)" that carries value, a GLib.Variant.
    The variant starts at offset 16, a multiple of 8, so the value's own
    serialized bytes keep their alignment there."""
    return success_reply(ident, value.get_data_as_bytes().get_data(),
                         value.get_type_string().encode('ascii'))


def success_reply(ident, data, type_string):
    return struct.pack('<Q?7x', ident, True) + data + b'\0' + type_string


def write_reply(stream, reply):
    data = reply if isinstance(reply, bytes) else reply.get_data_as_bytes().get_data()
    stream.write(struct.pack('<I', len(data)) + data)
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


def load_filter():
    """Loads the sandbox's seccomp filter: from here on, no execve, no
    network. The worker never serves a call without it."""
    with os.fdopen(FD_FILTER, 'rb') as stream:
        program = stream.read()
    if not program or len(program) % 8:
        raise SystemExit('asyncgui-python-worker: the seccomp filter is not a BPF program')

    class SockFprog(ctypes.Structure):
        _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_char_p)]

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                           ctypes.c_ulong]
    fprog = SockFprog(len(program) // 8, program)
    if (libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            or libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
                          ctypes.cast(ctypes.pointer(fprog), ctypes.c_void_p).value, 0, 0) != 0):
        raise SystemExit('asyncgui-python-worker: cannot load the seccomp filter: '
                         + os.strerror(ctypes.get_errno()))


def receive_files(ident):
    """The files sent with request ident, if any, as binary file objects;
    they were queued before the request, so nothing waits here."""
    if files_socket is None:
        return None
    try:
        header = files_socket.recv(12, socket.MSG_DONTWAIT | socket.MSG_PEEK)
    except BlockingIOError:
        return None
    if not header:
        return None
    header = read_socket_exactly(12)
    header_id, count = struct.unpack('<QI', header)
    if header_id != ident:
        raise ValueError('the files of a request did not arrive as the protocol says')
    files = []
    for _ in range(count):
        unused, fds, unused_flags, unused_address = socket.recv_fds(files_socket, 1, 1)
        if len(fds) != 1:
            raise ValueError('the files of a request did not arrive as the protocol says')
        mode = {os.O_RDONLY: 'rb', os.O_WRONLY: 'wb'}.get(
            fcntl.fcntl(fds[0], fcntl.F_GETFL) & os.O_ACCMODE, 'r+b')
        files.append(os.fdopen(fds[0], mode))
    return files


def read_socket_exactly(size):
    data = bytearray()
    while len(data) < size:
        chunk = files_socket.recv(size - len(data))
        if not chunk:
            raise ValueError('the engine closed the socket of the files')
        data += chunk
    return bytes(data)


# GVariant reads values nested 128 deep at most (G_VARIANT_MAX_RECURSION_DEPTH),
# the reply's own "(tbv)" taking two of them.
MAX_DEPTH = 126


def plain_variant(value, depth=0):
    """value as a GVariant of plain data, or TypeError. ``depth`` is how
    deep it is nested in the reply's value."""
    if depth > MAX_DEPTH:
        raise TypeError(f'a sandboxed worker returns data nested {MAX_DEPTH} GVariant levels '
                        'deep at most (a list takes two, a dict three)')
    if value is None:
        return GLib.Variant('mv', None)
    if isinstance(value, bool):
        return GLib.Variant('b', value)
    if isinstance(value, int):
        if not -2**63 <= value < 2**63:
            raise TypeError(f'a sandboxed worker returns integers of 64 bits at most, not {value}')
        return GLib.Variant('x', value)
    if isinstance(value, float):
        return GLib.Variant('d', value)
    if isinstance(value, str):
        return GLib.Variant('s', value)
    if isinstance(value, (bytes, bytearray)):
        return bytes_variant(bytes(value))
    if isinstance(value, list):
        return GLib.Variant.new_array(GLib.VariantType('v'),
                                      [GLib.Variant.new_variant(plain_variant(item, depth + 2))
                                       for item in value])
    if isinstance(value, tuple):
        return GLib.Variant.new_tuple(*[plain_variant(item, depth + 1) for item in value])
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError('a sandboxed worker returns dicts with str keys only')
        return GLib.Variant.new_array(GLib.VariantType('{sv}'), [
            GLib.Variant.new_dict_entry(GLib.Variant('s', key),
                                        GLib.Variant.new_variant(plain_variant(item, depth + 3)))
            for key, item in value.items()])
    raise TypeError('a sandboxed worker returns plain data only (None, bool, int, float, '
                    f'str, bytes, list, tuple, dict), not {type(value).__name__}')


def memory_limited():
    soft, unused = resource.getrlimit(resource.RLIMIT_AS)
    return soft != resource.RLIM_INFINITY


def describe(exc):
    """'Type: message', also for an exception whose own __str__ raises."""
    return f'{type(exc).__name__}: {message_of(exc)}'


def message_of(exc):
    try:
        return str(exc)
    except BaseException:  # noqa: B902 - its own code failed, whatever it raised
        return '(its message could not be formatted)'


def failure(ident, exc):
    if isinstance(exc, MemoryError) and memory_limited():
        payload = (AG_ERROR_DOMAIN, AG_ERROR_MEMORY_LIMIT,
                   'The worker call used more memory than its limit allows',
                   GLib.Variant('()', ()))
    elif plain:
        payload = (EXCEPTION_DOMAIN, 0, describe(exc),
                   GLib.Variant('(ss)', (type(exc).__name__, message_of(exc))))
    else:
        payload = (EXCEPTION_DOMAIN, 0, describe(exc),
                   bytes_variant(pickled_exception(exc)))
    return GLib.Variant('(tbv)', (ident, False, GLib.Variant('(sisv)', payload)))


def pickled_exception(exc):
    try:
        return pickle.dumps(exc)
    except BaseException:  # noqa: B902 - its own __reduce__ may raise anything
        # What cannot be pickled still arrives as an error that says what
        # it was and where it came from.
        text = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return pickle.dumps(RuntimeError(f'{describe(exc)}\n{text}'))


def serve(request):
    ident, target, args = request
    files = receive_files(ident)
    try:
        func = resolve(target)
        call_args, call_kwargs = pickle.loads(args)
        if files is not None:
            call_kwargs['files'] = files
        value = func(*call_args, **call_kwargs)
    except BaseException as exc:  # noqa: B902 - SystemExit and KeyboardInterrupt too:
        return failure(ident, exc)  # the parent decides what they mean
    finally:
        for file in files or ():
            file.close()
    try:
        if not plain:
            return pickled_reply(ident, pickle.dumps(value))
        return plain_reply(ident, plain_variant(value))
    except Exception as exc:
        return failure(ident, exc)
    except BaseException as exc:  # noqa: B902 - the value's own __reduce__ raised it
        return failure(ident, pickle.PicklingError(
            f'the value of {target} could not be pickled: {describe(exc)}'))


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


def flush_output():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass  # the function closed or replaced it


def main():
    global main_missing, plain, files_socket

    parser = argparse.ArgumentParser(description='asyncgui Python worker')
    parser.add_argument('--sys-path')
    parser.add_argument('--argv')
    main_options = parser.add_mutually_exclusive_group()
    main_options.add_argument('--main-name')
    main_options.add_argument('--main-path')
    parser.add_argument('--sandbox', action='store_true')
    parser.add_argument('--plain', action='store_true')
    options = parser.parse_args()
    plain = options.plain or options.sandbox

    if options.sys_path:
        sys.path[:] = json.loads(options.sys_path)
    if options.argv:
        sys.argv[:] = json.loads(options.argv)

    # The pipes are the protocol: the functions read /dev/null on stdin
    # (not the next request), and what they print goes to stderr.
    requests = os.fdopen(os.dup(0), 'rb')
    replies = os.fdopen(os.dup(1), 'wb')
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.close(nothing)
    os.dup2(2, 1)

    try:
        files_socket = socket.socket(fileno=FD_SOCKET)
        # Which process this is, for the engine to set the limits of its
        # calls on (the kernel attaches the credentials).
        files_socket.send(b'\0')
    except OSError:
        files_socket = None

    main_missing = load_main(options.main_name, options.main_path)
    if options.sandbox:
        load_filter()
    write_reply(replies, GLib.Variant('(tbv)', (0, True, GLib.Variant('u', PROTOCOL_VERSION))))

    while True:
        request = read_request(requests)
        if request is None:
            return 0
        try:
            reply = serve(request)
            # What the function printed shows now: Python buffers a stdout
            # that is no terminal, and a worker is killed, not exited.
            flush_output()
            write_reply(replies, reply)
        except BrokenPipeError:
            # The parent is gone: nobody wants the reply.
            return 0


if __name__ == '__main__':
    sys.exit(main())
