"""Use cases of project work groups: add, list, show, change members, remove, restore, start the
agent-handled case, and enterprise users (issue 13). Rules in `engine.domain.projects`, SQL in
`engine.adapters.project_store`.

Who may do what:
- add: staff and leaders of a body with role `promoter` (投促局), for their own region; admins.
- change members or the agent: the region's promoter or group owner (发改局); admins.
- remove / restore: the region's group owner (发改局); admins.
- read: admins and province-wide government; the project's enterprise contacts; its agent; its
  member bodies; the region's promoter and group owner; the windows and governments overseeing it.
- start the project's case: the region's promoter or the project's agent; the case is the
  agent's (it drives it, as any case it starts) — 投促局 hands the project over, it does not
  become the case's driver, so `POST /cases` stays refused to it.
- enterprise users: the project's agent (or an admin) creates them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.domain import access
from engine.domain import forms
from engine.services import cases as case_verbs
from engine.services import users
from engine.domain.access import Actor
from engine.adapters import project_store as store
from engine.adapters.models import Project
from engine.services import project_events as events
from engine.services import question_views
from engine.domain import projects as rules
from engine.errors import Conflict, Forbidden, Invalid
from engine.adapters.models import Task
from engine.adapters.uow import UnitOfWork
from engine.services.use_case import use_case

MAX_FACTS = 8000


# --------------------------------------------------------------------------- who may


def _own_body(uow: UnitOfWork, actor: Actor):  # type: ignore[no-untyped-def]
    if not access.is_department_member(actor) or actor.department not in uow.organisation:
        return None
    return uow.organisation.get(actor.department)


def regions_in_charge(uow: UnitOfWork, actor: Actor) -> tuple[str, ...]:
    """Regions whose projects the actor's body reads as a whole: its own when it promotes or owns
    groups; its region and those below when it is a window or government (oversight)."""
    body = _own_body(uow, actor)
    if body is None:
        return ()
    if body.has_role("promoter") or body.has_role("group_owner"):
        return (body.region,)
    watch = access.oversight(actor, uow.organisation)
    return (watch.region, *watch.below) if watch is not None else ()


def _has_region_role(uow: UnitOfWork, actor: Actor, project: Project, *roles: str) -> bool:
    if actor.is_admin:
        return True
    body = _own_body(uow, actor)
    return body is not None and body.region == project.region and any(body.has_role(r) for r in roles)


def can_see(uow: UnitOfWork, actor: Actor, project: Project) -> bool:
    if access.sees_everything(actor):
        return True
    if actor.role == "enterprise":
        return store.is_contact(uow, project.code, actor.name)
    if actor.role == "agent":
        return project.agent == actor.name or store.agent_started_case(uow, project.code, actor.name)
    if access.is_department_member(actor):
        return store.is_member(uow, project.code, actor.department) or project.region in regions_in_charge(uow, actor)
    return False


def visible(uow: UnitOfWork, code: str, actor: Actor, *, lock: bool = False) -> Project:
    project = store.get(uow, code, lock=lock)
    if not can_see(uow, actor, project):
        raise Forbidden(f"{actor.name} may not see project {code}")
    return project


def _require_active(project: Project) -> None:
    if project.state != "active":
        raise Conflict(f"project {project.code} was removed from its work group "
                       f"({rules.REMOVAL_REASONS.get(project.removal_reason or '', project.removal_reason)}); "
                       "restore it first")


# --------------------------------------------------------------------------- input


def _text_field(data: dict[str, Any], name: str, errors: dict[str, list[str]], *, required: bool,
                limit: int = 255) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        errors[name] = ["required, a non-empty text"]
        return None
    if len(value) > limit:
        errors[name] = [f"at most {limit} characters"]
    return value.strip()


def _object(data: dict[str, Any], name: str, errors: dict[str, list[str]]) -> dict[str, Any]:
    value = data.get(name, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors[name] = ["must be an object"]
        return {}
    if len(repr(value)) > MAX_FACTS:
        errors[name] = [f"too large (at most {MAX_FACTS} characters)"]
    return value


def _enterprise(data: dict[str, Any], errors: dict[str, list[str]]) -> tuple[dict[str, Any], dict[str, Any]]:
    enterprise = _object(data, "enterprise", errors)
    contact = _object(data, "contact", errors)
    if "enterprise" not in errors:
        if not isinstance(enterprise.get("name"), str) or not enterprise["name"].strip():
            errors["enterprise.name"] = ["required: the enterprise's name"]
        code = enterprise.get("credit_code")
        if code is not None and (problem := forms.format_problem("uscc", code)):
            errors["enterprise.credit_code"] = [problem]
    if "contact" not in errors:
        if not isinstance(contact.get("name"), str) or not contact["name"].strip():
            errors["contact.name"] = ["required: the enterprise's contact person"]
        phone = contact.get("phone")
        if phone is not None and (problem := forms.format_problem("phone", phone)):
            errors["contact.phone"] = [problem]
    return enterprise, contact


def _agent(uow: UnitOfWork, name: Any, region: str, errors: dict[str, list[str]]) -> str | None:
    """An agent user of a window in the project's region (or with no window: any region)."""
    if name is None:
        return None
    user = uow.users.by_name(name) if isinstance(name, str) else None
    if user is None or user.revoked_at is not None or user.role != "agent":
        errors["agent"] = [f"{name!r} is not an active agent (代办员)"]
        return None
    if user.department and uow.organisation.region_of(user.department).code != region:
        errors["agent"] = [f"{name} works at {user.department}, not at a window of region {region}"]
        return None
    return user.name


