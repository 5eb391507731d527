/* ag-chunk.c: the handle through which map and pipeline functions return
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "ag-i18n-private.h"
#include "ag-chunk-private.h"
#include "ag-error.h"
#include "ag-values-private.h"

/* Why a handle, and why a GObject:
 *
 * A map or pipeline function produces its value by call, as a task
 * function does with ag_task_return_*(): it never returns a GValue * or
 * sets a GError **, which PyGObject 3.42 and GJS 1.74 cannot do from a
 * callback. What it calls needs to know which input it answers, so the
 * function is given a handle, as a channel transform is (see
 * ag-channel-transform.c): a GObject, because both bindings keep a
 * reference on what they hold, so a handle kept past its call is a live
 * object that refuses, never a dangling pointer. GJS 1.74 would not own a
 * boxed argument at all.
 *
 * A map of a million trivial inputs must not pay for that. So one handle
 * serves a whole chunk, input after input, as long as nobody keeps it; the
 * functions that return through it touch plain fields on the one thread
 * that runs the function (see ag-chunk-private.h). Only a handle that was
 * kept is retired and replaced, atomically. */

/**
 * AgChunk:
 *
 * The handle a map or pipeline function gets for the input it works on: it
 * ends its work by calling [method@Chunk.return_value] (or a typed sibling
 * such as [method@Chunk.return_uint]) or [method@Chunk.return_error] once,
 * before it returns, as a task function calls `ag_task_return_*()`. A
 * pipeline function may also add outputs with [method@Chunk.emit].
 *
 * ```c
 * static void
 * parse_number (AgChunk  *chunk,
 *               gpointer  item,
 *               gpointer  user_data)
 * {
 *   g_autoptr(GError) error = NULL;
 *   guint64 n;
 *
 *   if (!g_ascii_string_to_unsigned (item, 10, 0, G_MAXUINT64, &n, &error))
 *     {
 *       ag_chunk_return_error (chunk, g_steal_pointer (&error));
 *       return;
 *     }
 *
 *   ag_chunk_return_uint64 (chunk, n);
 * }
 *
 * numbers = ag_multi_task_new_map (lines, parse_number, NULL, NULL);
 * ```
 *
 * A function that returns neither fails its input with
 * %AG_ERROR_NO_RESULT. Returning twice, or after the function returned, is
 * a programming error refused with a critical warning. The handle belongs
 * to the call: call it on the thread that runs the function, while it
 * runs, and do not keep it; the library gives it to the next input of the
 * chunk when nobody else holds it.
 *
 * Since: 1.0
 */

G_DEFINE_FINAL_TYPE (AgChunk, ag_chunk, G_TYPE_OBJECT)

static void
clear_failure (AgChunk *self)
{
  g_clear_error (&self->error);
  if (G_IS_VALUE (&self->detail))
    g_value_unset (&self->detail);
}

static void
ag_chunk_finalize (GObject *object)
{
  AgChunk *self = AG_CHUNK (object);

  clear_failure (self);

  G_OBJECT_CLASS (ag_chunk_parent_class)->finalize (object);
}

/* The class, for the quick check of the returns of plain values: a map of
 * a million trivial inputs checks its handle a million times, and the full
 * check is a third of what such an input costs. */
static gpointer chunk_class;

static void
ag_chunk_class_init (AgChunkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ag_chunk_finalize;
  chunk_class = klass;
}

static void
ag_chunk_init (AgChunk *self)
{
}

AgChunk *
_ag_chunk_new (GCancellable *cancellable)
{
  AgChunk *self = g_object_new (AG_TYPE_CHUNK, NULL);

  self->cancellable = cancellable;
  return self;
}

/* Ends the handle's use for good and drops the run's reference. Whoever
 * kept it may still call it: the call is refused. */
void
_ag_chunk_retire (AgChunk *self)
{
  self->slot = NULL;
  self->outputs = NULL;
  self->items = NULL;
  self->n_items = 0;
  self->cancellable = NULL;
  clear_failure (self);
  g_atomic_int_set (&self->state, AG_CHUNK_RETIRED);
  g_object_unref (self);
}

/* The slow end of _ag_chunk_took_value(): the call failed, or returned
 * nothing. */
gboolean
_ag_chunk_end_call (AgChunk    *self,
                    AgFailure **failure)
{
  gboolean returned = self->state == AG_CHUNK_RETURNED;

  self->state = AG_CHUNK_IDLE;
  if (self->error != NULL)
    {
      *failure = _ag_failure_new (g_steal_pointer (&self->error), &self->detail);
      clear_failure (self);
      return FALSE;
    }
  if (returned)
    return TRUE;

  *failure = _ag_chunk_no_result_failure ();
  return FALSE;
}

