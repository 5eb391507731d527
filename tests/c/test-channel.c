/* test-channel.c: AgChannel's behaviour
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

/* Helpers */

static gboolean
write_int (AgChannel  *channel,
           int         n,
           int         timeout_ms,
           GError    **error)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, n);
  return ag_channel_write (channel, &value, timeout_ms, error);
}

static void
write_ints (AgChannel *channel,
            int        from,
            int        to)
{
  for (int i = from; i < to; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (write_int (channel, i, 0, &error));
      g_assert_no_error (error);
    }
}

static int
item_int (GArray *items,
          guint   i)
{
  GValue *value = &g_array_index (items, GValue, i);

  g_assert_true (G_VALUE_HOLDS_INT (value));
  return g_value_get_int (value);
}

static void
assert_ints (GArray *items,
             int     from,
             int     to)
{
  g_assert_nonnull (items);
  g_assert_cmpuint (items->len, ==, (guint) (to - from));
  for (int i = from; i < to; i++)
    g_assert_cmpint (item_int (items, i - from), ==, i);
}

static GArray *
read_now (AgChannelReader *reader,
          guint            count)
{
  g_autoptr(GError) error = NULL;
  GArray *items = ag_channel_reader_read (reader, count, 0, &error);

  g_assert_no_error (error);
  return items;
}

/* The callback of an async read or write: what it saw. */
typedef struct
{
  gboolean  done;
  GArray   *items;
  gboolean  written;
  GError   *error;
  GThread  *thread;
  const char *source;    /* interned name of the source that called back */
  int       priority;    /* and its priority */
} Outcome;

static void
outcome_clear (Outcome *outcome)
{
  g_clear_pointer (&outcome->items, g_array_unref);
  g_clear_error (&outcome->error);
  outcome->done = FALSE;
  outcome->written = FALSE;
}

/* Notes which source is calling back. */
static void
outcome_note_source (Outcome *outcome)
{
  GSource *current = g_main_current_source ();

  outcome->source = current != NULL ? g_intern_string (g_source_get_name (current)) : NULL;
  outcome->priority = current != NULL ? g_source_get_priority (current) : 0;
}

static void
read_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Outcome *outcome = user_data;

  g_assert_false (outcome->done);
  outcome_note_source (outcome);
  outcome->items = ag_channel_reader_read_finish (AG_CHANNEL_READER (source), result,
                                                  &outcome->error);
  outcome->thread = g_thread_self ();
  outcome->done = TRUE;
}

static void
write_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Outcome *outcome = user_data;

  g_assert_false (outcome->done);
  outcome_note_source (outcome);
  outcome->written = ag_channel_write_finish (AG_CHANNEL (source), result, &outcome->error);
  outcome->thread = g_thread_self ();
  outcome->done = TRUE;
}

static void
write_int_async (AgChannel    *channel,
                 int           n,
                 GCancellable *cancellable,
                 Outcome      *outcome)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, n);
  ag_channel_write_async (channel, &value, cancellable, write_done, outcome);
}

/* Starts a read of @count that has to wait, and checks it waits. */
static void
start_waiting_read (AgChannelReader *reader,
                    guint            count,
                    GCancellable    *cancellable,
                    Outcome         *outcome)
{
  ag_channel_reader_read_async (reader, count, -1, cancellable, read_done, outcome);
  ag_test_run_for (NULL, 20);
  g_assert_false (outcome->done);
}

/* Starts a write of @n to a full channel, and checks it waits. */
static void
start_waiting_write (AgChannel    *channel,
                     int           n,
                     GCancellable *cancellable,
                     Outcome      *outcome)
{
  write_int_async (channel, n, cancellable, outcome);
  ag_test_run_for (NULL, 20);
  g_assert_false (outcome->done);
}

/* Runs until the read or write has called back; checks it failed as
 * cancelled with nothing read or written, and clears it. */
