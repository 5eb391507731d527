#!/usr/bin/python3
# search-as-you-type.py: a search box whose results never go stale, in Python
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A GTK 4 window with an entry, a spinner and a list of the words that
# contain what is typed. Each keystroke starts a search on a worker thread
# through one AsyncGui.Slot: the latest request wins. A search that a newer
# keystroke replaced is cancelled (its function sees its cancellable fire)
# and its job ends quietly at the yield, so the list never flickers back to
# an older query, however slow that query was. The slot waits for a quiet
# period of 150 ms (debounce) before it starts a search, and its busy
# property drives the spinner.
#
# The searches are slow on purpose: a short query takes longest (as a
# broad query does on a real index), so without the slot an old query
# would often finish last.
#
# Headless use: `--auto` types a word letter by letter, now quickly, now
# slowly, checks that every list shown belonged to the text in the entry
# at that moment and that the final list is right, prints a summary and
# quits (exit status 1 on a failed check). Without a display it exits 77,
# which Meson counts as a skip; run it under build-aux/with-display.sh.

import argparse
import random
import sys
import time

import gi

gi.require_version('AsyncGui', '1')
gi.require_version('Gdk', '4.0')
gi.require_version('Gtk', '4.0')
from gi.repository import AsyncGui, Gdk, GLib, GObject, Gtk  # noqa: E402
from gi.repository.AsyncGui import Task  # noqa: E402

EXIT_SKIP = 77
PROGRAM = 'asyncgui-search-python'
AUTO_WORD = 'asyncgui'
# Milliseconds between the keystrokes of --auto: some inside the quiet
# period, some long enough for a search to start and be replaced.
AUTO_PAUSES_MS = (40, 260, 60, 320, 30, 240, 50, 0)

engine = AsyncGui.Engine.get_default()


# -- Worker-thread function: plain Python, no GTK ----------------------------

SYLLABLES = ('an', 'ar', 'as', 'be', 'ca', 'co', 'de', 'di', 'el', 'en', 'fi', 'ga',
             'gu', 'in', 'io', 'ka', 'lo', 'ma', 'mi', 'nc', 'ne', 'no', 'or', 'pa',
             'ra', 're', 'sa', 'se', 'si', 'sy', 'ta', 'te', 'ti', 'to', 'un', 'yn')


def make_words(count=20000, seed=7):
    """The dictionary: made-up words, and a few real ones."""
    rng = random.Random(seed)
    words = {''.join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 5)))
             for _ in range(count)}
    words.update(('async', 'asyncgui', 'asynchronous', 'synchronize', 'syntax'))
    return sorted(words)


def search(words, query):
    """The words containing ``query``, after a while: the shorter the
    query, the longer it takes. Gives up when its cancellable fires."""
    cancellable = AsyncGui.current_cancellable()
    deadline = time.monotonic() + 0.4 / len(query) + random.uniform(0.0, 0.1)
    while time.monotonic() < deadline:
        if cancellable.is_cancelled():
            return None
        time.sleep(0.005)
    return [word for word in words if query in word]


# -- The window --------------------------------------------------------------

