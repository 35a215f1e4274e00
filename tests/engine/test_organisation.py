"""Organisation registry: the shipped file is sound, and bad edits are reported by entry and field."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from engine.errors import Invalid, NotFound
from engine.organisation import DEFAULT_PATH, LEVELS, Department, Organisation


@pytest.fixture(scope="module")
def org() -> Organisation:
    return Organisation.load(DEFAULT_PATH)


@pytest.fixture()
def raw() -> dict:
    return json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))


def load_raw(tmp_path: Path, doc: object) -> Organisation:
    p = tmp_path / "organisation.json"
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return Organisation.load(p)


def test_default_path_is_repo_processes() -> None:
    assert DEFAULT_PATH.parent.name == "processes" and DEFAULT_PATH.exists()


def test_file_loads_with_sixteen_county_bodies(org: Organisation) -> None:
    county = org.list(level="county")
    assert len(county) >= 16
    assert {d.region for d in county} == {"四川省成都市郫都区"}
    for code in ("county.zwfw", "county.fgj", "county.tcj", "county.zjj", "county.zrzyj",
                 "county.sthjj", "county.xfjy", "county.rfb", "county.dag"):
        assert code in org
    assert org.list(level="city") and org.list(level="province")


def test_get_and_fields(org: Organisation) -> None:
    d = org.get("county.fgj")
    assert isinstance(d, Department)
    assert d.level == "county" and d.name_zh == "郫都区发展和改革局" and d.parent == "city.fgw"
    assert "group_owner" in d.roles and org.get("county.tcj").has_role("promoter")
    assert [a.code for a in org.ancestors("county.sthjj")] == ["city.sthjj", "province.sthjt"]


def test_unknown_code_not_found(org: Organisation) -> None:
    with pytest.raises(NotFound):
        org.get("county.nope")
    assert "county.nope" not in org


def test_list_sorted_by_level_then_code(org: Organisation) -> None:
    listed = org.list()
    keys = [(LEVELS.index(d.level), d.code) for d in listed]
    assert keys == sorted(keys) and listed[0].level == "province" and listed[-1].level == "county"
    assert all(d.region == "四川省成都市" for d in org.list(region="四川省成都市"))
    with pytest.raises(Invalid):
        org.list(level="township")


def test_coordination_levels(org: Organisation) -> None:
    levels = org.coordination_levels
    assert [c.level for c in levels] == [1, 2, 3]
    assert org.get(levels[0].department).kind == "service_centre"
    assert levels[1].department is None and levels[1].role == "leaders"
    assert org.get(levels[2].department).code == "city.zf"
    dept, role = org.coordinator_for(2, "county.zjj")
    assert dept.code == "county.zjj" and role == "leaders"
    assert org.coordinator_for(3, "county.zjj")[0].code == "city.zf"


def test_duplicate_code_names_index(tmp_path: Path, raw: dict) -> None:
    raw["departments"].append(copy.deepcopy(raw["departments"][0]))
    n = len(raw["departments"]) - 1
    with pytest.raises(Invalid) as exc:
        load_raw(tmp_path, raw)
    assert f"departments[{n}].code" in exc.value.errors
    assert "duplicate" in exc.value.errors[f"departments[{n}].code"][0]


def test_invalid_entries_all_reported(tmp_path: Path, raw: dict) -> None:
    raw["departments"][2]["level"] = "township"
    raw["departments"][3]["parent"] = "city.ghost"
    raw["departments"][4]["code"] = "County FGJ"
    del raw["departments"][5]["name_zh"]
    raw["departments"][6]["colour"] = "red"
    raw["departments"][7]["roles"] = ["approver", "boss"]
    raw["coordination"]["levels"][2]["department"] = "city.ghost"
    with pytest.raises(Invalid) as exc:
        load_raw(tmp_path, raw)
    errs = exc.value.errors
    assert {"departments[2].level", "departments[3].parent", "departments[4].code",
            "departments[5].name_zh", "departments[6].colour", "departments[7].roles",
            "coordination.levels[2].department"} <= set(errs)
    assert "township" not in errs["departments[2].level"][0] and "province" in errs["departments[2].level"][0]
    assert "organisation.json is invalid" in exc.value.detail


def test_parent_cycle(tmp_path: Path) -> None:
    base = {"name_zh": "x", "name_en": "x", "level": "county", "region": "r"}
    doc = {"departments": [dict(base, code="a", parent="b"), dict(base, code="b", parent="a")],
           "coordination": {"levels": [{"level": 1, "name_zh": "x", "name_en": "x", "role": "coordinator",
                                        "department": "a"}]}}
    with pytest.raises(Invalid) as exc:
        load_raw(tmp_path, doc)
    assert "loops" in exc.value.errors["departments[0].parent"][0]


def test_not_json_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "organisation.json"
    p.write_text("{", encoding="utf-8")
    with pytest.raises(Invalid, match="not valid JSON"):
        Organisation.load(p)
    with pytest.raises(NotFound):
        Organisation.load(tmp_path / "missing.json")
    with pytest.raises(Invalid):
        load_raw(tmp_path, {"departments": []})
