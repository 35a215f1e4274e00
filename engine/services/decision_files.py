"""DMN files in a deployment: which decisions a business rule task may use, and keeping the files.

A deployment may hold DMN files next to its BPMN files (multipart upload, `onewindow deploy
DIR`, the shipped `processes/`). A task's `decisionRef` is looked up in the deployment's DMN
files first, then in the DMN files deployed before (the latest file defining that decision):
Camunda's `decisionRefBinding="latest"`, resolved at deploy because the table is pinned into
the process version. Each DMN file is kept byte for byte as a `deployments` row (like a BPMN
file) when it is new or changed, so its versions are on record and a later deployment of the
BPMN alone still finds the decision.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable, Sequence

from lxml import etree
from SpiffWorkflow.dmn.specs.model import DecisionTable

from engine.domain.bpmn.validation import parse_xml
from engine.domain.dmn import checks, decision_files
from engine.errors import Invalid, InvalidDefinition
from engine.adapters.models import Deployment
from engine.adapters.uow import UnitOfWork

#: The decisions stored before, by id (the database at deploy; none for `onewindow lint`).
StoredDecisions = Callable[[set[str]], dict[str, DecisionTable]]

MAX_STORED_FILES = 200  # DMN files looked through for a decision not in the deployment


@dataclass
class Decisions:
    """The decisions the business rule tasks of one deployment may use while it is checked."""

    files: list[decision_files.DecisionFile]
    unreadable: bool = False  # a file of the deployment is not even XML: it may hold any decision
    tables: dict[str, DecisionTable] = field(default_factory=dict)  # decision id -> table

    @classmethod
    def of(cls, files: Sequence[decision_files.DecisionFile | None], unreadable: bool) -> "Decisions":
        """The DMN files among a deployment's files (None: a BPMN file); at least one BPMN file."""
        found = [f for f in files if f is not None]
        if len(found) == len(files):
            raise Invalid("a deployment needs at least one BPMN file: decisions are deployed with the processes "
                          "that use them", errors={"file": ["no BPMN file"]})
        return cls(found, unreadable, {key: table for dmn in found for key, table in dmn.tables.items()})

    def duplicate_problems(self) -> list[str]:
        return checks.duplicate_problems(self.files)

    def check(self, stored: "StoredDecisions", tree: etree._ElementTree, filename: str,
              dependencies: Sequence[etree._ElementTree]) -> tuple[list[str], bool]:
        """(problems of the file's business rule tasks, whether its processes can be built): a
        decision missing from the deployment is looked up among the DMN files stored before; one
        whose file has problems (reported there) or may be in an unreadable file is not reported
        again, but the file cannot be built."""
        refs = checks.decision_refs([tree, *dependencies])
        self.tables.update(stored(refs - set(self.tables)))
        broken = {key for dmn in self.files for key in dmn.lines if key not in dmn.tables}
        if self.unreadable:
            broken |= refs - set(self.tables)
        problems = checks.task_problems(tree, filename, {**dict.fromkeys(broken), **self.tables})
        return problems, not refs & broken


def _stored_dmn(uow: UnitOfWork) -> Iterable[Deployment]:
    return uow.deployments.dmn_files(MAX_STORED_FILES)


def stored_decisions(uow: UnitOfWork, refs: Iterable[str]) -> dict[str, DecisionTable]:
    """The latest stored table of each decision id in `refs` that a DMN file deployed before has."""
    wanted, found = set(refs), {}
    if not wanted:
        return found
    for row in _stored_dmn(uow):
        try:
            parsed = decision_files.read(parse_xml(row.bpmn_xml.encode(), row.file_name), row.file_name)
        except InvalidDefinition:
            continue
        for decision_id in wanted & set(parsed.tables):
            found[decision_id] = parsed.tables[decision_id]
        wanted -= set(found)
        if not wanted:
            break
    return found


def store_files(uow: UnitOfWork, actor_name: str, files: Iterable[tuple[str, bytes]], now: datetime) -> None:
    """A `deployments` row for each DMN file whose bytes differ from its latest stored version."""
    for name, data in files:
        sha = hashlib.sha256(data).hexdigest()
        if uow.deployments.latest_sha256(name) == sha:
            continue
        uow.deployments.add(Deployment(file_name=name, sha256=sha, bpmn_xml=data.decode("utf-8"),
                                   deployed_at=now, deployed_by=actor_name))
    uow.deployments.flush()
