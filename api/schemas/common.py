"""Schemas shared by every resource: problems, paging."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from marshmallow import Schema, fields, missing, validate

MAX_PER_PAGE = 200


class ProblemSchema(Schema):
    """application/problem+json (RFC 9457); `errors` maps each field (or file line) to its messages."""

    type = fields.String(required=True, metadata={"example": "about:blank"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class PageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000),
                          metadata={"description": "1-based page number"})
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE),
                              metadata={"description": f"items per page, at most {MAX_PER_PAGE}"})


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """`{items, total, page, per_page}` of `item`."""
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item), required=True),
        "total": fields.Integer(required=True),
        "page": fields.Integer(required=True),
        "per_page": fields.Integer(required=True),
    }, name=name)


def dump_page(schema: type[Schema], page, dump: Callable[[Any], dict] | None = None) -> dict:  # type: ignore[no-untyped-def]
    """A page as `{items, total, page, per_page}`; `dump` (a `fast_dumper`) renders each item."""
    items = [dump(item) for item in page.items] if dump is not None else schema(many=True).dump(page.items)
    return {"items": items, "total": page.total, "page": page.page, "per_page": page.per_page}


def key_string(max_length: int, **kwargs) -> fields.String:  # type: ignore[no-untyped-def]
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


def fast_dumper(schema: type[Schema]) -> Callable[[Any], dict]:
    """`schema().dump(obj)` for flat schemas, without marshmallow's per-field machinery.

    Dumping 300 task rows through marshmallow costs ~8 ms (attribute look-ups through its
    accessor chain, per-field calls); this reads each attribute once and converts it the same
    way marshmallow does (str, `datetime.isoformat`, shallow `dict` copy, int, bool), so the output
    is equal to `schema().dump(obj)` (tests/api/test_fast_dump.py checks it). Any other field type
    falls back to the field's own `serialize`. The renderer is one generated function per schema
    (one dict display, no loop over the fields): ~2x cheaper than looping over converters.
    """
    namespace: dict[str, Any] = {"Mapping": Mapping, "schema": schema, "missing": missing, "_text": _text,
                                 "_isoformat": datetime.isoformat, "dict": dict, "int": int, "getattr": getattr}
    reads: list[str] = []
    entries: list[str] = []  # one per field, in the schema's order
    pairs: list[str] | None = []  # the same as one dict display, while every field has a converter
    for index, (name, field) in enumerate(schema().dump_fields.items()):
        attribute = field.attribute or name
        value = f"v{index}"
        kind = type(field)
        if kind is fields.String:
            expr = f"None if {value} is None else ({value} if {value}.__class__ is str else _text({value}))"
        elif kind is fields.DateTime and field.format in (None, "iso", "iso8601"):
            expr = f"None if {value} is None else _isoformat({value})"
        elif kind is fields.Dict and field.key_field is None and field.value_field is None:
            expr = f"None if {value} is None else dict({value})"
        elif kind is fields.Integer and not field.as_string and not field.strict:
            expr = f"None if {value} is None else int({value})"
        elif kind is fields.Boolean:
            namespace[f"f{index}"] = field
            expr = (f"None if {value} is None else ({value} if {value}.__class__ is bool "
                    f"else f{index}._serialize({value}, {attribute!r}, obj))")
        else:
            namespace[f"f{index}"] = field
            entries.append(f"    {value} = f{index}.serialize({attribute!r}, obj)\n"
                           f"    if {value} is not missing:\n        out[{(field.data_key or name)!r}] = {value}")
            pairs = None
            continue
        read = f"obj.{attribute}" if attribute.isidentifier() else f"getattr(obj, {attribute!r})"
        reads.append(f"    {value} = {read}")
        entries.append(f"    out[{(field.data_key or name)!r}] = {expr}")
        if pairs is not None:
            pairs.append(f"        {(field.data_key or name)!r}: {expr},")
    body = ("    return {\n" + "\n".join(pairs) + "\n    }\n" if pairs is not None
            else "    out = {}\n" + "\n".join(entries) + "\n    return out\n")
    source = ("def dump(obj):\n    if isinstance(obj, Mapping):\n        return schema().dump(obj)\n"
              + "\n".join(reads) + "\n" + body)
    exec(compile(source, f"<fast_dumper {schema.__name__}>", "exec"), namespace)  # noqa: S102 - our own text
    return namespace["dump"]


def _text(value: Any) -> str:
    if type(value) is str:
        return value
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
