"""The organisation as data (processes/organisation.json): a tree of regions, their bodies, and
how three-level coordination (三级协调) finds its bodies.

One system serves a province's centres (市县联动): 四川省 → cities (成都市, 德阳市) → counties and
districts (郫都区, 旌阳区). Each region has its government service centre (the window, where
cases are accepted), its government and its bodies. Bodies are renamed, merged and re-levelled
by local reforms far more often than the engine changes, so an administrator edits the file and
the engine only validates and reads it; every problem is reported at once with its line
(`organisation.json:42: regions[3].parent: unknown region 'x'`).

Processes name bodies generically, `LEVEL.FUNCTION` (`county.zwfw`, `city.zrzyj`): `resolve()`
finds that function's body in the case's region at that level, or the nearest region above it
that has one (a 旌阳区 case's `county.sthjj` is 德阳市生态环境局 when the district has no bureau
of its own). The bodies of 郫都区, 成都市 and 四川省 keep codes of exactly that shape, so the same
code is both the generic name and, in a 郫都区 case, the concrete body.
"""
from __future__ import annotations

import builtins
import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

from engine.domain import json_source
from engine.domain import group_aliases
from engine.config import shipped_dir
from engine.errors import Invalid, NotFound

DEFAULT_PATH: Path = shipped_dir("processes") / "organisation.json"

#: Levels from the top down; `list()` sorts in this order.
LEVELS: tuple[str, ...] = ("province", "city", "county")
KINDS: frozenset[str] = frozenset({"government", "department", "service_centre", "utility", "archive"})
#: What a body does in a case: issues approvals, coordinates escalations, hosts the window,
#: adds projects to the work group (投促局), removes stalled ones (发改局), is consulted.
ROLES: frozenset[str] = frozenset(
    {"approver", "coordinator", "service_centre", "promoter", "group_owner", "consulted"})
#: Who handles a coordination level: the case region's window or government, or the item's body.
LEVEL_TARGETS: tuple[str, ...] = ("window", "item", "government")
LEVEL_ROLES: tuple[str, ...] = ("coordinator", "leaders")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
DIVISION_RE = re.compile(r"^\d{6}$")
_TOP_FIELDS = {"version", "description", "default_region", "functions", "regions", "coordination",
               "group_aliases"}
_FUNCTION_FIELDS = {"key", "name_zh", "name_en", "aliases"}
_REGION_FIELDS = {"code", "name_zh", "name_en", "level", "parent", "division", "bodies", "question_hours"}
#: The 24-hour rule (Pixian): natural hours a body has to answer a work-group question.
DEFAULT_QUESTION_HOURS = 24
_BODY_FIELDS = {"code", "name_zh", "name_en", "function", "kind", "roles"}
_LEVEL_FIELDS = {"level", "name_zh", "name_en", "department", "role", "note"}


@dataclass(frozen=True)
class Function:
    """A kind of body every region may have (发改, 自然资源和规划, 政务服务中心...); `key` and
    `aliases` are its spellings in generic codes (`county.fgj` = the county's `fgw`)."""

    key: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Region:
    """A province, city or county (district) with its window, government and bodies."""

    code: str
    name_zh: str
    name_en: str
    level: str
    parent: str | None = None
    division: str | None = None  # 行政区划代码, the 6 digits in a project code
    full_name: str = ""  # 四川省成都市郫都区
    question_hours: int = DEFAULT_QUESTION_HOURS  # natural hours to answer a work-group question


@dataclass(frozen=True)
class Department:
    """One government body (or public utility) that handles items or coordinates."""

    code: str
    name_zh: str
    name_en: str
    level: str
    region: str  # the region's code
    parent: str | None = None  # the same function's body in the nearest region above
    kind: str = "department"
    roles: tuple[str, ...] = ()
    function: str = ""
    region_name: str = ""  # the region's full name, 四川省成都市郫都区

    def has_role(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class CoordinationLevel:
    """One step of three-level coordination: `department` is `window`, `item`, `government`
    (of the case's region / the overdue item's body) or a body code resolved in the case's region."""

    level: int
    name_zh: str
    name_en: str
    role: str
    department: str = "item"


@dataclass
class _Problems:
    """Problems found while validating, each with the line of the JSON value concerned."""

    source: str
    located: json_source.Located | None
    items: list[tuple[int, str, str]] = field(default_factory=list)

    def __call__(self, path: tuple, message: str) -> None:
        line = self.located.line(path) if self.located is not None else 0
        self.items.append((line, json_source.path_text(path), message))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        self.items.sort(key=lambda p: p[0])
        errors: dict[str, list[str]] = {}
        for line, where, message in self.items:
            errors.setdefault(f"{self.source}:{line}", []).append(f"{where}: {message}" if where else message)
        line, where, message = self.items[0]
        more = len(self.items) - 1
        raise Invalid(f"{self.source}:{line}: {where + ': ' if where else ''}{message}"
                      + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""),
                      errors=errors)


