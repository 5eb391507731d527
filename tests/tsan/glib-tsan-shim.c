/* glib-tsan-shim.c: teach ThreadSanitizer how GLib synchronises
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Debian's GLib is not built with ThreadSanitizer. TSan sees only what
 * instrumented code does and the libc calls it intercepts, so every
 * hand-off that GLib makes with its own atomics and futexes is invisible to
 * it: a GMutex (a futex on Linux) orders nothing, a GObject freed by the
 * last g_object_unref() on one thread races with the writes of the thread
 * that dropped the previous reference, and data passed to
 * g_main_context_invoke() races with the callback that reads it. A plain
 * TSan run of the C suite reports about two thousand such races, all of
 * them false.
 *
 * This library is preloaded (LD_PRELOAD) into the tests of a
 * -Db_sanitize=thread build. It defines GLib's synchronising entry points
 * itself, tells TSan what each of them guarantees through the annotation
 * API of <sanitizer/tsan_interface.h>, and calls GLib's own function
 * (found with dlsym (RTLD_NEXT)) to do the work. The model follows what
 * GLib documents, and where it documents nothing, what it does:
 *
 *  - GMutex, GRecMutex, GRWLock: mutexes (__tsan_mutex_pre/post_lock and
 *    _unlock), so TSan also checks lock order and unlocks by the wrong
 *    thread. g_cond_wait() and g_cond_wait_until() unlock and relock their
 *    mutex inside GLib, which TSan must be told about. g_cond_signal() and
 *    g_cond_broadcast() need nothing: as with TSan's own model of
 *    pthread_cond_signal(), the mutex orders the waker's writes before the
 *    waiter's reads, and state changed without that mutex is a race that
 *    must stay visible.
 *  - g_bit_lock() and g_pointer_bit_lock(): acquire and release on the
 *    word. Several bits of one word are separate locks, which TSan's one
 *    mutex per address cannot express, so they are not mutexes here.
 *  - g_once_init_enter() and g_once_init_leave(): the leave publishes what
 *    was initialised (release); an enter that finds it done acquires. The
 *    macro's inline fast path is an atomic load in instrumented code and
 *    acquires from the same address by itself.
 *  - Reference counts: GLib's decrements are full-barrier atomics, so a
 *    decrement orders everything before it on its thread before whatever
 *    follows a later decrement, in particular the finalisation that follows
 *    the last one. g_atomic_ref_count_dec() releases, and acquires when it
 *    drops the last reference; the *_unref() of types that may run
 *    user code when they go away (GObject, GSource, GMainContext, GBytes,
 *    GVariant, GArray, GPtrArray, GByteArray, GHashTable, GAsyncQueue,
 *    GClosure) release and acquire, since whether a call is the last one
 *    is only known inside GLib.
 *  - Main contexts: GLib's context lock orders everything done to a
 *    context, so the calls that take it (g_source_attach(),
 *    g_source_destroy(), g_source_set_ready_time(), g_source_unref(),
 *    g_source_remove(), g_main_context_iteration(), g_main_loop_run())
 *    acquire on the context before and release after, and
 *    g_main_context_wakeup() and g_main_context_release() release on it.
 *    What the context runs acquires first: a source's callback is fetched
 *    through callback functions of this library (g_source_set_callback()
 *    installs them, as GLib installs its own), and the functions of sources
 *    made by g_source_new() are called through trampolines. Both also
 *    acquire on the source, which g_source_attach(),
 *    g_source_set_ready_time() and g_source_destroy() release on.
 *    g_idle_add*(), g_timeout_add*() and g_main_context_invoke*() are made
 *    of those calls here, as GLib makes them.
 *  - GAsyncQueue: a push releases, a pop that returns an item acquires.
 *  - GThreadPool: g_thread_pool_push() releases on the pool and the pool's
 *    function is called through a trampoline that acquires.
 *  - GLib's own bookkeeping (list nodes of queued items, a context's
 *    source lists and tables) is allocated on one thread and freed on
 *    another inside GLib, where nothing can acquire first: the calls that
 *    only do such bookkeeping run with TSan ignoring the thread's accesses
 *    (see ignore_begin()).
 *
 * Threads need nothing: g_thread_new() and g_thread_join() end in
 * pthread_create() and pthread_join(), which TSan intercepts.
 *
 * The library itself is not instrumented, and its references to the TSan
 * runtime are weak: processes the tests spawn (worker programs, /bin/sh)
 * inherit LD_PRELOAD, and where no runtime is loaded every function here
 * only forwards to GLib. */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>
#include <glib-object.h>
#include <sanitizer/tsan_interface.h>

#pragma weak __tsan_acquire
#pragma weak __tsan_release
#pragma weak __tsan_mutex_create
#pragma weak __tsan_mutex_destroy
#pragma weak __tsan_mutex_pre_lock
#pragma weak __tsan_mutex_post_lock
#pragma weak __tsan_mutex_pre_unlock
#pragma weak __tsan_mutex_post_unlock

/* From the runtime's dynamic annotations. */
void AnnotateIgnoreWritesBegin (const char *file, int line);
void AnnotateIgnoreWritesEnd (const char *file, int line);
#pragma weak AnnotateIgnoreWritesBegin
#pragma weak AnnotateIgnoreWritesEnd

