"""The embedder port's backends and the choice between them.

:class:`ServeEmbedder` is the client of the Serve ``embedder`` app (the
:class:`~autonomos.models.embedder.Embedder` port over a Serve deployment handle);
:func:`build_embedder` picks it or the in-process
:class:`~autonomos.models.embedder.LocalEmbedder` from ``AUTONOMOS_EMBEDDER``. The
composition root (``autonomos.runtime``) and the other shells (jobs, CLI) get their
embedder here; the core receives one.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from autonomos.common.errors import FailureType
from autonomos.config import Settings, get_settings
from autonomos.models._cache import EmbeddingCache
from autonomos.models.embedder import (
    SERVE_APP_NAME,
    SERVE_DEPLOYMENT_NAME,
    CachedEmbedder,
    LocalEmbedder,
    make_cache,
    model_id_for,
)
from autonomos.models.errors import EmbedderError
from autonomos.models.telemetry import UsageRecorder, get_recorder

if TYPE_CHECKING:
    from ray.serve.handle import DeploymentHandle


class ServeEmbedder(CachedEmbedder):
    """Client of the Serve ``embedder`` app: texts go out as lists of ``batch_size``.

    Texts are sorted by length before they are cut into requests, so each request pads
    little; all requests are in flight at once and Serve spreads them over replicas,
    whose ``@serve.batch`` gathers what arrives together. Needs a Ray connection to the
    cluster running the app. From async code use :meth:`aencode` (a Serve handle refuses
    blocking calls on an event loop thread).
    """

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        batch_size: int = 64,
        app_name: str = SERVE_APP_NAME,
        deployment_name: str = SERVE_DEPLOYMENT_NAME,
        timeout_s: float = 600.0,
        cache: EmbeddingCache | None = None,
        recorder: UsageRecorder | None = None,
        handle: DeploymentHandle | None = None,
    ) -> None:
        super().__init__(model_id_for(model_path), cache=cache, recorder=recorder)
        self.batch_size = batch_size
        self.app_name, self.deployment_name = app_name, deployment_name
        self.timeout_s = timeout_s
        self._handle = handle

    @property
    def handle(self) -> DeploymentHandle:
        if self._handle is None:
            from ray import serve

            try:
                self._handle = serve.get_deployment_handle(self.deployment_name, self.app_name)
            except Exception as e:
                raise EmbedderError(
                    f"Serve app {self.app_name!r} is not reachable: {e}",
                    failure=FailureType.TRANSIENT,
                ) from e
        return self._handle

    def _requests(self, texts: list[str]) -> tuple[list[int], list[list[str]]]:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        ordered = [texts[i] for i in order]
        size = self.batch_size
        return order, [ordered[i : i + size] for i in range(0, len(ordered), size)]

    @staticmethod
    def _assemble(order: list[int], results: list[Any]) -> tuple[np.ndarray, int]:
        stacked = np.concatenate([r[0] for r in results]) if results else np.empty((0, 0))
        out = np.empty_like(stacked)
        out[order] = stacked
        return out, sum(int(r[1]) for r in results)

    def _embed(self, texts: list[str]) -> tuple[np.ndarray, int]:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise EmbedderError("ServeEmbedder.encode() called on an event loop: use aencode()")
        order, chunks = self._requests(texts)
        handle = self.handle
        responses = [handle.remote(chunk) for chunk in chunks]
        try:
            results = [r.result(timeout_s=self.timeout_s) for r in responses]
        except Exception as e:
            raise EmbedderError(f"Serve embedder failed: {e}", failure=FailureType.TRANSIENT) from e
        return self._assemble(order, results)

    async def _aembed(self, texts: list[str]) -> tuple[np.ndarray, int]:
        order, chunks = self._requests(texts)
        handle = self.handle
        try:
            results = await asyncio.wait_for(
                asyncio.gather(*(handle.remote(c) for c in chunks)), self.timeout_s
            )
        except Exception as e:
            raise EmbedderError(f"Serve embedder failed: {e}", failure=FailureType.TRANSIENT) from e
        return self._assemble(order, list(results))


def build_embedder(settings: Settings) -> CachedEmbedder:
    """A new embedder as ``settings`` describe it (see :func:`get_embedder`)."""
    cache = make_cache(settings)
    recorder = get_recorder(settings)
    if settings.embedder == "serve":
        return ServeEmbedder(
            model_path=settings.embedder_model_path,
            batch_size=settings.embedder_batch_size,
            cache=cache,
            recorder=recorder,
        )
    return LocalEmbedder(
        settings.embedder_model_path,
        device=settings.embedder_device,
        batch_size=settings.embedder_batch_size,
        threads=settings.embedder_threads,
        precision=settings.embedder_precision,
        cache=cache,
        recorder=recorder,
    )


_instance: CachedEmbedder | None = None
_instance_lock = threading.Lock()


def get_embedder(settings: Settings | None = None) -> CachedEmbedder:
    """The process-wide embedder; the first call's settings (default: the environment)
    decide its backend and cache."""
    global _instance
    with _instance_lock:
        if _instance is None:
            _instance = build_embedder(settings or get_settings())
        return _instance
