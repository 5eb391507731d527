#!/usr/bin/python3
# list-view.py: a GtkListView bound to a MultiTask of Python Tasks
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A MultiTask is a GListModel of its children, which are AsyncGui.Task
# objects, one row each. A Python Task's value is its AgTask's value (the
# very object the function returned), and the state property is notified
# when the task ends, its value (or error) set by then, so each row shows
# its value, or why it failed, as it ends:
#
#     multi = MultiTask([Task(measure, i) for i in range(n)], max_workers=2)
#     view = Gtk.ListView(model=Gtk.NoSelection(model=multi.gtask), ...)
#     # bind: label.set_label(text of row); connect notify::state
#     values = await multi          # the same run: the list of values
#
# Rows whose task has not finished show "…". The factory reads row.value
# (row.get_value() would do as well): with PyGObject 3.42 row.props.value
# keeps a reference to the value each time it is read.
#
# Headless use: `--auto` quits once every value is shown, printing the
# text of each row widget (exit 1 if one does not show its value). Without
# a display it exits 77, which Meson counts as a skip; run it under
# build-aux/with-display.sh. tests/python/test_list_view_example.py drives
# the window in-process and reads its rows as the values arrive.

import argparse
import sys
import time

import gi

gi.require_version('AsyncGui', '1')
gi.require_version('Gdk', '4.0')
gi.require_version('Gtk', '4.0')
from gi.repository import AsyncGui, Gdk, GLib, Gtk  # noqa: E402
from gi.repository.AsyncGui import MultiTask, Task  # noqa: E402

EXIT_SKIP = 77
PENDING = '…'

engine = AsyncGui.Engine.get_default()


class Measurement:
    """What a task returns: a plain Python object, which reaches the row
    as itself."""

    def __init__(self, index, square):
        self.index = index
        self.square = square

    def __str__(self):
        return '%d² = %d' % (self.index, self.square)


def measure(index, delay_s):
    """Runs on a worker thread."""
    time.sleep(delay_s)
    return Measurement(index, index * index)


def row_text(row):
    state = row.get_state()
    if state == AsyncGui.TaskState.SUCCEEDED:
        return str(row.value)
    if state in (AsyncGui.TaskState.FAILED, AsyncGui.TaskState.CANCELLED):
        return row.get_error().message
    return PENDING


class RowLabel(Gtk.Label):
    """The widget of one row: shows the value of the row it is bound to,
    now and when it arrives."""

    def __init__(self):
        super().__init__(xalign=0)
        self.row = None
        self.handler = 0

    def bind(self, row):
        self.row = row
        self.handler = row.connect('notify::state', self.on_state)
        self.set_label(row_text(row))

    def unbind(self):
        if self.row is not None:
            self.row.disconnect(self.handler)
        self.row = None
        self.handler = 0

    def on_state(self, row, pspec):
        self.set_label(row_text(row))


class ValuesWindow(Gtk.ApplicationWindow):
    def __init__(self, app, count=24, delay_s=0.03, max_workers=2):
        super().__init__(application=app, title='Values as they arrive — asyncgui (Python)')
        self.set_default_size(480, 640)
        self.values = None

        self.multi = MultiTask([Task(measure, i, delay_s) for i in range(count)],
                               max_workers=max_workers)

        factory = Gtk.SignalListItemFactory()
        factory.connect('setup', lambda f, item: item.set_child(RowLabel()))
        factory.connect('bind', lambda f, item: item.get_child().bind(item.get_item()))
        factory.connect('unbind', lambda f, item: item.get_child().unbind())
        self.view = Gtk.ListView(model=Gtk.NoSelection(model=self.multi.gtask), factory=factory)

        self.status = Gtk.Label(xalign=0, label='Measuring %d values…' % count)
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=8)
        for side in ('top', 'bottom', 'start', 'end'):
            getattr(box, 'set_margin_' + side)(12)
        box.append(self.status)
        box.append(Gtk.ScrolledWindow(child=self.view, vexpand=True))
        self.set_child(box)

    def start(self):
        return self.run()

    @engine.job
    async def run(self):
        # The very run the list view shows: awaiting it gives its values.
        values = await self.multi
        self.values = values
        self.status.set_label('Done: the squares add up to %d' % sum(v.square for v in values))

    def row_texts(self):
        """The texts of the row widgets the list view shows."""
        texts = []
        widget = self.view.get_first_child()
        while widget is not None:
            child = widget.get_first_child()
            if isinstance(child, RowLabel):
                texts.append(child.get_label())
            widget = widget.get_next_sibling()
        return texts


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--auto', action='store_true',
                        help='start at once, print the rows when done and quit')
    parser.add_argument('--count', type=int, default=24)
    options = parser.parse_args(argv[1:])

    if Gdk.Display.get_default() is None:
        print('no display', file=sys.stderr)
        return EXIT_SKIP

    app = Gtk.Application(application_id='org.gnome.AsyncGui.ListViewPython')
    outcome = []

    def check_done(window):
        if window.values is None:
            return GLib.SOURCE_CONTINUE
        texts = window.row_texts()
        if not texts or any(text == PENDING for text in texts):
            return GLib.SOURCE_CONTINUE
        for text in texts:
            print(text)
        outcome.append(all(text not in (PENDING, 'None') for text in texts))
        app.quit()
        return GLib.SOURCE_REMOVE

    def activate(app):
        window = ValuesWindow(app, count=options.count)
        window.present()
        window.start()
        if options.auto:
            GLib.timeout_add(50, check_done, window)

    app.connect('activate', activate)
    app.run([argv[0]])
    if options.auto:
        return 0 if outcome and outcome[0] else 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
