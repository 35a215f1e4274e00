"""A small writer of schema-valid BPMN 2.0 XML, for the corpus and the random generator.

Elements are added to a process (or an embedded/event subprocess) by id; sequence flows are
added with `flow`/`chain`; `incoming`/`outgoing` and the XSD's element order are taken care of.
No diagram (DI) is written: the engine does not need one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


# -- event definitions --------------------------------------------------------------------------
@dataclass
class Timer:
    duration: str | None = None
    date: str | None = None
    cycle: str | None = None

    def xml(self, definitions: "Definitions") -> str:
        kind, value = next((k, v) for k, v in (("timeDuration", self.duration), ("timeDate", self.date),
                                               ("timeCycle", self.cycle)) if v is not None)
        return (f'<bpmn:timerEventDefinition><bpmn:{kind} xsi:type="bpmn:tFormalExpression">'
                f'{escape(value)}</bpmn:{kind}></bpmn:timerEventDefinition>')


@dataclass
class Message:
    name: str

    def xml(self, definitions: "Definitions") -> str:
        return f'<bpmn:messageEventDefinition messageRef="{definitions.message(self.name)}"/>'


@dataclass
class Error:
    code: str | None = None

    def xml(self, definitions: "Definitions") -> str:
        if self.code is None:
            return "<bpmn:errorEventDefinition/>"
        return f'<bpmn:errorEventDefinition errorRef="{definitions.error(self.code)}"/>'


@dataclass
class Escalation:
    code: str | None = None

    def xml(self, definitions: "Definitions") -> str:
        if self.code is None:
            return "<bpmn:escalationEventDefinition/>"
        return f'<bpmn:escalationEventDefinition escalationRef="{definitions.escalation(self.code)}"/>'


@dataclass
class Signal:
    name: str

    def xml(self, definitions: "Definitions") -> str:
        return f'<bpmn:signalEventDefinition signalRef="{definitions.signal(self.name)}"/>'


@dataclass
class Terminate:
    def xml(self, definitions: "Definitions") -> str:
        return "<bpmn:terminateEventDefinition/>"


# -- loops --------------------------------------------------------------------------------------
@dataclass
class MI:
    """Multi-instance: Camunda style (`collection`/`element`) or standard BPMN data references."""
    sequential: bool = False
    collection: str | None = None       # camunda:collection
    element: str | None = None          # camunda:elementVariable
    cardinality: str | None = None      # loopCardinality
    input: str | None = None            # loopDataInputRef
    input_item: str | None = None       # inputDataItem
    output: str | None = None           # loopDataOutputRef
    output_item: str | None = None      # outputDataItem
    condition: str | None = None        # completionCondition

    def xml(self) -> str:
        attrs = ' isSequential="true"' if self.sequential else ""
        if self.collection:
            attrs += f' camunda:collection="{self.collection}"'
        if self.element:
            attrs += f' camunda:elementVariable="{self.element}"'
        body = ""
        if self.cardinality is not None:
            body += f'<bpmn:loopCardinality xsi:type="bpmn:tFormalExpression">{escape(self.cardinality)}</bpmn:loopCardinality>'
        if self.input:
            body += f"<bpmn:loopDataInputRef>{self.input}</bpmn:loopDataInputRef>"
        if self.output:
            body += f"<bpmn:loopDataOutputRef>{self.output}</bpmn:loopDataOutputRef>"
        if self.input_item:
            body += f'<bpmn:inputDataItem id="{self.input_item}" name="{self.input_item}"/>'
        if self.output_item:
            body += f'<bpmn:outputDataItem id="{self.output_item}" name="{self.output_item}"/>'
        if self.condition:
            body += f'<bpmn:completionCondition xsi:type="bpmn:tFormalExpression">{escape(self.condition)}</bpmn:completionCondition>'
        return f"<bpmn:multiInstanceLoopCharacteristics{attrs}>{body}</bpmn:multiInstanceLoopCharacteristics>"


@dataclass
class Loop:
    """Standard loop: repeat while `condition` holds (tested after each run unless `before`)."""
    condition: str
    maximum: int | None = None
    before: bool = False

    def xml(self) -> str:
        attrs = ' testBefore="true"' if self.before else ""
        if self.maximum is not None:
            attrs += f' loopMaximum="{self.maximum}"'
        return (f'<bpmn:standardLoopCharacteristics{attrs}><bpmn:loopCondition xsi:type="bpmn:tFormalExpression">'
                f'{escape(self.condition)}</bpmn:loopCondition></bpmn:standardLoopCharacteristics>')


# -- nodes --------------------------------------------------------------------------------------
@dataclass
class Node:
    tag: str
    id: str
    name: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    loop: MI | Loop | None = None
    event: Any = None
    script: str | None = None
    body: "Container | None" = None  # embedded / event subprocess
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)

    def xml(self, definitions: "Definitions") -> str:
        attrs = f' id="{self.id}"'
        if self.name is not None:
            attrs += f" name={quoteattr(self.name)}"
        for key, value in self.attrs.items():
            attrs += f" {key}={quoteattr(value)}"
        parts = []
        if self.properties:
            props = "".join(f"<camunda:property name={quoteattr(k)} value={quoteattr(v)}/>"
                            for k, v in self.properties.items())
            parts.append(f"<bpmn:extensionElements><camunda:properties>{props}</camunda:properties>"
                         "</bpmn:extensionElements>")
        parts += [f"<bpmn:incoming>{f}</bpmn:incoming>" for f in self.incoming]
        parts += [f"<bpmn:outgoing>{f}</bpmn:outgoing>" for f in self.outgoing]
        if self.loop is not None:
            parts.append(self.loop.xml())
        if self.script is not None:
            parts.append(f"<bpmn:script>{escape(self.script)}</bpmn:script>")
        if self.event is not None:
            parts.append(self.event.xml(definitions))
        if self.body is not None:
            parts.append(self.body.xml(definitions))
        return f"<bpmn:{self.tag}{attrs}>" + "".join(parts) + f"</bpmn:{self.tag}>"


@dataclass
class Flow:
    id: str
    source: str
    target: str
    condition: str | None = None
    name: str | None = None

    def xml(self) -> str:
        name = f" name={quoteattr(self.name)}" if self.name else ""
        head = f'<bpmn:sequenceFlow id="{self.id}"{name} sourceRef="{self.source}" targetRef="{self.target}"'
        if self.condition is None:
            return head + "/>"
        return (head + f'><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(self.condition)}'
                "</bpmn:conditionExpression></bpmn:sequenceFlow>")


class Container:
    """A process or a subprocess: nodes and the flows between them."""

    def __init__(self, definitions: "Definitions", prefix: str = "") -> None:
        self.definitions = definitions
        self.nodes: dict[str, Node] = {}
        self.flows: list[Flow] = []
        self.lanes: dict[str, list[str]] = {}
        self.prefix = prefix

    def _add(self, node: Node) -> Node:
        assert node.id not in self.nodes, node.id
        self.nodes[node.id] = node
        return node

    # events
    def start(self, id: str, event: Any = None, interrupting: bool | None = None, name: str | None = None) -> Node:
        attrs = {} if interrupting is None else {"isInterrupting": "true" if interrupting else "false"}
        return self._add(Node("startEvent", id, name, attrs, event=event))

    def end(self, id: str, event: Any = None, name: str | None = None) -> Node:
        return self._add(Node("endEvent", id, name, event=event))

    def catch(self, id: str, event: Any, name: str | None = None) -> Node:
        return self._add(Node("intermediateCatchEvent", id, name, event=event))

    def throw(self, id: str, event: Any = None, name: str | None = None) -> Node:
        return self._add(Node("intermediateThrowEvent", id, name, event=event))

    def boundary(self, id: str, attached: str, event: Any, cancel: bool = True, name: str | None = None) -> Node:
        attrs = {"attachedToRef": attached}
        if not cancel:
            attrs["cancelActivity"] = "false"
        return self._add(Node("boundaryEvent", id, name, attrs, event=event))

    # activities
    def user(self, id: str, name: str | None = None, form: str | None = None, groups: str | None = None,
             properties: dict[str, str] | None = None, loop: MI | Loop | None = None) -> Node:
        attrs = {}
        if groups:
            attrs["camunda:candidateGroups"] = groups
        if form:
            attrs["camunda:formKey"] = form
        return self._add(Node("userTask", id, name, attrs, properties or {}, loop=loop))

    def script(self, id: str, code: str, name: str | None = None, loop: MI | Loop | None = None) -> Node:
        return self._add(Node("scriptTask", id, name, {"scriptFormat": "python"}, loop=loop, script=code))

    def task(self, id: str, name: str | None = None, loop: MI | Loop | None = None) -> Node:
        return self._add(Node("task", id, name, loop=loop))

    def manual(self, id: str, name: str | None = None) -> Node:
        return self._add(Node("manualTask", id, name))

    def call(self, id: str, called: str, name: str | None = None, loop: MI | Loop | None = None) -> Node:
        return self._add(Node("callActivity", id, name, {"calledElement": called}, loop=loop))

    def subprocess(self, id: str, name: str | None = None, triggered: bool = False,
                   loop: MI | Loop | None = None) -> "Container":
        body = Container(self.definitions)
        attrs = {"triggeredByEvent": "true"} if triggered else {}
        self._add(Node("subProcess", id, name, attrs, loop=loop, body=body))
        return body

    # gateways
    def gateway(self, kind: str, id: str, default: str | None = None, name: str | None = None) -> Node:
        attrs = {"default": default} if default else {}
        return self._add(Node(f"{kind}Gateway", id, name, attrs))

    # flows
    def flow(self, source: str, target: str, condition: str | None = None, id: str | None = None,
             name: str | None = None) -> str:
        flow_id = id or f"{self.prefix}F_{source}_{target}"
        assert all(f.id != flow_id for f in self.flows), flow_id
        self.flows.append(Flow(flow_id, source, target, condition, name))
        return flow_id

    def chain(self, *ids: str) -> None:
        for a, b in zip(ids, ids[1:]):
            self.flow(a, b)

    def lane(self, name: str, *ids: str) -> None:
        self.lanes[name] = list(ids)

    def xml(self, definitions: "Definitions") -> str:
        for node in self.nodes.values():
            node.incoming, node.outgoing = [], []
        for flow in self.flows:
            self.nodes[flow.source].outgoing.append(flow.id)
            self.nodes[flow.target].incoming.append(flow.id)
        parts = []
        if self.lanes:
            lanes = "".join(
                f'<bpmn:lane id="Lane_{i}" name={quoteattr(name)}>'
                + "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs) + "</bpmn:lane>"
                for i, (name, refs) in enumerate(self.lanes.items()))
            first = next(iter(self.lanes.values()))[0]
            parts.append(f'<bpmn:laneSet id="LaneSet_{first}">{lanes}</bpmn:laneSet>')
        parts += [node.xml(definitions) for node in self.nodes.values()]
        parts += [flow.xml() for flow in self.flows]
        return "\n".join(parts)


class Definitions:
    """One BPMN file: processes plus the messages, errors, escalations and signals they use."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.processes: dict[str, Container] = {}
        self._messages: dict[str, str] = {}
        self._errors: dict[str, str] = {}
        self._escalations: dict[str, str] = {}
        self._signals: dict[str, str] = {}
        self.participants: list[tuple[str, str]] = []

    def process(self, id: str, name: str | None = None) -> Container:
        container = Container(self)
        container.process_name = name or id  # type: ignore[attr-defined]
        self.processes[id] = container
        return container

    def message(self, name: str) -> str:
        return self._messages.setdefault(name, f"Msg_{len(self._messages)}")

    def error(self, code: str) -> str:
        return self._errors.setdefault(code, f"Err_{len(self._errors)}")

    def escalation(self, code: str) -> str:
        return self._escalations.setdefault(code, f"Esc_{len(self._escalations)}")

    def signal(self, name: str) -> str:
        return self._signals.setdefault(name, f"Sig_{len(self._signals)}")

    def xml(self) -> bytes:
        bodies = [(pid, c.process_name, c.xml(self)) for pid, c in self.processes.items()]  # type: ignore[attr-defined]
        roots = []
        roots += [f'<bpmn:message id="{i}" name={quoteattr(n)}/>' for n, i in self._messages.items()]
        roots += [f'<bpmn:error id="{i}" name={quoteattr(c)} errorCode={quoteattr(c)}/>' for c, i in self._errors.items()]
        roots += [f'<bpmn:escalation id="{i}" name={quoteattr(c)} escalationCode={quoteattr(c)}/>'
                  for c, i in self._escalations.items()]
        roots += [f'<bpmn:signal id="{i}" name={quoteattr(n)}/>' for n, i in self._signals.items()]
        for pid, name, body in bodies:
            roots.append(f'<bpmn:process id="{pid}" name={quoteattr(name)} isExecutable="true">\n{body}\n</bpmn:process>')
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}" xmlns:xsi="{XSI}" '
                f'id="Defs_{self.name}" targetNamespace="https://onewindow.example/differential">\n'
                + "\n".join(roots) + "\n</bpmn:definitions>\n").encode()
