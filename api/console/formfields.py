"""A task's JSON Schema form as HTML fields, and a posted HTML form back as the task's data.

Every construct the shipped forms use: text, textarea, number, integer, date, enum (radio
buttons up to four choices, a select above), boolean (a checkbox when required, else 是/否),
a list of enum values (checkboxes), lists of text and lists of objects (rows added and
removed by buttons that post the form, so no script is needed), nested objects (fieldsets),
required marks and descriptions.

Field names are the engine's error paths (`location.county`, `materials[0].name`), so the
server's validation errors land next to their fields. What the person typed is kept as typed
(`raw`) and re-shown with the errors; `to_data` turns it into typed, pruned JSON.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from api.console.i18n import field_message, hint

ROW_MARK = "__row"  # a hidden input per row of a list of objects, so an empty row survives a re-render
TEXTAREA_KEYS = {"opinion", "note", "answer", "preliminary_opinion", "instructions", "reason"}
MAX_ROWS = 200
_INDEX = re.compile(r"^\[(\d+)\]")


@dataclass
class Field:
    path: str
    key: str
    schema: dict[str, Any]
    kind: str
    title: str
    required: bool
    description: str | None = None
    value: Any = None  # raw: str, bool, list[str] (checkboxes), or rows/children below
    errors: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)
    children: list["Field"] = field(default_factory=list)  # object: its fields
    rows: list["Field"] = field(default_factory=list)  # list of objects / texts: one Field per row

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.path)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(c.has_errors for c in self.children + self.rows)

    @property
    def attrs(self) -> dict[str, Any]:
        """HTML constraint attributes (the server checks all of them again)."""
        s, found = self.schema, {}
        if "maxLength" in s:
            found["maxlength"] = s["maxLength"]
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if key in s:
                found[attr] = s[key]
        return found


def _options(schema: dict[str, Any]) -> list[tuple[str, str]]:
    titles = schema.get("x-enum-titles") or {}
    return [(str(v), str(titles.get(v, v))) for v in schema.get("enum", [])]


def _kind(key: str, schema: dict[str, Any], required: bool) -> str:
    kind = schema.get("type")
    if "x-widget" in schema:
        return str(schema["x-widget"])
    if kind == "object":
        return "object"
    if kind == "array":
        items = schema.get("items") or {}
        if items.get("type") == "object":
            return "rows"
        if "enum" in items:
            return "checkboxes"
        return "texts"
    if "enum" in schema:
        return "radio" if len(schema["enum"]) <= 4 else "select"
    if kind == "boolean":
        return "checkbox" if required else "yesno"
    if kind in ("number", "integer"):
        return kind
    if schema.get("format") == "date":
        return "date"
    if key in TEXTAREA_KEYS and "maxLength" not in schema:
        return "textarea"
    return "text"


def build(schema: dict[str, Any], raw: dict[str, Any] | None = None,
          errors: dict[str, list[str]] | None = None) -> list[Field]:
    """The fields of a form with the values to show and the errors to show next to them."""
    return _object_fields(schema, "", raw or {}, errors or {})


def _object_fields(schema: dict[str, Any], prefix: str, raw: dict[str, Any],
                   errors: dict[str, list[str]]) -> list[Field]:
    required = set(schema.get("required", []))
    return [_field(key, sub, f"{prefix}.{key}" if prefix else key, key in required,
                   raw.get(key) if isinstance(raw, dict) else None, errors)
            for key, sub in (schema.get("properties") or {}).items()]


def _field(key: str, schema: dict[str, Any], path: str, required: bool, raw: Any,
           errors: dict[str, list[str]]) -> Field:
    kind = _kind(key, schema, required)
    found = Field(path=path, key=key, schema=schema, kind=kind, title=str(schema.get("title") or key),
                  required=required, description=hint(key, schema),
                  errors=[field_message(m) for m in errors.get(path, [])])
    if kind == "object":
        found.children = _object_fields(schema, path, raw if isinstance(raw, dict) else {}, errors)
    elif kind == "rows":
        rows = raw if isinstance(raw, list) else []
        count = max(len(rows), schema.get("minItems", 0), 1 if required else 0)
        item_schema = schema.get("items") or {}
        for i in range(min(count, MAX_ROWS)):
            row = rows[i] if i < len(rows) else {}
            found.rows.append(Field(path=f"{path}[{i}]", key=str(i), schema=item_schema, kind="object",
                                    title=f"第 {i + 1} 项", required=False,
                                    errors=[field_message(m) for m in errors.get(f"{path}[{i}]", [])],
                                    children=_object_fields(item_schema, f"{path}[{i}]",
                                                            row if isinstance(row, dict) else {}, errors)))
    elif kind == "texts":
        values = raw if isinstance(raw, list) else []
        count = max(len(values), schema.get("minItems", 0), 1)
        item_schema = schema.get("items") or {}
        for i in range(min(count, MAX_ROWS)):
            value = values[i] if i < len(values) else ""
            found.rows.append(Field(path=f"{path}[{i}]", key=str(i), schema=item_schema, kind="text",
                                    title=f"{item_schema.get('title') or found.title} {i + 1}", required=False,
                                    value=value if isinstance(value, str) else "",
                                    errors=[field_message(m) for m in errors.get(f"{path}[{i}]", [])]))
    elif kind == "checkboxes":
        found.options = _options(schema.get("items") or {})
        found.value = [str(v) for v in raw] if isinstance(raw, list) else []
    else:
        found.options = _options(schema)
        if kind in ("checkbox", "yesno"):
            found.value = raw if isinstance(raw, bool) else None
        else:
            found.value = "" if raw is None else str(raw)
    return found


# --------------------------------------------------------------------------- posted form → data


def raw_values(schema: dict[str, Any], form: MultiDict) -> dict[str, Any]:
    """What was typed, nested like the data (strings, booleans, lists), empty rows kept."""
    return _raw_object(schema, "", form)


def _raw_object(schema: dict[str, Any], prefix: str, form: MultiDict) -> dict[str, Any]:
    required = set(schema.get("required", []))
    result: dict[str, Any] = {}
    for key, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{key}" if prefix else key
        kind = _kind(key, sub, key in required)
        if kind == "object":
            result[key] = _raw_object(sub, path, form)
        elif kind == "rows":
            result[key] = [_raw_object(sub.get("items") or {}, f"{path}[{i}]", form)
                           for i in _row_indexes(form, path)]
        elif kind == "texts":
            result[key] = [form.get(f"{path}[{i}]", "") for i in _row_indexes(form, path)]
        elif kind == "checkboxes":
            result[key] = form.getlist(path)
        elif kind == "checkbox":
            result[key] = form.get(path) in ("on", "true", "1")
        elif kind == "yesno":
            value = form.get(path, "")
            result[key] = True if value == "true" else False if value == "false" else None
        else:
            result[key] = form.get(path, "")
    return result


def _row_indexes(form: MultiDict, path: str) -> list[int]:
    """Row numbers posted for a list, in order (a row is known by any field or its row mark)."""
    found = set()
    prefix = path + "["
    for name in form.keys():
        if name.startswith(prefix):
            match = _INDEX.match(name[len(path):])
            if match:
                found.add(int(match.group(1)))
    return sorted(i for i in found if i < MAX_ROWS)


def to_data(schema: dict[str, Any], raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Typed data for the engine (blank fields and empty rows left out) and the errors of
    values that are not even of their type (`abc` for a number), keyed by field path."""
    errors: dict[str, list[str]] = {}
    data = _data_object(schema, "", raw, errors, top=True)
    return data or {}, errors


