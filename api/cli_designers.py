"""Commands for process designers and administrators of their files (issue 12):
`onewindow lint`, `onewindow definitions diff`, `onewindow migrate`, `onewindow departments alias`."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from api.runtime import runtime
from engine.errors import DomainError


def _fail(error: DomainError) -> None:
    from api.cli import _fail as fail
    fail(error)


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
    from engine.config import Settings
    from engine.forms import FormRegistry
    from engine.organisation import Organisation
    from engine.services import lint

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
    from engine.services import department_aliases
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
    from engine.access import SYSTEM
    from engine.services import department_aliases
    if remove == bool(code):
        click.echo("error: give NAME CODE to add an alias, or --remove NAME", err=True)
        sys.exit(2)
    try:
        with runtime().unit_of_work() as uow:
            if remove:
                result = department_aliases.remove_alias(uow, SYSTEM, name)
            else:
                result = department_aliases.set_alias(uow, SYSTEM, name, code)
            uow.commit()
    except DomainError as error:
        _fail(error)
    if result["unchanged"]:
        click.echo(f"alias {name} → {result['department']} already in force (organisation v{result['version']})")
    elif remove:
        click.echo(f"alias {name} → {result['department']} removed (organisation v{result['version']})")
    else:
        click.echo(f"alias {name} → {result['department']} (organisation v{result['version']})")


DESIGNER_COMMANDS = [lint_command]
