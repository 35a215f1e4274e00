"""`onewindow stats departments|savings|years|rebuild`: the supervision figures (issue 14) from the
command line, as the API computes them (same scope rules; operators act as the system unless `--as`)."""
from __future__ import annotations

import csv
import json
import sys
from datetime import date
from typing import Any

import click
from flask.cli import with_appcontext

from api.cli_common import acting_as, fail
from api.runtime import runtime
from engine.services import statistics, statistics_upkeep
from engine.errors import DomainError


def _emit(report: dict[str, Any], table: tuple[list[str], list[list[Any]]], fmt: str) -> None:
    """JSON, CSV (UTF-8 with a BOM, for spreadsheets) or an aligned text table."""
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return
    header, rows = table
    if fmt == "csv":
        sys.stdout.write("\ufeff")
        writer = csv.writer(sys.stdout)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
        return
    cells = [header] + [["-" if v is None else str(v) for v in row] for row in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(header))]
    for row in cells:
        click.echo("  ".join(v + " " * (w - _width(v)) for v, w in zip(row, widths)).rstrip())


def _width(text: str) -> int:
    """Display width: a Chinese character takes two columns in a terminal."""
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def _run(compute: Any, as_user: str | None) -> Any:
    actor = acting_as(as_user)
    try:
        with runtime().unit_of_work(write=False) as uow:
            return compute(uow, actor)
    except DomainError as error:
        fail(error)


_FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
                       show_default=True, help="csv: UTF-8 with a BOM (Excel opens the Chinese)")
_AS = click.option("--as", "as_user", default=None, help="compute as this user (their scope)")
_REGION = click.option("--region", default=None, help="region code, division code or name (default: all)")


@click.group("stats", help="Supervision figures: department performance, savings, yearly figures.")
def stats_group() -> None:
    pass


@stats_group.command("departments", help="Per body: received, decided, working days used, on time, overdue, "
                                         "escalations, deemed consents, questions answered within 24 h.")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), default=None, help="first day (default 1 Jan)")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), default=None, help="last day (default today)")
@_REGION
@click.option("--level", type=click.Choice(["province", "city", "county"]), default=None)
@click.option("--no-lower", is_flag=True, help="the region's own bodies only, not those of the regions below")
@_FORMAT
@_AS
@with_appcontext
def stats_departments(first: Any, last: Any, region: str | None, level: str | None, no_lower: bool, fmt: str,
                      as_user: str | None) -> None:
    report = _run(lambda uow, actor: statistics.department_performance(
        uow, actor, first=_day(first), last=_day(last), region=region, lower=not no_lower, level=level), as_user)
    _emit(report, statistics.department_table(report), fmt)


@stats_group.command("savings", help="The time parallel approval saved over the cases closed (办结) in a period.")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), default=None)
@_REGION
@_FORMAT
@_AS
@with_appcontext
def stats_savings(first: Any, last: Any, region: str | None, fmt: str, as_user: str | None) -> None:
    report = _run(lambda uow, actor: statistics.savings(uow, actor, first=_day(first), last=_day(last),
                                                        region=region), as_user)
    if fmt == "table" and report["headline"]:
        click.echo(f"{report['headline']}  ({report['cases']} 个项目办结, 实际 {report['elapsed_days']} 工作日, "
                   f"串联实际 {report['serial_actual_days']}, 串联时限 {report['serial_limit_days']})")
    _emit(report, statistics.savings_table(report), fmt)


@stats_group.command("years", help="Per year: projects accepted and closed, investment, median days to 办结, "
                                   "items by stage, share with phased submission.")
@_REGION
@click.option("--from-year", type=int, default=None)
@click.option("--to-year", type=int, default=None)
@click.option("--by-region", is_flag=True, help="one row per year and region")
@_FORMAT
@_AS
@with_appcontext
def stats_years(region: str | None, from_year: int | None, to_year: int | None, by_region: bool, fmt: str,
                as_user: str | None) -> None:
    report = _run(lambda uow, actor: statistics.years(uow, actor, region=region, first=from_year, last=to_year,
                                                      by_region=by_region), as_user)
    _emit(report, statistics.years_table(report), fmt)


@stats_group.command("rebuild", help="Recompute every summary row from the task rows (after upgrading to the "
                                     "statistics migration, or after repairing data by hand).")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="cases per transaction")
@with_appcontext
def stats_rebuild(batch: int) -> None:
    with runtime().unit_of_work(write=False) as uow:
        ids = statistics_upkeep.all_case_ids(uow)
    items = 0
    # Progress on a terminal only, like `onewindow migrate`: a rebuild of a large database takes
    # minutes, while piped or scripted output stays the one summary line.
    with click.progressbar(length=len(ids), label="rebuilding statistics", show_pos=True, file=sys.stderr,
                           hidden=not sys.stderr.isatty()) as bar:
        for start in range(0, len(ids), batch):
            chunk = ids[start:start + batch]
            items += statistics_upkeep.rebuild(runtime().unit_of_work(), chunk)["items"]  # one transaction a batch
            bar.update(len(chunk))
    click.echo(f"rebuilt the statistics of {len(ids)} cases ({items} items)")


def _day(value: Any) -> date | None:
    return value.date() if value is not None else None
