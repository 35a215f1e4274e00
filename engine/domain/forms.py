"""Form definitions: JSON Schema (draft 2020-12) files in `forms/`, one per `camunda:formKey`.

Process designers edit forms as data, so every file is checked against the 2020-12 metaschema
when loaded and a bad one is refused by name before any task can use it. Submitted data is
validated with ALL errors returned at once, keyed by field path (`location.county`,
`missing_materials[0].name`), so a UI can mark every wrong field in one round trip — the same
"tell them everything at once" rule the law imposes on missing materials.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.exceptions import SchemaError

from engine.errors import Invalid, NotFound

DEFAULT_DIR: Path = Path(__file__).resolve().parents[2] / "forms"
ROOT_KEY = "$"  # error key for problems with the whole submission (e.g. not an object)

# --- unified social credit code (统一社会信用代码), GB 32100-2015 ---------------------------
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(rf"^[{USCC_CHARSET}]{{2}}[0-9]{{6}}[{USCC_CHARSET}]{{10}}$")


def uscc_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a USCC."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_problem(code: Any) -> str | None:
    """Why `code` is not a valid USCC, or None; shared by the validator and its message."""
    if not isinstance(code, str) or len(code) != 18:
        return "must be 18 characters"
    if not _USCC_SHAPE.match(code):
        return "has characters outside the GB 32100-2015 set (upper case, no I O S V Z; digits 3-8)"
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return f"check character is wrong (expected {expected})"
    return None


def is_valid_uscc(code: Any) -> bool:
    return uscc_problem(code) is None


# --- national investment project code (项目代码) -----------------------------------------
_PROJECT_CODE = re.compile(r"^(\d{4})-(\d{6})-(\d{2})-(\d{2})-(\d{6})$")
# First two digits of a GB/T 2260 division code: the 34 provincial-level divisions.
_PROVINCES = frozenset({11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43,
                        44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82})


def project_code_problem(code: Any) -> str | None:
    """Why `code` is not a plausible project code YYYY-DDDDDD-II-TT-NNNNNN, or None."""
    if not isinstance(code, str):
        return "must be a string"
    m = _PROJECT_CODE.match(code)
    if not m:
        return "must look like YYYY-DDDDDD-II-TT-NNNNNN"
    year, division, _industry, _type, serial = m.groups()
    if not 2000 <= int(year) <= 2099:
        return "year must be between 2000 and 2099"
    if int(division[:2]) not in _PROVINCES:
        return "administrative division code is not a Chinese province-level code"
    if serial == "000000":
        return "serial number must not be 000000"
    return None


def is_valid_project_code(code: Any) -> bool:
    return project_code_problem(code) is None


# --- other formats -----------------------------------------------------------------------
_PHONE = re.compile(r"^(?:\+?86[- ]?)?(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_valid_phone(value: Any) -> bool:
    return isinstance(value, str) and bool(_PHONE.match(value))


def is_valid_date(value: Any) -> bool:
    """Strict ISO date YYYY-MM-DD (`fromisoformat` alone also takes 20260101)."""
    if not isinstance(value, str) or not _DATE.match(value):
        return False
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


_FORMATS = {"project-code": is_valid_project_code, "uscc": is_valid_uscc,
            "date": is_valid_date, "phone": is_valid_phone}
_FORMAT_MESSAGES = {
    "project-code": project_code_problem,
    "uscc": uscc_problem,
    "date": lambda v: "must be a date YYYY-MM-DD",
    "phone": lambda v: "must be a mainland mobile (13800138000) or landline (028-12345678) number",
}


def format_names() -> list[str]:
    """The value formats a process or form may name (`project-code`, `uscc`, `date`, `phone`)."""
    return sorted(_FORMATS)


def format_problem(name: str, value: Any) -> str | None:
    """Why `value` is not a valid `name` (one of `format_names()`), or None when it is."""
    if name not in _FORMATS:
        raise ValueError(f"unknown format {name!r}")
    if _FORMATS[name](value):
        return None
    return _FORMAT_MESSAGES[name](value) or f"not a valid {name}"


def format_checker() -> FormatChecker:
    """jsonschema's checker plus the formats the forms use; non-strings pass (as `type` reports them)."""
    checker = FormatChecker()
    for name, fn in _FORMATS.items():
        checker.checks(name)(lambda v, fn=fn: not isinstance(v, str) or fn(v))
    return checker


