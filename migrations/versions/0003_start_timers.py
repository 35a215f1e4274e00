"""start timers: timer start events of deployed processes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'start_timers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('process_key', sa.String(length=255), nullable=False),
        sa.Column('definition_id', sa.Integer(), nullable=False),
        sa.Column('element_id', sa.String(length=255), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('interval_seconds', sa.Float(), nullable=True),
        sa.Column('remaining', sa.Integer(), nullable=True),
        sa.Column('started', sa.Integer(), nullable=False),
        sa.Column('claimed_by', sa.String(length=120), nullable=True),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['definition_id'], ['definitions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('process_key', 'element_id', name='uq_start_timer'),
    )
    op.create_index('ix_start_timers_due', 'start_timers', ['due_at'])


def downgrade() -> None:
    op.drop_index('ix_start_timers_due', table_name='start_timers')
    op.drop_table('start_timers')
