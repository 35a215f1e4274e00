"""Moving running cases to another version of their process (issue 12), as Camunda's process
instance migration does: a plan, a dry run, then the move in batches.

- The plan: process key, from version, to version, and the element mapping — every element
  maps to the element of the same id in the target, and explicit pairs (`--map a=b`) say where
  the tokens of a renamed or replaced element go.
- The dry run says for each open case of the from version whether it can move and why not
  (`engine.adapters.spiff_migration`: a token at an element the target lacks and no pair maps,
  an element of another kind, a multi-instance or sub-process in progress). Nothing changes.
- The move (`start` then `run_batch`, by `onewindow migrate` or the worker) takes each case in
  its own transaction under the case lock, checks it again, rebuilds its state, keeps its open
  tasks (ids, assignees, due dates, clocks, SLA and escalations live on the task rows, which
  stay), records `migrated` in its history, and saves like every verb (timer jobs follow). A
  case that cannot move is `skipped` with the reason; one whose move raised is `failed` and
  left exactly as it was.

Other per-case tables that name elements or versions (e.g. external tasks) follow with a hook:
`register_hook(fn)`, `fn(uow, case, from_definition, to_definition, tokens)` where `tokens` maps
each moved task id to its (element before, element after); it runs inside the case's
transaction, before the case is saved.
"""
from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID
from typing import TYPE_CHECKING, Any, Callable, Iterable

from engine.adapters import history
from engine.domain.access import Actor, require_role
from engine.adapters import spiff_migration
from engine.adapters.serializer import load_state
from engine.services import external_task_rows
from engine.services.definitions import find_definition
from engine.errors import Invalid, NotFound
from engine.adapters.models import Case, CaseMigration, CaseMigrationCase, Definition
from engine.services.workflow import CaseWorkflow, _task_name, load_definition, specs_of
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.runtime import Runtime
    from engine.adapters.uow import UnitOfWork

OPEN = ("running", "suspended")
MAX_BATCH = 500
MAX_LISTED = 1000  # cases a dry run or a progress report lists one by one
CaseHook = Callable[["UnitOfWork", Case, Definition, Definition, dict[str, tuple[str, str]]], None]
HOOKS: list[CaseHook] = [external_task_rows.follow_migration]


def register_hook(hook: CaseHook) -> CaseHook:
    """Run `hook` for every migrated case (see the module's docstring)."""
    if hook not in HOOKS:
        HOOKS.append(hook)
    return hook


@dataclass(frozen=True)
class Plan:
    key: str
    from_version: int
    to_version: int
    mapping: dict[str, str]  # explicit pairs only; other elements map by id


def _element_ids(uow: "UnitOfWork", definition: Definition) -> set[str]:
    spec, subprocess_specs = specs_of(uow, definition)
    return {s.bpmn_id for p in (spec, *subprocess_specs.values()) for s in p.task_specs.values() if s.bpmn_id}


def resolve_plan(uow: "UnitOfWork", plan: Plan) -> tuple[Definition, Definition]:
    """The two versions, with the plan checked: 404 for a version not deployed, 422 for a
    mapping naming elements the versions do not have."""
    if plan.from_version == plan.to_version:
        raise Invalid("from and to are the same version", errors={"to_version": ["must differ from from_version"]})
    source = find_definition(uow, plan.key, plan.from_version)
    target = find_definition(uow, plan.key, plan.to_version)
    errors: dict[str, list[str]] = {}
    old_ids, new_ids = _element_ids(uow, source), _element_ids(uow, target)
    for a, b in plan.mapping.items():
        if a not in old_ids:
            errors.setdefault("mapping", []).append(f"{a}={b}: version {plan.from_version} has no element {a!r}")
        if b not in new_ids:
            errors.setdefault("mapping", []).append(f"{a}={b}: version {plan.to_version} has no element {b!r}")
    if errors:
        raise Invalid("; ".join(errors["mapping"]), errors=errors)
    return source, target


def _check(uow: "UnitOfWork", case: Case, source: Definition, target: Definition,
           mapping: dict[str, str]) -> spiff_migration.Rebuilt:
    if case.status not in OPEN:
        return spiff_migration.Rebuilt(reasons=[f"the case is {case.status}"])
    if case.definition_id != source.id:
        return spiff_migration.Rebuilt(reasons=[f"the case runs version {case.process_version}, not "
                                                f"{source.version}"])
    return spiff_migration.rebuild(case.state, specs_of(uow, source), specs_of(uow, target), mapping,
                                   uow.runtime.clock)


