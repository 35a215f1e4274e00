"""The expression language's rules that need no running: its limits, its error, the ISO 8601
timer values taken as text, and the static check of a syntax tree (the allow-list of nodes,
names and attributes). Part of `engine.domain.expressions`, which callers import."""
from __future__ import annotations

import ast
import re

# ---- limits ---------------------------------------------------------------------------
MAX_SOURCE = 20_000          # characters of one expression or script
MAX_ITEMS = 100_000          # elements of a list/tuple/range produced in one operation
MAX_STR = 1_000_000          # characters of a str/bytes produced in one operation
MAX_INT_BITS = 16_384        # ~4900 decimal digits
MAX_DEEP = 1_000_000         # nodes + characters of a value that is printed, compared, returned
MAX_FORMAT_WIDTH = 10_000    # width/precision in %-formats, f-string specs, strftime
MAX_STEPS = 500_000          # traced line/call events per evaluation
MAX_SECONDS = 2.0            # wall clock per evaluation (direct `_Budget()` use; runs use the
MAX_MEMORY = 256 * 1024 * 1024  # resident memory growth   configured `sandbox.limits()`)
_CHECK_EVERY = 128           # steps between clock/memory checks
MAX_OUTPUT = 10_000          # characters of print output kept per run (the rest is counted)


class ExpressionError(Exception):
    """An expression or script was refused or failed; the message is safe to show the designer."""

    def __init__(self, message: str, lineno: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.lineno = lineno


# ---- ISO 8601 timer literals -------------------------------------------------------------
_NUM = r"\d+(?:[.,]\d+)?"
_DUR = (rf"P(?=\d|T\d)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
        rf"(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?")
_DT = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
ISO_TIMER_LITERAL = re.compile(
    rf"(?:{_DUR}|{_DT}|R\d*/(?:{_DUR}|{_DT}/{_DUR}|{_DUR}/{_DT}))")
"""Unquoted timer values as Camunda Modeler / bpmn.io users type them: durations (``PT24H``),
cycles (``R3/PT1H``, ``R3/2026-03-01T09:00:00+08:00/PT1H``) and dates.  Use ``fullmatch``."""


def _iso_literal(source: str) -> str | None:
    text = source.strip()
    return text if ISO_TIMER_LITERAL.fullmatch(text) else None


# ---- static check ------------------------------------------------------------------------
_DANGEROUS_NAMES = frozenset({
    "exec", "eval", "compile", "open", "getattr", "setattr", "delattr", "hasattr", "globals",
    "locals", "breakpoint", "memoryview", "super", "classmethod", "staticmethod", "exit", "quit",
})
# Plausible task-data field names ("type", "id"...): only refused when called like the builtin.
_DANGEROUS_CALLS = frozenset({
    "type", "object", "id", "input", "format", "vars", "dir", "help", "iter", "next",
    "callable", "issubclass", "bytearray", "property",
})
_DANGEROUS_ATTRS = frozenset({"format", "format_map", "mro", "translate", "maketrans",
                              "to_bytes", "from_bytes", "as_integer_ratio"})
_DANGEROUS_ATTR_PREFIX = re.compile(r"^(gi|cr|ag|f|tb|co|func|im)_")

_ALLOWED_NODES = (
    ast.Expression, ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.For,
    ast.While, ast.Break, ast.Continue, ast.Pass, ast.Delete, ast.Assert,
    ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Dict, ast.Set, ast.ListComp,
    ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension, ast.Compare, ast.Call,
    ast.keyword, ast.Constant, ast.Attribute, ast.Subscript, ast.Starred, ast.Name, ast.List,
    ast.Tuple, ast.Slice, ast.JoinedStr, ast.FormattedValue, ast.NamedExpr, ast.Lambda,
    ast.arguments, ast.arg, ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop,
)
_NODE_WORDS = {
    ast.Import: "import", ast.ImportFrom: "import", ast.FunctionDef: "def",
    ast.AsyncFunctionDef: "def", ast.ClassDef: "class", ast.With: "with", ast.AsyncWith: "with",
    ast.Try: "try", ast.Raise: "raise", ast.Global: "global", ast.Nonlocal: "nonlocal",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Await: "await", ast.Return: "return",
    ast.AsyncFor: "async for", ast.Match: "match", ast.AnnAssign: "annotated assignment",
}
if hasattr(ast, "TryStar"):
    _NODE_WORDS[ast.TryStar] = "try"
_SPEC_NUMBERS = re.compile(r"\d+")


def _name_refused(name: str) -> bool:
    return (name.startswith("_") and name != "_") or name in _DANGEROUS_NAMES


def _check_format_numbers(spec: str, what: str) -> None:
    if "*" in spec:
        raise ExpressionError(f"'*' width in {what} is not allowed")
    for number in _SPEC_NUMBERS.findall(spec):
        if len(number) > 6 or int(number) > MAX_FORMAT_WIDTH:
            raise ExpressionError(f"width {number} in {what} is too large")


class _Checker(ast.NodeVisitor):
    """Walks the tree once and raises on the first thing not allowed."""

    def generic_visit(self, node: ast.AST) -> None:
        line = getattr(node, "lineno", None)
        where = f" (line {line})" if line else ""
        if not isinstance(node, _ALLOWED_NODES):
            word = _NODE_WORDS.get(type(node), type(node).__name__)
            raise ExpressionError(f"{word} is not allowed{where}", line)
        if isinstance(node, ast.Name) and _name_refused(node.id):
            raise ExpressionError(f"name '{node.id}' is not allowed{where}", line)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in _DANGEROUS_CALLS):
            raise ExpressionError(f"calling '{node.func.id}' is not allowed{where}", line)
        if isinstance(node, ast.arg) and _name_refused(node.arg):
            raise ExpressionError(f"name '{node.arg}' is not allowed{where}", line)
        if isinstance(node, ast.Attribute):
            if (node.attr.startswith("_") or node.attr in _DANGEROUS_ATTRS
                    or _DANGEROUS_ATTR_PREFIX.match(node.attr)):
                raise ExpressionError(f"attribute '{node.attr}' is not allowed{where}", line)
            if not isinstance(node.ctx, ast.Load):
                raise ExpressionError(f"assigning or deleting attributes is not allowed{where}", line)
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            parts = node.format_spec.values if isinstance(node.format_spec, ast.JoinedStr) else []
            if not all(isinstance(p, ast.Constant) for p in parts):
                raise ExpressionError(f"computed format specs are not allowed{where}", line)
            _check_format_numbers("".join(str(p.value) for p in parts), "format spec")
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Subscript) \
                and isinstance(node.target.slice, ast.Slice):
            raise ExpressionError(f"augmented assignment to a slice is not allowed{where}", line)
        super().generic_visit(node)