static void
assert_ends_cancelled (Outcome *outcome)
{
  ag_test_run_until (NULL, outcome->done, AG_TEST_SAFETY_MS);
  g_assert_error (outcome->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (outcome->items);
  g_assert_false (outcome->written);
  outcome_clear (outcome);
}

/* A thread that writes n_items ints from `from`, blocking. */
typedef struct
{
  AgChannel *channel;
  int        from;
  int        n_items;
  guint      delay_ms;      /* before each write */
  int        timeout_ms;
  int        n_written;     /* atomic */
  GError    *error;
  guint      max_length;    /* the most the channel held after a write */
} Producer;

static gpointer
produce (gpointer data)
{
  Producer *producer = data;

  for (int i = 0; i < producer->n_items; i++)
    {
      guint length;

      if (producer->delay_ms > 0)
        g_usleep (producer->delay_ms * 1000);
      if (!write_int (producer->channel, producer->from + i, producer->timeout_ms,
                      &producer->error))
        break;
      g_atomic_int_inc (&producer->n_written);
      length = ag_channel_get_length (producer->channel);
      producer->max_length = MAX (producer->max_length, length);
    }

  return NULL;
}

static GThread *
start_producer (Producer  *producer,
                AgChannel *channel,
                int        from,
                int        n_items,
                guint      delay_ms)
{
  producer->channel = channel;
  producer->from = from;
  producer->n_items = n_items;
  producer->delay_ms = delay_ms;
  producer->timeout_ms = AG_TEST_SAFETY_MS;
  return g_thread_new ("producer", produce, producer);
}

/* Capacity and blocking */

static void
test_channel_bounded_capacity_blocks_writers_until_a_read (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (2);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;
  Producer producer = { 0 };
  GThread *thread;
  gint64 start;

  g_assert_cmpuint (ag_channel_get_capacity (channel), ==, 2);
  write_ints (channel, 0, 2);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 2);

  g_assert_false (write_int (channel, 2, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  g_clear_error (&error);

  start = g_get_monotonic_time ();
  g_assert_false (write_int (channel, 2, 50, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_cmpfloat (ag_test_elapsed_ms (start), >=, 45);

  /* A writer thread blocks on the full channel... */
  thread = start_producer (&producer, channel, 2, 1, 0);
  g_usleep (100000);
  g_assert_cmpint (g_atomic_int_get (&producer.n_written), ==, 0);

  /* ...until a read makes room. */
  items = read_now (reader, 1);
  assert_ints (items, 0, 1);
  g_thread_join (thread);
  g_assert_no_error (producer.error);
  g_assert_cmpint (producer.n_written, ==, 1);
  g_clear_pointer (&items, g_array_unref);

  items = read_now (reader, 0);
  assert_ints (items, 1, 3);
}

static void
test_channel_read_timeout_returns_what_arrived (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (8);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;
  Producer producer = { 0 };
  GThread *thread;
  gint64 start;

  thread = start_producer (&producer, channel, 0, 2, 20);

  start = g_get_monotonic_time ();
  items = ag_channel_reader_read (reader, 5, 500, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (ag_test_elapsed_ms (start), >=, 450);
  assert_ints (items, 0, 2);
  g_thread_join (thread);
  g_clear_pointer (&items, g_array_unref);

  /* Nothing there and no time to wait: an empty array at once. */
  items = ag_channel_reader_read (reader, 3, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 0);
  g_assert_false (ag_channel_reader_is_drained (reader));
}

static void
test_channel_read_of_count_items_collects_them_as_they_come (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (2);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;
  Producer producer = { 0 };
  GThread *thread;

  /* More than the capacity: the read takes items as they arrive. */
  thread = start_producer (&producer, channel, 0, 7, 1);
  items = ag_channel_reader_read (reader, 7, AG_TEST_SAFETY_MS, &error);
  g_assert_no_error (error);
  assert_ints (items, 0, 7);
  g_thread_join (thread);
}

static void
test_channel_count_zero_returns_what_is_there (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (8);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;
  gint64 start;

  start = g_get_monotonic_time ();
  items = ag_channel_reader_read (reader, 0, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 0);
  g_assert_cmpfloat (ag_test_elapsed_ms (start), <, 1000);
  g_clear_pointer (&items, g_array_unref);

  write_ints (channel, 0, 5);
  items = ag_channel_reader_read (reader, 0, -1, &error);
  g_assert_no_error (error);
  assert_ints (items, 0, 5);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 0);
}

/* Closing */

static void
test_channel_close_lets_readers_drain_then_returns_empty_at_once (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (8);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;
  gint64 start;

  write_ints (channel, 0, 3);
  ag_channel_close (channel);
  ag_channel_close (channel);
  g_assert_true (ag_channel_is_closed (channel));
  g_assert_false (ag_channel_reader_is_drained (reader));

  start = g_get_monotonic_time ();
  items = ag_channel_reader_read (reader, 10, -1, &error);
  g_assert_no_error (error);
  assert_ints (items, 0, 3);
  g_clear_pointer (&items, g_array_unref);
  g_assert_true (ag_channel_reader_is_drained (reader));

  items = ag_channel_reader_read (reader, 10, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 0);
  g_assert_cmpfloat (ag_test_elapsed_ms (start), <, 1000);
}

static gpointer
close_later (gpointer data)
{
  g_usleep (100000);
  ag_channel_close (data);
  return NULL;
}

static void
test_channel_close_wakes_a_blocked_reader (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (8);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;
  GThread *thread;
  gint64 start;

  write_ints (channel, 0, 2);
  thread = g_thread_new ("closer", close_later, channel);

  start = g_get_monotonic_time ();
  items = ag_channel_reader_read (reader, 5, AG_TEST_SAFETY_MS, &error);
  g_assert_no_error (error);
  assert_ints (items, 0, 2);
  g_assert_cmpfloat (ag_test_elapsed_ms (start), >=, 95);
  g_assert_cmpfloat (ag_test_elapsed_ms (start), <, AG_TEST_SAFETY_MS / 2);
  g_thread_join (thread);
}

static void
test_channel_write_after_close_fails_closed (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GError) error = NULL;
  Outcome outcome = { 0 };

  g_assert_cmpuint (ag_channel_get_n_readers (channel), ==, reader != NULL);
  ag_channel_close (channel);
  g_assert_false (write_int (channel, 1, -1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);

  write_int_async (channel, 1, NULL, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_false (outcome.written);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  outcome_clear (&outcome);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 0);
}

static void
test_channel_close_fails_waiting_writes (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (1);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  Producer producer = { 0 };
  Outcome outcome = { 0 };
  GThread *thread;

  write_ints (channel, 0, 1);
  write_int_async (channel, 1, NULL, &outcome);
  thread = start_producer (&producer, channel, 2, 1, 0);
  ag_test_run_for (NULL, 50);
  g_assert_false (outcome.done);

  /* Closing the channel leaves its reader what was stored. */
  ag_channel_close (channel);
  g_assert_false (ag_channel_reader_is_drained (reader));
  g_thread_join (thread);
  g_assert_error (producer.error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_clear_error (&producer.error);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  outcome_clear (&outcome);
}

static void
test_channel_dropping_the_write_end_closes_it (void)
{
  AgChannel *channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;

  write_ints (channel, 0, 2);
  g_object_unref (channel);

  items = ag_channel_reader_read (reader, 5, -1, &error);
  g_assert_no_error (error);
  assert_ints (items, 0, 2);
  g_assert_true (ag_channel_reader_is_drained (reader));
}

/* Asynchronous reads and writes */

static void
test_channel_async_read_completes_when_items_arrive (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  Outcome outcome = { 0 };
  Producer producer = { 0 };
  GThread *thread;

  ag_channel_reader_read_async (reader, 3, -1, NULL, read_done, &outcome);
  ag_test_run_for (NULL, 50);
  g_assert_false (outcome.done);

  thread = start_producer (&producer, channel, 0, 3, 10);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_thread_join (thread);
  g_assert_no_error (outcome.error);
  assert_ints (outcome.items, 0, 3);
  g_assert_true (outcome.thread == ag_test_main_thread ());
  outcome_clear (&outcome);
}

static void
test_channel_async_read_completes_on_close (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  Outcome outcome = { 0 };

  write_ints (channel, 0, 1);
  ag_channel_reader_read_async (reader, 3, -1, NULL, read_done, &outcome);
  ag_test_run_for (NULL, 50);
  g_assert_false (outcome.done);

  ag_channel_close (channel);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);
  assert_ints (outcome.items, 0, 1);
  outcome_clear (&outcome);

  /* Drained: at once, empty. */
  ag_channel_reader_read_async (reader, 3, -1, NULL, read_done, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);
  g_assert_cmpuint (outcome.items->len, ==, 0);
  outcome_clear (&outcome);
}

static void
test_channel_async_read_timeout_returns_what_arrived (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  Outcome outcome = { 0 };
  gint64 start = g_get_monotonic_time ();

  write_ints (channel, 0, 2);
  ag_channel_reader_read_async (reader, 5, 100, NULL, read_done, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_cmpfloat (ag_test_elapsed_ms (start), >=, 95);
  g_assert_no_error (outcome.error);
  assert_ints (outcome.items, 0, 2);
  outcome_clear (&outcome);
}

static void
test_channel_async_write_waits_for_space (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (1);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GArray) items = NULL;
  Outcome first = { 0 }, second = { 0 };

  write_ints (channel, 0, 1);
  write_int_async (channel, 1, NULL, &first);
  write_int_async (channel, 2, NULL, &second);
  ag_test_run_for (NULL, 50);
  g_assert_false (first.done);
  g_assert_false (second.done);

  items = read_now (reader, 1);
  assert_ints (items, 0, 1);
  g_clear_pointer (&items, g_array_unref);
  ag_test_run_until (NULL, first.done, AG_TEST_SAFETY_MS);
  g_assert_no_error (first.error);
  g_assert_true (first.written);
  g_assert_true (first.thread == ag_test_main_thread ());
  g_assert_false (second.done);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 1);

  items = read_now (reader, 1);
  assert_ints (items, 1, 2);
  g_clear_pointer (&items, g_array_unref);
  ag_test_run_until (NULL, second.done, AG_TEST_SAFETY_MS);
  g_assert_true (second.written);

  items = read_now (reader, 0);
  assert_ints (items, 2, 3);
  outcome_clear (&first);
  outcome_clear (&second);
}

static void
test_channel_cancelled_async_read_loses_no_item (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GArray) items = NULL;
  Outcome outcome = { 0 };

  write_ints (channel, 0, 2);
  start_waiting_read (reader, 5, cancellable, &outcome);

  g_cancellable_cancel (cancellable);
  assert_ends_cancelled (&outcome);

  /* The two items it had taken are back, first in line. */
  write_ints (channel, 2, 3);
  items = read_now (reader, 0);
  assert_ints (items, 0, 3);

  /* Already cancelled: fails at once. */
  ag_channel_reader_read_async (reader, 1, -1, cancellable, read_done, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  outcome_clear (&outcome);
}

static void
test_channel_cancelled_async_write_stores_nothing (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (1);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GArray) items = NULL;
  Outcome outcome = { 0 };

  write_ints (channel, 0, 1);
  start_waiting_write (channel, 1, cancellable, &outcome);

  g_cancellable_cancel (cancellable);
  assert_ends_cancelled (&outcome);

  items = read_now (reader, 0);
  assert_ints (items, 0, 1);
  g_clear_pointer (&items, g_array_unref);
  ag_test_run_for (NULL, 20);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 0);
}

/* A cancel takes effect when it is made, not when the caller's context
 * next runs the cancellable's source: nothing that happens after
 * g_cancellable_cancel() returns ends the operation well. */
static void
test_channel_cancelled_async_read_takes_nothing_written_after_the_cancel (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (8);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GArray) items = NULL;
  Outcome outcome = { 0 };

  start_waiting_read (reader, 3, cancellable, &outcome);

  /* No iteration between the cancel and the writes. */
  g_cancellable_cancel (cancellable);
  write_ints (channel, 0, 5);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 5);

  assert_ends_cancelled (&outcome);

  items = read_now (reader, 0);
  assert_ints (items, 0, 5);
}

static void
test_channel_cancelled_async_read_gives_back_what_it_got_before_its_callback (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (8);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GArray) items = NULL;
  Outcome outcome = { 0 };

  start_waiting_read (reader, 3, cancellable, &outcome);

  /* The read has its three items and is on its way home... */
  write_ints (channel, 0, 3);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 0);
  g_assert_false (outcome.done);

  /* ...when it is cancelled: its caller gets the cancel, the items go
   * back to the front of the channel. */
  g_cancellable_cancel (cancellable);
  write_ints (channel, 3, 4);
  assert_ends_cancelled (&outcome);

  items = read_now (reader, 0);
  assert_ints (items, 0, 4);
}

/* With an engine on the context, a read that ended goes home through its
 * completion queue, its items still the channel's to take back. */
static void
test_channel_cancelled_async_read_on_its_way_home_puts_its_items_back_before_the_next_read (AgTestFixture *fixture,
                                                                                            gconstpointer  data)
{
  g_autoptr(AgChannel) channel = ag_channel_new (8);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GArray) items = NULL;
  Outcome outcome = { 0 };

  start_waiting_read (reader, 3, cancellable, &outcome);
  write_ints (channel, 0, 3);
  g_assert_false (outcome.done);

  /* Cancelled on its way home, then, before the context runs again,
   * another read: the cancelled read's items come first. */
  g_cancellable_cancel (cancellable);
  write_ints (channel, 3, 4);
  items = read_now (reader, 0);
  assert_ints (items, 0, 4);

  assert_ends_cancelled (&outcome);
  g_clear_pointer (&items, g_array_unref);
  items = read_now (reader, 0);
  g_assert_cmpuint (items->len, ==, 0);
}

/* The same three ways a cancel meets reads that have ended, with an
 * engine on the context and without one (a script's channel). */
static void
start_read_of (AgChannelReader *reader,
               guint            count,
               GCancellable    *cancellable,
               Outcome         *outcome)
{
  ag_channel_reader_read_async (reader, count, -1, cancellable, read_done, outcome);
}

