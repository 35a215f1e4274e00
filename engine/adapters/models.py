"""The tables: definitions, cases, their task rows and history, users. SQLAlchemy 2 typed models."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        TypeDecorator, UniqueConstraint)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import false
from sqlalchemy.sql import true as sa_true

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
        # ... and its total (`count(*)`) this much smaller one: equal keys are stored once on
        # PostgreSQL, so counting 25,000 ready rows reads 25 pages, not 369 (migration 0017).
        Index("ix_tasks_inbox_count", "department", "state"),
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
        # escalations by body and level in a period (statistics, migration 0015)
        Index("ix_escalations_item_raised", "item_department", "raised_at", "level"),
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


# --------------------------------------------------------------------------- external tasks (issue 12)


class ExternalTaskRow(Base):
    """A task a worker outside the engine carries out (`camunda:type="external"`), as Camunda's
    external tasks: fetched and locked by topic, completed, failed or ended with a BPMN error.

    One row per waiting external task; its id is the SpiffWorkflow task's. The row goes when the
    task completes or is cancelled (the case's history keeps what happened). `retries` is None
    until a worker reports a failure; 0 means an incident is open and nobody can fetch it.
    `variables` is the task's data when the row was last synchronised, so fetching needs no
    workflow.
    """

    __tablename__ = "external_tasks"
    __table_args__ = (Index("ix_external_tasks_topic_lock", "topic", "lock_expires_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    definition_id: Mapped[int] = mapped_column(Integer)
    process_key: Mapped[str] = mapped_column(String(255))
    business_key: Mapped[str] = mapped_column(String(120))
    element_id: Mapped[str] = mapped_column(String(255))
    element_name: Mapped[str | None] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(255))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(255))
    lock_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retries: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[str | None] = mapped_column(Text)
    variables: Mapped[dict] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --------------------------------------------------------------------------- case migrations (issue 12)


class CaseMigration(Base):
    """Moving the open cases of one process version to another (`POST /migrations`,
    `onewindow migrate`): the plan (element mapping) and its progress. Its cases are
    `CaseMigrationCase` rows, moved in batches, each case in its own transaction."""

    __tablename__ = "case_migrations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(255), index=True)
    from_version: Mapped[int] = mapped_column(Integer)
    to_version: Mapped[int] = mapped_column(Integer)
    from_definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"))
    to_definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"))
    mapping: Mapped[dict] = mapped_column(JsonType, default=dict)  # explicit pairs {from element: to element}
    status: Mapped[str] = mapped_column(String(20), index=True)  # running | completed
    batch_size: Mapped[int] = mapped_column(Integer, default=50)
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(120))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseMigrationCase(Base):
    """One case of a migration: pending, migrated, skipped (it could not move, `reason` says
    why) or failed (the move raised; the case was left as it was)."""

    __tablename__ = "case_migration_cases"
    __table_args__ = (
        UniqueConstraint("migration_id", "case_id", name="uq_case_migration_case"),
        Index("ix_case_migration_cases_status", "migration_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    migration_id: Mapped[int] = mapped_column(ForeignKey("case_migrations.id"))
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --------------------------------------------------------------------------- work groups (issue 13)


class Project(Base):
    """A project's work group: added by the region's 投促局, removed (and restorable) by its 发改局."""

    __tablename__ = "projects"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    region: Mapped[str] = mapped_column(String(40), index=True)
    facts: Mapped[dict] = mapped_column(JsonType, default=dict)  # investment, location, industry...
    enterprise: Mapped[dict] = mapped_column(JsonType, default=dict)  # name, credit_code
    contact: Mapped[dict] = mapped_column(JsonType, default=dict)  # name, phone
    agent: Mapped[str | None] = mapped_column(String(120), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)  # active | removed
    removal_reason: Mapped[str | None] = mapped_column(String(20))
    removal_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(120))


class ProjectMember(Base):
    """A body sitting in a project's work group."""

    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_code", "department", name="uq_project_member"),
                      Index("ix_project_members_department", "department"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_code: Mapped[str] = mapped_column(ForeignKey("projects.code"), index=True)
    department: Mapped[str] = mapped_column(String(120))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by: Mapped[str] = mapped_column(String(120))


class ProjectContact(Base):
    """An enterprise user (role `enterprise`) and the project it speaks for."""

    __tablename__ = "project_contacts"
    __table_args__ = (UniqueConstraint("project_code", "user_name", name="uq_project_contact"),
                      Index("ix_project_contacts_user", "user_name"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_code: Mapped[str] = mapped_column(ForeignKey("projects.code"), index=True)
    user_name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(120))


class Question(Base):
    """A question on a project (企业诉求), addressed to one or more bodies of its group."""

    __tablename__ = "questions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_code: Mapped[str] = mapped_column(ForeignKey("projects.code"), index=True)
    text: Mapped[str] = mapped_column(Text)
    asked_by: Mapped[str] = mapped_column(String(120))
    asked_as: Mapped[str] = mapped_column(String(20))  # enterprise | agent | member
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20), index=True)  # open | answered | closed
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str | None] = mapped_column(Text)


