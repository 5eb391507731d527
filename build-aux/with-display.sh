#!/usr/bin/env bash
# Run a command where GTK can open a window: as it is when there is a
# display, otherwise inside a private Xvfb server (xvfb-run -a picks a free
# display number, so parallel runs do not collide).
#
# Usage: bash build-aux/with-display.sh COMMAND [ARG...]
# Set AG_HEADLESS=1 to use Xvfb even when a display is there.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi

# No accessibility bus or dconf in a throw-away session: this only
# silences warnings that say nothing about the code under test.
export GTK_A11Y="${GTK_A11Y:-none}"
export NO_AT_BRIDGE="${NO_AT_BRIDGE:-1}"
export GSETTINGS_BACKEND="${GSETTINGS_BACKEND:-memory}"

if [ "${AG_HEADLESS:-0}" != 1 ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  exec "$@"
fi

unset WAYLAND_DISPLAY
export GDK_BACKEND=x11
# Xvfb has no GPU: GTK's GL renderer would run on llvmpipe, whose render
# threads take the CPU from the work being measured and make frame timing
# noisy. Cairo draws the same widgets cheaply in software.
export GSK_RENDERER="${GSK_RENDERER:-cairo}"
# xvfb-run's default screen is 8 bits deep; GTK wants true colour.
# -noreset: an X server resets when its last client goes, and a client that
# connects meanwhile cannot open the display; the test suite's GUI tests
# come and go by the hundred on one server.
exec xvfb-run -a -s "-screen 0 1280x1024x24 -nolisten tcp -noreset" "$@"
