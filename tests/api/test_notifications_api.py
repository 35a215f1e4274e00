"""Notifications and webhooks over HTTP (issue 13): each user reads only their own notifications,
pages and marks them read; admins manage webhooks and dead letters; a hook that hangs never
holds up an API response."""
from __future__ import annotations

import threading

import pytest

from engine.services import notifications
from engine.services.timers import Worker
from tests.webhook_receiver import Receiver

V1 = "/api/v1"


def dispatch(runtime):
    with runtime.unit_of_work() as uow:
        notifications.dispatch(uow)
        uow.commit()


def test_notifications_list_page_count_and_read(client, api_users, deploy, start_case, runtime):
    deploy("parallel_approval.bpmn")
    for i in range(3):
        start_case(business_key=f"2026-510117-34-01-00000{i}")
    dispatch(runtime)
    fgj = api_users.header("fgj")
    page = client.get(f"{V1}/notifications", headers=fgj, query_string={"per_page": 2}).get_json()
    assert page["total"] == 3 and page["unread"] == 3 and len(page["items"]) == 2 and page["per_page"] == 2
    newest = page["items"][0]
    assert newest["type"] == "task.ready" and newest["read"] is False and newest["title"].startswith("新待办")
    assert newest["data"]["task"]["department"] == "county.fgj" and newest["event_id"]
    second = client.get(f"{V1}/notifications", headers=fgj, query_string={"per_page": 2, "page": 2}).get_json()
    assert len(second["items"]) == 1 and second["items"][0]["id"] < page["items"][1]["id"]
    # another user's notification is not there for you
    assert client.post(f"{V1}/notifications/{newest['id']}/read", headers=api_users.header("zrzyj")).status_code == 404
    read = client.post(f"{V1}/notifications/{newest['id']}/read", headers=fgj)
    assert read.status_code == 200 and read.get_json()["read"] is True
    assert client.post(f"{V1}/notifications/{newest['id']}/read", headers=fgj).status_code == 200  # again: same
    assert client.get(f"{V1}/notifications/unread-count", headers=fgj).get_json() == {"unread": 2}
    unread = client.get(f"{V1}/notifications", headers=fgj, query_string={"unread": "true"}).get_json()
    assert unread["total"] == 2 and all(not n["read"] for n in unread["items"])
    # read-all up to what the user saw: a later one stays unread
    seen = max(n["id"] for n in unread["items"])
    start_case(business_key="2026-510117-34-01-000009")
    dispatch(runtime)
    marked = client.post(f"{V1}/notifications/read-all", headers=fgj, json={"up_to": seen}).get_json()
    assert marked == {"marked": 2, "unread": 1}
    assert client.post(f"{V1}/notifications/read-all", headers=fgj).get_json() == {"marked": 1, "unread": 0}
    assert client.get(f"{V1}/notifications", headers=fgj, query_string={"per_page": 0}).status_code == 422
    assert client.get(f"{V1}/notifications").status_code == 401
    # the agent started the cases themselves: nothing for them
    assert client.get(f"{V1}/notifications", headers=api_users.header("alice")).get_json()["total"] == 0


def test_webhooks_crud_for_admins_only(client, api_users):
    root = api_users.header("root")
    body = {"url": "https://integrator.example.org/onewindow", "events": ["task.ready", "case.*"]}
    for name in ("alice", "fgj", "gov", "dora"):
        assert client.post(f"{V1}/webhooks", json=body, headers=api_users.header(name)).status_code == 403
        assert client.get(f"{V1}/webhooks", headers=api_users.header(name)).status_code == 403
    created = client.post(f"{V1}/webhooks", json=body, headers=root)
    assert created.status_code == 201
    hook = created.get_json()
    assert len(hook["secret"]) == 64 and hook["events"] == ["case.*", "task.ready"] and hook["active"]
    assert hook["deliveries"] == {"pending": 0, "delivered": 0, "dead": 0, "discarded": 0}
    listed = client.get(f"{V1}/webhooks", headers=root).get_json()
    assert listed["total"] == 1 and "secret" not in listed["items"][0]
    assert listed["items"][0]["secret_hint"] == hook["secret"][:4] + "…"
    bad = client.post(f"{V1}/webhooks", json={**body, "events": ["task.bogus"]}, headers=root)
    assert bad.status_code == 422 and "events" in bad.get_json()["errors"]
    bad = client.post(f"{V1}/webhooks", json={**body, "url": "javascript:alert(1)"}, headers=root)
    assert bad.status_code == 422 and "url" in bad.get_json()["errors"]
    assert client.get(f"{V1}/webhooks", headers=root).get_json()["total"] == 1  # refused: nothing stored
    changed = client.patch(f"{V1}/webhooks/{hook['id']}", json={"active": False, "rotate_secret": True}, headers=root)
    assert changed.status_code == 200 and changed.get_json()["active"] is False
    assert changed.get_json()["secret"] != hook["secret"]
    assert client.delete(f"{V1}/webhooks/{hook['id']}", headers=root).status_code == 204
    assert client.get(f"{V1}/webhooks/{hook['id']}", headers=root).status_code == 404
    assert client.get(f"{V1}/webhooks/dead-letters", headers=root).get_json()["total"] == 0
    assert client.post(f"{V1}/webhooks/dead-letters/99/redeliver", headers=root).status_code == 404


