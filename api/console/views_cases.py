"""Starting a case from the registration form (一张表单), the case page (header, approval items
by stage, history, actions, live diagram) and the case verbs."""
from __future__ import annotations

import json
from typing import Any

from flask import Response, redirect, request, url_for
from markupsafe import Markup

from api.console import formfields
from api.console.blueprint import blueprint
from api.console.i18n import field_message
from api.console.views_work import notice
from api.console.web import actor, page
from api.runtime import runtime
from engine.domain import access
from engine.services import cases
from engine.services import definitions
from engine.services import diagram
from engine.adapters import queries
from engine.domain.states import TaskStatus
from engine.services import repair
from engine.services import workbench
from engine.errors import Forbidden, Invalid
from engine.services import escalation
from engine.services.progress import STAGE_NAMES
from engine.services.workflow import load_definition
from engine.services import statistics

DEFAULT_PROCESS = "one_window_agency"
MAX_TEXT = 2000


def _start_context(process_key: str | None) -> dict[str, Any]:
    with runtime().unit_of_work(write=False) as uow:
        processes = definitions.list_definitions(uow)
        keys = [p.key for p in processes]
        key = process_key if process_key in keys else (DEFAULT_PROCESS if DEFAULT_PROCESS in keys
                                                       else (keys[0] if keys else None))
        chosen = next((p for p in processes if p.key == key), None)
        form_key = workbench.start_form_key(uow, chosen) if chosen is not None else None
    return {"processes": processes, "process": chosen, "form_key": form_key}


def _render_start(context: dict[str, Any], raw: dict[str, Any], errors: dict[str, list[str]],
                  status: int = 200, message: str | None = None, generic: dict[str, str] | None = None) -> Response:
    fields: list[formfields.Field] = []
    schema = None
    if context["form_key"]:
        schema = runtime().forms.get(context["form_key"])
        fields = formfields.build(schema, raw, errors)
    generic_errors = {k: [field_message(m) for m in v] for k, v in errors.items()} if not schema else {}
    return page("start.html", status=status, fields=fields, schema=schema, message=message,
                summary=formfields.error_summary(fields) if fields else [],
                unplaced=formfields.unplaced_errors(fields, errors) if fields else [],
                generic=generic or {}, generic_errors=generic_errors, **context)


@blueprint.get("/cases/new")
def start_case() -> Response:
    access.require_role(actor(), "agent")
    context = _start_context(request.args.get("process"))
    schema = runtime().forms.get(context["form_key"]) if context["form_key"] else {}
    return _render_start(context, formfields.to_raw(schema, {}), {})


@blueprint.post("/cases/new")
def start_case_post() -> Response:
    who = actor()
    access.require_role(who, "agent")
    context = _start_context(request.form.get("process"))
    if context["process"] is None:
        raise Invalid("no process is deployed")
    key = context["process"].key
    rt = runtime()
    if context["form_key"]:
        schema = rt.forms.get(context["form_key"])
        raw = formfields.raw_values(schema, request.form)
        action = request.form.get("_action", "")
        if action:
            formfields.change_rows(schema, raw, action)
            return _render_start(context, raw, {})
        data, errors = formfields.to_data(schema, raw)
        try:
            if errors:
                rt.forms.validate(context["form_key"], data)
                raise Invalid("form is invalid")
            started = workbench.register_project(rt.unit_of_work(), who, key, data)
        except Invalid as error:
            merged = {("project_code" if k == "business_key" else k): v for k, v in error.errors.items()}
            merged.update(errors)
            return _render_start(context, raw, merged, status=422,
                                 message="登记表有需要修改的地方，请按提示修改后再提交。")
    else:
        generic = {k: request.form.get(k, "").strip() for k in ("business_key", "project_name", "variables")}
        try:
            variables = json.loads(generic["variables"]) if generic["variables"] else {}
        except ValueError:
            return _render_start(context, {}, {"variables": ["不是有效的 JSON"]}, 422, generic=generic)
        try:
            project = {"project_name": generic["project_name"]} if generic["project_name"] else {}
            started = cases.start_case(rt.unit_of_work(), who, key, generic["business_key"], project=project,
                                       variables=variables if isinstance(variables, dict) else None)
        except Invalid as error:
            return _render_start(context, {}, error.errors or {"$": [error.detail]}, 422, generic=generic,
                                 message="有需要修改的地方。")
    done = "started" if started.created else "existing"
    return redirect(url_for("console.case", case_id=started.case.id, done=done), code=303)


def _stage_of(task: Any, elements: dict[str, Any]) -> str:
    item = task.item if isinstance(task.item, dict) else {}
    if isinstance(item.get("stage"), str) and item["stage"]:
        return item["stage"]
    stage = ((elements.get(task.element_id) or {}).get("properties") or {}).get("stage")
    return stage if isinstance(stage, str) and stage and not stage.startswith("${") else ""


STAGE_ORDER = list(STAGE_NAMES)