class Organisation:
    """A validated, read-only view of one version of the organisation file."""

    def __init__(self, regions: list[Region], departments: list[Department], functions: list[Function],
                 coordination: list[CoordinationLevel], default_region: str, sha256: str = "",
                 version: int | None = None, source: str = "organisation.json",
                 group_aliases: dict[str, str] | None = None) -> None:
        #: Foreign candidate-group names → department codes (engine/domain/group_aliases.py).
        self.group_aliases: dict[str, str] = dict(group_aliases or {})
        self._regions = {r.code: r for r in regions}
        self._region_order = [r.code for r in regions]
        self._by_code = {d.code: d for d in departments}
        self._functions = {f.key: f for f in functions}
        self._spelling = {s: f.key for f in functions for s in (f.key, *f.aliases)}
        self._coordination = tuple(sorted(coordination, key=lambda c: c.level))
        self.default_region = default_region
        self.sha256 = sha256
        self.version = version  # None: the file, not (yet) recorded in the database
        self.source = source
        self._bodies: dict[tuple[str, str], Department] = {(d.region, d.function): d for d in departments}
        self._children: dict[str | None, list[str]] = {}
        for r in regions:
            self._children.setdefault(r.parent, []).append(r.code)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | Path = DEFAULT_PATH) -> Organisation:
        """Read and validate the file; raise `Invalid` listing every problem found, by line."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"organisation file {path} not found") from None
        return cls.parse(data, source=path.name)

    @classmethod
    def parse(cls, data: bytes | str, source: str = "organisation.json") -> Organisation:
        """Validate a document's text (a file, an upload); errors say `SOURCE:LINE: path: message`."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        sha256 = hashlib.sha256(raw).hexdigest()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise Invalid(f"{source}: not UTF-8 text ({error.reason} at byte {error.start})",
                          errors={f"{source}:1": ["not UTF-8 text"]}) from None
        try:
            located = json_source.parse(text)
        except json_source.JSONSyntaxError as error:
            raise Invalid(f"{source}:{error.line}: not valid JSON: {error.message} (column {error.column})",
                          errors={f"{source}:{error.line}": [f"not valid JSON: {error.message} "
                                                             f"(column {error.column})"]}) from None
        problems = _Problems(source, located)
        for path, line, first in located.duplicate_keys:
            problems(path, f"duplicate key {path[-1]!r} (first at line {first})")
        return cls._validate(located.value, problems, sha256)

    @classmethod
    def from_dict(cls, raw: Any, source: str = "organisation") -> Organisation:
        """Validate an already parsed document (no line numbers to give)."""
        return cls._validate(raw, _Problems(source, None), "")

    @classmethod
    def _validate(cls, raw: Any, err: _Problems, sha256: str) -> Organisation:
        if not isinstance(raw, dict):
            err((), "the top level must be an object")
            err.raise_if_any()
        if "departments" in raw:
            err(("departments",), "the flat `departments` list is the old format: bodies now sit in "
                                  "`regions[].bodies` (see docs/processes.md)")
        for extra in sorted(set(raw) - _TOP_FIELDS - {"departments"}):
            err((extra,), "unknown field")
        functions = _functions(raw.get("functions"), err)
        spelling = {s: f.key for f in functions for s in (f.key, *f.aliases)}
        regions, bodies = _regions(raw.get("regions"), spelling, err)
        by_region = {r.code: r for r in regions}
        default = raw.get("default_region")
        if not isinstance(default, str) or default not in by_region:
            err(("default_region",), f"must be the code of a region (the region of cases whose agent has "
                                     f"no department); known: {', '.join(by_region) or 'none'}")
        known = {d.code for d in bodies}
        coordination = _coordination(raw.get("coordination"), known, spelling, err)
        aliases = group_aliases.validate(
            raw.get(group_aliases.FIELD),
            lambda c: c in known or (c.partition(".")[0] in LEVELS and c.partition(".")[2] in spelling), err)
        err.raise_if_any()
        return cls(regions, bodies, functions, coordination, default, sha256=sha256, group_aliases=aliases)

    # ------------------------------------------------------------------ bodies
    def get(self, code: str) -> Department:
        try:
            return self._by_code[code]
        except KeyError:
            raise NotFound(f"department {code!r} not found") from None

    def __contains__(self, code: object) -> bool:
        """A concrete body code (generic codes: `is_known`)."""
        return code in self._by_code

    def __iter__(self) -> Iterator[Department]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self._by_code)

    def list(self, level: str | None = None, region: str | None = None) -> builtins.list[Department]:
        """Bodies sorted top-down by level then code; `region` (code, division, name) is one region's."""
        if level is not None and level not in LEVELS:
            raise Invalid(f"unknown level {level!r}", errors={"level": [f"must be one of {', '.join(LEVELS)}"]})
        code = self.region(region).code if region is not None else None
        found = [d for d in self._by_code.values()
                 if (level is None or d.level == level) and (code is None or d.region == code)]
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
    def functions(self) -> builtins.list[Function]:
        return list(self._functions.values())

    # ------------------------------------------------------------------ regions
    def region(self, ref: str | None) -> Region:
        """A region by code, division code (510117), name (郫都区) or full name (四川省成都市郫都区);
        None is the default region."""
        if ref is None:
            return self._regions[self.default_region]
        found = self._regions.get(ref)
        if found is None:
            for r in self._regions.values():
                if ref in (r.division, r.name_zh, r.full_name, r.name_en):
                    found = r
                    break
        if found is None:
            raise Invalid(f"unknown region {ref!r}", errors={"region": [
                f"unknown region {ref!r}; known: {', '.join(self._region_order)}"]})
        return found

    def regions(self) -> builtins.list[Region]:
        """Every region, parents before children (the file's tree order)."""
        out: builtins.list[Region] = []

        def walk(parent: str | None) -> None:
            for code in self._children.get(parent, []):
                out.append(self._regions[code])
                walk(code)
        walk(None)
        return out

    def tree(self, region: str | None = None) -> builtins.list[dict[str, Any]]:
        """The region tree (`GET /regions`): each region with its window, government, bodies and
        children; `region` gives that region's subtree, else every top-level region's."""
        def node(r: Region) -> dict[str, Any]:
            return {**r.__dict__, "window": self.window_of(r.code), "government": self.government_of(r.code),
                    "bodies": sorted(self.bodies_of(r.code), key=lambda d: d.code),
                    "children": [node(self._regions[c]) for c in self._children.get(r.code, [])]}
        roots = [self.region(region)] if region is not None else [self._regions[c] for c in self._children[None]]
        return [node(r) for r in roots]

    def children(self, region: str) -> builtins.list[Region]:
        return [self._regions[c] for c in self._children.get(self.region(region).code, [])]

    def region_chain(self, region: str | None) -> builtins.list[Region]:
        """The region and the regions above it, nearest first."""
        r = self.region(region)
        out = [r]
        while r.parent:
            r = self._regions[r.parent]
            out.append(r)
        return out

    def subtree(self, region: str | None) -> builtins.list[str]:
        """The codes of a region and every region below it (region filters include lower regions)."""
        out = [self.region(region).code]
        for code in out:
            out.extend(self._children.get(code, []))
        return out

    def bodies_of(self, region: str) -> builtins.list[Department]:
        code = self.region(region).code
        return [d for d in self._by_code.values() if d.region == code]

    def window_of(self, region: str | None) -> Department:
        """The region's government service centre (where its cases are accepted)."""
        return self._of_kind(region, "service_centre")

    def government_of(self, region: str | None) -> Department:
        return self._of_kind(region, "government")

    def _of_kind(self, region: str | None, kind: str) -> Department:
        code = self.region(region).code
        return next(d for d in self._by_code.values() if d.region == code and d.kind == kind)

    def region_of(self, department: str | None) -> Region:
        """The region of a body (None: the default region)."""
        return self.region(self.get(department).region if department else None)

    # ------------------------------------------------------------------ routing
    def generic(self, code: str) -> tuple[str, str] | None:
        """`county.fgj` → ("county", "fgw"); None when `code` is not LEVEL.FUNCTION."""
        level, _, spelling = code.partition(".")
        function = self._spelling.get(spelling)
        return (level, function) if level in LEVELS and function else None

    def is_known(self, code: str) -> bool:
        """A concrete body code, a generic LEVEL.FUNCTION code or an alias (what a process may name)."""
        return code in self._by_code or self.generic(code) is not None or code in self.group_aliases

    def resolve(self, code: str, region: str | None = None) -> str:
        """The concrete body a process means by `code` in a case of `region` (None: the default).

        A generic code is looked up in the case's region at its level (a region below that level
        starts from its ancestor there; a region above it from itself), then up the tree until
        a region has a body of that function. Any other code must be a concrete body's. An
        alias resolves as the code it stands for.
        """
        code = self.group_aliases.get(code, code)
        generic = self.generic(code)
        if generic is None:
            if code in self._by_code:
                return code
            raise Invalid(f"candidate group {code!r} is not a known department",
                          errors={"department": [f"unknown department {code!r}"]})
        level, function = generic
        chain = self.region_chain(region)
        start = next((i for i, r in enumerate(chain) if LEVELS.index(r.level) <= LEVELS.index(level)), None)
        for r in chain[start:] if start is not None else []:
            body = self._bodies.get((r.code, function))
            if body is not None:
                return body.code
        name = self._functions[function].name_zh
        raise Invalid(f"no {name} body ({code}) in {chain[0].full_name} or above",
                      errors={"department": [f"{code} has no body in region {chain[0].code} or above"]})

    # ------------------------------------------------------------------ coordination
    @property
    def coordination_levels(self) -> tuple[CoordinationLevel, ...]:
        return self._coordination

    def coordinator_for(self, level: int, item_department: str | None,
                        region: str | None = None) -> tuple[Department, str]:
        """Who handles an escalation at `level` of a case of `region` for an item at
        `item_department` (None: the agent's own task, whose "body" is the window): (body, role)."""
        for c in self._coordination:
            if c.level != level:
                continue
            if c.department == "window":
                return self.window_of(region), c.role
            if c.department == "government":
                return self.government_of(region), c.role
            if c.department == "item":
                return (self.get(item_department) if item_department else self.window_of(region)), c.role
            return self.get(self.resolve(c.department, region)), c.role
        raise NotFound(f"coordination level {level} not configured")

    def summary(self) -> dict[str, Any]:
        return {"regions": len(self._regions), "departments": len(self._by_code),
                "functions": len(self._functions)}


