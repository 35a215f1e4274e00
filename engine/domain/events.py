"""Domain events: facts a command records on the unit of work (`uow.publish`), handled before
the unit of work commits by the services that care (`engine.services.handlers`).

They replace back-calls from lower modules into higher ones: the deadline rules do not call the
worker's scheduling when a clock stops; they say that what is due for the case changed, and the
scheduling answers. One event per case and kind is handled once, however often it was published.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimersChanged:
    """What is due for a case changed (a clock stopped or resumed, an escalation resolved, the
    case resumed, a calendar year loaded): its `timer_jobs` rows must be brought in line."""
    case_id: str
