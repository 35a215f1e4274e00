"""What every console page shares: the signed-in actor, CSRF checks, security headers,
rendering, and errors as pages in Chinese."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from api.console import i18n
from api.runtime import runtime
from engine.services import users
from engine.domain.access import Actor
from engine.errors import Conflict, DomainError, Forbidden, Invalid, NotFound

SESSION_COOKIE = "ow_console"
SECURE_SESSION_COOKIE = "__Host-ow_console"  # the browser insists on Secure, Path=/ and no Domain
LOGIN_COOKIE = "ow_login_csrf"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
OPEN_ENDPOINTS = {"console.login", "console.login_post", "console.static"}
STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, Invalid: 422}


def is_https() -> bool:
    """HTTPS as the browser sees it; X-Forwarded-Proto counts only when the operator says a
    proxy sets it (ONEWINDOW_TRUST_PROXY=true), else anyone could claim it."""
    if request.is_secure:
        return True
    if current_app.config.get("TRUST_PROXY"):
        return request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower() == "https"
    return False


def session_cookie_name() -> str:
    return SECURE_SESSION_COOKIE if is_https() else SESSION_COOKIE


def set_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="Lax",
                        secure=is_https())


def actor() -> Actor:
    return g.console_actor


def page(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(f"console/{template}", **context), status=status, mimetype="text/html")


def see_other(endpoint: str, **values: Any) -> Response:
    """Post/redirect/get: 303 to a page (`done=` names a fixed notice, never free text)."""
    return redirect(url_for(endpoint, **values), code=303)


def error_page(status: int, message: str, back: str | None = None,
               fields: list[tuple[str, str]] | None = None) -> Response:
    """The error page; `fields` lists an Invalid's per-field messages (name, message) under it."""
    return page("error.html", status=status, status_code=status, message=message, fields=fields or [],
                back=back or g.get("back") or url_for("console.home"))


def _safe_referrer() -> str | None:
    referrer = request.referrer or ""
    root = request.host_url.rstrip("/")
    if referrer.startswith(root + "/console/"):
        return referrer[len(root):]
    return None


def install(blueprint: Blueprint) -> None:
    @blueprint.before_request
    def _load_session() -> Response | None:
        g.back = _safe_referrer()
        if request.endpoint in OPEN_ENDPOINTS:
            return None
        token = request.cookies.get(session_cookie_name(), "")
        rt = runtime()
        with rt.unit_of_work(write=False) as uow:
            found = users.session_of(uow, token)
        if found is None:
            target = request.full_path if request.method == "GET" else url_for("console.home")
            return redirect(url_for("console.login") + "?" + urlencode({"next": target.rstrip("?")}), code=303)
        if found.stale:
            users.touch_session(rt.unit_of_work(), token)
        g.console_actor, g.csrf_token, g.session_token = found.actor, found.csrf_token, token
        if request.method == "POST" and not users.csrf_matches(found.csrf_token, request.form.get("csrf_token")):
            return error_page(400, "表单校验码缺失或已失效（CSRF）。请回到上一页刷新后再提交。")
        return None

    @blueprint.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.endpoint != "console.static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @blueprint.errorhandler(DomainError)
    def _domain(error: DomainError) -> Response:
        status = next((STATUS[c] for c in type(error).__mro__ if c in STATUS), 400)
        return error_page(status, i18n.detail(error.detail), fields=i18n.field_errors(error.errors))

    @blueprint.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        words = {404: "页面不存在", 405: "不支持这种请求方式", 413: "上传的内容太大", 400: "请求有误"}
        return error_page(error.code or 500, words.get(error.code or 0, error.name))

    @blueprint.app_template_global("csrf_token")
    def _csrf() -> str:
        return g.get("csrf_token", "")

    @blueprint.app_template_global("console_actor")
    def _actor() -> Actor | None:
        return g.get("console_actor")

    @blueprint.app_context_processor
    def _words() -> dict[str, Any]:
        return {"i18n": i18n, "beijing": i18n.beijing, "role_name": i18n.ROLE_NAMES,
                "organisation": runtime().organisation}


def view(blueprint: Blueprint, rule: str, **options: Any) -> Callable:
    return blueprint.route(rule, **options)
