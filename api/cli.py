"""The operator command line: `onewindow db upgrade`, `deploy`, `serve`, `cases`, `tasks`, `users`."""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

import click
from flask import Flask
from flask.cli import ScriptInfo, with_appcontext
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from api.cli_common import acting_as as _actor, fail as _fail
from api.runtime import runtime
from api.schemas.regions import RegionTreeSchema
from engine import __version__
from engine.services import calendar_years
from engine.adapters import queries
from engine.adapters import organisation_versions as versions
from engine.adapters import sandbox
from engine.adapters.database import startup_lock
from engine.adapters.migrate import upgrade
from engine.adapters.models import Task
from engine.domain.access import SYSTEM, Actor
from engine.domain.states import TaskStatus
from engine.errors import Conflict, DomainError
from engine.services import batches, definitions, reference_data, users
from engine.services import cases as case_verbs
from engine.services.recompute import recompute_provisional
from engine.services.timers import Worker


def deploy_paths(paths: list[str], actor: Actor) -> list[definitions.Deployed]:
    """Deploy every BPMN file of `paths` as one deployment (all or none); none found, nothing done."""
    if not definitions.bpmn_files(paths):
        return []
    result = definitions.deploy_uploads(runtime().unit_of_work(), actor, definitions.uploads_of(paths))
    return [result]


@click.group("db", help="Database schema.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Apply migrations up to the newest.")
@with_appcontext
def db_upgrade() -> None:
    upgrade(runtime().settings.database_url)
    click.echo(f"database upgraded ({runtime().database.kind})")


def check_paths(paths: list[str], actor: Actor) -> list[definitions.Deployed]:
    """Deploy in one transaction that is never committed: every check, nothing stored."""
    return [definitions.deploy_uploads(runtime().unit_of_work(), actor, definitions.uploads_of(paths), dry_run=True)]


@click.command("deploy", help="Deploy BPMN files or directories of them, all as one deployment "
                              "(a call activity may call a process of another file; a directory's "
                              ".dmn files hold the decisions of its business rule tasks).")
@click.argument("paths", nargs=-1, required=True)
@click.option("--check", is_flag=True, help="run every check and say what would be deployed; store nothing")
@with_appcontext
def deploy_command(paths: tuple[str, ...], check: bool) -> None:
    if not definitions.bpmn_files(paths):
        click.echo(f"error: no .bpmn file in {', '.join(paths)}", err=True)
        sys.exit(1)
    try:
        for result in (check_paths if check else deploy_paths)(list(paths), SYSTEM):
            for d in result.definitions:
                state = ("would be deployed" if check else "deployed") if result.is_new(d) else "unchanged"
                click.echo(f"{d.key} v{d.version} {state} ({d.sha256[:12]})")
            for warning in result.warnings:
                click.echo(f"warning: {warning}", err=True)
    except DomainError as error:
        _fail(error)
    except OSError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)


def _deploy_shipped(rt) -> None:  # type: ignore[no-untyped-def]
    """Deploy processes/; servers started together on one database race to deploy the same
    files, and the loser of that race retries (its second try finds them deployed)."""

    for attempt in range(5):
        try:
            deploy_paths([str(rt.settings.processes_dir)], SYSTEM)
            return
        except Conflict as error:
            if attempt == 4:
                _fail(error)
            time.sleep(0.2 * (attempt + 1))
        except DomainError as error:
            _fail(error)


@click.command("serve", help="Serve the API with gunicorn (deploys processes/ first).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--with-worker/--no-worker", default=False, help="Also run the background timer worker.")
@with_appcontext
def serve_command(host: str, port: int, workers: int, with_worker: bool) -> None:
    rt = runtime()
    with startup_lock(rt.settings.database_url):  # servers starting together take turns
        upgrade(rt.settings.database_url)
        _deploy_shipped(rt)
        first_admin(rt)
    env = dict(os.environ, DATABASE_URL=rt.settings.database_url)
    click.echo(f"serving on http://{host}:{port} ({rt.database.kind}, {workers} workers"
               f"{', with the timer worker' if with_worker else ''})")
    click.echo(f"console (staff sign-in): http://{host}:{port}/console/")
    from api.server import serve  # lazy: gunicorn is loaded by this command only
    serve(host, port, workers, env, with_worker)


