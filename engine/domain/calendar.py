"""Working-day arithmetic on the official Chinese calendar.

Statutory limits (承诺时限, 征求意见时限, deemed consent) are counted in working days or
working hours, and which days are working days is decided each year by the State Council:
public holidays plus adjusted working weekends (调休). That schedule is published late and
has been changed mid-year, so it is *data* (`YearCalendar`, editable by an administrator as
JSON), never code. A year with no data is an error, never a silent weekday-only guess,
because a wrong deadline is worse than a refused one.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import Invalid

UNITS: tuple[str, ...] = ("natural_days", "working_days", "natural_hours", "working_hours")

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _library_source() -> str:
    try:
        import chinese_calendar  # lazy: only to seed a year or name the source
        return f"chinese_calendar {chinese_calendar.__version__}"
    except (ImportError, AttributeError):  # pragma: no cover - dependency is pinned
        return "chinese_calendar"


def _missing_year(year: int, provisional: tuple[int, int] | None = None) -> Invalid:
    if provisional is None:
        return Invalid(f"no working-day calendar for {year}; load it with onewindow calendar load")
    first, last = provisional
    return Invalid(f"no working-day calendar for {year}; load it with onewindow calendar load "
                   f"(years without official data are counted provisionally only from {first} to {last})",
                   {"year": [f"{year} is outside {first}-{last}"]})


# A year with no official schedule is counted provisionally when it lies in this window:
# from the first year the 2025 holiday rules apply to, up to the current year + 4 (the current
# year and the four after it), so 2031 is refused in 2026 and allowed from 2027-01-01.
PROVISIONAL_FIRST_YEAR = 2025
PROVISIONAL_YEARS_AHEAD = 4


def provisional_window(current_year: int) -> tuple[int, int]:
    """The years counted provisionally when they have no official data, seen from `current_year`."""
    return PROVISIONAL_FIRST_YEAR, current_year + PROVISIONAL_YEARS_AHEAD


def _holidays_source() -> str:
    try:
        import holidays  # lazy: a large package, only for provisional years
        return f"provisional: statutory holidays and 补假 from holidays {holidays.__version__}, no 调休"
    except (ImportError, AttributeError):  # pragma: no cover - dependency is pinned
        return "provisional: statutory holidays and 补假, no 调休"


@lru_cache(maxsize=32)
def provisional_year(year: int) -> "YearCalendar":
    """A year before its official schedule is published: weekends plus the statutory holidays.

    The festival dates (元旦, 除夕 and 春节 1-3, 清明, 劳动节 1-2, 端午, 中秋, 国庆 1-3 under the
    2025 rules; lunar dates computed) and their statutory make-up days off (补假: a festival on
    a Saturday or Sunday is taken on the next working day, 全国年节及纪念日放假办法 art. 6) come from
    the `holidays` package. Adjusted working weekends (调休) are a yearly State Council decision
    and cannot be known: there are none, so every weekend is off.
    """
    import holidays  # lazy: a large package, only for provisional years

    days = holidays.country_holidays("CN", years=year, observed=True)
    off = frozenset(d for d in days if d.year == year and d.weekday() < 5)
    return YearCalendar(year, off, frozenset(), _holidays_source(), provisional=True)


# --------------------------------------------------------------------------- year data


@dataclass(frozen=True)
class YearCalendar:
    """One year's official schedule: weekday days off and weekend days worked.

    Everything else follows the plain rule (Mon–Fri work, Sat–Sun off), so the two sets
    are all an administrator needs to write when the State Council publishes a notice.
    """

    year: int
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    source: str = "admin"
    provisional: bool = False  # counted from the statutory rules before the official schedule

    def is_working_day(self, d: date) -> bool:
        """Whether `d` (which must fall in this year) is a working day."""
        if d.year != self.year:
            raise Invalid(f"{d.isoformat()} is not in the {self.year} calendar")
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        return d.weekday() < 5

    def to_dict(self) -> dict[str, Any]:
        """The hand-writable JSON shape `from_dict` reads back."""
        return {
            "year": self.year,
            "holidays": [d.isoformat() for d in sorted(self.holidays)],
            "workdays": [d.isoformat() for d in sorted(self.workdays)],
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Any) -> "YearCalendar":
        """Validate administrator input, reporting every problem with its field and index."""
        if not isinstance(data, Mapping):
            raise Invalid("a year calendar must be a JSON object",
                          {"": ["expected an object with year, holidays, workdays, source"]})
        errors: dict[str, list[str]] = {}

        def err(key: str, message: str) -> None:
            errors.setdefault(key, []).append(message)

        for key in data:
            if key not in ("year", "holidays", "workdays", "source"):
                err(str(key), "unknown field")

        year = data.get("year")
        if isinstance(year, bool) or not isinstance(year, int):
            err("year", "must be an integer year such as 2026")
            year = None
        elif not 1900 <= year <= 2200:
            err("year", f"{year} is not a plausible year")
            year = None

        source = data.get("source", "admin")
        if not isinstance(source, str) or not source.strip():
            err("source", "must be a non-empty string")
            source = "admin"

        def dates(name: str) -> list[tuple[int, date]]:
            raw = data.get(name, [])
            if not isinstance(raw, list):
                err(name, "must be a list of YYYY-MM-DD dates")
                return []
            out: list[tuple[int, date]] = []
            seen: set[date] = set()
            for i, item in enumerate(raw):
                key = f"{name}[{i}]"
                if not isinstance(item, str) or not _ISO_DATE.match(item):
                    err(key, f"{item!r} is not a YYYY-MM-DD date")
                    continue
                try:
                    d = date.fromisoformat(item)
                except ValueError:
                    err(key, f"{item} is not a valid date")
                    continue
                if year is not None and d.year != year:
                    err(key, f"{item} is not in {year}")
                    continue
                if d in seen:
                    err(key, f"{item} is listed twice")
                    continue
                seen.add(d)
                out.append((i, d))
            return out

        holidays = dates("holidays")
        workdays = dates("workdays")
        holiday_set = {d for _, d in holidays}
        for i, d in workdays:
            if d.weekday() < 5:
                err(f"workdays[{i}]", f"{d.isoformat()} is not a weekend day")
            if d in holiday_set:
                err(f"workdays[{i}]", f"{d.isoformat()} is also listed as a holiday")

        if errors:
            raise Invalid("the year calendar has errors", errors)
        assert year is not None
        return cls(year, frozenset(holiday_set), frozenset(d for _, d in workdays), source)

    @classmethod
    def from_library(cls, year: int) -> "YearCalendar":
        """Seed a year from the `chinese_calendar` package (covers 2004–2026 in 1.11)."""
        import chinese_calendar  # lazy: only to seed a year

        start = date(year, 1, 1)
        holidays: set[date] = set()
        workdays: set[date] = set()
        try:
            d = start
            while d.year == year:
                if d.weekday() < 5 and chinese_calendar.is_holiday(d):
                    holidays.add(d)
                elif d.weekday() >= 5 and chinese_calendar.is_workday(d):
                    workdays.add(d)
                d += timedelta(days=1)
        except NotImplementedError:
            raise Invalid(f"chinese_calendar has no data for {year}; "
                          f"load an official schedule with onewindow calendar load",
                          {"year": [f"{year} is not covered by {_library_source()}"]}) from None
        return cls(year, frozenset(holidays), frozenset(workdays), _library_source())


# --------------------------------------------------------------------------- office hours


def _parse_hhmm(text: str) -> time:
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text)
    if not m:
        raise ValueError(text)
    return time(int(m.group(1)), int(m.group(2)))  # ValueError when out of range


@dataclass(frozen=True)
class OfficeHours:
    """The periods of a working day in which working hours accrue (lunch does not count)."""

    periods: tuple[tuple[time, time], ...] = ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 30)))
    zone: str = "Asia/Shanghai"
    tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.periods:
            raise Invalid("office hours need at least one period", {"office_hours": ["empty"]})
        previous_end: time | None = None
        for start, end in self.periods:
            if start >= end:
                raise Invalid(f"office period {start:%H:%M}-{end:%H:%M} ends before it starts",
                              {"office_hours": ["each period must end after it starts"]})
            if previous_end is not None and start < previous_end:
                raise Invalid("office periods must be in order and not overlap",
                              {"office_hours": ["periods overlap or are out of order"]})
            previous_end = end
        try:
            object.__setattr__(self, "tz", ZoneInfo(self.zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(f"unknown time zone {self.zone!r}", {"zone": ["unknown time zone"]}) from None

    @classmethod
    def parse(cls, text: str, zone: str = "Asia/Shanghai") -> "OfficeHours":
        """Read the config form "09:00-12:00,13:30-17:30"."""
        periods: list[tuple[time, time]] = []
        try:
            for part in text.split(","):
                start, end = part.split("-")
                periods.append((_parse_hhmm(start), _parse_hhmm(end)))
        except ValueError:
            raise Invalid(f"cannot read office hours {text!r}; expected e.g. 09:00-12:00,13:30-17:30",
                          {"office_hours": [f"{text!r} is not like 09:00-12:00,13:30-17:30"]}) from None
        return cls(tuple(periods), zone)

    def __str__(self) -> str:
        return ",".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in self.periods)

    @property
    def hours_per_day(self) -> float:
        return sum(_seconds(e) - _seconds(s) for s, e in self.periods) / 3600

    @property
    def day_end(self) -> time:
        """When a working-day deadline falls: the end of the last period (17:30 by default)."""
        return self.periods[-1][1]

    def intervals(self, d: date) -> list[tuple[datetime, datetime]]:
        """The aware office intervals of local date `d`."""
        return [(self.at(d, s), self.at(d, e)) for s, e in self.periods]

    def at(self, d: date, t: time) -> datetime:
        """Local wall-clock time `t` on date `d`, aware in the office zone."""
        return datetime.combine(d, t, tzinfo=self.tz)


def _seconds(t: time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second


DEFAULT_OFFICE_HOURS = OfficeHours()


# --------------------------------------------------------------------------- durations

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}


def _cn_number(text: str) -> int | None:
    """Arabic digits or a Chinese numeral below 1000 (二十, 十五, 一百二十)."""
    if text.isdigit() and text.isascii():
        return int(text)
    total, digit = 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            if digit is not None:
                return None
            digit = _CN_DIGITS[ch]
        elif ch in "十百":
            total += (1 if digit is None else digit) * (10 if ch == "十" else 100)
            digit = None
        else:
            return None
    if not text:
        return None
    return total + (digit or 0)


# Unit spellings, matched after the number (case-insensitive, whitespace-insensitive).
_UNIT_WORDS: dict[str, str] = {}
for _unit, _words in {
    "working_days": ("working days", "working day", "work days", "work day", "wd",
                     "个工作日", "工作日"),
    "natural_days": ("natural days", "natural day", "calendar days", "calendar day", "days", "day",
                     "个自然日", "自然日", "日", "天"),
    "working_hours": ("working hours", "working hour", "wh", "个工作小时", "工作小时"),
    "natural_hours": ("natural hours", "natural hour", "hours", "hour", "h",
                      "个小时", "小时", "个自然小时", "自然小时"),
}.items():
    for _w in _words:
        _UNIT_WORDS[_w.replace(" ", "")] = _unit

_ISO = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(\d+)H)?$")
_PLAIN = re.compile(r"^(\d+|[零〇一二两三四五六七八九十百]+)\s*(.*)$")
_ENGLISH = {"working_days": ("working day", "working days"),
            "natural_days": ("natural day", "natural days"),
            "working_hours": ("working hour", "working hours"),
            "natural_hours": ("natural hour", "natural hours")}


# The longest limit of each unit: 100 years (of ~250 working days of 8 office hours).
MAX_AMOUNTS = {"natural_days": 36525, "natural_hours": 36525 * 24, "working_days": 25000,
               "working_hours": 25000 * 8}


@dataclass(frozen=True)
class Duration:
    """A time limit as written in an item's rules: an amount and one of the four units."""

    amount: int
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise Invalid(f"unknown duration unit {self.unit!r}", {"unit": [f"must be one of {', '.join(UNITS)}"]})
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise Invalid(f"duration amount must be a whole number ≥ 0, not {self.amount!r}",
                          {"amount": ["must be a whole number ≥ 0"]})
        if self.amount > MAX_AMOUNTS[self.unit]:  # a 20-digit limit would loop or overflow
            raise Invalid(f"a duration of {self.amount} {self.unit.replace('_', ' ')} is longer than 100 years",
                          {"duration": [f"at most {MAX_AMOUNTS[self.unit]} {self.unit.replace('_', ' ')}"]})

    @classmethod
    def parse(cls, text: str) -> "Duration":
        """Read "5 working days", "5wd", "24 hours", "P7D", "PT24H", "5个工作日", "24小时", "7天"...

        Bare days/hours and ISO 8601 durations are natural time; only an explicit
        "working"/"工作" makes it working time, because that is how the regulations word it.
        """
        if not isinstance(text, str):
            raise Invalid(f"cannot read duration {text!r}", {"duration": ["must be text"]})
        cleaned = text.strip()
        if len(cleaned) > 60:  # also keeps int() off numbers of thousands of digits
            raise Invalid(f"cannot read duration {cleaned[:30]!r}...: longer than 60 characters",
                          {"duration": ["longer than 60 characters"]})
        iso = _ISO.match(cleaned.upper())
        if iso and cleaned.upper() not in ("P", "PT"):
            weeks, days, hours = (int(g) if g else 0 for g in iso.groups())
            if iso.group(3) is not None:
                return cls((weeks * 7 + days) * 24 + hours, "natural_hours")
            return cls(weeks * 7 + days, "natural_days")
        plain = _PLAIN.match(cleaned)
        if plain:
            amount = _cn_number(plain.group(1))
            unit = _UNIT_WORDS.get(re.sub(r"\s+", "", plain.group(2)).lower())
            if amount is not None and unit is not None:
                return cls(amount, unit)
        raise Invalid(
            f"cannot read duration {text!r}; write e.g. '5 working days', '24 hours', "
            f"'8 working hours', '7 natural days', 'PT24H' or '5个工作日'",
            {"duration": [f"{text!r} is not a duration"]})

    def __str__(self) -> str:
        singular, plural = _ENGLISH[self.unit]
        return f"{self.amount} {singular if self.amount == 1 else plural}"


