"""Write tests/slow_tests.txt: the tests that take at least THRESHOLD seconds (setup, call
and teardown together), from the output of a timed run, so that the quick run (plain
`python -m pytest`) leaves them out and stays under two minutes. CI runs every test.

    python -m pytest -p no:cacheprovider --durations=0 > durations.txt   # the quick run
    python scripts/slow_tests.py durations.txt            # threshold 0.4 s

Tests already marked slow in their file are not in the quick run, and need no line here.
Tests already listed are not in the quick run either: they stay listed (``--fresh`` makes the
list from the timed run alone, for a run of every test with ``-m "slow or not slow"``).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

LIST = Path(__file__).resolve().parents[1] / "tests" / "slow_tests.txt"
LINE = re.compile(r"([\d.]+)s (?:call|setup|teardown)\s+(tests/\S+)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("durations", type=Path, help="output of pytest --durations=0")
    parser.add_argument("--threshold", type=float, default=0.4, help="seconds (0.4)")
    parser.add_argument("--fresh", action="store_true",
                        help="drop the tests listed before (the run timed every test)")
    args = parser.parse_args()
    listed = set() if args.fresh or not LIST.exists() else {
        line for line in LIST.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")}
    seconds: Counter[str] = Counter()
    for line in args.durations.read_text(encoding="utf-8").splitlines():
        if match := LINE.match(line):
            seconds[match.group(2)] += float(match.group(1))
    slow = sorted(listed | {test for test, total in seconds.items() if total >= args.threshold})
    LIST.write_text("# tests of the quick run's slowest, marked slow by tests/conftest.py; made "
                    "by scripts/slow_tests.py\n" + "".join(f"{test}\n" for test in slow),
                    encoding="utf-8")
    kept = sum(total for total in seconds.values() if total < args.threshold)
    print(f"{len(slow)} tests marked slow; the {len(seconds)} timed take {kept:.0f} s without "
          "those newly marked")


if __name__ == "__main__":
    main()
