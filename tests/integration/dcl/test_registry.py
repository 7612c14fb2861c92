"""The mapping registry: versions, supersession, restore, target uniqueness, counts."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from autonomos.dcl import registry
from autonomos.dcl.errors import MappingError
from autonomos.store.errors import Conflict, NotFound
from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.integration.dcl.conftest import make_connection, tenant_id


async def test_versions_supersede_and_restore(db: Database, tid: uuid.UUID, cid: uuid.UUID) -> None:
    async with db.tenant_session(tid) as s:
        v1 = await registry.set_mapping(
            s,
            connection_id=cid,
            stream="accounts",
            source_field="name",
            entity="account",
            field="name",
            decided_by="matcher",
            confidence=0.7,
        )
        assert (v1.version, v1.status) == (1, "active")
        same = await registry.set_mapping(
            s,
            connection_id=cid,
            stream="accounts",
            source_field="name",
            entity="account",
            field="name",
            decided_by="someone else",
            confidence=0.7,
        )
        assert same.id == v1.id  # nothing changed: no new version
        v2 = await registry.set_mapping(
            s,
            connection_id=cid,
            stream="accounts",
            source_field="name",
            entity="account",
            field="domain",
            transform=" domain ",
            decided_by="user:1",
        )
        assert (v2.version, v2.transform) == (2, "domain")
        v3 = await registry.retire_mapping(
            s, connection_id=cid, stream="accounts", source_field="name", decided_by="user:1"
        )
        assert (v3.version, v3.status, v3.field) == (3, "retired", "domain")
        assert await registry.active_mappings(s, cid) == []
        v4 = await registry.restore(s, v1.id, "user:2")
        assert (v4.version, v4.field, v4.status, v4.decided_by) == (4, "name", "active", "user:2")
        hist = await registry.history(s, cid, "accounts", "name")
        assert [h.version for h in hist] == [4, 3, 2, 1]
        assert [h.status for h in hist] == ["active", "superseded", "superseded", "superseded"]
        assert [m.id for m in await registry.active_mappings(s, cid, "accounts")] == [v4.id]
        assert await registry.mapping_counts(s) == {cid: 1}


async def test_one_source_per_target(db: Database, tid: uuid.UUID, cid: uuid.UUID) -> None:
    async with db.tenant_session(tid) as s:
        await registry.set_mapping(
            s,
            connection_id=cid,
            stream="accounts",
            source_field="billing_city",
            entity="account",
            field="city",
            decided_by="matcher",
        )
        with pytest.raises(Conflict, match="already mapped from 'billing_city'"):
            await registry.set_mapping(
                s,
                connection_id=cid,
                stream="accounts",
                source_field="shipping_city",
                entity="account",
                field="city",
                decided_by="matcher",
            )
        # proposals may compete; another stream is another target
        await registry.set_mapping(
            s,
            connection_id=cid,
            stream="accounts",
            source_field="shipping_city",
            entity="account",
            field="city",
            decided_by="matcher",
            status="proposed",
        )
        await registry.set_mapping(
            s,
            connection_id=cid,
            stream="companies",
            source_field="shipping_city",
            entity="account",
            field="city",
            decided_by="matcher",
        )
        new = await registry.set_mapping(
            s,
            connection_id=cid,
            stream="accounts",
            source_field="shipping_city",
            entity="account",
            field="city",
            decided_by="user:1",
            replace_target=True,
        )
        assert new.status == "active"
        old = (await registry.history(s, cid, "accounts", "billing_city"))[0]
        assert (old.status, old.decided_by) == ("retired", "user:1")
        active = await registry.active_mappings(s, cid, "accounts")
        assert [m.source_field for m in active] == ["shipping_city"]
        assert await registry.mapping_counts(s) == {cid: 2}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"entity": "acount"}, "unknown entity"),
        ({"field": "nope"}, "has no field"),
        ({"transform": "lower|drop_table"}, "unknown transform"),
        ({"transform": "multiply:1; DROP TABLE x"}, "invalid argument"),
        ({"transform": "lower:x"}, "takes no argument"),
        ({"confidence": 1.5}, "confidence"),
        ({"status": "superseded"}, "status must be"),
        ({"stream": ""}, "stream"),
        ({"source_field": "a\nb"}, "source_field"),
    ],
)
async def test_invalid_mappings(
    db: Database, tid: uuid.UUID, cid: uuid.UUID, kwargs: dict, message: str
) -> None:
    values = {
        "connection_id": cid,
        "stream": "accounts",
        "source_field": "name",
        "entity": "account",
        "field": "name",
        "decided_by": "t",
        **kwargs,
    }
    async with db.tenant_session(tid) as s:
        with pytest.raises(MappingError, match=message):
            await registry.set_mapping(s, **values)


async def test_other_tenants_cannot_see_or_touch(
    db: Database,
    tid: uuid.UUID,
    cid: uuid.UUID,
    api: httpx.AsyncClient,
    tenant_b: Tenant,
    tmp_path: Path,
) -> None:
    async with db.tenant_session(tid) as s:
        row = await registry.set_mapping(
            s,
            connection_id=cid,
            stream="accounts",
            source_field="name",
            entity="account",
            field="name",
            decided_by="t",
        )
    other = await tenant_id(api, tenant_b)
    other_conn = await make_connection(db, other, tmp_path)
    async with db.tenant_session(other) as s:
        assert await registry.mapping_counts(s) == {}
        assert await registry.active_mappings(s, cid) == []
        assert await registry.history(s, cid, "accounts", "name") == []
        with pytest.raises(NotFound):
            await registry.restore(s, row.id, "intruder")
        with pytest.raises(NotFound):
            await registry.set_mapping(
                s,
                connection_id=cid,
                stream="accounts",
                source_field="x",
                entity="account",
                field="name",
                decided_by="intruder",
            )
        with pytest.raises(NotFound):
            await registry.retire_mapping(
                s,
                connection_id=cid,
                stream="accounts",
                source_field="name",
                decided_by="intruder",
            )
        await registry.set_mapping(
            s,
            connection_id=other_conn,
            stream="accounts",
            source_field="name",
            entity="account",
            field="name",
            decided_by="b",
        )
        assert await registry.mapping_counts(s) == {other_conn: 1}
    async with db.tenant_session(tid) as s:
        assert await registry.mapping_counts(s) == {cid: 1}
