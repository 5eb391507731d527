/* test-channel-error-detail.c: a channel transform's error detail reaches
 * the writer and the reader
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

/* Fails the item equal to user_data with a detail: the string
 * "refused <n>", as a binding would pass its exception object; doubles
 * the others. */
static void
refuse_with_detail (AgChannelTransform *transform,
                    const GValue       *value,
                    gpointer            user_data)
{
  g_auto(GValue) result = G_VALUE_INIT;
  int n = g_value_get_int (value);

  if (n == GPOINTER_TO_INT (user_data))
    {
      g_auto(GValue) detail = G_VALUE_INIT;

      g_value_init (&detail, G_TYPE_STRING);
      g_value_take_string (&detail, g_strdup_printf ("refused %d", n));
      ag_channel_transform_return_error_full (transform,
                                              g_error_new (TEST_ERROR, 7, "cannot take %d", n),
                                              &detail);
      return;
    }

  g_value_init (&result, G_TYPE_INT);
  g_value_set_int (&result, n * 2);
  ag_channel_transform_return_value (transform, &result);
}

static void
write_int_async (AgChannel           *channel,
                 int                  n,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, n);
  ag_channel_write_async (channel, &value, NULL, callback, user_data);
}

typedef struct
{
  gboolean  done;
  GError   *error;
  GArray   *items;
  char     *detail;  /* the detail's string, if there was one */
} Outcome;

static void
outcome_clear (Outcome *outcome)
{
  g_clear_error (&outcome->error);
  g_clear_pointer (&outcome->items, g_array_unref);
  g_clear_pointer (&outcome->detail, g_free);
  outcome->done = FALSE;
}

static char *
detail_string (const GValue *detail)
{
  if (detail == NULL)
    return NULL;

  g_assert_true (G_VALUE_HOLDS_STRING (detail));
  return g_value_dup_string (detail);
}

static void
write_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  AgChannel *channel = AG_CHANNEL (source);
  Outcome *outcome = user_data;

  ag_channel_write_finish (channel, result, &outcome->error);
  outcome->detail = detail_string (ag_channel_get_write_error_detail (channel, result));
  outcome->done = TRUE;
}

static void
read_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  AgChannelReader *reader = AG_CHANNEL_READER (source);
  Outcome *outcome = user_data;

  outcome->items = ag_channel_reader_read_finish (reader, result, &outcome->error);
  outcome->detail = detail_string (ag_channel_reader_get_error_detail (reader));
  outcome->done = TRUE;
}

static void
write_ints (AgChannel *channel,
            int        from,
            int        to)
{
  for (int i = from; i < to; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_autoptr(GError) error = NULL;

      g_value_init (&value, G_TYPE_INT);
      g_value_set_int (&value, i);
      g_assert_true (ag_channel_write (channel, &value, 0, &error));
      g_assert_no_error (error);
    }
}

static void
test_channel_write_transform_detail_reaches_the_writer (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = NULL;
  Outcome outcome = { 0 };

  ag_channel_set_write_transform (channel, refuse_with_detail, GINT_TO_POINTER (3), NULL);
  reader = ag_channel_open_reader (channel);

  write_int_async (channel, 3, write_done, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, TEST_ERROR, 7);
  g_assert_cmpstr (outcome.detail, ==, "refused 3");
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 0);
  outcome_clear (&outcome);

  /* A write that succeeds has no detail. */
  write_int_async (channel, 1, write_done, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);
  g_assert_null (outcome.detail);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 1);
  outcome_clear (&outcome);
}

static gboolean
write_int (AgChannel  *channel,
           int         n,
           GError    **error)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, n);
  return ag_channel_write (channel, &value, 0, error);
}

/* In another thread: a blocking write of 3, which the transform refuses;
 * what that thread sees as the detail, before and after. */
