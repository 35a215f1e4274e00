"""Project work groups in the console (issue 13): the list (filters by state, region, body), a
project's page (facts, members, cases, 补正 requests, questions with their clocks, timeline), and
the forms: add a project (投促局), ask, answer (answer + 初步意见), change members, remove / restore
(发改局). The same engine functions and rules as /api/v1/projects."""
from __future__ import annotations

from typing import Any

from flask import Response, request

from api.console import formfields
from api.console.blueprint import blueprint
from api.console.web import actor, page, see_other
from api.runtime import runtime
from engine.adapters import project_store
from engine.domain import projects as rules
from engine.services import cases
from engine.errors import Forbidden, Invalid, NotFound
from engine.services import projects, questions

NOTICES = {"added": "项目已加入工作群。", "asked": "问题已发送，各被问部门开始计时（24小时）。",
           "answered": "答复已提交。", "members": "工作群成员已更新。", "removed": "项目已移出工作群，未答复的问题已关闭。",
           "restored": "项目已恢复到工作群。", "coordinated": "已记录为已协调，不再提交上一级；被问部门仍须答复。", "started": "代办案件已创建，由代办员办理。",
           "corrected": "补正材料已提交，审批部门继续办理。"}
STATE_NAMES = {"active": "工作群中", "removed": "已移出"}
EVENT_NAMES = {"project.added": "加入工作群", "project.members_changed": "成员变更", "project.removed": "移出工作群",
               "project.restored": "恢复到工作群", "project.case_started": "代办案件立案",
               "project.contact_added": "企业联系人开通账号", "question.asked": "提出问题",
               "question.answered": "部门答复", "question.yellow": "答复临近期限（黄牌）",
               "question.red": "答复超期（红牌）", "question.escalated": "超期问题提交协调",
               "question.coordinated": "超期问题已协调"}
LABELS = {"code": "项目代码", "name": "项目名称", "enterprise.name": "企业名称", "enterprise.credit_code": "统一社会信用代码",
          "contact.name": "企业联系人", "contact.phone": "联系电话", "investment": "总投资", "agent": "代办员",
          "members": "工作群成员部门", "region": "地区"}
ASKED_AS = {"enterprise": "企业", "agent": "代办员", "member": "成员部门", "admin": "管理员"}


def _notice() -> str | None:
    return NOTICES.get(request.args.get("done", ""))


def _arg(name: str, limit: int = 120) -> str | None:
    value = (request.args.get(name) or "").strip()
    if len(value) > limit:
        raise Invalid(f"{name} is too long", {name: ["too long"]})
    return value or None


@blueprint.get("/projects")
def projects_list() -> Response:
    who = actor()
    filters = {"state": _arg("state"), "region": _arg("region"), "department": _arg("department")}
    rt = runtime()
    with rt.unit_of_work(write=False) as uow:
        rows, total = projects.list_projects(uow, who, limit=500, **filters)
        counts = project_store.counts_by_project(uow, [p.code for p in rows])
        items = [projects.project_dict(p, counts[p.code], uow.organisation) for p in rows]
        may_add = who.is_admin or rules.body_with_role(uow.organisation, who.department, "promoter") is not None
        regions = uow.organisation.regions()
        bodies = uow.organisation.list()
    return page("projects.html", items=items, total=total, filters=filters, states=STATE_NAMES, regions=regions,
                bodies=bodies, may_add=may_add, notice=_notice())


@blueprint.get("/projects/new")
def project_new() -> Response:
    who = actor()
    with runtime().unit_of_work(write=False) as uow:
        body = rules.body_with_role(uow.organisation, who.department, "promoter")
        region = body.region if body is not None else uow.organisation.default_region
        candidates = uow.organisation.bodies_of(region)
        defaults = set(rules.default_members(uow.organisation, region))
    return page("project_new.html", candidates=candidates, defaults=defaults, region=region, values={}, errors={},
                labels=LABELS)