static void
check_cancelled_ended_reads_give_back_first (void)
{
  /* An ended read cancelled before its callback; a read made at once. */
  {
    g_autoptr(AgChannel) channel = ag_channel_new (8);
    g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    Outcome ended = { 0 }, next = { 0 };

    write_ints (channel, 0, 2);
    start_read_of (reader, 2, cancellable, &ended);
    g_cancellable_cancel (cancellable);
    start_read_of (reader, 2, NULL, &next);
    write_ints (channel, 2, 4);
    ag_test_run_until (NULL, ended.done && next.done, AG_TEST_SAFETY_MS);
    g_assert_error (ended.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    assert_ints (next.items, 0, 2);
    outcome_clear (&ended);
    outcome_clear (&next);
  }

  /* One cancel for an ended read and a waiting one with an item: both
   * give back, the older items first. */
  {
    g_autoptr(AgChannel) channel = ag_channel_new (8);
    g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    Outcome ended = { 0 }, waiting = { 0 }, next = { 0 };

    write_ints (channel, 0, 2);
    start_read_of (reader, 2, cancellable, &ended);
    write_ints (channel, 2, 3);
    start_read_of (reader, 3, cancellable, &waiting);
    g_cancellable_cancel (cancellable);
    write_ints (channel, 3, 4);
    start_read_of (reader, 4, NULL, &next);
    ag_test_run_until (NULL, ended.done && waiting.done && next.done, AG_TEST_SAFETY_MS);
    assert_ints (next.items, 0, 4);
    outcome_clear (&ended);
    outcome_clear (&waiting);
    outcome_clear (&next);
  }

  /* A closed channel: the items an ended read gives back count, for its
   * length and for whether a reader is drained. */
  {
    g_autoptr(AgChannel) channel = ag_channel_new (8);
    g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    Outcome ended = { 0 }, next = { 0 };

    write_ints (channel, 0, 2);
    ag_channel_close (channel);
    start_read_of (reader, 2, cancellable, &ended);
    g_cancellable_cancel (cancellable);
    g_assert_false (ag_channel_reader_is_drained (reader));
    g_assert_cmpuint (ag_channel_get_length (channel), ==, 2);
    start_read_of (reader, 5, NULL, &next);
    ag_test_run_until (NULL, ended.done && next.done, AG_TEST_SAFETY_MS);
    assert_ints (next.items, 0, 2);
    g_assert_true (ag_channel_reader_is_drained (reader));
    outcome_clear (&ended);
    outcome_clear (&next);
  }
}

static void
test_channel_cancelled_ended_reads_give_back_first_with_an_engine (AgTestFixture *fixture,
                                                                   gconstpointer  data)
{
  check_cancelled_ended_reads_give_back_first ();
}

static void
test_channel_cancelled_ended_reads_give_back_first_without_an_engine (void)
{
  check_cancelled_ended_reads_give_back_first ();
}

/* Asynchronous reads on the engine's thread, cancelled at random moments
 * (waiting, on their way home, or done), beside a thread that reads with
 * blocking reads and two that write: every item is read exactly once, and
 * the asynchronous reads see each writer's items in the order written
 * (the blocking reader may not: an item it takes before a cancelled read
 * gives back earlier ones is rightly its). */

#define N_PER_WRITER 20000

typedef struct
{
  AgChannel *channel;
  int        tag;
  int       *n_done;            /* atomic */
} Writer;

static gpointer
write_numbers (gpointer user_data)
{
  Writer *writer = user_data;

  for (int i = 0; i < N_PER_WRITER; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (write_int (writer->channel, writer->tag * N_PER_WRITER + i, -1, &error));
      g_assert_no_error (error);
      if (i % 256 == 0)
        g_usleep (200);
    }
  g_atomic_int_inc (writer->n_done);

  return NULL;
}

static gpointer
read_numbers_blocking (gpointer user_data)
{
  AgChannelReader *reader = user_data;
  GArray *seen = g_array_new (FALSE, FALSE, sizeof (int));

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GArray) items = ag_channel_reader_read (reader, 3, -1, &error);

      g_assert_no_error (error);
      if (items->len == 0)
        return seen;
      for (guint i = 0; i < items->len; i++)
        {
          int number = item_int (items, i);

          g_array_append_val (seen, number);
        }
    }
}

typedef struct
{
  GArray   *seen;               /* int */
  gboolean  reading;
  gboolean  drained;
} AsyncReads;

static void
async_read_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  AsyncReads *reads = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = ag_channel_reader_read_finish (AG_CHANNEL_READER (source), result,
                                                          &error);

  reads->reading = FALSE;
  if (items == NULL)
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      return;
    }
  reads->drained = items->len == 0;
  for (guint i = 0; i < items->len; i++)
    {
      int number = item_int (items, i);

      g_array_append_val (reads->seen, number);
    }
}

static void
count_each (GArray *counts,
            GArray *seen)
{
  for (guint i = 0; i < seen->len; i++)
    g_array_index (counts, guint8, g_array_index (seen, int, i))++;
}

static void
test_channel_async_reads_cancelled_at_random_lose_and_repeat_no_item (AgTestFixture *fixture,
                                                                       gconstpointer  data)
{
  g_autoptr(AgChannel) channel = ag_channel_new (16);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(AgChannelReader) blocking_reader = ag_channel_open_reader (channel);
  g_autoptr(GArray) blocking_seen = NULL;
  g_autoptr(GArray) counts = g_array_new (FALSE, TRUE, sizeof (guint8));
  g_autoptr(GCancellable) cancellable = NULL;
  int n_writers_done = 0;
  Writer writers[2] = { { channel, 0, &n_writers_done }, { channel, 1, &n_writers_done } };
  AsyncReads reads = { g_array_new (FALSE, FALSE, sizeof (int)), FALSE, FALSE };
  GThread *threads[3];
  guint n_cancels = 0;
  int last[2] = { -1, -1 };

  threads[0] = g_thread_new ("writer 0", write_numbers, &writers[0]);
  threads[1] = g_thread_new ("writer 1", write_numbers, &writers[1]);
  threads[2] = g_thread_new ("blocking reader", read_numbers_blocking, blocking_reader);

  while (!reads.drained)
    {
      if (!reads.reading)
        {
          g_clear_object (&cancellable);
          cancellable = g_cancellable_new ();
          reads.reading = TRUE;
          ag_channel_reader_read_async (reader, 1 + g_random_int_range (0, 8), -1, cancellable,
                                        async_read_done, &reads);
        }
      /* None, one or two iterations, then maybe a cancel: a read is
       * cancelled while it waits, on its way home or after its end. */
      for (int i = g_random_int_range (0, 3); i > 0; i--)
        g_main_context_iteration (fixture->context, FALSE);
      if (g_random_int_range (0, 4) == 0)
        {
          g_cancellable_cancel (cancellable);
          n_cancels++;
        }
      if (g_atomic_int_get (&n_writers_done) == 2 && !ag_channel_is_closed (channel))
        ag_channel_close (channel);
      if (!reads.drained && g_random_int_range (0, 32) == 0)
        g_main_context_iteration (fixture->context, TRUE);
    }

  g_thread_join (threads[0]);
  g_thread_join (threads[1]);
  blocking_seen = g_thread_join (threads[2]);

  g_test_message ("%u cancels; %u items read asynchronously, %u by the blocking reader",
                  n_cancels, reads.seen->len, blocking_seen->len);
  g_array_set_size (counts, 2 * N_PER_WRITER);
  count_each (counts, reads.seen);
  count_each (counts, blocking_seen);
  for (guint i = 0; i < counts->len; i++)
    g_assert_cmpuint (g_array_index (counts, guint8, i), ==, 1);
  for (guint i = 0; i < reads.seen->len; i++)
    {
      int number = g_array_index (reads.seen, int, i);

      g_assert_cmpint (number, >, last[number / N_PER_WRITER]);
      last[number / N_PER_WRITER] = number;
    }
  g_array_unref (reads.seen);
}

static void
test_channel_cancelled_async_write_stores_nothing_when_room_comes_after_the_cancel (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (1);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GArray) items = NULL;
  Outcome outcome = { 0 };

  write_ints (channel, 0, 1);
  start_waiting_write (channel, 1, cancellable, &outcome);

  /* No iteration between the cancel and the read that makes room. */
  g_cancellable_cancel (cancellable);
  items = read_now (reader, 1);
  assert_ints (items, 0, 1);
  g_clear_pointer (&items, g_array_unref);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 0);

  assert_ends_cancelled (&outcome);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 0);
}

/* Throughput: a worker thread feeds the GUI thread */

typedef struct
{
  AgChannelReader *reader;
  AgChannel       *channel;
  int              next;
  guint            max_length;
  gboolean         finished;
  GError          *error;
} Consumer;

static void
consume_batch (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Consumer *consumer = user_data;
  g_autoptr(GArray) items = NULL;

  items = ag_channel_reader_read_finish (consumer->reader, result, &consumer->error);
  if (items == NULL)
    {
      consumer->finished = TRUE;
      return;
    }

  consumer->max_length = MAX (consumer->max_length, ag_channel_get_length (consumer->channel));
  for (guint i = 0; i < items->len; i++)
    if (item_int (items, i) != consumer->next++)
      {
        g_set_error (&consumer->error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     "item %u out of order", i);
        consumer->finished = TRUE;
        return;
      }

  if (items->len == 0 && ag_channel_reader_is_drained (consumer->reader))
    {
      consumer->finished = TRUE;
      return;
    }

  ag_channel_reader_read_async (consumer->reader, 64, 5, NULL, consume_batch, consumer);
}

static gpointer
produce_and_close (gpointer data)
{
  Producer *producer = data;

  produce (producer);
  ag_channel_close (producer->channel);
  return NULL;
}

