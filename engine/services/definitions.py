"""Deploy and version BPMN definitions: one file or several as one atomic deployment.

Every file of a deployment is checked in full before anything is stored (XML gate, XSD,
references, expressions, timers, service tasks, departments, SpiffWorkflow's own parse), and
every problem of every file is reported at once as `file:line: element: message`. Call
activities may target processes of another file of the same deployment (in any order) or
processes deployed before; the called specs are pinned into the caller's version.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

from lxml import etree
from sqlalchemy.exc import IntegrityError

from engine.domain import business_key
from engine.services import start_timers
from engine.domain.access import Actor, require_role
from engine.domain.bpmn import checks
from engine.domain.bpmn.parser import BPMN_NS, NS, ParsedFile, parse_specs
from engine.adapters.serializer import dump_specs
from engine.domain.bpmn.validation import (MAX_BPMN_BYTES, format_problem, parse_xml, reference_problems,
                                    schema_problems)
from engine.domain.dmn import decision_files
from engine.services import decision_files as dmn_deployment
from engine.errors import Conflict, Invalid, InvalidDefinition, NotFound, TooLarge
from engine.adapters.models import Definition, Deployment
from engine.adapters.uow import UnitOfWork

MAX_FILES = 100  # files in one deployment
MAX_FILE_NAME = 255  # the column's width


@dataclass
class Deployed:
    definitions: list[Definition]
    created: bool  # False when every process was identical to its latest version
    warnings: list[str] = field(default_factory=list)  # `file:line: element: message`, nothing refused
    new_keys: set[str] = field(default_factory=set)  # the processes that got a new version
    files: dict[str, str] = field(default_factory=dict)  # process key -> the file it came from

    def is_new(self, definition: Definition) -> bool:
        return definition.key in self.new_keys


@dataclass
class _File:
    """One file of a deployment while it is checked."""

    name: str
    data: bytes
    tree: etree._ElementTree | None = None
    problems: list[str] = field(default_factory=list)
    parsed: ParsedFile | None = None
    decisions: decision_files.DecisionFile | None = None  # a DMN file's decision tables

    @property
    def process_ids(self) -> list[str]:
        if self.tree is None:
            return []
        return [p.get("id") for p in self.tree.getroot().iterfind("bpmn:process", NS) if p.get("id")]


CheckedFile = _File  # what `check_files` takes (also `onewindow lint`)


def _called(tree: etree._ElementTree) -> set[str]:
    return {c.get("calledElement").strip() for c in tree.getroot().iter(f"{{{BPMN_NS}}}callActivity")
            if (c.get("calledElement") or "").strip()}


def _check_file(organisation: Any, file: _File, now: datetime) -> None:
    """The checks that need only the file itself; fills `file.tree` and `file.problems`."""
    if len(file.data) > MAX_BPMN_BYTES:
        raise TooLarge(f"{file.name}: {len(file.data)} bytes is over the 5 MB limit")
    try:
        file.tree = parse_xml(file.data, file.name)
    except InvalidDefinition as error:  # not XML: nothing further can be checked
        file.problems += error.problems
        return
    try:
        file.data.decode("utf-8")  # stored as text, and what modelers write
    except UnicodeDecodeError:
        encoding = file.tree.docinfo.encoding or "not UTF-8"
        file.problems.append(f"{file.name}:1: the file is {encoding}; save it as UTF-8 "
                             f"(as Camunda Modeler and bpmn.io do)")
        return
    tree, name = file.tree, file.name
    if decision_files.is_dmn(tree):  # a DMN file: its decisions serve the deployment's business rule tasks
        file.decisions = decision_files.read(tree, name)
        file.problems += file.decisions.problems
        return
    file.problems += schema_problems(tree, name) + reference_problems(tree, name)
    file.problems += (checks.reserved_id_problems(tree, name) + checks.expression_problems(tree, name)
                      + checks.timer_problems(tree, name, now) + checks.service_task_problems(tree, name)
                      + checks.business_rule_problems(tree, name) + checks.loop_problems(tree, name)
                      + checks.length_problems(tree, name)
                      + checks.department_problems(tree, name, organisation))


# The file of the latest deployed version of a process key (None: not deployed), for call targets.
DeployedLookup = Callable[[str], "tuple[etree._ElementTree, str] | None"]


def _deployed_file(uow: UnitOfWork, key: str) -> tuple[etree._ElementTree, str] | None:
    definition = latest_definition(uow, key)
    if definition is None:
        return None
    deployment = uow.deployments.get(definition.deployment_id)
    return parse_xml(deployment.bpmn_xml.encode(), deployment.file_name), deployment.file_name


def _dependencies(deployed: DeployedLookup, file: _File,
                  upload: dict[str, _File]) -> list[tuple[etree._ElementTree, str]]:
    """The files holding the processes `file` calls, directly or through other calls: a file of
    the same deployment first, else the file of the latest deployed version."""
    found: list[tuple[etree._ElementTree, str]] = []
    known = set(file.process_ids)
    wanted = sorted(_called(file.tree) - known)
    while wanted:
        key = wanted.pop()
        if key in known:
            continue
        source = upload.get(key)
        if source is not None and source.tree is not None:
            tree, name = source.tree, source.name
        else:
            found_file = deployed(key)
            if found_file is None:
                known.add(key)
                continue  # SpiffWorkflow reports the missing target with its line
            tree, name = found_file
        found.append((tree, name))
        known |= {p.get("id") for p in tree.getroot().iterfind("bpmn:process", NS)}
        wanted += sorted(_called(tree) - known)
    return found


def _sorted_problems(files: list[_File]) -> list[str]:
    """Each file's problems in line order, files in upload order, each problem once."""
    def line(problem: str, name: str) -> int:
        head = problem[len(name) + 1:].split(":", 1)[0] if problem.startswith(name + ":") else ""
        return int(head) if head.isdigit() else 0
    out: list[str] = []
    for file in files:
        out += sorted(dict.fromkeys(file.problems), key=lambda p, n=file.name: line(p, n))
    return list(dict.fromkeys(out))


