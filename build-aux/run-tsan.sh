#!/usr/bin/env bash
# Build the C library and the C suite with clang and ThreadSanitizer in
# build-tsan/ and run the C suite there.
#
# Debian's GLib is not instrumented, so every test preloads
# tests/tsan/glib-tsan-shim.c, which tells TSan how GLib synchronises
# (mutexes, conditions, reference counts, main-context hand-offs, thread
# pools), and runs with G_SLICE=always-malloc (both set by
# tests/meson.build in a -Db_sanitize=thread build). What is left is
# reported; tests/tsan/tsan.supp may silence only races inside GLib itself,
# each with its reason.
#
# Usage: bash build-aux/run-tsan.sh [MESON-TEST-OPTION...]
#   e.g. bash build-aux/run-tsan.sh test-channel
# Environment: AG_TSAN_BUILD_DIR (default: build-tsan); TSAN_OPTIONS are
#              appended to the ones set here.
# Exits non-zero when the build fails, a test fails or TSan reports anything.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir="${AG_TSAN_BUILD_DIR:-build-tsan}"

if ! command -v clang >/dev/null; then
  echo "run-tsan.sh: clang is needed for ThreadSanitizer" >&2
  exit 2
fi

# b_lundef=false: the shared library leaves the TSan runtime's symbols to
# the executable, which clang's -shared link would otherwise reject.
if [ ! -f "$build_dir/build.ninja" ]; then
  CC=clang meson setup "$build_dir" \
    -Db_sanitize=thread -Db_lundef=false \
    -Dintrospection=disabled -Dexamples=disabled -Ddocs=disabled
fi
meson compile -C "$build_dir"

# halt_on_error: the first report ends the test program (exit code 66), so
# the test fails. second_deadlock_stack: a lock-order report shows where
# each of the two mutexes was taken. --timeout-multiplier: TSan runs the
# suite several times slower; each test still fails on its own deadline
# first.
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan/tsan.supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}" \
  bash build-aux/with-display.sh \
    meson test -C "$build_dir" --suite c --print-errorlogs --timeout-multiplier 4 "$@"
