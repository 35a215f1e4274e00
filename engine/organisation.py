"""The registry of government bodies, kept as data (processes/organisation.json).

Bodies are renamed, merged and re-levelled by local reforms far more often than the engine
changes, so an administrator edits the JSON file and the engine only validates and reads it.
Every problem found in the file is reported at once, keyed by entry index and field
(`departments[3].parent`), so a bad edit is fixed in one pass.
"""
from __future__ import annotations

import builtins
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from engine.errors import Invalid, NotFound

DEFAULT_PATH: Path = Path(__file__).resolve().parent.parent / "processes" / "organisation.json"

#: Levels from the top down; `list()` sorts in this order.
LEVELS: tuple[str, ...] = ("province", "city", "county")
KINDS: frozenset[str] = frozenset({"government", "department", "service_centre", "utility", "archive"})
#: What a body does in a case: issues approvals, coordinates escalations, hosts the window,
#: adds projects to the work group (投促局), removes stalled ones (发改局), is consulted.
ROLES: frozenset[str] = frozenset(
    {"approver", "coordinator", "service_centre", "promoter", "group_owner", "consulted"})
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_DEPT_FIELDS = {"code", "name_zh", "name_en", "level", "region", "parent", "kind", "roles"}
_LEVEL_FIELDS = {"level", "name_zh", "name_en", "department", "role", "note"}


@dataclass(frozen=True)
class Department:
    """One government body (or public utility) that handles items or coordinates."""

    code: str
    name_zh: str
    name_en: str
    level: str
    region: str
    parent: str | None = None
    kind: str = "department"
    roles: tuple[str, ...] = ()

    def has_role(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class CoordinationLevel:
    """One step of three-level coordination (三级协调).

    `department` None means "the overdue item's own department" (level 2: its leaders).
    """

    level: int
    name_zh: str
    name_en: str
    role: str
    department: str | None = None


class Organisation:
    """A validated, read-only view of the organisation file."""

    def __init__(self, departments: list[Department], coordination: list[CoordinationLevel]) -> None:
        self._by_code = {d.code: d for d in departments}
        self._coordination = tuple(sorted(coordination, key=lambda c: c.level))

    @classmethod
    def load(cls, path: str | Path = DEFAULT_PATH) -> Organisation:
        """Read and validate the file; raise `Invalid` listing every problem found."""
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFound(f"organisation file {path} not found") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Invalid(f"organisation file {path.name} is not valid JSON: {exc}",
                          errors={"file": [str(exc)]}) from None
        return cls.from_dict(raw, source=path.name)

    @classmethod
    def from_dict(cls, raw: Any, source: str = "organisation") -> Organisation:
        """Validate an already parsed document (used by `load` and by admin uploads)."""
        errors: dict[str, builtins.list[str]] = {}

        def err(key: str, msg: str) -> None:
            errors.setdefault(key, []).append(msg)

        if not isinstance(raw, dict):
            raise Invalid(f"{source} is invalid: the top level must be an object",
                          errors={"file": ["the top level must be an object"]})
        entries = raw.get("departments")
        if not isinstance(entries, builtins.list) or not entries:
            err("departments", "must be a non-empty list")
            entries = []
        departments = [d for i, e in enumerate(entries) if (d := _department(i, e, err))]

        seen: dict[str, int] = {}
        for i, e in enumerate(entries):
            code = e.get("code") if isinstance(e, dict) else None
            if isinstance(code, str):
                if code in seen:
                    err(f"departments[{i}].code", f"duplicate code {code!r} (first at departments[{seen[code]}])")
                else:
                    seen[code] = i
        for i, e in enumerate(entries):
            parent = e.get("parent") if isinstance(e, dict) else None
            if isinstance(parent, str) and parent not in seen:
                err(f"departments[{i}].parent", f"unknown department {parent!r}")
            elif isinstance(parent, str) and parent == e.get("code"):
                err(f"departments[{i}].parent", "a department cannot be its own parent")
        by_code = {d.code: d for d in departments}
        for d in departments:
            if d.parent != d.code and _has_cycle(d, by_code):
                err(f"departments[{seen[d.code]}].parent", f"parent chain of {d.code!r} loops")

        coordination = _coordination(raw.get("coordination"), seen, err)
        if errors:
            n = sum(len(v) for v in errors.values())
            first = next(iter(errors.items()))
            raise Invalid(f"{source} is invalid: {n} problem(s), first {first[0]}: {first[1][0]}",
                          errors=errors)
        return cls(departments, coordination)

    def get(self, code: str) -> Department:
        try:
            return self._by_code[code]
        except KeyError:
            raise NotFound(f"department {code!r} not found") from None

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[Department]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self._by_code)

    def list(self, level: str | None = None, region: str | None = None) -> builtins.list[Department]:
        """Departments sorted top-down by level then code; `region` matches exactly."""
        if level is not None and level not in LEVELS:
            raise Invalid(f"unknown level {level!r}", errors={"level": [f"must be one of {', '.join(LEVELS)}"]})
        found = [d for d in self._by_code.values()
                 if (level is None or d.level == level) and (region is None or d.region == region)]
        return sorted(found, key=lambda d: (LEVELS.index(d.level), d.code))

    def with_role(self, role: str) -> builtins.list[Department]:
        return [d for d in self.list() if role in d.roles]

    def ancestors(self, code: str) -> builtins.list[Department]:
        """The chain of parents above `code`, nearest first (for city-county linkage)."""
        out, d = [], self.get(code)
        while d.parent:
            d = self._by_code[d.parent]
            out.append(d)
        return out

    @property
    def coordination_levels(self) -> tuple[CoordinationLevel, ...]:
        return self._coordination

    def coordinator_for(self, level: int, item_department: str) -> tuple[Department, str]:
        """Who handles an escalation at `level` for an item of `item_department`: (body, role)."""
        for c in self._coordination:
            if c.level == level:
                return self.get(c.department or item_department), c.role
        raise NotFound(f"coordination level {level} not configured")