def _open_cases(uow: "UnitOfWork", source: Definition, case_ids: Iterable[str] | None = None) -> list[Case]:
    """The open cases of the from version (of `case_ids`: each must be one, else 422 naming it)."""
    wanted = None if case_ids is None else list(dict.fromkeys(case_ids))
    found = uow.cases.open_of_definition(source.id, OPEN, wanted)
    if wanted is not None:
        missing = [c for c in wanted if c not in {f.id for f in found}]
        if missing:
            raise Invalid(f"not open cases of {source.key} v{source.version}: {', '.join(missing[:10])}"
                          + (f" and {len(missing) - 10} more" if len(missing) > 10 else ""),
                          errors={"case_ids": [f"{c}: not an open case of version {source.version}"
                                               for c in missing[:100]]})
    return found


def dry_run(uow: "UnitOfWork", actor: Actor, plan: Plan, case_ids: list[str] | None = None) -> dict[str, Any]:
    """Each open case of the from version: whether it can move, why not, where its tokens go."""
    require_role(actor, "admin")
    source, target = resolve_plan(uow, plan)
    cases = _open_cases(uow, source, case_ids)
    listed = []
    movable = 0
    for case in cases:
        rebuilt = _check(uow, case, source, target, plan.mapping)
        movable += rebuilt.movable
        if len(listed) < MAX_LISTED:
            listed.append({"case_id": case.id, "business_key": case.business_key, "status": case.status,
                           "can_migrate": rebuilt.movable, "reasons": rebuilt.reasons,
                           "tokens": [{"task_id": t, "from": a, "to": b} for t, (a, b) in rebuilt.tokens.items()]})
    return {"process_key": plan.key, "from_version": plan.from_version, "to_version": plan.to_version,
            "mapping": plan.mapping, "total": len(cases), "can_migrate": movable,
            "cannot_migrate": len(cases) - movable, "cases": listed}


@use_case
def start(uow: "UnitOfWork", actor: Actor, plan: Plan, batch_size: int = 50,
          case_ids: list[str] | None = None) -> CaseMigration:
    """Record a migration of every open case of the from version (or of `case_ids`), to be
    moved in batches (`run_batch`); nothing moves yet. The caller commits."""
    require_role(actor, "admin")
    if not 1 <= batch_size <= MAX_BATCH:
        raise Invalid(f"batch_size must be 1 to {MAX_BATCH}", errors={"batch_size": [f"1 to {MAX_BATCH}"]})
    source, target = resolve_plan(uow, plan)
    cases = _open_cases(uow, source, case_ids)
    now = uow.runtime.clock()
    migration = CaseMigration(process_key=plan.key, from_version=plan.from_version, to_version=plan.to_version,
                              from_definition_id=source.id, to_definition_id=target.id, mapping=plan.mapping,
                              status="running" if cases else "completed", batch_size=batch_size,
                              total=len(cases), created_at=now, created_by=actor.name,
                              finished_at=None if cases else now)
    uow.migrations.add_now(migration)
    for c in cases:
        uow.migrations.add(CaseMigrationCase(migration_id=migration.id, case_id=c.id, status="pending"))
    uow.migrations.flush()
    return migration


def _move(uow: "UnitOfWork", migration: CaseMigration, item_id: int) -> None:
    """Move one case (under its lock); the item says what happened."""
    item = uow.migrations.item(item_id)
    case = uow.lock_case(item.case_id)
    uow.migrations.reload(item)  # another mover may have done it while this one waited for the lock
    if item.status != "pending":
        return
    source = load_definition(uow, migration.from_definition_id)
    target = load_definition(uow, migration.to_definition_id)
    rebuilt = _check(uow, case, source, target, migration.mapping or {})
    now = uow.runtime.clock()
    item.done_at = now
    if not rebuilt.movable:
        item.status, item.reason = "skipped", "; ".join(rebuilt.reasons)[:4000]
        return
    spec, subprocess_specs = specs_of(uow, target)
    flow = CaseWorkflow(uow, case, target, load_state(rebuilt.state, spec, subprocess_specs))
    flow.actor = migration.created_by
    case.definition_id, case.process_version = target.id, target.version
    moved = _retarget_rows(uow, flow, rebuilt.tokens)
    for hook in HOOKS:
        hook(uow, case, source, target, rebuilt.tokens)
    history.record(uow, case.id, "migrated", migration.created_by,
                   data={"migration": migration.id, "from_version": source.version, "to_version": target.version,
                         "tokens": [{"task_id": t, "from": a, "to": b} for t, (a, b) in rebuilt.tokens.items()],
                         "tasks_moved": moved, "events_dropped": rebuilt.dropped})
    flow.sync()
    flow.save()
    item.status = "migrated"


