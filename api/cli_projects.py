"""Work groups from the command line: `onewindow projects add|list|show|members|remove|restore|ask|answer`,
and enterprise users (`onewindow users create NAME --role enterprise --project CODE`).

Operators act as the system (an admin) unless `--as USER` names a user; the rules are the API's.
"""
from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import with_appcontext

from api.cli_common import acting_as, fail
from api.runtime import runtime
from api.schemas.projects import ProjectDetailSchema, ProjectSummarySchema
from engine.services import projects
from engine.errors import DomainError


def _json_option(value: str | None, name: str) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint=name) from None


def _run(as_user: str | None, verb, write: bool = True):  # type: ignore[no-untyped-def]
    actor = acting_as(as_user)
    try:
        if write:  # the verb is one use case: it commits the unit of work it is handed
            return verb(runtime().unit_of_work(), actor)
        with runtime().unit_of_work(write=False) as uow:
            return verb(uow, actor)
    except DomainError as error:
        fail(error)


def _bodies(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


@click.group("projects", help="Project work groups (项目工作群) and their questions.")
def projects_group() -> None:
    pass


@projects_group.command("add", help="Add project CODE to a work group (投促局; members default to every department "
                                    "of the region).")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--enterprise", required=True, help="the enterprise's name")
@click.option("--contact", required=True, help="the enterprise's contact person")
@click.option("--phone", default=None, help="the contact's phone")
@click.option("--agent", default=None, help="the agent (代办员) assigned")
@click.option("--region", default=None, help="admins: the region (default: the promoter's)")
@click.option("--members", default=None, help="comma-separated body codes (default: every department)")
@click.option("--facts", default=None, help='JSON, e.g. {"investment": 150000}')
@click.option("--as", "as_user", default=None)
@with_appcontext
def projects_add(code: str, name: str, enterprise: str, contact: str, phone: str | None, agent: str | None,
                 region: str | None, members: str | None, facts: str | None, as_user: str | None) -> None:
    data: dict[str, Any] = {"code": code, "name": name, "enterprise": {"name": enterprise},
                            "contact": {"name": contact, **({"phone": phone} if phone else {})},
                            "agent": agent, "region": region, "facts": _json_option(facts, "--facts") or {}}
    if members is not None:
        data["members"] = _bodies(members)
    project = _run(as_user, lambda uow, actor: projects.add_project_detail(uow, actor, data))
    click.echo(f"{project['code']} added to a work group of {len(project['members'])} bodies ({project['region']})")


@projects_group.command("list", help="Projects in work groups: code, state, region, members, open/overdue answers.")
@click.option("--state", type=click.Choice(["active", "removed"]), default=None)
@click.option("--region", default=None)
@click.option("--department", default=None, help="projects whose group has this body")
@click.option("--json", "as_json", is_flag=True)
@click.option("--as", "as_user", default=None)
@with_appcontext
def projects_list(state: str | None, region: str | None, department: str | None, as_json: bool,
                  as_user: str | None) -> None:

    def verb(uow, actor):  # type: ignore[no-untyped-def]
        rows, _ = projects.list_projects(uow, actor, state=state, region=region, department=department, limit=500)
        counts = projects.store.counts_by_project(uow, [p.code for p in rows])
        return [projects.project_dict(p, counts[p.code]) for p in rows]
    items = _run(as_user, verb, write=False)
    if as_json:
        click.echo(json.dumps(ProjectSummarySchema(many=True).dump(items), ensure_ascii=False, indent=2))
        return
    for p in items:
        click.echo(f"{p['code']:<26} {p['state']:<8} {p['region']:<10} {p['member_count']:>3} bodies "
                   f"{p['open_questions']:>3} open {p['overdue']:>3} overdue  {p['name']}")


@projects_group.command("show", help="A project: facts, members, cases, questions (as GET /projects/CODE).")
@click.argument("code")
@click.option("--as", "as_user", default=None)
@with_appcontext
def projects_show(code: str, as_user: str | None) -> None:

    def verb(uow, actor):  # type: ignore[no-untyped-def]
        return ProjectDetailSchema().dump(projects.detail(uow, actor, code))
    click.echo(json.dumps(_run(as_user, verb, write=False), ensure_ascii=False, indent=2))


@projects_group.command("members", help="Add or remove member bodies (comma-separated), or assign the agent.")
@click.argument("code")
@click.option("--add", "add", default="", help="body codes joining")
@click.option("--remove", "remove", default="", help="body codes leaving")
@click.option("--agent", default=None)
@click.option("--as", "as_user", default=None)
@with_appcontext
def projects_members(code: str, add: str, remove: str, agent: str | None, as_user: str | None) -> None:
    data: dict[str, Any] = {"add": _bodies(add), "remove": _bodies(remove)}
    if agent is not None:
        data["agent"] = agent
    members = _run(as_user, lambda uow, actor: projects.change_members_listed(uow, actor, code, data))
    click.echo(f"{code}: {len(members)} bodies: {', '.join(members)}")


@projects_group.command("remove", help="Remove a project from its work group (发改局): completed (办结), stalled "
                                       "(停滞) or abandoned (企业放弃). Its open questions close.")
@click.argument("code")
@click.option("--reason", required=True)
@click.option("--note", default="")
@click.option("--as", "as_user", default=None)
@with_appcontext
def projects_remove(code: str, reason: str, note: str, as_user: str | None) -> None:
    project = _run(as_user, lambda uow, actor: projects.remove_project(uow, actor, code, reason, note))
    click.echo(f"{code} removed ({project.removal_reason})")


@projects_group.command("restore", help="Restore a removed project to its work group (发改局).")
@click.argument("code")
@click.option("--note", default="")
@click.option("--as", "as_user", default=None)
@with_appcontext
def projects_restore(code: str, note: str, as_user: str | None) -> None:
    _run(as_user, lambda uow, actor: projects.restore_project(uow, actor, code, note))
    click.echo(f"{code} restored")


def create_enterprise_user(name: str, project: str, password: str | None, as_user: str | None) -> str:
    """`users create NAME --role enterprise --project CODE` (by the project's agent with --as)."""
    return _run(as_user, lambda uow, actor: projects.create_enterprise_user(uow, actor, name, project, password))
