/* test-chunk.c: the handle through which map and pipeline functions return
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

/* Runs @multi to its end and returns its value, or NULL with @error. */
static const GValue *
nth_value (const GValue *value,
           guint         position)
{
  GArray *values = g_value_get_boxed (value);

  g_assert_cmpuint (position, <, values->len);
  return &g_array_index (values, GValue, position);
}

/* Which handle each position was given. */
typedef struct
{
  AgChunk  *handles[64];
  AgChunk  *kept;          /* a reference the function took, at position 0 */
  gboolean  keep_first;
} Handles;

static void
note_handle (AgChunk  *chunk,
             guint     position,
             gpointer  user_data)
{
  Handles *handles = user_data;

  handles->handles[position] = chunk;
  if (position == 0 && handles->keep_first)
    handles->kept = g_object_ref (chunk);

  ag_chunk_return_uint (chunk, position);
}

/* One run of all the inputs: a C function keeps nothing, so one handle
 * serves them all, and a map allocates nothing per input. */
static void
test_chunk_one_handle_serves_a_whole_run (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(GError) error = NULL;
  GValue *value;
  Handles handles = { 0 };

  ag_engine_set_max_threads (fixture->engine, 0);
  multi = ag_multi_task_new_map_range (G_N_ELEMENTS (handles.handles), note_handle, &handles,
                                       NULL);
  ag_multi_task_set_min_count (multi, G_N_ELEMENTS (handles.handles));

  value = ag_test_run_to_end (fixture, AG_TASK (multi), &error);
  g_assert_no_error (error);
  for (guint i = 1; i < G_N_ELEMENTS (handles.handles); i++)
    g_assert_true (handles.handles[i] == handles.handles[0]);
  g_assert_cmpuint (g_value_get_uint (nth_value (value, 63)), ==, 63);

  ag_test_value_free (value);
}

/* A handle the function kept is not given to the next input, and refuses
 * a return once its call is over. */
static void
test_chunk_kept_handle_is_replaced_and_refuses_late_returns (AgTestFixture *fixture,
                                                             gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(GError) error = NULL;
  GValue *value;
  Handles handles = { .keep_first = TRUE };

  ag_engine_set_max_threads (fixture->engine, 0);
  multi = ag_multi_task_new_map_range (G_N_ELEMENTS (handles.handles), note_handle, &handles,
                                       NULL);
  ag_multi_task_set_min_count (multi, G_N_ELEMENTS (handles.handles));

  value = ag_test_run_to_end (fixture, AG_TASK (multi), &error);
  g_assert_no_error (error);
  g_assert_nonnull (handles.kept);
  g_assert_true (handles.handles[1] != handles.kept);
  for (guint i = 2; i < G_N_ELEMENTS (handles.handles); i++)
    g_assert_true (handles.handles[i] == handles.handles[1]);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*not running a function*");
  ag_chunk_return_uint (handles.kept, 100);
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*not running a function*");
  ag_chunk_return_error (handles.kept, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED,
                                                            "late"));
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*not running a function*");
  g_assert_null (ag_chunk_get_cancellable (handles.kept));
  g_test_assert_expected_messages ();

  /* The late return changed nothing. */
  g_assert_cmpuint (g_value_get_uint (nth_value (value, 0)), ==, 0);

  g_object_unref (handles.kept);
  ag_test_value_free (value);
}

static void
return_twice (AgChunk  *chunk,
              guint     position,
              gpointer  user_data)
{
  ag_chunk_return_int (chunk, 1);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*already returned*");
  ag_chunk_return_int (chunk, 2);
  g_test_assert_expected_messages ();
}

