"""onewindow benchmarks: `python -m bench [--quick] [--db sqlite|postgresql] [--out FILE.json]`.

`bench.inproc` times the engine in-process next to raw SpiffWorkflow 3.2; `bench.http` starts
gunicorn and drives the REST API with a concurrent keep-alive client. See docs/bench.md.
"""
from pathlib import Path

HERE = Path(__file__).resolve().parent
BPMN_FILE = HERE / "parallel_items.bpmn"
PROCESS_KEY = "bench_parallel_items"
# Departments the items are spread over (round robin); all exist in processes/organisation.json.
DEPARTMENTS = ("county.fgj", "county.zrzyj", "county.sthjj", "county.zjj", "county.xfjy",
               "county.rfb", "county.swj", "county.jtysj")


def items(n: int) -> list[dict]:
    return [{"name": f"item {i}", "department": DEPARTMENTS[i % len(DEPARTMENTS)]} for i in range(n)]
