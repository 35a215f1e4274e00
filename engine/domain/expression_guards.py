"""What user code may touch while it runs: the guards the rewritten tree calls (attribute
reads, operators, comparisons, formatting), the allowed attributes and builtins, and `print`
into a bounded `Output`. Part of `engine.domain.expressions`, which callers import."""
from __future__ import annotations

import functools
import operator
import re
from contextvars import ContextVar
from datetime import date, datetime, time as dtime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable

from engine.domain.expression_rules import (MAX_DEEP, MAX_FORMAT_WIDTH, MAX_INT_BITS, MAX_ITEMS, MAX_OUTPUT,
                                            MAX_STR, ExpressionError, _check_format_numbers)

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
