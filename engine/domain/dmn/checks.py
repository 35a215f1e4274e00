"""Deploy-time checks of DMN decisions and the business rule tasks that use them.

Each returns every problem as `file:line: element: message`. `dmn_problems` runs them all on a
set of files without a database (what `onewindow lint` calls); the deploy runs the same checks
with the decisions stored before as a fallback for references (`engine.services.decision_files`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Sequence

from lxml import etree

from engine.domain.bpmn.validation import MAX_BPMN_BYTES, format_problem, parse_xml
from engine.domain.dmn import decision_files
from engine.domain.dmn.business_rule_task import BINDINGS, MAPPINGS, camunda
from engine.errors import InvalidDefinition

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def decision_tasks(tree: etree._ElementTree) -> list[etree._Element]:
    """Business rule tasks that name a decision (those without are external tasks)."""
    return [node for node in tree.getroot().iter(f"{{{BPMN_NS}}}businessRuleTask")
            if camunda(node, "decisionRef") is not None]


def decision_refs(trees: Iterable[etree._ElementTree]) -> set[str]:
    return {camunda(node, "decisionRef") for tree in trees for node in decision_tasks(tree)
            if camunda(node, "decisionRef")}


def task_problems(tree: etree._ElementTree, filename: str, available: Mapping[str, object]) -> list[str]:
    """Business rule tasks whose decision is missing or whose Camunda attributes we cannot honour.

    `available`: decision id → anything (the decisions of the deployment and stored ones)."""
    problems = []
    for node in decision_tasks(tree):
        ref = camunda(node, "decisionRef") or ""
        if not ref:
            problems.append(format_problem(filename, node, "camunda:decisionRef is empty; name a decision id"))
        elif ref.startswith("${") or ref.startswith("#{"):
            problems.append(format_problem(filename, node, f"decisionRef '{ref}': an expression cannot name the "
                                                           f"decision; give the decision id"))
        elif ref not in available:
            known = ", ".join(sorted(available)) or "none"
            problems.append(format_problem(filename, node, f"decisionRef '{ref}' names no decision; deploy the DMN "
                                                           f"file with it (decisions known: {known})"))
        binding = camunda(node, "decisionRefBinding")
        if binding is not None and binding not in BINDINGS:
            problems.append(format_problem(filename, node, f"decisionRefBinding '{binding}' is not supported; the "
                                                           f"decision deployed with the process is used "
                                                           f"({' or '.join(BINDINGS)})"))
        mapping = camunda(node, "mapDecisionResult")
        if mapping is not None and mapping not in MAPPINGS:
            problems.append(format_problem(filename, node, f"mapDecisionResult '{mapping}' must be one of "
                                                           f"{', '.join(MAPPINGS)}"))
        variable = camunda(node, "resultVariable")
        if variable is not None and (not variable.isidentifier() or variable.startswith("_")):
            problems.append(format_problem(filename, node, f"resultVariable '{variable[:40]}' must be a variable "
                                                           f"name (letters, digits, _; not starting with _)"))
    return problems


def duplicate_problems(files: Sequence[decision_files.DecisionFile]) -> list[str]:
    """A decision id defined in two files of one deployment: which one would a task use?"""
    seen: dict[str, str] = {}
    problems = []
    for file in files:
        for decision_id, line in file.lines.items():
            if decision_id in seen:
                problems.append(f"{file.name}:{line}: decision {decision_id}: also defined in {seen[decision_id]}")
            seen.setdefault(decision_id, file.name)
    return problems


def read_file(data: bytes, name: str) -> tuple[etree._ElementTree | None, list[str]]:
    """Size limit and hardened parse, as for BPMN; (tree, problems)."""
    if len(data) > MAX_BPMN_BYTES:
        return None, [f"{name}: {len(data)} bytes is over the 5 MB limit"]
    try:
        return parse_xml(data, name), []
    except InvalidDefinition as error:
        return None, list(error.problems)


def dmn_problems(files: Iterable[tuple[str, bytes] | str | Path]) -> list[str]:
    """Every DMN problem of a set of files (BPMN and DMN, given as paths or (name, bytes)):
    each DMN file's XML, XSD, tables and FEEL cells, decision ids defined twice, and each
    business rule task's decisionRef and Camunda attributes against the DMN files given."""
    read: list[tuple[str, etree._ElementTree]] = []
    problems: list[str] = []
    for file in files:
        name, data = (file if isinstance(file, tuple) else (Path(file).name, Path(file).read_bytes()))
        tree, found = read_file(data, name)
        is_dmn_name = name.lower().endswith(".dmn")
        if tree is None:
            problems += found if is_dmn_name else []
            continue
        read.append((name, tree))
    decisions = [decision_files.read(tree, name) for name, tree in read if decision_files.is_dmn(tree)]
    for file in decisions:
        problems += file.problems
    problems += duplicate_problems(decisions)
    available = {decision_id: file for file in decisions for decision_id in file.lines}
    for name, tree in read:
        if not decision_files.is_dmn(tree):
            problems += task_problems(tree, name, available)
    return list(dict.fromkeys(problems))
