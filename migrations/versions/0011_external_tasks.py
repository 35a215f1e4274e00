"""external tasks: the external_tasks table (camunda:type="external", issue 12)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('external_tasks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=255), nullable=False),
    sa.Column('business_key', sa.String(length=120), nullable=False),
    sa.Column('element_id', sa.String(length=255), nullable=False),
    sa.Column('element_name', sa.String(length=255), nullable=True),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=255), nullable=True),
    sa.Column('lock_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retries', sa.Integer(), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('error_details', sa.Text(), nullable=True),
    sa.Column('variables', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
              nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('external_tasks') as batch:
        batch.create_index(batch.f('ix_external_tasks_case_id'), ['case_id'], unique=False)
        batch.create_index('ix_external_tasks_topic_lock', ['topic', 'lock_expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('external_tasks') as batch:
        batch.drop_index('ix_external_tasks_topic_lock')
        batch.drop_index(batch.f('ix_external_tasks_case_id'))
    op.drop_table('external_tasks')
