"""Deploy-time checks on a BPMN tree that passed the XML gate (`engine.domain.bpmn.validation`).

Each check returns every problem it finds as `file:line: element: message` (see
`validation.format_problem`), so a deploy reports all of a file's problems at once. None of
them needs SpiffWorkflow: they run before it parses, on the tree as the designer wrote it.
"""
from __future__ import annotations

import ast
from datetime import datetime
from typing import Any, Iterable

from lxml import etree

from engine.domain import expressions
from engine.domain import routing
from engine.domain.bpmn import timer_values
from engine.domain.bpmn.value_checks import MAX_INSTANCES, MAX_LOOPS
from engine.domain.bpmn.parser import BPMN_NS, CAMUNDA_NS, element_metadata
from engine.domain.bpmn.validation import format_problem
from engine.domain.bpmn import external_task_spec
from engine.domain import group_aliases

# Elements whose text is an expression, and how it is evaluated.
EXPRESSION_ELEMENTS = {
    "conditionExpression": "eval",
    "script": "exec",
    "timeDate": "eval",
    "timeDuration": "eval",
    "timeCycle": "eval",
    "loopCardinality": "eval",
    "completionCondition": "eval",
}
# SpiffWorkflow names its own internal task specs so; a BPMN element with one of these ids breaks it.
RESERVED_IDS = ("Start", "End", "Root")


def owner(node: etree._Element) -> etree._Element:
    """The nearest element with an id (the flow element an expression or definition belongs to)."""
    found = node
    while found is not None and not found.get("id"):
        found = found.getparent()
    return found if found is not None else node


def _bpmn_nodes(tree: etree._ElementTree, local: str) -> Iterable[etree._Element]:
    return tree.getroot().iter(f"{{{BPMN_NS}}}{local}")


def reserved_id_problems(tree: etree._ElementTree, filename: str) -> list[str]:
    return [format_problem(filename, node, f"the id '{node.get('id')}' is reserved by the engine; "
                                           f"rename it (e.g. '{node.get('id')}Event')")
            for node in tree.getroot().iter() if isinstance(node.tag, str) and node.get("id") in RESERVED_IDS]


def expression_problems(tree: etree._ElementTree, filename: str) -> list[str]:
    """Every expression that would leave the sandbox or cannot be compiled, naming element and line."""
    problems = []
    for local, mode in EXPRESSION_ELEMENTS.items():
        for node in _bpmn_nodes(tree, local):
            text = (node.text or "").strip()
            if not text or (local.startswith("time")
                            and timer_values.literal_of(text, expressions.ISO_TIMER_LITERAL) is not None):
                continue  # fixed timer values are checked by timer_problems
            try:
                expressions.check(text, mode)
            except expressions.ExpressionError as error:
                problems.append(format_problem(filename, owner(node), f"{local}: {error}", line=node.sourceline))
    for node in tree.getroot().iter():
        if not isinstance(node.tag, str):
            continue
        for attribute in ("candidateGroups", "assignee", "collection"):
            value = node.get(f"{{{CAMUNDA_NS}}}{attribute}") or ""
            if routing.is_expression(value):
                try:
                    expressions.check(routing.expression_of(value), "eval")
                except expressions.ExpressionError as error:
                    problems.append(format_problem(filename, node, f"{attribute}: {error}"))
    return problems


def timer_problems(tree: etree._ElementTree, filename: str, now: datetime) -> list[str]:
    """Fixed timer values that are malformed or out of bounds (see `engine.domain.bpmn.timer_values`).
    Values computed from case data are checked when the timer starts."""
    problems = []
    for definition in _bpmn_nodes(tree, "timerEventDefinition"):
        values = [child for child in definition
                  if isinstance(child.tag, str) and etree.QName(child).localname in timer_values.KINDS]
        event = owner(definition.getparent() if definition.getparent() is not None else definition)
        if not values or not (values[0].text or "").strip():
            problems.append(format_problem(filename, event, "timer has no timeDate, timeDuration or timeCycle "
                                                            "value", line=definition.sourceline))
            continue
        node = values[0]
        kind = etree.QName(node).localname
        literal = timer_values.literal_of(node.text or "", expressions.ISO_TIMER_LITERAL)
        if literal is None:
            continue
        try:
            timer_values.check_value(kind, literal, now)
        except timer_values.TimerValueError as error:
            problems.append(format_problem(filename, event, f"{kind}: {error}", line=node.sourceline))
    return problems


