/* test-job-channel.c: reading and writing channels inside a C job
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

static void
write_uint (AgChannel *channel,
            guint      number)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_value_init (&value, G_TYPE_UINT);
  g_value_set_uint (&value, number);
  g_assert_true (ag_channel_write (channel, &value, 0, &error));
  g_assert_no_error (error);
}

static guint
item_uint (GArray *items,
           guint   index)
{
  return g_value_get_uint (&g_array_index (items, GValue, index));
}

/* What a job read and how its read ended. */
typedef struct
{
  AgChannelReader *reader;
  AgChannel       *channel;
  guint            count;
  GArray          *items;
  GError          *error;
  gboolean         returned;
} Reading;

/* A reading of @count items from a new channel of @capacity. */
static void
reading_init (Reading *reading,
              guint    capacity,
              guint    count)
{
  *reading = (Reading) { 0 };
  reading->channel = ag_channel_new (capacity);
  reading->reader = ag_channel_open_reader (reading->channel);
  reading->count = count;
}

static void
reading_clear (Reading *reading)
{
  g_clear_pointer (&reading->items, g_array_unref);
  g_clear_error (&reading->error);
  g_clear_object (&reading->reader);
  g_clear_object (&reading->channel);
}

static void
read_once (AgJob    *job,
           gpointer  user_data)
{
  Reading *reading = user_data;

  reading->items = ag_job_read (reading->reader, reading->count, -1, &reading->error);
  reading->returned = TRUE;
}

static gpointer
write_three_later (gpointer user_data)
{
  AgChannel *channel = user_data;

  g_usleep (50 * G_TIME_SPAN_MILLISECOND);
  for (guint i = 0; i < 3; i++)
    write_uint (channel, i);

  return NULL;
}

static gboolean
count_tick (gpointer user_data)
{
  guint *ticks = user_data;

  (*ticks)++;
  return G_SOURCE_CONTINUE;
}

static void
test_read_waits_for_items_while_the_loop_runs (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  Reading reading = { 0 };
  g_autoptr(AgJob) job = NULL;
  g_autoptr(GThread) producer = NULL;
  g_autoptr(GSource) ticker = g_timeout_source_new (5);
  guint ticks = 0;

  reading_init (&reading, 4, 3);
  g_source_set_callback (ticker, count_tick, &ticks, NULL);
  g_source_attach (ticker, fixture->context);

  job = ag_engine_spawn (fixture->engine, read_once, &reading, NULL);
  producer = g_thread_new ("producer", write_three_later, reading.channel);
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (job)), AG_TEST_SAFETY_MS);
  g_thread_join (g_steal_pointer (&producer));
  g_source_destroy (ticker);

  g_assert_no_error (reading.error);
  g_assert_cmpuint (reading.items->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (item_uint (reading.items, i), ==, i);
  /* The main loop went on while the job waited. */
  g_assert_cmpuint (ticks, >, 2);
  reading_clear (&reading);
}

static void
test_read_at_the_end_of_the_channel_gives_no_items (AgTestFixture *fixture,
                                                    gconstpointer  data)
{
  Reading reading = { 0 };
  g_autoptr(AgJob) job = NULL;
  g_autoptr(AgJob) after_the_end = NULL;

  reading_init (&reading, 4, 2);
  write_uint (reading.channel, 7);
  ag_channel_close (reading.channel);

  job = ag_engine_spawn (fixture->engine, read_once, &reading, NULL);
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (job)), AG_TEST_SAFETY_MS);
  g_assert_no_error (reading.error);
  g_assert_cmpuint (reading.items->len, ==, 1);
  g_assert_cmpuint (item_uint (reading.items, 0), ==, 7);
  g_clear_pointer (&reading.items, g_array_unref);

  after_the_end = ag_engine_spawn (fixture->engine, read_once, &reading, NULL);
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (after_the_end)),
                     AG_TEST_SAFETY_MS);
  g_assert_no_error (reading.error);
  g_assert_cmpuint (reading.items->len, ==, 0);
  g_assert_true (ag_channel_reader_is_drained (reading.reader));
  reading_clear (&reading);
}

/* The items a plain read takes from @reader now, without waiting. */
static GArray *
read_now (AgChannelReader *reader)
{
  g_autoptr(GError) error = NULL;
  GArray *items = ag_channel_reader_read (reader, 0, 0, &error);

  g_assert_no_error (error);
  return items;
}

