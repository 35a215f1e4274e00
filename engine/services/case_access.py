"""Reading one case as an actor: the case, if the actor may see it (its agent, a body with a step
in it, the window or government overseeing its region). Shared by the case verbs and the
features that hang off a case (fees), which must not depend on the verbs themselves."""
from __future__ import annotations

from engine.adapters.models import Case
from engine.adapters.uow import UnitOfWork
from engine.domain import access
from engine.domain.access import Actor
from engine.errors import NotFound


def get_case(uow: UnitOfWork, actor: Actor, case_id: str) -> Case:
    case = uow.cases.get(case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    departments = case_departments(uow, case_id)
    if access.is_department_member(actor) and actor.department not in departments:
        # Not its body's case: does the actor's window or government oversee it?
        access.require_case(actor, case.started_by, departments,
                            case.region or uow.organisation.default_region, uow.organisation)
    else:
        access.require_case(actor, case.started_by, departments)
    return case


def case_departments(uow: UnitOfWork, case_id: str) -> set[str]:
    return uow.tasks.departments_of_case(case_id)
