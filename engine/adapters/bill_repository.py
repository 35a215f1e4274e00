"""One-window fees' rows (`bills`, `fee_items`, `payments`) as `uow.bills`: the reads and writes
`engine.services.fees` needs, by what they mean. The rules (who may, which transitions) stay in
the service and `engine.domain.fees`; here is only SQL."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from engine.adapters.models import Bill, Case, FeeItem, Payment
from engine.adapters.repositories import Repository


class BillRepository(Repository[Bill]):
    """Bills with their fee items and payments (one table group: a bill is never read without them)."""

    model = Bill

    def fresh(self, bill_id: str) -> Bill | None:
        """The bill as committed now (read after its case was locked)."""
        return self.session.get(Bill, bill_id, populate_existing=True)

    def by_number(self, number: str) -> Bill | None:
        return self.session.scalar(select(Bill).where(Bill.number == number))

    def by_open_key(self, open_key: str) -> Bill | None:
        """The due bill of a case or batch (`bills.open_key`, unique while the bill is due)."""
        return self.session.scalar(select(Bill).where(Bill.open_key == open_key))

    def of_case(self, case_id: str) -> list[Bill]:
        """A case's bills, in no particular order (the service sorts them for people)."""
        return list(self.session.scalars(select(Bill).where(Bill.case_id == case_id)))

    def fee_item(self, fee_item_id: int) -> FeeItem | None:
        return self.session.get(FeeItem, fee_item_id)

    def fee_items(self, bill_ids: list[str]) -> list[FeeItem]:
        """The fee items of these bills, in the order they were set."""
        if not bill_ids:
            return []
        return list(self.session.scalars(select(FeeItem).where(FeeItem.bill_id.in_(bill_ids)).order_by(FeeItem.id)))

    def has_fee_items(self, bill_id: str) -> bool:
        return self.session.scalar(select(FeeItem.id).where(FeeItem.bill_id == bill_id).limit(1)) is not None

    def payments(self, bill_ids: list[str]) -> list[Payment]:
        """The payments of these bills, oldest first."""
        if not bill_ids:
            return []
        return list(self.session.scalars(select(Payment).where(Payment.bill_id.in_(bill_ids)).order_by(Payment.id)))

    def pending_payment(self, bill_id: str) -> Payment | None:
        """The bill's latest payment still waiting for the provider."""
        return self.session.scalar(select(Payment).where(Payment.bill_id == bill_id, Payment.status == "pending")
                                   .order_by(Payment.id.desc()).limit(1))

    def payment_by_reference(self, reference: str) -> Payment | None:
        return self.session.scalar(select(Payment).where(Payment.reference == reference))

    def mark_payments(self, reference: str, status: str) -> None:
        """Set the status of the payment(s) with this gateway reference."""
        self.session.execute(Payment.__table__.update().where(Payment.reference == reference).values(status=status))

    def of_item(self, case_id: str, item_key: str, department: str | None) -> list[Any]:
        """(number, status, total_fen) of the bills carrying fees of one approval item of one body."""
        return list(self.session.execute(
            select(Bill.number, Bill.status, Bill.total_fen).join(FeeItem, FeeItem.bill_id == Bill.id)
            .where(FeeItem.case_id == case_id, FeeItem.item_key == item_key, FeeItem.department == department)
            .distinct()))

    def listing(self, status: str | None, *, started_by: str | None = None, regions: list[str] | None = None,
                with_unset_region: bool = False, department: str | None = None,
                limit: int = 500) -> list[tuple[Bill, Case]]:
        """(bill, case) pairs, oldest first: of one status (None: all), narrowed by the case's
        agent (`started_by`), its region (`regions`; `with_unset_region`: cases without one too)
        or a body carrying fees on the bill (`department`) — the caller decides which applies."""
        query = select(Bill, Case).join(Case, Case.id == Bill.case_id)
        if status is not None:
            query = query.where(Bill.status == status)
        if started_by is not None:
            query = query.where(Case.started_by == started_by)
        if regions is not None:
            in_region = Case.region.in_(regions)
            query = query.where(or_(in_region, Case.region.is_(None)) if with_unset_region else in_region)
        if department is not None:
            query = query.where(Bill.id.in_(select(FeeItem.bill_id).where(FeeItem.department == department)))
        return [(bill, case) for bill, case in
                self.session.execute(query.order_by(Bill.created_at, Bill.number).limit(limit))]

    def departments(self, bill_ids: list[str]) -> dict[str, set[str]]:
        """The bodies carrying fees on each bill."""
        found: dict[str, set[str]] = {}
        if bill_ids:
            for bill_id, department in self.session.execute(
                    select(FeeItem.bill_id, FeeItem.department).where(FeeItem.bill_id.in_(bill_ids)).distinct()):
                found.setdefault(bill_id, set()).add(department)
        return found

    def settled_between(self, start: datetime, end: datetime,
                        departments: list[str] | None) -> list[tuple[Bill, FeeItem, Case]]:
        """(bill, fee item, case) of every bill paid, refunded or waived in [start, end] (the
        caller keeps what happened before `end`), of these bodies' fees (None: every body), by
        body, bill number and fee item."""
        query = (select(Bill, FeeItem, Case).join(FeeItem, FeeItem.bill_id == Bill.id)
                 .join(Case, Case.id == Bill.case_id)
                 .where(or_(Bill.paid_at.between(start, end), Bill.refunded_at.between(start, end),
                            Bill.waived_at.between(start, end))))
        if departments is not None:
            query = query.where(FeeItem.department.in_(departments))
        return [(bill, fee, case) for bill, fee, case in
                self.session.execute(query.order_by(FeeItem.department, Bill.number, FeeItem.id))]
