/* test-stress.c: many kinds of work at once, random cancellation, and an
 * engine disposed mid-flight
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

/* Rounds run until this much time has passed (at least MIN_ROUNDS), so the
 * test stays short under sanitizers and valgrind too. */
#define STRESS_SECONDS 8
#define MIN_ROUNDS     3

#define N_THREAD_TASKS  300
#define N_OTHER_THREAD  100
#define N_SLEEPS        20
#define N_MULTIS        10
#define N_CHILDREN      10
#define N_MAPS          4
#define N_MAP_ITEMS     1000
#define N_JOBS          10
#define N_JOB_AWAITS    3

typedef struct _Round Round;

/* One task or job of a round and what happened to it. */
typedef struct
{
  Round    *round;
  guint     index;
  GObject  *object;       /* AgTask or AgJob, strong until the round ends */
  gboolean  child;        /* a MultiTask's child, run by its parent */
  guint     n_callbacks;  /* the engine's thread */
  gboolean  has_data;     /* its user data has a destroy notify */
  int       n_destroyed;  /* atomic: that destroy notify ran */
  int       n_finalized;  /* atomic */
  int       n_off_thread; /* atomic: either of them off the main thread */
  guint    *n_task_done;  /* per child, for multi-tasks; else NULL */
  guint     n_children;
} Record;

struct _Round
{
  GRand     *rand;
  AgEngine  *engine;
  GPtrArray *records;        /* Record, owned */
  gboolean   disposed;
  guint      n_late_callbacks;  /* callbacks after disposal: must stay 0 */
  int        stop_cancelling;   /* atomic */
  GMutex     cancel_lock;       /* guards the cancel pool for the canceller */
  GPtrArray *cancel_pool;       /* AgTask, strong */
  int        n_submitted_elsewhere;  /* atomic */
};

static void
record_data_free (gpointer data)
{
  Record *record = data;

  if (g_thread_self () != ag_test_main_thread ())
    g_atomic_int_inc (&record->n_off_thread);
  g_atomic_int_inc (&record->n_destroyed);
}

static void
record_finalized (gpointer  data,
                  GObject  *where_the_object_was)
{
  Record *record = data;

  if (g_thread_self () != ag_test_main_thread ())
    g_atomic_int_inc (&record->n_off_thread);
  g_atomic_int_inc (&record->n_finalized);
}

static Record *
record_new (Round *round)
{
  Record *record = g_new0 (Record, 1);

  record->round = round;
  g_ptr_array_add (round->records, record);

  return record;
}

/* Keeps @object (a new task or job) in @record until the round ends. */
static void
record_set_object (Record   *record,
                   gpointer  object,
                   gboolean  has_data)
{
  record->object = g_object_ref (object);
  record->has_data = has_data;
  g_object_weak_ref (record->object, record_finalized, record);
}

static void
task_done (GObject      *source_object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Record *record = user_data;

  g_assert_true (g_thread_self () == ag_test_main_thread ());
  if (record->round->disposed)
    record->round->n_late_callbacks++;
  record->n_callbacks++;
  g_assert_true (ag_task_is_finished (AG_TASK (result)));
}

/* Thread work of a few kinds, chosen by the record's place in the round. */
static void
thread_work (AgTask       *task,
             gpointer      user_data,
             GCancellable *cancellable)
{
  Record *record = user_data;
  guint index = record->index;

  switch (index % 5)
    {
    case 0:
      ag_task_return_int (task, (int) index);
      break;
    case 1:
      g_usleep (g_random_int_range (0, 2000));
      ag_task_return_string (task, "slept");
      break;
    case 2:
      ag_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "failure %u", index);
      break;
    case 3:
      {
        g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);

        /* Ignores cancellation for a while, then returns anyway. */
        g_usleep (g_random_int_range (0, 3000));
        ag_task_return_object (task, object);
      }
      break;
    default:
      ag_task_set_progress (task, 0.5);
      if (!g_cancellable_is_cancelled (cancellable))
        ag_task_return_boolean (task, index % 2);
      break;
    }
}

static AgTask *
thread_task_new (Round *round,
                 guint  index)
{
  Record *record = record_new (round);
  AgTask *task = ag_task_new (thread_work, record, record_data_free);

  record->index = index;
  record_set_object (record, task, TRUE);

  return task;
}

