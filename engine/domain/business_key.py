"""The rule a process sets for its business key, declared in its BPMN, not in code.

A process names the shape of its cases' keys with a `camunda:property` on the process element,
e.g. `business_key_format = project-code` for `one_window_agency`: a case must be opened for a
well-formed national project code (项目代码 YYYY-DDDDDD-II-TT-NNNNNN), so the public page, the
registration form and other systems all find the project under the same code. Formats are those
the forms know (`engine.domain.forms.format_names()`); an unknown one is refused at deploy.
"""
from __future__ import annotations

from typing import Any

from engine.domain import forms

PROPERTY = "business_key_format"


def declared_format(elements: dict[str, Any], process_key: str) -> str | None:
    """The format a process declares for its business key (None: any non-blank key)."""
    meta = (elements or {}).get(process_key) or {}
    value = (meta.get("properties") or {}).get(PROPERTY)
    return value.strip() if isinstance(value, str) and value.strip() else None


def problem(elements: dict[str, Any], process_key: str, business_key: str) -> str | None:
    """Why `business_key` does not suit the process, or None."""
    name = declared_format(elements, process_key)
    if name is None or name not in forms.format_names():
        return None
    found = forms.format_problem(name, business_key)
    return f"{found} (this process keys its cases by {name})" if found else None


def deploy_problems(elements: dict[str, Any], process_key: str, filename: str) -> list[str]:
    """A process naming a format nobody knows is refused at deploy, naming its line."""
    name = declared_format(elements, process_key)
    if name is None or name in forms.format_names():
        return []
    line = ((elements or {}).get(process_key) or {}).get("line", "?")
    return [f"{filename}:{line}: process {process_key}: {PROPERTY} '{name}' is not a known format "
            f"(one of: {', '.join(forms.format_names())})"]
