"""Foreign candidate-group names mapped to departments (`group_aliases` in the organisation).

Files drawn elsewhere name their groups as their own engine knew them (`accounting`,
`management`, `财务科`). An administrator maps such a name to a department code once
(`onewindow departments alias accounting county.sj`); the alias is part of the organisation
version in force, so the file deploys unmodified and its tasks route to that department (a
generic code resolves in the case's region, as when the process names it itself).

Also here: the closest known codes for a name that is neither a department nor an alias, for
the deploy error that lists every unknown group of a file at once.
"""
from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from engine.domain.organisation import Organisation

FIELD = "group_aliases"
MAX_ALIAS = 120  # tasks.department's width: a name longer than that could not be a group either


def alias_problem(name: Any) -> str | None:
    """Why `name` cannot be an alias (None: it can). Commas separate candidate groups, so a
    name holding one could never be matched."""
    if not isinstance(name, str) or not name.strip():
        return "an alias is a non-empty name"
    if name != name.strip():
        return "an alias has no leading or trailing spaces"
    if len(name) > MAX_ALIAS:
        return f"an alias has at most {MAX_ALIAS} characters"
    if "," in name or any(ord(c) < 32 for c in name):
        return "an alias holds no comma or control character (commas separate candidate groups)"
    if name.startswith(("${", "#{")):
        return "an alias is a name, not an expression"
    return None


def validate(raw: Any, is_department: Callable[[str], bool], err: Callable[[tuple, str], None]) -> dict[str, str]:
    """The document's `group_aliases` object ({name: department code}); problems go to `err`
    with their path. An alias may not shadow a department code and must name a known one
    (concrete or generic), never another alias."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        err((FIELD,), "must be an object mapping a foreign group name to a department code, "
                      "e.g. {\"accounting\": \"county.sj\"}")
        return {}
    aliases: dict[str, str] = {}
    for name, code in raw.items():
        path = (FIELD, name)
        problem = alias_problem(name)
        if problem is not None:
            err(path, problem)
        elif is_department(name):
            err(path, f"{name!r} is already a department code; an alias cannot hide it")
        elif not isinstance(code, str) or not is_department(code):
            hint = " (an alias names a department, not another alias)" if isinstance(code, str) and code in raw else ""
            err(path, f"{code!r} is not a known department code{hint}")
        else:
            aliases[name] = code
    return aliases


def closest(group: str, organisation: "Organisation", n: int = 3) -> list[str]:
    """The known codes nearest to an unknown group name, best first: by spelling of the code
    (`county.fgw` for `county.fgwj`), of a body's English or Chinese name or function (`county.sj`
    for `audit`), or of an alias (its department)."""
    wanted = group.strip().lower()
    spellings: dict[str, list[str]] = {}

    def add(text: str | None, code: str) -> None:
        if text:
            spellings.setdefault(text.lower(), []).append(code)

    for department in organisation.list():
        add(department.code, department.code)
        add(department.name_en, department.code)
        add(department.name_zh, department.code)
        add(department.function, department.code)
        for word in department.name_en.split():
            if len(word) > 3:
                add(word, department.code)
    for name, code in organisation.group_aliases.items():
        add(name, code)
    found: list[str] = []
    if wanted:
        matches = difflib.get_close_matches(wanted, list(spellings), n=12, cutoff=0.6)
        matches += [s for s in spellings if len(wanted) > 3 and (wanted in s or s in wanted) and s not in matches]
        for match in matches:
            for code in spellings[match]:
                if code not in found:
                    found.append(code)
    return _prefer_default_region(found, organisation)[:n]


def _prefer_default_region(codes: list[str], organisation: "Organisation") -> list[str]:
    """Codes of the default region's chain first (generic codes of the shape processes use)."""
    chain = [r.code for r in organisation.region_chain(None)]

    def rank(code: str) -> int:
        try:
            return chain.index(organisation.get(code).region)
        except Exception:  # noqa: BLE001 - a code outside the chain keeps its order after it
            return len(chain)
    return sorted(codes, key=rank)


def unknown_group_message(group: str, organisation: "Organisation") -> str:
    """`candidate group 'accounting' is not a known department (closest: county.sj, ...); map it
    with `onewindow departments alias accounting CODE``."""
    near = closest(group, organisation)
    hint = f" (closest known: {', '.join(near)})" if near else ""
    return (f"candidate group '{group}' is not a known department{hint}; an administrator can map it: "
            f"onewindow departments alias {group if ' ' not in group else repr(group)} CODE")
