"""The append-only event log of each case."""
from __future__ import annotations

from typing import Any

from engine.adapters.models import Event
from engine.adapters.uow import UnitOfWork


def record(uow: UnitOfWork, case_id: str, type: str, actor: str | None = None,
           task_id: str | None = None, element_id: str | None = None,
           data: dict[str, Any] | None = None) -> None:
    uow.events.add(Event(case_id=case_id, at=uow.runtime.clock(), type=type, actor=actor,
                         task_id=task_id, element_id=element_id, data=data))


def case_history(uow: UnitOfWork, case_id: str) -> list[Event]:
    return uow.events.of_case(case_id)
