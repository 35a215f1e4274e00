"""Task data across the sandbox pipe: JSON values, and which object is which.

A script run in-process changes task data *in place*: `items[0]['status'] = 'done'` changes
the dict that `items[0]` is, and SpiffWorkflow shares nested objects between a task's data,
its parent's and sibling branches' (its data merge copies shallowly) until the case is saved
and reloaded. A sandboxed script must have the same effect, so values do not merely cross
the pipe as JSON: both sides number the lists and dicts of the input the same way (pre-order,
first occurrences), and the reply says, in those numbers, which input containers changed
(patched in place by the server: every alias sees it), which variables were bound to another
value (the value may refer to input containers: `x = items[0]` keeps `x` the same dict), and
which were deleted. Shared containers in the input (`item` is also `items[-1]` after a
multi-instance) cross as references, so the script sees them shared too.

Encoding: JSON. What a case can store crosses unchanged (str, int, float, bool, None, list,
dict, `datetime`, `timedelta`); tuples and sets become lists and number keys strings, as a save
and reload does; expressions may also return `date`, `time` and `Decimal`. Anything else:
an error naming the variable.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time as dtime, timedelta
from decimal import Decimal
from typing import Any

_TAG = "\x00ow"   # a tagged non-JSON value: {"\x00ow": "datetime", "v": "..."}
REF = "\x00ref"   # a container numbered before: {"\x00ref": 12}
_CONTAINERS = (dict, list, tuple, set, frozenset)  # what JSON writes as an object or array


# --------------------------------------------------------------------------- scalars


def _tagger(kinds: tuple[type, ...], used: list[bool]) -> Any:
    """A `json.dumps` default: tags the listed non-JSON types, turns sets into lists."""

    def default(value: Any) -> Any:
        if isinstance(value, (set, frozenset)):
            return list(value)
        if isinstance(value, kinds):
            used[0] = True
            if isinstance(value, datetime):
                return {_TAG: "datetime", "v": value.isoformat()}
            if isinstance(value, date):
                return {_TAG: "date", "v": value.isoformat()}
            if isinstance(value, dtime):
                return {_TAG: "time", "v": value.isoformat()}
            if isinstance(value, timedelta):
                return {_TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
            if isinstance(value, Decimal):
                return {_TAG: "decimal", "v": str(value)}
        raise TypeError(f"a value of type '{type(value).__name__}'")
    return default


STORABLE = (datetime, timedelta)                     # what a case's state can hold
RETURNABLE = (datetime, date, dtime, timedelta, Decimal)


class Encoder:
    """Encodes values one by one (so an error names the variable) and remembers whether any
    needed a tag (the other side then decodes with the slower object hook)."""

    def __init__(self, kinds: tuple[type, ...] = STORABLE) -> None:
        self.used = [False]
        self._default = _tagger(kinds, self.used)

    @property
    def tagged(self) -> bool:
        return self.used[0]

    def encode(self, value: Any) -> bytes:
        return json.dumps(value, default=self._default).encode("ascii")


def _untag(dct: dict[str, Any]) -> Any:
    kind = dct.get(_TAG)
    if kind is None or len(dct) != 2:
        return dct
    value = dct["v"]
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "time":
        return dtime.fromisoformat(value)
    if kind == "timedelta":
        return timedelta(days=value[0], seconds=value[1], microseconds=value[2])
    if kind == "decimal":
        return Decimal(value)
    return dct


def decode(piece: bytes | str, tagged: bool) -> Any:
    return json.loads(piece, object_hook=_untag) if tagged else json.loads(piece)


def _is_ref(value: Any) -> bool:
    return type(value) is dict and len(value) == 1 and REF in value


# --------------------------------------------------------------------------- the server's side


class Unsendable(Exception):
    """A variable that cannot cross (`key`, and the encoder's `error`)."""

    def __init__(self, key: str, error: Exception) -> None:
        super().__init__(key)
        self.key = key
        self.error = error


class Outgoing:
    """The variables sent to a script, numbered: `containers[n]` is the server's object n."""

    def __init__(self) -> None:
        self.containers: list[Any] = []
        self.numbers: dict[int, int] = {}

    def encode_all(self, data: dict[str, Any], encoder: Encoder) -> list[tuple[str, bytes, bool]]:
        """(variable, JSON piece, whether it holds references) for each variable, in the order
        to send them: the ones with most containers first, so that a variable that is a part
        of another (`item` is `items[-1]`) becomes a reference rather than the other way
        round. Raises TypeError/ValueError naming nothing (the caller names the variable)."""
        found: dict[str, list[Any]] = {}
        for key, value in data.items():
            found[key] = []
            if isinstance(value, _CONTAINERS):
                try:
                    _collect(value, found[key].append)
                except RecursionError as error:  # a list that holds itself, or nested too deep
                    raise Unsendable(key, ValueError("it holds itself or is nested too deeply")) from error
        order = sorted(data, key=lambda k: -len(found[k]))
        out = []
        for key in order:
            try:
                out.append((key, *self._encode(data[key], found[key], encoder)))
            except (TypeError, ValueError, RecursionError) as error:
                raise Unsendable(key, error) from None
        return out

    def _encode(self, value: Any, found: list[Any], encoder: Encoder) -> tuple[bytes, bool]:
        ids = [id(c) for c in found]
        numbers = self.numbers
        if len(set(ids)) == len(ids) and not any(i in numbers for i in ids):
            numbers.update(zip(ids, range(len(self.containers), len(self.containers) + len(ids))))
            self.containers.extend(found)
            return encoder.encode(value), False
        # Shared inside, or with an earlier variable: number while writing references.
        return encoder.encode(self._with_refs(value)), True

    def _with_refs(self, value: Any) -> Any:
        if not isinstance(value, _CONTAINERS):
            return value
        number = self.numbers.get(id(value))
        if number is not None:
            return {REF: number}
        self.numbers[id(value)] = len(self.containers)
        self.containers.append(value)
        if isinstance(value, dict):
            if REF in value and len(value) == 1:
                raise ValueError("a dict whose only key is '\\x00ref'")
            return {k: self._with_refs(v) for k, v in value.items()}
        return [self._with_refs(v) for v in value]

    def resolve(self, value: Any) -> Any:
        """A value from the reply with its references replaced by the server's objects."""
        if type(value) is dict:
            if _is_ref(value):
                return self.containers[value[REF]]
            return {k: self.resolve(v) for k, v in value.items()}
        if type(value) is list:
            return [self.resolve(v) for v in value]
        return value

    def patch(self, number: int, content: Any) -> None:
        """Change container `number` in place, as the script did to its copy."""
        target = self.containers[number]
        new = self.resolve(content)
        if isinstance(target, dict) and isinstance(new, dict):
            target.clear()
            target.update(new)
        elif isinstance(target, list) and isinstance(new, list):
            target[:] = new
        else:
            raise TypeError(f"cannot change a {type(target).__name__} in place")


# --------------------------------------------------------------------------- the host's side


class Incoming:
    """The variables as the host decoded them, numbered like the server's `Outgoing`."""

    def __init__(self) -> None:
        self.containers: list[Any] = []
        self.ranges: dict[str, tuple[int, int]] = {}
        self.ref_keys: set[str] = set()
        self.values: dict[str, Any] = {}  # as the script gets them, once `finish` ran
        self._refs: list[tuple[Any, Any, int]] = []

    def add(self, key: str, value: Any, refs: bool, number: bool = True) -> None:
        """Number variable `key`'s containers; `refs`: it was sent with references. Without
        `number` (an expression: nothing comes back) the value is only kept."""
        start = len(self.containers)
        self.values[key] = value
        if not number:
            return
        if refs and _is_ref(value):  # the variable is a container of an earlier one
            self._refs.append((self.values, key, value[REF]))
        self._number(value, self.containers, self._refs if refs else None, refs)
        self.ranges[key] = (start, len(self.containers))
        if refs:
            self.ref_keys.add(key)

    def finish(self) -> None:
        """Put the shared containers in place of their references."""
        for holder, slot, number in self._refs:
            holder[slot] = self.containers[number]
        self._refs = []

    @staticmethod
    def _number(value: Any, out: list[Any], refs: list[tuple[Any, Any, int]] | None,
                markers: bool) -> None:
        """Pre-order numbering of decoded JSON (dicts and lists). With `markers` (a variable
        sent with references) the reference markers are not numbered; `refs` collects where
        they are, to put the containers in later."""
        if type(value) not in (dict, list) or (markers and _is_ref(value)):
            return
        if not markers:
            _collect(value, out.append)  # decoded JSON: only dicts and lists
            return
        stack = [value]
        pop, push, append = stack.pop, stack.extend, out.append
        while stack:
            item = pop()
            append(item)
            if type(item) is dict:
                children = [c for c in item.values() if type(c) is dict or type(c) is list]
            else:
                children = [c for c in item if type(c) is dict or type(c) is list]
            if not children:
                continue
            if markers and any(type(c) is dict and REF in c and len(c) == 1 for c in children):
                pairs = item.items() if type(item) is dict else enumerate(item)
                for slot, child in pairs:
                    if _is_ref(child) and refs is not None:
                        refs.append((item, slot, child[REF]))
                children = [c for c in children if not _is_ref(c)]
            children.reverse()
            push(children)

    def changes(self, key: str, before_piece: bytes, tagged: bool,
                now_piece: bytes | None = None) -> dict[int, Any]:
        """Input containers of variable `key` whose contents the script changed: number -> new
        contents (encoded with references). `before_piece` is what the variable was,
        `now_piece` its first container encoded now, if known.

        Top-down: a container's children are only looked into where they differ from before
        (`!=`, C speed), so a change in one of 1,000 items is not 2,000 comparisons. `==`
        takes 1, 1.0 and True for equal, so the result is checked: the old value with these
        changes applied must encode as the value now; if not, the walk is redone strictly."""
        start, end = self.ranges.get(key, (0, 0))
        if start == end:
            return {}
        markers = key in self.ref_keys
        encode = Encoder(RETURNABLE).encode
        if now_piece is None:
            now_piece = encode(self.containers[start])
        if not markers and now_piece == before_piece:
            return {}
        before: list[Any] = []
        self._number(decode(before_piece, tagged), before, None, markers)
        before_numbers = {id(c): start + offset for offset, c in enumerate(before)}
        numbers = self.numbers()

        def walk(strict: bool) -> dict[int, Any]:
            changed: dict[int, Any] = {}
            stack = [start]
            while stack:
                number = stack.pop()
                now, old = self.containers[number], before[number - start]
                if not _same_contents(now, old, numbers, before_numbers):
                    changed[number] = self.encode_contents(now, numbers)
                inner = [before_numbers[id(c)] for c in (old.values() if type(old) is dict else old)
                         if (type(c) is dict or type(c) is list) and not (markers and _is_ref(c))]
                stack.extend(_differing(inner, self.containers, before, start, strict))
            return changed

        if markers:
            return walk(strict=True)
        changed = walk(strict=False)
        if self._explains(changed, before, start, now_piece, encode):
            return changed
        before = []
        self._number(decode(before_piece, tagged), before, None, markers)
        before_numbers = {id(c): start + offset for offset, c in enumerate(before)}
        return walk(strict=True)

    def _explains(self, changed: dict[int, Any], before: list[Any], start: int, now_piece: bytes,
                  encode: Any) -> bool:
        """Whether the old value (`before`, changed in place here) with `changed` applied
        encodes as `now_piece`."""
        def resolve(value: Any) -> Any:
            if type(value) is dict:
                if _is_ref(value):
                    number = value[REF]
                    inside = start <= number < start + len(before)
                    return before[number - start] if inside else self.containers[number]
                return {k: resolve(v) for k, v in value.items()}
            if type(value) is list:
                return [resolve(v) for v in value]
            return value
        new = {number: resolve(contents) for number, contents in changed.items()}
        for number, contents in new.items():
            target = before[number - start]
            if type(target) is dict:
                target.clear()
                target.update(contents)
            else:
                target[:] = contents
        return encode(before[0]) == now_piece

    def numbers(self) -> dict[int, int]:
        found = getattr(self, "_numbers", None)
        if found is None:
            found = self._numbers = {id(c): n for n, c in enumerate(self.containers)}
        return found

    def encode_contents(self, container: Any, numbers: dict[int, int]) -> Any:
        if type(container) is dict:
            return {k: self.with_refs(v, numbers) for k, v in container.items()}
        return [self.with_refs(v, numbers) for v in container]

    def with_refs(self, value: Any, numbers: dict[int, int], depth: int = 0) -> Any:
        """A value to send back: input containers as references, new ones inline."""
        if not isinstance(value, _CONTAINERS):
            return value
        number = numbers.get(id(value))
        if number is not None and self.containers[number] is value:
            return {REF: number}
        if depth > 500:
            raise ValueError("nested too deeply")
        if isinstance(value, dict):
            if REF in value and len(value) == 1:
                raise ValueError("a dict whose only key is '\\x00ref'")
            return {k: self.with_refs(v, numbers, depth + 1) for k, v in value.items()}
        return [self.with_refs(v, numbers, depth + 1) for v in value]

    def refers_to_input(self, value: Any) -> bool:
        numbers = self.numbers()
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, _CONTAINERS):
                if id(item) in numbers:
                    return True
                stack.extend(item.values() if isinstance(item, dict) else item)
        return False


