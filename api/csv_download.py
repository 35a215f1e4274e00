"""Tables as spreadsheet downloads (the statistics, the fee reconciliation): asked for with
`?format=csv` or an `Accept: text/csv` header; UTF-8 with a byte-order mark so that Excel opens
the Chinese headers correctly."""
from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, request


def wants_csv(query: dict[str, Any]) -> bool:
    """`?format=csv`, or an Accept header that prefers text/csv to JSON."""
    if query.get("format"):
        return query["format"] == "csv"
    best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
    return best == "text/csv" and request.accept_mimetypes["text/csv"] > request.accept_mimetypes["application/json"]


def csv_file(data: bytes | str, filename: str) -> Response:
    """Ready CSV text (with its BOM) as a download."""
    response = Response(data, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_table(header: list[str], rows: list[list[Any]], filename: str) -> Response:
    """A table as CSV for spreadsheets: UTF-8 with a BOM, CRLF line ends, `None` as empty."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return csv_file("\ufeff" + out.getvalue(), filename)
