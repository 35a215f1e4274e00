"""Small BPMN documents written in a test: one process around a body of elements."""
from __future__ import annotations

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  xmlns:flowable="http://flowable.org/bpmn"
                  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
                  id="Defs" targetNamespace="http://onewindow.test/bpmn">
"""


def process(body: str, pid: str = "proc") -> bytes:
    """A file with one executable process `pid` holding `body` (lines keep their numbers: the
    process opens on line 7, so the body's first line is line 8)."""
    return (HEAD + f'  <bpmn:process id="{pid}" isExecutable="true">\n{body}\n  </bpmn:process>\n'
            "</bpmn:definitions>\n").encode()


def around(element: str, pid: str = "proc") -> bytes:
    """`element` (with id T, incoming F1, outgoing F2) between a start and an end event; the
    element starts on line 8."""
    return process(f"""{element}
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T"/>
    <bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E"/>
    <bpmn:endEvent id="E"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>""", pid)


def timer_event(kind: str, value: str) -> str:
    """An intermediate timer catch event T waiting for `<kind>value</kind>`."""
    return (f'    <bpmn:intermediateCatchEvent id="T"><bpmn:incoming>F1</bpmn:incoming>'
            f'<bpmn:outgoing>F2</bpmn:outgoing>\n'
            f'      <bpmn:timerEventDefinition id="TD"><bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition>\n'
            f'    </bpmn:intermediateCatchEvent>')
