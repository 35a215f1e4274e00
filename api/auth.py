"""Bearer-token authentication: every route but /health and /public needs a valid token."""
from __future__ import annotations

from flask import g, request

from api.errors import Unauthorized
from engine.services import users
from engine.domain.access import Actor
from api.runtime import runtime


def current_actor() -> Actor:
    actor = g.get("actor")
    if actor is not None:
        return actor
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    with runtime().unit_of_work(write=False) as uow:
        actor = users.authenticate(uow, token.strip())
    if actor is None:
        raise Unauthorized("the token is unknown or revoked")
    g.actor = actor
    return actor
