"""API tokens verified once are trusted for a few seconds (engine/adapters/token_cache.py):
what a user relies on is that a revoked or re-issued token stops working — at once in the
process that revoked it, and within `token_cache_seconds` in every other process."""
from __future__ import annotations

import pytest

from api.app import create_app
from engine.adapters.token_cache import TokenCache
from engine.config import Settings
from engine.runtime import Runtime
from engine.services import users

V1 = "/api/v1"


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def other_process(database_url, runtime):
    """A second server process on the same database: its own runtime, so its own token cache."""
    other = Runtime(Settings(database_url=database_url, token_cache_seconds=5.0), clock=runtime.clock)
    ticks = Ticks()
    other.tokens.now = ticks
    yield create_app({"TESTING": True}, runtime=other).test_client(), ticks
    other.close()


def _create(runtime, name: str, role: str = "admin") -> str:
    with runtime.unit_of_work() as uow:
        token = users.create_user(uow, name, role)
        uow.commit()
    return token


def _status(client, token: str) -> int:
    return client.get(f"{V1}/process-definitions", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_revocation_takes_effect_at_once_in_the_revoking_process(client, runtime):
    token = _create(runtime, "ann")
    assert _status(client, token) == 200  # now verified and kept
    with runtime.unit_of_work() as uow:
        users.revoke_user(uow, "ann")
        uow.commit()
    assert _status(client, token) == 401


def test_a_reissued_token_replaces_the_old_one_at_once_in_the_reissuing_process(client, runtime):
    old = _create(runtime, "ann")
    assert _status(client, old) == 200
    with runtime.unit_of_work() as uow:
        new = users.reissue_token(uow, "ann")
        uow.commit()
    assert _status(client, old) == 401
    assert _status(client, new) == 200


def test_a_revocation_elsewhere_takes_effect_within_the_cache_seconds(runtime, other_process):
    client, ticks = other_process
    token = _create(runtime, "ann")
    assert _status(client, token) == 200
    with runtime.unit_of_work() as uow:  # another process revokes (e.g. `onewindow users revoke`)
        users.revoke_user(uow, "ann")
        uow.commit()
    ticks.t += 4.9
    assert _status(client, token) == 200  # the documented window: trusted for up to 5 s
    ticks.t += 0.1
    assert _status(client, token) == 401
    ticks.t += 60
    assert _status(client, token) == 401  # a refused token is never kept


def test_a_rolled_back_revocation_keeps_the_token(client, runtime):
    token = _create(runtime, "ann")
    assert _status(client, token) == 200
    with runtime.unit_of_work() as uow:
        users.revoke_user(uow, "ann")
        uow.rollback()
    assert _status(client, token) == 200


def test_zero_seconds_looks_every_token_up(database_url, runtime):
    other = Runtime(Settings(database_url=database_url, token_cache_seconds=0), clock=runtime.clock)
    try:
        client = create_app({"TESTING": True}, runtime=other).test_client()
        token = _create(runtime, "ann")
        assert _status(client, token) == 200
        with runtime.unit_of_work() as uow:
            users.revoke_user(uow, "ann")
            uow.commit()
        assert _status(client, token) == 401
    finally:
        other.close()


def test_a_look_up_that_raced_a_revocation_is_not_kept():
    cache: TokenCache[str] = TokenCache(5.0, now=Ticks())
    generation, read_at = cache.generation, cache.now()
    cache.clear()  # a revocation committed while the look-up was reading the old row
    cache.put("hash", "ann", generation, read_at)
    assert cache.get("hash") is None
    cache.put("hash", "ann", cache.generation, cache.now())
    assert cache.get("hash") == "ann"


def test_the_window_counts_from_before_the_read():
    ticks = Ticks()
    cache: TokenCache[str] = TokenCache(5.0, now=ticks)
    read_at = ticks()
    ticks.t += 3  # a slow look-up
    cache.put("hash", "ann", cache.generation, read_at)
    ticks.t += 2
    assert cache.get("hash") is None


def test_a_bad_setting_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("ONEWINDOW_TOKEN_CACHE_SECONDS", "five")
    with pytest.raises(ValueError, match="ONEWINDOW_TOKEN_CACHE_SECONDS must be a number of seconds"):
        Settings()
    monkeypatch.setenv("ONEWINDOW_TOKEN_CACHE_SECONDS", "-1")
    with pytest.raises(ValueError, match="between 0 and 3600"):
        Settings()
    monkeypatch.setenv("ONEWINDOW_TOKEN_CACHE_SECONDS", "0.5")
    assert Settings().token_cache_seconds == 0.5