@click.group("users", help="API users and tokens.")
def users_group() -> None:
    pass


def _read_password() -> str:
    """A password from a hidden prompt (asked twice) or, when stdin is not a terminal, its first
    line: never from the command line, where `ps` and the shell history would keep it."""
    if sys.stdin.isatty():
        return click.prompt("password", hide_input=True, confirmation_prompt=True, err=True)
    line = sys.stdin.readline()
    return line[:-1] if line.endswith("\n") else line


@users_group.command("create", help="Create a user and print its API token (shown once). "
                                    "--password: also a console password, read from a prompt or stdin.")
@click.argument("name")
@click.option("--role", required=True)
@click.option("--department", default=None)
@click.option("--project", default=None, help="role enterprise: the project (code) it speaks for")
@click.option("--password", "with_password", is_flag=True,
              help="set a console password (prompted, or the first line of stdin; never an argument)")
@click.option("--as", "as_user", default=None, help="role enterprise: the project's agent creating it")
@with_appcontext
def users_create(name: str, role: str, department: str | None, project: str | None, with_password: bool,
                 as_user: str | None) -> None:
    if (role == "enterprise") != (project is not None):
        click.echo("error: --project goes with --role enterprise, and an enterprise user needs one", err=True)
        sys.exit(1)
    password = _read_password() if with_password else None
    if project is not None:
        token = create_enterprise_user(name, project, password, as_user)
        click.echo(token or f"{name} now also speaks for {project} (its token is unchanged)")
        return
    try:
        token = users.create_user(runtime().unit_of_work(), name, role, department, password=password)
    except DomainError as error:
        _fail(error)
    click.echo(token)


@users_group.command("passwd", help="Set a user's console password (prompted, or the first line of stdin); "
                                    "ends their console sessions and lifts a lock-out.")
@click.argument("name")
@with_appcontext
def users_passwd(name: str) -> None:
    password = _read_password()
    try:
        users.set_password(runtime().unit_of_work(), name, password)
    except DomainError as error:
        _fail(error)
    click.echo(f"password of {name} changed", err=True)


@users_group.command("list", help="List users: role, department, state.")
@with_appcontext
def users_list() -> None:
    with runtime().unit_of_work(write=False) as uow:
        rows = users.list_users(uow)
    now = runtime().clock()
    for u in rows:
        state = ("revoked" if u.revoked_at else
                 f"locked until {u.locked_until.isoformat(timespec='minutes')}"
                 if u.locked_until and u.locked_until > now else "active")
        console = "password" if u.password_hash else "token only"
        click.echo(f"{u.name:<20} {u.role:<10} {u.department or '-':<16} {state:<10} {console}")


@users_group.command("token", help="Issue a new API token for a user (printed once; the old one stops working).")
@click.argument("name")
@with_appcontext
def users_token(name: str) -> None:
    try:
        token = users.reissue_token(runtime().unit_of_work(), name)
    except DomainError as error:
        _fail(error)
    click.echo(token)


@users_group.command("revoke", help="Revoke a user: API token and console sign-in (sessions end now).")
@click.argument("name")
@with_appcontext
def users_revoke(name: str) -> None:
    try:
        users.revoke_user(runtime().unit_of_work(), name)
    except DomainError as error:
        _fail(error)
    click.echo(f"revoked {name}")


def first_admin(rt) -> None:  # type: ignore[no-untyped-def]
    """A fresh database gets `admin` with a random console password, printed once (as Jenkins does)."""

    try:
        password = users.ensure_first_admin(rt.unit_of_work())
    except (IntegrityError, Conflict):
        return  # another server started on the same fresh database created it a moment ago
    if password is not None:
        bar = "*" * 72
        click.echo(f"{bar}\nA console administrator was created: user `admin`, password:\n\n    {password}\n\n"
                   "It is shown only this once. Sign in at /console/ and change it with "
                   "`onewindow users passwd admin`.\n" + bar)


@click.group("cases", help="Start and inspect cases.")
def cases_group() -> None:
    pass


def _parse_vars(pairs: tuple[str, ...]) -> dict:
    variables = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not name=value", param_hint="--var")
        try:
            variables[name] = json.loads(value)
        except json.JSONDecodeError:
            variables[name] = value
    return variables