static void
add_to_cancel_pool (Round  *round,
                    AgTask *task)
{
  g_mutex_lock (&round->cancel_lock);
  g_ptr_array_add (round->cancel_pool, g_object_ref (task));
  g_mutex_unlock (&round->cancel_lock);
}

static void
run_recorded (Round  *round,
              AgTask *task)
{
  Record *record = NULL;

  for (guint i = round->records->len; i > 0 && record == NULL; i--)
    if (((Record *) g_ptr_array_index (round->records, i - 1))->object == G_OBJECT (task))
      record = g_ptr_array_index (round->records, i - 1);
  g_assert_nonnull (record);

  ag_engine_run_async (round->engine, task, NULL, task_done, record);
  add_to_cancel_pool (round, task);
}

static void
count_task_done (AgMultiTask *multi,
                 guint        position,
                 gpointer     user_data)
{
  Record *record = user_data;

  g_assert_cmpuint (position, <, record->n_children);
  record->n_task_done[position]++;
}

static AgMultiTask *
multi_new (Round *round,
           guint  first_index)
{
  AgMultiTask *multi = ag_multi_task_new ();
  Record *record = record_new (round);

  record_set_object (record, multi, FALSE);
  record->n_children = N_CHILDREN;
  record->n_task_done = g_new0 (guint, N_CHILDREN);
  for (guint i = 0; i < N_CHILDREN; i++)
    {
      g_autoptr(AgTask) child = thread_task_new (round, first_index + i);

      ((Record *) g_ptr_array_index (round->records, round->records->len - 1))->child = TRUE;
      ag_multi_task_add (multi, child);
      if (g_rand_boolean (round->rand))
        add_to_cancel_pool (round, child);
    }
  ag_multi_task_set_skip_errors (multi, g_rand_boolean (round->rand));
  ag_multi_task_set_unordered (multi, g_rand_boolean (round->rand));
  ag_multi_task_set_max_workers (multi, g_rand_int_range (round->rand, 0, 4));
  g_signal_connect (multi, "task-done", G_CALLBACK (count_task_done), record);

  return multi;
}

static void
square (AgChunk  *chunk,
        guint     position,
        gpointer  user_data)
{
  if (position % 97 == 13)
    {
      ag_chunk_return_new_error (chunk, G_IO_ERROR, G_IO_ERROR_FAILED, "item %u", position);
      return;
    }

  ag_chunk_return_uint (chunk, position * position);
}

static AgMultiTask *
map_new (Round *round)
{
  Record *record = record_new (round);
  AgMultiTask *multi = ag_multi_task_new_map_range (N_MAP_ITEMS, square,
                                                    record, record_data_free);

  record_set_object (record, multi, TRUE);
  ag_multi_task_set_skip_errors (multi, g_rand_boolean (round->rand));

  return multi;
}

static AgTask *
sleep_new (Round *round)
{
  Record *record = record_new (round);
  AgTask *task = ag_task_new_sleep (g_rand_int_range (round->rand, 1, 30));

  record_set_object (record, task, FALSE);

  return task;
}

/* A C job that awaits a few thread tasks one after another. */
static void
job_body (AgJob    *job,
          gpointer  user_data)
{
  Record *record = user_data;

  for (guint i = 0; i < N_JOB_AWAITS; i++)
    {
      g_autoptr(GError) error = NULL;
      GValue *value = ag_job_await (ag_test_task_new_int_after (g_random_int_range (0, 3), (int) i),
                                    &error);

      if (value != NULL)
        ag_test_value_free (value);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    }
  ag_task_return_int (AG_TASK (job), (int) record->index);
}

static gpointer
submit_elsewhere (gpointer data)
{
  GPtrArray *tasks = data;
  Round *round = g_object_get_data (G_OBJECT (g_ptr_array_index (tasks, 0)), "round");

  for (guint i = 0; i < tasks->len; i++)
    {
      AgTask *task = g_ptr_array_index (tasks, i);
      Record *record = g_object_get_data (G_OBJECT (task), "record");

      g_assert_true (record->object == G_OBJECT (task));
      ag_engine_run_async (round->engine, task, NULL, task_done, record);
      if (i % 3 == 0)
        ag_task_cancel (task);
    }
  g_atomic_int_set (&round->n_submitted_elsewhere, (int) tasks->len);

  return NULL;
}

