"""What an auxiliary batch (分期报建, `engine.services.batches`) must be, however it is sent: the
`auxiliary_submission` form's rules, bodies that exist, time limits that read as limits."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.domain.calendar import Duration
from engine.errors import Invalid

if TYPE_CHECKING:
    from engine.domain.forms import FormRegistry
    from engine.domain.organisation import Organisation

MESSAGE = "auxiliary_batch"
FORM = "auxiliary_submission"


def _check_items(organisation: "Organisation", items: list[dict[str, Any]]) -> None:
    """What the form's schema cannot know: the bodies exist, the limits read as limits."""
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        if item["department"] not in organisation:
            errors[f"items[{index}].department"] = [f"{item['department']!r} is not a known department"]
        try:
            Duration.parse(item["time_limit"])
        except Invalid as error:
            errors[f"items[{index}].time_limit"] = [error.detail]
    if errors:
        raise Invalid("the batch has items the service cannot route", errors=errors)


def validated(forms: "FormRegistry", organisation: "Organisation", batch: Any) -> dict[str, Any]:
    """A batch as the process may receive it (this endpoint or a plain message to the case):
    the form's rules, known bodies, readable limits; else 422 by field."""
    data = forms.validate(FORM, batch)
    _check_items(organisation, data["items"])
    return data