def _file_name(raw: str | None) -> str:
    name = Path(raw or "upload.bpmn").name or "upload.bpmn"
    if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in name):
        raise Invalid(f"file name {name!r} contains control characters", errors={"file": ["bad file name"]})
    if len(name) > MAX_FILE_NAME:
        raise Invalid(f"file name {name[:40]!r}... is longer than {MAX_FILE_NAME} characters",
                      errors={"file": ["file name too long"]})
    return name


def deploy(uow: UnitOfWork, actor: Actor, data: bytes, filename: str) -> Deployed:
    """Deploy one BPMN file; identical to the latest version of each process → nothing new."""
    return deploy_files(uow, actor, [(data, filename)])


def deploy_files(uow: UnitOfWork, actor: Actor, uploads: Sequence[tuple[bytes, str]]) -> Deployed:
    """Deploy several BPMN files as one deployment: all of them or none (the caller commits).

    Each process gets a new version when its file's bytes or anything it calls changed;
    otherwise its latest version stands (an identical redeploy creates nothing).
    """
    require_role(actor, "designer")
    if not uploads:
        raise Invalid("a deployment needs at least one BPMN file", errors={"file": ["required"]})
    if len(uploads) > MAX_FILES:
        raise Invalid(f"a deployment holds at most {MAX_FILES} files, not {len(uploads)}",
                      errors={"file": [f"more than {MAX_FILES} files"]})
    files = [_File(_file_name(name), data) for data, name in uploads]
    seen: dict[str, int] = {}
    for file in files:
        seen[file.name] = seen.get(file.name, 0) + 1
    twice = sorted(name for name, count in seen.items() if count > 1)
    if twice:
        raise Invalid(f"two files of the deployment are named {twice[0]!r}; give each file its own name",
                      errors={"file": [f"{name}: named twice" for name in twice]})

    now = uow.runtime.clock()
    # each deployed call target parsed once per deploy, however many files call it
    check_files(files, now, uow.organisation, functools.cache(lambda key: _deployed_file(uow, key)),
                lambda refs: dmn_deployment.stored_decisions(uow, refs))
    if any(f.problems for f in files):
        raise InvalidDefinition(_sorted_problems(files))

    warnings: list[str] = []
    for file in files:
        if file.decisions is not None:
            continue
        warnings += checks.form_key_warnings(file.tree, file.name, uow.runtime.forms)
    return _store(uow, actor, files, now, warnings)


