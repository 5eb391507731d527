/* test-glib-model.c: GLib's hand-offs, as ThreadSanitizer must see them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gio/gio.h>

/* Each test hands data from one thread to another through one GLib
 * primitive and nothing else: the reading thread is already running when
 * the data is written, and reads it before anyone joins anything. GLib's
 * own atomics are invisible to TSan, so without glib-tsan-shim.c preloaded
 * every test here ends in a data race report (and, with halt_on_error, in
 * a failure); with it, none does. */

#define DEADLINE_US (10 * G_USEC_PER_SEC)

typedef struct
{
  int payload[8];
} Data;

static void
write_data (Data *data,
            int   seed)
{
  for (guint i = 0; i < G_N_ELEMENTS (data->payload); i++)
    data->payload[i] = seed + (int) i;
}

static void
check_data (const Data *data,
            int         seed)
{
  for (guint i = 0; i < G_N_ELEMENTS (data->payload); i++)
    g_assert_cmpint (data->payload[i], ==, seed + (int) i);
}

/* Iterates @context until *@flag (an atomic) is set. */
static void
iterate_until (GMainContext *context,
               int          *flag)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE_US;

  while (!g_atomic_int_get (flag))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (context, FALSE);
      g_usleep (100);
    }
}

/* GMutex */

typedef struct
{
  GMutex mutex;
  Data   data;
  int    ready;   /* mutex */
} Locked;

static gpointer
write_locked (gpointer user_data)
{
  Locked *locked = user_data;

  g_mutex_lock (&locked->mutex);
  write_data (&locked->data, 10);
  locked->ready = TRUE;
  g_mutex_unlock (&locked->mutex);

  return NULL;
}

static void
test_mutex_orders_what_it_guards (void)
{
  Locked locked = { 0 };
  GThread *thread;
  gint64 deadline = g_get_monotonic_time () + DEADLINE_US;
  gboolean ready = FALSE;

  g_mutex_init (&locked.mutex);
  thread = g_thread_new ("writer", write_locked, &locked);
  while (!ready)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_mutex_lock (&locked.mutex);
      ready = locked.ready;
      if (ready)
        check_data (&locked.data, 10);
      g_mutex_unlock (&locked.mutex);
      g_usleep (100);
    }
  g_thread_join (thread);
  g_mutex_clear (&locked.mutex);
}

/* GCond */

typedef struct
{
  GMutex mutex;
  GCond  cond;
  Data   data;
  int    ready;  /* mutex */
} Signalled;

static gpointer
write_and_signal (gpointer user_data)
{
  Signalled *signalled = user_data;

  g_usleep (1000);
  g_mutex_lock (&signalled->mutex);
  write_data (&signalled->data, 20);
  signalled->ready = TRUE;
  g_cond_signal (&signalled->cond);
  g_mutex_unlock (&signalled->mutex);

  return NULL;
}

static void
test_cond_wait_orders_the_signaller_first (void)
{
  Signalled signalled = { 0 };
  GThread *thread;
  gint64 deadline = g_get_monotonic_time () + DEADLINE_US;

  g_mutex_init (&signalled.mutex);
  g_cond_init (&signalled.cond);
  thread = g_thread_new ("signaller", write_and_signal, &signalled);

  g_mutex_lock (&signalled.mutex);
  while (!signalled.ready)
    g_assert_true (g_cond_wait_until (&signalled.cond, &signalled.mutex, deadline));
  check_data (&signalled.data, 20);
  g_mutex_unlock (&signalled.mutex);

  g_thread_join (thread);
  g_cond_clear (&signalled.cond);
  g_mutex_clear (&signalled.mutex);
}

/* g_once_init_enter() */

static Data *
shared_data (void)
{
  static Data *data;

  if (g_once_init_enter (&data))
    {
      Data *made = g_new0 (Data, 1);

      write_data (made, 30);
      g_once_init_leave (&data, made);
    }

  return data;
}

static gpointer
read_shared (gpointer user_data)
{
  check_data (shared_data (), 30);
  return NULL;
}

