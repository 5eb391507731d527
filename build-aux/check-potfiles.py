#!/usr/bin/python3
"""Checks that a POTFILES.in lists every source file with a translatable
message under the folders its text domain owns, and nothing else: no file
that is gone and no file of another domain (the library's catalogue must
not hold the examples' messages, nor the other way round).

Usage: check-potfiles.py SOURCE-ROOT PO-DIR FOLDER...
  e.g. check-potfiles.py . po asyncgui
       check-potfiles.py . examples/po examples
"""

import pathlib
import re
import sys

MARKER = re.compile(r'(?<![A-Za-z0-9_])(?:_|N_|C_|NC_|g_dngettext|ngettext)\s*\(\s*"')
SUFFIXES = {'.c', '.h', '.vala'}


def main(root, po_dir, folders):
    root = pathlib.Path(root)
    potfiles = root / po_dir / 'POTFILES.in'
    listed = set()
    for line in potfiles.read_text(encoding='utf-8').splitlines():
        line = line.strip()
        if line and not line.startswith('#'):
            listed.add(line)

    marked = set()
    for folder in folders:
        for path in (root / folder).rglob('*'):
            if path.suffix in SUFFIXES and MARKER.search(path.read_text(encoding='utf-8')):
                marked.add(path.relative_to(root).as_posix())

    def owned(name):
        return any(name == f or name.startswith(f + '/') for f in folders)

    missing = sorted(marked - listed)
    gone = sorted(name for name in listed if not (root / name).exists())
    foreign = sorted(name for name in listed if not owned(name))
    for name in missing:
        print(f'{po_dir}/POTFILES.in misses {name}, which has translatable messages')
    for name in gone:
        print(f'{po_dir}/POTFILES.in lists {name}, which does not exist')
    for name in foreign:
        print(f'{po_dir}/POTFILES.in lists {name}, which is outside {", ".join(folders)}:'
              ' its messages belong to another text domain')
    if missing or gone or foreign:
        return 1
    print(f'{po_dir}/POTFILES.in lists all {len(marked)} files with translatable messages'
          f' under {", ".join(folders)}')
    return 0


if __name__ == '__main__':
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