# ---------------------------------------------------------------------- validation helpers


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _check_fields(entry: dict, allowed: set[str], path: tuple, err: Callable) -> None:
    for extra in sorted(set(entry) - allowed):
        err(path + (extra,), "unknown field")


def _functions(raw: Any, err: _Problems) -> list[Function]:
    if not isinstance(raw, list) or not raw:
        err(("functions",), "must be a non-empty list of body functions ({key, name_zh, name_en, aliases})")
        return []
    out, seen = [], {}
    for i, f in enumerate(raw):
        path = ("functions", i)
        if not isinstance(f, dict):
            err(path, "must be an object")
            continue
        _check_fields(f, _FUNCTION_FIELDS, path, err)
        for name in ("name_zh", "name_en"):
            if not _text(f.get(name)):
                err(path + (name,), "required, a non-empty string")
        aliases = f.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            err(path + ("aliases",), "must be a list of strings")
            aliases = []
        key = f.get("key")
        ok = True
        for where, spelling in [(path + ("key",), key)] + [(path + ("aliases", j), a) for j, a in enumerate(aliases)]:
            if not isinstance(spelling, str) or not NAME_RE.match(spelling) or len(spelling) > 30:
                err(where, "must be short lowercase ASCII like 'fgw'")
                ok = False
            elif spelling in seen:
                err(where, f"{spelling!r} already names function {seen[spelling][0]!r} (line {seen[spelling][1]})")
                ok = False
            else:
                seen[spelling] = (key, err.located.line(where) if err.located else 0)
        if ok:
            out.append(Function(key=key, name_zh=str(f.get("name_zh")), name_en=str(f.get("name_en")),
                                aliases=tuple(aliases)))
    return out