def _department(i: int, e: Any, err: Any) -> Department | None:
    key = f"departments[{i}]"
    if not isinstance(e, dict):
        err(key, "must be an object")
        return None
    ok = True
    for extra in sorted(set(e) - _DEPT_FIELDS):
        err(f"{key}.{extra}", "unknown field")
        ok = False
    for f in ("code", "name_zh", "name_en", "region"):
        v = e.get(f)
        if not isinstance(v, str) or not v.strip():
            err(f"{key}.{f}", "required, a non-empty string")
            ok = False
    code = e.get("code")
    if isinstance(code, str) and code and (not CODE_RE.match(code) or len(code) > 40):
        err(f"{key}.code", "must be short lowercase ASCII like 'county.fgj'")
        ok = False
    if e.get("level") not in LEVELS:
        err(f"{key}.level", f"must be one of {', '.join(LEVELS)}")
        ok = False
    parent = e.get("parent")
    if parent is not None and not isinstance(parent, str):
        err(f"{key}.parent", "must be a department code")
        ok = False
    kind = e.get("kind", "department")
    if kind not in KINDS:
        err(f"{key}.kind", f"must be one of {', '.join(sorted(KINDS))}")
        ok = False
    roles = e.get("roles", [])
    if not isinstance(roles, builtins.list) or not all(isinstance(r, str) for r in roles):
        err(f"{key}.roles", "must be a list of strings")
        ok = False
    else:
        for r in roles:
            if r not in ROLES:
                err(f"{key}.roles", f"unknown role {r!r}; known: {', '.join(sorted(ROLES))}")
                ok = False
    if not ok:
        return None
    return Department(code=code, name_zh=e["name_zh"], name_en=e["name_en"], level=e["level"],
                      region=e["region"], parent=parent, kind=kind, roles=tuple(roles))


def _has_cycle(d: Department, by_code: dict[str, Department]) -> bool:
    seen = {d.code}
    while d.parent and d.parent in by_code:
        d = by_code[d.parent]
        if d.code in seen:
            return True
        seen.add(d.code)
    return False


def _coordination(raw: Any, codes: dict[str, int], err: Any) -> list[CoordinationLevel]:
    levels = raw.get("levels") if isinstance(raw, dict) else None
    if not isinstance(levels, list) or not levels:
        err("coordination.levels", "must be a non-empty list")
        return []
    out = []
    for i, c in enumerate(levels):
        key = f"coordination.levels[{i}]"
        if not isinstance(c, dict):
            err(key, "must be an object")
            continue
        for extra in sorted(set(c) - _LEVEL_FIELDS):
            err(f"{key}.{extra}", "unknown field")
        if c.get("level") != i + 1:
            err(f"{key}.level", f"must be {i + 1} (levels are numbered 1, 2, 3... in order)")
        for f in ("name_zh", "name_en", "role"):
            if not isinstance(c.get(f), str) or not c[f].strip():
                err(f"{key}.{f}", "required, a non-empty string")
        dept = c.get("department")
        if dept is not None and dept not in codes:
            err(f"{key}.department", f"unknown department {dept!r}")
        out.append(CoordinationLevel(level=i + 1, name_zh=str(c.get("name_zh")), name_en=str(c.get("name_en")),
                                     role=str(c.get("role")), department=dept))
    return out