@cases_group.command("start", help="Start a case of process KEY for a project.")
@click.argument("key")
@click.option("--business-key", required=True)
@click.option("--var", "var", multiple=True, help="name=value (value parsed as JSON when it can be)")
@click.option("--as", "as_user", default=None)
@with_appcontext
def cases_start(key: str, business_key: str, var: tuple[str, ...], as_user: str | None) -> None:
    actor = _actor(as_user)
    try:
        started, tasks = case_verbs.start_listing_tasks(runtime().unit_of_work(), actor, key, business_key,
                                                        variables=_parse_vars(var))
    except DomainError as error:
        _fail(error)
    click.echo(json.dumps({"id": started.case.id, "created": started.created, "status": started.case.status,
                           "open_tasks": [{"id": t.id, "name": t.name, "department": t.department}
                                          for t in tasks if t.state == TaskStatus.READY]}, ensure_ascii=False, indent=2))


@cases_group.command("batch", help="Submit a batch of auxiliary items (分期报建) to case CASE_ID: "
                                    'JSON {"facility": ..., "items": [{"name", "department", "time_limit"}]}.')
@click.argument("case_id")
@click.option("--data", required=True, help="the batch as JSON, or @FILE to read it from a file")
@click.option("--as", "as_user", default=None)
@with_appcontext
def cases_batch(case_id: str, data: str, as_user: str | None) -> None:
    actor = _actor(as_user)
    try:
        text = Path(data[1:]).read_text(encoding="utf-8") if data.startswith("@") else data
        payload = json.loads(text)
    except (OSError, json.JSONDecodeError) as error:
        click.echo(f"error: --data is not JSON (or its file cannot be read): {error}", err=True)
        sys.exit(1)
    try:
        batch = batches.submit_batch(runtime().unit_of_work(), actor, case_id, payload)
        opened = [{"id": t.id, "name": t.name, "department": t.department} for t in batch.open_tasks]
    except DomainError as error:
        _fail(error)
    click.echo(json.dumps({"case": case_id, "batch": batch.number, "facility": batch.facility,
                           "open_tasks": opened}, ensure_ascii=False, indent=2))


@click.group("tasks", help="List and complete tasks.")
def tasks_group() -> None:
    pass


@tasks_group.command("list", help="Open tasks, by department or case; with --as, those the user may see "
                                    "(the API's rules, GET /tasks).")
@click.option("--department", default=None)
@click.option("--case", "case_id", default=None)
@click.option("--as", "as_user", default=None)
@with_appcontext
def tasks_list(department: str | None, case_id: str | None, as_user: str | None) -> None:
    actor = _actor(as_user)
    rows: list[Task] = []
    try:
        with runtime().unit_of_work(write=False) as uow:
            page = 1
            while True:
                found = queries.list_tasks(uow, actor, department=department, case_id=case_id,
                                           page=page, per_page=500)
                rows += found.items
                if page * found.per_page >= found.total:
                    break
                page += 1
    except DomainError as error:
        _fail(error)
    for t in rows:
        click.echo(f"{t.id}  {t.case_id[:8]}  {t.department or '-':20}  {t.name}")


@tasks_group.command("complete", help="Complete task ID as USER with JSON data.")
@click.argument("task_id")
@click.option("--as", "as_user", required=True)
@click.option("--data", default="{}")
@with_appcontext
def tasks_complete(task_id: str, as_user: str, data: str) -> None:
    actor = _actor(as_user)
    try:
        payload = json.loads(data)
    except json.JSONDecodeError as error:
        click.echo(f"error: --data is not JSON: {error}", err=True)
        sys.exit(1)
    try:
        row = case_verbs.complete_task(runtime().unit_of_work(), actor, task_id, payload)
    except DomainError as error:
        _fail(error)
    click.echo(f"completed {row.id} ({row.name})")


@click.group("calendar", help="The working-day calendar (versioned data in the database).")
def calendar_group() -> None:
    pass


