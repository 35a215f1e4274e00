"""The restricted expression engine: what designers may write, what attackers may not."""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.domain.expressions import (
    ISO_TIMER_LITERAL, ExpressionError, SafeEnvironment, SafeScriptEngine, check, evaluate,
    execute,
)


# ---- allowed expressions -------------------------------------------------------------------
@pytest.mark.parametrize("source, context, expected", [
    ("decision == 'approve'", {"decision": "approve"}, True),
    ("decision == 'approve'", {"decision": "reject"}, False),
    ("amount > 5000 and level in ('city', 'province')", {"amount": 6000, "level": "city"}, True),
    ("amount > 5000 and level in ('city', 'province')", {"amount": 6000, "level": "county"}, False),
    ("[i['n'] * 2 for i in items if i['ok']]",
     {"items": [{"n": 1, "ok": True}, {"n": 2, "ok": False}, {"n": 5, "ok": True}]}, [2, 10]),
    ("{k: v for k, v in d.items() if v}", {"d": {"a": 1, "b": 0}}, {"a": 1}),
    ("sum(i['fee'] for i in items)", {"items": [{"fee": 1}, {"fee": 2}]}, 3),
    ("len(docs) >= 3 or not required", {"docs": [1], "required": False}, True),
    ("'high' if score >= 90 else 'low'", {"score": 95}, "high"),
    ("due - start", {"due": date(2026, 3, 10), "start": date(2026, 3, 1)}, timedelta(days=9)),
    ("submitted + timedelta(days=5) > date(2026, 3, 1)", {"submitted": date(2026, 2, 27)}, True),
    ("datetime.fromisoformat(ts).date().isoformat()", {"ts": "2026-03-01T09:00:00+08:00"},
     "2026-03-01"),
    ("Decimal(price) * qty", {"price": "10.10", "qty": 3}, Decimal("30.30")),
    ("name.strip().upper()", {"name": "  abc "}, "ABC"),
    ("', '.join(sorted(tags))", {"tags": ["b", "a"]}, "a, b"),
    ("f'{name}: {amount:,.2f}'", {"name": "fee", "amount": 1234.5}, "fee: 1,234.50"),
    ("'%s-%03d' % (prefix, n)", {"prefix": "A", "n": 7}, "A-007"),
    ("sorted(items, key=lambda i: i['rank'])[0]['id']",
     {"items": [{"id": "x", "rank": 2}, {"id": "y", "rank": 1}]}, "y"),
    ("max(a, b) ** 2 // 3 % 5", {"a": 4, "b": 7}, 1),
    ("list(zip(range(3), 'abc'))[-1]", {}, (2, "c")),
    ("type == 'permit'", {"type": "permit"}, True),  # data fields may be named like builtins
])
def test_allowed_expressions(source: str, context: dict, expected: object) -> None:
    check(source)
    assert evaluate(source, context) == expected


def test_script_assigns_and_deletes_in_context() -> None:
    data = {"a": 1, "gone": 2, "items": [1, 2, 3]}
    script = (
        "total = 0\n"
        "for i in items:\n"
        "    if i > 1:\n"
        "        total += i\n"
        "a += 10\n"
        "d = {'k': 1}\n"
        "d['k'] += 5\n"
        "items.append(4)\n"
        "f = lambda x: x\n"
        "del gone\n"
        "n = 0\n"
        "while n < 3:\n"
        "    n += 1\n"
    )
    check(script, "exec")
    execute(script, data)
    assert data == {"a": 11, "items": [1, 2, 3, 4], "total": 5, "d": {"k": 6}, "n": 3, "i": 3}


def test_failed_script_leaves_data_untouched() -> None:
    data = {"a": 1}
    with pytest.raises(ExpressionError, match="ZeroDivisionError") as info:
        execute("a = 2\nb = 3\nc = 1 / 0\n", data)
    assert data == {"a": 1}
    assert info.value.lineno == 3


def test_unknown_name_is_a_runtime_error() -> None:
    check("missing > 1")  # task data is unknown at deploy time
    with pytest.raises(ExpressionError, match="NameError"):
        evaluate("missing > 1", {})


def test_underscore_context_keys_are_invisible_and_cannot_replace_guards() -> None:
    ctx = {"_getattr_": lambda obj, name: getattr(obj, "__class__"), "x": "a", "_secret": 1}
    assert evaluate("x.upper()", ctx) == "A"
    data = {"_internal": 5, "v": 1}
    execute("v = 2", data)
    assert data == {"_internal": 5, "v": 2}


