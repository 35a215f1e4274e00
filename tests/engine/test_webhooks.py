"""Webhooks (issue 13) against a real HTTP receiver on 127.0.0.1: every event arrives exactly once
by id after failed attempts, in order per case, signed; 24 hours of failures make a dead letter
that holds back the case's later events until an admin redelivers it."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.services import cases
from engine.domain.access import Actor
from engine.errors import Conflict, Forbidden, Invalid
from engine.services import notifications, webhooks
from engine.services.webhooks import Deliverer
from engine.adapters.models import OutboxEvent, WebhookDelivery
from tests.conftest import deploy_file, staff
from tests.webhook_receiver import Receiver

ADMIN = Actor("root", "admin")
SECRET = "s3cret-s3cret-s3cret"


@pytest.fixture
def receiver():
    started = []

    def make(**options) -> Receiver:
        r = Receiver(**options).start()
        started.append(r)
        return r
    yield make
    for r in started:
        r.stop()


def add_hook(runtime, url, events="*", secret=SECRET):
    with runtime.unit_of_work() as uow:
        hook = webhooks.add_hook(uow, ADMIN, url, events, secret)
        uow.commit()
    return hook


def start_cases(runtime, agent, count):
    deploy_file(runtime, "parallel_approval.bpmn")
    ids = []
    for i in range(count):
        with runtime.unit_of_work() as uow:
            ids.append(cases.start_case(uow, agent, "parallel_approval", f"2026-510117-34-01-{i:06d}").case.id)
            uow.commit()
    return ids


def complete_open_tasks(runtime, case_id):
    with runtime.unit_of_work() as uow:
        rows = [t for t in cases.case_tasks(uow, case_id) if t.state == "ready"]
    for row in rows:
        with runtime.unit_of_work() as uow:
            actor = staff(row.department) if row.department else Actor(row.assignee, "agent")
            cases.complete_task(uow, actor, row.id, {"decision": "approve", "approved": True})
            uow.commit()


def dispatch(runtime):
    with runtime.unit_of_work() as uow:
        notifications.dispatch(uow)
        uow.commit()


def drain(runtime, clock, deliverer, step=timedelta(minutes=5), rounds=400, until="pending"):
    """Deliver, moving the clock on whenever nothing is due, until no delivery is pending (or,
    with until="dead", until one is dead)."""
    for _ in range(rounds):
        if not deliverer.run_once():
            with runtime.unit_of_work(write=False) as uow:
                found = uow.session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.state == until).limit(1))
            if (found is None) == (until == "pending"):
                return
            clock.advance(seconds=step.total_seconds())
    raise AssertionError("deliveries still pending")


def published(runtime):
    with runtime.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


def test_failing_receiver_gets_every_event_exactly_once_in_case_order(runtime, agent, clock, receiver):
    r = receiver(fail_first=2)
    add_hook(runtime, r.url)
    ids = start_cases(runtime, agent, 3)
    for case_id in ids[:2]:
        complete_open_tasks(runtime, case_id)
    dispatch(runtime)
    deliverer = Deliverer(runtime, "test")
    drain(runtime, clock, deliverer)
    events = published(runtime)
    assert len(events) >= 9
    delivered = r.delivered()
    assert sorted(d["id"] for d in delivered) == sorted(e.event_id for e in events)  # each once by id
    assert len(r.requests) == 3 * len(events)  # two failures, then the success
    assert r.all_signed_by(SECRET)
    # per case: the receiver saw no event before the previous one had succeeded
    accepted: dict[str, int] = defaultdict(int)
    for request in r.requests:
        document = request.document
        assert document["sequence"] == accepted[document["case_id"]] + 1, "out of order"
        if request.status < 300:
            accepted[document["case_id"]] = document["sequence"]
    by_id = {e.event_id: e for e in events}
    first = delivered[0]
    event = by_id[first["id"]]
    assert first["type"] == event.type and first["data"] == event.payload and first["attempt"] == 3
    assert first["occurred_at"] == event.occurred_at.isoformat() and first["project_code"] == event.project_code
    with runtime.unit_of_work(write=False) as uow:
        rows = list(uow.session.scalars(select(WebhookDelivery)))
    assert {(row.state, row.attempts) for row in rows} == {("delivered", 3)}


def test_headers_and_signature(runtime, agent, receiver):
    r = receiver()
    add_hook(runtime, r.url, "case.started")
    start_cases(runtime, agent, 1)
    dispatch(runtime)
    Deliverer(runtime, "test").run_once()
    [request] = r.requests
    headers = request.headers
    assert headers["X-Onewindow-Event"] == "case.started" and headers["X-Onewindow-Attempt"] == "1"
    assert headers["X-Onewindow-Delivery"] == request.document["id"]
    assert headers["X-Onewindow-Timestamp"] == str(int(runtime.clock().timestamp()))
    assert headers["Content-Type"].startswith("application/json")
    from engine.adapters.webhook_delivery import verify
    assert verify(SECRET, request.body, headers["X-Onewindow-Signature"])
    assert not verify("another-secret-entirely", request.body, headers["X-Onewindow-Signature"])
    assert not verify(SECRET, request.body.replace(b"case.started", b"case.closed!"), headers["X-Onewindow-Signature"])


def test_only_subscribed_types_and_only_events_after_registration(runtime, agent, receiver):
    early = start_cases(runtime, agent, 1)
    dispatch(runtime)  # before any hook: nothing to send
    r = receiver()
    add_hook(runtime, r.url, "task.*")
    with runtime.unit_of_work() as uow:
        cases.suspend_case(uow, ADMIN, early[0])
        uow.commit()
    with runtime.unit_of_work() as uow:
        cases.resume_case(uow, ADMIN, early[0])
        uow.commit()
    complete_open_tasks(runtime, early[0])
    dispatch(runtime)
    Deliverer(runtime, "test").run_once()
    assert {d["type"] for d in r.delivered()} <= {"task.ready", "task.yellow", "task.red"}
    assert r.delivered()


def test_dead_letter_after_24_hours_holds_the_case_back_until_redelivered(runtime, agent, clock, receiver):
    r = receiver(always_fail=True)
    hook = add_hook(runtime, r.url)
    [case_id] = start_cases(runtime, agent, 1)
    dispatch(runtime)
    deliverer = Deliverer(runtime, "test")
    drain(runtime, clock, deliverer, step=timedelta(minutes=10), until="dead")
    with runtime.unit_of_work(write=False) as uow:
        rows, total = webhooks.dead_letters(uow, ADMIN)
        dead = [webhooks.delivery_dict(uow, d, e) for d, e in rows]
        pending = uow.session.scalar(select(WebhookDelivery).where(WebhookDelivery.state == "pending").limit(1))
    assert total == 1 and dead[0]["sequence"] == 1 and dead[0]["last_status"] == 500
    events = published(runtime)
    assert dead[0]["held_back"] == len(events) - 1 and pending is not None
    # retried with growing pauses for 24 hours from the first attempt
    attempts = [req for req in r.requests]
    assert len(attempts) == dead[0]["attempts"] and 20 <= len(attempts) <= 40
    assert dead[0]["last_attempt_at"] - dead[0]["first_attempt_at"] <= timedelta(hours=24)
    assert dead[0]["last_attempt_at"] - dead[0]["first_attempt_at"] >= timedelta(hours=22)
    assert all(req.document["sequence"] == 1 for req in attempts)  # nothing later went out
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden):
        webhooks.redeliver(uow, staff("county.fgj"), dead[0]["id"])
    r.always_fail = False
    with runtime.unit_of_work() as uow:
        webhooks.redeliver(uow, ADMIN, dead[0]["id"])
        uow.commit()
    with runtime.unit_of_work() as uow, pytest.raises(Conflict):
        webhooks.redeliver(uow, ADMIN, dead[0]["id"])
    drain(runtime, clock, deliverer)
    assert [d["sequence"] for d in r.delivered()] == list(range(1, len(events) + 1))
    with runtime.unit_of_work(write=False) as uow:
        assert webhooks.stats(uow, [hook.id])[hook.id] == {"pending": 0, "delivered": len(events), "dead": 0,
                                                           "discarded": 0}
        rows, total = webhooks.deliveries(uow, ADMIN, hook.id, "delivered", limit=2)
        assert total == len(events) and [e.case_seq for _, e in rows] == [len(events), len(events) - 1]


def test_registration_refuses_bad_input(runtime):
    with runtime.unit_of_work() as uow:
        with pytest.raises(Invalid) as error:
            webhooks.add_hook(uow, ADMIN, "ftp://example.org/x", "*")
        assert "url" in error.value.errors
        with pytest.raises(Invalid) as error:
            webhooks.add_hook(uow, ADMIN, "https://example.org/x", "task.ready,task.nonsense")
        assert "task.nonsense" in str(error.value.errors["events"])
        with pytest.raises(Invalid):
            webhooks.add_hook(uow, ADMIN, "https://example.org/x", "*", secret="short")
        with pytest.raises(Forbidden):
            webhooks.add_hook(uow, Actor("alice", "agent"), "https://example.org/x", "*")
    hook = webhooks.add_hook(runtime.unit_of_work(), ADMIN, "https://example.org/x", " task.ready, case.* ")
    assert hook.events == ["case.*", "task.ready"] and len(hook.secret) == 64


def test_an_event_waits_for_an_earlier_one_of_its_case_still_being_dispatched(runtime, receiver):
    """Two workers dispatching side by side: event 2 of a case fanned out before event 1 is not
    sent until event 1 has its delivery (and that one succeeded)."""
    from engine.services.outbox import publish
    r = receiver()
    add_hook(runtime, r.url)
    with runtime.unit_of_work() as uow:
        publish(uow, "case.suspended", {"n": 1}, case_id="case-1")
        publish(uow, "case.resumed", {"n": 2}, case_id="case-1")
        uow.commit()
    with runtime.unit_of_work() as uow:  # the other worker took event 2 first
        second = uow.session.scalar(select(OutboxEvent).where(OutboxEvent.case_seq == 2))
        webhooks.enqueue(uow, second, webhooks.active_hooks(uow), runtime.clock())
        second.dispatched_at = runtime.clock()
        uow.commit()
    deliverer = Deliverer(runtime, "test")
    assert deliverer.run_once() == 0 and r.requests == []
    dispatch(runtime)
    assert deliverer.run_once() == 1 and deliverer.run_once() == 1
    assert [d["sequence"] for d in r.delivered()] == [1, 2]


def test_discarding_a_dead_letter_lets_the_case_go_on(runtime, agent, clock, receiver):
    r = receiver(always_fail=True)
    hook = add_hook(runtime, r.url)
    start_cases(runtime, agent, 1)
    dispatch(runtime)
    deliverer = Deliverer(runtime, "test")
    drain(runtime, clock, deliverer, step=timedelta(hours=1), until="dead")
    with runtime.unit_of_work(write=False) as uow:
        [(dead, _)], _ = webhooks.dead_letters(uow, ADMIN)
    r.always_fail = False
    with runtime.unit_of_work() as uow:
        webhooks.discard(uow, ADMIN, dead.id)
        uow.commit()
    drain(runtime, clock, deliverer)
    events = published(runtime)
    assert [d["sequence"] for d in r.delivered()] == list(range(2, len(events) + 1))  # never the first
    with runtime.unit_of_work(write=False) as uow:
        assert webhooks.stats(uow, [hook.id])[hook.id] == {"pending": 0, "delivered": len(events) - 1, "dead": 0,
                                                           "discarded": 1}
        assert webhooks.dead_letters(uow, ADMIN)[1] == 0
