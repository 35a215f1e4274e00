"""The modeler-style corpus (tests/bpmn/modeler/*.bpmn written by this module) and how each
file is driven to its end in tests/engine/test_modeler_corpus.py.

The files look like Camunda Modeler 5 exports (camunda and modeler namespaces, exporter
attributes, a diagram with shapes and edges, `Activity_`/`Flow_`/`Gateway_` ids, `${...}`
expressions, candidate groups as other engines name them) so the tests exercise what designers
bring, not what we would write. Regenerate with `python -m tests.modeler_corpus` after editing
a file's description below; a test fails while the checked-in files differ.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

DIR = Path(__file__).resolve().parent / "bpmn" / "modeler"
#: The group aliases the corpus relies on (an administrator's `onewindow departments alias`).
ALIASES = {"accounting": "county.sj", "management": "county.zf", "planning": "county.zrzyj",
           "environment": "county.sthjj"}

_SIZE = {"task": (100, 80), "event": (36, 36), "gateway": (50, 50)}
_KIND = {"startEvent": "event", "endEvent": "event", "intermediateCatchEvent": "event",
         "intermediateThrowEvent": "event", "boundaryEvent": "event", "exclusiveGateway": "gateway",
         "parallelGateway": "gateway", "inclusiveGateway": "gateway", "eventBasedGateway": "gateway"}


def _hid(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:7]


@dataclass
class Node:
    tag: str
    id: str
    name: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    body: str = ""  # event definitions, loop characteristics, extension elements
    attached: str | None = None


@dataclass
class Process:
    id: str
    name: str
    nodes: list[Node] = field(default_factory=list)
    flows: list[tuple[str, str, str, str | None]] = field(default_factory=list)  # id, source, target, condition
    lanes: list[tuple[str, list[str]]] = field(default_factory=list)

    def add(self, tag: str, id: str, name: str | None = None, body: str = "", attached: str | None = None,
            **attrs: str) -> str:
        self.nodes.append(Node(tag, id, name, {k.replace("__", ":"): v for k, v in attrs.items()}, body, attached))
        return id

    def flow(self, source: str, target: str, condition: str | None = None, id: str | None = None) -> str:
        flow_id = id or f"Flow_{_hid(self.id, source, target)}"
        self.flows.append((flow_id, source, target, condition))
        return flow_id

    def chain(self, *ids: str) -> None:
        for a, b in zip(ids, ids[1:]):
            self.flow(a, b)


@dataclass
class File:
    name: str
    processes: list[Process]
    messages: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (name, code)
    pools: bool = False  # a collaboration with one participant per process (lanes or two processes)

    def message_id(self, name: str) -> str:
        return f"Message_{_hid(self.name, name)}"

    def signal_id(self, name: str) -> str:
        return f"Signal_{_hid(self.name, name)}"

    def error_id(self, code: str) -> str:
        return f"Error_{_hid(self.name, code)}"


def timer(kind: str, value: str) -> str:
    return (f'<bpmn:timerEventDefinition id="TimerEventDefinition_{_hid(kind, value)}">'
            f'<bpmn:{kind} xsi:type="bpmn:tFormalExpression">{escape(value)}</bpmn:{kind}>'
            f'</bpmn:timerEventDefinition>')


def mi(collection: str | None = None, element: str | None = None, sequential: bool = False,
       cardinality: str | None = None) -> str:
    attrs = ' isSequential="true"' if sequential else ""
    if collection:
        attrs += f' camunda:collection={quoteattr(collection)}'
    if element:
        attrs += f' camunda:elementVariable={quoteattr(element)}'
    inner = (f'<bpmn:loopCardinality xsi:type="bpmn:tFormalExpression">{escape(cardinality)}</bpmn:loopCardinality>'
             if cardinality else "")
    return f'<bpmn:multiInstanceLoopCharacteristics{attrs}>{inner}</bpmn:multiInstanceLoopCharacteristics>'


# --------------------------------------------------------------------------- writing


def _layout(process: Process) -> dict[str, tuple[int, int]]:
    """(column, row) per node: columns by longest path from the start, rows by branch."""
    outgoing: dict[str, list[str]] = {}
    for _, source, target, _ in process.flows:
        outgoing.setdefault(source, []).append(target)
    starts = [n.id for n in process.nodes if n.tag == "startEvent"]
    place: dict[str, tuple[int, int]] = {}
    taken: set[tuple[int, int]] = set()
    order = list(starts)
    for i, start in enumerate(starts):
        place[start] = (0, i * 2)
        taken.add(place[start])
    attached = {n.id: n.attached for n in process.nodes if n.attached}
    while order:
        node = order.pop(0)
        col, row = place[node]
        for i, target in enumerate(outgoing.get(node, [])):
            if target in place:
                continue
            want_row = row + i + (1 if node in attached else 0)
            want = (col + 1, want_row)
            while want in taken:
                want = (want[0], want[1] + 1)
            place[target] = want
            taken.add(want)
            order.append(target)
        for boundary, host in attached.items():
            if host == node and boundary not in place:
                place[boundary] = (col, row)
                order.append(boundary)
    for n in process.nodes:  # anything unreachable (should not happen) goes to the bottom
        if n.id not in place:
            place[n.id] = (0, 10 + len(place))
    return place


def _bounds(process: Process, dy: int) -> dict[str, tuple[int, int, int, int]]:
    place = _layout(process)
    kinds = {n.id: _KIND.get(n.tag, "task") for n in process.nodes}
    hosts = {n.id: n.attached for n in process.nodes}
    out: dict[str, tuple[int, int, int, int]] = {}
    lane_of = {m: i for i, (_, members) in enumerate(process.lanes) for m in members}
    for n in process.nodes:
        if n.attached:
            continue
        col, row = place[n.id]
        row = lane_of.get(n.id, row)  # in a lane: on the lane's row
        w, h = _SIZE[kinds[n.id]]
        cx, cy = 230 + col * 160, dy + 120 + row * 130
        out[n.id] = (cx - w // 2, cy - h // 2, w, h)
    for i, n in enumerate(x for x in process.nodes if x.attached):
        hx, hy, hw, hh = out[hosts[n.id]]
        siblings = [x.id for x in process.nodes if x.attached == n.attached]
        out[n.id] = (hx + 20 + 40 * siblings.index(n.id), hy + hh - 18, 36, 36)
    return out


def _waypoints(a: tuple[int, int, int, int], b: tuple[int, int, int, int], from_bottom: bool) -> list[tuple[int, int]]:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    if from_bottom:
        start = (ax + aw // 2, ay + ah)
        return [start, (start[0], by + bh // 2), (bx, by + bh // 2)]
    start, end = (ax + aw, ay + ah // 2), (bx, by + bh // 2)
    if start[1] == end[1] and end[0] > start[0]:
        return [start, end]
    if end[0] > start[0]:
        mid = (start[0] + end[0]) // 2
        return [start, (mid, start[1]), (mid, end[1]), end]
    low = max(ay + ah, by + bh) + 30  # a flow back: under both shapes
    return [(ax + aw // 2, ay + ah), (ax + aw // 2, low), (bx + bw // 2, low), (bx + bw // 2, by + bh)]


def _node_xml(node: Node, process: Process) -> str:
    attrs = f' id="{node.id}"' + (f" name={quoteattr(node.name)}" if node.name else "")
    if node.attached:
        attrs += f' attachedToRef="{node.attached}"'
    for key, value in node.attrs.items():
        attrs += f" {key}={quoteattr(value)}"
    incoming = "".join(f"<bpmn:incoming>{f}</bpmn:incoming>" for f, _, t, _ in process.flows if t == node.id)
    outgoing = "".join(f"<bpmn:outgoing>{f}</bpmn:outgoing>" for f, s, _, _ in process.flows if s == node.id)
    extension, rest = "", node.body
    if rest.startswith("<bpmn:extensionElements>"):
        end = rest.index("</bpmn:extensionElements>") + len("</bpmn:extensionElements>")
        extension, rest = rest[:end], rest[end:]
    inner = extension + incoming + outgoing + rest
    return f"    <bpmn:{node.tag}{attrs}>{inner}</bpmn:{node.tag}>\n" if inner else f"    <bpmn:{node.tag}{attrs} />\n"


def render(file: File) -> str:
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
            'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:modeler="http://camunda.org/schema/modeler/1.0" '
            f'id="Definitions_{_hid(file.name)}" targetNamespace="http://bpmn.io/schema/bpmn" '
            'exporter="Camunda Modeler" exporterVersion="5.21.0" modeler:executionPlatform="Camunda Platform" '
            'modeler:executionPlatformVersion="7.20.0">\n')
    parts = [head]
    collaboration = f"Collaboration_{_hid(file.name)}"
    if file.pools:
        parts.append(f'  <bpmn:collaboration id="{collaboration}">\n')
        for p in file.processes:
            parts.append(f'    <bpmn:participant id="Participant_{_hid(p.id)}" name={quoteattr(p.name)} '
                         f'processRef="{p.id}" />\n')
        parts.append("  </bpmn:collaboration>\n")
    for p in file.processes:
        parts.append(f'  <bpmn:process id="{p.id}" name={quoteattr(p.name)} isExecutable="true" '
                     f'camunda:historyTimeToLive="180">\n')
        if p.lanes:
            parts.append(f'    <bpmn:laneSet id="LaneSet_{_hid(p.id)}">\n')
            for lane, members in p.lanes:
                refs = "".join(f"<bpmn:flowNodeRef>{m}</bpmn:flowNodeRef>" for m in members)
                parts.append(f'      <bpmn:lane id="Lane_{_hid(p.id, lane)}" name={quoteattr(lane)}>{refs}</bpmn:lane>\n')
            parts.append("    </bpmn:laneSet>\n")
        for node in p.nodes:
            parts.append(_node_xml(node, p))
        for flow_id, source, target, condition in p.flows:
            if condition is None:
                parts.append(f'    <bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}" />\n')
            else:
                parts.append(f'    <bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
                             f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}'
                             f'</bpmn:conditionExpression></bpmn:sequenceFlow>\n')
        parts.append("  </bpmn:process>\n")
    for name in file.messages:
        parts.append(f'  <bpmn:message id="{file.message_id(name)}" name={quoteattr(name)} />\n')
    for name in file.signals:
        parts.append(f'  <bpmn:signal id="{file.signal_id(name)}" name={quoteattr(name)} />\n')
    for name, code in file.errors:
        parts.append(f'  <bpmn:error id="{file.error_id(code)}" name={quoteattr(name)} errorCode={quoteattr(code)} />\n')
    plane = collaboration if file.pools else file.processes[0].id
    parts.append(f'  <bpmndi:BPMNDiagram id="BPMNDiagram_1">\n    <bpmndi:BPMNPlane id="BPMNPlane_1" '
                 f'bpmnElement="{plane}">\n')
    dy = 0
    for p in file.processes:
        bounds = _bounds(p, dy)
        right = max(x + w for x, y, w, h in bounds.values()) + 60
        top, bottom = min(y for _, y, _, _ in bounds.values()) - 50, max(y + h for _, y, _, h in bounds.values()) + 60
        if p.lanes:  # one 130-high band per lane, its nodes on its middle
            top, bottom = dy + 55, dy + 55 + 130 * len(p.lanes)
        if file.pools:
            parts.append(f'      <bpmndi:BPMNShape id="Participant_{_hid(p.id)}_di" bpmnElement="Participant_{_hid(p.id)}" '
                         f'isHorizontal="true"><dc:Bounds x="130" y="{top}" width="{right - 130}" '
                         f'height="{bottom - top}" /></bpmndi:BPMNShape>\n')
            lane_height = 130
            for i, (lane, _members) in enumerate(p.lanes):
                parts.append(f'      <bpmndi:BPMNShape id="Lane_{_hid(p.id, lane)}_di" bpmnElement="Lane_{_hid(p.id, lane)}" '
                             f'isHorizontal="true"><dc:Bounds x="160" y="{top + i * lane_height}" '
                             f'width="{right - 160}" height="{lane_height}" /></bpmndi:BPMNShape>\n')
        for node in p.nodes:
            x, y, w, h = bounds[node.id]
            extra = ' isMarkerVisible="true"' if node.tag == "exclusiveGateway" else ""
            label = (f'<bpmndi:BPMNLabel><dc:Bounds x="{x - 10}" y="{y + h + 5}" width="{w + 20}" height="14" />'
                     f'</bpmndi:BPMNLabel>' if node.name and _KIND.get(node.tag) in ("event", "gateway") else "")
            parts.append(f'      <bpmndi:BPMNShape id="{node.id}_di" bpmnElement="{node.id}"{extra}>'
                         f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" />{label}</bpmndi:BPMNShape>\n')
        attached = {n.id for n in p.nodes if n.attached}
        for flow_id, source, target, _ in p.flows:
            points = "".join(f'<di:waypoint x="{x}" y="{y}" />'
                             for x, y in _waypoints(bounds[source], bounds[target], source in attached))
            parts.append(f'      <bpmndi:BPMNEdge id="{flow_id}_di" bpmnElement="{flow_id}">{points}</bpmndi:BPMNEdge>\n')
        dy = bottom + 80 - 120 + 50
    parts.append("    </bpmndi:BPMNPlane>\n  </bpmndi:BPMNDiagram>\n</bpmn:definitions>\n")
    return "".join(parts)


# --------------------------------------------------------------------------- the files and their runs


@dataclass
class Scenario:
    """How a test drives a file's case to its end: start variables, each user task's data by
    element id (a list: one per time it comes), the messages to deliver when the case waits for
    them, and `first`: what to do before completing open tasks (deliver a message, let time pass)."""

    files: list[str]
    key: str
    variables: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    first: str | None = None  # "message" | "timer"
    hours: float = 25  # how far the clock moves when only time can move the case on
    passes: tuple[str, ...] = ()  # elements whose tasks must have been completed
    last: tuple[str, ...] = ()  # elements whose tasks are completed only when no other is open


FILES: dict[str, File] = {}
SCENARIOS: dict[str, Scenario] = {}


def corpus(scenario: Scenario):  # type: ignore[no-untyped-def]
    def register(build):  # type: ignore[no-untyped-def]
        file = build()
        FILES[file.name] = file
        SCENARIOS[file.name] = scenario
        return build
    return register


def _user(p: Process, id: str, name: str, groups: str | None = None, **attrs: str) -> str:
    if groups is not None:
        attrs["camunda__candidateGroups"] = groups
    return p.add("userTask", id, name, **attrs)


@corpus(Scenario(["invoice_accounting.bpmn"], "invoice_accounting", {"amount": 1200},
                 {"Activity_approve": {"approved": True}}, passes=("Activity_approve", "Activity_pay")))
def _invoice() -> File:
    p = Process("invoice_accounting", "Invoice approval")
    p.add("startEvent", "StartEvent_1", "Invoice received")
    _user(p, "Activity_approve", "Approve invoice", "accounting")
    p.add("exclusiveGateway", "Gateway_approved", "Approved?", default="Flow_rejected")
    _user(p, "Activity_pay", "Prepare payment", "accounting")
    p.add("endEvent", "Event_paid", "Invoice paid")
    p.add("endEvent", "Event_rejected", "Invoice rejected")
    p.chain("StartEvent_1", "Activity_approve", "Gateway_approved")
    p.flow("Gateway_approved", "Activity_pay", "${approved}")
    p.flow("Gateway_approved", "Event_rejected", id="Flow_rejected")
    p.chain("Activity_pay", "Event_paid")
    return File("invoice_accounting.bpmn", [p])


@corpus(Scenario(["juel_conditions.bpmn"], "juel_conditions", {"amount": 250000, "category": "industrial",
                                                               "documents": ["plan.pdf"]},
                 passes=("Activity_large",)))
def _juel_conditions() -> File:
    p = Process("juel_conditions", "Routing by JUEL conditions")
    p.add("startEvent", "StartEvent_1")
    p.add("exclusiveGateway", "Gateway_route", "Which track?", default="Flow_small")
    _user(p, "Activity_large", "Large industrial project", "county.fgj")
    _user(p, "Activity_missing", "Ask for documents", "county.zwfw")
    _user(p, "Activity_small", "Simple record", "county.zwfw")
    p.add("endEvent", "Event_done")
    p.flow("StartEvent_1", "Gateway_route")
    p.flow("Gateway_route", "Activity_missing", "${empty documents}")
    p.flow("Gateway_route", "Activity_large", "${amount ge 100000 and category eq 'industrial' && !empty documents}")
    p.flow("Gateway_route", "Activity_small", id="Flow_small")
    for task in ("Activity_large", "Activity_missing", "Activity_small"):
        p.flow(task, "Event_done")
    return File("juel_conditions.bpmn", [p])


@corpus(Scenario(["parallel_opinions.bpmn"], "parallel_opinions", {},
                 {"Activity_decide": {"decision": "approve"}},
                 passes=("Activity_planning", "Activity_environment", "Activity_construction", "Activity_decide")))
def _parallel() -> File:
    p = Process("parallel_opinions", "Parallel opinions")
    p.add("startEvent", "StartEvent_1", "Project accepted")
    p.add("parallelGateway", "Gateway_split")
    _user(p, "Activity_planning", "Planning opinion", "planning")
    _user(p, "Activity_environment", "Environment opinion", "environment")
    _user(p, "Activity_construction", "Construction opinion", "county.zjj")
    p.add("parallelGateway", "Gateway_join")
    _user(p, "Activity_decide", "Joint decision", "management")
    p.add("endEvent", "Event_decided", "Decided")
    p.chain("StartEvent_1", "Gateway_split")
    for task in ("Activity_planning", "Activity_environment", "Activity_construction"):
        p.chain("Gateway_split", task, "Gateway_join")
    p.chain("Gateway_join", "Activity_decide", "Event_decided")
    return File("parallel_opinions.bpmn", [p])


@corpus(Scenario(["reviewers_multi_instance.bpmn"], "reviewers_multi_instance",
                 {"reviewers": [{"name": "li", "dept": "planning"}, {"name": "zhao", "dept": "environment"}]},
                 passes=("Activity_review", "Activity_summary")))
def _mi() -> File:
    p = Process("reviewers_multi_instance", "One review per reviewer")
    p.add("startEvent", "StartEvent_1")
    _user(p, "Activity_review", "Review", "${reviewer.dept}", camunda__assignee="${reviewer.name}",
          body=mi("${reviewers}", "reviewer"))
    _user(p, "Activity_summary", "Summarise reviews", "management")
    p.add("endEvent", "Event_1")
    p.chain("StartEvent_1", "Activity_review", "Activity_summary", "Event_1")
    return File("reviewers_multi_instance.bpmn", [p])


@corpus(Scenario(["sequential_rounds.bpmn"], "sequential_rounds", {}, passes=("Activity_round",)))
def _sequential() -> File:
    p = Process("sequential_rounds", "Three sequential rounds")
    p.add("startEvent", "StartEvent_1")
    _user(p, "Activity_round", "Consultation round", "county.zwfw", body=mi(sequential=True, cardinality="3"))
    p.add("endEvent", "Event_1")
    p.chain("StartEvent_1", "Activity_round", "Event_1")
    return File("sequential_rounds.bpmn", [p])


@corpus(Scenario(["documents_message.bpmn"], "documents_message", {}, messages=["documents_received"],
                 passes=("Activity_request", "Activity_check")))
def _message() -> File:
    f = File("documents_message.bpmn", [], messages=["documents_received"])
    p = Process("documents_message", "Wait for documents")
    p.add("startEvent", "StartEvent_1")
    _user(p, "Activity_request", "Request documents", "county.zwfw")
    p.add("intermediateCatchEvent", "Event_documents", "Documents received",
          body=f'<bpmn:messageEventDefinition id="MessageEventDefinition_{_hid("docs")}" '
               f'messageRef="{f.message_id("documents_received")}" />')
    _user(p, "Activity_check", "Check documents", "county.zwfw")
    p.add("endEvent", "Event_1")
    p.chain("StartEvent_1", "Activity_request", "Event_documents", "Activity_check", "Event_1")
    f.processes.append(p)
    return f


@corpus(Scenario(["withdraw_or_timeout.bpmn"], "withdraw_or_timeout", {}, hours=49,
                 passes=("Activity_close",)))
def _event_gateway() -> File:
    f = File("withdraw_or_timeout.bpmn", [], messages=["applicant_withdrew"])
    p = Process("withdraw_or_timeout", "Withdrawal or 48 hours")
    p.add("startEvent", "StartEvent_1")
    p.add("eventBasedGateway", "Gateway_wait")
    p.add("intermediateCatchEvent", "Event_withdrew", "Applicant withdrew",
          body=f'<bpmn:messageEventDefinition id="MessageEventDefinition_{_hid("w")}" '
               f'messageRef="{f.message_id("applicant_withdrew")}" />')
    p.add("intermediateCatchEvent", "Event_48h", "48 hours", body=timer("timeDuration", "PT48H"))
    _user(p, "Activity_close", "Close silently", "county.zwfw")
    p.add("endEvent", "Event_withdrawn", "Withdrawn")
    p.add("endEvent", "Event_closed", "Closed")
    p.chain("StartEvent_1", "Gateway_wait")
    p.chain("Gateway_wait", "Event_withdrew", "Event_withdrawn")
    p.chain("Gateway_wait", "Event_48h", "Activity_close", "Event_closed")
    f.processes.append(p)
    return f


@corpus(Scenario(["reminder_boundary.bpmn"], "reminder_boundary", {}, first="timer", hours=49,
                 passes=("Activity_review", "Activity_remind")))
def _reminder() -> File:
    p = Process("reminder_boundary", "Review with a reminder")
    p.add("startEvent", "StartEvent_1")
    _user(p, "Activity_review", "Review application", "planning")
    p.add("boundaryEvent", "Event_2days", "2 days", attached="Activity_review", cancelActivity="false",
          body=timer("timeDuration", "P2D"))
    _user(p, "Activity_remind", "Remind the reviewer", "management")
    p.add("endEvent", "Event_reviewed")
    p.add("endEvent", "Event_reminded")
    p.chain("StartEvent_1", "Activity_review", "Event_reviewed")
    p.chain("Event_2days", "Activity_remind", "Event_reminded")
    return File("reminder_boundary.bpmn", [p])


@corpus(Scenario(["take_over_boundary.bpmn"], "take_over_boundary", {"limit": "PT72H"}, first="timer", hours=73,
                 passes=("Activity_take_over",)))
def _take_over() -> File:
    p = Process("take_over_boundary", "Taken over after the limit")
    p.add("startEvent", "StartEvent_1")
    _user(p, "Activity_decide", "Decide", "environment")
    p.add("boundaryEvent", "Event_limit", "Limit passed", attached="Activity_decide",
          body=timer("timeDuration", "${limit}"))
    _user(p, "Activity_take_over", "Take over the decision", "management")
    p.add("endEvent", "Event_decided")
    p.add("endEvent", "Event_taken_over")
    p.chain("StartEvent_1", "Activity_decide", "Event_decided")
    p.chain("Event_limit", "Activity_take_over", "Event_taken_over")
    return File("take_over_boundary.bpmn", [p])


@corpus(Scenario(["cancel_message_boundary.bpmn"], "cancel_message_boundary", {}, messages=["cancel_request"],
                 first="message", passes=("Activity_confirm_cancel",)))
def _cancel() -> File:
    f = File("cancel_message_boundary.bpmn", [], messages=["cancel_request"])
    p = Process("cancel_message_boundary", "Cancellable review")
    p.add("startEvent", "StartEvent_1")
    _user(p, "Activity_review", "Review", "county.zjj")
    p.add("boundaryEvent", "Event_cancel", "Cancel requested", attached="Activity_review",
          body=f'<bpmn:messageEventDefinition id="MessageEventDefinition_{_hid("c")}" '
               f'messageRef="{f.message_id("cancel_request")}" />')
    _user(p, "Activity_confirm_cancel", "Confirm cancellation", "county.zwfw")
    p.add("endEvent", "Event_done")
    p.add("endEvent", "Event_cancelled")
    p.chain("StartEvent_1", "Activity_review", "Event_done")
    p.chain("Event_cancel", "Activity_confirm_cancel", "Event_cancelled")
    f.processes.append(p)
    return f


@corpus(Scenario(["signal_documents.bpmn"], "signal_documents", {},
                 passes=("Activity_prepare", "Activity_inspect")))
def _signal() -> File:
    f = File("signal_documents.bpmn", [], signals=["documents_ready"])
    p = Process("signal_documents", "Inspection waits for a signal")
    p.add("startEvent", "StartEvent_1")
    p.add("parallelGateway", "Gateway_split")
    _user(p, "Activity_prepare", "Prepare documents", "county.zwfw")
    p.add("intermediateThrowEvent", "Event_ready", "Documents ready",
          body=f'<bpmn:signalEventDefinition id="SignalEventDefinition_{_hid("t")}" '
               f'signalRef="{f.signal_id("documents_ready")}" />')
    p.add("intermediateCatchEvent", "Event_wait_ready", "Wait for documents",
          body=f'<bpmn:signalEventDefinition id="SignalEventDefinition_{_hid("c")}" '
               f'signalRef="{f.signal_id("documents_ready")}" />')
    _user(p, "Activity_inspect", "Inspect site", "county.zjj")
    p.add("parallelGateway", "Gateway_join")
    p.add("endEvent", "Event_1")
    p.chain("StartEvent_1", "Gateway_split")
    p.chain("Gateway_split", "Activity_prepare", "Event_ready", "Gateway_join")
    p.chain("Gateway_split", "Event_wait_ready", "Activity_inspect", "Gateway_join")
    p.chain("Gateway_join", "Event_1")
    f.processes.append(p)
    return f


def _inspection_process() -> Process:
    p = Process("site_inspection", "Site inspection")
    p.add("startEvent", "StartEvent_inspection")
    _user(p, "Activity_visit", "Visit the site", "county.zjj")
    p.add("endEvent", "Event_inspected")
    p.chain("StartEvent_inspection", "Activity_visit", "Event_inspected")
    return p


@corpus(Scenario(["site_inspection.bpmn"], "site_inspection", {}, passes=("Activity_visit",)))
def _inspection() -> File:
    return File("site_inspection.bpmn", [_inspection_process()])


@corpus(Scenario(["permit_with_inspection.bpmn", "site_inspection.bpmn"], "permit_with_inspection", {},
                 passes=("Activity_visit", "Activity_issue")))
def _call() -> File:
    p = Process("permit_with_inspection", "Permit with an inspection")
    p.add("startEvent", "StartEvent_1")
    p.add("callActivity", "Activity_inspection", "Site inspection", calledElement="site_inspection",
          camunda__calledElementBinding="latest")
    _user(p, "Activity_issue", "Issue permit", "county.zjj")
    p.add("endEvent", "Event_1")
    p.chain("StartEvent_1", "Activity_inspection", "Activity_issue", "Event_1")
    return File("permit_with_inspection.bpmn", [p])


@corpus(Scenario(["archive_two_pools.bpmn"], "filing_with_archive", {}, passes=("Activity_file", "Activity_archive")))
def _two_pools() -> File:
    main = Process("filing_with_archive", "Filing")
    main.add("startEvent", "StartEvent_1")
    _user(main, "Activity_file", "File the decision", "county.zwfw")
    main.add("callActivity", "Activity_call_archive", "Archive", calledElement="archive_documents")
    main.add("endEvent", "Event_1")
    main.chain("StartEvent_1", "Activity_file", "Activity_call_archive", "Event_1")
    archive = Process("archive_documents", "Archive")
    archive.add("startEvent", "StartEvent_archive")
    _user(archive, "Activity_archive", "Archive the documents", "county.dag")
    archive.add("endEvent", "Event_archived")
    archive.chain("StartEvent_archive", "Activity_archive", "Event_archived")
    return File("archive_two_pools.bpmn", [main, archive], pools=True)


@corpus(Scenario(["inspection_error.bpmn"], "inspection_error", {},
                 {"Activity_check": {"complete": False}}, passes=("Activity_check", "Activity_supplement")))
def _error() -> File:
    f = File("inspection_error.bpmn", [], errors=[("Documents missing", "DOCS_MISSING")])
    main = Process("inspection_error", "Inspection that may fail")
    main.add("startEvent", "StartEvent_1")
    main.add("callActivity", "Activity_checking", "Check documents", calledElement="document_check")
    main.add("boundaryEvent", "Event_missing", "Documents missing", attached="Activity_checking",
             body=f'<bpmn:errorEventDefinition id="ErrorEventDefinition_{_hid("e")}" '
                  f'errorRef="{f.error_id("DOCS_MISSING")}" />')
    _user(main, "Activity_supplement", "Ask for the missing documents", "county.zwfw")
    main.add("endEvent", "Event_checked")
    main.add("endEvent", "Event_supplemented")
    main.chain("StartEvent_1", "Activity_checking", "Event_checked")
    main.chain("Event_missing", "Activity_supplement", "Event_supplemented")
    check = Process("document_check", "Document check")
    check.add("startEvent", "StartEvent_check")
    _user(check, "Activity_check", "Check completeness", "county.zwfw")
    check.add("exclusiveGateway", "Gateway_complete", "Complete?", default="Flow_incomplete")
    check.add("endEvent", "Event_complete")
    check.add("endEvent", "Event_incomplete", "Missing",
              body=f'<bpmn:errorEventDefinition id="ErrorEventDefinition_{_hid("t")}" '
                   f'errorRef="{f.error_id("DOCS_MISSING")}" />')
    check.chain("StartEvent_check", "Activity_check", "Gateway_complete")
    check.flow("Gateway_complete", "Event_complete", "${complete}")
    check.flow("Gateway_complete", "Event_incomplete", id="Flow_incomplete")
    f.processes += [main, check]
    f.pools = True
    return f


@corpus(Scenario(["cooling_off_timer.bpmn"], "cooling_off_timer", {"wait": "PT12H"}, hours=13,
                 passes=("Activity_publish",)))
def _cooling_off() -> File:
    p = Process("cooling_off_timer", "Publication after a cooling-off period")
    p.add("startEvent", "StartEvent_1")
    p.add("intermediateCatchEvent", "Event_cooling_off", "Cooling-off period", body=timer("timeDuration", "${wait}"))
    _user(p, "Activity_publish", "Publish notice", "county.zwfw")
    p.add("endEvent", "Event_1")
    p.chain("StartEvent_1", "Event_cooling_off", "Activity_publish", "Event_1")
    return File("cooling_off_timer.bpmn", [p])


@corpus(Scenario(["inclusive_reviews.bpmn"], "inclusive_reviews", {"needs_fire": True, "needs_environment": True},
                 passes=("Activity_fire", "Activity_environment", "Activity_conclude")))
def _inclusive() -> File:
    p = Process("inclusive_reviews", "Reviews the project needs")
    p.add("startEvent", "StartEvent_1")
    p.add("inclusiveGateway", "Gateway_which", "Which reviews?", default="Flow_none")
    _user(p, "Activity_fire", "Fire safety review", "county.zjj")
    _user(p, "Activity_environment", "Environmental review", "environment")
    p.add("inclusiveGateway", "Gateway_joined")
    _user(p, "Activity_conclude", "Conclude", "county.zwfw")
    p.add("endEvent", "Event_1")
    p.chain("StartEvent_1", "Gateway_which")
    p.flow("Gateway_which", "Activity_fire", "${needs_fire}")
    p.flow("Gateway_which", "Activity_environment", "${needs_environment}")
    p.flow("Gateway_which", "Gateway_joined", id="Flow_none")
    p.chain("Activity_fire", "Gateway_joined")
    p.chain("Activity_environment", "Gateway_joined")
    p.chain("Gateway_joined", "Activity_conclude", "Event_1")
    return File("inclusive_reviews.bpmn", [p])


@corpus(Scenario(["lanes_by_department.bpmn"], "lanes_by_department", {},
                 passes=("Activity_accept", "Activity_opinion", "Activity_permit")))
def _lanes() -> File:
    p = Process("lanes_by_department", "Lanes named like departments")
    p.add("startEvent", "StartEvent_1")
    p.add("userTask", "Activity_accept", "Accept application")
    p.add("userTask", "Activity_opinion", "Environmental opinion")
    p.add("userTask", "Activity_permit", "Construction permit")
    p.add("endEvent", "Event_1")
    p.chain("StartEvent_1", "Activity_accept", "Activity_opinion", "Activity_permit", "Event_1")
    p.lanes = [("county.zwfw", ["StartEvent_1", "Activity_accept"]),
               ("郫都区生态环境局", ["Activity_opinion"]),
               ("Pidu Housing and Urban-Rural Development Bureau", ["Activity_permit", "Event_1"])]
    return File("lanes_by_department.bpmn", [p], pools=True)


@corpus(Scenario(["assigned_with_due_date.bpmn"], "assigned_with_due_date",
                 {"officer": "wang", "deadline": "2026-03-20T17:00:00+08:00"}, passes=("Activity_assess",)))
def _assignee() -> File:
    p = Process("assigned_with_due_date", "Assigned task with a due date")
    p.add("startEvent", "StartEvent_1")
    _user(p, "Activity_assess", "Assess", "county.fgj", camunda__assignee="${officer}",
          camunda__dueDate="${deadline}")
    p.add("endEvent", "Event_1")
    p.chain("StartEvent_1", "Activity_assess", "Event_1")
    return File("assigned_with_due_date.bpmn", [p])


@corpus(Scenario(["fast_track_terminate.bpmn"], "fast_track_terminate", {},
                 {"Activity_fast": {}}, passes=("Activity_fast",)))
def _terminate() -> File:
    p = Process("fast_track_terminate", "Fast track ends everything")
    p.add("startEvent", "StartEvent_1")
    p.add("parallelGateway", "Gateway_split")
    _user(p, "Activity_fast", "Fast-track decision", "management")
    _user(p, "Activity_slow", "Ordinary review", "county.fgj")
    p.add("endEvent", "Event_terminate", "Decided", body='<bpmn:terminateEventDefinition id="TerminateEventDefinition_1" />')
    p.add("endEvent", "Event_slow")
    p.chain("StartEvent_1", "Gateway_split")
    p.chain("Gateway_split", "Activity_fast", "Event_terminate")
    p.chain("Gateway_split", "Activity_slow", "Event_slow")
    return File("fast_track_terminate.bpmn", [p])


@corpus(Scenario(["correction_loop.bpmn"], "correction_loop", {},
                 {"Activity_check": [{"complete": False}, {"complete": True}]},
                 passes=("Activity_correct", "Activity_accept")))
def _loop() -> File:
    p = Process("correction_loop", "Correction until complete (补正)")
    p.add("startEvent", "StartEvent_1")
    _user(p, "Activity_check", "Check completeness", "county.zwfw")
    p.add("exclusiveGateway", "Gateway_complete", "Complete?", default="Flow_correct")
    _user(p, "Activity_correct", "Correct the documents", "agent")
    _user(p, "Activity_accept", "Accept", "county.zwfw")
    p.add("endEvent", "Event_1")
    p.chain("StartEvent_1", "Activity_check", "Gateway_complete")
    p.flow("Gateway_complete", "Activity_accept", "${complete == true}")
    p.flow("Gateway_complete", "Activity_correct", id="Flow_correct")
    p.flow("Activity_correct", "Activity_check")
    p.chain("Activity_accept", "Event_1")
    return File("correction_loop.bpmn", [p])


@corpus(Scenario(["ternary_groups.bpmn"], "ternary_groups", {"amount": 2000000}, passes=("Activity_sign",)))
def _ternary() -> File:
    p = Process("ternary_groups", "Who signs depends on the amount")
    p.add("startEvent", "StartEvent_1")
    _user(p, "Activity_sign", "Sign", "${amount ge 1000000 ? 'management' : 'accounting'}")
    p.add("endEvent", "Event_1")
    p.chain("StartEvent_1", "Activity_sign", "Event_1")
    return File("ternary_groups.bpmn", [p])


@corpus(Scenario(["hourly_reminders.bpmn"], "hourly_reminders", {}, first="timer", hours=3,
                 passes=("Activity_answer", "Activity_chase"), last=("Activity_answer",)))
def _cycle() -> File:
    p = Process("hourly_reminders", "Enquiry with two reminders")
    p.add("startEvent", "StartEvent_1")
    _user(p, "Activity_answer", "Answer the enquiry", "county.zwfw")
    p.add("boundaryEvent", "Event_hourly", "Every hour, twice", attached="Activity_answer", cancelActivity="false",
          body=timer("timeCycle", "R2/PT1H"))
    _user(p, "Activity_chase", "Chase the answer", "management")
    p.add("endEvent", "Event_answered")
    p.add("endEvent", "Event_chased")
    p.chain("StartEvent_1", "Activity_answer", "Event_answered")
    p.chain("Event_hourly", "Activity_chase", "Event_chased")
    return File("hourly_reminders.bpmn", [p])


@corpus(Scenario(["variables_expressions.bpmn"], "variables_expressions",
                 {"applicant": {"name": "成都某公司", "type": "enterprise"}, "land": {"area": 12000}},
                 passes=("Activity_big_site",)))
def _variables() -> File:
    p = Process("variables_expressions", "Conditions on nested variables")
    p.add("startEvent", "StartEvent_1")
    p.add("exclusiveGateway", "Gateway_site", "Site size", default="Flow_small_site")
    _user(p, "Activity_big_site", "Large site review", "planning")
    _user(p, "Activity_small_site", "Small site record", "county.zwfw")
    p.add("endEvent", "Event_1")
    p.chain("StartEvent_1", "Gateway_site")
    p.flow("Gateway_site", "Activity_big_site",
           "${execution.getVariable('land').area > 10000 && applicant['type'] == 'enterprise'}")
    p.flow("Gateway_site", "Activity_small_site", id="Flow_small_site")
    p.chain("Activity_big_site", "Event_1")
    p.chain("Activity_small_site", "Event_1")
    return File("variables_expressions.bpmn", [p])


def write(directory: Path = DIR) -> list[Path]:
    """Write every corpus file; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, file in FILES.items():
        path = directory / name
        path.write_text(render(file), encoding="utf-8")
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- two versions, for migration

