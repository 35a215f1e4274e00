"""Camunda's expression language (JUEL, `${...}` and `#{...}`) translated into our restricted
expression language, so files drawn in Camunda Modeler run unmodified.

A defined subset is translated: identifiers, `a.b`, `a['b']`, `a[0]`, arithmetic (`+ - * / %`,
`div`, `mod`, unary minus), comparisons (`== != < > <= >=`, `eq ne lt gt le ge`), logic (`&& || !`,
`and or not`), `empty`, `a ? b : c`, string/number/`true`/`false`/`null` literals and
`execution.getVariable('x')`. Anything else (a bean such as `timerUtil.next(execution)`, a Java
call such as `dateTime().plusWeeks(1)`) is refused with `JuelError` naming the construct: there
is no Java here, and silently evaluating something else would route a case wrongly.

The translation is Python source that `engine.domain.expressions` then checks and evaluates like any
other designer expression (same allow-list, same limits): the translator adds no power.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["JuelError", "is_juel", "unwrap", "translate", "translate_text"]

_WRAPPED = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.S)


class JuelError(ValueError):
    """A JUEL construct outside the supported subset; `construct` names it for the designer."""

    def __init__(self, message: str, construct: str) -> None:
        super().__init__(message)
        self.construct = construct


def is_juel(text: str) -> bool:
    """`${...}` or `#{...}` around the whole value (Camunda writes conditions and groups so)."""
    return bool(_WRAPPED.match(text or ""))


def unwrap(text: str) -> str:
    match = _WRAPPED.match(text)
    if match is None:
        raise JuelError(f"not a JUEL expression: {text!r}", text)
    return match.group(1)


def translate_text(text: str) -> str:
    """The Python expression for a whole `${...}`/`#{...}` value."""
    return translate(unwrap(text))


# ---- tokens ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Token:
    kind: str   # name, number, string, op, end
    text: str
    at: int


_KEYWORDS = {"and": "&&", "or": "||", "not": "!", "eq": "==", "ne": "!=", "lt": "<", "gt": ">",
             "le": "<=", "ge": ">=", "div": "/", "mod": "%"}
_OPS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", "!", "?", ":",
        "(", ")", "[", "]", ".", ",")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*")


def _tokens(source: str) -> list[_Token]:
    found, i = [], 0
    while i < len(source):
        ch = source[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "'\"":
            j, chars = i + 1, []
            while j < len(source) and source[j] != ch:
                if source[j] == "\\" and j + 1 < len(source):
                    j += 1
                chars.append(source[j])
                j += 1
            if j >= len(source):
                raise JuelError(f"unterminated string {source[i:]} at column {i + 1}", source[i:])
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
            word = name.group()
            found.append(_Token("op", _KEYWORDS[word], i) if word in _KEYWORDS else _Token("name", word, i))
            i = name.end()
            continue
        for op in _OPS:
            if source.startswith(op, i):
                found.append(_Token("op", op, i))
                i += len(op)
                break
        else:
            raise JuelError(f"unexpected character {ch!r} at column {i + 1}", ch)
    found.append(_Token("end", "", len(source)))
    return found


# ---- parser (precedence climbing, JUEL's precedence) --------------------------------------
_BINARY = [("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%")]
_PY = {"||": "or", "&&": "and"}
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_SUPPORTED = ("identifiers, a.b, a['b'], a[0], arithmetic, comparisons, && || !, and/or/not, "
              "empty, a ? b : c, literals, execution.getVariable('x')")


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokens(source)
        self.pos = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self, text: str | None = None) -> _Token:
        token = self.tokens[self.pos]
        if text is not None and token.text != text:
            shown = token.text or "the end"
            raise JuelError(f"expected {text!r} at column {token.at + 1}, found {shown!r}", shown)
        self.pos += 1
        return token

    def parse(self) -> str:
        result = self.conditional()
        token = self.peek()
        if token.kind != "end":
            raise JuelError(f"unexpected {token.text!r} at column {token.at + 1}", token.text)
        return result

    def conditional(self) -> str:
        test = self.binary(0)
        if self.peek().text == "?":
            self.take("?")
            yes = self.conditional()
            self.take(":")
            no = self.conditional()
            return f"({yes} if {test} else {no})"
        return test

    def binary(self, level: int) -> str:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek().kind == "op" and self.peek().text in _BINARY[level]:
            op = self.take().text
            right = self.binary(level + 1)
            left = f"({left} {_PY.get(op, op)} {right})"
        return left

    def unary(self) -> str:
        token = self.peek()
        if token.text == "!":
            self.take()
            return f"(not {self.unary()})"
        if token.text == "-":
            self.take()
            return f"(-{self.unary()})"
        if token.kind == "name" and token.text == "empty":
            self.take()
            return f"({self.unary()} in (None, '', [], {{}}, ()))"
        return self.postfix()

    def postfix(self) -> str:
        token = self.peek()
        start = token.at
        value = self.execution() if token.kind == "name" and token.text == "execution" else self.primary()
        while True:
            token = self.peek()
            if token.text == ".":
                self.take()
                name = self.take()
                if name.kind != "name" or name.text.startswith("_"):
                    raise JuelError(f"expected a property name at column {name.at + 1}, found {name.text!r}",
                                    name.text)
                if self.peek().text == "(":
                    called = self.source[start:name.at + len(name.text)] + "()"
                    raise JuelError(f"method call {called} is not supported; supported: {_SUPPORTED}", called)
                value = f"{value}[{name.text!r}]"
            elif token.text == "[":
                self.take()
                index = self.conditional()
                self.take("]")
                value = f"{value}[{index}]"
            elif token.text == "(":
                called = self.source[start:token.at] + "()"
                raise JuelError(f"call {called} is not supported; supported: {_SUPPORTED}", called)
            else:
                return value

    def execution(self) -> str:
        self.take()
        if self.peek().text != ".":
            raise JuelError("the execution object is only supported as execution.getVariable('x')", "execution")
        self.take(".")
        method = self.take()
        if method.text != "getVariable":
            raise JuelError(f"execution.{method.text} is not supported; only execution.getVariable('x')",
                            f"execution.{method.text}")
        self.take("(")
        name = self.take()
        if name.kind != "string":
            raise JuelError("execution.getVariable takes a quoted variable name", "execution.getVariable")
        self.take(")")
        if not _NAME.fullmatch(name.text) or name.text.startswith("_"):
            raise JuelError(f"{name.text!r} is not a variable name", name.text)
        return name.text

    def primary(self) -> str:
        token = self.take()
        if token.kind == "number":
            return token.text
        if token.kind == "string":
            return repr(token.text)
        if token.kind == "name":
            if token.text in _LITERALS:
                return _LITERALS[token.text]
            if token.text.startswith("_"):
                raise JuelError(f"names starting with '_' are not allowed: {token.text}", token.text)
            if self.peek().text == "(":
                raise JuelError(f"function or bean call {token.text}() is not supported; supported: {_SUPPORTED}",
                                f"{token.text}()")
            return token.text
        if token.text == "(":
            inner = self.conditional()
            self.take(")")
            return f"({inner})"
        shown = token.text or "the end"
        raise JuelError(f"unexpected {shown!r} at column {token.at + 1}", shown)


def translate(source: str) -> str:
    """Python source for the JUEL expression `source` (the part inside `${}`)."""
    if not source.strip():
        raise JuelError("empty expression", "${}")
    return _Parser(source).parse()
