#!/usr/bin/python3
# python_flood.py: the python-flood workload of BENCHMARKS.md
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# 100,000 Python Tasks from an @engine.job,
#     values = yield [Task(f, i) for i in range(n)]
# against what Python offers without asyncgui, in the same process run.
# Never a meson test (timings on shared machines).
#
#   /usr/bin/python3 tests/bench/python_flood.py --build-dir BUILDDIR [--n N] [--repeat R]
#
#   asyncgui           the job above; its submit call builds the Tasks
#   asyncgui-prebuilt  the same with the Task list built before the clock
#                      starts, to tell asyncgui's cost from the building's
#   asyncgui-build     building the n Tasks alone: wall_ms, rate (Tasks/s)
#   py-chunks          the strongest fair baseline, what a skilled Python
#                      programmer writes without asyncgui: one plain thread
#                      per processor takes a contiguous chunk of the range
#                      and hands its values to the GUI thread a batch at a
#                      time, one GLib.idle_add() per batch; the GUI thread
#                      puts each batch in place in the values list
#   threadpool         what most code does today: concurrent.futures'
#                      ThreadPoolExecutor, each result handed to the GUI
#                      with its own GLib.idle_add()
#
# Every implementation is held to the same: the same n items through the
# same function, every value delivered to the GUI thread's main context
# into one list in input order (checked after the clock stops), the same
# 60 Hz ticker on that context, the clock running from the submit call to
# the last delivery.
#
# --build-dir points GI and the dynamic loader at BUILDDIR/asyncgui and
# Python at bindings/python, so no environment is needed. Output: one line
# per measurement, `workload=python-flood impl=... n=... rate=... wall_ms=...
# gap_max_ms=... gap_p99_ms=... submit_ms=...` (BENCHMARKS.md's format);
# with --repeat R the implementations take turns R times, and a last group
# of lines, after a `#` line, gives the medians.
#
# The worst gap is measured as BENCHMARKS.md says and as ag-bench's
# bench-gap.c does: a 60 Hz ticker at GTK 4's redraw priority
# (G_PRIORITY_HIGH_IDLE + 20) on a fixed 16.667 ms grid that starts at the
# submit call; each tick records its lateness beyond one frame, and the stall
# still under way when the workload ends counts too. The submit call is the
# call of the job function, so building the 100,000 Task descriptions in the
# list comprehension counts.

import argparse
import concurrent.futures
import os
import statistics
import sys
import threading
import time

FRAME_S = 1.0 / 60.0

# Values a py-chunks thread hands over per GLib.idle_add(): few enough idles
# that the GUI thread is not woken per item, small enough batches that
# placing one never holds a frame back.
PY_CHUNKS_BATCH = 4096


def setup_paths(build_dir):
    source_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path.insert(0, os.path.join(source_root, 'bindings', 'python'))
    import gi
    gi.require_version('GIRepository', '2.0')
    from gi.repository import GIRepository
    lib_dir = os.path.join(os.path.abspath(build_dir), 'asyncgui')
    GIRepository.Repository.prepend_search_path(lib_dir)
    GIRepository.Repository.prepend_library_path(lib_dir)


def percentile(values, fraction):
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = int(fraction * len(ordered) + 0.999999)
    rank = min(max(rank, 1), len(ordered))
    return ordered[rank - 1]


