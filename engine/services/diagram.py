"""Process diagrams as SVG, drawn on the server from the BPMN file's own layout (BPMN DI).

The deployed file is kept byte for byte (`deployments.bpmn_xml`), so a definition's diagram is
the one its designer drew: pools, lanes, shapes, edges and labels where the modeler put them,
with BPMN's markers (event kinds, gateway kinds, multi-instance, loops, call activities). For a
case, each element is coloured by its state in that case — completed, active, waiting, error,
not reached — and multi-instance elements carry a count (done / all). Every state is also in
words (`<title>` of each element and `data-state`), so colour is never the only signal.

Only presentation attributes are used (no `<style>`, no `style=""`), so the SVG renders the
same inside a page whose Content-Security-Policy forbids inline styles and on its own. Every
text is escaped. A file without DI gets an SVG that says so.
"""
from __future__ import annotations

import math
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

from lxml import etree
from SpiffWorkflow.util.task import TaskState

from engine.adapters.case_cache import CaseStateCache
from engine.adapters.models import Task
from engine.adapters.serializer import LIVE_WORKFLOWS, load_state
from engine.domain.states import TaskStatus
from engine.services.cases import get_case
from engine.services.definitions import deployment_xml, find_definition
from engine.services.workflow import load_definition, specs_of

if TYPE_CHECKING:
    from engine.domain.access import Actor
    from engine.adapters.models import Case, Definition
    from engine.adapters.uow import UnitOfWork

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

STATES = ("completed", "active", "waiting", "error", "not_reached")
STATE_WORDS = {"completed": "已完成", "active": "办理中", "waiting": "等待中", "error": "出错", "not_reached": "未到达"}
# fill, stroke, stroke width, dash: the legend's colours; dashes tell waiting from active in grey print.
PAINT = {
    "completed": ("#e8f5e9", "#2e7d32", 2.5, None),
    "active": ("#e3f2fd", "#1565c0", 3.5, None),
    "waiting": ("#fff4d6", "#b7791f", 2.5, "6 3"),
    "error": ("#ffebee", "#c62828", 3.5, None),
    "not_reached": ("#ffffff", "#9aa5b1", 1.5, None),
    None: ("#ffffff", "#37474f", 1.5, None),
}
NO_DI_MESSAGE = ("此流程文件不含图形信息（BPMN DI），无法绘制流程图。"
                 "用 Camunda Modeler 或 bpmn.io 打开并保存一次即可生成布局。")
NO_DI_MESSAGE_EN = "This BPMN file has no diagram interchange (DI) layout, so no diagram can be drawn."

ACTIVITIES = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
              "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
TEXT_FONT = "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, Noto Sans SC, sans-serif"


@dataclass
class Shape:
    id: str
    kind: str
    name: str
    x: float
    y: float
    w: float
    h: float
    horizontal: bool = True
    expanded: bool = False
    label: tuple[float, float, float, float] | None = None
    event: str | None = None  # timer, message, error, signal, escalation, terminate, conditional, link, compensate
    throwing: bool = False
    interrupting: bool = True
    loop: str | None = None  # parallel, sequential, loop
    default_flow: str | None = None


@dataclass
class Edge:
    id: str
    kind: str
    name: str
    points: list[tuple[float, float]]
    source: str | None
    target: str | None
    label: tuple[float, float, float, float] | None = None
    is_default: bool = False


@dataclass
class Layout:
    shapes: list[Shape] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    box: tuple[float, float, float, float] = (0, 0, 0, 0)  # min x, min y, max x, max y

    @property
    def empty(self) -> bool:
        return not self.shapes


@dataclass(frozen=True)
class ElementState:
    state: str
    done: int = 0
    total: int = 0  # instances of a multi-instance element (0: not counted)

    @property
    def words(self) -> str:
        text = STATE_WORDS[self.state]
        if self.total:
            text += f"（完成 {self.done} / 共 {self.total}）"
        return text


# --------------------------------------------------------------------------- reading the layout


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=True)


def _bounds(node: etree._Element | None) -> tuple[float, float, float, float] | None:
    if node is None:
        return None
    try:
        return tuple(float(node.get(k, "0")) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]
    except ValueError:
        return None


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) and abs(v) < 1e6 for v in values)


def _pick_diagram(root: etree._Element, process_key: str | None) -> etree._Element | None:
    diagrams = root.findall(f"{{{BPMNDI}}}BPMNDiagram")
    if not diagrams:
        return None
    if process_key:
        owners = {process_key}
        for participant in root.iter(f"{{{BPMN}}}participant"):
            if participant.get("processRef") == process_key:
                parent = participant.getparent()
                if parent is not None and parent.get("id"):
                    owners.add(parent.get("id"))
        for diagram in diagrams:
            plane = diagram.find(f"{{{BPMNDI}}}BPMNPlane")
            if plane is not None and plane.get("bpmnElement") in owners:
                return diagram
    return diagrams[0]


