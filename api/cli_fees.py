"""`onewindow fees reconcile --date D [--department X]`: a day's fee reconciliation per body
(对账), as CSV (UTF-8 with BOM, for Excel) or JSON, to stdout or a file."""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from api.cli_common import acting_as, fail
from api.runtime import runtime
from api.schemas.fees import ReconciliationSchema
from engine.services import fees
from engine.errors import DomainError


@click.group("fees", help="One-window fee payment (一窗缴费): reconciliation.")
def fees_group() -> None:
    pass


@fees_group.command("reconcile", help="A day's fees per body: collected, refunded, waived (Beijing calendar day).")
@click.option("--date", "day", required=True, help="the day, YYYY-MM-DD")
@click.option("--department", default=None, help="one body's code (default: every body)")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--output", "-o", default=None, help="write to this file instead of stdout")
@click.option("--as", "as_user", default=None, help="act as this user (default: the system, all bodies)")
@with_appcontext
def fees_reconcile(day: str, department: str | None, fmt: str, output: str | None, as_user: str | None) -> None:
    try:
        wanted = date.fromisoformat(day)
    except ValueError:
        click.echo(f"error: --date {day!r} is not a date (YYYY-MM-DD)", err=True)
        sys.exit(2)
    actor = acting_as(as_user)
    try:
        with runtime().unit_of_work(write=False) as uow:
            found = fees.reconciliation(uow, actor, wanted, department)
    except DomainError as error:
        fail(error)
    if fmt == "csv":
        data = fees.reconciliation_csv(found)
    else:
        data = (json.dumps(ReconciliationSchema().dump(found), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if output:
        Path(output).write_bytes(data)
        click.echo(f"{len(found.rows)} rows, {len(found.totals)} bodies → {output}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
