"""The Alembic migrations build exactly the schema the models describe (tables, columns,
indexes, constraints), on SQLite and PostgreSQL: a model change without its migration fails here."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from engine.adapters.models import Base


def test_migrations_match_the_models(database_url):
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