/* What an input fails with when its function returned nothing. */
AgFailure *
_ag_chunk_no_result_failure (void)
{
  return _ag_failure_new (g_error_new_literal (AG_ERROR, AG_ERROR_NO_RESULT,
                                               _("A map or pipeline function returned neither a value nor an error")),
                          NULL);
}

/* Takes @failure: the failure of the input at @position, appended to
 * *@failures (made on first use). */
void
_ag_chunk_add_failure (GArray    **failures,
                       guint       position,
                       AgFailure  *failure)
{
  AgChunkFailure entry = { position, failure };

  if (*failures == NULL)
    *failures = g_array_new (FALSE, FALSE, sizeof (AgChunkFailure));
  g_array_append_val (*failures, entry);
}

static gboolean
is_armed (AgChunk    *self,
          const char *strfunc)
{
  int state = g_atomic_int_get (&self->state);

  if (G_LIKELY (state == AG_CHUNK_ARMED))
    return TRUE;

  if (state == AG_CHUNK_RETURNED)
    g_critical ("%s: the chunk %p already returned for this input; a function returns once",
                strfunc, self);
  else
    g_critical ("%s: the chunk %p is not running a function; call it before the function "
                "returns, on its thread", strfunc, self);
  return FALSE;
}

/* The call answered the position it works on. A ranges call with
 * positions left moves on to the next one and stays armed; any other call
 * has returned. */
static inline void
answered (AgChunk *self)
{
  self->n_answered++;
  if (G_UNLIKELY (self->n_left > 0))
    {
      self->n_left--;
      self->slot++;
      self->position++;
      return;
    }

  self->state = AG_CHUNK_RETURNED;
}

/* Claims the one return of the running call, and gives the zeroed place of
 * its value: the map's slot, or a new output of the pipeline. */
static GValue *
claim_return (AgChunk    *self,
              const char *strfunc)
{
  if (!is_armed (self, strfunc))
    return NULL;

  if (self->outputs == NULL)
    {
      GValue *place = self->slot;

      answered (self);
      return place;
    }

  self->state = AG_CHUNK_RETURNED;

  g_array_set_size (self->outputs, self->outputs->len + 1);
  return &g_array_index (self->outputs, GValue, self->outputs->len - 1);
}

/* The usual return of a map function: an armed handle of this very class
 * with a map slot. Anything else takes claim_return() and its checks. */
static inline GValue *
claim_map_slot (AgChunk *self)
{
  if (G_LIKELY (self != NULL
                && ((GTypeInstance *) self)->g_class == chunk_class
                && g_atomic_int_get (&self->state) == AG_CHUNK_ARMED
                && self->outputs == NULL))
    {
      GValue *place = self->slot;

      answered (self);
      return place;
    }

  return NULL;
}

/* Numbers are written bytewise, as g_value_init() and a setter would
 * leave them: a map of a million numbers then costs no type look-up per
 * value. */
#define RETURN_PLAIN(self, gtype, field, v)                          \
  G_STMT_START {                                                     \
    GValue *place_ = claim_map_slot (self);                          \
    if (place_ == NULL)                                              \
      {                                                              \
        g_return_if_fail (AG_IS_CHUNK (self));                       \
        place_ = claim_return ((self), G_STRFUNC);                   \
      }                                                              \
    if (place_ != NULL)                                              \
      {                                                              \
        place_->g_type = (gtype);                                    \
        place_->data[0].field = (v);                                 \
      }                                                              \
  } G_STMT_END

/**
 * ag_chunk_get_position:
 * @self: the handle given to the function
 *
 * Gets the position of the input the function works on: the child's
 * position in a mapping [class@MultiTask] (in a [callback@RangesFunc]
 * call, of the next child it answers), or how many inputs came before it
 * in a [class@Pipeline] (for a whole chunk, before its first input).
 *
 * Thread: the one running the function, inside the call.
 *
 * Returns: the position
 *
 * Since: 1.0
 */
guint64
ag_chunk_get_position (AgChunk *self)
{
  g_return_val_if_fail (AG_IS_CHUNK (self), 0);

  if (!is_armed (self, G_STRFUNC))
    return 0;

  return self->position;
}

