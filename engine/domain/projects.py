"""The rules of project work groups (项目工作群, the Pixian model) and of their questions, without SQL.

A signed project joins a work group when the region's investment promotion bureau (投促局, body
role `promoter`) adds it; the development and reform bureau (发改局, role `group_owner`) removes
it when it is finished or stalled, and may restore it. The group's members are bodies of the
organisation; by default every *department* of the region: its window and its bureaus, not its
government (which coordinates at level 3) nor public utilities (consulted on request), which in
郫都区 gives the 16 bodies of the Pixian rules (郫县项目服务微信群管理运行办法).

A question to the group is addressed to one or more member bodies; each answers on its own clock
of natural hours from the question (the region's `question_hours`, 24 by default): yellow once
three quarters are used (18 h of 24), red at the limit, then the region's coordination levels as
for approval items. An answer needs a concrete answer *and* a preliminary opinion (初步意见).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.domain import forms
from engine.errors import Invalid

if TYPE_CHECKING:
    from engine.domain.organisation import Department, Organisation

STATES = ("active", "removed")
#: Why 发改局 removes a project from the work group: finished, stalled, the enterprise gave up.
REMOVAL_REASONS = {"completed": "办结", "stalled": "停滞", "abandoned": "企业放弃"}
_REASON_BY_NAME = {**{k: k for k in REMOVAL_REASONS}, **{v: k for k, v in REMOVAL_REASONS.items()}}
#: Kinds of body that sit in a group by default (not the government, not utilities).
DEFAULT_MEMBER_KINDS = ("service_centre", "department", "archive")
YELLOW_SHARE = 0.75  # 18 h of 24
QUESTION_STATES = ("open", "answered", "closed")
ADDRESSEE_STATES = ("open", "answered", "closed")
SLA_STATES = ("normal", "yellow", "red")
MAX_TEXT = 4000


def project_code_problem(code: Any) -> str | None:
    """Why `code` is not a national project code (YYYY-DDDDDD-II-TT-NNNNNN), or None."""
    return forms.format_problem("project-code", code)


def check_code(code: Any) -> str:
    problem = project_code_problem(code)
    if problem:
        raise Invalid(f"code {problem}", errors={"code": [problem]})
    return code


def removal_reason(value: Any) -> str:
    """The reason code (`completed`, `stalled`, `abandoned`) for a code or its Chinese name."""
    found = _REASON_BY_NAME.get(value.strip()) if isinstance(value, str) else None
    if found is None:
        choices = ", ".join(f"{k} ({v})" for k, v in REMOVAL_REASONS.items())
        raise Invalid("unknown removal reason", errors={"reason": [f"must be one of {choices}"]})
    return found


def default_members(organisation: "Organisation", region: str) -> list[str]:
    """Every department of the region: its window and bureaus, not its government nor utilities."""
    return sorted(d.code for d in organisation.bodies_of(region) if d.kind in DEFAULT_MEMBER_KINDS)


def check_members(organisation: "Organisation", codes: Any, field: str = "members") -> list[str]:
    """Known body codes, each once, in the given order; every unknown code named."""
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise Invalid(f"{field} must be a list of body codes", errors={field: ["must be a list of body codes"]})
    unknown = [c for c in codes if c not in organisation]
    if unknown:
        raise Invalid(f"unknown bodies: {', '.join(unknown)}",
                      errors={field: [f"unknown body {c!r}" for c in unknown]})
    return list(dict.fromkeys(codes))


def body_with_role(organisation: "Organisation", department: str | None, role: str) -> "Department | None":
    """The actor's body when it has `role` (promoter: 投促局, group_owner: 发改局), else None."""
    if not department or department not in organisation:
        return None
    body = organisation.get(department)
    return body if body.has_role(role) else None


def required_text(data: dict[str, Any], name: str, errors: dict[str, list[str]], limit: int = MAX_TEXT) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        errors[name] = ["required, a non-empty text"]
        return ""
    if len(value) > limit:
        errors[name] = [f"at most {limit} characters"]
    return value.strip()


# --------------------------------------------------------------------------- the question clock


@dataclass(frozen=True)
class QuestionClock:
    """When an addressed body's answer turns yellow and red (natural hours from the question)."""

    asked_at: datetime
    hours: int

    @property
    def due_at(self) -> datetime:
        return self.asked_at + timedelta(hours=self.hours)

    @property
    def warn_at(self) -> datetime:
        return self.asked_at + timedelta(hours=self.hours * YELLOW_SHARE)

    def sla(self, now: datetime) -> str:
        if now >= self.due_at:
            return "red"
        return "yellow" if now >= self.warn_at else "normal"


def answer_fields(data: dict[str, Any]) -> tuple[str, str]:
    """The answer and the preliminary opinion, both required: a 422 names each missing one."""
    errors: dict[str, list[str]] = {}
    answer = required_text(data, "answer", errors)
    opinion = required_text(data, "preliminary_opinion", errors)
    if errors:
        raise Invalid(f"{' and '.join(errors)} required: the 24-hour rule asks for a concrete answer "
                      "and a preliminary opinion (初步意见)", errors=errors)
    return answer, opinion
