#!/usr/bin/env bash
# Fuzz the worker frame decoder (tests/fuzz/fuzz-frame-reader.c) for a
# bounded time: builds with clang in build-fuzz/ (the fuzzer target is only
# built by clang with -fsanitize=fuzzer; it adds AddressSanitizer and UBSan
# itself), then runs it on the seed corpus.
#
# Usage: bash build-aux/run-fuzz.sh [SECONDS] [LIBFUZZER-OPTION...]
#   SECONDS defaults to 60 (or $AG_FUZZ_SECONDS).
# New interesting inputs go to build-fuzz/fuzz-corpus/ (the seeds in
# tests/fuzz/corpus/ are only read); a crashing input is written to
# build-fuzz/fuzz-artifacts/ and the script exits non-zero.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${1:-${AG_FUZZ_SECONDS:-60}}"
shift || true
build_dir="${AG_FUZZ_BUILD_DIR:-build-fuzz}"

if ! command -v clang >/dev/null; then
  echo "run-fuzz.sh: clang is needed for libFuzzer" >&2
  exit 2
fi

if [ ! -f "$build_dir/build.ninja" ]; then
  CC=clang meson setup "$build_dir" \
    -Dintrospection=disabled -Dexamples=disabled -Ddocs=disabled >/dev/null
fi
ninja -C "$build_dir" tests/fuzz/fuzz-frame-reader

fuzzer="$build_dir/tests/fuzz/fuzz-frame-reader"
if [ ! -x "$fuzzer" ]; then
  echo "run-fuzz.sh: $fuzzer was not built (is -fsanitize=fuzzer supported?)" >&2
  exit 2
fi

mkdir -p "$build_dir/fuzz-corpus" "$build_dir/fuzz-artifacts"

# -rss_limit_mb: a frame may claim up to 64 MiB, so the reader may buffer
# that much per reader; anything far above is a bug. -timeout: one input
# taking seconds is a bug too (a quadratic GVariant check, say).
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
  "$fuzzer" \
    -max_total_time="$seconds" \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -max_len=65536 \
    -print_final_stats=1 \
    -artifact_prefix="$build_dir/fuzz-artifacts/" \
    "$@" \
    "$build_dir/fuzz-corpus" tests/fuzz/corpus
