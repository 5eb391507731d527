#!/bin/sh
# msgfmt-sparing-dev-null.sh: msgfmt, refusing to write its output to
# /dev/null
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# msgfmt 0.21 writes its output to a temporary file that it then renames
# over the target. With /dev/null as the target, run as root (as CI runs),
# that replaces the device with a regular file, which every later reader of
# /dev/null reads: a command task given no input then read the output of
# whatever last wrote to it. The suite's own msgfmt calls go through this.
#
# Usage: MSGFMT=PROG msgfmt-sparing-dev-null.sh ARGUMENTS...
previous=
for argument in "$@"; do
  case "$previous $argument" in
    *--output-file=/dev/null | "-o /dev/null" | "--output-file /dev/null")
      echo "msgfmt-sparing-dev-null.sh: asked to write /dev/null, which msgfmt would replace" >&2
      exit 1
      ;;
  esac
  previous=$argument
done
exec "$MSGFMT" "$@"
