"""An administrator's verbs on group aliases: list, add, remove (`onewindow departments alias`,
`/api/v1/department-aliases`).

An alias is part of the organisation document (`group_aliases`), so adding or removing one
records a new organisation version (`engine.adapters.organisation_versions.load`): every process sees it
at its next unit of work, the history of versions says who changed it and when, and a later
`organisation load` of a file without it shows it as removed.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.adapters import organisation_versions
from engine.domain import routing
from engine.domain.access import Actor, require_role
from engine.domain import group_aliases
from engine.errors import Conflict, Invalid, NotFound
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork


def list_aliases(uow: "UnitOfWork") -> list[dict[str, Any]]:
    """Every alias in force with the department it stands for (its names, for people)."""
    organisation = uow.organisation
    out = []
    for name, code in sorted(organisation.group_aliases.items()):
        try:
            concrete = organisation.get(organisation.resolve(code))
            names = {"name_zh": concrete.name_zh, "name_en": concrete.name_en}
        except (Invalid, NotFound):
            names = {"name_zh": None, "name_en": None}
        out.append({"name": name, "department": code, **names})
    return out


def document_in_force(uow: "UnitOfWork") -> tuple[dict[str, Any], str]:
    """The organisation document in force (recorded version, else the configured file), parsed."""
    current = uow.organisation
    if current.version is not None:
        text, source = organisation_versions.document(uow, current.version)
    else:
        path = Path(uow.runtime.settings.organisation_file)
        text, source = path.read_text(encoding="utf-8-sig"), path.name
    return json.loads(text), source or "organisation.json"


def _record(uow: "UnitOfWork", actor: Actor, document: dict[str, Any], source: str) -> dict[str, Any]:
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return organisation_versions.load(uow, text, source, actor.name)


@use_case
def set_alias(uow: "UnitOfWork", actor: Actor, name: str, department: str) -> dict[str, Any]:
    """Map the foreign group `name` to `department` (admins); a new organisation version.
    Setting the same mapping again changes nothing."""
    require_role(actor, "admin")
    problem = group_aliases.alias_problem(name)
    if problem is not None:
        raise Invalid(f"alias {name!r}: {problem}", errors={"name": [problem]})
    organisation = uow.organisation
    if name in organisation or organisation.generic(name) is not None:
        raise Invalid(f"{name!r} is already a department code; an alias cannot hide it",
                      errors={"name": ["already a department code"]})
    if department in organisation.group_aliases:
        raise Invalid(f"{department!r} is itself an alias (of {organisation.group_aliases[department]}); "
                      f"name the department", errors={"department": ["an alias, not a department"]})
    if not organisation.is_known(department):
        near = group_aliases.closest(department, organisation)
        raise Invalid(f"{department!r} is not a known department"
                      + (f" (closest known: {', '.join(near)})" if near else ""),
                      errors={"department": ["unknown department"]})
    if organisation.group_aliases.get(name) == department:
        return {"name": name, "department": department, "version": organisation.version, "unchanged": True}
    document, source = document_in_force(uow)
    document[group_aliases.FIELD] = {**(document.get(group_aliases.FIELD) or {}), name: department}
    result = _record(uow, actor, document, source)
    return {"name": name, "department": department, "version": result["version"], "unchanged": False}


def _users_of(uow: "UnitOfWork", name: str) -> list[str]:
    """`key vN` of the versions that open cases run and that name `name` as a literal candidate
    group or lane: removing the alias would leave their next such task with no department."""
    found = []
    for definition in uow.definitions.of_open_cases(("running", "suspended")):
        for meta in (definition.elements or {}).values():
            if name in routing.literal_departments(meta) or meta.get("lane") == name:
                found.append(f"{definition.key} v{definition.version}")
                break
    return found


@use_case
def remove_alias(uow: "UnitOfWork", actor: Actor, name: str) -> dict[str, Any]:
    """Remove an alias (admins); a new organisation version. 404 when there is none; 409 while
    open cases run a version that names it (their next task there would have no department)."""
    require_role(actor, "admin")
    organisation = uow.organisation
    if name not in organisation.group_aliases:
        raise NotFound(f"no alias {name!r}" + (f"; aliases: {', '.join(sorted(organisation.group_aliases))}"
                                              if organisation.group_aliases else ""))
    users = _users_of(uow, name)
    if users:
        raise Conflict(f"open cases of {', '.join(users)} route tasks through the alias {name!r}; "
                       f"let them finish or migrate them to a version that names a department",
                       errors={"name": [f"used by {u}" for u in users]})
    document, source = document_in_force(uow)
    aliases = dict(document.get(group_aliases.FIELD) or {})
    aliases.pop(name, None)
    if aliases:
        document[group_aliases.FIELD] = aliases
    else:
        document.pop(group_aliases.FIELD, None)
    result = _record(uow, actor, document, source)
    return {"name": name, "department": organisation.group_aliases[name], "version": result["version"],
            "unchanged": False}
