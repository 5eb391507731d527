#!/usr/bin/python3
# test_sandbox.py: ProcessTask(...).sandboxed(), and attacks on it
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Each attack below runs twice: in an ordinary worker, where it must get
# what it is after (or the test could not fail), and sandboxed, where it
# must not; then the next sandboxed call must work. The workers load this
# script as __mp_main__, so the attacks are importable there.

import os
import pathlib
import pickle
import socket
import subprocess
import sys
import tempfile
import time

import agtest
from agtest import AsyncGui, GLib
from gi.repository import Gio
from gi.repository.AsyncGui import ProcessTask, SandboxedError

MEMORY_LIMIT = 256 << 20


def size_of_file(files):
    return len(files[0].read())


def echo(value):
    return value


def not_plain():
    return {1, 2}


def refuse(message):
    raise ValueError(message)


class Unprintable(Exception):
    def __str__(self):
        raise ValueError('no message for you')


def raise_unprintable():
    raise Unprintable()


def read_file(path):
    try:
        with open(path, 'rb') as f:
            return (True, f.read(64).decode())
    except OSError as exc:
        return (False, str(exc))


def list_dir(path):
    try:
        return (True, ' '.join(os.listdir(path))[:64])
    except OSError as exc:
        return (False, str(exc))


def write_file(path):
    try:
        with open(path, 'w') as f:
            f.write('owned\n')
        return (True, path)
    except OSError as exc:
        return (False, str(exc))


def connect(port):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=5):
            return (True, 'connected')
    except OSError as exc:
        return (False, str(exc))


def spawn_shell():
    try:
        out = subprocess.run(['/bin/sh', '-c', 'echo shell'], capture_output=True, check=True)
        return (True, out.stdout.decode().strip())
    except (OSError, subprocess.SubprocessError) as exc:
        return (False, str(exc))


def allocate(size):
    block = bytearray(size)
    return len(block)


