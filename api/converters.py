"""URL converters: path numbers the database can hold, so an id or year beyond 32 bits is a 404
(no such resource), never an `integer out of range` from PostgreSQL (a 500)."""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import IntegerConverter

from api.errors import problem

INT32_MAX = 2**31 - 1


class Int32Converter(IntegerConverter):
    """`<int:...>` limited to 0..2^31-1 unless a route gives its own `min`/`max`."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, 0 if min is None else min, INT32_MAX if max is None else max, signed)


def install(app: Flask) -> None:
    """Replace Flask's unbounded `int` converter; call before the routes are registered."""
    app.url_map.converters["int"] = Int32Converter

    @app.errorhandler(MethodNotAllowed)
    def _method_not_allowed(error: MethodNotAllowed) -> Response:
        """Werkzeug answers 405 when a rule for another method matches the path's shape, even
        if its converter would refuse the value (`PUT /calendar/2147483648`): it is a 404 when
        no allowed method takes the path either."""
        adapter = app.url_map.bind_to_environ(request.environ)
        for method in error.valid_methods or ():
            try:
                adapter.match(method=method)
                break
            except (NotFound, MethodNotAllowed):
                continue
            except Exception:  # noqa: BLE001 - redirects etc.: the path exists
                break
        else:
            return problem(404, "Not Found", "the requested URL was not found on the server")
        return problem(405, error.name, error.description or error.name)
