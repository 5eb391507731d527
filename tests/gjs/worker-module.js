// worker-module.js — functions the GJS tests run in gjs worker processes.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';

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

export function fail(message) {
    throw new RangeError(message);
}

// Never returns: only a kill ends it.
export function hang() {
    for (;;)
        GLib.usleep(60 * 1000 * 1000);
}