def parse_layout(xml: str | bytes, process_key: str | None = None) -> Layout:
    """The drawable shapes and edges of a BPMN file's diagram for one process (the diagram
    whose plane is the process, or the collaboration it takes part in). Empty without DI."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    root = etree.fromstring(data, _parser())
    diagram = _pick_diagram(root, process_key)
    layout = Layout()
    if diagram is None:
        return layout
    semantic = {node.get("id"): node for node in root.iter() if isinstance(node.tag, str) and node.get("id")}
    defaults = {node.get("default") for node in semantic.values() if node.get("default")}
    xs: list[float] = []
    ys: list[float] = []
    for plane in diagram.iter(f"{{{BPMNDI}}}BPMNPlane"):
        for node in plane:
            if not isinstance(node.tag, str):
                continue
            local = etree.QName(node).localname
            ref = node.get("bpmnElement")
            element = semantic.get(ref)
            if local == "BPMNShape":
                bounds = _bounds(node.find(f"{{{DC}}}Bounds"))
                if bounds is None or not _finite(*bounds) or element is None:
                    continue
                label = _bounds(node.find(f"{{{BPMNDI}}}BPMNLabel/{{{DC}}}Bounds"))
                shape = _shape(ref, element, bounds, node, label if label and _finite(*label) else None)
                layout.shapes.append(shape)
                xs += [bounds[0], bounds[0] + bounds[2]]
                ys += [bounds[1], bounds[1] + bounds[3]]
                if label and _finite(*label):
                    xs += [label[0], label[0] + label[2]]
                    ys += [label[1], label[1] + label[3]]
            elif local == "BPMNEdge":
                points = []
                for waypoint in node.findall(f"{{{DI}}}waypoint"):
                    try:
                        point = (float(waypoint.get("x", "0")), float(waypoint.get("y", "0")))
                    except ValueError:
                        continue
                    if _finite(*point):
                        points.append(point)
                if len(points) < 2:
                    continue
                label = _bounds(node.find(f"{{{BPMNDI}}}BPMNLabel/{{{DC}}}Bounds"))
                kind = etree.QName(element).localname if element is not None else "sequenceFlow"
                layout.edges.append(Edge(
                    id=ref or "", kind=kind, name=(element.get("name") or "") if element is not None else "",
                    points=points, source=element.get("sourceRef") if element is not None else None,
                    target=element.get("targetRef") if element is not None else None,
                    label=label if label and _finite(*label) else None, is_default=ref in defaults))
                xs += [p[0] for p in points]
                ys += [p[1] for p in points]
    if xs and ys:
        layout.box = (min(xs), min(ys), max(xs), max(ys))
    order = {"participant": 0, "lane": 1}
    layout.shapes.sort(key=lambda s: (order.get(s.kind, 2 if s.expanded else 3)))
    return layout


def _shape(ref: str, element: etree._Element, bounds: tuple[float, float, float, float],
           node: etree._Element, label: tuple[float, float, float, float] | None) -> Shape:
    kind = etree.QName(element).localname
    shape = Shape(id=ref, kind=kind, name=(element.get("name") or "").strip(), x=bounds[0], y=bounds[1],
                  w=bounds[2], h=bounds[3], horizontal=node.get("isHorizontal", "true") != "false",
                  expanded=node.get("isExpanded") == "true", label=label, default_flow=element.get("default"))
    if kind in EVENTS:
        for child in element:
            if isinstance(child.tag, str) and etree.QName(child).localname.endswith("EventDefinition"):
                shape.event = etree.QName(child).localname[: -len("EventDefinition")]
                break
        shape.throwing = kind in ("endEvent", "intermediateThrowEvent")
        shape.interrupting = element.get("cancelActivity", "true") != "false" and \
            element.get("isInterrupting", "true") != "false"
    if kind in ACTIVITIES:
        mi = element.find(f"{{{BPMN}}}multiInstanceLoopCharacteristics")
        if mi is not None:
            shape.loop = "sequential" if mi.get("isSequential") == "true" else "parallel"
        elif element.find(f"{{{BPMN}}}standardLoopCharacteristics") is not None:
            shape.loop = "loop"
        if kind == "subProcess" and node.get("isExpanded") is None:
            shape.expanded = shape.w > 200 and shape.h > 120
    return shape


# --------------------------------------------------------------------------- drawing


def _attrs(**values: Any) -> str:
    parts = []
    for key, value in values.items():
        if value is None:
            continue
        parts.append(f'{key.rstrip("_").replace("_", "-")}="{escape(str(value), quote=True)}"')
    return " ".join(parts)


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _char_width(char: str, size: float) -> float:
    return size if ord(char) > 0x2E80 else size * 0.56


_NO_LINE_START = set("）)」』】》〉，。、；：？！,.;:?!·")


def wrap(text: str, width: float, size: float) -> list[str]:
    """Lines of `text` no wider than `width` (CJK characters count as one em, others ~half)."""
    lines, line, used = [], "", 0.0
    for char in text:
        if char == "\n":
            lines.append(line)
            line, used = "", 0.0
            continue
        w = _char_width(char, size)
        if used + w > width and line and char not in _NO_LINE_START:
            lines.append(line)
            line, used = "", 0.0
        line += char
        used += w
    if line:
        lines.append(line)
    return lines


def _text(lines: list[str], cx: float, top: float, size: float, fill: str = "#1f2933",
          weight: str | None = None) -> str:
    spans = "".join(f'<tspan {_attrs(x=_n(cx), y=_n(top + size * (i + 1) * 1.2 - size * 0.25))}>{escape(line)}</tspan>'
                    for i, line in enumerate(lines))
    return (f'<text {_attrs(text_anchor="middle", font_size=_n(size), font_family=TEXT_FONT, fill=fill, font_weight=weight)}>'
            f"{spans}</text>")


def _centered_text(text: str, x: float, y: float, w: float, h: float, size: float) -> str:
    lines = wrap(text, max(w - 8, size * 2), size)[: max(1, int(h // (size * 1.2)))]
    top = y + (h - len(lines) * size * 1.2) / 2
    return _text(lines, x + w / 2, top, size)


def _paint(state: str | None) -> tuple[str, str, float, str | None]:
    return PAINT.get(state, PAINT[None])


def _event_marker(shape: Shape, cx: float, cy: float, r: float, stroke: str) -> str:
    fill = stroke if shape.throwing else "none"
    s = r * 0.55
    kind = shape.event
    if kind == "timer":
        hands = (f'<line {_attrs(x1=_n(cx), y1=_n(cy), x2=_n(cx), y2=_n(cy - s * 0.8), stroke=stroke, stroke_width=1.5)}/>'
                 f'<line {_attrs(x1=_n(cx), y1=_n(cy), x2=_n(cx + s * 0.6), y2=_n(cy), stroke=stroke, stroke_width=1.5)}/>')
        return f'<circle {_attrs(cx=_n(cx), cy=_n(cy), r=_n(s), fill="#fff", stroke=stroke, stroke_width=1.5)}/>' + hands
    if kind == "message":
        x, y, w, h = cx - s, cy - s * 0.65, 2 * s, 1.3 * s
        body = f'<rect {_attrs(x=_n(x), y=_n(y), width=_n(w), height=_n(h), fill=fill if shape.throwing else "#fff", stroke=stroke, stroke_width=1.3)}/>'
        flap = f'<polyline {_attrs(points=f"{_n(x)},{_n(y)} {_n(cx)},{_n(cy + 0.1 * s)} {_n(x + w)},{_n(y)}", fill="none", stroke="#fff" if shape.throwing else stroke, stroke_width=1.3)}/>'
        return body + flap
    if kind == "error":
        pts = [(cx - s, cy + s), (cx - s * 0.4, cy - s * 0.6), (cx + s * 0.2, cy + s * 0.2), (cx + s, cy - s),
               (cx + s * 0.4, cy + s * 0.6), (cx - s * 0.2, cy - s * 0.2)]
        return f'<polygon {_attrs(points=" ".join(f"{_n(a)},{_n(b)}" for a, b in pts), fill=fill, stroke=stroke, stroke_width=1.3)}/>'
    if kind == "signal":
        pts = [(cx, cy - s), (cx + s, cy + s * 0.7), (cx - s, cy + s * 0.7)]
        return f'<polygon {_attrs(points=" ".join(f"{_n(a)},{_n(b)}" for a, b in pts), fill=fill, stroke=stroke, stroke_width=1.3)}/>'
    if kind == "escalation":
        pts = [(cx, cy - s), (cx + s * 0.7, cy + s), (cx, cy + s * 0.3), (cx - s * 0.7, cy + s)]
        return f'<polygon {_attrs(points=" ".join(f"{_n(a)},{_n(b)}" for a, b in pts), fill=fill, stroke=stroke, stroke_width=1.3)}/>'
    if kind == "terminate":
        return f'<circle {_attrs(cx=_n(cx), cy=_n(cy), r=_n(s * 0.9), fill=stroke)}/>'
    if kind == "conditional":
        x, y = cx - s * 0.7, cy - s
        lines = "".join(f'<line {_attrs(x1=_n(x + 3), y1=_n(y + i * s * 0.5), x2=_n(x + 1.4 * s - 3), y2=_n(y + i * s * 0.5), stroke=stroke)}/>'
                        for i in range(1, 4))
        return f'<rect {_attrs(x=_n(x), y=_n(y), width=_n(1.4 * s), height=_n(2 * s), fill="#fff", stroke=stroke)}/>' + lines
    if kind in ("link", "compensate", "cancel"):
        pts = [(cx - s, cy - s * 0.4), (cx + s * 0.1, cy - s * 0.4), (cx + s * 0.1, cy - s), (cx + s, cy),
               (cx + s * 0.1, cy + s), (cx + s * 0.1, cy + s * 0.4), (cx - s, cy + s * 0.4)]
        return f'<polygon {_attrs(points=" ".join(f"{_n(a)},{_n(b)}" for a, b in pts), fill=fill, stroke=stroke, stroke_width=1.3)}/>'
    return ""


def _gateway_marker(kind: str, cx: float, cy: float, size: float, stroke: str) -> str:
    s = size * 0.22
    if kind == "exclusiveGateway":
        return (f'<path {_attrs(d=f"M{_n(cx - s)},{_n(cy - s)} L{_n(cx + s)},{_n(cy + s)} M{_n(cx + s)},{_n(cy - s)} L{_n(cx - s)},{_n(cy + s)}", stroke=stroke, stroke_width=3.5, fill="none")}/>')
    if kind == "parallelGateway":
        return (f'<path {_attrs(d=f"M{_n(cx)},{_n(cy - s * 1.2)} L{_n(cx)},{_n(cy + s * 1.2)} M{_n(cx - s * 1.2)},{_n(cy)} L{_n(cx + s * 1.2)},{_n(cy)}", stroke=stroke, stroke_width=3.5, fill="none")}/>')
    if kind == "inclusiveGateway":
        return f'<circle {_attrs(cx=_n(cx), cy=_n(cy), r=_n(s * 1.1), fill="none", stroke=stroke, stroke_width=2.5)}/>'
    if kind == "eventBasedGateway":
        r = s * 1.2
        pts = [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in (-math.pi / 2 + i * 2 * math.pi / 5 for i in range(5))]
        return (f'<circle {_attrs(cx=_n(cx), cy=_n(cy), r=_n(s * 1.6), fill="none", stroke=stroke, stroke_width=1.2)}/>'
                f'<polygon {_attrs(points=" ".join(f"{_n(a)},{_n(b)}" for a, b in pts), fill="none", stroke=stroke, stroke_width=1.2)}/>')
    if kind == "complexGateway":
        d = " ".join(f"M{_n(cx - s * math.cos(a))},{_n(cy - s * math.sin(a))} L{_n(cx + s * math.cos(a))},{_n(cy + s * math.sin(a))}"
                     for a in (0, math.pi / 4, math.pi / 2, 3 * math.pi / 4))
        return f'<path {_attrs(d=d, stroke=stroke, stroke_width=3, fill="none")}/>'
    return ""


def _task_icon(kind: str, x: float, y: float, stroke: str) -> str:
    if kind in ("userTask", "manualTask"):
        return (f'<circle {_attrs(cx=_n(x + 12), cy=_n(y + 10), r=4, fill="none", stroke=stroke, stroke_width=1.3)}/>'
                f'<path {_attrs(d=f"M{_n(x + 5)},{_n(y + 22)} Q{_n(x + 12)},{_n(y + 11)} {_n(x + 19)},{_n(y + 22)} Z", fill="none", stroke=stroke, stroke_width=1.3)}/>')
    if kind == "scriptTask":
        return (f'<rect {_attrs(x=_n(x + 6), y=_n(y + 5), width=12, height=15, fill="none", stroke=stroke, stroke_width=1.2)}/>'
                + "".join(f'<line {_attrs(x1=_n(x + 8), y1=_n(y + 9 + i * 3.5), x2=_n(x + 16), y2=_n(y + 9 + i * 3.5), stroke=stroke, stroke_width=1)}/>'
                          for i in range(3)))
    if kind == "businessRuleTask":  # BPMN's table marker: a header row over a grid
        return (f'<rect {_attrs(x=_n(x + 5), y=_n(y + 6), width=16, height=12, fill="none", stroke=stroke, stroke_width=1.2)}/>'
                f'<rect {_attrs(x=_n(x + 5), y=_n(y + 6), width=16, height=3.5, fill=stroke, stroke=stroke, stroke_width=1)}/>'
                f'<line {_attrs(x1=_n(x + 5), y1=_n(y + 13.5), x2=_n(x + 21), y2=_n(y + 13.5), stroke=stroke, stroke_width=1)}/>'
                f'<line {_attrs(x1=_n(x + 10), y1=_n(y + 9.5), x2=_n(x + 10), y2=_n(y + 18), stroke=stroke, stroke_width=1)}/>')
    if kind == "serviceTask":
        return (f'<circle {_attrs(cx=_n(x + 12), cy=_n(y + 12), r=6, fill="none", stroke=stroke, stroke_width=2.5, stroke_dasharray="2.5 2")}/>'
                f'<circle {_attrs(cx=_n(x + 12), cy=_n(y + 12), r=2.5, fill="none", stroke=stroke, stroke_width=1.2)}/>')
    if kind in ("sendTask", "receiveTask"):
        return (f'<rect {_attrs(x=_n(x + 5), y=_n(y + 7), width=15, height=10, fill=stroke if kind == "sendTask" else "none", stroke=stroke, stroke_width=1.2)}/>'
                f'<polyline {_attrs(points=f"{_n(x + 5)},{_n(y + 7)} {_n(x + 12.5)},{_n(y + 13)} {_n(x + 20)},{_n(y + 7)}", fill="none", stroke="#fff" if kind == "sendTask" else stroke, stroke_width=1.2)}/>')
    return ""


def _loop_marker(loop: str, cx: float, bottom: float, stroke: str) -> str:
    if loop == "parallel":
        return "".join(f'<line {_attrs(x1=_n(cx + dx), y1=_n(bottom - 16), x2=_n(cx + dx), y2=_n(bottom - 4), stroke=stroke, stroke_width=2)}/>'
                       for dx in (-5, 0, 5))
    if loop == "sequential":
        return "".join(f'<line {_attrs(x1=_n(cx - 6), y1=_n(bottom - 16 + dy), x2=_n(cx + 6), y2=_n(bottom - 16 + dy), stroke=stroke, stroke_width=2)}/>'
                       for dy in (0, 5, 10))
    if loop == "loop":
        return (f'<path {_attrs(d=f"M{_n(cx + 5)},{_n(bottom - 6)} A6,6 0 1 0 {_n(cx - 5)},{_n(bottom - 6)}", fill="none", stroke=stroke, stroke_width=1.6)}/>'
                f'<polyline {_attrs(points=f"{_n(cx - 9)},{_n(bottom - 8)} {_n(cx - 5)},{_n(bottom - 6)} {_n(cx - 5)},{_n(bottom - 11)}", fill="none", stroke=stroke, stroke_width=1.6)}/>')
    return ""


def _count_badge(state: ElementState, x: float, y: float) -> str:
    text = f"{state.done}/{state.total}"
    w = 8 + len(text) * 7
    return (f'<g {_attrs(class_="count")}><rect {_attrs(x=_n(x - w + 6), y=_n(y - 9), width=_n(w), height=18, rx=9, fill="#37474f")}/>'
            f'<text {_attrs(x=_n(x - w / 2 + 6), y=_n(y + 4), text_anchor="middle", font_size=11, font_family=TEXT_FONT, fill="#fff", font_weight="bold")}>'
            f"{escape(text)}</text></g>")


def _draw_shape(shape: Shape, state: ElementState | None) -> str:
    fill, stroke, width, dash = _paint(state.state if state else None)
    x, y, w, h = shape.x, shape.y, shape.w, shape.h
    title = shape.name or shape.id
    if state is not None:
        title += f"：{state.words}"
    head = (f'<g {_attrs(class_=f"el {shape.kind}" + (f" state-{state.state}" if state else ""), data_element_id=shape.id, data_state=state.state if state else None)}>'
            f"<title>{escape(title)}</title>")
    body = []
    if shape.kind in ("participant", "lane"):
        body.append(f'<rect {_attrs(x=_n(x), y=_n(y), width=_n(w), height=_n(h), fill="#fcfcfd" if shape.kind == "participant" else "none", stroke="#607080", stroke_width=1.3)}/>')
        band = 30
        if shape.horizontal:
            body.append(f'<line {_attrs(x1=_n(x + band), y1=_n(y), x2=_n(x + band), y2=_n(y + h), stroke="#607080", stroke_width=1)}/>')
            lines = wrap(shape.name, h - 10, 13)[:2]
            body.append(f'<text {_attrs(x=_n(x + band / 2), y=_n(y + h / 2), text_anchor="middle", font_size=13, font_family=TEXT_FONT, fill="#37474f", writing_mode="tb", glyph_orientation_vertical=0)}>{escape("".join(lines))}</text>')
        else:
            body.append(f'<line {_attrs(x1=_n(x), y1=_n(y + band), x2=_n(x + w), y2=_n(y + band), stroke="#607080", stroke_width=1)}/>')
            body.append(_text(wrap(shape.name, w - 10, 13)[:1], x + w / 2, y + 6, 13, "#37474f"))
    elif shape.kind in ACTIVITIES:
        stroke_width = max(width, 4) if shape.kind == "callActivity" else width
        body.append(f'<rect {_attrs(x=_n(x), y=_n(y), width=_n(w), height=_n(h), rx=10, fill=fill if not shape.expanded else "none", stroke=stroke, stroke_width=_n(stroke_width), stroke_dasharray=dash)}/>')
        if shape.kind == "transaction":
            body.append(f'<rect {_attrs(x=_n(x + 3), y=_n(y + 3), width=_n(w - 6), height=_n(h - 6), rx=8, fill="none", stroke=stroke)}/>')
        body.append(_task_icon(shape.kind, x, y, stroke))
        if shape.expanded:
            body.append(_text(wrap(shape.name, w - 20, 12)[:2], x + w / 2, y + 4, 12))
        else:
            body.append(_centered_text(shape.name, x + 4, y + 18, w - 8, h - 34, 12))
            if shape.kind in ("subProcess", "callActivity") and not shape.loop and shape.kind == "subProcess":
                cx, by = x + w / 2, y + h
                body.append(f'<rect {_attrs(x=_n(cx - 7), y=_n(by - 16), width=14, height=14, fill="none", stroke=stroke)}/>'
                            f'<path {_attrs(d=f"M{_n(cx - 4)},{_n(by - 9)} H{_n(cx + 4)} M{_n(cx)},{_n(by - 13)} V{_n(by - 5)}", stroke=stroke, stroke_width=1.5)}/>')
        if shape.loop:
            body.append(_loop_marker(shape.loop, x + w / 2, y + h, stroke))
        if state is not None and state.total:
            body.append(_count_badge(state, x + w, y))
    elif shape.kind in EVENTS:
        r = min(w, h) / 2
        cx, cy = x + w / 2, y + h / 2
        ring = 4 if shape.kind == "endEvent" else max(1.5, width - 1 if shape.kind == "startEvent" else width - 1.5)
        event_dash = "5 3" if not shape.interrupting else dash
        body.append(f'<circle {_attrs(cx=_n(cx), cy=_n(cy), r=_n(r), fill=fill, stroke=stroke, stroke_width=_n(ring), stroke_dasharray=event_dash)}/>')
        if shape.kind in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
            body.append(f'<circle {_attrs(cx=_n(cx), cy=_n(cy), r=_n(r - 3.5), fill="none", stroke=stroke, stroke_width=1.3, stroke_dasharray=event_dash)}/>')
        body.append(_event_marker(shape, cx, cy, r, stroke))
        body.append(_outside_label(shape))
    elif shape.kind in GATEWAYS:
        cx, cy = x + w / 2, y + h / 2
        pts = f"{_n(cx)},{_n(y)} {_n(x + w)},{_n(cy)} {_n(cx)},{_n(y + h)} {_n(x)},{_n(cy)}"
        body.append(f'<polygon {_attrs(points=pts, fill=fill, stroke=stroke, stroke_width=_n(width), stroke_dasharray=dash)}/>')
        body.append(_gateway_marker(shape.kind, cx, cy, min(w, h), stroke))
        body.append(_outside_label(shape))
    elif shape.kind == "textAnnotation":
        body.append(f'<path {_attrs(d=f"M{_n(x + 12)},{_n(y)} H{_n(x)} V{_n(y + h)} H{_n(x + 12)}", fill="none", stroke="#607080")}/>')
    elif shape.kind in ("dataObjectReference", "dataStoreReference", "dataObject"):
        body.append(f'<path {_attrs(d=f"M{_n(x)},{_n(y)} H{_n(x + w - 10)} L{_n(x + w)},{_n(y + 10)} V{_n(y + h)} H{_n(x)} Z", fill="#fff", stroke="#607080")}/>')
        body.append(_outside_label(shape))
    else:
        body.append(f'<rect {_attrs(x=_n(x), y=_n(y), width=_n(w), height=_n(h), fill="none", stroke="#9aa5b1", stroke_dasharray="3 3")}/>')
    return head + "".join(body) + "</g>"


def _outside_label(shape: Shape) -> str:
    if not shape.name:
        return ""
    if shape.label is not None:
        lx, ly, lw, lh = shape.label
        return _text(wrap(shape.name, max(lw, 60), 11)[:3], lx + lw / 2, ly, 11)
    return _text(wrap(shape.name, 90, 11)[:3], shape.x + shape.w / 2, shape.y + shape.h + 2, 11)


def _draw_edge(edge: Edge, taken: bool) -> str:
    points = " ".join(f"{_n(x)},{_n(y)}" for x, y in edge.points)
    if edge.kind == "messageFlow":
        line = (f'<polyline {_attrs(points=points, fill="none", stroke="#607080", stroke_width=1.3, stroke_dasharray="7 4", marker_start="url(#ow-circle)", marker_end="url(#ow-open-arrow)")}/>')
    elif edge.kind in ("association", "dataInputAssociation", "dataOutputAssociation"):
        line = f'<polyline {_attrs(points=points, fill="none", stroke="#9aa5b1", stroke_width=1, stroke_dasharray="2 3")}/>'
    else:
        colour = "#2e7d32" if taken else "#78848f"
        line = (f'<polyline {_attrs(points=points, fill="none", stroke=colour, stroke_width=2 if taken else 1.3, marker_end="url(#ow-arrow-taken)" if taken else "url(#ow-arrow)")}/>')
        if edge.is_default and len(edge.points) >= 2:
            (x1, y1), (x2, y2) = edge.points[0], edge.points[1]
            length = math.hypot(x2 - x1, y2 - y1) or 1
            ux, uy = (x2 - x1) / length, (y2 - y1) / length
            mx, my = x1 + ux * 10, y1 + uy * 10
            line += f'<line {_attrs(x1=_n(mx - uy * 5 - ux * 3), y1=_n(my + ux * 5 - uy * 3), x2=_n(mx + uy * 5 + ux * 3), y2=_n(my - ux * 5 + uy * 3), stroke=colour, stroke_width=1.5)}/>'
    label = ""
    if edge.name:
        if edge.label is not None:
            lx, ly, lw, lh = edge.label
            label = _text(wrap(edge.name, max(lw, 50), 11)[:3], lx + lw / 2, ly, 11, "#37474f")
        else:
            (x1, y1), (x2, y2) = edge.points[len(edge.points) // 2 - 1], edge.points[len(edge.points) // 2]
            label = _text(wrap(edge.name, 80, 11)[:2], (x1 + x2) / 2, (y1 + y2) / 2 - 14, 11, "#37474f")
    return (f'<g {_attrs(class_=f"edge {edge.kind}" + (" taken" if taken else ""), data_element_id=edge.id or None)}>'
            f"{line}{label}</g>")


_DEFS = ('<defs>'
         '<marker id="ow-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto">'
         '<path d="M0,0 L10,5 L0,10 Z" fill="#78848f"/></marker>'
         '<marker id="ow-arrow-taken" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
         '<path d="M0,0 L10,5 L0,10 Z" fill="#2e7d32"/></marker>'
         '<marker id="ow-open-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto">'
         '<path d="M0,0 L10,5 L0,10 Z" fill="#fff" stroke="#607080"/></marker>'
         '<marker id="ow-circle" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="7" markerHeight="7">'
         '<circle cx="5" cy="5" r="4" fill="#fff" stroke="#607080"/></marker>'
         '</defs>')


def _legend(x: float, y: float) -> str:
    parts = [f'<g {_attrs(class_="legend")}>']
    for i, state in enumerate(STATES):
        fill, stroke, width, dash = PAINT[state]
        px = x + i * 110
        parts.append(f'<rect {_attrs(x=_n(px), y=_n(y), width=26, height=16, rx=4, fill=fill, stroke=stroke, stroke_width=_n(width), stroke_dasharray=dash)}/>'
                     f'<text {_attrs(x=_n(px + 32), y=_n(y + 13), font_size=12, font_family=TEXT_FONT, fill="#1f2933")}>{escape(STATE_WORDS[state])}</text>')
    parts.append("</g>")
    return "".join(parts)


def render_svg(layout: Layout, states: dict[str, ElementState] | None = None, title: str = "",
               description: str = "") -> str:
    """The diagram as a standalone SVG document (also fit to be placed inside an HTML page)."""
    if layout.empty:
        return message_svg(NO_DI_MESSAGE, NO_DI_MESSAGE_EN)
    min_x, min_y, max_x, max_y = layout.box
    pad = 20
    legend_h = 34 if states is not None else 0
    width, height = max_x - min_x + 2 * pad, max_y - min_y + 2 * pad + legend_h
    vx, vy = min_x - pad, min_y - pad
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" {_attrs(viewBox=f"{_n(vx)} {_n(vy)} {_n(width)} {_n(height)}", width=_n(width), height=_n(height), role="img", aria_labelledby="ow-diagram-title ow-diagram-desc", class_="bpmn-diagram")}>',
           f'<title id="ow-diagram-title">{escape(title or "流程图")}</title>',
           f'<desc id="ow-diagram-desc">{escape(description or "BPMN 流程图；每个环节的状态写在其提示文字中。")}</desc>',
           _DEFS, f'<rect {_attrs(x=_n(vx), y=_n(vy), width=_n(width), height=_n(height), fill="#ffffff")}/>']
    case_view = states is not None
    states = states or {}
    reached = {k for k, s in states.items() if s.state in ("completed", "active", "waiting", "error")}
    unreached = ElementState("not_reached")
    done = {k for k, s in states.items() if s.state == "completed" or s.done}
    containers = [s for s in layout.shapes if s.kind in ("participant", "lane") or s.expanded]
    others = [s for s in layout.shapes if not (s.kind in ("participant", "lane") or s.expanded)]
    for shape in containers:
        state = states.get(shape.id) if shape.kind not in ("participant", "lane") else None
        if state is None and case_view and shape.kind not in ("participant", "lane"):
            state = unreached
        out.append(_draw_shape(shape, state))
    for edge in layout.edges:
        out.append(_draw_edge(edge, taken=edge.source in done and edge.target in reached))
    for shape in others:
        state = states.get(shape.id)
        if state is None and case_view and (shape.kind in ACTIVITIES or shape.kind in EVENTS or shape.kind in GATEWAYS):
            state = unreached  # no token has been there in this case
        out.append(_draw_shape(shape, state))
    if legend_h:
        out.append(_legend(vx + pad, max_y + pad))
    out.append("</svg>")
    return "".join(out)


def message_svg(message: str, english: str = "") -> str:
    """A small SVG that says why there is no diagram (instead of a broken picture)."""
    lines = wrap(message, 560, 15) + (wrap(english, 560, 13) if english else [])
    height = 40 + len(lines) * 22
    spans = "".join(f'<text {_attrs(x=20, y=34 + i * 22, font_size=15 if i < len(lines) - (1 if english else 0) else 13, font_family=TEXT_FONT, fill="#37474f")}>{escape(line)}</text>'
                    for i, line in enumerate(lines))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" {_attrs(viewBox=f"0 0 600 {height}", width=600, height=height, role="img", aria_label=message, class_="bpmn-diagram no-di")}>'
            f'<title>{escape(message)}</title>'
            f'<rect {_attrs(x=1, y=1, width=598, height=height - 2, rx=8, fill="#fafbfc", stroke="#b0bac5", stroke_dasharray="6 4")}/>{spans}</svg>')


# --------------------------------------------------------------------------- states of a case


def states_from_workflow(workflow: Any, error_elements: set[str] = frozenset()) -> dict[str, ElementState]:
    """Each BPMN element's state in a live SpiffWorkflow workflow (subprocesses included).

    Multi-instance elements count their instances (the `[child]` tasks); elements of a called
    process run once per instance count those runs."""
    seen: dict[str, Counter[str]] = {}
    children: dict[str, Counter[str]] = {}
    for task in workflow.get_tasks():
        spec = task.task_spec
        element = getattr(spec, "bpmn_id", None)
        if not element:
            continue
        state = task.state
        word = ("error" if state == TaskState.ERROR else
                "active" if state in (TaskState.READY, TaskState.STARTED) else
                "waiting" if state == TaskState.WAITING else
                "completed" if state == TaskState.COMPLETED else None)
        counter = seen.setdefault(element, Counter())
        if word:
            counter[word] += 1
        if spec.name.endswith(" [child]") and word:
            children.setdefault(element, Counter())[word] += 1
    result: dict[str, ElementState] = {}
    for element, counter in seen.items():
        if element in error_elements or counter["error"]:
            state = "error"
        elif counter["active"]:
            state = "active"
        elif counter["waiting"]:
            state = "waiting"
        elif counter["completed"]:
            state = "completed"
        else:
            state = "not_reached"
        instances = children.get(element)
        runs = sum(counter.values())
        if instances:
            result[element] = ElementState(state, instances["completed"], sum(instances.values()))
        elif runs > 1 and state != "not_reached":
            result[element] = ElementState(state, counter["completed"], runs)
        else:
            result[element] = ElementState(state)
    return result


CASE_STATES: CaseStateCache[dict[str, ElementState]] = CaseStateCache()
_LAYOUTS: "OrderedDict[tuple[int, str], Layout]" = OrderedDict()
_LAYOUT_LOCK = threading.Lock()


def definition_layout(uow: "UnitOfWork", definition: "Definition") -> Layout:
    """The layout of a deployed version, parsed once per process (a version never changes)."""
    key = (definition.id, definition.sha256)
    with _LAYOUT_LOCK:
        found = _LAYOUTS.get(key)
        if found is not None:
            _LAYOUTS.move_to_end(key)
            return found
    layout = parse_layout(deployment_xml(uow, definition), definition.key)
    with _LAYOUT_LOCK:
        _LAYOUTS[key] = layout
        while len(_LAYOUTS) > 64:
            _LAYOUTS.popitem(last=False)
    return layout


def case_states(uow: "UnitOfWork", case: "Case") -> dict[str, ElementState]:
    """Element states of a case, from its workflow state (cached per exact state text)."""
    if not case.state:
        return {}
    cached = CASE_STATES.get(case.id, case.state)
    if cached is not None:
        return cached

    errors = {row.element_id for row in uow.tasks.of_case(case.id, TaskStatus.ERROR)}
    if case.error and ":" in case.error:
        errors.add(case.error.split(":", 1)[0].strip())
    state = case.state
    workflow = LIVE_WORKFLOWS.take(case.id, state)
    if workflow is None:
        spec, subprocess_specs = specs_of(uow, load_definition(uow, case.definition_id))
        workflow = load_state(state, spec, subprocess_specs)
    try:
        found = states_from_workflow(workflow, errors)
    finally:
        LIVE_WORKFLOWS.give_back(case.id, state, workflow)
    CASE_STATES.put(case.id, state, found)
    return found


def case_diagram(uow: "UnitOfWork", actor: "Actor", case_id: str) -> str:
    """The SVG of a case as the actor may see it (the case rules of `GET /cases/{id}`)."""
    case = get_case(uow, actor, case_id)
    definition = load_definition(uow, case.definition_id)
    layout = definition_layout(uow, definition)
    if layout.empty:
        return message_svg(NO_DI_MESSAGE, NO_DI_MESSAGE_EN)
    title = f"{case.name or case.business_key} · {definition.name or definition.key} v{definition.version}"
    return render_svg(layout, case_states(uow, case), title=title,
                      description="颜色和提示文字表示各环节在本案中的状态：已完成、办理中、等待中、出错、未到达。")


def definition_diagram(uow: "UnitOfWork", key: str, version: int | None = None) -> str:
    """The SVG of a deployed version (the latest unless `version`), without case states."""
    definition = find_definition(uow, key, version)
    layout = definition_layout(uow, definition)
    return render_svg(layout, None, title=f"{definition.name or definition.key} v{definition.version}")
