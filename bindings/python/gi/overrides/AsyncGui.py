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
# plus channels of Python objects (AsyncGui.Channel), task dependencies
# (task.and_then(), task.add_dependency()), demand-driven pipelines
# (AsyncGui.pipe(func, source)) and slots, where the latest request wins
# (`value = yield engine.slot().run(task)`).
#
# Everything here translates; the engine does the work. A job is an
# AsyncGui.Job (AgJob) driven with ag_job_await_async()/_finish(): every
# suspension of the Python coroutine, whatever it awaits, is one AgTask the
# job awaits, so pause, resume and cancel behave the same for all of them.
# bindings/python/README.md explains the decisions.

import array
import atexit
import functools
import itertools
import json
import math
import operator
import os
import pickle
import sys
import threading
import traceback
import types
import warnings
import weakref

from gi.repository import GLib, GObject, Gio

from ..module import get_introspection_module
from .._ossighelper import register_sigint_fallback
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
PipelineObject = _export(AsyncGui.Pipeline, 'PipelineObject')
WorkerTaskObject = AsyncGui.WorkerTask


def _await_self(self):
    return _AwaitOnce(self)


# `await gtask` in an async def job, like `yield gtask` in a generator.
TaskObject.__await__ = _await_self
# The value property read without PyGObject 3.42's leak: its props.value
# (and get_property('value')) duplicate the GValue and never free the
# copy, so each read keeps one more reference to the value for good.
TaskObject.value = property(TaskObject.get_value, doc="""The task's value
    (its value property), as get_value() gives it: for a Python Task the
    very object its function returned; None until the task succeeded.""")
# A MultiTask's value is a GArray of GValues, which PyGObject 3.42 gives
# as a GLib.Array it cannot read: its value is read as the list of them.
def _multi_task_value(self):
    """The list of the children's values (get_values()); None until the
    MultiTask succeeded."""
    if self.get_state() != AsyncGui.TaskState.SUCCEEDED:
        return None
    try:
        return self.get_values()
    except TypeError:
        # A child without a value (a sleep): PyGObject cannot convert an
        # array holding an unset GValue, so they are read one by one.
        values = []
        for position in range(self.get_n_items()):
            try:
                values.append(self.get_child_value(position).value)
            except GLib.Error:
                pass  # a failure, which skip_errors leaves out of the value
            except TypeError:
                values.append(None)
        return values


MultiTaskObject.get_value = _multi_task_value
MultiTaskObject.value = property(_multi_task_value, doc=_multi_task_value.__doc__)
_MODULE_GLOBALS = globals()


# -- Errors --------------------------------------------------------------

@_export
class CancelledError(BaseException):
    """Raised into a job at the pending ``yield``/``await`` when the job is
    cancelled (``job.cancel()``), and by ``job.result()`` of a cancelled job.

    Like asyncio's and trio's, it derives from BaseException, so an
    ``except Exception:`` in a handler does not swallow a cancellation. A job
    that catches it may go on awaiting: cancelling is one-shot.

    It is not ``asyncio.CancelledError`` nor a subclass of it: deriving from
    it would make every ``from gi.repository import AsyncGui`` import
    asyncio, which takes about as long again as the override itself, in
    applications that never use asyncio. The two meet where asyncio runs
    as a guest: ``asyncio.CancelledError`` reaching the top of a job ends
    it cancelled, like this one; when asyncio cancels an asyncio task that
    awaits an asyncgui task, that task is cancelled and the asyncio task
    gets asyncio's own exception; ``job.cancel()`` cancels the asyncio
    task or future the job awaits, and the job gets this one. Code that
    must catch both names both:
    ``except (AsyncGui.CancelledError, asyncio.CancelledError):``."""


@_export
class ReturnResult(BaseException):
    """What :func:`return_result` raises: ends the job with ``value``
    (also readable as ``result``, async_gui's name).

    It derives from BaseException so that an ``except Exception:`` in the
    job does not catch the job's own return."""

    def __init__(self, value=None):
        super().__init__(value)
        self.value = value

    @property
    def result(self):
        """The value the job ends with (async_gui's name for ``value``)."""
        return self.value


@_export
def return_result(value=None):
    """Ends the running job with ``value`` (async_gui compatibility; in new
    code, ``return value`` does the same)."""
    raise ReturnResult(value)


def _is_cancel(exc):
    """Whether ``exc`` is CancelledError, ours or asyncio's (asyncio is
    loaded only by programs that use it)."""
    asyncio = sys.modules.get('asyncio')
    return isinstance(exc, CancelledError) or (
        asyncio is not None and isinstance(exc, asyncio.CancelledError))


def _without_own_frames(exc):
    """``exc`` without the frames of this module its traceback starts with:
    they say nothing to the job's author, and they hold what the job
    awaited, which may lead back to the job through C, a cycle Python's
    collector cannot see (the failed job would never be freed, nor its
    failure reported). Frames of the author's own code (a transform) stay."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_globals is _MODULE_GLOBALS:
        tb = tb.tb_next
    return exc.with_traceback(tb)


def _describe(exc):
    text = str(exc)
    name = type(exc).__qualname__
    return '%s: %s' % (name, text) if text else name


def _python_gerror(exc):
    """The GError C sees for ``exc``: a GLib.Error itself, keeping its
    domain and code, else one that describes ``exc``."""
    if isinstance(exc, GLib.Error):
        return exc
    return GLib.Error.new_literal(AsyncGui.error_quark(), _describe(exc),
                                  int(AsyncGui.Error.FAILED))


def _return_exception(target, exc):
    """Fails ``target`` (an AgTask, or the AgChunk of a map) with ``exc``:
    a GError that describes it, and the exception itself as the error's
    detail, which C carries unchanged through rows, MultiTasks and the
    tasks that depend on it. The traceback loses its first frame, the
    trampoline's, whose variables would lead back to the AgTask."""
    if exc.__traceback__ is not None:
        exc.__traceback__ = exc.__traceback__.tb_next
    target.return_error_full(_python_gerror(exc), GObject.Value(GObject.TYPE_PYOBJECT, exc))


def _exception_of(gtask, gerror):
    """The Python exception ``gtask`` failed with: its error's detail when
    that is one (the very object raised), else ``gerror``. A job whose
    exception is read here has been asked for its result."""
    detail = gtask.get_error_detail()
    driver = _driver_of(gtask)
    if driver is not None:
        driver.retrieved = True
    return detail if isinstance(detail, BaseException) else gerror


def _cancelled_gerror():
    return GLib.Error.new_literal(Gio.io_error_quark(), 'Operation was cancelled',
                                  int(Gio.IOErrorEnum.CANCELLED))


def _is_cancelled(gerror):
    return gerror.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)


def _outcome(result, finish):
    """What ``finish(result)`` gives (a run_finish() or await_finish()), as
    (value, GLib.Error or None). When ``result`` is the AgTask itself, as
    it is unless a job's await was cancelled or refused, both are read
    from it instead: those functions return a copy of its value with
    transfer full, which PyGObject 3.42 converts and never frees, keeping
    a Python value alive for good."""
    if isinstance(result, TaskObject):
        # TaskObject's: a MultiTask's list is read only where it is wanted.
        value = TaskObject.get_value(result)
        return value, (result.get_error() if value is None else None)
    try:
        return finish(result), None
    except GLib.Error as error:
        # Its traceback would keep this frame, and so the job.
        return None, error.with_traceback(None)


def _object_value(obj):
    """What a Python Task returned, as the value of its AgTask: a GValue of
    GObject.TYPE_PYOBJECT holding the very object (None: no value), which
    every reader through GI gets back as that object. The GValue owns one
    reference, released with the GIL wherever the AgTask lets it go; an
    object that leads back to its own AgTask is never freed (a cycle
    through C)."""
    if obj is None:
        return None
    return GObject.Value(GObject.TYPE_PYOBJECT, obj)


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


class _AwaitOnce:
    """What ``await request`` iterates: hands ``request`` to the job's
    driver once and returns what is sent back. Unlike a generator's frame
    it is not kept by the traceback of an exception raised at the await,
    so that traceback does not keep ``request`` (whose AgTask may own the
    exception: a cycle through C that Python's collector cannot see).

    Awaited by an asyncio task of the guest loop instead, it hands asyncio
    a future of the request's outcome (see _asyncio_future_for())."""

    __slots__ = ('request', 'future')

    def __init__(self, request):
        self.request = request
        self.future = None

    def __iter__(self):
        return self

    def __next__(self):
        return self.send(None)

    def send(self, value):
        request, self.request = self.request, None
        if request is not None:
            if getattr(_tls, 'driver', None) is None:
                future = _asyncio_future_for(request)
                if future is not None:
                    self.future = future
                    return future
            return request
        future, self.future = self.future, None
        if future is not None:
            value = future.result()
        raise StopIteration(value)


@_export
def current_task():
    """On a worker thread running a single :class:`Task`: its AgTask (to call
    ``set_progress()`` or ``set_status_text()`` on). None elsewhere, and for
    the items of a list or MultiTask, which have no AgTask of their own."""
    return getattr(_tls, 'gtask', None)


@_export
def current_cancellable():
    """On a worker thread running a :class:`Task`, alone or as an item of a
    list or MultiTask: the Gio.Cancellable of its work, which fires when
    the work is cancelled (its job cancelled, its slot request replaced),
    so a long function can stop early. None elsewhere."""
    return getattr(_tls, 'cancellable', None)


@_export
class Task(functools.partial, metaclass=_ForwardingMeta):
    """``Task(f, *args, **kwargs)``: ``f(*args, **kwargs)`` on a worker
    thread. Yield or await it in a job; the value is what ``f`` returns, and
    an exception ``f`` raises is raised at the ``yield`` as it was.

    A Task is only a description (it is a ``functools.partial``); it becomes
    GObject work when a job runs it. ``task.gtask`` makes that AgTask early,
    e.g. to connect to ``notify::progress`` before yielding the task.

    ``task.add_dependency(other)`` and ``task.and_then(f)`` order tasks
    (AgTask dependencies): see their docstrings."""

    __slots__ = ()
    _gi_class = TaskObject
    __gtype__ = TaskObject.__gtype__

    __await__ = _await_self

    @property
    def gtask(self):
        """The AgTask (``AsyncGui.TaskObject``) this Task runs as, made on
        first access: connect to its ``notify::progress`` before yielding
        the Task, or hand it to GI code. Yielding the Task then runs this
        very AgTask. After a job yielded the Task on its own, it is the
        AgTask that ran (a Task run in a list has none: read the list's
        rows)."""
        state = self.__dict__
        gtask = state.get('_ag_gtask')
        if gtask is None:
            gtask = state['_ag_gtask'] = _new_task(self)
            key = id(self)
            _held_tasks[key] = weakref.ref(self, lambda unused: _held_tasks.pop(key, None))
        return gtask

    def add_dependency(self, other):
        """Makes this task wait for ``other``: a Task, an AsyncGui.Task
        object (a sleep, a MultiTask object, a pipeline's ``gtask``...) or
        a Job. Running this task runs ``other`` too if nobody has yet (or
        waits for it), and its function starts only once ``other``
        succeeded; if ``other`` fails or is cancelled, this task fails
        with the same outcome without running: the job awaiting it gets
        ``other``'s own exception (or CancelledError). Inside the function,
        :func:`dependency_value` gives ``other``'s value. A dependency
        that would make a cycle raises ValueError and is not added.
        (ag_task_add_dependency() on ``task.gtask``.)"""
        if isinstance(other, Task) and not isinstance(other, TaskObject):
            other = other.gtask
        elif not isinstance(other, TaskObject):
            raise TypeError('a task can depend on a Task, an AsyncGui.Task object or a Job, '
                            'not %r' % (other,))
        gtask = self.gtask
        if gtask.get_state() != AsyncGui.TaskState.PENDING:
            raise RuntimeError('the task has already run; its dependencies are fixed')
        try:
            gtask.add_dependency(other)
        except GLib.Error as error:
            if error.matches(AsyncGui.error_quark(), AsyncGui.Error.DEPENDENCY_CYCLE):
                raise ValueError(error.message) from None
            raise

    def and_then(self, func, *args, **kwargs):
        """The Task that follows this one: ``func(value, *args, **kwargs)``
        on a worker thread, where ``value`` is what this task gave. Yield
        the new task to run both; if this one fails, the new one fails
        with its exception and ``func`` never runs. (The Python side of
        ag_task_and_then(): the value stays a Python object.)"""
        return self.chain(_call_following, func, args, kwargs)

    def chain(self, func, *args, **kwargs):
        """The Task that runs ``func(*args, **kwargs)`` on a worker thread
        once this one succeeded, without its value (AsyncKit's
        ``chain``; :meth:`and_then` passes the value). If this one fails,
        the new one fails with its exception and ``func`` never runs."""
        following = Task(func, *args, **kwargs)
        following.add_dependency(self)
        return following


# The Tasks whose AgTask was made (task.gtask, dependencies), by id: a list
# holding one must run that very AgTask. Kept apart from the tasks, so that
# looking for them in a list of 100,000 costs nothing while there are none.
_held_tasks = {}


def _call_following(func, args, kwargs):
    return func(dependency_value(0), *args, **kwargs)


@_export
def dependency_value(index=0):
    """Inside the function of a :class:`Task`, on its worker thread: the
    value of its ``index``-th dependency (in the order they were added with
    ``add_dependency()``), as a Python object: what a Task's function
    returned, what a Job returned, an AsyncGui.Task object's value."""
    gtask = getattr(_tls, 'gtask', None)
    if gtask is None:
        raise RuntimeError('dependency_value() works inside the function of a Task')
    if not 0 <= index < gtask.get_n_dependencies():
        raise IndexError('the task has %d dependencies, not one at %d'
                         % (gtask.get_n_dependencies(), index))
    return gtask.get_dependency(index).get_value()