def check_files(files: list[_File], now: datetime, organisation: Any, deployed: DeployedLookup,
                stored: dmn_deployment.StoredDecisions = lambda refs: {}) -> None:
    """Every deploy check of every file, without storing anything: fills each file's `problems`
    (and `parsed` when it has none). `deployed` finds call targets and `stored` decisions
    outside the files (the database at deploy; nothing for `onewindow lint`)."""
    for file in files:
        _check_file(organisation, file, now)
    upload: dict[str, _File] = {}
    for file in files:
        for pid in file.process_ids:
            other = upload.get(pid)
            if other is not None and other is not file:
                node = next(p for p in file.tree.getroot().iterfind("bpmn:process", NS) if p.get("id") == pid)
                file.problems.append(format_problem(file.name, node, f"process '{pid}' is also defined in "
                                                                     f"{other.name}"))
            upload.setdefault(pid, file)
    decisions = dmn_deployment.Decisions.of([f.decisions for f in files], unreadable=any(f.tree is None for f in files))
    files[0].problems += decisions.duplicate_problems()
    structurally_sound = [f for f in files if f.tree is not None and not f.problems and f.decisions is None]
    for file in structurally_sound:
        dependencies = _dependencies(deployed, file, upload)
        file.problems += checks.call_cycle_problems(file.tree, file.name, [tree for tree, _ in dependencies])
        problems, decidable = decisions.check(stored, file.tree, file.name, [tree for tree, _ in dependencies])
        file.problems += problems
        if file.problems or not decidable:
            continue
        try:
            file.parsed = parse_specs(file.tree, file.name, dependencies, decisions.tables)
        except InvalidDefinition as error:
            file.problems += error.problems
            continue
        for key, elements in file.parsed.elements.items():  # a business key format nobody knows
            file.problems += business_key.deploy_problems(elements, key, file.name)


def _store(uow: UnitOfWork, actor: Actor, files: list[_File], now: datetime, warnings: list[str]) -> Deployed:
    """New versions for what changed, one `deployments` row per file that has one."""
    plans = []  # (file, key, previous, spec_json)
    problems: list[str] = []
    for file in files:
        if file.parsed is None:  # a DMN file: stored below, its tables live in the specs that use them
            continue
        sha = hashlib.sha256(file.data).hexdigest()
        for key, spec in file.parsed.specs.items():
            previous = latest_definition(uow, key)
            spec_json = dump_specs(spec, file.parsed.subprocess_specs[key])
            unchanged = (previous is not None and previous.sha256 == sha and previous.spec_json == spec_json
                         and previous.elements == file.parsed.elements[key])
            planned = None
            if not unchanged:
                try:
                    planned = start_timers.schedules(spec, now, file.name)
                except InvalidDefinition as error:
                    problems += error.problems
            plans.append((file, sha, key, previous, None if unchanged else spec_json, planned))
    if problems:
        raise InvalidDefinition(list(dict.fromkeys(problems)))

    try:  # a concurrent deploy of the same key (two servers starting) fails any of these flushes
        definitions, new = _insert(uow, actor, plans, now)
    except IntegrityError as error:
        raise Conflict("another deployment of the same process happened at the same time; retry") from error
    dmn_deployment.store_files(uow, actor.name, [(f.name, f.data) for f in files if f.decisions is not None], now)
    for definition, specs, planned in new:
        start_timers.replace_for(uow, definition, planned)
        # Cached as restored from the stored JSON, exactly what any other process loads (never
        # the parser's objects: a case must run the same on every worker).
        uow.after_commit(lambda i=definition.id, text=definition.spec_json:
                         uow.runtime.specs.get(i, lambda: text))
    return Deployed(definitions, created=bool(new), warnings=warnings,
                    new_keys={d.key for d, _, _ in new},
                    files={key: file.name for file, _, key, _, _, _ in plans})