/**
 * ag_chunk_get_cancellable:
 * @self: the handle given to the function
 *
 * Gets the cancellable of the work: it is cancelled when the MultiTask or
 * pipeline stops, so a long function can stop early. What it returns then
 * is dropped.
 *
 * Thread: the one running the function, inside the call.
 *
 * Returns: (transfer none) (nullable): the cancellable, or %NULL if the
 *   function is not running
 *
 * Since: 1.0
 */
GCancellable *
ag_chunk_get_cancellable (AgChunk *self)
{
  g_return_val_if_fail (AG_IS_CHUNK (self), NULL);

  if (!is_armed (self, G_STRFUNC))
    return NULL;

  return self->cancellable;
}

/**
 * ag_chunk_peek_items: (skip)
 * @self: the handle given to a pipeline function
 * @n_items: (out): return location for how many inputs there are
 *
 * Gets the inputs a pipeline function works on, in place: all the inputs
 * of its chunk when [property@Pipeline:apply-single] is unset, else the
 * one input. They belong to the call: do not keep them. Bindings use
 * [method@Chunk.dup_items].
 *
 * Thread: the one running the function, inside the call.
 *
 * Returns: (nullable): the first of @n_items values, in input order, or
 *   %NULL if no pipeline function is running with @self
 *
 * Since: 1.0
 */
const GValue *
ag_chunk_peek_items (AgChunk *self,
                     guint   *n_items)
{
  g_return_val_if_fail (AG_IS_CHUNK (self), NULL);
  g_return_val_if_fail (n_items != NULL, NULL);

  *n_items = 0;
  if (!is_armed (self, G_STRFUNC))
    return NULL;
  if (self->outputs == NULL)
    {
      g_critical ("%s: the chunk %p belongs to a map, whose function gets its input as it is",
                  G_STRFUNC, self);
      return NULL;
    }

  *n_items = self->n_items;
  return self->items;
}

/**
 * ag_chunk_dup_items:
 * @self: the handle given to a pipeline function
 *
 * Gets copies of the inputs a pipeline function works on: all the inputs
 * of its chunk when [property@Pipeline:apply-single] is unset (the
 * function's argument is then %NULL), else the one input.
 *
 * Thread: the one running the function, inside the call.
 *
 * Returns: (transfer full) (element-type GValue) (nullable): the items, in
 *   input order, or %NULL if no pipeline function is running with @self
 *
 * Since: 1.0
 */
GArray *
ag_chunk_dup_items (AgChunk *self)
{
  const GValue *items;
  GArray *copy;
  guint n;

  g_return_val_if_fail (AG_IS_CHUNK (self), NULL);

  if ((items = ag_chunk_peek_items (self, &n)) == NULL)
    return NULL;

  copy = _ag_value_array_new (n);
  g_array_set_size (copy, n);
  for (guint i = 0; i < n; i++)
    _ag_value_init_copy (&g_array_index (copy, GValue, i), &items[i]);

  return copy;
}

/**
 * ag_chunk_return_value:
 * @self: the handle given to the function
 * @value: (nullable): the value, copied; %NULL for none
 *
 * Ends the function's work on its input with @value: the child's value in
 * a mapping [class@MultiTask]; in a [class@Pipeline], the input's last
 * output, after those it emitted. %NULL does what
 * [method@Chunk.return_nothing] does.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_value (AgChunk      *self,
                       const GValue *value)
{
  GValue *place;

  g_return_if_fail (AG_IS_CHUNK (self));
  g_return_if_fail (value == NULL || G_IS_VALUE (value));

  if (value == NULL)
    {
      if (is_armed (self, G_STRFUNC))
        answered (self);
      return;
    }

  if ((place = claim_return (self, G_STRFUNC)) != NULL)
    _ag_value_init_copy (place, value);
}

/**
 * ag_chunk_return_nothing:
 * @self: the handle given to the function
 *
 * Ends the function's work on its input without a value: a child of a
 * mapping [class@MultiTask] succeeds without one; a [class@Pipeline] input
 * has only the outputs it emitted (if none, it is filtered out). The same
 * as [method@Chunk.return_value] with %NULL, for bindings that cannot pass
 * %NULL for a value.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_nothing (AgChunk *self)
{
  g_return_if_fail (AG_IS_CHUNK (self));

  if (is_armed (self, G_STRFUNC))
    answered (self);
}

/* Whether a call that answers @n_values inputs of a map at once fits what
 * the chunk has left: one at least, and no more than it answers. */