def burn_cpu(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return 'spun'


class OpensAFile:
    """Unpickling it creates a file: what a pickle-trusting parent runs."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def crafted_reply(marker):
    """Writes, as the worker's reply, a failure whose detail is a pickle
    that runs code where it is loaded, then leaves."""
    frame = sys._getframe()
    ident = replies = None
    while frame is not None:
        ident = frame.f_locals.get('ident', ident)
        replies = frame.f_locals.get('replies', replies)
        frame = frame.f_back
    payload = GLib.Variant('(sisv)', ('asyncgui-python-exception', 0, 'crafted',
                                      GLib.Variant.new_from_bytes(
                                          GLib.VariantType('ay'),
                                          GLib.Bytes.new(pickle.dumps(OpensAFile(marker))),
                                          True)))
    data = GLib.Variant('(tbv)', (ident, False, payload)).get_data_as_bytes().get_data()
    replies.write(len(data).to_bytes(4, 'little') + data)
    replies.flush()
    os._exit(0)


class SandboxTest(agtest.JobTestCase):

    def setUp(self):
        super().setUp()
        pool = self.engine.get_worker_pool()
        ok = pool.check_sandbox()
        self.assertTrue(ok)
        self.tmp = tempfile.mkdtemp(prefix='asyncgui-sandbox-test-')

    def tearDown(self):
        for name in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, name))
        os.rmdir(self.tmp)
        super().tearDown()

    def run_process(self, task, timeout_s=agtest.SAFETY_S):
        outcome = {}

        @self.engine.job
        def job():
            try:
                outcome['value'] = yield task
            except Exception as exc:  # noqa: B902 - the test looks at it
                outcome['error'] = exc

        self.run_job(job(), timeout_s)
        return outcome

    def value_of(self, task):
        outcome = self.run_process(task)
        self.assertNotIn('error', outcome)
        return outcome['value']

    def attack(self, sandboxed, func, *args):
        task = ProcessTask(func, *args)
        if sandboxed:
            task.sandboxed()
        got_it, what = self.value_of(task)
        print('%s %s: %s' % ('sandboxed' if sandboxed else 'unsandboxed', func.__name__, what))
        return got_it

    def assert_attack_contained(self, func, *args):
        self.assertTrue(self.attack(False, func, *args), 'the attack cannot fail')
        self.assertFalse(self.attack(True, func, *args), 'the attack got through')
        self.assert_next_call_works()

    def assert_next_call_works(self):
        self.assertEqual(self.value_of(ProcessTask(echo, 'next').sandboxed()), 'next')

    def secret_file(self):
        path = os.path.join(self.tmp, 'shadow')
        with open(path, 'w') as f:
            f.write('root:secret\n')
        os.chmod(path, 0o600)
        return path

    def test_a_sandboxed_function_reads_the_files_passed_to_it(self):
        path = self.secret_file()
        with open(path, 'rb') as f:
            size = self.value_of(ProcessTask(size_of_file).sandboxed(files=[f], result_type='x'))
        self.assertEqual(size, len('root:secret\n'))

    def test_files_may_be_paths_and_gio_files_too(self):
        path = self.secret_file()
        for file in (path, pathlib.Path(path), Gio.File.new_for_path(path)):
            size = self.value_of(ProcessTask(size_of_file).sandboxed(files=[file], result_type='x'))
            self.assertEqual(size, len('root:secret\n'))

    def test_bad_options_are_refused_where_they_are_given(self):
        task = ProcessTask(echo, 1)
        with self.assertRaisesRegex(TypeError, 'files'):
            task.sandboxed(files=[3.5])
        with self.assertRaisesRegex(ValueError, 'GVariant type'):
            task.sandboxed(result_type='not a type')
        with self.assertRaisesRegex(ValueError, 'cpu_limit_ms'):
            task.sandboxed(cpu_limit_ms=-5)
        with self.assertRaisesRegex(ValueError, 'memory_limit'):
            task.sandboxed(memory_limit=-1)

    def test_plain_values_round_trip(self):
        value = [None, True, 7, -2**63, 2.5, 'text', b'\x00\xff', (1, 'two'), {'k': [1, {}]}, []]
        self.assertEqual(self.value_of(ProcessTask(echo, value).sandboxed()), value)

    def test_a_result_that_is_not_plain_data_fails_in_the_worker(self):
        error = self.run_process(ProcessTask(not_plain).sandboxed())['error']
        self.assertIsInstance(error, SandboxedError)
        self.assertEqual(error.type_name, 'TypeError')

    def test_a_result_nested_too_deep_fails_in_the_worker_and_the_next_call_works(self):
        deep = []
        for _ in range(100):
            deep = [deep]
        error = self.run_process(ProcessTask(echo, deep).sandboxed())['error']
        self.assertIsInstance(error, SandboxedError)
        self.assertEqual(error.type_name, 'TypeError')
        self.assertIn('nested', error.message)
        self.assert_next_call_works()
        shallow = [[[['a']]], {'k': ({'j': [1]},)}]
        self.assertEqual(self.value_of(ProcessTask(echo, shallow).sandboxed()), shallow)

    def test_an_exception_comes_back_as_text_not_as_its_object(self):
        error = self.run_process(ProcessTask(refuse, 'no').sandboxed())['error']
        self.assertIsInstance(error, SandboxedError)
        self.assertEqual((error.type_name, error.message), ('ValueError', 'no'))

    def test_an_exception_whose_message_cannot_be_formatted_comes_back(self):
        error = self.run_process(ProcessTask(raise_unprintable).sandboxed())['error']
        self.assertIsInstance(error, SandboxedError)
        self.assertEqual(error.type_name, 'Unprintable')
        self.assertIn('could not be formatted', error.message)

    def test_a_result_of_another_type_fails(self):
        error = self.run_process(ProcessTask(echo, 'text').sandboxed(result_type='x'))['error']
        self.assertTrue(error.matches(AsyncGui.error_quark(), AsyncGui.Error.TYPE_MISMATCH))

    def test_private_files_are_out_of_reach(self):
        self.assert_attack_contained(read_file, self.secret_file())
        self.assertFalse(self.attack(True, read_file, '/etc/shadow'))
        self.assert_attack_contained(list_dir, os.path.expanduser('~'))

    def test_writes_outside_its_tmp_are_refused(self):
        outside = os.path.join(self.tmp, 'written')
        self.assertTrue(self.attack(False, write_file, outside))
        os.unlink(outside)
        self.assertFalse(self.attack(True, write_file, outside))
        self.assertFalse(os.path.exists(outside))
        self.assert_next_call_works()

    def test_network_is_out_of_reach(self):
        with socket.socket() as listener:
            listener.bind(('127.0.0.1', 0))
            listener.listen(8)
            self.assert_attack_contained(connect, listener.getsockname()[1])

    def test_a_shell_cannot_be_spawned(self):
        self.assert_attack_contained(spawn_shell)

    def test_memory_past_the_limit_fails_the_call_and_the_next_works(self):
        self.assertEqual(self.value_of(ProcessTask(allocate, 2 * MEMORY_LIMIT)), 2 * MEMORY_LIMIT)
        error = self.run_process(ProcessTask(allocate, 2 * MEMORY_LIMIT)
                                 .sandboxed(memory_limit=MEMORY_LIMIT))['error']
        self.assertTrue(error.matches(AsyncGui.error_quark(), AsyncGui.Error.MEMORY_LIMIT), error)
        self.assertEqual(self.value_of(ProcessTask(allocate, MEMORY_LIMIT // 4)
                                       .sandboxed(memory_limit=MEMORY_LIMIT)), MEMORY_LIMIT // 4)

    def test_a_loop_past_the_cpu_limit_fails_the_call_and_the_next_works(self):
        # 1.8 s is past the 300 ms allowed even rounded up to the next whole
        # second of the worker's processor time.
        self.assertEqual(self.value_of(ProcessTask(burn_cpu, 1.8)), 'spun')
        error = self.run_process(ProcessTask(burn_cpu, 1.8).sandboxed(cpu_limit_ms=300),
                                 timeout_s=60)['error']
        self.assertTrue(error.matches(AsyncGui.error_quark(), AsyncGui.Error.CPU_LIMIT), error)
        self.assert_next_call_works()

    def test_a_crafted_pickle_is_a_protocol_error_and_never_loaded(self):
        marker = os.path.join(self.tmp, 'unpickled')
        # Unsandboxed, the parent trusts the worker and loads the pickle.
        self.run_process(ProcessTask(crafted_reply, marker))
        self.assertTrue(os.path.exists(marker), 'the attack cannot fail')
        os.unlink(marker)

        error = self.run_process(ProcessTask(crafted_reply, marker).sandboxed())['error']
        self.assertTrue(error.matches(AsyncGui.error_quark(), AsyncGui.Error.PROTOCOL), error)
        self.assertFalse(os.path.exists(marker))
        self.assert_next_call_works()

    def test_without_bwrap_the_call_fails_unless_allowed(self):
        pool = self.engine.get_worker_pool()
        os.environ['ASYNCGUI_BWRAP'] = '/nonexistent/bwrap'
        try:
            error = self.run_process(ProcessTask(echo, 1).sandboxed())['error']
            self.assertTrue(error.matches(AsyncGui.error_quark(),
                                          AsyncGui.Error.SANDBOX_UNAVAILABLE), error)
            pool.props.allow_unsandboxed = True
            # Unprotected, but still plain data.
            self.assertEqual(self.value_of(ProcessTask(echo, [1, b'x']).sandboxed()), [1, b'x'])
        finally:
            del os.environ['ASYNCGUI_BWRAP']


if __name__ == '__main__':
    sys.exit(agtest.main(SandboxTest))