def _call_of(task):
    """What a Task's AgTask calls, which it owns: a plain partial, never
    the Task, whose own attributes may hold the AgTask (a cycle through C)."""
    return functools.partial(task.func, *task.args, **task.keywords)


# Python functions reach C as GClosures where the library takes one
# (ag_task_new_with_closure(), ag_job_await_with_closure() and the other
# *_with_closure() calls): PyGObject before 3.44.2 never frees the
# trampoline it makes for a plain callback, about a hundred bytes for every
# task run, await, list, slot run, channel call, pipeline stage or
# transform.

def _new_task(task):
    return TaskObject.new_with_closure(functools.partial(_run_task, _call_of(task)))


def _run_task(call, gtask, cancellable):
    if _exiting:
        return
    previous = getattr(_tls, 'gtask', None), getattr(_tls, 'cancellable', None)
    _tls.gtask, _tls.cancellable = gtask, cancellable
    try:
        value = call()
    except BaseException as exc:  # noqa: B902 - everything goes to the job
        _return_exception(gtask, exc)
    else:
        gtask.return_value(_object_value(value))
    finally:
        _tls.gtask, _tls.cancellable = previous
    # The frames of the exception's traceback keep this one (their f_back),
    # which must not keep the AgTask that holds the exception.
    gtask = value = None


@_export
class MultiTask(metaclass=_ForwardingMeta):
    """``MultiTask(tasks, max_workers=0, skip_errors=False, unordered=False,
    max_chunk_size=0)``

    Yielded, it runs ``tasks`` in parallel and gives the list of their
    values: in list order, or in completion order with ``unordered``. With
    ``skip_errors`` failed tasks are left out; without, the first failure in
    list order is raised, once all tasks have finished. ``max_workers``
    limits how many run at once. 0, the default, runs every task of a list
    at once, as async_gui did, as long as the engine could
    (``max-threads + max-blocked-threads`` tasks): only max-threads of them
    compute at a time, more only while others are blocked (asleep, waiting
    for I/O); a longer list runs in chunks the engine sizes, two per thread,
    of at most ``max_chunk_size`` tasks (0: no limit of its own), and as
    many at once as a short list once its tasks show that they wait.

    To get each value as soon as its task finishes (async_gui's unordered
    iterator), loop in an ``async def`` job: ``async for r in
    MultiTask(tasks, unordered=True)`` (in list order without
    ``unordered``). A generator job's ``yield MultiTask(...)`` always gives
    the whole list, after the slowest task.

    A plain list of tasks yielded is ``MultiTask(list)``. The rules (order,
    skip_errors, the first failure) are the C MultiTask's; ``task.gtask``
    is that AgMultiTask, a GListModel whose rows hold the values."""

    __slots__ = ('tasks', 'max_workers', 'skip_errors', 'unordered', 'max_chunk_size',
                 '_gtask_run', '_started')
    _gi_class = MultiTaskObject
    __gtype__ = MultiTaskObject.__gtype__

    def __init__(self, tasks, max_workers=0, skip_errors=False, unordered=False,
                 max_chunk_size=0, **refused):
        _refuse_arguments('MultiTask()', refused)
        self.tasks = _task_list('MultiTask()', tasks)
        if max_workers is None:
            max_workers = 0
        if max_workers < 0 or max_chunk_size < 0:
            raise ValueError('max_workers and max_chunk_size must be 0 (no limit) or more')
        self.max_workers = int(max_workers)
        self.skip_errors = bool(skip_errors)
        self.unordered = bool(unordered)
        self.max_chunk_size = int(max_chunk_size)
        self._gtask_run = None
        self._started = None

    __await__ = _await_self

    def __aiter__(self):
        return _iterate_results(self)

    def __len__(self):
        return len(self.tasks)

    @property
    def gtask(self):
        """The AgMultiTask this runs as, made on first access: one child
        per task, so ``task-done`` and the GListModel see every task, and
        each row's ``value`` is the very object its task returned (a
        ``GtkListView`` bound to it shows values as they arrive). Once a
        job started this MultiTask, it is the AgMultiTask that job runs."""
        if self._gtask_run is None:
            if self._started is not None:
                return self._started
            self._gtask_run = _make_run(self, None)
        return self._gtask_run.gtask

    def _take_run(self, driver):
        """The run a job starts: the one ``gtask`` made, or a new one."""
        run, self._gtask_run = self._gtask_run, None
        if run is None:
            run = _make_run(self, driver)
        else:
            # Made by MultiTask.gtask, for no engine: its ProcessTasks run here.
            run.driver = driver
            _configure_python_workers(driver.engine)
        self._started = run.gtask
        return run

    def __repr__(self):
        return 'MultiTask(<%d tasks>, max_workers=%d, skip_errors=%r, unordered=%r)' % (
            len(self.tasks), self.max_workers, self.skip_errors, self.unordered)


def _task_list(call, tasks):
    """``tasks`` as a list (the very list if it is one); what is not
    iterable raises TypeError naming ``call``. Its items are checked when
    the list runs (_prepare())."""
    if type(tasks) is list:
        return tasks
    try:
        return list(tasks)
    except TypeError:
        raise TypeError('%s takes an iterable of tasks, not %r' % (call, tasks)) from None


# -- Preparing what a job awaits --------------------------------------------
#
# The driver turns whatever the coroutine yields into a _Prepared: a pending
# AgTask for the job to await, and how its outcome reads in Python.

class _Prepared:
    """An AgTask to await: any task, which C runs if it is pending and
    waits for if it runs already. Its value reads as GI gives it, and its
    failure as the exception its error's detail carries."""

    __slots__ = ('gtask',)

    def __init__(self, gtask):
        self.gtask = gtask

    def value(self, gvalue):
        # A MultiTask's GArray reads as the list of its values.
        return self.gtask.value if isinstance(self.gtask, MultiTaskObject) else gvalue

    def error(self, gerror):
        return _exception_of(self.gtask, gerror)

    def cancel(self):
        pass

    def read(self, gvalue, gerror):
        """The value of an outcome (what _outcome() gives), or raises its
        exception: CancelledError for a cancel."""
        if gerror is None:
            return self.value(gvalue)
        if _is_cancelled(gerror):
            self.cancel()
            raise CancelledError()
        raise self.error(gerror)


class _PreparedMain(_Prepared):
    """An AgTask that runs ``start(complete)`` on the engine's context when
    the job runs it, and succeeds when ``complete()`` is called. Outcomes stay
    in Python: ``outcome()`` gives the value or raises; what ``start``
    raises is raised at the await.

    ``on_cancel`` runs when the job's await is cancelled. ``stop``, a
    function that may be called from any thread, runs when the AgTask is
    cancelled, also when its engine is disposed, where no job hears of it
    any more: it ends what ``start`` started (a guest run) all the same."""

    __slots__ = ('outcome', 'on_cancel', 'failure')

    def __init__(self, start, outcome=None, on_cancel=None, stop=None):
        self.outcome = outcome
        self.on_cancel = on_cancel
        # Not self: what the AgTask's function holds must not lead back to
        # the AgTask (a cycle through C is never collected).
        self.failure = failure = []

        def run(gtask, cancellable, *unused):
            finished = []

            def complete():
                if not finished:
                    finished.append(True)
                    if not gtask.is_finished():
                        gtask.return_boolean(True)

            if stop is not None and cancellable is not None:
                GObject.Object.connect(cancellable, 'cancelled', lambda *unused: stop())
            _start_main(start, complete, failure)

        self.gtask = TaskObject.new_main_with_closure(run)

    def value(self, gvalue):
        if self.failure:
            raise self.failure.pop()
        return self.outcome() if self.outcome is not None else None

    def cancel(self):
        if self.on_cancel is not None:
            self.on_cancel()


def _start_main(start, complete, failure):
    try:
        start(complete)
    except BaseException as exc:  # noqa: B902 - it is raised at the await
        # The frames of its traceback hold complete(), and so the AgTask:
        # their variables go, their lines stay.
        traceback.clear_frames(exc.__traceback__)
        failure.append(exc)
        complete()
    # This frame is the traceback's first.
    complete = None


def _failing(exc):
    def outcome():
        raise exc
    return _PreparedMain(lambda complete: complete(), outcome)


def _prepare(request, driver, in_list=False):
    """Turns what a job yielded (``in_list``: an item of a list or
    MultiTask it yielded) into a _Prepared; raises TypeError for things
    that are not tasks. ``driver`` is None for a MultiTask's ``gtask``."""
    if isinstance(request, TaskObject):
        return _Prepared(request)
    if isinstance(request, Task):
        # Its AgTask if one was made and has not run; a new one otherwise,
        # which task.gtask gives from then on.
        state = request.__dict__
        gtask = state.get('_ag_gtask')
        if gtask is None or gtask.get_state() != AsyncGui.TaskState.PENDING:
            gtask = state['_ag_gtask'] = _new_task(request)
        return _Prepared(gtask)
    if type(request) in (list, tuple):
        return _make_run(MultiTask(request), driver)
    if isinstance(request, MultiTask):
        return request._take_run(driver)
    prepare = getattr(request, '_ag_prepare', None)
    if prepare is not None:
        return prepare(driver)
    if getattr(request, '_asyncio_future_blocking', None) is not None:
        return _prepare_asyncio_future(request)
    if request is None and not in_list and driver is not None and driver.is_coroutine:
        # A bare yield from a coroutine is asyncio.sleep(0): let the loop
        # run (a sleep of 0 ms ends at its next iteration).
        return _Prepared(TaskObject.new_sleep(0))
    if in_list:
        raise TypeError('a list of tasks or a MultiTask holds %r, which is not a task: it holds '
                        'Tasks, ProcessTasks, lists of tasks, MultiTasks, AsyncGui.Task objects, '
                        'Jobs or what else a job awaits' % (request,))
    raise TypeError('a job yielded %r, which is not a task: yield or await a Task, a list '
                    'of tasks, a MultiTask, an AsyncGui.Task object, a Job or an awaitable'
                    % (request,))


# -- Worker processes ------------------------------------------------------
#
# ProcessTask(f, *args) runs an importable function in a warm Python worker
# process (AsyncGui.WorkerTask.new_python): the arguments and the result are
# pickled, and an exception raised there is pickled too and raised again at
# the yield with its original type. Workers run this interpreter, with this
# program's sys.path and sys.argv, and load its main module as
# multiprocessing's spawn start method does (multiprocessing/spawn.py):
#
# - a module run with `python -m pkg.mod` is imported by name, under the
#   name __mp_main__; but a package's __main__ (`python -m pkg`, and so
#   `python -m unittest`) is not loaded at all: it runs its program
#   unconditionally;
# - a script is run by path, under the name __mp_main__;
# - code from -c or the interactive prompt has no main module to load.
#
# So functions defined in a loaded main module are importable there (as
# __main__, an alias of __mp_main__), while its `if __name__ ==
# "__main__":` block does not run. A ProcessTask of a function defined in a
# main module that workers do not load is refused at once, naming it.

_PYTHON_EXCEPTION_DOMAIN = 'asyncgui-python-exception'
_configured_engines = weakref.WeakSet()
# What '' on sys.path stood for when the program started, as
# multiprocessing.process.ORIGINAL_DIR.
_ORIGINAL_DIR = os.path.abspath(os.getcwd())


def _main_for_workers():
    """How workers load this program's main module: ('name', module name),
    ('path', script path), or None; and, when they do not load it, why."""
    main = sys.modules.get('__main__')
    name = getattr(getattr(main, '__spec__', None), 'name', None)
    if name is not None:
        if name == '__main__' or name.endswith('.__main__'):
            return None, ('%s, which worker processes do not load: it runs the program when '
                          'loaded' % name)
        return ('name', name), None
    path = getattr(main, '__file__', None)
    if path is not None:
        path = os.path.normpath(os.path.join(_ORIGINAL_DIR, path))
        if os.path.splitext(os.path.basename(path))[0] == 'ipython':
            return None, '%s, which worker processes do not load' % path
        return ('path', path), None
    return None, ('the code of -c or of the interactive prompt, which worker processes '
                  'cannot load')


def _process_target(func):
    module = getattr(func, '__module__', None)
    qualname = getattr(func, '__qualname__', None)
    if not callable(func) or not module or not qualname or '<' in qualname:
        raise TypeError('ProcessTask needs an importable function (defined at the top level '
                        'of a module or class), not %r' % (func,))
    if isinstance(func, types.MethodType) and not isinstance(func.__self__, type):
        raise TypeError('ProcessTask cannot call %s on its object: a worker imports the function '
                        'alone; pass the object as an argument instead' % qualname)
    if module in ('__main__', '__mp_main__'):
        unused, why_not = _main_for_workers()
        if why_not is not None:
            raise TypeError('ProcessTask cannot run %s: it is defined in the main module, %s '
                            '(nor can multiprocessing); define it in a module they can import'
                            % (qualname, why_not))
    return '%s:%s' % (module, qualname)


def _configure_python_workers(engine):
    if engine in _configured_engines:
        return
    argv = list(engine.get_worker_pool().dup_command(AsyncGui.WorkerKind.PYTHON))
    argv[0] = sys.executable
    sys_path = [path or _ORIGINAL_DIR for path in sys.path]
    argv += ['--sys-path', json.dumps(sys_path), '--argv', json.dumps(sys.argv)]
    main, unused = _main_for_workers()
    if main is not None:
        kind, where = main
        argv += ['--main-' + kind, where]
        # In a worker the main module's classes are __mp_main__.X; values
        # and exceptions of those classes come back under that name.
        sys.modules.setdefault('__mp_main__', sys.modules['__main__'])
    engine.get_worker_pool().set_command(AsyncGui.WorkerKind.PYTHON, argv)
    _configured_engines.add(engine)


