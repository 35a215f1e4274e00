"""Restricted evaluation of the Python expressions and scripts found in uploaded BPMN files.

SpiffWorkflow's stock ``PythonScriptEngine`` is plain ``eval``/``exec``: any process designer
could run ``__import__('os').system(...)`` on the server.  This module replaces it with an
AST allow-list:

* ``check`` parses the source and refuses every node type, name and attribute not on the
  allow-list (imports, ``def``/``class``/``try``/``with``, any ``_``-prefixed name or
  attribute, ``format``/``format_map``, frame/code attributes, known-dangerous builtins).
* The accepted tree is rewritten so that attribute access, binary operators, comparisons
  and f-string values go through guard functions (``_getattr_``, ``_binop_`` ...).  User code
  cannot name those guards because ``_``-prefixed names are refused.
* ``_getattr_`` only allows listed attributes of listed types (str, list, dict, date,
  Decimal ...); methods that can allocate a lot (``ljust``, ``replace``, ``join`` ...) are
  returned wrapped with size checks.
* Only a small set of builtins exists; those that can allocate or burn CPU are wrapped.
* While user code runs, ``sys.settrace`` counts steps and enforces a wall-clock deadline and
  a memory-growth ceiling, so loops and recursion end with ``ExpressionError``.

Residual risk (documented, not solved): a single C-level operation on a value that the
guards did not see (e.g. hashing a tuple built to share sub-tuples exponentially) cannot be
interrupted from Python.  Run workers with OS CPU/memory limits if designers are untrusted.
"""
from __future__ import annotations

import ast
import contextlib
import functools
import operator
import os
import re
import sys
import textwrap
import time
from contextvars import ContextVar
from datetime import date, datetime, time as dtime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

from engine.domain import juel

# The sandbox (engine.adapters.sandbox: a pool of limited child processes) runs what may not run
# here. It is an adapter, so it is handed to this module (`use_sandbox`, when that module loads)
# rather than imported: the rules of the language do not depend on how code is isolated.
_SANDBOX: Any = None


def use_sandbox(runner: Any) -> None:
    """Set what runs sandboxed code: `run(mode, source, context, extra) -> Result`, `limits()`,
    `seconds(value)` (engine.adapters.sandbox registers itself when imported)."""
    global _SANDBOX
    _SANDBOX = runner


def _sandbox() -> Any:
    if _SANDBOX is None:
        raise RuntimeError("no sandbox: import engine.adapters.sandbox (the Runtime does)")
    return _SANDBOX

__all__ = ["ExpressionError", "check", "evaluate", "execute", "ISO_TIMER_LITERAL",
           "SafeEnvironment", "SafeScriptEngine", "runs_in_process", "output_to", "Output"]

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


# ---- runtime guards ----------------------------------------------------------------------
def _deep_guard(value: Any, limit: int = MAX_DEEP) -> Any:
    """Refuse values whose printed/compared size is huge (shared sub-lists multiply it)."""
    if isinstance(value, (int, float, bool, type(None), Decimal, date, dtime, timedelta)):
        return value
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        count += 1
        if isinstance(item, (str, bytes)):
            count += len(item)
        elif isinstance(item, dict):
            count += len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            count += len(item)
            stack.extend(item)
        if count > limit:
            raise ExpressionError("value is too large")
    return value


def _check_len(size: int, limit: int, what: str = "result") -> None:
    if size > limit:
        raise ExpressionError(f"{what} would be too large ({size} > {limit})")


