"""regions: the case's region (the window that accepted it) and versioned organisation files

Existing cases keep NULL (read as the organisation's default region; the first
`onewindow organisation load` writes it in).

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('cases', sa.Column('region', sa.String(length=40), nullable=True))
    op.create_index('ix_cases_region', 'cases', ['region'])
    op.create_table(
        'organisation_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('document', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=255), nullable=True),
        sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('loaded_by', sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('version'),
    )


def downgrade() -> None:
    op.drop_table('organisation_versions')
    with op.batch_alter_table('cases') as batch:
        batch.drop_index('ix_cases_region')
        batch.drop_column('region')
