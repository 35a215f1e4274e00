"""Work groups and questions over HTTP (issue 13): what each role may do (the README's matrix,
cell by cell), bad input named by field and changing nothing, members, removal and restore, the
per-region answer limit, and the CLI."""
from __future__ import annotations

import json
import pytest

from api.app import create_app
from engine.adapters import organisation_versions
from engine.services import timers
from engine.domain.organisation import DEFAULT_PATH
from tests.api.conftest import Users

CODE = "2026-510117-52-01-000016"
OTHER = "2026-510603-33-03-000007"  # a 旌阳区 project
API = "/api/v1"


@pytest.fixture
def people(runtime) -> Users:
    u = Users(runtime)
    for name, role, department in [
            ("root", "admin", None), ("dora", "designer", None), ("alice", "agent", None), ("bob", "agent", None),
            ("tcj", "staff", "county.tcj"), ("tcj-leader", "leader", "county.tcj"), ("fgj", "staff", "county.fgj"),
            ("zjj", "staff", "county.zjj"), ("zjj-leader", "leader", "county.zjj"), ("sthjj", "staff", "county.sthjj"),
            ("zwfw", "staff", "county.zwfw"), ("gov", "government", None), ("city-tcj", "staff", "city.tcj"),
            ("jy-tcj", "staff", "jingyang.tcj"), ("jy-fgj", "staff", "jingyang.fgj"), ("carol", "agent", "county.zwfw")]:
        u.create(name, role, department)
    return u


def call(client, people, who, method, path, expect, **kwargs):  # type: ignore[no-untyped-def]
    headers = people.header(who) if who else {}
    response = client.open(API + path, method=method, headers=headers, **kwargs)
    assert response.status_code == expect, (who, method, path, response.status_code, response.get_json())
    return response.get_json()


def project_body(code: str = CODE, **extra):  # type: ignore[no-untyped-def]
    return {"code": code, "name": "奥特莱斯郫县项目", "enterprise": {"name": "成都奥特莱斯商业管理有限公司"},
            "contact": {"name": "王雪", "phone": "13800000001"}, "agent": "alice",
            "members": ["county.zwfw", "county.fgj", "county.tcj", "county.zjj"], **extra}


@pytest.fixture
def group(client, people):  # type: ignore[no-untyped-def]
    call(client, people, "tcj", "POST", "/projects", 201, json=project_body())
    token = call(client, people, "alice", "POST", f"/projects/{CODE}/enterprise-users", 201, json={"name": "wx"})
    people.tokens["wx"] = token["token"]
    call(client, people, "jy-tcj", "POST", "/projects", 201, json=project_body(OTHER, agent=None, members=None))
    return CODE


def ask(client, people, who="wx", departments=("county.zjj",), expect=201):  # type: ignore[no-untyped-def]
    return call(client, people, who, "POST", f"/projects/{CODE}/questions", expect,
                json={"text": "能否同步办理？", "departments": list(departments)})


# --------------------------------------------------------------------------- adding


def test_bad_input_is_named_by_field_and_adds_nothing(client, people):
    cases = [({"code": "2026-51011-52-01-000016"}, "code"), ({"enterprise": {}}, "enterprise.name"),
             ({"contact": {"name": "王雪", "phone": "12"}}, "contact.phone"), ({"members": ["county.nope"]}, "members"),
             ({"agent": "zjj"}, "agent"), ({"agent": "ghost"}, "agent"), ({"name": ""}, "name"),
             ({"region": "jingyang"}, "region")]
    for change, field in cases:
        problem = call(client, people, "tcj", "POST", "/projects", 422, json={**project_body(), **change})
        assert field in problem["errors"], (change, problem)
    assert call(client, people, "root", "GET", "/projects", 200)["total"] == 0


def test_default_members_are_the_regions_departments_and_a_code_joins_once(client, people):
    body = project_body()
    del body["members"]
    created = call(client, people, "tcj", "POST", "/projects", 201, json=body)
    codes = {m["department"] for m in created["members"]}
    assert len(codes) == 16 and "county.zf" not in codes and "county.gdgs" not in codes and "county.zwfw" in codes
    assert created["region"] == "pidu" and created["members"][0]["department"] == "county.zwfw"
    call(client, people, "tcj", "POST", "/projects", 409, json=project_body())
    jingyang = call(client, people, "jy-tcj", "POST", "/projects", 201, json=project_body(OTHER, agent=None, members=None))
    assert jingyang["region"] == "jingyang" and len(jingyang["members"]) == 7  # 旌阳区: 8 bodies, not its government


