"""Deploy and version BPMN definitions: validate, check expressions and departments, store specs."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from engine import business_key, expressions, routing, start_timers
from engine.access import Actor, require_role
from engine.bpmn.parser import BPMN_NS, NS, parse_specs
from engine.bpmn.serializer import dump_specs
from engine.bpmn.validation import load_bpmn
from engine.errors import Conflict, InvalidDefinition, NotFound
from engine.store.models import Definition, Deployment
from engine.store.uow import UnitOfWork

# Elements whose text is an expression, and how it is evaluated.
_EXPRESSION_ELEMENTS = {
    "conditionExpression": "eval",
    "script": "exec",
    "timeDate": "eval",
    "timeDuration": "eval",
    "timeCycle": "eval",
    "loopCardinality": "eval",
    "completionCondition": "eval",
}


@dataclass
class Deployed:
    definitions: list[Definition]
    created: bool  # False when every process in the file was identical to its latest version


def _owner(node: etree._Element) -> etree._Element:
    """The flow element an expression belongs to, for error messages."""
    while node is not None and not node.get("id"):
        node = node.getparent()
    return node


def check_expressions(tree: etree._ElementTree, filename: str) -> list[str]:
    """Refuse at deploy any expression that tries to leave the sandbox, naming element and line."""
    problems = []
    for local, mode in _EXPRESSION_ELEMENTS.items():
        for node in tree.getroot().iter(f"{{{BPMN_NS}}}{local}"):
            text = (node.text or "").strip()
            if not text or (local.startswith("time") and expressions.ISO_TIMER_LITERAL.fullmatch(text)):
                continue
            try:
                expressions.check(text, mode)
            except expressions.ExpressionError as error:
                owner = _owner(node)
                tag = etree.QName(owner).localname if owner is not None else local
                owner_id = owner.get("id") if owner is not None else ""
                problems.append(f"{filename}:{node.sourceline}: {tag} {owner_id}: {local}: {error}")
    for node in tree.getroot().iter():
        if not isinstance(node.tag, str):
            continue
        for attribute in ("candidateGroups", "assignee", "collection"):
            value = node.get(f"{{{NS['camunda']}}}{attribute}") or ""
            if routing.is_expression(value):
                try:
                    expressions.check(routing.expression_of(value), "eval")
                except expressions.ExpressionError as error:
                    problems.append(f"{filename}:{node.sourceline}: {etree.QName(node).localname} "
                                    f"{node.get('id')}: {attribute}: {error}")
    return problems


# SpiffWorkflow names its own internal task specs so; a BPMN element with one of these ids breaks it.
RESERVED_IDS = ("Start", "End", "Root")


def check_reserved_ids(tree: etree._ElementTree, filename: str) -> list[str]:
    return [f"{filename}:{node.sourceline}: {etree.QName(node).localname} {node.get('id')}: "
            f"the id '{node.get('id')}' is reserved by the engine; rename it (e.g. '{node.get('id')}Event')"
            for node in tree.getroot().iter() if isinstance(node.tag, str) and node.get("id") in RESERVED_IDS]


def check_departments(elements: dict[str, dict], organisation, filename: str) -> list[str]:  # type: ignore[no-untyped-def]
    problems = []
    for element_id, meta in elements.items():
        for code in routing.literal_departments(meta):
            if code not in organisation:
                problems.append(f"{filename}:{meta.get('line', '?')}: {element_id}: "
                                f"candidate group '{code}' is not a known department")
        lane = meta.get("lane")
        if lane and not meta.get("candidateGroups") and routing.lane_department(lane, organisation) is None:
            problems.append(f"{filename}:{meta.get('line', '?')}: {element_id}: "
                            f"lane '{lane}' is not a known department (name it by code or by name)")
    return problems


def _dependencies(uow: UnitOfWork, tree: etree._ElementTree) -> list[tuple[etree._ElementTree, str]]:
    """Deployed files holding the targets of call activities this file does not define itself."""
    root = tree.getroot()
    own = {p.get("id") for p in root.iterfind("bpmn:process", NS)}
    called = {c.get("calledElement") for c in root.iter(f"{{{BPMN_NS}}}callActivity")} - own - {None}
    found = []
    for key in sorted(called):
        definition = latest_definition(uow, key)
        if definition is None:
            continue  # the parser reports the missing target with its line
        deployment = uow.session.get(Deployment, definition.deployment_id)
        found.append((etree.ElementTree(etree.fromstring(deployment.bpmn_xml.encode())), deployment.file_name))
    return found


def latest_definition(uow: UnitOfWork, key: str) -> Definition | None:
    return uow.session.scalar(
        select(Definition).where(Definition.key == key).order_by(Definition.version.desc()).limit(1))


def find_definition(uow: UnitOfWork, key: str, version: int | None = None) -> Definition:
    """A version of a process (the latest unless `version` is given). Only its id is read here:
    the row, with its large `spec_json`, comes from the process's cache, since a deployed
    version never changes (a case start pays one small query, not the whole row)."""
    query = select(Definition.id).where(Definition.key == key)
    query = (query.order_by(Definition.version.desc()).limit(1) if version is None
             else query.where(Definition.version == version))
    definition_id = uow.session.scalar(query)
    definition = None if definition_id is None else uow.runtime.specs.definition(
        definition_id, lambda: uow.session.get(Definition, definition_id))
    if definition is None:
        raise NotFound(f"process definition {key!r}" + (f" version {version}" if version else "")
                       + " is not deployed")
    return definition


def list_definitions(uow: UnitOfWork) -> list[Definition]:
    """The latest version of every process key."""
    latest = (select(Definition.key, func.max(Definition.version).label("version"))
              .group_by(Definition.key).subquery())
    return list(uow.session.scalars(
        select(Definition).join(latest, (Definition.key == latest.c.key)
                                & (Definition.version == latest.c.version)).order_by(Definition.key)))


def definition_versions(uow: UnitOfWork, key: str) -> list[Definition]:
    return list(uow.session.scalars(
        select(Definition).where(Definition.key == key).order_by(Definition.version)))


def deploy(uow: UnitOfWork, actor: Actor, data: bytes, filename: str) -> Deployed:
    """Deploy one BPMN file; identical to the latest version of each process → nothing new."""
    require_role(actor, "designer")
    filename = Path(filename or "upload.bpmn").name
    tree = load_bpmn(data, filename)
    problems = check_reserved_ids(tree, filename) + check_expressions(tree, filename)
    if problems:
        raise InvalidDefinition(problems)
    parsed = parse_specs(tree, filename, _dependencies(uow, tree))
    problems = []
    for elements in parsed.elements.values():
        problems += check_departments(elements, uow.runtime.organisation, filename)
    for key, elements in parsed.elements.items():
        problems += business_key.deploy_problems(elements, key, filename)
    if problems:
        raise InvalidDefinition(sorted(set(problems)))

    sha = hashlib.sha256(data).hexdigest()
    latest = {key: latest_definition(uow, key) for key in parsed.specs}
    if all(d is not None and d.sha256 == sha for d in latest.values()):
        return Deployed([d for d in latest.values() if d is not None], created=False)

    now = uow.runtime.clock()
    planned = {key: start_timers.schedules(spec, now, filename) for key, spec in parsed.specs.items()
               if latest[key] is None or latest[key].sha256 != sha}
    deployment = Deployment(file_name=filename, sha256=sha, bpmn_xml=data.decode("utf-8"),
                            deployed_at=now, deployed_by=actor.name)
    uow.session.add(deployment)
    uow.session.flush()
    definitions = []
    for key, spec in parsed.specs.items():
        previous = latest[key]
        if previous is not None and previous.sha256 == sha:
            definitions.append(previous)
            continue
        definition = Definition(
            key=key, version=(previous.version + 1) if previous else 1, name=parsed.names.get(key),
            sha256=sha, deployment_id=deployment.id,
            spec_json=dump_specs(spec, parsed.subprocess_specs[key]),
            elements=parsed.elements[key], deployed_at=now, deployed_by=actor.name)
        uow.session.add(definition)
        definitions.append(definition)
    try:
        uow.session.flush()
    except IntegrityError as error:
        raise Conflict("another deployment of the same process happened at the same time; retry") from error
    for definition in definitions:
        if definition.key in planned:
            start_timers.replace_for(uow, definition, planned[definition.key])
    for definition in definitions:
        if definition.key in parsed.specs and definition.deployment_id == deployment.id:
            specs = (parsed.specs[definition.key], parsed.subprocess_specs[definition.key])
            uow.after_commit(lambda d=definition, s=specs: uow.runtime.specs.put(d.id, s))
    return Deployed(definitions, created=True)


def definition_detail(uow: UnitOfWork, key: str) -> dict[str, Any]:
    """The latest version of a process with every version and its start timers' next firings."""
    versions = definition_versions(uow, key)
    if not versions:
        raise NotFound(f"process definition {key!r} is not deployed")
    latest = versions[-1]
    number = {d.id: d.version for d in versions}
    timers = [{"element_id": t.element_id, "version": number.get(t.definition_id), "due_at": t.due_at,
               "remaining": t.remaining, "started": t.started} for t in start_timers.pending(uow, key)]
    return {**{c: getattr(latest, c) for c in ("key", "version", "name", "sha256", "deployed_at", "deployed_by")},
            "versions": versions, "start_timers": timers}


