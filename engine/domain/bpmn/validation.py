"""First gate for uploaded BPMN files: size, hardened XML parse, BPMN 2.0 XSD, reference checks.

Files come from process designers over HTTP, so they are untrusted: nothing here expands
entities, reads a DTD or touches the network, and SpiffWorkflow only ever sees a tree that
passed.  Every problem is reported as ``file:line: element id: message`` (see
``format_problem``) so that later stages can report their own findings the same way.
"""
from __future__ import annotations

import os
import re
import threading
from collections import Counter
from typing import Iterable

import SpiffWorkflow.bpmn.parser as _spiff_parser
from lxml import etree

from engine.errors import InvalidDefinition, TooLarge

MAX_BPMN_BYTES = 5 * 1024 * 1024

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
NSMAP = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "di": DI_NS, "dc": DC_NS}
# Ids of these namespaces are xsd:ID in the schema; extension elements (camunda:formField...)
# may legitimately repeat an `id`, so they are not checked for duplicates.
_ID_NAMESPACES = frozenset(NSMAP.values())
# Shown instead of the long URIs in XSD messages.
_NS_PREFIXES = {BPMN_NS: "bpmn:", BPMNDI_NS: "bpmndi:", DI_NS: "di:", DC_NS: "dc:"}

SCHEMA_DIR = os.path.join(os.path.dirname(_spiff_parser.__file__), "schema")
_SCHEMA_FILES = frozenset({"BPMN20.xsd", "Semantic.xsd", "BPMNDI.xsd", "DI.xsd", "DC.xsd"})

# A DOCTYPE may only appear in the prolog; matching there (not anywhere) avoids refusing a
# file that merely mentions "<!DOCTYPE" inside a comment or CDATA further down.
# Each alternative starts differently and has a deterministic body (comments cannot contain
# "--"), so a hostile prolog cannot make this backtrack exponentially (ReDoS).
_PROLOG_DOCTYPE = re.compile(
    rb"\A(?:\xef\xbb\xbf)?(?:\s|<!--(?:[^-]|-(?!-))*-->|<\?(?:[^?]|\?(?!>))*\?>)*<!DOCTYPE")
_PROLOG_SCAN_BYTES = 64 * 1024  # longer prologs are left to the (encoding-aware) _has_doctype probe
_XSD_ELEMENT_MSG = re.compile(r"^Element '(\{[^}]*\})?([^']+)'(?:, attribute '([^']+)')?: (.*)$", re.S)


