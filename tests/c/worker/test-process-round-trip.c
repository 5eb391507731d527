/* test-process-round-trip.c: what one call to a process costs the engine's
 * thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "worker-test-util.h"
#include "ag-completion-queue-private.h"
#include "ag-worker-pool-private.h"

/* Every push to a completion queue wakes the engine's thread when the queue
 * was empty, and on a virtual machine such a wake-up costs tens of
 * microseconds: more than the rest of a call to a warm worker. So the reply
 * of a call and the reference the call held on its task go home together,
 * as one node. The completion queue's private test hook counts the pushes
 * (this test links the layers themselves, as test-delivery-budget does);
 * it says nothing about time. */

#define N_CALLS 20

typedef struct
{
  int      n_pushes;        /* atomic: pushes from any thread */
  gboolean counting;
} Pushes;

static void
count_push (AgCompletionQueue *queue,
            AgNode            *node,
            gpointer           user_data)
{
  Pushes *pushes = user_data;

  if (g_atomic_int_get (&pushes->counting))
    g_atomic_int_inc (&pushes->n_pushes);
}

/* Runs @task to its end and asserts where it was finalized: on this thread,
 * once the callback had let it go. */
static void
run_and_release (AgEngine *engine,
                 AgTask   *task)
{
  AgTestOutcome outcome;
  AgTestRelease release;

  ag_test_watch_release (G_OBJECT (task), &release);
  ag_test_run_task (engine, task, &outcome);
  g_assert_no_error (outcome.error);
  ag_test_outcome_clear (&outcome);
  g_object_unref (task);

  ag_test_run_until (ag_engine_get_context (engine), g_atomic_int_get (&release.released),
                     AG_TEST_SAFETY_MS);
  g_assert_true (release.thread == ag_test_main_thread ());
}

static void
count_pushes_of_calls (AgEngine    *engine,
                       AgTask    *(*new_task) (guint i))
{
  Pushes pushes = { 0 };

  /* The first call starts what it needs (a worker, a child watch); only
   * the calls after it are counted. */
  run_and_release (engine, new_task (0));

  _ag_completion_queue_set_push_hook (count_push, &pushes);
  g_atomic_int_set (&pushes.counting, TRUE);
  for (guint i = 1; i <= N_CALLS; i++)
    run_and_release (engine, new_task (i));
  g_atomic_int_set (&pushes.counting, FALSE);
  _ag_completion_queue_set_push_hook (NULL, NULL);

  g_test_message ("%d pushes for %d calls", pushes.n_pushes, N_CALLS);
  g_assert_cmpint (pushes.n_pushes, ==, N_CALLS);
}

static AgTask *
new_echo (guint i)
{
  return AG_TASK (ag_worker_task_new_c (AG_TEST_WORKER_MODULE_PATH, "ag_test_echo",
                                        g_variant_new ("(us)", i, "payload")));
}

static void
test_worker_reply_comes_home_in_one_push (AgTestFixture *fixture,
                                          gconstpointer  data)
{
  count_pushes_of_calls (fixture->engine, new_echo);
}

static AgTask *
new_true (guint i)
{
  const char *argv[] = { "/bin/true", NULL };

  return AG_TASK (ag_command_task_new (argv));
}

static void
test_command_reply_comes_home_in_one_push (AgTestFixture *fixture,
                                           gconstpointer  data)
{
  count_pushes_of_calls (fixture->engine, new_true);
}

/* The process thread's side of a warm call. Its context is private, so the
 * test looks at it from outside. Every source attached to a context takes
 * the next id: two probes attached before and after the calls tell how
 * many sources the calls attached, and the ids between lead to the
 * sources that live there. */

/* The id the next source attached to @context takes, less one. The probe
 * is never due, so it never runs. */
static guint
probe_source_id (GMainContext *context)
{
  g_autoptr(GSource) probe = g_timeout_source_new_seconds (3600);
  guint id = g_source_attach (probe, context);

  g_source_destroy (probe);
  return id;
}

static void
test_warm_call_attaches_no_source_to_the_process_thread (AgTestFixture *fixture,
                                                         gconstpointer  data)
{
  AgWorkerPool *pool = ag_engine_get_worker_pool (fixture->engine);
  GMainContext *context;
  guint before, after;

  /* The first call starts the thread and the worker; the second begins
   * only after the first one's end was handled there. */
  run_and_release (fixture->engine, new_echo (0));
  run_and_release (fixture->engine, new_echo (0));
  context = _ag_worker_pool_peek_thread_context (pool);
  g_assert_nonnull (context);

  before = probe_source_id (context);
  for (guint i = 1; i <= N_CALLS; i++)
    run_and_release (fixture->engine, new_echo (i));
  after = probe_source_id (context);

  g_test_message ("%u sources attached for %d calls", after - before - 1, N_CALLS);
  g_assert_cmpuint (after - before - 1, ==, 0);
}

/* GLib takes a source's descriptors out of the poll while it dispatches
 * the source, and puts them back after, unless the source may recurse;
 * each of the two wakes the context's thread, which then goes round once
 * more for nothing. The sources that watch a worker's pipes are
 * dispatched at every reply, so they must not cost that. */
static void
test_worker_pipes_do_not_wake_their_own_thread (AgTestFixture *fixture,
                                                gconstpointer  data)
{
  AgWorkerPool *pool = ag_engine_get_worker_pool (fixture->engine);
  GMainContext *context;
  guint n_pipes = 0;
  guint last;

  run_and_release (fixture->engine, new_echo (0));
  context = _ag_worker_pool_peek_thread_context (pool);
  g_assert_nonnull (context);

  /* The idle worker's pipes stay watched while this looks. */
  last = probe_source_id (context);
  for (guint id = 1; id < last; id++)
    {
      GSource *source = g_main_context_find_source_by_id (context, id);

      if (source != NULL && g_strcmp0 (g_source_get_name (source), "[asyncgui] worker pipe") == 0)
        {
          n_pipes++;
          g_assert_true (g_source_get_can_recurse (source));
        }
    }

  g_assert_cmpuint (n_pipes, >=, 1);
}

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/process-round-trip/worker-reply-comes-home-in-one-push",
               test_worker_reply_comes_home_in_one_push);
  ag_test_add ("/process-round-trip/command-reply-comes-home-in-one-push",
               test_command_reply_comes_home_in_one_push);
  ag_test_add ("/process-round-trip/warm-call-attaches-no-source-to-the-process-thread",
               test_warm_call_attaches_no_source_to_the_process_thread);
  ag_test_add ("/process-round-trip/worker-pipes-do-not-wake-their-own-thread",
               test_worker_pipes_do_not_wake_their_own_thread);

  return g_test_run ();
}
