"""The dashboard mount: client routes get index.html, the API keeps every path it owns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from autonomos.serve_apps.api.app import create_app
from autonomos.serve_apps.api.dashboard import mount_dashboard
from tests.conftest import make_settings

INDEX = "<!doctype html><title>AOS</title><div id=root></div>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A built dashboard as Vite lays it out (index.html, hashed assets, public files)."""
    out = tmp_path / "dist"
    (out / "assets").mkdir(parents=True)
    (out / "index.html").write_text(INDEX)
    (out / "assets" / "index-AbC123.js").write_text("console.log('aos')")
    (out / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("outside the build")
    return out


async def _client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://aos") as client:
        yield client


@pytest.fixture
async def client(dist: Path, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(tmp_path / "data", dashboard_dir=dist))
    async for c in _client(app):
        yield c


async def test_client_routes_get_the_app_with_its_security_headers(client: httpx.AsyncClient):
    for path in ("/", "/connections/0b7c", "/review?status=pending", "/ontology"):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert r.text == INDEX
        assert r.headers["content-type"].startswith("text/html")
        assert r.headers["cache-control"] == "no-cache"
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"


async def test_hashed_assets_are_cached_for_good(client: httpx.AsyncClient):
    r = await client.get("/assets/index-AbC123.js")
    assert r.status_code == 200
    assert "javascript" in r.headers["content-type"]
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = await client.get(
        "/assets/index-AbC123.js", headers={"if-none-match": r.headers["etag"]}
    )
    assert again.status_code == 304
    assert (await client.get("/favicon.svg")).headers["cache-control"] == "no-cache"


async def test_a_missing_asset_is_a_json_404_not_the_app(client: httpx.AsyncClient):
    r = await client.get("/assets/index-gone.js")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_the_api_keeps_its_paths(client: httpx.AsyncClient):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "AutonomOS API"
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    for path in ("/api/v1/nothing-here", "/api", "/nlp/v1/nothing-here", "/docs/missing"):
        r = await client.get(path)
        assert r.status_code == 404, path
        assert r.json()["error"]["code"] == "not_found", path
    # a wrong method on an API route is still a 405, not the dashboard
    assert (await client.get("/api/v1/auth/login")).status_code == 405


async def test_nothing_outside_the_build_is_served(client: httpx.AsyncClient):
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"):
        r = await client.get(path)
        assert "outside the build" not in r.text, path
        assert r.status_code in (200, 404), path  # 200 only as index.html


async def test_writes_to_dashboard_paths_are_refused(client: httpx.AsyncClient):
    r = await client.post("/connections", json={})
    assert r.status_code == 405


async def test_without_a_build_the_api_serves_alone(tmp_path: Path):
    app = create_app(make_settings(tmp_path / "data", dashboard_dir=tmp_path / "nothing"))
    assert not mount_dashboard(app, tmp_path / "nothing")
    async for client in _client(app):
        r = await client.get("/")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"
