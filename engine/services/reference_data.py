"""Loading the organisation as a use case (a year's calendar: `engine.services.calendar_years`).

The storing and checking live in the adapter (`organisation_versions`); this wraps it so routes,
the console and the CLI call a service that owns its transaction.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.adapters import organisation_versions
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork


@use_case
def load_organisation(uow: "UnitOfWork", data: bytes | str, source: str, loaded_by: str) -> dict[str, Any]:
    """A new version of the organisation (`organisation_versions.load`; unchanged: nothing new)."""
    return organisation_versions.load(uow, data, source, loaded_by)
