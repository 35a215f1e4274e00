"""The console's notification bell (issue 13): the header shows the unread count on every page,
the list opens a notification (read, then its task) and marks all read up to what was shown."""
from __future__ import annotations

import re

from engine.services import cases
from engine.domain.access import Actor
from engine.services import notifications
from tests.conftest import deploy_file

BADGE = re.compile(r'class="badge"[^>]*>(\d+)<')


def _cases(runtime, count, first=0):
    deploy_file(runtime, "parallel_approval.bpmn")
    ids = []
    for i in range(first, first + count):
        with runtime.unit_of_work() as uow:
            ids.append(cases.start_case(uow, Actor("alice", "agent"), "parallel_approval",
                                        f"2026-510117-34-01-{i:06d}").case.id)
            uow.commit()
    with runtime.unit_of_work() as uow:
        notifications.dispatch(uow)
        uow.commit()
    return ids


def _badge(html: str) -> int | None:
    found = BADGE.search(html)
    return int(found.group(1)) if found else None


def test_bell_count_list_open_and_read_all(browser, runtime):
    _cases(runtime, 2)
    fgj = browser("fgj")
    home = fgj.get("/console/").get_data(as_text=True)
    assert _badge(home) == 2 and "通知" in home
    assert _badge(browser("zrzyj").get("/console/").get_data(as_text=True)) == 2
    assert _badge(browser("alice").get("/console/").get_data(as_text=True)) is None  # her own cases
    listing = fgj.get("/console/notifications?unread=1").get_data(as_text=True)
    assert listing.count("<td>新待办：") == 2
    first = re.search(r'action="/console/notifications/(\d+)/open"', listing).group(1)
    opened = fgj.post(f"/console/notifications/{first}/open")
    assert opened.status_code == 303 and "/console/tasks/" in opened.headers["Location"]
    assert _badge(fgj.get("/console/").get_data(as_text=True)) == 1
    # someone else's notification cannot be opened
    assert browser("zrzyj").post(f"/console/notifications/{first}/open").status_code == 404
    # read-all marks what the page showed; a notification that arrived since stays unread
    page = fgj.get("/console/notifications").get_data(as_text=True)
    up_to = re.search(r'name="up_to" value="(\d+)"', page).group(1)
    _cases(runtime, 1, first=5)
    done = fgj.post("/console/notifications/read-all", {"up_to": up_to})
    assert done.status_code == 303
    after = fgj.get(done.headers["Location"]).get_data(as_text=True)
    assert "已全部标为已读" in after and _badge(after) == 1
    # a form without its CSRF token changes nothing
    assert fgj.post("/console/notifications/read-all", {"csrf_token": "x"}).status_code == 400
    assert _badge(fgj.get("/console/").get_data(as_text=True)) == 1


def test_admin_sees_dead_letters_and_redelivers(browser, runtime, clock):

    from engine.services import webhooks
    from engine.services.webhooks import Deliverer
    from tests.webhook_receiver import Receiver
    receiver = Receiver(always_fail=True).start()
    try:
        with runtime.unit_of_work() as uow:
            webhooks.add_hook(uow, Actor("root", "admin"), receiver.url, "case.started", "0123456789abcdef-secret")
            uow.commit()
        _cases(runtime, 1)
        deliverer = Deliverer(runtime, "test")
        for _ in range(200):
            deliverer.run_once()
            clock.advance(minutes=30)
        root = browser("root")
        html = root.get("/console/admin/webhooks").get_data(as_text=True)
        assert receiver.url in html and "死信（1）" in html and "case.started #1" in html and "HTTP 500" in html
        assert "推送与死信" in root.get("/console/").get_data(as_text=True)
        assert browser("fgj").get("/console/admin/webhooks").status_code == 403
        delivery = re.search(r'/console/admin/webhooks/dead-letters/(\d+)/redeliver', html).group(1)
        receiver.always_fail = False
        done = root.post(f"/console/admin/webhooks/dead-letters/{delivery}/redeliver")
        assert done.status_code == 303
        deliverer.run_once()
        html = root.get(done.headers["Location"]).get_data(as_text=True)
        assert "已重新投递" in html and "没有死信" in html
        assert [d["type"] for d in receiver.delivered()] == ["case.started"]
    finally:
        receiver.stop()
