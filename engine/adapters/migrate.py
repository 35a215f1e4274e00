"""Run Alembic migrations from code (`onewindow db upgrade`, tests, `make run`)."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from engine.config import shipped_dir


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(shipped_dir("migrations")))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
