/* ag-chunk-private.h: arming a chunk handle for one call of a map or
 * pipeline function, and reading what the call returned
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "ag-chunk.h"
#include "ag-values-private.h"

G_BEGIN_DECLS

/* A map's failed input: its position and what went wrong. */
typedef struct
{
  guint      position;
  AgFailure *failure;
} AgChunkFailure;

/* One handle's life, in @state:
 *
 *   IDLE ──arm──▶ ARMED ──return──▶ RETURNED ──call over──▶ IDLE ─┐
 *     ▲             └──────── call over: no return ─────────▶ IDLE │
 *     └───────────────────────────── next input ───────────────────┘
 *   any ──retire──▶ RETIRED, for good
 *
 * The run arms the handle, calls the function and reads the outcome on
 * its own thread, and the function returns through it on that thread,
 * inside the call: plain reads and writes, which is what keeps a handle
 * nearly free per input. A handle somebody kept past the call (its
 * reference count is above one) is retired, atomically, and the run goes
 * on with a new one; a kept handle's late return then finds RETIRED and
 * is refused with a critical, whatever thread it comes from. */
typedef enum
{
  AG_CHUNK_IDLE,
  AG_CHUNK_ARMED,
  AG_CHUNK_RETURNED,
  AG_CHUNK_RETIRED,
} AgChunkState;

struct _AgChunk
{
  GObject        parent_instance;

  int            state;       /* AgChunkState; atomic only when retired */
  GValue        *slot;        /* map: the zeroed place of the value */
  GArray        *outputs;     /* pipeline: GValue; emits and returns append */
  GError        *error;       /* what the function returned, for the run */
  GValue         detail;      /* with @error, if it came with one */
  guint64        position;    /* of the input the function works on */
  GCancellable  *cancellable; /* unowned: the run's */
  const GValue  *items;       /* pipeline: the input(s) the function works on */
  guint          n_items;
  /* A ranges call answers several positions, one return each: @slot and
   * @position move on, and the call stays ARMED until the last. */
  guint          n_left;      /* positions after the current one */
  guint          n_answered;
  gboolean       ranges;      /* a ranges call: errors go to @failures */
  GArray        *failures;    /* AgChunkFailure; NULL while none failed */
};

AgChunk  *_ag_chunk_new        (GCancellable  *cancellable);
void      _ag_chunk_retire     (AgChunk       *self);
AgFailure *_ag_chunk_no_result_failure (void);
void      _ag_chunk_add_failure (GArray      **failures,
                                 guint         position,
                                 AgFailure    *failure);
gboolean  _ag_chunk_end_call   (AgChunk       *self,
                                AgFailure    **failure);

/* Before a map function's call: its value goes to @slot. */
static inline void
_ag_chunk_arm_slot (AgChunk *self,
                    GValue  *slot,
                    guint64  position)
{
  self->slot = slot;
  self->position = position;
  self->state = AG_CHUNK_ARMED;
}

/* Before a pipeline function's call: its outputs go to @outputs. */
static inline void
_ag_chunk_arm_outputs (AgChunk      *self,
                       GArray       *outputs,
                       const GValue *items,
                       guint         n_items,
                       guint64       position)
{
  self->outputs = outputs;
  self->items = items;
  self->n_items = n_items;
  self->position = position;
  self->state = AG_CHUNK_ARMED;
}

/* After the call: TRUE if the function returned a value (or none), else
 * FALSE with the error it returned, or AG_ERROR_NO_RESULT if it returned
 * nothing. The handle is idle again. */
static inline gboolean
_ag_chunk_took_value (AgChunk    *self,
                      AgFailure **failure)
{
  if (G_LIKELY (self->state == AG_CHUNK_RETURNED && self->error == NULL))
    {
      self->state = AG_CHUNK_IDLE;
      return TRUE;
    }

  return _ag_chunk_end_call (self, failure);
}

/* The handle for the next call: @self again, unless somebody kept it. */
static inline AgChunk *
_ag_chunk_next (AgChunk *self)
{
  AgChunk *next;

  /* Not G_OBJECT (): a checked cast per input is most of its cost. */
  if (G_LIKELY (g_atomic_int_get (&((GObject *) self)->ref_count) == 1))
    return self;

  next = _ag_chunk_new (self->cancellable);
  _ag_chunk_retire (self);
  return next;
}

G_END_DECLS