static gboolean
answers_that_many (AgChunk    *self,
                   guint       n_values,
                   const char *strfunc)
{
  if (n_values == 0 || n_values > self->n_left + 1)
    {
      g_critical ("%s: %u values given to the chunk %p, which answers %u more input(s)",
                  strfunc, n_values, self, self->n_left + 1);
      return FALSE;
    }

  return TRUE;
}

/**
 * ag_chunk_return_values:
 * @self: the handle given to the function
 * @values: (array length=n_values): the values, copied
 * @n_values: how many there are
 *
 * Answers @n_values inputs at once, in order. In a
 * [callback@RangesFunc] call, each value is the value of the next child
 * the call answers: a binding hands over the values of a whole range
 * in one call. In a [class@Pipeline], the values are the input's last
 * outputs, after those it emitted (none is [method@Chunk.return_nothing]).
 * A function that works on one child of a map returns exactly one value.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_values (AgChunk      *self,
                        const GValue *values,
                        guint         n_values)
{
  g_return_if_fail (AG_IS_CHUNK (self));
  g_return_if_fail (values != NULL || n_values == 0);

  if (!is_armed (self, G_STRFUNC))
    return;

  if (self->outputs != NULL)
    {
      for (guint i = 0; i + 1 < n_values; i++)
        ag_chunk_emit (self, &values[i]);
      ag_chunk_return_value (self, n_values > 0 ? &values[n_values - 1] : NULL);
      return;
    }

  if (!answers_that_many (self, n_values, G_STRFUNC))
    return;

  for (guint i = 0; i < n_values; i++)
    ag_chunk_return_value (self, &values[i]);
}

/* Answers @n_values inputs with numbers of the plain @type, 8 bytes each
 * in @values, written as RETURN_PLAIN writes one. */
static void
return_numbers (AgChunk    *self,
                GType       type,
                const void *values,
                guint       n_values,
                const char *strfunc)
{
  const char *bytes = values;

  G_STATIC_ASSERT (sizeof (gint64) == 8 && sizeof (double) == 8);

  if (!is_armed (self, strfunc))
    return;

  if (self->outputs != NULL)
    {
      GValue value = G_VALUE_INIT;

      if (n_values == 0)
        {
          ag_chunk_return_nothing (self);
          return;
        }

      value.g_type = type;
      for (guint i = 0; i < n_values; i++)
        {
          memcpy (&value.data[0], bytes + 8 * i, 8);
          if (i + 1 < n_values)
            ag_chunk_emit (self, &value);
          else
            ag_chunk_return_value (self, &value);
        }
      return;
    }

  if (!answers_that_many (self, n_values, strfunc))
    return;

  for (guint i = 0; i < n_values; i++)
    {
      GValue *place = self->slot;

      answered (self);
      place->g_type = type;
      memcpy (&place->data[0], bytes + 8 * i, 8);
    }
}

