/* test-map-ranges.c: MultiTasks whose function makes a range of children
 * per call
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "test-util.h"

static GArray *
values_of (const GValue *value)
{
  return g_value_get_boxed (value);
}

/* Which positions the calls were given, filled from worker threads. */
typedef struct
{
  GMutex  lock;
  guint   n_calls;
  guint   n_items;
  guint8  seen[1000];
} Calls;

static gboolean
note_call (Calls *calls,
           guint  position,
           guint  n_items)
{
  gboolean fresh = TRUE;

  g_mutex_lock (&calls->lock);
  calls->n_calls++;
  calls->n_items += n_items;
  for (guint i = position; i < position + n_items; i++)
    {
      fresh = fresh && calls->seen[i] == 0;
      calls->seen[i]++;
    }
  g_mutex_unlock (&calls->lock);

  return fresh;
}

/* Squares, half of each range through ag_chunk_return_values(), the
 * rest one by one, checking that the handle says where it is. */
static void
squares (AgChunk  *chunk,
         guint     position,
         guint     n_items,
         gpointer  user_data)
{
  g_autoptr(GArray) first = g_array_new (FALSE, TRUE, sizeof (GValue));
  guint half = n_items / 2;

  g_assert_true (note_call (user_data, position, n_items));
  g_assert_cmpuint (ag_chunk_get_position (chunk), ==, position);

  g_array_set_clear_func (first, (GDestroyNotify) g_value_unset);
  g_array_set_size (first, half);
  for (guint i = 0; i < half; i++)
    {
      GValue *value = &g_array_index (first, GValue, i);

      g_value_init (value, G_TYPE_UINT64);
      g_value_set_uint64 (value, (guint64) (position + i) * (position + i));
    }
  ag_chunk_return_values (chunk, (const GValue *) first->data, half);

  for (guint i = position + half; i < position + n_items; i++)
    {
      g_assert_cmpuint (ag_chunk_get_position (chunk), ==, i);
      ag_chunk_return_uint64 (chunk, (guint64) i * i);
    }
}

static void
test_map_ranges_one_call_answers_a_run_in_order (AgTestFixture *fixture,
                                                 gconstpointer  data)
{
  Calls calls = { 0 };
  g_autoptr(AgMultiTask) multi = ag_multi_task_new_map_ranges (1000, squares, &calls, NULL);
  g_autoptr(GError) error = NULL;
  GValue *value;
  GArray *values;

  /* Runs of at least 100 children: at most ten calls for a thousand. */
  ag_multi_task_set_min_count (multi, 100);
  value = ag_test_run_to_end (fixture, AG_TASK (multi), &error);
  g_assert_no_error (error);

  values = values_of (value);
  g_assert_cmpuint (values->len, ==, 1000);
  for (guint i = 0; i < 1000; i++)
    {
      g_assert_cmpuint (calls.seen[i], ==, 1);
      g_assert_cmpuint (g_value_get_uint64 (&g_array_index (values, GValue, i)), ==,
                        (guint64) i * i);
    }
  g_assert_cmpuint (calls.n_items, ==, 1000);
  g_assert_cmpuint (calls.n_calls, <=, 10);

  ag_test_value_free (value);
}

/* Each range in two calls: ag_chunk_return_int64s() with the negated
 * positions of its first half, ag_chunk_return_doubles() with the halved
 * positions of the rest. */
static void
negated_then_halved (AgChunk  *chunk,
                     guint     position,
                     guint     n_items,
                     gpointer  user_data)
{
  g_autofree gint64 *negated = g_new (gint64, n_items);
  g_autofree double *halved = g_new (double, n_items);
  guint half = n_items / 2;

  g_assert_true (note_call (user_data, position, n_items));
  for (guint i = 0; i < half; i++)
    negated[i] = -(gint64) (position + i);
  if (half > 0)
    ag_chunk_return_int64s (chunk, negated, half);

  g_assert_cmpuint (ag_chunk_get_position (chunk), ==, position + half);
  for (guint i = 0; i < n_items - half; i++)
    halved[i] = (position + half + i) / 2.0;
  ag_chunk_return_doubles (chunk, halved, n_items - half);
}

