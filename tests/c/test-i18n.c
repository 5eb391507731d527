/* test-i18n.c: the library's messages reach people in their language
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run under LANGUAGE=de with a UTF-8 locale (tests/c/meson.build sets
 * both), reading the German catalogue built in the build tree. Each test
 * runs in a fresh subprocess, so "the first message of the process" means
 * what it says whatever order the tests run in.
 */

#include "config.h"

#include <locale.h>
#include <string.h>
#include <libintl.h>

#include "test-util.h"

/* Makes a message without an engine: a write to a full channel is refused
 * at once, on the core and the channel layers alone. */
static char *
message_of_a_full_channel (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (1);
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, 1);
  g_assert_true (ag_channel_write (channel, &value, 0, &error));
  g_assert_no_error (error);

  g_assert_false (ag_channel_write (channel, &value, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  return g_strdup (error->message);
}

/* The library binds its domain to its installed folder when it makes its
 * first message. Tests read the catalogue built in the build tree, so they
 * point the domain there after that first binding, as an application that
 * ships the catalogue elsewhere would. */
static void
use_the_build_tree_catalogue (void)
{
  g_free (message_of_a_full_channel ());
  bindtextdomain (GETTEXT_PACKAGE, AG_TEST_LOCALEDIR);
}

static void
test_first_message_binds_the_catalogue_without_an_engine (void)
{
  g_autofree char *message = NULL;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  /* Whatever the domain was bound to before, the library's first message
   * binds it to where the library installs its catalogues. */
  bindtextdomain (GETTEXT_PACKAGE, "/nonexistent/locale");
  message = message_of_a_full_channel ();

  g_assert_cmpstr (bindtextdomain (GETTEXT_PACKAGE, NULL), ==, LOCALEDIR);
  /* No engine was made, nor even its type registered. */
  g_assert_cmpuint (g_type_from_name ("AgEngine"), ==, 0);
}

static void
test_message_before_any_engine_is_translated (void)
{
  g_autofree char *message = NULL;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  use_the_build_tree_catalogue ();
  message = message_of_a_full_channel ();

  g_assert_cmpstr (message, ==, "Der Kanal ist voll");
  g_assert_cmpuint (g_type_from_name ("AgEngine"), ==, 0);
}

static void
test_cancelled_task_message_is_translated (void)
{
  g_autoptr(AgEngine) engine = NULL;
  g_autoptr(AgTask) task = NULL;
  AgTestOutcome outcome;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  use_the_build_tree_catalogue ();

  engine = ag_engine_new ();
  ag_test_outcome_init (&outcome, engine);
  task = ag_task_new_sleep (AG_TEST_SAFETY_MS * 6);
  ag_engine_run_async (engine, task, NULL, ag_test_outcome_callback, &outcome);
  ag_task_cancel (task);
  ag_test_run_until (NULL, outcome.n_calls == 1, AG_TEST_SAFETY_MS);

  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (outcome.error->message, ==, "Die Aufgabe wurde abgebrochen");
  ag_test_outcome_clear (&outcome);
}

int
main (int   argc,
      char *argv[])
{
  const char *messages_locale;

  ag_test_init (&argc, &argv);

  /* As an application does. glibc ignores LANGUAGE under the "C" locale,
   * so a run without a real locale would test nothing: say so loudly. */
  setlocale (LC_ALL, "");
  messages_locale = setlocale (LC_MESSAGES, NULL);
  if (g_strcmp0 (g_getenv ("LANGUAGE"), "de") != 0
      || messages_locale == NULL
      || strcmp (messages_locale, "C") == 0
      || strcmp (messages_locale, "POSIX") == 0)
    g_error ("test-i18n needs LANGUAGE=de and an installed locale such as "
             "LC_ALL=C.UTF-8 (it has LANGUAGE=%s, LC_MESSAGES=%s)",
             g_getenv ("LANGUAGE"), messages_locale);

  g_test_add_func ("/i18n/first-message-binds-the-catalogue-without-an-engine",
                   test_first_message_binds_the_catalogue_without_an_engine);
  g_test_add_func ("/i18n/message-before-any-engine-is-translated",
                   test_message_before_any_engine_is_translated);
  g_test_add_func ("/i18n/cancelled-task-message-is-translated",
                   test_cancelled_task_message_is_translated);

  return g_test_run ();
}
