"""The notification bell: the unread count in every page's header, and the list at
/console/notifications (open one: marked read and taken to its task or case; mark all read)."""
from __future__ import annotations

from flask import Response, g, redirect, request, url_for

from api.console.blueprint import blueprint
from api.console.views_work import _int_arg
from api.console.web import actor, page
from api.runtime import runtime
from engine.services import notifications

PER_PAGE = 30


@blueprint.app_template_global("unread_notifications")
def unread_notifications() -> int:
    """The signed-in person's unread count, read once per page."""
    if "unread_notifications" not in g:
        who = g.get("console_actor")
        if who is None:
            return 0
        with runtime().unit_of_work(write=False) as uow:
            g.unread_notifications = notifications.unread_count(uow, who)
    return g.unread_notifications


@blueprint.get("/notifications")
def notifications_page() -> Response:
    only_unread = request.args.get("unread") == "1"
    number = _int_arg("page", 1)
    with runtime().unit_of_work(write=False) as uow:
        found = notifications.list_for(uow, actor(), unread=only_unread, page=number, per_page=PER_PAGE)
    g.unread_notifications = found.unread
    pages = max(1, -(-found.total // PER_PAGE))
    return page("notifications.html", found=found, only_unread=only_unread, number=number, pages=pages,
                up_to=max((n.id for n in found.items), default=0),
                notice="已全部标为已读。" if request.args.get("done") == "read" else None)


@blueprint.post("/notifications/<int:notification_id>/open")
def open_notification(notification_id: int) -> Response:
    """Mark read, then go to what it is about: the task, else the case, else back to the list."""
    row = notifications.mark_read(runtime().unit_of_work(), actor(), notification_id)
    if row.task_id and row.type in ("task.ready", "task.yellow", "task.red", "correction.requested"):
        return redirect(url_for("console.task", task_id=row.task_id), code=303)
    if row.type == "escalation.raised":
        return redirect(url_for("console.escalations"), code=303)
    if row.case_id:
        return redirect(url_for("console.case", case_id=row.case_id), code=303)
    project_code = (row.data or {}).get("project_code")
    if isinstance(project_code, str) and project_code:  # a work group's question or project event
        anchor = f"#q{row.data['question_id']}" if isinstance(row.data.get("question_id"), int) else ""
        return redirect(url_for("console.project_page", code=project_code) + anchor, code=303)
    return redirect(url_for("console.notifications_page"), code=303)


@blueprint.post("/notifications/read-all")
def read_all_notifications() -> Response:
    raw = request.form.get("up_to", "")
    notifications.mark_all_read(runtime().unit_of_work(), actor(), int(raw) if raw.isdigit() else None)
    return redirect(url_for("console.notifications_page", done="read"), code=303)
