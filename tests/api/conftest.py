"""API fixtures: the Flask app on the test runtime (test DB, injected clock), a client, users with tokens."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from api.app import create_app
from engine.services import users
from tests.conftest import BPMN

PROJECT_CODE = "2026-510117-34-01-000001"


@pytest.fixture
def app(runtime):
    app = create_app({"TESTING": True}, runtime=runtime)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


class Users:
    """Creates users on demand and remembers their tokens: `users.header("alice")`."""

    def __init__(self, runtime) -> None:
        self.runtime = runtime
        self.tokens: dict[str, str] = {}

    def create(self, name: str, role: str, department: str | None = None) -> str:
        with self.runtime.unit_of_work() as uow:
            token = users.create_user(uow, name, role, department)
            uow.commit()
        self.tokens[name] = token
        return token

    def header(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


@pytest.fixture
def api_users(runtime) -> Users:
    """admin, dora (designer), alice + bob (agents), staff per county department, a leader, gov."""
    u = Users(runtime)
    u.create("root", "admin")
    u.create("dora", "designer")
    u.create("alice", "agent")
    u.create("bob", "agent")
    u.create("fgj", "staff", "county.fgj")
    u.create("fgj2", "staff", "county.fgj")
    u.create("zrzyj", "staff", "county.zrzyj")
    u.create("sthjj", "staff", "county.sthjj")
    u.create("fgj-leader", "leader", "county.fgj")
    u.create("gov", "government")
    return u


def auth(api_users: Users, name: str) -> dict[str, str]:
    return api_users.header(name)


@pytest.fixture
def deploy(client, api_users) -> Callable[[str], dict]:
    def _deploy(name: str) -> dict:
        response = client.post("/api/v1/process-definitions", data=(BPMN / name).read_bytes(),
                               headers={**api_users.header("dora"), "Content-Type": "application/xml"},
                               query_string={"filename": name})
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()
    return _deploy


@pytest.fixture
def start_case(client, api_users) -> Callable[..., dict]:
    def _start(process_key: str = "parallel_approval", business_key: str = PROJECT_CODE, agent: str = "alice",
               **body) -> dict:
        response = client.post("/api/v1/cases", json={"process_key": process_key, "business_key": business_key,
                                                      "project": {"project_name": "郫都区新材料产业园",
                                                                  "contact_phone": "13800138000"},
                                                      **body},
                               headers=api_users.header(agent))
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()
    return _start
