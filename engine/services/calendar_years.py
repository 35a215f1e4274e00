"""The working-day calendar's years as use cases: list, read, load a year, count a due date.

Loading a year adds a version (`engine.adapters.calendar_store`) and, in the same transaction,
moves every open date that was counted on the year while it was provisional
(`engine.services.recompute`). Loading is a use case: it owns its transaction.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.adapters.models import CalendarYear
from engine.domain.calendar import Duration, WorkCalendar, YearCalendar, provisional_year
from engine.errors import Invalid, NotFound
from engine.services.recompute import recompute_provisional
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork


def _calendar_with_rows(uow: "UnitOfWork") -> WorkCalendar:
    """The calendar in force, its rows readable in this unit of work: a read unit of work that
    found the table empty (the years were seeded in a transaction of their own) ends its
    snapshot — it wrote nothing — so its next queries see the seeded rows."""
    calendar, seeded_apart = uow.runtime.calendars.calendar_seeding(uow)
    if seeded_apart:
        uow.commit()
        calendar = uow.runtime.calendars.calendar(uow)
    return calendar


def _row_dict(row: CalendarYear) -> dict[str, Any]:
    return {**row.data, "status": "official", "version": row.version, "loaded_at": row.loaded_at,
            "loaded_by": row.loaded_by}


def _provisional_dict(year: int) -> dict[str, Any]:
    return {**provisional_year(year).to_dict(), "status": "provisional", "version": None,
            "loaded_at": None, "loaded_by": None}


def get_year(uow: "UnitOfWork", year: int, version: int | None = None) -> dict[str, Any]:
    """One year's calendar in force (or an older `version`), with its version and who loaded it;
    a year without official data inside the provisional window: its provisional days."""
    calendar = _calendar_with_rows(uow)  # seeds on first use
    row = uow.runtime.calendars.year_row(uow, year, version)
    if row is None:
        if version is not None:
            raise NotFound(f"no version {version} of the {year} calendar")
        if calendar.status(year) == "provisional":
            return _provisional_dict(year)
        first, last = calendar.provisional or (None, None)
        raise Invalid(f"no working-day calendar for {year}; load it with onewindow calendar load "
                      f"or PUT /api/v1/calendar/{year}",
                      {"year": [f"no calendar data for {year}, and only {first}-{last} are counted "
                                f"provisionally"]})
    return _row_dict(row)


def list_years(uow: "UnitOfWork") -> list[dict[str, Any]]:
    """Every year with official data, every year counted provisionally, and the first year
    after the provisional window (missing: a due date there is an error until it is loaded)."""
    calendar = _calendar_with_rows(uow)
    store = uow.runtime.calendars
    official: dict[int, dict[str, Any]] = {}
    for year, version in store.current_versions(uow):
        row = store.version_row(uow, year, version)
        official[year] = {"year": year, "status": "official", "version": version, "source": row.source,
                          "loaded_at": row.loaded_at, "loaded_by": row.loaded_by}
    first, last = calendar.provisional or (min(official, default=0), max(official, default=0))
    out = []
    for year in sorted(set(official) | set(range(first, last + 2))):
        if year in official:
            out.append(official[year])
        elif calendar.status(year) == "provisional":
            out.append({"year": year, "status": "provisional", "version": None,
                        "source": provisional_year(year).source, "loaded_at": None, "loaded_by": None})
        else:
            out.append({"year": year, "status": "missing", "version": None, "source": None,
                        "loaded_at": None, "loaded_by": None})
    return out


@use_case
def load_year(uow: "UnitOfWork", data: Any, loaded_by: str, year: int | None = None) -> dict[str, Any]:
    """Validate and store a new version of a year's calendar; the cache sees it after commit.

    In the same transaction, every open due date, warning instant and escalation level counted
    on the year while it was provisional is recomputed (`engine.services.recompute`); the result's
    `recomputed` says how many changed. A new version of a year already official moves nothing:
    a due date once given on official data stands.
    """
    calendar = YearCalendar.from_dict(data)
    if year is not None and calendar.year != year:
        raise Invalid(f"the body is the {calendar.year} calendar, not {year}",
                      {"year": [f"must be {year}"]})
    uow.runtime.calendars.calendar(uow)  # seed first, so a loaded year is version 2 of a seeded one
    row, previous = uow.runtime.calendars.add_version(uow, calendar, loaded_by)
    recomputed = recompute_provisional(uow, set() if previous else {calendar.year}, loaded_by)
    return {**_row_dict(row), "recomputed": recomputed}


def due(uow: "UnitOfWork", start: datetime, duration: str) -> dict[str, Any]:
    """`onewindow calendar due` / GET /calendar/due: the due instant of `duration` from `start`,
    and whether it was counted on a provisional year."""
    parsed = Duration.parse(duration)
    calendar = uow.runtime.calendars.calendar(uow)
    with calendar.tracking() as used:
        at = calendar.add(start, parsed)
    return {"from": start, "duration": str(parsed), "unit": parsed.unit, "amount": parsed.amount,
            "due": at, "provisional": bool(used), "provisional_years": sorted(used)}


def parse_instant(text: str, name: str = "from") -> datetime:
    """An ISO 8601 instant with an offset (`2026-09-30T17:00+08:00`); naive ones are refused."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise Invalid(f"{text!r} is not an ISO 8601 instant such as 2026-09-30T17:00+08:00",
                      {name: ["not an ISO 8601 date-time"]}) from None
    if moment.tzinfo is None:
        raise Invalid(f"{text!r} has no UTC offset; write e.g. 2026-09-30T17:00+08:00",
                      {name: ["must carry a UTC offset"]})
    return moment