static void
test_read_cancelled_while_waiting_takes_no_later_item (AgTestFixture *fixture,
                                                        gconstpointer  data)
{
  Reading reading = { 0 };
  g_autoptr(AgJob) job = NULL;
  g_autoptr(GArray) left = NULL;

  reading_init (&reading, 4, 2);
  write_uint (reading.channel, 1);

  job = ag_engine_spawn (fixture->engine, read_once, &reading, NULL);
  ag_test_run_for (fixture->context, 20);
  g_assert_false (reading.returned);
  ag_task_cancel (AG_TASK (job));
  write_uint (reading.channel, 2);
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (job)), AG_TEST_SAFETY_MS);

  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);
  g_assert_error (reading.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (reading.items);
  left = read_now (reading.reader);
  g_assert_cmpuint (left->len, ==, 2);
  g_assert_cmpuint (item_uint (left, 0), ==, 1);
  g_assert_cmpuint (item_uint (left, 1), ==, 2);
  reading_clear (&reading);
}

/* The window a task returning the items would lose them in: the read has
 * ended, its items are out of the channel, and the job is cancelled
 * before it goes on (here: it is paused until then). */
static void
test_read_cancelled_after_its_items_came_gives_them_back (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  Reading reading = { 0 };
  g_autoptr(AgJob) job = NULL;
  g_autoptr(GArray) left = NULL;

  reading_init (&reading, 4, 2);

  job = ag_engine_spawn (fixture->engine, read_once, &reading, NULL);
  ag_test_run_for (fixture->context, 20);
  ag_job_pause (job);
  write_uint (reading.channel, 1);
  write_uint (reading.channel, 2);
  write_uint (reading.channel, 3);
  ag_test_run_until (fixture->context, ag_channel_get_length (reading.channel) == 1,
                     AG_TEST_SAFETY_MS);
  ag_test_run_for (fixture->context, 20);
  g_assert_false (reading.returned);

  ag_task_cancel (AG_TASK (job));
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (job)), AG_TEST_SAFETY_MS);

  g_assert_cmpint (ag_task_get_state (AG_TASK (job)), ==, AG_TASK_CANCELLED);
  g_assert_error (reading.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  left = read_now (reading.reader);
  g_assert_cmpuint (left->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (item_uint (left, i), ==, i + 1);
  reading_clear (&reading);
}

/* The click handler's way: cancel the job that reads, start the next
 * one at once. The first job's read had ended, its result on its way to
 * the job or already there while the job was paused; its items must be
 * back before the next job reads, or they come after later ones. */
static void
test_read_cancelled_after_its_items_came_gives_them_back_before_the_next_read (AgTestFixture *fixture,
                                                                                gconstpointer  data)
{
  for (int delivered = 0; delivered < 2; delivered++)
    {
      Reading first = { 0 };
      Reading next = { 0 };
      g_autoptr(AgJob) job = NULL;
      g_autoptr(AgJob) next_job = NULL;

      reading_init (&first, 8, 2);
      next.reader = g_object_ref (first.reader);
      next.count = 4;

      job = ag_engine_spawn (fixture->engine, read_once, &first, NULL);
      ag_test_run_for (fixture->context, 20);
      ag_job_pause (job);
      write_uint (first.channel, 1);
      write_uint (first.channel, 2);
      ag_test_run_until (fixture->context, ag_channel_get_length (first.channel) == 0,
                         AG_TEST_SAFETY_MS);
      if (delivered)
        ag_test_run_for (fixture->context, 20);
      write_uint (first.channel, 3);
      write_uint (first.channel, 4);

      ag_task_cancel (AG_TASK (job));
      next_job = ag_engine_spawn (fixture->engine, read_once, &next, NULL);
      ag_test_run_until (fixture->context,
                         ag_task_is_finished (AG_TASK (job))
                         && ag_task_is_finished (AG_TASK (next_job)),
                         AG_TEST_SAFETY_MS);

      g_assert_error (first.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_no_error (next.error);
      g_assert_cmpuint (next.items->len, ==, 4);
      for (guint i = 0; i < 4; i++)
        g_assert_cmpuint (item_uint (next.items, i), ==, i + 1);
      reading_clear (&first);
      reading_clear (&next);
    }
}

/* An engine of a context that is nobody's thread-default: the read waits
 * on the engine's context all the same. */
static void
test_read_waits_on_the_engines_context_not_the_thread_default (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(AgEngine) engine = ag_engine_new_for_context (context);
  Reading reading = { 0 };
  g_autoptr(AgJob) job = NULL;

  reading_init (&reading, 4, 2);
  job = ag_engine_spawn (engine, read_once, &reading, NULL);
  write_uint (reading.channel, 1);
  write_uint (reading.channel, 2);
  ag_test_run_until (context, ag_task_is_finished (AG_TASK (job)), AG_TEST_SAFETY_MS);

  g_assert_no_error (reading.error);
  g_assert_cmpuint (reading.items->len, ==, 2);
  reading_clear (&reading);
  g_clear_object (&job);
  g_object_run_dispose (G_OBJECT (engine));
}

/* Jobs that read a stream one after another, each cancelled at a moment
 * of its own, get every item exactly once and in order between them. */

#define N_STREAMED 2000

typedef struct
{
  AgChannelReader *reader;
  GArray          *seen;      /* guint */
  gboolean         drained;
} Stream;

static void
read_stream (AgJob    *job,
             gpointer  user_data)
{
  Stream *stream = user_data;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GArray) items = ag_job_read (stream->reader, 1 + g_random_int_range (0, 3), -1,
                                             &error);

      if (items == NULL)
        return;
      if (items->len == 0)
        {
          stream->drained = TRUE;
          return;
        }
      for (guint i = 0; i < items->len; i++)
        {
          guint number = item_uint (items, i);

          g_array_append_val (stream->seen, number);
        }
    }
}

