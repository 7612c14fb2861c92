"""cluster/ray-cluster.yaml against Ray's own autoscaler schema, and what the nodes get."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import ray.autoscaler
from ray.autoscaler._private.util import prepare_config, validate_config

from autonomos.config import Settings
from tests.unit.cluster.conftest import CLUSTER, load

ENV_FILE = "/etc/autonomos/autonomos.env"


def test_launcher_config_passes_rays_autoscaler_schema() -> None:
    config = load("ray-cluster.yaml")
    schema = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())
    jsonschema.validate(config, schema)  # what `ray up` checks first
    prepared = prepare_config(copy.deepcopy(config))  # defaults filled in, as `ray up` does
    validate_config(prepared)
    assert prepared["head_node_type"] == "head"


def test_a_typo_fails_the_schema() -> None:
    config = load("ray-cluster.yaml")
    config["available_node_types"]["gpu_worker"]["max_worker"] = 4
    schema = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())
    with pytest.raises(jsonschema.ValidationError, match="max_worker"):
        jsonschema.validate(config, schema)


def test_head_cpu_and_gpu_groups_autoscale_within_the_cluster_cap() -> None:
    config = load("ray-cluster.yaml")
    types = config["available_node_types"]
    assert set(types) == {"head", "cpu_worker", "gpu_worker"}
    cpu, gpu = types["cpu_worker"], types["gpu_worker"]
    assert 1 <= cpu["min_workers"] < cpu["max_workers"]
    assert gpu["min_workers"] == 0 < gpu["max_workers"]  # GPUs only while replicas need them
    assert gpu["resources"]["GPU"] >= 1 and "GPU" not in cpu["resources"]
    assert cpu["max_workers"] + gpu["max_workers"] <= config["max_workers"]
    assert config["idle_timeout_minutes"] > 0


def test_every_node_installs_the_project_and_starts_ray_from_its_venv() -> None:
    config = load("ray-cluster.yaml")
    assert config["file_mounts"]["/opt/autonomos"] == "."
    assert config["file_mounts"][ENV_FILE] == "./cluster/autonomos.env"
    assert ".venv" in config["rsync_exclude"] and "cluster/autonomos.env" in config["rsync_exclude"]
    assert any("bash scripts/install.sh" in c for c in config["setup_commands"])
    starts = {
        "head": [c for c in config["head_start_ray_commands"] if "ray start" in c],
        "worker": [c for c in config["worker_start_ray_commands"] if "ray start" in c],
    }
    for kind, (command,) in starts.items():
        # settings (Postgres, the landing URL, secrets, Ray's GCS and auth variables)
        assert f". {ENV_FILE}" in command and "set -a" in command, kind
        # so that a job's `python -m autonomos.jobs...` is the project's interpreter
        assert "export PATH=/opt/autonomos/.venv/bin:$PATH" in command, kind
    assert "--head --port=6390" in starts["head"][0]  # 6379 is Redis's
    assert "--address=$RAY_HEAD_IP:6390" in starts["worker"][0]
    assert "--redis-password" in starts["head"][0]


def test_the_node_env_file_configures_a_shared_production_platform(
    filled_env: dict[str, str],
) -> None:
    fields = {
        k.removeprefix("AUTONOMOS_").lower(): v
        for k, v in filled_env.items()
        if k.startswith("AUTONOMOS_")
    }
    settings = Settings(_env_file=None, **fields)  # type: ignore[arg-type]
    assert settings.environment == "production" and not settings.demo_mode
    assert settings.is_postgres and settings.landing_url.startswith("s3://")  # type: ignore[union-attr]
    settings.check_cluster(1 + 8 + 4)  # the largest cluster the launcher builds
    # GCS fault tolerance on an external Redis, and the token every node presents
    assert filled_env["RAY_REDIS_ADDRESS"].endswith(":6379")
    assert filled_env["RAY_AUTH_MODE"] == "token" and len(filled_env["RAY_AUTH_TOKEN"]) >= 32
    assert "cluster/autonomos.env" in (CLUSTER.parent / ".gitignore").read_text()
