#!/usr/bin/python3
"""Checks that po/POTFILES.in lists every source file with a translatable
message, and nothing that is gone, so no message a user can see is left
out of the catalogue.

Usage: check-potfiles.py SOURCE-ROOT
"""

import pathlib
import re
import sys

MARKER = re.compile(r'(?<![A-Za-z0-9_])(?:_|N_|C_|NC_|g_dngettext)\s*\(\s*"')
SOURCES = ('asyncgui', 'examples')
SUFFIXES = {'.c', '.h', '.vala'}


def main(root):
    root = pathlib.Path(root)
    listed = set()
    for line in (root / 'po' / 'POTFILES.in').read_text(encoding='utf-8').splitlines():
        line = line.strip()
        if line and not line.startswith('#'):
            listed.add(line)

    marked = set()
    for folder in SOURCES:
        for path in (root / folder).rglob('*'):
            if path.suffix in SUFFIXES and MARKER.search(path.read_text(encoding='utf-8')):
                marked.add(path.relative_to(root).as_posix())

    missing = sorted(marked - listed)
    gone = sorted(name for name in listed if not (root / name).exists())
    for name in missing:
        print(f'po/POTFILES.in misses {name}, which has translatable messages')
    for name in gone:
        print(f'po/POTFILES.in lists {name}, which does not exist')
    if missing or gone:
        return 1
    print(f'po/POTFILES.in lists all {len(marked)} files with translatable messages')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
