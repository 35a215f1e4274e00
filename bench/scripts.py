"""`python -m bench.scripts [--quick]`: what the script sandbox (engine/adapters/sandbox.py) costs per call.

Median wall time of one call, in-process (the AST allow-list alone, `_execute_here`) against
sandboxed (`expressions.execute`: a round trip to the pre-started host process), for a few
sizes of the data the script names; plus expressions (simple ones stay in-process) and the
start of a host. Prints a Markdown table for docs/bench.md.
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

from engine.domain import expressions
from engine.adapters import sandbox


def median_us(call: Callable[[], Any], rounds: int, idle: float = 0.0) -> float:
    """Median of `rounds` calls; `idle` seconds between calls (as between a server's requests:
    the host sleeps and must be woken, which a tight loop never measures)."""
    call()  # warm: compile caches, the host
    times = []
    for _ in range(rounds):
        if idle:
            time.sleep(idle)
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def items(n: int) -> list[dict[str, Any]]:
    return [{"department": f"county.d{i % 16}", "name": f"审批事项 {i}", "status": "pending",
             "fee": i * 1.5, "materials": ["申请表", "营业执照"]} for i in range(n)]


SCRIPT = ("total = 0\nfor item in items:\n    total += item['fee']\n"
          "items[0]['status'] = 'checked'\ncount = len(items)\n")


def script_rows(rounds: int) -> list[tuple[str, float, float]]:
    rows = []
    for n in (1, 10, 100, 1000):  # the script is idempotent: the same data serves every round
        data = {"items": items(n), "decision": "approve"}
        size = len(sandbox.Encoder().encode(data["items"]))
        here = median_us(lambda: expressions._execute_here(SCRIPT, data), rounds)
        there = median_us(lambda: expressions.execute(SCRIPT, data), rounds)
        rows.append((f"script over {n} items ({size / 1024:.1f} KB named)", here, there))
    for n in (10, 1000):  # changes one dict in place each round: a patch comes back
        data = {"items": items(n)}
        script = "items[0]['seen'] = items[0].get('seen', 0) + 1"
        here = median_us(lambda: expressions._execute_here(script, data), rounds)
        there = median_us(lambda: expressions.execute(script, data), rounds)
        rows.append((f"`{script}`, {n} items", here, there))
    data = {"items": items(10), "decision": "approve"}
    here = median_us(lambda: expressions._execute_here(SCRIPT, data), rounds // 5, idle=0.02)
    there = median_us(lambda: expressions.execute(SCRIPT, data), rounds // 5, idle=0.02)
    rows.append(("script over 10 items, 20 ms idle before each call", here, there))
    big = {"items": items(1000), "x": 1}
    here = median_us(lambda: expressions._execute_here("y = x + 1", big), rounds)
    there = median_us(lambda: expressions.execute("y = x + 1", big), rounds)
    rows.append(("`y = x + 1`, 1000 items in task data not named", here, there))
    return rows


def expression_rows(rounds: int) -> list[tuple[str, float, float]]:
    data = {"decision": "approve", "items": items(100)}
    rows = []
    for source in ("decision == 'approve'", "any(i['status'] == 'refused' for i in items)"):
        here = median_us(lambda: expressions._evaluate_here(source, data), rounds)
        actual = median_us(lambda: expressions.evaluate(source, data), rounds)
        where = "in-process" if expressions.runs_in_process(source) else "sandboxed"
        rows.append((f"`{source}` ({where})", here, actual))
    return rows


def host_start_ms(rounds: int) -> float:
    times = []
    for _ in range(rounds):
        sandbox.shutdown()
        start = time.perf_counter()
        expressions.execute("x = 1", {})
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 50 if args.quick else 500
    print("| call | in-process (µs) | sandboxed (µs) | added (µs) |")
    print("|---|---:|---:|---:|")
    for label, here, there in script_rows(rounds) + expression_rows(rounds):
        print(f"| {label} | {here:.0f} | {there:.0f} | {there - here:+.0f} |")
    print()
    print(f"starting a host (first call of a process, or after a kill): {host_start_ms(5 if args.quick else 20):.0f} ms")


if __name__ == "__main__":
    main()
