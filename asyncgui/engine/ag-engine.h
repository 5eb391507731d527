/* ag-engine.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(ASYNCGUI_INSIDE) && !defined(ASYNCGUI_COMPILATION)
# error "Only <asyncgui.h> can be included directly."
#endif

#include "ag-version-macros.h"
#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * AG_ENGINE_DEFAULT_PRIORITY:
 *
 * The priority an engine delivers results at unless told otherwise: one step
 * below GTK's redraw priority (%G_PRIORITY_HIGH_IDLE + 20), so a frame that
 * is due is always drawn before more results are delivered.
 *
 * Since: 1.0
 */
#define AG_ENGINE_DEFAULT_PRIORITY (G_PRIORITY_HIGH_IDLE + 30)

/**
 * AG_ENGINE_DEFAULT_BUDGET_MS:
 *
 * How many milliseconds one delivery dispatch may spend on the engine's
 * thread unless told otherwise.
 *
 * Since: 1.0
 */
#define AG_ENGINE_DEFAULT_BUDGET_MS 2

/**
 * AG_ENGINE_DEFAULT_MAX_DELIVERY_DELAY_MS:
 *
 * How many milliseconds results may wait while sources of higher priority
 * keep the main loop too busy to deliver them, unless the engine is told
 * otherwise. See [property@Engine:max-delivery-delay-ms].
 *
 * Since: 1.0
 */
#define AG_ENGINE_DEFAULT_MAX_DELIVERY_DELAY_MS 100

/**
 * AG_ENGINE_DEFAULT_MAX_BLOCKED_THREADS:
 *
 * How many worker threads, beyond [property@Engine:max-threads], may run
 * while others are blocked in their work, unless the engine is told
 * otherwise. See [property@Engine:max-blocked-threads].
 *
 * Since: 1.0
 */
#define AG_ENGINE_DEFAULT_MAX_BLOCKED_THREADS 64

/**
 * AG_ENGINE_DEFAULT_JOB_STACK_SIZE:
 *
 * The stack size, in bytes, of a job started with ag_engine_spawn() unless
 * the engine is told otherwise: 1 MiB, enough for the GTK calls a handler
 * makes (a theme reload takes about 250 KiB of it in one frame).
 *
 * Since: 1.0
 */
#define AG_ENGINE_DEFAULT_JOB_STACK_SIZE (1024 * 1024)

#define AG_TYPE_ENGINE (ag_engine_get_type ())

AG_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AgEngine, ag_engine, AG, ENGINE, GObject)

AG_AVAILABLE_IN_1_0
AgEngine     *ag_engine_new                (void) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgEngine     *ag_engine_new_for_context    (GMainContext        *context) G_GNUC_WARN_UNUSED_RESULT;
AG_AVAILABLE_IN_1_0
AgEngine     *ag_engine_get_default        (void);
AG_AVAILABLE_IN_1_0
gboolean      ag_engine_join_disposed      (int                  timeout_ms);

AG_AVAILABLE_IN_1_0
GMainContext *ag_engine_get_context        (AgEngine            *self);
AG_AVAILABLE_IN_1_0
gboolean      ag_engine_is_own_thread      (AgEngine            *self);
AG_AVAILABLE_IN_1_0
int           ag_engine_get_max_threads    (AgEngine            *self);
AG_AVAILABLE_IN_1_0
void          ag_engine_set_max_threads    (AgEngine            *self,
                                            int                  max_threads);
AG_AVAILABLE_IN_1_0
int           ag_engine_get_max_blocked_threads (AgEngine       *self);
AG_AVAILABLE_IN_1_0
void          ag_engine_set_max_blocked_threads (AgEngine       *self,
                                                 int             max_blocked_threads);
AG_AVAILABLE_IN_1_0
int           ag_engine_get_priority       (AgEngine            *self);
AG_AVAILABLE_IN_1_0
void          ag_engine_set_priority       (AgEngine            *self,
                                            int                  priority);
AG_AVAILABLE_IN_1_0
int           ag_engine_get_budget_ms      (AgEngine            *self);
AG_AVAILABLE_IN_1_0
void          ag_engine_set_budget_ms      (AgEngine            *self,
                                            int                  budget_ms);
AG_AVAILABLE_IN_1_0
guint         ag_engine_get_max_delivery_delay_ms (AgEngine     *self);
AG_AVAILABLE_IN_1_0
void          ag_engine_set_max_delivery_delay_ms (AgEngine     *self,
                                                   guint         max_delay_ms);
AG_AVAILABLE_IN_1_0
guint         ag_engine_get_job_stack_size (AgEngine            *self);
AG_AVAILABLE_IN_1_0
void          ag_engine_set_job_stack_size (AgEngine            *self,
                                            guint                job_stack_size);

G_END_DECLS
