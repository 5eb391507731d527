/* test-fiber.c: the fiber layer under C jobs, on its own
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built twice, with the hand-written switch and with the ucontext fallback
 * (-DAG_FIBER_UCONTEXT); ag-fiber.c is compiled into each executable.
 */

#include "config.h"

#include <fenv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#ifdef HAVE_VALGRIND_VALGRIND_H
# include <valgrind/valgrind.h>
#endif

#include "ag-fiber-private.h"

#define STACK_SIZE (64 * 1024)

static const char *
expected_switch_kind (void)
{
#if defined(AG_FIBER_UCONTEXT)
  return "ucontext";
#elif defined(__x86_64__)
  return "x86-64";
#elif defined(__aarch64__)
  return "aarch64";
#else
  return "ucontext";
#endif
}

static void
test_switch_kind (void)
{
  g_test_message ("switch: %s", _ag_fiber_get_switch_kind ());
  g_assert_cmpstr (_ag_fiber_get_switch_kind (), ==, expected_switch_kind ());
}

/* Runs, suspends, returns */

typedef struct
{
  AgFiber *self;
  guint    step;
  AgFiber *current_inside;
} Simple;

static void
simple_body (gpointer user_data)
{
  Simple *s = user_data;

  s->current_inside = _ag_fiber_get_current ();
  s->step = 1;
  _ag_fiber_suspend (s->self);
  s->step = 2;
  _ag_fiber_suspend (s->self);
  s->step = 3;
}

static void
test_runs_until_suspend_then_returns (void)
{
  AgStackPool *pool = _ag_stack_pool_new ();
  Simple s = { 0 };

  s.self = _ag_fiber_new (pool, STACK_SIZE, simple_body, &s);
  g_assert_nonnull (s.self);
  g_assert_cmpuint (s.step, ==, 0);
  g_assert_null (_ag_fiber_get_current ());

  _ag_fiber_resume (s.self);
  g_assert_cmpuint (s.step, ==, 1);
  g_assert_true (s.current_inside == s.self);
  g_assert_null (_ag_fiber_get_current ());
  g_assert_false (_ag_fiber_is_done (s.self));

  _ag_fiber_resume (s.self);
  g_assert_cmpuint (s.step, ==, 2);
  g_assert_false (_ag_fiber_is_done (s.self));

  _ag_fiber_resume (s.self);
  g_assert_cmpuint (s.step, ==, 3);
  g_assert_true (_ag_fiber_is_done (s.self));

  _ag_fiber_free (s.self);
  _ag_stack_pool_free (pool);
}

/* Ping-pong: values live across switches on both sides */

#define N_PING_PONG 1000000

typedef struct
{
  AgFiber         *self;
  volatile guint64 shared;
  guint64          n;
  gboolean         fiber_ok;
  guint64          fiber_checksum;
} PingPong;

/* Many values that stay live across each switch, so the compiler keeps
 * them in callee-saved registers (and, on aarch64, d8..d15) or spills them
 * to the stack: either way the switch must give them back unchanged. */
#define LIVE_DECLARE(seed)                                                   \
  guint64 a0 = (seed) + 1, a1 = (seed) * 3 + 2, a2 = (seed) ^ 0x5555,        \
          a3 = (seed) + 7, a4 = (seed) * 5, a5 = (seed) + 11,                \
          a6 = (seed) * 7 + 1, a7 = (seed) ^ 0xaaaa, a8 = (seed) + 13,       \
          a9 = (seed) * 11, a10 = (seed) + 17, a11 = (seed) * 13 + 3;        \
  double d0 = (seed) + 0.5, d1 = (seed) * 0.25, d2 = (seed) + 1.75,          \
         d3 = (seed) * 1.5, d4 = (seed) + 2.125, d5 = (seed) * 0.125,        \
         d6 = (seed) + 3.5, d7 = (seed) * 2.0, d8 = (seed) + 4.25,           \
         d9 = (seed) * 0.75

#define LIVE_STEP(i)                                                         \
  G_STMT_START {                                                             \
    a0 += (i); a1 ^= (i); a2 += a0; a3 += 3 * (i); a4 ^= a3;                 \
    a5 += a1; a6 += 1; a7 ^= (i) << 3; a8 += a6; a9 += 2;                    \
    a10 ^= a9; a11 += (i) & 7;                                               \
    d0 += 1.0; d1 += 0.5; d2 -= 0.25; d3 += 2.0; d4 += 0.125;                \
    d5 -= 1.0; d6 += 4.0; d7 += 0.0625; d8 -= 0.5; d9 += 8.0;                \
  } G_STMT_END