class GapTicker:
    """bench-gap.c in Python: a source with only a ready time, on a grid."""

    def __init__(self, GLib, context, start):
        self.GLib = GLib
        self.last = start
        self.due = start
        self.lateness_ms = []
        # A timeout that never expires by itself; its ready time is the grid.
        self.source = GLib.timeout_source_new(2 ** 31 - 1)
        self.source.set_priority(GLib.PRIORITY_HIGH_IDLE + 20)
        self.source.set_callback(self.on_tick)
        self.schedule(start)
        self.source.attach(context)

    def record(self, now):
        self.lateness_ms.append(max(0.0, (now - self.last - FRAME_S) * 1000.0))
        self.last = now

    def schedule(self, now):
        self.due += FRAME_S
        if self.due <= now:
            self.due += ((now - self.due) // FRAME_S + 1) * FRAME_S
        # g_get_monotonic_time() and time.monotonic() are the same clock.
        self.source.set_ready_time(int(self.due * 1e6))

    def on_tick(self, *unused):
        now = time.monotonic()
        self.record(now)
        self.schedule(now)
        return self.GLib.SOURCE_CONTINUE

    def stop(self, end):
        self.record(end)
        self.source.destroy()


def trivial(i):
    return i


def run_loop_until(context, predicate):
    while not predicate():
        context.iteration(True)


def measure(name, n, GLib, submit):
    """submit(done) starts the work and calls done(values) when all is back."""
    context = GLib.MainContext.default()
    outcome = {}

    def done(values):
        outcome['end'] = time.monotonic()
        outcome['values'] = values

    start = time.monotonic()
    ticker = GapTicker(GLib, context, start)
    submit(done)
    outcome['submitted'] = time.monotonic()
    run_loop_until(context, lambda: 'end' in outcome)
    ticker.stop(outcome['end'])
    wall = outcome['end'] - start
    values = outcome['values']
    assert values == list(range(n)), '%s: wrong values' % name
    result = {
        'rate': n / wall,
        'gap_max_ms': percentile(ticker.lateness_ms, 1.0),
        'gap_p99_ms': percentile(ticker.lateness_ms, 0.99),
        'wall_ms': wall * 1000.0,
        'submit_ms': (outcome['submitted'] - start) * 1000.0,
    }
    # Let the loop settle (and the executor's threads go idle) before the next.
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        context.iteration(False) or time.sleep(0.005)
    return result


def print_line(impl, n, r, out=sys.stdout):
    fields = [('rate', '%.0f'), ('wall_ms', '%.2f'), ('gap_max_ms', '%.1f'),
              ('gap_p99_ms', '%.1f'), ('submit_ms', '%.2f')]
    line = 'workload=python-flood impl=%s n=%d' % (impl, n)
    line += ''.join(' %s=%s' % (key, form % r[key]) for key, form in fields if key in r)
    print(line, file=out, flush=True)


def main():
    parser = argparse.ArgumentParser(description='the python-flood benchmark')
    parser.add_argument('--build-dir', help='the meson build directory to load AsyncGui from')
    parser.add_argument('--n', type=int, default=100000)
    parser.add_argument('--repeat', type=int, default=1)
    args = parser.parse_args()
    if args.build_dir:
        setup_paths(args.build_dir)

    import gi
    gi.require_version('AsyncGui', '1')
    from gi.repository import AsyncGui, GLib
    from gi.repository.AsyncGui import Task

    n = args.n
    engine = AsyncGui.Engine.get_default()

    @engine.job
    def flood(done):
        values = yield [Task(trivial, i) for i in range(n)]
        done(values)

    def submit_asyncgui(done):
        flood(done)

    # The same with the Task list built before the clock starts, to tell the
    # cost of building 100,000 Python objects from asyncgui's.
    @engine.job
    def flood_prebuilt(tasks, done):
        values = yield tasks
        done(values)

    prebuilt = []

    def submit_prebuilt(done):
        flood_prebuilt(prebuilt.pop(), done)

    def build_tasks():
        start = time.monotonic()
        tasks = [Task(trivial, i) for i in range(n)]
        wall = time.monotonic() - start
        assert len(tasks) == n
        return tasks, {'rate': n / wall, 'wall_ms': wall * 1000.0}

    def submit_py_chunks(done):
        n_threads = os.cpu_count() or 1
        values = [None] * n
        left = [n]

        def deliver(first, batch):
            values[first:first + len(batch)] = batch
            left[0] -= len(batch)
            if left[0] == 0:
                done(values)
            return GLib.SOURCE_REMOVE

        def work(first, end):
            for start in range(first, end, PY_CHUNKS_BATCH):
                stop = min(start + PY_CHUNKS_BATCH, end)
                GLib.idle_add(deliver, start, [trivial(i) for i in range(start, stop)])

        for c in range(n_threads):
            first, end = c * n // n_threads, (c + 1) * n // n_threads
            if first < end:
                threading.Thread(target=work, args=(first, end), daemon=True).start()

    def submit_threadpool(done):
        executor = concurrent.futures.ThreadPoolExecutor()
        values = [None] * n
        left = [n]

        def deliver(i, value):
            values[i] = value
            left[0] -= 1
            if left[0] == 0:
                executor.shutdown(wait=False)
                done(values)
            return GLib.SOURCE_REMOVE

        def on_future_done(future, i):
            GLib.idle_add(deliver, i, future.result())

        for i in range(n):
            executor.submit(trivial, i).add_done_callback(
                lambda future, i=i: on_future_done(future, i))

    impls = [('asyncgui', submit_asyncgui), ('asyncgui-prebuilt', submit_prebuilt),
             ('py-chunks', submit_py_chunks), ('threadpool', submit_threadpool)]
    results = {impl: [] for impl, _ in impls}
    results['asyncgui-build'] = []
    for _ in range(args.repeat):
        for impl, submit in impls:
            if submit is submit_prebuilt:
                tasks, r = build_tasks()
                results['asyncgui-build'].append(r)
                print_line('asyncgui-build', n, r)
                prebuilt.append(tasks)
                del tasks
            r = measure(impl, n, GLib, submit)
            results[impl].append(r)
            print_line(impl, n, r)

    if args.repeat > 1:
        print('# medians of %d runs' % args.repeat)
        for impl, runs in results.items():
            median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            print_line(impl, n, median)
    return 0


if __name__ == '__main__':
    sys.exit(main())
