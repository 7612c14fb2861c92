"""The embedder as a Ray Serve app: sentence-transformers behind ``@serve.batch``.

Callers (``autonomos.serve_apps.embedder.client.ServeEmbedder``) send lists of texts; the replica
cuts anything longer than ``batch_size`` into pieces, and ``@serve.batch`` gathers pieces
that arrive together until they hold ``batch_size`` texts (``batch_size_fn`` counts texts,
not requests), so one forward pass serves many small callers. The forward pass runs in a
worker thread: the replica's event loop keeps accepting (and batching) requests meanwhile.

Replicas autoscale between ``AUTONOMOS_EMBEDDER_MIN_REPLICAS`` and ``..._MAX_REPLICAS`` and
ask for a GPU when the cluster has one (``AUTONOMOS_EMBEDDER_DEVICE=auto``). Ray caps a
worker's ``OMP_NUM_THREADS`` at its CPU reservation (1 when it reserves none), so torch's
thread count is set explicitly: it follows ``AUTONOMOS_EMBEDDER_NUM_CPUS`` unless
``AUTONOMOS_EMBEDDER_THREADS`` says otherwise, and replicas packed onto a node never
oversubscribe it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np
from ray import serve

from autonomos.config import Settings
from autonomos.models.embedder import (
    EMBEDDING_DIM,
    SERVE_APP_NAME,
    SERVE_DEPLOYMENT_NAME,
    LocalEmbedder,
    Precision,
)

APP_NAME = SERVE_APP_NAME
DEPLOYMENT_NAME = SERVE_DEPLOYMENT_NAME

log = logging.getLogger("autonomos.serve.embedder")


def _text_count(requests: list[list[str]]) -> int:
    return sum(len(r) for r in requests)


class EmbedderReplica:
    """One model per replica. ``__call__(texts) -> (float32 (n, 384) unit vectors, tokens)``."""

    def __init__(
        self,
        model_path: str | None,
        device: str,
        threads: int,
        batch_size: int,
        batch_wait_s: float,
        precision: Precision = "auto",
    ) -> None:
        self.batch_size = batch_size
        self._model = LocalEmbedder(
            model_path,
            device=device,  # type: ignore[arg-type]
            batch_size=batch_size,
            precision=precision,
        )
        if device == "cpu":
            import torch

            torch.set_num_threads(threads)
        self._model.load()
        self._embed_batch.set_max_batch_size(batch_size)  # type: ignore[attr-defined]
        self._embed_batch.set_batch_wait_timeout_s(batch_wait_s)  # type: ignore[attr-defined]
        self._stats = {"requests": 0, "batches": 0, "texts": 0}

    async def __call__(self, texts: list[str]) -> tuple[np.ndarray, int]:
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise TypeError("the embedder takes a list of strings")
        self._stats["requests"] += 1
        if not texts:
            return np.empty((0, EMBEDDING_DIM), dtype=np.float32), 0
        size = self.batch_size
        parts = await asyncio.gather(
            *(self._embed_batch(texts[i : i + size]) for i in range(0, len(texts), size))
        )
        return np.concatenate([p[0] for p in parts]), sum(p[1] for p in parts)

    @serve.batch(max_batch_size=64, batch_wait_timeout_s=0.005, batch_size_fn=_text_count)
    async def _embed_batch(self, requests: list[list[str]]) -> list[tuple[np.ndarray, int]]:
        flat = [t for r in requests for t in r]
        vectors, tokens = await asyncio.to_thread(self._model.embed_texts, flat)
        self._stats["batches"] += 1
        self._stats["texts"] += len(flat)
        out, start = [], 0
        for r in requests:
            end = start + len(r)
            out.append((vectors[start:end], int(tokens[start:end].sum())))
            start = end
        return out

    def stats(self) -> dict[str, Any]:
        """Requests, forward passes and texts seen by this replica, and its device."""
        import torch

        return {**self._stats, "device": self._model.device, "threads": torch.get_num_threads()}


def _cluster_has_gpu() -> bool:
    import ray

    return ray.is_initialized() and ray.cluster_resources().get("GPU", 0) > 0


def build_app(settings: Settings) -> Any:
    """The embedder application, configured from ``settings``."""
    gpu = settings.embedder_device == "cuda" or (
        settings.embedder_device == "auto" and _cluster_has_gpu()
    )
    actor_options: dict[str, Any] = {"num_cpus": settings.embedder_num_cpus}
    if gpu:
        actor_options["num_gpus"] = 1
    deployment = serve.deployment(
        name=DEPLOYMENT_NAME,
        autoscaling_config={
            "min_replicas": settings.embedder_min_replicas,
            "initial_replicas": max(1, settings.embedder_min_replicas),
            "max_replicas": settings.embedder_max_replicas,
            "target_ongoing_requests": 2,
        },
        max_ongoing_requests=settings.embedder_max_ongoing_requests,
        ray_actor_options=actor_options,
        health_check_period_s=10,
        logging_config={"enable_access_log": False, "log_level": settings.log_level.upper()},
    )(EmbedderReplica)
    model_path = str(settings.embedder_model_path) if settings.embedder_model_path else None
    # Threads follow the CPU reservation unless set: replicas Ray packs onto a node then
    # never oversubscribe it.
    threads = settings.embedder_threads or max(1, int(settings.embedder_num_cpus))
    return deployment.bind(
        model_path,
        "cuda" if gpu else "cpu",
        threads,
        settings.embedder_batch_size,
        settings.embedder_batch_wait_s,
        settings.embedder_precision,
    )


def deploy(settings: Settings, *, blocking: bool = False) -> None:
    """Deploy (or update) the embedder app on the connected cluster; handle-only, no HTTP."""
    serve.run(build_app(settings), name=APP_NAME, route_prefix=None, blocking=blocking)


def app(args: dict[str, Any] | None = None) -> Any:
    """Application builder for ``serve deploy`` (cluster/serve-config.yaml).

    Settings come from the environment (AUTONOMOS_*); ``args`` override fields by name.
    """
    return build_app(Settings(**(args or {})))
