"""Designers' tools over HTTP and the command line (issue 12): group aliases, unknown groups at
deploy, the diff of two versions, migrations of running cases with their progress."""
from __future__ import annotations

import json

import pytest

from api.app import create_app
from engine.services import timers
from tests import modeler_corpus
from tests.conftest import BPMN

V1, V2 = (modeler_corpus.MIGRATION_DIR / f"permit_review_v{v}.bpmn" for v in (1, 2))
XML = {"Content-Type": "application/xml"}


def deploy(client, api_users, path, expect=201):
    response = client.post(f"/api/v1/process-definitions?filename={path.name}", data=path.read_bytes(),
                           headers={**api_users.header("dora"), **XML})
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def alias(client, api_users, name, department, who="root"):
    return client.put(f"/api/v1/department-aliases/{name}", json={"department": department},
                      headers=api_users.header(who))


def test_unknown_groups_are_listed_at_once_then_an_alias_lets_the_file_deploy_unmodified(client, api_users):
    refused = deploy(client, api_users, V1, expect=422)
    problems = refused["errors"]["file"]
    assert any("'management' is not a known department (closest known: county." in p for p in problems)
    assert any("'planning' is not a known department" in p and "county.zrzyj" in p for p in problems)
    assert all(p.startswith("permit_review_v1.bpmn:") for p in problems)

    assert alias(client, api_users, "management", "county.zf", who="dora").status_code == 403
    bad = alias(client, api_users, "management", "county.nowhere")
    assert bad.status_code == 422 and "not a known department" in bad.get_json()["detail"]
    shadow = alias(client, api_users, "county.fgj", "county.zf")
    assert shadow.status_code == 422 and "already a department code" in shadow.get_json()["detail"]
    made = alias(client, api_users, "management", "county.zf")
    assert made.status_code == 200 and made.get_json()["unchanged"] is False
    assert alias(client, api_users, "management", "county.zf").get_json()["unchanged"] is True
    assert alias(client, api_users, "planning", "county.zrzyj").status_code == 200
    listed = client.get("/api/v1/department-aliases", headers=api_users.header("alice")).get_json()
    assert [(a["name"], a["department"], a["name_zh"]) for a in listed["items"]] == [
        ("management", "county.zf", "郫都区人民政府"), ("planning", "county.zrzyj", "郫都区规划和自然资源局")]
    organisation = client.get("/api/v1/organisation", headers=api_users.header("root")).get_json()
    assert organisation["version"] == 2  # each change (two aliases) is an organisation version

    deploy(client, api_users, V1)
    started = client.post("/api/v1/cases", json={"process_key": "permit_review",
                                                 "business_key": "2026-510117-34-01-000001"},
                          headers=api_users.header("alice"))
    assert started.status_code == 201, started.get_json()
    in_use = client.delete("/api/v1/department-aliases/planning", headers=api_users.header("root"))
    assert in_use.status_code == 409 and "permit_review v1" in in_use.get_json()["detail"]
    assert client.delete("/api/v1/department-aliases/nothing", headers=api_users.header("root")).status_code == 404


def test_diff_of_two_versions(client, api_users):
    alias(client, api_users, "management", "county.zf")
    alias(client, api_users, "planning", "county.zrzyj")
    deploy(client, api_users, V1)
    deploy(client, api_users, V2)
    diff = client.get("/api/v1/process-definitions/permit_review/diff?from=1&to=2",
                      headers=api_users.header("zrzyj")).get_json()
    assert {e["id"] for e in diff["added"] if e["type"] == "userTask"} == {"Activity_sign", "Activity_technical_review"}
    assert {e["id"] for e in diff["removed"] if e["type"] == "userTask"} == {"Activity_notify", "Activity_review"}
    [timer] = [e for e in diff["changed"] if e["id"] == "Event_remind"]
    assert timer["changes"] == [{"field": "timer", "from": "timeDuration P3D", "to": "timeDuration P2D"}]
    missing = client.get("/api/v1/process-definitions/permit_review/diff?from=1&to=9", headers=api_users.header("root"))
    assert missing.status_code == 404
    assert client.get("/api/v1/process-definitions/permit_review/diff?from=1",
                      headers=api_users.header("root")).status_code == 422


