"""Finding 1 (URLs and hosts): connections never make the server reach loopback,
private, link-local or metadata addresses, by URL, by host name or by redirect.

The test's own HTTP server on 127.0.0.1 stands for anything inside the deployment: it
must never receive a request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Tenant, register
from tests.helpers.api import assert_error
from tests.integration.connectors.http_files import FilesServer
from tests.security.edge_lab import CONNECTIONS, create_connection, lab_api, write_csv

__all__ = ["lab_api"]  # the fixture, imported for pytest

INTERNAL = [
    "127.0.0.1",
    "127.1.2.3",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.100.100.200",  # Alibaba's metadata
    "0.0.0.0",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[fd00:ec2::254]",
    "[fe80::1]",
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
    "224.0.0.1",
    "2130706433",  # 127.0.0.1 as one number
    "localhost",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FilesServer]:
    folder = tmp_path_factory.mktemp("internal")
    write_csv(folder / "secret.csv", "Id,Token", ["1,internal-only-token"])
    write_csv(folder / "public.csv", "Id,Name", ["1,Public"])
    with FilesServer(folder) as srv:
        yield srv


async def test_files_urls_to_internal_addresses_are_refused(
    api: httpx.AsyncClient, tenant_b: Tenant, server: FilesServer
) -> None:
    before = len(server.requests)
    port = server.port
    # plain http is off unless the operator turns it on
    r = await create_connection(api, tenant_b, {"path": f"http://127.0.0.1:{port}/secret.csv"})
    assert "scheme" in assert_error(r, 422, "invalid_connection")["message"]
    for host in INTERNAL:
        r = await create_connection(api, tenant_b, {"path": f"https://{host}:{port}/secret.csv"})
        assert r.status_code == 422, (host, r.text)
    for scheme in ("ftp", "sftp", "memory", "github", "zip", "simplecache::https"):
        r = await create_connection(api, tenant_b, {"path": f"{scheme}://x/secret.csv"})
        assert r.status_code == 422, (scheme, r.text)
    assert len(server.requests) == before, server.requests


async def test_internal_hosts_are_refused_for_every_url_connector(
    api: httpx.AsyncClient, tenant_b: Tenant
) -> None:
    for host in ("127.0.0.1", "169.254.169.254", "[::1]", "localhost"):
        r = await create_connection(
            api,
            tenant_b,
            {"login_url": f"https://{host}", "client_id": "id", "client_secret": "s"},
            "salesforce",
        )
        assert_error(r, 422, "invalid_connection")
        r = await create_connection(
            api,
            tenant_b,
            {
                "login_url": "https://login.salesforce.com",
                "instance_url": f"https://{host}",
                "client_id": "id",
                "client_secret": "s",
            },
            "salesforce",
        )
        assert_error(r, 422, "invalid_connection")


async def test_database_hosts_are_checked_when_private_hosts_are_blocked(
    tmp_path: Path,
) -> None:
    """Development (the test default) reaches local databases; a deployment that blocks
    private hosts refuses them, by address and by name."""
    from autonomos.aam.edge import edge_policy
    from autonomos.connectors.base import ConnectorError
    from autonomos.connectors.registry import build_connector
    from tests.conftest import make_settings

    edge = edge_policy(make_settings(tmp_path, connector_block_private=True), uuid.uuid4())
    for config, kind in (
        ({"url": "postgresql://u@127.0.0.1:5432/db"}, "postgres"),
        ({"url": "postgresql://u@localhost/db"}, "postgres"),
        ({"url": "postgresql://u@10.1.2.3/db"}, "postgres"),
        ({"uri": "mongodb://u:p@127.0.0.1:27017", "database": "d"}, "mongodb"),
        ({"uri": "mongodb://a.example.com,169.254.169.254:27017", "database": "d"}, "mongodb"),
    ):
        with pytest.raises(ConnectorError) as err:
            build_connector(kind, config, edge)
        assert err.value.failure.value == "configuration", config
    production = make_settings(tmp_path, environment="development")
    assert production.blocks_private_databases is False
    allowed = edge_policy(
        make_settings(tmp_path, connector_block_private=True, files_allowed_hosts=["10.0.0.0/8"]),
        uuid.uuid4(),
    )
    build_connector("postgres", {"url": "postgresql://u@10.1.2.3/db"}, allowed).close()


async def test_redirects_to_internal_addresses_are_refused(
    lab_api: httpx.AsyncClient, server: FilesServer
) -> None:
    """``localhost`` is allow-listed (by name) in the lab; a redirect from it to the
    literal loopback address, or to the metadata address, is refused mid-flight."""
    t = await register(lab_api, "ssrf")
    allowed = server.url("localhost")
    ok = await create_connection(lab_api, t, {"path": f"{allowed}/public.csv"})
    assert ok.status_code == 201, ok.text
    check = await lab_api.post(f"{CONNECTIONS}/{ok.json()['id']}/check", headers=t.headers)
    assert check.json()["ok"] is True, check.text  # the allow-listed name itself works
    for target in (
        f"http://127.0.0.1:{server.port}/secret.csv",
        "http://169.254.169.254/latest/meta-data/",
        f"http://[::1]:{server.port}/secret.csv",
    ):
        r = await create_connection(lab_api, t, {"path": f"{allowed}/redirect/s.csv?to={target}"})
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        check = (await lab_api.post(f"{CONNECTIONS}/{cid}/check", headers=t.headers)).json()
        assert check["ok"] is False and check["failure"] == "configuration", check
        assert "address" in check["error"], check
        discover = await lab_api.post(f"{CONNECTIONS}/{cid}/discover", headers=t.headers)
        assert discover.status_code in (404, 422, 502), discover.text
        assert "internal-only-token" not in discover.text
    assert not [p for p in server.requests if p.startswith("/secret")], server.requests


def test_the_instance_url_salesforce_answers_is_checked_too(tmp_path: Path) -> None:
    """The OAuth answer names the host the data (and the token) go to next: a login
    server that answers with an internal instance URL gets nothing further."""
    from autonomos.aam.edge import edge_policy
    from autonomos.connectors.base import ConnectorError, FailureType
    from autonomos.connectors.salesforce import SalesforceConnector
    from tests.conftest import make_settings
    from tests.integration.connectors import fake_salesforce as sf
    from tests.integration.connectors.fake_salesforce import FakeSalesforceServer

    server = FakeSalesforceServer()  # answers instance_url http://127.0.0.1:<port>
    server.start()
    try:
        settings = make_settings(
            tmp_path / "d", files_schemes=["https", "http"], files_allowed_hosts=["localhost"]
        )
        connector = SalesforceConnector(
            {
                "login_url": f"http://localhost:{server.port}",
                "client_id": sf.CLIENT_ID,
                "client_secret": sf.CLIENT_SECRET,
                "objects": ["Account"],
            },
            edge=edge_policy(settings, uuid.uuid4()),
        )
        with pytest.raises(ConnectorError) as err:
            connector.check()
        assert err.value.failure is FailureType.CONFIGURATION
        assert "loopback" in str(err.value), err.value
        assert len(server.fake.token_requests) == 1  # the allowed login host was asked
    finally:
        server.stop()
