"""Users: API bearer tokens, console passwords, lock-out and console sessions.

Only hashes are stored: SHA-256 of each API token and of each session token (both are long
random strings, so a fast hash is enough), werkzeug's scrypt of each password. A person is
locked out for `LOCK_MINUTES` after `MAX_FAILURES` wrong passwords in a row; a new password,
a revoked user or signing out ends their console sessions.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from werkzeug.security import check_password_hash, generate_password_hash

from engine.adapters.models import ConsoleSession, User
from engine.adapters.uow import UnitOfWork
from engine.domain.access import ROLES, Actor
from engine.errors import Conflict, DomainError, Invalid, NotFound
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.runtime import Runtime

DEPARTMENT_ROLES = ("staff", "leader")
PASSWORD_METHOD = "scrypt"
MIN_PASSWORD = 8
MAX_PASSWORD = 256
MAX_FAILURES = 5
LOCK_MINUTES = 15
SESSION_HOURS = 10  # a working day; a session ends at the latest this long after sign-in
IDLE_MINUTES = 120  # ... or this long after the last page it served
TOUCH_MINUTES = 5  # `seen_at` is written at most this often (reads stay reads)
_dummy_hash: list[str] = []


class SignInRefused(DomainError):
    """Wrong name or password, a revoked user, or a locked account (`locked_until` set)."""

    title = "Sign-in refused"

    def __init__(self, detail: str, locked_until: datetime | None = None) -> None:
        super().__init__(detail)
        self.locked_until = locked_until


@dataclass(frozen=True)
class SignedIn:
    token: str  # for the cookie; shown once, only its hash is kept
    csrf_token: str
    actor: Actor


@dataclass(frozen=True)
class SessionInfo:
    actor: Actor
    csrf_token: str
    stale: bool  # `seen_at` is old enough to be written again (`touch_session`)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return "ow_" + secrets.token_urlsafe(32)


def _user(uow: UnitOfWork, name: str) -> User:
    user = uow.users.by_name(name)
    if user is None:
        raise NotFound(f"user {name!r} does not exist")
    return user


def password_problem(password: str, name: str = "") -> str | None:
    """Why a password is not acceptable, or None."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        return f"must have at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"must have at most {MAX_PASSWORD} characters"
    if password.strip() != password or not password.strip():
        return "must not start or end with spaces"
    if name and password.lower() == name.lower():
        return "must not be the user name"
    return None


@use_case
def create_user(uow: UnitOfWork, name: str, role: str, department: str | None = None,
                password: str | None = None) -> str:
    """Create a user and return its new API token; the token is shown once and never stored.
    With `password` the user may also sign in to the console."""
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 120:
        errors["name"] = ["required, at most 120 characters"]
    elif any(c.isspace() or ord(c) < 32 or c in "/\\" for c in name):
        errors["name"] = ["must not contain spaces, slashes or control characters"]
    if role not in ROLES or role == "system":
        errors["role"] = [f"must be one of {', '.join(r for r in ROLES if r != 'system')}"]
    if role == "enterprise" and department:
        errors["department"] = ["an enterprise user belongs to projects, not to a department (--project)"]
    if role in DEPARTMENT_ROLES and not department:
        errors["department"] = [f"required for role {role}"]
    organisation = uow.organisation
    if department and department not in organisation:
        errors["department"] = [f"unknown department {department!r}"]
    elif department and role == "agent" and organisation.get(department).kind != "service_centre":
        # An agent works at a window; its cases belong to that window's region.
        windows = ", ".join(organisation.window_of(r.code).code for r in organisation.regions())
        errors["department"] = [f"an agent belongs to a window (service centre): one of {windows}"]
    if password is not None and (problem := password_problem(password, name)):
        errors["password"] = [problem]
    if errors:
        raise Invalid("invalid user", errors=errors)
    if uow.users.by_name(name) is not None:
        raise Conflict(f"user {name!r} already exists")
    token = _new_token()
    uow.users.add(User(name=name, role=role, department=department, token_hash=hash_token(token),
                       created_at=uow.runtime.clock(), failed_logins=0,
                       password_hash=None if password is None
                       else generate_password_hash(password, method=PASSWORD_METHOD)))
    return token


@use_case
def set_password(uow: UnitOfWork, name: str, password: str) -> None:
    """A new console password; ends the user's sessions and lifts a lock-out."""
    user = _user(uow, name)
    if problem := password_problem(password, name):
        raise Invalid("invalid password", errors={"password": [problem]})
    user.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
    user.failed_logins, user.locked_until = 0, None
    _end_sessions(uow, user.id)


@use_case
def reissue_token(uow: UnitOfWork, name: str) -> str:
    """A new API token for a user (the old one stops working); a revoked user is active again."""
    user = _user(uow, name)
    token = _new_token()
    user.token_hash, user.revoked_at = hash_token(token), None
    _forget_tokens(uow)
    return token


@use_case
def revoke_user(uow: UnitOfWork, name: str) -> None:
    """The user can no longer use the API or sign in; their console sessions end now."""
    user = _user(uow, name)
    user.revoked_at = uow.runtime.clock()
    _end_sessions(uow, user.id)
    _forget_tokens(uow)


def _forget_tokens(uow: UnitOfWork) -> None:
    """Once this change commits, this process forgets every token it verified (other processes
    within `Settings.token_cache_seconds`: engine/adapters/token_cache.py)."""
    tokens = getattr(uow.runtime, "tokens", None)  # the unit tests' fake runtime keeps none
    if tokens is not None:
        uow.after_commit(tokens.clear)


