// testTransformHandle.js — the introspected AgChannelTransform handle from
// GJS 1.74, without the module: what the module's transforms build on.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import System from 'system';
import AsyncGui from 'gi://AsyncGui?version=1';
import {test, main, assert, assertEqual} from './harness.js';

function expectCritical(pattern, fn) {
    GLib.test_expect_message('AsyncGui', GLib.LogLevelFlags.LEVEL_CRITICAL, pattern);
    fn();
    GLib.test_assert_expected_messages_internal('AsyncGui', 'testTransformHandle.js', 0, pattern);
}

test('a-js-transform-returns-its-item-through-the-handle', () => {
    const channel = AsyncGui.Channel.new(4);
    channel.set_write_transform((transform, value) => transform.return_value(value * 10));
    channel.set_read_transform((transform, value) => transform.return_value(`<${value}>`));
    const reader = channel.open_reader();
    channel.write(1, 0);
    channel.write(2, 0);
    assertEqual(reader.read(2, 0), ['<10>', '<20>']);
});

test('a-kept-handle-is-not-reused-and-refuses-late-use', () => {
    const kept = [];
    const channel = AsyncGui.Channel.new(4);
    channel.set_write_transform((transform, value) => {
        kept.push(transform);
        transform.return_value(value);
    });
    const reader = channel.open_reader();
    channel.write(1, 0);
    channel.write(2, 0);
    assert(kept[0] !== kept[1], 'a handle JS holds is not given to the next item');
    // GJS holds a reference on the handle: after a collection it is still
    // a live object, which refuses instead of touching a finished item.
    System.gc();
    expectCritical('*not running*', () => kept[0].return_value(100));
    expectCritical('*not running*', () => kept[1].return_error(new GLib.Error(
        AsyncGui.Error, AsyncGui.Error.FAILED, 'late')));
    assertEqual(reader.read(4, 0), [1, 2]);
});

test('a-transform-that-returns-nothing-fails-the-write', () => {
    const channel = AsyncGui.Channel.new(4);
    channel.set_write_transform(() => {});
    const reader = channel.open_reader();
    let error;
    try {
        channel.write(1, 0);
    } catch (e) {
        error = e;
    }
    assert(error instanceof GLib.Error && error.matches(AsyncGui.Error, AsyncGui.Error.NO_RESULT),
        `NO_RESULT: ${error}`);
    assertEqual(reader.read(1, 0), []);
});

test('a-transform-that-returns-twice-is-refused', () => {
    const channel = AsyncGui.Channel.new(4);
    channel.set_write_transform((transform, value) => {
        transform.return_value(value);
        expectCritical('*already returned*', () => transform.return_value(value + 1));
    });
    const reader = channel.open_reader();
    channel.write(7, 0);
    assertEqual(reader.read(1, 0), [7], 'the first return counts');
});

main();
