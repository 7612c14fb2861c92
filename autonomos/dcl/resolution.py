"""Entity resolution: link the accounts and contacts several connections know into one.

A CRM, a billing system and a help desk each hold their own record of a customer. This
module rebuilds ``unified_account`` and ``unified_contact`` in a tenant's DuckDB from the
entity tables ``account`` / ``contact`` (ontology fields plus the lineage columns
``_source_connection``, ``_source_stream``, ``_source_key``, ``_synced_at``):

1. **Normalise** (SQL): domains lose scheme, ``www.``, path and port; e-mails are
   lower-cased; company names lose case, accents, punctuation and legal suffixes
   (``Inc.``, ``LLC``, ``GmbH``, ``S.L.`` ...).
2. **Block** (SQL): only records sharing a key are compared: the same domain, the same
   normalised name or name prefix (accounts); the same e-mail, or the same unified account
   (contacts). Oversized blocks are compared against one member only, so a shared key can
   never make the work quadratic.
3. **Score** (vectorised): exact domain / e-mail evidence plus rapidfuzz name similarity
   give each candidate pair a match confidence; conflicting evidence (two different
   domains, two different people behind one mailbox) pulls it down.
4. **Cluster**: pairs at or above :data:`MATCH_THRESHOLD` are joined by union-find; each
   component is one unified record. Its id derives from its smallest member key
   (``connection|stream|key``), so it is stable while that member exists; attributes come
   from the most complete, most recently updated member that has a value.

Soft-deleted records (``is_deleted``) take no part. :func:`resolve` is what the tenant's
DCL actor calls after a materialisation; it replaces both tables in one transaction.
"""

# ruff: noqa: S608 - SQL here is built from constants and ontology names (validated
# snake_case identifiers, quoted); values are always bound as parameters.
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from autonomos.common.text import name_similarities
from autonomos.ontology import Ontology, load_ontology

log = logging.getLogger("autonomos.dcl.resolution")

MATCH_THRESHOLD = 0.85
MAX_BLOCK = 200  # a block larger than this is linked to its first member only
LINEAGE = ("_source_connection", "_source_stream", "_source_key", "_synced_at")
LEGAL_SUFFIXES = (
    "inc incorporated llc lllp llp lp ltd limited plc corp corporation co company gmbh mbh "
    "ag kg se sa sas sarl sl srl spa sro bv nv oy ab as aps pty pte pvt kk ulc and"
).split()
FREE_MAIL = (
    "gmail.com googlemail.com yahoo.com hotmail.com outlook.com live.com msn.com icloud.com "
    "me.com aol.com proton.me protonmail.com gmx.com gmx.de gmx.net web.de mail.com yandex.ru "
    "mail.ru qq.com 163.com"
).split()


class ResolutionError(ValueError):
    """An entity table cannot be resolved (e.g. it lacks the lineage columns)."""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def norm_domain_sql(expr: str) -> str:
    """SQL: ``https://www.Acme.com/about`` / ``["acme.com"]`` / ``ap@acme.com`` -> ``acme.com``."""
    x = f"lower(trim(CAST({expr} AS VARCHAR)))"
    x = f"CASE WHEN {x} LIKE '[%' THEN regexp_extract({x}, '\"([^\"]+)\"', 1) ELSE {x} END"
    x = f"regexp_replace({x}, '^[a-z][a-z0-9+.-]*://', '')"  # scheme
    x = f"regexp_replace({x}, '^[^/@]*@', '')"  # user info, or an e-mail's local part
    x = f"regexp_replace({x}, '[/?#:].*$', '')"  # path, query, port
    x = f"trim(regexp_replace({x}, '^www[0-9]*[.]', ''), '. ')"
    return f"CASE WHEN {x} LIKE '%_._%' AND {x} NOT IN ({_lit(FREE_MAIL)}) THEN {x} ELSE NULL END"


def norm_name_sql(expr: str) -> str:
    """SQL: ``"ACME ANALYTICS, INC."`` -> ``acme analytics`` (no accents, no legal suffix)."""
    x = f"lower(strip_accents(trim(CAST({expr} AS VARCHAR))))"
    x = f"replace({x}, '&', ' and ')"
    x = f"regexp_replace({x}, '[.''\u2019]', '', 'g')"  # S.L. -> sl, O'Brien -> obrien
    full = f"trim(regexp_replace({x}, '[^a-z0-9]+', ' ', 'g'))"
    bare = f"regexp_replace({full}, '^the ', '')"
    bare = f"trim(regexp_replace({bare}, '( ({'|'.join(LEGAL_SUFFIXES)}))+$', ''))"
    return f"nullif(CASE WHEN {bare} = '' THEN {full} ELSE {bare} END, '')"