def _check_decimal_to_int(value: Any) -> None:
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() > 4300:
        raise ExpressionError("number is too large to convert to an integer")


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def _check_repeat(seq: Any, times: Any) -> None:
    if not _is_int(times) or not isinstance(seq, (str, bytes, list, tuple)):
        return
    n = max(times, 0)
    if isinstance(seq, (str, bytes)):
        _check_len(len(seq) * n, MAX_STR)
    else:
        _check_len(len(seq) * n, MAX_ITEMS)
        if n:
            _deep_guard(seq, MAX_DEEP // n)


def _check_percent(fmt: Any, args: Any) -> None:
    text = fmt if isinstance(fmt, str) else fmt.decode("latin-1")
    for spec in re.findall(r"%[^a-zA-Z%]*", text):
        _check_format_numbers(spec, "%-format")
    _deep_guard(args)
    for arg in (args.values() if isinstance(args, dict) else args if isinstance(args, tuple) else [args]):
        _check_decimal_to_int(arg)


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "Add": operator.add, "Sub": operator.sub, "Mult": operator.mul, "Div": operator.truediv,
    "FloorDiv": operator.floordiv, "Mod": operator.mod, "Pow": operator.pow,
    "LShift": operator.lshift, "RShift": operator.rshift, "BitOr": operator.or_,
    "BitXor": operator.xor, "BitAnd": operator.and_, "MatMult": operator.matmul,
}
_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "Add": operator.iadd, "Sub": operator.isub, "Mult": operator.imul, "Div": operator.itruediv,
    "FloorDiv": operator.ifloordiv, "Mod": operator.imod, "Pow": operator.ipow,
    "LShift": operator.ilshift, "RShift": operator.irshift, "BitOr": operator.ior,
    "BitXor": operator.ixor, "BitAnd": operator.iand, "MatMult": operator.imatmul,
}


def _check_binop(op: str, a: Any, b: Any) -> None:
    if op == "Pow" and _is_int(a) and _is_int(b) and b > 0:
        _check_len(max(a.bit_length(), 1) * b if abs(a) > 1 else 0, MAX_INT_BITS, "number")
    elif op == "LShift" and _is_int(a) and _is_int(b) and a:
        _check_len(a.bit_length() + b, MAX_INT_BITS, "number")
    elif op == "Mult":
        if _is_int(a) and _is_int(b):
            _check_len(a.bit_length() + b.bit_length(), MAX_INT_BITS, "number")
        else:
            _check_repeat(a, b)
            _check_repeat(b, a)
    elif op == "Add" and isinstance(a, (str, bytes, list, tuple)) and isinstance(b, (str, bytes, list, tuple)):
        _check_len(len(a) + len(b), MAX_STR if isinstance(a, (str, bytes)) else MAX_ITEMS)
    elif op == "Mod" and isinstance(a, (str, bytes)):
        _check_percent(a, b)


def _binop_(op: str, a: Any, b: Any) -> Any:
    _check_binop(op, a, b)
    return _BINOPS[op](a, b)


def _inplace_(op: str, a: Any, b: Any) -> Any:
    _check_binop(op, a, b)
    if op == "Add" and isinstance(a, list):
        _check_len(len(a) + len(b) if hasattr(b, "__len__") else len(a), MAX_ITEMS)
    return _INPLACE[op](a, b)


def _cmpval_(value: Any) -> Any:
    """Comparing containers is C-level work proportional to their deep size: bound it."""
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        _deep_guard(value)
    return value


def _fmt_(value: Any) -> Any:
    return _deep_guard(value)


# -- wrapped methods (first argument is the receiver) --
def _pad(name: str) -> Callable[..., Any]:
    def padded(s: Any, width: Any, *rest: Any) -> Any:
        if _is_int(width):
            _check_len(width, MAX_STR)
        return getattr(s, name)(width, *rest)
    return padded


def _expandtabs(s: Any, tabsize: Any = 8) -> Any:
    if _is_int(tabsize):
        _check_len(len(s) * max(tabsize, 1), MAX_STR)
    return s.expandtabs(tabsize)


def _replace(s: Any, old: Any, new: Any, count: Any = -1) -> Any:
    if isinstance(old, type(s)) and isinstance(new, type(s)):
        hits = s.count(old)
        if _is_int(count) and count >= 0:
            hits = min(hits, count)
        _check_len(len(s) + hits * max(len(new) - len(old), 0), MAX_STR)
    return s.replace(old, new, count)


def _join(sep: Any, items: Any) -> Any:
    items = list(items)
    _check_len(len(items), MAX_ITEMS)
    total = len(sep) * max(len(items) - 1, 0)
    total += sum(len(i) for i in items if isinstance(i, (str, bytes)))
    _check_len(total, MAX_STR)
    return sep.join(items)


def _grow(name: str, limit: int) -> Callable[..., Any]:
    def grow(target: Any, *others: Any, **kw: Any) -> Any:
        size = len(target) + len(kw)
        for other in others:
            size += len(other) if hasattr(other, "__len__") else 0
        _check_len(size, limit)
        return getattr(target, name)(*others, **kw)
    return grow


