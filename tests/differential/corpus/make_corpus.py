"""Writes the differential corpus: one `NAME.bpmn` per construct, and `NAME.json` beside it when
the scenario needs more than the default (start variables, data per element, steps, xfail).

Run `python -m tests.differential.corpus.make_corpus` after changing a definition below; the
files are committed so they can be opened in a modeler. A new hand-written file needs no entry
here: drop `NAME.bpmn` (and optionally `NAME.json`) into this directory.

Sidecar keys: `process` (default: the file's first process), `variables`, `data` (per element: a
dict, or a list used for the 1st, 2nd... completion), `steps` (default `[{"auto": 400}]`:
complete the first ready task in sorted order until none is left; also `{"complete": ELEMENT,
"data": {...}}`, `{"message": NAME, "payload": ...}`, `{"advance": {"hours": 2}}`), `files`
(other corpus files deployed first, e.g. a called process), `raw_parser` ("bpmn": standard
BPMN without Camunda extensions), `xfail` (why it cannot run yet; strict).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from tests.differential.bpmn_builder import (MI, Container, Definitions, Error, Escalation, Loop,
                                             Message, Terminate, Timer)

HERE = Path(__file__).resolve().parent
CORPUS: dict[str, tuple[Callable[[], Definitions], dict[str, Any]]] = {}


def corpus(name: str, **sidecar: Any) -> Callable[[Callable[[Definitions, Container], None]], None]:
    def register(build: Callable[[Definitions, Container], None]) -> None:
        def make() -> Definitions:
            d = Definitions(name)
            build(d, d.process(name))
            return d
        CORPUS[name] = (make, sidecar)
    return register


def straight(p: Container, *middle: str) -> None:
    p.start("StartEvent")
    p.end("EndEvent")
    p.chain("StartEvent", *middle, "EndEvent")


# --------------------------------------------------------------------------- gateways
@corpus("xor_basic", data={"Review": {"approved": True, "note": "同意"}})
def _(d, p):
    p.start("StartEvent"); p.user("Review", "审查"); p.gateway("exclusive", "Decide", default="F_no")
    p.script("Yes", "result = 'approved: ' + note"); p.script("No", "result = 'refused'")
    p.gateway("exclusive", "Merge"); p.end("EndEvent")
    p.chain("StartEvent", "Review", "Decide"); p.flow("Decide", "Yes", "approved"); p.flow("Decide", "No", id="F_no")
    p.chain("Yes", "Merge"); p.chain("No", "Merge"); p.chain("Merge", "EndEvent")


@corpus("xor_default", variables={"score": 3})
def _(d, p):
    p.start("StartEvent"); p.gateway("exclusive", "G", default="F_default")
    p.user("High"); p.user("Low"); p.user("Default"); p.gateway("exclusive", "M"); p.end("EndEvent")
    p.chain("StartEvent", "G"); p.flow("G", "High", "score > 10"); p.flow("G", "Low", "score < 0")
    p.flow("G", "Default", id="F_default")
    for t in ("High", "Low", "Default"):
        p.chain(t, "M")
    p.chain("M", "EndEvent")


@corpus("xor_loop", data={"Check": [{"ok": False, "round": 1}, {"ok": False, "round": 2}, {"ok": True, "round": 3}]})
def _(d, p):
    p.start("StartEvent"); p.script("Init", "attempts = []"); p.user("Check", "核验")
    p.script("Log", "attempts = attempts + [round]"); p.gateway("exclusive", "Again", default="F_back")
    p.script("Done", "summary = {'attempts': attempts, 'count': len(attempts)}"); p.end("EndEvent")
    p.chain("StartEvent", "Init", "Check", "Log", "Again"); p.flow("Again", "Done", "ok")
    p.flow("Again", "Check", id="F_back"); p.chain("Done", "EndEvent")


@corpus("parallel_basic")
def _(d, p):
    p.start("StartEvent"); p.gateway("parallel", "Fork"); p.gateway("parallel", "Join")
    p.script("Sum", "total = seen_A + seen_B + seen_C")
    p.end("EndEvent"); p.chain("StartEvent", "Fork")
    for t in ("A", "B", "C"):
        p.user(t); p.chain("Fork", t, "Join")
    p.chain("Join", "Sum", "EndEvent")


@corpus("parallel_nested")
def _(d, p):
    p.start("StartEvent"); p.gateway("parallel", "Outer"); p.gateway("parallel", "OuterJoin")
    p.gateway("parallel", "Inner"); p.gateway("parallel", "InnerJoin"); p.end("EndEvent")
    p.user("Left"); p.user("InnerA"); p.user("InnerB"); p.script("After", "after = seen_Left + seen_InnerA + seen_InnerB")
    p.chain("StartEvent", "Outer", "Left", "OuterJoin"); p.chain("Outer", "Inner", "InnerA", "InnerJoin")
    p.chain("Inner", "InnerB", "InnerJoin"); p.chain("InnerJoin", "OuterJoin", "After", "EndEvent")


@corpus("parallel_data_merge")
def _(d, p):
    p.start("StartEvent"); p.script("Init", "shared = {'a': 0, 'b': 0}\nlog = []")
    p.gateway("parallel", "Fork"); p.gateway("parallel", "Join"); p.end("EndEvent")
    p.user("UA"); p.script("SA", "a_value = 10\nlog = log + ['a']")
    p.user("UB"); p.script("SB", "b_value = 20\nlog = log + ['b']")
    p.script("Check", "total = a_value + b_value")
    p.chain("StartEvent", "Init", "Fork", "UA", "SA", "Join"); p.chain("Fork", "UB", "SB", "Join")
    p.chain("Join", "Check", "EndEvent")


@corpus("inclusive_two_of_three", variables={"needs": ["fire", "land"]})
def _(d, p):
    p.start("StartEvent"); p.gateway("inclusive", "Split", default="F_none"); p.gateway("inclusive", "Join")
    p.user("Fire"); p.user("Land"); p.user("Water"); p.user("Nothing"); p.script("Report", "done = True"); p.end("EndEvent")
    p.chain("StartEvent", "Split"); p.flow("Split", "Fire", "'fire' in needs"); p.flow("Split", "Land", "'land' in needs")
    p.flow("Split", "Water", "'water' in needs"); p.flow("Split", "Nothing", id="F_none")
    for t in ("Fire", "Land", "Water", "Nothing"):
        p.chain(t, "Join")
    p.chain("Join", "Report", "EndEvent")


@corpus("inclusive_default", variables={"needs": []})
def _(d, p):
    p.start("StartEvent"); p.gateway("inclusive", "Split", default="F_none"); p.gateway("inclusive", "Join")
    p.user("Fire"); p.user("Nothing"); p.end("EndEvent")
    p.chain("StartEvent", "Split"); p.flow("Split", "Fire", "'fire' in needs"); p.flow("Split", "Nothing", id="F_none")
    p.chain("Fire", "Join"); p.chain("Nothing", "Join"); p.chain("Join", "EndEvent")


def _event_based(p: Container) -> None:
    p.start("StartEvent"); p.user("Submit"); p.gateway("eventBased", "Wait")
    p.catch("Reply", Message("reply")); p.catch("Timeout", Timer(duration="'PT24H'"))
    p.script("Answered", "outcome = 'answered'"); p.script("Late", "outcome = 'timeout'")
    p.gateway("exclusive", "Merge"); p.user("Close"); p.end("EndEvent")
    p.chain("StartEvent", "Submit", "Wait"); p.chain("Wait", "Reply", "Answered", "Merge")
    p.chain("Wait", "Timeout", "Late", "Merge"); p.chain("Merge", "Close", "EndEvent")


@corpus("event_based_message", steps=[{"complete": "Submit"}, {"advance": {"hours": 2}},
                                      {"message": "reply", "payload": {"answer": "可以"}}, {"auto": 5}])
def _(d, p):
    _event_based(p)


@corpus("event_based_timer", steps=[{"complete": "Submit"}, {"advance": {"hours": 25}}, {"auto": 5}])
def _(d, p):
    _event_based(p)


# --------------------------------------------------------------------------- multi-instance
ITEMS = [{"code": "a", "n": 1}, {"code": "b", "n": 2}, {"code": "c", "n": 3}]


@corpus("mi_parallel_collection", variables={"items": ITEMS})
def _(d, p):
    p.user("Review", loop=MI(collection="items", element="item"))
    p.script("Sum", "codes = [i['code'] for i in items]\nanswers = [i.get('answer') for i in items]")
    straight(p, "Review", "Sum")


@corpus("mi_sequential_collection", variables={"items": ITEMS})
def _(d, p):
    p.user("Review", loop=MI(sequential=True, collection="items", element="item"))
    p.script("Sum", "n = len(items)")
    straight(p, "Review", "Sum")


@corpus("mi_script_in_place", variables={"items": ITEMS})
def _(d, p):
    sub = p.subprocess("Double", loop=MI(collection="items", element="item"))
    sub.start("SStart"); sub.script("Compute", "item['double'] = item['n'] * 2"); sub.end("SEnd")
    sub.chain("SStart", "Compute", "SEnd")
    p.user("Look")
    p.script("Sum", "total = sum([i['double'] for i in items])")
    straight(p, "Double", "Look", "Sum")


@corpus("mi_cardinality_parallel")
def _(d, p):
    p.user("Vote", loop=MI(cardinality="3"))
    straight(p, "Vote")


@corpus("mi_cardinality_sequential", variables={"rounds": 2})
def _(d, p):
    p.user("Round", loop=MI(sequential=True, cardinality="rounds", element="index"))
    straight(p, "Round")


@corpus("mi_cardinality_names_collection", variables={"names": ["甲", "乙"]})
def _(d, p):
    # Camunda-era SpiffWorkflow: a loopCardinality that evaluates to a list is the input collection
    p.user("Sign", loop=MI(cardinality="names", element="name"))
    p.script("After", "signed = names")
    straight(p, "Sign", "After")


@corpus("mi_completion_parallel", variables={"items": ITEMS},
        data={"Approve": [{"ok": False}, {"ok": True}, {"ok": True}]})
def _(d, p):
    p.user("Approve", loop=MI(collection="items", element="item", condition="ok"))
    p.script("After", "finished = True")
    straight(p, "Approve", "After")


@corpus("mi_completion_sequential", variables={"items": ITEMS}, data={"Try": [{"ok": False}, {"ok": True}]})
def _(d, p):
    p.user("Try", loop=MI(sequential=True, collection="items", element="item", condition="ok"))
    straight(p, "Try")


@corpus("mi_standard_script", raw_parser="bpmn", variables={"numbers": [1, 2, 3]})
def _(d, p):
    p.script("Square", "square = number * number",
             loop=MI(input="numbers", input_item="number", output="squares", output_item="square"))
    p.script("Sum", "total = sum(squares)")
    straight(p, "Square", "Sum")


@corpus("mi_standard_user", raw_parser="bpmn", variables={"people": ["张", "李"]})
def _(d, p):
    p.user("Ask", loop=MI(input="people", input_item="person", output="answers", output_item="answer"))
    straight(p, "Ask")


@corpus("mi_cardinality_output", raw_parser="bpmn")
def _(d, p):
    p.script("Make", "value = 'v' + str(index)",
             loop=MI(cardinality="3", input_item="index", output="values", output_item="value"))
    p.script("After", "n = len(values)")
    straight(p, "Make", "After")


@corpus("mi_cardinality_output_user", raw_parser="bpmn", data={"Name": [{"value": "甲"}, {"value": "乙"}]})
def _(d, p):
    p.user("Name", loop=MI(cardinality="2", input_item="index", output="values", output_item="value"))
    p.script("After", "n = len(values)")
    straight(p, "Name", "After")


@corpus("mi_subprocess", variables={"items": ITEMS})
def _(d, p):
    sub = p.subprocess("PerItem", loop=MI(collection="items", element="item"))
    sub.start("SStart"); sub.user("Inspect"); sub.script("Mark", "item['status'] = 'inspected:' + answer")
    sub.end("SEnd"); sub.chain("SStart", "Inspect", "Mark", "SEnd")
    p.script("After", "statuses = [i['status'] for i in items]")
    straight(p, "PerItem", "After")


@corpus("mi_nested", variables={"groups": [{"name": "g1", "members": [{"m": 1}, {"m": 2}]},
                                           {"name": "g2", "members": [{"m": 3}]}]})
def _(d, p):
    sub = p.subprocess("PerGroup", loop=MI(collection="groups", element="group"))
    sub.start("SStart"); sub.script("Unpack", "members = group['members']")
    sub.user("PerMember", loop=MI(collection="members", element="member"))
    sub.script("Pack", "group['count'] = len(members)"); sub.end("SEnd")
    sub.chain("SStart", "Unpack", "PerMember", "Pack", "SEnd")
    p.script("After", "counts = [g.get('count') for g in groups]")
    straight(p, "PerGroup", "After")


@corpus("standard_loop", data={"Draft": [{"again": True}, {"again": True}, {"again": False}]})
def _(d, p):
    p.user("Draft", loop=Loop(condition="again", maximum=5))
    straight(p, "Draft")


# --------------------------------------------------------------------------- subprocesses
@corpus("subprocess_embedded", variables={"project": {"name": "厂房"}})
def _(d, p):
    sub = p.subprocess("Prepare")
    sub.start("SStart"); sub.user("Collect"); sub.script("Pack", "package = {'by': answer, 'n': seen_Collect}")
    sub.end("SEnd"); sub.chain("SStart", "Collect", "Pack", "SEnd")
    p.user("Submit"); p.script("After", "submitted = package")
    straight(p, "Prepare", "Submit", "After")


@corpus("subprocess_nested")
def _(d, p):
    outer = p.subprocess("Outer")
    outer.start("OStart"); outer.user("O1"); outer.end("OEnd")
    inner = outer.subprocess("Inner")
    inner.start("IStart"); inner.user("I1"); inner.script("IScript", "depth = 2"); inner.end("IEnd")
    inner.chain("IStart", "I1", "IScript", "IEnd"); outer.chain("OStart", "O1", "Inner", "OEnd")
    p.script("After", "final_depth = depth")
    straight(p, "Outer", "After")


@corpus("subprocess_parallel_inside")
def _(d, p):
    sub = p.subprocess("Review")
    sub.start("SStart"); sub.gateway("parallel", "SFork"); sub.gateway("parallel", "SJoin"); sub.end("SEnd")
    sub.user("Legal"); sub.user("Tech"); sub.chain("SStart", "SFork", "Legal", "SJoin")
    sub.chain("SFork", "Tech", "SJoin"); sub.chain("SJoin", "SEnd")
    straight(p, "Review")


# --------------------------------------------------------------------------- call activities
def _callee(d: Definitions, pid: str, body: str = "callee") -> Container:
    c = d.process(pid)
    c.start(f"{pid}_Start"); c.user(f"{pid}_Work"); c.script(f"{pid}_Done", f"{body}_result = 'done by ' + answer")
    c.end(f"{pid}_End"); c.chain(f"{pid}_Start", f"{pid}_Work", f"{pid}_Done", f"{pid}_End")
    return c


@corpus("call_same_file")
def _(d, p):
    _callee(d, "call_same_file_callee")
    p.call("Call", "call_same_file_callee"); p.script("After", "seen = callee_result")
    straight(p, "Call", "After")


@corpus("call_nested_same_file")
def _(d, p):
    _callee(d, "call_nested_inner", "inner")
    mid = d.process("call_nested_middle")
    mid.start("M_Start"); mid.user("M_Work"); mid.call("M_Call", "call_nested_inner"); mid.end("M_End")
    mid.chain("M_Start", "M_Work", "M_Call", "M_End")
    p.call("Call", "call_nested_middle"); p.script("After", "seen = inner_result")
    straight(p, "Call", "After")


@corpus("call_mi_same_file", variables={"items": ITEMS})
def _(d, p):
    c = d.process("call_mi_item")
    c.start("CI_Start"); c.user("CI_Review"); c.script("CI_Mark", "item['reviewed'] = answer")
    c.end("CI_End"); c.chain("CI_Start", "CI_Review", "CI_Mark", "CI_End")
    p.call("PerItem", "call_mi_item", loop=MI(collection="items", element="item"))
    p.script("After", "reviewed = [i['reviewed'] for i in items]")
    straight(p, "PerItem", "After")


@corpus("lib_callee")
def _(d, p):
    p.user("LibWork"); p.script("LibDone", "lib_result = 'lib:' + answer")
    straight(p, "LibWork", "LibDone")


@corpus("lib_middle", files=["lib_callee.bpmn"])
def _(d, p):
    p.user("MidWork"); p.call("MidCall", "lib_callee")
    straight(p, "MidWork", "MidCall")


@corpus("call_across_files", files=["lib_callee.bpmn"])
def _(d, p):
    p.call("Call", "lib_callee"); p.script("After", "seen = lib_result")
    straight(p, "Call", "After")


@corpus("call_across_files_nested", files=["lib_callee.bpmn", "lib_middle.bpmn"])
def _(d, p):
    p.call("Call", "lib_middle"); p.script("After", "seen = lib_result")
    straight(p, "Call", "After")


# --------------------------------------------------------------------------- boundary events
@corpus("boundary_timer_interrupting", steps=[{"advance": {"hours": 2}}, {"auto": 10}])
def _(d, p):
    p.start("StartEvent"); p.user("Answer"); p.boundary("Late", "Answer", Timer(duration="'PT1H'"))
    p.user("Escalate"); p.end("EndEvent"); p.end("EndLate")
    p.chain("StartEvent", "Answer", "EndEvent"); p.chain("Late", "Escalate", "EndLate")


@corpus("boundary_timer_not_reached", steps=[{"advance": {"minutes": 30}}, {"auto": 10}])
def _(d, p):
    p.start("StartEvent"); p.user("Answer"); p.boundary("Late", "Answer", Timer(duration="'PT1H'"))
    p.user("Escalate"); p.end("EndEvent"); p.end("EndLate")
    p.chain("StartEvent", "Answer", "EndEvent"); p.chain("Late", "Escalate", "EndLate")


@corpus("boundary_timer_noninterrupting", steps=[{"advance": {"hours": 2}}, {"complete": "Remind"},
                                                 {"complete": "Answer"}, {"auto": 5}])
def _(d, p):
    p.start("StartEvent"); p.user("Answer"); p.boundary("Reminder", "Answer", Timer(duration="'PT1H'"), cancel=False)
    p.user("Remind"); p.end("EndEvent"); p.end("EndRemind")
    p.chain("StartEvent", "Answer", "EndEvent"); p.chain("Reminder", "Remind", "EndRemind")


@corpus("boundary_message_interrupting", steps=[{"message": "withdraw", "payload": {"reason": "企业撤回"}}, {"auto": 5}])
def _(d, p):
    p.start("StartEvent"); p.user("Review"); p.boundary("Withdrawn", "Review", Message("withdraw"))
    p.script("Note", "status = 'withdrawn'"); p.end("EndEvent"); p.end("EndW")
    p.chain("StartEvent", "Review", "EndEvent"); p.chain("Withdrawn", "Note", "EndW")


@corpus("boundary_message_noninterrupting", steps=[{"message": "supplement", "payload": {"doc": "补充说明"}},
                                                   {"complete": "Acknowledge"}, {"complete": "Review"}])
def _(d, p):
    p.start("StartEvent"); p.user("Review"); p.boundary("Supplement", "Review", Message("supplement"), cancel=False)
    p.user("Acknowledge"); p.end("EndEvent"); p.end("EndS")
    p.chain("StartEvent", "Review", "EndEvent"); p.chain("Supplement", "Acknowledge", "EndS")


@corpus("boundary_error_subprocess", data={"Check": {"valid": False}})
def _(d, p):
    sub = p.subprocess("Verify")
    sub.start("SStart"); sub.user("Check"); sub.gateway("exclusive", "Valid", default="F_bad")
    sub.end("SEnd"); sub.end("SFail", Error("INVALID"))
    sub.chain("SStart", "Check", "Valid"); sub.flow("Valid", "SEnd", "valid"); sub.flow("Valid", "SFail", id="F_bad")
    p.boundary("Invalid", "Verify", Error("INVALID")); p.user("Fix"); p.end("EndFix")
    p.chain("Invalid", "Fix", "EndFix")
    straight(p, "Verify")


@corpus("boundary_error_not_thrown", data={"Check": {"valid": True}})
def _(d, p):
    sub = p.subprocess("Verify")
    sub.start("SStart"); sub.user("Check"); sub.gateway("exclusive", "Valid", default="F_bad")
    sub.end("SEnd"); sub.end("SFail", Error("INVALID"))
    sub.chain("SStart", "Check", "Valid"); sub.flow("Valid", "SEnd", "valid"); sub.flow("Valid", "SFail", id="F_bad")
    p.boundary("Invalid", "Verify", Error("INVALID")); p.user("Fix"); p.end("EndFix")
    p.chain("Invalid", "Fix", "EndFix")
    straight(p, "Verify")


@corpus("boundary_escalation_noninterrupting")
def _(d, p):
    sub = p.subprocess("Work")
    sub.start("SStart"); sub.throw("Raise", Escalation("SLOW")); sub.user("Continue"); sub.end("SEnd")
    sub.chain("SStart", "Raise", "Continue", "SEnd")
    p.boundary("Escalated", "Work", Escalation("SLOW"), cancel=False); p.user("Coordinate"); p.end("EndE")
    p.chain("Escalated", "Coordinate", "EndE")
    straight(p, "Work")


@corpus("boundary_escalation_interrupting")
def _(d, p):
    sub = p.subprocess("Work")
    sub.start("SStart"); sub.user("Try"); sub.end("SEsc", Escalation("STUCK"))
    sub.chain("SStart", "Try", "SEsc")
    p.boundary("Stuck", "Work", Escalation("STUCK")); p.user("Leader"); p.end("EndE")
    p.chain("Stuck", "Leader", "EndE")
    straight(p, "Work")


@corpus("boundary_timer_on_subprocess", steps=[{"complete": "Step1"}, {"advance": {"hours": 3}}, {"auto": 5}])
def _(d, p):
    sub = p.subprocess("Work")
    sub.start("SStart"); sub.user("Step1"); sub.user("Step2"); sub.end("SEnd")
    sub.chain("SStart", "Step1", "Step2", "SEnd")
    p.boundary("Overdue", "Work", Timer(duration="'PT2H'")); p.script("Mark", "overdue = True")
    p.user("Report"); p.end("EndO"); p.chain("Overdue", "Mark", "Report", "EndO")
    straight(p, "Work")


# --------------------------------------------------------------------------- event subprocesses
def _with_event_sub(p: Container, event: Any, interrupting: bool) -> None:
    p.user("Main1"); p.user("Main2")
    straight(p, "Main1", "Main2")
    es = p.subprocess("OnEvent", triggered=True)
    es.start("EStart", event, interrupting=interrupting); es.user("Handle"); es.script("Record", "handled = True")
    es.end("EEnd"); es.chain("EStart", "Handle", "Record", "EEnd")


@corpus("event_subprocess_message_interrupting",
        steps=[{"complete": "Main1"}, {"message": "cancel", "payload": {"why": "项目取消"}}, {"auto": 5}])
def _(d, p):
    _with_event_sub(p, Message("cancel"), True)


@corpus("event_subprocess_message_noninterrupting",
        steps=[{"message": "ping", "payload": {"n": 1}}, {"auto": 10}])
def _(d, p):
    _with_event_sub(p, Message("ping"), False)


@corpus("event_subprocess_timer_noninterrupting", steps=[{"advance": {"hours": 2}}, {"auto": 10}])
def _(d, p):
    _with_event_sub(p, Timer(duration="'PT1H'"), False)


@corpus("event_subprocess_error", data={"Main1": {"fail": True}})
def _(d, p):
    p.start("StartEvent"); p.user("Main1"); p.gateway("exclusive", "G", default="F_ok")
    p.end("Fail", Error("BROKEN")); p.user("Main2"); p.end("EndEvent")
    p.chain("StartEvent", "Main1", "G"); p.flow("G", "Fail", "fail"); p.flow("G", "Main2", id="F_ok"); p.chain("Main2", "EndEvent")
    es = p.subprocess("OnError", triggered=True)
    es.start("EStart", Error("BROKEN")); es.user("Repair"); es.end("EEnd"); es.chain("EStart", "Repair", "EEnd")


# --------------------------------------------------------------------------- messages, timers, ends
@corpus("message_catch_payload", steps=[{"complete": "Ask"}, {"message": "answer", "payload": {"text": "同意", "n": 2}},
                                        {"auto": 5}])
def _(d, p):
    p.user("Ask"); p.catch("Wait", Message("answer")); p.script("Use", "reply = answer['text'] * answer['n']")
    p.user("Read")
    straight(p, "Ask", "Wait", "Use", "Read")


@corpus("message_parallel_waits", steps=[{"message": "b"}, {"message": "a"}, {"auto": 5}])
def _(d, p):
    p.start("StartEvent"); p.gateway("parallel", "Fork"); p.gateway("parallel", "Join"); p.end("EndEvent")
    p.catch("WaitA", Message("a")); p.catch("WaitB", Message("b")); p.user("Both")
    p.chain("StartEvent", "Fork", "WaitA", "Join"); p.chain("Fork", "WaitB", "Join"); p.chain("Join", "Both", "EndEvent")


@corpus("timer_intermediate", steps=[{"complete": "Before"}, {"advance": {"hours": 1}},
                                     {"advance": {"hours": 2}}, {"auto": 5}])
def _(d, p):
    p.user("Before"); p.catch("Wait", Timer(duration="'PT2H'")); p.user("After")
    straight(p, "Before", "Wait", "After")


@corpus("timer_date", steps=[{"advance": {"days": 2}}, {"auto": 5}])
def _(d, p):
    p.catch("Until", Timer(date="'2026-03-03T09:00:00+08:00'")); p.user("After")
    straight(p, "Until", "After")


@corpus("terminate_end", data={"Fast": {"stop": True}})
def _(d, p):
    p.start("StartEvent"); p.gateway("parallel", "Fork"); p.user("Fast"); p.user("Slow")
    p.end("Kill", Terminate()); p.end("EndEvent"); p.gateway("exclusive", "G", default="F_go")
    p.chain("StartEvent", "Fork", "Fast", "G"); p.flow("G", "Kill", "stop"); p.flow("G", "EndEvent", id="F_go")
    p.chain("Fork", "Slow"); p.flow("Slow", "EndEvent", id="F_slow_end")


# --------------------------------------------------------------------------- lanes and routing
@corpus("lanes_routing", variables={"item": {"department": "county.zjj"}})
def _(d, p):
    p.start("StartEvent"); p.user("Prepare"); p.user("Approve"); p.user("Permit")
    p.user("Routed", groups="${item['department']}"); p.end("EndEvent")
    p.chain("StartEvent", "Prepare", "Approve", "Permit", "Routed", "EndEvent")
    p.lane("代办员", "StartEvent", "Prepare"); p.lane("郫都区发展和改革局", "Approve")
    p.lane("county.zjj", "Permit", "Routed", "EndEvent")


@corpus("mi_routed_items", data={"Decide": {"decision": "approve", "opinion": "同意"}}, variables={"items": [{"name": "规划许可", "department": "county.zrzyj"},
                                                {"name": "施工许可", "department": "county.zjj"}]})
def _(d, p):
    p.user("Decide", groups="${item['department']}", form="approval_decision",
           properties={"item": "item", "time_limit": "5 working days"}, loop=MI(collection="items", element="item"))
    p.script("Tally", "decisions = [i['approval_decision']['decision'] for i in items]")
    straight(p, "Decide", "Tally")


# --------------------------------------------------------------------------- scripts and data
@corpus("scripts_data_shapes", variables={"order": {"lines": [{"qty": 2, "price": 3.5}, {"qty": 1, "price": 10}]}})
def _(d, p):
    p.script("Compute", "order['total'] = sum([l['qty'] * l['price'] for l in order['lines']])\n"
                        "order['lines'].append({'qty': 0, 'price': 0})\nflags = {'big': order['total'] > 10}")
    p.user("Confirm"); p.script("Nest", "order['meta'] = {'by': answer, 'tags': ['x', 'y']}\norder['meta']['tags'].append('z')")
    straight(p, "Compute", "Confirm", "Nest")


@corpus("scripts_del", variables={"temp": 1, "keep": {"a": 1, "b": 2}})
def _(d, p):
    p.script("Clean", "del keep['b']\nscratch = 5\ndel scratch\ndel temp")
    p.user("Look")
    straight(p, "Clean", "Look")


@corpus("scripts_print")
def _(d, p):
    p.script("Say", "print('hello')\nsaid = True")
    p.user("Look")
    straight(p, "Say", "Look")


# In-place changes to nested data shared between tasks (SpiffWorkflow copies task data one level
# deep): a live workflow and one read back from its saved JSON must not diverge.
@corpus("alias_parallel_in_place", variables={"cfg": {"inner": {"x": 0}, "list": [1]}})
def _(d, p):
    p.start("StartEvent"); p.gateway("parallel", "Fork"); p.gateway("parallel", "Join"); p.end("EndEvent")
    p.user("Wait"); p.script("SeeAfterWait", "seen_by_wait = cfg['inner']['x']")
    p.user("Work"); p.script("Mutate", "cfg['inner']['x'] = cfg['inner']['x'] + 1\ncfg['list'].append(2)")
    p.script("Read", "final_x = cfg['inner']['x']\nfinal_list = cfg['list']")
    p.chain("StartEvent", "Fork", "Wait", "SeeAfterWait", "Join"); p.chain("Fork", "Work", "Mutate", "Join")
    p.chain("Join", "Read", "EndEvent")


@corpus("alias_equal_replace", variables={"cfg": {"inner": {"x": 0}}})
def _(d, p):
    p.script("Replace", "cfg = {'inner': {'x': 0}}"); p.user("U1")
    p.script("Mutate", "cfg['inner']['x'] = 5"); p.user("U2"); p.script("Read", "x = cfg['inner']['x']")
    straight(p, "Replace", "U1", "Mutate", "U2", "Read")


@corpus("alias_boundary_in_place", variables={"state": {"seen": []}},
        steps=[{"complete": "Step"}, {"advance": {"hours": 2}}, {"auto": 5}])
def _(d, p):
    sub = p.subprocess("Work")
    sub.start("SStart"); sub.user("Step"); sub.script("Touch", "state['seen'].append('step')"); sub.user("Wait")
    sub.end("SEnd"); sub.chain("SStart", "Step", "Touch", "Wait", "SEnd")
    p.boundary("Timeout", "Work", Timer(duration="'PT1H'")); p.script("After", "after_timeout = list(state['seen'])")
    p.user("Report"); p.end("EndT"); p.chain("Timeout", "After", "Report", "EndT")
    straight(p, "Work")


@corpus("alias_mi_items_in_place", variables={"items": [{"k": 1, "tags": []}, {"k": 2, "tags": []}]})
def _(d, p):
    p.user("Tag", loop=MI(collection="items", element="item"))
    p.script("Annotate", "for i in items:\n    i['tags'].append('seen')")
    p.user("Look"); p.script("Again", "items[0]['tags'].append('again')")
    straight(p, "Tag", "Annotate", "Look", "Again")


def write() -> list[Path]:
    written = []
    for name, (make, sidecar) in CORPUS.items():
        path = HERE / f"{name}.bpmn"
        path.write_bytes(make().xml())
        written.append(path)
        side = HERE / f"{name}.json"
        if sidecar:
            side.write_text(json.dumps(sidecar, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        elif side.exists():
            side.unlink()
    return written


if __name__ == "__main__":
    print(f"wrote {len(write())} files to {HERE}")
