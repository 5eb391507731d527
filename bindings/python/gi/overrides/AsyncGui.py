# AsyncGui.py: the PyGObject overrides of asyncgui
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# `from gi.repository import AsyncGui` loads this module on top of the
# AsyncGui-1 typelib. It gives Python the async_gui API:
#
#     engine = AsyncGui.Engine.get_default()
#
#     @engine.job
#     def on_click(self, button):
#         data = yield Task(load, url)              # a worker thread
#         pages = yield [Task(load, u) for u in urls]
#         return len(data)
#
# Everything here translates; the engine does the work. A job is an
# AsyncGui.Job (AgJob) driven with ag_job_await_async()/_finish(): every
# suspension of the Python coroutine, whatever it awaits, is one AgTask the
# job awaits, so pause, resume and cancel behave the same for all of them.
# bindings/python/README.md explains the decisions.

import collections
import functools
import itertools
import json
import math
import os
import pickle
import sys
import threading
import traceback
import weakref

from gi.repository import GLib, GObject, Gio

from ..module import get_introspection_module
from ..overrides import override

AsyncGui = get_introspection_module('AsyncGui')

__all__ = []


def _export(obj, name=None):
    __all__.append(name or obj.__name__)
    return obj


# Subclasses of AgTask take their Python base class from the module's Task
# attribute when they are first used. Make them all now, while Task still
# is the introspected class, before this module replaces it.
def _load_classes():
    for name in dir(AsyncGui):
        if name[:1].isupper():
            try:
                getattr(AsyncGui, name)
            except Exception:
                pass


_load_classes()

TaskObject = _export(AsyncGui.Task, 'TaskObject')
MultiTaskObject = _export(AsyncGui.MultiTask, 'MultiTaskObject')
WorkerTaskObject = AsyncGui.WorkerTask


def _await_self(self):
    return (yield self)


# `await gtask` in an async def job, like `yield gtask` in a generator.
TaskObject.__await__ = _await_self
_HAVE_JOB = hasattr(AsyncGui, 'Job')


# -- Errors --------------------------------------------------------------

@_export
class CancelledError(BaseException):
    """Raised into a job at the pending ``yield``/``await`` when the job is
    cancelled (``job.cancel()``), and by ``job.result()`` of a cancelled job.

    Like asyncio's and trio's, it derives from BaseException, so an
    ``except Exception:`` in a handler does not swallow a cancellation. A job
    that catches it may go on awaiting: cancelling is one-shot."""


@_export
class ReturnResult(BaseException):
    """What :func:`return_result` raises: ends the job with ``value``."""

    def __init__(self, value=None):
        super().__init__(value)
        self.value = value


@_export
def return_result(value=None):
    """Ends the running job with ``value`` (async_gui compatibility; in new
    code, ``return value`` does the same)."""
    raise ReturnResult(value)


def _describe(exc):
    text = str(exc)
    name = type(exc).__qualname__
    return '%s: %s' % (name, text) if text else name


def _python_gerror(exc):
    return GLib.Error.new_literal(AsyncGui.error_quark(), _describe(exc),
                                  int(AsyncGui.Error.FAILED))


def _cancelled_gerror():
    return GLib.Error.new_literal(Gio.io_error_quark(), 'Operation was cancelled',
                                  int(Gio.IOErrorEnum.CANCELLED))


def _is_cancelled(gerror):
    return gerror.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)


# -- The Python names of the task classes ----------------------------------
#
# AsyncGui.Task is two things at once: the lightweight description
# Task(f, *args, **kwargs) of work for a thread (a functools.partial, so a
# list comprehension of 100,000 of them costs the GUI thread no GObject), and
# a stand-in for the introspected class, whose constructors and methods it
# forwards: AsyncGui.Task.new_sleep(100) is the GObject task, and
# isinstance(t, AsyncGui.Task) holds for both kinds. The introspected classes
# themselves are AsyncGui.TaskObject and AsyncGui.MultiTaskObject.

class _ForwardingMeta(type):
    def __getattr__(cls, name):
        gi_class = type.__getattribute__(cls, '_gi_class')
        return getattr(gi_class, name)

    def __instancecheck__(cls, obj):
        return (type.__instancecheck__(cls, obj)
                or isinstance(obj, type.__getattribute__(cls, '_gi_class')))

    def __subclasscheck__(cls, sub):
        return (type.__subclasscheck__(cls, sub)
                or issubclass(sub, type.__getattribute__(cls, '_gi_class')))


_tls = threading.local()


@_export
def current_task():
    """On a worker thread running a single :class:`Task`: its AgTask (to call
    ``set_progress()`` or ``set_status_text()`` on). None elsewhere, and for
    the items of a list or MultiTask, which have no AgTask of their own."""
    return getattr(_tls, 'gtask', None)


