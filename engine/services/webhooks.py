"""Webhooks for integrators: registration, the delivery schedule, dead letters.

Delivery is at least once, in order per case, with the event id for de-duplication:

- `enqueue` (inside `notifications.dispatch`, in the worker) adds one pending delivery per hook
  subscribed to the event's type.
- `claim_due` takes pending deliveries whose time has come and whose case has no earlier
  delivery to the same hook still pending or dead (`ordering_key`), with a lease, so a worker
  killed mid-request only delays them until the lease runs out (then they are sent again: the
  receiver de-duplicates by event id).
- `Deliverer.run_once` sends the claimed ones concurrently (one thread each, short timeouts,
  outside any transaction) and `record`s each outcome: delivered; or the next attempt with
  exponential back-off (30 s, 1 min, 2 min, ... capped at 1 h) while within 24 h of the first
  attempt; then dead — a dead letter an admin sees and can redeliver. A dead delivery holds
  back its case's later events to that hook until it is redelivered or discarded, so a
  receiver never sees event n+1 of a case before event n.

The whole schedule is rows in the database: it survives restarts.
"""
from __future__ import annotations

import concurrent.futures
import logging
import secrets as _secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from engine.domain.access import Actor, require_role
from engine.adapters.webhook_delivery import Outcome, Sender, body_of
from engine.errors import Conflict, Invalid, NotFound
from engine.services.event_catalogue import EVENT_TYPES
from engine.adapters.models import OutboxEvent, Webhook, WebhookDelivery
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.runtime import Runtime
    from engine.adapters.uow import UnitOfWork

log = logging.getLogger("onewindow.webhooks")

RETRY_FOR = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
LEASE = timedelta(seconds=60)
STATES = ("pending", "delivered", "dead", "discarded")

# --------------------------------------------------------------------------- registration


def _check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("url must be an http or https URL with a host", {"url": ["not an http(s) URL"]})
    if parts.username or parts.password:
        raise Invalid("url must not carry credentials; the secret signs the body",
                      {"url": ["credentials in the URL"]})
    if len(url) > 2000:
        raise Invalid("url is longer than 2000 characters", {"url": ["too long"]})
    return url


def _check_events(events: list[str] | str) -> list[str]:
    """Event types or patterns: `*` (all), `task.*` (a family), or a type of the catalogue."""
    if isinstance(events, str):
        events = [e for e in events.split(",")]
    names = [e.strip() for e in events if e and e.strip()]
    if not names:
        raise Invalid("events: name at least one event type (or *)", {"events": ["empty"]})
    families = {t.split(".")[0] for t in EVENT_TYPES}
    unknown = [n for n in names if not (n == "*" or n in EVENT_TYPES
                                        or (n.endswith(".*") and n[:-2] in families))]
    if unknown:
        raise Invalid(f"events: unknown event type {', '.join(unknown)} (known: {', '.join(EVENT_TYPES)}, "
                      f"a family such as task.*, or *)", {"events": [f"unknown: {', '.join(unknown)}"]})
    return sorted(set(names))


def _check_secret(secret: str) -> str:
    """A given signing secret: 16 to 200 characters."""
    if not 16 <= len(secret) <= 200:
        raise Invalid("secret must be 16 to 200 characters", {"secret": ["16 to 200 characters"]})
    return secret


def subscribed(hook_events: list[str], event_type: str) -> bool:
    family = event_type.split(".")[0]
    return any(p == "*" or p == event_type or p == f"{family}.*" for p in hook_events or ())


@use_case
def add_hook(uow: "UnitOfWork", actor: Actor, url: str, events: list[str] | str,
             secret: str | None = None, description: str | None = None) -> Webhook:
    """Register a hook (admins). Without a secret one is generated; it is shown once, here."""
    require_role(actor, "admin")
    secret = _check_secret(secret) if secret is not None else _secrets.token_hex(32)
    hook = Webhook(url=_check_url(url), events=_check_events(events), secret=secret, description=(description or None),
                   active=True, created_at=uow.runtime.clock(), created_by=actor.name)
    uow.webhooks.add_now(hook)
    return hook