def test_a_migration_over_http_dry_run_then_batches_with_progress(client, api_users, runtime):
    alias(client, api_users, "management", "county.zf")
    alias(client, api_users, "planning", "county.zrzyj")
    deploy(client, api_users, V1)
    ids = []
    for n in range(3):
        started = client.post("/api/v1/cases", json={"process_key": "permit_review",
                                                     "business_key": f"2026-510117-34-01-00000{n + 1}"},
                              headers=api_users.header("alice")).get_json()
        ids.append(started["id"])
    deploy(client, api_users, V2)
    plan = {"process_key": "permit_review", "from_version": 1, "to_version": 2}
    forbidden = client.post("/api/v1/migrations", json={**plan, "dry_run": True}, headers=api_users.header("dora"))
    assert forbidden.status_code == 403
    dry = client.post("/api/v1/migrations", json={**plan, "dry_run": True}, headers=api_users.header("root"))
    assert dry.status_code == 200 and dry.get_json()["can_migrate"] == 3
    bad = client.post("/api/v1/migrations", json={**plan, "mapping": {"Activity_x": "Activity_sign"}},
                      headers=api_users.header("root"))
    assert bad.status_code == 422 and "Activity_x" in bad.get_json()["detail"]
    created = client.post("/api/v1/migrations", json={**plan, "batch_size": 2}, headers=api_users.header("root"))
    assert created.status_code == 202
    body = created.get_json()
    assert (body["status"], body["total"], body["pending"], body["progress"]) == ("running", 3, 3, 0.0)
    worker = timers.Worker(runtime, name="w", batch=2)
    worker.run_once()  # one batch of two
    half = client.get(f"/api/v1/migrations/{body['id']}", headers=api_users.header("root")).get_json()
    assert (half["migrated"], half["pending"], half["status"]) == (2, 1, "running")
    worker.run_once()
    done = client.get(f"/api/v1/migrations/{body['id']}", headers=api_users.header("root")).get_json()
    assert (done["migrated"], done["pending"], done["status"], done["progress"]) == (3, 0, "completed", 1.0)
    case = client.get(f"/api/v1/cases/{ids[0]}", headers=api_users.header("alice")).get_json()
    assert case["process_version"] == 2
    history = client.get(f"/api/v1/cases/{ids[0]}/history", headers=api_users.header("alice")).get_json()
    assert any(e["type"] == "migrated" for e in history["items"])
    assert client.get("/api/v1/migrations/999", headers=api_users.header("root")).status_code == 404


@pytest.fixture
def cli(runtime):
    runner = create_app(runtime=runtime).test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_the_designers_day_from_the_command_line(cli, runtime, tmp_path):
    assert cli("departments", "alias", "management", "county.zf").exit_code == 0
    made = cli("departments", "alias", "planning", "county.zrzyj")
    assert made.exit_code == 0 and "alias planning → county.zrzyj" in made.output
    listed = cli("departments", "list", "--region", "pidu").output
    assert "management" in listed and "→ county.zf" in listed
    exported = cli("organisation", "export")
    assert json.loads(exported.output)["group_aliases"] == {"management": "county.zf", "planning": "county.zrzyj"}
    assert cli("deploy", str(V1)).exit_code == 0
    from engine.services import cases
    from engine.domain.access import Actor
    with runtime.unit_of_work() as uow:
        for n in range(2):
            cases.start_case(uow, Actor("alice", "agent"), "permit_review", f"2026-510117-34-01-00000{n + 1}")
        uow.commit()
    assert cli("deploy", str(V2)).exit_code == 0
    diff = cli("definitions", "diff", "permit_review", "1", "2")
    assert diff.exit_code == 0 and "+ userTask Activity_sign" in diff.output
    assert "timer: timeDuration P3D → timeDuration P2D" in diff.output
    dry = cli("migrate", "permit_review", "--from", "1", "--to", "2", "--dry-run")
    assert dry.exit_code == 0 and "2 of 2 open cases can move" in dry.output
    moved = cli("migrate", "permit_review", "--from", "1", "--to", "2", "--batch", "1")
    assert moved.exit_code == 0, moved.output
    assert "2 migrated, 0 skipped, 0 failed of 2" in moved.output
    assert cli("migrate", "permit_review", "--from", "1", "--to", "2", "--map", "nonsense").exit_code == 1
    removed = cli("departments", "alias", "--remove", "management")
    assert removed.exit_code == 1 and "permit_review v2" in removed.output


def test_an_alias_is_refused_in_the_organisation_file_when_it_hides_or_names_nothing(tmp_path):
    from engine.errors import Invalid
    from engine.domain.organisation import DEFAULT_PATH, Organisation
    document = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    document["group_aliases"] = {"county.fgj": "county.zf", "sales": "county.nowhere", "ok": "county.tcj",
                                 "a,b": "county.zf"}
    with pytest.raises(Invalid) as refused:
        Organisation.parse(json.dumps(document, ensure_ascii=False, indent=2))
    text = json.dumps(refused.value.errors, ensure_ascii=False)
    assert "already a department code" in text and "'county.nowhere' is not a known department" in text
    assert "no comma" in text
    document["group_aliases"] = {"sales": "county.tcj", "finance": "city.fgw"}
    organisation = Organisation.parse(json.dumps(document))
    assert organisation.is_known("sales") and organisation.resolve("sales") == "county.tcj"
    assert organisation.resolve("finance", "jingyang") == "deyang.fgw"  # a generic target resolves in the region


def test_shipped_bpmn_is_unaffected(client, api_users):
    deploy(client, api_users, BPMN / "parallel_approval.bpmn")