def group_items(tasks: list[Any], elements: dict[str, Any],
                sequence: dict[str, int] | None = None) -> list[tuple[str, list[dict[str, Any]]]]:
    """Rows of the case page by stage (in the process's order): one per approval item (its
    latest step), one per other task. `sequence` orders steps created at the same instant
    (the order of their `task_created` events)."""
    sequence = sequence or {}
    stages: dict[str, dict[str, dict[str, Any]]] = {}
    for task in sorted(tasks, key=lambda t: (t.created_at, sequence.get(t.id, 0))):
        if task.state == TaskStatus.ERROR:
            continue
        stage = _stage_of(task, elements)
        item = task.item if isinstance(task.item, dict) else None
        key = (f"item:{item.get('code') or item.get('name')}@{item.get('department')}:{item.get('facility') or ''}"
               if item and item.get("name") else f"task:{task.id}")
        rows = stages.setdefault(stage, {})
        row = rows.setdefault(key, {"name": (item or {}).get("name") or task.name, "department": task.department
                                    or (item or {}).get("department"), "steps": [], "item": item})
        row["steps"].append(task)
    result = []
    for stage, rows in stages.items():
        entries = []
        for row in rows.values():
            steps = row["steps"]
            open_steps = [t for t in steps if t.state == TaskStatus.READY]
            current = open_steps[-1] if open_steps else steps[-1]
            decision = None
            for t in reversed(steps):
                if t.state == TaskStatus.COMPLETED and isinstance(t.data, dict) and t.data.get("decision"):
                    decision = t.data["decision"]
                    break
            entries.append({**row, "current": current, "open": bool(open_steps), "decision": decision})
        result.append((stage, entries))
    result.sort(key=lambda group: STAGE_ORDER.index(group[0]) if group[0] in STAGE_ORDER else len(STAGE_ORDER))
    return result


@blueprint.get("/cases/<case_id>")
def case(case_id: str) -> Response:
    who = actor()
    rt = runtime()
    with rt.unit_of_work(write=False) as uow:
        found, tasks, _variables = queries.case_detail(uow, who, case_id)
        events = queries.visible_history(uow, who, found)
        definition = load_definition(uow, found.definition_id)
        try:
            escalations = escalation.list_escalations(uow, who, case_id=case_id)
        except Forbidden:
            escalations = []
        svg = diagram.case_diagram(uow, who, case_id)
        open_incidents = repair.case_incidents(uow, who, case_id)
        timing = statistics.case_timing(uow, who, case_id)  # issue 14: elapsed against serial
    try:
        access.require_case_driver(who, found.started_by)
        may_drive = True
    except Forbidden:
        may_drive = False
    item_names = {t.id: (t.item or {}).get("name") if isinstance(t.item, dict) else None for t in tasks}
    return page("case.html", case=found, tasks=tasks, open_tasks=[t for t in tasks if t.state == TaskStatus.READY],
                groups=group_items(tasks, definition.elements or {},
                                   {e.task_id: e.id for e in events if e.type == "task_created" and e.task_id}),
                events=events[-300:],
                events_total=len(events), definition=definition,
                escalations=escalations, diagram=Markup(svg), may_drive=may_drive, item_names=item_names,
                incidents=open_incidents, timing=timing,
                now=rt.clock(), notice=notice(), decision_words=DECISION_WORDS)


DECISION_WORDS = {"approve": "准予许可", "approve_pending_materials": "容缺许可（待补材料）", "refuse": "不予许可",
                  "correction": "补正", "accept": "受理", "accept_with_commitment": "容缺受理", "reject": "不予受理"}


@blueprint.get("/cases/<case_id>/diagram.svg")
def case_svg(case_id: str) -> Response:
    with runtime().unit_of_work(write=False) as uow:
        svg = diagram.case_diagram(uow, actor(), case_id)
    return Response(svg, mimetype="image/svg+xml")


def _reason() -> str:
    reason = request.form.get("reason", "").strip()
    if len(reason) > MAX_TEXT:
        raise Invalid("reason is too long", {"reason": [f"must have at most {MAX_TEXT} characters"]})
    return reason


def _verb(verb: Any, case_id: str, done: str) -> Response:
    verb(runtime().unit_of_work(), actor(), case_id, _reason())
    return redirect(url_for("console.case", case_id=case_id, done=done), code=303)


@blueprint.post("/cases/<case_id>/suspend")
def suspend(case_id: str) -> Response:
    return _verb(cases.suspend_case, case_id, "suspended")


@blueprint.post("/cases/<case_id>/resume")
def resume(case_id: str) -> Response:
    return _verb(cases.resume_case, case_id, "resumed")


@blueprint.post("/cases/<case_id>/cancel")
def cancel(case_id: str) -> Response:
    return _verb(cases.cancel_case, case_id, "cancelled")


@blueprint.post("/cases/<case_id>/message")
def message(case_id: str) -> Response:
    name = request.form.get("name", "").strip()
    raw = request.form.get("payload", "").strip()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        raise Invalid("payload is not JSON", {"payload": ["not valid JSON"]}) from None
    cases.deliver_message(runtime().unit_of_work(), actor(), case_id, name, payload)
    return redirect(url_for("console.case", case_id=case_id, done="message"), code=303)



@blueprint.post("/cases/<case_id>/retry")
def retry(case_id: str) -> Response:
    """Run the case's failed steps again once their cause is fixed (`POST /cases/{id}/retry`)."""
    repair.retry_case(runtime().unit_of_work(), actor(), case_id, _reason())
    return redirect(url_for("console.case", case_id=case_id, done="retried"), code=303)