def _guarded_receiver(name: str) -> Callable[..., Any]:
    def call(target: Any, *args: Any, **kw: Any) -> Any:
        _deep_guard(target)
        for arg in args:
            _cmpval_(arg)
        return getattr(target, name)(*args, **kw)
    return call


def _strftime(d: Any, fmt: Any) -> Any:
    if isinstance(fmt, str):
        _check_len(len(fmt), MAX_FORMAT_WIDTH, "format")
        if re.search(r"%[-_0^#]*\d", fmt):
            raise ExpressionError("widths in strftime formats are not allowed")
    return d.strftime(fmt)


_DATE_ATTRS = {"year", "month", "day", "weekday", "isoweekday", "isocalendar", "isoformat",
               "strftime", "replace", "toordinal", "ctime"}
_INSTANCE_ATTRS: dict[type, frozenset[str]] = {
    str: frozenset({
        "capitalize", "casefold", "count", "endswith", "find", "index", "isalnum", "isalpha",
        "isascii", "isdecimal", "isdigit", "islower", "isnumeric", "isspace", "istitle",
        "isupper", "lower", "lstrip", "partition", "removeprefix", "removesuffix", "rfind",
        "rindex", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith",
        "strip", "swapcase", "title", "upper", "center", "ljust", "rjust", "zfill",
        "expandtabs", "replace", "join"}),
    list: frozenset({"append", "clear", "copy", "count", "index", "insert", "pop", "remove",
                     "reverse", "sort", "extend"}),
    tuple: frozenset({"count", "index"}),
    dict: frozenset({"clear", "copy", "get", "items", "keys", "pop", "popitem", "setdefault",
                     "update", "values"}),
    set: frozenset({"add", "clear", "copy", "difference", "difference_update", "discard",
                    "intersection", "intersection_update", "isdisjoint", "issubset",
                    "issuperset", "pop", "remove", "symmetric_difference",
                    "symmetric_difference_update", "union", "update"}),
    frozenset: frozenset({"copy", "difference", "intersection", "isdisjoint", "issubset",
                          "issuperset", "symmetric_difference", "union"}),
    bool: frozenset({"real", "imag"}),
    int: frozenset({"bit_length", "bit_count", "conjugate", "real", "imag", "numerator",
                    "denominator"}),
    float: frozenset({"is_integer", "real", "imag", "conjugate", "hex"}),
    Decimal: frozenset({"adjusted", "as_tuple", "compare", "copy_abs", "copy_negate",
                        "copy_sign", "is_finite", "is_infinite", "is_nan", "is_signed",
                        "is_zero", "normalize", "quantize", "sqrt", "to_integral_value",
                        "to_integral", "to_eng_string", "real", "imag", "max", "min"}),
    datetime: frozenset(_DATE_ATTRS | {"hour", "minute", "second", "microsecond", "tzinfo",
                                       "date", "time", "timestamp", "astimezone", "utcoffset",
                                       "tzname"}),
    date: frozenset(_DATE_ATTRS),
    dtime: frozenset({"hour", "minute", "second", "microsecond", "isoformat", "strftime",
                      "replace", "tzinfo"}),
    timedelta: frozenset({"days", "seconds", "microseconds", "total_seconds"}),
}
_CLASS_ATTRS: dict[type, frozenset[str]] = {
    date: frozenset({"today", "fromisoformat", "fromordinal", "fromisocalendar"}),
    datetime: frozenset({"now", "today", "utcnow", "fromisoformat", "strptime", "combine",
                         "fromordinal", "fromisocalendar"}),
    timezone: frozenset({"utc"}),
}
_WRAPPED: dict[tuple[type, str], Callable[..., Any]] = {
    **{(str, n): _pad(n) for n in ("center", "ljust", "rjust", "zfill")},
    (str, "expandtabs"): _expandtabs, (str, "replace"): _replace, (str, "join"): _join,
    (list, "extend"): _grow("extend", MAX_ITEMS), (dict, "update"): _grow("update", MAX_ITEMS),
    (set, "update"): _grow("update", MAX_ITEMS),
    **{(t, n): _guarded_receiver(n) for t in (list, tuple) for n in ("count", "index")},
    (list, "remove"): _guarded_receiver("remove"), (list, "sort"): _guarded_receiver("sort"),
    (date, "strftime"): _strftime, (datetime, "strftime"): _strftime, (dtime, "strftime"): _strftime,
}


