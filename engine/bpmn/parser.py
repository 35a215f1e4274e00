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
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.bpmn.multi_instance import with_standard_multi_instance
from engine.errors import InvalidDefinition

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}

_CAMUNDA_ATTRIBUTES = ("candidateGroups", "candidateUsers", "assignee", "formKey", "dueDate")


class OneWindowParser(CamundaParser):
    """SpiffWorkflow's Camunda parser, also reading BPMN-standard multi-instance data input/output
    (see `engine.bpmn.multi_instance`)."""

    OVERRIDE_PARSER_CLASSES = {
        tag: ((with_standard_multi_instance(parser), spec) if issubclass(parser, TaskParser) else (parser, spec))
        for tag, (parser, spec) in {**BpmnParser.PARSER_CLASSES, **CamundaParser.OVERRIDE_PARSER_CLASSES}.items()
    }


@dataclass
class ParsedFile:
    """Everything deploy needs from one file: one entry per executable process."""

    specs: dict[str, BpmnProcessSpec] = field(default_factory=dict)
    subprocess_specs: dict[str, dict[str, BpmnProcessSpec]] = field(default_factory=dict)
    names: dict[str, str | None] = field(default_factory=dict)
    elements: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


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


def problem_from(error: ValidationException, filename: str) -> str:
    where = f"{error.file_name or filename}:{error.line_number or '?'}"
    what = f"{error.tag.replace('bpmn:', '')} {error.id}".strip() if error.tag else ""
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"{where}: {what}: {message}" if what else f"{where}: {message}"


def parse_specs(tree: etree._ElementTree, filename: str,
                dependencies: list[tuple[etree._ElementTree, str]] = ()) -> ParsedFile:
    """Build specs for every executable process in `tree`.

    `dependencies` are other deployed files whose processes may be the targets of call
    activities; their specs are embedded as subprocess specs, pinned at deploy time.
    """
    parser = OneWindowParser()
    parsed = ParsedFile()
    try:
        parser.add_bpmn_xml(tree, filename)
        own_ids = list(parser.get_process_ids())
        for dep_tree, dep_name in dependencies:
            try:
                parser.add_bpmn_xml(dep_tree, dep_name)
            except ValidationException:
                continue  # a same-id process in the new file wins; ignore the old copy
        root = tree.getroot()
        processes = {p.get("id"): p for p in root.iterfind("bpmn:process", NS)}
        executable = [pid for pid in own_ids
                      if processes.get(pid) is not None
                      and processes[pid].get("isExecutable", "true") != "false"]
        for process_id in executable:
            parsed.specs[process_id] = parser.get_spec(process_id)
            parsed.subprocess_specs[process_id] = parser.get_subprocess_specs(process_id)
            parsed.names[process_id] = processes[process_id].get("name")
            elements = element_metadata(processes[process_id])
            for sub_id in parsed.subprocess_specs[process_id]:
                sub = processes.get(sub_id)
                if sub is not None:
                    elements.update(element_metadata(sub))
            parsed.elements[process_id] = elements
    except ValidationException as error:
        raise InvalidDefinition([problem_from(error, filename)]) from error
    except SpiffWorkflowException as error:
        raise InvalidDefinition([f"{filename}: {error}"]) from error
    if not parsed.specs:
        raise InvalidDefinition([f"{filename}: no executable process (isExecutable=\"true\")"])
    return parsed
