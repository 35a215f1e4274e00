"""Webhooks for admins in the console: the hooks with their deliveries by state, and the dead
letters (failed for 24 hours) with redeliver and discard. Registration stays on the command line
and the API, where the secret is shown once."""
from __future__ import annotations

from flask import Response, redirect, request, url_for

from api.console.blueprint import blueprint
from api.console.web import actor, page
from api.runtime import runtime
from engine.services import webhooks

NOTICES = {"redelivered": "已重新投递：该事件及其后被阻塞的事件将依次发送。", "discarded": "已放弃该死信，其后的事件继续发送。"}


@blueprint.get("/admin/webhooks")
def admin_webhooks() -> Response:
    with runtime().unit_of_work(write=False) as uow:
        hooks = webhooks.list_hooks(uow, actor())
        counts = webhooks.stats(uow, [h.id for h in hooks])
        rows = [webhooks.as_dict(h, counts[h.id]) for h in hooks]
        dead, total = webhooks.dead_letters(uow, actor(), limit=200)
        letters = [webhooks.delivery_dict(uow, d, e) for d, e in dead]
    return page("admin_webhooks.html", hooks=rows, letters=letters, total=total,
                notice=NOTICES.get(request.args.get("done", "")))


@blueprint.post("/admin/webhooks/dead-letters/<int:delivery_id>/redeliver")
def admin_redeliver(delivery_id: int) -> Response:
    webhooks.redeliver(runtime().unit_of_work(), actor(), delivery_id)
    return redirect(url_for("console.admin_webhooks", done="redelivered"), code=303)


@blueprint.post("/admin/webhooks/dead-letters/<int:delivery_id>/discard")
def admin_discard(delivery_id: int) -> Response:
    webhooks.discard(runtime().unit_of_work(), actor(), delivery_id)
    return redirect(url_for("console.admin_webhooks", done="discarded"), code=303)