class _PreparedProcess(_Prepared):
    __slots__ = ()

    def value(self, gvalue):
        return pickle.loads(gvalue.get_data_as_bytes().get_data())

    def error(self, gerror):
        # The pickled exception travels as the error's detail, so that it
        # also comes back through a MultiTask or a dependency that failed
        # because of this call.
        data = self.gtask.get_error_detail()
        if isinstance(data, GLib.Variant) and gerror.domain == _PYTHON_EXCEPTION_DOMAIN:
            try:
                return pickle.loads(data.get_data_as_bytes().get_data())
            except Exception as exc:  # noqa: B902 - say why it could not come back
                return RuntimeError('%s (and the exception could not be unpickled here: %s)'
                                    % (gerror.message, _describe(exc)))
        return gerror


@_export
class SandboxedError(Exception):
    """What a function raised in a sandboxed worker: its type's name
    (``type_name``) and its message, as text. The worker's own exception
    object never comes back: rebuilding it would mean unpickling what a
    possibly compromised process sent."""

    def __init__(self, type_name, message):
        super().__init__('%s: %s' % (type_name, message))
        self.type_name = type_name
        self.message = message


def _plain_value(variant):
    """The Python value of a sandboxed worker's plain-data GVariant."""
    type_string = variant.get_type_string()
    if type_string == 'ay':
        return variant.get_data_as_bytes().get_data()
    if type_string == 'v':
        return _plain_value(variant.get_variant())
    if type_string[0] not in 'm({a':
        return variant.unpack()
    items = [_plain_value(variant.get_child_value(i))
             for i in range(variant.n_children())]
    if type_string[0] == 'm':
        return items[0] if items else None
    if type_string[0] in '({':
        return tuple(items)  # a dict's entries are (key, value) pairs
    return dict(items) if type_string.startswith('a{') else items


class _PreparedSandboxedProcess(_Prepared):
    __slots__ = ()

    def value(self, gvalue):
        return _plain_value(gvalue)

    def error(self, gerror):
        data = self.gtask.get_error_detail()
        if (isinstance(data, GLib.Variant) and gerror.domain == _PYTHON_EXCEPTION_DOMAIN
                and data.get_type_string() == '(ss)'):
            return SandboxedError(*data.unpack())
        return gerror


def _add_sandbox_paths(engine):
    """Lets sandboxed workers see this program's code (sys.path, the main
    script's folder), read-only; never the home folder itself or its
    hidden folders."""
    home = os.path.realpath(os.path.expanduser('~'))
    paths = list(engine.get_worker_pool().props.sandbox_paths or [])
    main, unused = _main_for_workers()
    wanted = [path or _ORIGINAL_DIR for path in sys.path]
    if main is not None and main[0] == 'path':
        wanted.append(os.path.dirname(main[1]))
    for path in wanted:
        path = os.path.realpath(path)
        hidden = os.path.relpath(path, home).startswith('.') and path.startswith(home + os.sep)
        if os.path.isdir(path) and path != home and not hidden and path not in paths:
            paths.append(path)
    engine.get_worker_pool().set_sandbox_paths(paths)


@_export
class ProcessTask:
    """``ProcessTask(f, *args, **kwargs)``: ``f`` runs in a warm worker
    process, out of reach of this process's GIL, which is how CPU-bound
    Python runs in parallel. ``f`` must be importable (defined at the top
    level of a module or of the main script), and its arguments and result
    picklable; an exception it raises is raised again at the yield with its
    original type. A worker that dies fails only its own call, with a
    ``GLib.Error`` of ``AsyncGui.Error.WORKER_CRASHED``. A call that runs
    longer than ``engine.get_worker_pool().props.timeout_ms`` (0, the
    default: no limit) fails with a ``GLib.Error`` of ``Gio.IOErrorEnum.TIMED_OUT``,
    and its worker is killed and replaced. (Keyword arguments all go to
    ``f``, so there is no per-call ``timeout=``.)"""

    __slots__ = ('func', 'args', 'kwargs', 'target', 'sandbox', 'limits')

    def __init__(self, func, *args, **kwargs):
        self.target = _process_target(func)
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.sandbox = None
        self.limits = (0, 0)

    def limited(self, memory_limit=0, cpu_limit_ms=0):
        """Limits the call's memory (bytes) and processor time
        (milliseconds, rounded up to whole seconds); 0: no limit. A call
        past a limit fails with a ``GLib.Error`` of
        ``AsyncGui.Error.MEMORY_LIMIT`` or ``CPU_LIMIT``, and its worker is
        replaced. Returns this task."""
        for name, number in (('memory_limit', memory_limit),
                             ('cpu_limit_ms', cpu_limit_ms)):
            if not isinstance(number, int) or number < 0:
                raise ValueError('%s must be a count of 0 or more, not %r'
                                 % (name, number))
        self.limits = (memory_limit, cpu_limit_ms)
        return self

    def sandboxed(self, files=(), result_type=None, memory_limit=0, cpu_limit_ms=0):
        """Runs ``f`` in a sandboxed worker (see the guide "Handling
        untrusted input"); returns this task. ``files`` are open files,
        descriptors, paths or Gio.File objects (which this program opens to
        read): ``f`` gets them as its ``files`` keyword argument. ``f``
        returns plain data (None, bool, int, float,
        str, bytes, list, tuple, dict with str keys), of ``result_type`` (a
        GVariant type string) if given; what it raises comes back as a
        SandboxedError. ``memory_limit`` and ``cpu_limit_ms`` are
        :meth:`limited`'s."""
        if 'files' in self.kwargs:
            raise TypeError('a sandboxed ProcessTask passes its files as the keyword '
                            'argument files; do not pass one yourself')
        files = [_sandbox_file(file) for file in files]
        if result_type is not None and not GLib.VariantType.string_is_valid(result_type):
            raise ValueError('result_type %r is not a GVariant type string' % (result_type,))
        self.limited(memory_limit, cpu_limit_ms)
        self.sandbox = (files, result_type)
        return self

    __await__ = _await_self

    def _ag_prepare(self, driver):
        engine = driver.engine if driver is not None else Engine.get_default()
        _configure_python_workers(engine)
        pickled = GLib.Bytes.new(pickle.dumps((self.args, self.kwargs)))
        gtask = WorkerTaskObject.new_python(self.target, pickled)
        gtask.set_memory_limit(self.limits[0])
        gtask.set_cpu_limit_ms(self.limits[1])
        if self.sandbox is None:
            return _PreparedProcess(gtask)
        files, result_type = self.sandbox
        _add_sandbox_paths(engine)
        gtask.set_sandboxed(True)
        for file in files:
            if isinstance(file, Gio.File):
                gtask.add_file(file)
            else:
                gtask.add_fd(file if isinstance(file, int) else file.fileno())
        if result_type is not None:
            gtask.set_result_type(GLib.VariantType(result_type))
        return _PreparedSandboxedProcess(gtask)

    def __repr__(self):
        return 'ProcessTask(%s, %d args)' % (self.target, len(self.args))


def _sandbox_file(file):
    """A file to pass to a sandboxed call: a descriptor, an open file, or a
    path or Gio.File that the call opens to read."""
    if isinstance(file, (str, os.PathLike)):
        return Gio.File.new_for_path(os.fspath(file))
    if isinstance(file, (int, Gio.File)) or hasattr(file, 'fileno'):
        return file
    raise TypeError('files holds open files, descriptors, paths or Gio.File objects, not %r'
                    % (file,))


@_export
class MultiProcessTask(MultiTask):
    """``MultiProcessTask(tasks, max_workers=None, skip_errors=False,
    unordered=False)``: a MultiTask whose tasks run in worker processes.
    ``tasks`` are ProcessTasks, or Tasks of importable functions (which are
    made ProcessTasks). ``max_workers`` defaults to the number of
    processors, so that CPU-bound Python uses every core."""

    __slots__ = ()

    def __init__(self, tasks, max_workers=None, skip_errors=False, unordered=False):
        converted = [_as_process_task(task) for task in _task_list('MultiProcessTask()', tasks)]
        if max_workers is None:
            max_workers = os.cpu_count() or 1
        super().__init__(converted, max_workers, skip_errors, unordered)


def _as_process_task(task):
    if isinstance(task, ProcessTask):
        return task
    # A Task (a functools.partial); not an AsyncGui.Task object, which
    # isinstance(task, Task) also holds for.
    if isinstance(task, functools.partial):
        return ProcessTask(task.func, *task.args, **task.keywords)
    raise TypeError('MultiProcessTask() takes ProcessTasks, or Tasks of importable functions '
                    '(made ProcessTasks), not %r' % (task,))


# -- Lists of tasks ------------------------------------------------------------
#
# A list of Python Tasks runs as ONE AgMultiTask made with
# new_map_ranges(): nothing per task is made up front, and the MultiTask
# hands the workers runs of positions, sized by how long tasks take. Its
# function is called once per run (a call from C into Python costs more
# than a trivial task), runs the run's tasks and hands their values back
# in one chunk.return_values() call; an exception is the error's detail
# (_return_exception). So the values stay in C, and the MultiTask's rules
# (list order, skip_errors, the first failure in list order, rows, the
# results stream) are C's; here they are only read back.
#
# Numbers go to C packed, and C's copies read back as equal ints and
# floats. So a run whose values went packed also keeps its list here, and
# when every task succeeded and every run went packed, the job gets those
# lists joined in list order (_PyRun._values) instead of a conversion of
# each C value back into a new Python number: 100,000 of them cost the
# GUI thread a few milliseconds.
#
# A list holding anything else (a ProcessTask, an AsyncGui.Task object, a
# Job...) runs each as its own AgTask added to a plain AgMultiTask
# (_MixedRun), and reads each child's outcome through its _Prepared.

def _run_tasks(work, chunk, position, n_items):
    tasks = work.tasks
    end = position + n_items
    values = []
    extend = values.extend
    # A slice at a time, so that a stopped run stops soon, called in C:
    # extend() keeps the values before a task that raised.
    first = position
    whole = True
    previous, _tls.cancellable = getattr(_tls, 'cancellable', None), chunk.get_cancellable()
    try:
        while position < end and not (work.stopped or _exiting):
            done = len(values)
            try:
                extend(map(operator.call,
                           tasks[position:min(end, position + _SLICE)]))
            except BaseException as exc:  # noqa: B902 - it goes to the MultiTask
                _return_values(chunk, values)
                _return_exception(chunk, exc)
                whole = False
                position += len(values) - done + 1
                values.clear()
                continue
            position += len(values) - done
    finally:
        _tls.cancellable = previous
    packed = _return_values(chunk, values)
    numbers = work.numbers
    if packed and whole and numbers is not None:
        numbers.append((first, values))
    # An exception's traceback keeps this frame (the f_back of its first
    # frame): not the tasks, nor the values.
    work = tasks = values = extend = numbers = None


_SLICE = 256


# PyGObject 3.42 cannot put None in an array of GValues (it crashes
# freeing the element): None goes as a GValue holding None.
_NONE = GObject.Value(GObject.TYPE_PYOBJECT, None)


# A run of numbers of one kind: its array.array type code and GType.
_PACKED = {int: ('q', GObject.TYPE_INT64), float: ('d', GObject.TYPE_DOUBLE)}


def _return_values(chunk, values):
    """Hands ``values`` to C; returns whether they went packed."""
    if not values:
        return False
    # Numbers, the commonest values, go packed in one buffer, which
    # array.array fills in C and PyGObject passes as it is: as a list,
    # PyGObject would convert them one by one, twice as slowly. set(map(type))
    # runs in C; bool is not int here, so booleans stay booleans.
    kinds = set(map(type, values))
    packing = _PACKED.get(next(iter(kinds))) if len(kinds) == 1 else None
    if packing is not None:
        try:
            data = array.array(packing[0], values).tobytes()
        except OverflowError:
            pass  # beyond 64 bits: as objects, below
        else:
            chunk.return_packed(packing[1], data)
            return True
    if type(None) in kinds or (str in kinds and _holds_nul(values, kinds)):
        values = [_NONE if value is None else _to_gvalue(value) if type(value) is str
                  else value for value in values]
    try:
        # PyGObject makes each element a GValue in C: numbers and strings
        # of their GLib type (it would cut a str at a NUL: those went as
        # objects above), any other object GObject.TYPE_PYOBJECT.
        chunk.return_values(values)
    except (TypeError, ValueError, OverflowError):
        # A number too large for a C int: wrap them all.
        chunk.return_values([GObject.Value(GObject.TYPE_PYOBJECT, value) for value in values])
    return False


def _holds_nul(values, kinds):
    """Whether a str among ``values`` holds a NUL, which a C string cannot:
    such a str goes as the object (_to_gvalue)."""
    if len(kinds) == 1:
        return any(map(operator.contains, values, itertools.repeat('\0')))
    return any(type(value) is str and '\0' in value for value in values)


class _PyWork:
    """What the workers of a _PyRun share. The AgMultiTask owns it, so it
    must not lead back to the AgMultiTask (a cycle through C)."""

    __slots__ = ('tasks', 'stopped', 'numbers')

    def __init__(self, tasks):
        self.tasks = tasks
        self.stopped = False
        # (first position, values) of the runs that went packed; None
        # once nothing will read them back whole.
        self.numbers = []


