"""Administration: users (create, reset a password, revoke, new API token), calendar years,
the organisation. Admins only (the same `require_role` the API's admin routes use)."""
from __future__ import annotations

import json
import secrets

from flask import Response, redirect, request, url_for

from api.console.blueprint import blueprint
from api.console.views_work import notice
from api.console.web import actor, page
from api.runtime import runtime
from engine.domain import access
from engine.services import users
from engine.domain.access import ROLES
from engine.errors import DomainError, Invalid
from engine.services import calendar_years

MAX_CALENDAR = 512 * 1024


def _admin() -> None:
    access.require_role(actor(), "admin")


@blueprint.get("/admin")
def admin() -> Response:
    _admin()
    return redirect(url_for("console.home"), code=303)


def _users_page(status: int = 200, **context) -> Response:  # type: ignore[no-untyped-def]
    rt = runtime()
    with rt.unit_of_work(write=False) as uow:
        rows = users.list_users(uow)
    return page("admin_users.html", status=status, users=rows, roles=[r for r in ROLES if r != "system"],
                now=rt.clock(), notice=notice(), form=context.pop("form", {}), **context)


@blueprint.get("/admin/users")
def admin_users() -> Response:
    _admin()
    return _users_page()


@blueprint.post("/admin/users")
def admin_create_user() -> Response:
    _admin()
    form = {k: request.form.get(k, "").strip() for k in ("name", "role", "department")}
    password = request.form.get("password", "")
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    try:
        token = users.create_user(runtime().unit_of_work(), form["name"], form["role"], form["department"] or None,
                                  password=password)
    except DomainError as error:
        return _users_page(status=422 if isinstance(error, Invalid) else 409, form=form, errors=error.errors,
                           message=error.detail)
    return _users_page(created={"name": form["name"], "token": token, "password": generated})


@blueprint.post("/admin/users/<name>/password")
def admin_password(name: str) -> Response:
    _admin()
    password = secrets.token_urlsafe(12)
    users.set_password(runtime().unit_of_work(), name, password)
    return _users_page(created={"name": name, "password": password})


@blueprint.post("/admin/users/<name>/revoke")
def admin_revoke(name: str) -> Response:
    _admin()
    if name == actor().name:
        raise Invalid("you cannot revoke yourself", {"name": ["cannot revoke yourself"]})
    users.revoke_user(runtime().unit_of_work(), name)
    return redirect(url_for("console.admin_users", done="revoked"), code=303)


@blueprint.post("/admin/users/<name>/token")
def admin_token(name: str) -> Response:
    _admin()
    token = users.reissue_token(runtime().unit_of_work(), name)
    return _users_page(created={"name": name, "token": token})


@blueprint.get("/admin/calendar")
def admin_calendar() -> Response:
    _admin()
    return _calendar_page()


def _calendar_page(status: int = 200, **context) -> Response:  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        years = calendar_years.list_years(uow)
    return page("admin_calendar.html", status=status, years=years, notice=notice(), **context)


@blueprint.post("/admin/calendar")
def admin_load_calendar() -> Response:
    _admin()
    upload = request.files.get("file")
    raw = upload.read(MAX_CALENDAR + 1) if upload is not None else b""
    try:
        if not raw or len(raw) > MAX_CALENDAR:
            raise Invalid("choose a calendar JSON file (at most 512 KB)", {"file": ["required"]})
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise Invalid(f"the file is not JSON: {error}", {"file": ["not JSON"]}) from None
        calendar_years.load_year(runtime().unit_of_work(), data, actor().name)
    except Invalid as error:
        problems = [f"{k}: {m}" for k, ms in error.errors.items() for m in ms] or [error.detail]
        return _calendar_page(status=422, problems=problems, detail=error.detail)
    return redirect(url_for("console.admin_calendar", done="calendar"), code=303)


@blueprint.get("/admin/organisation")
def admin_organisation() -> Response:
    _admin()
    organisation = runtime().organisation
    regions = [(region, sorted(organisation.bodies_of(region.code), key=lambda d: (d.kind != "service_centre",
                                                                                 d.kind != "government", d.code)))
               for region in organisation.regions()]
    return page("admin_organisation.html", regions=regions, levels=organisation.coordination_levels)
