"""statistics (issue 14): stat_items and stat_cases, summaries kept with the task rows; escalations by body

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27

Existing cases get their rows from `onewindow stats rebuild` (a migration never imports engine code).
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('stat_items',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('stage', sa.String(length=120), nullable=True),
    sa.Column('track', sa.String(length=20), nullable=True),
    sa.Column('batch', sa.Integer(), nullable=True),
    sa.Column('department', sa.String(length=120), nullable=True),
    sa.Column('form_key', sa.String(length=120), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('days_used', sa.Integer(), nullable=True),
    sa.Column('elapsed_days', sa.Integer(), nullable=True),
    sa.Column('stop_days', sa.Integer(), nullable=False),
    sa.Column('limit_days', sa.Integer(), nullable=True),
    sa.Column('time_limit', sa.String(length=60), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('deemed', sa.Boolean(), nullable=False),
    sa.Column('corrections', sa.Integer(), nullable=False),
    sa.Column('refusals', sa.Integer(), nullable=False),
    sa.Column('hours_used', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'key', name='uq_stat_item')
    )
    with op.batch_alter_table('stat_items') as batch:
        batch.create_index('ix_stat_items_decided',
                           ['decided_at', 'department', 'outcome', 'days_used', 'on_time', 'deemed', 'limit_days'],
                           unique=False)
        batch.create_index('ix_stat_items_received', ['received_at', 'department', 'corrections'], unique=False)
        batch.create_index('ix_stat_items_form', ['form_key', 'received_at', 'department', 'hours_used'], unique=False)
    op.create_table('stat_cases',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('process_key', sa.String(length=255), nullable=False),
    sa.Column('region', sa.String(length=40), nullable=True),
    sa.Column('project_type', sa.String(length=20), nullable=True),
    sa.Column('investment', sa.Float(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_year', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_year', sa.Integer(), nullable=True),
    sa.Column('batches', sa.Integer(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('stage_items', sa.Text(), nullable=True),
    sa.Column('elapsed_days', sa.Integer(), nullable=True),
    sa.Column('serial_limit_days', sa.Integer(), nullable=True),
    sa.Column('serial_actual_days', sa.Integer(), nullable=True),
    sa.Column('body_days', sa.Integer(), nullable=True),
    sa.Column('critical_days', sa.Integer(), nullable=True),
    sa.Column('stop_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('stat_cases') as batch:
        batch.create_index('ix_stat_cases_closed', ['closed_at', 'region'], unique=False)
        batch.create_index('ix_stat_cases_accepted', ['accepted_at', 'region'], unique=False)
        batch.create_index('ix_stat_cases_accepted_year',
                           ['accepted_year', 'region', 'investment', 'batches', 'stage_items'], unique=False)
        batch.create_index('ix_stat_cases_closed_year', ['closed_year', 'region', 'project_type', 'elapsed_days'],
                           unique=False)
    with op.batch_alter_table('escalations') as batch:
        batch.create_index('ix_escalations_item_raised', ['item_department', 'raised_at', 'level'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('escalations') as batch:
        batch.drop_index('ix_escalations_item_raised')
    op.drop_table('stat_cases')
    op.drop_table('stat_items')