class _Run(_Prepared):
    """A list of tasks run as one AgMultiTask. Its value is C's, in list
    order; with ``unordered``, in the order the results stream announced
    the children."""

    __slots__ = ('spec', 'driver', 'results')

    def __init__(self, spec, driver, gtask, children=()):
        self.spec = spec
        self.driver = driver
        # max_workers 0 is C's default: a short list runs every task at
        # once, as in async_gui, a long one in runs the engine sizes.
        gtask.set_max_workers(spec.max_workers)
        gtask.set_skip_errors(spec.skip_errors)
        gtask.set_unordered(spec.unordered)
        gtask.set_max_chunk_size(spec.max_chunk_size)
        for child in children:
            gtask.add(child.gtask)
        self.gtask = gtask
        self.results = gtask.open_results() if spec.unordered else None

    def value(self, gvalue):
        if self.results is None:
            return self._values()
        order = AsyncGui.ChannelReader.read(self.results, len(self.spec.tasks), 0)
        if self.gtask.get_n_failed() or not isinstance(self, _PyRun):
            # Child by child: failures are left out (or a failure only
            # Python sees raised), never shifting a value's position.
            return self._collect(order)
        values = self._values()
        return [values[position] for position in order]

    def _collect(self, positions):
        values = []
        for position in positions:
            try:
                values.append(self.child_outcome(position))
            except CancelledError:
                raise
            except BaseException:  # noqa: B902 - a failure C did not see
                if not self.spec.skip_errors:
                    raise
        return values

    def stop(self):
        self.cancel()
        if not self.gtask.is_finished():
            self.gtask.cancel()


class _PyRun(_Run):
    """A run of Python Tasks only."""

    __slots__ = ('work',)

    def __init__(self, spec, driver):
        self.work = _PyWork(spec.tasks)
        if driver is None:
            # Made for MultiTask.gtask: maybe never yielded to read back.
            self.work.numbers = None
        super().__init__(spec, driver,
                         MultiTaskObject.new_map_ranges_with_closure(
                             len(spec.tasks),
                             functools.partial(_run_tasks, self.work)))

    def _values(self):
        numbers, self.work.numbers = self.work.numbers, None
        if numbers and self.gtask.get_n_failed() == 0:
            numbers.sort()  # by first position: no two runs share one
            values = []
            for first, run in numbers:
                if first != len(values):
                    break  # a run that did not go packed
                values += run
            else:
                if len(values) == len(self.spec.tasks):
                    return values
        return self.gtask.get_values()

    def child_outcome(self, position):
        try:
            return self.gtask.get_child_value(position).value
        except GLib.Error as error:
            row = self.gtask.get_item(position)
            raise _exception_of(row, error.with_traceback(None)) from None

    def cancel(self):
        self.work.stopped = True


class _MixedRun(_Run):
    """A run whose children are not all Python Tasks: one AgTask each,
    added to a plain AgMultiTask, so the C rules apply."""

    __slots__ = ('children',)

    def __init__(self, spec, driver):
        self.children = [_prepare(item, driver, True) for item in spec.tasks]
        super().__init__(spec, driver, MultiTaskObject.new(), self.children)

    def child_outcome(self, position):
        child = self.children[position]
        return child.read(*_outcome(child.gtask, None))

    def _values(self):
        return self._collect(range(len(self.children)))

    def error(self, gerror):
        # The first failing child in list order, as C says; its own
        # _Prepared knows its exception (a ProcessTask's is pickled).
        for position, child in enumerate(self.children):
            if child.gtask.get_state() == AsyncGui.TaskState.FAILED:
                try:
                    self.child_outcome(position)
                except BaseException as exc:  # noqa: B902
                    return exc
        return gerror

    def cancel(self):
        for child in self.children:
            child.cancel()


_ONLY_TASKS = {Task}


def _make_run(spec, driver):
    tasks = spec.tasks
    # set(map(type, ...)) runs in C: ~1 ms for 100,000 tasks. A Task whose
    # AgTask was made (task.gtask, dependencies) must run that AgTask, so a
    # list holding one runs one AgTask per child.
    if not tasks or (set(map(type, tasks)) == _ONLY_TASKS
                     and (not _held_tasks or _held_tasks.keys().isdisjoint(map(id, tasks)))):
        return _PyRun(spec, driver)
    return _MixedRun(spec, driver)


async def _iterate_results(spec):
    """``async for`` over a MultiTask: it runs on the engine beside the job
    (which stays free to await other things in the loop body), and the loop
    reads the positions of its results stream, in the order the MultiTask
    announces its children."""
    driver = getattr(_tls, 'driver', None)
    if driver is None:
        raise RuntimeError('async for over a MultiTask works inside an @engine.job')
    run = spec._take_run(driver)
    if isinstance(run, _PyRun):
        run.work.numbers = None  # read child by child, never whole
    reader = run.results or run.gtask.open_results()
    driver.owned.append(run)
    # No callback: the loop reads the outcome itself.
    driver.engine.run_async(run.gtask, None, None)
    try:
        async for position in _iterate(reader):
            for value in run._collect((position,)):
                yield value
        if run.gtask.get_state() == AsyncGui.TaskState.CANCELLED:
            raise CancelledError()
    except BaseException:  # noqa: B902
        run.stop()
        raise
    finally:
        # The job owns the run while the loop runs, not for the rest of
        # its life: a job that loops again and again would keep them all.
        # (A job that ended has let its runs go already.)
        if run in driver.owned:
            driver.owned.remove(run)


# -- Sleeping ------------------------------------------------------------------

@_export
def sleep(seconds):
    """A task that sleeps ``seconds`` (an AgTask sleep: pausing the job
    stops its clock, so it keeps its remainder). Yielded or awaited by a
    job (or awaited by an asyncio task of the guest loop), its value is the
    time it waited, in seconds (a float, as the gobject coroutine recipe's
    ``sleep_task``; a pause counts); elsewhere (in a list, a dependency,
    through GI) it has no value, as any sleep task. A sleep longer than
    the library's longest, about 49 days (``float('inf')`` included), lasts
    that long: until it is cancelled, in practice."""
    if math.isnan(seconds):
        raise ValueError('sleep() needs a number of seconds, not NaN')
    gtask = TaskObject.new_sleep(round(max(0, min(seconds * 1000, 0xffffffff))))
    gtask._ag_sleep = True
    return gtask


class _PreparedSleep(_Prepared):
    """A sleep awaited by a job: its value is the seconds it waited."""

    __slots__ = ('start',)

    def __init__(self, gtask):
        super().__init__(gtask)
        self.start = GLib.get_monotonic_time()

    def value(self, gvalue):
        return (GLib.get_monotonic_time() - self.start) / 1e6


# -- Jobs ------------------------------------------------------------------------

def _to_gvalue(value):
    """A Python value for other languages (a job's value, a channel's item):
    a GValue of its natural type where there is one (bool, int, float, str,
    GObject, GLib.Variant); else, and for None or a str C cannot hold (a
    NUL, lone surrogates), a GObject.TYPE_PYOBJECT holding the very object,
    which Python readers get back as it is. A GObject.Value goes as it is."""
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
        if '\0' not in value:
            try:
                return GObject.Value(GObject.TYPE_STRING, value)
            except UnicodeError:
                pass
    elif isinstance(value, GObject.Value):
        return value
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
                 'owned', 'finished', 'value', 'exc', 'retrieved',
                 'awaiting', 'interrupt', 'await_callback', '__weakref__')

    def __init__(self, engine, job, coro, is_coroutine):
        self.engine = engine
        self.context = engine.get_context()
        self.job = job
        self.coro = coro
        self.is_coroutine = is_coroutine
        self.prepared = self.value = self.exc = None
        self.owned = []
        self.finished = self.retrieved = False
        # From just before ag_job_await_async() until its callback came: the
        # job is sure to hear from the engine again.
        self.awaiting = False
        # What struck the driver while the job awaited (see recover()): it is
        # raised into the coroutine instead of the await's outcome.
        self.interrupt = self.await_callback = None

    def step(self, value=None, exc=None):
        coro = self.coro
        previous_driver = getattr(_tls, 'driver', None)
        _tls.driver = self
        guest = _enter_asyncio(self)
        try:
            if exc is None:
                request = coro.send(value)
            else:
                before = exc.__traceback__
                try:
                    request = coro.throw(exc)
                finally:
                    # Unless it ends the job, the job's frames leave its
                    # traceback again: an AgTask may hold the exception as
                    # its error's detail, and those frames the AgTask, a
                    # cycle through C that is never freed.
                    if sys.exc_info()[1] is not exc:
                        exc.__traceback__ = before
        except (StopIteration, ReturnResult) as stop:
            self._succeed(stop.value)
        except BaseException as failure:  # noqa: B902
            if _is_cancel(failure):
                # asyncio's too: asyncio cancelled what the job awaited.
                self._end(error=_cancelled_gerror())
                return
            self.exc = failure
            self._end(error=failure)
            if isinstance(failure, (KeyboardInterrupt, SystemExit)):
                self.retrieved = True  # it goes on to the program
                if getattr(_tls, 'waits', 0):
                    # Raised here, inside job.wait(), PyGObject would handle
                    # it (exit at once, or print it): the wait raises it.
                    _tls.escaped = failure
                    return
                raise
        else:
            if _fault_hook is not None:
                _fault_hook('after-send')
            self._await(request)
        finally:
            _tls.driver = previous_driver
            _leave_asyncio(guest)

    def _await(self, request):
        try:
            if (isinstance(request, TaskObject) and getattr(request, '_ag_sleep', False)
                    and request.get_state() == AsyncGui.TaskState.PENDING):
                prepared = _PreparedSleep(request)
            else:
                prepared = _prepare(request, self)
            if prepared.gtask == self.job:
                raise RuntimeError('a job cannot await itself: it would never finish')
        except BaseException as failure:  # noqa: B902
            # Bad input is raised into the coroutine at the yield, one main
            # loop iteration later, so a coroutine that keeps yielding junk
            # cannot hang the loop.
            prepared = _failing(failure)
        self.prepared = prepared
        callback = self.await_callback
        if callback is None:
            callback = self.await_callback = _await_callback(self)
        # Nothing between this and the call can raise: from here on the
        # engine will call back.
        self.awaiting = True
        self.job.await_with_closure(prepared.gtask, None, callback)
        if _fault_hook is not None:
            _fault_hook('after-await')

    def recover(self, exc):
        """Called when ``exc`` (a KeyboardInterrupt from Ctrl-C, most
        likely) escaped the driver's own code: the job must go on awaiting
        something or end, never be left suspended with nothing to resume it.
        The exception is raised into the coroutine at its pending yield, as
        if it had struck the job's code there; a job that awaits gets it in
        place of what it awaits (its await is cancelled)."""
        while not self.finished:
            if self.awaiting:
                self.interrupt = exc
                self.job.cancel()
                return
            try:
                self.step(exc=exc)
            except BaseException as again:  # noqa: B902
                exc = again

    def _on_await_done(self, job, result):
        if _fault_hook is not None:
            _fault_hook('await-done')
        prepared, self.prepared = self.prepared, None
        if self.coro is None:
            return
        interrupt, self.interrupt = self.interrupt, None
        value = exc = None
        gvalue, error = _outcome(result, job.await_finish)
        if error is not None:
            if _is_cancelled(error):
                prepared.cancel()
                exc = interrupt if interrupt is not None else CancelledError()
            else:
                exc = prepared.error(error)
        else:
            try:
                value = prepared.value(gvalue)
            except BaseException as failure:  # noqa: B902
                exc = _without_own_frames(failure)
        # The exception's traceback keeps this frame, so the frame must not
        # keep what was awaited: its AgTask owns Python data that may hold
        # the exception, a cycle through C that Python's collector cannot
        # see (the job's frames and values would never be freed).
        prepared = gvalue = result = error = job = None
        if exc is not None:
            self.step(exc=exc)
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
        if isinstance(error, GLib.Error) and _is_cancelled(error):
            self.job.return_error(error)
        elif error is not None:
            # The job's failure carries its exception, as a Task's does.
            _return_exception(self.job, error)
            _failed_jobs.add(self)
        else:
            self.job.return_value(None if value is None else _to_gvalue(value))

    def report_unasked(self):
        """Prints the failure nobody asked for, once: when the job goes, or
        at exit for a job still kept then."""
        exc = self.exc
        if exc is not None and not self.retrieved and not isinstance(exc, CancelledError):
            self.retrieved = True
            try:
                sys.stderr.write('AsyncGui: a job failed and nobody asked for its result:\n')
                traceback.print_exception(type(exc), exc, exc.__traceback__)
            except Exception:
                pass

    __del__ = report_unasked


# Drivers of failed jobs, whose failures are reported at exit if nobody
# asked for them by then.
_failed_jobs = weakref.WeakSet()


# Called at a few points of a job's step with the point's name, when set:
# tests raise KeyboardInterrupt there as a signal could.
_fault_hook = None


def _await_callback(driver):
    """The GAsyncReadyCallback of ``driver``'s awaits.

    A signal that arrived while C code ran (Ctrl-C while the loop polled)
    raises KeyboardInterrupt at the first instruction of the next Python
    function called, before any of its code runs: a plain function given to
    C as a callback cannot catch it, and PyGObject prints and drops what a
    callback raises, so the job would never hear of its await again. So the
    callback is C all the way into a generator that is already inside its
    ``try``: min() hands each argument (the job, the result) to the
    generator's send() and only compares the zeros it gets back. What is
    raised where the generator resumes is caught there, and its count of
    arguments tells which one was lost."""
    receiver = _receive_awaits(driver)
    next(receiver)
    return functools.partial(min, key=receiver.send)


def _receive_awaits(driver):
    sends = 0         # arguments of the running callback received so far
    struck = False    # that callback's outcome is not taken: the job got an exception
    received = job = None
    while True:
        try:
            while True:
                received = _UNSET
                received = yield 0
                sends += 1
                if sends == 1:
                    driver.awaiting = False
                    job = received
                else:
                    sends = 0
                    if struck:
                        struck = False
                    else:
                        driver._on_await_done(job, received)
                    received = job = None
        except (GeneratorExit, SystemExit):
            raise
        except BaseException as exc:  # noqa: B902 - see _await_callback()
            if driver.finished and exc is driver.exc:
                # The KeyboardInterrupt that ended the job, let through: on
                # to the program (PyGObject prints it).
                raise
            if received is _UNSET:
                # It struck where the generator resumed: that argument is
                # lost, and the await is over.
                sends += 1
                driver.awaiting = False
            if sends == 2:
                sends = 0
            elif sends:
                struck = True
            received = job = None
            driver.recover(exc)


