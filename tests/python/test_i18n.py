#!/usr/bin/python3
# test_i18n.py: the library's messages reach Python in the user's language
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# meson test runs this under LANGUAGE=de and LC_ALL=C.UTF-8 (glibc ignores
# LANGUAGE under the "C" locale; C.UTF-8 is built into glibc), and names
# the build tree's catalogue folder in AG_TEST_LOCALEDIR, so the German
# catalogue is read before anything is installed.

import locale
import os
import sys

import agtest
from agtest import AsyncGui, GLib
from gi.repository import Gio  # noqa: E402

GETTEXT_PACKAGE = 'asyncgui-1'


class I18nTest(agtest.JobTestCase):
    def cancel_a_task(self):
        """Runs a long sleep task, cancels it, and returns the error its
        callback got."""
        outcome = {}

        def done(engine, result, *user_data):
            try:
                outcome['value'] = engine.run_finish(result)
            except GLib.Error as error:
                outcome['error'] = error

        task = AsyncGui.Task.new_sleep(60000)
        self.engine.run_async(task, None, done)
        task.cancel()
        self.run_loop_until(lambda: outcome)
        self.assertNotIn('value', outcome, 'a cancelled task gave a value')
        self.assertTrue(outcome['error'].matches(Gio.io_error_quark(),
                                                 Gio.IOErrorEnum.CANCELLED))
        self.assertEqual(task.get_error().message, outcome['error'].message)
        return outcome['error']

    def test_cancelled_task_error_message_is_translated(self):
        # The library binds its domain to its installed folder when it makes
        # its first message; the test points it at the build tree after
        # that, as an application shipping the catalogue elsewhere would.
        self.cancel_a_task()
        locale.bindtextdomain(GETTEXT_PACKAGE, os.environ['AG_TEST_LOCALEDIR'])

        self.assertEqual(self.cancel_a_task().message, 'Die Aufgabe wurde abgebrochen')

def main():
    locale.setlocale(locale.LC_ALL, '')
    messages_locale = locale.setlocale(locale.LC_MESSAGES)
    if os.environ.get('LANGUAGE') != 'de' or messages_locale in ('C', 'POSIX'):
        sys.exit('test_i18n.py needs LANGUAGE=de and an installed locale such as '
                 'LC_ALL=C.UTF-8 (it has LANGUAGE=%s, LC_MESSAGES=%s)'
                 % (os.environ.get('LANGUAGE'), messages_locale))
    return agtest.main(I18nTest)


if __name__ == '__main__':
    sys.exit(main())