def _collect(item: Any, append: Any) -> None:
    """Pre-order list of the containers JSON would write (each occurrence)."""
    append(item)
    for child in (item.values() if isinstance(item, dict) else item):
        kind = type(child)
        if kind is dict or kind is list:
            _collect(child, append)
        elif kind is not str and kind is not int and kind is not float and isinstance(child, _CONTAINERS):
            _collect(child, append)


def _differing(numbers: list[int], now: list[Any], before: list[Any], start: int,
               strict: bool) -> list[int]:
    """The containers among `numbers` whose contents (deeply) differ from before; `strict`
    also tells 1, 1.0 and True apart (by repr, slower)."""
    if not numbers:
        return []
    pairs = [(n, now[n], before[n - start]) for n in numbers]
    try:
        unequal = [n for n, a, b in pairs if a != b]
        if not strict:
            return unequal
        same = [(n, a, b) for n, a, b in pairs if a == b] if unequal else pairs
    except RecursionError:
        return numbers
    if same and repr([p[1] for p in same]) != repr([p[2] for p in same]):
        unequal += [n for n, a, b in same if repr(a) != repr(b)]
    return unequal


def _same_contents(now: Any, old: Any, numbers: dict[int, int], before: dict[int, int]) -> bool:
    """Whether container `now` (live) still holds what `old` (decoded before the run) held:
    the same scalars, and the same input containers by number, in the same places."""
    if type(now) is not type(old) or len(now) != len(old):
        return False
    if type(now) is dict:
        if list(now) != list(old):
            return False
        pairs = zip(now.values(), old.values())
    else:
        pairs = zip(now, old)
    for a, b in pairs:
        if type(b) is dict or type(b) is list:
            expected = b[REF] if _is_ref(b) else before[id(b)]
            if numbers.get(id(a), -1) != expected:
                return False
        elif type(a) is not type(b) or a != b:
            return False
    return True
