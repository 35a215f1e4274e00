"""Project work groups (项目工作群) and their questions (the 24-hour rule): issue 13."""
from __future__ import annotations

from flask import Blueprint

from api.operation import operation
from api.runtime import runtime
from api.schemas.cases import CaseSchema, StartedCaseSchema
from api.schemas.projects import (AnswerSchema, AskSchema, CoordinateSchema, EnterpriseTokenSchema, EnterpriseUserSchema,
                                  InboxQuerySchema, InboxSchema, MembersChangeSchema, ProjectCaseStartSchema,
                                  ProjectCreateSchema, ProjectDetailSchema, ProjectListSchema, ProjectQuerySchema,
                                  ProjectSchema, QuestionListSchema, QuestionSchema, RemoveSchema, RestoreSchema)
from api.schemas.tasks import dump_tasks
from engine.adapters import project_store
from engine.services import projects, questions

blueprint = Blueprint("projects", __name__)
TAGS = ["projects"]
Q_TAGS = ["questions"]


def _detail(uow, actor, code):  # type: ignore[no-untyped-def]
    return ProjectDetailSchema().dump(projects.detail(uow, actor, code))


@blueprint.get("/projects")
@operation("Projects in work groups the caller may see", tags=TAGS, query=ProjectQuerySchema,
           response=ProjectListSchema,
           description="Newest first. Members see their groups' projects, 投促局/发改局 and windows their region's, "
                       "agents the projects assigned to them, enterprise users their own. Filters: state, region "
                       "(with the regions below), department (a member body).")
def list_projects(actor, query):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        rows, total = projects.list_projects(uow, actor, **query)
        counts = project_store.counts_by_project(uow, [p.code for p in rows])
        items = [projects.project_dict(p, counts[p.code], uow.organisation) for p in rows]
    return ProjectListSchema().dump({"items": items, "total": total})


@blueprint.post("/projects")
@operation("Add a project to a work group (投促局)", tags=TAGS, body=ProjectCreateSchema, response=ProjectDetailSchema,
           status=201, conflicts=True,
           description="Staff of the region's investment promotion bureau (a body with role `promoter`) or admins. "
                       "Members default to every department of the region (window and bureaus, not the government "
                       "nor utilities). 409 when the project has a work group already.")
def add_project(actor, body):  # type: ignore[no-untyped-def]
    return ProjectDetailSchema().dump(projects.add_project_detail(runtime().unit_of_work(), actor, body)), 201


@blueprint.get("/projects/<code>")
@operation("A project: facts, members, cases, open 补正 requests, questions, timeline", tags=TAGS,
           response=ProjectDetailSchema)
def get_project(actor, code):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        return _detail(uow, actor, code)


@blueprint.post("/projects/<code>/members")
@operation("Add or remove member bodies, or assign the agent (投促局 or 发改局)", tags=TAGS,
           body=MembersChangeSchema, response=ProjectDetailSchema, conflicts=True,
           description="409 when a body leaving still owes an answer, or the project was removed.")
def change_members(actor, body, code):  # type: ignore[no-untyped-def]
    return ProjectDetailSchema().dump(projects.change_members_detail(runtime().unit_of_work(), actor, code, body))


@blueprint.post("/projects/<code>/remove")
@operation("Remove a project from its work group (发改局): 办结, 停滞 or 企业放弃", tags=TAGS, body=RemoveSchema,
           response=ProjectSchema, conflicts=True,
           description="Closes its open questions (their clocks stop); recorded; restorable.")
def remove_project(actor, body, code):  # type: ignore[no-untyped-def]
    return ProjectSchema().dump(projects.remove_project_dict(runtime().unit_of_work(), actor, code, body["reason"],
                                                             body.get("note", "")))


@blueprint.post("/projects/<code>/restore")
@operation("Restore a removed project to its work group (发改局)", tags=TAGS, body=RestoreSchema,
           body_required=False, response=ProjectSchema, conflicts=True)
def restore_project(actor, body, code):  # type: ignore[no-untyped-def]
    return ProjectSchema().dump(projects.restore_project_dict(runtime().unit_of_work(), actor, code,
                                                              body.get("note", "")))


