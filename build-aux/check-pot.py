#!/usr/bin/python3
"""Checks that a committed catalogue template (.pot) is current: it holds
exactly the messages xgettext extracts from POTFILES.in now, with the same
contexts and plural forms (dates, line references and comments are not
compared). Then checks that every translation named in LINGUAS exists and
passes `msgfmt --check`.

A message added, changed or removed in the code without regenerating the
template (`meson compile -C build <package>-pot`) never reaches
translators; this is what it catches.

Usage: check-pot.py --xgettext PROG --msgfmt PROG --source-root DIR
                    --po-dir DIR --package NAME -- XGETTEXT-ARG...
"""

import argparse
import pathlib
import subprocess
import sys
import tempfile


def unquote(text):
    """The value of one C-quoted PO string (without its quotes)."""
    out = []
    chars = iter(text)
    escapes = {'n': '\n', 't': '\t', '"': '"', '\\': '\\', 'r': '\r',
               'a': '\a', 'b': '\b', 'f': '\f', 'v': '\v'}
    for c in chars:
        if c == '\\':
            c = next(chars)
            out.append(escapes.get(c, '\\' + c))
        else:
            out.append(c)
    return ''.join(out)


def read_messages(path):
    """The set of (context, msgid, plural msgid) of a PO or POT file,
    leaving out the header and obsolete (#~) entries."""
    messages = set()
    entry = {}
    field = None

    def flush():
        if 'msgid' in entry and entry['msgid'] != '':
            messages.add((entry.get('msgctxt'), entry['msgid'], entry.get('msgid_plural')))
        entry.clear()

    for line in pathlib.Path(path).read_text(encoding='utf-8').splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            if not line:
                flush()
                field = None
            continue
        if line.startswith('"'):
            if field is not None:
                entry[field] += unquote(line[1:-1])
            continue
        keyword, _, rest = line.partition(' ')
        if keyword in ('msgctxt', 'msgid') and ('msgstr' in entry or 'msgstr[0]' in entry):
            flush()
        field = keyword
        entry[field] = unquote(rest.strip()[1:-1])
    flush()
    return messages


def describe(message):
    context, msgid, plural = message
    text = repr(msgid)
    if plural is not None:
        text += f' / plural {plural!r}'
    if context is not None:
        text += f' (context {context!r})'
    return text


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--xgettext', required=True)
    parser.add_argument('--msgfmt', required=True)
    parser.add_argument('--source-root', required=True)
    parser.add_argument('--po-dir', required=True)
    parser.add_argument('--package', required=True)
    parser.add_argument('xgettext_args', nargs='*')
    args = parser.parse_args()

    root = pathlib.Path(args.source_root)
    po_dir = root / args.po_dir
    committed = po_dir / f'{args.package}.pot'
    failures = 0

    with tempfile.TemporaryDirectory() as tmp:
        fresh = pathlib.Path(tmp) / f'{args.package}.pot'
        # As Meson's gettext helper runs it for the -pot target.
        subprocess.run([args.xgettext, f'--package-name={args.package}',
                        '-f', str(po_dir / 'POTFILES.in'), '-D', str(root),
                        '-k_', '-o', str(fresh)] + args.xgettext_args,
                       check=True)
        extracted = read_messages(fresh)

    if not committed.exists():
        print(f'{args.po_dir}/{committed.name} is missing')
        return 1
    stored = read_messages(committed)
    for message in sorted(extracted - stored, key=str):
        print(f'{args.po_dir}/{committed.name} lacks {describe(message)}')
        failures += 1
    for message in sorted(stored - extracted, key=str):
        print(f'{args.po_dir}/{committed.name} still has {describe(message)}, '
              'which the code no longer has')
        failures += 1
    if failures:
        print(f'{failures} difference(s): regenerate the template with '
              f'`meson compile -C <build> {args.package}-pot` and commit it')
    else:
        print(f'{args.po_dir}/{committed.name} is current ({len(stored)} messages)')

    linguas = po_dir / 'LINGUAS'
    languages = []
    if linguas.exists():
        for line in linguas.read_text(encoding='utf-8').splitlines():
            languages += line.split('#', 1)[0].split()
    for language in languages:
        po = po_dir / f'{language}.po'
        if not po.exists():
            print(f'{args.po_dir}/LINGUAS names {language}, but {po.name} is missing')
            failures += 1
            continue
        # --check: format strings match their msgid, plural forms match the
        # header's nplurals, the header is filled in. The output goes to a
        # file of our own: msgfmt renames its output over the target, and
        # as root it would replace /dev/null with a regular file.
        with tempfile.TemporaryDirectory() as scratch:
            result = subprocess.run([args.msgfmt, '--check', '--statistics',
                                     f'--output-file={scratch}/{language}.mo', str(po)],
                                    capture_output=True, text=True)
        report = (result.stdout + result.stderr).strip()
        print(f'{args.po_dir}/{po.name}: {report}')
        if result.returncode != 0:
            failures += 1

    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
