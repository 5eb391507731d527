#!/usr/bin/env bash
# run-all.sh: every benchmark workload for several rounds, and one table
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: tests/bench/run-all.sh [--n N] [--with-10m] [--workloads LIST] [ROUNDS] [BUILD-DIR]
#
#   ROUNDS     rounds to run (default 3); each round runs every workload of
#              ag-bench (frames under Xvfb when there is no display) once,
#              and python_flood.py with --repeat 3
#   BUILD-DIR  the meson build directory (default: build)
#   --n N      every workload at N items instead of its default (growth
#              keeps its sizes): a quick check that all runs and is right,
#              not a measurement
#   --with-10m growth at 10M items too (minutes per round, up to ~10 GiB)
#   --workloads LIST  only these, comma-separated: ag-bench's workload
#              names (ag-bench --help) and python-flood
#
# Prints, per workload, size and implementation, the median and the range
# (min..max) over the rounds of the workload's headline figures, then the
# ratio of each asyncgui line's medians to the strongest fair baseline's
# (and to the floor, where there is one), and the load average at the start
# and end of each round: the rounds of a shared machine are only comparable
# when the load was. Every raw line is kept in a results file, whose path is
# printed. Exits non-zero if any run failed (a wrong result, a crash).
#
# The medians and ranges are of each round's figure; a round's figure is
# itself the median of several runs where ag-bench repeats a small workload
# (3 runs at 100,000 items), and of python_flood.py's 3 runs of its
# 100,000 items, which it takes in turns with the baselines.
# Only ratios within one run mean much on a shared machine (BENCHMARKS.md).
set -uo pipefail

n_arg=()
tenm_arg=()
positional=()
workloads=""
while [ $# -gt 0 ]; do
  case "$1" in
    --n) n_arg=(--n "$2"); shift 2 ;;
    --n=*) n_arg=(--n "${1#--n=}"); shift ;;
    --with-10m) tenm_arg=(--with-10m); shift ;;
    --workloads) workloads="$2"; shift 2 ;;
    --workloads=*) workloads="${1#--workloads=}"; shift ;;
    -h|--help) awk 'NR > 3 && /^#/ { sub(/^# ?/, ""); print; next } NR > 3 { exit }' "$0"; exit 0 ;;
    -*) echo "run-all.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done

rounds="${positional[0]:-3}"
build_dir="${positional[1]:-build}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_root="$(cd "$here/../.." && pwd)"
python=/usr/bin/python3

case "$rounds" in
  ''|*[!0-9]*|0) echo "run-all.sh: ROUNDS must be a positive number, not '$rounds'" >&2; exit 2 ;;
esac
bench="$build_dir/tests/bench/ag-bench"
if [ ! -x "$bench" ]; then
  echo "run-all.sh: no $bench; build first (meson compile -C $build_dir)" >&2
  exit 2
fi

# ag-bench's share of --workloads, and whether python_flood.py runs.
bench_workloads=()
run_python=1
if [ -n "$workloads" ]; then
  run_python=0
  IFS=',' read -r -a selected <<<"$workloads"
  for workload in "${selected[@]}"; do
    if [ "$workload" = python-flood ]; then
      run_python=1
    else
      bench_workloads+=("$workload")
    fi
  done
fi

results="$(mktemp "${TMPDIR:-/tmp}/ag-bench-results.XXXXXX")"
status=0

# Lines of the form "# round R load START -> END" carry the load average
# (1, 5 and 15 minutes) into the results file beside the measurements.
load_average () {
  cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "? ? ?"
}

