"""What every `onewindow` command module shares: how a domain error is told, who acts."""
from __future__ import annotations

import sys

import click

from api.runtime import runtime
from engine.domain.access import SYSTEM, Actor
from engine.errors import DomainError


def fail(error: DomainError) -> None:
    """The error, then each of its problems once (a refused BPMN file lists every problem)."""
    problems = getattr(error, "problems", None)
    if problems:
        click.echo(f"error: {error.title.lower()}: {len(problems)} problem{'s' if len(problems) > 1 else ''}",
                   err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    click.echo(f"error: {error.detail}", err=True)
    for field, messages in (error.errors or {}).items():
        for message in messages:
            click.echo(f"  {field}: {message}", err=True)
    sys.exit(1)


def acting_as(name: str | None) -> Actor:
    """Operators act as the system, or as a named user when --as is given."""
    if not name:
        return SYSTEM
    with runtime().unit_of_work(write=False) as uow:
        user = uow.users.by_name(name)
    if user is None or user.revoked_at is not None:
        click.echo(f"error: no active user {name!r}", err=True)
        sys.exit(1)
    return Actor(user.name, user.role, user.department)