static gpointer
write_stream (gpointer user_data)
{
  AgChannel *channel = user_data;

  for (guint i = 0; i < N_STREAMED; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_autoptr(GError) error = NULL;

      g_value_init (&value, G_TYPE_UINT);
      g_value_set_uint (&value, i);
      g_assert_true (ag_channel_write (channel, &value, -1, &error));
      if (i % 4 == 0)
        g_usleep (100);
    }
  ag_channel_close (channel);

  return NULL;
}

static void
test_readers_cancelled_at_any_moment_lose_no_item (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  g_autoptr(AgChannel) channel = ag_channel_new (8);
  Stream stream = { 0 };
  g_autoptr(GThread) writer = NULL;
  guint n_jobs = 0;

  stream.reader = ag_channel_open_reader (channel);
  stream.seen = g_array_new (FALSE, FALSE, sizeof (guint));
  writer = g_thread_new ("writer", write_stream, channel);

  while (!stream.drained)
    {
      g_autoptr(AgJob) job = ag_engine_spawn (fixture->engine, read_stream, &stream, NULL);

      n_jobs++;
      ag_test_run_for (fixture->context, g_random_int_range (0, 4));
      ag_task_cancel (AG_TASK (job));
      ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (job)),
                         AG_TEST_SAFETY_MS);
    }
  g_thread_join (g_steal_pointer (&writer));

  g_test_message ("%u jobs read the stream", n_jobs);
  g_assert_cmpuint (stream.seen->len, ==, N_STREAMED);
  for (guint i = 0; i < N_STREAMED; i++)
    g_assert_cmpuint (g_array_index (stream.seen, guint, i), ==, i);
  g_array_unref (stream.seen);
  g_object_unref (stream.reader);
}

/* Writes */

typedef struct
{
  AgChannel *channel;
  guint      number;
  gboolean   written;
  GError    *error;
} Writing;

static void
write_once (AgJob    *job,
            gpointer  user_data)
{
  Writing *writing = user_data;
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_UINT);
  g_value_set_uint (&value, writing->number);
  writing->written = ag_job_write (writing->channel, &value, &writing->error);
}

static void
test_write_waits_for_room_while_the_loop_runs (AgTestFixture *fixture,
                                               gconstpointer  data)
{
  g_autoptr(AgChannel) channel = ag_channel_new (1);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  Writing writing = { channel, 2 };
  g_autoptr(AgJob) job = NULL;
  g_autoptr(GArray) first = NULL;
  g_autoptr(GArray) second = NULL;

  write_uint (channel, 1);
  job = ag_engine_spawn (fixture->engine, write_once, &writing, NULL);
  ag_test_run_for (fixture->context, 20);
  g_assert_false (ag_task_is_finished (AG_TASK (job)));

  first = read_now (reader);
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (job)), AG_TEST_SAFETY_MS);
  g_assert_no_error (writing.error);
  g_assert_true (writing.written);
  second = read_now (reader);
  g_assert_cmpuint (first->len, ==, 1);
  g_assert_cmpuint (item_uint (first, 0), ==, 1);
  g_assert_cmpuint (second->len, ==, 1);
  g_assert_cmpuint (item_uint (second, 0), ==, 2);
}

