"""Retention: the notification machinery's rows are kept for `Settings.retention_days`, then deleted.

Every command writes outbox events (issue 13); each becomes webhook deliveries and in-app
notifications. Nothing else ever removes them, so without this the three tables grow for ever and
the worker's and the bell's queries slow down with them. What a person may still need stays: events
not yet fanned out, deliveries pending or dead (an administrator redelivers or discards those),
unread notifications, and each case's newest event (the next one is numbered from it).
The case history (`events`), tasks and statistics are records, not notifications: never purged.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable

from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork
    from engine.runtime import Runtime

BATCH = 5000  # rows per transaction: short locks even on a first purge of a large table


@dataclass(frozen=True)
class Purged:
    deliveries: int
    events: int
    notifications: int
    cutoff: datetime | None  # None: retention is off (0 days)

    @property
    def total(self) -> int:
        return self.deliveries + self.events + self.notifications


def cutoff_for(now: datetime, days: int) -> datetime | None:
    """The moment before which rows go; None when `days` is 0 (keep for ever)."""
    if days < 0:
        raise ValueError(f"retention days must be 0 or more, not {days}")
    return now - timedelta(days=days) if days else None


@use_case
def purge_batch(uow: "UnitOfWork", cutoff: datetime, limit: int = BATCH) -> Purged:
    """One transaction's share: at most `limit` rows of each kind (deliveries before their events)."""
    return Purged(uow.retention.purge_deliveries(cutoff, limit), uow.retention.purge_events(cutoff, limit),
                  uow.retention.purge_notifications(cutoff, limit), cutoff)


def purge(runtime: "Runtime", days: int | None = None, limit: int = BATCH,
          progress: Callable[[Purged], None] | None = None) -> Purged:
    """Delete everything older than `days` (default: the settings'), a batch per transaction, until
    none is left; `progress` is told the running totals after each batch that more follow (a first
    purge of a large table takes many). Safe to run from several workers at once: each batch deletes by id what it saw."""
    cutoff = cutoff_for(runtime.clock(), runtime.settings.retention_days if days is None else days)
    total = Purged(0, 0, 0, cutoff)
    if cutoff is None:
        return total
    while True:
        batch = purge_batch(runtime.unit_of_work(), cutoff, limit)
        total = Purged(total.deliveries + batch.deliveries, total.events + batch.events,
                       total.notifications + batch.notifications, cutoff)
        if max(batch.deliveries, batch.events, batch.notifications) < limit:
            return total
        if progress is not None:
            progress(total)
