"""The tables of project work groups (项目工作群) and their questions (issue 13, migration 0013).

A project is keyed by its national project code (项目代码), the business key its cases carry, so
every case of the project is linked by that code without a column on `cases`. Questions have one
row per addressed body (`QuestionAddressee`), because each body answers on its own clock.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, BigId, JsonType, UTCDateTime


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