_UNSET = object()


# inspect's CO_COROUTINE | CO_ASYNC_GENERATOR, and with CO_GENERATOR the
# functions that make job bodies, without importing inspect at startup.
_CO_ASYNC = 0x80 | 0x200
_MAKES_JOB_BODIES = 0x20 | _CO_ASYNC


def _code_flags(func):
    """The co_flags of a Python function's code; 0 for other callables."""
    return getattr(getattr(func, '__code__', None), 'co_flags', 0)


def _refuse_job_body(body):
    """Raises TypeError for what looks like a job body but cannot be one:
    an async generator, or a generator or coroutine function not called."""
    if hasattr(body, '__anext__'):
        raise TypeError('an async generator cannot be a job: write an async def that '
                        'loops over it with async for')
    if _code_flags(body) & _MAKES_JOB_BODIES:
        raise TypeError('%r is a function: start a job with what calling it returns, '
                        'start_job(f(...))' % (body,))


def _check_engine_thread(engine, what, call):
    """Raises RuntimeError where the calling thread is not ``engine``'s
    (ag_engine_is_own_thread()), before C is called: there ``what``
    (``call``) is a programming error, a critical, in C. None is a job's
    engine that is gone, which has no thread to check against."""
    if engine is not None and not engine.is_own_thread():
        raise RuntimeError(
            "%s on its engine's thread (the one that runs engine.get_context(), or, while no "
            "thread does, the one that made the engine), not on %s: hand the call to that "
            "thread, e.g. GLib.idle_add(lambda: %s and False) for an engine on the default "
            "context (False ends the idle source)"
            % (what, threading.current_thread().name, call))


def _start_job(engine, coro):
    _check_engine_thread(engine, 'a job is started', 'handler()')
    if hasattr(coro, 'send') and hasattr(coro, 'throw'):
        is_coroutine = not hasattr(coro, 'gi_frame')
    else:
        # A plain function: the job ends at once with its value.
        _refuse_job_body(coro)
        value = coro

        def immediate():
            return value
            yield  # noqa: unreachable - makes this a generator
        coro = immediate()
        is_coroutine = False
    _track_engine(engine)
    job = AsyncGui.Job.new(engine)
    if job.is_finished():
        # Its engine was disposed: the job failed, and none of its code runs.
        coro.close()
        return job
    driver = _Driver(engine, job, coro, is_coroutine)
    job._ag_driver = driver
    try:
        driver.step()
    except BaseException as exc:  # noqa: B902 - KeyboardInterrupt, SystemExit
        driver.recover(exc)
        raise
    return job


class Job(AsyncGui.Job):
    """A running sequential job (AgJob). Started by calling a function
    decorated with ``@engine.job``.

    ``job.state`` is its AsyncGui.TaskState and ``job.paused`` whether
    it is paused; ``job.cancel()``,
    ``job.pause()`` and ``job.resume()`` steer it; ``job.wait(timeout)``
    blocks a script until it has finished (iterating the engine's
    context); ``job.result()`` gives the value it returned, or raises
    what ended it (its original exception, or CancelledError)."""

    def throw(self, exc):
        """Raises ``exc`` (an exception, or an exception class) into the
        job at its pending yield/await, as a generator's ``throw()``
        does: what it awaits is cancelled, and the exception arrives at
        the next delivery, like a cancel, also to a paused job. The job
        may catch it and go on; uncaught, it fails the job with it
        (a CancelledError cancels it). Raises InvalidStateError for a
        job that has finished or whose own code is running, TypeError if
        the job is not driven by Python, and RuntimeError off the
        engine's thread."""
        _check_engine_thread(self.get_engine(), 'a job is thrown into', 'job.throw(exc)')
        if isinstance(exc, type) and issubclass(exc, BaseException):
            exc = exc()
        if not isinstance(exc, BaseException):
            raise TypeError('throw() takes an exception, not %r' % (exc,))
        driver = _driver_of(self)
        if driver is None:
            raise TypeError('throw() works on jobs that run Python code')
        if driver.finished:
            raise InvalidStateError('the job has finished')
        if not driver.awaiting:
            raise InvalidStateError('the job is running its own code; raise '
                                    'the exception there')
        driver.interrupt = exc
        AsyncGui.Job.cancel(self)

    def pause(self):
        """Pauses the job: what it awaits goes on, but the job does not see
        the outcome before :meth:`resume`; a sleep keeps its remainder.
        Nothing on a job that is paused already, has finished, or was
        cancelled and has not seen the cancel yet. Raises RuntimeError off
        the engine's thread."""
        _check_engine_thread(self.get_engine(), 'a job is paused', 'job.pause()')
        AsyncGui.Job.pause(self)

    def resume(self):
        """Resumes a paused job; what arrived meanwhile is delivered at the
        next delivery. Nothing on a job that has finished, or whose pause
        a cancel lifted (once, also after the job caught the cancel).
        Raises InvalidStateError for a job that runs and is not paused
        (never paused, or resumed already), and RuntimeError off the
        engine's thread."""
        _check_engine_thread(self.get_engine(), 'a job is resumed', 'job.resume()')
        if not self.may_resume():
            raise InvalidStateError('the job is not paused: it was never paused, or was '
                                    'resumed already')
        AsyncGui.Job.resume(self)

    state = property(AsyncGui.Job.get_state,
                     doc="""The job's AsyncGui.TaskState.""")
    paused = property(AsyncGui.Job.get_paused, doc="""Whether the job is
        paused (``pause()``, ``resume()``).""")
    finished = property(AsyncGui.Job.is_finished, doc="""Whether the job
        has ended: succeeded, failed or cancelled.""")

    def wait(self, timeout=None):
        """Waits until the job has finished, at most ``timeout`` seconds
        (None: no limit). True if it finished, False on timeout.

        On the main thread, Ctrl-C stops the wait and raises
        KeyboardInterrupt here, as it stops GLib.MainLoop.run(); the job
        goes on."""
        timeout_ms = _timeout_ms(timeout)
        if threading.current_thread() is not threading.main_thread():
            return self._wait_ms(timeout_ms)
        interrupted = []
        # PyGObject's own: while the wait runs, SIGINT calls this
        # instead of raising in whatever callback runs next; leaving,
        # it raises KeyboardInterrupt (or, inside a running
        # GLib.MainLoop, quits that loop, which raises it).
        with register_sigint_fallback(lambda: interrupted.append(True)):
            deadline = GLib.get_monotonic_time() + timeout_ms * 1000
            while not interrupted:
                # In slices, for the signal handler to run soon even
                # when no Python code does meanwhile.
                slice_ms = _WAIT_SLICE_MS
                if timeout_ms >= 0:
                    left_us = max(0, deadline - GLib.get_monotonic_time())
                    slice_ms = min(slice_ms, (left_us + 999) // 1000)
                if self._wait_ms(slice_ms):
                    return True
                if 0 <= timeout_ms and GLib.get_monotonic_time() >= deadline:
                    return False
        raise KeyboardInterrupt

    def _wait_ms(self, timeout_ms):
        _tls.waits = getattr(_tls, 'waits', 0) + 1
        try:
            return AsyncGui.Job.wait(self, timeout_ms)
        except GLib.Error as error:
            if error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT):
                return False
            raise
        finally:
            _tls.waits -= 1
            escaped = getattr(_tls, 'escaped', None)
            if escaped is not None and _tls.waits == 0:
                _tls.escaped = None
                raise escaped

    def result(self, timeout=None):
        """The job's value, once it has finished (waiting up to
        ``timeout`` seconds first if given). Raises the exception that
        ended the job, CancelledError if it was cancelled, TimeoutError if
        it did not finish in time, and InvalidStateError if it is still
        running and no timeout was given."""
        exc = self.exception(timeout)
        if exc is not None:
            try:
                raise exc
            finally:
                exc = None  # as in Engine.run_finish()
        driver = _driver_of(self)
        if driver is not None:
            return driver.value
        return self.get_value()

    def exception(self, timeout=None):
        """What ended the job, or None if it succeeded (see result())."""
        if timeout is not None and not self.is_finished():
            if not self.wait(timeout):
                raise TimeoutError('the job did not finish within %s s'
                                   % timeout)
        state = self.get_state()
        if state == AsyncGui.TaskState.SUCCEEDED:
            return None
        if state == AsyncGui.TaskState.CANCELLED:
            return CancelledError()
        if state != AsyncGui.TaskState.FAILED:
            raise InvalidStateError('the job has not finished (state %s)'
                                    % state.value_nick)
        # A Python job's exception is its error's detail.
        return _exception_of(self, self.get_error())


Job = override(Job)
__all__.append('Job')


_WAIT_SLICE_MS = 100


@_export
class InvalidStateError(RuntimeError):
    """job.result() of a job that has not finished, job.resume() of a job
    that is not paused, job.throw() into a finished job."""


class Engine(AsyncGui.Engine):
    """The engine (AgEngine) that runs tasks for one GMainContext and
    delivers their results there: ``AsyncGui.Engine.get_default()`` for
    the default context. Python adds ``@engine.job``, ``start_job()`` and
    ``slot()``."""

    def job(self, func):
        """Decorator: makes ``func`` (a generator function or ``async def``)
        a job handler. Each call starts an AsyncGui.Job on this engine and
        returns it at once; the body runs up to its first yield/await right
        away, on the calling (engine's) thread."""

        @functools.wraps(func)
        def start(*args, **kwargs):
            # Before func runs: a plain function's body is the job's.
            _check_engine_thread(self, 'a job is started', 'handler()')
            return _start_job(self, func(*args, **kwargs))
        start.__ag_job__ = True
        return start

    def start_job(self, coroutine):
        """Starts a job that drives ``coroutine`` (a generator or coroutine
        object already made); returns the AsyncGui.Job."""
        if not (hasattr(coroutine, 'send') and hasattr(coroutine, 'throw')):
            _refuse_job_body(coroutine)
            raise TypeError('start_job() drives a generator or coroutine object, not %r'
                            % (coroutine,))
        return _start_job(self, coroutine)

    def slot(self, debounce_ms=0, throttle_ms=0):
        """A new :class:`Slot` on this engine: one piece of work at a
        time, the latest request winning. ``debounce_ms`` and
        ``throttle_ms`` are its properties of those names."""
        return Slot(engine=self, debounce_ms=debounce_ms, throttle_ms=throttle_ms)

    def run_async(self, task, cancellable=None, callback=None, *user_data):
        """ag_engine_run_async(): runs ``task`` (an AsyncGui.Task object,
        or a Python Task as its AgTask) on this engine and calls
        ``callback(engine, result, *user_data)`` on its context when it has
        finished; read it with :meth:`run_finish`. A task that ran already
        raises RuntimeError: a task runs once."""
        _track_engine(self)
        return _run_async(AsyncGui.Engine, self, task, cancellable, callback,
                          user_data)

    def run_finish(self, result):
        """The value of the task a run_async() callback got as ``result``
        (the task itself), or raises its GLib.Error. The value is the
        task's own: for a Python Task, the very object its function
        returned."""
        return _run_finish(AsyncGui.Engine, self, result)


Engine = override(Engine)
__all__.append('Engine')


def _run_async(cls, source, task, cancellable, callback, user_data):
    """``cls.run_async()`` of an engine or slot, with ``callback(source,
    result, *user_data)`` given to C as a GClosure. A Python Task runs as
    its AgTask; one that ran already is refused here, where C would only
    print a critical and never call back."""
    if type(task) is Task:
        task = task.gtask
    if task.get_state() != AsyncGui.TaskState.PENDING:
        raise RuntimeError('%r has run already: a task runs once' % (task,))
    if callback is None:
        return cls.run_async(source, task, cancellable, None)
    return cls.run_with_closure(
        source, task, cancellable,
        lambda source, result: callback(source, result, *user_data))


def _run_finish(cls, source, result):
    """``cls.run_finish()`` of an engine or slot, read as _outcome()
    reads it; a MultiTask's value is its list."""
    value, error = _outcome(result, functools.partial(cls.run_finish, source))
    if error is not None:
        try:
            raise error
        finally:
            # Its traceback holds this frame: no cycle through it.
            error = None
    return result.value if isinstance(result, MultiTaskObject) else value


# -- Slots -------------------------------------------------------------------
#
# A slot (AgSlot) runs one piece of work at a time, the latest request
# winning. In a job, ``value = yield slot.run(Task(f, x))`` (or ``await``)
# is one await of a main-context AgTask that hands the work to
# ag_slot_run_async() and completes in its callback: the job awaits it as
# anything else, so pausing and cancelling the job work as usual, and a
# superseded request raises CancelledError at the yield, which ends the job
# cancelled, quietly, after its finally blocks.

class _SlotRun:
    """What ``slot.run(task)`` gives: yield or await it in a job."""

    __slots__ = ('slot', 'task')

    def __init__(self, slot, task):
        self.slot = slot
        self.task = task

    __await__ = _await_self

    def _ag_prepare(self, driver):
        inner = _prepare(self.task, driver)
        gtask = inner.gtask
        if gtask.get_state() != AsyncGui.TaskState.PENDING:
            raise RuntimeError('slot.run() needs a task that has not run yet; %r has'
                               % (self.task,))
        slot = self.slot
        # Cancelled when the job's await is (job.cancel(), the engine's
        # end): the slot then cancels the request as its own.
        cancellable = Gio.Cancellable()
        outcomes = []

        def start(complete):
            def done(source, result, *unused):
                outcomes.append(_outcome(result, slot.run_finish))
                complete()
            if slot.get_task() == gtask:
                raise RuntimeError('%r already waits in the slot; a task runs once, so each '
                                   'request needs a task of its own' % (self.task,))
            AsyncGui.Slot.run_with_closure(slot, gtask, cancellable, done)

        def outcome():
            gvalue, error = outcomes.pop()
            # The job resumes one delivery after the slot's callback: a
            # request made meanwhile supersedes this one all the same.
            if error is None and not slot.is_latest(gtask):
                error = _cancelled_gerror()
            return inner.read(gvalue, error)

        return _PreparedMain(start, outcome, on_cancel=inner.cancel, stop=cancellable.cancel)

    def __repr__(self):
        return '<slot.run(%r)>' % (self.task,)


