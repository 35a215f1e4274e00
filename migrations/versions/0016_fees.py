"""one-window fee payment (issue 14): bills, fee_items, payments

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bills',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('batch', sa.Integer(), nullable=True),
    sa.Column('open_key', sa.String(length=60), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('payment_reference', sa.String(length=120), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_by', sa.String(length=120), nullable=True),
    sa.Column('refund_reference', sa.String(length=120), nullable=True),
    sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refunded_by', sa.String(length=120), nullable=True),
    sa.Column('refund_reason', sa.Text(), nullable=True),
    sa.Column('waived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('waived_by', sa.String(length=120), nullable=True),
    sa.Column('waiver_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number'),
    sa.UniqueConstraint('open_key')
    )
    with op.batch_alter_table('bills') as batch:
        batch.create_index('ix_bills_case', ['case_id', 'batch'], unique=False)
        batch.create_index('ix_bills_paid_at', ['paid_at'], unique=False)
        batch.create_index('ix_bills_refunded_at', ['refunded_at'], unique=False)
        batch.create_index('ix_bills_waived_at', ['waived_at'], unique=False)
    op.create_table('fee_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('item_key', sa.String(length=300), nullable=False),
    sa.Column('item_name', sa.String(length=255), nullable=True),
    sa.Column('department', sa.String(length=120), nullable=False),
    sa.Column('fee_name', sa.String(length=200), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('payer', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fee_items') as batch:
        batch.create_index(batch.f('ix_fee_items_bill_id'), ['bill_id'], unique=False)
        batch.create_index('ix_fee_items_case_item', ['case_id', 'item_key', 'department'], unique=False)
        batch.create_index('ix_fee_items_department', ['department'], unique=False)
    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.String(length=36), nullable=False),
    sa.Column('gateway', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('payments') as batch:
        batch.create_index(batch.f('ix_payments_bill_id'), ['bill_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payments') as batch:
        batch.drop_index(batch.f('ix_payments_bill_id'))
    op.drop_table('payments')
    with op.batch_alter_table('fee_items') as batch:
        batch.drop_index('ix_fee_items_department')
        batch.drop_index('ix_fee_items_case_item')
        batch.drop_index(batch.f('ix_fee_items_bill_id'))
    op.drop_table('fee_items')
    with op.batch_alter_table('bills') as batch:
        batch.drop_index('ix_bills_waived_at')
        batch.drop_index('ix_bills_refunded_at')
        batch.drop_index('ix_bills_paid_at')
        batch.drop_index('ix_bills_case')
    op.drop_table('bills')
