"""A real HTTP receiver on 127.0.0.1 for webhook tests: records every request, answers as told.

`fail_first`: the first N requests for each event id get a 500; `hang`: each request waits
until `release` is set (a receiver that does not answer); `delay`: seconds each answer takes;
the rest get 204.
"""
from __future__ import annotations

import json
from collections import Counter
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from engine.adapters.webhook_delivery import verify


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    status: int

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    fail_first: int = 0
    always_fail: bool = False
    hang: bool = False
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    in_flight: int = 0
    attempts: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                event_id = json.loads(body)["id"]
                with receiver.lock:
                    seen = receiver.attempts[event_id]
                    receiver.attempts[event_id] += 1
                    receiver.in_flight += 1
                if receiver.hang:
                    receiver.release.wait(120)
                elif receiver.delay:
                    time.sleep(receiver.delay)
                status = 500 if receiver.always_fail or seen < receiver.fail_first else 204
                with receiver.lock:
                    receiver.requests.append(Received(body, dict(self.headers), status))
                    receiver.in_flight -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the default 5 drops concurrent connections (a 1 s SYN retry)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def delivered(self) -> list[dict[str, Any]]:
        """The documents the receiver accepted (2xx), in the order it accepted them."""
        with self.lock:
            return [r.document for r in self.requests if r.status < 300]

    def all_signed_by(self, secret: str) -> bool:
        with self.lock:
            return all(verify(secret, r.body, r.headers.get("X-Onewindow-Signature")) for r in self.requests)