def test_who_may_add_a_project(client, people):
    for who in ("fgj", "zjj", "zwfw", "alice", "dora", "gov"):
        call(client, people, who, "POST", "/projects", 403, json=project_body())
    call(client, people, None, "POST", "/projects", 401, json=project_body())
    call(client, people, "tcj-leader", "POST", "/projects", 201, json=project_body())
    # the city's 投促局 adds the city's projects (an agent of the county's window cannot serve them)
    problem = call(client, people, "city-tcj", "POST", "/projects", 422,
                   json=project_body("2026-510100-52-01-000001", agent="carol"))
    assert "county.zwfw" in problem["errors"]["agent"][0]
    call(client, people, "city-tcj", "POST", "/projects", 201, json=project_body("2026-510100-52-01-000001", agent=None,
                                                                               members=None))
    call(client, people, "root", "POST", "/projects", 201, json=project_body("2026-510117-52-01-000099", region="pidu"))


# --------------------------------------------------------------------------- reading (the matrix)


def test_who_sees_which_project(client, people, group):
    def listed(who):  # type: ignore[no-untyped-def]
        return {p["code"] for p in call(client, people, who, "GET", "/projects", 200)["items"]}
    assert listed("root") == listed("gov") == {CODE, OTHER}
    assert listed("tcj") == listed("fgj") == listed("zjj") == listed("zwfw") == listed("alice") == {CODE}
    assert listed("wx") == {CODE} and listed("jy-tcj") == listed("jy-fgj") == {OTHER}
    assert listed("sthjj") == set() and listed("bob") == set()  # not a member (this group has 4 bodies)
    call(client, people, "dora", "GET", "/projects", 403)
    call(client, people, None, "GET", "/projects", 401)
    for who in ("root", "gov", "tcj", "fgj", "zjj", "zwfw", "alice", "wx"):
        call(client, people, who, "GET", f"/projects/{CODE}", 200)
    for who in ("sthjj", "bob", "jy-tcj", "dora"):
        call(client, people, who, "GET", f"/projects/{CODE}", 403)
    call(client, people, "wx", "GET", f"/projects/{OTHER}", 403)
    call(client, people, "root", "GET", "/projects/2026-510117-52-01-000404", 404)
    found = call(client, people, "zjj", "GET", "/projects", 200, query_string={"department": "county.zjj",
                                                                             "state": "active", "region": "chengdu"})
    assert [p["code"] for p in found["items"]] == [CODE] and found["items"][0]["member_count"] == 4
    call(client, people, "zjj", "GET", "/projects", 422, query_string={"state": "gone"})


def test_the_enterprise_does_nothing_else(client, people, group):
    for method, path, body in [
            ("GET", "/cases", None), ("GET", "/tasks", None), ("GET", "/escalations", None),
            ("GET", "/incidents", None), ("GET", "/questions", None),
            ("POST", "/cases", {"process_key": "one_window_agency", "business_key": CODE}),
            ("POST", f"/projects/{CODE}/remove", {"reason": "办结"}),
            ("POST", f"/projects/{CODE}/restore", {}),
            ("POST", f"/projects/{CODE}/members", {"add": ["county.rfb"]}),
            ("POST", f"/projects/{CODE}/cases", {}),
            ("POST", f"/projects/{CODE}/enterprise-users", {"name": "y"}),
            ("POST", "/projects", project_body("2026-510117-52-01-000002"))]:
        call(client, people, "wx", method, path, 403, json=body)
    question = ask(client, people)
    call(client, people, "wx", "POST", f"/questions/{question['id']}/answer", 403,
         json={"answer": "a", "preliminary_opinion": "b"})


# --------------------------------------------------------------------------- questions


