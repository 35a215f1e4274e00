"""tasks: a (department, state) index for the inbox's count (issue 16)

An inbox's total is `count(*)` of the department's ready rows. At 10^6 task rows a department
has ~25,000; counting them in `ix_tasks_inbox` (department, state, created_at, id) read 369
index pages (118 MB index), in this index 25 (7 MB: PostgreSQL de-duplicates equal keys), so
the count went from ~9-13 ms to ~1-5 ms (EXPLAIN ANALYZE, docs/bench.md). The page itself still
comes from `ix_tasks_inbox` in order.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27
"""
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_tasks_inbox_count', 'tasks', ['department', 'state'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tasks_inbox_count', table_name='tasks')
