"""cluster/serve-config.yaml against Ray Serve's own schema and build path.

Beyond the schema (``ServeDeploySchema``), the api and embedder apps are built from their
import paths with the config's args, and the config's deployment overrides are applied
with the functions Serve's controller uses (``override_deployment_info``): an override
naming a deployment the code does not have, or options Serve refuses together, fails
here rather than in ``serve deploy``. Ray is pinned (==2.60.0): these private helpers
move with it. The llm app's builder imports vLLM (the gpu extra): its model configs are
validated with Ray's ``LLMConfig``, and the app is built only where vLLM is installed.
"""

from __future__ import annotations

import importlib.util
from urllib.parse import urlsplit

import pytest
import ray
import yaml
from ray.serve.schema import ServeApplicationSchema, ServeDeploySchema

from tests.unit.cluster.conftest import load


def config() -> ServeDeploySchema:
    return ServeDeploySchema.model_validate(load("serve-config.yaml"))


def app(name: str) -> ServeApplicationSchema:
    return next(a for a in config().applications if a.name == name)


def deployment_infos(application: ServeApplicationSchema) -> dict:
    """Build ``application`` as Serve's controller does and apply the config's overrides
    (without a cluster: no job id is asked of Ray)."""
    from ray._common.utils import import_attr
    from ray.serve._private.api import call_user_app_builder_with_args_if_necessary
    from ray.serve._private.application_state import override_deployment_info
    from ray.serve._private.build_app import build_app
    from ray.serve._private.deploy_utils import deploy_args_to_deployment_info

    built = build_app(
        call_user_app_builder_with_args_if_necessary(
            import_attr(application.import_path), application.args
        ),
        name=application.name,
        default_runtime_env={},
    )
    infos = {}
    for d in built.deployments:
        d._deployment_config.version = "test"
        infos[d.name] = deploy_args_to_deployment_info(
            deployment_name=d.name,
            deployment_config_proto_bytes=d._deployment_config.to_proto_bytes(),
            replica_config_proto_bytes=d._replica_config.to_proto_bytes(),
            deployer_job_id="test",
            app_name=application.name,
            ingress=d.name == built.ingress_deployment_name,
        )
    return override_deployment_info(infos, application)


@pytest.fixture
def node(monkeypatch: pytest.MonkeyPatch, filled_env: dict[str, str], tmp_path) -> None:
    """The environment a cluster node gives the apps (production settings)."""
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # never start or touch a Ray here
    for k, v in filled_env.items():
        if k.startswith("AUTONOMOS_"):
            monkeypatch.setenv(k, v)
    monkeypatch.setenv("AUTONOMOS_DATA_DIR", str(tmp_path))


def test_serve_config_passes_serves_schema() -> None:
    cfg = config()
    assert [a.name for a in cfg.applications] == ["api", "embedder", "llm"]
    assert cfg.proxy_location.value == "EveryNode"  # each node's proxy: 127.0.0.1:8000 works
    with pytest.raises(ValueError, match="num_replicas"):
        broken = load("serve-config.yaml")
        broken["applications"][0]["deployments"][0]["num_replicas"] = 3  # with autoscaling
        ServeDeploySchema.model_validate(broken)


