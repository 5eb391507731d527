# uses_api.py: typed code that uses the override's API as the README shows
# it; `mypy --strict` with AsyncGui.pyi must find nothing here
# (tests/python/test_typing.py). It is checked, never run.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import asyncio
from collections.abc import Generator
from typing import Any, assert_type

from gi.repository import AsyncGui, Gio
from gi.repository.AsyncGui import MultiProcessTask, MultiTask, ProcessTask, Task

engine = AsyncGui.Engine.get_default()


def load(url: str, retries: int = 1) -> bytes:
    return url.encode() * retries


def parse(data: bytes, strict: bool) -> list[str]:
    return data.decode().split()


def count_primes(limit: int) -> int:
    return limit


class Window:
    def __init__(self) -> None:
        self.slot = engine.slot(debounce_ms=150)
        self.slot.debounce_ms = 200
        assert_type(self.slot.busy, bool)

    @engine.job
    def on_click(self, url: str) -> Generator[Any, Any, int]:
        data = yield Task(load, url, retries=2)
        pages = yield [Task(load, u) for u in ('a', 'b')]
        some = yield MultiTask([Task(load, url)], max_workers=4, skip_errors=True)
        total = yield ProcessTask(count_primes, 10**6)
        elapsed = yield AsyncGui.sleep(0.5)
        words = yield self.slot.run(Task(load, url))
        if not data:
            AsyncGui.return_result(0)
        return len(pages) + len(some) + int(total) + int(elapsed) + len(words)

    @engine.job
    async def on_other(self, url: str) -> str:
        data = await Task(load, url)
        assert_type(data, bytes)
        words = await Task(load, url).and_then(parse, True)
        assert_type(words, list[str])
        chained = await Task(load, url).chain(count_primes, 5)
        assert_type(chained, int)
        primes = await ProcessTask(count_primes, 100)
        assert_type(primes, int)
        values = await MultiTask([Task(load, url)], unordered=True)
        assert_type(values, list[Any])
        async for page in MultiTask([Task(load, u) for u in (url, url)], unordered=True):
            print(page)
        await asyncio.sleep(0.1)
        slept = await AsyncGui.sleep(0.1)
        print(slept)
        try:
            await AsyncGui.run_trio(asyncio.sleep, 0)
        except (AsyncGui.CancelledError, asyncio.CancelledError):
            raise
        channel = AsyncGui.Channel(capacity=8)
        async with channel:
            await channel.write_item('item')
        async with channel.open_reader() as reader:
            async for item in reader:
                print(item)
            batch = await reader.read_items(4, timeout=0.5)
            assert_type(batch, list[Any])
        outputs = AsyncGui.pipe(len, ['a', 'bb'], min_count=2).pipe(str)
        async for output in outputs:
            print(output)
        everything = await AsyncGui.pipe(str, 10)
        assert_type(everything, list[Any])
        return data.decode()


def script() -> None:
    window = Window()
    job = window.on_click('http://example.org')
    assert_type(job, AsyncGui.Job)
    if job.wait(timeout=5):
        print(job.result(), job.state, job.paused, job.finished)
    job.throw(ValueError('stop'))
    job.throw(AsyncGui.CancelledError)
    job.cancel()
    error = job.exception()
    assert_type(error, BaseException | None)
    other = window.on_other('x')
    other.pause()
    other.resume()
    task = Task(load, 'u')
    task.add_dependency(Task(load, 'v'))
    # An overloaded function, wrapped as the stub says.
    assert_type(Task(lambda: sum([1, 2])), Task[int])
    assert_type(AsyncGui.Job.new(AsyncGui.Engine.get_default()), AsyncGui.Job)
    rows: Gio.ListModel = MultiTask([task]).gtask
    progress: float = task.gtask.get_progress()
    sleep = AsyncGui.Task.new_sleep(10)
    print(progress, sleep.value, MultiProcessTask([ProcessTask(count_primes, 3)]))
    with AsyncGui.Channel() as channel:
        channel.write(1, timeout=None)
        channel.set_write_transform(lambda item: item)
    current = AsyncGui.current_job()
    if current is not None:
        current.cancel()
    try:
        AsyncGui.return_result(3)
    except AsyncGui.ReturnResult as stop:
        print(stop.value, stop.result)
