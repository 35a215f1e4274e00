"""A task: its form rendered from the JSON Schema with the case beside it; claim, unclaim,
complete. Validation errors come back from the engine (the same ones the API returns) and are
shown in Chinese next to their fields, with everything typed kept."""
from __future__ import annotations

from typing import Any

from flask import Response, redirect, request, url_for

from api.console import formfields
from api.console.blueprint import blueprint
from api.console.views_work import notice
from api.console.web import actor, page
from api.runtime import runtime
from engine.services import cases
from engine.domain.states import CaseStatus, TaskStatus
from engine.services import workbench
from engine.domain import fees as fee_rules
from engine.services import fees
from engine.errors import Invalid, NotFound
from engine.services.workflow import load_definition


def _context(task_id: str) -> dict[str, Any]:
    """The task (permission checked by the engine), its case as the viewer may see it, its form."""
    who = actor()
    rt = runtime()
    with rt.unit_of_work(write=False) as uow:
        row = cases.get_task(uow, who, task_id)
        case, tasks = workbench.case_for_task(uow, who, row)
        may_work = workbench.may_work(uow, who, row)
        fee_block = _fee_block(uow, row, case) if row.state == "ready" else None
    schema = None
    if row.form_key:
        try:
            schema = rt.forms.get(row.form_key)
        except NotFound:
            schema = None
    return {"task": row, "case": case, "case_tasks": tasks, "schema": schema,
            "may_work": may_work and row.state == TaskStatus.READY and case.status == CaseStatus.RUNNING, "fee_block": fee_block,
            "rules": fee_rules,
            "now": rt.clock()}


def _fee_block(uow, row, case) -> fees.FeeBlock | None:  # type: ignore[no-untyped-def]
    """Why the decision waits for its fee (一窗缴费), shown above the form; None: it does not."""
    return fees.unpaid_for_task(uow, row, load_definition(uow, case.definition_id).elements.get(row.element_id))


def _render(context: dict[str, Any], raw: dict[str, Any], errors: dict[str, list[str]],
            status: int = 200, message: str | None = None) -> Response:
    schema = context["schema"] or {"type": "object", "properties": {}}
    fields = formfields.build(schema, raw, errors)
    return page("task.html", status=status, fields=fields, summary=formfields.error_summary(fields),
                unplaced=formfields.unplaced_errors(fields, errors), message=message,
                notice=notice(), **context)


@blueprint.get("/tasks/<task_id>")
def task(task_id: str) -> Response:
    context = _context(task_id)
    # What the service already knows (the task's `prefill`: the registration for the agent,
    # the stages and contact for the agreement) fills the form; what is blank stays blank.
    raw = formfields.to_raw(context["schema"] or {}, context["task"].prefill or {})
    return _render(context, raw, {})


@blueprint.post("/tasks/<task_id>")
def complete(task_id: str) -> Response:
    context = _context(task_id)
    schema = context["schema"] or {"type": "object", "properties": {}}
    raw = formfields.raw_values(schema, request.form)
    action = request.form.get("_action", "")
    if action:  # add or remove a row: show the form again, nothing is submitted
        formfields.change_rows(schema, raw, action)
        return _render(context, raw, {})
    data, errors = formfields.to_data(schema, raw)
    rt = runtime()
    try:
        if errors:  # a value not even of its type: report it with every other problem, submit nothing
            if context["task"].form_key:
                rt.forms.validate(context["task"].form_key, data)
            raise Invalid("form is invalid")
        row = cases.complete_task(rt.unit_of_work(), actor(), task_id, data)
    except Invalid as error:
        merged = dict(error.errors)
        for path, messages in errors.items():
            merged[path] = messages  # "abc is not a number" says more than "required"
        return _render(context, raw, merged, status=422,
                       message="表单有需要修改的地方，请按提示修改后再提交。")
    if actor().role == "agent":
        return redirect(url_for("console.case", case_id=row.case_id, done="completed"), code=303)
    return redirect(url_for("console.home", done="completed"), code=303)


def _back(default: str) -> str:
    target = request.form.get("back", "")
    if target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _with_done(target: str, done: str) -> str:
    return target + ("&" if "?" in target else "?") + f"done={done}"


@blueprint.post("/tasks/<task_id>/claim")
def claim(task_id: str) -> Response:
    cases.claim_task(runtime().unit_of_work(), actor(), task_id)
    return redirect(_with_done(_back(url_for("console.task", task_id=task_id)), "claimed"), code=303)


@blueprint.post("/tasks/<task_id>/unclaim")
def unclaim(task_id: str) -> Response:
    cases.unclaim_task(runtime().unit_of_work(), actor(), task_id)
    return redirect(_with_done(_back(url_for("console.task", task_id=task_id)), "unclaimed"), code=303)

