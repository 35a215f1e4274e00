"""Forms: every shipped file loads, and bad submissions name the exact field that is wrong."""
from __future__ import annotations

import copy
import json

import pytest

from engine.errors import Invalid, NotFound
from engine.domain.forms import (DEFAULT_DIR, FormRegistry, is_valid_project_code, is_valid_uscc,
                          uscc_check_char)

EXPECTED = {"registration", "agency_agreement", "pre_review", "intake", "approval_decision",
            "correction_request", "correction_response", "enquiry_answer",
            "coordination_decision", "site_opinion", "closure"}

GOOD_REGISTRATION = {
    "project_code": "2026-510117-36-03-000123",
    "project_name": "玉龙钢管生产线项目",
    "enterprise_name": "成都示例制造有限公司",
    "credit_code": "914403001922038216",  # a real, published code
    "legal_representative": "张三",
    "contact_name": "王雪",
    "contact_phone": "13800138000",
    "investment": 30000,
    "land_area": 230,
    "land_area_unit": "mu",
    "location": {"province": "四川省", "city": "成都市", "county": "郫都区"},
    "industry": "制造业",
    "stages_requested": ["stage1_project_land", "stage3_construction_permit"],
}


@pytest.fixture(scope="module")
def forms() -> FormRegistry:
    return FormRegistry.load(DEFAULT_DIR)


def errors_of(forms: FormRegistry, key: str, data: object) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as exc:
        forms.validate(key, data)
    assert exc.value.detail == f"form {key} is invalid"
    return exc.value.errors


def test_every_shipped_form_loads(forms: FormRegistry) -> None:
    assert EXPECTED <= set(forms.keys())
    for key in forms.keys():
        schema = forms.get(key)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["title"]


def test_unknown_form_is_not_found(forms: FormRegistry) -> None:
    with pytest.raises(NotFound):
        forms.get("nope")
    with pytest.raises(NotFound):
        forms.validate("nope", {})


@pytest.mark.parametrize("code", ["914403001922038216", "9144030071526726XG", "91110000802100433B"])
def test_real_uscc_codes_are_valid(code: str) -> None:
    assert is_valid_uscc(code)


def test_uscc_check_character_computed() -> None:
    assert uscc_check_char("91510117MA6CABC12") == "J"
    assert is_valid_uscc("91510117MA6CABC12J")
    assert not is_valid_uscc("91510117MA6CABC12K")
    assert not is_valid_uscc("91510117ma6cabc12j")  # lower case is not in the charset
    assert not is_valid_uscc("9151011IMA6CABC12J")  # I excluded; digits 3-8 are a division
    assert not is_valid_uscc("91510117MA6CABC12")


def test_project_code() -> None:
    assert is_valid_project_code("2026-510117-36-03-000123")
    for bad in ("2026-510117-36-03-00012", "2026510117360300012", "1899-510117-36-03-000123",
                "2026-990117-36-03-000123", "2026-510117-36-03-000000", None):
        assert not is_valid_project_code(bad), bad


def test_good_registration_passes(forms: FormRegistry) -> None:
    assert forms.validate("registration", GOOD_REGISTRATION) == GOOD_REGISTRATION


def test_bad_uscc_check_char_names_the_field(forms: FormRegistry) -> None:
    data = dict(GOOD_REGISTRATION, credit_code="914403001922038217")
    errs = errors_of(forms, "registration", data)
    assert list(errs) == ["credit_code"]
    assert "expected 6" in errs["credit_code"][0]


def test_bad_project_code(forms: FormRegistry) -> None:
    errs = errors_of(forms, "registration", dict(GOOD_REGISTRATION, project_code="2026-51011-36-03-000123"))
    assert list(errs) == ["project_code"]


def test_missing_required_fields_keyed_by_their_own_path(forms: FormRegistry) -> None:
    data = copy.deepcopy(GOOD_REGISTRATION)
    del data["enterprise_name"], data["stages_requested"], data["location"]["county"]
    errs = errors_of(forms, "registration", data)
    assert errs == {"enterprise_name": ["required"], "stages_requested": ["required"],
                    "location.county": ["required"]}


def test_all_errors_reported_at_once(forms: FormRegistry) -> None:
    data = dict(GOOD_REGISTRATION, investment=0, contact_phone="12345", colour="red",
                stages_requested=["stage1_project_land", "stage1_project_land", "stage9"],
                location={"province": "四川省", "city": " ", "county": "郫都区"})
    errs = errors_of(forms, "registration", data)
    assert set(errs) == {"investment", "contact_phone", "colour", "stages_requested",
                         "stages_requested[2]", "location.city"}
    assert errs["colour"] == ["unknown field"]
    assert errs["location.city"] == ["must not be blank"]


