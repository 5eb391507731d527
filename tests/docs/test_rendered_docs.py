#!/usr/bin/python3
# test_rendered_docs.py: the API reference as a browser shows it
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Loads the built reference in WebKitGTK (a headless browser under Xvfb,
# through build-aux/with-display.sh): the index, every guide and binding
# page, and every class page. Each must load, render text and a title, and
# every link it shows must lead somewhere: a page of the site that exists
# (and, for a link to #anchor, holds that anchor), or a web address
# (only checked for shape: this machine has no network). Every other page
# of the site is read as HTML and its links are checked the same way.
#
# Usage: test_rendered_docs.py SITE-DIR. Exits 77 (a skip, which says why)
# without WebKitGTK's introspection data (Debian: gir1.2-webkit2-4.1) or a
# display.

import html.parser
import json
import os
import sys
import urllib.parse

EXIT_SKIP = 77

os.environ.setdefault('WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS', '1')
os.environ.setdefault('WEBKIT_DISABLE_COMPOSITING_MODE', '1')

try:
    import gi
    gi.require_version('Gtk', '3.0')
    gi.require_version('WebKit2', '4.1')
    from gi.repository import GLib, Gtk, WebKit2
except (ImportError, ValueError) as error:
    print('SKIP: WebKitGTK is not available (%s; Debian: gir1.2-webkit2-4.1)' % error)
    sys.exit(EXIT_SKIP)

LINKS_JS = '''JSON.stringify({
  title: document.title,
  text: document.body ? document.body.innerText.length : 0,
  links: Array.from(document.querySelectorAll("a[href], link[href], img[src], script[src]"))
              .map(e => e.getAttribute("href") || e.getAttribute("src"))
})'''


class Anchors(html.parser.HTMLParser):
    """The ids and names a page holds, and the links it has."""

    def __init__(self):
        super().__init__()
        self.ids = set()
        self.links = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ('id', 'name'):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ('href', 'src'):
            if attrs.get(key) and tag in ('a', 'link', 'img', 'script'):
                self.links.append(attrs[key])


_parsed = {}


def parse(path):
    if path not in _parsed:
        parser = Anchors()
        with open(path, encoding='utf-8', errors='replace') as f:
            parser.feed(f.read())
        _parsed[path] = parser
    return _parsed[path]


def broken_links(site, page, links):
    broken = []
    for link in links:
        url = urllib.parse.urlsplit(link)
        if url.scheme in ('http', 'https'):
            if not url.netloc:
                broken.append((link, 'a web address without a host'))
            continue
        if url.scheme in ('mailto', 'javascript', 'data'):
            continue
        if url.scheme == 'file':
            target = urllib.parse.unquote(url.path)
        elif url.scheme:
            broken.append((link, 'an unknown scheme'))
            continue
        elif url.path:
            target = os.path.normpath(os.path.join(os.path.dirname(page),
                                                   urllib.parse.unquote(url.path)))
        else:
            target = page
        if not os.path.exists(target):
            broken.append((link, 'no such file'))
        elif url.fragment and target.endswith('.html') and url.fragment not in parse(target).ids:
            broken.append((link, 'no anchor %r in %s' % (url.fragment, os.path.relpath(target, site))))
    return broken


def render(view, page):
    """Loads @page; returns what the page shows (a dict) or an error."""
    outcome = {}
    loop = GLib.MainLoop()

    def on_load_changed(view, event):
        if event == WebKit2.LoadEvent.FINISHED and 'error' not in outcome:
            view.evaluate_javascript(LINKS_JS, -1, None, None, None, on_evaluated)

    def on_load_failed(view, event, uri, error):
        outcome['error'] = error.message
        loop.quit()
        return True

    def on_evaluated(view, result):
        try:
            outcome.update(json.loads(view.evaluate_javascript_finish(result).to_string()))
        except GLib.Error as error:
            outcome['error'] = error.message
        loop.quit()

    def on_timeout():
        outcome['error'] = 'did not load within 30 s'
        outcome['timed_out'] = True
        loop.quit()
        return GLib.SOURCE_REMOVE

    handlers = [view.connect('load-changed', on_load_changed),
                view.connect('load-failed', on_load_failed)]
    timeout = GLib.timeout_add_seconds(30, on_timeout)
    view.load_uri(GLib.filename_to_uri(page))
    loop.run()
    if not outcome.get('timed_out'):
        GLib.source_remove(timeout)
    for handler in handlers:
        view.disconnect(handler)
    return outcome


def main(site):
    site = os.path.abspath(site)
    if not Gtk.init_check([])[0]:
        print('SKIP: no display for the browser')
        return EXIT_SKIP

    pages = sorted(os.path.join(site, name) for name in os.listdir(site) if name.endswith('.html'))
    rendered = [p for p in pages
                if not os.path.basename(p).split('.')[0] in ('ctor', 'method', 'func', 'vfunc',
                                                             'property', 'signal', 'const',
                                                             'callback', 'type', 'enum',
                                                             'flags', 'error', 'iface', 'struct',
                                                             'alias')]
    window = Gtk.OffscreenWindow()
    view = WebKit2.WebView()
    window.add(view)
    window.show_all()

    failures = []
    n_links = 0
    for page in rendered:
        shown = render(view, page)
        name = os.path.relpath(page, site)
        if 'error' in shown:
            failures.append('%s: %s' % (name, shown['error']))
            continue
        if not shown.get('title') or shown.get('text', 0) < 20:
            failures.append('%s: rendered without a title or text' % name)
        n_links += len(shown.get('links', []))
        for link, why in broken_links(site, page, shown.get('links', [])):
            failures.append('%s: link %s: %s' % (name, link, why))

    for page in pages:
        if page in rendered:
            continue
        for link, why in broken_links(site, page, parse(page).links):
            failures.append('%s: link %s: %s' % (os.path.relpath(page, site), link, why))

    print('%d pages rendered in WebKitGTK %d.%d (%d links shown), %d more read; %d problems'
          % (len(rendered), WebKit2.get_major_version(), WebKit2.get_minor_version(),
             n_links, len(pages) - len(rendered), len(failures)))
    for failure in failures:
        print('  ' + failure)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