def _getattr_(obj: Any, name: str) -> Any:
    """The only way user code reads attributes: listed names of listed types."""
    owner: type | None = None
    if isinstance(obj, type):
        allowed = _CLASS_ATTRS.get(obj, frozenset())
        label = f"type '{obj.__name__}'"
    else:
        allowed = frozenset()
        for cls in type(obj).__mro__:
            if cls in _INSTANCE_ATTRS:
                owner, allowed = cls, _INSTANCE_ATTRS[cls]
                break
        label = f"a value of type '{type(obj).__name__}'"
    if name.startswith("_") or name not in allowed:
        raise ExpressionError(f"attribute '{name}' is not allowed on {label}")
    wrapper = _WRAPPED.get((owner, name)) if owner else None
    if wrapper is not None:
        return functools.partial(wrapper, obj)
    return getattr(obj, name)


# -- builtins --
def _range(*args: Any) -> range:
    r = range(*args)
    _check_len(len(r), MAX_ITEMS, "range")
    return r


def _int(value: Any = 0, *base: Any) -> int:
    _check_decimal_to_int(value)
    return int(value, *base)


def _round(value: Any, *ndigits: Any) -> Any:
    if not ndigits or ndigits[0] is None:
        _check_decimal_to_int(value)
    return round(value, *ndigits)


def _str(value: Any = "") -> str:
    return str(_deep_guard(value))


def _sum(items: Any, start: Any = 0) -> Any:
    if not isinstance(start, (int, float, Decimal, timedelta)):
        raise ExpressionError("sum() only adds numbers; use ''.join() or a comprehension")
    return sum(items, start)


def _ordered(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def call(*args: Any, **kw: Any) -> Any:
        for arg in args:
            if isinstance(arg, (list, tuple, dict, set, frozenset)):
                _deep_guard(arg)
        return fn(*args, **kw)
    return call


class Output:
    """The print output of one run, bounded: the first MAX_OUTPUT characters are kept and the
    rest only counted, so a print in a loop costs no memory."""

    def __init__(self, limit: int = MAX_OUTPUT) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0
        self.limit = limit

    def write(self, text: str) -> None:
        room = self.limit - self.size
        if len(text) > room:
            self.dropped += len(text) - max(room, 0)
            text = text[:max(room, 0)]
        if text:
            self.parts.append(text)
            self.size += len(text)

    def text(self) -> str:
        return "".join(self.parts)


_OUTPUT: ContextVar[Output | None] = ContextVar("onewindow_script_output", default=None)


def _print(*values: Any, sep: Any = " ", end: Any = "\n", flush: Any = False) -> None:
    """`print` for designers: goes to the run's Output (the case log), never to stdout."""
    sep = " " if sep is None else sep
    end = "\n" if end is None else end
    if not isinstance(sep, str) or not isinstance(end, str):
        raise ExpressionError("print(): sep and end must be text")
    out = _OUTPUT.get()
    if out is None:
        return None
    out.write(sep.join(str(_deep_guard(v)) for v in values) + end)
    return None


_SAFE_BUILTINS: dict[str, Any] = {
    "len": len, "sum": _sum, "min": _ordered(min), "max": _ordered(max), "abs": abs,
    "round": _round, "sorted": _ordered(sorted), "any": any, "all": all, "int": _int,
    "float": float, "str": _str, "bool": bool, "list": list, "dict": dict, "set": set,
    "frozenset": frozenset, "tuple": tuple, "range": _range, "enumerate": enumerate,
    "zip": zip, "reversed": reversed, "map": map, "filter": filter, "chr": chr, "ord": ord,
    "divmod": divmod, "Decimal": Decimal, "date": date, "print": _print,
    "datetime": datetime, "timedelta": timedelta, "timezone": timezone,
    "True": True, "False": False, "None": None,
}
_HELPERS: dict[str, Any] = {
    "_getattr_": _getattr_, "_binop_": _binop_, "_inplace_": _inplace_,
    "_cmpval_": _cmpval_, "_fmt_": _fmt_,
}


# ---- rewriting -----------------------------------------------------------------------------
def _call(helper: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=helper, ctx=ast.Load()), args=list(args), keywords=[])


