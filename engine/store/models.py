"""The tables: definitions, cases, their task rows and history, users. SQLAlchemy 2 typed models."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        TypeDecorator, UniqueConstraint)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import false

JsonType = JSON().with_variant(JSONB(), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


class Base(DeclarativeBase):
    pass


class Deployment(Base):
    """One uploaded BPMN file, kept byte for byte."""

    __tablename__ = "deployments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    bpmn_xml: Mapped[str] = mapped_column(Text)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deployed_by: Mapped[str] = mapped_column(String(120))


class Definition(Base):
    """One version of one executable process; its parsed spec is stored so no request re-parses XML."""

    __tablename__ = "definitions"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_definition_key_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    spec_json: Mapped[str] = mapped_column(Text)
    elements: Mapped[dict] = mapped_column(JsonType, default=dict)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deployed_by: Mapped[str] = mapped_column(String(120))


class Case(Base):
    """A running or ended process instance for one project (business key = project code)."""

    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"))
    process_key: Mapped[str] = mapped_column(String(255), index=True)
    process_version: Mapped[int] = mapped_column(Integer)
    business_key: Mapped[str] = mapped_column(String(120), index=True)
    # Set while the case is open, NULL after: makes "one open case per key and project" a constraint.
    open_key: Mapped[str | None] = mapped_column(String(400), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), index=True)
    project: Mapped[dict] = mapped_column(JsonType, default=dict)
    started_by: Mapped[str] = mapped_column(String(120), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stage: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(Text)
    # Once it has had a timed task or a timer job: only then does saving it look for SLA rows,
    # escalations and jobs to reschedule (most commands of an untimed case need none of that).
    timed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The region whose window accepted the case (the agent's department's region; issue 10,
    # migration 0007). NULL only for cases from before regions: read as the default region.
    region: Mapped[str | None] = mapped_column(String(40), index=True)


class Task(Base):
    """A task a person must do, mirrored from the workflow so inboxes read indexed rows."""

    __tablename__ = "tasks"
    __table_args__ = (
        # A department's inbox (`WHERE department, state ORDER BY created_at, id`) and its count
        # read this index alone: rows come out in page order, no sort (migration 0004).
        Index("ix_tasks_inbox", "department", "state", "created_at", "id"),
        Index("ix_tasks_assignee_state", "assignee", "state"),
        Index("ix_tasks_case_state", "case_id", "state"),
        Index("ix_tasks_sla_state", "sla", "state"),
        # The console's inbox (migration 0010): counts by warning level and claimant, and the
        # soonest-due order, from the index alone.
        Index("ix_tasks_console_inbox", "department", "state", "due_at", "sla", "assignee", "created_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(20), default="user")
    lane: Mapped[str | None] = mapped_column(String(255))
    department: Mapped[str | None] = mapped_column(String(120))
    assignee: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(20))
    form_key: Mapped[str | None] = mapped_column(String(120))
    item: Mapped[dict | None] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(120))
    data: Mapped[dict | None] = mapped_column(JsonType)
    error: Mapped[str | None] = mapped_column(Text)
    time_limit: Mapped[str | None] = mapped_column(String(60))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sla: Mapped[str | None] = mapped_column(String(10))
    # The task's clock (issue 5, migration 0002): when yellow starts, when the limit last
    # (re)started counting, when it was stopped (补正 / special procedure), the item's rules.
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clock_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clock_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    time_rules: Mapped[dict | None] = mapped_column(JsonType)
    # The provisional calendar years (no official schedule yet) the due date and warning were
    # counted on, e.g. "2027" or "2027,2028"; NULL when only official years were used. Loading
    # such a year recomputes exactly these rows (issue 10, migration 0008).
    due_provisional_years: Mapped[str | None] = mapped_column(String(60), index=True)
    # What the task's form starts with (issue 10, migration 0009): e.g. the registration form
    # from the project the agent gave at start; merged under the submitted data on completion.
    prefill: Mapped[dict | None] = mapped_column(JsonType)

    @property
    def due_provisional(self) -> bool:
        """Whether the due date is provisional (shown as 预计): it moves when its year is loaded."""
        return self.due_at is not None and self.due_provisional_years is not None


class Event(Base):
    """Append-only history of a case: who did what, when, with which data."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    type: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str | None] = mapped_column(String(120))
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict | None] = mapped_column(JsonType)