def test_questions_each_body_on_its_own_clock(client, people, group, runtime):
    first = ask(client, people, departments=["county.zjj", "county.fgj"])
    runtime.clock.advance(hours=10)
    second = ask(client, people, who="alice", departments=["county.zjj"])
    third = ask(client, people, who="zwfw", departments=["county.fgj"])  # a member asks another
    assert third["asked_as"] == "member" and second["asked_as"] == "agent" and first["asked_as"] == "enterprise"
    ask(client, people, who="zjj", departments=["county.zjj"], expect=422)  # a body does not ask itself
    problem = ask(client, people, departments=["county.sthjj"], expect=422)  # not in the group
    assert "county.sthjj" in problem["errors"]["departments"][0]
    ask(client, people, who="sthjj", expect=403)
    ask(client, people, who="bob", expect=403)
    assert [i["question_id"] for i in call(client, people, "zjj", "GET", "/questions", 200)["items"]] == \
        [first["id"], second["id"]]
    # both fields, named; a body answers once, for itself only
    for body, missing in [({}, {"answer", "preliminary_opinion"}), ({"answer": "可以"}, {"preliminary_opinion"}),
                          ({"preliminary_opinion": "同意"}, {"answer"})]:
        problem = call(client, people, "zjj", "POST", f"/questions/{first['id']}/answer", 422, json=body)
        assert set(problem["errors"]) == missing
    problem = call(client, people, "zjj", "POST", f"/questions/{first['id']}/answer", 422,
                   json={"answer": "  ", "preliminary_opinion": "同意"})
    assert list(problem["errors"]) == ["answer"]
    call(client, people, "sthjj", "POST", f"/questions/{first['id']}/answer", 403,
         json={"answer": "a", "preliminary_opinion": "b"})
    answered = call(client, people, "zjj", "POST", f"/questions/{first['id']}/answer", 200,
                    json={"answer": "可以同步办理", "preliminary_opinion": "3个工作日内核发"})
    assert answered["state"] == "open"  # 发改局 still owes its answer
    call(client, people, "zjj", "POST", f"/questions/{first['id']}/answer", 409,
         json={"answer": "again", "preliminary_opinion": "again"})
    call(client, people, "root", "POST", f"/questions/{first['id']}/answer", 422,
         json={"answer": "a", "preliminary_opinion": "b"})  # an admin names the body
    # the first question turns red at 24 h for 发改局 only; the second is still normal
    runtime.clock.advance(hours=14, minutes=1)
    timers.run_due(runtime)
    thread = {q["id"]: q for q in call(client, people, "wx", "GET", f"/projects/{CODE}/questions", 200)["items"]}
    assert [(a["department"], a["sla"], a["level"]) for a in thread[first["id"]]["addressees"]] == \
        [("county.fgj", "red", 1), ("county.zjj", "normal", 0)]
    assert thread[second["id"]]["addressees"][0]["sla"] == "normal"  # asked 14 h ago: its own clock
    call(client, people, "root", "POST", "/questions/99999/answer", 404, json={"answer": "a", "preliminary_opinion": "b"})


def test_the_answer_limit_is_a_setting_of_the_region(client, people, group, runtime):
    document = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    for region in document["regions"]:
        if region["code"] == "pidu":
            region["question_hours"] = 48
    with runtime.unit_of_work() as uow:
        organisation_versions.load(uow, json.dumps(document, ensure_ascii=False), "test", "root")
        uow.commit()
    question = ask(client, people)
    [row] = question["addressees"]
    assert row["limit_hours"] == 48
    runtime.clock.advance(hours=36, minutes=1)  # three quarters: yellow
    timers.run_due(runtime)
    [row] = call(client, people, "wx", "GET", f"/projects/{CODE}/questions", 200)["items"][0]["addressees"]
    assert row["sla"] == "yellow"
    bad = json.dumps({**document, "regions": [{**r, "question_hours": 0} for r in document["regions"]]})
    with runtime.unit_of_work() as uow, pytest.raises(Exception) as refused:
        organisation_versions.load(uow, bad, "bad.json", "root")
    assert "question_hours" in str(refused.value)


# --------------------------------------------------------------------------- members, removal, restore


