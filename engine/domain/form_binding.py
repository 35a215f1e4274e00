"""Binding a task's form to its case: what the form starts with, what nobody types, what it changes.

An agent registers a project once (一张表单) and should not type again what the service already
knows. Each rule is a `camunda:property` of the user task, so process designers keep them in
the BPMN:

- `prefill` — `${expression}` over the task's data giving a dict (e.g. `${project}`: what the
  agent gave at start). Kept on the task row (`tasks.prefill`), shown with the task, and merged
  under the submitted data on completion, so a client sends only what is new. Only fields the
  task's form declares are kept.
- `business_key_field` — a form field that must equal the case's business key (the registration
  form's `project_code`); pre-filled with it, a different value is refused with 422.
- `actor_field` — a form field that names who did the task (the agreement's `agent_name`): it comes
  from the sign-in, never from typing; a different value is refused with 422.
- `updates_project` — comma-separated form fields copied into the case's `project` on completion
  (the project name, the figures, the location), so lists and the public page show what the form
  says, not what the agent typed at start.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from engine.domain import expressions
from engine.domain import routing
from engine.errors import Invalid

if TYPE_CHECKING:
    from engine.domain.access import Actor
    from engine.adapters.models import Case, Task
    from engine.adapters.uow import UnitOfWork


def _properties(meta: dict[str, Any] | None) -> dict[str, Any]:
    return (meta or {}).get("properties") or {}


def _field(meta: dict[str, Any] | None, name: str) -> str | None:
    value = _properties(meta).get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _form_fields(uow: "UnitOfWork", form_key: str | None) -> set[str] | None:
    """The top-level fields of a form (None: no form, keep everything)."""
    if not form_key or form_key not in uow.runtime.forms:
        return None
    return set((uow.runtime.forms.get(form_key).get("properties") or {}))


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def prefill(uow: "UnitOfWork", case: "Case", meta: dict[str, Any] | None, form_key: str | None,
            data: dict[str, Any], agent: str | None) -> dict[str, Any] | None:
    """What a newly ready task's form starts with (None: nothing). `data` is the task's data;
    `agent` who will do it (the actor field's value)."""
    values: dict[str, Any] = {}
    expression = _field(meta, "prefill")
    if expression:
        source = routing.expression_of(expression) if routing.is_expression(expression) else expression
        try:
            found = expressions.evaluate(source, dict(data))
        except expressions.ExpressionError:
            found = None  # a missing variable leaves the form empty; the agent types it
        if isinstance(found, dict):
            values.update(found)
    key_field = _field(meta, "business_key_field")
    if key_field:
        values[key_field] = case.business_key
    actor_field = _field(meta, "actor_field")
    if actor_field and agent:
        values[actor_field] = agent
    fields = _form_fields(uow, form_key)
    if fields is not None:
        values = {k: v for k, v in values.items() if k in fields}
    values = {k: v for k, v in values.items() if v is not None and v != "" and isinstance(k, str)}
    return _json_safe(values) if values else None


def bind(actor: "Actor", case: "Case", row: "Task", meta: dict[str, Any] | None,
         data: dict[str, Any]) -> dict[str, Any]:
    """The data a completion submits: the pre-fill under what was sent, the actor's field from the
    sign-in, the business key field checked. Raises `Invalid` naming the field."""
    merged = {**(row.prefill or {}), **data}
    errors: dict[str, list[str]] = {}
    actor_field = _field(meta, "actor_field")
    if actor_field:
        who = actor.name if actor.role == "agent" else case.started_by
        if data.get(actor_field) not in (None, "", who):
            errors[actor_field] = [f"comes from the sign-in ({who}); leave it out"]
        merged[actor_field] = who
    key_field = _field(meta, "business_key_field")
    if key_field and merged.get(key_field) != case.business_key:
        errors[key_field] = [f"must be the case's project code {case.business_key} "
                             f"(the case was opened for it)"]
    if errors:
        raise Invalid(f"form {row.form_key} does not match the case", errors=errors)
    return merged


def update_project(case: "Case", meta: dict[str, Any] | None, data: dict[str, Any]) -> None:
    """Copy the fields named by `updates_project` into the case's project (and its name)."""
    names = [n.strip() for n in (_field(meta, "updates_project") or "").split(",") if n.strip()]
    changed = {n: data[n] for n in names if n in data}
    if not changed:
        return
    case.project = {**(case.project or {}), **_json_safe(changed)}
    name = changed.get("project_name")
    if isinstance(name, str) and name.strip():
        case.name = name.strip()[:255]
