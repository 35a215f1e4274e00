"""In-app notifications as services on the in-memory unit of work: an event reaches the users it
names and the active members of the bodies it names, once; a user reads only their own."""
from __future__ import annotations

import pytest

from engine.adapters.models import OutboxEvent, User
from engine.domain.access import Actor
from engine.errors import NotFound
from engine.services import notifications
from tests.unit.fakes import START, FakeUnitOfWork

LI = Actor("li", "agent", "county.zwfw")
WANG = Actor("wang", "staff", "county.zrzyj")


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    for name, role, department, revoked in (("li", "agent", "county.zwfw", None), ("wang", "staff", "county.zrzyj", None),
                                            ("old", "staff", "county.zrzyj", START), ("zhao", "staff", "county.fgj", None)):
        uow.users.add(User(name=name, role=role, department=department, revoked_at=revoked))
    for n, users, departments in ((1, ["li", "gone"], ["county.zrzyj"]), (2, ["li"], [])):
        uow.outbox.add(OutboxEvent(event_id=f"e{n}", type="case.completed", occurred_at=START, case_id="c1",
                                   case_seq=n, payload={"status": "completed"}, recipient_users=users,
                                   recipient_departments=departments))
    return uow


def test_dispatch_tells_named_users_and_active_body_members_once(uow):
    assert notifications.dispatch(uow) == 2
    assert notifications.dispatch(uow) == 0  # each event fans out once
    assert sorted((n.user_name, n.event_id) for n in uow.notifications.rows.values()) == [
        ("li", "e1"), ("li", "e2"), ("wang", "e1")]  # not the revoked user, not an unknown name


def test_a_user_reads_and_marks_only_their_own(uow):
    notifications.dispatch(uow)
    page = notifications.list_for(uow, LI)
    assert [n.event_id for n in page.items] == ["e2", "e1"] and page.total == 2 and page.unread == 2
    with pytest.raises(NotFound):
        notifications.mark_read(uow, WANG, page.items[0].id)
    notifications.mark_read(uow, LI, page.items[0].id)
    assert [n.event_id for n in notifications.list_for(uow, LI, unread=True).items] == ["e1"]
    assert notifications.mark_all_read(uow, LI) == 1 and notifications.unread_count(uow, LI) == 0
    assert notifications.unread_count(uow, WANG) == 1
