# thumbnailer.py: the parsers of the Python thumbnailer example
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Importable, so that a sandboxed worker process can run these functions:
# thumbnails.py calls them through ProcessTask(...).sandboxed(files=[f]).
# Each gets the file the application opened as `files[0]`, a binary file
# object; the worker sees none of the user's files otherwise. What they
# return crosses back as plain data (a tuple of ints and bytes, a str),
# never as a pickle; what they raise comes back as its type's name and
# message, AsyncGui.SandboxedError in the application.
#
# The parsers are simple on purpose, as parsers of untrusted input often
# are: the decoder trusts a header up to a sanity bound, and the text
# previewer reads a line however long it is. The sandbox and the task's
# memory and processor limits keep a hostile file from doing more than
# failing its own preview.

MAX_PIXELS = 100 * 1000 * 1000


class NotAnImage(Exception):
    pass


class Truncated(Exception):
    pass


class TooLarge(Exception):
    pass


class NotText(Exception):
    pass


def _header_number(f):
    """One decimal number of a PNM header, after white space and comments,
    and the one white space character that ends it."""
    c = f.read(1)
    while c == b'#' or c.isspace():
        if c == b'#':
            while c not in (b'\n', b''):
                c = f.read(1)
        else:
            c = f.read(1)
    if not c:
        raise Truncated('The image ends within its header')
    digits = b''
    while c.isdigit():
        digits += c
        if len(digits) > 10:
            raise TooLarge('A number in the image header is too large')
        c = f.read(1)
    if not digits or (c and not c.isspace()):
        raise NotAnImage('The image header is not a PNM header')
    return int(digits)


def thumbnail(max_side, files):
    """A binary PGM (P5) or PPM (P6) image, scaled down (never up) to fit a
    square of max_side: (width, height, RGB bytes), each thumbnail pixel
    the mean of the pixels it covers. Reads the image a row at a time."""
    f = files[0]
    magic = f.read(2)
    if magic not in (b'P5', b'P6'):
        raise NotAnImage('The file is not a binary PGM or PPM image')
    channels = 1 if magic == b'P5' else 3
    width = _header_number(f)
    height = _header_number(f)
    maxval = _header_number(f)
    if width == 0 or height == 0 or not 0 < maxval <= 255:
        raise NotAnImage('The image header is not one of an 8-bit PGM or PPM image')
    if width * height > MAX_PIXELS:
        raise TooLarge('The image is too large: %d × %d pixels' % (width, height))

    if width >= height:
        thumb_width = min(width, max_side)
        thumb_height = max(1, height * thumb_width // width)
    else:
        thumb_height = min(height, max_side)
        thumb_width = max(1, width * thumb_height // height)
    # Source columns x with x * thumb_width // width == tx: a run each.
    starts = [-(-tx * width // thumb_width) for tx in range(thumb_width + 1)]

    pixels = bytearray()
    sums = [0] * (thumb_width * 3)
    rows = 0
    for y in range(height):
        row = f.read(width * channels)
        if len(row) < width * channels:
            raise Truncated('The image is truncated: it ends in row %d of %d' % (y + 1, height))
        for tx in range(thumb_width):
            start, end = starts[tx], starts[tx + 1]
            for c in range(3):
                channel = c if channels == 3 else 0
                sums[tx * 3 + c] += sum(row[start * channels + channel:end * channels:channels])
        rows += 1
        # The last source row of this thumbnail row: write it out.
        if y + 1 == height or (y + 1) * thumb_height // height != y * thumb_height // height:
            for tx in range(thumb_width):
                count = rows * (starts[tx + 1] - starts[tx])
                for c in range(3):
                    pixels.append(sums[tx * 3 + c] * 255 // (count * maxval))
            sums = [0] * (thumb_width * 3)
            rows = 0
    return (thumb_width, thumb_height, bytes(pixels))


def first_lines(max_lines, files):
    """A text file's first lines, without the last line break. A line is
    read whole, however long: the task's memory limit is what bounds a file
    that is one endless line."""
    f = files[0]
    lines = []
    while len(lines) < max_lines:
        line = f.readline()
        if not line:
            break
        lines.append(line)
    data = b''.join(lines)
    if data.endswith(b'\n'):
        data = data[:-1]
    if b'\0' in data:
        raise NotText('The file is not UTF-8 text')
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        raise NotText('The file is not UTF-8 text') from None
