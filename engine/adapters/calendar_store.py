"""The working-day calendar as versioned data in the database (table `calendar_years`).

Each load (`engine.services.calendar_years.load_year`) adds a version of one year's
`YearCalendar` JSON (`CalendarStore.add_version`); the newest version is in force. 2025 and 2026 are seeded from `chinese_calendar` on first use when the table holds no
data at all. `CalendarStore.calendar(uow)` builds a `WorkCalendar` and caches it per process;
the cache is keyed on the (year, version) pairs in the table, so a year loaded by another
process (the CLI, another gunicorn worker) is seen by the next unit of work.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from engine.adapters.models import CalendarYear
from engine.domain.calendar import DEFAULT_OFFICE_HOURS, OfficeHours, WorkCalendar, YearCalendar, provisional_window

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
    def current_versions(self, uow: "UnitOfWork") -> tuple[tuple[int, int], ...]:
        """(year, version in force) of every year with official data, by year."""
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
        return self.calendar_seeding(uow)[0]

    def calendar_seeding(self, uow: "UnitOfWork") -> tuple[WorkCalendar, bool]:
        """`calendar`, and whether a read unit of work found the table empty and the years were
        seeded in a transaction of their own: its snapshot does not hold them (the calendar is
        the seeded years, from the library); the caller may end it to read their rows."""
        window = provisional_window(uow.runtime.clock().astimezone(self.office_hours.tz).year)
        signature = self.current_versions(uow)
        if not signature:
            self.seed(uow)
            seeded_apart = not uow.write  # in a transaction of its own: this snapshot may not hold it
            signature = () if seeded_apart else self.current_versions(uow)
            if not signature:
                return WorkCalendar({y: YearCalendar.from_library(y) for y in SEED_YEARS},
                                    self.office_hours, provisional=window), seeded_apart
        with self._lock:
            if signature == self._signature and self._years is not None:
                return WorkCalendar(self._years, self.office_hours, provisional=window), False
        years: dict[int, YearCalendar] = {}
        for year, version in signature:
            years[year] = YearCalendar.from_dict(self.version_row(uow, year, version).data)
        with self._lock:
            self._signature, self._years = signature, years
        return WorkCalendar(years, self.office_hours, provisional=window), False

    def invalidate(self) -> None:
        with self._lock:
            self._signature, self._years = None, None

    def seed(self, uow: "UnitOfWork", years: tuple[int, ...] = SEED_YEARS) -> None:
        """Seed years from `chinese_calendar` (idempotent; in the caller's transaction when it
        writes, else in a transaction of its own, which it commits: the caller's read
        snapshot is the caller's to end)."""
        if uow.write:
            self._insert_seed(uow, years, nested=True)
            return
        with self.runtime.unit_of_work() as own:
            self._insert_seed(own, years, nested=False)
            own.commit()

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

    # -- the rows ------------------------------------------------------------------------
    def year_row(self, uow: "UnitOfWork", year: int, version: int | None = None) -> CalendarYear | None:
        """A year's row in force (or its `version`); None when there is none."""
        query = select(CalendarYear).where(CalendarYear.year == year)
        if version is not None:
            query = query.where(CalendarYear.version == version)
        return uow.session.scalar(query.order_by(CalendarYear.version.desc()).limit(1))

    def version_row(self, uow: "UnitOfWork", year: int, version: int) -> CalendarYear:
        """The row of one version of a year (one listed by `current_versions`)."""
        return uow.session.scalar(select(CalendarYear).where(
            CalendarYear.year == year, CalendarYear.version == version))

    def add_version(self, uow: "UnitOfWork", calendar: YearCalendar, loaded_by: str) -> tuple[CalendarYear, int]:
        """Store a year's calendar as its next version, written now; returns the row and the
        version it follows (0: the year's first). This process's cache drops the years once the
        unit of work commits."""
        current = uow.session.scalar(select(func.max(CalendarYear.version))
                                     .where(CalendarYear.year == calendar.year)) or 0
        row = CalendarYear(year=calendar.year, version=current + 1, data=calendar.to_dict(),
                           source=calendar.source, loaded_at=uow.runtime.clock(), loaded_by=loaded_by)
        uow.session.add(row)
        uow.session.flush()
        uow.after_commit(self.invalidate)
        return row, current