@_export
class Task(functools.partial, metaclass=_ForwardingMeta):
    """``Task(f, *args, **kwargs)``: ``f(*args, **kwargs)`` on a worker
    thread. Yield or await it in a job; the value is what ``f`` returns, and
    an exception ``f`` raises is raised at the ``yield`` as it was.

    A Task is only a description (it is a ``functools.partial``); it becomes
    GObject work when a job runs it. ``task.gtask`` makes that AgTask early,
    e.g. to connect to ``notify::progress`` before yielding the task."""

    __slots__ = ()
    _gi_class = TaskObject
    __gtype__ = TaskObject.__gtype__

    def __await__(self):
        return (yield self)

    @property
    def gtask(self):
        holder = self.__dict__.get('_ag_holder')
        if holder is None:
            holder = self.__dict__['_ag_holder'] = _TaskHolder(self)
        return holder.gtask



class _TaskHolder:
    """Where a single Task's outcome waits, Python-side: exceptions keep
    their type and traceback because they never cross into C."""

    __slots__ = ('task', 'gtask', 'value', 'exc', '__weakref__')

    def __init__(self, task):
        self.task = task
        self.value = None
        self.exc = None
        self.gtask = TaskObject.new(_run_holder, self)


def _run_holder(gtask, holder, cancellable):
    _tls.gtask = gtask
    try:
        holder.value = holder.task()
    except BaseException as exc:  # noqa: B902 - everything goes to the job
        holder.exc = exc
        gtask.return_error(_python_gerror(exc))
    else:
        gtask.return_boolean(True)
    finally:
        _tls.gtask = None


@_export
class MultiTask(metaclass=_ForwardingMeta):
    """``MultiTask(tasks, max_workers=0, skip_errors=False, unordered=False)``

    Yielded, it runs ``tasks`` in parallel and gives the list of their
    values: in list order, or in completion order with ``unordered``. With
    ``skip_errors`` failed tasks are left out; without, the first failure in
    list order is raised, once all tasks have finished. ``max_workers``
    limits how many run at once (0: as many as the engine has threads).
    ``async for r in MultiTask(...)`` gives each value as its task finishes
    (in list order, or completion order with ``unordered``).

    A plain list of tasks yielded is ``MultiTask(list)``."""

    __slots__ = ('tasks', 'max_workers', 'skip_errors', 'unordered', '_gtask_run')
    _gi_class = MultiTaskObject
    __gtype__ = MultiTaskObject.__gtype__

    def __init__(self, tasks, max_workers=0, skip_errors=False, unordered=False):
        self.tasks = tasks if type(tasks) is list else list(tasks)
        if max_workers is None:
            max_workers = 0
        if max_workers < 0:
            raise ValueError('max_workers must be 0 (no limit) or more')
        self.max_workers = int(max_workers)
        self.skip_errors = bool(skip_errors)
        self.unordered = bool(unordered)
        self._gtask_run = None

    def __await__(self):
        return (yield self)

    def __aiter__(self):
        return _MultiIterator(self)

    def __len__(self):
        return len(self.tasks)

    @property
    def gtask(self):
        """The AgMultiTask this runs as, made on first access (one child per
        task, so ``task-done`` and the GListModel see every task)."""
        if self._gtask_run is None:
            self._gtask_run = _make_run(self, None, per_item=True)
        return self._gtask_run.gtask

    def __repr__(self):
        return 'MultiTask(<%d tasks>, max_workers=%d, skip_errors=%r, unordered=%r)' % (
            len(self.tasks), self.max_workers, self.skip_errors, self.unordered)


# -- Preparing what a job awaits --------------------------------------------
#
# The driver turns whatever the coroutine yields into a _Prepared: a pending
# AgTask for the job to await, and how its outcome reads in Python.

class _Prepared:
    __slots__ = ('gtask',)

    def value(self, gvalue):
        return gvalue

    def error(self, gerror):
        return gerror

    def cancel(self):
        pass


class _PreparedGTask(_Prepared):
    __slots__ = ()

    def __init__(self, gtask):
        self.gtask = gtask


class _PreparedHolder(_Prepared):
    __slots__ = ('holder',)

    def __init__(self, holder):
        self.holder = holder
        self.gtask = holder.gtask

    def value(self, gvalue):
        return self.holder.value

    def error(self, gerror):
        exc = self.holder.exc
        return exc if exc is not None else gerror


class _PreparedJob(_Prepared):
    __slots__ = ('job',)

    def __init__(self, job):
        self.job = job
        self.gtask = TaskObject.new_for_job(job)

    def value(self, gvalue):
        driver = _driver_of(self.job)
        if driver is not None and driver.finished:
            return driver.value
        return gvalue

    def error(self, gerror):
        driver = _driver_of(self.job)
        if driver is not None and driver.exc is not None:
            return driver.exc
        return gerror


class _PreparedMain(_Prepared):
    """An AgTask that runs ``start(complete)`` on the engine's context when
    the job runs it, and succeeds when ``complete()`` is called. Outcomes stay
    in Python: ``outcome()`` gives the value or raises."""

    __slots__ = ('outcome', 'on_cancel')

    def __init__(self, start, outcome=None, on_cancel=None):
        self.outcome = outcome
        self.on_cancel = on_cancel

        def run(gtask, cancellable, *unused):
            finished = []

            def complete():
                if not finished:
                    finished.append(True)
                    if not gtask.is_finished():
                        gtask.return_boolean(True)

            start(complete)

        self.gtask = TaskObject.new_main(run)

    def value(self, gvalue):
        return self.outcome() if self.outcome is not None else None

    def cancel(self):
        if self.on_cancel is not None:
            self.on_cancel()