for round in $(seq 1 "$rounds"); do
  start_load="$(load_average)"
  echo "run-all.sh: round $round of $rounds (load average $start_load)" >&2

  if [ -z "$workloads" ] || [ ${#bench_workloads[@]} -gt 0 ]; then
    if ! bash "$source_root/build-aux/with-display.sh" \
           "$bench" "${bench_workloads[@]}" "${n_arg[@]}" "${tenm_arg[@]}" >>"$results"; then
      echo "run-all.sh: round $round: ag-bench failed" >&2
      status=1
    fi
  fi
  # With --n it is a quick check: one run. Otherwise only the medians of
  # the 3 runs, which follow its '# medians' line, go to the results.
  if [ "$run_python" = 1 ]; then
    if [ ${#n_arg[@]} -gt 0 ]; then
      "$python" "$here/python_flood.py" --build-dir "$build_dir" "${n_arg[@]}" >>"$results"
    else
      "$python" "$here/python_flood.py" --build-dir "$build_dir" --repeat 3 |
        awk '/^# medians/ { medians = 1; next } medians' >>"$results"
    fi
    if [ "${PIPESTATUS[0]}" != 0 ]; then
      echo "run-all.sh: round $round: python_flood.py failed" >&2
      status=1
    fi
  fi

  echo "# round $round load $start_load -> $(load_average)" >>"$results"
done

"$python" - "$results" "$rounds" "$build_dir" <<'EOF'
import collections
import math
import os
import statistics
import sys

results_path, rounds, build_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]

# Per workload: the headline figures (the first one is the ratio's), whether
# higher is better for each, the strongest fair baselines (the best of
# them is the bar) and the floor. BENCHMARKS.md's names.
LOWER, HIGHER = False, True
WORKLOADS = [
    ('flood-multi', [('rate', HIGHER), ('gap_max_ms', LOWER), ('submit_ms', LOWER)],
     ['gtask-chunk', 'pool-batch'], None),
    ('memory', [('rss_mb', LOWER), ('wall_ms', LOWER)], ['gtask-chunk', 'pool-batch'], None),
    ('flood-tasks', [('wall_ms', LOWER), ('submit_ms', LOWER), ('gap_max_ms', LOWER)],
     ['pool-item'], 'floor-gobject'),
    ('backlog', [('gap_max_ms', LOWER), ('wall_ms', LOWER)], ['pool-item'], None),
    ('chain', [('rt_us', LOWER), ('rt_mean_us', LOWER), ('rt_p90_us', LOWER), ('rt_p99_us', LOWER)],
     ['loop-queue'], 'floor-thread'),
    ('process', [('rt_us', LOWER), ('rt_mean_us', LOWER), ('rt_p99_us', LOWER), ('cpu_us', LOWER)],
     ['loop-pipe'], 'floor-pipe'),
    ('cpu', [('wall_ms', LOWER), ('ratio', LOWER), ('gap_max_ms', LOWER)], ['ideal'], None),
    ('blocking', [('wall_ms', LOWER), ('ratio', LOWER)], ['ideal'], None),
    ('pipeline', [('rate', HIGHER), ('gap_max_ms', LOWER), ('submit_ms', LOWER)], ['pool-batch'], None),
    ('python-flood', [('rate', HIGHER), ('wall_ms', LOWER), ('gap_max_ms', LOWER), ('submit_ms', LOWER)],
     ['py-chunks'], None),
    ('frames', [('gap_max_ms', LOWER), ('gap_p99_ms', LOWER), ('wall_ms', LOWER)], [], None),
]
ORDER = {name: i for i, (name, _, _, _) in enumerate(WORKLOADS)}
SPEC = {name: (metrics, baselines, floor) for name, metrics, baselines, floor in WORKLOADS}

values = collections.defaultdict(list)   # (workload, n, impl, key) -> [per round]
impls = collections.defaultdict(list)    # (workload, n) -> impls in first-seen order
loads = []
with open(results_path) as results:
    for line in results:
        line = line.strip()
        if line.startswith('# round '):
            loads.append(line[len('# '):])
            continue
        if not line.startswith('workload='):
            continue
        fields = dict(field.split('=', 1) for field in line.split())
        group = (fields['workload'], int(fields['n']))
        if fields['impl'] not in impls[group]:
            impls[group].append(fields['impl'])
        for key, value in fields.items():
            if key not in ('workload', 'impl', 'n'):
                values[group + (fields['impl'], key)].append(float(value))


def number(value, key):
    if key == 'rate':
        for scale, suffix in ((1e6, 'M'), (1e3, 'k')):
            if value >= scale:
                return '%.3g%s' % (value / scale, suffix)
    if value >= 100:
        return '%.0f' % value
    return '%.3g' % value


def cell(group, impl, key):
    runs = values.get(group + (impl, key))
    if not runs:
        return '-'
    text = number(statistics.median(runs), key)
    if len(runs) > 1:
        text += ' [%s..%s]' % (number(min(runs), key), number(max(runs), key))
    return text


def median(group, impl, key):
    runs = values.get(group + (impl, key))
    return statistics.median(runs) if runs else None


print('asyncgui benchmarks: %d round%s, %s, %d cores; median [min..max] over the rounds'
      % (rounds, '' if rounds == 1 else 's', build_dir, os.cpu_count() or 0))
print('load average (1, 5, 15 min) at the start -> end of each round:')
for load in loads:
    print('  ' + load)

known = [group for group in impls if group[0] in SPEC]
for group in sorted(known, key=lambda g: (ORDER[g[0]], g[1])):
    workload, n = group
    metrics, baselines, floor = SPEC[workload]
    keys = [key for key, _ in metrics]
    rows = [[impl] + [cell(group, impl, key) for key in keys] for impl in impls[group]]
    header = ['%s n=%d' % (workload, n)] + keys
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header))]
    print()
    print('  '.join(text.ljust(width) for text, width in zip(header, widths)).rstrip())
    for row in rows:
        print('  '.join(text.ljust(width) for text, width in zip(row, widths)).rstrip())

    # The bar: the best of the strongest fair baselines on the first figure.
    key, higher = metrics[0]
    present = [b for b in baselines if median(group, b, key) is not None]
    bars = []
    if present:
        best = (max if higher else min)(present, key=lambda b: median(group, b, key))
        bars.append(('strongest baseline', best))
    if floor is not None and median(group, floor, key) is not None:
        bars.append(('floor', floor))
    for impl in impls[group]:
        if not impl.startswith('asyncgui') or impl == 'asyncgui-build':
            continue
        for what, bar in bars:
            ratios = []
            for key, higher in metrics:
                mine, theirs = median(group, impl, key), median(group, bar, key)
                if mine is None or not theirs:
                    continue
                ratios.append('%s %.2fx' % (key, mine / theirs))
            if ratios:
                print('  %s / %s %s: %s' % (impl, what, bar, ', '.join(ratios)))
    if any(higher for _, higher in metrics):
        print('  (%s: higher is better; the rest: lower is better)'
              % ', '.join(key for key, higher in metrics if higher))

