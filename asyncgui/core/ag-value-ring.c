/* ag-value-ring.c: a FIFO of GValues stored in place
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "ag-value-ring-private.h"
#include "ag-values-private.h"

/* A channel moves every item through its queue, often a million a second.
 * A list of boxed values costs two allocations and two frees per item
 * (the box and the list node); a ring of slots costs none once it has
 * grown to the channel's working size, and hands out runs of items with
 * at most two copies. It starts small and doubles, so a channel with a
 * large capacity that never fills never pays for it. */

#define MIN_SIZE 16

void
_ag_value_ring_init (AgValueRing *self)
{
  *self = (AgValueRing) { NULL, 0, 0, 0 };
}

static inline GValue *
slot_at (AgValueRing *self,
         gsize        position)
{
  return &self->slots[(self->head + position) & (self->size - 1)];
}

void
_ag_value_ring_clear (AgValueRing *self)
{
  for (gsize i = 0; i < self->length; i++)
    _ag_value_clear (slot_at (self, i));

  g_free (self->slots);
  _ag_value_ring_init (self);
}

/* Makes room for one more value, keeping the order. */
static void
reserve_one (AgValueRing *self)
{
  GValue *slots;
  gsize size, first_run;

  if (self->length < self->size)
    return;

  size = self->size > 0 ? self->size * 2 : MIN_SIZE;
  slots = g_new (GValue, size);

  /* The values run from head to the end, then wrap to the start. */
  first_run = MIN (self->length, self->size - self->head);
  if (self->length > 0)
    {
      memcpy (slots, self->slots + self->head, first_run * sizeof (GValue));
      memcpy (slots + first_run, self->slots, (self->length - first_run) * sizeof (GValue));
    }

  g_free (self->slots);
  self->slots = slots;
  self->size = size;
  self->head = 0;
}

/* Moves *@value in at the end; *@value is left zeroed. */
void
_ag_value_ring_push_tail (AgValueRing *self,
                          GValue      *value)
{
  reserve_one (self);
  memcpy (slot_at (self, self->length), value, sizeof (GValue));
  memset (value, 0, sizeof (GValue));
  self->length++;
}

/* Moves *@value in at the front; *@value is left zeroed. */
void
_ag_value_ring_push_head (AgValueRing *self,
                          GValue      *value)
{
  reserve_one (self);
  self->head = (self->head + self->size - 1) & (self->size - 1);
  memcpy (&self->slots[self->head], value, sizeof (GValue));
  memset (value, 0, sizeof (GValue));
  self->length++;
}

/* Moves up to @max values from the front onto the end of @to (an array of
 * GValue), in order. Returns how many. */
guint
_ag_value_ring_take (AgValueRing *self,
                     GArray      *to,
                     guint        max)
{
  gsize n = MIN (self->length, max);
  gsize done = 0;

  while (done < n)
    {
      gsize run = MIN (n - done, self->size - self->head);
      GValue *from = &self->slots[self->head];

      /* The slots left behind are outside the ring and never read. */
      g_array_append_vals (to, from, run);
      self->head = (self->head + run) & (self->size - 1);
      self->length -= run;
      done += run;
    }

  if (self->length == 0)
    self->head = 0;

  return (guint) n;
}
