"""project work groups (项目工作群): projects, members, enterprise contacts, questions with one row
per addressed body (its own clock), the project timeline

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('projects',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('region', sa.String(length=40), nullable=False),
    sa.Column('facts', JSON, nullable=False),
    sa.Column('enterprise', JSON, nullable=False),
    sa.Column('contact', JSON, nullable=False),
    sa.Column('agent', sa.String(length=120), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('removal_reason', sa.String(length=20), nullable=True),
    sa.Column('removal_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by', sa.String(length=120), nullable=True),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('projects') as batch:
        batch.create_index(batch.f('ix_projects_region'), ['region'], unique=False)
        batch.create_index(batch.f('ix_projects_state'), ['state'], unique=False)
        batch.create_index(batch.f('ix_projects_agent'), ['agent'], unique=False)
    op.create_table('project_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_code', sa.String(length=40), nullable=False),
    sa.Column('department', sa.String(length=120), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['project_code'], ['projects.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_code', 'department', name='uq_project_member')
    )
    with op.batch_alter_table('project_members') as batch:
        batch.create_index('ix_project_members_department', ['department'], unique=False)
        batch.create_index(batch.f('ix_project_members_project_code'), ['project_code'], unique=False)
    op.create_table('project_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_code', sa.String(length=40), nullable=False),
    sa.Column('user_name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['project_code'], ['projects.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_code', 'user_name', name='uq_project_contact')
    )
    with op.batch_alter_table('project_contacts') as batch:
        batch.create_index('ix_project_contacts_user', ['user_name'], unique=False)
        batch.create_index(batch.f('ix_project_contacts_project_code'), ['project_code'], unique=False)
    op.create_table('questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_code', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('asked_by', sa.String(length=120), nullable=False),
    sa.Column('asked_as', sa.String(length=20), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['project_code'], ['projects.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('questions') as batch:
        batch.create_index(batch.f('ix_questions_project_code'), ['project_code'], unique=False)
        batch.create_index(batch.f('ix_questions_state'), ['state'], unique=False)
    op.create_table('question_addressees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('project_code', sa.String(length=40), nullable=False),
    sa.Column('department', sa.String(length=120), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('limit_hours', sa.Integer(), nullable=False),
    sa.Column('warn_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sla', sa.String(length=10), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('level_department', sa.String(length=120), nullable=True),
    sa.Column('level_role', sa.String(length=20), nullable=True),
    sa.Column('next_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('preliminary_opinion', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=120), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('question_id', 'department', name='uq_question_addressee')
    )
    with op.batch_alter_table('question_addressees') as batch:
        batch.create_index('ix_question_addressees_due', ['state', 'next_at'], unique=False)
        batch.create_index('ix_question_addressees_department', ['department', 'state'], unique=False)
        batch.create_index('ix_question_addressees_coordinator', ['level_department', 'state'], unique=False)
        batch.create_index(batch.f('ix_question_addressees_question_id'), ['question_id'], unique=False)
    op.create_table('project_events',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('project_code', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=True),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('data', JSON, nullable=True),
    sa.ForeignKeyConstraint(['project_code'], ['projects.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('project_events') as batch:
        batch.create_index(batch.f('ix_project_events_project_code'), ['project_code'], unique=False)


def downgrade() -> None:
    op.drop_table('project_events')
    op.drop_table('question_addressees')
    op.drop_table('questions')
    op.drop_table('project_contacts')
    op.drop_table('project_members')
    op.drop_table('projects')
