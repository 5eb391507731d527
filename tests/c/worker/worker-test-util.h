/* worker-test-util.h: what the process tests share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "test-util.h"

G_BEGIN_DECLS

/* Where the build put the test's helpers (set by meson.build). */
#define AG_TEST_WORKER_MODULE_PATH TEST_WORKER_MODULE
#define AG_TEST_FAKE_WORKER_PATH   TEST_FAKE_WORKER

/* TRUE while /proc/@pid exists, zombie or not. */
gboolean ag_test_pid_exists           (int           pid);
/* The state letter of /proc/@pid/stat ('R', 'S', 'Z'...), or 0 if none. */
char     ag_test_pid_state            (int           pid);
/* Iterates @context until /proc/@pid is gone; FALSE if still there after
 * @timeout_ms. */
gboolean ag_test_wait_pid_gone        (GMainContext *context,
                                       int           pid,
                                       guint         timeout_ms);

/* Our open file descriptors, from /proc/self/fd. */
guint    ag_test_count_fds            (void);
/* Children of this process that are zombies. */
guint    ag_test_count_zombie_children (void);
/* Iterates @context until the fd count is @expected and no child is a
 * zombie, for at most @timeout_ms (closing and reaping happen on other
 * threads, a little after the tasks end). Then asserts both. */
void     ag_test_assert_no_leaks      (GMainContext *context,
                                       guint         expected_fds,
                                       guint         timeout_ms);

/* Iterates @context until no child is a zombie (GLib reaps on a thread of
 * its own), for at most @timeout_ms; then asserts it. */
void     ag_test_assert_no_zombies    (GMainContext *context,
                                       guint         timeout_ms);

/* Iterates @context until the fd count has not changed for 200 ms (at most
 * 3 s) and returns it: a baseline taken while a process that was just
 * killed still holds its pipes would be too high. */
guint    ag_test_settled_fd_count     (GMainContext *context);

/* Iterates @context until @path exists and holds a pid; returns it. Fails
 * the test after @timeout_ms. */
int      ag_test_wait_pid_file        (GMainContext *context,
                                       const char   *path,
                                       guint         timeout_ms);

/* A fresh file name in a fresh temporary directory that
 * ag_test_tmpdir_cleanup() removes. */
char    *ag_test_tmp_path             (const char   *name);
/* The lines of the file at @path; 0 if there is none. */
guint    ag_test_count_lines          (const char   *path);
void     ag_test_tmpdir_cleanup       (void);

/* Fails the test, naming a bug that was fixed and is back. */
void     ag_test_regression           (const char   *what);

/* Where an object was finalized: ag_test_watch_release() fills it in from
 * a destroy notify of the object's data, on whatever thread that runs. */
typedef struct
{
  GThread *thread;     /* set before released */
  int      released;   /* atomic */
} AgTestRelease;

void     ag_test_watch_release        (GObject       *object,
                                       AgTestRelease *release);

/* Runs @task on @engine and iterates @context until its callback ran (at
 * most AG_TEST_SAFETY_MS). @outcome is initialized here. */
void     ag_test_run_task             (AgEngine      *engine,
                                       AgTask        *task,
                                       AgTestOutcome *outcome);

G_END_DECLS
