// thumbnailer.js — the parsers of the GJS thumbnailer example.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// An ES module whose exports a sandboxed gjs worker process runs:
// thumbnails.js calls them through processTask() with `sandboxed` set.
// Each gets the file the application opened after its arguments, in an
// array of Gio.UnixInputStream; the worker sees none of the user's files
// otherwise. What they return crosses back as JSON text, which is data;
// what they throw comes back as text, rebuilt in the application as an
// error of the same built-in class. So the failures here are built-in
// classes: TypeError for a file of another kind, RangeError for a size
// past the bounds, SyntaxError for a file that breaks off, as JSON.parse
// says of a text that ends too soon.
//
// The parsers are simple on purpose, as parsers of untrusted input often
// are: the decoder trusts a header up to a sanity bound, and the text
// previewer reads a line however long it is. The sandbox and the task's
// memory and processor limits keep a hostile file from doing more than
// failing its own preview.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';

const MAX_PIXELS = 100 * 1000 * 1000;

function isSpace(c) {
    return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function isDigit(c) {
    return c >= 0x30 && c <= 0x39;
}

// The next byte, or -1 at the end of the file.
function nextByte(input) {
    const bytes = input.read_bytes(1, null);
    return bytes.get_size() === 0 ? -1 : bytes.get_data()[0];
}

// One decimal number of a PNM header, after white space and comments, and
// the one white space character that ends it.
function headerNumber(input) {
    let c = nextByte(input);
    while (c === 0x23 /* # */ || isSpace(c)) {
        if (c === 0x23) {
            while (c !== 0x0a && c !== -1)
                c = nextByte(input);
        } else {
            c = nextByte(input);
        }
    }
    if (c === -1)
        throw new SyntaxError('The image ends within its header');
    let digits = '';
    for (; isDigit(c); c = nextByte(input)) {
        digits += String.fromCharCode(c);
        if (digits.length > 10)
            throw new RangeError('A number in the image header is too large');
    }
    if (digits === '' || (c !== -1 && !isSpace(c)))
        throw new TypeError('The image header is not a PNM header');
    return parseInt(digits, 10);
}

// Exactly `size` bytes, or fewer at the end of the file.
function readRow(input, size) {
    const row = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
        const bytes = input.read_bytes(size - filled, null);
        if (bytes.get_size() === 0)
            break;
        row.set(bytes.get_data(), filled);
        filled += bytes.get_size();
    }
    return filled === size ? row : null;
}

/**
 * A binary PGM (P5) or PPM (P6) image, scaled down (never up) to fit a
 * square of maxSide: {width, height, pixels}, the RGB bytes in base64, each
 * thumbnail pixel the mean of the pixels it covers. Reads a row at a time.
 */
export function thumbnail(maxSide, files) {
    const input = new Gio.BufferedInputStream({base_stream: files[0], buffer_size: 65536});
    const magic = [nextByte(input), nextByte(input)];
    if (magic[0] !== 0x50 /* P */ || (magic[1] !== 0x35 && magic[1] !== 0x36))
        throw new TypeError('The file is not a binary PGM or PPM image');
    const channels = magic[1] === 0x35 ? 1 : 3;
    const width = headerNumber(input);
    const height = headerNumber(input);
    const maxval = headerNumber(input);
    if (width === 0 || height === 0 || maxval === 0 || maxval > 255)
        throw new TypeError('The image header is not one of an 8-bit PGM or PPM image');
    if (width * height > MAX_PIXELS)
        throw new RangeError(`The image is too large: ${width} × ${height} pixels`);

    let thumbWidth, thumbHeight;
    if (width >= height) {
        thumbWidth = Math.min(width, maxSide);
        thumbHeight = Math.max(1, Math.floor(height * thumbWidth / width));
    } else {
        thumbHeight = Math.min(height, maxSide);
        thumbWidth = Math.max(1, Math.floor(width * thumbHeight / height));
    }

    const pixels = new Uint8Array(thumbWidth * thumbHeight * 3);
    const sums = new Float64Array(thumbWidth * 3);
    const counts = new Uint32Array(thumbWidth);
    for (let y = 0; y < height; y++) {
        const row = readRow(input, width * channels);
        if (row === null)
            throw new SyntaxError(`The image is truncated: it ends in row ${y + 1} of ${height}`);
        for (let x = 0; x < width; x++) {
            const tx = Math.floor(x * thumbWidth / width);
            for (let c = 0; c < 3; c++)
                sums[tx * 3 + c] += row[x * channels + (channels === 3 ? c : 0)];
            counts[tx]++;
        }
        // The last source row of this thumbnail row: write it out.
        const ty = Math.floor(y * thumbHeight / height);
        if (y + 1 === height || Math.floor((y + 1) * thumbHeight / height) !== ty) {
            for (let tx = 0; tx < thumbWidth; tx++) {
                for (let c = 0; c < 3; c++) {
                    pixels[(ty * thumbWidth + tx) * 3 + c] =
                        Math.floor(sums[tx * 3 + c] * 255 / (counts[tx] * maxval));
                }
            }
            sums.fill(0);
            counts.fill(0);
        }
    }
    return {width: thumbWidth, height: thumbHeight, pixels: GLib.base64_encode(pixels)};
}

/**
 * A text file's first lines, without the last line break. A line is read
 * whole, however long: the task's memory limit is what bounds a file that
 * is one endless line.
 */
export function firstLines(maxLines, files) {
    const input = new Gio.DataInputStream({base_stream: files[0]});
    const lines = [];
    while (lines.length < maxLines) {
        const [line] = input.read_line(null);
        if (line === null)
            break;
        try {
            lines.push(new TextDecoder('utf-8', {fatal: true}).decode(line));
        } catch (e) {
            throw new TypeError('The file is not UTF-8 text');
        }
    }
    return lines.join('\n');
}
