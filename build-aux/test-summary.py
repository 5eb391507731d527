#!/usr/bin/python3
"""Print one closing line for a `meson test` run, read from its testlog.json:

    LABEL: N passed, N failed, N skipped (failed: NAME, ...)

Usage: test-summary.py BUILD_DIR [LABEL]
"""

import json
import os
import sys

PASSED = {"OK", "EXPECTEDFAIL"}
SKIPPED = {"SKIP"}


def main():
    build_dir = sys.argv[1]
    label = sys.argv[2] if len(sys.argv) > 2 else "tests"
    log = os.path.join(build_dir, "meson-logs", "testlog.json")
    passed = skipped = 0
    failed = []
    try:
        with open(log, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                entry = json.loads(line)
                result = entry.get("result")
                if result in PASSED:
                    passed += 1
                elif result in SKIPPED:
                    skipped += 1
                else:
                    failed.append(entry.get("name", "?"))
    except FileNotFoundError:
        print(f"{label}: no test log at {log}", file=sys.stderr)
        return 1
    names = f" (failed: {', '.join(failed)})" if failed else ""
    print(f"{label}: {passed} passed, {len(failed)} failed, {skipped} skipped{names}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