static void
test_chunk_second_return_is_refused (AgTestFixture *fixture,
                                     gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(GError) error = NULL;
  GValue *value;

  /* Serial: the expected criticals come on this thread. */
  ag_engine_set_max_threads (fixture->engine, 0);
  multi = ag_multi_task_new_map_range (3, return_twice, NULL, NULL);

  value = ag_test_run_to_end (fixture, AG_TASK (multi), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (g_value_get_int (nth_value (value, i)), ==, 1);

  ag_test_value_free (value);
}

static void
return_nothing_at_two (AgChunk  *chunk,
                       guint     position,
                       gpointer  user_data)
{
  if (position != 2)
    ag_chunk_return_uint (chunk, position);
}

static void
test_chunk_function_that_returns_nothing_fails_its_child (AgTestFixture *fixture,
                                                         gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = ag_multi_task_new_map_range (5, return_nothing_at_two,
                                                              NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GValue) child = G_VALUE_INIT;
  GValue *value;

  value = ag_test_run_to_end (fixture, AG_TASK (multi), &error);
  g_assert_null (value);
  g_assert_error (error, AG_ERROR, AG_ERROR_NO_RESULT);
  g_assert_cmpuint (ag_multi_task_get_n_failed (multi), ==, 1);
  g_clear_error (&error);

  g_assert_true (ag_multi_task_get_child_value (multi, 4, &child, &error));
  g_assert_cmpuint (g_value_get_uint (&child), ==, 4);
}

/* A failure's detail travels from the function through the row and the
 * MultiTask, and through a pipeline, unchanged. */
static void
fail_with_detail_at_three (AgChunk  *chunk,
                           guint     position,
                           gpointer  user_data)
{
  g_auto(GValue) detail = G_VALUE_INIT;

  if (position != 3)
    {
      ag_chunk_return_uint (chunk, position);
      return;
    }

  g_value_init (&detail, G_TYPE_STRING);
  g_value_set_string (&detail, "exception of input 3");
  ag_chunk_return_error_full (chunk, g_error_new_literal (TEST_ERROR, 3, "input 3"), &detail);
}

static void
pipe_fail_with_detail_at_three (AgChunk      *chunk,
                                const GValue *item,
                                gpointer      user_data)
{
  fail_with_detail_at_three (chunk, (guint) g_value_get_uint64 (item), user_data);
}

static void
test_chunk_error_detail_reaches_the_row_the_multi_task_and_the_pipeline (AgTestFixture *fixture,
                                                                         gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = ag_multi_task_new_map_range (6, fail_with_detail_at_three,
                                                              NULL, NULL);
  g_autoptr(AgTask) row = g_list_model_get_item (G_LIST_MODEL (multi), 3);
  g_autoptr(AgPipeline) pipeline = ag_pipeline_new_range (6, pipe_fail_with_detail_at_three,
                                                          NULL, NULL);
  g_autoptr(GError) error = NULL;
  AgTestOutcome outcome;

  g_assert_null (ag_test_run_to_end (fixture, AG_TASK (multi), &error));
  g_assert_error (error, TEST_ERROR, 3);
  g_assert_cmpstr (g_value_get_string (ag_task_get_error_detail (AG_TASK (multi))), ==,
                   "exception of input 3");
  g_assert_cmpint (ag_task_get_state (row), ==, AG_TASK_FAILED);
  g_assert_cmpstr (g_value_get_string (ag_task_get_error_detail (row)), ==,
                   "exception of input 3");
  g_clear_error (&error);

  ag_test_outcome_init (&outcome, fixture->engine);
  ag_engine_run_async (fixture->engine, AG_TASK (pipeline), NULL, ag_test_outcome_callback,
                       &outcome);
  ag_test_run_until (fixture->context, outcome.n_calls > 0, AG_TEST_SAFETY_MS);
  g_assert_error (outcome.error, TEST_ERROR, 3);
  g_assert_cmpstr (g_value_get_string (ag_task_get_error_detail (AG_TASK (pipeline))), ==,
                   "exception of input 3");
  ag_test_outcome_clear (&outcome);
}

static void
emit_in_a_map (AgChunk  *chunk,
               guint     position,
               gpointer  user_data)
{
  g_auto(GValue) extra = G_VALUE_INIT;

  g_value_init (&extra, G_TYPE_INT);
  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*only pipeline functions emit*");
  ag_chunk_emit (chunk, &extra);
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*belongs to a map*");
  g_assert_null (ag_chunk_dup_items (chunk));
  g_test_assert_expected_messages ();

  ag_chunk_return_value (chunk, NULL);
}

static void
test_chunk_map_function_may_not_emit (AgTestFixture *fixture,
                                      gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(GError) error = NULL;
  GValue *value;
  GArray *values;

  ag_engine_set_max_threads (fixture->engine, 0);
  multi = ag_multi_task_new_map_range (2, emit_in_a_map, NULL, NULL);

  value = ag_test_run_to_end (fixture, AG_TASK (multi), &error);
  g_assert_no_error (error);
  /* Two children that succeeded without a value. */
  values = g_value_get_boxed (value);
  g_assert_cmpuint (values->len, ==, 2);
  g_assert_false (G_IS_VALUE (&g_array_index (values, GValue, 0)));

  ag_test_value_free (value);
}

typedef struct
{
  AgMultiTask  *multi;
  GObject      *object;
  int           n_wrong;       /* atomic */
} Seen;

static void
typed_returns (AgChunk  *chunk,
               guint     position,
               gpointer  user_data)
{
  Seen *seen = user_data;
  g_auto(GValue) value = G_VALUE_INIT;

  if (ag_chunk_get_position (chunk) != position
      || ag_chunk_get_cancellable (chunk) != ag_task_get_cancellable (AG_TASK (seen->multi)))
    g_atomic_int_inc (&seen->n_wrong);

  switch (position)
    {
    case 0: ag_chunk_return_boolean (chunk, 42); break;
    case 1: ag_chunk_return_int (chunk, -7); break;
    case 2: ag_chunk_return_uint (chunk, 7); break;
    case 3: ag_chunk_return_int64 (chunk, G_MININT64); break;
    case 4: ag_chunk_return_uint64 (chunk, G_MAXUINT64); break;
    case 5: ag_chunk_return_double (chunk, 0.5); break;
    case 6: ag_chunk_return_string (chunk, "six"); break;
    case 7: ag_chunk_return_object (chunk, seen->object); break;
    case 8: ag_chunk_return_variant (chunk, g_variant_new_int32 (8)); break;
    case 9:
      g_value_init (&value, G_TYPE_CHAR);
      g_value_set_schar (&value, 'x');
      ag_chunk_return_value (chunk, &value);
      break;
    default:
      ag_chunk_return_value (chunk, NULL);
    }
}

static void
test_chunk_typed_returns_keep_their_types (AgTestFixture *fixture,
                                           gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) object = g_cancellable_new ();
  GValue *value;
  Seen seen = { 0 };

  multi = ag_multi_task_new_map_range (11, typed_returns, &seen, NULL);
  seen.multi = multi;
  seen.object = G_OBJECT (object);

  value = ag_test_run_to_end (fixture, AG_TASK (multi), &error);
  g_assert_no_error (error);
  g_assert_cmpint (seen.n_wrong, ==, 0);

  g_assert_cmpint (g_value_get_boolean (nth_value (value, 0)), ==, TRUE);
  g_assert_cmpint (g_value_get_int (nth_value (value, 1)), ==, -7);
  g_assert_cmpuint (g_value_get_uint (nth_value (value, 2)), ==, 7);
  g_assert_cmpint (g_value_get_int64 (nth_value (value, 3)), ==, G_MININT64);
  g_assert_cmpuint (g_value_get_uint64 (nth_value (value, 4)), ==, G_MAXUINT64);
  g_assert_cmpfloat (g_value_get_double (nth_value (value, 5)), ==, 0.5);
  g_assert_cmpstr (g_value_get_string (nth_value (value, 6)), ==, "six");
  g_assert_true (g_value_get_object (nth_value (value, 7)) == seen.object);
  g_assert_true (G_VALUE_HOLDS (nth_value (value, 7), G_TYPE_CANCELLABLE));
  g_assert_cmpint (g_variant_get_int32 (g_value_get_variant (nth_value (value, 8))), ==, 8);
  g_assert_cmpint (g_value_get_schar (nth_value (value, 9)), ==, 'x');
  g_assert_false (G_IS_VALUE (nth_value (value, 10)));

  ag_test_value_free (value);
}

