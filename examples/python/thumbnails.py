#!/usr/bin/python3
# thumbnails.py: previews of untrusted files through sandboxed workers
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The same app as the C, GJS and Vala examples. A grid shows one tile per
# file given on the command line; each preview is one call of a function
# of thumbnailer.py in a sandboxed worker process:
#
#     with open(path, 'rb') as f:
#         width, height, pixels = yield ProcessTask(thumbnailer.thumbnail, 128).sandboxed(
#             files=[f], result_type='(xxay)', memory_limit=..., cpu_limit_ms=...)
#
# The application opens the file, the worker reads the descriptor; what
# comes back is plain data of the declared type. Binary PGM/PPM images
# show a thumbnail, other files their first lines as text, and a file that
# cannot be previewed says why in its tile, while the others render. The
# window keeps drawing: every pending tile has a spinner.
#
# Headless use: `--auto` makes a folder of files of its own, good and
# hostile (a truncated image, an image whose header claims 60000 × 60000
# pixels, a file that is not what its name says, a text file of one
# endless line), previews them and checks every tile: thumbnails of the
# right size, the right error on each hostile file, and frames drawn
# throughout. It fails (exit status 1) if one is wrong or if the sandbox
# cannot be used here. Without a display it exits 77, which Meson counts
# as a skip; run it under build-aux/with-display.sh.

import argparse
import gettext
import os
import shutil
import sys
import tempfile
import time

import gi

gi.require_version('AsyncGui', '1')
gi.require_version('Gdk', '4.0')
gi.require_version('Gtk', '4.0')
gi.require_version('Pango', '1.0')
from gi.repository import AsyncGui, Gdk, Gio, GLib, Gtk, Pango  # noqa: E402
from gi.repository.AsyncGui import ProcessTask  # noqa: E402

import thumbnailer  # noqa: E402

_ = gettext.translation('asyncgui-examples', fallback=True).gettext

EXIT_SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
THUMBNAIL_SIZE = 128
TEXT_LINES = 6
IMAGE_SUFFIXES = ('.ppm', '.pgm', '.pnm')
# Per call. Address space, not resident memory: a Python worker needs a
# few dozen MiB of it before it reads anything.
MEMORY_LIMIT = 512 << 20
CPU_LIMIT_MS = 10000
# --auto: bounds for a loaded machine, not expectations.
AUTO_DEADLINE_S = 120
MAX_FRAME_GAP_S = 1.0
MIN_FRAMES_WHILE_PENDING = 10

engine = AsyncGui.Engine.get_default()

# What a tile shows for each failure the worker reports, by the type name
# of its exception, and the short name --auto checks.
WORKER_ERRORS = {
    'NotAnImage': ('not-an-image', _('Not an image')),
    'Truncated': ('truncated', _('The image is truncated')),
    'TooLarge': ('too-large', _('Too large to preview')),
    'NotText': ('not-text', _('Neither an image nor text')),
}
ENGINE_ERRORS = {
    AsyncGui.Error.MEMORY_LIMIT: ('memory-limit', _('The worker went past its memory limit')),
    AsyncGui.Error.CPU_LIMIT: ('cpu-limit', _('The worker went past its processor-time limit')),
    AsyncGui.Error.WORKER_CRASHED: ('worker-crashed', _('The worker crashed on this file')),
}


def describe(error):
    """(short name, text for the tile) of a failed preview."""
    if isinstance(error, AsyncGui.SandboxedError):
        return WORKER_ERRORS.get(error.type_name, (error.type_name, error.message))
    if isinstance(error, GLib.Error):
        for code, described in ENGINE_ERRORS.items():
            if error.matches(AsyncGui.error_quark(), code):
                return described
        return (error.message, error.message)
    return (str(error), str(error))


