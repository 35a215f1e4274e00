"""tasks.due_provisional_years: the provisional calendar years a due date was counted on

A year without an official schedule (e.g. 2027 before the State Council's notice) is counted
on its statutory holidays; the due dates counted so are recomputed when the year is loaded.
Existing rows were counted on official data only, so they stay NULL.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('tasks', sa.Column('due_provisional_years', sa.String(length=60), nullable=True))
    op.create_index('ix_tasks_due_provisional_years', 'tasks', ['due_provisional_years'])


def downgrade() -> None:
    op.drop_index('ix_tasks_due_provisional_years', table_name='tasks')
    with op.batch_alter_table('tasks') as batch:
        batch.drop_column('due_provisional_years')
