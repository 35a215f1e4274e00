"""Loading a plain state uses its decoded values as they are (engine/adapters/fast_specs.py
`plain_state`): the workflow must be the same as SpiffWorkflow's own restore gives — the same
data, the same sharing of objects between tasks, the same text when saved again — and any state
the rule cannot prove plain is loaded the stock way."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from bench import inproc, items
from engine.adapters import fast_specs, serializer
from engine.adapters.serializer import STATE_SERIALIZER, dump_state, load_state
from engine.services.definitions import find_definition
from engine.services.workflow import CaseWorkflow, ready_manual_tasks, specs_of


@pytest.fixture
def wide(runtime):
    """A 12-item case with 5 items decided and their items changed in place, saved."""
    inproc.deploy(runtime)
    with runtime.unit_of_work(write=False) as uow:
        definition = find_definition(uow, inproc.PROCESS_KEY)
        spec, subs = specs_of(uow, definition)
        flow = CaseWorkflow.new(uow, None, definition)
        wide_items = items(12)
        for item in wide_items:
            item["tags"] = ["新"]
        flow.workflow.get_tasks(end_at_spec="Start")[0].data.update(items=wide_items, project={"名称": "钢管厂"})
        flow.run()
        for task in ready_manual_tasks(flow.workflow)[:5]:
            task.data["item"]["tags"].append("已审")  # in place: shared with the items list
            flow.complete(str(task.id), {"decision": "approve", "意见": "同意"})
        yield dump_state(flow.workflow), spec, subs


def _stock_load(text, spec, subs, monkeypatch):
    monkeypatch.setattr(serializer, "plain_state", lambda *args: False)
    try:
        return load_state(text, spec, subs)
    finally:
        monkeypatch.undo()


def _sharing(workflow):
    """For every task and data key: is the value the parent's very object? (reload semantics)"""
    out = {}
    for task in workflow.tasks.values():
        parent = task.parent
        for key, value in task.data.items():
            out[(str(task.id), key)] = parent is not None and parent.data.get(key) is value
            if isinstance(value, list):
                pvalue = parent.data.get(key) if parent is not None else None
                out[(str(task.id), key, "elements")] = isinstance(pvalue, list) and any(
                    a is b for a, b in zip(value, pvalue))
    return out


def test_a_plain_state_loads_as_the_stock_restore_does(wide, monkeypatch):
    text, spec, subs = wide
    assert fast_specs.plain_state(text, json.loads(text), STATE_SERIALIZER.VERSION)
    fast = load_state(text, spec, subs)
    stock = _stock_load(text, spec, subs, monkeypatch)
    # (not `text` itself: a workflow that ran shares objects differently from one read back)
    assert dump_state(fast) == dump_state(stock)
    assert {str(t.id): t.data for t in fast.tasks.values()} == {str(t.id): t.data for t in stock.tasks.values()}
    assert {str(t.id): t.internal_data for t in fast.tasks.values()} == {
        str(t.id): t.internal_data for t in stock.tasks.values()}
    assert _sharing(fast) == _sharing(stock)
    # and it goes on the same way: complete the rest on both
    for workflow in (fast, stock):
        for task in ready_manual_tasks(workflow):
            task.data.update({"decision": "approve"})
            task.run()
        workflow.do_engine_steps()
    assert fast.is_completed() and stock.is_completed()
    assert _outcome(fast) == _outcome(stock)


def _outcome(workflow):
    """Every task's element, state and whole data (new tasks have new random ids), and the
    workflow's data."""
    return workflow.data, sorted((t.task_spec.name, t.state, json.dumps(t.data, sort_keys=True))
                                 for t in workflow.tasks.values())


def test_what_the_rule_cannot_prove_plain_is_loaded_the_stock_way(wide, monkeypatch):
    text, spec, subs = wide
    version = STATE_SERIALIZER.VERSION
    dct = json.loads(text)
    # a data value spelled "typename": one token more than the structure has
    with_string = text.replace('"approve"', '"typename"', 1)
    assert not fast_specs.plain_state(with_string, json.loads(with_string), version)
    # a key spelled with an escape that decodes to "typename"
    escaped = text.replace('"decision"', '"\\u0074ypename"', 1)
    assert not fast_specs.plain_state(escaped, json.loads(escaped), version)
    # another serializer version (a migration could add typed values)
    assert not fast_specs.plain_state(text, dct, "0.9")
    # a typed value (a datetime) in a task's data
    workflow = load_state(text, spec, subs)
    next(iter(ready_manual_tasks(workflow))).data["when"] = datetime(2026, 3, 2, tzinfo=timezone.utc)
    typed = dump_state(workflow)
    assert not fast_specs.plain_state(typed, json.loads(typed), version)
    loaded = load_state(typed, spec, subs)
    assert next(iter(ready_manual_tasks(loaded))).data["when"] == datetime(2026, 3, 2, tzinfo=timezone.utc)
    assert dump_state(loaded) == dump_state(_stock_load(typed, spec, subs, monkeypatch))
