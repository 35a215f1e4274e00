"""Case migrations (`case_migrations`, `case_migration_cases`) as `uow.migrations`: a migration
and the cases it moves, one row each, for `engine.services.case_migration` (the plan, the dry
run and the move are the service's; here is only what is read and written)."""
from __future__ import annotations

from sqlalchemy import func, select

from engine.adapters.models import CaseMigration, CaseMigrationCase
from engine.adapters.repositories import Repository


class MigrationRepository(Repository[CaseMigration]):
    """Migrations (`get`, `add_now`) and their per-case rows."""

    model = CaseMigration

    def item(self, item_id: int) -> CaseMigrationCase | None:
        """One case of a migration."""
        return self.session.get(CaseMigrationCase, item_id)

    def pending_item_ids(self, migration_id: int, limit: int) -> list[int]:
        """The next cases to move, in the order they were recorded."""
        return list(self.session.scalars(
            select(CaseMigrationCase.id).where(CaseMigrationCase.migration_id == migration_id,
                                               CaseMigrationCase.status == "pending")
            .order_by(CaseMigrationCase.id).limit(limit)))

    def pending_count(self, migration_id: int) -> int:
        return self.session.scalar(select(func.count()).where(CaseMigrationCase.migration_id == migration_id,
                                                               CaseMigrationCase.status == "pending")) or 0

    def oldest_running(self) -> int | None:
        """The id of the oldest migration still running (None: none runs)."""
        return self.session.scalar(select(CaseMigration.id).where(CaseMigration.status == "running")
                                   .order_by(CaseMigration.id).limit(1))

    def counts(self, migration_id: int) -> dict[str, int]:
        """A migration's cases by status."""
        return dict(self.session.execute(
            select(CaseMigrationCase.status, func.count()).where(CaseMigrationCase.migration_id == migration_id)
            .group_by(CaseMigrationCase.status)).all())

    def items_in(self, migration_id: int, statuses: tuple[str, ...], limit: int) -> list[CaseMigrationCase]:
        """A migration's cases in these statuses, in the order they were recorded."""
        return list(self.session.scalars(
            select(CaseMigrationCase).where(CaseMigrationCase.migration_id == migration_id,
                                            CaseMigrationCase.status.in_(statuses))
            .order_by(CaseMigrationCase.id).limit(limit)))
