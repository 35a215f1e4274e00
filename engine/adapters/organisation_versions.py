"""The organisation in force, as versions in the database (table `organisation_versions`).

An administrator edits the file and loads it (`onewindow organisation load FILE`,
`PUT /api/v1/organisation`): it is validated (every problem with its line), checked against
what is in use (a body with open tasks, users or open escalations, a region with open cases
cannot disappear, so cases keep working), and recorded as a new version. Every process sees
it at its next unit of work (`uow.organisation` reads the newest version number: one query,
the parsed document is cached per version). With no version recorded yet, the configured file
(`ONEWINDOW_ORGANISATION`, default processes/organisation.json) is in force.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from engine.errors import Conflict, Invalid, NotFound
from engine.domain.organisation import Organisation
from engine.adapters.models import Case, Escalation, OrganisationVersion, Task, User
from engine.domain.states import OPEN_CASE_STATUSES, TaskStatus

if TYPE_CHECKING:
    from engine.runtime import Runtime
    from engine.adapters.uow import UnitOfWork

log = logging.getLogger("onewindow.organisation")


class OrganisationStore:
    """Per-process access to the organisation versions, with parsed documents cached."""

    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._versions: dict[tuple[int, str], Organisation] = {}
        self._file: tuple[tuple[str, int, int], Organisation] | None = None

    def current(self, session: Session) -> Organisation:
        """The newest recorded version, else the configured file."""
        row = session.execute(select(OrganisationVersion.version, OrganisationVersion.sha256)
                              .order_by(OrganisationVersion.version.desc()).limit(1)).first()
        if row is None:
            return self.from_file()
        key = (int(row.version), row.sha256)
        found = self._versions.get(key)
        if found is None:
            document, source = session.execute(
                select(OrganisationVersion.document, OrganisationVersion.source)
                .where(OrganisationVersion.version == row.version)).one()
            found = Organisation.parse(document, source=source or "organisation.json")
            found.version = key[0]
            with self._lock:
                self._versions[key] = found
        return found

    def from_file(self) -> Organisation:
        """The configured file, parsed again only when it changed on disk. A file edited into
        something invalid keeps the last good parse in force (logged; `onewindow organisation
        check` names the problem), so a bad save never stops every command."""
        path = Path(self.runtime.settings.organisation_file)
        stat = path.stat() if path.exists() else None
        key = (str(path), stat.st_mtime_ns, stat.st_size) if stat else (str(path), 0, 0)
        cached = self._file
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            found = Organisation.load(path)
        except (Invalid, NotFound) as error:
            if cached is None:
                raise
            log.warning("organisation file %s not used, the last good one stays in force: %s", path, error.detail)
            return cached[1]
        with self._lock:
            self._file = (key, found)
        return found


# --------------------------------------------------------------------------- engine verbs


def _in_use(uow: "UnitOfWork", current: Organisation, new: Organisation) -> dict[str, list[str]]:
    """What the new version would take away from running work: {code: [reasons]}."""
    problems: dict[str, list[str]] = {}
    gone = sorted({d.code for d in current} - {d.code for d in new})
    if gone:
        session = uow.session
        checks = (
            ("open task", select(Task.department, func.count()).where(Task.department.in_(gone), Task.state == TaskStatus.READY)
             .group_by(Task.department)),
            ("user", select(User.department, func.count()).where(User.department.in_(gone), User.revoked_at.is_(None))
             .group_by(User.department)),
            ("open escalation", select(Escalation.department, func.count())
             .where(Escalation.department.in_(gone), Escalation.status == "open").group_by(Escalation.department)),
        )
        for what, query in checks:
            for code, count in session.execute(query):
                problems.setdefault(f"department {code}", []).append(f"{count} {what}{'s' if count > 1 else ''}")
    regions_gone = sorted({r.code for r in current.regions()} - {r.code for r in new.regions()})
    if regions_gone:
        region = Case.region
        if current.default_region in regions_gone:
            region = func.coalesce(Case.region, current.default_region)
        for code, count in uow.session.execute(
                select(region, func.count()).where(region.in_(regions_gone), Case.status.in_(OPEN_CASE_STATUSES))
                .group_by(region)):
            problems.setdefault(f"region {code}", []).append(f"{count} open case{'s' if count > 1 else ''}")
    return problems


def _changes(current: Organisation, new: Organisation) -> dict[str, list[str]]:
    old_d, new_d = {d.code: d for d in current}, {d.code: d for d in new}
    old_r, new_r = {r.code for r in current.regions()}, {r.code for r in new.regions()}
    return {"regions_added": sorted(new_r - old_r), "regions_removed": sorted(old_r - new_r),
            "departments_added": sorted(set(new_d) - set(old_d)),
            "departments_removed": sorted(set(old_d) - set(new_d)),
            "departments_changed": sorted(c for c in set(old_d) & set(new_d) if old_d[c] != new_d[c]),
            "aliases_added": sorted(f"{a}={c}" for a, c in new.group_aliases.items()
                                    if current.group_aliases.get(a) != c),
            "aliases_removed": sorted(f"{a}={c}" for a, c in current.group_aliases.items()
                                      if new.group_aliases.get(a) != c)}


def check(uow: "UnitOfWork", data: bytes | str, source: str) -> dict[str, Any]:
    """Validate a document and compare it with the version in force; nothing is stored.
    Raises Invalid (by line) for a bad file, Conflict when it would strand running work."""
    new = Organisation.parse(data, source=source)
    current = uow.organisation
    blocked = _in_use(uow, current, new)
    if blocked:
        first = next(iter(blocked.items()))
        raise Conflict(f"{source} removes what running work still uses: {first[0]} ({', '.join(first[1])})"
                       + (f" and {len(blocked) - 1} more" if len(blocked) > 1 else "")
                       + "; finish or move that work (or the users) first", errors=blocked)
    latest = uow.session.scalar(select(func.max(OrganisationVersion.version))) or 0
    unchanged = current.version is not None and current.sha256 == new.sha256
    return {"version": current.version if unchanged else latest + 1, "unchanged": unchanged,
            "sha256": new.sha256, "source": source, **new.summary(), "changes": _changes(current, new),
            "organisation": new}


def load(uow: "UnitOfWork", data: bytes | str, source: str, loaded_by: str) -> dict[str, Any]:
    """Record a new version of the organisation (identical to the one in force: nothing new).

    Cases from before regions (region NULL) are given the outgoing default region, so a new
    default region never moves them."""
    result = check(uow, data, source)
    if result["unchanged"]:
        return {**result, "loaded_at": None, "loaded_by": None}
    current = uow.organisation
    uow.session.execute(update(Case).where(Case.region.is_(None)).values(region=current.default_region))
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    row = OrganisationVersion(version=result["version"], sha256=result["sha256"], document=text, source=source,
                              loaded_at=uow.runtime.clock(), loaded_by=loaded_by)
    uow.session.add(row)
    uow.session.flush()
    uow.forget_organisation()
    return {**result, "loaded_at": row.loaded_at, "loaded_by": loaded_by}


def versions(uow: "UnitOfWork") -> list[dict[str, Any]]:
    """Every recorded version, newest first."""
    rows = uow.session.scalars(select(OrganisationVersion).order_by(OrganisationVersion.version.desc()))
    return [{"version": r.version, "sha256": r.sha256, "source": r.source, "loaded_at": r.loaded_at,
             "loaded_by": r.loaded_by} for r in rows]


def document(uow: "UnitOfWork", version: int) -> tuple[str, str | None]:
    """(the JSON text, its source file name) of a recorded version."""
    text, source = uow.session.execute(select(OrganisationVersion.document, OrganisationVersion.source)
                                       .where(OrganisationVersion.version == version)).one()
    return text, source


def in_force(uow: "UnitOfWork") -> dict[str, Any]:
    """The version in force (None: the configured file, not recorded) and whether the file on
    disk differs from it (edited but not loaded yet)."""
    current = uow.organisation
    try:
        on_disk = Organisation.load(uow.runtime.settings.organisation_file).sha256
    except (Invalid, NotFound):  # a broken or missing file on disk is reported, not raised, here
        on_disk = None
    row = None
    if current.version is not None:
        row = uow.session.scalar(select(OrganisationVersion).where(OrganisationVersion.version == current.version))
    return {"version": current.version, "sha256": current.sha256, "source": current.source,
            "loaded_at": row.loaded_at if row else None, "loaded_by": row.loaded_by if row else None,
            "file": str(uow.runtime.settings.organisation_file), "file_differs": on_disk != current.sha256,
            "default_region": current.default_region, **current.summary()}


def region_clause(organisation: Organisation, region: str):  # type: ignore[no-untyped-def]
    """`?region=`: a WHERE clause on `Case` — the case belongs to the region or a region below it
    (cases from before regions count as the default region's)."""
    codes = organisation.subtree(region)
    clause = Case.region.in_(codes)
    if organisation.default_region in codes:
        clause = or_(clause, Case.region.is_(None))
    return clause
