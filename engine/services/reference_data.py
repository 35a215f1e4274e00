"""Loading the documents the engine counts with — a year's calendar, the organisation — as use cases.

The storing and checking live in the adapters (`calendar_store`, `organisation_versions`); these
wrap them so routes, the console and the CLI call a service that owns its transaction.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.adapters import calendar_store
from engine.adapters import organisation_versions
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork


@use_case
def load_calendar_year(uow: "UnitOfWork", data: Any, loaded_by: str, year: int | None = None) -> dict[str, Any]:
    """A new version of a year's calendar; due dates counted on it provisionally are recomputed
    in the same transaction (`calendar_store.load_year`)."""
    return calendar_store.load_year(uow, data, loaded_by, year=year)


@use_case
def load_organisation(uow: "UnitOfWork", data: bytes | str, source: str, loaded_by: str) -> dict[str, Any]:
    """A new version of the organisation (`organisation_versions.load`; unchanged: nothing new)."""
    return organisation_versions.load(uow, data, source, loaded_by)
