"""Every corpus file gives the same outcome warm, cold and in raw SpiffWorkflow 3.2."""
from __future__ import annotations

import pytest

from tests.differential.corpus_loader import corpus_scenarios
from tests.differential.harness import three_way


def _param(scenario):
    marks = [pytest.mark.xfail(strict=True, reason=scenario.xfail)] if scenario.xfail else []
    return pytest.param(scenario, id=scenario.name, marks=marks)


@pytest.mark.parametrize("scenario", [_param(s) for s in corpus_scenarios()])
def test_corpus_file_same_three_ways(runtime, clock, scenario):
    outcomes = three_way(runtime, clock, scenario)
    # the scenario really ran: something was completed beyond the start event
    assert any(name != "StartEvent" for name, _ in outcomes["cold"].completed), outcomes["cold"]
