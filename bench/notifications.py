"""`python -m bench.notifications [--db sqlite|postgresql] [--cases N]`: what notifications cost.

Starts N parallel_approval cases (each publishes case.started and three task.ready events in its
own transaction), then measures the worker's fan-out (`notifications.dispatch`: events/s into
in-app notifications and webhook deliveries) and webhook sending to a receiver on 127.0.0.1
(deliveries/s, 8 threads, in order per case).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from bench.__main__ import database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--no-outbox", action="store_true", help="publish nothing (the cost of starting without it)")
    args = parser.parse_args(argv)
    if args.no_outbox:
        from engine.services import event_catalogue
        event_catalogue.publish = lambda *a, **k: None  # type: ignore[assignment]
    from engine.services import cases
    from engine.services import users
    from engine.domain.access import Actor
    from engine.config import REPO_ROOT, Settings
    from engine.services.definitions import deploy
    from engine.runtime import Runtime
    from engine.services import notifications, webhooks
    from engine.adapters.migrate import upgrade
    from tests.webhook_receiver import Receiver
    pg = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    with database(args.db, pg) as url:
        upgrade(url)
        runtime = Runtime(Settings(database_url=url))
        receiver = Receiver().start()
        try:
            with runtime.unit_of_work() as uow:
                for name, department in (("fgj", "county.fgj"), ("fgj2", "county.fgj"), ("zrzyj", "county.zrzyj"),
                                         ("sthjj", "county.sthjj")):
                    users.create_user(uow, name, "staff", department)
                deploy(uow, Actor("dora", "designer"), (REPO_ROOT / "tests/bpmn/parallel_approval.bpmn").read_bytes(),
                       "parallel_approval.bpmn")
                webhooks.add_hook(uow, Actor("root", "admin"), receiver.url, "*", "bench-secret-0123456789")
                uow.commit()
            agent = Actor("alice", "agent")
            started = time.perf_counter()
            for i in range(args.cases):
                with runtime.unit_of_work() as uow:
                    cases.start_case(uow, agent, "parallel_approval", f"2026-510117-34-01-{i:06d}")
                    uow.commit()
            start_s = time.perf_counter() - started
            started, events = time.perf_counter(), 0
            while True:
                with runtime.unit_of_work() as uow:
                    count = notifications.dispatch(uow, 200)
                    uow.commit()
                if not count:
                    break
                events += count
            dispatch_s = time.perf_counter() - started
            deliverer = webhooks.Deliverer(runtime, "bench", batch=50)
            started, sent = time.perf_counter(), 0
            while True:
                count = deliverer.run_once()
                if not count:
                    break
                sent += count
            send_s = time.perf_counter() - started
        finally:
            receiver.stop()
            runtime.close()
    print(f"{args.db}: {args.cases} cases started in {start_s:.1f} s ({args.cases / start_s:.0f}/s, outbox included)")
    print(f"dispatch: {events} events in {dispatch_s:.2f} s ({events / dispatch_s:.0f} events/s)")
    print(f"webhooks: {sent} deliveries in {send_s:.2f} s ({sent / send_s:.0f}/s), receiver got "
          f"{len(receiver.delivered())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