#define LIVE_SUM()                                                           \
  (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 +             \
   (guint64) (d0 + d1 + d2 + d3 + d4 + d5 + d6 + d7 + d8 + d9))

/* The same computation without switches, for the expected checksum. */
static guint64
live_reference (guint64 seed,
                guint64 n)
{
  LIVE_DECLARE (seed);

  for (guint64 i = 0; i < n; i++)
    LIVE_STEP (i);

  return LIVE_SUM ();
}

static void
ping_pong_body (gpointer user_data)
{
  PingPong *pp = user_data;
  LIVE_DECLARE (17);
  gboolean ok = TRUE;

  for (guint64 i = 0; i < pp->n; i++)
    {
      LIVE_STEP (i);
      pp->shared = i * 2;
      _ag_fiber_suspend (pp->self);
      if (pp->shared != i * 2 + 1)
        ok = FALSE;
    }

  pp->fiber_ok = ok;
  pp->fiber_checksum = LIVE_SUM ();
}

static void
test_ping_pong_keeps_values_on_both_sides (void)
{
  AgStackPool *pool = _ag_stack_pool_new ();
  PingPong pp = { .n = N_PING_PONG };
  LIVE_DECLARE (29);
  gboolean ok = TRUE;
  guint64 i = 0;

  pp.self = _ag_fiber_new (pool, STACK_SIZE, ping_pong_body, &pp);
  for (;;)
    {
      LIVE_STEP (i);
      _ag_fiber_resume (pp.self);
      if (_ag_fiber_is_done (pp.self))
        break;
      if (pp.shared != i * 2)
        ok = FALSE;
      pp.shared = i * 2 + 1;
      i++;
    }

  g_assert_true (ok);
  g_assert_cmpuint (i, ==, N_PING_PONG);
  g_assert_true (pp.fiber_ok);
  g_assert_cmpuint (pp.fiber_checksum, ==, live_reference (17, N_PING_PONG));
  /* The resumer ran one more step than the fiber suspended. */
  g_assert_cmpuint (LIVE_SUM (), ==, live_reference (29, N_PING_PONG + 1));

  _ag_fiber_free (pp.self);
  _ag_stack_pool_free (pool);
}

/* Switch cost */

typedef struct
{
  AgFiber *self;
  guint    n;
} Spin;

static void
spin_body (gpointer user_data)
{
  Spin *spin = user_data;

  for (guint i = 0; i < spin->n; i++)
    _ag_fiber_suspend (spin->self);
}

static void
test_switch_cost (void)
{
  AgStackPool *pool = _ag_stack_pool_new ();
  Spin spin = { .n = 200000 };
  double best_ns = G_MAXDOUBLE;

  /* Best of a few rounds: the machine is shared. */
  for (int round = 0; round < 5; round++)
    {
      gint64 start;
      double ns;

      spin.self = _ag_fiber_new (pool, STACK_SIZE, spin_body, &spin);
      start = g_get_monotonic_time ();
      while (!_ag_fiber_is_done (spin.self))
        _ag_fiber_resume (spin.self);
      /* Two switches per resume. */
      ns = (g_get_monotonic_time () - start) * 1000.0 / (2.0 * (spin.n + 1));
      best_ns = MIN (best_ns, ns);
      _ag_fiber_free (spin.self);
    }

  g_test_message ("switch cost (%s): %.1f ns per switch, %.1f ns per resume+suspend",
                  _ag_fiber_get_switch_kind (), best_ns, 2 * best_ns);
  /* Also on stdout, so it shows in meson's log without --verbose. */
  g_print ("# switch-cost kind=%s ns_per_switch=%.1f\n", _ag_fiber_get_switch_kind (), best_ns);
  _ag_stack_pool_free (pool);
}

/* Floating-point control state */

typedef struct
{
  AgFiber *self;
  int      round_at_start;
  int      round_after_switch;
  double   third_up;
  double   third_after_switch;
} FpState;

static double
one_third (void)
{
  volatile double one = 1.0, three = 3.0;

  return one / three;
}

static void
fp_body (gpointer user_data)
{
  FpState *fp = user_data;

  fp->round_at_start = fegetround ();
  fesetround (FE_UPWARD);
  fp->third_up = one_third ();
  _ag_fiber_suspend (fp->self);
  /* The resumer rounds toward zero meanwhile; this fiber still rounds up. */
  fp->round_after_switch = fegetround ();
  fp->third_after_switch = one_third ();
}

