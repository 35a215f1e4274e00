"""Signing in and out of the console: passwords, lock-out, sessions, cookies, CSRF on the form."""
from __future__ import annotations

from sqlalchemy import select

from engine.services import users
from engine.adapters.models import ConsoleSession, User
from tests.console.conftest import PASSWORD, Browser


def _cookie(response, name: str) -> str:  # type: ignore[no-untyped-def]
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "="))


def test_a_page_without_a_session_goes_to_sign_in_and_back(app, people):
    b = Browser(app)
    response = b.get("/console/tasks?sla=red")
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/login?next=%2Fconsole%2Ftasks%3Fsla%3Dred"
    login = b.get(response.headers["Location"])
    assert 'name="next" value="/console/tasks?sla=red"' in login.get_data(as_text=True)
    done = b.post("/console/login", {"username": "fgj", "password": PASSWORD, "next": "/console/tasks?sla=red"})
    assert done.status_code == 303 and done.headers["Location"] == "/console/tasks?sla=red"
    assert b.get("/console/tasks?sla=red").status_code == 200


def test_the_password_is_kept_as_a_scrypt_hash_and_the_cookie_is_httponly_lax(app, people, runtime):
    with runtime.unit_of_work(write=False) as uow:
        stored = uow.session.scalar(select(User.password_hash).where(User.name == "alice"))
    assert stored.startswith("scrypt:") and PASSWORD not in stored
    b = Browser(app)
    b.get("/console/login")
    response = b.post("/console/login", {"username": "alice", "password": PASSWORD})
    cookie = _cookie(response, "ow_console")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    with runtime.unit_of_work(write=False) as uow:
        ids = list(uow.session.scalars(select(ConsoleSession.id)))
    assert ids == [users.hash_token(token)]  # only the hash of the cookie is stored


def test_behind_https_the_cookie_is_secure_and_forwarded_proto_counts_only_when_trusted(app, people):
    b = Browser(app)
    b.get("/console/login")
    spoofed = b.post("/console/login", {"username": "alice", "password": PASSWORD},
                     headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in _cookie(spoofed, "ow_console")
    app.config["TRUST_PROXY"] = True
    b = Browser(app)
    b.get("/console/login", headers={"X-Forwarded-Proto": "https"})
    proxied = b.post("/console/login", {"username": "alice", "password": PASSWORD},
                     headers={"X-Forwarded-Proto": "https"})
    cookie = _cookie(proxied, "__Host-ow_console")
    assert "Secure" in cookie and "Path=/" in cookie and "HttpOnly" in cookie
    direct = Browser(app)
    direct.client.get("/console/login", base_url="https://localhost")
    page = direct.client.get("/console/login", base_url="https://localhost")
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    secure = direct.client.post("/console/login", base_url="https://localhost",
                                data={"username": "bob", "password": PASSWORD, "csrf_token": token})
    assert "Secure" in _cookie(secure, "__Host-ow_console")


def test_wrong_passwords_lock_the_account_for_a_while(app, people, clock):
    b = Browser(app)
    for attempt in range(users.MAX_FAILURES - 1):
        b.get("/console/login")
        response = b.post("/console/login", {"username": "alice", "password": "wrong password"})
        assert response.status_code == 401
        assert "用户名或密码错误" in response.get_data(as_text=True)
    b.get("/console/login")
    locked = b.post("/console/login", {"username": "alice", "password": "wrong again"})
    assert locked.status_code == 429 and "账户已锁定" in locked.get_data(as_text=True)
    b.get("/console/login")
    still = b.post("/console/login", {"username": "alice", "password": PASSWORD})
    assert still.status_code == 429  # even the right password waits out the lock
    clock.advance(minutes=users.LOCK_MINUTES + 1)
    assert b.sign_in("alice").status_code == 303


def test_an_unknown_name_is_refused_like_a_wrong_password(app, people):
    b = Browser(app)
    b.get("/console/login")
    response = b.post("/console/login", {"username": "nobody", "password": PASSWORD})
    assert response.status_code == 401 and "用户名或密码错误" in response.get_data(as_text=True)


def test_sign_in_needs_the_forms_csrf_token(app, people):
    b = Browser(app)
    b.get("/console/login")
    forged = b.post("/console/login", {"username": "alice", "password": PASSWORD, "csrf_token": "guess"})
    assert forged.status_code == 400 and "ow_console" not in "".join(forged.headers.getlist("Set-Cookie"))
    cold = Browser(app).post("/console/login", {"username": "alice", "password": PASSWORD, "csrf_token": "x"})
    assert cold.status_code == 400


def test_next_may_only_point_into_the_console(app, people):
    b = Browser(app)
    b.get("/console/login")
    for target in ("https://evil.example/", "//evil.example/console/", "/api/v1/cases", "/console/\\evil"):
        response = b.post("/console/login", {"username": "alice", "password": PASSWORD, "next": target})
        assert response.headers["Location"] == "/console/", target
        b.get("/console/login")


def test_signing_out_ends_the_session_on_the_server(app, people):
    b = Browser(app)
    b.sign_in("alice")
    stolen = b.client.get_cookie("ow_console").value
    out = b.post("/console/logout")
    assert out.status_code == 303 and out.headers["Location"].startswith("/console/login")
    thief = Browser(app)
    thief.client.set_cookie("ow_console", stolen)
    assert thief.get("/console/").status_code == 303  # back to the sign-in form


def test_a_new_password_or_a_revoked_user_ends_every_session(app, people, runtime):
    b = Browser(app)
    b.sign_in("alice")
    with runtime.unit_of_work() as uow:
        users.set_password(uow, "alice", "another password 9")
        uow.commit()
    assert b.get("/console/").status_code == 303
    assert b.sign_in("alice", "another password 9").status_code == 303
    with runtime.unit_of_work() as uow:
        users.revoke_user(uow, "alice")
        uow.commit()
    assert b.get("/console/").status_code == 303
    assert Browser(app).sign_in("alice", "another password 9").status_code == 401


def test_an_idle_session_ends(app, people, clock):
    b = Browser(app)
    b.sign_in("alice")
    clock.advance(minutes=users.TOUCH_MINUTES + 1)
    assert b.get("/console/").status_code == 200  # in use: seen again
    clock.advance(minutes=users.IDLE_MINUTES - 1)
    assert b.get("/console/").status_code == 200
    clock.advance(minutes=users.IDLE_MINUTES + 1)
    assert b.get("/console/").status_code == 303


def test_passwords_must_be_long_enough_and_not_the_name(runtime):
    import pytest

    from engine.errors import Invalid
    with runtime.unit_of_work() as uow:
        with pytest.raises(Invalid) as short:
            users.create_user(uow, "x1", "agent", password="short")
        assert "password" in short.value.errors
        with pytest.raises(Invalid):
            users.create_user(uow, "longusername", "agent", password="LongUserName")
        with pytest.raises(Invalid):
            users.create_user(uow, "a/b", "agent", password=PASSWORD)


def test_a_fresh_database_gets_one_admin_with_a_random_password(runtime):
    with runtime.unit_of_work() as uow:
        password = users.ensure_first_admin(uow)
        uow.commit()
    assert password and len(password) >= 12
    assert users.ensure_first_admin(runtime.unit_of_work()) is None  # never again
    with runtime.unit_of_work() as uow:
        signed = users.sign_in(uow, "admin", password)
        assert signed.actor.role == "admin"
