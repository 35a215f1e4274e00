"""Verified API tokens, kept per process for a few seconds so a request needs no token look-up.

Every API request authenticates; the look-up cost a pooled connection, a round trip and a
statement (~1.5–3 ms of a 5–10 ms request). This cache holds what the look-up answered for a
token that was valid: the actor, keyed by the token's SHA-256 hash (never the token itself).

Invalidation rule (how fast a revocation takes effect):
- an entry is used for at most `seconds` after it was read from the database (default 5 s,
  `ONEWINDOW_TOKEN_CACHE_SECONDS`; 0 turns the cache off); so a token revoked or re-issued by
  another process (another gunicorn worker, another server, `onewindow users revoke`) stops
  working here within `seconds`;
- a revocation or re-issue committed in this process empties the cache at its commit
  (`users.revoke_user`, `users.reissue_token`): here it takes effect at once;
- a look-up that started before such a clear does not put its (possibly stale) answer back
  (`generation`), so a request racing a revocation cannot re-insert the revoked token;
- unknown or revoked tokens are never kept: they are asked of the database every time.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TokenCache(Generic[T]):
    """token hash → (value, monotonic time it was read), at most `size` entries."""

    def __init__(self, seconds: float, size: int = 1024, now: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.size = size
        self.now = now
        self._entries: dict[str, tuple[T, float]] = {}
        self._lock = threading.Lock()
        self.generation = 0  # moves on every clear: a look-up that began before it may not put

    def get(self, token_hash: str) -> T | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if self.now() - entry[1] >= self.seconds:
            with self._lock:
                self._entries.pop(token_hash, None)
            return None
        return entry[0]

    def put(self, token_hash: str, value: T, generation: int, read_at: float) -> None:
        """Keep `value`, read from the database at `read_at` (`now()` taken before the read),
        unless the cache was cleared since `generation` was taken."""
        if self.seconds <= 0:
            return
        with self._lock:
            if generation != self.generation:
                return
            if len(self._entries) >= self.size:
                self._entries.clear()  # a burst of distinct tokens: start again rather than sort
            self._entries[token_hash] = (value, read_at)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()
