#!/usr/bin/env bash
# Run the C suite under valgrind memcheck: invalid reads and writes, uses of
# uninitialised memory and definite leaks fail the test they happen in.
#
# Optional, and not part of CI: memcheck runs one thread at a time and each
# test several times slower (the suite takes a few minutes on two cores,
# longer on a loaded machine), and the AddressSanitizer job in .ci/run
# covers most of the same ground on every run. Worth running after changes
# to memory ownership, fibers or the worker protocol. Timing bounds in the
# tests scale themselves under it (ag_test_timing_factor()).
#
# Builds with gcc and no sanitizer in build-valgrind/ (memcheck and a
# sanitizer cannot share a process). GLib's own suppressions
# (/usr/share/glib-2.0/valgrind/glib.supp) are used when installed; with
# G_SLICE=always-malloc every GSlice block is a malloc block memcheck can
# track, and G_DEBUG=gc-friendly (set for every test) clears freed memory
# GLib still points at.
#
# Usage: bash build-aux/run-valgrind.sh [MESON-TEST-OPTION...]
#   e.g. bash build-aux/run-valgrind.sh test-channel
# Environment: AG_VALGRIND_BUILD_DIR (default: build-valgrind).
# Exits non-zero when the build fails or any test fails or has an error.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir="${AG_VALGRIND_BUILD_DIR:-build-valgrind}"

if ! command -v valgrind >/dev/null; then
  echo "run-valgrind.sh: valgrind is needed: bash build-aux/install-deps.sh valgrind" >&2
  exit 2
fi

if [ ! -f "$build_dir/build.ninja" ]; then
  meson setup "$build_dir" -Dintrospection=disabled -Dexamples=disabled -Ddocs=disabled
fi
meson compile -C "$build_dir"

suppressions=()
if [ -f /usr/share/glib-2.0/valgrind/glib.supp ]; then
  suppressions+=(--suppressions=/usr/share/glib-2.0/valgrind/glib.supp)
fi

# --errors-for-leak-kinds=definite: memory nothing points to any more is a
# leak; "possibly lost" blocks are GLib's type system and the thread
# stacks of worker threads that are still winding down at exit.
# --trace-children=no: the worker processes a test starts run as they are;
# --child-silent-after-fork: the copy of the test that GLib forks to start
# one holds every other thread's memory without the threads, which is no
# leak of the test's.
wrapper="valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite --show-leak-kinds=definite \
--num-callers=30 --trace-children=no --child-silent-after-fork=yes \
${suppressions[*]}"

G_SLICE=always-malloc G_DEBUG=gc-friendly \
  bash build-aux/with-display.sh \
    meson test -C "$build_dir" --suite c --print-errorlogs \
      --wrapper "$wrapper" --timeout-multiplier 20 "$@"
