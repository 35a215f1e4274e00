"""`onewindow webhooks add|list|remove|dead-letters|redeliver|discard`: integrators' hooks.

The operator acts as the system (an admin); the rules are the API's (`engine.services.webhooks`).
"""
from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from api.runtime import runtime
from engine.domain.access import SYSTEM
from engine.errors import DomainError
from engine.services import webhooks


from api.cli_common import fail as _fail  # noqa: E402


@click.group("webhooks", help="Webhooks for integrators: events POSTed as signed JSON (see docs/api.md).")
def webhooks_group() -> None:
    pass


@webhooks_group.command("add", help="Register URL for the given event types; prints the hook and its secret once.")
@click.argument("url")
@click.option("--events", required=True,
              help="comma-separated event types (task.ready,case.closed,...), families (task.*) or *")
@click.option("--secret", default=None, help="the signing key (16+ characters); omitted: a random one")
@click.option("--description", default=None)
@with_appcontext
def add_command(url: str, events: str, secret: str | None, description: str | None) -> None:
    try:
        hook = webhooks.add_hook(runtime().unit_of_work(), SYSTEM, url, events, secret, description)
    except DomainError as error:
        _fail(error)
    click.echo(f"webhook {hook.id}: {hook.url}")
    click.echo(f"events: {','.join(hook.events)}")
    click.echo(f"secret: {hook.secret}  (shown once: keep it with the receiver)")


@webhooks_group.command("list", help="Registered hooks with their deliveries by state.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_command(as_json: bool) -> None:
    with runtime().unit_of_work(write=False) as uow:
        hooks = webhooks.list_hooks(uow, SYSTEM)
        counts = webhooks.stats(uow, [h.id for h in hooks])
        rows = [webhooks.as_dict(h, counts[h.id]) for h in hooks]
    if as_json:
        click.echo(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no webhooks")
    for row in rows:
        d = row["deliveries"]
        click.echo(f"{row['id']}  {row['url']}  {','.join(row['events'])}  "
                   f"{'active' if row['active'] else 'paused'}  pending {d['pending']} delivered "
                   f"{d['delivered']} dead {d['dead']} discarded {d['discarded']}")


@webhooks_group.command("remove", help="Remove a hook; its pending deliveries are not sent.")
@click.argument("webhook_id", type=int)
@with_appcontext
def remove_command(webhook_id: int) -> None:
    try:
        webhooks.remove_hook(runtime().unit_of_work(), SYSTEM, webhook_id)
    except DomainError as error:
        _fail(error)
    click.echo(f"webhook {webhook_id} removed")


@webhooks_group.command("dead-letters", help="Deliveries that failed for 24 hours.")
@click.option("--webhook", "webhook_id", type=int, default=None)
@with_appcontext
def dead_letters_command(webhook_id: int | None) -> None:
    with runtime().unit_of_work(write=False) as uow:
        rows, total = webhooks.dead_letters(uow, SYSTEM, webhook_id, 500, 0)
        items = [webhooks.delivery_dict(uow, d, e) for d, e in rows]
    if not items:
        click.echo("no dead letters")
    for item in items:
        click.echo(f"{item['id']}  hook {item['webhook_id']}  {item['event_type']}  {item['event_id']}  "
                   f"{item['attempts']} attempts  held back {item['held_back']}  {item['last_error'] or ''}")


def _dead_letter_command(name: str, done: str, verb, help_text: str):  # type: ignore[no-untyped-def]
    @webhooks_group.command(name, help=help_text)
    @click.argument("delivery_ids", type=int, nargs=-1, required=True)
    @with_appcontext
    def command(delivery_ids: tuple[int, ...]) -> None:
        for delivery_id in delivery_ids:
            try:
                verb(runtime().unit_of_work(), SYSTEM, delivery_id)
            except DomainError as error:
                _fail(error)
            click.echo(f"dead letter {delivery_id} {done}")
    return command


_dead_letter_command("redeliver", "due again", webhooks.redeliver, "Send dead letters again (due now, 24 h of retries).")
_dead_letter_command("discard", "discarded", webhooks.discard, "Give up on dead letters; their case's later events go on.")
