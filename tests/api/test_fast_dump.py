"""The fast task renderer (`api.schemas.tasks.dump_task`) gives exactly marshmallow's output."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from api.schemas.tasks import TaskSchema, dump_task, dump_tasks
from engine.adapters.models import Task


def _rows() -> list[Task]:
    now = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
    full = Task(id="t-1", case_id="c-1", element_id="Decide", name="审批", kind="user", lane="Lane",
                department="county.fgj", assignee="bob", state="completed", form_key="approval_decision",
                item={"name": "item 1", "nested": {"a": [1, 2]}}, created_at=now,
                completed_at=now + timedelta(hours=1, microseconds=5), completed_by="bob",
                data={"decision": "approve", "opinion": "同意"}, error=None, time_limit="5 working_days",
                due_at=now + timedelta(days=7), sla="yellow")
    bare = Task(id="t-2", case_id="c-1", element_id="Ask", name=None, kind="user", lane=None,
                department=None, assignee=None, state="ready", form_key=None, item=None,
                created_at=now.astimezone(timezone(timedelta(hours=8))), completed_at=None,
                completed_by=None, data=None, error="boom", time_limit=None, due_at=None, sla=None)
    return [full, bare]


def test_dump_task_equals_marshmallow() -> None:
    rows = _rows()
    for row in rows:
        assert dump_task(row) == TaskSchema().dump(row)
        assert list(dump_task(row)) == list(TaskSchema().dump(row))  # same keys, same order
    assert dump_tasks(rows) == TaskSchema(many=True).dump(rows)


def test_dump_task_copies_json_columns() -> None:
    row = _rows()[0]
    dumped = dump_task(row)
    assert dumped["item"] == row.item and dumped["item"] is not row.item  # a copy, like marshmallow's


def test_dump_task_of_a_mapping_falls_back_to_marshmallow() -> None:
    row = _rows()[0]
    as_dict = {name: getattr(row, name) for name in TaskSchema().dump_fields}
    assert dump_task(as_dict) == TaskSchema().dump(row)
    assert dump_task(as_dict) == TaskSchema().dump(as_dict)