@blueprint.post("/projects/<code>/cases")
@operation("Start the project's agent-handled case (its agent, or 投促局 handing it over)", tags=TAGS,
           body=ProjectCaseStartSchema, body_required=False, response=StartedCaseSchema, status=201,
           responses={200: ("the project's open case of this process, `created: false`", StartedCaseSchema)},
           conflicts=True,
           description="The case is started in the name of the project's agent (who drives it), keyed by the "
                       "project code, with the project's facts as the registration's starting point.")
def start_case(actor, body, code):  # type: ignore[no-untyped-def]
    started = projects.start_project_case(runtime().unit_of_work(), actor, code, body["process_key"], body["variables"])
    result = {**CaseSchema().dump(started.case), "created": started.created,
              "open_tasks": dump_tasks(started.open_tasks)}
    return result, 201 if started.created else 200


@blueprint.post("/projects/<code>/enterprise-users")
@operation("Create the enterprise contact's user for a project (its agent)", tags=TAGS, body=EnterpriseUserSchema,
           response=EnterpriseTokenSchema, status=201, conflicts=True,
           description="Role `enterprise`, scoped to the project: reads its progress, asks questions, answers "
                       "补正 requests. The token is shown once; an existing enterprise user gains the project.")
def create_enterprise_user(actor, body, code):  # type: ignore[no-untyped-def]
    token = projects.create_enterprise_user(runtime().unit_of_work(), actor, body["name"], code)
    return EnterpriseTokenSchema().dump({"name": body["name"], "project_code": code, "token": token}), 201


@blueprint.get("/projects/<code>/questions")
@operation("A project's questions with every addressed body's clock and answer", tags=Q_TAGS,
           response=QuestionListSchema)
def list_questions(actor, code):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        items = questions.list_for_project(uow, actor, code)
    return QuestionListSchema().dump({"items": items, "total": len(items)})


@blueprint.post("/projects/<code>/questions")
@operation("Ask a question to one or more member bodies (enterprise contact, agent or member)", tags=Q_TAGS,
           body=AskSchema, response=QuestionSchema, status=201, conflicts=True,
           description="Each addressed body gets its own clock: the region's question_hours (24 by default) "
                       "natural hours; yellow at three quarters, red at the limit, then coordination levels.")
def ask(actor, body, code):  # type: ignore[no-untyped-def]
    return QuestionSchema().dump(questions.ask_shown(runtime().unit_of_work(), actor, code, body)), 201


@blueprint.post("/questions/<int:question_id>/answer")
@operation("Answer a question for the caller's body: a concrete answer and a preliminary opinion", tags=Q_TAGS,
           body=AnswerSchema, response=QuestionSchema, conflicts=True,
           description="Both fields are required (422 naming the missing one). 409 when the body answered already "
                       "or the question was closed.")
def answer(actor, body, question_id):  # type: ignore[no-untyped-def]
    return QuestionSchema().dump(questions.answer_shown(runtime().unit_of_work(), actor, question_id, body))


@blueprint.post("/questions/<int:question_id>/coordinate")
@operation("Record an overdue answer as coordinated at its current level (the coordinating body)", tags=Q_TAGS,
           body=CoordinateSchema, response=QuestionSchema, conflicts=True,
           description="As for approval items: no further level is raised; the body still owes its answer.")
def coordinate(actor, body, question_id):  # type: ignore[no-untyped-def]
    return QuestionSchema().dump(questions.coordinate_shown(runtime().unit_of_work(), actor, question_id,
                                                            body["department"], body.get("note", "")))


@blueprint.get("/questions")
@operation("Questions the caller's body must answer or coordinates", tags=Q_TAGS, query=InboxQuerySchema,
           response=InboxSchema,
           description="Staff, leaders and government users of a body: the answers it owes, soonest due first, and "
                       "the overdue ones whose coordination level is addressed to it (a leaders' level: leaders only).")
def inbox(actor, query):  # type: ignore[no-untyped-def]
    with runtime().unit_of_work(write=False) as uow:
        items = questions.inbox(uow, actor, query.get("state"))
    return InboxSchema().dump({"items": items, "total": len(items)})
