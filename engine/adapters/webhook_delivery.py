"""Sending one webhook request: the body, its HMAC-SHA256 signature, short timeouts.

`requests` (a well-kept library with connection pooling and separate connect and read timeouts)
does the HTTP; redirects are not followed (a hook's URL is what an admin registered, nothing
else) and only the status line and headers are read, never a receiver's body beyond 64 KiB.
Nothing here touches the database: `engine.services.webhooks` decides what to send and records
what came of it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

SIGNATURE_HEADER = "X-Onewindow-Signature"
TIMESTAMP_HEADER = "X-Onewindow-Timestamp"
EVENT_HEADER = "X-Onewindow-Event"
DELIVERY_HEADER = "X-Onewindow-Delivery"
ATTEMPT_HEADER = "X-Onewindow-Attempt"
USER_AGENT = "onewindow-webhooks/1"


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


#: Seconds to connect and to wait for the status line (ONEWINDOW_WEBHOOK_CONNECT_TIMEOUT,
#: ONEWINDOW_WEBHOOK_READ_TIMEOUT). Short: a slow receiver holds one delivery thread, no more.
CONNECT_TIMEOUT = _env_float("ONEWINDOW_WEBHOOK_CONNECT_TIMEOUT", 3.0)
READ_TIMEOUT = _env_float("ONEWINDOW_WEBHOOK_READ_TIMEOUT", 10.0)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does (and the tests): compare in constant time."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


def body_of(event: dict[str, Any], sent_at: datetime, attempt: int) -> bytes:
    """The JSON body: the event (id, type, occurred_at, case, sequence, data) and when this
    attempt was sent; compact UTF-8, so the bytes signed are the bytes sent."""
    document = {**event, "sent_at": sent_at.isoformat(), "attempt": attempt}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


@dataclass
class Outcome:
    ok: bool
    status: int | None
    error: str | None


class Sender:
    """Posts signed bodies; one pooled `requests.Session` per sender (one per delivery thread
    pool), so repeated deliveries to a hook reuse the connection."""

    def __init__(self, connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT) -> None:
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def send(self, url: str, secret: str, body: bytes, *, event_id: str, event_type: str,
             sent_at: datetime, attempt: int) -> Outcome:
        headers = {"Content-Type": "application/json; charset=utf-8",
                   SIGNATURE_HEADER: sign(secret, body),
                   TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
                   EVENT_HEADER: event_type, DELIVERY_HEADER: event_id, ATTEMPT_HEADER: str(attempt)}
        try:
            response = self.session.post(url, data=body, headers=headers, timeout=self.timeout,
                                         allow_redirects=False, stream=True)
        except requests.RequestException as error:
            return Outcome(False, None, f"{type(error).__name__}: {error}"[:1000])
        try:
            status = response.status_code
            if 200 <= status < 300:
                return Outcome(True, status, None)
            excerpt = response.raw.read(2000, decode_content=True).decode("utf-8", "replace") if response.raw else ""
            return Outcome(False, status, f"HTTP {status} {response.reason or ''} {excerpt}".strip()[:1000])
        except (requests.RequestException, OSError) as error:
            return Outcome(False, None, f"{type(error).__name__}: {error}"[:1000])
        finally:
            response.close()

    def close(self) -> None:
        self.session.close()
