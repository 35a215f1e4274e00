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
import os
import sys
import time
from contextvars import ContextVar
from typing import Any, Callable

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

from engine.domain import juel

# The language is split by concept; this module is its entry (callers import names from here):
# expression_rules (limits, error, ISO literals, static check), expression_guards (what running
# code may touch), expression_compiler (designer text to guarded code).
from engine.domain.expression_compiler import (_TOO_NESTED, _compile, _prepare, _shape,  # noqa: F401
                                               designer_source)
from engine.domain.expression_guards import _HELPERS, _OUTPUT, _SAFE_BUILTINS, Output, _deep_guard  # noqa: F401
from engine.domain.expression_rules import (ISO_TIMER_LITERAL, MAX_MEMORY, MAX_OUTPUT,  # noqa: F401
                                            MAX_SECONDS, MAX_SOURCE, MAX_STEPS, _CHECK_EVERY,
                                            ExpressionError, _iso_literal)

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
