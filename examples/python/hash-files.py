#!/usr/bin/python3
# hash-files.py: hash every file under a directory, in Python
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The same app as the Vala and GJS examples, written with asyncgui's Python
# API: a GTK 4 window computes the SHA-256 of every file under a directory
# (by default a temporary one it fills with a few thousand generated files)
# while the window stays smooth. The whole run is one @engine.job handler:
#
#     generate files (thread) → list them (thread) → hash them, each result
#     shown as it arrives (async for over a MultiTask) → show the summary
#
# so Pause, Resume and Cancel act on whatever the run is waiting for. The
# spinner keeps spinning: the visible proof that the GUI thread never blocks.
#
# Headless use: `--auto` starts at once, prints a summary (files hashed,
# elapsed time, the worst gap between two frames) and quits;
# `--screenshot FILE.png` saves the window at the end. Without a display it
# exits 77, which Meson counts as a skip; run it under
# build-aux/with-display.sh.

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time

import gi

gi.require_version('AsyncGui', '1')
gi.require_version('Gdk', '4.0')
gi.require_version('Gtk', '4.0')
from gi.repository import AsyncGui, Gdk, GLib, Gtk  # noqa: E402
from gi.repository.AsyncGui import MultiTask, Task  # noqa: E402

EXIT_SKIP = 77
PROGRAM = 'asyncgui-hash-files-python'

engine = AsyncGui.Engine.get_default()


# -- Worker-thread functions: plain Python, no GTK ----------------------------

