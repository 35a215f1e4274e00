"""Camunda 7's typed variables at the `/engine-rest` boundary, to and from plain JSON values.

Camunda's REST API writes each variable as `{"value": 1, "type": "Integer", "valueInfo": {}}`.
onewindow keeps plain JSON in a case, so values are converted here, once, in both directions:
Boolean, Integer/Short/Long, Double, String, Null, Date (kept as its ISO text) and Json /
Object with `serializationDataFormat: application/json` (parsed). A value without `type` (what
`camunda-external-task-client-python3` sends) is taken as it is. Bytes, File and Java objects
cannot live in a case and are refused naming the variable.
"""
from __future__ import annotations

import json
from typing import Any

from engine.errors import Invalid

_INTEGER = ("integer", "short", "long")
_TEXT = ("string", "date")


def _one(name: str, field: str, typed: Any) -> Any:
    where = f"{field}.{name}"
    if not isinstance(typed, dict) or "value" not in typed and (typed.get("type") or "").lower() != "null":
        raise Invalid(f"{where} must be an object with a value, e.g. {{\"value\": 1, \"type\": \"Integer\"}}",
                      errors={where: ["an object with `value` (and `type`)"]})
    value, kind = typed.get("value"), typed.get("type")
    if kind is None or value is None:
        return value
    if not isinstance(kind, str):
        raise Invalid(f"{where}.type must be a string", errors={f"{where}.type": ["a Camunda type name"]})
    lowered = kind.lower()
    ok = True
    if lowered == "boolean":
        ok = isinstance(value, bool)
    elif lowered in _INTEGER:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif lowered == "double":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif lowered in _TEXT:
        ok = isinstance(value, str)
    elif lowered == "null":
        return None
    elif lowered in ("json", "object"):
        info = typed.get("valueInfo") or {}
        data_format = info.get("serializationDataFormat", "application/json") if isinstance(info, dict) else ""
        if lowered == "object" and data_format != "application/json":
            raise Invalid(f"{where}: only JSON objects can be kept in a case, not {data_format}",
                          errors={where: ["serializationDataFormat must be application/json"]})
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise Invalid(f"{where}: the value is not valid JSON", errors={where: ["not valid JSON"]}) from None
        return value
    else:
        raise Invalid(f"{where}: type {kind} cannot be kept in a case (Boolean, Integer, Long, Short, Double, "
                      f"String, Date, Null, Json, Object as JSON)", errors={where: [f"unsupported type {kind}"]})
    if not ok:
        raise Invalid(f"{where}: {value!r} is not a {kind}"[:300], errors={where: [f"not a {kind}"]})
    return value


def from_typed(variables: Any, field: str = "variables") -> dict[str, Any]:
    """Plain values from Camunda's typed variables (None or missing: none)."""
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise Invalid(f"{field} must be an object of variables", errors={field: ["must be an object"]})
    return {name: _one(name, field, typed) for name, typed in variables.items()}


def _type_of(value: Any) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer" if -2**31 <= value < 2**31 else "Long"
    if isinstance(value, float):
        return "Double"
    if isinstance(value, str):
        return "String"
    return "Json"


def to_typed(variables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Camunda's typed variables from plain values; objects and lists as `Json` (their JSON text,
    as Camunda sends it)."""
    typed = {}
    for name, value in variables.items():
        kind = _type_of(value)
        typed[name] = {"value": json.dumps(value, ensure_ascii=False) if kind == "Json" else value,
                       "type": kind, "valueInfo": {}}
    return typed