static void
test_channel_moves_100000_items_in_order_within_capacity (void)
{
  const guint capacity = 32;
  const int n_items = 100000;
  g_autoptr(AgChannel) channel = ag_channel_new (capacity);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  Producer producer = { 0 };
  Consumer consumer = { reader, channel, 0, 0, FALSE, NULL };
  GThread *thread;

  producer.channel = channel;
  producer.n_items = n_items;
  producer.timeout_ms = AG_TEST_SAFETY_MS;
  thread = g_thread_new ("producer", produce_and_close, &producer);

  ag_channel_reader_read_async (reader, 64, 5, NULL, consume_batch, &consumer);
  ag_test_run_until (NULL, consumer.finished, 60000);
  g_thread_join (thread);

  g_assert_no_error (producer.error);
  g_assert_no_error (consumer.error);
  g_assert_cmpint (consumer.next, ==, n_items);
  g_assert_cmpuint (producer.max_length, <=, capacity);
  g_assert_cmpuint (consumer.max_length, <=, capacity);
}

/* Transforms */

static void
double_int (AgChannelTransform *transform,
            const GValue       *value,
            gpointer            user_data)
{
  g_auto(GValue) result = G_VALUE_INIT;
  int n = g_value_get_int (value);

  if (n == GPOINTER_TO_INT (user_data))
    {
      ag_channel_transform_return_error (transform,
                                         g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                                      "cannot take %d", n));
      return;
    }

  g_value_init (&result, G_TYPE_INT);
  g_value_set_int (&result, n * 2);
  ag_channel_transform_return_value (transform, &result);
}

static void
int_to_string (AgChannelTransform *transform,
               const GValue       *value,
               gpointer            user_data)
{
  g_auto(GValue) result = G_VALUE_INIT;

  if (g_value_get_int (value) == GPOINTER_TO_INT (user_data))
    {
      ag_channel_transform_return_error (transform,
                                         g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                                              "no string for it"));
      return;
    }

  g_value_init (&result, G_TYPE_STRING);
  g_value_take_string (&result, g_strdup_printf ("<%d>", g_value_get_int (value)));
  ag_channel_transform_return_value (transform, &result);
}

/* Returns nothing for the item equal to user_data, doubles the others. */
static void
forget_int (AgChannelTransform *transform,
            const GValue       *value,
            gpointer            user_data)
{
  if (g_value_get_int (value) != GPOINTER_TO_INT (user_data))
    double_int (transform, value, NULL);
}

/* Returns the item, then the item + 1. */
static void
return_twice (AgChannelTransform *transform,
              const GValue       *value,
              gpointer            user_data)
{
  g_auto(GValue) other = G_VALUE_INIT;

  ag_channel_transform_return_value (transform, value);

  g_value_init (&other, G_TYPE_INT);
  g_value_set_int (&other, g_value_get_int (value) + 1);
  ag_channel_transform_return_value (transform, &other);
  ag_channel_transform_return_error (transform,
                                     g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "late"));
}

/* Keeps a reference on every handle it is given (user_data: a GPtrArray),
 * and returns the item. */
static void
keep_handle (AgChannelTransform *transform,
             const GValue       *value,
             gpointer            user_data)
{
  g_ptr_array_add (user_data, g_object_ref (transform));
  ag_channel_transform_return_value (transform, value);
}

/* Notes each distinct handle it is given (user_data: a GHashTable). */
static void
note_handle (AgChannelTransform *transform,
             const GValue       *value,
             gpointer            user_data)
{
  g_hash_table_add (user_data, transform);
  ag_channel_transform_return_value (transform, value);
}

static gpointer
return_negated (gpointer data)
{
  AgChannelTransform *transform = data;
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, -1);
  ag_channel_transform_return_value (transform, &value);
  return NULL;
}

/* Returns from another thread while it runs. */
static void
return_from_a_thread (AgChannelTransform *transform,
                      const GValue       *value,
                      gpointer            user_data)
{
  g_thread_join (g_thread_new ("returner", return_negated, transform));
}

static void
count_destroy (gpointer data)
{
  (*(int *) data)++;
}

static void
test_channel_write_transform_runs_on_the_writer_and_can_fail (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;
  Outcome outcome = { 0 };

  ag_channel_set_write_transform (channel, double_int, GINT_TO_POINTER (3), NULL);
  reader = ag_channel_open_reader (channel);

  write_ints (channel, 1, 3);
  g_assert_false (write_int (channel, 3, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 2);

  write_int_async (channel, 3, NULL, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  outcome_clear (&outcome);

  items = read_now (reader, 0);
  g_assert_cmpuint (items->len, ==, 2);
  g_assert_cmpint (item_int (items, 0), ==, 2);
  g_assert_cmpint (item_int (items, 1), ==, 4);
}

static void
test_channel_read_transform_failure_returns_items_before_it (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (8);
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;
  Outcome outcome = { 0 };

  ag_channel_set_read_transform (channel, int_to_string, GINT_TO_POINTER (2), NULL);
  reader = ag_channel_open_reader (channel);

  write_ints (channel, 0, 5);

  /* Items 0 and 1, then the error of item 2, then items 3 and 4. */
  items = read_now (reader, 0);
  g_assert_cmpuint (items->len, ==, 2);
  g_assert_cmpstr (g_value_get_string (&g_array_index (items, GValue, 0)), ==, "<0>");
  g_assert_cmpstr (g_value_get_string (&g_array_index (items, GValue, 1)), ==, "<1>");
  g_clear_pointer (&items, g_array_unref);
  g_assert_false (ag_channel_reader_is_drained (reader));

  g_assert_null (ag_channel_reader_read (reader, 0, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);

  ag_channel_reader_read_async (reader, 5, 0, NULL, read_done, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);
  g_assert_cmpuint (outcome.items->len, ==, 2);
  g_assert_cmpstr (g_value_get_string (&g_array_index (outcome.items, GValue, 0)), ==, "<3>");
  g_assert_cmpstr (g_value_get_string (&g_array_index (outcome.items, GValue, 1)), ==, "<4>");
  outcome_clear (&outcome);

  /* The failing item first: the read itself fails, in _finish. */
  write_ints (channel, 2, 3);
  ag_channel_reader_read_async (reader, 1, 0, NULL, read_done, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_null (outcome.items);
  outcome_clear (&outcome);
}

static void
test_channel_transform_that_returns_nothing_fails_the_item (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (8);
  g_autoptr(AgChannel) other = ag_channel_new (8);
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(AgChannelReader) other_reader = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;

  ag_channel_set_write_transform (channel, forget_int, GINT_TO_POINTER (3), NULL);
  reader = ag_channel_open_reader (channel);

  g_assert_false (write_int (channel, 3, 0, &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_NO_RESULT);
  g_clear_error (&error);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 0);
  write_ints (channel, 1, 2);
  items = read_now (reader, 0);
  g_assert_cmpuint (items->len, ==, 1);
  g_assert_cmpint (item_int (items, 0), ==, 2);
  g_clear_pointer (&items, g_array_unref);

  /* Read: the items before it, then the error, then the items after it. */
  ag_channel_set_read_transform (other, forget_int, GINT_TO_POINTER (3), NULL);
  other_reader = ag_channel_open_reader (other);
  write_ints (other, 2, 5);
  items = read_now (other_reader, 0);
  g_assert_cmpuint (items->len, ==, 1);
  g_assert_cmpint (item_int (items, 0), ==, 4);
  g_clear_pointer (&items, g_array_unref);
  g_assert_null (ag_channel_reader_read (other_reader, 0, 0, &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_NO_RESULT);
  items = read_now (other_reader, 0);
  g_assert_cmpuint (items->len, ==, 1);
  g_assert_cmpint (item_int (items, 0), ==, 8);
}

static void
test_channel_transform_that_returns_twice_is_refused (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;

  ag_channel_set_write_transform (channel, return_twice, NULL, NULL);
  reader = ag_channel_open_reader (channel);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL,
                         "*ag_channel_transform_return_value*already returned*");
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL,
                         "*ag_channel_transform_return_error*already returned*");
  g_assert_true (write_int (channel, 7, 0, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);

  /* The first return counts. */
  items = read_now (reader, 0);
  assert_ints (items, 7, 8);
}

static void
test_channel_write_transform_can_change_the_type (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;

  ag_channel_set_write_transform (channel, int_to_string, GINT_TO_POINTER (-1), NULL);
  reader = ag_channel_open_reader (channel);

  write_ints (channel, 1, 3);
  items = read_now (reader, 0);
  g_assert_cmpuint (items->len, ==, 2);
  g_assert_true (G_VALUE_HOLDS_STRING (&g_array_index (items, GValue, 0)));
  g_assert_cmpstr (g_value_get_string (&g_array_index (items, GValue, 0)), ==, "<1>");
  g_assert_cmpstr (g_value_get_string (&g_array_index (items, GValue, 1)), ==, "<2>");
}

static void
test_channel_transform_handle_used_late_is_refused (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) items = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  ag_channel_set_write_transform (channel, keep_handle, kept, NULL);
  reader = ag_channel_open_reader (channel);

  write_ints (channel, 1, 2);
  g_assert_cmpuint (kept->len, ==, 1);

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, 100);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL,
                         "*ag_channel_transform_return_value*not running*");
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL,
                         "*ag_channel_transform_return_error*not running*");
  ag_channel_transform_return_value (g_ptr_array_index (kept, 0), &value);
  ag_channel_transform_return_error (g_ptr_array_index (kept, 0),
                                     g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "late"));
  g_test_assert_expected_messages ();

  /* A kept handle is not reused, so the late calls changed no later item. */
  write_ints (channel, 2, 3);
  g_assert_cmpuint (kept->len, ==, 2);
  g_assert_true (g_ptr_array_index (kept, 0) != g_ptr_array_index (kept, 1));
  items = read_now (reader, 0);
  assert_ints (items, 1, 3);
}

