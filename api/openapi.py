"""The OpenAPI 3 document, generated from the routes' `@operation` records and their marshmallow schemas."""
from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from werkzeug.routing import IntegerConverter

import engine
from api.operation import Operation
from api.schemas.common import ProblemSchema

PROBLEMS = {
    400: ("BadRequest", "the body is not valid JSON"),
    401: ("Unauthorized", "no bearer token, or an unknown or revoked one"),
    403: ("Forbidden", "the token's user may not do this"),
    404: ("NotFound", "no such resource"),
    409: ("Conflict", "the state does not allow it (task already completed, case suspended, ...)"),
    413: ("TooLarge", "the body is too large"),
    415: ("UnsupportedMediaType", "wrong Content-Type"),
    422: ("Invalid", "invalid fields; `errors` maps each field to its messages"),
}
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _problem_ref(status: int) -> dict:
    return {"$ref": f"#/components/responses/{PROBLEMS[status][0]}"}


def _schema_ref(spec: APISpec, schema: Any) -> Any:
    return schema


def _operation(op: Operation, path_params: list[dict]) -> dict:
    responses: dict[Any, Any] = {}
    if op.response is not None:
        responses[str(op.status)] = {"description": op.response_description,
                                     "content": {"application/json": {"schema": op.response}}}
    elif op.response_media is not None:
        responses[str(op.status)] = {"description": op.response_description, "content": op.response_media}
    else:
        responses[str(op.status)] = {"description": op.response_description}
    for status, (description, schema) in op.responses.items():
        responses[str(status)] = {"description": description}
        if schema is not None:
            responses[str(status)]["content"] = {"application/json": {"schema": schema}}
    for status, headers in op.response_headers.items():
        responses[str(status)]["headers"] = headers
    codes = []
    if op.auth:
        codes.append(401)
        if op.forbidden:
            codes.append(403)
    if op.not_found or (op.not_found is None and path_params):
        codes.append(404)
    if op.conflicts:
        codes.append(409)
    codes += list(op.problems)
    if op.body is not None or op.raw_body is not None:
        codes += [400, 413, 415, 422]
    if op.query is not None or path_params:
        codes.append(422)
    for code in sorted(set(codes)):
        responses.setdefault(str(code), _problem_ref(code))
    result: dict[str, Any] = {"summary": op.summary, "tags": op.tags, "responses": responses}
    if op.description:
        result["description"] = op.description
    parameters: list[Any] = list(path_params)
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    if parameters:
        result["parameters"] = parameters
    if op.body is not None:
        result["requestBody"] = {"required": op.body_required,
                                 "content": {"application/json": {"schema": op.body}}}
    elif op.raw_body is not None:
        result["requestBody"] = {"required": True, "content": op.raw_body}
    if not op.auth:
        result["security"] = []
    return result


def build_spec(app: Flask) -> dict:
    spec = APISpec(
        title="onewindow API", version=engine.__version__, openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "One-window parallel approval of investment projects: process definitions, "
                             "cases, department inboxes, messages and public progress. Errors are "
                             "application/problem+json. See docs/api.md."},
        servers=[{"url": "/"}],
        security=[{"bearerAuth": []}],
    )
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                   "description": "a token from `onewindow users create`"})
    spec.components.schema("Problem", schema=ProblemSchema)
    for status, (name, description) in PROBLEMS.items():
        spec.components.response(name, {"description": description, "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        op: Operation | None = getattr(view, "openapi", None)
        if op is None:
            continue
        params = []
        for name in rule.arguments:
            converter = rule._converters.get(name)  # noqa: SLF001 - werkzeug keeps converters here
            schema = ({"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
                      if isinstance(converter, IntegerConverter) else {"type": "string", "minLength": 1})
            params.append({"in": "path", "name": name, "required": True, "schema": schema})
        path = _PARAM.sub(lambda m: "{" + m.group(2) + "}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(op, params)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
