"""Webhook deliveries as services on the in-memory unit of work: a case's events reach a hook in
order, a failure is retried with back-off, a dead letter holds the case's later events back until
an admin sends it again."""
from __future__ import annotations

import pytest

from engine.adapters.models import OutboxEvent
from engine.adapters.webhook_delivery import Outcome
from engine.domain.access import Actor
from engine.errors import Conflict, Forbidden
from engine.services import webhooks
from tests.unit.fakes import FakeUnitOfWork

ADMIN = Actor("root", "admin", None)
FAILED = Outcome(False, 500, "HTTP 500")
OK = Outcome(True, 200, None)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    hook = webhooks.add_hook(uow, ADMIN, "https://receiver.example/hook", ["case.*"])
    for n in (1, 2):
        event = OutboxEvent(event_id=f"e{n}", type="case.started" if n == 1 else "case.completed",
                            occurred_at=uow.runtime.now, case_id="c1", case_seq=n, payload={},
                            dispatched_at=uow.runtime.now)
        uow.outbox.add(event)
        webhooks.enqueue(uow, event, webhooks.active_hooks(uow), uow.runtime.now)
    assert hook.id == 1
    return uow


def test_only_admins_register_hooks_and_the_secret_is_generated(uow):
    with pytest.raises(Forbidden):
        webhooks.list_hooks(uow, Actor("li", "agent", "county.zwfw"))
    hook = webhooks.get_hook(uow, ADMIN, 1)
    assert len(hook.secret) == 64 and webhooks.stats(uow, [1]) == {1: {"pending": 2, "delivered": 0, "dead": 0,
                                                                        "discarded": 0}}


def test_a_cases_events_go_one_after_another_and_a_failure_is_retried(uow):
    claimed = webhooks.claim_due(uow, "w1")
    assert [c.event_id for c in claimed] == ["e1"]  # e2 waits for e1
    assert webhooks.claim_due(uow, "w2") == []  # leased to w1
    webhooks.record(uow, claimed[0].delivery_id, "w1", FAILED, uow.runtime.now)
    row = uow.webhooks.delivery(claimed[0].delivery_id)
    assert row.state == "pending" and row.attempts == 1 and row.next_attempt_at == uow.runtime.now + webhooks.FIRST_RETRY
    uow.runtime.advance(seconds=30)
    again = webhooks.claim_due(uow, "w1")
    assert [(c.event_id, c.attempt) for c in again] == [("e1", 2)]
    webhooks.record(uow, again[0].delivery_id, "w1", OK, uow.runtime.now)
    assert [c.event_id for c in webhooks.claim_due(uow, "w1")] == ["e2"]


def test_a_dead_letter_holds_the_case_back_until_sent_again(uow):
    first = webhooks.claim_due(uow, "w1")[0]
    webhooks.record(uow, first.delivery_id, "w1", FAILED, uow.runtime.now)
    uow.runtime.advance(hours=25)
    webhooks.record(uow, webhooks.claim_due(uow, "w1")[0].delivery_id, "w1", FAILED, uow.runtime.now)
    rows, total = webhooks.dead_letters(uow, ADMIN)
    assert total == 1 and [e.event_id for _, e in rows] == ["e1"]
    assert webhooks.delivery_dict(uow, rows[0][0])["held_back"] == 1
    assert webhooks.claim_due(uow, "w1") == []  # e2 waits behind the dead letter
    webhooks.redeliver(uow, ADMIN, first.delivery_id)
    with pytest.raises(Conflict, match="not dead"):
        webhooks.discard(uow, ADMIN, first.delivery_id)
    assert [c.event_id for c in webhooks.claim_due(uow, "w1")] == ["e1"]
    listed, count = webhooks.deliveries(uow, ADMIN, 1)
    assert count == 2 and [e.event_id for _, e in listed] == ["e2", "e1"]
    webhooks.remove_hook(uow, ADMIN, 1)
    assert webhooks.list_hooks(uow, ADMIN) == [] and uow.webhooks.deliveries.rows == {}
