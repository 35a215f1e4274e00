"""From a designer's text to checked, guarded code: JUEL or our own expression
(`designer_source`), the static check, the rewriting that routes operations through the guards,
and the shape that decides where code may run. Part of `engine.domain.expressions`."""
from __future__ import annotations

import ast
import functools
import textwrap
from typing import Any

from engine.domain import juel
from engine.domain.expression_guards import _INSTANCE_ATTRS, _SAFE_BUILTINS
from engine.domain.expression_rules import MAX_SOURCE, ExpressionError, _Checker

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