def _failing(exc):
    def outcome():
        raise exc
    return _PreparedMain(lambda complete: complete(), outcome)


def _prepare(request, driver):
    """Turns what a job yielded into a _Prepared; raises TypeError for
    things that are not tasks."""
    kind = type(request)
    if kind is Task:
        holder = request.__dict__.get('_ag_holder')
        if holder is None or holder.gtask.get_state() != AsyncGui.TaskState.PENDING:
            holder = _TaskHolder(request)
        return _PreparedHolder(holder)
    if kind is list or kind is tuple:
        return _make_run(MultiTask(request), driver)
    if kind is MultiTask:
        run = request._gtask_run
        if run is not None:
            request._gtask_run = None
            run.driver = driver
            return run
        return _make_run(request, driver)
    prepare = getattr(request, '_ag_prepare', None)
    if prepare is not None:
        return prepare(driver)
    if isinstance(request, Task):
        if isinstance(request, TaskObject):
            return _prepare_gtask(request)
        holder = _TaskHolder(request)
        return _PreparedHolder(holder)
    if isinstance(request, MultiTask):
        return _make_run(request, driver)
    if _HAVE_JOB and isinstance(request, AsyncGui.Job):
        return _PreparedJob(request)
    if getattr(request, '_asyncio_future_blocking', None) is not None:
        return _prepare_asyncio_future(request)
    if request is None and driver.is_coroutine:
        # A bare yield from a coroutine is asyncio.sleep(0): let the loop run.
        return _PreparedMain(_complete_soon(driver))
    raise TypeError('a job yielded %r, which is not a task: yield or await a Task, a list '
                    'of tasks, a MultiTask, an AsyncGui.Task object, a Job or an awaitable'
                    % (request,))


def _complete_soon(driver):
    context = driver.context

    def start(complete):
        source = GLib.Idle()
        source.set_callback(lambda *unused: complete() or GLib.SOURCE_REMOVE)
        source.attach(context)
    return start


def _prepare_gtask(gtask):
    if gtask.get_state() == AsyncGui.TaskState.PENDING:
        return _PreparedGTask(gtask)

    # Already run by someone else: wait for it to end.
    def start(complete):
        if gtask.is_finished():
            complete()
            return
        handler = []

        def on_state(*unused):
            if gtask.is_finished():
                gtask.disconnect(handler[0])
                complete()
        handler.append(gtask.connect('notify::state', on_state))

    def outcome():
        if gtask.get_state() == AsyncGui.TaskState.SUCCEEDED:
            return gtask.get_value()
        error = gtask.get_error()
        if error is not None and _is_cancelled(error):
            raise CancelledError()
        raise error if error is not None else CancelledError()
    return _PreparedMain(start, outcome)


# -- Worker processes ------------------------------------------------------
#
# ProcessTask(f, *args) runs an importable function in a warm Python worker
# process (AsyncGui.WorkerTask.new_python): the arguments and the result are
# pickled, and an exception raised there is pickled too and raised again at
# the yield with its original type. Workers run this interpreter, with this
# program's sys.path, and load its main script under the name __mp_main__
# (as multiprocessing does), so functions defined in the script itself are
# importable there while its `if __name__ == "__main__":` block does not run.

_PYTHON_EXCEPTION_DOMAIN = 'asyncgui-python-exception'
_configured_engines = weakref.WeakSet()


def _process_target(func):
    module = getattr(func, '__module__', None)
    qualname = getattr(func, '__qualname__', None)
    if not callable(func) or not module or not qualname or '<' in qualname:
        raise TypeError('ProcessTask needs an importable function (defined at the top level '
                        'of a module or class), not %r' % (func,))
    return '%s:%s' % (module, qualname)


def _configure_python_workers(engine):
    if engine in _configured_engines:
        return
    argv = list(engine.dup_worker_command(AsyncGui.WorkerKind.PYTHON))
    argv[0] = sys.executable
    argv += ['--sys-path', json.dumps(sys.path)]
    main = getattr(sys.modules.get('__main__'), '__file__', None)
    if main:
        argv += ['--main', os.path.abspath(main)]
        # In a worker the script's classes are __mp_main__.X; values and
        # exceptions of those classes come back under that name.
        sys.modules.setdefault('__mp_main__', sys.modules['__main__'])
    engine.set_worker_command(AsyncGui.WorkerKind.PYTHON, argv)
    _configured_engines.add(engine)


class _PreparedProcess(_Prepared):
    __slots__ = ()

    def __init__(self, gtask):
        self.gtask = gtask

    def value(self, gvalue):
        return pickle.loads(gvalue.get_data_as_bytes().get_data())

    def error(self, gerror):
        data = self.gtask.get_error_data()
        if data is not None and gerror.domain == _PYTHON_EXCEPTION_DOMAIN:
            try:
                return pickle.loads(data.get_data_as_bytes().get_data())
            except Exception as exc:  # noqa: B902 - say why it could not come back
                return RuntimeError('%s (and the exception could not be unpickled here: %s)'
                                    % (gerror.message, _describe(exc)))
        return gerror