class FormRegistry:
    """All forms of one directory, validated at load, keyed by file stem (= formKey)."""

    def __init__(self, schemas: dict[str, dict[str, Any]]) -> None:
        self._schemas = dict(schemas)
        checker = format_checker()
        self._validators = {k: Draft202012Validator(s, format_checker=checker) for k, s in schemas.items()}

    @classmethod
    def load(cls, directory: str | Path = DEFAULT_DIR) -> FormRegistry:
        """Load every `*.json` form; raise `Invalid` naming each bad file and why."""
        directory = Path(directory)
        if not directory.is_dir():
            raise NotFound(f"form directory {directory} not found")
        schemas: dict[str, dict[str, Any]] = {}
        problems: dict[str, list[str]] = {}
        for path in sorted(directory.glob("*.json")):
            try:
                schemas[path.stem] = load_form_file(path)
            except Invalid as exc:
                problems[path.name] = [exc.detail]
        if problems:
            raise Invalid("; ".join(f"{name}: {msgs[0]}" for name, msgs in problems.items()),
                          errors=problems)
        return cls(schemas)

    def keys(self) -> list[str]:
        return sorted(self._schemas)

    def __contains__(self, key: object) -> bool:
        return key in self._schemas

    def get(self, key: str) -> dict[str, Any]:
        try:
            return self._schemas[key]
        except KeyError:
            raise NotFound(f"form {key!r} not found") from None

    def validate(self, key: str, data: Any) -> dict[str, Any]:
        """Return `data` if it satisfies form `key`; else raise `Invalid` with every error by field path."""
        self.get(key)
        errors = collect_errors(self._validators[key].iter_errors(data))
        if errors:
            raise Invalid(f"form {key} is invalid", errors=errors)
        return data


def load_form_file(path: Path) -> dict[str, Any]:
    """Parse one form file and check it against the 2020-12 metaschema; raise `Invalid`."""
    name = path.name
    if not re.fullmatch(r"[a-z][a-z0-9_]*", path.stem):
        raise Invalid(f"{name}: form key must be lowercase letters, digits and _")
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Invalid(f"{name}: not valid JSON: {exc}") from None
    if not isinstance(schema, dict):
        raise Invalid(f"{name}: a form must be a JSON object")
    declared = schema.get("$schema")
    if declared is not None and declared != Draft202012Validator.META_SCHEMA["$id"]:
        raise Invalid(f"{name}: $schema must be {Draft202012Validator.META_SCHEMA['$id']}")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise Invalid(f"{name}: not a valid JSON Schema 2020-12 at {where}: {exc.message}") from None
    if schema.get("type") != "object":
        raise Invalid(f'{name}: a form must have "type": "object" at the top level')
    return schema


def field_path(parts: Iterable[Any]) -> str:
    """`['location', 'county']` → `location.county`; `['m', 0, 'name']` → `m[0].name`."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def collect_errors(errors: Iterable[ValidationError]) -> dict[str, list[str]]:
    """Map jsonschema errors to {field path: [short messages]}, deduplicated, in order."""
    out: dict[str, list[str]] = {}
    for e in errors:
        for key, msg in _explain(e):
            msgs = out.setdefault(key or ROOT_KEY, [])
            if msg not in msgs:
                msgs.append(msg)
    return out


def _child(e: ValidationError, name: str) -> str:
    return field_path([*e.absolute_path, name])


def _explain(e: ValidationError) -> list[tuple[str, str]]:
    path = field_path(e.absolute_path)
    v, value, inst = e.validator, e.validator_value, e.instance
    if v == "required":
        return [(_child(e, r), "required") for r in value if isinstance(inst, dict) and r not in inst]
    if v in ("additionalProperties", "unevaluatedProperties") and isinstance(inst, dict):
        known = set(e.schema.get("properties", {}))
        patterns = [re.compile(p) for p in e.schema.get("patternProperties", {})]
        extra = [k for k in inst if k not in known and not any(p.search(k) for p in patterns)]
        return [(_child(e, k), "unknown field") for k in extra] or [(path, e.message)]
    if v == "format":
        explain = _FORMAT_MESSAGES.get(value)
        return [(path, (explain(inst) if explain else None) or f"not a valid {value}")]
    if v == "type":
        types = value if isinstance(value, list) else [value]
        return [(path, f"must be {' or '.join(_TYPE_WORDS.get(t, t) for t in types)}")]
    if v == "enum":
        return [(path, "must be one of: " + ", ".join(map(str, value)))]
    if v == "const":
        return [(path, f"must be {value!r}")]
    if v == "pattern":
        return [(path, "must not be blank" if value == r"\S" else "has the wrong format")]
    if v in ("minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum",
             "exclusiveMinimum", "exclusiveMaximum", "uniqueItems", "multipleOf"):
        if v == "minLength" and value == 1:
            return [(path, "must not be empty")]
        return [(path, _BOUNDS[v].format(value))]
    if v in ("anyOf", "oneOf") and e.context:
        return [(path, "does not match any allowed shape")]
    return [(path, e.message)]


_TYPE_WORDS = {"string": "text", "number": "a number", "integer": "a whole number",
               "boolean": "true or false", "array": "a list", "object": "an object", "null": "null"}
_BOUNDS = {
    "minLength": "must have at least {} character(s)",
    "maxLength": "must have at most {} characters",
    "minItems": "must have at least {} item(s)",
    "maxItems": "must have at most {} items",
    "minimum": "must be >= {}",
    "maximum": "must be <= {}",
    "exclusiveMinimum": "must be > {}",
    "exclusiveMaximum": "must be < {}",
    "uniqueItems": "items must not repeat",
    "multipleOf": "must be a multiple of {}",
}
