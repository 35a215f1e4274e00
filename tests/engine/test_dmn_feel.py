"""FEEL unary tests and simple expressions as DMN tables use them, translated into the restricted
expression language and evaluated by it (no database)."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from engine.domain import expressions
from engine.domain.dmn import feel


def accepts(cell: str, value, **variables) -> bool:
    source = feel.unary_tests(cell)
    return True if source is None else expressions.evaluate(source, {feel.CELL_INPUT: value, **variables})


@pytest.mark.parametrize("cell, value, expected", [
    ('"出让"', "出让", True), ('"出让"', "划拨", False),
    ('"划拨","出让"', "划拨", True), ('"划拨", "出让"', "existing", False),
    ('not("existing")', "出让", True), ('not("existing")', "existing", False),
    ('not("a", "b")', "b", False), ('not("a", "b")', "c", True),
    ("< 10", 9.99, True), ("< 10", 10, False), ("<= 10", 10, True), ("> 10", 10, False), (">= 10", 10, True),
    ("< 10", None, False), ("> -5", -4, True), ("-5", -5, True),
    ("[1..5]", 1, True), ("[1..5]", 5, True), ("[1..5]", 5.01, False), ("(1..5]", 1, False),
    ("]1..5]", 1, False), ("[1..5)", 5, False), ("[1..5[", 5, False), ("[1..5[", 4.9, True), ("[1..5]", None, False),
    ("< 10, > 100", 50, False), ("< 10, > 100", 500, True), ("[0..10], [20..30]", 25, True),
    ("10", 10, True), ("10", 10.0, True), ("2.5", 2.5, True),
    ("true", True, True), ("true", False, False), ("false", False, True), ("null", None, True),
    ("-", "anything", True), ("", None, True), ("  ", 3, True),
    ('"say \\"hi\\""', 'say "hi"', True),
    ('< date("2026-05-01")', "2026-04-30", True), ('< date("2026-05-01")', date(2026, 5, 1), False),
    ('>= date("2026-05-01")', datetime(2026, 5, 1, 9, 30), True),
    ('[date("2026-01-01")..date("2026-12-31")]', "2026-07-01", True),
    ('[date("2026-01-01")..date("2026-12-31")]', "2027-01-01", False),
])
def test_unary_tests(cell, value, expected):
    assert accepts(cell, value) is expected


def test_endpoints_may_name_variables():
    assert accepts("< limit", 5, limit=10) and not accepts("< limit", 15, limit=10)
    assert accepts("[low..project.high]", 7, low=5, project={"high": 9})
    assert accepts("= other", "x", other="x") and accepts("!= other", "y", other="x")


@pytest.mark.parametrize("cell, construct", [
    ('matches("a")', "matches()"),
    ("> 5 and < 9", "and"),
    ("cellInput > 5", "> 5"),
    ("[1..]", "]"),
    ('"unterminated', '"unterminated'),
    ("< 1 +", "+"),
    ('date("tomorrow")', 'date(tomorrow)'),
    ("__class__", "__class__"),
    ("some x in y satisfies x", "some"),
    ("x * 2", "*"),
])
def test_constructs_outside_the_subset_are_refused_naming_them(cell, construct):
    with pytest.raises(feel.FeelError) as error:
        feel.unary_tests(cell)
    assert error.value.construct.startswith(construct), (error.value.construct, str(error.value))


@pytest.mark.parametrize("text, variables, expected", [
    ('"立项备案"', {}, "立项备案"), ("42", {}, 42), ("true", {}, True), ("null", {}, None),
    ("project.investment", {"project": {"investment": 300}}, 300),
    ("amount * 2 + 1", {"amount": 5}, 11), ('amount > 10 and kind == "a"', {"amount": 11, "kind": "a"}, True),
    ("${amount}", {"amount": 3}, 3),
])
def test_expressions(text, variables, expected):
    assert expressions.evaluate(feel.expression(text), variables) == expected


@pytest.mark.parametrize("text", ['upper("a")', "x.__class__", 'date and time("2026-01-01T00:00:00")',
                                  "for i in [1,2] return i", "a = 1"])
def test_expressions_outside_the_subset_are_refused(text):
    with pytest.raises(feel.FeelError):
        feel.expression(text)


def test_a_huge_cell_is_refused():
    with pytest.raises(feel.FeelError, match="longer than"):
        feel.unary_tests('"' + "x" * 5000 + '"')


def test_the_input_value_may_be_named_as_camunda_does():
    assert accepts("< cellInput", 5) is False  # the value is not below itself
    source = feel.unary_tests("[0..limit], = x", input_variable="x")
    assert expressions.evaluate(source, {feel.CELL_INPUT: 50, "limit": 10}) is True
