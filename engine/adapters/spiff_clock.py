"""The clock SpiffWorkflow's timer events read: the runtime clock of the case being worked on.

SpiffWorkflow 3.2's timer events call `datetime.now(timezone.utc)` in their module and read
naive dates in its `LOCALTZ` (the server's zone). `install_clock()` sets that module's
`datetime` to a `datetime` subclass whose `now()` is the clock of `clock_scope` (the runtime's,
so tests move time with the injected clock) and `LOCALTZ` to Beijing time. It is the one place
the library's module globals are set; everything else enters `clock_scope`.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer


_clock: contextvars.ContextVar[Callable[[], datetime] | None] = contextvars.ContextVar(
    "onewindow_clock", default=None)


class _ClockedDatetime(datetime):
    """`datetime` whose `now()` is the runtime clock of the case being worked on."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        clock = _clock.get()
        moment = clock() if clock is not None else datetime.now(timezone.utc)
        return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)


def install_clock() -> None:
    """Make SpiffWorkflow's timer events use `use_clock`'s clock; naive timer dates are Beijing time."""
    if _spiff_timer.datetime is not _ClockedDatetime:
        _spiff_timer.datetime = _ClockedDatetime
        _spiff_timer.LOCALTZ = timezone(timedelta(hours=8))


@contextlib.contextmanager
def clock_scope(clock: Callable[[], datetime]) -> Iterator[None]:
    """Within the block, SpiffWorkflow's timer events read `clock` (the runtime's)."""
    install_clock()
    token = _clock.set(clock)
    try:
        yield
    finally:
        _clock.reset(token)


install_clock()
