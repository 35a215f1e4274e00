"""The layering of docs/ENGINEERS.md, checked on the source (bench/architecture.py reads it with
`ast`; nothing is imported). When one of these fails, the message names the import to change."""
from __future__ import annotations

import pytest

from bench import architecture

REPORT = architecture.scan()


def _imports(prefix: str) -> list[tuple[str, str]]:
    return [(name, target) for name, module in sorted(REPORT.items()) if name.startswith(prefix)
            for target in sorted(module.imports)]


def test_no_import_cycles():
    cycles = architecture.strongly_connected({n: m.imports for n, m in REPORT.items()})
    assert cycles == [], f"modules that import each other (break the cycle): {cycles}"


def test_every_import_inside_a_function_says_why():
    unexplained = [f"{name}:{line} imports {target}" for name, module in sorted(REPORT.items())
                   for line, target, explained in module.function_imports if not explained]
    assert unexplained == [], ("import at module level, or put a comment on the line (or above) "
                               f"saying why it must wait: {unexplained}")


def test_the_domain_uses_no_adapter_service_or_database():
    wrong = [(name, target) for name, target in _imports("engine.domain")
             if target.startswith(("engine.adapters", "engine.services", "engine.runtime"))]
    database = [name for name, module in REPORT.items() if name.startswith("engine.domain")
                and "sqlalchemy" in module.third_party]
    assert wrong == [] and database == [], (wrong, database)


def test_adapters_use_no_services():
    """A use case an adapter seems to need is a service that calls the adapter (loading a
    calendar year: `engine.services.calendar_years`, not the calendar store)."""
    wrong = [(name, target) for name, target in _imports("engine.adapters") if target.startswith("engine.services")]
    assert wrong == []


def test_the_engine_knows_nothing_of_http():
    wrong = [(name, target) for name, target in _imports("engine") if target.startswith("api")]
    web = [name for name, module in REPORT.items() if name.startswith("engine")
           and module.third_party & {"flask", "marshmallow", "gunicorn"}]  # werkzeug.security hashes passwords
    assert wrong == [] and web == []


def test_entry_points_leave_transactions_to_the_use_cases():
    """Routes, console views and CLI commands hand a use case `runtime().unit_of_work()`; the use
    case commits (`engine/services/use_case.py`). None commits, rolls back, touches a session or
    enters a writing unit of work (a use case called inside it would only join it: nothing stored)."""
    wrong = [f"{module.path.relative_to(architecture.ROOT)}:{line}: {what}"
             for name, module in sorted(REPORT.items()) if name.startswith("api")
             for line, what in module.transaction_uses]
    assert wrong == [], ("api/ commits, rolls back, uses a session or enters a writing unit of work; call one "
                         "use case with runtime().unit_of_work() instead (it commits; reads: `with "
                         f"runtime().unit_of_work(write=False) as uow:`): {wrong}")


@pytest.mark.parametrize("folder", ["domain", "services", "adapters"])
def test_layer_packages_are_empty(folder):
    """Several branches add modules to these folders; empty `__init__` files merge cleanly."""
    assert REPORT[f"engine.{folder}"].path.read_text() == ""