def test_cli_registers_lists_and_removes(app, runtime):
    from api.cli import cli
    runner = app.test_cli_runner()
    added = runner.invoke(cli, ["webhooks", "add", "https://example.org/h", "--events", "task.ready,case.closed",
                                "--secret", "0123456789abcdef0123"])
    assert added.exit_code == 0, added.output
    assert "secret: 0123456789abcdef0123" in added.output
    listed = runner.invoke(cli, ["webhooks", "list"])
    assert "https://example.org/h" in listed.output and "case.closed,task.ready" in listed.output
    refused = runner.invoke(cli, ["webhooks", "add", "https://example.org/h", "--events", "nope"])
    assert refused.exit_code == 1 and "unknown event type nope" in refused.output
    hook_id = listed.output.split()[0]
    assert runner.invoke(cli, ["webhooks", "remove", hook_id]).exit_code == 0
    assert "no webhooks" in runner.invoke(cli, ["webhooks", "list"]).output


@pytest.fixture
def hanging():
    receiver = Receiver(hang=True).start()
    yield receiver
    receiver.stop()


def test_a_hanging_hook_does_not_hold_up_the_api(client, api_users, deploy, start_case, runtime, hanging):
    """The worker (its sending thread) is stuck in a request the receiver never answers; the API
    still answers every call: nothing of a request waits on a receiver."""
    root = api_users.header("root")
    assert client.post(f"{V1}/webhooks", json={"url": hanging.url, "events": ["*"]}, headers=root).status_code == 201
    deploy("parallel_approval.bpmn")
    worker = Worker(runtime, name="w", poll_seconds=0.05)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        start_case(business_key="2026-510117-34-01-000001")
        assert _wait(lambda: hanging.in_flight > 0), "the worker never reached the receiver"
        case = start_case(business_key="2026-510117-34-01-000002")
        task = case["open_tasks"][0]
        fgj = api_users.header("fgj") if task["department"] == "county.fgj" else None
        assert client.get(f"{V1}/cases/{case['id']}", headers=api_users.header("alice")).status_code == 200
        if fgj:
            assert client.post(f"{V1}/tasks/{task['id']}/claim", headers=fgj).status_code == 200
        assert client.get(f"{V1}/webhooks", headers=root).status_code == 200
        assert _wait(lambda: client.get(f"{V1}/notifications", headers=api_users.header("fgj")).get_json()["total"] >= 2)
        assert hanging.in_flight > 0 and not hanging.release.is_set()  # still hanging throughout
    finally:
        worker.stop()
        hanging.release.set()
        thread.join(timeout=60)
    assert not thread.is_alive()


def _wait(condition, seconds=30.0):
    import time
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_hooks_deliveries_over_http(client, api_users, deploy, start_case, runtime):
    from engine.services.webhooks import Deliverer
    receiver = Receiver(fail_first=1).start()
    try:
        root = api_users.header("root")
        hook = client.post(f"{V1}/webhooks", json={"url": receiver.url, "events": ["case.started"]}, headers=root).get_json()
        deploy("parallel_approval.bpmn")
        start_case()
        dispatch(runtime)
        Deliverer(runtime, "test").run_once()
        page = client.get(f"{V1}/webhooks/{hook['id']}/deliveries", headers=root).get_json()
        [delivery] = page["items"]
        assert delivery["state"] == "pending" and delivery["attempts"] == 1 and delivery["last_status"] == 500
        assert delivery["event_type"] == "case.started" and delivery["sequence"] == 1 and delivery["next_attempt_at"]
        assert client.get(f"{V1}/webhooks/{hook['id']}/deliveries", query_string={"state": "dead"},
                          headers=root).get_json()["total"] == 0
        assert client.get(f"{V1}/webhooks/{hook['id']}/deliveries", query_string={"state": "lost"},
                          headers=root).status_code == 422
        assert client.get(f"{V1}/webhooks/{hook['id']}/deliveries", headers=api_users.header("fgj")).status_code == 403
        assert client.get(f"{V1}/webhooks/999/deliveries", headers=root).status_code == 404
    finally:
        receiver.stop()


def test_numbers_beyond_the_columns_are_refused_not_500(client, api_users):
    root = api_users.header("root")
    assert client.get(f"{V1}/webhooks/dead-letters", query_string={"webhook_id": 2**40}, headers=root).status_code == 422
    assert client.get(f"{V1}/webhooks/{2**40}/deliveries", headers=root).status_code == 404
    assert client.post(f"{V1}/notifications/{2**40}/read", headers=root).status_code == 404
    assert client.post(f"{V1}/notifications/read-all", json={"up_to": 2**62}, headers=root).status_code == 200