# --------------------------------------------------------------------------- verbs


@use_case
def add_project(uow: UnitOfWork, actor: Actor, data: dict[str, Any]) -> Project:
    """投促局 adds a project to a work group: facts, enterprise and contact, members (default: every
    department of the region), the agent. A project may join before any case (提前介入)."""
    organisation = uow.organisation
    body = rules.body_with_role(organisation, actor.department, "promoter") if not actor.is_admin else None
    if not actor.is_admin and (body is None or not access.is_department_member(actor)):
        raise Forbidden(f"{actor.name} may not add projects: the investment promotion bureau (投促局, a body "
                        "with role promoter) adds them")
    errors: dict[str, list[str]] = {}
    code = data.get("code")
    if (problem := rules.project_code_problem(code)) is not None:
        errors["code"] = [problem]
    name = _text_field(data, "name", errors, required=True)
    if actor.is_admin:
        region = organisation.region(data.get("region")).code if data.get("region") is not None else \
            organisation.default_region
    else:
        region = body.region  # type: ignore[union-attr]
        if data.get("region") is not None and organisation.region(data["region"]).code != region:
            errors["region"] = [f"{actor.department} adds projects of region {region} only"]
    facts = _object(data, "facts", errors)
    enterprise, contact = _enterprise(data, errors)
    agent = _agent(uow, data.get("agent"), region, errors)
    members = rules.default_members(organisation, region) if data.get("members") is None else None
    if members is None:
        try:
            members = rules.check_members(organisation, data.get("members"))
        except Invalid as error:
            errors.update(error.errors)
    if errors:
        raise Invalid("invalid project", errors=errors)
    if store.find(uow, code) is not None:
        raise Conflict(f"project {code} already has a work group")
    now = uow.runtime.clock()
    project = Project(code=code, name=name, region=region, facts=facts, enterprise=enterprise, contact=contact,
                      agent=agent, state="active", created_at=now, created_by=actor.name, updated_at=now)
    store.add(uow, project)
    store.add_members(uow, code, members, now, actor.name)  # type: ignore[arg-type]
    store.record(uow, code, "project.added", actor.name,
                 data={"name": name, "region": region, "members": members, "agent": agent})
    return project


