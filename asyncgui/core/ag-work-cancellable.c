/* ag-work-cancellable.c: the cancellable of the work a thread runs
 *
 * While a task's function or a MultiTask's chunk runs, its thread knows
 * the work's cancellable, so that a call that blocks inside the function
 * (a blocking channel read or write) ends when the work is cancelled: a
 * Python or JavaScript function never sees the cancellable, and a thread
 * that waits for good also holds up the application's exit, which waits
 * for its threads. Work may run inside other work (a wait in serial mode
 * runs a task inline), so entering returns what was there, for leaving.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-work-cancellable-private.h"

static _Thread_local GCancellable *current;

/* Makes @cancellable (not referenced: the caller keeps it alive until it
 * leaves) the one of the work this thread runs; returns the one before. */
GCancellable *
_ag_work_cancellable_enter (GCancellable *cancellable)
{
  GCancellable *previous = current;

  current = cancellable;
  return previous;
}

void
_ag_work_cancellable_leave (GCancellable *previous)
{
  current = previous;
}

/* The cancellable of the work this thread runs, or %NULL outside any. */
GCancellable *
_ag_work_cancellable_get (void)
{
  return current;
}