MIGRATION_DIR = DIR.parent / "migration"


def _permit_review(version: int) -> File:
    """Version 1, and version 2 which renames the review (Activity_review → Activity_technical_review),
    adds a signature before the permit, drops the refusal notice and reminds after 2 days, not 3."""
    p = Process("permit_review", "Permit review")
    p.add("startEvent", "StartEvent_1", "Application accepted")
    _user(p, "Activity_check", "Check documents", "county.zwfw")
    p.add("boundaryEvent", "Event_remind", "Reminder", attached="Activity_check", cancelActivity="false",
          body=timer("timeDuration", "P3D" if version == 1 else "P2D"))
    _user(p, "Activity_remind", "Remind the window", "management")
    p.add("endEvent", "Event_reminded")
    review = "Activity_review" if version == 1 else "Activity_technical_review"
    _user(p, review, "Technical review", "planning")
    p.add("exclusiveGateway", "Gateway_approved", "Approved?", default="Flow_refused")
    if version == 2:
        _user(p, "Activity_sign", "Sign the permit", "management")
    _user(p, "Activity_issue", "Issue permit", "county.zjj")
    p.add("endEvent", "Event_issued", "Permit issued")
    if version == 1:
        _user(p, "Activity_notify", "Notify the refusal", "county.zwfw")
    p.add("endEvent", "Event_refused", "Refused")
    p.chain("StartEvent_1", "Activity_check", review, "Gateway_approved")
    p.chain("Event_remind", "Activity_remind", "Event_reminded")
    if version == 2:
        p.flow("Gateway_approved", "Activity_sign", "${approved}")
        p.chain("Activity_sign", "Activity_issue", "Event_issued")
        p.flow("Gateway_approved", "Event_refused", id="Flow_refused")
    else:
        p.flow("Gateway_approved", "Activity_issue", "${approved}")
        p.chain("Activity_issue", "Event_issued")
        p.flow("Gateway_approved", "Activity_notify", id="Flow_refused")
        p.chain("Activity_notify", "Event_refused")
    return File(f"permit_review_v{version}.bpmn", [p])


MIGRATION_FILES = {f"permit_review_v{v}.bpmn": _permit_review(v) for v in (1, 2)}


def write_all() -> list[Path]:
    paths = write(DIR)
    MIGRATION_DIR.mkdir(exist_ok=True)
    for name, file in MIGRATION_FILES.items():
        path = MIGRATION_DIR / name
        path.write_text(render(file), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_all():
        print(written.relative_to(Path.cwd()) if written.is_relative_to(Path.cwd()) else written)