def _form_project() -> dict[str, Any]:
    form = request.form
    data: dict[str, Any] = {
        "code": form.get("code", "").strip(), "name": form.get("name", "").strip(),
        "enterprise": {"name": form.get("enterprise_name", "").strip()},
        "contact": {"name": form.get("contact_name", "").strip()},
        "agent": form.get("agent", "").strip() or None, "members": form.getlist("members"), "facts": {}}
    if form.get("credit_code", "").strip():
        data["enterprise"]["credit_code"] = form["credit_code"].strip()
    if form.get("contact_phone", "").strip():
        data["contact"]["phone"] = form["contact_phone"].strip()
    investment = form.get("investment", "").strip()
    if investment:
        try:
            data["facts"]["investment"] = float(investment) if "." in investment else int(investment)
        except ValueError:
            raise Invalid("investment must be a number", {"investment": ["须为数字（万元）"]}) from None
    for name in ("industry", "address"):
        if form.get(name, "").strip():
            data["facts"][name] = form[name].strip()[:255]
    return data


@blueprint.post("/projects")
def project_add() -> Response:
    who = actor()
    data: dict[str, Any] = {"members": request.form.getlist("members")}
    try:
        data = _form_project()
        project = projects.add_project(runtime().unit_of_work(), who, data)
    except Invalid as error:
        with runtime().unit_of_work(write=False) as uow:
            body = rules.body_with_role(uow.organisation, who.department, "promoter")
            region = body.region if body is not None else uow.organisation.default_region
            candidates = uow.organisation.bodies_of(region)
        return page("project_new.html", status=422, candidates=candidates, defaults=set(data["members"]),
                    region=region, values=request.form, errors=error.errors, labels=LABELS)
    return see_other("console.project_page", code=project.code, done="added")


@blueprint.get("/projects/<code>")
def project_page(code: str) -> Response:
    return render_project(code)


def render_project(code: str, status: int = 200, **extra: Any) -> Response:
    """A project's page; `extra` adds what a form posted on it shows again (its errors, a result
    shown once)."""
    who = actor()
    rt = runtime()
    with rt.unit_of_work(write=False) as uow:
        shown = projects.view(uow, who, code)
        project = shown.project
        organisation = uow.organisation
        may = {
            "ask": _may_ask(uow, who, project),
            "members": project.state == "active" and projects._has_region_role(  # noqa: SLF001
                uow, who, project, "promoter", "group_owner"),
            "remove": projects._has_region_role(uow, who, project, "group_owner"),  # noqa: SLF001
            "start": project.state == "active" and bool(project.agent) and (
                who.is_admin or project.agent == who.name
                or projects._has_region_role(uow, who, project, "promoter")),  # noqa: SLF001
            "contact": project.state == "active" and (who.is_admin or (who.role == "agent" and project.agent == who.name)),
        }
        outside = [b for b in organisation.list() if b.code not in {m["department"] for m in shown.members}
                   and b.region in {project.region, *(r.code for r in organisation.region_chain(project.region))}]
        region_name = organisation.region(project.region).full_name
    context: dict[str, Any] = {"contact_form": {}, "contact_errors": {}, "created": None, **extra}
    return page("project.html", status=status, project=project, shown=shown, may=may, outside=outside,
                region_name=region_name, reasons=rules.REMOVAL_REASONS, states=STATE_NAMES, events=EVENT_NAMES,
                asked_as=ASKED_AS, now=rt.clock(), notice=_notice(), **context)


def _may_ask(uow, who, project) -> bool:  # type: ignore[no-untyped-def]
    if project.state != "active":
        return False
    try:
        questions._asked_as(uow, who, project)  # noqa: SLF001 - the same rule as the API
    except Exception:  # noqa: BLE001 - Forbidden: no form
        return False
    return True


@blueprint.post("/projects/<code>/questions")
def project_ask(code: str) -> Response:
    data = {"text": request.form.get("text", ""), "departments": request.form.getlist("departments")}
    questions.ask(runtime().unit_of_work(), actor(), code, data)
    return see_other("console.project_page", code=code, done="asked")


@blueprint.post("/questions/<int:question_id>/answer")
def question_answer(question_id: int) -> Response:
    data = {"answer": request.form.get("answer", ""), "preliminary_opinion": request.form.get("preliminary_opinion", "")}
    if request.form.get("department"):
        data["department"] = request.form["department"]
    row = questions.answer(runtime().unit_of_work(), actor(), question_id, data)
    return see_other("console.project_page", code=row.project_code, done="answered")


