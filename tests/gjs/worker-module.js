// worker-module.js — functions the GJS tests run in gjs worker processes.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';

export function countPrimes(n) {
    let count = 0;
    for (let i = 2; i < n; i++) {
        let prime = true;
        for (let d = 2; d * d <= i; d++) {
            if (i % d === 0) {
                prime = false;
                break;
            }
        }
        if (prime)
            count++;
    }
    return {n, count};
}

export function pid() {
    return Number(GLib.file_read_link('/proc/self'));
}

export function fail(message) {
    throw new RangeError(message);
}

class QuotaError extends Error {
    constructor(message) {
        super(message);
        this.name = 'QuotaError';
    }
}

export function returnAFunction() {
    return () => 1;
}

export function failWithOwnError(message) {
    throw new QuotaError(message);
}

// Fails as GIO does: a GLib.Error of Gio's domain.
export function failOpening(path) {
    Gio.File.new_for_path(path).load_contents(null);
}

// Never returns: only a kill ends it.
export function hang() {
    for (;;)
        GLib.usleep(60 * 1000 * 1000);
}

// The size of the file passed to the call, read through its descriptor.
export function sizeOfFile(files) {
    let size = 0;
    for (;;) {
        const bytes = files[0].read_bytes(65536, null);
        if (bytes.get_size() === 0)
            return size;
        size += bytes.get_size();
    }
}

// Whether the worker can read the file at `path`.
export function canRead(path) {
    try {
        Gio.File.new_for_path(path).load_contents(null);
        return true;
    } catch {
        return false;
    }
}

// Whether the worker can run /bin/sh.
export function canSpawnShell() {
    try {
        const [, , , status] = GLib.spawn_sync(null, ['/bin/sh', '-c', 'exit 0'], null,
            GLib.SpawnFlags.DEFAULT, null);
        return GLib.spawn_check_wait_status(status);
    } catch {
        return false;
    }
}

// Asks GLib for `size` bytes at once, as a string of that many 'x'.
export function allocate(size) {
    return GLib.strnfill(size, 'x'.charCodeAt(0)).length;
}

// Prints to stdout, then returns `x`: what a function prints must not
// reach the worker's replies.
export function printThenEcho(x) {
    print('printed by the worker');
    return x;
}

// Reads stdin to its end and closes it: stdin is not the requests' pipe.
export function readStdin() {
    const stream = new Gio.UnixInputStream({fd: 0, close_fd: true});
    const size = stream.read_bytes(65536, null).get_size();
    stream.close(null);
    return {size, pid: pid()};
}

// Asks the JS engine for `size` bytes at once, as a typed array.
export function allocateInJs(size) {
    return new Uint8Array(size).length;
}