@_export
class ProcessTask:
    """``ProcessTask(f, *args, **kwargs)``: ``f`` runs in a warm worker
    process, out of reach of this process's GIL, which is how CPU-bound
    Python runs in parallel. ``f`` must be importable (defined at the top
    level of a module or of the main script), and its arguments and result
    picklable; an exception it raises is raised again at the yield with its
    original type. A worker that dies fails only its own call, with a
    ``GLib.Error`` of ``AsyncGui.Error.WORKER_CRASHED``."""

    __slots__ = ('func', 'args', 'kwargs', 'target')

    def __init__(self, func, *args, **kwargs):
        self.target = _process_target(func)
        self.func = func
        self.args = args
        self.kwargs = kwargs

    def __await__(self):
        return (yield self)

    def _ag_prepare(self, driver):
        engine = driver.engine if driver is not None else Engine.get_default()
        _configure_python_workers(engine)
        pickled = GLib.Bytes.new(pickle.dumps((self.args, self.kwargs)))
        return _PreparedProcess(WorkerTaskObject.new_python(self.target, pickled))

    def __repr__(self):
        return 'ProcessTask(%s, %d args)' % (self.target, len(self.args))


@_export
class MultiProcessTask(MultiTask):
    """``MultiProcessTask(tasks, max_workers=None, skip_errors=False,
    unordered=False)``: a MultiTask whose tasks run in worker processes.
    ``tasks`` are ProcessTasks, or Tasks of importable functions (which are
    made ProcessTasks). ``max_workers`` defaults to the number of
    processors, so that CPU-bound Python uses every core."""

    __slots__ = ()

    def __init__(self, tasks, max_workers=None, skip_errors=False, unordered=False):
        converted = [task if isinstance(task, ProcessTask)
                     else ProcessTask(task.func, *task.args, **(task.keywords or {}))
                     for task in tasks]
        if max_workers is None:
            max_workers = os.cpu_count() or 1
        super().__init__(converted, max_workers, skip_errors, unordered)


# -- Lists of tasks ------------------------------------------------------------
#
# A list of Python Tasks runs as ONE AgMultiTask made with
# new_map_range(): nothing per task is made up front. Values and exceptions
# stay in Python, stored by position; the C MultiTask sees every child
# succeed without a value, and the MultiTask rules (skip_errors, the first
# failure in list order once all have finished, completion order) are
# applied here. (PyGObject 3.42 can neither return a GValue* from a Python
# callback without corrupting the heap nor raise a GError from one.)
#
# Calling into Python from a worker costs ~10 us (GIL hand-over, argument
# marshalling), more than a trivial task. So when nobody watches single
# children, the range has one child per *lane* (max_workers, or as many as
# the engine has threads), and each lane takes the next task from a shared
# counter until none are left: fast tasks cost one Python call per lane,
# slow ones still spread over all lanes. When every child must be seen
# (async for, task.gtask), there is one child per task.

class _Run(_Prepared):
    __slots__ = ('spec', 'driver', 'n', 'results', 'errors', 'done_order', 'stopped')

    def child_outcome(self, position):
        exc = self.errors.get(position)
        if exc is not None:
            raise exc
        return self.results[position]

    def stop(self):
        self.stopped = True
        if not self.gtask.is_finished():
            self.gtask.cancel()

    def cancel(self):
        self.stopped = True

    def value(self, gvalue):
        return self._collect()

    def _collect(self):
        spec, errors, results = self.spec, self.errors, self.results
        if spec.unordered:
            order = self.done_order
            if spec.skip_errors:
                return [results[i] for i in order if i not in errors]
            if errors:
                raise errors[min(errors)]
            return [results[i] for i in order]
        if errors:
            if spec.skip_errors:
                return [r for i, r in enumerate(results) if i not in errors]
            raise errors[min(errors)]
        return results


class _PyRun(_Run):
    """A run of Python Tasks only."""

    __slots__ = ('tasks', 'claim')

    def __init__(self, spec, driver, per_item, threads):
        self.spec = spec
        self.driver = driver
        self.tasks = spec.tasks
        self.n = n = len(self.tasks)
        self.results = [None] * n
        self.errors = {}
        self.done_order = []
        self.stopped = False
        if per_item or threads == 0 or n == 0:
            gtask = MultiTaskObject.new_map_range(n, _run_item, self)
            gtask.set_max_workers(spec.max_workers)
        else:
            lanes = min(n, spec.max_workers or threads)
            self.claim = itertools.count().__next__
            gtask = MultiTaskObject.new_map_range(lanes, _run_lane, self)
        gtask.set_skip_errors(spec.skip_errors)
        gtask.set_unordered(spec.unordered)
        self.gtask = gtask


def _run_item(position, run, cancellable):
    if run.stopped:
        return None
    try:
        run.results[position] = run.tasks[position]()
    except BaseException as exc:  # noqa: B902
        run.errors[position] = exc
    run.done_order.append(position)
    return None


