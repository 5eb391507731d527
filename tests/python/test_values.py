#!/usr/bin/python3
# test_values.py: a Python Task's value is the AgTask's value, a GValue of
# GObject.TYPE_PYOBJECT holding the very object, so every reader on the C
# side sees it: GI's get_value() and the value property, a task that
# depends on it, the rows of a MultiTask, a job that awaits the AgTask.
# The object lives exactly as long as the GValue that holds it.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import gc
import sys
import threading
import weakref

import agtest
from agtest import identity
from gi.repository import AsyncGui, GLib, GObject
from gi.repository.AsyncGui import MultiTask, Task


class Payload:
    """A value whose life a weak reference can follow."""

    def __init__(self, n):
        self.n = n


def make_payload(n):
    return Payload(n)


def fail(n):
    raise KeyError(n)


class ValuesTest(agtest.JobTestCase):

    def run_gtask(self, gtask):
        outcome = []
        self.engine.run_async(gtask, None, lambda engine, result, *unused: outcome.append(1))
        self.run_loop_until(lambda: outcome)
        return gtask

    def test_gi_reads_the_very_object_a_task_returned(self):
        payload = Payload(1)
        gtask = self.run_gtask(Task(lambda: payload).gtask)

        self.assertEqual(gtask.get_state(), AsyncGui.TaskState.SUCCEEDED)
        self.assertIs(gtask.get_value(), payload)
        self.assertIs(gtask.props.value, payload)

    def test_run_finish_gives_the_object(self):
        payload = Payload(2)
        results = []
        gtask = Task(lambda: payload).gtask

        def done(engine, result, *unused):
            results.append(engine.run_finish(result))
        self.engine.run_async(gtask, None, done)
        self.run_loop_until(lambda: results)
        self.assertIs(results[0], payload)

    def test_value_property_is_notified_once_with_the_object(self):
        payload = Payload(3)
        gtask = Task(lambda: payload).gtask
        seen = []
        gtask.connect('notify::value', lambda task, pspec: seen.append(task.props.value))
        self.run_gtask(gtask)
        agtest.drain(self.context)
        self.assertEqual(len(seen), 1)
        self.assertIs(seen[0], payload)

    def test_a_failed_task_has_no_value(self):
        gtask = Task(fail, 4).gtask
        seen = []
        gtask.connect('notify::value', lambda *unused: seen.append(1))
        self.run_gtask(gtask)
        self.assertEqual(gtask.get_state(), AsyncGui.TaskState.FAILED)
        self.assertIsNone(gtask.get_value())
        self.assertIsNone(gtask.props.value)
        self.assertEqual(seen, [])

    def test_a_gi_task_depending_on_a_python_task_sees_its_value(self):
        payload = Payload(5)
        seen = []

        def read_dependency(task, unused_data, cancellable):
            seen.append(task.get_dependency_value(0))
            task.return_value(GObject.Value(GObject.TYPE_PYOBJECT, seen[0]))

        first = Task(lambda: payload)
        following = AsyncGui.TaskObject.new(read_dependency, None)
        following.add_dependency(first.gtask)
        self.run_gtask(following)
        self.assertEqual(following.get_state(), AsyncGui.TaskState.SUCCEEDED)
        self.assertIs(seen[0], payload)
        self.assertIs(following.get_value(), payload)

    def test_and_then_still_gets_the_python_value(self):
        payload = Payload(6)

        @self.engine.job
        def handler():
            return (yield Task(lambda: payload).and_then(lambda value: (value, value.n)))

        self.assertEqual(self.run_job(handler()).result(), (payload, 6))

    def test_rows_of_a_multi_task_hold_the_values(self):
        payloads = [Payload(i) for i in range(4)]
        tasks = [Task(lambda p=p: p) for p in payloads]
        tasks.insert(2, Task(fail, 9))
        gtask = MultiTask(tasks, skip_errors=True).gtask
        rows = [gtask.get_item(i) for i in range(gtask.get_n_items())]
        self.run_gtask(gtask)

        self.assertEqual([row.get_state() for row in rows],
                         [AsyncGui.TaskState.SUCCEEDED] * 2 + [AsyncGui.TaskState.FAILED]
                         + [AsyncGui.TaskState.SUCCEEDED] * 2)
        values = [row.props.value for row in rows]
        self.assertEqual([v is p for v, p in zip(values[:2] + values[3:], payloads)],
                         [True] * 4)
        self.assertIsNone(values[2])
        self.assertIs(gtask.get_child_value(3).value, payloads[2])
        self.assertEqual([row.value is value for row, value in zip(rows, values)], [True] * 5)

    def test_numbers_of_a_list_come_back_exact_and_of_their_type(self):
        # Lists of whole numbers or of floats go to C as arrays of numbers;
        # anything else, or numbers beyond 64 bits, as before.
        groups = [
            [0, -1, 2 ** 31, -2 ** 63, 2 ** 63 - 1],
            [1, 2 ** 63],
            [-2 ** 63 - 1, 5],
            [0.5, -1e300, float('inf')],
            [1, 2.5],
            [True, False],
            [1, True],
            [3, None],
            [None, None],
        ]

        @self.engine.job
        def handler():
            results = []
            for group in groups:
                results.append((yield [Task(identity, value) for value in group]))
            return results

        results = self.run_job(handler()).result()
        for group, values in zip(groups, results):
            self.assertEqual(values, group)
            self.assertEqual([type(value) for value in values], [type(value) for value in group])

    def test_strings_of_a_list_come_back_whole(self):
        # A str C cannot hold (a NUL, a lone surrogate) travels as the
        # object, in every way a list is read.
        strings = ['a\0b', 'plain', '\0', 'x\ud800y', '']

        @self.engine.job
        async def handler():
            ordered = await MultiTask([Task(identity, s) for s in strings])
            unordered = await MultiTask([Task(identity, s) for s in strings], unordered=True)
            streamed = [s async for s in MultiTask([Task(identity, s) for s in strings])]
            alone = await MultiTask([Task(identity, 'a\0b')])
            return ordered, unordered, streamed, alone

        ordered, unordered, streamed, alone = self.run_job(handler()).result()
        self.assertEqual(ordered, strings)
        self.assertEqual(sorted(unordered), sorted(strings))
        self.assertEqual(streamed, strings)
        self.assertEqual(alone, ['a\0b'])

    def test_a_list_of_numbers_comes_back_without_converting_the_c_values(self):
        # Numbers go to C packed and also stay here as the lists they were:
        # a job gets those lists, joined in list order, not a conversion of
        # every C value. A list with one value that is not a number reads
        # C's values, as it always did.
        n = 5000
        calls = []
        get_values = AsyncGui.MultiTaskObject.get_values

        def counting(multi):
            calls.append(multi)
            return get_values(multi)

        @self.engine.job
        def handler(values, unordered=False):
            return (yield MultiTask([Task(identity, value) for value in values],
                                    unordered=unordered))

        ints = list(range(n))
        floats = [i / 2 for i in range(n)]
        mixed = ints[:n // 2] + ['x'] + ints[n // 2 + 1:]
        AsyncGui.MultiTaskObject.get_values = counting
        try:
            self.assertEqual(self.run_job(handler(ints)).result(), ints)
            self.assertEqual(self.run_job(handler(floats)).result(), floats)
            self.assertEqual(sorted(self.run_job(handler(ints, unordered=True)).result()), ints)
            self.assertEqual(calls, [])
            self.assertEqual(self.run_job(handler(mixed)).result(), mixed)
            self.assertEqual(len(calls), 1)
        finally:
            AsyncGui.MultiTaskObject.get_values = get_values

    def test_a_job_awaiting_the_gi_task_gets_the_object(self):
        payload = Payload(7)
        task = Task(lambda: payload)

        @self.engine.job
        def handler():
            return (yield task.gtask)

        self.assertIs(self.run_job(handler()).result(), payload)

    def test_a_job_value_reads_the_same_through_gi_and_to_a_job_awaiting_it(self):
        payload = Payload(8)
        values = ['with\0nul', 'plain', 2**40, 2.5, True, payload]
        inners = []

        @self.engine.job
        def inner(value):
            yield AsyncGui.sleep(0.01)
            return value

        @self.engine.job
        def outer():
            got = []
            for value in values:
                job = inner(value)
                inners.append(job)
                got.append((yield job))
            got.append((yield [inner(value) for value in values]))
            return got

        got = self.run_job(outer()).result()
        self.assertEqual(got[:-1], values)
        self.assertEqual(got[-1], values)
        self.assertIs(got[-2], payload)
        self.assertEqual([job.get_value() for job in inners], values)
        self.assertEqual([type(value) for value in got[:-1]], [type(value) for value in values])

    def test_yielded_multi_task_gives_values_and_first_error(self):
        payloads = [Payload(i) for i in range(3)]

        @self.engine.job
        def ordered():
            multi = MultiTask([Task(lambda p=p: p) for p in payloads])
            multi.gtask
            return (yield multi)

        @self.engine.job
        def failing():
            multi = MultiTask([Task(identity, 1), Task(fail, 2), Task(fail, 3)])
            multi.gtask
            try:
                yield multi
            except KeyError as exc:
                return exc.args

        values = self.run_job(ordered()).result()
        self.assertEqual([v is p for v, p in zip(values, payloads)], [True] * 3)
        self.assertEqual(self.run_job(failing()).result(), (2,))

    def test_gtask_read_after_a_job_started_the_multi_task_is_the_one_it_runs(self):
        multi = AsyncGui.MultiTask([Task(identity, i, 0.05) for i in range(3)])

        @self.engine.job
        def handler():
            return (yield multi)

        job = handler()
        gtask = multi.gtask
        self.assertEqual(gtask.get_state(), AsyncGui.TaskState.RUNNING)
        self.assertEqual(self.run_job(job).result(), [0, 1, 2])
        self.assertIs(multi.gtask, gtask)
        self.assertEqual([row.props.value for row in gtask], [0, 1, 2])

    def test_gtask_read_after_a_job_ran_the_task_is_the_one_it_ran(self):
        payload = Payload(7)
        task = Task(lambda: payload)

        @self.engine.job
        def handler():
            return (yield task)

        self.assertIs(self.run_job(handler()).result(), payload)
        gtask = task.gtask
        self.assertEqual(gtask.get_state(), AsyncGui.TaskState.SUCCEEDED)
        self.assertIs(gtask.get_value(), payload)
        self.assertIs(gtask.value, payload)
        # Yielded again, it runs anew, as a new AgTask, which gtask gives then.
        self.assertIs(self.run_job(handler()).result(), payload)
        self.assertIsNot(task.gtask, gtask)
        self.assertEqual(task.gtask.get_state(), AsyncGui.TaskState.SUCCEEDED)

    def test_a_finished_async_for_over_a_multi_task_keeps_nothing_alive(self):
        # A long-running job loops over MultiTasks again and again: what
        # each loop ran must go once it is over, not when the job ends.
        refs = []

        @self.engine.job
        async def handler():
            for unused in range(3):
                async for value in MultiTask([Task(make_payload, i) for i in range(3)],
                                             unordered=True):
                    refs.append(weakref.ref(value))
                value = None
            gc.collect()
            return [ref() is None for ref in refs]

        self.assertEqual(self.run_job(handler()).result(), [True] * 9)

    def test_rows_seen_and_unseen_give_the_same_lists(self):
        # One child per task (the MultiTask made first) or lanes (nobody
        # sees the children): the same values, order and failures.
        def tasks():
            return [Task(identity, 0), Task(fail, 1), Task(identity, 2), Task(identity, 3),
                    Task(fail, 4), Task(identity, 5)]

        @self.engine.job
        def handler(seen, skip_errors, unordered):
            multi = MultiTask(tasks(), skip_errors=skip_errors, unordered=unordered)
            if seen:
                multi.gtask
            try:
                values = yield multi
            except KeyError as exc:
                return 'raised', exc.args
            return 'values', sorted(values) if unordered else values

        for skip_errors in (False, True):
            for unordered in (False, True):
                outcomes = [self.run_job(handler(seen, skip_errors, unordered)).result()
                            for seen in (False, True)]
                self.assertEqual(outcomes[0], outcomes[1], (skip_errors, unordered))
                self.assertEqual(outcomes[0], ('values', [0, 2, 3, 5]) if skip_errors
                                 else ('raised', (1,)))

    def test_the_value_lives_as_long_as_the_task(self):
        task = Task(make_payload, 8)
        gtask = self.run_gtask(task.gtask)
        payload = gtask.get_value()
        alive = weakref.ref(payload)
        base = sys.getrefcount(payload)

        self.assertIs(gtask.get_value(), payload)
        self.assertEqual(sys.getrefcount(payload), base)
        del payload
        gc.collect()
        self.assertIsNotNone(alive())

        del task, gtask
        agtest.drain(self.context)
        gc.collect()
        self.assertIsNone(alive())

    def test_the_values_of_rows_live_as_long_as_the_multi_task(self):
        payloads = [Payload(i) for i in range(3)]
        alive = [weakref.ref(p) for p in payloads]
        gtask = MultiTask([Task(make_payload, i) for i in range(3)]).gtask
        rows = [gtask.get_item(i) for i in range(3)]
        self.run_gtask(gtask)
        # row.value: PyGObject 3.42's row.props.value keeps a reference
        # for good each time (see the override).
        kept = [weakref.ref(row.value) for row in rows]
        del payloads
        gc.collect()
        self.assertEqual([ref() for ref in alive], [None] * 3)
        self.assertEqual([ref() is not None for ref in kept], [True] * 3)

        del rows, gtask
        agtest.drain(self.context)
        gc.collect()
        self.assertEqual([ref() for ref in kept], [None] * 3)

    def test_run_finish_keeps_no_reference(self):
        results = []
        gtask = Task(make_payload, 11).gtask
        self.engine.run_async(gtask, None, lambda engine, result, *unused: results.append(
            engine.run_finish(result)))
        self.run_loop_until(lambda: results)
        kept = weakref.ref(results.pop())
        self.assertIs(kept(), gtask.value)
        del gtask
        agtest.drain(self.context)
        gc.collect()
        self.assertIsNone(kept())

    def test_a_multi_tasks_value_through_gi_is_a_list(self):
        results = []
        gtask = MultiTask([Task(identity, i * i) for i in range(5)]).gtask
        self.engine.run_async(gtask, None, lambda engine, result, *unused: results.append(
            engine.run_finish(result)))
        self.run_loop_until(lambda: results)
        self.assertEqual(results, [[0, 1, 4, 9, 16]])
        self.assertEqual(gtask.get_value(), [0, 1, 4, 9, 16])
        self.assertEqual(gtask.value, [0, 1, 4, 9, 16])
        self.assertIsNone(MultiTask([Task(identity, 1)]).gtask.value)

        # A job that awaits the AgTask itself.
        @self.engine.job
        def awaiting(gtask):
            return (yield gtask)

        awaited = MultiTask([Task(identity, i) for i in range(3)]).gtask
        self.assertEqual(self.run_job(awaiting(awaited)).result(), [0, 1, 2])

        # A child without a value (a sleep) reads as None.
        mixed = AsyncGui.MultiTaskObject.new()
        mixed.add(AsyncGui.Task.new_sleep(0))
        mixed.add(Task(identity, 'x').gtask)
        self.run_gtask(mixed)
        self.assertEqual(mixed.value, [None, 'x'])

    def test_a_failing_run_finish_leaves_no_cycle_behind(self):
        # A callback's locals (a window, a slot) must go when it returns,
        # not when the cycle collector runs: the error's traceback must not
        # lead back to itself through run_finish()'s frame.
        freed = []
        called = []

        def on_done(source, result, *unused):
            called.append(source)
            window = Payload(0)
            weakref.finalize(window, freed.append, type(source).__name__)
            try:
                source.run_finish(result)
            except GLib.Error:
                pass

        slot = self.engine.slot()
        gc.disable()
        try:
            cancelled = Task(make_payload, 1).gtask
            self.engine.run_async(cancelled, None, on_done)
            cancelled.cancel()
            slot.run_async(AsyncGui.Task.new_sleep(1000), None, on_done)
            slot.run_async(AsyncGui.Task.new_sleep(0), None, lambda *unused: None)
            self.run_loop_until(lambda: len(called) == 2)
            agtest.drain(self.context)
            self.assertEqual(sorted(freed), ['Engine', 'Slot'])
        finally:
            gc.enable()

    def test_a_job_that_awaited_values_keeps_none_of_them(self):
        made = []

        def make(i):
            payload = Payload(i)
            made.append(weakref.ref(payload))
            return payload

        @self.engine.job
        async def handler():
            await Task(make, 0)
            await Task(make, 1).gtask
            await MultiTask([Task(make, 2), Task(make, 3)])
            multi = MultiTask([Task(make, 4), Task(make, 5)], unordered=True)
            multi.gtask
            await multi
            async for unused in MultiTask([Task(make, 6), Task(make, 7)]):
                pass

        self.run_job(handler()).result()
        agtest.drain(self.context)
        gc.collect()
        self.assertEqual(len(made), 8)
        self.assertEqual([ref() for ref in made], [None] * 8)

    def test_reading_the_value_attribute_keeps_no_reference(self):
        payload = Payload(10)
        gtask = self.run_gtask(Task(lambda: payload).gtask)
        base = sys.getrefcount(payload)
        for _ in range(3):
            self.assertIs(gtask.value, payload)
        self.assertEqual(sys.getrefcount(payload), base)

    def test_values_returned_after_disposal_are_released_by_the_workers(self):
        # The engine goes while the functions run: what they return is
        # dropped where it arrives, on the worker threads, taking the GIL.
        made = []
        entered = threading.Event()
        gate = threading.Event()

        def make(i):
            entered.set()
            gate.wait(agtest.SAFETY_S)
            payload = Payload(i)
            made.append(weakref.ref(payload))
            return payload

        gtask = MultiTask([Task(make, i) for i in range(4)], max_workers=4).gtask
        rows = [gtask.get_item(i) for i in range(4)]
        self.engine.run_async(gtask, None, None)
        # A worker setting the event does not wake the loop: a timer does.
        ticks = GLib.timeout_add(10, lambda: GLib.SOURCE_CONTINUE)
        try:
            self.run_loop_until(entered.is_set)
        finally:
            GLib.source_remove(ticks)
        self.engine.run_dispose()
        gate.set()
        self.assertTrue(AsyncGui.Engine.join_disposed(agtest.SAFETY_S * 1000))
        self.assertEqual([row.get_state() for row in rows], [AsyncGui.TaskState.CANCELLED] * 4)
        self.assertEqual([row.value for row in rows], [None] * 4)
        gc.collect()
        self.assertGreater(len(made), 0)
        self.assertEqual([ref() for ref in made], [None] * len(made))
        self.engine = None

    def test_values_of_rows_outlive_their_engine_until_the_rows_go(self):
        gtask = MultiTask([Task(make_payload, i) for i in range(4)]).gtask
        rows = [gtask.get_item(i) for i in range(4)]
        self.run_gtask(gtask)
        kept = [weakref.ref(row.value) for row in rows]
        self.engine.run_dispose()
        self.engine = None
        agtest.drain(self.context)
        gc.collect()
        self.assertEqual([ref() is not None for ref in kept], [True] * 4)
        del gtask, rows
        gc.collect()
        self.assertEqual([ref() for ref in kept], [None] * 4)

    def test_a_value_held_by_a_disposed_engine_is_released(self):
        task = Task(make_payload, 9)
        gtask = self.run_gtask(task.gtask)
        kept = weakref.ref(gtask.get_value())
        self.engine.run_dispose()
        self.engine = None
        del task, gtask
        agtest.drain(self.context)
        gc.collect()
        self.assertIsNone(kept())


if __name__ == '__main__':
    sys.exit(agtest.main(ValuesTest))