/**
 * ag_chunk_return_int64s:
 * @self: the handle given to the function
 * @values: (array length=n_values): the values
 * @n_values: how many there are
 *
 * Answers @n_values inputs at once with 64-bit integers, as
 * [method@Chunk.return_values] does with values of type %G_TYPE_INT64. A
 * binding whose function gave whole numbers hands them over this way,
 * without a [struct@GObject.Value] for each.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_int64s (AgChunk      *self,
                        const gint64 *values,
                        guint         n_values)
{
  g_return_if_fail (AG_IS_CHUNK (self));
  g_return_if_fail (values != NULL || n_values == 0);

  return_numbers (self, G_TYPE_INT64, values, n_values, G_STRFUNC);
}

/**
 * ag_chunk_return_doubles:
 * @self: the handle given to the function
 * @values: (array length=n_values): the values
 * @n_values: how many there are
 *
 * Answers @n_values inputs at once with floating-point numbers, as
 * [method@Chunk.return_values] does with values of type %G_TYPE_DOUBLE.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_doubles (AgChunk      *self,
                         const double *values,
                         guint         n_values)
{
  g_return_if_fail (AG_IS_CHUNK (self));
  g_return_if_fail (values != NULL || n_values == 0);

  return_numbers (self, G_TYPE_DOUBLE, values, n_values, G_STRFUNC);
}

/**
 * ag_chunk_return_packed:
 * @self: the handle given to the function
 * @value_type: %G_TYPE_INT64 or %G_TYPE_DOUBLE
 * @data: (array length=size): the numbers, 8 bytes each in the machine's
 *   byte order; the buffer need not be aligned
 * @size: the size of @data in bytes, a multiple of 8
 *
 * Answers `size / 8` inputs at once with numbers packed one after the
 * other, as [method@Chunk.return_int64s] or [method@Chunk.return_doubles]
 * does. This is for bindings whose numbers already sit in one buffer
 * (the bytes of a Python `array.array`, of a JavaScript `Float64Array`):
 * the buffer passes as it is, where an array of numbers would be converted
 * one number at a time.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_packed (AgChunk      *self,
                        GType         value_type,
                        const guint8 *data,
                        gsize         size)
{
  g_return_if_fail (AG_IS_CHUNK (self));
  g_return_if_fail (value_type == G_TYPE_INT64 || value_type == G_TYPE_DOUBLE);
  g_return_if_fail (data != NULL || size == 0);
  g_return_if_fail (size % 8 == 0);
  g_return_if_fail (size / 8 <= G_MAXUINT);

  return_numbers (self, value_type, data, (guint) (size / 8), G_STRFUNC);
}

/**
 * ag_chunk_return_boolean:
 * @self: the handle given to the function
 * @value: the value
 *
 * Ends the function's work on its input with a boolean, as
 * [method@Chunk.return_value] does.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_boolean (AgChunk  *self,
                         gboolean  value)
{
  RETURN_PLAIN (self, G_TYPE_BOOLEAN, v_int, value != FALSE);
}

/**
 * ag_chunk_return_int:
 * @self: the handle given to the function
 * @value: the value
 *
 * Ends the function's work on its input with an integer, as
 * [method@Chunk.return_value] does.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_int (AgChunk *self,
                     int      value)
{
  RETURN_PLAIN (self, G_TYPE_INT, v_int, value);
}

/**
 * ag_chunk_return_uint:
 * @self: the handle given to the function
 * @value: the value
 *
 * Ends the function's work on its input with an unsigned integer, as
 * [method@Chunk.return_value] does.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_uint (AgChunk *self,
                      guint    value)
{
  RETURN_PLAIN (self, G_TYPE_UINT, v_uint, value);
}

/**
 * ag_chunk_return_int64:
 * @self: the handle given to the function
 * @value: the value
 *
 * Ends the function's work on its input with a 64-bit integer, as
 * [method@Chunk.return_value] does.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_int64 (AgChunk *self,
                       gint64   value)
{
  RETURN_PLAIN (self, G_TYPE_INT64, v_int64, value);
}

/**
 * ag_chunk_return_uint64:
 * @self: the handle given to the function
 * @value: the value
 *
 * Ends the function's work on its input with an unsigned 64-bit integer,
 * as [method@Chunk.return_value] does.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_uint64 (AgChunk *self,
                        guint64  value)
{
  RETURN_PLAIN (self, G_TYPE_UINT64, v_uint64, value);
}

/**
 * ag_chunk_return_double:
 * @self: the handle given to the function
 * @value: the value
 *
 * Ends the function's work on its input with a double, as
 * [method@Chunk.return_value] does.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_double (AgChunk *self,
                        double   value)
{
  RETURN_PLAIN (self, G_TYPE_DOUBLE, v_double, value);
}

/**
 * ag_chunk_return_string:
 * @self: the handle given to the function
 * @value: (nullable): the value, copied
 *
 * Ends the function's work on its input with a copy of a string, as
 * [method@Chunk.return_value] does.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_string (AgChunk    *self,
                        const char *value)
{
  GValue *place;

  g_return_if_fail (AG_IS_CHUNK (self));

  if ((place = claim_return (self, G_STRFUNC)) == NULL)
    return;

  g_value_init (place, G_TYPE_STRING);
  g_value_set_string (place, value);
}

/**
 * ag_chunk_return_object:
 * @self: the handle given to the function
 * @object: (nullable) (type GObject): the value; a reference is taken
 *
 * Ends the function's work on its input with an object, as
 * [method@Chunk.return_value] does. The object is finally released on the
 * engine's thread, or on a worker if nobody will see it.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_object (AgChunk  *self,
                        gpointer  object)
{
  GValue *place;

  g_return_if_fail (AG_IS_CHUNK (self));
  g_return_if_fail (object == NULL || G_IS_OBJECT (object));

  if ((place = claim_return (self, G_STRFUNC)) == NULL)
    return;

  g_value_init (place, object != NULL ? G_OBJECT_TYPE (object) : G_TYPE_OBJECT);
  g_value_set_object (place, object);
}

/**
 * ag_chunk_return_variant:
 * @self: the handle given to the function
 * @variant: (nullable): the value; a floating reference is taken
 *
 * Ends the function's work on its input with a variant, as
 * [method@Chunk.return_value] does.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_variant (AgChunk  *self,
                         GVariant *variant)
{
  GValue *place;

  g_return_if_fail (AG_IS_CHUNK (self));

  if ((place = claim_return (self, G_STRFUNC)) == NULL)
    {
      if (variant != NULL)
        g_variant_unref (g_variant_ref_sink (variant));
      return;
    }

  g_value_init (place, G_TYPE_VARIANT);
  g_value_set_variant (place, variant);
}

static void
return_error (AgChunk      *self,
              GError       *error,
              const GValue *detail,
              const char   *strfunc)
{
  if (!is_armed (self, strfunc))
    {
      g_error_free (error);
      return;
    }

  /* A ranges call fails only the position it answers, and goes on. */
  if (self->ranges)
    {
      _ag_chunk_add_failure (&self->failures, (guint) self->position,
                             _ag_failure_new (error, detail));
      answered (self);
      return;
    }

  self->state = AG_CHUNK_RETURNED;
  self->error = error;
  if (detail != NULL)
    _ag_value_init_copy (&self->detail, detail);
}

