"""Statistics over 10^5 closed cases and 2·10^6 task rows (issue 14; target: each answer < 1 s on
PostgreSQL).

`python -m bench.stats [--cases 100000] [--repeats 5] [--keep] [--url URL] [--out FILE.json]`

Builds a fresh PostgreSQL database (`--url` reuses one built with `--keep`): the shipped processes,
then `--cases` synthetic one_window_agency cases accepted on the working days of 2025 to August 2026
(`bench/stats_data.py`: a window intake, ten approval items in four stages, two body tasks each,
auxiliary batches, a closure; ~80 % closed), copied in with COPY; then `stats rebuild` computes
every summary row from the task rows exactly as the upkeep does (in batches of 2,000 cases), and
ANALYZE. Each figure is then asked `--repeats` times in-process (what the server spends, without
HTTP) and its median and worst wall time printed. Results: docs/bench.md.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
from datetime import date
from typing import Any

from bench.__main__ import database, machine

TASK_COLUMNS = ("id", "case_id", "element_id", "name", "kind", "lane", "department", "assignee", "state",
                "form_key", "item", "created_at", "completed_at", "completed_by", "data", "error", "time_limit",
                "due_at", "sla", "warn_at", "clock_started_at", "clock_stopped_at", "time_rules",
                "due_provisional_years", "prefill")
CASE_COLUMNS = ("id", "definition_id", "process_key", "process_version", "business_key", "open_key", "name",
                "status", "project", "started_by", "started_at", "updated_at", "ended_at", "stage", "error",
                "version", "state", "timed", "region")
JSON_COLUMNS = {"item", "data", "time_rules", "prefill", "project"}


def log(message: str) -> None:
    print(message, flush=True)


def _value(column: str, value: Any) -> Any:
    if column in JSON_COLUMNS and value is not None:
        return json.dumps(value, ensure_ascii=False)
    return value


def build(runtime: Any, count: int) -> dict[str, float]:
    from sqlalchemy import select, text

    from bench import stats_data
    from engine.domain.access import SYSTEM
    from engine.services.definitions import deploy_directory
    from engine.services import statistics_upkeep as upkeep
    from engine.adapters.models import Case, Definition

    timings: dict[str, float] = {}
    deploy_directory(runtime.unit_of_work, SYSTEM, runtime.settings.processes_dir)
    with runtime.unit_of_work(write=False) as uow:
        definition_id = uow.session.scalar(select(Definition.id).where(Definition.key == "one_window_agency"))
    begin = time.perf_counter()
    generated = stats_data.generate(count, (2025, 2026), seed=14, last=date(2026, 8, 31))
    timings["generate_s"] = round(time.perf_counter() - begin, 1)
    log(f"  generated {count} cases in {timings['generate_s']} s")
    begin = time.perf_counter()
    tasks = 0
    raw = runtime.database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for start in range(0, count, 5000):
            rows = [stats_data.rows(c, definition_id) for c in generated[start:start + 5000]]
            with cursor.copy(f"COPY cases ({', '.join(CASE_COLUMNS)}) FROM STDIN") as copy:
                for case_row, _ in rows:
                    copy.write_row([_value(c, case_row[c]) for c in CASE_COLUMNS])
            with cursor.copy(f"COPY tasks ({', '.join(TASK_COLUMNS)}) FROM STDIN") as copy:
                for _, task_rows in rows:
                    for row in task_rows:
                        copy.write_row([_value(c, row[c]) for c in TASK_COLUMNS])
                        tasks += 1
        raw.commit()
    finally:
        raw.close()
    timings["copy_s"] = round(time.perf_counter() - begin, 1)
    timings["task_rows"] = tasks
    log(f"  copied {count} cases and {tasks} task rows in {timings['copy_s']} s")
    with runtime.unit_of_work(write=False) as uow:
        ids = list(uow.session.scalars(select(Case.id).order_by(Case.id)))
    begin = time.perf_counter()
    items = 0
    for start in range(0, len(ids), 2000):
        with runtime.unit_of_work() as uow:
            items += upkeep.rebuild(uow, ids[start:start + 2000])["items"]
            uow.commit()
        if start % 20000 == 0:
            log(f"    rebuilt {start + 2000} cases ({time.perf_counter() - begin:.0f} s)")
    timings["rebuild_s"] = round(time.perf_counter() - begin, 1)
    timings["stat_items"] = items
    log(f"  rebuilt the summary rows ({items} items) in {timings['rebuild_s']} s")
    with runtime.database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return timings


def measure(runtime: Any, repeats: int) -> list[dict[str, Any]]:
    from engine.domain.access import SYSTEM, Actor
    from engine.services import statistics as service
    government = Actor("bench-gov", "government", "deyang.zf")
    cases: list[tuple[str, Any]] = [
        ("departments, 2025, all regions", lambda uow: service.department_performance(
            uow, SYSTEM, first=date(2025, 1, 1), last=date(2025, 12, 31))),
        ("departments, 2025-2026, all regions", lambda uow: service.department_performance(
            uow, SYSTEM, first=date(2025, 1, 1), last=date(2026, 12, 31))),
        ("departments, one month, 德阳市 (government)", lambda uow: service.department_performance(
            uow, government, first=date(2025, 6, 1), last=date(2025, 6, 30))),
        ("savings, 2025, all regions", lambda uow: service.savings(
            uow, SYSTEM, first=date(2025, 1, 1), last=date(2025, 12, 31))),
        ("savings, 2025-2026, by region", lambda uow: service.savings(
            uow, SYSTEM, first=date(2025, 1, 1), last=date(2026, 12, 31))),
        ("years, by region", lambda uow: service.years(uow, SYSTEM, by_region=True)),
        ("years, 德阳市 (government)", lambda uow: service.years(uow, government)),
    ]
    out = []
    for name, compute in cases:
        times = []
        for _ in range(repeats):
            begin = time.perf_counter()
            with runtime.unit_of_work(write=False) as uow:
                compute(uow)
            times.append((time.perf_counter() - begin) * 1000)
        out.append({"figure": name, "median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)})
        log(f"  {name:<45} median {out[-1]['median_ms']:>7} ms   worst {out[-1]['max_ms']:>7} ms")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stats")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--url", default=None, help="measure a database built before with --keep")
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    from engine.config import Settings
    from engine.runtime import Runtime
    from engine.adapters.migrate import upgrade

    @contextlib.contextmanager
    def kept(url: str):  # type: ignore[no-untyped-def]
        yield url

    if args.url:
        context = kept(args.url)
    elif args.keep:
        import uuid
        from sqlalchemy import create_engine, text
        name = f"ow_bench_stats_{uuid.uuid4().hex[:6]}"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        context = kept(args.pg.rsplit("/", 1)[0] + "/" + name)
    else:
        context = database("postgresql", args.pg)
    with context as url:
        runtime = Runtime(Settings(database_url=url))
        timings: dict[str, Any] = {}
        if not args.url:
            upgrade(url)
            log(f"building {args.cases} cases in {url}")
            timings = build(runtime, args.cases)
        log(f"measuring ({args.repeats} times each)")
        results = measure(runtime, args.repeats)
        report = {"machine": machine(runtime), "cases": args.cases, "build": timings, "figures": results,
                  "worst_ms": max(r["max_ms"] for r in results)}
        runtime.close()
    log(f"worst: {report['worst_ms']} ms (target < 1000); load average {report['machine']['load_average']}")
    if args.keep:
        log(f"kept: {url}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(report, handle, ensure_ascii=False, indent=2, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
