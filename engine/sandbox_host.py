"""The sandbox host: the child process `engine.sandbox` runs designer code in.

It reads one request frame at a time from stdin, runs the code with the AST allow-list of
`engine.expressions` under OS limits (RLIMIT_AS, RLIMIT_CPU) set for that call, and writes one
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

_IMMUTABLE = (str, int, float, bool, type(None))


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
    from engine import expressions, sandbox

    header, pieces = sandbox.unpack(frame)
    del frame
    op, source = header["op"], header["source"]
    what = "script" if op == "exec" else "expression"
    timeout, memory_mb = float(header["timeout"]), int(header["memory"])
    tagged = bool(header["tagged"])
    keys, data_count = header["keys"], header["data_count"]
    context: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    before: dict[str, tuple[bytes, Any]] = {}
    for index, (key, piece) in enumerate(zip(keys, pieces)):
        value = sandbox.decode(piece, tagged)
        if index < data_count:
            context[key] = value
            before[key] = (piece, value)
        else:
            extra[key] = value
    del pieces

    output = expressions.Output()
    reply: dict[str, Any] = {"op": op, "ok": True}
    out_keys: list[str] = []
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
                for key, value in context.items():
                    old = before.get(key)
                    if old is not None and value is old[1] and isinstance(value, _IMMUTABLE):
                        continue
                    try:
                        piece = encoder.encode(value)
                    except (TypeError, ValueError) as error:
                        raise expressions.ExpressionError(
                            f"variable '{key}' holds {_why(error)}, which task data cannot store") from None
                    if old is None or piece != old[0]:
                        out_keys.append(key)
                        out_pieces.append(piece)
                reply["deleted"] = [key for key in before if key not in context]
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
            out_keys, out_pieces = [], []
            recycle = "memory limit" in error.message
        except MemoryError:
            out_keys, out_pieces = [], []
            reply.update(ok=False, error=budget._memory_message(), line=None)
            recycle = True
        except RecursionError:
            out_keys, out_pieces = [], []
            reply.update(ok=False, error="recursion is too deep", line=None)
        finally:
            expressions._OUTPUT.reset(token)
        context = extra = before = {}
        # A heap that grew a lot stays big (fragmentation): start afresh instead.
        recycle = recycle or _memory()[1] - rss0 > 64 * 1024 * 1024
        reply.update(printed=output.text(), dropped=output.dropped, keys=out_keys, recycle=recycle)
        tagged_out = bool(reply.pop("tagged", False))
        result = sandbox.pack(reply, out_pieces, tagged_out)
    except MemoryError:
        context = extra = before = {}
        out_pieces = []
        recycle = True
        result = sandbox.pack({"op": op, "ok": False, "error": budget._memory_message(), "keys": [],
                               "recycle": True})
    return result, recycle


def _why(error: Exception) -> str:
    text = str(error)
    return text if text.startswith("a value of type") else f"a value that is not JSON ({text})"


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # a stray print of the interpreter goes to stderr, not into a reply
    sys.stdout = sys.stderr
    from engine import expressions, sandbox  # noqa: F401 - loaded before the first request

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