static gpointer
write_refused_in_a_thread (gpointer data)
{
  AgChannel *channel = data;
  g_autoptr(GError) error = NULL;
  char *detail;

  g_assert_false (write_int (channel, 5, &error));
  g_assert_error (error, TEST_ERROR, 7);
  detail = detail_string (ag_channel_get_write_error_detail (channel, NULL));
  g_assert_cmpstr (detail, ==, "refused 5");

  return detail;
}

static void
test_channel_blocking_write_detail_stays_with_the_writing_thread (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannel) other = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  GThread *thread;
  char *detail;

  ag_channel_set_write_transform (channel, refuse_with_detail, GINT_TO_POINTER (5), NULL);
  reader = ag_channel_open_reader (channel);

  g_assert_false (write_int (channel, 5, &error));
  g_assert_error (error, TEST_ERROR, 7);
  g_clear_error (&error);
  g_assert_cmpstr (g_value_get_string (ag_channel_get_write_error_detail (channel, NULL)), ==,
                   "refused 5");
  /* Only for the channel written to. */
  g_assert_null (ag_channel_get_write_error_detail (other, NULL));

  /* Another thread's failed write is its own: this thread still sees its
   * detail, and that thread saw its. */
  thread = g_thread_new ("writer", write_refused_in_a_thread, channel);
  detail = g_thread_join (thread);
  g_assert_cmpstr (detail, ==, "refused 5");
  g_free (detail);
  g_assert_nonnull (ag_channel_get_write_error_detail (channel, NULL));

  /* The next blocking write on this thread forgets it, to any channel. */
  g_assert_true (write_int (other, 1, &error));
  g_assert_no_error (error);
  g_assert_null (ag_channel_get_write_error_detail (channel, NULL));

  /* A blocking write that fails for another reason has none. */
  ag_channel_close (channel);
  g_assert_false (write_int (channel, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_assert_null (ag_channel_get_write_error_detail (channel, NULL));
}

static void
test_channel_read_transform_detail_reaches_the_reader (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (8);
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;
  Outcome outcome = { 0 };

  ag_channel_set_read_transform (channel, refuse_with_detail, GINT_TO_POINTER (2), NULL);
  reader = ag_channel_open_reader (channel);
  write_ints (channel, 0, 5);

  /* Items 0 and 1; the error of item 2 waits for the next read, which
   * gets the detail with it. */
  items = ag_channel_reader_read (reader, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 2);
  g_assert_null (ag_channel_reader_get_error_detail (reader));

  ag_channel_reader_read_async (reader, 5, 0, NULL, read_done, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, TEST_ERROR, 7);
  g_assert_cmpstr (outcome.detail, ==, "refused 2");
  outcome_clear (&outcome);

  /* The next read forgets it. */
  ag_channel_reader_read_async (reader, 5, 0, NULL, read_done, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);
  g_assert_cmpuint (outcome.items->len, ==, 2);
  g_assert_null (outcome.detail);
  outcome_clear (&outcome);

  /* The failing item first: the read fails at once, in _finish, and a
   * blocking read gets the detail too. */
  write_ints (channel, 2, 3);
  ag_channel_reader_read_async (reader, 1, 0, NULL, read_done, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, TEST_ERROR, 7);
  g_assert_cmpstr (outcome.detail, ==, "refused 2");
  outcome_clear (&outcome);

  write_ints (channel, 2, 3);
  g_clear_pointer (&items, g_array_unref);
  items = ag_channel_reader_read (reader, 1, 0, &error);
  g_assert_null (items);
  g_assert_error (error, TEST_ERROR, 7);
  g_assert_cmpstr (g_value_get_string (ag_channel_reader_get_error_detail (reader)), ==,
                   "refused 2");
  g_clear_error (&error);

  /* A blocking read after the items before it gets the waiting error's
   * detail too. */
  write_ints (channel, 1, 3);
  items = ag_channel_reader_read (reader, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 1);
  g_assert_null (ag_channel_reader_get_error_detail (reader));
  g_clear_pointer (&items, g_array_unref);
  items = ag_channel_reader_read (reader, 0, 0, &error);
  g_assert_null (items);
  g_assert_error (error, TEST_ERROR, 7);
  g_assert_cmpstr (g_value_get_string (ag_channel_reader_get_error_detail (reader)), ==,
                   "refused 2");
}

/* Taking a detail moves it out: the reader, the result or the writing
 * thread no longer keeps it. */
static char *
taken_string (GValue *detail)
{
  char *text;

  g_assert_nonnull (detail);
  text = g_value_dup_string (detail);
  g_boxed_free (G_TYPE_VALUE, detail);
  return text;
}

static void
take_then_check_forgotten (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  AgChannel *channel = AG_CHANNEL (source);
  Outcome *outcome = user_data;

  g_assert_false (ag_channel_write_finish (channel, result, &outcome->error));
  outcome->detail = taken_string (ag_channel_take_write_error_detail (channel, result));
  g_assert_null (ag_channel_get_write_error_detail (channel, result));
  g_assert_null (ag_channel_take_write_error_detail (channel, result));
  outcome->done = TRUE;
}

static void
test_channel_taken_detail_is_forgotten (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (8);
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;
  g_autofree char *written = NULL;
  g_autofree char *read = NULL;
  Outcome outcome = { 0 };

  ag_channel_set_write_transform (channel, refuse_with_detail, GINT_TO_POINTER (3), NULL);
  ag_channel_set_read_transform (channel, refuse_with_detail, GINT_TO_POINTER (4), NULL);
  reader = ag_channel_open_reader (channel);

  /* An asynchronous write's. */
  write_int_async (channel, 3, take_then_check_forgotten, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_cmpstr (outcome.detail, ==, "refused 3");
  outcome_clear (&outcome);

  /* A blocking write's. */
  g_assert_false (write_int (channel, 3, &error));
  g_clear_error (&error);
  written = taken_string (ag_channel_take_write_error_detail (channel, NULL));
  g_assert_cmpstr (written, ==, "refused 3");
  g_assert_null (ag_channel_get_write_error_detail (channel, NULL));

  /* A read's: 2 is written as 4, which the read transform refuses. */
  write_ints (channel, 2, 3);
  items = ag_channel_reader_read (reader, 1, 0, &error);
  g_assert_error (error, TEST_ERROR, 7);
  read = taken_string (ag_channel_reader_take_error_detail (reader));
  g_assert_cmpstr (read, ==, "refused 4");
  g_assert_null (ag_channel_reader_get_error_detail (reader));
  g_assert_null (ag_channel_reader_take_error_detail (reader));
}

static void
test_channel_error_that_is_not_the_transforms_has_no_detail (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = NULL;
  Outcome outcome = { 0 };

  ag_channel_set_write_transform (channel, refuse_with_detail, GINT_TO_POINTER (3), NULL);
  reader = ag_channel_open_reader (channel);

  /* A write that fails for another reason has no detail. */
  ag_channel_close (channel);
  write_int_async (channel, 1, write_done, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_assert_null (outcome.detail);
  outcome_clear (&outcome);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/channel/write-transform-detail-reaches-the-writer",
                   test_channel_write_transform_detail_reaches_the_writer);
  g_test_add_func ("/channel/blocking-write-detail-stays-with-the-writing-thread",
                   test_channel_blocking_write_detail_stays_with_the_writing_thread);
  g_test_add_func ("/channel/read-transform-detail-reaches-the-reader",
                   test_channel_read_transform_detail_reaches_the_reader);
  g_test_add_func ("/channel/taken-detail-is-forgotten", test_channel_taken_detail_is_forgotten);
  g_test_add_func ("/channel/error-that-is-not-the-transform-s-has-no-detail",
                   test_channel_error_that_is_not_the_transforms_has_no_detail);

  return g_test_run ();
}