def service_task_problems(tree: etree._ElementTree, filename: str) -> list[str]:
    """Service, send and business rule tasks that a worker carries out (`engine.domain.bpmn.
    external_task_spec`) need `camunda:type="external"` and a `camunda:topic`. Java delegates
    (`camunda:class`, `camunda:expression`, `camunda:delegateExpression`) and connectors
    (`camunda:connector`) cannot run here, and a service task with no implementation at all is
    refused as Camunda 7 refuses it (it could never do anything); send tasks without one keep
    throwing their message, business rule tasks without one are DMN's (`business_rule_problems`)."""
    problems = []
    use = 'use camunda:type="external" camunda:topic="..." and a worker instead (docs/integrators.md)'
    for local in external_task_spec.EXTERNAL_CAPABLE:
        for node in _bpmn_nodes(tree, local):
            java = [a for a in JAVA_ATTRIBUTES
                    if node.get(f"{{{CAMUNDA_NS}}}{a}") is not None]
            connector = node.find(f"{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_NS}}}connector")
            kind = (node.get(f"{{{CAMUNDA_NS}}}type") or "").strip()
            if java:
                problems.append(format_problem(filename, node, f"camunda:{java[0]} (Java code) cannot run here; {use}"))
            elif connector is not None:
                problems.append(format_problem(filename, node, f"camunda:connector cannot run here; {use}"))
            elif kind and kind != "external":
                problems.append(format_problem(filename, node, f"camunda:type=\"{kind[:40]}\" is not supported; {use}"))
            elif kind == "external":
                problems += _external_problems(node, filename)
            elif local == "serviceTask":
                problems.append(format_problem(filename, node, f"a service task needs an implementation; {use}"))
    return problems


def _external_problems(node: etree._Element, filename: str) -> list[str]:
    """An external task's topic and priority, as the `external_tasks` columns keep them."""
    problems = []
    topic = external_task_spec.topic_of(node)
    if not topic:
        problems.append(format_problem(filename, node, 'camunda:type="external" needs a camunda:topic '
                                                       '(the name workers fetch the task by)'))
    elif len(topic) > MAX_TOPIC or routing.is_expression(topic):
        problems.append(format_problem(filename, node, f"camunda:topic must be a plain name of at most "
                                                       f"{MAX_TOPIC} characters"))
    priority = (node.get(f"{{{CAMUNDA_NS}}}taskPriority") or "").strip()
    if priority and not (priority.lstrip("-").isdigit() and len(priority) < 10):
        problems.append(format_problem(filename, node, f"camunda:taskPriority '{priority[:20]}' must be a "
                                                       f"whole number"))
    return problems


MAX_TOPIC = 255


def business_rule_problems(tree: etree._ElementTree, filename: str) -> list[str]:
    """A business rule task runs a DMN decision (`camunda:decisionRef`, engine.domain.dmn) or is
    carried out by a worker (`camunda:type="external"`); without either it has nothing to run."""
    return [format_problem(filename, node, "a business rule task needs camunda:decisionRef naming a DMN "
                                           "decision deployed with it (or camunda:type=\"external\")")
            for node in _bpmn_nodes(tree, "businessRuleTask")
            if node.get(f"{{{CAMUNDA_NS}}}decisionRef") is None and not external_task_spec.is_external(node)
            and not any(node.get(f"{{{CAMUNDA_NS}}}{java}") is not None for java in JAVA_ATTRIBUTES)]


#: Java implementations `service_task_problems` refuses (one problem per element is enough).
JAVA_ATTRIBUTES = ("class", "delegateExpression", "expression")


def loop_problems(tree: etree._ElementTree, filename: str) -> list[str]:
    """Fixed loop bounds beyond what one case may run: a `loopMaximum` over `MAX_LOOPS`, a
    literal `loopCardinality` over `MAX_INSTANCES` (computed ones are checked at run time)."""
    problems = []
    for loop in _bpmn_nodes(tree, "standardLoopCharacteristics"):
        raw = (loop.get("loopMaximum") or "").strip()
        if raw and (not raw.lstrip("-").isdigit() or len(raw) > 9 or int(raw) > MAX_LOOPS):
            problems.append(format_problem(filename, owner(loop.getparent()), f"loopMaximum '{raw[:20]}' must be "
                                           f"a whole number of at most {MAX_LOOPS}", line=loop.sourceline))
    for node in _bpmn_nodes(tree, "loopCardinality"):
        text = (node.text or "").strip()
        try:
            value = ast.literal_eval(text) if len(text) < 30 else None
        except (ValueError, SyntaxError, RecursionError, MemoryError, TypeError):
            value = None
        if (isinstance(value, int) and not isinstance(value, bool) and value > MAX_INSTANCES) or \
                (value is None and text.isdigit()):
            problems.append(format_problem(filename, owner(node), f"loopCardinality {text[:20]}: a multi-instance "
                                           f"creates at most {MAX_INSTANCES} instances", line=node.sourceline))
    return problems


