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


def test_fields_without_a_fast_conversion_fall_back_to_marshmallow() -> None:
    from types import SimpleNamespace

    from marshmallow import Schema, fields

    from api.schemas.common import fast_dumper

    class Odd(Schema):
        name = fields.String()
        flag = fields.Boolean(allow_none=True)
        tags = fields.List(fields.String())
        renamed = fields.String(data_key="label", attribute="title")
        count = fields.Integer()

    dump = fast_dumper(Odd)
    for row in (SimpleNamespace(name="a", flag=1, tags=["x", 2], title="t", count="3"),
                SimpleNamespace(name=None, flag=None, tags=None, title=None, count=None),
                SimpleNamespace(name=b"\xe5\xae\xa1", flag="yes", tags=[], title=5, count=True)):
        assert dump(row) == Odd().dump(row)
        assert list(dump(row)) == list(Odd().dump(row))


def test_a_case_page_renders_its_task_rows_as_the_entities_would(client, api_users, deploy, start_case, runtime):
    """`GET /cases/{id}` reads its task rows as tuples (`queries.TaskView`), not entities: the
    same JSON, field for field, for every kind of viewer."""
    from sqlalchemy import select

    from engine.adapters import queries
    from engine.domain.access import Actor

    deploy("parallel_approval.bpmn")
    case = start_case()
    with runtime.unit_of_work(write=False) as uow:
        row = uow.cases.get(case["id"])
        entities = list(uow.session.scalars(select(Task).where(Task.case_id == row.id)
                                            .order_by(Task.created_at, Task.id)))
        for viewer in (Actor("alice", "agent"), Actor("root", "admin"), Actor("fgj", "staff", "county.fgj")):
            views = queries.visible_case_tasks(uow, viewer, row)
            expected = [t for t in entities if viewer.role != "staff" or t.department == viewer.department]
            assert views and dump_tasks(views) == dump_tasks(expected) == TaskSchema(many=True).dump(expected)
    body = client.get(f"/api/v1/cases/{case['id']}", headers=api_users.header("alice")).get_json()
    assert body["open_tasks"] == dump_tasks([t for t in entities if t.state == "ready"])
    with runtime.unit_of_work(write=False) as uow:  # an inbox page: the same rows, the same JSON
        inbox = queries.list_tasks(uow, Actor("fgj", "staff", "county.fgj"))
        assert inbox.items and all(isinstance(t, queries.TaskView) for t in inbox.items)
        same = [next(e for e in entities if e.id == t.id) for t in inbox.items]
        assert dump_tasks(inbox.items) == TaskSchema(many=True).dump(same)