/**
 * ag_chunk_return_error:
 * @self: the handle given to the function
 * @error: (transfer full): why the input failed
 *
 * Ends the function's work on its input with @error. In a mapping
 * [class@MultiTask] the child fails; a [class@Pipeline] ends with @error
 * once the outputs of the inputs before are written (what the function
 * emitted for this input is dropped).
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_error (AgChunk *self,
                       GError  *error)
{
  g_return_if_fail (AG_IS_CHUNK (self));
  g_return_if_fail (error != NULL);

  return_error (self, error, NULL, G_STRFUNC);
}

/**
 * ag_chunk_return_error_full:
 * @self: the handle given to the function
 * @error: (transfer full): why the input failed
 * @detail: (nullable): more about the failure, copied; see
 *   [method@Task.return_error_full]
 *
 * Ends the function's work on its input with @error and a detail that
 * travels with it: the child of a mapping [class@MultiTask], the MultiTask
 * itself if this is its first failure, or the [class@Pipeline], fail with
 * both.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_error_full (AgChunk      *self,
                            GError       *error,
                            const GValue *detail)
{
  g_return_if_fail (AG_IS_CHUNK (self));
  g_return_if_fail (error != NULL);
  g_return_if_fail (detail == NULL || G_IS_VALUE (detail));

  return_error (self, error, detail, G_STRFUNC);
}

/**
 * ag_chunk_return_new_error: (skip)
 * @self: the handle given to the function
 * @domain: the error domain
 * @code: the error code
 * @format: a printf()-style message
 * @...: its arguments
 *
 * Ends the function's work on its input with a new error, as
 * [method@Chunk.return_error] does.
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_return_new_error (AgChunk    *self,
                           GQuark      domain,
                           int         code,
                           const char *format,
                           ...)
{
  va_list args;
  GError *error;

  g_return_if_fail (AG_IS_CHUNK (self));
  g_return_if_fail (format != NULL);

  va_start (args, format);
  error = g_error_new_valist (domain, code, format, args);
  va_end (args);

  ag_chunk_return_error (self, error);
}

/**
 * ag_chunk_emit:
 * @self: the handle given to a pipeline function
 * @value: an output; it is copied
 *
 * Adds an output for the input a [class@Pipeline] function works on, ahead
 * of the one it may return: a function can so make any number of outputs
 * from one input. It still ends with one of the `ag_chunk_return_*()`
 * functions ([method@Chunk.return_nothing] adds nothing more).
 *
 * Thread: the one running the function, inside the call.
 *
 * Since: 1.0
 */
void
ag_chunk_emit (AgChunk      *self,
               const GValue *value)
{
  GValue copy = G_VALUE_INIT;

  g_return_if_fail (AG_IS_CHUNK (self));
  g_return_if_fail (value != NULL && G_IS_VALUE (value));

  if (!is_armed (self, G_STRFUNC))
    return;
  if (self->outputs == NULL)
    {
      g_critical ("%s: the chunk %p belongs to a map, whose function returns one value; "
                  "only pipeline functions emit", G_STRFUNC, self);
      return;
    }

  _ag_value_init_copy (&copy, value);
  g_array_append_vals (self->outputs, &copy, 1);
}
