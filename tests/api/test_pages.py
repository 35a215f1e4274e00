"""The public progress page (公开监督) as people see it: look-up, a project's items by stage with
their bodies and dates, overdue items marked, nothing private, hostile input escaped."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.conftest import deploy_file

CODE = "2026-510117-34-01-000777"


def test_lookup_form_and_redirect(client):
    page = client.get("/progress")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert 'name="code"' in page.get_data(as_text=True)
    assert "script-src" not in page.headers["Content-Security-Policy"]  # no scripts at all
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    go = client.get("/progress", query_string={"code": f" {CODE} "})
    assert go.status_code == 302 and go.headers["Location"].endswith(f"/progress/{CODE}")
    assert client.get("/").headers["Location"].endswith("/progress")
    assert client.get("/progress", query_string={"code": "x" * 500}).status_code == 422


def test_unknown_project_is_a_404_page_that_escapes_the_code(client):
    page = client.get("/progress/%3Cscript%3Ealert(1)")
    text = page.get_data(as_text=True)
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "<script>" not in text and "&lt;script&gt;alert(1)" in text


def test_a_project_page_shows_items_by_stage_and_marks_the_late_ones(client, runtime, clock, api_users):
    deploy_file(runtime, "time_limits.bpmn")  # Review: 5 working days at county.fgj
    started = client.post("/api/v1/cases", headers=api_users.header("alice"), json={
        "process_key": "time_limits", "business_key": CODE,
        "project": {"project_name": "郫都区<b>新材料</b>产业园", "contact_phone": "13800138000"},
        "variables": {"secret_note": "内部意见"}})
    assert started.status_code == 201, started.get_json()
    page = client.get(f"/progress/{CODE}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "郫都区&lt;b&gt;新材料&lt;/b&gt;产业园" in text  # escaped, not markup
    assert "郫都区发展和改革局" in text and "办理中" in text and "已超时" not in text
    assert "2026-03-09 17:30" in text  # the due date, Beijing time
    assert "13800138000" not in text and "内部意见" not in text and "alice" not in text

    clock.set(datetime(2026, 3, 10, 9, tzinfo=timezone(timedelta(hours=8))))
    assert "已超时" in client.get(f"/progress/{CODE}").get_data(as_text=True)