@blueprint.post("/questions/<int:question_id>/coordinate")
def question_coordinate(question_id: int) -> Response:
    row = questions.coordinate(runtime().unit_of_work(), actor(), question_id, request.form.get("department", ""),
                               request.form.get("note", "")[:2000])
    return see_other("console.project_page", code=row.project_code, done="coordinated")


@blueprint.post("/projects/<code>/members")
def project_members(code: str) -> Response:
    data: dict[str, Any] = {"add": [c for c in request.form.getlist("add") if c],
                            "remove": [c for c in request.form.getlist("remove") if c]}
    if request.form.get("agent", "").strip():
        data["agent"] = request.form["agent"].strip()
    projects.change_members(runtime().unit_of_work(), actor(), code, data)
    return see_other("console.project_page", code=code, done="members")


@blueprint.post("/projects/<code>/remove")
def project_remove(code: str) -> Response:
    projects.remove_project(runtime().unit_of_work(), actor(), code, request.form.get("reason", ""),
                            request.form.get("note", "")[:2000])
    return see_other("console.project_page", code=code, done="removed")


@blueprint.post("/projects/<code>/restore")
def project_restore(code: str) -> Response:
    projects.restore_project(runtime().unit_of_work(), actor(), code, request.form.get("note", "")[:2000])
    return see_other("console.project_page", code=code, done="restored")


@blueprint.post("/projects/<code>/cases")
def project_start_case(code: str) -> Response:
    case_id = projects.start_case(runtime().unit_of_work(), actor(), code, "one_window_agency").case.id
    if actor().role == "agent" or actor().is_admin:
        return see_other("console.case", case_id=case_id, done="started")
    return see_other("console.project_page", code=code, done="started")


# --------------------------------------------------------------------------- 补正 answered by the enterprise


def _correction(code: str, task_id: str) -> dict[str, Any]:
    """An open 补正 request of the project (what was asked, the form to answer it); the engine
    decides who may answer it (the project's agent or enterprise contact)."""
    who = actor()
    rt = runtime()
    with rt.unit_of_work(write=False) as uow:
        shown = projects.view(uow, who, code)
        request_ = next((c for c in shown.corrections if c["task_id"] == task_id), None)
        if request_ is None:
            raise NotFound(f"no open correction request {task_id} in project {code}")
        if not (who.role in ("agent", "enterprise") or who.is_admin):
            raise Forbidden(f"{who.name} does not answer correction requests")
    form_key = "correction_response"
    return {"project": shown.project, "request": request_, "schema": rt.forms.get(form_key), "form_key": form_key}


def _render_correction(context: dict[str, Any], raw: dict[str, Any], errors: dict[str, list[str]],
                       status: int = 200, message: str | None = None) -> Response:
    fields = formfields.build(context["schema"], raw, errors)
    return page("project_correction.html", status=status, fields=fields, summary=formfields.error_summary(fields),
                unplaced=formfields.unplaced_errors(fields, errors), message=message, **context)


@blueprint.get("/projects/<code>/corrections/<task_id>")
def project_correction(code: str, task_id: str) -> Response:
    context = _correction(code, task_id)
    return _render_correction(context, formfields.to_raw(context["schema"], {}), {})


@blueprint.post("/projects/<code>/corrections/<task_id>")
def project_correction_answer(code: str, task_id: str) -> Response:
    context = _correction(code, task_id)
    schema = context["schema"]
    raw = formfields.raw_values(schema, request.form)
    action = request.form.get("_action", "")
    if action:  # add or remove a row: the form again, nothing submitted
        formfields.change_rows(schema, raw, action)
        return _render_correction(context, raw, {})
    data, errors = formfields.to_data(schema, raw)
    rt = runtime()
    try:
        if errors:
            rt.forms.validate(context["form_key"], data)
            raise Invalid("form is invalid")
        cases.complete_task(rt.unit_of_work(), actor(), task_id, data)
    except Invalid as error:
        return _render_correction(context, raw, {**error.errors, **errors}, status=422,
                                  message="表单有需要修改的地方，请按提示修改后再提交。")
    return see_other("console.project_page", code=code, done="corrected")
