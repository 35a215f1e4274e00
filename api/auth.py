"""Authentication: every route but /health and /public needs a valid API token.

`Authorization: Bearer <token>`, or `Basic` with the user's name and the same token as the
password (what Camunda Modeler and Camunda's clients can send, `/engine-rest`). A console
password is never accepted here: it is for people at the console, checked slowly (scrypt) and
counted towards lock-out.

A token this process verified is trusted for `Settings.token_cache_seconds` (default 5 s)
without a look-up; a revocation takes effect at once in the process that commits it and within
that time in the others (engine/adapters/token_cache.py).
"""
from __future__ import annotations

import base64
import binascii

from flask import g, request

from api.errors import Unauthorized
from engine.services import users
from engine.domain.access import Actor
from api.runtime import runtime


def _basic(credentials: str) -> tuple[str, str]:
    """(user name, token) from a Basic credentials string; 401 if it is not one."""
    try:
        name, colon, token = base64.b64decode(credentials.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Unauthorized("Basic credentials must be base64 of `name:token`") from None
    if not colon or not name or not token:
        raise Unauthorized("Basic credentials must be base64 of `name:token` (the API token as password)")
    return name, token


def current_actor() -> Actor:
    actor = g.get("actor")
    if actor is not None:
        return actor
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    name = None
    if scheme.lower() == "basic" and token.strip():
        name, token = _basic(token)
    elif scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>, or Basic with the user "
                           "name and the token as password)")
    actor = users.actor_of_token(runtime(), token.strip())  # cached for a few seconds: see there
    if actor is None or (name is not None and actor.name != name):
        raise Unauthorized("the token is unknown or revoked" if name is None
                           else "the user name and token do not match a user")
    g.actor = actor
    return actor