def _run_lane(lane, run, cancellable):
    tasks, results, errors, claim, n = run.tasks, run.results, run.errors, run.claim, run.n
    record = run.done_order.append
    while not run.stopped:
        position = claim()
        if position >= n:
            break
        try:
            results[position] = tasks[position]()
        except BaseException as exc:  # noqa: B902
            errors[position] = exc
        record(position)
    return None


class _MixedRun(_Run):
    """A run whose children are not all Python Tasks: one AgTask each,
    added to a plain AgMultiTask, so the C rules apply."""

    __slots__ = ('children',)

    def __init__(self, spec, driver):
        self.spec = spec
        self.driver = driver
        self.n = len(spec.tasks)
        self.stopped = False
        self.children = [_prepare(item, driver) for item in spec.tasks]
        gtask = MultiTaskObject.new()
        gtask.set_max_workers(spec.max_workers)
        gtask.set_skip_errors(spec.skip_errors)
        gtask.set_unordered(spec.unordered)
        for child in self.children:
            gtask.add(child.gtask)
        self.gtask = gtask
        self.done_order = []
        gtask.connect('task-done', lambda multi, position: self.done_order.append(position))

    def child_outcome(self, position):
        child = self.children[position]
        gtask = child.gtask
        state = gtask.get_state()
        if state == AsyncGui.TaskState.SUCCEEDED:
            return child.value(gtask.get_value())
        error = gtask.get_error()
        if state == AsyncGui.TaskState.CANCELLED or (error is not None and _is_cancelled(error)):
            raise CancelledError()
        exc = child.error(error)
        raise exc

    def _outcomes(self, order):
        values = []
        for position in order:
            try:
                values.append(self.child_outcome(position))
            except CancelledError:
                raise
            except BaseException:  # noqa: B902
                if not self.spec.skip_errors:
                    raise
        return values

    def value(self, gvalue):
        order = self.done_order if self.spec.unordered else range(self.n)
        return self._outcomes(order)

    def error(self, gerror):
        # Without skip-errors the MultiTask failed with the first failing
        # child in list order: raise that child's own exception.
        for position in range(self.n):
            state = self.children[position].gtask.get_state()
            if state == AsyncGui.TaskState.FAILED:
                try:
                    self.child_outcome(position)
                except BaseException as exc:  # noqa: B902
                    return exc
        return gerror

    def cancel(self):
        self.stopped = True
        for child in self.children:
            child.cancel()


def _engine_threads(driver):
    engine = driver.engine if driver is not None else Engine.get_default()
    return engine.get_max_threads()


_ONLY_TASKS = {Task}


def _make_run(spec, driver, per_item=False):
    tasks = spec.tasks
    # set(map(type, ...)) runs in C: ~1 ms for 100,000 tasks.
    if not tasks or set(map(type, tasks)) == _ONLY_TASKS:
        return _PyRun(spec, driver, per_item, _engine_threads(driver))
    return _MixedRun(spec, driver)


class _MultiIterator:
    """``async for`` over a MultiTask: the MultiTask runs on the engine beside
    the job (the job stays free to await other things in the loop body), and
    each step that finds no finished task awaits one."""

    def __init__(self, spec):
        self.spec = spec
        self.run = None
        self.queue = collections.deque()
        self.finished = False
        self.failure = None
        self.waiter = None
        self.driver = None

    def __aiter__(self):
        return self

    def _start(self):
        driver = getattr(_tls, 'driver', None)
        if driver is None:
            raise RuntimeError('async for over a MultiTask works inside an @engine.job')
        self.driver = driver
        spec = self.spec
        run = spec._gtask_run
        spec._gtask_run = None
        if run is None:
            run = _make_run(spec, driver, per_item=True)
        self.run = run
        run.gtask.connect('task-done', self._on_task_done)
        driver.owned.append(self)
        driver.engine.run_async(run.gtask, None, self._on_finished)

    def _wake(self):
        waiter, self.waiter = self.waiter, None
        if waiter is not None:
            waiter()

    def _on_task_done(self, multi, position):
        self.queue.append(position)
        self._wake()

    def _on_finished(self, engine, result, *unused):
        try:
            engine.run_finish(result)
        except GLib.Error as error:
            if not self.finished and self.failure is None:
                self.failure = CancelledError() if _is_cancelled(error) else error
        self.finished = True
        self._wake()

    def stop(self):
        self.finished = True
        self.waiter = None
        if self.run is not None:
            self.run.stop()

    async def __anext__(self):
        if self.run is None:
            self._start()
        while True:
            if self.queue and not self.driver.cancelling:
                position = self.queue.popleft()
                try:
                    return self.run.child_outcome(position)
                except CancelledError:
                    self.stop()
                    raise
                except BaseException:  # noqa: B902
                    if self.spec.skip_errors:
                        continue
                    self.stop()
                    raise
            if self.finished and not self.driver.cancelling:
                failure, self.failure = self.failure, None
                if failure is not None:
                    raise failure
                raise StopAsyncIteration
            try:
                await _NextItem(self)
            except BaseException:  # noqa: B902
                self.stop()
                raise


