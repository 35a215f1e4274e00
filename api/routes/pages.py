"""HTML pages for people: the public progress page (公开监督) and its look-up form.

No login, nothing but what `engine.services.progress` lets the public see; the JSON twin is
`/api/v1/public/projects/{business_key}`. Pages send a strict Content-Security-Policy (no
scripts at all) and Jinja escapes every value.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, Response, redirect, render_template, request, url_for

from api.runtime import runtime
from engine.services import progress
from engine.errors import NotFound

blueprint = Blueprint("pages", __name__)
BEIJING = timezone(timedelta(hours=8))
CSP = ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
MAX_CODE = 120


@blueprint.app_template_filter("beijing")
def beijing(moment: datetime | None) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _page(template: str, status: int = 200, **context) -> Response:  # type: ignore[no-untyped-def]
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blueprint.get("/")
def home():  # type: ignore[no-untyped-def]
    return redirect(url_for("pages.lookup"))


@blueprint.get("/progress")
def lookup():  # type: ignore[no-untyped-def]
    """The look-up form; `?code=` goes to that project's page."""
    code = (request.args.get("code") or "").strip()
    if code and len(code) <= MAX_CODE:
        return redirect(url_for("pages.project", business_key=code))
    error = "项目代码过长 (the project code is too long)" if code else None
    return _page("lookup.html", status=422 if error else 200, error=error)


@blueprint.get("/progress/<business_key>")
def project(business_key: str):  # type: ignore[no-untyped-def]
    rt = runtime()
    try:
        with rt.unit_of_work(write=False) as uow:
            view = progress.public_progress(uow, rt.organisation, business_key)
    except NotFound:
        return _page("lookup.html", status=404, code=business_key,
                     error=f"未找到项目代码为 {business_key} 的项目 (no project with this code)")
    return _page("progress.html", project=view, groups=progress.by_stage(view),
                 stage_name=progress.stage_name, limit_name=_limit_name)


_UNITS = (("working days", "个工作日"), ("working hours", "个工作小时"), ("days", "天"), ("hours", "小时"))


def _limit_name(limit: str | None) -> str:
    """`20 working days` → `20个工作日` (a limit written otherwise is shown as written)."""
    if not limit:
        return "—"
    text = limit.strip()
    for english, chinese in _UNITS:
        if text.lower().endswith(" " + english) and text[: -len(english)].strip().isdigit():
            return text[: -len(english)].strip() + chinese
    return text
