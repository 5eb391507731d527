/* ag-fiber-private.h: a function on a stack of its own
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AgFiber      AgFiber;
typedef struct _AgStackPool  AgStackPool;

typedef void (*AgFiberFunc) (gpointer user_data);

/* Stacks are mmap'd with a guard page below them and kept for reuse. */
AgStackPool *_ag_stack_pool_new   (void);
AgStackPool *_ag_stack_pool_get_default (void);
void         _ag_stack_pool_free  (AgStackPool *pool);

AgFiber     *_ag_fiber_new        (AgStackPool *pool,
                                   gsize        stack_size,
                                   AgFiberFunc  func,
                                   gpointer     user_data);
void         _ag_fiber_free       (AgFiber     *fiber);

/* From the caller's stack into the fiber, until it suspends or returns. */
void         _ag_fiber_resume     (AgFiber     *fiber);
/* From inside the fiber back to whoever resumed it. */
void         _ag_fiber_suspend    (AgFiber     *fiber);
gboolean     _ag_fiber_is_done    (AgFiber     *fiber);
/* The fiber running on this thread, if any. */
AgFiber     *_ag_fiber_get_current (void);
const char  *_ag_fiber_get_switch_kind (void);

G_END_DECLS
