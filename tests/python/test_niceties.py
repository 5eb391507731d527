#!/usr/bin/python3
# test_niceties.py: what users of modern PyGObject expect of the override:
# `async with` wherever `with` works, a docstring on every public name, and
# AsyncGui.CancelledError meeting asyncio's cancellation in a guest run
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import asyncio
import inspect
import sys
import threading
import types

import agtest
from agtest import identity
from gi.repository import AsyncGui, Gio
from gi.repository.AsyncGui import MultiTask, Task

OVERRIDE = sys.modules['gi.overrides.AsyncGui']


class Oops(Exception):
    pass


def until_cancelled(saw_cancel):
    """Runs until its AgTask's cancellable fires (at most SAFETY_S)."""
    cancellable = AsyncGui.current_task().get_cancellable()
    fired = threading.Event()
    Gio.Cancellable.connect(cancellable, lambda *unused: fired.set())
    if fired.wait(agtest.SAFETY_S):
        saw_cancel.set()
    return 'not cancelled'


def public_classes():
    for name in OVERRIDE.__all__:
        value = getattr(OVERRIDE, name)
        if isinstance(value, type):
            yield name, value


def own_members(cls):
    """The public functions and properties the override itself defined
    on ``cls`` (not those PyGObject makes from the typelib)."""
    for name, value in vars(cls).items():
        if name.startswith('_'):
            continue
        func = value
        if isinstance(value, (staticmethod, classmethod)):
            func = value.__func__
        elif isinstance(value, property):
            func = value.fget
        if isinstance(func, types.FunctionType) and func.__module__ == OVERRIDE.__name__:
            yield name, value


def missing_docstrings():
    missing = []
    for name in OVERRIDE.__all__:
        value = getattr(OVERRIDE, name)
        if isinstance(value, type) and value.__module__ == OVERRIDE.__name__:
            # A class's __doc__ is its own, never inherited.
            documented = bool(vars(value).get('__doc__'))
        else:
            documented = bool(inspect.getdoc(value))
        if not documented:
            missing.append(name)
        if isinstance(value, type):
            for member, attribute in own_members(value):
                if not inspect.getdoc(attribute):
                    missing.append('%s.%s' % (name, member))
    return missing


class DocstringTest(agtest.unittest.TestCase):
    def test_every_public_name_has_a_docstring(self):
        self.assertEqual(missing_docstrings(), [])

    def test_the_walk_sees_a_missing_docstring(self):
        def undocumented(self):
            pass
        undocumented.__module__ = OVERRIDE.__name__

        AsyncGui.Slot.undocumented_for_the_test = undocumented
        try:
            self.assertEqual(missing_docstrings(), ['Slot.undocumented_for_the_test'])
        finally:
            del AsyncGui.Slot.undocumented_for_the_test


class AsyncWithTest(agtest.JobTestCase):
    def test_every_context_manager_also_works_with_async_with(self):
        managers = [name for name, cls in public_classes() if hasattr(cls, '__enter__')]
        self.assertIn('Channel', managers)
        self.assertIn('ChannelReader', managers)
        for name in managers:
            cls = getattr(OVERRIDE, name)
            self.assertTrue(inspect.iscoroutinefunction(getattr(cls, '__aenter__', None)), name)
            self.assertTrue(inspect.iscoroutinefunction(getattr(cls, '__aexit__', None)), name)

    def test_async_with_closes_a_channel_and_its_reader(self):
        channel = AsyncGui.Channel(4)
        reader = channel.open_reader()

        @self.engine.job
        async def handler():
            async with channel as entered:
                self.assertIs(entered, channel)
                await channel.write_item('a')
                await channel.write_item(None)
            items = []
            async with reader as entered:
                self.assertIs(entered, reader)
                async for item in reader:
                    items.append(item)
            return items

        self.assertEqual(self.run_job(handler()).result(), ['a', None])
        self.assertTrue(channel.is_closed())
        with self.assertRaises(ValueError):
            reader.read(1, timeout=0)

    def test_async_with_closes_on_an_exception(self):
        channel = AsyncGui.Channel(1)

        @self.engine.job
        async def handler():
            async with channel:
                raise Oops('inside')

        job = self.run_job(handler())
        self.assertIsInstance(job.exception(), Oops)
        self.assertTrue(channel.is_closed())


