"""Schemas shared by every resource: problems, paging."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

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


def dump_page(schema: type[Schema], page) -> dict:  # type: ignore[no-untyped-def]
    return {"items": schema(many=True).dump(page.items), "total": page.total,
            "page": page.page, "per_page": page.per_page}


def key_string(max_length: int, **kwargs) -> fields.String:  # type: ignore[no-untyped-def]
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)