def _parser() -> etree.XMLParser:
    """A fresh hardened parser (parsers are not thread-safe, so one per call)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=False)


class _LocalSchemaResolver(etree.Resolver):
    """Lets xsd:import/include load only the five files shipped next to BPMN20.xsd."""

    def resolve(self, url, pubid, context):  # noqa: D102 - lxml callback
        name = os.path.basename(url or "")
        path = os.path.join(SCHEMA_DIR, name)
        if name in _SCHEMA_FILES and os.path.isfile(path):
            return self.resolve_filename(path, context)
        raise OSError(f"schema import of {url!r} refused: only local BPMN schema files are loaded")


_schema: etree.XMLSchema | None = None
_schema_lock = threading.Lock()


def bpmn_schema() -> etree.XMLSchema:
    """The BPMN 2.0 XMLSchema, compiled once per process (it takes ~0.1 s and is immutable)."""
    global _schema
    if _schema is None:
        with _schema_lock:
            if _schema is None:
                parser = _parser()
                parser.resolvers.add(_LocalSchemaResolver())
                doc = etree.parse(os.path.join(SCHEMA_DIR, "BPMN20.xsd"), parser)
                _schema = etree.XMLSchema(doc)
    return _schema


# --------------------------------------------------------------------------- formatting

def local_name(element: etree._Element) -> str:
    """`sequenceFlow` for `{bpmn-ns}sequenceFlow`; designers know the tag without namespace."""
    tag = element.tag
    if not isinstance(tag, str):  # comment / processing instruction
        return "comment"
    return etree.QName(tag).localname


def describe(element: etree._Element | None) -> str:
    """`sequenceFlow Flow_7` (or just the tag when there is no id): how problems name elements."""
    if element is None:
        return ""
    eid = element.get("id") if isinstance(element.tag, str) else None
    return f"{local_name(element)} {eid}" if eid else local_name(element)


def format_problem(filename: str, element: etree._Element | None, message: str,
                   line: int | None = None) -> str:
    """`permit.bpmn:42: sequenceFlow Flow_7: message`; every stage reports problems this way.

    `line` overrides the element's own source line (e.g. an lxml log entry's line).
    """
    if line is None and element is not None:
        line = element.sourceline
    where = f"{filename}:{line}" if line else filename
    what = describe(element)
    return f"{where}: {what}: {message}" if what else f"{where}: {message}"


def element_by_id(tree: etree._ElementTree | etree._Element, element_id: str) -> etree._Element | None:
    """The first BPMN element carrying `id` (SpiffWorkflow errors only give the id)."""
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("id") == element_id:
            return el
    return None


def element_line(tree: etree._ElementTree | etree._Element, element_id: str) -> int | None:
    """Source line of the element with `id`, or None; for reporting later-stage errors."""
    el = element_by_id(tree, element_id)
    return el.sourceline if el is not None else None


# --------------------------------------------------------------------------- the gate

def load_bpmn(data: bytes, filename: str) -> etree._ElementTree:
    """Parse and validate an uploaded BPMN file; raise with every problem found, else the tree.

    Raises `TooLarge` over `MAX_BPMN_BYTES` (before parsing) and `InvalidDefinition` with all
    problems otherwise.  Schema and reference problems are collected together; parse problems
    stop early because nothing past them can be trusted.
    """
    if len(data) > MAX_BPMN_BYTES:
        raise TooLarge(f"{filename}: {len(data)} bytes is over the 5 MB limit")
    tree = parse_xml(data, filename)
    problems = schema_problems(tree, filename) + reference_problems(tree, filename)
    if problems:
        raise InvalidDefinition(sorted(problems, key=lambda p: _line_of(p, filename)))
    return tree


def _doctype_refusal(filename: str, line: int) -> str:
    return (f"{filename}:{line}: DOCTYPE is not allowed in BPMN files "
            "(DTDs and entity declarations are refused for safety)")


class _DoctypeFound(Exception):
    pass


class _RootReached(Exception):
    pass


class _PrologProbe:
    """Parser target that stops at the DOCTYPE (before its entity declarations) or the root tag."""

    def doctype(self, name, pubid, system):  # noqa: D102 - lxml callback
        raise _DoctypeFound()

    def start(self, tag, attrib):  # noqa: D102 - lxml callback
        raise _RootReached()

    def close(self) -> None:  # noqa: D102 - lxml callback
        return None


def _has_doctype(data: bytes) -> bool:
    """Encoding-independent DOCTYPE check: libxml2 decodes, we stop before anything is expanded.

    Needed because with resolve_entities=False libxml2 still expands entities inside attribute
    values (only its amplification guard stops a billion-laughs there), and a UTF-16 file hides
    `<!DOCTYPE` from a byte search.
    """
    parser = etree.XMLParser(target=_PrologProbe(), resolve_entities=False, no_network=True,
                             load_dtd=False, huge_tree=False)
    try:
        etree.fromstring(data, parser)
    except _DoctypeFound:
        return True
    except (_RootReached, etree.XMLSyntaxError, ValueError):
        return False  # syntax errors are reported by the real parse
    return False


def _doctype_line(data: bytes) -> int:
    text = None
    for bom, codec in ((b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            text = data.decode(codec, errors="replace")
    if text is None:
        text = data.decode("latin-1")
    pos = text.find("<!DOCTYPE")
    return text.count("\n", 0, pos) + 1 if pos >= 0 else 1


def parse_xml(data: bytes, filename: str) -> etree._ElementTree:
    """Hardened parse: no DTD, entities or network; any DOCTYPE is refused outright."""
    m = _PROLOG_DOCTYPE.match(data, 0, _PROLOG_SCAN_BYTES)
    if m:  # fast path for UTF-8/ASCII files: refuse before libxml2 sees the declarations
        raise InvalidDefinition([_doctype_refusal(filename, data.count(b"\n", 0, m.end()) + 1)])
    if _has_doctype(data):
        raise InvalidDefinition([_doctype_refusal(filename, _doctype_line(data))])
    parser = _parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        # parser.error_log, not exc.error_log: the latter also holds earlier errors of this thread.
        log = parser.error_log
        entries = [e for e in log if e.level >= etree.ErrorLevels.ERROR] or list(log)
        problems = [f"{filename}:{e.line}: {e.message}" for e in entries]
        if not problems:
            line = exc.lineno or (exc.position[0] if exc.position else 0)
            problems = [f"{filename}:{line}: {exc.msg}"]
        raise InvalidDefinition(_dedupe(problems)) from None
    except ValueError as exc:  # e.g. str with encoding declaration, empty input
        raise InvalidDefinition([f"{filename}:1: {exc}"]) from None
    if root is None:
        raise InvalidDefinition([f"{filename}:1: empty document"])
    tree = root.getroottree()
    # Last backstop (should be unreachable after _has_doctype): refuse any DTD the parse saw.
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None or tree.docinfo.externalDTD is not None:
        raise InvalidDefinition([_doctype_refusal(filename, 1)])
    return tree


def _short_ns(text: str) -> str:
    for uri, prefix in _NS_PREFIXES.items():
        text = text.replace("{" + uri + "}", prefix)
    return text


def _element_for_error(tree: etree._ElementTree, line: int, ns: str | None, tag: str) -> etree._Element | None:
    qualified = f"{ns}{tag}" if ns else tag
    fallback = None
    for el in tree.getroot().iter():
        if el.sourceline == line and isinstance(el.tag, str):
            if el.tag == qualified:
                return el
            fallback = fallback or el
    return fallback


def schema_problems(tree: etree._ElementTree, filename: str) -> list[str]:
    """XSD errors as `file:line: tag id: message` (namespaces shortened to `bpmn:` etc.).

    bpmn.io writes `correlationPropertyRetrievalExpression/formalExpression` where the XSD wants
    `messagePath`; like SpiffWorkflow's own validator we accept it (renaming only while validating).
    """
    renamed = tree.getroot().xpath(
        ".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression", namespaces=NSMAP)
    for el in renamed:
        el.tag = f"{{{BPMN_NS}}}messagePath"
    schema = bpmn_schema()
    try:
        with _schema_lock:  # the shared schema's error_log is per object, not per call
            schema.validate(tree)
            entries = list(schema.error_log)
    finally:
        for el in renamed:
            el.tag = f"{{{BPMN_NS}}}formalExpression"
    problems = []
    for e in entries:
        if e.type_name == "SCHEMAV_CVC_DATATYPE_VALID_1_2_1" and "'xs:ID'" in e.message:
            continue  # duplicate / malformed ids: reported more clearly by reference_problems
        m = _XSD_ELEMENT_MSG.match(e.message)
        if m:
            ns, tag, attr, msg = m.groups()
            el = _element_for_error(tree, e.line, ns, tag)
            msg = _short_ns(msg)
            if attr:
                msg = f"attribute '{attr}': {msg}"
            problems.append(format_problem(filename, el, msg, line=e.line)
                            if el is not None else f"{filename}:{e.line}: {tag}: {msg}")
        else:
            problems.append(f"{filename}:{e.line}: {_short_ns(e.message)}")
    return _dedupe(problems)


def _bpmn(el: etree._Element, name: str) -> bool:
    return el.tag == f"{{{BPMN_NS}}}{name}"


def _ref(value: str | None) -> str:
    """QName-typed references (`attachedToRef`, `incoming`) may carry a prefix; ids do not."""
    value = (value or "").strip()
    return value.split(":", 1)[1] if ":" in value else value


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1")


# (tag, attribute) pairs whose value must name an existing id, beyond the ones checked specially.
_ATTR_REFS: tuple[tuple[str, str], ...] = (
    ("messageFlow", "sourceRef"), ("messageFlow", "targetRef"),
    ("boundaryEvent", "attachedToRef"),
    ("participant", "processRef"),
    ("messageEventDefinition", "messageRef"),
    ("signalEventDefinition", "signalRef"),
    ("errorEventDefinition", "errorRef"),
    ("escalationEventDefinition", "escalationRef"),
)
_DEFAULT_FLOW_TAGS = frozenset({"exclusiveGateway", "inclusiveGateway", "complexGateway", "task",
                                "userTask", "serviceTask", "scriptTask", "manualTask", "sendTask",
                                "receiveTask", "businessRuleTask", "callActivity", "subProcess"})


def reference_problems(tree: etree._ElementTree, filename: str) -> list[str]:
    """Checks the XSD cannot do (libxml2 does not resolve IDREFs): ids, refs, start events."""
    root = tree.getroot()
    problems: list[str] = []
    if not _bpmn(root, "definitions"):
        return [format_problem(filename, root, "root element must be bpmn:definitions")]

    elements = [el for el in root.iter() if isinstance(el.tag, str)]
    by_id: dict[str, etree._Element] = {}
    counts: Counter[str] = Counter()
    for el in elements:
        eid = el.get("id")
        if eid is None or etree.QName(el).namespace not in _ID_NAMESPACES:
            continue
        counts[eid] += 1
        if counts[eid] == 1:
            by_id[eid] = el
        else:
            problems.append(format_problem(
                filename, el, f"duplicate id '{eid}' (first used on line {by_id[eid].sourceline})"))

    def missing(el: etree._Element, what: str, ref: str) -> None:
        problems.append(format_problem(filename, el, f"{what} '{ref}' does not exist"))

    for el in elements:
        if etree.QName(el).namespace != BPMN_NS:
            continue
        tag = local_name(el)
        if tag == "sequenceFlow":
            for attr in ("sourceRef", "targetRef"):
                ref = el.get(attr)
                if ref is None:
                    continue  # the XSD already says it is required
                target = by_id.get(ref)
                if target is None:
                    missing(el, attr, ref)
                elif target.getparent() is not el.getparent():
                    problems.append(format_problem(
                        filename, el, f"{attr} '{ref}' is not in the same process or sub-process"))
        elif tag in ("incoming", "outgoing"):
            ref = _ref(el.text)
            owner = el.getparent()
            target = by_id.get(ref)
            if not ref:
                problems.append(format_problem(filename, owner, f"empty {tag} reference", line=el.sourceline))
            elif target is None:
                problems.append(format_problem(filename, owner, f"{tag} '{ref}' does not exist",
                                               line=el.sourceline))
            elif not _bpmn(target, "sequenceFlow"):
                problems.append(format_problem(filename, owner, f"{tag} '{ref}' is not a sequenceFlow",
                                               line=el.sourceline))
        elif tag == "flowNodeRef":
            ref = (el.text or "").strip()
            if ref not in by_id:
                problems.append(format_problem(filename, el.getparent(), f"flowNodeRef '{ref}' does not exist",
                                               line=el.sourceline))
        elif tag == "callActivity" and not (el.get("calledElement") or "").strip():
            problems.append(format_problem(filename, el, "callActivity has no calledElement"))
        if tag in _DEFAULT_FLOW_TAGS and el.get("default") and el.get("default") not in by_id:
            missing(el, "default flow", el.get("default"))
        for ref_tag, attr in _ATTR_REFS:
            if tag == ref_tag and el.get(attr) is not None and _ref(el.get(attr)) not in by_id:
                missing(el, attr, _ref(el.get(attr)))

    problems.extend(_process_problems(root, filename))
    return _dedupe(problems)


def executable_processes(root: etree._Element) -> list[etree._Element]:
    """Processes marked isExecutable="true"; if none is, the unmarked ones (older modelers omit it)."""
    processes = root.findall("bpmn:process", NSMAP)
    marked = [p for p in processes if _is_true(p.get("isExecutable"))]
    return marked or [p for p in processes if p.get("isExecutable") is None]


def _process_problems(root: etree._Element, filename: str) -> Iterable[str]:
    executable = executable_processes(root)
    if not executable:
        yield format_problem(filename, root, "no executable process (mark one isExecutable=\"true\")")
    for proc in executable:
        if proc.find("bpmn:startEvent", NSMAP) is None:
            yield format_problem(filename, proc, "process has no start event")


def _line_of(problem: str, filename: str) -> int:
    head = problem[len(filename) + 1:].split(":", 1)[0]
    return int(head) if head.isdigit() else 0


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