def list_users(uow: UnitOfWork) -> list[User]:
    return uow.users.all()


@use_case
def ensure_first_admin(uow: UnitOfWork, name: str = "admin") -> str | None:
    """On a database without users, create `admin` with a random password and return that
    password (to be shown once, as Jenkins does); None when there are users already."""
    if uow.users.any():
        return None
    password = secrets.token_urlsafe(12)
    create_user(uow, name, "admin", password=password)
    return password


def authenticate(uow: UnitOfWork, token: str) -> Actor | None:
    """The actor behind a bearer token (None: unknown or revoked). Runs on every request, so it
    reads four columns rather than a `User` entity."""
    return _actor_of_hash(uow, hash_token(token))


def _actor_of_hash(uow: UnitOfWork, token_hash: str) -> Actor | None:
    found = uow.users.by_token_hash(token_hash)
    if found is None or found.revoked_at is not None:
        return None
    return Actor(found.name, found.role, found.department)


def actor_of_token(runtime: "Runtime", token: str) -> Actor | None:
    """`authenticate` for a request: a token this process verified less than
    `Settings.token_cache_seconds` ago is trusted without a look-up; a revocation takes effect at
    once in the process that commits it and within that many seconds elsewhere
    (engine/adapters/token_cache.py)."""
    token_hash = hash_token(token)
    tokens = runtime.tokens
    actor = tokens.get(token_hash)
    if actor is not None:
        return actor
    generation, read_at = tokens.generation, tokens.now()
    with runtime.unit_of_work(write=False) as uow:
        actor = _actor_of_hash(uow, token_hash)
    if actor is not None:
        tokens.put(token_hash, actor, generation, read_at)
    return actor


# --------------------------------------------------------------------------- console sign-in


def sign_in(uow: UnitOfWork, name: str, password: str) -> SignedIn:
    """Check a password and open a console session; count failures and lock after too many.

    Refusals do not say whether the name exists (a locked account says that it is locked).
    The caller commits whether or not this raises, so failures are counted.
    """
    now = uow.runtime.clock()
    user = uow.users.by_name(name) if name and len(name) <= 120 else None
    if user is None or user.password_hash is None:
        # Checked all the same, so a wrong name costs as long as a wrong password.
        if not _dummy_hash:
            _dummy_hash.append(generate_password_hash("not a password", method=PASSWORD_METHOD))
        check_password_hash(_dummy_hash[0], password or "")
        raise SignInRefused("wrong user name or password")
    if user.locked_until is not None and user.locked_until > now:
        raise SignInRefused(f"user {name!r} is locked after {MAX_FAILURES} failed sign-ins",
                            locked_until=user.locked_until)
    if not check_password_hash(user.password_hash, password or ""):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILURES:
            user.failed_logins, user.locked_until = 0, now + timedelta(minutes=LOCK_MINUTES)
            raise SignInRefused(f"user {name!r} is locked after {MAX_FAILURES} failed sign-ins",
                                locked_until=user.locked_until)
        raise SignInRefused("wrong user name or password")
    if user.revoked_at is not None:
        raise SignInRefused("wrong user name or password")
    user.failed_logins, user.locked_until = 0, None
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    uow.console_sessions.end_of_user(user.id, expired_by=now)
    uow.console_sessions.add(ConsoleSession(id=hash_token(token), user_id=user.id, csrf_token=csrf,
                                            created_at=now, seen_at=now,
                                            expires_at=now + timedelta(hours=SESSION_HOURS)))
    return SignedIn(token, csrf, Actor(user.name, user.role, user.department))


def session_of(uow: UnitOfWork, token: str) -> SessionInfo | None:
    """The signed-in actor behind a session cookie (None: unknown, expired, idle or revoked).
    One indexed read per page."""
    if not token or len(token) > 200:
        return None
    now = uow.runtime.clock()
    found = uow.console_sessions.with_user(hash_token(token))
    if found is None or found.revoked_at is not None or found.expires_at <= now:
        return None
    if found.seen_at + timedelta(minutes=IDLE_MINUTES) <= now:
        return None
    return SessionInfo(Actor(found.name, found.role, found.department), found.csrf_token,
                       stale=found.seen_at + timedelta(minutes=TOUCH_MINUTES) <= now)


@use_case
def touch_session(uow: UnitOfWork, token: str) -> None:
    """Note that a session is in use, so it does not end as idle."""
    row = uow.console_sessions.get(hash_token(token))
    if row is not None:
        row.seen_at = uow.runtime.clock()


@use_case
def sign_out(uow: UnitOfWork, token: str) -> None:
    uow.console_sessions.end(hash_token(token))


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def _end_sessions(uow: UnitOfWork, user_id: int) -> None:
    uow.console_sessions.end_of_user(user_id)


def sign_in_counted(uow: UnitOfWork, name: str, password: str) -> SignedIn:
    """`sign_in` as a use case. A refused attempt is committed before `SignInRefused` propagates:
    the failure counts towards the lock-out."""
    with uow:
        try:
            signed = sign_in(uow, name, password)
        except SignInRefused:
            uow.commit()
            raise
        uow.commit()
    return signed


@use_case
def create_users(uow: UnitOfWork, people: list[tuple[str, str, str | None, str | None]]) -> list[str]:
    """Several `create_user`s in one transaction (all or none): (name, role, department, password)
    each; their API tokens in the same order."""
    return [create_user(uow, name, role, department, password=password) for name, role, department, password in people]
