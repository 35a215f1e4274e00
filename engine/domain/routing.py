"""Which department a user task belongs to: its candidate groups (literal or expression) or its lane,
resolved within the case's region (`Organisation.resolve`: `county.zwfw` is the window of the
county whose window accepted the case; a body the county lacks is found up the tree)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.domain import expressions
from engine.domain import juel

if TYPE_CHECKING:
    from engine.domain.organisation import Organisation

# A task routed here is the case's own agent's, not a department's.
AGENT = "agent"
_AGENT_NAMES = {AGENT, "代办员", "agency", "agents"}


def is_expression(value: str) -> bool:
    """`${...}` or `#{...}` (Camunda Modeler writes both)."""
    return juel.is_juel(value)


def expression_of(value: str) -> str:
    """The expression to evaluate: the whole wrapped text, which the evaluator translates from
    JUEL (or takes as our own expression inside `${}`)."""
    return value.strip()


def lane_department(lane: str, organisation: "Organisation", region: str | None = None) -> str | None:
    """A lane is named by department code (generic codes resolve in the case's region) or by its
    Chinese or English name."""
    if lane.strip().lower() in _AGENT_NAMES:
        return AGENT
    if organisation.is_known(lane):
        return organisation.resolve(lane, region)
    for department in organisation.list():
        if lane in (department.name_zh, department.name_en):
            return department.code
    return None


def resolve_department(meta: dict[str, Any], lane: str | None, data: dict[str, Any],
                       organisation: "Organisation", region: str | None = None) -> str | None:
    """The concrete department code for a task about to become ready in a case of `region`;
    None means the case's agent.

    Raises Invalid when an expression yields a department the organisation does not know (or a
    generic code with no body in the region or above), so the case shows a routing error rather
    than a task nobody can see.
    """
    groups = meta.get("candidateGroups")
    if groups:
        if is_expression(groups):
            value = expressions.evaluate(expression_of(groups), dict(data))
            if isinstance(value, (list, tuple)):
                value = value[0] if value else None
            value = None if value is None else str(value)
        else:
            value = groups.split(",")[0].strip()
        if value is None or value.lower() in _AGENT_NAMES:
            return None
        return organisation.resolve(value, region)
    lane = meta.get("lane") or lane
    if lane:
        code = lane_department(lane, organisation, region)
        return None if code in (None, AGENT) else code
    return None


def literal_departments(meta: dict[str, Any]) -> list[str]:
    """Department codes named literally in a task's candidate groups (checked at deploy)."""
    groups = meta.get("candidateGroups")
    if not groups or is_expression(groups):
        return []
    return [g.strip() for g in groups.split(",") if g.strip() and g.strip().lower() not in _AGENT_NAMES]
