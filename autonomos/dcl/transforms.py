"""Mapping transforms: a closed catalogue of named, parameterised SQL steps.

A mapping's ``transform`` is a pipeline of steps joined by ``|``; a step is a name and,
for some, one argument after ``:`` (``trim|lower``, ``multiply:0.01``,
``coalesce:billing_email``). Each step rewrites the source value's SQL expression; the
result is then cast to the ontology field's type. Arbitrary SQL is never accepted: the
names come from :data:`TRANSFORMS`, numbers and formats are checked against patterns,
text arguments are bound as quoted literals and column arguments are quoted identifiers,
so a transform cannot reach anything but the row it maps.

``validate`` checks syntax only (what the registry stores); ``compile_transform`` builds
the SQL given a resolver of source columns (what the view builder runs).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from autonomos.dcl.errors import MappingError

DECIMAL = "DECIMAL(38, 10)"
MAX_TRANSFORM_CHARS = 500

_NUMBER = re.compile(r"^-?\d{1,18}(\.\d{1,10})?$")
_STRPTIME = re.compile(r"^[%A-Za-z0-9 :/._,+\-TZ]{1,64}$")
_SEPARATOR = re.compile(r"^[^\x00-\x1f]{1,8}$")

# Column resolver: source column name -> SQL expression (quoted) or None when absent.
Column = Callable[[str], str | None]


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _dec(e: str) -> str:
    return f"TRY_CAST({e} AS {DECIMAL})"


def _text(e: str) -> str:
    return f"CAST({e} AS VARCHAR)"


def _domain(e: str) -> str:
    # host of a URL or of an e-mail address, lower-cased, without www. and port
    host = (
        f"regexp_extract(lower(trim({_text(e)})), "
        r"'^(?:[a-z][a-z0-9+.\-]*://)?(?:[^@/]*@)?(?:www\.)?([^/:?#@]+)', 1)"
    )
    return f"nullif({host}, '')"


_AWS_CHARGE_CATEGORY = {
    "Usage": "Usage",
    "DiscountedUsage": "Usage",
    "SavingsPlanCoveredUsage": "Usage",
    "SavingsPlanNegation": "Usage",
    "Tax": "Tax",
    "Credit": "Credit",
    "BundledDiscount": "Credit",
    "EdpDiscount": "Credit",
    "PrivateRateDiscount": "Credit",
    "Refund": "Adjustment",
    "Fee": "Purchase",
    "RIFee": "Purchase",
    "SavingsPlanRecurringFee": "Purchase",
    "SavingsPlanUpfrontFee": "Purchase",
}


# FOCUS 1.0 ServiceCategory of AWS product codes (lineItem/ProductCode); others: Other
_AWS_SERVICE_CATEGORY = {
    "AmazonEC2": "Compute",
    "AWSLambda": "Compute",
    "AmazonEKS": "Compute",
    "AmazonECS": "Compute",
    "ComputeSavingsPlans": "Compute",
    "AmazonLightsail": "Compute",
    "AmazonS3": "Storage",
    "AmazonEFS": "Storage",
    "AmazonGlacier": "Storage",
    "AWSBackup": "Storage",
    "AmazonRDS": "Databases",
    "AmazonDynamoDB": "Databases",
    "AmazonElastiCache": "Databases",
    "AmazonDocDB": "Databases",
    "AmazonCloudFront": "Networking",
    "AmazonVPC": "Networking",
    "AWSELB": "Networking",
    "AmazonRoute53": "Networking",
    "AWSDataTransfer": "Networking",
    "AmazonCloudWatch": "Management and Governance",
    "AWSCloudTrail": "Management and Governance",
    "AWSConfig": "Management and Governance",
    "AWSSupportBusiness": "Management and Governance",
    "AWSSupportEnterprise": "Management and Governance",
    "AmazonSageMaker": "AI and Machine Learning",
    "AmazonBedrock": "AI and Machine Learning",
    "AmazonRedshift": "Analytics",
    "AmazonAthena": "Analytics",
    "AWSGlue": "Analytics",
    "AmazonKinesis": "Analytics",
    "AmazonSNS": "Integration",
    "AWSQueueService": "Integration",
    "awskms": "Security",
    "AWSSecretsManager": "Security",
    "AmazonGuardDuty": "Security",
}


def _case(e: str, table: dict[str, str], default: str) -> str:
    whens = " ".join(f"WHEN {quote_literal(k)} THEN {quote_literal(v)}" for k, v in table.items())
    return f"CASE {_text(e)} {whens} ELSE {quote_literal(default)} END"


def _aws_charge_category(e: str) -> str:
    return _case(e, _AWS_CHARGE_CATEGORY, "Adjustment")


def _aws_effective_cost(e: str, col: Column) -> str:
    """Reads the CUR columns by name, so it can sit on any of them (a source field maps to
    one target, and the unblended cost already feeds billed_cost)."""

    def c(name: str) -> str:
        return col(name) or "NULL"

    kind = _text(c("line_item_line_item_type"))
    return (
        f"CASE {kind} "
        f"WHEN 'DiscountedUsage' THEN {_dec(c('reservation_effective_cost'))} "
        f"WHEN 'SavingsPlanCoveredUsage' THEN "
        f"{_dec(c('savings_plan_savings_plan_effective_cost'))} "
        f"WHEN 'SavingsPlanNegation' THEN CAST(0 AS {DECIMAL}) "
        f"ELSE {_dec(col('line_item_unblended_cost') or e)} END"
    )


@dataclass(frozen=True)
class Transform:
    name: str
    description: str
    arg: str | None = None  # "number" | "text" | "column" | "format" | "separator" | None
    optional_arg: bool = False


TRANSFORMS: dict[str, Transform] = {
    t.name: t
    for t in (
        Transform("trim", "Strip surrounding whitespace."),
        Transform("lower", "Lower-case text."),
        Transform("upper", "Upper-case text (e.g. currency codes)."),
        Transform("nullif_empty", "Empty or blank text becomes null."),
        Transform("cents_to_units", "Minor currency units to major (divide by 100)."),
        Transform("multiply", "Multiply by a number (multiply:0.01).", "number"),
        Transform("negate", "Change the sign of a number."),
        Transform("unix_seconds", "Unix epoch seconds to a timestamp."),
        Transform("unix_millis", "Unix epoch milliseconds to a timestamp."),
        Transform("parse_timestamp", "Parse text with a strptime format.", "format"),
        Transform("domain", "Host of a URL or e-mail address (no scheme, www., port, path)."),
        Transform(
            "split_list",
            "Split text into a JSON list (default separator ',').",
            "separator",
            optional_arg=True,
        ),
        Transform("zero_if_null", "Null becomes 0 (costs that must not be null)."),
        Transform("default", "Null becomes the given text.", "text"),
        Transform("coalesce", "Null falls back to another source field.", "column"),
        Transform("not", "Boolean negation (e.g. is_active -> is_deleted)."),
        Transform("tag", "A JSON object {key: value} (one tag column, e.g. tag:team).", "text"),
        Transform(
            "aws_service_category",
            "AWS product code (lineItem/ProductCode) to FOCUS ServiceCategory.",
        ),
        Transform(
            "aws_cur_charge_category", "AWS CUR lineItem/LineItemType to FOCUS ChargeCategory."
        ),
        Transform(
            "aws_cur_effective_cost",
            "AWS CUR FOCUS EffectiveCost: reservation / Savings Plan effective cost by "
            "line item type, 0 on SavingsPlanNegation, else lineItem/UnblendedCost (map it "
            "from reservation_effective_cost).",
        ),
    )
}


def _steps(transform: str) -> list[tuple[str, str | None]]:
    if len(transform) > MAX_TRANSFORM_CHARS:
        raise MappingError(f"transform is longer than {MAX_TRANSFORM_CHARS} characters")
    steps = []
    for raw in transform.split("|"):
        name, sep, arg = raw.strip().partition(":")
        name = name.strip()
        spec = TRANSFORMS.get(name)
        if spec is None:
            raise MappingError(
                f"unknown transform {name!r}; known: {', '.join(sorted(TRANSFORMS))}"
            )
        value: str | None = arg if sep else None
        if spec.arg is None and value is not None:
            raise MappingError(f"transform {name!r} takes no argument")
        if spec.arg is not None and value is None and not spec.optional_arg:
            raise MappingError(f"transform {name!r} needs an argument ({name}:<{spec.arg}>)")
        if value is not None:
            _check_arg(spec, value)
        steps.append((name, value))
    return steps


def _check_arg(spec: Transform, value: str) -> None:
    ok = {
        "number": _NUMBER.match(value.strip()),
        "format": _STRPTIME.match(value),
        "separator": _SEPARATOR.match(value),
        "text": 0 < len(value) <= 200 and "\x00" not in value,
        "column": 0 < len(value) <= 500 and "\x00" not in value,
    }[spec.arg or ""]
    if not ok:
        raise MappingError(f"invalid argument {value!r} for transform {spec.name!r}")


def validate(transform: str | None) -> str | None:
    """The transform, normalised (``None`` for empty); MappingError when invalid."""
    if transform is None or not transform.strip():
        return None
    steps = _steps(transform)
    return "|".join(name if arg is None else f"{name}:{arg}" for name, arg in steps)


def compile_transform(transform: str | None, expr: str, col: Column) -> str:
    """SQL applying ``transform`` to ``expr`` (a quoted column or expression)."""
    if not transform:
        return expr
    e = expr
    for name, arg in _steps(transform):
        e = _step(name, arg, e, col)
    return e


def _step(name: str, arg: str | None, e: str, col: Column) -> str:
    match name:
        case "trim":
            return f"trim({_text(e)})"
        case "lower":
            return f"lower({_text(e)})"
        case "upper":
            return f"upper({_text(e)})"
        case "nullif_empty":
            return f"nullif(trim({_text(e)}), '')"
        case "cents_to_units":
            return f"({_dec(e)} / 100)"
        case "multiply":
            return f"({_dec(e)} * CAST({quote_literal((arg or '').strip())} AS {DECIMAL}))"
        case "negate":
            return f"(-{_dec(e)})"
        case "unix_seconds":
            return f"to_timestamp(TRY_CAST({e} AS DOUBLE))"
        case "unix_millis":
            return f"epoch_ms(TRY_CAST({e} AS BIGINT))"
        case "parse_timestamp":
            return f"try_strptime({_text(e)}, {quote_literal(arg or '')})"
        case "domain":
            return _domain(e)
        case "split_list":
            sep = quote_literal(arg or ",")
            return (
                f"to_json(list_filter(list_transform(string_split({_text(e)}, {sep}), "
                "lambda x: trim(x)), lambda x: x <> ''))"
            )
        case "zero_if_null":
            return f"coalesce({_dec(e)}, CAST(0 AS {DECIMAL}))"
        case "default":
            return f"coalesce({_text(e)}, {quote_literal(arg or '')})"
        case "coalesce":
            other = col(arg or "")
            return e if other is None else f"coalesce({_text(e)}, {_text(other)})"
        case "not":
            return f"(NOT TRY_CAST({e} AS BOOLEAN))"
        case "tag":
            return (
                f"CASE WHEN {e} IS NULL THEN NULL "
                f"ELSE CAST(json_object({quote_literal(arg or '')}, {_text(e)}) AS VARCHAR) END"
            )
        case "aws_service_category":
            return _case(e, _AWS_SERVICE_CATEGORY, "Other")
        case "aws_cur_charge_category":
            return _aws_charge_category(e)
        case "aws_cur_effective_cost":
            return _aws_effective_cost(e, col)
    raise MappingError(f"unknown transform {name!r}")  # pragma: no cover - _steps checked
