"""The LLM as a Ray Serve app: Ray Serve LLM's OpenAI-compatible app (``build_openai_app``)
over a vLLM engine, configured from the settings.

- One GPU per replica: tensor and pipeline parallelism 1, one placement bundle of one GPU
  (and the CPU the engine's process needs); ``AUTONOMOS_LLM_SERVE_ACCELERATOR`` pins a GPU
  type.
- Autoscaling between ``AUTONOMOS_LLM_SERVE_MIN_REPLICAS`` and ``..._MAX_REPLICAS`` on
  ongoing requests per replica.
- Routes (under the app's ``/llm`` prefix): ``/v1/chat/completions``, ``/v1/completions``,
  ``/v1/models``, with ``"stream": true`` answered as server-sent events. The API's
  ``AUTONOMOS_LLM_BASE_URL`` points at ``http://<node>:8000/llm/v1`` and its
  ``AUTONOMOS_LLM_MODEL`` at ``AUTONOMOS_LLM_SERVE_MODEL_ID``.

vLLM comes with the ``gpu`` extra only. Nothing here imports it, or Ray Serve LLM's
builder (which does), until :func:`build_app` runs: the default install imports this
module, builds and validates the config (:func:`llm_config`, :func:`validate`) without
it. Restriction: building the app itself needs vLLM (a GPU image or ``EXTRAS=gpu``).
"""

from __future__ import annotations

from typing import Any

from autonomos.config import Settings

APP_NAME = "llm"
ROUTE_PREFIX = "/llm"


def llm_config(settings: Settings) -> dict[str, Any]:
    """The Ray Serve LLM ``LLMConfig`` of the settings, as plain data (what a Serve
    config file's ``llm_configs`` entry holds)."""
    config: dict[str, Any] = {
        "model_loading_config": {
            "model_id": settings.llm_serve_model_id,
            "model_source": settings.llm_serve_model_source,
        },
        "llm_engine": "vLLM",
        "engine_kwargs": {
            "tensor_parallel_size": 1,  # one GPU per replica
            "pipeline_parallel_size": 1,
            "max_model_len": settings.llm_serve_max_model_len,
            "gpu_memory_utilization": settings.llm_serve_gpu_memory_utilization,
        },
        "placement_group_config": {"bundles": [{"CPU": 1, "GPU": 1}], "strategy": "STRICT_PACK"},
        "deployment_config": {
            "autoscaling_config": {
                "min_replicas": settings.llm_serve_min_replicas,
                "initial_replicas": max(1, settings.llm_serve_min_replicas),
                "max_replicas": settings.llm_serve_max_replicas,
                "target_ongoing_requests": settings.llm_serve_target_ongoing_requests,
            },
            "max_ongoing_requests": 4 * settings.llm_serve_target_ongoing_requests,
            "health_check_period_s": 10,
        },
    }
    if settings.llm_serve_accelerator:
        config["accelerator_type"] = settings.llm_serve_accelerator
    return config


def validate(config: dict[str, Any]) -> Any:
    """``config`` checked by Ray Serve LLM's own ``LLMConfig`` (pydantic): the model that
    ``build_openai_app`` validates it with. Its public module imports the engine; the
    config class itself does not, so this runs on the default install."""
    from ray.llm._internal.serve.core.configs.llm_config import LLMConfig

    return LLMConfig.model_validate(config)


def build_app(settings: Settings) -> Any:
    """The OpenAI-compatible Serve application (needs vLLM: the ``gpu`` extra)."""
    from ray.serve.llm import build_openai_app

    return build_openai_app({"llm_configs": [validate(llm_config(settings))]})


def deploy(settings: Settings, *, blocking: bool = False) -> None:
    """Deploy (or update) the llm app on the connected cluster, at ``/llm``."""
    from ray import serve

    serve.run(build_app(settings), name=APP_NAME, route_prefix=ROUTE_PREFIX, blocking=blocking)


def app(args: dict[str, Any] | None = None) -> Any:
    """Application builder for ``serve deploy`` (cluster/serve-config.yaml): settings from
    the environment (AUTONOMOS_*), ``args`` override fields by name."""
    return build_app(Settings(**(args or {})))