def _retarget_rows(uow: "UnitOfWork", flow: CaseWorkflow, tokens: dict[str, tuple[str, str]]) -> list[str]:
    """Open task rows follow their element: the new version's name (a renamed step reads as the
    new version calls it) and, for an element mapped to another id, that id and its form. Their
    id, department, assignee, due date and clock stay. Returns the ids of rows that changed."""
    moved = []
    for task_id, (before, after) in tokens.items():
        row = uow.tasks.get(task_id)
        if row is None or row.state not in ("ready", "error"):
            continue
        spiff = flow.workflow.get_task_from_id(UUID(task_id))
        name = _task_name(spiff.task_spec.bpmn_name or after, row.item)
        if before == after and name == row.name:
            continue
        if before != after:
            row.element_id = after
            row.form_key = flow.definition.elements.get(after, {}).get("formKey", row.form_key)
            for incident in uow.incidents.open_of_task(task_id):
                incident.element_id, incident.element_name = after, spiff.task_spec.bpmn_name
        row.name = name
        moved.append(task_id)
    return moved


def run_batch(runtime: "Runtime", migration_id: int, size: int | None = None) -> int:
    """Move up to `size` (default: the migration's batch size) pending cases, each in its own
    transaction; returns how many were handled. The migration completes with its last case."""
    with runtime.unit_of_work(write=False) as uow:
        migration = uow.migrations.get(migration_id)
        if migration is None:
            raise NotFound(f"migration {migration_id} does not exist")
        size = size or migration.batch_size
        item_ids = uow.migrations.pending_item_ids(migration_id, size)
    for item_id in item_ids:
        try:
            with runtime.unit_of_work() as uow:
                _move(uow, uow.migrations.get(migration_id), item_id)
                uow.commit()
        except Exception as error:  # noqa: BLE001 - the case stays as it was; the rest goes on
            with runtime.unit_of_work() as uow:
                item = uow.migrations.item(item_id)
                if item.status == "pending":
                    item.status, item.done_at = "failed", uow.runtime.clock()
                    item.reason = f"{type(error).__name__}: {error}"[:4000]
                uow.commit()
    _finish_if_done(runtime, migration_id)
    return len(item_ids)


def _finish_if_done(runtime: "Runtime", migration_id: int) -> None:
    with runtime.unit_of_work() as uow:
        migration = uow.migrations.get(migration_id)
        pending = uow.migrations.pending_count(migration_id)
        if migration.status == "running" and not pending:
            migration.status, migration.finished_at = "completed", uow.runtime.clock()
            uow.commit()


def work(runtime: "Runtime", limit: int = 50) -> int:
    """The worker's share: one batch of the oldest running migration (0 when none runs)."""
    with runtime.unit_of_work(write=False) as uow:
        migration_id = uow.migrations.oldest_running()
    if migration_id is None:
        return 0
    return run_batch(runtime, migration_id, limit)


def progress(uow: "UnitOfWork", actor: Actor, migration_id: int) -> dict[str, Any]:
    """A migration with its counts by state and the cases that did not move, with why."""
    require_role(actor, "admin")
    migration = uow.migrations.get(migration_id)
    if migration is None:
        raise NotFound(f"migration {migration_id} does not exist")
    counts = uow.migrations.counts(migration_id)
    problems = uow.migrations.items_in(migration_id, ("skipped", "failed"), MAX_LISTED)
    done = migration.total - counts.get("pending", 0)
    return {**{c: getattr(migration, c) for c in ("id", "process_key", "from_version", "to_version", "mapping",
                                                  "status", "batch_size", "total", "created_at", "created_by",
                                                  "finished_at")},
            "pending": counts.get("pending", 0), "migrated": counts.get("migrated", 0),
            "skipped": counts.get("skipped", 0), "failed": counts.get("failed", 0),
            "progress": round(done / migration.total, 4) if migration.total else 1.0,
            "cases": [{"case_id": p.case_id, "status": p.status, "reason": p.reason} for p in problems]}


def parse_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """`a=b` pairs (the CLI's --map) as a mapping; 422 naming a malformed one."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        a, sep, b = pair.partition("=")
        if not sep or not a.strip() or not b.strip():
            raise Invalid(f"--map {pair!r}: write FROM_ELEMENT=TO_ELEMENT", errors={"mapping": [pair]})
        mapping[a.strip()] = b.strip()
    return mapping


@use_case
def start_reported(uow: "UnitOfWork", actor: Actor, plan: Plan, batch_size: int = 50,
                   case_ids: list[str] | None = None) -> dict[str, Any]:
    """`start`, answered with the migration's `progress` (the API's 202 body)."""
    migration = start(uow, actor, plan, batch_size, case_ids)
    return progress(uow, actor, migration.id)
