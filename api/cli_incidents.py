"""The operator's repair commands: `onewindow incidents list`, `onewindow cases retry|variables|move`.

Operators act as the system (an admin) unless `--as USER` names a user; the rules are the API's.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from api.cli_common import acting_as, fail
from api.runtime import runtime
from api.schemas.incidents import IncidentSchema
from api.schemas.tasks import dump_tasks
from engine.errors import DomainError
from engine.services import incidents
from engine.services import repair

BEIJING = timezone(timedelta(hours=8))


def _when(moment: datetime | None) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else "-"


def _incident_json(incident: Any) -> dict[str, Any]:
    return IncidentSchema().dump(incident)


@click.group("incidents", help="Failed steps of cases that wait for an operator (retry, variables, move).")
def incidents_group() -> None:
    pass


@incidents_group.command("list", help="Incidents, newest first: case, element, error, when, how often retried.")
@click.option("--state", type=click.Choice(["open", "resolved", "all"]), default="open", show_default=True)
@click.option("--process", "process_key", default=None, help="a process key")
@click.option("--element", "element_id", default=None, help="a BPMN element id")
@click.option("--department", default=None)
@click.option("--case", "case_id", default=None)
@click.option("--since", default=None, help="ISO 8601 date or instant (no offset: Beijing time)")
@click.option("--page", default=1, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--per-page", default=50, show_default=True, type=click.IntRange(1, 200))
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
@click.option("--as", "as_user", default=None)
@with_appcontext
def incidents_list(state: str, process_key: str | None, element_id: str | None, department: str | None,
                   case_id: str | None, since: str | None, page: int, per_page: int, as_json: bool,
                   as_user: str | None) -> None:
    actor = acting_as(as_user)
    moment = None
    if since:
        try:
            moment = datetime.fromisoformat(since)
        except ValueError:
            click.echo(f"error: --since {since!r} is not an ISO 8601 date or instant", err=True)
            sys.exit(1)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)
    try:
        with runtime().unit_of_work(write=False) as uow:
            found = incidents.list_incidents(uow, actor, state=state, process_key=process_key,
                                             element_id=element_id, department=department, since=moment,
                                             case_id=case_id, page=page, per_page=per_page)
    except DomainError as error:
        fail(error)
    if as_json:
        click.echo(json.dumps({"items": [_incident_json(i) for i in found.items], "total": found.total,
                               "page": found.page, "per_page": found.per_page}, ensure_ascii=False, indent=2))
        return
    if not found.items:
        click.echo(f"no {'' if state == 'all' else state + ' '}incidents")
        return
    for i in found.items:
        status = i.state if i.state == "open" else f"{i.resolution}"
        click.echo(f"#{i.id:<5} {i.case_id}  {i.business_key:<26} {i.element_id or '-':<20} {_when(i.created_at)}  "
                   f"retried {i.retries}x  {status:<9} {i.message}")
    if found.total > page * per_page:
        click.echo(f"... {found.total} in all; --page {page + 1} for more")


def _print_repaired(result: Any) -> None:
    click.echo(json.dumps({
        "id": result.case.id, "status": result.case.status, "error": result.case.error,
        "open_tasks": [{"id": t["id"], "element_id": t["element_id"], "name": t["name"],
                        "department": t["department"]} for t in dump_tasks(result.open_tasks)],
        "incidents": [_incident_json(i) for i in result.incidents]}, ensure_ascii=False, indent=2))


@click.command("retry", help="Re-run the failed steps of case ID after their cause was fixed "
                             "(exit 1 when one fails again).")
@click.argument("case_id")
@click.option("--reason", default="", help="why, for the history")
@click.option("--as", "as_user", default=None)
@with_appcontext
def cases_retry(case_id: str, reason: str, as_user: str | None) -> None:
    actor = acting_as(as_user)
    try:
        result = repair.retry_case(runtime().unit_of_work(), actor, case_id, reason)
        _print_repaired(result)
    except DomainError as error:
        fail(error)
    if result.incidents:
        click.echo(f"error: {len(result.incidents)} incident(s) still open: "
                   + "; ".join(f"{i.element_id}: {i.message}" for i in result.incidents), err=True)
        sys.exit(1)


def _value(pair: str, option: str) -> tuple[str, Any]:
    name, sep, text = pair.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{pair!r} is not name=value", param_hint=option)
    try:
        return name, json.loads(text)
    except json.JSONDecodeError as error:
        if text[:1] in ("{", "[", '"'):
            raise click.BadParameter(f"{name}: not valid JSON ({error})", param_hint=option) from None
        return name, text  # a bare word is a string: --set name=张三


def _patch_from(file: str | None, sets: tuple[str, ...], deletes: tuple[str, ...]) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    if file:
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
            loaded = json.loads(text)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise click.BadParameter(f"{file}: {error}", param_hint="--file") from None
        if not isinstance(loaded, dict):
            raise click.BadParameter(f"{file}: a JSON object (a merge patch) is required", param_hint="--file")
        patch.update(loaded)
    for pair in sets:
        name, value = _value(pair, "--set")
        patch[name] = value
    for name in deletes:
        patch[name] = None
    if not patch:
        raise click.UsageError("nothing to change: give --set NAME=JSON, --delete NAME or --file FILE")
    return patch


@click.command("variables", help="Change the variables of case ID (a JSON merge patch; null deletes).")
@click.argument("case_id")
@click.option("--set", "sets", multiple=True, metavar="NAME=JSON",
              help="set a variable (JSON; a bare word is a string); an object merges into an object")
@click.option("--delete", "deletes", multiple=True, metavar="NAME", help="delete a variable")
@click.option("--file", "file", default=None, help="a JSON merge patch from FILE, or - for stdin")
@click.option("--task", "task_id", default=None, help="change only this task's own variables (a multi-instance item)")
@click.option("--as", "as_user", default=None)
@with_appcontext
def cases_variables(case_id: str, sets: tuple[str, ...], deletes: tuple[str, ...], file: str | None,
                    task_id: str | None, as_user: str | None) -> None:
    actor = acting_as(as_user)
    patch = _patch_from(file, sets, deletes)
    try:
        case, before, after = repair.patch_variables(runtime().unit_of_work(), actor, case_id, patch, task_id=task_id)
    except DomainError as error:
        fail(error)
    click.echo(json.dumps({"case_id": case.id, "task_id": task_id, "before": before, "after": after},
                          ensure_ascii=False, indent=2, default=str))


@click.command("move", help="Cancel the token(s) of case ID at element --from and start one at --to.")
@click.argument("case_id")
@click.option("--from", "source", required=True, help="the element whose token(s) are cancelled")
@click.option("--to", "target", required=True, help="the element where a new token starts")
@click.option("--reason", default="", help="why, for the history")
@click.option("--as", "as_user", default=None)
@with_appcontext
def cases_move(case_id: str, source: str, target: str, reason: str, as_user: str | None) -> None:
    actor = acting_as(as_user)
    try:
        result = repair.move_token(runtime().unit_of_work(), actor, case_id, source, target, reason)
        _print_repaired(result)
    except DomainError as error:
        fail(error)


REPAIR_COMMANDS = [cases_retry, cases_variables, cases_move]
