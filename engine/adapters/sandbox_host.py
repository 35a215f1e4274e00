"""The sandbox host: the child process `engine.adapters.sandbox` runs designer code in.

It reads one request frame at a time from stdin, runs the code with the AST allow-list of
`engine.domain.expressions` under OS limits (RLIMIT_AS, RLIMIT_CPU) set for that call, and writes one
reply frame to its original stdout (fd 1 is pointed at stderr, so nothing stray can corrupt
the replies). End of input (the server closed the pipe or died) ends it.
"""
from __future__ import annotations

import math
import os
import resource
import signal
import sys
from typing import Any

from engine.adapters.sandbox import MAX_CHANGES


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _memory() -> tuple[int, int]:
    """(virtual size, resident size) of this process, in bytes."""
    with open("/proc/self/statm", "rb") as f:
        fields = f.read().split()
    return int(fields[0]) * _PAGE, int(fields[1]) * _PAGE


def _read_exactly(fd: int, size: int) -> bytes | None:
    buffer = bytearray()
    while len(buffer) < size:
        chunk = os.read(fd, size - len(buffer))
        if not chunk:
            return None
        buffer += chunk
    return bytes(buffer)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _Limits:
    """RLIMIT_AS and RLIMIT_CPU for one call, lifted again after its reply is written."""

    def __init__(self) -> None:
        self.as_soft, self.as_hard = resource.getrlimit(resource.RLIMIT_AS)
        self.cpu_soft, self.cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)

    @staticmethod
    def _capped(value: int, hard: int) -> int:
        return value if hard == resource.RLIM_INFINITY else min(value, hard)

    def apply(self, timeout: float, memory_mb: int, vm_size: int) -> None:
        memory = vm_size + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (self._capped(memory, self.as_hard), self.as_hard))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = math.ceil(usage.ru_utime + usage.ru_stime + timeout) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (self._capped(cpu, self.cpu_hard), self.cpu_hard))

    def lift(self) -> None:
        resource.setrlimit(resource.RLIMIT_AS, (self.as_soft, self.as_hard))
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_soft, self.cpu_hard))


def handle(frame: bytes, limits: _Limits) -> tuple[bytes, bool]:
    """Run one request; returns the reply frame and whether this host should be replaced."""
    # The child imports the engine only inside main(), after its signals and file descriptors are
    # set (these are loaded by then; the import is a dictionary look-up).
    from engine.domain import expressions
    from engine.adapters import sandbox
    from engine.adapters.sandbox_values import Incoming

    header, pieces = sandbox.unpack(frame)
    del frame
    op, source = header["op"], header["source"]
    what = "script" if op == "exec" else "expression"
    timeout, memory_mb = float(header["timeout"]), int(header["memory"])
    tagged = bool(header["tagged"])
    keys, data_count = header["keys"], header["data_count"]
    context: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    incoming = Incoming()
    ref_keys = set(header.get("ref_keys") or ())
    before: dict[str, bytes] = {}
    for index, (key, piece) in enumerate(zip(keys, pieces)):
        value = sandbox.decode(piece, tagged)
        if index < data_count:
            incoming.add(key, value, key in ref_keys, number=op == "exec")
            before[key] = piece
        else:
            extra[key] = value
    del pieces
    incoming.finish()  # shared containers are shared again
    context = dict(incoming.values)
    originals = dict(context)

    output = expressions.Output()
    reply: dict[str, Any] = {"op": op, "ok": True}
    out_pieces: list[bytes] = []
    recycle = False
    vm_size, rss0 = _memory()
    limits.apply(timeout, memory_mb, vm_size)
    budget = expressions._Budget(timeout, memory_mb * 1024 * 1024, what, rss0=rss0)
    token = expressions._OUTPUT.set(output)
    try:
        try:
            if op == "exec":
                expressions._execute_here(source, context, extra, budget)
                encoder = sandbox.Encoder(sandbox.STORABLE)
                reply.update(_changes(context, originals, before, ref_keys, tagged, incoming,
                                      encoder, out_pieces))
            else:
                value = expressions._evaluate_here(source, context, extra, budget)
                encoder = sandbox.Encoder(sandbox.RETURNABLE)
                try:
                    out_pieces.append(encoder.encode(value))
                except (TypeError, ValueError) as error:
                    raise expressions.ExpressionError(
                        f"the expression's value cannot be used: it is {_why(error)}") from None
            reply["tagged"] = encoder.tagged
        except expressions.ExpressionError as error:
            reply.update(ok=False, error=error.message, line=error.lineno)
            out_pieces = []
            recycle = "memory limit" in error.message
        except MemoryError:
            out_pieces = []
            reply.update(ok=False, error=budget._memory_message(), line=None)
            recycle = True
        except RecursionError:
            out_pieces = []
            reply.update(ok=False, error="recursion is too deep", line=None)
        finally:
            expressions._OUTPUT.reset(token)
        context = extra = originals = {}
        incoming = None  # type: ignore[assignment]
        # A heap that grew a lot stays big (fragmentation): start afresh instead.
        recycle = recycle or _memory()[1] - rss0 > 64 * 1024 * 1024
        reply.update(printed=output.text(), dropped=output.dropped, recycle=recycle)
        tagged_out = bool(reply.pop("tagged", False))
        result = sandbox.pack(reply, out_pieces, tagged_out)
    except MemoryError:
        context = extra = originals = {}
        out_pieces = []
        recycle = True
        result = sandbox.pack({"op": op, "ok": False, "error": budget._memory_message(),
                               "recycle": True})
    return result, recycle


