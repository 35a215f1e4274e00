"""`onewindow purge`: delete old notification rows now (the worker does it every few hours)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from api.runtime import runtime
from engine.services import retention


@click.command("purge", help="Delete fanned-out events, finished webhook deliveries and read notifications "
                             "older than the retention (ONEWINDOW_RETENTION_DAYS, default 180). Dead letters, "
                             "pending deliveries, unread notifications and case history stay.")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="keep this many days instead of the configured retention (0: delete nothing)")
@with_appcontext
def purge_command(days: int | None) -> None:
    def report(so_far: retention.Purged) -> None:
        if so_far.total:  # a large first purge runs many batches: say it is moving
            click.echo(f"  ... {so_far.total} rows deleted so far", err=True)
    purged = retention.purge(runtime(), days, progress=report)
    if purged.cutoff is None:
        click.echo("retention is off (0 days): nothing deleted")
        return
    click.echo(f"deleted {purged.events} events, {purged.deliveries} webhook deliveries, "
               f"{purged.notifications} notifications older than {purged.cutoff.isoformat(timespec='seconds')}")
