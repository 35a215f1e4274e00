"""Sign-in and sign-out.

The sign-in form has no session yet, so its CSRF token is a double-submit one: a random value
in an HttpOnly SameSite cookie and the same value in the form (a forged cross-site post cannot
read or set the cookie). Refusals never say whether the name exists; a locked account says it is
locked and until when.
"""
from __future__ import annotations

import secrets

from flask import Response, g, redirect, request, url_for

from api.console.blueprint import blueprint
from api.console.i18n import beijing
from api.console.web import LOGIN_COOKIE, page, session_cookie_name, set_cookie
from api.runtime import runtime
from engine.services import users

LOGIN_COOKIE_SECONDS = 3600


def _next_url() -> str:
    """Where to go after signing in: only a page of the console (no open redirect)."""
    target = request.values.get("next", "")
    if target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("console.home")


def _login_page(status: int = 200, error: str | None = None, name: str = "") -> Response:
    token = secrets.token_urlsafe(24)
    response = page("login.html", status=status, login_token=token, error=error, name=name, next=_next_url())
    set_cookie(response, LOGIN_COOKIE, token, max_age=LOGIN_COOKIE_SECONDS)
    return response


@blueprint.get("/login")
def login() -> Response:
    return _login_page()


@blueprint.post("/login")
def login_post() -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not users.csrf_matches(expected, request.form.get("csrf_token")):
        return _login_page(400, "登录表单已失效（CSRF 校验失败），请重新输入。")
    name = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    try:
        signed = users.sign_in_counted(runtime().unit_of_work(), name, password)  # a failure counts
    except users.SignInRefused as refused:
        if refused.locked_until is not None:
            message = (f"连续 {users.MAX_FAILURES} 次密码错误，账户已锁定至 {beijing(refused.locked_until)}。"
                       "请稍后再试，或请管理员重设密码。")
            return _login_page(429, message, name)
        return _login_page(401, "用户名或密码错误。", name)
    response = redirect(_next_url(), code=303)
    set_cookie(response, session_cookie_name(), signed.token)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@blueprint.post("/logout")
def logout() -> Response:
    users.sign_out(runtime().unit_of_work(), g.session_token)
    response = redirect(url_for("console.login") + "?signed_out=1", code=303)
    response.delete_cookie(session_cookie_name(), path="/", secure=True if session_cookie_name().startswith("__Host-") else False,
                           httponly=True, samesite="Lax")
    return response
