"""Access to the engine runtime of the current Flask app."""
from __future__ import annotations

from flask import current_app

from engine.runtime import Runtime


def runtime() -> Runtime:
    return current_app.extensions["onewindow"]