def _changes(context: dict[str, Any], originals: dict[str, Any], before: dict[str, bytes],
             ref_keys: set[str], tagged: bool, incoming: Any, encoder: Any,
             out: list[bytes]) -> dict[str, Any]:
    """What the script changed, for `Result.apply` on the server: variables bound to another
    value (with references to input containers), input containers changed in place, deletions."""
    from engine.domain.expressions import ExpressionError  # loaded by main() (see handle)

    def storable(key: str, value: Any) -> bytes:
        try:
            return encoder.encode(value)
        except (TypeError, ValueError, RecursionError) as error:
            raise ExpressionError(f"variable '{key}' holds {_why(error)}, which task data cannot store") from None

    bound: list[tuple[str, bool]] = []
    bound_pieces: list[bytes] = []
    patched: dict[int, Any] = {}
    patched_by: dict[int, str] = {}
    for key, original in originals.items():
        live = context.get(key, _GONE)
        now_piece = None
        if live is original:
            if not isinstance(live, (dict, list)):
                continue  # the same str/number/None: unchanged
            piece = now_piece = storable(key, live)
            if piece == before[key] and key not in ref_keys:
                continue
        elif live is not _GONE:
            piece = storable(key, live)
        if live is not original and live is not _GONE:
            bound.append((key, incoming.refers_to_input(live)))
            bound_pieces.append(piece if not bound[-1][1] else encoder.encode(
                incoming.with_refs(live, incoming.numbers())))
        # Containers it held may have been changed before a rebinding or `del` too.
        for number, contents in incoming.changes(key, before[key], tagged, now_piece).items():
            patched[number] = contents
            patched_by[number] = key
    for key, live in context.items():
        if key not in originals:
            piece = storable(key, live)
            refs = incoming.refers_to_input(live)
            bound.append((key, refs))
            bound_pieces.append(encoder.encode(incoming.with_refs(live, incoming.numbers())) if refs else piece)
    out.extend(bound_pieces)
    for number, contents in patched.items():
        out.append(storable(patched_by[number], contents))
    size = sum(len(piece) for piece in out)
    if size > MAX_CHANGES:
        raise ExpressionError(f"the script's changes to task data are too large to keep "
                              f"({size // 2**20} MB; at most {MAX_CHANGES // 2**20} MB)")
    return {"bound": bound, "patched": list(patched), "deleted": [k for k in originals if k not in context]}


_GONE = object()


def _why(error: Exception) -> str:
    text = str(error)
    return text if text.startswith("a value of type") else f"a value that is not JSON ({text})"


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # a stray print of the interpreter goes to stderr, not into a reply
    sys.stdout = sys.stderr
    # only now, with stdout redirected, load the engine: nothing it prints can reach a reply
    from engine.domain import expressions
    from engine.adapters import sandbox  # noqa: F401 - loaded before the first request

    limits = _Limits()
    _write_all(reply_fd, sandbox.pack({"ready": True, "pid": os.getpid()}))
    while True:
        head = _read_exactly(0, 8)
        if head is None:
            return
        total = int.from_bytes(head[:4], "big")
        body = _read_exactly(0, total)
        if body is None:
            return
        reply, recycle = handle(head[4:] + body, limits)
        _write_all(reply_fd, reply)
        limits.lift()
        if recycle:
            return


if __name__ == "__main__":
    main()