/* Cancels random tasks from another thread while the round goes on. */
static gpointer
cancel_randomly (gpointer data)
{
  Round *round = data;
  GRand *rand = g_rand_new_with_seed (g_rand_int (round->rand));

  while (!g_atomic_int_get (&round->stop_cancelling))
    {
      g_autoptr(AgTask) task = NULL;

      g_mutex_lock (&round->cancel_lock);
      if (round->cancel_pool->len > 0)
        task = g_object_ref (g_ptr_array_index (round->cancel_pool,
                                                g_rand_int_range (rand, 0, round->cancel_pool->len)));
      g_mutex_unlock (&round->cancel_lock);

      if (task != NULL && g_rand_int_range (rand, 0, 4) == 0)
        ag_task_cancel (task);
      g_usleep (g_rand_int_range (rand, 10, 300));
    }
  g_rand_free (rand);

  return NULL;
}

static gboolean
all_called_back (Round *round)
{
  for (guint i = 0; i < round->records->len; i++)
    {
      Record *record = g_ptr_array_index (round->records, i);

      if (AG_IS_JOB (record->object))
        {
          if (!ag_task_is_finished (AG_TASK (record->object)))
            return FALSE;
        }
      else if (!record->child && record->n_callbacks == 0)
        return FALSE;
    }

  return TRUE;
}

