#!/usr/bin/python3
# test_guest.py: asyncio and trio code awaited inside jobs, as guests of
# the GLib main loop
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import asyncio
import socketserver
import sys
import threading
import warnings

import agtest
from agtest import identity
from agtest import MAIN_THREAD, now_ms
from gi.repository import AsyncGui, GLib
from gi.repository.AsyncGui import Task

try:
    import trio
except ImportError:  # Debian: python3-trio
    trio = None


class EchoHandler(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(b'echo: ' + line)


class EchoServer:
    """A loopback echo server on a thread of its own."""

    def __enter__(self):
        self.server = socketserver.ThreadingTCPServer(('127.0.0.1', 0), EchoHandler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *unused):
        self.server.shutdown()
        self.server.server_close()


# A loop blocked for a few hundred milliseconds ticks once or twice after;
# a loaded machine may starve a running loop of half its ticks, not of all.
UNBLOCKED_TICKS = 5


class TickCounter:
    def __init__(self):
        self.ticks = 0
        self.id = GLib.timeout_add(10, self.tick)

    def tick(self):
        self.ticks += 1
        return GLib.SOURCE_CONTINUE

    def stop(self):
        GLib.source_remove(self.id)


def resident_kb():
    with open('/proc/self/status') as status:
        return int(status.read().split('VmRSS:')[1].split()[0])


class AsyncioGuestTest(agtest.JobTestCase):
    def test_bare_awaits_leave_no_memory_behind(self):
        # `await asyncio.sleep(0)` lets the GUI breathe in a long loop; on
        # PyGObject 3.42 a GLib idle per await lost a trampoline each.
        @self.engine.job
        async def handler(n):
            for unused in range(n):
                await asyncio.sleep(0)

        self.run_job(handler(2000))
        before = resident_kb()
        self.run_job(handler(20000))
        grown = resident_kb() - before
        # 80 bytes lost per await would be 1.6 MB.
        self.assertLess(grown, 640, 'resident memory grew by %d kB' % grown)

    def test_asyncio_sleep_keeps_the_glib_loop_running(self):
        ticks = TickCounter()
        seen = {}

        @self.engine.job
        async def handler():
            start = now_ms()
            await asyncio.sleep(0.3)
            seen['slept'] = now_ms() - start
            seen['thread'] = threading.get_ident()
            seen['loop'] = asyncio.get_running_loop()
            value = await Task(identity, 'mixed', 0.05)
            await asyncio.sleep(0)
            return value

        job = self.run_job(handler())
        ticks.stop()
        self.assertEqual(job.result(), 'mixed')
        self.assertGreaterEqual(seen['slept'], 290)
        self.assertLess(seen['slept'], 1000)
        self.assertEqual(seen['thread'], MAIN_THREAD)
        self.assertIs(seen['loop'], AsyncGui.get_asyncio_loop())
        self.assertGreaterEqual(ticks.ticks, UNBLOCKED_TICKS)

    def test_open_connection_to_a_loopback_server(self):
        ticks = TickCounter()

        @self.engine.job
        async def handler(port):
            reader, writer = await asyncio.open_connection('127.0.0.1', port)
            writer.write(b'hello\n')
            await writer.drain()
            line = await reader.readline()
            writer.close()
            await writer.wait_closed()
            return line

        with EchoServer() as server:
            job = self.run_job(handler(server.port))
        ticks.stop()
        self.assertEqual(job.result(), b'echo: hello\n')

    def test_asyncio_server_and_client_in_two_jobs(self):
        async def serve(reader, writer):
            data = await reader.readline()
            writer.write(data.upper())
            await writer.drain()
            writer.close()

        @self.engine.job
        async def start_server():
            server = await asyncio.start_server(serve, '127.0.0.1', 0)
            return server

        server = self.run_job(start_server()).result()
        port = server.sockets[0].getsockname()[1]

        @self.engine.job
        async def client():
            reader, writer = await asyncio.open_connection('127.0.0.1', port)
            writer.write(b'shout\n')
            reply = await reader.readline()
            writer.close()
            return reply

        self.assertEqual(self.run_job(client()).result(), b'SHOUT\n')
        server.close()

    def test_gather_wait_for_and_executor_futures(self):
        @self.engine.job
        async def handler():
            loop = asyncio.get_running_loop()
            both = await asyncio.gather(asyncio.sleep(0.05, 'a'), asyncio.sleep(0.01, 'b'))
            try:
                await asyncio.wait_for(asyncio.sleep(5), 0.05)
            except asyncio.TimeoutError:
                timed_out = True
            # Completed from another thread through call_soon_threadsafe().
            from_thread = await loop.run_in_executor(None, identity, 'threaded', 0.05)
            return both, timed_out, from_thread

        self.assertEqual(self.run_job(handler()).result(), (['a', 'b'], True, 'threaded'))

    def test_task_scoped_asyncio_runs_in_an_asyncio_task_the_job_awaits(self):
        # A job is not an asyncio task: what needs one (asyncio.timeout(),
        # TaskGroup) raises RuntimeError in the job itself, as the README
        # says, and works in an asyncio task that the job awaits.
        async def scoped():
            try:
                async with asyncio.timeout(0.05):
                    await asyncio.sleep(5)
            except TimeoutError:
                pass
            else:
                return 'no timeout'
            async with asyncio.TaskGroup() as group:
                child = group.create_task(asyncio.sleep(0.01, 'child'))
            return child.result()

        @self.engine.job
        async def handler():
            try:
                async with asyncio.timeout(1):
                    pass
            except RuntimeError:
                refused = True
            value = await asyncio.get_running_loop().create_task(scoped())
            return refused, asyncio.current_task(), value

        self.assertEqual(self.run_job(handler()).result(), (True, None, 'child'))

    def test_cancel_while_awaiting_asyncio(self):
        seen = {}

        @self.engine.job
        async def handler():
            try:
                await asyncio.sleep(10)
            except AsyncGui.CancelledError:
                seen['cancelled_at'] = now_ms()
                raise

        job = handler()
        cancel_at = []
        self.at(100, lambda: (cancel_at.append(now_ms()), job.cancel()))
        self.run_job(job, timeout_s=5)
        self.assertEqual(job.state, AsyncGui.TaskState.CANCELLED)
        self.assertLess(seen['cancelled_at'] - cancel_at[0], 200)

    def test_pause_holds_asyncio_results(self):
        seen = {}

        @self.engine.job
        async def handler():
            await asyncio.sleep(0.05)
            seen['at'] = now_ms()

        job = handler()
        job.pause()
        resumed = []
        self.at(300, lambda: (resumed.append(now_ms()), job.resume()))
        self.run_job(job)
        self.assertGreaterEqual(seen['at'], resumed[0])

    def test_disposing_the_engine_cancels_what_the_job_awaited(self):
        seen = {}
        engine = AsyncGui.Engine.new_for_context(self.context)

        async def sleeper():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                seen['cancelled'] = True
                raise

        @engine.job
        async def handler():
            await AsyncGui.get_asyncio_loop().create_task(sleeper())

        job = handler()
        self.run_loop_for(0.1)
        engine.run_dispose()
        self.assertEqual(job.state, AsyncGui.TaskState.CANCELLED)
        self.run_loop_until(lambda: seen.get('cancelled'), timeout_s=5)

    def test_asyncio_coroutine_without_a_job_helper(self):
        async def fetch(port):
            reader, writer = await asyncio.open_connection('127.0.0.1', port)
            writer.write(b'x\n')
            line = await reader.readline()
            writer.close()
            return line

        @self.engine.job
        def generator_job(port):
            # A generator job can yield an asyncio task made on the guest loop.
            line = yield AsyncGui.get_asyncio_loop().create_task(fetch(port))
            return line

        with EchoServer() as server:
            job = self.run_job(generator_job(server.port))
        self.assertEqual(job.result(), b'echo: x\n')


@agtest.unittest.skipIf(trio is None, 'python3-trio is not installed')
class TrioGuestTest(agtest.JobTestCase):
    def test_trio_under_a_running_main_loop_warns_nothing(self):
        # GTK applications run GLib.MainLoop, which takes Python's signal
        # wake-up descriptor: trio must be told so, or it warns that its
        # signal handling collided with another library's.
        async def answer():
            await trio.sleep(0)
            return 42

        @self.engine.job
        async def handler():
            try:
                return await AsyncGui.run_trio(answer)
            finally:
                self.loop.quit()

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            job = handler()
            self.loop.run()
        self.assertEqual(job.result(), 42)
        self.assertEqual([str(w.message) for w in caught], [])

    def test_trio_sleep_and_tcp_while_the_loop_runs(self):
        ticks = TickCounter()

        async def talk(port):
            await trio.sleep(0.2)
            stream = await trio.open_tcp_stream('127.0.0.1', port)
            async with stream:
                await stream.send_all(b'from trio\n')
                data = b''
                while not data.endswith(b'\n'):
                    data += await stream.receive_some(100)
            return data

        @self.engine.job
        async def handler(port):
            start = now_ms()
            data = await AsyncGui.run_trio(talk, port)
            value = await Task(identity, data)
            return value, now_ms() - start

        with EchoServer() as server:
            job = self.run_job(handler(server.port))
        ticks.stop()
        data, elapsed = job.result()
        self.assertEqual(data, b'echo: from trio\n')
        self.assertGreaterEqual(elapsed, 190)
        self.assertGreaterEqual(ticks.ticks, UNBLOCKED_TICKS)

    def test_trio_exception_keeps_its_type(self):
        async def fails():
            await trio.sleep(0.01)
            raise KeyError('trio side')

        @self.engine.job
        async def handler():
            try:
                await AsyncGui.run_trio(fails)
            except KeyError as error:
                return str(error)

        self.assertEqual(self.run_job(handler()).result(), "'trio side'")

    def test_runs_asked_for_while_one_ends_wait_for_it_and_the_second_is_refused(self):
        async def forever():
            await trio.sleep_forever()

        async def answer(value):
            await trio.sleep(0.05)
            return value

        @self.engine.job
        async def handler(func, *args):
            return await AsyncGui.run_trio(func, *args)

        ending = handler(forever)
        self.run_loop_for(0.05)
        ending.cancel()
        # Both wait for the cancelled run to end; the first then starts,
        # and the second finds it active.
        first = handler(answer, 'first')
        second = handler(answer, 'second')
        self.run_job(first)
        self.run_job(second)
        self.assertEqual(ending.state, AsyncGui.TaskState.CANCELLED)
        self.assertEqual(first.result(), 'first')
        with self.assertRaises(RuntimeError) as caught:
            second.result()
        self.assertIn('already active', str(caught.exception))

    def test_cancelling_the_job_cancels_the_trio_run(self):
        seen = {}

        async def forever():
            try:
                await trio.sleep(10)
            finally:
                seen['trio_cleanup'] = True

        @self.engine.job
        async def handler():
            try:
                await AsyncGui.run_trio(forever)
            except AsyncGui.CancelledError:
                seen['job_cancelled'] = now_ms()
                raise

        job = handler()
        self.at(100, job.cancel)
        self.run_job(job, timeout_s=5)
        self.assertEqual(job.state, AsyncGui.TaskState.CANCELLED)
        self.run_loop_until(lambda: seen.get('trio_cleanup'), timeout_s=5)
        self.assertTrue(seen['trio_cleanup'])

    def test_a_second_run_while_one_is_active_fails_the_job_that_asked(self):
        seen = {}

        async def forever():
            try:
                await trio.sleep(10)
            finally:
                seen['trio_cleanup'] = True

        async def quick():
            return 'quick'

        @self.engine.job
        async def first():
            await AsyncGui.run_trio(forever)

        @self.engine.job
        async def second():
            return await AsyncGui.run_trio(quick)

        running = first()
        self.run_loop_for(0.1)
        refused = self.run_job(second(), timeout_s=5)
        self.assertEqual(refused.state, AsyncGui.TaskState.FAILED)
        with self.assertRaises(RuntimeError):
            refused.result()
        self.assertFalse(running.is_finished())

        running.cancel()
        self.run_job(running, timeout_s=5)
        self.run_loop_until(lambda: seen.get('trio_cleanup'), timeout_s=5)
        # With the first run over, runs work again.
        self.assertEqual(self.run_job(second(), timeout_s=5).result(), 'quick')

    def test_a_run_cancelled_while_it_waits_for_an_ending_run_never_starts(self):
        started, ended = [], []

        async def body(tag):
            started.append(tag)  # before its first checkpoint
            try:
                await trio.sleep(10)
            finally:
                ended.append(tag)

        @self.engine.job
        async def search(tag):
            await AsyncGui.run_trio(body, tag)

        ending = search('ending')
        self.run_loop_until(lambda: started == ['ending'], timeout_s=5)
        ending.cancel()
        waiting = [search(tag) for tag in ('waiting', 'also waiting')]
        for job in waiting:
            job.cancel()
        live = search('live')
        self.run_loop_until(lambda: 'live' in started, timeout_s=5)
        self.assertEqual(started, ['ending', 'live'])
        for job in [ending] + waiting:
            self.assertEqual(job.state, AsyncGui.TaskState.CANCELLED)
        live.cancel()
        self.run_job(live, timeout_s=5)
        self.run_loop_until(lambda: 'live' in ended, timeout_s=5)

    def test_disposing_the_engine_ends_the_trio_run_and_later_runs_work(self):
        seen = {}
        engine = AsyncGui.Engine.new_for_context(self.context)

        async def forever():
            try:
                await trio.sleep(10)
            finally:
                seen['trio_cleanup'] = True

        async def answer():
            await trio.sleep(0.01)
            return 42

        @engine.job
        async def on_disposed_engine():
            await AsyncGui.run_trio(forever)

        @self.engine.job
        async def later():
            return await AsyncGui.run_trio(answer)

        job = on_disposed_engine()
        self.run_loop_for(0.1)
        engine.run_dispose()
        self.assertEqual(job.state, AsyncGui.TaskState.CANCELLED)
        self.run_loop_until(lambda: seen.get('trio_cleanup'), timeout_s=5)
        self.assertEqual(self.run_job(later(), timeout_s=5).result(), 42)


if __name__ == '__main__':
    sys.exit(agtest.main(AsyncioGuestTest, TrioGuestTest))