# ---- escapes ------------------------------------------------------------------------------------
ESCAPES = [
    ("__import__('os').popen('id').read()", "'__import__'"),
    ("().__class__.__base__.__subclasses__()", "attribute '__"),
    ("getattr(x, '__class__')", "'getattr'"),
    ("type(x)", "'type'"),
    ("type(x).__mro__", "'"),
    ("(lambda: 1).__globals__", "'__globals__'"),
    ("'{0.__class__}'.format(1)", "'format'"),
    ("str.format('{0.__class__}', 1)", "'format'"),
    ("'{x.__class__}'.format_map({'x': 1})", "'format_map'"),
    ("(i for i in [1]).gi_frame.f_globals", "'f_globals'"),
    ("(i for i in [1]).gi_frame", "'gi_frame'"),
    ("__builtins__", "'__builtins__'"),
    ("__builtins__['eval']('1')", "'__builtins__'"),
    ("eval('1')", "'eval'"),
    ("exec('x=1')", "'exec'"),
    ("open('/etc/passwd').read()", "'open'"),
    ("compile('1', 'f', 'eval')", "'compile'"),
    ("globals()", "'globals'"),
    ("locals()", "'locals'"),
    ("vars()", "'vars'"),
    ("object.__subclasses__()", "'"),
    ("x.__class__", "'__class__'"),
    ("x._private", "'_private'"),
    ("[c for c in ().__class__.__bases__]", "'__bases__'"),
    ("str.maketrans('a', 'b')", "'maketrans'"),
    ("(1).to_bytes(10**9, 'big')", "'to_bytes'"),
    ("Decimal('1e999999').as_integer_ratio()", "'as_integer_ratio'"),
    ("breakpoint()", "'breakpoint'"),
]


@pytest.mark.parametrize("source, fragment", ESCAPES)
def test_escape_refused_by_check(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionError, match="not allowed") as info:
        check(source)
    assert fragment in str(info.value)


@pytest.mark.parametrize("source, fragment", ESCAPES)
def test_escape_refused_at_run_time(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionError, match="not allowed"):
        evaluate(source, {"x": 1})
    with pytest.raises(ExpressionError, match="not allowed"):
        execute(f"result = {source}", {"x": 1})


@pytest.mark.parametrize("script, word", [
    ("import os", "import"), ("from os import system", "import"),
    ("def f():\n    pass", "def"), ("class A:\n    pass", "class"),
    ("with open('x') as f:\n    pass", "with"), ("try:\n    x = 1\nexcept Exception:\n    pass", "try"),
    ("global x", "global"), ("raise ValueError()", "raise"), ("x.attr = 1", "assigning"),
    ("del x.attr", "deleting"), ("_hidden = 1", "'_hidden'"),
    ("f = lambda __x: __x", "'__x'"), ("x = f'{y:{w}}'", "format spec"),
])
def test_statements_refused(script: str, word: str) -> None:
    with pytest.raises(ExpressionError, match="not allowed") as info:
        check(script, "exec")
    assert word in str(info.value)
    with pytest.raises(ExpressionError):
        execute(script, {"x": 1, "y": 1, "w": 5})


@pytest.mark.parametrize("value", [
    lambda: 1, (i for i in [1]), object(), ValueError("x"), type, print, datetime.now,
])
def test_runtime_attribute_guard_on_unlisted_types(value: object) -> None:
    # `real`/`copy`/`items` pass the static check; the runtime guard knows the value's type.
    for attr in ("real", "copy", "items", "send"):
        with pytest.raises(ExpressionError, match=f"attribute '{attr}' is not allowed on"):
            evaluate(f"v.{attr}", {"v": value})


def test_format_spec_attribute_trick_in_fstrings_is_harmless() -> None:
    # f-string fields are expressions, so `{x.__class__}` is checked like any attribute.
    with pytest.raises(ExpressionError, match="'__class__'"):
        check("f'{x.__class__}'")
    assert evaluate("f'{x!r}'", {"x": "a"}) == "'a'"


