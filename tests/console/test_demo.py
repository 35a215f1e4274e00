"""`onewindow demo load`: people of every role who can sign in, cases in every state."""
from __future__ import annotations

import re

from sqlalchemy import select

from api.app import create_app
from engine.adapters.models import Case, Escalation, Task


def test_the_demo_has_every_role_and_every_state(runtime):
    runner = create_app(runtime=runtime).test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    people = dict(re.findall(r"^  (\S+)\s+(\S+)\s+(?:admin|designer|agent|staff|leader|government)\b", result.output, re.M))
    roles = set(re.findall(r"^  \S+\s+\S+\s+(admin|designer|agent|staff|leader|government)\b", result.output, re.M))
    assert roles == {"admin", "designer", "agent", "staff", "leader", "government"}
    with runtime.unit_of_work(write=False) as uow:
        statuses = {c.status for c in uow.session.scalars(select(Case))}
        errors = [c for c in uow.session.scalars(select(Case)) if c.error]
        levels = {t.sla for t in uow.session.scalars(select(Task).where(Task.state == "ready"))}
        escalated = {e.level for e in uow.session.scalars(select(Escalation))}
    assert statuses == {"running", "suspended", "completed", "cancelled"}
    assert errors and {"normal", "yellow", "red"} <= levels and escalated == {1, 2, 3}
    from tests.console.conftest import Browser
    b = Browser(create_app({"TESTING": True}, runtime=runtime))
    assert b.sign_in("li.daiban", people["li.daiban"]).status_code == 303
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code != 0 and "already" in again.output
