"""time: calendar years, timer jobs, escalations, task clock columns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'calendar_years',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('data', JSON, nullable=False),
        sa.Column('source', sa.String(length=120), nullable=True),
        sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('loaded_by', sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('year', 'version', name='uq_calendar_year_version'),
    )
    op.create_index('ix_calendar_years_year', 'calendar_years', ['year'])

    op.create_table(
        'timer_jobs',
        sa.Column('id', BIGID, autoincrement=True, nullable=False),
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_by', sa.String(length=120), nullable=True),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'kind', 'task_id', name='uq_timer_job'),
    )
    op.create_index('ix_timer_jobs_due', 'timer_jobs', ['due_at'])
    op.create_index('ix_timer_jobs_case_id', 'timer_jobs', ['case_id'])

    op.create_table(
        'escalations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('department', sa.String(length=120), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('item_department', sa.String(length=120), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_by', sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('task_id', 'level', name='uq_escalation_task_level'),
    )
    op.create_index('ix_escalations_case_id', 'escalations', ['case_id'])
    op.create_index('ix_escalations_task_id', 'escalations', ['task_id'])
    op.create_index('ix_escalations_status', 'escalations', ['status'])
    op.create_index('ix_escalations_department_status', 'escalations', ['department', 'status'])

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('clock_started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('clock_stopped_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('time_rules', JSON, nullable=True))
        batch_op.create_index('ix_tasks_sla_state', ['sla', 'state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_sla_state')
        batch_op.drop_column('time_rules')
        batch_op.drop_column('clock_stopped_at')
        batch_op.drop_column('clock_started_at')
        batch_op.drop_column('warn_at')
    op.drop_table('escalations')
    op.drop_table('timer_jobs')
    op.drop_table('calendar_years')
