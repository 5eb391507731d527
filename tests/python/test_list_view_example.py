#!/usr/bin/python3
# test_list_view_example.py: examples/python/list-view.py, a GtkListView
# bound to a MultiTask of Python Tasks, shows each row's value as it
# arrives. The window runs in this process (under Xvfb in the suite: see
# build-aux/with-display.sh); the test reads the texts of the row widgets
# at every frame.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import importlib.util
import os
import sys
import time
import unittest

import agtest
import gi

try:
    gi.require_version('Gdk', '4.0')
    gi.require_version('Gtk', '4.0')
    from gi.repository import Gdk, Gtk
    HAVE_DISPLAY = Gtk.init_check() and Gdk.Display.get_default() is not None
except (ImportError, ValueError):
    HAVE_DISPLAY = False

from gi.repository import GLib  # noqa: E402

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
                       'examples', 'python', 'list-view.py')


def load_example():
    spec = importlib.util.spec_from_file_location('list_view_example', EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@unittest.skipUnless(HAVE_DISPLAY, 'no display (run under build-aux/with-display.sh)')
class ListViewExampleTest(unittest.TestCase):

    def test_rows_show_the_values_as_they_arrive(self):
        example = load_example()
        count = 24
        window = example.ValuesWindow(None, count=count, delay_s=0.03, max_workers=2)
        frames = []
        window.add_tick_callback(lambda widget, clock: frames.append(window.row_texts())
                                 or GLib.SOURCE_CONTINUE)
        window.present()
        job = window.start()

        context = GLib.MainContext.default()
        deadline = time.monotonic() + agtest.SAFETY_S

        def settled():
            texts = window.row_texts()
            return job.finished and texts and example.PENDING not in texts

        while not settled():
            self.assertLess(time.monotonic(), deadline, 'the rows did not all show values')
            context.iteration(True)
        self.assertEqual(job.result(), None)

        expected = ['%d² = %d' % (i, i * i) for i in range(count)]
        texts = window.row_texts()
        # The rows on screen, each showing its own value, none twice.
        self.assertGreater(len(texts), 3)
        self.assertNotIn('None', texts)
        self.assertEqual(sorted(texts, key=expected.index), expected[:len(texts)])
        self.assertEqual(len(set(texts)), len(texts))
        # Its values, awaited: the very objects the rows show.
        self.assertEqual([str(value) for value in window.values], expected)

        # Rows were on screen before their values, and some frame showed
        # some values while others were still coming.
        shown = [texts for texts in frames if texts]
        self.assertTrue(shown)
        self.assertTrue(any(example.PENDING in texts for texts in shown))
        self.assertTrue(any(example.PENDING in texts
                            and any(text != example.PENDING for text in texts)
                            for texts in shown),
                        'no frame showed values while others were still coming')
        window.destroy()
        agtest.drain(context)


    def test_a_row_whose_task_failed_shows_why(self):
        from gi.repository import AsyncGui
        example = load_example()
        multi = AsyncGui.MultiTask([AsyncGui.Task(refuse, 1),
                                    AsyncGui.Task(example.measure, 2, 0.05)], skip_errors=True)
        rows = multi.gtask
        labels = [example.RowLabel(), example.RowLabel()]
        for position, label in enumerate(labels):
            label.bind(rows.get_item(position))
        self.assertEqual([label.get_label() for label in labels], [example.PENDING] * 2)

        @example.engine.job
        async def run():
            return await multi

        job = run()
        context = GLib.MainContext.default()
        deadline = time.monotonic() + agtest.SAFETY_S
        while not job.finished:
            self.assertLess(time.monotonic(), deadline)
            context.iteration(True)
        agtest.drain(context)
        # Each row followed its task to its end, a failure too.
        self.assertIn('no square for 1', labels[0].get_label())
        self.assertEqual(labels[1].get_label(), '2² = 4')
        for label in labels:
            label.unbind()


def refuse(index):
    time.sleep(0.05)
    raise ValueError('no square for %d' % index)

if __name__ == '__main__':
    sys.exit(agtest.main(ListViewExampleTest))
