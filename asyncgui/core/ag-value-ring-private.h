/* ag-value-ring-private.h: a FIFO of GValues stored in place, the queue
 * inside a channel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The caller locks. Values move in and out bitwise: a GValue owns its
 * contents wherever its bytes are, so moving one is a copy of its bytes
 * followed by zeroing the old place. */
typedef struct
{
  GValue *slots;   /* @size of them; NULL while @size is 0 */
  gsize   size;    /* 0 or a power of two */
  gsize   head;    /* the slot of the first value */
  gsize   length;
} AgValueRing;

void   _ag_value_ring_init      (AgValueRing *self);
void   _ag_value_ring_clear     (AgValueRing *self);
void   _ag_value_ring_push_tail (AgValueRing *self,
                                 GValue      *value);
void   _ag_value_ring_push_head (AgValueRing *self,
                                 GValue      *value);
guint  _ag_value_ring_take      (AgValueRing *self,
                                 GArray      *to,
                                 guint        max);

static inline gboolean
_ag_value_ring_is_empty (const AgValueRing *self)
{
  return self->length == 0;
}

G_END_DECLS