static void
test_fp_control_is_per_fiber (void)
{
  AgStackPool *pool = _ag_stack_pool_new ();
  FpState fp = { 0 };
  double nearest = one_third ();

#ifdef HAVE_VALGRIND_VALGRIND_H
  if (RUNNING_ON_VALGRIND)
    {
      _ag_stack_pool_free (pool);
      g_test_skip ("valgrind computes in the default rounding mode whatever the program sets");
      return;
    }
#endif

  g_assert_cmpint (fegetround (), ==, FE_TONEAREST);
  fp.self = _ag_fiber_new (pool, STACK_SIZE, fp_body, &fp);

  _ag_fiber_resume (fp.self);
  g_assert_cmpint (fp.round_at_start, ==, FE_TONEAREST);
  g_assert_cmpfloat (fp.third_up, >, nearest);
  /* The fiber's rounding mode did not leak out. */
  g_assert_cmpint (fegetround (), ==, FE_TONEAREST);
  g_assert_cmpfloat (one_third (), ==, nearest);

  fesetround (FE_TOWARDZERO);
  _ag_fiber_resume (fp.self);
  fesetround (FE_TONEAREST);

  g_assert_true (_ag_fiber_is_done (fp.self));
  g_assert_cmpint (fp.round_after_switch, ==, FE_UPWARD);
  g_assert_cmpfloat (fp.third_after_switch, ==, fp.third_up);

  _ag_fiber_free (fp.self);
  _ag_stack_pool_free (pool);
}

/* Nesting */

typedef struct
{
  AgFiber *a;
  AgFiber *b;
  GString *log;
} Nest;

static void
nest_b_body (gpointer user_data)
{
  Nest *n = user_data;

  g_string_append_printf (n->log, "b1(%s) ", _ag_fiber_get_current () == n->b ? "b" : "?");
  _ag_fiber_suspend (n->b);
  g_string_append_printf (n->log, "b2(%s) ", _ag_fiber_get_current () == n->b ? "b" : "?");
  _ag_fiber_suspend (n->b);
  g_string_append (n->log, "b3 ");
}

static void
nest_a_body (gpointer user_data)
{
  Nest *n = user_data;

  g_string_append (n->log, "a1 ");
  _ag_fiber_resume (n->b);
  g_string_append_printf (n->log, "a2(%s) ", _ag_fiber_get_current () == n->a ? "a" : "?");
  _ag_fiber_suspend (n->a);
  g_string_append (n->log, "a3 ");
  /* Resume b from a again, after main resumed it in between. */
  _ag_fiber_resume (n->b);
  g_string_append_printf (n->log, "a4(%s) ", _ag_fiber_get_current () == n->a ? "a" : "?");
}

static void
test_nested_fibers (void)
{
  AgStackPool *pool = _ag_stack_pool_new ();
  Nest n = { .log = g_string_new (NULL) };

  n.a = _ag_fiber_new (pool, STACK_SIZE, nest_a_body, &n);
  n.b = _ag_fiber_new (pool, STACK_SIZE, nest_b_body, &n);

  /* main → a → b, b suspends back to a, a suspends back to main. */
  _ag_fiber_resume (n.a);
  g_assert_null (_ag_fiber_get_current ());
  g_string_append (n.log, "m1 ");

  /* main resumes b directly now: it comes back here. */
  _ag_fiber_resume (n.b);
  g_assert_null (_ag_fiber_get_current ());
  g_string_append (n.log, "m2 ");

  /* a resumes b, which finishes. */
  _ag_fiber_resume (n.a);
  g_string_append (n.log, "m3");

  g_assert_cmpstr (n.log->str, ==, "a1 b1(b) a2(a) m1 b2(b) m2 a3 b3 a4(a) m3");
  g_assert_true (_ag_fiber_is_done (n.a));
  g_assert_true (_ag_fiber_is_done (n.b));

  _ag_fiber_free (n.a);
  _ag_fiber_free (n.b);
  g_string_free (n.log, TRUE);
  _ag_stack_pool_free (pool);
}

/* Many fibers alive at once */

typedef struct
{
  AgFiber *self;
  guint    index;
  guint    rounds;
  guint64  seen;
  gboolean ok;
} Many;

static void
many_body (gpointer user_data)
{
  Many *m = user_data;
  guint64 mine = m->index * 1000003u;

  m->ok = TRUE;
  for (guint r = 0; r < m->rounds; r++)
    {
      mine += r;
      _ag_fiber_suspend (m->self);
      if (mine != m->index * 1000003u + (guint64) r * (r + 1) / 2)
        m->ok = FALSE;
    }
  m->seen = mine;
}

