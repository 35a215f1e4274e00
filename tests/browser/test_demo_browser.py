"""The demo's work group, escalation board, fees and statistics in a real browser, as a visitor
signing in with the printed people finds them. Screenshots (looked at)."""
from __future__ import annotations

from datetime import date, timedelta

from api.app import create_app
from engine.services import users
from tests.browser.test_story import Person
from tests.console.conftest import PASSWORD

CODE = "2026-510117-73-01-000105"


def test_the_demo_pages_are_filled(chrome, server, screenshots, runtime):
    result = create_app({"TESTING": True}, runtime=runtime).test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    with runtime.unit_of_work() as uow:
        for name in ("li.qiye", "demo.admin", "zhou.zwfw"):
            users.set_password(uow, name, PASSWORD)
        uow.commit()
    me = Person(chrome, server, screenshots)
    me.step = 90
    me.sign_in("li.qiye")
    me.go(f"/console/projects/{CODE}")
    text = me.text()
    assert "按时答复" in text and "已超期（红牌）" in text
    me.shot("demo-project-enterprise")
    me.sign_in("demo.admin")
    me.go("/console/escalations")
    assert "企业诉求超期（1）" in me.text()
    me.shot("demo-escalations")
    me.go("/console/fees?status=")
    me.shot("demo-fees")
    period = f"from={date.today() - timedelta(days=60)}&to={date.today() + timedelta(days=1)}"
    me.go(f"/console/stats?{period}")
    assert "所选期间没有办结的项目" not in me.text()
    me.shot("demo-stats")