def call_cycle_problems(tree: etree._ElementTree, filename: str,
                        others: Iterable[etree._ElementTree] = ()) -> list[str]:
    """Call activities that lead back to a process on the call path: each call would start a
    new copy of the process for ever (`others`: the files of the called processes)."""
    calls: dict[str, list[tuple[str, etree._Element, bool]]] = {}
    for document in (*others, tree):
        for process in document.getroot().iterfind(f"{{{BPMN_NS}}}process"):
            calls[process.get("id")] = [((c.get("calledElement") or "").strip(), c, document is tree)
                                        for c in process.iter(f"{{{BPMN_NS}}}callActivity")]
    problems = []
    for process in tree.getroot().iterfind(f"{{{BPMN_NS}}}process"):
        path, via = [process.get("id")], []  # via[i]: the call from path[i] to path[i + 1]

        def walk(key: str) -> None:
            for target, node, own in calls.get(key, []):
                if target in path:
                    steps = via[path.index(target):] + [(node, own)]
                    where = next((n for n, o in steps + via if o), None)
                    cycle = " → ".join(path[path.index(target):] + [target])
                    problems.append(format_problem(filename, where, f"calls into a cycle ({cycle}); each call "
                                                   f"would start another copy for ever, so recursive calls are "
                                                   f"not supported"))
                elif target in calls and len(path) < 50:
                    path.append(target)
                    via.append((node, own))
                    walk(target)
                    path.pop()
                    via.pop()
        walk(path[0])
    return list(dict.fromkeys(problems))


def _elements(tree: etree._ElementTree) -> Iterable[tuple[etree._Element, dict[str, Any]]]:
    """(node, routing/form metadata) of every element of every process in the file."""
    for process in tree.getroot().iterfind(f"{{{BPMN_NS}}}process"):
        nodes = {n.get("id"): n for n in process.iter() if isinstance(n.tag, str) and n.get("id")}
        for element_id, meta in element_metadata(process).items():
            yield nodes.get(element_id), meta


# What the database keeps of an element, and how much of it (the columns' widths).
MAX_ID = 255  # process keys, element ids
MAX_NAME = 255  # process, task and lane names
_MAX_META = {"formKey": 120, "assignee": 120}
_MAX_PROPERTY = {"time_limit": 60, "stage": 120}


def length_problems(tree: etree._ElementTree, filename: str) -> list[str]:
    """Ids, names and task attributes longer than the database keeps (PostgreSQL refuses them)."""
    problems = []
    for node in tree.getroot().iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN_NS:
            continue
        if len(node.get("id") or "") > MAX_ID:
            problems.append(format_problem(filename, None, f"{etree.QName(node).localname}: the id "
                                           f"'{node.get('id')[:40]}...' is longer than {MAX_ID} characters",
                                           line=node.sourceline))
        elif len(node.get("name") or "") > MAX_NAME:
            problems.append(format_problem(filename, node, f"the name is longer than {MAX_NAME} characters"))
    for node, meta in _elements(tree):
        for key, limit in _MAX_META.items():
            value = meta.get(key) or ""
            if len(value) > limit and not (key == "assignee" and routing.is_expression(value)):
                problems.append(format_problem(filename, node, f"{key} is longer than {limit} characters"))
        for key, limit in _MAX_PROPERTY.items():
            value = (meta.get("properties") or {}).get(key) or ""
            if len(value) > limit and not routing.is_expression(value):
                problems.append(format_problem(filename, node, f"property {key} is longer than {limit} characters"))
        if len(meta.get("lane") or "") > MAX_NAME:
            problems.append(format_problem(filename, node, f"its lane's name is longer than {MAX_NAME} characters"))
    return list(dict.fromkeys(problems))


def department_problems(tree: etree._ElementTree, filename: str, organisation: Any) -> list[str]:
    """Literal candidate groups and lanes that name no known department."""
    problems = []
    for node, meta in _elements(tree):
        for code in routing.literal_departments(meta):
            if not organisation.is_known(code):
                problems.append(format_problem(filename, node, group_aliases.unknown_group_message(code, organisation)))
        lane = meta.get("lane")
        if lane and not meta.get("candidateGroups") and routing.lane_department(lane, organisation) is None:
            problems.append(format_problem(filename, node, f"lane '{lane}' is not a known department "
                                                           f"(name it by code or by name)"))
    return problems


def form_key_warnings(tree: etree._ElementTree, filename: str, forms: Any) -> list[str]:
    """Form keys that name no form in the form registry. Not an error: as in Camunda, such a key
    is opaque, for the client to resolve (an embedded form, an external page); the engine then
    accepts the task's data as it is, unvalidated."""
    warnings = []
    for node, meta in _elements(tree):
        key = meta.get("formKey")
        if key and key not in forms:
            warnings.append(format_problem(
                filename, node,
                f"formKey '{key}' names no deployed form; it is passed to the client as it is "
                f"and the task's data is accepted unvalidated"))
    return warnings