def test_members_removal_and_restore(client, people, group, runtime):
    call(client, people, "zjj", "POST", f"/projects/{CODE}/members", 403, json={"add": ["county.rfb"]})
    call(client, people, "jy-fgj", "POST", f"/projects/{CODE}/members", 403, json={"add": ["county.rfb"]})
    changed = call(client, people, "fgj", "POST", f"/projects/{CODE}/members", 200,
                   json={"add": ["county.rfb", "county.gdgs"], "agent": "bob"})
    assert {"county.rfb", "county.gdgs"} <= {m["department"] for m in changed["members"]} and changed["agent"] == "bob"
    call(client, people, "tcj", "POST", f"/projects/{CODE}/members", 422, json={"add": ["county.nope"]})
    call(client, people, "tcj", "POST", f"/projects/{CODE}/members", 422, json={})
    question = ask(client, people, departments=["county.zjj"])
    call(client, people, "tcj", "POST", f"/projects/{CODE}/members", 409, json={"remove": ["county.zjj"]})
    call(client, people, "tcj", "POST", f"/projects/{CODE}/members", 200, json={"remove": ["county.gdgs"]})

    for who in ("tcj", "zjj", "alice", "wx", "jy-fgj"):
        call(client, people, who, "POST", f"/projects/{CODE}/remove", 403, json={"reason": "stalled"})
    problem = call(client, people, "fgj", "POST", f"/projects/{CODE}/remove", 422, json={"reason": "bored"})
    assert "reason" in problem["errors"]
    removed = call(client, people, "fgj", "POST", f"/projects/{CODE}/remove", 200, json={"reason": "停滞"})
    assert removed["removal_reason"] == "stalled"
    call(client, people, "fgj", "POST", f"/projects/{CODE}/remove", 409, json={"reason": "stalled"})
    shown = call(client, people, "wx", "GET", f"/projects/{CODE}", 200)
    assert shown["questions"][0]["state"] == "closed" and "停滞" in shown["questions"][0]["closed_reason"]
    call(client, people, "zjj", "POST", f"/questions/{question['id']}/answer", 409,
         json={"answer": "a", "preliminary_opinion": "b"})
    call(client, people, "tcj", "POST", f"/projects/{CODE}/members", 409, json={"add": ["county.swj"]})
    call(client, people, "tcj", "POST", f"/projects/{CODE}/restore", 403)
    restored = call(client, people, "fgj", "POST", f"/projects/{CODE}/restore", 200, json={"note": "企业复工"})
    assert restored["state"] == "active" and restored["removal_reason"] is None
    call(client, people, "fgj", "POST", f"/projects/{CODE}/restore", 409)
    assert ask(client, people)["state"] == "open"
    types = [e["type"] for e in call(client, people, "fgj", "GET", f"/projects/{CODE}", 200)["timeline"]]
    assert types[:3] == ["question.asked", "project.restored", "project.removed"]


def test_the_project_case_belongs_to_its_agent(client, people, group, runtime):
    call(client, people, "tcj", "POST", "/cases", 403, json={"process_key": "one_window_agency", "business_key": CODE})
    call(client, people, "tcj", "POST", f"/projects/{CODE}/cases", 404, json={})  # nothing deployed yet
    from engine.domain.access import SYSTEM
    from engine.services.definitions import deploy_directory
    from tests.scenarios.story import PROCESSES
    deploy_directory(runtime.unit_of_work, SYSTEM, PROCESSES)
    call(client, people, "zjj", "POST", f"/projects/{CODE}/cases", 403, json={})
    call(client, people, "bob", "POST", f"/projects/{CODE}/cases", 403, json={})
    started = call(client, people, "tcj", "POST", f"/projects/{CODE}/cases", 201, json={})
    assert started["started_by"] == "alice" and started["project"]["enterprise_name"] == "成都奥特莱斯商业管理有限公司"
    again = call(client, people, "alice", "POST", f"/projects/{CODE}/cases", 200, json={})
    assert again["id"] == started["id"] and not again["created"]
    shown = call(client, people, "zjj", "GET", f"/projects/{CODE}", 200)
    assert [c["id"] for c in shown["cases"]] == [started["id"]] and shown["cases"][0]["tasks"] == []  # none of its body
    assert len(call(client, people, "alice", "GET", f"/projects/{CODE}", 200)["cases"][0]["tasks"]) == 1
    call(client, people, "jy-tcj", "POST", f"/projects/{OTHER}/cases", 409, json={})  # no agent assigned


# --------------------------------------------------------------------------- CLI


