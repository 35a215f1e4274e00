"""In-app notifications (`notifications`) as `uow.notifications`: a user's list, unread count and
marking read, for `engine.services.notifications` (who is told what is decided there)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from engine.adapters.models import Notification
from engine.adapters.repositories import Repository


class NotificationRepository(Repository[Notification]):
    model = Notification

    def of_user(self, user_name: str, *, unread: bool = False, limit: int = 50,
                offset: int = 0) -> tuple[list[Notification], int]:
        """A page of the user's notifications, newest first (`unread`: only those not read), and
        how many there are in all."""
        base = select(Notification).where(Notification.user_name == user_name)
        if unread:
            base = base.where(Notification.read_at.is_(None))
        items = list(self.session.scalars(base.order_by(Notification.id.desc()).limit(limit).offset(offset)))
        total = self.session.scalar(select(func.count()).select_from(base.subquery())) or 0
        return items, total

    def unread_count(self, user_name: str) -> int:
        return self.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_name == user_name, Notification.read_at.is_(None))) or 0

    def mark_all_read(self, user_name: str, at: datetime, up_to: int | None = None) -> int:
        """Mark the user's unread notifications read at `at` (only ids up to `up_to`, when
        given), in one statement; returns how many."""
        query = update(Notification).where(Notification.user_name == user_name, Notification.read_at.is_(None))
        if up_to is not None:
            query = query.where(Notification.id <= up_to)
        result = self.session.execute(query.values(read_at=at).execution_options(synchronize_session=False))
        return int(result.rowcount or 0)
