"""Multi-instance activities as the BPMN standard writes them, next to Camunda's dialect.

SpiffWorkflow's Camunda parser only reads `camunda:collection`/`camunda:elementVariable` (or
a bare `loopCardinality`) and ignores `loopDataInputRef`, `inputDataItem`, `loopDataOutputRef`
and `outputDataItem`, so a standard multi-instance (what SpiffWorkflow's own BPMN parser and
bpmn.io produce) was refused, and `loopCardinality` with an output collection lost the output.

Here an activity whose loop characteristics use any of the standard data elements and no
`camunda:collection` is parsed by SpiffWorkflow's standard BPMN parser into the task specs
below; everything else keeps the Camunda behaviour. The standard specs are SpiffWorkflow's
own multi-instance specs under their own names, so the serializer can tell them from the
Camunda ones (which rewrite their data references at run time).
"""
from __future__ import annotations

import re

from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.serializer.default.task_spec import MultiInstanceTaskConverter
from SpiffWorkflow.bpmn.specs.defaults import ParallelMultiInstanceTask, SequentialMultiInstanceTask
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
_WRAPPED_NAME = re.compile(r"[$#]\{\s*([A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*)\s*\}")
_STANDARD_ELEMENTS = ("loopDataInputRef", "inputDataItem", "loopDataOutputRef", "outputDataItem")


class StandardParallelMultiInstanceTask(ParallelMultiInstanceTask):
    """A parallel multi-instance with BPMN-standard data input/output."""


class StandardSequentialMultiInstanceTask(SequentialMultiInstanceTask):
    """A sequential multi-instance with BPMN-standard data input/output."""


def is_standard(loop_characteristics: etree._Element) -> bool:
    """Whether a `multiInstanceLoopCharacteristics` uses the standard data elements (and no
    `camunda:collection`, which keeps Camunda's meaning when both are present)."""
    if loop_characteristics.get(f"{{{CAMUNDA_NS}}}collection") is not None:
        return False
    return any(loop_characteristics.find(f"{{{BPMN_NS}}}{name}") is not None for name in _STANDARD_ELEMENTS)


class StandardMultiInstanceMixin:
    """Mixed into every task parser: standard loop characteristics take SpiffWorkflow's
    standard path, the others Camunda's (also for script, send and receive tasks, whose
    SpiffWorkflow parsers know only the standard path)."""

    PARALLEL_MI_CLASS = StandardParallelMultiInstanceTask
    SEQUENTIAL_MI_CLASS = StandardSequentialMultiInstanceTask

    def _add_multiinstance_task(self, loop_characteristics: etree._Element) -> None:
        _unwrap_collection(self, loop_characteristics)
        if is_standard(loop_characteristics):
            TaskParser._add_multiinstance_task(self, loop_characteristics)  # type: ignore[arg-type]
        else:
            CamundaTaskParser._add_multiinstance_task(self, loop_characteristics)  # type: ignore[arg-type]


def _unwrap_collection(parser: Any, loop_characteristics: etree._Element) -> None:
    """Camunda Modeler writes `camunda:collection="${reviewers}"`; SpiffWorkflow reads the
    attribute as a variable name. A wrapped plain name is that name (changed in the parsed tree
    only; the stored file is the uploaded text); any other expression cannot be a collection
    that instances write back into, and is refused naming the element."""
    attribute = f"{{{CAMUNDA_NS}}}collection"
    value = (loop_characteristics.get(attribute) or "").strip()
    match = _WRAPPED_NAME.fullmatch(value)
    if match:
        loop_characteristics.set(attribute, match.group(1))
    elif value[:2] in ("${", "#{"):
        parser.raise_validation_exception(
            f"camunda:collection {value} must name a variable, e.g. ${{reviewers}} "
            f"(compute the list in a script task before the multi-instance)")


def with_standard_multi_instance(parser_class: type) -> type:
    """`parser_class` with the mixin in front (a new class, the library's is left alone)."""
    return type(parser_class.__name__, (StandardMultiInstanceMixin, parser_class), {})


def register(config: dict[type, Any]) -> None:
    """Teach a serializer configuration the standard specs (same converter as SpiffWorkflow's)."""
    config[StandardParallelMultiInstanceTask] = MultiInstanceTaskConverter
    config[StandardSequentialMultiInstanceTask] = MultiInstanceTaskConverter
