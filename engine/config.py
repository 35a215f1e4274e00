"""Engine settings: where the database, processes and forms live, read from the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_database_url() -> str:
    """SQLite file under var/ unless DATABASE_URL says otherwise (zero set-up by default)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            # psycopg 3 is the driver we ship; accept the URL integrators usually have.
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    return f"sqlite:///{REPO_ROOT / 'var' / 'onewindow.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    processes_dir: Path = REPO_ROOT / "processes"
    forms_dir: Path = REPO_ROOT / "forms"
    organisation_file: Path = field(default_factory=lambda: Path(
        os.environ.get("ONEWINDOW_ORGANISATION") or REPO_ROOT / "processes" / "organisation.json"))
