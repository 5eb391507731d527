/* ag-job-await-typed.c: awaiting a task for a value of a given type
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "ag-job-internal.h"

/* A typed await is ag_job_await() followed by the task's typed getter, so
 * that a job and a finished callback read values by the same rules: the
 * task's own error, or AG_ERROR_TYPE_MISMATCH for a value of another type
 * (see ag-task-typed.c). */

/* Awaits @task (taking it) and returns it finished with a value, or %NULL
 * with @error set. */
static AgTask *
await_success (AgTask  *task,
               GError **error)
{
  g_autoptr(AgTask) held = g_object_ref (task);
  GValue *value;
  GError *local_error = NULL;

  value = ag_job_await (task, &local_error);
  if (value != NULL)
    g_boxed_free (G_TYPE_VALUE, value);

  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }

  return g_steal_pointer (&held);
}

static gpointer
dup_object (gpointer object)
{
  return object != NULL ? g_object_ref (object) : NULL;
}

static GVariant *
ref_variant (GVariant *variant)
{
  return variant != NULL ? g_variant_ref (variant) : NULL;
}

static gpointer
dup_boxed (AgTask  *held,
           GError **error)
{
  gpointer boxed = ag_task_get_boxed (held, error);

  return boxed != NULL ? g_boxed_copy (G_VALUE_TYPE (ag_task_get_value (held)), boxed) : NULL;
}

/**
 * ag_job_await_boolean: (skip)
 * @task: (transfer full): a task to run, or one that runs already
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is a boolean: read as
 * ag_task_get_boolean() reads it, so a value of another type fails with
 * %AG_ERROR_TYPE_MISMATCH.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: the boolean, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
ag_job_await_boolean (AgTask  *task,
                      GError **error)
{
  g_autoptr(AgTask) held = NULL;

  g_return_val_if_fail (AG_IS_TASK (task), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  held = await_success (task, error);
  return held != NULL ? ag_task_get_boolean (held, error) : FALSE;
}

/**
 * ag_job_await_int: (skip)
 * @task: (transfer full): a task to run, or one that runs already
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is an integer: read as
 * ag_task_get_int() reads it, so a value of another type fails with
 * %AG_ERROR_TYPE_MISMATCH.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: the integer, or 0 with @error set
 *
 * Since: 1.0
 */
