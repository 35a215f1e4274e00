"""Which service answers which domain event (`engine.domain.events`).

The unit of work collects events while a command runs and hands each (once) to its handlers
before it commits (`UnitOfWork.handle_events`); `Runtime.handlers` is this table.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.domain.events import TimersChanged
from engine.services import statistics_upkeep, timers

HANDLERS: dict[type, list[Callable[[Any, Any], None]]] = {
    TimersChanged: [timers.on_timers_changed],
}

#: Run by a writing unit of work just before it commits, after the events: summary rows kept
#: with the change that made them (the statistics of issue 14).
BEFORE_COMMIT: list[Callable[[Any], None]] = [statistics_upkeep.before_commit]

#: Given the write sessions' factory once per runtime: listeners that note what a command changes
#: (the statistics' summary rows, recomputed by `before_commit`).
SESSION_WATCHERS: list[Callable[[Any], None]] = [statistics_upkeep.watch]
