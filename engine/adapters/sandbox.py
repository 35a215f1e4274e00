"""Designer code in a separate, limited, killable process: the second line behind the AST allow-list.

The allow-list in `engine.domain.expressions` refuses every construct it does not know, but a single
C-level operation on a value it did not see (hashing a tuple that shares its halves 100 levels
deep) cannot be interrupted from Python: it hangs whatever thread runs it. So scripts (and
expressions with loops, lambdas or `:=`, see `expressions.runs_in_process`) run in a *sandbox
host*: a pre-started child Python process per server process, talking over a pipe.

- **Time**: the parent waits at most `Limits.timeout` (+ a short grace so the child's own trace
  budget can report the line first), then SIGKILLs the child and reports
  "script timed out after 5 s". The child also sets RLIMIT_CPU per call, so an orphaned child
  (its parent killed) stops by itself.
- **Memory**: per call the child sets RLIMIT_AS to what it uses now plus `Limits.memory_mb`
  (allocations beyond fail with MemoryError; the trace budget reports growth earlier), and is
  recycled after any memory error.
- **Speed**: one host per process (one per concurrent thread at most), started lazily, reused for
  every call, replaced after a kill. Only the variables the code names go in (the allow-list
  makes free names exact: no `globals()`, no attribute access to modules), and only the
  variables it changed or deleted come out.
- **Data** (`engine.adapters.sandbox_values`): values cross as JSON, and the reply says which input
  lists and dicts the script changed, so they are changed in place on the server as an
  in-process script would have (aliases see it); rebinding and `del` apply to the names.
  What a case can store passes unchanged (str, int, float, bool, None, list, dict,
  `datetime`, `timedelta`); tuples and sets become lists and number keys strings, as saving
  and reloading the case does anyway. A script that leaves any other type in task data (a
  `date`, a `Decimal`, a dict keyed by tuples) fails with an error naming the variable,
  instead of failing later when the case is saved; an expression may also return `date`,
  `time` and `Decimal`.
- **Shutdown**: `interrupt()` (the worker's SIGTERM handler) kills running hosts; the waiting
  call raises `ScriptInterrupted`, a BaseException, so the step is rolled back and retried
  later rather than recorded as a failure of the case.
"""
from __future__ import annotations

import atexit
import json
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.adapters.sandbox_values import RETURNABLE, STORABLE, Encoder, Outgoing, decode  # noqa: F401
from engine.adapters.sandbox_values import Unsendable
from engine.domain import expressions

__all__ = ["Limits", "Result", "ScriptInterrupted", "configure", "limits", "run", "interrupt",
           "shutdown", "host_pids"]

_ROOT = Path(__file__).resolve().parents[2]
_GRACE = 0.5              # seconds past the timeout before the kill (the child reports first)
_START_TIMEOUT = 60.0     # seconds a new host may take to start (a busy machine)
_POLL_SLICE = 0.1         # seconds between checks for interrupt() while waiting
MAX_CHANGES = 64 * 2**20  # bytes of changed task data one run may hand back (sandbox_host too)


# --------------------------------------------------------------------------- limits

def _env_number(name: str, default: float, kind: type = float) -> Any:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return kind(default)
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise ValueError(f"{name}={raw!r} must be positive")
    return value


def env_timeout() -> float:
    """ONEWINDOW_SCRIPT_TIMEOUT: seconds one script or expression may run (default 5)."""
    return _env_number("ONEWINDOW_SCRIPT_TIMEOUT", 5.0)


def env_memory_mb() -> int:
    """ONEWINDOW_SCRIPT_MEMORY_MB: memory one script may add to its process (default 256)."""
    return _env_number("ONEWINDOW_SCRIPT_MEMORY_MB", 256, int)


@dataclass(frozen=True)
class Limits:
    """What one call of designer code may use."""

    timeout: float = field(default_factory=env_timeout)
    memory_mb: int = field(default_factory=env_memory_mb)

    def __post_init__(self) -> None:
        if not self.timeout > 0 or not self.memory_mb > 0:
            raise ValueError("script limits must be positive")


