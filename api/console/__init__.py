"""The staff console: server-rendered pages in Simplified Chinese at /console/.

The same engine functions as the API (same permission rules, same errors); sessions signed in
with a password instead of bearer tokens. Every page sends a Content-Security-Policy without
'unsafe-inline' (the one script and the stylesheet are our own files under /console/static/),
Jinja escapes every value, every form carries a CSRF token, and pages work without JavaScript.
"""
from __future__ import annotations

from flask import Flask

from api.console import (views_admin, views_auth, views_cases, views_design,  # noqa: F401 (routes)
                         views_escalations, views_fees, views_notifications, views_projects, views_stats, views_tasks,
                         views_webhooks, views_work)
from api.console import views_project_contacts  # noqa: F401 (routes)
from api.console.blueprint import blueprint
from api.console.web import install


def register(app: Flask) -> None:
    if not blueprint._got_registered_once:  # hooks are added once per process, before the first app
        install(blueprint)
    app.register_blueprint(blueprint)