static void
test_many_fibers_round_robin (void)
{
  AgStackPool *pool = _ag_stack_pool_new ();
  const guint n = 1000, rounds = 50;
  Many *many = g_new0 (Many, n);

  for (guint i = 0; i < n; i++)
    {
      many[i].index = i;
      many[i].rounds = rounds;
      many[i].self = _ag_fiber_new (pool, 32 * 1024, many_body, &many[i]);
      g_assert_nonnull (many[i].self);
    }
  for (guint r = 0; r <= rounds; r++)
    for (guint i = 0; i < n; i++)
      _ag_fiber_resume (many[i].self);

  for (guint i = 0; i < n; i++)
    {
      g_assert_true (_ag_fiber_is_done (many[i].self));
      g_assert_true (many[i].ok);
      _ag_fiber_free (many[i].self);
    }
  g_free (many);
  _ag_stack_pool_free (pool);
}

/* Stacks are pooled */

#define STACK_MARK G_GUINT64_CONSTANT (0x5ac4ed57ac4ed5a5)

typedef struct
{
  gsize    size;
  guintptr frame;
  gboolean was_marked;  /* the stack had been used by an earlier fiber */
} Where;

/* A fresh mapping is zero-filled; a pooled stack still holds the mark an
 * earlier fiber left in its lowest word, which no frame ever reaches. */
static void __attribute__ ((noinline))
where_body (gpointer user_data)
{
  Where *w = user_data;
  guintptr page = sysconf (_SC_PAGESIZE);
  volatile guint64 *lowest;

  /* The frame address is on the real stack even when AddressSanitizer moves
   * locals to its fake stack. */
  w->frame = (guintptr) __builtin_frame_address (0);
  lowest = (volatile guint64 *) (((w->frame + page - 1) & ~(page - 1)) - w->size);
  w->was_marked = *lowest == STACK_MARK;
  *lowest = STACK_MARK;
}

static guintptr
run_where (AgStackPool *pool,
           gsize        size,
           gboolean    *was_marked)
{
  Where w = { .size = (size + sysconf (_SC_PAGESIZE) - 1) & ~(sysconf (_SC_PAGESIZE) - 1) };
  AgFiber *fiber = _ag_fiber_new (pool, size, where_body, &w);

  _ag_fiber_resume (fiber);
  g_assert_true (_ag_fiber_is_done (fiber));
  _ag_fiber_free (fiber);
  if (was_marked != NULL)
    *was_marked = w.was_marked;

  return w.frame;
}

static void
test_stacks_are_pooled_and_reused (void)
{
  AgStackPool *pool = _ag_stack_pool_new ();
  guintptr first, again, other_size;
  gboolean marked;
  AgFiber *fibers[20];
  Where where[20];
  guint n_reused = 0;

  first = run_where (pool, STACK_SIZE, &marked);
  g_assert_false (marked);
  again = run_where (pool, STACK_SIZE, &marked);
  g_assert_true (marked);
  g_assert_cmphex (first, ==, again);

  /* A stack of another size is another stack. */
  other_size = run_where (pool, 2 * STACK_SIZE, &marked);
  g_assert_false (marked);
  g_assert_cmphex (other_size, !=, first);
  /* Sizes are rounded up to pages: an odd size matches its page-rounded
   * twin. */
  g_assert_cmphex (run_where (pool, STACK_SIZE - 100, &marked), ==, first);
  g_assert_true (marked);

  /* At most a few stacks are kept: 20 at once, then 20 again. */
  for (int wave = 0; wave < 2; wave++)
    {
      for (guint i = 0; i < 20; i++)
        {
          where[i] = (Where) { .size = STACK_SIZE };
          fibers[i] = _ag_fiber_new (pool, STACK_SIZE, where_body, &where[i]);
        }
      for (guint i = 0; i < 20; i++)
        {
          _ag_fiber_resume (fibers[i]);
          if (wave == 1 && where[i].was_marked)
            n_reused++;
          _ag_fiber_free (fibers[i]);
        }
    }
  g_test_message ("%u of 20 stacks came from the pool", n_reused);
  g_assert_cmpuint (n_reused, >=, 1);
  g_assert_cmpuint (n_reused, <=, 16);

  _ag_stack_pool_free (pool);
}

static void
never_finishing_body (gpointer user_data)
{
  AgFiber **self = user_data;

  for (;;)
    _ag_fiber_suspend (*self);
}

