"""Every shipped process, with realistic data, gives the same outcome warm, cold and in raw SpiffWorkflow."""
from __future__ import annotations

import pytest

from tests.differential.harness import three_way
from tests.differential.shipped import shipped_scenarios


@pytest.mark.parametrize("scenario", shipped_scenarios(), ids=lambda s: s.name)
def test_shipped_process_same_three_ways(runtime, clock, scenario):
    outcomes = three_way(runtime, clock, scenario)
    assert outcomes["warm"].status == "completed", outcomes["warm"]