class Slot(AsyncGui.Slot):
    """One piece of work at a time, the latest request winning (AgSlot): the
    cure for stale results in a search box.

    ``slot = engine.slot(debounce_ms=200)``; then, in a job,
    ``value = yield slot.run(Task(search, text))`` (or ``await``). Each run
    cancels the request made before: that one's function sees its
    cancellable fire (``AsyncGui.current_cancellable()``), and
    its job gets CancelledError at the yield, which, left uncaught, ends the
    job cancelled without a traceback. ``slot.busy`` (``notify::busy``) is
    True while the slot has work, for a spinner; ``slot.cancel()`` cancels
    the work. The task may be anything a job yields: a Task, a list of
    tasks, a MultiTask, a ProcessTask, an AsyncGui.Task object."""

    def __init__(self, engine=None, debounce_ms=0, throttle_ms=0, **kwargs):
        if engine is not None:
            kwargs['engine'] = engine
        super().__init__(debounce_ms=debounce_ms, throttle_ms=throttle_ms, **kwargs)

    def run(self, task):
        """What a job yields (or awaits) to run ``task`` in the slot: gives
        its value, raises its exception, or CancelledError when a later
        request replaced it."""
        _track_engine(self.get_engine())
        return _SlotRun(self, task)

    def run_async(self, task, cancellable=None, callback=None, *user_data):
        """ag_slot_run_async(); ``task`` may be a Task, run as its AgTask."""
        _track_engine(self.get_engine())
        return _run_async(AsyncGui.Slot, self, task, cancellable, callback,
                          user_data)

    def run_finish(self, result):
        """The value of the task a run_async() callback got as ``result``,
        or raises its GLib.Error (CANCELLED for a replaced request)."""
        return _run_finish(AsyncGui.Slot, self, result)

    busy = property(AsyncGui.Slot.get_busy, doc="""True while the slot has
        work (its ``busy`` property).""")
    engine = property(AsyncGui.Slot.get_engine, doc="""The engine the slot
        runs its work on.""")
    debounce_ms = property(
        AsyncGui.Slot.get_debounce_ms, AsyncGui.Slot.set_debounce_ms,
        doc="""How long a request waits for a later one to replace it, in
        milliseconds (0: none).""")
    throttle_ms = property(
        AsyncGui.Slot.get_throttle_ms, AsyncGui.Slot.set_throttle_ms,
        doc="""The least time between the starts of two pieces of work, in
        milliseconds (0: none).""")


Slot = override(Slot)
__all__.append('Slot')


# -- Interpreter exit ----------------------------------------------------------
#
# Worker threads call Python (the functions of Tasks, MultiTasks and
# pipelines) and release Python data when they are done with work. Once the
# interpreter has finalized, a call from such a thread crashes the process
# (PyGObject then skips the call and hands C an undefined return value), so
# at exit, before Python finalizes: Python work stops taking new items, every
# engine Python used is disposed (its tasks end cancelled, its worker
# processes are killed), and the worker threads of all disposed engines are
# waited for, as Python waits for its own threads: a function that is
# running finishes first.

_used_engines = weakref.WeakSet()
_exiting = False
_EXIT_NOTICE_S = 3


def _track_engine(engine):
    if engine not in _used_engines:
        # An attribute makes the wrapper live as long as the engine (a
        # PyGObject toggle reference), so the set holds every engine alive.
        engine._ag_used_by_python = True
        _used_engines.add(engine)
        _warn_if_qt_cannot_deliver(engine)


# -- Qt -------------------------------------------------------------------------
#
# Qt on Linux runs its event loop on GLib's global default context, so an
# engine there delivers into a Qt application as into a GTK one, unless
# QT_NO_GLIB is set (to anything: Qt tests that it is non-empty), which
# gives Qt an event loop of its own that never runs GLib's context. Nothing
# would ever fail; results would just never arrive. Say so, once.

_QT_CORE_MODULES = ('PyQt6.QtCore', 'PyQt5.QtCore', 'PySide6.QtCore', 'PySide2.QtCore')
_qt_warned = False


def _warn_if_qt_cannot_deliver(engine):
    global _qt_warned
    if _qt_warned or not os.environ.get('QT_NO_GLIB'):
        return
    qt = next((name for name in _QT_CORE_MODULES if name in sys.modules), None)
    if qt is None or engine.get_context() != GLib.MainContext.default():
        return
    _qt_warned = True
    # Point at the caller's code, out of this module however deep it was.
    frame, level = sys._getframe(0), 1
    while frame.f_back is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    warnings.warn(
        'QT_NO_GLIB is set, so the event loop of %s does not run GLib\'s main '
        'context and this engine will never deliver a result; unset QT_NO_GLIB '
        'to use asyncgui in a Qt application' % qt.split('.')[0],
        RuntimeWarning, stacklevel=level)


def _shut_down_engines():
    global _exiting
    _exiting = True
    for driver in list(_failed_jobs):
        driver.report_unasked()
    for source in list(_sources):
        source.close()
    for engine in list(_used_engines):
        context = engine.get_context()
        # An engine whose loop another thread is running is that thread's
        # to shut down.
        if context.acquire():
            try:
                engine.run_dispose()
            finally:
                context.release()
    for loop in list(_guest_loops):
        if loop._ag_thread is threading.current_thread() or not loop._ag_thread.is_alive():
            loop._ag_detach()
    waited = 0
    while not AsyncGui.Engine.join_disposed(100):
        waited += 1
        if waited == _EXIT_NOTICE_S * 10:
            sys.stderr.write('AsyncGui: waiting for worker threads to return from the functions '
                             'they run before Python exits (Ctrl-C stops waiting)\n')
            sys.stderr.flush()


atexit.register(_shut_down_engines)


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
# Every thread's loop: at exit, the loops of threads that ended lose their
# GSource while Python still works (a loop kept in a global would free it
# as the interpreter tears itself down, and print that it could not).
_guest_loops = weakref.WeakSet()


def _enter_asyncio(driver):
    asyncio = sys.modules.get('asyncio')
    if asyncio is None:
        return None
    loop = _guest_loop(asyncio, driver.context)
    _guest.engine = weakref.ref(driver.engine)
    events = asyncio.events
    previous = events._get_running_loop()
    events._set_running_loop(loop)
    return (events, previous)


def _leave_asyncio(guest):
    if guest is not None:
        events, previous = guest
        events._set_running_loop(previous)


def _asyncio_future_for(request):
    """When an asyncio task of this thread's guest loop awaits ``request``
    (a Task, an AsyncGui.Task object, a Job, ``slot.run()``...): an asyncio
    future of its outcome. A job of its own awaits ``request``, on the
    engine of the last job that ran here (else the default engine), so it
    runs and reads as in any job. Cancelling the future (asyncio
    cancelling its task, ``wait_for()`` timing out) cancels that job, and
    so the work; work cancelled otherwise cancels the future, so asyncio
    code always sees asyncio's own CancelledError. None elsewhere: a job's
    driver takes ``request`` itself."""
    asyncio = sys.modules.get('asyncio')
    if asyncio is None:
        return None
    loop = asyncio.events._get_running_loop()
    if loop is None or not hasattr(loop, '_ag_run_once') or asyncio.current_task(loop) is None:
        return None
    engine_ref = getattr(_guest, 'engine', None)
    engine = engine_ref() if engine_ref is not None else None
    job = _start_job(engine if engine is not None else Engine.get_default(),
                     _await_one(request))
    future = loop.create_future()

    def settle(*unused):
        if future.done() or not job.is_finished():
            return
        exc = job.exception()
        if isinstance(exc, CancelledError):
            future.cancel()
        elif exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(job.result())

    def on_done(unused):
        job.disconnect(handler)
        if future.cancelled():
            job.cancel()

    handler = job.connect('notify::state', settle)
    future.add_done_callback(on_done)
    settle()
    future._asyncio_future_blocking = True
    return future


def _await_one(request):
    return (yield request)


@_export
def get_asyncio_loop():
    """The asyncio loop that runs as a guest in this thread's GLib loop
    (made on first call)."""
    import asyncio
    return _guest_loop(asyncio, GLib.MainContext.ref_thread_default())


def _guest_loop(asyncio, context):
    """This thread's guest loop, made on ``context`` if it has none yet."""
    loop = getattr(_guest, 'loop', None)
    if loop is not None:
        return loop
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
            # Due as prepare() says (ready callbacks, a timer due), or
            # the selector's descriptor readable.
            return self.prepare()[0] or bool(self.query_unix_fd(self.tag))

        def dispatch(self, callback, args):
            self.loop._ag_run_once()
            return GLib.SOURCE_CONTINUE

    def attaching(method):
        @functools.wraps(method)
        def attach_first(self, *args, **kwargs):
            self._ag_attach()
            return method(self, *args, **kwargs)
        return attach_first

    class GuestEventLoop(asyncio.SelectorEventLoop):
        def __init__(self):
            self._ag_source = None
            self._ag_attachable = False
            super().__init__(NonBlockingSelector())
            self._thread_id = threading.get_ident()   # is_running(): True
            self._ag_thread = threading.current_thread()
            self._ag_attachable = True

        def _ag_detach(self):
            self._ag_attachable = False
            source, self._ag_source = self._ag_source, None
            if source is not None:
                source.destroy()

        def _ag_attach(self):
            if self._ag_source is None and self._ag_attachable:
                self._ag_source = GuestSource(self)
                self._ag_source.set_priority(GLib.PRIORITY_DEFAULT)
                self._ag_source.attach(context)

        # What gives the loop work attaches its GSource first.
        _call_soon = attaching(asyncio.SelectorEventLoop._call_soon)
        call_at = attaching(asyncio.SelectorEventLoop.call_at)
        _add_reader = attaching(asyncio.SelectorEventLoop._add_reader)
        _add_writer = attaching(asyncio.SelectorEventLoop._add_writer)

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

    loop = _guest.loop = GuestEventLoop()
    _guest_loops.add(loop)
    return loop


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

    def stop():
        future.get_loop().call_soon_threadsafe(future.cancel)

    return _PreparedMain(start, None if awaited else future.result, on_cancel=future.cancel,
                         stop=stop)


class _TrioRun:
    """One run_trio(). Trio runs one guest run per thread at a time: a run
    asked for while another is active fails with RuntimeError, unless the
    other is ending (cancelled: its job was, or its engine disposed), in
    which case it starts when that one has ended."""

    __slots__ = ('async_fn', 'args', 'scope', 'token', 'outcome', 'cancelled', 'followers')

    def __init__(self, async_fn, args):
        self.async_fn = async_fn
        self.args = args
        self.scope = self.token = self.outcome = None
        self.cancelled = False
        self.followers = []

    __await__ = _await_self

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
            active = getattr(_guest, 'trio_run', None)
            if active is not None:
                if not active.cancelled:
                    raise RuntimeError('a trio run is already active in this thread; trio '
                                       'runs one at a time')
                active.followers.append(lambda: follow(complete))
                return

            def done(outcome):
                _guest.trio_run = None
                self.outcome = outcome
                followers, self.followers = self.followers, []
                complete()
                for follower in followers:
                    follower()

            _guest.trio_run = self
            try:
                # A GLib.MainLoop that runs takes Python's signal wake-up
                # descriptor (PyGObject does, for Ctrl-C).
                trio.lowlevel.start_guest_run(runner, run_sync_soon_threadsafe=run_soon,
                                              done_callback=done,
                                              host_uses_signal_set_wakeup_fd=True)
            except BaseException:  # noqa: B902 - raised at the await
                _guest.trio_run = None
                raise

        def follow(complete):
            # A job cancelled while it waited has gone on without this run.
            if self.cancelled:
                complete()
                return
            # What it raises is raised at the await, as when the run
            # starts at once.
            _start_main(start, complete, prepared.failure)

        def outcome():
            return self.outcome.unwrap()

        def on_cancel():
            self.cancelled = True
            if self.token is not None:
                try:
                    self.token.run_sync_soon(self.scope.cancel)
                except trio.RunFinishedError:
                    pass

        prepared = _PreparedMain(start, outcome, on_cancel, stop=on_cancel)
        return prepared


@_export
def run_trio(async_fn, *args):
    """Awaitable in a job: runs ``async_fn(*args)`` under trio as a guest of
    the GLib loop (trio.lowlevel.start_guest_run) and gives its value, or
    raises its exception. Cancelling the job cancels the trio run."""
    return _TrioRun(async_fn, args)


# -- Channels ------------------------------------------------------------------
#
# An AgChannel carries GValues. Python writes any object: int, float, bool,
# str, GObjects and GLib.Variant go in as their natural GValue types (so C,
# GJS and Vala readers see them as such), everything else (None, tuples,
# instances of Python classes, a str holding a NUL) as a
# GObject.TYPE_PYOBJECT holding the very object. PyGObject turns read
# GValues back into Python values, so what comes out is what went in: the
# same object, or an equal str or number. A GObject.Value is written as it
# is.
#
# Blocking calls (write, read, `for item in reader`) are for worker threads
# and scripts; jobs await write_item() and read_items() or use `async for`,
# which wait with write_async()/read_async() on the engine's context. A
# blocking read on the engine's thread iterates the engine's context while
# it waits (the C read does), so a script without a main loop can read
# what a pipeline or a job writes.


