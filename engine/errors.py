"""The domain errors every engine verb raises; the API maps each to one HTTP status."""
from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user can cause; `detail` is safe to show them."""

    title = "Error"

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class NotFound(DomainError):
    title = "Not found"


class Forbidden(DomainError):
    title = "Forbidden"


class Conflict(DomainError):
    """The command is valid but the state does not allow it (completed twice, suspended...)."""

    title = "Conflict"


class Invalid(DomainError):
    """Input is well-formed but wrong; `errors` maps each field (or file line) to its messages."""

    title = "Invalid input"


class InvalidDefinition(Invalid):
    """A BPMN file was refused; `problems` are lines like `permit.bpmn:42: sequenceFlow Flow_7: ...`."""

    title = "Invalid process definition"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""),
                         errors={"file": problems})
        self.problems = problems


class TooLarge(Invalid):
    title = "Too large"
