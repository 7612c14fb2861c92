"""Entity resolution on hand-built tricky cases and on the demo's CRM + billing + help desk."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from autonomos.dcl.resolution import (
    MAX_BLOCK,
    ResolutionError,
    components,
    norm_domain_sql,
    norm_name_sql,
    resolve,
)

MOCK = Path(__file__).resolve().parents[3] / "mock_sources"

ACCOUNT_DDL = """
CREATE TABLE account (
    account_id VARCHAR, name VARCHAR, domain VARCHAR, industry VARCHAR, employee_count BIGINT,
    annual_revenue DECIMAL(38, 9), phone VARCHAR, country VARCHAR, city VARCHAR,
    owner_id VARCHAR, parent_account_id VARCHAR, created_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ, is_deleted BOOLEAN,
    _source_connection VARCHAR, _source_stream VARCHAR, _source_key VARCHAR,
    _synced_at TIMESTAMPTZ
)
"""
CONTACT_DDL = """
CREATE TABLE contact (
    contact_id VARCHAR, account_id VARCHAR, first_name VARCHAR, last_name VARCHAR,
    email VARCHAR, phone VARCHAR, title VARCHAR, owner_id VARCHAR, created_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ, is_deleted BOOLEAN,
    _source_connection VARCHAR, _source_stream VARCHAR, _source_key VARCHAR,
    _synced_at TIMESTAMPTZ
)
"""


def _accounts(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """rows: (connection, key, name, domain, industry, updated_at, is_deleted)."""
    con.execute(ACCOUNT_DDL)
    con.executemany(
        "INSERT INTO account (account_id, name, domain, industry, updated_at, is_deleted, "
        "_source_connection, _source_stream, _source_key, _synced_at) "
        "VALUES (?2, ?3, ?4, ?5, ?6::TIMESTAMPTZ, ?7, ?1, 'accounts', ?2, "
        "TIMESTAMPTZ '2026-01-01')",
        rows,
    )


def _contacts(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """rows: (connection, key, account_id, first, last, email)."""
    con.execute(CONTACT_DDL)
    con.executemany(
        "INSERT INTO contact (contact_id, account_id, first_name, last_name, email, "
        "_source_connection, _source_stream, _source_key, _synced_at) "
        "VALUES (?2, ?3, ?4, ?5, ?6, ?1, 'contacts', ?2, TIMESTAMPTZ '2026-01-01')",
        rows,
    )


def _groups(con: duckdb.DuckDBPyConnection, table: str) -> set[frozenset[str]]:
    rows = con.execute(
        f"SELECT list_transform(members, lambda m: m.connection || ':' || m.key) FROM {table}"
    ).fetchall()
    return {frozenset(r[0]) for r in rows}


TRICKY = [
    # same company, written differently in the CRM, billing and the help desk
    (
        "crm",
        "A1",
        "Acme Analytics Inc.",
        "https://www.acme-analytics.com/",
        "Software",
        "2025-05-01",
        False,
    ),
    ("billing", "cus_1", "ACME ANALYTICS, INC", None, None, "2025-01-01", False),
    ("helpdesk", "900", "acme analytics", '["acme-analytics.com"]', None, "2024-01-01", False),
    # with and without www / scheme / path, different spelling of the legal form
    (
        "crm",
        "A2",
        "Northwind Studios LLC",
        "http://northwindstudios.com/about",
        "Media",
        None,
        False,
    ),
    ("helpdesk", "901", "Northwind Studios", "www.northwindstudios.com", None, None, False),
    # similar names, different companies: never merged
    ("crm", "A3", "Northwind Pharma Corp.", "northwindpharma.com", "Health", None, False),
    ("billing", "cus_2", "NORTHWIND PHARMA, CORP", None, None, None, False),
    # same name, conflicting domains: two companies
    ("crm", "A4", "Summit Logistics Ltd", "summitlogistics.co.uk", None, None, False),
    ("billing", "cus_3", "Summit Logistics Inc", "summit-logistics.com", None, None, False),
    # a shared free-mail domain is no evidence
    ("billing", "cus_4", "Bluebird Bakery", "gmail.com", None, None, False),
    ("billing", "cus_5", "Cedar Dental", "https://gmail.com", None, None, False),
    # a duplicate inside one source is folded in too
    ("billing", "cus_6", "Pinnacle Data GmbH", None, None, None, False),
    ("billing", "cus_7", "pinnacle data gmbh", None, None, None, False),
    # a soft-deleted record takes no part
    ("crm", "A5", "Pinnacle Data GmbH", "pinnacle-data.de", None, None, True),
]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    _accounts(c, TRICKY)
    _contacts(
        c,
        [
            ("crm", "C1", "A1", "Ada", "Lovelace", "Ada.Lovelace@acme-analytics.com"),
            ("helpdesk", "u1", "900", "Ada", "Lovelace", " ada.lovelace@acme-analytics.com "),
            # no e-mail in billing, but same person at the same (unified) company
            ("billing", "p1", "cus_1", "ada", "lovelace", None),
            # same name at another company: another person
            ("crm", "C2", "A2", "Ada", "Lovelace", "ada@northwindstudios.com"),
            # one shared mailbox, two people
            ("crm", "C3", "A3", "Grace", "Hopper", "billing@northwindpharma.com"),
            ("helpdesk", "u2", None, "Alan", "Turing", "billing@northwindpharma.com"),
        ],
    )
    return c


def test_tricky_accounts(con: duckdb.DuckDBPyConnection) -> None:
    counts = resolve(con)
    groups = _groups(con, "unified_account")
    assert frozenset({"crm:A1", "billing:cus_1", "helpdesk:900"}) in groups
    assert frozenset({"crm:A2", "helpdesk:901"}) in groups
    assert frozenset({"crm:A3", "billing:cus_2"}) in groups  # Pharma, not Studios
    assert frozenset({"crm:A4"}) in groups and frozenset({"billing:cus_3"}) in groups
    assert frozenset({"billing:cus_4"}) in groups and frozenset({"billing:cus_5"}) in groups
    assert frozenset({"billing:cus_6", "billing:cus_7"}) in groups
    assert not any("crm:A5" in g for g in groups)
    assert counts["unified_account"] == len(groups) == 8


def test_unified_record_attributes(con: duckdb.DuckDBPyConnection) -> None:
    resolve(con)
    row = con.execute(
        "SELECT name, domain, industry, match_confidence, member_count, members, "
        "source_connections, unified_account_id FROM unified_account "
        "WHERE list_contains(list_transform(members, lambda m: m.key), 'A1')"
    ).fetchone()
    name, domain, industry, confidence, count, members, sources, uid = row
    assert (name, domain, industry) == ("Acme Analytics Inc.", "acme-analytics.com", "Software")
    assert count == 3 and sources == ["billing", "crm", "helpdesk"]
    assert 0.85 <= confidence <= 1.0
    assert {(m["connection"], m["key"]) for m in members} == {
        ("crm", "A1"),
        ("billing", "cus_1"),
        ("helpdesk", "900"),
    }
    assert uid.startswith("ua_")
    singles = con.execute(
        "SELECT DISTINCT match_confidence FROM unified_account WHERE member_count = 1"
    ).fetchall()
    assert singles == [(1.0,)]


def test_contacts_link_through_email_and_unified_account(con: duckdb.DuckDBPyConnection) -> None:
    counts = resolve(con)
    groups = _groups(con, "unified_contact")
    assert frozenset({"crm:C1", "helpdesk:u1", "billing:p1"}) in groups
    assert frozenset({"crm:C2"}) in groups
    assert frozenset({"crm:C3"}) in groups and frozenset({"helpdesk:u2"}) in groups
    assert counts["unified_contact"] == 4
    email, account = con.execute(
        "SELECT c.email, a.name FROM unified_contact c JOIN unified_account a "
        "USING (unified_account_id) WHERE c.member_count = 3"
    ).fetchone()
    assert email == "ada.lovelace@acme-analytics.com" and account == "Acme Analytics Inc."


def test_ids_are_stable_and_rebuilds_idempotent(con: duckdb.DuckDBPyConnection) -> None:
    resolve(con)
    first = con.execute(
        "SELECT unified_account_id, members FROM unified_account ORDER BY 1"
    ).fetchall()
    resolve(con)
    assert (
        con.execute("SELECT unified_account_id, members FROM unified_account ORDER BY 1").fetchall()
        == first
    )
    # rows arriving in another order, plus an unrelated newcomer: the same ids
    con.execute("CREATE TABLE shuffled AS SELECT * FROM account ORDER BY random()")
    con.execute("DROP TABLE account")
    con.execute("ALTER TABLE shuffled RENAME TO account")
    con.execute(
        "INSERT INTO account (account_id, name, _source_connection, _source_stream, "
        "_source_key, _synced_at) VALUES ('Z', 'Zephyr Labs', 'zz', 'accounts', 'Z', now())"
    )
    resolve(con)
    after = dict(con.execute("SELECT unified_account_id, members FROM unified_account").fetchall())
    assert all(after[uid] == members for uid, members in first)


def test_missing_tables_and_lineage(con: duckdb.DuckDBPyConnection) -> None:
    resolve(con)
    con.execute("DROP TABLE contact")
    assert resolve(con)["unified_contact"] == 0
    assert con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'unified_contact'"
    ).fetchall() == [(0,)]
    bare = duckdb.connect()
    bare.execute("CREATE TABLE account (account_id VARCHAR, name VARCHAR)")
    with pytest.raises(ResolutionError, match="lineage"):
        resolve(bare)
    # a failed rebuild leaves the previous tables in place (one transaction)
    before = con.execute("SELECT count(*) FROM unified_account").fetchall()
    con.execute("ALTER TABLE account DROP COLUMN _source_key")
    with pytest.raises(ResolutionError):
        resolve(con)
    assert con.execute("SELECT count(*) FROM unified_account").fetchall() == before


def test_oversized_blocks_stay_linear() -> None:
    """3 x MAX_BLOCK records on one domain: linked through one member, not all pairs."""
    con = duckdb.connect()
    n = 3 * MAX_BLOCK
    _accounts(
        con,
        [
            ("s", f"k{i:05d}", f"Shop {i}", "https://example-shop.com", None, None, False)
            for i in range(n)
        ],
    )
    assert resolve(con)["unified_account"] == 1
    assert con.execute("SELECT member_count FROM unified_account").fetchall() == [(n,)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.Acme.com/about?x=1", "acme.com"),
        ("HTTP://WWW2.acme.co.uk:8080", "acme.co.uk"),
        ('["acme.io", "acme.dev"]', "acme.io"),
        ("billing@acme.com", "acme.com"),
        ("gmail.com", None),
        ("localhost", None),
        ("", None),
    ],
)
def test_domain_normalisation(raw: str, expected: str | None) -> None:
    assert duckdb.sql(
        f"SELECT {norm_domain_sql('x')} FROM (SELECT $1::VARCHAR AS x)", params=[raw]
    ).fetchall() == [(expected,)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ACME ANALYTICS, INC.", "acme analytics"),
        ("Northstar Financial S.L.", "northstar financial"),
        ("Hooli Consulting Pty Ltd", "hooli consulting"),
        ("Société Générale SA", "societe generale"),
        ("Smith & Co", "smith"),
        ("The Inc", "inc"),
        ("  ", None),
    ],
)
def test_name_normalisation(raw: str, expected: str | None) -> None:
    assert duckdb.sql(
        f"SELECT {norm_name_sql('x')} FROM (SELECT $1::VARCHAR AS x)", params=[raw]
    ).fetchall() == [(expected,)]


def test_components_roots_are_smallest_members() -> None:
    roots = components(6, np.array([5, 1, 3]), np.array([4, 2, 4]))
    assert roots.tolist() == [0, 1, 1, 3, 3, 3]


def test_demo_crm_billing_helpdesk() -> None:
    """The demo extracts: every known cross-system link is found, no two CRM accounts merge."""
    con = duckdb.connect()
    con.execute(ACCOUNT_DDL)
    con.execute(
        f"""
        INSERT INTO account BY NAME
        SELECT Id AS account_id, Name AS name, Website AS domain, Industry AS industry,
               IsDeleted::BOOLEAN AS is_deleted, LastModifiedDate::TIMESTAMPTZ AS updated_at,
               'salesforce' AS _source_connection, 'accounts' AS _source_stream,
               Id AS _source_key, now() AS _synced_at
        FROM read_csv('{MOCK / "salesforce_accounts.csv"}', all_varchar = true);
        INSERT INTO account BY NAME
        SELECT id AS account_id, name, address_country AS country,
               'stripe' AS _source_connection, 'customers' AS _source_stream,
               id AS _source_key, now() AS _synced_at
        FROM read_csv('{MOCK / "stripe_customers.csv"}', all_varchar = true);
        INSERT INTO account BY NAME
        SELECT id AS account_id, name, domain_names AS domain,
               'zendesk' AS _source_connection, 'organizations' AS _source_stream,
               id AS _source_key, now() AS _synced_at
        FROM read_csv('{MOCK / "zendesk_organizations.csv"}', all_varchar = true)
        """
    )
    resolve(con)
    con.execute(
        "CREATE TEMP TABLE m AS SELECT unified_account_id AS u, unnest(members, recursive := true) "
        "FROM unified_account"
    )
    # ground truth: Stripe's metadata.sf_account_id and Zendesk's external_id
    known, found = con.execute(
        f"""
        WITH truth AS (
            SELECT 'stripe' AS c, id AS k, "metadata.sf_account_id" AS sf
            FROM read_csv('{MOCK / "stripe_customers.csv"}', all_varchar = true)
            WHERE "metadata.sf_account_id" IS NOT NULL
            UNION ALL
            SELECT 'zendesk', id, external_id
            FROM read_csv('{MOCK / "zendesk_organizations.csv"}', all_varchar = true)
            WHERE external_id IS NOT NULL
        )
        SELECT count(*), count(*) FILTER (WHERE a.u = b.u)
        FROM truth JOIN m a ON a.connection = truth.c AND a.key = truth.k
        JOIN m b ON b.connection = 'salesforce' AND b.key = truth.sf
        """
    ).fetchone()
    assert known >= 40 and found == known
    merged_crm = con.execute(
        "SELECT u FROM m WHERE connection IN ('salesforce', 'zendesk') "
        "GROUP BY u, connection HAVING count(*) > 1"
    ).fetchall()
    assert merged_crm == []
    multi = con.execute(
        "SELECT count(*) FROM unified_account WHERE len(source_connections) >= 2"
    ).fetchall()[0][0]
    assert multi >= 150  # ~80 % of ~200 CRM accounts are also billed or supported
