"""`python -m bench.architecture [--json]`: the shape of the code, measured from its source.

Why a tool and not a reading of the folders: the layering (docs/ENGINEERS.md) is only true while
nobody adds an import that crosses it, and a newcomer cannot see an import cycle or a raw
`Session` by looking. This reads every module with `ast` (nothing is imported, so it is fast and
cannot run engine code) and reports:

- the import graph between `engine`/`api` modules and its strongly connected components (cycles);
- imports inside functions (`def`/`async def` bodies), with whether a `# why:`-style comment
  explains each (the rule: none without a reason on the line or the line above);
- `uow.session` uses per layer (the unit of work should hand out repositories, not a Session);
- transaction handling in the entry points (`api/`): `.commit()`, `.rollback()`, `.begin_nested()`
  calls, `.session` attributes and `with ….unit_of_work():` blocks that write — use cases own their
  transactions (`engine/services/use_case.py`), and one called inside an entered unit of work would
  only join it (nothing committed);
- modules per layer and the longest modules.

`tests/test_architecture.py` asserts the rules on the same numbers.
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "api")


@dataclass
class Module:
    name: str
    path: Path
    lines: int
    imports: set[str] = field(default_factory=set)            # every engine/api module imported
    top_imports: set[str] = field(default_factory=set)        # imported at module level
    function_imports: list[tuple[int, str, bool]] = field(default_factory=list)  # line, target, explained
    session_uses: int = 0
    transaction_uses: list[tuple[int, str]] = field(default_factory=list)  # line, `.commit()` / `.session` ...
    third_party: set[str] = field(default_factory=set)        # top-level names of other imports


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(name: str) -> str:
    """The layer a module belongs to, by its folder."""
    parts = name.split(".")
    if parts[0] == "api":
        return "api"
    if len(parts) > 1 and parts[1] in ("domain", "services", "adapters"):
        return parts[1]
    return "engine (top level)"


def _resolve(node: ast.ImportFrom, current: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _explained(source_lines: list[str], lineno: int) -> bool:
    """A function-level import counts as explained when a comment sits on its line or above the
    run of import lines it belongs to."""
    if "#" in source_lines[lineno - 1]:
        return True
    line = lineno - 2
    while line >= 0 and source_lines[line].strip().startswith(("from ", "import ")):
        if "#" in source_lines[line]:
            return True
        line -= 1
    return line >= 0 and source_lines[line].strip().startswith("#")


def scan(root: Path = ROOT) -> dict[str, Module]:
    files = [p for pkg in PACKAGES for p in sorted((root / pkg).rglob("*.py"))
             if "shipped" not in p.parts]
    modules: dict[str, Module] = {}
    for path in files:
        modules[module_name(path)] = Module(module_name(path), path, 0)
    known = set(modules)

    def nearest(candidate: str) -> str:
        while candidate and candidate not in known:
            candidate = candidate.rpartition(".")[0]
        return candidate

    def targets(raw: str, node: ast.AST) -> set[str]:
        """The modules an import runs: `from pkg import sub` depends on `pkg.sub` (its package's
        `__init__` runs first anyway, as for every import), `from mod import name` on `mod`."""
        if not isinstance(node, ast.ImportFrom):
            return {nearest(raw)} - {""}
        found = {f"{raw}.{alias.name}" for alias in node.names if f"{raw}.{alias.name}" in known}
        if len(found) < len(node.names):
            found.add(nearest(raw))
        return found - {""}

    for name, module in modules.items():
        source = module.path.read_text(encoding="utf-8")
        lines = source.splitlines()
        module.lines = len(lines)
        tree = ast.parse(source, str(module.path))
        module.session_uses = source.count("uow.session")
        module.transaction_uses = _transaction_uses(tree)
        is_package = module.path.name == "__init__.py"
        in_function: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        in_function.add(id(inner))
        type_checking: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                for inner in ast.walk(node):
                    type_checking.add(id(inner))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            raws = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                    else [_resolve(node, name, is_package)])
            for raw in raws:
                found = targets(raw, node) - {name}
                if not found and raw and not raw.startswith(PACKAGES):
                    module.third_party.add(raw.split(".")[0])
                if id(node) in type_checking:
                    continue
                module.imports |= found
                if id(node) in in_function:
                    explained = _explained(lines, node.lineno)
                    module.function_imports.append((node.lineno, raw, explained))
                else:
                    module.top_imports |= found
    return modules


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative); components of more than one module, largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    result.append(sorted(component))
    return sorted(result, key=len, reverse=True)


TRANSACTION_CALLS = ("commit", "rollback", "begin_nested")


def _transaction_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """Where a module commits, rolls back or reaches a session itself (`x.commit()`, `x.session`),
    or enters a writing unit of work (`with x.unit_of_work() as uow:`; reads say `write=False`)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
                        and call.func.attr == "unit_of_work" and not any(
                            k.arg == "write" and isinstance(k.value, ast.Constant) and k.value.value is False
                            for k in call.keywords):
                    found.append((node.lineno, f"with {ast.unparse(call)}"))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in TRANSACTION_CALLS:
            found.append((node.lineno, f"{ast.unparse(node.func)}()"))
        elif isinstance(node, ast.Attribute) and node.attr == "session":
            found.append((node.lineno, ast.unparse(node)))
    return sorted(found)


def measure(root: Path = ROOT) -> dict:
    modules = scan(root)
    engine = {n: m for n, m in modules.items() if n.startswith("engine")}
    # packages' __init__ files are empty by rule; count modules with code
    code = {n: m for n, m in engine.items() if m.path.name != "__init__.py"}
    graph = {n: m.imports for n, m in modules.items()}
    cycles = strongly_connected(graph)
    per_layer: dict[str, int] = {}
    session_per_layer: dict[str, int] = {}
    for name, module in code.items():
        per_layer[layer(name)] = per_layer.get(layer(name), 0) + 1
        if module.session_uses:
            session_per_layer[layer(name)] = session_per_layer.get(layer(name), 0) + module.session_uses
    function_imports = [(n, line, raw, ok) for n, m in sorted(modules.items())
                        for line, raw, ok in m.function_imports]
    longest = sorted(code.values(), key=lambda m: m.lines, reverse=True)[:5]
    return {
        "engine_modules": len(code),
        "modules_per_layer": dict(sorted(per_layer.items())),
        "cycles": cycles,
        "largest_cycle": max((len(c) for c in cycles), default=0),
        "function_imports": len(function_imports),
        "function_imports_unexplained": sum(1 for *_, ok in function_imports if not ok),
        "uow_session_uses": sum(m.session_uses for m in code.values()),
        "uow_session_modules": sum(1 for m in code.values() if m.session_uses),
        "uow_session_per_layer": dict(sorted(session_per_layer.items())),
        "uow_session_outside_adapters": sum(v for k, v in session_per_layer.items() if k != "adapters"),
        "api_transaction_uses": sum(len(m.transaction_uses) for n, m in modules.items() if n.startswith("api")),
        "longest_modules": [(m.name, m.lines) for m in longest],
        "_function_import_list": function_imports,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--list", action="store_true", help="list function-level imports")
    args = parser.parse_args(argv)
    report = measure()
    listing = report.pop("_function_import_list")
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
        return 0
    for key, value in report.items():
        if key == "cycles":
            for cycle in value:
                print(f"cycle ({len(cycle)}): {' '.join(cycle)}")
            continue
        print(f"{key}: {value}")
    if args.list:
        for name, line, raw, ok in listing:
            print(f"  {name}:{line} {raw}{'' if ok else '   (no reason given)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
