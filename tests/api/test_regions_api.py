"""The region tree over HTTP, and changing the organisation as a versioned reload: checked by line,
refused when it would strand running work, seen by every command after it, cases keep working."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from api.app import create_app
from engine.domain.organisation import DEFAULT_PATH
from engine.adapters.models import Case
from tests.conftest import BPMN

V1 = "/api/v1"
ITEMS = [{"code": "eia", "name": "环境影响评价审批", "department": "county.sthjj", "time_limit": "20 working days"}]
JINGYANG_ECOLOGY = {"code": "jingyang.sthjj", "function": "sthj", "kind": "department",
                    "name_zh": "德阳市旌阳生态环境局", "name_en": "Deyang Jingyang Ecology and Environment Bureau",
                    "roles": ["approver"]}


def document(change=None) -> bytes:  # type: ignore[no-untyped-def]
    raw = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    if change is not None:
        change(raw)
    return json.dumps(raw, ensure_ascii=False, indent=2).encode()


def region(raw: dict, code: str) -> dict:
    return next(r for r in raw["regions"] if r["code"] == code)


@pytest.fixture
def org_client(client, api_users, deploy):
    deploy("regional_items.bpmn")
    api_users.create("jy-agent", "agent", "jingyang.zwfw")
    api_users.create("jy-window", "staff", "jingyang.zwfw")

    def put(data: bytes, who: str = "root", **query):  # type: ignore[no-untyped-def]
        return client.put(f"{V1}/organisation", data=data, query_string=query,
                          headers={**api_users.header(who), "Content-Type": "application/json"})

    def start(business_key: str, agent: str = "jy-agent") -> dict:
        got = client.post(f"{V1}/cases", headers=api_users.header(agent), json={
            "process_key": "regional_items", "business_key": business_key, "variables": {"items": ITEMS}})
        assert got.status_code == 201, got.get_json()
        case = got.get_json()
        [intake] = case["open_tasks"]
        window = {"jingyang.zwfw": "jy-window"}.get(intake["department"], "root")
        done = client.post(f"{V1}/tasks/{intake['id']}/complete", json={"data": {}}, headers=api_users.header(window))
        assert done.status_code == 200, done.get_json()
        tasks = client.get(f"{V1}/tasks", query_string={"case_id": case["id"]}, headers=api_users.header("root"))
        return {**case, "items": tasks.get_json()["items"]}

    client.put_organisation, client.start = put, start
    return client


def test_regions_tree(client, api_users):
    tree = client.get(f"{V1}/regions", headers=api_users.header("alice"))
    assert tree.status_code == 200
    body = tree.get_json()
    assert body["version"] is None and body["default_region"] == "pidu"
    [sichuan] = body["items"]
    assert [c["code"] for c in sichuan["children"]] == ["chengdu", "deyang"]
    pidu = sichuan["children"][0]["children"][0]
    assert (pidu["full_name"], pidu["division"], pidu["window"]["code"], pidu["government"]["code"]) == (
        "四川省成都市郫都区", "510117", "county.zwfw", "county.zf")
    assert {b["code"] for b in pidu["bodies"]} >= {"county.fgj", "county.zrzyj", "county.zwfw"}
    deyang = client.get(f"{V1}/regions?region=德阳市", headers=api_users.header("fgj")).get_json()["items"]
    assert [r["code"] for r in deyang] == ["deyang"] and deyang[0]["children"][0]["code"] == "jingyang"
    assert client.get(f"{V1}/regions?region=mars", headers=api_users.header("fgj")).status_code == 422
    assert client.get(f"{V1}/regions").status_code == 401
    bodies = client.get(f"{V1}/departments?region=jingyang", headers=api_users.header("fgj")).get_json()["items"]
    assert {b["code"] for b in bodies} >= {"jingyang.zwfw", "jingyang.zf", "jingyang.fgj"}
    assert {(b["region"], b["region_name"]) for b in bodies} == {("jingyang", "四川省德阳市旌阳区")}


def test_a_bad_file_names_its_line_and_changes_nothing(org_client):
    client = org_client
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    broken = text.replace('"parent": "deyang"', '"parent": "mianyang"').encode()
    line = text[:text.index('"code": "jingyang"')].count("\n") + 1
    refused = client.put_organisation(broken, filename="organisation.json")
    assert refused.status_code == 422
    problem = refused.get_json()
    assert problem["detail"].startswith(f"organisation.json:{line}: regions[4].parent: unknown region 'mianyang'")
    assert list(problem["errors"]) == [f"organisation.json:{line}"]
    syntax = client.put_organisation(b'{"regions": [\n  {"code": "x"\n  "level": "city"}\n]}')
    assert syntax.status_code == 422 and syntax.get_json()["detail"].startswith(
        "organisation.json:3: not valid JSON: Expecting ',' delimiter")
    assert client.put_organisation(document(), who="fgj").status_code == 403
    assert client.put_organisation(b"").status_code == 422
    shown = client.get(f"{V1}/organisation", headers={"Authorization": "Bearer x"})
    assert shown.status_code == 401


def test_reload_is_versioned_and_cases_keep_working(org_client, api_users, runtime):
    client = org_client
    before = client.start("2026-510603-34-01-000201")
    [eia] = before["items"]
    assert eia["department"] == "deyang.sthjj"  # 旌阳区 has no ecology bureau yet: the city's
    dry = client.put_organisation(document(), dry_run="true")
    assert dry.status_code == 200 and dry.get_json()["version"] == 1
    assert client.get(f"{V1}/organisation", headers=api_users.header("root")).get_json()["version"] is None
    first = client.put_organisation(document())
    assert first.status_code == 201 and first.get_json()["version"] == 1
    again = client.put_organisation(document())
    assert again.status_code == 200 and again.get_json()["unchanged"] and again.get_json()["version"] == 1

    # The district gets its own ecology bureau (a local reform): version 2.
    second = client.put_organisation(document(lambda raw: region(raw, "jingyang")["bodies"].append(JINGYANG_ECOLOGY)))
    assert second.status_code == 201, second.get_json()
    assert second.get_json()["version"] == 2 and second.get_json()["changes"]["departments_added"] == ["jingyang.sthjj"]
    shown = client.get(f"{V1}/organisation", headers=api_users.header("fgj")).get_json()
    assert shown["version"] == 2 and [v["version"] for v in shown["versions"]] == [2, 1]
    assert shown["versions"][0]["loaded_by"] == "root" and shown["file_differs"]
    after = client.start("2026-510603-34-01-000202")
    assert [t["department"] for t in after["items"]] == ["jingyang.sthjj"]
    # The case opened before the reload keeps its task where it was, and it can still be done.
    api_users.create("dy-eco", "staff", "deyang.sthjj")
    done = client.post(f"{V1}/tasks/{eia['id']}/complete", json={"data": {}}, headers=api_users.header("dy-eco"))
    assert done.status_code == 200
    # A body or region that running work still uses cannot disappear (nothing is stored).
    gone = client.put_organisation(document())  # v1 again: without jingyang.sthjj, which has an open task
    assert gone.status_code == 409 and "jingyang.sthjj" in gone.get_json()["detail"]
    assert "1 open task" in gone.get_json()["errors"]["department jingyang.sthjj"][0]
    no_region = client.put_organisation(document(lambda raw: raw["regions"].remove(region(raw, "jingyang"))))
    assert no_region.status_code == 409 and "region jingyang" in no_region.get_json()["errors"]
    assert "department jingyang.zwfw" in no_region.get_json()["errors"]  # its users
    assert client.get(f"{V1}/organisation", headers=api_users.header("root")).get_json()["version"] == 2


def test_a_new_default_region_does_not_move_older_cases(org_client, api_users, runtime):
    client = org_client
    old = client.start("2026-510117-34-01-000203", agent="alice")
    assert old["region"] == "pidu"
    with runtime.unit_of_work() as uow:  # a case from before regions
        uow.session.execute(update(Case).where(Case.id == old["id"]).values(region=None))
        uow.commit()
    assert client.get(f"{V1}/cases?region=pidu", headers=api_users.header("root")).get_json()["total"] == 1
    moved = client.put_organisation(document(lambda raw: raw.update(default_region="deyang")))
    assert moved.status_code == 201
    assert client.get(f"{V1}/cases/{old['id']}", headers=api_users.header("root")).get_json()["region"] == "pidu"
    new = client.start("2026-510600-34-01-000204", agent="alice")
    assert new["region"] == "deyang" and new["items"][0]["department"] == "deyang.sthjj"


@pytest.fixture
def cli(runtime):
    runner = create_app(runtime=runtime).test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_organisation_and_regions_from_the_command_line(cli, tmp_path):
    listed = cli("regions", "list")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].startswith("organisation the file, not loaded")
    assert any(line.strip().startswith("jingyang ") and "window jingyang.zwfw" in line for line in lines)
    assert json.loads(cli("regions", "list", "--json", "--region", "chengdu").output)["items"][0]["code"] == "chengdu"
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    bad = tmp_path / "organisation.json"
    bad.write_text(text.replace('"code": "city.tcj"', '"code": "city.fgw"'), encoding="utf-8")
    checked = cli("organisation", "check", str(bad))
    line = text[:text.index('"code": "city.tcj"')].count("\n") + 1
    assert checked.exit_code == 1
    assert f"organisation.json:{line}: regions[1].bodies[3].code: duplicate department code 'city.fgw'" in checked.output
    assert cli("organisation", "load", str(bad)).exit_code == 1
    assert cli("organisation", "load", str(tmp_path / "missing.json")).exit_code == 1
    good = tmp_path / "v1.json"
    good.write_bytes(document(lambda raw: region(raw, "jingyang")["bodies"].append(JINGYANG_ECOLOGY)))
    assert "would be version 1" in cli("organisation", "check", str(good)).output
    loaded = cli("organisation", "load", str(good))
    assert loaded.exit_code == 0 and loaded.output.startswith("organisation v1 loaded from v1.json")
    assert "+bodies jingyang.sthjj" in loaded.output
    assert cli("organisation", "load", str(good)).output.startswith("organisation v1 unchanged")
    shown = cli("organisation", "show").output
    assert shown.startswith("in force: v1") and "differs from it" in shown
    assert cli("regions", "list").output.startswith("organisation v1")
    assert "jingyang.sthjj" in cli("departments", "list", "--region", "旌阳区").output
    assert cli("departments", "list", "--region", "mars").exit_code == 1


def test_an_edited_file_is_used_when_no_version_is_loaded_and_a_broken_edit_is_not(runtime, clock, tmp_path):
    from engine.config import Settings
    from engine.adapters.organisation_versions import in_force
    from engine.runtime import Runtime
    path = tmp_path / "organisation.json"
    path.write_bytes(document())
    rt = Runtime(Settings(database_url=runtime.settings.database_url, organisation_file=path), clock=clock)
    try:
        assert "jingyang.sthjj" not in rt.organisation
        path.write_bytes(document(lambda raw: region(raw, "jingyang")["bodies"].append(JINGYANG_ECOLOGY)))
        assert "jingyang.sthjj" in rt.organisation  # the edit is in force at the next command
        path.write_text("{ broken", encoding="utf-8")
        assert "jingyang.sthjj" in rt.organisation  # the last good one stays
        with rt.unit_of_work(write=False) as uow:
            shown = in_force(uow)
        assert shown["version"] is None and shown["file_differs"]
    finally:
        rt.close()