class CancelledErrorTest(agtest.JobTestCase):
    def test_cancelled_error_is_a_base_exception_apart_from_asyncio_s(self):
        self.assertTrue(issubclass(AsyncGui.CancelledError, BaseException))
        self.assertFalse(issubclass(AsyncGui.CancelledError, Exception))
        self.assertFalse(issubclass(AsyncGui.CancelledError, asyncio.CancelledError))
        self.assertFalse(issubclass(asyncio.CancelledError, AsyncGui.CancelledError))

    def test_asyncio_task_awaits_asyncgui_tasks(self):
        @self.engine.job
        async def other_job():
            return await Task(identity, 'other job', 0.05)

        @self.engine.job
        async def handler():
            channel = AsyncGui.Channel(2)
            reader = channel.open_reader()
            slot = self.engine.slot()

            async def inner():
                first = await Task(identity, 'thread', 0.02)
                second = await AsyncGui.sleep(0.01)
                await channel.write_item('through a channel')
                third = await reader.read_items(1)
                fourth = await slot.run(Task(identity, 'slot'))
                return first, second, third, fourth

            return await asyncio.gather(inner(), Task(identity, 'gathered'), other_job(),
                                        MultiTask([Task(identity, n) for n in range(3)]))

        (first, second, third, fourth), gathered, other, multi = self.run_job(handler()).result()
        self.assertEqual((first, third, fourth, gathered, other, multi),
                         ('thread', ['through a channel'], 'slot', 'gathered', 'other job',
                          [0, 1, 2]))
        self.assertGreaterEqual(second, 0.009)   # the time it waited, as in a job

    def test_asyncio_task_gets_the_exception_of_an_asyncgui_task(self):
        def fail():
            raise Oops('from the thread')

        @self.engine.job
        async def handler():
            async def inner():
                try:
                    await Task(fail)
                except Oops as error:
                    return error
            return await asyncio.get_running_loop().create_task(inner())

        self.assertEqual(str(self.run_job(handler()).result()), 'from the thread')

    def test_asyncio_cancelling_an_awaited_asyncgui_task_cancels_it(self):
        saw_cancel = threading.Event()
        seen = []

        @self.engine.job
        async def handler():
            async def inner():
                try:
                    return await Task(until_cancelled, saw_cancel)
                except BaseException as exc:  # noqa: B902 - what asyncio raised
                    seen.append(type(exc))
                    raise

            task = asyncio.get_running_loop().create_task(inner())
            await asyncio.sleep(0.05)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                return 'asyncio cancelled it'

        self.assertEqual(self.run_job(handler()).result(), 'asyncio cancelled it')
        self.assertEqual(seen, [asyncio.CancelledError])
        self.assertTrue(saw_cancel.wait(agtest.SAFETY_S))

    def test_asyncio_wait_for_timeout_cancels_the_asyncgui_task(self):
        saw_cancel = threading.Event()

        @self.engine.job
        async def handler():
            try:
                await asyncio.wait_for(Task(until_cancelled, saw_cancel), 0.05)
            except asyncio.TimeoutError:
                return 'timed out'

        self.assertEqual(self.run_job(handler()).result(), 'timed out')
        self.assertTrue(saw_cancel.wait(agtest.SAFETY_S))

    def test_job_cancel_cancels_awaited_asyncio_code_and_raises_ours(self):
        seen = []

        async def asyncio_code():
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                seen.append('asyncio code cancelled')
                raise

        @self.engine.job
        async def handler():
            try:
                await asyncio.get_running_loop().create_task(asyncio_code())
            except BaseException as exc:  # noqa: B902 - which one reaches the job
                seen.append(type(exc))
                raise

        job = handler()
        self.run_loop_for(0.05)
        job.cancel()
        self.run_job(job)
        self.run_loop_until(lambda: len(seen) == 2)
        self.assertEqual(job.state, AsyncGui.TaskState.CANCELLED)
        self.assertEqual(sorted(map(str, seen)),
                         sorted(['asyncio code cancelled', str(AsyncGui.CancelledError)]))
        self.assertRaises(AsyncGui.CancelledError, job.result)

    def test_asyncio_cancelled_error_reaching_a_job_cancels_it(self):
        @self.engine.job
        async def handler():
            future = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_later(0.05, future.cancel)
            await future

        job = self.run_job(handler())
        self.assertEqual(job.state, AsyncGui.TaskState.CANCELLED)
        self.assertRaises(AsyncGui.CancelledError, job.result)


if __name__ == '__main__':
    raise SystemExit(agtest.main(DocstringTest, AsyncWithTest, CancelledErrorTest))