static void
test_write_cancelled_while_waiting_stores_nothing (AgTestFixture *fixture,
                                                   gconstpointer  data)
{
  g_autoptr(AgChannel) channel = ag_channel_new (1);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  Writing writing = { channel, 2 };
  g_autoptr(AgJob) job = NULL;
  g_autoptr(GArray) left = NULL;

  write_uint (channel, 1);
  job = ag_engine_spawn (fixture->engine, write_once, &writing, NULL);
  ag_test_run_for (fixture->context, 20);
  ag_task_cancel (AG_TASK (job));
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (job)), AG_TEST_SAFETY_MS);

  g_assert_error (writing.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (writing.written);
  left = read_now (reader);
  g_assert_cmpuint (left->len, ==, 1);
  g_assert_cmpuint (item_uint (left, 0), ==, 1);
  g_clear_error (&writing.error);
}

static void
test_read_or_write_outside_a_job_fails_and_touches_nothing (AgTestFixture *fixture,
                                                            gconstpointer  data)
{
  g_autoptr(AgChannel) channel = ag_channel_new (2);
  g_autoptr(AgChannelReader) reader = ag_channel_open_reader (channel);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) left = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  write_uint (channel, 1);
  g_assert_null (ag_job_read (reader, 1, -1, &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_NOT_IN_JOB);
  g_clear_error (&error);

  g_value_init (&value, G_TYPE_UINT);
  g_assert_false (ag_job_write (channel, &value, &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_NOT_IN_JOB);

  ag_test_run_for (fixture->context, 20);
  left = read_now (reader);
  g_assert_cmpuint (left->len, ==, 1);
  g_assert_cmpuint (item_uint (left, 0), ==, 1);
}

static void
read_a_reader_of_no_channel (AgJob    *job,
                             gpointer  user_data)
{
  g_autoptr(AgChannelReader) reader = g_object_new (AG_TYPE_CHANNEL_READER, NULL);
  gboolean *returned = user_data;

  g_assert_null (ag_job_read (reader, 1, -1, NULL));
  *returned = TRUE;
}

static void
test_read_of_a_reader_opened_on_no_channel_is_a_critical (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  gboolean returned = FALSE;
  g_autoptr(AgJob) job = NULL;

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*has_channel*");
  job = ag_engine_spawn (fixture->engine, read_a_reader_of_no_channel, &returned, NULL);
  g_test_assert_expected_messages ();
  g_assert_true (returned);
  ag_test_run_until (fixture->context, ag_task_is_finished (AG_TASK (job)), AG_TEST_SAFETY_MS);
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/job-channel/read-waits-for-items-while-the-loop-runs",
               test_read_waits_for_items_while_the_loop_runs);
  ag_test_add ("/job-channel/read-at-the-end-of-the-channel-gives-no-items",
               test_read_at_the_end_of_the_channel_gives_no_items);
  ag_test_add ("/job-channel/read-cancelled-while-waiting-takes-no-later-item",
               test_read_cancelled_while_waiting_takes_no_later_item);
  ag_test_add ("/job-channel/read-cancelled-after-its-items-came-gives-them-back",
               test_read_cancelled_after_its_items_came_gives_them_back);
  ag_test_add ("/job-channel/read-cancelled-after-its-items-came-gives-them-back-before-the-next-read",
               test_read_cancelled_after_its_items_came_gives_them_back_before_the_next_read);
  g_test_add_func ("/job-channel/read-waits-on-the-engines-context-not-the-thread-default",
                   test_read_waits_on_the_engines_context_not_the_thread_default);
  ag_test_add ("/job-channel/readers-cancelled-at-any-moment-lose-no-item",
               test_readers_cancelled_at_any_moment_lose_no_item);
  ag_test_add ("/job-channel/write-waits-for-room-while-the-loop-runs",
               test_write_waits_for_room_while_the_loop_runs);
  ag_test_add ("/job-channel/write-cancelled-while-waiting-stores-nothing",
               test_write_cancelled_while_waiting_stores_nothing);
  ag_test_add ("/job-channel/read-of-a-reader-opened-on-no-channel-is-a-critical",
               test_read_of_a_reader_opened_on_no_channel_is_a_critical);
  ag_test_add ("/job-channel/read-or-write-outside-a-job-fails-and-touches-nothing",
               test_read_or_write_outside_a_job_fails_and_touches_nothing);

  return g_test_run ();
}