static void
test_once_init_publishes_what_it_made (void)
{
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("reader", read_shared, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
}

/* The last g_object_unref() */

typedef struct
{
  GObject  parent;
  Data     data;
  int     *finalized;
} Held;

typedef GObjectClass HeldClass;

GType held_get_type (void);
G_DEFINE_TYPE (Held, held, G_TYPE_OBJECT)

static void
held_finalize (GObject *object)
{
  Held *held = (Held *) object;

  check_data (&held->data, 40);
  g_atomic_int_set (held->finalized, TRUE);
  G_OBJECT_CLASS (held_parent_class)->finalize (object);
}

static void
held_class_init (HeldClass *klass)
{
  klass->finalize = held_finalize;
}

static void
held_init (Held *held)
{
}

typedef struct
{
  Held *held;
  int   go;   /* atomic */
  int   done; /* relaxed atomic */
} Unref;

static gpointer
write_and_unref (gpointer user_data)
{
  Unref *unref = user_data;

  while (!g_atomic_int_get (&unref->go))
    g_usleep (100);
  write_data (&unref->held->data, 40);
  g_object_unref (unref->held);
  /* Relaxed: the flag only says when, and must not order anything. */
  __atomic_store_n (&unref->done, TRUE, __ATOMIC_RELAXED);

  return NULL;
}

static void
test_last_unref_sees_the_other_holders_writes (void)
{
  int finalized = FALSE;
  Unref unref = { g_object_new (held_get_type (), NULL), FALSE, FALSE };
  GThread *thread;
  gint64 deadline = g_get_monotonic_time () + DEADLINE_US;

  unref.held->finalized = &finalized;
  g_object_ref (unref.held);
  thread = g_thread_new ("holder", write_and_unref, &unref);
  g_atomic_int_set (&unref.go, TRUE);
  while (!__atomic_load_n (&unref.done, __ATOMIC_RELAXED))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (100);
    }
  g_object_unref (unref.held);
  g_assert_true (g_atomic_int_get (&finalized));
  g_thread_join (thread);
}

/* g_atomic_ref_count_dec() */

typedef struct
{
  gatomicrefcount ref_count;
  Data            data;
} Counted;

typedef struct
{
  Counted *counted;
  int      dropped;  /* relaxed atomic */
} Dropper;

static gboolean
counted_unref (Counted *counted)
{
  if (!g_atomic_ref_count_dec (&counted->ref_count))
    return FALSE;

  check_data (&counted->data, 50);
  g_free (counted);
  return TRUE;
}

static gpointer
write_and_drop (gpointer user_data)
{
  Dropper *dropper = user_data;

  write_data (&dropper->counted->data, 50);
  g_assert_false (counted_unref (dropper->counted));
  /* Relaxed: the flag only says when, and must not order anything. */
  __atomic_store_n (&dropper->dropped, TRUE, __ATOMIC_RELAXED);

  return NULL;
}

static void
test_atomic_ref_count_orders_the_last_drop (void)
{
  Counted *counted = g_new0 (Counted, 1);
  Dropper dropper = { counted, FALSE };
  GThread *thread;
  gint64 deadline = g_get_monotonic_time () + DEADLINE_US;

  g_atomic_ref_count_init (&counted->ref_count);
  g_atomic_ref_count_inc (&counted->ref_count);
  thread = g_thread_new ("dropper", write_and_drop, &dropper);
  while (!__atomic_load_n (&dropper.dropped, __ATOMIC_RELAXED))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (100);
    }
  /* The last drop frees, after the writes of the thread that dropped
   * before. */
  g_assert_true (counted_unref (counted));
  g_thread_join (thread);
}

/* g_main_context_invoke(), g_idle_add() and g_source_attach() */

typedef struct
{
  GMainContext *context;
  Data          data;
  int           done;  /* atomic */
} Handed;

static gboolean
check_handed (gpointer user_data)
{
  Handed *handed = user_data;

  check_data (&handed->data, 60);
  g_atomic_int_set (&handed->done, TRUE);

  return G_SOURCE_REMOVE;
}

static gpointer
write_and_invoke (gpointer user_data)
{
  Handed *handed = user_data;

  write_data (&handed->data, 60);
  g_main_context_invoke (handed->context, check_handed, handed);

  return NULL;
}

static gpointer
write_and_add_idle (gpointer user_data)
{
  Handed *handed = user_data;

  write_data (&handed->data, 60);
  g_idle_add (check_handed, handed);

  return NULL;
}

typedef struct
{
  GSource  source;
  Data     data;
  int     *done;
} OwnSource;

static gboolean
own_source_dispatch (GSource     *source,
                     GSourceFunc  callback,
                     gpointer     user_data)
{
  OwnSource *own = (OwnSource *) source;

  check_data (&own->data, 60);
  g_atomic_int_set (own->done, TRUE);

  return G_SOURCE_REMOVE;
}

static gboolean
own_source_prepare (GSource *source,
                    int     *timeout)
{
  *timeout = -1;
  return TRUE;
}

static GSourceFuncs own_source_funcs = {
  .prepare = own_source_prepare,
  .dispatch = own_source_dispatch,
};

static gpointer
write_and_attach (gpointer user_data)
{
  Handed *handed = user_data;
  GSource *source = g_source_new (&own_source_funcs, sizeof (OwnSource));

  write_data (&((OwnSource *) source)->data, 60);
  ((OwnSource *) source)->done = &handed->done;
  g_source_attach (source, handed->context);
  g_source_unref (source);

  return NULL;
}

