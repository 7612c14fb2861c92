"""The embedder Serve app on the shared local Ray: same vectors as in-process, requests
longer than a batch, concurrent small requests gathered by ``@serve.batch``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import numpy as np
import pytest
from ray import serve

from autonomos.config import Settings
from autonomos.models.embedder import LocalEmbedder
from autonomos.models.errors import EmbedderError
from autonomos.models.telemetry import UsageRecorder
from autonomos.serve_apps.embedder.client import ServeEmbedder
from autonomos.serve_apps.embedder.deployment import APP_NAME, DEPLOYMENT_NAME, build_app, deploy
from tests.conftest import free_port, make_settings

pytestmark = pytest.mark.ray

TEXTS = [f"field_{i} ({t}): {d} number {i}" for i, (t, d) in enumerate(
    [("string", "e-mail address of the contact"), ("decimal", "invoice amount"),
     ("date", "close date of the deal"), ("string", "billing city")] * 40
)]  # fmt: skip


@pytest.fixture(scope="module")
def embedder_app(ray_cluster: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = make_settings(
        tmp_path_factory.mktemp("embedder"),
        embedder="serve",
        embedder_min_replicas=1,
        embedder_max_replicas=1,
        embedder_num_cpus=0,  # share the 2-CPU test cluster with other tests' actors
        embedder_threads=1,
        embedder_batch_wait_s=0.05,
        embedder_max_ongoing_requests=64,
    )
    # Starts Serve (HTTP on a free port, never 8000) unless another module already did.
    serve.start(http_options={"host": "127.0.0.1", "port": free_port()})
    deploy(settings)
    yield settings
    serve.delete(APP_NAME)
    if not serve.status().applications:
        serve.shutdown()


@pytest.fixture(scope="module")
def local() -> LocalEmbedder:
    emb = LocalEmbedder(cache=None)
    emb.load()
    return emb


def assert_same_vectors(got: np.ndarray, want: np.ndarray, precision: str) -> None:
    """The replica's vectors are the in-process model's: equal to 1e-4 in float32; in
    bfloat16 (this CPU has the instructions) a batch's make-up moves them by up to ~1e-3,
    so each pair must point the same way (cosine >= 0.9999, as float32 and bfloat16 do)."""
    assert got.shape == want.shape
    if precision == "float32":
        assert np.allclose(got, want, atol=1e-4)
    else:
        cosines = (got * want).sum(axis=1)
        assert cosines.min() >= 0.9999, cosines.min()


def test_serve_vectors_match_the_model_in_process(
    embedder_app: Settings, local: LocalEmbedder
) -> None:
    recorder = UsageRecorder()
    client = ServeEmbedder(batch_size=64, recorder=recorder)
    tenant = uuid.uuid4()
    got = client.encode(TEXTS, tenant_id=tenant)  # 160 texts: 3 requests in flight
    assert got.shape == (len(TEXTS), 384) and got.dtype == np.float32
    assert_same_vectors(got, local.encode(TEXTS), local.precision)
    [usage] = recorder.pending().values()
    assert usage.items == len(TEXTS)
    assert usage.input_tokens == int(local.embed_texts(TEXTS)[1].sum())


async def test_async_client_and_one_long_request(
    embedder_app: Settings, local: LocalEmbedder
) -> None:
    client = ServeEmbedder(batch_size=500)  # one request; the replica cuts it into batches
    got = await client.aencode(TEXTS[::-1])
    assert_same_vectors(got, local.encode(TEXTS[::-1]), local.precision)
    with pytest.raises(EmbedderError, match="aencode"):
        client.encode(["on the event loop"])


async def test_concurrent_small_requests_share_forward_passes(embedder_app: Settings) -> None:
    handle = serve.get_deployment_handle(DEPLOYMENT_NAME, APP_NAME)
    before = await handle.stats.remote()
    results = await asyncio.gather(*(handle.remote([t]) for t in TEXTS[:32]))
    after = await handle.stats.remote()
    assert all(r[0].shape == (1, 384) for r in results)
    requests = after["requests"] - before["requests"]
    batches = after["batches"] - before["batches"]
    assert requests == 32
    assert batches < requests  # @serve.batch gathered requests that arrived together
    assert after["device"] == "cpu" and after["threads"] == 1
    with pytest.raises(Exception, match="list of strings"):
        await handle.remote("not a list")


def test_no_gpu_is_asked_for_on_a_cpu_cluster(embedder_app: Settings) -> None:
    app = build_app(embedder_app)
    options = app._bound_deployment.ray_actor_options
    assert "num_gpus" not in options and options["num_cpus"] == 0
