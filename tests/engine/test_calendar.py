"""Working-day arithmetic against the real 2025/2026 State Council schedules."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from engine.errors import Invalid
from engine.domain.calendar import (DEFAULT_OFFICE_HOURS, Duration, OfficeHours, WorkCalendar,
                                  YearCalendar)

CST = ZoneInfo("Asia/Shanghai")
WD = "working_days"
WH = "working_hours"


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CST)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.from_library([2025, 2026])


def wd(n: int) -> Duration:
    return Duration(n, WD)


def wh(n: int) -> Duration:
    return Duration(n, WH)


# --------------------------------------------------------------------------- year data


ADJUSTED_2026 = {date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
                 date(2026, 9, 20), date(2026, 10, 10)}
ADJUSTED_2025 = {date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28),
                 date(2025, 10, 11)}


@pytest.mark.parametrize("year, adjusted", [(2026, ADJUSTED_2026), (2025, ADJUSTED_2025)])
def test_library_year_has_the_published_adjusted_working_weekends(year, adjusted):
    yc = YearCalendar.from_library(year)
    assert yc.workdays == adjusted
    assert yc.source == f"chinese_calendar {chinese_calendar.__version__}"
    assert all(d.weekday() < 5 for d in yc.holidays)
    # Agrees with the library on every day of the year.
    d = date(year, 1, 1)
    while d.year == year:
        assert yc.is_working_day(d) == chinese_calendar.is_workday(d), d
        d += timedelta(days=1)


def test_national_day_2026_is_oct_1_to_7_and_oct_10_is_worked(cal):
    for day in range(1, 8):
        assert not cal.is_working_day(date(2026, 10, day))
    assert cal.is_working_day(date(2026, 10, 8))
    assert cal.is_working_day(date(2026, 10, 10))  # Saturday
    assert not cal.is_working_day(date(2026, 10, 11))  # Sunday


def test_library_year_not_covered_is_invalid():
    with pytest.raises(Invalid) as e:
        YearCalendar.from_library(2027)
    assert "2027" in e.value.detail
    assert "year" in e.value.errors


def test_year_calendar_round_trips_through_dict():
    yc = YearCalendar.from_library(2026)
    data = yc.to_dict()
    assert data["year"] == 2026
    assert data["workdays"] == ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09",
                                "2026-09-20", "2026-10-10"]
    assert "2026-10-01" in data["holidays"]
    assert YearCalendar.from_dict(data) == yc


def test_from_dict_hand_written_defaults_source_to_admin():
    yc = YearCalendar.from_dict({"year": 2027, "holidays": ["2027-01-01"], "workdays": []})
    assert yc.source == "admin"
    assert not yc.is_working_day(date(2027, 1, 1))
    assert yc.is_working_day(date(2027, 1, 4))


def test_from_dict_reports_field_errors():
    with pytest.raises(Invalid) as e:
        YearCalendar.from_dict({
            "year": 2026,
            "holidays": ["2026-01-01", "2025-12-31", "2026-02-30", "1 Jan", "2026-01-01"],
            "workdays": ["2026-01-04", "2026-02-14", "2026-01-05", "2026-01-01"],
            "sorce": "typo",
        })
    errors = e.value.errors
    assert errors["holidays[1]"] == ["2025-12-31 is not in 2026"]
    assert errors["holidays[2]"] == ["2026-02-30 is not a valid date"]
    assert errors["holidays[3]"] == ["'1 Jan' is not a YYYY-MM-DD date"]
    assert errors["holidays[4]"] == ["2026-01-01 is listed twice"]
    assert errors["workdays[2]"] == ["2026-01-05 is not a weekend day"]
    assert errors["workdays[3]"] == ["2026-01-01 is not a weekend day",
                                     "2026-01-01 is also listed as a holiday"]
    assert errors["sorce"] == ["unknown field"]
    assert "workdays[0]" not in errors and "workdays[1]" not in errors


def test_from_dict_rejects_both_holiday_and_workday_on_a_weekend():
    with pytest.raises(Invalid) as e:
        YearCalendar.from_dict({"year": 2026, "holidays": ["2026-01-04"], "workdays": ["2026-01-04"]})
    assert e.value.errors == {"workdays[0]": ["2026-01-04 is also listed as a holiday"]}


@pytest.mark.parametrize("data, field", [
    ({"holidays": []}, "year"),
    ({"year": "2026"}, "year"),
    ({"year": True}, "year"),
    ({"year": 2026, "holidays": "2026-01-01"}, "holidays"),
    ({"year": 2026, "source": ""}, "source"),
])
def test_from_dict_rejects_bad_shapes(data, field):
    with pytest.raises(Invalid) as e:
        YearCalendar.from_dict(data)
    assert field in e.value.errors


def test_from_dict_rejects_non_object():
    with pytest.raises(Invalid):
        YearCalendar.from_dict(["2026-01-01"])


def test_a_weekend_holiday_is_accepted_and_kept():
    yc = YearCalendar.from_dict({"year": 2026, "holidays": ["2026-01-03"], "workdays": []})
    assert yc.to_dict()["holidays"] == ["2026-01-03"]
    assert not yc.is_working_day(date(2026, 1, 3))


def test_year_calendar_refuses_dates_of_another_year():
    with pytest.raises(Invalid):
        YearCalendar(2026).is_working_day(date(2025, 12, 31))


# --------------------------------------------------------------------------- missing years


def test_year_with_no_data_raises_never_guesses(cal):
    with pytest.raises(Invalid) as e:
        cal.is_working_day(date(2027, 1, 4))
    assert e.value.detail == "no working-day calendar for 2027; load it with onewindow calendar load"


def test_deadline_running_into_a_year_with_no_data_raises(cal):
    with pytest.raises(Invalid, match="2027"):
        cal.add(at(2026, 12, 28, 10), wd(5))
    with pytest.raises(Invalid, match="2024"):
        cal.working_time_between(at(2024, 12, 30), at(2025, 1, 2), WD)


def test_calendar_filed_under_wrong_year_is_refused():
    with pytest.raises(Invalid):
        WorkCalendar({2025: YearCalendar(2026)})


def test_deadline_crosses_new_year_when_both_years_loaded(cal):
    # 2025-12-30 Tue start; 31 Dec (1), 1 Jan holiday, 2 Jan holiday, 3 Jan Sat off,
    # 4 Jan Sun adjusted working day (2), 5 Jan Mon (3).
    assert cal.add(at(2025, 12, 30, 10), wd(3)) == at(2026, 1, 5, 17, 30)


# --------------------------------------------------------------------------- working days


def test_five_working_days_over_national_day_2026(cal):
    # Start Wed 30 Sep 17:00: the start day does not count. 1-2 Oct (Thu-Fri) holiday,
    # 3-4 Oct weekend, 5-7 Oct (Mon-Wed) holiday. Counting: Thu 8 Oct (1), Fri 9 Oct (2),
    # Sat 10 Oct adjusted working day (3), Sun 11 Oct off, Mon 12 Oct (4), Tue 13 Oct (5).
    due = cal.add(at(2026, 9, 30, 17), wd(5))
    assert due == at(2026, 10, 13, 17, 30)
    assert due.tzinfo == CST
    assert cal.working_time_between(at(2026, 9, 30, 17), due, WD) == 5


def test_adjusted_working_saturday_counts(cal):
    # Fri 13 Feb 2026 → Sat 14 Feb is an adjusted working day before Spring Festival.
    assert cal.is_working_day(date(2026, 2, 14))
    assert cal.add(at(2026, 2, 13, 10), wd(1)) == at(2026, 2, 14, 17, 30)


def test_spring_festival_2026(cal):
    # From Fri 13 Feb: Sat 14 Feb (1); 15 Feb Sun off; 16-20 Feb holiday; 21-22 weekend;
    # Mon 23 Feb holiday; Tue 24 Feb (2), Wed 25 (3), Thu 26 (4), Fri 27 (5),
    # Sat 28 Feb adjusted working day (6), Mon 2 Mar (7).
    assert cal.add(at(2026, 2, 13, 10), wd(2)) == at(2026, 2, 24, 17, 30)
    assert cal.add(at(2026, 2, 13, 10), wd(6)) == at(2026, 2, 28, 17, 30)
    assert cal.add(at(2026, 2, 13, 10), wd(7)) == at(2026, 3, 2, 17, 30)
    # Accepted during the holiday: the clock starts on the first day back.
    assert cal.add(at(2026, 2, 18, 10), wd(1)) == at(2026, 2, 24, 17, 30)


def test_twenty_working_days_from_late_september_2025(cal):
    # Thu 25 Sep 2025: Fri 26 (1), Sun 28 adjusted (2), Mon 29 (3), Tue 30 (4);
    # 1-8 Oct off; Thu 9 (5), Fri 10 (6), Sat 11 adjusted (7); 13-17 Oct (8-12);
    # 20-24 Oct (13-17); Mon 27 (18), Tue 28 (19), Wed 29 Oct (20).
    start = at(2025, 9, 25, 10)
    assert cal.add(start, wd(20)) == at(2025, 10, 29, 17, 30)
    # Independent count straight from the library.
    d, n = start.date(), 0
    while n < 20:
        d += timedelta(days=1)
        n += chinese_calendar.is_workday(d)
    assert d == date(2025, 10, 29)


def test_zero_working_days_is_end_of_today_or_next_working_day(cal):
    assert cal.add(at(2026, 3, 10, 8), wd(0)) == at(2026, 3, 10, 17, 30)
    assert cal.add(at(2026, 10, 3, 8), wd(0)) == at(2026, 10, 8, 17, 30)


def test_start_day_uses_the_shanghai_date_not_utc(cal):
    # 30 Sep 20:00 UTC is already 1 Oct 04:00 in Shanghai, a holiday; the first
    # working day after 1 Oct is 8 Oct.
    due = cal.add(datetime(2026, 9, 30, 20, tzinfo=timezone.utc), wd(1))
    assert due == at(2026, 10, 8, 17, 30)


def test_naive_datetimes_are_refused(cal):
    with pytest.raises(Invalid):
        cal.add(datetime(2026, 3, 10, 9), wd(1))
    with pytest.raises(Invalid):
        cal.working_time_between(datetime(2026, 3, 10, 9), at(2026, 3, 11), WH)


# --------------------------------------------------------------------------- working hours


@pytest.mark.parametrize("start, hours, due, why", [
    (at(2026, 3, 10, 11), 2, at(2026, 3, 10, 14, 30), "11-12 then 13:30-14:30 across lunch"),
    (at(2026, 3, 10, 12, 30), 1, at(2026, 3, 10, 14, 30), "started at lunch: clock begins 13:30"),
    (at(2026, 3, 10, 7), 1, at(2026, 3, 10, 10), "before office: clock begins 09:00"),
    (at(2026, 3, 10, 17), 2, at(2026, 3, 11, 10, 30), "overnight: 30 min Tue, 90 min Wed"),
    (at(2026, 3, 10, 9), 7, at(2026, 3, 10, 17, 30), "a full day ends at 17:30, not next morning"),
    (at(2026, 3, 13, 17), 8, at(2026, 3, 17, 9, 30), "Fri 0.5h, weekend skipped, Mon 7h, Tue 0.5h"),
    (at(2026, 3, 10, 20), 0, at(2026, 3, 11, 9), "zero hours: next office instant"),
    (at(2026, 9, 30, 17), 1, at(2026, 10, 8, 9, 30), "National Day week skipped"),
    (at(2026, 10, 9, 17), 1, at(2026, 10, 10, 9, 30), "adjusted working Saturday counts"),
])
def test_working_hours(cal, start, hours, due, why):
    assert cal.add(start, wh(hours)) == due, why
    assert cal.working_time_between(start, due, WH) == hours, why


def test_24_working_hours_answer_rule(cal):
    # 7 office hours a day. Tue 10-12 (2) + 13:30-17:30 (4) = 6; Wed 7 → 13; Thu 7 → 20;
    # Fri 09:00-12:00 → 23; 13:30-14:30 → 24.
    assert cal.add(at(2026, 3, 10, 10), wh(24)) == at(2026, 3, 13, 14, 30)


def test_24_natural_hours_ignore_holidays(cal):
    assert cal.add(at(2026, 9, 30, 17), Duration(24, "natural_hours")) == at(2026, 10, 1, 17)
    assert cal.add(at(2026, 9, 30, 17), Duration(7, "natural_days")) == at(2026, 10, 7, 17)
    utc = cal.add(datetime(2026, 9, 30, 9, tzinfo=timezone.utc), Duration.parse("PT24H"))
    assert utc == at(2026, 10, 1, 17) and utc.tzinfo == CST


# --------------------------------------------------------------------------- between / remaining


def test_working_time_between(cal):
    a, b = at(2026, 9, 30, 17), at(2026, 10, 13, 17, 30)
    assert cal.working_time_between(a, b, WD) == 5
    assert cal.working_time_between(b, a, WD) == -5
    assert cal.working_time_between(a, b, WH) == pytest.approx(0.5 + 4 * 7 + 7)
    assert cal.working_time_between(a, at(2026, 10, 1, 17), "natural_hours") == 24.0
    assert cal.working_time_between(a, at(2026, 10, 1, 5), "natural_days") == 0.5
    assert cal.working_time_between(a, a, WD) == 0
    with pytest.raises(Invalid):
        cal.working_time_between(a, b, "fortnights")


def test_remaining_goes_negative_once_overdue(cal):
    due = at(2026, 3, 11, 10)
    assert cal.remaining(at(2026, 3, 10, 17), due) == 1.5
    assert cal.remaining(at(2026, 3, 11, 11), due) == -1.0
    assert cal.remaining(at(2026, 3, 10, 17), due, WD) == 1


# --------------------------------------------------------------------------- office hours


def test_office_hours_default_and_parse():
    assert str(DEFAULT_OFFICE_HOURS) == "09:00-12:00,13:30-17:30"
    assert DEFAULT_OFFICE_HOURS.zone == "Asia/Shanghai"
    assert DEFAULT_OFFICE_HOURS.hours_per_day == 7
    oh = OfficeHours.parse("08:30-12:00, 14:00-18:00")
    assert oh.periods == ((time(8, 30), time(12)), (time(14), time(18)))
    assert oh == OfficeHours.parse(str(oh))
    assert oh.day_end == time(18)


def test_custom_office_hours_move_the_deadline_time():
    cal = WorkCalendar.from_library([2026], OfficeHours.parse("08:30-12:00,14:00-18:00"))
    assert cal.add(at(2026, 3, 10, 10), wd(1)) == at(2026, 3, 11, 18)
    assert cal.add(at(2026, 3, 10, 11), wh(2)) == at(2026, 3, 10, 15)


@pytest.mark.parametrize("text", ["", "9-12", "09:00-12:00;13:30-17:30", "12:00-09:00",
                                  "09:00-12:00,11:00-17:30", "25:00-26:00", "09:00-12:00-13:00"])
def test_bad_office_hours(text):
    with pytest.raises(Invalid):
        OfficeHours.parse(text)


def test_unknown_zone():
    with pytest.raises(Invalid):
        OfficeHours.parse("09:00-17:00", zone="Mars/Olympus")


# --------------------------------------------------------------------------- Duration.parse


@pytest.mark.parametrize("text, amount, unit", [
    ("5 working days", 5, WD),
    ("1 working day", 1, WD),
    ("0 working days", 0, WD),
    ("5wd", 5, WD),
    ("5 WD", 5, WD),
    ("24 hours", 24, "natural_hours"),
    ("24 natural hours", 24, "natural_hours"),
    ("1 hour", 1, "natural_hours"),
    ("3 days", 3, "natural_days"),
    ("7 natural days", 7, "natural_days"),
    ("8 working hours", 8, WH),
    ("8wh", 8, WH),
    ("PT24H", 24, "natural_hours"),
    ("P7D", 7, "natural_days"),
    ("P1W", 7, "natural_days"),
    ("P1DT12H", 36, "natural_hours"),
    ("5个工作日", 5, WD),
    ("20 个工作日", 20, WD),
    ("二十个工作日", 20, WD),
    ("七个工作日", 7, WD),
    ("24小时", 24, "natural_hours"),
    ("7日", 7, "natural_days"),
    ("7天", 7, "natural_days"),
    ("十五日", 15, "natural_days"),
    ("  5 Working Days  ", 5, WD),
])
def test_duration_parse(text, amount, unit):
    assert Duration.parse(text) == Duration(amount, unit)


@pytest.mark.parametrize("text", ["", "five working days", "5", "-3 days", "5 weeks", "1.5 hours",
                                  "P", "PT", "PT30M", "working days", "5 working", "5个月", "P1Y"])
def test_duration_parse_rejects_with_the_text(text):
    with pytest.raises(Invalid) as e:
        Duration.parse(text)
    assert repr(text) in e.value.detail


@pytest.mark.parametrize("duration, text", [
    (Duration(5, WD), "5 working days"),
    (Duration(1, WD), "1 working day"),
    (Duration(24, "natural_hours"), "24 natural hours"),
    (Duration(7, "natural_days"), "7 natural days"),
    (Duration(1, WH), "1 working hour"),
])
def test_duration_str_round_trips(duration, text):
    assert str(duration) == text
    assert Duration.parse(text) == duration


@pytest.mark.parametrize("amount, unit", [(-1, WD), (1.5, WH), (True, WD), (5, "weeks")])
def test_duration_rejects_bad_values(amount, unit):
    with pytest.raises(Invalid):
        Duration(amount, unit)