def get_hook(uow: "UnitOfWork", actor: Actor, hook_id: int) -> Webhook:
    require_role(actor, "admin")
    hook = uow.webhooks.get(hook_id)
    if hook is None:
        raise NotFound(f"webhook {hook_id} does not exist")
    return hook


def list_hooks(uow: "UnitOfWork", actor: Actor) -> list[Webhook]:
    require_role(actor, "admin")
    return uow.webhooks.all()


@use_case
def update_hook(uow: "UnitOfWork", actor: Actor, hook_id: int, *, url: str | None = None,
                events: list[str] | None = None, active: bool | None = None,
                description: str | None = None, rotate_secret: bool = False,
                secret: str | None = None) -> Webhook:
    hook = get_hook(uow, actor, hook_id)
    if url is not None:
        hook.url = _check_url(url)
    if events is not None:
        hook.events = _check_events(events)
    if active is not None:
        hook.active = active
    if description is not None:
        hook.description = description or None
    if secret is not None:
        hook.secret = _check_secret(secret)
    elif rotate_secret:
        hook.secret = _secrets.token_hex(32)
    return hook


@use_case
def remove_hook(uow: "UnitOfWork", actor: Actor, hook_id: int) -> None:
    """Remove a hook and its deliveries (pending ones are not sent any more)."""
    hook = get_hook(uow, actor, hook_id)
    uow.webhooks.remove_deliveries(hook.id)
    uow.webhooks.delete(hook)


