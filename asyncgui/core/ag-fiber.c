/* ag-fiber.c: a function on a stack of its own
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ag-fiber-private.h"

/* A C job runs on a fiber: a stack of its own, entered and left by swapping
 * the callee-saved registers and the stack pointer, so that ag_job_await()
 * can leave the job in the middle of its function and come back to it when
 * the result is delivered. Everything happens on the engine's thread; a
 * fiber never moves between threads.
 *
 * The switch is a few instructions of assembly on x86-64 and aarch64 and
 * falls back to ucontext elsewhere (or with -DAG_FIBER_UCONTEXT), which is
 * correct but slower: swapcontext() makes a system call for the signal mask.
 *
 * AddressSanitizer must be told about every switch, or it takes the other
 * stack for an overflow. ThreadSanitizer must be told too: it keeps one
 * call stack per thread, which a switch would leave describing the wrong
 * stack, so a report from inside a job would show frames that are not
 * there. Each fiber is a TSan fiber of its own, and every switch is
 * announced just before it happens, synchronising (the switches are
 * sequential on one thread). Valgrind, when its header is there at build
 * time, is told where each stack is, or it takes a switch between two
 * nearby stacks for a huge frame and their contents for uninitialised.
 * The annotations compile away without either sanitizer, and cost a few
 * instructions per stack outside valgrind. */

#if defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define AG_FIBER_ASAN 1
# endif
#endif
#if defined(__SANITIZE_ADDRESS__)
# define AG_FIBER_ASAN 1
#endif

#if defined(__has_feature)
# if __has_feature(thread_sanitizer)
#  define AG_FIBER_TSAN 1
# endif
#endif
#if defined(__SANITIZE_THREAD__)
# define AG_FIBER_TSAN 1
#endif

#ifdef AG_FIBER_ASAN
# include <sanitizer/asan_interface.h>
# include <sanitizer/common_interface_defs.h>
#endif

#ifdef AG_FIBER_TSAN
# include <sanitizer/tsan_interface.h>
#endif

#ifdef HAVE_VALGRIND_VALGRIND_H
# include <valgrind/valgrind.h>
#endif

#if !defined(AG_FIBER_UCONTEXT) && !defined(__x86_64__) && !defined(__aarch64__)
# define AG_FIBER_UCONTEXT 1
#endif

#ifdef AG_FIBER_UCONTEXT
# include <ucontext.h>
#endif

#define MAX_POOLED_STACKS 16

/* Below each stack, memory that faults. A function whose frame is larger
 * than the guard (a GTK theme reload keeps about 250 KiB in one frame) can
 * step over it without touching it, onto whatever lies below: the stack of
 * another job. A guard this size costs address space only. */
#define GUARD_SIZE (256 * 1024)

typedef struct
{
  guint8 *base;   /* the guard */
  gsize   size;   /* usable bytes above it */
#ifdef HAVE_VALGRIND_VALGRIND_H
  unsigned valgrind_id;
#endif
} Stack;

struct _AgStackPool
{
  GMutex  lock;
  GArray *free;   /* Stack; lock */
};

struct _AgFiber
{
  AgStackPool *pool;
  Stack        stack;
  AgFiberFunc  func;
  gpointer     user_data;
  gboolean     done;
  AgFiber     *outer;          /* the fiber that resumed this one, if any */

#ifdef AG_FIBER_UCONTEXT
  ucontext_t   context;
  ucontext_t   caller_context;
#else
  void        *sp;             /* saved stack pointer while suspended */
  void        *caller_sp;      /* saved stack pointer of the resumer */
#endif

#ifdef AG_FIBER_ASAN
  void        *fake_stack;
  const void  *caller_bottom;
  gsize        caller_size;
#endif

#ifdef AG_FIBER_TSAN
  void        *tsan_fiber;
  void        *tsan_caller;    /* the TSan fiber that resumed this one */
#endif
};

static _Thread_local AgFiber *current_fiber;

