"""Process definitions: deployed versions of BPMN processes."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class DefinitionSchema(Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(allow_none=True)
    sha256 = fields.String(required=True)
    deployed_at = fields.DateTime(required=True)
    deployed_by = fields.String(required=True)


class DefinitionVersionSchema(DefinitionSchema):
    file_name = fields.String()
    xml = fields.String(metadata={"description": "the BPMN file as deployed (with ?include=xml)"})


class StartTimerSchema(Schema):
    element_id = fields.String(required=True, metadata={"description": "the timer start event"})
    version = fields.Integer(required=True, metadata={"description": "the version its cases start on"})
    next_due_at = fields.DateTime(required=True, attribute="due_at",
                                  metadata={"description": "when the next case starts"})
    remaining = fields.Integer(allow_none=True, metadata={"description": "firings left (null: unbounded)"})
    started = fields.Integer(required=True, metadata={"description": "cases started so far"})


class DefinitionDetailSchema(DefinitionSchema):
    versions = fields.List(fields.Nested(DefinitionSchema), required=True,
                           metadata={"description": "every version, oldest first"})
    start_timers = fields.List(fields.Nested(StartTimerSchema), required=True,
                               metadata={"description": "timer start events that open cases by themselves"})


class DeployedDefinitionSchema(DefinitionSchema):
    created = fields.Boolean(required=True, metadata={"description": "true: this deployment made this version"})
    file_name = fields.String(allow_none=True, metadata={"description": "the file the process came from"})


class DeployResultSchema(DefinitionSchema):
    """The first process of the deployment at top level; `definitions` has every process in it."""

    created = fields.Boolean(required=True, metadata={"description": "false when identical files were deployed before"})
    dry_run = fields.Boolean(required=True, metadata={"description": "true: checked only, nothing stored"})
    definitions = fields.List(fields.Nested(DeployedDefinitionSchema), required=True)
    warnings = fields.List(fields.String(), required=True,
                           metadata={"description": "`file:line: element: message` of what deploys but deserves "
                                                    "a look, e.g. a formKey that names no deployed form"})


class DefinitionListSchema(Schema):
    items = fields.List(fields.Nested(DefinitionSchema), required=True)
    total = fields.Integer(required=True)


class DeployQuerySchema(Schema):
    filename = fields.String(load_default="upload.bpmn", validate=validate.Length(min=1, max=255),
                             metadata={"description": "the file name for a raw upload (shown in errors)"})
    dry_run = fields.Boolean(load_default=False,
                             metadata={"description": "true: check the file and say what would be deployed, "
                                                      "storing nothing (200)"})


class VersionQuerySchema(Schema):
    include = fields.String(validate=validate.OneOf(["xml"]),
                            metadata={"description": "`xml` adds the deployed BPMN file"})