# ---- resource bombs ----------------------------------------------------------------------------
@pytest.mark.parametrize("source", [
    "10**10**10", "2**10**8", "'a'*10**10", "[0]*10**9", "[[0]*100000]*100000",
    "list(range(10**12))", "sum(range(10**12))", "1 << 10**9", "(10**4000) * (10**4000)",
    "'x'.ljust(10**10)", "'x'.center(10**9)", "'ab'.zfill(10**10)", "'\\t'.expandtabs(10**9)",
    "('a'*1000).replace('a', 'a'*10000)", "'%10000000000s' % 'a'", "'%*d' % (10**9, 1)",
    "f'{1:>100000000}'", "int(Decimal('1e999999'))", "round(Decimal('1e999999'))",
    "'%d' % Decimal('1e99999')", "date(2026,1,1).strftime('%1000000000Y')",
    "sum([[1]] * 1000, [])", "[x for x in range(100000) for y in range(100000)]",
    "(lambda f: f(f))(lambda f: f(f))", "''.join(['a'*100000]*100)",
])
def test_bombs_stop_quickly(source: str) -> None:
    start = time.monotonic()
    with pytest.raises(ExpressionError):
        evaluate(source, {})
    assert time.monotonic() - start < 3


@pytest.mark.parametrize("script", [
    "while True:\n    pass",
    "n = 0\nwhile True:\n    n += 1",
    "l = []\nwhile True:\n    l.append([0] * 100000)",
    "s = 'a'\nwhile True:\n    s = s + s",
    "l = [1]\nwhile True:\n    l.extend(l)",
    "a = [0] * 100000\nb = [a for _ in range(100000)]\ns = str(b)",
    "a = [0] * 100000\nb = [a for _ in range(50000)]\nc = [list(a) for _ in range(50000)]\nr = b == c",
    "x = [1]\nfor i in range(60):\n    x = [x, x]",  # result would serialise to 2**60 items
])
def test_script_bombs_stop_quickly(script: str) -> None:
    start = time.monotonic()
    data: dict = {}
    with pytest.raises(ExpressionError):
        execute(script, data)
    assert time.monotonic() - start < 5
    assert data == {}


def test_source_size_limit() -> None:
    with pytest.raises(ExpressionError, match="longer than"):
        check("1+" * 20_000 + "1")


# ---- ISO timer literals ----------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "PT24H", "P5D", "P1DT2H", "PT10M", "PT0S", "P1Y2M", "P2W", "PT1.5H",
    "R3/PT1H", "R/PT10M", "R3/2026-03-01T09:00:00+08:00/PT1H", "R/PT1H/2026-03-01T09:00:00Z",
    "2026-03-01T09:00:00+08:00", "2026-03-01T09:00:00Z", "2026-03-01T09:00:00", "2026-03-01",
])
def test_iso_timer_literals(text: str) -> None:
    assert ISO_TIMER_LITERAL.fullmatch(text)
    check(text)
    assert evaluate(f"\n   {text}  \n", {}) == text
    assert evaluate(repr(text), {}) == text


@pytest.mark.parametrize("text", ["P", "PT", "P1H", "R3", "PTH", "amount", "P5D or 1", "2026-3-1"])
def test_not_iso_timer_literals(text: str) -> None:
    assert not ISO_TIMER_LITERAL.fullmatch(text)


def test_timer_expression_from_data() -> None:
    assert evaluate("'PT%dH' % hours", {"hours": 48}) == "PT48H"


# ---- SpiffWorkflow end to end ---------------------------------------------------------------
BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{pid}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script" />
    <bpmn:scriptTask id="script" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="{after_script}" />
    {middle}
    <bpmn:exclusiveGateway id="gw"><bpmn:incoming>{gw_in}</bpmn:incoming>
      <bpmn:outgoing>big</bpmn:outgoing><bpmn:outgoing>small</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="big" sourceRef="gw" targetRef="end_big">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{cond}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="small" sourceRef="gw" targetRef="end_small">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">x &lt;= 1</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="end_big"><bpmn:incoming>big</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_small"><bpmn:incoming>small</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
TIMER = """<bpmn:intermediateCatchEvent id="timer"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition id="td"><bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="timer" targetRef="gw" />"""


def _workflow(script: str, timer: tuple[str, str] | None = None, cond: str = "x &gt; 1") -> BpmnWorkflow:
    if timer:
        middle, after, gw_in = TIMER.format(kind=timer[0], value=timer[1]), "timer", "f3"
    else:
        middle, after, gw_in = "", "gw", "f2"
    xml = BPMN.format(pid="proc", script=script, middle=middle, after_script=after, gw_in=gw_in, cond=cond)
    parser = BpmnParser()
    parser.add_bpmn_str(xml.encode("utf-8"), "test.bpmn")
    spec = parser.get_spec("proc")
    subprocess_specs = parser.get_subprocess_specs("proc")
    return BpmnWorkflow(spec, subprocess_specs, script_engine=SafeScriptEngine())


