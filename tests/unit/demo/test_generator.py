"""The demo source generator: deterministic, well-formed, referentially intact CSV extracts."""

from __future__ import annotations

import csv
import time
from collections import Counter
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from autonomos.demo.generator import FILES, generate, main

EXPECTED_ROWS = {
    "salesforce_accounts.csv": 200,
    "salesforce_contacts.csv": 600,
    "salesforce_opportunities.csv": 400,
    "stripe_customers.csv": 250,
    "stripe_subscriptions.csv": 300,
    "stripe_invoices.csv": 2000,
    "stripe_payments.csv": 2500,
    "zendesk_tickets.csv": 1500,
    "aws_cur_costs.csv": 5000,
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate(out)


def _rows(out: Path, name: str) -> list[dict[str, str]]:
    with (out / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _ids(out: Path, name: str, column: str = "id") -> set[str]:
    return {r[column] for r in _rows(out, name)}


def _digest(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.csv"))}


def test_files_headers_and_counts(demo: tuple[Path, dict[str, int]]) -> None:
    out, counts = demo
    assert sorted(p.name for p in out.glob("*.csv")) == sorted(FILES)
    assert set(counts) == set(FILES)
    for name, rows in EXPECTED_ROWS.items():
        assert counts[name] == rows, name
    for name, header in FILES.items():
        with (out / name).open(encoding="utf-8", newline="") as fh:
            assert next(csv.reader(fh)) == header
        assert len(_rows(out, name)) == counts[name]
    # Source-style names, not ontology names.
    assert "lineItem/UnblendedCost" in FILES["aws_cur_costs.csv"]
    assert "AccountId" in FILES["salesforce_contacts.csv"]
    assert "account_id" not in {c for header in FILES.values() for c in header}


def test_every_file_parses_with_pyarrow(demo: tuple[Path, dict[str, int]]) -> None:
    out, counts = demo
    for name in FILES:
        table = pacsv.read_csv(out / name)
        assert table.num_rows == counts[name]
        assert table.column_names == FILES[name]


def test_deterministic_and_seed_sensitive(
    demo: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    out, _ = demo
    generate(tmp_path / "again")
    assert _digest(tmp_path / "again") == _digest(out)
    generate(tmp_path / "other", seed=8)
    other = _digest(tmp_path / "other")
    assert all(other[name] != data for name, data in _digest(out).items())


def test_scale_multiplies_row_counts(demo: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    _, one = demo
    two = generate(tmp_path, scale=2)
    for name, rows in EXPECTED_ROWS.items():
        assert two[name] == 2 * rows, name
    assert two["zendesk_organizations.csv"] > one["zendesk_organizations.csv"]
    assert two["zendesk_users.csv"] > one["zendesk_users.csv"]
    with pytest.raises(ValueError):
        generate(tmp_path, scale=0)


def test_salesforce_ids_and_referential_integrity(demo: tuple[Path, dict[str, int]]) -> None:
    out, _ = demo
    accounts = _ids(out, "salesforce_accounts.csv", "Id")
    assert len(accounts) == 200 and all(len(i) == 18 and i[:3] == "001" for i in accounts)
    parents = {r["ParentId"] for r in _rows(out, "salesforce_accounts.csv")} - {""}
    assert parents and parents <= accounts
    for name, prefix in (
        ("salesforce_contacts.csv", "003"),
        ("salesforce_opportunities.csv", "006"),
    ):
        rows = _rows(out, name)
        assert {r["AccountId"] for r in rows} <= accounts
        assert len({r["Id"] for r in rows}) == len(rows)
        assert all(r["Id"].startswith(prefix) and len(r["Id"]) == 18 for r in rows)
    for row in _rows(out, "salesforce_accounts.csv"):
        assert row["CreatedDate"].endswith(".000Z") and row["SystemModstamp"].endswith("Z")


def test_stripe_referential_integrity(demo: tuple[Path, dict[str, int]]) -> None:
    out, _ = demo
    customers = _ids(out, "stripe_customers.csv")
    assert len(customers) == 250 and all(c.startswith("cus_") for c in customers)
    subs = _rows(out, "stripe_subscriptions.csv")
    invoices = _rows(out, "stripe_invoices.csv")
    charges = _rows(out, "stripe_payments.csv")
    assert {s["customer"] for s in subs} <= customers
    assert {i["customer"] for i in invoices} <= customers
    assert {i["subscription"] for i in invoices} - {""} <= {s["id"] for s in subs}
    assert {c["customer"] for c in charges} <= customers
    by_invoice = {i["id"]: i for i in invoices}
    for charge in charges:
        if charge["invoice"]:
            assert by_invoice[charge["invoice"]]["customer"] == charge["customer"]
    for inv in invoices:
        assert int(inv["total"]) == int(inv["subtotal"]) + int(inv["tax"])
        assert inv["status"] in {"draft", "open", "paid", "void", "uncollectible"}
        if inv["status"] == "paid":
            assert inv["amount_paid"] == inv["amount_due"] and inv["status_transitions.paid_at"]
    paid_invoices = {i["id"] for i in invoices if i["status"] == "paid" and int(i["amount_paid"])}
    succeeded = {c["invoice"] for c in charges if c["status"] == "succeeded" and c["invoice"]}
    assert succeeded <= paid_invoices
    assert {c["status"] for c in charges} <= {"succeeded", "failed", "pending"}
    assert {s["plan_interval"] for s in subs} == {"month", "year"}


def test_zendesk_referential_integrity(demo: tuple[Path, dict[str, int]]) -> None:
    out, _ = demo
    orgs = {r["id"]: r for r in _rows(out, "zendesk_organizations.csv")}
    users = {r["id"]: r for r in _rows(out, "zendesk_users.csv")}
    agents = {i for i, u in users.items() if u["role"] == "agent"}
    assert {u["organization_id"] for u in users.values()} - {""} <= set(orgs)
    for ticket in _rows(out, "zendesk_tickets.csv"):
        requester = users[ticket["requester_id"]]
        assert requester["email"] == ticket["requester_email"]
        assert ticket["organization_id"] == requester["organization_id"]
        if ticket["organization_id"]:
            assert orgs[ticket["organization_id"]]["name"] == ticket["organization_name"]
        assert ticket["assignee_id"] == "" or ticket["assignee_id"] in agents
        assert ticket["status"] in {"new", "open", "pending", "solved", "closed"}
    crm = _ids(out, "salesforce_accounts.csv", "Id")
    assert {o["external_id"] for o in orgs.values()} - {""} <= crm


def test_cur_carries_focus_information(demo: tuple[Path, dict[str, int]]) -> None:
    out, _ = demo
    rows = _rows(out, "aws_cur_costs.csv")
    kinds = Counter(r["lineItem/LineItemType"] for r in rows)
    assert {"Usage", "Tax", "Credit", "Fee", "SavingsPlanCoveredUsage", "DiscountedUsage"} <= set(
        kinds
    )
    assert kinds["SavingsPlanCoveredUsage"] == kinds["SavingsPlanNegation"]
    assert {r["lineItem/CurrencyCode"] for r in rows} == {"USD"}
    for r in rows:
        assert r["bill/BillingPeriodStartDate"] <= r["lineItem/UsageStartDate"]
        assert r["lineItem/UsageEndDate"] <= r["bill/BillingPeriodEndDate"]
        float(r["lineItem/UnblendedCost"])
    usage = [r for r in rows if r["lineItem/LineItemType"] == "Usage"]
    assert all(r["product/region"] and r["lineItem/ProductCode"] for r in usage)
    assert any(r["resourceTags/user:team"] == "" for r in usage)


def test_cross_source_overlap_for_entity_resolution(demo: tuple[Path, dict[str, int]]) -> None:
    out, _ = demo
    crm_domains = {
        r["Email"].split("@")[1] for r in _rows(out, "salesforce_contacts.csv") if r["Email"]
    }
    stripe_domains = {
        r["email"].split("@")[1].lower() for r in _rows(out, "stripe_customers.csv") if r["email"]
    }
    assert len(crm_domains & stripe_domains) > 100
    names = {r["Name"] for r in _rows(out, "salesforce_accounts.csv")}
    stripe_names = {r["name"] for r in _rows(out, "stripe_customers.csv")}
    assert names & stripe_names and stripe_names - names  # exact and varied spellings


def test_injected_data_quality_problems(demo: tuple[Path, dict[str, int]]) -> None:
    out, _ = demo
    contacts = _rows(out, "salesforce_contacts.csv")
    assert 0 < sum(not r["Email"] for r in contacts) < len(contacts) * 0.1
    customers = _rows(out, "stripe_customers.csv")
    assert any(not r["email"] for r in customers)
    emails = [r["email"] for r in customers if r["email"]]
    folded = Counter(e.lower() for e in emails)
    dupes = [e for e, n in folded.items() if n > 1]
    assert dupes and len(set(emails)) == len(emails)  # same address, different case
    tickets = _rows(out, "zendesk_tickets.csv")
    bad = [
        r
        for r in tickets
        if not all(
            len(r[c]) == 20 and r[c][4] == "-" and r[c].endswith("Z") and r[c][5:7] <= "12"
            for c in ("created_at", "updated_at")
        )
    ]
    assert 1 <= len(bad) <= len(tickets) * 0.01
    currencies = {r["currency"] for r in _rows(out, "stripe_invoices.csv")}
    assert any(c != c.lower() for c in currencies) and any(c == c.lower() for c in currencies)


def test_cli_and_speed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    start = time.perf_counter()
    assert main([str(tmp_path), "--seed", "3"]) == 0
    assert time.perf_counter() - start < 3
    assert "stripe_invoices.csv" in capsys.readouterr().out
    assert len(list(tmp_path.glob("*.csv"))) == len(FILES)


def test_committed_mock_sources_match_the_generator(tmp_path: Path) -> None:
    committed = Path(__file__).resolve().parents[3] / "mock_sources"
    assert (committed / "salesforce_accounts.csv").exists(), "mock_sources/ is missing"
    generate(tmp_path)
    assert _digest(tmp_path) == _digest(committed), (
        "mock_sources/ is stale: run `python -m autonomos.demo.generator mock_sources`"
    )
