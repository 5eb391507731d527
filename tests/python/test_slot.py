#!/usr/bin/python3
# test_slot.py: slots in Python, the latest request wins
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import gc
import io
import random
import sys
import threading
import time

import agtest
from gi.repository import AsyncGui, GLib
from gi.repository.AsyncGui import Task


class Query:
    """One query of a search box: its function waits ``latency_s``, or
    until its cancellable fires, then gives its number. What it saw is
    written here for the test."""

    def __init__(self, number, latency_s):
        self.number = number
        self.latency_s = latency_s
        self.ran = threading.Event()
        self.saw_cancel = False
        self.finished = False
        self.finished_at = None
        self.superseded_at = None

    def task(self):
        return Task(run_query, self)


def run_query(query):
    cancellable = AsyncGui.current_task().get_cancellable()
    query.ran.set()
    deadline = time.monotonic() + query.latency_s
    while True:
        # Read before the check: a query that finishes without seeing its
        # cancellable fire was cancelled (if at all) after this time.
        now = time.monotonic()
        if cancellable.is_cancelled():
            query.saw_cancel = True
            return None
        if now >= deadline:
            break
        time.sleep(0.001)
    query.finished_at = now
    query.finished = True
    return query.number


class Display:
    """What a search window shows: the value of the latest query, and how
    often something else was shown."""

    def __init__(self):
        self.shown = None
        self.latest = None
        self.n_stale = 0
        self.n_shown = 0
        self.cleaned_up = []


class _Tee(io.StringIO):
    def __init__(self, stream):
        super().__init__()
        self.stream = stream

    def write(self, text):
        self.stream.write(text)
        return super().write(text)


class SlotTestCase(agtest.JobTestCase):
    def setUp(self):
        super().setUp()
        self.display = Display()
        # What PyGObject prints for a failing callback, and what a job
        # that failed unseen prints, is kept here (and still printed).
        self.stderr, sys.stderr = sys.stderr, _Tee(sys.stderr)

    def tearDown(self):
        gc.collect()
        printed, sys.stderr = sys.stderr.getvalue(), self.stderr
        super().tearDown()
        self.assertEqual(printed, '')

    def run_loop_until(self, predicate, timeout_s=agtest.SAFETY_S):
        """As JobTestCase's, also for what worker threads set, which does
        not wake the loop: a timer wakes it to check now and then."""
        timer = GLib.Timeout(5)
        timer.set_callback(lambda *unused: GLib.SOURCE_CONTINUE)
        timer.attach(self.context)
        try:
            super().run_loop_until(predicate, timeout_s)
        finally:
            timer.destroy()

    def ask(self, slot, query):
        """Starts a job that runs ``query`` in ``slot`` and shows its value,
        as a search box's 'changed' handler does."""
        display = self.display
        display.latest = query.number

        @self.engine.job
        def search():
            try:
                value = yield slot.run(query.task())
                display.n_shown += 1
                display.n_stale += value != display.latest
                display.shown = value
            finally:
                display.cleaned_up.append(query.number)
        return search()