def _insert(uow: UnitOfWork, actor: Actor, plans: list, now: datetime) -> tuple[list[Definition], list]:
    """The rows of the new versions (and of the files they come from); flushed."""
    definitions: list[Definition] = []
    deployments: dict[str, Deployment] = {}
    new: list[tuple[Definition, Any, list]] = []
    for file, sha, key, previous, spec_json, planned in plans:
        if spec_json is None:
            definitions.append(previous)
            continue
        deployment = deployments.get(file.name)
        if deployment is None:
            deployment = deployments[file.name] = Deployment(
                file_name=file.name, sha256=sha, bpmn_xml=file.data.decode("utf-8"),
                deployed_at=now, deployed_by=actor.name)
            uow.deployments.add_now(deployment)
        definition = Definition(
            key=key, version=(previous.version + 1) if previous else 1, name=file.parsed.names.get(key),
            sha256=sha, deployment_id=deployment.id, spec_json=spec_json,
            elements=file.parsed.elements[key], deployed_at=now, deployed_by=actor.name)
        uow.definitions.add(definition)
        definitions.append(definition)
        new.append((definition, (file.parsed.specs[key], file.parsed.subprocess_specs[key]), planned))
    uow.definitions.flush()
    return definitions, new


def latest_definition(uow: UnitOfWork, key: str) -> Definition | None:
    return uow.definitions.latest(key)


def find_definition(uow: UnitOfWork, key: str, version: int | None = None) -> Definition:
    """A version of a process (the latest unless `version` is given). Only its id is read here:
    the row, with its large `spec_json`, comes from the process's cache, since a deployed
    version never changes (a case start pays one small query, not the whole row)."""
    definition_id = uow.definitions.id_of(key, version)
    definition = None if definition_id is None else uow.runtime.specs.definition(
        definition_id, lambda: uow.definitions.get(definition_id))
    if definition is None:
        raise NotFound(f"process definition {key!r}" + (f" version {version}" if version else "")
                       + " is not deployed")
    return definition


def list_definitions(uow: UnitOfWork) -> list[Definition]:
    """The latest version of every process key."""
    return uow.definitions.latest_of_each()


def definition_versions(uow: UnitOfWork, key: str) -> list[Definition]:
    return uow.definitions.versions(key)


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
    return uow.deployments.get(definition.deployment_id).bpmn_xml


def bpmn_files(paths: Sequence[str | Path]) -> list[Path]:
    """The .bpmn files named by `paths` (files as given, directories searched recursively), and
    the .dmn files of those directories (decisions deploy with the processes using them)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        found += sorted(path.glob("**/*.bpmn")) + sorted(path.glob("**/*.dmn")) if path.is_dir() else [path]
    return found


def deploy_paths(uow: UnitOfWork, actor: Actor, paths: Sequence[str | Path]) -> Deployed:
    """Deploy the BPMN files of `paths` as one deployment (`onewindow deploy DIR`, start-up)."""
    return deploy_files(uow, actor, [(path.read_bytes(), path.name) for path in bpmn_files(paths)])


def deploy_directory(uow_factory, actor: Actor, directory: Path) -> list[Deployed]:  # type: ignore[no-untyped-def]
    """Deploy every .bpmn file under `directory` as one deployment, in its own transaction."""
    if not bpmn_files([directory]):
        return []
    with uow_factory() as uow:
        result = deploy_paths(uow, actor, [directory])
        uow.commit()
    return [result]


def uploads_of(paths: Sequence[str | Path]) -> list[tuple[bytes, str]]:
    """The BPMN and DMN files of `paths` as (content, name), as `deploy_uploads` takes them."""
    return [(path.read_bytes(), path.name) for path in bpmn_files(paths)]


def deploy_uploads(uow: UnitOfWork, actor: Actor, uploads: Sequence[tuple[bytes, str]], *,
                   dry_run: bool = False) -> Deployed:
    """`deploy_files` as a use case. A dry run runs every check and never commits: the unit of work
    is left uncommitted and rolls back, so nothing is stored."""
    with uow:
        result = deploy_files(uow, actor, uploads)
        if not dry_run:
            uow.commit()
    return result
