// worker.js: the extension's slow work, run in an asyncgui GJS worker
// process (never inside gnome-shell, whose main thread draws every frame).
//
// SPDX-License-Identifier: LGPL-2.1-or-later

/**
 * How many primes p < limit, by trial division.
 *
 * @param {number} limit - the bound
 * @returns {number} the count
 */
export function countPrimes(limit) {
    let count = 0;
    for (let n = 2; n < limit; n++) {
        if (n % 2 === 0) {
            count += n === 2 ? 1 : 0;
            continue;
        }
        const root = Math.floor(Math.sqrt(n));
        let divisor = 3;
        while (divisor <= root && n % divisor !== 0)
            divisor += 2;
        if (divisor > root)
            count++;
    }
    return count;
}
