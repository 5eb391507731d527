/* ag-run-size.c: how many inputs a map's next run gets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-run-size-private.h"

/* A map hands its inputs to the workers in runs (ag-map.c). A run should
 * hold about AG_RUN_TARGET_US of work: enough that handing it over costs
 * little next to it, little enough that results still flow and a cancel
 * or a newly wanted row waits no longer. Until the first run is back
 * nothing is known of what an input costs.
 *
 * - A timed run stops itself once over its budget, AG_RUN_BUDGET_US, and
 *   gives back the inputs it did not run (ag-chunk-run.c). So it need not
 *   wait to be measured: before any run is back, each timed run takes its
 *   share of the stretch, and a million trivial inputs need no ramp of
 *   round trips through the engine's thread to reach full size.
 * - A run that is not timed (one call into a binding for the whole run)
 *   has one input until the first run is back, and grows at most
 *   MAX_GROWTH times from one run to the next, so that one fast input does
 *   not send the next thousand to one worker.
 * - The time of one input is the mean over recent runs, each weighing as
 *   many inputs as it had: a run of a thousand says more than a run of one,
 *   which also paid for a waking thread and a cold cache. Each run back
 *   halves the weight of the ones before, so one slow input does not
 *   shrink every later run.
 * - Near the end of a stretch (the list, or a wanted range) its rest is
 *   shared between the runs that may go at once, but not in runs of less
 *   than MIN_SHARE_US of work: a run's round trip through the engine's
 *   thread costs tens of microseconds, so splitting finer would make the
 *   end later, not sooner.
 * - A run has at most MAX_RUN_SIZE inputs, which bounds what a wrong
 *   measure (a clock that did not move over a run of trivial inputs) can
 *   send to one worker: at 10 ns an input, about 0.7 ms of work. */

#define MAX_RUN_SIZE  65536
#define MAX_GROWTH    8
#define MIN_SHARE_US  (AG_RUN_TARGET_US / 8)
#define RECENT_DECAY  0.5

/* The worker time of one input, in microseconds; 0 until a run is back. */
double
_ag_run_size_input_us (const AgRunSize *self)
{
  if (self->recent_inputs <= 0)
    return 0;

  return MAX (self->recent_us / self->recent_inputs, 0.001);
}

/* A run of @n_inputs came back after @elapsed_us of its worker's time. */
void
_ag_run_size_add_run (AgRunSize *self,
                      gint64     elapsed_us,
                      guint      n_inputs)
{
  self->recent_us = RECENT_DECAY * self->recent_us + (double) MAX (elapsed_us, 0);
  self->recent_inputs = RECENT_DECAY * self->recent_inputs + n_inputs;
}

/* The processor time a run of @elapsed_us used: @cpu_us, or -1 if the
 * clock could not say (the run then counts as computing). Called after
 * _ag_run_size_add_run() for the same run. */
void
_ag_run_size_add_cpu (AgRunSize *self,
                      gint64     elapsed_us,
                      gint64     cpu_us)
{
  gint64 used = cpu_us >= 0 ? MIN (cpu_us, elapsed_us) : elapsed_us;

  self->recent_cpu_us = RECENT_DECAY * self->recent_cpu_us + (double) MAX (used, 0);
}

/* Whether recent inputs mostly waited (slept, blocked on I/O) rather than
 * computed: they used less than a quarter of their time on a processor. */
gboolean
_ag_run_size_inputs_wait (const AgRunSize *self)
{
  return self->recent_us > 0 && self->recent_cpu_us * 4 < self->recent_us;
}

/* The size of the next run, from 1 to @remaining: @remaining is what is
 * left of the stretch the run starts in, @n_runs how many runs may go at
 * once, @timed whether the run stops itself once over its budget. The
 * caller may make it smaller still (max-chunk-size, a wanted row started
 * already), and records it as the last size. */
guint
_ag_run_size_next (const AgRunSize *self,
                   guint            remaining,
                   guint            n_runs,
                   gboolean         timed)
{
  double input_us = _ag_run_size_input_us (self);
  guint share = (remaining + MAX (n_runs, 1) - 1) / MAX (n_runs, 1);
  double fit, least;
  guint size;

  if (input_us <= 0)
    return MIN (timed ? MIN (MAX (share, 1), MAX_RUN_SIZE) : 1, remaining);

  fit = AG_RUN_TARGET_US / input_us;
  size = fit >= MAX_RUN_SIZE ? MAX_RUN_SIZE : MAX ((guint) fit, 1);
  if (!timed)
    size = MIN (size, MAX (self->last_size, 1) * MAX_GROWTH);

  least = MIN_SHARE_US / input_us;
  if (least < share)
    size = MIN (size, share);

  return CLAMP (size, 1, remaining);
}
