"""One blueprint per resource, all under /api/v1.

To add a resource: write `api/routes/NAME.py` with a `blueprint` whose views use
`api.operation.operation` (so they are authenticated and documented), and add NAME below.
"""
from __future__ import annotations

import importlib

from flask import Flask

API_PREFIX = "/api/v1"

RESOURCES = [
    "health",
    "openapi",
    "definitions",
    "cases",
    "messages",
    "tasks",
    "public",
    "departments",
    "calendar",
    "escalations",
    "clocks",
    "incidents",
    "regions",
    "batches",
    "diagrams",
    "external_tasks",
    "department_aliases",
    "definition_diff",
    "migrations",
    "projects",
    "notifications",
    "webhooks",
    "stats",
    "fees",
]


def register_blueprints(app: Flask) -> None:
    for name in RESOURCES:
        module = importlib.import_module(f"api.routes.{name}")
        app.register_blueprint(module.blueprint, url_prefix=API_PREFIX)
    from api.routes import engine_rest  # Camunda 7 compatible subset for existing tools (issue 12)
    app.register_blueprint(engine_rest.blueprint, url_prefix=engine_rest.PREFIX)
    from api.routes import pages  # HTML for people, outside the API
    app.register_blueprint(pages.blueprint)
    from api import console  # the staff console at /console/ (issue 11)
    console.register(app)