def list_projects(uow: UnitOfWork, actor: Actor, *, state: str | None = None, region: str | None = None,
                  department: str | None = None, limit: int = 100, offset: int = 0) -> tuple[list[Project], int]:
    if state is not None and state not in rules.STATES:
        raise Invalid("unknown state", errors={"state": [f"must be one of {', '.join(rules.STATES)}"]})
    if department is not None and department not in uow.organisation:
        raise Invalid("unknown body", errors={"department": [f"unknown body {department!r}"]})
    regions = uow.organisation.subtree(region) if region is not None else None
    if access.sees_everything(actor):
        clause = store.visible_clause(everything=True)
    elif actor.role == "enterprise":
        clause = store.visible_clause(user=actor.name)
    elif actor.role == "agent":
        clause = store.visible_clause(agent=actor.name)
    elif access.is_department_member(actor):
        clause = store.visible_clause(department=actor.department, regions=regions_in_charge(uow, actor))
    else:
        raise Forbidden(f"role {actor.role} may not list projects")
    return store.list_projects(uow, clause, state=state, regions=regions, department=department,
                               limit=limit, offset=offset)


@use_case
def change_members(uow: UnitOfWork, actor: Actor, code: str, data: dict[str, Any]) -> Project:
    """Add and remove member bodies, or (re)assign the agent. A body that still owes an answer stays."""
    project = visible(uow, code, actor, lock=True)
    if not _has_region_role(uow, actor, project, "promoter", "group_owner"):
        raise Forbidden(f"{actor.name} may not change the members of {code}: the region's 投促局 or 发改局 does")
    _require_active(project)
    errors: dict[str, list[str]] = {}
    add = remove = []
    try:
        add = rules.check_members(uow.organisation, data.get("add", []), "add")
    except Invalid as error:
        errors.update(error.errors)
    try:
        remove = rules.check_members(uow.organisation, data.get("remove", []), "remove")
    except Invalid as error:
        errors.update(error.errors)
    agent = _agent(uow, data.get("agent"), project.region, errors) if "agent" in data else project.agent
    if set(add) & set(remove):
        errors["remove"] = [f"{c} is also in add" for c in sorted(set(add) & set(remove))]
    if not errors and not add and not remove and "agent" not in data:
        errors["_schema"] = ["give add, remove or agent"]
    if errors:
        raise Invalid("invalid member change", errors=errors)
    current = store.member_codes(uow, code)
    owing = {a.department for a in store.open_addressees(uow, code)}
    if blocked := sorted(set(remove) & owing):
        raise Conflict(f"{', '.join(blocked)} still owe answers to open questions of {code}; they stay until they answer")
    now = uow.runtime.clock()
    added = [c for c in add if c not in current]
    removed = [c for c in remove if c in current]
    store.add_members(uow, code, added, now, actor.name)
    for member in store.members(uow, code):
        if member.department in removed:
            store.remove_member(uow, member)
    changes: dict[str, Any] = {"added": added, "removed": removed}
    if agent != project.agent:
        changes["agent"], changes["previous_agent"] = agent, project.agent
        project.agent = agent
    project.updated_at = now
    store.record(uow, code, "project.members_changed", actor.name, data=changes)
    return project


@use_case
def remove_project(uow: UnitOfWork, actor: Actor, code: str, reason: Any, note: str = "") -> Project:
    """发改局 takes a project out of the work group (办结 / 停滞 / 企业放弃); its open questions close."""
    project = visible(uow, code, actor, lock=True)
    if not _has_region_role(uow, actor, project, "group_owner"):
        raise Forbidden(f"{actor.name} may not remove {code}: the region's development and reform bureau "
                        "(发改局, role group_owner) does")
    reason_code = rules.removal_reason(reason)
    _require_active(project)
    now = uow.runtime.clock()
    why = f"项目移出工作群（{rules.REMOVAL_REASONS[reason_code]}）"
    closed = []
    for question in store.open_questions(uow, code):
        question.state, question.closed_at, question.closed_reason = "closed", now, why
        closed.append(question.id)
    for row in store.open_addressees(uow, code):
        row.state, row.next_at = "closed", None
    project.state, project.removal_reason, project.removal_note = "removed", reason_code, note or None
    project.removed_at, project.removed_by, project.updated_at = now, actor.name, now
    events.raise_event(uow, events.PROJECT_REMOVED,
                       {"project_code": code, "reason": reason_code, "reason_name": rules.REMOVAL_REASONS[reason_code],
                        "note": note, "closed_questions": closed},
                       project_code=code, actor=actor.name, users=[project.agent] if project.agent else [],
                       departments=store.member_codes(uow, code))
    return project


