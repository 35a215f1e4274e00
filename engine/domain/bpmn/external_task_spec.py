"""External tasks in the workflow: the task spec, its parser and its serializer converter.

Camunda Modeler writes a service task that a worker outside the engine carries out as
`camunda:type="external" camunda:topic="T"` (also on send and business rule tasks). Such a task
runs no code here: when its token arrives, SpiffWorkflow runs the spec, whose `_run_hook`
returns None, so the task is STARTED and stays so (a wait, like a user task, but not one a
person works). `engine.services.external_task_rows.sync` mirrors the STARTED external tasks into
`external_tasks` rows that workers fetch and lock; completing a row completes the task.

The state lives in the task's SpiffWorkflow state (STARTED) and in the spec (topic, priority),
which the serializer stores with the definition, so a case read back from storage waits on the
same external task as the one that saved it.
"""
from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
#: The elements Camunda lets carry `camunda:type="external"`.
EXTERNAL_CAPABLE = ("serviceTask", "sendTask", "businessRuleTask")


def is_external(node: etree._Element) -> bool:
    """Whether a BPMN element is an external task (`camunda:type="external"`)."""
    return (node.get(f"{{{CAMUNDA_NS}}}type") or "").strip() == "external"


def topic_of(node: etree._Element) -> str:
    return (node.get(f"{{{CAMUNDA_NS}}}topic") or "").strip()


def priority_of(node: etree._Element) -> int:
    """`camunda:taskPriority`, a whole number (Camunda's default 0); checked at deploy."""
    raw = (node.get(f"{{{CAMUNDA_NS}}}taskPriority") or "").strip()
    return int(raw) if raw.lstrip("-").isdigit() and len(raw) < 10 else 0


class ExternalTask(BpmnSpecMixin):
    """A task a worker outside the engine carries out; waits (STARTED) until completed."""

    def __init__(self, wf_spec: Any, bpmn_id: str, topic: str = "", priority: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic
        self.priority = priority

    def _run_hook(self, my_task: Any) -> None:
        """Nothing runs here: returning None leaves the task STARTED until a worker completes it."""
        return None


class ExternalTaskConverter(BpmnTaskSpecConverter):
    """Stores the topic and priority next to SpiffWorkflow's default task attributes."""

    def to_dict(self, spec: ExternalTask) -> dict[str, Any]:
        dct = self.get_default_attributes(spec)
        dct["topic"] = spec.topic
        dct["priority"] = spec.priority
        return dct

    def from_dict(self, dct: dict[str, Any]) -> ExternalTask:
        return self.task_spec_from_dict(dct)


def with_external_tasks(parser_class: type) -> type:
    """`parser_class` (the parser of a service, send or business rule task) that builds an
    `ExternalTask` for an element with `camunda:type="external"` and leaves others to it."""

    class ExternalCapableParser(parser_class):  # type: ignore[misc, valid-type]
        def create_task(self):  # type: ignore[no-untyped-def]
            if is_external(self.node):
                return ExternalTask(self.spec, self.bpmn_id, topic=topic_of(self.node),
                                    priority=priority_of(self.node), **self.bpmn_attributes)
            return super().create_task()

    if hasattr(parser_class, "get_decision_ref"):  # a business rule task: external ones need no DMN
        base_ref = parser_class.get_decision_ref

        def get_decision_ref(node: etree._Element) -> str | None:
            return None if is_external(node) else base_ref(node)
        ExternalCapableParser.get_decision_ref = staticmethod(get_decision_ref)

    ExternalCapableParser.__name__ = parser_class.__name__
    return ExternalCapableParser


def install(parser_classes: dict[str, tuple[type, type]]) -> None:
    """Let the service, send and business rule task parsers of a parser class map build
    external tasks (changed in place; called once for `OneWindowParser`)."""
    for local in EXTERNAL_CAPABLE:
        tag = f"{{{BPMN_NS}}}{local}"
        parser, spec_class = parser_classes[tag]
        parser_classes[tag] = (with_external_tasks(parser), spec_class)


def register(config: dict[type, Any]) -> None:
    """Teach a serializer configuration the external task spec."""
    config[ExternalTask] = ExternalTaskConverter


def has_external_tasks(spec: Any, subprocess_specs: dict[str, Any]) -> bool:
    """Whether a process (or what it calls) holds an external task; kept on the spec, so a case
    without any costs no query when its rows are synchronised."""
    cached = getattr(spec, "_ow_has_external", None)
    if cached is None:
        cached = any(isinstance(task_spec, ExternalTask)
                     for process in (spec, *subprocess_specs.values())
                     for task_spec in process.task_specs.values())
        spec._ow_has_external = cached
    return cached
