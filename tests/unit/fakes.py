"""An in-memory unit of work: the repositories of `engine.adapters.repositories` over dicts.

Services that reach rows only through `uow.cases`, `uow.tasks`, `uow.events`, `uow.jobs`,
`uow.users`, ... `uow.bills`, `uow.webhooks`, `uow.migrations`, `uow.external_tasks`,
`uow.notifications` (and `uow.publish`, `uow.runtime.clock`, `uow.organisation`) run on it
without a database, in milliseconds. It follows the real repositories' contract (same methods, same
errors, same orders); the database tests keep checking the real ones.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

from engine.domain.organisation import Organisation
from engine.errors import NotFound

START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)  # Mon 2026-03-02 09:00 Beijing time


class FakeRepository:
    def __init__(self) -> None:
        self.rows: dict[Any, Any] = {}
        self._ids = itertools.count(1)

    def get(self, key: Any) -> Any:
        return self.rows.get(key)

    def add(self, row: Any) -> None:
        if getattr(row, "id", None) is None:
            row.id = next(self._ids)  # as the database's identity column would
        self.rows[row.id] = row

    def delete(self, row: Any) -> None:
        self.rows.pop(row.id, None)

    def add_now(self, row: Any) -> Any:
        self.add(row)
        return row

    def reload(self, row: Any) -> Any:
        return row  # one process, one copy: nothing committed elsewhere

    def flush(self) -> None:
        pass  # ids are given on `add`

    def where(self, **values: Any) -> list[Any]:
        return [row for row in self.rows.values()
                if all(getattr(row, name) == value for name, value in values.items())]


class FakeTasks(FakeRepository):
    def of_case(self, case_id: str, state: str | None = None) -> list[Any]:
        rows = self.where(case_id=case_id, **({"state": state} if state is not None else {}))
        return sorted(rows, key=lambda row: (row.created_at, row.id))

    def open_states(self, case_id: str) -> dict[str, str]:
        return {row.id: row.state for row in self.rows.values()
                if row.case_id == case_id and row.state in ("ready", "error")}

    def fresh(self, task_id: str) -> Any:
        return self.rows[task_id]

    def with_items(self, case_id: str) -> list[Any]:
        return [row for row in self.of_case(case_id) if row.department is not None and row.item is not None]

    def departments_of_case(self, case_id: str) -> set[str]:
        return {row.department for row in self.where(case_id=case_id) if row.department is not None}

    def ready_of_department(self, case_id: str, department: str | None) -> list[Any]:
        return [row for row in self.of_case(case_id, "ready") if row.department == department]

    def ready_corrections(self, case_id: str) -> list[Any]:
        return [row for row in self.of_case(case_id, "ready")
                if row.department is None and row.form_key == "correction_response"]

    def timed_of_case(self, case_id: str, task_ids: list[str] | None = None) -> list[Any]:
        return [row for row in self.of_case(case_id, "ready")
                if row.due_at is not None and (not task_ids or row.id in task_ids)]

    def running_clocks(self, case_id: str) -> list[Any]:
        return [row for row in self.timed_of_case(case_id) if row.clock_stopped_at is None]

    def running_clock_dates(self, case_id: str) -> list[tuple[Any, ...]]:
        return [(row.id, row.sla, row.warn_at, row.due_at) for row in self.running_clocks(case_id)]

    def last_completed_timed(self, row: Any, same_element: bool, limit: int = 50) -> list[Any]:
        found = [t for t in self.where(case_id=row.case_id, state="completed")
                 if t.due_at is not None and t.id != row.id and (not same_element or t.element_id == row.element_id)]
        return sorted(found, key=lambda t: (t.completed_at, t.id), reverse=True)[:limit]

    def completed_since(self, row: Any, since: datetime, limit: int = 50) -> list[Any]:
        return [t for t in self.where(case_id=row.case_id, state="completed")
                if t.created_at >= since and t.id != row.id][:limit]

    def provisional_ready(self) -> list[tuple[Any, ...]]:
        return [(t.id, t.case_id, t.due_provisional_years) for t in self.where(state="ready")
                if t.due_provisional_years is not None]

    def fresh_of_ids(self, task_ids: list[str]) -> list[Any]:
        return sorted((self.rows[i] for i in task_ids if i in self.rows), key=lambda t: (t.created_at, t.id))


class FakeCases(FakeRepository):
    def __init__(self, tasks: FakeTasks) -> None:
        super().__init__()
        self.tasks = tasks

    def lock(self, case_id: str) -> Any:
        case = self.get(case_id)
        if case is None:
            raise NotFound(f"case {case_id} does not exist")
        return case

    def lock_of_task(self, task_id: str) -> Any:
        task = self.tasks.get(task_id)
        return None if task is None else self.get(task.case_id)

    def by_open_key(self, open_key: str) -> Any:
        return next(iter(self.where(open_key=open_key)), None)

    def running_of_business_key(self, business_key: str) -> list[Any]:
        return sorted(self.where(business_key=business_key, status="running"), key=lambda row: row.started_at)

    def is_new(self, case_id: str) -> bool:
        return False

    def current(self, case_id: str) -> Any:
        return self.get(case_id)

    def open_of_definition(self, definition_id: int, statuses: tuple[str, ...],
                           case_ids: list[str] | None = None) -> list[Any]:
        return sorted((c for c in self.where(definition_id=definition_id) if c.status in statuses
                       and (case_ids is None or c.id in case_ids)), key=lambda c: (c.started_at, c.id))


class FakeEvents(FakeRepository):
    def of_case(self, case_id: str) -> list[Any]:
        return sorted(self.where(case_id=case_id), key=lambda row: row.id)


class FakeJobs(FakeRepository):
    def of_case(self, case_id: str) -> list[Any]:
        return self.where(case_id=case_id)

    def by_ids(self, job_ids: list[int]) -> list[Any]:
        return [self.rows[i] for i in job_ids if i in self.rows]

    def pending(self, case_id: str | None = None) -> list[Any]:
        rows = self.rows.values() if case_id is None else self.where(case_id=case_id)
        return sorted(rows, key=lambda job: (job.due_at, job.id))


class FakeStartTimers(FakeRepository):
    def lock(self, timer_id: int) -> Any:
        return self.get(timer_id)

    def replace_of_key(self, process_key: str, rows: list[Any]) -> None:
        for old in self.where(process_key=process_key):
            self.delete(old)
        for row in rows:
            self.add(row)

    def pending(self, process_key: str | None = None) -> list[Any]:
        rows = self.rows.values() if process_key is None else self.where(process_key=process_key)
        return sorted(rows, key=lambda timer: (timer.due_at, timer.id))


class FakeEscalations(FakeRepository):
    def open_of_task(self, task_id: str) -> Any:
        rows = self.where(task_id=task_id, status="open")
        return max(rows, key=lambda row: row.level, default=None)

    def at_level(self, task_id: str, level: int) -> Any:
        return next(iter(self.where(task_id=task_id, level=level)), None)

    def of_case(self, case_id: str, *statuses: str) -> list[Any]:
        return [row for row in self.where(case_id=case_id) if row.status in statuses]

    def of_task(self, task_id: str, *statuses: str) -> list[Any]:
        return sorted((row for row in self.where(task_id=task_id) if row.status in statuses),
                      key=lambda row: row.level)

    def due_of_case(self, case_id: str, now: datetime) -> list[Any]:
        return [row for row in self.where(case_id=case_id, status="open")
                if row.next_at is not None and row.next_at <= now]

    def next_levels(self, case_id: str) -> list[tuple[Any, ...]]:
        return [(row.task_id, row.next_at) for row in self.where(case_id=case_id, status="open")
                if row.next_at is not None]

    def open_across(self, spans: list[tuple[datetime, datetime]]) -> list[tuple[int, str]]:
        return [(row.id, row.case_id) for row in self.where(status="open") if row.next_at is not None
                and any(row.raised_at < end and row.next_at >= start for start, end in spans)]

    def fresh_of_ids(self, escalation_ids: list[int]) -> list[Any]:
        return sorted((self.rows[i] for i in escalation_ids if i in self.rows), key=lambda row: row.id)


class FakeIncidents(FakeRepository):
    def of_case(self, case_id: str, state: str = "open") -> list[Any]:
        rows = [row for row in self.where(case_id=case_id) if state == "all" or row.state == state]
        return sorted(rows, key=lambda row: (row.created_at, row.id))

    def open_of_task(self, task_id: str) -> list[Any]:
        return self.where(task_id=task_id, state="open")

    def open_by_id(self, case_id: str) -> list[Any]:
        return sorted(self.where(case_id=case_id, state="open"), key=lambda row: row.id)


class FakeDefinitions(FakeRepository):
    def __init__(self, cases: FakeCases | None = None) -> None:
        super().__init__()
        self.cases = cases

    def of_open_cases(self, statuses: tuple[str, ...]) -> list[Any]:
        ids = {c.definition_id for c in self.cases.rows.values() if c.status in statuses} if self.cases else set()
        return sorted((self.rows[i] for i in ids if i in self.rows), key=lambda row: (row.key, row.version))

    def latest(self, key: str) -> Any:
        return max(self.where(key=key), key=lambda row: row.version, default=None)

    def id_of(self, key: str, version: int | None = None) -> Any:
        found = self.latest(key) if version is None else next(iter(self.where(key=key, version=version)), None)
        return None if found is None else found.id

    def versions(self, key: str) -> list[Any]:
        return sorted(self.where(key=key), key=lambda row: row.version)

    def latest_of_each(self) -> list[Any]:
        return sorted((self.latest(key) for key in {row.key for row in self.rows.values()}), key=lambda row: row.key)


class FakeDeployments(FakeRepository):
    def latest_sha256(self, file_name: str) -> str | None:
        found = max(self.where(file_name=file_name), key=lambda row: row.id, default=None)
        return None if found is None else found.sha256

    def dmn_files(self, limit: int) -> list[Any]:
        return sorted((r for r in self.rows.values() if r.file_name.endswith(".dmn")), key=lambda r: r.id,
                      reverse=True)[:limit]


class FakeUsers(FakeRepository):
    def by_name(self, name: str) -> Any:
        return next(iter(self.where(name=name)), None)

    def all(self) -> list[Any]:
        return sorted(self.rows.values(), key=lambda u: (u.role, u.department or "", u.name))

    def any(self) -> bool:
        return bool(self.rows)

    def active_names(self) -> set[str]:
        return {u.name for u in self.rows.values() if u.revoked_at is None}

    def active_of_department(self, department: str) -> list[tuple[str, str, str | None]]:
        return [(u.name, u.role, u.department) for u in self.where(department=department) if u.revoked_at is None]

    def by_token_hash(self, token_hash: str) -> Any:
        user = next(iter(self.where(token_hash=token_hash)), None)
        return None if user is None else SimpleNamespace(
            name=user.name, role=user.role, department=user.department, revoked_at=user.revoked_at)


class FakeConsoleSessions(FakeRepository):
    def __init__(self, users: FakeUsers) -> None:
        super().__init__()
        self.users = users

    def with_user(self, session_id: str) -> Any:
        row = self.get(session_id)
        user = None if row is None else self.users.get(row.user_id)
        return None if user is None else SimpleNamespace(
            name=user.name, role=user.role, department=user.department, revoked_at=user.revoked_at,
            csrf_token=row.csrf_token, seen_at=row.seen_at, expires_at=row.expires_at)

    def end(self, session_id: str) -> None:
        self.rows.pop(session_id, None)

    def end_of_user(self, user_id: int, expired_by: datetime | None = None) -> None:
        for row in self.where(user_id=user_id):
            if expired_by is None or row.expires_at <= expired_by:
                self.rows.pop(row.id)


class FakeRuntime:
    """The clock (moved by hand) and no event handlers: a test sees what a service published."""

    def __init__(self) -> None:
        self.now = START
        self.handlers: dict[type, list] = {}
        self.database = SimpleNamespace(kind="memory")  # no row locks to skip (webhooks.claim_due)

    def clock(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class FakeOutbox(FakeRepository):
    def undispatched(self, limit: int, skip_locked: bool = False) -> list[Any]:
        return sorted(self.where(dispatched_at=None), key=lambda row: row.id)[:limit]

    def next_case_seq(self, case_id: str) -> int:
        return 1 + max((row.case_seq or 0 for row in self.rows.values() if row.case_id == case_id), default=0)


class FakeTableGroup(FakeRepository):
    """A repository over a group of tables (a bill with its fee items and payments): rows of the
    other tables (`others`: class name → attribute) go to their own dicts."""

    others: dict[str, str] = {}

    def _table(self, row: Any) -> FakeRepository | None:
        name = self.others.get(type(row).__name__)
        return None if name is None else getattr(self, name)

    def add(self, row: Any) -> None:
        table = self._table(row)
        if table is None:
            super().add(row)
        else:
            table.add(row)

    def delete(self, row: Any) -> None:
        table = self._table(row)
        if table is None:
            super().delete(row)
        else:
            table.delete(row)


class FakeBills(FakeTableGroup):
    """Bills, fee items and payments (`engine.adapters.bill_repository`): each table its own dict."""

    others = {"FeeItem": "items", "Payment": "paid"}

    def __init__(self, cases: FakeCases) -> None:
        super().__init__()
        self.cases = cases
        self.items = FakeRepository()
        self.paid = FakeRepository()  # payments

    def fresh(self, bill_id: str) -> Any:
        return self.get(bill_id)

    def by_number(self, number: str) -> Any:
        return next(iter(self.where(number=number)), None)

    def by_open_key(self, open_key: str) -> Any:
        return next(iter(self.where(open_key=open_key)), None)

    def of_case(self, case_id: str) -> list[Any]:
        return self.where(case_id=case_id)

    def fee_item(self, fee_item_id: int) -> Any:
        return self.items.get(fee_item_id)

    def fee_items(self, bill_ids: list[str]) -> list[Any]:
        return sorted((i for i in self.items.rows.values() if i.bill_id in bill_ids), key=lambda i: i.id)

    def has_fee_items(self, bill_id: str) -> bool:
        return bool(self.items.where(bill_id=bill_id))

    def payments(self, bill_ids: list[str]) -> list[Any]:
        return sorted((p for p in self.paid.rows.values() if p.bill_id in bill_ids), key=lambda p: p.id)

    def pending_payment(self, bill_id: str) -> Any:
        return max(self.paid.where(bill_id=bill_id, status="pending"), key=lambda p: p.id, default=None)

    def payment_by_reference(self, reference: str) -> Any:
        return next(iter(self.paid.where(reference=reference)), None)

    def mark_payments(self, reference: str, status: str) -> None:
        for payment in self.paid.where(reference=reference):
            payment.status = status

    def of_item(self, case_id: str, item_key: str, department: str | None) -> list[Any]:
        bill_ids = {i.bill_id for i in self.items.where(case_id=case_id, item_key=item_key, department=department)}
        return [SimpleNamespace(number=b.number, status=b.status, total_fen=b.total_fen)
                for b in self.rows.values() if b.id in bill_ids]

    def listing(self, status: str | None, *, started_by: str | None = None, regions: list[str] | None = None,
                with_unset_region: bool = False, department: str | None = None, limit: int = 500) -> list[Any]:
        found = []
        for bill in sorted(self.rows.values(), key=lambda b: (b.created_at, b.number)):
            case = self.cases.get(bill.case_id)
            if ((status is None or bill.status == status)
                    and (started_by is None or case.started_by == started_by)
                    and (regions is None or case.region in regions or (with_unset_region and case.region is None))
                    and (department is None or self.items.where(bill_id=bill.id, department=department))):
                found.append((bill, case))
        return found[:limit]

    def departments(self, bill_ids: list[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for item in self.items.rows.values():
            if item.bill_id in bill_ids:
                found.setdefault(item.bill_id, set()).add(item.department)
        return found

    def settled_between(self, start: datetime, end: datetime, departments: list[str] | None) -> list[Any]:
        def within(at: Any) -> bool:
            return at is not None and start <= at <= end

        found = [(self.get(i.bill_id), i, self.cases.get(i.case_id)) for i in self.items.rows.values()
                 if departments is None or i.department in departments]
        found = [(b, i, c) for b, i, c in found if within(b.paid_at) or within(b.refunded_at) or within(b.waived_at)]
        return sorted(found, key=lambda r: (r[1].department, r[0].number, r[1].id))


class FakeWebhooks(FakeTableGroup):
    """Hooks and their deliveries (`engine.adapters.webhook_repository`)."""

    others = {"WebhookDelivery": "deliveries"}

    def __init__(self, outbox: FakeOutbox) -> None:
        super().__init__()
        self.outbox = outbox
        self.deliveries = FakeRepository()

    def all(self) -> list[Any]:
        return sorted(self.rows.values(), key=lambda h: h.id)

    def active(self) -> list[Any]:
        return [h for h in self.all() if h.active]

    def remove_deliveries(self, hook_id: int) -> None:
        for row in self.deliveries.where(webhook_id=hook_id):
            self.deliveries.delete(row)

    def delivery_counts(self, hook_ids: list[int]) -> list[tuple[int, str, int]]:
        counts: dict[tuple[int, str], int] = {}
        for row in self.deliveries.rows.values():
            if row.webhook_id in hook_ids:
                counts[(row.webhook_id, row.state)] = counts.get((row.webhook_id, row.state), 0) + 1
        return [(hook_id, state, n) for (hook_id, state), n in counts.items()]

    def delivery(self, delivery_id: int, *, for_update: bool = False) -> Any:
        return self.deliveries.get(delivery_id)

    def load_deliveries(self, delivery_ids: list[int]) -> list[Any]:
        return [self.deliveries.rows[i] for i in delivery_ids if i in self.deliveries.rows]

    def due(self, now: datetime, limit: int, skip_locked: bool) -> list[Any]:
        rows = self.deliveries.rows.values()

        def blocked(d: Any) -> bool:
            event = self.outbox.get(d.event_pk)
            return (any(e.webhook_id == d.webhook_id and e.ordering_key == d.ordering_key
                        and e.event_pk < d.event_pk and e.state in ("pending", "dead") for e in rows)
                    or any(o.case_id == event.case_id and o.id < event.id and o.dispatched_at is None
                           for o in self.outbox.rows.values()))

        found = [(d, self.get(d.webhook_id), self.outbox.get(d.event_pk)) for d in rows
                 if d.state == "pending" and d.next_attempt_at <= now
                 and (d.lease_until is None or d.lease_until < now) and self.get(d.webhook_id).active
                 and not blocked(d)]
        return sorted(found, key=lambda r: (r[0].next_attempt_at, r[0].event_pk))[:limit]

    def deliveries_with_events(self, *, webhook_id: int | None = None, state: str | None = None,
                               newest_first: bool = False, limit: int = 50, offset: int = 0) -> tuple[list[Any], int]:
        found = sorted((d for d in self.deliveries.rows.values()
                        if (state is None or d.state == state) and (webhook_id is None or d.webhook_id == webhook_id)),
                       key=lambda d: d.event_pk, reverse=newest_first)
        return [(d, self.outbox.get(d.event_pk)) for d in found[offset:offset + limit]], len(found)

    def pending_after(self, delivery: Any) -> int:
        return len([d for d in self.deliveries.rows.values() if d.webhook_id == delivery.webhook_id
                    and d.ordering_key == delivery.ordering_key and d.event_pk > delivery.event_pk
                    and d.state == "pending"])


class FakeMigrations(FakeTableGroup):
    """Case migrations and their per-case rows (`engine.adapters.migration_repository`)."""

    others = {"CaseMigrationCase": "items"}

    def __init__(self) -> None:
        super().__init__()
        self.items = FakeRepository()

    def item(self, item_id: int) -> Any:
        return self.items.get(item_id)

    def items_in(self, migration_id: int, statuses: tuple[str, ...], limit: int) -> list[Any]:
        return sorted((i for i in self.items.where(migration_id=migration_id) if i.status in statuses),
                      key=lambda i: i.id)[:limit]

    def pending_item_ids(self, migration_id: int, limit: int) -> list[int]:
        return [i.id for i in self.items_in(migration_id, ("pending",), limit)]

    def pending_count(self, migration_id: int) -> int:
        return len(self.items.where(migration_id=migration_id, status="pending"))

    def oldest_running(self) -> int | None:
        return min((m.id for m in self.where(status="running")), default=None)

    def counts(self, migration_id: int) -> dict[str, int]:
        found: dict[str, int] = {}
        for i in self.items.where(migration_id=migration_id):
            found[i.status] = found.get(i.status, 0) + 1
        return found


class FakeExternalTasks(FakeRepository):
    """`external_tasks` rows (`engine.adapters.external_task_store`); nothing to skip: one process."""

    def __init__(self, cases: FakeCases) -> None:
        super().__init__()
        self.cases = cases

    def fetchable(self, topics: list[str], now: datetime, limit: int) -> list[Any]:
        if limit <= 0 or not topics:
            return []
        found = [row for row in self.rows.values() if row.topic in topics
                 and (row.lock_expires_at is None or row.lock_expires_at <= now)
                 and (row.retries is None or row.retries > 0) and self.cases.get(row.case_id).status == "running"]
        return sorted(found, key=lambda r: (-r.priority, r.created_at, r.id))[:limit]

    def lock(self, task_id: str) -> Any:
        return self.get(task_id)

    def of_case(self, case_id: str) -> dict[str, Any]:
        return {row.id: row for row in self.where(case_id=case_id)}

    def listed(self, topic: str | None = None, worker: str | None = None, case_id: str | None = None,
               locked: bool | None = None, now: datetime | None = None, limit: int = 200,
               offset: int = 0) -> list[Any]:
        def held(row: Any) -> bool:
            return row.lock_expires_at is not None and row.lock_expires_at > now

        found = [row for row in self.rows.values() if (topic is None or row.topic == topic)
                 and (worker is None or row.worker == worker) and (case_id is None or row.case_id == case_id)
                 and (locked is None or now is None or held(row) == locked)]
        return sorted(found, key=lambda r: (r.created_at, r.id))[offset:offset + limit]

    def cases_by_id(self, case_ids: set[str]) -> dict[str, Any]:
        return {case_id: self.cases.get(case_id) for case_id in sorted(case_ids) if self.cases.get(case_id)}


class FakeNotifications(FakeRepository):
    def of_user(self, user_name: str, *, unread: bool = False, limit: int = 50, offset: int = 0) -> tuple[list[Any], int]:
        found = sorted((n for n in self.where(user_name=user_name) if not unread or n.read_at is None),
                       key=lambda n: n.id, reverse=True)
        return found[offset:offset + limit], len(found)

    def unread_count(self, user_name: str) -> int:
        return len(self.where(user_name=user_name, read_at=None))

    def mark_all_read(self, user_name: str, at: datetime, up_to: int | None = None) -> int:
        marked = [n for n in self.where(user_name=user_name, read_at=None) if up_to is None or n.id <= up_to]
        for row in marked:
            row.read_at = at
        return len(marked)


class FakeUnitOfWork:
    _organisation: Organisation | None = None
    write = True

    def __init__(self) -> None:
        self.runtime = FakeRuntime()
        self.tasks = FakeTasks()
        self.cases = FakeCases(self.tasks)
        self.events = FakeEvents()
        self.jobs = FakeJobs()
        self.start_timers = FakeStartTimers()
        self.users = FakeUsers()
        self.escalations = FakeEscalations()
        self.incidents = FakeIncidents()
        self.definitions = FakeDefinitions(self.cases)
        self.deployments = FakeDeployments()
        self.console_sessions = FakeConsoleSessions(self.users)
        self.outbox = FakeOutbox()
        self.bills = FakeBills(self.cases)
        self.webhooks = FakeWebhooks(self.outbox)
        self.migrations = FakeMigrations()
        self.external_tasks = FakeExternalTasks(self.cases)
        self.notifications = FakeNotifications()
        self.published: list[Any] = []
        self.committed = False
        self.depth = 0
        self.closed = 0  # how many times the outermost level was left
        self._commit_owed = False

    def __enter__(self) -> "FakeUnitOfWork":
        """Re-entrant like `UnitOfWork`: an inner `with` joins the outer one."""
        self.depth += 1
        if self.depth == 1:
            self._commit_owed = False
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.depth -= 1
        if self.depth:
            return
        self.closed += 1
        owed, self._commit_owed = self._commit_owed, False
        if owed and exc_type is None:
            raise RuntimeError("a use case committed inside a unit of work whose outermost level never committed")

    def at_end(self, callback: Any) -> None:
        pass  # nothing to release: the fakes' unit of work has no end

    def publish(self, event: Any) -> None:
        if event not in self.published:
            self.published.append(event)

    def commit(self) -> None:
        """Only the outermost level commits (`UnitOfWork.commit`)."""
        if self.depth > 1:
            self._commit_owed = True
            return
        self._commit_owed = False
        self.committed = True

    def rollback(self) -> None:
        self._commit_owed = False
        self.published = []

    def begin(self) -> None:
        pass

    def flush(self) -> None:
        pass  # ids are given on `add`

    @contextmanager
    def no_autoflush(self) -> Iterator[None]:
        yield  # nothing is written before a flush in memory either

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Runs the block; in memory a failing block's changes are not undone (a test that relies
        on the rollback belongs with the database tests)."""
        yield

    def lock_case(self, case_id: str) -> Any:
        return self.cases.lock(case_id)

    def lock_case_of_task(self, task_id: str) -> Any:
        return self.cases.lock_of_task(task_id)

    @property
    def organisation(self) -> Organisation:
        """The shipped organisation (a pure domain object), parsed once per test run."""
        if FakeUnitOfWork._organisation is None:
            FakeUnitOfWork._organisation = Organisation.load()
        return FakeUnitOfWork._organisation
