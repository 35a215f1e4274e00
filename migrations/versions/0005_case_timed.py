"""cases.timed: whether saving a case must look for SLA rows, escalations and timer jobs

Existing cases are marked timed (the safe answer); new ones start untimed and become timed
with their first timed task or timer job.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('cases', sa.Column('timed', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE cases SET timed = true")


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('timed')
