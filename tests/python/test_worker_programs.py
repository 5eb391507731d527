#!/usr/bin/python3
# test_worker_programs.py: the worker programs of the bindings, driven
# directly through their pipes and their socket, as the engine drives them
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import pickle
import select
import shutil
import socket
import struct
import subprocess
import unittest

import agtest
from agtest import GLib

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
PYTHON_WORKER = os.path.join(SOURCE, 'asyncgui', 'process', 'worker',
                             'asyncgui-python-worker.py')
GJS_WORKER = os.path.join(SOURCE, 'asyncgui', 'process', 'worker', 'asyncgui-gjs-worker.js')
GJS_MODULE = GLib.filename_to_uri(os.path.join(SOURCE, 'tests', 'gjs', 'worker-module.js'))
FD_SOCKET = 3


def write_frame(stream, variant):
    data = variant.get_data_as_bytes().get_data()
    stream.write(struct.pack('<I', len(data)) + data)
    stream.flush()


def read_frame(stream):
    header = stream.read(4)
    if len(header) < 4:
        return None
    data = stream.read(struct.unpack('<I', header)[0])
    return GLib.Variant.new_from_bytes(GLib.VariantType.new('(tbv)'), GLib.Bytes.new(data), False)


class Worker:
    """A worker program with its socket on FD_SOCKET, as the engine
    starts it; ``socket`` is the engine's end."""

    def __init__(self, argv, env=None):
        self.socket, theirs = socket.socketpair()
        # The shell puts it on FD_SOCKET (subprocess may use that number
        # itself until the program starts).
        shell = ['/bin/sh', '-c', 'exec "$@" %d<&%d %d<&-' % (FD_SOCKET, theirs.fileno(),
                                                               theirs.fileno()), 'sh']
        self.process = subprocess.Popen(shell + argv, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        pass_fds=(theirs.fileno(),), env=env)
        theirs.close()
        greeting = read_frame(self.process.stdout)
        assert greeting is not None and greeting.get_child_value(1).get_boolean(), greeting
        self.socket.recv(1)  # the byte it greets the engine with

    def call(self, ident, target, argument):
        write_frame(self.process.stdin, GLib.Variant('(tsv)', (ident, target, argument)))
        return read_frame(self.process.stdout)

    def finish(self):
        """Ends it as the engine does (its stdin closes); returns what it
        wrote to stderr."""
        self.process.stdin.close()
        stderr = self.process.stderr.read().decode(errors='replace')
        self.process.wait(agtest.SAFETY_S)
        self.process.stdout.close()
        self.process.stderr.close()
        self.socket.close()
        return stderr


class LetGoTest(unittest.TestCase):
    """The engine closes a worker's socket when it lets the worker go or
    kills it, maybe after a request was written: the worker must take the
    closed socket for "no files", not for a protocol error."""

    def check_serves_after_the_socket_closed(self, worker, target, argument, expected):
        reply = worker.call(1, target, argument)
        self.assertTrue(reply.get_child_value(1).get_boolean(), reply)
        worker.socket.close()
        reply = worker.call(2, target, argument)
        stderr = worker.finish()
        self.assertIsNotNone(reply, 'the worker died: %s' % stderr)
        self.assertTrue(reply.get_child_value(1).get_boolean(), reply)
        self.assertEqual(expected(reply.get_child_value(2).get_variant()), True)
        self.assertEqual(stderr, '')

    def test_python_worker(self):
        worker = Worker(['/usr/bin/python3', PYTHON_WORKER])
        argument = GLib.Variant.new_from_bytes(GLib.VariantType.new('ay'),
                                               GLib.Bytes.new(pickle.dumps(((3,), {}))), True)
        self.check_serves_after_the_socket_closed(
            worker, 'math:factorial', argument,
            lambda value: pickle.loads(bytes(value.get_data_as_bytes().get_data())) == 6)

    @unittest.skipIf(shutil.which('gjs') is None, 'gjs is not installed')
    def test_gjs_worker(self):
        worker = Worker(['gjs', '-m', GJS_WORKER])
        self.check_serves_after_the_socket_closed(
            worker, GJS_MODULE + ':countPrimes', GLib.Variant('s', '[10]'),
            lambda value: json.loads(value.get_string()) == {'n': 10, 'count': 4})


def stderr_within(process, text, seconds):
    """What the worker wrote to stderr, once it holds ``text`` or after
    ``seconds``, without waiting for it to exit."""
    got = b''
    while text.encode() not in got and select.select([process.stderr], [], [], seconds)[0]:
        chunk = os.read(process.stderr.fileno(), 4096)
        if not chunk:
            break
        got += chunk
    return got.decode(errors='replace')


class PrintTest(unittest.TestCase):
    """What a worker function prints goes to stderr at once, and never into
    the replies."""

    def test_python_worker(self):
        # As in an application started from a desktop: stdout is no tty
        # and Python buffers it.
        env = {k: v for k, v in os.environ.items() if k != 'PYTHONUNBUFFERED'}
        worker = Worker(['/usr/bin/python3', PYTHON_WORKER], env)
        argument = GLib.Variant.new_from_bytes(
            GLib.VariantType.new('ay'),
            GLib.Bytes.new(pickle.dumps((('printed by the worker',), {'end': ''}))), True)
        reply = worker.call(1, 'builtins:print', argument)
        self.assertTrue(reply.get_child_value(1).get_boolean(), reply)
        self.assertIn('printed by the worker', stderr_within(worker.process, 'printed', 5))
        worker.finish()

    @unittest.skipIf(shutil.which('gjs') is None, 'gjs is not installed')
    def test_gjs_worker(self):
        worker = Worker(['gjs', '-m', GJS_WORKER])
        for ident in (1, 2):
            reply = worker.call(ident, GJS_MODULE + ':printThenEcho', GLib.Variant('s', '[%d]' % ident))
            self.assertIsNotNone(reply, 'the reply was broken')
            self.assertTrue(reply.get_child_value(1).get_boolean(), reply)
            self.assertEqual(json.loads(reply.get_child_value(2).get_variant().get_string()), ident)
        self.assertIn('printed by the worker', stderr_within(worker.process, 'printed', 5))
        worker.finish()


if __name__ == '__main__':
    raise SystemExit(agtest.main(LetGoTest, PrintTest))
