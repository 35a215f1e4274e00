"""incidents: failed steps of cases that wait for an operator (retry, variables, move)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'incidents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('process_key', sa.String(length=255), nullable=False),
        sa.Column('business_key', sa.String(length=120), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('task_id', sa.String(length=36), nullable=True),
        sa.Column('element_id', sa.String(length=255), nullable=True),
        sa.Column('element_name', sa.String(length=255), nullable=True),
        sa.Column('department', sa.String(length=120), nullable=True),
        sa.Column('error_type', sa.String(length=120), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=120), nullable=True),
        sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('retries', sa.Integer(), nullable=False),
        sa.Column('last_retried_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_retried_by', sa.String(length=120), nullable=True),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_by', sa.String(length=120), nullable=True),
        sa.Column('resolution', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_incidents_state_created', 'incidents', ['state', 'created_at'])
    op.create_index('ix_incidents_case_state', 'incidents', ['case_id', 'state'])
    op.create_index('ix_incidents_process_key', 'incidents', ['process_key'])
    op.create_index('ix_incidents_element_id', 'incidents', ['element_id'])
    op.create_index('ix_incidents_department', 'incidents', ['department'])
    # Cases that failed before incidents existed keep their error text; give each an open
    # incident so operators find and repair them like new ones.
    op.execute(
        "INSERT INTO incidents (case_id, process_key, business_key, kind, task_id, element_id, "
        "element_name, department, error_type, message, source, created_at, created_by, last_failed_at, "
        "retries, state) "
        "SELECT c.id, c.process_key, c.business_key, 'step', t.id, t.element_id, t.name, t.department, "
        "'Error', COALESCE(t.error, c.error), 'api', COALESCE(t.created_at, c.updated_at), NULL, "
        "COALESCE(t.created_at, c.updated_at), 0, 'open' "
        "FROM cases c LEFT JOIN tasks t ON t.case_id = c.id AND t.state = 'error' "
        "WHERE c.error IS NOT NULL AND c.status IN ('running', 'suspended')")


def downgrade() -> None:
    op.drop_index('ix_incidents_department', table_name='incidents')
    op.drop_index('ix_incidents_element_id', table_name='incidents')
    op.drop_index('ix_incidents_process_key', table_name='incidents')
    op.drop_index('ix_incidents_case_state', table_name='incidents')
    op.drop_index('ix_incidents_state_created', table_name='incidents')
    op.drop_table('incidents')