class User(Base):
    """A person or system with an API token; only the token's hash is kept."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Console sign-in (issue 11, migration 0010): a werkzeug scrypt hash (NULL: API token only),
    # consecutive failed sign-ins and the lock-out they caused.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --------------------------------------------------------------------------- time (issue 5)


class CalendarYear(Base):
    """One version of one year's official working-day calendar (YearCalendar JSON).

    Rows are never updated: loading a year adds a version; the highest version is in force.
    """

    __tablename__ = "calendar_years"
    __table_args__ = (UniqueConstraint("year", "version", name="uq_calendar_year_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JsonType)
    source: Mapped[str | None] = mapped_column(String(120))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    loaded_by: Mapped[str] = mapped_column(String(120))


class TimerJob(Base):
    """A case that must be woken at `due_at`: a BPMN timer, an SLA transition, an escalation step.

    Written at `CaseWorkflow.save()` (and by the worker); claimed by workers with a lease, so a
    worker that dies mid-batch only delays its jobs until the lease runs out. Jobs are hints:
    the worker re-checks everything under the case lock, so running one twice changes nothing.
    """

    __tablename__ = "timer_jobs"
    __table_args__ = (
        UniqueConstraint("case_id", "kind", "task_id", name="uq_timer_job"),
        Index("ix_timer_jobs_due", "due_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # timer | sla | escalation
    task_id: Mapped[str] = mapped_column(String(36))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class Escalation(Base):
    """One level of three-level coordination (三级协调) raised for an overdue task."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("task_id", "level", name="uq_escalation_task_level"),
        Index("ix_escalations_department_status", "department", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    level: Mapped[int] = mapped_column(Integer)
    department: Mapped[str] = mapped_column(String(120))  # who must act at this level
    role: Mapped[str] = mapped_column(String(20))  # coordinator | leaders
    item_department: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), index=True)  # open | escalated | resolved
    reason: Mapped[str | None] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(120))


class StartTimer(Base):
    """A timer start event of a deployed process: when its next case starts.

    One row per (process key, start event) of the latest version; deploying a new version
    replaces the key's rows. Claimed by workers with a lease, like `TimerJob`; the case it
    starts has a business key made from the due instant, so a start run twice (a worker
    killed after commit, before it noted the start) finds the case already open.
    """

    __tablename__ = "start_timers"
    __table_args__ = (
        UniqueConstraint("process_key", "element_id", name="uq_start_timer"),
        Index("ix_start_timers_due", "due_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(255))
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"))
    element_id: Mapped[str] = mapped_column(String(255))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    interval_seconds: Mapped[float | None] = mapped_column(Float)  # cycles only
    remaining: Mapped[int | None] = mapped_column(Integer)  # cycles left; None: unbounded
    started: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


# --------------------------------------------------------------------------- incidents (issue 9 §2)


class Incident(Base):
    """A step of a case that failed and waits for an operator (as in Camunda and Flowable).

    One open incident per failed step (`task_id`), or per case for a failure of the background
    worker itself (`kind` = job). It stays open until the step runs on a retry, the token is
    moved away, or the case ends; `retries` counts the operators' retries.
    """

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_state_created", "state", "created_at"),
        Index("ix_incidents_case_state", "case_id", "state"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    process_key: Mapped[str] = mapped_column(String(255), index=True)
    business_key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # step | job
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(255), index=True)
    element_name: Mapped[str | None] = mapped_column(String(255))
    department: Mapped[str | None] = mapped_column(String(120), index=True)
    error_type: Mapped[str] = mapped_column(String(120))
    message: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))  # api | worker
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(120))
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    last_retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_retried_by: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(20))  # open | resolved
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    resolution: Mapped[str | None] = mapped_column(String(20))  # retried | moved | cancelled


# --------------------------------------------------------------------------- regions (issue 10)


class OrganisationVersion(Base):
    """One loaded version of the organisation file (regions, bodies, coordination), kept whole.

    Rows are never updated: `onewindow organisation load` adds a version; the highest is in
    force. With no row at all, the configured file is in force.
    """

    __tablename__ = "organisation_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(255))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    loaded_by: Mapped[str] = mapped_column(String(120))


# --------------------------------------------------------------------------- console (issue 11)


class ConsoleSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is kept, so a
    database leak yields no usable session. Signing out, a new password or a revoked user
    deletes the rows."""

    __tablename__ = "console_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --------------------------------------------------------------------------- fees (issue 14)

from engine.adapters.fee_tables import Bill, FeeItem, Payment  # noqa: E402,F401 (registers the fee tables)
