"""The organisation: the shipped region tree is sound, generic codes resolve per region (falling
back up the tree), coordination follows the case's region, and a bad file is reported by line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import Invalid, NotFound
from engine.domain.organisation import DEFAULT_PATH, LEVELS, Department, Organisation


@pytest.fixture(scope="module")
def org() -> Organisation:
    return Organisation.load(DEFAULT_PATH)


@pytest.fixture()
def text() -> str:
    return DEFAULT_PATH.read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    """1-based line of the first occurrence of `needle` (what an administrator would look for)."""
    return text[:text.index(needle)].count("\n") + 1


def problems(text: str, name: str = "organisation.json") -> Invalid:
    with pytest.raises(Invalid) as exc:
        Organisation.parse(text, source=name)
    return exc.value


# --------------------------------------------------------------------------- the shipped tree


def test_default_path_is_repo_processes() -> None:
    assert DEFAULT_PATH.parent.name == "processes" and DEFAULT_PATH.exists()


def test_the_shipped_tree_has_both_seed_chains(org: Organisation) -> None:
    assert [(r.code, r.full_name) for r in org.regions()] == [
        ("sichuan", "四川省"), ("chengdu", "四川省成都市"), ("pidu", "四川省成都市郫都区"),
        ("deyang", "四川省德阳市"), ("jingyang", "四川省德阳市旌阳区")]
    assert org.region("510117").code == org.region("郫都区").code == "pidu"
    assert org.default_region == "pidu"
    for region, window, government in (("pidu", "county.zwfw", "county.zf"), ("chengdu", "city.zwfw", "city.zf"),
                                       ("jingyang", "jingyang.zwfw", "jingyang.zf"),
                                       ("deyang", "deyang.zwfw", "deyang.zf"),
                                       ("sichuan", "province.zwfw", "province.zf")):
        assert (org.window_of(region).code, org.government_of(region).code) == (window, government)
    pidu = org.list(region="pidu")
    assert len(pidu) >= 16 and {d.region_name for d in pidu} == {"四川省成都市郫都区"}
    for code in ("county.zwfw", "county.fgj", "county.tcj", "county.zjj", "county.zrzyj",
                 "county.sthjj", "county.xfjy", "county.rfb", "county.dag"):
        assert org.get(code).region == "pidu"
    assert org.subtree("deyang") == ["deyang", "jingyang"] and org.subtree("sichuan")[0] == "sichuan"


def test_get_and_fields(org: Organisation) -> None:
    d = org.get("county.fgj")
    assert isinstance(d, Department)
    assert d.level == "county" and d.name_zh == "郫都区发展和改革局" and d.parent == "city.fgw"
    assert d.function == "fgw" and org.get("jingyang.fgj").parent == "deyang.fgw"
    assert "group_owner" in d.roles and org.get("county.tcj").has_role("promoter")
    assert [a.code for a in org.ancestors("county.sthjj")] == ["city.sthjj", "province.sthjt"]


def test_unknown_code_and_region(org: Organisation) -> None:
    with pytest.raises(NotFound):
        org.get("county.nope")
    assert "county.nope" not in org and not org.is_known("county.nope")
    assert "city.fgj" not in org and org.is_known("city.fgj")  # generic only
    with pytest.raises(Invalid, match="unknown region"):
        org.region("atlantis")


def test_list_sorted_by_level_then_code(org: Organisation) -> None:
    listed = org.list()
    keys = [(LEVELS.index(d.level), d.code) for d in listed]
    assert keys == sorted(keys) and listed[0].level == "province" and listed[-1].level == "county"
    assert all(d.region == "chengdu" for d in org.list(region="四川省成都市"))
    with pytest.raises(Invalid):
        org.list(level="township")


def test_generic_codes_resolve_in_the_case_region_then_up_the_tree(org: Organisation) -> None:
    expect = {  # code: (郫都区 case, 成都市 case, 旌阳区 case, 德阳市 case)
        "county.zwfw": ("county.zwfw", "city.zwfw", "jingyang.zwfw", "deyang.zwfw"),
        "county.fgj": ("county.fgj", "city.fgw", "jingyang.fgj", "deyang.fgw"),
        "city.zrzyj": ("city.zrzyj", "city.zrzyj", "deyang.zrzyj", "deyang.zrzyj"),
        "county.sthjj": ("county.sthjj", "city.sthjj", "deyang.sthjj", "deyang.sthjj"),  # 旌阳区 has none
        "city.zf": ("city.zf", "city.zf", "deyang.zf", "deyang.zf"),
        "province.fgw": ("province.fgw",) * 4,
        "county.fgw": ("county.fgj", "city.fgw", "jingyang.fgj", "deyang.fgw"),  # any spelling of a function
    }
    for code, found in expect.items():
        assert tuple(org.resolve(code, r) for r in ("pidu", "chengdu", "jingyang", "deyang")) == found, code
    assert org.resolve("jingyang.zjj", "pidu") == "jingyang.zjj"  # a concrete code is itself anywhere
    assert org.resolve("county.fgj") == "county.fgj"  # no region: the default region
    with pytest.raises(Invalid, match="not a known department"):
        org.resolve("county.nope", "pidu")


def test_coordination_follows_the_case_region(org: Organisation) -> None:
    assert [(c.level, c.department, c.role) for c in org.coordination_levels] == [
        (1, "window", "coordinator"), (2, "item", "leaders"), (3, "government", "coordinator")]
    chain = [(d.code, role) for d, role in (org.coordinator_for(n, "city.zrzyj", "pidu") for n in (1, 2, 3))]
    assert chain == [("county.zwfw", "coordinator"), ("city.zrzyj", "leaders"), ("county.zf", "coordinator")]
    chain = [d.code for d, _ in (org.coordinator_for(n, "jingyang.fgj", "jingyang") for n in (1, 2, 3))]
    assert chain == ["jingyang.zwfw", "jingyang.fgj", "jingyang.zf"]
    assert org.coordinator_for(2, None, "deyang")[0].code == "deyang.zwfw"  # the agent's own task
    with pytest.raises(NotFound):
        org.coordinator_for(4, "county.fgj", "pidu")


def test_the_tree_for_the_api(org: Organisation) -> None:
    [sichuan] = org.tree()
    assert [c["code"] for c in sichuan["children"]] == ["chengdu", "deyang"]
    [deyang] = org.tree("510600")
    assert deyang["window"].code == "deyang.zwfw" and [c["code"] for c in deyang["children"]] == ["jingyang"]
    assert deyang["children"][0]["children"] == []


# --------------------------------------------------------------------------- bad files, by line


def test_not_json_names_the_line(text: str) -> None:
    broken = text.replace('"division": "510603",', '"division": "510603"', 1)
    error = problems(broken)
    line = line_of(text, '"division": "510603"')
    assert error.detail.startswith(f"organisation.json:{line}: not valid JSON") \
        or error.detail.startswith(f"organisation.json:{line + 1}: not valid JSON")
    assert "column" in error.detail
    with pytest.raises(Invalid, match=r"organisation.json:1: not valid JSON"):
        Organisation.parse("")
    with pytest.raises(Invalid, match="not valid JSON"):
        Organisation.parse("[" * 600 + "]" * 600)  # deep, never a crash
    with pytest.raises(Invalid, match="not UTF-8"):
        Organisation.parse(b"\xff\xfe{")
    with pytest.raises(NotFound):
        Organisation.load(Path("/nonexistent/organisation.json"))


def test_unknown_parent_region_and_duplicate_code_name_their_lines(text: str) -> None:
    bad = text.replace('"parent": "deyang"', '"parent": "mianyang"', 1)
    bad = bad.replace('"code": "city.tcj"', '"code": "city.fgw"', 1)
    error = problems(bad)
    parent_line = line_of(text, '"code": "jingyang"')
    dup_line, first_line = line_of(text, '"code": "city.tcj"'), line_of(text, '"code": "city.fgw"')
    assert error.errors[f"organisation.json:{parent_line}"] == [
        "regions[4].parent: unknown region 'mianyang'; known: sichuan, chengdu, pidu, deyang, jingyang"]
    assert error.errors[f"organisation.json:{dup_line}"] == [
        f"regions[1].bodies[3].code: duplicate department code 'city.fgw' (first at line {first_line})"]
    assert error.detail == (f"organisation.json:{dup_line}: regions[1].bodies[3].code: duplicate department code "
                            f"'city.fgw' (first at line {first_line}) (and 1 more problem)")


def test_every_problem_is_reported_at_once(text: str) -> None:
    raw = json.loads(text)
    raw["regions"][0]["level"] = "township"
    raw["regions"][1]["parent"] = "pidu"  # a city under a county
    raw["regions"][2]["bodies"][2]["roles"] = ["approver", "boss"]
    raw["regions"][2]["bodies"][3]["colour"] = "red"
    raw["regions"][3]["bodies"] = [b for b in raw["regions"][3]["bodies"] if b["kind"] != "service_centre"]
    raw["regions"][4]["bodies"][2]["function"] = "zj"  # a second 住建 body in 旌阳区
    raw["regions"][4]["bodies"][3]["code"] = "city.tc"  # reads as a city's generic code
    raw["regions"][4]["division"] = "510600"
    raw["coordination"]["levels"][2]["department"] = "the mayor"
    raw["default_region"] = "mianyang"
    raw["regions"].append({"code": "pidu", "name_zh": "x", "name_en": "x", "level": "county", "bodies": []})
    error = problems(json.dumps(raw, ensure_ascii=False, indent=2), "org.json")
    messages = [m for ms in error.errors.values() for m in ms]
    for expected in ("regions[0].level: must be one of province, city, county",
                     "regions[1].parent: 'pidu' is a county; a city must sit under a higher level",
                     "regions[2].bodies[2].roles: unknown role 'boss'",
                     "regions[2].bodies[3].colour: unknown field",
                     "regions[3].bodies: region 'deyang' has no window",
                     "regions[4].bodies[4].function: region 'jingyang' already has a 'zj' body, 'jingyang.fgj'",
                     "regions[4].bodies[3].code: 'city.tc' reads as the generic code of the city's 'tc' body",
                     "regions[4].division: division 510600 is also region 'deyang'",
                     "coordination.levels[2].department: must be one of window, item, government",
                     "default_region: must be the code of a region",
                     "regions[5].code: duplicate region code 'pidu'"):
        assert any(m.startswith(expected) for m in messages), (expected, messages)
    assert all(key.startswith("org.json:") and int(key.split(":")[1]) > 1 for key in error.errors
               if not any(m.startswith("default_region") for m in error.errors[key]))


def test_duplicate_keys_loops_and_the_old_format(text: str) -> None:
    twice = text.replace('"default_region": "pidu",', '"default_region": "pidu", "default_region": "deyang",', 1)
    error = problems(twice)
    line = line_of(text, '"default_region"')
    assert error.errors[f"organisation.json:{line}"] == [f"default_region: duplicate key 'default_region' "
                                                         f"(first at line {line})"]
    raw = json.loads(text)
    raw["regions"][0]["parent"] = "jingyang"  # province under its own county: a loop
    error = problems(json.dumps(raw))
    assert any("loop" in m or "higher level" in m for ms in error.errors.values() for m in ms)
    old = {"departments": [], "coordination": {"levels": []}}
    error = problems(json.dumps(old))
    assert any("old format" in m for ms in error.errors.values() for m in ms)