class QuestionAddressee(Base):
    """One addressed body's side of a question: its own clock (natural hours from the question),
    warning (normal → yellow → red), coordination level and its answer with 初步意见."""

    __tablename__ = "question_addressees"
    __table_args__ = (UniqueConstraint("question_id", "department", name="uq_question_addressee"),
                      Index("ix_question_addressees_due", "state", "next_at"),
                      Index("ix_question_addressees_department", "department", "state"),
                      Index("ix_question_addressees_coordinator", "level_department", "state"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    project_code: Mapped[str] = mapped_column(String(40))
    department: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(20))  # open | answered | closed
    limit_hours: Mapped[int] = mapped_column(Integer)
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sla: Mapped[str] = mapped_column(String(10))  # normal | yellow | red
    level: Mapped[int] = mapped_column(Integer, default=0)  # coordination level reached (0: none)
    level_department: Mapped[str | None] = mapped_column(String(120))  # who coordinates at `level`
    level_role: Mapped[str | None] = mapped_column(String(20))  # coordinator | leaders
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the worker must look next
    answer: Mapped[str | None] = mapped_column(Text)
    preliminary_opinion: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(120))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_time: Mapped[bool | None] = mapped_column(Boolean)


class ProjectEvent(Base):
    """A project's timeline: added, members changed, questions asked, answered, overdue, removed..."""

    __tablename__ = "project_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_code: Mapped[str] = mapped_column(ForeignKey("projects.code"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    type: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str | None] = mapped_column(String(120))
    question_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict | None] = mapped_column(JsonType)


# --------------------------------------------------------------------------- notifications (issue 13)


class OutboxEvent(Base):
    """Something a person must act on, written in the same transaction as the change that caused
    it (`engine.services.outbox.publish`), so an event exists exactly when its change does.

    The worker fans each row out once (`dispatched_at`): in-app notifications for the users it
    resolves then, and one `webhook_deliveries` row per subscribed hook. `id` orders all events;
    `case_seq` numbers a case's events 1, 2, 3, ... (written under the case lock).
    """

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_pending", "dispatched_at", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(60), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    case_id: Mapped[str | None] = mapped_column(String(36), index=True)
    project_code: Mapped[str | None] = mapped_column(String(120))
    case_seq: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict] = mapped_column(JsonType, default=dict)
    recipient_users: Mapped[list | None] = mapped_column(JsonType)
    recipient_departments: Mapped[list | None] = mapped_column(JsonType)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notification(Base):
    """One in-app notification for one user (the console header's bell, `GET /notifications`)."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_name", "event_id", name="uq_notification_user_event"),
        Index("ix_notifications_user_read", "user_name", "read_at", "id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_name: Mapped[str] = mapped_column(String(120))
    event_id: Mapped[str] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(500))
    case_id: Mapped[str | None] = mapped_column(String(36))
    task_id: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[dict | None] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Webhook(Base):
    """An integrator's endpoint: which event types it wants and the secret its bodies are signed with."""

    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(JsonType, default=list)  # ["*"]: every type
    secret: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(120))


