"""The one decorator every API view uses: authentication, parsing, and its OpenAPI description.

    @blueprint.post("/cases")
    @operation("Start a case", tags=["cases"], body=CaseStartSchema, response=CaseSchema, status=201,
               responses={200: ("The open case that already exists", CaseSchema)}, conflicts=True)
    def start_case(actor, body): ...

The wrapper authenticates first (401 before anything else), then parses the query string with
`query` (422 on bad values) and the JSON body with `body` (415 wrong media type, 400 malformed,
422 invalid fields), and passes `actor`, `query`, `body` to the view as keyword arguments.
`api/openapi.py` builds the OpenAPI document from what the decorator records, so a documented
route cannot drift from what it parses.
"""
from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import request
from marshmallow import EXCLUDE, Schema

from api.auth import current_actor
from api.errors import MalformedJSON, UnsupportedMediaType
from engine.errors import Invalid, NotFound

JSON_TYPES = ("application/json", "application/merge-patch+json")  # the latter: PATCH variables


@dataclass
class Operation:
    summary: str
    tags: list[str]
    description: str | None = None
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    body_required: bool = True
    raw_body: dict[str, Any] | None = None  # OpenAPI requestBody content for non-JSON uploads
    response: type[Schema] | Schema | None = None
    response_description: str = "OK"
    status: int = 200
    responses: dict[int, tuple[str, Any]] = field(default_factory=dict)
    auth: bool = True
    forbidden: bool = True
    conflicts: bool = False
    not_found: bool | None = None  # default: when the path has parameters
    response_headers: dict[str, dict] = field(default_factory=dict)
    response_media: dict[str, Any] | None = None  # non-JSON success content, e.g. {"image/svg+xml": {...}}
    problems: tuple[int, ...] = ()  # further problem statuses, e.g. 403 of a signed route without a token


def operation(summary: str, *, tags: list[str], **options: Any) -> Callable:
    spec = Operation(summary, tags, **options)
    # One schema instance per operation, built once: marshmallow keeps no per-call state in a
    # schema (errors are collected per load), and building one copies every declared field.
    query_schema = spec.query(unknown=EXCLUDE) if spec.query is not None else None
    body_schema = spec.body() if spec.body is not None else None

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Any:
            for name, value in kwargs.items():
                if isinstance(value, str) and "\x00" in value:
                    raise NotFound(f"{name} contains a NUL character")
                if isinstance(value, str) and _has_surrogate(value):
                    raise NotFound(f"{name} is not valid Unicode")
            if spec.auth:
                kwargs["actor"] = current_actor()
            if query_schema is not None:
                args = {k: request.args.getlist(k) if len(request.args.getlist(k)) > 1 else v
                        for k, v in request.args.items()}
                _check_strings(args)
                kwargs["query"] = query_schema.load(args)
                _check_strings(kwargs["query"])
            if body_schema is not None:
                kwargs["body"] = body_schema.load(json_body(required=spec.body_required))
            return view(**kwargs)

        wrapper.openapi = spec  # type: ignore[attr-defined]
        return wrapper
    return decorate


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_body(required: bool = True) -> Any:
    """The request's JSON body: 415 unless application/json, 400 if malformed, 422 if not an object.

    An empty body counts as `{}` when the body is optional.
    """
    raw = request.get_data(cache=True)
    if not raw and not required:
        return {}
    if request.mimetype not in JSON_TYPES:
        raise UnsupportedMediaType(f"the body must be application/json, not {request.mimetype or 'none'}")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise MalformedJSON(f"the body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object", errors={"_schema": ["must be a JSON object"]})
    _check_strings(data)
    return data


def _check_strings(value: Any, depth: int = 0) -> None:
    """Refuse what no database column can take: NUL characters (PostgreSQL cannot store them),
    integers beyond 64 bits, non-finite numbers, absurd nesting."""
    if depth > 64:
        raise Invalid("the body is nested too deeply", errors={"_schema": ["nested more than 64 levels"]})
    if isinstance(value, str):
        if "\x00" in value:
            raise Invalid("strings must not contain NUL characters", errors={"_schema": ["NUL character in a string"]})
        if _has_surrogate(value):
            raise Invalid("strings must be valid Unicode: a lone surrogate (e.g. \\ud800) cannot be stored",
                          errors={"_schema": ["lone surrogate in a string"]})
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, depth + 1)
            _check_strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise Invalid("numbers must be finite", errors={"_schema": ["non-finite number"]})
    elif isinstance(value, int) and not isinstance(value, bool) and not -2**63 <= value < 2**63:
        raise Invalid("integers must fit in 64 bits", errors={"_schema": ["integer out of range"]})


def _has_surrogate(text: str) -> bool:
    """A lone UTF-16 surrogate (JSON `"\\ud800"`): valid in a Python str, but no UTF-8 database
    column, JSON encoder or log can take it."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