/* A handle that is not one: each plain return refuses it, as the others
 * do, though it skips the full check for a real handle. */
static void
test_chunk_plain_returns_refuse_what_is_not_a_handle (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*AG_IS_CHUNK*");
  ag_chunk_return_uint (NULL, 1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*AG_IS_CHUNK*");
  ag_chunk_return_double ((AgChunk *) object, 1.0);
  g_test_assert_expected_messages ();

  g_test_expect_message ("AsyncGui", G_LOG_LEVEL_CRITICAL, "*AG_IS_CHUNK*");
  ag_chunk_return_boolean ((AgChunk *) object, TRUE);
  g_test_assert_expected_messages ();
}

typedef struct
{
  AgMultiTask *multi;
  guint        cancel_at;
  guint        n_calls;
} CancelAt;

static void
cancel_at_position (AgChunk  *chunk,
                    guint     position,
                    gpointer  user_data)
{
  CancelAt *cancel = user_data;

  cancel->n_calls++;
  if (position == cancel->cancel_at)
    ag_task_cancel (AG_TASK (cancel->multi));
  ag_chunk_return_uint (chunk, position);
}

/* A run of a thousand inputs cancelled at its eleventh stops within the
 * sixteen inputs between two looks at its cancellable. */
static void
test_chunk_cancelled_run_stops_within_sixteen_inputs (AgTestFixture *fixture,
                                                      gconstpointer  data)
{
  g_autoptr(AgMultiTask) multi = NULL;
  g_autoptr(GError) error = NULL;
  CancelAt cancel = { .cancel_at = 10 };
  GValue *value;

  /* Serial, and one run: the function runs on this thread, in order. */
  ag_engine_set_max_threads (fixture->engine, 0);
  multi = ag_multi_task_new_map_range (1000, cancel_at_position, &cancel, NULL);
  ag_multi_task_set_min_count (multi, 1000);
  cancel.multi = multi;

  value = ag_test_run_to_end (fixture, AG_TASK (multi), &error);
  g_assert_null (value);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (cancel.n_calls, >, cancel.cancel_at);
  g_assert_cmpuint (cancel.n_calls, <=, cancel.cancel_at + 16);
}

int
main (int    argc,
      char **argv)
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/chunk/one-handle-serves-a-whole-run",
               test_chunk_one_handle_serves_a_whole_run);
  ag_test_add ("/chunk/kept-handle-is-replaced-and-refuses-late-returns",
               test_chunk_kept_handle_is_replaced_and_refuses_late_returns);
  ag_test_add ("/chunk/second-return-is-refused", test_chunk_second_return_is_refused);
  ag_test_add ("/chunk/error-detail-reaches-the-row-the-multi-task-and-the-pipeline",
               test_chunk_error_detail_reaches_the_row_the_multi_task_and_the_pipeline);
  ag_test_add ("/chunk/function-that-returns-nothing-fails-its-child",
               test_chunk_function_that_returns_nothing_fails_its_child);
  ag_test_add ("/chunk/map-function-may-not-emit", test_chunk_map_function_may_not_emit);
  ag_test_add ("/chunk/typed-returns-keep-their-types", test_chunk_typed_returns_keep_their_types);
  ag_test_add ("/chunk/plain-returns-refuse-what-is-not-a-handle",
               test_chunk_plain_returns_refuse_what_is_not_a_handle);
  ag_test_add ("/chunk/cancelled-run-stops-within-sixteen-inputs",
               test_chunk_cancelled_run_stops_within_sixteen_inputs);

  return g_test_run ();
}
