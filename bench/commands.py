"""What one write command costs in-process: statements by kind and CPU time per start and completion.

    .venv/bin/python -m bench.commands --db postgresql [--items 16] [--repeats 20]

Runs on a fresh throw-away database (as `python -m bench`): deploys the bench process, starts
three warm-up cases, then counts the statements of one `start_case` (with `--items` items) and
one `complete_task` (a SQLAlchemy `before_cursor_execute` listener), and times `--repeats`
starts and 4 completions per case with `time.process_time` (CPU: survives a shared machine's
noise better than wall time) and the cyclic collector's collections. docs/bench.md keeps the
figures ("the fixed cost of one write command").
"""
from __future__ import annotations

import argparse
import gc
import os
import re
import statistics
import sys
import time
from collections import Counter
from typing import Any

from bench import __main__ as bench_main
from bench import inproc


def statement_kind(sql: str) -> str:
    """`SELECT tasks`, `INSERT events`...: the verb and the first table."""
    text = " ".join(sql.split())
    verb = text.split(" ", 1)[0].upper()
    pattern = {"SELECT": r"\bFROM (\w+)", "INSERT": r"INTO (\w+)", "UPDATE": r"UPDATE (\w+)",
               "DELETE": r"FROM (\w+)"}.get(verb)
    match = re.search(pattern, text) if pattern else None
    return f"{verb} {match.group(1)}" if match else verb


class Statements:
    """The statements every engine sends while `recording` (one executemany counts once)."""

    def __init__(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        self.kinds: list[str] = []
        self.recording = False
        event.listen(Engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        if self.recording:
            self.kinds.append(statement_kind(statement))

    def count(self, action: Any) -> Counter:
        self.kinds, self.recording = [], True
        try:
            action()
        finally:
            self.recording = False
        return Counter(self.kinds)


def measure(runtime: Any, items: int, repeats: int, log: Any = print) -> dict[str, Any]:
    ours = inproc.Ours(runtime)
    statements = Statements()
    for i in range(3):  # caches warm (specs, organisation, calendar)
        case_id = ours.start(items, f"warm-{i}-{time.time_ns()}")
        for task_id in ours.open_task_ids(case_id)[:2]:
            ours.complete(task_id)
    started: list[str] = []
    start = statements.count(lambda: started.append(ours.start(items, f"count-{time.time_ns()}")))
    task_ids = ours.open_task_ids(started[0])
    ours.complete(task_ids[0])
    complete = statements.count(lambda: ours.complete(task_ids[1]))
    collections = [0, 0.0, 0.0]

    def collected(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            collections[2] = time.process_time()
        else:
            collections[0] += 1
            collections[1] += time.process_time() - collections[2]

    gc.callbacks.append(collected)
    start_cpu, complete_cpu = [], []
    try:
        for r in range(repeats):
            t0 = time.process_time()
            case_id = ours.start(items, f"cpu-{r}-{time.time_ns()}")
            start_cpu.append(time.process_time() - t0)
            for task_id in ours.open_task_ids(case_id)[:4]:
                t0 = time.process_time()
                ours.complete(task_id)
                complete_cpu.append(time.process_time() - t0)
    finally:
        gc.callbacks.remove(collected)
    result = {
        "items": items, "db_kind": runtime.database.kind,
        "start_statements": sum(start.values()), "start_by_kind": dict(start.most_common()),
        "complete_statements": sum(complete.values()), "complete_by_kind": dict(complete.most_common()),
        "start_cpu_ms": round(1000 * statistics.median(start_cpu), 2),
        "complete_cpu_ms": round(1000 * statistics.median(complete_cpu), 2),
        "gc_collections": collections[0], "gc_cpu_ms": round(1000 * collections[1], 1),
        "commands_timed": len(start_cpu) + len(complete_cpu),
    }
    log(f"{result['db_kind']}, {items} items: start {result['start_statements']} statements "
        f"{result['start_by_kind']}")
    log(f"  complete {result['complete_statements']} statements {result['complete_by_kind']}")
    log(f"  CPU median: start {result['start_cpu_ms']} ms, complete {result['complete_cpu_ms']} ms; "
        f"gc {result['gc_collections']} collections, {result['gc_cpu_ms']} ms over {result['commands_timed']} commands")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.commands", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--items", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    from engine.adapters.migrate import upgrade
    from engine.config import Settings
    from engine.runtime import Runtime
    with bench_main.database(args.db, args.pg_url) as url:
        upgrade(url)
        runtime = Runtime(Settings(database_url=url))
        try:
            measure(runtime, args.items, args.repeats)
        finally:
            runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