@use_case
def restore_project(uow: UnitOfWork, actor: Actor, code: str, note: str = "") -> Project:
    """A removed project back in its work group (members as they were; closed questions stay closed)."""
    project = visible(uow, code, actor, lock=True)
    if not _has_region_role(uow, actor, project, "group_owner"):
        raise Forbidden(f"{actor.name} may not restore {code}: the region's 发改局 (role group_owner) does")
    if project.state != "removed":
        raise Conflict(f"project {code} is in its work group already")
    previous = project.removal_reason
    project.state, project.removal_reason, project.removal_note = "active", None, None
    project.removed_at = project.removed_by = None
    project.updated_at = uow.runtime.clock()
    events.raise_event(uow, events.PROJECT_RESTORED, {"project_code": code, "previous_reason": previous, "note": note},
                       project_code=code, actor=actor.name, users=[project.agent] if project.agent else [],
                       departments=store.member_codes(uow, code))
    return project


@use_case
def start_case(uow: UnitOfWork, actor: Actor, code: str, process_key: str,
               variables: dict[str, Any] | None = None) -> case_verbs.Started:
    """Start the agent-handled case of a project: by its agent, or by 投促局 handing it over. The
    case is the assigned agent's (started in its name and its window's region), keyed by the
    project code, with the project's facts as the registration's starting point."""
    project = visible(uow, code, actor, lock=True)
    if not (actor.is_admin or project.agent == actor.name or _has_region_role(uow, actor, project, "promoter")):
        raise Forbidden(f"{actor.name} may not start a case of {code}: its agent or the region's 投促局 does")
    _require_active(project)
    if not project.agent:
        raise Conflict(f"project {code} has no agent yet: assign one (POST /projects/{code}/members with agent)")
    agent = uow.users.by_name(project.agent)
    if agent is None or agent.revoked_at is not None:
        raise Conflict(f"the agent of {code}, {project.agent}, is no longer active: assign another")
    facts = project.facts or {}
    case_project = {"project_name": project.name, "enterprise_name": (project.enterprise or {}).get("name"),
                    **{k: facts[k] for k in ("investment", "land_area", "location", "industry") if k in facts}}
    started = case_verbs.start_case(uow, Actor(agent.name, "agent", agent.department), process_key, code,
                                    project={k: v for k, v in case_project.items() if v is not None},
                                    variables=variables or {})
    if started.created:
        store.record(uow, code, "project.case_started", actor.name,
                     data={"case_id": started.case.id, "process_key": started.case.process_key,
                           "agent": agent.name, "handed_over_by": None if actor.name == agent.name else actor.name})
    return started


@use_case
def create_enterprise_user(uow: UnitOfWork, actor: Actor, name: str, code: str,
                           password: str | None = None) -> str:
    """An enterprise contact's user (role `enterprise`), scoped to `code`: created by the project's
    agent or an admin. Returns the API token (shown once). An existing enterprise user gains the
    project instead (one contact, several projects)."""
    project = store.get(uow, code)
    if not (actor.is_admin or (actor.role == "agent" and project.agent == actor.name)):
        raise Forbidden(f"{actor.name} may not create users for {code}: its agent does")
    existing = uow.users.by_name(name)
    token = ""
    if existing is None:
        token = users.create_user(uow, name, "enterprise", None, password=password)
    elif existing.role != "enterprise":
        raise Conflict(f"user {name!r} exists with role {existing.role}")
    if not store.is_contact(uow, code, name):
        store.add_contact(uow, code, name, uow.runtime.clock(), actor.name)
        store.record(uow, code, "project.contact_added", actor.name, data={"user": name})
    return token