/* The same numbers through ag_chunk_return_packed(), each buffer one byte
 * past an 8-byte boundary, as a binding's buffer may be. */
static void
negated_then_halved_packed (AgChunk  *chunk,
                            guint     position,
                            guint     n_items,
                            gpointer  user_data)
{
  g_autofree guint8 *buffer = g_malloc (8 * (gsize) n_items + 1);
  guint8 *packed = buffer + 1;
  guint half = n_items / 2;

  g_assert_true (note_call (user_data, position, n_items));
  for (guint i = 0; i < half; i++)
    {
      gint64 negated = -(gint64) (position + i);

      memcpy (packed + 8 * i, &negated, 8);
    }
  if (half > 0)
    ag_chunk_return_packed (chunk, G_TYPE_INT64, packed, 8 * (gsize) half);

  g_assert_cmpuint (ag_chunk_get_position (chunk), ==, position + half);
  for (guint i = 0; i < n_items - half; i++)
    {
      double halved = (position + half + i) / 2.0;

      memcpy (packed + 8 * i, &halved, 8);
    }
  ag_chunk_return_packed (chunk, G_TYPE_DOUBLE, packed, 8 * (gsize) (n_items - half));
}

static void
test_map_ranges_numbers_answer_a_run_in_one_call (AgTestFixture *fixture,
                                                  gconstpointer  data)
{
  AgRangesFunc answer = (AgRangesFunc) data;
  Calls calls = { 0 };
  g_autoptr(AgMultiTask) multi = ag_multi_task_new_map_ranges (1000, answer, &calls, NULL);
  g_autoptr(GError) error = NULL;
  guint n_int64 = 0, n_double = 0;
  GValue *value;
  GArray *values;

  ag_multi_task_set_min_count (multi, 100);
  value = ag_test_run_to_end (fixture, AG_TASK (multi), &error);
  g_assert_no_error (error);

  values = values_of (value);
  g_assert_cmpuint (values->len, ==, 1000);
  for (guint i = 0; i < 1000; i++)
    {
      const GValue *v = &g_array_index (values, GValue, i);

      if (G_VALUE_HOLDS_INT64 (v))
        {
          g_assert_cmpint (g_value_get_int64 (v), ==, -(gint64) i);
          n_int64++;
        }
      else
        {
          g_assert_true (G_VALUE_HOLDS_DOUBLE (v));
          g_assert_cmpfloat (g_value_get_double (v), ==, i / 2.0);
          n_double++;
        }
    }
  g_assert_cmpuint (n_int64, >, 0);
  g_assert_cmpuint (n_double, >, 0);
  g_assert_cmpuint (calls.n_items, ==, 1000);

  ag_test_value_free (value);
}

/* More numbers than the call has children are refused, as values are. */
static void
return_too_many_numbers (AgChunk  *chunk,
                         guint     position,
                         guint     n_items,
                         gpointer  user_data)
{
  static const gint64 numbers[] = { 1, 2 };

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*2 values given*1 more input*");
  ag_chunk_return_int64s (chunk, numbers, 2);
  g_test_assert_expected_messages ();
  ag_chunk_return_int64s (chunk, numbers, 1);
}

/* Packed numbers of another type, or a size that is not a whole number of
 * them, are refused; the call then answers properly. */
static void
return_misshapen_packs (AgChunk  *chunk,
                        guint     position,
                        guint     n_items,
                        gpointer  user_data)
{
  static const gint64 numbers[] = { 1, 2 };

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*value_type == G_TYPE_INT64*");
  ag_chunk_return_packed (chunk, G_TYPE_INT, (const guint8 *) numbers, 8);
  g_test_assert_expected_messages ();
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*size % 8 == 0*");
  ag_chunk_return_packed (chunk, G_TYPE_INT64, (const guint8 *) numbers, 12);
  g_test_assert_expected_messages ();
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*2 values given*1 more input*");
  ag_chunk_return_packed (chunk, G_TYPE_INT64, (const guint8 *) numbers, 16);
  g_test_assert_expected_messages ();
  ag_chunk_return_packed (chunk, G_TYPE_INT64, (const guint8 *) &numbers[1], 8);
}