class WebhookDelivery(Base):
    """One event to one hook: pending (with its next attempt; the schedule is here, so it
    survives restarts), delivered, or dead (retried for 24 h in vain: a dead letter).

    A case's deliveries to a hook go in event order: one waits while an earlier one of the same
    `ordering_key` to the same hook is pending or dead (`engine.services.webhooks`).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_pk", name="uq_webhook_delivery"),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "webhook_id", "ordering_key", "state", "event_pk"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    event_pk: Mapped[int] = mapped_column(BigId, ForeignKey("outbox_events.id"))
    event_id: Mapped[str] = mapped_column(String(36))
    ordering_key: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))  # pending | delivered | dead | discarded
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --------------------------------------------------------------------------- statistics (issue 14)


class StatItem(Base):
    """One approval item of a case (or one body's step outside items) as the statistics count it.

    A summary of the item's task rows, rewritten in the same transaction as any change to them
    (`engine/services/statistics.py`, upkeep before commit), so department figures over millions
    of task rows read one narrow, indexed table (migration 0015). `onewindow stats rebuild`
    recomputes every row from the task rows.
    """

    __tablename__ = "stat_items"
    __table_args__ = (
        UniqueConstraint("case_id", "key", name="uq_stat_item"),
        # decided in a period, per body: the counts and the histogram of working days, from the index
        Index("ix_stat_items_decided", "decided_at", "department", "outcome", "days_used", "on_time", "deemed",
              "limit_days"),
        Index("ix_stat_items_received", "received_at", "department", "corrections"),
        # questions to bodies (the 24-hour answer rule): a few rows among millions, found by form first
        Index("ix_stat_items_form", "form_key", "received_at", "department", "hours_used"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    key: Mapped[str] = mapped_column(String(400))  # the item's code, or `element@department` for a step
    kind: Mapped[str] = mapped_column(String(10))  # item | step
    name: Mapped[str | None] = mapped_column(String(255))
    stage: Mapped[str | None] = mapped_column(String(120))
    track: Mapped[str | None] = mapped_column(String(20))
    batch: Mapped[int | None] = mapped_column(Integer)
    department: Mapped[str | None] = mapped_column(String(120))
    form_key: Mapped[str | None] = mapped_column(String(120))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20))  # open | approved | refused | withdrawn | completed
    days_used: Mapped[int | None] = mapped_column(Integer)
    elapsed_days: Mapped[int | None] = mapped_column(Integer)
    stop_days: Mapped[int] = mapped_column(Integer, default=0)
    limit_days: Mapped[int | None] = mapped_column(Integer)
    time_limit: Mapped[str | None] = mapped_column(String(60))
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    deemed: Mapped[bool] = mapped_column(Boolean, default=False)
    corrections: Mapped[int] = mapped_column(Integer, default=0)
    refusals: Mapped[int] = mapped_column(Integer, default=0)
    hours_used: Mapped[float | None] = mapped_column(Float)


class StatCase(Base):
    """One case as the savings and yearly figures count it, kept with the case like `StatItem`."""

    __tablename__ = "stat_cases"
    __table_args__ = (
        Index("ix_stat_cases_closed", "closed_at", "region"),
        Index("ix_stat_cases_accepted", "accepted_at", "region"),
        # the yearly figures read these alone (index-only scans)
        Index("ix_stat_cases_accepted_year", "accepted_year", "region", "investment", "batches", "stage_items"),
        Index("ix_stat_cases_closed_year", "closed_year", "region", "project_type", "elapsed_days"),
    )
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    process_key: Mapped[str] = mapped_column(String(255))
    region: Mapped[str | None] = mapped_column(String(40))
    project_type: Mapped[str | None] = mapped_column(String(20))
    investment: Mapped[float | None] = mapped_column(Float)  # 万元, from the registration form
    status: Mapped[str] = mapped_column(String(20))  # open | completed | terminated
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_year: Mapped[int | None] = mapped_column(Integer)  # in Beijing time
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 办结 only, not 终止
    closed_year: Mapped[int | None] = mapped_column(Integer)
    batches: Mapped[int] = mapped_column(Integer, default=0)  # 分期报建 batches
    items: Mapped[int] = mapped_column(Integer, default=0)
    # {"stage": items} as canonical JSON text: cases share a few profiles, so `GROUP BY` it is cheap
    stage_items: Mapped[str | None] = mapped_column(Text)
    elapsed_days: Mapped[int | None] = mapped_column(Integer)
    serial_limit_days: Mapped[int | None] = mapped_column(Integer)
    serial_actual_days: Mapped[int | None] = mapped_column(Integer)
    body_days: Mapped[int | None] = mapped_column(Integer)
    critical_days: Mapped[int | None] = mapped_column(Integer)
    stop_days: Mapped[int] = mapped_column(Integer, default=0)


# --------------------------------------------------------------------------- fees (issue 14)


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
