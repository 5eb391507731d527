#!/usr/bin/python3
"""Print one closing line for a `meson test` run, read from its testlog.json:

    LABEL: N passed, N failed, N skipped

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
    passed = failed = skipped = 0
    try:
        with open(log, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                result = json.loads(line).get("result")
                if result in PASSED:
                    passed += 1
                elif result in SKIPPED:
                    skipped += 1
                else:
                    failed += 1
    except FileNotFoundError:
        print(f"{label}: no test log at {log}", file=sys.stderr)
        return 1
    print(f"{label}: {passed} passed, {failed} failed, {skipped} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
