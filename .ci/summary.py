"""Counts test results from meson's testlog.json files; prints the line CI reads."""
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                res = r.get("result")
                if res in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif res == "SKIP":
                    skipped += 1
                else:
                    failed += 1
    except FileNotFoundError:
        print(f"summary: {path} missing (that build failed)")
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