/* GLib's headers make some of these macros around the function. */
#undef g_once_init_enter
#undef g_once_init_leave
#undef g_bit_lock
#undef g_bit_trylock
#undef g_bit_unlock
#undef g_pointer_bit_lock
#undef g_pointer_bit_trylock
#undef g_pointer_bit_unlock
#undef g_atomic_ref_count_dec

/* Every wrapper is exported: that is how it replaces GLib's. */
#define SHIM_EXPORT __attribute__ ((visibility ("default")))

static gboolean
tsan_present (void)
{
  return __tsan_acquire != NULL;
}

static void
acquire (const volatile void *address)
{
  if (address != NULL && tsan_present ())
    __tsan_acquire ((void *) address);
}

static void
release (const volatile void *address)
{
  if (address != NULL && tsan_present ())
    __tsan_release ((void *) address);
}

/* GLib's own bookkeeping. Inside some GLib calls the only accesses TSan
 * can see are GLib's libc calls on memory that GLib allocates and frees for
 * itself under its own locks: the list node of a queued item, a main
 * context's source lists and tables. Another thread often frees that
 * memory inside GLib, where nothing here can acquire first. Such a call
 * runs with TSan ignoring the thread's accesses, so blocks allocated in it
 * start with no history and their later fate is no race; the caller's own
 * memory is untouched by these calls. Where the call runs the caller's code
 * (a destroy notify, a source's finalize), the hook that leads to it lifts
 * the ignoring for as long as that code runs (user_code_begin()). */
static __thread int ignore_depth;

static gboolean
ignore_supported (void)
{
  return AnnotateIgnoreWritesBegin != NULL && AnnotateIgnoreWritesEnd != NULL;
}

static void
ignore_begin (void)
{
  if (!ignore_supported ())
    return;
  ignore_depth++;
  AnnotateIgnoreWritesBegin (__FILE__, __LINE__);
}

static void
ignore_end (void)
{
  if (!ignore_supported ())
    return;
  AnnotateIgnoreWritesEnd (__FILE__, __LINE__);
  ignore_depth--;
}

static int
user_code_begin (void)
{
  int depth = ignore_depth;

  while (ignore_depth > 0)
    ignore_end ();

  return depth;
}

static void
user_code_end (int depth)
{
  while (ignore_depth < depth)
    ignore_begin ();
}

static void *
real_symbol (const char *name,
             void      **slot)
{
  void *symbol = __atomic_load_n (slot, __ATOMIC_ACQUIRE);

  if (symbol == NULL)
    {
      symbol = dlsym (RTLD_NEXT, name);
      if (symbol == NULL)
        {
          fprintf (stderr, "glib-tsan-shim: %s not found: %s\n", name, dlerror ());
          abort ();
        }
      __atomic_store_n (slot, symbol, __ATOMIC_RELEASE);
    }

  return symbol;
}