static void
hand_to_context (GThreadFunc   func,
                 GMainContext *context)
{
  Handed handed = { context, { { 0 } }, FALSE };
  GThread *thread = g_thread_new ("hander", func, &handed);

  iterate_until (context, &handed.done);
  g_thread_join (thread);
}

static void
test_invoke_hands_data_to_the_context (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();

  hand_to_context (write_and_invoke, context);
}

static void
test_idle_add_hands_data_to_the_default_context (void)
{
  hand_to_context (write_and_add_idle, g_main_context_default ());
}

static void
test_attached_source_hands_data_to_the_context (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();

  hand_to_context (write_and_attach, context);
}

/* GAsyncQueue and GThreadPool */

static gpointer
write_and_push (gpointer user_data)
{
  GAsyncQueue *queue = user_data;
  Data *data = g_new0 (Data, 1);

  write_data (data, 70);
  g_async_queue_push (queue, data);

  return NULL;
}

static void
test_async_queue_hands_items_over (void)
{
  g_autoptr(GAsyncQueue) queue = g_async_queue_new ();
  GThread *thread = g_thread_new ("pusher", write_and_push, queue);
  Data *data = g_async_queue_timeout_pop (queue, DEADLINE_US);

  g_assert_nonnull (data);
  check_data (data, 70);
  g_free (data);
  g_thread_join (thread);
}

static void
check_pooled (gpointer data,
              gpointer user_data)
{
  int *done = user_data;

  check_data (data, 80);
  g_free (data);
  g_atomic_int_set (done, TRUE);
}

static void
test_thread_pool_hands_items_over (void)
{
  int done = FALSE;
  GThreadPool *pool = g_thread_pool_new (check_pooled, &done, 2, FALSE, NULL);
  Data *data = g_new0 (Data, 1);
  gint64 deadline = g_get_monotonic_time () + DEADLINE_US;

  write_data (data, 80);
  g_thread_pool_push (pool, data, NULL);
  while (!g_atomic_int_get (&done))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (100);
    }
  g_thread_pool_free (pool, FALSE, TRUE);
}

/* GTask: g_task_run_in_thread() hands the task data to a pool thread and
 * the result back to the task's context. */

static void
check_task_data (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  Data *result = g_new0 (Data, 1);

  check_data (task_data, 90);
  write_data (result, 91);
  g_task_return_pointer (task, result, g_free);
}

static void
task_done (GObject      *source_object,
           GAsyncResult *result,
           gpointer      user_data)
{
  int *done = user_data;
  Data *data = g_task_propagate_pointer (G_TASK (result), NULL);

  check_data (data, 91);
  g_free (data);
  g_atomic_int_set (done, TRUE);
}

static void
test_task_in_thread_hands_data_both_ways (void)
{
  int done = FALSE;
  g_autoptr(GTask) task = g_task_new (NULL, NULL, task_done, &done);
  Data *data = g_new0 (Data, 1);

  write_data (data, 90);
  g_task_set_task_data (task, data, g_free);
  g_task_run_in_thread (task, check_task_data);
  iterate_until (g_main_context_default (), &done);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tsan-model/mutex-orders-what-it-guards",
                   test_mutex_orders_what_it_guards);
  g_test_add_func ("/tsan-model/cond-wait-orders-the-signaller-first",
                   test_cond_wait_orders_the_signaller_first);
  g_test_add_func ("/tsan-model/once-init-publishes-what-it-made",
                   test_once_init_publishes_what_it_made);
  g_test_add_func ("/tsan-model/last-unref-sees-the-other-holders-writes",
                   test_last_unref_sees_the_other_holders_writes);
  g_test_add_func ("/tsan-model/atomic-ref-count-orders-the-last-drop",
                   test_atomic_ref_count_orders_the_last_drop);
  g_test_add_func ("/tsan-model/invoke-hands-data-to-the-context",
                   test_invoke_hands_data_to_the_context);
  g_test_add_func ("/tsan-model/idle-add-hands-data-to-the-default-context",
                   test_idle_add_hands_data_to_the_default_context);
  g_test_add_func ("/tsan-model/attached-source-hands-data-to-the-context",
                   test_attached_source_hands_data_to_the_context);
  g_test_add_func ("/tsan-model/async-queue-hands-items-over",
                   test_async_queue_hands_items_over);
  g_test_add_func ("/tsan-model/thread-pool-hands-items-over",
                   test_thread_pool_hands_items_over);
  g_test_add_func ("/tsan-model/task-in-thread-hands-data-both-ways",
                   test_task_in_thread_hands_data_both_ways);

  return g_test_run ();
}
