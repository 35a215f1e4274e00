"""The engine's process-wide state: database, spec cache, forms, organisation, clock."""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect

from engine.adapters import sandbox
from engine.adapters.calendar_store import CalendarStore
from engine.adapters.database import Database
from engine.adapters.organisation_versions import OrganisationStore
from engine.adapters.serializer import load_specs
from engine.adapters.token_cache import TokenCache
from engine.adapters.uow import UnitOfWork
from engine.config import Settings
from engine.domain.forms import FormRegistry
from engine.services.deadlines import TimePolicy
from engine.services.handlers import BEFORE_COMMIT, HANDLERS, SESSION_WATCHERS

if TYPE_CHECKING:
    from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

    from engine.adapters.models import Definition
    from engine.domain.organisation import Organisation


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class SpecCache:
    """Parsed specs (and definition rows) per definition id, for the life of the process (a version
    never changes)."""

    def __init__(self) -> None:
        self._specs: dict[int, tuple["BpmnProcessSpec", dict]] = {}
        self._definitions: dict[int, "Definition"] = {}
        self._lock = threading.Lock()

    def get(self, definition_id: int, load: Callable[[], str]) -> tuple["BpmnProcessSpec", dict]:
        found = self._specs.get(definition_id)
        if found is None:
            found = load_specs(load())
            with self._lock:
                self._specs.setdefault(definition_id, found)
        return found

    def definition(self, definition_id: int, load: Callable[[], "Definition | None"]) -> "Definition | None":
        """The definition row, read once per process (a version never changes).

        What is kept is a transient copy that belongs to no session, so no rollback or close
        anywhere can expire it; commands read its columns (`elements`) and never write it.
        """
        found = self._definitions.get(definition_id)
        if found is None:
            row = load()
            if row is None:
                return None
            found = type(row)(**{attr.key: getattr(row, attr.key) for attr in inspect(type(row)).column_attrs})
            with self._lock:
                found = self._definitions.setdefault(definition_id, found)
        return found

    def put(self, definition_id: int, specs: tuple["BpmnProcessSpec", dict]) -> None:
        with self._lock:
            self._specs[definition_id] = specs

    def __len__(self) -> int:
        return len(self._specs)


class Runtime:
    """One per process. Tests build their own with a fixed clock."""

    def __init__(self, settings: Settings | None = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.settings = settings or Settings()
        self.database = Database(self.settings.database_url)
        for watch in SESSION_WATCHERS:  # e.g. the statistics note the task rows a command changes
            watch(self.database.write_sessions)
        self.specs = SpecCache()
        # verified API tokens → actors (`users.actor_of_token`; its invalidation rule is there)
        self.tokens: TokenCache[Any] = TokenCache(self.settings.token_cache_seconds)
        self.clock = clock
        sandbox.configure(sandbox.Limits(self.settings.script_timeout, self.settings.script_memory_mb))

    def unit_of_work(self, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self, write=write)

    @cached_property
    def handlers(self) -> dict[type, list[Callable[[Any, Any], None]]]:
        """Which service answers which domain event (`engine.services.handlers.HANDLERS`)."""
        return HANDLERS

    @cached_property
    def before_commit(self) -> list[Callable[[Any], None]]:
        """What a writing unit of work runs just before it commits (`handlers.BEFORE_COMMIT`)."""
        return BEFORE_COMMIT

    @cached_property
    def forms(self) -> "FormRegistry":
        return FormRegistry.load(self.settings.forms_dir)

    @cached_property
    def organisations(self) -> "OrganisationStore":
        """The versioned organisation (regions and bodies): `uow.organisation` in commands."""
        return OrganisationStore(self)

    @property
    def organisation(self) -> "Organisation":
        """The organisation in force, for callers outside a unit of work (one short read);
        inside one, use `uow.organisation`."""
        with self.unit_of_work(write=False) as uow:
            return uow.organisation

    @cached_property
    def calendars(self) -> "CalendarStore":
        """The working-day calendar (versioned in the database): `calendars.calendar(uow)`."""
        return CalendarStore(self)

    @cached_property
    def time_policy(self) -> "TimePolicy":
        """Warning and escalation thresholds (ONEWINDOW_SLA_* environment variables)."""
        return TimePolicy.from_env()

    def close(self) -> None:
        self.database.dispose()