/* REAL (g_mutex_lock) (mutex) calls GLib's g_mutex_lock. */
#define REAL(func) \
  ((__typeof__ (&func)) real_symbol (#func, &real_##func))
#define DECLARE_REAL(func) static void *real_##func

/* Mutexes ------------------------------------------------------------- */

static void
mutex_create (void     *mutex,
              unsigned  flags)
{
  if (tsan_present ())
    __tsan_mutex_create (mutex, flags);
}

static void
mutex_destroy (void *mutex)
{
  if (tsan_present ())
    __tsan_mutex_destroy (mutex, 0);
}

static void
mutex_pre_lock (void     *mutex,
                unsigned  flags)
{
  if (tsan_present ())
    __tsan_mutex_pre_lock (mutex, flags);
}

static void
mutex_post_lock (void     *mutex,
                 unsigned  flags)
{
  if (tsan_present ())
    __tsan_mutex_post_lock (mutex, flags, 0);
}

static void
mutex_pre_unlock (void     *mutex,
                  unsigned  flags)
{
  if (tsan_present ())
    __tsan_mutex_pre_unlock (mutex, flags);
}

static void
mutex_post_unlock (void     *mutex,
                   unsigned  flags)
{
  if (tsan_present ())
    __tsan_mutex_post_unlock (mutex, flags);
}

static unsigned
try_lock_result (unsigned flags,
                 gboolean locked)
{
  return flags | __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed);
}

DECLARE_REAL (g_mutex_init);
DECLARE_REAL (g_mutex_clear);
DECLARE_REAL (g_mutex_lock);
DECLARE_REAL (g_mutex_trylock);
DECLARE_REAL (g_mutex_unlock);

SHIM_EXPORT void
g_mutex_init (GMutex *mutex)
{
  REAL (g_mutex_init) (mutex);
  mutex_create (mutex, 0);
}

SHIM_EXPORT void
g_mutex_clear (GMutex *mutex)
{
  mutex_destroy (mutex);
  REAL (g_mutex_clear) (mutex);
}

SHIM_EXPORT void
g_mutex_lock (GMutex *mutex)
{
  mutex_pre_lock (mutex, 0);
  REAL (g_mutex_lock) (mutex);
  mutex_post_lock (mutex, 0);
}

SHIM_EXPORT gboolean
g_mutex_trylock (GMutex *mutex)
{
  gboolean locked;

  mutex_pre_lock (mutex, __tsan_mutex_try_lock);
  locked = REAL (g_mutex_trylock) (mutex);
  mutex_post_lock (mutex, try_lock_result (0, locked));

  return locked;
}

SHIM_EXPORT void
g_mutex_unlock (GMutex *mutex)
{
  mutex_pre_unlock (mutex, 0);
  REAL (g_mutex_unlock) (mutex);
  mutex_post_unlock (mutex, 0);
}

DECLARE_REAL (g_rec_mutex_init);
DECLARE_REAL (g_rec_mutex_clear);
DECLARE_REAL (g_rec_mutex_lock);
DECLARE_REAL (g_rec_mutex_trylock);
DECLARE_REAL (g_rec_mutex_unlock);

/* Passed on every call: a GRecMutex may be used without g_rec_mutex_init()
 * when it is static. (GLib makes the pthread lock behind a GRecMutex or a
 * GRWLock on first use and publishes it with its own atomics; TSan ignores
 * what happens between the pre_ and post_ annotations, which covers that
 * for every call made through here.) */
#define REC __tsan_mutex_write_reentrant

SHIM_EXPORT void
g_rec_mutex_init (GRecMutex *rec_mutex)
{
  REAL (g_rec_mutex_init) (rec_mutex);
  mutex_create (rec_mutex, REC);
}

SHIM_EXPORT void
g_rec_mutex_clear (GRecMutex *rec_mutex)
{
  mutex_destroy (rec_mutex);
  REAL (g_rec_mutex_clear) (rec_mutex);
}

SHIM_EXPORT void
g_rec_mutex_lock (GRecMutex *rec_mutex)
{
  mutex_pre_lock (rec_mutex, REC);
  REAL (g_rec_mutex_lock) (rec_mutex);
  mutex_post_lock (rec_mutex, REC);
}

SHIM_EXPORT gboolean
g_rec_mutex_trylock (GRecMutex *rec_mutex)
{
  gboolean locked;

  mutex_pre_lock (rec_mutex, REC | __tsan_mutex_try_lock);
  locked = REAL (g_rec_mutex_trylock) (rec_mutex);
  mutex_post_lock (rec_mutex, try_lock_result (REC, locked));

  return locked;
}

SHIM_EXPORT void
g_rec_mutex_unlock (GRecMutex *rec_mutex)
{
  mutex_pre_unlock (rec_mutex, REC);
  REAL (g_rec_mutex_unlock) (rec_mutex);
  mutex_post_unlock (rec_mutex, REC);
}

DECLARE_REAL (g_rw_lock_init);
DECLARE_REAL (g_rw_lock_clear);
DECLARE_REAL (g_rw_lock_writer_lock);
DECLARE_REAL (g_rw_lock_writer_trylock);
DECLARE_REAL (g_rw_lock_writer_unlock);
DECLARE_REAL (g_rw_lock_reader_lock);
DECLARE_REAL (g_rw_lock_reader_trylock);
DECLARE_REAL (g_rw_lock_reader_unlock);

/* Readers may nest (GLib allows a reader to take the lock again). */
#define RW __tsan_mutex_read_reentrant
#define READ __tsan_mutex_read_lock

SHIM_EXPORT void
g_rw_lock_init (GRWLock *rw_lock)
{
  REAL (g_rw_lock_init) (rw_lock);
  mutex_create (rw_lock, RW);
}

SHIM_EXPORT void
g_rw_lock_clear (GRWLock *rw_lock)
{
  mutex_destroy (rw_lock);
  REAL (g_rw_lock_clear) (rw_lock);
}

SHIM_EXPORT void
g_rw_lock_writer_lock (GRWLock *rw_lock)
{
  mutex_pre_lock (rw_lock, RW);
  REAL (g_rw_lock_writer_lock) (rw_lock);
  mutex_post_lock (rw_lock, RW);
}

SHIM_EXPORT gboolean
g_rw_lock_writer_trylock (GRWLock *rw_lock)
{
  gboolean locked;

  mutex_pre_lock (rw_lock, RW | __tsan_mutex_try_lock);
  locked = REAL (g_rw_lock_writer_trylock) (rw_lock);
  mutex_post_lock (rw_lock, try_lock_result (RW, locked));

  return locked;
}

SHIM_EXPORT void
g_rw_lock_writer_unlock (GRWLock *rw_lock)
{
  mutex_pre_unlock (rw_lock, RW);
  REAL (g_rw_lock_writer_unlock) (rw_lock);
  mutex_post_unlock (rw_lock, RW);
}

SHIM_EXPORT void
g_rw_lock_reader_lock (GRWLock *rw_lock)
{
  mutex_pre_lock (rw_lock, RW | READ);
  REAL (g_rw_lock_reader_lock) (rw_lock);
  mutex_post_lock (rw_lock, RW | READ);
}

SHIM_EXPORT gboolean
g_rw_lock_reader_trylock (GRWLock *rw_lock)
{
  gboolean locked;

  mutex_pre_lock (rw_lock, RW | READ | __tsan_mutex_try_lock);
  locked = REAL (g_rw_lock_reader_trylock) (rw_lock);
  mutex_post_lock (rw_lock, try_lock_result (RW | READ, locked));

  return locked;
}

SHIM_EXPORT void
g_rw_lock_reader_unlock (GRWLock *rw_lock)
{
  mutex_pre_unlock (rw_lock, RW | READ);
  REAL (g_rw_lock_reader_unlock) (rw_lock);
  mutex_post_unlock (rw_lock, RW | READ);
}

DECLARE_REAL (g_cond_wait);
DECLARE_REAL (g_cond_wait_until);

SHIM_EXPORT void
g_cond_wait (GCond  *cond,
             GMutex *mutex)
{
  mutex_pre_unlock (mutex, 0);
  mutex_post_unlock (mutex, 0);
  REAL (g_cond_wait) (cond, mutex);
  mutex_pre_lock (mutex, 0);
  mutex_post_lock (mutex, 0);
}

SHIM_EXPORT gboolean
g_cond_wait_until (GCond  *cond,
                   GMutex *mutex,
                   gint64  end_time)
{
  gboolean signalled;

  mutex_pre_unlock (mutex, 0);
  mutex_post_unlock (mutex, 0);
  signalled = REAL (g_cond_wait_until) (cond, mutex, end_time);
  mutex_pre_lock (mutex, 0);
  mutex_post_lock (mutex, 0);

  return signalled;
}

/* Bit locks ----------------------------------------------------------- */

DECLARE_REAL (g_bit_lock);
DECLARE_REAL (g_bit_trylock);
DECLARE_REAL (g_bit_unlock);
DECLARE_REAL (g_pointer_bit_lock);
DECLARE_REAL (g_pointer_bit_trylock);
DECLARE_REAL (g_pointer_bit_unlock);

SHIM_EXPORT void
g_bit_lock (volatile gint *address,
            gint           lock_bit)
{
  REAL (g_bit_lock) (address, lock_bit);
  acquire (address);
}

SHIM_EXPORT gboolean
g_bit_trylock (volatile gint *address,
               gint           lock_bit)
{
  gboolean locked = REAL (g_bit_trylock) (address, lock_bit);

  if (locked)
    acquire (address);

  return locked;
}

SHIM_EXPORT void
g_bit_unlock (volatile gint *address,
              gint           lock_bit)
{
  release (address);
  REAL (g_bit_unlock) (address, lock_bit);
}

SHIM_EXPORT void
g_pointer_bit_lock (volatile void *address,
                    gint           lock_bit)
{
  REAL (g_pointer_bit_lock) (address, lock_bit);
  acquire (address);
}

SHIM_EXPORT gboolean
g_pointer_bit_trylock (volatile void *address,
                       gint           lock_bit)
{
  gboolean locked = REAL (g_pointer_bit_trylock) (address, lock_bit);

  if (locked)
    acquire (address);

  return locked;
}

SHIM_EXPORT void
g_pointer_bit_unlock (volatile void *address,
                      gint           lock_bit)
{
  release (address);
  REAL (g_pointer_bit_unlock) (address, lock_bit);
}

/* One-time initialisation --------------------------------------------- */

DECLARE_REAL (g_once_init_enter);
DECLARE_REAL (g_once_init_leave);

SHIM_EXPORT gboolean
g_once_init_enter (volatile void *location)
{
  gboolean initialise = REAL (g_once_init_enter) (location);

  if (!initialise)
    acquire (location);

  return initialise;
}

SHIM_EXPORT void
g_once_init_leave (volatile void *location,
                   gsize          result)
{
  release (location);
  REAL (g_once_init_leave) (location, result);
}

/* Reference counts ---------------------------------------------------- */

DECLARE_REAL (g_atomic_ref_count_dec);

SHIM_EXPORT gboolean
g_atomic_ref_count_dec (gatomicrefcount *arc)
{
  gboolean last;

  release (arc);
  last = REAL (g_atomic_ref_count_dec) (arc);
  if (last)
    acquire (arc);

  return last;
}

/* An unref that may finalise: see the top of the file. */
#define ACQ_REL_UNREF(func, type)                 \
  DECLARE_REAL (func);                            \
  SHIM_EXPORT void                                \
  func (type *object)                             \
  {                                               \
    release (object);                             \
    acquire (object);                             \
    REAL (func) (object);                         \
  }

ACQ_REL_UNREF (g_object_unref, void)
ACQ_REL_UNREF (g_main_context_unref, GMainContext)
ACQ_REL_UNREF (g_bytes_unref, GBytes)
ACQ_REL_UNREF (g_variant_unref, GVariant)
ACQ_REL_UNREF (g_array_unref, GArray)
ACQ_REL_UNREF (g_ptr_array_unref, GPtrArray)
ACQ_REL_UNREF (g_byte_array_unref, GByteArray)
ACQ_REL_UNREF (g_hash_table_unref, GHashTable)
ACQ_REL_UNREF (g_async_queue_unref, GAsyncQueue)
ACQ_REL_UNREF (g_closure_unref, GClosure)

/* Main contexts ------------------------------------------------------- */

/* GLib's context lock orders everything done to a context: a call that
 * takes it acquires on the context first and releases after, and code the
 * context runs (source functions, callbacks) acquires before it runs and,
 * where it returns to GLib, releases after. That also covers the context's
 * own bookkeeping (its source lists and tables, allocated and freed inside
 * GLib by whichever thread holds the lock). */
static GMainContext *
context_or_default (GMainContext *context)
{
  return context != NULL ? context : g_main_context_default ();
}

DECLARE_REAL (g_main_context_wakeup);
DECLARE_REAL (g_main_context_acquire);
DECLARE_REAL (g_main_context_release);
DECLARE_REAL (g_main_context_iteration);
DECLARE_REAL (g_main_loop_run);

SHIM_EXPORT void
g_main_context_wakeup (GMainContext *context)
{
  release (context_or_default (context));
  REAL (g_main_context_wakeup) (context);
}

SHIM_EXPORT gboolean
g_main_context_acquire (GMainContext *context)
{
  gboolean acquired = REAL (g_main_context_acquire) (context);

  if (acquired)
    acquire (context_or_default (context));

  return acquired;
}

SHIM_EXPORT void
g_main_context_release (GMainContext *context)
{
  release (context_or_default (context));
  REAL (g_main_context_release) (context);
}

SHIM_EXPORT gboolean
g_main_context_iteration (GMainContext *context,
                          gboolean      may_block)
{
  GMainContext *locked = context_or_default (context);
  gboolean dispatched;

  acquire (locked);
  dispatched = REAL (g_main_context_iteration) (context, may_block);
  release (locked);

  return dispatched;
}

SHIM_EXPORT void
g_main_loop_run (GMainLoop *loop)
{
  GMainContext *locked = g_main_loop_get_context (loop);

  acquire (locked);
  REAL (g_main_loop_run) (loop);
  release (locked);
}

/* What a source's context runs acquires what was released on the source
 * and on the context. */
static void
enter_source (GSource *source)
{
  acquire (source);
  acquire (source->context);
}

static void
leave_source (GMainContext *context)
{
  release (context);
}

/* Callbacks: the same record as GLib's GSourceCallback, with a get() that
 * acquires on the dispatching thread just before the callback is called
 * (GLib calls it under the context lock, right before dispatch). The
 * callback and its data stay what the caller gave, so
 * g_idle_remove_by_data() and friends still find them. */
typedef struct
{
  int             ref_count;  /* atomic */
  GSourceFunc     func;
  gpointer        data;
  GDestroyNotify  notify;
} Callback;

static void
callback_ref (gpointer cb_data)
{
  Callback *callback = cb_data;

  __atomic_fetch_add (&callback->ref_count, 1, __ATOMIC_RELAXED);
}

static void
callback_unref (gpointer cb_data)
{
  Callback *callback = cb_data;

  release (callback);
  if (__atomic_sub_fetch (&callback->ref_count, 1, __ATOMIC_ACQ_REL) != 0)
    return;

  acquire (callback);
  if (callback->notify != NULL)
    {
      int depth = user_code_begin ();

      callback->notify (callback->data);
      user_code_end (depth);
    }
  free (callback);
}

static void
callback_get (gpointer     cb_data,
              GSource     *source,
              GSourceFunc *func,
              gpointer    *data)
{
  Callback *callback = cb_data;

  acquire (callback);
  enter_source (source);
  *func = callback->func;
  *data = callback->data;
}

static GSourceCallbackFuncs callback_funcs = {
  callback_ref,
  callback_unref,
  callback_get,
};

SHIM_EXPORT void
g_source_set_callback (GSource        *source,
                       GSourceFunc     func,
                       gpointer        data,
                       GDestroyNotify  notify)
{
  Callback *callback;

  g_return_if_fail (source != NULL);

  callback = malloc (sizeof (Callback));
  if (callback == NULL)
    abort ();
  callback->ref_count = 1;
  callback->func = func;
  callback->data = data;
  callback->notify = notify;
  release (callback);

  g_source_set_callback_indirect (source, callback, &callback_funcs);
}

/* Source functions: each table given to g_source_new() gets a twin whose
 * functions acquire, call the original ones and release. Twins live as
 * long as the process, like the static tables they copy. */
typedef struct _Twin Twin;
struct _Twin
{
  GSourceFuncs  funcs;     /* first: the source points here */
  GSourceFuncs *original;
  Twin         *next;
};

static GMutex twins_lock;
static Twin *twins;  /* twins_lock */

static const GSourceFuncs *
original_funcs (GSource *source)
{
  return ((const Twin *) source->source_funcs)->original;
}

static gboolean
twin_prepare (GSource *source,
              gint    *timeout)
{
  GMainContext *context = source->context;
  gboolean ready;
  int depth;

  depth = user_code_begin ();
  enter_source (source);
  ready = original_funcs (source)->prepare (source, timeout);
  leave_source (context);
  user_code_end (depth);

  return ready;
}

static gboolean
twin_check (GSource *source)
{
  GMainContext *context = source->context;
  gboolean ready;
  int depth;

  depth = user_code_begin ();
  enter_source (source);
  ready = original_funcs (source)->check (source);
  leave_source (context);
  user_code_end (depth);

  return ready;
}

static gboolean
twin_dispatch (GSource     *source,
               GSourceFunc  callback,
               gpointer     user_data)
{
  GMainContext *context = source->context;
  gboolean keep;
  int depth;

  depth = user_code_begin ();
  enter_source (source);
  keep = original_funcs (source)->dispatch (source, callback, user_data);
  leave_source (context);
  user_code_end (depth);

  return keep;
}

static void
twin_finalize (GSource *source)
{
  GMainContext *context = source->context;
  int depth;

  depth = user_code_begin ();
  enter_source (source);
  original_funcs (source)->finalize (source);
  leave_source (context);
  user_code_end (depth);
}

static GSourceFuncs *
twin_of (GSourceFuncs *original)
{
  Twin *twin;

  if (original == NULL || !tsan_present ())
    return original;

  /* The unwrapped calls keep this lock out of TSan's lock-order graph. */
  REAL (g_mutex_lock) (&twins_lock);
  for (twin = twins; twin != NULL; twin = twin->next)
    if (twin->original == original)
      break;

  if (twin == NULL)
    {
      twin = calloc (1, sizeof (Twin));
      if (twin == NULL)
        abort ();
      twin->original = original;
      /* A NULL function keeps GLib's default behaviour for it. */
      twin->funcs.prepare = original->prepare != NULL ? twin_prepare : NULL;
      twin->funcs.check = original->check != NULL ? twin_check : NULL;
      twin->funcs.dispatch = original->dispatch != NULL ? twin_dispatch : NULL;
      twin->funcs.finalize = original->finalize != NULL ? twin_finalize : NULL;
      twin->funcs.closure_callback = original->closure_callback;
      twin->funcs.closure_marshal = original->closure_marshal;
      twin->next = twins;
      twins = twin;
    }
  REAL (g_mutex_unlock) (&twins_lock);

  return &twin->funcs;
}

DECLARE_REAL (g_source_new);
DECLARE_REAL (g_source_set_funcs);
DECLARE_REAL (g_source_attach);
DECLARE_REAL (g_source_set_ready_time);
DECLARE_REAL (g_source_destroy);
DECLARE_REAL (g_source_unref);
DECLARE_REAL (g_source_remove);

SHIM_EXPORT GSource *
g_source_new (GSourceFuncs *source_funcs,
              guint         struct_size)
{
  return REAL (g_source_new) (twin_of (source_funcs), struct_size);
}

SHIM_EXPORT void
g_source_set_funcs (GSource      *source,
                    GSourceFuncs *funcs)
{
  REAL (g_source_set_funcs) (source, twin_of (funcs));
}

SHIM_EXPORT guint
g_source_attach (GSource      *source,
                 GMainContext *context)
{
  GMainContext *locked = context_or_default (context);
  guint id;

  release (source);
  acquire (locked);
  ignore_begin ();
  id = REAL (g_source_attach) (source, context);
  ignore_end ();
  release (locked);

  return id;
}

/* The source's context is read before the call, which may free the
 * source; the caller keeps the context alive. */
SHIM_EXPORT void
g_source_set_ready_time (GSource *source,
                         gint64   ready_time)
{
  GMainContext *locked = source->context;

  release (source);
  acquire (locked);
  ignore_begin ();
  REAL (g_source_set_ready_time) (source, ready_time);
  ignore_end ();
  release (locked);
}

SHIM_EXPORT void
g_source_destroy (GSource *source)
{
  GMainContext *locked = source->context;

  release (source);
  acquire (locked);
  ignore_begin ();
  REAL (g_source_destroy) (source);
  ignore_end ();
  release (locked);
}

SHIM_EXPORT void
g_source_unref (GSource *source)
{
  GMainContext *locked = source->context;

  release (source);
  acquire (source);
  acquire (locked);
  ignore_begin ();
  REAL (g_source_unref) (source);
  ignore_end ();
  release (locked);
}

SHIM_EXPORT gboolean
g_source_remove (guint tag)
{
  GMainContext *locked = g_main_context_default ();
  gboolean removed;

  acquire (locked);
  ignore_begin ();
  removed = REAL (g_source_remove) (tag);
  ignore_end ();
  release (locked);

  return removed;
}

/* g_idle_add*() and g_timeout_add*(), made as GLib makes them, so that their
 * callbacks go through g_source_set_callback() above. */
static guint
add_source (GSource        *source,
            gint            priority,
            GSourceFunc     function,
            gpointer        data,
            GDestroyNotify  notify)
{
  guint id;

  g_source_set_priority (source, priority);
  g_source_set_callback (source, function, data, notify);
  id = g_source_attach (source, NULL);
  g_source_unref (source);

  return id;
}

SHIM_EXPORT guint
g_idle_add_full (gint           priority,
                 GSourceFunc    function,
                 gpointer       data,
                 GDestroyNotify notify)
{
  g_return_val_if_fail (function != NULL, 0);

  return add_source (g_idle_source_new (), priority, function, data, notify);
}

SHIM_EXPORT guint
g_idle_add (GSourceFunc function,
            gpointer    data)
{
  return g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, function, data, NULL);
}

SHIM_EXPORT guint
g_timeout_add_full (gint           priority,
                    guint          interval,
                    GSourceFunc    function,
                    gpointer       data,
                    GDestroyNotify notify)
{
  g_return_val_if_fail (function != NULL, 0);

  return add_source (g_timeout_source_new (interval), priority, function, data, notify);
}

SHIM_EXPORT guint
g_timeout_add (guint       interval,
               GSourceFunc function,
               gpointer    data)
{
  return g_timeout_add_full (G_PRIORITY_DEFAULT, interval, function, data, NULL);
}

SHIM_EXPORT guint
g_timeout_add_seconds_full (gint           priority,
                            guint          interval,
                            GSourceFunc    function,
                            gpointer       data,
                            GDestroyNotify notify)
{
  g_return_val_if_fail (function != NULL, 0);

  return add_source (g_timeout_source_new_seconds (interval), priority, function, data, notify);
}

SHIM_EXPORT guint
g_timeout_add_seconds (guint       interval,
                       GSourceFunc function,
                       gpointer    data)
{
  return g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, interval, function, data, NULL);
}

/* The one-shot variants: GLib's one-shot sources have no public
 * constructor, so these wrap the function instead (which hides their data
 * from g_idle_remove_by_data()). */
typedef struct
{
  GSourceOnceFunc function;
  gpointer        data;
} Once;

static gboolean
once_call (gpointer user_data)
{
  Once *once = user_data;

  once->function (once->data);
  return G_SOURCE_REMOVE;
}

static Once *
once_new (GSourceOnceFunc function,
          gpointer        data)
{
  Once *once = malloc (sizeof (Once));

  if (once == NULL)
    abort ();
  once->function = function;
  once->data = data;

  return once;
}

SHIM_EXPORT guint
g_idle_add_once (GSourceOnceFunc function,
                 gpointer        data)
{
  g_return_val_if_fail (function != NULL, 0);

  return g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, once_call, once_new (function, data), free);
}

SHIM_EXPORT guint
g_timeout_add_once (guint           interval,
                    GSourceOnceFunc function,
                    gpointer        data)
{
  g_return_val_if_fail (function != NULL, 0);

  return g_timeout_add_full (G_PRIORITY_DEFAULT, interval, once_call,
                             once_new (function, data), free);
}

/* g_main_context_invoke_full(), made as GLib 2.74 makes it, of the calls
 * above: at once when the caller owns the context (or may take it),
 * otherwise from an idle source on the context. */
SHIM_EXPORT void
g_main_context_invoke_full (GMainContext   *context,
                            gint            priority,
                            GSourceFunc     function,
                            gpointer        data,
                            GDestroyNotify  notify)
{
  GMainContext *thread_default;
  GSource *source;

  g_return_if_fail (function != NULL);

  context = context_or_default (context);

  if (g_main_context_is_owner (context))
    {
      while (function (data));
      if (notify != NULL)
        notify (data);
      return;
    }

  thread_default = g_main_context_get_thread_default ();
  if (thread_default == NULL)
    thread_default = g_main_context_default ();

  if (thread_default == context && g_main_context_acquire (context))
    {
      while (function (data));
      g_main_context_release (context);
      if (notify != NULL)
        notify (data);
      return;
    }

  source = g_idle_source_new ();
  g_source_set_priority (source, priority);
  g_source_set_callback (source, function, data, notify);
  g_source_attach (source, context);
  g_source_unref (source);
}

SHIM_EXPORT void
g_main_context_invoke (GMainContext *context,
                       GSourceFunc   function,
                       gpointer      data)
{
  g_main_context_invoke_full (context, G_PRIORITY_DEFAULT, function, data, NULL);
}

/* GAsyncQueue --------------------------------------------------------- */

/* A push links the item with a list node that the popping thread frees
 * inside GLib, before the pop returns: see ignore_begin(). A sorted push
 * runs the caller's compare function, so it is not ignored. */
#define QUEUE_PUSH(func, params, args) \
  DECLARE_REAL (func);                 \
  SHIM_EXPORT void                     \
  func params                          \
  {                                    \
    release (queue);                   \
    ignore_begin ();                   \
    REAL (func) args;                  \
    ignore_end ();                     \
  }

QUEUE_PUSH (g_async_queue_push,
            (GAsyncQueue *queue, gpointer data), (queue, data))
QUEUE_PUSH (g_async_queue_push_unlocked,
            (GAsyncQueue *queue, gpointer data), (queue, data))
QUEUE_PUSH (g_async_queue_push_front,
            (GAsyncQueue *queue, gpointer data), (queue, data))
QUEUE_PUSH (g_async_queue_push_front_unlocked,
            (GAsyncQueue *queue, gpointer data), (queue, data))

#define QUEUE_PUSH_SORTED(func)                          \
  DECLARE_REAL (func);                                   \
  SHIM_EXPORT void                                       \
  func (GAsyncQueue      *queue,                         \
        gpointer          data,                          \
        GCompareDataFunc  compare,                       \
        gpointer          user_data)                     \
  {                                                      \
    release (queue);                                     \
    REAL (func) (queue, data, compare, user_data);       \
  }

QUEUE_PUSH_SORTED (g_async_queue_push_sorted)
QUEUE_PUSH_SORTED (g_async_queue_push_sorted_unlocked)

#define QUEUE_POP(func, params, args)  \
  DECLARE_REAL (func);                 \
  SHIM_EXPORT gpointer                 \
  func params                          \
  {                                    \
    gpointer item = REAL (func) args;  \
                                       \
    if (item != NULL)                  \
      acquire (queue);                 \
    return item;                       \
  }

QUEUE_POP (g_async_queue_pop, (GAsyncQueue *queue), (queue))
QUEUE_POP (g_async_queue_pop_unlocked, (GAsyncQueue *queue), (queue))
QUEUE_POP (g_async_queue_try_pop, (GAsyncQueue *queue), (queue))
QUEUE_POP (g_async_queue_try_pop_unlocked, (GAsyncQueue *queue), (queue))
QUEUE_POP (g_async_queue_timeout_pop,
           (GAsyncQueue *queue, guint64 timeout), (queue, timeout))
QUEUE_POP (g_async_queue_timeout_pop_unlocked,
           (GAsyncQueue *queue, guint64 timeout), (queue, timeout))

/* GThreadPool --------------------------------------------------------- */

typedef struct
{
  GFunc        func;
  gpointer     user_data;
  GThreadPool *pool;
} Pool;

static void
pool_call (gpointer data,
           gpointer user_data)
{
  Pool *pool = user_data;

  acquire (pool->pool);
  pool->func (data, pool->user_data);
}

DECLARE_REAL (g_thread_pool_new_full);
DECLARE_REAL (g_thread_pool_push);

/* The record is never freed: a pool's threads may still be running when
 * g_thread_pool_free() returns. Tests make a handful of pools. */
SHIM_EXPORT GThreadPool *
g_thread_pool_new_full (GFunc           func,
                        gpointer        user_data,
                        GDestroyNotify  item_free_func,
                        gint            max_threads,
                        gboolean        exclusive,
                        GError        **error)
{
  Pool *pool = calloc (1, sizeof (Pool));

  if (pool == NULL)
    abort ();
  pool->func = func;
  pool->user_data = user_data;
  pool->pool = REAL (g_thread_pool_new_full) (pool_call, pool, item_free_func,
                                              max_threads, exclusive, error);
  if (pool->pool == NULL)
    {
      free (pool);
      return NULL;
    }

  return pool->pool;
}

SHIM_EXPORT GThreadPool *
g_thread_pool_new (GFunc      func,
                   gpointer   user_data,
                   gint       max_threads,
                   gboolean   exclusive,
                   GError   **error)
{
  return g_thread_pool_new_full (func, user_data, NULL, max_threads, exclusive, error);
}

/* Like g_async_queue_push(): the pool's queue node is GLib's own. A pool
 * with a sort function runs GLib's or the caller's compare function inside
 * the push, which the ignored region then hides; GIO's pool (GTask) is the
 * one the tests use, and sorts with GIO's. */
DECLARE_REAL (g_thread_pool_move_to_front);
DECLARE_REAL (g_thread_pool_free);
DECLARE_REAL (g_thread_pool_set_max_threads);
DECLARE_REAL (g_thread_pool_set_max_unused_threads);
DECLARE_REAL (g_thread_pool_stop_unused_threads);

SHIM_EXPORT gboolean
g_thread_pool_push (GThreadPool  *pool,
                    gpointer      data,
                    GError      **error)
{
  gboolean pushed;

  release (pool);
  ignore_begin ();
  pushed = REAL (g_thread_pool_push) (pool, data, error);
  ignore_end ();

  return pushed;
}

/* These queue list nodes too: the item moved to the front, or the pool
 * handed to an unused thread (GIO's GTask moves a task to the front from
 * whichever thread cancels it). */
SHIM_EXPORT gboolean
g_thread_pool_move_to_front (GThreadPool *pool,
                             gpointer     data)
{
  gboolean moved;

  release (pool);
  ignore_begin ();
  moved = REAL (g_thread_pool_move_to_front) (pool, data);
  ignore_end ();

  return moved;
}

SHIM_EXPORT gboolean
g_thread_pool_set_max_threads (GThreadPool  *pool,
                               gint          max_threads,
                               GError      **error)
{
  gboolean set;

  ignore_begin ();
  set = REAL (g_thread_pool_set_max_threads) (pool, max_threads, error);
  ignore_end ();

  return set;
}

SHIM_EXPORT void
g_thread_pool_set_max_unused_threads (gint max_threads)
{
  ignore_begin ();
  REAL (g_thread_pool_set_max_unused_threads) (max_threads);
  ignore_end ();
}

SHIM_EXPORT void
g_thread_pool_stop_unused_threads (void)
{
  ignore_begin ();
  REAL (g_thread_pool_stop_unused_threads) ();
  ignore_end ();
}

/* Freeing queues a stop marker for each thread. Freeing immediately also
 * hands the items never run to the pool's item_free_func, the caller's
 * code, so that call is not ignored. */
SHIM_EXPORT void
g_thread_pool_free (GThreadPool *pool,
                    gboolean     immediate,
                    gboolean     wait_)
{
  if (immediate)
    {
      REAL (g_thread_pool_free) (pool, immediate, wait_);
      return;
    }

  ignore_begin ();
  REAL (g_thread_pool_free) (pool, immediate, wait_);
  ignore_end ();
}