class SlotTest(SlotTestCase):
    def test_engine_slot_makes_a_slot_with_its_periods(self):
        slot = self.engine.slot(debounce_ms=150, throttle_ms=40)
        self.assertIsInstance(slot, AsyncGui.Slot)
        self.assertIs(slot.engine, self.engine)
        self.assertEqual((slot.debounce_ms, slot.throttle_ms), (150, 40))
        slot.debounce_ms = 0
        self.assertEqual(slot.props.debounce_ms, 0)
        self.assertFalse(slot.busy)
        self.assertIsNone(slot.props.task)

    def test_latest_request_wins_and_the_superseded_job_ends_cancelled_quietly(self):
        slot = self.engine.slot()
        slow = Query(1, 5.0)
        quick = Query(2, 0.0)
        first = self.ask(slot, slow)
        self.run_loop_until(slow.ran.is_set)
        second = self.ask(slot, quick)
        self.run_loop_until(lambda: first.is_finished() and second.is_finished())

        self.assertEqual(first.state, AsyncGui.TaskState.CANCELLED)
        self.assertRaises(AsyncGui.CancelledError, first.result)
        self.assertEqual(second.result(), None)
        self.assertEqual(self.display.shown, 2)
        self.assertEqual(self.display.n_shown, 1)
        self.assertEqual(sorted(self.display.cleaned_up), [1, 2])
        self.run_loop_until(lambda: slow.saw_cancel)
        self.assertFalse(slow.finished)

    def test_an_async_job_may_catch_the_cancel_of_its_superseded_request(self):
        slot = self.engine.slot()
        slow = Query(1, 5.0)
        caught = []

        @self.engine.job
        async def search():
            try:
                await slot.run(slow.task())
            except AsyncGui.CancelledError:
                caught.append(True)
            return 'went on'
        job = search()
        self.run_loop_until(slow.ran.is_set)
        self.ask(slot, Query(2, 0.0))
        self.run_job(job)
        self.assertEqual(job.result(), 'went on')
        self.assertEqual(caught, [True])

    def test_cancelling_the_job_cancels_its_request(self):
        slot = self.engine.slot()
        slow = Query(1, 5.0)
        job = self.ask(slot, slow)
        self.run_loop_until(slow.ran.is_set)
        job.cancel()
        self.run_job(job)
        self.assertEqual(job.state, AsyncGui.TaskState.CANCELLED)
        self.run_loop_until(lambda: slow.saw_cancel and not slot.busy)

    def test_a_task_given_again_while_it_waits_raises_and_the_first_request_goes_on(self):
        slot = self.engine.slot(debounce_ms=20)
        task = AsyncGui.Task.new_sleep(10)

        @self.engine.job
        def search():
            try:
                yield slot.run(task)
            except RuntimeError as error:
                return str(error)
            return 'ran'

        first, second = search(), search()
        self.run_loop_until(lambda: first.is_finished() and second.is_finished())
        self.assertIn('already waits in the slot', second.result())
        self.assertEqual(first.result(), 'ran')
        self.assertFalse(slot.busy)

    def test_the_task_exception_is_raised_at_the_yield(self):
        slot = self.engine.slot()

        def broken():
            raise KeyError('no such word')

        @self.engine.job
        def search():
            try:
                yield slot.run(Task(broken))
            except KeyError as error:
                return error.args[0]
        job = self.run_job(search())
        self.assertEqual(job.result(), 'no such word')

    def test_a_failed_request_in_a_list_fails_the_list_unless_errors_are_skipped(self):
        slot = self.engine.slot()

        def broken():
            raise KeyError('no such word')

        @self.engine.job
        def search(skip_errors):
            return (yield AsyncGui.MultiTask([Task(pow, 2, 3), slot.run(Task(broken))],
                                             skip_errors=skip_errors))
        with self.assertRaises(KeyError):
            self.run_job(search(False)).result()
        self.assertEqual(self.run_job(search(True)).result(), [8])

        @self.engine.job
        def unordered():
            return (yield AsyncGui.MultiTask([Task(pow, 2, 3), slot.run(Task(broken)),
                                              Task(pow, 3, 2)],
                                             skip_errors=True, unordered=True))
        self.assertEqual(sorted(self.run_job(unordered()).result()), [8, 9])

    def test_a_list_of_tasks_runs_in_the_slot_as_one_request(self):
        slot = self.engine.slot()

        @self.engine.job
        def search():
            return (yield slot.run([Task(pow, 2, 3), Task(pow, 3, 2)]))
        job = search()
        self.assertTrue(slot.busy)
        self.run_job(job)
        self.assertEqual(job.result(), [8, 9])
        self.assertFalse(slot.busy)

    def test_the_items_of_a_replaced_list_see_their_cancellable_fire(self):
        slot = self.engine.slot()
        seen = {}

        def item(number):
            cancellable = AsyncGui.current_cancellable()
            seen[number] = None
            deadline = time.monotonic() + 5
            while not cancellable.is_cancelled() and time.monotonic() < deadline:
                time.sleep(0.001)
            seen[number] = cancellable.is_cancelled()
            return number

        @self.engine.job
        def search(tasks):
            return (yield slot.run(tasks))

        replaced = search([Task(item, 1), Task(item, 2)])
        self.run_loop_until(lambda: seen)
        started = time.monotonic()
        latest = search(Task(pow, 2, 5))
        self.run_loop_until(lambda: replaced.is_finished() and latest.is_finished()
                            and None not in seen.values())
        self.assertLess(time.monotonic() - started, 2)
        self.assertTrue(all(seen.values()), seen)
        self.assertEqual(replaced.state, AsyncGui.TaskState.CANCELLED)
        self.assertEqual(latest.result(), 32)
        self.assertIsNone(AsyncGui.current_cancellable())

    def test_debounce_starts_one_task_for_a_burst_of_keystrokes(self):
        slot = self.engine.slot(debounce_ms=200)
        keys = [Query(i, 0.01) for i in range(5)]
        jobs = []
        for query in keys:
            jobs.append(self.ask(slot, query))
            # Keystrokes 20 ms apart, well inside the quiet period.
            self.run_loop_for(0.02)
        self.run_loop_until(lambda: all(job.is_finished() for job in jobs))

        self.assertEqual([query.ran.is_set() for query in keys], [False] * 4 + [True])
        self.assertEqual([job.state for job in jobs],
                         [AsyncGui.TaskState.CANCELLED] * 4 + [AsyncGui.TaskState.SUCCEEDED])
        self.assertEqual(self.display.shown, 4)

    def test_throttle_keeps_the_trailing_request(self):
        slot = self.engine.slot(throttle_ms=300)
        leading, middle, trailing = Query(1, 0.0), Query(2, 0.0), Query(3, 0.0)
        jobs = [self.ask(slot, leading)]
        self.run_loop_until(jobs[0].is_finished)
        # Both come inside the period: the later replaces the earlier,
        # which never runs, and runs once the period is over.
        jobs.append(self.ask(slot, middle))
        jobs.append(self.ask(slot, trailing))
        self.assertTrue(slot.busy)
        self.run_loop_until(lambda: all(job.is_finished() for job in jobs))

        self.assertTrue(leading.ran.is_set())
        self.assertFalse(middle.ran.is_set())
        self.assertTrue(trailing.finished)
        self.assertEqual(jobs[1].state, AsyncGui.TaskState.CANCELLED)
        self.assertEqual(self.display.shown, 3)
        self.assertEqual(self.display.n_stale, 0)

    def test_throttle_shows_the_running_query_before_the_next_starts(self):
        # A live preview: the query running when the next comes goes on
        # until the next starts, and its value is shown meanwhile.
        slot = self.engine.slot(throttle_ms=1000)
        running, following = Query(1, 0.1), Query(2, 0.0)
        first = self.ask(slot, running)
        self.run_loop_until(running.ran.is_set)
        second = self.ask(slot, following)
        self.run_loop_until(first.is_finished)
        self.assertEqual(first.state, AsyncGui.TaskState.SUCCEEDED)
        self.assertEqual(self.display.shown, 1)
        self.assertFalse(following.ran.is_set())
        self.run_loop_until(second.is_finished)
        self.assertEqual(self.display.shown, 2)

    def test_busy_spans_the_latest_request_and_notifies_twice(self):
        slot = self.engine.slot()
        seen = []
        slot.connect('notify::busy', lambda obj, pspec: seen.append(obj.busy))
        first = self.ask(slot, Query(1, 5.0))
        self.assertTrue(slot.busy)
        second = self.ask(slot, Query(2, 0.05))
        self.assertTrue(slot.busy)
        self.assertIsNotNone(slot.props.task)
        self.run_loop_until(lambda: first.is_finished() and second.is_finished())

        self.assertFalse(slot.busy)
        self.assertEqual(seen, [True, False])
        self.assertEqual(self.display.shown, 2)

    def test_fifty_queries_with_random_latency_show_only_the_last(self):
        seed = random.randrange(1 << 30)
        rng = random.Random(seed)
        slot = self.engine.slot()
        queries = [Query(i, rng.uniform(0.0, 0.08)) for i in range(50)]
        jobs = []
        for i, query in enumerate(queries):
            jobs.append(self.ask(slot, query))
            if i > 0:
                queries[i - 1].superseded_at = time.monotonic()
            self.run_loop_for(rng.uniform(0.0, 0.03))
        self.run_loop_until(lambda: all(job.is_finished() for job in jobs))
        # Functions that were cancelled may still be returning.
        self.run_loop_until(lambda: all(not q.ran.is_set() or q.finished or q.saw_cancel
                                        for q in queries))

        message = 'seed %d' % seed
        self.assertEqual(self.display.n_stale, 0, message)
        self.assertEqual(self.display.shown, 49, message)
        self.assertEqual(jobs[-1].state, AsyncGui.TaskState.SUCCEEDED, message)
        superseded = [q for q, job in zip(queries, jobs)
                      if job.state == AsyncGui.TaskState.CANCELLED]
        # A query whose function was still running when the next one was
        # asked saw its cancellable fire and did not finish; one that had
        # finished may still have been superseded before it was shown.
        for query in superseded:
            if query.ran.is_set() and not query.saw_cancel:
                self.assertLess(query.finished_at, query.superseded_at,
                                'query %d; %s' % (query.number, message))
        self.assertGreater(sum(q.saw_cancel for q in queries), 5, message)
        self.assertEqual(len(self.display.cleaned_up), 50, message)


if __name__ == '__main__':
    sys.exit(agtest.main(SlotTest))