def generate_files(root, count):
    """Fills root with count files of 1-32 KiB."""
    for i in range(16):
        os.makedirs(os.path.join(root, '%02d' % i), exist_ok=True)
    seed = b'asyncgui'
    for i in range(count):
        size = 1024 * (1 + (i * 7919) % 32)
        block = hashlib.sha256(seed + i.to_bytes(4, 'little')).digest()
        data = (block * (size // len(block) + 1))[:size]
        with open(os.path.join(root, '%02d' % (i % 16), 'file-%05d.bin' % i), 'wb') as f:
            f.write(data)
    return count


def list_files(root):
    found = []
    for directory, _, names in os.walk(root):
        found.extend(os.path.join(directory, name) for name in names)
    found.sort()
    return found


def sha256_of_file(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(64 * 1024), b''):
            digest.update(block)
    return path, digest.hexdigest()


# -- The window -----------------------------------------------------------------

class HashWindow(Gtk.ApplicationWindow):
    def __init__(self, app, options):
        super().__init__(application=app, title='Hash files — asyncgui (Python)')
        self.options = options
        self.set_default_size(720, 520)
        self.job = None
        self.outcome = None
        self.frames = 0
        self.last_frame_us = None
        self.worst_gap_ms = 0.0
        self.frames_before_start = 0
        self.listed = 0
        self.listed_after_cancel = 0
        self.cancel_requested = False

        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=8)
        for side in ('top', 'bottom', 'start', 'end'):
            getattr(box, 'set_margin_' + side)(12)
        self.set_child(box)

        top = Gtk.Box(spacing=8)
        self.spinner = Gtk.Spinner(spinning=True)
        self.status = Gtk.Label(xalign=0, hexpand=True)
        self.start_button = Gtk.Button(label='Start')
        self.pause_button = Gtk.Button(label='Pause', sensitive=False)
        self.cancel_button = Gtk.Button(label='Cancel', sensitive=False)
        self.start_button.connect('clicked', lambda *unused: self.start())
        self.pause_button.connect('clicked', self.on_pause_clicked)
        self.cancel_button.connect('clicked', lambda *unused: self.cancel())
        for widget in (self.spinner, self.status, self.start_button, self.pause_button,
                       self.cancel_button):
            top.append(widget)
        box.append(top)

        self.progress = Gtk.ProgressBar(show_text=True)
        box.append(self.progress)

        self.results = Gtk.StringList()
        factory = Gtk.SignalListItemFactory()
        factory.connect('setup', lambda f, item: item.set_child(
            Gtk.Label(xalign=0, css_classes=['monospace'])))
        factory.connect('bind', lambda f, item: item.get_child().set_label(
            item.get_item().get_string()))
        view = Gtk.ListView(model=Gtk.NoSelection(model=self.results), factory=factory)
        scrolled = Gtk.ScrolledWindow(child=view, vexpand=True)
        box.append(scrolled)

        where = options.directory or 'a temporary directory with %d generated files' % options.files
        self.status.set_label('Directory: %s' % where)
        self.add_tick_callback(self.on_frame)

    def on_frame(self, widget, clock):
        now = clock.get_frame_time()
        if self.last_frame_us is not None and self.job is not None:
            self.worst_gap_ms = max(self.worst_gap_ms, (now - self.last_frame_us) / 1000.0)
        self.last_frame_us = now
        self.frames += 1
        # In --auto mode the run starts once a few frames are on screen, so
        # the frame clock is running when the work begins.
        if self.options.auto and self.job is None and self.outcome is None:
            self.frames_before_start += 1
            if self.frames_before_start >= 3:
                self.start()
        return GLib.SOURCE_CONTINUE

    def start(self):
        if self.job is not None and not self.job.finished:
            return
        self.results.splice(0, self.results.get_n_items(), [])
        self.worst_gap_ms = 0.0
        self.job = self.hash_all()
        self.job.connect('notify::state', self.on_job_state)

    def on_pause_clicked(self, button):
        if self.job is None or self.job.finished:
            return
        if self.job.paused:
            self.job.resume()
            button.set_label('Pause')
        else:
            self.job.pause()
            button.set_label('Resume')

    def cancel(self):
        if self.job is not None and not self.job.finished:
            self.cancel_requested = True
            self.job.cancel()

    def on_job_state(self, job, pspec):
        running = not job.finished
        self.start_button.set_sensitive(not running)
        self.pause_button.set_sensitive(running)
        self.cancel_button.set_sensitive(running)

    @engine.job
    async def hash_all(self):
        """The whole run, as one sequential handler."""
        started = time.monotonic()
        self.start_button.set_sensitive(False)
        temporary = None
        root = self.options.directory
        try:
            if root is None:
                temporary = root = tempfile.mkdtemp(prefix='asyncgui-hash-')
                self.status.set_label('Generating %d files…' % self.options.files)
                await Task(generate_files, root, self.options.files)

            self.status.set_label('Listing files…')
            paths = await Task(list_files, root)

            self.status.set_label('Hashing %d files…' % len(paths))
            done = failed = 0
            async for outcome in MultiTask([Task(sha256_of_file, p) for p in paths],
                                           unordered=True, skip_errors=True):
                path, digest = outcome
                self.results.append('%.16s…  %s' % (digest, os.path.relpath(path, root)))
                self.listed += 1
                if self.cancel_requested:
                    self.listed_after_cancel += 1
                done += 1
                self.progress.set_fraction(done / max(1, len(paths)))
                self.progress.set_text('%d / %d' % (done, len(paths)))
                limit = self.options.cancel_after_results
                if limit and self.listed >= limit and not self.cancel_requested:
                    self.cancel()
            failed = len(paths) - done
            elapsed_ms = (time.monotonic() - started) * 1000.0
            text = 'Hashed %d files in %.0f ms' % (done, elapsed_ms)
            if failed:
                text += ' (%d could not be read)' % failed
            self.status.set_label(text)
            self.outcome = ('done', done, elapsed_ms)
            return done
        except AsyncGui.CancelledError:
            elapsed_ms = (time.monotonic() - started) * 1000.0
            self.status.set_label('Cancelled after %d files' % self.listed)
            self.outcome = ('cancelled', self.listed, elapsed_ms)
            raise
        except Exception as error:
            self.status.set_label('Failed: %s' % error)
            self.outcome = ('failed', error, 0.0)
            raise
        finally:
            if temporary is not None:
                # Removing a few thousand files is worker work too, but a
                # finally block must not await after a cancel is raised
                # through it; a thread of its own keeps the GUI free.
                GLib.Thread.new('cleanup', shutil.rmtree, temporary, True)
            if self.options.auto:
                GLib.timeout_add(200, self.finish_auto)

    def finish_auto(self):
        kind, count, elapsed_ms = self.outcome
        if self.options.screenshot:
            try:
                if not save_screenshot(self, self.options.screenshot):
                    raise RuntimeError('nothing was rendered')
            except Exception as error:
                print('%s: no screenshot: %s' % (PROGRAM, error), file=sys.stderr)
        print('%s: %s %s results listed in %.0f ms, %d frames, worst frame gap %.1f ms'
              % (PROGRAM, kind, count, elapsed_ms, self.frames, self.worst_gap_ms), flush=True)
        app = self.get_application()
        if self.options.cancel_after_results:
            if kind != 'cancelled':
                print('%s: the run was not cancelled' % PROGRAM, file=sys.stderr)
                app.exit_status = 1
            elif self.listed_after_cancel:
                print('%s: %d results arrived after the cancel'
                      % (PROGRAM, self.listed_after_cancel), file=sys.stderr)
                app.exit_status = 1
        elif kind != 'done':
            app.exit_status = 1
        app.quit()
        return GLib.SOURCE_REMOVE


def save_screenshot(widget, path):
    """Renders the window into a PNG. PyGObject 3.42 cannot handle GSK
    render nodes, so the three C calls go through ctypes (a GObject's
    Python hash is its address)."""
    import ctypes
    gtk = ctypes.CDLL('libgtk-4.so.1')
    gtk.gtk_snapshot_to_node.restype = ctypes.c_void_p
    gtk.gtk_snapshot_to_node.argtypes = [ctypes.c_void_p]
    gtk.gsk_renderer_render_texture.restype = ctypes.c_void_p
    gtk.gsk_renderer_render_texture.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    gtk.gdk_texture_save_to_png.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    gtk.gsk_render_node_unref.argtypes = [ctypes.c_void_p]
    gtk.g_object_unref.argtypes = [ctypes.c_void_p]

    paintable = Gtk.WidgetPaintable.new(widget)
    snapshot = Gtk.Snapshot()
    paintable.snapshot(snapshot, widget.get_width(), widget.get_height())
    node = gtk.gtk_snapshot_to_node(hash(snapshot))
    if not node:
        return False
    renderer = widget.get_native().get_renderer()
    texture = gtk.gsk_renderer_render_texture(hash(renderer), node, None)
    saved = bool(gtk.gdk_texture_save_to_png(texture, os.fsencode(path)))
    gtk.g_object_unref(texture)
    gtk.gsk_render_node_unref(node)
    return saved


class HashApp(Gtk.Application):
    def __init__(self, options):
        super().__init__(application_id='org.gnome.AsyncGui.HashFilesPython')
        self.options = options
        self.exit_status = 0

    def do_activate(self):
        HashWindow(self, self.options).present()


def main(argv):
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description='Compute the SHA-256 of every file under DIRECTORY in worker threads '
                    'while the window stays responsive.')
    parser.add_argument('directory', nargs='?',
                        help='default: a temporary directory filled with generated files')
    parser.add_argument('--files', type=int, default=3000,
                        help='how many files to generate without DIRECTORY (default 3000)')
    parser.add_argument('--auto', action='store_true',
                        help='start at once, print a summary and quit when done')
    parser.add_argument('--screenshot', metavar='FILE.png',
                        help='with --auto: save the window to FILE.png at the end')
    parser.add_argument('--cancel-after-results', type=int, metavar='N', default=0,
                        help='cancel once N results are listed (implies --auto)')
    options = parser.parse_args(argv[1:])
    if options.cancel_after_results or options.screenshot:
        options.auto = True

    if Gdk.Display.get_default() is None and not Gtk.init_check():
        print('%s: cannot open a display; run it under xvfb-run' % PROGRAM, file=sys.stderr)
        return EXIT_SKIP if options.auto else 1

    app = HashApp(options)
    status = app.run([argv[0]])
    return status or app.exit_status


if __name__ == '__main__':
    sys.exit(main(sys.argv))