def norm_person_sql(expr: str) -> str:
    x = f"lower(strip_accents(trim(CAST({expr} AS VARCHAR))))"
    return (
        f"trim(regexp_replace(regexp_replace({x}, '[.''\u2019]', '', 'g'), '[^a-z0-9]+', ' ', 'g'))"
    )


def norm_email_sql(expr: str) -> str:
    x = f"lower(trim(CAST({expr} AS VARCHAR)))"
    return f"CASE WHEN regexp_full_match({x}, '[^@\\s]+@[^@\\s]+[.][^@\\s]+') THEN {x} END"


# -- scoring (vectorised over candidate pairs) --------------------------------------------


def _present(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(col.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _equal(a: pa.ChunkedArray, b: pa.ChunkedArray) -> np.ndarray:
    eq = pc.equal(a, b).fill_null(False)
    return np.asarray(eq.to_numpy(zero_copy_only=False), dtype=bool)


def score_accounts(p: pa.Table) -> np.ndarray:
    """Match confidence of account pairs (columns ``name_a/b``, ``domain_a/b``)."""
    sim = name_similarities(p["name_a"].to_pylist(), p["name_b"].to_pylist())
    same_domain = _equal(p["domain_a"], p["domain_b"])
    both_domains = _present(p["domain_a"]) & _present(p["domain_b"])
    same_name = _equal(p["name_a"], p["name_b"])
    return np.select(
        [same_domain, both_domains, same_name],
        [0.9 + 0.09 * sim, 0.6 * sim, np.full(len(sim), 0.92)],
        0.9 * sim,  # names alone: a near-identical spelling (>= 0.95) is needed
    )


def score_contacts(p: pa.Table) -> np.ndarray:
    """Match confidence of contact pairs (``name_*``, ``email_*``, ``account_*``)."""
    sim = name_similarities(p["name_a"].to_pylist(), p["name_b"].to_pylist())
    named = _present(p["name_a"]) & _present(p["name_b"])
    same_email = _equal(p["email_a"], p["email_b"])
    both_emails = _present(p["email_a"]) & _present(p["email_b"])
    same_account = _equal(p["account_a"], p["account_b"])
    return np.select(
        [
            same_email & named & (sim < 0.6),  # one shared mailbox, two people
            same_email,
            same_account & both_emails,  # same company and name, other address
            same_account,
        ],
        [
            np.full(len(sim), 0.5),
            0.97 + 0.02 * sim,
            np.where(sim == 1.0, 0.86, 0.7 * sim),
            0.9 * sim + 0.05,
        ],
        0.0,
    )


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Union-find over ``n`` records: each record's root, the smallest id of its component."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]  # path halving
            x = parent[x]
        return x

    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    return np.fromiter((find(i) for i in range(n)), dtype=np.int64, count=n)


# -- one entity ---------------------------------------------------------------------------

_SQL_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "DECIMAL(38, 9)",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "json": "VARCHAR",
}


@dataclass(frozen=True)
class _Spec:
    entity: str
    prefix: str  # of unified ids
    features: Callable[[set[str]], dict[str, str]]  # staged column -> SQL, by fields present
    blocks: tuple[tuple[str, str, bool], ...]  # (kind, key over staged columns, exact key?)
    compared: tuple[str, ...]  # staged columns the scorer sees, as <col>_a / <col>_b
    score: Callable[[pa.Table], np.ndarray]
    normalised: tuple[str, ...]  # fields the unified record shows normalised
    dropped: tuple[str, ...]  # per-source fields with no meaning across sources


def _col(have: set[str], name: str) -> str:
    return f"s.{_q(name)}" if name in have else "NULL"


def _account_features(have: set[str]) -> dict[str, str]:
    return {
        "name": norm_name_sql(_col(have, "name")),
        "domain": norm_domain_sql(_col(have, "domain")),
    }


def _contact_features(have: set[str]) -> dict[str, str]:
    first = norm_person_sql(_col(have, "first_name"))
    last = norm_person_sql(_col(have, "last_name"))
    account = "NULL::VARCHAR"
    if "account_id" in have:
        account = (
            "(SELECT min(l.uid) FROM _er_account_link l "
            "WHERE l.conn = CAST(s._source_connection AS VARCHAR) "
            "AND l.account_id = CAST(s.account_id AS VARCHAR))"
        )
    return {
        "name": f"nullif(trim(concat_ws(' ', {first}, {last})), '')",
        "email": norm_email_sql(_col(have, "email")),
        "account": account,
    }


ACCOUNTS = _Spec(
    entity="account",
    prefix="ua_",
    features=_account_features,
    blocks=(
        ("domain", "_er_domain", True),
        ("name", "replace(_er_name, ' ', '')", True),
        (
            "prefix",
            "CASE WHEN length(_er_name) >= 4 THEN left(replace(_er_name, ' ', ''), 5) END",
            False,
        ),
    ),
    compared=("name", "domain"),
    score=score_accounts,
    normalised=("domain",),
    dropped=("account_id", "parent_account_id", "is_deleted"),
)
CONTACTS = _Spec(
    entity="contact",
    prefix="uc_",
    features=_contact_features,
    blocks=(
        ("email", "_er_email", True),
        ("account+name", "_er_account || '|' || _er_name", True),
        ("account", "_er_account", False),
    ),
    compared=("name", "email", "account"),
    score=score_contacts,
    normalised=("email",),
    dropped=("contact_id", "account_id", "is_deleted"),
)


UNIFIED_VIEWS: dict[str, str] = {f"unified_{s.entity}": s.entity for s in (ACCOUNTS, CONTACTS)}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "AND table_schema = current_schema() AND table_catalog = current_database() "
        "ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def _stage(con: duckdb.DuckDBPyConnection, spec: _Spec, have: set[str], fields: list[str]) -> int:
    """``_er_<entity>``: live records, dense ``rid`` in member-key order, features."""
    missing = [c for c in LINEAGE if c not in have]
    if missing:
        raise ResolutionError(f"table {spec.entity!r} lacks the lineage columns {missing}")
    live = "TRUE"
    if "is_deleted" in have:
        live = "NOT coalesce(TRY_CAST(s.is_deleted AS BOOLEAN), false)"
    feats = ", ".join(f"{sql} AS _er_{name}" for name, sql in spec.features(have).items())
    filled = " + ".join(f"(s.{_q(f)} IS NOT NULL)::INT" for f in fields if f in have) or "0"
    ts = "TRY_CAST(s._synced_at AS TIMESTAMPTZ)"
    if "updated_at" in have:
        ts = f"coalesce(TRY_CAST(s.updated_at AS TIMESTAMPTZ), {ts})"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _er_{spec.entity} AS
        SELECT row_number() OVER (ORDER BY _er_conn, _er_stream, _er_key) - 1 AS rid, *
        FROM (
            SELECT CAST(s._source_connection AS VARCHAR) AS _er_conn,
                   CAST(s._source_stream AS VARCHAR) AS _er_stream,
                   CAST(s._source_key AS VARCHAR) AS _er_key,
                   {filled} AS _er_filled, {ts} AS _er_ts, {feats}, s.*
            FROM {_q(spec.entity)} s WHERE {live}
        )
        """
    )
    return int(con.execute(f"SELECT count(*) FROM _er_{spec.entity}").fetchall()[0][0])


def _pairs(con: duckdb.DuckDBPyConnection, spec: _Spec) -> pa.Table:
    """Candidate pairs (a < b) sharing a block key, with the features to compare."""
    t = f"_er_{spec.entity}"
    keys = " UNION ALL ".join(
        f"SELECT * FROM (SELECT '{kind}' AS kind, {exact} AS exact, {key} AS k, rid FROM {t}) "
        "WHERE k IS NOT NULL"
        for kind, key, exact in spec.blocks
    )
    cols = ", ".join(f"x._er_{c} AS {c}_a, y._er_{c} AS {c}_b" for c in spec.compared)
    return con.sql(
        f"""
        WITH keys AS ({keys}),
        sized AS (
            SELECT *, count(*) OVER w AS n, min(rid) OVER w AS first
            FROM keys WINDOW w AS (PARTITION BY kind, k)
        ),
        pairs AS (
            SELECT DISTINCT a.rid AS a, b.rid AS b
            FROM sized a JOIN sized b ON a.kind = b.kind AND a.k = b.k AND a.rid < b.rid
            WHERE a.n <= {MAX_BLOCK} OR (a.exact AND a.rid = a.first)
        )
        SELECT p.a, p.b, {cols}
        FROM pairs p JOIN {t} x ON x.rid = p.a JOIN {t} y ON y.rid = p.b
        ORDER BY p.a, p.b
        """
    ).to_arrow_table()


def _cluster(n: int, pairs: pa.Table, score: Callable[[pa.Table], np.ndarray]) -> pa.Table:
    """(rid, root, conf): each record's component and that component's weakest link."""
    conf = score(pairs) if pairs.num_rows else np.zeros(0)
    keep = conf >= MATCH_THRESHOLD - 1e-9
    a = pairs["a"].to_numpy()[keep]
    b = pairs["b"].to_numpy()[keep]
    roots = components(n, a, b)
    weakest = np.ones(n)
    np.minimum.at(weakest, roots[a], conf[keep])
    return pa.table({"rid": np.arange(n, dtype=np.int64), "root": roots, "conf": weakest[roots]})


def _unify(
    con: duckdb.DuckDBPyConnection,
    spec: _Spec,
    ontology: Ontology,
    have: set[str],
    clusters: pa.Table,
    resolved_at: datetime,
) -> int:
    t = f"_er_{spec.entity}"
    con.register("_er_clusters_in", clusters)
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {t}_m AS
            SELECT r.*, c.conf AS _er_conf,
                   '{spec.prefix}' || left(md5(k._er_conn || '|' || k._er_stream || '|' ||
                                                k._er_key), 20) AS _er_uid,
                   row_number() OVER (PARTITION BY c.root ORDER BY r._er_filled DESC,
                                      r._er_ts DESC NULLS LAST, r.rid) AS _er_rank
            FROM {t} r JOIN _er_clusters_in c ON c.rid = r.rid JOIN {t} k ON k.rid = c.root
            """
        )
    finally:
        con.unregister("_er_clusters_in")
    attrs = []
    if spec.entity == "contact":
        attrs.append(
            "arg_min(_er_account, _er_rank) FILTER (WHERE _er_account IS NOT NULL) "
            "AS unified_account_id"
        )
    for f in ontology.entity(spec.entity).fields:
        name = f.name
        if name in spec.dropped:
            continue
        src = f"_er_{name}" if name in spec.normalised else _q(name)
        if name not in have and name not in spec.normalised:
            attrs.append(f"NULL::{_SQL_TYPES[f.type]} AS {_q(name)}")
        elif name == "created_at":
            attrs.append(f"min({src}) AS {_q(name)}")
        elif name == "updated_at":
            attrs.append(f"max({src}) AS {_q(name)}")
        else:
            attrs.append(f"arg_min({src}, _er_rank) FILTER (WHERE {src} IS NOT NULL) AS {_q(name)}")
    table = f"unified_{spec.entity}"
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {table} AS
        SELECT _er_uid AS {table}_id, {", ".join(attrs)},
               round(min(_er_conf), 4) AS match_confidence,
               count(*)::INTEGER AS member_count,
               list(struct_pack(connection := _er_conn, stream := _er_stream, key := _er_key)
                    ORDER BY rid) AS members,
               list_sort(list_distinct(list(_er_conn))) AS source_connections,
               ?::TIMESTAMPTZ AS resolved_at
        FROM {t}_m GROUP BY _er_uid ORDER BY _er_uid
        """,
        [resolved_at],
    )
    if spec.entity == "account":
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _er_account_link AS SELECT DISTINCT _er_conn AS conn, "
            "CAST(account_id AS VARCHAR) AS account_id, _er_uid AS uid FROM _er_account_m "
            "WHERE account_id IS NOT NULL"
            if "account_id" in have
            else "CREATE OR REPLACE TEMP TABLE _er_account_link "
            "(conn VARCHAR, account_id VARCHAR, uid VARCHAR)"
        )
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _resolve_one(
    con: duckdb.DuckDBPyConnection, spec: _Spec, ontology: Ontology, resolved_at: datetime
) -> int:
    cols = _columns(con, spec.entity)
    table = f"unified_{spec.entity}"
    if not cols:  # nothing materialised yet
        con.execute(f"DROP TABLE IF EXISTS {table}")
        if spec.entity == "account":
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _er_account_link "
                "(conn VARCHAR, account_id VARCHAR, uid VARCHAR)"
            )
        return 0
    have = set(cols)
    fields = [f.name for f in ontology.entity(spec.entity).fields]
    started = time.perf_counter()
    n = _stage(con, spec, have, fields)
    pairs = _pairs(con, spec)
    clusters = _cluster(n, pairs, spec.score)
    rows = _unify(con, spec, ontology, have, clusters, resolved_at)
    log.info(
        "%s: %d records, %d candidate pairs -> %d unified in %.0f ms",
        spec.entity,
        n,
        pairs.num_rows,
        rows,
        (time.perf_counter() - started) * 1000,
    )
    return rows


def resolve(con: duckdb.DuckDBPyConnection, ontology: Ontology | None = None) -> dict[str, int]:
    """(Re)build ``unified_account`` and ``unified_contact`` from the entity tables.

    One transaction: readers see the old tables or the new ones, never a mix. Returns the
    row count of each unified table. The connection must not be inside a transaction.
    """
    ontology = ontology or load_ontology()
    resolved_at = datetime.now(UTC)
    con.execute("BEGIN TRANSACTION")
    try:
        counts = {
            f"unified_{spec.entity}": _resolve_one(con, spec, ontology, resolved_at)
            for spec in (ACCOUNTS, CONTACTS)  # contacts use the account clusters
        }
        for temp in (
            "_er_account",
            "_er_account_m",
            "_er_account_link",
            "_er_contact",
            "_er_contact_m",
        ):
            con.execute(f"DROP TABLE IF EXISTS temp.{temp}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts
