"""The tables of one-window fee payment (issue 14, migration 0016): bills, their fee items, and
the payments made through a payment gateway. Registered on the shared metadata by
`engine.store.models` (its last line imports this module)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, UTCDateTime


class Bill(Base):
    """One bill (缴费单) of a case, or of one auxiliary batch of it: the fees the enterprise pays
    at the window at once. `open_key` is set while the bill is due and NULL after, which makes
    "one due bill per case and batch" a constraint (two bodies adding fees at the same moment
    share the bill)."""

    __tablename__ = "bills"
    __table_args__ = (
        Index("ix_bills_case", "case_id", "batch"),
        Index("ix_bills_paid_at", "paid_at"),
        Index("ix_bills_refunded_at", "refunded_at"),
        Index("ix_bills_waived_at", "waived_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    batch: Mapped[int | None] = mapped_column(Integer)
    open_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    status: Mapped[str] = mapped_column(String(10))  # due | paid | refunded | waived
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(120))
    payment_reference: Mapped[str | None] = mapped_column(String(120))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_by: Mapped[str | None] = mapped_column(String(120))
    refund_reference: Mapped[str | None] = mapped_column(String(120))
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded_by: Mapped[str | None] = mapped_column(String(120))
    refund_reason: Mapped[str | None] = mapped_column(Text)
    waived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waived_by: Mapped[str | None] = mapped_column(String(120))
    waiver_reason: Mapped[str | None] = mapped_column(Text)


class FeeItem(Base):
    """One fee (收费项目) a body charges for one of its approval items, on one bill."""

    __tablename__ = "fee_items"
    __table_args__ = (
        Index("ix_fee_items_case_item", "case_id", "item_key", "department"),
        Index("ix_fee_items_department", "department"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill_id: Mapped[str] = mapped_column(ForeignKey("bills.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    item_key: Mapped[str] = mapped_column(String(300))
    item_name: Mapped[str | None] = mapped_column(String(255))
    department: Mapped[str] = mapped_column(String(120))
    fee_name: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(Text)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    payer: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(120))


class Payment(Base):
    """One payment of a bill through a gateway. `reference` is the gateway's (支付流水号) and
    unique: a confirmation for a reference already confirmed changes nothing."""

    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill_id: Mapped[str] = mapped_column(ForeignKey("bills.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))  # window | online
    reference: Mapped[str] = mapped_column(String(120), unique=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))  # pending | paid | refunded | abandoned
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(120))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