def _timeout_ms(timeout, block=True):
    """A timeout in seconds (None: no limit) as the library's milliseconds;
    ``block=False``, the `async` package's spelling, is a timeout of 0."""
    if type(timeout) is bool:
        # The `async` package's read(n, block) and write(item, block).
        raise TypeError('the timeout is a number of seconds, not %r: pass block=%r by name'
                        % (timeout, timeout))
    if timeout is not None and not timeout >= 0:
        # C's -1 for "no limit" is None here; a deadline already past is
        # 0, not for ever.
        raise ValueError('the timeout is 0 or more seconds, or None for no '
                         'limit, not %r' % (timeout,))
    if not block:
        return 0
    if timeout is None or timeout * 1000 >= 0x7fffffff:
        return -1
    return math.ceil(timeout * 1000)


# A read of count 0 reads everything, as in the `async` package: for C, as
# many as a guint can ask for.
_ALL = 0xffffffff


def _read_args(count, timeout, block=True):
    """The count and timeout in milliseconds of a read."""
    timeout_ms = _timeout_ms(timeout, block)
    if count < 0:
        raise ValueError('count must be 0 or more')
    return (_ALL if count == 0 and timeout_ms != 0 else count), timeout_ms


_CHANNEL_ERRORS = (
    (Gio.IOErrorEnum.BROKEN_PIPE, BrokenPipeError),
    (Gio.IOErrorEnum.TIMED_OUT, TimeoutError),
    (Gio.IOErrorEnum.WOULD_BLOCK, BlockingIOError),
    (Gio.IOErrorEnum.CLOSED, ValueError),
)


def _channel_error(error, end=None, result=None):
    """The Python exception for a channel's GError: what a Python transform
    of ``end`` (the channel or reader the call was made on; ``result``, an
    asynchronous write's) raised, itself; nobody reads any more is
    BrokenPipeError, a timeout TimeoutError, a full channel and no wait
    BlockingIOError, a closed channel or reader ValueError (like a closed
    file), cancelled CancelledError; others stay GLib.Error."""
    # Called where ``error`` was caught: it becomes the context of what is
    # raised, and its traceback holds only this module's frames.
    error = _without_own_frames(error)
    exc = _transform_exception(end, result)
    if exc is not None:
        return exc
    if _is_cancelled(error):
        return CancelledError()
    if error.matches(AsyncGui.error_quark(), AsyncGui.Error.WOULD_DEADLOCK):
        # The message names the C call to use instead.
        error.add_note('In a job, read with yield or await reader.read_items(n) '
                       '(a pipeline: pipeline.read_items(n)), which does not block.')
        return error
    for code, kind in _CHANNEL_ERRORS:
        if error.matches(Gio.io_error_quark(), code):
            exc = kind(error.message)
            exc.__cause__ = error
            return exc
    return error


def _start_on(context, start, *args):
    """Calls an _async() function so that its callback comes back on
    ``context``."""
    context.push_thread_default()
    try:
        start(*args)
    finally:
        context.pop_thread_default()


def _read_now(reader, count, timeout_ms):
    try:
        return AsyncGui.ChannelReader.read(reader, count, timeout_ms)
    except GLib.Error as error:
        raise _channel_error(error, reader)


# Transforms: translation only. The C transform gets an AgChannelTransform
# handle for its item and returns through it; _run_transform calls the
# Python function and returns what it returned, or fails the item with the
# exception as the error's detail, which the writer (or reader) that gets
# the error takes from C and raises: the same object. Taken, not read: a
# raised exception holds the frames that raised it, which lead back to the
# reader, and a reader that kept it would be kept alive by it for good (a
# cycle through C, which Python's collector cannot see).


def _transform_exception(end, result):
    """What a Python transform of ``end`` raised, taken from C; None if
    the error is not one."""
    if isinstance(end, AsyncGui.ChannelReader):
        detail = AsyncGui.ChannelReader.take_error_detail(end)
    elif isinstance(end, AsyncGui.Channel):
        detail = AsyncGui.Channel.take_write_error_detail(end, result)
    else:
        return None
    return detail if isinstance(detail, BaseException) else None


def _run_transform(func, transform, value):
    try:
        item = _to_gvalue(func(value))
    except BaseException as exc:  # noqa: B902 - it fails this item
        _return_exception(transform, _frames_as_note(exc))
        return
    transform.return_value(item)


def _frames_as_note(exc):
    """``exc`` with the frames of the transform that raised it as a note,
    not as frames: they lead back, through the callers of the read or
    write that ran the transform, to a job or a reader, and would keep
    them (and the exception, waiting in the channel) for good."""
    tb = _without_own_frames(exc).__traceback__
    if tb is not None:
        exc.add_note('Raised in the channel transform:\n' + ''.join(traceback.format_tb(tb)))
    return exc.with_traceback(None)


class _ClosedOnExit:
    """``with`` and ``async with`` close the end on the way out."""

    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        self.close()


class Channel(AsyncGui.Channel, _ClosedOnExit):
    """``AsyncGui.Channel(capacity=64)``: the write end of a bounded,
    thread-safe queue of items (AgChannel); ``channel.open_reader()`` opens
    a read end (:class:`ChannelReader`). Items are Python objects.

    Worker threads and scripts write with ``channel.write(item)``, which
    waits while the channel is full; a job awaits
    ``channel.write_item(item)``. ``channel.close()`` (or leaving a
    ``with channel:`` block, or dropping the channel) tells readers that no
    more items come. Once the last reader is gone, writing raises
    BrokenPipeError, so producers can stop."""

    def __init__(self, capacity=64, **kwargs):
        if capacity < 1:
            raise ValueError('a channel holds at least one item')
        super().__init__(capacity=capacity, **kwargs)

    def write(self, item, timeout=None, *, block=True):
        """Writes ``item`` (any Python object), waiting while the channel is
        full: as long as it takes, or ``timeout`` seconds (0, or
        ``block=False``: not at all). For worker threads and scripts: it
        blocks. Raises BrokenPipeError once nobody reads, ValueError if the
        channel is closed, TimeoutError (BlockingIOError without waiting)
        if it stayed full."""
        try:
            return AsyncGui.Channel.write(self, _to_gvalue(item), _timeout_ms(timeout, block))
        except GLib.Error as error:
            raise _channel_error(error, self)

    def write_item(self, item):
        """Awaitable in a job (``yield``/``await``): writes ``item``, waiting
        on the engine's context while the channel is full, without blocking
        it. Raises like :meth:`write`; cancelling the job stores nothing."""
        return _ChannelCall(AsyncGui.Channel.write_with_closure, _write_finish, self,
                            _to_gvalue(item))

    def set_write_transform(self, func):
        """Makes every written item ``func(item)``: ``func`` runs on the
        thread that writes, before the item takes room, and may return an
        object of any type. What it raises, the write raises (the same
        exception object), storing nothing. None removes the transform.
        Set transforms before the first write and before opening readers:
        later, RuntimeError."""
        self._set_transform(AsyncGui.Channel.set_write_transform,
                            AsyncGui.Channel.set_write_transform_with_closure, func)

    def set_read_transform(self, func):
        """Makes every item read ``func(item)``, on the thread that reads
        (for ``read_items()`` and ``async for``: the engine's). If it raises
        for an item, the read returns the items before it, and the next
        read raises the exception (the same object); the item is dropped,
        the items after it stay. None removes the transform."""
        self._set_transform(AsyncGui.Channel.set_read_transform,
                            AsyncGui.Channel.set_read_transform_with_closure, func)

    def _set_transform(self, setter, set_closure, func):
        if self.get_transforms_fixed():
            raise RuntimeError('a channel\'s transforms are set before it is first written to '
                               'and before a reader is opened')
        if func is None:
            setter(self, None)
            return
        if not callable(func):
            raise TypeError('a channel transform must be callable, not %r' % (func,))
        set_closure(self, functools.partial(_run_transform, func))


Channel = override(Channel)
__all__.append('Channel')


class ChannelReader(AsyncGui.ChannelReader, _ClosedOnExit):
    """A read end of a :class:`Channel` (AgChannelReader). Each item goes to
    exactly one reader.

    - ``for item in reader:`` (worker threads, scripts: it blocks) gives
      the items until the channel is closed and drained;
    - ``async for item in reader:`` does the same in an ``async def`` job;
    - ``items = yield reader.read_items(n)`` / ``await`` in a job;
    - ``reader.read(n, timeout)`` blocks; ``reader.read()`` gives
      everything once the channel is closed.

    ``reader.close()`` (or leaving ``with reader:``, or dropping it) closes
    this end; when the last one goes, writers get BrokenPipeError."""

    def read(self, count=0, timeout=None, *, block=True):
        """Reads up to ``count`` items (a list), blocking until they are all
        there, the channel is closed and drained, or ``timeout`` seconds
        passed (None: no limit; 0 or ``block=False``: take what waits now).
        ``count`` 0 (the default) reads everything until the channel is
        closed and drained, as the `async` package's ``read()`` does. Fewer
        items, or none, at the end: ``is_drained()`` tells the end from a
        timeout. The timeout bounds the whole read, not each item. For
        worker threads and scripts; on the engine's thread the read runs
        the engine's context while it waits. Raises ValueError if this
        reader is closed."""
        return _read_now(self, *_read_args(count, timeout, block))

    def read_items(self, count=0, timeout=None):
        """Awaitable in a job: up to ``count`` items (a list), once they are
        all there, the channel is closed and drained (fewer, then ``[]``),
        or ``timeout`` seconds passed; ``count`` 0 (the default): all of
        them until the channel is closed and drained. Cancelling the job
        loses no item: what the read had taken goes back to the channel."""
        return _read_items(self, count, timeout)

    def __iter__(self):
        # One item per read: nothing is taken that a loop left early
        # would lose.
        while True:
            items = _read_now(self, 1, -1)
            if items:
                yield items[0]
            elif self.is_drained():
                return

    def __aiter__(self):
        return _iterate(self)


ChannelReader = override(ChannelReader)
__all__.append('ChannelReader')


class _ChannelCall:
    """Awaitable in a job: ``call(*args, cancellable, callback)``, an
    _async() method of a channel or reader (``args[0]``), on the job's
    context, giving what ``finish`` gives. ``pipeline`` is the Pipeline
    whose output a read reads, if any: the await starts it, and it says how
    its drained output ended."""

    __slots__ = ('call', 'finish', 'args', 'pipeline')

    def __init__(self, call, finish, *args, pipeline=None):
        self.call = call
        self.finish = finish
        self.args = args
        self.pipeline = pipeline

    __await__ = _await_self

    def _ag_prepare(self, driver):
        call, finish, args, pipeline = self.call, self.finish, self.args, self.pipeline
        if pipeline is not None:
            pipeline._start(driver)
        context = driver.context if driver is not None else GLib.MainContext.ref_thread_default()
        cancellable = Gio.Cancellable()
        # The call's result, finished only by whoever takes its outcome: the
        # job, or the cancel (from any thread), which finishes a cancelled
        # read so that C puts the items it got back in the channel.
        ended = []

        def cancel():
            cancellable.cancel()
            if ended:
                try:
                    finish(*ended.pop())
                except GLib.Error:
                    pass

        def start(complete):
            def done(source, result, *unused):
                ended.append((source, result))
                if cancellable.is_cancelled():
                    cancel()
                complete()
            _start_on(context, call, *args, cancellable, done)

        def result():
            try:
                source, res = ended.pop()
            except IndexError:
                raise CancelledError() from None
            try:
                got = finish(source, res)
            except GLib.Error as error:
                raise _channel_error(error, args[0], res)
            if pipeline is not None and (args[1] == _ALL or not got) and args[0].is_drained():
                return got + pipeline._end()
            return got

        # Cancelled when the job's await is, at once: a read that ended
        # after that takes no item, a write stores nothing. A read that
        # ended before (the job was paused) is finished cancelled inside
        # the job's cancel, which cancels the AgTask's cancellable then:
        # its items go back before a job the caller starts next reads.
        return _PreparedMain(start, result, on_cancel=cancel, stop=cancel)


def _write_finish(channel, result):
    AsyncGui.Channel.write_finish(channel, result)


def _read_items(reader, count, timeout, pipeline=None):
    return _ChannelCall(AsyncGui.ChannelReader.read_with_closure,
                        AsyncGui.ChannelReader.read_finish, reader,
                        *_read_args(count, timeout), pipeline=pipeline)


async def _iterate(reader, pipeline=None):
    """``async for`` over a reader or a Pipeline: an item waiting in the
    channel comes at once; when none does, it awaits a read of one (for a
    pipeline: demand for one more output). One item at a time, so a loop
    left early leaves the rest in the channel. A pipeline whose loop ends
    at an await (its job cancelled) stops: a job kept after that would
    keep it running otherwise. Items that wait are taken at once for a
    delivery budget's time; then a read goes through the engine's delivery
    all the same, so that a backlog does not hold the main loop. A job
    that is paused, or was cancelled and has not heard of it yet, gets no
    waiting item at once either: the read's await holds it until the
    resume, or ends with the cancel (and gives the item back)."""
    job = getattr(getattr(_tls, 'driver', None), 'job', None)
    pending = job.is_cancel_pending if job is not None else bool
    paused = job.get_paused if job is not None else bool
    streak_end = GLib.get_monotonic_time() + _STREAK_US
    while True:
        try:
            items = (_read_now(reader, 1, 0) if GLib.get_monotonic_time() < streak_end
                     and not pending() and not paused() else None)
            if not items:
                items = await _read_items(reader, 1, None, pipeline)
                streak_end = GLib.get_monotonic_time() + _STREAK_US
        except BaseException:  # noqa: B902 - raised again
            if pipeline is not None:
                pipeline.close()
            raise
        if not items:
            return
        yield items[0]


# The engine's default delivery budget.
_STREAK_US = 2000


