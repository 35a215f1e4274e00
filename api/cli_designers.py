"""Commands for process designers and administrators of their files (issue 12):
`onewindow lint`, `onewindow definitions diff`, `onewindow migrate`, `onewindow departments alias`."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from api.cli_common import fail as _fail
from api.runtime import runtime
from engine.config import Settings
from engine.domain.access import SYSTEM
from engine.domain.forms import FormRegistry
from engine.domain.organisation import Organisation
from engine.errors import DomainError
from engine.services import case_migration
from engine.services import definition_diff
from engine.services import department_aliases
from engine.services import lint


# --------------------------------------------------------------------------- lint


@click.command("lint", help="Run every deploy check on BPMN (and DMN) FILES or directories, without a database. "
                            "Problems print as FILE:LINE:COL: element: message; exit status 1 when there is an "
                            "error (warnings alone: 0, unless --strict).")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--organisation", "organisation_file", type=click.Path(dir_okay=False), default=None,
              help="the organisation file whose departments and group aliases candidate groups must name "
                   "(default: ONEWINDOW_ORGANISATION, else the shipped processes/organisation.json)")
@click.option("--forms", "forms_dir", type=click.Path(file_okay=False), default=None,
              help="the forms directory form keys are looked up in (default: ./forms if there is one, "
                   "else the shipped forms)")
@click.option("--strict", is_flag=True, help="warnings (a form key naming no form) fail too")
def lint_command(paths: tuple[str, ...], output: str, organisation_file: str | None, forms_dir: str | None,
                 strict: bool) -> None:

    settings = Settings()
    try:
        organisation = Organisation.load(organisation_file or settings.organisation_file)
        forms_path = Path(forms_dir) if forms_dir else (Path("forms") if Path("forms").is_dir() else settings.forms_dir)
        forms = FormRegistry.load(forms_path)
    except DomainError as error:
        click.echo(f"error: {error.detail}", err=True)
        for where, messages in (error.errors or {}).items():
            for message in messages:
                click.echo(f"  {where}: {message}", err=True)
        sys.exit(2)
    problems = lint.lint_files(paths, organisation, forms)
    files = lint.count_files(paths)
    if output == "json":
        click.echo(json.dumps({"files": files, "problems": [p.as_dict() for p in problems],
                               "errors": sum(p.severity == "error" for p in problems),
                               "warnings": sum(p.severity == "warning" for p in problems)},
                              ensure_ascii=False, indent=2))
    else:
        for problem in problems:
            click.echo(str(problem))
        click.echo(lint.summary(problems, files), err=True)
    failing = [p for p in problems if p.severity == "error" or strict]
    sys.exit(1 if failing else 0)


# --------------------------------------------------------------------------- group aliases


def echo_aliases() -> None:
    """The aliases in force, under `departments list`."""
    with runtime().unit_of_work(write=False) as uow:
        aliases = department_aliases.list_aliases(uow)
    if aliases:
        click.echo("aliases (foreign candidate groups → department):")
        for alias in aliases:
            click.echo(f"  {alias['name']:<16} → {alias['department']:<16} {alias['name_zh'] or ''}")


@click.command("alias", help="Map a foreign candidate group NAME (as a modeler file names it, e.g. accounting) "
                             "to a department CODE, so such files deploy unmodified and their tasks go to that "
                             "department; --remove NAME takes it away. Records a new organisation version.")
@click.argument("name")
@click.argument("code", required=False)
@click.option("--remove", is_flag=True, help="remove the alias NAME")
@with_appcontext
def alias_command(name: str, code: str | None, remove: bool) -> None:
    if remove == bool(code):
        click.echo("error: give NAME CODE to add an alias, or --remove NAME", err=True)
        sys.exit(2)
    try:
        if remove:
            result = department_aliases.remove_alias(runtime().unit_of_work(), SYSTEM, name)
        else:
            result = department_aliases.set_alias(runtime().unit_of_work(), SYSTEM, name, code)
    except DomainError as error:
        _fail(error)
    if result["unchanged"]:
        click.echo(f"alias {name} → {result['department']} already in force (organisation v{result['version']})")
    elif remove:
        click.echo(f"alias {name} → {result['department']} removed (organisation v{result['version']})")
    else:
        click.echo(f"alias {name} → {result['department']} (organisation v{result['version']})")


# --------------------------------------------------------------------------- definitions diff


@click.group("definitions", help="Deployed process definitions.")
def definitions_group() -> None:
    pass


def _value(value: object) -> str:
    return "—" if value is None else str(value)


@definitions_group.command("diff", help="Elements added, removed and changed from version V1 to V2 of process KEY "
                                        "(type, name, candidate groups, conditions, timers, properties...).")
@click.argument("key")
@click.argument("v1", type=int)
@click.argument("v2", type=int)
@click.option("--json", "as_json", is_flag=True, help="print JSON (as GET /process-definitions/KEY/diff)")
@with_appcontext
def definitions_diff(key: str, v1: int, v2: int, as_json: bool) -> None:
    try:
        with runtime().unit_of_work(write=False) as uow:
            result = definition_diff.diff_versions(uow, key, v1, v2)
    except DomainError as error:
        _fail(error)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"{key}: version {v1} → {v2}: {len(result['added'])} added, {len(result['removed'])} removed, "
               f"{len(result['changed'])} changed")
    for element in result["added"]:
        click.echo(f"+ {element['type']} {element['id']}" + (f" \"{element['name']}\"" if element.get("name") else ""))
    for element in result["removed"]:
        click.echo(f"- {element['type']} {element['id']}" + (f" \"{element['name']}\"" if element.get("name") else ""))
    for element in result["changed"]:
        click.echo(f"~ {element['type']} {element['id']}" + (f" \"{element['name']}\"" if element.get("name") else ""))
        for change in element["changes"]:
            click.echo(f"    {change['field']}: {_value(change['from'])} → {_value(change['to'])}")


# --------------------------------------------------------------------------- migrate


@click.command("migrate", help="Move the open cases of process KEY from version --from to version --to. Elements "
                               "map by id; --map OLD=NEW for elements whose id changed (repeatable). --dry-run "
                               "lists per case whether it can move and why not; otherwise the cases move in "
                               "batches, each in its own transaction, with a progress bar. Exit status 3 when "
                               "some case cannot (or could not) move.")
@click.argument("key")
@click.option("--from", "from_version", type=int, required=True, help="the version the cases run now")
@click.option("--to", "to_version", type=int, required=True, help="the version to move them to")
@click.option("--map", "pairs", multiple=True, metavar="OLD=NEW", help="an element of --from and its counterpart")
@click.option("--dry-run", is_flag=True, help="only say which cases can move, and why not")
@click.option("--batch", default=50, show_default=True, type=click.IntRange(1, 500), help="cases per batch")
@click.option("--case", "case_ids", multiple=True, help="only this case (repeatable)")
@with_appcontext
def migrate_command(key: str, from_version: int, to_version: int, pairs: tuple[str, ...], dry_run: bool,
                    batch: int, case_ids: tuple[str, ...]) -> None:
    try:
        plan = case_migration.Plan(key, from_version, to_version, case_migration.parse_pairs(pairs))
        if dry_run:
            with runtime().unit_of_work(write=False) as uow:
                report = case_migration.dry_run(uow, SYSTEM, plan, list(case_ids) or None)
        else:
            migration = case_migration.start(runtime().unit_of_work(), SYSTEM, plan, batch, list(case_ids) or None)
            migration_id, total = migration.id, migration.total
    except DomainError as error:
        _fail(error)
    if dry_run:
        click.echo(f"{key} v{from_version} → v{to_version}: {report['can_migrate']} of {report['total']} open "
                   f"cases can move (dry run, nothing changed)")
        for case in report["cases"]:
            mark = "ok  " if case["can_migrate"] else "NO  "
            moves = ", ".join(f"{t['from']}→{t['to']}" if t["from"] != t["to"] else t["from"] for t in case["tokens"])
            click.echo(f"{mark}{case['case_id']}  {case['business_key']}  " +
                       (moves if case["can_migrate"] else "; ".join(case["reasons"])))
        sys.exit(0 if report["cannot_migrate"] == 0 else 3)
    started = time.monotonic()
    with click.progressbar(length=total, label=f"migration {migration_id}: {key} v{from_version} → v{to_version}",
                           show_pos=True, file=sys.stderr) as bar:
        while True:
            handled = case_migration.run_batch(runtime(), migration_id, batch)
            if not handled:
                break
            bar.update(handled)
    with runtime().unit_of_work(write=False) as uow:
        result = case_migration.progress(uow, SYSTEM, migration_id)
    click.echo(f"migration {migration_id}: {result['migrated']} migrated, {result['skipped']} skipped, "
               f"{result['failed']} failed of {result['total']} in {time.monotonic() - started:.1f} s")
    for case in result["cases"]:
        click.echo(f"  {case['status']:<8} {case['case_id']}  {case['reason']}")
    sys.exit(0 if not result["failed"] and not result["skipped"] else 3)


# --------------------------------------------------------------------------- organisation export


@click.command("export", help="Print the organisation document in force (with its group aliases), e.g. for "
                              "`onewindow lint --organisation`.")
@with_appcontext
def organisation_export() -> None:
    with runtime().unit_of_work(write=False) as uow:
        document, _source = department_aliases.document_in_force(uow)
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


DESIGNER_COMMANDS = [lint_command, definitions_group, migrate_command]
