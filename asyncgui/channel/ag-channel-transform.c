/* ag-channel-transform.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include "ag-i18n-private.h"
#include "ag-channel-transform-private.h"
#include "ag-error.h"
#include "ag-values-private.h"

/* Why the handle is a GObject and not a boxed struct on the stack:
 *
 * A binding may keep what it was given after the callback returned. GJS
 * 1.74 wraps a boxed argument of a callback without copying or owning it,
 * so a JS function that kept the handle would later pass a pointer to
 * freed memory. PyGObject 3.42 copies a boxed argument once the callback
 * returned, but only if it did not raise. Both hold a reference on a
 * GObject for as long as they keep it, so a handle used late is still a
 * live object, which refuses with a critical.
 *
 * The channel reuses a handle for the next item when nobody else holds
 * it (its reference count is back to 1), so transforms in C, and in
 * Python when the function does not keep it, make no object per item.
 *
 * One transform's life, in the atomic state:
 *
 *   IDLE ──run──▶ ARMED ──return──▶ RETURNING ──▶ RETURNED ──run ends──▶ IDLE
 *                   └───────────── run ends: no result ──────────────────┘
 *
 * The return claims the handle with a compare-and-exchange, so one return
 * wins even if the function handed the handle to another thread; the end
 * of the run claims it the same way, so a return that comes too late
 * finds IDLE and is refused instead of writing into a finished run. */

/**
 * AgChannelTransform:
 *
 * The handle of one item's transform in a [class@Channel]: the channel
 * gives it to its [callback@ChannelTransformFunc], which calls
 * [method@ChannelTransform.return_value] or
 * [method@ChannelTransform.return_error] once, before it returns.
 *
 * ```c
 * static void
 * parse_line (AgChannelTransform *transform,
 *             const GValue       *value,
 *             gpointer            user_data)
 * {
 *   g_autoptr(GError) error = NULL;
 *   g_auto(GValue) number = G_VALUE_INIT;
 *   gint64 n;
 *
 *   if (!g_ascii_string_to_signed (g_value_get_string (value), 10,
 *                                  G_MININT64, G_MAXINT64, &n, &error))
 *     {
 *       // The writer's ag_channel_write() fails with this error.
 *       ag_channel_transform_return_error (transform, g_steal_pointer (&error));
 *       return;
 *     }
 *
 *   g_value_init (&number, G_TYPE_INT64);
 *   g_value_set_int64 (&number, n);
 *   ag_channel_transform_return_value (transform, &number);
 * }
 *
 * ag_channel_set_write_transform (channel, parse_line, NULL, NULL);
 * ```
 *
 * A transform that returns neither fails the item with
 * %AG_ERROR_NO_RESULT. Returning twice, or after the function returned,
 * is a programming error: it is refused with a critical warning. Do not
 * keep the handle: the channel reuses it for later items when nobody
 * else holds it.
 *
 * Since: 1.0
 */

typedef enum
{
  STATE_IDLE,
  STATE_ARMED,
  STATE_RETURNING,
  STATE_RETURNED,
} State;

struct _AgChannelTransform
{
  GObject  parent_instance;

  int      state;   /* State; atomic */
  /* Written by the return between RETURNING and RETURNED, read by the run
   * once it saw RETURNED. */
  GValue   value;
  GError  *error;
  GValue   detail;  /* with error, unset if none */
};

G_DEFINE_FINAL_TYPE (AgChannelTransform, ag_channel_transform, G_TYPE_OBJECT)

static void
ag_channel_transform_finalize (GObject *object)
{
  AgChannelTransform *self = AG_CHANNEL_TRANSFORM (object);

  _ag_value_clear (&self->value);
  g_clear_error (&self->error);
  _ag_value_clear (&self->detail);

  G_OBJECT_CLASS (ag_channel_transform_parent_class)->finalize (object);
}

static void
ag_channel_transform_class_init (AgChannelTransformClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ag_channel_transform_finalize;
}

static void
ag_channel_transform_init (AgChannelTransform *self)
{
}

AgChannelTransform *
_ag_channel_transform_new (void)
{
  return g_object_new (AG_TYPE_CHANNEL_TRANSFORM, NULL);
}

/* Whether the channel may give @self to the next item: nobody but the
 * caller holds it, so nobody can return through it late. */
gboolean
_ag_channel_transform_is_reusable (AgChannelTransform *self)
{
  return g_atomic_int_get (&G_OBJECT (self)->ref_count) == 1;
}

/* Runs @func on @value through @self, which must be idle, and moves the
 * item it returned into the zeroed @item; on failure, the error's detail
 * (if any) into the zeroed @detail, or drops it if @detail is %NULL. */