@calendar_group.command("load", help="Load a year's calendar from a YearCalendar JSON FILE (new version).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "as_user", default=None)
@with_appcontext
def calendar_load(file: str, as_user: str | None) -> None:
    actor = _actor(as_user)
    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        click.echo(f"error: {file} is not JSON: {error}", err=True)
        sys.exit(1)
    try:
        row = calendar_years.load_year(runtime().unit_of_work(), data, actor.name)
    except DomainError as error:
        _fail(error)
    click.echo(f"calendar {row['year']} v{row['version']} loaded "
               f"({len(row['holidays'])} holidays, {len(row['workdays'])} adjusted working days)")
    done = row["recomputed"]
    if done["tasks_checked"] or done["escalations_changed"]:
        click.echo(f"recomputed {done['tasks_checked']} provisional due dates: {done['tasks_changed']} tasks "
                   f"changed in {done['cases']} cases ({done['escalations_changed']} escalation levels moved)")
    else:
        click.echo("no open due date was counted on it provisionally: nothing to recompute")


@calendar_group.command("show", help="Print a year's calendar in force as JSON.")
@click.argument("year", type=int)
@with_appcontext
def calendar_show(year: int) -> None:
    try:
        with runtime().unit_of_work(write=False) as uow:
            row = calendar_years.get_year(uow, year)
    except DomainError as error:
        _fail(error)
    click.echo(json.dumps({**row, "loaded_at": row["loaded_at"].isoformat()}, ensure_ascii=False, indent=2))


@calendar_group.command("due", help='Print when DURATION from FROM falls due, e.g. 2026-09-30T17:00+08:00 "5 working days".')
@click.argument("start", metavar="FROM")
@click.argument("duration")
@with_appcontext
def calendar_due(start: str, duration: str) -> None:
    try:
        moment = calendar_years.parse_instant(start)
        with runtime().unit_of_work(write=False) as uow:
            result = calendar_years.due(uow, moment, duration)
    except DomainError as error:
        _fail(error)
    provisional = result["provisional_years"]
    click.echo(result["due"].isoformat(timespec="minutes")
               + (f" (预计: provisional {', '.join(map(str, provisional))} calendar)" if provisional else ""))


@calendar_group.command("recompute", help="Recompute open due dates still marked provisional for a year that is "
                                           "now official (loading a year does this; for a date counted while it loaded).")
@click.option("--as", "as_user", default=None)
@with_appcontext
def calendar_recompute(as_user: str | None) -> None:
    actor = _actor(as_user)
    done = recompute_provisional(runtime().unit_of_work(), set(), actor.name)
    click.echo(f"recomputed {done['tasks_checked']} provisional due dates: {done['tasks_changed']} tasks "
               f"changed in {done['cases']} cases")


@calendar_group.command("list", help="List the years: official, provisional (no schedule yet) or missing.")
@with_appcontext
def calendar_list() -> None:
    with runtime().unit_of_work(write=False) as uow:
        years = calendar_years.list_years(uow)
    for year in years:
        loaded = (f" v{year['version']} loaded {year['loaded_at'].isoformat(timespec='minutes')} by "
                  f"{year['loaded_by']}" if year["version"] else "")
        click.echo(f"{year['year']}  {year['status']:<11}{loaded}  {year['source'] or ''}".rstrip())


@click.command("worker", help="Fire due BPMN timers, warning transitions, escalations and deemed consent.")
@click.option("--batch", default=50, show_default=True, type=int, help="jobs claimed per round")
@click.option("--lease", default=60.0, show_default=True, type=float, help="seconds a claim is held")
@click.option("--poll", default=1.0, show_default=True, type=float, help="seconds between empty rounds")
@click.option("--job-delay", default=0.0, type=float, help="seconds to pause between cases (throttle)")
@click.option("--once", is_flag=True, help="run until nothing is due, then exit")
@click.option("--name", default=None, help="worker name recorded on claims")
@with_appcontext
def worker_command(batch: int, lease: float, poll: float, job_delay: float, once: bool,
                   name: str | None) -> None:

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("onewindow").setLevel(logging.INFO)
    worker = Worker(runtime(), name=name, batch=batch, lease_seconds=lease, poll_seconds=poll,
                    job_delay=job_delay)
    def stop(*_: object) -> None:
        worker.stop()
        sandbox.interrupt()  # a running script is killed; its case's step runs again later

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"worker {worker.name} started ({runtime().database.kind})", err=True)
    try:
        worker.run(idle_exit=once)
    except KeyboardInterrupt:
        worker.stop()
    click.echo(f"worker {worker.name} stopped", err=True)