def stats(uow: "UnitOfWork", hook_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per hook: deliveries by state (admins watch pending and dead)."""
    out: dict[int, dict[str, int]] = {i: {s: 0 for s in STATES} for i in hook_ids}
    for hook_id, state, count in uow.webhooks.delivery_counts(hook_ids):
        out[hook_id][state] = count
    return out


def as_dict(hook: Webhook, counts: dict[str, int] | None = None, with_secret: bool = False) -> dict[str, Any]:
    out = {"id": hook.id, "url": hook.url, "events": list(hook.events or ()), "active": hook.active,
           "description": hook.description, "created_at": hook.created_at, "created_by": hook.created_by,
           "secret_hint": hook.secret[:4] + "…", "deliveries": counts or {s: 0 for s in STATES}}
    if with_secret:
        out["secret"] = hook.secret
    return out

# --------------------------------------------------------------------------- the schedule


def active_hooks(uow: "UnitOfWork") -> list[Webhook]:
    return uow.webhooks.active()


def ordering_key(event: OutboxEvent) -> str | None:
    if event.case_id:
        return f"case:{event.case_id}"
    if event.project_code:
        return f"project:{event.project_code}"
    return None


def enqueue(uow: "UnitOfWork", event: OutboxEvent, hooks: list[Webhook], now: datetime) -> None:
    """One pending delivery of `event` per hook subscribed to its type (due now)."""
    if event.id is None:
        uow.outbox.flush()
    for hook in hooks:
        if subscribed(hook.events, event.type):
            uow.webhooks.add(WebhookDelivery(
                webhook_id=hook.id, event_pk=event.id, event_id=event.event_id,
                ordering_key=ordering_key(event), state="pending", attempts=0, created_at=now,
                next_attempt_at=now))


def next_delay(attempts: int) -> timedelta:
    """After the n-th failed attempt: 30 s × 2^(n-1), at most an hour."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), MAX_RETRY)


@dataclass
class Claimed:
    delivery_id: int
    url: str
    secret: str
    event: dict[str, Any]
    event_id: str
    event_type: str
    attempt: int


def event_document(event: OutboxEvent) -> dict[str, Any]:
    """What a webhook body says about an event (besides `sent_at` and `attempt`)."""
    return {"id": event.event_id, "type": event.type, "occurred_at": event.occurred_at.isoformat(),
            "case_id": event.case_id, "project_code": event.project_code, "sequence": event.case_seq,
            "data": event.payload or {}}


def claim_due(uow: "UnitOfWork", worker: str, limit: int = 20, lease: timedelta = LEASE) -> list[Claimed]:
    """Claim deliveries due now whose case has nothing earlier pending or dead to the same hook."""
    now = uow.runtime.clock()
    claimed = []
    for row, hook, event in uow.webhooks.due(now, limit, skip_locked=uow.runtime.database.kind == "postgresql"):
        row.claimed_by, row.lease_until = worker, now + lease
        claimed.append(Claimed(row.id, hook.url, hook.secret, event_document(event), event.event_id,
                               event.type, row.attempts + 1))
    return claimed


def record(uow: "UnitOfWork", delivery_id: int, worker: str, outcome: Outcome, attempted_at: datetime) -> None:
    """What came of one attempt: delivered, retried later, or dead after 24 h of trying."""
    row = uow.webhooks.delivery(delivery_id)  # in the identity map after `load_deliveries`
    if row is None or row.state != "pending" or row.claimed_by != worker:
        return  # removed meanwhile, or our lease ran out and another worker took it
    now = uow.runtime.clock()
    row.attempts += 1
    row.first_attempt_at = row.first_attempt_at or attempted_at
    row.last_attempt_at, row.last_status, row.last_error = attempted_at, outcome.status, outcome.error
    row.claimed_by = row.lease_until = None
    if outcome.ok:
        row.state, row.delivered_at = "delivered", now
        return
    retry_at = now + next_delay(row.attempts)
    if retry_at > row.first_attempt_at + RETRY_FOR:
        row.state, row.dead_at = "dead", now
        log.warning("webhook delivery %s of event %s is dead after %s attempts: %s",
                    row.id, row.event_id, row.attempts, outcome.error)
    else:
        row.next_attempt_at = retry_at


# --------------------------------------------------------------------------- dead letters


def dead_letters(uow: "UnitOfWork", actor: Actor, webhook_id: int | None = None, limit: int = 100,
                 offset: int = 0) -> tuple[list[tuple[WebhookDelivery, OutboxEvent]], int]:
    require_role(actor, "admin")
    return uow.webhooks.deliveries_with_events(webhook_id=webhook_id, state="dead", limit=limit, offset=offset)


def deliveries(uow: "UnitOfWork", actor: Actor, webhook_id: int, state: str | None = None, limit: int = 50,
               offset: int = 0) -> tuple[list[tuple[WebhookDelivery, OutboxEvent]], int]:
    """A hook's deliveries, newest event first (what an admin reads when an integrator asks
    "did you send it?"): state, attempts, the receiver's last status and error."""
    get_hook(uow, actor, webhook_id)
    return uow.webhooks.deliveries_with_events(webhook_id=webhook_id, state=state, newest_first=True,
                                               limit=limit, offset=offset)


def held_back(uow: "UnitOfWork", delivery: WebhookDelivery) -> int:
    """How many later events of the same case wait behind a dead delivery."""
    if delivery.ordering_key is None:
        return 0
    return uow.webhooks.pending_after(delivery)


def _dead(uow: "UnitOfWork", actor: Actor, delivery_id: int) -> WebhookDelivery:
    require_role(actor, "admin")
    row = uow.webhooks.delivery(delivery_id, for_update=True)
    if row is None:
        raise NotFound(f"dead letter {delivery_id} does not exist")
    if row.state != "dead":
        raise Conflict(f"delivery {delivery_id} is {row.state}, not dead")
    return row


@use_case
def redeliver(uow: "UnitOfWork", actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send a dead letter again: a fresh 24 h of attempts, from now."""
    row = _dead(uow, actor, delivery_id)
    row.state, row.dead_at, row.attempts, row.first_attempt_at = "pending", None, 0, None
    row.next_attempt_at = uow.runtime.clock()
    return row


@use_case
def discard(uow: "UnitOfWork", actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Give up on a dead letter for good: it is never sent, the case's later events to the hook go on."""
    row = _dead(uow, actor, delivery_id)
    row.state, row.last_error = "discarded", f"discarded by {actor.name}; " + (row.last_error or "")
    return row


def delivery_dict(uow: "UnitOfWork", row: WebhookDelivery, event: OutboxEvent | None = None) -> dict[str, Any]:
    event = event or uow.outbox.get(row.event_pk)
    return {"id": row.id, "webhook_id": row.webhook_id, "event_id": row.event_id, "event_type": event.type,
            "case_id": event.case_id, "sequence": event.case_seq, "occurred_at": event.occurred_at,
            "state": row.state, "attempts": row.attempts, "first_attempt_at": row.first_attempt_at,
            "last_attempt_at": row.last_attempt_at, "last_status": row.last_status,
            "last_error": row.last_error, "next_attempt_at": row.next_attempt_at if row.state == "pending" else None,
            "dead_at": row.dead_at, "held_back": held_back(uow, row) if row.state == "dead" else 0}

# --------------------------------------------------------------------------- the sender loop


class Deliverer:
    """Claims due deliveries and sends them concurrently (the worker runs it in its own thread,
    so a slow receiver delays neither the API nor the worker's timers)."""

    def __init__(self, runtime: "Runtime", name: str, batch: int = 20, threads: int = 8,
                 connect_timeout: float | None = None, read_timeout: float | None = None,
                 lease: timedelta = LEASE) -> None:
        self.runtime, self.name, self.batch, self.lease = runtime, name, batch, lease
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook")
        self._local = threading.local()
        self._timeouts = {k: v for k, v in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout))
                          if v is not None}

    def _sender(self) -> Sender:
        sender = getattr(self._local, "sender", None)
        if sender is None:
            sender = self._local.sender = Sender(**self._timeouts)
        return sender

    def run_once(self) -> int:
        """Claim one batch, send it concurrently, record every outcome in one transaction;
        returns how many were sent. (Killed before recording: the batch is sent again once its
        leases run out — at least once.)"""
        with self.runtime.unit_of_work() as uow:
            claimed = claim_due(uow, self.name, self.batch, self.lease)
            uow.commit()
        if not claimed:
            return 0
        outcomes = list(self.pool.map(self._send, claimed))
        try:
            with self.runtime.unit_of_work() as uow:
                uow.webhooks.load_deliveries([item.delivery_id for item in claimed])  # one query, then `get` finds them
                for item, (outcome, sent_at) in zip(claimed, outcomes):
                    record(uow, item.delivery_id, self.name, outcome, sent_at)
                uow.commit()
        except Exception:  # noqa: BLE001 - the leases run out and the batch is sent again
            log.exception("recording %s webhook deliveries failed", len(claimed))
        return len(claimed)

    def _send(self, item: Claimed) -> tuple[Outcome, datetime]:
        sent_at = self.runtime.clock()
        body = body_of(item.event, sent_at, item.attempt)
        return self._sender().send(item.url, item.secret, body, event_id=item.event_id,
                                   event_type=item.event_type, sent_at=sent_at, attempt=item.attempt), sent_at

    def run(self, stopping: threading.Event, poll_seconds: float = 1.0) -> None:
        """Until `stopping`: deliver what is due, then wait a moment when nothing was."""
        while not stopping.is_set():
            try:
                sent = self.run_once()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the thread
                log.exception("webhook delivery round failed")
                sent = 0
            if not sent:
                stopping.wait(poll_seconds)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


