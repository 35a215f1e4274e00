"""Engine settings: where the database, processes and forms live, read from the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
_INSTALLED = Path(__file__).resolve().parent / "shipped"


def shipped_dir(name: str) -> Path:
    """`migrations`, `forms` or `processes`: the copy inside an installed wheel
    (`engine/shipped/NAME`, put there by setup.py), else the checkout's top-level folder."""
    installed = _INSTALLED / name
    return installed if installed.is_dir() else REPO_ROOT / name


def _var_dir() -> Path:
    """Where the default SQLite file lives: ONEWINDOW_VAR, else var/ in the checkout, else ./var
    (an installed onewindow has no checkout)."""
    if os.environ.get("ONEWINDOW_VAR"):
        return Path(os.environ["ONEWINDOW_VAR"])
    return REPO_ROOT / "var" if not _INSTALLED.is_dir() else Path.cwd() / "var"


def default_database_url() -> str:
    """SQLite file under var/ unless DATABASE_URL says otherwise (zero set-up by default)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            # psycopg 3 is the driver we ship; accept the URL integrators usually have.
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    return f"sqlite:///{_var_dir() / 'onewindow.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    processes_dir: Path = field(default_factory=lambda: shipped_dir("processes"))
    forms_dir: Path = field(default_factory=lambda: shipped_dir("forms"))
    organisation_file: Path = field(default_factory=lambda: Path(
        os.environ.get("ONEWINDOW_ORGANISATION") or shipped_dir("processes") / "organisation.json"))
    # Designer code (scripts, expressions): seconds and memory one run may use
    # (ONEWINDOW_SCRIPT_TIMEOUT, default 5; ONEWINDOW_SCRIPT_MEMORY_MB, default 256). See engine/adapters/sandbox.py.
    script_timeout: float = field(default_factory=lambda: _sandbox_default("timeout"))
    script_memory_mb: int = field(default_factory=lambda: _sandbox_default("memory_mb"))
    # Days the worker keeps fanned-out events, finished webhook deliveries and read notifications
    # (ONEWINDOW_RETENTION_DAYS, default 180; 0 keeps them for ever). See engine/services/retention.py.
    retention_days: int = field(default_factory=lambda: retention_days_from_env())
    # How long a process trusts an API token it has verified (ONEWINDOW_TOKEN_CACHE_SECONDS,
    # default 5; 0: look every token up): a revocation made elsewhere takes effect within this.
    # See engine/adapters/token_cache.py.
    token_cache_seconds: float = field(default_factory=lambda: _seconds("ONEWINDOW_TOKEN_CACHE_SECONDS", 5.0))


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not 0 <= value <= 3600:
        raise ValueError(f"{name} must be between 0 and 3600 seconds, not {raw!r}")
    return value


def _sandbox_default(name: str):  # type: ignore[no-untyped-def]
    # the defaults are the sandbox's (its environment variables); read only when a Settings is built
    from engine.adapters.sandbox import env_memory_mb, env_timeout
    return env_timeout() if name == "timeout" else env_memory_mb()


def retention_days_from_env() -> int:
    """ONEWINDOW_RETENTION_DAYS as a whole number of days ≥ 0; anything else is refused at start-up."""
    raw = os.environ.get("ONEWINDOW_RETENTION_DAYS", "180").strip()
    if not raw.isdigit():
        raise ValueError(f"ONEWINDOW_RETENTION_DAYS must be a whole number of days (0: keep for ever), not {raw!r}")
    return int(raw)