@click.group("departments", help="The government bodies (processes/organisation.json, or ONEWINDOW_ORGANISATION).")
def departments_group() -> None:
    pass


@departments_group.command("list", help="List bodies: code, level, region, Chinese and English names.")
@click.option("--level", type=click.Choice(["province", "city", "county"]), default=None)
@click.option("--region", default=None, help="one region's bodies: code, division code or name, e.g. 郫都区")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
@with_appcontext
def departments_list(level: str | None, region: str | None, as_json: bool) -> None:
    try:
        bodies = runtime().organisation.list(level=level, region=region)
    except DomainError as error:
        _fail(error)
    if as_json:
        click.echo(json.dumps([{"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en, "level": d.level,
                                "region": d.region, "parent": d.parent, "function": d.function,
                                "region_name": d.region_name} for d in bodies],
                              ensure_ascii=False, indent=2))
        return
    for d in bodies:
        click.echo(f"{d.code:<16} {d.level:<9} {d.region:<9} {d.name_zh}  ({d.name_en})")
    echo_aliases()


@click.group("regions", help="The regions (province → cities → counties) and their bodies.")
def regions_group() -> None:
    pass


@regions_group.command("list", help="The region tree: each region with its window, government and body count.")
@click.option("--region", default=None, help="only this subtree (code, division code or name)")
@click.option("--json", "as_json", is_flag=True, help="print the tree as JSON (as GET /api/v1/regions)")
@with_appcontext
def regions_list(region: str | None, as_json: bool) -> None:
    try:
        organisation = runtime().organisation
        tree = organisation.tree(region)
    except DomainError as error:
        _fail(error)
    if as_json:
        click.echo(json.dumps(RegionTreeSchema().dump({"version": organisation.version, "items": tree,
                                                       "default_region": organisation.default_region}),
                              ensure_ascii=False, indent=2))
        return
    version = f"v{organisation.version}" if organisation.version else "the file, not loaded"
    click.echo(f"organisation {version}; * = default region (cases of agents with no department)")

    def show(node: dict, depth: int) -> None:
        code = node["code"] + ("*" if node["code"] == organisation.default_region else "")
        click.echo(f"{'  ' * depth}{code:<{14 - 2 * depth}} {node['level']:<9} "
                   f"{node['division'] or '':<7} {node['full_name']}  window {node['window'].code}, "
                   f"government {node['government'].code}, {len(node['bodies'])} bodies")
        for child in node["children"]:
            show(child, depth + 1)
    for node in tree:
        show(node, 0)


@click.group("organisation", help="Check and load versions of the organisation file (regions and bodies).")
def organisation_group() -> None:
    pass


def _read_organisation(path: str | None) -> tuple[bytes, str]:
    file = Path(path) if path else Path(runtime().settings.organisation_file)
    try:
        return file.read_bytes(), file.name
    except OSError as error:
        click.echo(f"error: {file}: {error.strerror or error}", err=True)
        sys.exit(1)


def _changes_line(result: dict) -> str:
    labels = {"regions_added": "+regions", "regions_removed": "-regions", "departments_added": "+bodies",
              "departments_removed": "-bodies", "departments_changed": "~bodies",
              "aliases_added": "+aliases", "aliases_removed": "-aliases"}
    parts = [f"{labels[k]} {', '.join(v)}" for k, v in result["changes"].items() if v]
    return "; ".join(parts) or "no body or region added or removed"


@organisation_group.command("check", help="Validate FILE (default: the configured file) against the version in "
                                          "force; store nothing. Problems are printed as FILE:LINE: message.")
@click.argument("path", required=False)
@with_appcontext
def organisation_check(path: str | None) -> None:
    data, name = _read_organisation(path)
    try:
        with runtime().unit_of_work(write=False) as uow:
            result = versions.check(uow, data, name)
    except DomainError as error:
        _fail(error)
    state = "identical to the version in force" if result["unchanged"] else f"would be version {result['version']}"
    click.echo(f"{name}: ok, {result['regions']} regions, {result['departments']} bodies; {state}")
    if not result["unchanged"]:
        click.echo(f"  {_changes_line(result)}")


@organisation_group.command("load", help="Validate FILE (default: the configured file) and record it as a new "
                                         "version; running servers and workers use it from their next command.")
