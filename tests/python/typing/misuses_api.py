# misuses_api.py: each line that ends in an "error:" comment is a misuse
# that mypy with AsyncGui.pyi must report on that line, with the comment's
# text in the message; no other line may get an error (tests/python/test_typing.py). It is
# checked, never run.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

from gi.repository import AsyncGui
from gi.repository.AsyncGui import MultiTask, ProcessTask, Task

engine = AsyncGui.Engine.get_default()


def load(url: str) -> bytes:
    return url.encode()


def parse(data: bytes, strict: bool) -> list[str]:
    return data.decode().split()


async def job_body() -> None:
    data: str = await Task(load, 'u')  # error: expected "Callable[[str], str]"
    await Task(load, 3)  # error: Argument 2 to "Task" has incompatible type
    await Task(load, 'u', retries=2)  # error: Unexpected keyword argument "retries"
    await Task(load, 'u').and_then(parse, 'yes')  # error: has incompatible type "str"
    await Task(load, 'u').chain(load)  # error: Missing positional argument
    await ProcessTask(load, b'u')  # error: has incompatible type "bytes"
    await MultiTask([Task(load, 'u')], max_workers='4')  # error: has incompatible type "str"
    AsyncGui.sleep('1')  # error: has incompatible type "str"
    AsyncGui.pipe(len, [], min_count=None)  # error: has incompatible type "None"


def script() -> None:
    job = engine.start_job(job_body())
    job.throw('stop')  # error: has incompatible type "str"
    job.result(timeout='5')  # error: has incompatible type "str"
    AsyncGui.Slot(debounce_ms='fast')  # error: has incompatible type "str"
    AsyncGui.Channel(capacity='8')  # error: has incompatible type "str"
    reader = AsyncGui.Channel().open_reader()
    reader.read(count='1')  # error: has incompatible type "str"
    finished: str = job.finished  # error: Incompatible types in assignment
    AsyncGui.ReturnResult(1).result = 2  # error: Property "result" defined in "ReturnResult" is read-only