__all__ = ["add_hook", "list_hooks", "remove_hook", "update_hook", "enqueue", "claim_due", "record",
           "dead_letters", "redeliver", "discard", "Deliverer", "subscribed", "next_delay"]


def _shown(uow: "UnitOfWork", hook: Webhook) -> dict[str, Any]:
    return as_dict(hook, stats(uow, [hook.id])[hook.id], with_secret=True)


@use_case
def add_hook_shown(uow: "UnitOfWork", actor: Actor, url: str, events: list[str] | str,
                   secret: str | None = None, description: str | None = None) -> dict[str, Any]:
    """`add_hook` answered as the API shows a hook, with its secret (shown once, here)."""
    return _shown(uow, add_hook(uow, actor, url, events, secret, description))


@use_case
def update_hook_shown(uow: "UnitOfWork", actor: Actor, hook_id: int, **changes: Any) -> dict[str, Any]:
    """`update_hook` answered as the API shows a hook, with its (new) secret."""
    return _shown(uow, update_hook(uow, actor, hook_id, **changes))


@use_case
def redeliver_shown(uow: "UnitOfWork", actor: Actor, delivery_id: int) -> dict[str, Any]:
    """`redeliver` answered as the API shows a delivery."""
    return delivery_dict(uow, redeliver(uow, actor, delivery_id))


@use_case
def discard_shown(uow: "UnitOfWork", actor: Actor, delivery_id: int) -> dict[str, Any]:
    """`discard` answered as the API shows a delivery."""
    return delivery_dict(uow, discard(uow, actor, delivery_id))
