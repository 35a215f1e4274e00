"""inbox indexes: a department's inbox page and count from one index (issue 6)

`GET /tasks?department=...` filters on (department, state) and sorts by (created_at, id).
The old `ix_tasks_department_state` (department, state, created_at) left the `id` tie-break
to a sort step; `ix_tasks_inbox` ends with `id`, so the first page is the first 50 index
entries, and the count is answered from the same index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_tasks_inbox', 'tasks', ['department', 'state', 'created_at', 'id'], unique=False)
    op.drop_index('ix_tasks_department_state', table_name='tasks')


def downgrade() -> None:
    op.create_index('ix_tasks_department_state', 'tasks', ['department', 'state', 'created_at'], unique=False)
    op.drop_index('ix_tasks_inbox', table_name='tasks')