@click.argument("path", required=False)
@with_appcontext
def organisation_load(path: str | None) -> None:
    data, name = _read_organisation(path)
    try:
        result = reference_data.load_organisation(runtime().unit_of_work(), data, name, "system")
    except DomainError as error:
        _fail(error)
    if result["unchanged"]:
        click.echo(f"organisation v{result['version']} unchanged ({result['sha256'][:12]})")
        return
    click.echo(f"organisation v{result['version']} loaded from {name}: {result['regions']} regions, "
               f"{result['departments']} bodies ({result['sha256'][:12]})")
    click.echo(f"  {_changes_line(result)}")


@organisation_group.command("show", help="The version in force and every recorded version.")
@with_appcontext
def organisation_show() -> None:
    with runtime().unit_of_work(write=False) as uow:
        now, history = versions.in_force(uow), versions.versions(uow)
    version = f"v{now['version']}" if now["version"] else "the file (no version loaded yet)"
    click.echo(f"in force: {version}, {now['regions']} regions, {now['departments']} bodies, "
               f"default region {now['default_region']}")
    if now["file_differs"]:
        click.echo(f"  {now['file']} differs from it: `onewindow organisation load` to apply")
    for row in history:
        click.echo(f"v{row['version']}  {row['loaded_at'].isoformat(timespec='seconds')}  {row['loaded_by']:<12} "
                   f"{row['source'] or ''}  {row['sha256'][:12]}")


# --------------------------------------------------------------------------- incidents and repairs (issue 9 §2)
from api.cli_incidents import REPAIR_COMMANDS, incidents_group  # noqa: E402 - extends the groups above
from api.cli_projects import create_enterprise_user, projects_group  # noqa: E402

for _repair in REPAIR_COMMANDS:
    cases_group.add_command(_repair)


from api.console.demo import demo_group  # noqa: E402 - the console's demonstration data (issue 11)
from api.cli_designers import DESIGNER_COMMANDS, alias_command, echo_aliases, organisation_export  # noqa: E402 - issue 12

departments_group.add_command(alias_command)
organisation_group.add_command(organisation_export)
from api.cli_webhooks import webhooks_group  # noqa: E402 - integrators' webhooks (issue 13)
from api.cli_stats import stats_group  # noqa: E402 - the supervision figures (issue 14)
from api.cli_fees import fees_group  # noqa: E402 - one-window fees (issue 14)
from api.cli_retention import purge_command  # noqa: E402 - old notification rows


def all_commands() -> list[click.Command]:
    """Every command of the `onewindow` program (also on `app.cli`, for Flask's test runner)."""
    return [db_group, deploy_command, serve_command, users_group, cases_group, tasks_group,
            calendar_group, worker_command, departments_group, incidents_group,
            regions_group, organisation_group, demo_group, projects_group, webhooks_group, stats_group, fees_group, purge_command,
            *DESIGNER_COMMANDS]


def register_commands(app: Flask) -> None:
    for command in all_commands():
        app.cli.add_command(command)


# By name, as gunicorn's `api.wsgi:app`: api.app registers these commands on `app.cli` (Flask's test
# runner), so importing it here would make the two modules import each other.
APP_FACTORY = "api.app:create_app"


@click.group("onewindow", help="onewindow: one-window parallel approval engine.")
@click.version_option(__version__, "--version", "-V", prog_name="onewindow",
                      message="%(prog)s %(version)s")
def cli() -> None:
    """Our own group, not Flask's: no Flask options (--app, --env-file, --debug) in --help and
    our version in --version. Commands that need the app get it through `with_appcontext`."""


for _command in all_commands():
    cli.add_command(_command)


def main() -> None:
    try:
        cli(prog_name="onewindow", obj=ScriptInfo(APP_FACTORY, load_dotenv_defaults=False))
    except (OperationalError, ProgrammingError) as error:
        # An operator's first command on a fresh database, or a database that is down: say what
        # to do instead of a traceback.
        text = str(error.orig if error.orig is not None else error).splitlines()[0]
        missing = "no such table" in text or ("relation" in text and "does not exist" in text)
        hint = "run `onewindow db upgrade` first" if missing else "check DATABASE_URL and that the database is up"
        click.echo(f"error: database: {text} ({hint})", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
