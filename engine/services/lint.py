"""`onewindow lint FILE...`: every deploy check, on a designer's machine, without a database.

The checks are the deploy's own (`engine.services.definitions.check_files`: XML gate, XSD, references,
expressions, timers, service tasks, loops, lengths, departments with their aliases, call
cycles, SpiffWorkflow's parse, business keys), so a file lint passes deploys, and a refusal at
deploy is seen first here. Call targets are looked for among the given files only. Form keys
are checked against a forms directory (a warning, as at deploy). Other checks plug in with one
line (`register(hook)`): a hook gets every given file as (name, bytes) — `.bpmn` and `.dmn`
alike — and returns its problems as `file:line: element: message`.

Problems come out as `file:line:col: element: message` (the column of the element's start
tag), or as JSON objects with the same parts.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from engine.domain.dmn import checks as dmn_checks
from engine.services import definitions
from engine.domain.bpmn import checks
from engine.errors import DomainError

#: A pluggable check: every given file as (name, bytes) → problems `file:line: element: message`.
LintHook = Callable[[Sequence[tuple[str, bytes]]], list[str]]
HOOKS: list[LintHook] = []
SUFFIXES = (".bpmn", ".dmn")


def register(hook: LintHook) -> LintHook:
    """Add a check to every lint run (e.g. `lint.register(dmn.dmn_problems)`)."""
    if hook not in HOOKS:
        HOOKS.append(hook)
    return hook


# Further checks register here, one line each, so every `onewindow lint` runs them.


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: int
    element: str  # `userTask Review`, or "" for the file itself
    message: str
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        head = f"{self.file}:{self.line}:{self.column}: "
        tag = "warning: " if self.severity == "warning" else ""
        return head + (f"{self.element}: " if self.element else "") + tag + self.message

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def lint_files(paths: Sequence[str | Path], organisation: Any, forms: Any | None,
               now: datetime | None = None, hooks: Iterable[LintHook] | None = None) -> list[Problem]:
    """Every problem of the BPMN (and DMN, through hooks) files under `paths`, errors and
    warnings, in file and line order. A path that cannot be read is a problem, not a crash."""
    now = now or datetime.now(timezone.utc)
    found: list[Problem] = []
    inputs: list[tuple[str, bytes]] = []
    for raw in paths:
        if Path(raw).is_dir() and not _files([raw]):
            found.append(Problem(str(raw), 1, 1, "", "no .bpmn or .dmn file in this directory"))
    for path in _files(paths):
        try:
            inputs.append((str(path), path.read_bytes()))
        except OSError as error:
            found.append(Problem(str(path), 1, 1, "", f"cannot be read: {error.strerror or error}"))
    texts = {name: data for name, data in inputs}
    # DMN files are checked with the BPMN files that use them, as one deployment; DMN files alone
    # (a deploy would refuse them: decisions deploy with their processes) by the DMN checks only.
    dmn_only = all(name.lower().endswith(".dmn") for name, _ in inputs)
    files = [] if dmn_only else [definitions.CheckedFile(name, data) for name, data in inputs]
    names = {f.name for f in files}
    try:
        if files:
            definitions.check_files(files, now, organisation, lambda key: None)
    except DomainError as error:  # a file over the size limit
        found.append(Problem(files[0].name if len(files) == 1 else "", 1, 1, "", error.detail))
    if dmn_only:
        found += [_problem(problem, set(texts), texts) for problem in dmn_checks.dmn_problems(inputs)]
    for file in files:
        for problem in dict.fromkeys(file.problems):
            found.append(_problem(problem, names, texts))
        if forms is not None and file.tree is not None and not file.problems and file.decisions is None:
            for warning in checks.form_key_warnings(file.tree, file.name, forms):
                found.append(_problem(warning, names, texts, severity="warning"))
    for hook in HOOKS if hooks is None else hooks:
        for problem in hook(inputs):
            found.append(_problem(problem, set(texts), texts))
    return sorted(dict.fromkeys(found), key=lambda p: (p.file, p.line, p.column))


def _files(paths: Sequence[str | Path]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out += sorted(p for p in path.glob("**/*") if p.suffix in SUFFIXES and p.is_file())
        else:
            out.append(path)
    return list(dict.fromkeys(out))


_WHAT = re.compile(r"^([a-z][A-Za-z]*)(?: ([^\s:]+))?: (.*)$", re.S)
_ID = re.compile(r'\bid="([^"]*)"')


def _problem(text: str, names: set[str], texts: dict[str, bytes], severity: str = "error") -> Problem:
    """A deploy problem `file:line: element: message` taken apart, with the element's column."""
    name = max((n for n in names if text.startswith(n + ":")), key=len, default="")
    rest = text[len(name) + 1:] if name else text
    line = 0
    head, _, tail = rest.partition(": ")
    if head.strip().isdigit():
        line, rest = int(head), tail
    element, message = "", rest.strip()
    match = _WHAT.match(message)
    if match and (match.group(2) is not None or match.group(1) in _TAGS):
        element = f"{match.group(1)} {match.group(2)}" if match.group(2) else match.group(1)
        message = match.group(3)
    if message.startswith("warning: "):
        message = message[len("warning: "):]
    column = _column(texts.get(name), line, element.split(" ", 1)[1] if " " in element else None)
    return Problem(name, max(line, 1), column, element, message, severity)  # no line: the file's start


def _column(data: bytes | None, line: int, element_id: str | None) -> int:
    """1-based column of the element's start tag on `line` (its `id`'s tag, else the first
    tag on the line); 1 when the line is unknown."""
    if not data or line < 1:
        return 1
    lines = data.decode("utf-8", errors="replace").splitlines()
    if line > len(lines):
        return 1
    text = lines[line - 1]
    if element_id:
        at = text.find(f'id="{element_id}"')
        if at >= 0:
            start = text.rfind("<", 0, at)
            return (start if start >= 0 else at) + 1
    start = text.find("<")
    return (start if start >= 0 else len(text) - len(text.lstrip())) + 1


# Tags that name an element without an id in problems (`process`, `definitions`, XSD messages).
_TAGS = frozenset({"definitions", "process", "collaboration", "laneSet", "lane", "extensionElements",
                   "conditionExpression", "timerEventDefinition", "multiInstanceLoopCharacteristics",
                   "script", "comment"})


def summary(problems: Sequence[Problem], files: int) -> str:
    """`3 errors, 1 warning in 2 files` (or `2 files clean`)."""
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    if not problems:
        return f"{files} file{'s' if files != 1 else ''} clean"
    parts = [f"{errors} error{'s' if errors != 1 else ''}"] if errors else []
    parts += [f"{warnings} warning{'s' if warnings != 1 else ''}"] if warnings else []
    return f"{', '.join(parts)} in {files} file{'s' if files != 1 else ''}"


def count_files(paths: Sequence[str | Path]) -> int:
    return len(_files(paths))
