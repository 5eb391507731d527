#!/usr/bin/python3
# test_chunk.py: the introspected map and pipeline functions from PyGObject,
# without the overrides' helpers: each gets an AgChunk handle and ends its
# input through it, on worker threads.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import threading
import time

import agtest
from agtest import MAIN_THREAD
from gi.repository import AsyncGui, Gio, GLib, GObject


def io_error(code, message):
    return GLib.Error.new_literal(Gio.io_error_quark(), message, int(code))


class ChunkTest(agtest.JobTestCase):
    def child_values(self, multi, positions):
        return [multi.get_child_value(position).value for position in positions]

    def run_to_end(self, gtask):
        outcome = []
        self.engine.run_async(gtask, None, lambda engine, result, *unused: outcome.append(1))
        self.run_loop_until(lambda: outcome)

    def read_to_end(self, pipeline, capacity):
        """Runs @pipeline and reads its output on a thread of its own (a
        blocking read on this thread would wait for work only this thread
        does) until it ends."""
        reader = pipeline.open_output(capacity)
        items = []
        done = threading.Event()

        def read():
            while True:
                got = reader.read(100, None)
                if not got:
                    break
                items.extend(got)
            # The loop below waits for this on the main context.
            done.set()
            self.context.wakeup()

        thread = threading.Thread(target=read)
        thread.start()
        self.engine.run_async(pipeline, None, None)
        self.run_loop_until(done.is_set)
        thread.join()
        return items

    def test_range_function_returns_values_and_errors_through_its_chunk(self):
        threads = set()

        def tenfold(chunk, position, data):
            threads.add(threading.get_ident())
            self.assertEqual(chunk.get_position(), position)
            self.assertIsInstance(chunk.get_cancellable(), Gio.Cancellable)
            if position == 3:
                chunk.return_error(io_error(Gio.IOErrorEnum.INVALID_DATA, 'three'))
                return
            chunk.return_value(GObject.Value(GObject.TYPE_INT, 10 * position + data))

        multi = AsyncGui.MultiTaskObject.new_map_range(5, tenfold, 1)
        multi.set_skip_errors(True)
        self.run_to_end(multi)

        self.assertEqual(multi.get_state(), AsyncGui.TaskState.SUCCEEDED)
        self.assertEqual(multi.get_n_failed(), 1)
        self.assertEqual(self.child_values(multi, (0, 1, 2, 4)), [1, 11, 21, 41])
        with self.assertRaises(GLib.Error) as failed:
            multi.get_child_value(3)
        self.assertTrue(failed.exception.matches(Gio.io_error_quark(),
                                                 Gio.IOErrorEnum.INVALID_DATA))
        self.assertNotIn(MAIN_THREAD, threads)

    def test_ranges_function_answers_a_run_of_children_per_call(self):
        calls = []
        failure = ValueError('seven')

        def squares(chunk, position, n_items, data):
            calls.append((position, n_items))
            self.assertEqual(chunk.get_position(), position)
            for i in range(position, position + n_items):
                if i == 7:
                    chunk.return_error_full(io_error(Gio.IOErrorEnum.FAILED, 'seven'),
                                            GObject.Value(GObject.TYPE_PYOBJECT, failure))
                else:
                    chunk.return_values([i * i])

        multi = AsyncGui.MultiTaskObject.new_map_ranges(200, squares, None)
        multi.set_min_count(50)
        multi.set_skip_errors(True)
        row = multi.get_item(7)
        self.run_to_end(multi)
        self.assertEqual(multi.get_values(), [i * i for i in range(200) if i != 7])
        self.assertLessEqual(len(calls), 4)
        self.assertEqual(sum(n for _, n in calls), 200)
        # The detail is the very exception object.
        self.assertIs(row.get_error_detail(), failure)

    def test_map_model_function_gets_the_objects(self):
        store = Gio.ListStore.new(Gio.SimpleAction)
        for name in ('a', 'b', 'c'):
            store.append(Gio.SimpleAction.new(name, None))

        def name_of(chunk, item, data):
            chunk.return_string(item.get_name().upper())

        multi = AsyncGui.MultiTaskObject.new_map_model(store, name_of, None)
        self.run_to_end(multi)
        self.assertEqual(self.child_values(multi, range(3)), ['A', 'B', 'C'])

    def test_typed_returns_and_a_function_that_returns_nothing(self):
        def typed(chunk, position, data):
            if position == 0:
                chunk.return_int64(-2 ** 40)
            elif position == 1:
                chunk.return_boolean(True)
            elif position == 2:
                chunk.return_double(0.25)

        multi = AsyncGui.MultiTaskObject.new_map_range(4, typed, None)
        multi.set_skip_errors(True)
        self.run_to_end(multi)
        self.assertEqual(self.child_values(multi, range(3)), [-2 ** 40, True, 0.25])
        with self.assertRaises(GLib.Error) as nothing:
            multi.get_child_value(3)
        self.assertTrue(nothing.exception.matches(AsyncGui.error_quark(),
                                                  AsyncGui.Error.NO_RESULT))

    def test_a_kept_handle_is_replaced_and_refuses_late_use(self):
        kept = []

        def keep(chunk, position, data):
            kept.append(chunk)
            chunk.return_value(None)

        self.engine.set_max_threads(0)
        multi = AsyncGui.MultiTaskObject.new_map_range(3, keep, None)
        multi.set_min_count(3)
        self.run_to_end(multi)
        self.assertEqual(multi.get_state(), AsyncGui.TaskState.SUCCEEDED)
        self.assertEqual(len({id(chunk) for chunk in kept}), 3)
        GLib.test_expect_message('AsyncGui', GLib.LogLevelFlags.LEVEL_CRITICAL, '*not running*')
        kept[0].return_value(GObject.Value(GObject.TYPE_INT, 1))
        GLib.test_assert_expected_messages_internal('AsyncGui', __file__, 0, 'late return')

    def test_pipeline_function_emits_and_returns_through_its_chunk(self):
        def evens_and_doubled_odds(chunk, item, data):
            if item % 2:
                chunk.emit(GObject.Value(GObject.TYPE_UINT64, item))
                chunk.emit(GObject.Value(GObject.TYPE_UINT64, item))
                chunk.return_nothing()
            elif item == 4:
                chunk.return_error(io_error(Gio.IOErrorEnum.NOT_SUPPORTED, 'four'))
            else:
                chunk.return_uint64(item)

        pipeline = AsyncGui.PipelineObject.new_range(10, evens_and_doubled_odds, None)
        self.assertEqual(self.read_to_end(pipeline, 16), [0, 1, 1, 2, 3, 3])
        self.assertTrue(pipeline.get_error().matches(Gio.io_error_quark(),
                                                     Gio.IOErrorEnum.NOT_SUPPORTED))

    def test_whole_chunk_items_come_from_the_handle(self):
        def chunk_sum(chunk, item, data):
            self.assertIsNone(item)
            items = chunk.dup_items()
            self.assertEqual(chunk.get_position(), items[0])
            chunk.emit(GObject.Value(GObject.TYPE_UINT64, sum(items)))
            chunk.return_value(None)

        pipeline = AsyncGui.PipelineObject.new_range(100, chunk_sum, None)
        pipeline.set_apply_single(False)
        pipeline.set_max_chunk_size(10)
        sums = self.read_to_end(pipeline, 100)
        self.assertGreaterEqual(len(sums), 10)
        self.assertEqual(sum(sums), 99 * 100 // 2)
        self.assertEqual(pipeline.get_state(), AsyncGui.TaskState.SUCCEEDED)

    def test_results_stream_gives_positions_as_children_finish(self):
        # What an `async for` over a MultiTask can read instead of
        # re-implementing the order: the reader of ag_multi_task_open_results().
        # Position 0 ends only once 1 and 2 have returned. Their threads
        # hand the results on just after the release, so 0 then waits a
        # moment more for the results to be on their way first.
        others_ended = threading.Semaphore(0)

        def zero_ends_last(chunk, position, data):
            if position == 0:
                for _ in range(2):
                    # Bounded: should the engine run them in one call, the
                    # order assertion below fails instead of a hang.
                    others_ended.acquire(timeout=10)
                time.sleep(0.1)
            chunk.return_int(position)
            if position != 0:
                others_ended.release()

        multi = AsyncGui.MultiTaskObject.new_map_range(3, zero_ends_last, None)
        multi.set_unordered(True)
        reader = multi.open_results()
        self.run_to_end(multi)
        positions = AsyncGui.ChannelReader.read(reader, 10, 0)
        self.assertEqual(sorted(positions[:2]), [1, 2])
        self.assertEqual(positions[2], 0)
        self.assertTrue(reader.is_drained())


    def test_prioritized_range_starts_first_and_keeps_list_order(self):
        # One strict thread: the order the function sees is the start order.
        self.engine.set_max_threads(1)
        self.engine.set_max_blocked_threads(0)
        started = []

        def note(chunk, position, data):
            started.append(position)
            chunk.return_int(position)

        multi = AsyncGui.MultiTaskObject.new_map_range(200, note, None)
        # The user scrolled: the latest range wins.
        multi.prioritize(20, 10)
        multi.prioritize(150, 10)
        self.run_to_end(multi)
        self.assertEqual(started, [*range(150, 160), *range(150), *range(160, 200)])
        self.assertEqual(self.child_values(multi, range(200)), list(range(200)))

if __name__ == '__main__':
    raise SystemExit(agtest.main(ChunkTest))
