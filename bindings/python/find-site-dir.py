#!/usr/bin/python3
# find-site-dir.py PREFIX: where this interpreter imports modules from under
# PREFIX, for installing the gi overrides.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Meson's python module names <prefix>/lib/python3/dist-packages for a
# /usr/local prefix, which Debian's /usr/bin/python3 does not read (it reads
# /usr/local/lib/python3.X/dist-packages). Ask the interpreter instead: the
# first entry of sys.path that is a site directory in PREFIX/lib*. Prints
# nothing when there is none (the build then falls back to meson's choice,
# and PYTHONPATH has to point there).

import os
import sys

prefix = os.path.realpath(sys.argv[1])
for entry in sys.path:
    if not entry or not os.path.basename(entry) in ('dist-packages', 'site-packages'):
        continue
    real = os.path.realpath(entry)
    if not real.startswith(prefix + os.sep):
        continue
    # Under the prefix itself, not under a prefix inside it (/usr/local in /usr).
    relative = os.path.relpath(real, prefix)
    if relative.split(os.sep)[0].startswith('lib'):
        print(relative)
        break
