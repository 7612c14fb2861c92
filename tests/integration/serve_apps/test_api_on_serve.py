"""The API deployed on Ray Serve answers over real HTTP: register -> login -> me, docs."""

from __future__ import annotations

import httpx
import pytest
from ray import serve

from autonomos.config import Settings
from autonomos.serve_apps.api.deployment import APP_NAME, deploy
from tests.conftest import free_port

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def serve_url(ray_cluster: None, settings: Settings) -> str:  # type: ignore[misc]
    port = free_port()
    deploy(settings.model_copy(update={"serve_port": port}))
    yield f"http://127.0.0.1:{port}"
    serve.delete(APP_NAME)
    serve.shutdown()


def test_register_login_me_over_serve(serve_url: str) -> None:
    with httpx.Client(base_url=serve_url, timeout=30) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        ready = c.get("/readyz")
        assert ready.status_code == 200, ready.text
        r = c.post(
            "/api/v1/auth/register",
            json={
                "tenant_name": "serve-co",
                "email": "serve@example.com",
                "password": "serve password 1",
            },
        )
        assert r.status_code == 202, r.text
        r = c.post(
            "/api/v1/auth/login",
            data={"username": "serve@example.com", "password": "serve password 1"},
        )
        assert r.status_code == 200
        me = c.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
        )
        assert me.status_code == 200 and me.json()["email"] == "serve@example.com"
        assert me.headers["x-request-id"]
        assert c.get("/docs").status_code == 200
        spec = c.get("/openapi.json").json()
        ops = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
        assert {"register", "login", "refresh", "logout", "me", "listUsers", "createUser"} <= ops
        bad = c.post(
            "/api/v1/auth/login", content=b"{", headers={"content-type": "application/json"}
        )
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
