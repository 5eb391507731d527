#!/usr/bin/env bash
# Build asyncgui and run the C demo, asyncgui-demo.
#
# With a display the window opens and waits for you to press Start. Without
# one (a server, CI) the demo runs headless under Xvfb with
#   --auto --screenshot build/demo.png
# prints its summary, and the picture of the window is left in build/.
#
# Usage: bash build-aux/run-demo.sh [DEMO-OPTION...]   (see asyncgui-demo --help)
# Environment: AG_BUILD_DIR (default: build), AG_HEADLESS=1 to force Xvfb,
#              AG_SKIP_DEPS=1 to skip installing packages.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/ensure-build.sh"

demo="$build_dir/examples/c/asyncgui-demo"
if [ ! -x "$demo" ]; then
  echo "run-demo: $demo was not built (is libgtk-4-dev installed, and -Dexamples=enabled?)" >&2
  exit 1
fi

if [ "${AG_HEADLESS:-0}" != 1 ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  echo "run-demo: starting $demo $*"
  exec "$demo" "$@"
fi

args=("$@")
if [ ${#args[@]} -eq 0 ]; then
  screenshot="$PWD/$build_dir/demo.png"
  rm -f "$screenshot"
  args=(--auto --screenshot "$screenshot")
fi

echo "run-demo: no display; running headless under Xvfb: $demo ${args[*]}"
status=0
bash build-aux/with-display.sh "$demo" "${args[@]}" || status=$?

if [ -n "${screenshot:-}" ] && [ -s "$screenshot" ]; then
  echo "run-demo: picture of the window: $screenshot"
fi
if [ "$status" -ne 0 ]; then
  echo "run-demo: the demo failed (exit status $status)" >&2
fi
exit "$status"