/* A function that is refused before it answers properly, and what it
 * answers each of the three inputs with, one per call. */
typedef struct
{
  AgRangesFunc func;
  gint64       answer;
} RefusedCase;

static const RefusedCase too_many_numbers = { return_too_many_numbers, 1 };
static const RefusedCase misshapen_packs = { return_misshapen_packs, 2 };

static void
test_map_ranges_refused_answers_leave_the_call_answering (AgTestFixture *fixture,
                                                          gconstpointer  data)
{
  const RefusedCase *rc = data;
  g_autoptr(AgMultiTask) multi = ag_multi_task_new_map_ranges (3, rc->func, NULL, NULL);
  g_autoptr(GError) error = NULL;
  GValue *value;

  ag_engine_set_max_threads (fixture->engine, 0);
  ag_multi_task_set_max_chunk_size (multi, 1);
  value = ag_test_run_to_end (fixture, AG_TASK (multi), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (values_of (value)->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (g_value_get_int64 (&g_array_index (values_of (value), GValue, i)), ==,
                     rc->answer);
  ag_test_value_free (value);
}

/* An error fails its own child, with its detail, and the call goes on. */
static void
fail_multiples_of_seven (AgChunk  *chunk,
                         guint     position,
                         gpointer  user_data)
{
  g_auto(GValue) detail = G_VALUE_INIT;

  if (position % 7 != 3)
    {
      ag_chunk_return_uint (chunk, position);
      return;
    }

  g_value_init (&detail, G_TYPE_STRING);
  g_value_take_string (&detail, g_strdup_printf ("exception of %u", position));
  ag_chunk_return_error_full (chunk, g_error_new (TEST_ERROR, (int) position, "input %u", position),
                              &detail);
}

static void
fail_some (AgChunk  *chunk,
           guint     position,
           guint     n_items,
           gpointer  user_data)
{
  for (guint i = position; i < position + n_items; i++)
    fail_multiples_of_seven (chunk, i, user_data);
}

static void
test_map_ranges_error_fails_only_its_child (AgTestFixture *fixture,
                                            gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = ag_multi_task_new_map_ranges (50, fail_some, NULL, NULL);
  g_autoptr(AgMultiTask) skipping = ag_multi_task_new_map_ranges (50, fail_some, NULL, NULL);
  g_autoptr(AgTask) row = g_list_model_get_item (G_LIST_MODEL (multi), 10);
  g_autoptr(GError) error = NULL;
  GValue *value;
  GArray *values;
  guint expected = 0;

  ag_multi_task_set_min_count (multi, 8);
  g_assert_null (ag_test_run_to_end (fixture, AG_TASK (multi), &error));
  /* The first failure in list order, whatever finished first. */
  g_assert_error (error, TEST_ERROR, 3);
  g_assert_cmpstr (g_value_get_string (ag_task_get_error_detail (AG_TASK (multi))), ==,
                   "exception of 3");
  g_assert_cmpuint (ag_multi_task_get_n_failed (multi), ==, 7);
  g_assert_cmpint (ag_task_get_state (row), ==, AG_TASK_FAILED);
  g_assert_cmpstr (g_value_get_string (ag_task_get_error_detail (row)), ==, "exception of 10");
  g_clear_error (&error);

  ag_multi_task_set_min_count (skipping, 8);
  ag_multi_task_set_skip_errors (skipping, TRUE);
  value = ag_test_run_to_end (fixture, AG_TASK (skipping), &error);
  g_assert_no_error (error);
  values = values_of (value);
  g_assert_cmpuint (values->len, ==, 43);
  for (guint i = 0; i < 50; i++)
    if (i % 7 != 3)
      g_assert_cmpuint (g_value_get_uint (&g_array_index (values, GValue, expected++)), ==, i);

  ag_test_value_free (value);
}

/* Only the first half of each range is answered. */
static void
answer_half (AgChunk  *chunk,
             guint     position,
             guint     n_items,
             gpointer  user_data)
{
  for (guint i = position; i < position + n_items / 2; i++)
    ag_chunk_return_uint (chunk, i);
}

static void
test_map_ranges_unanswered_children_fail (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = ag_multi_task_new_map_ranges (40, answer_half, NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GValue) child = G_VALUE_INIT;

  ag_multi_task_set_min_count (multi, 10);
  ag_multi_task_set_max_chunk_size (multi, 10);
  g_assert_null (ag_test_run_to_end (fixture, AG_TASK (multi), &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_NO_RESULT);
  g_assert_cmpuint (ag_multi_task_get_n_failed (multi), ==, 20);
  g_clear_error (&error);

  g_assert_true (ag_multi_task_get_child_value (multi, 12, &child, &error));
  g_assert_cmpuint (g_value_get_uint (&child), ==, 12);
  g_value_unset (&child);
  g_assert_false (ag_multi_task_get_child_value (multi, 17, &child, &error));
  g_assert_error (error, AG_ERROR, AG_ERROR_NO_RESULT);
}

/* Returning more values than the call has children is refused, and the
 * children it did have still get theirs. */
static void
return_too_many (AgChunk  *chunk,
                 guint     position,
                 guint     n_items,
                 gpointer  user_data)
{
  GValue values[2] = { G_VALUE_INIT, G_VALUE_INIT };

  g_value_init (&values[0], G_TYPE_UINT);
  g_value_init (&values[1], G_TYPE_UINT);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*2 values given*1 more input*");
  ag_chunk_return_values (chunk, values, 2);
  g_test_assert_expected_messages ();
  ag_chunk_return_uint (chunk, position);
}

static void
test_map_ranges_too_many_values_are_refused (AgTestFixture *fixture,
                                             gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = ag_multi_task_new_map_ranges (3, return_too_many, NULL, NULL);
  g_autoptr(GError) error = NULL;
  GValue *value;

  /* Serial: the expected criticals come on this thread, which alone may
   * use g_test_expect_message(). */
  ag_engine_set_max_threads (fixture->engine, 0);
  ag_multi_task_set_max_chunk_size (multi, 1);
  value = ag_test_run_to_end (fixture, AG_TASK (multi), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (values_of (value)->len, ==, 3);
  ag_test_value_free (value);
}

int
main (int    argc,
      char **argv)
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/map-ranges/one-call-answers-a-run-in-order",
               test_map_ranges_one_call_answers_a_run_in_order);
  g_test_add ("/map-ranges/numbers-answer-a-run-in-one-call", AgTestFixture,
              negated_then_halved, ag_test_fixture_setup,
              test_map_ranges_numbers_answer_a_run_in_one_call, ag_test_fixture_teardown);
  g_test_add ("/map-ranges/packed-numbers-answer-a-run-in-one-call", AgTestFixture,
              negated_then_halved_packed, ag_test_fixture_setup,
              test_map_ranges_numbers_answer_a_run_in_one_call, ag_test_fixture_teardown);
  g_test_add ("/map-ranges/misshapen-packs-are-refused", AgTestFixture, &misshapen_packs,
              ag_test_fixture_setup, test_map_ranges_refused_answers_leave_the_call_answering,
              ag_test_fixture_teardown);
  g_test_add ("/map-ranges/too-many-numbers-are-refused", AgTestFixture, &too_many_numbers,
              ag_test_fixture_setup, test_map_ranges_refused_answers_leave_the_call_answering,
              ag_test_fixture_teardown);
  ag_test_add ("/map-ranges/error-fails-only-its-child",
               test_map_ranges_error_fails_only_its_child);
  ag_test_add ("/map-ranges/unanswered-children-fail",
               test_map_ranges_unanswered_children_fail);
  ag_test_add ("/map-ranges/too-many-values-are-refused",
               test_map_ranges_too_many_values_are_refused);

  return g_test_run ();
}