static void
test_channel_transforms_reuse_one_handle (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (128);
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GHashTable) handles = g_hash_table_new (NULL, NULL);
  g_autoptr(GArray) items = NULL;
  Outcome outcome = { 0 };

  ag_channel_set_write_transform (channel, note_handle, handles, NULL);
  ag_channel_set_read_transform (channel, note_handle, handles, NULL);
  reader = ag_channel_open_reader (channel);

  write_ints (channel, 0, 50);
  for (int i = 50; i < 100; i++)
    {
      write_int_async (channel, i, NULL, &outcome);
      ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
      g_assert_no_error (outcome.error);
      outcome_clear (&outcome);
    }
  items = read_now (reader, 60);
  assert_ints (items, 0, 60);
  ag_channel_reader_read_async (reader, 40, 0, NULL, read_done, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  assert_ints (outcome.items, 60, 100);
  outcome_clear (&outcome);

  /* 200 transforms on one thread, nobody keeping a handle: one object. */
  g_assert_cmpuint (g_hash_table_size (handles), ==, 1);
}

static void
test_channel_transform_may_return_from_another_thread_while_it_runs (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;

  ag_channel_set_write_transform (channel, return_from_a_thread, NULL, NULL);
  reader = ag_channel_open_reader (channel);

  write_ints (channel, 5, 6);
  items = read_now (reader, 0);
  assert_ints (items, -1, 0);
}

static void
test_channel_transforms_run_on_several_writers_at_once (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (64);
  g_autoptr(AgChannelReader) reader = NULL;
  Producer producers[4] = { 0 };
  GThread *threads[G_N_ELEMENTS (producers)];
  const int n_items = 5000;
  int n_read = 0;
  gint64 sum = 0, expected = 0;

  ag_channel_set_write_transform (channel, double_int, GINT_TO_POINTER (-1), NULL);
  ag_channel_set_read_transform (channel, double_int, GINT_TO_POINTER (-1), NULL);
  reader = ag_channel_open_reader (channel);

  for (guint p = 0; p < G_N_ELEMENTS (producers); p++)
    threads[p] = start_producer (&producers[p], channel, (int) p * n_items, n_items, 0);

  /* Each item i comes back once, as 4i. */
  while (n_read < n_items * (int) G_N_ELEMENTS (producers))
    {
      g_autoptr(GError) error = NULL;
      guint left = (guint) (n_items * (int) G_N_ELEMENTS (producers) - n_read);
      g_autoptr(GArray) items = ag_channel_reader_read (reader, MIN (left, 256),
                                                        AG_TEST_SAFETY_MS, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (items->len, >, 0);
      for (guint i = 0; i < items->len; i++)
        sum += item_int (items, i);
      n_read += (int) items->len;
    }

  for (guint p = 0; p < G_N_ELEMENTS (producers); p++)
    {
      g_thread_join (threads[p]);
      g_assert_no_error (producers[p].error);
    }
  for (int i = 0; i < n_items * (int) G_N_ELEMENTS (producers); i++)
    expected += 4 * i;
  g_assert_cmpint (sum, ==, expected);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 0);
}

typedef struct
{
  AgChannel       *channel;
  AgChannelReader *reader;
  gboolean         ok;
  GError          *error;
  Outcome          outcome;
} Elsewhere;

static gpointer
write_elsewhere (gpointer data)
{
  Elsewhere *elsewhere = data;

  elsewhere->ok = write_int (elsewhere->channel, 1, 0, &elsewhere->error);
  return NULL;
}

static gpointer
read_elsewhere (gpointer data)
{
  Elsewhere *elsewhere = data;
  g_autoptr(GArray) items = NULL;

  items = ag_channel_reader_read (elsewhere->reader, 1, 0, &elsewhere->error);
  elsewhere->ok = items != NULL;
  return NULL;
}

/* An asynchronous read whose callback, and so its read_finish(), runs on
 * this thread's context. */
static gpointer
read_async_elsewhere (gpointer data)
{
  Elsewhere *elsewhere = data;
  g_autoptr(GMainContext) context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  ag_channel_reader_read_async (elsewhere->reader, 1, 0, NULL, read_done, &elsewhere->outcome);
  ag_test_run_until (context, elsewhere->outcome.done, AG_TEST_SAFETY_MS);
  g_main_context_pop_thread_default (context);
  return NULL;
}

static void
test_channel_pinned_transforms_refuse_other_threads (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;
  Elsewhere elsewhere = { 0 };

  ag_channel_set_write_transform (channel, double_int, GINT_TO_POINTER (-1), NULL);
  ag_channel_set_read_transform (channel, int_to_string, GINT_TO_POINTER (-1), NULL);
  ag_channel_pin_transforms (channel);
  reader = ag_channel_open_reader (channel);
  elsewhere.channel = channel;
  elsewhere.reader = reader;

  g_thread_join (g_thread_new ("writer", write_elsewhere, &elsewhere));
  g_assert_false (elsewhere.ok);
  g_assert_error (elsewhere.error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&elsewhere.error);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 0);

  /* Here, the pinned thread, both run. */
  write_ints (channel, 1, 3);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 2);

  g_thread_join (g_thread_new ("reader", read_elsewhere, &elsewhere));
  g_assert_false (elsewhere.ok);
  g_assert_error (elsewhere.error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&elsewhere.error);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 2);

  g_thread_join (g_thread_new ("async reader", read_async_elsewhere, &elsewhere));
  g_assert_error (elsewhere.outcome.error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_null (elsewhere.outcome.items);
  outcome_clear (&elsewhere.outcome);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 2);

  items = read_now (reader, 0);
  g_assert_cmpuint (items->len, ==, 2);
  g_assert_cmpstr (g_value_get_string (&g_array_index (items, GValue, 0)), ==, "<2>");
  g_assert_cmpstr (g_value_get_string (&g_array_index (items, GValue, 1)), ==, "<4>");
}

/* Readers */

