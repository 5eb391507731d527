/* test-process-round-trip.c: what one call to a process costs the engine's
 * thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "worker-test-util.h"
#include "ag-completion-queue-private.h"

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

int
main (int   argc,
      char *argv[])
{
  ag_test_init (&argc, &argv);

  ag_test_add ("/process-round-trip/worker-reply-comes-home-in-one-push",
               test_worker_reply_comes_home_in_one_push);
  ag_test_add ("/process-round-trip/command-reply-comes-home-in-one-push",
               test_command_reply_comes_home_in_one_push);

  return g_test_run ();
}