_limits: Limits | None = None


def configure(new: Limits) -> None:
    """Set the limits for this process (the Runtime does, from its Settings)."""
    global _limits
    _limits = new


def limits() -> Limits:
    global _limits
    if _limits is None:
        _limits = Limits()
    return _limits


def seconds(value: float) -> str:
    return f"{value:g} s"


# --------------------------------------------------------------------------- values on the wire

# A frame: total length, header length, header (JSON, tags allowed), then the value pieces
# whose lengths the header lists.
_FRAME = struct.Struct(">II")


def pack(header: dict[str, Any], pieces: list[bytes] = (), tagged: bool = False) -> bytes:
    header = dict(header, lens=[len(p) for p in pieces], tagged=tagged)
    encoder = Encoder(RETURNABLE)
    head = encoder.encode(header)
    if encoder.tagged:
        head = b"T" + head
    body = b"".join(pieces)
    return _FRAME.pack(len(head) + len(body), len(head)) + head + body


def unpack(frame: bytes | bytearray | memoryview) -> tuple[dict[str, Any], list[bytes]]:
    view = memoryview(frame)
    (head_len,) = struct.unpack_from(">I", view, 0)
    head = bytes(view[4:4 + head_len])
    header = decode(head[1:], True) if head[:1] == b"T" else json.loads(head)
    pieces, offset = [], 4 + head_len
    for length in header["lens"]:
        pieces.append(bytes(view[offset:offset + length]))
        offset += length
    return header, pieces


# --------------------------------------------------------------------------- results

@dataclass
class Result:
    """What one call came back with. `ok` false: `error` (and `line`) say why."""

    ok: bool
    error: str | None = None
    line: int | None = None
    value: Any = None
    printed: str = ""
    dropped: int = 0      # characters of print output beyond the bound
    deleted: list[str] = field(default_factory=list)
    bound: dict[str, Any] = field(default_factory=dict)        # variable -> new value
    patched: list[tuple[int, Any]] = field(default_factory=list)  # input container -> contents
    outgoing: Outgoing | None = None

    def apply(self, context: dict[str, Any]) -> None:
        """Apply a script's changes to the task data it ran on: containers it changed are
        changed in place (so every alias sees it), then rebinding and deletions."""
        if self.patched:
            for number, contents in self.patched:
                self.outgoing.patch(number, contents)
        for key, value in self.bound.items():
            context[key] = value
        for key in self.deleted:
            context.pop(key, None)


class ScriptInterrupted(BaseException):
    """The process is stopping (`interrupt()`): the step must be rolled back, not failed."""


class _HostGone(Exception):
    """The host died before it got the request: safe to start another and send it again."""


# --------------------------------------------------------------------------- one host process

_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
         "from engine.adapters.sandbox_host import main; main()")


