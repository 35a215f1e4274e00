"""Read a DMN file (1.1, 1.2 or 1.3, as Camunda Modeler writes them) into decision tables.

The file has already passed the same hardened XML parse as BPMN (`engine.domain.bpmn.validation.
parse_xml`: no DTD, no entities, no network). Here it is checked against the DMN XSD of its
version (loaded from the schema files SpiffWorkflow ships, never fetched), and every decision
table is turned into SpiffWorkflow's DMN model (`SpiffWorkflow.dmn.specs.model`) with each cell
translated by `engine.domain.dmn.feel`, so the tables stored with a process version hold only
expressions our evaluator accepts. Every problem of the file is reported at once as
`file:line: element id: message`.

Why not SpiffWorkflow's own `DMNParser`: it reads only the first decision of a file, knows two
hit policies, and keeps cells as Python text for `eval`; Camunda Modeler files routinely hold
several decisions and are written in FEEL.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import SpiffWorkflow.dmn.parser as _spiff_dmn_parser
from lxml import etree
from SpiffWorkflow.dmn.specs.model import DecisionTable, Input, InputEntry, Output, OutputEntry, Rule

from engine.domain.bpmn.validation import format_problem
from engine.domain.dmn import feel

# Namespace → DMN version (Camunda Modeler writes 1.3; older ones 1.1 and 1.2).
DMN_NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "http://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
}
_SCHEMA_FILES = {"1.1": "DMN.xsd", "1.3": "DMN13.xsd"}  # SpiffWorkflow's DMN12.xsd does not compile
_LOCAL_SCHEMAS = frozenset({"DMN.xsd", "DMN12.xsd", "DMN13.xsd", "DMNDI12.xsd", "DMNDI13.xsd", "DC.xsd"})
SCHEMA_DIR = os.path.join(os.path.dirname(_spiff_dmn_parser.__file__), "schema")

CAMUNDA_DMN_NS = "http://camunda.org/schema/1.0/dmn"
HIT_POLICIES = ("UNIQUE", "FIRST", "ANY", "COLLECT", "RULE ORDER")
AGGREGATIONS = ("SUM", "COUNT", "MIN", "MAX")
MAX_RULES = 5000
MAX_COLUMNS = 100


@dataclass
class DecisionFile:
    """The decision tables of one DMN file, by decision id, and what is wrong with it."""

    name: str
    tables: dict[str, DecisionTable] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # decision id -> its name
    lines: dict[str, int] = field(default_factory=dict)  # decision id -> its line
    problems: list[str] = field(default_factory=list)


def is_dmn(tree: etree._ElementTree) -> bool:
    """A DMN `definitions` document of a version we read (else it is taken for BPMN)."""
    root = tree.getroot()
    return isinstance(root.tag, str) and etree.QName(root).namespace in DMN_NAMESPACES


class _LocalSchemaResolver(etree.Resolver):
    def resolve(self, url, pubid, context):  # noqa: D102 - lxml callback
        name = os.path.basename(url or "")
        if name in _LOCAL_SCHEMAS:
            return self.resolve_filename(os.path.join(SCHEMA_DIR, name), context)
        raise OSError(f"schema import of {url!r} refused: only local DMN schema files are loaded")


_schemas: dict[str, etree.XMLSchema] = {}
_schema_lock = threading.Lock()


def _schema(version: str) -> etree.XMLSchema | None:
    """The XSD of a DMN version, compiled once per process; None where none is usable."""
    file = _SCHEMA_FILES.get(version)
    if file is None:
        return None
    with _schema_lock:
        if version not in _schemas:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            parser.resolvers.add(_LocalSchemaResolver())
            _schemas[version] = etree.XMLSchema(etree.parse(os.path.join(SCHEMA_DIR, file), parser))
        return _schemas[version]


def _schema_problems(tree: etree._ElementTree, filename: str, version: str) -> list[str]:
    schema = _schema(version)
    if schema is None:
        return []
    with _schema_lock:
        schema.validate(tree)
        entries = list(schema.error_log)
    problems = []
    for entry in entries:
        message = entry.message
        for uri in DMN_NAMESPACES:
            message = message.replace("{" + uri + "}", "dmn:")
        problems.append(f"{filename}:{entry.line}: {message}")
    return list(dict.fromkeys(problems))


def _text(node: etree._Element | None, ns: str) -> str | None:
    if node is None:
        return None
    text = node.find(f"{{{ns}}}text")
    return text.text if text is not None else None


def read(tree: etree._ElementTree, filename: str) -> DecisionFile:
    """Every decision table of the file, translated; every problem found."""
    root = tree.getroot()
    ns = etree.QName(root).namespace
    found = DecisionFile(filename)
    if etree.QName(root).localname != "definitions":
        found.problems.append(format_problem(filename, root, "the root element of a DMN file must be definitions"))
        return found
    found.problems += _schema_problems(tree, filename, DMN_NAMESPACES[ns])
    decisions = root.findall(f"{{{ns}}}decision")
    if not decisions:
        found.problems.append(format_problem(filename, root, "the file holds no decision"))
    for decision in decisions:
        decision_id = (decision.get("id") or "").strip()
        if not decision_id:
            found.problems.append(format_problem(filename, decision, "a decision needs an id (its decisionRef)"))
            continue
        if decision_id in found.tables or decision_id in found.lines:
            found.problems.append(format_problem(filename, decision, f"decision id '{decision_id}' is used twice"))
            continue
        found.lines[decision_id] = decision.sourceline
        found.names[decision_id] = decision.get("name") or decision_id
        if decision.find(f"{{{ns}}}informationRequirement") is not None:
            found.problems.append(format_problem(
                filename, decision, "decisions that require other decisions (informationRequirement) are "
                                    "not supported; give the business rule task one decision table"))
            continue
        table_node = decision.find(f"{{{ns}}}decisionTable")
        if table_node is None:
            found.problems.append(format_problem(filename, decision, "only decision tables are supported (this "
                                                                     "decision has a literal expression or nothing)"))
            continue
        table = _table(table_node, decision_id, ns, filename, found.problems)
        if table is not None:
            found.tables[decision_id] = table
    if found.problems:
        found.tables = {}
    return found


def _table(node: etree._Element, decision_id: str, ns: str, filename: str,
           problems: list[str]) -> DecisionTable | None:
    before = len(problems)
    policy = (node.get("hitPolicy") or "UNIQUE").strip().upper()
    aggregation = (node.get("aggregation") or "").strip().upper()
    if policy not in HIT_POLICIES:
        problems.append(format_problem(filename, node, f"hit policy {policy} is not supported; use one of "
                                                       f"{', '.join(HIT_POLICIES)}"))
    if aggregation and (policy != "COLLECT" or aggregation not in AGGREGATIONS):
        problems.append(format_problem(filename, node, f"aggregation {aggregation} is not supported; COLLECT "
                                                       f"takes {', '.join(AGGREGATIONS)}"))
    table = DecisionTable(node.get("id") or decision_id, node.get("name") or "",
                          f"{policy} {aggregation}".strip())
    input_variables: list[str | None] = []  # each column's camunda:inputVariable (only the cells use it)
    for index, input_node in enumerate(node.findall(f"{{{ns}}}input"), 1):
        expression_node = input_node.find(f"{{{ns}}}inputExpression")
        label = input_node.get("label") or f"input {index}"
        try:
            translated = feel.expression(_text(expression_node, ns), "input expression")
        except feel.FeelError as error:
            problems.append(format_problem(filename, input_node, f"{label}: {error}",
                                           line=(expression_node if expression_node is not None
                                                 else input_node).sourceline))
            translated = None
        else:
            if translated is None:
                problems.append(format_problem(filename, input_node, f"{label}: the input has no expression "
                                                                     f"(name the variable it reads)"))
        type_ref = expression_node.get("typeRef") if expression_node is not None else None
        table.inputs.append(Input(input_node.get("id") or f"{table.id}_input{index}", label,
                                  input_node.get("name") or "", translated, type_ref or ""))
        input_variables.append(input_node.get(f"{{{CAMUNDA_DMN_NS}}}inputVariable"))
    names: set[str] = set()
    for index, output_node in enumerate(node.findall(f"{{{ns}}}output"), 1):
        name = (output_node.get("name") or "").strip()
        label = output_node.get("label") or name or f"output {index}"
        if not name or name.startswith("_") or not name.replace("_", "a").isalnum():
            problems.append(format_problem(filename, output_node, f"{label}: an output needs a name that is a "
                                                                  f"variable name (letters, digits, _)"))
        elif name in names:
            problems.append(format_problem(filename, output_node, f"output name '{name}' is used twice"))
        names.add(name)
        table.outputs.append(Output(output_node.get("id") or f"{table.id}_output{index}", label, name,
                                    output_node.get("typeRef") or ""))
    if not table.outputs:
        problems.append(format_problem(filename, node, "the table has no output"))
    if aggregation and len(table.outputs) != 1:
        problems.append(format_problem(filename, node, f"COLLECT {aggregation} aggregates one output; the table "
                                                       f"has {len(table.outputs)}"))
    if len(table.inputs) + len(table.outputs) > MAX_COLUMNS:
        problems.append(format_problem(filename, node, f"the table has more than {MAX_COLUMNS} columns"))
    rules = node.findall(f"{{{ns}}}rule")
    if len(rules) > MAX_RULES:
        problems.append(format_problem(filename, node, f"the table has {len(rules)} rules; at most {MAX_RULES}"))
        return None
    for row, rule_node in enumerate(rules, 1):
        rule = _rule(rule_node, row, table, input_variables, ns, filename, problems)
        table.rules.append(rule)
    return table if len(problems) == before else None


def _rule(node: etree._Element, row: int, table: DecisionTable, input_variables: list[str | None], ns: str,
          filename: str, problems: list[str]) -> Rule:
    rule = Rule(node.get("id") or f"{table.id}_rule{row}")
    rule.row_number = row
    description = node.find(f"{{{ns}}}description")
    rule.description = description.text if description is not None and description.text else ""
    entries = node.findall(f"{{{ns}}}inputEntry")
    outputs = node.findall(f"{{{ns}}}outputEntry")
    if len(entries) != len(table.inputs) or len(outputs) != len(table.outputs):
        problems.append(format_problem(filename, node, f"rule {row} has {len(entries)} input and {len(outputs)} "
                                                       f"output cells; the table has {len(table.inputs)} inputs "
                                                       f"and {len(table.outputs)} outputs"))
        return rule
    for index, (cell, column, variable) in enumerate(zip(entries, table.inputs, input_variables), 1):
        entry = InputEntry(cell.get("id") or f"{rule.id}_in{index}", column)
        text = _text(cell, ns)
        try:
            entry.lhs = [feel.unary_tests(text, variable)]
        except feel.FeelError as error:
            problems.append(format_problem(filename, node, f"row {row}, input '{column.label}': {error} "
                                                           f"(construct: {error.construct})", line=cell.sourceline))
        rule.inputEntries.append(entry)
    for cell, column in zip(outputs, table.outputs):
        entry = OutputEntry(cell.get("id") or f"{rule.id}_out_{column.name}", column)
        try:
            entry.text = feel.expression(_text(cell, ns), "output entry") or ""
        except feel.FeelError as error:
            problems.append(format_problem(filename, node, f"row {row}, output '{column.name}': {error} "
                                                           f"(construct: {error.construct})", line=cell.sourceline))
        rule.outputEntries.append(entry)
    return rule
