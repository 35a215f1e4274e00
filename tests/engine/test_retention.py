"""Retention (engine/services/retention.py): after `retention_days` the worker deletes fanned-out
events, finished webhook deliveries and read notifications, and keeps what someone still needs —
dead letters, pending deliveries, unread notifications, a case's newest event — so an integrator's
per-case `sequence` keeps growing after a purge."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from api.app import create_app
from engine.config import Settings
from engine.adapters.models import Notification, OutboxEvent, WebhookDelivery
from engine.services import notifications, retention
from engine.services.timers import Worker
from tests.engine.test_notifications import people  # noqa: F401
from tests.engine.test_webhooks import (add_hook, complete_open_tasks, dispatch, drain, published, receiver,  # noqa: F401
                                        start_cases)
from engine.services.webhooks import Deliverer


def _rows(runtime, model):
    with runtime.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(model).order_by(model.id)))


def test_old_rows_go_and_what_someone_still_needs_stays(runtime, agent, clock, receiver, people):
    hook = receiver()
    add_hook(runtime, hook.url)
    kept_case, purged_case = start_cases(runtime, agent, 2)
    complete_open_tasks(runtime, purged_case)
    dispatch(runtime)
    drain(runtime, clock, Deliverer(runtime, "test"))
    old_events = published(runtime)
    newest = {}
    for event in old_events:
        newest[event.case_id] = max(newest.get(event.case_id, 0), event.case_seq)
    notes = _rows(runtime, Notification)
    assert notes, "the cases' events notified someone"
    read, unread = notes[: len(notes) // 2], notes[len(notes) // 2:]
    with runtime.unit_of_work() as uow:
        uow.session.execute(update(Notification).where(Notification.id.in_([n.id for n in read]))
                            .values(read_at=runtime.clock()))
        # one delivery of the purged case is a dead letter an administrator has not dealt with yet
        dead = uow.session.scalar(select(WebhookDelivery).join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_pk)
                                  .where(OutboxEvent.case_id == purged_case).order_by(WebhookDelivery.id).limit(1))
        dead.state = "dead"
        dead_event = dead.event_pk
        uow.commit()

    clock.advance(seconds=timedelta(days=30).total_seconds())
    assert retention.purge(runtime, days=180).total == 0, "nothing is older than the retention yet"
    clock.advance(seconds=timedelta(days=200).total_seconds())
    fresh = start_cases(runtime, agent, 3)[2]  # new events, not yet fanned out: they stay
    purged = retention.purge(runtime, days=180, limit=3)  # small batches: the loop goes on until done

    left = {e.id: e for e in _rows(runtime, OutboxEvent)}
    expected_events = {e.id for e in old_events if e.id == dead_event or e.case_seq == newest[e.case_id]}
    assert {i for i in left if i in {e.id for e in old_events}} == expected_events
    assert all(e.case_id == fresh for i, e in left.items() if i not in expected_events)
    assert [(d.state, d.event_pk) for d in _rows(runtime, WebhookDelivery)] == [("dead", dead_event)]
    assert {n.id for n in _rows(runtime, Notification)} == {n.id for n in unread}
    assert (purged.events, purged.notifications) == (len(old_events) - len(expected_events), len(read))
    assert purged.deliveries == len(old_events) - 1

    # the kept case's next event continues its numbering
    complete_open_tasks(runtime, kept_case)
    later = [e.case_seq for e in _rows(runtime, OutboxEvent) if e.case_id == kept_case]
    assert min(later) == newest[kept_case] and later == sorted(later) and len(later) > 1
    assert sorted(later) == list(range(newest[kept_case], newest[kept_case] + len(later)))


def test_zero_days_keeps_everything_and_the_worker_purges_every_few_hours(runtime, agent, clock, people):
    start_cases(runtime, agent, 1)
    dispatch(runtime)
    before = len(_rows(runtime, OutboxEvent))
    clock.advance(seconds=timedelta(days=400).total_seconds())
    assert retention.purge(runtime, days=0).cutoff is None
    assert len(_rows(runtime, OutboxEvent)) == before > 1

    def read_long_ago():
        with runtime.unit_of_work() as uow:
            uow.session.execute(update(Notification).values(read_at=runtime.clock() - timedelta(days=365)))
            uow.commit()
        return len(_rows(runtime, Notification))
    assert read_long_ago() > 0
    worker = Worker(runtime, "retention-test")
    worker.run_once()  # the first round purges (default retention: 180 days)
    assert _rows(runtime, Notification) == []
    assert len(_rows(runtime, OutboxEvent)) == 1, "only the case's newest event is left"
    start_cases(runtime, agent, 2)
    dispatch(runtime)
    assert (waiting := read_long_ago()) > 0
    worker.run_once()  # within PURGE_EVERY of the last purge: nothing goes
    assert len(_rows(runtime, Notification)) == waiting


def test_the_purge_command_reports_what_it_deleted(runtime, agent, clock, people):
    runner = create_app(runtime=runtime).test_cli_runner()
    start_cases(runtime, agent, 1)
    dispatch(runtime)
    events = len(_rows(runtime, OutboxEvent))
    clock.advance(seconds=timedelta(days=10).total_seconds())
    kept = runner.invoke(args=["purge"])
    assert kept.exit_code == 0 and kept.output.startswith("deleted 0 events, 0 webhook deliveries, 0 notifications")
    done = runner.invoke(args=["purge", "--days", "7"])
    assert done.exit_code == 0 and done.output.startswith(f"deleted {events - 1} events, 0 webhook deliveries")
    assert runner.invoke(args=["purge", "--days", "0"]).output.startswith("retention is off")
    refused = runner.invoke(args=["purge", "--days", "-1"])
    assert refused.exit_code == 2 and "--days" in refused.output


def test_a_bad_retention_setting_is_refused_at_start_up(monkeypatch):
    monkeypatch.setenv("ONEWINDOW_RETENTION_DAYS", "half a year")
    try:
        Settings()
    except ValueError as error:
        assert "ONEWINDOW_RETENTION_DAYS" in str(error) and "half a year" in str(error)
    else:
        raise AssertionError("accepted a retention that is not a number of days")
    monkeypatch.setenv("ONEWINDOW_RETENTION_DAYS", "30")
    assert Settings().retention_days == 30


def test_a_purge_reports_its_progress_batch_by_batch(runtime, agent, clock, people):
    start_cases(runtime, agent, 2)
    dispatch(runtime)
    events = len(_rows(runtime, OutboxEvent))
    clock.advance(seconds=timedelta(days=10).total_seconds())
    seen = []
    done = retention.purge(runtime, days=7, limit=2, progress=lambda so_far: seen.append(so_far.events))
    assert done.events == events - 2 and seen and seen[-1] <= done.events
    assert seen == sorted(seen) and len(set(seen)) == len(seen), "one report per batch, totals growing"
