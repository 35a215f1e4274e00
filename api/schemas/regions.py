"""Regions (the organisation tree) and the organisation's versions."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.departments import DepartmentSchema
from engine.domain.organisation import LEVELS


class RegionSchema(Schema):
    code = fields.String(required=True, metadata={"example": "pidu"})
    name_zh = fields.String(required=True, metadata={"example": "郫都区"})
    name_en = fields.String(required=True)
    full_name = fields.String(required=True, metadata={"example": "四川省成都市郫都区"})
    level = fields.String(required=True, metadata={"enum": list(LEVELS)})
    division = fields.String(allow_none=True, metadata={"description": "administrative division code (the 6 "
                                                                        "digits in a project code)"})
    parent = fields.String(allow_none=True)
    question_hours = fields.Integer(metadata={"description": "natural hours a work-group body has to answer a "
                                                             "question (the 24-hour rule; default 24)"})
    window = fields.Nested(DepartmentSchema, required=True, metadata={"description": "its government service "
                                                                                     "centre: accepts its cases, "
                                                                                     "coordination level 1"})
    government = fields.Nested(DepartmentSchema, required=True, metadata={"description": "coordination level 3"})
    bodies = fields.List(fields.Nested(DepartmentSchema), required=True,
                         metadata={"description": "every body of the region, the window and government included"})
    children = fields.List(fields.Nested(lambda: RegionSchema()), required=True)


class RegionTreeSchema(Schema):
    version = fields.Integer(allow_none=True, metadata={"description": "organisation version in force "
                                                                       "(null: the file, not loaded yet)"})
    default_region = fields.String(required=True)
    items = fields.List(fields.Nested(RegionSchema), required=True)


class RegionQuerySchema(Schema):
    region = fields.String(validate=validate.Length(min=1, max=120),
                           metadata={"description": "only this region's subtree (code, division code or name)"})


class OrganisationVersionSchema(Schema):
    version = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    source = fields.String(allow_none=True)
    loaded_at = fields.DateTime(required=True)
    loaded_by = fields.String(required=True)


class OrganisationSchema(Schema):
    version = fields.Integer(allow_none=True)
    sha256 = fields.String(required=True)
    source = fields.String(allow_none=True)
    loaded_at = fields.DateTime(allow_none=True)
    loaded_by = fields.String(allow_none=True)
    file = fields.String(required=True)
    file_differs = fields.Boolean(required=True, metadata={"description": "the file on disk was edited and not "
                                                                          "loaded"})
    default_region = fields.String(required=True)
    regions = fields.Integer(required=True)
    departments = fields.Integer(required=True)
    functions = fields.Integer(required=True)
    versions = fields.List(fields.Nested(OrganisationVersionSchema), required=True)


class OrganisationLoadedSchema(Schema):
    version = fields.Integer(required=True)
    unchanged = fields.Boolean(required=True, metadata={"description": "identical to the version in force"})
    dry_run = fields.Boolean(required=True)
    sha256 = fields.String(required=True)
    source = fields.String(allow_none=True)
    regions = fields.Integer(required=True)
    departments = fields.Integer(required=True)
    functions = fields.Integer(required=True)
    changes = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)
    loaded_at = fields.DateTime(allow_none=True)
    loaded_by = fields.String(allow_none=True)


class OrganisationLoadQuerySchema(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "check only, store nothing"})
    filename = fields.String(load_default="organisation.json", validate=validate.Length(min=1, max=255),
                             metadata={"description": "the name errors give their lines under"})
