"""Who may do what: the actor of every command and the permission rules, in one place.

Regions (市县联动): an actor belongs to a department and through it to a region. Department
staff and leaders see the cases with a task at their body. The staff, leaders and government
users of a region's window or government additionally oversee (read only) the cases of their
region, and the cases of lower regions that have items at their region's bodies (a city sees
the county cases with items at its bodies). Level 2 of coordination is for leaders only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import Forbidden

if TYPE_CHECKING:
    from engine.domain.organisation import Organisation

ROLES = ("admin", "designer", "agent", "staff", "leader", "government", "system", "worker", "enterprise")
#: `enterprise`: a project's enterprise contact (issue 13), scoped to its projects by
#: `project_contacts`; reads their progress, asks questions, answers 补正 requests — nothing else
#: (engine/services/projects.py).


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


@dataclass(frozen=True)
class Oversight:
    """What the window or government of `region` oversees: the region's cases (`region`), and
    in the regions `below` it the cases with a task at one of the region's `bodies`."""

    region: str
    below: tuple[str, ...]
    bodies: tuple[str, ...]

    def sees(self, case_region: str, departments: set[str]) -> bool:
        return case_region == self.region or (case_region in self.below and bool(departments & set(self.bodies)))

    def sees_task(self, case_region: str, department: str | None) -> bool:
        return case_region == self.region or (case_region in self.below and department in self.bodies)


def sees_everything(actor: Actor) -> bool:
    """Admins, the system, and government users bound to no body (a province-wide overview)."""
    return actor.is_admin or (actor.role == "government" and not actor.department)


def is_department_member(actor: Actor) -> bool:
    """Staff, leaders, and government users bound to a body."""
    return actor.role in ("staff", "leader") or (actor.role == "government" and bool(actor.department))


@dataclass(frozen=True)
class Scope:
    """The rows a role-scoped listing (cases, tasks, escalations, incidents, workbenches) may show
    an actor, before any filter: everything, the rows at one body, or an agent's own cases.
    Each listing turns it into its WHERE clause; a region's window or government may see more
    through `oversight`."""

    everything: bool = False
    department: str | None = None  # a department member's body
    agent: str | None = None       # an agent's name: the cases it started


def scope(actor: Actor, what: str) -> Scope:
    """The one answer to "whose rows may this actor list"; Forbidden for a role that may list
    none of `what` (a designer)."""
    if sees_everything(actor):
        return Scope(everything=True)
    if is_department_member(actor):
        return Scope(department=actor.department)
    if actor.role == "agent":
        return Scope(agent=actor.name)
    raise Forbidden(f"role {actor.role} may not list {what}")


def oversight(actor: Actor, organisation: "Organisation | None") -> Oversight | None:
    """The region an actor oversees: members of a region's window (service centre) or government."""
    if organisation is None or not is_department_member(actor) or actor.department not in organisation:
        return None
    body = organisation.get(actor.department)
    if body.kind not in ("service_centre", "government"):
        return None
    below = organisation.subtree(body.region)[1:]
    return Oversight(body.region, tuple(below), tuple(b.code for b in organisation.bodies_of(body.region)))


def case_region(actor: Actor, organisation: "Organisation", requested: str | None = None) -> str:
    """The region a new case belongs to: that of the window that accepts it, i.e. the agent's
    department's region (an agent with no department: the default region). Admins and the
    system may name a region; an agent may only name its own."""
    own = organisation.region_of(actor.department if actor.department in organisation else None).code
    if requested is None:
        return own
    wanted = organisation.region(requested).code
    if wanted != own and not actor.is_admin:
        raise Forbidden(f"{actor.name} accepts cases for region {own}, not {wanted}")
    return wanted


def can_see_case(actor: Actor, started_by: str, departments: set[str], region: str | None = None,
                 organisation: "Organisation | None" = None) -> bool:
    """Agents see their own cases; department staff see cases with a task in their department;
    a region's window and government also the cases they oversee (`region`: the case's)."""
    if sees_everything(actor):
        return True
    if actor.role == "agent":
        return started_by == actor.name
    if is_department_member(actor):
        if actor.department in departments:
            return True
        watch = oversight(actor, organisation)
        return watch is not None and region is not None and watch.sees(region, departments)
    return False


def require_case(actor: Actor, started_by: str, departments: set[str], region: str | None = None,
                 organisation: "Organisation | None" = None) -> None:
    if not can_see_case(actor, started_by, departments, region, organisation):
        raise Forbidden(f"{actor.name} may not see this case")


def can_see_escalation(actor: Actor, department: str, role: str) -> bool:
    """An escalation level is for the body it is addressed to; a `leaders` level (level 2) only
    for that body's leaders, never its plain staff."""
    if sees_everything(actor):
        return True
    if actor.department != department or not is_department_member(actor):
        return False
    return role != "leaders" or actor.role == "leader"


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
