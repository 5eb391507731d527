/* bench-memory.c: peak RSS of a flood, one child process per measurement
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "ag-bench.h"

/* Peak RSS only ever grows, so each implementation is measured in a fresh
 * process: this same binary, re-executed with the hidden `--child` option.
 * The children take turns (asyncgui, gtask-chunk, pool-batch, gtask, then
 * again) so a machine that drifts affects all alike, and the larger peak of
 * each is reported: the peak a user could meet.
 *
 * Every implementation runs flood-multi's flood, and its peak includes
 * what the flood's data needs: the array of inputs (a pointer each) and
 * the values, an array of GValues (asyncgui's multi-task value; the
 * chunked baselines' result array, the same size). The chunked baselines
 * are the strongest fair ones: nothing per item beyond those arrays. */

#define MEMORY_ROUNDS 2

typedef struct
{
  double rss_mb;
  double wall_ms;
} ChildResult;

static gboolean
parse_child_output (const char  *output,
                    ChildResult *result)
{
  const char *rss = strstr (output, "rss_mb=");
  const char *wall = strstr (output, "wall_ms=");

  if (rss == NULL || wall == NULL)
    return FALSE;

  result->rss_mb = g_ascii_strtod (rss + strlen ("rss_mb="), NULL);
  result->wall_ms = g_ascii_strtod (wall + strlen ("wall_ms="), NULL);
  return TRUE;
}

static gboolean
run_child (const char  *impl,
           guint        n,
           ChildResult *result)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *exe = NULL;
  g_autofree char *n_arg = g_strdup_printf ("%u", n);
  g_autofree char *output = NULL;
  int status;

  exe = g_file_read_link ("/proc/self/exe", &error);
  if (exe == NULL)
    {
      g_printerr ("ag-bench: error: memory: cannot find this program: %s\n", error->message);
      return FALSE;
    }

  {
    const char *argv[] = { exe, "--child", "memory", impl, "--n", n_arg, NULL };

    /* The child's stderr is ours, so its diagnostics reach the user. */
    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                       &output, NULL, &status, &error) ||
        !g_spawn_check_wait_status (status, &error))
      {
        g_printerr ("ag-bench: error: memory %s child: %s\n", impl, error->message);
        return FALSE;
      }
  }

  if (!parse_child_output (output, result))
    {
      g_printerr ("ag-bench: error: memory %s child printed \"%s\"\n", impl, output);
      return FALSE;
    }

  return TRUE;
}

gboolean
bench_memory (guint n)
{
  static const char * const impls[] = { "asyncgui", "gtask-chunk", "pool-batch", "gtask" };
  ChildResult peak[G_N_ELEMENTS (impls)] = { { 0, }, };
  gboolean ok = TRUE;

  for (guint round = 0; round < MEMORY_ROUNDS; round++)
    for (guint i = 0; i < G_N_ELEMENTS (impls); i++)
      {
        ChildResult child;

        if (!run_child (impls[i], n, &child))
          ok = FALSE;
        else if (child.rss_mb > peak[i].rss_mb)
          peak[i] = child;
      }

  if (!ok)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (impls); i++)
    {
      BenchResult result = BENCH_RESULT_INIT;

      result.rss_mb = peak[i].rss_mb;
      result.wall_ms = peak[i].wall_ms;
      bench_report ("memory", impls[i], n, &result);
    }

  return TRUE;
}

/* In the child: the same floods as flood-multi, one implementation, then the
 * peak. Its stdout goes to the parent only. */
int
bench_memory_child (const char *impl,
                    guint       n)
{
  BenchResult result = BENCH_RESULT_INIT;
  char rss[G_ASCII_DTOSTR_BUF_SIZE];
  char wall[G_ASCII_DTOSTR_BUF_SIZE];
  gboolean ok;

  if (g_str_equal (impl, "asyncgui"))
    ok = bench_flood_multi_asyncgui (n, &result);
  else if (g_str_equal (impl, "gtask-chunk"))
    ok = bench_flood_multi_gtask_chunk (n, &result);
  else if (g_str_equal (impl, "pool-batch"))
    ok = bench_flood_multi_pool_batch (n, &result);
  else if (g_str_equal (impl, "gtask"))
    ok = bench_flood_gtask (n, &result);
  else
    {
      g_printerr ("ag-bench: error: no memory implementation named %s\n", impl);
      return 2;
    }

  if (!ok)
    return 1;

  g_print ("rss_mb=%s wall_ms=%s\n",
           g_ascii_formatd (rss, sizeof rss, "%.1f", bench_peak_rss_mb ()),
           g_ascii_formatd (wall, sizeof wall, "%.1f", result.wall_ms));
  return 0;
}
