"""Random well-structured processes (see generator.py) give the same outcome warm, cold and raw.

CI runs a fixed, derandomized set (`ONEWINDOW_DIFF_EXAMPLES`, default 30). A local soak run:
`ONEWINDOW_DIFF_SOAK=1 ONEWINDOW_DIFF_EXAMPLES=1000 .venv/bin/python -m pytest tests/differential/test_generated.py`
(random seeds; hypothesis prints the failing block, shrunk)."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings

from tests.differential.generator import blocks, scenario_for
from tests.differential.harness import three_way

SOAK = os.environ.get("ONEWINDOW_DIFF_SOAK") == "1"
EXAMPLES = int(os.environ.get("ONEWINDOW_DIFF_EXAMPLES", "500" if SOAK else "30"))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not SOAK, database=None, print_blob=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(block=blocks())
def test_generated_process_same_three_ways(runtime, clock, block):
    scenario = scenario_for(block)
    outcomes = three_way(runtime, clock, scenario)
    assert outcomes["raw"].status in ("completed", "error"), outcomes["raw"]
