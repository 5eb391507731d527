#!/usr/bin/python3
"""Checks that the shared library exports exactly what its public headers
declare with AG_AVAILABLE_IN_*: a function the headers promise is there, and
nothing else leaks out of the hidden-visibility build.

Usage: check-exports.py SOURCE_ROOT LIBRARY [GENERATED_HEADER...]
"""

import pathlib
import re
import subprocess
import sys

DECLARED = re.compile(r'^AG_AVAILABLE_IN_\w+\n(?:G_DECLARE_\w+_TYPE\s*\(\s*\w+\s*,\s*(ag_\w+)|[^;]*?\b(ag_\w+)\s*\()',
                      re.M)


# Any function declaration at the start of a line, with or without a macro.
ANY_FUNCTION = re.compile(r'^(?!typedef|#|G_DECLARE|AG_)[A-Za-z_][\w \t*]*?\b(ag_\w+)\s*\(', re.M)


def unmarked(headers, promised):
    names = set()
    for header in headers:
        names.update(ANY_FUNCTION.findall(header.read_text(encoding='utf-8')))
    return names - promised


def declared(headers):
    names = set()
    for header in headers:
        text = header.read_text(encoding='utf-8')
        for type_prefix, function in DECLARED.findall(text):
            names.add(function or type_prefix + '_get_type')
    return names


def main(root, library, generated):
    headers = [path for path in sorted(pathlib.Path(root, 'asyncgui').glob('*/ag-*.h'))
               if not re.search(r'-(private|internal)\.h$', path.name)]
    headers += [pathlib.Path(path) for path in generated]
    promised = declared(headers)

    output = subprocess.run(['nm', '-D', '--defined-only', library],
                            check=True, capture_output=True, text=True).stdout
    exported = {line.split()[-1] for line in output.splitlines() if line.split()[-1].startswith(('ag_', '_ag_'))}

    for name in sorted(unmarked(headers, promised)):
        print(f'{name} is declared in a public header without AG_AVAILABLE_IN_*, so it is hidden')
        promised.add(name)

    missing = sorted(promised - exported)
    extra = sorted(exported - promised)
    for name in missing:
        print(f'{name} is declared public but not exported')
    for name in extra:
        print(f'{name} is exported but no public header declares it with AG_AVAILABLE_IN_*')
    if missing or extra:
        return 1
    print(f'{len(exported)} exported symbols, each declared public')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
