#!/usr/bin/env bash
# Build asyncgui in build/ and run its whole test suite (C, Python and the
# demo's smoke tests), under Xvfb when there is no display.
#
# Usage: bash build-aux/run-tests.sh [MESON-TEST-OPTION...]
#   e.g. bash build-aux/run-tests.sh --suite c
# Environment: AG_BUILD_DIR (default: build), AG_SKIP_DEPS=1 to skip
#              installing packages.
# Exits non-zero when anything fails to build or any test fails.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/ensure-build.sh"

status=0
bash build-aux/with-display.sh \
  meson test -C "$build_dir" --print-errorlogs "$@" || status=$?

/usr/bin/python3 build-aux/test-summary.py "$build_dir" || true
exit "$status"