static gsize
page_size (void)
{
  static gsize size;

  if (size == 0)
    size = sysconf (_SC_PAGESIZE);

  return size;
}

AgStackPool *
_ag_stack_pool_new (void)
{
  AgStackPool *pool = g_new0 (AgStackPool, 1);

  g_mutex_init (&pool->lock);
  pool->free = g_array_new (FALSE, FALSE, sizeof (Stack));

  return pool;
}

/* One pool for the process: jobs may outlive their engine, and a stack is
 * reusable by any engine's jobs. */
AgStackPool *
_ag_stack_pool_get_default (void)
{
  static AgStackPool *pool;

  if (g_once_init_enter (&pool))
    g_once_init_leave (&pool, _ag_stack_pool_new ());

  return pool;
}

static void
stack_unmap (Stack *stack)
{
#ifdef HAVE_VALGRIND_VALGRIND_H
  VALGRIND_STACK_DEREGISTER (stack->valgrind_id);
#endif
  munmap (stack->base, stack->size + GUARD_SIZE);
}

void
_ag_stack_pool_free (AgStackPool *pool)
{
  for (guint i = 0; i < pool->free->len; i++)
    stack_unmap (&g_array_index (pool->free, Stack, i));
  g_array_unref (pool->free);
  g_mutex_clear (&pool->lock);
  g_free (pool);
}