class _NextItem:
    __slots__ = ('iterator',)

    def __init__(self, iterator):
        self.iterator = iterator

    def __await__(self):
        return (yield self)

    def _ag_prepare(self, driver):
        iterator = self.iterator

        def start(complete):
            if (iterator.queue or iterator.finished) and not driver.cancelling:
                complete()
            else:
                iterator.waiter = complete

        def on_cancel():
            iterator.waiter = None
        return _PreparedMain(start, on_cancel=on_cancel)


# -- Sleeping ------------------------------------------------------------------

@_export
def sleep(seconds):
    """A task that sleeps ``seconds`` (an AgTask sleep: pausing the job
    stops its clock, so it keeps its remainder)."""
    return TaskObject.new_sleep(max(0, int(round(seconds * 1000))))


# -- Jobs ------------------------------------------------------------------------

def _to_gvalue(value):
    """The job's value for other languages: natural GValue types where they
    exist, the Python object itself otherwise (job.result() in Python always
    gives back the very object returned)."""
    if value is None:
        return None
    kind = type(value)
    if kind is bool:
        return GObject.Value(GObject.TYPE_BOOLEAN, value)
    if kind is int:
        if -2**31 <= value < 2**31:
            return GObject.Value(GObject.TYPE_INT, value)
        if -2**63 <= value < 2**63:
            return GObject.Value(GObject.TYPE_INT64, value)
    elif kind is float:
        return GObject.Value(GObject.TYPE_DOUBLE, value)
    elif kind is str:
        return GObject.Value(GObject.TYPE_STRING, value)
    elif isinstance(value, GObject.Object):
        return GObject.Value(type(value).__gtype__, value)
    elif isinstance(value, GLib.Variant):
        return GObject.Value(GObject.TYPE_VARIANT, value)
    return GObject.Value(GObject.TYPE_PYOBJECT, value)


def _driver_of(job):
    return getattr(job, '_ag_driver', None)


class _Driver:
    """Runs one generator or coroutine as an AgJob: each step runs the Python
    code up to its next yield; what it yields is awaited with
    ag_job_await_async(); the outcome is sent or thrown back in."""

    __slots__ = ('job', 'engine', 'context', 'coro', 'is_coroutine', 'prepared',
                 'owned', 'finished', 'value', 'exc', 'retrieved', 'cancelling',
                 '__weakref__')

    def __init__(self, engine, job, coro, is_coroutine):
        self.engine = engine
        self.context = engine.get_context()
        self.job = job
        self.coro = coro
        self.is_coroutine = is_coroutine
        self.prepared = None
        self.owned = []
        self.finished = False
        self.value = None
        self.exc = None
        self.retrieved = False
        # job.cancel() was called and its CANCELLED has not been delivered
        # yet: an `async for` then awaits rather than hand out results that
        # are already queued, so nothing reaches the job after a cancel.
        self.cancelling = False

    def step(self, value=None, exc=None):
        coro = self.coro
        previous_driver = getattr(_tls, 'driver', None)
        _tls.driver = self
        guest = _enter_asyncio(self)
        try:
            if exc is None:
                request = coro.send(value)
            else:
                request = coro.throw(exc)
        except StopIteration as stop:
            self._succeed(stop.value)
        except ReturnResult as result:
            self._succeed(result.value)
        except CancelledError:
            self._end(error=_cancelled_gerror())
        except BaseException as failure:  # noqa: B902
            self.exc = failure
            self._end(error=_python_gerror(failure))
            if isinstance(failure, (KeyboardInterrupt, SystemExit)):
                raise
        else:
            self._await(request)
        finally:
            _leave_asyncio(guest)
            _tls.driver = previous_driver

    def _await(self, request):
        try:
            prepared = _prepare(request, self)
        except BaseException as failure:  # noqa: B902
            # Bad input is raised into the coroutine at the yield, one main
            # loop iteration later, so a coroutine that keeps yielding junk
            # cannot hang the loop.
            prepared = _failing(failure)
        self.prepared = prepared
        self.job.await_async(prepared.gtask, self._on_await_done)

    def _on_await_done(self, job, result, *unused):
        prepared, self.prepared = self.prepared, None
        if self.coro is None:
            return
        try:
            gvalue = job.await_finish(result)
        except GLib.Error as error:
            if _is_cancelled(error):
                self.cancelling = False
                prepared.cancel()
                self.step(exc=CancelledError())
            else:
                self.step(exc=prepared.error(error))
            return
        try:
            value = prepared.value(gvalue)
        except BaseException as failure:  # noqa: B902
            self.step(exc=failure)
        else:
            self.step(value)

    def _succeed(self, value):
        self.value = value
        self._end(value=value)

    def _end(self, value=None, error=None):
        self.finished = True
        self.coro = None
        owned, self.owned = self.owned, []
        for thing in owned:
            thing.stop()
        if error is not None:
            self.job.return_error(error)
        else:
            self.job.return_value(_to_gvalue(value))

    def __del__(self):
        exc = self.exc
        if exc is not None and not self.retrieved and not isinstance(exc, CancelledError):
            try:
                sys.stderr.write('AsyncGui: a job failed and nobody asked for its result:\n')
                traceback.print_exception(type(exc), exc, exc.__traceback__)
            except Exception:
                pass


