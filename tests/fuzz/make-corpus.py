#!/usr/bin/python3
# make-corpus.py: writes the seed corpus of fuzz-frame-reader into corpus/
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Each file is one fuzzer input: a chunk-size byte (0: feed everything at
# once), then a stream of frames (little-endian u32 length + a GVariant in
# normal form). Valid replies and requests, a failure reply, a failure with
# the wrong payload, two frames back to back, truncated frames, a zero and
# an absurd length, and a deeply nested value. Run it again after changing
# the protocol: `tests/fuzz/make-corpus.py`.

import os
import struct

from gi.repository import GLib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, 'corpus')


def frame(type_string, value):
    variant = GLib.Variant(type_string, value).get_normal_form()
    data = variant.get_data_as_bytes().get_data()
    return struct.pack('<I', len(data)) + data


def v(type_string, value):
    return GLib.Variant(type_string, value)


reply_ok = frame('(tbv)', (1, True, v('i', 42)))
reply_unit = frame('(tbv)', (7, True, v('()', ())))
reply_error = frame('(tbv)', (2, False, v('(sisv)', ('g-io-error-quark', 14, 'denied', v('()', ())))))
reply_pickled_error = frame('(tbv)', (3, False, v('(sisv)', ('asyncgui-python-exception', 0,
                                                             'ValueError: nope',
                                                             v('ay', b'\x80\x04N.')))))
reply_bad_error = frame('(tbv)', (4, False, v('s', 'oops')))
reply_nested = frame('(tbv)', (5, True, v('a{sv}', {'a': v('(ias)', (1, ['x', 'y'])),
                                                     'b': v('v', v('v', v('s', 'deep')))})))
reply_big = frame('(tbv)', (6, True, v('ay', bytes(range(256)) * 16)))
request = frame('(tsv)', (1, '/usr/lib/libwork.so:count_primes', v('(us)', (1000, 'two'))))
request_py = frame('(tsv)', (2, 'package.module:function', v('ay', b'\x80\x04\x95...')))

deep = v('i', 1)
for _ in range(40):
    deep = v('v', deep)
reply_deep = frame('(tbv)', (8, True, deep))

seeds = {
    'reply-ok': b'\x00' + reply_ok,
    'reply-ok-bytewise': b'\x40' + reply_ok,
    'reply-unit': b'\x00' + reply_unit,
    'reply-error': b'\x00' + reply_error,
    'reply-pickled-error': b'\x03' + reply_pickled_error,
    'reply-bad-error-payload': b'\x00' + reply_bad_error,
    'reply-nested': b'\x00' + reply_nested,
    'reply-big': b'\x10' + reply_big,
    'reply-deep': b'\x00' + reply_deep,
    'two-replies': b'\x05' + reply_ok + reply_error,
    'reply-then-garbage': b'\x00' + reply_ok + b'\xf0\xff\xff\xff',
    'request': b'\x00' + request,
    'request-python': b'\x07' + request_py,
    'truncated-header': b'\x00' + reply_ok[:3],
    'truncated-payload': b'\x00' + reply_ok[:len(reply_ok) // 2],
    'truncated-second': b'\x02' + reply_ok + reply_error[:9],
    'zero-length': b'\x00' + struct.pack('<I', 0),
    'absurd-length': b'\x00' + struct.pack('<I', 0xfffffff0) + b'\x00' * 8,
    'just-over-limit': b'\x00' + struct.pack('<I', 64 * 1024 * 1024 + 1),
    'not-normal-form': b'\x00' + struct.pack('<I', 16) + b'\xff' * 16,
}

os.makedirs(CORPUS, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(CORPUS, name), 'wb') as f:
        f.write(data)
print(f'{len(seeds)} seeds in {CORPUS}')
