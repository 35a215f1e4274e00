"""The workbench each role sees first, the task inbox with its filters, and the case list."""
from __future__ import annotations

from flask import Response, redirect, request, url_for

from api.console.blueprint import blueprint
from api.console.web import actor, page
from api.runtime import runtime
from engine.services import definitions
from engine.adapters import queries
from engine.services import users
from engine.services import workbench
from engine.errors import Invalid
from engine.services import escalation
from engine.services import calendar_years

PER_PAGE = 50
STAGES = ["stage1_project_land", "eia", "stage2_works_permit", "stage3_construction_permit", "stage4_completion",
          "auxiliary", "pre_review", "intake", "site_opinions", "coordination", "enquiry", "closure"]
NOTICES = {"claimed": "已认领该任务。", "unclaimed": "已将任务退回部门待办。", "completed": "任务已办结。",
           "started": "案件已创建。", "existing": "该项目已有办理中的案件，已为您打开。",
           "suspended": "案件已中止。", "resumed": "案件已续办。", "cancelled": "案件已终止。",
           "message": "消息已送达案件。", "resolved": "督办已记录为已协调。", "deployed": "流程已部署。",
           "unchanged": "文件与最新版本相同，未产生新版本。", "user_created": "用户已创建。",
           "password": "密码已重设，该用户的登录会话已全部结束。", "revoked": "用户已停用。",
           "calendar": "日历已载入新版本。", "token": "已签发新的 API 令牌。", "retried": "已重试。"}


def notice() -> str | None:
    return NOTICES.get(request.args.get("done", ""))


def _int_arg(name: str, default: int, low: int = 1, high: int = 10_000) -> int:
    raw = request.args.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise Invalid(f"{name} must be a whole number from {low} to {high}", {name: ["out of range"]})
    return int(raw)


def inbox_view(template_context: dict | None = None, only_mine: bool = False) -> dict:
    """The inbox for the signed-in person from the query string (filters, sort, page)."""
    who = actor()
    args = request.args
    department = args.get("department") or None
    if who.role in ("staff", "leader", "agent"):
        department = None if who.role == "agent" else who.department if department is None else department
    sla = args.get("sla") or None
    with runtime().unit_of_work(write=False) as uow:
        found = workbench.inbox(uow, who, department=department, stage=args.get("stage") or None,
                                item=args.get("item") or None, sla=sla,
                                mine=only_mine or args.get("mine") == "1", sort=args.get("sort") or "due",
                                page=_int_arg("page", 1), per_page=PER_PAGE)
        names = workbench.case_names(uow, {t.case_id for t in found.page.items})
    return {"inbox": found, "names": names, "stages": STAGES, "filters": args, "now": runtime().clock(),
            **(template_context or {})}


@blueprint.get("/")
def home() -> Response:
    who = actor()
    rt = runtime()
    context: dict = {"notice": notice(), "now": rt.clock()}
    if who.role == "enterprise":  # its projects are all it has (issue 13)
        return redirect(url_for("console.projects_list"), code=303)
    if who.role == "agent":
        context.update(inbox_view(only_mine=True))
        with rt.unit_of_work(write=False) as uow:
            context["my_cases"] = queries.list_cases(uow, who, agent="me", per_page=20)
        return page("home_agent.html", **context)
    if who.role in ("staff", "leader"):
        context.update(inbox_view())
        if who.role == "leader":
            with rt.unit_of_work(write=False) as uow:
                context["escalations"] = escalation.list_escalations(uow, who, status="open")
                context["case_names"] = workbench.case_names(uow, {e.case_id for e in context["escalations"]})
        return page("home_staff.html", **context)
    if who.role == "government":
        with rt.unit_of_work(write=False) as uow:
            context["escalations"] = escalation.list_escalations(uow, who, status="open", level=3)
            context["case_names"] = workbench.case_names(uow, {e.case_id for e in context["escalations"]})
            context["regions"] = workbench.region_overview(uow, who)
        return page("home_government.html", **context)
    if who.role == "designer":
        with rt.unit_of_work(write=False) as uow:
            context["processes"] = workbench.definitions_overview(uow)
        return page("home_designer.html", **context)
    with rt.unit_of_work(write=False) as uow:  # admin
        context["incidents"] = workbench.incidents(uow, who, limit=20)
        context["users"] = users.list_users(uow)
        context["years"] = calendar_years.list_years(uow)
        context["processes"] = definitions.list_definitions(uow)
        context["escalations"] = escalation.list_escalations(uow, who, status="open", limit=20)
        context["case_names"] = workbench.case_names(uow, {e.case_id for e in context["escalations"]})
    return page("home_admin.html", **context)


@blueprint.get("/tasks")
def tasks() -> Response:
    return page("tasks.html", notice=notice(), **inbox_view())


@blueprint.get("/cases")
def cases() -> Response:
    who = actor()
    args = request.args
    status = args.get("status") or None
    if status is not None and status not in queries.CASE_STATUSES:
        raise Invalid("unknown status", {"status": ["unknown status"]})
    with runtime().unit_of_work(write=False) as uow:
        found = queries.list_cases(uow, who, status=status, business_key=(args.get("q") or "").strip() or None,
                                   overdue=True if args.get("overdue") == "1" else None,
                                   page=_int_arg("page", 1), per_page=PER_PAGE)
    return page("cases.html", found=found, filters=args, statuses=queries.CASE_STATUSES, notice=notice())

