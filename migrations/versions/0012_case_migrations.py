"""case migrations: a plan per process version change and its cases' progress (issue 12)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_migrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=255), nullable=False),
    sa.Column('from_version', sa.Integer(), nullable=False),
    sa.Column('to_version', sa.Integer(), nullable=False),
    sa.Column('from_definition_id', sa.Integer(), nullable=False),
    sa.Column('to_definition_id', sa.Integer(), nullable=False),
    sa.Column('mapping', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('batch_size', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['from_definition_id'], ['definitions.id'], ),
    sa.ForeignKeyConstraint(['to_definition_id'], ['definitions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_migrations') as batch:
        batch.create_index(batch.f('ix_case_migrations_process_key'), ['process_key'], unique=False)
        batch.create_index(batch.f('ix_case_migrations_status'), ['status'], unique=False)
    op.create_table('case_migration_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('migration_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['migration_id'], ['case_migrations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('migration_id', 'case_id', name='uq_case_migration_case')
    )
    with op.batch_alter_table('case_migration_cases') as batch:
        batch.create_index(batch.f('ix_case_migration_cases_case_id'), ['case_id'], unique=False)
        batch.create_index('ix_case_migration_cases_status', ['migration_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_table('case_migration_cases')
    op.drop_table('case_migrations')