def _data_object(schema: dict[str, Any], prefix: str, raw: Any, errors: dict[str, list[str]],
                 top: bool = False) -> dict[str, Any] | None:
    raw = raw if isinstance(raw, dict) else {}
    required = set(schema.get("required", []))
    result: dict[str, Any] = {}
    for key, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{key}" if prefix else key
        value = _data_value(key, sub, path, key in required, raw.get(key), errors)
        if value is not None:
            result[key] = value
    return result if (result or top) else None


def _data_value(key: str, schema: dict[str, Any], path: str, required: bool, raw: Any,
                errors: dict[str, list[str]]) -> Any:
    kind = _kind(key, schema, required)
    if kind == "object":
        value = _data_object(schema, path, raw, errors)
        return {} if value is None and required else value
    if kind == "rows":
        rows = [_data_object(schema.get("items") or {}, f"{path}[{i}]", row, errors)
                for i, row in enumerate(raw if isinstance(raw, list) else [])]
        rows = [r for r in rows if r and any(v not in (False, None) for v in r.values())]
        return rows or None
    if kind == "texts":
        values = [v.strip() for v in (raw if isinstance(raw, list) else []) if isinstance(v, str) and v.strip()]
        return values or None
    if kind == "checkboxes":
        values = [v for v in (raw if isinstance(raw, list) else []) if isinstance(v, str) and v]
        return values or None
    if kind in ("checkbox", "yesno"):
        return raw if isinstance(raw, bool) else None
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None
    if kind in ("number", "integer"):
        return _number(text, kind, path, errors)
    return text