def deployment_xml(uow: UnitOfWork, definition: Definition) -> str:
    return uow.session.get(Deployment, definition.deployment_id).bpmn_xml


def deploy_in_order(paths: list[Path], deploy_one: Any) -> list[Deployed]:
    """Call `deploy_one(path)` for every file, trying refused files again after the others, so
    a file may come before the processes it calls. Raises the first file's error when no file
    of those left can be deployed any more."""
    pending, results = list(paths), []
    errors: dict[Path, InvalidDefinition] = {}
    while pending:
        left = []
        for path in pending:
            try:
                results.append(deploy_one(path))
            except InvalidDefinition as error:
                errors[path] = error
                left.append(path)
        if len(left) == len(pending):
            raise errors[left[0]]
        pending = left
    return results


def deploy_directory(uow_factory, actor: Actor, directory: Path) -> list[Deployed]:  # type: ignore[no-untyped-def]
    """Deploy every .bpmn file under `directory` (start-up and `onewindow deploy DIR`), each in
    its own transaction."""
    def deploy_one(path: Path) -> Deployed:
        with uow_factory() as uow:
            result = deploy(uow, actor, path.read_bytes(), path.name)
            uow.commit()
        return result
    return deploy_in_order(sorted(Path(directory).glob("**/*.bpmn")), deploy_one)
