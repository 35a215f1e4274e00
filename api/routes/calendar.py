"""The working-day calendar: GET/PUT /calendar/{year}, GET /calendar, GET /calendar/due."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.calendar import (DueQuerySchema, DueSchema, YearCalendarBodySchema, YearCalendarSchema,
                                  YearListSchema, YearQuerySchema)
from engine.domain import access
from engine.services import calendar_years

blueprint = Blueprint("calendar", __name__)


@blueprint.get("/calendar")
@operation("List the years: official, provisional (counted on statutory holidays until loaded) or missing",
           tags=["calendar"], response=YearListSchema,
           forbidden=False)
def list_years(actor):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        return YearListSchema().dump({"items": calendar_years.list_years(uow)})


@blueprint.get("/calendar/due")
@operation("Due instant of a duration from an instant (working days/hours on the official calendar)",
           tags=["calendar"], query=DueQuerySchema, response=DueSchema, forbidden=False)
def due(actor, query):  # type: ignore[no-untyped-def]
    start = calendar_years.parse_instant(query["from_"])
    with runtime().unit_of_work(write=False) as uow:
        return DueSchema().dump(calendar_years.due(uow, start, query["duration"]))


@blueprint.get("/calendar/<int:year>")
@operation("One year's holidays and adjusted working days (a provisional year's statutory days; "
           "422 outside the provisional window when the year has no data)",
           tags=["calendar"], query=YearQuerySchema, response=YearCalendarSchema, forbidden=False)
def get_year(actor, query, year):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        return YearCalendarSchema().dump(calendar_years.get_year(uow, year, query.get("version")))


@blueprint.put("/calendar/<int:year>")
@operation("Load a new version of a year's calendar (admin); due dates counted on it provisionally "
           "are recomputed in the same transaction (`recomputed`)", tags=["calendar"],
           body=YearCalendarBodySchema, response=YearCalendarSchema)
def put_year(actor, body, year):  # type: ignore[no-untyped-def]
    access.require_role(actor, "admin")
    row = calendar_years.load_year(runtime().unit_of_work(), body, actor.name, year=year)
    return YearCalendarSchema().dump(row)
