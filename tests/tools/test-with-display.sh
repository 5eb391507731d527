#!/usr/bin/env bash
# test-with-display.sh: build-aux/with-display.sh keeps its X server alive
# between clients
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# An X server resets when its last client goes, unless told not to; a
# client that connects while it resets fails to open the display. The test
# suite's GUI tests come and go by the hundred on one server, so one of them
# now and then found no display and skipped. After a reset, what a client
# left on the root window is gone: a property set by one client, which then
# disconnects, must still be there for the next.
#
# Usage: test-with-display.sh WITH_DISPLAY_SCRIPT
set -euo pipefail

if ! command -v xprop >/dev/null; then
  echo "SKIP: xprop (x11-utils) is not installed" >&2
  exit 77
fi

AG_HEADLESS=1 bash "$1" bash -c '
  xprop -root -f AG_WITH_DISPLAY_PROBE 8s -set AG_WITH_DISPLAY_PROBE kept
  got="$(xprop -root AG_WITH_DISPLAY_PROBE)"
  echo "after the first client left: $got"
  [ "$got" = "AG_WITH_DISPLAY_PROBE(STRING) = \"kept\"" ]
'