def _regions(raw: Any, spelling: dict[str, str], err: _Problems) -> tuple[list[Region], list[Department]]:
    if not isinstance(raw, list) or not raw:
        err(("regions",), "must be a non-empty list of regions")
        return [], []
    entries: dict[str, tuple[int, dict]] = {}
    for i, r in enumerate(raw):
        path = ("regions", i)
        if not isinstance(r, dict):
            err(path, "must be an object")
            continue
        _check_fields(r, _REGION_FIELDS, path, err)
        code = r.get("code")
        if not isinstance(code, str) or not NAME_RE.match(code) or len(code) > 40:
            err(path + ("code",), "required, short lowercase ASCII like 'pidu'")
            continue
        if code in entries:
            first = entries[code][0]
            err(path + ("code",), f"duplicate region code {code!r} (first at line "
                                  f"{err.located.line(('regions', first)) if err.located else first})")
            continue
        for name in ("name_zh", "name_en"):
            if not _text(r.get(name)):
                err(path + (name,), "required, a non-empty string")
        if r.get("level") not in LEVELS:
            err(path + ("level",), f"must be one of {', '.join(LEVELS)}")
        division = r.get("division")
        if division is not None and (not isinstance(division, str) or not DIVISION_RE.match(division)):
            err(path + ("division",), "must be the 6-digit administrative division code, e.g. '510117'")
        hours = r.get("question_hours", DEFAULT_QUESTION_HOURS)
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 720:
            err(path + ("question_hours",), "must be a whole number of natural hours from 1 to 720 "
                                            f"(the time a body has to answer a question; default {DEFAULT_QUESTION_HOURS})")
        entries[code] = (i, r)

    # The tree: parents exist, sit at a higher level, and never loop.
    for code, (i, r) in entries.items():
        parent = r.get("parent")
        if parent is None:
            continue
        if not isinstance(parent, str) or parent not in entries:
            err(("regions", i, "parent"), f"unknown region {parent!r}; known: {', '.join(entries)}")
        elif parent == code:
            err(("regions", i, "parent"), "a region cannot be its own parent")
        else:
            above, below = entries[parent][1].get("level"), r.get("level")
            if above in LEVELS and below in LEVELS and LEVELS.index(above) >= LEVELS.index(below):
                err(("regions", i, "parent"), f"{parent!r} is a {above}; a {below} must sit under a higher level")
    for code, (i, r) in entries.items():
        seen, at = {code}, r
        while isinstance(at.get("parent"), str) and at["parent"] in entries:
            if at["parent"] in seen:
                err(("regions", i, "parent"), f"the parents of {code!r} loop")
                break
            seen.add(at["parent"])
            at = entries[at["parent"]][1]
    divisions: dict[str, str] = {}
    for code, (i, r) in entries.items():
        division = r.get("division")
        if isinstance(division, str):
            if division in divisions:
                err(("regions", i, "division"), f"division {division} is also region {divisions[division]!r}")
            divisions[division] = code

    def full_name(code: str, depth: int = 0) -> str:
        r = entries[code][1]
        parent = r.get("parent")
        prefix = full_name(parent, depth + 1) if parent in entries and parent != code and depth < 10 else ""
        return prefix + str(r.get("name_zh", ""))

    regions = [Region(code=code, name_zh=str(r.get("name_zh")), name_en=str(r.get("name_en")),
                      level=str(r.get("level")), parent=r.get("parent") if isinstance(r.get("parent"), str) else None,
                      division=r.get("division") if isinstance(r.get("division"), str) else None,
                      full_name=full_name(code),
                      question_hours=r["question_hours"] if isinstance(r.get("question_hours"), int)
                      and not isinstance(r.get("question_hours"), bool) else DEFAULT_QUESTION_HOURS)
               for code, (i, r) in entries.items()]
    by_region = {r.code: r for r in regions}

    bodies: list[Department] = []
    codes: dict[str, tuple] = {}
    for code, (i, r) in entries.items():
        region = by_region[code]
        raw_bodies = r.get("bodies")
        if not isinstance(raw_bodies, list) or not raw_bodies:
            err(("regions", i, "bodies"), "must be a non-empty list with at least the window and the government")
            continue
        functions: dict[str, tuple] = {}
        kinds: dict[str, list] = {"service_centre": [], "government": []}
        for j, b in enumerate(raw_bodies):
            body = _body(("regions", i, "bodies", j), b, region, spelling, codes, functions, err)
            if body is not None:
                bodies.append(body)
                if body.kind in kinds:
                    kinds[body.kind].append(j)
        for kind, label in (("service_centre", "window (kind service_centre)"), ("government", "government")):
            if not kinds[kind]:
                err(("regions", i, "bodies"), f"region {code!r} has no {label}")
            for j in kinds[kind][1:]:
                err(("regions", i, "bodies", j, "kind"), f"region {code!r} has more than one {label}")

    # A body's parent: the same function's body in the nearest region above.
    by_function = {(d.region, d.function): d.code for d in bodies}
    linked = []
    for d in bodies:
        parent, at = None, by_region[d.region].parent
        for _ in range(len(by_region)):  # bounded: a looping tree is reported above, not followed
            if at is None or at not in by_region or parent is not None:
                break
            parent = by_function.get((at, d.function))
            at = by_region[at].parent
        linked.append(replace(d, parent=parent))
    return regions, linked


