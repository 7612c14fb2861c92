"""The API as a Ray Serve ingress deployment.

Serve's defaults (5 ongoing requests per replica, access log on every request) collapse
under load; the replica count, ``max_ongoing_requests`` and logging come from Settings.
"""

from __future__ import annotations

from typing import Any

from ray import serve
from ray.serve.config import HTTPOptions

from autonomos.config import Settings

APP_NAME = "api"


def serve_env(settings: Settings) -> dict[str, str]:
    """RAY_SERVE_* variables for the environment of the process that starts Ray.

    Ray 2.60's classic proxy tops out near 400 req/s here whatever is tuned. The
    throughput preset lets each replica serve HTTP itself (direct ingress) and HAProxy
    spreads ``serve_port`` across replicas: ~0.8-0.9 of plain uvicorn on this app
    (benchmarks/RESULTS.md). They only take effect when set before Ray starts.
    """
    if settings.serve_ingress == "proxy":
        return {}
    return {"RAY_SERVE_THROUGHPUT_OPTIMIZED": "1", "RAY_SERVE_ENABLE_HA_PROXY": "1"}


def build_ingress(settings: Settings) -> Any:
    from autonomos.serve_apps.api.app import create_app

    app = create_app(settings)

    @serve.deployment(
        name="ApiIngress",
        num_replicas=settings.serve_replicas,
        max_ongoing_requests=settings.serve_max_ongoing_requests,
        ray_actor_options={"num_cpus": 0},
        logging_config={
            "enable_access_log": settings.serve_access_log,
            "log_level": settings.log_level.upper(),
        },
        health_check_period_s=10,
    )
    @serve.ingress(app)
    class ApiIngress:
        """The FastAPI app; state (engine, keys) is built by its lifespan in each replica."""

    return ApiIngress.bind()  # type: ignore[attr-defined]


def http_options(settings: Settings) -> HTTPOptions:
    return HTTPOptions(host=settings.serve_host, port=settings.serve_port)


def check_cluster(settings: Settings) -> None:
    """Refuse (SettingsError) a multi-node cluster on single-node storage: SQLite metadata
    or a local landing folder would split the platform's state between nodes."""
    import ray

    if ray.is_initialized():
        settings.check_cluster(sum(1 for node in ray.nodes() if node.get("Alive")))


def deploy(settings: Settings, *, blocking: bool = False) -> None:
    """Start Serve on the connected Ray cluster and deploy the API at ``/`` (and, with
    ``AUTONOMOS_EMBEDDER=serve``, the embedder app the API's embedder calls)."""
    check_cluster(settings)
    serve.start(http_options=http_options(settings))
    if settings.embedder == "serve":
        from autonomos.serve_apps.embedder.deployment import deploy as deploy_embedder

        deploy_embedder(settings)
    serve.run(build_ingress(settings), name=APP_NAME, route_prefix="/", blocking=blocking)


def app(args: dict[str, Any] | None = None) -> Any:
    """Application builder for `serve run` / `serve deploy` (cluster/serve-config.yaml).

    Settings come from the environment (AUTONOMOS_*); ``args`` override fields by name.
    On a cluster of several nodes, single-node storage fails the app's deployment with
    the reason (``serve status`` shows it).
    """
    settings = Settings(**(args or {}))
    check_cluster(settings)
    return build_ingress(settings)