def _start_job(engine, coro):
    if hasattr(coro, 'send') and hasattr(coro, 'throw'):
        is_coroutine = not hasattr(coro, 'gi_frame')
    else:
        # A plain function: the job ends at once with its value.
        value = coro

        def immediate():
            return value
            yield  # noqa: unreachable - makes this a generator
        coro = immediate()
        is_coroutine = False
    job = AsyncGui.Job.new(engine)
    driver = _Driver(engine, job, coro, is_coroutine)
    job._ag_driver = driver
    driver.step()
    return job


if _HAVE_JOB:
    class Job(AsyncGui.Job):
        """A running sequential job (AgJob). Started by calling a function
        decorated with ``@engine.job``.

        ``job.state`` is its AsyncGui.JobState; ``job.cancel()``,
        ``job.pause()`` and ``job.resume()`` steer it; ``job.wait(timeout)``
        blocks a script until it has finished (iterating the engine's
        context); ``job.result()`` gives the value it returned, or raises
        what ended it (its original exception, or CancelledError)."""

        def __await__(self):
            return (yield self)

        def cancel(self):
            """Cancels what the job awaits: CancelledError is raised at the
            pending yield/await (or the next one). Nothing on a finished
            job."""
            driver = _driver_of(self)
            if driver is not None and not driver.finished:
                driver.cancelling = True
            AsyncGui.Job.cancel(self)

        @property
        def state(self):
            return self.get_state()

        @property
        def finished(self):
            return self.is_finished()

        def wait(self, timeout=None):
            """Waits until the job has finished, at most ``timeout`` seconds
            (None: no limit). True if it finished, False on timeout."""
            timeout_us = -1 if timeout is None else max(0, int(timeout * 1e6))
            try:
                return AsyncGui.Job.wait(self, timeout_us)
            except GLib.Error as error:
                if error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT):
                    return False
                raise

        def result(self, timeout=None):
            """The job's value, once it has finished (waiting up to
            ``timeout`` seconds first if given). Raises the exception that
            ended the job, CancelledError if it was cancelled, TimeoutError if
            it did not finish in time, and InvalidStateError if it is still
            running and no timeout was given."""
            exc = self.exception(timeout)
            if exc is not None:
                raise exc
            driver = _driver_of(self)
            if driver is not None:
                return driver.value
            return self.get_value()

        def exception(self, timeout=None):
            """What ended the job, or None if it succeeded (see result())."""
            if timeout is not None and not self.is_finished():
                if not self.wait(timeout):
                    raise TimeoutError('the job did not finish within %s s' % timeout)
            state = self.get_state()
            if state == AsyncGui.JobState.SUCCEEDED:
                return None
            if state == AsyncGui.JobState.CANCELLED:
                return CancelledError()
            if state != AsyncGui.JobState.FAILED:
                raise InvalidStateError('the job has not finished (state %s)'
                                        % state.value_nick)
            driver = _driver_of(self)
            if driver is not None and driver.exc is not None:
                driver.retrieved = True
                return driver.exc
            return self.get_error()

    Job = override(Job)
    __all__.append('Job')


@_export
class InvalidStateError(RuntimeError):
    """job.result() of a job that has not finished."""


class Engine(AsyncGui.Engine):
    def job(self, func):
        """Decorator: makes ``func`` (a generator function or ``async def``)
        a job handler. Each call starts an AsyncGui.Job on this engine and
        returns it at once; the body runs up to its first yield/await right
        away, on the calling (engine's) thread."""

        @functools.wraps(func)
        def start(*args, **kwargs):
            return _start_job(self, func(*args, **kwargs))
        start.__ag_job__ = True
        return start

    def start_job(self, coroutine):
        """Starts a job that drives ``coroutine`` (a generator or coroutine
        object already made); returns the AsyncGui.Job."""
        return _start_job(self, coroutine)


Engine = override(Engine)
__all__.append('Engine')


@_export
def current_job():
    """Inside a job's code: its AsyncGui.Job. None elsewhere."""
    driver = getattr(_tls, 'driver', None)
    return driver.job if driver is not None else None


# -- Guest runs: asyncio and trio inside the GLib loop ------------------------
#
# asyncio: an asyncio event loop whose selector never blocks; a GSource on
# the engine's context decides when it has work (ready callbacks, the
# earliest timer, or its epoll descriptor becoming readable, which covers
# sockets and call_soon_threadsafe()) and then runs one iteration of it.
# While a job's code runs, and while the loop runs, it is the running loop
# of the thread, so `await asyncio.sleep(1)` or `await
# asyncio.open_connection(...)` in an `async def` job just work: the job
# awaits asyncio futures like tasks. The loop exists once asyncio has been
# imported and a job ran, one per thread; its GSource is attached on first
# use.

_guest = threading.local()


def _enter_asyncio(driver):
    asyncio = sys.modules.get('asyncio')
    if asyncio is None:
        return None
    loop = getattr(_guest, 'loop', None)
    if loop is None:
        loop = _guest.loop = _make_guest_loop(asyncio, driver.context)
    events = asyncio.events
    previous = events._get_running_loop()
    events._set_running_loop(loop)
    return (events, previous)


