"""Write tests/durations.json (seconds per test file) from a JUnit report of a test run, e.g.

    scripts/test.sh --junitxml=/tmp/report.xml
    .venv/bin/python scripts/test_durations.py /tmp/report.xml

tests/conftest.py runs the longest files first, so that the test processes finish together.
"""

from __future__ import annotations

import collections
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "durations.json"


def main(report: str) -> None:
    seconds: dict[str, float] = collections.defaultdict(float)
    for case in ET.parse(report).iter("testcase"):
        parts = case.get("classname", "").split(".")
        end = next((i for i, part in enumerate(parts) if part.startswith("test_")), None)
        if end is not None:  # doctests are left out: seconds at most
            seconds["/".join(parts[: end + 1]) + ".py"] += float(case.get("time", 0))
    longest = sorted(seconds.items(), key=lambda kv: -kv[1])
    ordered = {name: round(value) for name, value in longest if value >= 1}
    OUT.write_text(json.dumps(ordered, indent=1) + "\n")
    print(f"{len(ordered)} files, {sum(ordered.values())} s -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