def _body(path: tuple, b: Any, region: Region, spelling: dict[str, str], codes: dict[str, tuple],
          functions: dict[str, tuple], err: _Problems) -> Department | None:
    if not isinstance(b, dict):
        err(path, "must be an object")
        return None
    _check_fields(b, _BODY_FIELDS, path, err)
    ok = True
    for name in ("name_zh", "name_en"):
        if not _text(b.get(name)):
            err(path + (name,), "required, a non-empty string")
            ok = False
    code = b.get("code")
    if not isinstance(code, str) or not CODE_RE.match(code) or len(code) > 40:
        err(path + ("code",), "required, short lowercase ASCII like 'county.fgj'")
        return None
    line = err.located.line(path) if err.located else 0
    if code in codes:
        err(path + ("code",), f"duplicate department code {code!r} (first at line {codes[code][1]})")
        return None
    codes[code] = (path, line)
    function = b.get("function")
    if function not in spelling:
        err(path + ("function",), f"unknown function {function!r}; add it to `functions` or use one of "
                                  f"{', '.join(sorted(set(spelling.values())))}")
        ok = False
    else:
        function = spelling[function]
        if function in functions:
            err(path + ("function",), f"region {region.code!r} already has a {function!r} body, "
                                      f"{functions[function][0]!r} (line {functions[function][1]}); "
                                      "a generic code could not choose")
            ok = False
        functions[function] = (code, line)
    level, _, suffix = code.partition(".")
    if (level in LEVELS and suffix in spelling and region.level in LEVELS
            and (level != region.level or spelling[suffix] != function)):
        err(path + ("code",), f"{code!r} reads as the generic code of the {level}'s {spelling[suffix]!r} body, "
                              f"but this is the {region.level} {region.code!r}'s {function!r} body; choose "
                              "another code")
        ok = False
    kind = b.get("kind", "department")
    if kind not in KINDS:
        err(path + ("kind",), f"must be one of {', '.join(sorted(KINDS))}")
        ok = False
    roles = b.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        err(path + ("roles",), "must be a list of strings")
        ok = False
    else:
        for r in roles:
            if r not in ROLES:
                err(path + ("roles",), f"unknown role {r!r}; known: {', '.join(sorted(ROLES))}")
                ok = False
    if not ok:
        return None
    return Department(code=code, name_zh=b["name_zh"], name_en=b["name_en"], level=region.level,
                      region=region.code, kind=kind, roles=tuple(roles), function=function,
                      region_name=region.full_name)


