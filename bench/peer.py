"""The peer's workload shape (issue 16), `python -m bench --scenario peer`.

spiffworkflow-backend's own load test, the closest peer, drives this shape: a case starts, one
user task accepts it, then 16 approval items are decided in parallel; 8 client threads. Here it
runs through the same gunicorn server (2 workers) and keep-alive client as the default scenario
(`bench.http`), with `bench/peer_shape.bpmn`, so the figures compare with the peer's ~40
completions/s on this machine and with the default scenario's (which starts cases already
waiting on their 16 items and drives them with 4 threads).

Figures (medians over rounds): `start_per_s` (POST /cases, the case waits at the accept task),
`accept_per_s` (completing the accept task, which opens the 16 item tasks), `complete_per_s` (item
tasks at saturation, shuffled across cases; the last one of a case also ends it),
`complete_p50_ms`/`complete_p99_ms` (the other half of the item tasks, open loop at half the
saturated rate), `get_case_p50_ms` (GET of one such case with its 17 task rows).
"""
from __future__ import annotations

import random
import statistics
import time
from pathlib import Path
from typing import Any

from bench import HERE, items
from bench.http import API, Client, HttpBench, _expect, ms, percentile, run_closed

BPMN_FILE: Path = HERE / "peer_shape.bpmn"
PROCESS_KEY = "bench_peer_shape"
ITEMS = 16
THREADS = 8


def deploy(runtime: Any) -> None:
    """Deploy the peer's process next to the default scenario's."""
    from engine.domain.access import Actor
    from engine.services.definitions import deploy as deploy_definition
    with runtime.unit_of_work() as uow:
        deploy_definition(uow, Actor("bench-designer", "designer"), BPMN_FILE.read_bytes(), BPMN_FILE.name)
        uow.commit()


class PeerBench(HttpBench):
    """The default scenario's server, users and client, driving the peer's process."""

    def _start(self, c: Client, n: int) -> dict:
        body = {"process_key": PROCESS_KEY, "business_key": self._key(),
                "project": {"name": "bench peer project"}, "variables": {"items": items(n)}}
        return _expect(*c.request("POST", f"{API}/cases", body), 201)

    def _complete_returning(self, c: Client, task_id: str) -> dict:
        return _expect(*c.request("POST", f"{API}/tasks/{task_id}/complete", {"data": {"decision": "approve"}}), 200)

    def accepts(self, accept_ids: list[str]) -> tuple[float, list[str], str]:
        """Accept every case (8 threads); returns the rate, the item task ids it opened and one case id."""
        item_ids: list[str] = []
        cases: list[str] = []

        def work(c: Client, task_id: str) -> None:
            done = self._complete_returning(c, task_id)
            opened = [t["id"] for t in done["open_tasks"]]
            if len(opened) != ITEMS:
                raise RuntimeError(f"accepting opened {len(opened)} item tasks, expected {ITEMS}")
            item_ids.extend(opened)
            cases.append(done["case"]["id"])

        elapsed, _ = run_closed(THREADS, accept_ids, work, self.client(self.admin))
        return len(accept_ids) / elapsed, item_ids, cases[0]

    def get_peer_case(self, case_id: str, repeats: int) -> list[float]:
        c = Client(self.port, self.agent)
        _expect(*c.request("GET", f"{API}/cases/{case_id}"), 200)
        latencies = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            _expect(*c.request("GET", f"{API}/cases/{case_id}"), 200)
            latencies.append(time.perf_counter() - t0)
        return latencies


def measure(runtime: Any, database_url: str, quick: bool, rounds: int, log=print) -> dict[str, Any]:
    """Every figure of the peer's shape, `rounds` times; returns medians and the per-round values."""
    deploy(runtime)
    bench = PeerBench(runtime, database_url, quick, log)
    try:
        keys = ("start_per_s", "accept_per_s", "complete_per_s", "complete_p50_ms", "complete_p99_ms",
                "get_case_p50_ms")
        per_round: dict[str, list[float]] = {k: [] for k in keys}
        cases = 30 if quick else 100
        for r in range(rounds):
            rate, accept_ids = bench.starts(cases, threads=THREADS)
            per_round["start_per_s"].append(rate)
            accepted, item_ids, case_id = bench.accepts(accept_ids)
            per_round["accept_per_s"].append(accepted)
            random.Random(r).shuffle(item_ids)
            half = len(item_ids) // 2
            saturated = bench.completes(item_ids[:half], threads=THREADS)
            per_round["complete_per_s"].append(saturated)
            latencies = bench.completes_paced(item_ids[half:], max(1.0, saturated / 2))
            per_round["complete_p50_ms"].append(ms(percentile(latencies, 50)))
            per_round["complete_p99_ms"].append(ms(percentile(latencies, 99)))
            per_round["get_case_p50_ms"].append(ms(percentile(bench.get_peer_case(case_id, 30 if quick else 60), 50)))
            log(f"  peer round {r + 1}: start {rate:.0f}/s, accept {accepted:.0f}/s, complete {saturated:.0f}/s "
                f"(p50 {per_round['complete_p50_ms'][-1]} ms, p99 {per_round['complete_p99_ms'][-1]} ms at "
                f"{saturated / 2:.0f}/s), GET case p50 {per_round['get_case_p50_ms'][-1]} ms")
        result: dict[str, Any] = {key: round(statistics.median(values), 2) for key, values in per_round.items()}
        result["rounds"] = per_round
        result["shape"] = {"items": ITEMS, "client_threads": THREADS, "cases_per_round": cases,
                           "process": BPMN_FILE.name}
        return result
    finally:
        bench.close()
