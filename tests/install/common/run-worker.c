/* run-worker.c: runs a function in asyncgui's C worker process and a
 * function on a worker thread, with no environment to say where the worker
 * is; prints both results. Built by the projects tests/install makes.
 *
 * Usage: run-worker MODULE-PATH
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <unistd.h>
#include <asyncgui.h>

static void
answer (AgTask       *task,
        gpointer      data,
        GCancellable *cancellable)
{
  ag_task_return_int (task, 42);
}

/* Runs @task on @engine and waits, for at most a minute, until it has
 * finished; whether it succeeded is read from the task. */
static gboolean
run (AgEngine  *engine,
     AgTask    *task,
     GError   **error)
{
  ag_engine_run_async (engine, task, NULL, NULL, NULL);
  return ag_task_wait (task, 60000, error);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AgTask) thread_task = NULL;
  g_autoptr(AgWorkerTask) worker_task = NULL;
  AgEngine *engine;
  GVariant *pid;
  int value;

  if (argc != 2)
    {
      g_printerr ("usage: %s MODULE-PATH\n", argv[0]);
      return 2;
    }

  engine = ag_engine_get_default ();

  thread_task = ag_task_new (answer, NULL, NULL);
  if (!run (engine, thread_task, &error))
    {
      g_printerr ("thread task: %s\n", error->message);
      return 1;
    }
  value = ag_task_get_int (thread_task, &error);
  if (error != NULL)
    {
      g_printerr ("thread task: %s\n", error->message);
      return 1;
    }
  g_print ("thread task: %d\n", value);

  worker_task = ag_worker_task_new_c (argv[1], "install_test_getpid", NULL);
  if (!run (engine, AG_TASK (worker_task), &error))
    {
      g_printerr ("worker task: %s\n", error->message);
      return 1;
    }
  pid = ag_task_get_variant (AG_TASK (worker_task), &error);
  if (pid == NULL)
    {
      g_printerr ("worker task: %s\n", error->message);
      return 1;
    }
  g_print ("worker task: pid %d, caller pid %d\n", g_variant_get_int32 (pid), (int) getpid ());

  return g_variant_get_int32 (pid) > 0 && g_variant_get_int32 (pid) != getpid () && value == 42 ? 0 : 1;
}