# --------------------------------------------------------------------------- what a project page shows


@dataclass
class ProjectView:
    project: Project
    members: list[dict[str, Any]]
    contacts: list[str]
    cases: list[dict[str, Any]]
    corrections: list[dict[str, Any]]
    questions: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    counts: dict[str, int]


def _task_dict(task: Task, organisation: Any) -> dict[str, Any]:
    department = task.department
    return {"id": task.id, "case_id": task.case_id, "element_id": task.element_id, "name": task.name,
            "department": department,
            "department_name": organisation.get(department).name_zh if department in organisation else None,
            "state": task.state, "sla": task.sla, "due_at": task.due_at, "created_at": task.created_at,
            "completed_at": task.completed_at, "item": (task.item or {}).get("name") if task.item else None,
            "form_key": task.form_key}


def correction_requests(tasks: list[Task], organisation: Any) -> list[dict[str, Any]]:
    """The open 补正 requests of a project's cases: each open correction step (the agent's, for the
    enterprise to answer) with what the body asked for (its last decision `correction`)."""
    out = []
    for task in tasks:
        if task.state != "ready" or task.department is not None or task.form_key != "correction_response":
            continue
        item = (task.item or {}).get("name") if task.item else None
        asked = [t for t in tasks if t.case_id == task.case_id and t.state == "completed" and t.department
                 and isinstance(t.data, dict) and t.data.get("decision") == "correction"
                 and ((t.item or {}).get("name") if t.item else None) == item]
        request = asked[-1] if asked else None
        data = request.data if request is not None else {}
        out.append({"task_id": task.id, "case_id": task.case_id, "name": task.name, "item": item,
                    "requested_by": request.department if request is not None else None,
                    "requested_by_name": (organisation.get(request.department).name_zh
                                          if request is not None and request.department in organisation else None),
                    "requested_at": request.completed_at if request is not None else task.created_at,
                    "materials": data.get("missing_materials") or data.get("materials") or [],
                    "opinion": data.get("opinion") or data.get("note")})
    return out


def view(uow: UnitOfWork, actor: Actor, code: str) -> ProjectView:
    """Everything a member, the agent or the enterprise contact reads about a project. Department
    staff and leaders see the cases' steps of their own body only (as in a case's page)."""
    project = visible(uow, code, actor)
    organisation = uow.organisation
    order = {d.code: i for i, d in enumerate(organisation)}  # the organisation's order: window, bureaus...
    order.update({d.code: i - 10**5 for i, d in enumerate(organisation.bodies_of(project.region))})
    members = [{"department": m.department,
                "name": organisation.get(m.department).name_zh if m.department in organisation else m.department,
                "added_at": m.added_at, "added_by": m.added_by}
               for m in sorted(store.members(uow, code), key=lambda m: (order.get(m.department, 10**6), m.department))]
    found = store.cases_of(uow, code)
    tasks = store.tasks_of(uow, [c.id for c in found])
    own_body_only = actor.role in ("staff", "leader") and access.oversight(actor, organisation) is None \
        and project.region not in regions_in_charge(uow, actor)
    shown = [t for t in tasks if not own_body_only or t.department == actor.department]
    cases = [{"id": c.id, "process_key": c.process_key, "name": c.name, "status": c.status, "stage": c.stage,
              "started_by": c.started_by, "started_at": c.started_at, "ended_at": c.ended_at,
              "tasks": [_task_dict(t, organisation) for t in shown if t.case_id == c.id]} for c in found]
    corrections = correction_requests(tasks, organisation) if not own_body_only else []
    timeline = [{"id": e.id, "at": e.at, "type": e.type, "actor": e.actor, "question_id": e.question_id,
                 "data": {k: v for k, v in (e.data or {}).items() if k != "notify"}}
                for e in store.timeline(uow, code)]
    return ProjectView(project, members, [c.user_name for c in store.contacts(uow, code)], cases, corrections,
                       question_views.thread(uow, project), timeline, store.question_counts(uow, code))