class SearchWindow(Gtk.ApplicationWindow):
    def __init__(self, app, options):
        super().__init__(application=app, title='Search as you type — asyncgui (Python)',
                         default_width=420, default_height=520)
        self.app = app
        self.options = options
        self.words = make_words()
        self.slot = engine.slot(debounce_ms=150)
        self.n_asked = 0
        self.n_shown = 0
        self.n_stale = 0
        self.n_superseded = 0
        self.shown_query = None
        self.last_job = None

        self.entry = Gtk.Entry(hexpand=True, placeholder_text='Type to search…')
        self.entry.set_icon_from_icon_name(Gtk.EntryIconPosition.PRIMARY, 'edit-find-symbolic')
        spinner = Gtk.Spinner()
        # The spinner spins while the slot has a search waiting or running.
        self.slot.bind_property('busy', spinner, 'spinning', GObject.BindingFlags.SYNC_CREATE)
        self.status = Gtk.Label(xalign=0.0, label='%d words' % len(self.words))
        self.results = Gtk.StringList()
        factory = Gtk.SignalListItemFactory()
        factory.connect('setup', lambda f, item: item.set_child(Gtk.Label(xalign=0.0)))
        factory.connect('bind', lambda f, item: item.get_child().set_label(
            item.get_item().get_string()))
        view = Gtk.ListView(model=Gtk.NoSelection(model=self.results), factory=factory)

        top = Gtk.Box(spacing=6)
        top.append(self.entry)
        top.append(spinner)
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=6, margin_top=12,
                      margin_bottom=12, margin_start=12, margin_end=12)
        box.append(top)
        box.append(self.status)
        box.append(Gtk.ScrolledWindow(child=view, vexpand=True))
        self.set_child(box)

        self.entry.connect('changed', self.on_changed)
        # A search still waiting must not come back to a closed window.
        self.connect('close-request', lambda window: self.slot.cancel() or False)
        if options.auto:
            GLib.timeout_add(200, self.type_next, 1)

    @engine.job
    def on_changed(self, entry):
        self.last_job = AsyncGui.current_job()
        query = entry.get_text()
        if not query:
            self.slot.cancel()
            self.show(query, [])
            return
        self.n_asked += 1
        try:
            # A later keystroke replaces this search: the yield then raises
            # CancelledError, and the job ends cancelled, quietly.
            words = yield self.slot.run(Task(search, self.words, query))
        except AsyncGui.CancelledError:
            self.n_superseded += 1
            raise
        self.show(query, words)

    def show(self, query, words):
        # The check --auto makes: what is shown belongs to what is typed.
        if query != self.entry.get_text():
            self.n_stale += 1
            print('%s: showed the results of %r while the entry said %r'
                  % (PROGRAM, query, self.entry.get_text()), file=sys.stderr)
        self.n_shown += 1
        self.shown_query = query
        self.results.splice(0, self.results.get_n_items(), words)
        self.status.set_label('%d words contain “%s”' % (len(words), query) if query
                              else '%d words' % len(self.words))

    # -- --auto -------------------------------------------------------------

    def type_next(self, length):
        # One letter more, as a keystroke adds it (set_text() would empty
        # the entry first).
        self.entry.get_buffer().insert_text(length - 1, AUTO_WORD[length - 1], 1)
        if length < len(AUTO_WORD):
            GLib.timeout_add(AUTO_PAUSES_MS[length - 1], self.type_next, length + 1)
        else:
            GLib.timeout_add(20, self.check_when_done)
        return GLib.SOURCE_REMOVE

    def check_when_done(self):
        # The job resumes a delivery after the slot's callback.
        if self.slot.busy or not self.last_job.is_finished():
            return GLib.SOURCE_CONTINUE
        expected = [word for word in self.words if AUTO_WORD in word]
        shown = [self.results.get_string(i) for i in range(self.results.get_n_items())]
        problems = []
        if self.n_stale:
            problems.append('%d stale lists shown' % self.n_stale)
        if self.shown_query != AUTO_WORD or shown != expected:
            problems.append('the final list is not that of %r' % AUTO_WORD)
        print('%s: typed %r: %d searches asked, %d superseded, %d lists shown, '
              'final: %d words for %r' % (PROGRAM, AUTO_WORD, self.n_asked, self.n_superseded,
                                          self.n_shown, len(shown), self.shown_query))
        for problem in problems:
            print('%s: FAILED: %s' % (PROGRAM, problem), file=sys.stderr)
        self.app.exit_status = 1 if problems else 0
        self.app.quit()
        return GLib.SOURCE_REMOVE


class SearchApp(Gtk.Application):
    def __init__(self, options):
        super().__init__(application_id='org.gnome.AsyncGui.SearchPython')
        self.options = options
        self.exit_status = 0

    def do_activate(self):
        SearchWindow(self, self.options).present()


def main(argv):
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description='Search a word list as you type; results never go back to an older query.')
    parser.add_argument('--auto', action='store_true',
                        help='type "%s" letter by letter, check the results and quit'
                        % AUTO_WORD)
    options = parser.parse_args(argv[1:])

    if Gdk.Display.get_default() is None and not Gtk.init_check():
        print('%s: cannot open a display; run it under xvfb-run' % PROGRAM, file=sys.stderr)
        return EXIT_SKIP if options.auto else 1

    app = SearchApp(options)
    status = app.run([argv[0]])
    return status or app.exit_status


if __name__ == '__main__':
    sys.exit(main(sys.argv))