gboolean
_ag_channel_transform_run (AgChannelTransform      *self,
                           AgChannelTransformFunc   func,
                           gpointer                 user_data,
                           const GValue            *value,
                           GValue                  *item,
                           GValue                  *detail,
                           GError                 **error)
{
  int state;

  g_atomic_int_set (&self->state, STATE_ARMED);
  func (self, value, user_data);

  /* Usually the function returned on this thread: a plain read tells. A
   * handle still armed is disarmed with a compare-and-exchange, which a
   * return from another thread may win at the last moment. */
  state = g_atomic_int_get (&self->state);
  if (state == STATE_ARMED
      && g_atomic_int_compare_and_exchange (&self->state, STATE_ARMED, STATE_IDLE))
    {
      g_set_error_literal (error, AG_ERROR, AG_ERROR_NO_RESULT,
                           _("A channel transform returned neither a value nor an error"));
      return FALSE;
    }

  /* Only a return from another thread can still be writing. */
  while (g_atomic_int_get (&self->state) != STATE_RETURNED)
    g_thread_yield ();

  if (self->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->error));
      if (detail != NULL && G_IS_VALUE (&self->detail))
        {
          memcpy (detail, &self->detail, sizeof (GValue));
          memset (&self->detail, 0, sizeof (GValue));
        }
      _ag_value_clear (&self->detail);
      g_atomic_int_set (&self->state, STATE_IDLE);
      return FALSE;
    }

  memcpy (item, &self->value, sizeof (GValue));
  memset (&self->value, 0, sizeof (GValue));
  g_atomic_int_set (&self->state, STATE_IDLE);
  return TRUE;
}

/* Claims the one return of the running transform. */
static gboolean
claim_return (AgChannelTransform *self,
              const char         *strfunc)
{
  if (g_atomic_int_compare_and_exchange (&self->state, STATE_ARMED, STATE_RETURNING))
    return TRUE;

  if (g_atomic_int_get (&self->state) == STATE_IDLE)
    g_critical ("%s: the channel transform %p is not running; return before the "
                "transform function returns", strfunc, self);
  else
    g_critical ("%s: the channel transform %p already returned; a transform returns once",
                strfunc, self);
  return FALSE;
}

/**
 * ag_channel_transform_return_value:
 * @self: the handle given to the transform function
 * @value: the new item, of any type; it is copied
 *
 * Ends the transform with @value: the item stored (write transform) or
 * handed to the reader (read transform). Call it once, before the
 * transform function returns.
 *
 * Thread: the one running the transform function, or any other while it
 * runs.
 *
 * Since: 1.0
 */
void
ag_channel_transform_return_value (AgChannelTransform *self,
                                   const GValue       *value)
{
  g_return_if_fail (AG_IS_CHANNEL_TRANSFORM (self));
  g_return_if_fail (value != NULL && G_IS_VALUE (value));

  if (!claim_return (self, G_STRFUNC))
    return;

  _ag_value_init_copy (&self->value, value);
  g_atomic_int_set (&self->state, STATE_RETURNED);
}

static void
return_error (AgChannelTransform *self,
              GError             *error,
              const GValue       *detail,
              const char         *strfunc)
{
  if (!claim_return (self, strfunc))
    {
      g_error_free (error);
      return;
    }

  self->error = error;
  if (detail != NULL)
    _ag_value_init_copy (&self->detail, detail);
  g_atomic_int_set (&self->state, STATE_RETURNED);
}

/**
 * ag_channel_transform_return_error:
 * @self: the handle given to the transform function
 * @error: (transfer full): why the item cannot be transformed
 *
 * Ends the transform with @error: a write fails with it and stores
 * nothing; a read fails with it as [method@Channel.set_read_transform]
 * says. Call it once, before the transform function returns.
 *
 * Thread: the one running the transform function, or any other while it
 * runs.
 *
 * Since: 1.0
 */
void
ag_channel_transform_return_error (AgChannelTransform *self,
                                   GError             *error)
{
  g_return_if_fail (AG_IS_CHANNEL_TRANSFORM (self));
  g_return_if_fail (error != NULL);

  return_error (self, error, NULL, G_STRFUNC);
}

/**
 * ag_channel_transform_return_error_full:
 * @self: the handle given to the transform function
 * @error: (transfer full): why the item cannot be transformed
 * @detail: (nullable): more about the failure, copied: what the transform
 *   would like the writer or reader to get back, such as a language's own
 *   exception object
 *
 * Ends the transform with @error and a detail, as
 * [method@Task.return_error_full] ends a task. The write or read fails with
 * @error, and the one who wrote or read gets the detail back: after
 * [method@Channel.write_finish] with [method@Channel.get_write_error_detail],
 * after a read with [method@ChannelReader.get_error_detail]. Call it once,
 * before the transform function returns.
 *
 * Thread: the one running the transform function, or any other while it
 * runs.
 *
 * Since: 1.0
 */
void
ag_channel_transform_return_error_full (AgChannelTransform *self,
                                        GError             *error,
                                        const GValue       *detail)
{
  g_return_if_fail (AG_IS_CHANNEL_TRANSFORM (self));
  g_return_if_fail (error != NULL);
  g_return_if_fail (detail == NULL || G_IS_VALUE (detail));

  return_error (self, error, detail, G_STRFUNC);
}
