"""API users and their bearer tokens (only a SHA-256 of each token is stored)."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from engine.access import ROLES, Actor
from engine.errors import Conflict, Invalid, NotFound
from engine.store.models import User
from engine.store.uow import UnitOfWork

DEPARTMENT_ROLES = ("staff", "leader")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(uow: UnitOfWork, name: str, role: str, department: str | None = None) -> str:
    """Create a user and return its new token; the token is shown once and never stored."""
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 120:
        errors["name"] = ["required, at most 120 characters"]
    if role not in ROLES or role == "system":
        errors["role"] = [f"must be one of {', '.join(r for r in ROLES if r != 'system')}"]
    if role in DEPARTMENT_ROLES and not department:
        errors["department"] = [f"required for role {role}"]
    organisation = uow.organisation
    if department and department not in organisation:
        errors["department"] = [f"unknown department {department!r}"]
    elif department and role == "agent" and organisation.get(department).kind != "service_centre":
        # An agent works at a window; its cases belong to that window's region.
        windows = ", ".join(organisation.window_of(r.code).code for r in organisation.regions())
        errors["department"] = [f"an agent belongs to a window (service centre): one of {windows}"]
    if errors:
        raise Invalid("invalid user", errors=errors)
    if uow.session.scalar(select(User).where(User.name == name)) is not None:
        raise Conflict(f"user {name!r} already exists")
    token = "ow_" + secrets.token_urlsafe(32)
    uow.session.add(User(name=name, role=role, department=department, token_hash=hash_token(token),
                         created_at=uow.runtime.clock()))
    return token


def revoke_user(uow: UnitOfWork, name: str) -> None:
    user = uow.session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"user {name!r} does not exist")
    user.revoked_at = uow.runtime.clock()


def authenticate(uow: UnitOfWork, token: str) -> Actor | None:
    """The actor behind a bearer token (None: unknown or revoked). Runs on every request, so it
    reads four columns rather than a `User` entity."""
    found = uow.session.execute(
        select(User.name, User.role, User.department, User.revoked_at)
        .where(User.token_hash == hash_token(token))).first()
    if found is None or found.revoked_at is not None:
        return None
    return Actor(found.name, found.role, found.department)
