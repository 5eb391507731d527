#!/usr/bin/python3
# test_worker_frames.py: the Python worker reads requests and writes
# replies in GVariant's serialized form without GLib.Variant; what it reads
# and writes must be exactly what GLib reads and writes
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import importlib.util
import os
import unittest

import agtest
from agtest import GLib

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'asyncgui',
                      'process', 'worker', 'asyncgui-python-worker.py')


def load_worker():
    spec = importlib.util.spec_from_file_location('asyncgui_python_worker', WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


worker = load_worker()

# Sizes either side of each width of GVariant's framing offsets (1, 2 and
# 4 bytes), targets short and long, with and without non-ASCII names.
SIZES = (0, 1, 7, 8, 200, 255, 300, 65530, 65536, 70000)
TARGETS = ('m:f', 'os:getpid', 'package.módulo:Clase.método', 'x' * 300 + ':f')


def payload_of(size):
    # Every byte value, nul included: a nul in the value must not be
    # taken for the one before the variant's type.
    return bytes(i % 256 for i in range(size))


def ay(data):
    return GLib.Variant.new_from_bytes(GLib.VariantType.new('ay'), GLib.Bytes.new(data), True)


class WorkerFramesTest(unittest.TestCase):
    def test_requests_are_read_as_glib_reads_them(self):
        for size in SIZES:
            for target in TARGETS:
                ident = 2**64 - 1 - size
                data = payload_of(size)
                request = GLib.Variant('(tsv)', (ident, target, ay(data)))
                serialized = request.get_data_as_bytes().get_data()
                with self.subTest(size=size, target=target[:20]):
                    self.assertEqual(worker.split_request(serialized), (ident, target, data))
                    self.assertEqual(worker.split_request_slowly(serialized),
                                     (ident, target, data))

    def test_replies_are_written_as_glib_writes_them(self):
        for size in SIZES:
            data = payload_of(size)
            reply = GLib.Variant('(tbv)', (size, True, ay(data)))
            with self.subTest(size=size):
                self.assertEqual(worker.pickled_reply(size, data),
                                 reply.get_data_as_bytes().get_data())

    def test_plain_replies_are_written_as_glib_writes_them(self):
        values = (None, True, -2**63, 2.5, 'é', b'\0bytes', [1, 'two', None],
                  (1, (2.0, 'x')), {'a': [1], 'b': {'c': b''}}, 'x' * 70000)
        for value in values:
            variant = worker.plain_variant(value)
            reply = GLib.Variant('(tbv)', (7, True, variant))
            with self.subTest(value=repr(value)[:30]):
                self.assertEqual(worker.plain_reply(7, variant),
                                 reply.get_data_as_bytes().get_data())

    def test_requests_of_other_shapes_are_left_to_glib(self):
        request = GLib.Variant('(tsv)', (1, 'm:f', GLib.Variant('s', 'not bytes')))
        serialized = request.get_data_as_bytes().get_data()
        self.assertIsNone(worker.split_request(serialized))
        self.assertEqual(worker.split_request_slowly(serialized)[:2], (1, 'm:f'))

    def test_bytes_that_are_no_request_are_refused(self):
        for junk in (b'', b'\0' * 9, b'\xff' * 40, b'12345678a\0\0\0\0\0\0\0xx\0ay\x40'):
            with self.subTest(junk=junk):
                self.assertIsNone(worker.split_request(junk))
                with self.assertRaises(ValueError):
                    worker.split_request_slowly(junk)


if __name__ == '__main__':
    raise SystemExit(agtest.main(WorkerFramesTest))
