"""Every error becomes application/problem+json, mapped once for all routes."""
from __future__ import annotations

from flask import Flask, Response, json
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from engine.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooLarge


class Unauthorized(DomainError):
    title = "Unauthorized"


class MalformedJSON(DomainError):
    title = "Bad request"


class UnsupportedMediaType(DomainError):
    title = "Unsupported media type"


STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, TooLarge: 413, Invalid: 422, Unauthorized: 401,
          MalformedJSON: 400, UnsupportedMediaType: 415}


def problem(status: int, title: str, detail: str, errors: dict | None = None,
            headers: dict | None = None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def status_of(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> Response:
        status = status_of(error)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return problem(status, error.title, error.detail, error.errors or None, headers)

    @app.errorhandler(ValidationError)
    def _validation(error: ValidationError) -> Response:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        return problem(422, "Invalid input", "the request has invalid fields", _flatten(messages))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        return problem(error.code or 500, error.name, error.description or error.name)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        app.logger.exception("unexpected error")
        return problem(500, "Internal Server Error", "an unexpected error happened; it has been logged")


def _flatten(messages: dict, prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, path))
        else:
            flat[path] = [str(v) for v in (value if isinstance(value, list) else [value])]
    return flat
