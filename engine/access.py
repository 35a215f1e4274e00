"""Who may do what: the actor of every command and the permission rules, in one place."""
from __future__ import annotations

from dataclasses import dataclass

from engine.errors import Forbidden

ROLES = ("admin", "designer", "agent", "staff", "leader", "government", "system")


@dataclass(frozen=True)
class Actor:
    """The authenticated person (or the worker) behind a command."""

    name: str
    role: str
    department: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role in ("admin", "system")


SYSTEM = Actor("system", "system")


def require_role(actor: Actor, *roles: str) -> None:
    if actor.is_admin or actor.role in roles:
        return
    raise Forbidden(f"role {actor.role} may not do this (needs {' or '.join(roles)})")


def can_see_case(actor: Actor, started_by: str, departments: set[str]) -> bool:
    """Agents see their own cases; department staff see cases with a task in their department."""
    if actor.is_admin or actor.role == "government":
        return True
    if actor.role == "agent":
        return started_by == actor.name
    if actor.role in ("staff", "leader"):
        return actor.department in departments
    return False


def require_case(actor: Actor, started_by: str, departments: set[str]) -> None:
    if not can_see_case(actor, started_by, departments):
        raise Forbidden(f"{actor.name} may not see this case")


def require_case_driver(actor: Actor, started_by: str) -> None:
    """Suspend, resume, cancel, message: the case's own agent, or an admin."""
    if actor.is_admin or (actor.role == "agent" and started_by == actor.name):
        return
    raise Forbidden(f"{actor.name} may not change this case")


def can_work_task(actor: Actor, department: str | None, assignee: str | None) -> bool:
    """Staff and leaders work their own department's tasks; a task with no department is its agent's."""
    if actor.is_admin:
        return True
    if actor.role in ("staff", "leader", "government"):
        return department is not None and department == actor.department
    if actor.role == "agent":
        return department is None and assignee == actor.name
    return False


def require_task(actor: Actor, department: str | None, assignee: str | None) -> None:
    if not can_work_task(actor, department, assignee):
        raise Forbidden(f"{actor.name} may not work on a task of department {department}")
