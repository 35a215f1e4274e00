"""The operator command line: `onewindow db upgrade`, `deploy`, `serve`, `cases`, `tasks`, `users`."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from api.runtime import runtime
from engine import cases as case_verbs
from engine import definitions, users
from engine.access import SYSTEM, Actor
from engine.errors import DomainError


def _fail(error: DomainError) -> None:
    click.echo(f"error: {error.detail}", err=True)
    for field, messages in (error.errors or {}).items():
        for message in messages:
            click.echo(f"  {field}: {message}", err=True)
    sys.exit(1)


def _actor(name: str | None) -> Actor:
    """Operators act as the system, or as a named user when --as is given."""
    if not name:
        return SYSTEM
    from sqlalchemy import select

    from engine.store.models import User
    with runtime().unit_of_work(write=False) as uow:
        user = uow.session.scalar(select(User).where(User.name == name))
    if user is None or user.revoked_at is not None:
        click.echo(f"error: no active user {name!r}", err=True)
        sys.exit(1)
    return Actor(user.name, user.role, user.department)


def deploy_paths(paths: list[str], actor: Actor) -> list[definitions.Deployed]:
    rt = runtime()
    results = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            results += definitions.deploy_directory(rt.unit_of_work, actor, path)
            continue
        with rt.unit_of_work() as uow:
            results.append(definitions.deploy(uow, actor, path.read_bytes(), path.name))
            uow.commit()
    return results


@click.group("db", help="Database schema.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Apply migrations up to the newest.")
@with_appcontext
def db_upgrade() -> None:
    from engine.store.migrate import upgrade
    upgrade(runtime().settings.database_url)
    click.echo(f"database upgraded ({runtime().database.kind})")


def check_paths(paths: list[str], actor: Actor) -> list[definitions.Deployed]:
    """Deploy in one transaction that is never committed: every check, nothing stored."""
    files = [f for raw in paths for f in (sorted(Path(raw).glob("**/*.bpmn")) if Path(raw).is_dir() else [Path(raw)])]
    with runtime().unit_of_work() as uow:
        return definitions.deploy_in_order(
            files, lambda path: definitions.deploy(uow, actor, path.read_bytes(), path.name))


@click.command("deploy", help="Deploy BPMN files or directories of them.")
@click.argument("paths", nargs=-1, required=True)
@click.option("--check", is_flag=True, help="run every check and say what would be deployed; store nothing")
@with_appcontext
def deploy_command(paths: tuple[str, ...], check: bool) -> None:
    try:
        for result in (check_paths if check else deploy_paths)(list(paths), SYSTEM):
            for d in result.definitions:
                state = ("would be deployed" if check else "deployed") if result.created else "unchanged"
                click.echo(f"{d.key} v{d.version} {state} ({d.sha256[:12]})")
    except DomainError as error:
        _fail(error)
    except OSError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)


@click.command("serve", help="Serve the API with gunicorn (deploys processes/ first).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--with-worker/--no-worker", default=False, help="Also run the background timer worker.")
@with_appcontext
def serve_command(host: str, port: int, workers: int, with_worker: bool) -> None:
    rt = runtime()
    from engine.store.migrate import upgrade
    upgrade(rt.settings.database_url)
    try:
        deploy_paths([str(rt.settings.processes_dir)], SYSTEM)
    except DomainError as error:
        _fail(error)
    first_admin(rt)
    env = dict(os.environ, DATABASE_URL=rt.settings.database_url)
    if with_worker:
        import subprocess
        subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=env)
    click.echo(f"serving on http://{host}:{port} ({rt.database.kind}, {workers} workers)")
    click.echo(f"console (staff sign-in): http://{host}:{port}/console/")
    os.execvpe(sys.executable, [sys.executable, "-m", "gunicorn", "--workers", str(workers),
                                "--bind", f"{host}:{port}", "--access-logfile", "-",
                                "api.wsgi:app"], env)


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
@click.option("--password", "with_password", is_flag=True,
              help="set a console password (prompted, or the first line of stdin; never an argument)")
@with_appcontext
def users_create(name: str, role: str, department: str | None, with_password: bool) -> None:
    password = _read_password() if with_password else None
    try:
        with runtime().unit_of_work() as uow:
            token = users.create_user(uow, name, role, department, password=password)
            uow.commit()
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
        with runtime().unit_of_work() as uow:
            users.set_password(uow, name, password)
            uow.commit()
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
        with runtime().unit_of_work() as uow:
            token = users.reissue_token(uow, name)
            uow.commit()
    except DomainError as error:
        _fail(error)
    click.echo(token)


@users_group.command("revoke", help="Revoke a user: API token and console sign-in (sessions end now).")
@click.argument("name")
@with_appcontext
def users_revoke(name: str) -> None:
    try:
        with runtime().unit_of_work() as uow:
            users.revoke_user(uow, name)
            uow.commit()
    except DomainError as error:
        _fail(error)
    click.echo(f"revoked {name}")


def first_admin(rt) -> None:  # type: ignore[no-untyped-def]
    """A fresh database gets `admin` with a random console password, printed once (as Jenkins does)."""
    with rt.unit_of_work() as uow:
        password = users.ensure_first_admin(uow)
        uow.commit()
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
        with runtime().unit_of_work() as uow:
            started = case_verbs.start_case(uow, actor, key, business_key, variables=_parse_vars(var))
            uow.commit()
            tasks = case_verbs.case_tasks(uow, started.case.id)
    except DomainError as error:
        _fail(error)
    click.echo(json.dumps({"id": started.case.id, "created": started.created, "status": started.case.status,
                           "open_tasks": [{"id": t.id, "name": t.name, "department": t.department}
                                          for t in tasks if t.state == "ready"]}, ensure_ascii=False, indent=2))


@click.group("tasks", help="List and complete tasks.")
def tasks_group() -> None:
    pass


@tasks_group.command("list", help="Open tasks, by department or case.")
@click.option("--department", default=None)
@click.option("--case", "case_id", default=None)
@with_appcontext
def tasks_list(department: str | None, case_id: str | None) -> None:
    from sqlalchemy import select

    from engine.store.models import Task
    with runtime().unit_of_work(write=False) as uow:
        query = select(Task).where(Task.state == "ready").order_by(Task.created_at, Task.id)
        if department:
            query = query.where(Task.department == department)
        if case_id:
            query = query.where(Task.case_id == case_id)
        for t in uow.session.scalars(query):
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
        with runtime().unit_of_work() as uow:
            row = case_verbs.complete_task(uow, actor, task_id, payload)
            uow.commit()
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
    from engine.time import store
    actor = _actor(as_user)
    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        click.echo(f"error: {file} is not JSON: {error}", err=True)
        sys.exit(1)
    try:
        with runtime().unit_of_work() as uow:
            row = store.load_year(uow, data, actor.name)
            uow.commit()
    except DomainError as error:
        _fail(error)
    click.echo(f"calendar {row['year']} v{row['version']} loaded "
               f"({len(row['holidays'])} holidays, {len(row['workdays'])} adjusted working days)")


@calendar_group.command("show", help="Print a year's calendar in force as JSON.")
@click.argument("year", type=int)
@with_appcontext
def calendar_show(year: int) -> None:
    from engine.time import store
    try:
        with runtime().unit_of_work(write=False) as uow:
            row = store.get_year(uow, year)
    except DomainError as error:
        _fail(error)
    click.echo(json.dumps({**row, "loaded_at": row["loaded_at"].isoformat()}, ensure_ascii=False, indent=2))


@calendar_group.command("due", help='Print when DURATION from FROM falls due, e.g. 2026-09-30T17:00+08:00 "5 working days".')
@click.argument("start", metavar="FROM")
@click.argument("duration")
@with_appcontext
def calendar_due(start: str, duration: str) -> None:
    from engine.time import store
    try:
        moment = store.parse_instant(start)
        with runtime().unit_of_work(write=False) as uow:
            result = store.due(uow, moment, duration)
    except DomainError as error:
        _fail(error)
    click.echo(result["due"].isoformat(timespec="minutes"))


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
    import logging
    import signal

    from engine.timers import Worker
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("onewindow").setLevel(logging.INFO)
    worker = Worker(runtime(), name=name, batch=batch, lease_seconds=lease, poll_seconds=poll,
                    job_delay=job_delay)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
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
@click.option("--region", default=None, help="e.g. 郫都区")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
@with_appcontext
def departments_list(level: str | None, region: str | None, as_json: bool) -> None:
    bodies = runtime().organisation.list(level=level, region=region)
    if as_json:
        click.echo(json.dumps([{"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en, "level": d.level,
                                "region": d.region, "parent": d.parent} for d in bodies],
                              ensure_ascii=False, indent=2))
        return
    for d in bodies:
        click.echo(f"{d.code:<16} {d.level:<9} {d.region:<6} {d.name_zh}  ({d.name_en})")


def register_commands(app: Flask) -> None:
    for command in (db_group, deploy_command, serve_command, users_group, cases_group, tasks_group):
        app.cli.add_command(command)
    for command in (calendar_group, worker_command, departments_group):
        app.cli.add_command(command)
    from api.console.demo import demo_group  # the console's demonstration data (issue 11)
    app.cli.add_command(demo_group)


def _create_app():  # type: ignore[no-untyped-def]
    from api.app import create_app
    return create_app()


cli = FlaskGroup(create_app=_create_app, add_default_commands=False, load_dotenv=False,
                 help="onewindow: one-window parallel approval engine.")


def main() -> None:
    from sqlalchemy.exc import OperationalError, ProgrammingError
    try:
        cli(prog_name="onewindow")
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
