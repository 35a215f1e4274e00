"""Phased submission (分期报建): auxiliary facilities submitted in batches while the case runs.

The main plant is permitted first; auxiliary facilities (a gatehouse, a canteen, a substation)
come later, in any number of batches. A batch is the BPMN message `auxiliary_batch` with the
`auxiliary_submission` form as payload: the process (`one_window_agency`) waits for it from
window intake until the case is closed, plans the batch's items and runs them in parallel at
their bodies, each at once in its body's inbox. Closing waits for open batches; a case without
any batch, or whose batches are all decided, goes to closure as soon as the main items are done.
A batch sent while closure is waiting takes the closure back until the batch is decided.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.adapters import queries
from engine.adapters.models import Case, Task
from engine.domain import batch_rules
from engine.errors import Conflict
from engine.services import cases, progress
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.domain.access import Actor
    from engine.adapters.uow import UnitOfWork

MESSAGE, FORM = batch_rules.MESSAGE, batch_rules.FORM


@dataclass
class Batch:
    case: Case
    number: int | None
    facility: str
    items: list[dict[str, Any]]
    open_tasks: list[Task] = field(default_factory=list)  # the batch's first tasks, in the bodies' inboxes


def validated(uow: "UnitOfWork", batch: Any) -> dict[str, Any]:
    """A batch as the process may receive it, however it is sent (this endpoint or a plain
    message to the case): the form's rules, known bodies, readable limits; else 422 by field."""
    return batch_rules.validated(uow.runtime.forms, uow.organisation, batch)


@use_case
def submit_batch(uow: "UnitOfWork", actor: "Actor", case_id: str, batch: Any) -> Batch:
    """Add one batch of auxiliary items to a running case (the case's agent or an admin)."""
    data = validated(uow, batch)
    try:
        case, created = cases.deliver(uow, actor, case_id, MESSAGE, data)
    except Conflict as error:
        if "not waiting for message" not in error.detail:
            raise
        raise Conflict(f"case {case_id} takes auxiliary batches from window intake (受理) until it is "
                       f"closed; it does not take one now") from error
    numbers = [t.item.get("batch") for t in created if isinstance(t.item, dict)]
    number = next((n for n in numbers if isinstance(n, int)), None)
    return Batch(case, number, data["facility"], data["items"],
                 sorted(created, key=lambda r: (r.created_at, r.id)))


def list_batches(uow: "UnitOfWork", actor: "Actor", case_id: str) -> list[dict[str, Any]]:
    """A case's batches with each item's state (the same states as the public page)."""
    case = cases.get_case(uow, actor, case_id)
    _, tasks, properties = queries.public_project_rows(uow, case)
    rows = progress.item_rows(uow, uow.organisation, tasks, properties, uow.runtime.clock())
    facilities = {t.item.get("batch"): t.item.get("facility") for t in tasks
                  if isinstance(t.item, dict) and isinstance(t.item.get("batch"), int)}
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        number = row.get("batch")
        if not isinstance(number, int):
            continue
        entry = out.setdefault(number, {"number": number, "facility": facilities.get(number), "items": []})
        entry["items"].append(row)
    for entry in out.values():
        decided = all(i["state"] in ("approved", "refused", "withdrawn") for i in entry["items"])
        entry["status"] = "closed" if decided else "open"
    return [out[n] for n in sorted(out)]
