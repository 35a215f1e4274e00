"""The clock SpiffWorkflow's timer events read: the runtime clock of the case being worked on.

The timers are our subclasses of SpiffWorkflow's timer event definitions
(`engine.domain.bpmn.timer_events`: built by our parser, restored by our serializer), which read
the clock of `clock_scope` and take naive dates as Beijing time. Nothing of the library's module
is set; commands that run a workflow enter `clock_scope(runtime.clock)`.
"""
from __future__ import annotations

from engine.domain.bpmn.timer_events import clock_scope, now

__all__ = ["clock_scope", "now"]
