"""What `definitions diff` compares: element by id, as the designer wrote it, not the diagram."""
from __future__ import annotations

from engine.domain.bpmn.validation import parse_xml
from engine.domain.definition_diff import diff, element_table
from tests.conftest import BPMN

SOURCE = (BPMN / "modeler" / "juel_routing.bpmn").read_text(encoding="utf-8")


def table(text: str) -> dict:
    return element_table(parse_xml(text.encode("utf-8"), "x.bpmn"), "juel_routing")


def test_groups_conditions_names_and_added_elements_are_changes_and_layout_is_not():
    after = (SOURCE.replace("${amount gt 1000 &amp;&amp; !empty reviewers}", "${amount gt 5000}")
             .replace("${amount > 1000 ? 'county.fgj' : 'county.zjj'}", "county.fgj")
             .replace('name="File"', 'name="File the case"')
             .replace('<bpmn:endEvent id="EndEvent_1">',
                      '<bpmn:intermediateCatchEvent id="Event_wait"><bpmn:timerEventDefinition>'
                      '<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>'
                      '</bpmn:intermediateCatchEvent><bpmn:endEvent id="EndEvent_1">'))
    result = diff(table(SOURCE), table(after))
    assert [(e["id"], e["type"], e["timer"]) for e in result["added"]] == [
        ("Event_wait", "intermediateCatchEvent", "timeDuration PT1H")]
    assert result["removed"] == []
    changes = {e["id"]: {c["field"]: (c["from"], c["to"]) for c in e["changes"]} for e in result["changed"]}
    assert changes["Flow_large"] == {"condition": ("${amount gt 1000 && !empty reviewers}", "${amount gt 5000}")}
    assert changes["Activity_file"] == {
        "candidateGroups": ("${amount > 1000 ? 'county.fgj' : 'county.zjj'}", "county.fgj"),
        "name": ("File", "File the case")}
    assert set(changes) == {"Flow_large", "Activity_file"}


def test_the_same_file_has_no_changes():
    assert diff(table(SOURCE), table(SOURCE)) == {"added": [], "removed": [], "changed": []}
