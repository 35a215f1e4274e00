"""Which service answers which domain event (`engine.domain.events`).

The unit of work collects events while a command runs and hands each (once) to its handlers
before it commits (`UnitOfWork.handle_events`); `Runtime.handlers` is this table.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.domain.events import TimersChanged
from engine.services import timers

HANDLERS: dict[type, list[Callable[[Any, Any], None]]] = {
    TimersChanged: [timers.on_timers_changed],
}