class _Rewriter(ast.NodeTransformer):
    """Routes attribute reads, operators, comparisons and f-string values through guards."""

    def __init__(self) -> None:
        self.temp = 0

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        return ast.copy_location(_call("_getattr_", node.value, ast.Constant(node.attr)), node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        op = ast.Constant(type(node.op).__name__)
        return ast.copy_location(_call("_binop_", op, node.left, node.right), node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        node.left = _call("_cmpval_", node.left)
        node.comparators = [_call("_cmpval_", c) for c in node.comparators]
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        self.generic_visit(node)
        node.value = _call("_fmt_", node.value)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        self.generic_visit(node)
        op = ast.Constant(type(node.op).__name__)
        target = node.target
        if isinstance(target, ast.Name):
            value = _call("_inplace_", op, ast.Name(id=target.id, ctx=ast.Load()), node.value)
            return ast.copy_location(ast.Assign(targets=[target], value=value), node)
        # x[k] += v: evaluate x and k once, like Python does.
        self.temp += 1
        obj, key = f"_obj{self.temp}_", f"_key{self.temp}_"
        stash = ast.Assign(targets=[ast.Tuple(elts=[ast.Name(id=obj, ctx=ast.Store()),
                                                     ast.Name(id=key, ctx=ast.Store())],
                                               ctx=ast.Store())],
                           value=ast.Tuple(elts=[target.value, target.slice], ctx=ast.Load()))
        load = ast.Subscript(value=ast.Name(id=obj, ctx=ast.Load()),
                             slice=ast.Name(id=key, ctx=ast.Load()), ctx=ast.Load())
        store = ast.Subscript(value=ast.Name(id=obj, ctx=ast.Load()),
                              slice=ast.Name(id=key, ctx=ast.Load()), ctx=ast.Store())
        update = ast.Assign(targets=[store], value=_call("_inplace_", op, load, node.value))
        return [ast.copy_location(stash, node), ast.copy_location(update, node)]


@functools.lru_cache(maxsize=2048)
def _compile(source: str, mode: str) -> Any:
    if mode not in ("eval", "exec"):
        raise ValueError("mode must be 'eval' or 'exec'")
    if len(source) > MAX_SOURCE:
        raise ExpressionError(f"{'expression' if mode == 'eval' else 'script'} is longer "
                              f"than {MAX_SOURCE} characters")
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as err:
        raise ExpressionError(f"syntax error on line {err.lineno}: {err.msg}", err.lineno) from None
    except ValueError as err:  # e.g. null bytes
        raise ExpressionError(f"syntax error: {err}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(_TOO_NESTED) from None
    try:
        _Checker().visit(tree)
        tree = ast.fix_missing_locations(_Rewriter().visit(tree))
        return compile(tree, "<string>", mode)
    except (RecursionError, MemoryError):  # e.g. `1+1+...` of 9,000 terms: a tree 9,000 levels deep
        raise ExpressionError(_TOO_NESTED) from None


_TOO_NESTED = "too deeply nested to compile (split it into smaller expressions)"


def _prepare(source: str, mode: str) -> str:
    # Scripts keep their leading lines so error line numbers match the BPMN text.
    return designer_source(source.strip()) if mode == "eval" else textwrap.dedent(source).rstrip()


@functools.lru_cache(maxsize=4096)
def designer_source(text: str) -> str:
    """The Python expression for what a designer wrote: `${...}`/`#{...}` is Camunda's JUEL
    (engine.domain.juel) when it parses as such, else our own expression inside `${}` (for example
    `${item.get('time_limit')}`); anything else is taken as it is.

    Cached: every evaluation of an expression passes here (`_prepare`), and a process's
    expressions are the few its definitions hold; the result depends on the text alone."""
    if not juel.is_juel(text):
        return text
    inner = juel.unwrap(text).strip()
    try:
        return juel.translate(inner)
    except juel.JuelError as refused:
        if not _known_calls_only(inner):
            raise ExpressionError(f"unsupported JUEL: {refused}") from None
        return inner


_ALLOWED_METHODS = frozenset().union(*_INSTANCE_ATTRS.values())


def _known_calls_only(source: str) -> bool:
    """Whether `source` is one of our own expressions whose every call is a builtin we provide
    or a method some allowed type has (`item.get('x')`): then `${source}` is ours, not JUEL.
    A bean or Java call (`timerUtil.next(execution)`, `dateTime()`) is neither."""
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        return False
    methods = _ALLOWED_METHODS
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = node.func
            if isinstance(called, ast.Name) and called.id not in _SAFE_BUILTINS:
                return False
            if isinstance(called, ast.Attribute) and called.attr not in methods:
                return False
    return True


# ---- running under a budget ---------------------------------------------------------------
def _rss() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class _Budget:
    """A settrace hook: counts steps, watches the clock and resident memory.

    `time_every`/`memory_every`: steps between checks. Expressions run in-process are checked
    at every step (they have few: each guard call is one), sandboxed code every 128."""

    def __init__(self, seconds: float = MAX_SECONDS, memory: int = MAX_MEMORY, what: str = "expression",
                 time_every: int = _CHECK_EVERY, memory_every: int = _CHECK_EVERY,
                 rss0: int | None = None) -> None:
        self.steps = 0
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.memory = memory
        self.what = what
        self.time_every = time_every
        self.memory_every = memory_every
        self.rss0 = rss0 if rss0 is not None else _rss()

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        self.steps += 1
        steps = self.steps
        if steps > MAX_STEPS:
            raise ExpressionError(f"stopped after {MAX_STEPS} steps (endless loop?)",
                                  frame.f_lineno if frame.f_code.co_filename == "<string>" else None)
        if steps % self.time_every == 0 and time.monotonic() > self.deadline:
            raise ExpressionError(f"{self.what} timed out after {_sandbox().seconds(self.seconds)}")
        if steps % self.memory_every == 0 and self.rss0 is not None:
            rss = _rss()
            if rss is not None and rss - self.rss0 > self.memory:
                raise ExpressionError(self._memory_message())
        return self if frame.f_code.co_filename == "<string>" else None

    def _memory_message(self) -> str:
        return f"{self.what} exceeded its memory limit of {self.memory // (1024 * 1024)} MB"


def _user_lineno(tb: Any) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<string>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _with_line(err: ExpressionError, tb: Any) -> ExpressionError:
    if err.lineno is None:
        err.lineno = _user_lineno(tb)
        if err.lineno is not None and "(line " not in err.message:
            err.message = f"{err.message} (line {err.lineno})"
            err.args = (err.message,)
    return err


def _run(code: Any, namespace: dict[str, Any], budget: _Budget | None = None) -> Any:
    budget, previous = budget or _Budget(), sys.gettrace()
    sys.settrace(budget)
    try:
        return eval(code, namespace)
    except ExpressionError as err:
        raise _with_line(err, err.__traceback__)
    except RecursionError:
        raise ExpressionError("recursion is too deep") from None
    except MemoryError:
        raise ExpressionError(budget._memory_message()) from None
    except Exception as err:
        line = _user_lineno(err.__traceback__)
        where = f" (line {line})" if line else ""
        raise ExpressionError(f"{type(err).__name__}: {err}{where}", line) from err
    finally:
        sys.settrace(previous)


def _namespace(context: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    ns: dict[str, Any] = {}
    for source in (extra or {}, context):
        ns.update((k, v) for k, v in source.items() if isinstance(k, str) and not k.startswith("_"))
    ns.update(_HELPERS)
    ns["__builtins__"] = _SAFE_BUILTINS
    return ns


# Constructs that loop, recurse or bind names: with them an expression can build a value no
# guard sees the size of (`[t := (t, t) for i in range(100)]` and then `{t: 1}` hashes 2**100
# nodes in one C call), so it runs in the sandbox process like a script.
_LOOPING = (ast.Lambda, ast.NamedExpr, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@functools.lru_cache(maxsize=2048)
def _shape(source: str, mode: str) -> tuple[bool, frozenset[str]]:
    """(whether it may run in this process, the names it reads or writes) of prepared source
    that `_compile` accepted. The allow-list makes the names exact: code reaches task data only
    through plain names (no globals(), vars(), attribute access to modules)."""
    tree = ast.parse(source, mode=mode)
    nodes = list(ast.walk(tree))
    names = frozenset(n.id for n in nodes if isinstance(n, ast.Name))
    in_process = mode == "eval" and not any(isinstance(n, _LOOPING) for n in nodes)
    return in_process, names


def runs_in_process(source: str) -> bool:
    """Whether an expression is evaluated in the calling process rather than the sandbox.

    Only expressions without loops, lambdas and `:=` are: every operation they can do is
    bounded by a guard before it allocates (`'a'*10**10`, `10**10**10`, `'x'.ljust(10**10)`
    are refused), they cannot name a value twice (so they cannot build shared structure whose
    size the guards do not see), and their number of operations is bounded by the source size;
    the trace budget checks the clock at every guard call. They are most gateway conditions
    (`decision == 'approve'`), and they cost microseconds instead of a round trip.
    """
    if _iso_literal(source) is not None:
        return True
    prepared = _prepare(source, "eval")
    _compile(prepared, "eval")
    return _shape(prepared, "eval")[0]


def _select(names: frozenset[str], values: dict[str, Any] | None,
            skip: dict[str, Any] | None = None) -> dict[str, Any]:
    if not values:
        return {}
    return {k: values[k] for k in names
            if k in values and not k.startswith("_") and (skip is None or k not in skip)}


def _in_process_budget(what: str) -> _Budget:
    lim = _sandbox().limits()
    return _Budget(lim.timeout, lim.memory_mb * 1024 * 1024, what, time_every=1, memory_every=16)


def _evaluate_here(source: str, context: dict[str, Any], extra: dict[str, Any] | None = None,
                   budget: _Budget | None = None) -> Any:
    """Evaluate in this process (simple expressions; the sandbox host runs everything here)."""
    literal = _iso_literal(source)
    if literal is not None:
        return literal
    code = _compile(_prepare(source, "eval"), "eval")
    return _deep_guard(_run(code, _namespace(context, extra), budget))


def _execute_here(source: str, context: dict[str, Any], extra: dict[str, Any] | None = None,
                  budget: _Budget | None = None) -> None:
    """Run a script in this process (the sandbox host does); applies its changes to `context`."""
    code = _compile(_prepare(source, "exec"), "exec")
    ns = _namespace(context, extra)
    _run(code, ns, budget or _Budget(what="script"))
    # Copy back only on success, so a failed script leaves the task data untouched.
    updates = {}
    for key, value in ns.items():
        if key.startswith("_") or callable(value):
            continue
        if extra and key in extra and key not in context:
            continue
        if context.get(key, _MISSING) is not value:
            updates[key] = _deep_guard(value)
    for key in [k for k in context if isinstance(k, str) and not k.startswith("_") and k not in ns]:
        del context[key]
    context.update(updates)


_MISSING = object()


def _finish(result: Any) -> None:
    _emit(result.printed, result.dropped)
    if not result.ok:
        raise ExpressionError(result.error or "failed", result.line)


def _evaluate(source: str, context: dict[str, Any], extra: dict[str, Any] | None = None) -> Any:
    literal = _iso_literal(source)
    if literal is not None:
        return literal
    prepared = _prepare(source, "eval")
    _compile(prepared, "eval")  # refused code fails here, without a round trip
    in_process, names = _shape(prepared, "eval")
    if in_process:
        output = Output()
        token = _OUTPUT.set(output)
        try:
            return _evaluate_here(source, context, extra, _in_process_budget("expression"))
        finally:
            _OUTPUT.reset(token)
            _emit(output.text(), output.dropped)
    result = _sandbox().run("eval", source, _select(names, context), _select(names, extra, context))
    _finish(result)
    return result.value


def _execute(source: str, context: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
    prepared = _prepare(source, "exec")
    _compile(prepared, "exec")
    names = _shape(prepared, "exec")[1]
    result = _sandbox().run("exec", source, _select(names, context), _select(names, extra, context))
    _finish(result)
    result.apply(context)  # in place, as if it had run here


# ---- where print output goes -------------------------------------------------------------------
_SINK: ContextVar[Callable[[Any, str, int], None] | None] = ContextVar("onewindow_output_sink", default=None)
_TASK: ContextVar[Any] = ContextVar("onewindow_script_task", default=None)


@contextlib.contextmanager
def output_to(sink: Callable[[Any, str, int], None]) -> Any:
    """Within the block, what scripts and expressions print goes to `sink(task, text, dropped)`:
    the SpiffWorkflow task that ran the code (None outside a task), the text (at most
    MAX_OUTPUT characters per run) and how many characters were left out. Without a sink the
    output is discarded; it never reaches the server's stdout."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)


def _emit(text: str, dropped: int) -> None:
    if not text and not dropped:
        return
    sink = _SINK.get()
    if sink is not None:
        sink(_TASK.get(), text, dropped)


# ---- public API ------------------------------------------------------------------------------
def check(source: str, mode: str = "eval") -> None:
    """Refuse, at deploy time, any expression (mode 'eval') or script (mode 'exec') we would not run.

    Raises ExpressionError naming the first construct that is not allowed.
    """
    if mode == "eval" and _iso_literal(source) is not None:
        return
    _compile(_prepare(source, mode), mode)


def evaluate(source: str, context: dict[str, Any]) -> Any:
    """Evaluate an expression against task data; unquoted ISO timer literals come back as strings.

    Simple expressions run here, others in the sandbox process (`runs_in_process`); both end
    within `sandbox.limits()`, else ExpressionError."""
    return _evaluate(source, context)


def execute(source: str, context: dict[str, Any]) -> None:
    """Run a script in the sandbox process; its assignments and deletions are applied to
    `context` only if it succeeds (within `sandbox.limits()`, else ExpressionError)."""
    _execute(source, context)


# ---- SpiffWorkflow integration --------------------------------------------------------------
class SafeEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment semantics (globals < external context < task data), restricted.

    SpiffWorkflow calls ``environment.evaluate`` directly for some conditions (process
    completion, message correlations), so the environment itself must be safe.
    """

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        return _evaluate(expression, context, {**self.globals, **(external_context or {})})

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        _execute(script, context, {**self.globals, **external_context})
        return True


class ScriptError(WorkflowTaskException):
    """A script or expression of a task failed; `str()` is the reason alone, so the case's
    error reads "<element>: script timed out after 5 s"."""

    def __str__(self) -> str:
        text = str(self.args[0]) if self.args else "script failed"
        return ". ".join([text, *self.notes]) if self.notes else text


class SafeScriptEngine(PythonScriptEngine):
    """Drop-in for SpiffWorkflow's PythonScriptEngine; errors still become WorkflowTaskException.

    It remembers which task runs code, so print output is attributed to its element."""

    def __init__(self, environment: TaskDataEnvironment | None = None) -> None:
        super().__init__(environment or SafeEnvironment())

    def evaluate(self, task: Any, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        token = _TASK.set(task)
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ExpressionError as err:
            raise ScriptError(f"Error evaluating expression '{expression}': {err.message}",
                              task=task, exception=err) from err
        except SpiffWorkflowException as err:
            err.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as err:
            raise WorkflowTaskException(f"Error evaluating expression '{expression}'",
                                        task=task, exception=err) from err
        finally:
            _TASK.reset(token)

    def execute(self, task: Any, script: str, external_context: dict[str, Any] | None = None) -> Any:
        token = _TASK.set(task)
        try:
            return super().execute(task, script, external_context)
        finally:
            _TASK.reset(token)

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> Exception:
        """A refused or failed script reads as its reason ("script timed out after 5 s"), not
        SpiffWorkflow's "ExpressionError:..." wrapping."""
        if isinstance(err, ExpressionError):
            line, content = self.get_error_line_number_and_content(script, err)
            return ScriptError(err.message, task=task, exception=err, line_number=line,
                               error_line=content)
        return super().create_task_exec_exception(task, script, err)

    def validate(self, expression: str) -> None:
        """SyntaxError for bad syntax (DMN relies on that), ExpressionError for refused code."""
        if juel.is_juel(expression):
            expression = designer_source(expression)
        try:
            ast.parse(expression)
        except SyntaxError:
            if _iso_literal(expression) is None:
                raise
            return
        try:
            check(expression, "eval")
        except ExpressionError as err:
            if not str(err).startswith("syntax error"):
                raise
            check(expression, "exec")

    def get_error_line_number_and_content(self, script: str, err: Exception) -> tuple[int, str]:
        line = getattr(err, "lineno", None)
        if isinstance(err, ExpressionError) and line:
            lines = script.splitlines()
            return line, lines[line - 1] if line <= len(lines) else ""
        return super().get_error_line_number_and_content(script, err)
