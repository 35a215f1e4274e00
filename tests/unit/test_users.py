"""Users and their API tokens, as services on the in-memory unit of work."""
from __future__ import annotations

import pytest

from engine.errors import Conflict, Invalid, NotFound
from engine.services import users
from tests.unit.fakes import FakeUnitOfWork


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


def test_a_new_user_gets_a_token_shown_once_and_stored_only_as_a_hash(uow):
    token = users.create_user(uow, "wang", "staff", "county.fgj")
    [user] = uow.users.all()
    assert token.startswith("ow_") and user.token_hash == users.hash_token(token) != token
    assert (user.name, user.role, user.department, user.created_at) == ("wang", "staff", "county.fgj", uow.runtime.now)
    with pytest.raises(Conflict, match="user 'wang' already exists"):
        users.create_user(uow, "wang", "staff", "county.fgj")


def test_bad_input_names_every_field_and_creates_nothing(uow):
    with pytest.raises(Invalid) as refused:
        users.create_user(uow, "a b", "wizard", "nowhere")
    assert set(refused.value.errors) == {"name", "role", "department"}
    with pytest.raises(Invalid) as refused:
        users.create_user(uow, "li", "agent", "county.fgj")  # an agent works at a window
    assert "service centre" in refused.value.errors["department"][0]
    assert not uow.users.any()


def test_a_reissued_token_replaces_the_old_one_and_lifts_a_revocation(uow):
    old = users.create_user(uow, "li", "agent", "county.zwfw")
    uow.users.by_name("li").revoked_at = uow.runtime.now
    new = users.reissue_token(uow, "li")
    user = uow.users.by_name("li")
    assert new != old and user.token_hash == users.hash_token(new) and user.revoked_at is None
    with pytest.raises(NotFound):
        users.reissue_token(uow, "nobody")


def test_the_first_admin_is_made_once_on_an_empty_database(uow):
    password = users.ensure_first_admin(uow)
    assert password and uow.users.by_name("admin").role == "admin"
    assert users.ensure_first_admin(uow) is None and [u.name for u in uow.users.all()] == ["admin"]


def test_signing_in_opens_a_session_that_revoking_the_user_ends(uow):
    users.create_user(uow, "wang", "staff", "county.fgj", password="correct horse 9 battery")
    signed = users.sign_in(uow, "wang", "correct horse 9 battery")
    info = users.session_of(uow, signed.token)
    assert info.actor.name == "wang" and users.csrf_matches(info.csrf_token, signed.csrf_token)
    assert users.authenticate(uow, "ow_not-a-token") is None
    users.revoke_user(uow, "wang")
    assert users.session_of(uow, signed.token) is None and not uow.console_sessions.rows
