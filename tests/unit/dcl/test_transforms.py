"""Mapping transforms: a closed catalogue; arguments are checked and quoted, never SQL."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from autonomos.dcl.errors import MappingError
from autonomos.dcl.transforms import TRANSFORMS, compile_transform, validate


def apply(transform: str, value: object, **others: object) -> Any:
    cols = {"v": value, **others}
    names = list(cols)

    def col(name: str) -> str | None:
        return f'"{name}"' if name in cols else None

    expr = compile_transform(transform, '"v"', col)
    select = ", ".join(f'? AS "{n}"' for n in names)
    row = duckdb.connect().execute(f"SELECT {expr} FROM (SELECT {select})", list(cols.values()))
    return row.fetchone()[0]  # type: ignore[index]


@pytest.mark.parametrize(
    "transform, value, expected",
    [
        ("trim|lower", "  MiXed ", "mixed"),
        ("upper", "eur", "EUR"),
        ("nullif_empty", "  ", None),
        ("cents_to_units", 12345, 123.45),
        ("multiply:0.5", "10", 5),
        ("negate", 3, -3),
        ("domain", "https://www.Acme.com:443/path?q=1", "acme.com"),
        ("domain", "Ada@Example.org", "example.org"),
        ("split_list", "a, b,,c", '["a","b","c"]'),
        ("split_list:;", "a;b", '["a","b"]'),
        ("zero_if_null", None, 0),
        ("default:n/a", None, "n/a"),
        ("not", "true", False),
        ("tag:user:team", "payments", '{"user:team":"payments"}'),
        ("aws_cur_charge_category", "SavingsPlanRecurringFee", "Purchase"),
        ("aws_cur_charge_category", "Refund", "Adjustment"),
        ("aws_service_category", "AmazonRDS", "Databases"),
        ("aws_service_category", "SomethingNew", "Other"),
    ],
)
def test_transforms(transform: str, value: object, expected: object) -> None:
    got = apply(transform, value)
    assert (float(got) if isinstance(expected, float) else got) == expected


def test_transforms_that_read_other_columns() -> None:
    assert apply("coalesce:other", None, other="fallback") == "fallback"
    assert apply("coalesce:missing", None) is None
    cost = apply(
        "aws_cur_effective_cost",
        2.5,
        line_item_line_item_type="DiscountedUsage",
        reservation_effective_cost=2.5,
        line_item_unblended_cost=0.0,
    )
    assert float(cost) == 2.5
    negation = apply("aws_cur_effective_cost", -8.0, line_item_line_item_type="SavingsPlanNegation")
    assert float(negation) == 0
    assert apply("unix_seconds", 0).year == 1970


@pytest.mark.parametrize(
    "bad",
    [
        "drop_table",
        "lower:1",
        "multiply",
        "multiply:1); DROP TABLE x; --",
        "parse_timestamp:%Y'",
        "x" * 600,
    ],
)
def test_invalid(bad: str) -> None:
    with pytest.raises(MappingError):
        validate(bad)


def test_validate_normalises() -> None:
    assert validate(" trim | lower ") == "trim|lower"
    assert validate("") is None and validate(None) is None
    assert all(t.description for t in TRANSFORMS.values())


def test_text_arguments_are_literals() -> None:
    assert apply("default:x'); DROP TABLE t; --", None) == "x'); DROP TABLE t; --"
