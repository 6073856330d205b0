"""How fast ``read_dsl`` reads a large DSL file, and how fast ``write_dsl`` writes it back.

Generates a workflow of about 2,000 lines (user tasks with properties, service tasks with a JSON
config, decisions with a jump back and a fall-through, FLOW lines), reads it several times and
prints the median times and the lines read per second. On a laptop reading takes about a tenth
of a second.

    python benchmarks/bench_dsl_parse.py [--lines 2000] [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from apg_workflow.formats.dsl import read_dsl, write_dsl

STEP = (
    '  USER_TASK review_{i} "Review {i}"\n'
    '    duration: "2h"\n'
    "    candidate_groups: [hr, it]\n"
    '  SERVICE_TASK call_{i} "Call {i}"\n'
    "    component: http.request\n"
    '    config: {{"url": "https://example.com/{i}", "retries": [1, 2]}}\n'
    '  DECISION check_{i} "OK {i}?":\n'
    '    WHEN feel "= ok" -> review_{i}\n'
    "    OTHERWISE\n"
    "  FLOW review_{i} -> check_{i}\n"
)
STEP_LINES = STEP.count("\n")


def generate(lines: int) -> str:
    """A DSL source of about ``lines`` lines."""
    steps = max(1, lines // STEP_LINES)
    return 'WORKFLOW big "Big"\n  START\n' + "".join(STEP.format(i=i) for i in range(steps)) + "  END\n"


def _median(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    text = generate(args.lines)
    count = text.count("\n")
    model = read_dsl(text)  # builds the parser once, as a long-running process would
    read = _median(args.runs, lambda: read_dsl(text))
    write = _median(args.runs, lambda: write_dsl(model))
    print(f"read  {count} lines: {read * 1000:.1f} ms median ({count / read:,.0f} lines/s)")
    print(f"write {len(model.main_process.nodes)} nodes: {write * 1000:.1f} ms median")


if __name__ == "__main__":
    main()
