"""A case's definition row and its parsed specs, read once per process (`Runtime.specs`).

Both never change once deployed (a new deployment is a new definition), so a process keeps
them; a command reads neither from the database twice.
"""
from __future__ import annotations

from typing import Any

from engine.adapters.models import Definition
from engine.adapters.uow import UnitOfWork
from engine.errors import NotFound


def load_definition(uow: UnitOfWork, definition_id: int) -> Definition:
    """The definition of a case; read once per process (`SpecCache.definition`), not per command."""
    definition = uow.runtime.specs.definition(definition_id,
                                              lambda: uow.session.get(Definition, definition_id))
    if definition is None:
        raise NotFound(f"definition {definition_id} does not exist")
    return definition


def specs_of(uow: UnitOfWork, definition: Definition) -> tuple[Any, dict]:
    return uow.runtime.specs.get(definition.id, lambda: definition.spec_json)
