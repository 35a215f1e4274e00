"""What changed between two versions of a process, element by element (by id).

Read from the BPMN as the designer wrote it (not SpiffWorkflow's specs), so the diff speaks the
designer's language: an element's type, name, candidate groups, assignee, form key,
`camunda:property` values, a flow's condition, source and target, a timer's kind and value,
the messages, signals and errors an event names, a call activity's target, a multi-instance's
collection. The diagram (DI) is left out: moving a shape is not a change of the process.
"""
from __future__ import annotations

from typing import Any

from lxml import etree

from engine.domain.bpmn.parser import BPMN_NS, CAMUNDA_NS

_SKIP = frozenset({"incoming", "outgoing", "extensionElements", "documentation", "laneSet", "lane",
                   "flowNodeRef", "conditionExpression", "multiInstanceLoopCharacteristics", "script",
                   "timerEventDefinition", "messageEventDefinition", "signalEventDefinition",
                   "errorEventDefinition", "escalationEventDefinition", "terminateEventDefinition",
                   "conditionalEventDefinition", "linkEventDefinition", "compensateEventDefinition",
                   "standardLoopCharacteristics", "loopCardinality", "completionCondition"})
_REFS = {"messageEventDefinition": "messageRef", "signalEventDefinition": "signalRef",
         "errorEventDefinition": "errorRef", "escalationEventDefinition": "escalationRef"}


def _text(node: etree._Element | None) -> str | None:
    return None if node is None else (node.text or "").strip() or None


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def _names(root: etree._Element) -> dict[str, str]:
    """Root-level messages, signals, errors by id → their names (an event is described by name)."""
    return {n.get("id"): n.get("name") or n.get("errorCode") or n.get("id")
            for n in root if isinstance(n.tag, str) and n.get("id")}


def _lanes(process: etree._Element) -> dict[str, str]:
    lanes: dict[str, str] = {}
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.iterfind(f"{{{BPMN_NS}}}flowNodeRef"):
            lanes[(ref.text or "").strip()] = lane.get("name") or lane.get("id")
    return lanes


def _describe(node: etree._Element, names: dict[str, str], lanes: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {"type": _local(node)}
    if node.get("name"):
        found["name"] = node.get("name")
    for attribute, value in sorted(node.attrib.items()):
        qname = etree.QName(attribute)
        if qname.namespace == CAMUNDA_NS:
            found[qname.localname] = value
        elif qname.namespace is None and attribute not in ("id", "name"):
            found[attribute] = value
    if node.get("id") in lanes:
        found["lane"] = lanes[node.get("id")]
    condition = _text(node.find(f"{{{BPMN_NS}}}conditionExpression"))
    if condition:
        found["condition"] = condition
    script = _text(node.find(f"{{{BPMN_NS}}}script"))
    if script:
        found["script"] = script
    for prop in node.iter(f"{{{CAMUNDA_NS}}}property"):
        found[f"property {prop.get('name')}"] = prop.get("value")
    for io in ("inputParameter", "outputParameter"):
        for param in node.iter(f"{{{CAMUNDA_NS}}}{io}"):
            found[f"{io} {param.get('name')}"] = (param.text or "").strip()
    loop = node.find(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics")
    if loop is not None:
        found["multiInstance"] = "sequential" if loop.get("isSequential") == "true" else "parallel"
        for attribute in ("collection", "elementVariable"):
            if loop.get(f"{{{CAMUNDA_NS}}}{attribute}"):
                found[f"multiInstance {attribute}"] = loop.get(f"{{{CAMUNDA_NS}}}{attribute}")
        for child in ("loopCardinality", "completionCondition"):
            if _text(loop.find(f"{{{BPMN_NS}}}{child}")):
                found[f"multiInstance {child}"] = _text(loop.find(f"{{{BPMN_NS}}}{child}"))
    if node.find(f"{{{BPMN_NS}}}standardLoopCharacteristics") is not None:
        found["loop"] = "standard"
    for definition in node:
        if not isinstance(definition.tag, str) or not _local(definition).endswith("EventDefinition"):
            continue
        kind = _local(definition)[:-len("EventDefinition")]
        if kind == "timer":
            for child in definition:
                if isinstance(child.tag, str):
                    found["timer"] = f"{_local(child)} {(child.text or '').strip()}"
        elif kind in ("message", "signal", "error", "escalation"):
            ref = definition.get(_REFS[_local(definition)])
            found[kind] = names.get(ref, ref) if ref else "(none)"
        else:
            found["event"] = kind
    return found


def element_table(tree: etree._ElementTree, process_id: str) -> dict[str, dict[str, Any]]:
    """Every element with an id in the process (sub-processes included) → what the diff compares."""
    root = tree.getroot()
    process = next((p for p in root.iterfind(f"{{{BPMN_NS}}}process") if p.get("id") == process_id), None)
    if process is None:
        return {}
    names, lanes = _names(root), _lanes(process)
    table = {}
    for node in process.iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN_NS or not node.get("id"):
            continue
        if _local(node) in _SKIP or node is process:
            continue
        table[node.get("id")] = _describe(node, names, lanes)
    return table


def diff(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Elements added, removed and changed (each change: field, from, to), sorted by id."""
    added = [{"id": i, **after[i]} for i in sorted(set(after) - set(before))]
    removed = [{"id": i, **before[i]} for i in sorted(set(before) - set(after))]
    changed = []
    for element_id in sorted(set(before) & set(after)):
        old, new = before[element_id], after[element_id]
        changes = [{"field": key, "from": old.get(key), "to": new.get(key)}
                   for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]
        if changes:
            changed.append({"id": element_id, "type": new["type"], "name": new.get("name"), "changes": changes})
    return {"added": added, "removed": removed, "changed": changed}
