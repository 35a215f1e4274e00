"""The Flask application factory: runtime, blueprints, error handlers, CLI."""
from __future__ import annotations

from typing import Any

from flask import Flask

from api import converters, errors
from api.cli import register_commands
from api.routes import register_blueprints
from engine.config import Settings
from engine.runtime import Runtime


class Config:
    """Defaults; `create_app(overrides)` or ONEWINDOW_* environment variables change them."""

    MAX_CONTENT_LENGTH = 6 * 1024 * 1024  # BPMN files up to 5 MB plus multipart overhead
    JSON_SORT_KEYS = False
    AUTO_DEPLOY = False  # deploy processes/ on start-up (the serve command does it once)


def create_app(overrides: dict[str, Any] | None = None, runtime: Runtime | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_object(Config)
    app.config.from_prefixed_env("ONEWINDOW")
    app.config.update(overrides or {})
    app.json.ensure_ascii = False  # Chinese names stay readable in responses
    if runtime is None:
        settings = Settings(**({"database_url": app.config["DATABASE_URL"]}
                               if app.config.get("DATABASE_URL") else {}))
        runtime = Runtime(settings)
    app.extensions["onewindow"] = runtime

    converters.install(app)  # before any route: path ids and years fit 32 bits, else 404
    errors.register(app)
    register_blueprints(app)

    register_commands(app)
    return app