int
ag_job_await_int (AgTask  *task,
                  GError **error)
{
  g_autoptr(AgTask) held = NULL;

  g_return_val_if_fail (AG_IS_TASK (task), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  held = await_success (task, error);
  return held != NULL ? ag_task_get_int (held, error) : 0;
}

/**
 * ag_job_await_uint: (skip)
 * @task: (transfer full): a task to run, or one that runs already
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is an unsigned integer: read as
 * ag_task_get_uint() reads it, so a value of another type fails with
 * %AG_ERROR_TYPE_MISMATCH.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: the integer, or 0 with @error set
 *
 * Since: 1.0
 */
guint
ag_job_await_uint (AgTask  *task,
                   GError **error)
{
  g_autoptr(AgTask) held = NULL;

  g_return_val_if_fail (AG_IS_TASK (task), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  held = await_success (task, error);
  return held != NULL ? ag_task_get_uint (held, error) : 0;
}

/**
 * ag_job_await_int64: (skip)
 * @task: (transfer full): a task to run, or one that runs already
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is a 64-bit integer: read as
 * ag_task_get_int64() reads it, so a value of another type fails with
 * %AG_ERROR_TYPE_MISMATCH.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: the integer, or 0 with @error set
 *
 * Since: 1.0
 */
gint64
ag_job_await_int64 (AgTask  *task,
                    GError **error)
{
  g_autoptr(AgTask) held = NULL;

  g_return_val_if_fail (AG_IS_TASK (task), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  held = await_success (task, error);
  return held != NULL ? ag_task_get_int64 (held, error) : 0;
}

/**
 * ag_job_await_uint64: (skip)
 * @task: (transfer full): a task to run, or one that runs already
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is an unsigned 64-bit integer: read as
 * ag_task_get_uint64() reads it, so a value of another type fails with
 * %AG_ERROR_TYPE_MISMATCH.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: the integer, or 0 with @error set
 *
 * Since: 1.0
 */
guint64
ag_job_await_uint64 (AgTask  *task,
                     GError **error)
{
  g_autoptr(AgTask) held = NULL;

  g_return_val_if_fail (AG_IS_TASK (task), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  held = await_success (task, error);
  return held != NULL ? ag_task_get_uint64 (held, error) : 0;
}

/**
 * ag_job_await_double: (skip)
 * @task: (transfer full): a task to run, or one that runs already
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is a double: read as
 * ag_task_get_double() reads it, so a value of another type fails with
 * %AG_ERROR_TYPE_MISMATCH.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: the double, or 0.0 with @error set
 *
 * Since: 1.0
 */
double
ag_job_await_double (AgTask  *task,
                     GError **error)
{
  g_autoptr(AgTask) held = NULL;

  g_return_val_if_fail (AG_IS_TASK (task), 0.0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0.0);

  held = await_success (task, error);
  return held != NULL ? ag_task_get_double (held, error) : 0.0;
}

/**
 * ag_job_await_enum: (skip)
 * @task: (transfer full): a task to run, or one that runs already
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is a value of an enumeration: read as
 * ag_task_get_enum() reads it, so a value of another type fails with
 * %AG_ERROR_TYPE_MISMATCH.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: the value, or 0 with @error set
 *
 * Since: 1.0
 */
int
ag_job_await_enum (AgTask  *task,
                   GError **error)
{
  g_autoptr(AgTask) held = NULL;

  g_return_val_if_fail (AG_IS_TASK (task), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  held = await_success (task, error);
  return held != NULL ? ag_task_get_enum (held, error) : 0;
}

/**
 * ag_job_await_flags: (skip)
 * @task: (transfer full): a task to run, or one that runs already
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is flags: read as
 * ag_task_get_flags() reads it, so a value of another type fails with
 * %AG_ERROR_TYPE_MISMATCH.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: the flags, or 0 with @error set
 *
 * Since: 1.0
 */
guint
ag_job_await_flags (AgTask  *task,
                    GError **error)
{
  g_autoptr(AgTask) held = NULL;

  g_return_val_if_fail (AG_IS_TASK (task), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  held = await_success (task, error);
  return held != NULL ? ag_task_get_flags (held, error) : 0;
}

/**
 * ag_job_await_string: (skip)
 * @task: (transfer full): a task to run, or one that runs already
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is a string: read as
 * ag_task_get_string() reads it, so a value of another type fails with
 * %AG_ERROR_TYPE_MISMATCH.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: (transfer full) (nullable): a copy of the string, or %NULL with
 *   @error set
 *
 * Since: 1.0
 */
char *
ag_job_await_string (AgTask  *task,
                     GError **error)
{
  g_autoptr(AgTask) held = NULL;

  g_return_val_if_fail (AG_IS_TASK (task), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  held = await_success (task, error);
  return held != NULL ? g_strdup (ag_task_get_string (held, error)) : NULL;
}

/**
 * ag_job_await_object: (skip)
 * @task: (transfer full): a task to run, or one that runs already
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is an object: read as
 * ag_task_get_object() reads it, so a value of another type fails with
 * %AG_ERROR_TYPE_MISMATCH.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: (transfer full) (nullable) (type GObject): a reference to the
 *   object, or %NULL with @error set
 *
 * Since: 1.0
 */
gpointer
ag_job_await_object (AgTask  *task,
                     GError **error)
{
  g_autoptr(AgTask) held = NULL;

  g_return_val_if_fail (AG_IS_TASK (task), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  held = await_success (task, error);
  return held != NULL ? dup_object (ag_task_get_object (held, error)) : NULL;
}

/**
 * ag_job_await_boxed: (skip)
 * @task: (transfer full): a task to run, or one that runs already
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is a boxed value: read as
 * ag_task_get_boxed() reads it, so a value of another type fails with
 * %AG_ERROR_TYPE_MISMATCH.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: (transfer full) (nullable): a copy of the value (free it with
 *   g_boxed_free() and its type), or %NULL with @error set
 *
 * Since: 1.0
 */
gpointer
ag_job_await_boxed (AgTask  *task,
                    GError **error)
{
  g_autoptr(AgTask) held = NULL;

  g_return_val_if_fail (AG_IS_TASK (task), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  held = await_success (task, error);
  return held != NULL ? dup_boxed (held, error) : NULL;
}

/**
 * ag_job_await_variant: (skip)
 * @task: (transfer full): a task to run, or one that runs already
 * @error: return location for an error
 *
 * Like ag_job_await() for a task whose value is a variant: read as
 * ag_task_get_variant() reads it, so a value of another type fails with
 * %AG_ERROR_TYPE_MISMATCH.
 *
 * Thread: the engine's, inside a C job.
 *
 * Returns: (transfer full) (nullable): a reference to the variant, or %NULL
 *   with @error set
 *
 * Since: 1.0
 */
GVariant *
ag_job_await_variant (AgTask  *task,
                      GError **error)
{
  g_autoptr(AgTask) held = NULL;

  g_return_val_if_fail (AG_IS_TASK (task), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  held = await_success (task, error);
  return held != NULL ? ref_variant (ag_task_get_variant (held, error)) : NULL;
}