# Growth: what each extra item costs between consecutive sizes (the fixed
# costs cancel out), from the medians; 1.00 is linear.
def sizes_of(workload):
    return sorted(n for w, n in impls if w == workload)


for workload, key, unit, scale in (('flood-multi', 'wall_ms', 'us/item', 1000.0),
                                   ('flood-tasks', 'wall_ms', 'us/item', 1000.0),
                                   ('memory', 'rss_mb', 'bytes per extra item', 1024.0 * 1024.0)):
    sizes = sizes_of(workload)
    if len(sizes) < 2:
        continue
    _, baselines, _ = SPEC[workload]
    print()
    print('growth of %s (%s between consecutive sizes%s):'
          % (workload, unit, '; time exponent, 1.00 is linear' if key == 'wall_ms' else ''))
    names = []
    for n in sizes:
        names += [impl for impl in impls[(workload, n)] if impl not in names]
    per_item = {}
    for impl in names:
        parts = []
        for n1, n2 in zip(sizes, sizes[1:]):
            y1, y2 = median((workload, n1), impl, key), median((workload, n2), impl, key)
            if y1 is None or y2 is None:
                continue
            extra = (y2 - y1) * scale / (n2 - n1)
            per_item[(impl, n2)] = extra
            part = '%d..%d: %s' % (n1, n2, number(extra, key))
            if key == 'wall_ms' and y1 > 0 and y2 > 0:
                part += ' (exponent %.2f)' % (math.log(y2 / y1) / math.log(n2 / n1))
            parts.append(part)
        print('  %-12s %s' % (impl, ', '.join(parts)))
    for n in sizes[1:]:
        theirs = [per_item[(b, n)] for b in baselines if per_item.get((b, n), 0) > 0]
        if theirs and per_item.get(('asyncgui', n)) is not None:
            print('  asyncgui / best baseline up to n=%d: %.2fx'
                  % (n, per_item[('asyncgui', n)] / min(theirs)))

other = sorted(group for group in impls if group[0] not in SPEC)
for group in other:
    print()
    print('%s n=%d: %s' % (group[0], group[1], ', '.join(impls[group])))

print()
print('raw lines: %s' % results_path)
EOF
exit $status