static void
test_channel_dropping_the_last_reader_breaks_the_channel (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (1);
  AgChannelReader *first = ag_channel_open_reader (channel);
  AgChannelReader *second = ag_channel_open_reader (channel);
  g_autoptr(GError) error = NULL;
  Producer producer = { 0 };
  Outcome outcome = { 0 };
  GThread *thread;

  g_assert_cmpuint (ag_channel_get_n_readers (channel), ==, 2);
  write_ints (channel, 0, 1);
  write_int_async (channel, 1, NULL, &outcome);
  thread = start_producer (&producer, channel, 2, 1, 0);
  ag_test_run_for (NULL, 50);

  g_object_unref (first);
  g_assert_cmpuint (ag_channel_get_n_readers (channel), ==, 1);
  g_assert_false (ag_channel_is_closed (channel));

  /* The last reader: blocked and waiting writers fail, items are freed. */
  ag_channel_reader_close (second);
  ag_channel_reader_close (second);
  g_assert_cmpuint (ag_channel_get_n_readers (channel), ==, 0);
  g_assert_true (ag_channel_is_closed (channel));
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 0);

  g_thread_join (thread);
  g_assert_error (producer.error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
  g_clear_error (&producer.error);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
  outcome_clear (&outcome);

  g_assert_false (write_int (channel, 3, -1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
  g_clear_error (&error);

  g_assert_null (ag_channel_reader_read (second, 1, -1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_object_unref (second);
}

static void
test_channel_closing_a_reader_gives_its_items_back (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) keeper = ag_channel_open_reader (channel);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GArray) items = NULL;
  Outcome outcome = { 0 };

  write_ints (channel, 0, 2);
  ag_channel_reader_read_async (reader, 5, -1, NULL, read_done, &outcome);
  ag_test_run_for (NULL, 20);
  ag_channel_reader_close (reader);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  outcome_clear (&outcome);

  items = read_now (keeper, 0);
  assert_ints (items, 0, 2);
}

/* Notifications */

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  guint *n = user_data;

  g_assert_true (g_thread_self () == ag_test_main_thread ());
  (*n)++;
}

static void
check_notifies_only_on_change (AgChannel *channel)
{
  g_autoptr(AgChannelReader) reader = NULL;
  g_autoptr(GArray) items = NULL;
  Producer producer = { 0 };
  guint n_length = 0, n_closed = 0, n_readers = 0;
  GThread *thread;

  g_signal_connect (channel, "notify::length", G_CALLBACK (count_notify), &n_length);
  g_signal_connect (channel, "notify::closed", G_CALLBACK (count_notify), &n_closed);
  g_signal_connect (channel, "notify::n-readers", G_CALLBACK (count_notify), &n_readers);

  reader = ag_channel_open_reader (channel);
  g_assert_cmpuint (n_readers, ==, 0);
  ag_test_run_until (NULL, n_readers == 1, AG_TEST_SAFETY_MS);

  /* Written on a worker, notified here, coalesced. */
  thread = start_producer (&producer, channel, 0, 5, 0);
  g_thread_join (thread);
  g_assert_cmpuint (n_length, ==, 0);
  ag_test_run_until (NULL, n_length == 1, AG_TEST_SAFETY_MS);
  ag_test_run_for (NULL, 20);
  g_assert_cmpuint (n_length, ==, 1);

  /* Back to the length last notified: no notification. */
  items = read_now (reader, 1);
  write_ints (channel, 5, 6);
  ag_test_run_for (NULL, 20);
  g_assert_cmpuint (n_length, ==, 1);

  ag_channel_close (channel);
  ag_channel_close (channel);
  ag_test_run_until (NULL, n_closed == 1, AG_TEST_SAFETY_MS);
  ag_test_run_for (NULL, 20);
  g_assert_cmpuint (n_closed, ==, 1);
  g_assert_cmpuint (n_readers, ==, 1);

  /* The counters die with this frame; the reader's end, notified later,
   * must not reach them. */
  g_signal_handlers_disconnect_by_data (channel, &n_length);
  g_signal_handlers_disconnect_by_data (channel, &n_closed);
  g_signal_handlers_disconnect_by_data (channel, &n_readers);
}

static void
test_channel_notifies_on_its_context_only_on_change (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (8);

  check_notifies_only_on_change (channel);
}

/* With an engine on the context: the one way back */

#define DELIVERY "[asyncgui] delivery"

/* An engine on the default context, whose delivery the watchdog never
 * stands in for, so that the source calling back is its delivery. */
static AgEngine *
engine_new (int priority)
{
  AgEngine *engine = ag_engine_new_for_context (g_main_context_default ());

  ag_engine_set_priority (engine, priority);
  ag_engine_set_max_delivery_delay_ms (engine, 0);
  return engine;
}

static void
drop_engine (AgEngine *engine)
{
  g_object_unref (engine);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

typedef struct
{
  guint n;
  guint n_outside;      /* not from the engine's delivery */
} Notified;

static void
count_notify_in_delivery (GObject    *object,
                          GParamSpec *pspec,
                          gpointer    user_data)
{
  Notified *notified = user_data;
  GSource *current = g_main_current_source ();

  g_assert_true (g_thread_self () == ag_test_main_thread ());
  notified->n++;
  if (current == NULL || g_strcmp0 (g_source_get_name (current), DELIVERY) != 0)
    notified->n_outside++;
}

static gpointer
read_two_blocking (gpointer data)
{
  AgChannelReader *reader = data;
  g_autoptr(GError) error = NULL;
  GArray *items = ag_channel_reader_read (reader, 2, AG_TEST_SAFETY_MS, &error);

  g_assert_no_error (error);
  return items;
}

static void
test_channel_with_an_engine_calls_back_through_its_delivery (void)
{
  AgEngine *engine = engine_new (G_PRIORITY_DEFAULT_IDLE);
  g_autoptr(AgChannel) channel = ag_channel_new (2);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GArray) taken = NULL;
  Outcome outcome = { 0 }, first = { 0 }, second = { 0 };
  Producer producer = { 0 };
  Notified notified = { 0 };
  GThread *thread;

  g_signal_connect (channel, "notify", G_CALLBACK (count_notify_in_delivery), &notified);

  /* A read that waits, ended by a producer thread. */
  ag_channel_reader_read_async (reader, 2, -1, NULL, read_done, &outcome);
  thread = start_producer (&producer, channel, 0, 2, 0);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_thread_join (thread);
  g_assert_no_error (outcome.error);
  assert_ints (outcome.items, 0, 2);
  g_assert_cmpstr (outcome.source, ==, DELIVERY);
  outcome_clear (&outcome);

  /* Writes that are stored at once, and one that waits for room until a
   * thread reads. */
  write_int_async (channel, 2, NULL, &first);
  write_int_async (channel, 3, NULL, &second);
  write_int_async (channel, 4, NULL, &outcome);
  ag_test_run_until (NULL, first.done && second.done, AG_TEST_SAFETY_MS);
  g_assert_cmpstr (first.source, ==, DELIVERY);
  g_assert_cmpstr (second.source, ==, DELIVERY);
  g_assert_false (outcome.done);
  thread = g_thread_new ("reader", read_two_blocking, reader);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  taken = g_thread_join (thread);
  assert_ints (taken, 2, 4);
  g_assert_true (outcome.written);
  g_assert_cmpstr (outcome.source, ==, DELIVERY);
  outcome_clear (&outcome);
  outcome_clear (&first);
  outcome_clear (&second);

  /* A read that times out, and one that is cancelled. */
  g_clear_pointer (&taken, g_array_unref);
  taken = read_now (reader, 0);
  ag_channel_reader_read_async (reader, 1, 10, NULL, read_done, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_no_error (outcome.error);
  g_assert_cmpuint (outcome.items->len, ==, 0);
  g_assert_cmpstr (outcome.source, ==, DELIVERY);
  outcome_clear (&outcome);

  ag_channel_reader_read_async (reader, 1, -1, cancellable, read_done, &outcome);
  ag_test_run_for (NULL, 20);
  g_cancellable_cancel (cancellable);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (outcome.source, ==, DELIVERY);
  outcome_clear (&outcome);

  ag_channel_close (channel);
  ag_test_run_until (NULL, ag_channel_is_closed (channel) && notified.n > 0, AG_TEST_SAFETY_MS);
  ag_test_run_for (NULL, 20);
  g_assert_cmpuint (notified.n_outside, ==, 0);

  drop_engine (engine);
}

static void
test_channel_with_an_engine_never_calls_back_inside_the_call (void)
{
  AgEngine *engine = engine_new (G_PRIORITY_DEFAULT_IDLE);
  g_autoptr(AgChannel) channel = ag_channel_new (2);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  Outcome read = { 0 }, written = { 0 }, refused = { 0 };

  g_cancellable_cancel (cancelled);
  write_ints (channel, 0, 1);

  /* Each of these could end at once; none calls back before the call
   * returns, and all come through a later delivery. */
  ag_channel_reader_read_async (reader, 1, -1, NULL, read_done, &read);
  write_int_async (channel, 1, NULL, &written);
  write_int_async (channel, 2, cancelled, &refused);
  g_assert_false (read.done);
  g_assert_false (written.done);
  g_assert_false (refused.done);

  ag_test_run_until (NULL, read.done && written.done && refused.done, AG_TEST_SAFETY_MS);
  assert_ints (read.items, 0, 1);
  g_assert_true (written.written);
  g_assert_error (refused.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (read.source, ==, DELIVERY);
  g_assert_cmpstr (written.source, ==, DELIVERY);
  g_assert_cmpstr (refused.source, ==, DELIVERY);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 1);

  outcome_clear (&read);
  outcome_clear (&written);
  outcome_clear (&refused);
  drop_engine (engine);
}

/* Inside a delivery nothing can be delivered before the callback returns,
 * so a blocking read there must wait for its items as on any thread, not
 * iterate the context for an end that cannot come. */
typedef struct
{
  AgChannelReader *reader;
  GArray          *items;
  GError          *error;
  gboolean         done;
} ReadInside;

static void
read_blocking_inside_the_delivery (GObject      *source,
                                   GAsyncResult *result,
                                   gpointer      user_data)
{
  ReadInside *inside = user_data;
  g_autoptr(GArray) first = NULL;

  first = ag_channel_reader_read_finish (AG_CHANNEL_READER (source), result, &inside->error);
  g_assert_no_error (inside->error);
  assert_ints (first, 0, 1);

  inside->items = ag_channel_reader_read (inside->reader, 2, AG_TEST_SAFETY_MS, &inside->error);
  inside->done = TRUE;
}

static void
test_channel_blocking_read_inside_a_delivery_waits_for_a_thread (void)
{
  AgEngine *engine = engine_new (G_PRIORITY_DEFAULT_IDLE);
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  ReadInside inside = { reader, NULL, NULL, FALSE };
  Producer producer = { 0 };
  GThread *thread;

  write_ints (channel, 0, 1);
  ag_channel_reader_read_async (reader, 1, -1, NULL, read_blocking_inside_the_delivery, &inside);
  thread = start_producer (&producer, channel, 1, 2, 20);

  ag_test_run_until (NULL, inside.done, AG_TEST_SAFETY_MS);
  g_thread_join (thread);
  g_assert_no_error (inside.error);
  assert_ints (inside.items, 1, 3);

  g_clear_pointer (&inside.items, g_array_unref);
  drop_engine (engine);
}

/* A blocking read or write inside a task's function, on a worker thread,
 * ends when that task is cancelled: else the thread waits for good, and so
 * does the application's exit, which waits for its threads. */
typedef struct
{
  AgChannel       *channel;
  AgChannelReader *reader;    /* set: read; NULL: write */
  GArray          *first;     /* the read's items when the cancel came */
  GError          *error;     /* what the blocked call ended with */
  AgTestLatch      started;
  AgTestLatch      ended;     /* the blocked call returned */
} Blocked;

/* One item waits in @channel. */
static void
blocked_init (Blocked         *blocked,
              AgChannel       *channel,
              AgChannelReader *reader)
{
  *blocked = (Blocked) { channel, reader };
  ag_test_latch_init (&blocked->started);
  ag_test_latch_init (&blocked->ended);
  write_ints (channel, 0, 1);
}

static void
blocked_clear (Blocked *blocked)
{
  g_clear_pointer (&blocked->first, g_array_unref);
  g_clear_error (&blocked->error);
  ag_test_latch_clear (&blocked->started);
  ag_test_latch_clear (&blocked->ended);
}

static void
write_blocking (Blocked *blocked)
{
  ag_test_latch_open (&blocked->started);
  g_assert_false (write_int (blocked->channel, 1, -1, &blocked->error));
  ag_test_latch_open (&blocked->ended);
}

/* Reads two items where one waits: the read returns that one when the
 * cancel comes, and the next read fails at once. */
static void
read_blocking (Blocked *blocked)
{
  g_autoptr(GArray) after = NULL;

  ag_test_latch_open (&blocked->started);
  blocked->first = ag_channel_reader_read (blocked->reader, 2, -1, &blocked->error);
  g_assert_no_error (blocked->error);
  after = ag_channel_reader_read (blocked->reader, 1, -1, &blocked->error);
  g_assert_null (after);
  ag_test_latch_open (&blocked->ended);
}

static void
block_in_task (AgTask       *task,
               gpointer      user_data,
               GCancellable *cancellable)
{
  Blocked *blocked = user_data;

  if (blocked->reader != NULL)
    read_blocking (blocked);
  else
    write_blocking (blocked);
  ag_task_return_boolean (task, TRUE);
}

static void
block_in_chunk (AgChunk  *chunk,
                guint     position,
                gpointer  user_data)
{
  write_blocking (user_data);
  ag_chunk_return_nothing (chunk);
}

/* Runs @task, cancels it once its function waits, and checks that the
 * blocked call ended with G_IO_ERROR_CANCELLED. */
static void
assert_cancel_ends_blocked_call (AgTask  *task,
                                 Blocked *blocked)
{
  AgEngine *engine = engine_new (G_PRIORITY_DEFAULT);

  ag_engine_run_async (engine, task, NULL, NULL, NULL);
  g_assert_true (ag_test_latch_wait (&blocked->started));
  ag_test_run_for (NULL, 20);  /* into the wait */
  ag_task_cancel (task);

  g_assert_true (ag_test_latch_wait (&blocked->ended));
  ag_test_run_until (NULL, ag_task_is_finished (task), AG_TEST_SAFETY_MS);
  g_assert_cmpint (ag_task_get_state (task), ==, AG_TASK_CANCELLED);
  g_assert_error (blocked->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  drop_engine (engine);
}

static void
test_channel_blocking_write_in_a_task_ends_when_the_task_is_cancelled (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (1);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  Blocked blocked;
  g_autoptr(AgTask) task = NULL;
  g_autoptr(GArray) items = NULL;

  blocked_init (&blocked, channel, NULL);
  task = ag_task_new (block_in_task, &blocked, NULL);
  assert_cancel_ends_blocked_call (task, &blocked);

  /* The cancelled write stored nothing. */
  items = read_now (reader, 2);
  assert_ints (items, 0, 1);
  blocked_clear (&blocked);
}

static void
test_channel_blocking_read_in_a_task_ends_when_the_task_is_cancelled (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  Blocked blocked;
  g_autoptr(AgTask) task = NULL;

  blocked_init (&blocked, channel, reader);
  task = ag_task_new (block_in_task, &blocked, NULL);
  assert_cancel_ends_blocked_call (task, &blocked);

  /* The item the read had taken was not lost. */
  assert_ints (blocked.first, 0, 1);
  blocked_clear (&blocked);
}

static void
test_channel_blocking_write_in_a_multi_task_ends_when_it_is_cancelled (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (1);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  Blocked blocked;
  g_autoptr(AgMultiTask) multi = NULL;

  /* Open, and never read: the write waits for room. */
  (void) reader;
  blocked_init (&blocked, channel, NULL);
  multi = ag_multi_task_new_map_range (1, block_in_chunk, &blocked, NULL);
  assert_cancel_ends_blocked_call (AG_TASK (multi), &blocked);
  blocked_clear (&blocked);
}

/* A channel used from a thread whose context nobody runs (a plain thread,
 * a command-line tool) leaves nothing there once it is dropped: the
 * notification it had on its way would hold the channel's memory until
 * the context ran, which it never does. */
static void
test_channel_dropped_leaves_nothing_on_a_context_nobody_runs (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  for (int i = 0; i < 3; i++)
    {
      AgChannel *channel = ag_channel_new (2);
      AgChannelReader *reader = ag_channel_open_reader (channel);
      g_autoptr(GArray) items = NULL;

      write_ints (channel, 0, 1);
      items = read_now (reader, 1);
      g_object_unref (reader);
      g_object_unref (channel);
    }
  g_main_context_pop_thread_default (context);

  g_assert_false (g_main_context_pending (context));
}

static void
test_channel_calls_back_on_its_context_after_the_engine_went (void)
{
  AgEngine *engine = engine_new (G_PRIORITY_DEFAULT_IDLE);
  g_autoptr(AgChannel) channel = ag_channel_new (2);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  Outcome ended = { 0 }, waiting = { 0 };
  Notified notified = { 0 };

  g_signal_connect (channel, "notify::length", G_CALLBACK (count_notify_in_delivery), &notified);

  /* One read ends at once, on its way home when the engine goes; the
   * other waits through it. */
  write_ints (channel, 0, 1);
  ag_channel_reader_read_async (reader, 1, -1, NULL, read_done, &ended);
  ag_channel_reader_read_async (reader, 1, -1, NULL, read_done, &waiting);
  g_object_unref (engine);

  ag_test_run_until (NULL, ended.done, AG_TEST_SAFETY_MS);
  assert_ints (ended.items, 0, 1);
  g_assert_true (ended.thread == ag_test_main_thread ());

  write_ints (channel, 1, 3);
  ag_test_run_until (NULL, waiting.done, AG_TEST_SAFETY_MS);
  assert_ints (waiting.items, 1, 2);
  g_assert_true (waiting.thread == ag_test_main_thread ());

  /* Notifications still come, from the context. */
  ag_test_run_until (NULL, notified.n > 0, AG_TEST_SAFETY_MS);
  g_assert_cmpuint (notified.n, ==, notified.n_outside);

  outcome_clear (&ended);
  outcome_clear (&waiting);
}

static void
test_channel_with_an_engine_notifies_through_its_delivery_only_on_change (void)
{
  AgEngine *engine = engine_new (G_PRIORITY_DEFAULT_IDLE);
  g_autoptr(AgChannel) channel = ag_channel_new (8);
  Notified notified = { 0 };

  g_signal_connect (channel, "notify", G_CALLBACK (count_notify_in_delivery), &notified);
  check_notifies_only_on_change (channel);
  g_assert_cmpuint (notified.n, ==, 3);
  g_assert_cmpuint (notified.n_outside, ==, 0);

  drop_engine (engine);
}

static void
test_channel_with_two_engines_the_first_made_delivers (void)
{
  AgEngine *first = engine_new (G_PRIORITY_DEFAULT_IDLE + 10);
  AgEngine *second = engine_new (G_PRIORITY_DEFAULT_IDLE + 20);
  g_autoptr(AgChannel) channel = ag_channel_new (4);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  Outcome outcome = { 0 };

  write_ints (channel, 0, 2);
  ag_channel_reader_read_async (reader, 1, -1, NULL, read_done, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_cmpstr (outcome.source, ==, DELIVERY);
  g_assert_cmpint (outcome.priority, ==, G_PRIORITY_DEFAULT_IDLE + 10);
  outcome_clear (&outcome);

  /* Once it is gone, the other one takes over. */
  drop_engine (first);
  ag_channel_reader_read_async (reader, 1, -1, NULL, read_done, &outcome);
  ag_test_run_until (NULL, outcome.done, AG_TEST_SAFETY_MS);
  g_assert_cmpstr (outcome.source, ==, DELIVERY);
  g_assert_cmpint (outcome.priority, ==, G_PRIORITY_DEFAULT_IDLE + 20);
  outcome_clear (&outcome);

  drop_engine (second);
}

/* Bad input */

static void
test_channel_zero_capacity_is_rejected (void)
{
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*capacity > 0*");
  g_assert_null (ag_channel_new (0));
  g_test_assert_expected_messages ();
}

static void
test_channel_missing_values_are_rejected (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (2);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  GValue unset = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (ag_channel_get_n_readers (channel), ==, reader != NULL);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*value != NULL*");
  g_assert_false (ag_channel_write (channel, NULL, 0, &error));
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*G_IS_VALUE*");
  g_assert_false (ag_channel_write (channel, &unset, 0, &error));
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*value != NULL*");
  ag_channel_write_async (channel, NULL, NULL, write_done, NULL);
  g_test_assert_expected_messages ();

  g_assert_no_error (error);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 0);
}

static void
test_channel_reading_from_the_write_end_is_rejected (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (2);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GError) error = NULL;

  write_ints (channel, 0, 1);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*AG_IS_CHANNEL_READER*");
  g_assert_null (ag_channel_reader_read ((AgChannelReader *) channel, 1, -1, &error));
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*AG_IS_CHANNEL_READER*");
  ag_channel_reader_read_async ((AgChannelReader *) channel, 1, -1, NULL, read_done, NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*AG_IS_CHANNEL*");
  g_assert_false (write_int ((AgChannel *) reader, 1, 0, &error));
  g_test_assert_expected_messages ();

  g_assert_no_error (error);
  g_assert_cmpuint (ag_channel_get_length (channel), ==, 1);
}

static void
test_channel_transforms_are_fixed_once_in_use (void)
{
  g_autoptr(AgChannel) channel = ag_channel_new (2);
  g_autoptr(AgChannel) written = ag_channel_new (2);
  g_autoptr(AgChannelReader) reader = NULL;
  int n_destroyed = 0;

  /* Bindings ask before they set one. */
  g_assert_false (ag_channel_get_transforms_fixed (channel));
  reader = ag_channel_open_reader (channel);
  g_assert_true (ag_channel_get_transforms_fixed (channel));
  write_ints (written, 0, 1);
  g_assert_true (ag_channel_get_transforms_fixed (written));

  g_assert_cmpuint (ag_channel_get_n_readers (channel), ==, reader != NULL);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*before it is first written*");
  ag_channel_set_write_transform (channel, double_int, &n_destroyed, count_destroy);
  g_test_assert_expected_messages ();
  g_assert_cmpint (n_destroyed, ==, 1);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL,
                         "*ag_channel_pin_transforms*before it is first written*");
  ag_channel_pin_transforms (channel);
  g_test_assert_expected_messages ();
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  g_test_add_func ("/channel/bounded-capacity-blocks-writers-until-a-read",
                   test_channel_bounded_capacity_blocks_writers_until_a_read);
  g_test_add_func ("/channel/read-timeout-returns-what-arrived",
                   test_channel_read_timeout_returns_what_arrived);
  g_test_add_func ("/channel/read-of-count-items-collects-them-as-they-come",
                   test_channel_read_of_count_items_collects_them_as_they_come);
  g_test_add_func ("/channel/count-zero-returns-what-is-there",
                   test_channel_count_zero_returns_what_is_there);
  g_test_add_func ("/channel/close-lets-readers-drain-then-returns-empty-at-once",
                   test_channel_close_lets_readers_drain_then_returns_empty_at_once);
  g_test_add_func ("/channel/close-wakes-a-blocked-reader",
                   test_channel_close_wakes_a_blocked_reader);
  g_test_add_func ("/channel/write-after-close-fails-closed",
                   test_channel_write_after_close_fails_closed);
  g_test_add_func ("/channel/close-fails-waiting-writes",
                   test_channel_close_fails_waiting_writes);
  g_test_add_func ("/channel/dropping-the-write-end-closes-it",
                   test_channel_dropping_the_write_end_closes_it);
  g_test_add_func ("/channel/async-read-completes-when-items-arrive",
                   test_channel_async_read_completes_when_items_arrive);
  g_test_add_func ("/channel/async-read-completes-on-close",
                   test_channel_async_read_completes_on_close);
  g_test_add_func ("/channel/async-read-timeout-returns-what-arrived",
                   test_channel_async_read_timeout_returns_what_arrived);
  g_test_add_func ("/channel/async-write-waits-for-space",
                   test_channel_async_write_waits_for_space);
  g_test_add_func ("/channel/cancelled-async-read-loses-no-item",
                   test_channel_cancelled_async_read_loses_no_item);
  g_test_add_func ("/channel/cancelled-async-write-stores-nothing",
                   test_channel_cancelled_async_write_stores_nothing);
  g_test_add_func ("/channel/cancelled-async-read-takes-nothing-written-after-the-cancel",
                   test_channel_cancelled_async_read_takes_nothing_written_after_the_cancel);
  g_test_add_func ("/channel/cancelled-async-read-gives-back-what-it-got-before-its-callback",
                   test_channel_cancelled_async_read_gives_back_what_it_got_before_its_callback);
  ag_test_add ("/channel/cancelled-ended-reads-give-back-first/with-an-engine",
               test_channel_cancelled_ended_reads_give_back_first_with_an_engine);
  g_test_add_func ("/channel/cancelled-ended-reads-give-back-first/without-an-engine",
                   test_channel_cancelled_ended_reads_give_back_first_without_an_engine);
  ag_test_add ("/channel/async-reads-cancelled-at-random-lose-and-repeat-no-item",
               test_channel_async_reads_cancelled_at_random_lose_and_repeat_no_item);
  ag_test_add ("/channel/cancelled-async-read-on-its-way-home-puts-its-items-back-before-the-next-read",
               test_channel_cancelled_async_read_on_its_way_home_puts_its_items_back_before_the_next_read);
  g_test_add_func ("/channel/cancelled-async-write-stores-nothing-when-room-comes-after-the-cancel",
                   test_channel_cancelled_async_write_stores_nothing_when_room_comes_after_the_cancel);
  g_test_add_func ("/channel/moves-100000-items-in-order-within-capacity",
                   test_channel_moves_100000_items_in_order_within_capacity);
  g_test_add_func ("/channel/write-transform-runs-on-the-writer-and-can-fail",
                   test_channel_write_transform_runs_on_the_writer_and_can_fail);
  g_test_add_func ("/channel/read-transform-failure-returns-items-before-it",
                   test_channel_read_transform_failure_returns_items_before_it);
  g_test_add_func ("/channel/transform-that-returns-nothing-fails-the-item",
                   test_channel_transform_that_returns_nothing_fails_the_item);
  g_test_add_func ("/channel/transform-that-returns-twice-is-refused",
                   test_channel_transform_that_returns_twice_is_refused);
  g_test_add_func ("/channel/write-transform-can-change-the-type",
                   test_channel_write_transform_can_change_the_type);
  g_test_add_func ("/channel/transform-handle-used-late-is-refused",
                   test_channel_transform_handle_used_late_is_refused);
  g_test_add_func ("/channel/transforms-reuse-one-handle",
                   test_channel_transforms_reuse_one_handle);
  g_test_add_func ("/channel/transform-may-return-from-another-thread-while-it-runs",
                   test_channel_transform_may_return_from_another_thread_while_it_runs);
  g_test_add_func ("/channel/transforms-run-on-several-writers-at-once",
                   test_channel_transforms_run_on_several_writers_at_once);
  g_test_add_func ("/channel/pinned-transforms-refuse-other-threads",
                   test_channel_pinned_transforms_refuse_other_threads);
  g_test_add_func ("/channel/dropping-the-last-reader-breaks-the-channel",
                   test_channel_dropping_the_last_reader_breaks_the_channel);
  g_test_add_func ("/channel/closing-a-reader-gives-its-items-back",
                   test_channel_closing_a_reader_gives_its_items_back);
  g_test_add_func ("/channel/notifies-on-its-context-only-on-change",
                   test_channel_notifies_on_its_context_only_on_change);
  g_test_add_func ("/channel/with-an-engine-calls-back-through-its-delivery",
                   test_channel_with_an_engine_calls_back_through_its_delivery);
  g_test_add_func ("/channel/with-an-engine-notifies-through-its-delivery-only-on-change",
                   test_channel_with_an_engine_notifies_through_its_delivery_only_on_change);
  g_test_add_func ("/channel/with-an-engine-never-calls-back-inside-the-call",
                   test_channel_with_an_engine_never_calls_back_inside_the_call);
  g_test_add_func ("/channel/dropped-leaves-nothing-on-a-context-nobody-runs",
                   test_channel_dropped_leaves_nothing_on_a_context_nobody_runs);
  g_test_add_func ("/channel/blocking-write-in-a-task-ends-when-the-task-is-cancelled",
                   test_channel_blocking_write_in_a_task_ends_when_the_task_is_cancelled);
  g_test_add_func ("/channel/blocking-read-in-a-task-ends-when-the-task-is-cancelled",
                   test_channel_blocking_read_in_a_task_ends_when_the_task_is_cancelled);
  g_test_add_func ("/channel/blocking-write-in-a-multi-task-ends-when-it-is-cancelled",
                   test_channel_blocking_write_in_a_multi_task_ends_when_it_is_cancelled);
  g_test_add_func ("/channel/blocking-read-inside-a-delivery-waits-for-a-thread",
                   test_channel_blocking_read_inside_a_delivery_waits_for_a_thread);
  g_test_add_func ("/channel/calls-back-on-its-context-after-the-engine-went",
                   test_channel_calls_back_on_its_context_after_the_engine_went);
  g_test_add_func ("/channel/with-two-engines-the-first-made-delivers",
                   test_channel_with_two_engines_the_first_made_delivers);
  g_test_add_func ("/channel/zero-capacity-is-rejected",
                   test_channel_zero_capacity_is_rejected);
  g_test_add_func ("/channel/missing-values-are-rejected",
                   test_channel_missing_values_are_rejected);
  g_test_add_func ("/channel/reading-from-the-write-end-is-rejected",
                   test_channel_reading_from_the_write_end_is_rejected);
  g_test_add_func ("/channel/transforms-are-fixed-once-in-use",
                   test_channel_transforms_are_fixed_once_in_use);

  return g_test_run ();
}
