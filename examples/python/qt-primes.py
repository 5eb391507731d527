#!/usr/bin/python3
# qt-primes.py: asyncgui in a PyQt6 window
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Qt on Linux runs its event loop on GLib's global default main context, so
# an asyncgui engine bound to that context (AsyncGui.Engine.get_default())
# delivers into a Qt application unchanged. This window counts the primes
# below a limit in chunks on worker threads; one @engine.job handler shows
# "Working…", moves a QProgressBar as each chunk arrives and writes the
# total into a QLabel:
#
#     label "Working…" → MultiTask of chunks (async for, as they finish)
#                      → progress bar per chunk → label with the total
#
# Two Qt settings keep asyncgui from delivering: QT_NO_GLIB=1 (Qt's own
# event loop, which never runs GLib's context; the binding warns), and an
# always-ready 0 ms QTimer, which outranks delivery until results have
# waited the engine's max-delivery-delay-ms. The window runs such a timer
# (a common Qt idiom for "work when idle") to show that results still come.
#
# Headless use: `--auto` starts at once, prints what the label and the
# progress bar show at the end, and quits (exit 0 when both are complete).
# Run it with QT_QPA_PLATFORM=offscreen where there is no display. Without
# PyQt6 (Debian: python3-pyqt6) it exits 77, which Meson counts as a skip.

import argparse
import math
import sys

import gi

gi.require_version('AsyncGui', '1')
from gi.repository import AsyncGui  # noqa: E402
from gi.repository.AsyncGui import MultiTask, Task  # noqa: E402

EXIT_SKIP = 77

try:
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import (QApplication, QLabel, QMainWindow, QProgressBar,
                                 QPushButton, QVBoxLayout, QWidget)
except ImportError as error:
    print('qt-primes: PyQt6 is not available (%s); nothing to show' % error)
    sys.exit(EXIT_SKIP)

engine = AsyncGui.Engine.get_default()


# -- Worker-thread function: plain Python, no Qt ------------------------------

def count_primes(low, high):
    """How many primes p with low <= p < high, by trial division."""
    count = 0
    for n in range(max(low, 2), high):
        if n % 2 == 0:
            count += n == 2
            continue
        root = math.isqrt(n)
        divisor = 3
        while divisor <= root and n % divisor:
            divisor += 2
        count += divisor > root
    return count


# -- The window: Qt widgets, touched on the GUI thread only -------------------

class Window(QMainWindow):
    def __init__(self, options):
        super().__init__()
        self.options = options
        self.outcome = None
        self.idle_ticks = 0
        self.setWindowTitle('asyncgui in Qt: counting primes')

        self.label = QLabel('Press Start to count the primes below %d' % options.limit)
        self.progress = QProgressBar()
        self.progress.setRange(0, options.chunks)
        self.progress.setValue(0)
        self.start_button = QPushButton('Start')
        self.start_button.clicked.connect(self.start)

        layout = QVBoxLayout()
        for widget in (self.label, self.progress, self.start_button):
            layout.addWidget(widget)
        central = QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)

        # "Work when idle": always ready, at Qt's default priority.
        self.idle_timer = QTimer(self)
        self.idle_timer.setInterval(0)
        self.idle_timer.timeout.connect(self.on_idle)
        self.idle_timer.start()

    def on_idle(self):
        self.idle_ticks += 1

    def start(self):
        self.job = self.count()

    @engine.job
    async def count(self):
        """The whole run, as one sequential handler."""
        self.start_button.setEnabled(False)
        self.label.setText('Working…')
        limit, chunks = self.options.limit, self.options.chunks
        step = -(-limit // chunks)
        total = done = 0
        async for count in MultiTask([Task(count_primes, low, min(low + step, limit))
                                      for low in range(0, limit, step)],
                                     unordered=True):
            total += count
            done += 1
            self.progress.setValue(done)
        self.label.setText('%d primes below %d' % (total, limit))
        self.start_button.setEnabled(True)
        self.outcome = (total, done)
        if self.options.auto:
            QTimer.singleShot(0, self.finish_auto)
        return total

    def finish_auto(self):
        print('label: %s' % self.label.text())
        print('progress: %d of %d' % (self.progress.value(), self.progress.maximum()))
        print('a 0 ms QTimer ticked %d times meanwhile' % self.idle_ticks)
        complete = (self.outcome is not None
                    and self.progress.value() == self.progress.maximum())
        QApplication.instance().exit(0 if complete else 1)


def parse_args(argv):
    parser = argparse.ArgumentParser(description='Count primes in a PyQt6 window with asyncgui.')
    parser.add_argument('--auto', action='store_true',
                        help='start at once, print the outcome and quit')
    parser.add_argument('--limit', type=int, default=200000,
                        help='count the primes below this (default: 200000)')
    parser.add_argument('--chunks', type=int, default=40,
                        help='how many tasks the count is split into (default: 40)')
    return parser.parse_args(argv)


def main(argv):
    options = parse_args(argv[1:])
    app = QApplication(argv[:1])
    window = Window(options)
    window.show()
    if options.auto:
        QTimer.singleShot(0, window.start)
        # A run that never ends (nothing delivered) must not hang a test.
        QTimer.singleShot(60000, lambda: app.exit(2))
    return app.exec()


if __name__ == '__main__':
    sys.exit(main(sys.argv))
