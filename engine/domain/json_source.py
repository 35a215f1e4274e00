"""JSON parsed with the line of every value, so a bad edit of a hand-kept file (the
organisation) is reported as `organisation.json:LINE: message`.

The standard library checks the syntax first (its error already carries a line); a small
second pass over the now known-good text records, for every path (`("regions", 3, "parent")`),
the line where that member's key (or an array element's value) starts, and flags keys that
appear twice in one object, which `json.loads` would silently merge.
"""
from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

Path = tuple[Any, ...]

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")


class JSONSyntaxError(ValueError):
    """The text is not JSON; `line` and `column` say where (1-based)."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} (line {line}, column {column})")
        self.message, self.line, self.column = message, line, column


@dataclass
class Located:
    """A parsed document and where each of its values starts."""

    value: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicate_keys: list[tuple[Path, int, int]] = field(default_factory=list)  # (path, line, first line)

    def line(self, path: Path) -> int:
        """The line of `path`, or of its nearest parent that has one (a missing member: its object)."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)


def path_text(path: Path) -> str:
    """`("regions", 3, "parent")` → `regions[3].parent`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse(text: str) -> Located:
    """Parse `text`; raise `JSONSyntaxError` (with line and column) when it is not JSON."""
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise JSONSyntaxError(error.msg, error.lineno, error.colno) from None
    except (ValueError, RecursionError) as error:
        raise JSONSyntaxError(str(error), 1, 1) from None
    located = Located(value)
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    try:
        _Walker(text, starts, located).document()
    except RecursionError:
        raise JSONSyntaxError("nested too deeply", 1, 1) from None
    return located


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class _Walker:
    """Second pass over valid JSON: records lines and duplicate keys, builds nothing."""

    def __init__(self, text: str, starts: list[int], located: Located) -> None:
        self.text, self.starts, self.located = text, starts, located

    def line_at(self, index: int) -> int:
        return bisect.bisect_right(self.starts, index)

    def skip(self, index: int) -> int:
        return _WS.match(self.text, index).end()  # type: ignore[union-attr]

    def document(self) -> None:
        index = self.skip(0)
        self.located.lines[()] = self.line_at(index)
        self.value(index, ())

    def value(self, index: int, path: Path) -> int:
        char = self.text[index]
        if char == "{":
            return self.object(index + 1, path)
        if char == "[":
            return self.array(index + 1, path)
        if char == '"':
            return scanstring(self.text, index + 1)[1]
        for literal in ("true", "false", "null"):
            if self.text.startswith(literal, index):
                return index + len(literal)
        return _NUMBER.match(self.text, index).end()  # type: ignore[union-attr]

    def object(self, index: int, path: Path) -> int:
        seen: dict[str, int] = {}
        index = self.skip(index)
        if self.text[index] == "}":
            return index + 1
        while True:
            line = self.line_at(index)
            key, index = scanstring(self.text, index + 1)
            child = path + (key,)
            if key in seen:
                self.located.duplicate_keys.append((child, line, seen[key]))
            else:
                seen[key] = line
                self.located.lines[child] = line
            index = self.skip(self.skip(index) + 1)  # past ':'
            index = self.skip(self.value(index, child))
            if self.text[index] == "}":
                return index + 1
            index = self.skip(index + 1)  # past ','

    def array(self, index: int, path: Path) -> int:
        index = self.skip(index)
        if self.text[index] == "]":
            return index + 1
        position = 0
        while True:
            child = path + (position,)
            self.located.lines[child] = self.line_at(index)
            index = self.skip(self.value(index, child))
            if self.text[index] == "]":
                return index + 1
            index = self.skip(index + 1)
            position += 1