class _Host:
    """One sandbox child process and its two pipe ends."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, str(_ROOT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, cwd="/",
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"},
            start_new_session=True)  # Ctrl-C of a terminal is for the server, not its hosts
        self.pid = self.process.pid
        self.to_child = self.process.stdin.fileno()
        self.from_child = self.process.stdout.fileno()
        try:
            header, _ = self._read(time.monotonic() + _START_TIMEOUT, interruptible=False)
        except _Timeout:
            self.kill()
            raise RuntimeError(f"the script sandbox did not start within {seconds(_START_TIMEOUT)}") from None
        except _Died as died:
            raise RuntimeError(f"the script sandbox did not start ({died})") from None
        if not header.get("ready"):
            self.kill()
            raise RuntimeError("the script sandbox did not start")

    def call(self, request: bytes, timeout: float) -> tuple[dict[str, Any], list[bytes]]:
        deadline = time.monotonic() + timeout + _GRACE
        try:
            view = memoryview(request)
            while view:
                view = view[os.write(self.to_child, view):]
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.kill()
            raise _HostGone() from None
        return self._read(deadline, interruptible=True)

    def _read(self, deadline: float, interruptible: bool) -> tuple[dict[str, Any], list[bytes]]:
        head = self._read_exactly(_FRAME.size, deadline, interruptible)
        total, _ = _FRAME.unpack(head)
        if total > 2 * MAX_CHANGES:  # the host refuses more than MAX_CHANGES itself
            self.kill()
            raise _Died("sent a reply larger than its memory limit allows")
        body = self._read_exactly(total, deadline, interruptible)
        return unpack(head[4:] + body)

    def _read_exactly(self, size: int, deadline: float, interruptible: bool) -> bytes:
        buffer = bytearray()
        poller = select.poll()
        poller.register(self.from_child, select.POLLIN | select.POLLHUP | select.POLLERR)
        while len(buffer) < size:
            if interruptible and _interrupted.is_set():
                self.kill()
                raise ScriptInterrupted("the script sandbox was interrupted (shutting down)")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout()
            if not poller.poll(min(remaining, _POLL_SLICE) * 1000):
                continue
            chunk = os.read(self.from_child, min(size - len(buffer), 1 << 20))
            if not chunk:
                raise _Died(self._exit_reason())
            buffer += chunk
        return bytes(buffer)

    def _exit_reason(self) -> str:
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.returncode
        if code is not None and code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit status {code}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.kill()
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def close(self) -> None:
        """Polite stop of an idle host: end of input makes it exit."""
        try:
            self.process.stdin.close()
            self.process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


class _Timeout(Exception):
    pass


class _Died(Exception):
    pass


# --------------------------------------------------------------------------- the pool


class _Pool:
    """Idle hosts of this process. A call takes one (or starts one) and gives it back."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.idle: list[_Host] = []
        self.busy: set[_Host] = set()
        self.lock = threading.Lock()

    def take(self) -> _Host:
        with self.lock:
            while self.idle:
                host = self.idle.pop()
                if host.alive():
                    self.busy.add(host)
                    return host
                host.kill()
        host = _Host()
        with self.lock:
            self.busy.add(host)
        return host

    def give(self, host: _Host, healthy: bool) -> None:
        with self.lock:
            self.busy.discard(host)
            if healthy and os.getpid() == self.pid:
                self.idle.append(host)
                return
        host.kill()

    def close(self) -> None:
        with self.lock:
            hosts, self.idle = self.idle, []
            busy = list(self.busy)
        for host in hosts:
            host.close()
        for host in busy:
            host.kill()

    def pids(self) -> list[int]:
        with self.lock:
            return [h.pid for h in self.idle] + [h.pid for h in self.busy]


_pool: _Pool | None = None
_pool_lock = threading.Lock()
_interrupted = threading.Event()


def _current_pool() -> _Pool:
    global _pool
    pool = _pool
    if pool is None or pool.pid != os.getpid():  # first use, or a forked child: its own hosts
        with _pool_lock:
            if _pool is None or _pool.pid != os.getpid():
                _pool = _Pool()
            pool = _pool
    return pool


def host_pids() -> list[int]:
    """Process ids of this process's sandbox hosts (operators, tests)."""
    return _current_pool().pids()


def interrupt() -> None:
    """Stop every running call of this process now (signal-handler safe): they raise
    `ScriptInterrupted`, and later calls too. For shutdown (the worker's SIGTERM)."""
    _interrupted.set()


def shutdown() -> None:
    """Stop this process's hosts (at exit; tests)."""
    pool = _pool
    if pool is not None and pool.pid == os.getpid():
        pool.close()


atexit.register(shutdown)


# --------------------------------------------------------------------------- a call


