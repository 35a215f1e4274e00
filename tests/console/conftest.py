"""Console fixtures: the Flask app on the test runtime, people with passwords, a browser-like
client that signs in through the form (CSRF included) and reads the tokens pages give."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.app import create_app
from engine.services import users

PASSWORD = "correct horse 7"
PROCESSES = Path(__file__).resolve().parents[2] / "processes"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(runtime):
    return create_app({"TESTING": True}, runtime=runtime)


class Browser:
    """A test client that behaves like a browser: keeps cookies, sends the page's CSRF token."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.client = app.test_client()
        self.csrf: str | None = None

    def get(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        response = self.client.get(path, **kwargs)
        found = CSRF.search(response.get_data(as_text=True))
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, path: str, data: dict | None = None, csrf: bool = True, **kwargs):  # type: ignore[no-untyped-def]
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.csrf
        return self.client.post(path, data=data, **kwargs)

    def sign_in(self, name: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        self.get("/console/login")
        response = self.post("/console/login", {"username": name, "password": password})
        if response.status_code == 303:
            self.get("/console/")
        return response


class People:
    """Users with console passwords, created on demand."""

    def __init__(self, runtime) -> None:  # type: ignore[no-untyped-def]
        self.runtime = runtime

    def add(self, name: str, role: str, department: str | None = None, password: str = PASSWORD) -> str:
        with self.runtime.unit_of_work() as uow:
            token = users.create_user(uow, name, role, department, password=password)
            uow.commit()
        return token


@pytest.fixture
def people(runtime) -> People:
    p = People(runtime)
    p.add("root", "admin")
    p.add("dora", "designer")
    p.add("alice", "agent")
    p.add("bob", "agent")
    p.add("fgj", "staff", "county.fgj")
    p.add("fgj2", "staff", "county.fgj")
    p.add("zrzyj", "staff", "county.zrzyj")
    p.add("zwfw", "staff", "county.zwfw")
    p.add("fgj-leader", "leader", "county.fgj")
    p.add("gov", "government")
    return p


@pytest.fixture
def browser(app, people):  # type: ignore[no-untyped-def]
    def open_as(name: str | None = None) -> Browser:
        b = Browser(app)
        if name:
            response = b.sign_in(name)
            assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return b
    return open_as


@pytest.fixture
def shipped(runtime):
    """The shipped processes deployed."""
    from engine.domain.access import SYSTEM
    from engine.services.definitions import deploy_directory
    deploy_directory(runtime.unit_of_work, SYSTEM, PROCESSES)