def test_empty_stages_refused(forms: FormRegistry) -> None:
    errs = errors_of(forms, "registration", dict(GOOD_REGISTRATION, stages_requested=[]))
    assert list(errs) == ["stages_requested"]


def test_root_not_an_object(forms: FormRegistry) -> None:
    assert "$" in errors_of(forms, "registration", ["x"])


@pytest.mark.parametrize("decision", ["refuse", "correction", "approve_pending_materials"])
def test_opinion_required_unless_approving(forms: FormRegistry, decision: str) -> None:
    errs = errors_of(forms, "approval_decision", {"decision": decision})
    assert errs["opinion"] == ["required"]
    forms.validate("approval_decision", {"decision": "approve"})


def test_pending_materials_need_conditions(forms: FormRegistry) -> None:
    errs = errors_of(forms, "approval_decision",
                     {"decision": "approve_pending_materials", "opinion": "先行许可"})
    assert list(errs) == ["conditions"]
    forms.validate("approval_decision", {"decision": "approve_pending_materials", "opinion": "先行许可",
                                         "conditions": ["30日内补交消防验收意见"],
                                         "attachments": ["doc:123"]})


def test_bad_decision_enum(forms: FormRegistry) -> None:
    errs = errors_of(forms, "approval_decision", {"decision": "maybe", "opinion": "x"})
    assert list(errs) == ["decision"]


def test_intake_nested_paths(forms: FormRegistry) -> None:
    errs = errors_of(forms, "intake", {"decision": "correction", "missing_materials": [{"reason": "过期"}, {"name": "x", "size": 1}]})
    assert errs == {"missing_materials[0].name": ["required"], "missing_materials[1].size": ["unknown field"]}
    errs = errors_of(forms, "intake", {"decision": "accept_with_commitment"})
    assert set(errs) == {"missing_materials", "commitment_due"}
    errs = errors_of(forms, "intake", {"decision": "accept_with_commitment", "commitment_due": "2026-02-30",
                                       "missing_materials": [{"name": "环评批复"}]})
    assert list(errs) == ["commitment_due"]
    forms.validate("intake", {"decision": "accept"})


def test_correction_request_needs_named_items(forms: FormRegistry) -> None:
    assert list(errors_of(forms, "correction_request", {"materials": []})) == ["materials"]
    errs = errors_of(forms, "correction_request", {"materials": [{"name": "施工图"}]})
    assert errs == {"materials[0].reason": ["required"]}
    forms.validate("correction_response", {"materials": [{"name": "施工图", "attachment": "doc:9"}]})


def test_enquiry_answer_needs_preliminary_opinion(forms: FormRegistry) -> None:
    assert errors_of(forms, "enquiry_answer", {"answer": "可以"}) == {"preliminary_opinion": ["required"]}


def test_site_opinion_per_site(forms: FormRegistry) -> None:
    errs = errors_of(forms, "site_opinion", {"sites": [{"site": "A", "decision": "agree"},
                                                       {"site": "B", "decision": "conditional"}]})
    assert errs == {"sites[1].opinion": ["required"]}


def test_closure_rules(forms: FormRegistry) -> None:
    forms.validate("closure", {"outcome": "completed", "files_handed_over": ["施工许可证"]})
    assert list(errors_of(forms, "closure", {"outcome": "completed"})) == ["files_handed_over"]
    assert list(errors_of(forms, "closure", {"outcome": "terminated_by_enterprise"})) == ["reason"]


def test_agency_agreement_nested_phone(forms: FormRegistry) -> None:
    data = {"stages_agreed": ["stage1_project_land"], "agent_name": "李四", "signed_date": "2026-03-02",
            "enterprise_contact": {"name": "王雪", "phone": "028-8765"}}
    assert list(errors_of(forms, "agency_agreement", data)) == ["enterprise_contact.phone"]
    data["enterprise_contact"]["phone"] = "028-87654321"
    forms.validate("agency_agreement", data)


def test_bad_form_file_is_named(tmp_path) -> None:
    (tmp_path / "good.json").write_text(json.dumps({"type": "object"}))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "badschema.json").write_text(json.dumps({"type": "object", "properties": {"a": {"type": "strin"}}}))
    with pytest.raises(Invalid) as exc:
        FormRegistry.load(tmp_path)
    assert set(exc.value.errors) == {"broken.json", "badschema.json"}
    assert "properties/a/type" in exc.value.errors["badschema.json"][0]
    assert "broken.json" in exc.value.detail


def test_form_must_be_an_object_schema(tmp_path) -> None:
    (tmp_path / "x.json").write_text(json.dumps({"type": "array"}))
    with pytest.raises(Invalid, match="x.json"):
        FormRegistry.load(tmp_path)
