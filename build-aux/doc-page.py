#!/usr/bin/python3
"""Makes a page of the API reference from a README kept beside its code.

Usage: doc-page.py INPUT OUTPUT TITLE SLUG SOURCE-URL

Writes INPUT to OUTPUT with the Title/Slug header gi-docgen reads, and
turns the README's relative links into links that work from the rendered
site: a guide in docs/ becomes its page (docs/threading.md ->
threading.html), anything else a link into the source tree at SOURCE-URL.
"""

import os
import re
import sys

LINK = re.compile(r'\]\((?!https?:|mailto:|#)([^)\s]+)\)')


def main(input_path, output_path, title, slug, source_url):
    folder = os.path.relpath(os.path.dirname(os.path.abspath(input_path)),
                             os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    def rewrite(match):
        target, _, fragment = match.group(1).partition('#')
        path = os.path.normpath(os.path.join(folder, target))
        if path.startswith('docs' + os.sep) and path.endswith('.md'):
            page = os.path.splitext(os.path.basename(path))[0] + '.html'
        else:
            page = '%s/%s' % (source_url.rstrip('/'), path)
        return '](%s%s)' % (page, '#' + fragment if fragment else '')

    with open(input_path, encoding='utf-8') as f:
        text = f.read()
    with open(output_path, 'w', encoding='utf-8') as f:
        f.write('Title: %s\nSlug: %s\n\n' % (title, slug))
        f.write(LINK.sub(rewrite, text))


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:]))
