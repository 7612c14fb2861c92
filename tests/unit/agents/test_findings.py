"""The finding shape: bounded, severities ordered, stable keys."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from autonomos.agents.findings import AgentReport, Finding, Severity, finding_key, money, pct

EVIDENCE = {"view": "opportunity", "query": "SELECT 1"}


def test_text_quoting_tenant_data_is_clipped_not_refused() -> None:
    f = Finding(
        kind="slipped_deals",
        severity="low",
        title="t" * 500,
        summary="s" * 5000,
        key="k",
        evidence=EVIDENCE,
    )
    assert len(f.title) == 300 and f.title.endswith("…") and len(f.summary) == 4000


def test_shape_is_enforced() -> None:
    good = {"kind": "k", "severity": "low", "title": "t", "summary": "", "key": "k"}
    Finding.model_validate(good | {"evidence": EVIDENCE})
    for bad in (
        {"kind": "Bad Kind"},
        {"kind": ""},
        {"severity": "critical"},
        {"evidence": {"view": "x", "query": "q", "row_keys": ["k"] * 51}},
        {"metrics": {str(i): i for i in range(101)}},
    ):
        with pytest.raises(ValidationError):
            Finding.model_validate(good | {"evidence": EVIDENCE} | bad)


def test_severities_keys_and_counts() -> None:
    assert Severity.at_least("medium") == [Severity.MEDIUM, Severity.HIGH]
    assert [s.rank for s in Severity] == [0, 1, 2, 3]
    assert finding_key("cost_anomaly", "USD", "AWS", "EC2") == "cost_anomaly:USD:AWS:EC2"
    long = finding_key("idle_resource", "USD", "r" * 400)
    assert len(long) == 297 and long == finding_key("idle_resource", "USD", "r" * 400)
    assert long != finding_key("idle_resource", "USD", "r" * 399 + "s")
    report = AgentReport(
        agent="x",
        findings=[
            Finding(kind="k", severity=s, title="t", summary="", key="k", evidence=EVIDENCE)
            for s in ("high", "high", "info")
        ],
    )
    assert report.counts() == {"info": 1, "low": 0, "medium": 0, "high": 2}
    assert money(1234.5, "USD") == "1,234.50 USD" and money(None, "USD") == "n/a"
    assert pct(0.256) == "+26%" and pct(-0.1) == "-10%" and pct(None) == "n/a"