static void
test_unfinished_fiber_gives_its_stack_back (void)
{
  AgStackPool *pool = _ag_stack_pool_new ();
  AgFiber *fiber;
  guintptr first;
  gboolean marked;

  fiber = _ag_fiber_new (pool, STACK_SIZE, never_finishing_body, &fiber);
  _ag_fiber_resume (fiber);
  _ag_fiber_resume (fiber);
  g_assert_false (_ag_fiber_is_done (fiber));
  _ag_fiber_free (fiber);

  /* Its stack serves the next fiber, which runs normally. */
  first = run_where (pool, STACK_SIZE, &marked);
  g_assert_cmphex (first, !=, 0);
  _ag_stack_pool_free (pool);
}

static void
test_default_pool_is_shared (void)
{
  g_assert_nonnull (_ag_stack_pool_get_default ());
  g_assert_true (_ag_stack_pool_get_default () == _ag_stack_pool_get_default ());
  g_assert_cmphex (run_where (_ag_stack_pool_get_default (), STACK_SIZE, NULL), !=, 0);
}

/* Overflow */

static guintptr overflow_top;
static gsize overflow_size;

static void
on_segv (int        signum,
         siginfo_t *info,
         void      *context)
{
  guintptr page = sysconf (_SC_PAGESIZE);
  guintptr bottom = ((overflow_top + page - 1) & ~(page - 1)) - overflow_size;
  guintptr address = (guintptr) info->si_addr;
  const char *message;

  /* The fault is in the page under the stack: the guard. */
  if (address >= bottom - page && address < bottom)
    message = "GUARD-PAGE-HIT\n";
  else
    message = "SEGV-ELSEWHERE\n";
  if (write (STDERR_FILENO, message, strlen (message)) < 0)
    _exit (5);
  _exit (3);
}

/* Far more than any stack here holds; volatile, so the compiler cannot
 * tell the recursion never ends. */
static volatile guint overflow_limit = G_MAXUINT;

static guint __attribute__ ((noinline))
overflow (guint depth)
{
  volatile char frame[512];

  frame[0] = (char) depth;
  frame[511] = (char) depth;
  if (depth >= overflow_limit)
    return 0;

  return overflow (depth + 1) + frame[0] + frame[511];
}

static void
overflow_body (gpointer user_data)
{
  overflow_top = (guintptr) __builtin_frame_address (0);
  overflow (0);
}

static void
test_stack_overflow_hits_guard_page (void)
{
  if (g_test_subprocess ())
    {
      static char alt_stack[64 * 1024];
      stack_t ss = { .ss_sp = alt_stack, .ss_size = sizeof alt_stack };
      struct sigaction action = { 0 };
      AgStackPool *pool = _ag_stack_pool_new ();
      AgFiber *fiber;

      sigaltstack (&ss, NULL);
      action.sa_sigaction = on_segv;
      action.sa_flags = SA_SIGINFO | SA_ONSTACK;
      sigaction (SIGSEGV, &action, NULL);
      sigaction (SIGBUS, &action, NULL);

      overflow_size = 16 * 1024;
      fiber = _ag_fiber_new (pool, overflow_size, overflow_body, NULL);
      _ag_fiber_resume (fiber);
      /* Not reached. */
      g_print ("OVERFLOW-NOT-CAUGHT\n");
      exit (0);
    }

  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stdout_unmatched ("*OVERFLOW-NOT-CAUGHT*");
  g_test_trap_assert_stderr ("*GUARD-PAGE-HIT*");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/fiber/switch-kind", test_switch_kind);
  g_test_add_func ("/fiber/runs-until-suspend-then-returns", test_runs_until_suspend_then_returns);
  g_test_add_func ("/fiber/ping-pong-million-keeps-values-on-both-sides",
                   test_ping_pong_keeps_values_on_both_sides);
  g_test_add_func ("/fiber/switch-cost", test_switch_cost);
  g_test_add_func ("/fiber/fp-control-is-per-fiber", test_fp_control_is_per_fiber);
  g_test_add_func ("/fiber/nested-fibers", test_nested_fibers);
  g_test_add_func ("/fiber/many-fibers-round-robin", test_many_fibers_round_robin);
  g_test_add_func ("/fiber/stacks-are-pooled-and-reused", test_stacks_are_pooled_and_reused);
  g_test_add_func ("/fiber/unfinished-fiber-gives-its-stack-back",
                   test_unfinished_fiber_gives_its_stack_back);
  g_test_add_func ("/fiber/default-pool-is-shared", test_default_pool_is_shared);
  g_test_add_func ("/fiber/stack-overflow-hits-guard-page", test_stack_overflow_hits_guard_page);

  return g_test_run ();
}