def project_dict(project: Project, counts: dict[str, int] | None = None, organisation: Any = None) -> dict[str, Any]:
    region_name = None
    if organisation is not None:
        try:
            region_name = organisation.region(project.region).full_name
        except Invalid:
            region_name = None
    out = {c: getattr(project, c) for c in (
        "code", "name", "region", "facts", "enterprise", "contact", "agent", "state", "removal_reason",
        "removal_note", "created_at", "created_by", "updated_at", "removed_at", "removed_by")}
    out["region_name"] = region_name
    out["removal_reason_name"] = rules.REMOVAL_REASONS.get(project.removal_reason or "")
    if counts is not None:
        out.update(counts)
    return out


def contact_of(uow: UnitOfWork, actor: Actor, code: str) -> bool:
    """Whether the enterprise actor speaks for `code`."""
    return actor.role == "enterprise" and store.is_contact(uow, code, actor.name)


__all__ = ["add_project", "list_projects", "change_members", "remove_project", "restore_project", "start_case",
           "create_enterprise_user", "view", "project_dict"]


def detail(uow: UnitOfWork, actor: Actor, code: str) -> dict[str, Any]:
    """A project's page as the API answers it: `view` with the project's own fields."""
    shown = view(uow, actor, code)
    return {**project_dict(shown.project, organisation=uow.organisation), "members": shown.members,
            "contacts": shown.contacts, "cases": shown.cases, "corrections": shown.corrections,
            "questions": shown.questions, "question_counts": shown.counts, "timeline": shown.timeline}


@use_case
def add_project_detail(uow: UnitOfWork, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """`add_project` answered with the new project's `detail`."""
    return detail(uow, actor, add_project(uow, actor, data).code)


@use_case
def change_members_detail(uow: UnitOfWork, actor: Actor, code: str, data: dict[str, Any]) -> dict[str, Any]:
    """`change_members` answered with the project's `detail`."""
    change_members(uow, actor, code, data)
    return detail(uow, actor, code)


@use_case
def change_members_listed(uow: UnitOfWork, actor: Actor, code: str, data: dict[str, Any]) -> list[str]:
    """`change_members` answered with the member bodies' codes, sorted (`onewindow projects members`)."""
    change_members(uow, actor, code, data)
    return sorted(store.member_codes(uow, code))


@use_case
def remove_project_dict(uow: UnitOfWork, actor: Actor, code: str, reason: Any, note: str = "") -> dict[str, Any]:
    """`remove_project` answered with the project's fields."""
    return project_dict(remove_project(uow, actor, code, reason, note), organisation=uow.organisation)


@use_case
def restore_project_dict(uow: UnitOfWork, actor: Actor, code: str, note: str = "") -> dict[str, Any]:
    """`restore_project` answered with the project's fields."""
    return project_dict(restore_project(uow, actor, code, note), organisation=uow.organisation)


@use_case
def start_project_case(uow: UnitOfWork, actor: Actor, code: str, process_key: str,
                       variables: dict[str, Any] | None = None) -> case_verbs.Started:
    """`start_case` with the case's ready tasks read too when the case existed already."""
    return case_verbs.with_open_tasks(uow, start_case(uow, actor, code, process_key, variables))


@use_case
def add_enterprise_contact(uow: UnitOfWork, actor: Actor, name: str, code: str,
                           password: str | None = None) -> tuple[str, bool]:
    """`create_enterprise_user`, also saying whether the user existed before (token, existed)."""
    existed = uow.users.by_name(name) is not None if name else False
    return create_enterprise_user(uow, actor, name, code, password=password), existed
