"""Turn a validated BPMN document into SpiffWorkflow specs plus the task metadata we route by.

Process designers use Camunda Modeler or bpmn.io, so we read what those tools write:
`camunda:candidateGroups` (the department, literal or `${expression}`), `camunda:assignee`,
`camunda:formKey`, and `camunda:properties` (e.g. `time_limit`, `stage`, `item`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.parser.event_parsers import ReceiveTaskParser, SendTaskParser
from SpiffWorkflow.bpmn.specs.defaults import ReceiveTask, SendTask
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import CamundaEventDefinitionParser
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.domain.bpmn import external_task_spec, timer_events
from engine.domain.bpmn.standard_multi_instance import with_standard_multi_instance
from engine.domain.dmn.business_rule_task import DecisionTask, DecisionTaskParser
from engine.errors import InvalidDefinition

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}

_CAMUNDA_ATTRIBUTES = ("candidateGroups", "candidateUsers", "assignee", "formKey", "dueDate")


class _CamundaSendTaskParser(CamundaEventDefinitionParser, SendTaskParser):
    """Send/receive tasks with Camunda's message definitions, like every other message element
    (SpiffWorkflow's Camunda parser leaves them to the plain BPMN parser, whose message
    definition its Camunda serializer cannot store)."""

    def create_task(self):  # type: ignore[no-untyped-def]
        return SendTaskParser.create_task(self)


class _CamundaReceiveTaskParser(CamundaEventDefinitionParser, ReceiveTaskParser):
    def create_task(self):  # type: ignore[no-untyped-def]
        return ReceiveTaskParser.create_task(self)


class OneWindowParser(CamundaParser):
    """SpiffWorkflow's Camunda parser, also reading BPMN-standard multi-instance data input/output
    (see `engine.domain.bpmn.multi_instance`) and Camunda messages on send and receive tasks."""

    OVERRIDE_PARSER_CLASSES = {
        tag: ((with_standard_multi_instance(parser), spec) if issubclass(parser, TaskParser) else (parser, spec))
        for tag, (parser, spec) in {
            **BpmnParser.PARSER_CLASSES, **CamundaParser.OVERRIDE_PARSER_CLASSES,
            f"{{{BPMN_NS}}}sendTask": (_CamundaSendTaskParser, SendTask),
            f"{{{BPMN_NS}}}receiveTask": (_CamundaReceiveTaskParser, ReceiveTask),
            f"{{{BPMN_NS}}}businessRuleTask": (DecisionTaskParser, DecisionTask),  # engine.domain.dmn
        }.items()
    }


external_task_spec.install(OneWindowParser.OVERRIDE_PARSER_CLASSES)  # camunda:type="external"
timer_events.install(OneWindowParser.OVERRIDE_PARSER_CLASSES)  # timers on the runtime clock, Beijing time


@dataclass
class ParsedFile:
    """Everything deploy needs from one file: one entry per executable process."""

    specs: dict[str, BpmnProcessSpec] = field(default_factory=dict)
    subprocess_specs: dict[str, dict[str, BpmnProcessSpec]] = field(default_factory=dict)
    names: dict[str, str | None] = field(default_factory=dict)
    elements: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def _other_form_key(node: etree._Element) -> str | None:
    """A form key written by other modelers: `flowable:formKey`/`activiti:formKey` on the task, or
    a `formKey` attribute of an extension element (Camunda 8's `zeebe:formDefinition`)."""
    for name, value in node.attrib.items():
        if etree.QName(name).localname == "formKey" and value.strip():
            return value.strip()
    for extension in node.iterfind("bpmn:extensionElements/*", NS):
        value = extension.get("formKey") if isinstance(extension.tag, str) else None
        if value and value.strip():
            return value.strip()
    return None


def element_metadata(process: etree._Element) -> dict[str, dict[str, Any]]:
    """Collect per-element routing and form attributes, keyed by element id."""
    found: dict[str, dict[str, Any]] = {}
    lanes: dict[str, str] = {}
    for lane in process.iterfind(".//bpmn:lane", NS):
        lane_name = lane.get("name") or lane.get("id")
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if ref.text:
                lanes[ref.text.strip()] = lane_name
    for node in process.iter():
        node_id = node.get("id") if isinstance(node.tag, str) else None
        if not node_id:
            continue
        meta: dict[str, Any] = {}
        for attribute in _CAMUNDA_ATTRIBUTES:
            value = node.get(f"{{{CAMUNDA_NS}}}{attribute}")
            if value:
                meta[attribute] = value.strip()
        if "formKey" not in meta:
            other_key = _other_form_key(node)
            if other_key:
                meta["formKey"] = other_key
        properties = {
            prop.get("name"): prop.get("value")
            for prop in node.findall("bpmn:extensionElements/camunda:properties/camunda:property", NS)
            if prop.get("name")
        }
        if properties:
            meta["properties"] = properties
        if node_id in lanes:
            meta["lane"] = lanes[node_id]
        if meta:
            meta["line"] = node.sourceline
            found[node_id] = meta
    return found


def problem_from(error: ValidationException, filename: str,
                 trees: dict[str, etree._ElementTree] | None = None) -> str:
    """`file:line: element: message` for a SpiffWorkflow validation error; SpiffWorkflow often
    knows the element but not its line, which is then looked up in the file's tree."""
    name = error.file_name or filename
    line = error.line_number or None
    tree = (trees or {}).get(name)
    if not line and error.id and tree is not None:
        for node in tree.getroot().iter():
            if isinstance(node.tag, str) and node.get("id") == error.id:
                line = node.sourceline
                break
    where = f"{name}:{line}" if line else name
    what = f"{error.tag.replace('bpmn:', '')} {error.id}".strip() if error.tag else ""
    message = str(error).splitlines()[0].strip() if str(error) else type(error).__name__
    return f"{where}: {what}: {message}" if what else f"{where}: {message}"


def parse_specs(tree: etree._ElementTree, filename: str,
                dependencies: list[tuple[etree._ElementTree, str]] = (),
                decisions: dict[str, Any] | None = None) -> ParsedFile:
    """Build specs for every executable process in `tree`, reporting a problem for each process
    SpiffWorkflow refuses (not only the first).

    `dependencies` are other files (of the same upload, or deployed before) whose processes may
    be the targets of call activities; their specs are embedded as subprocess specs, pinned at
    deploy time, and the routing/form metadata of their elements travels with them.
    `decisions` (decision id → DMN decision table) are the tables business rule tasks may use.
    """
    parser = OneWindowParser()
    parser.decision_tables = decisions or {}
    parsed = ParsedFile()
    trees = {filename: tree}
    try:
        parser.add_bpmn_xml(tree, filename)
    except ValidationException as error:
        raise InvalidDefinition([problem_from(error, filename, trees)]) from error
    except SpiffWorkflowException as error:
        raise InvalidDefinition([f"{filename}: {str(error).splitlines()[0]}"]) from error
    own_ids = list(parser.get_process_ids())
    processes: dict[str, etree._Element] = {}
    for dep_tree, dep_name in dependencies:
        try:
            parser.add_bpmn_xml(dep_tree, dep_name)
        except ValidationException:
            continue  # a same-id process in the new file wins; ignore the old copy
        trees.setdefault(dep_name, dep_tree)
        for process in dep_tree.getroot().iterfind("bpmn:process", NS):
            processes.setdefault(process.get("id"), process)
    own = {p.get("id"): p for p in tree.getroot().iterfind("bpmn:process", NS)}
    processes.update(own)
    executable = [pid for pid in own_ids
                  if own.get(pid) is not None and own[pid].get("isExecutable", "true") != "false"]
    problems: list[str] = []
    for process_id in executable:
        try:
            spec = parser.get_spec(process_id)
            subprocess_specs = parser.get_subprocess_specs(process_id)
        except ValidationException as error:
            problems.append(problem_from(error, filename, trees))
            continue
        except SpiffWorkflowException as error:
            problems.append(f"{filename}:{own[process_id].sourceline}: process {process_id}: "
                            f"{str(error).splitlines()[0]}")
            continue
        parsed.specs[process_id] = spec
        parsed.subprocess_specs[process_id] = subprocess_specs
        parsed.names[process_id] = own[process_id].get("name")
        elements = element_metadata(own[process_id])
        for sub_id in subprocess_specs:
            sub = processes.get(sub_id)
            if sub is not None and sub_id != process_id:
                elements = {**element_metadata(sub), **elements}
        parsed.elements[process_id] = elements
    if problems:
        raise InvalidDefinition(list(dict.fromkeys(problems)))
    if not parsed.specs:
        raise InvalidDefinition([f"{filename}: no executable process (isExecutable=\"true\")"])
    return parsed
