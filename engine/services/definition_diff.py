"""`onewindow definitions diff KEY V1 V2` and `GET /process-definitions/{key}/diff`: what a new
version changes, before its cases are migrated to it (`engine.domain.definition_diff`)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.services import definitions
from engine.domain.bpmn.validation import parse_xml
from engine.domain.definition_diff import diff, element_table

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork


def _table(uow: "UnitOfWork", key: str, version: int) -> dict[str, dict[str, Any]]:
    definition = definitions.find_definition(uow, key, version)
    deployment = uow.deployments.get(definition.deployment_id)
    return element_table(parse_xml(deployment.bpmn_xml.encode("utf-8"), deployment.file_name), key)


def diff_versions(uow: "UnitOfWork", key: str, from_version: int, to_version: int) -> dict[str, Any]:
    """Elements added, removed and changed from `from_version` to `to_version` (404 if either is
    not deployed)."""
    result = diff(_table(uow, key, from_version), _table(uow, key, to_version))
    return {"key": key, "from_version": from_version, "to_version": to_version, **result}