# --------------------------------------------------------------------------- the calendar


class WorkCalendar:
    """Deadline arithmetic over loaded `YearCalendar`s and the office hours.

    All local dates are taken in the office-hours zone (Asia/Shanghai), whatever zone the
    inputs are in; results are returned in that zone.
    """

    def __init__(self, years: Mapping[int, YearCalendar],
                 office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
                 provisional: tuple[int, int] | None = None) -> None:
        """`years`: the official data. `provisional`: the (first, last) years that, without
        official data, are counted on `provisional_year` instead of being an error."""
        for key, cal in years.items():
            if key != cal.year:
                raise Invalid(f"calendar for {cal.year} filed under {key}")
        self._years = dict(years)
        self.office_hours = office_hours
        self.provisional = provisional
        self._used: set[int] | None = None

    @classmethod
    def from_library(cls, years: Iterable[int],
                     office_hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> "WorkCalendar":
        """Seed from `chinese_calendar`; for tests and first start-up, before an admin loads data."""
        return cls({y: YearCalendar.from_library(y) for y in years}, office_hours)

    @property
    def years(self) -> tuple[int, ...]:
        """The years with official data."""
        return tuple(sorted(self._years))

    def status(self, year: int) -> str:
        """`official` (loaded data), `provisional` (counted on the statutory rules) or `missing`."""
        if year in self._years:
            return "official"
        if self.provisional is not None and self.provisional[0] <= year <= self.provisional[1]:
            return "provisional"
        return "missing"

    def year(self, year: int) -> YearCalendar:
        """The data a year is counted on: official, else provisional; `Invalid` outside both."""
        cal = self._years.get(year)
        if cal is not None:
            return cal
        if self.status(year) != "provisional":
            raise _missing_year(year, self.provisional)
        if self._used is not None:
            self._used.add(year)
        return provisional_year(year)

    @contextmanager
    def tracking(self) -> Iterator[set[int]]:
        """Collect the provisional years consulted inside the block (a due date depends on them
        and moves when they are loaded). Nested blocks also report to the outer one."""
        outer, used = self._used, set()
        self._used = used
        try:
            yield used
        finally:
            if outer is not None:
                outer.update(used)
            self._used = outer

    def is_working_day(self, d: date) -> bool:
        """Whether `d` is a working day; a year with neither official nor provisional data
        raises `Invalid`, never guesses."""
        cal = self._years.get(d.year)
        if cal is None:
            cal = self.year(d.year)
        return cal.is_working_day(d)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        d += timedelta(days=1)
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def _local(self, moment: datetime, name: str) -> datetime:
        if not isinstance(moment, datetime):
            raise Invalid(f"{name} must be a datetime", {name: ["must be a datetime"]})
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise Invalid(f"{name} {moment.isoformat()} has no time zone",
                          {name: ["must carry a time zone offset"]})
        return moment.astimezone(self.office_hours.tz)

    def add(self, start: datetime, duration: Duration) -> datetime:
        """`_add`, refusing a deadline beyond the years a date can hold (e.g. from 9999-12-31)."""
        try:
            return self._add(start, duration)
        except OverflowError:
            raise Invalid(f"{duration} from {start.isoformat()} falls outside the years 1-9999",
                          {"duration": ["the due date would fall outside the years 1-9999"]}) from None

    def _add(self, start: datetime, duration: Duration) -> datetime:
        """The deadline `duration` after `start` (aware; returned in the office zone).

        - natural_days / natural_hours: plain elapsed time (`timedelta`), holidays included.
        - working_days N ≥ 1: the end of office hours (17:30 local) of the Nth working day
          after the start's local date. The start day never counts, whatever the hour,
          because 行政许可法 counts a limit from the day after acceptance.
          N = 0: the end of the start day if it is a working day, else of the next one.
        - working_hours N: N hours of office time consumed from `start`; outside office
          hours (night, lunch, weekend, holiday) the clock begins at the next office period.
          A deadline that uses up a period exactly falls at that period's end (e.g. 17:30),
          not the next morning. N = 0 gives the first office instant at or after `start`.
        """
        local = self._local(start, "start")
        if duration.unit in ("natural_days", "natural_hours"):
            # In UTC, so a natural hour is an elapsed hour even in a zone with DST.
            step = timedelta(**{duration.unit.split("_")[1]: duration.amount})
            return (local.astimezone(timezone.utc) + step).astimezone(self.office_hours.tz)
        if duration.unit == "working_days":
            day = local.date()
            if duration.amount == 0:
                if not self.is_working_day(day):
                    day = self.next_working_day(day)
            for _ in range(duration.amount):
                day = self.next_working_day(day)
            return self.office_hours.at(day, self.office_hours.day_end)
        return self._add_working_hours(local, timedelta(hours=duration.amount))

    def _add_working_hours(self, local: datetime, remaining: timedelta) -> datetime:
        day = local.date()
        cursor = local
        while True:
            if self.is_working_day(day):
                for begin, end in self.office_hours.intervals(day):
                    if cursor >= end:
                        continue
                    begin = max(begin, cursor)
                    available = end - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
                    cursor = end
            day += timedelta(days=1)

    def working_time_between(self, a: datetime, b: datetime, unit: str) -> float | int:
        """Time from `a` to `b` in `unit`; negative when `b` is before `a`.

        - working_days: an int, the working days whose local date is strictly after a's date
          and on or before b's date (so `working_time_between(s, add(s, N wd))` is N).
        - working_hours: office hours elapsed, as a float.
        - natural_days / natural_hours: elapsed time as a float.
        """
        if unit not in UNITS:
            raise Invalid(f"unknown duration unit {unit!r}", {"unit": [f"must be one of {', '.join(UNITS)}"]})
        a, b = self._local(a, "a"), self._local(b, "b")
        elapsed = b.astimezone(timezone.utc) - a.astimezone(timezone.utc)
        if elapsed < timedelta(0):
            return -self.working_time_between(b, a, unit)
        if unit == "natural_days":
            return elapsed.total_seconds() / 86400
        if unit == "natural_hours":
            return elapsed.total_seconds() / 3600
        if unit == "working_days":
            count, day = 0, a.date() + timedelta(days=1)
            while day <= b.date():
                count += self.is_working_day(day)
                day += timedelta(days=1)
            return count
        seconds, day = 0.0, a.date()
        while day <= b.date():
            if self.is_working_day(day):
                for begin, end in self.office_hours.intervals(day):
                    overlap = (min(end, b) - max(begin, a)).total_seconds()
                    seconds += max(overlap, 0.0)
            day += timedelta(days=1)
        return seconds / 3600

    def remaining(self, now: datetime, due: datetime, unit: str = "working_hours") -> float | int:
        """Time left until `due` (negative once overdue), for yellow/red warnings."""
        return self.working_time_between(now, due, unit)


__all__ = ["UNITS", "DEFAULT_OFFICE_HOURS", "Duration", "OfficeHours", "WorkCalendar", "YearCalendar",
           "provisional_year", "provisional_window"]