def run(op: str, source: str, data: dict[str, Any], extra: dict[str, Any] | None = None,
        limits_: Limits | None = None) -> Result:
    """Run `source` ('exec' a script, 'eval' an expression) in a sandbox host.

    `data` holds the variables the code may read (task data), `extra` names visible but
    not written back (environment globals). Failures of the code, time-outs and memory
    limits come back as `Result(ok=False)`; only `ScriptInterrupted` is raised.
    """
    if _interrupted.is_set():
        raise ScriptInterrupted("the script sandbox was interrupted (shutting down)")
    lim = limits_ or limits()
    what = "script" if op == "exec" else "expression"
    encoder = Encoder(RETURNABLE)
    outgoing = Outgoing() if op == "exec" else None
    keys: list[str] = []
    ref_keys: list[str] = []
    pieces: list[bytes] = []
    if outgoing is not None:
        try:
            encoded = outgoing.encode_all(data, encoder)
        except Unsendable as unsendable:
            return Result(False, f"variable '{unsendable.key}' cannot be passed to a {what}: "
                                 f"{_reason(unsendable.error)}")
        for key, piece, refs in encoded:
            keys.append(key)
            pieces.append(piece)
            if refs:
                ref_keys.append(key)
    else:
        for key, value in data.items():
            try:
                pieces.append(encoder.encode(value))
            except (TypeError, ValueError, RecursionError) as error:
                return Result(False, f"variable '{key}' cannot be passed to a {what}: {_reason(error)}")
            keys.append(key)
    data_count = len(keys)
    for key, value in (extra or {}).items():
        if callable(value):
            continue
        try:
            pieces.append(encoder.encode(value))
        except (TypeError, ValueError) as error:
            return Result(False, f"variable '{key}' cannot be passed to a {what}: {_reason(error)}")
        keys.append(key)
    request = pack({"op": op, "source": source, "keys": keys, "data_count": data_count,
                    "ref_keys": ref_keys, "timeout": lim.timeout, "memory": lim.memory_mb},
                   pieces, encoder.tagged)
    pool = _current_pool()
    for attempt in (1, 2):
        try:
            host = pool.take()
        except RuntimeError as error:
            return Result(False, str(error))
        try:
            header, out = host.call(request, lim.timeout)
        except _HostGone:
            pool.give(host, healthy=False)
            if attempt == 2:
                return Result(False, f"the script sandbox ended before it read the {what}")
            continue
        except _Timeout:
            pool.give(host, healthy=False)
            return Result(False, f"{what} timed out after {seconds(lim.timeout)}")
        except _Died as died:
            pool.give(host, healthy=False)
            reason = str(died)
            if "SIGXCPU" in reason:
                return Result(False, f"{what} timed out after {seconds(lim.timeout)}")
            return Result(False, f"{what} exceeded its memory limit of {lim.memory_mb} MB "
                                 f"(its process ended: {reason})")
        except BaseException:
            pool.give(host, healthy=False)
            raise
        pool.give(host, healthy=not header.get("recycle"))
        return _result(header, out, outgoing)
    raise AssertionError("unreachable")


def _reason(error: Exception) -> str:
    text = str(error)
    if text.startswith("a value of type"):
        return text + " (store text, numbers, lists, dicts, datetime or timedelta)"
    return text


def _result(header: dict[str, Any], pieces: list[bytes], outgoing: Outgoing | None) -> Result:
    result = Result(bool(header.get("ok")), header.get("error"), header.get("line"),
                    printed=header.get("printed") or "", dropped=header.get("dropped") or 0,
                    deleted=list(header.get("deleted") or []), outgoing=outgoing)
    if not result.ok:
        return result
    tagged = bool(header.get("tagged"))
    if header.get("op") == "eval":
        result.value = decode(pieces[0], tagged)
        return result
    pieces_left = iter(pieces)
    for key, refs in header.get("bound") or []:
        value = decode(next(pieces_left), tagged)
        result.bound[key] = outgoing.resolve(value) if refs else value
    for number in header.get("patched") or []:
        result.patched.append((number, decode(next(pieces_left), tagged)))
    return result


expressions.use_sandbox(sys.modules[__name__])  # the expression language runs its sandboxed code here
