/* ag-multi-task-priority.c: which children a MultiTask starts next, the
 * wanted ones (rows on screen) first
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "ag-multi-task-private.h"

/* Children start in list order, through a cursor: every position before
 * n_started has started. A wanted range (ag_multi_task_prioritize()) is a
 * second cursor, want_next, that runs ahead of the first one from the
 * start of the range to its end; what it starts is counted in n_ahead, so
 * the list-order cursor knows to skip those positions when it reaches
 * them, and a map knows to end a run before one.
 *
 * When nothing is wanted and nothing was started ahead, the next child is
 * the cursor's and every position after it is pending: two comparisons
 * per run (a map) or per child, nothing per input. The slots are read
 * only while a wanted range or its leftovers are ahead of the cursor, and
 * then each position once for the cursors, plus the inputs of a map run,
 * which the run costs anyway. */

/* Positions past the end were asked for before the length was known. */
void
_ag_multi_task_clamp_wanted (AgMultiTask *self)
{
  self->want_end = MIN (self->want_end, self->n_items);
  self->want_start = MIN (self->want_start, self->want_end);
  self->want_next = self->want_start;
}

/* Slow path of _ag_multi_task_next_to_start(): a wanted range is left, or
 * positions ahead of the cursor have started already. */
gboolean
_ag_multi_task_next_to_start_slow (AgMultiTask *self,
                                   guint       *position,
                                   guint       *end)
{
  /* Everything before the list-order cursor has started. */
  self->want_next = MAX (self->want_next, self->n_started);
  while (self->want_next < self->want_end
         && self->slots[self->want_next] != SLOT_PENDING)
    self->want_next++;

  if (self->want_next < self->want_end)
    {
      *position = self->want_next;
      *end = self->want_end;
      return TRUE;
    }

  while (self->n_ahead > 0
         && self->n_started < self->n_items
         && self->slots[self->n_started] != SLOT_PENDING)
    {
      self->n_started++;
      self->n_ahead--;
    }

  *position = self->n_started;
  *end = self->n_items;
  return self->n_started < self->n_items;
}

/* How many positions from @position on are pending, at most @max: a map's
 * run ends before a position started ahead of it. */
guint
_ag_multi_task_count_pending (AgMultiTask *self,
                              guint        position,
                              guint        max)
{
  guint count = 0;

  if (self->n_ahead == 0)
    return max;

  while (count < max && self->slots[position + count] == SLOT_PENDING)
    count++;

  return count;
}

/* @count positions from @position on are started: the caller runs them. */
void
_ag_multi_task_mark_started (AgMultiTask *self,
                             guint        position,
                             guint        count)
{
  memset (&self->slots[position], SLOT_RUNNING, count);

  if (position == self->n_started)
    self->n_started += count;
  else
    self->n_ahead += count;

  if (position == self->want_next)
    self->want_next += count;
}

/* @count positions from @position on, started, were not run after all (a
 * timed run stopped before them): they are pending again. The cursors go
 * back to them, so they start before anything later in their stretch; the
 * positions started since, between them and where the list-order cursor
 * was, are then counted as started ahead of it. */
void
_ag_multi_task_mark_pending (AgMultiTask *self,
                             guint        position,
                             guint        count)
{
  guint end = position + count;

  memset (&self->slots[position], SLOT_PENDING, count);

  if (position >= self->n_started)
    self->n_ahead -= count;
  else
    {
      for (guint i = end; i < self->n_started; i++)
        if (self->slots[i] != SLOT_PENDING)
          self->n_ahead++;
      self->n_started = position;
    }

  if (position < self->want_end && end > self->want_start)
    self->want_next = MIN (self->want_next, MAX (position, self->want_start));
}

/**
 * ag_multi_task_prioritize:
 * @self: a MultiTask
 * @position: the first wanted child
 * @n_items: how many children from @position on are wanted; 0 for none
 *
 * Asks for the children at @position … @position + @n_items - 1 to start
 * before the others: the rows a `GtkListView` shows, so that
 * scrolling a list of a hundred thousand thumbnails computes the visible
 * ones first. Call it whenever the visible rows change (the value of the
 * view's vertical adjustment, say): each call replaces the range of the
 * previous one, whose children not yet started go back to list order.
 * Positions past the end are ignored; an empty range asks for nothing.
 *
 * Only the order in which children start changes. Children that started
 * already carry on, and the value, [signal@MultiTask::task-done] and the
 * results stream keep their order. A MultiTask of tasks hands children to
 * the engine [property@MultiTask:max-workers] at a time, so with no limit
 * it has handed all of them over once it runs; a mapping MultiTask starts
 * runs of inputs as workers become free, and a run for a wanted range
 * begins at the first wanted input not yet started.
 *
 * It may be called before the MultiTask runs, and while it runs. Once it
 * has finished (or was cancelled) it does nothing, so a view's scroll
 * handler may stay connected for the view's whole life.
 *
 * The list model's [method@Gio.ListModel.get_item] does not prioritize:
 * views, sorters, filters and selection models fetch items for other
 * reasons than showing them, and a fetched item is one position, not the
 * range that is on screen.
 *
 * Thread: the engine's.
 *
 * Since: 1.0
 */
void
ag_multi_task_prioritize (AgMultiTask *self,
                          guint        position,
                          guint        n_items)
{
  g_return_if_fail (AG_IS_MULTI_TASK (self));

  if (ag_task_is_finished (AG_TASK (self)))
    return;

  self->want_start = position;
  self->want_end = position + MIN (n_items, G_MAXUINT - position);
  if (self->started)
    _ag_multi_task_clamp_wanted (self);
  else
    self->want_next = self->want_start;
}
