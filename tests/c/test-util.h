/* test-util.h: what the C tests share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <asyncgui.h>

G_BEGIN_DECLS

/* The error domain of the failures tests make on purpose. */
#define TEST_ERROR (g_quark_from_static_string ("asyncgui-test-error"))

/* Every wait in the tests is bounded by this much unless a test says
 * otherwise: a library bug makes a test fail, never hang. */
#define AG_TEST_SAFETY_MS 10000

/* How many times slower than a plain build this run is allowed to be: 4
 * under ThreadSanitizer, which makes every memory access and lock several
 * times slower, 2 under AddressSanitizer, which checks every access, 10
 * under valgrind, which also runs one thread at a time, and 1 otherwise.
 * A bound on how quickly something happens (a latency, a "not yet"
 * window; not a safety deadline) is multiplied by it, since such runs
 * check memory and races, not speed. */
double   ag_test_timing_factor (void);

/* The thread the tests run on; it iterates the engines' context, so it is
 * the "GUI thread" of every test. */
GThread *ag_test_main_thread (void);

/* Milliseconds since @start_us (a g_get_monotonic_time() reading). */
double   ag_test_elapsed_ms  (gint64 start_us);

/* Fails the test (instead of hanging) when @cond is still false after
 * @timeout_ms of iterating @context. */
#define ag_test_run_until(context, cond, timeout_ms)                          \
  G_STMT_START {                                                              \
    AgTestDeadline *ag_test_deadline_ = ag_test_deadline_new ((context),     \
                                                              (timeout_ms));  \
    while (!(cond) && !ag_test_deadline_passed (ag_test_deadline_))          \
      g_main_context_iteration ((context), TRUE);                            \
    ag_test_deadline_free (ag_test_deadline_);                               \
    if (!(cond))                                                              \
      ag_test_fail_timeout (__FILE__, __LINE__, G_STRFUNC, #cond,             \
                            (timeout_ms));                                   \
  } G_STMT_END

typedef struct _AgTestDeadline AgTestDeadline;

AgTestDeadline *ag_test_deadline_new    (GMainContext   *context,
                                         guint           timeout_ms);
gboolean        ag_test_deadline_passed (AgTestDeadline *deadline);
void            ag_test_deadline_free   (AgTestDeadline *deadline);
G_NORETURN void ag_test_fail_timeout    (const char     *file,
                                         int             line,
                                         const char     *func,
                                         const char     *cond,
                                         guint           timeout_ms);

/* A one-shot signal between threads: one opens it, another waits for it,
 * e.g. to hold the main loop still until a worker has done something. */
typedef struct
{
  GMutex   lock;
  GCond    cond;
  gboolean open;
} AgTestLatch;

void     ag_test_latch_init  (AgTestLatch  *latch);
void     ag_test_latch_clear (AgTestLatch  *latch);
void     ag_test_latch_open  (AgTestLatch  *latch);
/* Blocks until @latch is open, at most AG_TEST_SAFETY_MS; returns whether
 * it is. */
gboolean ag_test_latch_wait  (AgTestLatch  *latch);

/* Iterates @context for @msec, whatever happens. */
void     ag_test_run_for     (GMainContext *context,
                              guint         msec);

/* What a run_async callback saw. Fill in @engine, pass the struct as
 * user_data with ag_test_outcome_callback. */
typedef struct
{
  AgEngine     *engine;
  guint         n_calls;
  GObject      *source_object;  /* as given to the callback, unowned */
  AgTask       *result_task;    /* AG_TASK (result) when it is one, a ref */
  GValue       *value;          /* from ag_engine_run_finish */
  GError       *error;          /* from ag_engine_run_finish */
  GThread      *thread;         /* the thread the callback ran on */
  gint64        time_us;        /* when the callback ran */
} AgTestOutcome;

void     ag_test_outcome_init     (AgTestOutcome *outcome,
                                   AgEngine      *engine);
void     ag_test_outcome_clear    (AgTestOutcome *outcome);
void     ag_test_outcome_callback (GObject       *source_object,
                                   GAsyncResult  *result,
                                   gpointer       user_data);

/* Frees a GValue from ag_engine_run_finish(). */
void     ag_test_value_free       (GValue        *value);

/* The int a task's value holds; fails the test when it holds no int. */
int      ag_test_value_get_int    (const GValue  *value);

/* A thread task that sleeps @msec on its worker, then returns @value. */
AgTask  *ag_test_task_new_int_after   (guint         msec,
                                       int           value);
/* A thread task that sleeps @msec on its worker, then fails with
 * (@domain, @code, @message). */
AgTask  *ag_test_task_new_error_after (guint         msec,
                                       GQuark        domain,
                                       int           code,
                                       const char   *message);

/* How many of the tasks made by the two constructors above are in their
 * function right now, and the most that ever were at once (atomic). */
extern int ag_test_n_in_worker;
extern int ag_test_max_in_worker;
void     ag_test_reset_worker_counts (void);

/* A fresh engine on the global default context for every test. */
typedef struct
{
  GMainContext *context;
  AgEngine     *engine;
} AgTestFixture;

/* Runs @task on the fixture's engine and iterates its context until the
 * callback ran (at most AG_TEST_SAFETY_MS); returns the value, or NULL
 * with @error set. Free the value with ag_test_value_free(). */
GValue  *ag_test_run_to_end       (AgTestFixture *fixture,
                                   AgTask        *task,
                                   GError       **error);

/* Makes a task of @type with g_object_new(), as a binding's default
 * constructor does, runs it on the fixture's engine and asserts that it
 * fails with AG_ERROR_FAILED and a message that contains @mentions. */
/* Calls @func with @data on a new thread, expecting a critical that
 * matches @pattern there and %NULL back: a call for the engine's thread
 * made from another one. */
void     ag_test_assert_critical_elsewhere (GThreadFunc  func,
                                            gpointer     data,
                                            const char  *pattern);
void     ag_test_assert_bare_task_fails (AgTestFixture *fixture,
                                         GType          type,
                                         const char    *mentions);

void     ag_test_fixture_setup    (AgTestFixture *fixture,
                                   gconstpointer  data);
void     ag_test_fixture_teardown (AgTestFixture *fixture,
                                   gconstpointer  data);

#define ag_test_add(path, func)                                               \
  g_test_add ((path), AgTestFixture, NULL,                                    \
              ag_test_fixture_setup, (func), ag_test_fixture_teardown)

/* Runs the tests after installing the shared setup (g_test_init with the
 * main thread recorded). */
void     ag_test_init             (int          *argc,
                                   char       ***argv);

G_END_DECLS
