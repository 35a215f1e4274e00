"""Camunda's JUEL subset, translated and evaluated by our restricted evaluator: the values a
Camunda Modeler file's conditions, groups and collections give, or a refusal naming the construct."""
from __future__ import annotations

import pytest

from engine.domain import expressions
from engine.domain.juel import JuelError, is_juel, translate, translate_text

DATA = {"amount": 1500, "approved": True, "name": "厂房", "items": [{"dept": "county.zrzyj"}, {"dept": "county.zjj"}],
        "project": {"type": "industrial", "land": {"area": 12.5}}, "note": "", "nothing": None, "list": []}


def value(text: str):
    return expressions.evaluate(translate_text(text), dict(DATA))


@pytest.mark.parametrize("text, expected", [
    ("${amount > 1000}", True),
    ("${amount gt 1000 && approved}", True),
    ("${amount le 1000 or !approved}", False),
    ("#{amount == 1500}", True),
    ("${amount eq 1500 and not (name ne '厂房')}", True),
    ("${project.type}", "industrial"),
    ("${project['type'] == \"industrial\"}", True),
    ("${project.land.area * 2}", 25.0),
    ("${items[1].dept}", "county.zjj"),
    ("${items[0]['dept']}", "county.zrzyj"),
    ("${amount div 3}", 500),
    ("${amount mod 7}", 1500 % 7),
    ("${-amount + 1}", -1499),
    ("${empty note}", True),
    ("${empty nothing}", True),
    ("${empty list}", True),
    ("${empty items}", False),
    ("${not empty items}", True),
    ("${amount > 1000 ? 'county.fgj' : 'city.fgw'}", "county.fgj"),
    ("${approved ? (amount < 10 ? 'a' : 'b') : 'c'}", "b"),
    ("${execution.getVariable('amount') >= 1500}", True),
    ("${execution.getVariable('project').land.area}", 12.5),
    ("${null == nothing}", True),
    ("${true && false}", False),
    ("${'it\\'s'}", "it's"),
    ("${1.5e1}", 15.0),
])
def test_supported_subset_evaluates_like_camunda(text, expected):
    assert value(text) == expected


@pytest.mark.parametrize("text, construct", [
    ("${timerUtil.next(execution)}", "timerUtil.next()"),
    ("${dateTime().plusWeeks(1)}", "dateTime()"),
    ("${execution.setVariable('a', 1)}", "execution.setVariable"),
    ("${execution}", "execution"),
    ("${name.toUpperCase()}", "name.toUpperCase()"),
    ("${__class__}", "__class__"),
    ("${amount >}", "the end"),
    ("${'open}", "'open"),
    ("${a ; b}", ";"),
    ("${}", "${}"),
])
def test_everything_else_is_refused_naming_the_construct(text, construct):
    with pytest.raises(JuelError) as refused:
        translate_text(text)
    assert refused.value.construct == construct
    assert construct == "${}" or construct in str(refused.value)


def test_only_whole_wrapped_values_are_juel():
    assert is_juel("${a}") and is_juel(" #{a} ") and not is_juel("a > 1") and not is_juel("x ${a}")


def test_the_translation_gains_no_power():
    with pytest.raises(JuelError):
        translate("name.__class__")
    assert translate("a.b") == "a['b']"  # a property is a key of the variable's map, nothing more