def _number(text: str, kind: str, path: str, errors: dict[str, list[str]]) -> Any:
    cleaned = text.replace(",", "").replace("，", "")
    try:
        number = float(cleaned) if kind == "number" else int(cleaned)
    except ValueError:
        errors[path] = ["请填写整数" if kind == "integer" else "请填写数字"]
        return None
    if kind == "number":
        if number != number or number in (float("inf"), float("-inf")):
            errors[path] = ["请填写数字"]
            return None
        if number.is_integer() and abs(number) < 2**53:
            return int(number)
    return number


def to_raw(schema: dict[str, Any], data: dict[str, Any] | None) -> dict[str, Any]:
    """Stored data (or a schema's defaults) as what a form shows."""
    data = data if isinstance(data, dict) else {}
    result: dict[str, Any] = {}
    required = set(schema.get("required", []))
    for key, sub in (schema.get("properties") or {}).items():
        value = data.get(key, sub.get("default"))
        kind = _kind(key, sub, key in required)
        if value is None:
            continue
        if kind == "object":
            result[key] = to_raw(sub, value)
        elif kind == "rows":
            result[key] = [to_raw(sub.get("items") or {}, row) for row in value] if isinstance(value, list) else []
        elif kind in ("texts", "checkboxes"):
            result[key] = [str(v) for v in value] if isinstance(value, list) else []
        elif kind in ("checkbox", "yesno"):
            result[key] = value if isinstance(value, bool) else None
        else:
            result[key] = str(value)
    return result


def change_rows(schema: dict[str, Any], raw: dict[str, Any], action: str) -> bool:
    """Apply an `add:PATH` / `remove:PATH[i]` button to the raw values; False if unknown."""
    verb, _, path = action.partition(":")
    match = re.fullmatch(r"(.+)\[(\d+)\]", path) if verb == "remove" else None
    target_path = match.group(1) if match else path
    if (_schema_at(schema, target_path) or {}).get("type") != "array":
        return False  # only the form's own lists have rows
    container, key = _locate(raw, target_path)
    if container is None or not isinstance(container.get(key, []), list):
        return False
    rows = container.setdefault(key, [])
    if verb == "add" and len(rows) < MAX_ROWS:
        sub = _schema_at(schema, target_path) or {}
        rows_now = max(len(rows), 1 if sub.get("type") == "array" and (sub.get("items") or {}).get("type") != "object" else 0)
        while len(rows) < rows_now:
            rows.append("")
        rows.append({} if (sub.get("items") or {}).get("type") == "object" else "")
        return True
    if verb == "remove" and match and int(match.group(2)) < len(rows):
        del rows[int(match.group(2))]
        return True
    return False


def _locate(raw: dict[str, Any], path: str) -> tuple[dict[str, Any] | None, str]:
    """The dict holding the last key of a dotted/indexed path, and that key."""
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    node: Any = raw
    for part in parts[:-1]:
        if part.startswith("["):
            index = int(part[1:-1])
            node = node[index] if isinstance(node, list) and index < len(node) else None
        else:
            node = node.setdefault(part, {}) if isinstance(node, dict) else None
        if node is None:
            return None, ""
    last = parts[-1] if parts else ""
    return (node, last) if isinstance(node, dict) and not last.startswith("[") else (None, "")


def _schema_at(schema: dict[str, Any], path: str) -> dict[str, Any] | None:
    node: Any = schema
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            node = (node or {}).get("items")
        else:
            node = ((node or {}).get("properties") or {}).get(part)
        if node is None:
            return None
    return node


def unplaced_errors(fields: list[Field], errors: dict[str, list[str]]) -> list[str]:
    """Errors whose path has no field on the page (shown in the summary at the top)."""
    placed: set[str] = set()

    def walk(items: list[Field]) -> None:
        for f in items:
            placed.add(f.path)
            walk(f.children)
            walk(f.rows)
    walk(fields)
    return [f"{path}: {field_message(m)}" if path != "$" else field_message(m)
            for path, messages in errors.items() if path not in placed for m in messages]


def error_summary(fields: list[Field]) -> list[tuple[str, str, str]]:
    """(field id, title, message) of every field with an error, in page order, for the summary."""
    found: list[tuple[str, str, str]] = []

    def walk(items: list[Field], prefix: str) -> None:
        for f in items:
            title = f"{prefix}{f.title}"
            for message in f.errors:
                found.append((f.id, title, message))
            walk(f.children, f"{title} · ")
            walk(f.rows, f"{title} · ")
    walk(fields, "")
    return found