def test_the_command_line(runtime, people):
    runner = create_app(runtime=runtime).test_cli_runner()

    def cli(*args, code=0):  # type: ignore[no-untyped-def]
        result = runner.invoke(args=list(args))
        assert result.exit_code == code, result.output
        return result.output
    assert "16 bodies" in cli("projects", "add", CODE, "--name", "奥特莱斯郫县项目", "--enterprise", "成都奥特莱斯",
                              "--contact", "王雪", "--agent", "alice", "--as", "tcj")
    assert "not a Chinese province" in cli("projects", "add", "2026-990117-52-01-000016", "--name", "x",
                                           "--enterprise", "e", "--contact", "c", "--as", "tcj", code=1)
    assert CODE in cli("projects", "list", "--department", "county.zjj")
    assert json.loads(cli("projects", "show", CODE))["code"] == CODE
    assert "county.gdgs" in cli("projects", "members", CODE, "--add", "county.gdgs", "--as", "fgj")
    cli("users", "create", "wx", "--role", "enterprise", code=1)  # needs --project
    cli("users", "create", "wx", "--role", "enterprise", "--project", CODE, "--as", "bob", code=1)  # not its agent
    token = cli("users", "create", "wx", "--role", "enterprise", "--project", CODE, "--as", "alice").strip()
    assert token.startswith("ow_")
    assert "enterprise" in cli("users", "list")
    assert "removed (completed)" in cli("projects", "remove", CODE, "--reason", "办结", "--as", "fgj")
    assert "restored" in cli("projects", "restore", CODE, "--as", "fgj")


def test_the_remaining_cells_of_the_matrix(client, people, group):
    people.create("other-ent", "enterprise")  # an enterprise user of no project here
    question = ask(client, people)
    for who in ("gov", "dora", "bob", "other-ent", "sthjj"):
        ask(client, people, who=who, expect=403)
    for who in ("alice", "bob", "dora", "wx", "other-ent"):
        call(client, people, who, "GET", "/questions", 403)
    for who in ("tcj", "fgj", "sthjj", "zwfw"):
        call(client, people, who, "GET", "/questions", 200)
    assert call(client, people, "sthjj", "GET", "/questions", 200)["items"] == []
    call(client, people, "other-ent", "GET", f"/projects/{CODE}", 403)
    assert call(client, people, "other-ent", "GET", "/projects", 200)["items"] == []
    for who in ("tcj", "alice", "gov", "dora"):
        call(client, people, who, "POST", f"/questions/{question['id']}/answer", 403,
             json={"answer": "a", "preliminary_opinion": "b"})
    call(client, people, None, "POST", f"/questions/{question['id']}/answer", 401,
         json={"answer": "a", "preliminary_opinion": "b"})
    for who in ("fgj", "zjj", "gov", "dora", "bob"):
        call(client, people, who, "POST", f"/projects/{CODE}/enterprise-users", 403, json={"name": "z"})
    call(client, people, "root", "POST", f"/questions/{question['id']}/answer", 200,
         json={"answer": "a", "preliminary_opinion": "b", "department": "county.zjj"})


def test_the_coordinating_body_records_an_overdue_answer_as_coordinated(client, people, group, runtime):
    question = ask(client, people, departments=["county.zjj"])
    call(client, people, "zwfw", "POST", f"/questions/{question['id']}/coordinate", 409,
         json={"department": "county.zjj"})  # not escalated yet
    runtime.clock.advance(hours=24, minutes=1)
    timers.run_due(runtime)
    for who in ("zjj", "fgj", "wx", "alice"):
        call(client, people, who, "POST", f"/questions/{question['id']}/coordinate", 403,
             json={"department": "county.zjj"})
    call(client, people, "zwfw", "POST", f"/questions/{question['id']}/coordinate", 422, json={"department": "county.x"})
    done = call(client, people, "zwfw", "POST", f"/questions/{question['id']}/coordinate", 200,
                json={"department": "county.zjj", "note": "已电话协调，明日答复"})
    [row] = done["addressees"]
    assert (row["level"], row["next_level_at"], row["state"]) == (1, None, "open")
    call(client, people, "zwfw", "POST", f"/questions/{question['id']}/coordinate", 409, json={"department": "county.zjj"})
    runtime.clock.advance(days=5)
    timers.run_due(runtime)  # no further level
    [row] = call(client, people, "wx", "GET", f"/projects/{CODE}/questions", 200)["items"][0]["addressees"]
    assert row["level"] == 1 and row["sla"] == "red"
    call(client, people, "zjj", "POST", f"/questions/{question['id']}/answer", 200,
         json={"answer": "可以", "preliminary_opinion": "同意"})
