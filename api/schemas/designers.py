"""What designers and administrators of their files exchange with the API (issue 12): group
aliases, the difference between two versions, migrations of running cases."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.services.case_migration import MAX_BATCH

_ID = validate.Length(min=1, max=255)


class AliasSchema(Schema):
    name = fields.String(required=True, metadata={"description": "the group as a foreign file names it",
                                                  "example": "accounting"})
    department = fields.String(required=True, metadata={"description": "the department code it stands for",
                                                        "example": "county.sj"})
    name_zh = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)


class AliasListSchema(Schema):
    items = fields.List(fields.Nested(AliasSchema), required=True)
    total = fields.Integer(required=True)


class AliasBodySchema(Schema):
    department = fields.String(required=True, validate=validate.Length(min=1, max=120),
                               metadata={"example": "county.sj"})


class AliasChangedSchema(Schema):
    name = fields.String(required=True)
    department = fields.String(required=True)
    version = fields.Integer(allow_none=True, metadata={"description": "the organisation version now in force"})
    unchanged = fields.Boolean(required=True)


class DiffQuerySchema(Schema):
    from_version = fields.Integer(required=True, data_key="from", validate=validate.Range(min=1, max=2**31 - 1))
    to_version = fields.Integer(required=True, data_key="to", validate=validate.Range(min=1, max=2**31 - 1))


class ChangeSchema(Schema):
    field = fields.String(required=True, metadata={"example": "candidateGroups"})
    old = fields.Raw(allow_none=True, data_key="from", attribute="from")
    new = fields.Raw(allow_none=True, data_key="to", attribute="to")


class ChangedElementSchema(Schema):
    id = fields.String(required=True)
    type = fields.String(required=True)
    name = fields.String(allow_none=True)
    changes = fields.List(fields.Nested(ChangeSchema), required=True)


class DiffSchema(Schema):
    key = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    added = fields.List(fields.Dict(), required=True, metadata={"description": "elements only the new version has "
                                                                               "(id, type, name, properties...)"})
    removed = fields.List(fields.Dict(), required=True)
    changed = fields.List(fields.Nested(ChangedElementSchema), required=True)


class MigrationBodySchema(Schema):
    process_key = fields.String(required=True, validate=_ID)
    from_version = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    to_version = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    mapping = fields.Dict(keys=fields.String(validate=_ID), values=fields.String(validate=_ID), load_default=dict,
                          validate=validate.Length(max=1000),
                          metadata={"description": "explicit pairs {element in from: element in to}; every other "
                                                   "element maps to the one with the same id"})
    dry_run = fields.Boolean(load_default=False)
    case_ids = fields.List(fields.String(validate=validate.Length(min=1, max=36)), load_default=None,
                           validate=validate.Length(max=10000),
                           metadata={"description": "only these cases (default: every open case of the version)"})
    batch_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_BATCH))


class TokenSchema(Schema):
    task_id = fields.String(required=True)
    source = fields.String(required=True, data_key="from", attribute="from")
    target = fields.String(required=True, data_key="to", attribute="to")


class DryRunCaseSchema(Schema):
    case_id = fields.String(required=True)
    business_key = fields.String(required=True)
    status = fields.String(required=True)
    can_migrate = fields.Boolean(required=True)
    reasons = fields.List(fields.String(), required=True, metadata={"description": "why it cannot move"})
    tokens = fields.List(fields.Nested(TokenSchema), required=True, metadata={"description": "where each token goes"})


class DryRunSchema(Schema):
    dry_run = fields.Boolean(required=True)
    process_key = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    mapping = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    total = fields.Integer(required=True)
    can_migrate = fields.Integer(required=True)
    cannot_migrate = fields.Integer(required=True)
    cases = fields.List(fields.Nested(DryRunCaseSchema), required=True,
                        metadata={"description": "each case (the first 1000)"})


class MigrationCaseSchema(Schema):
    case_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["skipped", "failed"]})
    reason = fields.String(allow_none=True)


class MigrationSchema(Schema):
    id = fields.Integer(required=True)
    process_key = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    mapping = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    status = fields.String(required=True, metadata={"enum": ["running", "completed"]})
    batch_size = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pending = fields.Integer(required=True)
    migrated = fields.Integer(required=True)
    skipped = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    progress = fields.Float(required=True, metadata={"description": "share of the cases handled, 0 to 1"})
    created_at = fields.DateTime(required=True)
    created_by = fields.String(required=True)
    finished_at = fields.DateTime(allow_none=True)
    cases = fields.List(fields.Nested(MigrationCaseSchema), required=True,
                        metadata={"description": "the cases that did not move, with why"})

