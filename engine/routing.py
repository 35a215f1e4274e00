"""Which department a user task belongs to: its candidate groups (literal or expression) or its lane."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine import expressions
from engine.errors import Invalid

if TYPE_CHECKING:
    from engine.organisation import Organisation

# A task routed here is the case's own agent's, not a department's.
AGENT = "agent"
_AGENT_NAMES = {AGENT, "代办员", "agency", "agents"}


def is_expression(value: str) -> bool:
    return value.startswith("${") and value.endswith("}")


def expression_of(value: str) -> str:
    return value[2:-1].strip()


def lane_department(lane: str, organisation: "Organisation") -> str | None:
    """A lane is named by department code or by its Chinese or English name."""
    if lane.strip().lower() in _AGENT_NAMES:
        return AGENT
    if lane in organisation:
        return lane
    for department in organisation.list():
        if lane in (department.name_zh, department.name_en):
            return department.code
    return None


def resolve_department(meta: dict[str, Any], lane: str | None, data: dict[str, Any],
                       organisation: "Organisation") -> str | None:
    """The department code for a task about to become ready; None means the case's agent.

    Raises Invalid when an expression yields a department the organisation does not know,
    so the case shows a routing error rather than a task nobody can see.
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
        if value not in organisation:
            raise Invalid(f"candidate group {value!r} is not a known department",
                          errors={"department": [f"unknown department {value!r}"]})
        return value
    lane = meta.get("lane") or lane
    if lane:
        code = lane_department(lane, organisation)
        return None if code in (None, AGENT) else code
    return None


def literal_departments(meta: dict[str, Any]) -> list[str]:
    """Department codes named literally in a task's candidate groups (checked at deploy)."""
    groups = meta.get("candidateGroups")
    if not groups or is_expression(groups):
        return []
    return [g.strip() for g in groups.split(",") if g.strip() and g.strip().lower() not in _AGENT_NAMES]
