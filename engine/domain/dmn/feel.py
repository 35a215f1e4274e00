"""FEEL as DMN decision tables use it, translated into our restricted expression language.

A decision table's cells are written in FEEL (Camunda Modeler's default). We do not run a FEEL
interpreter: each cell is translated once, at deploy, into an expression of `engine.domain.expressions`
(the same allow-list and limits as every designer expression), and anything outside the subset
below is refused naming the construct, so a table never decides differently from what it says.

Input entries (unary tests), tested against the input's value (`cellInput` in the translation,
Camunda's own name for it):

- `-` or empty: any value;
- literals `"a"`, `10`, `-2.5`, `true`, `false`, `null`, `date("2026-05-01")`: equal to it;
- comparisons `< 10`, `<= x`, `> 0`, `>= date("2026-01-01")` (`= x`, `!= x` too);
- intervals `[1..5]`, `(1..5]`, `]1..5[`, `[1..5)` (round or outward brackets: open end);
- several of these separated by commas (any of them), and `not(...)` around a list.

An endpoint may also name a variable (`< limit`, `[min..max]`, `a.b`), or the input's value itself
(`cellInput`, or the column's `camunda:inputVariable`: `[0..cellInput]` is rarely useful, but
Camunda allows it). Dates compare as ISO
text (`2026-05-01`), so an input holding a date, a datetime or an ISO string all work; a
null input never satisfies a comparison or an interval.

Input expressions and output entries are simple FEEL expressions (names, `a.b`, literals,
arithmetic, comparisons, `and`/`or`), translated with `engine.domain.juel` whose subset they share.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from engine.domain import expressions
from engine.domain import juel

__all__ = ["FeelError", "CELL_INPUT", "unary_tests", "expression"]

CELL_INPUT = "cellInput"
MAX_CELL = 2000  # characters of one cell; tables are data, not programs


class FeelError(ValueError):
    """A FEEL construct outside the supported subset; `construct` names it for the designer."""

    def __init__(self, message: str, construct: str) -> None:
        super().__init__(message)
        self.construct = construct


@dataclass(frozen=True)
class _Token:
    kind: str  # string, number, name, op, end
    text: str
    at: int


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_NAME = re.compile(r"[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*(?:\.[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*)*")
_OPS = ("..", "<=", ">=", "!=", "<", ">", "=", "(", ")", "[", "]", ",", "-")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
SUPPORTED = ('"text", numbers, true/false/null, date("YYYY-MM-DD"), < <= > >= = != x, '
             "[a..b] (a..b] ]a..b[, lists a,b, not(...), - for any")


def _tokens(source: str) -> list[_Token]:
    found: list[_Token] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch.isspace():
            i += 1
            continue
        if ch == '"':
            j, chars = i + 1, []
            while j < len(source) and source[j] != '"':
                if source[j] == "\\" and j + 1 < len(source):
                    j += 1
                chars.append(source[j])
                j += 1
            if j >= len(source):
                raise FeelError(f"unterminated string {source[i:][:40]}", source[i:][:40])
            found.append(_Token("string", "".join(chars), i))
            i = j + 1
            continue
        number = _NUMBER.match(source, i)
        if number:
            found.append(_Token("number", number.group(), i))
            i = number.end()
            continue
        name = _NAME.match(source, i)
        if name:
            found.append(_Token("name", name.group(), i))
            i = name.end()
            continue
        op = next((o for o in _OPS if source.startswith(o, i)), None)
        if op is None:
            raise FeelError(f"unexpected {ch!r} at column {i + 1}; supported: {SUPPORTED}", ch)
        found.append(_Token("op", op, i))
        i += len(op)
    found.append(_Token("end", "", len(source)))
    return found


class _UnaryParser:
    def __init__(self, source: str, input_variable: str | None = None) -> None:
        self.source = source
        self.input_variable = input_variable
        self.tokens = _tokens(source)
        self.pos = 0
        self.dated = False  # an endpoint is a date: compare the input as ISO text

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def take(self, text: str | None = None) -> _Token:
        token = self.tokens[self.pos]
        if text is not None and token.text != text:
            raise FeelError(f"expected {text!r} at column {token.at + 1}, found {token.text or 'the end'!r}",
                            token.text or self.source)
        self.pos += 1
        return token

    def parse(self) -> str | None:
        if self.peek().kind == "end" or (self.peek().text == "-" and self.peek(1).kind == "end"):
            return None
        if self.peek().text == "not" and self.peek(1).text == "(":
            self.take()
            self.take("(")
            inner = self.tests()
            self.take(")")
            result = f"(not {inner})"
        else:
            result = self.tests()
        token = self.peek()
        if token.kind != "end":
            raise FeelError(f"unexpected {token.text!r} at column {token.at + 1}; supported: {SUPPORTED}",
                            self.source[token.at:][:40])
        return result

    def tests(self) -> str:
        parts = [self.test()]
        while self.peek().text == ",":
            self.take()
            parts.append(self.test())
        return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"

    def test(self) -> str:
        token = self.peek()
        if token.text in ("<", "<=", ">", ">=", "=", "!="):
            self.take()
            value = self.endpoint()
            op = "==" if token.text == "=" else token.text
            if op in ("==", "!="):
                return f"({self._input()} {op} {value})"
            return f"({CELL_INPUT} is not None and {self._input()} {op} {value})"
        if token.text in ("[", "(", "]"):
            self.take()
            low = self.endpoint()
            self.take("..")
            high = self.endpoint()
            close = self.take()
            if close.text not in ("]", ")", "["):
                raise FeelError(f"an interval ends with ], ) or [ (column {close.at + 1})", close.text or self.source)
            low_op = "<=" if token.text == "[" else "<"
            high_op = "<=" if close.text == "]" else "<"
            cell = self._input()
            return f"({CELL_INPUT} is not None and {low} {low_op} {cell} and {cell} {high_op} {high})"
        value = self.endpoint()
        return f"({self._input()} == {value})"

    def _input(self) -> str:
        return f"str({CELL_INPUT})[:10]" if self.dated else CELL_INPUT

    def endpoint(self) -> str:
        token = self.take()
        if token.kind == "string":
            return repr(token.text)
        if token.kind == "number":
            return token.text
        if token.text == "-" and self.peek().kind == "number":
            return "-" + self.take().text
        if token.kind == "name":
            if token.text in ("true", "false", "null"):
                return {"true": "True", "false": "False", "null": "None"}[token.text]
            if self.peek().text == "(":
                if token.text != "date":
                    raise FeelError(f"function {token.text}() is not supported; supported: {SUPPORTED}",
                                    f"{token.text}()")
                self.take("(")
                text = self.take()
                self.take(")")
                if text.kind != "string" or not _DATE.fullmatch(text.text):
                    raise FeelError('date() takes a quoted date "YYYY-MM-DD"', f"date({text.text})")
                self.dated = True
                return repr(text.text)
            if token.text in ("and", "or", "not", "if", "for", "some", "every", "in", "instance"):
                raise FeelError(f"'{token.text}' expressions are not supported in input entries; "
                                f"supported: {SUPPORTED}", token.text)
            if token.text in (CELL_INPUT, self.input_variable):
                return CELL_INPUT  # the input's value under Camunda's name for it
            return _name(token.text)
        raise FeelError(f"unexpected {token.text or 'end'!r} at column {token.at + 1}; supported: {SUPPORTED}",
                        token.text or self.source)


def _name(path: str) -> str:
    if any(part.startswith("_") for part in path.split(".")):
        raise FeelError(f"names starting with '_' are not allowed: {path}", path)
    return juel.translate(path)


def _checked(source: str, original: str) -> str:
    try:
        expressions.check(source, "eval")
    except expressions.ExpressionError as error:
        raise FeelError(f"{original[:60]}: {error}", original) from None
    return source


def unary_tests(text: str | None, input_variable: str | None = None) -> str | None:
    """The expression (over `cellInput`) for an input entry's unary tests; None: any value.
    `input_variable`: the column's `camunda:inputVariable`, another name for the input's value."""
    source = (text or "").strip()
    if len(source) > MAX_CELL:
        raise FeelError(f"the cell is longer than {MAX_CELL} characters", source[:40] + "...")
    try:
        translated = _UnaryParser(source, input_variable).parse()
    except juel.JuelError as error:
        raise FeelError(str(error), error.construct) from None
    return None if translated is None else _checked(translated, source)


def expression(text: str | None, what: str = "expression") -> str | None:
    """The expression for a simple FEEL expression (an input expression or an output entry);
    None when the cell is empty."""
    source = (text or "").strip()
    if not source:
        return None
    if len(source) > MAX_CELL:
        raise FeelError(f"the {what} is longer than {MAX_CELL} characters", source[:40] + "...")
    if source.startswith("${") or source.startswith("#{"):
        source = juel.unwrap(source)
    try:
        translated = juel.translate(source)
    except juel.JuelError as error:
        raise FeelError(f"{what} {source[:60]!r}: {error}", error.construct) from None
    return _checked(translated, source)
