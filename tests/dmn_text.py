"""Small DMN and BPMN documents written in a test: one decision table, one business rule task."""
from __future__ import annotations

from xml.sax.saxutils import escape

DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"
DMN12 = "http://www.omg.org/spec/DMN/20180521/MODEL/"
DMN11 = "http://www.omg.org/spec/DMN/20151101/dmn.xsd"


def table(rules: list[tuple[list[str], list[str]]], inputs: list[tuple[str, str]] | None = None,
          outputs: list[str] | None = None, hit_policy: str = "UNIQUE", aggregation: str | None = None,
          decision_id: str = "decide", ns: str = DMN13) -> bytes:
    """A DMN file with one decision table; `inputs` are (label, expression), `rules` are
    (input cells, output cells) in FEEL. The first rule starts on line 14 + 2 * columns."""
    inputs = inputs if inputs is not None else [("amount", "amount")]
    outputs = outputs if outputs is not None else ["result"]
    policy = f' hitPolicy="{hit_policy}"' if hit_policy else ""
    policy += f' aggregation="{aggregation}"' if aggregation else ""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<definitions xmlns="{ns}" id="Defs_{decision_id}" name="DRD" namespace="http://camunda.org/schema/1.0/dmn">',
             f'  <decision id="{decision_id}" name="Decide {decision_id}">',
             f'    <decisionTable id="Table_{decision_id}"{policy}>']
    for i, (label, expression) in enumerate(inputs):
        lines.append(f'      <input id="In{i}" label="{escape(label)}">')
        lines.append(f'        <inputExpression id="InExpr{i}" typeRef="string"><text>{escape(expression)}</text></inputExpression></input>')
    for i, name in enumerate(outputs):
        lines.append(f'      <output id="Out{i}" label="{name}" name="{name}" typeRef="string" />')
    for r, (cells, outs) in enumerate(rules):
        lines.append(f'      <rule id="Rule{r + 1}">')
        for c, cell in enumerate(cells):
            lines.append(f'        <inputEntry id="R{r + 1}I{c}"><text>{escape(cell)}</text></inputEntry>')
        for c, out in enumerate(outs):
            lines.append(f'        <outputEntry id="R{r + 1}O{c}"><text>{escape(out)}</text></outputEntry>')
        lines.append('      </rule>')
    lines += ['    </decisionTable>', '  </decision>', '</definitions>', '']
    return "\n".join(lines).encode()


def rule_task_process(decision_ref: str = "decide", attributes: str = 'camunda:resultVariable="result" '
                      'camunda:mapDecisionResult="singleEntry"', pid: str = "decided") -> bytes:
    """Start → business rule task Decide (line 8) → user task Look (agent) → end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="Defs" targetNamespace="http://onewindow.test/bpmn">
  <bpmn:process id="{pid}" isExecutable="true">
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Decide"/>
    <bpmn:businessRuleTask id="Decide" name="判定" camunda:decisionRef="{decision_ref}" {attributes}><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="F2" sourceRef="Decide" targetRef="Look"/>
    <bpmn:userTask id="Look" name="查看结果" camunda:candidateGroups="agent"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="F3" sourceRef="Look" targetRef="E"/>
    <bpmn:endEvent id="E"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
""".encode()
