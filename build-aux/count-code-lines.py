#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Count the code lines of Python and JavaScript files: lines that are not
blank, not comments and, in Python, not docstrings (documentation is
wanted, so it must not count against the size of a binding).

Usage: count-code-lines.py FILE...
"""

import io
import sys
import tokenize

_LAYOUT = (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
           tokenize.COMMENT)


def _docstring_lines(source):
    lines = set()
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    for i, token in enumerate(tokens):
        if token.type != tokenize.STRING:
            continue
        before = i - 1
        while before >= 0 and tokens[before].type in _LAYOUT:
            before -= 1
        # A string that is a statement of its own: after the start, a
        # finished statement or a colon, and followed by the statement's end.
        starts = before < 0 or tokens[before].type == tokenize.NEWLINE \
            or tokens[before].string == ':'
        if starts and tokens[i + 1].type == tokenize.NEWLINE:
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines


def count_python(source):
    skip = _docstring_lines(source)
    return sum(1 for number, line in enumerate(source.splitlines(), 1)
               if line.strip() and not line.strip().startswith('#')
               and number not in skip)


def count_javascript(source):
    count = 0
    in_comment = False
    for line in source.splitlines():
        text = line.strip()
        if in_comment:
            if '*/' not in text:
                continue
            in_comment = False
            text = text.split('*/', 1)[1].strip()
        if text.startswith('/*'):
            in_comment = '*/' not in text
            continue
        if text and not text.startswith('//'):
            count += 1
    return count


def main(paths):
    for path in paths:
        with open(path, encoding='utf-8') as f:
            source = f.read()
        count = count_python(source) if path.endswith('.py') else count_javascript(source)
        print(f'{count:6d} {path}')


if __name__ == '__main__':
    main(sys.argv[1:])