def test_api_builds_in_production_and_autoscales(
    node: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = app("api")
    for k, v in api.runtime_env["env_vars"].items():
        monkeypatch.setenv(k, v)
    connected = ray.is_initialized()  # the suite's shared cluster may already be up
    (ingress,) = deployment_infos(api).values()
    scaling = ingress.deployment_config.autoscaling_config
    assert ingress.deployment_config.num_replicas is None  # "auto": the autoscaler decides
    assert (scaling.min_replicas, scaling.max_replicas) == (2, 8)
    assert ingress.deployment_config.max_ongoing_requests == 128
    assert ingress.replica_config.ray_actor_options["num_cpus"] == 1
    assert ray.is_initialized() == connected  # building the app connects to nothing


def test_embedder_builds_on_gpu_and_takes_its_overrides(
    node: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = app("embedder")
    for k, v in embedder.runtime_env["env_vars"].items():
        monkeypatch.setenv(k, v)
    infos = deployment_infos(embedder)
    (replica,) = infos.values()
    assert list(infos) == ["Embedder"]
    options = replica.replica_config.ray_actor_options
    assert (options["num_cpus"], options["num_gpus"]) == (2, 0.5)
    scaling = replica.deployment_config.autoscaling_config
    assert (scaling.min_replicas, scaling.max_replicas) == (1, 4)
    # the replica is built for CUDA, since the config asks for it
    assert replica.replica_config.init_args[1] == "cuda"


def test_an_override_of_a_missing_deployment_fails(node: None) -> None:
    raw = load("serve-config.yaml")["applications"][1]
    raw["deployments"][0]["name"] = "Embeder"
    with pytest.raises(ValueError, match="'Embeder' does not exist"):
        deployment_infos(ServeApplicationSchema.model_validate(raw))


def test_llm_app_is_valid_ray_serve_llm_config_and_what_the_api_calls(node: None) -> None:
    from ray.llm._internal.serve.core.configs.llm_config import LLMConfig

    from autonomos.config import Settings
    from autonomos.serve_apps.llm.deployment import llm_config, validate

    llm, api = app("llm"), app("api")
    assert llm.import_path == "autonomos.serve_apps.llm.deployment:app"
    settings = Settings(**llm.args)  # what the builder makes of the node's env + args
    model = validate(llm_config(settings))
    assert isinstance(model, LLMConfig)  # Ray Serve LLM's own pydantic model
    assert model.model_id == api.runtime_env["env_vars"]["AUTONOMOS_LLM_MODEL"]
    assert model.accelerator_type == "A10G"
    # one GPU per replica, autoscaled on ongoing requests
    assert model.placement_group_config["bundles"] == [{"CPU": 1, "GPU": 1}]
    assert model.engine_kwargs["tensor_parallel_size"] == 1
    scaling = model.deployment_config["autoscaling_config"]
    assert (scaling["min_replicas"], scaling["max_replicas"]) == (1, 2)
    assert scaling["target_ongoing_requests"] == 16
    base = urlsplit(api.runtime_env["env_vars"]["AUTONOMOS_LLM_BASE_URL"])
    assert base.path == f"{llm.route_prefix}/v1" and base.port == config().http_options.port
    if importlib.util.find_spec("vllm") is None:
        return  # the builder imports vLLM: the gpu extra (README: "Deploy on a cluster")
    infos = deployment_infos(llm)  # pragma: no cover - GPU images only
    assert infos


def test_llm_config_refuses_what_ray_serve_llm_refuses(node: None) -> None:
    from autonomos.config import Settings
    from autonomos.serve_apps.llm.deployment import llm_config, validate

    bad = llm_config(Settings(**app("llm").args))
    bad["accelerator_type"] = "NOT-A-GPU"
    with pytest.raises(ValueError, match="NOT-A-GPU"):
        validate(bad)
    bad = llm_config(Settings(**app("llm").args))
    bad["deployment_config"]["autoscaling_config"]["max_replicas"] = 0
    with pytest.raises(ValueError):
        validate(bad)
    with pytest.raises(ValueError, match="MIN_REPLICAS"):
        Settings(llm_serve_min_replicas=3, llm_serve_max_replicas=2)


def test_the_default_install_imports_the_llm_app_without_vllm() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import autonomos.serve_apps.llm.deployment as d; "
        "from autonomos.config import Settings; "
        "d.validate(d.llm_config(Settings(_env_file=None))); "
        "print('vllm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # nothing imported the engine


def test_rayservice_serves_the_same_applications() -> None:
    service = load("kuberay/rayservice.yaml")
    embedded = ServeDeploySchema.model_validate(yaml.safe_load(service["spec"]["serveConfigV2"]))
    assert embedded.applications == config().applications