static gboolean
stack_take (AgStackPool *pool,
            gsize        size,
            Stack       *stack)
{
  gsize page = page_size ();

  size = (size + page - 1) & ~(page - 1);

  g_mutex_lock (&pool->lock);
  for (guint i = 0; i < pool->free->len; i++)
    if (g_array_index (pool->free, Stack, i).size == size)
      {
        *stack = g_array_index (pool->free, Stack, i);
        g_array_remove_index_fast (pool->free, i);
        g_mutex_unlock (&pool->lock);
        return TRUE;
      }
  g_mutex_unlock (&pool->lock);

  stack->base = mmap (NULL, size + GUARD_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
  if (stack->base == MAP_FAILED)
    return FALSE;

  /* Running off the end of a fiber's stack faults here instead of writing
   * over whatever lies below. A stack without its guard is no stack. */
  if (mprotect (stack->base, GUARD_SIZE, PROT_NONE) != 0)
    {
      munmap (stack->base, size + GUARD_SIZE);
      return FALSE;
    }
  stack->size = size;
#ifdef HAVE_VALGRIND_VALGRIND_H
  stack->valgrind_id = VALGRIND_STACK_REGISTER (stack->base + GUARD_SIZE,
                                                stack->base + GUARD_SIZE + size);
#endif

  return TRUE;
}

static void
stack_give_back (AgStackPool *pool,
                 Stack       *stack)
{
#ifdef AG_FIBER_ASAN
  /* Frames that ended by a switch never unpoisoned their redzones. */
  ASAN_UNPOISON_MEMORY_REGION (stack->base + GUARD_SIZE, stack->size);
#endif

  g_mutex_lock (&pool->lock);
  if (pool->free->len < MAX_POOLED_STACKS)
    {
      g_array_append_val (pool->free, *stack);
      stack = NULL;
    }
  g_mutex_unlock (&pool->lock);

  if (stack != NULL)
    stack_unmap (stack);
}

static inline guint8 *
stack_bottom (Stack *stack)
{
  return stack->base + GUARD_SIZE;
}

#ifdef AG_FIBER_ASAN
# define SWITCH_OUT(save_fake, bottom, size) \
  __sanitizer_start_switch_fiber ((save_fake), (bottom), (size))
# define SWITCH_IN(fake, old_bottom, old_size) \
  __sanitizer_finish_switch_fiber ((fake), (old_bottom), (old_size))
#else
# define SWITCH_OUT(save_fake, bottom, size) ((void) 0)
# define SWITCH_IN(fake, old_bottom, old_size) ((void) 0)
#endif

#ifdef AG_FIBER_TSAN
# define TSAN_ENTER(fiber) \
  ((fiber)->tsan_caller = __tsan_get_current_fiber (), \
   __tsan_switch_to_fiber ((fiber)->tsan_fiber, 0))
# define TSAN_LEAVE(fiber) __tsan_switch_to_fiber ((fiber)->tsan_caller, 0)
#else
# define TSAN_ENTER(fiber) ((void) 0)
# define TSAN_LEAVE(fiber) ((void) 0)
#endif

static void fiber_main (AgFiber *fiber) G_GNUC_NORETURN;

#ifndef AG_FIBER_UCONTEXT

/* void _ag_fiber_swap (void **save_sp, void *load_sp);
 *
 * Saves the callee-saved registers on the current stack, stores the stack
 * pointer in *save_sp, loads load_sp and restores the registers saved
 * there. A new fiber's stack is laid out so that the first swap into it
 * "returns" into the trampoline, which calls fiber_main (fiber). */
G_GNUC_INTERNAL void _ag_fiber_swap (void **save_sp, void *load_sp);
G_GNUC_INTERNAL void _ag_fiber_trampoline (void);

# if defined(__x86_64__)
/* Saved frame, from the stack pointer up: MXCSR and the x87 control word,
 * r15, r14, r13, r12, rbx, rbp, return address. */
__asm__ (
  ".text\n"
  ".globl _ag_fiber_swap\n"
  ".hidden _ag_fiber_swap\n"
  ".type _ag_fiber_swap,@function\n"
  "_ag_fiber_swap:\n"
  "  pushq %rbp\n"
  "  pushq %rbx\n"
  "  pushq %r12\n"
  "  pushq %r13\n"
  "  pushq %r14\n"
  "  pushq %r15\n"
  "  subq $8, %rsp\n"
  "  stmxcsr (%rsp)\n"
  "  fnstcw 4(%rsp)\n"
  "  movq %rsp, (%rdi)\n"
  "  movq %rsi, %rsp\n"
  "  ldmxcsr (%rsp)\n"
  "  fldcw 4(%rsp)\n"
  "  addq $8, %rsp\n"
  "  popq %r15\n"
  "  popq %r14\n"
  "  popq %r13\n"
  "  popq %r12\n"
  "  popq %rbx\n"
  "  popq %rbp\n"
  "  ret\n"
  ".size _ag_fiber_swap, .-_ag_fiber_swap\n"
  "\n"
  ".globl _ag_fiber_trampoline\n"
  ".hidden _ag_fiber_trampoline\n"
  ".type _ag_fiber_trampoline,@function\n"
  "_ag_fiber_trampoline:\n"
  "  movq %rbx, %rdi\n"
  "  call _ag_fiber_main_entry\n"
  "  ud2\n"
  ".size _ag_fiber_trampoline, .-_ag_fiber_trampoline\n"
);

#  define FRAME_WORDS 8

static void *
initial_frame (AgFiber *fiber)
{
  /* 16-byte aligned top: after the swap's ret the stack pointer is the top,
   * so the trampoline's call enters _ag_fiber_main_entry correctly aligned. */
  guintptr top = ((guintptr) stack_bottom (&fiber->stack) + fiber->stack.size) & ~(guintptr) 15;
  guint64 *frame = (guint64 *) top - FRAME_WORDS;

  memset (frame, 0, FRAME_WORDS * sizeof (guint64));
  ((guint32 *) frame)[0] = 0x1F80;              /* MXCSR: all exceptions masked */
  ((guint16 *) frame)[2] = 0x037F;              /* x87: default control word */
  frame[5] = (guint64) (guintptr) fiber;        /* rbx */
  frame[7] = (guint64) (guintptr) _ag_fiber_trampoline;

  return frame;
}

# elif defined(__aarch64__)
/* Saved frame, 176 bytes from the stack pointer up: x19..x30 (x29 is the
 * frame pointer, x30 the return address), d8..d15, then the floating-point
 * control register, so that a rounding mode set in a fiber stays there. */
__asm__ (
  ".text\n"
  ".globl _ag_fiber_swap\n"
  ".hidden _ag_fiber_swap\n"
  ".type _ag_fiber_swap,%function\n"
  "_ag_fiber_swap:\n"
  "  sub sp, sp, #176\n"
  "  stp x19, x20, [sp, #0]\n"
  "  stp x21, x22, [sp, #16]\n"
  "  stp x23, x24, [sp, #32]\n"
  "  stp x25, x26, [sp, #48]\n"
  "  stp x27, x28, [sp, #64]\n"
  "  stp x29, x30, [sp, #80]\n"
  "  stp d8, d9, [sp, #96]\n"
  "  stp d10, d11, [sp, #112]\n"
  "  stp d12, d13, [sp, #128]\n"
  "  stp d14, d15, [sp, #144]\n"
  "  mrs x2, fpcr\n"
  "  str x2, [sp, #160]\n"
  "  mov x2, sp\n"
  "  str x2, [x0]\n"
  "  mov sp, x1\n"
  "  ldp x19, x20, [sp, #0]\n"
  "  ldp x21, x22, [sp, #16]\n"
  "  ldp x23, x24, [sp, #32]\n"
  "  ldp x25, x26, [sp, #48]\n"
  "  ldp x27, x28, [sp, #64]\n"
  "  ldp x29, x30, [sp, #80]\n"
  "  ldp d8, d9, [sp, #96]\n"
  "  ldp d10, d11, [sp, #112]\n"
  "  ldp d12, d13, [sp, #128]\n"
  "  ldp d14, d15, [sp, #144]\n"
  "  ldr x2, [sp, #160]\n"
  "  msr fpcr, x2\n"
  "  add sp, sp, #176\n"
  "  ret\n"
  ".size _ag_fiber_swap, .-_ag_fiber_swap\n"
  "\n"
  ".globl _ag_fiber_trampoline\n"
  ".hidden _ag_fiber_trampoline\n"
  ".type _ag_fiber_trampoline,%function\n"
  "_ag_fiber_trampoline:\n"
  "  mov x0, x19\n"
  "  bl _ag_fiber_main_entry\n"
  "  brk #0\n"
  ".size _ag_fiber_trampoline, .-_ag_fiber_trampoline\n"
);

#  define FRAME_BYTES 176

static void *
initial_frame (AgFiber *fiber)
{
  guintptr top = ((guintptr) stack_bottom (&fiber->stack) + fiber->stack.size) & ~(guintptr) 15;
  guint64 *frame = (guint64 *) (top - FRAME_BYTES);

  memset (frame, 0, FRAME_BYTES);
  frame[0] = (guint64) (guintptr) fiber;                 /* x19 */
  frame[11] = (guint64) (guintptr) _ag_fiber_trampoline; /* x30 */

  return frame;
}
# endif

/* Called by the trampoline, so not static; hidden, so the call needs no
 * PLT and nothing outside the library sees it. */
G_GNUC_INTERNAL void _ag_fiber_main_entry (AgFiber *fiber) G_GNUC_NORETURN;

void
_ag_fiber_main_entry (AgFiber *fiber)
{
  fiber_main (fiber);
}

static inline void
switch_into (AgFiber *fiber)
{
  _ag_fiber_swap (&fiber->caller_sp, fiber->sp);
}

static inline void
switch_out (AgFiber *fiber)
{
  _ag_fiber_swap (&fiber->sp, fiber->caller_sp);
}

static void
prepare (AgFiber *fiber)
{
  fiber->sp = initial_frame (fiber);
}

#else /* AG_FIBER_UCONTEXT */

static void
ucontext_entry (unsigned int high,
                unsigned int low)
{
  fiber_main ((AgFiber *) (((guintptr) high << 32) | (guintptr) low));
}

static inline void
switch_into (AgFiber *fiber)
{
  swapcontext (&fiber->caller_context, &fiber->context);
}

static inline void
switch_out (AgFiber *fiber)
{
  swapcontext (&fiber->context, &fiber->caller_context);
}

static void
prepare (AgFiber *fiber)
{
  guint64 address = (guint64) (guintptr) fiber;

  getcontext (&fiber->context);
  fiber->context.uc_stack.ss_sp = stack_bottom (&fiber->stack);
  fiber->context.uc_stack.ss_size = fiber->stack.size;
  fiber->context.uc_link = NULL;
  /* makecontext() passes ints: the pointer goes in two halves. */
  makecontext (&fiber->context, (void (*) (void)) ucontext_entry, 2,
               (unsigned int) (address >> 32), (unsigned int) (address & 0xffffffffu));
}

#endif

static void
fiber_main (AgFiber *fiber)
{
#ifdef AG_FIBER_ASAN
  SWITCH_IN (NULL, &fiber->caller_bottom, &fiber->caller_size);
#endif

  fiber->func (fiber->user_data);
  fiber->done = TRUE;

  /* Leave for good: no fake stack to keep. */
#ifdef AG_FIBER_ASAN
  SWITCH_OUT (NULL, fiber->caller_bottom, fiber->caller_size);
#endif
  TSAN_LEAVE (fiber);
  switch_out (fiber);
  g_assert_not_reached ();
}

AgFiber *
_ag_fiber_new (AgStackPool *pool,
               gsize        stack_size,
               AgFiberFunc  func,
               gpointer     user_data)
{
  AgFiber *fiber = g_new0 (AgFiber, 1);

  if (!stack_take (pool, stack_size, &fiber->stack))
    {
      g_free (fiber);
      return NULL;
    }

  fiber->pool = pool;
  fiber->func = func;
  fiber->user_data = user_data;
  prepare (fiber);

#ifdef AG_FIBER_TSAN
  fiber->tsan_fiber = __tsan_create_fiber (0);
  __tsan_set_fiber_name (fiber->tsan_fiber, "asyncgui job fiber");
#endif

  return fiber;
}

void
_ag_fiber_free (AgFiber *fiber)
{
  /* The frames of a fiber that never finished would never unwind, and
   * whatever they own would leak: that is why a job resumes its suspended
   * fiber to its end when its engine is disposed, before freeing it. */
#ifdef AG_FIBER_TSAN
  __tsan_destroy_fiber (fiber->tsan_fiber);
#endif
  stack_give_back (fiber->pool, &fiber->stack);
  g_free (fiber);
}

void
_ag_fiber_resume (AgFiber *fiber)
{
#ifdef AG_FIBER_ASAN
  void *fake_stack = NULL;
#endif

  g_assert (!fiber->done);

  fiber->outer = current_fiber;
  current_fiber = fiber;

  SWITCH_OUT (&fake_stack, stack_bottom (&fiber->stack), fiber->stack.size);
  TSAN_ENTER (fiber);
  switch_into (fiber);
  SWITCH_IN (fake_stack, NULL, NULL);

  current_fiber = fiber->outer;
  fiber->outer = NULL;
}

void
_ag_fiber_suspend (AgFiber *fiber)
{
  g_assert (current_fiber == fiber);

  SWITCH_OUT (&fiber->fake_stack, fiber->caller_bottom, fiber->caller_size);
  TSAN_LEAVE (fiber);
  switch_out (fiber);
  SWITCH_IN (fiber->fake_stack, &fiber->caller_bottom, &fiber->caller_size);
}

gboolean
_ag_fiber_is_done (AgFiber *fiber)
{
  return fiber->done;
}

AgFiber *
_ag_fiber_get_current (void)
{
  return current_fiber;
}

const char *
_ag_fiber_get_switch_kind (void)
{
#ifdef AG_FIBER_UCONTEXT
  return "ucontext";
#elif defined(__x86_64__)
  return "x86-64";
#else
  return "aarch64";
#endif
}
