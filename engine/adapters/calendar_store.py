"""The working-day calendar as versioned data in the database (table `calendar_years`).

Each `load_year` adds a version of one year's `YearCalendar` JSON; the newest version is in
force. 2025 and 2026 are seeded from `chinese_calendar` on first use when the table holds no
data at all. `CalendarStore.calendar(uow)` builds a `WorkCalendar` and caches it per process;
the cache is keyed on the (year, version) pairs in the table, so a year loaded by another
process (the CLI, another gunicorn worker) is seen by the next unit of work.
"""
from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from engine.errors import Invalid, NotFound
from engine.adapters.models import CalendarYear
from engine.domain.calendar import (DEFAULT_OFFICE_HOURS, Duration, OfficeHours, WorkCalendar, YearCalendar,
                                  provisional_window, provisional_year)
# A year's load is also a use case (its provisional dates move): the one adapter → service import.
from engine.services.recompute import recompute_provisional

if TYPE_CHECKING:
    from engine.runtime import Runtime
    from engine.adapters.uow import UnitOfWork

SEED_YEARS: tuple[int, ...] = (2025, 2026)


class CalendarStore:
    """Per-process access to the calendar table, with a cache invalidated by version."""

    def __init__(self, runtime: "Runtime", office_hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> None:
        self.runtime = runtime
        self.office_hours = office_hours
        self._lock = threading.Lock()
        self._signature: tuple[tuple[int, int], ...] | None = None
        self._years: dict[int, YearCalendar] | None = None

    # -- reading -------------------------------------------------------------------------
    def _current_versions(self, uow: "UnitOfWork") -> tuple[tuple[int, int], ...]:
        rows = uow.session.execute(
            select(CalendarYear.year, func.max(CalendarYear.version)).group_by(CalendarYear.year)
            .order_by(CalendarYear.year)).all()
        return tuple((int(y), int(v)) for y, v in rows)

    def calendar(self, uow: "UnitOfWork") -> WorkCalendar:
        """The calendar in force, seeding 2025/2026 from the library if the table is empty.

        Years without official data inside `provisional_window` (seen from the runtime clock's
        year) are counted provisionally; each call returns a fresh `WorkCalendar` over the cached
        official years, so its `tracking()` belongs to the caller alone.
        """
        window = provisional_window(uow.runtime.clock().astimezone(self.office_hours.tz).year)
        signature = self._current_versions(uow)
        if not signature:
            self.seed(uow)
            signature = self._current_versions(uow)
            if not signature:  # a read snapshot taken before the seed committed
                return WorkCalendar({y: YearCalendar.from_library(y) for y in SEED_YEARS},
                                    self.office_hours, provisional=window)
        with self._lock:
            if signature == self._signature and self._years is not None:
                return WorkCalendar(self._years, self.office_hours, provisional=window)
        years: dict[int, YearCalendar] = {}
        for year, version in signature:
            row = uow.session.scalar(select(CalendarYear).where(
                CalendarYear.year == year, CalendarYear.version == version))
            years[year] = YearCalendar.from_dict(row.data)
        with self._lock:
            self._signature, self._years = signature, years
        return WorkCalendar(years, self.office_hours, provisional=window)

    def invalidate(self) -> None:
        with self._lock:
            self._signature, self._years = None, None

    def seed(self, uow: "UnitOfWork", years: tuple[int, ...] = SEED_YEARS) -> None:
        """Seed years from `chinese_calendar` (idempotent; in the caller's transaction when it
        writes, else in a transaction of its own)."""
        if uow.write:
            self._insert_seed(uow, years, nested=True)
            return
        with self.runtime.unit_of_work() as own:
            self._insert_seed(own, years, nested=False)
            own.commit()
        uow.session.commit()  # end the read snapshot, so the next query sees the seeded years

    def _insert_seed(self, uow: "UnitOfWork", years: tuple[int, ...], nested: bool) -> None:
        have = set(uow.session.scalars(select(CalendarYear.year).distinct()))
        rows = []
        for year in years:
            if year not in have:
                data = YearCalendar.from_library(year).to_dict()
                rows.append(CalendarYear(year=year, version=1, data=data, source=data["source"],
                                         loaded_at=self.runtime.clock(), loaded_by="system"))
        if not rows:
            return
        savepoint = uow.session.begin_nested()
        try:
            uow.session.add_all(rows)
            uow.session.flush()
            savepoint.commit()
        except IntegrityError:
            savepoint.rollback()  # another process seeded at the same moment


# --------------------------------------------------------------------------- engine verbs


def _row_dict(row: CalendarYear) -> dict[str, Any]:
    return {**row.data, "status": "official", "version": row.version, "loaded_at": row.loaded_at,
            "loaded_by": row.loaded_by}


def _provisional_dict(year: int) -> dict[str, Any]:
    return {**provisional_year(year).to_dict(), "status": "provisional", "version": None,
            "loaded_at": None, "loaded_by": None}


def get_year(uow: "UnitOfWork", year: int, version: int | None = None) -> dict[str, Any]:
    """One year's calendar in force (or an older `version`), with its version and who loaded it;
    a year without official data inside the provisional window: its provisional days."""
    calendar = uow.runtime.calendars.calendar(uow)  # seeds on first use
    query = select(CalendarYear).where(CalendarYear.year == year)
    if version is not None:
        query = query.where(CalendarYear.version == version)
    row = uow.session.scalar(query.order_by(CalendarYear.version.desc()).limit(1))
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
    calendar = uow.runtime.calendars.calendar(uow)
    official: dict[int, dict[str, Any]] = {}
    for year, version in uow.runtime.calendars._current_versions(uow):
        row = uow.session.scalar(select(CalendarYear).where(
            CalendarYear.year == year, CalendarYear.version == version))
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
    current = uow.session.scalar(select(func.max(CalendarYear.version))
                                 .where(CalendarYear.year == calendar.year)) or 0
    row = CalendarYear(year=calendar.year, version=current + 1, data=calendar.to_dict(),
                       source=calendar.source, loaded_at=uow.runtime.clock(), loaded_by=loaded_by)
    uow.session.add(row)
    uow.session.flush()
    uow.after_commit(uow.runtime.calendars.invalidate)
    recomputed = recompute_provisional(uow, set() if current else {calendar.year}, loaded_by)
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