def _leave_asyncio(guest):
    if guest is not None:
        events, previous = guest
        events._set_running_loop(previous)


@_export
def get_asyncio_loop():
    """The asyncio loop that runs as a guest in this thread's GLib loop
    (made on first call)."""
    import asyncio
    loop = getattr(_guest, 'loop', None)
    if loop is None:
        loop = _guest.loop = _make_guest_loop(asyncio, GLib.MainContext.ref_thread_default())
    return loop


def _make_guest_loop(asyncio, context):
    import selectors

    class NonBlockingSelector(selectors.DefaultSelector):
        def select(self, timeout=None):
            return super().select(0)

    class GuestSource(GLib.Source):
        def __init__(self, loop):
            super().__init__()
            self.loop = loop
            self.tag = self.add_unix_fd(loop._selector.fileno(), GLib.IOCondition.IN)

        def prepare(self):
            loop = self.loop
            if loop._ready:
                return True, 0
            if loop._scheduled:
                delay = loop._scheduled[0]._when - loop.time()
                if delay <= loop._clock_resolution:
                    return True, 0
                return False, int(math.ceil(delay * 1000))
            return False, -1

        def check(self):
            loop = self.loop
            if loop._ready:
                return True
            if loop._scheduled and loop._scheduled[0]._when <= loop.time() + loop._clock_resolution:
                return True
            return bool(self.query_unix_fd(self.tag))

        def dispatch(self, callback, args):
            self.loop._ag_run_once()
            return GLib.SOURCE_CONTINUE

    class GuestEventLoop(asyncio.SelectorEventLoop):
        def __init__(self):
            self._ag_source = None
            self._ag_attachable = False
            super().__init__(NonBlockingSelector())
            self._thread_id = threading.get_ident()   # is_running(): True
            self._ag_attachable = True

        def _ag_attach(self):
            if self._ag_source is None and self._ag_attachable:
                self._ag_source = GuestSource(self)
                self._ag_source.set_priority(GLib.PRIORITY_DEFAULT)
                self._ag_source.attach(context)

        def _call_soon(self, callback, args, context):
            self._ag_attach()
            return super()._call_soon(callback, args, context)

        def call_at(self, when, callback, *args, context=None):
            self._ag_attach()
            return super().call_at(when, callback, *args, context=context)

        def _add_reader(self, fd, callback, *args):
            self._ag_attach()
            return super()._add_reader(fd, callback, *args)

        def _add_writer(self, fd, callback, *args):
            self._ag_attach()
            return super()._add_writer(fd, callback, *args)

        def run_forever(self):
            raise RuntimeError('this asyncio loop runs as a guest of the GLib main loop')

        def _ag_run_once(self):
            events = asyncio.events
            previous = events._get_running_loop()
            events._set_running_loop(self)
            try:
                self._run_once()
            finally:
                events._set_running_loop(previous)

    return GuestEventLoop()


def _prepare_asyncio_future(future):
    # Set by Future.__await__, which reads the outcome itself when resumed;
    # a future yielded directly (from a generator job) gets it sent in.
    awaited = future._asyncio_future_blocking
    future._asyncio_future_blocking = False

    def start(complete):
        if future.done():
            complete()
        else:
            future.add_done_callback(lambda unused: complete())

    return _PreparedMain(start, None if awaited else future.result, on_cancel=future.cancel)


class _TrioRun:
    __slots__ = ('async_fn', 'args', 'scope', 'token', 'outcome', 'cancelled')

    def __init__(self, async_fn, args):
        self.async_fn = async_fn
        self.args = args
        self.scope = None
        self.token = None
        self.outcome = None
        self.cancelled = False

    def __await__(self):
        return (yield self)

    def _ag_prepare(self, driver):
        import trio
        context = driver.context

        def run_soon(fn):
            source = GLib.Idle()
            source.set_callback(lambda *unused: fn() or GLib.SOURCE_REMOVE)
            source.attach(context)

        async def runner():
            with trio.CancelScope() as scope:
                self.scope = scope
                self.token = trio.lowlevel.current_trio_token()
                if self.cancelled:
                    scope.cancel()
                return await self.async_fn(*self.args)

        def start(complete):
            def done(outcome):
                self.outcome = outcome
                complete()
            trio.lowlevel.start_guest_run(runner, run_sync_soon_threadsafe=run_soon,
                                          done_callback=done)

        def on_cancel():
            self.cancelled = True
            if self.token is not None:
                try:
                    self.token.run_sync_soon(self.scope.cancel)
                except trio.RunFinishedError:
                    pass

        return _PreparedMain(start, lambda: self.outcome.unwrap(), on_cancel)


@_export
def run_trio(async_fn, *args):
    """Awaitable in a job: runs ``async_fn(*args)`` under trio as a guest of
    the GLib loop (trio.lowlevel.start_guest_run) and gives its value, or
    raises its exception. Cancelling the job cancels the trio run."""
    return _TrioRun(async_fn, args)