def _coordination(raw: Any, codes: set[str], spelling: dict[str, str], err: _Problems) -> list[CoordinationLevel]:
    levels = raw.get("levels") if isinstance(raw, dict) else None
    if not isinstance(levels, list) or not levels:
        err(("coordination", "levels"), "must be a non-empty list")
        return []
    if isinstance(raw, dict):
        _check_fields(raw, {"levels"}, ("coordination",), err)
    out = []
    for i, c in enumerate(levels):
        path = ("coordination", "levels", i)
        if not isinstance(c, dict):
            err(path, "must be an object")
            continue
        _check_fields(c, _LEVEL_FIELDS, path, err)
        if c.get("level") != i + 1:
            err(path + ("level",), f"must be {i + 1} (levels are numbered 1, 2, 3... in order)")
        for name in ("name_zh", "name_en"):
            if not _text(c.get(name)):
                err(path + (name,), "required, a non-empty string")
        if c.get("role") not in LEVEL_ROLES:
            err(path + ("role",), f"must be one of {', '.join(LEVEL_ROLES)} (leaders: only the body's leaders see it)")
        dept = c.get("department")
        dept = "item" if dept is None else dept
        level, _, suffix = dept.partition(".") if isinstance(dept, str) else ("", "", "")
        generic = level in LEVELS and suffix in spelling
        if not isinstance(dept, str) or (dept not in LEVEL_TARGETS and dept not in codes and not generic):
            err(path + ("department",), f"must be one of {', '.join(LEVEL_TARGETS)} or a department code, "
                                        f"not {dept!r}")
        out.append(CoordinationLevel(level=i + 1, name_zh=str(c.get("name_zh")), name_en=str(c.get("name_en")),
                                     role=str(c.get("role")), department=str(dept)))
    return out