static void
check_final_state (AgTask *task)
{
  const GError *error = ag_task_get_error (task);

  g_assert_true (ag_task_is_finished (task));
  switch (ag_task_get_state (task))
    {
    case AG_TASK_SUCCEEDED:
      g_assert_null (error);
      break;
    case AG_TASK_FAILED:
      g_assert_nonnull (error);
      g_assert_false (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
      break;
    case AG_TASK_CANCELLED:
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      break;
    case AG_TASK_PENDING:
    case AG_TASK_RUNNING:
    default:
      g_assert_not_reached ();
    }
}

static void
run_round (guint32  seed,
           gboolean dispose_mid_flight)
{
  GMainContext *context = g_main_context_default ();
  g_autoptr(GPtrArray) elsewhere = g_ptr_array_new_with_free_func (g_object_unref);
  Round round = { 0 };
  GThread *canceller, *submitter;
  guint index = 0, n_records;

  round.rand = g_rand_new_with_seed (seed);
  round.engine = ag_engine_new_for_context (context);
  round.records = g_ptr_array_new ();
  round.cancel_pool = g_ptr_array_new_with_free_func (g_object_unref);
  g_mutex_init (&round.cancel_lock);
  ag_engine_set_max_threads (round.engine, g_rand_int_range (round.rand, 0, 5));

  for (guint i = 0; i < N_THREAD_TASKS; i++)
    {
      g_autoptr(AgTask) task = thread_task_new (&round, index++);

      run_recorded (&round, task);
    }
  for (guint i = 0; i < N_SLEEPS; i++)
    {
      g_autoptr(AgTask) task = sleep_new (&round);

      run_recorded (&round, task);
    }
  for (guint i = 0; i < N_MULTIS; i++)
    {
      g_autoptr(AgMultiTask) multi = multi_new (&round, index);

      index += N_CHILDREN;
      run_recorded (&round, AG_TASK (multi));
    }
  for (guint i = 0; i < N_MAPS; i++)
    {
      g_autoptr(AgMultiTask) multi = map_new (&round);

      run_recorded (&round, AG_TASK (multi));
    }
  for (guint i = 0; i < N_JOBS; i++)
    {
      Record *record = record_new (&round);
      g_autoptr(AgJob) job = ag_engine_spawn (round.engine, job_body, record, record_data_free);

      record->index = index++;
      record_set_object (record, job, TRUE);
    }
  for (guint i = 0; i < N_OTHER_THREAD; i++)
    {
      AgTask *task = thread_task_new (&round, index++);
      Record *record = g_ptr_array_index (round.records, round.records->len - 1);

      g_object_set_data (G_OBJECT (task), "record", record);
      g_object_set_data (G_OBJECT (task), "round", &round);
      g_ptr_array_add (elsewhere, task);
    }

  canceller = g_thread_new ("stress-canceller", cancel_randomly, &round);
  submitter = g_thread_new ("stress-submitter", submit_elsewhere, elsewhere);

  if (dispose_mid_flight)
    {
      ag_test_run_for (context, g_rand_int_range (round.rand, 1, 40));
      g_thread_join (submitter);
      g_atomic_int_set (&round.stop_cancelling, TRUE);
      g_thread_join (canceller);

      g_clear_object (&round.engine);
      round.disposed = TRUE;
      ag_test_run_for (context, 30);
    }
  else
    {
      ag_test_run_until (context,
                         g_atomic_int_get (&round.n_submitted_elsewhere) == N_OTHER_THREAD
                         && all_called_back (&round),
                         3 * AG_TEST_SAFETY_MS);
      g_atomic_int_set (&round.stop_cancelling, TRUE);
      g_thread_join (canceller);
      g_thread_join (submitter);
      ag_test_run_for (context, 20);
    }

  /* Every task ended once, and its callback ran at most once; with the
   * engine alive, exactly once. */
  g_assert_cmpuint (round.n_late_callbacks, ==, 0);
  for (guint i = 0; i < round.records->len; i++)
    {
      Record *record = g_ptr_array_index (round.records, i);
      gboolean child = record->child;

      if (AG_IS_JOB (record->object))
        {
          g_assert_true (ag_task_is_finished (AG_TASK (AG_JOB (record->object))));
          continue;
        }

      check_final_state (AG_TASK (record->object));
      g_assert_cmpuint (record->n_callbacks, <=, child ? 0 : 1);
      if (!dispose_mid_flight && !child)
        g_assert_cmpuint (record->n_callbacks, ==, 1);
      /* A cancelled MultiTask ends at once, without waiting to tell of the
       * children still running. */
      for (guint c = 0; c < record->n_children; c++)
        {
          g_assert_cmpuint (record->n_task_done[c], <=, 1);
          if (!dispose_mid_flight
              && ag_task_get_state (AG_TASK (record->object)) != AG_TASK_CANCELLED)
            g_assert_cmpuint (record->n_task_done[c], ==, 1);
        }
    }

  /* Once nothing holds them, every task and job is released, once, on
   * this thread. */
  n_records = round.records->len;
  g_clear_object (&round.engine);
  g_clear_pointer (&round.cancel_pool, g_ptr_array_unref);
  g_clear_pointer (&elsewhere, g_ptr_array_unref);
  for (guint i = 0; i < n_records; i++)
    g_clear_object (&((Record *) g_ptr_array_index (round.records, i))->object);
  for (guint i = 0; i < n_records; i++)
    {
      Record *record = g_ptr_array_index (round.records, i);

      ag_test_run_until (context, g_atomic_int_get (&record->n_finalized) > 0,
                         AG_TEST_SAFETY_MS);
      g_assert_cmpint (g_atomic_int_get (&record->n_finalized), ==, 1);
      g_assert_cmpint (g_atomic_int_get (&record->n_destroyed), ==, record->has_data ? 1 : 0);
      g_assert_cmpint (g_atomic_int_get (&record->n_off_thread), ==, 0);
      g_free (record->n_task_done);
      g_free (record);
    }

  g_ptr_array_unref (round.records);
  g_mutex_clear (&round.cancel_lock);
  g_rand_free (round.rand);
}

static void
test_mixed_work_with_random_cancellation_ends_everything_once (void)
{
  gint64 end = g_get_monotonic_time () + STRESS_SECONDS * G_USEC_PER_SEC;
  guint32 seed = g_test_rand_int ();
  guint round;

  for (round = 0; round < MIN_ROUNDS || g_get_monotonic_time () < end; round++)
    {
      g_test_message ("round %u, seed %u, %s", round, seed + round,
                      round % 2 ? "engine disposed mid-flight" : "run to the end");
      run_round (seed + round, round % 2 == 1);
    }
  g_test_message ("%u rounds", round);
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  g_test_add_func ("/stress/mixed-work-with-random-cancellation-ends-everything-once",
                   test_mixed_work_with_random_cancellation_ends_everything_once);

  return g_test_run ();
}