def _finished_ends(wf: BpmnWorkflow) -> set[str]:
    return {t.task_spec.name for t in wf.get_tasks(state=TaskState.COMPLETED)
            if t.task_spec.name.startswith("end_")}


@pytest.mark.parametrize("script, end", [("x = 2", "end_big"), ("x = 1", "end_small"),
                                         ("x = sum([1, 1, 1])\ny = f'{x}'", "end_big")])
def test_bpmn_script_and_gateway(script: str, end: str) -> None:
    wf = _workflow(script)
    wf.do_engine_steps()
    assert wf.is_completed()
    assert _finished_ends(wf) == {end}
    assert wf.last_task.data["x"] >= 1


@pytest.mark.parametrize("kind, value", [
    ("timeDuration", "PT0S"), ("timeDuration", "'PT0S'"), ("timeDate", "2020-01-01T00:00:00Z"),
    ("timeDate", "2020-01-01T08:00:00+08:00"),
])
def test_bpmn_unquoted_timer(kind: str, value: str) -> None:
    wf = _workflow("x = 2", timer=(kind, value))
    wf.do_engine_steps()
    deadline = time.monotonic() + 3
    while not wf.is_completed() and time.monotonic() < deadline:
        wf.refresh_waiting_tasks()
        wf.do_engine_steps()
    assert wf.is_completed()
    assert _finished_ends(wf) == {"end_big"}


def test_bpmn_hostile_script_errors_the_task_and_runs_nothing(tmp_path) -> None:
    marker = tmp_path / "pwned"
    wf = _workflow(f"__import__('os').system('touch {marker}')")
    with pytest.raises(WorkflowTaskException) as info:
        wf.do_engine_steps()
    assert info.value.task.task_spec.name == "script"
    assert info.value.task.state == TaskState.ERROR
    assert "not allowed" in str(info.value)
    assert not marker.exists()
    assert not wf.is_completed()


def test_bpmn_runtime_error_reports_line() -> None:
    wf = _workflow("x = 2\ny = missing + 1")
    with pytest.raises(WorkflowTaskException) as info:
        wf.do_engine_steps()
    assert info.value.line_number == 2
    assert info.value.error_line == "y = missing + 1"
    assert info.value.task.state == TaskState.ERROR
    assert "x" not in info.value.task.data


def test_bpmn_hostile_condition_errors() -> None:
    wf = _workflow("x = 2", cond="().__class__.__base__.__subclasses__()")
    with pytest.raises(WorkflowTaskException, match="Error evaluating expression") as info:
        wf.do_engine_steps()
    assert info.value.error_type == "ExpressionError"
    assert info.value.task.state == TaskState.ERROR
    assert not wf.is_completed()


def test_environment_external_context_and_globals() -> None:
    env = SafeEnvironment({"rate": 3})
    assert env.evaluate("amount * rate + extra", {"amount": 2}, {"extra": 1}) == 7
    data = {"amount": 2}
    env.execute("total = amount * rate", data, {"obj": 5})
    assert data == {"amount": 2, "total": 6}
    with pytest.raises(ValueError, match="overwrites a predefined"):
        env.execute("x = 1", {"rate": 1})


def test_engine_validate() -> None:
    engine = SafeScriptEngine()
    engine.validate("x > 1")
    engine.validate("x = 1\ny = 2")
    engine.validate("PT24H")
    with pytest.raises(SyntaxError):
        engine.validate("x >")
    with pytest.raises(ExpressionError):
        engine.validate("__import__('os')")


def test_engine_survives_serialization_when_reattached() -> None:
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

    wf = _workflow("x = 2", timer=("timeDuration", "PT1H"))
    wf.do_engine_steps()
    serializer = BpmnWorkflowSerializer()
    restored = serializer.deserialize_json(serializer.serialize_json(wf))
    # The serializer does not store the engine: restored workflows get the unsafe default.
    assert type(restored.script_engine) is not SafeScriptEngine
    restored.script_engine = SafeScriptEngine()
    assert isinstance(restored.script_engine, SafeScriptEngine)