# -- Pipelines -----------------------------------------------------------------
#
# AsyncGui.pipe(func, source) is an AgPipeline whose function is a Python
# trampoline: it calls func and ends the input through its AgChunk handle,
# as a task function does: chunk.return_value() with the output or, when
# func raised, chunk.return_error_full() with a GError that describes the
# exception and a detail that carries it. The C pipeline orders the
# failure after the outputs before it and hands it, detail and all,
# through the later stages; the reader raises the very exception.
#
# A Python iterable source is runtime, not a rule: it is advanced on the
# engine's thread into a channel of capacity 1 that the first stage reads.

class _Failure:
    """The detail of a failure a Python pipeline function (or source)
    raised: the exception, for the first Python reader to take. C keeps
    the detail, and the exception's traceback, once raised, leads to the
    reader's frames and so back to the pipeline: a cycle through C that is
    never collected. So the reader takes the exception out, and its
    Pipeline keeps it instead."""

    __slots__ = ('exc',)

    def __init__(self, exc):
        self.exc = exc


def _fail_input(chunk, failure):
    chunk.return_error_full(_python_gerror(failure.exc),
                            GObject.Value(GObject.TYPE_PYOBJECT, failure))


_ASYNC_STAGE = ('a pipeline stage function runs on a worker thread and returns its output, '
                'not a coroutine: %r is async')


def _run_stage(stage, chunk, item):
    func, apply_single = stage
    if type(item) is _Failure:
        _fail_input(chunk, item)
        return
    try:
        if apply_single:
            output = func(item)
            if type(output) is types.CoroutineType:
                output.close()
                raise TypeError(_ASYNC_STAGE % (func,))
            output = _to_gvalue(output)
        else:
            # A whole chunk arrives as a GLib.Array that PyGObject cannot
            # read: its items come from the handle. A source's failure can
            # only be its last item.
            items = chunk.dup_items()
            failure = items.pop() if type(items[-1]) is _Failure else None
            for output in func(items) if items else ():
                chunk.emit(_to_gvalue(output))
            if failure is not None:
                _fail_input(chunk, failure)
            else:
                chunk.return_nothing()
            return
    except BaseException as exc:  # noqa: B902 - it fails this input
        _fail_input(chunk, _Failure(exc))
        # The exception's traceback keeps this frame, which must not keep
        # the handle.
        chunk = None
        return
    chunk.return_value(output)


def _refuse_arguments(call, refused):
    for name in refused:
        # The `async` package's Task spelled it so; here it is the C
        # property's name, the same in every language.
        if name == 'max_chunksize':
            raise TypeError("%s has no argument 'max_chunksize': it is spelled "
                            "'max_chunk_size' here" % call)
        raise TypeError('%s got an unexpected keyword argument %r' % (call, name))


def _new_stage(make, func, min_count, max_chunk_size, apply_single,
               max_workers, capacity, refused):
    _refuse_arguments('pipe()', refused)
    if capacity < 1:
        raise ValueError('capacity must be 1 or more')
    if not callable(func):
        raise TypeError('a pipeline stage needs a function, not %r' % (func,))
    if _code_flags(func) & _CO_ASYNC:
        raise TypeError(_ASYNC_STAGE % (func,))
    if min_count < 1:
        raise ValueError('min_count must be 1 or more')
    for name, number in (('max_chunk_size', max_chunk_size), ('max_workers', max_workers)):
        if number < 0:
            raise ValueError('%s must be 0 or more' % name)
    gtask = make(functools.partial(_run_stage, (func, bool(apply_single))))
    gtask.set_min_count(int(min_count))
    gtask.set_max_chunk_size(int(max_chunk_size))
    gtask.set_apply_single(bool(apply_single))
    gtask.set_max_workers(int(max_workers))
    return gtask


class _Source:
    """A pipeline's Python source and the _feed() job that advances it."""

    __slots__ = ('iterator', 'feed', '__weakref__')

    def __init__(self, iterator):
        self.iterator = iterator
        self.feed = None  # a weak reference to the _feed() generator

    def close_iterator(self):
        getattr(self.iterator, 'close', lambda: None)()

    def close(self):
        """At exit: the feeding job first, so that its channel is closed
        while Python still works (not as the interpreter tears it down),
        then the iterator."""
        feed = self.feed() if self.feed is not None else None
        for close in (getattr(feed, 'close', None), self.close_iterator):
            try:
                if close is not None:
                    close()
            except ValueError:
                pass  # it is running: the exit came from inside it


# The sources being fed: the exit stops their pipelines early, and closes
# them as a cancel does (a generator's finally blocks run).
_sources = weakref.WeakSet()


def _feed(source, channel):
    """A job that advances a Python iterable on the engine's thread into
    the channel the first stage reads, one write at a time: so the iterable
    runs at most two items ahead of what the pipeline took. What it raises
    goes down the channel as the last item, a _Failure, which fails the
    first stage at that place. When the pipeline stops taking items, the
    iterable is closed."""
    iterator = source.iterator
    with channel:
        while iterator is not None:
            try:
                value = next(iterator)
            except StopIteration:
                return
            except BaseException as exc:  # noqa: B902 - raised where the output is read
                value, iterator = _Failure(exc), None
            try:
                yield channel.write_item(value)
            except (BrokenPipeError, ValueError, CancelledError):
                source.close_iterator()
                return


def _start_feeding(iterator, channel):
    """Starts _feed() when the first stage starts, on its engine."""
    def on_state(gtask, *unused):
        if gtask.get_state() == AsyncGui.TaskState.RUNNING and not started:
            source = _Source(iterator)
            feed = _feed(source, channel)
            source.feed = weakref.ref(feed)
            _sources.add(source)
            started.append(_start_job(gtask.get_engine(), feed))
    started = []
    return on_state


@_export
def pipe(func, source=None, *, min_count=1, max_chunk_size=0, apply_single=True,
         max_workers=0, capacity=64, engine=None, **refused):
    """A :class:`Pipeline` that passes the items of ``source`` through
    ``func`` on worker threads, as fast as its output is read
    (ag_pipeline_new*()). ``source`` is:

    - ``None``: the numbers 0, 1, 2, ... without end; an int ``n``: 0 .. n-1;
    - a Python iterable, advanced on the engine's thread only as the
      pipeline takes items (at most two ahead), so it may be endless;
    - an :class:`AsyncGui.ChannelReader` (the pipeline closes it when it
      stops), a ``Gio.ListModel`` (its objects), or a Pipeline
      (``source.pipe(func, ...)``).

    ``func(item)`` returns the output for ``item``; with
    ``apply_single=False`` it gets a whole chunk as a list and returns a
    list (an iterable) of any number of outputs. It runs under the GIL like
    any Python thread (on the engine's thread in serial mode). What it
    raises at input k is raised where the output is read, after the
    outputs of the inputs before k. ``min_count``: run at least that many
    inputs per read (work ahead); ``max_chunk_size``: most inputs per
    function call of a worker (0: the default, 4096; the `async` package's
    ``max_chunksize`` spelling raises TypeError); ``max_workers``: chunks
    at once (0: the engine's threads); ``capacity``: of the output channel.
    The pipeline runs on ``engine``, or that of the job that first reads it
    (else the default engine)."""
    if isinstance(source, Pipeline):
        return source.pipe(func, min_count=min_count, max_chunk_size=max_chunk_size,
                           apply_single=apply_single, max_workers=max_workers,
                           capacity=capacity, **refused)
    on_state = None
    new = PipelineObject.new_with_closure
    if source is None:
        make = functools.partial(PipelineObject.new_range_with_closure, -1)
    elif isinstance(source, int) and not isinstance(source, bool):
        if source < 0:
            raise ValueError('a pipeline over range(n) needs n >= 0 '
                             '(None: no end)')
        make = functools.partial(PipelineObject.new_range_with_closure,
                                 source)
    elif isinstance(source, AsyncGui.ChannelReader):
        make = functools.partial(new, source)
    elif isinstance(source, Gio.ListModel):
        make = functools.partial(PipelineObject.new_model_with_closure,
                                 source)
    else:
        try:
            iterator = iter(source)
        except TypeError:
            raise TypeError('a pipeline reads None, an int, an iterable, a '
                            'ChannelReader, a Gio.ListModel or a Pipeline, '
                            'not %r' % (source,)) from None
        channel = Channel.new(1)
        on_state = _start_feeding(iterator, channel)
        make = functools.partial(new, channel.open_reader())
    gtask = _new_stage(make, func, min_count, max_chunk_size, apply_single,
                       max_workers, capacity, refused)
    if on_state is not None:
        gtask.connect('notify::state', on_state)
    return Pipeline(gtask, capacity, engine)


@_export
class Pipeline:
    """What :func:`pipe` returns: the last stage of a pipeline and a reader
    of its output. It runs when it is first read, and only as far as it is
    read: a read of n outputs runs about n inputs (at least
    ``min_count``).

    In a job: ``async for y in p:`` gives the outputs in input order;
    ``ys = yield p.read_items(n)`` / ``await`` gives up to n (fewer at the
    end, then ``[]``); ``ys = yield p`` / ``await p`` gives all of them.
    In a script or a worker thread: ``for y in p:``, ``p.read(n)`` and
    ``p.read()`` (all of them) block; in a script they run the engine
    while they wait, so no main loop is needed. The exception ``func``
    raised is raised once the outputs before it were read; a cancelled
    pipeline raises CancelledError.

    ``p.pipe(func2, ...)`` adds a stage and returns it (read that one);
    ``p.cancel()`` cancels it; ``p.close()``, or dropping ``p``, stops
    reading, which cancels a running pipeline and the stages before it.
    ``p.gtask`` is the AgPipeline (``AsyncGui.PipelineObject``) of the last
    stage; its value is the number of outputs."""

    __slots__ = ('gtask', '_reader', '_capacity', '_engine', '_state', '_error')

    def __init__(self, gtask, capacity, engine):
        self.gtask = gtask
        self._capacity = capacity
        self._engine = engine
        self._reader = gtask.open_output(capacity)
        self._state = 'new'
        self._error = None

    def pipe(self, func, *, min_count=1, max_chunk_size=0, apply_single=True,
             max_workers=0, capacity=64, **refused):
        """Adds a stage that passes this pipeline's outputs through ``func``
        (ag_pipeline_add_stage()), with the options of :func:`pipe`, and
        returns it: read the new stage, not this one. Running it runs this
        one; a failure here reaches the new stage after the outputs before
        it."""
        if self._state != 'new':
            raise RuntimeError('pipe() adds a stage to a pipeline that nobody read, piped or '
                               'closed yet')
        make = functools.partial(self.gtask.add_stage_with_closure,
                                 self._capacity)
        gtask = _new_stage(make, func, min_count, max_chunk_size,
                           apply_single, max_workers, capacity, refused)
        # The new stage has its own reader of our output now.
        self._reader.close()
        self._reader = None
        self._state = 'piped'
        return Pipeline(gtask, capacity, self._engine)

    def _check_readable(self):
        if self._state == 'piped':
            raise RuntimeError('this pipeline feeds a later stage: read that one')
        if self._state == 'closed':
            raise ValueError('the pipeline was closed')

    def _start(self, driver):
        self._check_readable()
        self._state = 'reading'
        gtask = self.gtask
        if gtask.get_state() == AsyncGui.TaskState.PENDING:
            engine = self._engine
            if engine is None:
                engine = driver.engine if driver is not None else Engine.get_default()
            engine.run_async(gtask, None, None)

    def _end(self):
        """The outcome once the output is drained: ``[]`` or an exception."""
        gtask = self.gtask
        state = gtask.get_state()
        if state == AsyncGui.TaskState.FAILED:
            if self._error is None:
                detail = gtask.get_error_detail()
                if isinstance(detail, _Failure) and detail.exc is not None:
                    self._error, detail.exc = detail.exc, None
                else:
                    self._error = _channel_error(gtask.get_error())
            raise self._error
        if state == AsyncGui.TaskState.CANCELLED:
            raise CancelledError()
        return []

    def read(self, count=0, timeout=None, *, block=True):
        """Blocks until the next ``count`` outputs are there (a list; fewer
        when the pipeline ended or ``timeout`` seconds passed), or, with
        ``count`` 0 (the default), until the pipeline ended: then it gives
        every output, or raises what ended it badly. Raises that (``func``'s
        exception, CancelledError) when no output before it is left. Starts
        the pipeline on its engine (the default one) if nobody did; on the
        engine's thread (a script's main thread) it runs the engine while
        it waits, so no main loop is needed."""
        self._start(None)
        items = _read_now(self._reader, *_read_args(count, timeout, block))
        if (count == 0 or not items) and self._reader.is_drained():
            return items + self._end()
        return items

    def __iter__(self):
        """Blocking iteration over the outputs, one read at a time (see
        :meth:`read`)."""
        while True:
            items = self.read(1)
            if not items:
                return
            yield items[0]

    def read_items(self, count=0, timeout=None):
        """Awaitable in a job: the next ``count`` outputs (a list); fewer
        when the pipeline ended or ``timeout`` seconds passed, then ``[]``
        once it ended well. Raises what ended it badly (``func``'s
        exception, CancelledError) when no output before it is left.
        ``count`` 0 (the default) gives every output once the pipeline
        ended, or raises what ended it badly; ``await p`` is the same."""
        self._check_readable()
        return _read_items(self._reader, count, timeout, self)

    def __aiter__(self):
        self._check_readable()
        return _iterate(self._reader, self)

    __await__ = _await_self

    def _ag_prepare(self, driver):
        return self.read_items()._ag_prepare(driver)

    def cancel(self):
        """Cancels the pipeline (and so the stages before it): a reader
        gets what was already written, then CancelledError."""
        self.gtask.cancel()

    def close(self):
        """Stops reading: closes the output's reader, which cancels a
        running pipeline and the stages before it. Reading afterwards
        raises ValueError."""
        if self._state == 'piped':
            return
        self._state = 'closed'
        if self._reader is not None:
            self._reader.close()

    def __repr__(self):
        return '<AsyncGui.Pipeline %s (%s)>' % (self._state,
                                                self.gtask.get_state().value_nick)