class Tile(Gtk.Box):
    """One file: a spinner until its preview comes, then the thumbnail, the
    text or why there is neither."""

    def __init__(self, path):
        super().__init__(orientation=Gtk.Orientation.VERTICAL, spacing=6)
        self.path = path
        self.outcome = None      # for --auto: 'image WxH', 'text …', 'error …'
        self.stack = Gtk.Stack()
        self.stack.set_size_request(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
        self.spinner = Gtk.Spinner(spinning=True, halign=Gtk.Align.CENTER,
                                   valign=Gtk.Align.CENTER)
        self.picture = Gtk.Picture(can_shrink=False)
        self.text = Gtk.Label(xalign=0, yalign=0, max_width_chars=18,
                              ellipsize=Pango.EllipsizeMode.END)
        self.text.add_css_class('monospace')
        self.text.add_css_class('caption')
        self.error = Gtk.Label(wrap=True, max_width_chars=16, justify=Gtk.Justification.CENTER)
        self.error.add_css_class('error')
        for child in (self.spinner, self.picture, self.text, self.error):
            self.stack.add_child(child)
        self.stack.set_visible_child(self.spinner)
        name = Gtk.Label(label=os.path.basename(path), max_width_chars=16,
                         ellipsize=Pango.EllipsizeMode.MIDDLE)
        self.append(self.stack)
        self.append(name)

    @property
    def pending(self):
        return self.outcome is None

    def show_image(self, width, height, pixels):
        # The value has the declared type; its numbers are the worker's
        # word, and checked like any input.
        if not (0 < width <= THUMBNAIL_SIZE and 0 < height <= THUMBNAIL_SIZE) \
                or len(pixels) != width * height * 3:
            self.show_error('bad-thumbnail', _('The worker sent a thumbnail of a wrong size'))
            return
        texture = Gdk.MemoryTexture.new(width, height, Gdk.MemoryFormat.R8G8B8,
                                        GLib.Bytes.new(pixels), width * 3)
        self.picture.set_paintable(texture)
        self.stack.set_visible_child(self.picture)
        self.outcome = 'image %dx%d' % (width, height)

    def show_text(self, text):
        self.text.set_label(text)
        self.stack.set_visible_child(self.text)
        self.outcome = 'text ' + text

    def show_error(self, name, message, details=None):
        self.error.set_label(message)
        self.error.set_tooltip_text(details or message)
        self.stack.set_visible_child(self.error)
        self.outcome = 'error ' + name

    @engine.job
    def preview(self):
        """One sandboxed call: the file is opened here, by the application,
        and the worker, which sees none of the user's files, reads it."""
        image = self.path.endswith(IMAGE_SUFFIXES)
        try:
            with open(self.path, 'rb') as f:
                if image:
                    # Python's plain data has one integer type, "x".
                    task = ProcessTask(thumbnailer.thumbnail, THUMBNAIL_SIZE).sandboxed(
                        files=[f], result_type='(xxay)',
                        memory_limit=MEMORY_LIMIT, cpu_limit_ms=CPU_LIMIT_MS)
                else:
                    task = ProcessTask(thumbnailer.first_lines, TEXT_LINES).sandboxed(
                        files=[f], result_type='s',
                        memory_limit=MEMORY_LIMIT, cpu_limit_ms=CPU_LIMIT_MS)
                # The descriptor is passed as the task starts, so the file
                # stays open until then.
                value = yield task
        except (AsyncGui.SandboxedError, GLib.Error, OSError) as error:
            name, message = describe(error)
            self.show_error(name, message, str(error))
            return
        if image:
            self.show_image(*value)
        else:
            self.show_text(value)


class ThumbnailsWindow(Gtk.ApplicationWindow):
    def __init__(self, app, paths):
        super().__init__(application=app, title=_('Previews in a sandbox — asyncgui (Python)'))
        self.set_default_size(720, 480)
        flow = Gtk.FlowBox(selection_mode=Gtk.SelectionMode.NONE, homogeneous=True,
                           column_spacing=12, row_spacing=12, valign=Gtk.Align.START)
        for side in ('top', 'bottom', 'start', 'end'):
            getattr(flow, 'set_margin_' + side)(12)
        self.tiles = [Tile(path) for path in paths]
        for tile in self.tiles:
            flow.append(tile)
        self.set_child(Gtk.ScrolledWindow(child=flow))

    def start(self):
        for tile in self.tiles:
            tile.preview()


def make_auto_files(folder):
    """--auto: good and hostile files, each with what its tile must show
    (the same in the four languages' examples)."""

    def pnm(kind, width, height, keep=None):
        channels = 3 if kind == '6' else 1
        data = bytearray(b'P%s\n# made by thumbnails.py --auto\n%d %d\n255\n'
                         % (kind.encode(), width, height))
        for y in range(height):
            for x in range(width):
                data += bytes([x * 255 // (width - 1), y * 255 // (height - 1), 128][:channels])
        return bytes(data[:keep])

    notes = ''.join('Line %d of the notes\n' % i for i in range(1, 13))
    files = [
        ('gradient.ppm', pnm('6', 640, 480), 'image 128x96'),
        ('grey.pgm', pnm('5', 300, 200), 'image 128x85'),
        ('notes.txt', notes.encode(), 'text ' + ''.join(notes.splitlines(True)[:6])[:-1]),
        # A header that promises 400 × 300 pixels, a third of them.
        ('truncated.ppm', pnm('6', 400, 300, 120000), 'error truncated'),
        ('huge-header.ppm', b'P6\n60000 60000\n255\n\x01\x02\x03', 'error too-large'),
        # A PNG by its first bytes, whatever its name says.
        ('holiday.ppm', b'\x89PNG\r\n\x1a\n\0\0\0\rIHDR', 'error not-an-image'),
        ('endless.txt', b'This line never ends: ', 'error memory-limit'),
    ]
    expected = {}
    for name, data, outcome in files:
        path = os.path.join(folder, name)
        with open(path, 'wb') as f:
            f.write(data)
            if name == 'endless.txt':
                # 8 GiB without a line break, which take no disk: the rest
                # of a sparse file reads as zeros.
                f.truncate(8 << 30)
        expected[path] = outcome
    return expected


class Thumbnails(Gtk.Application):
    def __init__(self, options):
        super().__init__(application_id='org.gnome.AsyncGui.ThumbnailsPython',
                         flags=Gio.ApplicationFlags.NON_UNIQUE | Gio.ApplicationFlags.HANDLES_OPEN)
        self.options = options
        self.expected = {}
        self.ok = False
        self.window = None
        self.started = 0
        self.last_frame = None
        self.worst_gap = 0.0
        self.frames_while_pending = 0

    def do_open(self, files, n_files, hint):
        # The worker imports thumbnailer.py from inside the sandbox, which
        # shows it /usr and, as ProcessTask adds them, the folders of
        # sys.path and of this script.
        try:
            engine.get_worker_pool().check_sandbox()
        except GLib.Error as error:
            print(_('thumbnails.py: no sandbox: %s') % error.message, file=sys.stderr)
            # A test of the example must not pass unprotected; a user still
            # sees the error in every tile.
            if self.options.auto:
                return
        self.window = ThumbnailsWindow(self, [f.get_path() for f in files])
        self.window.present()
        self.started = time.monotonic()
        if self.options.auto:
            self.window.add_tick_callback(self.on_tick)
        self.window.start()

    def pending(self):
        return [tile for tile in self.window.tiles if tile.pending]

    def on_tick(self, widget, clock):
        """--auto: the frame clock ticks while a spinner turns; a gap
        between two ticks is time the GUI thread did not draw."""
        now = time.monotonic()
        if self.pending():
            if self.last_frame is not None:
                self.worst_gap = max(self.worst_gap, now - self.last_frame)
            self.frames_while_pending += 1
            if now - self.started > AUTO_DEADLINE_S:
                print('thumbnails.py: FAILED: previews still pending after %d s' % AUTO_DEADLINE_S,
                      file=sys.stderr)
                self.quit()
        else:
            self.check()
            self.quit()
            return GLib.SOURCE_REMOVE
        self.last_frame = now
        return GLib.SOURCE_CONTINUE

    def check(self):
        ok = True
        for tile in self.window.tiles:
            name = os.path.basename(tile.path)
            expected = self.expected.get(tile.path)
            right = tile.outcome == expected
            if right and expected.startswith('image '):
                # A thumbnail must also be what the tile draws.
                paintable = tile.picture.get_paintable()
                right = (paintable is not None
                         and tile.stack.get_visible_child() is tile.picture
                         and 'image %dx%d' % (paintable.get_intrinsic_width(),
                                              paintable.get_intrinsic_height()) == expected)
            print('%-20s %s' % (name, tile.outcome.encode('unicode_escape').decode()))
            if not right:
                print('thumbnails.py: FAILED: %s shows %r, not %r' % (name, tile.outcome, expected),
                      file=sys.stderr)
                ok = False
        print('thumbnails.py: %d frames while previews were pending, worst gap %.1f ms'
              % (self.frames_while_pending, self.worst_gap * 1000))
        if self.frames_while_pending < MIN_FRAMES_WHILE_PENDING or self.worst_gap > MAX_FRAME_GAP_S:
            print('thumbnails.py: FAILED: the window did not keep drawing', file=sys.stderr)
            ok = False
        self.ok = ok


def main(argv):
    parser = argparse.ArgumentParser(
        description=_('Preview images and text files in sandboxed worker processes.'))
    parser.add_argument('--auto', action='store_true',
                        help=_('Preview a set of good and hostile files of its own, check every '
                               'tile and quit'))
    parser.add_argument('files', nargs='*', metavar=_('FILE'))
    options = parser.parse_args(argv[1:])

    if Gdk.Display.get_default() is None:
        print(_('thumbnails.py: cannot open a display; run it under xvfb-run'), file=sys.stderr)
        return EXIT_SKIP if options.auto else 1

    app = Thumbnails(options)
    folder = None
    paths = [os.path.abspath(path) for path in options.files]
    if options.auto:
        folder = tempfile.mkdtemp(prefix='asyncgui-thumbnails-')
        app.expected = make_auto_files(folder)
        paths = list(app.expected)
    if not paths:
        parser.error(_('name the files to preview, or use --auto'))
    try:
        app.run([argv[0]] + paths)
    finally:
        if folder is not None:
            shutil.rmtree(folder)
    if options.auto:
        return 0 if app.ok else 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
